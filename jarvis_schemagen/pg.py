"""PostgreSQL plumbing: connections with masked errors, database create/drop, and a throwaway
cluster (initdb + pg_ctl on a temp dir, unix socket only) used by the tests and by `diff` as
its shadow database.

No function here ever puts a password into a message: URLs are shown through ``mask_url`` and
driver messages through ``mask_text``.
"""
from __future__ import annotations

import atexit
import functools
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote, unquote

from .errors import DatabaseError

# ---------------------------------------------------------------- passwords never printed

# ``scheme://user:PASSWORD@host``; the scheme may carry a driver suffix (``postgresql+psycopg2://``,
# as SQLAlchemy writes it). First try: the password runs to the LAST "@" before the query, a quote
# or whitespace, so an unescaped "@" or "/" in a password is masked whole (libpq itself would stop
# at the first "@" and then report the rest as a host name). Any scheme: a password in a URL libpq
# refuses (``mysql://``, a typo like ``postgress://``) is echoed back by its error message.
_SCHEME = r"\b[A-Za-z][A-Za-z0-9+.-]*://"
_PG_SCHEME = re.compile(r"\s*(?:postgres|postgresql)://")  # what libpq accepts (case matters)
_URL_PW_GREEDY = re.compile(
    rf"(?P<head>{_SCHEME}[^:/@\s?#\"'`<>]*:)(?P<pw>[^\s?#\"'`<>]*)(?P<tail>@)", re.IGNORECASE)
# Second try, for passwords holding a quote: up to the first "@" (what libpq does).
_URL_PW_FIRST_AT = re.compile(rf"(?P<head>{_SCHEME}[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)", re.IGNORECASE)
# Third, for passwords holding a space: libpq's own rule, userinfo runs to the first "@" or "/".
_URL_PW_LIBPQ = re.compile(rf"(?P<head>{_SCHEME}[^:/@\s]*:)(?P<pw>[^@/\n]*)(?P<tail>@)", re.IGNORECASE)
_URL_RES = (_URL_PW_GREEDY, _URL_PW_FIRST_AT, _URL_PW_LIBPQ)
_URL_HEAD = re.compile(rf"{_SCHEME}[^:/@\s]*:", re.IGNORECASE)
# libpq's connection keywords: in a key=value conninfo, whatever follows ``password=value`` up to the
# next of these is part of a mistyped password (``password=S3cr3t pw=x/y``), never shown
CONNINFO_KEYWORDS = (
    "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding", "connect_timeout",
    "client_encoding", "options", "application_name", "fallback_application_name", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication",
    "gssencmode", "sslmode", "sslnegotiation", "requiressl", "sslcompression", "sslcert", "sslkey",
    "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
    "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib", "gssdelegation",
    "service", "target_session_attrs", "load_balance_hosts", "require_auth", "min_protocol_version",
    "max_protocol_version", "scram_client_key", "scram_server_key", "oauth_issuer", "oauth_client_id",
    "oauth_client_secret", "oauth_scope",
)
_KEYWORD = r"(?:" + "|".join(CONNINFO_KEYWORDS) + r")\s*="
# ``password=`` / ``sslpassword=`` in key=value conninfo and in URL query parameters. The value:
# single-quoted (libpq's quoting, backslash escapes), an unterminated single quote (to the end of the
# line), double-quoted (not libpq quoting, but meant as such), or a bare word followed by any
# ``unknown=value`` words (a password with a space, written unquoted).
_KV_PW = re.compile(
    r"(?P<head>\b(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\\n]|\\.)*'|'[^\n]*|\"[^\"\n]*\"?"
    rf"|[^\s&'\"]+(?:[ \t]+(?!{_KEYWORD})[^\s&'\"=]+=[^\s&'\"]*)*)", re.IGNORECASE)
# for finding the password a conninfo holds: everything up to the next keyword is the password
_KV_PW_ALL = re.compile(
    r"(?P<head>\b(?:ssl)?password\s*=\s*)(?P<pw>'(?:[^'\\\n]|\\.)*'|'[^\n]*|\"[^\"\n]*\"?"
    rf"|[^\s&'\"]+(?:\s+(?!{_KEYWORD})[^\s&]+)*)", re.IGNORECASE)
_CONNINFO_HEAD = re.compile(r"\s*[A-Za-z_]+\s*=")
_QUOTED = re.compile(r'"([^"\n]*)"|\'([^\'\n]*)\'')
MASK = "***"


