"""Migration files on disk: ``NNN_name.sql`` in a directory, in version order, with checksums."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

FILE_RE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.sql$")  # NNN_name.sql; other .sql files are ignored

#: where each layout keeps its migration files: ours, and the Supabase CLI's
LAYOUTS = {"schemagen": "generated", "supabase": "supabase/migrations"}


def layout_dir(layout: str, directory: str | None = None) -> str:
    """The migrations directory: ``directory`` when given, else the layout's own."""
    return directory if directory is not None else LAYOUTS[layout]

#: where each layout keeps its migration files: ours, and the Supabase CLI's
LAYOUTS = {"schemagen": "generated", "supabase": "supabase/migrations"}


def layout_dir(layout: str, directory: str | None = None) -> str:
    """The migrations directory: ``directory`` when given, else the layout's own."""
    return directory if directory is not None else LAYOUTS[layout]


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
        if not p.is_file():  # a directory, a dangling symlink, a socket... named like a migration
            what = "a dangling symlink" if p.is_symlink() and not p.exists() else "not a regular file"
            raise UsageError(f"{p} is named like a migration file but is {what}; remove or rename it")
        try:
            data = p.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {p}: {e.strerror}") from None
        files.append(MigrationFile(v, mt.group("name"), p, hashlib.sha256(data).hexdigest()))
    if not files:
        raise UsageError(f"no migration files (NNN_name.sql) in {d}")
    return sorted(files, key=lambda f: int(f.version))
