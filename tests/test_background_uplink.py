"""The background traffic's uplink interference (``ai_ran.traffic``): ground handsets in every
cell, under the radio's power control, whatever devices a cell serves (a drone operator's
review: it was weighed by the coupling of each cell's own devices, so 120 drones at 100 m
sending 0.1 KB a second took 4.3 dB off the ground uplink under background traffic, and a
cell without devices sent none)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine import Engine
from airan.engine.world import BACKGROUND_BEARINGS, BACKGROUND_RINGS, background_ue_points
from airan.radio.pathloss import pathloss_db
from airan.scenario import scenario_from_dict


def _two_masts(bg_ul: float | None) -> dict[str, Any]:
    """Two one-sector RMa masts 35 m high, 600 m apart, shadowing off, every link LOS; one
    camera 50 m behind mast ``a``, none at ``b``; background traffic with the uplink's PRBs at
    ``bg_ul`` all day (None: no background)."""
    d: dict[str, Any] = {
        "name": "two", "duration_s": 0.2,
        "radio": {"environment": "rma", "shadowing": False, "los": "always"},
        "carrier": {"band": "n78", "bandwidth_mhz": 100},
        "cell_sites": [{"name": "a", "position_m": [0, 0], "height_m": 35, "sectors": 1},
                       {"name": "b", "position_m": [600, 0], "height_m": 35, "sectors": 1}],
        "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "cloud", "at": "dc", "kind": "cloud",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"links": [{"a": "a", "b": "dc", "fiber_km": 10},
                                {"a": "b", "b": "dc", "fiber_km": 10}]},
        "fleets": [{"name": "cams", "count": 1, "height_m": 1.5, "services": ["see"],
                    "area": {"positions_m": [[-50.0, 0.0]]}}],
        "services": [{"name": "see", "model": "yolov8n", "rate_hz": 1, "deadline_ms": 100}]}
    if bg_ul is not None:
        d["ai_ran"] = {"traffic": {"hourly": [0.5] * 24, "uplink_hourly": [bg_ul] * 24}}
    return d


def test_a_cells_background_interferes_as_its_handsets_under_power_control() -> None:
    """The background handsets, on a polar grid over each mast's disc (radius 0.525 x 600 m,
    a hexagonal cell's area), each on its nearest mast (one-sector masts alike, every link
    LOS), under TS 38.213 7.1.1's open-loop power control (P0 -85 dBm, 30 kHz, alpha 0.8 on
    its path loss; at most 23 dBm over the 273 PRBs), reach the other mast with TR 38.901's RMa
    LOS path loss: the mean over a mast's handsets is the other's background interference at
    full use."""
    w = Engine(scenario_from_dict(_two_masts(0.3))).world
    xy = background_ue_points(np.array([[0.0, 0.0], [600.0, 0.0]]), "rma")
    assert len(xy) == 2 * BACKGROUND_RINGS * BACKGROUND_BEARINGS
    assert np.hypot(*xy[:len(xy) // 2].T).max() == pytest.approx(
        0.525 * 600 * np.sqrt(11.5 / 12), rel=1e-3)

    def pl_db(u: np.ndarray, mast_x: float) -> np.ndarray:
        d2d = np.hypot(u[:, 0] - mast_x, u[:, 1])
        return np.asarray(pathloss_db("rma", d2d, np.hypot(d2d, 35.0 - 1.5), 3.5, 35.0, 1.5,
                                      True))

    prb = 273
    assert w.cell_prb.tolist() == [prb, prb]
    on_b = np.hypot(xy[:, 0] - 600.0, xy[:, 1]) < np.hypot(xy[:, 0], xy[:, 1])
    for cell, (handsets, own_x, other_x) in enumerate(((xy[on_b], 600.0, 0.0),
                                                      (xy[~on_b], 0.0, 600.0))):
        p_prb_dbm = -85.0 + 10 * np.log10(2.0) + 0.8 * pl_db(handsets, own_x)
        p_full_mw = np.minimum(10 ** (23.0 / 10), 10 ** (p_prb_dbm / 10) * prb)
        want = float(np.mean(p_full_mw * 10 ** (-pl_db(handsets, other_x) / 10)))
        assert w.cell_bg_ul_mw[cell] == pytest.approx(want, rel=1e-9)
    # without background traffic, none
    assert not Engine(scenario_from_dict(_two_masts(None))).world.cell_bg_ul_mw.any()


def test_many_masts_take_a_coarser_grid_of_at_least_four_rings() -> None:
    """Up to ~60,000 handsets: 37 masts take 12 x 48 each, 1,000 masts 4 x 12 (a diff review:
    one ring of 48 read the interior's background 1.0 dB low, four rings of 12 0.4 dB)."""
    def per_mast(n: int) -> int:
        xy = np.stack([np.arange(n) * 500.0, np.zeros(n)], axis=1)
        return len(background_ue_points(xy, "uma")) // n

    assert per_mast(37) == BACKGROUND_RINGS * BACKGROUND_BEARINGS == 576
    assert per_mast(150) == 8 * 36 and per_mast(1000) == 4 * 12


def test_a_cell_off_the_air_takes_its_background_with_it() -> None:
    """b down the whole run (a cell_down fault): the camera at a hears no background, its
    uplink SINR that of a run without background; a later run without the fault hears it again
    (the coupling kept for the next world is not the one the fault zeroed)."""
    def sinr(bg: float | None, down: bool) -> float:
        d = _two_masts(bg)
        if down:
            d["faults"] = [{"kind": "cell_down", "cell": "b", "start_s": 0.0}]
        e = Engine(scenario_from_dict(d))
        e.run()
        return float(e.device_table().column("sinr_ul_db")[0].as_py())

    quiet, heard = sinr(None, False), sinr(0.3, False)
    assert heard < quiet - 1.0
    assert sinr(0.3, True) == pytest.approx(quiet, abs=1e-9)
    assert sinr(0.3, False) == pytest.approx(heard, abs=1e-12)


def test_a_cell_without_devices_still_interferes_with_its_background() -> None:
    """The camera at a hears b's background (b serves no device): its uplink SINR falls by
    10 log10(1 + 0.3 I_bg / N) under 30% background use, where it fell by nothing."""
    sinr = {}
    for bg in (None, 0.3):
        e = Engine(scenario_from_dict(_two_masts(bg)))
        e.run()
        sinr[bg] = float(e.device_table().column("sinr_ul_db")[0].as_py())
        w = e.world
        if bg is not None:
            assert e.ran.background_ul == pytest.approx(0.3)
            drop_db = 10 * np.log10(1.0 + 0.3 * w.cell_bg_ul_mw[0] / w.ul_noise_mw[0])
    assert drop_db > 1.0  # (a measurable effect at this spacing)
    assert sinr[None] - sinr[0.3] == pytest.approx(drop_db, abs=1e-6)


def test_a_handsets_mean_link_weighs_los_and_nlos_by_tr_38_901s_probability() -> None:
    """Without shadowing, a point 200 m from a one-sector UMa cell 25 m high, 1.5 m up: its mean
    path gain is P_LOS g_LOS + (1 - P_LOS) g_NLOS, P_LOS = 18/d + exp(-d/63)(1 - 18/d) (TR 38.901
    Table 7.4.2-1, UMa, h_UT <= 13 m): 0.128 at 200 m."""
    d = _two_masts(0.3)
    d["radio"] = {"environment": "uma", "shadowing": False}
    d["cell_sites"][0]["height_m"] = 25
    w = Engine(scenario_from_dict(d)).world
    xy, cells = np.array([[0.0, 200.0]]), np.array([[0, 1]])
    g, g_ul = w.device_radio.mean_link_gains(xy, np.array([1.5]), cells)
    p_los = 18 / 200 + np.exp(-200 / 63) * (1 - 18 / 200)
    d3d = np.hypot(200.0, 25.0 - 1.5)
    los, nlos = (10 ** (-np.asarray(pathloss_db("uma", 200.0, d3d, 3.5, 25.0, 1.5, state, 1.0))
                        / 10) for state in (True, False))
    assert g[0, 0] == pytest.approx(p_los * los + (1 - p_los) * nlos, rel=1e-9)
    assert np.array_equal(g_ul, g)  # (TDD: one frequency)


def test_a_lone_sites_sectors_carry_alike_background_interference() -> None:
    """One three-sector UMa site: its handsets' grid has 48 bearings, a multiple of 3, so each
    sector hears the other two's background alike (within 1%; 24 handsets on a spiral, each
    with its own LOS and shadowing, left one at about a tenth of another)."""
    d = _two_masts(0.3)
    d["radio"] = {"environment": "uma"}
    d["cell_sites"] = [{"name": "a", "position_m": [0, 0], "height_m": 25, "sectors": 3}]
    d["transport"]["links"] = d["transport"]["links"][:1]
    bg = Engine(scenario_from_dict(d)).world.cell_bg_ul_mw
    assert len(bg) == 3 and bg.min() > 0.0
    assert bg.max() / bg.min() < 1.01, bg


def _ground_and_fillers(filler_class: str, height_m: float) -> dict[str, Any]:
    """A UMa hexagon of 7 three-sector sites 500 m apart, 30 handsets uploading 25 KB at 10 Hz
    within 350 m of the centre, and 60 fillers of ``filler_class`` at ``height_m`` sending
    0.1 KB a second over 1.1 km; background traffic at 30% of the uplink's PRBs; the cells'
    own loads start at 0 (the default 0.5, as it decays, would be the fillers' own)."""
    return {
        "name": "fillers", "duration_s": 1.0, "seed": 1,
        "radio": {"environment": "uma", "initial_load": 0.0},
        "carrier": {"band": "n78", "bandwidth_mhz": 100},
        "cell_layout": {"hex": {"rings": 1, "isd_m": 500}, "height_m": 25, "sectors": 3},
        "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "cloud", "at": "dc", "kind": "cloud",
                           "gpus": [{"type": "H100", "count": 2}]}],
        "transport": {"backhaul": {"to": "dc", "capacity_gbps": 10}},
        "fleets": [
            {"name": "ground", "count": 30, "device_class": "handset", "services": ["video"],
             "area": {"center_m": [0, 0], "radius_m": 350}},
            {"name": "filler", "count": 60, "device_class": filler_class,
             "height_m": height_m, "accelerator": "none", "services": ["tele"],
             "area": {"center_m": [0, 0], "radius_m": 1100}}],
        "services": [
            {"name": "video", "model": "yolov8s", "rate_hz": 10, "ul_kb": 25, "dl_kb": 0.5,
             "deadline_ms": 100},
            {"name": "tele", "model": "resnet50", "rate_hz": 1, "ul_kb": 0.1, "dl_kb": 0.1,
             "deadline_ms": 1000}],
        "ai_ran": {"traffic": {"hourly": [0.5] * 24, "uplink_hourly": [0.3] * 24}}}


def test_the_background_does_not_take_the_coupling_of_the_devices_a_cell_serves() -> None:
    """Drones at 100 m (TR 36.777: LOS to many cells) or handsets as the barely-sending
    fillers: the ground handsets' median uplink SINR under background traffic is the same
    within 0.5 dB (it was 4.3 dB lower beside the drones)."""
    def ground_median_db(filler_class: str, height_m: float) -> float:
        e = Engine(scenario_from_dict(_ground_and_fillers(filler_class, height_m)))
        e.run()
        t = e.device_table()
        fleet = np.asarray(t.column("fleet").to_pylist())
        return float(np.median(np.asarray(t.column("sinr_ul_db"))[fleet == "ground"]))

    beside_drones = ground_median_db("drone", 100.0)
    beside_handsets = ground_median_db("handset", 1.5)
    assert abs(beside_drones - beside_handsets) < 0.5, (beside_drones, beside_handsets)
