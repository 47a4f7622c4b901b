"""schema.yaml -> model.Schema.

Built from ``yaml.compose`` nodes, not ``yaml.safe_load``: every object keeps its line and
column, duplicate keys are caught instead of silently overwritten, and scalars are read as
the text the user wrote (so ``on:`` stays a key and ``"001"`` stays ``001``). Every problem is
collected; the caller raises one SpecError with all of them.
"""
from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Callable

import yaml

from .. import model as m
from ..printable import has_controls
from ..sqltext import expression_problem
from .keys import MIGRATION_ID_RE, SHAPES, TRIGGER_EVENTS, Key
from .problems import Problem, did_you_mean
from .types import SERIAL_TYPES, TypeProblem, canonical_type

# libyaml's C parser builds the same nodes (with marks) about 10x faster than pure Python
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

IDENT_RE = re.compile(r"^[a-z_][a-z0-9_$]*$")
MAX_IDENT = 63
# <id>_<name>.sql must fit a file name (255 bytes on common file systems), with room for the
# ".<file>.tmp" render writes first
MAX_MIGRATION_NAME = 200
NUL_MESSAGE = "contains a NUL character (\\0), which PostgreSQL cannot store"

_BOOL_TRUE = {"true"}
_BOOL_FALSE = {"false"}
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}

TABLE_PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger")
PRIVILEGES = {
    "table": set(TABLE_PRIVILEGES) | {"all"},
    "function": {"execute", "all"},
    "schema": {"usage", "create", "all"},
    "sequence": {"usage", "select", "update", "all"},
    "column": {"select", "insert", "update", "references"},
}
# default_privileges `on:` word -> the kind of object (for its privilege words)
DEFAULT_PRIVILEGE_KINDS = {"tables": "table", "sequences": "sequence", "functions": "function"}
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
        if "\x00" in k.value:
            ctx.error(k, f"a key in {what} {NUL_MESSAGE}")
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
    if "\x00" in node.value:
        ctx.error(node, f"{what} {NUL_MESSAGE}")
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


def _expr(ctx: _Ctx, node, what: str) -> str | None:
    """An SQL expression: the author's SQL, kept inside the statement it is written into (see
    sqltext.expression_problem); anything that could end that statement is refused."""
    text = _text(ctx, node, what)
    if text is None:
        return None
    problem = expression_problem(text)
    if problem:
        ctx.error(node, f"invalid {what} expression '{_shorten(text)}': {problem}")
        return None
    return text


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


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside parentheses (``numeric(12,4), text`` -> 2 parts)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


GRANT_TARGET_HELP = ("`on` must be '<kind> <name>': 'table schema.name', 'sequence schema.name', 'schema name' "
                     "or 'function schema.name(argument types)'")


def _grant_target(ctx: _Ctx, node, text: str) -> tuple[str, str] | None:
    """A top-level grant's ``on:`` text parsed into (kind, object) from a closed vocabulary: the kind
    word, then a schema-qualified name (a function with its argument types), each part checked.
    Nothing of the text reaches SQL except through these parts."""
    words = text.split(None, 1)
    if len(words) != 2 or words[0].lower() not in PRIVILEGES:
        ctx.error(node, f"{GRANT_TARGET_HELP}{did_you_mean(words[0].lower(), PRIVILEGES) if words else ''}")
        return None
    kind, name = words[0].lower(), words[1].strip()
    if kind == "schema":
        return (kind, name) if _ident(ctx, node, name, "schema name") else None
    if kind in ("table", "sequence"):
        q = _qualified(ctx, node, name, f"{kind} name")
        return (kind, m.qualify(*q)) if q else None
    open_at = name.find("(")
    if open_at < 0 or not name.endswith(")"):
        ctx.error(node, f"{GRANT_TARGET_HELP}: a function needs its argument types, e.g. 'function public.f(uuid)'")
        return None
    q = _qualified(ctx, node, name[:open_at].strip(), "function name")
    inner = name[open_at + 1:-1]
    types = []
    if inner.strip():
        for part in _split_top_level(inner):
            try:
                types.append(canonical_type(part))
            except TypeProblem as e:
                ctx.error(node, f"in `on`: {e}")
                return None
    return ("function", f"{m.qualify(*q)}({', '.join(types)})") if q else None


def _integer(ctx: _Ctx, node, what: str) -> int | None:
    t = _text(ctx, node, what)
    if t is None or not re.fullmatch(r"-?\d{1,19}", t.strip()):
        ctx.error(node, f"{what} must be an integer")
        return None
    return int(t)


