"""Contract: row level security and table privileges, exercised as the API roles (SET LOCAL ROLE +
request.jwt.claims). A user reads only their own rows, can never write their plan or usage, anon
gets nothing, service_role writes everything."""
from __future__ import annotations

import re
from types import SimpleNamespace

import psycopg
import pytest

from jarvis import (JARVIS_TABLES, as_anon, as_role, as_service, as_user, jdb, make_app_conversations,  # noqa: F401
                    new_conversation, new_user, plan, raises_sqlstate)


@pytest.fixture
def two_users(jdb):
    """Ann and Bob, each with a plan row (from the auth trigger), a conversation, a usage row and an event."""
    c = jdb
    make_app_conversations(c)  # the app's own policies on conversations (the spec assumes none)
    ns = SimpleNamespace(conn=c)
    for name in ("ann", "bob"):
        user = new_user(c)
        conv = new_conversation(c, user)
        c.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                  " values (%s, %s, 'openai', now())", [conv, user])
        c.execute("insert into public.usage_events (user_id, event_type, conversation_id)"
                  " values (%s, 'conversation_start', %s)", [user, conv])
        setattr(ns, name, user)
        setattr(ns, f"{name}_conv", conv)
    return ns


def _visible_owners(conn, table):
    return [r[0] for r in conn.execute(f"select user_id from public.{table}")]


@pytest.mark.parametrize("table", JARVIS_TABLES + ["conversations"])
def test_each_user_sees_only_their_own_rows(two_users, table):
    c = two_users.conn
    for me in (two_users.ann, two_users.bob):
        with as_user(c, me):
            assert _visible_owners(c, table) == [me]


@pytest.mark.parametrize("table", JARVIS_TABLES)
def test_a_user_cannot_read_another_users_row_even_by_asking_for_it(two_users, table):
    c = two_users.conn
    with as_user(c, two_users.ann):
        assert c.execute(f"select count(*) from public.{table} where user_id = %s",
                         [two_users.bob]).fetchone()[0] == 0


@pytest.mark.parametrize("table", JARVIS_TABLES)
def test_authenticated_without_a_user_id_sees_nothing(two_users, table):
    c = two_users.conn
    with as_role(c, "authenticated", {"role": "authenticated"}):
        assert _visible_owners(c, table) == []


@pytest.mark.parametrize("table", JARVIS_TABLES)
@pytest.mark.parametrize("statement", [
    "select * from public.{t}",
    "insert into public.{t} (user_id) values ('{u}')",
    "update public.{t} set user_id = user_id",
    "delete from public.{t}",
], ids=["select", "insert", "update", "delete"])
def test_anon_is_denied_on_the_jarvis_tables(two_users, table, statement):
    c = two_users.conn
    with raises_sqlstate("42501"):
        with as_anon(c):
            c.execute(statement.format(t=table, u=two_users.ann))


def test_anon_sees_no_conversations(two_users):
    c = two_users.conn
    with as_anon(c):
        assert c.execute("select count(*) from public.conversations").fetchone()[0] == 0


def _attempt(conn, user, sql, args=()):
    """Run ``sql`` as ``user``; "denied" if refused with 42501, else the number of rows it changed."""
    try:
        with as_user(conn, user):
            return conn.execute(sql, args).rowcount
    except psycopg.errors.InsufficientPrivilege:
        return "denied"


PLAN_TAMPERING = {
    "raise limit": "update public.user_plans set conversations_limit = 100000 where user_id = %(me)s",
    "unlimited": "update public.user_plans set conversations_limit = null where user_id = %(me)s",
    "reset counter": "update public.user_plans set conversations_used = 0 where user_id = %(me)s",
    "upgrade plan": "update public.user_plans set plan_type = 'business', conversations_limit = null"
                    " where user_id = %(me)s",
    "move period": "update public.user_plans set usage_period_start = now() + interval '1 year' where user_id = %(me)s",
    "fake subscription": "update public.user_plans set subscription_status = 'active' where user_id = %(me)s",
    "delete own plan": "delete from public.user_plans where user_id = %(me)s",
    "upsert own plan": "insert into public.user_plans (user_id, plan_type, conversations_limit)"
                       " values (%(me)s, 'business', null)"
                       " on conflict (user_id) do update set plan_type = 'business', conversations_limit = null",
    "reset other's counter": "update public.user_plans set conversations_used = 0 where user_id = %(other)s",
    "truncate": "truncate public.user_plans",
}


@pytest.mark.parametrize("sql", list(PLAN_TAMPERING.values()), ids=list(PLAN_TAMPERING))
def test_a_user_cannot_raise_their_limit_reset_their_counter_or_touch_any_plan(two_users, sql):
    c = two_users.conn
    c.execute("update public.user_plans set conversations_used = 5 where user_id in (%s, %s)",
              [two_users.ann, two_users.bob])
    before = (plan(c, two_users.ann), plan(c, two_users.bob))
    outcome = _attempt(c, two_users.ann, sql, {"me": two_users.ann, "other": two_users.bob})
    assert outcome in ("denied", 0)
    assert (plan(c, two_users.ann), plan(c, two_users.bob)) == before


def test_a_user_without_a_plan_row_cannot_create_one(two_users):
    c = two_users.conn
    c.execute("delete from public.user_plans where user_id = %s", [two_users.ann])
    outcome = _attempt(c, two_users.ann, "insert into public.user_plans (user_id, plan_type, conversations_limit)"
                                         " values (%s, 'business', null)", [two_users.ann])
    assert outcome in ("denied", 0)
    assert plan(c, two_users.ann) is None


