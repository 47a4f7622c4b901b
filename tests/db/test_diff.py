"""`schemagen diff` on real PostgreSQL: no drift right after the five files, then one test per
kind of drift. Each checks that the text and JSON reports name the object and that running
the SQL output converges (the next diff reports no drift).

Speed: the five files are applied once into a template database that each test clones, and
every diff shares one shadow server (the test server) and one cache directory, so the spec is
normalised once per session.
"""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from jarvis_schemagen import pg
from jarvis_schemagen import cache as cache_mod
from jarvis_schemagen import diff as diff_mod
from jarvis_schemagen.cli import main
from jarvis_schemagen.diff import diff
from jarvis_schemagen.report import format_json, format_sql, format_text

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "schema.yaml"


def execute(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("schemagen-cache")


@pytest.fixture
def jdb(pg_server, jarvis_template):
    """A fresh database where the five files have run: the spec's state exactly."""
    name = f"schemagen_diff_{uuid.uuid4().hex[:10]}"
    pg.create_database(pg_server.url, name, template=jarvis_template)
    yield pg_server.url_for(name)
    pg.drop_database(pg_server.url, name)


@pytest.fixture
def run(pg_server, cache_dir):
    def _run(url: str, strict: bool = False, **kw):
        kw.setdefault("shadow_url", pg_server.url)
        kw.setdefault("cache_dir", cache_dir)
        return diff(url, SPEC, strict=strict, **kw)

    return _run


@pytest.fixture
def fixed(run):
    """Break the database, check the report names the object, run the SQL, check convergence."""

    def _fixed(url: str, breaking_sql: str, kind: str, obj: str, action: str | None = None, strict: bool = False,
               destructive: bool | None = None):
        execute(url, breaking_sql)
        report = run(url, strict=strict)
        assert report.drift and report.exit_code == 1, format_text(report)
        pool = report.changes + (report.unmanaged if strict else ())
        found = [c for c in pool if c.kind == kind and c.object == obj]
        assert found, f"no {kind} change for {obj}:\n{format_text(report)}"
        change = found[0]
        if action is not None:
            assert change.action == action
        if destructive is not None:
            assert change.destructive is destructive
        text = format_text(report)
        assert obj in text
        data = json.loads(format_json(report))
        entries = data["changes"] + (data["unmanaged"] if strict else [])
        assert any(e["kind"] == kind and e["object"] == obj for e in entries)
        sql = format_sql(report)
        if destructive:
            assert "-- destructive: " in sql
        execute(url, sql)
        after = run(url, strict=strict)
        assert not after.drift, f"the SQL output did not converge:\n{sql}\n{format_text(after)}"
        return change

    return _fixed


@pytest.fixture
def unmet(run):
    """Break an assumed object: the report lists an unmet assumption (exit 1), in its own text and JSON
    section, and the SQL never touches it (``forbidden``: text that must not appear in the statements)."""

    def _unmet(url: str, breaking_sql: str, kind: str, obj: str, action: str, forbidden: str):
        execute(url, breaking_sql)
        report = run(url)
        assert report.drift and report.exit_code == 1
        found = [c for c in report.unmet if c.kind == kind and c.object == obj and c.action == action]
        assert found, f"no unmet {kind} {action} for {obj}:\n{format_text(report)}"
        assert not any(c.object == obj for c in report.changes)
        text = format_text(report)
        assert "Unmet assumptions" in text and "fix the spec" in text and obj in text.split("Unmet assumptions")[-1]
        data = json.loads(format_json(report))
        assert any(e["kind"] == kind and e["object"] == obj for e in data["unmet"])
        sql = format_sql(report)
        statements = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
        assert forbidden not in statements, sql
        assert "unmet assumption(s) are not fixed here" in sql
        return found[0]

    return _unmet


# ---------------------------------------------------------------- no drift

def test_no_drift_right_after_the_five_files(jdb, run):
    report = run(jdb)
    assert report.changes == () and report.unmanaged == () and not report.drift
    assert report.exit_code == 0
    assert format_text(report).startswith("No drift:")
    data = json.loads(format_json(report))
    assert data["version"] == 1 and data["drift"] is False and data["changes"] == [] and data["unmanaged"] == []
    assert "nothing to do" in format_sql(report).lower()
    assert run(jdb, strict=True).drift is False


def test_files_run_by_psql_give_no_drift(db, run, pg_server):
    """The same files, pasted through psql as a person would."""
    import shutil
    import subprocess

    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    for path in sorted((ROOT / "generated").glob("*.sql")):
        subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(path)], check=True,
                       capture_output=True)
    assert not run(db).drift


# ---------------------------------------------------------------- columns

