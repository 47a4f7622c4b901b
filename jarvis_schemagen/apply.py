"""Apply rendered migrations to a database, safely; report their status.

Safety, in order:
1. prerequisites: the spec's assumed objects must exist (checked before anything changes);
2. one apply at a time: a PostgreSQL advisory lock, waited for within a bound;
3. checksums: an applied file that changed is refused unless explicitly allowed;
4. atomicity: each file and its ledger row commit in one transaction or not at all;
5. lock_timeout / statement_timeout: a deploy never queues behind a long transaction.

A failure is diagnosed by failure.py (file, line and column; PostgreSQL's position when it gives one, else the
start of the statement that failed, found by counting the statements that completed) and,
for a lock timeout, the sessions holding locks on the relations that statement names.
"""
from __future__ import annotations

import getpass
import hashlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import ledger
from . import model as m
from . import term
from .errors import DatabaseError, SchemagenError, UsageError
from .failure import CountingCursor, describe_failure, locate_failure, lock_holders
from .migrations import MigrationFile, discover
from .pg import connect, mask_text, mask_url
from .sqltext import position, transaction_control

#: pg_advisory_lock key: the first 8 bytes of sha256("schemagen apply"), as a signed bigint
LOCK_KEY = int.from_bytes(hashlib.sha256(b"schemagen apply").digest()[:8], "big", signed=True)


class MigrationFailed(SchemagenError):
    """A migration failed and was rolled back. ``applied``: (file, ms) committed earlier in the same run."""

    exit_code = 2

    def __init__(self, message: str, applied=()):
        super().__init__(message)
        self.applied = list(applied)


class PrerequisitesMissing(SchemagenError):
    exit_code = 2


class ChangedMigrations(SchemagenError):
    exit_code = 1


class OutOfOrder(SchemagenError):
    exit_code = 1


# ---------------------------------------------------------------- prerequisites

def check_prerequisites(conn, schema: m.Schema) -> list[str]:
    """What the spec assumes but the database lacks, one line each (empty: all present).

    Read-only: roles, schemas, tables with the columns the spec declares on them, functions
    (name and argument types) that the spec marks ``assumed``.
    """
    assumed = m.restrict(schema, m.ASSUMED)
    missing: list[str] = []
    roles = [r.name for r in assumed.roles]
    if roles:
        have = {r[0] for r in conn.execute("select rolname from pg_roles where rolname = any(%s)", (roles,))}
        missing += [f"role {r}" for r in roles if r not in have]
    schemas = [n.name for n in assumed.namespaces]
    if schemas:
        have = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname = any(%s)", (schemas,))}
        missing += [f"schema {s}" for s in schemas if s not in have]
    tables = [t.qualified_name for t in assumed.tables]
    if tables:
        cols: dict[str, set[str]] = {}
        for tq, col in conn.execute(
            """select n.nspname || '.' || c.relname, a.attname
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                where c.relkind in ('r', 'p') and n.nspname || '.' || c.relname = any(%s)""", (tables,)):
            cols.setdefault(tq, set()).add(col)
        for t in assumed.tables:
            if t.qualified_name not in cols:
                missing.append(f"table {t.qualified_name}")
                continue
            missing += [f"column {t.qualified_name}.{c.name}" for c in t.columns if c.name not in cols[t.qualified_name]]
    fns = [f for f in assumed.functions]
    if fns:
        have = {(r[0], r[1]) for r in conn.execute(
            """select n.nspname || '.' || p.proname, pg_catalog.oidvectortypes(p.proargtypes)
                 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname || '.' || p.proname = any(%s)""", ([f.qualified_name for f in fns],))}
        missing += [f"function {f.signature}" for f in fns if (f.qualified_name, f.identity_arguments) not in have]
    return missing


# ---------------------------------------------------------------- apply

@dataclass
class ApplyReport:
    database: str  # masked URL
    applied: list[tuple[MigrationFile, int]] = field(default_factory=list)  # (file, ms)
    already: list[MigrationFile] = field(default_factory=list)
    pending: list[MigrationFile] = field(default_factory=list)  # dry run: would be applied
    changed: list[MigrationFile] = field(default_factory=list)  # --allow-changed: changed since applied
    accepted: list[MigrationFile] = field(default_factory=list)  # changed, and the database matches the spec
    dry_run: bool = False
    waited_s: float = 0.0


def _applied_by() -> str:
    who = os.environ.get("SCHEMAGEN_APPLIED_BY")
    if who:
        return who
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"

def _ms_setting(seconds: float) -> str:
    """A timeout for SET: whole milliseconds, never rounding a positive value down to 0 (= disabled)."""
    return "0" if seconds <= 0 else f"{max(1, round(seconds * 1000))}ms"


