"""The files other tools read: pre-commit hooks, the GitHub Actions example, packaging metadata."""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from jarvis_schemagen.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
WORKFLOW = ROOT / "examples" / "github-actions.yml"


def check_schemagen_command(argv: list[str], where: str) -> click.Command:
    """``argv`` (after "schemagen") names a real command and only options it takes."""
    args = list(argv)
    while args and args[0].startswith("--"):  # group options such as --color
        opt = args.pop(0).split("=")[0]
        param = next((p for p in main.params if opt in getattr(p, "opts", ())), None)
        assert param is not None, f"{where}: schemagen has no option {opt}"
        if not param.is_flag and "=" not in opt:
            args.pop(0)
    assert args, f"{where}: no command"
    command = main.commands.get(args[0])
    assert command is not None, f"{where}: schemagen has no command {args[0]!r}"
    options = {o for p in command.params for o in getattr(p, "opts", ()) + getattr(p, "secondary_opts", ())}
    for word in args[1:]:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"{where}: `schemagen {args[0]}` has no option {word}"
    return command


def schemagen_lines(script: str) -> list[list[str]]:
    out = []
    for line in script.splitlines():
        line = line.split(" #")[0].strip()
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part.strip()) if part.strip() else []
            if words and words[0] == "schemagen":
                out.append(words[1:])
    return out


# ---------------------------------------------------------------- pre-commit

def test_pre_commit_hooks_run_real_commands(tmp_path, monkeypatch):
    hooks = yaml.safe_load(HOOKS.read_text())
    assert {h["id"] for h in hooks} == {"schemagen-validate", "schemagen-render-check"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        assert hook["pass_filenames"] is False  # the commands take the spec, not a file list
        words = shlex.split(hook["entry"])
        assert words[0] in scripts, f"{hook['id']}: {words[0]} is not a console script of the package"
        check_schemagen_command(words[1:], hook["id"])
        assert re.search(hook["files"], "schema.yaml") and re.search(hook["files"], "db/schema.yaml")
        result = CliRunner().invoke(main, words[1:])  # as pre-commit runs it, in a fresh project
        assert result.exit_code == 0, (hook["id"], result.output)
    # the render check catches an edited spec whose generated/ was not rendered again
    spec = tmp_path / "schema.yaml"
    spec.write_text(spec.read_text().replace("display_name) <= 100", "display_name) <= 80"))
    render_check = next(h for h in hooks if h["id"] == "schemagen-render-check")
    assert re.search(render_check["files"], "generated/001_create_profiles_table.sql")
    stale = CliRunner().invoke(main, shlex.split(render_check["entry"])[1:])
    assert stale.exit_code == 1 and "stale: generated/001_create_profiles_table.sql" in stale.output


# ---------------------------------------------------------------- the GitHub Actions example

def test_workflow_example_parses_and_names_only_real_commands():
    wf = yaml.safe_load(WORKFLOW.read_text())
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    uses = {s["uses"].split("@")[0] for s in steps if "uses" in s}
    assert {"actions/checkout", "actions/setup-python"} <= uses
    calls = [words for s in steps if "run" in s for words in schemagen_lines(s["run"])]
    for words in calls:
        check_schemagen_command(words, f"{WORKFLOW.name}: schemagen {' '.join(words)}")
    commands = [(w[0], tuple(w[1:])) for w in calls]
    assert ("render", ("--check",)) in commands
    assert any(c == "diff" and "--shadow-db" in a for c, a in commands)
    assert any(c == "apply" and "--dry-run" not in a for c, a in commands)
    # the drift step gates on diff's exit code: 1 drift, anything else could not check
    diff_step = next(s["run"] for s in steps if "run" in s and "schemagen diff" in s["run"])
    assert "code=$?" in diff_step and "1)" in diff_step
    # production applies only after staging, and only on a push
    assert wf["jobs"]["production"]["needs"] == "staging" and "push" in wf["jobs"]["production"]["if"]


def test_the_command_checker_rejects_what_does_not_exist():
    with pytest.raises(AssertionError, match="no command"):
        check_schemagen_command(["deploy"], "x")
    with pytest.raises(AssertionError, match="no option --force"):
        check_schemagen_command(["apply", "--force"], "x")
    check_schemagen_command(["--color", "never", "diff", "--format", "json"], "x")


# ---------------------------------------------------------------- packaging

def test_packaging_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # an SPDX expression (PEP 639)
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    requires = project["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(\d+).*", r) and int(re.match(r"setuptools>=(\d+)", r).group(1)) >= 77
               for r in requires), "license = '<SPDX>' needs setuptools 77 or newer"
    data = project["tool"]["setuptools"]["package-data"]
    assert "schema.json" in data["jarvis_schemagen.spec"] and "schema.yaml" in data["jarvis_schemagen.starter"]