@pytest.mark.parametrize("breaking, obj, detail, destructive", [
    ("alter table public.user_plans alter column stripe_price_id type varchar(50)",
     "public.user_plans.stripe_price_id", ("type",), False),
    ("alter table public.user_plans alter column conversations_used type bigint",
     "public.user_plans.conversations_used", ("type",), True),
    ("alter table public.user_plans alter column stripe_price_id set not null",
     "public.user_plans.stripe_price_id", ("nullable",), False),
    ("alter table public.user_plans alter column conversations_used drop not null",
     "public.user_plans.conversations_used", ("nullable",), False),
    ("alter table public.user_plans alter column plan_type set default 'pro'",
     "public.user_plans.plan_type", ("default",), False),
    ("alter table public.user_plans alter column conversations_limit drop default",
     "public.user_plans.conversations_limit", ("default",), False),
    ("alter table public.usage_events alter column id set generated by default",
     "public.usage_events.id", ("identity",), False),
    ("alter table public.usage_events alter column id drop identity",
     "public.usage_events.id", ("identity",), False),
    ("alter table public.conversation_usage alter column total_tokens drop expression",
     "public.conversation_usage.total_tokens", ("generated",), True),
], ids=["type-widened", "type-narrowing", "set-not-null", "drop-not-null", "default", "default-dropped",
        "identity-kind", "identity-dropped", "generated-dropped"])
def test_column_property_drift(jdb, fixed, breaking, obj, detail, destructive):
    change = fixed(jdb, breaking, "column", obj, "alter", destructive=destructive)
    assert change.detail == detail


def test_missing_column(jdb, fixed):
    fixed(jdb, "alter table public.user_plans drop column stripe_price_id", "column",
          "public.user_plans.stripe_price_id", "add")


def test_extra_column_on_a_managed_table_is_drift_and_destructive(jdb, fixed):
    change = fixed(jdb, "alter table public.user_plans add column backdoor text", "column",
                   "public.user_plans.backdoor", "drop", destructive=True)
    assert "drops column" in change.reason


def test_missing_column_added_by_a_migration_to_the_assumed_table(jdb, fixed):
    fixed(jdb, "alter table public.conversations drop column usage_metadata", "column",
          "public.conversations.usage_metadata", "add")


# ---------------------------------------------------------------- constraints

@pytest.mark.parametrize("breaking, obj, action", [
    ("alter table public.user_plans drop constraint user_plans_conversations_used_check",
     "constraint user_plans_conversations_used_check on public.user_plans", "add"),
    ("alter table public.user_plans drop constraint user_plans_conversations_used_check;"
     "alter table public.user_plans add constraint user_plans_conversations_used_check check (conversations_used >= -1)",
     "constraint user_plans_conversations_used_check on public.user_plans", "alter"),
    ("alter table public.user_plans drop constraint user_plans_stripe_customer_id_key",
     "constraint user_plans_stripe_customer_id_key on public.user_plans", "add"),
    ("alter table public.usage_events drop constraint usage_events_user_id_fkey;"
     "alter table public.usage_events add constraint usage_events_user_id_fkey foreign key (user_id) "
     "references auth.users (id)",
     "constraint usage_events_user_id_fkey on public.usage_events", "alter"),
    ("alter table public.usage_events drop constraint usage_events_pkey",
     "constraint usage_events_pkey on public.usage_events", "add"),
    ("alter table public.usage_events add constraint usage_events_sneaky_check check (event_type <> '')",
     "constraint usage_events_sneaky_check on public.usage_events", "drop"),
    ("alter table public.conversations drop constraint conversations_cost_cents_check",
     "constraint conversations_cost_cents_check on public.conversations", "add"),
], ids=["check-missing", "check-changed", "unique-missing", "fk-on-delete", "pk-missing", "extra-check",
        "check-added-to-assumed-table"])
def test_constraint_drift(jdb, fixed, breaking, obj, action):
    change = fixed(jdb, breaking, "constraint", obj, action)
    assert change.destructive is False  # dropping or changing a constraint loses no data


# ---------------------------------------------------------------- indexes

@pytest.mark.parametrize("breaking, obj, action", [
    ("drop index public.usage_events_event_type_created_at_idx",
     "index usage_events_event_type_created_at_idx on public.usage_events", "add"),
    ("drop index public.usage_events_conversation_id_idx;"
     "create index usage_events_conversation_id_idx on public.usage_events (conversation_id)",
     "index usage_events_conversation_id_idx on public.usage_events", "alter"),
    ("create index user_plans_sneaky_idx on public.user_plans (stripe_price_id)",
     "index user_plans_sneaky_idx on public.user_plans", "drop"),
    ("drop index public.conversations_user_id_created_at_idx",
     "index conversations_user_id_created_at_idx on public.conversations", "add"),
], ids=["missing", "partial-where-dropped", "extra", "missing-on-assumed-table"])
def test_index_drift(jdb, fixed, breaking, obj, action):
    fixed(jdb, breaking, "index", obj, action)


# ---------------------------------------------------------------- row level security

@pytest.mark.parametrize("breaking, detail", [
    ("alter table public.user_plans disable row level security", ("enabled",)),
    ("alter table public.user_plans force row level security", ("forced",)),
])
def test_rls_flags(jdb, fixed, breaking, detail):
    change = fixed(jdb, breaking, "rls", "public.user_plans", "alter")
    assert change.detail == detail


