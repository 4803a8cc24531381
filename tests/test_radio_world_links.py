"""The links the engine's world builds, against numbers computed here from the standards.

The radio modules' formulas have their own tests; these check how the engine puts them together
(``engine.device_radio``, ``engine.world``, ``engine.motion``, ``engine.faults``) and how the
kernel weighs interference by the other cells' loads:

* a device's coupling loss to its serving cell is TR 38.901's path loss (Table 7.4.1-1, UMa)
  less the sector antenna's gain (Table 7.3-1), both written out here, at hand-picked points;
* its open-loop PUSCH power per PRB is TS 38.213 7.1.1's P0 + 10 log10(2^mu) + alpha PL, PL its
  coupling loss, where the world is built, after a device moves and after its cell goes off air;
* downlink interference is each other cell's power times its load, and uplink interference
  each other cell's UEs' mean full power times its load, at partial loads and with background
  traffic (loads 0 and 1 alone cannot tell a load-weighted sum from an unweighted one).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site
from test_handover import _row_of_cells
from test_radio_carriers import _two_sites

from airan.engine import Engine
from airan.engine import kernel as K
from airan.scenario import load_scenario, scenario_from_dict

LOG = math.log10
P0_DBM, ALPHA, MU = -85.0, 0.8, 1  # the schema's defaults for P0 and alpha; 30 kHz subcarriers
SECTORS_DEG = (30.0, 150.0, 270.0)  # TR 38.901 7.8 three-sector boresights


def _uma_pathloss_db(d2d: float, h_bs: float, h_ut: float, fc_ghz: float, los: bool) -> float:
    """TR 38.901 Table 7.4.1-1, UMa, h_E = 1 m in the breakpoint distance; nearer than the
    table's 10 m, the value at 10 m."""
    d2d = max(d2d, 10.0)
    d3d = math.hypot(d2d, h_bs - h_ut)
    d_bp = 4 * (h_bs - 1) * (h_ut - 1) * fc_ghz * 1e9 / 3e8
    if d2d <= d_bp:
        pl_los = 28.0 + 22 * LOG(d3d) + 20 * LOG(fc_ghz)
    else:
        pl_los = 28.0 + 40 * LOG(d3d) + 20 * LOG(fc_ghz) - 9 * LOG(d_bp**2 + (h_bs - h_ut) ** 2)
    if los:
        return pl_los
    return max(pl_los, 13.54 + 39.08 * LOG(d3d) + 20 * LOG(fc_ghz) - 0.6 * (h_ut - 1.5))


def _sector_gain_dbi(phi_deg: float, theta_deg: float, tilt_deg: float) -> float:
    """TR 38.901 Table 7.3-1: 8 dBi at boresight, 65 deg beams, a 30 dB floor; tilted down."""
    phi = (phi_deg + 180.0) % 360.0 - 180.0
    a_h = -min(12 * (phi / 65) ** 2, 30.0)
    a_v = -min(12 * ((theta_deg - 90 - tilt_deg) / 65) ** 2, 30.0)
    return 8.0 - min(-(a_h + a_v), 30.0)


def _hand_coupling_db(r_m: float, bearing_deg: float, fc_ghz: float,
                      los: bool) -> tuple[float, int]:
    """Coupling loss (dB) from a 25 m, 12 deg tilted three-sector site to a 1.5 m UE ``r_m`` away
    at ``bearing_deg``, and the sector that serves it (the strongest)."""
    zenith = 90.0 + math.degrees(math.atan2(25.0 - 1.5, r_m))
    gains = [_sector_gain_dbi(bearing_deg - az, zenith, 12.0) for az in SECTORS_DEG]
    return _uma_pathloss_db(r_m, 25.0, 1.5, fc_ghz, los) - max(gains), int(np.argmax(gains))


def _assert_open_loop_power(w: Any, devices: np.ndarray) -> None:
    """p per PRB (dBm) = P0 + 10 log10(2^mu) + alpha PL, PL the serving cell's coupling loss."""
    assert np.array_equal(w.dev_top_cell[devices, 0], w.dev_cell[devices])  # serving first
    coupling_db = -10 * np.log10(w.dev_top_gain[devices, 0])
    expected_dbm = P0_DBM + 10 * LOG(2**MU) + ALPHA * coupling_db
    assert 10 * np.log10(w.dev_ul_p_prb_mw[devices]) == pytest.approx(expected_dbm, abs=1e-9)


# (distance m, bearing deg counter-clockwise from +x); within 18 m UMa is LOS for certain
POINTS = [(15.0, 40.0), (60.0, 270.0), (200.0, 50.0), (400.0, 30.0), (1000.0, 170.0)]


