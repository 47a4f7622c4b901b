"""`schemagen diff`: drift between the spec and a live database. The library entry point.

Stages: load the spec -> normalise it through PostgreSQL (render the migrations, apply them
to a shadow database, introspect it back; cached on disk) -> introspect the target ->
``compare`` -> ``plan``. ``diff()`` returns a ``DiffReport``; ``format_text``,
``format_json`` and ``format_sql`` print it. Nothing here prints or exits.

The shadow database is a throwaway local cluster (``pg.TempCluster``) unless a server is
given (``shadow_url``), in which case a temporary database is created there and dropped
afterwards. The normalised spec model is cached under ``$SCHEMAGEN_CACHE_DIR`` (else
``$XDG_CACHE_HOME/schemagen``, else ``~/.cache/schemagen``), keyed by the rendered SQL, the
target's major version and the tool's own catalog queries and model, so a repeated diff of
an unchanged spec costs one introspection of the target and no shadow.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import model as m
from .compare import Change, Rls, Scope, annotate, compare, spec_schemas
from .errors import DatabaseError, UsageError

if TYPE_CHECKING:
    from .plan import Plan

CACHE_FORMAT = 3
JSON_VERSION = 1


# ---------------------------------------------------------------- report

@dataclass
class DiffReport:
    database: str  # the target, password masked
    spec: str
    changes: tuple[Change, ...]
    unmanaged: tuple[Change, ...]
    strict: bool = False
    warnings: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)  # cache hit/miss, seconds per stage
    desired: m.Schema | None = None  # the spec as PostgreSQL stores it, with ownership flags

    @property
    def drift(self) -> bool:
        return bool(self.changes) or (self.strict and bool(self.unmanaged))

    @property
    def exit_code(self) -> int:
        return 1 if self.drift else 0

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)

    @property
    def plan(self) -> Plan:
        """The statements that fix the drift (unmanaged objects are dropped only in strict mode)."""
        if "_plan" not in self.__dict__:
            from .plan import plan

            self.__dict__["_plan"] = plan(self.changes + (self.unmanaged if self.strict else ()), self.desired)
        return self.__dict__["_plan"]


@dataclass(frozen=True)
class Desired:
    """What a diff compares a database with: the normalised, annotated spec and its scope."""

    model: m.Schema  # shadow-introspected, with the spec's ownership flags
    scope: Scope
    schemas: tuple[str, ...]  # the schemas to inspect
    sequences: tuple[tuple[str, str], ...] = ()  # (sequence, owning table) of identity/serial columns


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
                           connect_timeout, stats)
        stats["spec_seconds"] = time.perf_counter() - t0
        t = time.perf_counter()
        actual, unmodelled, sequences = _inspect(conn, list(desired.schemas), target_url)
        stats["inspect_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    result = compare(desired.model, actual, unmodelled=unmodelled, scope=desired.scope,
                     sequences={**dict(desired.sequences), **sequences})
    stats["compare_seconds"] = time.perf_counter() - t
    stats["total_seconds"] = time.perf_counter() - t0
    return DiffReport(database=mask_url(target_url), spec=str(spec_path), changes=result.changes,
                      unmanaged=result.unmanaged, strict=strict, warnings=warnings, stats=stats,
                      desired=desired.model)


def _read_spec(spec_path) -> bytes:
    from .api import read_spec_bytes

    return read_spec_bytes(spec_path)


def _desired(spec_path, spec_bytes: bytes, target_major: int, shadow_major: int, shadow_url: str | None,
             use_cache: bool, cache_dir, timeout: int, stats: dict) -> Desired:
    """The desired state, from the fast cache (keyed by the spec file's bytes and this tool's code: no
    YAML parsing, no rendering) or else by loading the spec and normalising it (see ``_desired_model``)."""
    from .api import assumed_objects_sql, load_spec, render_migrations

    fast = _cache_path(cache_dir, "spec-" + spec_cache_key(spec_path, spec_bytes, target_major, shadow_major))
    if use_cache:
        cached = _cache_read(fast)
        if isinstance(cached, Desired):
            stats["cache"] = "hit"
            return cached
    spec = load_spec(spec_path)
    files = render_migrations(spec)
    assumed = assumed_objects_sql(spec)
    schemas = spec_schemas(spec)
    raw, sequences = _desired_model(assumed, files, schemas, target_major, shadow_major, shadow_url, use_cache,
                                    cache_dir, timeout, stats)
    desired = Desired(model=annotate(raw, spec), scope=Scope.of(spec), schemas=tuple(schemas),
                      sequences=tuple(sorted(sequences.items())))
    if use_cache:
        _cache_write(fast, desired)
    return desired


# ---------------------------------------------------------------- connections

def mask_url(url: str) -> str:
    from .pg import mask_url as _mask

    return _mask(url)


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _inspect(conn, schemas: list[str], url: str) -> tuple[m.Schema, list[tuple[str, str, str]], dict[str, str]]:
    import psycopg

    from .introspect import inspect, inspect_extras
    from .pg import mask_text

    try:
        return (inspect(conn, schemas),) + inspect_extras(conn, schemas)
    except psycopg.Error as e:
        raise DatabaseError(f"cannot read the catalog of {mask_url(url)}: {mask_text(_first_line(e), url)}") from None


# ---------------------------------------------------------------- shadow database

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


def _desired_model(assumed: str, files: dict[str, str], schemas: list[str], target_major: int, shadow_major: int,
                   shadow_url: str | None, use_cache: bool, cache_dir, timeout: int,
                   stats: dict) -> tuple[m.Schema, dict[str, str]]:
    """The spec as PostgreSQL stores it (no ownership flags) and its column-owned sequences,
    cached by the rendered SQL."""
    key = cache_key(assumed, files, schemas, target_major, shadow_major)
    path = _cache_path(cache_dir, "shadow-" + key)
    if use_cache:
        entry = _cache_read(path)
        if isinstance(entry, dict) and isinstance(entry.get("model"), m.Schema):
            stats["cache"] = "sql-hit"
            return entry["model"], dict(entry["sequences"])
    stats["cache"] = "miss" if use_cache else "off"
    t = time.perf_counter()
    model, sequences, _ = normalise(assumed, files, schemas, shadow_url, timeout)
    stats["shadow_seconds"] = time.perf_counter() - t
    if use_cache:
        _cache_write(path, {"model": model, "sequences": sorted(sequences.items())})
    return model, sequences


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
            raise DatabaseError(f"cannot create a shadow database on {mask_url(admin_url)}: "
                                f"{mask_text(_first_line(e), admin_url)} (the role needs CREATEDB)") from None
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
                raise DatabaseError(f"{label} failed in the shadow database: {_first_line(e)}") from None
        conn.commit()
        conn.autocommit = True
        return inspect(conn, schemas), inspect_extras(conn, schemas)[1], conn.info.server_version // 10000


# ---------------------------------------------------------------- cache

_MODEL_CLASSES = {name: cls for name, cls in vars(m).items() if isinstance(cls, type) and is_dataclass(cls)}
_CACHE_CLASSES = dict(_MODEL_CLASSES, Desired=Desired)


def model_fingerprint() -> str:
    """Changes whenever a model class gains, loses or renames a field (old cache entries then miss)."""
    return repr(sorted((name, [f.name for f in fields(cls)]) for name, cls in _MODEL_CLASSES.items()))


def cache_key(assumed: str, files: dict[str, str], schemas: list[str], target_major: int, shadow_major: int) -> str:
    """The key of a normalised spec: the rendered SQL, both servers' major versions, the catalog queries."""
    from .introspect import queries_fingerprint

    h = hashlib.sha256()
    for part in (f"format {CACHE_FORMAT}", f"target {target_major}", f"shadow {shadow_major}", model_fingerprint(),
                 queries_fingerprint(), "\0".join(schemas), assumed,
                 *[f"{name}\0{text}" for name, text in files.items()]):
        h.update(part.encode("utf-8"))
        h.update(b"\0\0")
    return h.hexdigest()