def test_rls_disabled_on_the_assumed_table_is_an_unmet_assumption(jdb, unmet):
    unmet(jdb, "alter table public.conversations disable row level security", "rls", "public.conversations",
          "alter", forbidden="row level security")


def test_rls_forced_on_the_assumed_table_is_not_drift(jdb, run):
    execute(jdb, "alter table public.conversations force row level security")
    assert not run(jdb).drift


# ---------------------------------------------------------------- policies

POLICY = 'policy "Users can view own plan" on public.user_plans'


@pytest.mark.parametrize("breaking, detail", [
    ('alter policy "Users can view own plan" on public.user_plans using (true)', ("using",)),
    ('alter policy "Users can view own plan" on public.user_plans to anon, authenticated', ("roles",)),
    ('drop policy "Users can view own plan" on public.user_plans;'
     'create policy "Users can view own plan" on public.user_plans for all to authenticated '
     'using ((select auth.uid()) = user_id)', ("command",)),
    ('drop policy "Users can view own plan" on public.user_plans;'
     'create policy "Users can view own plan" on public.user_plans as restrictive for select to authenticated '
     'using ((select auth.uid()) = user_id)', ("permissive",)),
], ids=["expression", "roles", "command", "restrictive"])
def test_policy_changed(jdb, fixed, breaking, detail):
    change = fixed(jdb, breaking, "policy", POLICY, "alter")
    assert change.detail == detail


def test_policy_missing_and_extra(jdb, fixed):
    fixed(jdb, 'drop policy "Users can view own plan" on public.user_plans', "policy", POLICY, "add")
    fixed(jdb, 'create policy "anyone" on public.usage_events for insert to anon with check (true)', "policy",
          'policy anyone on public.usage_events', "drop")


def test_the_apps_own_policies_on_the_assumed_table_are_not_drift(jdb, run):
    execute(jdb, 'create policy "Users can view own conversations" on public.conversations for select '
                 'to authenticated using ((select auth.uid()) = user_id)')
    report = run(jdb)
    assert not report.drift and [c.object for c in report.unmanaged] == \
        ['policy "Users can view own conversations" on public.conversations']


# ---------------------------------------------------------------- functions

FN = "public.check_conversation_limit(uuid)"


@pytest.mark.parametrize("breaking, detail", [
    ("create or replace function public.check_conversation_limit(p_user_id uuid) returns jsonb language plpgsql "
     "stable security definer set search_path = '' as $$ begin return '{}'::jsonb; end; $$", ("body",)),
    (f"alter function {FN} security invoker", ("security_definer",)),
    (f"alter function {FN} reset search_path", ("config",)),
    (f"alter function {FN} volatile", ("volatility",)),
    (f"alter function {FN} set search_path = public", ("config",)),
], ids=["body", "security-definer", "config-reset", "volatility", "search-path"])
def test_function_drift(jdb, fixed, breaking, detail):
    change = fixed(jdb, breaking, "function", FN, "alter")
    assert change.detail == detail


def test_function_body_trailing_whitespace_is_not_drift(jdb, run):
    with psycopg.connect(jdb, autocommit=True) as conn:
        src = conn.execute("select prosrc from pg_proc where oid = 'public.check_conversation_limit'::regproc"
                           ).fetchone()[0]
        body = "\n".join(line + "   " for line in src.splitlines()) + "\n\n  \n"
        conn.execute(psycopg.sql.SQL("create or replace function public.check_conversation_limit(p_user_id uuid) "
                                     "returns jsonb language plpgsql stable security definer set search_path = '' "
                                     "as {}").format(psycopg.sql.Literal(body)))
    assert not run(jdb).drift


def test_function_missing_is_recreated_with_its_privileges(jdb, fixed):
    fixed(jdb, "drop function public.set_user_plan(uuid, text)", "function", "public.set_user_plan(uuid, text)",
          "add")


def test_function_with_a_new_return_type_is_recreated_with_its_trigger(jdb, fixed):
    # same signature, other result type: CREATE OR REPLACE cannot fix it; the trigger depends on it
    fixed(jdb, "drop trigger on_auth_user_created_create_plan on auth.users;"
               "drop function public.handle_new_user();"
               "create function public.handle_new_user() returns void language sql as 'select';",
          "function", "public.handle_new_user()", "alter")


# ---------------------------------------------------------------- triggers

TRG = "trigger update_user_plans_updated_at on public.user_plans"


def test_trigger_missing_disabled_changed(jdb, fixed):
    fixed(jdb, "drop trigger update_user_plans_updated_at on public.user_plans", "trigger", TRG, "add")
    change = fixed(jdb, "alter table public.user_plans disable trigger update_user_plans_updated_at", "trigger", TRG,
                   "alter")
    assert change.detail == ("enabled",)
    change = fixed(jdb, "create or replace trigger update_user_plans_updated_at after update on public.user_plans "
                        "for each row execute function public.update_updated_at_column()", "trigger", TRG, "alter")
    assert change.detail == ("timing",)


