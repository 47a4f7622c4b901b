"""Two enum evolutions that used to fail late, on real PostgreSQL: each premise (what PostgreSQL does
without the check), the clear early answer, and the fix it suggests applied until `diff` finds nothing.

1. A value used in the transaction that adds it ("unsafe use of new value", SQLSTATE 55P04): in a spec
   migration (validate/render refuse it) and in a day-two change (`render --name` refuses it; `diff
   --format sql` commits the value first, before its transaction).
2. A type recreated (a value removed or reordered) while objects the spec does not cover use it: the
   plan's guard stops it first, naming them, instead of the final `drop type` failing with
   PostgreSQL's hint to add CASCADE (which would drop the app's column).
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from jarvis_schemagen import api, pg, shadow
from jarvis_schemagen.apply import MigrationFailed, apply
from jarvis_schemagen.cli import main
from jarvis_schemagen.diff import diff
from jarvis_schemagen.errors import DatabaseError, SpecError
from jarvis_schemagen.evolve import EnumValueUsedTooSoon
from jarvis_schemagen.report import format_sql, format_text
from jarvis_schemagen.spec.loader import load_text

pytestmark = pytest.mark.db

V1 = """\
version: 1
migrations:
  "001": base
schemas:
  public: {assumed: true}
types:
  public.mood:
    migration: "001"
    enum: [happy, sad]
