"""Device energy and site power.

* a request's device energy is power times time on its path, by hand: sending at full power
  (circuits plus output over PA efficiency) for its uplink bits over the link rate, receiving
  for its answer; on board, the accelerator's TDP for its service time;
* offloading a heavy model lengthens battery life by the ratio of the mean powers that these
  figures predict;
* a compute site draws its idle power plus its busy share of the dynamic range.
"""

from __future__ import annotations

from typing import Any

import pytest
from one_cell import one_cell_site

from airan.catalog import load_gpus
from airan.engine import Engine
from airan.scenario import scenario_from_dict

UL_MBPS, DL_MBPS = 50.0, 200.0
UL_KB, DL_KB = 100.0, 2.0


def _vla_cell(rate_hz: float = 1.0, ul_mbps: float = UL_MBPS) -> Any:
    """Arms with a Jetson Thor on a fixed-rate radio, an H100 edge at their cell site."""
    d = one_cell_site()
    d["radio"].update(model="fixed", fixed_ul_rate_mbps=ul_mbps, fixed_dl_rate_mbps=DL_MBPS)
    d["fleets"] = [{"name": "arm", "count": 5, "accelerator": "JetsonThor", "battery_wh": 100.0,
                    "area": {"x_m": [-20.0, 20.0], "y_m": [-20.0, 20.0]}, "services": ["vla"]}]
    d["services"] = [{"name": "vla", "model": "openvla-7b", "rate_hz": rate_hz,
                      "ul_kb": UL_KB, "dl_kb": DL_KB, "deadline_ms": 1000.0}]
    return scenario_from_dict(d)


def _run(policy: str) -> dict[str, Any]:
    # seed 11: no request is still in flight at the end under either policy, so every
    # request's energy is fully booked and the per-request figures are exact
    s = Engine(_vla_cell(), policy=policy, duration_s=20.0, seed=11).run().summary
    assert s["requests"]["in_flight"] == 0
    return s


def test_offloaded_request_energy_is_radio_power_times_airtime() -> None:
    s = _run("nearest-edge")
    tx_w = 1.0 + 10 ** (23 / 10) * 1e-3 / 0.25  # circuits + 23 dBm over 25% PA efficiency
    ul_s = UL_KB * 8e3 / (UL_MBPS * 1e6)
    dl_s = DL_KB * 8e3 / (DL_MBPS * 1e6)
    arm = s["fleets"]["arm"]
    assert arm["requests"] == s["requests"]["created"] > 50
    assert arm["energy_per_request_j"] == pytest.approx(tx_w * ul_s + 1.0 * dl_s, rel=1e-9)


def test_local_request_energy_is_tdp_above_idle_times_service_time() -> None:
    """Above the idle power the device draws anyway, as an offloaded request's radio energy is
    (and as the policies weigh the two): TDP - idle while it computes."""
    s = _run("local")
    thor = load_gpus()["JetsonThor"]
    compute_ms = s["services"]["vla"]["breakdown_ms"]["compute"]
    arm = s["fleets"]["arm"]
    assert arm["energy_per_request_j"] == pytest.approx(
        (thor.tdp_w - thor.idle_w) * compute_ms / 1e3, rel=1e-6)


def test_offloading_a_heavy_model_lengthens_battery_life_by_the_power_ratio() -> None:
    local, offload = _run("local")["fleets"]["arm"], _run("nearest-edge")["fleets"]["arm"]
    thor = load_gpus()["JetsonThor"]
    rate = local["requests"] / local["devices"] / 20.0  # requests per device-second
    # mean power: idle, the radio's PDCCH monitoring (half of ue_rx_w's 1 W: TR 38.840), plus
    # each request's energy above them
    p_local = thor.idle_w + 0.5 + rate * local["energy_per_request_j"]
    p_offload = thor.idle_w + 0.5 + rate * offload["energy_per_request_j"]
    assert local["mean_power_w"] == pytest.approx(p_local, rel=1e-6)
    assert offload["mean_power_w"] == pytest.approx(p_offload, rel=1e-6)
    assert offload["battery_life_h"] / local["battery_life_h"] == pytest.approx(
        p_local / p_offload, rel=1e-9)
    assert offload["battery_life_h"] > 1.5 * local["battery_life_h"]
    assert local["battery_life_h"] == pytest.approx(100.0 / p_local, rel=1e-6)


