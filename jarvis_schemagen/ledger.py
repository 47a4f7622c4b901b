"""The migrations ledger: ``schemagen.migrations``, one row per applied migration file.

Created on first use by ``apply`` (under the advisory lock, so concurrent first runs are
safe); never created by ``status`` or ``apply --dry-run``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class LedgerRow:
    version: str
    name: str
    checksum: str
    applied_at: datetime
    duration_ms: int
    applied_by: str
    db_user: str


def exists(conn) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (QUALIFIED,)).fetchone()[0]


def ensure(conn) -> None:
    """Create the ledger if missing (call while holding the apply lock)."""
    with conn.transaction():
        conn.execute(DDL)


def read(conn) -> dict[str, LedgerRow]:
    """version -> row; empty when the ledger does not exist yet."""
    if not exists(conn):
        return {}
    rows = conn.execute(
        f"select version, name, checksum, applied_at, duration_ms, applied_by, db_user from {QUALIFIED} order by version"
    ).fetchall()
    return {r[0]: LedgerRow(*r) for r in rows}


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
