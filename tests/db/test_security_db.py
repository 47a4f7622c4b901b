"""Security hardening (issue 12) on real PostgreSQL: the injection reproducers of the issue, run
end to end (validate, render, apply), must leave the canary table standing and create no role."""
from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import pg
from jarvis_schemagen.cli import main

pytestmark = pytest.mark.db

SPEC = """\
version: 1
migrations:
  "001": {name: create_t, comment: MIG_COMMENT}
roles:
  anon: {assumed: true}
schemas:
  public: {assumed: true}
tables:
  public.t:
    migration: "001"
    comment: TABLE_COMMENT
    rls: true
    columns:
      id: {type: bigint, primary_key: true}
"""


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def scalar(url, sql, *params):
    with pg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture
def victim_db(db):
    role = f"pwned_{uuid.uuid4().hex[:8]}"
    with pg.connect(db) as conn:
        conn.execute("create table public.victim (x int)")
    yield db, role
    with pg.connect(db) as conn:
        conn.execute(f'drop role if exists "{role}"')


def survived(url: str, role: str) -> bool:
    return (scalar(url, "select to_regclass('public.victim') is not null")
            and not scalar(url, "select exists (select from pg_roles where rolname = %s)", role))


def test_a_migration_comment_with_an_injected_statement_stays_a_comment(victim_db, tmp_path):
    url, role = victim_db
    comment = f"Creates t.\\ndrop table if exists public.victim; create role {role} superuser login password 'x'; --"
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("MIG_COMMENT", f'"{comment}"').replace("TABLE_COMMENT", "t"))
    assert cli("validate", "--spec", spec).exit_code == 0
    r = cli("render", "--spec", spec, "--out", tmp_path / "gen")
    assert r.exit_code == 0, r.output
    r = cli("apply", "--db", url, "--dir", tmp_path / "gen", "--spec", spec)
    assert r.exit_code == 0, r.output
    assert scalar(url, "select to_regclass('public.t') is not null")
    assert survived(url, role)


def test_a_spec_file_name_with_an_injected_statement_stays_a_comment(victim_db, tmp_path):
    url, role = victim_db
    spec = tmp_path / f"s.yaml\ndrop table if exists public.victim; create role {role}; --"
    spec.write_text(SPEC.replace("MIG_COMMENT", "c").replace("TABLE_COMMENT", "t"))
    r = cli("render", "--spec", spec, "--out", tmp_path / "gen")
    assert r.exit_code == 0, r.output
    r = cli("apply", "--db", url, "--dir", tmp_path / "gen", "--spec", spec)
    assert r.exit_code == 0, r.output
    assert survived(url, role)


def test_a_nul_in_a_migration_comment_is_refused_before_anything_runs(db, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("MIG_COMMENT", '"Creates the table.\\0"').replace("TABLE_COMMENT", "t"))
    r = cli("validate", "--spec", spec)
    assert r.exit_code == 1 and "NUL" in r.output, r.output
    r = cli("render", "--spec", spec, "--out", tmp_path / "gen")
    assert r.exit_code == 1 and not (tmp_path / "gen").exists()


def test_comments_with_backslashes_stay_literals_without_standard_conforming_strings(victim_db, tmp_path):
    url, role = victim_db
    dbname = scalar(url, "select current_database()")
    with pg.connect(url) as conn:
        conn.execute(f'alter database "{dbname}" set standard_conforming_strings = off')
        conn.execute(f'alter database "{dbname}" set escape_string_warning = off')
    text = f"a\\\\'; drop table public.victim; create role {role}; --"
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("MIG_COMMENT", "c").replace("TABLE_COMMENT", f'"{text}"'))
    assert cli("render", "--spec", spec, "--out", tmp_path / "gen").exit_code == 0
    r = cli("apply", "--db", url, "--dir", tmp_path / "gen", "--spec", spec)
    assert r.exit_code == 0, r.output
    assert survived(url, role)
    expected = f"a\\'; drop table public.victim; create role {role}; --"
    assert scalar(url, "select obj_description('public.t'::regclass, 'pg_class')") == expected


def test_a_top_level_grant_cannot_inject(victim_db, tmp_path):
    url, role = victim_db
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("MIG_COMMENT", "c").replace("TABLE_COMMENT", "t") + textwrap.dedent(f"""\
        grants:
          - on: "function pg_catalog.now() to anon; drop table if exists public.victim; create role {role}; --"
            migration: "001"
            grant: [execute]
            to: [anon]
        """))
    r = cli("render", "--spec", spec, "--out", tmp_path / "gen")
    assert r.exit_code == 1 and "`on` must be" in r.output or "in `on`" in r.output, r.output
    assert not (tmp_path / "gen").exists()
    assert survived(url, role)


