"""TR 38.901 path loss / LOS probability / shadow fading against hand-computed values."""

import math
from math import exp, log, log10, sqrt

import numpy as np
import pytest

from airan.radio.pathloss import (
    SCENARIOS,
    breakpoint_distance_m,
    los_probability,
    pathloss_db,
    shadow_fading_std_db,
    uma_effective_height_m,
)

FC = 3.5  # GHz


def d3(d2d: float, h_bs: float, h_ut: float) -> float:
    return sqrt(d2d**2 + (h_bs - h_ut) ** 2)


def pl(scenario, d2d, h_bs, h_ut, los, fc=FC):
    return float(pathloss_db(scenario, d2d, d3(d2d, h_bs, h_ut), fc, h_bs, h_ut, los))


# ---------------------------------------------------------------- UMa (hBS 25, hUT 1.5)
def test_uma_breakpoint():
    # d'BP = 4 * (25-1) * (1.5-1) * 3.5e9 / 3e8 = 560 m
    assert float(breakpoint_distance_m(3.5, 25.0, 1.5)) == pytest.approx(560.0)


def test_uma_effective_height_follows_note_1s_probabilities():
    """TR 38.901 Table 7.4.1-1 Note 1: hE = 1 m with probability 1 / (1 + C), else uniform
    over {12, 15, ..., hUT - 1.5}. By hand at hUT 22.5 m, d2D 600 m: g = 1.25 x 6^3 x e^-4 =
    4.945, C = 0.95^1.5 x g = 4.579, P(1 m) = 0.1792 and 0.2052 for each of 12, 15, 18, 21.
    Below 13 m (C = 0) and within 18 m (g = 0), always 1 m; at 13.2 m C > 0 but the set is
    empty (hUT - 1.5 < 12): 1 m."""
    u = (np.arange(200_000) + 0.5) / 200_000
    g = 1.25 * 6.0**3 * exp(-4.0)
    p_one = 1.0 / (1.0 + 0.95**1.5 * g)
    assert p_one == pytest.approx(0.1792, abs=1e-4)
    values, counts = np.unique(uma_effective_height_m(600.0, 22.5, u), return_counts=True)
    assert values.tolist() == [1.0, 12.0, 15.0, 18.0, 21.0]
    np.testing.assert_allclose(counts / u.size, [p_one] + [(1 - p_one) / 4] * 4, atol=1e-4)
    for d2d, h_ut in ((600.0, 12.9), (18.0, 22.5), (600.0, 13.2), (600.0, 1.5)):
        assert np.all(uma_effective_height_m(d2d, h_ut, u) == 1.0), (d2d, h_ut)
    # 17 m: {12, 15} alone (hUT - 1.5 = 15.5); 16 m: {12}
    assert set(uma_effective_height_m(600.0, 17.0, u).tolist()) == {1.0, 12.0, 15.0}
    assert set(uma_effective_height_m(600.0, 16.0, u).tolist()) == {1.0, 12.0}


def test_uma_los_beyond_the_breakpoint_of_a_drawn_effective_height():
    """hE 21 m at hUT 22.5 m: d'BP = 4 x 4 x 1.5 x 3.5e9 / 3e8 = 280 m, so a LOS link at
    600 m is on PL2 = 28 + 40 log10(d3D) + 20 log10(3.5) - 9 log10(280^2 + 2.5^2), 5.96 dB
    above the PL1 it is on with hE = 1 m (d'BP 24,080 m). UMi ignores hE (always 1 m)."""
    assert float(breakpoint_distance_m(3.5, 25.0, 22.5, 21.0)) == pytest.approx(280.0)
    d = d3(600.0, 25.0, 22.5)
    pl2 = 28.0 + 40 * log10(d) + 20 * log10(3.5) - 9 * log10(280.0**2 + 2.5**2)
    drawn = float(pathloss_db("uma", 600.0, d, FC, 25.0, 22.5, True, 21.0))
    assert drawn == pytest.approx(pl2, abs=1e-9)
    assert drawn - pl("uma", 600.0, 25.0, 22.5, True) == pytest.approx(5.96, abs=0.01)
    d_umi = d3(600.0, 10.0, 22.5)
    assert float(pathloss_db("umi", 600.0, d_umi, FC, 10.0, 22.5, True, 21.0)) == pl(
        "umi", 600.0, 10.0, 22.5, True)


def test_uma_los_below_breakpoint():
    d = d3(200.0, 25.0, 1.5)
    expected = 28.0 + 22 * log10(d) + 20 * log10(3.5)
    assert pl("uma", 200.0, 25.0, 1.5, True) == pytest.approx(expected, abs=1e-9)
    # 28 + 22 * 2.30402 + 20 * 0.54407 = 28 + 50.688 + 10.881
    assert expected == pytest.approx(89.57, abs=0.01)


def test_uma_los_above_breakpoint():
    d = d3(1500.0, 25.0, 1.5)
    expected = 28.0 + 40 * log10(d) + 20 * log10(3.5) - 9 * log10(560.0**2 + 23.5**2)
    assert pl("uma", 1500.0, 25.0, 1.5, True) == pytest.approx(expected, abs=1e-9)


