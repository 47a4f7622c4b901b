"""Tables the Supabase platform provides, as far as scratch and shadow databases need them.

A spec may declare ``storage.objects`` or ``storage.buckets`` as assumed *without columns* (only
its policies, say). The assumed-objects SQL (scratch databases, diff's shadow) then creates the
platform's shape from here, so that policies naming ``bucket_id``, ``name`` or ``owner`` compile;
``diff`` compares only what the spec declares on such a table, never these columns.
"""
from __future__ import annotations

from . import model as m

_NOW = "now()"


def _c(name: str, type_: str, nullable: bool = True, default: str | None = None,
       generated: str | None = None) -> m.Column:
    return m.Column(name=name, type=type_, nullable=nullable, default=default, generated=generated, assumed=True)


_TABLES: dict[str, tuple[tuple[m.Column, ...], tuple[m.Constraint, ...]]] = {
    "storage.buckets": ((
        _c("id", "text", False), _c("name", "text", False), _c("owner", "uuid"),
        _c("created_at", "timestamp with time zone", default=_NOW),
        _c("updated_at", "timestamp with time zone", default=_NOW), _c("public", "boolean", default="false"),
        _c("avif_autodetection", "boolean", default="false"), _c("file_size_limit", "bigint"),
        _c("allowed_mime_types", "text[]"), _c("owner_id", "text"),
    ), (m.Constraint(name="buckets_pkey", kind="primary_key", columns=("id",), assumed=True),)),
    "storage.objects": ((
        _c("id", "uuid", False, "gen_random_uuid()"), _c("bucket_id", "text"), _c("name", "text"),
        _c("owner", "uuid"), _c("created_at", "timestamp with time zone", default=_NOW),
        _c("updated_at", "timestamp with time zone", default=_NOW),
        _c("last_accessed_at", "timestamp with time zone", default=_NOW), _c("metadata", "jsonb"),
        _c("path_tokens", "text[]", generated="string_to_array(name, '/'::text)"), _c("version", "text"),
        _c("owner_id", "text"), _c("user_metadata", "jsonb"),
    ), (m.Constraint(name="objects_pkey", kind="primary_key", columns=("id",), assumed=True),)),
}


def known(name: str) -> bool:
    return name in _TABLES


def shaped(t: m.Table) -> m.Table:
    """An assumed platform table declared without columns, with the platform's columns and key."""
    from dataclasses import replace

    if t.columns or not t.assumed or t.qualified_name not in _TABLES:
        return t
    columns, constraints = _TABLES[t.qualified_name]
    return replace(t, columns=columns, constraints=constraints + t.constraints)
