"""`schemagen inspect`: a live database -> a spec (schema.yaml) describing it.

Stages: read the catalog (the introspection queries diff uses, in one snapshot) -> decide who
owns what (the app's objects are created by migration "001"; what the platform provides and
the app relies on is *assumed*: ``auth.users`` with only the columns the app uses,
``auth.uid()``, the roles, the schemas) -> leave out what the spec cannot express, together
with everything that depends on it, naming each in ``InspectResult.notes`` -> YAML
(``to_yaml``, the inverse of the loader: the text loads back to an equal model).

Grants are written relative to what a new object gets anyway: PostgreSQL's built-in defaults
(EXECUTE to PUBLIC on functions) plus the default privileges the spec declares on the assumed
``public`` schema (Supabase's ALL to anon, authenticated, service_role). A table with the
platform's privileges needs no grant line; one with writes revoked from anon says just that.

Whether the spec can express something is decided by the spec's own rules: the model is
checked with the loader's type and name rules and with ``spec.validate``; an object a rule
refuses is left out (so support grows here whenever the spec language grows).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache

from . import model as m
from .errors import DatabaseError, UsageError
from .spec.loader import IDENT_RE, MAX_IDENT, TABLE_PRIVILEGES
from .spec.types import TypeProblem, canonical_type

MIGRATION_ID = "001"
MIGRATION_NAME = "initial_schema"

#: Schemas of the Supabase platform: never the app's, so never inspected as such; what the app
#: uses from them is declared assumed.
PLATFORM_SCHEMAS = frozenset({
    "auth", "storage", "realtime", "extensions", "graphql", "graphql_public", "vault", "pgsodium",
    "pgsodium_masks", "supabase_functions", "supabase_migrations", "net", "cron", "pgbouncer", "_realtime",
    "_analytics", "pgtle", "topology", "tiger", "tiger_data"})
LEDGER_SCHEMA = "schemagen"
#: Supabase grants these roles USAGE on public: platform privileges, assumed
SUPABASE_API_ROLES = frozenset({"anon", "authenticated", "service_role"})

_ALL = {"table": frozenset(TABLE_PRIVILEGES), "sequence": frozenset({"usage", "select", "update"}),
        "function": frozenset({"execute"}), "schema": frozenset({"usage", "create"})}
_PRIVILEGE_ORDER = {p: i for i, p in enumerate(TABLE_PRIVILEGES + ("usage", "create", "execute"))}
_DEFAULT_ON = {"r": "tables", "S": "sequences", "f": "functions"}
_KIND_OF_ON = {"tables": "table", "sequences": "sequence", "functions": "function"}
_INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
_ARG_MODES = ("in", "out", "inout", "variadic")
_BAD_GRANTEE = "it is granted to role {!r}, not an identifier the spec accepts"
#: findings of limits.sql that make a table (or routine) inexpressible; the others are only named
_FATAL_LIMITS = {
    "inherits": "table inheritance is not supported by the spec",
    "unlogged": "unlogged tables are not supported by the spec",
    "trigger transition tables": "trigger transition tables are not supported by the spec",
    "procedure": "procedures are not supported by the spec",
    "aggregate": "aggregates are not supported by the spec",
    "window function": "window functions are not supported by the spec",
}
#: findings of limits.sql the model carries: written (or refused) with their object
_WRITTEN_LIMITS = frozenset({"replica identity", "publication", "column collation", "trigger arguments",
                             "partitioned table", "partition"})
#: the objects introspection finds that the model has no place for (introspect/others.sql)
_UNMODELLED_REASON = {
    "foreign table": "foreign tables are not supported by the spec",
    "type": "composite and range types are not supported by the spec",
}


def _has(cls, name: str) -> bool:
    """Whether the model has a field (constructs arrive in the model over time)."""
    return name in getattr(cls, "__dataclass_fields__", {})


#: what the spec can say that inspect writes, by model class; any other field of a kept object
#: holding a value is something inspect cannot write yet, and the object is left out for it
_WRITTEN = {
    "Table": {"schema", "name", "columns", "constraints", "indexes", "policies", "triggers", "rls_enabled",
              "rls_forced", "comment", "migration", "assumed", "replica_identity", "partition_by", "partitions"},
    "Partition": {"name", "bound", "migration", "assumed"},
    "Column": {"name", "type", "nullable", "default", "identity", "generated", "comment", "migration", "assumed",
               "collation"},
    "Constraint": {"name", "kind", "columns", "expression", "ref_table", "ref_columns", "on_delete", "on_update",
                   "deferrable", "comment", "migration", "assumed"},
    "Index": {"name", "keys", "unique", "method", "where", "include", "comment", "migration", "assumed"},
    "IndexKey": {"expression", "descending", "nulls", "is_column", "opclass"},
    "Policy": {"name", "command", "roles", "permissive", "using", "with_check", "comment", "migration", "assumed"},
    "Trigger": {"name", "function", "timing", "events", "for_each", "update_columns", "when", "comment",
                "migration", "assumed", "enabled", "arguments"},
    "Function": {"schema", "name", "arguments", "returns", "language", "body", "volatility", "security_definer",
                 "strict", "config", "comment", "migration", "assumed"},
    "Argument": {"name", "type", "default", "mode"},
    "EnumType": {"schema", "name", "values", "comment", "migration", "assumed"},
    "View": {"schema", "name", "query", "materialized", "security_invoker", "security_barrier", "comment",
             "migration", "assumed"},
    "Sequence": {"schema", "name", "type", "start", "increment", "min_value", "max_value", "cache", "cycle", "comment",
                 "migration", "assumed"},
    "Domain": {"schema", "name", "type", "nullable", "default", "checks", "comment", "migration", "assumed"},
}
#: Schema collections inspect writes (the others' objects in the chosen schemas are left out, named)
_WRITTEN_COLLECTIONS = {"migrations", "roles", "namespaces", "extensions", "tables", "functions", "grants",
                        "default_privileges", "types", "views", "publications", "sequences", "domains"}
#: publications the platform creates (Supabase Realtime's): assumed
PLATFORM_PUBLICATIONS = frozenset({"supabase_realtime"})


def _unwritten(obj) -> str | None:
    """The first field of ``obj`` (or of an object nested in it) holding a value inspect cannot write."""
    from dataclasses import MISSING, fields, is_dataclass

    known = _WRITTEN.get(type(obj).__name__)
    if known is None:
        return None
    for f in fields(obj):
        if not f.compare or f.name == "pos":
            continue
        value = getattr(obj, f.name)
        if f.name not in known:
            default = f.default if f.default is not MISSING else (
                f.default_factory() if f.default_factory is not MISSING else MISSING)  # type: ignore[misc]
            if value != default:
                return f.name
        elif isinstance(value, tuple):
            for item in value:
                if is_dataclass(item):
                    inner = _unwritten(item)
                    if inner:
                        return f"{f.name}: {inner}"
    return None


@dataclass(frozen=True)
class InspectResult:
    spec: m.Schema
    text: str  # the YAML
    notes: tuple[str, ...]  # what the spec cannot express, one line each
    schemas: tuple[str, ...]  # the inspected schemas, public first


@dataclass
class Catalog:
    """What ``read_catalog`` found: the model of every read schema and the extras inspect needs."""

    schemas: tuple[str, ...]  # chosen (the app's), public first
    platform: frozenset[str]  # platform (and other referenced) schemas read alongside
    model: m.Schema
    unmodelled: list[tuple[str, str, str]]  # (kind, schema, name) in the chosen schemas
    sequences: dict[str, str]  # identity/serial sequence -> table
    limits: list[tuple[str, str, str, str | None]]  # (schema, object, what, detail)
    default_acl: list[tuple[str, str | None, str, str, str]]  # (role, schema, objtype, grantee, privilege)
    extension_members: dict[tuple[str, str], str]  # (kind, qualified name) -> extension
    opclass_extensions: dict[str, set[str]]  # table -> extensions whose operator classes its indexes use
    current_user: str


# ---------------------------------------------------------------- entry point

def inspect_database(url: str, schemas: list[str] | tuple[str, ...] | None = None,
                     connect_timeout: int = 10) -> InspectResult:
    """A spec of the database at ``url``: every object of ``schemas`` (default: the schemas holding
    user objects, public first) and the platform objects they depend on, as assumed."""
    import psycopg

    from .pg import connect, mask_text, mask_url

    if not url:
        raise UsageError("no database to inspect: pass --db URL or set DATABASE_URL")
    with connect(url, connect_timeout=connect_timeout) as conn:
        try:
            catalog = read_catalog(conn, schemas)
        except psycopg.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise DatabaseError(f"cannot read the catalog of {mask_url(url)}: {mask_text(first, url)}") from None
    spec, notes = build_spec(catalog)
    return InspectResult(spec=spec, text=to_yaml(spec), notes=tuple(notes), schemas=catalog.schemas)


def check_out_path(path, force: bool = False) -> None:
    """Refuse an ``--out`` that exists (without ``force``) or is a directory, before any work is done."""
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{target} is a directory; --out takes a file name")
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to replace it")


def write_spec(result: InspectResult, path, force: bool = False) -> None:
    """Write the spec's YAML to ``path`` (through a temporary file and a rename); an existing file is
    replaced only with ``force``."""
    from pathlib import Path

    check_out_path(path, force)
    target = Path(path)
    try:
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(result.text, encoding="utf-8")
        tmp.replace(target)
    except OSError as e:
        raise UsageError(f"cannot write {target}: {e.strerror}") from None


def read_catalog(conn, schemas: list[str] | tuple[str, ...] | None = None) -> Catalog:
    from .introspect import KINDS, build, is_inspectable, query, read_rows

    existing = {r[0] for r in conn.execute("select nspname from pg_catalog.pg_namespace").fetchall()}
    if schemas:
        missing = [s for s in schemas if s not in existing]
        if missing:
            raise UsageError(f"no schema {', '.join(missing)} in the database")
        chosen = list(dict.fromkeys(schemas))
    else:
        found = [r[0] for r in conn.execute(query("user_schemas")).fetchall()]
        chosen = [s for s in found if s not in PLATFORM_SCHEMAS and s != LEDGER_SCHEMA and is_inspectable(s)]
    if "public" in existing and "public" not in chosen and not schemas:
        chosen.append("public")
    chosen.sort(key=lambda s: (s != "public", s))
    platform = sorted((PLATFORM_SCHEMAS & existing) - set(chosen))
    rows = read_rows(conn, chosen + platform,
                     KINDS + ("others", "sequences", "limits", "default_acl", "extension_members",
                              "opclass_extensions"))
    model = build(rows)
    # tables in other schemas that foreign keys reference: read them too (they become assumed)
    read = set(chosen) | set(platform)
    more = sorted({c.ref_table.split(".", 1)[0] for t in model.tables if t.schema in chosen
                   for c in t.constraints if c.ref_table and c.ref_table.split(".", 1)[0] not in read})
    if more:
        extra = build(read_rows(conn, more, KINDS))
        model = replace(model, tables=model.tables + extra.tables, functions=model.functions + extra.functions,
                        grants=model.grants + extra.grants)
    user = conn.execute("select current_user").fetchone()[0]
    opclass_extensions: dict[str, set[str]] = {}
    for table, ext in rows["opclass_extensions"]:
        opclass_extensions.setdefault(table, set()).add(ext)
    return Catalog(
        schemas=tuple(chosen), platform=frozenset(platform) | frozenset(more), model=model,
        unmodelled=[tuple(r) for r in rows["others"] if r[1] in chosen],
        sequences={seq: table for seq, table in rows["sequences"]},
        limits=[tuple(r) for r in rows["limits"] if r[0] in chosen],
        default_acl=[tuple(r) for r in rows["default_acl"]],
        extension_members={(kind, name): ext for kind, name, ext in rows["extension_members"]},
        opclass_extensions=opclass_extensions,
        current_user=user)


# ---------------------------------------------------------------- names and mentions

def _valid_ident(name: str) -> bool:
    return bool(IDENT_RE.match(name)) and len(name.encode()) <= MAX_IDENT


def _printed(part: str) -> str:
    """A name part as a regex matching how PostgreSQL may print it (bare or double-quoted)."""
    return f'(?:{re.escape(part)}|"{re.escape(part)}")'


def _mention_regex(names) -> re.Pattern | None:
    alts = []
    for name in sorted(names):
        schema, _, rel = name.partition(".")
        alts.append(f"{_printed(schema)}\\.{_printed(rel)}")
    if not alts:
        return None
    return re.compile(r'(?<![\w$."])(?:' + "|".join(alts) + r')(?![\w$"])')


def _bare_regex(names) -> re.Pattern:
    """The unqualified names, as a body written for a search_path may use them."""
    return re.compile(r'(?<![\w$."])(?:' + "|".join(_printed(n.split(".", 1)[1]) for n in sorted(names))
                      + r')(?![\w$"])')


_CALL = re.compile(r'(?<![\w$."])"?([a-z_][a-z0-9_$]*)"?\s*\.\s*"?([a-z_][a-z0-9_$]*)"?\s*\(')


def _calls(text: str | None) -> set[str]:
    """Qualified function names called in an SQL text: ``auth.uid()`` -> {"auth.uid"}."""
    return {f"{a}.{b}" for a, b in _CALL.findall(text or "")}


def _words(text: str | None) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", text or ""))


def _table_texts(t: m.Table) -> list[str]:
    out = []
    for c in t.columns:
        out += [c.type, c.default or "", c.generated or ""]
    for c in t.constraints:
        out += [c.expression or "", c.ref_table or ""]
    for i in t.indexes:
        out += [k.expression for k in i.keys if not k.is_column] + [i.where or ""]
    for p in t.policies:
        out += [p.using or "", p.with_check or ""]
    for tr in t.triggers:
        out += [tr.function, tr.when or ""]
    return out


def _function_texts(f: m.Function) -> list[str]:
    out = [f.returns] + [a.type for a in f.arguments] + [a.default or "" for a in f.arguments]
    if f.language == "sql":  # SQL bodies are checked when the function is created
        out.append(f.body)
    return out


def _strip_body(body: str) -> str:
    """The body as the spec holds it: render writes it back between a newline after ``as $$`` and one
    before the closing ``$$`` (``sql.function_body``), so the first newline goes unless another one
    follows it (render adds one only to a body not starting with one), and so does all trailing
    whitespace (diff ignores both); lines lose trailing blanks too, so bodies print as YAML blocks."""
    body = "\n".join(line.rstrip() for line in body.split("\n"))
    if body.startswith("\n") and not body.startswith("\n\n"):
        body = body[1:]
    return body.rstrip() + "\n"


# ---------------------------------------------------------------- the spec

class _Builder:
    """Decides what the spec holds; ``omit`` and ``assemble`` iterate until the spec is valid."""

    def __init__(self, cat: Catalog):
        self.cat = cat
        self.user = set(cat.schemas)
        self.rank = {s: i for i, s in enumerate(cat.schemas)}
        self.notes: list[str] = []
        self.omitted: dict[str, str] = {}  # key ("table public.t") -> reason
        self.omitted_names: set[str] = set()  # qualified names of everything left out
        self.omitted_types: set[str] = set()  # PL/pgSQL resolves declared types when a function is created
        model = cat.model
        self.tables = {t.qualified_name: t for t in model.tables}
        self.functions: dict[str, list[m.Function]] = {}
        for f in model.functions:
            self.functions.setdefault(f.qualified_name, []).append(f)
        self.acl: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.options: dict[tuple[str, str], dict[str, set[str]]] = {}  # the privileges held with grant option
        for g in model.grants:
            for role in g.roles:
                self.acl.setdefault((g.on, g.object), {}).setdefault(role, set()).update(g.privileges)
                self.options.setdefault((g.on, g.object), {}).setdefault(role, set()).update(g.grant_option)
        self.roles = {r.name: r for r in model.roles}
        self.function_acl_roles: dict[str, set[str]] = {}
        for (on, obj), acl in self.acl.items():
            if on == "function":
                self.function_acl_roles.setdefault(obj.split("(", 1)[0], set()).update(acl)
        self.managed_tables = [t for t in model.tables if t.schema in self.user]
        self.managed_functions = [f for f in model.functions if f.schema in self.user]
        self.managed_types = [ty for ty in model.types if ty.schema in self.user]
        self.managed_views = _view_order([v for v in model.views if v.schema in self.user])
        self.types = {ty.qualified_name: ty for ty in model.types}
        self.managed_sequences = [q for q in model.sequences if q.schema in self.user]
        self.managed_domains = [d for d in model.domains if d.schema in self.user]
        #: the default a column taking its values from each standalone sequence has, as PostgreSQL prints it
        self.sequence_defaults = {f"nextval('{q.qualified_name}'::regclass)": q.qualified_name
                                  for q in self.managed_sequences}
        self.dropped_nested: dict[tuple[str, str, str], str] = {}  # (table, kind, name) on assumed tables
        self.owner = self._deploying_role()
        self.defaults = self._default_privileges()

    # -- bookkeeping
    def omit(self, kind: str, name: str, reason: str, mention: str | None = None) -> bool:
        key = f"{kind} {name}"
        if key in self.omitted:
            return False
        self.omitted[key] = reason
        self.omitted_names.add(mention or name)
        if kind in ("type", "domain"):
            self.omitted_types.add(name)
        return True

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def kept_tables(self) -> list[m.Table]:
        return [t for t in self.managed_tables if f"table {t.qualified_name}" not in self.omitted]

    def kept_functions(self) -> list[m.Function]:
        return [f for f in self.managed_functions if f"function {f.qualified_name}" not in self.omitted]

    def kept_types(self) -> list[m.EnumType]:
        return [ty for ty in self.managed_types if f"type {ty.qualified_name}" not in self.omitted]

    def kept_views(self) -> list[m.View]:
        return [v for v in self.managed_views if f"{v.kind} {v.qualified_name}" not in self.omitted]

    def kept_sequences(self) -> list[m.Sequence]:
        return [q for q in self.managed_sequences if f"sequence {q.qualified_name}" not in self.omitted]

    def kept_domains(self) -> list[m.Domain]:
        return [d for d in self.managed_domains if f"domain {d.qualified_name}" not in self.omitted]

    # -- privileges
    def _deploying_role(self) -> str:
        owners = Counter(o.owner for o in self.managed_tables + self.managed_functions if o.owner)
        return owners.most_common(1)[0][0] if owners else self.cat.current_user

    def _default_privileges(self) -> dict[tuple[str, str], dict[str, set[str]]]:
        """(object kind, schema) -> role -> privileges a new object gets, as far as the spec can say
        (the deploying role's default privileges in public, which is assumed)."""
        out: dict[tuple[str, str], dict[str, set[str]]] = {}
        for role, schema, objtype, grantee, privilege in self.cat.default_acl:
            if role != self.owner:
                continue
            where = f"in schema {schema}" if schema else "in every schema"
            if schema == "public" and objtype in _DEFAULT_ON:
                out.setdefault((_KIND_OF_ON[_DEFAULT_ON[objtype]], schema), {}).setdefault(grantee, set()).add(privilege)
            elif schema is None or schema in self.user:
                self.note(f"default privileges of role {role} {where} (on {objtype}, to {grantee}): the spec "
                          "declares default privileges only for public; grants are written relative to public's")
        return out

    def expected(self, on: str, schema: str) -> dict[str, set[str]]:
        base = {"public": {"execute"}} if on == "function" else {}
        out = {r: set(p) for r, p in base.items()}
        for role, privs in self.defaults.get((on, schema), {}).items():
            out.setdefault(role, set()).update(privs)
        return out

    def relative(self, on: str, obj: str, schema: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...], bool]]:
        """(action, privileges, roles, with grant option) bringing a new object's privileges to the
        database's: revokes first, then grants, then grants with grant option (default privileges
        are taken to give none)."""
        want = self.acl.get((on, obj), {})
        options = self.options.get((on, obj), {})
        have = self.expected(on, schema) if on != "schema" else {}
        revoke: dict[tuple[str, ...], list[str]] = {}
        grant: dict[tuple[tuple[str, ...], bool], list[str]] = {}
        for role in sorted(set(want) | set(have)):
            w, h, o = want.get(role, set()), have.get(role, set()), options.get(role, set())
            if h - w:
                revoke.setdefault(_privs(on, h - w), []).append(role)
            if w - h - o:
                grant.setdefault((_privs(on, w - h - o), False), []).append(role)
            if o:
                grant.setdefault((_privs(on, o), True), []).append(role)
        return [("revoke", p, tuple(r), False) for p, r in sorted(revoke.items())] + \
               [("grant", p, tuple(r), option) for (p, option), r in sorted(grant.items(), key=lambda kv: kv[0][::-1])]

    # -- what cannot be expressed, before assembly
    def initial(self) -> None:
        cat = self.cat
        for kind, schema, name in cat.unmodelled:
            self.omit(kind, f"{schema}.{name}", _UNMODELLED_REASON.get(kind, f"{kind}s are not supported"))
        for schema, obj, what, detail in cat.limits:
            label = f"{schema}.{obj}"
            if what in ("procedure", "aggregate", "window function"):
                self.omit(what, label, _FATAL_LIMITS[what], mention=label.split("(", 1)[0])
            elif what in _WRITTEN_LIMITS:
                continue  # the model carries it: written (or refused) with its object
            elif what in _FATAL_LIMITS:
                self.omit("table", label, f"{_FATAL_LIMITS[what]} ({what}{': ' + detail if detail else ''})")
            elif what == "function options":
                self.note(f"function {label}: {detail} is not expressed in the spec")
            elif what == "column sequence options":
                column, _, options = (detail or "").partition(": ")
                self.note(f"table {label}: the sequence of column {column} has {options}, which the spec does not "
                          "express (diff does not compare it)")
            elif what == "owned sequence":  # diff compares its privileges with the table's: it cannot be left aside
                column, _, sequence = (detail or "").partition(": ")
                self.omit("table", label, f"sequence {sequence} belongs to column {column} (owned by) without being "
                                          "its default, which the spec cannot declare")
            elif what == "materialized view index":
                self.note(f"materialized view {label}: index {detail} is not expressed in the spec")
            else:
                self.note(f"table {label}: {what}{' ' + detail if detail else ''} is not expressed in the spec")
        # a partition that is partitioned itself (sub-partitions): its table cannot be declared
        partitioned = {f"{schema}.{obj}" for schema, obj, what, _ in cat.limits if what == "partitioned table"}
        for t in self.managed_tables:
            sub = [p.name for p in t.partitions if p.name in partitioned]
            if sub:
                self.omit("table", t.qualified_name, f"partition {sub[0]} is partitioned itself (sub-partitions are "
                                                     "not supported by the spec yet)")
        for field_name in getattr(m.Schema, "__dataclass_fields__", {}):
            if field_name in _WRITTEN_COLLECTIONS or field_name in ("source", "warnings"):
                continue
            for obj in getattr(self.cat.model, field_name, ()) or ():
                schema = getattr(obj, "schema", None)
                if schema in self.user and hasattr(obj, "name"):
                    kind = type(obj).__name__.lower()
                    self.omit(kind, f"{schema}.{obj.name}", f"inspect does not write {kind}s yet")
        for t in self.managed_tables:
            for p in t.partitions:  # PostgreSQL gives a partition its table's objects; privileges are its own
                if self.relative("table", p.name, p.name.split(".", 1)[0]):
                    self.note(f"table {t.qualified_name}: partition {p.name} has privileges of its own, which the "
                              "spec cannot declare (diff looks at the partitioned table's)")
            reason = self._table_problem(t)
            if reason is None:
                field_name = _unwritten(t)
                reason = f"inspect does not write {field_name} yet" if field_name else None
            if reason:
                self.omit("table", t.qualified_name, reason)
        for f in self.managed_functions:
            reason = self._function_problem(f)
            if reason is None:
                field_name = _unwritten(f)
                reason = f"inspect does not write {field_name} yet" if field_name else None
            if reason:
                self.omit("function", f.qualified_name, reason)
        for ty in self.managed_types:
            if not (_valid_ident(ty.schema) and _valid_ident(ty.name)):
                self.omit("type", ty.qualified_name, "its name is not a lower-case identifier the spec accepts")
            elif any(not v or len(v.encode()) > MAX_IDENT for v in ty.values):
                self.omit("type", ty.qualified_name, "it has an enum value the spec cannot declare")
        for v in self.managed_views:
            bad = self.bad_grantee("table", v.qualified_name, self.granted_columns(v.qualified_name))
            if not (_valid_ident(v.schema) and _valid_ident(v.name)):
                self.omit(v.kind, v.qualified_name, "its name is not a lower-case identifier the spec accepts")
            elif _unwritten(v):
                self.omit(v.kind, v.qualified_name, f"inspect does not write {_unwritten(v)} yet")
            elif bad:
                self.omit(v.kind, v.qualified_name, _BAD_GRANTEE.format(bad))
        for ty in self.managed_types:
            if _unwritten(ty):
                self.omit("type", ty.qualified_name, f"inspect does not write {_unwritten(ty)} yet")
        for q in self.managed_sequences:
            bad = self.bad_grantee("sequence", q.qualified_name)
            if not (_valid_ident(q.schema) and _valid_ident(q.name)):
                self.omit("sequence", q.qualified_name, "its name is not a lower-case identifier the spec accepts")
            elif q.type not in ("smallint", "integer", "bigint"):
                self.omit("sequence", q.qualified_name, f"its type {q.type} is not one the spec accepts")
            elif bad:
                self.omit("sequence", q.qualified_name, _BAD_GRANTEE.format(bad))
        for d in self.managed_domains:
            problem = _type_problem(d.type)
            if not (_valid_ident(d.schema) and _valid_ident(d.name)):
                self.omit("domain", d.qualified_name, "its name is not a lower-case identifier the spec accepts")
            elif problem:
                self.omit("domain", d.qualified_name, f"base type: {problem}")
            elif any(not _valid_ident(name) for name, _ in d.checks):
                bad = next(name for name, _ in d.checks if not _valid_ident(name))
                self.omit("domain", d.qualified_name, f"check constraint name {bad!r} is not a lower-case identifier "
                                                      "the spec accepts")
            elif self._domain_order_problem(d):
                self.omit("domain", d.qualified_name, self._domain_order_problem(d))

    def _domain_order_problem(self, d: m.Domain) -> str | None:
        """Why migrations cannot create the domain where they create domains: before functions, by name."""
        base = d.type.removesuffix("[]")
        if any(o.qualified_name == base and base > d.qualified_name for o in self.managed_domains):
            return f"its base type {base} is a domain migrations create after it (domains are created by name)"
        called = sorted(n for n in _calls(d.default) | {n for _, e in d.checks for n in _calls(e)}
                        if n in self.functions and n.split(".", 1)[0] in self.user)
        return f"it calls {called[0]}, which migrations create after domains" if called else None

    def _table_problem(self, t: m.Table) -> str | None:
        if not (_valid_ident(t.schema) and _valid_ident(t.name)):
            return "its name is not a lower-case identifier the spec accepts"
        for kind, items in (("column", t.columns), ("constraint", t.constraints), ("index", t.indexes),
                            ("trigger", t.triggers)):
            for o in items:
                if not _valid_ident(o.name):
                    return f"{kind} name {o.name!r} is not a lower-case identifier the spec accepts"
        for c in t.columns:
            problem = _type_problem(c.type)
            if problem:
                return f"column {c.name}: {problem}"
            if c.default and "nextval(" in c.default and c.default not in self.sequence_defaults \
                    and not _serial(t, c):
                return (f"column {c.name}: its default {c.default} uses a sequence the spec can declare neither as "
                        f"the column's serial (not null, owning {t.schema}.{t.name}_{c.name}_seq) nor as a "
                        "standalone sequence")
        for c in t.constraints:
            if c.kind == "exclude" and not (c.expression or "").startswith("EXCLUDE "):
                return f"constraint {c.name}: its definition is not one the spec can write ({c.expression})"
        for i in t.indexes:
            if i.method not in _INDEX_METHODS:
                return f"index {i.name} uses access method {i.method}"
            for k in i.keys:
                if k.opclass and not re.fullmatch(r"[a-z_][a-z0-9_.]*_ops", k.opclass):
                    return f"index {i.name} uses operator class {k.opclass}"
                if k.is_column and not _valid_ident(k.expression):
                    return f"index {i.name}: column name {k.expression!r} is not an identifier the spec accepts"
        for p in t.policies:
            bad = [r for r in p.roles if r != "public" and not _valid_ident(r)]
            if bad:
                return f"policy {p.name!r} names role {bad[0]!r}, not an identifier the spec accepts"
            if not p.name.strip() or len(p.name.encode()) > MAX_IDENT or "\x00" in p.name:
                return f"policy name {p.name!r} is not one the spec accepts"
        for tr in t.triggers:
            if not tr.enabled:
                return f"trigger {tr.name} is disabled, which the spec cannot declare"
        bad = self.bad_grantee("table", t.qualified_name, [c.name for c in t.columns])
        if bad:
            return _BAD_GRANTEE.format(bad)
        for p in t.partitions:
            schema, _, name = p.name.partition(".")
            if not (_valid_ident(schema) and _valid_ident(name)):
                return f"partition name {p.name!r} is not a lower-case identifier the spec accepts"
        return None

    def granted_columns(self, relation: str) -> list[str]:
        """The columns of a view holding privileges of their own (a view's columns are its query's)."""
        return sorted(obj.rsplit(".", 1)[1] for on, obj in self.acl if on == "column"
                      and obj.rsplit(".", 1)[0] == relation)

    def bad_grantee(self, on: str, obj: str, columns=()) -> str | None:
        """The first role holding a privilege on the object (or one of its columns) that the spec cannot name."""
        roles = set(self.acl.get((on, obj), {}))
        for col in columns:
            roles |= set(self.acl.get(("column", f"{obj}.{col}"), {}))
        return next((r for r in sorted(roles) if r != "public" and not _valid_ident(r)), None)

    def _function_problem(self, f: m.Function) -> str | None:
        if not (_valid_ident(f.schema) and _valid_ident(f.name)):
            return "its name is not a lower-case identifier the spec accepts"
        if f.language in ("c", "internal"):
            return f"written in {f.language}, which the spec cannot declare"
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", f.language):
            return f"language {f.language!r} is not one the spec accepts"
        result = [a for a in f.arguments if a.mode == "table"]
        for a in f.arguments:
            if a.mode not in _ARG_MODES + ("table",):
                return f"argument {a.name or a.type} has mode {a.mode}, which the spec cannot declare"
            if a.name is not None and not _valid_ident(a.name) or a.mode == "table" and a.name is None:
                return f"argument name {a.name!r} is not a lower-case identifier the spec accepts"
            problem = _type_problem(a.type)
            if problem:
                return f"argument {a.name or a.type}: {problem}"
        if result:  # returns table(...): the result columns are its last arguments, as the loader makes them
            if f.arguments[-len(result):] != tuple(result) or f.returns != _table_returns(result):
                return f"its return type {f.returns} is not written as the spec writes it"
        else:
            try:
                if canonical_type(f.returns, allow_return_only=True) != f.returns:
                    return f"its return type {f.returns} is not written as the spec writes it"
            except TypeProblem as e:
                return f"return type: {e}"
        for key, _ in f.config:
            if not re.fullmatch(r"[a-z_][a-z0-9_.]*", key):
                return f"setting {key!r} is not one the spec accepts"
        bad = sorted(r for r in self.function_acl_roles.get(f.qualified_name, ()) if r != "public" and not _valid_ident(r))
        if bad:
            return f"it is granted to role {bad[0]!r}, not an identifier the spec accepts"
        return None

    def cascade(self) -> bool:
        """Leave out whatever mentions something left out; True when anything new was left out."""
        changed = False
        while True:
            rx = _mention_regex(self.omitted_names)
            if rx is None:
                return changed
            bare = _bare_regex(self.omitted_names)
            step = False
            for t in self.kept_tables():
                hit = next((mt.group(0) for text in _table_texts(t) if text for mt in [rx.search(text)] if mt), None)
                if hit:
                    step |= self.omit("table", t.qualified_name, f"it uses {_unquote(hit)}, which is left out")
            for f in self.kept_functions():
                texts = _function_texts(f)
                hit = next((mt.group(0) for text in texts if text for mt in [rx.search(text)] if mt), None)
                if hit is None and f.language == "sql":
                    mt = bare.search(f.body)
                    hit = mt.group(0) if mt else None
                if hit is None and f.language == "plpgsql" and self.omitted_types:
                    mt = _mention_regex(self.omitted_types).search(f.body) or _bare_regex(self.omitted_types).search(f.body)
                    hit = mt.group(0) if mt else None
                if hit:
                    step |= self.omit("function", f.qualified_name, f"it uses {_unquote(hit)}, which is left out")
            for v in self.kept_views():
                mt = rx.search(v.query)
                if mt:
                    step |= self.omit(v.kind, v.qualified_name, f"it uses {_unquote(mt.group(0))}, which is left out")
            views = self.kept_views()
            if views:  # SQL bodies are checked when created, and views come after functions
                vx, vbare = _mention_regex(v.qualified_name for v in views), _bare_regex(v.qualified_name for v in views)
                for f in self.kept_functions():
                    mt = f.language == "sql" and (vx.search(f.body) or vbare.search(f.body))
                    if mt:
                        step |= self.omit("function", f.qualified_name,
                                          f"it is a SQL function reading view {_unquote(mt.group(0))}, which "
                                          "migrations create after functions")
            for t in self.assumed_hosts():
                for kind, items in (("policy", t.policies), ("trigger", t.triggers)):
                    for o in items:
                        key = (t.qualified_name, kind, o.name)
                        if key in self.dropped_nested or not self._user_nested(t, kind, o):
                            continue
                        texts = [o.using or "", o.with_check or ""] if kind == "policy" else [o.function, o.when or ""]
                        hit = next((mt.group(0) for text in texts if text for mt in [rx.search(text)] if mt), None)
                        if hit:
                            self.dropped_nested[key] = f"it uses {_unquote(hit)}, which is left out"
            if not step:
                return changed
            changed = True

    # -- platform tables the app adds to (triggers on auth.users, policies on storage.objects)
    def assumed_hosts(self) -> list[m.Table]:
        return [t for t in self.cat.model.tables if t.schema not in self.user]

    def _user_nested(self, t: m.Table, kind: str, o) -> bool:
        """Whether a policy or trigger on a platform table is the app's: triggers calling a function of
        the app's schemas, and every policy (the platform ships none on the tables apps extend)."""
        if kind == "trigger":
            return o.function.split(".", 1)[0] in self.user
        return True

    def nested_on_assumed(self, t: m.Table) -> tuple[list[m.Policy], list[m.Trigger]]:
        kept_fns = {f.qualified_name for f in self.kept_functions()}
        policies, triggers = [], []
        for p in t.policies:
            if self._user_nested(t, "policy", p) and (t.qualified_name, "policy", p.name) not in self.dropped_nested:
                bad = [r for r in p.roles if r != "public" and not _valid_ident(r)]
                if bad:
                    self.dropped_nested[(t.qualified_name, "policy", p.name)] = f"it names role {bad[0]!r}"
                    continue
                policies.append(p)
        for tr in t.triggers:
            if not self._user_nested(t, "trigger", tr):
                continue
            key = (t.qualified_name, "trigger", tr.name)
            if key in self.dropped_nested:
                continue
            if tr.function not in kept_fns:
                self.dropped_nested[key] = f"its function {tr.function} is left out"
            elif not tr.enabled or not _valid_ident(tr.name):
                self.dropped_nested[key] = "it is disabled or its name is not an identifier the spec accepts"
            elif _unwritten(tr):
                self.dropped_nested[key] = f"inspect does not write {_unwritten(tr)} yet"
            else:
                triggers.append(tr)
        return policies, triggers

    # -- the spec
    def assemble(self, nested_pos: bool = False) -> m.Schema:
        """The spec of everything kept. Every top-level object's ``pos`` (not part of equality) names
        the key of the object inspect would leave out for it, so validate's problems map back to
        objects; with ``nested_pos`` the columns, constraints... of the app's tables too (slower:
        only needed when a problem names one of them)."""
        def pos(key: str) -> m.Pos:
            return m.Pos(key, 1, 1)

        def tagged(items, key: str) -> tuple:
            return tuple(replace(o, pos=pos(key)) for o in items) if nested_pos else tuple(items)

        mig = MIGRATION_ID
        tables: list[m.Table] = []
        functions: list[m.Function] = []
        grants_by_owner: dict[str, list[m.Grant]] = {}
        roles_used: set[str] = set()
        kept_tables = self.kept_tables()
        kept_functions = self.kept_functions()

        def add_grants(owner: str, on: str, obj: str, schema: str, *, assumed: bool = False,
                       key: str | None = None) -> None:
            for action, privs, roles, option in self.relative(on, obj, schema):
                roles_used.update(r for r in roles if r != "public")
                grants_by_owner.setdefault(owner, []).append(m.Grant(
                    on=on, object=obj, privileges=privs, roles=roles, action=action,
                    migration=None if assumed else mig, assumed=assumed, pos=pos(key or owner),
                    grant_option=privs if option else ()))

        def add_column_grants(owner: str, table: str, columns: list[str], schema: str) -> None:
            """Column privileges (a new column has none), one item per (privileges, roles, option) naming
            its columns in table order: the grants the loader makes of them, one per column."""
            items: dict[tuple, list[str]] = {}
            for col in columns:
                for action, privs, roles, option in self.relative("column", f"{table}.{col}", schema):
                    items.setdefault((action, privs, roles, option), []).append(col)
            for (action, privs, roles, option), cols in items.items():
                roles_used.update(r for r in roles if r != "public")
                grants_by_owner.setdefault(owner, []).extend(m.Grant(
                    on="column", object=f"{table}.{col}", privileges=privs, roles=roles, action=action,
                    migration=mig, pos=pos(owner), grant_option=privs if option else ()) for col in cols)

        texts: list[str] = []  # every SQL text the spec will hold: for platform functions it calls
        for t in kept_tables:
            key = f"table {t.qualified_name}"
            # introspected nested objects carry no ownership already (migration None, not assumed); a serial
            # column as the loader reads `type: serial` (its default and not null are what serial means)
            columns = tuple(replace(c, default=None, nullable=False) if _serial(t, c) else c for c in t.columns)
            tables.append(replace(
                t, migration=mig, assumed=False, pos=pos(key), columns=tagged(columns, key),
                constraints=tagged(_spec_constraints(t), key), indexes=tagged(t.indexes, key),
                policies=tagged(t.policies, key), triggers=tagged(t.triggers, key)))
            texts += _table_texts(t)
            for p in t.policies:
                roles_used.update(r for r in p.roles if r != "public")
        for f in kept_functions:
            key = f"function {f.qualified_name}"
            functions.append(replace(f, migration=mig, assumed=False, body=_strip_body(f.body), pos=pos(key)))
            texts += _function_texts(f) + [f.body]

        types: list[m.EnumType] = [replace(ty, migration=mig, assumed=False, pos=pos(f"type {ty.qualified_name}"))
                                   for ty in self.kept_types()]
        domains = [replace(d, migration=mig, assumed=False, pos=pos(f"domain {d.qualified_name}"))
                   for d in self.kept_domains()]
        texts += [d.default or "" for d in domains] + [expr for d in domains for _, expr in d.checks]
        sequences = [_sequence_as_written(q, mig, pos(f"sequence {q.qualified_name}")) for q in self.kept_sequences()]
        views: list[m.View] = []
        for v in self.kept_views():
            key = f"{v.kind} {v.qualified_name}"
            views.append(replace(v, migration=mig, assumed=False, pos=pos(key)))
            texts.append(v.query)

        # platform tables: referenced by foreign keys, or carrying the app's policies and triggers
        needed_cols: dict[str, set[str]] = {}
        needed_keys: dict[str, set[tuple[str, ...]]] = {}
        for t in kept_tables:
            for c in t.constraints:
                if c.kind == "foreign_key" and c.ref_table and c.ref_table.split(".", 1)[0] not in self.user:
                    needed_cols.setdefault(c.ref_table, set()).update(c.ref_columns)
                    needed_keys.setdefault(c.ref_table, set()).add(tuple(c.ref_columns))
        hosted: dict[str, tuple[list[m.Policy], list[m.Trigger]]] = {}
        fn_by_name = {f.qualified_name: f for f in kept_functions}
        for t in self.assumed_hosts():
            policies, triggers = self.nested_on_assumed(t)
            if not (policies or triggers):
                continue
            hosted[t.qualified_name] = (policies, triggers)
            cols = needed_cols.setdefault(t.qualified_name, set())
            names = {c.name for c in t.columns}
            for p in policies:
                cols |= names & (_words(p.using) | _words(p.with_check))
                roles_used.update(r for r in p.roles if r != "public")
                texts += [p.using or "", p.with_check or ""]
            for tr in triggers:
                cols |= set(tr.update_columns) | (names & _words(tr.when))
                body = fn_by_name[tr.function].body
                cols |= names & set(re.findall(r"\b(?:new|old)\s*\.\s*\"?([a-z_][a-z0-9_$]*)", body, re.IGNORECASE))
                texts.append(tr.when or "")
        for t in self.assumed_hosts():  # platform tables that views read
            rx = _mention_regex([t.qualified_name])
            for v in views:
                if rx.search(v.query):
                    needed_cols.setdefault(t.qualified_name, set()).update({c.name for c in t.columns} & _words(v.query))
        for name in list(needed_cols):
            t = self.tables.get(name)
            if t is None:
                continue
            rx = _mention_regex([name])
            for f in kept_functions:
                if rx.search(f.body):
                    needed_cols[name] |= {c.name for c in t.columns} & _words(f.body)
        for name in sorted(needed_cols, key=self._table_order):
            t = self.tables.get(name)
            if t is None:
                continue
            key = f"assumed table {name}"
            keys = needed_keys.get(name, set())
            cons = tuple(replace(c, migration=None, assumed=True, comment=None, pos=pos(key)) for c in t.constraints
                         if c.kind in ("primary_key", "unique") and tuple(c.columns) in keys
                         or c.kind == "primary_key" and any(set(k) == set(c.columns) for k in keys))
            cols = needed_cols[name] | {col for c in cons for col in c.columns}
            columns = tuple(replace(c, comment=None, migration=None, assumed=True, pos=pos(key))
                            for c in t.columns if c.name in cols and _type_problem(c.type) is None)
            texts += [c.default or "" for c in columns]
            policies, triggers = hosted.get(name, ([], []))
            tables.append(m.Table(
                schema=t.schema, name=t.name, columns=columns, constraints=tuple(sorted(cons, key=lambda c: c.name)),
                policies=tuple(replace(p, migration=mig, assumed=False, pos=pos(f"policy {name} {p.name}"))
                               for p in policies),
                triggers=tuple(replace(tr, migration=mig, assumed=False, pos=pos(f"trigger {name} {tr.name}"))
                               for tr in triggers),
                rls_enabled=t.rls_enabled and bool(policies), assumed=True, pos=pos(key)))

        # platform functions called anywhere in the spec (auth.uid(), auth.role(), ...)
        calls: set[str] = set()
        for text in texts:
            calls |= _calls(text)
        extensions_needed = {ext for t in kept_tables for ext in self.cat.opclass_extensions.get(t.qualified_name, ())}
        seen: set[str] = set()
        queue = sorted(calls)
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            if ("function", name) in self.cat.extension_members:
                extensions_needed.add(self.cat.extension_members[("function", name)])
                continue
            fns = self.functions.get(name)
            if not fns or fns[0].schema in self.user or len(fns) != 1 or self._function_problem(fns[0]):
                continue
            f = fns[0]
            functions.append(replace(f, migration=None, assumed=True, comment=None, body=_strip_body(f.body),
                                     pos=pos(f"assumed function {name}")))
            if f.language == "sql":
                queue += sorted(_calls(f.body) - seen)
        used_types = {c.type for t in tables for c in t.columns}
        used_types |= {a.type for f in functions for a in f.arguments} | {f.returns for f in functions}
        own_types = {ty.qualified_name for ty in types}
        for type_ in sorted(used_types):
            base = type_.removeprefix("setof ").split("(", 1)[0].rstrip("[]")
            if ("type", base) in self.cat.extension_members:
                extensions_needed.add(self.cat.extension_members[("type", base)])
            elif base in self.types and base not in own_types and base.split(".", 1)[0] not in self.user:
                ty = self.types[base]  # a platform enum the app's columns use
                types.append(replace(ty, migration=None, assumed=True, comment=None, pos=pos(f"assumed type {base}")))
                own_types.add(base)

        # extensions: the app's (installed in its schemas) and the platform's it needs
        extensions = []
        for e in self.cat.model.extensions:
            if e.schema in self.user and e.schema != "pg_catalog":
                extensions.append(m.Extension(name=e.name, schema=e.schema, migration=mig, pos=pos(f"extension {e.name}")))
            elif e.name in extensions_needed:
                extensions.append(m.Extension(name=e.name, schema=e.schema, assumed=True,
                                              pos=pos(f"assumed extension {e.name}")))

        # schemas: public and the platform's assumed, the app's other schemas created by 001
        used = {t.schema for t in tables} | {f.schema for f in functions} | {e.schema for e in extensions if e.schema}
        used |= {ty.schema for ty in types} | {d.schema for d in domains} | {q.schema for q in sequences}
        used |= {"public"}
        namespaces = []
        comments = {(n.name): n.comment for n in self.cat.model.namespaces}
        for name in sorted(used | self.user, key=self._schema_order):
            if name == "pg_catalog":
                continue
            own = name in self.user and name != "public"
            namespaces.append(m.Namespace(name=name, migration=mig if own else None, assumed=not own,
                                          comment=comments.get(name) if own else None, pos=pos(f"schema {name}")))

        # grants (ordered as the loader reads them at the end)
        grants: list[m.Grant] = []
        for n in namespaces:
            if not n.assumed:
                add_grants(f"schema {n.name}", "schema", n.name, n.name)
        for f in functions:
            if not f.assumed:
                add_grants(f"function {f.qualified_name}", "function", f.signature, f.schema)
        for q in sequences:
            add_grants(f"sequence {q.qualified_name}", "sequence", q.qualified_name, q.schema)
        owned: dict[str, list[str]] = {}
        for seq, table in self.cat.sequences.items():
            owned.setdefault(table, []).append(seq)
        for t in self._table_display(tables):
            if not t.assumed:
                add_grants(f"table {t.qualified_name}", "table", t.qualified_name, t.schema)
                add_column_grants(f"table {t.qualified_name}", t.qualified_name, [c.name for c in t.columns], t.schema)
                for seq in sorted(owned.get(t.qualified_name, ())):
                    add_grants(f"sequence {seq}", "sequence", seq, t.schema, key=f"table {t.qualified_name}")
        for v in views:
            add_grants(f"{v.kind} {v.qualified_name}", "table", v.qualified_name, v.schema)
            add_column_grants(f"{v.kind} {v.qualified_name}", v.qualified_name, self.granted_columns(v.qualified_name),
                              v.schema)
        default_privileges = []
        for (on, schema), acl in sorted(self.defaults.items(),
                                        key=lambda kv: (("table", "sequence", "function").index(kv[0][0]), kv[0][1])):
            by_privs: dict[tuple[str, ...], list[str]] = {}
            for role, privs in sorted(acl.items()):
                by_privs.setdefault(_privs(on, privs), []).append(role)
            for privs, roles in sorted(by_privs.items()):
                roles_used.update(r for r in roles if r != "public")
                default_privileges.append(m.DefaultPrivilege(schema=schema, on=on + "s", privileges=privs,
                                                             roles=tuple(roles), pos=pos(f"schema {schema}")))
        # privileges on the assumed schemas: the platform's (for the roles the spec declares anyway)
        # are assumed; on public, what goes beyond Supabase's usage for the API roles is the app's
        for n in namespaces:
            if not n.assumed:
                continue
            platform: dict[tuple[tuple[str, ...], bool], list[str]] = {}
            app: dict[tuple[tuple[str, ...], bool], list[str]] = {}
            options = self.options.get(("schema", n.name), {})
            for role, privs in sorted(self.acl.get(("schema", n.name), {}).items()):
                if role == "public":
                    continue
                held = options.get(role, set())
                if n.name == "public":
                    base = privs & {"usage"} - held if role in SUPABASE_API_ROLES else set()
                    for part, option in ((privs - base - held, False), (held, True)):
                        if part:
                            app.setdefault((_privs("schema", part), option), []).append(role)
                            roles_used.add(role)
                    privs, held = base, set()
                if privs and role in roles_used:
                    for part, option in ((privs - held, False), (held, True)):
                        if part:
                            platform.setdefault((_privs("schema", part), option), []).append(role)
            for target, assumed in ((platform, True), (app, False)):
                for (privs, option), roles in sorted(target.items(), key=lambda kv: kv[0][::-1]):
                    grants.append(m.Grant(on="schema", object=n.name, privileges=privs, roles=tuple(roles),
                                          assumed=assumed, migration=None if assumed else mig,
                                          pos=pos(f"schema {n.name}"), grant_option=privs if option else ()))
        for owner_grants in grants_by_owner.values():
            grants += owner_grants

        roles = []
        for name in sorted(roles_used):
            r = self.roles.get(name)
            if r is None:
                continue
            roles.append(m.Role(name=name, login=r.login, bypassrls=r.bypassrls,
                                member_of=tuple(x for x in r.member_of if x in roles_used), assumed=True,
                                pos=pos(f"role {name}")))
        extra = {}
        if _has(m.Schema, "publications"):
            kept_names = {t.qualified_name for t in tables if not t.assumed}
            publications = []
            for p in getattr(self.cat.model, "publications", ()):
                members = tuple(sorted(x for x in p.tables if x in kept_names))
                if not members and p.name in PLATFORM_PUBLICATIONS:
                    continue
                if not members and not any(x.split(".", 1)[0] in self.user for x in p.tables):
                    continue  # another app's publication
                own = p.name not in PLATFORM_PUBLICATIONS
                publications.append(replace(p, tables=members, migration=mig if own else None, assumed=not own,
                                            pos=pos(f"publication {p.name}")))
            extra["publications"] = tuple(publications)
        spec = m.Schema(
            **extra,
            migrations=(m.Migration(MIGRATION_ID, MIGRATION_NAME),),
            roles=tuple(roles),
            namespaces=tuple(sorted(namespaces, key=lambda n: n.name)),
            extensions=tuple(sorted(extensions, key=lambda e: e.name)),
            tables=tuple(sorted(tables, key=lambda t: t.qualified_name)),
            functions=tuple(sorted(functions, key=lambda f: f.signature)),
            grants=tuple(grants),
            default_privileges=tuple(default_privileges),
            types=tuple(sorted(types, key=lambda ty: ty.qualified_name)),
            views=tuple(views),
            domains=tuple(sorted(domains, key=lambda d: d.qualified_name)),
            sequences=tuple(sorted(sequences, key=lambda q: q.qualified_name)),
        )
        return replace(spec, grants=loader_grant_order(spec))

    # -- display order (YAML): assumed objects first; public first, then by schema and name
    def _schema_order(self, name: str) -> tuple:
        return (name in self.user, self.rank.get(name, -1), name)

    def _table_order(self, name: str) -> tuple:
        schema, _, rel = name.partition(".")
        return self._schema_order(schema) + (rel,)

    def _table_display(self, tables) -> list[m.Table]:
        return sorted(tables, key=lambda t: (not t.assumed,) + self._table_order(t.qualified_name))


