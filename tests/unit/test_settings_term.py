"""Where the database comes from (--db, DATABASE_URL, .env.local/.env, PG*), and colour/progress on the terminal."""
from __future__ import annotations

import io
import time

import pytest
from click.testing import CliRunner

from jarvis_schemagen import term
from jarvis_schemagen.cli import main
from jarvis_schemagen.errors import UsageError
from jarvis_schemagen.scaffold import starter_spec_text
from jarvis_schemagen.settings import parse_env_file, resolve_database

PG_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGPASSWORD")


# ---------------------------------------------------------------- settings order

def test_db_option_wins_over_everything(tmp_path):
    (tmp_path / ".env.local").write_text("DATABASE_URL=postgresql://file/db\n")
    env = {"DATABASE_URL": "postgresql://env/db", "PGHOST": "pghost"}
    got = resolve_database("postgresql://flag/db", tmp_path, env)
    assert (got.url, got.source) == ("postgresql://flag/db", "--db")


def test_environment_variable_before_env_files(tmp_path):
    (tmp_path / ".env.local").write_text("DATABASE_URL=postgresql://file/db\n")
    got = resolve_database(None, tmp_path, {"DATABASE_URL": "postgresql://env/db"})
    assert (got.url, got.source) == ("postgresql://env/db", "$DATABASE_URL")


def test_env_local_before_env_before_pg_variables(tmp_path):
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://dotenv/db\n")
    assert resolve_database(None, tmp_path, {"PGHOST": "h"}).url == "postgresql://dotenv/db"
    (tmp_path / ".env.local").write_text("OTHER=1\nDATABASE_URL='postgresql://local/db'\n")
    got = resolve_database(None, tmp_path, {"PGHOST": "h"})
    assert (got.url, got.source) == ("postgresql://local/db", ".env.local")


def test_pg_variables_last_without_the_password(tmp_path):
    env = {"PGHOST": "/run/pg", "PGPORT": "5433", "PGDATABASE": "it's", "PGUSER": "me", "PGPASSWORD": "s3cret"}
    got = resolve_database(None, tmp_path, env)
    assert got.source == "PG* variables"
    assert got.url == "host='/run/pg' port='5433' dbname='it\\'s' user='me'"
    assert "s3cret" not in got.url  # libpq reads PGPASSWORD itself
    with pytest.raises(UsageError):
        resolve_database(None, tmp_path, {"PGPASSWORD": "alone says nothing"})


def test_no_database_lists_where_it_looked(tmp_path):
    with pytest.raises(UsageError) as exc:
        resolve_database(None, tmp_path, {})
    msg = str(exc.value)
    for place in ("--db", "$DATABASE_URL", str(tmp_path / ".env.local"), str(tmp_path / ".env"), "PGHOST", "PGSERVICE"):
        assert place in msg


def test_env_files_are_parsed_never_executed():
    text = "\n".join([
        "# a comment",
        "export DATABASE_URL=\"postgresql://u:p%40ss@h/db\"  # trailing comment",
        "A=plain value # comment",
        "B='single $(rm -rf /) ${HOME}'",
        "C=\"with \\\"escaped\\\" quote\"",
        "D=\"unterminated",
        "not a line",
        "E=",
    ])
    got = parse_env_file(text)
    assert got["DATABASE_URL"] == "postgresql://u:p%40ss@h/db"
    assert got["A"] == "plain value"
    assert got["B"] == "single $(rm -rf /) ${HOME}"
    assert got["C"] == 'with "escaped" quote'
    assert "D" not in got and got["E"] == ""


@pytest.mark.parametrize("command", [["diff"], ["apply"], ["status"]])
def test_every_db_command_reads_env_local_and_never_prints_the_password(command, tmp_path, monkeypatch):
    for var in PG_VARS + ("DATABASE_URL",):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schema.yaml").write_text(starter_spec_text())
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "001_x.sql").write_text("select 1;\n")
    (tmp_path / ".env.local").write_text("DATABASE_URL=postgresql://app:hunter2-pw@127.0.0.1:1/app\n")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    assert "hunter2-pw" not in result.output
    assert "postgresql://app:***@127.0.0.1:1/app" in result.output  # it tried the database of .env.local
    (tmp_path / ".env.local").unlink()
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2 and "no database given" in result.output and ".env.local" in result.output


# ---------------------------------------------------------------- colour

class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("mode,env,tty,expected", [
    ("auto", {}, True, True),
    ("auto", {}, False, False),
    ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"NO_COLOR": ""}, True, True),  # NO_COLOR counts only when non-empty
    ("auto", {"FORCE_COLOR": "1"}, False, True),
    ("auto", {"FORCE_COLOR": "0"}, False, False),
    ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ("auto", {"TERM": "dumb"}, True, False),
    ("always", {"NO_COLOR": "1", "TERM": "dumb"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_colour_decision(mode, env, tty, expected):
    assert term.use_color(_Tty() if tty else io.StringIO(), mode, env) is expected


def test_color_option_on_the_group_and_on_commands(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for args in (["--color", "always", "status"], ["status", "--color", "always"]):
        r = CliRunner().invoke(main, args, env={p: None for p in PG_VARS})
        assert "\x1b[31merror:\x1b[0m" in r.output, args
    r = CliRunner().invoke(main, ["status"], env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in r.output
    r = CliRunner().invoke(main, ["status"], env={"FORCE_COLOR": "1"})
    assert "\x1b[31merror:" in r.output


# ---------------------------------------------------------------- progress

def test_progress_appears_only_for_slow_work_and_is_cleared():
    calls = []
    term.set_reporter(lambda label, elapsed: calls.append((label, elapsed)))
    try:
        with term.progress("quick", delay=0.3):
            pass
        assert calls == []
        with term.progress("slow", delay=0.1):
            time.sleep(0.35)
        assert calls[0][0] == "slow" and calls[0][1] >= 0.1 and calls[-1] == ("slow", None)
    finally:
        term.set_reporter(None)


def test_progress_line_only_on_a_terminal():
    tty, pipe = _Tty(), io.StringIO()
    term.StderrProgress(tty)("building the shadow database", 2.4)
    term.StderrProgress(pipe)("building the shadow database", 2.4)
    assert "schemagen: building the shadow database… 2 s" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_no_reporter_no_output(capsys):
    term.set_reporter(None)
    with term.progress("x", delay=0):
        time.sleep(0.05)
    assert capsys.readouterr() == ("", "")
