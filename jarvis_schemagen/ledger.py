"""The migrations ledger: which migration files a database has had, one row per applied file.

Two layouts (``apply``/``status`` ``--ledger``):

- ``schemagen`` (default): ``schemagen.migrations`` with the file's SHA-256, when, by whom, how long.
- ``supabase``: the Supabase CLI's ``supabase_migrations.schema_migrations(version text primary
  key, statements text[], name text)``, so ``supabase migration list`` and ``schemagen status``
  agree on what ran. That table keeps no checksum: a file is identified there by its
  statements, compared after normalising (comments between statements, whitespace, the final
  semicolons), so a row written by the CLI and one written by schemagen match for the same file.

Created on first use by ``apply`` (under the advisory lock, so concurrent first runs are
safe); never created by ``status`` or ``apply --dry-run``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from .errors import SchemagenError
from .printable import escape_controls
from .sqltext import statement_spans

SCHEMA = "schemagen"
TABLE = "migrations"
QUALIFIED = f"{SCHEMA}.{TABLE}"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {QUALIFIED} (
    version     text primary key,
    name        text not null,
    checksum    text not null,
    applied_at  timestamptz not null default now(),
    duration_ms integer not null,
    applied_by  text not null,
    db_user     text not null default current_user
);
comment on table {QUALIFIED} is 'Migrations applied by schemagen apply (do not edit by hand).';
"""

SUPABASE_SCHEMA = "supabase_migrations"
SUPABASE_QUALIFIED = f"{SUPABASE_SCHEMA}.schema_migrations"
# what the Supabase CLI creates (later CLI versions add columns; only these three are used)
SUPABASE_DDL = f"""
create schema if not exists {SUPABASE_SCHEMA};
create table if not exists {SUPABASE_QUALIFIED} (version text not null primary key);
alter table {SUPABASE_QUALIFIED} add column if not exists statements text[];
alter table {SUPABASE_QUALIFIED} add column if not exists name text;
"""


@dataclass(frozen=True)
class LedgerRow:
    version: str
    name: str
    checksum: str
    applied_at: datetime | None  # None: the layout does not keep it (supabase)
    duration_ms: int | None
    applied_by: str | None
    db_user: str | None


def exists(conn, table: str = QUALIFIED) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]


def ensure(conn) -> None:
    """Create the ledger if missing (call while holding the apply lock); verify it if present."""
    if exists(conn):
        verify_shape(conn)
        return
    with conn.transaction():
        conn.execute(DDL)


class LedgerTampered(SchemagenError):
    """The ledger is not what schemagen created: its rows cannot be trusted (exit 2)."""

    exit_code = 2


# column -> type as format_type() prints it; every column is NOT NULL
COLUMNS = {
    "version": "text", "name": "text", "checksum": "text", "applied_at": "timestamp with time zone",
    "duration_ms": "integer", "applied_by": "text", "db_user": "text",
}
_VERSION = re.compile(r"\d+")
_CHECKSUM = re.compile(r"[0-9a-f]{64}")


def _tampered(problem: str) -> LedgerTampered:
    return LedgerTampered(f"the ledger {QUALIFIED} was changed by hand ({escape_controls(problem)}), so which "
                          "migrations ran cannot be trusted; nothing was done. Restore it from a backup or fix it "
                          f"to the shape schemagen creates (see README: the ledger)")


def verify_shape(conn) -> None:
    """Raise LedgerTampered unless the ledger is a table with exactly the columns, types, NOT NULLs
    and primary key schemagen creates (extra columns are tolerated)."""
    kind = conn.execute("select c.relkind from pg_catalog.pg_class c where c.oid = to_regclass(%s)",
                        (QUALIFIED,)).fetchone()
    if kind is None or kind[0] != "r":
        raise _tampered(f"it is not a table (relkind {kind[0] if kind else '?'})")
    have = {name: (typ, notnull) for name, typ, notnull in conn.execute(
        """select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
             from pg_catalog.pg_attribute a
            where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped""", (QUALIFIED,))}
    for name, typ in COLUMNS.items():
        if name not in have:
            raise _tampered(f"column {name} is missing")
        if have[name][0] != typ:
            raise _tampered(f"column {name} is {have[name][0]}, not {typ}")
        if not have[name][1]:
            raise _tampered(f"column {name} accepts NULL")
    pk = conn.execute(
        """select array(select a.attname::text from pg_catalog.unnest(i.indkey) as k(attnum)
                         join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum)
             from pg_catalog.pg_index i where i.indrelid = to_regclass(%s) and i.indisprimary""",
        (QUALIFIED,)).fetchone()
    if pk is None or list(pk[0]) != ["version"]:
        raise _tampered("its primary key is not (version)")


