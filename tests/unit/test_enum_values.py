"""An enum value used in the migration that adds it (PostgreSQL: "unsafe use of new value"), found
before anything runs: in the spec (each object of the migration adding the value), in a plan (a
statement using a value the same plan adds), and the guard a type's recreation starts with. No
database here; tests/db/test_enum_evolution.py proves each premise on PostgreSQL."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import api, model as m, sql
from jarvis_schemagen.cli import main
from jarvis_schemagen.compare import compare
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.plan import plan
from jarvis_schemagen.spec.validate import enum_value_problems
from jarvis_schemagen.sqltext import string_literals, uses_value

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- the lexer


def test_string_literals_with_their_casts():
    text = ("(status = ANY (ARRAY['a'::shop.\"Order\", 'b''c'::mood[] ])) -- 'x'::mood\n"
            " and \"'y'\" = E'z\\'q' and $$ 'w' $$ and t.x='v' /* 'c' */ and 'd' :: Public . Mood")
    assert string_literals(text) == [("a", "shop.Order"), ("b'c", "mood[]"), ("z'q", None), ("v", None),
                                     ("d", "public.mood")]


@pytest.mark.parametrize("text, bare, found", [
    ("'meh'::public.mood", False, True),
    ("'meh'::mood", False, True),                      # bare name of a type in public
    ("'{sad,meh}'::public.mood[]", False, True),
    ("'meh'", False, False),                           # no cast: only where the caller says it counts
    ("'meh'", True, True),
    ("'{meh}'", True, True),
    ("'meh'::text", True, False),                      # cast to another type
    ("'mehx'::public.mood", False, False),
    ("'meh'::other.mood", False, False),
    ("-- 'meh'::public.mood", False, False),           # comments and dollar quotes are not constants
    ("$b$ select 'meh'::public.mood $b$", False, False),
    ("\"meh\" = 1", True, False),                      # a quoted identifier
])
def test_uses_value(text, bare, found):
    assert uses_value(text, "meh", {"public.mood", "mood"}, bare) is found


# ---------------------------------------------------------------- the spec

SPEC = """\
version: 1
migrations:
  "001": one
  "002": two
  "003": three
schemas:
  public: {assumed: true}
roles:
  authenticated: {assumed: true}
types:
  public.mood:
    migration: "001"
    enum: [happy, sad, {value: meh, migration: "002"}]
"""


def spec_problems(body: str) -> list[str]:
    try:
        api.load_spec_text(SPEC + textwrap.dedent(body), "s.yaml")
    except SpecError as e:
        return [str(p) for p in e.problems]
    return []


TABLE_002 = """\
tables:
  public.t:
    migration: "002"
    rls: true
    columns:
      id: {type: bigint, primary_key: true}
      m: {type: mood, nullable: false}
      label: {type: text}
"""


@pytest.mark.parametrize("extra, where", [
    ("      n: {type: mood, default: \"'meh'\"}\n", "the default of column public.t.n"),
    ("      ns: {type: \"mood[]\", default: \"'{meh}'\"}\n", "the default of column public.t.ns"),
    ("      x: {type: text, default: \"'meh'::public.mood::text\"}\n", "the default of column public.t.x"),
    ("    constraints:\n      t_m_check: {check: \"m <> 'meh'\"}\n", "constraint t_m_check on public.t"),
    ("    indexes:\n      t_m_idx: {columns: [id], where: \"m = 'meh'\"}\n", "index t_m_idx on public.t"),
    ("    policies:\n      p: {command: select, roles: [authenticated], using: \"m <> 'meh'\"}\n",
     "policy 'p' on public.t"),
    ("    seed:\n      - {id: 1, m: meh}\n", "a seed row of public.t (column m)"),
])
def test_a_use_in_the_migration_adding_the_value_is_an_error_naming_both_places(extra, where):
    found = spec_problems(TABLE_002 + extra)
    assert len(found) == 1, found
    assert where in found[0] and "(migration 002) uses enum value 'meh' of public.mood" in found[0]
    assert "the type is declared at s.yaml:11:3" in found[0]  # the other place
    assert "unsafe use of new value" in found[0] and "earlier migration of its own" in found[0]
    assert found[0].startswith("s.yaml:")


def test_uses_by_functions_views_domains_triggers_and_data():
    body = TABLE_002 + """\
    triggers:
      t_tr: {timing: before, events: [update], function: public.touch, when: "new.m = 'meh'"}
functions:
  public.touch: {migration: "002", returns: trigger, body: "begin return new; end;"}
  public.is_meh:
    migration: "002"
    arguments: [{name: p, type: mood, default: "'meh'"}]
    returns: boolean
    language: sql
    body: select p = 'meh'::public.mood
views:
  public.mehs: {migration: "002", query: "select id from public.t where m = 'meh'"}
