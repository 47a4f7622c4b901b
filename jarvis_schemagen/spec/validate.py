"""Cross-object checks on a loaded spec: references resolve, and nothing depends on a later migration."""
from __future__ import annotations

import json
import re
from collections import Counter

from .. import model as m
from .. import platform
from ..sqltext import uses_value
from .problems import Problem, did_you_mean

BUILTIN_SCHEMAS = {"public", "pg_catalog"}
BUILTIN_ROLES = {"public"}
# the tool's own schema (the ledger of `apply`): a spec declaring anything there could grant
# roles access to the ledger or change it
RESERVED_SCHEMAS = {"schemagen"}


def _order(schema: m.Schema) -> dict[str, int]:
    """Migration id -> position; assumed objects come first (0)."""
    order = {m.ASSUMED: 0}
    for i, mig in enumerate(schema.migrations, start=1):
        order[mig.id] = i
    return order


def warnings(schema: m.Schema) -> list[Problem]:
    """Valid PostgreSQL that is risky: described as it is, with the risk and the fix named."""
    out = []
    for f in schema.functions:
        if f.security_definer and "search_path" not in dict(f.config):
            out.append(Problem(f.pos, (
                f"function {f.qualified_name} is SECURITY DEFINER without a pinned search_path: it runs with its "
                "owner's rights and resolves unqualified names through the caller's search_path, so a caller who "
                "can create objects in a schema on that path can make it run their code; add "
                "`set: {search_path: \"\"}` and qualify every name in the body")))
    return out


