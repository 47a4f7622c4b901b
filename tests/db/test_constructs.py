"""Spec constructs beyond tables and functions (enum types, views, ...), end to end on real PostgreSQL:
render -> apply -> `diff` finds no drift; and evolution: a database in an older state converges,
both through the later migration files and through `diff --format sql`."""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import psycopg
import pytest

from jarvis_schemagen import api
from jarvis_schemagen.diff import diff
from jarvis_schemagen.report import format_sql, format_text

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("constructs-cache")


def write_spec(tmp_path: Path, text: str, name: str = "schema.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(sql)
        conn.commit()


def deploy(url: str, spec_path: Path, only: tuple[str, ...] | None = None) -> None:
    """The assumed objects (unless ``only`` names migrations), then each rendered file in its own transaction."""
    spec = api.load_spec(spec_path)
    if only is None:
        run_sql(url, api.assumed_objects_sql(spec))
    for name, sql in api.render_migrations(spec).items():
        if only is None or name.split("_", 1)[0] in only:
            run_sql(url, sql)


def run_plan(url: str, report) -> None:
    """What `psql -f` does with `diff --format sql`: every statement on its own, the transaction as written."""
    sql = format_sql(report)
    psql = shutil.which("psql")
    if psql:
        done = subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url], input=sql, text=True,
                              capture_output=True)
        assert done.returncode == 0, f"{done.stderr}\n{sql}"
        return
    with psycopg.connect(url, autocommit=True) as conn:  # no psql: the same, statement by statement
        for s in report.plan.statements:
            if s.outside_transaction:
                conn.execute(s.sql)
        rest = "\n".join(line for line in sql.splitlines()
                         if line not in {s.sql for s in report.plan.statements if s.outside_transaction})
        conn.execute(rest)


@pytest.fixture
def check(pg_server, cache_dir):
    def _diff(url: str, spec_path: Path, strict: bool = True):
        return diff(url, spec_path, shadow_url=pg_server.url, cache_dir=cache_dir, strict=strict)

    return _diff


def assert_no_drift(report) -> None:
    assert not report.drift, format_text(report)
    assert report.unmanaged == (), format_text(report)


def break_and_converge(url: str, spec_path: Path, check, breaking_sql: str) -> object:
    """Run ``breaking_sql``, then diff must find drift and its SQL must fix it. Returns the report."""
    run_sql(url, breaking_sql)
    return converge(url, spec_path, check)


def converge(url: str, spec_path: Path, check) -> object:
    """Diff must find drift; running its SQL must leave none. Returns the first report."""
    report = check(url, spec_path)
    assert report.drift, "expected drift"
    run_plan(url, report)
    assert_no_drift(check(url, spec_path))
    return report


# ---------------------------------------------------------------- enum types

ENUM_V1 = """\
version: 1
migrations:
  "001": base
schemas:
  public: {assumed: true}
types:
  public.mood:
    migration: "001"
    comment: How it feels.
    enum: [happy, sad]
tables:
  public.t:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      m: {type: mood, nullable: false, default: "'happy'"}
      ms: "mood[]"
functions:
  public.is_happy:
    migration: "001"
    arguments: [{name: p, type: mood}]
    returns: boolean
    language: plpgsql
    body: |
      declare
        v public.mood := 'happy';
      begin
        return p = v;
      end;
"""

ENUM_V2 = ENUM_V1.replace('"001": base', '"001": base\n  "002": more').replace(
    "enum: [happy, sad]", 'enum: [happy, {value: meh, migration: "002"}, sad, {value: angry, migration: "002"}]')


def test_enum_type_as_column_argument_and_variable_no_drift(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, ENUM_V1)
    deploy(empty_db, spec)
    assert_no_drift(check(empty_db, spec))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into public.t (ms) values ('{sad,happy}')")
        assert c.execute("select m::text, public.is_happy(m) from public.t").fetchone() == ("happy", True)
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            c.execute("insert into public.t (m) values ('bored')")


def test_enum_values_added_by_a_later_migration(empty_db, tmp_path, check):
    old, new = write_spec(tmp_path, ENUM_V1, "old.yaml"), write_spec(tmp_path, ENUM_V2, "new.yaml")
    deploy(empty_db, old)
    files = api.render_migrations(api.load_spec(new))
    assert "alter type \"public\".\"mood\" add value if not exists 'meh' after 'happy';" in files["002_more.sql"]
    deploy(empty_db, new, only=("002",))
    deploy(empty_db, new, only=("002",))  # idempotent
    assert_no_drift(check(empty_db, new))
    with psycopg.connect(empty_db, autocommit=True) as c:
        labels = c.execute("select enum_range(null::public.mood)::text").fetchone()[0]
    assert labels == "{happy,meh,sad,angry}"