def apply(url: str, migrations_dir: str | Path = "generated", *, spec_path: str | Path | None = None,
          dry_run: bool = False, allow_changed: bool = False, lock_timeout: float = 5.0,
          statement_timeout: float = 300.0, wait_timeout: float = 300.0,
          on_event: Callable[[str], None] | None = None, shadow_url: str | None = None,
          ledger_name: str = "schemagen") -> ApplyReport:
    """Apply the pending migrations of ``migrations_dir`` to ``url``, in version order.

    ``spec_path``: check the spec's assumed objects exist first (PrerequisitesMissing, exit 2).
    ``dry_run``: report what would be applied; change nothing (not even create the ledger).
    History is guarded: a pending file whose id sorts before an applied one is refused
    (OutOfOrder, exit 1), and so is an applied file that changed (ChangedMigrations, exit 1).
    ``allow_changed``: instead of refusing changed files, never re-run them, apply the pending
    ones, then verify with ``diff`` (against the spec, normalised on ``shadow_url`` or a throwaway
    cluster) that the database matches the spec; only then record the changed files' new
    checksums, else ChangedMigrations (exit 1) listing the drift.
    ``lock_timeout``/``statement_timeout``: seconds, 0 disables; ``wait_timeout``: seconds to
    wait for another apply's advisory lock. ``on_event`` receives progress lines.
    ``ledger_name``: ``schemagen`` (schemagen.migrations) or ``supabase`` (the Supabase CLI's
    supabase_migrations.schema_migrations), see ledger.py.
    Raises MigrationFailed (exit 2) after rolling back the failing file; what was applied before
    it stays applied and recorded. Any other database failure is a DatabaseError (exit 2).
    """
    emit = on_event or (lambda _msg: None)
    led = ledger.get(ledger_name)
    files = discover(migrations_dir)
    keys = {f.version: led.checksum(f) for f in files}  # what the ledger compares: checksum or statements
    schema = None
    if spec_path is not None:
        from .api import load_spec

        schema = load_spec(spec_path)
    elif allow_changed:
        raise UsageError("--allow-changed verifies the database against the spec afterwards: pass --spec PATH")
    report = ApplyReport(database=mask_url(url), dry_run=dry_run)
    import psycopg

    step = _Step(url, led)
    try:
        with connect(url) as conn:
            if schema is not None:
                step.now = f"checking what {spec_path} assumes exists"
                missing = check_prerequisites(conn, schema)
                if missing:
                    raise PrerequisitesMissing(
                        f"{report.database} lacks what {spec_path} assumes exists before migration 001; "
                        "nothing was changed:\n" + "\n".join(f"  missing: {x}" for x in missing))
            if dry_run:
                step.now = f"reading the ledger {led.table}"
                rows = led.read(conn)
                _guard_history(files, rows, allow_changed, keys)
                for f in files:
                    if f.version not in rows:
                        check_runnable(f, f.text())
                        report.pending.append(f)
                    elif rows[f.version].checksum == keys[f.version]:
                        report.already.append(f)
                    else:
                        report.changed.append(f)
                return report
            step.now = f"taking the advisory lock {LOCK_KEY} (one schemagen apply at a time)"
            _acquire_lock(conn, report, wait_timeout, emit)
            try:
                _apply_locked(conn, url, files, report, allow_changed, lock_timeout, statement_timeout, emit,
                              led, keys, step)
                if report.changed:
                    step.now = f"recording the accepted files in the ledger {led.table}"
                    _adopt_changed(conn, url, spec_path, shadow_url, report, emit, led)
            finally:
                if not conn.closed and not conn.broken:
                    try:
                        conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
                    except psycopg.Error:  # pragma: no cover - the session's end releases it anyway
                        pass
    except psycopg.Error as e:  # outside a migration: reading the ledger, creating it, the lock
        raise step.failed(e) from None
    return report


class _Step:
    """What ``apply`` is doing outside a migration file, for an error there to say which step failed:
    `postgresql://u:***@host/db: creating the ledger schemagen.migrations: permission denied ...`."""

    def __init__(self, url: str, led) -> None:
        self.url = url
        self.led = led
        self.now = "connecting"

    def failed(self, e: Exception) -> DatabaseError:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        hint = ""
        if getattr(e, "sqlstate", None) == "42501" and self.now.startswith("creating the ledger"):
            schema = self.led.table.split(".")[0]
            hint = (f" (the role needs CREATE on the database to create schema {schema}; or create that schema "
                    "and grant the role CREATE and USAGE on it)")
        return DatabaseError(f"{mask_url(self.url)}: {self.now}: {mask_text(first, self.url)}{hint}")


