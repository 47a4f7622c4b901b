"""Contract: table shapes of 001-004 (columns, types, nullability, defaults, checks, generated and
identity columns, keys, foreign-key actions, indexes), checked by what the database does."""
from __future__ import annotations

import re

import pytest

from jarvis import jdb, make_app_conversations, new_conversation, new_user, plan, raises_sqlstate  # noqa: F401

TSTZ = "timestamp with time zone"
ANY = object()  # nullability not stated by the contract

SHAPES = {
    "user_plans": {
        "id": ("uuid", True), "user_id": ("uuid", True), "plan_type": ("text", True),
        "conversations_limit": ("integer", False), "conversations_used": ("integer", True),
        "usage_period_start": (TSTZ, True), "stripe_customer_id": ("text", False),
        "stripe_subscription_id": ("text", False), "stripe_price_id": ("text", False),
        "subscription_status": ("text", False), "current_period_end": (TSTZ, False),
        "cancel_at_period_end": ("boolean", True), "created_at": (TSTZ, True), "updated_at": (TSTZ, True),
    },
    "conversations": {
        # the app's own table: the contract assumes these four columns (nullability is the app's)
        "id": ("uuid", True), "user_id": ("uuid", ANY), "created_at": (TSTZ, ANY), "updated_at": (TSTZ, ANY),
        "duration_seconds": ("integer", False), "estimated_tokens": ("integer", False),
        "cost_cents": ("numeric(12,4)", False), "usage_metadata": ("jsonb", True),
    },
    "conversation_usage": {
        "id": ("uuid", True), "conversation_id": ("uuid", True), "user_id": ("uuid", True),
        "provider": ("text", True), "model": ("text", False), "started_at": (TSTZ, True),
        "ended_at": (TSTZ, False), "duration_ms": ("integer", False), "time_to_first_token_ms": ("integer", False),
        "processing_ms": ("integer", False), "prompt_tokens": ("integer", True), "completion_tokens": ("integer", True),
        "total_tokens": ("integer", ANY), "cost_cents": ("numeric(12,4)", True),
        "provider_response": ("jsonb", True), "created_at": (TSTZ, True),
    },
    "usage_events": {
        "id": ("bigint", True), "user_id": ("uuid", True), "event_type": ("text", True),
        "conversation_id": ("uuid", False), "event_data": ("jsonb", True), "created_at": (TSTZ, True),
    },
}

PRIMARY_KEYS = {"user_plans": ["id"], "conversations": ["id"], "conversation_usage": ["id"], "usage_events": ["id"]}


@pytest.mark.parametrize("table", SHAPES)
def test_columns_types_nullability_and_primary_key(jdb, table):
    rows = jdb.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull from pg_attribute a"
        " where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped", [f"public.{table}"]).fetchall()
    actual = {name: (typ, notnull) for name, typ, notnull in rows}
    expected = SHAPES[table]
    assert set(actual) == set(expected)
    for col, (typ, notnull) in expected.items():
        assert actual[col][0] == typ, col
        if notnull is not ANY:
            assert actual[col][1] == notnull, f"{table}.{col} not null should be {notnull}"
    pk = jdb.execute(
        "select array_agg(a.attname order by a.attnum) from pg_constraint c"
        " join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)"
        " where c.conrelid = %s::regclass and c.contype = 'p'", [f"public.{table}"]).fetchone()[0]
    assert pk == PRIMARY_KEYS[table]


# ---------------------------------------------------------------- defaults

def test_user_plans_defaults_from_a_row_with_only_user_id(jdb):
    user = new_user(jdb)
    jdb.execute("delete from public.user_plans where user_id = %s", [user])  # drop the trigger's row
    with jdb.transaction():
        jdb.execute("insert into public.user_plans (user_id) values (%s)", [user])
        now, month_start = jdb.execute("select now(), date_trunc('month', now(), 'UTC')").fetchone()
        row = plan(jdb, user)
    assert row["id"] is not None
    assert row["plan_type"] == "free"
    assert row["conversations_limit"] == 5
    assert row["conversations_used"] == 0
    assert row["usage_period_start"] == month_start
    assert row["cancel_at_period_end"] is False
    assert row["created_at"] == now and row["updated_at"] == now
    for col in ("stripe_customer_id", "stripe_subscription_id", "stripe_price_id", "subscription_status",
                "current_period_end"):
        assert row[col] is None, col


