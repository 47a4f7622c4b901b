"""`schemagen render` once migrations are released: a spec change becomes the next migration.

The files of ``generated/`` come in three kinds:

- **released** (listed in ``schemagen.lock`` with their SHA-256): frozen, never rewritten;
- **template** files: the spec's own migrations that are not released yet, rendered by the Jinja
  templates exactly as on a first render (idempotent);
- at most one **pending** change file, ``NNN_name.sql`` created by ``render --name``: the
  statements that bring the state of the released and template files to the spec, computed by
  ``compare`` + ``plan`` (the planner behind ``diff --format sql``) and recomputed on every
  render until ``schemagen release`` freezes it.

The *base* state is what the released and template files produce, applied in id order to a
shadow database; the *desired* state is the spec normalised through a shadow database exactly
as ``diff`` does. Both live on one shadow server (one database, or two for a big spec). The
computed file is applied to the base database and the result compared again with the spec:
a plan that does not converge is an error, never a file. Results are cached like ``diff``'s.

Nothing here prints or exits.
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import model as m
from .compare import Change, Scope, annotate, compare, spec_schemas
from .errors import SchemagenError, UsageError
from .pg import connect
from .release import (Entry, Lock, migration_files, read_lock, released_problems, sha256_file, write_file,
                      write_lock)

EVOLVE_CACHE_FORMAT = 1
#: rendered SQL (characters) above which the desired state gets a database of its own, committed
#: file by file; below it, it is built in the base database in one transaction and rolled back
#: (cheaper than creating a database, and small enough for the server's lock table)
PARALLEL_ABOVE = 100_000
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class PlanDoesNotConverge(SchemagenError):
    exit_code = 2


class EnumValueUsedTooSoon(SchemagenError):
    """The change adds an enum value and uses it: one file is one transaction, where PostgreSQL refuses
    the new value ("unsafe use of new value"). The value needs a migration of its own first (exit 1)."""

    exit_code = 1

    def __init__(self, uses: list, next_id: str) -> None:
        self.uses = uses
        ty, value, _ = uses[0]
        name = re.sub(r"[^a-z0-9]+", "_", f"add_{ty.rpartition('.')[2]}_{value}".lower()).strip("_")[:40] \
            or "add_enum_value"
        one = len({(t, v) for t, v, _ in uses}) == 1
        lines = [f"the change adds enum value '{value}' to {ty} and uses it in the same migration:" if one
                 else "the change adds enum values and uses them in the same migration:"] + [
            f"  {_statement_line(s.sql)}  (uses '{v}' of {t})" for t, v, s in uses[:5]] + (
            [f"  … and {len(uses) - 5} more"] if len(uses) > 5 else []) + [
            "PostgreSQL cannot use a new enum value in the transaction that adds it (\"unsafe use of new value\"), "
            "and apply runs each migration in one transaction. Add the value in a migration of its own first: "
            f"leave its uses out of the spec for now, run `schemagen render --name {name}` (the file "
            f"{next_id}_{name}.sql adds the value) and `schemagen release`; then put the uses back and "
            "`schemagen render --name NAME` captures them in the next file. Nothing was written"]
        super().__init__("\n".join(lines))


def _statement_line(text: str) -> str:
    """The first line of a statement, cut to a readable length, with control characters shown as '?'."""
    line = _comment(text.strip().splitlines()[0] if text.strip() else text)
    return line if len(line) <= 120 else line[:117] + "..."


def _next_id(base_files: list[tuple[str, str]]) -> str:
    """The id a new migration after ``base_files`` takes (zero-padded like them)."""
    ids = [fn.split("_", 1)[0] for fn, _ in base_files]
    width = max([3] + [len(i) for i in ids])
    return str(max((int(i) for i in ids), default=0) + 1).zfill(width)


@dataclass
class RenderReport:
    out_dir: Path
    written: list[str] = field(default_factory=list)  # files created or changed
    unchanged: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # --check: differs from the spec
    missing: list[str] = field(default_factory=list)  # --check: absent
    extra: list[str] = field(default_factory=list)  # .sql files in out_dir neither rendered nor locked
    released: list[str] = field(default_factory=list)  # released files, left untouched
    removed: list[str] = field(default_factory=list)  # pending files removed (renamed, or nothing left to capture)
    problems: list[str] = field(default_factory=list)  # released files edited or missing, id clashes
    uncaptured: tuple[Change, ...] = ()  # spec changes no migration captures (need --name)
    refused: list[str] = field(default_factory=list)  # destructive statements without consent
    pending: str | None = None  # the pending file (written, unchanged or checked)
    access: str = ""  # the pending file's access changes, as text
    nothing_to_capture: bool = False  # --name given, but the files already produce the spec
    warnings: list = field(default_factory=list)  # spec warnings (risky but valid), for stderr
    stats: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.stale or self.missing or self.problems or self.uncaptured or self.refused)


@dataclass(frozen=True)
class Evolution:
    """What the released and template files lack to reach the spec."""

    changes: tuple[Change, ...]  # compare's changes plus the objects the spec no longer has
    text: str | None  # the change file's SQL (None: nothing to do)
    destructive: tuple[str, ...]  # why each destructive statement can lose data
    access: str = ""  # who gains or loses access through it (access.format_changes_text), "" when nobody


# ---------------------------------------------------------------- render

def render_to_dir(spec_path: str | Path = "schema.yaml", out_dir: str | Path = "generated", check: bool = False,
                  name: str | None = None, allow_destructive: bool = False, shadow_url: str | None = None,
                  use_cache: bool = True, cache_dir: str | Path | None = None) -> RenderReport:
    """Render the spec into ``out_dir`` (see the module docstring); with ``check``, write nothing."""
    from .api import load_spec, render_migrations

    if name is not None and not NAME_RE.match(name):
        raise UsageError(f"--name {name!r}: use lower-case letters, digits and underscores (e.g. widen_plan_type)")
    if check and name is not None:
        raise UsageError("--check and --name do not go together: --check writes nothing")
    schema = load_spec(spec_path)
    rendered = render_migrations(schema)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output path exists and is not a directory: {out}")
    lock = read_lock(out)
    report = RenderReport(out_dir=out, warnings=list(schema.warnings))
    report.problems = released_problems(out, lock)
    released = {e.number: e for e in lock.released}
    pending = lock.pending
    template: dict[str, str] = {}
    for mig in schema.migrations:
        e = released.get(int(mig.id))
        if e is None:
            template[mig.filename] = rendered[mig.filename]
        elif e.name != mig.name:
            report.problems.append(f"migration {mig.id} ({mig.name}) of the spec has the id of released file "
                                   f"{e.filename}: give it an id after the last released one")
    report.released = [e.filename for e in lock.released]
    on_disk = migration_files(out)
    known = set(template) | set(report.released) | ({pending.filename} if pending else set())
    report.extra = sorted(n for n in on_disk if n not in known)

    writes: dict[str, bytes] = {}
    for fname, text in template.items():
        data = text.encode("utf-8")
        current = _read_existing(on_disk[fname]) if fname in on_disk else None
        if current == data:
            report.unchanged.append(fname)
        elif check:
            (report.missing if current is None else report.stale).append(fname)
        else:
            writes[fname] = data
    if report.problems:
        return report  # the base state cannot be trusted: decide nothing, write nothing

    new_lock = lock
    if lock.released or pending is not None or name is not None:
        base = [(e.number, e.filename, (out / e.filename).read_text(encoding="utf-8")) for e in lock.released]
        base += [(int(fn.split("_", 1)[0]), fn, text) for fn, text in template.items()]
        base.sort()
        if not pending and _unchanged_since_release(lock, rendered, schema):
            evo = Evolution((), None, ())
        else:
            evo = evolve(schema, spec_path, [(fn, text) for _, fn, text in base], shadow_url=shadow_url,
                         use_cache=use_cache, cache_dir=cache_dir, stats=report.stats)
        last = max((n for n, _, _ in base), default=0)
        width = max([3] + [len(fn.split("_", 1)[0]) for _, fn, _ in base])
        if evo.text is None:
            if pending is not None:
                report.removed.append(pending.filename)
                new_lock = lock.with_pending(None)
            elif name is not None:
                report.nothing_to_capture = True
        elif pending is None and name is None:
            report.uncaptured = evo.changes
        else:
            number = pending.number if pending is not None and pending.number > last else last + 1
            entry = Entry(str(number).zfill(width), name or pending.name, "pending",
                          allow_destructive=allow_destructive or bool(pending and pending.allow_destructive))
            if evo.destructive and not entry.allow_destructive:
                report.refused = list(evo.destructive)
            else:
                if pending is not None and pending.filename != entry.filename:
                    report.removed.append(pending.filename)
                new_lock = lock.with_pending(entry)
                report.pending = entry.filename
                report.access = evo.access
                text = change_file_text(entry, evo, Path(schema.source or spec_path).name, base)
                data = text.encode("utf-8")
                current = on_disk[entry.filename].read_bytes() if entry.filename in on_disk else None
                if current == data:
                    report.unchanged.append(entry.filename)
                elif check:
                    (report.missing if current is None else report.stale).append(entry.filename)
                else:
                    writes[entry.filename] = data
        if check and new_lock != lock:
            report.stale.extend(n for n in report.removed if n not in report.stale)
    if check or not report.ok:
        return report
    for fname, data in writes.items():
        write_file(out / fname, data)
        report.written.append(fname)
    for fname in report.removed:
        try:
            (out / fname).unlink(missing_ok=True)
        except OSError as e:
            raise UsageError(f"cannot remove {out / fname}: {e.strerror}") from None
    if new_lock != lock:
        write_lock(out, new_lock)
    return report


def _read_existing(path: Path) -> bytes:
    """The bytes of a file about to be compared or replaced; a directory or an unreadable file
    named like a migration is the user's to fix (exit 2), not a crash."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None


