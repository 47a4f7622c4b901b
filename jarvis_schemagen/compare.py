"""Model vs model -> typed changes: what differs between the desired state and a database.

``desired`` is the spec as PostgreSQL stores it (the spec applied to a shadow database and
introspected back), ``actual`` is the target database introspected the same way, so every
expression is in the same canonical text and equality is plain dataclass equality.

Who owns what comes from the spec (``annotate``): the shadow model has no ownership flags.

- Objects the spec *manages* (created by a migration) must match exactly: a missing, extra or
  different column, constraint, index, policy, trigger, grant or comment is drift.
- On an *assumed* object (``auth.users``, ``public.conversations``: they exist before 001) only
  what the spec declares is compared; extra columns, indexes, policies... there are not drift.
  RLS on an assumed table is checked one way: if the spec enables it, it must be on. Assumed
  functions are checked for existence and return type only (their bodies are the platform's),
  and comments of assumed objects are not compared. ACLs of assumed objects are compared for
  the roles the spec's grants and revokes mention.
- Objects the spec never mentions, in a schema where the spec creates objects (tables,
  functions, extensions; and columns, indexes... on assumed tables there), are *unmanaged*:
  listed, and drift only in strict mode.

The changes say what to do to the database to reach the spec: ``add`` (missing there),
``drop`` (there but not in the spec), ``alter`` (different; ``detail`` names the fields).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any, Iterable

from . import model as m

KINDS = ("role", "schema", "extension", "table", "owner", "rls", "column", "constraint", "index", "policy", "trigger",
         "function", "grant", "comment", "view", "materialized view", "sequence", "foreign table", "type", "domain",
         "replica identity", "publication", "partition")
#: kinds the model has no place for: only ever listed as unmanaged
UNMODELLED_KINDS = ("foreign table",)
_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}
_NOT_STATE = {"name", "comment", "migration", "assumed", "pos"}


@dataclass(frozen=True)
class Rls:
    enabled: bool
    forced: bool


@dataclass(frozen=True)
class Change:
    """One difference. ``before`` is the database's side, ``after`` the spec's.

    ``key`` identifies the object structurally for the planner: ``("column", "public.t", "c")``,
    ``("function", "public.f(uuid)")``, ``("grant", "table", "public.t", "anon")``,
    ``("comment", <key of the commented object>...)``.
    """

    kind: str
    object: str
    action: str  # add | drop | alter
    before: Any = None
    after: Any = None
    destructive: bool = False
    detail: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    reason: str | None = None  # why it is destructive

    @property
    def group(self) -> str:
        """The object a report groups this change under: its table, function, schema or role."""
        k = self.key
        if self.kind == "comment":
            k = k[1:]
        if self.kind == "grant":
            on, obj = k[1], k[2]
            if on == "column":
                return obj.rsplit(".", 1)[0]
            return obj
        if self.kind == "owner":
            return k[2]
        return k[1] if len(k) > 1 else self.object

    def sort_key(self) -> tuple:
        return (self.group, _KIND_ORDER.get(self.kind, 99), self.object, self.action)


@dataclass(frozen=True)
class Comparison:
    changes: tuple[Change, ...]  # differences in what the spec manages: the fix brings them to the spec
    unmanaged: tuple[Change, ...]  # objects the spec never mentions; as changes, they are drops
    # differences in what the spec only assumes (auth.users, roles, the app's conversations): never
    # fixed by schemagen (on a hosted platform that is refused or harmful); fix the spec or the platform
    unmet: tuple[Change, ...] = ()


# ---------------------------------------------------------------- names

_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")


def display_name(name: str) -> str:
    """A name as a person reads it in a report: bare when simple, else in double quotes."""
    return name if _SIMPLE.fullmatch(name) else '"' + name.replace('"', '""') + '"'


_NAMED_BY_KIND = ("table", "function", "schema", "column", "type", "view", "materialized view", "domain",
                  "sequence")


def object_name(key: tuple[str, ...]) -> str:
    """The full, human name of an object from its key."""
    kind = key[0]
    if kind == "column":
        return f"{key[1]}.{key[2]}"
    if kind in ("constraint", "index", "policy", "trigger"):
        return f"{kind} {display_name(key[2])} on {key[1]}"
    if kind == "grant":
        return f"privileges on {key[1]} {key[2]} to {key[3]}"
    if kind == "owner":
        return f"owner of {key[1]} {key[2]}"
    if kind == "partition":
        return f"partition {key[2]} of {key[1]}"
    if kind == "publication" and len(key) == 3:
        return f"table {key[2]} in publication {key[1]}"
    if kind == "comment":
        inner = key[1:]
        return f"{inner[0]} {object_name(inner)}" if inner[0] in _NAMED_BY_KIND else object_name(inner)
    return key[1]


def _change(kind: str, key: tuple[str, ...], action: str, before=None, after=None, detail=(), destructive=False,
            reason=None) -> Change:
    return Change(kind=kind, object=object_name(key), action=action, before=before, after=after,
                  destructive=destructive, detail=tuple(detail), key=key, reason=reason)


# ---------------------------------------------------------------- ownership

def managed(obj, table: m.Table | None = None) -> bool:
    """True when a migration creates the object (not assumed to pre-exist)."""
    return m.effective_migration(obj, table) != m.ASSUMED


def _carry(obj, source):
    """``obj`` with the ownership flags of the spec object ``source`` (or unchanged when undeclared), and
    for columns and constraints the attributes the spec wrote down (``declared``)."""
    if source is None:
        return obj
    if hasattr(source, "declared"):
        return replace(obj, migration=source.migration, assumed=source.assumed, declared=source.declared)
    return replace(obj, migration=source.migration, assumed=source.assumed)


def annotate(desired: m.Schema, spec: m.Schema) -> m.Schema:
    """The desired (shadow-introspected) model with the spec's ownership flags carried over by key.

    Roles come from the spec itself (the shadow's cluster holds unrelated roles), and only the
    extensions the spec declares are kept. Objects the spec does not declare keep no flags:
    nested ones then belong to their table; top-level ones are marked assumed.
    """
    spec_tables = {t.qualified_name: t for t in spec.tables}
    tables = []
    for t in desired.tables:
        st = spec_tables.get(t.qualified_name)
        if st is None:
            tables.append(replace(t, assumed=True, migration=None))
            continue
        nested = {}
        for attr in ("columns", "constraints", "indexes", "policies", "triggers"):
            declared = {o.name: o for o in getattr(st, attr)}
            items = getattr(t, attr)
            if st.assumed and not st.columns:  # the platform's shape (platform.py): only what the spec declares
                items = tuple(o for o in items if o.name in declared)
            nested[attr] = tuple(_carry(o, declared.get(o.name)) for o in items)
        tables.append(replace(_carry(t, st), **nested))
    by_signature = {f.signature: f for f in spec.functions}
    by_name: dict[str, list[m.Function]] = {}
    for f in spec.functions:
        by_name.setdefault(f.qualified_name, []).append(f)

    def spec_function(f: m.Function) -> m.Function | None:
        """The spec's function of an introspected one: by signature (overloads), else the only one of that name
        (the spec may spell an argument type differently, e.g. with a modifier PostgreSQL drops)."""
        same = by_name.get(f.qualified_name, [])
        return by_signature.get(f.signature) or (same[0] if len(same) == 1 else None)

    functions = tuple(_carry(f, spec_function(f)) if spec_function(f) is not None
                      else replace(f, assumed=True, migration=None) for f in desired.functions)
    spec_ns = {n.name: n for n in spec.namespaces}
    namespaces = tuple(_carry(n, spec_ns[n.name]) if n.name in spec_ns else replace(n, assumed=True, migration=None)
                       for n in desired.namespaces)
    spec_ext = {e.name: e for e in spec.extensions}
    extensions = tuple(_carry(e, spec_ext[e.name]) for e in desired.extensions if e.name in spec_ext)
    spec_types = {t.qualified_name: t for t in spec.types}
    types = tuple(_carry(t, spec_types[t.qualified_name]) if t.qualified_name in spec_types
                  else replace(t, assumed=True, migration=None) for t in desired.types)
    spec_seqs = {q.qualified_name: q for q in spec.sequences}
    sequences = tuple(_carry(q, spec_seqs[q.qualified_name]) if q.qualified_name in spec_seqs
                      else replace(q, assumed=True, migration=None) for q in desired.sequences)
    spec_domains = {d.qualified_name: d for d in spec.domains}
    domains = tuple(_carry(d, spec_domains[d.qualified_name]) if d.qualified_name in spec_domains
                    else replace(d, assumed=True, migration=None) for d in desired.domains)
    spec_pubs = {p.name: p for p in spec.publications}
    publications = tuple(_carry(p, spec_pubs[p.name]) for p in desired.publications if p.name in spec_pubs)
    spec_views = {v.qualified_name: v for v in spec.views}
    # the spec's declaration order (a view may read an earlier one), then undeclared ones
    rank = {name: i for i, name in enumerate(spec_views)}
    views = tuple(sorted((_carry(v, spec_views[v.qualified_name]) if v.qualified_name in spec_views
                          else replace(v, assumed=True, migration=None) for v in desired.views),
                         key=lambda v: (rank.get(v.qualified_name, len(rank)), v.qualified_name)))
    return replace(desired, roles=spec.roles, tables=tuple(tables), functions=functions, namespaces=namespaces,
                   extensions=extensions, migrations=spec.migrations, types=types, views=views,
                   publications=publications, domains=domains, sequences=sequences)


@dataclass(frozen=True)
class Scope:
    """What the spec claims: schemas where it creates objects, and roles its grants mention."""

    managed_schemas: frozenset[str]
    acl_roles: dict  # (on, name) -> roles mentioned by grants/revokes; functions by qualified name
    # (on, name, role) that a migration's grant or revoke mentions (the others are assumed)
    managed_grants: frozenset = frozenset()

    @classmethod
    def of(cls, spec: m.Schema) -> "Scope":
        schemas = {n.name for n in spec.namespaces if managed(n)}
        schemas |= {t.schema for t in spec.tables if managed(t)}
        schemas |= {f.schema for f in spec.functions if managed(f)}
        schemas |= {t.schema for t in spec.types + spec.domains + spec.sequences if managed(t)}
        schemas |= {v.schema for v in spec.views if managed(v)}
        acl: dict[tuple[str, str], set[str]] = {}
        owned: set[tuple[str, str, str]] = set()
        for g in spec.grants:
            name = g.object.split("(", 1)[0] if g.on == "function" else g.object
            acl.setdefault((g.on, name), set()).update(g.roles)
            if managed(g):
                owned |= {(g.on, name, r) for r in g.roles}
        return cls(frozenset(schemas), {k: frozenset(v) for k, v in acl.items()}, frozenset(owned))

    def to_data(self) -> dict:
        """Plain JSON data (for the cache); ``from_data`` reads it back."""
        return {"managed_schemas": sorted(self.managed_schemas),
                "acl_roles": [[on, name, sorted(roles)] for (on, name), roles in sorted(self.acl_roles.items())],
                "managed_grants": sorted(self.managed_grants)}

    @classmethod
    def from_data(cls, d: dict) -> "Scope":
        return cls(frozenset(d["managed_schemas"]), {(on, name): frozenset(r) for on, name, r in d["acl_roles"]},
                   frozenset(tuple(x) for x in d["managed_grants"]))


def spec_schemas(spec: m.Schema) -> list[str]:
    """Every schema the spec mentions: the ones to inspect."""
    names = {n.name for n in spec.namespaces}
    names |= {t.schema for t in spec.tables} | {f.schema for f in spec.functions}
    names |= {t.schema for t in spec.types + spec.domains + spec.sequences} | {v.schema for v in spec.views}
    names |= {e.schema for e in spec.extensions if e.schema}
    for t in spec.tables:
        names |= {c.ref_table.split(".", 1)[0] for c in t.constraints if c.ref_table and "." in c.ref_table}
        names |= {tr.function.split(".", 1)[0] for tr in t.triggers if "." in tr.function}
    return sorted(names)


# ---------------------------------------------------------------- field comparison

def normalize_body(body: str | None) -> str:
    """A function body as compared: trailing whitespace removed (per line and at the end) and one
    line break at the start, nothing else. Exactly what ``sql.function_body`` adds when it renders
    a body (a line break after ``as $$``, one at the end): two spec bodies that render differently
    never compare equal, and a function created on one line (``as $$ select 1 $$``) matches the
    spec inspect writes for it."""
    text = "\n".join(line.rstrip() for line in (body or "").splitlines()).rstrip()
    return text[1:] if text.startswith("\n") else text


_STATE_FIELDS: dict[type, tuple[str, ...]] = {}


def _state_fields(cls: type) -> tuple[str, ...]:
    names = _STATE_FIELDS.get(cls)
    if names is None:
        names = _STATE_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.compare and f.name not in _NOT_STATE)
    return names


def differing_fields(desired, actual, only: Iterable[str] | None = None) -> tuple[str, ...]:
    """Names of the state fields that differ between two objects of one class."""
    out = []
    for name in _state_fields(type(desired)):
        if only is not None and name not in only:
            continue
        a, b = getattr(desired, name), getattr(actual, name)
        if a != b and (name != "body" or normalize_body(a) != normalize_body(b)):
            out.append(name)
    return tuple(out)


_INT_RANK = {"smallint": 1, "integer": 2, "bigint": 3}


def type_change_loses_data(old: str, new: str) -> bool:
    """Whether changing a column from ``old`` to ``new`` can lose or reject existing values.

    Only well-known widenings are safe: smallint < integer < bigint (< numeric), varchar(n) to a
    longer varchar or to text, numeric(p,s) to numeric(p',s) with p' >= p or to plain numeric.
    """
    if old == new:
        return False
    if old in _INT_RANK and (new in _INT_RANK and _INT_RANK[new] >= _INT_RANK[old] or new == "numeric"):
        return False
    vc = re.fullmatch(r"character varying(?:\((\d+)\))?", old)
    if vc:
        if new == "text":
            return False
        vn = re.fullmatch(r"character varying(?:\((\d+)\))?", new)
        if vn and (vn.group(1) is None or (vc.group(1) is not None and int(vn.group(1)) >= int(vc.group(1)))):
            return False
    num = re.fullmatch(r"numeric\((\d+),(\d+)\)", old)
    if num:
        if new == "numeric":
            return False
        nn = re.fullmatch(r"numeric\((\d+),(\d+)\)", new)
        if nn and nn.group(2) == num.group(2) and int(nn.group(1)) >= int(num.group(1)):
            return False
    return True


# ---------------------------------------------------------------- compare

class _Out:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.unmanaged: list[Change] = []
        self.unmet: list[Change] = []

    def add(self, change: Change, assumed: bool) -> None:
        """A difference in a managed object (fixable) or in an assumed one (an unmet assumption)."""
        (self.unmet if assumed else self.changes).append(change)

    def comment(self, key: tuple[str, ...], before: str | None, after: str | None) -> None:
        if before == after:
            return
        action = "add" if before is None else "drop" if after is None else "alter"
        self.changes.append(_change("comment", ("comment",) + key, action, before, after))


def compare(desired: m.Schema, actual: m.Schema, spec: m.Schema | None = None,
            unmodelled: Iterable[tuple[str, str, str]] = (), scope: "Scope | None" = None,
            sequences: dict[str, str] | None = None) -> Comparison:
    """Every difference between ``desired`` and ``actual``.

    With ``spec``, ownership (managed or assumed) comes from it (see ``annotate``); without,
    ``desired``'s own flags are used (a hand-built model in tests, or the spec model itself).
    ``unmodelled``: (kind, schema, name) of the database's objects the model cannot describe
    (views, sequences, types...); those in managed schemas are listed as unmanaged.
    ``scope``: with an already annotated ``desired`` (a cached one), the spec's scope; no ``spec`` then.
    ``sequences``: sequence -> owning table, for identity and serial columns (both sides merged):
    their ACLs are compared as part of their table's.
    """
    if scope is None:
        if spec is not None:
            desired = annotate(desired, spec)
        scope = Scope.of(spec if spec is not None else desired)
    out = _Out()
    _compare_roles(desired.roles, actual, out)
    _compare_namespaces(desired, actual, out)
    _compare_extensions(desired, actual, scope, out)
    _compare_types(desired, actual, scope, out)
    _compare_domains(desired, actual, scope, out)
    _compare_named(desired.sequences, actual.sequences, scope, out, lambda q: "sequence")
    enums = frozenset(t.qualified_name for t in actual.types)
    _compare_tables(desired, actual, scope, out, enums)
    _compare_functions(desired, actual, scope, out)
    _compare_views(desired, actual, scope, out)
    _compare_publications(desired, actual, scope, out)
    _compare_acls(desired, actual, scope, out, sequences or {})
    _compare_owners(desired, actual, {r.name for r in desired.roles}, out)
    for kind, schema, name in unmodelled:
        if schema in scope.managed_schemas:
            key = (kind, f"{schema}.{name}")
            reason = f"drops sequence {schema}.{name} and its current value" if kind == "sequence" else None
            out.unmanaged.append(_change(kind, key, "drop", kind, None, destructive=reason is not None, reason=reason))
    return Comparison(tuple(sorted(out.changes, key=Change.sort_key)),
                      tuple(sorted(out.unmanaged, key=Change.sort_key)),
                      tuple(sorted(out.unmet, key=Change.sort_key)))


def _compare_roles(declared: Iterable[m.Role], actual: m.Schema, out: _Out) -> None:
    roles = {r.name: r for r in actual.roles}
    for r in declared:
        a = roles.get(r.name)
        key = ("role", r.name)
        if a is None:
            out.add(_change("role", key, "add", None, r), r.assumed)
            continue
        detail = []
        if a.bypassrls != r.bypassrls:
            detail.append("bypassrls")
        if not set(r.member_of) <= set(a.member_of):
            detail.append("member_of")
        if detail:
            out.add(_change("role", key, "alter", a, r, detail), r.assumed)


def _compare_namespaces(desired: m.Schema, actual: m.Schema, out: _Out) -> None:
    have = {n.name: n for n in actual.namespaces}
    for n in desired.namespaces:
        key = ("schema", n.name)
        a = have.get(n.name)
        if a is None:
            out.add(_change("schema", key, "add", None, n), not managed(n))
        elif managed(n):
            out.comment(key, a.comment, n.comment)


def _compare_extensions(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    have = {e.name: e for e in actual.extensions}
    for e in desired.extensions:
        key = ("extension", e.name)
        a = have.pop(e.name, None)
        if a is None:
            out.add(_change("extension", key, "add", None, e), not managed(e))
        elif e.schema and a.schema != e.schema:
            out.add(_change("extension", key, "alter", a, e, ("schema",)), not managed(e))
    for a in have.values():
        if a.schema in scope.managed_schemas:
            out.unmanaged.append(_change("extension", ("extension", a.name), "drop", a, None))


_NESTED = (("column", "columns"), ("constraint", "constraints"), ("index", "indexes"), ("policy", "policies"),
           ("trigger", "triggers"))


def _compare_types(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    """Enum types: a managed one must have exactly the declared values in the declared order; an
    assumed one must have at least the declared values. Removing or reordering values means
    recreating the type, which rejects rows holding a removed value: destructive."""
    have = {t.qualified_name: t for t in actual.types}
    for t in desired.types:
        key = ("type", t.qualified_name)
        a = have.pop(t.qualified_name, None)
        if a is None:
            out.add(_change("type", key, "add", None, t), not managed(t))
            if managed(t) and t.comment is not None:
                out.comment(key, None, t.comment)
            continue
        own = managed(t)
        if own and a.values != t.values:
            extension = [v for v in t.values if v in a.values] == list(a.values)
            reason = None if extension else (f"recreates type {t.qualified_name} without "
                                             f"{', '.join(v for v in a.values if v not in t.values) or 'its old order'}; "
                                             "rows holding a removed value are rejected")
            out.changes.append(_change("type", key, "alter", a, t, ("values",), not extension, reason))
        elif not own and not set(t.values) <= set(a.values):
            merged = replace(t, values=a.values + tuple(v for v in t.values if v not in a.values))
            out.add(_change("type", key, "alter", a, merged, ("values",)), True)  # assumed: the platform's
        if own:
            out.comment(key, a.comment, t.comment)
    for a in have.values():
        if a.schema in scope.managed_schemas:
            out.unmanaged.append(_change("type", ("type", a.qualified_name), "drop", a, None))


def _compare_domains(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    """Domains: a managed one must match (base type, not null, default, checks) and its comment; an
    assumed one must exist."""
    def risk(d: m.Domain, detail) -> str | None:
        return (f"recreates domain {d.qualified_name} as {d.type}; values that do not convert are rejected"
                if "type" in detail else None)

    _compare_named(desired.domains, actual.domains, scope, out, lambda d: "domain", risk)


def _compare_views(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    """Views and materialized views: a managed one must match (query as PostgreSQL prints it, kind,
    options) and its comment; an assumed one must exist. A view that became materialized (or the
    reverse) is dropped and created."""
    _compare_named(desired.views, actual.views, scope, out, lambda v: v.kind)


def _compare_named(desired, actual, scope: Scope, out: _Out, kind_of, risk=None) -> None:
    """Top-level objects keyed by qualified name: missing (add, with its comment), different when managed
    (alter; destructive when ``risk`` gives a reason), comment; extras in managed schemas are unmanaged."""
    have = {o.qualified_name: o for o in actual}
    for o in desired:
        kind = kind_of(o)
        key = (kind, o.qualified_name)
        a = have.pop(o.qualified_name, None)
        if a is not None and kind_of(a) != kind:
            out.changes.append(_change(kind_of(a), (kind_of(a), a.qualified_name), "drop", a, None))
            a = None
        if a is None:
            out.add(_change(kind, key, "add", None, o), not managed(o))
            if managed(o) and o.comment is not None:
                out.comment(key, None, o.comment)
            continue
        if not managed(o):
            continue
        detail = differing_fields(o, a)
        if detail:
            reason = risk(o, detail) if risk else None
            out.changes.append(_change(kind, key, "alter", a, o, detail, reason is not None, reason))
        out.comment(key, a.comment, o.comment)
    for a in have.values():
        if a.schema in scope.managed_schemas:
            reason = (f"drops sequence {a.qualified_name} and its current value"
                      if kind_of(a) == "sequence" else None)
            out.unmanaged.append(_change(kind_of(a), (kind_of(a), a.qualified_name), "drop", a, None,
                                         destructive=reason is not None, reason=reason))


def _compare_publications(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    """The spec's publications must exist with the spec's tables in them. Extra tables are drift when
    they are tables a migration creates, or any table of a managed schema in a publication the spec
    creates; other members of an assumed publication are the platform's or other apps' business."""
    have = {p.name: p for p in actual.publications}
    own_tables = {t.qualified_name for t in desired.tables if managed(t)}
    for p in desired.publications:
        a = have.get(p.name)
        if a is None:
            out.add(_change("publication", ("publication", p.name), "add", None, p), not managed(p))
            continue
        for t in p.tables:
            if t not in a.tables:
                out.changes.append(_change("publication", ("publication", p.name, t), "add", None, t))
        for t in a.tables:
            if t not in p.tables and (t in own_tables or managed(p) and t.split(".", 1)[0] in scope.managed_schemas):
                out.changes.append(_change("publication", ("publication", p.name, t), "drop", t, None))


def _compare_tables(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out,
                    enums: frozenset[str] = frozenset()) -> None:
    have = {t.qualified_name: t for t in actual.tables}
    for t in desired.tables:
        a = have.pop(t.qualified_name, None)
        if a is None:
            out.add(_change("table", ("table", t.qualified_name), "add", None, t), not managed(t))
            continue
        _compare_table(t, a, scope, out, enums)
    for a in have.values():
        if a.schema in scope.managed_schemas:
            out.unmanaged.append(_change("table", ("table", a.qualified_name), "drop", a, None, destructive=True,
                                         reason=f"drops table {a.qualified_name} and all its rows"))


def _compare_table(t: m.Table, a: m.Table, scope: Scope, out: _Out, enums: frozenset[str] = frozenset()) -> None:
    name = t.qualified_name
    own = managed(t)
    if own and (t.rls_enabled, t.rls_forced) != (a.rls_enabled, a.rls_forced) or not own and (
            t.rls_enabled and not a.rls_enabled or t.rls_forced and not a.rls_forced):
        detail = [f for f, x, y in (("enabled", t.rls_enabled, a.rls_enabled), ("forced", t.rls_forced, a.rls_forced))
                  if x != y]
        after = t if own else replace(t, rls_enabled=t.rls_enabled or a.rls_enabled,
                                      rls_forced=t.rls_forced or a.rls_forced)
        out.add(_change("rls", ("rls", name), "alter", Rls(a.rls_enabled, a.rls_forced),
                        Rls(after.rls_enabled, after.rls_forced), detail), not own)
    if own:
        out.comment(("table", name), a.comment, t.comment)
    if own and t.partition_by != a.partition_by:
        out.changes.append(_change("table", ("table", name), "alter", a, t, ("partition_by",), True,
                                   f"recreates table {name} partitioned by {t.partition_by or 'nothing'}; "
                                   "its rows are lost"))
    if own:
        have_parts = {p.name: p for p in a.partitions}
        for p in t.partitions:
            x = have_parts.pop(p.name, None)
            if x is None or x.bound != p.bound:
                out.changes.append(_change("partition", ("partition", name, p.name), "add" if x is None else "alter",
                                           x, p, ("bound",) if x else ()))
        for x in have_parts.values():
            out.changes.append(_change("partition", ("partition", name, x.name), "drop", x, None, (), True,
                                       f"drops partition {x.name} and its rows"))
    if t.replica_identity != a.replica_identity and (own or t.replica_identity is not None):
        out.add(_change("replica identity", ("replica identity", name), "alter", a.replica_identity,
                        t.replica_identity, ("replica_identity",)), not own)
    for kind, attr in _NESTED:
        mine = {o.name: o for o in getattr(t, attr)}
        theirs = {o.name: o for o in getattr(a, attr)}
        if kind == "constraint":
            _match_assumed_constraints(t, mine, theirs)
        for oname, o in mine.items():
            key = (kind, name, oname)
            x = theirs.get(oname)
            if x is None:
                out.add(_change(kind, key, "add", None, o), not managed(o, t))
                if managed(o, t) and o.comment is not None:
                    out.comment(key, None, o.comment)
                continue
            detail = differing_fields(o, x, None if managed(o, t) else declared_fields(o))
            if detail:
                destructive, reason = False, None
                if kind == "column":
                    destructive, reason = _column_change_risk(name, o, x, detail, enums)
                out.add(_change(kind, key, "alter", x, o, detail, destructive, reason), not managed(o, t))
            if managed(o, t):
                out.comment(key, x.comment, o.comment)
        for oname, x in theirs.items():
            if oname in mine:
                continue
            key = (kind, name, oname)
            destructive = kind == "column"
            reason = f"drops column {name}.{oname} and its data" if destructive else None
            change = _change(kind, key, "drop", x, None, destructive=destructive, reason=reason)
            if own:
                out.changes.append(change)
            elif t.schema in scope.managed_schemas:
                out.unmanaged.append(change)


#: what an assumed object is compared on, whatever the spec wrote: a column's type, a constraint's shape
_ALWAYS_COMPARED = {m.Column: ("type",), m.Constraint: ("kind", "columns", "expression", "ref_table", "ref_columns")}


def declared_fields(o) -> tuple[str, ...] | None:
    """The fields compared on an assumed object: only what the spec declares (None: all of them).

    An assumed column is compared on its type and the attributes the spec writes down (an
    undeclared default on ``auth.users.id`` is the platform's business); an assumed constraint on
    its shape and the actions the spec writes down (``on_delete`` ...)."""
    declared = getattr(o, "declared", None)
    always = _ALWAYS_COMPARED.get(type(o))
    if declared is None or always is None:
        return None
    return always + tuple(declared)


def _shape(c: m.Constraint) -> tuple:
    return (c.kind, c.columns, c.expression, c.ref_table, c.ref_columns)


def _match_assumed_constraints(t: m.Table, mine: dict, theirs: dict) -> None:
    """An assumed constraint the database has under another name (every app names its own foreign keys):
    found by its shape, it is renamed in ``theirs`` to the spec's name, so it is neither missing nor extra."""
    for oname, o in mine.items():
        if oname in theirs or managed(o, t):
            continue
        match = next((x for x in theirs.values() if x.name not in mine and _shape(x) == _shape(o)), None)
        if match is not None:
            del theirs[match.name]
            theirs[oname] = replace(match, name=oname)


def _column_change_risk(table: str, want: m.Column, have: m.Column, detail: tuple[str, ...],
                        enums: frozenset[str] = frozenset()) -> tuple[bool, str | None]:
    if "generated" in detail and want.generated is not None and have.generated is None:
        return True, f"recreates column {table}.{want.name} as a generated column; its stored values are lost"
    enum_to_text = have.type in enums and want.type in ("text", "character varying")
    if "type" in detail and want.generated is None and not enum_to_text and type_change_loses_data(have.type, want.type):
        return True, (f"changes the type of {table}.{want.name} from {have.type} to {want.type}; "
                      "values may be lost or rejected")
    return False, None


def _compare_functions(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out) -> None:
    have = {f.signature: f for f in actual.functions}
    for f in desired.functions:
        key = ("function", f.signature)
        a = have.pop(f.signature, None)
        if a is None:
            out.add(_change("function", key, "add", None, f), not managed(f))
            continue
        own = managed(f)
        detail = differing_fields(f, a, None if own else ("returns",))
        if detail:
            out.add(_change("function", key, "alter", a, f, detail), not own)
        if own:
            out.comment(key, a.comment, f.comment)
    for a in have.values():
        if a.schema in scope.managed_schemas:
            out.unmanaged.append(_change("function", ("function", a.signature), "drop", a, None))


def _acl_map(schema: m.Schema) -> dict[tuple[str, str], dict[str, tuple[frozenset[str], frozenset[str]]]]:
    """(on, object) -> role -> (privileges, those held with grant option)."""
    acl: dict[tuple[str, str], dict[str, tuple[set[str], set[str]]]] = {}
    for g in schema.grants:
        if g.action != "grant":
            continue
        for role in g.roles:
            privs, options = acl.setdefault((g.on, g.object), {}).setdefault(role, (set(), set()))
            privs.update(g.privileges)
            options.update(g.grant_option)
    return {k: {r: (frozenset(p), frozenset(o)) for r, (p, o) in v.items()} for k, v in acl.items()}


def _compare_acls(desired: m.Schema, actual: m.Schema, scope: Scope, out: _Out, sequences: dict[str, str]) -> None:
    want, have = _acl_map(desired), _acl_map(actual)
    targets: list[tuple[str, str, str, bool]] = []  # (on, object, scope name, managed)
    owned: dict[str, list[str]] = {}
    for seq, table in sorted(sequences.items()):
        owned.setdefault(table, []).append(seq)
    for t in desired.tables:
        targets.append(("table", t.qualified_name, t.qualified_name, managed(t)))
        if managed(t):
            targets += [("column", f"{t.qualified_name}.{c.name}", "", True) for c in t.columns]
        targets += [("sequence", seq, seq, managed(t)) for seq in owned.get(t.qualified_name, ())]
    standalone = {q.qualified_name for q in desired.sequences}
    targets += [("sequence", q.qualified_name, q.qualified_name, managed(q)) for q in desired.sequences]
    for on, name in sorted(scope.acl_roles):
        if on == "sequence" and name not in sequences and name not in standalone and (
                ("sequence", name) in want or ("sequence", name) in have):
            targets.append(("sequence", name, name, False))
    for f in desired.functions:
        targets.append(("function", f.signature, f.qualified_name, managed(f)))
    view_columns: dict[str, list[str]] = {}  # a view's columns are its query's: those either side grants on
    for on, obj in sorted(set(want) | set(have)):
        if on == "column":
            view_columns.setdefault(obj.rsplit(".", 1)[0], []).append(obj)
    for v in desired.views:
        targets.append(("table", v.qualified_name, v.qualified_name, managed(v)))
        if managed(v):
            targets += [("column", obj, "", True) for obj in view_columns.get(v.qualified_name, ())]
    for n in desired.namespaces:
        targets.append(("schema", n.name, n.name, managed(n)))
    for on, obj, scope_name, own in targets:
        w, h = want.get((on, obj), {}), have.get((on, obj), {})
        roles = set(w) | set(h) if own else scope.acl_roles.get((on, scope_name), frozenset())
        none = (frozenset(), frozenset())
        for role in sorted(roles):
            (wp, wo), (hp, ho) = w.get(role, none), h.get(role, none)
            if (wp, wo) == (hp, ho):
                continue
            action = "add" if not hp else "drop" if not wp else "alter"
            before = m.Grant(on=on, object=obj, privileges=tuple(sorted(hp)), roles=(role,),
                             grant_option=tuple(sorted(ho))) if hp else None
            after = m.Grant(on=on, object=obj, privileges=tuple(sorted(wp)), roles=(role,),
                            grant_option=tuple(sorted(wo))) if wp else None
            detail = ("privileges", "grant_option") if wo != ho else ("privileges",)
            # on an assumed object, only what a migration grants or revokes is the spec's to fix
            assumed = not own and (on, scope_name, role) not in scope.managed_grants
            out.add(_change("grant", ("grant", on, obj, role), action, before, after, detail), assumed)


def _compare_owners(desired: m.Schema, actual: m.Schema, api_roles: set[str], out: _Out) -> None:
    """A table or function owned by one of the spec's (API) roles: the owner bypasses RLS and holds
    every privilege, whatever the ACL says. Other owners are the deployer's business (they
    differ between servers and are not compared)."""
    tables = {t.qualified_name: t for t in actual.tables}
    functions = {f.signature: f for f in actual.functions}
    pairs = [("table", t.qualified_name, t, tables.get(t.qualified_name)) for t in desired.tables]
    pairs += [("function", f.signature, f, functions.get(f.signature)) for f in desired.functions]
    for on, name, want, have in pairs:
        if have is not None and have.owner in api_roles and have.owner != want.owner:
            out.add(_change("owner", ("owner", on, name), "alter", have.owner, want.owner, ("owner",)), not managed(want))