def validate(schema: m.Schema) -> list[Problem]:
    problems: list[Problem] = []
    order = _order(schema)

    def err(obj, message: str) -> None:
        problems.append(Problem(getattr(obj, "pos", None), message))

    def when(obj, table=None) -> int:
        return order.get(m.effective_migration(obj, table), 0)

    def label(obj, table=None) -> str:
        mig = m.effective_migration(obj, table)
        return "assumed" if mig == m.ASSUMED else f"migration {mig}"

    namespaces = {n.name: n for n in schema.namespaces}
    roles = {r.name for r in schema.roles} | BUILTIN_ROLES
    tables = {t.qualified_name: t for t in schema.tables}
    # by name (for triggers, which call a function without arguments: that overload wins), and by signature
    functions = {f.qualified_name: f for f in sorted(schema.functions, key=lambda f: -len(f.arguments))}
    by_signature = {f.signature: f for f in schema.functions}

    def check_schema(obj, schema_name: str, what: str, table=None) -> None:
        ns = namespaces.get(schema_name)
        if ns is None:
            if schema_name not in BUILTIN_SCHEMAS:
                err(obj, f"{what} is in schema '{schema_name}', which the spec does not declare under `schemas:`"
                         f"{did_you_mean(schema_name, namespaces)}")
        elif when(ns) > when(obj, table):
            err(obj, f"{what} ({label(obj, table)}) is in schema '{schema_name}', created later ({label(ns)})")

    def check_roles(obj, names, what: str) -> None:
        for r in names:
            if r not in roles:
                err(obj, f"{what} names unknown role '{r}'{did_you_mean(r, roles)}; declare it under `roles:`")

    # relation names share one namespace per schema (tables, indexes, constraint indexes)
    relnames: dict[tuple[str, str], tuple[str, object]] = {}

    def claim(obj, schema_name: str, name: str, what: str) -> None:
        other = relnames.get((schema_name, name))
        if other is not None:
            err(obj, f"{what} '{name}' clashes with {other[0]} of the same name in schema {schema_name}")
        else:
            relnames[(schema_name, name)] = (what, obj)

    for t in schema.tables:
        claim(t, t.schema, t.name, "table")
    for v in schema.views:
        claim(v, v.schema, v.name, v.kind)
    types = {ty.qualified_name: ty for ty in schema.types + schema.domains}

    def check_type(obj, type_text: str, what: str, table=None) -> None:
        """A column or argument of one of the spec's own types: the type must exist by then."""
        base = type_text[6:] if type_text.startswith("setof ") else type_text
        ty = types.get(base.rstrip("[]"))
        if ty is not None and when(ty) > when(obj, table):
            err(obj, f"{what} ({label(obj, table)}) has type {ty.qualified_name}, created later ({label(ty)})")

    for ty in schema.types + schema.domains:
        check_schema(ty, ty.schema, f"type {ty.qualified_name}")
    for d in schema.domains:
        check_type(d, d.type, f"domain {d.qualified_name}")
    views_seen: dict[str, m.View] = {}
    for v in schema.views:
        check_schema(v, v.schema, f"{v.kind} {v.qualified_name}")
        views_seen[v.qualified_name] = v
    for t in schema.tables:
        tq = t.qualified_name
        check_schema(t, t.schema, f"table {tq}", None)
        cols = {c.name: c for c in t.columns}
        if not t.columns and not (t.assumed and platform.known(tq)):
            err(t, f"table {tq} has no columns")
        for c in t.columns:
            if when(c, t) < when(t):
                err(c, f"column {tq}.{c.name} ({label(c, t)}) is added before its table exists ({label(t)})")
            check_type(c, c.type, f"column {tq}.{c.name}", t)
        pks = [c for c in t.constraints if c.kind == "primary_key"]
        if len(pks) > 1:
            err(pks[1], f"table {tq} has more than one primary key")
        names = Counter(c.name for c in t.constraints)
        for c in t.constraints:
            if names[c.name] > 1:
                err(c, f"constraint name '{c.name}' is used twice on {tq}")
                names[c.name] = 0
            if when(c, t) < when(t):
                err(c, f"constraint {c.name} ({label(c, t)}) is added before its table exists ({label(t)})")
            for col in c.columns:
                if col not in cols:
                    err(c, f"constraint {c.name} names unknown column {tq}.{col}{did_you_mean(col, cols)}")
                elif when(cols[col], t) > when(c, t) >= when(t):
                    err(c, f"constraint {c.name} ({label(c, t)}) uses column {col}, added later ({label(cols[col], t)})")
            if c.kind in ("primary_key", "unique", "exclude"):
                claim(c, t.schema, c.name, "index of constraint")
            if c.kind == "foreign_key":
                ref = tables.get(c.ref_table or "")
                if ref is None:
                    err(c, f"foreign key {c.name} references unknown table {c.ref_table}{did_you_mean(c.ref_table or '', tables)}")
                    continue
                if when(ref) > when(c, t):
                    err(c, f"foreign key {c.name} ({label(c, t)}) references {ref.qualified_name}, "
                           f"which is created in a later migration ({label(ref)})")
                ref_cols = c.ref_columns
                if not ref_cols:
                    pk = ref.primary_key
                    if pk is None:
                        err(c, f"foreign key {c.name}: {ref.qualified_name} has no primary key; name the referenced column")
                        continue
                    ref_cols = pk.columns
                rcols = {x.name: x for x in ref.columns}
                missing = [x for x in ref_cols if x not in rcols]
                for x in missing:
                    err(c, f"foreign key {c.name} references unknown column {ref.qualified_name}.{x}{did_you_mean(x, rcols)}")
                if missing:
                    continue
                if len(ref_cols) != len(c.columns):
                    err(c, f"foreign key {c.name} has {len(c.columns)} column(s) but references {len(ref_cols)}")
                    continue
                if not any(k.kind in ("primary_key", "unique") and set(k.columns) == set(ref_cols) for k in ref.constraints):
                    err(c, f"foreign key {c.name}: {ref.qualified_name}({', '.join(ref_cols)}) is not a primary key or unique")
                for mine, theirs in zip(c.columns, ref_cols):
                    if mine in cols and cols[mine].type != rcols[theirs].type:
                        err(c, f"foreign key {c.name}: {tq}.{mine} is {cols[mine].type} but "
                               f"{ref.qualified_name}.{theirs} is {rcols[theirs].type}")
                    if c.on_delete == "set null" and mine in cols and not cols[mine].nullable:
                        err(c, f"foreign key {c.name} is ON DELETE SET NULL but {tq}.{mine} is not nullable")
        for i in t.indexes:
            claim(i, t.schema, i.name, "index")
            if when(i, t) < when(t):
                err(i, f"index {i.name} ({label(i, t)}) is created before its table exists ({label(t)})")
            for k in i.keys:
                if k.is_column:
                    if k.expression not in cols:
                        err(i, f"index {i.name} names unknown column {tq}.{k.expression}{did_you_mean(k.expression, cols)}")
                    elif when(cols[k.expression], t) > when(i, t) >= when(t):
                        err(i, f"index {i.name} ({label(i, t)}) uses column {k.expression}, added later")
            for col in i.include:
                if col not in cols:
                    err(i, f"index {i.name} includes unknown column {tq}.{col}{did_you_mean(col, cols)}")
        for part in t.partitions:
            pschema, _, pname = part.name.partition(".")
            claim(part, pschema, pname, "partition")
            check_schema(part, pschema, f"partition {part.name}", t)
            if when(part, t) < when(t):
                err(part, f"partition {part.name} ({label(part, t)}) is created before its table exists ({label(t)})")
        if t.replica_identity and t.replica_identity.startswith("index "):
            index = t.replica_identity[6:]
            keys = {i.name for i in t.indexes if i.unique and not i.where} | \
                {c.name for c in t.constraints if c.kind in ("primary_key", "unique")}
            if index not in keys:
                err(t, f"table {tq}: replica identity index {index} must be a unique, non-partial index or a primary "
                       f"key/unique constraint of the table{did_you_mean(index, keys)}")
        if t.policies and not t.rls_enabled:
            err(t.policies[0], f"table {tq} has policies but row level security is not enabled (add `rls: true`): "
                               "without it the policies do nothing")
        for p in t.policies:
            if when(p, t) < when(t):
                err(p, f"policy '{p.name}' ({label(p, t)}) is created before its table exists ({label(t)})")
            check_roles(p, p.roles, f"policy '{p.name}'")
        for tr in t.triggers:
            if when(tr, t) < when(t):
                err(tr, f"trigger {tr.name} ({label(tr, t)}) is created before its table exists ({label(t)})")
            fn = functions.get(tr.function)
            if fn is None and not tr.function.startswith("pg_catalog."):  # built-in: tsvector_update_trigger, ...
                err(tr, f"trigger {tr.name} calls unknown function {tr.function}{did_you_mean(tr.function, functions)}")
                continue
            if fn is not None and fn.returns != "trigger":
                err(tr, f"trigger {tr.name} calls {fn.qualified_name}, which returns {fn.returns}, not trigger")
            if fn is not None and when(fn) > when(tr, t):
                err(tr, f"trigger {tr.name} ({label(tr, t)}) calls {fn.qualified_name}, created later ({label(fn)})")
            for col in tr.update_columns:
                if col not in cols:
                    err(tr, f"trigger {tr.name} names unknown column {tq}.{col}{did_you_mean(col, cols)}")
            if tr.update_columns and "update" not in tr.events:
                err(tr, f"trigger {tr.name}: `columns` only applies to update triggers")

    _fk_cycles(schema, err)
    problems.extend(enum_value_problems(schema))

    def reserved(obj, schema_name: str, what: str) -> None:
        if schema_name in RESERVED_SCHEMAS:
            err(obj, f"{what} is in schema '{schema_name}', which is reserved for schemagen's own ledger")

    for n in schema.namespaces:
        reserved(n, n.name, f"schema {n.name}")
    for t in schema.tables:
        reserved(t, t.schema, f"table {t.qualified_name}")
    for f in schema.functions:
        reserved(f, f.schema, f"function {f.qualified_name}")
    for g in schema.grants:
        reserved(g, g.object if g.on == "schema" else g.object.split(".", 1)[0], f"a {g.action} on {g.on} {g.object}")
    for e in schema.extensions:
        if e.schema:
            reserved(e, e.schema, f"extension {e.name}")

    sigs = Counter(f.signature for f in schema.functions)
    for f in schema.functions:
        check_schema(f, f.schema, f"function {f.qualified_name}")
        if sigs[f.signature] > 1:
            err(f, f"function {f.signature} is declared twice")
            sigs[f.signature] = 0
        check_type(f, f.returns, f"function {f.qualified_name}'s result")
        for a in f.arguments:
            check_type(f, a.type, f"function {f.qualified_name}'s argument {a.name or a.type}")
        if f.returns == "trigger" and f.arguments:
            err(f, f"trigger function {f.qualified_name} cannot declare arguments")
        if not f.body.strip():
            err(f, f"function {f.qualified_name} has an empty body")
        seen_default = False
        for a in f.arguments:
            if a.default is not None:
                seen_default = True
            elif seen_default and a.mode in ("in", "inout"):
                err(f, f"function {f.qualified_name}: argument {a.name or a.type} follows an argument with a default, "
                       "so it needs a default too")

    sequences = {f"{t.schema}.{t.name}_{c.name}_seq": (t, c) for t in schema.tables for c in t.columns
                 if c.identity or c.serial}
    standalone = {q.qualified_name: q for q in schema.sequences}
    for q in schema.sequences:
        check_schema(q, q.schema, f"sequence {q.qualified_name}")
        claim(q, q.schema, q.name, "sequence")
    for g in schema.grants:
        check_roles(g, g.roles, f"a {g.action} on {g.on} {g.object}")
        if g.on == "sequence" and g.object in standalone:
            if when(g) < when(standalone[g.object]):
                err(g, f"a {g.action} on {g.object} ({label(g)}) comes before the sequence exists")
        elif g.on == "sequence":
            owner = sequences.get(g.object)
            if owner is None:
                err(g, f"unknown sequence {g.object}: declare it under `sequences:`, or name the sequence of an "
                       f"identity or serial column (<table>_<column>_seq){did_you_mean(g.object, set(sequences) | set(standalone))}")
            elif when(g) < when(owner[1], owner[0]):
                err(g, f"a {g.action} on {g.object} ({label(g)}) comes before its identity column exists")
        if g.on == "column":
            tname, _, col = g.object.rpartition(".")
            owner_table = tables.get(tname)
            if owner_table is not None and owner_table.column(col) is None:
                err(g, f"a {g.action} names unknown column {g.object}"
                       f"{did_you_mean(col, [c.name for c in owner_table.columns])}")
        relation = tables.get(g.object) or views_seen.get(g.object)
        if g.on == "table" and relation is None and g.pos is not None and g.object.count(".") == 1:
            err(g, f"a {g.action} names unknown table {g.object}{did_you_mean(g.object, set(tables) | set(views_seen))}")
        if g.on == "table" and relation is not None and when(g) < when(relation):
            err(g, f"a {g.action} on {g.object} ({label(g)}) comes before it exists")
        if g.on == "function":
            name = g.object.split("(")[0]
            fn = by_signature.get(g.object) or functions.get(name)
            if fn is not None and when(g) < when(fn):
                err(g, f"a {g.action} on {g.object} ({label(g)}) comes before the function exists")
    for d in schema.default_privileges:
        check_roles(d, d.roles, "a default privilege")
    for r in schema.roles:
        check_roles(r, r.member_of, f"role {r.name}")
    for e in schema.extensions:
        if e.schema:
            check_schema(e, e.schema, f"extension {e.name}")
    return problems