def test_uma_los_continuous_at_breakpoint():
    lo = pl("uma", 560.0 - 1e-6, 25.0, 1.5, True)
    hi = pl("uma", 560.0 + 1e-6, 25.0, 1.5, True)
    assert lo == pytest.approx(hi, abs=1e-3)


def test_uma_nlos():
    for d2d in (200.0, 1500.0):
        d = d3(d2d, 25.0, 1.5)
        nlos_prime = 13.54 + 39.08 * log10(d) + 20 * log10(3.5) - 0.6 * (1.5 - 1.5)
        los = pl("uma", d2d, 25.0, 1.5, True)
        assert pl("uma", d2d, 25.0, 1.5, False) == pytest.approx(max(los, nlos_prime), abs=1e-9)
    # at 200 m NLOS' dominates: 13.54 + 39.08 * 2.30402 + 20 * 0.54407 = 114.46
    assert pl("uma", 200.0, 25.0, 1.5, False) == pytest.approx(114.46, abs=0.01)
    # hUT term: hUT = 11.5 m lowers NLOS' by 0.6 * 10 = 6 dB
    d = d3(300.0, 25.0, 11.5)
    expected = 13.54 + 39.08 * log10(d) + 20 * log10(3.5) - 0.6 * 10.0
    assert pl("uma", 300.0, 25.0, 11.5, False) == pytest.approx(expected, abs=1e-9)


def test_uma_min_distance_clamp():
    # d2d below 10 m is evaluated at d2d = 10 m, d3d = sqrt(10^2 + 23.5^2)
    d = sqrt(10.0**2 + 23.5**2)
    expected = 28.0 + 22 * log10(d) + 20 * log10(3.5)
    assert pl("uma", 2.0, 25.0, 1.5, True) == pytest.approx(expected, abs=1e-9)


def test_uma_umi_ue_below_1_5_m_is_evaluated_at_the_lowest_valid_height():
    # an AMR at 0.5 m: Table 7.4.1-1 holds for 1.5 <= hUT <= 22.5 m; without the clamp
    # h'UT = -0.5 m, d'BP would vanish and a LOS link at 200 m would fall on PL2 (+16.5 dB)
    d = d3(200.0, 25.0, 0.5)
    assert pl("uma", 200.0, 25.0, 0.5, True) == pytest.approx(
        28.0 + 22 * log10(d) + 20 * log10(3.5), abs=1e-9)  # PL1: 200 m < d'BP = 560 m
    assert pl("uma", 200.0, 25.0, 0.5, True) == pytest.approx(89.58, abs=0.01)
    d = d3(150.0, 10.0, 0.5)
    assert pl("umi", 150.0, 10.0, 0.5, True) == pytest.approx(
        32.4 + 21 * log10(d) + 20 * log10(3.5), abs=1e-9)  # PL1: 150 m < d'BP = 210 m
    # NLOS hUT term at its floor: - 0.6 * (1.5 - 1.5) = 0
    d = d3(300.0, 25.0, 0.5)
    assert pl("uma", 300.0, 25.0, 0.5, False) == pytest.approx(
        13.54 + 39.08 * log10(d) + 20 * log10(3.5), abs=1e-9)


# ---------------------------------------------------------------- UMi (hBS 10, hUT 1.5)
def test_umi_los_below_and_above_breakpoint():
    # d'BP = 4 * 9 * 0.5 * 3.5e9 / 3e8 = 210 m
    assert float(breakpoint_distance_m(3.5, 10.0, 1.5)) == pytest.approx(210.0)
    d = d3(100.0, 10.0, 1.5)
    expected = 32.4 + 21 * log10(d) + 20 * log10(3.5)
    assert pl("umi", 100.0, 10.0, 1.5, True) == pytest.approx(expected, abs=1e-9)
    d = d3(500.0, 10.0, 1.5)
    expected = 32.4 + 40 * log10(d) + 20 * log10(3.5) - 9.5 * log10(210.0**2 + 8.5**2)
    assert pl("umi", 500.0, 10.0, 1.5, True) == pytest.approx(expected, abs=1e-9)


def test_umi_nlos():
    for d2d in (100.0, 500.0):
        d = d3(d2d, 10.0, 1.5)
        nlos_prime = 22.4 + 35.3 * log10(d) + 21.3 * log10(3.5) - 0.3 * 0.0
        los = pl("umi", d2d, 10.0, 1.5, True)
        assert pl("umi", d2d, 10.0, 1.5, False) == pytest.approx(max(los, nlos_prime), abs=1e-9)


def test_uma_nlos_is_the_los_loss_where_that_is_larger():
    """A high UE close to the mast: NLOS' (62.80 dB) falls below the LOS loss, and TR 38.901
    Table 7.4.1-1 takes the larger. hUT 22.5 m, 20 m: d3D 20.156 m, below d'BP (24,080 m)."""
    d = d3(20.0, 25.0, 22.5)
    los = 28.0 + 22 * log10(d) + 20 * log10(3.5)
    nlos_prime = 13.54 + 39.08 * log10(d) + 20 * log10(3.5) - 0.6 * (22.5 - 1.5)
    assert los == pytest.approx(67.58, abs=0.01) and nlos_prime == pytest.approx(62.80, abs=0.01)
    assert pl("uma", 20.0, 25.0, 22.5, False) == pytest.approx(los, abs=1e-9)


