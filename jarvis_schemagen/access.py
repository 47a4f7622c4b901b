"""Who can do what: the access matrix of a schema, and what changed between two of them.

From a model whose grants are *effective ACLs* (a database introspected, or the spec normalised
through a shadow database, see ``diff``), ``matrix`` computes for every table, role and command
(select, insert, update, delete, truncate) one ``Cell``:

- ``denied``: the role lacks USAGE on the schema, or the privilege (table or column level), or
  RLS is on and no permissive policy applies to it (PostgreSQL then shows no rows and checks
  every new row false);
- ``all``: every row. RLS is off, or the role bypasses it (``BYPASSRLS``, or it owns the table
  and RLS is not forced), or the policies reduce to ``true``; TRUNCATE never looks at RLS;
- ``rows``: the rows matching the policies: the permissive ones OR-ed, the restrictive ones
  AND-ed onto that, as PostgreSQL combines them (``using`` for the rows a command sees,
  ``with check`` for the rows it writes).

Privileges count through role membership (a role has what the roles it belongs to have, and
what PUBLIC has), policies apply to a role through membership too; BYPASSRLS does not
inherit. Column privileges give a cell that names its ``columns``. For every function:
which roles may EXECUTE it (with USAGE on its schema) and whether it runs as its owner
(SECURITY DEFINER: RLS then applies to the owner, not the caller). A cell (or a function's
role) holding its privilege WITH GRANT OPTION, directly or through a role it belongs to, is
marked ``grant_option``: the role may grant it on, so gaining one widens access (an owner's
implicit right to grant is not marked).

Not modelled: that an UPDATE or DELETE whose WHERE reads columns also needs SELECT (privilege
and policies); superusers (never an API role); ``NOINHERIT`` roles (membership is taken to
inherit, as PostgreSQL's default).

``spec_acl`` gives a spec model effective ACLs without a database (the server's defaults,
the spec's default privileges, then its grants and revokes in order): what ``lint`` and
``access_changes`` between two specs use offline. ``access_changes`` compares two matrices
with deepdiff and classifies each changed cell as widened, narrowed or changed.
"""
from __future__ import annotations

import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from . import model as m
from .errors import UsageError
from .printable import json_text

API_ROLES = ("anon", "authenticated", "service_role")
COMMANDS = ("select", "insert", "update", "delete", "truncate")
JSON_VERSION = 1
_RANK = {"denied": 0, "rows": 1, "all": 2}
_COLUMN_COMMANDS = ("select", "insert", "update")
_USES = {"select": (True, False), "insert": (False, True), "update": (True, True), "delete": (True, False)}


# ---------------------------------------------------------------- values

@dataclass(frozen=True)
class Condition:
    """Policies that apply: ``(p1 OR p2 ...) AND r1 AND r2 ...`` (expressions as stored)."""

    permissive: tuple[str, ...] = ()
    restrictive: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        ors = " OR ".join(_paren(e) for e in self.permissive) or "false"
        if len(self.permissive) > 1 and self.restrictive:
            ors = f"({ors})"
        return " AND ".join([ors] + [_paren(e) for e in self.restrictive])

    def wider_or_equal(self, other: "Condition") -> bool:
        """Lets through at least the rows ``other`` does (judged on the policy sets, not their logic)."""
        return set(self.permissive) >= set(other.permissive) and set(self.restrictive) <= set(other.restrictive)


def _paren(expr: str) -> str:
    return expr if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]) else f"({expr})"


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


@dataclass(frozen=True)
class Cell:
    access: str  # denied | rows | all
    reason: str  # why, for a person (not compared)
    columns: tuple[str, ...] | None = None  # only these columns (column privileges); None: every column
    using: Condition | None = None  # rows the command sees (select, update, delete)
    with_check: Condition | None = None  # rows it may write (insert, update)
    # the role holds the privilege (on the table or one of its columns) with grant option
    grant_option: bool = False

    def data(self) -> dict:
        out: dict = {"access": self.access, "reason": self.reason}
        if self.columns is not None:
            out["columns"] = list(self.columns)
        if self.grant_option:
            out["grant_option"] = True
        for name in ("using", "with_check"):
            cond = getattr(self, name)
            if cond is not None:
                out[name] = {"permissive": list(cond.permissive), "restrictive": list(cond.restrictive),
                             "text": cond.text}
        return out


DENIED = "denied"


@dataclass(frozen=True)
class TableAccess:
    table: str
    rls_enabled: bool
    rls_forced: bool
    owner: str | None
    cells: tuple[tuple[str, str, Cell], ...]  # (role, command, cell)
    kind: str = "table"  # table | view (runs as its owner) | invoker view | materialized view

    def cell(self, role: str, command: str) -> Cell:
        return next(c for r, k, c in self.cells if r == role and k == command)


@dataclass(frozen=True)
class FunctionAccess:
    function: str  # signature
    security_definer: bool
    execute: tuple[str, ...]  # roles that may call it
    owner: str | None = None
    grant_option: tuple[str, ...] = ()  # roles holding EXECUTE with grant option