def test_enum_values_added_by_diff_sql_run_before_the_transaction(empty_db, tmp_path, check):
    old = write_spec(tmp_path, ENUM_V1, "old.yaml")
    # the new value is used in the same plan (a default): it must be committed first
    new = write_spec(tmp_path, ENUM_V1.replace("enum: [happy, sad]", "enum: [happy, meh, sad, angry]").replace(
        "'happy'\"", "'meh'\""), "new.yaml")
    deploy(empty_db, old)
    report = converge(empty_db, new, check)
    change = next(c for c in report.changes if c.kind == "type")
    assert change.action == "alter" and change.detail == ("values",) and not change.destructive
    sql = format_sql(report)
    assert sql.index("add value if not exists 'meh' after 'happy'") < sql.index("begin;")


def test_removing_an_enum_value_recreates_the_type_and_is_destructive(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, ENUM_V2.replace('"002": more', '"002": more\n  "003": fewer'), "v2.yaml")
    deploy(empty_db, spec)
    fewer = write_spec(tmp_path, ENUM_V1.replace("enum: [happy, sad]", "enum: [sad, happy]"), "v3.yaml")
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into public.t (m, ms) values ('sad', '{happy}')")
    report = converge(empty_db, fewer, check)
    change = next(c for c in report.changes if c.kind == "type")
    assert change.destructive and "meh, angry" in change.reason
    assert "-- destructive: " in format_sql(report)
    with psycopg.connect(empty_db, autocommit=True) as c:
        assert c.execute("select m::text, ms::text from public.t").fetchone() == ("sad", "{happy}")


def test_enum_column_to_text_is_not_destructive_and_back_is(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, ENUM_V1)
    deploy(empty_db, spec)
    as_text = write_spec(tmp_path, ENUM_V1.replace("m: {type: mood,", "m: {type: text,"), "text.yaml")
    report = converge(empty_db, as_text, check)
    change = next(c for c in report.changes if c.kind == "column")
    assert "type" in change.detail and not change.destructive
    change = next(c for c in converge(empty_db, spec, check).changes if c.kind == "column")
    assert change.destructive  # text -> enum rejects values outside the enum


def test_missing_and_extra_enum_types(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, ENUM_V1)
    deploy(empty_db, spec)
    run_sql(empty_db, "create type public.extra as enum ('x'); comment on type public.mood is 'changed'")
    report = check(empty_db, spec)
    assert [c.object for c in report.unmanaged] == ["public.extra"], format_text(report)
    assert [(c.kind, c.object) for c in report.changes] == [("comment", "type public.mood")]
    run_plan(empty_db, report)
    assert_no_drift(check(empty_db, spec))


def test_a_type_used_before_the_migration_creating_it_is_refused(tmp_path):
    text = ENUM_V1.replace('"001": base', '"001": base\n  "002": later').replace(
        'public.mood:\n    migration: "001"', 'public.mood:\n    migration: "002"')
    with pytest.raises(api.SpecError) as e:
        api.load_spec(write_spec(tmp_path, text))
    assert "column public.t.m (migration 001) has type public.mood, created later (migration 002)" in str(e.value)


# ---------------------------------------------------------------- views

VIEWS_V1 = """\
version: 1
migrations:
  "001": base
roles:
  reader: {assumed: true}
schemas:
  public: {assumed: true}
tables:
  public.items:
    migration: "001"
    rls: true
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      owner: {type: text, nullable: false, default: current_user}
      price: {type: "numeric(10,2)", nullable: false}
    policies:
      own rows: {roles: [reader], command: select, using: owner = current_user}
    grants:
      - {grant: [select], to: [reader]}
views:
  public.cheap_items:
    migration: "001"
    security_invoker: true
    comment: Items under 10.
    query: |
      select id, price from public.items where price < 10   -- the RLS of the caller applies
    grants:
      - {revoke: [all], from: [public]}
      - {grant: [select], to: [reader]}
  public.cheap_count:
    migration: "001"
    security_barrier: true
    query: select count(*) as n from public.cheap_items
  public.price_stats:
    migration: "001"
    materialized: true
    query: select max(price) as top from public.items
"""


