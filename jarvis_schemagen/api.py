"""The library API: what the CLI (and anyone scripting schemagen) calls.

Stages: load (YAML -> model) -> validate (cross-object checks) -> render (model -> SQL).
Each function returns a value or raises a ``SchemagenError``; none prints or exits.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import model as m
from .errors import SpecError, UsageError
from .spec.loader import load_text
from .spec.problems import Problem, sort_problems, suggestion_budget
from .spec.validate import validate, warnings

DEFAULT_SPEC = "schema.yaml"
DEFAULT_OUT = "generated"


def _complete(schema: m.Schema) -> m.Schema:
    """Fill in what the spec may leave implicit: a foreign key without columns references the primary key."""
    tables = {t.qualified_name: t for t in schema.tables}
    out = []
    for t in schema.tables:
        cons = []
        for c in t.constraints:
            if c.kind == "foreign_key" and not c.ref_columns:
                ref = tables.get(c.ref_table or "")
                if ref is not None and ref.primary_key is not None:
                    c = replace(c, ref_columns=ref.primary_key.columns)
            cons.append(c)
        out.append(replace(t, constraints=tuple(cons)))
    return replace(schema, tables=tuple(out))


def load_spec_text(text: str, filename: str = DEFAULT_SPEC) -> m.Schema:
    """Parse and validate spec text; raises SpecError listing every problem."""
    with suggestion_budget():
        schema, problems = load_text(text, filename)
        if schema is not None:
            problems = problems + validate(schema)
    if problems or schema is None:
        raise SpecError(sort_problems(problems))
    schema = replace(schema, warnings=tuple(sort_problems(list(schema.warnings) + warnings(schema))))
    return _complete(schema)


def read_spec_bytes(path: str | Path) -> bytes:
    """The spec file's bytes; a missing or unreadable file is a UsageError (exit 2)."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"spec file not found: {p} (use --spec PATH, or start a project with "
                         "`schemagen init`)") from None
    except IsADirectoryError:
        raise UsageError(f"spec path is a directory, not a file: {p}") from None
    except OSError as e:
        raise UsageError(f"cannot read spec file {p}: {e.strerror}") from None


def load_spec(path: str | Path = DEFAULT_SPEC) -> m.Schema:
    """Read, parse and validate a spec file; raises SpecError (exit 1) or UsageError (exit 2)."""
    p = Path(path)
    raw = read_spec_bytes(p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError([Problem(m.Pos(str(p), 1, 1), f"the spec is not UTF-8 text (byte {e.start})")]) from None
    return load_spec_text(text, str(p))


def render_migrations(schema: m.Schema) -> dict[str, str]:
    """File name -> SQL text for every migration of the spec."""
    from .render import render_migrations as _render

    return _render(schema)


def assumed_objects_sql(schema: m.Schema) -> str:
    """SQL that creates the spec's assumed objects (scratch and shadow databases only)."""
    from .render import render_assumed

    return render_assumed(schema)


def load_default_spec() -> m.Schema:
    """The project's own schema.yaml (next to the package in a checkout, or in the working directory)."""
    here = Path(__file__).resolve().parent.parent / DEFAULT_SPEC
    return load_spec(here if here.is_file() else DEFAULT_SPEC)


def render_to_dir(spec_path: str | Path = DEFAULT_SPEC, out_dir: str | Path = DEFAULT_OUT, check: bool = False,
                  name: str | None = None, allow_destructive: bool = False, shadow_url: str | None = None,
                  use_cache: bool = True, cache_dir: str | Path | None = None):
    """Render the spec into ``out_dir``; with ``check``, write nothing and report what is out of date.

    Before any release this writes one file per spec migration (the templates). Released files
    (``schemagen.lock``) are never rewritten; a spec change to what they created is reported
    (``uncaptured``) or, with ``name``, captured in one pending change file. Files are written
    only when their bytes change, each through a temporary file and an atomic rename, and only
    after everything was computed without error. Returns an ``evolve.RenderReport``.
    """
    from .evolve import render_to_dir as _render

    return _render(spec_path, out_dir, check=check, name=name, allow_destructive=allow_destructive,
                   shadow_url=shadow_url, use_cache=use_cache, cache_dir=cache_dir)


def release(spec_path: str | Path = DEFAULT_SPEC, out_dir: str | Path = DEFAULT_OUT, shadow_url: str | None = None,
            use_cache: bool = True, cache_dir: str | Path | None = None):
    """Record every migration file of ``out_dir`` as released in ``schemagen.lock`` (see ``evolve.release``)."""
    from .evolve import release as _release

    return _release(spec_path, out_dir, shadow_url=shadow_url, use_cache=use_cache, cache_dir=cache_dir)
