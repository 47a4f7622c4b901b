"""The JSON Schema for editors: built from the loader's key tables, shipped, and in agreement with the loader.

The loader accepts exactly the keys of ``keys.SHAPES`` (``_fields`` reads them from there);
these tests fail when the two could drift apart:
- the shipped schema.json is not what the key tables produce now (a key added, file not regenerated);
- the loader reads an object through something other than a declared shape, or parses a key
  the table does not declare;
- a key of the table is never read by the loader (declared on one side only), or is not shown
  working in any example spec (kitchen sink, Jarvis, the starter, EXTRA below);
- a spec the loader accepts does not validate against the schema, or an unknown key is
  rejected by one and not the other.
"""
from __future__ import annotations

import ast
import copy
import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from jarvis_schemagen import api
from jarvis_schemagen.cli import main
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.scaffold import starter_spec_text
from jarvis_schemagen.spec import loader
from jarvis_schemagen.spec.keys import EXTENDS, SHAPES
from jarvis_schemagen.spec.schema_json import shipped_schema_text, spec_json_schema, spec_json_schema_text

ROOT = Path(__file__).resolve().parents[2]
KITCHEN_SINK = ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml"
JARVIS = ROOT / "schema.yaml"

# What the other example specs do not show: every remaining key, once.
EXTRA = textwrap.dedent("""\
    version: 1
    migrations:
      "001": {name: first}
      "20240101000001": second
    roles:
      reader: {assumed: true, login: false, comment: Reads., member_of: []}
    schemas:
      app:
        assumed: true
        default_privileges:
          - {on: tables, grant: [select], to: [reader], for_role: postgres}
        lint_ignore: {api_role_grant_option: example of a reason}
    extensions:
      plpgsql: {assumed: true, lint_ignore: {no_primary_key: example of a reason}}
    types:
      app.mood: {assumed: true, enum: [calm, busy]}
      app.score: {migration: "001", domain: integer, default: "0", check: value >= 0}
    sequences:
      app.ticket_no: {migration: "001", type: bigint, start: 1000, increment: 1, min: 1, max: 999999, cycle: false}
      app.legacy_seq: {assumed: true, lint_ignore: {SG03: example of a reason}}
    publications:
      supabase_realtime:
        assumed: true
        tables:
          - {table: app.parents, migration: "20240101000001"}
      app_changes:
        migration: "20240101000001"
        tables: [app.children]
    views:
      app.existing: {assumed: true, query: select 1 as one, lint_ignore: {"0010": example of a reason}}
    tables:
      app.parents:
        migration: "001"
        rls: true
        columns:
          a: {type: integer, nullable: false}
          b: {type: integer, nullable: false}
          during: tstzrange
        constraints:
          parents_pkey: {primary_key: [a, b]}
          parents_no_overlap: {exclude: "using gist (during with &&)", migration: "20240101000001"}
        seed: {migration: "20240101000001", rows: [{a: 1, b: 1}]}
      app.events:
        migration: "001"
        columns:
          at: {type: timestamptz, nullable: false}
        partition_by: range (at)
        partitions:
          app.events_2026: {bound: "from ('2026-01-01') to ('2027-01-01')", migration: "20240101000001"}
          app.events_rest: default
      app.children:
        migration: "001"
        rls: true
        lint_ignore: {no_primary_key: example of a reason}
        columns:
          id: {type: bigint, identity: always, primary_key: true}
          pa: integer
          pb: integer
        constraints:
          children_parent_fkey:
            foreign_key: [pa, pb]
            references: {table: app.parents, columns: [a, b], name: children_parent_fkey, deferrable: true}
          children_pa_check: {check: pa > 0, migration: "20240101000001"}
        policies:
          Read:
            roles: [reader]
            using: "true"
            migration: "20240101000001"
        triggers:
          children_touch:
            timing: before
            events: insert
            function: app.touch
            comment: Touches.
    functions:
      app.touch:
        migration: "001"
        returns: trigger
        body: begin return new; end;
        lint_ignore: {"0011": example of a reason}
      app.add:
        migration: "001"
        arguments:
          - {name: a, type: integer, mode: in}
          - {name: b, type: integer, mode: inout}
        returns: integer
        language: sql
        body: select a + b
        grants: [{grant: [execute], to: [reader], grant_option: true}]
    indexes:
      children_pa_idx:
        table: app.children
        columns: [pa]
        unique: false
        method: btree
        where: pa is not null
        include: [pb]
        comment: Serves the foreign key.
        migration: "20240101000001"
    policies:
      Write:
        table: app.children
        command: insert
        roles: [reader]
        permissive: false
        with_check: pa > 0
        comment: Restrictive.
        migration: "20240101000001"
      Read own:
        table: app.parents
        command: select
        using: "true"
        migration: "20240101000001"
    triggers:
      children_check:
        table: app.children
        timing: after
        events: [update]
        columns: [pa]
        for_each: statement
        when: "true"
        function: app.touch
        arguments: [checked]
        comment: Statement level.
        migration: "20240101000001"
    grants:
      - on: sequence app.children_id_seq
        migration: "001"
        revoke: [all]
        from: [reader]
      - on: table app.parents
        migration: "001"
        grant: [select]
        to: [reader]
        grant_option: true
      - on: table app.children
        migration: "001"
        grant: [update]
        columns: [pa]
        to: [reader]
    """)


