"""An FDD carrier's uplink has the path loss of its own frequency.

n66 sends its downlink at 2110-2200 MHz and its uplink 400 MHz below (TS 38.104 Table 5.2-1):
a carrier at 2.14 GHz takes its uplink at 1.74 GHz, where TR 38.901's path loss is lower by
20 log10(2.14 / 1.74) = 1.80 dB in UMa NLOS and LOS below the breakpoint, and by less beyond
it (the breakpoint distance d'BP grows with fc, Table 7.4.1-1 Note 1). The LOS state, the
shadowing and the antenna belong to the path, so the two gains differ by the formula's
frequency terms alone. The power control's path loss stays the downlink's (TS 38.213 7.1.1:
the UE estimates it from downlink reference signals).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.scenario import scenario_from_dict

FC_DL_GHZ, FC_UL_GHZ = 2.14, 1.74  # n66, 400 MHz duplex distance
H_UT_M = 1.5


def _uma_pl_db(d2d: np.ndarray, d3d: np.ndarray, fc_ghz: float, h_bs: float,
               los: bool) -> np.ndarray:
    """TR 38.901 Table 7.4.1-1, UMa, written out here (h_UT 1.5 m, hE 1 m)."""
    d_bp = 4 * (h_bs - 1.0) * (H_UT_M - 1.0) * fc_ghz * 1e9 / 3.0e8
    pl1 = 28.0 + 22 * np.log10(d3d) + 20 * math.log10(fc_ghz)
    pl2 = (28.0 + 40 * np.log10(d3d) + 20 * math.log10(fc_ghz)
           - 9 * np.log10(d_bp**2 + (h_bs - H_UT_M) ** 2))
    pl_los = np.where(d2d <= d_bp, pl1, pl2)
    if los:
        return pl_los  # type: ignore[no-any-return]
    nlos = 13.54 + 39.08 * np.log10(d3d) + 20 * math.log10(fc_ghz) - 0.6 * (H_UT_M - 1.5)
    return np.maximum(pl_los, nlos)  # type: ignore[no-any-return]


def _one_site(band: str, *, count: int = 400, radius_m: float = 900.0,
              sites: int = 1) -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["carrier"] = {"band": band, "fc_ghz": FC_DL_GHZ, "bandwidth_mhz": 20, "numerology": 0,
                    "tdd_pattern": None}
    if sites == 2:
        d["cell_sites"].append({"name": "b", "position_m": [600.0, 0.0], "sectors": 1})
    d["fleets"] = [{"name": "v", "count": count, "services": ["perception"],
                    "height_m": H_UT_M, "area": {"center_m": [0.0, 0.0], "radius_m": radius_m}}]
    return d


def _engine(d: dict[str, Any], seed: int = 2) -> Engine:
    return Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=seed)


def test_the_uplink_gain_differs_from_the_downlinks_by_tr38901s_frequency_terms() -> None:
    w = _engine(_one_site("n66")).world
    h_bs = float(w.device_radio.cell_h[0])
    d2d = np.hypot(*w.dev_xy.T)
    keep = d2d > 12.0  # (the formulas' 10 m floor aside)
    d2d = d2d[keep]
    d3d = np.hypot(d2d, h_bs - H_UT_M)
    got_db = 10 * np.log10(w.dev_top_gain_ul[keep, 0] / w.dev_top_gain[keep, 0])
    want = {los: _uma_pl_db(d2d, d3d, FC_DL_GHZ, h_bs, los)
            - _uma_pl_db(d2d, d3d, FC_UL_GHZ, h_bs, los) for los in (True, False)}
    los_fits = np.abs(got_db - want[True]) < 1e-9
    nlos_fits = np.abs(got_db - want[False]) < 1e-9
    assert np.all(los_fits | nlos_fits)  # each link one of the two, to 1e-9 dB
    full = 20 * math.log10(FC_DL_GHZ / FC_UL_GHZ)
    assert full == pytest.approx(1.7973, abs=1e-4)
    assert np.isclose(got_db, full, atol=1e-9).sum() > 100  # NLOS, and LOS before d'BP
    # LOS between the uplink's breakpoint (278 m) and the downlink's (342 m), and beyond
    d_bp_ul, d_bp_dl = (4 * (h_bs - 1) * 0.5 * f * 1e9 / 3e8 for f in (FC_UL_GHZ, FC_DL_GHZ))
    assert (d_bp_ul, d_bp_dl) == pytest.approx((278.4, 342.4), abs=0.1)
    beyond = los_fits & ~nlos_fits & (d2d > d_bp_ul)
    assert beyond.sum() >= 3 and np.all(got_db[beyond] < full - 0.1)


def test_a_tdd_carrier_and_an_fdd_band_on_one_channel_share_the_downlinks_gains() -> None:
    for d in (one_cell_site(sectors=1), _one_site("n99")):  # n99: unlisted, UL on DL's channel
        w = _engine(d).world
        assert w.dev_top_gain_ul is w.dev_top_gain


def test_the_uplink_sinr_gains_what_the_path_gains_at_its_frequency() -> None:
    """The same devices, fields and power control (the downlink's path loss in both); only the
    uplink's frequency differs: its SINR per PRB rises by the gain ratio, the downlink's not."""
    fdd, same = (_engine(_one_site(b)) for b in ("n66", "n99"))
    a, b = fdd.device_table(), same.device_table()
    ratio_db = (np.asarray(a["sinr_ul_db"].to_numpy()) - np.asarray(b["sinr_ul_db"].to_numpy()))
    floor_db = 10 * np.log10(fdd.world.min_sinr_lin)
    usable = np.asarray(b["sinr_ul_db"].to_numpy()) > floor_db + 0.01
    w = fdd.world
    gain_db = 10 * np.log10(w.dev_top_gain_ul[:, 0] / w.dev_top_gain[:, 0])
    assert usable.sum() > 300
    np.testing.assert_allclose(ratio_db[usable], gain_db[usable], atol=1e-6)
    np.testing.assert_array_equal(a["sinr_dl_db"].to_numpy(), b["sinr_dl_db"].to_numpy())
    np.testing.assert_array_equal(w.dev_ul_p_prb_mw, same.world.dev_ul_p_prb_mw)


def test_uplink_interference_between_fdd_cells_couples_at_the_uplinks_frequency() -> None:
    fdd, same = (_engine(_one_site(b, sites=2)) for b in ("n66", "n99"))
    a, b = fdd.world.ul_int_mw, same.world.ul_int_mw
    assert len(a) == len(b) == 2 and np.all(b > 0)
    # each coupling a weighted mean of its UEs' gain ratios: above 1, at most the NLOS one
    assert np.all(a / b > 1.0) and np.all(a / b <= (FC_DL_GHZ / FC_UL_GHZ) ** 2 * (1 + 1e-12))


def test_uplink_air_time_is_shorter_on_the_lower_uplink_frequency() -> None:
    def ul_air_ms(band: str) -> float:
        d = _one_site(band, count=60, radius_m=700.0)
        s = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=3.0,
                   seed=2).run().summary
        return float(s["services"]["perception"]["breakdown_ms"]["ul_air"])

    fdd, same = ul_air_ms("n66"), ul_air_ms("n99")
    assert fdd < 0.97 * same


def test_moving_devices_and_a_cell_outage_keep_the_uplink_gains_of_the_links_they_list() -> None:
    """Motion re-lists and re-evaluates links, a cell outage re-orders them: the uplink's gains
    follow the same cells in the same order (each equal to its path's at its frequency)."""
    d = _one_site("n66", count=200, radius_m=700.0, sites=2)
    d["cell_sites"].append({"name": "c", "position_m": [300.0, 500.0], "sectors": 1})
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 250.0, "speed_mps": [8, 14]}
    d["faults"] = [{"kind": "cell_down", "cell": "b", "start_s": 0.5, "end_s": 1.5}]
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=2.0, seed=2)
    summary = eng.run().summary
    assert summary["mobility"]["handovers"] > 0
    w = eng.world
    assert w.dev_top_gain_ul is not w.dev_top_gain
    seen = eng.motion._seen  # where each device's gains were last evaluated
    g_dl, g_ul = w.device_radio.link_gains(seen[:, :2], seen[:, 2], w.dev_top_cell)
    listed = w.dev_top_gain > 0  # (a repeated padding cell and an outage hold zeros)
    assert listed[:, 0].mean() > 0.95
    np.testing.assert_allclose(w.dev_top_gain[listed], g_dl[listed], rtol=1e-12)
    np.testing.assert_allclose(w.dev_top_gain_ul[listed], g_ul[listed], rtol=1e-12)
    assert np.array_equal(w.dev_top_gain_ul > 0, listed)


def test_a_device_left_without_a_cell_gets_its_uplink_gains_back_with_the_cell() -> None:
    """A cell outage that leaves every listed cell off the air zeroes the serving gains (radio
    outage) and saves them; the cell's return restores both directions' (a review: no test
    reached the restore of the uplink's)."""
    d = _one_site("n66", count=30, radius_m=500.0)
    d["faults"] = [{"kind": "cell_down", "cell": "bs", "start_s": 0.1, "end_s": 0.3}]
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.5, seed=2)
    w = eng.world
    before_dl, before_ul = w.dev_top_gain.copy(), w.dev_top_gain_ul.copy()
    eng.step(int(round(0.2 / w.slot_s)))
    assert np.all(w.dev_top_gain[:, 0] == 0.0) and np.all(w.dev_top_gain_ul[:, 0] == 0.0)
    eng.step(eng.n_slots - eng.slot)
    assert np.array_equal(w.dev_top_gain, before_dl)
    assert np.array_equal(w.dev_top_gain_ul, before_ul)
    assert np.all(w.dev_top_gain_ul[:, 0] > w.dev_top_gain[:, 0])