def _spec_constraints(t: m.Table) -> tuple[m.Constraint, ...]:
    """The constraints as the loader reads them back: an exclusion constraint is its definition
    (``exclude using gist (...)``, PostgreSQL's words, deferrable included) without columns."""
    return tuple(replace(c, expression="exclude " + c.expression[len("EXCLUDE "):], columns=(), deferrable=False)
                 if c.kind == "exclude" else c for c in t.constraints)


def _view_order(views: list[m.View]) -> list[m.View]:
    """Views by name, each after the views its query reads (the order they must be created in)."""
    by_name = {v.qualified_name: v for v in views}
    rx = {name: _mention_regex([name]) for name in by_name}
    out: list[m.View] = []
    done: set[str] = set()

    def visit(v: m.View, path: tuple[str, ...]) -> None:
        if v.qualified_name in done or v.qualified_name in path:
            return
        for other in sorted(by_name):
            if other != v.qualified_name and rx[other].search(v.query):
                visit(by_name[other], path + (v.qualified_name,))
        done.add(v.qualified_name)
        out.append(v)

    for name in sorted(by_name):
        visit(by_name[name], ())
    return out


def _serial(t: m.Table, c: m.Column) -> bool:
    """Whether the spec writes the column as ``type: serial`` (bigserial, smallserial): not null, it owns the
    sequence its default takes values from, named as serial names it."""
    from .sql import serial_type

    return c.serial and not c.nullable and serial_type(t, c) is not None


