"""The shadow database: where PostgreSQL normalises the spec.

The spec's SQL (assumed objects, then the migration files) is applied to an empty database and
introspected back with the same catalog queries used on a target, so both sides of a comparison
are in PostgreSQL's own words. The shadow is a throwaway local cluster (``pg.TempCluster``)
unless a server is given (``shadow_url``): then a temporary database is created there and
dropped afterwards.
"""
from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from typing import Iterator

from . import model as m
from .errors import DatabaseError, UsageError


def first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def no_shadow(why: str | None = None) -> str:
    """Why there is no shadow database, and the ways out: no binaries found, SCHEMAGEN_PG_BIN naming a
    directory without them, or (``why``) a throwaway cluster that did not start."""
    env = os.environ.get("SCHEMAGEN_PG_BIN")
    if why:
        lines = [ln.strip() for ln in why.splitlines() if ln.strip()]
        reason = "cannot start a throwaway cluster: " + " | ".join(lines[:1] + lines[1:][-3:])
    elif env:
        reason = (f"SCHEMAGEN_PG_BIN={env} holds no PostgreSQL server binaries (initdb, pg_ctl, postgres) to "
                  "start a throwaway one")
    else:
        reason = "no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found to start a throwaway one"
    return (f"no shadow database: {reason}. Pass --shadow-db URL (a server where schemagen may create and drop "
            "a temporary database; PostgreSQL of the target's major version)"
            + ("" if why else ", install the server binaries (e.g. `apt-get install postgresql`), or "
               + ("point SCHEMAGEN_PG_BIN at" if env else "set SCHEMAGEN_PG_BIN to") + " their directory"))


def shadow_major_version(shadow_url: str | None, timeout: int = 10) -> int:
    """The major version the shadow database will run, found without starting anything."""
    import re
    import subprocess

    from .pg import connect, find_pg_bin

    if shadow_url:
        with connect(shadow_url, connect_timeout=timeout) as conn:
            return conn.info.server_version // 10000
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise UsageError(no_shadow())
    try:
        out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise UsageError(no_shadow(f"{bin_dir / 'postgres'}: {e}")) from None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if not found:
        raise UsageError(no_shadow(f"cannot tell the version of {bin_dir / 'postgres'}: {out.strip()!r}"))
    return int(found.group(1))


def building(what: str, purpose: str, cached: bool) -> str:
    """The progress line of a shadow build: what is built, what for, and whether it is kept:
    `building the state of schema.yaml in a shadow database, to compare with the database
    (cached for the next run)`."""
    return f"building {what} in a shadow database, {purpose}" + (" (cached for the next run)" if cached else "")


def normalise(assumed: str, files: dict[str, str], schemas: list[str], shadow_url: str | None = None,
              timeout: int = 10, label: str | None = None) -> tuple[m.Schema, dict[str, str], int]:
    """The spec as PostgreSQL stores it: apply the SQL to a shadow database and inspect it back.

    Returns the model, its column-owned sequences (sequence -> table) and the shadow's major version.
    Announced as ``label`` (see ``building``) on a terminal when it takes more than a second (term.progress).
    """
    from . import term

    with term.progress(label or building("the spec's state", "to read it back", False)), \
            ShadowServer(shadow_url, timeout) as server, temporary_database(server.url, timeout) as url:
        return _apply_and_inspect(url, assumed, files, schemas, timeout)


class ShadowServer:
    """The server given by ``--shadow-db``, or else a throwaway local cluster for the duration."""

    def __init__(self, shadow_url: str | None, timeout: int = 10) -> None:
        self.shadow_url = shadow_url
        self.cluster = None
        self.url = shadow_url or ""

    def __enter__(self) -> "ShadowServer":
        if self.shadow_url:
            return self
        from .pg import TempCluster

        try:
            cluster = TempCluster()  # finds the binaries
        except DatabaseError:
            raise UsageError(no_shadow()) from None
        try:
            self.cluster = cluster.start()
        except DatabaseError as e:  # binaries found, but initdb or the server failed: say why
            raise UsageError(no_shadow(str(e))) from None
        self.url = self.cluster.url
        return self

    def __exit__(self, *exc) -> None:
        if self.cluster is not None:
            self.cluster.stop()


