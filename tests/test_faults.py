"""Faults: sites, GPUs, links and cells that fail, and fleets that surge; nothing is lost.

* a failed site's queued and running requests are re-dispatched through the policy: with
  another site able to serve them, none is lost; with none, they end dropped as site_failure;
* a GPU failure takes its batches with it and leaves the site's other GPUs serving;
* a cut link re-routes traffic around it (the detour's delay), restored when it returns;
* a cell off air moves its devices to their next strongest cell and back;
* a surge multiplies the fleet's rate for its duration;
* random fault schedules never break conservation (hypothesis); bad fault targets are input
  errors that name the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airan import InputError
from airan.engine import REASONS, Engine
from airan.scenario import load_scenario, scenario_from_dict


def _factory(faults: list[dict[str, Any]], **changes: Any) -> Any:
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = faults
    d.update(changes)
    return scenario_from_dict(d)


def _conserves(s: dict[str, Any]) -> None:
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]
    assert sum(r["dropped_by_reason"].values()) == r["dropped"]


_PARTS = ("ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms", "compute_ms",
          "dl_transport_ms", "dl_air_ms")


def _no_negative_parts(trace: Any) -> None:
    """Every row's breakdown parts are >= 0 (NaN: a stage the request did not reach), and the
    parts of every request that ended add up to its latency (a dropped one's, to its drop)."""
    parts = np.stack([trace[name].to_numpy(zero_copy_only=False) for name in _PARTS])
    assert not np.any(parts < -1e-9), parts[:, np.any(parts < -1e-9, axis=0)][:, :5]
    ended = np.array(trace["outcome"].to_pylist(), dtype=str) != "in_flight"
    total = np.nansum(parts, axis=0)[ended]
    latency = trace["latency_ms"].to_numpy(zero_copy_only=False)[ended]
    bad = np.abs(total - latency) > 1e-6
    assert not bad.any(), (total[bad][:5], latency[bad][:5])


def test_failed_site_work_is_redispatched_and_nothing_is_lost() -> None:
    sc = _factory([{"kind": "site_down", "site": "on-prem", "start_s": 0.5, "end_s": 1.5}])
    s = Engine(sc, policy="nearest-edge", duration_s=2.0).run().summary
    _conserves(s)
    f = s["faults"][0]
    # nearest-edge sends the factory's work to on-prem (its queued and running requests)
    assert f["affected_requests"] > 20
    assert f["lost"] == 0 and f["redispatched"] == f["affected_requests"]
    assert "site_failure" not in s["requests"]["dropped_by_reason"]
    # while it was down, the regional edge took the work
    healthy = Engine(_factory([]), policy="nearest-edge", duration_s=2.0).run().summary
    assert s["sites"]["regional"]["served"] > healthy["sites"]["regional"]["served"] + 50


def test_failure_with_nowhere_else_to_go_drops_as_site_failure() -> None:
    d = load_scenario("factory").model_dump(mode="json")
    d["compute_sites"] = [c for c in d["compute_sites"] if c["name"] == "on-prem"]
    d["transport"]["links"] = [lk for lk in d["transport"]["links"] if "cloud" not in lk.values()]
    d["nodes"] = [n for n in d["nodes"] if n["name"] != "cloud"]
    for f in d["fleets"]:
        f["accelerator"] = "none"
    d["faults"] = [{"kind": "site_down", "site": "on-prem", "start_s": 0.5}]
    d["policy"] = "nearest-edge"
    res = Engine(scenario_from_dict(d), duration_s=1.0).run()
    s = res.summary
    _conserves(s)
    f = s["faults"][0]
    assert f["lost"] > 0 and f["lost"] == f["affected_requests"]
    # and the requests created while it is down: nearest-edge has no site up to send them to,
    # a fault's drop (they once counted as admission drops, with no admission control set)
    by_reason = s["requests"]["dropped_by_reason"]
    assert "admission" not in by_reason
    t = res.requests
    created = t["created_s"].to_numpy()
    outcome = np.array(t["outcome"].to_pylist())
    late_born = (created > 0.5 + 1e-3) & (outcome == "dropped:site_failure")
    assert late_born.sum() > 100
    assert by_reason["site_failure"] == f["lost"] + late_born.sum()
    assert set(np.array(t["placement"].to_pylist())[late_born]) == {"rejected"}


def test_gpu_failure_takes_its_batches_and_the_others_keep_serving() -> None:
    sc = _factory([{"kind": "gpu_down", "site": "on-prem", "gpus": 1, "start_s": 0.5}])
    eng = Engine(sc, policy="nearest-edge", duration_s=1.5)
    s = eng.run().summary
    _conserves(s)
    assert s["faults"][0]["affected_requests"] > 0
    assert s["faults"][0]["lost"] == 0
    assert s["sites"]["on-prem"]["served"] > 0
    assert int(eng.faults.gpu_up.sum()) == len(eng.faults.gpu_up) - 1


def _triangle() -> dict[str, Any]:
    """Three nodes: a direct 10 km fibre from the factory MEC to the regional edge, and a
    detour of 100 km through a third node."""
    d = load_scenario("factory").model_dump(mode="json")
    d["nodes"].append({"name": "detour", "position_m": [500.0, 500.0]})
    links = [lk for lk in d["transport"]["links"] if lk["a"] != "factory-mec"]
    links += [
        {"a": "factory-mec", "b": "regional-edge", "fiber_km": 10.0, "capacity_gbps": 10.0},
        {"a": "factory-mec", "b": "detour", "fiber_km": 50.0, "capacity_gbps": 10.0},
        {"a": "detour", "b": "regional-edge", "fiber_km": 50.0, "capacity_gbps": 10.0},
    ]
    d["transport"]["links"] = links
    return d


def test_cut_link_reroutes_around_it_and_comes_back() -> None:
    d = _triangle()
    d["faults"] = [{"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 0.2, "end_s": 0.4}]
    eng = Engine(scenario_from_dict(d), duration_s=0.6)
    w = eng.world
    mec = w.node_names.index("factory-mec")
    regional = w.site_names.index("regional")
    before = float(w.path_delay_s[mec, regional])
    eng.step(int(round(0.3 / w.slot_s)))
    during = float(w.path_delay_s[mec, regional])
    eng.step(eng.n_slots)
    after = float(w.path_delay_s[mec, regional])
    # 4.9 us/km: the detour adds 90 km, and one more hop of 5 us
    assert during - before == pytest.approx(90 * 4.9e-6 + 5e-6, rel=1e-9)
    assert after == before
    _conserves(eng.summary())


def test_requests_between_nodes_when_a_link_is_cut_finish_their_old_path() -> None:
    """A cloud answer moves hop by hop (kernel.send); cut a link while answers are between
    the cloud and the regional edge: they finish on the path they took, none is lost."""
    d = _triangle()
    d["policy"] = "least-loaded"  # sends a share of the work to the cloud, ~10 ms away
    d["faults"] = [{"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 0.3, "end_s": 0.5}]
    eng = Engine(scenario_from_dict(d), duration_s=0.8, seed=2)
    s = eng.run().summary
    assert eng.faults.flushed_in_transit > 0  # at the cut and at the repair
    _conserves(s)
    assert s["requests"]["in_flight"] < s["requests"]["created"] * 0.1
    assert "link_full" not in s["requests"]["dropped_by_reason"]


def test_degraded_link_is_slower_while_degraded() -> None:
    d = _triangle()
    d["faults"] = [{"kind": "link_degraded", "link": ["factory-mec", "regional-edge"],
                    "start_s": 0.0, "extra_delay_ms": 3.0, "capacity_factor": 0.5}]
    eng = Engine(scenario_from_dict(d), duration_s=0.1)
    w = eng.world
    base = w.link_cap_bps.copy()
    eng.step(2)
    mec = w.node_names.index("factory-mec")
    regional = w.site_names.index("regional")
    # 3 ms more on the direct fibre makes the 100 km detour (0.49 ms) the shorter path
    assert w.path_delay_s[mec, regional] == pytest.approx(100 * 4.9e-6 + 2 * 5e-6, rel=1e-9)
    assert np.sort(w.link_cap_bps / base)[:2] == pytest.approx([0.5, 0.5])


def test_cell_off_air_moves_its_devices_and_takes_back_those_it_serves_better() -> None:
    """At its return a cell takes back the devices of another cell by event A3 (TS 38.331
    5.5.4.4): its RSRP above the serving cell's by hysteresis_db; each of those is silent for
    interruption_ms, and the others stay where they are. (T310 0: their links failed 0.2 s
    after the loss and they re-established on the others by 0.5 s; a cell back before the
    failure takes its devices back in sync, test_radio_link_failure.py.)"""
    handover = {"hysteresis_db": 3.0, "ttt_ms": 160.0, "interruption_ms": 30.0, "t310_ms": 0}
    sc = _factory([{"kind": "cell_down", "cell": "cell-a", "start_s": 0.2, "end_s": 0.5}],
                  handover=handover)
    eng = Engine(sc, duration_s=0.6)
    w = eng.world
    a = w.cell_names.index("cell-a")
    on_a = np.flatnonzero(w.dev_cell == a)
    assert on_a.size
    eng.step(int(round(0.3 / w.slot_s)))
    assert not np.any(w.dev_cell[on_a] == a)  # all moved to another cell
    rsrp = (w.dev_top_gain * w.cell_rs_mw[w.dev_top_cell])[on_a]
    rsrp_a = np.where(w.dev_top_cell[on_a] == a, rsrp, 0.0).sum(axis=1)
    margin_db = 10 * np.log10(rsrp_a / rsrp[:, 0])  # cell-a against the serving cell
    back = margin_db > 3.0
    assert back.any() and (~back).any()  # both kinds among the factory's devices
    eng.step(int(round(0.51 / w.slot_s)) - eng.slot)
    assert np.all(w.dev_cell[on_a[back]] == a)
    assert not np.any(w.dev_cell[on_a[~back]] == a)
    assert np.all(eng._st.ue_ul_elig[on_a[back]] >= 0.53 - 1e-9)  # the handover's silence
    eng.step(eng.n_slots)
    s = eng.result().summary
    _conserves(s)
    assert s["faults"][0]["devices_moved"] == on_a.size
    assert s["faults"][0]["devices_back"] == back.sum()


def test_deadline_aware_offloads_again_once_a_cell_is_back_on_air() -> None:
    """A cell off air for a second puts its devices in radio outage (or on a weaker cell):
    deadline-aware keeps their requests on board (a CPU, ~80 ms against 50). When the cell is
    back, their link quality is re-evaluated before the policy reads it. It was re-evaluated
    only when a scheduler next served them, which an on-board request never reaches, so three
    of 30 carts ran on board, all late, to the end of the run (a reviewer's hospital). (Its
    carts are in sync again 100 ms after its return, before T310 ran out, and their backlog
    goes out within a few tens of ms: from 2.25 s, none on board but the odd request of a
    device that kept one on board before the fault too, at the edge of the cells' reach: on
    this seed one cart in a corner, 15 dB below the floor at times.)"""
    sc = scenario_from_dict({
        "name": "ward", "duration_s": 3, "policy": "deadline-aware",
        "radio": {"environment": "inh"},
        "carrier": {"band": "n257", "fc_ghz": 28, "bandwidth_mhz": 100, "numerology": 3,
                    "tdd_pattern": "DDDSU", "tx_power_dbm": 23},
        "cell_sites": [{"name": n, "position_m": p, "height_m": 3, "sectors": 1}
                       for n, p in (("a", [20, 20]), ("b", [80, 20]), ("icu", [50, 60]))],
        "compute_sites": [{"name": "ran-gpu", "at": "icu", "kind": "cell",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"backhaul": {"to": "icu", "capacity_gbps": 10}},
        "fleets": [{"name": "carts", "count": 30, "area": {"x_m": [0, 100], "y_m": [0, 80]},
                    "device_class": "amr", "services": ["det"]}],
        "services": [{"name": "det", "model": "yolov8s", "rate_hz": 10, "arrivals": "poisson",
                      "ul_kb": 10, "dl_kb": 0.5, "deadline_ms": 50}],
        "faults": [{"kind": "cell_down", "cell": "icu", "start_s": 1, "end_s": 2}],
    })
    t = Engine(sc, seed=1).run().requests.to_pydict()
    created, place = np.array(t["created_s"]), np.array(t["placement"])
    device = np.array(t["device"])
    during = (created > 1.1) & (created < 1.9)
    assert np.sum(place[during] == "local") > 50  # the outage did keep some on board
    after = created > 2.25
    on_board_after = after & (place == "local")
    on_board_before = (created < 1.0) & (place == "local")
    assert after.sum() > 200 and on_board_after.sum() <= 2
    assert set(device[on_board_after]) <= set(device[on_board_before])


@pytest.mark.parametrize(("arrivals", "rate_hz"), [("poisson", 5.0), ("periodic", 0.5)])
def test_a_surge_reaches_its_rate_at_once(arrivals: str, rate_hz: float) -> None:
    """The next arrival each device had drawn at the old rate moves too: a Poisson fleet ramped
    up over its mean gap (68% of the surge's requests in a 0.5 s surge at 5 Hz), and a
    periodic one at 0.5 Hz could miss a 1 s surge entirely."""
    d = load_scenario("factory").model_dump(mode="json")
    d["fleets"][0]["count"] = d["fleets"][1]["count"] = 1
    d["fleets"][2]["count"] = 60
    svc = next(v for v in d["services"] if v["name"] == "inspect")
    svc.update(arrivals=arrivals, rate_hz=rate_hz)
    d["faults"] = [{"kind": "surge", "fleet": "camera", "start_s": 1.0, "end_s": 2.0,
                    "rate_factor": 10.0}]
    counts = []
    for seed in (1, 2, 3):
        r = Engine(scenario_from_dict(d), duration_s=3.0, seed=seed).run()
        t = r.requests
        svcs = np.array(t.column("service").to_pylist())
        created = t.column("created_s").to_numpy()[svcs == "inspect"]
        counts.append([np.sum((created >= a) & (created < a + 0.5)) for a in (1.0, 1.5, 2.5)])
    first, second, after = np.mean(counts, axis=0)
    expected = 60 * rate_hz * 10 * 0.5  # per half second of the surge
    assert first == pytest.approx(expected, rel=0.1)  # the first half as full as the second
    assert second == pytest.approx(expected, rel=0.1)
    assert after == pytest.approx(expected / 10, rel=0.35)  # and back after it


def test_a_surge_on_a_jittered_periodic_fleet_adds_its_requests_and_no_gap() -> None:
    """The flows' phases take no jitter when a surge moves them: each start and end pushed every
    flow back by about one jitter, 70 of 200 extra requests lost and seconds after the surges
    below the base rate."""
    d = load_scenario("factory").model_dump(mode="json")
    d["fleets"][0]["count"] = d["fleets"][1]["count"] = 1
    d["fleets"][2]["count"] = 100
    svc = next(v for v in d["services"] if v["name"] == "inspect")
    svc.update(arrivals="periodic", rate_hz=1.0, jitter_ms=400.0)

    def per_second(faults: list[dict[str, Any]]) -> np.ndarray:
        d["faults"] = faults
        t = Engine(scenario_from_dict(d), duration_s=8.0, seed=1).run().requests
        svcs = np.array(t.column("service").to_pylist())
        created = t.column("created_s").to_numpy()[svcs == "inspect"]
        return np.histogram(created, bins=np.arange(0.0, 8.01, 1.0))[0]

    base = per_second([])
    surged = per_second([{"kind": "surge", "fleet": "camera", "start_s": a, "end_s": a + 1.0,
                          "rate_factor": 2.0} for a in (1.0, 3.0)])
    assert surged.sum() - base.sum() == pytest.approx(2 * 100, abs=6)  # 100 more a surge
    assert np.all(surged[5:] >= base[5:].mean() - 12)  # no gap after them


def test_surge_multiplies_the_fleet_rate_for_its_duration() -> None:
    sc = _factory([{"kind": "surge", "fleet": "amr", "start_s": 0.5, "end_s": 1.5,
                    "rate_factor": 3.0}])
    s = Engine(sc, duration_s=2.0).run().summary
    _conserves(s)
    amr = next(f for f in load_scenario("factory").fleets if f.name == "amr")
    rate = 20.0 * amr.count  # 20 Hz detection per AMR (factory.yaml)
    assert s["faults"][0]["requests_during"] == pytest.approx(3 * rate * 1.0, rel=0.05)


@pytest.mark.parametrize(("fault", "field"), [
    ({"kind": "site_down", "site": "on-prem-x", "start_s": 0.1}, "faults[0].site"),
    ({"kind": "link_down", "link": ["factory-mec", "cloud"], "start_s": 0.1}, "faults[0].link"),
    ({"kind": "cell_down", "cell": "cell-z", "start_s": 0.1}, "faults[0].cell"),
    ({"kind": "surge", "fleet": "drones", "start_s": 0.1}, "faults[0].fleet"),
    ({"kind": "gpu_down", "site": "on-prem", "gpus": 9, "start_s": 0.1}, "faults[0].gpus"),
])
def test_bad_fault_target_is_an_input_error_naming_the_field(fault: dict[str, Any],
                                                              field: str) -> None:
    with pytest.raises(InputError) as exc:
        Engine(_factory([fault]), duration_s=0.1)
    assert field in str(exc.value)


def test_fault_needs_its_target_and_an_end_after_its_start() -> None:
    with pytest.raises(InputError, match="faults"):
        _factory([{"kind": "site_down", "start_s": 0.1}])
    with pytest.raises(InputError, match="end_s"):
        _factory([{"kind": "surge", "fleet": "amr", "start_s": 0.5, "end_s": 0.2}])


_KINDS = ["site_down", "gpu_down", "link_down", "link_degraded", "cell_down", "interference",
          "surge"]
_TARGET = {
    "site_down": {"site": "on-prem"}, "gpu_down": {"site": "regional", "gpus": 2},
    "link_down": {"link": ["factory-mec", "regional-edge"]},
    "link_degraded": {"link": ["regional-edge", "cloud"], "capacity_factor": 0.01,
                      "extra_delay_ms": 30.0},
    "cell_down": {"cell": "cell-b"}, "surge": {"fleet": "camera", "rate_factor": 4.0},
    "interference": {"cell": "cell-a", "rise_db": 20.0},
}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_KINDS), st.floats(0.0, 0.5), st.floats(0.05, 0.5),
                          st.booleans()), min_size=1, max_size=4),
       st.sampled_from(["deadline-aware", "nearest-edge", "least-loaded"]))
def test_random_fault_schedules_never_lose_a_request(schedule: list[Any], policy: str) -> None:
    faults = []
    for kind, start, length, ends in schedule:
        f = {"kind": kind, "start_s": round(start, 3), **_TARGET[kind]}
        if ends:
            f["end_s"] = round(start + length, 3) + 0.001
        faults.append(f)
    eng = Engine(_factory(faults), policy=policy, duration_s=0.8)
    result = eng.run()
    s = result.summary  # the engine checks conservation itself, and raises if broken
    _conserves(s)
    _no_negative_parts(result.requests)
    assert set(s["requests"]["dropped_by_reason"]) <= set(REASONS)
    for f in s["faults"]:
        assert f["redispatched"] + f["lost"] == f["affected_requests"]


# ---- regressions found in review --------------------------------------------------------------

def test_a_cut_path_is_never_free_transport() -> None:
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 0.5}]
    eng = Engine(scenario_from_dict(d), duration_s=1.0, trace_limit=10**6)
    regional = eng.world.site_names.index("regional")
    eng.policy = lambda snap, batch: np.full(len(batch), regional, dtype=np.int64)
    res = eng.run()
    t = res.requests
    place = np.asarray(t.column("placement").to_pylist(), dtype=object)
    ul = t.column("ul_transport_ms").to_numpy()
    outcome = np.asarray(t.column("outcome").to_pylist(), dtype=object)
    served = (place == "regional") & np.isin(outcome, ["met", "late"])
    assert served.any() and np.all(ul[served] > 0.1)  # crossed the fibre before the cut
    assert res.summary["requests"]["dropped_by_reason"].get("no_route", 0) > 0
    _conserves(res.summary)