def mask_url(url: str, whole: bool = True) -> str:
    """``url`` (a libpq URL, a key=value conninfo, or any text holding them) with every password
    (``password=``, ``sslpassword=``, the userinfo of a URL) replaced by ``***``. With ``whole``
    (a connection string, not a message holding one), a password runs as far as it can."""
    if url is None:
        return url
    text = str(url)
    head = _URL_HEAD.match(text.strip()) if whole else None
    if head and "\n" not in text.strip():
        # the text is one URL: its password runs to the last "@" in it, whatever it holds (spaces,
        # unescaped "@" and "/"); masking a little of the host is better than showing a password
        text = text.strip()
        at = text.rfind("@")
        if at > head.end():
            text = text[:head.end()] + MASK + text[at:]
    for rx in _URL_RES:
        text = rx.sub(lambda mt: mt.group("head") + MASK + mt.group("tail"), text)
    # the text is one key=value conninfo: a password runs to the next keyword, whatever it holds
    one_conninfo = whole and _CONNINFO_HEAD.match(text) and "\n" not in text.strip()
    text = (_KV_PW_ALL if one_conninfo else _KV_PW).sub(lambda mt: mt.group("head") + MASK, text)
    return _mask_unknown_keywords(text, one_conninfo) if whole and "\n" not in text.strip() else text


# one ``key=value`` of a conninfo (libpq's single quotes with backslash escapes, or a bare word), and
# one ``key=value`` of a URL's query string
_KV_PAIR = re.compile(r"\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'?|[^\s']*)")
_QUERY_PAIR = re.compile(r"(?P<head>[?&](?P<key>[^=&#\s]*)=)(?P<value>[^&#\s]*)")


def _mask_unknown_keywords(text: str, conninfo: bool) -> str:
    """The value of a keyword libpq does not know is masked: a mistyped ``pasword=S3cr3t`` (``passwd``,
    ``pwd``, ``?pass=``) is a password all the same, and libpq's own message names only the keyword."""
    known = set(CONNINFO_KEYWORDS)
    if not conninfo:  # a URL: its query parameters
        if not re.match(_SCHEME, text.strip()):
            return text
        return _QUERY_PAIR.sub(lambda mt: mt.group(0) if mt.group("key").lower() in known or not mt.group("value")
                               else mt.group("head") + MASK, text)
    out, pos = [], 0
    while pos < len(text):
        mt = _KV_PAIR.match(text, pos)
        if mt is None or mt.end() == pos:  # not key=value from here on: keep it (nothing to parse)
            out.append(text[pos:])
            break
        piece = mt.group(0)
        if mt.group("key").lower() not in known and mt.group("value") not in ("", MASK):
            piece = piece[:mt.start("value") - mt.start()] + MASK
        out.append(piece)
        pos = mt.end()
    return "".join(out)


def _passwords_in(url: str | None) -> list[str]:
    """The password(s) ``url`` carries, as written and percent-decoded, quotes removed."""
    found = []
    for rx in _URL_RES + (_KV_PW, _KV_PW_ALL):
        for mt in rx.finditer(url or ""):
            pw = mt.group("pw")
            forms = [pw]
            if pw[:1] in ("'", '"'):
                inner = pw[1:-1] if len(pw) >= 2 and pw[-1] == pw[0] else pw[1:]
                forms = [inner, re.sub(r"\\(.)", r"\1", inner)]
            for f in forms:
                if f and f != MASK:
                    found += [f, unquote(f)]
    return list(dict.fromkeys(found))


def mask_text(text: str, url: str | None) -> str:
    """``text`` (e.g. a driver's error message) with any URL password masked and every trace of the
    password of ``url`` removed, including the pieces libpq reports as a host, a port or an option
    when the password holds an unescaped "@", "/", a space or an "="."""
    out = mask_url(str(text), whole=False)
    passwords = _passwords_in(url)
    pieces = {p for pw in passwords for p in re.split(r"[@/:?#=\s]", pw) if p} - set(passwords)
    for pw in sorted(passwords, key=len, reverse=True):
        out = out.replace(pw, MASK)
    # a piece shown quoted ("ss@h" or 'ss@h' as a host name) is masked whatever its length; a bare one
    # only from 3 characters on, so that a short piece does not mangle ordinary words
    def quoted(mt: re.Match) -> str:
        inner = mt.group(1) if mt.group(1) is not None else mt.group(2)
        q = mt.group(0)[0]
        return f"{q}{MASK}{q}" if any(p in inner for p in pieces) else mt.group(0)

    out = _QUOTED.sub(quoted, out)
    for p in sorted(pieces, key=len, reverse=True):
        if len(p) >= 3:
            out = out.replace(p, MASK)
    return out


