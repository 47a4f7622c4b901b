"""schemagen apply / status on real PostgreSQL: once each, atomically, serialised, checksummed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import pg
from jarvis_schemagen.apply import LOCK_KEY
from jarvis_schemagen.cli import main

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
SPEC = ROOT / "schema.yaml"


def cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def ledger(url) -> list[tuple[str, str]]:
    with pg.connect(url) as conn:
        if not conn.execute("select to_regclass('schemagen.migrations') is not null").fetchone()[0]:
            return []
        return conn.execute("select version, name from schemagen.migrations order by version").fetchall()


def scalar(url, sql, *params):
    with pg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def write(d: Path, name: str, sql: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(sql)
    return d / name


# ---------------------------------------------------------------- the real migrations

def test_fresh_apply_then_status_then_noop(db):
    r = cli("apply", "--db", db, "--dir", GENERATED, "--spec", SPEC)
    assert r.exit_code == 0, r.output
    assert "5 applied, 0 already applied" in r.output
    assert [v for v, _ in ledger(db)] == ["001", "002", "003", "004", "005"]
    assert scalar(db, "select to_regprocedure('public.consume_conversation(uuid)') is not null")

    with pg.connect(db) as conn:  # whatever the server's or session's time zone: times in UTC
        conn.execute("alter database {} set timezone = 'America/Los_Angeles'".format(conn.info.dbname))
    r = cli("status", "--db", db, "--dir", GENERATED)
    assert r.exit_code == 0, r.output
    assert r.output.count("applied ") >= 5 and ": 5 applied" in r.output
    rows = [line for line in r.stdout.splitlines() if line.startswith("applied ")]
    assert len(rows) == 5 and len({line.index(" UTC  by ") for line in rows}) == 1  # aligned columns
    with pg.connect(db) as conn:
        utc = conn.execute("select to_char(applied_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
                           " from schemagen.migrations where version = '001'").fetchone()[0]
    assert re.search(rf"^applied +001_create_user_plans_table\.sql +{utc} UTC  by ", rows[0]), rows[0]

    with pg.connect(db) as conn:
        before = conn.execute("select version, checksum, applied_at from schemagen.migrations order by 1").fetchall()
    r = cli("apply", "--db", db, "--dir", GENERATED, "--spec", SPEC)
    assert r.exit_code == 0 and "0 applied, 5 already applied" in r.output
    with pg.connect(db) as conn:
        assert conn.execute("select version, checksum, applied_at from schemagen.migrations order by 1").fetchall() == before


def test_ledger_records_checksum_time_and_who(db, tmp_path):
    import hashlib

    r = cli("apply", "--db", db, "--dir", GENERATED, env={"SCHEMAGEN_APPLIED_BY": "ci-pipeline#42"})
    assert r.exit_code == 0, r.output
    with pg.connect(db) as conn:
        row = conn.execute("select name, checksum, applied_by, duration_ms >= 0, applied_at <= now(), db_user "
                           "from schemagen.migrations where version = '001'").fetchone()
        me = conn.info.user  # postgres on the throwaway cluster; whoever SCHEMAGEN_TEST_DATABASE_URL names
    sha = hashlib.sha256((GENERATED / "001_create_user_plans_table.sql").read_bytes()).hexdigest()
    assert row == ("create_user_plans_table", sha, "ci-pipeline#42", True, True, me)


def test_dry_run_changes_nothing(db):
    r = cli("apply", "--db", db, "--dir", GENERATED, "--dry-run")
    assert r.exit_code == 0, r.output
    assert f"would apply {GENERATED}/001_create_user_plans_table.sql" in r.output
    assert "5 to apply" in r.output
    assert scalar(db, "select to_regnamespace('schemagen') is null")
    assert scalar(db, "select to_regclass('public.user_plans') is null")


def test_status_json_and_exit_codes(db, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(GENERATED, d)
    r = cli("status", "--db", db, "--dir", d, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert doc["counts"] == {"applied": 0, "pending": 5, "changed": 0, "missing-file": 0}
    assert scalar(db, "select to_regnamespace('schemagen') is null")  # status creates nothing

    assert cli("apply", "--db", db, "--dir", d).exit_code == 0
    (d / "005_create_functions_and_triggers.sql").unlink()
    with open(d / "001_create_user_plans_table.sql", "a") as fh:
        fh.write("\n-- edited\n")
    r = cli("status", "--db", db, "--dir", d, "--format", "json")
    doc = json.loads(r.output)
    assert r.exit_code == 1
    states = {m["version"]: m["state"] for m in doc["migrations"]}
    assert states == {"001": "changed", "002": "applied", "003": "applied", "004": "applied", "005": "missing-file"}
    assert doc["ok"] is False and doc["version"] == 1


# ---------------------------------------------------------------- mechanics, on small files

def test_failed_migration_rolls_back_whole_and_rerun_continues(db, tmp_path):
    d = tmp_path / "m"
    write(d, "001_one.sql", "create table public.one (id int);\n")
    bad = write(d, "002_two.sql", "create table public.two (id int);\ninsert into public.two values (1);\n"
                                  "insert into public.two values ('not a number');\n")
    write(d, "003_three.sql", "create table public.three (id int);\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 2
    assert f"migration 002_two.sql failed and was rolled back: {bad}:3:" in r.output
    assert "invalid input syntax for type integer" in r.output and "insert into public.two values ('not a number');" in r.output
    assert [v for v, _ in ledger(db)] == ["001"]
    assert scalar(db, "select to_regclass('public.one') is not null")
    assert scalar(db, "select to_regclass('public.two') is null")  # created earlier in the failing file: gone
    assert scalar(db, "select to_regclass('public.three') is null")  # never reached
    # what this run committed before the failure is reported on stdout, like a successful run's
    assert r.stdout.startswith("applied 001_one.sql (") and "1 applied before the failure (committed)" in r.stdout
    assert "002_two.sql" not in r.stdout

    bad.write_text("create table public.two (id int);\ninsert into public.two values (1);\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 0, r.output
    assert "2 applied, 1 already applied" in r.output
    assert [v for v, _ in ledger(db)] == ["001", "002", "003"]


def test_runtime_errors_name_the_failing_statement(db, tmp_path):
    d = tmp_path / "m"
    f = write(d, "001_one.sql",
              "create table public.one (n int check (n > 0));\n"
              "-- a comment; with a semicolon\n"
              "insert into public.one values (1), (2);\n"
              "insert into public.one\n  values (-1);\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 2
    # no position from PostgreSQL for a check violation: the statement is found by counting results
    assert f"{f}:4:1: new row for relation \"one\" violates check constraint \"one_n_check\" (SQLSTATE 23514)" \
        in r.output
    assert "    4 | insert into public.one\n    5 |   values (-1);\n" in r.output
    assert "the statement that failed starts at 4:1" in r.output
    assert scalar(db, "select to_regclass('public.one') is null")

    f.write_text("create table public.one (n int);\n"
                 "do $body$\nbegin\n  insert into public.one values (1);\n  perform 1 / 0;\nend\n$body$;\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 2
    assert f"{f}:5:3: division by zero (SQLSTATE 22012)" in r.output  # the line inside the DO block
    assert "5 |   perform 1 / 0;" in r.output
    assert ledger(db) == [] and scalar(db, "select to_regclass('public.one') is null")


def test_the_lexer_splits_the_generated_files_as_the_server_does(db):
    """statement_spans must count statements exactly as PostgreSQL runs them (one result each)."""
    import psycopg

    from jarvis_schemagen.sqltext import statement_spans

    with psycopg.connect(db, autocommit=True) as conn, conn.transaction(force_rollback=True):
        for f in sorted(GENERATED.glob("*.sql")):
            text = f.read_text()
            cur = conn.cursor()
            cur.execute(text)  # each file after the ones before it
            results = 1
            while cur.nextset():
                results += 1
            spans = statement_spans(text)
            assert spans is not None and len(spans) == results, f.name
            assert all(text[b - 1] == ";" for a, b in spans), f.name


def test_changed_applied_file_is_refused_pointing_to_render_name(db, tmp_path):
    d = tmp_path / "m"
    f = write(d, "001_one.sql", "create table if not exists public.one (id int);\n")
    assert cli("apply", "--db", db, "--dir", d).exit_code == 0
    f.write_text("create table if not exists public.one (id int);\ncomment on table public.one is 'edited';\n")
    write(d, "002_two.sql", "create table public.two (id int);\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 1
    assert f"changed: {f}" in r.output and "schemagen render --name NAME" in r.output
    assert scalar(db, "select to_regclass('public.two') is null")  # nothing applied
    r = cli("apply", "--db", db, "--dir", d, "--dry-run")
    assert r.exit_code == 1 and "render --name" in r.output
    r = cli("apply", "--db", db, "--dir", d, "--allow-changed", "--spec", tmp_path / "absent.yaml")
    assert r.exit_code == 2 and "spec file not found" in r.output  # the override needs the spec to verify
    assert scalar(db, "select obj_description('public.one'::regclass)") is None  # never re-run


def test_another_migration_under_an_applied_id_is_named_as_such(db, tmp_path):
    """A database adopted with `schemagen inspect` that already had a ledger: its 001 is another
    migration, not an edit of 001_initial_schema.sql; the refusal says which one was applied."""
    d = tmp_path / "m"
    write(d, "001_create_user_plans_table.sql", "create table if not exists public.one (id int);\n")
    assert cli("apply", "--db", db, "--dir", d).exit_code == 0
    (d / "001_create_user_plans_table.sql").unlink()
    f = write(d, "001_initial_schema.sql", "create table if not exists public.one (id int, n int);\n")
    r = cli("apply", "--db", db, "--dir", d)
    assert r.exit_code == 1
    assert f"changed: {f} (another migration with id 001 was applied there, create_user_plans_table: " in r.output


def test_pending_file_sorting_before_an_applied_one_is_refused_naming_both(db, tmp_path):
    d = tmp_path / "m"
    write(d, "001_one.sql", "create table public.one (id int);\n")
    write(d, "003_three.sql", "create table public.three (id int);\n")
    assert cli("apply", "--db", db, "--dir", d).exit_code == 0
    write(d, "002_two.sql", "create table public.two (id int);\n")
    write(d, "004_four.sql", "create table public.four (id int);\n")
    for extra in ([], ["--dry-run"]):
        r = cli("apply", "--db", db, "--dir", d, *extra)
        assert r.exit_code == 1, r.output
        assert "out of order: 002_two.sql is not applied, but 003_three.sql" in r.output
    assert scalar(db, "select to_regclass('public.two') is null and to_regclass('public.four') is null")


def test_missing_prerequisites_are_listed_and_nothing_changes(empty_db):
    r = cli("apply", "--db", empty_db, "--dir", GENERATED, "--spec", SPEC)
    assert r.exit_code == 2
    for thing in ("schema auth", "table auth.users", "table public.conversations", "function auth.uid()"):
        assert f"missing: {thing}" in r.output
    assert "nothing was changed" in r.output
    assert scalar(empty_db, "select to_regnamespace('schemagen') is null")
    assert scalar(empty_db, "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                            "where n.nspname = 'public'") == 0


def test_missing_assumed_column_is_a_missing_prerequisite(db):
    with pg.connect(db) as conn:
        conn.execute("alter table public.conversations drop column updated_at")
    r = cli("apply", "--db", db, "--dir", GENERATED, "--spec", SPEC)
    assert r.exit_code == 2 and "missing: column public.conversations.updated_at" in r.output
    assert ledger(db) == []


@pytest.mark.parametrize("app", ["typical", "minimal with other defaults"])
def test_prerequisites_pass_on_any_apps_conversations_with_the_four_assumed_columns(db, app):
    """Whatever else the app's conversations has (a title, other columns, its own policies, defaults and
    constraint names), apply runs: the spec assumes only id, user_id, created_at, updated_at and RLS."""
    from jarvis import APP_CONVERSATIONS

    with pg.connect(db) as conn:
        if app == "typical":
            conn.execute(APP_CONVERSATIONS)
        else:
            conn.execute("alter table public.conversations alter column created_at set default clock_timestamp();"
                         "alter table public.conversations alter column id set default gen_random_uuid();"
                         "create policy \"own rows\" on public.conversations using (user_id = auth.uid())")
    r = cli("apply", "--db", db, "--dir", GENERATED, "--spec", SPEC)
    assert r.exit_code == 0, r.output
    assert [row[0] for row in ledger(db)] == ["001", "002", "003", "004", "005"]


def test_lock_timeout_is_reported_not_a_hang(db, tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    for f in sorted(GENERATED.glob("00[1-4]_*.sql")):
        shutil.copy(f, d / f.name)
    assert cli("apply", "--db", db, "--dir", d).exit_code == 0
    shutil.copy(GENERATED / "005_create_functions_and_triggers.sql", d)
    holder = pg.connect(db, autocommit=False)
    try:
        holder.execute("lock table public.user_plans in access exclusive mode")
        r = cli("apply", "--db", db, "--dir", d, "--lock-timeout", "0.3")
    finally:
        holder.rollback()
        holder.close()
    assert r.exit_code == 2
    assert "005_create_functions_and_triggers.sql failed and was rolled back" in r.output
    assert "lock timeout (0.3 s): another session holds a lock on public.user_plans (pid " in r.output
    assert "AccessExclusiveLock" in r.output and "55P03" in r.output and "raise --lock-timeout" in r.output
    # the statement that waited is named by file and line, and shown
    text = (d / "005_create_functions_and_triggers.sql").read_text()
    loc = re.search(r"005_create_functions_and_triggers\.sql:(\d+):1: canceling statement due to lock timeout",
                    r.output)
    assert loc, r.output
    statement = "\n".join(text.splitlines()[int(loc.group(1)) - 1:]).split(";")[0]
    assert statement.startswith("create or replace trigger") and 'on "public"."user_plans"' in statement
    assert f"{loc.group(1)} | create or replace trigger" in r.output
    assert f"{int(loc.group(1)) + 1} |     before update on \"public\".\"user_plans\"" in r.output
    assert [v for v, _ in ledger(db)] == ["001", "002", "003", "004"]
    assert cli("apply", "--db", db, "--dir", d).exit_code == 0  # and it goes through once the lock is gone


def test_waiting_for_another_apply_is_bounded_and_reported(db, tmp_path):
    d = tmp_path / "m"
    write(d, "001_one.sql", "select 1;\n")
    with pg.connect(db) as other:
        other.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        r = cli("apply", "--db", db, "--dir", d, "--wait-timeout", "0.5")
    assert r.exit_code == 2
    assert "waiting for another schemagen apply" in r.output and "gave up after 0.5 s" in r.output
    assert ledger(db) == []


def test_concurrent_applies_serialise_and_run_each_migration_once(db, tmp_path):
    d = tmp_path / "m"
    # not idempotent on purpose: a second run of any file would add a row or fail
    write(d, "001_counter.sql", "create table public.runs (file text);\ninsert into public.runs values ('001');\n"
                                "select pg_sleep(0.3);\n")
    write(d, "002_more.sql", "insert into public.runs values ('002');\nselect pg_sleep(0.2);\n")
    write(d, "003_last.sql", "insert into public.runs values ('003');\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = threading.Barrier(4)
    results = [None] * 4

    def run(i):
        start.wait()
        results[i] = subprocess.run([sys.executable, "-m", "jarvis_schemagen", "apply", "--db", db, "--dir", str(d)],
                                    capture_output=True, text=True, env=env, timeout=120)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.returncode for p in results] == [0, 0, 0, 0], [p.stderr for p in results]
    with pg.connect(db) as conn:
        assert conn.execute("select file, count(*) from public.runs group by 1 order by 1").fetchall() == \
            [("001", 1), ("002", 1), ("003", 1)]
    assert [v for v, _ in ledger(db)] == ["001", "002", "003"]
    assert sum("3 applied" in p.stdout for p in results) == 1
    assert sum("0 applied, 3 already applied" in p.stdout for p in results) == 3
    assert any("waiting for another schemagen apply" in p.stderr for p in results)


# ---------------------------------------------------------------- connection and usage errors

def test_unreachable_database_is_exit_2_without_password(tmp_path):
    url = "postgresql://deploy:hunter2pass@127.0.0.1:1/app"
    for args in (["apply", "--db", url, "--dir", GENERATED], ["status", "--db", url, "--dir", GENERATED]):
        r = cli(*args)
        assert r.exit_code == 2
        assert "hunter2pass" not in r.output and "postgresql://deploy:***@127.0.0.1:1/app" in r.output
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_database_errors_outside_a_migration_are_exit_2_without_traceback(db, tmp_path, pg_server):
    from psycopg.conninfo import make_conninfo

    role = "schemagen_nocreate_" + os.urandom(4).hex()
    password = os.urandom(12).hex()  # a server with password authentication asks for one
    with pg.connect(pg_server.url) as admin:
        admin.execute(f"create role {role} login password '{password}'")
    try:
        with pg.connect(db) as conn:
            conn.execute(f"revoke create on database {conn.info.dbname} from public")
        url = make_conninfo(db, user=role, password=password)
        d = tmp_path / "m"
        write(d, "001_one.sql", "select 1;\n")
        r = cli("apply", "--db", url, "--dir", d)  # may not create the ledger's schema
        assert r.exit_code == 2, r.output
        assert "permission denied for database" in r.output and "Traceback" not in r.output
        assert cli("apply", "--db", db, "--dir", d).exit_code == 0
        r = cli("status", "--db", url, "--dir", d)  # may not read the ledger
        assert r.exit_code == 2 and "permission denied for schema schemagen" in r.output, r.output
    finally:
        with pg.connect(db) as conn:
            conn.execute(f"drop owned by {role}")
        with pg.connect(pg_server.url) as admin:
            admin.execute(f"drop role {role}")


def test_database_url_fallback_and_missing_url(db):
    r = cli("status", "--dir", GENERATED, env={"DATABASE_URL": db})
    assert r.exit_code == 1 and "5 pending" in r.output
    r = cli("apply", "--dir", GENERATED, env={"DATABASE_URL": ""})
    assert r.exit_code == 2 and "pass --db URL or set DATABASE_URL" in r.output


def test_missing_migrations_directory(db, tmp_path):
    r = cli("apply", "--db", db, "--dir", tmp_path / "nope")
    assert r.exit_code == 2 and "migrations directory not found" in r.output


def test_a_failure_outside_a_migration_names_the_step_that_failed(db, tmp_path, pg_server):
    """Creating the ledger, taking the advisory lock, reading the ledger: the error says which one
    failed (not just PostgreSQL's words), exit 2, one line, the password masked."""
    from psycopg.conninfo import make_conninfo

    role = "schemagen_steps_" + os.urandom(4).hex()
    password = "Pw-" + os.urandom(8).hex()
    with pg.connect(pg_server.url) as admin:
        admin.execute(f"create role {role} login password '{password}'")
    try:
        with pg.connect(db) as conn:
            dbname = conn.info.dbname
            conn.execute(f"revoke create on database {dbname} from public")
        url = make_conninfo(db, user=role, password=password)
        d = tmp_path / "m"
        write(d, "001_one.sql", "select 1;\n")
        r = cli("apply", "--db", url, "--dir", d)
        assert r.exit_code == 2, r.output
        line = r.output.strip()
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert f"creating the ledger schemagen.migrations: permission denied for database {dbname}" in line, line
        assert "the role needs CREATE on the database" in line and password not in line and "password=***" in line
        r = cli("apply", "--db", url, "--dir", d, "--ledger", "supabase")
        assert r.exit_code == 2 and "creating the ledger supabase_migrations.schema_migrations: permission denied" \
            in r.output, r.output
        with pg.connect(db) as conn:  # the lock function itself refused: the lock step is named
            conn.execute("revoke execute on function pg_catalog.pg_try_advisory_lock(bigint) from public")
        r = cli("apply", "--db", url, "--dir", d)
        assert r.exit_code == 2, r.output
        assert f"taking the advisory lock {LOCK_KEY}" in r.output and "permission denied for function " \
            "pg_try_advisory_lock" in r.output and password not in r.output, r.output
        with pg.connect(db) as conn:
            conn.execute("grant execute on function pg_catalog.pg_try_advisory_lock(bigint) to public")
        assert cli("apply", "--db", db, "--dir", d).exit_code == 0
        r = cli("status", "--db", url, "--dir", d)
        assert r.exit_code == 2 and "reading the ledger schemagen.migrations: permission denied for schema " \
            "schemagen" in r.output and password not in r.output, r.output
    finally:
        with pg.connect(db) as conn:
            conn.execute(f"drop owned by {role}")
        with pg.connect(pg_server.url) as admin:
            admin.execute(f"drop role {role}")