def test_views_no_drift_and_security_invoker_applies_the_callers_rls(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, VIEWS_V1)
    deploy(empty_db, spec)
    assert_no_drift(check(empty_db, spec))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into public.items (owner, price) values ('reader', 1), ('someone', 2), ('reader', 50)")
        with c.transaction():
            c.execute("set local role reader")
            assert c.execute("select count(*) from public.cheap_items").fetchone()[0] == 1
        opts = c.execute("select reloptions from pg_class where oid = 'public.cheap_count'::regclass").fetchone()[0]
        assert opts == ["security_barrier=true"]


def test_changed_views_converge(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, VIEWS_V1)
    deploy(empty_db, spec)
    # an appended column: create or replace (the dependent view stays)
    wider = write_spec(tmp_path, VIEWS_V1.replace("select id, price from", "select id, price, owner from"), "w.yaml")
    report = converge(empty_db, wider, check)
    assert "create or replace view \"public\".\"cheap_items\"" in format_sql(report)
    assert "drop view" not in format_sql(report)
    # a removed column: drop and create, with the view reading it, its privileges and comment
    report = converge(empty_db, spec, check)
    sql = format_sql(report)
    assert sql.index('drop view "public"."cheap_count"') < sql.index('drop view "public"."cheap_items"')
    assert 'grant select on table "public"."cheap_items" to "reader"' in sql
    # options only; materialized view query
    opts = write_spec(tmp_path, VIEWS_V1.replace("security_barrier: true", "security_barrier: false").replace(
        "max(price)", "min(price)"), "o.yaml")
    converge(empty_db, opts, check)


def test_view_drift_missing_extra_and_privileges(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, VIEWS_V1)
    deploy(empty_db, spec)
    run_sql(empty_db, "drop materialized view public.price_stats; create view public.stray as select 1 as x;"
                      " grant insert on public.cheap_items to reader; alter view public.cheap_items reset (security_invoker)")
    report = check(empty_db, spec)
    kinds = {(c.kind, c.object, c.action) for c in report.changes}
    assert ("materialized view", "public.price_stats", "add") in kinds
    assert ("grant", "privileges on table public.cheap_items to reader", "alter") in kinds
    assert ("view", "public.cheap_items", "alter") in kinds
    assert [(c.kind, c.object) for c in report.unmanaged] == [("view", "public.stray")]
    run_plan(empty_db, report)
    assert_no_drift(check(empty_db, spec))


def test_a_column_type_change_under_a_view_rebuilds_the_view(empty_db, tmp_path, check):
    spec = write_spec(tmp_path, VIEWS_V1)
    deploy(empty_db, spec)
    wider = write_spec(tmp_path, VIEWS_V1.replace('price: {type: "numeric(10,2)"', 'price: {type: "numeric(12,2)"'),
                       "wide.yaml")
    converge(empty_db, wider, check)


# ---------------------------------------------------------------- the kitchen sink

KITCHEN = Path(__file__).resolve().parents[1] / "fixtures" / "kitchen_sink" / "schema.yaml"


def test_kitchen_sink_rendered_and_applied_has_no_drift(empty_db, check):
    deploy(empty_db, KITCHEN)
    assert_no_drift(check(empty_db, KITCHEN))
    with psycopg.connect(empty_db, autocommit=True) as c:
        assert c.execute("select enum_range(null::shop.order_status)::text").fetchone()[0] == "{new,paid,shipped}"
        assert c.execute("select code, minor_units from shop.currencies order by 1").fetchall() == [("EUR", 2), ("JPY", 0)]
        assert c.execute("select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
                         " and schemaname = 'shop' and tablename = 'orders'").fetchone()[0] == 1


# ---------------------------------------------------------------- warnings: serial, definer without search_path

SERIAL = """\
version: 1
migrations:
  "001": base
  "002": more
schemas:
  app: {migration: "001"}
tables:
  app.tickets:
    migration: "001"
    columns:
      id: {type: serial, primary_key: true}
      title: text
      seq_no: {type: bigserial, migration: "002"}
  app.notes:
    migration: "001"
    columns:
      id: {type: bigint, identity: by default, primary_key: true}
      ticket_id: {type: integer, references: app.tickets}
functions:
  app.handle_new_ticket:
    migration: "002"
    returns: trigger
    security_definer: true
    body: |
      begin
        insert into app.notes (ticket_id) values (new.id);
        return new;
      end;
"""