def test_a_fleets_base_power_shortens_battery_life_and_not_its_ai_and_radio_power() -> None:
    """A drone maker's review: 43 h of battery on a drone that hovers at hundreds of watts.
    With base_power_w (motors, propellers), life = battery / (AI and radio's mean power +
    base): offloading still buys its watts, now against the whole draw."""
    sc = _vla_cell()
    arms = [f.model_copy(update={"base_power_w": 400.0}) for f in sc.fleets]
    hover = Engine(sc.model_copy(update={"fleets": arms}), policy="nearest-edge",
                   duration_s=20.0, seed=11).run().summary["fleets"]["arm"]
    plain = _run("nearest-edge")["fleets"]["arm"]
    assert hover["mean_power_w"] == plain["mean_power_w"] and hover["base_power_w"] == 400.0
    assert hover["battery_life_h"] == pytest.approx(100.0 / (plain["mean_power_w"] + 400.0),
                                                    rel=1e-9)
    assert "base_power_w" not in plain


def test_site_power_is_idle_plus_busy_share_of_dynamic_range() -> None:
    s = _run("nearest-edge")
    h100 = load_gpus()["H100"]
    site = s["sites"]["edge"]
    busy = site["gpu_utilization"]  # no L1 here: the GPU's busy share is its AI work
    assert 0 < busy < 1
    assert site["power_w"] == pytest.approx(h100.idle_w + busy * (h100.tdp_w - h100.idle_w),
                                            rel=1e-9)


def test_energy_objective_offloads_what_latency_keeps_on_board() -> None:
    # a slow uplink (1 Mbit/s: 0.8 s for the frame) still meets the 1 s deadline, but the
    # on-board Thor (0.38 s) is faster: latency keeps the VLA on board, energy sends it out
    sc = _vla_cell(ul_mbps=1.0)
    latency = Engine(sc, duration_s=20.0, seed=11).run().summary
    frugal = Engine(sc.model_copy(update={"objective": "energy"}), duration_s=20.0,
                    seed=11).run().summary
    assert latency["sites"]["edge"]["served"] == 0
    assert frugal["sites"]["edge"]["served"] > 50
    e_lat = latency["fleets"]["arm"]["energy_per_request_j"]
    e_frugal = frugal["fleets"]["arm"]["energy_per_request_j"]
    assert e_frugal < e_lat / 10  # ~1.5 J of radio against ~50 J of Thor
    assert frugal["services"]["vla"]["hit_ratio"] > 0.95  # and the deadline is still met


def test_a_connected_ue_monitors_the_pdcch_all_along() -> None:
    """TR 38.840 Table 8.1.1-1 (FR1): PDCCH-only monitoring 100, PDCCH + PDSCH 300: by default
    monitoring draws half of what a received slot adds (``ue_rx_w``). It is drawn all along (no
    DRX), so a fleet's mean power carries exactly ``ue_pdcch_w`` more and its energy per
    request, above the idle draw, the same; the ideal radio has no air interface to monitor."""
    from airan.scenario.schema import Radio

    assert Radio().pdcch_monitor_w == 0.5
    assert Radio(ue_rx_w=0.6).pdcch_monitor_w == pytest.approx(0.3, rel=1e-12)
    assert Radio(ue_pdcch_w=0.2).pdcch_monitor_w == 0.2
    assert Radio(model="ideal").pdcch_monitor_w == 0.0
    runs = {}
    for watts in (0.0, 0.8):
        sc = _vla_cell()
        sc = sc.model_copy(update={"radio": sc.radio.model_copy(update={"ue_pdcch_w": watts})})
        runs[watts] = Engine(sc, policy="nearest-edge", duration_s=5.0, seed=11).run().summary
    quiet, monitoring = runs[0.0]["fleets"]["arm"], runs[0.8]["fleets"]["arm"]
    assert monitoring["mean_power_w"] - quiet["mean_power_w"] == pytest.approx(0.8, rel=1e-9)
    assert monitoring["energy_per_request_j"] == quiet["energy_per_request_j"]
    assert monitoring["battery_life_h"] == pytest.approx(
        100.0 / monitoring["mean_power_w"], rel=1e-12)
