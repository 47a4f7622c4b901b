"""The on-disk cache of normalised specs, so a repeated diff of an unchanged spec needs no shadow database.

Entries are JSON files under ``$SCHEMAGEN_CACHE_DIR`` (else ``$XDG_CACHE_HOME/schemagen``, else
``~/.cache/schemagen``). Two keys: ``cache_key`` (the rendered SQL, both servers' major versions,
the catalog queries, the model's shape) and, in front of it, ``spec_cache_key`` (the spec file's
bytes and name, and a hash of this tool's code). A missing, unreadable or foreign entry is a miss.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from . import model as m
from .compare import Change, Rls, Scope

CACHE_FORMAT = 4  # 4: a header line with the key and the body's SHA-256


@dataclass(frozen=True)
class Desired:
    """What a diff compares a database with: the normalised, annotated spec and its scope."""

    model: m.Schema  # shadow-introspected, with the spec's ownership flags
    scope: Scope
    schemas: tuple[str, ...]  # the schemas to inspect
    sequences: tuple[tuple[str, str], ...] = ()  # (sequence, owning table) of identity/serial columns


_MODEL_CLASSES = {name: cls for name, cls in vars(m).items() if isinstance(cls, type) and is_dataclass(cls)}
_CACHE_CLASSES = dict(_MODEL_CLASSES, Desired=Desired, Change=Change, Rls=Rls)  # Change: render's evolutions


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


def cache_path(cache_dir, name: str) -> Path:
    return (Path(cache_dir) if cache_dir else cache_dir_default()) / f"{name}.json"


def to_jsonable(obj) -> Any:
    """A model object as plain JSON data, tagged with its class (positions left out)."""
    if isinstance(obj, Scope):
        return {"@": "Scope", **obj.to_data()}
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
            return Scope.from_data(data)
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
        return Scope.from_data(d)
    for k, v in d.items():
        if type(v) is list:
            d[k] = tuple(tuple(x) if type(x) is list else x for x in v)
    return _CACHE_CLASSES[tag](**d)


def read(path: Path) -> Any:
    """The value stored at ``path``, or None (a miss) unless the entry is whole and well formed: written
    by this format for this very key (its file name), its content hash matching, and every object
    in it of the model's classes with fields of the declared types. A bad entry is never an error."""
    try:
        raw = path.read_bytes()
        head, sep, body = raw.partition(b"\n")
        header = json.loads(head)
        if (not sep or not isinstance(header, dict) or header.get("format") != CACHE_FORMAT
                or header.get("key") != path.stem or header.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        value = json.loads(body, object_hook=_object_hook)
        return value if well_formed(value) else None
    except Exception:  # missing, unreadable, corrupt (even nested too deeply to parse): a miss
        return None


def write(path: Path, value) -> None:
    """Store ``value`` at ``path``: a header line (format, key, SHA-256 of the body), then the body;
    written through an exclusive temporary file and an atomic rename."""
    from .fsutil import write_atomic

    body = json.dumps(to_jsonable(value), separators=(",", ":")).encode("utf-8")
    header = json.dumps({"format": CACHE_FORMAT, "key": path.stem, "sha256": hashlib.sha256(body).hexdigest()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, header.encode("utf-8") + b"\n" + body, mode=0o600)
    except OSError:
        pass  # a cache that cannot be written only costs time


# ---------------------------------------------------------------- structure of an entry
#
# Each declared field type is compiled once into a check function (a closure per type form), so
# checking a cached model of a thousand tables costs a few milliseconds.

_CHECKERS: dict[Any, Any] = {}
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _checker(hint):
    """A function value -> bool for the type ``hint`` (classes, unions, tuples, frozensets)."""
    key = hint
    try:
        if key in _CHECKERS:
            return _CHECKERS[key]
    except TypeError:  # an unhashable hint: compile it every time
        key = None
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        fn = well_formed  # whatever it is, what it holds is checked
    elif origin in (typing.Union, types.UnionType):
        alts = [_checker(a) for a in args]
        fn = lambda v: any(a(v) for a in alts)  # noqa: E731
    elif hint is type(None):
        fn = lambda v: v is None  # noqa: E731
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _checker(args[0])
        fn = lambda v: type(v) is tuple and all(item(x) for x in v)  # noqa: E731
    elif origin is tuple:
        items = [_checker(a) for a in args]
        fn = lambda v: type(v) is tuple and len(v) == len(items) and all(c(x) for c, x in zip(items, v))  # noqa: E731
    elif origin is frozenset:
        item = _checker(args[0]) if args else (lambda v: True)
        fn = lambda v: type(v) is frozenset and all(item(x) for x in v)  # noqa: E731
    elif origin is not None:
        fn = lambda v: isinstance(v, origin)  # noqa: E731
    elif hint in (bool, int, str):
        fn = lambda v: type(v) is hint  # noqa: E731
    elif isinstance(hint, type) and is_dataclass(hint):
        fn = lambda v: type(v) is hint and well_formed(v)  # noqa: E731
    elif isinstance(hint, type):
        fn = lambda v: isinstance(v, hint)  # noqa: E731
    else:
        fn = lambda v: True  # noqa: E731 - a form this check does not know: leave it to the model
    if key is not None:
        _CHECKERS[key] = fn
    return fn


def _fields_of(cls: type) -> tuple[tuple[str, Any], ...]:
    if cls not in _FIELDS:
        import typing

        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple((f.name, _checker(hints[f.name])) for f in fields(cls))
    return _FIELDS[cls]


def well_formed(value) -> bool:
    """Every object in ``value`` (a Desired, a dict of them, tuples) has fields of the declared types."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and well_formed(v) for k, v in value.items())
    if type(value) is tuple:
        return all(well_formed(v) for v in value)
    if isinstance(value, Scope):
        names = _checker(frozenset[str])
        return (names(value.managed_schemas) and isinstance(value.acl_roles, dict)
                and all(_checker(tuple[str, str])(k) and names(v) for k, v in value.acl_roles.items()))
    if is_dataclass(value) and not isinstance(value, type):
        return all(check(getattr(value, name)) for name, check in _fields_of(type(value)))
    return isinstance(value, (str, int, bool)) or value is None
