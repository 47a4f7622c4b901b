"""The lock file ``generated/schemagen.lock``: which migration files are released (frozen) and
which one is pending (recomputed from the spec by ``render`` until the next release).

One line per file, sorted by id, so a review shows exactly what a release froze::

    # schemagen.lock ... (comment lines)
    released 001_create_user_plans_table.sql sha256:3f1c...
    pending  006_widen_plan_type.sql
    pending  006_drop_notes.sql allow-destructive

``released`` files are never rewritten by ``render``; ``render --check`` fails when their bytes
differ from the recorded SHA-256. At most one ``pending`` file exists: the change migration
``render --name`` created; ``allow-destructive`` records the consent given with it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import UsageError
from .migrations import FILE_RE

LOCK_NAME = "schemagen.lock"
_HEX = re.compile(r"^sha256:(?P<hex>[0-9a-f]{64})$")

HEADER = (
    "# schemagen.lock: the migration files of this directory that are released (frozen).\n"
    "# Written by `schemagen release` and `schemagen render --name`; commit it, do not edit it.\n"
    "# A released file is never rewritten by `schemagen render`, and `schemagen render --check`\n"
    "# fails when its bytes differ from the SHA-256 below. The pending file (at most one) is\n"
    "# recomputed from the spec by `schemagen render` until the next `schemagen release`.\n"
)


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    state: str  # released | pending
    sha256: str | None = None  # released files only
    allow_destructive: bool = False  # pending only: consent given with render --name

    @property
    def filename(self) -> str:
        return f"{self.id}_{self.name}.sql"

    @property
    def number(self) -> int:
        return int(self.id)


@dataclass(frozen=True)
class Lock:
    entries: tuple[Entry, ...] = ()
    exists: bool = False  # the file was there

    @property
    def released(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.state == "released")

    @property
    def pending(self) -> Entry | None:
        return next((e for e in self.entries if e.state == "pending"), None)

    def by_id(self, mid: str) -> Entry | None:
        return next((e for e in self.entries if e.number == int(mid)), None)

    def with_pending(self, entry: Entry | None) -> "Lock":
        kept = tuple(e for e in self.entries if e.state != "pending")
        return replace(self, entries=_sorted(kept + ((entry,) if entry else ())))


def _sorted(entries) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=lambda e: (e.number, e.name)))


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / LOCK_NAME


def read_lock(out_dir: str | Path) -> Lock:
    """The lock of ``out_dir``; an empty Lock when there is none. A malformed line is a UsageError."""
    path = lock_path(out_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    entries: list[Entry] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        problem = None
        fm = FILE_RE.match(parts[1]) if len(parts) >= 2 else None
        if len(parts) < 2 or parts[0] not in ("released", "pending") or fm is None:
            problem = "expected `released NNN_name.sql sha256:HEX` or `pending NNN_name.sql`"
        elif parts[0] == "released" and (len(parts) != 3 or not _HEX.match(parts[2])):
            problem = "a released file needs its sha256:HEX (64 lower-case hex digits)"
        elif parts[0] == "pending" and parts[2:] not in ([], ["allow-destructive"]):
            problem = "a pending file takes only the flag allow-destructive"
        if problem:
            raise UsageError(f"{path}:{n}: {problem}")
        entry = Entry(fm.group("version"), fm.group("name"), parts[0],
                      _HEX.match(parts[2]).group("hex") if parts[0] == "released" else None,
                      parts[0] == "pending" and "allow-destructive" in parts[2:])
        clash = next((e for e in entries if e.number == entry.number), None)
        if clash:
            raise UsageError(f"{path}:{n}: {entry.filename} has the id of {clash.filename}")
        entries.append(entry)
    if sum(1 for e in entries if e.state == "pending") > 1:
        raise UsageError(f"{path}: more than one pending file")
    return Lock(_sorted(entries), exists=True)


def format_lock(lock: Lock) -> str:
    lines = []
    for e in _sorted(lock.entries):
        if e.state == "released":
            lines.append(f"released {e.filename} sha256:{e.sha256}")
        else:
            lines.append(f"pending  {e.filename}" + (" allow-destructive" if e.allow_destructive else ""))
    return HEADER + "".join(line + "\n" for line in lines)


def write_lock(out_dir: str | Path, lock: Lock) -> None:
    """Write the lock atomically (no file when it has no entries and none existed)."""
    path = lock_path(out_dir)
    if not lock.entries and not path.exists():
        return
    write_file(path, format_lock(lock).encode("utf-8"))


def write_file(target: Path, data: bytes) -> None:
    """Write through an exclusive temporary file and an atomic rename (fsutil.write_atomic: a
    symlink planted at the temporary name is never written through)."""
    from .fsutil import write_atomic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
    except OSError as e:
        raise UsageError(f"cannot write {target}: {e.strerror}") from None


def migration_files(out_dir: str | Path) -> dict[str, Path]:
    """``NNN_name.sql`` files of ``out_dir``: file name -> path (empty when the directory is absent)."""
    d = Path(out_dir)
    if not d.is_dir():
        return {}
    return {p.name: p for p in sorted(d.glob("*.sql")) if FILE_RE.match(p.name)}


def released_problems(out_dir: str | Path, lock: Lock) -> list[str]:
    """Released files that are missing or whose bytes differ from the lock, one line each."""
    problems = []
    for e in lock.released:
        p = Path(out_dir) / e.filename
        if not p.is_file():
            problems.append(f"released file {p} is missing (restore it, e.g. `git checkout -- {p}`)")
        elif sha256_file(p) != e.sha256:
            problems.append(f"released file {p} was edited: its bytes differ from {lock_path(out_dir)} "
                            f"(restore it; change the spec and run `schemagen render --name NAME` instead)")
    return problems
