"""diff.py: the report formats (text, JSON, SQL), colour rules and cache plumbing, on hand-built reports."""
from __future__ import annotations

import io
import json
from dataclasses import replace

from jarvis_schemagen import api
from jarvis_schemagen import cache
from jarvis_schemagen import report as d
from jarvis_schemagen import model as m
from jarvis_schemagen.compare import compare

USING = "(( SELECT auth.uid() AS uid) = user_id)"


def report(strict: bool = False) -> d.DiffReport:
    t = m.Table("public", "user_plans", migration="001", rls_enabled=True,
                columns=(m.Column("id", "uuid", nullable=False), m.Column("plan_type", "text")),
                policies=(m.Policy("Users can view own plan", command="select", roles=("authenticated",),
                                   using=USING),))
    f = m.Function("public", "touch", returns="trigger", body="begin\n  return new;\nend;", migration="001")
    desired = m.Schema(tables=(t,), functions=(f,))
    actual = m.Schema(
        tables=(replace(t, migration=None, rls_enabled=False, policies=(),
                        columns=(t.columns[0], replace(t.columns[1], type="character varying(20)"),
                                 m.Column("hack", "text"))),
                m.Table("public", "legacy")),
        functions=(replace(f, migration=None, body="begin\n  return null;\nend;"),),
        grants=(m.Grant("table", "public.user_plans", ("insert", "select"), ("anon",)),))
    result = compare(desired, actual)
    return d.DiffReport(database="postgresql://app:***@db.example/app", spec="schema.yaml", changes=result.changes,
                        unmanaged=result.unmanaged, strict=strict, warnings=["a warning"], desired=desired)


def test_json_structure_is_stable_and_documented():
    data = json.loads(d.format_json(report()))
    assert list(data) == ["version", "drift", "strict", "database", "spec", "changes", "unmet", "unmanaged", "access",
                          "warnings"]
    assert data["version"] == 1 and data["drift"] is True and data["strict"] is False
    for c in data["changes"]:
        assert list(c) == ["kind", "object", "action", "before", "after", "destructive", "detail", "reason"]
    by_object = {c["object"]: c for c in data["changes"]}
    col = by_object["public.user_plans.plan_type"]
    assert col["before"] == {"type": "character varying(20)"} and col["after"] == {"type": "text"}
    assert col["detail"] == ["type"]
    grant = by_object["privileges on table public.user_plans to anon"]
    assert grant["action"] == "drop" and grant["before"]["privileges"] == ["insert", "select"]
    assert grant["after"] is None
    pol = by_object['policy "Users can view own plan" on public.user_plans']
    assert pol["action"] == "add" and pol["after"]["using"] == USING and "migration" not in pol["after"]
    assert by_object["public.user_plans"]["kind"] == "rls"
    assert by_object["public.user_plans"]["after"] == {"enabled": True}
    hack = by_object["public.user_plans.hack"]
    assert hack["destructive"] is True and hack["reason"].startswith("drops column")
    assert list(hack["before"]) == ["name", "type", "nullable", "default", "identity", "generated", "collation",
                                   "comment"]
    assert data["unmanaged"] == [{"kind": "table", "object": "public.legacy"}]
    assert data["warnings"] == ["a warning"]


def test_strict_counts_unmanaged_objects():
    assert not replace(report(), changes=()).drift
    assert replace(report(strict=True), changes=()).drift
    assert replace(report(strict=True), changes=()).exit_code == 1
    assert replace(report(), changes=()).exit_code == 0


def test_text_groups_by_object_and_names_everything():
    text = d.format_text(report())
    assert text.startswith("Drift: 6 differences between schema.yaml and postgresql://app:***@db.example/app, "
                           "1 of them destructive to fix.")
    assert "\npublic.touch()\n  ~ function public.touch(): differs\n" in text
    assert "        -  return null;\n        +  return new;\n" in text
    assert "\npublic.user_plans\n" in text
    assert "  + policy \"Users can view own plan\" on public.user_plans: missing from the database" in text
    assert "  - column public.user_plans.hack: in the database, not in the spec  [destructive to fix]" in text
    assert "      type: database character varying(20); spec text" in text
    assert "  - privileges on table public.user_plans to anon: in the database, not in the spec\n" \
           "      database grants insert, select; spec grants none" in text
    assert "Unmanaged: in the database, never mentioned by the spec (drift only with --strict):\n" \
           "  ? table public.legacy" in text
    assert "\033[" not in text


