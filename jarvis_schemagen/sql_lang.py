"""Statement builders for enum types and views, shared by the templates (render) and plan.py.

Every identifier is quoted and every value is a literal; queries are the user's SQL (as for
``check`` and ``using``) or PostgreSQL's own deparsed text.
"""
from __future__ import annotations

from . import model as m
from .render import dollar_quote, quote_ident, quote_literal, quote_qualified


def enum_create(ty: m.EnumType, values: tuple[str, ...] | None = None) -> str:
    """``create type ... as enum (...)`` (not idempotent: see ``enum_create_idempotent``)."""
    vals = ty.values if values is None else values
    return f"create type {quote_qualified(ty.qualified_name)} as enum ({', '.join(quote_literal(v) for v in vals)});"


def enum_create_idempotent(ty: m.EnumType, values: tuple[str, ...]) -> str:
    """A DO block creating the type unless it exists (``create type`` has no ``if not exists``)."""
    body = f"\nbegin\n    {enum_create(ty, values)}\nexception when duplicate_object then\n    null;\nend\n"
    return f"do {dollar_quote(body, 'do')};"


def enum_add_value(type_name: str, value: str, after: str | None = None, before: str | None = None) -> str:
    """``alter type ... add value if not exists``: PostgreSQL 12+ runs it in a transaction block, but the
    new value cannot be used before that transaction commits."""
    where = f" after {quote_literal(after)}" if after is not None else f" before {quote_literal(before)}" \
        if before is not None else ""
    return f"alter type {quote_qualified(type_name)} add value if not exists {quote_literal(value)}{where};"


def enum_additions(existing: tuple[str, ...], desired: tuple[str, ...]) -> list[tuple[str, str | None, str | None]]:
    """(value, after, before) for each value of ``desired`` missing from ``existing``, placed after the
    nearest earlier value that exists by then (else before the nearest later one). Only meaningful when
    ``existing`` keeps ``desired``'s relative order (see ``enum_is_extension``)."""
    have = list(existing)
    out = []
    for i, value in enumerate(desired):
        if value in have:
            continue
        after = next((v for v in reversed(desired[:i]) if v in have), None)
        before = None if after is not None else next((v for v in desired[i + 1:] if v in have), None)
        out.append((value, after, before))
        have.insert(have.index(after) + 1 if after is not None else have.index(before) if before is not None
                    else len(have), value)
    return out


def enum_is_extension(existing: tuple[str, ...], desired: tuple[str, ...]) -> bool:
    """Whether ``desired`` only adds values to ``existing`` (same relative order, nothing removed)."""
    return [v for v in desired if v in existing] == list(existing)


def view_options(v: m.View) -> list[str]:
    opts = []
    if v.security_barrier:
        opts.append("security_barrier = true")
    if v.security_invoker:
        opts.append("security_invoker = true")
    return opts


def view_create(v: m.View, replace: bool = True) -> str:
    """``create or replace view`` / ``create materialized view [if not exists]``."""
    name = quote_qualified(v.qualified_name)
    if v.materialized:
        return f"create materialized view {'if not exists ' if replace else ''}{name} as\n{v.query}\nwith data;"
    opts = view_options(v)
    with_ = f" with ({', '.join(opts)})" if opts else ""
    return f"create {'or replace ' if replace else ''}view {name}{with_} as\n{_terminated(v.query)}"


def _terminated(query: str) -> str:
    """The query and its ``;``, on a line of its own when the last line ends in a ``--`` comment."""
    return query + ("\n;" if "--" in query.rsplit("\n", 1)[-1] else ";")


def view_set_options(v: m.View) -> str:
    """Set both options to the view's values (``create or replace view`` keeps options it does not name)."""
    return (f"alter view {quote_qualified(v.qualified_name)} set (security_barrier = "
            f"{'true' if v.security_barrier else 'false'}, security_invoker = {'true' if v.security_invoker else 'false'});")


def view_drop(v: m.View) -> str:
    return f"drop {v.kind} {quote_qualified(v.qualified_name)};"


def comment_on(kind: str, name: str, text: str | None) -> str:
    """``comment on type|view|materialized view``."""
    return f"comment on {kind} {quote_qualified(name)} is {'null' if text is None else quote_literal(text)};"


__all__ = ["enum_create", "enum_create_idempotent", "enum_add_value", "enum_additions", "enum_is_extension",
           "view_create", "view_set_options", "view_drop", "comment_on", "quote_ident"]