USAGE_TAMPERING = {
    "insert event": "insert into public.usage_events (user_id, event_type) values (%(me)s, 'usage_reset')",
    "update event": "update public.usage_events set event_type = 'conversation_end' where user_id = %(me)s",
    "delete events": "delete from public.usage_events where user_id = %(me)s",
    "truncate events": "truncate public.usage_events",
    "insert usage": "insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                    " values (%(conv)s, %(me)s, 'openai', now())",
    "zero usage cost": "update public.conversation_usage set cost_cents = 0, prompt_tokens = 0 where user_id = %(me)s",
    "delete usage": "delete from public.conversation_usage where user_id = %(me)s",
    "truncate usage": "truncate public.conversation_usage",
}


@pytest.mark.parametrize("sql", list(USAGE_TAMPERING.values()), ids=list(USAGE_TAMPERING))
def test_a_user_cannot_write_their_usage_or_events(two_users, sql):
    c = two_users.conn
    snapshot = "select (select json_agg(e order by id) from public.usage_events e)::text," \
               " (select json_agg(u order by id) from public.conversation_usage u)::text"
    before = c.execute(snapshot).fetchone()
    outcome = _attempt(c, two_users.ann, sql, {"me": two_users.ann, "conv": two_users.ann_conv})
    assert outcome in ("denied", 0)
    assert c.execute(snapshot).fetchone() == before


def test_service_role_reads_and_writes_every_row(two_users):
    c = two_users.conn
    newcomer = new_user(c)
    c.execute("delete from public.user_plans where user_id = %s", [newcomer])
    with as_service(c):
        for table in JARVIS_TABLES:
            assert sorted(map(str, _visible_owners(c, table))) == sorted(map(str, [two_users.ann, two_users.bob]))
        c.execute("insert into public.user_plans (user_id, plan_type, conversations_limit) values (%s, 'pro', 500)",
                  [newcomer])
        assert c.execute("update public.user_plans set conversations_used = 0, stripe_customer_id = 'cus_ann',"
                         " subscription_status = 'active' where user_id = %s", [two_users.ann]).rowcount == 1
        c.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at,"
                  " prompt_tokens) values (%s, %s, 'openai', now(), 10)", [two_users.bob_conv, two_users.bob])
        new_event = c.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')"
                              " returning id", [two_users.bob]).fetchone()[0]
        assert c.execute("update public.usage_events set event_data = '{\"fixed\": true}' where id = %s",
                         [new_event]).rowcount == 1
        assert c.execute("delete from public.conversation_usage where user_id = %s", [two_users.ann]).rowcount == 1
        assert c.execute("delete from public.user_plans where user_id = %s", [two_users.bob]).rowcount == 1
    assert plan(c, newcomer)["plan_type"] == "pro"
    assert plan(c, two_users.ann)["stripe_customer_id"] == "cus_ann"
    assert plan(c, two_users.bob) is None
    assert c.execute("select event_data from public.usage_events where id = %s", [new_event]).fetchone()[0] == {"fixed": True}


def test_a_user_can_record_usage_columns_on_their_own_conversation(two_users):
    """002's columns are usable through the API under the existing conversations policies."""
    c = two_users.conn
    with as_user(c, two_users.ann):
        assert c.execute("update public.conversations set duration_seconds = 30, estimated_tokens = 400,"
                         " cost_cents = 0.5, usage_metadata = '{\"model\": \"gpt-4o\"}'").rowcount == 1
        assert c.execute("update public.conversations set cost_cents = 0 where id = %s",
                         [two_users.bob_conv]).rowcount == 0
    assert c.execute("select cost_cents::text, usage_metadata from public.conversations where id = %s",
                     [two_users.ann_conv]).fetchone() == ("0.5000", {"model": "gpt-4o"})
    assert c.execute("select cost_cents from public.conversations where id = %s",
                     [two_users.bob_conv]).fetchone()[0] is None


# ---------------------------------------------------------------- the policies themselves

@pytest.mark.parametrize("table", JARVIS_TABLES)
def test_rls_is_on_and_the_only_policy_is_select_own_rows_for_authenticated(jdb, table):
    rls, force = jdb.execute("select relrowsecurity, relforcerowsecurity from pg_class where oid = %s::regclass",
                             [f"public.{table}"]).fetchone()
    assert rls is True
    policies = jdb.execute("select cmd, roles::text[], permissive, qual, with_check from pg_policies"
                           " where schemaname = 'public' and tablename = %s", [table]).fetchall()
    assert len(policies) == 1, policies
    cmd, roles, permissive, qual, with_check = policies[0]
    assert (cmd, roles, permissive, with_check) == ("SELECT", ["authenticated"], "PERMISSIVE", None)
    assert "( SELECT auth.uid() AS uid)" in qual, qual
    assert "user_id" in qual
    assert "auth.uid()" not in qual.replace("( SELECT auth.uid() AS uid)", ""), f"bare auth.uid() in {qual}"


def test_no_policy_in_public_uses_a_bare_auth_uid(jdb):
    rows = jdb.execute("select tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '')"
                       " from pg_policies where schemaname = 'public'").fetchall()
    assert rows
    bare = [(t, p) for t, p, expr in rows
            if re.search(r"auth\.uid\(\)", expr.replace("( SELECT auth.uid() AS uid)", ""))]
    assert bare == []