tables:
  public.t:
    migration: "001"
    lint_ignore: {rls_disabled_in_public: a test table}
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      m: {type: mood, nullable: false, default: "'happy'"}
"""


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("enum-cache")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def query(url: str, sql: str):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchone()


def psql(url: str, sql: str) -> subprocess.CompletedProcess:
    """What `psql -f` does with `diff --format sql`: statement by statement, the transaction as written."""
    return subprocess.run([str(pg.find_pg_bin() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
                          input=sql, text=True, capture_output=True)


def no_drift(url: str, spec: Path, pg_server, cache_dir, strict: bool = True) -> None:
    report = diff(url, spec, shadow_url=pg_server.url, cache_dir=cache_dir, strict=strict)
    assert not report.drift, format_text(report)


# ---------------------------------------------------------------- 1a. in the spec

SAME_MIGRATION = V1.replace('"001": base', '"001": base\n  "002": more').replace(
    "enum: [happy, sad]", 'enum: [happy, sad, {value: meh, migration: "002"}]') + \
    "      n: {type: mood, migration: \"002\", default: \"'meh'\"}\n"
# the fix the message suggests: the value in an earlier migration of its own
OWN_MIGRATION = V1.replace('"001": base', '"001": base\n  "002": add_mood_meh\n  "003": more').replace(
    "enum: [happy, sad]", 'enum: [happy, sad, {value: meh, migration: "002"}]') + \
    "      n: {type: mood, migration: \"003\", default: \"'meh'\"}\n"


def test_a_spec_migration_using_the_value_it_adds_fails_at_apply_so_render_refuses_it(
        empty_db, tmp_path, pg_server, cache_dir):
    spec = write(tmp_path / "schema.yaml", SAME_MIGRATION)
    # the premise: rendered anyway (the loader alone does not check it), apply fails on 002
    schema, problems = load_text(spec.read_text(), str(spec))
    assert problems == []
    unchecked = tmp_path / "unchecked"
    unchecked.mkdir()
    for name, text in api.render_migrations(schema).items():
        (unchecked / name).write_text(text, encoding="utf-8")
    with pytest.raises(MigrationFailed) as failed:
        apply(empty_db, unchecked)
    assert "unsafe use of new value \"meh\" of enum type mood" in str(failed.value)
    assert query(empty_db, "select enum_range(null::public.mood)::text")[0] == "{happy,sad}"  # 002 rolled back

    # the check: render writes nothing, and says where the value is added and where it is used
    with pytest.raises(SpecError) as refused:
        api.render_to_dir(spec, tmp_path / "generated")
    [problem] = refused.value.problems
    assert str(problem).startswith(f"{spec}:18:7: the default of column public.t.n (migration 002) uses enum "
                                   f"value 'meh' of public.mood, which the same migration adds (the type is "
                                   f"declared at {spec}:8:3)")
    assert not (tmp_path / "generated").exists()

    # the fix it suggests renders, applies on the database where 002 failed, and converges
    fixed = write(tmp_path / "fixed" / "schema.yaml", OWN_MIGRATION)
    gen = tmp_path / "fixed" / "generated"
    assert api.render_to_dir(fixed, gen).written == ["001_base.sql", "002_add_mood_meh.sql", "003_more.sql"]
    assert (gen / "001_base.sql").read_bytes() == (unchecked / "001_base.sql").read_bytes()
    result = apply(empty_db, gen)
    assert [f.filename for f, _ in result.applied] == ["002_add_mood_meh.sql", "003_more.sql"]
    no_drift(empty_db, fixed, pg_server, cache_dir)


RELEASED_002 = SAME_MIGRATION.replace("default: \"'meh'\"", "default: \"'sad'\"")


def test_a_released_migration_is_checked_too_and_the_fix_works_there(empty_db, tmp_path, pg_server, cache_dir):
    """After 002 is released, its column's default changed to the value 002 adds: the change file would
    apply (002 committed the value), but `diff` builds the spec's state from every migration's own SQL,
    file by file, where 002 now fails. So it is refused too, and the fix (the value declared earlier)
    works on released migrations: their SQL only builds that state."""
    d = tmp_path / "project"
    spec, gen = write(d / "schema.yaml", RELEASED_002), d / "generated"
    api.render_to_dir(spec, gen)
    api.release(spec, gen)
    apply(empty_db, gen)

    write(spec, SAME_MIGRATION)
    # the premise: the spec's state, built as diff builds it (each migration file on its own), fails
    schema, _ = load_text(spec.read_text(), str(spec))
    with pytest.raises(DatabaseError) as failed:
        shadow.normalise(api.assumed_objects_sql(schema), api.render_migrations(schema), ["public"],
                         shadow_url=pg_server.url)
    assert "002_more.sql failed in the shadow database: unsafe use of new value" in str(failed.value)
    r = CliRunner().invoke(main, ["validate", "--spec", str(spec)])
    assert r.exit_code == 1 and "uses enum value 'meh' of public.mood, which the same migration adds" in r.output

    # the fix: the value declared by 001 (whose released file stays as it is)
    write(spec, SAME_MIGRATION.replace('enum: [happy, sad, {value: meh, migration: "002"}]', "enum: [happy, sad, meh]"))
    report = api.render_to_dir(spec, gen, name="default_meh", shadow_url=pg_server.url, cache_dir=cache_dir)
    assert report.written == ["003_default_meh.sql"]
    assert "set default 'meh'::public.mood" in (gen / "003_default_meh.sql").read_text()
    apply(empty_db, gen)
    no_drift(empty_db, spec, pg_server, cache_dir)


# ---------------------------------------------------------------- 1b. day two: render --name, diff --format sql

@pytest.fixture
def released(tmp_path, empty_db) -> tuple[Path, str]:
    """A project whose V1 files are released and applied, with a row."""
    d = tmp_path / "project"
    spec = write(d / "schema.yaml", V1)
    api.render_to_dir(spec, d / "generated")
    api.release(spec, d / "generated")
    apply(empty_db, d / "generated")
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("insert into public.t (m) values ('sad')")
    return d, empty_db


ADD_AND_USE = V1.replace("enum: [happy, sad]", "enum: [happy, sad, meh]").replace("'happy'", "'meh'")


def test_render_name_refuses_a_change_adding_a_value_and_using_it(released, pg_server, cache_dir):
    d, url = released
    spec, gen = d / "schema.yaml", d / "generated"
    write(spec, ADD_AND_USE)
    before = {p.name: p.read_bytes() for p in gen.iterdir()}

    # the premise: the planned statements, run as apply runs a file (one transaction), fail
    report = diff(url, spec, shadow_url=pg_server.url, cache_dir=cache_dir)
    as_one_file = report.plan.sql(transaction=False)
    assert as_one_file.index("add value if not exists 'meh'") < as_one_file.index("set default 'meh'::public.mood")
    unchecked = d / "unchecked"
    shutil.copytree(gen, unchecked)
    (unchecked / "002_use_meh.sql").write_text(as_one_file, encoding="utf-8")
    with pytest.raises(MigrationFailed) as failed:
        apply(url, unchecked)
    assert "unsafe use of new value \"meh\"" in str(failed.value)

    # the check: exit 1, the statement named, the two-step fix spelled out, nothing written
    r = CliRunner().invoke(main, ["render", "--spec", str(spec), "--out", str(gen), "--name", "use_meh",
                                  "--shadow-db", pg_server.url])
    assert r.exit_code == 1, r.output
    assert "the change adds enum value 'meh' to public.mood and uses it in the same migration:" in r.output
    assert "alter table \"public\".\"t\" alter column \"m\" set default 'meh'::public.mood;" in r.output
    assert "`schemagen render --name add_mood_meh` (the file 002_add_mood_meh.sql adds the value)" in r.output
    assert {p.name: p.read_bytes() for p in gen.iterdir()} == before
    with pytest.raises(EnumValueUsedTooSoon):  # also a plain render (which lists what no migration captures)
        api.render_to_dir(spec, gen, shadow_url=pg_server.url, cache_dir=cache_dir)

    # the fix it suggests: the value alone, released; then the use
    write(spec, V1.replace("enum: [happy, sad]", "enum: [happy, sad, meh]"))
    assert api.render_to_dir(spec, gen, name="add_mood_meh", shadow_url=pg_server.url,
                             cache_dir=cache_dir).written == ["002_add_mood_meh.sql"]
    api.release(spec, gen, shadow_url=pg_server.url, cache_dir=cache_dir)
    write(spec, ADD_AND_USE)
    assert api.render_to_dir(spec, gen, name="use_meh", shadow_url=pg_server.url,
                             cache_dir=cache_dir).written == ["003_use_meh.sql"]
    assert api.render_to_dir(spec, gen, check=True, shadow_url=pg_server.url, cache_dir=cache_dir).ok
    result = apply(url, gen)
    assert [f.filename for f, _ in result.applied] == ["002_add_mood_meh.sql", "003_use_meh.sql"]
    no_drift(url, spec, pg_server, cache_dir)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("insert into public.t default values")
        assert conn.execute("select array_agg(m::text order by id) from public.t").fetchone()[0] == ["sad", "meh"]


def test_diff_sql_commits_the_new_value_before_the_transaction_using_it(released, pg_server, cache_dir):
    d, url = released
    spec = write(d / "schema.yaml", ADD_AND_USE)
    report = diff(url, spec, shadow_url=pg_server.url, cache_dir=cache_dir)
    assert [u[:2] for u in report.plan.uses_of_added_enum_values()] == [("public.mood", "meh")]
    # the premise: in one transaction it fails (`psql -1` runs the statements as one)
    single = subprocess.run([str(pg.find_pg_bin() / "psql"), "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", url],
                            input=report.plan.sql(transaction=False), text=True, capture_output=True)
    assert single.returncode != 0 and "unsafe use of new value" in single.stderr
    # the split output, as `psql -f` runs it, converges
    sql = format_sql(report)
    assert sql.index("add value if not exists 'meh'") < sql.index("begin;")
    done = psql(url, sql)
    assert done.returncode == 0, done.stderr
    no_drift(url, spec, pg_server, cache_dir)


# ---------------------------------------------------------------- 2. recreating a type others use

APP_OBJECTS = """
create schema "app ""x";
create table "app ""x".orders (id int, mood public.mood, moods public.mood[]);
insert into "app ""x".orders values (1, 'sad', '{happy}');
create function "app ""x".cheer(p public.mood) returns boolean language sql as $$ select p = 'happy' $$;
"""
REORDERED = V1.replace("enum: [happy, sad]", "enum: [sad, happy]")


def test_recreating_a_type_an_app_object_uses_stops_first_naming_them(released, pg_server, cache_dir):
    d, url = released
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(APP_OBJECTS)
    spec = write(d / "schema.yaml", REORDERED)
    report = diff(url, spec, shadow_url=pg_server.url, cache_dir=cache_dir)
    sql = format_sql(report)

    # the premise: without the guard, the last statement fails, PostgreSQL hinting at CASCADE
    guard = next(s.sql for s in report.plan.statements if "cannot recreate type" in s.sql)
    bare = psql(url, sql.replace(guard + "\n", ""))
    assert bare.returncode != 0
    assert "cannot drop type public.mood__schemagen_old because other objects depend on it" in bare.stderr
    assert "DROP ... CASCADE" in bare.stderr

    # with it: stopped before the rename, every such object named, the safe way out in the hint
    done = psql(url, sql)
    assert done.returncode != 0
    assert ('cannot recreate type public.mood: objects the spec does not cover use it: column mood of table '
            '"app ""x".orders, column moods of table "app ""x".orders, function "app ""x".cheer(public.mood)'
            ) in done.stderr
    assert "do not drop the old type with CASCADE" in done.stderr
    assert query(url, "select enum_range(null::public.mood)::text")[0] == "{happy,sad}"  # rolled back

    # render --name: the same guard in the change file, stopping apply
    gen = d / "generated"
    assert api.render_to_dir(spec, gen, name="reorder", allow_destructive=True, shadow_url=pg_server.url,
                             cache_dir=cache_dir).written == ["002_reorder.sql"]
    with pytest.raises(MigrationFailed) as failed:
        apply(url, gen)
    assert "objects the spec does not cover use it: column mood of table" in str(failed.value)

    # moved off the type (what the hint says), the same file applies and converges
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('alter table "app ""x".orders alter column mood type text, alter column moods type text[];'
                     'drop function "app ""x".cheer(public.mood)')
    apply(url, gen)
    no_drift(url, spec, pg_server, cache_dir, strict=False)  # the app's schema is not the spec's
    assert query(url, "select enum_range(null::public.mood)::text, (select m::text from public.t)") == \
        ("{sad,happy}", "sad")
    assert query(url, 'select mood, moods::text from "app ""x".orders') == ("sad", "{happy}")


SPEC_USERS = """\
version: 1
migrations:
  "001": base
