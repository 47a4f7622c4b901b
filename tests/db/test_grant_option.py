"""WITH GRANT OPTION end to end on real PostgreSQL: rendered from the spec (tests/fixtures/grant_option,
every kind of grant), read back by introspection, compared by diff (an option added or removed by
hand is drift, and the SQL diff writes converges), evolved by `render --name` both ways, kept by
`inspect`, and counted by the access matrix as widening."""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from supabase_shape import round_trip, supabase_db, supabase_template  # noqa: F401

from jarvis_schemagen import api, pg
from jarvis_schemagen.apply import apply
from jarvis_schemagen.cli import main
from jarvis_schemagen.diff import diff
from jarvis_schemagen.report import format_text

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests" / "fixtures" / "grant_option" / "schema.yaml"

ACL = """
select a.grantee::regrole::text, lower(a.privilege_type), a.is_grantable
  from pg_catalog.aclexplode((select {column} from {catalog} where oid = %s::{cast})) as a
 where a.grantee <> 0 and a.grantee::regrole::text <> current_user
"""


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def acl(url: str, kind: str, name: str) -> set[tuple[str, str, bool]]:
    """(grantee, privilege, with grant option) of a relation, function or schema (``name`` as SQL text)."""
    column, catalog, cast = {"relation": ("relacl", "pg_class", "regclass"),
                             "function": ("proacl", "pg_proc", "regprocedure"),
                             "schema": ("nspacl", "pg_namespace", "regnamespace")}[kind]
    with psycopg.connect(url, autocommit=True) as conn:
        return set(conn.execute(ACL.format(column=column, catalog=catalog, cast=cast), (name,)).fetchall())


