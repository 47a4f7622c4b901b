"""PostgreSQL plumbing: connections with masked errors, database create/drop, and a throwaway
cluster (initdb + pg_ctl on a temp dir, unix socket only) used by the tests and by `diff` as
its shadow database."""
from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .errors import DatabaseError

# ---------------------------------------------------------------- passwords never printed

_URL_PASSWORD = re.compile(r"(?P<head>\b(?:postgres|postgresql)://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL (or key=value conninfo) with any password replaced by ``***``."""
    if url is None:
        return url
    text = _URL_PASSWORD.sub(lambda mt: mt.group("head") + "***" + mt.group("tail"), str(url))
    return _KV_PASSWORD.sub(lambda mt: mt.group("head") + "***", text)


def _password_of(url: str) -> str | None:
    mt = _URL_PASSWORD.search(url or "")
    if mt and mt.group("pw"):
        return mt.group("pw")
    mt = _KV_PASSWORD.search(url or "")
    if mt:
        return mt.group("pw").strip("'")
    return None


def mask_text(text: str, url: str | None) -> str:
    """``text`` (e.g. a driver's error message) with the password of ``url`` removed."""
    out = mask_url(str(text))
    pw = _password_of(url or "")
    if pw:
        from urllib.parse import unquote

        for variant in {pw, unquote(pw)}:
            if variant:
                out = out.replace(variant, "***")
    return out


# ---------------------------------------------------------------- connections

def connect(url: str, *, autocommit: bool = True, connect_timeout: int = 10, **kw):
    """A psycopg connection; failures become DatabaseError (exit 2) with a one-line, masked message."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout, **kw)
    except psycopg.Error as e:
        first = " ".join(str(e).strip().splitlines()[:1]) or type(e).__name__
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {mask_text(first, url)}") from None
    except Exception as e:  # malformed URLs raise ProgrammingError/ValueError variants
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {mask_text(str(e), url)}") from None


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    from psycopg import sql

    with connect(admin_url) as conn:
        stmt = sql.SQL("create database {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
        conn.execute(stmt)


def drop_database(admin_url: str, name: str) -> None:
    from psycopg import sql

    with connect(admin_url) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def url_with_dbname(url: str, dbname: str) -> str:
    """The same server, another database (works for URLs and for key=value conninfo)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


# ---------------------------------------------------------------- the throwaway cluster

def find_pg_bin() -> Path | None:
    """Directory with initdb, pg_ctl and postgres: $SCHEMAGEN_PG_BIN, pg_config, Debian's layout, PATH."""
    def ok(d: Path | None) -> bool:
        return bool(d) and all((d / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres"))

    env = os.environ.get("SCHEMAGEN_PG_BIN")
    if env:
        return Path(env) if ok(Path(env)) else None
    if shutil.which("pg_config"):
        try:
            d = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip())
            if ok(d):
                return d
        except (OSError, subprocess.SubprocessError):
            pass
    versions = []
    for d in Path("/usr/lib/postgresql").glob("*/bin"):
        try:
            versions.append((float(d.parent.name), d))
        except ValueError:
            continue
    for _, d in sorted(versions, reverse=True):
        if ok(d):
            return d
    initdb = shutil.which("initdb")
    if initdb and ok(Path(initdb).parent):
        return Path(initdb).parent
    return None


class TempCluster:
    """A PostgreSQL server in a temp dir, listening only on a unix socket; removed on stop().

    Durability is off (fsync, full_page_writes, synchronous_commit): it is throwaway.
    As root, initdb and postgres run as the ``postgres`` OS user.
    """

    def __init__(self, bin_dir: Path | None = None, *, max_connections: int = 100):
        self.bin_dir = Path(bin_dir) if bin_dir else find_pg_bin()
        if self.bin_dir is None:
            raise DatabaseError(
                "no PostgreSQL server binaries found (initdb, pg_ctl, postgres): install them "
                "(e.g. `apt-get install postgresql`), set SCHEMAGEN_PG_BIN to their directory, "
                "or give a server URL")
        self.max_connections = max_connections
        self.dir: Path | None = None
        self.port: int | None = None
        self.major_version: int | None = None
        self._started = False

    # as root the server must run as another user
    def _run_as(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--"]
        return ["su", "postgres", "-s", "/bin/sh", "-c"]  # pragma: no cover

    def _cmd(self, *args: str) -> list[str]:
        prefix = self._run_as()
        if prefix[:1] == ["su"]:  # pragma: no cover - su wants one string
            import shlex

            return prefix + [" ".join(shlex.quote(a) for a in args)]
        return prefix + list(args)

    def start(self) -> "TempCluster":
        base = Path(tempfile.mkdtemp(prefix="schemagen-pg-"))
        self.dir = base
        data = base / "data"
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o700)
        try:
            r = subprocess.run(self._cmd(str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                         "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"),
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise DatabaseError(f"initdb failed: {(r.stderr or r.stdout).strip()[-800:]}")
            self.major_version = int((data / "PG_VERSION").read_text().strip().split(".")[0])
            for attempt in range(20):
                self.port = _free_port(base)
                opts = (f"-c listen_addresses='' -c unix_socket_directories='{base}' -p {self.port} "
                        f"-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                        f"-c max_connections={self.max_connections} -c shared_buffers=64MB")
                r = subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                                             "-o", opts, "-w", "-t", "60", "start"),
                                   capture_output=True, text=True, timeout=90)
                if r.returncode == 0:
                    break
                if "already in use" not in self.log_tail():
                    raise DatabaseError(f"the PostgreSQL server did not start: {self.log_tail()}")
            else:
                raise DatabaseError(f"the PostgreSQL server did not start: {self.log_tail()}")
        except BaseException:
            self.stop()
            raise
        self._started = True
        atexit.register(self.stop)
        return self

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = (self.dir / "server.log").read_text(errors="replace").splitlines()
        except (OSError, TypeError):
            return "(no server log)"
        return "\n".join(lines[-n:])

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@/{quote(dbname)}?host={quote(str(self.dir))}&port={self.port}"

    def stop(self) -> None:
        if self.dir is None:
            return
        data = self.dir / "data"
        if self._started or (data / "postmaster.pid").exists():
            subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"),
                           capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        self._started = False

    def __enter__(self) -> "TempCluster":
        return self.start() if not self._started else self

    def __exit__(self, *exc) -> None:
        self.stop()


def _free_port(sock_dir: Path) -> int:
    """A port whose unix socket name is free in ``sock_dir`` and whose TCP port is unused."""
    import random

    for _ in range(100):
        port = random.randint(20000, 60000)
        if (sock_dir / f".s.PGSQL.{port}").exists():
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise DatabaseError("no free port for a temporary PostgreSQL server")  # pragma: no cover