_CODE_FINGERPRINT: list[str] = []


def code_fingerprint() -> str:
    """A hash of this tool's own code, queries and templates: what turns spec bytes into SQL and models."""
    if not _CODE_FINGERPRINT:
        h = hashlib.sha256()
        package = Path(__file__).resolve().parent
        # installed, the templates are a subpackage; in a checkout they sit next to the package
        checkout = package.parent / "templates"
        roots = [package] + ([checkout] if (checkout / "migration.sql.j2").is_file() else [])
        for root in roots:
            for p in sorted(x for x in root.rglob("*") if x.suffix in (".py", ".sql", ".j2") and x.is_file()):
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
        _CODE_FINGERPRINT.append(h.hexdigest())
    return _CODE_FINGERPRINT[0]


def spec_cache_key(spec_path, spec_bytes: bytes, target_major: int, shadow_major: int) -> str:
    """The key of a spec file as a whole: its bytes and name (rendered into the SQL) and the code."""
    h = hashlib.sha256()
    for part in (f"format {CACHE_FORMAT}".encode(), f"target {target_major} shadow {shadow_major}".encode(),
                 code_fingerprint().encode(), Path(spec_path).name.encode(), spec_bytes):
        h.update(part)
        h.update(b"\0\0")
    return h.hexdigest()


