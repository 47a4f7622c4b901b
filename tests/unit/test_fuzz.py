"""Fuzzing the spec pipeline in process (issue 12, item 7): real specs (the Jarvis spec and the
kitchen sink) mutated node by node (deleted, retyped, duplicated, replaced by adversarial text)
through validate and render. The only acceptable outcomes are a rendered result or the tool's
own error (SchemagenError); any other exception is a bug.

Bounded for CI (a few hundred examples, a few seconds). A longer run:
``scripts/fuzz-spec [EXAMPLES]`` (the same test under the "long" hypothesis profile).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jarvis_schemagen import api
from jarvis_schemagen.errors import SchemagenError

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "jarvis": (ROOT / "schema.yaml").read_text(),
    "kitchen_sink": (ROOT / "tests" / "fixtures" / "kitchen_sink" / "schema.yaml").read_text(),
}

settings.register_profile("ci", max_examples=int(os.environ.get("SCHEMAGEN_FUZZ_EXAMPLES", "60")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], derandomize=True)
settings.register_profile("long", max_examples=int(os.environ.get("SCHEMAGEN_FUZZ_EXAMPLES", "20000")),
                          deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("SCHEMAGEN_FUZZ_PROFILE", "ci"))

# what an adversary types into a spec
NASTY = [
    "", " ", "\n", "x\ny", "a;b", "'; drop table public.victim; --", '"; drop table public.victim; --',
    "$$", "$body$", "$function$", "*/", "/*", "--", "\\", "\\! touch /tmp/pwned", "\x00", "\x1b]0;pwned\x07",
    "\u202e", "\u2028", "é", "日本", "🙂", "a" * 70, "1e400", "nan", "-1", "true", "yes", "on", "null", "~",
    "public.victim", "pg_catalog.now()", "schemagen.migrations", "integer", "uuid[]", "numeric(12,", "((", "))",
    "table public.t", "function public.f(int);", "all", "execute", "select; drop",
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))


def _nodes(root) -> list[tuple[object, int, str]]:
    """(container node, index, 'key'|'value'|'item') for every node below ``root``."""
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for i, (k, v) in enumerate(node.value):
                out += [(node, i, "key"), (node, i, "value")]
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out.append((node, i, "item"))
                stack.append(v)
    return out


def _scalar(text: str) -> yaml.ScalarNode:
    return yaml.ScalarNode("tag:yaml.org,2002:str", text, style='"')


def _get(parent, i, where):
    if where == "item":
        return parent.value[i]
    return parent.value[i][0 if where == "key" else 1]


def _set(parent, i, where, node) -> None:
    if where == "item":
        parent.value[i] = node
    else:
        k, v = parent.value[i]
        parent.value[i] = (node, v) if where == "key" else (k, node)


def mutate(root, data) -> None:
    """Apply one to four random mutations to the node tree ``root`` (in place)."""
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        places = _nodes(root)
        if not places:
            return
        parent, i, where = places[data.draw(st.integers(0, len(places) - 1), label="place")]
        op = data.draw(st.sampled_from(["delete", "duplicate", "nasty text", "to list", "to mapping", "to null",
                                        "to number", "to bool", "swap"]), label="op")
        node = _get(parent, i, where)
        if op == "delete":
            del parent.value[i]
        elif op == "duplicate":
            parent.value.insert(i, parent.value[i])
        elif op == "nasty text":
            _set(parent, i, where, _scalar(data.draw(TEXT, label="text")))
        elif op == "to list":
            _set(parent, i, where, yaml.SequenceNode("tag:yaml.org,2002:seq", [node], flow_style=True))
        elif op == "to mapping":
            _set(parent, i, where, yaml.MappingNode("tag:yaml.org,2002:map", [(_scalar("x"), node)], flow_style=True))
        elif op == "to null":
            _set(parent, i, where, yaml.ScalarNode("tag:yaml.org,2002:null", "~"))
        elif op == "to number":
            _set(parent, i, where, yaml.ScalarNode("tag:yaml.org,2002:int", str(data.draw(st.integers(-10, 10**6)))))
        elif op == "to bool":
            _set(parent, i, where, yaml.ScalarNode("tag:yaml.org,2002:bool", data.draw(st.sampled_from(["true", "false"]))))
        elif op == "swap" and where != "key":
            other = places[data.draw(st.integers(0, len(places) - 1), label="other")]
            if other[2] != "key":
                _set(parent, i, where, _get(*other))


def run_pipeline(text: str) -> None:
    """validate + render + assumed-sql; the tool's own errors are fine, nothing else is."""
    try:
        schema = api.load_spec_text(text, "fuzz.yaml")
        api.render_migrations(schema)
        api.assumed_objects_sql(schema)
    except SchemagenError:
        pass


@pytest.mark.parametrize("name", sorted(SPECS))
@given(data=st.data())
def test_mutated_specs_never_crash(name, data):
    root = yaml.compose(SPECS[name])
    mutate(root, data)
    try:
        text = yaml.serialize(root)
    except yaml.YAMLError:
        return  # a mutation YAML itself cannot express (e.g. a mapping as a key in block style)
    run_pipeline(text)


@given(text=st.text(max_size=300))
def test_arbitrary_text_never_crashes(text):
    run_pipeline(text)


@given(data=st.data())
def test_nasty_text_in_every_scalar_of_the_jarvis_spec(data):
    """Every scalar value replaced, one at a time, by adversarial text: refused or rendered."""
    root = yaml.compose(SPECS["jarvis"])
    places = [p for p in _nodes(root) if p[2] != "key" and isinstance(_get(*p), yaml.ScalarNode)]
    parent, i, where = places[data.draw(st.integers(0, len(places) - 1))]
    _set(parent, i, where, _scalar(data.draw(TEXT)))
    run_pipeline(yaml.serialize(root))