def test_no_drift_text():
    text = d.format_text(replace(report(), changes=(), unmanaged=()))
    assert text == "No drift: postgresql://app:***@db.example/app matches schema.yaml.\n"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    from jarvis_schemagen.term import use_color  # the one colour decision (tests/unit/test_settings_term.py)

    for var in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(var, raising=False)
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    assert "\033[32m+\033[0m" in d.format_text(report(), color=True)


def test_sql_header_and_destructive_markers():
    text = d.format_sql(report())
    assert text.startswith("-- schemagen diff: statements that bring postgresql://app:***@db.example/app to "
                           "schema.yaml.\n")
    assert "1 unmanaged object(s) are left alone" in text
    assert "-- destructive: drops column public.user_plans.hack" in text
    assert "drop table" not in text
    strict = d.format_sql(report(strict=True))
    assert '-- destructive: drops table public.legacy and all its rows\ndrop table "public"."legacy";' in strict


def test_model_round_trips_through_the_cache_format():
    spec = api.load_default_spec()
    data = json.loads(json.dumps(cache.to_jsonable(spec)))
    back = cache.from_jsonable(data)
    assert back == spec
    owned = replace(spec.tables[0], owner="postgres")
    assert cache.from_jsonable(cache.to_jsonable(owned)).owner == "postgres"


def test_cache_key_depends_on_sql_versions_and_schemas():
    base = cache.cache_key("assumed", {"001_a.sql": "x"}, ["public"], 15, 15)
    assert base == cache.cache_key("assumed", {"001_a.sql": "x"}, ["public"], 15, 15)
    assert base != cache.cache_key("assumed", {"001_a.sql": "y"}, ["public"], 15, 15)
    assert base != cache.cache_key("assumed2", {"001_a.sql": "x"}, ["public"], 15, 15)
    assert base != cache.cache_key("assumed", {"001_a.sql": "x"}, ["public"], 16, 15)
    assert base != cache.cache_key("assumed", {"001_a.sql": "x"}, ["public"], 15, 16)
    assert base != cache.cache_key("assumed", {"001_a.sql": "x"}, ["public", "auth"], 15, 15)


def test_unreadable_cache_entries_are_misses(tmp_path):
    bad = tmp_path / "shadow-x.json"
    bad.write_text("{not json")
    assert cache.read(bad) is None
    bad.write_text(json.dumps({"format": 999, "value": {}}))
    assert cache.read(bad) is None
    bad.write_text(json.dumps({"format": cache.CACHE_FORMAT, "value": {"@": "NoSuchClass"}}))
    assert cache.read(bad) is None
    assert cache.read(tmp_path / "missing.json") is None


def test_the_cached_desired_state_round_trips():
    from jarvis_schemagen.compare import Scope, annotate, spec_schemas

    spec = api.load_default_spec()
    desired = cache.Desired(model=annotate(spec, spec), scope=Scope.of(spec), schemas=tuple(spec_schemas(spec)))
    back = cache.from_jsonable(json.loads(json.dumps(cache.to_jsonable(desired))))
    assert back == desired
    assert back.scope.acl_roles[("table", "public.user_plans")] == frozenset({"anon", "authenticated"})


def test_spec_cache_key_follows_the_file_and_the_code(monkeypatch):
    key = cache.spec_cache_key("schema.yaml", b"x", 15, 15)
    assert key == cache.spec_cache_key("other/schema.yaml", b"x", 15, 15)
    assert key != cache.spec_cache_key("schema.yaml", b"y", 15, 15)
    assert key != cache.spec_cache_key("jarvis.yaml", b"x", 15, 15)  # the name is rendered into the SQL
    monkeypatch.setattr(cache, "_CODE_FINGERPRINT", ["another version of the tool"])
    assert key != cache.spec_cache_key("schema.yaml", b"x", 15, 15)


