"""The late requests' wait at a compute site that failed with them there, told apart.

A hospital's review: an on-prem server down at 2.5 s, noticed 500 ms later, made late robots'
requests read "most of it uplink transport (53%)" with the transport links 1.3% used: 99.7% of
that transport was the wait at the dead server. The engine books that wait as uplink transport
(the request's way to where it ran) and now also sums it apart for the late ones
(``late_failed_site_ms``); the reports and the planner's diagnosis name it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import airan
from airan.report.placement import FAILED_SITE, late_parts
from airan.scenario import scenario_from_dict


def _ward(faults: list[dict[str, Any]]) -> Any:
    """One ideal-radio cell, an on-prem L4 and a regional L4 each 1 km of fibre away;
    20 cameras at 20 Hz, 30 ms deadline, nearest-edge (on-prem, then regional)."""
    return scenario_from_dict({
        "name": "ward", "duration_s": 1.0, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "c", "position_m": [0, 0], "height_m": 3, "sectors": 1}],
        "nodes": [{"name": "room", "position_m": [10, 0]}, {"name": "reg"}],
        "compute_sites": [{"name": "onprem", "at": "room", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]},
                          {"name": "regional", "at": "reg", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"links": [{"a": "c", "b": "room", "fiber_km": 1},
                                {"a": "c", "b": "reg", "fiber_km": 1}]},
        "fleets": [{"name": "cams", "count": 20, "services": ["fall"],
                    "area": {"center_m": [0, 0], "radius_m": 5}}],
        "services": [{"name": "fall", "model": "yolov8n", "rate_hz": 20, "ul_kb": 10,
                      "dl_kb": 1, "deadline_ms": 30}],
        "faults": faults})


def test_the_late_ones_wait_at_a_failed_site_is_their_transport_less_the_fibre() -> None:
    """The on-prem site down at 0.3 s, noticed 100 ms later: the requests sent there meanwhile
    wait at it until then and go on to the regional edge, late. Their uplink transport is
    that wait and two fibre legs of microseconds; the wait summed apart is all of it but
    those, and the split parts add up to the late ones' mean as before."""
    res = airan.run(_ward([{"kind": "site_down", "site": "onprem", "start_s": 0.3,
                            "end_s": 0.8, "detect_ms": 100}]), seed=1)
    fall = res.summary["services"]["fall"]
    t = res.requests
    late = np.asarray(t.column("outcome").to_pylist()) == "late"
    assert late.sum() > 20
    transport = np.asarray(t.column("ul_transport_ms").to_numpy())
    leg = float(np.median(transport[~late]))  # (one leg of fibre, a hop and serialization)
    assert 0.0 < leg < 0.2
    assert fall["late_failed_site_ms"] > 10.0
    # each late one that went on from the failed site waited there from its arrival (its
    # upload's end and a leg) to the moment the gateway sent it on: the first of them to
    # reach the regional edge, less a leg (the others queued behind it on the link, 8 us per
    # 10 kB at 10 Gbit/s, which is transport)
    col = {k: np.asarray(t.column(k).to_numpy()) for k in
           ("created_s", "ul_wait_ms", "ul_air_ms")}
    up_done = col["created_s"] * 1e3 + col["ul_wait_ms"] + col["ul_air_ms"]
    moved = late & (transport > 1.0)
    assert moved.sum() > 20
    sent_on = float((up_done + transport)[moved].min()) - leg
    wait = np.where(moved, sent_on - (up_done + leg), 0.0)[late]
    assert fall["late_failed_site_ms"] == pytest.approx(wait.mean(), abs=1e-6)
    parts = late_parts(fall)
    assert parts is not None
    assert parts[FAILED_SITE] == pytest.approx(fall["late_failed_site_ms"])
    assert parts["ul_transport"] == pytest.approx(
        fall["late_breakdown_ms"]["ul_transport"] - fall["late_failed_site_ms"])
    assert sum(v for v in parts.values() if v is not None) == pytest.approx(
        fall["late_latency_ms"], rel=1e-9)


def test_without_a_fault_nothing_waits_at_a_failed_site() -> None:
    fall = airan.run(_ward([]), seed=1).summary["services"]["fall"]
    assert fall["late_failed_site_ms"] in (None, 0.0)
    assert FAILED_SITE not in (late_parts(fall) or {})


def test_requests_cut_by_a_gpu_down_count_their_time_at_it() -> None:
    """A gpu_down acts at once: the requests it cuts mid-batch lost their time at the site up
    to then (queued and computing), part of their uplink transport, and no more."""
    res = airan.run(_ward([{"kind": "gpu_down", "site": "onprem", "start_s": 0.3,
                            "end_s": 0.8}]), seed=1)
    fall = res.summary["services"]["fall"]
    if fall["late"]:
        assert 0.0 <= fall["late_failed_site_ms"] <= fall["late_breakdown_ms"]["ul_transport"]
    assert res.summary["requests"]["created"] > 0


def test_an_upload_whose_cell_lost_its_path_waits_at_no_failed_site() -> None:
    """A diff review: vehicles handing over between two cells, each linked only to its own
    site, finish uploads on a cell with no path to the site they were sent to; the engine
    places them again at the next decision, and with no fault that wait was booked 'at a failed
    site'. It is transport, as before."""
    sc = scenario_from_dict({
        "name": "move", "duration_s": 2.0, "seed": 1, "policy": "nearest-edge",
        "radio": {"environment": "umi"},
        "cell_sites": [{"name": "c1", "position_m": [0, 0], "height_m": 10, "sectors": 1},
                       {"name": "c2", "position_m": [300, 0], "height_m": 10, "sectors": 1}],
        "nodes": [{"name": "n1", "position_m": [0, 10]}, {"name": "n2", "position_m": [300, 10]}],
        "compute_sites": [{"name": "s1", "at": "n1", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]},
                          {"name": "s2", "at": "n2", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"links": [{"a": "c1", "b": "n1", "fiber_km": 1},
                                {"a": "c2", "b": "n2", "fiber_km": 1}]},
        "fleets": [{"name": "cams", "count": 60, "services": ["fall"],
                    "area": {"center_m": [150, 0], "radius_m": 60},
                    "mobility": {"model": "random_waypoint", "speed_mps": [20, 30],
                                 "update_ms": 10}}],
        "services": [{"name": "fall", "model": "yolov8n", "rate_hz": 20, "ul_kb": 200,
                      "dl_kb": 1, "deadline_ms": 40}]})
    fall = airan.run(sc, seed=1).summary["services"]["fall"]
    assert fall["late"] > 0
    assert fall["late_failed_site_ms"] == 0.0
