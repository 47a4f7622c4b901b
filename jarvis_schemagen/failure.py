"""Diagnosing a failed migration: where in the file it failed, who holds the locks, the message.

PostgreSQL gives a position (``statement_position``, relative to the whole multi-statement
text) only for errors found while parsing or analysing a statement. For errors raised while
it runs (a lock timeout, a constraint violation, an exception in a DO block) it gives none.
The file still runs as ONE simple query; we count the results that came back before the
error (one per statement, ``CountingCursor``) and find that statement with the lexer of
sqltext.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .migrations import MigrationFile
from .pg import mask_text
from .sqltext import DOLLAR_QUOTE, position, statement_spans

_INLINE_LINE = re.compile(r"PL/pgSQL function inline_code_block line (\d+)")


class CountingCursor:
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
        line, col, src = position(text, int(pos))
        stmt = next((text[a:b] for a, b in spans or () if a < int(pos) <= b), None)
        return FailureLocation(line, col, src, True, stmt)
    if completed is None or spans is None or completed >= len(spans):
        return None
    a, b = spans[completed]
    stmt = text[a:b]
    ctx = (getattr(diag, "context", None) or "") if diag is not None else ""
    inline = _INLINE_LINE.search(ctx)
    if inline:  # an error inside a DO block: its line N counts from the opening dollar quote
        mt = DOLLAR_QUOTE.search(stmt)
        if mt:
            body_line, _, _ = position(text, a + mt.end() + 1)
            line = body_line + int(inline.group(1)) - 1
            src = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
            return FailureLocation(line, len(src) - len(src.lstrip()) + 1, src, True, stmt)
    line, col, src = position(text, a + 1)
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


def describe_failure(f: MigrationFile, text: str, e, url: str, lock_timeout: float, statement_timeout: float,
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
