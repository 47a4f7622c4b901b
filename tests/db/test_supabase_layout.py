"""Supabase CLI interop: timestamp ids, the supabase/migrations layout, statement keys, and on real PostgreSQL
apply/status recording into supabase_migrations.schema_migrations shaped as the CLI creates it, agreeing
with rows the CLI wrote."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import api, pg
from jarvis_schemagen.cli import main
from jarvis_schemagen.errors import SpecError
from jarvis_schemagen.ledger import statements, statements_key
from jarvis_schemagen.scaffold import starter_spec_text


def timestamp_spec() -> str:
    text = starter_spec_text().replace('"001": create_profiles_table',
                                       '"20240101000001": create_profiles_table\n  20240102093000: add_profile_bio')
    text = text.replace('migration: "001"', 'migration: "20240101000001"')
    return text.replace("      display_name: {type: text,",
                        '      bio: {type: text, migration: "20240102093000"}\n      display_name: {type: text,')


def test_supabase_timestamp_ids_are_accepted_and_ordered():
    schema = api.load_spec_text(timestamp_spec(), "s.yaml")
    assert [mig.filename for mig in schema.migrations] == [
        "20240101000001_create_profiles_table.sql", "20240102093000_add_profile_bio.sql"]
    files = api.render_migrations(schema)
    assert "add column if not exists \"bio\"" in files["20240102093000_add_profile_bio.sql"]


@pytest.mark.parametrize("bad", ["2024010100000", "202401010000011", "x001"])
def test_other_ids_are_refused_with_both_forms_named(bad):
    text = starter_spec_text().replace('"001": create_profiles_table', f'"{bad}": create_profiles_table')
    with pytest.raises(SpecError) as exc:
        api.load_spec_text(text, "s.yaml")
    assert any(f"migration id '{bad}'" in str(p) and "14-digit timestamp" in str(p) for p in exc.value.problems)


def test_render_layout_supabase_writes_where_the_cli_looks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("schema.yaml").write_text(timestamp_spec())
    result = CliRunner().invoke(main, ["render", "--layout", "supabase"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in Path("supabase/migrations").iterdir()) == [
        "20240101000001_create_profiles_table.sql", "20240102093000_add_profile_bio.sql"]
    assert not Path("generated").exists()
    check = CliRunner().invoke(main, ["render", "--layout", "supabase", "--check"])
    assert check.exit_code == 0 and "supabase/migrations/: up to date (2 files)" in check.output
    assert CliRunner().invoke(main, ["render", "--check"]).exit_code == 1  # generated/ was never written


def test_statement_keys_agree_however_the_file_was_split():
    text = "-- header\n-- more\n\ncreate table t (a int);\n\n/* c */ comment on table t is 'x; y';\ncreate function f() returns int language sql as $$ select 1; $$;\n"
    ours = statements(text)
    assert ours == ["create table t (a int)", "comment on table t is 'x; y'",
                    "create function f() returns int language sql as $$ select 1; $$"]
    cli_like = ["-- header\n-- more\n\ncreate table t (a int);", "\n\n/* c */ comment on table t is 'x; y';",
                "\ncreate function f() returns int language sql as $$ select 1; $$;\n"]
    assert statements_key(cli_like) == statements_key(ours)
    assert statements_key(["create   table t\n(a int)", ours[1], ours[2]]) == statements_key(ours)
    assert statements_key(statements(text.replace("a int", "a bigint"))) != statements_key(ours)
    assert statements_key(None) == statements_key([])
# ---------------------------------------------------------------- on a database

# what `supabase db push` creates (recent CLIs add created_by and idempotency_key)
CLI_TABLE = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text;
alter table supabase_migrations.schema_migrations add column if not exists created_by text;
alter table supabase_migrations.schema_migrations add column if not exists idempotency_key text unique;
"""


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], env={v: None for v in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT",
                                                                 "PGDATABASE", "PGUSER", "PGSERVICE")})


def rows(db):
    with pg.connect(db) as conn:
        return conn.execute("select version, name, statements from supabase_migrations.schema_migrations "
                            "order by version").fetchall()


