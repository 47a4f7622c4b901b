"""Contract v2 (docs/jarvis-contract.md): admin sessions pass the caller rule, months are UTC months
whatever the session's TimeZone, users cannot forge billing events, 005 backfills free plans, and
the five files work on an app's own conversations table (its columns, defaults and policies)."""
from __future__ import annotations

import uuid

import pytest

from jarvis import (MIGRATIONS, apply, as_role, as_service, as_user, catalog_snapshot, data_snapshot,  # noqa: F401
                    events, jdb, make_app_conversations, new_conversation, new_user, plan, raises_sqlstate, rpc)

SERVER_EVENTS = ["conversation_start", "limit_reached", "limit_warning", "plan_changed", "usage_reset"]


# ---------------------------------------------------------------- admin sessions (SQL editor, pg_cron)

def test_the_readme_testing_calls_work_from_the_sql_editor_with_a_real_user_id(jdb):
    """The SQL editor runs as postgres with no API role set: the calls work as written, unqualified."""
    ann = new_user(jdb)
    assert jdb.execute(f"select check_conversation_limit('{ann}')").fetchone()[0] == \
        {"allowed": True, "plan_type": "free", "used": 0, "limit": 5, "remaining": 5}
    event_id = jdb.execute(f"select log_usage_event('{ann}', 'conversation_start')").fetchone()[0]
    assert isinstance(event_id, int)
    assert jdb.execute("select consume_conversation(%s)", [ann]).fetchone()[0]["used"] == 1
    assert jdb.execute("select reset_monthly_usage()").fetchone()[0] == 0
    assert [e[0] for e in events(jdb, ann)] == ["conversation_start", "conversation_start"]


def test_a_cron_job_running_as_a_non_api_role_acts_for_any_user(jdb):
    """pg_cron runs a job as its owner, with no API role in effect: an admin session, not a superuser."""
    ann = new_user(jdb)
    job_role = f"cron_job_{uuid.uuid4().hex[:8]}"
    with jdb.transaction(force_rollback=True):  # the role is gone afterwards
        jdb.execute(f'create role "{job_role}" nologin')
        for fn in ("consume_conversation(uuid)", "reset_monthly_usage()"):
            jdb.execute(f'grant execute on function public.{fn} to "{job_role}"')
        jdb.execute(f'set local role "{job_role}"')
        assert rpc(jdb, "consume_conversation", p_user_id=ann)["used"] == 1
        assert rpc(jdb, "reset_monthly_usage") == 0


@pytest.mark.parametrize("role", ["authenticator", "anon"])
def test_an_api_role_without_a_user_is_not_an_admin_session(jdb, role):
    ann = new_user(jdb)
    before = data_snapshot(jdb)
    with raises_sqlstate("42501"):
        with jdb.transaction():
            jdb.execute(f'set local role "{role}"')
            jdb.execute("select public.consume_conversation(%s)", [ann])
    assert data_snapshot(jdb) == before


# ---------------------------------------------------------------- UTC months

TIMEZONES = ["Pacific/Kiritimati", "America/Los_Angeles", "UTC"]


def _plans_around_the_month_start(c):
    """Plans whose period started just before and just after the start of the UTC month M. In a session
    at UTC+14 (Kiritimati) the local month starts 14 hours before M, in Los Angeles 8 hours after it: a
    reset computing months in the session's time zone gets the rows between those instants wrong."""
    month = c.execute("select date_trunc('month', now(), 'UTC')").fetchone()[0]
    offsets = {"m-40d": "-40 days", "m-14h": "-14 hours", "m-1s": "-1 second", "m": "0", "m+1s": "1 second",
               "m+8h": "8 hours"}
    users = {}
    for label, offset in offsets.items():
        user = users[label] = new_user(c)
        c.execute("update public.user_plans set conversations_used = 3,"
                  " usage_period_start = date_trunc('month', now(), 'UTC') + %s::interval where user_id = %s",
                  [offset, user])
    return month, users


@pytest.mark.parametrize("tz", TIMEZONES)
def test_reset_uses_utc_months_whatever_the_session_time_zone(jdb, tz):
    c = jdb
    month, users = _plans_around_the_month_start(c)
    with c.transaction():
        c.execute("select set_config('TimeZone', %s, true)", [tz])
        with as_service(c):
            assert rpc(c, "reset_monthly_usage") == 3
        assert c.execute("select date_trunc('month', now(), 'UTC')").fetchone()[0] == month
    for label, user in users.items():
        row = plan(c, user)
        if label in ("m-40d", "m-14h", "m-1s"):
            assert (row["conversations_used"], row["usage_period_start"]) == (0, month), label
            assert [e[1] for e in events(c, user, "usage_reset")] == [{"previous_used": 3}], label
        else:
            assert row["conversations_used"] == 3, label
            assert events(c, user, "usage_reset") == [], label


def test_a_second_reset_from_another_time_zone_in_the_same_month_resets_nothing(jdb):
    c = jdb
    _plans_around_the_month_start(c)
    for tz, expected in (("Pacific/Kiritimati", 3), ("America/Los_Angeles", 0), ("UTC", 0),
                         ("Pacific/Kiritimati", 0)):
        with c.transaction():
            c.execute("select set_config('TimeZone', %s, true)", [tz])
            with as_service(c):
                assert rpc(c, "reset_monthly_usage") == expected, tz
    assert c.execute("select count(*) from public.usage_events where event_type = 'usage_reset'").fetchone()[0] == 3