def test_conversation_usage_defaults_and_generated_total_tokens(jdb):
    user = new_user(jdb)
    conv = new_conversation(jdb, user)
    with jdb.transaction():
        row = jdb.execute(
            "insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
            " values (%s, %s, 'openai', now()) returning id, model, prompt_tokens, completion_tokens, total_tokens,"
            " cost_cents, provider_response, created_at = now(), ended_at, duration_ms", [conv, user]).fetchone()
    assert row[0] is not None
    assert row[1:] == (None, 0, 0, 0, 0, {}, True, None, None)

    usage = jdb.execute(
        "insert into public.conversation_usage (conversation_id, user_id, provider, started_at, prompt_tokens,"
        " completion_tokens) values (%s, %s, 'anthropic', now(), 120, 30) returning id, total_tokens",
        [conv, user]).fetchone()
    assert usage[1] == 150
    assert jdb.execute("update public.conversation_usage set completion_tokens = 70 where id = %s returning total_tokens",
                       [usage[0]]).fetchone()[0] == 190
    with raises_sqlstate("428C9"):  # generated_always: the app cannot write a wrong total
        jdb.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at, total_tokens)"
                    " values (%s, %s, 'openai', now(), 999)", [conv, user])


def test_usage_events_identity_id_and_defaults(jdb):
    user = new_user(jdb)
    with jdb.transaction():
        first = jdb.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_start')"
                            " returning id, event_data, conversation_id, created_at = now()", [user]).fetchone()
    second = jdb.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_end')"
                         " returning id", [user]).fetchone()[0]
    assert isinstance(first[0], int) and second > first[0]
    assert first[1:] == ({}, None, True)
    with raises_sqlstate("428C9"):
        jdb.execute("insert into public.usage_events (id, user_id, event_type) values (999999, %s, 'conversation_end')",
                    [user])


def test_conversations_002_columns_default_and_keep_fractional_cost(jdb):
    user = new_user(jdb)
    conv = new_conversation(jdb, user)
    assert jdb.execute("select duration_seconds, estimated_tokens, cost_cents, usage_metadata from public.conversations"
                       " where id = %s", [conv]).fetchone() == (None, None, None, {})
    cost = jdb.execute("update public.conversations set cost_cents = 12.34567, duration_seconds = 0, estimated_tokens = 0"
                       " where id = %s returning cost_cents::text", [conv]).fetchone()[0]
    assert cost == "12.3457"


# ---------------------------------------------------------------- checks and not-null

@pytest.fixture
def sample(jdb):
    user = new_user(jdb)
    conv = new_conversation(jdb, user)
    usage = jdb.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                        " values (%s, %s, 'openai', '2025-01-01 12:00+00') returning id", [conv, user]).fetchone()[0]
    event = jdb.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_start')"
                        " returning id", [user]).fetchone()[0]
    return {"user": user, "conv": conv, "usage": usage, "event": event}


