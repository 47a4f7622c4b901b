"""The key tables of the spec: which keys each kind of object takes, of what kind, which are required.

One source for two readers: the loader (``loader._fields`` accepts exactly these keys and
parses each by its kind unless the loader gives a handler of its own) and the JSON Schema
for editors (``schema_json.spec_json_schema``). A key added here is accepted by the loader
and offered by editors at once; ``tests/unit/test_schema_json.py`` fails if the loader
reads keys of a shape that is not declared here, or if the shipped JSON Schema is stale.

Key kinds: ``bool`` (true/false), ``text`` (any scalar, read as written), ``expr`` (an SQL
expression, refused when it could leave its statement: sqltext.expression_problem), ``texts``
(one text or a list of them), ``integer``, ``choice`` (one of ``choices``), ``type`` /
``return_type`` (a PostgreSQL type), ``migration`` (a declared migration id), ``lint_ignore``
({rule: reason}, see lint.py), ``node`` (a structure the loader reads itself; ``schema``
describes it for the JSON Schema, ``ref(shape)`` pointing at another shape).
"""
from __future__ import annotations

from dataclasses import dataclass

# migration ids: "001" style (1 to 6 digits) or Supabase CLI timestamps (14 digits)
MIGRATION_ID_RE = r"^(\d{1,6}|\d{14})$"
IDENT = r"[a-z_][a-z0-9_$]*"
NAME_RE = f"^{IDENT}$"
QUALIFIED_RE = f"^({IDENT}\\.)?{IDENT}$"
SIGNATURE_RE = f"^({IDENT}\\.)?{IDENT}\\s*(\\(.*\\))?$"  # a function, maybe with its argument types


@dataclass(frozen=True)
class Key:
    kind: str  # bool text expr texts integer choice type return_type migration lint_ignore node
    doc: str = ""
    choices: tuple[str, ...] = ()
    schema: dict | None = None  # JSON Schema of a ``node`` key


@dataclass(frozen=True)
class Shape:
    keys: dict[str, Key]
    required: tuple[str, ...] = ()
    doc: str = ""
    shorthand: dict | None = None  # JSON Schema of a scalar written instead of the mapping
    names: str | None = None  # pattern of the names when the shape is the value of a named map


def ref(shape: str) -> dict:
    return {"$ref": f"#/definitions/{shape}"}


def map_of(shape: str) -> dict:
    """A mapping name -> object of ``shape`` (the names are checked by ``Shape.names``)."""
    return {"$ref": f"#/definitions/{shape}_map"}


def list_of(shape: str) -> dict:
    return {"type": "array", "items": ref(shape)}


def bool_(doc: str = "") -> Key:
    return Key("bool", doc)


def text(doc: str = "") -> Key:
    return Key("text", doc)


def expr(doc: str = "") -> Key:
    return Key("expr", doc)


def integer(doc: str = "") -> Key:
    return Key("integer", doc)


def texts(doc: str = "") -> Key:
    return Key("texts", doc)


def choice(*choices: str, doc: str = "") -> Key:
    return Key("choice", doc, choices=choices)


def node(schema: dict, doc: str = "") -> Key:
    return Key("node", doc, schema=schema)


ASSUMED = bool_("Exists before migration 001 (created outside schemagen); never rendered.")
MIGRATION = Key("migration", "The id of the migration that creates it.")
COMMENT = text("COMMENT ON ... text.")
GRANTS = node(list_of("grant"), "Grants and revokes, kept in order.")
TABLE_GRANTS = node(list_of("table_grant"), "Grants and revokes, kept in order; `columns:` makes them column grants.")
LINT_IGNORE = Key("lint_ignore", "Lint findings to suppress on this object: {rule name or number: reason}.")
FK_ACTIONS = ("cascade", "set null", "set default", "restrict", "no action")