@dataclass(frozen=True)
class Matrix:
    roles: tuple[str, ...]
    tables: tuple[TableAccess, ...]
    functions: tuple[FunctionAccess, ...]
    source: str = ""

    def table(self, name: str) -> TableAccess | None:
        return next((t for t in self.tables if t.table == name), None)

    def function(self, signature: str) -> FunctionAccess | None:
        return next((f for f in self.functions if f.function == signature), None)

    def data(self) -> dict:
        """The JSON structure (``--format json``)."""
        return {
            "version": JSON_VERSION,
            "source": self.source,
            "roles": list(self.roles),
            "tables": {t.table: {"kind": t.kind, "rls": {"enabled": t.rls_enabled, "forced": t.rls_forced},
                                 "owner": t.owner,
                                 "access": {role: {cmd: t.cell(role, cmd).data() for cmd in COMMANDS}
                                            for role in self.roles}}
                       for t in self.tables},
            "functions": {f.function: {"security_definer": f.security_definer, "owner": f.owner,
                                       "execute": {role: role in f.execute for role in self.roles},
                                       **({"grant_option": {role: True for role in f.grant_option}}
                                          if f.grant_option else {})}
                          for f in self.functions},
        }


# ---------------------------------------------------------------- roles and privileges

class _Privileges:
    """Effective privileges of roles, from a model's ACL grants, roles and owners."""

    def __init__(self, model: m.Schema):
        self.roles = {r.name: r for r in model.roles}
        self.acl: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.options: dict[tuple[str, str], dict[str, set[str]]] = {}  # held with grant option
        for g in model.grants:
            if g.action == "grant":
                for role in g.roles:
                    self.acl.setdefault((g.on, g.object), {}).setdefault(role, set()).update(g.privileges)
                    if g.grant_option:
                        self.options.setdefault((g.on, g.object), {}).setdefault(role, set()).update(g.grant_option)
        self._closure: dict[str, frozenset[str]] = {}

    def of(self, role: str) -> frozenset[str]:
        """The role, every role it belongs to (directly or not), and PUBLIC."""
        if role not in self._closure:
            seen, todo = {role}, [role]
            while todo:
                r = self.roles.get(todo.pop())
                for parent in (r.member_of if r else ()):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            self._closure[role] = frozenset(seen | {"public"})
        return self._closure[role]

    def has(self, role: str, on: str, obj: str, privilege: str, owner: str | None = None) -> bool:
        mine = self.of(role)
        if owner is not None and owner in mine:
            return True
        entry = self.acl.get((on, obj), {})
        return any(privilege in entry.get(r, ()) for r in mine)

    def grantable(self, role: str, on: str, obj: str, privilege: str) -> bool:
        """Whether ``role`` holds ``privilege`` with grant option, itself or through a role it belongs to."""
        entry = self.options.get((on, obj), {})
        return any(privilege in entry.get(r, ()) for r in self.of(role))

    def columns_with(self, role: str, relation: str, privilege: str) -> tuple[str, ...]:
        """The columns of ``relation`` on which ``role`` holds ``privilege`` (a view's columns are known
        only from such grants: the model keeps its query, not its columns)."""
        prefix = relation + "."
        return tuple(sorted(obj[len(prefix):] for (on, obj) in self.acl if on == "column" and obj.startswith(prefix)
                            and "." not in obj[len(prefix):] and self.has(role, "column", obj, privilege)))

    def bypassrls(self, role: str) -> bool:
        r = self.roles.get(role)
        return bool(r and r.bypassrls)


def default_roles(spec: m.Schema | None) -> tuple[str, ...]:
    """The API roles, then every role the spec declares."""
    declared = [r.name for r in spec.roles] if spec is not None else []
    return API_ROLES + tuple(sorted(r for r in declared if r not in API_ROLES))


def matrix(model: m.Schema, roles: Iterable[str] | None = None, tables: Iterable[str] | None = None,
           source: str = "", functions: Iterable[str] | None = None) -> Matrix:
    """The access matrix of ``model`` (grants as effective ACLs) for ``roles`` (default: the API
    roles and the model's declared roles) on ``tables`` and ``functions`` (signatures; default:
    all of the model's)."""
    roles = tuple(roles) if roles is not None else default_roles(model)
    priv = _Privileges(with_roles(model, roles))
    wanted = set(tables) if tables is not None else None
    out_tables = []
    for t in sorted(model.tables, key=lambda t: t.qualified_name):
        if wanted is not None and t.qualified_name not in wanted:
            continue
        cells = tuple((role, cmd, _marked(priv, t, role, cmd, _cell(priv, t, role, cmd)))
                      for role in roles for cmd in COMMANDS)
        out_tables.append(TableAccess(t.qualified_name, t.rls_enabled, t.rls_forced, t.owner, cells))
    for v in getattr(model, "views", ()):
        if wanted is not None and v.qualified_name not in wanted:
            continue
        kind = "materialized view" if v.materialized else "invoker view" if v.security_invoker else "view"
        cells = tuple((role, cmd, _marked(priv, v, role, cmd, _view_cell(priv, v, kind, role, cmd)))
                      for role in roles for cmd in COMMANDS)
        out_tables.append(TableAccess(v.qualified_name, False, False, v.owner, cells, kind))
    out_tables.sort(key=lambda t: t.table)
    out_functions = []
    wanted_functions = set(functions) if functions is not None else None
    for f in sorted(model.functions, key=lambda f: f.signature):
        if wanted_functions is not None and f.signature not in wanted_functions:
            continue
        out_functions.append(FunctionAccess(
            f.signature, f.security_definer, callers(priv, f, roles), f.owner,
            tuple(r for r in roles if priv.grantable(r, "function", f.signature, "execute"))))
    return Matrix(roles, tuple(out_tables), tuple(out_functions), source)