def test_apply_and_status_share_the_supabase_cli_history(db, pg_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path / "cache"))
    Path("schema.yaml").write_text(timestamp_spec())
    assert cli("render", "--layout", "supabase").exit_code == 0
    first, second = sorted(Path("supabase/migrations").iterdir())
    # the Supabase CLI ran the first file and recorded it its own way: comments kept, semicolons kept
    cli_statements = [part + ";" for part in first.read_text().split(";\n") if part.strip()]
    with pg.connect(db) as conn:
        conn.execute(CLI_TABLE)
        conn.execute(first.read_text())
        conn.execute("insert into supabase_migrations.schema_migrations (version, name, statements, created_by) "
                     "values ('20240101000001', 'create_profiles_table', %s, 'cli')", (cli_statements,))

    status = cli("status", "--layout", "supabase")
    assert status.exit_code == 2  # no database given: nothing in the environment
    status = cli("status", "--layout", "supabase", "--db", db)
    assert status.exit_code == 1, status.output
    assert "applied      20240101000001_create_profiles_table.sql" in status.output
    assert "pending      20240102093000_add_profile_bio.sql" in status.output

    applied = cli("apply", "--layout", "supabase", "--db", db)
    assert applied.exit_code == 0, applied.output
    assert "1 applied, 1 already applied" in applied.output
    got = rows(db)
    assert [(v, n) for v, n, _ in got] == [("20240101000001", "create_profiles_table"),
                                           ("20240102093000", "add_profile_bio")]
    assert got[0][2] == cli_statements  # the CLI's row is left as it was
    assert any('add column if not exists "bio"' in s for s in got[1][2]) and not got[1][2][-1].endswith(";")
    with pg.connect(db) as conn:
        assert conn.execute("select to_regclass('schemagen.migrations')").fetchone() == (None,)
        assert conn.execute("select count(*) from information_schema.columns where table_schema = 'public' "
                            "and table_name = 'profiles' and column_name = 'bio'").fetchone() == (1,)

    again = cli("apply", "--layout", "supabase", "--db", db)
    assert again.exit_code == 0 and "0 applied, 2 already applied" in again.output
    assert cli("status", "--layout", "supabase", "--db", db).exit_code == 0
    assert cli("diff", "--db", db, "--shadow-db", pg_server.url).exit_code == 0  # the CLI's table is not drift

    # an applied file that changed is refused, as with schemagen's own ledger
    second.write_text(second.read_text() + "\ncomment on table public.profiles is 'edited';\n")
    changed = cli("apply", "--layout", "supabase", "--db", db)
    assert changed.exit_code == 1 and f"changed: supabase/migrations/{second.name}" in changed.output
    st = cli("status", "--layout", "supabase", "--db", db)
    assert st.exit_code == 1 and "changed      20240102093000_add_profile_bio.sql" in st.output


def test_apply_creates_the_supabase_table_like_the_cli(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("schema.yaml").write_text(timestamp_spec())
    assert cli("render", "--layout", "supabase").exit_code == 0
    assert cli("apply", "--layout", "supabase", "--db", db).exit_code == 0
    with pg.connect(db) as conn:
        cols = conn.execute("select column_name, data_type from information_schema.columns where table_schema = "
                            "'supabase_migrations' and table_name = 'schema_migrations' order by ordinal_position"
                            ).fetchall()
        key = conn.execute("select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                           "and a.attnum = any(i.indkey) where i.indrelid = "
                           "'supabase_migrations.schema_migrations'::regclass and i.indisprimary").fetchall()
    assert cols == [("version", "text"), ("statements", "ARRAY"), ("name", "text")] and key == [("version",)]
    # --ledger overrides the layout: the same files recorded in schemagen's own ledger
    assert cli("apply", "--layout", "supabase", "--ledger", "schemagen", "--db", db).exit_code == 0
    with pg.connect(db) as conn:
        assert conn.execute("select count(*) from schemagen.migrations").fetchone() == (2,)


def test_a_non_numeric_version_in_the_cli_table_is_a_clear_error_not_a_crash(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("schema.yaml").write_text(timestamp_spec())
    assert cli("render", "--layout", "supabase").exit_code == 0
    with pg.connect(db) as conn:
        conn.execute(CLI_TABLE)
        conn.execute("insert into supabase_migrations.schema_migrations (version, name) values ('v1\x1b[2J', 'x')")
    for command in ("status", "apply"):
        result = cli(command, "--layout", "supabase", "--db", db)
        assert result.exit_code == 2, result.output
        assert "is not a migration number" in result.output and "internal error" not in result.output
        assert "\x1b" not in result.output