def test_umi_nlos_ut_height_term():
    """UMi NLOS' = 35.3 log10(d3D) + 22.4 + 21.3 log10(fc) - 0.3 (hUT - 1.5): a 10.5 m UE at
    100 m, 101.89 dB (LOS there: 85.28 dB)."""
    d = d3(100.0, 10.0, 10.5)
    expected = 35.3 * log10(d) + 22.4 + 21.3 * log10(3.5) - 0.3 * (10.5 - 1.5)
    assert expected == pytest.approx(101.89, abs=0.01)
    assert pl("umi", 100.0, 10.0, 10.5, False) == pytest.approx(expected, abs=1e-9)


# ---------------------------------------------------------------- InH (hBS 3, hUT 1)
def test_inh():
    d = d3(20.0, 3.0, 1.0)
    los = 32.4 + 17.3 * log10(d) + 20 * log10(3.5)
    nlos = max(los, 17.30 + 38.3 * log10(d) + 24.9 * log10(3.5))
    assert pl("inh", 20.0, 3.0, 1.0, True) == pytest.approx(los, abs=1e-9)
    assert pl("inh", 20.0, 3.0, 1.0, False) == pytest.approx(nlos, abs=1e-9)
    assert nlos > los


def test_indoor_minimum_is_on_the_3d_distance():
    # Table 7.4.1-1: 1 m <= d3D for InH and InF; a UE right under a 3 m AP is 1.5 m away
    assert pl("inh", 0.0, 3.0, 1.5, True) == pytest.approx(
        32.4 + 17.3 * log10(1.5) + 20 * log10(3.5), abs=1e-9)
    assert pl("inf-sl", 0.0, 2.0, 1.5, True) == pytest.approx(  # 0.5 m -> 1 m
        31.84 + 21.50 * log10(1.0) + 19.00 * log10(3.5), abs=1e-9)


# ---------------------------------------------------------------- InF (hBS 8, hUT 1.5)
@pytest.mark.parametrize("d2d", [3.0, 15.0, 60.0, 300.0])
def test_inf(d2d):
    d = d3(d2d, 8.0, 1.5)
    f = 3.5
    los = 31.84 + 21.50 * log10(d) + 19.00 * log10(f)
    sl = 33.0 + 25.5 * log10(d) + 20 * log10(f)
    dl = 18.6 + 35.7 * log10(d) + 20 * log10(f)
    sh = 32.4 + 23.0 * log10(d) + 20 * log10(f)
    dh = 33.63 + 21.9 * log10(d) + 20 * log10(f)
    for sc in ("inf-sl", "inf-dl", "inf-sh", "inf-dh"):
        assert pl(sc, d2d, 8.0, 1.5, True) == pytest.approx(los, abs=1e-9)
    assert pl("inf-sl", d2d, 8.0, 1.5, False) == pytest.approx(max(los, sl), abs=1e-9)
    assert pl("inf-dl", d2d, 8.0, 1.5, False) == pytest.approx(max(los, sl, dl), abs=1e-9)
    assert pl("inf-sh", d2d, 8.0, 1.5, False) == pytest.approx(max(los, sh), abs=1e-9)
    assert pl("inf-dh", d2d, 8.0, 1.5, False) == pytest.approx(max(los, dh), abs=1e-9)


# ---------------------------------------------------------------- generic properties
HEIGHTS = {"uma": 25.0, "umi": 10.0, "rma": 35.0, "inh": 3.0}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_nlos_ge_los_and_broadcasting(scenario):
    h_bs = HEIGHTS.get(scenario, 8.0)
    d2d = np.geomspace(0.5, 5000.0, 200)[:, None]
    fc = np.array([0.7, 3.5, 28.0])[None, :]
    d3d = np.sqrt(d2d**2 + (h_bs - 1.5) ** 2)
    los = pathloss_db(scenario, d2d, d3d, fc, h_bs, 1.5, True)
    nlos = pathloss_db(scenario, d2d, d3d, fc, h_bs, 1.5, False)
    assert los.shape == nlos.shape == (200, 3)
    assert np.all(np.isfinite(los))
    assert np.all(nlos >= los)
    # path loss grows with distance (above the clamp) and frequency
    assert np.all(np.diff(los, axis=0) >= -1e-9)
    assert np.all(np.diff(los, axis=1) > 0)
    mixed = pathloss_db(scenario, d2d, d3d, 3.5, h_bs, 1.5, np.arange(200)[:, None] % 2 == 0)
    assert mixed.shape == (200, 1)


def test_unknown_scenario():
    with pytest.raises(ValueError, match="suburban"):
        pathloss_db("suburban", 100.0, 100.0, 3.5, 35.0, 1.5, True)
    assert float(pathloss_db("UMa", 100.0, 100.0, 3.5, 25.0, 1.5, True)) > 0


# ---------------------------------------------------------------- LOS probability
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_los_probability_range_and_monotone(scenario):
    d = np.linspace(0.0, 2000.0, 501)
    p = los_probability(scenario, d, 1.5)
    assert p.shape == d.shape
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert np.all(np.diff(p) <= 1e-12)
    assert p[0] == 1.0