_GRANT_KEYS = {
    "grant": texts("Privileges to grant."),
    "revoke": texts("Privileges to revoke."),
    "to": texts("Roles a grant goes to."),
    "from": texts("Roles a revoke takes from."),
    "grant_option": bool_("WITH GRANT OPTION: the grantees may grant these privileges on (a grant to roles, "
                          "not on a revoke, not to public)."),
    "migration": MIGRATION,
}
_INDEX_KEYS = {
    "comment": COMMENT,
    "migration": MIGRATION,
    "columns": texts("Columns or expressions, each optionally with an operator class, asc/desc, nulls first/last."),
    "unique": bool_(),
    "method": choice("btree", "hash", "gin", "gist", "brin", "spgist"),
    "where": expr("Partial index predicate (SQL)."),
    "include": texts("Covering columns."),
}
_POLICY_KEYS = {
    "comment": COMMENT,
    "migration": MIGRATION,
    "command": choice("all", "select", "insert", "update", "delete"),
    "roles": texts("Roles the policy applies to (default public)."),
    "permissive": bool_("false: restrictive."),
    "using": expr("USING expression (SQL)."),
    "with_check": expr("WITH CHECK expression (SQL)."),
}
_TRIGGER_KEYS = {
    "comment": COMMENT,
    "migration": MIGRATION,
    "function": text("The trigger function, schema.name."),
    "timing": choice("before", "after", "instead of"),
    "events": node({"anyOf": [ref("trigger_event"), {"type": "array", "items": ref("trigger_event")}]}),
    "for_each": choice("row", "statement"),
    "columns": texts("UPDATE OF columns."),
    "when": expr("WHEN condition (SQL)."),
    "arguments": texts("Arguments passed to the trigger function (TG_ARGV), as text."),
}
_TABLE_NAME = text("The table, schema.name.")