def test_trigger_on_auth_users_added_by_a_migration(jdb, fixed):
    fixed(jdb, "drop trigger on_auth_user_created_create_plan on auth.users", "trigger",
          "trigger on_auth_user_created_create_plan on auth.users", "add")


def test_extra_trigger_on_a_managed_table(jdb, fixed):
    fixed(jdb, "create trigger sneaky before insert on public.usage_events for each row "
               "execute function public.update_updated_at_column()", "trigger",
          "trigger sneaky on public.usage_events", "drop")


# ---------------------------------------------------------------- grants

@pytest.mark.parametrize("breaking, obj, action", [
    ("grant select on public.usage_events to anon", "privileges on table public.usage_events to anon", "drop"),
    ("grant insert, update on public.user_plans to authenticated",
     "privileges on table public.user_plans to authenticated", "alter"),
    ("revoke select on public.user_plans from authenticated",
     "privileges on table public.user_plans to authenticated", "add"),
    ("grant execute on function public.reset_monthly_usage() to anon",
     "privileges on function public.reset_monthly_usage() to anon", "drop"),
    ("grant execute on function public.set_user_plan(uuid, text) to public",
     "privileges on function public.set_user_plan(uuid, text) to public", "drop"),
    ("grant update (conversations_used) on public.user_plans to authenticated",
     "privileges on column public.user_plans.conversations_used to authenticated", "drop"),
    ("grant update on sequence public.usage_events_id_seq to anon",
     "privileges on sequence public.usage_events_id_seq to anon", "drop"),
    ("grant select on public.user_plans to authenticated with grant option",
     "privileges on table public.user_plans to authenticated", "alter"),
], ids=["table-to-anon", "table-widened", "table-revoked", "function-to-anon", "function-to-public",
        "column", "identity-sequence-to-anon", "grant-option"])
def test_grant_drift(jdb, fixed, breaking, obj, action):
    fixed(jdb, breaking, "grant", obj, action)


def test_a_grant_the_spec_assumes_missing_is_an_unmet_assumption(jdb, unmet):
    unmet(jdb, "revoke usage on schema public from anon", "grant", "privileges on schema public to anon", "add",
          forbidden="grant usage")


def test_grants_on_the_assumed_table_are_not_drift(jdb, run):
    execute(jdb, "revoke all on public.conversations from anon")  # the spec says nothing about them
    assert not run(jdb).drift


# ---------------------------------------------------------------- comments

def test_comment_drift(jdb, fixed):
    fixed(jdb, "comment on column public.user_plans.conversations_limit is 'changed'", "comment",
          "column public.user_plans.conversations_limit", "alter")
    fixed(jdb, "comment on table public.user_plans is null", "comment", "table public.user_plans", "add")
    fixed(jdb, "comment on function public.reset_monthly_usage() is null", "comment",
          "function public.reset_monthly_usage()", "add")


# ---------------------------------------------------------------- tables

def test_missing_managed_table_is_recreated_with_its_privileges(jdb, fixed, run):
    fixed(jdb, "drop table public.conversation_usage", "table", "public.conversation_usage", "add")
    with psycopg.connect(jdb) as conn:  # the fix leaves anon with nothing (RLS and revokes both hold)
        acl = conn.execute("select relacl::text from pg_class where oid = 'public.conversation_usage'::regclass"
                           ).fetchone()[0]
    assert "anon=" not in acl


# ---------------------------------------------------------------- assumed table and unmanaged objects

SUPABASE_AUTH_USERS = """
alter table auth.users alter column id set default gen_random_uuid();
alter table auth.users add column instance_id uuid, add column aud varchar(255), add column role varchar(255),
  add column encrypted_password varchar(255), add column email_confirmed_at timestamptz,
  add column raw_app_meta_data jsonb, add column raw_user_meta_data jsonb, add column created_at timestamptz,
  add column updated_at timestamptz, add column phone text default null;
"""


def test_an_apps_conversations_and_supabases_auth_users_differ_only_in_what_the_spec_does_not_declare(jdb, run):
    """Other columns, defaults, not-null, a title, policies and foreign keys under the app's own names,
    and auth.users as Supabase Auth creates it: no drift, and no statement to run."""
    from jarvis import APP_CONVERSATIONS

    execute(jdb, APP_CONVERSATIONS + SUPABASE_AUTH_USERS)
    report = run(jdb)
    assert report.changes == () and not report.drift and report.exit_code == 0, format_text(report)
    assert "nothing to do" in format_sql(report).lower()
    assert "public.conversations.title" in {c.object for c in report.unmanaged}
    assert not any(c.object.startswith("auth.") for c in report.unmanaged)  # auth: not a schema the spec manages


