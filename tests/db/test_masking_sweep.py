"""One sweep over every command (issue 12, item 4): each connection-string form carrying a known
password, on the success paths and the error paths of every command that takes a database;
the password must never appear on stdout, stderr, or in any file the command writes.

Commands are found from the CLI itself, so a command added later is swept too: any option
named ``--db`` or ``--shadow-db`` (or reading ``$DATABASE_URL``) gets the URL.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import click
import pytest
from click.testing import CliRunner

from jarvis_schemagen import pg
from jarvis_schemagen.cli import main

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
# the password, and pieces of it that must not show either (decoded, encoded, halves)
PASSWORD = "Hunter2!Sek@ret/x y"
FORBIDDEN = ["Hunter2", "Sek@ret", "Sek%40ret", "ret/x", "Hunter2%21"]


def forms(host: str, port: str, dbname: str) -> dict[str, str]:
    """Every connection-string form of the issue, for one server, with PASSWORD."""
    enc = quote(PASSWORD, safe="")
    h = quote(host, safe="")
    cq = PASSWORD.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "url percent-encoded": f"postgresql://postgres:{enc}@/{dbname}?host={h}&port={port}",
        "url driver suffix": f"postgresql+psycopg2://postgres:{enc}@/{dbname}?host={h}&port={port}",
        "url raw specials": f"postgresql://postgres:{PASSWORD}@/{dbname}?host={h}&port={port}",
        "url query password": f"postgresql://postgres@/{dbname}?host={h}&port={port}&password={enc}",
        "url query sslpassword": f"postgresql://postgres@/{dbname}?host={h}&port={port}&sslpassword={enc}",
        "conninfo quoted": f"host={host} port={port} dbname={dbname} user=postgres password='{cq}'",
        "conninfo unterminated": f"host={host} port={port} dbname={dbname} user=postgres password='{cq}",
        "conninfo double quotes": f'host={host} port={port} dbname={dbname} user=postgres password="{PASSWORD}"',
        "conninfo unquoted": f"host={host} port={port} dbname={dbname} user=postgres password={PASSWORD}",
        "conninfo sslpassword": f"host={host} port={port} dbname={dbname} user=postgres sslpassword='{cq}'",
        # user mistakes libpq refuses: its message names the keyword, ours showed the value
        "conninfo misspelled keyword": f"host={host} port={port} dbname={dbname} user=postgres pasword='{cq}'",
        "url misspelled query keyword": f"postgresql://postgres@/{dbname}?host={h}&port={port}&pasword={enc}",
        "url another scheme": f"mysql://postgres:{enc}@/{dbname}?host={h}&port={port}",
    }


def leaks(text: str) -> list[str]:
    return [f for f in FORBIDDEN if f in text]


def files_leaking(root: Path) -> list[str]:
    out = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            data = p.read_bytes().decode("utf-8", "replace")
            if leaks(data) or leaks(p.name):
                out.append(str(p))
    return out


def commands() -> dict[str, click.Command]:
    return dict(main.commands)


def url_options(cmd: click.Command) -> list[str]:
    out = []
    for p in cmd.params:
        if isinstance(p, click.Option) and (p.name in ("db", "shadow_db") or p.envvar == "DATABASE_URL"):
            out.append(p.opts[0])
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A working directory with the Jarvis spec and generated/, and a cache directory of its own."""
    shutil.copy(ROOT / "schema.yaml", tmp_path / "schema.yaml")
    shutil.copytree(ROOT / "generated", tmp_path / "generated")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def run(args: list[str], env: dict | None = None):
    runner = CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
    r = runner.invoke(main, args, env=env)
    out = r.stdout + (r.stderr if hasattr(r, "stderr") and r.stderr_bytes is not None else "")
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), (args, r.exception)
    return r.exit_code, out


def sweep(urls: dict[str, str], workdir: Path, extra: dict[str, list[list[str]]] | None = None) -> list[str]:
    """Run every command with every URL (as options and as $DATABASE_URL); the leaks found."""
    found = []
    for name, cmd in sorted(commands().items()):
        opts = url_options(cmd)
        variants = [[]] + (extra or {}).get(name, [])
        for label, url in urls.items():
            for more in variants:
                args = [name] + [x for o in opts for x in (o, url)] + more
                code, out = run(args, env={"DATABASE_URL": url})
                if leaks(out):
                    found.append(f"{label}: schemagen {' '.join(args[:1] + more)} (exit {code}): {out.strip()[:300]}")
    bad = files_leaking(workdir)
    return found + [f"file {f}" for f in bad]


