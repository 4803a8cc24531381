"""A service that may not run on its devices (``on_device: false``): a teleoperation stream to a
remote operator, or a model no device can hold. No policy's estimate offers the device, a
placement there is dropped with its own reason (``not_on_device``), and validation says so
where the ``local`` policy would drop them all (a vehicle maker's review: a stream faked as a
model with a tiny service time was kept on the device by deadline-aware)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.scenario import scenario_from_dict
from airan.scenario.load import device_times_s, scenario_warnings

STREAM_MS = 0.05  # the stream's "model": forwarding a frame, next to nothing anywhere


def _scenario(on_device: bool, **extra: Any) -> dict[str, Any]:
    """Two cells, a cell-site GPU and an edge; robots that detect obstacles (may run on board)
    and stream video to an operator (teleop). With ``on_device`` the stream is allowed on the
    robot, where it takes next to nothing: deadline-aware then keeps it there."""
    area = {"x_m": [-100, 500], "y_m": [-100, 100]}
    teleop_time: dict[str, Any] = {"dist": "fixed", "mean_ms": STREAM_MS}
    if on_device:
        teleop_time["on_device_ms"] = {"none": STREAM_MS}
    d: dict[str, Any] = {
        "name": "teleop", "duration_s": 2.0, "seed": 3, "policy": "deadline-aware",
        "radio": {"model": "fixed", "fixed_ul_rate_mbps": 80, "fixed_dl_rate_mbps": 500,
                  "fixed_latency_ms": 5},
        "cell_sites": [{"name": "bs-a", "position_m": [0, 0], "sectors": 1},
                       {"name": "bs-b", "position_m": [400, 0], "sectors": 1}],
        "nodes": [{"name": "agg", "position_m": [200, 3000]}],
        "compute_sites": [
            {"name": "gpu-a", "at": "bs-a", "kind": "cell",
             "gpus": [{"type": "L40S", "count": 1}]},
            {"name": "edge", "at": "agg", "kind": "edge",
             "gpus": [{"type": "L40S", "count": 1}]}],
        "transport": {"links": [{"a": "bs-a", "b": "agg", "fiber_km": 20},
                                {"a": "bs-b", "b": "agg", "fiber_km": 20}]},
        "fleets": [{"name": "robots", "count": 20, "area": area,
                    "services": ["detect", "teleop"]}],
        "services": [
            {"name": "detect", "model": "resnet50", "rate_hz": 10, "ul_kb": 15, "dl_kb": 0.1,
             "deadline_ms": 50},
            {"name": "teleop", "model": "resnet50", "rate_hz": 30, "ul_kb": 40, "dl_kb": 0.1,
             "deadline_ms": 150, "on_device": on_device, "service_time": teleop_time}],
    }
    d.update(extra)
    return d


def _run(on_device: bool, policy: str = "deadline-aware", **extra: Any) -> airan.Result:
    return airan.run(scenario_from_dict(_scenario(on_device, **extra)), policy=policy,
                     duration_s=2.0, seed=3)


def test_deadline_aware_sends_a_stream_its_devices_may_not_run_to_a_site() -> None:
    allowed = _run(True).summary["services"]["teleop"]
    assert allowed["answered_at"].get("local", 0) > 0.9 * allowed["count"]  # the fake's trap
    result = _run(False)
    s = result.summary
    v = s["services"]["teleop"]
    assert "local" not in v["answered_at"]
    assert sum(v["answered_at"].values()) == v["met"] + v["late"] > 1_000
    assert "not_on_device" not in s["requests"]["dropped_by_reason"]
    t = result.requests
    mine = t.filter(pc.equal(t["service"], "teleop"))
    assert not pc.any(pc.equal(mine["placement"], "local")).as_py()
    # the other service may still run on board: unaffected in kind
    assert s["services"]["detect"]["count"] > 0


def test_the_local_policy_drops_every_request_of_such_a_service_with_its_own_reason() -> None:
    result = _run(False, policy="local")
    s = result.summary
    v = s["services"]["teleop"]
    assert v["met"] == v["late"] == 0
    assert v["dropped"] == v["count"] == s["requests"]["dropped_by_reason"]["not_on_device"]
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]
    t = result.requests
    mine = t.filter(pc.equal(t["service"], "teleop"))
    assert set(mine["outcome"].to_pylist()) == {"dropped:not_on_device"}
    assert set(mine["placement"].to_pylist()) == {"local"}
    # the service the robots may run still runs on them
    assert s["services"]["detect"]["answered_at"] == {"local": s["services"]["detect"]["met"]
                                                      + s["services"]["detect"]["late"]}


@pytest.mark.parametrize("admission", ["none", "strict"])
def test_with_every_site_down_such_a_request_is_a_site_failure_not_the_device(
        admission: str) -> None:
    faults = [{"kind": "site_down", "site": "gpu-a", "start_s": 1.0},
              {"kind": "site_down", "site": "edge", "start_s": 1.0}]
    s = _run(False, faults=faults, admission=admission).summary
    v = s["services"]["teleop"]
    assert "local" not in v["answered_at"]
    drops = s["requests"]["dropped_by_reason"]
    assert drops.get("site_failure", 0) > 500 and "not_on_device" not in drops
    # (the robots' own detection moves onto them when the sites go)
    assert s["services"]["detect"]["answered_at"].get("local", 0) > 0


def test_validation_warns_where_the_local_policy_would_drop_them_all() -> None:
    sc = scenario_from_dict(_scenario(False))
    said = [w for w in scenario_warnings(sc, policy="local") if "on_device" in w]
    assert len(said) == 1 and "services[teleop].on_device" in said[0]
    assert "not_on_device" in said[0]
    assert not [w for w in scenario_warnings(sc) if "on_device" in w]  # deadline-aware: fine
    # its devices' time is no place it can run: not listed
    assert ("robots", "teleop") not in device_times_s(sc)
    assert ("robots", "detect") in device_times_s(sc)


def test_a_device_time_for_a_service_that_never_runs_there_is_an_input_error(
        tmp_path) -> None:
    d = _scenario(False)
    d["services"][1]["service_time"]["on_device_ms"] = {"none": 1.0}
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert "services" in res.output and "on_device" in res.output
    assert "Traceback" not in res.output


def test_a_model_no_device_can_hold_warns_only_where_it_may_run_there() -> None:
    """A VLA of 7B parameters and a 7B assistant on a robot's CPU (16 GB: 15.2 and 7.0 GB
    in bf16): the memory warning names on_device as the way out, and is gone once the VLA
    says it never runs there."""
    d = _scenario(True)
    d["services"][1] = {"name": "vla", "model": "openvla-7b", "rate_hz": 2, "ul_kb": 15,
                        "dl_kb": 0.1, "deadline_ms": 300}
    d["services"].append({"name": "assist", "model": "llm-7b", "rate_hz": 1, "ul_kb": 1,
                          "dl_kb": 1, "deadline_ms": 2000})
    d["fleets"][0]["services"] = ["detect", "vla", "assist"]
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "on board" in w]
    assert len(said) == 1 and "on_device: false" in said[0]
    d["services"][1]["on_device"] = False
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "on board" in w]


def test_the_same_seed_gives_the_same_drops() -> None:
    a, b = _run(False, policy="local"), _run(False, policy="local")
    assert a.summary["requests"] == b.summary["requests"]
    assert np.array_equal(a.requests["created_s"].to_numpy(),
                          b.requests["created_s"].to_numpy())


@pytest.mark.parametrize("strict", [False, True])
def test_the_compiled_policy_sends_nowhere_bound_requests_as_its_reference_does(
        strict: bool) -> None:
    """Every estimate infinite (the device not allowed, every site down): the compiled
    deadline-aware and its numpy reference agree request by request: NO_SITE, a fault's drop
    (site_failure), under strict admission too."""
    from airan.engine import Engine
    from airan.policy import NO_SITE, REJECT
    from airan.policy.builtin import deadline_aware, deadline_aware_reference

    faults = [{"kind": "site_down", "site": "gpu-a", "start_s": 0.5},
              {"kind": "site_down", "site": "edge", "start_s": 0.5}]
    seen = {"nowhere": 0, "sites": 0}

    def both(snap: Any, batch: Any) -> np.ndarray:
        fast = deadline_aware(snap, batch, strict=strict)
        ref = deadline_aware_reference(snap, batch, strict=strict)
        np.testing.assert_array_equal(fast, ref)
        seen["nowhere"] += int((ref == NO_SITE).sum())
        assert not (ref == REJECT).any() or strict
        seen["sites"] += int((ref >= 0).sum())
        return fast

    sc = scenario_from_dict(_scenario(False, faults=faults,
                                      admission="strict" if strict else "none"))
    eng = Engine(sc, policy="deadline-aware", duration_s=1.0)
    eng.policy = both
    eng.run()
    assert seen["nowhere"] > 100 and seen["sites"] > 100


def test_a_service_named_without_a_model_is_told_how_to_write_a_stream(tmp_path) -> None:
    import yaml

    d = _scenario(False)
    d["services"][1]["model"] = "none"
    path = tmp_path / "stream.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "services[teleop].model" in text and "unknown model 'none'" in text
    assert "service_time near nothing" in text and "on_device: false" in text