def test_extras_on_the_assumed_conversations_table_are_not_drift(jdb, run, fixed):
    execute(jdb, "alter table public.conversations add column archived boolean, add column title text;"
                 "create index conversations_title_idx on public.conversations (title);"
                 "create policy \"Admins\" on public.conversations for all to service_role using (true);"
                 "alter table public.conversations add constraint conversations_title_check check (title <> '')")
    report = run(jdb)
    assert not report.drift and report.exit_code == 0
    names = {c.object for c in report.unmanaged}
    assert names == {"public.conversations.archived", "public.conversations.title",
                     "index conversations_title_idx on public.conversations",
                     'policy "Admins" on public.conversations',
                     "constraint conversations_title_check on public.conversations"}
    text = format_text(report)
    assert "Unmanaged" in text and "public.conversations.archived" in text
    assert {e["object"] for e in json.loads(format_json(report))["unmanaged"]} == names
    strict = run(jdb, strict=True)
    assert strict.drift and strict.exit_code == 1
    sql = format_sql(strict)  # the app's objects: never dropped, even with --strict
    assert "conversations" not in sql.split("begin;")[-1] and "5 unmanaged object(s) on assumed tables" in sql


def test_unmanaged_objects_without_and_with_strict(jdb, run):
    execute(jdb, "create table public.legacy (id int primary key);"
                 "create function public.helper(x integer) returns integer language sql as 'select x';")
    report = run(jdb)
    assert not report.drift and report.exit_code == 0
    assert {(c.kind, c.object) for c in report.unmanaged} == {("table", "public.legacy"),
                                                              ("function", "public.helper(integer)")}
    assert "public.legacy" in format_text(report)
    assert "drop table" not in format_sql(report)
    strict = run(jdb, strict=True)
    assert strict.drift and strict.exit_code == 1
    assert "public.legacy" in format_text(strict)
    sql = format_sql(strict)
    assert '-- destructive: drops table public.legacy' in sql
    execute(jdb, sql)
    assert not run(jdb, strict=True).drift


def test_objects_outside_the_specs_schemas_and_the_ledger_are_never_drift(jdb, run):
    execute(jdb, "create schema analytics; create table analytics.events (id int);"
                 "create schema schemagen; create table schemagen.migrations (id text primary key);"
                 "create table auth.sessions (id uuid primary key)")  # auth: assumed schema, not managed
    report = run(jdb, strict=True)
    assert not report.drift and report.unmanaged == ()


def test_an_overload_is_unmanaged_and_a_changed_signature_is_missing(jdb, run):
    execute(jdb, "create function public.check_conversation_limit(p_user_id text) returns jsonb "
                 "language sql as $$select '{}'::jsonb$$")
    report = run(jdb)
    assert not report.drift
    assert [c.object for c in report.unmanaged] == ["public.check_conversation_limit(text)"]


# ---------------------------------------------------------------- many at once

def test_many_drifts_at_once_converge(jdb, run):
    execute(jdb, """
        alter table public.user_plans disable row level security;
        grant all on public.user_plans to anon;
        alter table public.user_plans alter column plan_type type varchar(20);
        drop policy "Users can view own plan" on public.user_plans;
        alter table public.usage_events drop constraint usage_events_event_type_check;
        drop index public.usage_events_user_id_created_at_idx;
        alter function public.consume_conversation(uuid) security invoker;
        alter table public.conversations disable trigger update_conversations_updated_at;
        alter table public.user_plans add column extra int;
    """)
    report = run(jdb)
    assert len(report.changes) >= 9
    execute(jdb, format_sql(report))
    assert not run(jdb).drift


# ---------------------------------------------------------------- shadow database, cache, errors

def test_cached_normalisation_starts_no_shadow(jdb, run, monkeypatch, tmp_path):
    first = run(jdb, cache_dir=tmp_path)
    assert first.stats["cache"] == "miss" and list(tmp_path.glob("shadow-*.json"))

    def boom(*a, **k):
        raise AssertionError("the shadow database was used despite the cache")

    monkeypatch.setattr(diff_mod, "normalise", boom)
    second = run(jdb, cache_dir=tmp_path)
    assert second.stats["cache"] == "hit" and not second.drift
    with pytest.raises(AssertionError):
        run(jdb, cache_dir=tmp_path, use_cache=False)


def test_a_changed_spec_misses_the_cache(jdb, run, tmp_path, pg_server):
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.read_text().replace("Append-only usage log.", "An append-only usage log."))
    cache = tmp_path / "cache"
    assert diff(jdb, SPEC, shadow_url=pg_server.url, cache_dir=cache).stats["cache"] == "miss"
    report = diff(jdb, spec, shadow_url=pg_server.url, cache_dir=cache)
    assert report.stats["cache"] == "miss"
    assert [c.object for c in report.changes] == ["table public.usage_events"]


