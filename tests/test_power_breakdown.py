"""A fleet's mean power by what drew it, ``fleets.<fleet>.power_breakdown_w`` (a robot
maker's, an XR maker's and an operator's energy reviews: a headset's 3.63 W was 3 W of an
idle CPU, and the radio's share could not be read): the on-board compute at its draw while it
ran, the idle power off it, the radio's transfers, the PDCCH monitoring; they add to
``mean_power_w``; the catalog's TDP and idle power and the scenario's monitoring power are
the figures they are checked against."""

from __future__ import annotations

from typing import Any

import pytest

import airan
from airan.catalog import load_gpus
from airan.scenario import load_scenario
from airan.sweep.merge import merge_fleets

DURATION_S = 1.0


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    sc = load_scenario("factory")
    return {p: airan.run(sc, policy=p, duration_s=DURATION_S, seed=2).summary
            for p in ("nearest-edge", "local")}


def test_the_parts_add_to_the_mean_power(runs: dict[str, dict[str, Any]]) -> None:
    for s in runs.values():
        for name, f in s["fleets"].items():
            b = f["power_breakdown_w"]
            assert set(b) == {"compute", "idle", "radio", "monitoring"}
            assert sum(b.values()) == pytest.approx(f["mean_power_w"], rel=1e-12), name
            assert all(v >= -1e-12 for v in b.values()), name


def test_offloaded_devices_draw_their_idle_monitoring_and_transfers(
        runs: dict[str, dict[str, Any]]) -> None:
    sc = load_scenario("factory")
    gpus = load_gpus()
    s = runs["nearest-edge"]
    for fleet in sc.fleets:
        f = s["fleets"][fleet.name]
        b = f["power_breakdown_w"]
        acc = gpus["DeviceCPU" if fleet.accelerator in (None, "none") else fleet.accelerator]
        assert b["compute"] == 0.0
        assert b["idle"] == pytest.approx(acc.idle_w, rel=1e-12)  # all along
        assert b["monitoring"] == pytest.approx(sc.radio.pdcch_monitor_w, rel=1e-12)  # no DRX
        # the transfers: its energy above the idle power, over its devices' time
        device_s = f["devices"] * DURATION_S
        assert b["radio"] * device_s == pytest.approx(
            f["energy_per_request_j"] * f["requests"], rel=1e-9)


def test_on_board_compute_draws_the_accelerators_tdp_while_busy(
        runs: dict[str, dict[str, Any]]) -> None:
    sc = load_scenario("factory")
    gpus = load_gpus()
    s = runs["local"]
    arm = next(f for f in sc.fleets if f.name == "arm")
    f = s["fleets"]["arm"]
    busy = f["on_board_busy"]["main"]
    acc = gpus[arm.accelerator]
    assert busy > 0.5
    assert f["power_breakdown_w"]["compute"] == pytest.approx(
        (acc.tdp_w - acc.idle_w) * busy, rel=1e-9)  # above the idle, while busy
    assert f["power_breakdown_w"]["idle"] == pytest.approx(acc.idle_w, rel=1e-12)
    assert f["power_breakdown_w"]["radio"] == 0.0  # (nothing sent: no rounding kept)


def test_engines_computing_at_once_each_draw_their_own() -> None:
    """A diff review: the AMRs' detect on the accelerator and a copy on a DLA of their own,
    both busy ~97% of the time, read idle -2.85 W. Each engine draws its active power above the
    idle while it runs (the DLA's active_w, the accelerator's TDP - idle); the idle, all along."""
    import copy

    from airan.scenario import scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    detect = next(s for s in d["services"] if s["name"] == "detect")
    twin = copy.deepcopy(detect)
    twin["name"] = "detect2"
    amr = next(f for f in d["fleets"] if f["name"] == "amr")
    amr["services"] = ["detect", "detect2"]  # (on the AMR's CPU, whose TDP it fills)
    amr["engines"] = {"dla": {"services": ["detect2"], "time_factor": 1, "active_w": 7.0}}
    d["fleets"], d["services"], d["policy"] = [amr], [detect, twin], "local"
    f = airan.run(scenario_from_dict(d), duration_s=DURATION_S, seed=1).summary["fleets"]["amr"]
    cpu = load_gpus()["DeviceCPU"]
    busy = f["on_board_busy"]
    assert busy["main"] > 0.9 and busy["dla"] > 0.9
    b = f["power_breakdown_w"]
    assert b["idle"] == pytest.approx(cpu.idle_w, rel=1e-12)
    assert b["compute"] == pytest.approx(
        (cpu.tdp_w - cpu.idle_w) * busy["main"] + 7.0 * busy["dla"], rel=1e-9)
    assert sum(b.values()) == pytest.approx(f["mean_power_w"], rel=1e-12)


def test_shards_merge_it_weighted_by_their_devices() -> None:
    def piece(devices: int, radio: float) -> dict[str, Any]:
        return {"devices": devices, "requests": 10, "energy_per_request_j": 0.001,
                "mean_power_w": 3.5 + radio,
                "power_breakdown_w": {"compute": 0.0, "idle": 3.0, "radio": radio,
                                      "monitoring": 0.5}}

    merged = merge_fleets([piece(30, 0.1), piece(10, 0.5)])
    assert merged["power_breakdown_w"]["radio"] == pytest.approx((30 * 0.1 + 10 * 0.5) / 40)
    assert merged["power_breakdown_w"]["idle"] == pytest.approx(3.0)