def _parse_key(ctx: _Ctx, node, name: str, key: Key):
    """A value read by its kind in the key table (keys.SHAPES)."""
    if key.kind == "bool":
        return _bool(ctx, node, name)
    if key.kind == "text":
        return _text(ctx, node, name)
    if key.kind == "expr":
        return _expr(ctx, node, name)
    if key.kind == "texts":
        return _text_list(ctx, node, name)
    if key.kind == "integer":
        return _integer(ctx, node, name)
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
            if on == "table":  # tables and views: `columns:` makes a column grant
                f = _fields(self.ctx, item, "a grant", "table_grant")
            else:
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
            grantees = tuple(r.lower() for r in f[roles_key])
            if f.get("grant_option") and action == "revoke":
                self.ctx.error(f["@grant_option"], "`grant_option` goes on a grant; a revoke takes the privilege "
                                                   "and its grant option")
                continue
            if f.get("grant_option") and "public" in grantees:
                self.ctx.error(f["@grant_option"], "`grant_option` cannot go to public (PostgreSQL grants options "
                                                   "only to roles): grant public in an item of its own")
                continue
            kind = "column" if f.get("columns") else on
            for p in privs:
                if p not in PRIVILEGES[kind]:
                    self.ctx.error(f["@" + action], f"'{p}' is not a privilege on a {kind}; use {', '.join(sorted(PRIVILEGES[kind]))}")
            mig = f.get("migration") or owner_mig
            # a column-level grant becomes one grant per column (PostgreSQL's ACL is per column)
            for target in [f"{obj}.{c}" for c in f["columns"]] if kind == "column" else [obj]:
                self.grants.append(m.Grant(
                    on=kind, object=target, privileges=privs, roles=grantees,
                    action=action, migration=None if owner_assumed and not f.get("migration") else mig,
                    assumed=owner_assumed and not f.get("migration"), pos=self.ctx.pos(item),
                    grant_option=privs if f.get("grant_option") else (),
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
            target = _grant_target(ctx, on_node, _text(ctx, on_node, "on") or "")
            if target is None:
                continue
            kind, name = target
            rest = yaml.SequenceNode("tag:yaml.org,2002:seq", [yaml.MappingNode(
                item.tag, [(k, v) for k, v in item.value if not (isinstance(k, yaml.ScalarNode) and k.value == "on")],
                start_mark=item.start_mark, end_mark=item.end_mark)], start_mark=item.start_mark, end_mark=item.end_mark)
            self._grant_items(rest, kind, name, None, False)

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
        types, domains = self._types(top["types"]) if "types" in top else ((), ())  # first: columns use them
        functions = self._functions(top["functions"]) if "functions" in top else ()
        sequences = self._sequences(top["sequences"]) if "sequences" in top else ()
        if "tables" in top:
            self._tables(top["tables"])
        views = self._views(top["views"]) if "views" in top else ()
        if "grants" in top:
            self._top_level_grants(top["grants"])
        for kind in ("policies", "indexes", "triggers"):
            if kind in top:
                self._detached(kind, top[kind])
        publications = self._publications(top.get("publications"))
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
            publications=publications,
            domains=domains,
            sequences=sequences,
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
            if len(name) > MAX_MIGRATION_NAME:
                ctx.error(vnode, f"migration name of {len(name)} characters is too long: at most {MAX_MIGRATION_NAME} "
                                 f"(it becomes the file name {key}_<name>.sql)")
                continue
            # written into the SQL file's header, each line prefixed with "-- ": only tab and newline
            # may stand in it (a \r would end the SQL comment as a newline does)
            bad = has_controls(comment, allow="\t\n") if comment is not None else None
            if bad:
                ctx.error(vnode, f"the comment of migration {key} contains the control character U+{ord(bad):04X}: "
                                 "only tab and newline may stand in a comment written into a SQL file")
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
                    if not d or not d.get("on") or "grant" not in d or "to" not in d:
                        continue  # the missing or invalid key is reported
                    kind = DEFAULT_PRIVILEGE_KINDS[d["on"]]
                    privs = tuple(p.lower() for p in d["grant"])
                    bad = [p for p in privs if p not in PRIVILEGES[kind]]
                    for p in bad:
                        ctx.error(d["@grant"], f"'{p}' is not a privilege on {d['on']}; use "
                                               f"{', '.join(sorted(PRIVILEGES[kind]))}")
                    if not privs or not d["to"]:
                        ctx.error(item, "a default privilege needs `grant: [privileges]` and `to: [roles]`")
                    if d.get("for_role") is not None and not _ident(ctx, d["@for_role"], d["for_role"], "role name"):
                        continue
                    if bad or not privs or not d["to"]:
                        continue
                    self.default_privileges.append(m.DefaultPrivilege(
                        schema=name, on=d["on"], privileges=privs,
                        roles=tuple(r.lower() for r in d["to"]), for_role=d.get("for_role"), pos=ctx.pos(item)))
            out.append(m.Namespace(name=name, migration=mig, assumed=assumed, comment=f.get("comment"), pos=ctx.pos(knode),
                                   lint_ignore=f.get("lint_ignore") or ()))
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
    def _types(self, node) -> tuple[tuple[m.EnumType, ...], tuple[m.Domain, ...]]:
        """``types: {public.mood: {migration: "001", enum: [happy, sad, {value: meh, migration: "003"}]}}``,
        and domains: ``public.email: {migration: "001", domain: text, nullable: false, check: value ~ '@'}``."""
        ctx, out, domains = self.ctx, [], []
        for qname, knode, vnode in _mapping(ctx, node, "types") or []:
            q = _qualified(ctx, knode, qname, "type name")
            f = _fields(ctx, vnode, f"type {qname}", "type")
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"type {qname}", top_level=True)
            if ("enum" in f) == ("domain" in f):
                ctx.error(knode, f"type {qname} needs exactly one of `enum: [values]` or `domain: <base type>`")
                continue
            if "enum" in f:
                for key in ("nullable", "default", "check"):
                    if key in f:
                        ctx.error(f["@" + key], f"type {qname}: {key} applies to a domain, not an enum")
            else:
                d = self._domain(q, f, mig, assumed, knode)
                if d is not None and self._own_type(knode, d):
                    domains.append(d)
                continue
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
            if self._own_type(knode, ty):
                out.append(ty)
        return tuple(sorted(out, key=lambda t: t.qualified_name)), tuple(sorted(domains, key=lambda d: d.qualified_name))

    def _own_type(self, knode, ty) -> bool:
        """Register a type of the spec's own (usable bare when in public); False when declared twice."""
        ctx = self.ctx
        if ty.qualified_name in ctx.user_types.values():
            ctx.error(knode, f"type {ty.qualified_name} is declared twice")
            return False
        ctx.user_types[ty.qualified_name] = ty.qualified_name
        if ty.schema == "public":
            ctx.user_types[ty.name] = ty.qualified_name
        return True

    def _domain(self, q, f: dict, mig, assumed: bool, knode) -> m.Domain | None:
        ctx = self.ctx
        checks = []
        cnode = f.get("check")
        if isinstance(cnode, yaml.MappingNode):  # {name: expression}
            for cname, kn, vn in _mapping(ctx, cnode, "check") or []:
                _ident(ctx, kn, cname, "constraint name")
                expr = _expr(ctx, vn, f"check {cname}")
                if expr:
                    checks.append((cname, expr.strip()))
        elif cnode is not None:
            expr = _expr(ctx, cnode, "check")
            if expr:
                checks.append((f"{q[1]}_check", expr.strip()))  # PostgreSQL's own default name
        if not f.get("domain"):
            return None
        return m.Domain(schema=q[0], name=q[1], type=f["domain"], nullable=f.get("nullable", True) is not False,
                        default=f.get("default"), checks=tuple(sorted(checks)), comment=f.get("comment"),
                        migration=mig, assumed=assumed, pos=ctx.pos(knode))

    # -- sequences
    def _sequences(self, node) -> tuple[m.Sequence, ...]:
        """``sequences: {public.ticket_no: {migration: "001", start: 1000, increment: 1, type: bigint}}``."""
        ctx, out = self.ctx, []

        for qname, knode, vnode in _mapping(ctx, node, "sequences") or []:
            q = _qualified(ctx, knode, qname, "sequence name")
            f = _fields(ctx, vnode, f"sequence {qname}", "sequence")
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"sequence {qname}", top_level=True)
            if f.get("increment") == 0:
                ctx.error(f["@increment"], f"sequence {qname}: increment cannot be 0")
            seq = m.Sequence(schema=q[0], name=q[1], type=f.get("type") or "bigint", start=f.get("start"),
                             increment=f.get("increment") or 1, min_value=f.get("min"), max_value=f.get("max"),
                             cache=f.get("cache") or 1, cycle=bool(f.get("cycle")), comment=f.get("comment"),
                             migration=mig, assumed=assumed, pos=ctx.pos(knode), lint_ignore=f.get("lint_ignore") or ())
            if "grants" in f:
                self._grant_items(f["grants"], "sequence", seq.qualified_name, mig, assumed)
            out.append(seq)
        return tuple(sorted(out, key=lambda x: x.qualified_name))

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
            elif query and expression_problem(query + "\n"):  # one query, kept in its create view statement
                # (a trailing -- comment is fine: the renderer puts the ";" on a line of its own then)
                ctx.error(f["@query"], f"invalid query of view {qname}: {expression_problem(query + chr(10))}")
                query = ""
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
            # overloads: the key may carry the argument types, `public.f(integer, text)`
            sig = re.fullmatch(r"\s*([^()]+?)\s*\((.*)\)\s*", qname)
            q = _qualified(ctx, knode, sig.group(1) if sig else qname, "function name")
            f = _fields(ctx, vnode, f"function {qname}", "function", {"returns": self._returns})
            if f is None or q is None:
                continue
            mig, assumed = self._ownership(f, knode, f"function {qname}", top_level=True)
            result_columns = ()
            if isinstance(f.get("returns"), tuple):  # returns table(...): PostgreSQL's own spelling
                result_columns = f["returns"]
                f["returns"] = "TABLE(" + ", ".join(f"{n} {t}" for n, t in result_columns) + ")"
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
            args += [m.Argument(name=n, type=t, mode="table") for n, t in result_columns]
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
            if sig is not None:
                declared = tuple(t for t in (self._signature_type(knode, x) for x in _split_types(sig.group(2))) if t)
                if declared != tuple(fn.identity_arguments.split(", ") if fn.identity_arguments else ()):
                    ctx.error(knode, f"function {qname}: the types in its name must be its argument types "
                                     f"({fn.identity_arguments or 'none'})")
            if "grants" in f:
                self._grant_items(f["grants"], "function", fn.signature, mig, assumed)
            out.append(fn)
        return out

    def _signature_type(self, node, text: str) -> str | None:
        try:
            return canonical_type(text)
        except TypeProblem as e:
            own = _user_type(self.ctx, text, False)
            if own is None:
                self.ctx.error(node, str(e))
            return own

    def _returns(self, node):
        """A type, or ``{table: {column: type, ...}}`` for ``returns table(...)`` (a tuple of pairs)."""
        ctx = self.ctx
        if not isinstance(node, yaml.MappingNode):
            return _type(ctx, node, "returns", allow_return_only=True)
        f = _fields(ctx, node, "returns", "returns") or {}
        cols = []
        for name, kn, vn in _mapping(ctx, f.get("table"), "the columns of returns.table") or [] if "table" in f else []:
            _ident(ctx, kn, name, "result column name")
            t = _type(ctx, vn, f"the type of result column {name}")
            if t:
                cols.append((name, t))
        if "table" in f and not cols:
            ctx.error(f["@table"], "returns.table needs at least one column: {name: type}")
        return tuple(cols) or None

    # -- tables
    def _tables(self, node) -> None:
        ctx = self.ctx
        for qname, knode, vnode in _mapping(ctx, node, "tables") or []:
            q = _qualified(ctx, knode, qname, "table name")
            f = _fields(ctx, vnode, f"table {qname}", "table", {"replica_identity": self._replica_identity})
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
                 "lint_ignore": f.get("lint_ignore") or (), "replica_identity": f.get("replica_identity"),
                 "publications": []}
            self.tables[key] = t
            if "publication" in f:
                for pn in _list(ctx, f["publication"], "publication") or []:
                    name = _text(ctx, pn, "publication")
                    if name is not None:
                        if assumed:
                            ctx.error(pn, f"table {qname} is assumed: add it to publication {name} under "
                                          f"`publications:` with the migration that adds it")
                        t["publications"].append((name, pn))
            if "rls" in f:
                t["rls"] = self._rls(f["rls"])
            from .. import platform

            if "columns" not in f and not (assumed and platform.known(key)):
                ctx.error(knode, f"table {qname} needs `columns:`" + (
                    " (only storage.objects and storage.buckets, assumed, may leave them to the platform)"
                    if assumed else ""))
            elif "columns" in f:
                self._columns(t, f["columns"])
            if "constraints" in f:
                self._constraints(t, f["constraints"])
            for kind in ("indexes", "policies", "triggers"):
                if kind in f:
                    for name, kn, vn in _mapping(ctx, f[kind], kind) or []:
                        self._nested(kind, t, name, kn, vn)
            if "grants" in f:
                self._grant_items(f["grants"], "table", key, mig, assumed)
            if "seed" in f:
                self._seed(t, f["seed"])
            t["partition_by"] = _strip(f.get("partition_by"))
            if "partitions" in f:
                self._partitions(t, f["partitions"], f)
            if t["partition_by"] and assumed:
                ctx.error(f["@partition_by"], f"table {qname} is assumed: partition_by describes a table a migration creates")

    def _partitions(self, t: dict, node, f: dict) -> None:
        """``partitions: {app.events_2026: "for values from ('2026-01-01') to ('2027-01-01')", app.events_x: default}``
        or ``{bound: ..., migration: "002"}``; ``for values`` may be left out."""
        ctx = self.ctx
        if not f.get("partition_by"):
            ctx.error(f["@partitions"], f"table {t['raw']} has partitions but no `partition_by`")
        out = []
        for qname, kn, vn in _mapping(ctx, node, f"partitions of {t['raw']}") or []:
            q = _qualified(ctx, kn, qname, "partition name")
            mig = None
            if isinstance(vn, yaml.MappingNode):
                pf = _fields(ctx, vn, f"partition {qname}", "partition") or {}
                bound, mig = pf.get("bound"), pf.get("migration")
            else:
                bound = _text(ctx, vn, f"the bound of partition {qname}")
            norm = " ".join((bound or "").split())
            if not norm:
                ctx.error(vn, f"partition {qname} needs its bound: from (...) to (...), in (...), "
                              "with (modulus m, remainder r) or default")
                continue
            if norm.lower() != "default" and not norm.lower().startswith("for values "):
                norm = "for values " + norm
            if q is not None:
                out.append(m.Partition(name=m.qualify(*q), bound=norm, migration=mig,
                                       assumed=t["assumed"] and not mig, pos=ctx.pos(kn)))
        t["partitions"] = out

    def _seed(self, t: dict, node) -> None:
        """``seed: [rows]`` (inserted by the table's migration) or ``seed: {migration: "003", rows: [...]}``."""
        ctx = self.ctx
        rows_node, mig = node, None
        if isinstance(node, yaml.MappingNode):
            f = _fields(ctx, node, f"seed of {t['raw']}", "seed") or {}
            rows_node, mig = f.get("rows"), f.get("migration")
        if t["assumed"] and mig is None:
            ctx.error(node, f"seed rows of the assumed table {t['raw']} need the migration that inserts them: "
                            "`seed: {migration: \"...\", rows: [...]}`")
        t["seed_migration"], t["seed_pos"] = mig, ctx.pos(node)
        for row in _list(ctx, rows_node, "seed rows") or [] if rows_node is not None else []:
            values = []
            for col, kn, vn in _mapping(ctx, row, "a seed row") or []:
                if _is_null(vn):
                    values.append((col, None, kn))
                elif isinstance(vn, yaml.ScalarNode):
                    values.append((col, vn.value, kn))
                else:  # a mapping or list: stored as JSON text (for json/jsonb columns)
                    data = yaml.load(yaml.serialize(vn), Loader=_YAML_LOADER)
                    values.append((col, json.dumps(data, sort_keys=True, ensure_ascii=False), kn))
            if isinstance(row, yaml.MappingNode) and not values:
                ctx.error(row, "a seed row needs at least one column")
            t.setdefault("seed", []).append((tuple(values), row))

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
                f = {"type": self._column_type(vnode, f"column {name}"), "@type": vnode}
            else:
                f = _fields(ctx, vnode, f"column {t['raw']}.{name}", "column", {
                    "type": lambda n: self._column_type(n, f"the type of column {name}"),
                    "collation": self._collation,
                })
                if f is None:
                    continue
            mig = f.get("migration")
            col_assumed = t["assumed"] and not mig
            pos = ctx.pos(knode)
            pk = bool(f.get("primary_key"))
            serial = isinstance(f.get("type"), tuple)
            if serial:
                f["type"] = f["type"][1]
                if f.get("identity") or f.get("default") is not None or f.get("generated") is not None:
                    key = "identity" if f.get("identity") else "default" if f.get("default") is not None else "generated"
                    ctx.error(f["@" + key], f"column {name} is serial (it has a sequence default) and cannot also "
                                            f"have {'a ' if key != 'identity' else ''}{key}")
                ctx.warnings.append(Problem(pos, (
                    f"column {t['raw']}.{name} is serial: its sequence is a separate object with its own privileges "
                    f"(a role that inserts needs usage on it, one that may update it can setval() it) and can fall "
                    f"behind rows inserted with explicit ids; `type: {f['type']}, identity: by default` is the "
                    "modern equivalent")))
            if pk and f.get("nullable") is True:
                ctx.error(f["@nullable"], f"column {name} is a primary key and cannot be nullable")
            if f.get("identity") and f.get("default") is not None:
                ctx.error(f["@default"], f"column {name} is an identity column and cannot also have a default")
            if f.get("generated") is not None and (f.get("default") is not None or f.get("identity")):
                ctx.error(f["@generated"], f"column {name} is generated and cannot also have a default or identity")
            if f.get("identity") and f.get("type") not in (None, "smallint", "integer", "bigint"):
                ctx.error(f["@identity"], f"identity column {name} must be smallint, integer or bigint")
            nullable = not pk and not f.get("identity") and not serial and f.get("nullable", True) is not False
            declared = ("type",) + tuple(k for k in ("nullable", "default", "identity", "generated", "comment")
                                         if k in f or k == "nullable" and (pk or "identity" in f))
            t["columns"].append(m.Column(
                name=name, type=f.get("type") or "?", nullable=nullable, default=f.get("default"),
                identity=f.get("identity"), generated=f.get("generated"), comment=f.get("comment"),
                migration=mig, assumed=col_assumed, declared=declared, serial=serial, collation=f.get("collation"),
                pos=pos))
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
                    expr, cname = _expr(ctx, cn, "check"), f"{tname}_{name}_check"
                else:
                    cf = _fields(ctx, cn, "check", "check") or {}
                    expr, cname = cf.get("expression"), cf.get("name") or f"{tname}_{name}_check"
                if expr:
                    t["constraints"].append(m.Constraint(name=cname, kind="check", expression=expr.strip(), **common))

    def _collation(self, node) -> str | None:
        """A collation name (``C``, ``en-x-icu``, ``pg_catalog.C``), quoted when rendered."""
        text = _text(self.ctx, node, "collation")
        if text is not None and not re.fullmatch(r"(?:[a-z_][a-z0-9_]*\.)?[A-Za-z0-9_@.-]{1,63}", text):
            self.ctx.error(node, f"invalid collation name '{text}'")
            return None
        return text

    def _column_type(self, node, what: str):
        """A column's type; serial types come back as ("serial", integer type)."""
        if isinstance(node, yaml.ScalarNode) and " ".join(node.value.lower().split()) in SERIAL_TYPES:
            return ("serial", SERIAL_TYPES[" ".join(node.value.lower().split())])
        return _type(self.ctx, node, what)

    def _references(self, node, name: str, columns: tuple[str, ...], single: bool) -> m.Constraint | None:
        ctx = self.ctx
        if isinstance(node, yaml.ScalarNode):
            text = (_text(ctx, node, "references") or "").strip()
            # split by hand, not with a backtracking regex: linear in the length of the text
            table, paren, rest = text.partition("(")
            table = table.strip()
            ref_columns = tuple(c.strip() for c in rest[:-1].split(",")) if paren else ()
            if (not re.fullmatch(r"[a-z0-9_.$]+", table) or paren and not rest.endswith(")")
                    or any(not IDENT_RE.match(c) for c in ref_columns)):
                ctx.error(node, f"references '{_shorten(text)}' must be table or table(column)")
                return None
            f = {"table": table, "@table": node, "columns": ref_columns}
        else:
            f = _fields(ctx, node, "references", "references")
            if f is None or not f.get("table"):
                return None
            if "column" in f:
                if f["column"] is None:
                    ctx.error(f["@column"], "references: `column` needs a column name")
                    return None
                f["columns"] = (f["column"],)
            if not all(_ident(ctx, f.get("@columns") or f.get("@column"), c, "column name") for c in f.get("columns") or ()):
                return None
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
            kinds = [k for k in ("check", "unique", "primary_key", "foreign_key", "exclude") if k in f]
            if len(kinds) != 1:
                ctx.error(knode, f"constraint {name} needs exactly one of check, unique, primary_key, foreign_key, exclude")
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
            elif kind == "exclude":  # `using gist (room with =, during with &&) where (...)`: PostgreSQL's words
                body = (f["exclude"] or "").strip()
                if not body:
                    ctx.error(f["@exclude"], f"constraint {name}: exclude needs its definition, e.g. "
                                             "`using gist (during with &&)`")
                t["constraints"].append(m.Constraint(name=name, kind="exclude", expression=f"exclude {body}", **common))
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
                            assumed=t["assumed"] and not f.get("migration"), pos=ctx.pos(knode),
                            arguments=tuple(f.get("arguments", ())))
        existing = [o for o in t[kind] if o.name == name]
        if existing:
            ctx.error(knode, f"{'policy' if kind == 'policies' else kind[:-1] if kind != 'indexes' else 'index'} '{name}' is declared twice on {t['raw']} (first at line {existing[0].pos.line})")
            return
        t[kind].append(obj)

    def _index_key(self, node, text: str) -> m.IndexKey | None:
        # peeled off from the end word by word (linear; a regex with .+? backtracks quadratically)
        expr, nulls, direction, opclass = text.strip(), None, "asc", None
        words = expr.rsplit(None, 2)
        if len(words) == 3 and words[1].lower() == "nulls" and words[2].lower() in ("first", "last"):
            expr, nulls = words[0], words[2].lower()
        words = expr.rsplit(None, 1)
        if len(words) == 2 and words[1].lower() in ("asc", "desc"):
            expr, direction = words[0], words[1].lower()
        words = expr.rsplit(None, 1)
        if len(words) == 2 and re.fullmatch(r"[a-z_][a-z0-9_.]*_ops", words[1]):
            expr, opclass = words[0], words[1]
        expr = expr.strip()
        if not expr:
            self.ctx.error(node, f"invalid index column '{_shorten(text)}'")
            return None
        desc = direction == "desc"
        if nulls == ("first" if desc else "last"):
            nulls = None  # the default for that direction
        is_col = bool(IDENT_RE.match(expr))
        problem = None if is_col else expression_problem(expr)
        if problem:
            self.ctx.error(node, f"invalid index expression '{_shorten(expr)}': {problem}")
            return None
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
            migration=t["migration"], assumed=t["assumed"], pos=t["pos"], lint_ignore=t["lint_ignore"],
            replica_identity=t["replica_identity"], seed=self._seed_rows(t), seed_migration=t.get("seed_migration"),
            partition_by=t.get("partition_by"), partitions=tuple(sorted(t.get("partitions", ()), key=lambda p: p.name)))

    def _seed_rows(self, t: dict) -> tuple:
        """Seed rows checked against the finished table: known, writable columns, and the key, so that
        `on conflict do nothing` makes a second run insert nothing."""
        ctx, out = self.ctx, []
        cols = {c.name: c for c in t["columns"]}
        keys = [c.columns for c in t["constraints"] if c.kind in ("primary_key", "unique")]
        if t.get("seed") and not keys:
            ctx.problems.append(Problem(t["seed_pos"], f"seed rows of {t['raw']} need a primary key or unique "
                                                       "constraint on the table (declare it), so that a second run "
                                                       "inserts nothing"))
        for values, row in t.get("seed", ()):
            for col, _, kn in values:
                if col not in cols:
                    ctx.error(kn, f"seed row names unknown column {t['raw']}.{col}{did_you_mean(col, cols)}")
                elif cols[col].generated is not None:
                    ctx.error(kn, f"seed row sets the generated column {t['raw']}.{col}")
            given = {col for col, _, _ in values}
            if keys and values and not any(set(k) <= given for k in keys):
                ctx.error(row, f"seed row of {t['raw']} must give its key ({', '.join(keys[0])}): without it every "
                               "run would insert the row again")
            out.append(tuple((col, text) for col, text, _ in values))
        return tuple(out)

    def _replica_identity(self, node) -> str | None:
        """``default`` (None), ``full``, ``nothing`` or ``index <name>``."""
        text = _text(self.ctx, node, "replica_identity")
        norm = " ".join((text or "").lower().split())
        if norm.startswith("using index "):
            norm = norm[6:]
        if norm in ("default", "full", "nothing"):
            return None if norm == "default" else norm
        if norm.startswith("index ") and _ident(self.ctx, node, norm[6:], "index name"):
            return norm
        if text is not None and not norm.startswith("index "):
            self.ctx.error(node, f"replica_identity must be default, full, nothing or index <name>, not '{text}'")
        return None

    def _publications(self, node) -> tuple[m.Publication, ...]:
        """``publications: {supabase_realtime: {assumed: true, tables: [public.messages]}}`` plus the tables'
        own ``publication:`` keys. A table joins in the later of its own and the publication's migration,
        or in the migration its entry names."""
        ctx = self.ctx
        order = {mid: i for i, mid in enumerate(self.migration_ids)}
        declared: dict[str, dict] = {}
        for name, knode, vnode in _mapping(ctx, node, "publications") or [] if node is not None else []:
            _ident(ctx, knode, name, "publication name")
            f = _fields(ctx, vnode, f"publication {name}", "publication")
            if f is None:
                continue
            mig, assumed = self._ownership(f, knode, f"publication {name}", top_level=True)
            entries = []
            for item in (_list(ctx, f["tables"], "tables") or []) if "tables" in f else []:
                if isinstance(item, yaml.MappingNode):
                    tf = _fields(ctx, item, "a publication table", "publication_table") or {}
                    entries.append((tf.get("table"), tf.get("migration"), item))
                else:
                    entries.append((_text(ctx, item, "a publication table"), None, item))
            declared[name] = {"migration": mig, "assumed": assumed, "pos": ctx.pos(knode), "entries": entries}
        for key, t in self.tables.items():
            for name, pn in t.get("publications", ()):
                if name not in declared:
                    ctx.error(pn, f"table {key} names publication '{name}', which `publications:` does not declare"
                                  f"{did_you_mean(name, declared)} (e.g. `{name}: {{assumed: true}}`)")
                    continue
                declared[name]["entries"].append((key, t["migration"], pn))
        out = []
        for name, d in declared.items():
            members: dict[str, str] = {}
            for text, mig, enode in d["entries"]:
                if text is None:
                    continue
                q = _qualified(ctx, enode, text, "table name")
                if q is None:
                    continue
                key = m.qualify(*q)
                t = self.tables.get(key)
                if t is None:
                    ctx.error(enode, f"publication {name} names unknown table {key}{did_you_mean(key, self.tables)}")
                    continue
                if key in members:
                    ctx.error(enode, f"table {key} is added to publication {name} twice")
                    continue
                if mig is None:
                    candidates = [x for x in (t["migration"], d["migration"]) if x]
                    mig = max(candidates, key=lambda x: order.get(x, -1)) if candidates else None
                if mig is None:
                    ctx.error(enode, f"adding the assumed table {key} to the assumed publication {name} needs the "
                                     f"migration that does it: `{{table: {key}, migration: \"...\"}}`")
                    continue
                if t["migration"] and order.get(mig, 0) < order.get(t["migration"], 0) or \
                        d["migration"] and order.get(mig, 0) < order.get(d["migration"], 0):
                    ctx.error(enode, f"table {key} joins publication {name} in migration {mig}, before "
                                     f"{'the table' if t['migration'] and order.get(mig, 0) < order.get(t['migration'], 0) else 'the publication'} exists")
                    continue
                members[key] = mig
            out.append(m.Publication(name=name, tables=tuple(sorted(members)), migration=d["migration"],
                                     assumed=d["assumed"], table_migrations=tuple(sorted(members.items())),
                                     pos=d["pos"]))
        return tuple(sorted(out, key=lambda p: p.name))


