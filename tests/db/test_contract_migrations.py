"""Contract: the five committed files in generated/ are safe to run twice (people paste them into
the Supabase SQL editor), and 002 leaves the app's existing conversations alone."""
from __future__ import annotations

import pytest

from jarvis import (MIGRATIONS, apply, catalog_snapshot, data_snapshot, jdb, make_app_conversations,  # noqa: F401
                    new_conversation, new_user, plan, rpc)


@pytest.mark.parametrize("name", MIGRATIONS)
def test_each_file_runs_twice_and_the_second_run_changes_nothing(db_conn, name):
    earlier = MIGRATIONS[: MIGRATIONS.index(name)]
    if earlier:
        apply(db_conn, *earlier)
    untouched = catalog_snapshot(db_conn)
    apply(db_conn, name)
    after_first = catalog_snapshot(db_conn)
    assert after_first != untouched, f"{name} changed nothing the snapshot can see"
    apply(db_conn, name)  # must not raise
    assert catalog_snapshot(db_conn) == after_first, f"{name}: the second run changed the catalog"


def test_rerunning_all_five_files_on_a_live_database_keeps_every_row(jdb):
    c = jdb
    ann, bob = new_user(c), new_user(c)
    conv = new_conversation(c, ann)
    c.execute("update public.conversations set duration_seconds = 95, estimated_tokens = 1200, cost_cents = 1.2345,"
              " usage_metadata = '{\"provider\": \"openai\"}' where id = %s", [conv])
    c.execute("insert into public.conversation_usage (conversation_id, user_id, provider, model, started_at,"
              " prompt_tokens, completion_tokens, cost_cents) values (%s, %s, 'openai', 'gpt-4o', now(), 900, 300, 1.2345)",
              [conv, ann])
    rpc(c, "set_user_plan", p_user_id=ann, p_plan_type="pro")
    c.execute("update public.user_plans set conversations_used = 7, stripe_customer_id = 'cus_1',"
              " subscription_status = 'active' where user_id = %s", [ann])
    c.execute("update public.user_plans set conversations_used = 3 where user_id = %s", [bob])
    before_catalog, before_data = catalog_snapshot(c), data_snapshot(c)

    apply(c)

    assert catalog_snapshot(c) == before_catalog
    assert data_snapshot(c) == before_data
    row = plan(c, ann)
    assert (row["plan_type"], row["conversations_limit"], row["conversations_used"], row["stripe_customer_id"]) == \
        ("pro", 500, 7, "cus_1")


def test_002_leaves_existing_conversations_untouched_and_gives_them_empty_usage_metadata(db_conn):
    c = db_conn
    make_app_conversations(c)  # an app's own columns, defaults and policies
    user = new_user(c)
    conv = c.execute("insert into public.conversations (user_id, title, created_at, updated_at)"
                     " values (%s, 'Before 002', '2024-03-01 10:00+00', '2024-03-02 11:00+00') returning id",
                     [user]).fetchone()[0]
    before = c.execute("select id, user_id, title, created_at, updated_at from public.conversations").fetchall()

    apply(c, "001_create_user_plans_table.sql", "002_update_conversations_table.sql")

    assert c.execute("select id, user_id, title, created_at, updated_at from public.conversations").fetchall() == before
    assert c.execute("select duration_seconds, estimated_tokens, cost_cents, usage_metadata"
                     " from public.conversations where id = %s", [conv]).fetchone() == (None, None, None, {})
    apply(c, "002_update_conversations_table.sql")
    assert c.execute("select count(*) from public.conversations").fetchone()[0] == 1


def test_002_adds_only_missing_columns_and_keeps_the_data_of_existing_ones(db_conn):
    c = db_conn
    user = new_user(c)
    c.execute("alter table public.conversations add column duration_seconds integer")
    conv = new_conversation(c, user)
    c.execute("update public.conversations set duration_seconds = 42 where id = %s", [conv])

    apply(c, "002_update_conversations_table.sql")

    assert c.execute("select duration_seconds, usage_metadata from public.conversations where id = %s",
                     [conv]).fetchone() == (42, {})
    cols = {r[0] for r in c.execute("select column_name from information_schema.columns"
                                    " where table_schema = 'public' and table_name = 'conversations'")}
    assert {"duration_seconds", "estimated_tokens", "cost_cents", "usage_metadata"} <= cols
