"""Where the database comes from: one resolver for every command that takes ``--db``.

Order: ``--db``; then ``$DATABASE_URL``; then ``DATABASE_URL=`` in ``.env.local``, then
``.env``, in the working directory; then libpq's own ``PG*`` variables (``PGHOST``,
``PGDATABASE``, ``PGSERVICE``, ...; ``PGPASSWORD`` is left for libpq to read). The value
is never printed with its password (``pg.mask_url``).

The ``.env`` files are read, never executed: ``KEY=value`` lines, an optional ``export``,
single or double quotes, ``#`` comments; no variable expansion, no command substitution.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

DB_VARIABLE = "DATABASE_URL"
ENV_FILES = (".env.local", ".env")
# libpq variables that say which server/database to use (PGPASSWORD alone says nothing)
PG_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")
_CONNINFO_KEYS = {"PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port", "PGDATABASE": "dbname",
                  "PGUSER": "user", "PGSERVICE": "service"}

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class Database:
    url: str  # a URL or key=value conninfo for libpq
    source: str  # where it came from: "--db", "$DATABASE_URL", ".env.local", "PG* variables"


def parse_env_file(text: str, unterminated: dict[str, int] | None = None) -> dict[str, str]:
    """``KEY=value`` pairs of a dotenv file, without expanding or executing anything. A value with an
    unterminated quote is left out; ``unterminated`` (if given) gets its key and line number."""
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mt = _LINE.match(line)
        if not mt:
            continue
        key, value = mt.group(1), mt.group(2)
        if value[:1] in ("'", '"'):
            q = value[0]
            end = value.find(q, 1)
            while q == '"' and end > 0 and value[end - 1] == "\\":
                end = value.find(q, end + 1)
            if end < 0:  # unterminated quote: not a value we can trust
                if unterminated is not None:
                    unterminated[key] = number
                continue
            inner = value[1:end]
            if q == '"':
                inner = re.sub(r'\\(["\\])', r"\1", inner).replace("\\n", "\n")
            value = inner
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        out[key] = value
    return out


def _conninfo_from_pg_env(environ) -> str | None:
    parts = []
    for var in PG_VARIABLES:
        value = environ.get(var)
        if value:
            escaped = value.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"{_CONNINFO_KEYS[var]}='{escaped}'")
    return " ".join(parts) or None


def where_we_look(cwd: Path) -> str:
    files = ", ".join(str(cwd / f) for f in ENV_FILES)
    return f"--db, ${DB_VARIABLE}, {DB_VARIABLE}= in {files}, libpq's {'/'.join(PG_VARIABLES)}"


def resolve_database(db: str | None, cwd: str | Path | None = None, environ=None) -> Database:
    """The database to use, by the documented order; UsageError naming every place looked at."""
    env = os.environ if environ is None else environ
    if db is not None and not db.strip():  # `--db "$STAGING_URL"` with the variable unset: never a fallback
        raise UsageError("--db is empty (an unset variable in `--db \"$URL\"`?); give a URL, or leave --db out "
                         f"to use {DB_VARIABLE}, .env.local/.env or PG* variables")
    if db:
        return Database(db, "--db")
    if env.get(DB_VARIABLE):
        return Database(env[DB_VARIABLE], f"${DB_VARIABLE}")
    here = Path(cwd) if cwd is not None else Path.cwd()
    for name in ENV_FILES:
        path = here / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror}") from None
        unterminated: dict[str, int] = {}
        value = parse_env_file(text, unterminated).get(DB_VARIABLE)
        if DB_VARIABLE in unterminated:  # said, not skipped for the next place (maybe another database)
            raise UsageError(f"{path}:{unterminated[DB_VARIABLE]}: the value of {DB_VARIABLE} has an "
                             "unterminated quote")
        if value:
            return Database(value, name)
    conninfo = _conninfo_from_pg_env(env)
    if conninfo:
        return Database(conninfo, "PG* variables")
    raise UsageError(f"no database given: pass --db URL or set {DB_VARIABLE} (looked at {where_we_look(here)})")