REJECTED = [
    ("user_plans", "plan_type = 'gold'", "23514"),
    ("user_plans", "plan_type = 'Free'", "23514"),
    ("user_plans", "plan_type = null", "23502"),
    ("user_plans", "conversations_used = -1", "23514"),
    ("user_plans", "conversations_used = null", "23502"),
    ("user_plans", "conversations_limit = -1", "23514"),
    ("user_plans", "subscription_status = 'bogus'", "23514"),
    ("user_plans", "subscription_status = 'cancelled'", "23514"),
    ("user_plans", "cancel_at_period_end = null", "23502"),
    ("user_plans", "usage_period_start = null", "23502"),
    ("conversations", "duration_seconds = -1", "23514"),
    ("conversations", "estimated_tokens = -1", "23514"),
    ("conversations", "cost_cents = -0.0001", "23514"),
    ("conversations", "usage_metadata = null", "23502"),
    ("conversation_usage", "ended_at = started_at - interval '1 second'", "23514"),
    ("conversation_usage", "duration_ms = -1", "23514"),
    ("conversation_usage", "time_to_first_token_ms = -1", "23514"),
    ("conversation_usage", "processing_ms = -1", "23514"),
    ("conversation_usage", "prompt_tokens = -1", "23514"),
    ("conversation_usage", "completion_tokens = -1", "23514"),
    ("conversation_usage", "prompt_tokens = null", "23502"),
    ("conversation_usage", "cost_cents = -1", "23514"),
    ("conversation_usage", "cost_cents = null", "23502"),
    ("conversation_usage", "provider = null", "23502"),
    ("conversation_usage", "started_at = null", "23502"),
    ("conversation_usage", "provider_response = null", "23502"),
    ("usage_events", "event_type = 'conversation_paused'", "23514"),
    ("usage_events", "event_type = null", "23502"),
    ("usage_events", "event_data = null", "23502"),
]


def _update(conn, sample, table, assignment):
    key = {"user_plans": ("user_id", sample["user"]), "conversations": ("id", sample["conv"]),
           "conversation_usage": ("id", sample["usage"]), "usage_events": ("id", sample["event"])}[table]
    return conn.execute(f"update public.{table} set {assignment} where {key[0]} = %s", [key[1]])


@pytest.mark.parametrize("table,assignment,sqlstate", REJECTED, ids=[f"{t}:{a}" for t, a, _ in REJECTED])
def test_bad_values_are_rejected(jdb, sample, table, assignment, sqlstate):
    with raises_sqlstate(sqlstate):
        _update(jdb, sample, table, assignment)


ACCEPTED = (
    [("user_plans", f"plan_type = '{p}'") for p in ("free", "starter", "pro", "business")]
    + [("user_plans", f"subscription_status = '{s}'") for s in (
        "trialing", "active", "incomplete", "incomplete_expired", "past_due", "canceled", "unpaid", "paused")]
    + [("user_plans", "subscription_status = null"), ("user_plans", "conversations_limit = null"),
       ("user_plans", "conversations_limit = 0, conversations_used = 0"),
       ("conversations", "duration_seconds = 0, estimated_tokens = 0, cost_cents = 0"),
       ("conversation_usage", "ended_at = started_at, duration_ms = 0, time_to_first_token_ms = 0, processing_ms = 0"),
       ("conversation_usage", "model = null, ended_at = null, duration_ms = null, processing_ms = null")]
    + [("usage_events", f"event_type = '{e}'") for e in (
        "conversation_start", "conversation_end", "limit_reached", "limit_warning", "plan_changed", "usage_reset")]
)


@pytest.mark.parametrize("table,assignment", ACCEPTED, ids=[f"{t}:{a}" for t, a in ACCEPTED])
def test_values_the_contract_allows_are_accepted(jdb, sample, table, assignment):
    assert _update(jdb, sample, table, assignment).rowcount == 1


# ---------------------------------------------------------------- keys

def test_one_plan_per_user_and_unique_stripe_ids_but_shared_price_ids(jdb):
    ann, bob = new_user(jdb), new_user(jdb)
    with raises_sqlstate("23505"):
        jdb.execute("insert into public.user_plans (user_id) values (%s)", [ann])
    jdb.execute("update public.user_plans set stripe_customer_id = 'cus_A', stripe_subscription_id = 'sub_A',"
                " stripe_price_id = 'price_pro' where user_id = %s", [ann])
    with raises_sqlstate("23505"):
        jdb.execute("update public.user_plans set stripe_customer_id = 'cus_A' where user_id = %s", [bob])
    with raises_sqlstate("23505"):
        jdb.execute("update public.user_plans set stripe_subscription_id = 'sub_A' where user_id = %s", [bob])
    # many customers subscribe to the same price
    assert jdb.execute("update public.user_plans set stripe_price_id = 'price_pro' where user_id = %s",
                       [bob]).rowcount == 1
    # many users have no Stripe customer yet
    assert jdb.execute("select count(*) from public.user_plans where stripe_customer_id is null").fetchone()[0] == 1


