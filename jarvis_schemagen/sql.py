"""Every SQL statement schemagen generates, one builder per statement kind: the one author.

The Jinja templates (the idempotent migration files) and the planner (change migrations,
``diff --format sql``) both call these functions, so a ``create policy`` or a trigger is
written in exactly one place. Where the file form and the plan form differ (``if not
exists``, drop-if-exists + create, ``create or replace``), that is the ``idempotent``
keyword of the one builder: ``True`` for the migration files (safe to run twice), ``False``
for plans (computed against a known state: a statement meeting an unexpected object fails
loudly instead of silently keeping it).

Builders are pure: model objects (or names) in, SQL text out. They decide no order (that is
``plan.py``, and ``render.py`` within one file). Lexical safety lives here and only here:

* every identifier goes through ``quote_ident`` (always double-quoted, quotes doubled);
* every string goes through ``quote_literal`` (quotes doubled, ``E''`` with doubled
  backslashes when there is a backslash, so the text is right whatever
  ``standard_conforming_strings`` says); comments are literals;
* dollar-quoted bodies get a tag that does not occur in them;
* keywords (privileges, trigger events, policy commands ...) are checked against the words
  PostgreSQL accepts; type names are checked to hold no quote, semicolon or comment outside
  a double-quoted identifier;
* NUL, which PostgreSQL cannot store in text, is rejected (``ValueError``) everywhere.

What is *not* quoted, by design: SQL expressions from the spec or PostgreSQL's deparser
(defaults, checks, policy and trigger conditions, generated columns, index expressions) and
function bodies (dollar-quoted). They are SQL, validated where they are read.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence, Union

from . import model as m
from .printable import CONTROLS, escape_controls

Rel = Union[str, m.Table, m.View, m.EnumType, m.Domain, m.Sequence]  # a relation or type: model object or "schema.name"
_NAMED = (m.Table, m.View, m.EnumType, m.Domain, m.Sequence)


# ---------------------------------------------------------------- lexical

def _text(value: object, what: str) -> str:
    text = str(value)
    if "\x00" in text:
        raise ValueError(f"{what} contains a NUL character, which PostgreSQL cannot store: {text!r}")
    return text


def quote_ident(name: str) -> str:
    """Always-quoted identifier: ``"user_plans"``; embedded quotes doubled. A name holding a control
    character (names read back from a database can hold a newline or an escape sequence) is
    written in the ``U&"..."`` form with that character as a ``\\XXXX`` escape: the same
    identifier, in SQL text that stays printable (a terminal showing ``diff --format sql`` is
    sent no escape sequence)."""
    text = _text(name, "identifier")
    if not text:
        raise ValueError("an identifier cannot be empty")
    if CONTROLS.search(text):
        return 'U&"' + _unicode_escaped(text.replace('"', '""')) + '"'
    return '"' + text.replace('"', '""') + '"'


def _unicode_escaped(text: str) -> str:
    """For ``U&"..."``: backslashes doubled, control characters as ``\\XXXX`` (``\\+XXXXXX``)."""
    def one(mt: re.Match) -> str:
        code = ord(mt.group(0))
        return "\\\\" if code == 0x5C else f"\\{code:04X}" if code <= 0xFFFF else f"\\+{code:06X}"

    return re.sub(r"\\|" + CONTROLS.pattern, one, text)


# control characters other than newline and tab, which a literal or body may hold as they are
_ODD_CONTROLS = re.compile("(?![\n\t])" + CONTROLS.pattern)


def _escape_string_escaped(text: str) -> str:
    """For ``E'...'``: backslashes doubled, control characters as ``\\xNN`` / ``\\uXXXX``."""
    def one(mt: re.Match) -> str:
        code = ord(mt.group(0))
        return "\\\\" if code == 0x5C else f"\\x{code:02x}" if code <= 0x7F else \
            f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return re.sub(r"\\|" + _ODD_CONTROLS.pattern, one, text)


def qualified(schema: str, name: str) -> str:
    """``"schema"."name"`` from the two parts."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def quote_qualified(name: str) -> str:
    """``public.user_plans`` -> ``"public"."user_plans"`` (split at the first dot; no dot: one name)."""
    schema, dot, rel = str(name).partition(".")
    return qualified(schema, rel) if dot else quote_ident(schema)


def quote_literal(text: str) -> str:
    """A string literal: quotes doubled; with a backslash, the ``E''`` form with backslashes
    doubled (PostgreSQL's own ``quote_literal``), right under either ``standard_conforming_strings``."""
    text = _text(text, "string")
    if _ODD_CONTROLS.search(text):  # printable SQL: control characters (but newline, tab) as escapes
        return "E'" + _escape_string_escaped(text.replace("'", "''")) + "'"
    quoted = "'" + text.replace("'", "''") + "'"
    if "\\" in text:
        return "E" + quoted.replace("\\", "\\\\")
    return quoted


def quote_role(name: str) -> str:
    """A role in GRANT/REVOKE/policies: ``public`` is the PUBLIC keyword, anything else is quoted."""
    return "public" if name == "public" else quote_ident(name)


def roles(names: Iterable[str]) -> str:
    return ", ".join(quote_role(r) for r in names)


def idents(names: Iterable[str]) -> str:
    return ", ".join(quote_ident(n) for n in names)


_TAG = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def dollar_quote(body: str, tag: str = "body") -> str:
    """``$tag$body$tag$`` with a tag whose closing delimiter first occurs right after ``body``
    (so no text of the body, not even a trailing ``$tag``, can close it early)."""
    body = _text(body, "dollar-quoted body")
    if not _TAG.fullmatch(tag):
        raise ValueError(f"invalid dollar-quote tag {tag!r}")
    candidate, n = tag, 0
    while (body + f"${candidate}$").find(f"${candidate}$") != len(body):
        n += 1
        candidate = f"{tag}_{n}"
    return f"${candidate}${body}${candidate}$"


def line_comment(text: str) -> str:
    """``-- text``; every line of a multi-line text gets its own ``--`` (a line break never
    ends the comment into SQL)."""
    text = _text(text, "comment")
    return "\n".join(f"-- {escape_controls(line, keep=chr(9))}".rstrip() for line in re.split(r"\r\n|\r|\n", text))


