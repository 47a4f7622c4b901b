"""schemagen apply --verify: after applying, the database is diffed against the spec."""
from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from jarvis_schemagen.cli import main

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"
SPEC = ROOT / "schema.yaml"


@pytest.fixture
def run(pg_server, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path_factory.mktemp("verify-cache")))

    def _run(*args):
        return CliRunner().invoke(main, ["apply", *map(str, args), "--shadow-db", pg_server.url])

    return _run


def test_verify_passes_when_the_database_matches(db, run):
    result = run("--db", db, "--dir", GENERATED, "--spec", SPEC, "--verify")
    assert result.exit_code == 0, result.output
    assert "5 applied" in result.output and "verified: " in result.output and "matches" in result.output
    again = run("--db", db, "--dir", GENERATED, "--spec", SPEC, "--verify")
    assert again.exit_code == 0 and "0 applied, 5 already applied" in again.output and "verified: " in again.output


def test_verify_fails_listing_what_a_migration_left_different(db, run, tmp_path):
    files = tmp_path / "generated"
    shutil.copytree(GENERATED, files)
    path = files / "004_create_usage_events_table.sql"
    text = path.read_text()
    start = text.index('create policy "Users can view own usage events"')
    path.write_text(text[:start] + text[text.index(";", start) + 1:])
    result = run("--db", db, "--dir", files, "--spec", SPEC, "--verify")
    assert result.exit_code == 1, result.output
    assert "5 applied" in result.output
    assert 'policy "Users can view own usage events" on public.usage_events: missing from the database' \
        in result.output
    assert "verify failed" in result.output


def test_verify_fails_on_access_the_spec_does_not_give(db, run):
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('create policy "Everyone reads" on public.conversations for select to authenticated using (true)')
    result = run("--db", db, "--dir", GENERATED, "--spec", SPEC, "--verify")
    assert result.exit_code == 1, result.output
    assert "authenticated select on public.conversations" in result.output


def test_verify_needs_a_spec_and_a_real_apply(db, run, tmp_path):
    assert run("--db", db, "--dir", GENERATED, "--spec", SPEC, "--verify", "--dry-run").exit_code == 2
    missing = run("--db", db, "--dir", GENERATED, "--spec", tmp_path / "nope.yaml", "--verify")
    assert missing.exit_code == 2 and "schemagen: error: " in missing.output
