"""Mistakes a user makes on the command line: each is one line `schemagen: error: ...` with the
contract's exit code (2: could not do the work), never click's four-line usage block, a traceback,
or a password. Found by walking the README as a new user."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import shadow
from jarvis_schemagen.cli import main
from jarvis_schemagen.errors import DatabaseError, UsageError
from jarvis_schemagen.pg import connect

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> tuple[int, str, str]:
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
    r = runner.invoke(main, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("args, words", [
    (["diff", "--format", "xml"], ["'--format'", "'xml' is not one of", "`schemagen diff --help`"]),
    (["diff", "--nope"], ["no such option '--nope'", "`schemagen diff --help`"]),
    (["nosuch"], ["no such command 'nosuch'", "`schemagen --help`"]),
    (["--color", "bogus", "diff"], ["'--color'", "'bogus'"]),
    (["status", "--format", "yaml"], ["'yaml' is not one of"]),
    (["lint", "--fail-on", "bogus"], ["'bogus' is not one of"]),
    (["apply", "--lock-timeout", "abc"], ["'--lock-timeout'", "not a number of seconds"]),
    (["render", "--layout", "foo"], ["'--layout'"]),
])
def test_usage_mistakes_are_one_line_exit_2(args, words):
    code, out, err = _run(*args)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("schemagen: error: "), err
    assert "Usage:" not in err and "Try '" not in err
    for w in words:
        assert w in lines[0]


def test_paths_of_the_wrong_kind_are_one_line_exit_2(tmp_path):
    a_file = tmp_path / "schema.yaml"
    a_file.write_text("version: 1\n")
    for args, what in ((["validate", "--spec", str(tmp_path)], "is a directory"),
                       (["render", "--spec", str(a_file), "--out", str(a_file)], "is a file"),
                       (["init", str(a_file)], "is a file"),
                       (["schema-json", "-o", str(tmp_path)], "is a directory"),
                       (["apply", "--db", "postgresql://x/y", "--dir", str(a_file)], "is a file")):
        code, out, err = _run(*args)
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("schemagen: error: "), (args, err)
        assert what in err


def test_a_usage_error_never_shows_a_password():
    """A URL pasted into the wrong option comes back in click's message: masked."""
    code, _, err = _run("apply", "--lock-timeout", "postgresql://u:Sekr3tZ@h/db")
    assert code == 2 and "Sekr3tZ" not in err and "postgresql://u:***@h/db" in err


def test_help_and_version_still_exit_0():
    assert _run("--help")[0] == 0
    assert _run("diff", "--help")[0] == 0
    code, out, _ = _run("--version")
    assert code == 0 and out.startswith("schemagen, version ")


# ---------------------------------------------------------------- URLs libpq does not take

@pytest.mark.parametrize("url", [
    "mysql://admin:Sekr3tZ@127.0.0.1/app",
    "postgress://admin:Sekr3tZ@127.0.0.1/app",          # a typo of the scheme
    "POSTGRESQL://admin:Sekr3tZ@127.0.0.1/app",         # libpq's scheme is case-sensitive
    "postgresql+psycopg2://admin:Sekr3tZ@127.0.0.1/app",
])
def test_a_url_of_another_scheme_is_refused_without_its_password(url):
    with pytest.raises(DatabaseError) as exc:
        connect(url)
    msg = str(exc.value)
    assert "Sekr3tZ" not in msg and "not a PostgreSQL URL" in msg and "admin:***@127.0.0.1" in msg
    code, out, err = _run("status", "--db", url)  # the whole command: one line, exit 2, no password
    assert code == 2 and "Sekr3tZ" not in out + err and len(err.splitlines()) == 1


# ---------------------------------------------------------------- the shadow database's binaries