def cache_dir_default() -> Path:
    if os.environ.get("SCHEMAGEN_CACHE_DIR"):
        return Path(os.environ["SCHEMAGEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "schemagen"


def _cache_path(cache_dir, name: str) -> Path:
    return (Path(cache_dir) if cache_dir else cache_dir_default()) / f"{name}.json"


def to_jsonable(obj) -> Any:
    """A model object as plain JSON data, tagged with its class (positions left out)."""
    if isinstance(obj, Scope):
        return {"@": "Scope", "managed_schemas": sorted(obj.managed_schemas),
                "acl_roles": [[on, name, sorted(roles)] for (on, name), roles in sorted(obj.acl_roles.items())]}
    if is_dataclass(obj) and not isinstance(obj, type):
        out = {"@": type(obj).__name__}
        for f in fields(obj):
            if f.name != "pos":
                out[f.name] = to_jsonable(getattr(obj, f.name))
        return out
    if isinstance(obj, (tuple, list)):
        return [to_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def from_jsonable(data) -> Any:
    if isinstance(data, dict):
        tag = data["@"]
        if tag == "Scope":
            return Scope(frozenset(data["managed_schemas"]),
                         {(on, name): frozenset(roles) for on, name, roles in data["acl_roles"]})
        cls = _CACHE_CLASSES[tag]
        return cls(**{k: from_jsonable(v) for k, v in data.items() if k != "@"})
    if isinstance(data, list):
        return tuple(from_jsonable(x) for x in data)
    return data


def _object_hook(d: dict) -> Any:
    """json.loads hook building model objects bottom-up (several times faster than a second pass)."""
    tag = d.pop("@", None)
    if tag is None:
        return d
    if tag == "Scope":
        return Scope(frozenset(d["managed_schemas"]), {(on, name): frozenset(r) for on, name, r in d["acl_roles"]})
    for k, v in d.items():
        if type(v) is list:
            d[k] = tuple(tuple(x) if type(x) is list else x for x in v)
    return _CACHE_CLASSES[tag](**d)


def _cache_read(path: Path) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_hook=_object_hook)
        if data.get("format") != CACHE_FORMAT:
            return None
        return data["value"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or from another version: a miss


def _cache_write(path: Path, value) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": CACHE_FORMAT, "value": to_jsonable(value)}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs time


# ---------------------------------------------------------------- formats

_OWNERSHIP = {"pos", "migration", "assumed"}


def _plain(value) -> Any:
    """Model values as JSON data, without positions or ownership flags."""
    if isinstance(value, Rls):
        return {"enabled": value.enabled, "forced": value.forced}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name not in _OWNERSHIP}
    if isinstance(value, (tuple, list)):
        return [_plain(x) for x in value]
    return value


def _side(c: Change, value) -> Any:
    if value is None:
        return None
    if c.action == "alter" and c.detail and is_dataclass(value):
        return {f: _plain(getattr(value, f)) for f in c.detail}
    return _plain(value)


def to_json_data(report: DiffReport) -> dict:
    """The documented JSON structure (version 1). See docs/diff.md."""
    return {
        "version": JSON_VERSION,
        "drift": report.drift,
        "strict": report.strict,
        "database": report.database,
        "spec": report.spec,
        "changes": [{
            "kind": c.kind, "object": c.object, "action": c.action,
            "before": _side(c, c.before), "after": _side(c, c.after),
            "destructive": c.destructive, "detail": list(c.detail), "reason": c.reason,
        } for c in report.changes],
        "unmanaged": [{"kind": c.kind, "object": c.object} for c in report.unmanaged],
        "warnings": list(report.warnings),
    }


def format_json(report: DiffReport) -> str:
    return json.dumps(to_json_data(report), indent=2, ensure_ascii=False) + "\n"


def format_sql(report: DiffReport) -> str:
    header = (f"schemagen diff: statements that bring {report.database} to {report.spec}.\n"
              "Review before running: statements marked destructive can lose data.")
    if report.unmanaged and not report.strict:
        header += (f"\n{len(report.unmanaged)} unmanaged object(s) are left alone "
                   "(with --strict they are dropped).")
    return report.plan.sql(header)


def use_color(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_COLORS = {"+": "32", "-": "31", "~": "33", "?": "36", "bold": "1", "dim": "2"}
_SYMBOL = {"add": "+", "drop": "-", "alter": "~"}
_LIMIT = 120


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):
            return ", ".join(f"{k}={v!r}" for k, v in value)
        if value and is_dataclass(value[0]):
            return ", ".join(_show_item(x) for x in value)
        return ", ".join(str(x) for x in value) if value else "(none)"
    text = str(value)
    return text if len(text) <= _LIMIT else text[:_LIMIT - 1] + "…"


def _show_item(x) -> str:
    if isinstance(x, m.IndexKey):
        text = x.expression if x.is_column else f"({x.expression})"
        return text + (f" {x.opclass}" if x.opclass else "") + (" desc" if x.descending else "") + \
            (f" nulls {x.nulls}" if x.nulls else "")
    if isinstance(x, m.Argument):
        return " ".join(p for p in ("" if x.mode == "in" else x.mode, x.name or "", x.type,
                                    f"default {x.default}" if x.default is not None else "") if p)
    return str(x)


def _describe(c: Change) -> list[str]:
    """The lines under a change's headline: what differs, database side first."""
    if c.kind == "grant":
        b = ", ".join(c.before.privileges) if c.before else "none"
        a = ", ".join(c.after.privileges) if c.after else "none"
        return [f"database grants {b}; spec grants {a}"]
    if c.kind == "comment":
        return [f"database: {_show(c.before)}", f"spec:     {_show(c.after)}"]
    if c.kind == "owner":
        return [f"owned by {c.before}, one of the spec's API roles (an owner bypasses RLS and every revoke); "
                f"expected the deploying role ({c.after})"]
    if c.kind == "rls":
        return [f"row level security {f}: database {'on' if getattr(c.before, f) else 'off'}, "
                f"spec {'on' if getattr(c.after, f) else 'off'}" for f in c.detail]
    if c.action != "alter":
        return []
    lines = []
    for f in c.detail:
        before, after = getattr(c.before, f), getattr(c.after, f)
        if f == "body":
            lines.append("body differs (- database, + spec):")
            diff = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), lineterm="",
                                             n=1))[2:]
            lines += ["  " + d for d in diff[:40]] + (["  …"] if len(diff) > 40 else [])
        else:
            lines.append(f"{f}: database {_show(before)}; spec {_show(after)}")
    return lines


