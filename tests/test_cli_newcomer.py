"""A first-time user's review of the command line: default folders that replaced another
command's output, help that did not list the policies, figures that covered their own text,
and messages that did not say what to type instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airan.cli import app

runner = CliRunner()


def option_help(command: str, option: str) -> str:
    """``option``'s line of ``airan COMMAND --help``, one line at a wide terminal."""
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "1000"})
    assert res.exit_code == 0, res.output
    return " ".join(next(line for line in res.stdout.splitlines()
                         if f" {option} " in line).split())


def test_a_scaled_comparison_gets_its_own_default_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`airan compare --fleet-scale 3` wrote runs/factory-compare, replacing the unscaled
    comparison there; `run` and `plan` add -x<scale>."""
    monkeypatch.chdir(tmp_path)
    args = ["compare", "factory", "-p", "local", "--seeds", "1", "--duration", "0.1"]
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, [*args, "--fleet-scale", "2"])
    assert res.exit_code == 0, res.output
    base = json.loads((tmp_path / "runs/factory-compare/comparison.json").read_text())
    scaled = json.loads((tmp_path / "runs/factory-compare-x2/comparison.json").read_text())
    assert base["fleet_scale"] == 1.0 and scaled["fleet_scale"] == 2.0
    assert ("runs/<scenario>-compare, and -x<scale> with a --fleet-scale other than 1"
            in option_help("compare", "--out"))


def test_a_users_own_scenario_yaml_does_not_overwrite_the_run_its_name_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited copy of factory saved as scenario.yaml ran into runs/factory-deadline-aware-1
    (the name a run folder's own scenario.yaml keeps), replacing `airan run`'s run there (a
    run folder's own: tests/test_ux_files.py, into that folder's rerun)."""
    monkeypatch.chdir(tmp_path)
    args = ["--duration", "0.2", "--no-report"]
    assert runner.invoke(app, ["run", "factory", *args]).exit_code == 0
    factory = tmp_path / "runs/factory-deadline-aware-1"
    before = (factory / "summary.json").read_text()
    shown = runner.invoke(app, ["scenarios", "--show", "factory"]).stdout
    (tmp_path / "scenario.yaml").write_text(shown.replace("duration_s: 10", "duration_s: 5"))
    res = runner.invoke(app, ["run", "scenario.yaml", *args])
    assert res.exit_code == 0, res.output
    assert (factory / "summary.json").read_text() == before
    assert (tmp_path / "runs/scenario-deadline-aware-1/summary.json").is_file()


@pytest.mark.parametrize(("command", "option"), [
    ("run", "--policy"), ("compare", "--policies"), ("plan", "--policy"),
    ("max-fleet", "--policy"), ("run-sharded", "--policy")])
def test_policy_help_lists_every_builtin_and_ones_own(command: str, option: str) -> None:
    """`airan run --help` named no policy: a newcomer had to read the README to pick one."""
    from airan.console import BUILTIN_POLICY_HELP
    from airan.policy import BUILTIN_POLICIES

    assert set(BUILTIN_POLICY_HELP) == set(BUILTIN_POLICIES)  # (the help's own list, kept
    text = option_help(command, option)  # apart from the registry for --help's start-up)
    for name, what in BUILTIN_POLICY_HELP.items():
        assert f"{name} ({what})" in text
    assert "or module:callable" in text