schemas:
  public: {assumed: true}
roles:
  authenticated: {assumed: true}
types:
  public.mood:
    migration: "001"
    enum: [happy, sad, meh]
tables:
  public.t:
    migration: "001"
    rls: true
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      m: {type: mood, nullable: false, default: "'happy'", check: "m <> 'meh'"}
      ms: {type: "mood[]"}
    indexes:
      t_sad_idx: {columns: [id], where: "m = 'sad'"}
      t_happy_idx: {columns: ["(m = 'happy'::mood)"]}
    policies:
      p: {command: select, roles: [authenticated], using: "m = 'happy'"}
    triggers:
      t_tr: {timing: before, events: [update], function: public.touch, when: "new.m = 'sad'"}
functions:
  public.touch: {migration: "001", returns: trigger, body: "begin return new; end;"}
  public.is_happy:
    migration: "001"
    arguments: [{name: p, type: mood}]
    returns: boolean
    language: sql
    body: select p = 'happy'::public.mood
"""


def test_recreating_a_type_the_specs_own_expressions_use_converges(empty_db, tmp_path, pg_server, cache_dir):
    """The guard passes what the plan handles itself, and the plan rebuilds the check, the indexes and the
    trigger whose expressions name the type (PostgreSQL would rebuild them against the new type and find
    no `new = old` operator, or refuse the trigger's column)."""
    spec = write(tmp_path / "v1.yaml", SPEC_USERS)
    schema = api.load_spec(spec)
    with psycopg.connect(empty_db, autocommit=False) as conn:
        conn.execute(api.assumed_objects_sql(schema))
        for text in api.render_migrations(schema).values():
            conn.execute(text)
        conn.execute("insert into public.t (m, ms) values ('sad', '{happy,meh}')")
        conn.commit()
    reordered = write(tmp_path / "v2.yaml", SPEC_USERS.replace("enum: [happy, sad, meh]", "enum: [sad, happy, meh]"))
    report = diff(empty_db, reordered, shadow_url=pg_server.url, cache_dir=cache_dir)
    assert [c.kind for c in report.changes] == ["type"]
    done = psql(empty_db, format_sql(report))
    assert done.returncode == 0, done.stderr
    no_drift(empty_db, reordered, pg_server, cache_dir)
    assert query(empty_db, "select m::text, ms::text from public.t") == ("sad", "{happy,meh}")


DOMAIN = """\
version: 1
migrations:
  "001": base
schemas:
  public: {assumed: true}
types:
  public.positive: {migration: "001", domain: integer, check: "value > 0"}
tables:
  public.counts:
    migration: "001"
    lint_ignore: {rls_disabled_in_public: a test table}
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      n: {type: positive}
"""


def test_recreating_a_domain_an_app_table_uses_stops_first_naming_it(empty_db, tmp_path, pg_server, cache_dir):
    spec = write(tmp_path / "v1.yaml", DOMAIN)
    schema = api.load_spec(spec)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        for text in api.render_migrations(schema).values():
            conn.execute(text)
        conn.execute("create table public.app_stock (qty public.positive); insert into public.app_stock values (3)")
    wider = write(tmp_path / "v2.yaml", DOMAIN.replace("domain: integer", "domain: bigint"))
    report = diff(empty_db, wider, shadow_url=pg_server.url, cache_dir=cache_dir)
    done = psql(empty_db, format_sql(report))
    assert done.returncode != 0
    assert ("cannot recreate domain public.positive: objects the spec does not cover use it: "
            "column qty of table public.app_stock") in done.stderr
    assert query(empty_db, "select qty from public.app_stock") == (3,)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        conn.execute("alter table public.app_stock alter column qty type integer")
    done = psql(empty_db, format_sql(report))
    assert done.returncode == 0, done.stderr
    no_drift(empty_db, wider, pg_server, cache_dir, strict=False)