def test_default_privilege_words_cannot_inject_into_assumed_sql(victim_db, tmp_path):
    url, role = victim_db
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("MIG_COMMENT", "c").replace("TABLE_COMMENT", "t").replace(
        "public: {assumed: true}",
        "public: {assumed: true, default_privileges: [{on: tables, to: [anon], grant: "
        f"['select on tables to anon; drop table public.victim; create role {role}; --']}}]}}"))
    r = cli("assumed-sql", "--spec", spec)
    assert r.exit_code == 1 and "is not a privilege on tables" in r.output, r.output
    assert "drop table" not in r.output.split("\n", 1)[0] or "schemagen" in r.output
    assert survived(url, role)


# ---------------------------------------------------------------- apply: checked state

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
JARVIS = ROOT / "schema.yaml"


def copy_generated(tmp_path) -> Path:
    import shutil

    d = tmp_path / "gen"
    shutil.copytree(GENERATED, d)
    return d


@pytest.fixture
def applied_db(db, tmp_path):
    r = cli("apply", "--db", db, "--dir", GENERATED, "--spec", JARVIS)
    assert r.exit_code == 0, r.output
    return db


@pytest.mark.parametrize("tamper, message", [
    ("alter table schemagen.migrations alter column applied_at type text", "applied_at is text"),
    ("alter table schemagen.migrations alter column applied_at drop not null;"
     " update schemagen.migrations set applied_at = null where version = '003'", "applied_at accepts NULL"),
    ("update schemagen.migrations set version = 'abc' where version = '003'", "version 'abc' is not a migration number"),
    ("alter table schemagen.migrations alter column version type integer using version::integer", "version is integer"),
    ("update schemagen.migrations set checksum = 'x' where version = '001'", "checksum of version 001"),
    ("alter table schemagen.migrations drop constraint migrations_pkey", "primary key"),
    ("alter table schemagen.migrations rename to m2; create view schemagen.migrations as select * from schemagen.m2",
     "not a table"),
])
@pytest.mark.parametrize("command", ["apply", "status", "apply --dry-run"])
def test_a_tampered_ledger_stops_everything_with_exit_2(applied_db, tamper, message, command):
    with pg.connect(applied_db) as conn:
        conn.execute(tamper)
    before = scalar(applied_db, "select count(*) from pg_class")
    args = command.split() + ["--db", applied_db, "--dir", GENERATED]
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert "was changed by hand" in r.output and message in r.output, r.output
    assert "Traceback" not in r.output
    assert scalar(applied_db, "select count(*) from pg_class") == before  # nothing was re-applied


@pytest.mark.parametrize("make", ["directory", "dangling symlink"])
def test_a_non_file_named_like_a_migration_is_an_error(db, tmp_path, make):
    d = copy_generated(tmp_path)
    target = d / "006_x.sql"
    if make == "directory":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "nowhere.sql")
    for args in (["apply"], ["status"], ["apply", "--dry-run"]):
        r = cli(*args, "--db", db, "--dir", d)
        assert r.exit_code == 2 and "006_x.sql is named like a migration file" in r.output, r.output


def test_apply_refuses_a_file_with_a_nul(db, tmp_path):
    d = copy_generated(tmp_path)
    (d / "006_nul.sql").write_bytes(b"create table public.nul_a (x int);\x00create table public.nul_b (x int);\n")
    for args in (["apply", "--dry-run"], ["apply"]):
        r = cli(*args, "--db", db, "--dir", d, "--spec", JARVIS)
        assert r.exit_code == 2 and "006_nul.sql:1:35: the file contains a NUL" in r.output, r.output
    assert scalar(db, "select to_regclass('schemagen.migrations') is null or not exists "
                      "(select from schemagen.migrations)")
    assert scalar(db, "select to_regclass('public.nul_a') is null")


@pytest.mark.parametrize("statement", ["commit;", "COMMIT work;", "end;", "rollback;", "begin;",
                                       "savepoint s;", "start transaction;", "abort;"])
def test_apply_refuses_a_file_with_transaction_control(db, tmp_path, statement):
    d = copy_generated(tmp_path)
    (d / "006_half.sql").write_text("-- commit; in a comment is fine\nselect 'commit;', $$ rollback; $$;\n"
                                    f"create table public.half_a (x int);\n{statement}\nselect 1/0;\n")
    r = cli("apply", "--db", db, "--dir", d, "--spec", JARVIS)
    assert r.exit_code == 2, r.output
    assert "006_half.sql:4:1: the file contains a transaction-control statement" in r.output, r.output
    assert scalar(db, "select to_regclass('public.half_a') is null")
    assert scalar(db, "select to_regclass('public.user_plans') is null")  # nothing at all was applied