def test_the_cache_directory_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path / "a"))
    assert cache_mod.cache_dir_default() == tmp_path / "a"
    monkeypatch.delenv("SCHEMAGEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_mod.cache_dir_default() == tmp_path / "xdg" / "schemagen"


def test_default_shadow_is_a_throwaway_cluster(jdb, pg_server):
    if pg.find_pg_bin() is None:  # only with SCHEMAGEN_TEST_DATABASE_URL on a machine without the server
        pytest.skip("no PostgreSQL server binaries here: the no-binaries path is test_no_shadow_possible_...")
    report = diff(jdb, SPEC, use_cache=False)
    assert report.stats["cache"] == "off" and not report.drift


def test_shared_shadow_server_is_left_clean(jdb, run, pg_server):
    run(jdb, use_cache=False)  # the roles already exist on this server: creating them is idempotent
    with psycopg.connect(pg_server.url) as conn:
        left = conn.execute("select datname from pg_database where datname like 'schemagen_shadow_%'").fetchall()
    assert left == []


def test_version_mismatch_warns(jdb, run, monkeypatch):
    real = diff_mod.shadow_major_version
    monkeypatch.setattr(diff_mod, "shadow_major_version", lambda *a, **k: real(*a, **k) + 1)
    report = run(jdb)
    assert any("shadow database runs PostgreSQL" in w for w in report.warnings)


def test_no_shadow_possible_is_a_clear_error(jdb, monkeypatch, tmp_path):
    monkeypatch.setenv("SCHEMAGEN_PG_BIN", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(main, ["diff", "--db", jdb, "--spec", str(SPEC), "--no-cache"])
    assert result.exit_code == 2
    assert "--shadow-db" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- the command

def test_cli_exit_codes_and_formats(jdb, pg_server, cache_dir, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("NO_COLOR", raising=False)
    base = ["diff", "--spec", str(SPEC), "--shadow-db", pg_server.url]
    runner = CliRunner()
    ok = runner.invoke(main, base + ["--db", jdb])
    assert ok.exit_code == 0, ok.output
    assert "No drift" in ok.output and "\033[" not in ok.output  # not a terminal: no colour
    execute(jdb, "grant select on public.usage_events to anon")
    text = runner.invoke(main, base + ["--db", jdb])
    assert text.exit_code == 1 and "privileges on table public.usage_events to anon" in text.output
    js = runner.invoke(main, base + ["--db", jdb, "--format", "json"])
    assert js.exit_code == 1
    data = json.loads(js.output)
    assert data["drift"] is True and data["changes"][0]["kind"] == "grant"
    assert set(data["changes"][0]) >= {"kind", "object", "action", "before", "after", "destructive"}
    sql = runner.invoke(main, base + ["--format", "sql"], env={"DATABASE_URL": jdb})
    assert sql.exit_code == 1 and 'revoke select on table "public"."usage_events" from "anon";' in sql.output
    execute(jdb, sql.output)
    assert runner.invoke(main, base + ["--db", jdb]).exit_code == 0


def test_cli_unreachable_database_never_prints_the_password(pg_server):
    url = "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere"
    result = CliRunner().invoke(main, ["diff", "--db", url, "--spec", str(SPEC), "--shadow-db", pg_server.url])
    assert result.exit_code == 2
    assert "s3cr3t-pw" not in result.output and "schemagen: error:" in result.output
    assert re.search(r"postgresql://someone:\*\*\*@127\.0\.0\.1:1/nowhere", result.output)


def test_cli_without_a_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["diff", "--spec", str(SPEC)])
    assert result.exit_code == 2 and "DATABASE_URL" in result.output


# ---------------------------------------------------------------- owners and objects the model cannot describe

def test_a_table_owned_by_an_api_role_is_drift(jdb, fixed):
    change = fixed(jdb, "alter table public.user_plans owner to anon", "owner", "owner of table public.user_plans",
                   "alter")
    assert change.before == "anon"


def test_a_function_owned_by_an_api_role_is_drift(jdb, fixed):
    fixed(jdb, "alter function public.set_user_plan(uuid, text) owner to authenticated", "owner",
          "owner of function public.set_user_plan(uuid, text)", "alter")


def test_another_deployer_owning_the_objects_is_not_drift(jdb, run, pg_server):
    deployer = f"schemagen_deployer_{uuid.uuid4().hex[:8]}"  # roles are cluster-wide: unique, and dropped
    execute(pg_server.url, f"create role {deployer}")
    try:
        execute(jdb, f"alter table public.user_plans owner to {deployer};"
                     f"alter function public.reset_monthly_usage() owner to {deployer}")
        assert not run(jdb).drift
    finally:
        execute(jdb, f"drop owned by {deployer}")
        execute(pg_server.url, f"drop role {deployer}")


def test_views_sequences_and_types_are_listed_as_unmanaged(jdb, run):
    execute(jdb, "create view public.all_users as select id, email from auth.users;"
                 "create sequence public.ticket_seq;"
                 "create type public.mood as enum ('ok');"
                 "create domain public.positive as integer check (value > 0);"
                 "create materialized view public.plan_counts as select plan_type, count(*) from public.user_plans "
                 "group by plan_type")
    report = run(jdb)
    assert not report.drift
    assert {(c.kind, c.object) for c in report.unmanaged} == {
        ("view", "public.all_users"), ("sequence", "public.ticket_seq"), ("type", "public.mood"),
        ("domain", "public.positive"), ("materialized view", "public.plan_counts")}
    assert "view public.all_users" in format_text(report)
    strict = run(jdb, strict=True)
    assert strict.drift
    execute(jdb, format_sql(strict))
    assert not run(jdb, strict=True).drift


# ---------------------------------------------------------------- harder fixes

def test_a_missing_assumed_table_is_an_unmet_assumption_never_created(jdb, unmet):
    unmet(jdb, "drop table public.conversations cascade", "table", "public.conversations", "add",
          forbidden='create table "public"."conversations"')


def test_an_assumed_column_of_another_type_is_an_unmet_assumption(jdb, unmet):
    change = unmet(jdb, "alter table auth.users alter column email type text", "column", "auth.users.email", "alter",
                   forbidden='"auth"."users"')
    assert change.detail == ("type",)


def test_a_dropped_auth_function_is_an_unmet_assumption_never_created(jdb, unmet):
    unmet(jdb, "drop function auth.uid() cascade", "function", "auth.uid()", "add",
          forbidden='function "auth"."uid"')


def test_a_type_change_under_a_policy_and_a_foreign_key(jdb, fixed):
    fixed(jdb, 'drop policy "Users can view own conversation usage" on public.conversation_usage;'
               "alter table public.conversation_usage drop constraint conversation_usage_user_id_fkey;"
               "alter table public.conversation_usage alter column user_id type text;"
               'create policy "Users can view own conversation usage" on public.conversation_usage for select '
               "to authenticated using ((select auth.uid())::text = user_id)",
          "column", "public.conversation_usage.user_id", "alter", destructive=True)


def test_a_renamed_column_is_a_missing_one_and_an_extra_one(jdb, run):
    execute(jdb, "alter table public.user_plans rename column stripe_price_id to price_id")
    report = run(jdb)
    assert {(c.action, c.object) for c in report.changes if c.kind == "column"} == {
        ("add", "public.user_plans.stripe_price_id"), ("drop", "public.user_plans.price_id")}
    assert "-- destructive: drops column public.user_plans.price_id" in format_sql(report)


def test_a_role_that_bypasses_rls_is_an_unmet_assumption(jdb, unmet, pg_server):
    try:
        change = unmet(jdb, "alter role anon bypassrls", "role", "anon", "alter", forbidden="role")
        assert change.detail == ("bypassrls",)
    finally:  # roles are cluster-wide
        execute(pg_server.url, "alter role anon nobypassrls")


def test_no_drift_after_schemagen_apply_and_its_ledger_is_never_drift(db, run):
    from jarvis_schemagen.apply import apply

    apply(db, ROOT / "generated", spec_path=SPEC)
    with psycopg.connect(db) as conn:
        assert conn.execute("select count(*) from schemagen.migrations").fetchone()[0] == 5
    report = run(db, strict=True)
    assert not report.drift and report.unmanaged == (), format_text(report)


# ---------------------------------------------------------------- serial -> identity

SERIAL_EVENTS = """
alter table public.usage_events alter column id drop identity;
create sequence public.usage_events_id_seq owned by public.usage_events.id;
alter table public.usage_events alter column id set default nextval('public.usage_events_id_seq'::regclass);
grant all on sequence public.usage_events_id_seq to anon, authenticated, service_role;
"""


def test_a_serial_column_becomes_identity_going_on_from_its_sequence_in_one_pass(jdb, run):
    """usage_events.id as `bigserial` makes it (a database built before the spec said identity), with rows:
    the fix goes on from the old sequence's value, drops it, restores the spec's grants on the new one,
    is marked as a hazard, and converges in one pass."""
    execute(jdb, SERIAL_EVENTS)
    with psycopg.connect(jdb, autocommit=True) as conn:
        uid = conn.execute("insert into auth.users (id, email) values (gen_random_uuid(), 'a@b.c') returning id"
                           ).fetchone()[0]
        for _ in range(3):
            conn.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')",
                         [uid])
        conn.execute("select setval('public.usage_events_id_seq', 41)")  # a gap, as after rollbacks
    report = run(jdb)
    change = next(c for c in report.changes if c.object == "public.usage_events.id")
    assert change.kind == "column" and "identity" in change.detail and not change.destructive
    sql = format_sql(report)
    assert "-- hazard: makes public.usage_events.id an identity column" in sql
    assert "pg_catalog.setval(" in sql and "drop sequence" in sql
    execute(jdb, sql)
    with psycopg.connect(jdb, autocommit=True) as conn:
        new_id = conn.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')"
                              " returning id", [uid]).fetchone()[0]
        assert new_id == 42  # went on from the old sequence: no duplicate key
        assert conn.execute("select attidentity from pg_attribute where attrelid = 'public.usage_events'::regclass"
                            " and attname = 'id'").fetchone()[0] == "a"
        assert conn.execute("select pg_get_serial_sequence('public.usage_events', 'id')").fetchone()[0] == \
            "public.usage_events_id_seq"
        assert conn.execute("select count(*) from pg_class where relkind = 'S' and relnamespace = 'public'::regnamespace"
                            ).fetchone()[0] == 1  # the old sequence is gone
        assert conn.execute("select has_sequence_privilege('service_role', 'public.usage_events_id_seq', 'usage'),"
                            " has_sequence_privilege('anon', 'public.usage_events_id_seq', 'usage')").fetchone() == \
            (True, False)
    after = run(jdb, strict=True)
    assert not after.drift, format_text(after)


