"""What a new user's walk through the README and the docs found, each as the behaviour it fixed.

* a live run's report names the runtime's overhead where it is most of the latency, says the
  run was live, and gives the ``airan live`` command that runs it again;
* a misspelt TR 38.901 environment gets a suggestion, as every other name does;
* a command-line argument is called an argument (``airan run nosuch``), not a field;
* a number given with a unit (``--duration 10ms``) is told the option's unit;
* ``airan devices --deployment`` at a folder with no deployment says what to give.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.report import build_report, write_run
from airan.report.html import reproduce_command, verdict
from airan.scenario import scenario_from_dict

runner = CliRunner()

PARTS = {"ul_wait": 4.6, "ul_air": 2.1, "ul_transport": 0.1, "queue": 1.5, "compute": 3.9,
         "dl_transport": 0.1, "dl_air": 1.1}  # 13.4 ms of a live run's 35.4 ms mean
LIVE = {"mode": "live", "delays": "gateway",
        "models": {"detect": "/home/u/.cache/airan/onnx/tiny-cnn-v3.onnx",
                   "vla": "/m/onnx/my-vla-v2.onnx"}}


def factory_file(path: Path, **changes: Any) -> Path:
    """The built-in factory with top-level ``changes``, written to ``path``."""
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    path.write_text(yaml.safe_dump({**yaml.safe_load(text), **changes}))
    return path


def live_service() -> dict[str, Any]:
    return {"count": 100, "met": 80, "late": 20, "dropped": 0, "hit_ratio": 0.8,
            "target_hit_ratio": 0.99, "deadline_ms": 25.0,
            "latency_ms": {"mean": 35.4, "p50": 30.0, "p95": 60.0, "p99": 80.0, "p999": 90.0},
            "breakdown_ms": dict(PARTS)}


def test_a_live_runs_verdict_names_the_runtime_overhead_when_it_is_most_of_the_latency() -> None:
    ok, text = verdict("detect", live_service())
    assert ok is False
    assert "most of the mean latency is the live runtime's own overhead (62%)" in text
    # a simulated run's parts add up to its latency: no overhead to name
    twin = live_service()
    twin["latency_ms"]["mean"] = sum(PARTS.values())
    assert ("waiting in the device's uplink buffer for a grant and an uplink slot (34%)"
            in verdict("detect", twin)[1])


def test_a_live_runs_report_command_runs_it_live_again() -> None:
    summary = {"policy": "nearest-edge", "seed": 3, "duration_s": 10.0, "fleet_scale": 0.1,
               "trace": {"limit": 894, "sample_beyond_limit": 0.0}, "live": LIVE}
    cmd = reproduce_command(summary, "scenario.yaml", scaled=True)
    assert cmd.startswith("airan live scenario.yaml --policy nearest-edge --seed 3 --duration 10")
    # a built-in model by name (its file is this machine's cache), a file of one's own by path
    assert "--model detect=tiny-cnn --model vla=/m/onnx/my-vla-v2.onnx" in cmd
    assert "--delays gateway" in cmd and cmd.endswith("--out rerun")
    assert "--trace" not in cmd and "--fleet-scale" not in cmd  # scenario.yaml holds the scale
    twin = {k: v for k, v in summary.items() if k != "live"}
    assert reproduce_command(twin, "scenario.yaml", scaled=True).startswith("airan run ")
    # started with a shared gateway, ONNX threads and the workers' real time asked off: the
    # rerun repeats them (a live integrator's review: it dropped them, another setup)
    setup = {**summary, "live": {**LIVE, "shared_gateway": True, "threads": 2,
                                 "realtime_workers": False}}
    cmd = reproduce_command(setup, "scenario.yaml", scaled=True)
    assert "--shared-gateway --threads 2 --no-realtime" in cmd
    assert "--shared-gateway" not in reproduce_command(summary, "scenario.yaml", scaled=True)


def test_a_live_runs_report_says_it_was_live(tmp_path: Path) -> None:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    res = airan.run(scenario_from_dict(yaml.safe_load(text)), duration_s=0.2)
    folder = write_run(res, tmp_path / "run")
    summary = json.loads((folder / "summary.json").read_text())
    twin_html = build_report(folder).path.read_text()
    assert "simulated seconds" in twin_html and "To reproduce this run" in twin_html
    summary["live"] = copy.deepcopy(LIVE)
    (folder / "summary.json").write_text(json.dumps(summary))
    html = build_report(folder).path.read_text()
    assert "seconds of a live run" in html and "simulated seconds" not in html
    assert "To run it again live" in html and "airan live scenario.yaml" in html


def test_a_misspelt_environment_gets_a_suggestion(tmp_path: Path) -> None:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    data = yaml.safe_load(text)
    data["radio"]["environment"] = "inf_sh"
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    line = " ".join(result.stderr.split())
    assert "field 'radio.environment'" in line and "did you mean 'inf-sh'?" in line
    assert "Accepted: uma, umi, rma, inh," in line


def test_a_command_line_argument_is_called_an_argument() -> None:
    result = runner.invoke(app, ["run", "nosuch"])
    assert result.exit_code == 2
    assert "argument 'SCENARIO': unknown scenario 'nosuch'" in " ".join(result.stderr.split())


@pytest.mark.parametrize(("args", "says"), [
    (["run", "factory", "--duration", "10ms"], "got '10ms'"),
    (["run", "factory", "-d", "2 s"], "got '2 s'"),
])
def test_a_number_given_with_a_unit_is_told_the_options_unit(args: list[str], says: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    line = " ".join(result.stderr.split())
    assert says in line and "(give a plain number, in seconds)" in line
    assert "Traceback" not in result.output


def test_devices_at_a_folder_without_a_deployment_says_what_to_give(tmp_path: Path) -> None:
    pytest.importorskip("grpc")
    result = runner.invoke(app, ["devices", "factory", "--deployment", str(tmp_path / "none"),
                                 "--duration", "1"])
    assert result.exit_code == 2
    line = " ".join(result.stderr.split())
    assert "no deployment here (`airan serve` writes one: give its --out folder)" in line
    assert "Errno" not in line


def test_validate_names_the_file_of_a_policy_that_cannot_be_loaded(tmp_path: Path) -> None:
    path = factory_file(tmp_path / "p.yaml", policy="no_such_module_here:policy")
    for args in (["validate", str(path)], ["run", str(path), "--duration", "0.1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        line = " ".join(result.stderr.split())
        assert f"{path}: field 'policy': cannot import policy module" in line, args


def test_a_scenario_field_in_capitals_is_still_a_field(tmp_path: Path) -> None:
    """Only a command-line argument is called one: a key written in capitals is a field."""
    path = factory_file(tmp_path / "caps.yaml", TDD="DDDSU")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}: field 'TDD': unknown field 'TDD'" in " ".join(result.stderr.split())
