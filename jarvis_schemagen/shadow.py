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


NO_SHADOW = ("no shadow database: no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found to start "
             "a throwaway one. Pass --shadow-db URL (a server where schemagen may create and drop a temporary "
             "database; PostgreSQL of the target's major version), install the server binaries (e.g. "
             "`apt-get install postgresql`), or set SCHEMAGEN_PG_BIN to their directory")


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
        raise UsageError(NO_SHADOW)
    try:
        out = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise UsageError(f"{NO_SHADOW} ({bin_dir / 'postgres'}: {e})") from None
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    if not found:
        raise UsageError(f"{NO_SHADOW} (cannot tell the version of {bin_dir / 'postgres'}: {out.strip()!r})")
    return int(found.group(1))


def normalise(assumed: str, files: dict[str, str], schemas: list[str], shadow_url: str | None = None,
              timeout: int = 10) -> tuple[m.Schema, dict[str, str], int]:
    """The spec as PostgreSQL stores it: apply the SQL to a shadow database and inspect it back.

    Returns the model, its column-owned sequences (sequence -> table) and the shadow's major version.
    """
    if shadow_url:
        with temporary_database(shadow_url, timeout) as url:
            return _apply_and_inspect(url, assumed, files, schemas, timeout)
    from .pg import TempCluster

    try:
        cluster = TempCluster()
    except DatabaseError:
        raise UsageError(NO_SHADOW) from None
    with cluster:
        with temporary_database(cluster.url, timeout) as url:
            return _apply_and_inspect(url, assumed, files, schemas, timeout)


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