def _fk_cycles(schema: m.Schema, err) -> None:
    """Foreign keys forming a cycle between tables one migration creates: the file creates each table
    with its keys, so one of them would reference a table that does not exist yet (render refuses too)."""
    tables = {t.qualified_name: t for t in schema.tables}
    edges: dict[str, list[tuple[str, m.Constraint]]] = {}
    for t in schema.tables:
        mig = m.effective_migration(t)
        for c in t.constraints:
            ref = tables.get(c.ref_table or "")
            if (c.kind == "foreign_key" and ref is not None and ref is not t and m.effective_migration(c, t) == mig
                    and m.effective_migration(ref) == mig):
                edges.setdefault(t.qualified_name, []).append((ref.qualified_name, c))
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        path.append(name)
        for ref, c in edges.get(name, ()):
            if ref in path:
                cycle = path[path.index(ref):] + [ref]
                mig = m.effective_migration(tables[name])
                where = "the assumed objects" if mig == m.ASSUMED else f"migration {mig}"
                err(c, f"foreign keys form a cycle between tables created in {where} ({' -> '.join(cycle)}); "
                       "declare one of the keys under `constraints:` with a later `migration:`")
            elif ref not in done:
                visit(ref)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)


def yaml_scalar(text: str) -> str:
    """``text`` as a YAML flow scalar for a message: plain when it reads back as the same string."""
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) and text.lower() not in _YAML_WORDS \
        else json.dumps(text, ensure_ascii=False)


