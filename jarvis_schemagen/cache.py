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

CACHE_FORMAT = 3


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_hook=_object_hook)
        if data.get("format") != CACHE_FORMAT:
            return None
        return data["value"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or from another version: a miss


def write(path: Path, value) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"format": CACHE_FORMAT, "value": to_jsonable(value)}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs time

