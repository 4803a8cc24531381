"""A port engineer's first day (a review from a clean clone): the slips a new user makes get a
message that says where the field goes or what was meant."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError
from airan.scenario import scenario_from_dict


def _factory() -> dict:
    return airan.load_scenario("factory").model_dump(mode="json")


def test_a_field_of_a_nested_section_written_one_level_up_is_sent_there() -> None:
    d = _factory()
    d["services"][0]["measured_on"] = "H100"  # belongs in service_time
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    name = d["services"][0]["name"]
    assert (f"'measured_on' is a field of services[{name}].service_time, not of "
            f"services[{name}]") in str(err.value)
    # one close to a field of this section too (on_device_ms, on_device) is still sent there
    # (a drone maker's review: "did you mean 'on_device'?")
    d = _factory()
    d["services"][0]["on_device_ms"] = {"JetsonOrin": 210}
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    assert (f"'on_device_ms' is a field of services[{name}].service_time, not of "
            f"services[{name}]") in str(err.value)
    # a slip of the keys in the right section is still a misspelling, with its suggestion
    d = _factory()
    d["services"][0]["rate_hzz"] = 5
    with pytest.raises(InputError, match="did you mean 'rate_hz'"):
        scenario_from_dict(d)


def test_a_scenario_named_without_its_yaml_beside_that_file_points_to_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "port.yaml").write_text(yaml.safe_dump(_factory()))
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(app, ["run", "port", "--duration", "0.05"], terminal_width=300)
    assert res.exit_code == 2
    assert "unknown scenario 'port'; did you mean the file 'port.yaml'?" in res.output
    res = CliRunner().invoke(app, ["run", "harbour", "--duration", "0.05"],
                             terminal_width=300)
    assert res.exit_code == 2 and "did you mean the file" not in res.output


def test_a_planner_hit_target_written_as_a_percentage_says_how_to_write_it() -> None:
    res = CliRunner().invoke(app, ["plan", "factory", "--target", "detect: hit>=99"],
                             terminal_width=300)
    assert res.exit_code == 2
    assert "(a fraction: 0.99, or 99% for a percentage)" in res.output


def test_a_plan_that_sends_under_one_percent_to_an_uncosted_site_says_a_few(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """'cloud ... served 10 requests (0% of all)' read as alarming; it says 'under 1%'."""
    from airan.planner import output

    monkeypatch.setattr(output, "fixed_rows", lambda result, ev: [
        {"site": "cloud", "gpus": "16 x H100", "served": 10, "gpu_utilization": 0.003}])
    result = SimpleNamespace(feasible=True, evaluator=SimpleNamespace(duration_s=8.0, seeds=[1]))
    ev = SimpleNamespace(services={"vla": {"count": 1000, "placement_share": {"cloud": 0.001}},
                                   "detect": {"count": 29000, "placement_share": {}}})
    line = output.leans_on_fixed(result, ev)
    assert line is not None and line.startswith(
        "the plan sends a few requests to sites the plan does not cost: cloud (16 x H100) "
        "served 10 requests (under 1% of all")
    assert line.endswith("(in its 8 s run); it may miss without them")
