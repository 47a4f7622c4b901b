"""Changes -> ordered SQL statements that bring a database to the spec. Every ordering decision lives here.

Like migra, one global order by phase: roles, schemas and extensions first; then every drop
(triggers and policies first, revokes, foreign keys, constraints, indexes, columns, tables,
functions); then functions, tables and columns, constraints and indexes; policies and
triggers last among the objects; then grants and comments. Within a phase, statements keep the
canonical order of the changes, so the same drift always gives the same bytes.

Every statement comes from a builder of ``sql.py`` (the same ones the migration templates
use), in its plain (non-idempotent) form: a plan is computed against a known state.

Statements are written for a session whose ``search_path`` is empty (the SQL text sets it):
every name is quoted and qualified, and every expression comes from PostgreSQL's own
deparser, which qualifies whatever is not in ``pg_catalog``. Statements that can lose data
are preceded by ``-- destructive: <why>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable

from . import model as m
from . import sql
from .compare import UNMODELLED_KINDS, Change, managed
from .sql import quote_ident
from .sqltext import uses_value

# phases
ROLES, SCHEMAS, EXTENSIONS, TYPES, DROP_VIEWS = 0, 1, 2, 3, 9
DROP_TRIGGERS, DROP_POLICIES, REVOKE, DROP_FKS, DROP_CONSTRAINTS, DROP_INDEXES = 10, 11, 12, 13, 14, 15
DROP_PUBLICATION_TABLES = 12
DROP_COLUMNS, DROP_TABLES, DROP_FUNCTIONS, DROP_EXTENSIONS, REPLACE_TYPES = 16, 17, 18, 19, 19
FUNCTIONS = 20
TABLES, ADD_COLUMNS, ALTER_COLUMNS, RLS, OWNERS = 30, 31, 32, 33, 34
CONSTRAINTS, FKS, INDEXES, REPLICA_IDENTITY, VIEWS, PUBLICATIONS = 40, 41, 42, 43, 45, 46
POLICIES, TRIGGERS = 50, 51
ACL_RESET, GRANTS = 60, 61
COMMENTS = 70
DROP_OLD_TYPES = 80  # an enum type replaced by a new one, once nothing uses it

PREAMBLE = ("set local search_path = '';", "set local check_function_bodies = off;")


@dataclass(frozen=True)
class Statement:
    sql: str  # one statement, ending in ";"
    phase: int
    destructive: str | None = None  # why it can lose data
    # runs (and commits) before the transaction: `alter type ... add value`, whose new value the
    # transaction could not use otherwise (and which PostgreSQL < 12 refuses inside a transaction block)
    outside_transaction: bool = False
    hazard: str | None = None  # what it locks or scans on an existing table, and the online way
    enum_value: tuple[str, str] | None = None  # (type, value) of an `alter type ... add value`


@dataclass(frozen=True)
class Plan:
    statements: tuple[Statement, ...]
    # changes that would alter what the spec only assumes (an assumed table's extras, under --strict):
    # never planned; the platform's or the app's
    left_alone: tuple[Change, ...] = ()

    @property
    def destructive(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.destructive)

    def uses_of_added_enum_values(self) -> list[tuple[str, str, Statement]]:
        """(type, value, statement) for each statement that uses an enum value the plan itself adds:
        run in the same transaction, PostgreSQL refuses it ("unsafe use of new value"). A use is the
        value cast to the type (``'x'::public.mood``, or in ``'{x}'::public.mood[]``), which is how
        PostgreSQL's deparser writes every constant of the plan's expressions; function bodies are
        dollar-quoted, and the plan creates functions with ``check_function_bodies`` off."""
        added = [s.enum_value for s in self.statements if s.enum_value]
        out = []
        for s in self.statements:
            if s.enum_value:
                continue
            for ty, value in added:
                schema, _, name = ty.partition(".")
                if uses_value(s.sql, value, {ty} | ({name} if schema == "public" else set())):
                    out.append((ty, value, s))
        return out

    def sql(self, header: str = "", transaction: bool = True) -> str:
        """The statements as one script: header comment, then (in a transaction) the statements."""
        lines = [sql.line_comment(header.rstrip("\r\n"))] if header else []
        if not self.statements:
            lines.append("-- Nothing to do.")
            return "\n".join(lines) + "\n"
        first = [s for s in self.statements if s.outside_transaction] if transaction else []
        if first:
            lines.append("-- Enum values first, each committed on its own: the transaction below may use them.")
            lines.extend(s.sql for s in first)
        if transaction:
            lines.append("begin;")
        lines.extend(PREAMBLE)
        for s in self.statements:
            if s in first:
                continue
            if s.destructive:
                lines.append(sql.line_comment(f"destructive: {s.destructive}"))
            if s.hazard:
                lines.append(sql.line_comment(f"hazard: {s.hazard}"))
            lines.append(s.sql)
        if transaction:
            lines.append("commit;")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- helpers

def _mentions(expression: str | None, column: str) -> bool:
    if not expression:
        return False
    return re.search(r'(?<![\w$."])' + re.escape(column) + r'(?![\w$"])', expression) is not None or \
        quote_ident(column) in expression


def _names(query: str | None, name: str) -> bool:
    """Whether a deparsed query mentions ``name`` (a qualified relation, or a column, also as ``t.col``)."""
    return bool(query) and re.search(r'(?<![\w$"])' + re.escape(name) + r'(?![\w$"])', query) is not None


def enum_additions(existing: tuple[str, ...], desired: tuple[str, ...]) -> list[tuple[str, str | None, str | None]]:
    """(value, after, before) for each value of ``desired`` missing from ``existing``, placed after the
    nearest earlier value that exists by then (else before the nearest later one). Only meaningful when
    ``existing`` keeps ``desired``'s relative order (see ``enum_is_extension``)."""
    have = list(existing)
    out = []
    for i, value in enumerate(desired):
        if value in have:
            continue
        after = next((v for v in reversed(desired[:i]) if v in have), None)
        before = None if after is not None else next((v for v in desired[i + 1:] if v in have), None)
        out.append((value, after, before))
        have.insert(have.index(after) + 1 if after is not None else have.index(before) if before is not None
                    else len(have), value)
    return out