def test_coupling_loss_is_uma_path_loss_less_the_sector_gain_and_sets_the_pusch_power() -> None:
    d = one_cell_site(sectors=3)
    d["cell_sites"][0].update(height_m=25.0, downtilt_deg=12.0)
    d["radio"].update(shadowing=False)
    d["fleets"] = [{"name": f"v{i}", "count": 1, "height_m": 1.5, "services": ["perception"],
                    "area": {"x_m": [r * math.cos(math.radians(b))] * 2,
                             "y_m": [r * math.sin(math.radians(b))] * 2}}
                   for i, (r, b) in enumerate(POINTS)]
    w = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=1).world
    fc = float(load_scenario("city").carrier.fc_ghz)
    for i, (r, bearing) in enumerate(POINTS):
        los_db, sector = _hand_coupling_db(r, bearing, fc, True)
        nlos_db, _ = _hand_coupling_db(r, bearing, fc, False)
        got_db = -10 * LOG(float(w.dev_top_gain[i, 0]))
        assert w.cell_names[int(w.dev_top_cell[i, 0])] == f"bs/{sector}"
        if r <= 18.0:  # Table 7.4.2-1: LOS probability 1
            assert got_db == pytest.approx(los_db, abs=1e-6)
        else:  # the LOS state is a random field: one of the two
            assert min(abs(got_db - los_db), abs(got_db - nlos_db)) < 1e-6, (r, got_db)
    _assert_open_loop_power(w, np.arange(len(POINTS)))
    # the first on paper: d3D 27.88 m, PL = 28 + 22 log10 27.88 + 20 log10 3.5 = 70.68 dB; 57.45
    # deg below the horizon, 10 deg off sector 0's boresight: 8 - 5.87 - 0.28 = 1.85 dBi; so
    # 68.83 dB of coupling loss and -85 + 3.01 + 0.8 x 68.83 = -26.92 dBm per PRB
    assert -10 * LOG(float(w.dev_top_gain[0, 0])) == pytest.approx(68.83, abs=0.01)
    assert 10 * LOG(float(w.dev_ul_p_prb_mw[0])) == pytest.approx(-26.92, abs=0.01)


def test_pusch_power_follows_the_coupling_loss_of_the_cell_a_moving_device_hands_over_to() -> None:
    # six omni cells 200 m apart (test_handover's row), the NR radio, four devices along it
    d = _row_of_cells([[0.0, 0.0, 1.5], [1000.0, 0.0, 1.5]], hysteresis_db=3.0, ttt_ms=160.0,
                      speed=20.0, duration_s=30.0)
    d["radio"].update(model="nr", shadowing=False)
    mobility = d["fleets"][0]["mobility"]
    mobility["paths"] = [[[0.0, 20.0 * j, 1.5], [1000.0, 20.0 * j, 1.5]] for j in range(4)]
    d["fleets"][0]["count"] = 4
    eng = Engine(scenario_from_dict(d), seed=1)
    w = eng.world
    start = w.dev_cell.copy()
    _assert_open_loop_power(w, np.arange(4))
    eng.step(int(round(30.0 / w.slot_s)))
    assert not np.any(w.dev_cell == start)  # every device was handed over
    _assert_open_loop_power(w, np.arange(4))
    fc = float(load_scenario("city").carrier.fc_ghz)
    for dev in range(4):  # the new cell's coupling loss where the gains were last evaluated
        x, y, h = eng.motion._seen[dev]
        cx, cy = w.device_radio.cell_xy[w.dev_cell[dev]]
        d2d = math.hypot(x - cx, y - cy)
        got_db = -10 * LOG(float(w.dev_top_gain[dev, 0]))  # omni cells: no antenna gain
        assert min(abs(got_db - _uma_pathloss_db(d2d, 25.0, h, fc, los))
                   for los in (True, False)) < 1e-6


def test_pusch_power_follows_the_coupling_loss_of_the_cell_an_outage_moves_a_device_to() -> None:
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "cell_down", "cell": "cell-a", "start_s": 0.2, "end_s": 0.4}]
    eng = Engine(scenario_from_dict(d), duration_s=0.6)
    w = eng.world
    on_a = np.flatnonzero(w.dev_cell == w.cell_names.index("cell-a"))
    before = w.dev_ul_p_prb_mw[on_a].copy()
    eng.step(int(round(0.3 / w.slot_s)))
    assert not np.any(w.dev_cell[on_a] == w.cell_names.index("cell-a"))
    assert np.all(w.dev_ul_p_prb_mw[on_a] > before)  # a weaker cell: more power
    _assert_open_loop_power(w, np.arange(w.n_devices))


