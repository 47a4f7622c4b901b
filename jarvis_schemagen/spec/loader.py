"""schema.yaml -> model.Schema.

Built from ``yaml.compose`` nodes, not ``yaml.safe_load``: every object keeps its line and
column, duplicate keys are caught instead of silently overwritten, and scalars are read as
the text the user wrote (so ``on:`` stays a key and ``"001"`` stays ``001``). Every problem is
collected; the caller raises one SpecError with all of them.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import yaml

from .. import model as m
from .keys import MIGRATION_ID_RE, SHAPES, TRIGGER_EVENTS, Key
from .problems import Problem, did_you_mean
from .types import TypeProblem, canonical_type

# libyaml's C parser builds the same nodes (with marks) about 10x faster than pure Python
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

IDENT_RE = re.compile(r"^[a-z_][a-z0-9_$]*$")
MAX_IDENT = 63

_BOOL_TRUE = {"true"}
_BOOL_FALSE = {"false"}
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}

TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger")
PRIVILEGES = {
    "table": set(TABLE_PRIVILEGES) | {"all"},
    "function": {"execute", "all"},
    "schema": {"usage", "create", "all"},
    "sequence": {"usage", "select", "update", "all"},
}
EVENT_ORDER = TRIGGER_EVENTS


class _Ctx:
    def __init__(self, filename: str):
        self.file = filename
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        # the spec's own types: "mood" (in public) and "public.mood" -> "public.mood"
        self.user_types: dict[str, str] = {}
        self.migration_ref: Callable = lambda node: _text(self, node, "migration")

    def pos(self, node) -> m.Pos:
        mark = node.start_mark
        return m.Pos(self.file, mark.line + 1, mark.column + 1)

    def error(self, node, message: str) -> None:
        self.problems.append(Problem(self.pos(node) if node is not None else None, message))


# ---------------------------------------------------------------- node readers

def _plain(node) -> bool:
    """An unquoted scalar (the pure-Python parser says style None, libyaml says '')."""
    return not node.style


def _is_null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null" and _plain(node)


def _mapping(ctx: _Ctx, node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
    """(key, key_node, value_node) of a mapping, duplicates reported; None if not a mapping."""
    if _is_null(node):
        return []
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"{what} must be a mapping (key: value)")
        return None
    out, seen = [], {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            ctx.error(k, f"keys in {what} must be plain text")
            continue
        if k.value in seen:
            ctx.error(k, f"duplicate key '{k.value}' in {what} (first defined at line {seen[k.value]})")
            continue
        seen[k.value] = k.start_mark.line + 1
        out.append((k.value, k, v))
    return out


def _text(ctx: _Ctx, node, what: str) -> str | None:
    if _is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, f"{what} must be text")
        return None
    return node.value


def _lint_ignore(ctx: _Ctx, node) -> tuple[tuple[str, str], ...]:
    """``lint_ignore: {rule: reason}``: lint findings to suppress on this object, each with its reason."""
    from ..lint import RULE_KEYS

    out = []
    for rule, knode, vnode in _mapping(ctx, node, "lint_ignore") or []:
        if rule not in RULE_KEYS:
            ctx.error(knode, f"unknown lint rule '{rule}' in lint_ignore{did_you_mean(rule, sorted(RULE_KEYS))}")
            continue
        reason = _text(ctx, vnode, f"the reason for ignoring {rule}")
        if not (reason or "").strip():
            ctx.error(vnode, f"lint_ignore: {rule} needs a reason (why the finding does not apply here)")
            continue
        out.append((rule, reason.strip()))
    return tuple(sorted(out))


def _bool(ctx: _Ctx, node, what: str) -> bool | None:
    if not isinstance(node, yaml.ScalarNode) or _is_null(node):
        ctx.error(node, f"{what} must be true or false")
        return None
    v = node.value.lower()
    if _plain(node) and v in _BOOL_TRUE:
        return True
    if _plain(node) and v in _BOOL_FALSE:
        return False
    hint = " (YAML 1.1 words like yes/no/on/off are ambiguous; write true or false)" if v in _YAML11_BOOLS else ""
    ctx.error(node, f"{what} must be true or false, not '{node.value}'{hint}")
    return None


def _list(ctx: _Ctx, node, what: str) -> list | None:
    if _is_null(node):
        return []
    if isinstance(node, yaml.ScalarNode):
        return [node]  # a single item may be written without brackets
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"{what} must be a list")
        return None
    return list(node.value)


def _text_list(ctx: _Ctx, node, what: str) -> tuple[str, ...]:
    items = _list(ctx, node, what) or []
    out = []
    for item in items:
        t = _text(ctx, item, f"each item of {what}")
        if t is not None:
            out.append(t)
    return tuple(out)


def _choice(ctx: _Ctx, node, what: str, choices) -> str | None:
    t = _text(ctx, node, what)
    if t is None:
        return None
    norm = " ".join(t.lower().split())
    if norm not in choices:
        ctx.error(node, f"{what} must be one of {', '.join(choices)}, not '{t}'{did_you_mean(norm, choices)}")
        return None
    return norm


def _ident(ctx: _Ctx, node, name: str, what: str) -> bool:
    if len(name.encode()) > MAX_IDENT:
        ctx.error(node, f"{what} '{name}' is longer than {MAX_IDENT} bytes (PostgreSQL would truncate it)")
        return False
    if not IDENT_RE.match(name):
        ctx.error(node, f"invalid {what} '{name}': use lower-case letters, digits and _, starting with a letter or _")
        return False
    return True


def _qualified(ctx: _Ctx, node, text: str, what: str, default_schema: str = "public") -> tuple[str, str] | None:
    parts = text.split(".")
    if len(parts) == 1:
        parts = [default_schema, parts[0]]
    if len(parts) != 2:
        ctx.error(node, f"invalid {what} '{text}': write name or schema.name")
        return None
    ok = _ident(ctx, node, parts[0], "schema name") & _ident(ctx, node, parts[1], what)
    return (parts[0], parts[1]) if ok else None


def _parse_key(ctx: _Ctx, node, name: str, key: Key):
    """A value read by its kind in the key table (keys.SHAPES)."""
    if key.kind == "bool":
        return _bool(ctx, node, name)
    if key.kind == "text":
        return _text(ctx, node, name)
    if key.kind == "texts":
        return _text_list(ctx, node, name)
    if key.kind == "choice":
        return _choice(ctx, node, name, key.choices)
    if key.kind in ("type", "return_type"):
        return _type(ctx, node, name, allow_return_only=key.kind == "return_type")
    if key.kind == "migration":
        return ctx.migration_ref(node)
    if key.kind == "lint_ignore":
        return _lint_ignore(ctx, node)
    return node  # "node": read by the caller


def _fields(ctx: _Ctx, node, what: str, shape: str, parse: dict[str, Callable] | None = None) -> dict | None:
    """Read a mapping whose keys must be those of ``SHAPES[shape]``; returns key -> parsed value.

    Each value is read by its kind in the key table unless ``parse`` gives a reader for
    that key (for messages naming the object); required keys come from the table too.
    """
    spec = SHAPES[shape]
    if parse and not set(parse) <= set(spec.keys):
        raise AssertionError(f"loader reads keys {sorted(set(parse) - set(spec.keys))} not in keys.SHAPES[{shape!r}]")
    items = _mapping(ctx, node, what)
    if items is None:
        return None
    out: dict = {}
    for key, knode, vnode in items:
        k = spec.keys.get(key)
        if k is None:
            ctx.error(knode, f"unknown key '{key}' in {what}{did_you_mean(key, spec.keys)}")
            continue
        reader = (parse or {}).get(key)
        out[key] = reader(vnode) if reader else _parse_key(ctx, vnode, key, k)
        out["@" + key] = vnode
    for key in spec.required:
        if key not in out:
            ctx.error(node, f"{what} needs '{key}'")
    return out


def _type(ctx: _Ctx, node, what: str, allow_return_only=False) -> str | None:
    t = _text(ctx, node, what)
    if t is None:
        ctx.error(node, f"{what} must name a type")
        return None
    try:
        return canonical_type(t, allow_return_only=allow_return_only)
    except TypeProblem as e:
        own = _user_type(ctx, t, allow_return_only)
        if own is not None:
            return own
        ctx.error(node, str(e))
        return None


def _user_type(ctx: _Ctx, text: str, allow_setof: bool) -> str | None:
    """A type the spec declares under `types:`, by bare (public) or qualified name, maybe an array."""
    raw = " ".join(str(text).strip().lower().split())
    prefix = ""
    if allow_setof and raw.startswith("setof "):
        prefix, raw = "setof ", raw[6:].strip()
    base = raw.rstrip("[] ")
    array = raw[len(base):].replace(" ", "")
    if base in ctx.user_types and array in ("", "[]", "[][]"):
        return prefix + ctx.user_types[base] + array
    return None


# ---------------------------------------------------------------- the loader

class _Loader:
    def __init__(self, ctx: _Ctx):
        self.ctx = ctx
        ctx.migration_ref = self._migration_ref
        self.migration_ids: list[str] = []
        self.tables: dict[str, dict] = {}  # qualified -> parts being collected
        self.grants: list[m.Grant] = []
        self.default_privileges: list[m.DefaultPrivilege] = []

    # -- common fields
    def _migration_ref(self, node) -> str | None:
        t = _text(self.ctx, node, "migration")
        if t is None:
            return None
        if t not in self.migration_ids:
            hint = did_you_mean(t, self.migration_ids) or (
                f" (declared: {', '.join(self.migration_ids)})" if self.migration_ids else ""
            )
            self.ctx.error(node, f"unknown migration '{t}'{hint}")
            return None
        return t

    def _ownership(self, f: dict, node, what: str, top_level: bool) -> tuple[str | None, bool]:
        assumed = bool(f.get("assumed"))
        mig = f.get("migration")
        if assumed and mig:
            self.ctx.error(f["@migration"], f"{what} is assumed (exists before migration 001), so it cannot also name a migration")
        if top_level and not assumed and mig is None and "@migration" not in f:
            self.ctx.error(node, f"{what} needs `migration: <id>` (the migration that creates it) or `assumed: true`")
        return mig, assumed

    def _grant_items(self, node, on: str, obj: str, owner_mig, owner_assumed) -> None:
        for item in _list(self.ctx, node, "grants") or []:
            f = _fields(self.ctx, item, "a grant", "grant")
            if f is None:
                continue
            if ("grant" in f) == ("revoke" in f):
                self.ctx.error(item, "a grant needs exactly one of `grant: [privileges]` or `revoke: [privileges]`")
                continue
            action = "grant" if "grant" in f else "revoke"
            roles_key = "to" if action == "grant" else "from"
            wrong = "from" if action == "grant" else "to"
            if wrong in f:
                self.ctx.error(f["@" + wrong], f"`{action}` takes `{roles_key}:`, not `{wrong}:`")
                continue
            if roles_key not in f or not f[roles_key]:
                self.ctx.error(item, f"`{action}` needs `{roles_key}: [roles]`")
                continue
            privs = tuple(p.lower() for p in f[action])
            for p in privs:
                if p not in PRIVILEGES[on]:
                    self.ctx.error(f["@" + action], f"'{p}' is not a privilege on a {on}; use {', '.join(sorted(PRIVILEGES[on]))}")
            mig = f.get("migration") or owner_mig
            self.grants.append(m.Grant(
                on=on, object=obj, privileges=privs, roles=tuple(r.lower() for r in f[roles_key]),
                action=action, migration=None if owner_assumed and not f.get("migration") else mig,
                assumed=owner_assumed and not f.get("migration"), pos=self.ctx.pos(item),
            ))

    def _top_level_grants(self, node) -> None:
        """``grants:`` at the top level name their object: ``on: sequence public.t_id_seq``."""
        ctx = self.ctx
        for item in _list(ctx, node, "grants") or []:
            if not isinstance(item, yaml.MappingNode):
                ctx.error(item, "each grant must be a mapping")
                continue
            on_node = next((v for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "on"), None)
            mig_node = next((v for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "migration"), None)
            if on_node is None or mig_node is None:
                ctx.error(item, "a top-level grant needs `on: <kind> <name>` (e.g. `sequence public.t_id_seq`) "
                                "and `migration:`")
                continue
            text = (_text(ctx, on_node, "on") or "").strip()
            kind, _, name = text.partition(" ")
            if kind not in PRIVILEGES or not name.strip():
                ctx.error(on_node, f"`on` must be '<kind> <name>' with kind one of {', '.join(sorted(PRIVILEGES))}")
                continue
            rest = yaml.SequenceNode("tag:yaml.org,2002:seq", [yaml.MappingNode(
                item.tag, [(k, v) for k, v in item.value if not (isinstance(k, yaml.ScalarNode) and k.value == "on")],
                start_mark=item.start_mark, end_mark=item.end_mark)], start_mark=item.start_mark, end_mark=item.end_mark)
            self._grant_items(rest, kind, name.strip(), None, False)

    # -- top level
    def load(self, root) -> m.Schema | None:
        ctx = self.ctx
        if root is None or _is_null(root):
            ctx.problems.append(Problem(m.Pos(ctx.file, 1, 1), "the spec is empty: expected a mapping with version, migrations and tables"))
            return None
        if not isinstance(root, yaml.MappingNode):
            ctx.error(root, "the spec must be a mapping with keys version, migrations, tables, ... at the top level")
            return None
        top = _fields(ctx, root, "the spec", "spec")
        if top is None:
            return None
        if "version" not in top:
            ctx.error(root, "the spec needs `version: 1`")
        elif _text(ctx, top["version"], "version") != "1":
            ctx.error(top["version"], f"unsupported spec version '{top['version'].value if isinstance(top['version'], yaml.ScalarNode) else '?'}': this tool reads version 1")
        migrations = self._migrations(top.get("migrations"), root)
        roles = self._roles(top["roles"]) if "roles" in top else ()
        namespaces = self._schemas(top["schemas"]) if "schemas" in top else ()
        extensions = self._extensions(top["extensions"]) if "extensions" in top else ()
        types = self._types(top["types"]) if "types" in top else ()  # first: columns and arguments use them
        functions = self._functions(top["functions"]) if "functions" in top else ()
        if "tables" in top:
            self._tables(top["tables"])
        views = self._views(top["views"]) if "views" in top else ()
        if "grants" in top:
            self._top_level_grants(top["grants"])
        for kind in ("policies", "indexes", "triggers"):
            if kind in top:
                self._detached(kind, top[kind])
        data = self._data(top["data"]) if "data" in top else ()
        tables = tuple(self._finish_table(q) for q in self.tables if self.tables[q].get("ok"))
        return m.Schema(
            migrations=migrations,
            roles=roles,
            namespaces=namespaces,
            extensions=extensions,
            tables=tuple(sorted(tables, key=lambda t: t.qualified_name)),
            functions=tuple(sorted(functions, key=lambda f: f.signature)),
            grants=tuple(self.grants),
            default_privileges=tuple(self.default_privileges),
            types=types,
            views=views,
            data=data,
            source=ctx.file,
            warnings=tuple(ctx.warnings),
        )

    def _migrations(self, node, root) -> tuple[m.Migration, ...]:
        ctx = self.ctx
        if node is None:
            ctx.error(root, "the spec needs `migrations:` mapping ids to names, e.g. \"001\": create_user_plans_table")
            return ()
        out = []
        for key, knode, vnode in _mapping(ctx, node, "migrations") or []:
            if not re.fullmatch(MIGRATION_ID_RE, key):
                ctx.error(knode, f"migration id '{key}' must be 1 to 6 digits, e.g. \"001\" (quote it so YAML keeps "
                                 "the zeros), or a 14-digit timestamp as the Supabase CLI writes, e.g. 20240101000001")
                continue
            comment = None
            if isinstance(vnode, yaml.MappingNode):
                f = _fields(ctx, vnode, f"migration {key}", "migration")
                name, comment = (f or {}).get("name"), (f or {}).get("comment")
            else:
                name = _text(ctx, vnode, f"the name of migration {key}")
            if not name or not re.fullmatch(r"[a-z0-9_]+", name):
                ctx.error(vnode, f"migration name '{name or ''}' must be lower-case letters, digits and _ (it becomes the file name)")
                continue
            out.append(m.Migration(id=key, name=name, comment=comment, pos=ctx.pos(knode)))
        ids = [mig.id for mig in out]
        if ids != sorted(ids, key=int) and out:
            ctx.error(node, "migrations must be listed in order of their ids")
        if len({int(i) for i in ids}) != len(ids):
            ctx.error(node, "two migrations share the same number")
        self.migration_ids = ids
        return tuple(sorted(out, key=lambda x: int(x.id)))

    def _roles(self, node) -> tuple[m.Role, ...]:
        ctx, out = self.ctx, []
        for name, knode, vnode in _mapping(ctx, node, "roles") or []:
            _ident(ctx, knode, name, "role name")
            f = _fields(ctx, vnode, f"role {name}", "role") or {}
            if not f.get("assumed"):
                ctx.error(knode, f"role {name}: roles are cluster-wide and must be `assumed: true` (create them outside migrations)")
            out.append(m.Role(name=name, login=bool(f.get("login")), bypassrls=bool(f.get("bypassrls")),
                              member_of=tuple(f.get("member_of", ())), assumed=True,
                              comment=f.get("comment"), pos=ctx.pos(knode)))
        return tuple(sorted(out, key=lambda r: r.name))

    def _schemas(self, node) -> tuple[m.Namespace, ...]:
        ctx, out = self.ctx, []
        for name, knode, vnode in _mapping(ctx, node, "schemas") or []:
            _ident(ctx, knode, name, "schema name")
            f = _fields(ctx, vnode, f"schema {name}", "schema")
            if f is None:
                continue
            mig, assumed = self._ownership(f, knode, f"schema {name}", top_level=True)
            if "grants" in f:
                self._grant_items(f["grants"], "schema", name, mig, assumed)
            if "default_privileges" in f:
                if not assumed:
                    ctx.error(f["@default_privileges"], "default_privileges describe the platform's setup and are only supported on assumed schemas")
                for item in _list(ctx, f["default_privileges"], "default_privileges") or []:
                    d = _fields(ctx, item, "a default privilege", "default_privilege")
                    if d and d.get("on"):
                        self.default_privileges.append(m.DefaultPrivilege(
                            schema=name, on=d["on"], privileges=tuple(p.lower() for p in d["grant"]),
                            roles=d["to"], for_role=d.get("for_role"), pos=ctx.pos(item)))
            out.append(m.Namespace(name=name, migration=mig, assumed=assumed, comment=f.get("comment"), pos=ctx.pos(knode)))
        return tuple(sorted(out, key=lambda n: n.name))

    def _extensions(self, node) -> tuple[m.Extension, ...]:
        ctx, out = self.ctx, []
        for name, knode, vnode in _mapping(ctx, node, "extensions") or []:
            if not re.fullmatch(r"[a-z0-9_-]+", name):
                ctx.error(knode, f"invalid extension name '{name}'")
            f = _fields(ctx, vnode, f"extension {name}", "extension")
            if f is None:
                continue
            mig, assumed = self._ownership(f, knode, f"extension {name}", top_level=True)
            out.append(m.Extension(name=name, schema=f.get("schema"), migration=mig, assumed=assumed, pos=ctx.pos(knode),
                                   lint_ignore=f.get("lint_ignore") or ()))
        return tuple(sorted(out, key=lambda e: e.name))

    # -- types
    def _types(self, node) -> tuple[m.EnumType, ...]:
        """``types: {public.mood: {migration: "001", enum: [happy, sad, {value: meh, migration: "003"}]}}``."""
        ctx, out = self.ctx, []
        for qname, knode, vnode in _mapping(ctx, node, "types") or []:
            q = _qualified(ctx, knode, qname, "type name")
            f = _fields(ctx, vnode, f"type {qname}", "type")
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"type {qname}", top_level=True)
            values: list[str] = []
            later: list[tuple[str, str]] = []
            for item in (_list(ctx, f["enum"], "enum") or []) if "enum" in f else []:
                if isinstance(item, yaml.MappingNode):
                    vf = _fields(ctx, item, "an enum value", "enum_value") or {}
                    value, vmig = vf.get("value"), vf.get("migration")
                    if vmig is not None and assumed:
                        ctx.error(item, f"type {qname} is assumed: a migration cannot add values to it here "
                                        "(declare the type as created by a migration)")
                    elif vmig is not None and mig is not None and self.migration_ids.index(vmig) <= \
                            self.migration_ids.index(mig):
                        ctx.error(vf["@migration"], f"enum value '{value}' names migration {vmig}, which is not "
                                                    f"later than the type's own ({mig}); list it plainly")
                    elif vmig is not None and value is not None:
                        later.append((value, vmig))
                else:
                    value = _text(ctx, item, "an enum value")
                if value is None:
                    continue
                if not value or len(value.encode()) > MAX_IDENT:
                    ctx.error(item, f"enum value '{value}' must be 1 to {MAX_IDENT} bytes")
                    continue
                if value in values:
                    ctx.error(item, f"enum value '{value}' is listed twice in type {qname}")
                    continue
                values.append(value)
            if "enum" in f and not values:
                ctx.error(f["@enum"], f"type {qname} needs at least one enum value")
            ty = m.EnumType(schema=q[0], name=q[1], values=tuple(values), comment=f.get("comment"), migration=mig,
                            assumed=assumed, value_migrations=tuple(later), pos=ctx.pos(knode))
            if ty.qualified_name in ctx.user_types.values():
                ctx.error(knode, f"type {ty.qualified_name} is declared twice")
                continue
            ctx.user_types[ty.qualified_name] = ty.qualified_name
            if ty.schema == "public":
                ctx.user_types[ty.name] = ty.qualified_name
            out.append(ty)
        return tuple(sorted(out, key=lambda t: t.qualified_name))

    # -- views
    def _views(self, node) -> tuple[m.View, ...]:
        """``views: {public.v: {migration: "002", query: select ..., security_invoker: true}}``, in file order."""
        ctx, out, seen = self.ctx, [], set()
        for qname, knode, vnode in _mapping(ctx, node, "views") or []:
            q = _qualified(ctx, knode, qname, "view name")
            f = _fields(ctx, vnode, f"view {qname}", "view")
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"view {qname}", top_level=True)
            query = (f.get("query") or "").strip().rstrip(";").rstrip()
            if "query" in f and not query:
                ctx.error(f["@query"], f"view {qname} needs a query (select ...)")
            materialized = bool(f.get("materialized"))
            for opt in ("security_invoker", "security_barrier"):
                if materialized and f.get(opt) is not None:
                    ctx.error(f["@" + opt], f"view {qname}: {opt} applies to views, not materialized views")
            v = m.View(schema=q[0], name=q[1], query=query, materialized=materialized,
                       security_invoker=bool(f.get("security_invoker")), security_barrier=bool(f.get("security_barrier")),
                       comment=f.get("comment"), migration=mig, assumed=assumed, pos=ctx.pos(knode),
                       lint_ignore=f.get("lint_ignore") or ())
            if v.qualified_name in seen:
                ctx.error(knode, f"view {v.qualified_name} is declared twice")
                continue
            seen.add(v.qualified_name)
            if "grants" in f:
                self._grant_items(f["grants"], "table", v.qualified_name, mig, assumed)
            out.append(v)
        return tuple(out)

    def _data(self, node) -> tuple[m.DataStatement, ...]:
        """``data: {backfill_plans: {migration: "005", sql: insert ... on conflict do nothing}}``, in file order."""
        ctx, out = self.ctx, []
        for name, knode, vnode in _mapping(ctx, node, "data") or []:
            _ident(ctx, knode, name, "data statement name")
            f = _fields(ctx, vnode, f"data {name}", "data")
            if f is None or not f.get("migration"):
                continue
            sql = (f.get("sql") or "").strip()
            if not sql:
                if "sql" in f:
                    ctx.error(f["@sql"], f"data {name} needs `sql:` with at least one statement")
                continue
            if not sql.endswith(";"):
                sql += ";"
            out.append(m.DataStatement(name=name, sql=sql, migration=f["migration"], comment=f.get("comment"),
                                       pos=ctx.pos(knode)))
        return tuple(out)

    # -- functions
    def _functions(self, node) -> list[m.Function]:
        ctx, out = self.ctx, []
        for qname, knode, vnode in _mapping(ctx, node, "functions") or []:
            q = _qualified(ctx, knode, qname, "function name")
            f = _fields(ctx, vnode, f"function {qname}", "function")
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"function {qname}", top_level=True)
            args = []
            for a in (_list(ctx, f["arguments"], "arguments") or []) if "arguments" in f else []:
                af = _fields(ctx, a, "a function argument", "argument",
                             {"type": lambda n: _type(ctx, n, "argument type")})
                if af is None:
                    continue
                if af.get("name") is not None:
                    _ident(ctx, af["@name"], af["name"], "argument name")
                args.append(m.Argument(name=af.get("name"), type=af.get("type") or "?",
                                       default=af.get("default"), mode=af.get("mode") or "in"))
            config = []
            if "set" in f:
                for key, kn, vn in _mapping(ctx, f["set"], "set") or []:
                    if not re.fullmatch(r"[a-z_][a-z0-9_.]*", key):
                        ctx.error(kn, f"invalid setting name '{key}'")
                    val = _text(ctx, vn, f"the value of {key}")
                    config.append((key, "" if val is None else val))
            language = (f.get("language") or "plpgsql").lower()
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", language):
                ctx.error(f["@language"], f"invalid language '{f.get('language')}'")
            body = f.get("body") or ""
            fn = m.Function(
                schema=q[0], name=q[1], arguments=tuple(args), returns=f.get("returns") or "void",
                language=language, body=body, volatility=f.get("volatility") or "volatile",
                security_definer=bool(f.get("security_definer")), strict=bool(f.get("strict")),
                config=tuple(sorted(config)), comment=f.get("comment"), migration=mig,
                assumed=assumed, pos=ctx.pos(knode), lint_ignore=f.get("lint_ignore") or (),
            )
            if "grants" in f:
                self._grant_items(f["grants"], "function", fn.signature, mig, assumed)
            out.append(fn)
        return out

    # -- tables
    def _tables(self, node) -> None:
        ctx = self.ctx
        for qname, knode, vnode in _mapping(ctx, node, "tables") or []:
            q = _qualified(ctx, knode, qname, "table name")
            f = _fields(ctx, vnode, f"table {qname}", "table")
            if f is None or q is None:
                continue
            key = m.qualify(*q)
            if key in self.tables:
                ctx.error(knode, f"table {key} is declared twice (also as '{self.tables[key]['raw']}')")
                continue
            mig, assumed = self._ownership(f, knode, f"table {qname}", top_level=True)
            t = {"raw": qname, "ok": True, "schema": q[0], "name": q[1], "migration": mig, "assumed": assumed,
                 "comment": f.get("comment"), "pos": ctx.pos(knode), "columns": [], "constraints": [],
                 "indexes": [], "policies": [], "triggers": [], "rls": (False, False),
                 "lint_ignore": f.get("lint_ignore") or ()}
            self.tables[key] = t
            if "rls" in f:
                t["rls"] = self._rls(f["rls"])
            if "columns" not in f:
                ctx.error(knode, f"table {qname} needs `columns:`")
            else:
                self._columns(t, f["columns"])
            if "constraints" in f:
                self._constraints(t, f["constraints"])
            for kind in ("indexes", "policies", "triggers"):
                if kind in f:
                    for name, kn, vn in _mapping(ctx, f[kind], kind) or []:
                        self._nested(kind, t, name, kn, vn)
            if "grants" in f:
                self._grant_items(f["grants"], "table", key, mig, assumed)

    def _detached(self, kind: str, node) -> None:
        """Top-level policies/indexes/triggers name their table with `table:`."""
        ctx = self.ctx
        for name, kn, vn in _mapping(ctx, node, kind) or []:
            tnode = None
            if isinstance(vn, yaml.MappingNode):
                for k, v in vn.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == "table":
                        tnode = v
            if tnode is None:
                ctx.error(kn, f"{kind[:-1] if kind != 'policies' else 'policy'} '{name}' declared at the top level needs `table:`")
                continue
            tname = _text(ctx, tnode, "table") or ""
            q = _qualified(ctx, tnode, tname, "table name")
            if q is None:
                continue
            t = self.tables.get(m.qualify(*q))
            if t is None:
                ctx.error(tnode, f"{'policy' if kind == 'policies' else kind[:-1]} '{name}' is on unknown table {m.qualify(*q)}{did_you_mean(m.qualify(*q), self.tables)}")
                continue
            vn = yaml.MappingNode(vn.tag, [(k, v) for k, v in vn.value if not (isinstance(k, yaml.ScalarNode) and k.value == "table")],
                                  start_mark=vn.start_mark, end_mark=vn.end_mark)
            self._nested(kind, t, name, kn, vn)

    def _rls(self, node) -> tuple[bool, bool]:
        ctx = self.ctx
        if isinstance(node, yaml.ScalarNode):
            v = _bool(ctx, node, "rls")
            return (bool(v), False)
        f = _fields(ctx, node, "rls", "rls") or {}
        return (bool(f.get("enabled", True)), bool(f.get("forced")))

    def _columns(self, t: dict, node) -> None:
        ctx = self.ctx
        tname = t["name"]
        items = _mapping(ctx, node, f"columns of {t['raw']}")
        if items is not None and not items:
            ctx.error(node, f"table {t['raw']} has no columns")
        for name, knode, vnode in items or []:
            _ident(ctx, knode, name, "column name")
            if isinstance(vnode, yaml.ScalarNode) and not _is_null(vnode):
                f = {"type": _type(ctx, vnode, f"column {name}"), "@type": vnode}
            else:
                f = _fields(ctx, vnode, f"column {t['raw']}.{name}", "column",
                            {"type": lambda n: _type(ctx, n, f"the type of column {name}")})
                if f is None:
                    continue
            mig = f.get("migration")
            col_assumed = t["assumed"] and not mig
            pos = ctx.pos(knode)
            pk = bool(f.get("primary_key"))
            if pk and f.get("nullable") is True:
                ctx.error(f["@nullable"], f"column {name} is a primary key and cannot be nullable")
            if f.get("identity") and f.get("default") is not None:
                ctx.error(f["@default"], f"column {name} is an identity column and cannot also have a default")
            if f.get("generated") is not None and (f.get("default") is not None or f.get("identity")):
                ctx.error(f["@generated"], f"column {name} is generated and cannot also have a default or identity")
            if f.get("identity") and f.get("type") not in (None, "smallint", "integer", "bigint"):
                ctx.error(f["@identity"], f"identity column {name} must be smallint, integer or bigint")
            nullable = not pk and not f.get("identity") and f.get("nullable", True) is not False
            declared = ("type",) + tuple(k for k in ("nullable", "default", "identity", "generated", "comment")
                                         if k in f or k == "nullable" and (pk or "identity" in f))
            t["columns"].append(m.Column(
                name=name, type=f.get("type") or "?", nullable=nullable, default=f.get("default"),
                identity=f.get("identity"), generated=f.get("generated"), comment=f.get("comment"),
                migration=mig, assumed=col_assumed, declared=declared, pos=pos))
            common = dict(migration=mig, assumed=col_assumed, pos=pos)
            if pk:
                t["constraints"].append(m.Constraint(name=f"{tname}_pkey", kind="primary_key", columns=(name,), **common))
            if f.get("unique"):
                t["constraints"].append(m.Constraint(name=f"{tname}_{name}_key", kind="unique", columns=(name,), **common))
            if "references" in f:
                fk = self._references(f["references"], f"{tname}_{name}_fkey", (name,), single=True)
                if fk:
                    t["constraints"].append(replace(fk, **common))
            if "check" in f:
                cn = f["check"]
                if isinstance(cn, yaml.ScalarNode):
                    expr, cname = _text(ctx, cn, "check"), f"{tname}_{name}_check"
                else:
                    cf = _fields(ctx, cn, "check", "check") or {}
                    expr, cname = cf.get("expression"), cf.get("name") or f"{tname}_{name}_check"
                if expr:
                    t["constraints"].append(m.Constraint(name=cname, kind="check", expression=expr.strip(), **common))

    def _references(self, node, name: str, columns: tuple[str, ...], single: bool) -> m.Constraint | None:
        ctx = self.ctx
        if isinstance(node, yaml.ScalarNode):
            text = _text(ctx, node, "references") or ""
            mt = re.fullmatch(r"\s*([a-z0-9_.$]+)\s*(?:\(\s*([a-z0-9_$,\s]+)\s*\))?\s*", text)
            if not mt:
                ctx.error(node, f"references '{text}' must be table or table(column)")
                return None
            f = {"table": mt.group(1), "@table": node,
                 "columns": tuple(c.strip() for c in mt.group(2).split(",")) if mt.group(2) else ()}
        else:
            f = _fields(ctx, node, "references", "references")
            if f is None or not f.get("table"):
                return None
            if "column" in f:
                f["columns"] = (f["column"],)
        q = _qualified(ctx, f["@table"], f["table"], "table name")
        if q is None:
            return None
        return m.Constraint(
            name=f.get("name") or name, kind="foreign_key", columns=columns, ref_table=m.qualify(*q),
            ref_columns=tuple(f.get("columns") or ()), on_delete=f.get("on_delete"),
            on_update=f.get("on_update"), deferrable=bool(f.get("deferrable")),
            declared=tuple(k for k in ("on_delete", "on_update", "deferrable") if k in f), pos=ctx.pos(node))

    def _constraints(self, t: dict, node) -> None:
        ctx = self.ctx
        for name, knode, vnode in _mapping(ctx, node, f"constraints of {t['raw']}") or []:
            _ident(ctx, knode, name, "constraint name")
            f = _fields(ctx, vnode, f"constraint {name}", "constraint")
            if f is None:
                continue
            kinds = [k for k in ("check", "unique", "primary_key", "foreign_key") if k in f]
            if len(kinds) != 1:
                ctx.error(knode, f"constraint {name} needs exactly one of check, unique, primary_key, foreign_key")
                continue
            kind = kinds[0]
            common = dict(migration=f.get("migration"), assumed=t["assumed"] and not f.get("migration"),
                          comment=f.get("comment"), pos=ctx.pos(knode))
            if kind == "foreign_key":
                if "references" not in f:
                    ctx.error(knode, f"constraint {name}: foreign_key needs `references: {{table: ..., columns: [...]}}`")
                    continue
                fk = self._references(f["references"], name, f["foreign_key"], single=False)
                if fk:
                    t["constraints"].append(replace(fk, name=name, **common))
            elif "references" in f:
                ctx.error(f["@references"], f"constraint {name}: references only goes with foreign_key")
            elif kind == "check":
                t["constraints"].append(m.Constraint(name=name, kind="check", expression=(f["check"] or "").strip(), **common))
            else:
                t["constraints"].append(m.Constraint(name=name, kind=kind, columns=f[kind], **common))

    def _nested(self, kind: str, t: dict, name: str, knode, vnode) -> None:
        ctx = self.ctx
        if kind == "indexes":
            _ident(ctx, knode, name, "index name")
            f = _fields(ctx, vnode, f"index {name}", "index")
            if f is None:
                return
            keys = [k for k in (self._index_key(f["@columns"], c) for c in f.get("columns", ())) if k]
            if not keys and "columns" in f:
                ctx.error(f["@columns"], f"index {name} needs at least one column")
            obj = m.Index(name=name, keys=tuple(keys), unique=bool(f.get("unique")), method=f.get("method") or "btree",
                          where=f.get("where"), include=tuple(f.get("include", ())), comment=f.get("comment"),
                          migration=f.get("migration"), assumed=t["assumed"] and not f.get("migration"), pos=ctx.pos(knode))
        elif kind == "policies":
            if not name.strip() or len(name.encode()) > MAX_IDENT or "\x00" in name:
                ctx.error(knode, f"policy name '{name}' must be 1 to {MAX_IDENT} bytes")
            f = _fields(ctx, vnode, f"policy '{name}'", "policy")
            if f is None:
                return
            command = f.get("command") or "all"
            if command in ("select", "delete") and f.get("with_check"):
                ctx.error(f["@with_check"], f"policy '{name}': a {command} policy takes only `using`, not `with_check`")
            if command == "insert" and f.get("using"):
                ctx.error(f["@using"], f"policy '{name}': an insert policy takes only `with_check`, not `using`")
            if not f.get("using") and not f.get("with_check"):
                ctx.error(knode, f"policy '{name}' needs `using` and/or `with_check`")
            obj = m.Policy(name=name, command=command, roles=tuple(sorted(r.lower() for r in f.get("roles") or ("public",))),
                           permissive=f.get("permissive", True) is not False, using=_strip(f.get("using")),
                           with_check=_strip(f.get("with_check")), comment=f.get("comment"),
                           migration=f.get("migration"), assumed=t["assumed"] and not f.get("migration"), pos=ctx.pos(knode))
        else:
            _ident(ctx, knode, name, "trigger name")
            f = _fields(ctx, vnode, f"trigger {name}", "trigger")
            if f is None:
                return
            events = []
            for en in _list(ctx, f.get("events"), "events") or []:
                e = _choice(ctx, en, "event", EVENT_ORDER)
                if e:
                    events.append(e)
            if "events" in f and not events:
                ctx.error(f["@events"], f"trigger {name} needs at least one event")
            fq = _qualified(ctx, f["@function"], f["function"], "function name") if f.get("function") else None
            obj = m.Trigger(name=name, function=m.qualify(*fq) if fq else "?", timing=f.get("timing") or "after",
                            events=tuple(e for e in EVENT_ORDER if e in events), for_each=f.get("for_each") or "row",
                            update_columns=tuple(f.get("columns", ())), when=_strip(f.get("when")),
                            comment=f.get("comment"), migration=f.get("migration"),
                            assumed=t["assumed"] and not f.get("migration"), pos=ctx.pos(knode))
        existing = [o for o in t[kind] if o.name == name]
        if existing:
            ctx.error(knode, f"{'policy' if kind == 'policies' else kind[:-1] if kind != 'indexes' else 'index'} '{name}' is declared twice on {t['raw']} (first at line {existing[0].pos.line})")
            return
        t[kind].append(obj)

    def _index_key(self, node, text: str) -> m.IndexKey | None:
        mt = re.fullmatch(r"\s*(.+?)(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*", text, re.IGNORECASE)
        if not mt:
            self.ctx.error(node, f"invalid index column '{text}'")
            return None
        expr, direction, nulls = mt.group(1).strip(), (mt.group(2) or "asc").lower(), (mt.group(3) or "").lower() or None
        desc = direction == "desc"
        if nulls == ("first" if desc else "last"):
            nulls = None  # the default for that direction
        opclass = None
        mo = re.fullmatch(r"(.+?)\s+([a-z_][a-z0-9_.]*_ops)", expr)
        if mo:
            expr, opclass = mo.group(1).strip(), mo.group(2)
        is_col = bool(IDENT_RE.match(expr))
        if not is_col and expr.startswith("(") and expr.endswith(")"):
            expr = expr[1:-1].strip()
        return m.IndexKey(expression=expr, descending=desc, nulls=nulls, is_column=is_col, opclass=opclass)

    def _finish_table(self, key: str) -> m.Table:
        t = self.tables[key]
        enabled, forced = t["rls"]
        return m.Table(
            schema=t["schema"], name=t["name"], columns=tuple(t["columns"]),
            constraints=tuple(sorted(t["constraints"], key=lambda c: c.name)),
            indexes=tuple(sorted(t["indexes"], key=lambda i: i.name)),
            policies=tuple(sorted(t["policies"], key=lambda p: p.name)),
            triggers=tuple(sorted(t["triggers"], key=lambda x: x.name)),
            rls_enabled=enabled, rls_forced=forced, comment=t["comment"],
            migration=t["migration"], assumed=t["assumed"], pos=t["pos"], lint_ignore=t["lint_ignore"])


def _strip(text: str | None) -> str | None:
    return text.strip() if text is not None else None


def load_text(text: str, filename: str = "schema.yaml") -> tuple[m.Schema | None, list[Problem]]:
    """Parse spec text into a model. Returns (schema or None, problems)."""
    ctx = _Ctx(filename)
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = m.Pos(filename, mark.line + 1, mark.column + 1) if mark else None
        msg = " ".join(x for x in (e.context, e.problem) if x) or "invalid YAML"
        return None, [Problem(pos, f"invalid YAML: {msg}")]
    except yaml.YAMLError as e:
        return None, [Problem(m.Pos(filename, 1, 1), f"invalid YAML: {e}")]
    loader = _Loader(ctx)
    schema = loader.load(root)
    return schema, ctx.problems