class _Yaml12Loader(yaml.SafeLoader):
    """What editors use (YAML 1.2): `on:` is a key, not the boolean true."""


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|false)$"),
                                    list("tf"))


def as_document(text: str):
    return yaml.load(text, Loader=_Yaml12Loader)


def examples() -> dict[str, str]:
    return {"kitchen sink": KITCHEN_SINK.read_text(), "jarvis": JARVIS.read_text(),
            "starter": starter_spec_text(), "extra": EXTRA}


@pytest.fixture(scope="module")
def validator():
    schema = spec_json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator, doc) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


# ---------------------------------------------------------------- one source, shipped

def test_the_shipped_schema_is_what_the_key_tables_produce():
    assert shipped_schema_text() == spec_json_schema_text(), (
        "jarvis_schemagen/spec/schema.json is stale: run `schemagen schema-json -o jarvis_schemagen/spec/schema.json`")


def test_schema_json_command_prints_and_writes_the_same_bytes(tmp_path):
    printed = CliRunner().invoke(main, ["schema-json"])
    assert printed.exit_code == 0 and printed.output == spec_json_schema_text()
    out = tmp_path / "s.json"
    written = CliRunner().invoke(main, ["schema-json", "--out", str(out)])
    assert written.exit_code == 0 and out.read_text() == spec_json_schema_text()
    assert json.loads(out.read_text())["additionalProperties"] is False


def test_every_shape_and_key_is_in_the_schema():
    schema = spec_json_schema()
    assert set(schema["properties"]) == set(SHAPES["spec"].keys)
    for name, shape in SHAPES.items():
        if name != "spec":
            d = schema["definitions"][name]
            assert set(d["properties"]) == set(shape.keys), name
            assert set(d.get("required", ())) == set(shape.required), name


# ---------------------------------------------------------------- the loader reads through the tables

def _fields_calls():
    tree = ast.parse(Path(loader.__file__).read_text())
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_fields"]


def test_every_loader_read_names_a_declared_shape_and_only_its_keys():
    calls = _fields_calls()
    assert len(calls) >= 15
    for call in calls:
        where = f"spec/loader.py:{call.lineno}"
        assert len(call.args) >= 4 and isinstance(call.args[3], ast.Constant), (
            f"{where}: _fields must name its shape from keys.SHAPES as a literal")
        shape = call.args[3].value
        assert shape in SHAPES, f"{where}: shape {shape!r} is not declared in spec/keys.py"
        parse = call.args[4] if len(call.args) > 4 else next((k.value for k in call.keywords if k.arg == "parse"), None)
        if parse is not None:
            assert isinstance(parse, ast.Dict), f"{where}: give the readers as a dict literal"
            keys = {k.value for k in parse.keys if isinstance(k, ast.Constant)}
            assert keys <= set(SHAPES[shape].keys), f"{where}: reads {keys - set(SHAPES[shape].keys)} not in the table"


def test_a_reader_for_an_undeclared_key_is_refused_at_once():
    ctx = loader._Ctx("s.yaml")
    with pytest.raises(AssertionError, match="not in keys.SHAPES"):
        loader._fields(ctx, yaml.compose("{}"), "x", "rls", {"colour": lambda n: n})


class _Tracked(dict):
    """The dict ``_fields`` returns, remembering which keys the loader looked at afterwards."""

    def __init__(self, *a):
        super().__init__(*a)
        self.seen: set[str] = set()

    def __getitem__(self, k):
        self.seen.add(k)
        return super().__getitem__(k)

    def get(self, k, default=None):
        self.seen.add(k)
        return super().get(k, default)

    def __contains__(self, k):
        self.seen.add(k)
        return super().__contains__(k)


