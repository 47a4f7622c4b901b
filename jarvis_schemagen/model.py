"""The one model of a database schema, shared by the spec loader and the introspector.

Every object is a frozen dataclass. Collections are tuples kept in a canonical order,
so two models describing the same schema compare equal with ``==`` and render to the
same bytes. Positions in the spec file (``pos``) are excluded from equality.

Ownership: every top-level object either belongs to one migration (``migration``, the
migration id such as ``"001"``) or is *assumed* (``assumed=True``): it exists before
migration 001 and is never rendered into a deploy file, only into scratch databases.
Objects nested in a table (columns, constraints, indexes, policies, triggers) may name
their own migration; when they don't, they belong to their table's.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

ASSUMED = "assumed"  # the pseudo-migration id of assumed objects


@dataclass(frozen=True)
class Pos:
    """Where an object was declared: ``schema.yaml:42:9``."""

    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def _pos() -> Pos | None:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


def _lint_ignore():
    """``lint_ignore`` of a spec object: ((rule, reason), ...) suppressing lint findings; not state."""
    return field(default=(), compare=False, repr=False)


def qualify(schema: str, name: str) -> str:
    return f"{schema}.{name}"


@dataclass(frozen=True)
class Migration:
    id: str  # "001"
    name: str  # "create_user_plans_table"
    comment: str | None = None
    pos: Pos | None = _pos()

    @property
    def filename(self) -> str:
        return f"{self.id}_{self.name}.sql"


@dataclass(frozen=True)
class Role:
    name: str
    login: bool = False
    bypassrls: bool = False
    member_of: tuple[str, ...] = ()
    assumed: bool = True
    comment: str | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Namespace:
    """A PostgreSQL schema (``create schema``)."""

    name: str
    migration: str | None = None
    assumed: bool = False
    comment: str | None = None
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()


@dataclass(frozen=True)
class Extension:
    name: str
    schema: str | None = None
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # canonical lower-case type, e.g. "numeric(12,4)", "timestamp with time zone"
    nullable: bool = True
    default: str | None = None  # SQL expression
    identity: str | None = None  # "always" | "by default"
    generated: str | None = None  # expression of a GENERATED ALWAYS AS (...) STORED column
    collation: str | None = None  # when not the type's default: "C", or as introspected "pg_catalog.C"
    comment: str | None = None
    migration: str | None = None  # None: the table's
    assumed: bool = False  # declared on an assumed table and pre-existing
    # declared as serial/bigserial/smallserial (spec only: PostgreSQL stores the integer type, a
    # nextval() default and an owned sequence, which is what introspection finds)
    serial: bool = field(default=False, compare=False)
    # the attributes the spec wrote down (``type`` always; ``nullable``, ``default``, ...): on an
    # assumed column only these are compared. None (built without a spec): all of them
    declared: tuple[str, ...] | None = field(default=None, compare=False)
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # "primary_key" | "unique" | "foreign_key" | "check"
    columns: tuple[str, ...] = ()
    expression: str | None = None  # check
    ref_table: str | None = None  # qualified "schema.table"
    ref_columns: tuple[str, ...] = ()
    on_delete: str | None = None  # "cascade" | "set null" | "set default" | "restrict" | "no action"
    on_update: str | None = None
    deferrable: bool = False
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    # the optional attributes the spec wrote down (``on_delete``, ``on_update``, ``deferrable``): on
    # an assumed constraint only these are compared besides its shape. None: all of them
    declared: tuple[str, ...] | None = field(default=None, compare=False)
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class IndexKey:
    expression: str  # a column name (bare) or an expression
    descending: bool = False
    nulls: str | None = None  # "first" | "last" when not the default for the direction
    is_column: bool = True  # False: ``expression`` is an SQL expression, rendered in parentheses
    opclass: str | None = None  # operator class, e.g. "gin_trgm_ops"


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[IndexKey, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Policy:
    name: str
    command: str = "all"  # all | select | insert | update | delete
    roles: tuple[str, ...] = ("public",)
    permissive: bool = True
    using: str | None = None
    with_check: str | None = None
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Trigger:
    name: str
    function: str  # qualified function name "schema.fn" (no arguments)
    timing: str  # before | after | instead of
    events: tuple[str, ...]  # insert | update | delete | truncate (canonical order)
    for_each: str = "row"  # row | statement
    update_columns: tuple[str, ...] = ()  # UPDATE OF ...
    when: str | None = None
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    enabled: bool = True  # False: ALTER TABLE ... DISABLE TRIGGER (found by introspection, never in a spec)
    arguments: tuple[str, ...] = ()  # string arguments passed to the function (TG_ARGV)
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Partition:
    """A partition of a partitioned table: ``create table <name> partition of <table> <bound>``.
    ``bound`` as written (``for values from (...) to (...)``, ``default``) or as PostgreSQL prints it."""

    name: str  # qualified
    bound: str
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    policies: tuple[Policy, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    rls_enabled: bool = False
    rls_forced: bool = False
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    # REPLICA IDENTITY: None (the default: the primary key), "full", "nothing" or "index <name>"
    replica_identity: str | None = None
    partition_by: str | None = None  # "range (created_at)": a partitioned table
    partitions: tuple[Partition, ...] = ()
    # seed rows (spec only, never compared): each row is ((column, SQL literal text or None for null), ...)
    seed: tuple[tuple[tuple[str, str | None], ...], ...] = field(default=(), compare=False)
    seed_migration: str | None = field(default=None, compare=False)  # None: the table's own
    # the owning role, as introspected (never in a spec); not part of equality
    owner: str | None = field(default=None, compare=False)
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "primary_key"), None)


@dataclass(frozen=True)
class Argument:
    name: str | None
    type: str
    default: str | None = None
    mode: str = "in"  # in | out | inout | variadic


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: tuple[Argument, ...] = ()
    returns: str = "void"
    language: str = "plpgsql"
    body: str = ""
    volatility: str = "volatile"  # volatile | stable | immutable
    security_definer: bool = False
    strict: bool = False
    config: tuple[tuple[str, str], ...] = ()  # (("search_path", ""),)
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    # the owning role, as introspected (never in a spec); not part of equality
    owner: str | None = field(default=None, compare=False)
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def identity_arguments(self) -> str:
        """The argument types that identify the function: ``uuid, text``."""
        return ", ".join(a.type for a in self.arguments if a.mode in ("in", "inout", "variadic"))

    @property
    def signature(self) -> str:
        return f"{self.qualified_name}({self.identity_arguments})"


@dataclass(frozen=True)
class EnumType:
    """``create type schema.name as enum (values...)``. ``value_migrations`` names the migration
    that adds each value declared later than the type (``alter type ... add value``)."""

    schema: str
    name: str
    values: tuple[str, ...]
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    value_migrations: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (value, migration id)
    pos: Pos | None = _pos()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Domain:
    """``create domain schema.name as type [not null] [default ...] [constraint name check (...)]``.
    ``checks`` are (constraint name, expression) pairs, sorted by name; the expression uses ``value``."""

    schema: str
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    checks: tuple[tuple[str, str], ...] = ()
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class Sequence:
    """A standalone ``create sequence`` (not one owned by an identity or serial column). Options left
    ``None`` in a spec take PostgreSQL's defaults; introspection gives them all."""

    schema: str
    name: str
    type: str = "bigint"
    start: int | None = None
    increment: int = 1
    min_value: int | None = None
    max_value: int | None = None
    cache: int = 1
    cycle: bool = False
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)


