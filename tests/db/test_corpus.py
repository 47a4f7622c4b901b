"""Round trips of `schemagen inspect` on real public Supabase schemas (tests/corpus/<name>/schema.sql).

For each schema, created on a Supabase-shaped database (tests/corpus/supabase.sql):
  (a) `diff` of the inspected spec against that database finds no drift;
  (b) the spec rendered and applied (`schemagen apply`) to a fresh Supabase-shaped database,
      then `diff` against it, finds no drift;
  (c) `inspect` of that second database writes the same bytes.
What inspect cannot express is asserted line by line (EXPECTED_NOTES): the lists shrink as the
spec language grows, and anything new that inspect leaves out fails the test.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from jarvis_schemagen import pg
from jarvis_schemagen.api import load_spec_text, render_migrations
from jarvis_schemagen.apply import apply
from jarvis_schemagen.diff import diff
from jarvis_schemagen.inspect_spec import inspect_database, loader_grant_order

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
NAMES = sorted(p.name for p in CORPUS.iterdir() if (p / "schema.sql").is_file())

_ENUMS = "types (enum, composite, range) are not supported by the spec yet (left out)"
_DEFINER = ("is SECURITY DEFINER and must pin its search path (add `set: {search_path: \"\"}` and qualify names "
            "in the body) (left out)")


def _definer(name: str) -> str:
    return f"function {name} {_DEFINER}"


EXPECTED_NOTES = {
    "todo_list": [],
    "user_management": [
        _definer("public.handle_new_user"),
        "trigger on_auth_user_created on auth.users: it uses public.handle_new_user, which is left out (left out)",
    ],
    "subscription_payments": [
        "table public.prices: publication supabase_realtime is not expressed in the spec",
        "table public.products: publication supabase_realtime is not expressed in the spec",
        f"type public.pricing_plan_interval: {_ENUMS}",
        f"type public.pricing_type: {_ENUMS}",
        f"type public.subscription_status: {_ENUMS}",
        "table public.prices: it uses public.pricing_type, which is left out (left out)",
        "table public.subscriptions: it uses public.subscription_status, which is left out (left out)",
        _definer("public.handle_new_user"),
        "trigger on_auth_user_created on auth.users: it uses public.handle_new_user, which is left out (left out)",
    ],
    "slack_clone": [
        "table public.channels: publication supabase_realtime is not expressed in the spec",
        "table public.channels: replica identity full is not expressed in the spec",
        "table public.messages: publication supabase_realtime is not expressed in the spec",
        "table public.messages: replica identity full is not expressed in the spec",
        "table public.users: publication supabase_realtime is not expressed in the spec",
        "table public.users: replica identity full is not expressed in the spec",
        f"type public.app_permission: {_ENUMS}",
        f"type public.app_role: {_ENUMS}",
        f"type public.user_status: {_ENUMS}",
        "table public.channels: it uses public.app_permission, which is left out (left out)",
        "table public.messages: it uses public.app_permission, which is left out (left out)",
        "table public.role_permissions: it uses public.app_role, which is left out (left out)",
        "table public.user_roles: it uses public.app_role, which is left out (left out)",
        "table public.users: it uses public.user_status, which is left out (left out)",
        "function public.authorize: it uses public.app_permission, which is left out (left out)",
        "function public.custom_access_token_hook: it uses public.app_role, which is left out (left out)",
    ],
    "supa_builder": [_definer(f"public.{name}") for name in (
        "check_rate_limit", "cleanup_old_rate_limits", "create_audit_log", "decrypt_service_role_key",
        "encrypt_service_role_key", "get_org_projects_count", "get_user_projects_count", "get_user_role", "is_admin",
        "record_rate_limit", "soft_delete_project", "update_project_status")],
}


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
    """A factory of fresh Supabase-shaped databases (all dropped after the test)."""
    made = []

    def make() -> str:
        name = f"schemagen_corpus_{uuid.uuid4().hex[:10]}"
        pg.create_database(pg_server.url, name, template=supabase_template)
        made.append(name)
        return pg_server.url_for(name)

    yield make
    for name in made:
        pg.drop_database(pg_server.url, name)


def _no_drift(url: str, spec_path: Path, pg_server, cache: Path) -> None:
    report = diff(url, spec_path, shadow_url=pg_server.url, cache_dir=cache)
    assert [f"{c.action} {c.object}" for c in report.changes] == []
    assert not report.drift


@pytest.mark.parametrize("name", NAMES)
def test_corpus_round_trip(name, supabase_db, pg_server, tmp_path):
    first = supabase_db()
    with pg.connect(first) as conn:
        conn.execute((CORPUS / name / "schema.sql").read_text(encoding="utf-8"))

    result = inspect_database(first)
    assert list(result.notes) == EXPECTED_NOTES[name]
    # the YAML loads back (validated) to the model inspect built
    loaded = load_spec_text(result.text, "schema.yaml")
    assert loaded == result.spec
    assert loaded.grants == loader_grant_order(result.spec)
    spec_path = tmp_path / "schema.yaml"
    spec_path.write_text(result.text, encoding="utf-8")

    # (a) the inspected spec describes the database it came from
    _no_drift(first, spec_path, pg_server, tmp_path / "cache")

    # (b) rendered and applied to a fresh Supabase-shaped database, it builds the same schema
    second = supabase_db()
    out = tmp_path / "generated"
    out.mkdir()
    for filename, text in render_migrations(loaded).items():
        (out / filename).write_text(text, encoding="utf-8")
    report = apply(second, out, spec_path=spec_path)
    assert [f.filename for f, _ in report.applied] == ["001_initial_schema.sql"]
    _no_drift(second, spec_path, pg_server, tmp_path / "cache")

    # (c) and inspecting that database writes the same spec, byte for byte
    again = inspect_database(second)
    assert again.text == result.text