def _acquire_lock(conn, report: ApplyReport, wait_timeout: float, emit) -> None:
    """Take the session-level advisory lock, polling; bounded by ``wait_timeout`` seconds."""
    started = time.monotonic()
    announced = False
    while not conn.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
        waited = time.monotonic() - started
        if waited >= wait_timeout:
            raise DatabaseError(f"gave up after {wait_timeout:g} s waiting for another schemagen apply on "
                                f"{report.database} (advisory lock {LOCK_KEY}); raise --wait-timeout")
        if not announced:
            emit("waiting for another schemagen apply to finish…")
            announced = True
        time.sleep(min(0.2, max(wait_timeout - waited, 0.01)))
    report.waited_s = time.monotonic() - started
    if announced:
        emit(f"got the lock after {report.waited_s:.1f} s")


def _apply_locked(conn, url, files, report, allow_changed, lock_timeout, statement_timeout, emit, led, keys,
                  step: _Step) -> None:
    import psycopg

    step.now = f"looking for the ledger {led.table}"
    step.now = f"checking the ledger {led.table}" if led.exists(conn) else f"creating the ledger {led.table}"
    led.ensure(conn)
    step.now = f"reading the ledger {led.table}"
    rows = led.read(conn)
    _guard_history(files, rows, allow_changed, keys)
    by = _applied_by()
    texts = {}
    for f in files:  # every file that will run is checked before the first one runs
        if f.version not in rows:
            texts[f.version] = f.text()
            check_runnable(f, texts[f.version])
    for f in files:
        row = rows.get(f.version)
        if row is not None and row.checksum == keys[f.version]:
            report.already.append(f)
            continue
        if row is not None:  # changed, and allowed: never re-run; verified after the pending ones
            report.changed.append(f)
            continue
        text = texts[f.version]
        step.now = f"applying {f.filename}"
        emit(f"applying {f.filename}")
        t0 = time.monotonic()
        cur = CountingCursor(conn)
        try:
            with conn.transaction(), term.progress(f"applying {f.filename}"):
                conn.execute("select set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                             (_ms_setting(lock_timeout), _ms_setting(statement_timeout)))
                cur.execute(text)  # no parameters: one simple query, all statements of the file
                ms = int((time.monotonic() - t0) * 1000)
                led.record(conn, f, text, duration_ms=ms, applied_by=by)
        except psycopg.Error as e:
            holders = None
            if getattr(e, "sqlstate", None) == "55P03" and not conn.broken:
                loc = locate_failure(text, getattr(e, "diag", None), cur.completed)
                try:
                    holders = lock_holders(conn, loc.statement if loc and loc.statement else text)
                except psycopg.Error:  # pragma: no cover - diagnosis is best effort
                    holders = None
            raise MigrationFailed(describe_failure(f, text, e, url, lock_timeout, statement_timeout,
                                                    cur.completed, holders), applied=report.applied) from None
        finally:
            cur.close()
        report.applied.append((f, ms))


class UnsafeMigration(SchemagenError):
    """A migration file the runner refuses to execute (exit 2): nothing was applied."""

    exit_code = 2


def check_runnable(f: MigrationFile, text: str) -> None:
    """Refuse a file the runner cannot apply atomically and faithfully: a NUL (libpq would stop at it
    and run only the start of the file, reporting success) or a transaction-control statement
    (a COMMIT half way through would leave the first half committed whatever happens next)."""
    if "\x00" in text:
        line, col, _ = position(text, text.index("\x00") + 1)
        raise UnsafeMigration(f"{f.path}:{line}:{col}: the file contains a NUL character; libpq would stop "
                              "there and run only the part before it. Nothing was applied")
    found = transaction_control(text)
    if found:
        line, col, _ = position(text, found[0] + 1)
        raise UnsafeMigration(
            f"{f.path}:{line}:{col}: the file contains a transaction-control statement ({found[1].upper()}); "
            "schemagen apply runs each file in one transaction of its own, and a statement like this would "
            "break its all-or-nothing guarantee. Remove it. Nothing was applied")


def _when(row) -> str:
    if row.applied_at is None:  # the Supabase CLI's table keeps neither time nor author
        return "applied"
    return f"applied {row.applied_at:%Y-%m-%d %H:%M:%S %Z} by {row.applied_by}"


def _applied_as(f: MigrationFile, row) -> str:
    """The ledger's name for the version when it is another migration's (a database adopted with
    `schemagen inspect` that already had a ledger, a renumbered file): not an edit of this file."""
    if not row.name or row.name == f.name:
        return ""
    return f"another migration with id {f.version} was applied there, {row.name}: "


def _guard_history(files: list[MigrationFile], rows: dict, allow_changed: bool, keys: dict[str, str]) -> None:
    """Applied migrations are history: refuse a pending file that sorts before an applied one, and
    (unless ``allow_changed``) an applied file that changed."""
    applied = sorted((int(v), v) for v in rows)
    on_disk = {f.version: f for f in files}
    late = []
    for f in files:
        if f.version in rows:
            continue
        after = [v for n, v in applied if n > int(f.version)]
        if after:
            name = on_disk[after[-1]].filename if after[-1] in on_disk else f"{after[-1]}_{rows[after[-1]].name}.sql"
            late.append(f"  out of order: {f.filename} is not applied, but {name}, which comes after it, is "
                        f"({_when(rows[after[-1]])})")
    if late:
        raise OutOfOrder("pending migration(s) sort before one already applied; nothing was applied:\n"
                         + "\n".join(late) + "\n  Give the new migration an id after the last applied one "
                         "(a pending change file gets one from `schemagen render`).")
    changed = [f for f in files if f.version in rows and rows[f.version].checksum != keys[f.version]]
    if changed and not allow_changed:
        raise ChangedMigrations(
            "applied migration file(s) changed since they were applied; nothing was applied:\n"
            + "\n".join(f"  changed: {f.path} ({_applied_as(f, rows[f.version])}{_when(rows[f.version])})"
                        for f in changed)
            + "\n  An applied migration is history: re-running an edited one does not change what it already "
              "created. Restore the file (e.g. `git checkout -- FILE`), and capture the change in a new "
              "migration: `schemagen render --name NAME`.")


def _adopt_changed(conn, url: str, spec_path, shadow_url: str | None, report: ApplyReport, emit, led) -> None:
    """--allow-changed: record the changed files' new checksums only if the database matches the spec."""
    from .diff import diff
    from .report import format_changes

    emit(f"verifying {report.database} against {spec_path} (changed files are not re-run)")
    result = diff(url, spec_path, shadow_url=shadow_url, strict=True)
    if result.drift:
        drift = result.changes + result.unmanaged
        raise ChangedMigrations(
            f"--allow-changed: {report.database} does not match {spec_path} ({len(drift)} difference(s)), so the "
            "changed file(s) were not accepted:\n"
            + "\n".join(f"  changed: {f.path}" for f in report.changed) + "\n"
            + format_changes(drift).rstrip("\n")
            + "\n  Capture the spec's change in a new migration: `schemagen render --name NAME`, then apply.")
    by = _applied_by()
    with conn.transaction():
        for f in report.changed:
            led.record(conn, f, f.text(), duration_ms=0, applied_by=by)
    report.accepted = list(report.changed)


# ---------------------------------------------------------------- status

@dataclass(frozen=True)
class StatusEntry:
    version: str
    name: str
    state: str  # applied | pending | changed | missing-file
    file: str | None
    checksum: str | None
    applied_checksum: str | None
    applied_at: str | None
    applied_by: str | None
    duration_ms: int | None


@dataclass
class StatusReport:
    database: str
    entries: list[StatusEntry]

    def count(self, state: str) -> int:
        return sum(1 for e in self.entries if e.state == state)

    @property
    def ok(self) -> bool:
        return all(e.state == "applied" for e in self.entries)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "database": self.database,
            "ok": self.ok,
            "counts": {s: self.count(s) for s in ("applied", "pending", "changed", "missing-file")},
            "migrations": [e.__dict__ for e in self.entries],
        }