_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _mentions_any(text: str | None, names: set[str]) -> bool:
    return bool(text) and any(re.search(r'(?<![\w$])"?' + re.escape(n) + r'"?(?![\w$])', text) for n in names)


def enum_value_problems(schema: m.Schema) -> list[Problem]:
    """Objects that use an enum value in the migration that adds it (``{value: x, migration: "006"}``
    used by an object of 006): PostgreSQL refuses a new value in the transaction that added it
    ("unsafe use of new value"), and apply runs each file in one transaction. Released migrations
    too: the shadow database of ``diff`` applies every migration of the spec file by file.

    A use is the value as a string constant (see ``sqltext.uses_value``): cast to the type
    (``'x'::mood``) in any expression, function argument default, SQL-language function body, view
    query or data statement of the migration; or bare (``'x'``) in a column default or seed row of
    a column of the type, a domain over it, an argument of the type, or an expression that names a
    column of the type (its own table's for table objects, any table's for views, bodies and data).
    """
    added: dict[str, list[tuple[m.EnumType, str]]] = {}
    for ty in schema.types:
        for value, mig in ty.value_migrations:
            added.setdefault(mig, []).append((ty, value))
    if not added:
        return []
    problems: list[Problem] = []

    def names(ty: m.EnumType) -> set[str]:
        return {ty.qualified_name} | ({ty.name} if ty.schema == "public" else set())

    def of_type(type_text: str, ty: m.EnumType) -> bool:
        return type_text.rstrip("[]") in names(ty)

    def check(obj, table, what: str, text: str | None, bare) -> None:
        """``bare``: (type) -> whether a constant without a cast counts in ``text``."""
        mig = m.effective_migration(obj, table)
        for ty, value in added.get(mig, ()):
            if text and uses_value(text, value, names(ty), bare(ty)):
                problems.append(Problem(getattr(obj, "pos", None) or getattr(table, "pos", None), (
                    f"{what} (migration {mig}) uses enum value '{value}' of {ty.qualified_name}, which the same "
                    f"migration adds (the type is declared at {ty.pos or 'the spec'}): PostgreSQL cannot use a "
                    "new enum value in the transaction that adds it (\"unsafe use of new value\") and apply runs "
                    "each migration in one transaction. Add the value in an earlier migration of its own "
                    f"(`{{value: {yaml_scalar(value)}, migration: \"<id>\"}}`, with a migration before {mig} that only adds "
                    "it), or move this use to a later migration")))

    columns = {ty.qualified_name: {t.qualified_name: {c.name for c in t.columns if of_type(c.type, ty)}
                                   for t in schema.tables} for ty in schema.types}
    anywhere = {q: set().union(*by_table.values()) for q, by_table in columns.items()}

    def naming(text: str | None, table: m.Table | None = None):
        """Bare constants count in ``text`` when it names a column of the type."""
        return lambda ty: _mentions_any(text, columns[ty.qualified_name].get(table.qualified_name, set())
                                        if table is not None else anywhere[ty.qualified_name])

    for t in schema.tables:
        tq = t.qualified_name
        for c in t.columns:
            check(c, t, f"the default of column {tq}.{c.name}", c.default, lambda ty, c=c: of_type(c.type, ty))
            check(c, t, f"the generated column {tq}.{c.name}", c.generated, naming(c.generated, t))
        for k in t.constraints:
            check(k, t, f"constraint {k.name} on {tq}", k.expression, naming(k.expression, t))
        for i in t.indexes:
            for text in [k.expression for k in i.keys if not k.is_column] + [i.where]:
                check(i, t, f"index {i.name} on {tq}", text, naming(text, t))
        for p in t.policies:
            for text in (p.using, p.with_check):
                check(p, t, f"policy '{p.name}' on {tq}", text, naming(text, t))
        for tr in t.triggers:
            check(tr, t, f"the when condition of trigger {tr.name} on {tq}", tr.when, naming(tr.when, t))
        for part in t.partitions:
            check(part, t, f"partition {part.name} of {tq}", part.bound, naming(t.partition_by, t))
        if t.seed:
            seeded = m.Table(t.schema, t.name, migration=t.seed_migration or m.effective_migration(t), pos=t.pos)
            for row in t.seed:
                for col, v in row:
                    cdef = t.column(col)
                    if v is not None and cdef is not None:
                        check(seeded, None, f"a seed row of {tq} (column {col})", "'" + v.replace("'", "''") + "'",
                              lambda ty, cdef=cdef: of_type(cdef.type, ty))
    for f in schema.functions:
        for a in f.arguments:
            check(f, None, f"the default of argument {a.name or a.type} of function {f.qualified_name}", a.default,
                  lambda ty, a=a: of_type(a.type, ty))
        if f.language == "sql":  # parsed when created (check_function_bodies); PL/pgSQL bodies only when run
            check(f, None, f"the body of function {f.qualified_name}", f.body, naming(f.body))
    for v in schema.views:
        check(v, None, f"{v.kind} {v.qualified_name}", v.query, naming(v.query))
    for d in schema.domains:
        for text in [d.default] + [e for _, e in d.checks]:
            check(d, None, f"domain {d.qualified_name}", text, lambda ty, d=d: of_type(d.type, ty))
    for s in schema.data:
        check(s, None, f"data statement {s.name}", s.sql, naming(s.sql))
    return problems