def test_serial_columns_and_an_unpinned_definer_are_warnings_and_deploy_without_drift(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, SERIAL)
    spec = api.load_spec(spec_path)
    assert [(w.pos.line, w.pos.col) for w in spec.warnings] == [(11, 7), (13, 7), (20, 3)]
    files = api.render_migrations(spec)
    assert '"id" serial not null' in files["001_base.sql"]
    assert 'add column if not exists "seq_no" bigserial not null;' in files["002_more.sql"]
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)  # idempotent
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.tickets (title) values ('a'), ('b')")
        assert c.execute("select id, seq_no from app.tickets order by id").fetchall() == [(1, 1), (2, 2)]
        assert c.execute("select pg_get_serial_sequence('app.tickets', 'id')").fetchone()[0] == "app.tickets_id_seq"


def test_a_missing_serial_table_is_created_with_its_sequence(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, SERIAL)
    deploy(empty_db, spec_path)
    run_sql(empty_db, "drop table app.notes; drop table app.tickets")
    report = converge(empty_db, spec_path, check)
    assert '"id" serial not null' in format_sql(report)


def test_warnings_go_to_stderr_and_keep_exit_code_0(tmp_path):
    from click.testing import CliRunner

    from jarvis_schemagen.cli import main

    spec_path = write_spec(tmp_path, SERIAL)
    for args in (["validate", "--spec", str(spec_path)], ["render", "--spec", str(spec_path), "--out", str(tmp_path / "g")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("schemagen: warning: ")]
        assert len(warnings) == 3 and "schemagen: warning" not in result.stdout
        assert "SECURITY DEFINER without a pinned search_path" in warnings[2] and "search_path: \"\"" in warnings[2]
        assert "identity: by default" in warnings[0]


# ---------------------------------------------------------------- publications and replica identity

PUB = """\
version: 1
migrations:
  "001": base
  "002": realtime
schemas:
  public: {assumed: true}
  app: {migration: "001"}
publications:
  supabase_realtime: {assumed: true, tables: [{table: app.messages, migration: "002"}]}
  app_feed: {migration: "001"}
tables:
  app.messages:
    migration: "001"
    replica_identity: full
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      body: text
  app.rooms:
    migration: "001"
    publication: app_feed
    replica_identity: index rooms_code_key
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      code: {type: text, nullable: false, unique: true}
"""

MEMBERS = "select pubname || ' ' || schemaname || '.' || tablename from pg_publication_tables order by 1"


def test_publications_and_replica_identity_deploy_without_drift(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, PUB)
    files = api.render_migrations(api.load_spec(spec_path))
    assert "alter publication \"supabase_realtime\" add table \"app\".\"messages\";" in files["002_realtime.sql"]
    assert 'alter table "app"."rooms" replica identity using index "rooms_code_key";' in files["001_base.sql"]
    assert "create publication" not in files["002_realtime.sql"]  # assumed: never created by a migration
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)  # idempotent
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        assert [r[0] for r in c.execute(MEMBERS)] == ["app_feed app.rooms", "supabase_realtime app.messages"]
        assert c.execute("select relreplident from pg_class where oid = 'app.messages'::regclass").fetchone()[0] == "f"


def test_adding_a_table_to_the_assumed_publication_converges(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, PUB)
    deploy(empty_db, spec_path)
    run_sql(empty_db, "alter publication supabase_realtime drop table app.messages")
    report = converge(empty_db, spec_path, check)
    assert [(c.kind, c.object, c.action) for c in report.changes] == [
        ("publication", "table app.messages in publication supabase_realtime", "add")]
    # through the migration file, as apply would
    run_sql(empty_db, "alter publication supabase_realtime drop table app.messages")
    deploy(empty_db, spec_path, only=("002",))
    assert_no_drift(check(empty_db, spec_path))


def test_publication_and_replica_identity_drift(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, PUB)
    deploy(empty_db, spec_path)
    run_sql(empty_db, "alter publication supabase_realtime add table app.rooms;"
                      "alter table app.messages replica identity default;"
                      "create table public.other (id int); alter publication supabase_realtime add table public.other;"
                      "drop publication app_feed")
    report = check(empty_db, spec_path, strict=False)
    assert {(c.kind, c.object, c.action) for c in report.changes} == {
        ("publication", "table app.rooms in publication supabase_realtime", "drop"),
        ("replica identity", "app.messages", "alter"),
        ("publication", "app_feed", "add")}
    text = format_text(report)
    assert "replica identity of app.messages: differs" in text and "database default; spec full" in text
    run_plan(empty_db, report)
    assert not check(empty_db, spec_path, strict=False).drift
    with psycopg.connect(empty_db, autocommit=True) as c:  # the platform's other members are left alone
        assert "supabase_realtime public.other" in [r[0] for r in c.execute(MEMBERS)]