@dataclass(frozen=True)
class ViewColumn:
    name: str
    type: str


@dataclass(frozen=True)
class View:
    """``create view`` (or ``create materialized view``) schema.name ``as`` query.

    ``query`` is the SELECT as written in the spec, or as ``pg_get_viewdef`` prints it when
    introspected. ``columns`` (introspected only; not part of equality) tell the planner whether
    ``create or replace view`` can keep the view or it must be dropped and created again.
    """

    schema: str
    name: str
    query: str
    materialized: bool = False
    security_invoker: bool = False
    security_barrier: bool = False
    comment: str | None = None
    migration: str | None = None
    assumed: bool = False
    columns: tuple[ViewColumn, ...] = field(default=(), compare=False)
    owner: str | None = field(default=None, compare=False)
    pos: Pos | None = _pos()
    lint_ignore: tuple[tuple[str, str], ...] = _lint_ignore()

    @property
    def qualified_name(self) -> str:
        return qualify(self.schema, self.name)

    @property
    def kind(self) -> str:
        return "materialized view" if self.materialized else "view"


@dataclass(frozen=True)
class Publication:
    """A logical-replication publication (Supabase Realtime's ``supabase_realtime``) and the spec's
    tables in it. ``table_migrations`` names the migration adding each table (spec only)."""

    name: str
    tables: tuple[str, ...] = ()  # qualified names, sorted
    migration: str | None = None
    assumed: bool = False
    table_migrations: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Grant:
    """A GRANT (or REVOKE) of privileges on one object to roles.

    ``on`` is the object kind (table | function | schema | sequence); ``object`` is the
    qualified table/sequence name, the schema name, or a function signature
    ``schema.fn(type, ...)``. Privileges are lower-case, ``all`` allowed for grants.
    Introspected grants are always ``action="grant"`` with one role each (the ACL).
    ``grant_option``: the privileges held WITH GRANT OPTION (the grantee may grant them on); a
    spec grant with ``grant_option: true`` has all of its privileges here, an introspected one
    those of its ACL entry that are grantable.
    """

    on: str
    object: str
    privileges: tuple[str, ...]
    roles: tuple[str, ...]
    action: str = "grant"  # grant | revoke
    migration: str | None = None
    assumed: bool = False
    pos: Pos | None = _pos()
    grant_option: tuple[str, ...] = ()