@contextmanager
def databases(admin_url: str, n: int, timeout: int = 10) -> Iterator[list[str]]:
    """URLs of ``n`` temporary databases on the server of ``admin_url``: the first created empty,
    the others only named (``clone_database`` creates them); all dropped afterwards."""
    from .pg import drop_database, url_with_dbname

    with temporary_database(admin_url, timeout) as first:
        names = [f"{dbname(first)}_{i}" for i in range(1, n)]
        try:
            yield [first] + [url_with_dbname(admin_url, x) for x in names]
        finally:
            for x in names:
                drop_database(admin_url, x)


def dbname(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    return conninfo_to_dict(url)["dbname"]


def clone_database(admin_url: str, source_url: str, target_url: str) -> None:
    """Create the database of ``target_url`` as a copy of ``source_url``'s (nobody may be connected to it)."""
    from .pg import create_database

    create_database(admin_url, dbname(target_url), template=dbname(source_url))


def run_files(conn, files: list[tuple[str, str]], commit: bool = False) -> None:
    """Run each file (one round trip each) on a non-autocommit connection. ``commit``: each file
    commits on its own (locks do not pile up over a big schema); else all stay in the open
    transaction (to be rolled back), with ``reset all`` after each so that one file's
    ``set local`` does not leak into the next."""
    import psycopg

    for label, text in files:
        try:
            conn.execute(text)
            if commit:
                conn.commit()
            else:
                conn.execute("reset all")
        except psycopg.Error as e:
            raise DatabaseError(f"{label} failed in the shadow database: {first_line(e)}") from None


def state(conn, files: list[tuple[str, str]], schemas: list[str], commit: bool = False
          ) -> tuple[m.Schema, list, dict[str, str]]:
    """Run ``files`` (see ``run_files``), then inspect: (model, unmodelled objects, sequences)."""
    from .introspect import inspect, inspect_extras

    run_files(conn, files, commit)
    unmodelled, sequences = inspect_extras(conn, schemas)
    return inspect(conn, schemas), unmodelled, sequences


def state_in(url: str, files: list[tuple[str, str]], schemas: list[str], timeout: int = 10) -> tuple:
    """``state`` in a connection of its own to ``url`` (committed)."""
    from .pg import connect

    with connect(url, autocommit=False, connect_timeout=timeout) as conn:
        return state(conn, files, schemas, commit=True)


@contextmanager
def temporary_database(admin_url: str, timeout: int = 10) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url`` (dropped afterwards); yields its URL."""
    import psycopg
    from psycopg import sql

    from .pg import connect, mask_text, url_with_dbname

    name = f"schemagen_shadow_{os.getpid()}_{secrets.token_hex(4)}"
    with connect(admin_url, connect_timeout=timeout) as admin:
        try:
            admin.execute(sql.SQL("create database {} template template0").format(sql.Identifier(name)))
        except psycopg.Error as e:
            raise DatabaseError(f"cannot create a shadow database on {_mask(admin_url)}: "
                                f"{mask_text(first_line(e), admin_url)} (the role needs CREATEDB)") from None
    try:
        yield url_with_dbname(admin_url, name)
    finally:
        with connect(admin_url, connect_timeout=timeout) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _apply_and_inspect(url: str, assumed: str, files: dict[str, str], schemas: list[str],
                       timeout: int) -> tuple[m.Schema, dict[str, str], int]:
    import psycopg

    from .introspect import inspect, inspect_extras
    from .pg import connect

    with connect(url, autocommit=False, connect_timeout=timeout) as conn:
        for label, text in [("the assumed objects", assumed)] + [(name, text) for name, text in files.items()]:
            try:
                with conn.transaction():
                    conn.execute(text)
            except psycopg.Error as e:
                raise DatabaseError(f"{label} failed in the shadow database: {first_line(e)}") from None
        conn.commit()
        conn.autocommit = True
        return inspect(conn, schemas), inspect_extras(conn, schemas)[1], conn.info.server_version // 10000



def _mask(url: str) -> str:
    from .pg import mask_url

    return mask_url(url)