def with_roles(model: m.Schema, roles: Iterable[str]) -> m.Schema:
    """``model`` with a plain role (no BYPASSRLS, no memberships) for each of ``roles`` it lacks."""
    known = {r.name for r in model.roles}
    return replace(model, roles=model.roles + tuple(m.Role(name=r) for r in roles if r not in known))


def callers(priv: _Privileges, f: m.Function, roles: Iterable[str]) -> tuple[str, ...]:
    """The roles that may execute ``f`` (the privilege, and USAGE on its schema)."""
    return tuple(r for r in roles if priv.has(r, "schema", f.schema, "usage")
                 and priv.has(r, "function", f.signature, "execute", f.owner))


def _marked(priv: _Privileges, t, role: str, cmd: str, cell: Cell) -> Cell:
    """``cell`` marked ``grant_option`` when the role may grant ``cmd`` on (on the table or view, or on
    one of a table's columns): whatever its own access, the privilege can be passed on."""
    name = t.qualified_name
    columns = getattr(t, "columns", ()) if cmd in _COLUMN_COMMANDS and isinstance(t, m.Table) else ()
    if priv.grantable(role, "table", name, cmd) or any(
            priv.grantable(role, "column", f"{name}.{c.name}", cmd) for c in columns):
        return replace(cell, grant_option=True)
    return cell


def _cell(priv: _Privileges, t: m.Table, role: str, cmd: str) -> Cell:
    name = t.qualified_name
    if not priv.has(role, "schema", t.schema, "usage"):
        return Cell(DENIED, f"no usage on schema {t.schema}")
    columns = None
    if not priv.has(role, "table", name, cmd, t.owner):
        cols = tuple(c.name for c in t.columns if cmd in _COLUMN_COMMANDS
                     and priv.has(role, "column", f"{name}.{c.name}", cmd))
        if not cols:
            return Cell(DENIED, f"no {cmd} privilege")
        columns = cols
    if cmd == "truncate":
        return Cell("all", "truncate ignores row level security")
    if not t.rls_enabled:
        return Cell("all", "row level security is off", columns)
    if priv.bypassrls(role):
        return Cell("all", f"{role} has BYPASSRLS", columns)
    if t.owner is not None and t.owner in priv.of(role) and not t.rls_forced:
        return Cell("all", "owns the table (row level security not forced)", columns)
    mine = priv.of(role)
    applicable = [p for p in t.policies if p.command in (cmd, "all") and set(p.roles) & mine]
    conds = []
    for kind, wanted in zip(("using", "with_check"), _USES[cmd]):
        if not wanted:
            conds.append(None)
            continue
        terms = [(p, p.using if kind == "using" else (p.with_check if p.with_check is not None else p.using))
                 for p in applicable]
        cond = Condition(tuple(sorted({e for p, e in terms if p.permissive and e is not None})),
                         tuple(sorted({e for p, e in terms if not p.permissive and e is not None})))
        if not cond.permissive:
            return Cell(DENIED, f"row level security: no permissive {cmd} policy applies to {role}", columns)
        conds.append(_simplify(cond))
    if all(c is None or c == _TRUE for c in conds):
        return Cell("all", "the policies allow every row", columns)
    return Cell("rows", "rows matching the policies", columns, conds[0], conds[1])


_TRUE = Condition(("true",), ())


def _view_cell(priv: _Privileges, v, kind: str, role: str, cmd: str) -> Cell:
    """A view: the privilege on the view, then whose access its query runs with. A view without
    security_invoker reads (and, when updatable, writes) the tables as its owner: the caller's RLS
    does not apply. An invoker view applies the caller's own privileges and policies on them."""
    if not priv.has(role, "schema", v.schema, "usage"):
        return Cell(DENIED, f"no usage on schema {v.schema}")
    if cmd == "truncate":
        return Cell(DENIED, "a view cannot be truncated")
    if kind == "materialized view" and cmd != "select":
        return Cell(DENIED, "a materialized view is read-only")
    columns = None
    if not priv.has(role, "table", v.qualified_name, cmd, v.owner):
        columns = priv.columns_with(role, v.qualified_name, cmd) if cmd in _COLUMN_COMMANDS else ()
        if not columns:
            return Cell(DENIED, f"no {cmd} privilege")
    if kind == "invoker view":
        return Cell("rows", "as the caller: its privileges and the policies of the tables the view reads", columns)
    if kind == "materialized view":
        return Cell("all", "a stored copy of the query's rows: no row level security", columns)
    return Cell("all", "runs as the view's owner (no security_invoker): the caller's policies do not apply", columns)


def _simplify(cond: Condition) -> Condition:
    restrictive = tuple(e for e in cond.restrictive if e != "true")
    permissive = ("true",) if "true" in cond.permissive else cond.permissive
    return Condition(permissive, restrictive)


# ---------------------------------------------------------------- ACLs of a spec, offline

_ALL = {"table": ("select", "insert", "update", "delete", "truncate", "references", "trigger"),
        "function": ("execute",), "schema": ("usage", "create"), "sequence": ("select", "update", "usage"),
        "column": ("select", "insert", "update", "references")}
_DEFAULT_ON = {"tables": "table", "sequences": "sequence", "functions": "function"}