@pytest.fixture(scope="module")
def loader_reads():
    """shape -> keys the example specs gave it, and the keys the loader then ignored."""
    given: dict[str, set[str]] = {name: set() for name in SHAPES}
    ignored: list[str] = []
    original = loader._fields

    def tracking(ctx, node, what, shape, parse=None):
        out = original(ctx, node, what, shape, parse)
        if out is None:
            return None
        tracked = _Tracked(out)
        given[shape] |= {k for k in out if not k.startswith("@")}
        results.append((shape, what, tracked))
        return tracked

    results: list = []
    loader._fields = tracking
    try:
        for name, text in examples().items():
            schema, problems = loader.load_text(text, name)
            assert schema is not None and not problems, (name, [str(p) for p in problems])
    finally:
        loader._fields = original
    for shape, what, tracked in results:
        for k in tracked:
            if not k.startswith("@") and k not in tracked.seen:
                ignored.append(f"{shape} ({what}): {k}")
    # the top-level policies/indexes/triggers/grants are the nested shapes plus their object key
    for top, base in EXTENDS.items():
        section = {"top_index": "indexes", "top_policy": "policies", "top_trigger": "triggers",
                   "top_grant": "grants"}[top]
        for name, text in examples().items():
            doc = as_document(text).get(section) or {}
            items = doc.values() if isinstance(doc, dict) else doc
            for item in items:
                given[top] |= set(item)
    return given, ignored


def test_the_loader_uses_every_key_it_parses(loader_reads):
    _, ignored = loader_reads
    assert not ignored, f"keys parsed by the loader and then ignored (declared in keys.py only?): {ignored}"


def test_every_declared_key_is_shown_working_in_an_example_spec(loader_reads):
    given, _ = loader_reads
    missing = {name: sorted(set(shape.keys) - given[name]) for name, shape in SHAPES.items()
               if set(shape.keys) - given[name]}
    assert not missing, ("keys no example spec uses (add them to the kitchen sink or EXTRA in this file, "
                         f"so both the loader and the JSON Schema are exercised): {missing}")


# ---------------------------------------------------------------- specs against the schema

@pytest.mark.parametrize("name", ["kitchen sink", "jarvis", "starter", "extra"])
def test_example_specs_are_valid_for_the_loader_and_the_schema(name, validator):
    text = examples()[name]
    api.load_spec_text(text, f"{name}.yaml")
    assert schema_errors(validator, as_document(text)) == []


UNKNOWN_KEY_PLACES = [
    (KITCHEN_SINK, ()),
    (KITCHEN_SINK, ("tables", "shop.customers")),
    (KITCHEN_SINK, ("tables", "shop.customers", "columns", "email")),
    (KITCHEN_SINK, ("tables", "shop.customers", "policies", "Readers see everyone")),
    (KITCHEN_SINK, ("functions", "shop.order_total", "arguments", 0)),
    (JARVIS, ("schemas", "public", "default_privileges", 0)),
    (JARVIS, ("tables", "public.user_plans", "columns", "user_id", "references")),
]


@pytest.mark.parametrize("path,where", UNKNOWN_KEY_PLACES, ids=lambda v: "/".join(map(str, v)) if isinstance(v, tuple) else v.parent.name)
def test_an_unknown_key_is_rejected_by_both(path, where, validator):
    doc = as_document(path.read_text())
    bad = copy.deepcopy(doc)
    target = bad
    for step in where:
        target = target[step]
    target["colums"] = 1
    assert schema_errors(validator, bad), f"the schema accepted an unknown key at {where}"
    with pytest.raises(SpecError) as exc:
        api.load_spec_text(yaml.safe_dump(bad, sort_keys=False), "bad.yaml")
    assert any("unknown key 'colums'" in str(p) for p in exc.value.problems)


def test_a_misspelt_value_is_flagged_by_the_schema(validator):
    doc = as_document(KITCHEN_SINK.read_text())
    doc["tables"]["shop.customers"]["policies"]["Readers see everyone"]["command"] = "selcet"
    doc["tables"]["shop.customers"]["rls"] = {"enabled": "yes"}
    doc["migrations"]["x1"] = "bad_id"
    errors = " | ".join(schema_errors(validator, doc))
    assert "'selcet' is not one of" in errors and "shop.customers/rls" in errors and "'x1' does not match" in errors
