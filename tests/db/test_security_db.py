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
