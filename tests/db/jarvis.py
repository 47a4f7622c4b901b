"""Helpers for the Jarvis contract tests: apply the committed migrations, act as an API role,
create users, and fingerprint the catalog. Everything runs on a real PostgreSQL server."""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
MIGRATIONS = [
    "001_create_user_plans_table.sql",
    "002_update_conversations_table.sql",
    "003_create_conversation_usage_table.sql",
    "004_create_usage_events_table.sql",
    "005_create_functions_and_triggers.sql",
]

JARVIS_TABLES = ["user_plans", "conversation_usage", "usage_events"]
CATALOG = {"free": 5, "starter": 50, "pro": 500, "business": None}


def migration_sql(name: str) -> str:
    return (GENERATED / name).read_text()


def apply(conn: psycopg.Connection, *names: str) -> None:
    """Run each named generated file as one multi-statement string inside its own transaction
    (what pasting it into the Supabase SQL editor does)."""
    for name in names or MIGRATIONS:
        with conn.transaction():
            conn.execute(migration_sql(name))


# ---------------------------------------------------------------- acting as an API role

@contextmanager
def as_role(conn: psycopg.Connection, role: str, claims: dict | None = None):
    """One transaction in which the session is ``role`` with the given JWT claims (what PostgREST
    does per request). An exception inside rolls the whole transaction back. Nested in an outer
    transaction it is a savepoint, and the role and claims are reset when the block ends."""
    with conn.transaction():
        conn.execute(f'set local role "{role}"')
        conn.execute("select set_config('request.jwt.claims', %s, true)",
                     [json.dumps(claims if claims is not None else {"role": role})])
        yield conn
        conn.execute("reset role")
        conn.execute("select set_config('request.jwt.claims', '', true)")


def as_user(conn: psycopg.Connection, user_id, role: str = "authenticated"):
    """Authenticated as ``user_id`` (auth.uid() returns it)."""
    return as_role(conn, role, {"sub": str(user_id), "role": role})


def as_anon(conn: psycopg.Connection):
    return as_role(conn, "anon", {"role": "anon"})


def as_service(conn: psycopg.Connection):
    return as_role(conn, "service_role", {"role": "service_role"})


# ---------------------------------------------------------------- data

def new_user(conn: psycopg.Connection, email: str | None = None) -> uuid.UUID:
    uid = uuid.uuid4()
    conn.execute("insert into auth.users (id, email) values (%s, %s)",
                 [uid, email or f"{uid.hex[:8]}@jarvis.example"])
    return uid


def new_conversation(conn: psycopg.Connection, user_id) -> uuid.UUID:
    """A conversation with only the columns the contract assumes (a scratch database's conversations
    has no defaults: the spec assumes none)."""
    return conn.execute("insert into public.conversations (id, user_id, created_at, updated_at)"
                        " values (gen_random_uuid(), %s, now(), now()) returning id", [user_id]).fetchone()[0]


# What a real app's conversations typically has beyond the contract's assumptions: its own columns,
# defaults, constraints and policies under its own names. The five files must work on top of it.
APP_CONVERSATIONS = """
alter table public.conversations add column if not exists title text not null default 'New chat';
alter table public.conversations add column if not exists archived boolean not null default false;
alter table public.conversations alter column id set default gen_random_uuid();
alter table public.conversations alter column user_id set not null;
alter table public.conversations alter column created_at set default now();
alter table public.conversations alter column created_at set not null;
alter table public.conversations alter column updated_at set default now();
alter table public.conversations alter column updated_at set not null;
alter table public.conversations drop constraint if exists conversations_user_id_fkey;
alter table public.conversations add constraint conversations_owner_fk foreign key (user_id)
  references auth.users (id) on delete cascade;
create index if not exists conversations_title_idx on public.conversations (title);
create policy "conversations: owners read" on public.conversations for select to authenticated
  using ((select auth.uid()) = user_id);
create policy "conversations: owners start" on public.conversations for insert to authenticated
  with check ((select auth.uid()) = user_id);
create policy "conversations: owners rename" on public.conversations for update to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy "conversations: owners delete" on public.conversations for delete to authenticated
  using ((select auth.uid()) = user_id);
"""


def make_app_conversations(conn: psycopg.Connection) -> None:
    """Turn the scratch database's minimal conversations into a typical app's (see APP_CONVERSATIONS)."""
    with conn.transaction():
        conn.execute(APP_CONVERSATIONS)


def plan(conn: psycopg.Connection, user_id) -> dict | None:
    """The user's plan row as a dict (read as the superuser, so RLS does not hide it)."""
    cur = conn.execute("select * from public.user_plans where user_id = %s", [user_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d.name for d in cur.description], row))


def events(conn: psycopg.Connection, user_id, event_type: str | None = None) -> list[tuple]:
    """(event_type, event_data, conversation_id) of the user's events, oldest first."""
    sql = "select event_type, event_data, conversation_id from public.usage_events where user_id = %s"
    args: list = [user_id]
    if event_type:
        sql += " and event_type = %s"
        args.append(event_type)
    return conn.execute(sql + " order by id", args).fetchall()