def test_overlapping_surges_combine_and_end_at_the_base_rate() -> None:
    sc = _factory([{"kind": "surge", "fleet": "amr", "start_s": 0.2, "end_s": 0.6,
                    "rate_factor": 2.0},
                   {"kind": "surge", "fleet": "amr", "start_s": 0.4, "end_s": 0.8,
                    "rate_factor": 2.0}])
    eng = Engine(sc, duration_s=1.4)
    per_s = round(1 / eng.world.slot_s)
    counts = []
    for until in (0.45, 0.55, 0.65, 0.75, 1.0, 1.4):  # requests the AMRs created so far
        eng.step(int(round(until * per_s)) - eng.slot)
        counts.append(int(eng._st.fleet_req[0]))
    rate = np.diff(counts) / np.diff([0.45, 0.55, 0.65, 0.75, 1.0, 1.4])
    assert rate[0] == pytest.approx(3200, rel=0.1)  # both active: 40 AMRs x 20 Hz x 4
    assert rate[2] == pytest.approx(1600, rel=0.1)  # one left: x 2
    assert rate[4] == pytest.approx(800, rel=0.1)  # none: the base rate


def test_overlapping_gpu_faults_add_up_and_each_end_gives_back_only_its_own() -> None:
    """on-prem has 2 GPUs. A takes 2 over [0.2, 0.6) s, B takes 1 over [0.4, 1.0) s: before,
    B found no GPU still up to take, so when A ended both came back while B still held one."""
    sc = _factory([{"kind": "gpu_down", "site": "on-prem", "gpus": 2, "start_s": 0.2,
                    "end_s": 0.6},
                   {"kind": "gpu_down", "site": "on-prem", "gpus": 1, "start_s": 0.4,
                    "end_s": 1.0}])
    eng = Engine(sc, policy="nearest-edge", duration_s=1.2)
    site = eng.world.site_names.index("on-prem")
    gpus = np.flatnonzero(eng.world.gpu_site == site)
    per_s = round(1 / eng.world.slot_s)
    up = []
    for until in (0.3, 0.5, 0.7, 1.1):
        eng.step(int(round(until * per_s)) - eng.slot)
        up.append(int(eng.faults.gpu_up[gpus].sum()))
    assert up == [0, 0, 1, 2]
    _conserves(eng.run().summary)