def test_no_shadow_names_a_schemagen_pg_bin_without_binaries(tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_PG_BIN", str(tmp_path))
    with pytest.raises(UsageError) as exc:
        shadow.shadow_major_version(None)
    msg = str(exc.value)
    assert f"SCHEMAGEN_PG_BIN={tmp_path} holds no PostgreSQL server binaries" in msg
    assert "--shadow-db URL" in msg and "set SCHEMAGEN_PG_BIN to their directory" not in msg


def test_a_throwaway_cluster_that_fails_to_start_says_why(tmp_path, monkeypatch):
    """Binaries found but initdb fails (disk full, no postgres OS user...): the error is initdb's, not
    "no binaries were found"."""
    for exe in ("initdb", "pg_ctl"):
        (tmp_path / exe).write_text("#!/bin/sh\necho 'initdb: error: could not create directory: "
                                    "No space left on device' >&2\nexit 1\n")
    (tmp_path / "postgres").write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 15.4'\n")
    for exe in ("initdb", "pg_ctl", "postgres"):
        (tmp_path / exe).chmod(0o755)
    monkeypatch.setenv("SCHEMAGEN_PG_BIN", str(tmp_path))
    with pytest.raises(UsageError) as exc:
        with shadow.ShadowServer(None):
            pass
    msg = str(exc.value)  # as root, runuser may be refused the temp dir: a reason too, still initdb's
    assert "initdb failed" in msg and "were found" not in msg and "\n" not in msg
    assert "No space left on device" in msg or "Permission denied" in msg


# ---------------------------------------------------------------- access --base

def test_access_base_that_does_not_exist_names_base_not_spec(tmp_path):
    code, _, err = _run("access", "--spec", str(ROOT / "schema.yaml"), "--base", str(tmp_path / "old.yaml"))
    assert code == 2 and err.startswith(f"schemagen: error: --base {tmp_path / 'old.yaml'}: no such spec file")
    assert "--spec" not in err


# ---------------------------------------------------------------- help

def test_every_command_help_says_its_exit_codes():
    for name, cmd in main.commands.items():
        code, out, _ = _run(name, "--help")
        assert code == 0 and "Exit 0" in " ".join(out.split()), name


def test_the_command_list_is_not_cut_short():
    _, out, _ = _run("--help")
    listing = out.split("Commands:")[1].split("Exit codes")[0]
    assert "..." not in listing
    for name in main.commands:
        assert f"  {name} " in listing


# ---------------------------------------------------------------- the real process: pipes, Ctrl-C

def _process(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jarvis_schemagen", *args], cwd=ROOT, **kw)


def test_output_to_a_closed_pipe_ends_quietly_with_exit_2():
    """`schemagen schema-json | head -c1`: the reader is gone; no "internal error", no traceback."""
    p = _process("schema-json", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # before the command writes: its write fails with EPIPE
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 2 and err == ""


def test_output_to_a_full_device_is_one_line_exit_2():
    if not os.path.exists("/dev/full"):
        pytest.fail("this test needs /dev/full (Linux)")
    with open("/dev/full", "w") as full:
        p = _process("schema-json", stdout=full, stderr=subprocess.PIPE)
        err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 2
    assert err == "schemagen: error: cannot write the output: No space left on device\n"


def test_ctrl_c_while_starting_up_is_one_line_exit_2(monkeypatch, capsys):
    """Ctrl-C while click and the CLI are imported (the first ~100 ms) goes through the same line
    as later on, not a KeyboardInterrupt traceback."""
    import builtins

    from jarvis_schemagen import __main__ as entry

    real_import = builtins.__import__

    def interrupted(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "cli" and level == 1 or name == "jarvis_schemagen.cli":
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as exc:
        entry.run()
    assert exc.value.code == 2 and capsys.readouterr().err == "schemagen: interrupted\n"


def test_ctrl_c_outside_a_command_is_exit_2_not_clicks_aborted(monkeypatch, capsys):
    """Ctrl-C while click parses the options: click alone would print "Aborted!" and exit 1, which
    CI reads as "found something"."""
    import click

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "make_context", interrupted)
    with pytest.raises(SystemExit) as exc:
        main.main(["validate"], prog_name="schemagen")
    assert exc.value.code == 2 and capsys.readouterr().err.endswith("schemagen: interrupted\n")


def test_the_installed_command_uses_the_interrupt_safe_entry_point():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'schemagen = "jarvis_schemagen.__main__:run"' in text


# ---------------------------------------------------------------- which database: no silent fallback

def test_an_empty_db_is_an_error_never_a_fallback_to_database_url(tmp_path):
    """`schemagen apply --db "$STAGING_URL"` with the variable unset must not deploy to $DATABASE_URL."""
    from jarvis_schemagen.settings import resolve_database

    for empty in ("", "  "):
        with pytest.raises(UsageError) as exc:
            resolve_database(empty, tmp_path, {"DATABASE_URL": "postgresql://prod/db"})
        assert "--db is empty" in str(exc.value)


def test_lint_and_access_with_an_empty_db_do_not_quietly_use_the_spec():
    for command in ("lint", "access"):
        code, out, err = _run(command, "--spec", str(ROOT / "schema.yaml"), "--db", "")
        assert code == 2 and out == "" and err.startswith("schemagen: error: --db is empty"), command


def test_an_unterminated_quote_in_env_local_is_named_not_skipped(tmp_path):
    """Skipping the line would fall through to .env (another database) without a word."""
    from jarvis_schemagen.settings import resolve_database

    (tmp_path / ".env.local").write_text("# local\nDATABASE_URL=\"postgresql://u:Sekr3tZ@prod/db\n")
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://localhost/dev\n")
    with pytest.raises(UsageError) as exc:
        resolve_database(None, tmp_path, {})
    msg = str(exc.value)
    assert msg == f"{tmp_path / '.env.local'}:2: the value of DATABASE_URL has an unterminated quote"


@pytest.mark.parametrize("url", [
    "host=127.0.0.1 port=1 user=admin pasword=Sekr3tZ",
    "host=127.0.0.1 port=1 user=admin passwd='Sek r3tZ' dbname=app",
    "postgresql://admin@127.0.0.1:1/app?pasword=Sekr3tZ&sslmode=disable",
])
def test_a_password_under_a_misspelled_keyword_is_masked(url):
    """libpq refuses `pasword=` naming only the keyword; the connection string we show held the value."""
    with pytest.raises(DatabaseError) as exc:
        connect(url)
    msg = str(exc.value)
    assert "Sekr3tZ" not in msg and "r3tZ" not in msg and "=***" in msg
    assert "host=127.0.0.1" in msg or "@127.0.0.1:1/app" in msg  # the rest stays readable


def test_the_debug_traceback_masks_passwords_too(monkeypatch):
    """--debug is for pasting into a bug report: its traceback showed the exception's raw text."""
    from jarvis_schemagen import api

    def boom(*a, **k):
        raise RuntimeError("boom at postgresql://u:Sekr3tZ@h/db and host=h password=Sekr3tZ\x1b[2J")

    monkeypatch.setattr(api, "load_spec", boom)
    code, out, err = _run("--debug", "validate")
    assert code == 2 and "Traceback (most recent call last)" in err and "RuntimeError: boom" in err
    assert "Sekr3tZ" not in out + err and "\x1b" not in err


def test_no_spec_here_points_a_new_user_at_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run("render")
    assert code == 2 and err == ("schemagen: error: spec file not found: schema.yaml (use --spec PATH, or start a "
                                 "project with `schemagen init`)\n")