def enum_is_extension(existing: tuple[str, ...], desired: tuple[str, ...]) -> bool:
    """Whether ``desired`` only adds values to ``existing`` (same relative order, nothing removed)."""
    return [v for v in desired if v in existing] == list(existing)


def function_needs_recreate(before: m.Function, after: m.Function) -> bool:
    """CREATE OR REPLACE cannot change the result type, rename or re-mode a parameter, or drop a default."""
    if before.returns != after.returns:
        return True
    if [(a.name, a.mode, a.type) for a in before.arguments] != [(a.name, a.mode, a.type) for a in after.arguments]:
        return True
    return any(b.default is not None and a.default is None for b, a in zip(before.arguments, after.arguments))


# ---------------------------------------------------------------- hazards on existing tables

def hazard_index(table: str, i: m.Index) -> str:
    return (f"builds index {i.name} under a SHARE lock on {table}: writes to it wait until the build ends. "
            f"Online: run `create index concurrently` for it by hand before this migration (not in a transaction)")


def hazard_not_null(table: str, col: str) -> str:
    return (f"scans all of {table} under an ACCESS EXCLUSIVE lock to check {col}. Online: first add "
            f"`check ({col} is not null) not valid`, `validate constraint` it, then set not null (PostgreSQL 12+ "
            "uses the check and skips the scan)")


def hazard_serial(table: str, col: str) -> str:
    return (f"makes {table}.{col} an identity column: a brief ACCESS EXCLUSIVE lock on {table}; the new sequence "
            "goes on from the old one's value, and the old sequence is dropped unless the spec declares it or another "
            "column or view uses it (a function using it by name breaks)")


def hazard_type(table: str) -> str:
    return (f"may rewrite {table} and its indexes under an ACCESS EXCLUSIVE lock (reads and writes wait). "
            "Online: add a new column, backfill it in batches, switch readers and writers, drop the old one")


def hazard_constraint(table: str, c: m.Constraint) -> str | None:
    if c.kind in ("check", "foreign_key"):
        lock = "an ACCESS EXCLUSIVE lock" if c.kind == "check" else \
            f"a SHARE ROW EXCLUSIVE lock (and locks {c.ref_table})"
        return (f"checks every row of {table} under {lock}. Online: add it `not valid` (instant), then "
                f"`alter table ... validate constraint {c.name}` in a later migration (SHARE UPDATE EXCLUSIVE: "
                "writes go on)")
    if c.kind in ("unique", "primary_key"):
        return (f"builds a unique index under an ACCESS EXCLUSIVE lock on {table}. Online: `create unique index "
                f"concurrently` by hand, then `add constraint {c.name} ... using index`")
    return None


_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")


def type_change_is_free(have: str, want: str) -> bool:
    """Changes PostgreSQL makes without a rewrite: varchar widened, or varchar to text."""
    a, b = _VARCHAR.match(have), _VARCHAR.match(want)
    if a and want == "text":
        return True
    return bool(a and b and (b.group(1) is None or a.group(1) is not None and int(b.group(1)) >= int(a.group(1))))


# ---------------------------------------------------------------- planner