def jsonb(value) -> Jsonb:
    return Jsonb(value)


# ---------------------------------------------------------------- catalog fingerprint

# Everything a migration can change in the schemas it touches (public, and auth for the trigger on
# auth.users): relations with their ACLs and RLS flags, columns with types/defaults/identity/
# generation/ACLs, constraints, indexes, policies with their roles, functions with body, config,
# security and ACL, triggers with enabled state, comments, default privileges, schema ACLs.
CATALOG_SNAPSHOT = r"""
with ns as (select oid, nspname from pg_namespace where nspname in ('public', 'auth'))
select md5(string_agg(x, E'\n' order by x)), count(*) from (
  select format('nsp %s acl=%s owner=%s', n.nspname, n.nspacl, n.nspowner::regrole) as x
    from pg_namespace n join ns using (oid)
  union all
  select format('rel %s.%s kind=%s rls=%s/%s acl=%s owner=%s persistence=%s', n.nspname, c.relname, c.relkind,
                c.relrowsecurity, c.relforcerowsecurity, c.relacl, c.relowner::regrole, c.relpersistence)
    from pg_class c join ns n on n.oid = c.relnamespace
  union all
  select format('idx %s', pg_get_indexdef(i.indexrelid))
    from pg_index i join pg_class c on c.oid = i.indexrelid join ns n on n.oid = c.relnamespace
  union all
  select format('col %s.%s type=%s notnull=%s default=%s ident=%s gen=%s acl=%s', a.attrelid::regclass,
                a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                a.attidentity, a.attgenerated, a.attacl)
    from pg_attribute a join pg_class c on c.oid = a.attrelid join ns n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attnum > 0 and not a.attisdropped
  union all
  select format('con %s %s %s valid=%s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
    from pg_constraint where connamespace in (select oid from ns)
  union all
  select format('pol %s %s cmd=%s permissive=%s roles=%s using=%s check=%s', polrelid::regclass, polname,
                polcmd, polpermissive, (select array_agg(r::regrole::text order by r::regrole::text)
                                          from unnest(polroles) r),
                pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid))
    from pg_policy
  union all
  select format('fn %s def=%s acl=%s', p.oid::regprocedure, pg_get_functiondef(p.oid), p.proacl)
    from pg_proc p where p.pronamespace in (select oid from ns)
  union all
  select format('trg %s enabled=%s', pg_get_triggerdef(t.oid), t.tgenabled)
    from pg_trigger t where not t.tgisinternal
  union all
  select format('cmt %s %s %s %s', d.classoid::regclass, d.objoid, d.objsubid, d.description)
    from pg_description d where d.objoid >= 16384
  union all
  select format('defacl %s %s %s %s', d.defaclrole::regrole, d.defaclnamespace, d.defaclobjtype, d.defaclacl)
    from pg_default_acl d
  union all
  select format('seq %s %s %s %s %s', s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqcycle)
    from pg_sequence s
) s
"""

DATA_SNAPSHOT = r"""
select md5(coalesce((select string_agg(t::text, E'\n' order by t::text) from public.user_plans t), '') || '|' ||
           coalesce((select string_agg(t::text, E'\n' order by t::text) from public.conversations t), '') || '|' ||
           coalesce((select string_agg(t::text, E'\n' order by t::text) from public.conversation_usage t), '') || '|' ||
           coalesce((select string_agg(t::text, E'\n' order by t::text) from public.usage_events t), '') || '|' ||
           coalesce((select string_agg(t::text, E'\n' order by t::text) from auth.users t), ''))
"""


def catalog_snapshot(conn: psycopg.Connection) -> tuple[str, int]:
    return conn.execute(CATALOG_SNAPSHOT).fetchone()


# ---------------------------------------------------------------- test plumbing

@contextmanager
def raises_sqlstate(*codes: str):
    """The block must fail with a database error whose SQLSTATE is one of ``codes``."""
    with pytest.raises(psycopg.Error) as info:
        yield info
    assert info.value.sqlstate in codes, f"expected SQLSTATE {codes}, got {info.value.sqlstate}: {info.value}"


def rpc(conn: psycopg.Connection, fn: str, **kwargs):
    """Call ``public.<fn>`` with named arguments, as supabase.rpc() / PostgREST does."""
    args = ", ".join(f"{k} => %({k})s" for k in kwargs)
    return conn.execute(f"select public.{fn}({args})", kwargs).fetchone()[0]


def data_snapshot(conn: psycopg.Connection) -> str:
    return conn.execute(DATA_SNAPSHOT).fetchone()[0]


@pytest.fixture
def jdb(db_conn):
    """Autocommit superuser connection to a fresh database with the assumed objects and the five
    committed migrations (generated/001..005) applied in order."""
    apply(db_conn)
    return db_conn