_SEQUENCE_RANGE = {"smallint": 2 ** 15 - 1, "integer": 2 ** 31 - 1, "bigint": 2 ** 63 - 1}


def _sequence_as_written(q: m.Sequence, mig: str, where: m.Pos) -> m.Sequence:
    """A standalone sequence as the loader reads the options inspect writes: those at PostgreSQL's
    defaults (start at the minimum, or the maximum counting down; the type's range) are left out."""
    top = _SEQUENCE_RANGE.get(q.type, 2 ** 63 - 1)
    low, high = (1, top) if q.increment > 0 else (-top - 1, -1)
    min_value = None if q.min_value == low else q.min_value
    max_value = None if q.max_value == high else q.max_value
    start = None if q.start == (q.min_value if q.increment > 0 else q.max_value) else q.start
    return replace(q, start=start, min_value=min_value, max_value=max_value, migration=mig, assumed=False, pos=where)


def _unquote(text: str) -> str:
    return text.replace('"', "")


def _privs(on: str, privs) -> tuple[str, ...]:
    privs = frozenset(privs)
    if privs == _ALL.get(on) and len(privs) > 1:
        return ("all",)
    return tuple(sorted(privs, key=lambda p: (_PRIVILEGE_ORDER.get(p, 99), p)))


def _table_returns(columns) -> str:
    """``returns table(...)`` as PostgreSQL prints it and the loader spells it: ``TABLE(id uuid, n integer)``."""
    return "TABLE(" + ", ".join(f"{a.name} {a.type}" for a in columns) + ")"


