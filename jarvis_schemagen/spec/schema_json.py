"""The JSON Schema of the spec, for editors (yaml-language-server, VS Code, JetBrains).

Generated from the loader's own key tables (``keys.SHAPES``), so editors offer and check
exactly the keys ``schemagen validate`` accepts. The package ships the result as
``jarvis_schemagen/spec/schema.json``; ``schemagen schema-json`` prints or writes it.
Cross-object rules (unknown tables, foreign keys, ...) stay with ``schemagen validate``.
"""
from __future__ import annotations

import json
from importlib import resources

from .keys import MIGRATION_ID_RE, SHAPES, TRIGGER_EVENTS, Key, Shape

SHIPPED = "schema.json"

_TEXT = {"type": ["string", "number", "boolean"]}  # the loader reads any scalar as the text written


def _key_schema(key: Key) -> dict:
    if key.kind == "bool":
        out: dict = {"type": "boolean"}
    elif key.kind in ("text", "expr"):
        out = dict(_TEXT)
    elif key.kind == "integer":
        out = {"type": "integer"}
    elif key.kind == "texts":
        out = {"anyOf": [dict(_TEXT), {"type": "array", "items": dict(_TEXT)}]}
    elif key.kind == "choice":
        out = {"enum": list(key.choices)}
    elif key.kind in ("type", "return_type"):
        out = {"type": "string"}
    elif key.kind == "migration":
        out = {"type": ["string", "integer"], "pattern": MIGRATION_ID_RE}
    elif key.kind == "lint_ignore":
        out = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
    elif key.kind == "node":
        out = dict(key.schema or {})
    else:  # pragma: no cover - a new kind must be described here
        raise AssertionError(f"key kind {key.kind!r} has no JSON Schema")
    if key.doc:
        out["description"] = key.doc
    return out


def _shape_schema(shape: Shape) -> dict:
    out: dict = {
        "type": "object",
        "properties": {name: _key_schema(k) for name, k in shape.keys.items()},
        "additionalProperties": False,
    }
    if shape.required:
        out["required"] = list(shape.required)
    if shape.doc:
        out["description"] = shape.doc
    return out


def spec_json_schema() -> dict:
    """The JSON Schema (draft-07) of schema.yaml, built from ``keys.SHAPES``."""
    definitions: dict = {"trigger_event": {"enum": list(TRIGGER_EVENTS)}}
    for name, shape in SHAPES.items():
        if name == "spec":
            continue
        definitions[name] = _shape_schema(shape)
        value = ({"anyOf": [shape.shorthand, {"$ref": f"#/definitions/{name}"}]} if shape.shorthand
                 else {"$ref": f"#/definitions/{name}"})
        names = {"pattern": shape.names} if shape.names else {}
        definitions[f"{name}_map"] = {
            "type": ["object", "null"], "additionalProperties": value,
            **({"propertyNames": names} if names else {}),
        }
    top = _shape_schema(SHAPES["spec"])
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "schemagen spec (schema.yaml)",
        **top,
        "definitions": definitions,
    }


def spec_json_schema_text() -> str:
    """The schema as the bytes shipped and written: sorted keys, two-space indent, final newline."""
    return json.dumps(spec_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def shipped_schema_text() -> str:
    """The copy shipped in the package (tests check it equals ``spec_json_schema_text()``)."""
    return resources.files(__package__).joinpath(SHIPPED).read_text(encoding="utf-8")
