"""schemagen lint: every rule on a spec that triggers it and on one that does not (the clean base),
suppression with a reason, the formats, the CLI's exit codes, and the Jarvis spec is clean."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jarvis_schemagen import api, lint
from jarvis_schemagen.cli import main
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.spec.loader import load_text

ROOT = Path(__file__).resolve().parents[2]

CHECKS_CALLER = "begin perform public.assert_self(p_user_id); update public.notes set body = '' where user_id = p_user_id; end;"
BASE = {
    "version": 1,
    "migrations": {"001": "base"},
    "roles": {"anon": {"assumed": True}, "authenticated": {"assumed": True},
              "service_role": {"assumed": True, "bypassrls": True}},
    "schemas": {
        "auth": {"assumed": True},
        "extensions": {"assumed": True},
        "public": {"assumed": True,
                   "grants": [{"grant": ["usage"], "to": ["anon", "authenticated", "service_role"]}],
                   "default_privileges": [
                       {"on": "tables", "grant": ["all"], "to": ["anon", "authenticated", "service_role"]},
                       {"on": "sequences", "grant": ["all"], "to": ["anon", "authenticated", "service_role"]},
                       {"on": "functions", "grant": ["execute"], "to": ["anon", "authenticated", "service_role"]}]},
    },
    "extensions": {"pg_trgm": {"migration": "001", "schema": "extensions"}},
    "functions": {
        "auth.uid": {"assumed": True, "returns": "uuid", "language": "sql", "body": "select null::uuid"},
        "public.assert_self": {
            "migration": "001", "arguments": [{"name": "p_user_id", "type": "uuid"}], "returns": "void",
            "set": {"search_path": ""},
            "body": "begin if auth.uid() is distinct from p_user_id then raise exception 'no'; end if; end;",
            "grants": [{"revoke": ["execute"], "from": ["public", "anon", "authenticated"]}]},
        "public.clear_notes": {
            "migration": "001", "arguments": [{"name": "p_user_id", "type": "uuid"}], "returns": "void",
            "security_definer": True, "set": {"search_path": ""}, "body": CHECKS_CALLER,
            "grants": [{"revoke": ["execute"], "from": ["public", "anon"]},
                       {"grant": ["execute"], "to": ["authenticated"]}]},
    },
    "tables": {
        "public.folders": {
            "migration": "001", "rls": True,
            "columns": {"id": {"type": "uuid", "primary_key": True}, "user_id": "uuid"},
            "policies": {"Own folders": {"command": "select", "roles": ["authenticated"],
                                         "using": "(select auth.uid()) = user_id"}},
            "grants": [{"revoke": ["all"], "from": ["anon", "authenticated"]},
                       {"grant": ["select"], "to": ["authenticated"]}]},
        "public.notes": {
            "migration": "001", "rls": True,
            "columns": {"id": {"type": "bigint", "identity": "always", "primary_key": True},
                        "user_id": "uuid", "body": "text",
                        "folder_id": {"type": "uuid", "references": {"table": "public.folders", "column": "id"}}},
            "indexes": {"notes_folder_id_idx": {"columns": ["folder_id"]},
                        "notes_user_id_idx": {"columns": ["user_id"]}},
            "policies": {"Own notes": {"command": "select", "roles": ["authenticated"],
                                       "using": "(select auth.uid()) = user_id"}},
            "grants": [{"revoke": ["all"], "from": ["anon", "authenticated"]},
                       {"grant": ["select"], "to": ["authenticated"]}]},
    },
    "grants": [{"on": "sequence public.notes_id_seq", "migration": "001", "revoke": ["all"],
                "from": ["anon", "authenticated"]}],
}


def spec_text(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def findings(data: dict, validated: bool = True) -> list[lint.Finding]:
    text = spec_text(data)
    if validated:
        return lint.lint(api.load_spec_text(text, "spec.yaml"))
    schema, _problems = load_text(text, "spec.yaml")
    return lint.lint(schema)


def rules(found: list[lint.Finding]) -> set[str]:
    return {f.rule.name for f in found if f.suppressed is None}


def mutated(change) -> dict:
    data = copy.deepcopy(BASE)
    change(data)
    return data


def test_the_base_spec_is_clean():
    assert findings(BASE) == []
    with_view = mutated(_view)
    assert findings(with_view) == []  # a security_invoker view on the spec's own table is fine


def test_a_materialized_view_is_not_a_security_definer_view_and_can_be_suppressed():
    data = mutated(lambda d: _view(d, security_invoker=None, materialized=True))
    data["views"]["public.note_list"].pop("security_invoker")
    assert "security_definer_view" not in rules(findings(data))
    data = mutated(lambda d: _view(d, security_invoker=False, lint_ignore={
        "security_definer_view": "reads only public data; owner-side aggregation on purpose"}))
    found = findings(data)
    assert rules(found) == set() and [f.rule.name for f in found] == ["security_definer_view"]


def _t(data, name="public.notes"):
    return data["tables"][name]


def _f(data, name="public.clear_notes"):
    return data["functions"][name]


def _view(d, **kw):
    d["views"] = {"public.note_list": {"migration": "001", "security_invoker": True,
                                       "query": "select n.id, n.body from public.notes as n", **kw}}


TRIGGERS = {
    "auth_users_exposed": lambda d: _view(d, query="select u.id, u.email from auth.users as u"),
    "security_definer_view": lambda d: _view(d, security_invoker=False),
    "unindexed_foreign_keys": lambda d: _t(d)["indexes"].pop("notes_folder_id_idx"),
    "auth_rls_initplan": lambda d: _t(d)["policies"]["Own notes"].update(using="auth.uid() = user_id"),
    "no_primary_key": lambda d: _t(d)["columns"]["id"].pop("primary_key"),
    "multiple_permissive_policies": lambda d: _t(d)["policies"].update(
        {"Shared notes": {"command": "all", "roles": ["public"], "using": "body is not null"}}),
    "rls_enabled_no_policy": lambda d: _t(d).pop("policies"),
    "duplicate_index": lambda d: _t(d)["indexes"].update({"notes_user_id_idx2": {"columns": ["user_id"]}}),
    "function_search_path_mutable": lambda d: _f(d, "public.assert_self").pop("set"),
    "rls_references_user_metadata": lambda d: _t(d)["policies"]["Own notes"].update(
        using="(select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin'"),
    "rls_policy_always_true": lambda d: _t(d)["policies"].update(
        {"Anyone edits": {"command": "update", "roles": ["authenticated"], "using": "true"}}),
    "rls_disabled_in_public": lambda d: (_t(d).update(rls=False), _t(d).pop("policies")),
    "extension_in_public": lambda d: d["extensions"]["pg_trgm"].pop("schema"),
    "anon_security_definer_function_executable": lambda d: _f(d).update(
        grants=[{"grant": ["execute"], "to": ["authenticated"]}]),
    "api_role_truncate_or_sequence": lambda d: _t(d)["grants"].pop(0),
    "definer_without_caller_check": lambda d: _f(d).update(
        body="begin update public.notes set body = '' where user_id = p_user_id; end;"),
    "api_role_grant_option": lambda d: _t(d)["grants"].append(
        {"grant": ["select"], "to": ["authenticated"], "grant_option": True}),
}


@pytest.mark.parametrize("rule", sorted(TRIGGERS))
def test_each_rule_triggers_on_its_case_and_not_on_the_base(rule):
    found = findings(mutated(TRIGGERS[rule]))
    assert rule in rules(found), lint.format_text(found)
    finding = next(f for f in found if f.rule.name == rule)
    assert finding.pos is not None and finding.pos.file == "spec.yaml" and finding.pos.line > 1
    assert rule not in rules(findings(BASE))


def test_policy_exists_rls_disabled_triggers_on_the_loaded_model_and_validate_refuses_it():
    data = mutated(lambda d: _t(d).update(rls=False))
    assert "policy_exists_rls_disabled" in rules(findings(data, validated=False))
    assert "policy_exists_rls_disabled" not in rules(findings(BASE, validated=False))
    with pytest.raises(SpecError):
        api.load_spec_text(spec_text(data), "spec.yaml")


def test_anon_executing_a_definer_through_public_is_found():
    # revoked from anon but not from PUBLIC: anon still inherits PUBLIC's EXECUTE
    data = mutated(lambda d: _f(d).update(grants=[{"revoke": ["execute"], "from": ["anon"]}]))
    found = [f for f in findings(data) if f.rule.name == "anon_security_definer_function_executable"]
    assert found and "PUBLIC" in found[0].message


def test_a_sequence_left_to_the_api_roles_is_found():
    data = mutated(lambda d: d.pop("grants"))
    found = [f for f in findings(data) if f.rule.name == "api_role_truncate_or_sequence"]
    assert len(found) == 1 and "public.notes_id_seq" in found[0].message


def test_a_grant_option_for_an_api_role_is_found_on_every_kind_of_object_and_only_for_api_roles():
    def change(d):
        _f(d)["grants"].append({"grant": ["execute"], "to": ["authenticated"], "grant_option": True})
        d["schemas"]["public"]["grants"].append({"grant": ["usage"], "to": ["anon"], "grant_option": True})
        d["grants"].append({"on": "sequence public.notes_id_seq", "migration": "001", "grant": ["usage"],
                            "to": ["anon"], "grant_option": True})
        _t(d, "public.folders")["grants"].append(
            {"grant": ["update"], "columns": ["user_id"], "to": ["anon"], "grant_option": True})
        _view(d, grants=[{"grant": ["select"], "to": ["authenticated"], "grant_option": True}])
        d["roles"]["app_admin"] = {"assumed": True}  # another role may hold an option: not this rule's business
        _t(d)["grants"].append({"grant": ["select"], "to": ["app_admin"], "grant_option": True})
    found = [f for f in findings(mutated(change)) if f.rule.name == "api_role_grant_option"]
    assert all(f.rule.code == "SG03" and f.rule.level == "warning" and f.pos.line > 1 for f in found)
    assert sorted((f.object, f.message.split(" WITH ")[0]) for f in found) == [
        ("function public.clear_notes(uuid)", "authenticated holds execute on function public.clear_notes(uuid)"),
        ("schema public", "anon holds usage on schema public"),
        ("table public.folders", "anon holds update on column user_id of table public.folders"),
        ("table public.notes", "anon holds usage on sequence public.notes_id_seq"),  # an identity's: its table's
        ("view public.note_list", "authenticated holds select on view public.note_list"),
    ]
    assert all("could pass the privilege on to any other role" in f.message for f in found)
    assert lint.failing(found) == found  # a warning: `schemagen lint` exits 1


def test_a_grant_option_finding_is_suppressed_with_lint_ignore():
    def change(d):
        TRIGGERS["api_role_grant_option"](d)
        _t(d)["lint_ignore"] = {"SG03": "authenticated re-grants select to its own reporting role"}
    found = findings(mutated(change))
    assert rules(found) == set()
    assert [(f.rule.name, f.suppressed) for f in found] == [
        ("api_role_grant_option", "authenticated re-grants select to its own reporting role")]
    data = mutated(lambda d: _t(d).update(lint_ignore={"api_role_grant_option": "by name too"}))
    assert api.load_spec_text(spec_text(data), "spec.yaml") is not None


def test_a_grant_option_finding_on_a_schema_or_a_standalone_sequence_is_suppressed_with_lint_ignore():
    def change(d, ignore):
        d["schemas"]["public"]["grants"].append({"grant": ["usage"], "to": ["anon"], "grant_option": True})
        d["sequences"] = {"public.ticket_no": {"migration": "001", "grants": [
            {"grant": ["usage"], "to": ["authenticated"], "grant_option": True}]}}
        if ignore:
            d["schemas"]["public"]["lint_ignore"] = {"SG03": "anon passes usage on to the docs role"}
            d["sequences"]["public.ticket_no"]["lint_ignore"] = {"api_role_grant_option": "a shared counter"}
    found = [f for f in findings(mutated(lambda d: change(d, False))) if f.rule.name == "api_role_grant_option"]
    assert sorted((f.object, f.suppressed) for f in found) == [
        ("schema public", None), ("sequence public.ticket_no", None)]
    found = findings(mutated(lambda d: change(d, True)))
    assert rules(found) == set()
    assert sorted((f.object, f.suppressed) for f in found) == [
        ("schema public", "anon passes usage on to the docs role"),
        ("sequence public.ticket_no", "a shared counter")]


def test_what_an_assumed_table_lacks_in_the_spec_is_not_a_finding():
    # the spec declares only what it relies on; the app's table has its own key, policies, indexes
    def change(d):
        d["tables"]["public.app_items"] = {"assumed": True, "rls": True, "columns": {"user_id": "uuid"}}
        d["tables"]["public.app_log"] = {"assumed": True, "columns": {"line": "text"}}
    assert rules(findings(mutated(change))) == set()


def test_a_select_policy_using_true_is_not_always_true_but_an_insert_without_check_is():
    # splinter leaves public read access alone; it flags writes nobody checks
    read = mutated(lambda d: _t(d)["policies"].update(
        {"Public read": {"command": "select", "roles": ["anon"], "using": "true"}}))
    assert "rls_policy_always_true" not in rules(findings(read))
    write = mutated(lambda d: _t(d)["policies"].update(
        {"Anyone adds": {"command": "insert", "roles": ["authenticated"], "with_check": "1 = 1"}}))
    assert "rls_policy_always_true" in rules(findings(write))


def test_a_caller_check_inside_the_body_is_enough():
    data = mutated(lambda d: _f(d).update(
        body="begin if auth.uid() <> p_user_id then raise exception 'no'; end if; end;"))
    assert "definer_without_caller_check" not in rules(findings(data))


def test_a_definer_only_service_role_may_call_needs_no_caller_check():
    data = mutated(lambda d: _f(d).update(
        body="begin update public.notes set body = '' where user_id = p_user_id; end;",
        grants=[{"revoke": ["execute"], "from": ["public", "anon", "authenticated"]}]))
    assert rules(findings(data)) == set()


# ---------------------------------------------------------------- suppression

def test_lint_ignore_with_a_reason_suppresses_one_object():
    def change(d):
        TRIGGERS["no_primary_key"](d)
        _t(d)["lint_ignore"] = {"no_primary_key": "append-only log, read in bulk"}
        d["tables"]["public.logs"] = {"migration": "001", "rls": True, "columns": {"line": "text"}}
    found = findings(mutated(change))
    quiet = [f for f in found if f.suppressed]
    assert [(f.object, f.suppressed) for f in quiet] == [("table public.notes", "append-only log, read in bulk")]
    assert [f.object for f in found if f.rule.name == "no_primary_key" and not f.suppressed] == \
        ["table public.logs"]
    assert "1 suppressed" in lint.format_text(found)
    entries = json.loads(lint.format_json(found))["findings"]
    assert [x["object"] for x in entries if x.get("suppressed")] == ["table public.notes"]
    sarif = json.loads(lint.format_sarif(found))["runs"][0]["results"]
    assert [r["suppressions"][0]["justification"] for r in sarif if "suppressions" in r] == \
        ["append-only log, read in bulk"]


def test_lint_ignore_by_number_on_a_function():
    def change(d):
        _f(d, "public.assert_self").pop("set")
        _f(d, "public.assert_self")["lint_ignore"] = {"0011": "plain SQL helper"}
    assert rules(findings(mutated(change))) == set()


@pytest.mark.parametrize("ignore, message", [
    ({"no_primary_key": ""}, "needs a reason"),
    ({"no_primary_key": None}, "needs a reason"),
    ({"no_primary_kye": "typo"}, "unknown lint rule 'no_primary_kye'"),
])
def test_lint_ignore_needs_a_known_rule_and_a_reason(ignore, message):
    data = mutated(lambda d: _t(d).update(lint_ignore=ignore))
    with pytest.raises(SpecError) as info:
        api.load_spec_text(spec_text(data), "spec.yaml")
    assert message in str(info.value)


# ---------------------------------------------------------------- formats and CLI

def test_json_and_sarif():
    found = findings(mutated(TRIGGERS["rls_disabled_in_public"]))
    data = json.loads(lint.format_json(found, "spec.yaml"))
    entry = next(x for x in data["findings"] if x["rule"] == "rls_disabled_in_public")
    assert entry["code"] == "0013" and entry["level"] == "error" and entry["file"] == "spec.yaml"
    sarif = json.loads(lint.format_sarif(found, "spec.yaml"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "0013" in ids and "SG02" in ids
    result = next(r for r in run["results"] if r["ruleId"] == "0013")
    assert result["level"] == "error" and ids[result["ruleIndex"]] == "0013"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1


def _write(tmp_path, data) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(spec_text(data))
    return str(path)


def test_cli_exit_codes(tmp_path):
    runner = CliRunner()
    clean = _write(tmp_path, BASE)
    assert runner.invoke(main, ["lint", "--spec", clean]).exit_code == 0
    warn = _write(tmp_path, mutated(TRIGGERS["duplicate_index"]))
    result = runner.invoke(main, ["lint", "--spec", warn])
    assert result.exit_code == 1 and "warning 0009 duplicate_index" in result.output
    assert runner.invoke(main, ["lint", "--spec", warn, "--fail-on", "error"]).exit_code == 0
    # validate prints the warning but passes; an error fails it
    result = runner.invoke(main, ["validate", "--spec", warn])
    assert result.exit_code == 0 and "duplicate_index" in result.output
    error = _write(tmp_path, mutated(TRIGGERS["rls_disabled_in_public"]))
    result = runner.invoke(main, ["validate", "--spec", error])
    assert result.exit_code == 1 and "rls_disabled_in_public" in result.output and "lint error" in result.output
    result = runner.invoke(main, ["lint", "--spec", error, "--format", "sarif"])
    assert result.exit_code == 1 and json.loads(result.output)["version"] == "2.1.0"


def test_the_jarvis_spec_is_clean():
    found = lint.lint(api.load_spec(ROOT / "schema.yaml"))
    assert found == [], lint.format_text(found)
    result = CliRunner().invoke(main, ["lint", "--spec", str(ROOT / "schema.yaml")])
    assert result.exit_code == 0 and "0 errors, 0 warnings, 0 info" in result.output


def test_every_rule_is_tested_both_ways():
    tested = set(TRIGGERS) | {"policy_exists_rls_disabled"}
    assert tested == set(lint.RULES)


def test_spec_access_changes_offline():
    from jarvis_schemagen import access

    old = api.load_spec_text(spec_text(BASE), "spec.yaml")
    new = api.load_spec_text(spec_text(mutated(lambda d: _t(d)["grants"].pop(0))), "spec.yaml")
    changes = access.spec_access_changes(old, new)
    # `revoke all from anon, authenticated` dropped: the platform's default privileges come back;
    # RLS still hides every row from them, but TRUNCATE does not look at RLS
    assert [(c.object, c.role, c.command, c.verdict) for c in changes] == [
        ("public.notes", "anon", "truncate", "widened"), ("public.notes", "authenticated", "truncate", "widened")]
    assert access.spec_access_changes(old, old) == []