def unmet_report(**kw) -> d.DiffReport:
    """auth.users.id of another type and a missing role: what the spec assumes, not what it manages."""
    users = m.Table("auth", "users", assumed=True,
                    columns=(m.Column("id", "uuid", nullable=False, assumed=True, declared=("type",)),))
    desired = m.Schema(tables=(users,), roles=(m.Role("service_role", bypassrls=True),))
    actual = m.Schema(tables=(replace(users, assumed=False, columns=(m.Column("id", "text", nullable=False),)),))
    result = compare(desired, actual)
    return d.DiffReport(database="postgresql://app:***@db.example/app", spec="schema.yaml", changes=result.changes,
                        unmanaged=result.unmanaged, unmet=result.unmet, desired=desired, **kw)


def test_unmet_assumptions_have_their_own_section_exit_1_and_no_fix():
    r = unmet_report()
    assert r.changes == () and [c.object for c in r.unmet] == ["auth.users.id", "service_role"]
    assert r.drift and r.exit_code == 1
    text = d.format_text(r)
    assert text.startswith("Unmet assumptions: 2 differences between what schema.yaml assumes and ")
    assert "fix the spec (declare what the database really has) or the platform" in text
    assert "    ~ column auth.users.id: differs\n        type: database text; spec uuid" in text
    assert "format sql" not in text  # nothing for schemagen to fix
    data = json.loads(d.format_json(r))
    assert data["drift"] is True and data["changes"] == []
    assert [(e["kind"], e["object"], e["action"]) for e in data["unmet"]] == [
        ("column", "auth.users.id", "alter"), ("role", "service_role", "add")]
    sql = d.format_sql(r)
    assert "2 unmet assumption(s) are not fixed here" in sql and "Fix the spec or the platform" in sql
    assert "alter table" not in sql and "create role" not in sql and "nothing to do" in sql.lower()


def test_unmanaged_extras_of_an_assumed_table_are_never_dropped_even_with_strict():
    conv = m.Table("public", "conversations", assumed=True, columns=(m.Column("id", "uuid", assumed=True),))
    mine = m.Table("public", "plans", migration="001", columns=(m.Column("id", "uuid"),))
    desired = m.Schema(tables=(conv, mine))
    actual = m.Schema(tables=(replace(conv, assumed=False, columns=conv.columns + (m.Column("title", "text"),),
                                      policies=(m.Policy("own", using="true"),)),
                              replace(mine, migration=None), m.Table("public", "legacy")))
    result = compare(desired, actual)
    r = d.DiffReport(database="db", spec="schema.yaml", changes=result.changes, unmanaged=result.unmanaged,
                     strict=True, desired=desired)
    assert [c.object for c in r.unmanaged] == ["public.conversations.title", "policy own on public.conversations",
                                               "public.legacy"]
    sql = d.format_sql(r)
    assert 'drop table "public"."legacy";' in sql
    assert "conversations" not in sql.split("begin;", 1)[1]
    assert "2 unmanaged object(s) on assumed tables are left alone" in sql


