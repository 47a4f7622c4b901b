"""Slow work announces itself through term.progress: each migration apply runs, a cold diff's shadow build."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from jarvis_schemagen import term
from jarvis_schemagen.apply import apply
from jarvis_schemagen.cli import main
from jarvis_schemagen.diff import diff

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def reported(monkeypatch):
    calls: list[tuple[str, float | None]] = []
    monkeypatch.setattr(term, "PROGRESS_DELAY", 0.0)  # announce everything, however quick
    term.set_reporter(lambda label, elapsed: calls.append((label, elapsed)))
    yield calls
    term.set_reporter(None)


def test_apply_and_cold_diff_announce_their_slow_parts(reported, db, pg_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEMAGEN_CACHE_DIR", str(tmp_path))
    apply(db, ROOT / "generated")
    labels = [label for label, _ in reported]
    assert "applying 001_create_user_plans_table.sql" in labels and "applying 005_create_functions_and_triggers.sql" in labels
    assert reported[-1][1] is None  # each line is cleared when its work ends
    reported.clear()
    diff(db, ROOT / "schema.yaml", shadow_url=pg_server.url, use_cache=False)
    assert any(label.startswith("building the shadow database") for label, _ in reported)


def test_no_progress_text_when_stderr_is_not_a_terminal(db, monkeypatch):
    monkeypatch.setattr(term, "PROGRESS_DELAY", 0.0)
    result = CliRunner().invoke(main, ["apply", "--db", db, "--dir", str(ROOT / "generated")])
    assert result.exit_code == 0, result.output
    assert "\x1b[2K" not in result.output and "…" not in result.output.replace("waiting for another", "")
