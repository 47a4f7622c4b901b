"""`schemagen diff`: drift between the spec and a live database. The library entry point (orchestration).

Stages: load the spec -> normalise it through PostgreSQL (render the migrations, apply them
to a shadow database, introspect it back; cached on disk) -> introspect the target ->
``compare``. ``diff()`` returns a ``report.DiffReport`` (formats in report.py). The shadow
database is shadow.py, the cache of normalised specs cache.py. Nothing here prints or exits.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import model as m
from . import cache
from .access import drift_changes, drift_roles
from .cache import Desired
from .compare import Scope, annotate, compare, spec_schemas
from .errors import DatabaseError, UsageError
from .report import DiffReport
from .shadow import building, first_line, normalise, shadow_major_version


def diff(target_url: str, spec_path: str | Path = "schema.yaml", shadow_url: str | None = None,
         strict: bool = False, use_cache: bool = True, cache_dir: str | Path | None = None,
         connect_timeout: int = 10) -> DiffReport:
    """Compare the database at ``target_url`` with the spec; raises SchemagenError subclasses on failure."""
    from .pg import connect

    if not target_url:
        raise UsageError("no database to compare: pass --db URL or set DATABASE_URL")
    stats: dict[str, Any] = {}
    t0 = time.perf_counter()
    spec_bytes = _read_spec(spec_path)
    warnings: list[str] = []
    with connect(target_url, connect_timeout=connect_timeout) as conn:
        target_major = conn.info.server_version // 10000
        shadow_major = shadow_major_version(shadow_url, connect_timeout)
        if shadow_major != target_major:
            warnings.append(f"the shadow database runs PostgreSQL {shadow_major} but the target runs "
                            f"{target_major}: expressions may print differently and show up as drift; pass "
                            f"--shadow-db with a PostgreSQL {target_major} server")
        desired = _desired(spec_path, spec_bytes, target_major, shadow_major, shadow_url, use_cache, cache_dir,
                           connect_timeout, stats, purpose="to compare with the database")
        stats["spec_seconds"] = time.perf_counter() - t0
        t = time.perf_counter()
        actual, unmodelled, sequences = _inspect(conn, list(desired.schemas), target_url)
        stats["inspect_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    result = compare(desired.model, actual, unmodelled=unmodelled, scope=desired.scope,
                     sequences={**dict(desired.sequences), **sequences})
    stats["compare_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    access_changes = tuple(drift_changes(desired.model, actual, desired.scope.acl_roles))
    stats["access_seconds"] = time.perf_counter() - t
    stats["total_seconds"] = time.perf_counter() - t0
    return DiffReport(database=mask_url(target_url), spec=str(spec_path), changes=result.changes,
                      unmanaged=result.unmanaged, strict=strict, warnings=warnings, stats=stats,
                      desired=desired.model, access=access_changes, access_roles=drift_roles(desired.model),
                      unmet=result.unmet)


def _read_spec(spec_path) -> bytes:
    from .api import read_spec_bytes

    return read_spec_bytes(spec_path)


def _desired(spec_path, spec_bytes: bytes, target_major: int, shadow_major: int, shadow_url: str | None,
             use_cache: bool, cache_dir, timeout: int, stats: dict, purpose: str, name: str | None = None) -> Desired:
    """The desired state, from the fast cache (keyed by the spec file's bytes and this tool's code: no
    YAML parsing, no rendering) or else by loading the spec and normalising it (see ``_desired_model``).
    ``purpose`` (e.g. "to compare with the database") and ``name`` (default: the spec's path) label the
    progress line of a shadow build."""
    from .api import assumed_objects_sql, load_spec, render_migrations

    fast = cache.cache_path(cache_dir, "spec-" + cache.spec_cache_key(spec_path, spec_bytes, target_major, shadow_major))
    if use_cache:
        cached = cache.read(fast)
        if isinstance(cached, Desired):
            stats["cache"] = "hit"
            return cached
    spec = load_spec(spec_path)
    files = render_migrations(spec)
    assumed = assumed_objects_sql(spec)
    schemas = spec_schemas(spec)
    label = building(f"the state of {name or spec_path}", purpose, use_cache)
    raw, sequences = _desired_model(assumed, files, schemas, target_major, shadow_major, shadow_url, use_cache,
                                    cache_dir, timeout, stats, label)
    desired = Desired(model=annotate(raw, spec), scope=Scope.of(spec), schemas=tuple(schemas),
                      sequences=tuple(sorted(sequences.items())))
    if use_cache:
        cache.write(fast, desired)
    return desired


# ---------------------------------------------------------------- connections

def mask_url(url: str) -> str:
    from .pg import mask_url as _mask

    return _mask(url)


def _inspect(conn, schemas: list[str], url: str) -> tuple[m.Schema, list[tuple[str, str, str]], dict[str, str]]:
    import psycopg

    from .introspect import inspect, inspect_extras
    from .pg import mask_text

    try:
        return (inspect(conn, schemas),) + inspect_extras(conn, schemas)
    except psycopg.Error as e:
        raise DatabaseError(f"cannot read the catalog of {mask_url(url)}: {mask_text(first_line(e), url)}") from None


def _desired_model(assumed: str, files: dict[str, str], schemas: list[str], target_major: int, shadow_major: int,
                   shadow_url: str | None, use_cache: bool, cache_dir, timeout: int,
                   stats: dict, label: str | None = None) -> tuple[m.Schema, dict[str, str]]:
    """The spec as PostgreSQL stores it (no ownership flags) and its column-owned sequences,
    cached by the rendered SQL."""
    key = cache.cache_key(assumed, files, schemas, target_major, shadow_major)
    path = cache.cache_path(cache_dir, "shadow-" + key)
    if use_cache:
        entry = cache.read(path)
        if isinstance(entry, dict) and isinstance(entry.get("model"), m.Schema):
            stats["cache"] = "sql-hit"
            return entry["model"], dict(entry["sequences"])
    stats["cache"] = "miss" if use_cache else "off"
    t = time.perf_counter()
    model, sequences, _ = normalise(assumed, files, schemas, shadow_url, timeout, label)
    stats["shadow_seconds"] = time.perf_counter() - t
    if use_cache:
        cache.write(path, {"model": model, "sequences": sorted(sequences.items())})
    return model, sequences