def test_unreachable_server_every_form_every_command(workdir):
    urls = forms("schemagen.invalid", "5432", "app")
    assert not sweep(urls, workdir)


def test_unparseable_forms_every_command(workdir):
    urls = {
        "unknown option after a spaced password": f"host=h user=u password=Hunter2 Sek@ret/x=y dbname=app",
        "missing equals after a spaced password": "host=h user=u password=Hunter2 Sek@ret/x dbname=app",
        "unterminated quote": "host=h password='Hunter2!Sek@ret/x dbname=app",
        "url with a space": f"postgresql://u:{PASSWORD}@h/app",
        "url bad port": f"postgresql://u:{PASSWORD}@h:notaport/app",
    }
    assert not sweep(urls, workdir)


def test_reachable_server_success_and_error_paths(pg_server, workdir, template_db):
    """Against a real server (trust authentication: the password is sent and ignored), each form of
    URL on a fresh database: apply, status, diff (all formats, drift and no drift), a failing
    migration, a tampered ledger, a missing prerequisite."""
    parsed = urlparse(pg_server.url)
    q = parse_qs(parsed.query)
    if "host" not in q:
        pytest.skip("needs the throwaway cluster's unix socket (SCHEMAGEN_TEST_DATABASE_URL names another server)")
    host, port = q["host"][0], q.get("port", ["5432"])[0]
    failing = workdir / "failing"
    shutil.copytree(workdir / "generated", failing)
    (failing / "006_fail.sql").write_text("create table public.ok (x int);\nselect 1/0;\n")
    (failing / "007_later.sql").write_text("select 1;\n")
    nul = workdir / "nul"
    nul.mkdir()
    (nul / "001_x.sql").write_bytes(b"select 1;\x00")
    usable = {k: v for k, v in forms(host, port, "DBNAME").items()
              if k in ("url percent-encoded", "url query password", "conninfo quoted", "conninfo unquoted",
                       "conninfo double quotes", "conninfo sslpassword")}
    found = []
    for label, template in usable.items():
        name = f"schemagen_sweep_{abs(hash(label)) % 10**8}"
        pg.create_database(pg_server.url, name, template=template_db)
        try:
            url = template.replace("DBNAME", name)
            shadow = template.replace("DBNAME", "postgres")
            steps = [
                ["apply", "--db", url, "--dir", str(nul)],
                ["apply", "--db", url, "--dry-run"],
                ["apply", "--db", url],
                ["status", "--db", url],
                ["status", "--db", url, "--format", "json"],
                ["diff", "--db", url, "--shadow-db", shadow],
                ["diff", "--db", url, "--shadow-db", shadow, "--format", "json"],
                ["apply", "--db", url, "--dir", str(failing)],
            ]
            applied = None
            for args in steps:
                code, out = run(args)
                if args == ["apply", "--db", url]:
                    applied = code == 0
                if leaks(out):
                    found.append(f"{label}: {' '.join(args[:1] + args[3:])}: {out.strip()[:300]}")
            if not applied:  # a form libpq refuses: its error paths were swept above
                assert label in ("conninfo double quotes", "conninfo unquoted"), (label, out)
                continue
            with pg.connect(pg_server.url_for(name)) as conn:
                conn.execute("alter table public.user_plans add column leak_probe text")
                conn.execute("update schemagen.migrations set version = 'abc' where version = '003'")
            for args in (["diff", "--db", url, "--shadow-db", shadow, "--format", fmt] for fmt in ("text", "json", "sql")):
                code, out = run(args)
                if leaks(out):
                    found.append(f"{label}: drift {' '.join(args[-2:])}: {out.strip()[:300]}")
            for args in (["status", "--db", url], ["apply", "--db", url]):
                code, out = run(args)
                assert code == 2
                if leaks(out):
                    found.append(f"{label}: tampered ledger {args[0]}: {out.strip()[:300]}")
        finally:
            pg.drop_database(pg_server.url, name)
    # a database lacking what the spec assumes
    code, out = run(["apply", "--db", usable["url percent-encoded"].replace("DBNAME", "postgres"), "--dry-run"])
    assert code == 2
    if leaks(out):
        found.append(f"prerequisites: {out.strip()[:300]}")
    assert not found + [f"file {f}" for f in files_leaking(workdir)]