def test_the_summary_and_the_access_section_count_the_same_cells():
    """The summary says how many access changes are drift, and the Access section marks exactly those
    (a widening for a role that is not an API role is listed, unmarked, and not counted); unmet
    assumptions get a sentence of their own."""
    from jarvis_schemagen.access import AccessChange, Cell

    denied, every = Cell("denied", "no privilege"), Cell("all", "privilege, RLS off")
    access = (AccessChange("public.user_plans", "anon", "insert", "widened", denied, every),
              AccessChange("public.user_plans", "anon", "select", "widened", denied, every),
              AccessChange("public.user_plans", "someone", "select", "widened", denied, every))
    r = replace(report(), access=access, access_roles=("anon", "authenticated", "service_role"),
                unmet=unmet_report().unmet)
    lines = d.format_text(r).splitlines()
    assert lines[0] == ("Drift: 6 differences between schema.yaml and postgresql://app:***@db.example/app, 1 of "
                        "them destructive to fix.")
    assert lines[1] == "Access is wider than the spec in 2 places, each marked [drift] under Access."
    assert lines[2] == "2 assumptions of the spec are not met (listed under Unmet assumptions)."
    at = lines.index("  Widened (3, 2 of them drift):")
    assert lines[at + 1:at + 4] == ["    anon insert on public.user_plans: denied -> every row  [drift]",
                                    "    anon select on public.user_plans: denied -> every row  [drift]",
                                    "    someone select on public.user_plans: denied -> every row"]
    assert sum(line.endswith("[drift]") for line in lines) == 2
    assert not any("and 2 unmet" in line for line in lines)
    only = d.format_text(replace(r, changes=(), unmanaged=(), unmet=(),
                                 access=(access[0], replace(access[1], verdict="changed")))).splitlines()
    assert only[:2] == ["Drift: postgresql://app:***@db.example/app gives access that schema.yaml does not.",
                        "Access is wider than the spec in 1 place and may be wider in 1, each marked [drift] "
                        "under Access."]
    assert "  Changed, may widen (1, drift):" in only
    data = json.loads(d.format_json(r))  # the JSON is unchanged: each access entry says whether it is drift
    assert [(e["role"], e["drift"]) for e in data["access"]] == [("anon", True), ("anon", True), ("someone", False)]


def test_access_widened_only_on_an_assumed_table_says_what_to_do_instead_of_the_sql_that_never_touches_it():
    """An app's own `using (true)` policy on an assumed table is access drift, but no statement of
    `diff --format sql` (even --strict) touches an assumed table: the closing hint says so and what to do;
    with something the SQL does fix, the hint to see it stays."""
    from jarvis_schemagen.access import AccessChange, Cell

    conv = m.Table("public", "conversations", assumed=True, rls_enabled=True,
                   columns=(m.Column("id", "uuid", assumed=True),))
    mine = m.Table("public", "plans", migration="001", columns=(m.Column("id", "uuid"),))
    desired = m.Schema(tables=(conv, mine))
    actual = m.Schema(tables=(replace(conv, assumed=False, policies=(
        m.Policy("Everyone reads", command="select", roles=("authenticated",), using="true"),)),
        replace(mine, migration=None)))
    result = compare(desired, actual)
    widened = AccessChange("public.conversations", "authenticated", "select", "widened",
                           Cell("denied", "no policy"), Cell("all", "policy Everyone reads: using (true)"))
    for strict in (False, True):
        r = d.DiffReport(database="db", spec="schema.yaml", changes=result.changes, unmanaged=result.unmanaged,
                         strict=strict, desired=desired, access=(widened,), access_roles=("authenticated",))
        assert r.changes == () and r.access_drift == (widened,) and r.exit_code == 1
        assert "drop policy" not in d.format_sql(r)
        text = d.format_text(r)
        assert "To see the statements that fix this" not in text and "format sql" not in text
        assert text.endswith(
            "\nThe access marked [drift] on public.conversations is not fixed by schemagen, which never changes what "
            "the spec only assumes: review the policies and grants there that give it (the app's own) and drop them "
            "yourself, or declare them in the spec if they are meant to be.\n"), text
    # a fixable difference as well: the hint to its SQL stays, and the note on the assumed table too
    actual = replace(actual, tables=(actual.tables[0], replace(mine, migration=None, columns=())))
    result = compare(desired, actual)
    r = d.DiffReport(database="db", spec="schema.yaml", changes=result.changes, unmanaged=result.unmanaged,
                     desired=desired, access=(widened,), access_roles=("authenticated",))
    assert r.changes
    lines = d.format_text(r).splitlines()
    assert lines[-2].startswith("To see the statements that fix this: schemagen diff --format sql")
    assert lines[-1].startswith("The access marked [drift] on public.conversations is not fixed by schemagen")