def keyword(value: str, allowed: Iterable[str], what: str) -> str:
    """``value`` if it is one of the SQL words ``allowed`` here."""
    if value not in allowed:
        raise ValueError(f"invalid {what} {value!r}")
    return value


_WORD = re.compile(r"[a-z_][a-z0-9_]*")


def word(name: str) -> str:
    """A lower-case name printed bare (``plpgsql``, ``btree``) when it is one simple word, else quoted."""
    return name if _WORD.fullmatch(str(name)) else quote_ident(name)


def setting_name(key: str) -> str:
    """A configuration parameter name (``search_path``, ``plpgsql.variable_conflict``)."""
    return ".".join(word(part) for part in str(key).split("."))


_TYPE_OUTSIDE_QUOTES = re.compile(r"[A-Za-z0-9_ .,()\[\]]*")  # no "$": " $x$" would open a dollar quote


def type_name(text: str) -> str:
    """A type as written by the spec or ``format_type`` (``numeric(12,2)``, ``"My Type"[]``),
    checked: outside double-quoted identifiers only letters, digits, ``_ .,()[]``, with
    balanced parentheses. Returned unchanged, except that a quoted name holding a control
    character is rewritten in the ``U&"..."`` form (the same name, printable)."""
    text = _text(text, "type")
    outside = re.sub(r'"(?:[^"]|"")*"', "", text)
    depth = 0
    for ch in outside:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if not text.strip() or depth != 0 or not _TYPE_OUTSIDE_QUOTES.fullmatch(outside):
        raise ValueError(f"invalid type {text!r}")
    if CONTROLS.search(text):
        text = re.sub(r'(?<![Uu]&)"((?:[^"]|"")*)"',
                      lambda mt: 'U&"' + _unicode_escaped(mt.group(1)) + '"' if CONTROLS.search(mt.group(1))
                      else mt.group(0), text)
    return text


