"""Contract: the functions and triggers of 005, called the way the app calls them (named arguments,
as an API role), including the caller rule, the grants and a real concurrency race."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from jarvis import (CATALOG, apply, as_anon, as_role, as_service, as_user, data_snapshot, events, jdb,  # noqa: F401
                    jsonb, make_app_conversations, new_conversation, new_user, plan, raises_sqlstate, rpc)

CALLER_RULE_FUNCTIONS = ["check_conversation_limit", "consume_conversation", "log_usage_event"]
SIGNATURES = {
    "check_conversation_limit": "public.check_conversation_limit(uuid)",
    "consume_conversation": "public.consume_conversation(uuid)",
    "log_usage_event": "public.log_usage_event(uuid,text,jsonb,uuid)",
    "reset_monthly_usage": "public.reset_monthly_usage()",
    "set_user_plan": "public.set_user_plan(uuid,text)",
    "handle_new_user": "public.handle_new_user()",
    "update_updated_at_column": "public.update_updated_at_column()",
}


def _args(fn, user):
    return {"p_user_id": user, **({"p_event_type": "conversation_end"} if fn == "log_usage_event" else {})}


def state(**kw):
    """The usage object that check_conversation_limit / consume_conversation return."""
    return {"allowed": kw["allowed"], "plan_type": kw["plan_type"], "used": kw["used"], "limit": kw["limit"],
            "remaining": kw["remaining"]}


def set_usage(conn, user, used, plan_type=None):
    if plan_type:
        conn.execute("update public.user_plans set plan_type = %s, conversations_limit = %s where user_id = %s",
                     [plan_type, CATALOG[plan_type], user])
    conn.execute("update public.user_plans set conversations_used = %s where user_id = %s", [used, user])


def user_without_plan(conn):
    user = new_user(conn)
    conn.execute("delete from public.user_plans where user_id = %s", [user])
    return user


# ---------------------------------------------------------------- declarations and grants

def test_signatures_and_return_types_are_the_public_api(jdb):
    expected = {
        "check_conversation_limit": ("p_user_id uuid", "jsonb"),
        "consume_conversation": ("p_user_id uuid", "jsonb"),
        "log_usage_event": ("p_user_id uuid, p_event_type text, p_event_data jsonb DEFAULT '{}'::jsonb, "
                            "p_conversation_id uuid DEFAULT NULL::uuid", "bigint"),
        "reset_monthly_usage": ("", "integer"),
        "set_user_plan": ("p_user_id uuid, p_plan_type text", "void"),
        "handle_new_user": ("", "trigger"),
        "update_updated_at_column": ("", "trigger"),
    }
    for fn, (args, result) in expected.items():
        got = jdb.execute("select pg_get_function_arguments(%s::regprocedure), pg_get_function_result(%s::regprocedure)",
                          [SIGNATURES[fn]] * 2).fetchone()
        assert got == (args, result), fn
    assert jdb.execute("select provolatile from pg_proc where oid = 'public.check_conversation_limit(uuid)'::regprocedure"
                       ).fetchone()[0] == "s"


EXECUTE = {  # who may EXECUTE; None = the contract does not say
    "check_conversation_limit": {"anon": False, "authenticated": True, "service_role": True},
    "consume_conversation": {"anon": False, "authenticated": True, "service_role": True},
    "log_usage_event": {"anon": False, "authenticated": True, "service_role": True},
    "reset_monthly_usage": {"anon": False, "authenticated": False, "service_role": True},
    "set_user_plan": {"anon": False, "authenticated": False, "service_role": True},
    "handle_new_user": {"anon": False, "authenticated": None, "service_role": None},
    "update_updated_at_column": {"anon": False, "authenticated": None, "service_role": None},
}

PUBLIC_CAN_EXECUTE = """
select exists (select 1 from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                where p.oid = %s::regprocedure and a.grantee = 0 and a.privilege_type = 'EXECUTE')
"""


@pytest.mark.parametrize("fn", EXECUTE)
def test_execute_grants(jdb, fn):
    for role, allowed in EXECUTE[fn].items():
        if allowed is None:
            continue
        assert jdb.execute("select has_function_privilege(%s, %s, 'EXECUTE')", [role, SIGNATURES[fn]]).fetchone()[0] \
            is allowed, f"{role} on {fn}"
    assert jdb.execute(PUBLIC_CAN_EXECUTE, [SIGNATURES[fn]]).fetchone()[0] is False, f"PUBLIC on {fn}"


def test_no_function_in_public_is_executable_by_public_or_anon(jdb):
    rows = jdb.execute(
        "select p.oid::regprocedure::text, has_function_privilege('anon', p.oid, 'EXECUTE'),"
        " exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a"
        "          where a.grantee = 0 and a.privilege_type = 'EXECUTE')"
        " from pg_proc p where p.pronamespace = 'public'::regnamespace").fetchall()
    assert {r[0] for r in rows} >= {s.removeprefix("public.") for s in SIGNATURES.values()}
    assert [r[0] for r in rows if r[1] or r[2]] == []


def test_security_definer_functions_pin_an_empty_search_path(jdb):
    rows = {r[0]: (r[1], r[2]) for r in jdb.execute(
        "select proname, prosecdef, coalesce(proconfig, '{}') from pg_proc where pronamespace = 'public'::regnamespace")}
    for fn in ("check_conversation_limit", "consume_conversation", "log_usage_event", "reset_monthly_usage",
               "set_user_plan", "handle_new_user"):
        secdef, config = rows[fn]
        assert secdef is True, f"{fn} is not SECURITY DEFINER"
        assert 'search_path=""' in config, f"{fn}: {config}"
    unpinned = [fn for fn, (secdef, config) in rows.items() if secdef and 'search_path=""' not in config]
    assert unpinned == []


# ---------------------------------------------------------------- the caller rule, for every function that has it

@pytest.mark.parametrize("fn", CALLER_RULE_FUNCTIONS)
def test_caller_rule_allows_service_role_and_the_user_themself(jdb, fn):
    ann = new_user(jdb)
    with as_service(jdb):
        assert rpc(jdb, fn, **_args(fn, ann)) is not None
    with as_user(jdb, ann):
        assert rpc(jdb, fn, **_args(fn, ann)) is not None


@pytest.mark.parametrize("fn", CALLER_RULE_FUNCTIONS)
@pytest.mark.parametrize("caller", ["other user", "anon", "authenticated without sub", "other user with no plan"])
def test_caller_rule_refuses_everyone_else_with_42501_and_changes_nothing(jdb, fn, caller):
    ann, bob = new_user(jdb), new_user(jdb)
    if caller == "other user with no plan":
        jdb.execute("delete from public.user_plans where user_id = %s", [ann])
    before = data_snapshot(jdb)
    session = {
        "other user": lambda: as_user(jdb, bob),
        "other user with no plan": lambda: as_user(jdb, bob),
        "anon": lambda: as_anon(jdb),
        "authenticated without sub": lambda: as_role(jdb, "authenticated", {"role": "authenticated"}),
    }[caller]
    with raises_sqlstate("42501"):
        with session():
            rpc(jdb, fn, **_args(fn, ann))
    assert data_snapshot(jdb) == before


# ---------------------------------------------------------------- check_conversation_limit

def test_check_without_a_plan_row_counts_as_free_and_creates_nothing(jdb):
    ann = user_without_plan(jdb)
    before = data_snapshot(jdb)
    for session in (as_user(jdb, ann), as_service(jdb)):
        with session:
            assert rpc(jdb, "check_conversation_limit", p_user_id=ann) == \
                state(allowed=True, plan_type="free", used=0, limit=5, remaining=5)
    assert plan(jdb, ann) is None
    assert data_snapshot(jdb) == before


@pytest.mark.parametrize("plan_type,used,expected", [
    ("free", 2, state(allowed=True, plan_type="free", used=2, limit=5, remaining=3)),
    ("free", 4, state(allowed=True, plan_type="free", used=4, limit=5, remaining=1)),
    ("free", 5, state(allowed=False, plan_type="free", used=5, limit=5, remaining=0)),
    ("free", 30, state(allowed=False, plan_type="free", used=30, limit=5, remaining=0)),  # after a downgrade
    ("pro", 499, state(allowed=True, plan_type="pro", used=499, limit=500, remaining=1)),
    ("business", 0, state(allowed=True, plan_type="business", used=0, limit=None, remaining=None)),
    ("business", 100000, state(allowed=True, plan_type="business", used=100000, limit=None, remaining=None)),
])
def test_check_reports_the_plan_and_changes_nothing(jdb, plan_type, used, expected):
    ann = new_user(jdb)
    set_usage(jdb, ann, used, plan_type)
    before = data_snapshot(jdb)
    with as_user(jdb, ann):
        assert rpc(jdb, "check_conversation_limit", p_user_id=ann) == expected
    assert data_snapshot(jdb) == before


# ---------------------------------------------------------------- consume_conversation

def test_consume_creates_the_free_plan_row_when_missing(jdb):
    ann = user_without_plan(jdb)
    with as_user(jdb, ann):
        assert rpc(jdb, "consume_conversation", p_user_id=ann) == \
            state(allowed=True, plan_type="free", used=1, limit=5, remaining=4)
    row = plan(jdb, ann)
    assert (row["plan_type"], row["conversations_limit"], row["conversations_used"]) == ("free", 5, 1)
    assert [e[0] for e in events(jdb, ann)] == ["conversation_start"]


def test_consume_counts_one_by_one_up_to_the_limit_then_refuses_without_counting(jdb):
    ann = new_user(jdb)
    for used in range(1, 6):
        with as_user(jdb, ann):
            assert rpc(jdb, "consume_conversation", p_user_id=ann) == \
                state(allowed=True, plan_type="free", used=used, limit=5, remaining=5 - used)
        assert plan(jdb, ann)["conversations_used"] == used
    for _ in range(2):
        with as_user(jdb, ann):
            assert rpc(jdb, "consume_conversation", p_user_id=ann) == \
                state(allowed=False, plan_type="free", used=5, limit=5, remaining=0)
        assert plan(jdb, ann)["conversations_used"] == 5
    assert [e[0] for e in events(jdb, ann)] == ["conversation_start"] * 5 + ["limit_reached"] * 2


def test_consume_on_an_unlimited_plan_always_succeeds(jdb):
    ann = new_user(jdb)
    set_usage(jdb, ann, 10000, "business")
    with as_service(jdb):
        assert rpc(jdb, "consume_conversation", p_user_id=ann) == \
            state(allowed=True, plan_type="business", used=10001, limit=None, remaining=None)
    assert plan(jdb, ann)["conversations_used"] == 10001
    assert [e[0] for e in events(jdb, ann)] == ["conversation_start"]


def test_consume_after_check_agree(jdb):
    ann = new_user(jdb)
    set_usage(jdb, ann, 3)
    with as_user(jdb, ann):
        after = rpc(jdb, "consume_conversation", p_user_id=ann)
        assert rpc(jdb, "check_conversation_limit", p_user_id=ann) == after


def _race(url, user, n, hold=0.03):
    """n callers, each on its own connection and in its own transaction as the user, released together
    by a barrier; each holds its transaction open a moment so that they overlap."""
    barrier = threading.Barrier(n)

    def caller(_):
        with psycopg.connect(url, autocommit=True) as conn:
            with as_user(conn, user):
                barrier.wait(timeout=30)
                result = rpc(conn, "consume_conversation", p_user_id=user)
                time.sleep(hold)
            return result

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(caller, range(n)))


@pytest.mark.parametrize("plan_type,used,n", [("starter", 43, 20), (None, 0, 20)],
                         ids=["starter-7-left-20-callers", "no-plan-row-5-left-20-callers"])
def test_concurrent_consumes_succeed_exactly_as_often_as_conversations_are_left(db, db_conn, plan_type, used, n):
    apply(db_conn)
    ann = new_user(db_conn)
    if plan_type:
        set_usage(db_conn, ann, used, plan_type)
        limit = CATALOG[plan_type]
    else:
        db_conn.execute("delete from public.user_plans where user_id = %s", [ann])
        limit = 5
    left = limit - used

    results = _race(db, ann, n)

    allowed = [r for r in results if r["allowed"]]
    assert len(allowed) == min(n, left)
    assert sorted(r["used"] for r in allowed) == list(range(used + 1, used + 1 + min(n, left)))
    assert all(r["used"] == limit and r["remaining"] == 0 for r in results if not r["allowed"])
    assert plan(db_conn, ann)["conversations_used"] == limit
    kinds = [e[0] for e in events(db_conn, ann)]
    assert kinds.count("conversation_start") == min(n, left)
    assert kinds.count("limit_reached") == n - min(n, left)


# ---------------------------------------------------------------- log_usage_event

def test_log_usage_event_returns_the_new_id_with_defaults(jdb):
    ann = new_user(jdb)
    with as_user(jdb, ann):
        first = rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_end")
    with as_service(jdb):
        second = rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="limit_warning")
    with as_user(jdb, ann):
        # the user reads their own events back through RLS
        mine = jdb.execute("select id, event_type, event_data, conversation_id from public.usage_events"
                           " order by id").fetchall()
    assert isinstance(first, int) and second > first
    assert mine == [(first, "conversation_end", {}, None), (second, "limit_warning", {}, None)]


def test_log_usage_event_stores_data_and_conversation(jdb):
    ann = new_user(jdb)
    conv = new_conversation(jdb, ann)
    with as_service(jdb):
        new_id = rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_end",
                     p_event_data=jsonb({"duration_seconds": 95, "tokens": 1200}), p_conversation_id=conv)
    assert jdb.execute("select user_id, event_type, event_data, conversation_id from public.usage_events where id = %s",
                       [new_id]).fetchone() == (ann, "conversation_end", {"duration_seconds": 95, "tokens": 1200}, conv)


@pytest.mark.parametrize("event_type", ["conversation_start", "conversation_end", "limit_reached", "limit_warning",
                                        "plan_changed", "usage_reset"])
def test_log_usage_event_accepts_every_contract_event_type(jdb, event_type):
    ann = new_user(jdb)
    with as_service(jdb):
        new_id = rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type=event_type)
    assert jdb.execute("select event_type from public.usage_events where id = %s", [new_id]).fetchone()[0] == event_type


@pytest.mark.parametrize("event_type", ["conversation_paused", "CONVERSATION_START", ""])
def test_log_usage_event_rejects_an_unknown_event_type(jdb, event_type):
    ann = new_user(jdb)
    with raises_sqlstate("23514", "22023"):
        with as_user(jdb, ann):
            rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type=event_type)
    assert events(jdb, ann) == []


# ---------------------------------------------------------------- reset_monthly_usage

def test_reset_monthly_usage_resets_last_months_plans_once(jdb):
    c = jdb
    last_month, long_ago, zero_last_month, this_month, unlimited_old = (new_user(c) for _ in range(5))
    c.execute("update public.user_plans set conversations_used = 4,"
              " usage_period_start = date_trunc('month', now(), 'UTC') - interval '1 month' where user_id = %s", [last_month])
    c.execute("update public.user_plans set conversations_used = 2,"
              " usage_period_start = date_trunc('month', now(), 'UTC') - interval '3 months' where user_id = %s", [long_ago])
    c.execute("update public.user_plans set conversations_used = 0,"
              " usage_period_start = date_trunc('month', now(), 'UTC') - interval '1 second' where user_id = %s",
              [zero_last_month])
    c.execute("update public.user_plans set conversations_used = 3 where user_id = %s", [this_month])
    set_usage(c, unlimited_old, 77, "business")
    c.execute("update public.user_plans set usage_period_start = date_trunc('month', now(), 'UTC') - interval '1 month'"
              " where user_id = %s", [unlimited_old])
    untouched = plan(c, this_month)

    with c.transaction():
        with as_service(c):
            assert rpc(c, "reset_monthly_usage") == 4
        month_start = c.execute("select date_trunc('month', now(), 'UTC')").fetchone()[0]

    for user, previous in ((last_month, 4), (long_ago, 2), (zero_last_month, 0), (unlimited_old, 77)):
        row = plan(c, user)
        assert (row["conversations_used"], row["usage_period_start"]) == (0, month_start)
        assert [(e[0], e[1].get("previous_used")) for e in events(c, user, "usage_reset")] == [("usage_reset", previous)]
    assert plan(c, this_month) == untouched
    assert events(c, this_month, "usage_reset") == []

    before = data_snapshot(c)
    with as_service(c):
        assert rpc(c, "reset_monthly_usage") == 0
    assert data_snapshot(c) == before


@pytest.mark.parametrize("who", ["authenticated", "anon"])
def test_reset_monthly_usage_is_service_role_only(jdb, who):
    ann = new_user(jdb)
    jdb.execute("update public.user_plans set conversations_used = 5,"
                " usage_period_start = date_trunc('month', now(), 'UTC') - interval '1 month' where user_id = %s", [ann])
    before = data_snapshot(jdb)
    with raises_sqlstate("42501"):
        with (as_user(jdb, ann) if who == "authenticated" else as_anon(jdb)):
            rpc(jdb, "reset_monthly_usage")
    assert data_snapshot(jdb) == before


# ---------------------------------------------------------------- set_user_plan

@pytest.mark.parametrize("new_plan", list(CATALOG))
def test_set_user_plan_applies_the_catalog_limit_keeps_usage_and_logs_the_change(jdb, new_plan):
    ann = new_user(jdb)
    set_usage(jdb, ann, 4, "starter")
    with as_service(jdb):
        rpc(jdb, "set_user_plan", p_user_id=ann, p_plan_type=new_plan)
    row = plan(jdb, ann)
    assert (row["plan_type"], row["conversations_limit"], row["conversations_used"]) == (new_plan, CATALOG[new_plan], 4)
    assert events(jdb, ann, "plan_changed") == [("plan_changed", {"from": "starter", "to": new_plan}, None)]


def test_set_user_plan_creates_the_row_for_a_user_without_one(jdb):
    ann = user_without_plan(jdb)
    with as_service(jdb):
        rpc(jdb, "set_user_plan", p_user_id=ann, p_plan_type="pro")
    row = plan(jdb, ann)
    assert (row["plan_type"], row["conversations_limit"], row["conversations_used"]) == ("pro", 500, 0)
    (kind, data, _), = events(jdb, ann)
    assert kind == "plan_changed" and data.get("from") is None and data["to"] == "pro"


def test_downgrading_below_current_usage_blocks_new_conversations(jdb):
    ann = new_user(jdb)
    set_usage(jdb, ann, 30, "pro")
    with as_service(jdb):
        rpc(jdb, "set_user_plan", p_user_id=ann, p_plan_type="free")
    with as_user(jdb, ann):
        assert rpc(jdb, "consume_conversation", p_user_id=ann) == \
            state(allowed=False, plan_type="free", used=30, limit=5, remaining=0)


@pytest.mark.parametrize("bad", ["gold", "Pro", ""])
def test_set_user_plan_rejects_an_unknown_plan_and_changes_nothing(jdb, bad):
    ann = new_user(jdb)
    before = data_snapshot(jdb)
    with raises_sqlstate("22023", "23514"):
        with as_service(jdb):
            rpc(jdb, "set_user_plan", p_user_id=ann, p_plan_type=bad)
    assert data_snapshot(jdb) == before


@pytest.mark.parametrize("who", ["authenticated for itself", "anon"])
def test_set_user_plan_is_service_role_only(jdb, who):
    ann = new_user(jdb)
    before = data_snapshot(jdb)
    with raises_sqlstate("42501"):
        with (as_user(jdb, ann) if who != "anon" else as_anon(jdb)):
            rpc(jdb, "set_user_plan", p_user_id=ann, p_plan_type="business")
    assert data_snapshot(jdb) == before


# ---------------------------------------------------------------- handle_new_user

def test_signing_up_creates_a_free_plan_row_for_each_new_user(jdb):
    ids = [uuid.uuid4() for _ in range(3)]
    jdb.execute("insert into auth.users (id, email) select unnest(%s::uuid[]), null", [ids])
    rows = jdb.execute("select user_id, plan_type, conversations_limit, conversations_used from public.user_plans"
                       " where user_id = any(%s)", [ids]).fetchall()
    assert sorted(rows) == sorted((i, "free", 5, 0) for i in ids)


def test_the_trigger_is_after_insert_for_each_row_on_auth_users(jdb):
    defs = [r[0] for r in jdb.execute("select pg_get_triggerdef(oid) from pg_trigger"
                                      " where tgrelid = 'auth.users'::regclass and not tgisinternal")]
    assert ("CREATE TRIGGER on_auth_user_created_create_plan AFTER INSERT ON auth.users FOR EACH ROW"
            " EXECUTE FUNCTION handle_new_user()") in defs


def test_handle_new_user_for_a_user_who_already_has_a_plan_is_a_no_op(jdb):
    ann = new_user(jdb)
    set_usage(jdb, ann, 42, "pro")
    before = plan(jdb, ann)
    # fire the same trigger function again for ann, through a throwaway table
    with jdb.transaction():
        jdb.execute("create temp table signup_replay (id uuid) on commit drop")
        jdb.execute("create trigger replay after insert on signup_replay for each row"
                    " execute function public.handle_new_user()")
        jdb.execute("insert into signup_replay values (%s)", [ann])
    assert plan(jdb, ann) == before


def test_sign_up_works_for_an_auth_service_role_without_rights_on_user_plans(jdb):
    """GoTrue inserts into auth.users as its own role (supabase_auth_admin), which has no privileges on
    public.user_plans: the trigger must still create the plan."""
    role = f"auth_admin_{uuid.uuid4().hex[:8]}"
    user = uuid.uuid4()
    with jdb.transaction(force_rollback=True):
        jdb.execute(f"create role {role} nologin")
        jdb.execute(f"grant usage on schema auth to {role}")
        jdb.execute(f"grant insert on auth.users to {role}")
        jdb.execute(f"set local role {role}")
        jdb.execute("insert into auth.users (id, email) values (%s, 'new@jarvis.example')", [user])
        jdb.execute("reset role")
        assert jdb.execute("select has_table_privilege(%s, 'public.user_plans', 'INSERT')", [role]).fetchone()[0] is False
        assert jdb.execute("select plan_type, conversations_limit from public.user_plans where user_id = %s",
                           [user]).fetchone() == ("free", 5)


# ---------------------------------------------------------------- updated_at triggers

def _age(conn, table, key_col, key):
    """Put updated_at in the past without the trigger (which would overwrite it)."""
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute(f"update public.{table} set updated_at = '2001-02-03 04:05:06+00' where {key_col} = %s", [key])
    assert conn.execute(f"select updated_at = '2001-02-03 04:05:06+00' from public.{table} where {key_col} = %s",
                        [key]).fetchone()[0]


def test_updating_a_plan_moves_updated_at_to_now(jdb):
    ann = new_user(jdb)
    created = plan(jdb, ann)["created_at"]
    _age(jdb, "user_plans", "user_id", ann)
    with jdb.transaction():
        jdb.execute("update public.user_plans set conversations_used = 1 where user_id = %s", [ann])
        now = jdb.execute("select now()").fetchone()[0]
    row = plan(jdb, ann)
    assert (row["updated_at"], row["created_at"]) == (now, created)
    # an explicit stale value does not win over the trigger either
    with jdb.transaction():
        jdb.execute("update public.user_plans set updated_at = '1999-01-01', conversations_used = 2 where user_id = %s",
                    [ann])
        now = jdb.execute("select now()").fetchone()[0]
    assert plan(jdb, ann)["updated_at"] == now


def test_consume_conversation_moves_the_plans_updated_at(jdb):
    ann = new_user(jdb)
    _age(jdb, "user_plans", "user_id", ann)
    with jdb.transaction():
        with as_user(jdb, ann):
            rpc(jdb, "consume_conversation", p_user_id=ann)
        now = jdb.execute("select now()").fetchone()[0]
    assert plan(jdb, ann)["updated_at"] == now


def test_a_user_updating_their_conversation_moves_updated_at(jdb):
    make_app_conversations(jdb)  # the app's own update policy and title column
    ann = new_user(jdb)
    conv = new_conversation(jdb, ann)
    created = jdb.execute("select created_at from public.conversations where id = %s", [conv]).fetchone()[0]
    _age(jdb, "conversations", "id", conv)
    with jdb.transaction():
        with as_user(jdb, ann):
            assert jdb.execute("update public.conversations set title = 'renamed' where id = %s", [conv]).rowcount == 1
        now = jdb.execute("select now()").fetchone()[0]
    assert jdb.execute("select updated_at, created_at from public.conversations where id = %s",
                       [conv]).fetchone() == (now, created)