def status(url: str, migrations_dir: str | Path = "generated", ledger_name: str = "schemagen") -> StatusReport:
    """Each migration file (and each ledger row without a file) with its state. Changes nothing."""
    import psycopg

    led = ledger.get(ledger_name)
    files = discover(migrations_dir)
    keys = {f.version: led.checksum(f) for f in files}
    try:
        with connect(url) as conn:
            rows = led.read(conn)
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise DatabaseError(f"{mask_url(url)}: reading the ledger {led.table}: {mask_text(first, url)}") from None
    entries = []
    for f in files:
        row = rows.get(f.version)
        state = "pending" if row is None else "applied" if row.checksum == keys[f.version] else "changed"
        entries.append(StatusEntry(
            f.version, f.name, state, str(f.path), keys[f.version], row.checksum if row else None,
            row.applied_at.isoformat() if row and row.applied_at else None, row.applied_by if row else None,
            row.duration_ms if row else None))
    known = {f.version for f in files}
    for v, row in rows.items():
        if v not in known:
            entries.append(StatusEntry(v, row.name, "missing-file", None, None, row.checksum,
                                       row.applied_at.isoformat() if row.applied_at else None, row.applied_by,
                                       row.duration_ms))
    entries.sort(key=lambda e: int(e.version))
    return StatusReport(database=mask_url(url), entries=entries)