# ---------------------------------------------------------------- seed rows

SEED = """\
version: 1
migrations:
  "001": base
  "002": buckets
schemas:
  public: {assumed: true}
  storage: {assumed: true}
  app: {migration: "001"}
tables:
  storage.buckets:
    assumed: true
    columns:
      id: {type: text, primary_key: true}
      name: {type: text, nullable: false}
      public: boolean
    seed:
      migration: "002"
      rows:
        - {id: avatars, name: avatars, public: true}
  app.plans:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      code: {type: text, nullable: false, unique: true}
      monthly_limit: integer
      features: jsonb
    seed:
      - {id: 1, code: free, monthly_limit: 10, features: {chat: true}}
      - {id: 2, code: "it's pro", monthly_limit: null, features: [a, b]}
"""


def test_seed_rows_are_inserted_once_and_kept(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, SEED)
    files = api.render_migrations(api.load_spec(spec_path))
    assert ("insert into \"storage\".\"buckets\" (\"id\", \"name\", \"public\") values ('avatars', 'avatars', 'true') "
            "on conflict do nothing;") in files["002_buckets.sql"]
    assert "overriding system value" in files["001_base.sql"] and "'it''s pro'" in files["001_base.sql"]
    deploy(empty_db, spec_path)
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("update app.plans set monthly_limit = 20 where code = 'free'")  # the app changed it since
    deploy(empty_db, spec_path, only=("001", "002"))  # a second run inserts nothing and overwrites nothing
    with psycopg.connect(empty_db, autocommit=True) as c:
        rows = c.execute("select id, code, monthly_limit, features from app.plans order by id").fetchall()
        assert rows == [(1, "free", 20, {"chat": True}), (2, "it's pro", None, ["a", "b"])]
        assert c.execute("select id, public from storage.buckets").fetchall() == [("avatars", True)]
    assert_no_drift(check(empty_db, spec_path))


# ---------------------------------------------------------------- returns table, trigger arguments, column grants

FN = """\
version: 1
migrations:
  "001": base
roles:
  reader: {assumed: true}
schemas:
  app: {migration: "001", grants: [{grant: [usage], to: [reader]}]}
tables:
  app.items:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      label: {type: text, nullable: false}
      secret: text
      changed_by: text
    triggers:
      items_stamp:
        timing: before
        events: [insert, update]
        function: app.stamp
        arguments: [changed_by, "it's me"]
    grants:
      - {revoke: [all], from: [public]}
      - {grant: [select], columns: [id, label], to: [reader]}
      - {grant: [update], columns: [label], to: [reader]}
functions:
  app.stamp:
    migration: "001"
    returns: trigger
    set: {search_path: ""}
    body: |
      begin
        new := pg_catalog.jsonb_populate_record(new, pg_catalog.jsonb_build_object(tg_argv[0], tg_argv[1]));
        return new;
      end;
  app.labels:
    migration: "001"
    arguments: [{name: p_min, type: bigint, default: "0"}]
    returns: {table: {id: bigint, label: text}}
    language: sql
    volatility: stable
    body: select i.id, i.label from app.items as i where i.id >= p_min order by i.id
"""


def test_returns_table_trigger_arguments_and_column_grants_without_drift(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, FN)
    files = api.render_migrations(api.load_spec(spec_path))
    text = files["001_base.sql"]
    assert 'create or replace function "app"."labels"("p_min" bigint default 0)\nreturns TABLE(id bigint, label text)' in text
    assert "execute function \"app\".\"stamp\"('changed_by', 'it''s me');" in text
    assert 'grant select ("label") on table "app"."items" to "reader";' in text
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.items (label, secret) values ('a', 's')")
        assert c.execute("select id, label from app.labels()").fetchall() == [(1, "a")]
        assert c.execute("select changed_by from app.items").fetchone()[0] == "it's me"
        with c.transaction():
            c.execute("set local role reader")
            assert c.execute("select id, label from app.items").fetchall() == [(1, "a")]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("select secret from app.items")


