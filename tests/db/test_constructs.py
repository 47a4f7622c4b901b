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