def test_los_probability_uma_umi_values():
    d = np.array([1.0, 10.0, 18.0])
    assert np.all(los_probability("uma", d, 1.5) == 1.0)
    assert np.all(los_probability("umi", d, 1.5) == 1.0)
    x = 100.0
    uma = 18 / x + exp(-x / 63) * (1 - 18 / x)
    umi = 18 / x + exp(-x / 36) * (1 - 18 / x)
    assert float(los_probability("uma", x, 1.5)) == pytest.approx(uma, abs=1e-12)
    assert float(los_probability("umi", x, 1.5)) == pytest.approx(umi, abs=1e-12)
    # C'(hUT) for hUT = 18 m: ((18-13)/10)^1.5
    c = ((18.0 - 13.0) / 10.0) ** 1.5
    expected = uma * (1 + c * 5 / 4 * (x / 100) ** 3 * exp(-x / 150))
    assert float(los_probability("uma", x, 18.0)) == pytest.approx(expected, abs=1e-12)


def test_los_probability_inh_values():
    assert float(los_probability("inh", 1.0, 1.0)) == 1.0
    assert float(los_probability("inh", 4.0, 1.0)) == pytest.approx(exp(-(4.0 - 1.2) / 4.7))
    assert float(los_probability("inh", 20.0, 1.0)) == pytest.approx(
        0.32 * exp(-(20.0 - 6.5) / 32.6)
    )


def test_los_probability_inf_values():
    # each sub-scenario's own clutter (TR 38.901 InF calibration, Table 7.8-7):
    # SL/SH r = 20 %, hc = 2 m, d_clutter 10 m; DL/DH r = 60 %, hc = 6 m, d_clutter 2 m
    k_sl = -10.0 / log(1 - 0.2)  # 44.81 m
    k_dl = -2.0 / log(1 - 0.6)  # 2.18 m
    assert float(los_probability("inf-sl", 30.0, 1.5)) == pytest.approx(exp(-30.0 / k_sl))
    assert float(los_probability("inf-sl", 30.0, 1.5)) == pytest.approx(0.512, abs=1e-3)
    assert float(los_probability("inf-dl", 5.0, 1.5)) == pytest.approx(exp(-5.0 / k_dl))
    # high BS: k = -d_clutter / ln(1-r) * (hBS - hUT) / (hc - hUT)
    k_sh = k_sl * (8.0 - 1.5) / (2.0 - 1.5)
    k_dh = k_dl * (8.0 - 1.5) / (6.0 - 1.5)
    assert float(los_probability("inf-sh", 30.0, 1.5)) == pytest.approx(exp(-30.0 / k_sh))
    assert float(los_probability("inf-sh", 20.0, 1.5)) == pytest.approx(0.966, abs=1e-3)
    assert float(los_probability("inf-dh", 30.0, 1.5)) == pytest.approx(exp(-30.0 / k_dh))
    # the BS height enters for SH/DH: a 12 m BS sees further over the clutter than an 8 m one
    assert float(los_probability("inf-dh", 30.0, 1.5, h_bs_m=12.0)) == pytest.approx(
        exp(-30.0 / (k_dl * (12.0 - 1.5) / (6.0 - 1.5))))
    # UT above clutter -> LOS (a 4 m camera in sparse clutter; 7 m in dense)
    assert float(los_probability("inf-sh", 30.0, 4.0)) == 1.0
    assert float(los_probability("inf-dh", 30.0, 7.0)) == 1.0
    kw = {"clutter_density": 0.6, "clutter_height_m": 2.0, "h_bs_m": 10.0}
    k = -2.0 / log(1 - 0.6) * (10.0 - 1.5) / (2.0 - 1.5)
    assert float(los_probability("inf-dh", 5.0, 1.5, **kw)) == pytest.approx(exp(-5.0 / k))
    with pytest.raises(ValueError):
        los_probability("inf-dh", 10.0, 1.5, h_bs_m=4.0)