def test_trigger_arguments_and_column_grants_drift_converges(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, FN)
    deploy(empty_db, spec_path)
    report = break_and_converge(
        empty_db, spec_path, check,
        "revoke update (label) on app.items from reader; grant select (secret) on app.items to reader;"
        "drop trigger items_stamp on app.items; create trigger items_stamp before insert or update on app.items"
        " for each row execute function app.stamp('changed_by', 'someone else')")
    assert {(c.kind, c.object) for c in report.changes} == {
        ("grant", "privileges on column app.items.label to reader"),
        ("grant", "privileges on column app.items.secret to reader"),
        ("trigger", "trigger items_stamp on app.items")}


# ---------------------------------------------------------------- column collations

COLL = """\
version: 1
migrations:
  "001": base
schemas:
  app: {migration: "001"}
tables:
  app.words:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      word: {type: text, nullable: false, collation: C}
      plain: text
    indexes:
      words_word_idx: {columns: [word]}
"""


def test_column_collation_renders_and_drift_converges(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, COLL)
    assert '"word" text collate "C" not null' in api.render_migrations(api.load_spec(spec_path))["001_base.sql"]
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.words (word) values ('b'), ('B'), ('a')")
        assert [r[0] for r in c.execute("select word from app.words order by word")] == ["B", "a", "b"]
    report = break_and_converge(empty_db, spec_path, check,
                                'alter table app.words alter column word type text collate "default";'
                                'alter table app.words alter column plain type text collate "C"')
    assert {(c.object, c.detail) for c in report.changes} == {("app.words.word", ("collation",)),
                                                             ("app.words.plain", ("collation",))}


# ---------------------------------------------------------------- function overloads

OVL = """\
version: 1
migrations:
  "001": base
  "002": more
schemas:
  app: {migration: "001"}
functions:
  app.area(integer):
    migration: "001"
    arguments: [{name: side, type: integer}]
    returns: integer
    language: sql
    body: select side * side
  app.area(integer, integer):
    migration: "002"
    comment: Width times height.
    arguments: [{name: w, type: int4}, {name: h, type: integer}]
    returns: integer
    language: sql
    body: select w * h
    grants:
      - {revoke: [execute], from: [public]}
"""


def test_function_overloads_are_keyed_by_signature(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, OVL)
    spec = api.load_spec(spec_path)
    assert [f.signature for f in spec.functions] == ["app.area(integer)", "app.area(integer, integer)"]
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        assert c.execute("select app.area(3), app.area(2, 5)").fetchone() == (9, 10)
    run_sql(empty_db, "drop function app.area(integer, integer);"
                      "create or replace function app.area(side integer) returns integer language sql as 'select 0'")
    report = converge(empty_db, spec_path, check)
    assert {(c.kind, c.object, c.action) for c in report.changes if c.kind == "function"} == {
        ("function", "app.area(integer, integer)", "add"), ("function", "app.area(integer)", "alter")}


def test_an_overload_key_must_match_its_arguments(tmp_path):
    with pytest.raises(api.SpecError) as e:
        api.load_spec(write_spec(tmp_path, OVL.replace("app.area(integer, integer):", "app.area(integer, text):")))
    assert "function app.area(integer, text): the types in its name must be its argument types (integer, integer)" \
        in str(e.value)
    with pytest.raises(api.SpecError) as e:
        api.load_spec(write_spec(tmp_path, OVL.replace("app.area(integer, integer):", "app.area(integer):")))
    assert "duplicate key 'app.area(integer)'" in str(e.value) or "declared twice" in str(e.value)


# ---------------------------------------------------------------- exclusion constraints

EXCL = """\
version: 1
migrations:
  "001": base
  "002": later
schemas:
  app: {migration: "001"}
tables:
  app.bookings:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      room: {type: integer, nullable: false}
      during: {type: tstzrange, nullable: false}
    constraints:
      bookings_no_overlap: {exclude: "using gist (during with &&) where (room > 0)"}
      bookings_room_during: {exclude: "using gist (during with -|-)", migration: "002"}
"""


def test_exclusion_constraints_render_apply_and_converge(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, EXCL)
    files = api.render_migrations(api.load_spec(spec_path))
    assert 'constraint "bookings_no_overlap" exclude using gist (during with &&) where (room > 0)' in files["001_base.sql"]
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.bookings (room, during) values (1, '[2026-01-01, 2026-01-03)')")
        with pytest.raises(psycopg.errors.ExclusionViolation):
            c.execute("insert into app.bookings (room, during) values (2, '[2026-01-02, 2026-01-04)')")
    run_sql(empty_db, "alter table app.bookings drop constraint bookings_no_overlap")
    converge(empty_db, spec_path, check)


# ---------------------------------------------------------------- domains