@dataclass(frozen=True)
class DefaultPrivilege:
    """ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT privileges ON <on> TO roles (assumed setup)."""

    schema: str
    on: str  # tables | sequences | functions
    privileges: tuple[str, ...]
    roles: tuple[str, ...]
    for_role: str | None = None
    assumed: bool = True
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class DataStatement:
    """SQL run at the end of a migration to change data, not schema (a backfill). Written by the
    spec's author and idempotent like everything in a migration; ``diff`` does not look at data."""

    name: str
    sql: str
    migration: str
    comment: str | None = None
    pos: Pos | None = _pos()


@dataclass(frozen=True)
class Schema:
    """The whole desired (or inspected) state."""

    migrations: tuple[Migration, ...] = ()
    roles: tuple[Role, ...] = ()
    namespaces: tuple[Namespace, ...] = ()
    extensions: tuple[Extension, ...] = ()
    tables: tuple[Table, ...] = ()
    functions: tuple[Function, ...] = ()
    grants: tuple[Grant, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()
    types: tuple[EnumType, ...] = ()
    views: tuple[View, ...] = ()  # in creation order (a view may read an earlier one)
    publications: tuple[Publication, ...] = ()
    domains: tuple[Domain, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    data: tuple[DataStatement, ...] = ()  # in file order
    source: str | None = field(default=None, compare=False)
    # problems that do not stop the work (validate/render print them on stderr)
    warnings: tuple = field(default=(), compare=False)

    def table(self, qualified_name: str) -> Table | None:
        return next((t for t in self.tables if t.qualified_name == qualified_name), None)

    def function(self, qualified_name: str) -> Function | None:
        return next((f for f in self.functions if f.qualified_name == qualified_name), None)

    def type(self, qualified_name: str) -> EnumType | None:
        return next((t for t in self.types if t.qualified_name == qualified_name), None)

    def view(self, qualified_name: str) -> View | None:
        return next((v for v in self.views if v.qualified_name == qualified_name), None)

    def migration(self, migration_id: str) -> Migration | None:
        return next((m for m in self.migrations if m.id == migration_id), None)

    @property
    def assumed(self) -> "Schema":
        """Only the objects that exist before migration 001."""
        return restrict(self, ASSUMED)


def effective_migration(obj, table: Table | None = None) -> str:
    """The migration id an object belongs to, or ``ASSUMED``."""
    if getattr(obj, "assumed", False):
        return ASSUMED
    mig = getattr(obj, "migration", None)
    if mig:
        return mig
    if table is not None:
        return effective_migration(table)
    return ASSUMED


def restrict(schema: Schema, migration_id: str) -> Schema:
    """The part of ``schema`` that one migration (or ``ASSUMED``) creates.

    A table created elsewhere appears with only the nested objects this migration adds
    (and without its own RLS flags and comment); ``effective_migration(table) != migration_id``
    tells renderers to alter it instead of creating it.
    """
    tables = []
    for t in schema.tables:
        own = effective_migration(t) == migration_id
        sub = {
            kind: tuple(o for o in getattr(t, kind) if effective_migration(o, t) == migration_id)
            for kind in ("columns", "constraints", "indexes", "policies", "triggers", "partitions")
        }
        seed_here = (t.seed_migration or effective_migration(t)) == migration_id
        seed = t.seed if seed_here else ()
        if own:
            tables.append(replace(t, **sub, seed=seed))
        elif any(sub.values()) or seed:
            tables.append(replace(t, **sub, rls_enabled=False, rls_forced=False, comment=None, replica_identity=None,
                                  seed=seed))
    return replace(
        schema,
        roles=tuple(r for r in schema.roles if (ASSUMED if r.assumed else "") == migration_id),
        namespaces=tuple(n for n in schema.namespaces if effective_migration(n) == migration_id),
        extensions=tuple(e for e in schema.extensions if effective_migration(e) == migration_id),
        tables=tuple(tables),
        functions=tuple(f for f in schema.functions if effective_migration(f) == migration_id),
        grants=tuple(g for g in schema.grants if effective_migration(g) == migration_id),
        default_privileges=tuple(d for d in schema.default_privileges if migration_id == ASSUMED),
        types=tuple(t for t in schema.types if effective_migration(t) == migration_id
                    or any(mig == migration_id for _, mig in t.value_migrations)),
        views=tuple(v for v in schema.views if effective_migration(v) == migration_id),
        domains=tuple(d for d in schema.domains if effective_migration(d) == migration_id),
        sequences=tuple(q for q in schema.sequences if effective_migration(q) == migration_id),
        publications=tuple(
            replace(p, tables=tuple(t for t, mig in p.table_migrations if mig == migration_id))
            for p in schema.publications
            if effective_migration(p) == migration_id or any(mig == migration_id for _, mig in p.table_migrations)),
        data=tuple(d for d in schema.data if d.migration == migration_id),
    )


def walk(schema: Schema) -> Iterator[tuple[str, object, Table | None]]:
    """Every object with its kind and owning table (None for top-level objects)."""
    for m in schema.migrations:
        yield "migration", m, None
    for r in schema.roles:
        yield "role", r, None
    for n in schema.namespaces:
        yield "schema", n, None
    for e in schema.extensions:
        yield "extension", e, None
    for t in schema.tables:
        yield "table", t, None
        for kind, items in (
            ("column", t.columns),
            ("constraint", t.constraints),
            ("index", t.indexes),
            ("policy", t.policies),
            ("trigger", t.triggers),
        ):
            for o in items:
                yield kind, o, t
    for ty in schema.types:
        yield "type", ty, None
    for d in schema.domains:
        yield "domain", d, None
    for q in schema.sequences:
        yield "sequence", q, None
    for f in schema.functions:
        yield "function", f, None
    for v in schema.views:
        yield v.kind, v, None
    for p in schema.publications:
        yield "publication", p, None
    for g in schema.grants:
        yield "grant", g, None
    for d in schema.default_privileges:
        yield "default_privilege", d, None