# ---------------------------------------------------------------- RMa (and RMa-AV)
def test_rma_path_loss_los_probability_and_shadowing_are_table_7_4_1_1s_by_hand():
    """TR 38.901 RMa at its defaults (hBS 35 m, hUT 1.5 m, buildings h 5 m, streets W 20 m),
    3.5 GHz: dBP = 2 pi 35 x 1.5 x 3.5e9 / 3e8 = 3,848 m. At d2D 1,000 m (d3D 1,000.56 m),
    LOS PL1 = 20 log10(40 pi d3D fc / 3) + 0.4779 log10(d3D) - 0.7009 + 0.002 log10(5) d3D
    (5^1.72 = 15.93: 0.03 x 15.93 and 0.044 x 15.93, both under their caps) = 103.33 + 1.43
    - 0.70 + 1.40 = 105.46 dB; at
    6,000 m, PL2 = PL1(dBP) + 40 log10(d3D / dBP); NLOS the table's formula, 130.42 dB at
    1,000 m, above LOS. LOS probability exp(-(d - 10)/1000): 0.3716 at 1,000 m. Shadowing
    4 dB LOS before the breakpoint, 6 beyond, 8 NLOS."""
    fc, hb, hu = 3.5, 35.0, 1.5
    d_bp = 2 * math.pi * hb * hu * fc * 1e9 / 3e8
    assert d_bp == pytest.approx(3848.45, abs=0.01)
    h, w = 5.0, 20.0

    def pl1(d3):
        return (20 * math.log10(40 * math.pi * d3 * fc / 3) + min(0.03 * h**1.72, 10)
                * math.log10(d3) - min(0.044 * h**1.72, 14.77) + 0.002 * math.log10(h) * d3)

    d3 = math.hypot(1000.0, hb - hu)
    assert pl1(d3) == pytest.approx(105.46, abs=0.01)
    assert pl("rma", 1000.0, hb, hu, True) == pytest.approx(pl1(d3), abs=1e-9)
    far = math.hypot(6000.0, hb - hu)
    assert pl("rma", 6000.0, hb, hu, True) == pytest.approx(
        pl1(d_bp) + 40 * math.log10(far / d_bp), abs=1e-9)
    nlos = (161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
            - (24.37 - 3.7 * (h / hb) ** 2) * math.log10(hb)
            + (43.42 - 3.1 * math.log10(hb)) * (math.log10(d3) - 3) + 20 * math.log10(fc)
            - (3.2 * math.log10(11.75 * hu) ** 2 - 4.97))
    assert nlos == pytest.approx(130.42, abs=0.01)
    assert pl("rma", 1000.0, hb, hu, False) == pytest.approx(nlos, abs=1e-9)
    assert float(los_probability("rma", 1000.0, hu)) == pytest.approx(exp(-0.99), abs=1e-12)
    assert float(los_probability("rma", 8.0, hu)) == 1.0
    sf = shadow_fading_std_db("rma", np.array([True, True, False]), hu,
                              d2d_m=np.array([1000.0, 6000.0, 1000.0]), fc_ghz=fc, h_bs_m=hb)
    np.testing.assert_array_equal(sf, [4.0, 6.0, 8.0])


def test_rma_above_10_m_is_tr_36_777s_rma_av():
    """A drone over RMa cells (TR 36.777 Annex B, RMa-AV, 10-300 m): at 60 m, 500 m out,
    LOS PL = max(23.9 - 1.8 log10 60, 20) log10(d3D) + 20 log10(40 pi fc / 3) = 20.70 x
    2.6995 + 43.32 = 99.20 dB at 3.5 GHz (d3D 500.6 m), NLOS -12 + (35 - 5.3 log10 60)
    log10(d3D) + 43.32 = 100.37 dB;
    every link LOS above 40 m; at 20 m, beyond d1 = 1350.8 log10 20 - 1602 = 155.4 m, with
    p1 = 15021 log10 20 - 16053 = 3,490 m: 0.908 at 500 m; shadowing 4.2 exp(-0.0046 h) in
    LOS (3.19 dB at 60 m), 6 dB NLOS."""
    fc, hb, hu = 3.5, 35.0, 60.0
    d3 = math.hypot(500.0, hu - hb)
    free = 20 * math.log10(40 * math.pi * fc / 3)
    los = max(23.9 - 1.8 * math.log10(hu), 20.0) * math.log10(d3) + free
    assert los == pytest.approx(99.20, abs=0.01)
    assert pl("rma", 500.0, hb, hu, True) == pytest.approx(los, abs=1e-9)
    nlos = -12 + (35 - 5.3 * math.log10(hu)) * math.log10(d3) + free
    assert nlos == pytest.approx(100.37, abs=0.01)
    assert pl("rma", 500.0, hb, hu, False) == pytest.approx(nlos, abs=1e-9)
    assert float(los_probability("rma", 3000.0, hu)) == 1.0
    d1 = 1350.8 * math.log10(20) - 1602
    p1 = 15021 * math.log10(20) - 16053
    expected = d1 / 500 + exp(-500 / p1) * (1 - d1 / 500)
    assert expected == pytest.approx(0.908, abs=1e-3)
    assert float(los_probability("rma", 500.0, 20.0)) == pytest.approx(expected, abs=1e-12)
    assert float(los_probability("rma", 150.0, 20.0)) == 1.0  # (within d1)
    np.testing.assert_allclose(shadow_fading_std_db("rma", np.array([True, False]), hu),
                               [4.2 * exp(-0.0046 * 60), 6.0])


# ---------------------------------------------------------------- shadow fading
def test_shadow_fading_std():
    table = {
        "uma": (4.0, 6.0),
        "umi": (4.0, 7.82),
        "rma": (4.0, 8.0),
        "inh": (3.0, 8.03),
        "inf-sl": (4.3, 5.7),
        "inf-dl": (4.3, 7.2),
        "inf-sh": (4.3, 5.9),
        "inf-dh": (4.3, 4.0),
    }
    assert set(table) == set(SCENARIOS)
    for sc, (s_los, s_nlos) in table.items():
        out = shadow_fading_std_db(sc, np.array([True, False, True]))
        np.testing.assert_array_equal(out, [s_los, s_nlos, s_los])