def _split_top(text: str) -> list[str]:
    """``a, numeric(1,2), "x,y"`` -> the comma-separated items outside parentheses and quotes."""
    items, depth, quoted, cur = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([":
            depth += 1
        elif not quoted and ch in ")]":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items


# ---------------------------------------------------------------- references

def rel(obj: Rel) -> str:
    """A table, view or type: from the model object's parts, or a qualified name."""
    if isinstance(obj, _NAMED):
        return qualified(obj.schema, obj.name)
    return quote_qualified(obj)


def _schema_of(table: Rel) -> str:
    return table.schema if isinstance(table, _NAMED) else str(table).partition(".")[0]


def function_ref(schema: str, name: str, arg_types: Sequence[str]) -> str:
    """``"public"."f"(uuid, text)`` from the catalog parts."""
    return f"{qualified(schema, name)}({', '.join(type_name(t) for t in arg_types)})"


def split_signature(signature: str) -> tuple[str, str, tuple[str, ...]]:
    """``public.f(uuid, text)`` -> ``("public", "f", ("uuid", "text"))``. The argument list is the
    last parenthesised group, found from the end (argument types are PostgreSQL's format_type
    text, whose odd names are double-quoted), so a function name may hold anything, ``(`` and
    ``;`` included (``a(int);grant ...``): it becomes a quoted name, never SQL."""
    text = str(signature)
    if not text.endswith(")"):
        schema, _, name = text.partition(".")
        return schema, name, ()
    depth, quoted, open_at = 0, False, -1
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == ")":
            depth += 1
        elif not quoted and ch == "(":
            depth -= 1
            if depth == 0:
                open_at = i
                break
    if open_at < 0:
        raise ValueError(f"invalid function signature {signature!r}")
    schema, _, name = text[:open_at].partition(".")
    return schema, name, tuple(_split_top(text[open_at + 1:-1]))


def function_parts(f: m.Function) -> tuple[str, str, tuple[str, ...]]:
    """(schema, name, the argument types that identify it)."""
    return f.schema, f.name, tuple(a.type for a in f.arguments if a.mode in ("in", "inout", "variadic"))


def function(f: m.Function | str) -> str:
    """A function reference from the model object, or from a signature ``schema.fn(types)``."""
    return function_ref(*(function_parts(f) if isinstance(f, m.Function) else split_signature(f)))


def index_ref(table: Rel, name: str) -> str:
    """An index lives in its table's schema."""
    return qualified(_schema_of(table), name)


# ---------------------------------------------------------------- fragments

IDENTITY = ("always", "by default")
REFERENTIAL_ACTIONS = ("cascade", "set null", "set default", "restrict", "no action")


_SERIAL_OF = {"smallint": "smallserial", "integer": "serial", "bigint": "bigserial"}


def serial_type(table: Rel | None, c: m.Column) -> str | None:
    """The serial type a column is written with: declared serial in a spec, or introspected as an integer
    owning the sequence its default takes nextval() of, named ``<table>_<column>_seq`` (creating the table
    must create that sequence). A default naming a sequence created on its own (``create sequence``,
    declared under ``sequences:``) stays a default."""
    if c.type not in _SERIAL_OF or not c.serial:
        return None
    if c.default is None:  # declared serial in a spec
        return _SERIAL_OF[c.type]
    if table is None:
        return None
    seq = f"{_schema_of(table)}.{table.name if isinstance(table, _NAMED) else str(table).partition('.')[2]}_{c.name}_seq"
    if c.default in (f"nextval('{seq}'::regclass)", f"nextval({quote_literal(quote_qualified(seq))}::regclass)"):
        return _SERIAL_OF[c.type]
    return None


def collation(name: str) -> str:
    """``C`` -> ``"C"``; ``pg_catalog.C`` (as introspected) -> ``"pg_catalog"."C"``."""
    schema, dot, rest = str(name).partition(".")
    if dot and schema.islower() and rest:
        return f"{quote_ident(schema)}.{quote_ident(rest)}"
    return quote_ident(name)


def column_def(c: m.Column, table: Rel | None = None) -> str:
    """``"name" type [collate ...] [generated ... as identity] [generated always as (...) stored] [not null]
    [default ...]``; a serial column (see ``serial_type``) as ``"name" serial [not null]``."""
    serial = serial_type(table, c)
    if serial:
        return f"{quote_ident(c.name)} {serial}" + ("" if c.nullable else " not null")
    text = f"{quote_ident(c.name)} {type_name(c.type)}"
    if c.collation:
        text += f" collate {collation(c.collation)}"
    if c.identity:
        text += f" generated {keyword(c.identity, IDENTITY, 'identity')} as identity"
    if c.generated is not None:
        text += f" generated always as ({c.generated}) stored"
    if not c.nullable:
        text += " not null"
    if c.default is not None:
        text += f" default {c.default}"
    return text


def constraint_def(c: m.Constraint) -> str:
    """``constraint "name" <definition>``. ``no action``, the default, is left out (as
    PostgreSQL's own ``pg_get_constraintdef`` prints it)."""
    if c.kind == "primary_key":
        body = f"primary key ({idents(c.columns)})"
    elif c.kind == "unique":
        body = f"unique ({idents(c.columns)})"
    elif c.kind == "check":
        body = f"check ({c.expression})"
    elif c.kind == "foreign_key":
        body = f"foreign key ({idents(c.columns)}) references {rel(c.ref_table)} ({idents(c.ref_columns)})"
        for clause, action in (("on delete", c.on_delete), ("on update", c.on_update)):
            if action and keyword(action, REFERENTIAL_ACTIONS, clause + " action") != "no action":
                body += f" {clause} {action}"
        if c.deferrable:
            body += " deferrable"
    else:  # exclusion (and anything else introspected): PostgreSQL's own definition text
        body = c.expression or ""
    return f"constraint {quote_ident(c.name)} {body}"


def index_key(key: m.IndexKey) -> str:
    text = quote_ident(key.expression) if key.is_column else f"({key.expression})"
    if key.opclass:
        text += " " + ".".join(quote_ident(p) for p in key.opclass.split("."))
    if key.descending:
        text += " desc"
    if key.nulls:
        text += f" nulls {keyword(key.nulls, ('first', 'last'), 'nulls order')}"
    return text


def argument(a: m.Argument) -> str:
    text = "" if a.mode == "in" else keyword(a.mode, ("out", "inout", "variadic"), "argument mode") + " "
    if a.name:
        text += quote_ident(a.name) + " "
    text += type_name(a.type)
    if a.default is not None:
        text += f" default {a.default}"
    return text


def config_value(key: str, value: str) -> str:
    """The value of ``set key = value`` on a function: search_path as identifiers, else a literal."""
    if key == "search_path":
        parts = [p.strip() for p in value.split(",") if p.strip() and p.strip() not in ('""', "''")]
        return ", ".join(quote_ident(p.strip('"')) for p in parts) if parts else "''"
    return quote_literal(value)


# ---------------------------------------------------------------- roles, schemas, extensions

def _unless_duplicate(statement: str) -> str:
    """A DO block running ``statement`` and ignoring that the object exists already: for what has
    no ``if not exists``. ``unique_violation`` is what a concurrent creation of the same name raises."""
    body = f"\nbegin\n    {statement}\nexception when duplicate_object or unique_violation then\n    null;\nend\n"
    return f"do {dollar_quote(body, 'do')};"


def create_role(r: m.Role, *, idempotent: bool) -> str:
    """A DO block in both forms: roles are cluster-wide, so one may exist even where the plan
    saw none (another database of the server). ``idempotent`` adds ``alter role ... bypassrls``
    so that a role that already existed gets the flag too."""
    opts = ("login" if r.login else "nologin") + (" bypassrls" if r.bypassrls else "")
    out = _unless_duplicate(f"create role {quote_ident(r.name)} {opts};")
    if idempotent and r.bypassrls:
        out += "\n" + alter_role_bypassrls(r.name, True)
    return out


def alter_role_bypassrls(name: str, bypassrls: bool) -> str:
    return f"alter role {quote_ident(name)} {'bypassrls' if bypassrls else 'nobypassrls'};"


def grant_role(parent: str, member: str) -> str:
    return f"grant {quote_ident(parent)} to {quote_ident(member)};"


def create_schema(name: str, *, idempotent: bool) -> str:
    return f"create schema {'if not exists ' if idempotent else ''}{quote_ident(name)};"


def create_extension(e: m.Extension, *, idempotent: bool) -> str:
    schema = f" with schema {quote_ident(e.schema)}" if e.schema else ""
    return f"create extension {'if not exists ' if idempotent else ''}{quote_ident(e.name)}{schema};"


def alter_extension_schema(name: str, schema: str) -> str:
    return f"alter extension {quote_ident(name)} set schema {quote_ident(schema)};"


def drop_extension(name: str) -> str:
    return f"drop extension {quote_ident(name)};"


DEFAULT_PRIVILEGE_OBJECTS = ("tables", "sequences", "functions", "routines", "types", "schemas")
PRIVILEGES = ("select", "insert", "update", "delete", "truncate", "references", "trigger", "usage", "execute",
              "create", "connect", "temporary", "temp", "maintain", "all", "all privileges")


def _privileges(privileges: Iterable[str], column: str | None = None) -> str:
    suffix = f" ({quote_ident(column)})" if column is not None else ""
    return ", ".join(keyword(p, PRIVILEGES, "privilege") + suffix for p in privileges)


def default_privilege(d: m.DefaultPrivilege) -> str:
    role = f" for role {quote_ident(d.for_role)}" if d.for_role else ""
    return (f"alter default privileges{role} in schema {quote_ident(d.schema)} grant {_privileges(d.privileges)} "
            f"on {keyword(d.on, DEFAULT_PRIVILEGE_OBJECTS, 'default privilege object')} to {roles(d.roles)};")


# ---------------------------------------------------------------- tables and columns

def create_table(t: m.Table, *, idempotent: bool, constraints: Sequence[m.Constraint] | None = None) -> str:
    """The table with its columns and ``constraints`` (default: all of the table's) inline."""
    parts = [column_def(c, t) for c in t.columns]
    parts += [constraint_def(c) for c in (t.constraints if constraints is None else constraints)]
    head = f"create table {'if not exists ' if idempotent else ''}{rel(t)}"
    tail = f" partition by {t.partition_by}" if t.partition_by else ""
    if not parts:
        return head + f" (){tail};"
    return head + " (\n    " + ",\n    ".join(parts) + f"\n){tail};"


def drop_table(table: Rel) -> str:
    return f"drop table {rel(table)};"


def add_column(table: Rel, c: m.Column, *, idempotent: bool) -> str:
    return f"alter table {rel(table)} add column {'if not exists ' if idempotent else ''}{column_def(c, table)};"


def not_null_guard(table: Rel, column: str) -> str:
    """A DO block refusing, with a clear message, a new NOT NULL column without a default on a
    table with rows (PostgreSQL's own error only says the column contains nulls)."""
    name = getattr(table, "qualified_name", None) or str(table)
    message = (f"{name} has rows: the new column {column} is NOT NULL without a default. Give it a default in "
               "the spec, or add it nullable, fill it, and make it NOT NULL in a later migration")
    body = (f"\nbegin\n    if exists (select from {rel(table)}) then\n"
            f"        raise exception using message = {quote_literal(message)}, errcode = '23502';\n"
            "    end if;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def drop_column(table: Rel, column: str) -> str:
    return f"alter table {rel(table)} drop column {quote_ident(column)};"


def alter_column(table: Rel, column: str, change: str, value: str | None = None, via: str | None = None,
                 collate: str | None = None, using: bool = True) -> str:
    """One ``alter table ... alter column`` action:

    ``drop default``, ``set default`` (value: expression), ``drop not null``, ``set not null``,
    ``drop identity``, ``add identity`` / ``set generated`` (value: always | by default),
    ``drop expression``, ``type`` (value: the new type; a ``using`` cast of the column, through
    the type ``via`` when given; none with ``using=False``: a generated column, whose expression
    is cast, refuses one).
    """
    col = quote_ident(column)
    if change in ("drop default", "drop not null", "set not null", "drop expression"):
        clause = change
    elif change == "drop identity":
        clause = "drop identity if exists"
    elif change == "set default":
        clause = f"set default {value}"
    elif change == "add identity":
        clause = f"add generated {keyword(value or '', IDENTITY, 'identity')} as identity"
    elif change == "set generated":
        clause = f"set generated {keyword(value or '', IDENTITY, 'identity')}"
    elif change == "type":  # collate: a collation name, "default" for the type's own
        new = type_name(value or "")
        cast = f"::{type_name(via)}" if via is not None else ""
        coll = f" collate {collation(collate)}" if collate is not None else ""
        clause = f"type {new}{coll}" + (f" using {col}{cast}::{new}" if using else "")
    else:
        raise ValueError(f"unknown column change {change!r}")
    return f"alter table {rel(table)} alter column {col} {clause};"


def column_type_guard(table: Rel, column: str) -> str:
    """A DO block just before ``alter column ... type``: it raises, naming them, when objects that
    PostgreSQL will not carry across a type change still use the column (a view or rule, a trigger,
    a policy, a generated column). The plan drops and recreates those the spec declares before this
    runs; what is left is an app's own (or one the plan does not rebuild). Without it PostgreSQL
    refuses the change naming one of them; dropping them with CASCADE would take the app's objects.
    Every name is compared as a literal with the catalog's parts, never parsed from text."""
    t = quote_literal(rel(table))
    name = getattr(table, "qualified_name", None) or str(table)
    c = quote_literal(_text(column, "column name"))
    cls = "'pg_catalog.{}'::pg_catalog.regclass".format
    hint = ("The migration drops and recreates the views, triggers, policies and generated columns the spec "
            "declares; these it does not know. Drop them before this migration and create them again after it "
            "(or declare them in the spec); do not use CASCADE: it drops them silently.")
    query = f"""    select pg_catalog.string_agg(x.what, ', ' order by x.what) into found
      from (select distinct case when d.classid = {cls("pg_rewrite")}
                                 then pg_catalog.pg_describe_object({cls("pg_class")}, r.ev_class, 0)
                                 else pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) end as what
              from pg_catalog.pg_depend as d
              join pg_catalog.pg_attribute as a
                on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
              left join pg_catalog.pg_rewrite as r on d.classid = {cls("pg_rewrite")} and r.oid = d.objid
             where d.refclassid = {cls("pg_class")} and d.refobjid = {t}::pg_catalog.regclass
               and a.attname = {c} and d.deptype = 'n'
               and (d.classid in ({cls("pg_rewrite")}, {cls("pg_trigger")}, {cls("pg_policy")})
                    or d.classid = {cls("pg_class")} and d.objsubid <> 0)) as x;"""
    return _found_guard(query, f"cannot change the type of column {column} of {name}: objects this migration does "
                        "not rebuild use it: ", hint)


def serial_to_identity(table: Rel, column: str, identity: str, keep: Sequence[str] = ()) -> str:
    """A serial column (an integer whose default is ``nextval`` of a sequence) becomes an identity
    column that goes on from where the old sequence was: the default goes, the old sequence is
    dropped (so the identity sequence gets its name, as on a fresh database) when the column owns
    it, or when it is not owned, not one of ``keep`` (the sequences the spec declares) and nothing
    else depends on it (another column's default, a view); and the identity sequence is set to the
    old one's state. A sequence that stays and holds the identity sequence's name
    (``<table>_<column>_seq``) stops the statement: the identity sequence would be named
    ``..._seq1``. One statement: nothing can take a value in between."""
    t = quote_literal(rel(table))
    c = quote_literal(_text(column, "column name"))
    col = f"alter table {rel(table)} alter column {quote_ident(column)}"
    name = f"{_schema_of(table)}.{table.name if isinstance(table, _NAMED) else str(table).partition('.')[2]}_{column}_seq"
    kept = ", ".join(f"pg_catalog.to_regclass({quote_literal(quote_qualified(s))})" for s in sorted(keep))
    keeps = f" and not coalesce(v_seq = any (array[{kept}]::pg_catalog.regclass[]), false)" if keep else ""
    body = (
        "\ndeclare\n    v_seq pg_catalog.regclass;\n    v_owned boolean := false;\n    v_last bigint;\n"
        "    v_called boolean;\nbegin\n"
        "    select d.refobjid::pg_catalog.regclass into v_seq\n"
        "      from pg_catalog.pg_attrdef as ad\n"
        "      join pg_catalog.pg_attribute as a on a.attrelid = ad.adrelid and a.attnum = ad.adnum\n"
        "      join pg_catalog.pg_depend as d on d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass\n"
        "       and d.objid = ad.oid and d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass\n"
        "      join pg_catalog.pg_class as s on s.oid = d.refobjid and s.relkind = 'S'\n"
        f"     where ad.adrelid = {t}::pg_catalog.regclass and a.attname = {c};\n"
        "    if v_seq is not null then\n"
        "        execute pg_catalog.format('select last_value, is_called from %s', v_seq) into v_last, v_called;\n"
        f"        v_owned := pg_catalog.pg_get_serial_sequence({t}, {c}) is not null;\n"
        "    end if;\n"
        f"    {col} drop default;\n"
        f"    if v_owned or v_seq is not null{keeps}\n"
        "       and not exists (select from pg_catalog.pg_depend as d\n"
        "                        where d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass and d.refobjid = v_seq) then\n"
        "        execute pg_catalog.format('drop sequence %s', v_seq);\n"
        f"    elsif v_seq = pg_catalog.to_regclass({quote_literal(quote_qualified(name))}) then\n"
        "        raise exception 'sequence % stays (the spec declares it or other objects use it) and has the name '\n"
        f"            'the identity sequence of %.% needs: rename it first', v_seq, {t}, {c};\n"
        "    end if;\n"
        f"    {col} add generated {keyword(identity, IDENTITY, 'identity')} as identity;\n"
        "    if v_seq is not null then\n"
        f"        perform pg_catalog.setval(pg_catalog.pg_get_serial_sequence({t}, {c})::pg_catalog.regclass, "
        "v_last, v_called);\n"
        "    end if;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def add_constraint(table: Rel, c: m.Constraint, *, idempotent: bool) -> str:
    """``alter table ... add constraint``; idempotent: inside a DO block that skips a constraint
    of that name already on the table (there is no ``add constraint if not exists``)."""
    stmt = f"alter table {rel(table)} add {constraint_def(c)};"
    if not idempotent:
        return stmt
    body = ("\nbegin\n"
            "    if not exists (\n"
            "        select 1 from pg_catalog.pg_constraint\n"
            f"        where conrelid = {quote_literal(rel(table))}::pg_catalog.regclass\n"
            f"          and conname = {quote_literal(c.name)}\n"
            "    ) then\n"
            f"        {stmt}\n"
            "    end if;\n"
            "end\n")
    return f"do {dollar_quote(body, 'do')};"


def drop_constraint(table: Rel, name: str) -> str:
    return f"alter table {rel(table)} drop constraint {quote_ident(name)};"


def create_index(table: Rel, i: m.Index, *, idempotent: bool) -> str:
    text = (f"create {'unique ' if i.unique else ''}index {'if not exists ' if idempotent else ''}"
            f"{quote_ident(i.name)} on {rel(table)} using {word(i.method)} ({', '.join(index_key(k) for k in i.keys)})")
    if i.include:
        text += f" include ({idents(i.include)})"
    if i.where:
        text += f" where ({i.where})"
    return text + ";"


def drop_index(table: Rel, name: str) -> str:
    return f"drop index {index_ref(table, name)};"


# ---------------------------------------------------------------- row level security, policies

def enable_rls(table: Rel, enabled: bool = True) -> str:
    return f"alter table {rel(table)} {'enable' if enabled else 'disable'} row level security;"


def force_rls(table: Rel, forced: bool = True) -> str:
    return f"alter table {rel(table)} {'force' if forced else 'no force'} row level security;"


POLICY_COMMANDS = ("all", "select", "insert", "update", "delete")


def create_policy(table: Rel, p: m.Policy, *, idempotent: bool) -> str:
    """``create policy``, one clause a line; idempotent: preceded by ``drop policy if exists``
    (there is no ``create or replace policy``)."""
    lines = [f"create policy {quote_ident(p.name)} on {rel(table)}",
             f"    as {'permissive' if p.permissive else 'restrictive'}",
             f"    for {keyword(p.command, POLICY_COMMANDS, 'policy command')}",
             f"    to {roles(p.roles)}"]
    if p.using is not None:
        lines.append(f"    using ({p.using})")
    if p.with_check is not None:
        lines.append(f"    with check ({p.with_check})")
    text = "\n".join(lines) + ";"
    return drop_policy(table, p.name) + "\n" + text if idempotent else text


def drop_policy(table: Rel, name: str) -> str:
    return f"drop policy if exists {quote_ident(name)} on {rel(table)};"


# ---------------------------------------------------------------- functions and triggers

VOLATILITY = ("volatile", "stable", "immutable")


def function_body(body: str) -> str:
    """The body as it is stored: starting with a line break (added when missing) and ending in
    exactly one (trailing whitespace, which ``compare`` ignores, dropped). A body already in
    this form is kept byte for byte, so a plan recreating a function from the catalog converges."""
    text = body.rstrip() + "\n"
    return text if text.startswith("\n") else "\n" + text


def create_function(f: m.Function) -> str:
    """``create or replace function`` in both forms (it is idempotent by nature), one clause a line."""
    args = ", ".join(argument(a) for a in f.arguments if a.mode != "table")  # table: part of RETURNS TABLE
    returns = f.returns[len("setof "):] if f.returns.startswith("setof ") else f.returns
    lines = [f"create or replace function {qualified(f.schema, f.name)}({args})",
             f"returns {'setof ' if returns != f.returns else ''}{type_name(returns)}",
             f"language {word(f.language)}",
             keyword(f.volatility, VOLATILITY, "volatility")]
    if f.strict:
        lines.append("strict")
    if f.security_definer:
        lines.append("security definer")
    lines += [f"set {setting_name(k)} = {config_value(k, v)}" for k, v in f.config]
    body = function_body(f.body)
    # a body holding control characters (other than line breaks and tabs) as an escape string, so
    # that the SQL text stays printable; otherwise dollar-quoted, as written
    quoted = quote_literal(body) if _ODD_CONTROLS.search(body) else dollar_quote(body, "function")
    lines.append(f"as {quoted};")
    return "\n".join(lines)


def drop_function(schema: str, name: str, arg_types: Sequence[str]) -> str:
    """From the catalog parts, never from a preformatted signature."""
    return f"drop function {function_ref(schema, name, arg_types)};"


TRIGGER_TIMINGS = ("before", "after", "instead of")
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")


def create_trigger(table: Rel, tr: m.Trigger, *, idempotent: bool) -> str:
    """``create trigger``, one clause a line; idempotent: ``create or replace trigger``
    (PostgreSQL 14+), which swaps the definition without a moment with no trigger."""
    events = []
    for e in tr.events:
        keyword(e, TRIGGER_EVENTS, "trigger event")
        events.append(f"update of {idents(tr.update_columns)}" if e == "update" and tr.update_columns else e)
    lines = [f"create {'or replace ' if idempotent else ''}trigger {quote_ident(tr.name)}",
             f"    {keyword(tr.timing, TRIGGER_TIMINGS, 'trigger timing')} {' or '.join(events)} on {rel(table)}",
             f"    for each {keyword(tr.for_each, ('row', 'statement'), 'trigger level')}"]
    if tr.when:
        lines.append(f"    when ({tr.when})")
    lines.append(f"    execute function {quote_qualified(tr.function)}({', '.join(quote_literal(a) for a in tr.arguments)});")
    return "\n".join(lines)


def drop_trigger(table: Rel, name: str) -> str:
    return f"drop trigger if exists {quote_ident(name)} on {rel(table)};"


def enable_trigger(table: Rel, name: str, enabled: bool = True) -> str:
    return f"alter table {rel(table)} {'enable' if enabled else 'disable'} trigger {quote_ident(name)};"


# ---------------------------------------------------------------- privileges, owners, comments

GRANT_OBJECTS = ("table", "sequence", "function", "schema", "column")


def grant_target(on: str, obj: Rel | m.Function) -> tuple[str | None, str]:
    """(the column of a column privilege or None, ``<kind> <object>``)."""
    keyword(on, GRANT_OBJECTS, "grant object kind")
    if on == "column":
        table, _, column = str(obj).rpartition(".")
        return column, f"table {quote_qualified(table)}"
    if on == "function":
        return None, f"function {function(obj)}"
    if on == "schema":
        return None, f"schema {quote_ident(obj)}"
    return None, f"{on} {rel(obj)}"


def grant(on: str, obj: Rel | m.Function, privileges: Iterable[str], to: Iterable[str], *, revoke: bool = False,
          grant_option: bool = False, cascade: bool = False) -> str:
    """``grant <privileges> on <kind> <object> to <roles>`` (or ``revoke ... from``); privileges in
    the order given. ``on`` is table | sequence | function (``obj`` a signature) | schema |
    column (``obj`` ``schema.table.column``). ``grant_option``: a grant ``with grant option``, a
    revoke of only the option (``revoke grant option for``); ``cascade`` (revokes): also what the
    grantees granted on with the option (PostgreSQL refuses the revoke while that exists)."""
    column, target = grant_target(on, obj)
    privs = _privileges(privileges, column)
    if revoke:
        option = "grant option for " if grant_option else ""
        return f"revoke {option}{privs} on {target} from {roles(to)}{' cascade' if cascade else ''};"
    if cascade:
        raise ValueError("cascade is a revoke's")
    return f"grant {privs} on {target} to {roles(to)}{' with grant option' if grant_option else ''};"


def grant_statement(g: m.Grant) -> str:
    """A spec grant (or revoke) as written: a grant with ``grant_option`` has it on all of its privileges."""
    if g.grant_option and set(g.grant_option) != set(g.privileges):
        raise ValueError("a grant statement has the grant option on all of its privileges or on none")
    return grant(g.on, g.object, g.privileges, g.roles, revoke=g.action == "revoke", grant_option=bool(g.grant_option))


def _revoke_loop(source: str, fmt_args: str, fmt: str) -> str:
    body = (f"\ndeclare\n    r record;\nbegin\n    for r in {source} loop\n"
            f"        execute pg_catalog.format({quote_literal(fmt)},{' ' + fmt_args if fmt_args else ''}\n"
            f"            case when r.grantee = 0 then 'public' else r.grantee::pg_catalog.regrole::text end);\n"
            f"    end loop;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def acl_reset(on: str, obj: Rel | m.Function) -> str:
    """Revoke everything from everyone but the owner: a fresh object starts with whatever the
    server's default privileges gave it, which is not what the spec says."""
    if on == "function":
        ref = function(obj)
        src = (f"select distinct a.grantee from pg_catalog.pg_proc as p, pg_catalog.aclexplode(coalesce(p.proacl, "
               f"pg_catalog.acldefault('f', p.proowner))) as a where p.oid = "
               f"{quote_literal(ref)}::pg_catalog.regprocedure and a.grantee <> p.proowner")
    else:
        src = (f"select distinct a.grantee from pg_catalog.pg_class as c, pg_catalog.aclexplode(coalesce(c.relacl, "
               f"pg_catalog.acldefault('r', c.relowner))) as a where c.oid = "
               f"{quote_literal(rel(obj))}::pg_catalog.regclass and a.grantee <> c.relowner")
    target = grant_target(on, obj)[1]
    return _revoke_loop(src, "", "revoke all on " + target.replace("%", "%%") + " from %s")


def sequence_acl_reset(table: Rel) -> str:
    """``acl_reset`` for the sequences of a table's identity columns, found at run time."""
    src = ("select s.oid::pg_catalog.regclass::text as seq, a.grantee from pg_catalog.pg_depend as d "
           "join pg_catalog.pg_class as s on s.oid = d.objid and s.relkind = 'S', "
           "pg_catalog.aclexplode(coalesce(s.relacl, pg_catalog.acldefault('s', s.relowner))) as a "
           f"where d.refobjid = {quote_literal(rel(table))}::pg_catalog.regclass and d.deptype in ('a', 'i') "
           "and d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass and a.grantee <> s.relowner")
    return _revoke_loop(src, "r.seq,", "revoke all on sequence %s from %s")


def owner_to_current_user(on: str, obj: Rel | m.Function) -> str:
    """The role running the script (the deployer) takes the object back."""
    target = f"function {function(obj)}" if on == "function" else f"table {rel(obj)}"
    return f"alter {target} owner to current_user;"


DROPPABLE = ("view", "materialized view", "sequence", "foreign table", "type", "domain")


def drop_object(kind: str, obj: Rel) -> str:
    """``drop <kind> <name>`` for types and the objects schemagen does not model but may remove."""
    return f"drop {keyword(kind, DROPPABLE, 'object kind')} {rel(obj)};"


def comment_target(kind: str, obj: str | m.Table | m.Function | m.Namespace, name: str | None = None) -> str:
    """What ``comment on`` names: (kind, object) for tables, functions (object or signature),
    schemas, types, views; (kind, table, name) for columns, constraints, indexes, policies, triggers."""
    if kind == "table":
        return f"table {rel(obj)}"
    if kind == "column":
        return f"column {rel(obj)}.{quote_ident(name)}"
    if kind == "index":
        return f"index {index_ref(obj, name)}"
    if kind in ("constraint", "policy", "trigger"):
        return f"{kind} {quote_ident(name)} on {rel(obj)}"
    if kind == "function":
        return f"function {function(obj)}"
    if kind == "schema":
        return f"schema {quote_ident(obj.name if isinstance(obj, m.Namespace) else obj)}"
    if kind in ("type", "view", "materialized view", "domain", "sequence"):
        return f"{kind} {rel(obj)}"
    raise ValueError(f"cannot comment on a {kind}")


def comment_on(kind: str, obj, name: str | None = None, text: str | None = None) -> str:
    """``comment on <target> is '<text>'`` (``null`` removes the comment)."""
    value = "null" if text is None else quote_literal(text)
    return f"comment on {comment_target(kind, obj, name)} is {value};"


# ---------------------------------------------------------------- enum types and views

def create_enum(ty: m.EnumType, values: Sequence[str] | None = None, *, idempotent: bool) -> str:
    """``create type ... as enum`` with ``values`` (default: all of the type's); idempotent: in a
    DO block ignoring an existing type (``create type`` has no ``if not exists``)."""
    vals = ty.values if values is None else values
    stmt = f"create type {rel(ty)} as enum ({', '.join(quote_literal(v) for v in vals)});"
    return _unless_duplicate(stmt) if idempotent else stmt


def add_enum_value(ty: Rel, value: str, after: str | None = None, before: str | None = None) -> str:
    """``alter type ... add value if not exists`` in both forms: a plan runs it before its
    transaction (a new value is unusable until committed), so a rerun must skip it."""
    where = f" after {quote_literal(after)}" if after is not None else f" before {quote_literal(before)}" \
        if before is not None else ""
    return f"alter type {rel(ty)} add value if not exists {quote_literal(value)}{where};"


def rename_type(ty: Rel, new_name: str) -> str:
    return f"alter type {rel(ty)} rename to {quote_ident(new_name)};"


def _terminated(query: str) -> str:
    """The query and its ``;``, on a line of its own when the last line ends in a ``--`` comment."""
    return query + ("\n;" if "--" in query.rsplit("\n", 1)[-1] else ";")


def create_view(v: m.View, *, idempotent: bool) -> str:
    """``create [or replace] view`` / ``create materialized view [if not exists]``, the query on
    the lines after ``as``. The plan also uses the idempotent ``create or replace`` to change a
    view that only gains columns."""
    if v.materialized:
        return f"create materialized view {'if not exists ' if idempotent else ''}{rel(v)} as\n{v.query}\nwith data;"
    opts = [f"{o} = true" for o, on in (("security_barrier", v.security_barrier),
                                        ("security_invoker", v.security_invoker)) if on]
    with_ = f" with ({', '.join(opts)})" if opts else ""
    return f"create {'or replace ' if idempotent else ''}view {rel(v)}{with_} as\n{_terminated(v.query)}"


def set_view_options(v: m.View) -> str:
    """Both options set to the view's values (``create or replace view`` keeps options it does not name)."""
    return (f"alter view {rel(v)} set (security_barrier = {'true' if v.security_barrier else 'false'}, "
            f"security_invoker = {'true' if v.security_invoker else 'false'});")


def drop_view(v: m.View) -> str:
    return f"drop {v.kind} {rel(v)};"


# ---------------------------------------------------------------- domains and sequences

def create_domain(d: m.Domain, *, idempotent: bool) -> str:
    """``create domain ... as <type> [default ...] [not null] [constraint ... check (...)]``; idempotent:
    in a DO block ignoring an existing domain."""
    text = f"create domain {rel(d)} as {type_name(d.type)}"
    if d.default is not None:
        text += f" default {d.default}"
    if not d.nullable:
        text += " not null"
    for name, expr in d.checks:
        text += f" constraint {quote_ident(name)} check ({expr})"
    text += ";"
    return _unless_duplicate(text) if idempotent else text


def alter_domain(before: m.Domain, after: m.Domain) -> list[str]:
    """Default, not null and check constraints to ``after``'s (a base type cannot be altered)."""
    name = f"alter domain {rel(after)}"
    out = []
    if before.default != after.default:
        out.append(f"{name} drop default;" if after.default is None else f"{name} set default {after.default};")
    if before.nullable != after.nullable:
        out.append(f"{name} {'drop' if after.nullable else 'set'} not null;")
    want, have = dict(after.checks), dict(before.checks)
    out += [f"{name} drop constraint {quote_ident(c)};" for c, e in sorted(have.items()) if want.get(c) != e]
    out += [f"{name} add constraint {quote_ident(c)} check ({e});" for c, e in sorted(want.items()) if have.get(c) != e]
    return out


def type_dependents_guard(ty: m.EnumType | m.Domain, columns: Sequence[tuple[str, str, str]]) -> str:
    """A DO block for the start of a type's recreation (rename, create, move columns, drop the old):
    it raises, naming them, when objects the plan does not move still depend on the type or its
    array type, e.g. an app's own table or function. ``columns``: (schema, table, column) of the
    columns the plan moves; their defaults and the constraints, indexes, triggers and policies of
    their tables are the plan's too (PostgreSQL rebuilds them with the column). Without it the
    final ``drop type`` fails, with PostgreSQL's hint to add CASCADE, which would drop them.
    Every name is compared as a literal with the catalog's parts, never parsed from text."""
    kind = "domain" if isinstance(ty, m.Domain) else "type"
    moved = ", ".join(f"({quote_literal(s)}, {quote_literal(t)}, {quote_literal(c)})" for s, t, c in columns) \
        if columns else "(null, null, null)"
    cls = "'pg_catalog.{}'::pg_catalog.regclass".format
    on_table = "\n                    or ".join(
        f"d.classid = {cls(catalog)} and exists (select from pg_catalog.{table} as o\n"
        f"                        where o.{key} = d.objid and o.{rel} in (select attrelid from moved_columns))"
        for catalog, table, key, rel in (("pg_constraint", "pg_constraint", "oid", "conrelid"),
                                         ("pg_trigger", "pg_trigger", "oid", "tgrelid"),
                                         ("pg_policy", "pg_policy", "oid", "polrelid"),
                                         ("pg_class", "pg_index", "indexrelid", "indrelid")))
    hint = (f"Recreating the {kind} (to remove or reorder enum values, or change a domain's base type) moves only "
            "the spec's columns to the new one. Move these objects off it first (e.g. alter their columns to "
            "text), or declare them in the spec; do not drop the old type with CASCADE: that drops them with "
            "their data.")
    query = f"""    with moved(nsp, rel, col) as (values {moved}),
    moved_columns as (
        select a.attrelid, a.attnum from pg_catalog.pg_attribute as a
          join pg_catalog.pg_class as c on c.oid = a.attrelid
          join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
          join moved as k on k.nsp = n.nspname and k.rel = c.relname and k.col = a.attname),
    ty as (
        select t.oid, t.typarray from pg_catalog.pg_type as t
          join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
         where n.nspname = {quote_literal(ty.schema)} and t.typname = {quote_literal(ty.name)})
    select pg_catalog.string_agg(x.what, ', ' order by x.what) into found
      from (select distinct pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) as what
              from pg_catalog.pg_depend as d, ty
             where d.refclassid = {cls("pg_type")} and d.refobjid in (ty.oid, ty.typarray)
               and d.deptype = 'n'  -- auto ones (a domain's own checks) go with it
               and not (d.classid = {cls("pg_class")}
                        and (d.objid, d.objsubid) in (select * from moved_columns))
               and not (d.classid = {cls("pg_attrdef")} and exists (select from pg_catalog.pg_attrdef as ad
                        where ad.oid = d.objid and (ad.adrelid, ad.adnum) in (select * from moved_columns)))
               and not ({on_table})) as x;"""
    return _found_guard(query, f"cannot recreate {kind} {ty.schema}.{ty.name}: objects the spec does not cover use it: ",
                        hint)


def _found_guard(query: str, message: str, hint: str) -> str:
    """A DO block running ``query`` (a select ``into found`` of a text naming objects) and raising
    ``message`` followed by them, with ``hint``, when it found any."""
    body = f"""
declare
    found text;
begin
{query}
    if found is not null then
        raise exception '%', {quote_literal(message)} || found
            using hint = {quote_literal(hint)}, errcode = '2BP01';
    end if;
end
"""
    return f"do {dollar_quote(body, 'do')};"


def rename(kind: str, obj: Rel, new_name: str) -> str:
    """``alter type|domain ... rename to``."""
    return f"alter {keyword(kind, ('type', 'domain'), 'renamed kind')} {rel(obj)} rename to {quote_ident(new_name)};"


def _sequence_options(q: m.Sequence) -> str:
    parts = [f"as {keyword(q.type, ('smallint', 'integer', 'bigint'), 'sequence type')}",
             f"increment by {int(q.increment)}"]
    if q.min_value is not None:
        parts.append(f"minvalue {int(q.min_value)}")
    if q.max_value is not None:
        parts.append(f"maxvalue {int(q.max_value)}")
    if q.start is not None:
        parts.append(f"start with {int(q.start)}")
    parts += [f"cache {int(q.cache)}", "cycle" if q.cycle else "no cycle"]
    return " ".join(parts)


def create_sequence(q: m.Sequence, *, idempotent: bool) -> str:
    return f"create sequence {'if not exists ' if idempotent else ''}{rel(q)} {_sequence_options(q)};"


def alter_sequence(q: m.Sequence) -> str:
    """Every option set to ``q``'s (``start with`` changes what ``restart`` goes back to, not the value)."""
    return f"alter sequence {rel(q)} {_sequence_options(q)};"


# ---------------------------------------------------------------- partitions, replica identity, publications, seeds

def create_partition(table: Rel, p: m.Partition, *, idempotent: bool) -> str:
    return f"create table {'if not exists ' if idempotent else ''}{quote_qualified(p.name)} partition of {rel(table)} {p.bound};"


def attach_partition(table: Rel, p: m.Partition) -> str:
    return f"alter table {rel(table)} attach partition {quote_qualified(p.name)} {p.bound};"


def detach_partition(table: Rel, name: str) -> str:
    return f"alter table {rel(table)} detach partition {quote_qualified(name)};"


def replica_identity(table: Rel, value: str | None) -> str:
    """``alter table ... replica identity default|full|nothing|using index "i"`` (idempotent by nature)."""
    if value and value.startswith("index "):
        what = f"using index {quote_ident(value[6:])}"
    else:
        what = keyword(value or "default", ("default", "full", "nothing"), "replica identity")
    return f"alter table {rel(table)} replica identity {what};"


def create_publication(name: str, *, idempotent: bool) -> str:
    stmt = f"create publication {quote_ident(name)};"
    if not idempotent:
        return stmt
    body = (f"\nbegin\n    if not exists (select 1 from pg_catalog.pg_publication where pubname = {quote_literal(name)})"
            f" then\n        {stmt}\n    end if;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def publication_table(name: str, table: str, *, add: bool = True, idempotent: bool = False) -> str:
    """``alter publication ... add|drop table ...``; idempotent (add): unless pg_publication_tables has it."""
    stmt = f"alter publication {quote_ident(name)} {'add' if add else 'drop'} table {quote_qualified(table)};"
    if not idempotent:
        return stmt
    schema, _, relname = str(table).partition(".")
    body = (f"\nbegin\n    if not exists (select 1 from pg_catalog.pg_publication_tables where pubname = "
            f"{quote_literal(name)} and schemaname = {quote_literal(schema)} and tablename = {quote_literal(relname)})"
            f" then\n        {stmt}\n    end if;\nend\n")
    return f"do {dollar_quote(body, 'do')};"


def seed_insert(t: m.Table, row: Sequence[tuple[str, str | None]]) -> str:
    """One seed row: ``insert ... on conflict do nothing`` (a row whose key exists is left as it is).
    Values are literals of unknown type, so PostgreSQL reads each as its column's type."""
    cols = idents(c for c, _ in row)
    vals = ", ".join("null" if v is None else quote_literal(v) for _, v in row)
    always = {c.name for c in t.columns if c.identity == "always"}
    override = " overriding system value" if any(c in always for c, _ in row) else ""
    return f"insert into {rel(t)} ({cols}){override} values ({vals}) on conflict do nothing;"