DOM = """\
version: 1
migrations:
  "001": base
schemas:
  public: {assumed: true}
  app: {migration: "001"}
types:
  app.email:
    migration: "001"
    comment: Lower-case e-mail addresses.
    domain: text
    nullable: false
    check: {email_has_at: "value ~ '@'", email_lower: value = lower(value)}
  public.positive:
    migration: "001"
    domain: integer
    default: "1"
    check: value > 0
tables:
  app.people:
    migration: "001"
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      email: app.email
      visits: positive
"""


def test_domains_render_apply_and_converge(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, DOM)
    text = api.render_migrations(api.load_spec(spec_path))["001_base.sql"]
    assert ('create domain "public"."positive" as integer default 1 constraint "positive_check" check (value > 0);'
            in text)
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.people (email) values ('a@b.example')")
        assert c.execute("select visits from app.people").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute("insert into app.people (email) values ('A@b.example')")
    report = break_and_converge(
        empty_db, spec_path, check,
        "alter domain app.email drop constraint email_lower; alter domain app.email drop not null;"
        "alter domain public.positive set default 5; comment on domain app.email is null;"
        "create domain app.stray as text")
    assert {(c.kind, c.object, c.action) for c in report.changes} == {
        ("domain", "app.email", "alter"), ("domain", "public.positive", "alter"),
        ("comment", "domain app.email", "add")}
    assert [(c.kind, c.object) for c in report.unmanaged] == [("domain", "app.stray")]
    # a new base type: the domain is recreated and its columns moved to it
    wider = write_spec(tmp_path, DOM.replace("domain: integer", "domain: bigint"), "wider.yaml")
    report = converge(empty_db, wider, check)
    assert next(c for c in report.changes if c.kind == "domain").destructive


# ---------------------------------------------------------------- standalone sequences

SEQ = """\
version: 1
migrations:
  "001": base
roles:
  writer: {assumed: true}
schemas:
  app: {migration: "001"}
sequences:
  app.ticket_no:
    migration: "001"
    comment: Ticket numbers.
    type: integer
    start: 1000
    increment: 10
    cache: 5
    grants:
      - {revoke: [all], from: [public]}
      - {grant: [usage], to: [writer]}
tables:
  app.tickets:
    migration: "001"
    columns:
      no: {type: integer, primary_key: true, default: "nextval('app.ticket_no')"}
      title: text
"""


def test_standalone_sequences_render_apply_and_converge(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, SEQ)
    text = api.render_migrations(api.load_spec(spec_path))["001_base.sql"]
    assert ('create sequence if not exists "app"."ticket_no" as integer increment by 10 start with 1000 cache 5 '
            'no cycle;') in text
    assert text.index("create sequence") < text.index('create table if not exists "app"."tickets"')
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.tickets (title) values ('a'), ('b')")
        assert [r[0] for r in c.execute("select no from app.tickets order by no")] == [1000, 1010]
    report = break_and_converge(empty_db, spec_path, check,
                                "alter sequence app.ticket_no increment by 1 no cycle; grant update on sequence"
                                " app.ticket_no to writer; create sequence app.stray")
    assert {(c.kind, c.object, c.action) for c in report.changes} == {
        ("sequence", "app.ticket_no", "alter"), ("grant", "privileges on sequence app.ticket_no to writer", "alter")}
    assert [(c.kind, c.object, c.destructive) for c in report.unmanaged] == [("sequence", "app.stray", True)]
    run_sql(empty_db, "alter table app.tickets alter column no drop default; drop sequence app.ticket_no")
    report = converge(empty_db, spec_path, check)
    assert ("sequence", "app.ticket_no", "add") in {(c.kind, c.object, c.action) for c in report.changes}


# ---------------------------------------------------------------- partitioned tables

PART = """\
version: 1
migrations:
  "001": base
  "002": next_year
schemas:
  app: {migration: "001"}
tables:
  app.events:
    migration: "001"
    partition_by: range (created_at)
    columns:
      id: {type: bigint, identity: always}
      created_at: {type: timestamptz, nullable: false}
      kind: text
    constraints:
      events_pkey: {primary_key: [id, created_at]}
    indexes:
      events_kind_idx: {columns: [kind]}
    partitions:
      app.events_2026: "from ('2026-01-01 00:00+00') to ('2027-01-01 00:00+00')"
      app.events_default: default
      app.events_2027: {bound: "for values from ('2027-01-01 00:00+00') to ('2028-01-01 00:00+00')", migration: "002"}
"""