def test_all_gpus_down_makes_the_site_unhealthy_and_gives_back_its_queue() -> None:
    sc = _factory([{"kind": "gpu_down", "site": "on-prem", "gpus": 2, "start_s": 0.5,
                    "end_s": 1.5}])
    s = Engine(sc, policy="nearest-edge", duration_s=2.0).run().summary
    _conserves(s)
    assert "queue_full" not in s["requests"]["dropped_by_reason"]
    assert s["faults"][0]["affected_requests"] > 0 and s["faults"][0]["lost"] == 0
    assert s["sites"]["regional"]["served"] > 500


def test_mig_slice_must_leave_ai_some_gpu() -> None:
    d = load_scenario("city").model_dump(mode="json")
    d["ai_ran"] = {"mode": "mig", "mig_l1_fraction": 1.0}
    with pytest.raises(InputError, match="mig_l1_fraction"):
        scenario_from_dict(d)


def test_cell_back_on_air_leaves_moving_devices_on_links_of_where_they_are() -> None:
    """Vehicles on site6 at the start (16 to 25 a seed), moved off it by its outage from 1 s
    to 3.5 s: at 3.6 s each serves from one of the four strongest cells where it is now (no
    stale restored rows), but for a few just past a line-of-sight flip or in a handover's
    time to trigger; pooled over three seeds so one seed's few do not decide."""
    d = load_scenario("city").model_dump(mode="json")
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 250.0, "speed_mps": [8, 14]}
    d["faults"] = [{"kind": "cell_down", "cell": "site6", "start_s": 1.0, "end_s": 3.5}]
    on_strong = []
    for seed in (1, 2, 3):
        eng = Engine(scenario_from_dict(d), duration_s=3.6, seed=seed)
        site6 = np.flatnonzero([n.split("/")[0] == "site6" for n in eng.world.cell_names])
        moved = np.flatnonzero(np.isin(eng.world.dev_cell, site6))
        s = eng.run().summary
        # (a vehicle may have left site6 before the outage began)
        assert s["faults"][0]["devices_moved"] >= 0.8 * len(moved) > 0
        w = eng.world
        top = w.device_radio.links(w.dev_xy[moved], w.dev_h[moved]).cell
        on_strong.append(np.any(top[:, :4] == w.dev_cell[moved, None], axis=1))
    assert np.mean(np.concatenate(on_strong)) > 0.9