def test_a_devices_link_gain_is_path_loss_plus_the_sector_pattern_by_hand():
    """The world's gain from each sector of a 25 m site with 12 degrees of downtilt to a 1.5 m
    UE 15 m away at bearing 50 (20 degrees off sector 0's 30), in LOS (P_LOS = 1 within 18 m),
    without shadowing. By hand: d3D = sqrt(15**2 + 23.5**2) = 27.88 m, PL = 28 + 22 log10(d3D)
    + 20 log10(3.5) = 70.67 dB; zenith 90 + atan(23.5 / 15) = 147.45, 45.45 below the tilted
    boresight: A_V = -12 (45.45/65)**2 = -5.87 dB; A_H = -12 (20/65)**2 = -1.14 dB; element
    8 dBi (TR 38.901 Table 7.3-1): -69.68 dB. Sectors 1 and 2 (100 and 140 degrees off) are
    at the 30 dB floor: 8 - 30 - 70.67 = -92.68 dB."""
    import math

    from one_cell import one_cell_site

    from airan.engine.world import build_world
    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=3)
    d["cell_sites"][0].update(height_m=25.0, downtilt_deg=12.0)
    d["radio"].update(shadowing=False)
    x, y = 15 * math.cos(math.radians(50)), 15 * math.sin(math.radians(50))
    d["fleets"] = [{"name": "v", "count": 1, "height_m": 1.5, "services": ["perception"],
                    "area": {"x_m": [x, x], "y_m": [y, y]}}]
    w = build_world(scenario_from_dict(d), 1)
    d3d = sqrt(15.0**2 + 23.5**2)
    pl_db = 28.0 + 22 * log10(d3d) + 20 * log10(3.5)
    below_tilt = 90 + np.degrees(np.arctan2(23.5, 15.0)) - 90 - 12
    a_v, a_h = -12 * (below_tilt / 65) ** 2, -12 * (20 / 65) ** 2
    expected = {0: 8 + a_v + a_h - pl_db, 1: 8 - 30 - pl_db, 2: 8 - 30 - pl_db}
    assert expected[0] == pytest.approx(-69.68, abs=0.01)
    got = dict(zip(w.dev_top_cell[0][:3].tolist(),
                   (10 * np.log10(w.dev_top_gain[0][:3])).tolist(), strict=True))
    for cell, db in expected.items():
        assert got[cell] == pytest.approx(db, abs=1e-6)


# ---------------------------------------------------------------- aerial UEs (TR 36.777 Annex B)
def test_uma_av_path_loss_by_hand():
    """TR 36.777 Table B-2, UMa-AV, a drone at 100 m, 100 m out from a 25 m mast (d3D 125 m:
    a 3-4-5 triangle) at 2 GHz: LOS 28 + 22 log10(125) + 20 log10(2) (no breakpoint); NLOS
    -17.5 + (46 - 7 log10(100)) log10(125) + 20 log10(40 pi 2 / 3)."""
    los = 28.0 + 22.0 * 2.0969100 + 6.0205999  # 80.153
    nlos = -17.5 + 32.0 * 2.0969100 + 20 * log10(83.775804)  # 88.063
    assert pl("uma", 100.0, 25.0, 100.0, True, fc=2.0) == pytest.approx(los, abs=1e-6)
    assert pl("uma", 100.0, 25.0, 100.0, False, fc=2.0) == pytest.approx(nlos, abs=1e-6)
    assert (los, nlos) == (pytest.approx(80.153, abs=1e-3), pytest.approx(88.063, abs=1e-3))
    # above 300 m, taken at 300 m (the mast's own distance still the drone's)
    assert pl("uma", 100.0, 25.0, 400.0, False) == pytest.approx(
        -17.5 + (46 - 7 * log10(300.0)) * log10(d3(100.0, 25.0, 400.0))
        + 20 * log10(40 * np.pi * FC / 3), abs=1e-9)


def test_umi_av_path_loss_by_hand():
    """TR 36.777 Table B-2, UMi-AV at 60 m, 500 m out from a 10 m mast, 3.5 GHz: LOS
    max(free space, 30.9 + (22.25 - 0.5 log10 h) log10 d3D + 20 log10 fc); NLOS the larger of
    that and 32.4 + (43.2 - 7.6 log10 h) log10 d3D + 20 log10 fc."""
    d = d3(500.0, 10.0, 60.0)
    lg_h = log10(60.0)
    los = 30.9 + (22.25 - 0.5 * lg_h) * log10(d) + 20 * log10(FC)
    assert los > 20 * log10(40 * np.pi * d * FC / 3)
    assert pl("umi", 500.0, 10.0, 60.0, True) == pytest.approx(los, abs=1e-9)
    nlos = 32.4 + (43.2 - 7.6 * lg_h) * log10(d) + 20 * log10(FC)
    assert pl("umi", 500.0, 10.0, 60.0, False) == pytest.approx(nlos, abs=1e-9)
    for h, d2d in ((23.0, 10.0), (300.0, 10.0), (300.0, 3000.0)):  # never below free space
        assert pl("umi", d2d, 10.0, h, True) >= 20 * log10(
            40 * np.pi * d3(d2d, 10.0, h) * FC / 3)