def _unowned_serial(seq: str) -> str:
    """usage_events.id taking its values from a sequence created on its own (not owned by the column)."""
    return f"""
alter table public.usage_events alter column id drop identity;
create sequence {seq};
alter table public.usage_events alter column id set default nextval('{seq}'::regclass);
grant all on sequence {seq} to anon, authenticated, service_role;
"""


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("seq", ["public.usage_events_id_seq", "public.event_numbers"])
def test_a_serial_column_on_an_unowned_sequence_becomes_identity_under_its_own_name(jdb, run, seq, strict):
    """The sequence was created on its own (`create sequence s; ... default nextval('s')`), so the column does not
    own it: it is dropped all the same (nothing else uses it, the spec does not declare it), so the identity
    sequence gets its usual name (not `usage_events_id_seq1`), goes on from the old value, and diff --strict
    finds nothing after one pass. With --strict the sequence is also unmanaged: the conversion drops it, no
    `drop sequence` of its own comes first (PostgreSQL would refuse it while the default uses it)."""
    execute(jdb, _unowned_serial(seq))
    with psycopg.connect(jdb, autocommit=True) as conn:
        uid = conn.execute("insert into auth.users (id, email) values (gen_random_uuid(), 'a@b.c') returning id"
                           ).fetchone()[0]
        conn.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')", [uid])
        conn.execute(f"select setval('{seq}', 41)")
    execute(jdb, format_sql(run(jdb, strict=strict)))
    with psycopg.connect(jdb, autocommit=True) as conn:
        assert conn.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')"
                            " returning id", [uid]).fetchone()[0] == 42
        assert conn.execute("select pg_get_serial_sequence('public.usage_events', 'id')").fetchone()[0] == \
            "public.usage_events_id_seq"
        assert conn.execute("select count(*) from pg_class where relkind = 'S' and relnamespace = 'public'::regnamespace"
                            ).fetchone()[0] == 1  # the old sequence is gone, no usage_events_id_seq1
    after = run(jdb, strict=True)
    assert not after.drift and after.unmanaged == (), format_text(after)


