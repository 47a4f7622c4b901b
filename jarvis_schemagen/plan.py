"""Changes -> ordered SQL statements that bring a database to the spec. Every ordering decision lives here.

Like migra, one global order by phase: roles, schemas and extensions first; then every drop
(triggers and policies first, revokes, foreign keys, constraints, indexes, columns, tables,
functions); then functions, tables and columns, constraints and indexes; policies and
triggers last among the objects; then grants and comments. Within a phase, statements keep the
canonical order of the changes, so the same drift always gives the same bytes.

Statements are written for a session whose ``search_path`` is empty (the SQL text sets it):
every name is quoted and qualified, and every expression comes from PostgreSQL's own
deparser, which qualifies whatever is not in ``pg_catalog``. Statements that can lose data
are preceded by ``-- destructive: <why>``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import model as m
from .compare import UNMODELLED_KINDS, Change, managed
from .render import config_value, dollar_quote, index_key, quote_ident, quote_literal, quote_qualified, quote_role
from . import sql_lang

# phases
ROLES, SCHEMAS, EXTENSIONS, TYPES, DROP_VIEWS = 0, 1, 2, 3, 9
DROP_TRIGGERS, DROP_POLICIES, REVOKE, DROP_FKS, DROP_CONSTRAINTS, DROP_INDEXES = 10, 11, 12, 13, 14, 15
DROP_COLUMNS, DROP_TABLES, DROP_FUNCTIONS, DROP_EXTENSIONS, REPLACE_TYPES = 16, 17, 18, 19, 19
FUNCTIONS = 20
TABLES, ADD_COLUMNS, ALTER_COLUMNS, RLS, OWNERS = 30, 31, 32, 33, 34
CONSTRAINTS, FKS, INDEXES, VIEWS = 40, 41, 42, 45
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


@dataclass(frozen=True)
class Plan:
    statements: tuple[Statement, ...]

    @property
    def destructive(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.destructive)

    def sql(self, header: str = "", transaction: bool = True) -> str:
        """The statements as one script: header comment, then (in a transaction) the statements."""
        lines = [f"-- {h}" if h else "--" for h in header.splitlines()] if header else []
        if not self.statements:
            lines.append("-- No drift: nothing to do.")
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
                lines.append(f"-- destructive: {s.destructive}")
            lines.append(s.sql)
        if transaction:
            lines.append("commit;")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- SQL fragments

def _t(name: str) -> str:
    return quote_qualified(name)


def _cols(names: Iterable[str]) -> str:
    return ", ".join(quote_ident(n) for n in names)


def _fn_ref(signature: str) -> str:
    name, _, args = signature.partition("(")
    return f"{quote_qualified(name)}({args}"


def column_def(c: m.Column) -> str:
    text = f"{quote_ident(c.name)} {c.type}"
    if c.identity:
        text += f" generated {c.identity} as identity"
    if c.generated is not None:
        text += f" generated always as ({c.generated}) stored"
    if c.default is not None:
        text += f" default {c.default}"
    if not c.nullable:
        text += " not null"
    return text


def constraint_def(c: m.Constraint) -> str:
    if c.kind == "primary_key":
        body = f"primary key ({_cols(c.columns)})"
    elif c.kind == "unique":
        body = f"unique ({_cols(c.columns)})"
    elif c.kind == "check":
        body = f"check ({c.expression})"
    elif c.kind == "foreign_key":
        body = f"foreign key ({_cols(c.columns)}) references {_t(c.ref_table)} ({_cols(c.ref_columns)})"
        if c.on_delete and c.on_delete != "no action":
            body += f" on delete {c.on_delete}"
        if c.on_update and c.on_update != "no action":
            body += f" on update {c.on_update}"
        if c.deferrable:
            body += " deferrable"
    else:  # exclusion (and anything else): PostgreSQL's own definition text
        body = c.expression or ""
    return f"constraint {quote_ident(c.name)} {body}"


def index_sql(table: str, i: m.Index) -> str:
    text = (f"create {'unique ' if i.unique else ''}index {quote_ident(i.name)} on {_t(table)} using {i.method} "
            f"({', '.join(index_key(k) for k in i.keys)})")
    if i.include:
        text += f" include ({_cols(i.include)})"
    if i.where:
        text += f" where ({i.where})"
    return text + ";"


def _index_ref(table: str, name: str) -> str:
    return f"{quote_ident(table.split('.', 1)[0])}.{quote_ident(name)}"


def policy_sql(table: str, p: m.Policy) -> str:
    text = (f"create policy {quote_ident(p.name)} on {_t(table)} as {'permissive' if p.permissive else 'restrictive'} "
            f"for {p.command} to {', '.join(quote_role(r) for r in p.roles)}")
    if p.using is not None:
        text += f" using ({p.using})"
    if p.with_check is not None:
        text += f" with check ({p.with_check})"
    return text + ";"


def trigger_sql(table: str, tr: m.Trigger) -> list[str]:
    events = []
    for e in tr.events:
        events.append(f"update of {_cols(tr.update_columns)}" if e == "update" and tr.update_columns else e)
    text = (f"create trigger {quote_ident(tr.name)} {tr.timing} {' or '.join(events)} on {_t(table)} "
            f"for each {tr.for_each}")
    if tr.when:
        text += f" when ({tr.when})"
    out = [text + f" execute function {_t(tr.function)}();"]
    if not tr.enabled:
        out.append(f"alter table {_t(table)} disable trigger {quote_ident(tr.name)};")
    return out


def function_sql(f: m.Function) -> str:
    args = []
    for a in f.arguments:
        if a.mode == "table":  # part of RETURNS TABLE(...)
            continue
        text = "" if a.mode == "in" else a.mode + " "
        if a.name:
            text += quote_ident(a.name) + " "
        text += a.type
        if a.default is not None:
            text += f" default {a.default}"
        args.append(text)
    lines = [f"create or replace function {_t(f.qualified_name)}({', '.join(args)})",
             f"returns {f.returns}", f"language {f.language}", f.volatility]
    if f.strict:
        lines.append("strict")
    if f.security_definer:
        lines.append("security definer")
    lines += [f"set {k} = {config_value(k, v)}" for k, v in f.config]
    lines.append(f"as {dollar_quote(f.body, 'body')};")
    return "\n".join(lines)


def _on(on: str, obj: str) -> tuple[str, str]:
    """``grant ... <privileges> on <target>``: (privilege suffix for columns, target)."""
    if on == "column":
        table, column = obj.rsplit(".", 1)
        return f" ({quote_ident(column)})", f"table {_t(table)}"
    if on == "function":
        return "", f"function {_fn_ref(obj)}"
    if on == "schema":
        return "", f"schema {quote_ident(obj)}"
    return "", f"{on} {_t(obj)}"


def _privileges(privs: Iterable[str], suffix: str) -> str:
    return ", ".join(f"{p}{suffix}" for p in sorted(privs))


def acl_reset_sql(on: str, obj: str) -> str:
    """Revoke everything from everyone but the owner: a fresh object starts with whatever the
    server's default privileges gave it, which is not what the spec says."""
    if on == "function":
        src = (f"select distinct a.grantee from pg_catalog.pg_proc as p, pg_catalog.aclexplode(coalesce(p.proacl, "
               f"pg_catalog.acldefault('f', p.proowner))) as a where p.oid = "
               f"{quote_literal(_fn_ref(obj))}::pg_catalog.regprocedure and a.grantee <> p.proowner")
    else:
        src = (f"select distinct a.grantee from pg_catalog.pg_class as c, pg_catalog.aclexplode(coalesce(c.relacl, "
               f"pg_catalog.acldefault('r', c.relowner))) as a where c.oid = "
               f"{quote_literal(_t(obj))}::pg_catalog.regclass and a.grantee <> c.relowner")
    target = _on(on, obj)[1]
    body = (f"\ndeclare\n    r record;\nbegin\n    for r in {src} loop\n"
            f"        execute pg_catalog.format({quote_literal('revoke all on ' + target.replace('%', '%%') + ' from %s')},\n"
            f"            case when r.grantee = 0 then 'public' else r.grantee::pg_catalog.regrole::text end);\n"
            f"    end loop;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def sequence_acl_reset_sql(table: str) -> str:
    """``acl_reset_sql`` for the sequences of a table's identity columns, found at run time."""
    src = ("select s.oid::pg_catalog.regclass::text as seq, a.grantee from pg_catalog.pg_depend as d "
           "join pg_catalog.pg_class as s on s.oid = d.objid and s.relkind = 'S', "
           "pg_catalog.aclexplode(coalesce(s.relacl, pg_catalog.acldefault('s', s.relowner))) as a "
           f"where d.refobjid = {quote_literal(_t(table))}::pg_catalog.regclass and d.deptype in ('a', 'i') "
           "and d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and a.grantee <> s.relowner")
    body = (f"\ndeclare\n    r record;\nbegin\n    for r in {src} loop\n"
            f"        execute pg_catalog.format('revoke all on sequence %s from %s', r.seq,\n"
            f"            case when r.grantee = 0 then 'public' else r.grantee::pg_catalog.regrole::text end);\n"
            f"    end loop;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def comment_sql(key: tuple[str, ...], text: str | None) -> str:
    kind = key[0]
    value = "null" if text is None else quote_literal(text)
    if kind == "table":
        target = f"table {_t(key[1])}"
    elif kind == "column":
        target = f"column {_t(key[1])}.{quote_ident(key[2])}"
    elif kind == "index":
        target = f"index {_index_ref(key[1], key[2])}"
    elif kind in ("constraint", "policy", "trigger"):
        target = f"{kind} {quote_ident(key[2])} on {_t(key[1])}"
    elif kind == "function":
        target = f"function {_fn_ref(key[1])}"
    elif kind == "schema":
        target = f"schema {quote_ident(key[1])}"
    elif kind in ("type", "view", "materialized view"):
        target = f"{kind} {_t(key[1])}"
    else:
        raise ValueError(f"cannot comment on a {kind}")
    return f"comment on {target} is {value};"


def _mentions(expression: str | None, column: str) -> bool:
    if not expression:
        return False
    return re.search(r'(?<![\w$."])' + re.escape(column) + r'(?![\w$"])', expression) is not None or \
        quote_ident(column) in expression


def _names(query: str | None, name: str) -> bool:
    """Whether a deparsed query mentions ``name`` (a qualified relation, or a column, also as ``t.col``)."""
    return bool(query) and re.search(r'(?<![\w$"])' + re.escape(name) + r'(?![\w$"])', query) is not None


def function_needs_recreate(before: m.Function, after: m.Function) -> bool:
    """CREATE OR REPLACE cannot change the result type, rename or re-mode a parameter, or drop a default."""
    if before.returns != after.returns:
        return True
    if [(a.name, a.mode, a.type) for a in before.arguments] != [(a.name, a.mode, a.type) for a in after.arguments]:
        return True
    return any(b.default is not None and a.default is None for b, a in zip(before.arguments, after.arguments))


# ---------------------------------------------------------------- planner

class _Planner:
    def __init__(self, desired: m.Schema | None) -> None:
        self.desired = desired
        self.out: list[tuple[int, int, Statement]] = []
        self.seq = 0
        self.done: set[tuple] = set()  # (what, key) already emitted, to avoid duplicates

    def emit(self, phase: int, sql: str, destructive: str | None = None, once: tuple | None = None,
             outside_transaction: bool = False) -> None:
        if once is not None:
            if once in self.done:
                return
            self.done.add(once)
        self.seq += 1
        self.out.append((phase, self.seq, Statement(sql, phase, destructive, outside_transaction)))

    def table(self, name: str) -> m.Table | None:
        return self.desired.table(name) if self.desired is not None else None

    def desired_acl(self, on: str, obj: str) -> dict[str, set[str]]:
        acl: dict[str, set[str]] = {}
        for g in self.desired.grants if self.desired is not None else ():
            if g.on == on and g.object == obj and g.action == "grant":
                for r in g.roles:
                    acl.setdefault(r, set()).update(g.privileges)
        return acl

    # ------------------------------------------------------------ per kind

    def role(self, c: Change) -> None:
        r: m.Role = c.after
        if c.action == "add":
            opts = ("login" if r.login else "nologin") + (" bypassrls" if r.bypassrls else "")
            body = f"\nbegin\n    create role {quote_ident(r.name)} {opts};\nexception when duplicate_object then\n" \
                   f"    null;\nend\n"
            self.emit(ROLES, f"do {dollar_quote(body, 'do')};")
            missing = r.member_of
        else:
            if "bypassrls" in c.detail:
                self.emit(ROLES, f"alter role {quote_ident(r.name)} {'bypassrls' if r.bypassrls else 'nobypassrls'};")
            missing = tuple(x for x in r.member_of if x not in c.before.member_of)
        for g in missing:
            self.emit(ROLES, f"grant {quote_ident(g)} to {quote_ident(r.name)};")

    def schema(self, c: Change) -> None:
        n: m.Namespace = c.after
        self.emit(SCHEMAS, f"create schema if not exists {quote_ident(n.name)};")
        if n.comment is not None and managed(n):
            self.emit(COMMENTS, comment_sql(("schema", n.name), n.comment))

    def extension(self, c: Change) -> None:
        e = c.after or c.before
        if c.action == "add":
            schema = f" with schema {quote_ident(e.schema)}" if e.schema else ""
            self.emit(EXTENSIONS, f"create extension if not exists {quote_ident(e.name)}{schema};")
        elif c.action == "alter":
            self.emit(EXTENSIONS, f"alter extension {quote_ident(e.name)} set schema {quote_ident(e.schema)};")
        else:
            self.emit(DROP_EXTENSIONS, f"drop extension {quote_ident(e.name)};")

    def create_table(self, t: m.Table) -> None:
        name = t.qualified_name
        inline = [c for c in t.constraints if c.kind != "foreign_key"]
        parts = [column_def(c) for c in t.columns] + [constraint_def(c) for c in inline]
        self.emit(TABLES, f"create table {_t(name)} (\n    " + ",\n    ".join(parts) + "\n);")
        for c in t.constraints:
            if c.kind == "foreign_key":
                self.emit(FKS, f"alter table {_t(name)} add {constraint_def(c)};")
        for i in t.indexes:
            self.emit(INDEXES, index_sql(name, i))
        if t.rls_enabled:
            self.emit(RLS, f"alter table {_t(name)} enable row level security;")
        if t.rls_forced:
            self.emit(RLS, f"alter table {_t(name)} force row level security;")
        for p in t.policies:
            self.emit(POLICIES, policy_sql(name, p))
        for tr in t.triggers:
            for sql in trigger_sql(name, tr):
                self.emit(TRIGGERS, sql)
        if managed(t):  # an assumed table keeps what the server's defaults give it (the spec does not own it)
            self.emit(ACL_RESET, acl_reset_sql("table", name))
            if any(c.identity for c in t.columns):
                self.emit(ACL_RESET, sequence_acl_reset_sql(name), once=("sequence acl reset", name))
        if managed(t) and t.comment is not None:
            self.emit(COMMENTS, comment_sql(("table", name), t.comment))
        for kind, attr in (("column", "columns"), ("constraint", "constraints"), ("index", "indexes"),
                           ("policy", "policies"), ("trigger", "triggers")):
            for o in getattr(t, attr):
                if o.comment is not None and managed(o, t):
                    self.emit(COMMENTS, comment_sql((kind, name, o.name), o.comment))

    def table_change(self, c: Change) -> None:
        if c.action == "add":
            self.create_table(c.after)
        elif c.action == "drop":
            self.emit(DROP_TABLES, f"drop table {_t(c.key[1])};", c.reason or f"drops table {c.key[1]} and its rows")

    def rls(self, c: Change) -> None:
        name = _t(c.key[1])
        if "enabled" in c.detail:
            self.emit(RLS, f"alter table {name} {'enable' if c.after.enabled else 'disable'} row level security;")
        if "forced" in c.detail:
            self.emit(RLS, f"alter table {name} {'force' if c.after.forced else 'no force'} row level security;")

    def column(self, c: Change) -> None:
        table, col = c.key[1], c.key[2]
        t = _t(table)
        if c.action == "add":
            self.emit(ADD_COLUMNS, f"alter table {t} add column {column_def(c.after)};")
            if c.after.identity:
                self.new_sequence(table)
            return
        if c.action == "drop":
            self.emit(DROP_COLUMNS, f"alter table {t} drop column {quote_ident(col)};", c.reason)
            return
        want: m.Column = c.after
        have: m.Column = c.before
        alter = f"alter table {t} alter column {quote_ident(col)}"
        if "generated" in c.detail and want.generated is not None:
            # a generation expression can only be set by recreating the column
            why = c.reason if c.destructive else None
            self.emit(DROP_COLUMNS, f"alter table {t} drop column {quote_ident(col)};", why)
            self.emit(ADD_COLUMNS, f"alter table {t} add column {column_def(want)};")
            self.rebuild_dependents(table, col, indexes=True)
            return
        if "generated" in c.detail:
            self.emit(ALTER_COLUMNS, f"{alter} drop expression;")
        if "default" in c.detail and want.default is None or "type" in c.detail and have.default is not None:
            self.emit(ALTER_COLUMNS, f"{alter} drop default;")
        if "identity" in c.detail and want.identity is None:
            self.emit(ALTER_COLUMNS, f"{alter} drop identity if exists;")
        if "type" in c.detail:
            self.emit(ALTER_COLUMNS, f"{alter} type {want.type} using {quote_ident(col)}::{want.type};", c.reason)
            self.rebuild_dependents(table, col, indexes=False)
        if "nullable" in c.detail:
            self.emit(ALTER_COLUMNS, f"{alter} {'drop' if want.nullable else 'set'} not null;")
        if "identity" in c.detail and want.identity is not None:
            if have.identity is None:
                self.emit(ALTER_COLUMNS, f"{alter} add generated {want.identity} as identity;")
                self.new_sequence(table)
            else:
                self.emit(ALTER_COLUMNS, f"{alter} set generated {want.identity};")
        if want.default is not None and ("default" in c.detail or "type" in c.detail):
            self.emit(ALTER_COLUMNS, f"{alter} set default {want.default};")

    def new_sequence(self, table: str) -> None:
        """A new identity sequence starts with the server's default privileges: reset them (the
        sequence's grants then come from the compared ACL) unless the table is assumed."""
        t = self.table(table)
        if t is None or managed(t):
            self.emit(ACL_RESET, sequence_acl_reset_sql(table), once=("sequence acl reset", table))

    def rebuild_dependents(self, table: str, col: str, indexes: bool) -> None:
        """Objects PostgreSQL will not keep across a column change: policies naming the column
        (a type change is refused while they exist) and, when the column is recreated, its
        indexes and constraints."""
        t = self.table(table)
        if t is None:
            return
        views = self.dependent_views(table, col)
        for v in views:  # deepest first
            self.emit(DROP_VIEWS, sql_lang.view_drop(v), once=("drop view", v.qualified_name))
        for v in reversed(views):
            self.create_view(v, recreated=True)
        for p in t.policies:
            if _mentions(p.using, col) or _mentions(p.with_check, col):
                self.emit(DROP_POLICIES, f"drop policy if exists {quote_ident(p.name)} on {_t(table)};",
                          once=("drop policy", table, p.name))
                self.emit(POLICIES, policy_sql(table, p), once=("create policy", table, p.name))
        if not indexes:
            return
        for i in t.indexes:
            if any(k.is_column and k.expression == col or not k.is_column and _mentions(k.expression, col)
                   for k in i.keys) or col in i.include or _mentions(i.where, col):
                self.emit(INDEXES, index_sql(table, i), once=("create index", table, i.name))
        for k in t.constraints:
            if col in k.columns or _mentions(k.expression, col):
                phase = FKS if k.kind == "foreign_key" else CONSTRAINTS
                self.emit(phase, f"alter table {_t(table)} add {constraint_def(k)};",
                          once=("add constraint", table, k.name))

    def constraint(self, c: Change) -> None:
        table = c.key[1]
        if c.action in ("drop", "alter"):
            phase = DROP_FKS if c.before.kind == "foreign_key" else DROP_CONSTRAINTS
            self.emit(phase, f"alter table {_t(table)} drop constraint {quote_ident(c.before.name)};",
                      once=("drop constraint", table, c.before.name))
        if c.action in ("add", "alter"):
            phase = FKS if c.after.kind == "foreign_key" else CONSTRAINTS
            self.emit(phase, f"alter table {_t(table)} add {constraint_def(c.after)};",
                      once=("add constraint", table, c.after.name))

    def index(self, c: Change) -> None:
        table = c.key[1]
        if c.action in ("drop", "alter"):
            self.emit(DROP_INDEXES, f"drop index {_index_ref(table, c.before.name)};")
        if c.action in ("add", "alter"):
            self.emit(INDEXES, index_sql(table, c.after), once=("create index", table, c.after.name))

    def policy(self, c: Change) -> None:
        table = c.key[1]
        if c.action in ("drop", "alter"):
            self.emit(DROP_POLICIES, f"drop policy if exists {quote_ident(c.before.name)} on {_t(table)};",
                      once=("drop policy", table, c.before.name))
        if c.action in ("add", "alter"):
            self.emit(POLICIES, policy_sql(table, c.after), once=("create policy", table, c.after.name))

    def trigger(self, c: Change) -> None:
        table = c.key[1]
        if c.action == "alter" and c.detail == ("enabled",):
            verb = "enable" if c.after.enabled else "disable"
            self.emit(TRIGGERS, f"alter table {_t(table)} {verb} trigger {quote_ident(c.after.name)};")
            return
        if c.action in ("drop", "alter"):
            self.emit(DROP_TRIGGERS, f"drop trigger if exists {quote_ident(c.before.name)} on {_t(table)};",
                      once=("drop trigger", table, c.before.name))
        if c.action in ("add", "alter"):
            for sql in trigger_sql(table, c.after):
                self.emit(TRIGGERS, sql, once=("create trigger", table, c.after.name, sql))

    def function(self, c: Change, recreate: bool = False) -> None:
        sig = c.key[1]
        if c.action == "drop":
            self.emit(DROP_FUNCTIONS, f"drop function {_fn_ref(sig)};", once=("drop function", sig))
            return
        f: m.Function = c.after
        recreate = recreate or c.action == "alter" and function_needs_recreate(c.before, f)
        if recreate:
            # triggers calling it must go first and come back after; its ACL and comment are lost
            for t in self.desired.tables if self.desired is not None else ():
                for tr in t.triggers:
                    if tr.function == f.qualified_name:
                        self.emit(DROP_TRIGGERS, f"drop trigger if exists {quote_ident(tr.name)} on {_t(t.qualified_name)};",
                                  once=("drop trigger", t.qualified_name, tr.name))
                        for sql in trigger_sql(t.qualified_name, tr):
                            self.emit(TRIGGERS, sql, once=("create trigger", t.qualified_name, tr.name, sql))
            self.emit(DROP_FUNCTIONS, f"drop function {_fn_ref(sig)};", once=("drop function", sig))
        self.emit(FUNCTIONS, function_sql(f), once=("create function", sig))
        if (c.action == "add" or recreate) and managed(f):
            self.emit(ACL_RESET, acl_reset_sql("function", sig), once=("acl reset function", sig))
            if managed(f) and f.comment is not None:
                self.emit(COMMENTS, comment_sql(("function", sig), f.comment), once=("comment", "function", sig))
        if recreate:
            for role, privs in sorted(self.desired_acl("function", sig).items()):
                self.emit(GRANTS, f"grant {_privileges(privs, '')} on function {_fn_ref(sig)} to {quote_role(role)};",
                          once=("grant", "function", sig, role))

    def grant(self, c: Change) -> None:
        _, on, obj, role = c.key
        before = set(c.before.privileges) if c.before else set()
        after = set(c.after.privileges) if c.after else set()
        suffix, target = _on(on, obj)
        if before - after:
            self.emit(REVOKE, f"revoke {_privileges(before - after, suffix)} on {target} from {quote_role(role)};")
        if after - before:
            self.emit(GRANTS, f"grant {_privileges(after - before, suffix)} on {target} to {quote_role(role)};",
                      once=("grant", on, obj, role))

    def owner(self, c: Change) -> None:
        _, on, name = c.key
        target = f"function {_fn_ref(name)}" if on == "function" else f"table {_t(name)}"
        # the role running this script (the deployer) takes the object back from the API role
        self.emit(OWNERS, f"alter {target} owner to current_user;")

    # ------------------------------------------------------------ enum types and views

    def type(self, c: Change) -> None:
        if isinstance(c.before, str) or isinstance(c.after, str):  # a range or composite type (not modelled)
            self.unmodelled(c)
            return
        name = c.key[1]
        if c.action == "add":
            self.emit(TYPES, sql_lang.enum_create(c.after))
            return
        if c.action == "drop":
            self.emit(DROP_EXTENSIONS, f"drop type {_t(name)};", c.reason)
            return
        have, want = c.before.values, c.after.values
        if sql_lang.enum_is_extension(have, want):
            for value, after, before in sql_lang.enum_additions(have, want):
                self.emit(TYPES, sql_lang.enum_add_value(name, value, after, before), outside_transaction=True)
            return
        self.recreate_enum(c.after, c.reason)

    def recreate_enum(self, ty: m.EnumType, why: str | None) -> None:
        """Values cannot be removed or reordered: rename the type, create it anew, move every column
        of the desired tables to it through text (rows holding a removed value make it fail), drop the old."""
        name, old = ty.qualified_name, f"{ty.name}__schemagen_old"
        # after the functions using it are dropped (by their old signature), before they are created again
        self.emit(REPLACE_TYPES, f"alter type {_t(name)} rename to {quote_ident(old)};", why)
        self.emit(REPLACE_TYPES, sql_lang.enum_create(ty))
        if managed(ty) and ty.comment is not None:
            self.emit(COMMENTS, comment_sql(("type", name), ty.comment), once=("comment", "type", name))
        # functions taking or returning it are bound to the old type: recreate them on the new one
        for f in self.desired.functions if self.desired is not None else ():
            if any(_names(text, name) for text in [f.returns] + [a.type for a in f.arguments]):
                self.function(Change(kind="function", object=f.signature, action="alter", before=f, after=f,
                                     key=("function", f.signature)), recreate=True)
        for t in self.desired.tables if self.desired is not None else ():
            for col in t.columns:
                if col.type.rstrip("[]") != name:
                    continue
                alter = f"alter table {_t(t.qualified_name)} alter column {quote_ident(col.name)}"
                if col.default is not None:
                    self.emit(ALTER_COLUMNS, f"{alter} drop default;")
                text_type = "text" + col.type[len(name):]
                self.emit(ALTER_COLUMNS, f"{alter} type {col.type} using {quote_ident(col.name)}::{text_type}::{col.type};",
                          why)
                if col.default is not None:
                    self.emit(ALTER_COLUMNS, f"{alter} set default {col.default};")
                self.rebuild_dependents(t.qualified_name, col.name, indexes=False)
        self.emit(DROP_OLD_TYPES, f"drop type {quote_ident(ty.schema)}.{quote_ident(old)};")

    def view(self, c: Change) -> None:
        if c.action == "drop":
            self.emit(DROP_VIEWS, sql_lang.view_drop(c.before), once=("drop view", c.key[1]))
            return
        v: m.View = c.after
        if c.action == "add":
            self.create_view(v)
            return
        # create or replace keeps the view (and what depends on it) when it only appends columns
        compatible = not v.materialized and v.columns[:len(c.before.columns)] == c.before.columns
        if compatible:
            self.emit(VIEWS, sql_lang.view_create(v), once=("create view", v.qualified_name))
        else:
            self.recreate_view(v)

    def create_view(self, v: m.View, recreated: bool = False) -> None:
        self.emit(VIEWS, sql_lang.view_create(v, replace=False), once=("create view", v.qualified_name))
        if managed(v):  # a fresh view starts with the server's default privileges: reset them
            self.emit(ACL_RESET, acl_reset_sql("table", v.qualified_name), once=("acl reset", v.qualified_name))
        if recreated:  # what the drop took with it: the privileges and the comment
            for role, privs in sorted(self.desired_acl("table", v.qualified_name).items()):
                self.emit(GRANTS, f"grant {_privileges(privs, '')} on table {_t(v.qualified_name)} to {quote_role(role)};",
                          once=("grant", "table", v.qualified_name, role))
            if managed(v) and v.comment is not None:
                self.emit(COMMENTS, sql_lang.comment_on(v.kind, v.qualified_name, v.comment),
                          once=("comment", v.kind, v.qualified_name))

    def recreate_view(self, v: m.View) -> None:
        """Drop and create again, with the views that read it (PostgreSQL refuses to drop a view
        other views depend on)."""
        for d in self.dependent_views(v.qualified_name):
            self.emit(DROP_VIEWS, sql_lang.view_drop(d), once=("drop view", d.qualified_name))
        self.emit(DROP_VIEWS, sql_lang.view_drop(v), once=("drop view", v.qualified_name))
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

    def unmodelled(self, c: Change) -> None:
        name = c.key[1]
        # views go before anything they could read; types and sequences after the tables using them
        phase = DROP_VIEWS if c.kind in ("view", "materialized view", "foreign table") else DROP_EXTENSIONS
        self.emit(phase, f"drop {c.kind} {_t(name)};", c.reason)

    def comment(self, c: Change) -> None:
        self.emit(COMMENTS, comment_sql(c.key[1:], c.after), once=("comment",) + c.key[1:])


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
                "comment": p.comment, "owner": p.owner, "type": p.type, "view": p.view, "materialized view": p.view}
    handlers.update({kind: p.unmodelled for kind in UNMODELLED_KINDS})
    for c in changes:
        handlers[c.kind](c)
    return Plan(tuple(s for _, _, s in sorted(p.out, key=lambda x: (x[0], x[1]))))