class _Planner:
    def __init__(self, desired: m.Schema | None) -> None:
        self.desired = desired
        self.out: list[tuple[int, int, Statement]] = []
        self.seq = 0
        self.done: set[tuple] = set()  # (what, key) already emitted, to avoid duplicates
        self.functions = {f.signature: f for f in desired.functions} if desired is not None else {}
        self.retyped: dict[str, set[str]] = {}  # table -> its columns whose type or collation the plan changes

    def emit(self, phase: int, text: str, destructive: str | None = None, once: tuple | None = None,
             outside_transaction: bool = False, hazard: str | None = None,
             enum_value: tuple[str, str] | None = None) -> None:
        if once is not None:
            if once in self.done:
                return
            self.done.add(once)
        self.seq += 1
        self.out.append((phase, self.seq, Statement(text, phase, destructive, outside_transaction, hazard,
                                                    enum_value)))

    def table(self, name: str) -> m.Table | None:
        return self.desired.table(name) if self.desired is not None else None

    def rel(self, name: str) -> sql.Rel:
        """A table by name: the desired model object when there is one (its parts are quoted
        separately), else the qualified name."""
        return self.table(name) or name

    def fn(self, signature: str) -> m.Function | str:
        """A function by signature: the desired model object when there is one, else the signature."""
        return self.functions.get(signature, signature)

    def desired_acl(self, on: str, obj: str) -> dict[str, tuple[set[str], set[str]]]:
        """role -> (privileges, those with grant option) the spec gives on ``obj``."""
        acl: dict[str, tuple[set[str], set[str]]] = {}
        for g in self.desired.grants if self.desired is not None else ():
            if g.on == on and g.object == obj and g.action == "grant":
                for r in g.roles:
                    privs, options = acl.setdefault(r, (set(), set()))
                    privs.update(g.privileges)
                    options.update(g.grant_option)
        return acl

    def grant_to(self, on: str, target, obj: str, role: str, privs: set[str], options: set[str],
                 once: str = "grant") -> None:
        """Grant ``privs`` to ``role``, those in ``options`` with grant option (once per object and role)."""
        if privs - options:
            self.emit(GRANTS, sql.grant(on, target, sorted(privs - options), [role]), once=(once, on, obj, role))
        if options:
            self.emit(GRANTS, sql.grant(on, target, sorted(options), [role], grant_option=True),
                      once=(once + " option", on, obj, role))

    def regrant(self, on: str, target, obj: str, once: str = "grant") -> None:
        """Everything the spec grants on ``obj``: after a drop and create took its privileges."""
        for role, (privs, options) in sorted(self.desired_acl(on, obj).items()):
            self.grant_to(on, target, obj, role, privs, options, once)

    # ------------------------------------------------------------ per kind

    def role(self, c: Change) -> None:
        r: m.Role = c.after
        if c.action == "add":
            self.emit(ROLES, sql.create_role(r, idempotent=False))
            missing = r.member_of
        else:
            if "bypassrls" in c.detail:
                self.emit(ROLES, sql.alter_role_bypassrls(r.name, r.bypassrls))
            missing = tuple(x for x in r.member_of if x not in c.before.member_of)
        for g in missing:
            self.emit(ROLES, sql.grant_role(g, r.name))

    def schema(self, c: Change) -> None:
        n: m.Namespace = c.after
        # if not exists: a schema may have been created by an extension or the platform meanwhile
        self.emit(SCHEMAS, sql.create_schema(n.name, idempotent=True))
        if n.comment is not None and managed(n):
            self.emit(COMMENTS, sql.comment_on("schema", n.name, text=n.comment))

    def extension(self, c: Change) -> None:
        e = c.after or c.before
        if c.action == "add":
            self.emit(EXTENSIONS, sql.create_extension(e, idempotent=True))
        elif c.action == "alter":
            self.emit(EXTENSIONS, sql.alter_extension_schema(e.name, e.schema))
        else:
            self.emit(DROP_EXTENSIONS, sql.drop_extension(e.name))

    def create_table(self, t: m.Table) -> None:
        name = t.qualified_name
        # foreign keys come after every table exists (tables of one plan are in no particular order)
        self.emit(TABLES, sql.create_table(t, idempotent=False,
                                           constraints=[c for c in t.constraints if c.kind != "foreign_key"]))
        for part in t.partitions:
            self.emit(ADD_COLUMNS, sql.create_partition(t, part, idempotent=False), once=("partition", name, part.name))
        for c in t.constraints:
            if c.kind == "foreign_key":
                self.emit(FKS, sql.add_constraint(t, c, idempotent=False))
        for i in t.indexes:
            self.emit(INDEXES, sql.create_index(t, i, idempotent=False))
        if t.replica_identity:
            self.emit(REPLICA_IDENTITY, sql.replica_identity(t, t.replica_identity))
        if t.rls_enabled:
            self.emit(RLS, sql.enable_rls(t))
        if t.rls_forced:
            self.emit(RLS, sql.force_rls(t))
        for p in t.policies:
            self.emit(POLICIES, sql.create_policy(t, p, idempotent=False))
        for tr in t.triggers:
            self.create_trigger(t, tr)
        if managed(t):  # an assumed table keeps what the server's defaults give it (the spec does not own it)
            self.emit(ACL_RESET, sql.acl_reset("table", name))
            if any(c.identity or sql.serial_type(t, c) for c in t.columns):
                self.emit(ACL_RESET, sql.sequence_acl_reset(t), once=("sequence acl reset", name))
        if managed(t) and t.comment is not None:
            self.emit(COMMENTS, sql.comment_on("table", t, text=t.comment))
        for kind, attr in (("column", "columns"), ("constraint", "constraints"), ("index", "indexes"),
                           ("policy", "policies"), ("trigger", "triggers")):
            for o in getattr(t, attr):
                if o.comment is not None and managed(o, t):
                    self.emit(COMMENTS, sql.comment_on(kind, t, o.name, o.comment))

    def create_trigger(self, table: sql.Rel, tr: m.Trigger) -> None:
        name = table.qualified_name if isinstance(table, m.Table) else table
        self.emit(TRIGGERS, sql.create_trigger(table, tr, idempotent=False), once=("create trigger", name, tr.name))
        if not tr.enabled:
            self.emit(TRIGGERS, sql.enable_trigger(table, tr.name, False), once=("disable trigger", name, tr.name))

    def table_change(self, c: Change) -> None:
        if c.action == "alter":  # partitioned differently: only a new table can be
            self.emit(DROP_TABLES, sql.drop_table(c.key[1]), c.reason)
            self.create_table(c.after)
        elif c.action == "add":
            self.create_table(c.after)
        elif c.action == "drop":
            # named from the catalog's parts: "we.ird"."t" is not "we"."ird.t"
            target = c.before if isinstance(c.before, m.Table) else c.key[1]
            self.emit(DROP_TABLES, sql.drop_table(target), c.reason or f"drops table {c.key[1]} and its rows")

    def rls(self, c: Change) -> None:
        t = self.rel(c.key[1])
        if "enabled" in c.detail:
            self.emit(RLS, sql.enable_rls(t, c.after.enabled))
        if "forced" in c.detail:
            self.emit(RLS, sql.force_rls(t, c.after.forced))

    def column(self, c: Change) -> None:
        table, col = c.key[1], c.key[2]
        t = self.rel(table)
        if c.action == "add":
            new: m.Column = c.after
            if not new.nullable and new.default is None and new.identity is None and new.generated is None:
                self.emit(ADD_COLUMNS, sql.not_null_guard(t, col))
            self.emit(ADD_COLUMNS, sql.add_column(t, c.after, idempotent=False))
            if c.after.identity or sql.serial_type(t, c.after):
                self.new_sequence(table)
            return
        if c.action == "drop":
            self.emit(DROP_COLUMNS, sql.drop_column(t, col), c.reason)
            return
        want: m.Column = c.after
        have: m.Column = c.before
        if any(g.name == col for other in self.retyped.get(table, ()) for g in self.generated_from(table, other)):
            return  # a generated column using a retyped one: recreated as the spec has it (see below)
        # serial/bigserial -> identity: one statement that goes on from the old sequence (see sql.py)
        serial = serial_to_identity(c)
        if "generated" in c.detail and want.generated is not None:
            # a generation expression can only be set by recreating the column
            why = c.reason if c.destructive else None
            self.emit(DROP_COLUMNS, sql.drop_column(t, col), why)
            self.emit(ADD_COLUMNS, sql.add_column(t, want, idempotent=False))
            self.rebuild_dependents(table, col, indexes=True)
            return
        if "generated" in c.detail:
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "drop expression"))
        if ("default" in c.detail and want.default is None or "type" in c.detail and have.default is not None) \
                and not serial:
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "drop default"))
        if "identity" in c.detail and want.identity is None:
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "drop identity"))
        if "type" in c.detail or "collation" in c.detail:
            collate = (want.collation or "default") if "collation" in c.detail else None
            free = "type" not in c.detail or type_change_is_free(have.type, want.type)
            # what the spec declares on the column is dropped before (views, policies, triggers, generated
            # columns; checks and expression indexes too, rebuilt from text where a constant of the old type
            # may not fit); the guard then stops the change, naming them, if anything else still uses it
            self.rebuild_dependents(table, col, indexes=False, type_change=not free)
            generated = self.generated_from(table, col)
            for g in generated:
                self.emit(DROP_COLUMNS, sql.drop_column(t, g.name), once=("drop column", table, g.name))
            self.emit(ALTER_COLUMNS, sql.column_type_guard(t, col))
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "type", want.type, collate=collate,
                                                      using=want.generated is None), c.reason,
                      hazard=None if free else hazard_type(table))
            for g in generated:  # computed again from the column's new values, with what the drop took
                self.emit(ALTER_COLUMNS, sql.add_column(t, g, idempotent=False), once=("add column", table, g.name))
                if g.comment is not None and managed(g, t):
                    self.emit(COMMENTS, sql.comment_on("column", t, g.name, g.comment),
                              once=("comment", "column", table, g.name))
                self.regrant("column", f"{table}.{g.name}", f"{table}.{g.name}")
                self.rebuild_dependents(table, g.name, indexes=True)
        if "nullable" in c.detail:
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "drop not null" if want.nullable else "set not null"),
                      hazard=None if want.nullable else hazard_not_null(table, col))
        if serial:
            old = _sequence_of_default(have.default or "")
            declared = [q.qualified_name for q in self.desired.sequences if q.qualified_name == old] \
                if self.desired is not None else []
            self.emit(ALTER_COLUMNS, sql.serial_to_identity(t, col, want.identity, keep=declared),
                      hazard=hazard_serial(table, col))
            self.new_sequence(table)
            self.regrant_sequence(table, col)
        elif "identity" in c.detail and want.identity is not None:
            if have.identity is None:
                self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "add identity", want.identity))
                self.new_sequence(table)
            else:
                self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "set generated", want.identity))
        if want.default is not None and ("default" in c.detail or "type" in c.detail):
            self.emit(ALTER_COLUMNS, sql.alter_column(t, col, "set default", want.default))

    def regrant_sequence(self, table: str, col: str) -> None:
        """A serial column made identity has a new sequence: the spec's grants on it, all of them (the
        compared ACL was the old sequence's, so its differences alone would not restore them)."""
        t = self.table(table)
        if t is None or not managed(t):
            return
        seq = f"{t.schema}.{t.name}_{col}_seq"
        self.regrant("sequence", seq, seq, once="regrant")

    def new_sequence(self, table: str) -> None:
        """A new identity sequence starts with the server's default privileges: reset them (the
        sequence's grants then come from the compared ACL) unless the table is assumed."""
        t = self.table(table)
        if t is None or managed(t):
            self.emit(ACL_RESET, sql.sequence_acl_reset(t or table), once=("sequence acl reset", table))

    def generated_from(self, table: str, col: str) -> list[m.Column]:
        """The desired table's generated columns whose expression uses ``col`` (PostgreSQL refuses
        to change the type of a column a generated column uses)."""
        t = self.table(table)
        return [g for g in t.columns if g.generated is not None and g.name != col and _mentions(g.generated, col)] \
            if t is not None else []

    def rebuild_dependents(self, table: str, col: str, indexes: bool, type_change: bool = False) -> None:
        """Objects PostgreSQL will not keep across a column change, dropped before it and created
        after it from the desired model: views, policies (of any table) and triggers naming the column (a type
        change is refused while they exist); with ``type_change`` (one that rewrites the table),
        the check constraints and the indexes on expressions naming it (PostgreSQL rebuilds them
        from their text, where a constant of the old type may not fit the new one); and, when the
        column is recreated (``indexes``), its indexes and constraints."""
        t = self.table(table)
        if t is None:
            return
        for tr in t.triggers:
            if col in tr.update_columns or tr.when and (_names(tr.when, col) or quote_ident(col) in tr.when):
                self.emit(DROP_TRIGGERS, sql.drop_trigger(t, tr.name), once=("drop trigger", table, tr.name))
                self.create_trigger(t, tr)
        if type_change:
            for k in t.constraints:
                if k.kind == "check" and _mentions(k.expression, col):
                    self.emit(DROP_CONSTRAINTS, sql.drop_constraint(t, k.name), once=("drop constraint", table, k.name))
                    self.emit(CONSTRAINTS, sql.add_constraint(t, k, idempotent=False),
                              once=("add constraint", table, k.name))
            for i in t.indexes:
                if any(not k.is_column and _mentions(k.expression, col) for k in i.keys) or _mentions(i.where, col):
                    self.emit(DROP_INDEXES, sql.drop_index(t, i.name), once=("drop index", table, i.name))
                    self.emit(INDEXES, sql.create_index(t, i, idempotent=False), once=("create index", table, i.name))
        views = self.dependent_views(table, col)
        for v in views:  # deepest first
            self.emit(DROP_VIEWS, sql.drop_view(v), once=("drop view", v.qualified_name))
        for v in reversed(views):
            self.create_view(v, recreated=True)
        # its table's policies naming the column, and those of other tables reading it in a subquery
        for o in self.desired.tables:
            for p in o.policies:
                texts = (p.using, p.with_check)
                if any(_mentions(x, col) for x in texts) if o is t else \
                        any(_names(x, table) for x in texts) and any(_names(x, col) for x in texts):
                    name = o.qualified_name
                    self.emit(DROP_POLICIES, sql.drop_policy(o, p.name), once=("drop policy", name, p.name))
                    self.emit(POLICIES, sql.create_policy(o, p, idempotent=False), once=("create policy", name, p.name))
        if not indexes:
            return
        for i in t.indexes:
            if any(k.is_column and k.expression == col or not k.is_column and _mentions(k.expression, col)
                   for k in i.keys) or col in i.include or _mentions(i.where, col):
                self.emit(INDEXES, sql.create_index(t, i, idempotent=False), once=("create index", table, i.name))
        for k in t.constraints:
            if col in k.columns or _mentions(k.expression, col):
                phase = FKS if k.kind == "foreign_key" else CONSTRAINTS
                self.emit(phase, sql.add_constraint(t, k, idempotent=False), once=("add constraint", table, k.name))

    def constraint(self, c: Change) -> None:
        table = c.key[1]
        t = self.rel(table)
        if c.action in ("drop", "alter"):
            phase = DROP_FKS if c.before.kind == "foreign_key" else DROP_CONSTRAINTS
            self.emit(phase, sql.drop_constraint(t, c.before.name), once=("drop constraint", table, c.before.name))
        if c.action in ("add", "alter"):
            phase = FKS if c.after.kind == "foreign_key" else CONSTRAINTS
            self.emit(phase, sql.add_constraint(t, c.after, idempotent=False),
                      once=("add constraint", table, c.after.name), hazard=hazard_constraint(table, c.after))

    def index(self, c: Change) -> None:
        table = c.key[1]
        t = self.rel(table)
        if c.action in ("drop", "alter"):
            self.emit(DROP_INDEXES, sql.drop_index(t, c.before.name), once=("drop index", table, c.before.name))
        if c.action in ("add", "alter"):
            self.emit(INDEXES, sql.create_index(t, c.after, idempotent=False), once=("create index", table, c.after.name),
                      hazard=hazard_index(table, c.after))

    def policy(self, c: Change) -> None:
        table = c.key[1]
        t = self.rel(table)
        if c.action in ("drop", "alter"):
            self.emit(DROP_POLICIES, sql.drop_policy(t, c.before.name), once=("drop policy", table, c.before.name))
        if c.action in ("add", "alter"):
            self.emit(POLICIES, sql.create_policy(t, c.after, idempotent=False),
                      once=("create policy", table, c.after.name))

    def trigger(self, c: Change) -> None:
        table = c.key[1]
        t = self.rel(table)
        if c.action == "alter" and c.detail == ("enabled",):
            self.emit(TRIGGERS, sql.enable_trigger(t, c.after.name, c.after.enabled))
            return
        if c.action in ("drop", "alter"):
            self.emit(DROP_TRIGGERS, sql.drop_trigger(t, c.before.name), once=("drop trigger", table, c.before.name))
        if c.action in ("add", "alter"):
            self.create_trigger(t, c.after)

    def function(self, c: Change, recreate: bool = False) -> None:
        sig = c.key[1]
        if c.action == "drop":
            self.emit(DROP_FUNCTIONS, sql.drop_function(*sql.function_parts(c.before)), once=("drop function", sig))
            return
        f: m.Function = c.after
        recreate = recreate or c.action == "alter" and function_needs_recreate(c.before, f)
        if recreate:
            # triggers calling it must go first and come back after; its ACL and comment are lost
            for t in self.desired.tables if self.desired is not None else ():
                for tr in t.triggers:
                    if tr.function == f.qualified_name:
                        self.emit(DROP_TRIGGERS, sql.drop_trigger(t, tr.name),
                                  once=("drop trigger", t.qualified_name, tr.name))
                        self.create_trigger(t, tr)
            self.emit(DROP_FUNCTIONS, sql.drop_function(*sql.function_parts(c.before)), once=("drop function", sig))
        self.emit(FUNCTIONS, sql.create_function(f), once=("create function", sig))
        if (c.action == "add" or recreate) and managed(f):
            self.emit(ACL_RESET, sql.acl_reset("function", f), once=("acl reset function", sig))
            if f.comment is not None:
                self.emit(COMMENTS, sql.comment_on("function", f, text=f.comment), once=("comment", "function", sig))
        if recreate:
            self.regrant("function", f, sig)

    def grant(self, c: Change) -> None:
        _, on, obj, role = c.key
        before = set(c.before.privileges) if c.before else set()
        after = set(c.after.privileges) if c.after else set()
        had = set(c.before.grant_option) if c.before else set()
        wanted = set(c.after.grant_option) if c.after else set()
        target = self.fn(obj) if on == "function" else self.rel(obj) if on in ("table", "sequence") else obj
        # a privilege held with grant option may have been granted on by the role: PostgreSQL refuses
        # to revoke it (or only its option) unless `cascade` revokes those grants too
        if before - after:
            self.emit(REVOKE, sql.grant(on, target, sorted(before - after), [role], revoke=True,
                                        cascade=bool(had & (before - after))))
        if (had - wanted) & after:
            self.emit(REVOKE, sql.grant(on, target, sorted((had - wanted) & after), [role], revoke=True,
                                        grant_option=True, cascade=True))
        self.grant_to(on, target, obj, role, after - before - wanted, wanted - had)

    def owner(self, c: Change) -> None:
        _, on, name = c.key
        # the role running this script (the deployer) takes the object back from the API role
        self.emit(OWNERS, sql.owner_to_current_user(on, self.fn(name) if on == "function" else self.rel(name)))

    # ------------------------------------------------------------ enum types and views

    def type(self, c: Change) -> None:
        if isinstance(c.before, str) or isinstance(c.after, str):  # a range or composite type (not modelled)
            self.unmodelled(c)
            return
        name = c.key[1]
        if c.action == "add":
            self.emit(TYPES, sql.create_enum(c.after, idempotent=False))
            return
        if c.action == "drop":
            self.emit(DROP_EXTENSIONS, sql.drop_object("type", name), c.reason)
            return
        have, want = c.before.values, c.after.values
        if enum_is_extension(have, want):
            for value, after, before in enum_additions(have, want):
                self.emit(TYPES, sql.add_enum_value(c.after, value, after, before), outside_transaction=True,
                          enum_value=(name, value))
            return
        self.recreate_enum(c.after, c.reason)

    def sequence(self, c: Change) -> None:
        name = c.key[1]
        if c.action == "add":
            self.emit(TYPES, sql.create_sequence(c.after, idempotent=False))
            if managed(c.after):  # a fresh sequence starts with the server's default privileges
                self.emit(ACL_RESET, sql.acl_reset("sequence", name), once=("acl reset", name))
        elif c.action == "drop":
            self.emit(DROP_EXTENSIONS, sql.drop_object("sequence", name), c.reason)
        else:
            self.emit(TYPES, sql.alter_sequence(c.after))

    def domain(self, c: Change) -> None:
        name = c.key[1]
        if c.action == "add":
            self.emit(TYPES, sql.create_domain(c.after, idempotent=False))
        elif c.action == "drop":
            self.emit(DROP_EXTENSIONS, sql.drop_object("domain", name), c.reason)
        elif "type" in c.detail:  # a base type cannot be altered: recreate, moving the columns through text
            self.recreate_enum(c.after, c.reason, kind="domain")
        else:
            for text in sql.alter_domain(c.before, c.after):
                self.emit(ALTER_COLUMNS, text)

    def recreate_enum(self, ty, why: str | None, kind: str = "type") -> None:
        """Enum values cannot be removed or reordered (nor a domain's base type changed): rename the type,
        create it anew, move every column of the desired tables to it through text (rows holding a removed
        value make it fail), drop the old."""
        name, old = ty.qualified_name, f"{ty.name}__schemagen_old"
        moved = [(t.schema, t.name, col.name) for t in (self.desired.tables if self.desired is not None else ())
                 for col in t.columns if col.type.rstrip("[]") == name]
        # after the functions and views using it are dropped, before they are created again: first, stop
        # (naming them) if anything the plan does not move uses it, e.g. an app's own table or function
        self.emit(REPLACE_TYPES, sql.type_dependents_guard(ty, moved))
        self.emit(REPLACE_TYPES, sql.rename(kind, ty, old), why)
        self.emit(REPLACE_TYPES, sql.create_enum(ty, idempotent=False) if kind == "type"
                  else sql.create_domain(ty, idempotent=False))
        if managed(ty) and ty.comment is not None:
            self.emit(COMMENTS, sql.comment_on(kind, ty, text=ty.comment), once=("comment", kind, name))
        # functions taking or returning it are bound to the old type: recreate them on the new one
        for f in self.desired.functions if self.desired is not None else ():
            if any(_names(text, name) for text in [f.returns] + [a.type for a in f.arguments]):
                self.function(Change(kind="function", object=f.signature, action="alter", before=f, after=f,
                                     key=("function", f.signature)), recreate=True)
        for t in self.desired.tables if self.desired is not None else ():
            for col in t.columns:
                if col.type.rstrip("[]") != name:
                    continue
                if col.default is not None:
                    self.emit(ALTER_COLUMNS, sql.alter_column(t, col.name, "drop default"))
                self.emit(ALTER_COLUMNS, sql.column_type_guard(t, col.name))
                self.emit(ALTER_COLUMNS, sql.alter_column(t, col.name, "type", col.type, via="text" + col.type[len(name):]),
                          why)
                if col.default is not None:
                    self.emit(ALTER_COLUMNS, sql.alter_column(t, col.name, "set default", col.default))
                self.rebuild_dependents(t.qualified_name, col.name, indexes=False)
                self.rebuild_type_users(t, col.name, name)
        self.emit(DROP_OLD_TYPES, sql.drop_object(kind, replace(ty, name=old)))

    def rebuild_type_users(self, t: m.Table, col: str, type_name: str) -> None:
        """Around a column moved to a recreated type: its table's check constraints and indexes whose
        expressions name the column and the type (PostgreSQL would rebuild them from their text, where the
        type's name now means the new type: `operator does not exist: new = old`). Dropped before,
        created after from the desired model (triggers naming the column: ``rebuild_dependents``)."""
        table = t.qualified_name
        for k in t.constraints:
            if k.kind != "foreign_key" and _names(k.expression, type_name) and \
                    (col in k.columns or _mentions(k.expression, col)):
                self.emit(DROP_CONSTRAINTS, sql.drop_constraint(t, k.name), once=("drop constraint", table, k.name))
                self.emit(CONSTRAINTS, sql.add_constraint(t, k, idempotent=False), once=("add constraint", table, k.name))
        for i in t.indexes:
            if any(_names(x, type_name) for x in [i.where] + [k.expression for k in i.keys if not k.is_column]):
                self.emit(DROP_INDEXES, sql.drop_index(t, i.name), once=("drop index", table, i.name))
                self.emit(INDEXES, sql.create_index(t, i, idempotent=False), once=("create index", table, i.name))

    def view(self, c: Change) -> None:
        if c.action == "drop":
            self.emit(DROP_VIEWS, sql.drop_view(c.before), once=("drop view", c.key[1]))
            return
        v: m.View = c.after
        if c.action == "add":
            self.create_view(v)
            return
        # create or replace keeps the view (and what depends on it) when it only appends columns
        compatible = not v.materialized and v.columns[:len(c.before.columns)] == c.before.columns
        if compatible:
            self.emit(VIEWS, sql.create_view(v, idempotent=True), once=("create view", v.qualified_name))
        else:
            self.recreate_view(v)

    def create_view(self, v: m.View, recreated: bool = False) -> None:
        self.emit(VIEWS, sql.create_view(v, idempotent=False), once=("create view", v.qualified_name))
        if managed(v):  # a fresh view starts with the server's default privileges: reset them
            self.emit(ACL_RESET, sql.acl_reset("table", v.qualified_name), once=("acl reset", v.qualified_name))
        if recreated:  # what the drop took with it: the privileges and the comment
            self.regrant("table", v.qualified_name, v.qualified_name)
            if managed(v) and v.comment is not None:
                self.emit(COMMENTS, sql.comment_on(v.kind, v, text=v.comment), once=("comment", v.kind, v.qualified_name))

    def recreate_view(self, v: m.View) -> None:
        """Drop and create again, with the views that read it (PostgreSQL refuses to drop a view
        other views depend on)."""
        for d in self.dependent_views(v.qualified_name):
            self.emit(DROP_VIEWS, sql.drop_view(d), once=("drop view", d.qualified_name))
        self.emit(DROP_VIEWS, sql.drop_view(v), once=("drop view", v.qualified_name))
        self.create_view(v, recreated=True)
        for d in reversed(self.dependent_views(v.qualified_name)):
            self.create_view(d, recreated=True)

    def dependent_views(self, relation: str, column: str | None = None) -> list[m.View]:
        """Desired views whose query names ``relation`` (and ``column``), transitively; the deepest first."""
        out: list[m.View] = []
        for v in self.desired.views if self.desired is not None else ():
            if _names(v.query, relation) and (column is None or _names(v.query, column)):
                for d in self.dependent_views(v.qualified_name):
                    if d not in out:
                        out.append(d)
                if v not in out:
                    out.append(v)
        return out

    def partition(self, c: Change) -> None:
        table, name = c.key[1], c.key[2]
        t = self.rel(table)
        if c.action == "add":
            self.emit(ADD_COLUMNS, sql.create_partition(t, c.after, idempotent=False), once=("partition", table, name))
        elif c.action == "drop":
            self.emit(DROP_TABLES, sql.drop_table(name), c.reason)
        else:  # a new bound: attaching checks that every row fits it
            self.emit(ALTER_COLUMNS, sql.detach_partition(t, name))
            self.emit(ALTER_COLUMNS, sql.attach_partition(t, c.after))

    def replica_identity(self, c: Change) -> None:
        self.emit(REPLICA_IDENTITY, sql.replica_identity(self.rel(c.key[1]), c.after))

    def publication(self, c: Change) -> None:
        name = c.key[1]
        if len(c.key) == 2:  # the publication itself, with its tables
            self.emit(PUBLICATIONS, sql.create_publication(name, idempotent=False))
            for t in c.after.tables:
                self.emit(PUBLICATIONS, sql.publication_table(name, t), once=("publication", name, t))
        elif c.action == "add":
            self.emit(PUBLICATIONS, sql.publication_table(name, c.key[2]), once=("publication", name, c.key[2]))
        else:
            self.emit(DROP_PUBLICATION_TABLES, sql.publication_table(name, c.key[2], add=False))

    def unmodelled(self, c: Change) -> None:
        # views go before anything they could read; types and sequences after the tables using them
        phase = DROP_VIEWS if c.kind in ("view", "materialized view", "foreign table") else DROP_EXTENSIONS
        self.emit(phase, sql.drop_object(c.kind, c.key[1]), c.reason)

    def comment(self, c: Change) -> None:
        kind, obj, name = (c.key[1:] + (None,))[:3]
        target = self.fn(obj) if kind == "function" else self.rel(obj) if kind != "schema" else obj
        self.emit(COMMENTS, sql.comment_on(kind, target, name, c.after), once=("comment",) + c.key[1:])