def _type_problem(type_: str) -> str | None:
    """Why the spec cannot declare a column or argument of this type (None: it can, as is)."""
    try:
        canon = canonical_type(type_)
    except TypeProblem as e:
        return str(e)
    if canon != type_:
        return f"type {type_} is not written as the spec writes it ({canon})"
    return None


def build_spec(cat: Catalog) -> tuple[m.Schema, list[str]]:
    """The spec of the catalog and the notes on what it cannot express."""
    from .spec.validate import validate

    b = _Builder(cat)
    b.initial()
    for _ in range(1000):  # each round leaves out at least one more object
        b.cascade()
        spec = b.assemble()
        problems = validate(spec)
        if any(p.pos is None for p in problems):  # a column, constraint...: find out whose
            spec = b.assemble(nested_pos=True)
            problems = validate(spec)
        progress = False
        for problem in problems:
            key = problem.pos.file if problem.pos else ""
            kind, _, name = key.partition(" ")
            if kind in ("table", "function", "type", "view", "domain", "sequence"):
                progress |= b.omit(kind, name, problem.message)
            elif kind == "materialized":
                progress |= b.omit("materialized view", name.split(" ", 1)[1], problem.message)
            elif kind in ("policy", "trigger"):
                table, _, nested = name.partition(" ")
                if (table, kind, nested) not in b.dropped_nested:
                    b.dropped_nested[(table, kind, nested)] = problem.message
                    progress = True
            else:  # an assumed object or a schema: leave out what needs it
                raise DatabaseError(f"inspect could not describe {key or 'the database'}: {problem.message}")
        if not progress:
            break
    notes = list(b.notes)
    for key, reason in b.omitted.items():
        notes.append(f"{reason if reason.startswith(key + ' ') else key + ': ' + reason} (left out)")
    for (table, kind, name), reason in sorted(b.dropped_nested.items()):
        notes.append(f"{kind} {name} on {table}: {reason} (left out)")
    return spec, notes