def test_an_unowned_sequence_another_column_uses_stays_and_one_in_the_way_stops_the_plan(jdb, run):
    """A sequence another column also draws from is kept (with its value) and the identity sequence still gets its
    usual name; one that must stay but holds that name stops the statement with a message, changing nothing."""
    execute(jdb, _unowned_serial("public.event_numbers") +
            "create table public.other_events (n bigint default nextval('public.event_numbers'::regclass));")
    execute(jdb, "select setval('public.event_numbers', 41)")
    execute(jdb, format_sql(run(jdb)))
    with psycopg.connect(jdb, autocommit=True) as conn:
        assert conn.execute("select pg_get_serial_sequence('public.usage_events', 'id')").fetchone()[0] == \
            "public.usage_events_id_seq"
        assert conn.execute("select nextval('public.event_numbers'), nextval('public.usage_events_id_seq')"
                            ).fetchone() == (42, 42)
    after = run(jdb)
    assert not after.drift, format_text(after)

    # the same column made serial again, from a sequence holding the identity sequence's name that another
    # table also uses: it must stay, so the identity sequence could only be usage_events_id_seq1
    execute(jdb, "drop table public.other_events; drop sequence public.event_numbers;" +
            _unowned_serial("public.usage_events_id_seq") +
            "create table public.other_events (n bigint default nextval('public.usage_events_id_seq'::regclass));")
    sql = format_sql(run(jdb))
    with pytest.raises(psycopg.errors.RaiseException, match="has the name the identity sequence of"):
        execute(jdb, sql)
    with psycopg.connect(jdb, autocommit=True) as conn:  # rolled back: still the serial column
        assert conn.execute("select attidentity from pg_attribute where attrelid = 'public.usage_events'::regclass"
                            " and attname = 'id'").fetchone()[0] == ""


def test_an_unowned_sequence_the_spec_declares_is_kept_when_its_column_becomes_identity(empty_db):
    """serial_to_identity(keep=...): the spec's own standalone sequences are never dropped, even when unused."""
    from jarvis_schemagen import sql as sqlmod

    execute(empty_db, "create sequence public.numbers; select setval('public.numbers', 7);"
                      "create table public.t (id integer not null default nextval('public.numbers'::regclass));")
    execute(empty_db, sqlmod.serial_to_identity("public.t", "id", "by default", keep=["public.numbers"]))
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert conn.execute("select nextval('public.numbers'), pg_get_serial_sequence('public.t', 'id')").fetchone() \
            == (8, "public.t_id_seq")
        assert conn.execute("insert into public.t default values returning id").fetchone()[0] == 8