@pytest.mark.parametrize("tz", TIMEZONES)
def test_a_new_plan_starts_at_the_utc_month_whatever_the_session_time_zone(jdb, tz):
    c = jdb
    with c.transaction():
        c.execute("select set_config('TimeZone', %s, true)", [tz])
        signed_up = new_user(c)  # the auth trigger's plan row: the column default
        without_plan = new_user(c)
        c.execute("delete from public.user_plans where user_id = %s", [without_plan])
        with as_user(c, without_plan):
            rpc(c, "consume_conversation", p_user_id=without_plan)  # creates the row
        month = c.execute("select date_trunc('month', now(), 'UTC')").fetchone()[0]
    assert plan(c, signed_up)["usage_period_start"] == month
    assert plan(c, without_plan)["usage_period_start"] == month


# ---------------------------------------------------------------- no forged events

@pytest.mark.parametrize("event_type", SERVER_EVENTS)
def test_a_user_cannot_forge_server_events(jdb, event_type):
    ann = new_user(jdb)
    before = data_snapshot(jdb)
    with raises_sqlstate("42501"):
        with as_user(jdb, ann):
            rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type=event_type)
    assert data_snapshot(jdb) == before


@pytest.mark.parametrize("whose", ["another user's", "unknown"])
def test_a_user_cannot_log_an_event_for_a_conversation_that_is_not_theirs(jdb, whose):
    ann, bob = new_user(jdb), new_user(jdb)
    conv = new_conversation(jdb, bob) if whose != "unknown" else uuid.uuid4()
    before = data_snapshot(jdb)
    with raises_sqlstate("42501"):
        with as_user(jdb, ann):
            rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_end", p_conversation_id=conv)
    assert data_snapshot(jdb) == before


def test_a_user_logs_conversation_end_for_no_conversation_or_their_own(jdb):
    ann = new_user(jdb)
    conv = new_conversation(jdb, ann)
    with as_user(jdb, ann):
        rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_end")
        rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_end", p_conversation_id=conv,
            p_event_data=None)
    assert [(e[0], e[2]) for e in events(jdb, ann)] == [("conversation_end", None), ("conversation_end", conv)]


@pytest.mark.parametrize("event_type", SERVER_EVENTS)
def test_the_server_logs_any_event_for_any_conversation(jdb, event_type):
    ann, bob = new_user(jdb), new_user(jdb)
    conv = new_conversation(jdb, bob)
    with as_service(jdb):
        rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type=event_type, p_conversation_id=conv)
    rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type=event_type)  # an admin session
    assert [e[0] for e in events(jdb, ann)] == [event_type, event_type]


@pytest.mark.parametrize("caller", ["user", "service_role"])
def test_an_unknown_event_type_is_rejected_before_anything_else(jdb, caller):
    ann = new_user(jdb)
    with raises_sqlstate("22023", "23514"):
        with (as_user(jdb, ann) if caller == "user" else as_service(jdb)):
            rpc(jdb, "log_usage_event", p_user_id=ann, p_event_type="conversation_paused")
    assert events(jdb, ann) == []


# ---------------------------------------------------------------- 005 backfills plans

def test_005_gives_users_from_before_it_a_free_plan_once(db_conn):
    c = db_conn
    apply(c, *MIGRATIONS[:4])
    before = [new_user(c) for _ in range(3)]  # no signup trigger yet: no plans
    paying = new_user(c)
    c.execute("insert into public.user_plans (user_id, plan_type, conversations_limit, conversations_used)"
              " values (%s, 'pro', 500, 42)", [paying])
    assert all(plan(c, u) is None for u in before)

    apply(c, MIGRATIONS[4])

    for u in before:
        row = plan(c, u)
        assert (row["plan_type"], row["conversations_limit"], row["conversations_used"]) == ("free", 5, 0)
    assert (plan(c, paying)["plan_type"], plan(c, paying)["conversations_used"]) == ("pro", 42)
    snapshot = data_snapshot(c), catalog_snapshot(c)
    apply(c, MIGRATIONS[4])  # again: nothing changes
    assert (data_snapshot(c), catalog_snapshot(c)) == snapshot
    assert c.execute("select count(*) from public.user_plans").fetchone()[0] == 4


# ---------------------------------------------------------------- the app's own conversations

def test_the_five_files_work_on_an_apps_own_conversations_table(db_conn):
    """Other columns, a title, defaults, its own policy and foreign-key names: nothing of it is assumed."""
    c = db_conn
    make_app_conversations(c)
    apply(c)
    apply(c)  # and twice
    ann, bob = new_user(c), new_user(c)
    with as_user(c, ann):
        conv = c.execute("insert into public.conversations (user_id) values (%s) returning id", [ann]).fetchone()[0]
        assert rpc(c, "consume_conversation", p_user_id=ann)["used"] == 1
        rpc(c, "log_usage_event", p_user_id=ann, p_event_type="conversation_end", p_conversation_id=conv)
    with as_user(c, bob):
        assert c.execute("select count(*) from public.conversations").fetchone()[0] == 0
    assert [e[0] for e in events(c, ann)] == ["conversation_start", "conversation_end"]
    assert c.execute("select title from public.conversations where id = %s", [conv]).fetchone()[0] == "New chat"