def test_validate_names_a_bad_fault_target(tmp_path: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "site_down", "site": "on-prm", "start_s": 1.0}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "faults[0].site" in res.output and "on-prem" in res.output


def test_a_batch_cut_by_a_failure_counts_its_compute_up_to_the_cut_and_no_service() -> None:
    """One 100 ms job at a site that fails 33 ms into it: its row's compute is those 33 ms
    (the parts add up to its latency), the site served nothing more than it finished, and
    only the part that ran is AI work (power)."""
    d: dict[str, Any] = {
        "name": "cut", "duration_s": 3, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "bs", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "dcsite", "at": "dc", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}],
                           "batching": {"max_batch": 1, "max_wait_ms": 0}}],
        "transport": {"hop_delay_us": 0,
                      "links": [{"a": "bs", "b": "dc", "fiber_km": 10, "capacity_gbps": 10}]},
        "fleets": [{"name": "f", "count": 1, "area": {"x_m": [0, 10], "y_m": [0, 10]},
                    "services": ["s"]}],
        "services": [{"name": "s", "model": "yolov8s", "rate_hz": 1, "arrivals": "periodic",
                      "jitter_ms": 0, "deadline_ms": 1000,
                      "service_time": {"dist": "fixed", "mean_ms": 100}}],
    }
    free = Engine(scenario_from_dict(d)).run().requests.to_pylist()[0]
    t_start = free["created_s"] + free["ul_transport_ms"] * 1e-3  # the first job's start
    d["faults"] = [{"kind": "site_down", "site": "dcsite", "start_s": t_start + 0.033,
                    "end_s": t_start + 1.0}]
    eng = Engine(scenario_from_dict(d))
    res = eng.run()
    rows = res.requests.to_pylist()
    first = rows[0]
    assert first["outcome"] == "dropped:site_failure"
    # faults act on the slot grid: the cut is within a slot of the fault's start
    assert first["compute_ms"] == pytest.approx(33.0, abs=eng.world.slot_s * 1e3)
    parts = sum(first[k] for k in ("ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms",
                                   "compute_ms"))
    assert parts == pytest.approx(first["latency_ms"], abs=1e-6)
    site = res.summary["sites"]["dcsite"]
    finished = sum(r["outcome"] in ("met", "late") for r in rows)
    assert site["served"] == site["batches"] == finished
    busy_s = site["gpu_utilization"] * 3.0
    spec_idle, spec_tdp = 105.0, 700.0  # H100 in the catalog (idle ~15% of TDP)
    assert site["power_w"] == pytest.approx(spec_idle + busy_s / 3.0 * (spec_tdp - spec_idle),
                                            rel=1e-6)


