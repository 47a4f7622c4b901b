"""Round trips of `schemagen inspect` on real public schemas (tests/corpus/<name>/schema.sql): Supabase apps
and plain PostgreSQL ones.

For each schema, created on a Supabase-shaped database (tests/corpus/supabase.sql):
  (a) `diff` of the inspected spec against that database finds no drift;
  (b) the spec rendered and applied (`schemagen apply`) to a fresh Supabase-shaped database,
      then `diff` against it, finds no drift;
  (c) `inspect` of that second database writes the same bytes.
What inspect cannot express is asserted line by line (EXPECTED_NOTES): the lists shrink as the
spec language grows, and anything new that inspect leaves out fails the test.
"""
from __future__ import annotations

import re

import pytest
from supabase_shape import CONSTRUCTS_2, CORPUS, round_trip, supabase_db, supabase_template  # noqa: F401

NAMES = sorted(p.name for p in CORPUS.iterdir() if (p / "schema.sql").is_file())

_DEFINER = ("is SECURITY DEFINER and must pin its search path (add `set: {search_path: \"\"}` and qualify names "
            "in the body) (left out)")


def _definer(name: str) -> str:
    return f"function {name} {_DEFINER}"


# Schemas with what they still need that inspect cannot write (named; left out with what depends on them,
# or kept when diff does not compare it; the rest round-trips)
def _partition_only(kind_names: list[str]) -> list[str]:
    return [f"table public.payment: partition-only {k} is not expressed in the spec" for k in kind_names]


_PAGILA_MONTHS = [f"payment_p2022_0{i}" for i in range(1, 7)]
NEW_SHAPES = {
    "pagila": _partition_only(
        [f"foreign key {p}_{col}_id_fkey on public.{p}" for p in _PAGILA_MONTHS for col in ("customer", "rental", "staff")]
        + [f"index idx_fk_{p}_{col}_id on public.{p}" for p in _PAGILA_MONTHS for col in ("customer", "staff")]
        + [f"index {p}_customer_id_idx on public.{p}" for p in _PAGILA_MONTHS]) + [
        "materialized view public.rental_by_category: index rental_category is not expressed in the spec",
        "aggregate public.group_concat(text): aggregates are not supported by the spec (left out)",
        "domain public.bıgınt: its name is not a lower-case identifier the spec accepts (left out)",
        "view public.actor_info: it uses public.group_concat, which is left out (left out)",
        "view public.film_list: it uses public.group_concat, which is left out (left out)",
        "view public.nicer_but_slower_film_list: it uses public.group_concat, which is left out (left out)",
    ],
    "supachat": [f"procedure app.{name}: procedures are not supported by the spec (left out)" for name in (
        "copy_chat_messages_partition(date)", "copy_chats_partition(date)", "create_chat_messages_partition(date)",
        "create_chats_partition(date)", "create_daily_partitions(date)", "index_and_attach_chat_messages_partition(date)",
        "index_and_attach_chats_partition(date)", "load_chat_messages_partition(date)", "load_chat_messages_partitions()",
        "load_chats_partition(date)", "load_chats_partitions()", "update_chat_sequences()")],
}

# With the spec constructs of issue 9 part 2 (publications, replica identity, SECURITY DEFINER without
# a pinned search_path as a warning, ...) every Supabase app of the corpus is expressed whole.
EXPECTED_NOTES = {name: [] for name in NAMES} | NEW_SHAPES if CONSTRUCTS_2 else {
    "todo_list": [],
    "user_management": [
        _definer("public.handle_new_user"),
        "trigger on_auth_user_created on auth.users: it uses public.handle_new_user, which is left out (left out)",
    ],
    "subscription_payments": [
        "table public.prices: publication supabase_realtime is not expressed in the spec",
        "table public.products: publication supabase_realtime is not expressed in the spec",
        _definer("public.handle_new_user"),
        "trigger on_auth_user_created on auth.users: it uses public.handle_new_user, which is left out (left out)",
    ],
    "slack_clone": [
        "table public.channels: publication supabase_realtime is not expressed in the spec",
        "table public.channels: replica identity full is not expressed in the spec",
        "table public.messages: publication supabase_realtime is not expressed in the spec",
        "table public.messages: replica identity full is not expressed in the spec",
        "table public.users: publication supabase_realtime is not expressed in the spec",
        "table public.users: replica identity full is not expressed in the spec",
    ],
    "supa_builder": [_definer(f"public.{name}") for name in (
        "check_rate_limit", "cleanup_old_rate_limits", "create_audit_log", "decrypt_service_role_key",
        "encrypt_service_role_key", "get_org_projects_count", "get_user_projects_count", "get_user_role", "is_admin",
        "record_rate_limit", "soft_delete_project", "update_project_status")],
}


@pytest.mark.parametrize("name", NAMES)
def test_corpus_round_trip(name, supabase_db, pg_server, tmp_path):
    first = supabase_db((CORPUS / name / "schema.sql").read_text(encoding="utf-8"))
    result = round_trip(first, supabase_db, pg_server, tmp_path)
    assert list(result.notes) == EXPECTED_NOTES[name]
    kept = [o for o in result.spec.tables + result.spec.functions if not o.assumed]
    assert kept  # every corpus schema keeps some of its objects


def test_the_corpus_has_eight_real_schemas_with_their_source():
    assert len(NAMES) >= 8
    for name in NAMES:
        source = (CORPUS / name / "SOURCE.md").read_text(encoding="utf-8")
        assert "Repository: https://github.com/" in source and re.search(r"`[0-9a-f]{40}`", source), name