def test_partitioned_tables_render_apply_and_converge(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, PART)
    files = api.render_migrations(api.load_spec(spec_path))
    assert ") partition by range (created_at);" in files["001_base.sql"]
    assert ('create table if not exists "app"."events_2027" partition of "app"."events" for values from '
            "('2027-01-01 00:00+00') to ('2028-01-01 00:00+00');") in files["002_next_year.sql"]
    deploy(empty_db, spec_path)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("insert into app.events (created_at) values ('2026-06-01'), ('2027-06-01'), ('2030-01-01')")
        counts = c.execute("select tableoid::regclass::text, count(*) from app.events group by 1 order by 1").fetchall()
        assert counts == [("app.events_2026", 1), ("app.events_2027", 1), ("app.events_default", 1)]
    report = break_and_converge(
        empty_db, spec_path, check,
        "alter table app.events detach partition app.events_2027; drop table app.events_2027;"
        "alter table app.events detach partition app.events_2026;"
        "alter table app.events attach partition app.events_2026 for values from ('2026-01-01 00:00+00') to ('2026-12-01 00:00+00');"
        "create table app.events_old partition of app.events for values from ('2020-01-01 00:00+00') to ('2021-01-01 00:00+00')")
    assert {(c.kind, c.object, c.action, c.destructive) for c in report.changes} == {
        ("partition", "partition app.events_2027 of app.events", "add", False),
        ("partition", "partition app.events_2026 of app.events", "alter", False),
        ("partition", "partition app.events_old of app.events", "drop", True)}


# ---------------------------------------------------------------- policies on storage.objects, no columns declared

STORAGE = """\
version: 1
migrations:
  "001": storage_policies
roles:
  authenticated: {assumed: true}
schemas:
  auth: {assumed: true}
  storage: {assumed: true}
functions:
  auth.uid: {assumed: true, returns: uuid, language: sql, volatility: stable, body: select null::uuid}
  storage.foldername:
    assumed: true
    arguments: [{name: name, type: text}]
    returns: "text[]"
    language: sql
    volatility: immutable
    body: select (pg_catalog.string_to_array(name, '/'))[1:array_length(pg_catalog.string_to_array(name, '/'), 1) - 1]
tables:
  storage.objects:
    assumed: true
    rls: true
    policies:
      Users read their own avatars:
        migration: "001"
        command: select
        roles: [authenticated]
        using: bucket_id = 'avatars' and (storage.foldername(name))[1] = (select auth.uid()::text)
      Users upload their own avatars:
        migration: "001"
        command: insert
        roles: [authenticated]
        with_check: bucket_id = 'avatars' and owner = (select auth.uid())
"""


def test_policies_on_storage_objects_without_declaring_its_columns(empty_db, tmp_path, check):
    spec_path = write_spec(tmp_path, STORAGE)
    assumed = api.assumed_objects_sql(api.load_spec(spec_path))
    assert '"bucket_id" text' in assumed and '"path_tokens" text[] generated always as' in assumed
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path, strict=False))
    # the platform's own columns are not the spec's business: a newer storage schema is not drift
    run_sql(empty_db, "alter table storage.objects add column level integer; alter table storage.objects drop column"
                      " user_metadata")
    assert not check(empty_db, spec_path, strict=False).drift
    run_sql(empty_db, 'drop policy "Users read their own avatars" on storage.objects')
    report = check(empty_db, spec_path, strict=False)
    assert [(c.kind, c.object) for c in report.changes] == [
        ("policy", 'policy "Users read their own avatars" on storage.objects')]
    run_plan(empty_db, report)
    assert not check(empty_db, spec_path, strict=False).drift


# ---------------------------------------------------------------- column grants on views

VIEWCOL = FN + """\
views:
  app.item_labels:
    migration: "001"
    query: select id, label, secret from app.items
    grants:
      - {revoke: [all], from: [public]}
      - {grant: [select], columns: [id, label], to: [reader]}
"""


def test_view_column_grants_are_compared_and_converge(empty_db, tmp_path, check):
    """A column privilege on a view is read back from the database (it was invisible to diff)."""
    spec_path = write_spec(tmp_path, VIEWCOL)
    deploy(empty_db, spec_path)
    assert_no_drift(check(empty_db, spec_path))
    report = break_and_converge(empty_db, spec_path, check, "grant select (secret) on app.item_labels to reader")
    assert {(c.kind, c.object) for c in report.changes} == {
        ("grant", "privileges on column app.item_labels.secret to reader")}