def test_orphans_sent_to_a_busy_device_drop_as_device_queue_full() -> None:
    """Work a failed site gives back, re-dispatched to the device's own accelerator beyond its
    local_queue_limit_ms, is dropped for the device's queue, as a new request would be (it was
    counted as a site's queue_full)."""
    d = load_scenario("factory").model_dump(mode="json")
    for f in d["fleets"]:
        f.update(accelerator="JetsonOrin", local_queue_limit_ms=1.0)
    d["faults"] = [{"kind": "site_down", "site": "on-prem", "start_s": 0.5, "end_s": 0.8}]

    def on_prem_or_device(snap: Any, batch: Any) -> np.ndarray:
        return np.full(len(batch), 0 if snap.site_healthy[0] else -1, dtype=np.int64)

    s = Engine(scenario_from_dict(d), policy=on_prem_or_device, duration_s=1.0).run().summary
    _conserves(s)
    assert s["faults"][0]["affected_requests"] > 0
    drops = s["requests"]["dropped_by_reason"]
    assert drops.get("device_queue_full", 0) > 0 and "queue_full" not in drops, drops


def test_work_a_whole_site_gives_back_counts_under_its_site_down_not_a_gpu_down() -> None:
    """With one of the regional GPUs down and then the whole regional site, what the site gives
    back while it is down is counted under the site_down (it went to the gpu_down before)."""
    sc = _factory([
        {"kind": "site_down", "site": "on-prem", "start_s": 0.5, "end_s": 1.2},
        {"kind": "gpu_down", "site": "regional", "gpus": 1, "start_s": 0.7, "end_s": 1.5},
        {"kind": "site_down", "site": "regional", "start_s": 0.9, "end_s": 1.0}])
    s = Engine(sc, policy="nearest-edge", duration_s=2.0, seed=4).run().summary
    _conserves(s)
    by_fault = {(f["kind"], f["target"]): f["affected_requests"] for f in s["faults"]}
    assert by_fault[("site_down", "regional")] > 0, by_fault


def _all_on_prem(snapshot: Any, batch: Any) -> Any:
    return np.zeros(len(batch), dtype=np.int64)


