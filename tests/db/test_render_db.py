"""Rendered SQL of the spec language, executed on a real server: runs twice, changes nothing the
second time, and the objects behave as declared (golden files alone prove only the text)."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from jarvis_schemagen import api

ROOT = Path(__file__).resolve().parents[2]
KITCHEN = ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml"

SNAPSHOT = """
select md5(string_agg(x, E'\\n' order by x)) from (
  select format('rel %s.%s %s rls=%s/%s acl=%s', n.nspname, c.relname, c.relkind, c.relrowsecurity,
                c.relforcerowsecurity, c.relacl) as x
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  union all
  select format('col %s.%s %s %s %s %s', a.attrelid::regclass, a.attname, format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text || a.attgenerated::text)
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
  union all
  select format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) from pg_constraint
   where connamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  union all
  select format('pol %s %s %s %s %s %s', polrelid::regclass, polname, polcmd, polpermissive,
                pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)) from pg_policy
  union all
  select format('fn %s %s %s %s', p.oid::regprocedure, p.prosrc, p.proconfig, p.proacl) from pg_proc p
   where p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  union all
  select format('trg %s', pg_get_triggerdef(oid)) from pg_trigger where not tgisinternal
  union all
  select format('cmt %s %s', pg_describe_object(classoid, objoid, objsubid), description)
    from pg_description where objoid >= 16384
) s
"""


def run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(sql)
        conn.commit()


def snapshot(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(SNAPSHOT).fetchone()[0]


@pytest.mark.parametrize("spec_path", [ROOT / "schema.yaml", KITCHEN], ids=["jarvis", "kitchen_sink"])
def test_every_file_runs_twice_and_the_second_run_changes_nothing(empty_db, spec_path):
    spec = api.load_spec(spec_path)
    run_sql(empty_db, api.assumed_objects_sql(spec))
    for name, sql in api.render_migrations(spec).items():
        run_sql(empty_db, sql)
        before = snapshot(empty_db)
        run_sql(empty_db, sql)
        assert snapshot(empty_db) == before, f"{name}: second run changed the catalog"


@pytest.fixture
def kitchen(empty_db):
    spec = api.load_spec(KITCHEN)
    run_sql(empty_db, api.assumed_objects_sql(spec))
    for sql in api.render_migrations(spec).values():
        run_sql(empty_db, sql)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        yield conn


def test_declared_objects_behave_as_declared(kitchen):
    c = kitchen
    c.execute("insert into shop.customers (email, display_name) values ('ann@shop.example', 'Ann'),"
              " ('bot@bots.example', 'Bot')")
    ann = c.execute("select id from shop.customers where email = 'ann@shop.example'").fetchone()[0]
    # check constraint, generated column, default, identity
    with pytest.raises(psycopg.errors.CheckViolation):
        c.execute("insert into shop.customers (email) values ('UPPER@shop.example')")
    c.execute("insert into shop.orders (customer_id, quantity, unit_price) values (%s, 3, 2.50)", (ann,))
    assert c.execute("select total, status from shop.orders").fetchone() == (pytest.approx(7.5), "new")
    with pytest.raises(psycopg.errors.CheckViolation):
        c.execute("insert into shop.orders (customer_id, quantity, unit_price) values (%s, 0, 1)", (ann,))
    # on delete restrict
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="still referenced"):
        c.execute("delete from shop.customers where id = %s", (ann,))
    # trigger with UPDATE OF and WHEN: only a status change touches updated_at
    c.execute("update shop.orders set updated_at = '2000-01-01'")
    c.execute("update shop.orders set note = 'n'")
    assert c.execute("select updated_at < now() - interval '1 year' from shop.orders").fetchone()[0]
    c.execute("update shop.orders set status = 'paid'")
    assert c.execute("select updated_at > now() - interval '1 minute' from shop.orders").fetchone()[0]
    # security definer function with a default argument and pinned settings
    assert float(c.execute("select shop.order_total(%s)", (ann,)).fetchone()[0]) == pytest.approx(7.5)
    cfg = c.execute("select proconfig from pg_proc where proname = 'order_total'").fetchone()[0]
    assert cfg == ['search_path=""', "statement_timeout=5s"]


def test_forced_rls_and_restrictive_policy(kitchen):
    c = kitchen
    c.execute("insert into shop.customers (email) values ('ann@shop.example'), ('bot@bots.example')")
    with c.transaction():
        c.execute("set local role app_reader")
        emails = [r[0] for r in c.execute("select email from shop.customers order by 1")]
        assert emails == ["ann@shop.example"]  # the restrictive policy hides bots
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("insert into shop.customers (email) values ('x@y.z')")
    # execute revoked from PUBLIC, granted to app_reader
    assert c.execute("select has_function_privilege('app_writer', 'shop.order_total(bigint, numeric)', 'execute'),"
                     " has_function_privilege('app_reader', 'shop.order_total(bigint, numeric)', 'execute')"
                     ).fetchone() == (True, True)  # app_writer is a member of app_reader
    forced = c.execute("select relforcerowsecurity from pg_class where oid = 'shop.customers'::regclass").fetchone()[0]
    assert forced is True


def test_api_roles_cannot_reset_the_usage_events_sequence(db):
    spec = api.load_spec(ROOT / "schema.yaml")
    for sql in api.render_migrations(spec).values():
        run_sql(db, sql)
    with psycopg.connect(db, autocommit=True) as c:
        for role in ("anon", "authenticated"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with c.transaction():
                    c.execute(f"set local role {role}")
                    c.execute("select setval('public.usage_events_id_seq', 1, false)")
        with c.transaction():
            c.execute("set local role service_role")
            c.execute("select nextval('public.usage_events_id_seq')")