def _headline(c: Change) -> str:
    if c.kind == "comment":
        what = f"comment on {c.object}"
    elif c.kind == "rls":
        what = f"row level security on {c.object}"
    elif c.kind in ("column", "table", "function", "schema", "extension", "role"):
        what = f"{c.kind} {c.object}"
    else:
        what = c.object
    status = {"add": "missing from the database", "drop": "in the database, not in the spec",
              "alter": "differs"}[c.action]
    if c.kind == "grant" and c.action == "alter":
        status = "differ"
    return f"{what}: {status}"


def format_text(report: DiffReport, color: bool = False) -> str:
    def paint(text: str, style: str) -> str:
        return f"\033[{_COLORS[style]}m{text}\033[0m" if color else text

    lines: list[str] = []
    n = len(report.changes)
    if not report.drift:
        lines.append(f"No drift: {report.database} matches {report.spec}.")
    else:
        counted = n + (len(report.unmanaged) if report.strict else 0)
        destructive = sum(1 for c in report.changes if c.destructive) + \
            (sum(1 for c in report.unmanaged if c.destructive) if report.strict else 0)
        extra = f", {destructive} of them destructive to fix" if destructive else ""
        lines.append(paint(f"Drift: {counted} difference{'s' if counted != 1 else ''} between {report.spec} and "
                           f"{report.database}{extra}.", "bold"))
        lines.append(paint("  + missing from the database   - not in the spec   ~ differs", "dim"))
    group = None
    for c in report.changes:
        if c.group != group:
            group = c.group
            lines.append("")
            lines.append(paint(group, "bold"))
        sym = _SYMBOL[c.action]
        text = f"  {paint(sym, sym)} {_headline(c)}"
        if c.destructive:
            text += paint("  [destructive to fix]", "-")
        lines.append(text)
        lines += ["      " + d for d in _describe(c)]
    if report.unmanaged:
        lines.append("")
        note = "counted as drift (--strict)" if report.strict else "drift only with --strict"
        lines.append(paint(f"Unmanaged: in the database, never mentioned by the spec ({note}):", "bold"))
        for c in report.unmanaged:
            lines.append(f"  {paint('?', '?')} {c.kind} {c.object}")
    if report.drift:
        lines.append("")
        lines.append("To see the statements that fix this: schemagen diff --format sql")
    return "\n".join(lines) + "\n"


FORMATS = {"text": format_text, "json": format_json, "sql": format_sql}
