"""A failed site is noticed ``detect_ms`` after it fails (the gateways' health check or keepalive
timeout): until then the policies see it up and send it requests, which wait unanswered with
the ones it held, and are placed again once the failure is noticed (a warehouse robot maker's
review: a 1 s outage cost nothing, as every request moved to the backup at once).

A scenario of one cell, an edge site near it and a regional site behind it, the ideal radio
and periodic arrivals: a request sent to the failed edge at time t is answered only after the
failure is noticed, so its latency is at least ``t0 + detect - t``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest

import airan
from airan.scenario import scenario_from_dict

FAIL_S = 1.0
DETECT_MS = 200.0
DECISION_S = 0.005  # the engine's decision interval: arrivals are placed up to this far ahead


def _scenario(policy: str, detect_ms: float, end_s: float | None = None) -> dict[str, Any]:
    return {
        "name": "detect", "duration_s": 2.0, "seed": 1, "policy": policy,
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "c0", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "metro", "position_m": [0, 20_000]}],
        "compute_sites": [
            {"name": "edge", "at": "c0", "kind": "cell", "gpus": [{"type": "L4", "count": 1}]},
            {"name": "regional", "at": "metro", "kind": "edge",
             "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"links": [{"a": "c0", "b": "metro", "fiber_km": 20}]},
        "fleets": [{"name": "bots", "count": 10, "area": {"center_m": [5, 0], "radius_m": 2},
                    "services": ["detect"]}],
        "services": [{"name": "detect", "model": "resnet50", "rate_hz": 50, "ul_kb": 15,
                      "dl_kb": 0.1, "deadline_ms": 100, "jitter_ms": 5,
                      "service_time": {"dist": "fixed", "mean_ms": 2.0}}],
        "faults": [{"kind": "site_down", "site": "edge", "start_s": FAIL_S, "end_s": end_s,
                    "detect_ms": detect_ms}],
    }


def _run(policy: str, detect_ms: float, end_s: float | None = None) -> airan.Result:
    return airan.run(scenario_from_dict(_scenario(policy, detect_ms, end_s)), seed=1)


@pytest.mark.parametrize("policy", ["nearest-edge", "deadline-aware"])
def test_requests_sent_to_a_failed_site_wait_until_the_failure_is_noticed(policy: str) -> None:
    result = _run(policy, DETECT_MS)
    fault = result.summary["faults"][0]
    noticed = FAIL_S + DETECT_MS * 1e-3
    t = result.requests
    created = t["created_s"].to_numpy()
    latency = t["latency_ms"].to_numpy(zero_copy_only=False) * 1e-3
    place = np.asarray(t["placement"].to_pylist())
    # placed on the edge (it looked up) in the 200 ms before it was noticed: 10 devices at
    # 50 Hz, all 100 under nearest-edge (its home site); deadline-aware counts the requests
    # it sent there unanswered as that site's backlog (as a gateway counts them) and turns to
    # the regional site after ten or so
    window = (created >= FAIL_S + DECISION_S) & (created < noticed - DECISION_S)
    assert fault["detect_ms"] == DETECT_MS
    least = 0.9 * 10 * 50 * DETECT_MS * 1e-3 if policy == "nearest-edge" else 5
    assert least < fault["sent_before_noticed"] <= 110
    assert fault["affected_requests"] >= fault["sent_before_noticed"]
    assert fault["redispatched"] == fault["affected_requests"] and fault["lost"] == 0
    # each answered only after the failure was noticed, at the regional site
    around = (created >= FAIL_S - 0.02) & (created < noticed)  # (placed up to 5 ms ahead)
    held = around & (latency >= (noticed - created) - 1e-6)
    assert held.sum() >= fault["sent_before_noticed"]
    assert (place[held] == "regional").all()
    assert window.sum() > 90
    # none answered by the failed site after it failed; after the notice, none sent there
    done_at_edge = (place == "edge") & (created + latency > FAIL_S + 1e-9)
    assert not done_at_edge.any()
    later = created > noticed + DECISION_S
    assert (place[later] == "regional").all()
    assert np.nanmax(latency[later]) < 0.05


def test_noticed_at_once_nothing_waits() -> None:
    result = _run("nearest-edge", 0.0)
    fault = result.summary["faults"][0]
    assert fault["sent_before_noticed"] == 0
    t = result.requests
    after = pc.greater(t["created_s"], FAIL_S)
    assert float(pc.max(pc.filter(t["latency_ms"], after)).as_py()) < 50.0


def test_a_site_back_before_its_failure_was_noticed_takes_back_the_held_requests() -> None:
    """It fails at 1 s for 100 ms, and a notice would take 200 ms: nobody noticed. What it
    held, and what was sent to it meanwhile, is placed again when it comes back (counted as
    the fault's), and it serves again from then."""
    result = _run("nearest-edge", DETECT_MS, end_s=FAIL_S + 0.1)
    s = result.summary
    fault = s["faults"][0]
    assert fault["sent_before_noticed"] > 20
    assert fault["affected_requests"] >= fault["sent_before_noticed"]
    assert fault["lost"] == 0
    t = result.requests
    created = t["created_s"].to_numpy()
    latency = t["latency_ms"].to_numpy(zero_copy_only=False) * 1e-3
    place = np.asarray(t["placement"].to_pylist())
    held = (created > FAIL_S + DECISION_S) & (created < FAIL_S + 0.1 - DECISION_S)
    assert (latency[held] >= FAIL_S + 0.1 - created[held] - 1e-6).all()
    assert (place[created > FAIL_S + 0.2] == "edge").all()
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]


