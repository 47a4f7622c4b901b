"""Database -> model: read a live PostgreSQL catalog into the same ``model.Schema`` the spec loader builds.

One query per object kind (``*.sql`` next to this file), each for all inspected schemas at
once, filtered by ``= any(%(schemas)s)``; never one query per table. PostgreSQL prints every
type and expression itself (``format_type``, ``pg_get_expr``, ``pg_get_indexdef``), with an
empty ``search_path`` so that names outside ``pg_catalog`` always come out schema-qualified and
the text does not depend on the session. All queries run in one read-only repeatable-read
transaction, so the model is one consistent snapshot.

What is left out: system schemas, the ledger schema ``schemagen``, extension-owned objects
(``pg_depend.deptype = 'e'``), internal triggers (those behind foreign keys), indexes that
back a primary key, unique or exclusion constraint (they are the constraint), and the
owner's own privileges in ACLs (they follow ownership, which differs between servers).
Introspected objects carry no ownership (``migration``/``assumed``): that lives in the spec.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg import pq

from .. import model as m

SQL_DIR = Path(__file__).resolve().parent
KINDS = ("namespaces", "extensions", "roles", "relations", "columns", "constraints", "indexes",
         "policies", "triggers", "functions", "grants", "comments", "types", "views", "publications", "domains",
         "standalone_sequences", "partitions")

#: Schemas never inspected: PostgreSQL's own and the migrations ledgers (ours, the Supabase CLI's).
LEDGER_SCHEMA = "schemagen"
SUPABASE_LEDGER_SCHEMA = "supabase_migrations"
EXCLUDED_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast", LEDGER_SCHEMA, SUPABASE_LEDGER_SCHEMA})

_ON_ACTION = {"a": None, "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
_CONTYPE = {"p": "primary_key", "u": "unique", "f": "foreign_key", "c": "check", "x": "exclude"}
_ARGMODE = {"i": "in", "o": "out", "b": "inout", "v": "variadic", "t": "table"}
# tgtype bits (src/include/catalog/pg_trigger.h)
_TG_ROW, _TG_BEFORE, _TG_INSERT, _TG_DELETE, _TG_UPDATE, _TG_TRUNCATE, _TG_INSTEAD = 1, 2, 4, 8, 16, 32, 64


@lru_cache(maxsize=None)
def query(kind: str) -> str:
    """The catalog query of one object kind."""
    return (SQL_DIR / f"{kind}.sql").read_text(encoding="utf-8")


def queries_fingerprint() -> str:
    """All catalog queries, concatenated: part of the shadow cache key."""
    return "\n".join(query(k) for k in KINDS + ("others", "sequences"))


def is_inspectable(schema: str) -> bool:
    return schema not in EXCLUDED_SCHEMAS and not schema.startswith(("pg_temp_", "pg_toast_temp_"))


def inspect(conn: psycopg.Connection, schemas: list[str] | tuple[str, ...]) -> m.Schema:
    """The schema objects found in ``schemas`` (plus all non-system roles), as one model.

    ``conn`` may be in autocommit mode or idle; the catalog is read in one read-only,
    repeatable-read transaction. The session's ``search_path`` is left as it was.
    """
    with _snapshot(conn, schemas) as run:
        rows = {kind: run(query(kind)) for kind in KINDS}
    return build(rows)


def inspect_unmodelled(conn: psycopg.Connection, schemas: list[str] | tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(kind, schema, name) of objects the model cannot describe: views, materialized views,
    free-standing sequences, foreign tables, types and domains."""
    return inspect_extras(conn, schemas)[0]


def inspect_extras(conn: psycopg.Connection, schemas: list[str] | tuple[str, ...]
                   ) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """What the model has no place for: the unmodelled objects (see ``inspect_unmodelled``) and
    the owning table of each column-owned sequence (``{"public.t_id_seq": "public.t"}``)."""
    with _snapshot(conn, schemas) as run:
        return [tuple(r) for r in run(query("others"))], dict(run(query("sequences")))