_NESTED_KINDS = {"column": "columns", "constraint": "constraints", "index": "indexes", "policy": "policies",
                 "trigger": "triggers"}


def touches_assumed(c: Change, desired: m.Schema | None) -> bool:
    """Whether carrying out ``c`` would change an object the spec only assumes (``auth.users``, the app's
    ``conversations``, roles, assumed schemas and functions). ``compare`` reports differences there as
    unmet assumptions; this is the planner's own guard: it never writes DDL on them."""
    if c.kind == "role":
        return True
    if c.kind in ("schema", "extension", "table", "function", "type", "view", "materialized view") \
            and c.action in ("add", "alter"):
        return not managed(c.after)
    if desired is None:
        return False
    if c.kind in _NESTED_KINDS or c.kind == "rls":
        t = desired.table(c.key[1])
        if t is None:
            return False
        if c.kind == "rls":
            return not managed(t)
        own = next((o for o in getattr(t, _NESTED_KINDS[c.kind]) if o.name == c.key[2]), None)
        return not managed(own, t) if own is not None else not managed(t)
    return False


def serial_to_identity(c: Change) -> bool:
    """Whether a column change makes a column taking ``nextval()`` of a sequence an identity column."""
    return c.kind == "column" and c.action == "alter" and "identity" in c.detail and c.after.identity is not None \
        and c.before.identity is None and (c.before.default or "").startswith("nextval(")