def test_foreign_keys_reject_unknown_users_and_conversations(jdb):
    ghost = "00000000-0000-0000-0000-00000000dead"
    user = new_user(jdb)
    conv = new_conversation(jdb, user)
    with raises_sqlstate("23503"):
        jdb.execute("insert into public.user_plans (user_id) values (%s)", [ghost])
    with raises_sqlstate("23503"):
        jdb.execute("insert into public.usage_events (user_id, event_type) values (%s, 'conversation_start')", [ghost])
    with raises_sqlstate("23503"):
        jdb.execute("insert into public.usage_events (user_id, event_type, conversation_id)"
                    " values (%s, 'conversation_start', %s)", [user, ghost])
    with raises_sqlstate("23503"):
        jdb.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                    " values (%s, %s, 'openai', now())", [ghost, user])
    with raises_sqlstate("23503"):
        jdb.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                    " values (%s, %s, 'openai', now())", [conv, ghost])


def _counts(conn, user):
    return conn.execute(
        "select (select count(*) from public.user_plans where user_id = %(u)s),"
        " (select count(*) from public.conversations where user_id = %(u)s),"
        " (select count(*) from public.conversation_usage where user_id = %(u)s),"
        " (select count(*) from public.usage_events where user_id = %(u)s)", {"u": user}).fetchone()


def _give_data(conn, user):
    conv = new_conversation(conn, user)
    conn.execute("insert into public.conversation_usage (conversation_id, user_id, provider, started_at)"
                 " values (%s, %s, 'openai', now())", [conv, user])
    conn.execute("insert into public.usage_events (user_id, event_type, conversation_id)"
                 " values (%s, 'conversation_start', %s), (%s, 'conversation_end', null)", [user, conv, user])
    return conv


def test_deleting_an_auth_user_removes_their_plan_usage_and_events_only(jdb):
    make_app_conversations(jdb)  # the app's conversations cascade from auth.users (its choice, not ours)
    ann, bob = new_user(jdb), new_user(jdb)
    _give_data(jdb, ann)
    _give_data(jdb, bob)
    assert _counts(jdb, ann) == (1, 1, 1, 2)
    jdb.execute("delete from auth.users where id = %s", [ann])
    assert _counts(jdb, ann) == (0, 0, 0, 0)
    assert _counts(jdb, bob) == (1, 1, 1, 2)


def test_deleting_a_conversation_keeps_its_events_unlinked_and_removes_its_usage_rows(jdb):
    user = new_user(jdb)
    conv = _give_data(jdb, user)
    other = _give_data(jdb, user)
    jdb.execute("delete from public.conversations where id = %s", [conv])
    assert jdb.execute("select count(*) from public.conversation_usage where conversation_id = %s",
                       [conv]).fetchone()[0] == 0
    assert jdb.execute("select count(*) from public.conversation_usage where conversation_id = %s",
                       [other]).fetchone()[0] == 1
    events = jdb.execute("select event_type, conversation_id from public.usage_events where user_id = %s order by id",
                         [user]).fetchall()
    assert events == [("conversation_start", None), ("conversation_end", None),
                      ("conversation_start", other), ("conversation_end", None)]


# ---------------------------------------------------------------- indexes

INDEXES = [
    ("conversations", "user_id, created_at DESC"),
    ("conversation_usage", "user_id, created_at DESC"),
    ("conversation_usage", "conversation_id"),
    ("usage_events", "user_id, created_at DESC"),
    ("usage_events", "event_type, created_at DESC"),
]


@pytest.mark.parametrize("table,columns", INDEXES, ids=[f"{t}({c})" for t, c in INDEXES])
def test_contract_indexes_exist_as_full_btree_indexes(jdb, table, columns):
    defs = [r[0] for r in jdb.execute("select indexdef from pg_indexes where schemaname = 'public' and tablename = %s",
                                      [table])]
    usable = [d for d in defs if re.search(r"USING btree \(" + re.escape(columns) + r"\)$", d)]
    assert usable, f"no index on {table} ({columns}); have {defs}"
