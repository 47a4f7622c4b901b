"""model.Schema -> SQL text, through the Jinja templates in ``templates/``.

Templates stay dumb (loops and ifs): every statement comes from a builder of ``sql.py``
(the template global ``sql``), the same builders the planner uses. The order of objects
inside a file is decided here (``_ordered``), nowhere else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from . import model as m
from . import sql
from .errors import SpecError
from .printable import escape_controls
from .spec.problems import Problem

GENERATED_BY = "jarvis-schemagen"


# ---------------------------------------------------------------- environment

def templates_dir() -> Path:
    """The templates, whether running from a checkout or an installed package."""
    from importlib import resources

    try:
        installed = resources.files("jarvis_schemagen.templates")
        if installed.joinpath("migration.sql.j2").is_file():
            return Path(str(installed))
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["sql"] = sql
    return env


# ---------------------------------------------------------------- ordering

@dataclass(frozen=True)
class Part:
    """What one file creates, in the order it must be created."""

    roles: tuple[m.Role, ...]
    namespaces: tuple[m.Namespace, ...]
    default_privileges: tuple[m.DefaultPrivilege, ...]
    extensions: tuple[m.Extension, ...]
    new_tables: tuple[m.Table, ...]  # created here, in foreign-key order
    altered_tables: tuple[m.Table, ...]  # existing tables this file adds to
    tables: tuple[m.Table, ...]  # both, new first: for indexes, policies, triggers, comments
    functions: tuple[m.Function, ...]
    grants: tuple[m.Grant, ...]
    comments: tuple[tuple, ...]  # arguments of sql.comment_on: (kind, object, name, text)
    types: tuple[str, ...] = ()  # statements creating types or adding enum values, in order
    views: tuple[m.View, ...] = ()
    publications: tuple[str, ...] = ()  # statements creating publications and adding tables to them
    data: tuple[m.DataStatement, ...] = ()  # last, in spec order: the objects they use exist by then


def _fk_order(tables: list[m.Table]) -> list[m.Table]:
    """Tables in an order where each comes after the tables its foreign keys reference."""
    by_name = {t.qualified_name: t for t in tables}
    deps = {
        t.qualified_name: sorted({c.ref_table for c in t.constraints
                                  if c.kind == "foreign_key" and c.ref_table in by_name and c.ref_table != t.qualified_name})
        for t in tables
    }
    out, done, visiting = [], set(), []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise SpecError([Problem(by_name[name].pos, "foreign keys form a cycle between tables created in one "
                                                          f"migration ({' -> '.join(cycle)}); split them across migrations")])
        visiting.append(name)
        for d in deps[name]:
            visit(d)
        visiting.pop()
        done.add(name)
        out.append(by_name[name])

    for name in sorted(by_name):
        visit(name)
    return out


def _type_statements(part: m.Schema, migration_id: str) -> tuple[str, ...]:
    """Enum types this file creates (with the values of their own migration), then values it adds."""
    from .plan import enum_additions

    out = []
    for ty in part.types:
        later = dict(ty.value_migrations)
        if m.effective_migration(ty) == migration_id:
            out.append(sql.create_enum(ty, tuple(v for v in ty.values if v not in later), idempotent=True))
            continue
        # values added by this file: the type exists with the values of every earlier migration
        order = {mig_id: i for i, mig_id in enumerate(sorted({*later.values(), migration_id}, key=int))}
        existing = tuple(v for v in ty.values if v not in later or order[later[v]] < order[migration_id])
        desired = tuple(v for v in ty.values if v in existing or later.get(v) == migration_id)
        for value, after, before in enum_additions(existing, desired):
            out.append(sql.add_enum_value(ty, value, after, before))
    out += [sql.create_domain(d, idempotent=True) for d in part.domains]
    out += [sql.create_sequence(q, idempotent=True) for q in part.sequences]
    return tuple(out)


def _publication_statements(part: m.Schema, migration_id: str) -> tuple[str, ...]:
    """Publications this file creates, then the tables it adds to publications."""
    out = []
    for p in part.publications:
        if m.effective_migration(p) == migration_id:
            out.append(sql.create_publication(p.name, idempotent=True))
        out += [sql.publication_table(p.name, t, idempotent=True) for t in p.tables]
    return tuple(out)


def _function_order(functions) -> tuple[m.Function, ...]:
    """By signature, except that a SQL function comes after the functions its body calls: PostgreSQL
    checks a SQL body when the function is created (plpgsql bodies only when called)."""
    ordered = sorted(functions, key=lambda f: f.signature)
    calls = {f.signature: re.compile(rf'(?<![\w$])"?{re.escape(f.name)}"?\s*\(') for f in ordered}
    out: list[m.Function] = []
    done: set[str] = set()

    def visit(f: m.Function, path: frozenset) -> None:
        if f.signature in done or f.signature in path:
            return
        if f.language == "sql":
            for other in ordered:
                if other.signature != f.signature and calls[other.signature].search(f.body or ""):
                    visit(other, path | {f.signature})
        done.add(f.signature)
        out.append(f)

    for f in ordered:
        visit(f, frozenset())
    return tuple(out)


def _ordered(part: m.Schema, migration_id: str) -> Part:
    def created_here(t: m.Table) -> bool:
        return m.effective_migration(t) == migration_id

    from . import platform

    new = _fk_order([platform.shaped(t) if migration_id == m.ASSUMED else t for t in part.tables if created_here(t)])
    altered = sorted((t for t in part.tables if not created_here(t)), key=lambda t: t.qualified_name)
    namespaces = tuple(sorted(part.namespaces, key=lambda n: (n.name != "extensions", n.name)))
    functions = _function_order(part.functions)
    return Part(
        roles=part.roles,
        namespaces=namespaces,
        default_privileges=part.default_privileges,
        extensions=part.extensions,
        new_tables=tuple(new),
        altered_tables=tuple(altered),
        tables=tuple(new) + tuple(altered),
        functions=functions,
        grants=part.grants,  # declaration order: a revoke then a grant must stay in that order
        comments=_comments(namespaces, tuple(new) + tuple(altered), functions,
                           tuple(ty for ty in part.types if m.effective_migration(ty) == migration_id), part.views,
                           part.domains + part.sequences),
        types=_type_statements(part, migration_id),
        views=part.views,  # declaration order: a view may read an earlier one
        publications=_publication_statements(part, migration_id),
        data=part.data,
    )


def _comments(namespaces, tables, functions, created_types, views, others=()) -> tuple[tuple, ...]:
    """Every comment of a file: schemas, then each table's (table, columns, constraints,
    indexes, policies, triggers), then functions, enum types created here, views."""
    out: list[tuple] = [("schema", n.name, None, n.comment) for n in namespaces if n.comment]
    for t in tables:
        if t.comment:
            out.append(("table", t, None, t.comment))
        for kind, attr in (("column", "columns"), ("constraint", "constraints"), ("index", "indexes"),
                           ("policy", "policies"), ("trigger", "triggers")):
            out += [(kind, t, o.name, o.comment) for o in getattr(t, attr) if o.comment]
    out += [("function", f, None, f.comment) for f in functions if f.comment]
    out += [("type", ty, None, ty.comment) for ty in created_types if ty.comment]
    out += [(v.kind, v, None, v.comment) for v in views if v.comment]
    out += [("domain" if isinstance(o, m.Domain) else "sequence", o, None, o.comment) for o in others if o.comment]
    return tuple(out)


# ---------------------------------------------------------------- public API

def render_part(part: m.Schema, migration_id: str, *, title: str, filename: str, source: str,
                assumed: bool = False) -> str:
    template = environment().get_template("migration.sql.j2")
    # the file and spec names stand in "-- " comment lines: their control characters (a newline
    # would end the comment) are escaped; the title is written line by line (sql.line_comment)
    text = template.render(p=_ordered(part, migration_id), title=title, filename=escape_controls(filename),
                           source=escape_controls(source),
                           generated_by=GENERATED_BY, assumed=assumed)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def render_migrations(schema: m.Schema, source: str | None = None) -> dict[str, str]:
    """Every migration file of the spec: file name -> SQL text (ordered by migration id)."""
    source = source or Path(schema.source or "schema.yaml").name
    out = {}
    for mig in schema.migrations:
        title = f"Migration {mig.id}: {mig.name.replace('_', ' ')}."
        if mig.comment:
            title += f" {mig.comment}"
        out[mig.filename] = render_part(m.restrict(schema, mig.id), mig.id, title=title, filename=mig.filename, source=source)
    return out


def render_assumed(schema: m.Schema, source: str | None = None) -> str:
    """SQL creating the assumed objects (what exists before migration 001), for scratch databases only."""
    source = source or Path(schema.source or "schema.yaml").name
    return render_part(m.restrict(schema, m.ASSUMED), m.ASSUMED, title="Assumed objects: what the platform provides before "
                       "migration 001. For scratch and shadow databases only; never run this in a deploy.",
                       filename="assumed objects", source=source, assumed=True)
