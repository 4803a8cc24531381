"""Device energy under NR against a hand computation (one UE alone in a cell, configured grant,
no HARQ failures), the policies' estimate of it, and the planner's average power under
``ai_ran``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.policy.base import device_energy_j
from airan.policy.builtin import nearest_edge
from airan.scenario import scenario_from_dict


def _cell(x_m: float, ul_kb: float, dl_kb: float) -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="rr", ul_access="configured_grant")
    d["fleets"] = [{"name": "ue", "count": 1, "services": ["perception"],
                    "area": {"x_m": [x_m, x_m + 0.01], "y_m": [0.0, 0.01]}}]
    d["services"][0].update(ul_kb=ul_kb, dl_kb=dl_kb, rate_hz=0.5, arrivals="periodic",
                            jitter_ms=0.0)
    d["duration_s"] = 20.0
    return d


def _ul_energy_by_hand(w: Any, bits: float) -> float:
    """(circuits + output / PA efficiency) x the U slots' time its bits fill (the
    rules of tests/test_radio_capacity.py for the capacity of a U slot)."""
    per_mw = w.dev_top_gain[0, 0] * w.cell_prb[0] * w.cell_ul_rx_gain[0] / w.ul_noise_mw[0]
    p_prb, used = w.dev_ul_p_prb_mw[0], float(w.cell_prb[0])
    if p_prb * used > w.dev_ue_tx_mw:
        used = min(used, w.dev_ue_tx_mw * per_mw / w.min_sinr_lin)
        p_prb = w.dev_ue_tx_mw / used
    se = min(0.75 * math.log2(1.0 + p_prb * per_mw / 1.25), 7.4063)
    cap = used * se * 12 * 14 * (1 - 0.08)
    return (1.0 + p_prb * used * 1e-3 / 0.25) * w.slot_s * bits / cap


@pytest.mark.parametrize("x_m", [40.0, 300.0])  # on all PRBs at low power; power-limited
def test_nr_upload_energy_and_the_policy_estimate_match_by_hand(x_m: float) -> None:
    est: list[float] = []

    def spy(snap: Any, batch: Any) -> np.ndarray:
        est.extend(device_energy_j(snap, batch)[:, 0])
        return nearest_edge(snap, batch)

    eng = Engine(scenario_from_dict(_cell(x_m, 100.0, 0.0)), policy=spy, seed=2)
    s = eng.run().summary
    assert s["requests"]["in_flight"] == 0
    hand = _ul_energy_by_hand(eng.world, 100e3 * 8)
    assert s["fleets"]["ue"]["energy_per_request_j"] == pytest.approx(hand, rel=1e-9)
    assert s["fleets"]["ue"]["mean_power_w"] == pytest.approx(3.0 + 10 * hand / 20.0, rel=1e-9)
    assert np.mean(est) == pytest.approx(hand, rel=1e-6)  # was 5x (DDDSU) to 9x (full power)


@pytest.mark.parametrize("mode", ["none", "dynamic", "mig"])
def test_the_planners_average_power_is_the_runs_site_power(mode: str) -> None:
    """The planner's average W for a slot is what the engine's site power gives (idle + busy
    share x (TDP - idle), the busy share counting the cells' L1 and, under MIG, the AI
    instance's time at its 4/7 of the GPU), not idle + AI utilization x (TDP - idle), which
    was 54% high under MIG."""
    from airan.planner.build import build_space
    from airan.planner.evaluate import Evaluator
    from airan.planner.targets import parse_targets

    d = one_cell_site(sectors=1)
    d["radio"].update(model="ideal")
    d["compute_sites"][0]["batching"] = {"max_batch": 1, "max_wait_ms": 0.0}
    d["fleets"] = [{"name": "ue", "count": 3, "services": ["s"],
                    "area": {"x_m": [10.0, 20.0], "y_m": [0.0, 1.0]}}]
    d["services"] = [{"name": "s", "model": "yolov8s", "rate_hz": 20.0, "arrivals": "periodic",
                      "jitter_ms": 0.0, "ul_kb": 1, "dl_kb": 1, "deadline_ms": 1000,
                      "service_time": {"dist": "fixed", "mean_ms": 10.0}}]
    d["ai_ran"].update(mode=mode)
    sc = scenario_from_dict(d)
    space = build_space(sc, candidates=["H100"], sites=["edge"], max_gpus=2)
    ev = Evaluator(space, parse_targets(["s: hit>=0.5"], ["s"]), policy="nearest-edge",
                   duration_s=2.0, seeds=[sc.seed])(((0, 1),))
    run = Engine(space.scenario_for(ev.config, policy="nearest-edge", seed=sc.seed,
                                    duration_s=2.0)).run().summary
    assert ev.average_power_w == pytest.approx(run["sites"]["edge"]["power_w"], rel=1e-6)


def test_under_pf_a_small_upload_costs_a_whole_slot_of_circuits_and_the_estimate_says_so() -> None:
    """PF sizes a UE's grant to its data, so a 15 kB upload (half a slot on all PRBs) sends for
    the whole slot and the circuits draw for all of it; the output energy is the same as on
    an equal share. The policies' estimate charged half a slot (as round robin books it):
    0.25 against 0.50 mJ on a reviewer's factory cell."""
    est: list[float] = []

    def spy(snap: Any, batch: Any) -> np.ndarray:
        est.extend(device_energy_j(snap, batch)[:, 0])
        return nearest_edge(snap, batch)

    d = _cell(40.0, 15.0, 0.0)
    d["radio"]["scheduler"] = "pf"
    eng = Engine(scenario_from_dict(d), policy=spy, seed=2)
    s = eng.run().summary
    assert s["requests"]["in_flight"] == 0
    realised = s["fleets"]["ue"]["energy_per_request_j"]
    half_slot = _ul_energy_by_hand(eng.world, 15e3 * 8)  # the part of a slot its bits fill
    assert realised > 1.5 * half_slot  # a whole slot of circuit power
    assert np.mean(est) == pytest.approx(realised, rel=1e-3)
