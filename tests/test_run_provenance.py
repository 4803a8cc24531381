"""What a run's files say about how it was made (a researcher's review): a complete trace's
note, a scaled run's scenario file, fleets a scale rounds off, the package's version."""

from __future__ import annotations

import warnings
from pathlib import Path

from typer.testing import CliRunner

import airan
from airan.api import fleet_scale_warnings
from airan.cli import app

runner = CliRunner()


def test_a_complete_traces_note_says_every_request() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = airan.run("factory", duration_s=0.3, trace_sample=0.0).summary["trace"]
        cut = airan.run("factory", duration_s=0.3, trace_limit=50, trace_sample=0.0).summary
    assert whole["complete"] and whole["note"] == "every request"
    assert not cut["trace"]["complete"]
    assert cut["trace"]["note"].startswith("the first 50 requests only")


def test_airan_has_the_version_the_command_prints() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and airan.__version__ in res.output
    assert "__version__" in dir(airan)


def test_fleets_a_scale_rounds_far_off_it_are_named() -> None:
    """factory at 0.1: its 12 arms become 1 (0.083x), its 6 cameras 1 (0.167x); its 40 AMRs
    4, exactly 0.1x: not named."""
    sc = airan.load_scenario("factory")
    lines = fleet_scale_warnings(sc, 0.1)
    assert len(lines) == 2
    assert "'fleets[arm].count'" in lines[0] and "runs at 0.0833x its count, not 0.1x" in lines[0]
    assert "'fleets[camera].count'" in lines[1] and "0.167x" in lines[1]
    assert fleet_scale_warnings(sc, 2.0) == []


def test_a_scaled_runs_scenario_file_says_so_and_scaling_it_again_warns(tmp_path: Path) -> None:
    first = tmp_path / "first"
    res = runner.invoke(app, ["run", "factory", "--fleet-scale", "0.5", "--duration", "0.2",
                              "--no-report", "--out", str(first)])
    assert res.exit_code == 0, res.output
    text = (first / "scenario.yaml").read_text()
    assert text.startswith("# airan: the fleets' counts below are the run's, --fleet-scale 0.5 "
                           "already applied")
    again = runner.invoke(app, ["run", str(first / "scenario.yaml"), "--fleet-scale", "2",
                                "--duration", "0.2", "--no-report", "--out",
                                str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    said = " ".join(again.output.split())
    assert "its fleets' counts already carry --fleet-scale 0.5; --fleet-scale 2 scales them " \
           "again" in said
    compared = runner.invoke(app, ["compare", str(first / "scenario.yaml"), "--fleet-scale", "2",
                                   "--policies", "cloud", "--seeds", "1", "--duration", "0.2",
                                   "--out", str(tmp_path / "cmp")])
    assert compared.exit_code == 0, compared.output
    assert "already carry --fleet-scale 0.5" in " ".join(compared.output.split())
    plain = runner.invoke(app, ["run", str(first / "scenario.yaml"), "--duration", "0.2",
                                "--no-report", "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0 and "already carry" not in plain.output


def test_a_sweeps_loads_that_round_fleets_far_off_are_named(tmp_path: Path) -> None:
    sweep = tmp_path / "loads.yaml"
    # (a GPU count on an axis too: a review of the diff found it silenced the warnings)
    sweep.write_text("scenario: factory\nduration_s: 0.2\naxes:\n  load: [0.1, 2]\n"
                     "  compute_sites[on-prem].gpus[0].count: [1, 2]\n")
    res = runner.invoke(app, ["sweep", str(sweep), "--dry-run", "--workers", "1",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert said.count("'fleets[arm].count': load 0.1 makes 1.2 of its 12 devices") == 1
    assert "load 2 " not in said
    # an axis that sets a fleet's count: its runs' own counts are what the load rounds
    sweep.write_text("scenario: factory\nduration_s: 0.2\naxes:\n  load: [0.5]\n"
                     "  fleets[arm].count: [12, 3]\n")
    res = runner.invoke(app, ["sweep", str(sweep), "--dry-run", "--workers", "1",
                              "--out", str(tmp_path / "out2")])
    said = " ".join(res.output.split())
    assert "'fleets[arm].count': load 0.5 makes 1.5 of its 3 devices, rounded to 2" in said