def _rank_adapted_se(sinr: float, n_tx: int, max_layers: int) -> float:
    """max over L of L x SE(sinr (n_tx - L + 1) / L), SE the attenuated Shannon bound of
    TR 36.942 A.2 (0.75 log2(1 + x / 1.25), 0 below -10 dB, at most 7.4063 bit/s/Hz)."""
    best = 0.0
    for n in range(1, max_layers + 1):
        x = sinr * (n_tx - n + 1) / n
        se = 0.0 if 10 * LOG(x) < -10 else min(0.75 * math.log2(1 + x / 1.25), 7.4063)
        best = max(best, n * se)
    return best


@pytest.mark.parametrize(("load", "background"), [(0.3, 0.0), (0.7, 0.0), (0.3, 0.4), (0.7, 0.5)])
def test_downlink_interference_is_each_cells_power_times_its_load(load: float,
                                                                   background: float) -> None:
    d = _two_sites(3.45)
    d["radio"]["initial_load"] = load
    if background:
        d["ai_ran"] = {"traffic": {"hourly": [background] * 24}}
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=2)
    w, st = eng.world, eng._st
    st.ue_se_slot_dl[0] = -1
    K.refresh_dl(eng._kw, eng._sref, 0, eng.slot)
    top, g = w.dev_top_cell[0], w.dev_top_gain[0]
    busy = min(1.0, load + background)  # background traffic adds to the load, at most 1
    signal = w.cell_tx_mw[top[0]] * g[0]
    interference = sum(busy * w.cell_tx_mw[c] * g[j] for j, c in enumerate(top)
                       if j and c != top[0])
    interference += busy * w.dev_resid_gain_mw[0]
    noise_mw = 10 ** ((-174 + 10 * LOG(273 * 12 * 30e3) + 9.0) / 10)  # UE noise figure 9 dB
    sinr = signal / (noise_mw + interference)
    assert interference > 0.05 * noise_mw  # the interference matters here
    expected = _rank_adapted_se(sinr, int(w.cell_tx_antennas[0]), int(w.cell_dl_layers[0]))
    assert float(st.ue_se_dl[0]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("load", "background"), [(0.3, 0.0), (0.7, 0.0), (0.3, 0.4)])
def test_uplink_interference_is_each_cells_mean_ue_power_times_its_load(load: float,
                                                                       background: float) -> None:
    """Cell b's three UEs interfere at bs with their mean full-band power (min(P_CMAX,
    p_prb x N_PRB), TS 38.213 7.1.1) times b's load, and the background's handsets with
    theirs (world.cell_bg_ul_mw, tests/test_background_uplink.py) times its PRB use; bs's SINR
    per PRB and mW is its UE's gain over the noise of one PRB and that interference per PRB."""
    d = _two_sites(3.45, fleet={"name": "v", "count": 1, "services": ["perception"],
                                "area": {"x_m": [150.0, 150.0], "y_m": [0.0, 0.0]}})
    d["fleets"].append({"name": "w", "count": 3, "services": ["perception"],
                        "area": {"x_m": [220.0, 260.0], "y_m": [-40.0, 40.0]}})
    d["radio"]["initial_load"] = load
    if background:
        d["ai_ran"] = {"traffic": {"hourly": [background] * 24}}
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=2)
    w, st = eng.world, eng._st
    bs, b = w.cell_names.index("bs"), w.cell_names.index("b")
    assert w.dev_cell[0] == bs and np.all(w.dev_cell[1:] == b)
    st.ue_se_slot[0] = -1
    st.cell_iul_k[bs] = -1
    K.refresh_ul(eng._kw, eng._sref, 0, eng.slot)
    n_prb, p_max_mw = 273, 10 ** (23 / 10)
    full_mw = np.minimum(p_max_mw, w.dev_ul_p_prb_mw[1:] * n_prb)
    to_bs = np.array([w.dev_top_gain[u, list(w.dev_top_cell[u]).index(bs)] for u in (1, 2, 3)])
    interference = load * float(np.mean(full_mw * to_bs)) + background * float(
        w.cell_bg_ul_mw[bs])
    assert (background > 0) == (w.cell_bg_ul_mw[bs] > 0)
    noise_mw = 10 ** ((-174 + 10 * LOG(n_prb * 12 * 30e3) + 5.0) / 10)  # gNB noise figure 5 dB
    assert interference > 0.05 * noise_mw  # the interference matters here
    expected = float(w.dev_top_gain[0, 0]) * n_prb * float(w.cell_ul_rx_gain[bs]) / (
        noise_mw + interference)
    assert float(st.ue_se_ul[0]) == pytest.approx(expected, rel=1e-9)
