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


# ---------------------------------------------------------------- publications, replica identity, seed rows

PUB_TABLES = """\
tables:
  public.a:
    migration: "002"
    columns: {id: {type: bigint, primary_key: true}, code: text}
  public.b:
    assumed: true
    columns: {id: {type: text, primary_key: true}}
"""


def test_publication_memberships_take_the_later_migration():
    s = load(PUB_TABLES.replace("    migration: \"002\"\n", "    migration: \"002\"\n    publication: [feed]\n", 1) + """\
publications:
  supabase_realtime: {assumed: true, tables: [public.a, {table: public.b, migration: "001"}]}
  feed: {migration: "001"}
""")
    pubs = {p.name: p for p in s.publications}
    assert pubs["supabase_realtime"].tables == ("public.a", "public.b")
    assert pubs["supabase_realtime"].table_migrations == (("public.a", "002"), ("public.b", "001"))
    assert pubs["feed"].table_migrations == (("public.a", "002"),) and pubs["feed"].migration == "001"


@pytest.mark.parametrize("extra, message", [
    ("publications:\n  p: {assumed: true, tables: [public.b]}\n",
     "s.yaml:15:31: adding the assumed table public.b to the assumed publication p needs the migration"),
    ("publications:\n  p: {assumed: true, tables: [public.nope]}\n",
     "s.yaml:15:31: publication p names unknown table public.nope"),
    ("publications:\n  p: {assumed: true, tables: [{table: public.a, migration: \"001\"}]}\n",
     "s.yaml:15:31: table public.a joins publication p in migration 001, before the table exists"),
    ("publications:\n  p: {tables: [public.a]}\n", "s.yaml:15:3: publication p needs `migration: <id>`"),
])
def test_publication_mistakes(extra, message):
    found = problems(PUB_TABLES + extra)
    assert any(p.startswith(message) for p in found), found


def test_a_table_naming_an_undeclared_publication():
    found = problems(PUB_TABLES.replace("    migration: \"002\"\n", "    migration: \"002\"\n    publication: realtime\n"))
    assert any(p.startswith("s.yaml:10:18: table public.a names publication 'realtime', which `publications:` "
                            "does not declare") for p in found), found


@pytest.mark.parametrize("value, expected", [("full", "full"), ("DEFAULT", None), ("nothing", "nothing"),
                                             ("using index a_code_key", "index a_code_key")])
def test_replica_identity_values(value, expected):
    body = PUB_TABLES.replace("code: text}", "code: {type: text, unique: true}}").replace(
        "    migration: \"002\"\n", f"    migration: \"002\"\n    replica_identity: {value}\n", 1)
    assert load(body).table("public.a").replica_identity == expected


@pytest.mark.parametrize("value, message", [
    ("sometimes", "s.yaml:10:23: replica_identity must be default, full, nothing or index <name>, not 'sometimes'"),
    ("index a_pkeyy", "s.yaml:8:3: table public.a: replica identity index a_pkeyy must be a unique, non-partial index "
                      "or a primary key/unique constraint of the table (did you mean 'a_pkey'?)"),
])
def test_replica_identity_mistakes(value, message):
    found = problems(PUB_TABLES.replace("    migration: \"002\"\n", f"    migration: \"002\"\n    replica_identity: {value}\n", 1))
    assert message in found, found


def test_seed_rows_load_as_literal_text():
    s = load(PUB_TABLES.replace(
        "    columns: {id: {type: bigint, primary_key: true}, code: text}\n",
        "    columns: {id: {type: bigint, primary_key: true}, code: text, data: jsonb}\n"
        "    seed:\n      - {id: 1, code: null, data: {b: 1, a: [x]}}\n      - {id: '2', code: it's}\n"))
    t = s.table("public.a")
    assert t.seed == ((("id", "1"), ("code", None), ("data", '{"a": ["x"], "b": 1}')), (("id", "2"), ("code", "it's")))
    assert t.seed_migration is None


@pytest.mark.parametrize("seed, message", [
    ("    seed: [{code: x}]\n", "s.yaml:11:12: seed row of public.a must give its key (id)"),
    ("    seed: [{id: 1, kode: x}]\n", "s.yaml:11:20: seed row names unknown column public.a.kode (did you mean 'code'?)"),
])
def test_seed_mistakes(seed, message):
    found = problems(PUB_TABLES.replace("code: text}\n", "code: text}\n" + seed, 1))
    assert any(p.startswith(message) for p in found), found


def test_seed_rows_of_an_assumed_table_need_a_migration_and_a_key():
    found = problems(PUB_TABLES + "    seed: [{id: a}]\n")
    assert any("seed rows of the assumed table public.b need the migration that inserts them" in p for p in found)
    found = problems(PUB_TABLES.replace("{id: {type: text, primary_key: true}}", "{id: text}") +
                     "    seed: {migration: \"002\", rows: [{id: a}]}\n")
    assert any("seed rows of public.b need a primary key or unique constraint" in p for p in found), found


# ---------------------------------------------------------------- returns table, trigger arguments, column grants,
# collations, exclusion constraints, overloads