def _split_types(text: str) -> list[str]:
    """``integer, numeric(10,2)`` -> ``["integer", "numeric(10,2)"]`` (commas inside parentheses kept)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out + [cur.strip()] if cur.strip() else out


def _shorten(text: str, limit: int = 80) -> str:
    """``text`` for a message: at most ``limit`` characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _strip(text: str | None) -> str | None:
    return text.strip() if text is not None else None


# aliases (*a) reuse a node; reading the spec visits every use. A few aliases of aliases could make
# a small file cost billions of visits ("billion laughs"), so the expansion is bounded.
MAX_EXPANSION = 10


def _expanded_size(root) -> tuple[int, int]:
    """(nodes visited when every alias is followed, distinct nodes): linear, memoised per node."""
    if root is None:
        return 0, 0
    size: dict[int, int] = {}
    stack = [(root, False)]
    while stack:  # iterative post-order: no recursion limit
        node, done = stack.pop()
        if id(node) in size and not done:
            continue
        children = ([c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode)
                    else list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if done:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            continue
        size[id(node)] = 0  # in progress (a recursive alias cannot be composed, so no cycles)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return size[id(root)], len(size)


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
    except RecursionError:  # the pure-Python parser on very deep nesting
        return None, [Problem(m.Pos(filename, 1, 1), "invalid YAML: nested too deeply")]
    expanded, distinct = _expanded_size(root)
    if expanded > max(MAX_EXPANSION * distinct, 100_000):
        return None, [Problem(m.Pos(filename, 1, 1), f"the spec's YAML aliases expand it to {expanded} nodes "
                                                     f"from {distinct}: refused (at most {MAX_EXPANSION}x)")]
    loader = _Loader(ctx)
    schema = loader.load(root)
    return schema, ctx.problems