# ---------------------------------------------------------------- YAML

class _FlowList(list):
    """A list written in flow style: ``[select, insert]``."""


# A small YAML writer for the one shape ``to_yaml`` builds (PyYAML's representer takes seconds on
# a 1000-table spec). Scalars are plain only when nothing in them can mean anything else to a YAML
# 1.1 reader; otherwise double-quoted with JSON escapes (valid YAML), and multi-line text is a
# literal block unless it holds characters a block cannot keep. Every spec inspect writes is read
# back by the loader in the tests and must give the same model.
_PLAIN = re.compile(r"[A-Za-z_(][A-Za-z0-9_ .()/=<>*+'$;-]*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
_UNSAFE_IN_BLOCK = re.compile("[\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_ESCAPE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _text_scalar(str(value))


@lru_cache(maxsize=65536)
def _text_scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and text.lower() not in _YAML_WORDS:
        return text
    return _ESCAPE.sub(lambda mt: f"\\u{ord(mt.group(0)):04x}", json.dumps(text, ensure_ascii=False))


def _block_text(text: str, indent: int) -> str | None:
    """``|`` block lines, at ``indent`` spaces (its key's plus two), for a multi-line string (None
    when a block cannot hold it exactly)."""
    if _UNSAFE_IN_BLOCK.search(text):
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    lines = body.split("\n")
    first = next((line for line in lines if line.strip()), "")
    if not first or any(line and not line.strip() and len(line) > len(first) - len(first.lstrip(" "))
                        for line in lines):
        return None  # all blank, or a blank line with more spaces than the first line's indentation
    pad = " " * indent
    head = "|" + ("2" if first.startswith(" ") else "") + chomp  # content two spaces in from its key
    return head + "\n" + "\n".join(pad + line if line else "" for line in lines) + "\n" * trailing


def _flow(value) -> str:
    kind = type(value)
    if kind is _Raw:
        return value
    if kind is str:
        return _text_scalar(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_text_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join([_text_scalar(x) if type(x) is str else _flow(x) for x in value]) + "]"
    return _scalar(value)


def _emit(value, indent: int, out: list[str]) -> None:
    """Append the lines of a block mapping (``value`` a dict) at ``indent`` spaces."""
    pad = " " * indent
    for key, v in value.items():
        k = _scalar(key)
        if isinstance(v, (_Raw, _FlowList)) or not isinstance(v, (dict, list, str)):
            out.append(f"{pad}{k}: {_flow(v)}")
        elif isinstance(v, str):
            block = _block_text(v, indent + 2) if "\n" in v else None
            if block is None:
                out.append(f"{pad}{k}: {_scalar(v)}")
            else:  # the lines are joined with newlines: the block's last one comes from the join
                out.append(f"{pad}{k}: " + (block[:-1] if block.endswith("\n") else block))
        elif isinstance(v, dict):
            if not v:
                out.append(f"{pad}{k}: {{}}")
                continue
            out.append(f"{pad}{k}:")
            _emit(v, indent + 2, out)
        else:
            if not v:
                out.append(f"{pad}{k}: []")
                continue
            out.append(f"{pad}{k}:")
            for item in v:
                if isinstance(item, dict) and item:
                    sub: list[str] = []
                    _emit(item, indent + 4, sub)
                    out.append(f"{pad}  - " + sub[0].lstrip(" "))
                    out.extend(sub[1:])
                else:
                    out.append(f"{pad}  - {_flow(item)}")


_FLOW_MAX = 110


class _Raw(str):
    """Text already written in flow style (``_short`` measured it)."""


def _short(d: dict) -> dict:
    """Flow style when every value is a short one-line scalar (or list of them) and it fits a line."""
    def simple(v) -> bool:
        if isinstance(v, str):
            return "\n" not in v
        if isinstance(v, list):
            return all(type(x) is str and "\n" not in x and "," not in x for x in v)
        return isinstance(v, (bool, int, _Raw))
    if all(simple(v) for v in d.values()):
        text = _flow(d)
        if len(text) <= _FLOW_MAX:
            return _Raw(text)
    return {k: (_FlowList(v) if isinstance(v, list) and all(type(x) is str and "\n" not in x for x in v)
                and len(_flow(v)) <= _FLOW_MAX else v) for k, v in d.items()}


def _grant_items(grants: list[m.Grant], top_level: str | None = None, owner_assumed: bool = False) -> list:
    out: list = []
    last: tuple | None = None  # the column grant item being filled: (its grant, columns)
    for g in grants:
        if g.on == "column":  # consecutive column grants alike are one item naming their columns
            column = g.object.rsplit(".", 1)[1]
            if last is not None and (last[0].action, last[0].privileges, last[0].roles, last[0].grant_option) == (
                    g.action, g.privileges, g.roles, g.grant_option):
                last[1].append(column)
                continue
            last = (g, [column])
            out.append(last)
            continue
        last = None
        out.append(g)
    items = []
    for entry in out:
        g, columns = entry if isinstance(entry, tuple) else (entry, None)
        item: dict = {}
        if top_level:
            item["on"] = top_level
        if top_level or owner_assumed and not g.assumed:
            item["migration"] = g.migration
        item[g.action] = list(g.privileges)
        if columns is not None:
            item["columns"] = columns
        item["to" if g.action == "grant" else "from"] = list(g.roles)
        if g.grant_option:
            item["grant_option"] = True
        items.append(_short(item))
    return items


def _column(t: m.Table, c: m.Column, inline: dict[str, list[m.Constraint]]) -> object:
    from .sql import serial_type

    serial = serial_type(t, c) if c.serial else None
    d: dict = {"type": serial or c.type}
    attached = inline.get(c.name, [])
    kinds = {k.kind: k for k in attached}
    if "primary_key" in kinds:
        d["primary_key"] = True
    elif not c.nullable and not c.identity and not serial:
        d["nullable"] = False
    if c.default is not None:
        d["default"] = c.default
    if c.identity:
        d["identity"] = c.identity
    if c.generated is not None:
        d["generated"] = c.generated
    if "unique" in kinds:
        d["unique"] = True
    fk = kinds.get("foreign_key")
    if fk is not None:
        d["references"] = _references(fk, single=True)
    if "check" in kinds:
        d["check"] = kinds["check"].expression
    if getattr(c, "collation", None):
        d["collation"] = c.collation
    if c.comment is not None:
        d["comment"] = c.comment
    if list(d) == ["type"]:
        return d["type"]
    return _short(d)


def _references(c: m.Constraint, single: bool) -> dict:
    r: dict = {"table": c.ref_table}
    if single and len(c.ref_columns) == 1:
        r["column"] = c.ref_columns[0]
    else:
        r["columns"] = list(c.ref_columns)
    if c.on_delete:
        r["on_delete"] = c.on_delete
    if c.on_update:
        r["on_update"] = c.on_update
    if c.deferrable:
        r["deferrable"] = True
    return _short(r)


def _inline_constraints(t: m.Table) -> tuple[dict[str, list[m.Constraint]], list[m.Constraint]]:
    """Constraints written on their column (named as the loader would name them) and the rest."""
    cols = {c.name for c in t.columns}
    inline: dict[str, list[m.Constraint]] = {}
    rest = []
    for c in t.constraints:
        col = c.columns[0] if len(c.columns) == 1 else None
        expected = {"primary_key": f"{t.name}_pkey", "unique": f"{t.name}_{col}_key",
                    "foreign_key": f"{t.name}_{col}_fkey"}.get(c.kind)
        if c.kind == "check":
            col = next((x for x in cols if c.name == f"{t.name}_{x}_check"), None)
            expected = c.name if col else None
        taken = {k.kind for k in inline.get(col or "", [])}
        if col and c.name == expected and c.comment is None and c.kind not in taken and not (
                c.kind == "foreign_key" and len(c.ref_columns) != 1):
            inline.setdefault(col, []).append(c)
        else:
            rest.append(c)
    return inline, rest


def _constraint(c: m.Constraint) -> dict:
    d: dict = {}
    if c.kind == "check":
        d["check"] = c.expression
    elif c.kind == "foreign_key":
        d["foreign_key"] = list(c.columns)
        d["references"] = _references(c, single=False)
    elif c.kind == "exclude":
        d["exclude"] = c.expression[len("exclude "):]
    else:
        d[c.kind] = list(c.columns)
    if c.comment is not None:
        d["comment"] = c.comment
    return _short(d)


def _index_key(k: m.IndexKey) -> str:
    text = k.expression if k.is_column else f"({k.expression})"
    if k.opclass:
        text += f" {k.opclass}"
    if k.descending:
        text += " desc"
    if k.nulls:
        text += f" nulls {k.nulls}"
    return text


def _nested_common(d: dict, o, table: m.Table) -> dict:
    if table.assumed and not o.assumed and o.migration:
        d = {"migration": o.migration, **d}
    if o.comment is not None:
        d["comment"] = o.comment
    return d


def _table(t: m.Table, grants: list[m.Grant], publications: list[str] = ()) -> dict:
    d: dict = {"assumed": True} if t.assumed else {"migration": t.migration}
    if t.comment is not None:
        d["comment"] = t.comment
    if t.rls_enabled or t.rls_forced:
        d["rls"] = True if not t.rls_forced else _short({"enabled": t.rls_enabled, "forced": True})
    if getattr(t, "replica_identity", None):
        d["replica_identity"] = t.replica_identity
    if publications:
        d["publication"] = publications[0] if len(publications) == 1 else _FlowList(publications)
    if getattr(t, "partition_by", None):
        d["partition_by"] = t.partition_by
    inline, rest = _inline_constraints(t)
    d["columns"] = {c.name: _column(t, c, inline) for c in t.columns}
    if rest:
        d["constraints"] = {c.name: _constraint(c) for c in rest}
    if t.indexes:
        d["indexes"] = {}
        for i in t.indexes:
            x: dict = {"columns": [_index_key(k) for k in i.keys]}
            if i.unique:
                x["unique"] = True
            if i.method != "btree":
                x["method"] = i.method
            if i.where is not None:
                x["where"] = i.where
            if i.include:
                x["include"] = list(i.include)
            d["indexes"][i.name] = _short(_nested_common(x, i, t))
    if t.policies:
        d["policies"] = {}
        for p in t.policies:
            x = {"command": p.command}
            if p.roles != ("public",):
                x["roles"] = list(p.roles)
            if not p.permissive:
                x["permissive"] = False
            if p.using is not None:
                x["using"] = p.using
            if p.with_check is not None:
                x["with_check"] = p.with_check
            d["policies"][p.name] = _short(_nested_common(x, p, t))
    if t.triggers:
        d["triggers"] = {}
        for tr in t.triggers:
            x = {"timing": tr.timing, "events": list(tr.events), "for_each": tr.for_each}
            if tr.update_columns:
                x["columns"] = list(tr.update_columns)
            if tr.when is not None:
                x["when"] = tr.when
            x["function"] = tr.function
            if getattr(tr, "arguments", ()):
                x["arguments"] = list(tr.arguments)
            d["triggers"][tr.name] = _short(_nested_common(x, tr, t))
    if getattr(t, "partitions", ()):
        d["partitions"] = {p.name: p.bound for p in t.partitions}
    if grants:
        d["grants"] = _grant_items(grants)
    return d


def _function(f: m.Function, grants: list[m.Grant]) -> dict:
    d: dict = {"assumed": True} if f.assumed else {"migration": f.migration}
    if f.comment is not None:
        d["comment"] = f.comment
    result = {a.name: a.type for a in f.arguments if a.mode == "table"}
    if len(result) < len(f.arguments):
        args = []
        for a in f.arguments:
            if a.mode == "table":
                continue
            x: dict = {}
            if a.name is not None:
                x["name"] = a.name
            x["type"] = a.type
            if a.default is not None:
                x["default"] = a.default
            if a.mode != "in":
                x["mode"] = a.mode
            args.append(_short(x))
        d["arguments"] = args
    d["returns"] = _short({"table": _short(result)}) if result else f.returns
    d["language"] = f.language
    if f.volatility != "volatile":
        d["volatility"] = f.volatility
    if f.security_definer:
        d["security_definer"] = True
    if f.strict:
        d["strict"] = True
    if f.config:
        d["set"] = _short(dict(f.config))
    d["body"] = f.body
    if grants:
        d["grants"] = _grant_items(grants)
    return d


HEADER = """\
# Written by `schemagen inspect` from a live database. Review it, then `schemagen render`.
# Objects the platform provides are `assumed: true` (never rendered into a migration);
# everything else is created by migration "001". Grants are relative to the default
# privileges declared under `schemas: public:` (what a new object gets anyway).
"""


def _schema_rank(spec: m.Schema) -> dict[str, tuple]:
    """The YAML order of schemas: assumed first, public first, then by name."""
    return {n.name: (not n.assumed, n.name != "public", n.name) for n in spec.namespaces}


def _obj_order(rank: dict[str, tuple]):
    return lambda o: (not o.assumed,) + rank.get(o.schema, (True, True, o.schema)) + (o.name,)


def _grants_by_owner(spec: m.Schema) -> tuple[dict[tuple[str, str], list[m.Grant]], list[m.Grant]]:
    by_owner: dict[tuple[str, str], list[m.Grant]] = {}
    top: list[m.Grant] = []
    standalone = {q.qualified_name for q in spec.sequences}
    for g in spec.grants:
        if g.on == "sequence" and g.object not in standalone:  # an identity or serial column's
            top.append(g)
        elif g.on == "column":  # under its table: `columns: [...]`
            by_owner.setdefault(("table", g.object.rsplit(".", 1)[0]), []).append(g)
        else:
            by_owner.setdefault((g.on, g.object), []).append(g)
    return by_owner, top


def loader_grant_order(spec: m.Schema) -> tuple[m.Grant, ...]:
    """The grants in the order the loader collects them from ``to_yaml``'s text: under schemas,
    functions and tables in YAML order, then the top-level ones."""
    rank = _schema_rank(spec)
    by_owner, top = _grants_by_owner(spec)
    out: list[m.Grant] = []
    for n in sorted(spec.namespaces, key=lambda n: rank[n.name]):
        out += by_owner.get(("schema", n.name), [])
    for f in sorted(spec.functions, key=_obj_order(rank)):
        out += by_owner.get(("function", f.signature), [])
    for q in sorted(spec.sequences, key=_obj_order(rank)):
        out += by_owner.get(("sequence", q.qualified_name), [])
    for t in sorted(spec.tables, key=_obj_order(rank)):
        out += by_owner.get(("table", t.qualified_name), [])
    for v in spec.views:
        out += by_owner.get(("table", v.qualified_name), [])
    return tuple(out + top)


def to_yaml(spec: m.Schema) -> str:
    """The spec as readable YAML that the loader reads back to an equal model."""
    schema_rank = _schema_rank(spec)
    obj_order = _obj_order(schema_rank)
    by_owner, top = _grants_by_owner(spec)
    doc: dict = {"version": 1, "migrations": {m_.id: m_.name for m_ in spec.migrations}}
    if spec.roles:
        doc["roles"] = {}
        for r in spec.roles:
            x: dict = {"assumed": True}
            if r.login:
                x["login"] = True
            if r.bypassrls:
                x["bypassrls"] = True
            if r.member_of:
                x["member_of"] = list(r.member_of)
            doc["roles"][r.name] = _short(x)
    doc["schemas"] = {}
    for n in sorted(spec.namespaces, key=lambda n: schema_rank[n.name]):
        x = {"assumed": True} if n.assumed else {"migration": n.migration}
        if n.comment is not None:
            x["comment"] = n.comment
        g = by_owner.get(("schema", n.name))
        if g:
            x["grants"] = _grant_items(g, owner_assumed=n.assumed)
        dp = [d for d in spec.default_privileges if d.schema == n.name]
        if dp:
            x["default_privileges"] = [_short({"on": d.on, "grant": list(d.privileges), "to": list(d.roles)})
                                       for d in dp]
        doc["schemas"][n.name] = _short(x)
    if spec.extensions:
        doc["extensions"] = {}
        for e in spec.extensions:
            x = {"assumed": True} if e.assumed else {"migration": e.migration}
            if e.schema:
                x["schema"] = e.schema
            doc["extensions"][e.name] = _short(x)
    if spec.types or spec.domains:
        doc["types"] = {}
        for ty in sorted(spec.types + spec.domains, key=obj_order):
            x = {"assumed": True} if ty.assumed else {"migration": ty.migration}
            if ty.comment is not None:
                x["comment"] = ty.comment
            if isinstance(ty, m.EnumType):
                x["enum"] = list(ty.values)
            else:
                x["domain"] = ty.type
                if not ty.nullable:
                    x["nullable"] = False
                if ty.default is not None:
                    x["default"] = ty.default
                if ty.checks:
                    x["check"] = _short(dict(ty.checks))
            doc["types"][ty.qualified_name] = _short(x)
    if spec.sequences:
        doc["sequences"] = {}
        for q in sorted(spec.sequences, key=obj_order):
            x = {"assumed": True} if q.assumed else {"migration": q.migration}
            if q.comment is not None:
                x["comment"] = q.comment
            if q.type != "bigint":
                x["type"] = q.type
            for key, value, default in (("start", q.start, None), ("increment", q.increment, 1),
                                        ("min", q.min_value, None), ("max", q.max_value, None),
                                        ("cache", q.cache, 1), ("cycle", q.cycle, False)):
                if value != default:
                    x[key] = value
            g = by_owner.get(("sequence", q.qualified_name))
            if g:
                x["grants"] = _grant_items(g)
            doc["sequences"][q.qualified_name] = _short(x)
    if spec.functions:
        shared = Counter(f.qualified_name for f in spec.functions)  # overloads are keyed by their signature
        doc["functions"] = {f.signature if shared[f.qualified_name] > 1 else f.qualified_name:
                            _function(f, by_owner.get(("function", f.signature), []))
                            for f in sorted(spec.functions, key=obj_order)}
    publications = getattr(spec, "publications", ())
    member_of: dict[str, list[str]] = {}
    if publications:
        doc["publications"] = {}
        for p in publications:
            doc["publications"][p.name] = _short({"assumed": True} if p.assumed else {"migration": p.migration})
            for table in p.tables:
                member_of.setdefault(table, []).append(p.name)
    if spec.tables:
        doc["tables"] = {t.qualified_name: _table(t, by_owner.get(("table", t.qualified_name), []),
                                                  member_of.get(t.qualified_name, []))
                         for t in sorted(spec.tables, key=obj_order)}
    if spec.views:
        doc["views"] = {}
        for v in spec.views:
            x = {"assumed": True} if v.assumed else {"migration": v.migration}
            if v.comment is not None:
                x["comment"] = v.comment
            if v.materialized:
                x["materialized"] = True
            if v.security_invoker:
                x["security_invoker"] = True
            if v.security_barrier:
                x["security_barrier"] = True
            x["query"] = v.query
            g = by_owner.get(("table", v.qualified_name))
            if g:
                x["grants"] = _grant_items(g)
            doc["views"][v.qualified_name] = x
    if top:
        doc["grants"] = [item for g in top for item in _grant_items([g], top_level=f"{g.on} {g.object}")]
    lines: list[str] = []
    _emit(doc, 0, lines)
    return HEADER + "\n".join(lines) + "\n"
