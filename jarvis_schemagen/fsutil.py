"""Writing files safely: through a temporary file created exclusively, then an atomic rename.

The temporary file gets a fresh random name and is opened with ``O_CREAT | O_EXCL`` (and
``O_NOFOLLOW`` where the system has it): a symlink or file planted at a predictable name
(``generated/.001_x.sql.tmp``) is never written through, and a reader never sees half a file.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def write_atomic(path: str | Path, data: bytes, mode: int = 0o666) -> None:
    """Replace ``path`` with ``data`` atomically (raises OSError). ``mode`` is masked by the umask."""
    path = Path(path)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, _FLAGS, mode)
        except FileExistsError:
            continue
        break
    else:  # pragma: no cover - 100 random names taken
        raise FileExistsError(f"no free temporary name next to {path}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
