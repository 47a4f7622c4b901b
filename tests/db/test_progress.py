"""Slow work announces itself through term.progress: each migration apply runs, and each shadow build, labelled
by what it builds and what for (diff, access, render), never by another command's name."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import shutil

from jarvis_schemagen import access, api, term
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
    assert {label for label, _ in reported if label.startswith("building")} == {
        f"building the state of {ROOT / 'schema.yaml'} in a shadow database, to compare with the database"}
    reported.clear()
    diff(db, ROOT / "schema.yaml", shadow_url=pg_server.url, cache_dir=tmp_path)
    assert reported[0][0].endswith("to compare with the database (cached for the next run)"), reported


def test_access_and_render_name_their_own_shadow_builds(reported, pg_server, tmp_path):
    access.from_spec(ROOT / "schema.yaml", shadow_url=pg_server.url, use_cache=False)
    assert {label for label, _ in reported} == {
        f"building the state of {ROOT / 'schema.yaml'} in a shadow database, to compute who may do what"}
    reported.clear()
    access.from_spec(ROOT / "schema.yaml", shadow_url=pg_server.url, use_cache=False, label="git:main:schema.yaml")
    assert reported[0][0].startswith("building the state of git:main:schema.yaml in a shadow database")

    spec = tmp_path / "schema.yaml"  # released, then changed: render computes what the files lack
    shutil.copy(ROOT / "tests" / "fixtures" / "evolution" / "schema.yaml", spec)
    api.render_to_dir(spec, tmp_path / "generated")
    api.release(spec, tmp_path / "generated")
    spec.write_text(spec.read_text().replace("      email: {type: text, nullable: false, unique: true}\n",
                                             "      email: {type: text, nullable: false, unique: true}\n"
                                             "      motto: {type: text}\n"))
    reported.clear()
    r = api.render_to_dir(spec, tmp_path / "generated", name="add_motto", shadow_url=pg_server.url, use_cache=False)
    assert r.pending and r.written
    assert {label for label, _ in reported} == {
        f"building the states of the migration files and of {spec} in a shadow database, to find what the "
        "files lack to reach the spec"}
    assert not any("diff" in label for label, _ in reported)


def test_no_progress_text_when_stderr_is_not_a_terminal(db, monkeypatch):
    monkeypatch.setattr(term, "PROGRESS_DELAY", 0.0)
    result = CliRunner().invoke(main, ["apply", "--db", db, "--dir", str(ROOT / "generated")])
    assert result.exit_code == 0, result.output
    assert "\x1b[2K" not in result.output and "…" not in result.output.replace("waiting for another", "")