SHAPES: dict[str, Shape] = {
    "spec": Shape({
        "version": node({"enum": [1, "1"]}, "Spec language version: 1."),
        "migrations": node(map_of("migration"), "Ordered migrations: id -> name (the file is <id>_<name>.sql)."),
        "roles": node(map_of("role"), "Roles the spec assumes (cluster-wide, never created)."),
        "schemas": node(map_of("schema")),
        "extensions": node(map_of("extension")),
        "types": node(map_of("type"), "Enum and domain types by schema.name."),
        "sequences": node(map_of("sequence"), "Standalone sequences by schema.name."),
        "tables": node(map_of("table"), "Tables by schema.name."),
        "views": node(map_of("view"), "Views and materialized views by schema.name, in dependency order."),
        "functions": node(map_of("function"), "Functions by schema.name, or schema.name(argument types) for overloads."),
        "policies": node(map_of("top_policy"), "Policies naming their table."),
        "indexes": node(map_of("top_index"), "Indexes naming their table."),
        "triggers": node(map_of("top_trigger"), "Triggers naming their table."),
        "grants": node(list_of("top_grant"), "Grants on objects without a section of their own."),
        "publications": node(map_of("publication"), "Logical replication publications (e.g. supabase_realtime)."),
        "data": node(map_of("data"), "Data statements (seed rows, backfills) run by a migration, in file order."),
    }, required=("version", "migrations"), doc="A schemagen spec (schema.yaml)."),
    "migration": Shape({"name": text("Lower-case letters, digits and _."), "comment": COMMENT},
                       required=("name",), shorthand={"type": "string"}, names=MIGRATION_ID_RE),
    "role": Shape({
        "assumed": ASSUMED,
        "login": bool_(),
        "bypassrls": bool_(),
        "member_of": texts("Roles this role is a member of."),
        "comment": COMMENT,
    }, names=NAME_RE),
    "schema": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "grants": GRANTS,
        "default_privileges": node(list_of("default_privilege"), "The platform's default privileges (assumed schemas)."),
        "lint_ignore": LINT_IGNORE,
    }, names=NAME_RE),
    "default_privilege": Shape({
        "on": choice("tables", "sequences", "functions"),
        "grant": texts(),
        "to": texts(),
        "for_role": text("The role whose new objects get these privileges."),
    }, required=("on", "grant", "to")),
    "extension": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "schema": text("Schema to install into."),
        "lint_ignore": LINT_IGNORE,
    }, names=r"^[a-z0-9_-]+$"),
    "type": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "enum": node({"type": "array", "items": {"anyOf": [dict({"type": ["string", "number", "boolean"]}),
                                                          ref("enum_value")]}},
                     "An enum: the values in order; a value added by a later migration as {value, migration}."),
        "domain": Key("type", "A domain: its base type (exactly one of enum and domain)."),
        "nullable": bool_("Domain: false adds NOT NULL."),
        "default": expr("Domain default expression (SQL)."),
        "check": node({"anyOf": [{"type": ["string", "number", "boolean"]},
                                 {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}]},
                      "Domain check: an expression on VALUE, or {constraint name: expression}."),
    }, names=QUALIFIED_RE),
    "enum_value": Shape({"value": text(), "migration": MIGRATION}, required=("value", "migration")),
    "sequence": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "type": choice("smallint", "integer", "bigint"),
        "start": integer(),
        "increment": integer(),
        "min": integer(),
        "max": integer(),
        "cache": integer(),
        "cycle": bool_(),
        "grants": GRANTS,
        "lint_ignore": LINT_IGNORE,
    }, names=QUALIFIED_RE),
    "publication": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "tables": node({"type": "array", "items": {"anyOf": [{"type": "string"}, ref("publication_table")]}},
                       "Tables in the publication: schema.name, or {table, migration} to add one later."),
    }, names=NAME_RE),
    "publication_table": Shape({"table": _TABLE_NAME, "migration": MIGRATION}, required=("table",)),
    "view": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "query": text("The SELECT (SQL)."),
        "materialized": bool_(),
        "security_invoker": bool_("Run with the caller's privileges and RLS (what Supabase recommends)."),
        "security_barrier": bool_(),
        "grants": TABLE_GRANTS,
        "lint_ignore": LINT_IGNORE,
    }, required=("query",), names=QUALIFIED_RE),
    "data": Shape({
        "migration": MIGRATION,
        "comment": COMMENT,
        "sql": text("The statements (SQL); make them idempotent, e.g. insert ... on conflict do nothing."),
    }, required=("migration", "sql"), names=NAME_RE),
    "function": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "arguments": node(list_of("argument")),
        "returns": node({"anyOf": [{"type": "string"}, ref("returns")]},
                        "A type, setof <type>, trigger or void; or {table: {column: type}} for returns table(...)."),
        "language": text("Default plpgsql."),
        "volatility": choice("volatile", "stable", "immutable"),
        "security_definer": bool_("Requires set.search_path."),
        "strict": bool_(),
        "set": node({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "Settings pinned on the function, e.g. search_path: ''."),
        "body": text("The function body."),
        "grants": GRANTS,
        "lint_ignore": LINT_IGNORE,
    }, required=("returns", "body"), names=SIGNATURE_RE),
    "returns": Shape({
        "table": node({"type": "object", "additionalProperties": {"type": "string"},
                       "propertyNames": {"pattern": NAME_RE}}, "Result columns: {name: type}."),
    }, required=("table",)),
    "argument": Shape({
        "name": text(),
        "type": Key("type"),
        "default": expr("Default expression (SQL)."),
        "mode": choice("in", "out", "inout", "variadic"),
    }, required=("type",)),
    "table": Shape({
        "assumed": ASSUMED,
        "migration": MIGRATION,
        "comment": COMMENT,
        "rls": node({"anyOf": [{"type": "boolean"}, ref("rls")]}, "Row level security: true, or {enabled, forced}."),
        "columns": node(map_of("column")),
        "constraints": node(map_of("constraint")),
        "indexes": node(map_of("index")),
        "policies": node(map_of("policy")),
        "triggers": node(map_of("trigger")),
        "grants": TABLE_GRANTS,
        "lint_ignore": LINT_IGNORE,
        "publication": node({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                            "Publications the table is in (declared under `publications:`)."),
        "replica_identity": text("default, full, nothing or index <name>."),
        "seed": node({"anyOf": [{"type": "array", "items": {"type": "object"}}, ref("seed")]},
                     "Rows inserted by the table's migration, or {migration, rows}."),
        "partition_by": expr("PARTITION BY: range (col), list (col) or hash (col)."),
        "partitions": node({"type": "object", "additionalProperties": {"anyOf": [{"type": "string"},
                                                                                  ref("partition")]},
                            "propertyNames": {"pattern": QUALIFIED_RE}},
                           "Partitions by schema.name: the bound (from (...) to (...), in (...), default, ...)."),
    }, names=QUALIFIED_RE),
    "seed": Shape({"migration": MIGRATION, "rows": node({"type": "array", "items": {"type": "object"}})},
                  required=("rows",)),
    "partition": Shape({"bound": expr("The partition bound."), "migration": MIGRATION}, required=("bound",)),
    "rls": Shape({"enabled": bool_(), "forced": bool_("FORCE ROW LEVEL SECURITY (applies to the owner too).")}),
    "column": Shape({
        "type": Key("type"),
        "nullable": bool_("Columns are nullable unless they say otherwise."),
        "default": expr("Default expression (SQL)."),
        "identity": choice("always", "by default"),
        "generated": expr("GENERATED ALWAYS AS (...) STORED expression."),
        "collation": text("A collation name, e.g. C or en-x-icu."),
        "primary_key": bool_(),
        "unique": bool_(),
        "references": node({"anyOf": [{"type": "string"}, ref("references")]}, "table, table(column) or a mapping."),
        "check": node({"anyOf": [{"type": "string"}, ref("check")]}),
        "comment": COMMENT,
        "migration": MIGRATION,
    }, required=("type",), shorthand={"type": "string"}, names=NAME_RE),
    "check": Shape({"name": text(), "expression": expr("The check expression (SQL).")}, required=("expression",)),
    "references": Shape({
        "table": _TABLE_NAME,
        "column": text(),
        "columns": texts(),
        "on_delete": choice(*FK_ACTIONS),
        "on_update": choice(*FK_ACTIONS),
        "name": text("Constraint name."),
        "deferrable": bool_(),
    }, required=("table",)),
    "constraint": Shape({
        "check": expr("Check expression (SQL)."),
        "exclude": expr("EXCLUDE constraint body: using gist (col with =, ...)."),
        "unique": texts(),
        "primary_key": texts(),
        "foreign_key": texts(),
        "references": node({"anyOf": [{"type": "string"}, ref("references")]}),
        "comment": COMMENT,
        "migration": MIGRATION,
    }, names=NAME_RE),
    "index": Shape(_INDEX_KEYS, required=("columns",), names=NAME_RE),
    "policy": Shape(_POLICY_KEYS),
    "trigger": Shape(_TRIGGER_KEYS, required=("function", "timing", "events"), names=NAME_RE),
    "top_index": Shape({**_INDEX_KEYS, "table": _TABLE_NAME}, required=("columns", "table"), names=NAME_RE),
    "top_policy": Shape({**_POLICY_KEYS, "table": _TABLE_NAME}, required=("table",)),
    "top_trigger": Shape({**_TRIGGER_KEYS, "table": _TABLE_NAME}, required=("function", "timing", "events", "table"),
                         names=NAME_RE),
    "grant": Shape(_GRANT_KEYS),
    "table_grant": Shape({**_GRANT_KEYS, "columns": texts("Column grant: the columns.")}),
    "top_grant": Shape({**_GRANT_KEYS, "columns": texts("Column grant (on a table): the columns."),
                        "on": text("<kind> <name>, e.g. sequence public.t_id_seq.")},
                       required=("on", "migration")),
}

# shapes the loader reads through ``_fields`` (the top_* shapes are the nested ones plus
# the key naming their table or object, which the loader takes off before reading the rest)
EXTENDS = {"top_index": "index", "top_policy": "policy", "top_trigger": "trigger", "top_grant": "table_grant"}
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")