def test_a_request_moved_off_a_cut_batch_and_dropped_keeps_no_time_of_the_failed_site() -> None:
    # a small queue on-prem and GPUs failing every 50 ms: requests cut from a batch are sent
    # back to on-prem and some find its queue full; their rows held the cut batch's compute
    # times beside the new arrival (queue_ms down to -100 ms)
    faults = [{"kind": "gpu_down", "site": "on-prem", "start_s": 0.3 + 0.05 * i,
               "end_s": 0.32 + 0.05 * i, "gpus": 1} for i in range(10)]
    sc = _factory(faults)
    d = sc.model_dump(mode="json")
    d["compute_sites"][0].update(queue_limit=2, batching={"max_batch": 4, "max_wait_ms": 5})
    result = Engine(scenario_from_dict(d), policy=_all_on_prem, duration_s=1.0).run()
    trace = result.requests
    outcome = np.array(trace["outcome"].to_pylist(), dtype=str)
    assert result.summary["requests"]["dropped_by_reason"].get("queue_full", 0) > 0
    assert sum(f["redispatched"] for f in result.summary["faults"]) > 0
    _no_negative_parts(trace)
    dropped = np.char.startswith(outcome, "dropped")
    assert np.all(np.isnan(trace["compute_ms"].to_numpy(zero_copy_only=False)[
        dropped & (outcome == "dropped:queue_full")]))


