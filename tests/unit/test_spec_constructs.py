"""Enum types and views in the spec language: the model they load into, and every mistake with its position."""
from __future__ import annotations

import textwrap

import pytest

from jarvis_schemagen import api, model as m
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.plan import enum_additions, enum_is_extension

HEADER = """\
version: 1
migrations:
  "001": one
  "002": two
schemas:
  public: {assumed: true}
"""


def load(body: str) -> m.Schema:
    return api.load_spec_text(HEADER + textwrap.dedent(body), "s.yaml")


def problems(body: str) -> list[str]:
    with pytest.raises(SpecError) as exc:
        load(body)
    return [str(p) for p in exc.value.problems]


TABLE = """\
tables:
  public.t:
    migration: "001"
    columns:
      id: {type: bigint, primary_key: true}
      m: mood
      ms: "public.mood[]"
"""


def test_an_enum_type_by_bare_and_qualified_name():
    s = load("""\
types:
  public.mood: {migration: "001", enum: [happy, sad, {value: meh, migration: "002"}], comment: Feelings.}
""" + TABLE + """\
functions:
  public.f:
    migration: "001"
    arguments: [{name: p, type: Mood}]
    returns: setof mood
    body: select p
    language: sql
""")
    ty = s.type("public.mood")
    assert ty.values == ("happy", "sad", "meh") and ty.value_migrations == (("meh", "002"),)
    assert ty.comment == "Feelings." and ty.migration == "001"
    assert [c.type for c in s.table("public.t").columns] == ["bigint", "public.mood", "public.mood[]"]
    f = s.function("public.f")
    assert f.arguments[0].type == "public.mood" and f.returns == "setof public.mood"


@pytest.mark.parametrize("types, message", [
    ('public.mood: {migration: "001", enum: []}', "s.yaml:8:41: type public.mood needs at least one enum value"),
    ('public.mood: {migration: "001", enum: [a, a]}', "s.yaml:8:45: enum value 'a' is listed twice in type public.mood"),
    ('public.mood: {migration: "001", enum: [a], values: [b]}', "s.yaml:8:46: unknown key 'values' in type public.mood"),
    ('public.mood: {enum: [a]}', "s.yaml:8:3: type public.mood needs `migration: <id>` (the migration that creates it) "
                                 "or `assumed: true`"),
    ('public.mood: {migration: "002", enum: [a, {value: b, migration: "001"}]}',
     "s.yaml:8:67: enum value 'b' names migration 001, which is not later than the type's own (002); list it plainly"),
    ('public.mood: {migration: "001", enum: [a, {value: b}]}', "s.yaml:8:45: an enum value needs 'migration'"),
])
def test_enum_type_mistakes(types, message):
    found = problems("types:\n  " + types + "\n")
    assert any(p.startswith(message) for p in found), found


def test_a_column_of_a_type_created_later_is_refused_with_its_position():
    found = problems('types:\n  public.mood: {migration: "002", enum: [a]}\n' + TABLE)
    assert "s.yaml:14:7: column public.t.m (migration 001) has type public.mood, created later (migration 002)" in found


def test_an_undeclared_bare_type_is_still_unknown():
    found = problems(TABLE)
    assert any("s.yaml:12:10: unknown type 'mood'" in p for p in found), found


def test_views_load_in_file_order_with_their_grants():
    s = load(TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") + """\
views:
  public.z_first:
    migration: "001"
    security_invoker: true
    query: "select id from public.t;  "
    grants: [{grant: [select], to: [public]}]
  public.a_second: {migration: "002", materialized: true, query: select * from public.z_first}
""")
    assert [v.name for v in s.views] == ["z_first", "a_second"]
    v = s.views[0]
    assert v.query == "select id from public.t" and v.security_invoker and not v.security_barrier
    assert s.views[1].kind == "materialized view"
    assert [(g.on, g.object, g.action) for g in s.grants] == [("table", "public.z_first", "grant")]


@pytest.mark.parametrize("view, message", [
    ("public.v: {migration: '001'}", "s.yaml:13:13: view public.v needs 'query'"),
    ("public.v: {migration: '001', query: ' '}", "s.yaml:13:39: view public.v needs a query (select ...)"),
    ("public.v: {migration: '001', materialized: true, security_invoker: true, query: select 1}",
     "s.yaml:13:70: view public.v: security_invoker applies to views, not materialized views"),
    ("public.v: {migration: '001', query: select 1, security_invoker: yes}",
     "s.yaml:13:67: security_invoker must be true or false"),
    ("public.t: {migration: '001', query: select 1}", "s.yaml:13:3: view 't' clashes with table of the same name"),
    ("public.v: {migration: '001', query: select 1, grants: [{grant: [execute], to: [public]}]}",
     "s.yaml:13:66: 'execute' is not a privilege on a table"),
])
def test_view_mistakes(view, message):
    found = problems(TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") + "views:\n  " + view + "\n")
    assert any(p.startswith(message) for p in found), found


def test_enum_additions_keep_the_declared_order():
    assert enum_is_extension(("a", "c"), ("a", "b", "c", "d"))
    assert not enum_is_extension(("a", "c"), ("c", "a"))
    assert not enum_is_extension(("a", "b"), ("a",))
    assert enum_additions(("a", "c"), ("z", "a", "b", "c", "d")) == [
        ("z", None, "a"), ("b", "a", None), ("d", "c", None)]
