"""``schemagen init``: a starter project for Supabase.

Writes ``schema.yaml`` (the starter spec: Supabase's roles, ``auth.users``, ``auth.uid()``,
the default privileges of ``public``, one example table with RLS and a
``(select auth.uid())`` policy), ``schemagen.schema.json`` (the JSON Schema its first line
points editors at) and ``generated/`` (the rendered migration). Never overwrites: if any
of them exists, nothing is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import UsageError

SPEC_NAME = "schema.yaml"
SCHEMA_JSON_NAME = "schemagen.schema.json"
OUT_NAME = "generated"


def starter_spec_text() -> str:
    """The starter spec shipped in the package."""
    return resources.files(__package__).joinpath("starter", SPEC_NAME).read_text(encoding="utf-8")


@dataclass
class InitReport:
    directory: Path
    created: list[Path] = field(default_factory=list)


def init_project(directory: str | Path = ".") -> InitReport:
    """Create the starter files in ``directory`` (created if missing); UsageError if any exists."""
    from .api import render_to_dir
    from .spec.schema_json import spec_json_schema_text

    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a directory")
    out = target / OUT_NAME
    taken = [p for p in (target / SPEC_NAME, target / SCHEMA_JSON_NAME) if p.exists()]
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        taken.append(out)
    if taken:
        raise UsageError(f"not overwriting {', '.join(str(p) for p in taken)}: "
                         "init writes a new project; move these away or choose another directory")
    report = InitReport(directory=target)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in ((SPEC_NAME, starter_spec_text()), (SCHEMA_JSON_NAME, spec_json_schema_text())):
            path = target / name
            with open(path, "x", encoding="utf-8", newline="\n") as f:  # "x": never replace a file
                f.write(text)
            report.created.append(path)
    except FileExistsError as e:
        raise UsageError(f"not overwriting {e.filename}") from None
    except OSError as e:
        raise UsageError(f"cannot write {e.filename or target}: {e.strerror}") from None
    rendered = render_to_dir(target / SPEC_NAME, out)
    report.created += [out / name for name in rendered.written]
    return report