data:
  fill: {migration: "002", sql: "update public.t set m = 'meh' where m = 'sad'"}
"""
    found = "\n".join(spec_problems(body))
    for where in ("trigger t_tr on public.t", "argument p of function public.is_meh",
                  "the body of function public.is_meh", "view public.mehs", "data statement fill"):
        assert where in found, found


@pytest.mark.parametrize("body", [
    # another migration: 003 runs after 002 committed the value
    TABLE_002.replace('migration: "002"', 'migration: "003"') + "      n: {type: mood, default: \"'meh'\"}\n",
    # a text column holding the same word, its check not naming a column of the type
    TABLE_002 + "    constraints:\n      t_label_check: {check: \"label <> 'meh'\"}\n",
    TABLE_002 + "      other: {type: text, default: \"'meh'\"}\n",
    # PL/pgSQL bodies are compiled when first run, not when created
    TABLE_002 + """\
functions:
  public.f:
    migration: "002"
    returns: integer
    body: "begin perform 'meh'::public.mood; return 1; end;"
""",
])
def test_no_false_positives(body):
    assert spec_problems(body) == []


@pytest.mark.parametrize("path", ["schema.yaml", "tests/fixtures/kitchen_sink/schema.yaml",
                                  "tests/fixtures/evolution/schema.yaml"])
def test_no_false_positives_on_the_project_specs(path):
    assert enum_value_problems(api.load_spec(ROOT / path)) == []


def test_render_and_validate_refuse_it_with_positions(tmp_path):
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC + TABLE_002 + "      n: {type: mood, default: \"'meh'\"}\n", encoding="utf-8")
    with pytest.raises(SpecError):
        api.render_to_dir(spec, tmp_path / "generated")
    assert not (tmp_path / "generated").exists()
    for args in (["validate"], ["render", "--out", str(tmp_path / "generated")]):
        r = CliRunner().invoke(main, args + ["--spec", str(spec)])
        assert r.exit_code == 1, r.output
        assert f"{spec}:22:7: the default of column public.t.n (migration 002) uses enum value 'meh'" in r.output
    assert not (tmp_path / "generated").exists()


# ---------------------------------------------------------------- a plan

MOOD = m.EnumType("public", "mood", ("happy", "sad"), migration="001")


def mood_table(default: str) -> m.Table:
    return m.Table("public", "t", migration="001", columns=(m.Column("m", "public.mood", default=default),))


def test_a_plan_using_a_value_it_adds_names_each_use():
    desired = m.Schema(types=(m.EnumType("public", "mood", ("happy", "sad", "meh"), migration="001"),),
                       tables=(mood_table("'meh'::public.mood"),))
    actual = m.Schema(types=(MOOD,), tables=(mood_table("'happy'::public.mood"),))
    p = plan(compare(desired, actual).changes, desired)
    uses = p.uses_of_added_enum_values()
    assert [(t, v, s.sql) for t, v, s in uses] == [
        ("public.mood", "meh", 'alter table "public"."t" alter column "m" set default \'meh\'::public.mood;')]


def test_a_plan_adding_a_value_without_using_it_is_fine():
    desired = m.Schema(types=(m.EnumType("public", "mood", ("happy", "sad", "meh"), migration="001"),),
                       tables=(mood_table("'sad'::public.mood"),))
    actual = m.Schema(types=(MOOD,), tables=(mood_table("'happy'::public.mood"),))
    assert plan(compare(desired, actual).changes, desired).uses_of_added_enum_values() == []


# ---------------------------------------------------------------- the recreation guard

def test_recreating_a_type_starts_with_the_dependents_guard():
    desired = m.Schema(types=(m.EnumType("public", "mood", ("sad", "happy"), migration="001"),),
                       tables=(mood_table("'happy'::public.mood"),))
    actual = m.Schema(types=(MOOD,), tables=(mood_table("'happy'::public.mood"),))
    text = plan(compare(desired, actual).changes, desired).sql()
    guard = text.index("cannot recreate type public.mood")
    assert guard < text.index('alter type "public"."mood" rename to')
    assert "values ('public', 't', 'm')" in text


def test_the_guard_quotes_every_name_as_a_literal():
    ty = m.EnumType("we'ird", 'mo"od', ("a",))
    text = sql.type_dependents_guard(ty, [("s'", "t\n", 'c"')])
    assert "n.nspname = 'we''ird' and t.typname = 'mo\"od'" in text
    assert "values ('s''', 't\n', 'c\"')" in text
    assert "cannot recreate type we''ird.mo\"od" in text
    assert sql.type_dependents_guard(ty, []).count("(null, null, null)") == 1
    domain = sql.type_dependents_guard(m.Domain("public", "email", "text"), [])
    assert "cannot recreate domain public.email" in domain