def read_rows(conn: psycopg.Connection, schemas: list[str] | tuple[str, ...], kinds) -> dict[str, list[tuple]]:
    """The rows of the named catalog queries (``<kind>.sql`` here), all in one snapshot."""
    with _snapshot(conn, schemas) as run:
        return {kind: run(query(kind)) for kind in kinds}


@contextmanager
def _snapshot(conn: psycopg.Connection, schemas):
    names = sorted({s for s in schemas if is_inspectable(s)})
    idle = conn.info.transaction_status == pq.TransactionStatus.IDLE
    with conn.transaction():
        if idle:
            conn.execute("set transaction isolation level repeatable read, read only")
        # an empty search_path: names outside pg_catalog print qualified; no JIT for catalog queries
        old = conn.execute("select pg_catalog.current_setting('search_path'), pg_catalog.current_setting('jit'),"
                           " pg_catalog.set_config('search_path', '', true), pg_catalog.set_config('jit', 'off', true)"
                           ).fetchone()
        yield lambda sql: conn.execute(sql, {"schemas": names}).fetchall()
        if not idle:  # inside the caller's transaction: put its settings back
            conn.execute("select pg_catalog.set_config('search_path', %s, true), pg_catalog.set_config('jit', %s, true)",
                         (old[0], old[1]))


# ---------------------------------------------------------------- rows -> model

def _config(entries: list[str] | None) -> tuple[tuple[str, str], ...]:
    out = []
    for entry in entries or ():
        key, _, value = entry.partition("=")
        if key == "search_path":  # stored as the SET text: `""`, `"$user", public`
            value = ", ".join(p.strip().strip('"') for p in value.split(",") if p.strip().strip('"'))
        out.append((key, value))
    return tuple(sorted(out))


def _returns(text: str | None) -> str:
    text = text or "void"
    return "setof " + text[6:] if text.startswith("SETOF ") else text


def _trigger_events(tgtype: int) -> tuple[str, ...]:
    bits = (("insert", _TG_INSERT), ("update", _TG_UPDATE), ("delete", _TG_DELETE), ("truncate", _TG_TRUNCATE))
    return tuple(name for name, bit in bits if tgtype & bit)


def _trigger_timing(tgtype: int) -> str:
    if tgtype & _TG_INSTEAD:
        return "instead of"
    return "before" if tgtype & _TG_BEFORE else "after"


def _index_keys(nkeys: int, exprs: list[str | None] | None, attnames: list[str | None], options: list[int],
                opclasses: list[str | None] | None) -> tuple[m.IndexKey, ...]:
    keys = []
    for k in range(nkeys):
        opt = options[k] or 0
        desc, nulls_first = bool(opt & 1), bool(opt & 2)
        nulls = "last" if desc and not nulls_first else "first" if nulls_first and not desc else None
        column = attnames[k]
        keys.append(m.IndexKey(expression=column if column is not None else exprs[k], descending=desc, nulls=nulls,
                               is_column=column is not None, opclass=opclasses[k] if opclasses else None))
    return tuple(keys)


_TRUE_WORDS = {"true", "on", "yes", "1", "t", "y"}


def _view_option(options: list[str], name: str) -> bool:
    for entry in options or ():
        key, _, value = entry.partition("=")
        if key == name:
            return value.lower() in _TRUE_WORDS
    return False


def view_query(text: str | None) -> str:
    """``pg_get_viewdef`` text without its leading blank and trailing semicolon."""
    return (text or "").strip().rstrip(";").rstrip()


