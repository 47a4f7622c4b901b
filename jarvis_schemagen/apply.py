"""Apply rendered migrations to a database, safely; report their status.

Safety, in order:
1. prerequisites: the spec's assumed objects must exist (checked before anything changes);
2. one apply at a time: a PostgreSQL advisory lock, waited for within a bound;
3. checksums: an applied file that changed is refused unless explicitly allowed;
4. atomicity: each file and its ledger row commit in one transaction or not at all;
5. lock_timeout / statement_timeout: a deploy never queues behind a long transaction.

A failure names the file, line and column (PostgreSQL's position when it gives one, else the
start of the statement that failed, found by counting the statements that completed) and,
for a lock timeout, the sessions holding locks on the relations that statement names.
"""
from __future__ import annotations

import getpass
import hashlib
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import ledger
from . import model as m
from .errors import DatabaseError, SchemagenError, UsageError
from .pg import connect, mask_text, mask_url

#: pg_advisory_lock key: the first 8 bytes of sha256("schemagen apply"), as a signed bigint
LOCK_KEY = int.from_bytes(hashlib.sha256(b"schemagen apply").digest()[:8], "big", signed=True)
FILE_RE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.sql$")  # NNN_name.sql; other .sql files are ignored


class MigrationFailed(SchemagenError):
    exit_code = 2


class PrerequisitesMissing(SchemagenError):
    exit_code = 2


class ChangedMigrations(SchemagenError):
    exit_code = 1


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path
    checksum: str  # sha256 of the file's bytes

    @property
    def filename(self) -> str:
        return self.path.name

    def text(self) -> str:
        """The file's text, as it was when discovered (its checksum is what the ledger records)."""
        raw = self.path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != self.checksum:
            raise UsageError(f"{self.path} changed while schemagen apply was running; nothing of it was applied, rerun")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UsageError(f"{self.path} is not UTF-8 text (byte {e.start})") from None


def discover(directory: str | Path) -> list[MigrationFile]:
    """The migration files of ``directory`` (``NNN_name.sql``), in version order."""
    d = Path(directory)
    if not d.is_dir():
        raise UsageError(f"migrations directory not found: {d} (use --dir, or run `schemagen render`)")
    files, seen = [], {}
    for p in sorted(d.glob("*.sql")):
        mt = FILE_RE.match(p.name)
        if not mt:
            continue
        v = mt.group("version")
        if int(v) in seen:
            raise UsageError(f"two migration files share version {v}: {seen[int(v)]} and {p.name}")
        seen[int(v)] = p.name
        files.append(MigrationFile(v, mt.group("name"), p, hashlib.sha256(p.read_bytes()).hexdigest()))
    if not files:
        raise UsageError(f"no migration files (NNN_name.sql) in {d}")
    return sorted(files, key=lambda f: int(f.version))


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


def _position(text: str, pos: int) -> tuple[int, int, str]:
    """1-based character offset -> (line, column, that line's text)."""
    before = text[: max(pos - 1, 0)]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    lines = text.splitlines()
    return line, col, lines[line - 1] if line <= len(lines) else ""


# ---------------------------------------------------------------- locating a failure in a file
#
# PostgreSQL gives a position (``statement_position``, relative to the whole multi-statement
# text) only for errors found while parsing or analysing a statement. For errors raised while
# it runs (a lock timeout, a constraint violation, an exception in a DO block) it gives none.
# The file still runs as ONE simple query; we count the results that came back before the
# error (one per statement) and find that statement with a small lexer that splits the text
# the way the server does (strings, quoted identifiers, dollar quotes, comments).

_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_ATOMIC = re.compile(r"\s+atomic\b", re.IGNORECASE)
_INLINE_LINE = re.compile(r"PL/pgSQL function inline_code_block line (\d+)")


def statement_spans(text: str) -> list[tuple[int, int]] | None:
    """``[start, end)`` offsets of each non-empty statement, in the order the server runs them.

    None when the text uses a construct this lexer does not follow (``BEGIN ATOMIC`` bodies,
    whose semicolons do not end the statement); callers then just do not name a statement.
    """
    spans: list[tuple[int, int]] = []
    i, n, start = 0, len(text), None
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):  # comments nest in PostgreSQL
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == ";":
            if start is not None:
                spans.append((start, i + 1))
                start = None
            i += 1
        else:
            if start is None:
                start = i
            i = _skip_token(text, i)
            if i < 0:
                return None
    if start is not None:
        spans.append((start, n))
    return spans