def _unescaped_password_hint(url: str) -> str:
    mt = _URL_PW_GREEDY.search(url or "")
    if mt and re.search(r"[@/]", mt.group("pw")):
        return (" (a password in a URL must be percent-encoded: write @ as %40, / as %2F, ? as %3F, "
                "# as %23)")
    return ""


def _first_line(e: BaseException) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


# ---------------------------------------------------------------- connections

def connect(url: str, *, autocommit: bool = True, connect_timeout: int = 10, **kw):
    """``psycopg.connect`` (autocommit by default); a failure becomes DatabaseError (exit 2) with
    a one-line message that never holds the password."""
    import psycopg

    if re.match(r"\s*[A-Za-z][A-Za-z0-9+.-]*://", url) and not _PG_SCHEME.match(url):
        # libpq would only say `missing "=" after "mysql://..." in connection info string`
        raise DatabaseError(f"cannot connect to {mask_url(url)}: not a PostgreSQL URL: it must start with "
                            "postgresql:// or postgres:// (or be a key=value conninfo)")
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout, **kw)
    except Exception as e:  # psycopg.Error, and ValueError-like errors for malformed conninfo
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {mask_text(_first_line(e), url)}"
                            f"{_unescaped_password_hint(url)}") from None


def url_with_dbname(url: str, dbname: str) -> str:
    """The same server, another database (works for URLs and for key=value conninfo)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def _admin_connection(admin_url: str, avoid_db: str):
    """A connection to the server of ``admin_url``, not to ``avoid_db`` (one cannot drop the
    database one is connected to, nor clone a template one is connected to)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        current = conninfo_to_dict(admin_url).get("dbname")
    except Exception:
        current = None
    if current == avoid_db:
        admin_url = url_with_dbname(admin_url, "postgres")
    return connect(admin_url), admin_url


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    """CREATE DATABASE name [TEMPLATE template]; a failure becomes DatabaseError."""
    import psycopg
    from psycopg import sql

    stmt = sql.SQL("create database {}").format(sql.Identifier(name))
    if template:
        stmt = sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(template))
    conn, used = _admin_connection(admin_url, template or name)
    with conn:
        try:
            conn.execute(stmt)
        except psycopg.Error as e:
            what = f"database {name!r}" + (f" from template {template!r}" if template else "")
            raise DatabaseError(f"cannot create {what} on {mask_url(used)}: {mask_text(_first_line(e), used)}") from None


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE IF EXISTS, ending the other sessions connected to it first."""
    import psycopg
    from psycopg import sql

    conn, used = _admin_connection(admin_url, name)
    with conn:
        try:
            if conn.info.server_version >= 130000:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
                return
            for _ in range(5):  # PostgreSQL < 13: end the sessions, then drop (a new one may sneak in)
                conn.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                             " where datname = %s and pid <> pg_backend_pid()", [name])
                try:
                    conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
                    return
                except psycopg.errors.ObjectInUse:
                    continue
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
        except psycopg.Error as e:
            raise DatabaseError(f"cannot drop database {name!r} on {mask_url(used)}: "
                                f"{mask_text(_first_line(e), used)}") from None


class ExistingServer:
    """A server given by an admin URL (one that may create databases), with the interface of
    TempCluster: ``url``, ``url_for(dbname)``, ``major_version``, ``stop()`` (does nothing)."""

    def __init__(self, admin_url: str):
        self.url = admin_url

    def url_for(self, dbname: str) -> str:
        return url_with_dbname(self.url, dbname)

    @functools.cached_property
    def major_version(self) -> int:
        with connect(self.url) as conn:
            return conn.info.server_version // 10000

    def stop(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"ExistingServer({mask_url(self.url)!r})"


# ---------------------------------------------------------------- the throwaway cluster

_SERVER_EXES = ("initdb", "pg_ctl", "postgres")


def _has_server_exes(d: Path | None) -> bool:
    return d is not None and all(os.access(d / exe, os.X_OK) and (d / exe).is_file() for exe in _SERVER_EXES)


def _version_key(d: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", d.parent.name)) or (-1,)


def find_pg_bin() -> Path | None:
    """Directory with initdb, pg_ctl and postgres, searched in order: $SCHEMAGEN_PG_BIN (if set,
    it alone decides), ``pg_config --bindir``, the newest /usr/lib/postgresql/*/bin, PATH."""
    env = os.environ.get("SCHEMAGEN_PG_BIN")
    if env:
        return Path(env) if _has_server_exes(Path(env)) else None
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            if out and _has_server_exes(Path(out)):
                return Path(out)
        except (OSError, subprocess.SubprocessError):
            pass
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True):
        if _has_server_exes(d):
            return d
    initdb = shutil.which("initdb")
    if initdb:
        for d in (Path(initdb).parent, Path(initdb).resolve().parent):
            if _has_server_exes(d):
                return d
    return None


# Watches the Python process through a pipe: when its end closes (the process exited in any
# way, SIGKILL included) the server is stopped and its directory removed. stop() kills it first.
_WATCHDOG = 'read -r _ 2>/dev/null; "$@" >/dev/null 2>&1; rm -rf -- "$0"'


class TempCluster:
    """A PostgreSQL server in a temp dir, listening only on a unix socket there; removed on stop().

    Durability is off (fsync, full_page_writes, synchronous_commit): it is throwaway. Clients
    authenticate as superuser ``postgres`` without a password (``trust``); the socket directory is
    mode 0700, so only its owner (and root) can reach the server. As root, initdb and postgres
    run as the ``postgres`` OS user. The server is stopped by stop(), by the end of a ``with``
    block, at interpreter exit, and by a watchdog process if this process dies without cleaning up.
    """

    def __init__(self, bin_dir: Path | None = None, *, max_connections: int = 100,
                 settings: dict[str, object] | None = None):
        self.bin_dir = Path(bin_dir) if bin_dir else find_pg_bin()
        if self.bin_dir is None or not _has_server_exes(self.bin_dir):
            where = (f"SCHEMAGEN_PG_BIN={os.environ['SCHEMAGEN_PG_BIN']} lacks them; "
                     if os.environ.get("SCHEMAGEN_PG_BIN") and not bin_dir else "")
            raise DatabaseError(
                f"no PostgreSQL server binaries found (initdb, pg_ctl, postgres): {where}install them "
                "(e.g. `apt-get install postgresql` or scripts/ensure-postgres.sh), set SCHEMAGEN_PG_BIN "
                "to their directory, or give a server URL")
        self.max_connections = max_connections
        self.settings = dict(settings or {})
        self.dir: Path | None = None
        self.port: int | None = None
        self.major_version: int | None = None
        self._started = False
        self._owner_pid: int | None = None
        self._watchdog: subprocess.Popen | None = None

    # -- running the server's programs (as root: as the postgres OS user)

    @staticmethod
    def _server_user():
        if os.geteuid() != 0:
            return None
        import pwd

        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise DatabaseError("running as root, and PostgreSQL refuses to run as root: create a `postgres` OS "
                                "user for the throwaway server (the postgresql package does), or run as "
                                "another user") from None

    def _cmd(self, *args: str) -> list[str]:
        if os.geteuid() != 0:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *args]
        import shlex  # pragma: no cover - systems without util-linux

        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(shlex.quote(a) for a in args)]

    @staticmethod
    def _temp_parent() -> str:
        # root: /tmp, which the postgres user can traverse (TMPDIR might be under /root);
        # anyone: a short path, as a unix socket path is limited to ~107 bytes
        if os.geteuid() == 0:
            return "/tmp"
        parent = tempfile.gettempdir()
        return parent if len(parent) <= 60 else "/tmp"

    # -- lifecycle

    def start(self) -> "TempCluster":
        if self._started:
            return self
        user = self._server_user()
        self._owner_pid = os.getpid()
        remove_stale_clusters(self._temp_parent())
        base = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX, dir=self._temp_parent()))
        (base / OWNER_FILE).write_text(f"{os.getpid()}\n")
        self.dir = base
        data = base / "data"
        atexit.register(self.stop)
        try:
            if user is not None:
                os.chown(base, user.pw_uid, user.pw_gid)
            os.chmod(base, 0o700)
            self._start_watchdog()
            self._run(["initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                       "--locale=C", "--no-sync"], "initdb failed", timeout=120)
            self.major_version = int((data / "PG_VERSION").read_text().strip().split(".")[0])
            settings = {
                "listen_addresses": "", "unix_socket_directories": str(base),
                "fsync": "off", "full_page_writes": "off", "synchronous_commit": "off",
                "max_connections": self.max_connections, "shared_buffers": "64MB",
                **self.settings,
            }
            with open(data / "postgresql.conf", "a", encoding="utf-8") as f:
                f.write("\n# schemagen throwaway cluster\n")
                for key, value in settings.items():
                    f.write(f"{key} = '{str(value).replace(chr(39), chr(39) * 2)}'\n")
            for _ in range(20):
                self.port = _free_port(base)
                cmd = self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"),
                                "-o", f"-p {self.port}", "-w", "-t", "60", "start")
                try:
                    r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
                except subprocess.TimeoutExpired:
                    raise DatabaseError(f"the throwaway PostgreSQL server did not start within 90 s: "
                                        f"{self.log_tail()}") from None
                if r.returncode == 0:
                    break
                log = self.log_tail()
                if "already in use" not in log:
                    detail = log if (base / "server.log").exists() else (r.stderr or r.stdout).strip()
                    raise DatabaseError(f"the throwaway PostgreSQL server did not start ({self.bin_dir}): {detail}")
            else:  # pragma: no cover - 20 random ports taken
                raise DatabaseError(f"the throwaway PostgreSQL server did not start: {self.log_tail()}")
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _run(self, args: list[str], what: str, timeout: int) -> None:
        cmd = self._cmd(str(self.bin_dir / args[0]), *args[1:])
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DatabaseError(f"{what}: no answer after {timeout} s ({' '.join(cmd)})") from None
        if r.returncode != 0:
            tail = "\n".join((r.stderr or r.stdout).strip().splitlines()[-15:])
            raise DatabaseError(f"{what} ({self.bin_dir}): {tail}")

    def _start_watchdog(self) -> None:
        stop_cmd = self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                             "-w", "stop")
        self._watchdog = subprocess.Popen(["/bin/sh", "-c", _WATCHDOG, str(self.dir), *stop_cmd],
                                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, n: int = 15) -> str:
        """The last lines of the server log (for error messages)."""
        try:
            lines = (self.dir / "server.log").read_text(errors="replace").splitlines()
        except (OSError, TypeError):
            return "(no server log)"
        return "\n".join(lines[-n:]) or "(empty server log)"

    @property
    def url(self) -> str:
        """libpq URL of the ``postgres`` database, as superuser ``postgres``."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@/{quote(dbname, safe='')}?host={quote(str(self.dir), safe='/')}&port={self.port}"

    def stop(self) -> None:
        """Stop the server (immediate mode) and remove its directory. Idempotent."""
        if self._owner_pid is not None and self._owner_pid != os.getpid():
            return  # a forked child must not stop its parent's server
        atexit.unregister(self.stop)
        wd, self._watchdog = self._watchdog, None
        if wd is not None:
            wd.kill()
            wd.wait()
            if wd.stdin:
                wd.stdin.close()
        if self.dir is not None:
            data = self.dir / "data"
            if (data / "postmaster.pid").exists():
                try:
                    subprocess.run(self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                             "-w", "stop"), capture_output=True, timeout=60)
                except (OSError, subprocess.SubprocessError):  # pragma: no cover
                    pass
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        self._started = False

    def __enter__(self) -> "TempCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"{self.dir} port {self.port}" if self._started else "stopped"
        return f"TempCluster(PostgreSQL {self.major_version}, {state})"


CLUSTER_PREFIX = "schemagen-pg-"
OWNER_FILE = "owner.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    return True


def remove_stale_clusters(parent: str | Path) -> list[Path]:
    """Remove the throwaway clusters under ``parent`` whose owning process is dead (killed with -9,
    and its watchdog with it): stop a server still running there, delete the directory. Clusters of
    live processes, and directories this process may not touch, are left alone. Returns the removed."""
    import signal
    import time

    removed = []
    try:
        candidates = sorted(Path(parent).glob(CLUSTER_PREFIX + "*"))
    except OSError:
        return removed
    for d in candidates:
        try:
            owner = int((d / OWNER_FILE).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # not ours to judge (another version, another user, being created)
        if _alive(owner):
            continue
        try:  # a server left running: stop it, if it is really this directory's postmaster
            pm = int((d / "data" / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pm}/cmdline").read_bytes().replace(b"\0", b" ")
            if _alive(pm) and str(d / "data").encode() in cmdline:
                os.kill(pm, signal.SIGQUIT)  # immediate shutdown
                for _ in range(50):
                    if not _alive(pm):
                        break
                    time.sleep(0.1)
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(d, ignore_errors=True)
        if not d.exists():
            removed.append(d)
    return removed


def _free_port(sock_dir: Path) -> int:
    """A port number whose socket file does not exist in ``sock_dir``. The server listens on no TCP
    port, so the socket file (in a directory of its own) is the only thing the port names."""
    for _ in range(100):
        port = 5432 + random.randint(1, 20000)
        if not (sock_dir / f".s.PGSQL.{port}").exists() and not (sock_dir / f".s.PGSQL.{port}.lock").exists():
            return port
    raise DatabaseError("no free port for a temporary PostgreSQL server")  # pragma: no cover