def spec_acl(spec: m.Schema) -> m.Schema:
    """``spec`` with its grants replaced by the effective ACLs its SQL produces on a server.

    What ``render`` and the assumed objects' SQL do, in order: every object starts with
    PostgreSQL's defaults (EXECUTE to PUBLIC on functions, USAGE to PUBLIC on schema public),
    plus the spec's default privileges for its schema and kind; then the grants and revokes,
    assumed ones first, then by migration. The owner is the deploying role (not modelled).
    ``tests`` check this against what a shadow database reports for the same spec.
    """
    defaults: dict[tuple[str, str], dict[str, set[str]]] = {}
    for d in spec.default_privileges:
        kind = _DEFAULT_ON.get(d.on)
        if kind:
            entry = defaults.setdefault((d.schema, kind), {})
            for role in d.roles:
                entry.setdefault(role, set()).update(_expand(kind, d.privileges))

    def start(kind: str, schema: str, base: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
        out = {r: set(p) for r, p in (base or {}).items()}
        for role, privs in defaults.get((schema, kind), {}).items():
            out.setdefault(role, set()).update(privs)
        return out

    acl: dict[tuple[str, str], dict[str, set[str]]] = {}
    for n in spec.namespaces:
        acl[("schema", n.name)] = {"public": {"usage"}} if n.name == "public" else {}
    for t in spec.tables:
        acl[("table", t.qualified_name)] = start("table", t.schema)
        for c in t.columns:
            if c.identity:
                acl[("sequence", f"{t.schema}.{t.name}_{c.name}_seq")] = start("sequence", t.schema)
    for v in getattr(spec, "views", ()):  # views take the default privileges of tables
        acl[("table", v.qualified_name)] = start("table", v.schema)
    for f in spec.functions:
        acl[("function", f.signature)] = start("function", f.schema, {"public": {"execute"}})
    order = {mig.id: i for i, mig in enumerate(spec.migrations)}
    options: dict[tuple[str, str], dict[str, set[str]]] = {}  # held with grant option
    for g in sorted(spec.grants, key=lambda g: -1 if g.assumed else order.get(g.migration or "", len(order))):
        entry = acl.setdefault((g.on, g.object), {})
        held = options.setdefault((g.on, g.object), {})
        privs = _expand(g.on, g.privileges)
        for role in g.roles:
            if g.action == "grant":
                entry.setdefault(role, set()).update(privs)
                if g.grant_option:
                    held.setdefault(role, set()).update(_expand(g.on, g.grant_option))
            else:  # a revoke takes the privilege and its grant option
                entry.get(role, set()).difference_update(privs)
                held.get(role, set()).difference_update(privs)
    grants = tuple(m.Grant(on=on, object=obj, privileges=tuple(sorted(privs)), roles=(role,),
                           grant_option=tuple(sorted(options.get((on, obj), {}).get(role, set()) & privs)))
                   for (on, obj), entry in sorted(acl.items()) for role, privs in sorted(entry.items()) if privs)
    return replace(spec, grants=grants)


def _expand(kind: str, privileges: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for p in privileges:
        out.update(_ALL.get(kind, ()) if p == "all" else (p,))
    return out


# ---------------------------------------------------------------- changes between two matrices

@dataclass(frozen=True)
class AccessChange:
    """One cell (or function) whose access differs. ``verdict``: widened | narrowed | changed
    (conditions differ in a way that may widen or narrow: review it)."""

    object: str  # table or function signature
    role: str
    command: str  # select ... truncate, or "execute"
    verdict: str
    before: Cell | None
    after: Cell | None

    def data(self) -> dict:
        return {"object": self.object, "role": self.role, "command": self.command, "verdict": self.verdict,
                "before": _side(self.before), "after": _side(self.after)}


def _side(cell) -> dict | None:
    return cell.data() if isinstance(cell, Cell) else cell


_ORDER = {"widened": 0, "changed": 1, "narrowed": 2}
_NO_TABLE = Cell(DENIED, "the table does not exist")
_NO_FUNCTION = Cell(DENIED, "the function does not exist")


def _compared(data: dict) -> dict:
    """What decides access, for deepdiff: cells without their reasons and condition texts."""
    out: dict = {"tables": {}, "functions": {}}
    for name, t in data["tables"].items():
        out["tables"][name] = {role: {cmd: {k: v for k, v in cell.items() if k != "reason"}
                                      for cmd, cell in cmds.items()} for role, cmds in t["access"].items()}
    for sig, f in data["functions"].items():
        out["functions"][sig] = {role: {"execute": ok, "security_definer": f["security_definer"],
                                        "grant_option": role in f.get("grant_option", {})}
                                 for role, ok in f["execute"].items()}
    for t in out["tables"].values():
        for cmds in t.values():
            for cell in cmds.values():
                for k in ("using", "with_check"):
                    if k in cell:
                        cell[k] = {"permissive": cell[k]["permissive"], "restrictive": cell[k]["restrictive"]}
    return out


def access_changes(old: Matrix | m.Schema, new: Matrix | m.Schema, roles: Iterable[str] | None = None
                   ) -> list[AccessChange]:
    """Every cell whose access differs between ``old`` and ``new`` (matrices, or models with
    effective ACLs), widened first. deepdiff finds the differing cells; each is then judged."""
    from deepdiff import DeepDiff

    if roles is None and (isinstance(old, m.Schema) or isinstance(new, m.Schema)):
        names = set()
        for side in (old, new):
            names.update(side.roles if isinstance(side, Matrix) else default_roles(side))
        roles = API_ROLES + tuple(sorted(names - set(API_ROLES)))
    old_m = old if isinstance(old, Matrix) else matrix(old, roles)
    new_m = new if isinstance(new, Matrix) else matrix(new, roles)
    a, b = _compared(old_m.data()), _compared(new_m.data())
    found = DeepDiff(a, b, view="tree")
    touched: set[tuple[str, str, str, str]] = set()
    for items in found.values():
        for level in items:
            path = level.path(output_format="list")
            touched.update(_cells_under(a, b, path[0], path[1:4]))
    out = []
    for section, obj, role, cmd in touched:
        if section == "tables":
            before = _lookup_cell(old_m, obj, role, cmd, _NO_TABLE)
            after = _lookup_cell(new_m, obj, role, cmd, _NO_TABLE)
        else:
            before, after = _function_side(old_m, obj, role), _function_side(new_m, obj, role)
        verdict = judge(before, after)
        if verdict is not None:
            out.append(AccessChange(obj, role, cmd, verdict, before, after))
    role_order = {r: i for i, r in enumerate(new_m.roles + old_m.roles)}
    cmd_order = {c: i for i, c in enumerate(COMMANDS + ("execute",))}
    out.sort(key=lambda c: (_ORDER[c.verdict], c.object, role_order.get(c.role, 99), cmd_order[c.command]))
    return out


def spec_access_changes(old: m.Schema, new: m.Schema) -> list[AccessChange]:
    """What a change of the spec from ``old`` to ``new`` does to access, without a database
    (effective ACLs from ``spec_acl``; policy expressions compared as written). For
    ``render --name``: the access changes of the migration it writes."""
    return access_changes(spec_acl(old), spec_acl(new))


def _cells_under(a: dict, b: dict, section: str, prefix: list) -> set[tuple[str, str, str, str]]:
    """The cells (section, object, role, command) under a path deepdiff reports: one cell, or
    every cell of a table, function or role that appeared or vanished."""
    out = set()
    for side in (a, b):
        for obj, roles in side[section].items():
            if prefix and obj != prefix[0]:
                continue
            for role, cmds in roles.items():
                if len(prefix) > 1 and role != prefix[1]:
                    continue
                for cmd in cmds:
                    if section == "functions":
                        cmd = "execute"
                    elif len(prefix) > 2 and cmd != prefix[2]:
                        continue
                    out.add((section, obj, role, cmd))
    return out


def _lookup_cell(mx: Matrix, table: str, role: str, cmd: str, missing: Cell) -> Cell:
    t = mx.table(table)
    if t is None or role not in mx.roles:
        return missing
    return t.cell(role, cmd)


def _function_side(mx: Matrix, sig: str, role: str) -> Cell:
    f = mx.function(sig)
    if f is None:
        return _NO_FUNCTION
    option = role in f.grant_option
    if role not in f.execute:
        return Cell(DENIED, "no execute privilege", grant_option=option)
    if f.security_definer:
        return Cell("all", "may execute; runs as its owner (SECURITY DEFINER)", grant_option=option)
    return Cell("rows", "may execute, as itself (RLS applies)", grant_option=option)


def judge(before: Cell, after: Cell) -> str | None:
    """widened | narrowed | changed, or None when access is the same. A grant option gained widens
    (the role may pass the privilege on), one lost narrows; with access moving the other way: changed."""
    verdict = _judge_access(before, after)
    if before.grant_option == after.grant_option:
        return verdict
    option = "widened" if after.grant_option else "narrowed"
    return option if verdict in (None, option) else "changed"


def _judge_access(before: Cell, after: Cell) -> str | None:
    if (before.access, before.columns, before.using, before.with_check) == \
            (after.access, after.columns, after.using, after.with_check):
        return None
    if after.access == DENIED or before.access == DENIED:
        return "widened" if _RANK[after.access] > _RANK[before.access] else "narrowed"
    wider = _columns_wider(after.columns, before.columns)
    narrower = _columns_wider(before.columns, after.columns)
    rank_a, rank_b = _RANK[after.access], _RANK[before.access]
    wider = wider and rank_a >= rank_b
    narrower = narrower and rank_a <= rank_b
    if rank_a == rank_b == _RANK["rows"]:
        for x, y in ((after.using, before.using), (after.with_check, before.with_check)):
            if x is not None and y is not None:
                wider = wider and x.wider_or_equal(y)
                narrower = narrower and y.wider_or_equal(x)
    if wider:
        return "widened"
    if narrower:
        return "narrowed"
    return "changed"


def _columns_wider(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    if a is None:
        return True
    return b is not None and set(a) >= set(b)


# ---------------------------------------------------------------- what drift means

def drift_roles(desired: m.Schema) -> tuple[str, ...]:
    """The roles whose widened access is drift: the API roles and the declared roles that belong
    to no other role. A role holding others (``authenticator``) gains access only through them."""
    declared = {r.name: r for r in desired.roles}
    return tuple(r for r in default_roles(desired) if not (declared.get(r) and declared[r].member_of))


def drift_changes(desired: m.Schema, actual: m.Schema, acl_roles: dict) -> list[AccessChange]:
    """What the differences between the spec (``desired``: normalised, with ownership flags) and a
    database mean for access, on the tables and functions the spec mentions, assumed ones included.

    On assumed objects the platform's privileges and owner are not the spec's business: the
    baseline takes them from the database, except for the roles the spec's grants mention
    (``acl_roles``, as ``compare.Scope.acl_roles``); policies and RLS are the spec's. So an extra
    permissive policy on an assumed table widens, Supabase's own grants there do not (which
    widenings are drift: ``drift_of``).
    """
    roles = default_roles(desired)
    baseline = _baseline(desired, actual, acl_roles)
    old_inputs, new_inputs = _inputs(baseline), _inputs(actual)
    same_roles = _role_inputs(baseline, roles) == _role_inputs(actual, roles)
    tables = [t.qualified_name for t in desired.tables
              if not same_roles or old_inputs.get(("table", t.qualified_name)) != new_inputs.get(("table", t.qualified_name))]
    tables += [v.qualified_name for v in getattr(desired, "views", ())
               if not same_roles or old_inputs.get(("view", v.qualified_name)) != new_inputs.get(("view", v.qualified_name))]
    functions = [f.signature for f in desired.functions
                 if not same_roles or old_inputs.get(("function", f.signature)) != new_inputs.get(("function", f.signature))]
    if not tables and not functions:
        return []
    return access_changes(matrix(baseline, roles, tables, functions=functions),
                          matrix(actual, roles, tables, functions=functions))


def drift_of(changes: Iterable[AccessChange], desired: m.Schema | None, roles: Iterable[str]
             ) -> tuple[AccessChange, ...]:
    """The access changes that are drift: wider (or changed, so maybe wider) for one of ``roles``.
    On an assumed object (the app's or the platform's) the app's own policies are its business:
    there only access to *every row* (a ``using (true)``, RLS off) or to a definer function counts."""
    roles = set(roles)
    assumed = assumed_objects(desired)
    return tuple(c for c in changes if c.verdict in ("widened", "changed") and c.role in roles
                 and (c.object not in assumed or (c.after is not None and c.after.access == "all")
                      or _gains_grant_option(c)))


def assumed_objects(desired: m.Schema | None) -> set[str]:
    """The tables, views (qualified names) and functions (signatures) the spec only assumes, as
    ``AccessChange.object`` names them: schemagen never changes their policies or grants."""
    if desired is None:
        return set()
    assumed = {t.qualified_name for t in desired.tables if t.assumed}
    assumed |= {f.signature for f in desired.functions if f.assumed}
    return assumed | {v.qualified_name for v in getattr(desired, "views", ()) if v.assumed}


def _gains_grant_option(c: AccessChange) -> bool:
    """A grant option the role did not hold: a privilege matter (the role may pass it on to anyone),
    drift on an assumed object too (its ACL is compared for the roles the spec's grants mention)."""
    return c.after is not None and c.after.grant_option and not (c.before is not None and c.before.grant_option)


def _assumed_keys(desired: m.Schema) -> set[tuple[str, str]]:
    keys = {("table", t.qualified_name) for t in desired.tables if t.assumed}
    keys |= {("function", f.signature) for f in desired.functions if f.assumed}
    keys |= {("table", v.qualified_name) for v in getattr(desired, "views", ()) if v.assumed}
    return keys | {("schema", n.name) for n in desired.namespaces if n.assumed}


def _grant_owner(g: m.Grant) -> tuple[str, str]:
    """The object whose ACL a grant belongs to: a column's grants belong to its table."""
    return ("table", g.object.rsplit(".", 1)[0]) if g.on == "column" else (g.on, g.object)


def _scope_key(key: tuple[str, str]) -> tuple[str, str]:
    on, name = key
    return (on, name.split("(", 1)[0]) if on == "function" else key


def _baseline(desired: m.Schema, actual: m.Schema, acl_roles: dict) -> m.Schema:
    assumed = _assumed_keys(desired)

    def platform(g: m.Grant, key) -> bool:  # a grant the platform decides: an assumed object, a role not mentioned
        return key in assumed and g.roles[0] not in acl_roles.get(_scope_key(key), ())

    grants = [g for g in desired.grants if not platform(g, _grant_owner(g))]
    grants += [g for g in actual.grants if platform(g, _grant_owner(g))]
    owners = {t.qualified_name: t.owner for t in actual.tables}
    owners.update({v.qualified_name: v.owner for v in getattr(actual, "views", ())})
    fowners = {f.signature: f.owner for f in actual.functions}
    return replace(
        desired, grants=tuple(grants),
        views=tuple(replace(v, owner=owners.get(v.qualified_name)) if v.assumed else v
                    for v in getattr(desired, "views", ())),
        tables=tuple(replace(t, owner=owners.get(t.qualified_name)) if t.assumed else t for t in desired.tables),
        functions=tuple(replace(f, owner=fowners.get(f.signature)) if f.assumed else f for f in desired.functions))


def _inputs(model: m.Schema) -> dict[tuple[str, str], tuple]:
    """Per table and function, everything its cells depend on (but the roles): to skip equal ones."""
    acl: dict[tuple[str, str], list] = {}
    for g in model.grants:
        acl.setdefault(_grant_owner(g), []).append((g.on, g.object, g.roles, g.privileges, g.grant_option))
    schemas = {n: tuple(sorted(acl.get(("schema", n), []))) for n in {t.schema for t in model.tables}
               | {f.schema for f in model.functions}}
    out: dict[tuple[str, str], tuple] = {}
    for t in model.tables:
        key = ("table", t.qualified_name)
        out[key] = (t.policies, t.rls_enabled, t.rls_forced, t.owner, tuple(c.name for c in t.columns),
                    tuple(sorted(acl.get(key, []))), schemas[t.schema])
    for f in model.functions:
        key = ("function", f.signature)
        out[key] = (f.security_definer, f.owner, tuple(sorted(acl.get(key, []))), schemas[f.schema])
    for v in getattr(model, "views", ()):
        out[("view", v.qualified_name)] = (v.materialized, v.security_invoker, v.owner,
                                           tuple(sorted(acl.get(("table", v.qualified_name), []))),
                                           schemas.get(v.schema) or tuple(sorted(acl.get(("schema", v.schema), []))))
    return out


def _role_inputs(model: m.Schema, roles: Iterable[str]) -> tuple:
    priv = _Privileges(with_roles(model, roles))
    return tuple((r, priv.of(r), priv.bypassrls(r)) for r in roles)


# ---------------------------------------------------------------- formats

_ACCESS_TEXT = {"denied": "-", "all": "ALL", "rows": "rows"}


def shown(text: str) -> str:
    """One line of output: names and expressions read from a database are data, so control
    characters (a newline in a table name, an escape sequence) are printed escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _cell_label(cell: Cell, notes: dict[str, int]) -> str:
    label = _ACCESS_TEXT[cell.access]
    if cell.access == "rows" and cell.using is None and cell.with_check is None:
        return "caller"
    if cell.access == "rows":
        text = condition_text(cell)
        notes.setdefault(text, len(notes) + 1)
        label += f"[{notes[text]}]"
    if cell.columns is not None and cell.access != "denied":
        label += "(" + ",".join(cell.columns) + ")"
    return label + ("*" if cell.grant_option else "")


def condition_text(cell: Cell) -> str:
    parts = []
    if cell.using is not None:
        parts.append(f"using {cell.using.text}")
    if cell.with_check is not None:
        parts.append(f"with check {cell.with_check.text}")
    return "; ".join(parts)


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]


_KIND_NOTE = {"view": "view, runs as its owner", "invoker view": "view, security_invoker",
              "materialized view": "materialized view"}


def _table_note(t: TableAccess, roles: tuple[str, ...]) -> str:
    if t.kind != "table":
        return _KIND_NOTE[t.kind] + (f", owned by {t.owner}" if t.owner in roles else "")
    rls = "RLS off" if not t.rls_enabled else "RLS forced" if t.rls_forced else "RLS on"
    # the owner matters to the reader only when it is one of the roles shown (it then bypasses RLS)
    return rls + (f", owned by {t.owner}" if t.owner in roles else "")


def _any_grant_option(mx: Matrix) -> bool:
    return any(f.grant_option for f in mx.functions) or any(c.grant_option for t in mx.tables for _, _, c in t.cells)


def _execute_label(f: FunctionAccess, role: str) -> str:
    return ("x" if role in f.execute else "-") + ("*" if role in f.grant_option else "")


def format_text(mx: Matrix) -> str:
    lines = [f"Access: {mx.source}" if mx.source else "Access",
             "  -  denied    ALL  every row    rows[n]  rows matching the policies [n]    (a,b) only these columns"
             + ("    caller  the caller's own access (invoker view)" if any(t.kind == "invoker view" for t in mx.tables)
                else "")
             + ("    *  with grant option (may grant it on)" if _any_grant_option(mx) else ""),
             ""]
    for t in mx.tables:
        lines.append(f"{t.table}  ({_table_note(t, mx.roles)})")
        notes: dict[str, int] = {}
        rows = [[role] + [_cell_label(t.cell(role, c), notes) for c in COMMANDS] for role in mx.roles]
        lines += ["  " + x for x in _grid(["role"] + list(COMMANDS), rows)]
        lines += [f"    [{n}] {text}" for text, n in notes.items()]
        lines.append("")
    if mx.functions:
        lines.append("Functions (x: may execute; definer: runs as its owner, bypassing the caller's RLS)")
        rows = [[f.function, "definer" if f.security_definer else "invoker"]
                + [_execute_label(f, r) for r in mx.roles] for f in mx.functions]
        lines += ["  " + x for x in _grid(["function", "security"] + list(mx.roles), rows)]
    return "\n".join(shown(x) for x in lines).rstrip() + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_markdown(mx: Matrix) -> str:
    lines = [f"### Access: {_md(mx.source)}" if mx.source else "### Access", "",
             "`-` denied, **ALL** every row, `rows[n]` rows matching the policies [n], `(a,b)` only these columns"
             + (", `caller` the caller's own access (invoker view)" if any(t.kind == "invoker view" for t in mx.tables)
                else "")
             + (", `*` with grant option (may grant it on)" if _any_grant_option(mx) else "") + ".",
             ""]
    for t in mx.tables:
        lines.append(f"**`{_md(t.table)}`** ({_md(_table_note(t, mx.roles))})")
        lines.append("")
        lines.append("| role | " + " | ".join(COMMANDS) + " |")
        lines.append("|---" * (len(COMMANDS) + 1) + "|")
        notes: dict[str, int] = {}
        for role in mx.roles:
            labels = [_cell_label(t.cell(role, c), notes) for c in COMMANDS]
            labels = [f"**{x}**" if x.startswith("ALL") else f"`{x}`" for x in labels]
            lines.append(f"| {_md(role)} | " + " | ".join(labels) + " |")
        if notes:
            lines.append("")
            lines += [f"[{n}] `{_md(text)}`  " for text, n in notes.items()]
        lines.append("")
    if mx.functions:
        lines.append("| function | security | " + " | ".join(_md(r) for r in mx.roles) + " |")
        lines.append("|---" * (len(mx.roles) + 2) + "|")
        for f in mx.functions:
            lines.append(f"| `{_md(f.function)}` | {'definer' if f.security_definer else 'invoker'} | "
                         + " | ".join(_execute_label(f, r) for r in mx.roles) + " |")
    return "\n".join(shown(x) for x in lines).rstrip() + "\n"


def format_json(mx: Matrix) -> str:
    return json_text(mx.data(), indent=2) + "\n"


FORMATS = {"text": format_text, "json": format_json, "markdown": format_markdown}


# ---------------------------------------------------------------- changes: formats

_VERDICT_TEXT = {"widened": "widened", "narrowed": "narrowed", "changed": "changed (may widen: review)"}


def _describe_cell(cell: Cell | None) -> str:
    if cell is None:
        return "(none)"
    text = {"denied": "denied", "all": "every row", "rows": "rows"}[cell.access]
    if cell.columns is not None and cell.access != "denied":
        text += f" (columns {', '.join(cell.columns)})"
    if cell.access == "rows":
        text += f": {condition_text(cell) or cell.reason}"
    return text + (", with grant option" if cell.grant_option else "")


def _reason(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    return cell.reason + (", with grant option" if cell.grant_option else "")


def describe_change(c: AccessChange) -> str:
    what = f"{c.role} {c.command} on {c.object}" if c.command != "execute" else f"{c.role} execute {c.object}"
    if c.command == "execute":
        return shown(f"{what}: {_reason(c.before)} -> {_reason(c.after)}")
    return shown(f"{what}: {_describe_cell(c.before)} -> {_describe_cell(c.after)}")


def format_changes_text(changes: list[AccessChange], color: bool = False, title: str = "") -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    title = shown(title)
    if not changes:
        return (title + ": " if title else "") + "no access changes\n"
    lines = [title] if title else []
    for verdict, code in (("widened", "31"), ("changed", "33"), ("narrowed", "32")):
        mine = [c for c in changes if c.verdict == verdict]
        if not mine:
            continue
        lines.append(paint(f"{_VERDICT_TEXT[verdict].capitalize()} ({len(mine)}):", "1;" + code))
        lines += ["  " + paint(describe_change(c), code) for c in mine]
    return "\n".join(lines) + "\n"


def format_changes_markdown(changes: list[AccessChange], title: str = "") -> str:
    lines = [f"### {_md(title)}" if title else "### Access changes", ""]
    if not changes:
        return "\n".join(lines + ["No access changes."]) + "\n"
    for verdict in ("widened", "changed", "narrowed"):
        mine = [c for c in changes if c.verdict == verdict]
        if mine:
            lines.append(f"**{_VERDICT_TEXT[verdict].capitalize()}** ({len(mine)})")
            lines.append("")
            lines += [f"- {_md(describe_change(c))}" for c in mine]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def format_changes_json(changes: list[AccessChange], **extra) -> str:
    data = {"version": JSON_VERSION, **extra, "widened": any(c.verdict == "widened" for c in changes),
            "changes": [c.data() for c in changes]}
    return json_text(data, indent=2) + "\n"


def widened(changes: Iterable[AccessChange]) -> list[AccessChange]:
    return [c for c in changes if c.verdict == "widened"]



# ---------------------------------------------------------------- sources

@dataclass(frozen=True)
class Source:
    """A model to compute access from, with the roles to show and a label for reports."""

    model: m.Schema
    roles: tuple[str, ...]
    label: str
    tables: tuple[str, ...] | None = None  # None: every table of the model


def from_spec(spec_path, shadow_url: str | None = None, use_cache: bool = True, cache_dir=None,
              timeout: int = 10, label: str | None = None) -> Source:
    """The spec normalised exactly as ``diff`` does it (shadow database, cached)."""
    from .diff import _desired, _read_spec
    from .shadow import shadow_major_version

    major = shadow_major_version(shadow_url, timeout)
    desired = _desired(spec_path, _read_spec(spec_path), major, major, shadow_url, use_cache, cache_dir, timeout, {},
                       purpose="to compute who may do what", name=label)
    return Source(desired.model, default_roles(desired.model), label or str(spec_path))


def from_database(url: str, spec: m.Schema | None = None, timeout: int = 10) -> Source:
    """A live database, introspected in the schemas the spec mentions (``public`` without a spec)."""
    from .compare import spec_schemas
    from .diff import _inspect, mask_url
    from .pg import connect

    schemas = spec_schemas(spec) if spec is not None else ["public"]
    with connect(url, connect_timeout=timeout) as conn:
        model = _inspect(conn, schemas, url)[0]
    return Source(model, default_roles(spec), mask_url(url))


def matrix_of(source: Source) -> Matrix:
    return matrix(source.model, source.roles, source.tables, source.label)


@contextmanager
def base_spec_file(base: str):
    """A path holding the base spec: ``base`` itself, or for ``git:REF:path`` the file as
    ``git show REF:path`` prints it (in a temporary directory, under the same file name)."""
    if not base.startswith("git:"):
        if not Path(base).is_file():  # not the spec loader's "use --spec PATH"
            raise UsageError(f"--base {base}: no such spec file (give a file, or git:REF:path such as "
                             "git:main:schema.yaml)")
        yield base
        return
    ref, sep, path = base[4:].partition(":")
    if not sep or not ref or not path:
        raise UsageError(f"--base {base!r}: expected git:REF:path, e.g. git:main:schema.yaml")
    try:
        shown = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise UsageError(f"--base {base}: cannot run git: {e}") from None
    if shown.returncode != 0:
        message = (shown.stderr.decode("utf-8", "replace").strip().splitlines() or ["git show failed"])[0]
        raise UsageError(f"--base {base}: {message}")
    with tempfile.TemporaryDirectory(prefix="schemagen-base-") as tmp:
        target = Path(tmp) / Path(path).name
        target.write_bytes(shown.stdout)
        yield str(target)