def _sequence_of_default(default: str) -> str | None:
    """``nextval('public.s'::regclass)`` -> ``public.s`` (as the catalog names it, quotes taken off)."""
    found = re.fullmatch(r"nextval\('((?:[^']|'')+)'::regclass\)", default)
    return found.group(1).replace("''", "'").replace('"', "") if found else None


def plan(changes: Iterable[Change], desired: m.Schema | None = None) -> Plan:
    """The statements that apply ``changes`` (from ``compare``), in a safe global order.

    ``desired`` (the annotated desired model) lets the planner rebuild what PostgreSQL drops
    along with a change: policies around a column type change, triggers around a function that
    must be recreated, indexes of a recreated column.
    """
    p = _Planner(desired)
    handlers = {"role": p.role, "schema": p.schema, "extension": p.extension, "table": p.table_change,
                "rls": p.rls, "column": p.column, "constraint": p.constraint, "index": p.index,
                "policy": p.policy, "trigger": p.trigger, "function": p.function, "grant": p.grant,
                "comment": p.comment, "owner": p.owner, "type": p.type, "view": p.view, "materialized view": p.view,
                "replica identity": p.replica_identity, "publication": p.publication, "domain": p.domain,
                "sequence": p.sequence, "partition": p.partition}
    handlers.update({kind: p.unmodelled for kind in UNMODELLED_KINDS})
    changes = list(changes)
    # a sequence the spec no longer has whose column becomes an identity column: the conversion drops it (after
    # taking its value, and only once nothing uses it); a drop of its own would come first and be refused
    converted = {_sequence_of_default(c.before.default) for c in changes if serial_to_identity(c)}
    for c in changes:
        if c.kind == "column" and c.action == "alter" and ("type" in c.detail or "collation" in c.detail):
            p.retyped.setdefault(c.key[1], set()).add(c.key[2])
    left_alone = []
    for c in changes:
        if touches_assumed(c, desired):
            left_alone.append(c)
            continue
        if c.kind == "sequence" and c.action == "drop" and c.key[1] in converted:
            continue
        handlers[c.kind](c)
    return Plan(tuple(s for _, _, s in sorted(p.out, key=lambda x: (x[0], x[1]))), tuple(left_alone))
