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


def _block_comment_end(text: str, i: int) -> tuple[int, bool]:
    """The offset after the ``/* ... */`` comment opening at ``i`` (comments nest in PostgreSQL), and
    whether it is closed."""
    n, depth, i = len(text), 1, i + 2
    while i < n and depth:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i, depth == 0


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
        elif text.startswith("/*", i):
            i = _block_comment_end(text, i)[0]
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


def expression_problem(text: str) -> str | None:
    """Why ``text`` cannot stand as one SQL expression inside the parentheses the generator puts
    around it, or None. Linear: one pass of the lexer.

    An expression is the spec author's SQL, written into statements as ``check (<text>)``,
    ``using (<text>)``, ``default <text>``. It must stay there: no ``;`` outside strings (a second
    statement), parentheses balanced (a ``)`` would close the generator's), every string, quoted
    identifier, dollar quote and comment closed (else it swallows what follows), no backslash
    outside quotes (psql runs ``\\!`` and friends as commands wherever they stand), and no
    backslash in a plain '...' string (its meaning would depend on standard_conforming_strings;
    write E'...')."""
    i, n, depth = 0, len(text), 0
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            if j < 0:
                return "a -- comment runs to its end (it would comment out the closing parenthesis)"
            i = j + 1
        elif text.startswith("/*", i):
            i, closed = _block_comment_end(text, i)
            if not closed:
                return "a /* comment is not closed"
        elif c == ";":
            return "it contains ';' outside a string: an expression cannot end the statement"
        elif c == "\\":
            return "it contains a backslash outside a string (psql would run it as a command)"
        elif c in "()":
            depth += 1 if c == "(" else -1
            if depth < 0:
                return "it has a ')' without its '(' (it would close the parenthesis around the expression)"
            i += 1
        elif c == "'":
            j = _quoted_end(text, i, "'", backslash=False)
            if j is None:
                return "a '...' string is not closed"
            if "\\" in text[i:j] and not (i >= 2 and text[i - 2:i].lower() == "u&"):
                return ("a '...' string holds a backslash, whose meaning depends on standard_conforming_strings; "
                        "write it as an escape string E'...'")
            i = j
        elif c in "eE" and i + 1 < n and text[i + 1] == "'" and not (i and (text[i - 1].isalnum() or text[i - 1] in "_$")):
            j = _quoted_end(text, i + 1, "'", backslash=True)
            if j is None:
                return "an E'...' string is not closed"
            i = j
        elif c == '"':
            j = _quoted_end(text, i, '"', backslash=False)
            if j is None:
                return 'a "..." identifier is not closed'
            i = j
        elif c == "$" and DOLLAR_QUOTE.match(text, i) and not (i and (text[i - 1].isalnum() or text[i - 1] in "_$")):
            tag = DOLLAR_QUOTE.match(text, i).group(0)
            close = text.find(tag, i + len(tag))
            if close < 0:
                return f"a {tag} quote is not closed"
            i = close + len(tag)
        else:
            mt = _WORD.match(text, i)
            i = mt.end() if mt else i + 1
    if depth:
        return "its parentheses are not balanced"
    return None


def _quoted_end(text: str, i: int, quote: str, *, backslash: bool) -> int | None:
    """The offset after the quoted token opening at ``i`` (doubled quotes and, with ``backslash``,
    backslash escapes inside), or None when it is not closed."""
    j, n = i + 1, len(text)
    while j < n:
        ch = text[j]
        if backslash and ch == "\\":
            j += 2
        elif ch == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return None


_CAST = re.compile(r"\s*::\s*")
_ARRAY_SUFFIX = re.compile(r"\s*\[\s*\]")
_DOT = re.compile(r"\s*\.\s*")


def string_literals(text: str) -> list[tuple[str, str | None]]:
    """``(value, cast)`` for each string constant of ``text`` outside comments, quoted identifiers
    and dollar quotes (function bodies): the value as PostgreSQL reads it (doubled quotes undone;
    in ``E'...'`` the backslash escapes of a quote and a backslash), and the type of a ``::type``
    cast right after it (``public.mood``, ``mood[]``: unquoted words lower-cased, quotes removed),
    else None. Linear: one pass of the lexer. ``cast('x' as t)`` and ``t 'x'`` are not followed."""
    out: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            i = _block_comment_end(text, i)[0]
        elif c == "'" or (c in "eE" and text.startswith("'", i + 1)
                          and not (i and (text[i - 1].isalnum() or text[i - 1] in "_$"))):
            escape = c != "'"
            start = i + 1 if escape else i
            j = _quoted_end(text, start, "'", backslash=escape) or n
            value = text[start + 1:j - 1].replace("''", "'")
            if escape:
                value = re.sub(r"\\(['\\])", r"\1", value)
            cast, i = _cast_after(text, j)
            out.append((value, cast))
        elif c in "\"$":
            i = _skip_token(text, i)
            if i < 0:  # not reached: only `begin atomic` returns -1, and it starts with a word
                break
        else:
            mt = _WORD.match(text, i)
            i = mt.end() if mt else i + 1
    return out


def _cast_after(text: str, i: int) -> tuple[str | None, int]:
    """The type named by a ``::type`` cast at ``i`` (see ``string_literals``) and the offset after it."""
    mt = _CAST.match(text, i)
    if not mt:
        return None, i
    j, parts = mt.end(), []
    while True:
        if text.startswith('"', j):
            end = _quoted_end(text, j, '"', backslash=False)
            if end is None:
                return None, i
            parts.append(text[j + 1:end - 1].replace('""', '"'))
            j = end
        else:
            word = _WORD.match(text, j)
            if not word:
                break
            parts.append(word.group(0).lower())
            j = word.end()
        dot = _DOT.match(text, j)
        if not dot:
            break
        j = dot.end()
    if not parts:
        return None, i
    name = ".".join(parts)
    while (arr := _ARRAY_SUFFIX.match(text, j)):
        name, j = name + "[]", arr.end()
    return name, j


def _array_elements(text: str) -> list[str]:
    """The elements of a one-dimensional array literal ``{a,"b c"}`` (quotes removed), else []."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return []
    return [e.strip().strip('"') for e in text[1:-1].split(",")]


def uses_value(text: str | None, value: str, types: set[str], bare: bool = False) -> bool:
    """Whether ``text`` holds ``value`` as a string constant cast to one of ``types`` (``'x'::mood``,
    or an element of ``'{x,y}'::mood[]``) or, with ``bare``, as a constant without a cast (``'x'``,
    ``'{x}'``): the caller knows the text compares it with a column of the type. A heuristic over
    constants (see ``string_literals``), not a parse: a value built at run time is not seen."""
    if not text or ("'" not in value and "\\" not in value and value not in text):
        return False
    for literal, cast in string_literals(text):
        if cast is None:
            if bare and (literal == value or value in _array_elements(literal)):
                return True
        elif cast in types:
            if literal == value:
                return True
        elif cast.endswith("[]") and cast.rstrip("[]") in types and value in _array_elements(literal):
            return True
    return False