def build(rows: dict[str, list[tuple]]) -> m.Schema:
    """Assemble the model from the rows of every kind's query (in ``KINDS``)."""
    comments: dict[tuple, str] = {}
    for kind, schema, parent, name, text in rows["comments"]:
        comments[(kind, schema, parent, name)] = text

    tables: dict[int, dict] = {}
    for oid, schema, name, rls_enabled, rls_forced, owner, replica_identity, partition_by in rows["relations"]:
        tables[oid] = dict(schema=schema, name=name, rls_enabled=rls_enabled, rls_forced=rls_forced, owner=owner,
                           replica_identity=replica_identity, partition_by=partition_by,
                           columns=[], constraints=[], indexes=[], policies=[], triggers=[], partitions=[])
    for oid, name, bound in rows.get("partitions", ()):
        if oid in tables:
            tables[oid]["partitions"].append(m.Partition(name=name, bound=bound))

    def nested(oid: int, kind: str, obj) -> None:
        t = tables.get(oid)
        if t is not None:  # a table left out (extension-owned) takes its objects with it
            t[kind].append(obj)

    def note(kind: str, oid: int, name: str) -> str | None:
        t = tables.get(oid)
        return comments.get((kind, t["schema"], t["name"], name)) if t else None

    attname: dict[tuple[int, int], str] = {}

    def names(oid: int, attnums) -> tuple:
        return tuple(attname.get((oid, n)) for n in attnums or ())

    for oid, name, attnum, type_, nullable, default, identity, generated, collation, owns in rows["columns"]:
        attname[(oid, attnum)] = name
        nested(oid, "columns", m.Column(name=name, type=type_, nullable=nullable, default=default, identity=identity,
                                        generated=generated, comment=note("column", oid, name), collation=collation,
                                        serial=bool(owns) and (default or "").startswith("nextval(")))
    for (oid, name, contype, conkey, expression, ref_table, ref_oid, confkey, ref_names, on_delete, on_update,
         deferrable) in rows["constraints"]:
        fk = contype == "f"
        ref_columns = (tuple(ref_names) if ref_names is not None else names(ref_oid, confkey)) if fk else ()
        nested(oid, "constraints", m.Constraint(
            name=name, kind=_CONTYPE[contype], columns=names(oid, conkey) if contype != "c" else (),
            expression=expression, ref_table=ref_table if fk else None, ref_columns=ref_columns,
            on_delete=_ON_ACTION.get(on_delete) if fk else None, on_update=_ON_ACTION.get(on_update) if fk else None,
            deferrable=deferrable, comment=note("constraint", oid, name)))
    for oid, name, method, unique, nkeys, attnums, exprs, options, opclasses, where in rows["indexes"]:
        attnames = [attname.get((oid, n)) if n else None for n in attnums]
        nested(oid, "indexes", m.Index(
            name=name, keys=_index_keys(nkeys, exprs, attnames, options, opclasses), unique=unique, method=method,
            where=where, include=tuple(a for a in attnames[nkeys:] if a is not None), comment=note("index", oid, name)))
    for oid, name, command, roles, permissive, using, with_check in rows["policies"]:
        nested(oid, "policies", m.Policy(name=name, command=command, roles=tuple(roles), permissive=permissive,
                                         using=using, with_check=with_check, comment=note("policy", oid, name)))
    for oid, name, tgtype, function, update_columns, when, enabled, nargs, args in rows["triggers"]:
        nested(oid, "triggers", m.Trigger(
            name=name, function=function, timing=_trigger_timing(tgtype), events=_trigger_events(tgtype),
            for_each="row" if tgtype & _TG_ROW else "statement", update_columns=names(oid, update_columns),
            when=when, comment=note("trigger", oid, name), enabled=enabled in ("O", "A"),
            arguments=tuple(a.decode("utf-8") for a in bytes(args or b"").split(b"\0")[:nargs])))

    out_tables = []
    for t in tables.values():
        out_tables.append(m.Table(
            schema=t["schema"], name=t["name"], columns=tuple(t["columns"]),
            constraints=tuple(sorted(t["constraints"], key=lambda o: o.name)),
            indexes=tuple(sorted(t["indexes"], key=lambda o: o.name)),
            policies=tuple(sorted(t["policies"], key=lambda o: o.name)),
            triggers=tuple(sorted(t["triggers"], key=lambda o: o.name)),
            rls_enabled=t["rls_enabled"], rls_forced=t["rls_forced"], replica_identity=t["replica_identity"],
            partition_by=t["partition_by"], partitions=tuple(t["partitions"]),
            comment=comments.get(("table", t["schema"], t["name"], None)), owner=t["owner"]))
    out_tables.sort(key=lambda t: t.qualified_name)

    functions = []
    for (schema, name, identity, arg_names, arg_types, arg_modes, arg_defaults, returns, language, body,
         volatility, security_definer, strict, config, owner) in rows["functions"]:
        args = tuple(m.Argument(name=n or None, type=t, default=d, mode=_ARGMODE.get(mode, mode))
                     for n, t, mode, d in zip(arg_names, arg_types, arg_modes, arg_defaults))
        functions.append(m.Function(
            schema=schema, name=name, arguments=args, returns=_returns(returns), language=language, body=body,
            volatility=volatility, security_definer=security_definer, strict=strict, config=_config(config),
            comment=comments.get(("function", schema, None, f"{name}({identity})")), owner=owner))
    functions.sort(key=lambda f: f.signature)

    # a privilege granted by several grantors is held with grant option if any of them gave it
    acl: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
    for on, obj, role, privilege, grantable in rows["grants"]:
        privs, options = acl.setdefault((on, obj, role), (set(), set()))
        privs.add(privilege)
        if grantable:
            options.add(privilege)
    grants = tuple(m.Grant(on=on, object=obj, privileges=tuple(sorted(privs)), roles=(role,),
                           grant_option=tuple(sorted(options)))
                   for (on, obj, role), (privs, options) in sorted(acl.items()))

    types = tuple(m.EnumType(schema=schema, name=name, values=tuple(values),
                             comment=comments.get(("type", schema, name, None)))
                  for schema, name, values in rows.get("types", ()))
    views = tuple(m.View(
        schema=schema, name=name, query=view_query(query), materialized=materialized,
        security_invoker=_view_option(options, "security_invoker"),
        security_barrier=_view_option(options, "security_barrier"),
        comment=comments.get(("materialized view" if materialized else "view", schema, name, None)),
        columns=tuple(m.ViewColumn(n, t) for n, t in zip(col_names, col_types)), owner=owner)
        for schema, name, materialized, query, options, col_names, col_types, owner in rows.get("views", ()))

    return m.Schema(
        types=types,
        views=views,
        publications=tuple(m.Publication(name=name, tables=tuple(tables))
                           for name, tables in rows.get("publications", ())),
        sequences=tuple(m.Sequence(schema=schema, name=name, type=type_, start=start, increment=increment,
                                   min_value=min_value, max_value=max_value, cache=cache, cycle=cycle,
                                   comment=comments.get(("sequence", schema, name, None)))
                        for schema, name, type_, start, increment, min_value, max_value, cache, cycle
                        in rows.get("standalone_sequences", ())),
        domains=tuple(m.Domain(schema=schema, name=name, type=type_, nullable=nullable, default=default,
                               checks=tuple(zip(check_names, check_exprs)),
                               comment=comments.get(("domain", schema, name, None)))
                      for schema, name, type_, nullable, default, check_names, check_exprs in rows.get("domains", ())),
        roles=tuple(m.Role(name=name, login=login, bypassrls=bypassrls, member_of=tuple(member_of), assumed=False)
                    for name, login, bypassrls, member_of in rows["roles"]),
        namespaces=tuple(m.Namespace(name=name, comment=comments.get(("schema", name, None, None)))
                         for (name,) in rows["namespaces"]),
        extensions=tuple(m.Extension(name=name, schema=schema) for name, schema in rows["extensions"]),
        tables=tuple(out_tables),
        functions=tuple(functions),
        grants=grants,
    )