def _skip_token(text: str, i: int) -> int:
    """The offset after the token at ``i`` (-1: a construct statement_spans does not follow)."""
    n, c = len(text), text[i]
    if c == "'":
        return _skip_string(text, i, backslash=False)
    if c == '"':
        j = i + 1
        while True:
            j = text.find('"', j)
            if j < 0:
                return n
            if text.startswith('""', j):
                j += 2
                continue
            return j + 1
    if c == "$":
        mt = _DOLLAR_QUOTE.match(text, i)
        if mt:
            close = text.find(mt.group(0), mt.end())
            return n if close < 0 else close + len(mt.group(0))
        return i + 1
    mt = _WORD.match(text, i)
    if mt:
        word = mt.group(0)
        j = mt.end()
        if word in ("e", "E") and j < n and text[j] == "'":  # E'...' escape string
            return _skip_string(text, j, backslash=True)
        if word.lower() == "begin" and _ATOMIC.match(text, j):
            return -1
        return j
    return i + 1


def _skip_string(text: str, i: int, *, backslash: bool) -> int:
    j, n = i + 1, len(text)
    while j < n:
        if backslash and text[j] == "\\":
            j += 2
        elif text[j] == "'":
            if text.startswith("''", j):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return n


class _CountingCursor:
    """Runs a file as one simple query and remembers how many statements completed before an error.

    psycopg checks the results of a multi-statement query in order and raises for the first
    error; hooking that check (a psycopg internal, so used defensively) gives the statement's
    index. If the hook ever stops being called, ``completed`` stays None and the report just
    names no statement.
    """

    def __new__(cls, conn):
        import psycopg

        class Cursor(psycopg.Cursor):
            completed: int | None = None

            def _check_results(self, results):
                try:
                    bad = [i for i, r in enumerate(results) if r.status == psycopg.pq.ExecStatus.FATAL_ERROR]
                    self.completed = bad[0] if bad else len(results)
                except Exception:  # pragma: no cover - psycopg changed shape
                    self.completed = None
                return super()._check_results(results)

        return Cursor(conn)


@dataclass(frozen=True)
class FailureLocation:
    """Where in a migration file an error happened, as precisely as PostgreSQL lets us know."""

    line: int
    col: int
    source: str  # that line of the file
    exact: bool  # True: PostgreSQL's own position; False: the start of the failing statement
    statement: str | None = None  # the failing statement's text, when known


def locate_failure(text: str, diag, completed: int | None) -> FailureLocation | None:
    """The position of an error in a file run as one simple query (see the section comment)."""
    pos = getattr(diag, "statement_position", None) if diag is not None else None
    spans = statement_spans(text)
    if pos and str(pos).isdigit():
        line, col, src = _position(text, int(pos))
        stmt = next((text[a:b] for a, b in spans or () if a < int(pos) <= b), None)
        return FailureLocation(line, col, src, True, stmt)
    if completed is None or spans is None or completed >= len(spans):
        return None
    a, b = spans[completed]
    stmt = text[a:b]
    ctx = (getattr(diag, "context", None) or "") if diag is not None else ""
    inline = _INLINE_LINE.search(ctx)
    if inline:  # an error inside a DO block: its line N counts from the opening dollar quote
        mt = _DOLLAR_QUOTE.search(stmt)
        if mt:
            body_line, _, _ = _position(text, a + mt.end() + 1)
            line = body_line + int(inline.group(1)) - 1
            src = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
            return FailureLocation(line, len(src) - len(src.lstrip()) + 1, src, True, stmt)
    line, col, src = _position(text, a + 1)
    return FailureLocation(line, col, src, False, stmt)


def lock_holders(conn, sql_text: str) -> list[str]:
    """Other sessions holding locks on relations that ``sql_text`` names, one description each.

    Called after a lock timeout: the waiting is over, but the session that blocked us usually
    still holds its lock. Their query text is never printed (it may hold secrets).
    """
    rows = conn.execute(
        """select n.nspname, c.relname, l.mode, l.pid, coalesce(a.usename::text, '?'),
                  coalesce(a.state, '?'),
                  coalesce(extract(epoch from now() - coalesce(a.xact_start, a.query_start))::int, 0)
             from pg_locks l
             join pg_class c on c.oid = l.relation
             join pg_namespace n on n.oid = c.relnamespace
             left join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'relation' and l.granted and l.pid <> pg_backend_pid()
              and l.database = (select oid from pg_database where datname = current_database())
              and n.nspname not in ('pg_catalog', 'information_schema')
            order by n.nspname, c.relname, l.pid""").fetchall()
    low = sql_text.lower()
    found = []
    for schema, rel, mode, pid, user, state, age in rows:
        name = re.escape(rel.lower())
        pattern = rf'(?<![\w$."])(?:"?{re.escape(schema.lower())}"?\s*\.\s*)?"?{name}"?(?![\w$])'
        if re.search(pattern, low):
            found.append(f"{schema}.{rel} (pid {pid}, {mode}, user {user}, {state}"
                         f"{f' for {age} s' if age else ''})")
    return found