def test_detect_ms_is_only_for_a_site_down(tmp_path) -> None:
    from typer.testing import CliRunner

    from airan.cli import app

    d = _scenario("nearest-edge", 0.0)
    d["faults"] = [{"kind": "gpu_down", "site": "edge", "start_s": 1.0, "detect_ms": 100}]
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "detect_ms" in res.output and "faults" in res.output


def test_a_run_that_ends_before_the_failure_is_noticed_still_accounts_for_every_request(
        ) -> None:
    """Held unanswered at the end (noticed only at 1.9 s, the run ends at 1.5 s): in flight,
    on their way to the failed site as its gateway counts them; conservation holds."""
    d = _scenario("nearest-edge", 900.0)
    d["duration_s"] = 1.5
    s = airan.run(scenario_from_dict(d), seed=1).summary
    r = s["requests"]
    assert r["in_flight"] > 0.9 * 10 * 50 * 0.5
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]
    assert s["faults"][0]["affected_requests"] == 0  # none placed again yet


@pytest.mark.parametrize("other", [
    {"kind": "site_down", "site": "edge", "start_s": 1.1, "end_s": 1.2},
    {"kind": "gpu_down", "site": "edge", "gpus": 1, "start_s": 1.1, "end_s": 1.2},
    {"kind": "site_down", "site": "edge", "start_s": 1.1, "end_s": 1.2, "detect_ms": 50},
])
def test_another_fault_ending_on_a_failed_site_does_not_bring_it_back(other) -> None:
    """The edge fails at 1 s, noticed at 1.5 s, and never returns; a second fault on it comes
    and goes meanwhile (a review: its end put the site back in service): the edge answers
    nothing created after its failure, and the first failure is still noticed when due."""
    d = _scenario("nearest-edge", 500.0)
    d["faults"].append(other)
    result = airan.run(scenario_from_dict(d), seed=1)
    t = result.requests
    created = t["created_s"].to_numpy()
    latency = t["latency_ms"].to_numpy(zero_copy_only=False) * 1e-3
    place = np.asarray(t["placement"].to_pylist())
    assert not ((place == "edge") & (created + latency > FAIL_S + 1e-9)).any()
    later = created > FAIL_S + 0.5 + DECISION_S
    assert (place[later] == "regional").all()
    r = result.summary["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]


def test_a_context_on_a_site_that_failed_unnoticed_is_lost_not_moved() -> None:
    """A stateful service: a failed site's memory is gone whether or not the gateways know,
    so no context moves out of it (a review: 14 migrations from a dead site, against 4
    noticed at once)."""
    counts = {}
    for detect in (0.0, 200.0):
        d = _scenario("deadline-aware", detect)
        d["services"][0]["state_kb"] = 500
        counts[detect] = airan.run(scenario_from_dict(d), seed=1).summary["services"][
            "detect"]["state_migrations"]
    assert counts[200.0] <= counts[0.0]