def test_aerial_los_probability_by_hand():
    """TR 36.777 Table B-1: d1/d + exp(-d/p1)(1 - d1/d) beyond d1. UMa-AV at 50 m:
    d1 = 460 log10(50) - 700 = 81.526 m, p1 = 4300 log10(50) - 3800 = 3505.57 m; above 100 m
    every link is LOS. UMi-AV at 50 m: d1 = 66.64 m, p1 = 396.52 m."""
    assert float(los_probability("uma", 500.0, 50.0)) == pytest.approx(
        81.526 / 500 + exp(-500 / 3505.57) * (1 - 81.526 / 500), abs=1e-4)
    assert float(los_probability("uma", 500.0, 50.0)) == pytest.approx(0.8887, abs=1e-4)
    assert float(los_probability("uma", 80.0, 50.0)) == 1.0  # within d1
    assert float(los_probability("uma", 5000.0, 100.5)) == 1.0
    assert float(los_probability("umi", 500.0, 50.0)) == pytest.approx(
        66.64 / 500 + exp(-500 / 396.52) * (1 - 66.64 / 500), abs=1e-4)
    # the ground formulas up to 22.5 m, unchanged
    assert float(los_probability("umi", 100.0, 22.5)) == pytest.approx(
        18 / 100 + exp(-100 / 36) * (1 - 18 / 100), abs=1e-12)


def test_aerial_shadow_fading_std():
    """TR 36.777 Table B-3: UMa-AV LOS 4.64 exp(-0.0066 h), NLOS 6; UMi-AV LOS
    max(5 exp(-0.01 h), 2), NLOS 8; at or below 22.5 m, TR 38.901's."""
    los = np.array([True, False])
    np.testing.assert_allclose(shadow_fading_std_db("uma", los, 50.0),
                               [4.64 * exp(-0.33), 6.0])
    np.testing.assert_allclose(shadow_fading_std_db("umi", los, 50.0), [5 * exp(-0.5), 8.0])
    np.testing.assert_allclose(shadow_fading_std_db("umi", los, 200.0), [2.0, 8.0])
    np.testing.assert_allclose(shadow_fading_std_db("uma", los, 22.5), [4.0, 6.0])
    np.testing.assert_allclose(shadow_fading_std_db("inh", los, 50.0), [3.0, 8.03])