def _describe_failure(f: MigrationFile, text: str, e, url: str, lock_timeout: float, statement_timeout: float,
                      completed: int | None = None, holders: list[str] | None = None) -> str:
    diag = getattr(e, "diag", None)
    primary = (diag.message_primary if diag and diag.message_primary else str(e).splitlines()[0]).strip()
    sqlstate = getattr(e, "sqlstate", None) or ""
    loc = locate_failure(text, diag, completed)
    detail = ""
    if loc is not None and loc.exact:
        where = f"{f.path}:{loc.line}:{loc.col}: "
        width = len(str(loc.line))
        detail = f"\n    {loc.line} | {loc.source.rstrip()}\n    {' ' * width} | {' ' * (loc.col - 1)}^"
    elif loc is not None:  # PostgreSQL gave no position: show the start of the statement that failed
        where = f"{f.path}:{loc.line}:{loc.col}: "
        shown = (loc.statement or loc.source).strip().splitlines()
        width = len(str(loc.line + min(len(shown), 3) - 1))
        for k, src in enumerate(shown[:3]):
            src = (" " * (loc.col - 1) + src) if k == 0 else src
            detail += f"\n    {loc.line + k:>{width}} | {src.rstrip()}"
        if len(shown) > 3:
            detail += f"\n    {' ' * width} | …"
        detail += f"\n    (the statement that failed starts at {loc.line}:{loc.col}; PostgreSQL gives no finer position)"
    else:
        where = f"{f.path}: "
    for label, value in (("detail", diag and diag.message_detail), ("hint", diag and diag.message_hint),
                         ("context", diag and diag.context)):
        if value:
            detail += f"\n    {label}: " + " / ".join(value.strip().splitlines()[:3])
    hint = ""
    if sqlstate == "55P03":
        on = "; ".join(holders or []) or "an object this migration needs"
        hint = (f"\n    lock timeout ({lock_timeout:g} s): another session holds a lock on {on}; "
                "retry when it is done, or raise --lock-timeout")
    elif sqlstate == "57014" and "statement timeout" in primary:
        hint = f"\n    statement timeout ({statement_timeout:g} s): raise --statement-timeout if this is expected"
    msg = f"migration {f.filename} failed and was rolled back: {where}{primary} (SQLSTATE {sqlstate}){detail}{hint}"
    return mask_text(msg, url)


def _ms_setting(seconds: float) -> str:
    """A timeout for SET: whole milliseconds, never rounding a positive value down to 0 (= disabled)."""
    return "0" if seconds <= 0 else f"{max(1, round(seconds * 1000))}ms"


def apply(url: str, migrations_dir: str | Path = "generated", *, spec_path: str | Path | None = None,
          dry_run: bool = False, allow_changed: bool = False, lock_timeout: float = 5.0,
          statement_timeout: float = 300.0, wait_timeout: float = 300.0,
          on_event: Callable[[str], None] | None = None) -> ApplyReport:
    """Apply the pending migrations of ``migrations_dir`` to ``url``, in version order.

    ``spec_path``: check the spec's assumed objects exist first (PrerequisitesMissing, exit 2).
    ``dry_run``: report what would be applied; change nothing (not even create the ledger).
    ``allow_changed``: re-run applied files whose checksum changed (else ChangedMigrations, exit 1).
    ``lock_timeout``/``statement_timeout``: seconds, 0 disables; ``wait_timeout``: seconds to
    wait for another apply's advisory lock. ``on_event`` receives progress lines.
    Raises MigrationFailed (exit 2) after rolling back the failing file; what was applied before
    it stays applied and recorded. Any other database failure is a DatabaseError (exit 2).
    """
    emit = on_event or (lambda _msg: None)
    files = discover(migrations_dir)
    schema = None
    if spec_path is not None:
        from .api import load_spec

        schema = load_spec(spec_path)
    report = ApplyReport(database=mask_url(url), dry_run=dry_run)
    import psycopg

    try:
        with connect(url) as conn:
            if schema is not None:
                missing = check_prerequisites(conn, schema)
                if missing:
                    raise PrerequisitesMissing(
                        f"{report.database} lacks what {spec_path} assumes exists before migration 001; "
                        "nothing was changed:\n" + "\n".join(f"  missing: {x}" for x in missing))
            if dry_run:
                rows = ledger.read(conn)
                _refuse_changed(files, rows, allow_changed)
                for f in files:
                    (report.already if f.version in rows and rows[f.version].checksum == f.checksum
                     else report.pending).append(f)
                return report
            _acquire_lock(conn, report, wait_timeout, emit)
            try:
                _apply_locked(conn, url, files, report, allow_changed, lock_timeout, statement_timeout, emit)
            finally:
                if not conn.closed and not conn.broken:
                    try:
                        conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
                    except psycopg.Error:  # pragma: no cover - the session's end releases it anyway
                        pass
    except psycopg.Error as e:  # outside a migration: reading the ledger, creating it, the lock
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise DatabaseError(mask_text(f"{report.database}: {first}", url)) from None
    return report


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


