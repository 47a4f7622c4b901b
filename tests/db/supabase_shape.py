"""Supabase-shaped databases (tests/corpus/supabase.sql) and the inspect round trip, shared by
test_corpus.py and test_inspect.py (import the fixtures by name)."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from jarvis_schemagen import model as m
from jarvis_schemagen import pg
from jarvis_schemagen.api import load_spec_text, render_migrations
from jarvis_schemagen.apply import apply
from jarvis_schemagen.diff import diff
from jarvis_schemagen.inspect_spec import InspectResult, inspect_database, loader_grant_order

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
#: whether the spec constructs of issue 9 part 2 are in (publications, replica identity, definer and serial
#: warnings, trigger arguments, ...): what inspect leaves out depends on it, so the tests say both
CONSTRUCTS_2 = "publications" in m.Schema.__dataclass_fields__


@pytest.fixture(scope="module")
def supabase_template(pg_server):
    """A database shaped like a fresh Supabase project (cloned for every database below)."""
    name = f"schemagen_supabase_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name)
    try:
        with pg.connect(pg_server.url_for(name)) as conn:
            conn.execute((CORPUS / "supabase.sql").read_text(encoding="utf-8"))
    except BaseException:
        pg.drop_database(pg_server.url, name)
        raise
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def supabase_db(pg_server, supabase_template):
    """A factory: ``supabase_db(sql="")`` is the URL of a fresh Supabase-shaped database with ``sql``
    run in it (all dropped after the test)."""
    made = []

    def make(sql: str = "") -> str:
        name = f"schemagen_corpus_{uuid.uuid4().hex[:10]}"
        pg.create_database(pg_server.url, name, template=supabase_template)
        made.append(name)
        url = pg_server.url_for(name)
        if sql:
            with pg.connect(url) as conn:
                conn.execute(sql)
        return url

    yield make
    for name in made:
        pg.drop_database(pg_server.url, name)


def changes(url: str, spec_path: Path, pg_server, cache: Path) -> list[str]:
    report = diff(url, spec_path, shadow_url=pg_server.url, cache_dir=cache)
    return [f"{c.action} {c.object}" for c in report.changes]


def round_trip(first: str, supabase_db, pg_server, tmp_path: Path, schemas=None, second_sql: str = "") -> InspectResult:
    """Inspect ``first`` and prove the spec: it loads back to the same model; (a) no drift against
    ``first``; (b) rendered and applied to a fresh Supabase-shaped database (plus ``second_sql``: what
    a partial spec assumes), no drift there; (c) inspecting that database writes the same bytes; and
    the rendered file applied to ``first`` itself (adoption) leaves it as it was."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    result = inspect_database(first, schemas)
    loaded = load_spec_text(result.text, "schema.yaml")
    assert loaded == result.spec
    assert loaded.grants == loader_grant_order(result.spec)
    spec_path = tmp_path / "schema.yaml"
    spec_path.write_text(result.text, encoding="utf-8")
    assert changes(first, spec_path, pg_server, tmp_path / "cache") == []  # (a)

    second = supabase_db(second_sql)
    out = tmp_path / "generated"
    out.mkdir()
    for filename, text in render_migrations(loaded).items():
        (out / filename).write_text(text, encoding="utf-8")
    report = apply(second, out, spec_path=spec_path)
    assert [f.filename for f, _ in report.applied] == ["001_initial_schema.sql"]
    assert changes(second, spec_path, pg_server, tmp_path / "cache") == []  # (b)

    assert inspect_database(second, schemas).text == result.text  # (c)

    # adopting: the rendered file applied to the database it came from changes nothing that diff sees
    report = apply(first, out, spec_path=spec_path)
    assert [f.filename for f, _ in report.applied] == ["001_initial_schema.sql"]
    assert changes(first, spec_path, pg_server, tmp_path / "cache") == []
    assert inspect_database(first, schemas).text == result.text
    return result