def column_acl(url: str, table: str, column: str) -> set[tuple[str, str, bool]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return set(conn.execute(
            "select a.grantee::regrole::text, lower(a.privilege_type), a.is_grantable from pg_catalog.pg_attribute "
            "as att, pg_catalog.aclexplode(att.attacl) as a where att.attrelid = %s::regclass and att.attname = %s",
            (table, column)).fetchall())


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grant-option-cache")


@pytest.fixture(scope="module")
def assumed_template(pg_server):
    """A database holding what the spec assumes (its roles, schema legacy, legacy.things)."""
    name = f"go_assumed_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name)
    with pg.connect(pg_server.url_for(name)) as conn:
        conn.execute(api.assumed_objects_sql(api.load_spec(SPEC)))
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture(scope="module")
def go_template(pg_server, assumed_template):
    """The spec's rendered files applied, file by file."""
    name = f"go_rendered_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=assumed_template)
    with psycopg.connect(pg_server.url_for(name)) as conn:
        for sql in api.render_migrations(api.load_spec(SPEC)).values():
            conn.execute(sql)
            conn.commit()
    yield name
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def go_db(clone, go_template) -> str:
    return clone(go_template)


@pytest.fixture
def diff_cli(pg_server, cache_dir, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(cache_dir))

    def _diff(url: str, spec: Path = SPEC, *extra):
        return cli("diff", "--db", url, "--spec", spec, "--shadow-db", pg_server.url, "--color", "never", *extra)

    return _diff


# ---------------------------------------------------------------- rendered, applied, no drift

def test_the_rendered_spec_gives_each_grant_option_and_diff_sees_nothing(go_db, diff_cli):
    assert acl(go_db, "relation", "app.notes") == {("go_reader", "select", False), ("go_lead", "select", True),
                                                   ("go_lead", "insert", True)}
    assert column_acl(go_db, "app.notes", "body") == {("go_reader", "update", True)}
    assert acl(go_db, "relation", "app.note_ids") == {("go_lead", "select", True)}
    assert acl(go_db, "relation", "app.ticket_no") == {("go_lead", "usage", True), ("go_lead", "select", True)}
    assert acl(go_db, "relation", "app.notes_id_seq") == {("go_lead", "usage", True)}
    assert acl(go_db, "function", "app.answer()") == {("go_lead", "execute", True)}
    assert acl(go_db, "schema", "app") == {("go_reader", "usage", False), ("go_lead", "usage", True)}
    assert acl(go_db, "relation", "legacy.things") == {("go_reader", "select", False)}
    r = diff_cli(go_db)
    assert r.exit_code == 0 and r.output.startswith("No drift"), r.output
    r = diff_cli(go_db, SPEC, "--strict")
    assert r.exit_code == 0, r.output


def test_render_check_and_the_jarvis_files_are_unchanged(tmp_path):
    out = tmp_path / "generated"
    assert cli("render", "--spec", SPEC, "--out", out).exit_code == 0
    assert cli("render", "--spec", SPEC, "--out", out, "--check").exit_code == 0
    # the five Jarvis files hold no grant option, byte for byte what is committed
    r = cli("render", "--spec", ROOT / "schema.yaml", "--out", ROOT / "generated", "--check")
    assert r.exit_code == 0, r.output


def test_the_access_matrix_marks_who_may_grant_on(go_db, pg_server):
    r = cli("access", "--db", go_db, "--spec", SPEC, "--shadow-db", pg_server.url, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    notes = data["tables"]["app.notes"]["access"]
    assert notes["go_lead"]["select"].get("grant_option") is True
    assert notes["go_lead"]["insert"].get("grant_option") is True
    assert "grant_option" not in notes["go_reader"]["select"]
    assert notes["go_reader"]["update"].get("grant_option") is True  # on its column
    assert data["functions"]["app.answer()"]["grant_option"] == {"go_lead": True}
    text = cli("access", "--db", go_db, "--spec", SPEC, "--shadow-db", pg_server.url).output
    assert "*  with grant option (may grant it on)" in text


# ---------------------------------------------------------------- drift made by hand

def test_grant_options_changed_by_hand_are_drift_and_the_sql_converges(go_db, diff_cli, pg_server, cache_dir):
    hostile = f'go"x; drop table app.notes; --{uuid.uuid4().hex[:6]}'
    quoted = '"' + hostile.replace('"', '""') + '"'
    execute(go_db, f"""
        create role {quoted};
        grant usage on schema app to {quoted};
        grant select on app.notes to {quoted} with grant option;
        set role {quoted};
        grant select on app.notes to go_reader;   -- passed on: revoking the option needs cascade
        reset role;
        grant select on app.notes to go_reader with grant option;
        revoke grant option for insert on app.notes from go_lead;
        revoke grant option for update (body) on app.notes from go_reader;
        grant execute on function app.answer() to go_reader with grant option;
        revoke grant option for usage on sequence app.notes_id_seq from go_lead;
    """)
    r = diff_cli(go_db)
    assert r.exit_code == 1, r.output
    text = r.output
    assert "privileges on table app.notes to go_reader: differ" in text
    assert "database grants select (with grant option: select); spec grants select" in text
    assert "database grants insert, select (with grant option: select); spec grants insert, select " \
           "(with grant option: insert, select)" in text
    assert "privileges on column app.notes.body to go_reader: differ" in text
    assert "privileges on function app.answer() to go_reader: in the database, not in the spec" in text
    assert "privileges on sequence app.notes_id_seq to go_lead: differ" in text

    data = json.loads(diff_cli(go_db, SPEC, "--format", "json").output)
    reader = next(c for c in data["changes"] if c["object"] == "privileges on table app.notes to go_reader")
    assert reader["detail"] == ["privileges", "grant_option"]
    assert reader["before"] == {"privileges": ["select"], "grant_option": ["select"]}
    assert reader["after"] == {"privileges": ["select"], "grant_option": []}

    report = diff(go_db, SPEC, shadow_url=pg_server.url, cache_dir=cache_dir)
    widened = {(c.object, c.role, c.command) for c in report.access_drift if c.verdict == "widened"}
    assert ("app.notes", "go_reader", "select") in widened  # may now grant select on: wider
    assert ("app.answer()", "go_reader", "execute") in widened

    r = diff_cli(go_db, SPEC, "--format", "sql")
    assert r.exit_code == 1
    sql = r.output
    assert 'revoke grant option for select on table "app"."notes" from "go_reader" cascade;' in sql
    assert f'revoke select on table "app"."notes" from {quoted} cascade;' in sql
    assert f'revoke usage on schema "app" from {quoted};' in sql
    assert 'grant insert on table "app"."notes" to "go_lead" with grant option;' in sql
    assert 'grant update ("body") on table "app"."notes" to "go_reader" with grant option;' in sql
    assert 'revoke execute on function "app"."answer"() from "go_reader" cascade;' in sql
    assert 'grant usage on sequence "app"."notes_id_seq" to "go_lead" with grant option;' in sql
    execute(go_db, sql)
    again = diff_cli(go_db)
    assert again.exit_code == 0, again.output + sql
    assert acl(go_db, "relation", "app.notes") == {("go_reader", "select", False), ("go_lead", "select", True),
                                                   ("go_lead", "insert", True)}


def test_a_grant_option_on_an_assumed_table_counts_for_the_roles_the_spec_mentions(go_db, pg_server, cache_dir):
    execute(go_db, "grant select on legacy.things to go_reader with grant option")
    report = diff(go_db, SPEC, shadow_url=pg_server.url, cache_dir=cache_dir)
    assert [(c.object, c.action) for c in report.changes] == \
        [("privileges on table legacy.things to go_reader", "alter")]
    assert [(c.object, c.role, c.command, c.verdict) for c in report.access_drift] == \
        [("legacy.things", "go_reader", "select", "widened")]
    assert "go_reader select on legacy.things: denied -> denied, with grant option" in format_text(report)
    execute(go_db, report.plan.sql())
    assert not diff(go_db, SPEC, shadow_url=pg_server.url, cache_dir=cache_dir).drift
    # a role the spec never mentions there: the assumed table's ACL is not the spec's business
    execute(go_db, "grant select on legacy.things to go_lead with grant option")
    assert not diff(go_db, SPEC, shadow_url=pg_server.url, cache_dir=cache_dir).drift


# ---------------------------------------------------------------- render --name, both ways

def test_render_name_adds_and_removes_grant_options(tmp_path, clone, assumed_template, pg_server, cache_dir):
    project = tmp_path / "project"
    project.mkdir()
    spec, gen = project / "schema.yaml", project / "generated"
    shutil.copy(SPEC, spec)
    kw = dict(shadow_url=pg_server.url, cache_dir=cache_dir)
    api.render_to_dir(spec, gen, **kw)
    api.release(spec, gen, shadow_url=pg_server.url)
    db = clone(assumed_template)
    apply(db, gen, spec_path=spec)
    base = tmp_path / "base.yaml"
    shutil.copy(spec, base)

    # adding: go_reader may grant select on
    text = spec.read_text()
    spec.write_text(text.replace("- {grant: [select], to: [go_reader]}",
                                 "- {grant: [select], to: [go_reader], grant_option: true}"))
    r = api.render_to_dir(spec, gen, **kw)
    assert r.uncaptured and not r.written  # a change the released files lack
    r = cli("render", "--spec", spec, "--out", gen, "--name", "reader_may_grant", "--shadow-db", pg_server.url)
    assert r.exit_code == 0, r.output
    added = (gen / "003_reader_may_grant.sql").read_text()
    assert 'grant select on table "app"."notes" to "go_reader" with grant option;' in added
    assert "go_reader select on app.notes" in r.output  # its access changes: widened
    widen = cli("access", "--spec", spec, "--base", base, "--fail-on-widen", "--shadow-db", pg_server.url)
    assert widen.exit_code == 1 and "go_reader select on app.notes" in widen.output, widen.output
    assert "with grant option" in widen.output
    assert [f.filename for f, _ in apply(db, gen, spec_path=spec).applied] == ["003_reader_may_grant.sql"]
    assert not diff(db, spec, strict=True, **kw).drift
    api.release(spec, gen, shadow_url=pg_server.url)

    # removing: go_lead keeps its privileges on app.notes and app.answer(), not the options
    text = spec.read_text()
    spec.write_text(text.replace("- {grant: [select, insert], to: [go_lead], grant_option: true}",
                                 "- {grant: [select, insert], to: [go_lead]}")
                        .replace("- {grant: [execute], to: [go_lead], grant_option: true}",
                                 "- {grant: [execute], to: [go_lead]}"))
    r = cli("render", "--spec", spec, "--out", gen, "--name", "lead_may_not_grant", "--shadow-db", pg_server.url)
    assert r.exit_code == 0, r.output
    removed = (gen / "004_lead_may_not_grant.sql").read_text()
    assert 'revoke grant option for insert, select on table "app"."notes" from "go_lead" cascade;' in removed
    assert 'revoke grant option for execute on function "app"."answer"() from "go_lead" cascade;' in removed
    statements = [line for line in removed.splitlines() if line and not line.startswith("--")]
    assert not [line for line in statements if line.startswith("grant ")], removed
    assert cli("render", "--spec", spec, "--out", gen, "--check", "--shadow-db", pg_server.url).exit_code == 0
    assert [f.filename for f, _ in apply(db, gen, spec_path=spec).applied] == ["004_lead_may_not_grant.sql"]
    assert not diff(db, spec, strict=True, **kw).drift
    assert acl(db, "relation", "app.notes") == {("go_reader", "select", True), ("go_lead", "select", False),
                                                ("go_lead", "insert", False)}
    assert acl(db, "function", "app.answer()") == {("go_lead", "execute", False)}

    fresh = clone(assumed_template)  # every file, in order, on an empty database
    apply(fresh, gen, spec_path=spec)
    assert not diff(fresh, spec, strict=True, **kw).drift


# ---------------------------------------------------------------- inspect

def test_inspect_keeps_grant_options(supabase_db, pg_server, tmp_path):
    first = supabase_db("""
        create table public.shared (id bigint generated always as identity primary key, note text);
        grant select on public.shared to authenticated with grant option;
        revoke all on public.shared from anon;
        grant select on public.shared to anon;
        grant update on public.shared to anon with grant option;
        grant usage on sequence public.shared_id_seq to authenticated with grant option;
        create function public.f() returns integer language plpgsql set search_path = '' as $$
        begin
          return 1;
        end;
        $$;
        revoke execute on function public.f() from public, anon;
        grant execute on function public.f() to authenticated with grant option;
        create schema app;
        grant usage on schema app to authenticated with grant option;
        grant usage on schema app to anon;
        create table app.t (id integer primary key);
        grant all on app.t to service_role with grant option;
    """)
    result = round_trip(first, supabase_db, pg_server, tmp_path)
    text = result.text
    assert "      - {grant: [select], to: [authenticated], grant_option: true}\n" in text
    assert "      - {grant: [update], to: [anon], grant_option: true}\n" in text
    assert "      - {grant: [execute], to: [authenticated], grant_option: true}\n" in text
    assert ("      - {grant: [usage], to: [anon]}\n"
            "      - {grant: [usage], to: [authenticated], grant_option: true}\n") in text
    assert "      - {grant: [all], to: [service_role], grant_option: true}\n" in text
    assert ('  - "on": sequence public.shared_id_seq\n    migration: "001"\n    grant: [usage]\n'
            '    to: [authenticated]\n    grant_option: true\n') in text
    g = {(g.object, g.roles): g.grant_option for g in result.spec.grants if g.grant_option}
    assert g[("public.shared", ("authenticated",))] == ("select",)