def test_returns_table_becomes_postgresql_s_spelling_with_table_arguments():
    s = load("""\
functions:
  public.f:
    migration: "001"
    arguments: [{name: p, type: int}]
    returns: {table: {id: uuid, n: int8}}
    language: sql
    body: select null::uuid, p::bigint
""")
    f = s.function("public.f")
    assert f.returns == "TABLE(id uuid, n bigint)" and f.signature == "public.f(integer)"
    assert [(a.name, a.mode) for a in f.arguments] == [("p", "in"), ("id", "table"), ("n", "table")]


@pytest.mark.parametrize("body, message", [
    ("functions:\n  public.f: {migration: '001', returns: {table: {}}, body: x}\n",
     "s.yaml:8:49: returns.table needs at least one column"),
    ("functions:\n  public.f: {migration: '001', returns: {tabel: {a: int}}, body: x}\n",
     "s.yaml:8:42: unknown key 'tabel' in returns"),
    ("functions:\n  public.f(text): {migration: '001', returns: int, body: x}\n",
     "s.yaml:8:3: function public.f(text): the types in its name must be its argument types (none)"),
    (TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "      c: {type: text, collation: \"x y\"}\n"),
     "s.yaml:12:34: invalid collation name 'x y'"),
    (TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") + "    constraints:\n      t_x: {exclude: ''}\n",
     "s.yaml:13:22: constraint t_x: exclude needs its definition"),
    (TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") +
     "    grants: [{grant: [select], columns: [idd], to: [public]}]\n",
     "s.yaml:12:14: a grant names unknown column public.t.idd (did you mean 'id'?)"),
    (TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") +
     "    grants: [{grant: [delete], columns: [id], to: [public]}]\n",
     "s.yaml:12:22: 'delete' is not a privilege on a column"),
])
def test_more_construct_mistakes(body, message):
    found = problems(body)
    assert any(p.startswith(message) for p in found), found


def test_trigger_arguments_and_column_grants_load():
    s = load(TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") + """\
    triggers:
      tr: {timing: before, events: [update], function: public.fn, arguments: [a, "b c"]}
    grants: [{grant: [select, update], columns: [id], to: [public]}]
functions:
  public.fn: {migration: "001", returns: trigger, body: begin return new; end;}
""")
    assert s.table("public.t").triggers[0].arguments == ("a", "b c")
    assert [(g.on, g.object, g.privileges) for g in s.grants] == [("column", "public.t.id", ("select", "update"))]


def test_a_domain_loads_and_is_usable_bare_in_public():
    s = load("""\
types:
  public.positive: {migration: "001", domain: int, nullable: false, default: "1", check: value > 0}
  public.email: {migration: "001", domain: text, check: {email_at: "value ~ '@'"}}
""" + TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "      n: positive\n      e: \"email[]\"\n"))
    d = {x.name: x for x in s.domains}
    assert (d["positive"].type, d["positive"].nullable, d["positive"].default, d["positive"].checks) == (
        "integer", False, "1", (("positive_check", "value > 0"),))
    assert d["email"].checks == (("email_at", "value ~ '@'"),)
    assert [c.type for c in s.table("public.t").columns][1:] == ["public.positive", "public.email[]"]


@pytest.mark.parametrize("types, message", [
    ("public.x: {migration: '001', domain: text, enum: [a]}", "s.yaml:8:3: type public.x needs exactly one of"),
    ("public.x: {migration: '001'}", "s.yaml:8:3: type public.x needs exactly one of"),
    ("public.x: {migration: '001', enum: [a], check: value > 0}", "s.yaml:8:50: type public.x: check applies to a domain"),
    ("public.x: {migration: '001', domain: txt}", "s.yaml:8:40: unknown type 'txt'"),
])
def test_domain_mistakes(types, message):
    found = problems("types:\n  " + types + "\n")
    assert any(p.startswith(message) for p in found), found


def test_partitions_load_with_for_values_added():
    s = load(TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "").replace(
        "    migration: \"001\"\n", "    migration: \"001\"\n    partition_by: list (id)\n", 1) + """\
    partitions:
      public.t_a: in (1, 2)
      public.t_b: {bound: default, migration: "002"}
""")
    t = s.table("public.t")
    assert t.partition_by == "list (id)"
    assert [(p.name, p.bound, p.migration) for p in t.partitions] == [
        ("public.t_a", "for values in (1, 2)", None), ("public.t_b", "default", "002")]


@pytest.mark.parametrize("extra, message", [
    ("    partitions: {public.t_a: in (1)}\n", "s.yaml:12:17: table public.t has partitions but no `partition_by`"),
    ("    partition_by: list (id)\n    partitions: {public.t: default}\n",
     "s.yaml:13:18: partition 't' clashes with table of the same name in schema public"),
    ("    partition_by: list (id)\n    partitions: {public.t_a: ''}\n", "s.yaml:13:30: partition public.t_a needs its bound"),
])
def test_partition_mistakes(extra, message):
    found = problems(TABLE.replace("      m: mood\n      ms: \"public.mood[]\"\n", "") + extra)
    assert any(p.startswith(message) for p in found), found