def read(conn) -> dict[str, LedgerRow]:
    """version -> row (versions compared as text, "001"); empty when the ledger does not exist yet.
    Raises LedgerTampered when its shape or a row is not what schemagen writes."""
    if not exists(conn):
        return {}
    verify_shape(conn)
    rows = conn.execute(
        f"select version, name, checksum, applied_at, duration_ms, applied_by, db_user from {QUALIFIED} order by version"
    ).fetchall()
    out: dict[str, LedgerRow] = {}
    for r in rows:
        row = LedgerRow(*r)
        if not _VERSION.fullmatch(row.version):
            raise _tampered(f"version {row.version!r} is not a migration number")
        if not _CHECKSUM.fullmatch(row.checksum):
            raise _tampered(f"the checksum of version {row.version} is not a SHA-256")
        if not isinstance(row.applied_at, datetime):
            raise _tampered(f"applied_at of version {row.version} is not a time")
        out[row.version] = row
    return out


def record(conn, *, version: str, name: str, checksum: str, duration_ms: int, applied_by: str) -> None:
    """Insert (or, for a consciously re-applied changed file, update) one row; inside the migration's transaction."""
    conn.execute(
        f"""insert into {QUALIFIED} (version, name, checksum, duration_ms, applied_by)
            values (%s, %s, %s, %s, %s)
            on conflict (version) do update
               set name = excluded.name, checksum = excluded.checksum, applied_at = now(),
                   duration_ms = excluded.duration_ms, applied_by = excluded.applied_by,
                   db_user = current_user""",
        (version, name, checksum, duration_ms, applied_by),
    )


# ---------------------------------------------------------------- the Supabase CLI's table

def statements(text: str) -> list[str]:
    """The statements of a migration file, as the ``statements`` column keeps them (no final ``;``)."""
    spans = statement_spans(text)
    if spans is None:  # a construct the lexer does not follow: the file as one statement
        return [text.strip().rstrip(";").strip()] if text.strip() else []
    out = []
    for a, b in spans:
        stmt = text[a:b].strip()
        stmt = stmt[:-1].rstrip() if stmt.endswith(";") else stmt
        if stmt:
            out.append(stmt)
    return out


def statements_key(stmts: list[str] | None) -> str:
    """What identifies a file in the Supabase table: a hash of its statements, normalised so
    that the CLI's and schemagen's way of splitting a file give the same key."""
    norm = []
    for s in stmts or []:
        for part in statements(s):  # a stored statement may carry comments or several statements
            norm.append(re.sub(r"\s+", " ", part).strip())
    return "sha256-statements:" + hashlib.sha256("\n".join(norm).encode("utf-8")).hexdigest()


class SchemagenLedger:
    name = "schemagen"
    table = QUALIFIED

    exists = staticmethod(exists)
    ensure = staticmethod(ensure)
    read = staticmethod(read)

    @staticmethod
    def checksum(file, text: str | None = None) -> str:
        return file.checksum

    @staticmethod
    def record(conn, file, text: str, duration_ms: int, applied_by: str) -> None:
        record(conn, version=file.version, name=file.name, checksum=file.checksum,
               duration_ms=duration_ms, applied_by=applied_by)


class SupabaseLedger:
    name = "supabase"
    table = SUPABASE_QUALIFIED

    @staticmethod
    def exists(conn) -> bool:
        return exists(conn, SUPABASE_QUALIFIED)

    @staticmethod
    def ensure(conn) -> None:
        with conn.transaction():
            conn.execute(SUPABASE_DDL)

    @classmethod
    def read(cls, conn) -> dict[str, LedgerRow]:
        if not cls.exists(conn):
            return {}
        rows = conn.execute(f"select version, name, statements from {SUPABASE_QUALIFIED} order by version").fetchall()
        for v, _name, _stmts in rows:
            if not _VERSION.fullmatch(v or ""):
                raise LedgerTampered(
                    f"{SUPABASE_QUALIFIED} has version {escape_controls(repr(v))}, which is not a migration number "
                    "(digits, e.g. 20240101000001); nothing was done")
        return {v: LedgerRow(v, name or "", statements_key(stmts), None, None, None, None) for v, name, stmts in rows}

    @staticmethod
    def checksum(file, text: str | None = None) -> str:
        return statements_key(statements(file.text() if text is None else text))

    @staticmethod
    def record(conn, file, text: str, duration_ms: int, applied_by: str) -> None:
        conn.execute(
            f"""insert into {SUPABASE_QUALIFIED} (version, name, statements) values (%s, %s, %s)
                on conflict (version) do update set name = excluded.name, statements = excluded.statements""",
            (file.version, file.name, statements(text)))


LEDGERS = {"schemagen": SchemagenLedger, "supabase": SupabaseLedger}


def get(name: str = "schemagen"):
    """The ledger layout called ``name`` (``schemagen`` or ``supabase``)."""
    return LEDGERS[name]