def _apply_locked(conn, url, files, report, allow_changed, lock_timeout, statement_timeout, emit) -> None:
    import psycopg

    ledger.ensure(conn)
    rows = ledger.read(conn)
    _refuse_changed(files, rows, allow_changed)
    by = _applied_by()
    for f in files:
        row = rows.get(f.version)
        if row is not None and row.checksum == f.checksum:
            report.already.append(f)
            continue
        text = f.text()
        emit(f"applying {f.filename}" + (" (changed since it was applied)" if row else ""))
        t0 = time.monotonic()
        cur = _CountingCursor(conn)
        try:
            with conn.transaction():
                conn.execute("select set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                             (_ms_setting(lock_timeout), _ms_setting(statement_timeout)))
                cur.execute(text)  # no parameters: one simple query, all statements of the file
                ms = int((time.monotonic() - t0) * 1000)
                ledger.record(conn, version=f.version, name=f.name, checksum=f.checksum,
                              duration_ms=ms, applied_by=by)
        except psycopg.Error as e:
            holders = None
            if getattr(e, "sqlstate", None) == "55P03" and not conn.broken:
                loc = locate_failure(text, getattr(e, "diag", None), cur.completed)
                try:
                    holders = lock_holders(conn, loc.statement if loc and loc.statement else text)
                except psycopg.Error:  # pragma: no cover - diagnosis is best effort
                    holders = None
            raise MigrationFailed(_describe_failure(f, text, e, url, lock_timeout, statement_timeout,
                                                    cur.completed, holders)) from None
        finally:
            cur.close()
        report.applied.append((f, ms))


def _refuse_changed(files: list[MigrationFile], rows: dict, allow_changed: bool) -> None:
    changed = [f for f in files if f.version in rows and rows[f.version].checksum != f.checksum]
    if changed and not allow_changed:
        raise ChangedMigrations(
            "applied migration file(s) changed since they were applied; nothing was applied:\n"
            + "\n".join(f"  changed: {f.path} (applied {rows[f.version].applied_at:%Y-%m-%d %H:%M:%S %Z} "
                        f"by {rows[f.version].applied_by})" for f in changed)
            + "\n  If the change is intended, rerun with --allow-changed to re-run them (rendered files are "
              "idempotent); otherwise restore the files.")


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


def status(url: str, migrations_dir: str | Path = "generated") -> StatusReport:
    """Each migration file (and each ledger row without a file) with its state. Changes nothing."""
    import psycopg

    files = discover(migrations_dir)
    try:
        with connect(url) as conn:
            rows = ledger.read(conn)
    except psycopg.Error as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise DatabaseError(mask_text(f"{mask_url(url)}: {first}", url)) from None
    entries = []
    for f in files:
        row = rows.get(f.version)
        state = "pending" if row is None else "applied" if row.checksum == f.checksum else "changed"
        entries.append(StatusEntry(
            f.version, f.name, state, str(f.path), f.checksum, row.checksum if row else None,
            row.applied_at.isoformat() if row else None, row.applied_by if row else None,
            row.duration_ms if row else None))
    known = {f.version for f in files}
    for v, row in rows.items():
        if v not in known:
            entries.append(StatusEntry(v, row.name, "missing-file", None, None, row.checksum,
                                       row.applied_at.isoformat(), row.applied_by, row.duration_ms))
    entries.sort(key=lambda e: int(e.version))
    return StatusReport(database=mask_url(url), entries=entries)