def _drone_median_sinr_db(h: float, rings: int = 2, radius_m: float = 500.0) -> float:
    """The median downlink geometry SINR of 300 static drones at ``h`` over a UMa hex layout
    of ``rings`` rings, 500 m apart."""
    import warnings

    import airan
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "name": "drones", "duration_s": 0.05, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "nr", "environment": "uma"},
        "cell_layout": {"hex": {"rings": rings, "isd_m": 500}, "height_m": 25},
        "nodes": [{"name": "edge", "position_m": [0, 0]}],
        "compute_sites": [{"name": "mec", "at": "edge", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"backhaul": {"to": "edge", "capacity_gbps": 10}},
        "fleets": [{"name": "d", "count": 300, "device_class": "drone", "height_m": h,
                    "accelerator": "none", "services": ["s"],
                    "area": {"center_m": [0, 0], "radius_m": radius_m}}],
        "services": [{"name": "s", "model": "yolov8n", "rate_hz": 1, "ul_kb": 5,
                      "dl_kb": 1, "deadline_ms": 100}],
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        devices = airan.run(sc).devices
    assert devices is not None
    return float(np.median(np.asarray(devices["sinr_dl_db"])))


def test_an_aerial_ue_hears_the_far_cells_a_ground_ue_may_leave_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A review of the diff: a drone in line of sight of far cells, in their main lobe near the
    horizon, heard only its 24 nearest sites' and read its SINR ~1.2 dB high at 120 m over 61
    sites. Its neighbour set now holds every one of them: the same SINR as when every site
    is a candidate (the reference), and 24 sites read high."""
    import airan.engine.device_radio as device_radio

    ours = _drone_median_sinr_db(120.0, rings=4, radius_m=300.0)
    monkeypatch.setattr(device_radio, "NEAREST_SITES_AERIAL", 10_000)  # (every site)
    assert ours == _drone_median_sinr_db(120.0, rings=4, radius_m=300.0)
    monkeypatch.setattr(device_radio, "NEAREST_SITES_AERIAL", device_radio.NEAREST_SITES)
    assert _drone_median_sinr_db(120.0, rings=4, radius_m=300.0) > ours + 0.8


def test_drones_higher_up_see_more_cells_and_a_worse_downlink() -> None:
    """TR 36.777's finding (clause 5.1, Lin et al., IEEE Commun. Mag. 2018, "The sky is not
    the limit"): above the clutter an aerial UE is in LOS of many cells, whose interference
    drags its downlink SINR down as it climbs. A 19-site UMa layout with drones at 1.5 m to
    300 m: the median downlink SINR falls with height (it stayed that of 22.5 m above it)."""


    medians = [_drone_median_sinr_db(h) for h in (1.5, 60.0, 120.0, 300.0)]
    assert medians == sorted(medians, reverse=True), medians
    assert medians[2] < medians[0] - 5.0, medians  # 120 m: several dB below the ground's


def test_indoors_a_device_above_22_5_m_is_taken_at_22_5_m() -> None:
    """InH and InF have no aerial model: a fleet set at 100 m gets the links it gets at 22.5 m
    (as the warning says; a review of the diff: the 300 m cap applied indoors too)."""
    import warnings

    import airan
    from airan.scenario import scenario_from_dict

    def sinr(h: float) -> list[float]:
        d = airan.load_scenario("factory").model_dump(mode="json")
        for f in d["fleets"]:
            f.update(height_m=h, mobility=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            devices = airan.run(scenario_from_dict(d), duration_s=0.05).devices
        assert devices is not None
        return devices.column("sinr_dl_db").to_pylist()

    assert sinr(100.0) == sinr(22.5)


def test_aerial_shadow_fading_std_broadcasts_los_with_heights() -> None:
    np.testing.assert_allclose(shadow_fading_std_db("uma", True, [1.5, 30.0, 150.0]),
                               [4.0, 4.64 * exp(-0.0066 * 30), 4.64 * exp(-0.0066 * 150)])


def _uma_world(height_m: float, seed: int = 1, x_m: float = 600.0):  # type: ignore[no-untyped-def]
    """A 19-site UMa layout (ISD 500 m) and 200 devices at ``height_m`` around (``x_m``, 0)."""
    from airan.engine.world import build_world
    from airan.scenario import scenario_from_dict

    return build_world(scenario_from_dict({
        "name": "he", "duration_s": 0.05, "seed": seed, "policy": "nearest-edge",
        "radio": {"model": "nr", "environment": "uma", "shadowing": False},
        "cell_layout": {"hex": {"rings": 2, "isd_m": 500}, "height_m": 25},
        "nodes": [{"name": "edge", "position_m": [0, 0]}],
        "compute_sites": [{"name": "mec", "at": "edge", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"backhaul": {"to": "edge", "capacity_gbps": 10}},
        "fleets": [{"name": "d", "count": 200, "device_class": "drone", "height_m": height_m,
                    "accelerator": "none", "services": ["s"],
                    "area": {"x_m": [x_m - 100, x_m + 100], "y_m": [-100, 100]}}],
        "services": [{"name": "s", "model": "yolov8n", "rate_hz": 1, "ul_kb": 5,
                      "dl_kb": 1, "deadline_ms": 100}],
    }), seed)


def test_elevated_uma_ues_draw_their_effective_height_per_link() -> None:
    """Drones at 22.5 m in UMa: each (device, site) link draws its hE (Note 1), so some links
    to sites hundreds of metres away fall on PL2 with d'BP down to 280 m and are weaker than
    with hE fixed at 1 m, never stronger (a larger hE only lowers d'BP); the draw is a
    spatially consistent one, most of it the same for a device moved 1 m (the field's
    correlation there is exp(-1 / 50); a link near a threshold of the draw changes), and
    devices at 1.5 m and 13.4 m beside them keep every gain they had (hE = 1 m below 13.5 m:
    C = 0 below 13 m, and {12, .., hUT - 1.5} empty below 13.5 m), where 13.5 m draws 12 m
    on a few links."""
    radio = _uma_world(22.5).device_radio
    xy = np.column_stack([np.linspace(300, 900, 200), np.zeros(200)])
    h = np.full(200, 22.5)
    cells = np.tile(np.arange(len(radio.cell_node)), (200, 1))
    saved = radio._he_waves

    def he_db(at: np.ndarray, height: np.ndarray) -> np.ndarray:
        """Each link's gain with hE drawn over its gain with hE 1 m (dB)."""
        drawn = radio.gains(at, height, cells)
        radio._he_waves = saved[:0]  # (no field: every hE 1 m)
        try:
            return 10 * np.log10(drawn / radio.gains(at, height, cells))  # type: ignore[no-any-return]
        finally:
            radio._he_waves = saved

    ratio_db = he_db(xy, h)
    assert np.all(ratio_db <= 1e-9)
    assert (ratio_db < -3.0).sum() > 20, (ratio_db < -3.0).sum()
    # each link's hE at the positions and 1 m on: an independent draw per link would change
    # ~80% of those that may draw above 1 m (five values, none more likely than 0.21); the
    # field's (exponential correlation, exp(-1 / 50) at 1 m) changes ~20%
    site = radio._mast[radio.cell_node[cells]]
    cx, cy = radio.cell_xy[cells, 0], radio.cell_xy[cells, 1]

    def h_e(at: np.ndarray, height: np.ndarray = h) -> np.ndarray:
        d2d = np.hypot(cx - at[:, :1], cy - at[:, 1:])
        out = radio._uma_effective_height_m(at[:, :1] + 0 * cx, at[:, 1:] + 0 * cy, site,
                                            d2d, height)
        assert out is not None
        return out

    here, there = h_e(xy), h_e(xy + [1.0, 0.0])
    may = (here > 1.0) | (there > 1.0)
    assert may.sum() > 1000 and np.mean(here[may] != there[may]) < 0.4
    mixed = np.tile([22.5, 1.5, 13.4, 13.5], 50)  # (the drones' rows drawn beside them)
    low = mixed < 13.5
    assert np.all(he_db(xy, mixed)[low] == 0.0)
    drawn = h_e(xy, mixed)
    assert np.all(drawn[low] == 1.0)
    assert set(np.unique(drawn[mixed == 13.5])) == {1.0, 12.0}
