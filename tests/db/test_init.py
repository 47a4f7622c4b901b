"""schemagen init: the starter project renders, applies to a Supabase-shaped database, and shows no drift."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from jarvis_schemagen import pg
from jarvis_schemagen.cli import main
from jarvis_schemagen.spec.schema_json import spec_json_schema_text


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_init_render_apply_diff(tmp_path, monkeypatch, db, pg_server):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    made = cli("init", "myapp")
    assert made.exit_code == 0, made.output
    assert "Next steps" in made.output and "cd myapp" in made.output
    app = tmp_path / "myapp"
    assert sorted(p.name for p in app.iterdir()) == ["generated", "schema.yaml", "schemagen.schema.json"]
    spec = (app / "schema.yaml").read_text()
    assert spec.startswith("# yaml-language-server: $schema=./schemagen.schema.json\n")
    assert (app / "schemagen.schema.json").read_text() == spec_json_schema_text()
    assert "(select auth.uid())" in spec

    monkeypatch.chdir(app)  # the Done-when: `schemagen init myapp && cd myapp && schemagen render`
    rendered = cli("render")
    assert rendered.exit_code == 0 and "0 written, 1 unchanged" in rendered.output, rendered.output
    assert cli("render", "--check").exit_code == 0
    sql = (app / "generated" / "001_create_profiles_table.sql").read_text()
    assert "auth" not in sql.split("references")[0]  # nothing is created in auth: it is assumed
    assert "create schema" not in sql and "create role" not in sql.lower()

    applied = cli("apply", "--db", db)  # with the spec's prerequisite check (schema.yaml is here)
    assert applied.exit_code == 0, applied.output
    assert "1 applied" in applied.output
    with pg.connect(db) as conn:
        rls = conn.execute("select relrowsecurity from pg_class where oid = 'public.profiles'::regclass").fetchone()
        policies = conn.execute("select count(*) from pg_policies where tablename = 'profiles'").fetchone()
    assert rls == (True,) and policies == (3,)

    drift = cli("diff", "--db", db, "--shadow-db", pg_server.url)
    assert drift.exit_code == 0, drift.output
    assert "No drift" in drift.output


def test_the_starter_policies_let_a_user_see_only_their_own_row(tmp_path, monkeypatch, db):
    monkeypatch.chdir(tmp_path)
    assert cli("init").exit_code == 0  # the working directory itself
    assert cli("apply", "--db", db).exit_code == 0
    me, other = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
    with pg.connect(db, autocommit=False) as conn:
        conn.execute("insert into auth.users (id) values (%s), (%s)", (me, other))
        conn.execute("insert into public.profiles (id, display_name) values (%s, 'me'), (%s, 'other')", (me, other))
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (f'{{"sub": "{me}"}}',))
        assert conn.execute("select display_name from public.profiles").fetchall() == [("me",)]
        assert conn.execute("update public.profiles set display_name = 'x'").rowcount == 1
        conn.rollback()
        conn.execute("set local role anon")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # revoked: not even an empty result
            conn.execute("select * from public.profiles")
        conn.rollback()


def test_init_refuses_to_overwrite(tmp_path):
    (tmp_path / "schema.yaml").write_text("mine\n")
    result = cli("init", tmp_path)
    assert result.exit_code == 2
    assert "not overwriting" in result.output and "schema.yaml" in result.output
    assert (tmp_path / "schema.yaml").read_text() == "mine\n"
    assert not (tmp_path / "schemagen.schema.json").exists() and not (tmp_path / "generated").exists()
    other = tmp_path / "other"
    (other / "generated").mkdir(parents=True)
    (other / "generated" / "001_mine.sql").write_text("select 1;\n")
    result = cli("init", other)
    assert result.exit_code == 2 and "generated" in result.output
    assert not (other / "schema.yaml").exists()


def test_init_into_an_empty_generated_directory_is_fine(tmp_path):
    (tmp_path / "generated").mkdir()
    assert cli("init", tmp_path).exit_code == 0
    assert Path(tmp_path / "generated" / "001_create_profiles_table.sql").is_file()