def _unchanged_since_release(lock: Lock, rendered: dict[str, str], schema: m.Schema) -> bool:
    """True when every released file is the spec's own migration, byte for byte as the templates
    render it now: then the files produce exactly the spec, with no shadow database needed."""
    spec_files = {mig.filename for mig in schema.migrations}
    for e in lock.released:
        if e.filename not in spec_files:
            return False
        if hashlib.sha256(rendered[e.filename].encode("utf-8")).hexdigest() != e.sha256:
            return False
    return True


def _comment(text: str) -> str:
    """Text for a header line: one line, whatever a name holds (the lines stay comments)."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", "?", str(text))


def change_file_text(entry: Entry, evo: Evolution, source: str, base: list[tuple[int, str, str]]) -> str:
    """The pending change file: a header naming what it changes, then the planned statements."""
    first, last = (base[0][1].split("_", 1)[0], base[-1][1].split("_", 1)[0]) if base else ("", "")
    lines = [
        f"-- {entry.filename}",
        f"-- Generated by jarvis-schemagen from {_comment(source)} (`schemagen render --name {entry.name}`).",
        f"-- Do not edit by hand: change {_comment(source)} and run `schemagen render`; this file is",
        "-- recomputed from the spec until `schemagen release` freezes it.",
        "--",
        f"-- Migration {entry.id}: {entry.name.replace('_', ' ')}. Brings the state of "
        f"{first}..{last} to the spec:" if base else f"-- Migration {entry.id}: {entry.name.replace('_', ' ')}.",
    ]
    symbol = {"add": "+", "drop": "-", "alter": "~"}
    for c in evo.changes:
        detail = f" ({', '.join(c.detail)})" if c.action == "alter" and c.detail else ""
        what = c.object if c.object.startswith(c.kind + " ") else f"{c.kind} {c.object}"
        lines.append(f"--   {symbol[c.action]} {_comment(what)}{_comment(detail)}")
    lines.append("-- Runs once, in one transaction (schemagen apply); not idempotent.")
    return "\n".join(lines) + "\n\n" + evo.text


# ---------------------------------------------------------------- evolution

def evolve(schema: m.Schema, spec_path, base_files: list[tuple[str, str]], shadow_url: str | None = None,
           use_cache: bool = True, cache_dir=None, timeout: int = 10, stats: dict | None = None) -> Evolution:
    """Compare what ``base_files`` produce with the spec, plan the difference, prove it converges."""
    from . import cache as d
    from . import shadow
    from .api import assumed_objects_sql, render_migrations

    stats = stats if stats is not None else {}
    t0 = time.perf_counter()
    major = shadow.shadow_major_version(shadow_url, timeout)
    assumed = assumed_objects_sql(schema)
    schemas = spec_schemas(schema)
    desired_files = render_migrations(schema)
    base_map = dict(base_files)
    desired_key = d.cache_key(assumed, desired_files, schemas, major, major)
    key = _evolve_key(d.cache_key(assumed, base_map, schemas, major, major), desired_key)
    path = d.cache_path(cache_dir, "evolve-" + key)
    if use_cache:
        hit = d.read(path)
        if isinstance(hit, dict) and "text" in hit:
            stats["cache"] = "hit"
            return Evolution(tuple(hit["changes"]), hit["text"], tuple(hit["destructive"]), hit.get("access", ""))
    stats["cache"] = "miss" if use_cache else "off"
    desired_path = d.cache_path(cache_dir, "shadow-" + desired_key)  # shared with diff
    desired_raw = None
    if use_cache:
        entry = d.read(desired_path)
        if isinstance(entry, dict) and isinstance(entry.get("model"), m.Schema):
            desired_raw = (entry["model"], dict(entry["sequences"]))
    desired_list = list(desired_files.items())
    two_databases = desired_raw is None and sum(map(len, desired_files.values())) > PARALLEL_ABOVE
    from . import term

    label = shadow.building(f"the states of the migration files and of {spec_path}",
                            "to find what the files lack to reach the spec", use_cache)
    with term.progress(label), shadow.ShadowServer(shadow_url, timeout) as server, \
            shadow.databases(server.url, 2 if two_databases else 1, timeout) as urls:
        t = time.perf_counter()
        with connect(urls[0], autocommit=False, connect_timeout=timeout) as conn:
            shadow.run_files(conn, [("the assumed objects", assumed)])
            conn.commit()
        if two_databases:  # cloned after the assumed objects (roles are cluster-wide)
            shadow.clone_database(server.url, urls[0], urls[1])
        with connect(urls[0], autocommit=False, connect_timeout=timeout) as conn:
            if two_databases:
                # one after the other: two big transactions at once overflow the server's lock table
                got = shadow.state_in(urls[1], desired_list, schemas, timeout)
                desired_raw = (got[0], got[2])
                base = shadow.state(conn, base_files, schemas, commit=True)
            else:
                if desired_raw is None:  # built and rolled back: DDL is transactional
                    got = shadow.state(conn, desired_list, schemas)
                    conn.rollback()
                    desired_raw = (got[0], got[2])
                base = shadow.state(conn, base_files, schemas, commit=True)
            stats["shadow_seconds"] = time.perf_counter() - t
            if use_cache:  # a diff of the same spec then needs no shadow
                d.write(desired_path, {"model": desired_raw[0], "sequences": sorted(desired_raw[1].items())})
            desired = annotate(desired_raw[0], schema)
            scope = Scope.of(schema)
            result = _compare(desired, scope, base, desired_raw)
            changes = result.changes + result.unmanaged
            if not changes:
                evo = Evolution((), None, ())
            else:
                from .plan import plan

                p = plan(changes, desired)
                uses = p.uses_of_added_enum_values()
                if uses:
                    raise EnumValueUsedTooSoon(uses, _next_id(base_files))
                evo = Evolution(changes, p.sql(transaction=False), tuple(s.destructive for s in p.destructive),
                                _access_text(base[0], desired_raw[0], schema))
                t = time.perf_counter()
                after = shadow.state(conn, [("the planned migration", evo.text)], schemas)
                left = _compare(desired, scope, after, desired_raw)
                stats["verify_seconds"] = time.perf_counter() - t
                remaining = left.changes + left.unmanaged
                if remaining:
                    raise PlanDoesNotConverge(
                        "the planned migration does not bring the released files to the spec; nothing was written. "
                        "Still different after it: " + "; ".join(f"{c.action} {c.kind} {c.object}" for c in remaining[:10])
                        + (" …" if len(remaining) > 10 else "") + ". This is a schemagen bug: please report it")
            conn.rollback()
    stats["evolve_seconds"] = time.perf_counter() - t0
    if use_cache:
        d.write(path, {"changes": list(evo.changes), "text": evo.text, "destructive": list(evo.destructive),
                       "access": evo.access})
    return evo


def _access_text(before: m.Schema, after: m.Schema, schema: m.Schema) -> str:
    """Access changes between the two states (both with the ACLs the server reports), as text."""
    from .access import API_ROLES, access_changes, format_changes_text

    roles = API_ROLES + tuple(sorted({r.name for r in schema.roles} - set(API_ROLES)))
    found = access_changes(before, after, roles)
    return format_changes_text(found, title="Access changes in this migration:") if found else ""


def _evolve_key(base_key: str, desired_key: str) -> str:
    from .cache import code_fingerprint

    h = hashlib.sha256()
    for part in (f"evolve {EVOLVE_CACHE_FORMAT}", code_fingerprint(), base_key, desired_key):
        h.update(part.encode("utf-8"))
        h.update(b"\0\0")
    return h.hexdigest()


def _compare(desired: m.Schema, scope: Scope, actual: tuple, desired_raw: tuple):
    model, unmodelled, sequences = actual
    return compare(desired, model, unmodelled=unmodelled, scope=scope, sequences={**desired_raw[1], **sequences})


# ---------------------------------------------------------------- release

@dataclass
class ReleaseReport:
    out_dir: Path
    newly: list[str] = field(default_factory=list)  # released by this run
    already: list[str] = field(default_factory=list)


def release(spec_path: str | Path = "schema.yaml", out_dir: str | Path = "generated", shadow_url: str | None = None,
            use_cache: bool = True, cache_dir=None) -> ReleaseReport:
    """Freeze every migration file of ``out_dir``: record it as released in the lock.

    Only an up-to-date directory is released (what ``render --check`` accepts); otherwise a
    ``StaleFiles`` error (exit 1) says to run ``schemagen render`` first.
    """
    check = render_to_dir(spec_path, out_dir, check=True, shadow_url=shadow_url, use_cache=use_cache,
                          cache_dir=cache_dir)
    if not check.ok:
        raise StaleFiles(check)
    out = Path(out_dir)
    lock = read_lock(out)
    files = migration_files(out)
    if not files:
        raise UsageError(f"no migration files (NNN_name.sql) in {out}: run `schemagen render` first")
    report = ReleaseReport(out_dir=out)
    entries = {e.filename: e for e in lock.released}
    numbers = {}
    for fname, p in files.items():
        number = int(fname.split("_", 1)[0])
        if number in numbers:
            raise UsageError(f"two migration files share id {number}: {numbers[number]} and {fname}")
        numbers[number] = fname
        if fname in entries:
            report.already.append(fname)
            continue
        fid, fn = fname[:-4].split("_", 1)
        entries[fname] = Entry(fid, fn, "released", sha256_file(p))
        report.newly.append(fname)
    if report.newly:
        write_lock(out, Lock(tuple(sorted(entries.values(), key=lambda e: e.number)), exists=True))
    return report


class StaleFiles(SchemagenError):
    """release refused: the directory is not what the spec renders (exit 1)."""

    exit_code = 1

    def __init__(self, report: RenderReport) -> None:
        self.report = report
        parts = report.problems + [f"stale: {n}" for n in report.stale] + [f"missing: {n}" for n in report.missing]
        if report.uncaptured:
            parts.append(f"{len(report.uncaptured)} spec change(s) no migration captures "
                         "(run `schemagen render --name NAME`)")
        super().__init__(f"{report.out_dir}/ is not up to date with the spec; nothing was released:\n  "
                         + "\n  ".join(parts) + "\n  run `schemagen render` first")
