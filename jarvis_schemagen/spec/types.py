"""Column and argument types: aliases folded to the names PostgreSQL's format_type() prints."""
from __future__ import annotations

import re

# alias -> canonical name (as format_type prints it)
_SIMPLE = {
    "smallint": "smallint", "int2": "smallint",
    "integer": "integer", "int": "integer", "int4": "integer",
    "bigint": "bigint", "int8": "bigint",
    "real": "real", "float4": "real",
    "double precision": "double precision", "float8": "double precision", "float": "double precision",
    "numeric": "numeric", "decimal": "numeric",
    "text": "text", "citext": "citext",
    "boolean": "boolean", "bool": "boolean",
    "uuid": "uuid", "json": "json", "jsonb": "jsonb", "bytea": "bytea",
    "date": "date", "interval": "interval",
    "timestamptz": "timestamp with time zone",
    "timestamp with time zone": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timestamp without time zone": "timestamp without time zone",
    "time": "time without time zone", "time without time zone": "time without time zone",
    "timetz": "time with time zone", "time with time zone": "time with time zone",
    "inet": "inet", "cidr": "cidr", "macaddr": "macaddr", "money": "money",
    "tsvector": "tsvector", "tsquery": "tsquery", "xml": "xml", "oid": "oid",
    "varchar": "character varying", "character varying": "character varying",
    "char": "character", "character": "character",
    "int4range": "int4range", "int8range": "int8range", "tstzrange": "tstzrange", "daterange": "daterange",
}
# types that take a length/precision modifier
_MODIFIABLE = {"numeric", "character varying", "character", "timestamp with time zone",
               "timestamp without time zone", "time without time zone", "time with time zone", "interval"}
# serial types: PostgreSQL's shorthand for an integer column with a nextval() default and an owned sequence
SERIAL_TYPES = {"smallserial": "smallint", "serial2": "smallint", "serial": "integer", "serial4": "integer",
                "bigserial": "bigint", "serial8": "bigint"}
# only valid as function return types
RETURN_ONLY = {"void", "trigger", "record", "event_trigger"}
KNOWN_NAMES = sorted(set(_SIMPLE) | RETURN_ONLY | {"serial", "bigserial"})

_TYPE_RE = re.compile(
    r"^(?P<base>[a-z_][a-z0-9_ ]*?)\s*(?:\(\s*(?P<mods>\d+(?:\s*,\s*\d+)?)\s*\))?\s*(?P<array>(?:\[\])*)$"
)
_QUALIFIED_RE = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*$")


class TypeProblem(ValueError):
    pass


def canonical_type(text: str, *, allow_return_only: bool = False) -> str:
    """The canonical spelling of a type, or TypeProblem with a helpful message."""
    raw = " ".join(str(text).strip().lower().split())
    if allow_return_only and raw.startswith("setof "):
        return "setof " + canonical_type(raw[6:])
    if _QUALIFIED_RE.match(raw):
        return raw  # a user-defined or extension type, schema-qualified: taken as written
    m = _TYPE_RE.match(raw)
    if not m:
        raise TypeProblem(f"invalid type '{text}'")
    base, mods, array = m.group("base").strip(), m.group("mods"), m.group("array") or ""
    if base in SERIAL_TYPES:
        raise TypeProblem(
            f"type '{base}' is only valid for a column (it is an integer with a sequence); here use "
            f"{SERIAL_TYPES[base]}"
        )
    if base in RETURN_ONLY:
        if not allow_return_only or mods or array:
            raise TypeProblem(f"type '{base}' is only valid as a function's return type")
        return base
    canon = _SIMPLE.get(base)
    if canon is None:
        from .problems import did_you_mean

        raise TypeProblem(
            f"unknown type '{text}'{did_you_mean(base, _SIMPLE)}; "
            "schema-qualify user-defined and extension types (e.g. extensions.vector)"
        )
    if mods:
        if canon not in _MODIFIABLE:
            raise TypeProblem(f"type '{base}' takes no modifier")
        mods = ",".join(p.strip() for p in mods.split(","))
        if canon.startswith(("timestamp", "time ")):
            # format_type prints timestamp(3) with time zone
            word, _, rest = canon.partition(" ")
            canon = f"{word}({mods}) {rest}"
        else:
            canon = f"{canon}({mods})"
    return canon + array
