"""A small SQL lexer: statement boundaries the way the server splits a multi-statement text
(strings, quoted identifiers, dollar quotes, nested comments), and offsets as line/column."""
from __future__ import annotations

import re


def position(text: str, pos: int) -> tuple[int, int, str]:
    """1-based character offset -> (line, column, that line's text)."""
    before = text[: max(pos - 1, 0)]
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    lines = text.splitlines()
    return line, col, lines[line - 1] if line <= len(lines) else ""


_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
DOLLAR_QUOTE = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_ATOMIC = re.compile(r"\s+atomic\b", re.IGNORECASE)


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
        mt = DOLLAR_QUOTE.match(text, i)
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


# statements that end, open or split a transaction: in a migration file they would break the
# runner's one-transaction-per-file (a COMMIT half way leaves the first half committed)
TRANSACTION_CONTROL = {"begin", "commit", "rollback", "savepoint", "release", "end", "abort"}
_TWO_WORD_CONTROL = {"start": "transaction", "prepare": "transaction"}


def transaction_control(text: str) -> tuple[int, str] | None:
    """(offset, statement's first words) of the first transaction-control statement of ``text``
    outside strings, dollar quotes and comments, else None. A text this lexer cannot follow
    (``BEGIN ATOMIC`` bodies) is reported at its first statement, as it cannot be checked."""
    spans = statement_spans(text)
    if spans is None:
        mt = _ATOMIC_BEGIN.search(text)
        return (mt.start() if mt else 0, "begin atomic")
    for a, b in spans:
        first = _WORD.match(text, a)
        if not first:
            continue
        word = first.group(0).lower()
        if word in TRANSACTION_CONTROL:
            return a, word
        if word in _TWO_WORD_CONTROL:
            j = first.end()
            while j < b and text[j].isspace():
                j += 1
            second = _WORD.match(text, j)
            if second and second.group(0).lower() == _TWO_WORD_CONTROL[word]:
                return a, f"{word} {second.group(0).lower()}"
    return None


_ATOMIC_BEGIN = re.compile(r"\bbegin\s+atomic\b", re.IGNORECASE)
