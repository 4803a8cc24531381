"""A compute site may serve only some services (``compute_sites[].services``): a GPU pool for
one model, or a remote operator's console for a teleoperation stream. No built-in policy
places another service's request there, a policy of one's own that does is told so, and only
the served services' models take its memory (a warehouse robot maker's review: the operator's
site, faked as a compute site, took 3% of the robots' detections)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError
from airan.scenario import scenario_from_dict
from airan.scenario.load import site_memory


def _scenario(**extra: Any) -> dict[str, Any]:
    """Robots detecting obstacles (on board or at a GPU) and streaming video to an operator
    whose console (a cloud-kind site) serves the stream only; the cell-site GPU serves the
    detections only; the regional edge serves both."""
    area = {"x_m": [-100, 500], "y_m": [-100, 100]}
    d: dict[str, Any] = {
        "name": "pools", "duration_s": 1.5, "seed": 3, "policy": "deadline-aware",
        "radio": {"model": "fixed", "fixed_ul_rate_mbps": 200, "fixed_dl_rate_mbps": 500,
                  "fixed_latency_ms": 2},
        "cell_sites": [{"name": "bs-a", "position_m": [0, 0], "sectors": 1},
                       {"name": "bs-b", "position_m": [400, 0], "sectors": 1}],
        "nodes": [{"name": "agg", "position_m": [200, 3000]},
                  {"name": "ops", "position_m": [200, 9000]}],
        "compute_sites": [
            {"name": "gpu-a", "at": "bs-a", "kind": "cell", "services": ["detect"],
             "gpus": [{"type": "L4", "count": 1}]},
            {"name": "regional", "at": "agg", "kind": "edge",
             "gpus": [{"type": "L40S", "count": 1}]},
            {"name": "operator", "at": "ops", "kind": "cloud", "services": ["teleop"],
             "gpus": [{"type": "CPU", "count": 1}]}],
        "transport": {"links": [{"a": "bs-a", "b": "agg", "fiber_km": 3},
                                {"a": "bs-b", "b": "agg", "fiber_km": 3},
                                {"a": "agg", "b": "ops", "fiber_km": 6}]},
        "fleets": [{"name": "robots", "count": 20, "area": area,
                    "services": ["detect", "teleop"]}],
        "services": [
            {"name": "detect", "model": "resnet50", "rate_hz": 20, "ul_kb": 15, "dl_kb": 0.1,
             "deadline_ms": 60},
            {"name": "teleop", "model": "resnet50", "rate_hz": 30, "ul_kb": 40, "dl_kb": 0.1,
             "deadline_ms": 150, "on_device": False,
             "service_time": {"dist": "fixed", "mean_ms": 0.01}}],
    }
    d.update(extra)
    return d


@pytest.mark.parametrize("policy", ["deadline-aware", "nearest-edge", "least-loaded", "cloud"])
def test_no_policy_places_a_request_where_its_service_is_not_served(policy: str) -> None:
    result = airan.run(scenario_from_dict(_scenario()), policy=policy, seed=3)
    t = result.requests
    where = {name: set(t.filter(pc.equal(t["service"], name))["placement"].to_pylist())
             for name in ("detect", "teleop")}
    assert "operator" not in where["detect"]
    assert where["teleop"] <= {"operator", "regional"} and where["teleop"]
    if policy == "cloud":  # the nearest cloud that serves it, else the nearest site that does
        assert where["teleop"] == {"operator"} and "gpu-a" in where["detect"]
    s = result.summary
    assert s["services"]["teleop"]["count"] == 20 * 30 * 1.5
    assert "not_on_device" not in s["requests"]["dropped_by_reason"]


def test_the_compiled_deadline_aware_keeps_to_the_served_sites_as_its_reference() -> None:
    from airan.engine import Engine
    from airan.policy.builtin import deadline_aware, deadline_aware_reference

    seen = {"batches": 0}

    def both(snap: Any, batch: Any) -> np.ndarray:
        fast = deadline_aware(snap, batch)
        np.testing.assert_array_equal(fast, deadline_aware_reference(snap, batch))
        seen["batches"] += 1
        return fast

    eng = Engine(scenario_from_dict(_scenario()), policy="deadline-aware", duration_s=0.5)
    eng.policy = both
    eng.run()
    assert seen["batches"] > 50


def test_a_policy_of_ones_own_that_places_a_request_where_it_is_not_served_is_told() -> None:
    sc = scenario_from_dict(_scenario())

    def everything_to_the_operator(snap: Any, batch: Any) -> np.ndarray:
        return np.full(len(batch), list(snap.world.site_names).index("operator"), np.int64)

    with pytest.raises(InputError, match=r"does not serve it \(compute_sites\[operator\]"):
        airan.run(sc, policy=everything_to_the_operator, duration_s=0.2)


def test_a_site_holds_only_the_models_of_the_services_it_serves() -> None:
    d = _scenario()
    d["services"][0]["model"] = "openvla-7b"
    sc = scenario_from_dict(d)
    from airan.scenario.schema import Batching

    every, _ = site_memory(sc, "L4", Batching())
    served, _ = site_memory(sc, "L4", Batching(), services=["teleop"])
    assert set(served) == {"resnet50@teleop"} and "openvla-7b" in every


def test_a_site_serving_a_service_the_scenario_lacks_is_an_input_error(tmp_path) -> None:
    d = _scenario()
    d["compute_sites"][2]["services"] = ["teleopp"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "compute_sites[operator].services[0]" in text
    assert "teleop" in text and "Traceback" not in text


def test_a_service_no_site_serves_and_no_device_may_run_is_an_input_error() -> None:
    d = _scenario()
    d["compute_sites"][1]["services"] = ["detect"]
    d["compute_sites"][2]["services"] = ["detect"]
    with pytest.raises(InputError, match="no compute site serves this service"):
        scenario_from_dict(d)


def test_cloud_serves_each_service_where_it_can_while_the_cloud_is_down() -> None:
    """The operator's console (the only cloud-kind site) is down for a while: the detections,
    which no cloud serves, go on at the nearest site that serves them, and the stream, which
    a cloud serves, ends site_failure as cloud's requests do with every cloud down (a
    review: every request of every service was dropped)."""
    d = _scenario(faults=[{"kind": "site_down", "site": "operator", "start_s": 0.5,
                           "end_s": 1.0}])
    s = airan.run(scenario_from_dict(d), policy="cloud", seed=3).summary
    assert s["services"]["detect"]["dropped"] == 0
    assert s["services"]["teleop"]["dropped_by_reason"].get("site_failure", 0) > 200


def test_deadline_aware_finds_a_serving_cell_site_beyond_the_nearest_eight() -> None:
    """Ten cell-site GPUs in a row, the farthest the only one serving the stream: every node
    has it among its candidates (a review: all 300 requests ended site_failure)."""
    d = _scenario()
    d["cell_sites"] = [{"name": f"bs-{i}", "position_m": [i * 400, 0], "sectors": 1}
                       for i in range(10)]
    d["compute_sites"] = [{"name": f"gpu-{i}", "at": f"bs-{i}", "kind": "cell",
                           "gpus": [{"type": "L4", "count": 1}],
                           **({"services": ["teleop"]} if i == 9 else
                              {"services": ["detect"]})} for i in range(10)]
    d["nodes"] = [{"name": "agg", "position_m": [1800, 200]}]
    d["transport"] = {"links": [{"a": f"bs-{i}", "b": "agg", "fiber_km": 2} for i in range(10)]}
    d["fleets"][0]["area"] = {"center_m": [0, 0], "radius_m": 30}
    r = airan.run(scenario_from_dict(d), policy="deadline-aware", seed=3)
    t = r.requests
    mine = t.filter(pc.equal(t["service"], "teleop"))
    assert set(mine["placement"].to_pylist()) == {"gpu-9"}
    assert r.summary["services"]["teleop"]["met"] > 0.9 * mine.num_rows


def test_the_envs_action_mask_keeps_each_service_to_the_sites_that_serve_it() -> None:
    from airan.envs import PlacementEnv

    env = PlacementEnv(scenario_from_dict(_scenario()), duration_s=0.1)
    env.reset(seed=1)
    v, site = env.service_names.index("teleop"), env.targets.index("site:gpu-a")
    assert not env.action_mask[v, site] and env.action_mask[v, env.targets.index("cloud")]
    action = np.zeros(len(env.service_names), dtype=np.int64)
    action[v] = site
    with pytest.raises(InputError, match="does not serve it") as err:
        env.step(action)
    assert err.value.field == "action"


def test_validation_reads_only_the_sites_that_serve_a_service() -> None:
    """The stream served only at the operator's CPU: its deadline is checked against that
    site's time, not the L4's or the L40S's that never run it (and a batching wait at a site
    that does not serve a service says nothing about its deadline)."""
    from airan.scenario.load import scenario_warnings

    d = _scenario()
    d["compute_sites"][1]["services"] = ["detect"]  # (the regional L40S: detections only)
    d["services"][1].pop("service_time")  # resnet50's roofline: 5.2 ms on the CPU, 0.46 on
    d["services"][1]["deadline_ms"] = 5  # an L40S, 0.36 on an L4
    d["compute_sites"][2]["batching"] = {"max_batch": 4, "max_wait_ms": 100}
    said = scenario_warnings(scenario_from_dict(d))
    assert [w for w in said if "services[teleop].deadline_ms" in w
            and "no request can meet it" in w]
    assert not [w for w in said if "compute_sites[operator].batching.max_wait_ms" in w
                and "'detect'" in w]


def test_the_envs_action_mask_keeps_local_from_a_service_no_device_can_run() -> None:
    """An ML researcher's review: ``local`` was allowed for factory's inspections, which the
    cameras cannot run (their CPUs run no model): every one dropped, not_on_device."""
    from airan.envs import PlacementEnv

    env = PlacementEnv("factory", duration_s=0.2)
    env.reset(seed=1)
    local = env.targets.index("local")
    inspect = env.service_names.index("inspect")
    assert not env.action_mask[inspect, local]
    assert env.action_mask[env.service_names.index("detect"), local]
    action = np.zeros(len(env.service_names), dtype=np.int64)  # local, every service
    while True:
        *_, truncated, _ = env.step(action)
        if truncated:
            break
    dropped = env.result().summary["services"]["inspect"]["dropped_by_reason"]
    assert set(dropped) == {"not_on_device"}  # (what the mask says, run)