def test_requests_dropped_after_a_cut_link_have_parts_that_add_up_to_the_drop() -> None:
    # the cloud policy keeps sending to a cloud no cell reaches after the cut: the uplinks that
    # end there wait at the gateway for the next decision, then drop no_route; that wait is
    # their transport (it was in no part: 4 of 468 rows fell up to 3 ms short)
    sc = _factory([{"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 3.0}])
    result = Engine(sc, policy="cloud", duration_s=5.0).run()
    assert result.summary["requests"]["dropped_by_reason"]["no_route"] > 100
    _no_negative_parts(result.requests)


def test_every_dropped_rows_parts_add_up_to_its_drop_whatever_stage_it_was_in() -> None:
    """A site down, a surge and a cut link on factory, its cameras keeping only their latest
    frame: requests dropped waiting in their device's buffer (superseded) book that wait as
    ul_wait; answers computed at a site the cut leaves no way back from drop no_route with no
    downlink parts (they never left the site), not parts of zero."""
    sc = _factory([{"kind": "site_down", "site": "on-prem", "start_s": 1.0, "end_s": 2.0},
                   {"kind": "surge", "fleet": "amr", "start_s": 0.5, "end_s": 1.5,
                    "rate_factor": 3.0},
                   {"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 2.0, "end_s": 2.5}])
    d = sc.model_dump(mode="json")
    camera = next(f for f in d["fleets"] if f["name"] == "camera")
    camera.update(ul_queue="latest", ul_buffer_kb=300)
    result = Engine(scenario_from_dict(d), policy="deadline-aware", duration_s=3.0).run()
    trace = result.requests
    _no_negative_parts(trace)
    outcome = np.array(trace["outcome"].to_pylist(), dtype=str)
    column = {name: trace[name].to_numpy(zero_copy_only=False)
              for name in (*_PARTS, "latency_ms")}
    superseded = outcome == "dropped:superseded"
    assert superseded.any()
    assert np.all(column["ul_wait_ms"][superseded] == column["latency_ms"][superseded])
    drops = result.summary["requests"]["dropped_by_reason"]
    cut = result.summary["faults"][2]
    assert 0 < cut["transport_drops_during"] == drops.get("no_route", 0) + drops.get("link_full", 0)
    answered_here = (outcome == "dropped:no_route") & ~np.isnan(column["compute_ms"])
    assert answered_here.any()
    assert np.all(np.isnan(column["dl_transport_ms"][answered_here]))
    assert np.all(np.isnan(column["dl_air_ms"][answered_here]))


def _requests(n: int) -> str:
    return f"{n:,} request" + ("" if n == 1 else "s")


def test_the_terminal_and_the_report_say_what_faults_did(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from airan.cli import app

    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "site_down", "site": "on-prem", "start_s": 0.2, "end_s": 0.4},
                   {"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                    "start_s": 0.5},
                   {"kind": "link_degraded", "link": ["regional-edge", "cloud"],
                    "capacity_factor": 0.25, "extra_delay_ms": 3, "start_s": 0.1, "end_s": 0.3},
                   {"kind": "surge", "fleet": "amr", "rate_factor": 1.5, "start_s": 0.6}]
    path = tmp_path / "faulty.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(path), "--duration", "1", "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    held = s["faults"][0]

    def ended(i: int) -> str:  # what ended late and dropped while fault i lasted
        e = s["faults"][i]["ended_during"]
        return (f"; of the {e['met'] + e['late'] + e['dropped']:,} that ended while it lasted, "
                f"{e['late']:,} late and {e['dropped']:,} dropped")

    line = (f"faults: site_down on-prem 0.2-0.4 s: requests given back to the policy "
            f"{held['affected_requests']:,} times ({held['redispatched']:,} placed again, "
            f"{held['lost']:,} rejected at once){ended(0)}; link_down between factory-mec and "
            f"regional-edge from 0.5 s to the end: "
            f"{_requests(s['faults'][1]['transport_drops_during'])} "
            f"dropped no_route or link_full while it lasted{ended(1)}; link_degraded between "
            "regional-edge and cloud (capacity x0.25, +3 ms) 0.1-0.3 s: "
            f"{_requests(s['faults'][2]['transport_drops_during'])} dropped no_route or "
            f"link_full while it lasted{ended(2)}; surge amr (rate x1.5) from 0.6 s to the end: "
            f"{s['faults'][3]['requests_during']:,} requests created while it lasted{ended(3)}")
    assert all(sum(f["ended_during"].values()) > 0 for f in s["faults"])
    assert s["faults"][2]["link"] == ["regional-edge", "cloud"]
    assert (s["faults"][2]["capacity_factor"], s["faults"][2]["extra_delay_ms"]) == (0.25, 3.0)
    assert held["affected_requests"] > 0
    assert line in " ".join(result.stdout.split())
    assert line in (tmp_path / "out" / "report.html").read_text()


def test_every_cell_off_air_leaves_the_devices_in_outage_and_their_return_restores_them() -> None:
    cells = ["cell-a", "cell-b", "cell-c", "cell-d"]
    sc = _factory([{"kind": "cell_down", "cell": c, "start_s": 0.2, "end_s": 0.4,
                    "reestablish_ms": 300.0} for c in cells])
    eng = Engine(sc, policy="cloud", duration_s=0.6)
    w = eng.world
    cell0, gain0, power0 = w.dev_cell.copy(), w.dev_top_gain.copy(), w.dev_ul_p_prb_mw.copy()
    eng.step(int(round(0.3 / w.slot_s)))
    assert np.all(w.dev_top_gain[:, 0] == 0.0)  # no cell on air: every device in outage
    eng.step(int(round(0.41 / w.slot_s)) - eng.slot)
    # in sync again on the cells back together before T310 ran out: silent for the 100 ms of
    # radio link monitoring's in-sync evaluation (test_radio_link_failure.py), not for the
    # 300 ms of a re-establishment
    assert np.all(eng._st.ue_ul_elig >= 0.5 - 1e-9)
    assert np.all(eng._st.ue_ul_elig <= 0.5 + 1e-6)
    eng.step(eng.n_slots)
    assert np.array_equal(w.dev_cell, cell0)  # back on their strongest cells, as they were
    assert np.array_equal(w.dev_top_gain[:, 0], gain0[:, 0])  # (the others in another order)
    assert np.array_equal(np.sort(w.dev_top_gain, axis=1), np.sort(gain0, axis=1))
    assert np.array_equal(w.dev_ul_p_prb_mw, power0)
    s = eng.result().summary
    _conserves(s)
    assert s["requests"]["dropped_by_reason"].get("radio_outage", 0) > 0
    last = s["faults"][-1]  # cell-d, the last to go: no cell left for anyone
    assert last["devices_moved"] == 0 and last["devices_without_cell"] == w.n_devices


def test_fault_and_mobility_lines_say_what_happened_within_the_run() -> None:
    from airan.report.events import events

    summary = {"duration_s": 2.0, "faults": [
        {"kind": "gpu_down", "target": "on-prem", "start_s": 0.5, "end_s": 1.0, "gpus": 1,
         "affected_requests": 1, "redispatched": 1, "lost": 0},
        {"kind": "surge", "target": "amr", "start_s": 1.5, "end_s": 3.0, "requests_during": 1},
        {"kind": "site_down", "target": "cloud", "start_s": 5.0, "end_s": 6.0,
         "affected_requests": 0, "redispatched": 0, "lost": 0}],
        "mobility": {"mobile_devices": 1, "handovers": 3, "radio_link_failures": 0,
                     "services": {"detect": {"requests_affected_by_handover": 2}}}}
    assert events(summary) == [
        "faults: gpu_down on-prem (1 GPU) 0.5-1 s: requests given back to the policy 1 time "
        "(1 placed again, 0 rejected at once); surge amr from 1.5 s to the end: 1 request created "
        "while it lasted; site_down cloud at 5 s: not reached in this run",
        "mobility: 1 moving device, 3 handovers, 0 radio link failures; requests on the radio "
        "when their device handed over (not those created during an interruption, which wait "
        "too): detect 2"]
    summary["mobility"]["handovers"] = 40  # enough for a rate: 40 in 2 s, 1,200 a minute
    assert "40 handovers (1.2e+03 per device per minute)" in events(summary)[1]
    cell = {"kind": "cell_down", "target": "cell-a", "start_s": 0.2, "end_s": 0.4,
            "devices_moved": 12, "devices_without_cell": 0, "devices_back": 7}
    summary["faults"] = [cell]
    assert events(summary)[0] == ("faults: cell_down cell-a 0.2-0.4 s: 12 devices moved to "
                                  "another cell, 7 back on it when it returned")
    cell["end_s"] = None  # it never came back: nothing said of a return
    assert events(summary)[0].endswith("12 devices moved to another cell")
    # the requests it held on their radio legs, which end after it (a humanoid maker's
    # review: "0 late and 0 dropped" of those ended while it lasted, where 23 it held were)
    summary["services"] = {"vla": {"interrupted": {"cell_fault": {"met": 132, "late": 23}}}}
    assert events(summary)[0].endswith(
        "12 devices moved to another cell; the cell outages met 155 requests on their radio "
        "legs, 23 of them late and 0 dropped (counted as they end, after the outage for most)")


def _two_cells(*, with_b: bool, faults: list[dict[str, Any]]) -> Any:
    """Cell A serving one device 45 m away, cell B 75 m from it serving nobody (no
    shadowing), 90% background traffic in every cell."""
    sites = [{"name": "a", "position_m": [0, 0], "sectors": 1}]
    if with_b:
        sites.append({"name": "b", "position_m": [120, 0], "sectors": 1})
    return scenario_from_dict({
        "name": "dark", "duration_s": 4, "seed": 3, "policy": "nearest-edge",
        "radio": {"environment": "UMi", "shadowing": False},
        "ai_ran": {"traffic": {"hourly": [0.9] * 24}},
        "cell_sites": sites, "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "edge", "at": "dc", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"links": [{"a": s["name"], "b": "dc", "fiber_km": 1, "capacity_gbps": 10}
                                for s in sites]},
        "fleets": [{"name": "f", "count": 1, "area": {"x_m": [45, 45], "y_m": [5, 5]},
                    "services": ["s"]}],
        "services": [{"name": "s", "model": "yolov8s", "rate_hz": 10, "ul_kb": 20,
                      "dl_kb": 100, "deadline_ms": 1000}],
        "faults": faults,
    })


def test_a_cell_off_the_air_interferes_no_more_than_a_cell_that_is_not_there() -> None:
    """While cell B is down it sends nothing: the background traffic it carried on air no
    longer interferes with cell A's device, on either link (the device's requests take the
    same air time, request by request, as in a layout without B; with B on air, longer)."""
    def run(sc: Any) -> np.ndarray:
        t = Engine(sc).run().requests
        return np.stack([t[c].to_numpy() for c in ("ul_air_ms", "dl_air_ms")])

    down = [{"kind": "cell_down", "cell": "b", "start_s": 0.0}]
    dark = run(_two_cells(with_b=True, faults=down))
    alone = run(_two_cells(with_b=False, faults=[]))
    np.testing.assert_array_equal(dark, alone)
    assert np.isfinite(dark).sum() > 70
    lit = run(_two_cells(with_b=True, faults=[]))
    # B's background on the downlink, at 90% of B's power: 42.2 against 10.2 ms a 100 kB
    # answer (B has no devices, so no uplink interference of its own)
    assert np.nanmean(lit[1]) > 2 * np.nanmean(dark[1]), (np.nanmean(lit, 1), np.nanmean(dark, 1))


@pytest.mark.parametrize("end_s", [0.5, None])
def test_a_cell_off_the_air_radiates_again_when_it_is_back(end_s: float | None) -> None:
    """cell-a down from 0.2 s: while it is off, its power in the downlink's interference and
    its devices' coupling into the other cells' uplink are zero; back, they are as built."""
    sc = _factory([{"kind": "cell_down", "cell": "cell-a", "start_s": 0.2, "end_s": end_s}])
    eng = Engine(sc, duration_s=1.0)
    tx0, ul0 = eng.world.cell_tx_on_mw.copy(), eng.world.ul_int_mw.copy()
    eng.run()
    w = eng.world
    a = w.cell_names.index("cell-a")
    from_a = w.ul_int_src == a
    assert from_a.any() and (ul0[from_a] > 0).all() and (tx0[:, a] > 0).all()
    if end_s is None:  # off to the end
        assert (w.cell_tx_on_mw[:, a] == 0).all() and (w.ul_int_mw[from_a] == 0).all()
        others = np.arange(len(w.cell_names)) != a
        np.testing.assert_array_equal(w.cell_tx_on_mw[:, others], tx0[:, others])
        np.testing.assert_array_equal(w.ul_int_mw[~from_a], ul0[~from_a])
    else:
        np.testing.assert_array_equal(w.cell_tx_on_mw, tx0)
        np.testing.assert_array_equal(w.ul_int_mw, ul0)


def test_moving_devices_residual_keeps_a_dark_cell_on_the_air() -> None:
    """Twelve of city's sites off the air 0.5-8 s while vehicles move: a device relisted
    meanwhile keeps their power in its residual interference beyond its strongest cells (a
    simplification), so once they are back its residual is a fresh listing's (a review: it
    was ~37% low until the device moved on another 100 m)."""
    d = load_scenario("city").model_dump(mode="json")
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 250.0, "speed_mps": [8, 14]}
    d["faults"] = [{"kind": "cell_down", "cell": f"site{i}", "start_s": 0.5, "end_s": 8.0}
                   for i in range(12)]
    eng = Engine(scenario_from_dict(d), duration_s=8.05)
    eng.run()
    w = eng.world
    listed_at = eng.motion._listed  # where each device's cells were last listed
    fresh = w.device_radio.links(listed_at, w.dev_h, w.dev_o2i)
    # (the same cells listed: faults and handovers reorder a list, serving cell first)
    same = (np.sort(fresh.cell, axis=1) == np.sort(w.dev_top_cell, axis=1)).all(axis=1)
    assert same.sum() > 100
    np.testing.assert_allclose(w.dev_resid_gain_mw[same], fresh.resid[same], rtol=1e-9)


def test_a_sites_load_at_full_batches_counts_only_the_gpus_in_service() -> None:
    """Two GPUs, one down from the start, carry what one GPU carries: the load at full batches
    (what the planner's headroom and overload rules read) is one GPU's, not half of it (a diff
    review: N-1's loss runs read the GPU left as half loaded, and passed a build-out that one
    GPU fewer had failed at 150%). One down for 1 s of 4: its GPU-seconds are 7, not 8."""
    from test_max_fleet import _one_gpu

    def load(gpus: int, faults: list[dict[str, Any]], seconds: float = 2.0) -> float:
        d = _one_gpu(80).model_dump(mode="json", exclude_unset=True)
        d["compute_sites"][0]["gpus"][0]["count"] = gpus
        d["faults"] = faults
        s = Engine(scenario_from_dict(d), duration_s=seconds, seed=1).run().summary
        return float(s["sites"]["gpu"]["full_batch_load"])

    one = load(1, [])
    assert one == pytest.approx(0.8, rel=0.05)  # 80 devices at 1 Hz, 10 ms each
    assert load(2, [{"kind": "gpu_down", "site": "gpu", "gpus": 1, "start_s": 0.0}]) == \
        pytest.approx(one, rel=1e-9)
    assert load(2, []) == pytest.approx(one / 2, rel=1e-9)
    part = load(2, [{"kind": "gpu_down", "site": "gpu", "gpus": 1, "start_s": 1.0,
                     "end_s": 2.0}], 4.0)
    assert part == pytest.approx(load(2, [], 4.0) * 8.0 / 7.0, rel=1e-9)


def test_a_link_down_that_cuts_cell_sites_off_says_their_cells_stay_on_the_air() -> None:
    """Cutting cell-a's backhaul (its only way to any compute site) leaves its cell on the
    air while its devices' requests drop as they are created (no_route), sending nothing up:
    validate names the site and the cell_down fault that takes the cell off the air instead
    (a port automation lead's review: cutting one mast's backhaul raised the rest of the
    terminal's hit ratios). A link whose loss cuts no cell site off is not warned of."""
    from airan.scenario.load import scenario_warnings

    cut = _factory([{"kind": "link_down", "link": ["cell-a", "factory-mec"], "start_s": 0.1,
                     "end_s": 0.3}])
    (line,) = [w for w in scenario_warnings(cut) if "faults[0].link" in w]
    assert "cuts cell site cell-a from every compute site from 0.1 s to 0.3 s" in line
    assert "cell_down" in line
    summary = Engine(cut, policy="nearest-edge", duration_s=0.4).run().summary
    assert summary["requests"]["dropped_by_reason"].get("no_route", 0) > 0
    around = _factory([{"kind": "link_down", "link": ["factory-mec", "regional-edge"],
                        "start_s": 0.1}])
    assert not [w for w in scenario_warnings(around) if "faults[0].link" in w]
