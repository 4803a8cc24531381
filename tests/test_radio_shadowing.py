"""Spatially consistent shadow fading (TR 38.901 7.6.3.1): a field over the plane per site and
LOS state, standard normal, correlated as exp(-distance / d_corr) with d_corr from Table 7.5-6
(Gudmundson's law), read at each device's position; and the spatially consistent LOS state
(7.6.3.3), the uniform Phi(z) of one more field per site against the LOS probability."""

from __future__ import annotations

import numpy as np
import pytest

from airan.radio.shadowing import (
    COS_REDUCED_MAX,
    LOS_STATE_DECORRELATION_M,
    N_WAVES,
    SF_DECORRELATION_M,
    decorrelation_m,
    gaussian_field,
    los_state,
    reduced_cos,
    shadow_field,
    wave_table,
)

SITES = 2000


def _pairs(d_corr: float, lag_m: float, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The field of each of SITES sites at 40 points of a 6 km square and at a point lag_m
    away in a random direction."""
    rng = np.random.default_rng(seed)
    table = wave_table(SITES, seed)
    site = np.repeat(np.arange(SITES), 40)
    x, y = rng.uniform(-3000.0, 3000.0, (2, site.size))
    angle = rng.uniform(0.0, 2.0 * np.pi, site.size)
    los = np.zeros(site.size, dtype=bool)
    a = shadow_field(x, y, site, los, d_corr, table)
    b = shadow_field(x + lag_m * np.cos(angle), y + lag_m * np.sin(angle), site, los, d_corr,
                     table)
    return a, b


def test_the_field_is_standard_normal() -> None:
    z, _ = _pairs(50.0, 0.0)
    assert abs(z.mean()) < 0.02 and z.std() == pytest.approx(1.0, abs=0.02)
    # its tails as a normal's (a sum of N_WAVES cosines: bounded at sqrt(2 N), 6.9 sigma)
    assert np.mean(z < -1.645) == pytest.approx(0.05, abs=0.004)
    assert np.mean(z > 2.326) == pytest.approx(0.01, abs=0.002)
    assert np.abs(z).max() <= np.sqrt(2 * N_WAVES)


@pytest.mark.parametrize("lag_over_d", [0.02, 0.25, 1.0, 3.0])
def test_its_correlation_falls_as_gudmundsons_exponential(lag_over_d: float) -> None:
    d_corr = 37.0  # UMa LOS
    a, b = _pairs(d_corr, lag_over_d * d_corr)
    assert np.corrcoef(a, b)[0, 1] == pytest.approx(np.exp(-lag_over_d), abs=0.02)


def test_decorrelation_distances_are_tr_38901_table_7_5_6() -> None:
    assert SF_DECORRELATION_M["uma"] == (37.0, 50.0)
    assert SF_DECORRELATION_M["umi"] == (10.0, 13.0)
    assert SF_DECORRELATION_M["rma"] == (37.0, 120.0)  # (Table 7.5-6 Part-2)
    assert SF_DECORRELATION_M["inh"] == (10.0, 6.0)
    assert decorrelation_m("InF-DH", [True, False]).tolist() == [10.0, 10.0]
    assert decorrelation_m("UMa", np.array([[True, False]])).tolist() == [[37.0, 50.0]]


def test_each_site_and_los_state_has_its_own_field_and_any_order_gives_the_same_values() -> None:
    table = wave_table(3, 7)
    x = np.linspace(0.0, 500.0, 50)
    site = np.array([0, 1, 2])[:, None]
    los = np.array([[False], [True]])[:, :, None]
    z = shadow_field(x, 0.0, site[None], los, 37.0, table)  # [2, 3, 50]
    corr = np.corrcoef(z.reshape(6, -1))
    assert np.abs(corr[~np.eye(6, dtype=bool)]).max() < 0.9  # six different fields
    one = shadow_field(x[::-1], 0.0, 1, True, 37.0, table)[::-1]  # reversed, one at a time
    assert np.array_equal(one, z[1, 1])
    assert np.array_equal(wave_table(3, 7), table) and not np.array_equal(wave_table(3, 8), table)


def test_a_moving_device_sees_its_shadowing_change_and_one_beside_it_the_same() -> None:
    """city's UMa links, through the world's DeviceRadio: at 1 m apart a device's gain to a
    cell changes by the path loss's own change and a little shadowing; 300 m on (6 d_corr),
    the shadowing is a new draw."""
    import airan
    from airan.engine import Engine
    from airan.radio import pathloss

    eng = Engine(airan.load_scenario("city"), duration_s=0.01)
    radio = eng.world.device_radio
    rng = np.random.default_rng(1)
    n = 400
    xy = rng.uniform(-1000.0, 1000.0, (n, 2))
    h = np.full(n, 1.5)
    cells = np.zeros((n, 1), dtype=np.int64)  # one cell for all: its site's field

    def shadow_db(points: np.ndarray) -> np.ndarray:
        with_sf = -10 * np.log10(radio.gains(points, h, cells)[:, 0])
        radio.shadowing = False
        try:
            without = -10 * np.log10(radio.gains(points, h, cells)[:, 0])
        finally:
            radio.shadowing = True
        return with_sf - without

    here = shadow_db(xy)
    near = shadow_db(xy + [1.0, 0.0])
    far = shadow_db(xy + [300.0, 0.0])
    sigma = pathloss.shadow_fading_std_db("uma", False)
    assert here.std() == pytest.approx(sigma, rel=0.25)  # (LOS links: 4 dB, NLOS 6)
    same_state = np.abs(near - here) < 1.5 * sigma  # a step 1 m on can flip LOS: rare
    assert same_state.mean() > 0.9
    assert np.corrcoef(here[same_state], near[same_state])[0, 1] > 0.9
    assert abs(np.corrcoef(here, far)[0, 1]) < 0.2


def test_links_are_re_evaluated_within_half_the_shortest_decorrelation_distance() -> None:
    """A moving device's shadowing and LOS state are read every radio_step_m: 10 m in UMa
    (d_corr 37 / 50 m, LOS state 50 m), half the shortest d_corr elsewhere (UMi 13 / 10 m, InH
    10 / 6 m, InF 10 m and LOS state 1-5 m), so successive readings correlate at 0.6 or more,
    not at exp(-10 / 6) = 0.19 indoors."""
    from airan.engine.motion import radio_step_m

    steps = {env: radio_step_m(env) for env in ("UMa", "UMi", "InH", "InF-SL", "InF-DH")}
    # InF's LOS state decorrelates over d_clutter / 2: 5 m sparse, 1 m dense clutter
    assert steps == {"UMa": 10.0, "UMi": 5.0, "InH": 3.0, "InF-SL": 2.5, "InF-DH": 0.5}
    for env, step in steps.items():
        shortest = min(*SF_DECORRELATION_M[env.lower()], LOS_STATE_DECORRELATION_M[env.lower()])
        assert np.exp(-step / shortest) >= 0.6


def test_a_link_that_repeats_one_of_its_row_takes_its_value_and_no_other() -> None:
    """A device's cells come from a few sites, listed in any order: each (site, state) is
    computed once per row (shadow_field's look-back) and equals the field read alone."""
    table = wave_table(5, 3)
    rng = np.random.default_rng(4)
    site = rng.integers(0, 5, (40, 16))
    los = rng.random((40, 16)) < 0.5
    x = np.repeat(rng.uniform(-500, 500, (40, 1)), 16, axis=1)
    y = np.repeat(rng.uniform(-500, 500, (40, 1)), 16, axis=1)
    rows = shadow_field(x, y, site, los, 10.0, table)
    alone = np.array([shadow_field(a, b, s, t, 10.0, table)
                      for a, b, s, t in zip(x.ravel(), y.ravel(), site.ravel(), los.ravel(),
                                            strict=True)]).reshape(40, 16)
    assert np.array_equal(rows, alone)


def test_los_state_correlation_distances_are_tr_38901_table_7_6_3_1_2() -> None:
    """UMa 50 m, UMi 50 m, RMa 60 m, InH 10 m; InF d_clutter / 2 with d_clutter of Table
    7.2-4 (10 m in sparse, 2 m in dense clutter)."""
    assert LOS_STATE_DECORRELATION_M == {
        "uma": 50.0, "umi": 50.0, "rma": 60.0, "inh": 10.0,
        "inf-sl": 5.0, "inf-dl": 1.0, "inf-sh": 5.0, "inf-dh": 1.0}


def _los_pairs(p_los: np.ndarray, lag_m: float, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """The LOS state of SITES x 40 links at random points of a 6 km square (UMa) and at a
    point lag_m away, each with the LOS probability ``p_los`` (broadcast)."""
    rng = np.random.default_rng(seed)
    table = wave_table(SITES, seed, n_fields=1)
    site = np.repeat(np.arange(SITES), 40)
    x, y = rng.uniform(-3000.0, 3000.0, (2, site.size))
    angle = rng.uniform(0.0, 2.0 * np.pi, site.size)
    a = los_state(x, y, site, p_los, "UMa", table)
    b = los_state(x + lag_m * np.cos(angle), y + lag_m * np.sin(angle), site, p_los, "UMa",
                  table)
    return a, b


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9])
def test_a_link_is_los_with_the_tr_38901_probability(p: float) -> None:
    """Over the plane the state is LOS with the probability given (Table 7.4.2-1's, whatever
    it is at the link's distance): the uniform Phi(z) of the field is uniform."""
    los, _ = _los_pairs(np.full(SITES * 40, p), 0.0)
    assert los.mean() == pytest.approx(p, abs=0.01)


@pytest.mark.parametrize("lag_over_d", [0.02, 0.5, 1.0, 1.5])
def test_two_points_share_their_los_state_as_the_gaussian_copula_says(lag_over_d: float) -> None:
    """At LOS probability 1/2 two points whose fields correlate at rho = exp(-lag / d_corr)
    are in the same state with probability 1/2 + arcsin(rho) / pi (the orthant probability of
    a bivariate normal, Sheppard 1899): 1 side by side, 1/2 (independent) far apart. Drawn
    per link from a hash, as before, it was 1/2 at any distance."""
    a, b = _los_pairs(np.full(SITES * 40, 0.5), lag_over_d * LOS_STATE_DECORRELATION_M["uma"])
    rho = np.exp(-lag_over_d)
    assert np.mean(a == b) == pytest.approx(0.5 + np.arcsin(rho) / np.pi, abs=0.015)


def test_a_moving_device_loses_and_regains_los_over_the_correlation_distance() -> None:
    """TR 38.901 7.6.3.3: read every 10 m (UMa's radio step) along a 2 km drive at a fixed LOS
    probability of 1/2, the state to a site changes at each step with probability 1/2 -
    arcsin(exp(-10 / 50)) / pi = 0.195, rather than at most once as a fixed per-link draw
    against a falling probability did."""
    table = wave_table(SITES, 3, n_fields=1)
    x = np.arange(0.0, 2000.0, 10.0)
    los = los_state(x[None, :], 0.0, np.arange(SITES)[:, None], 0.5, "UMa", table)
    step = np.diff(los.astype(int), axis=1)
    expected = 0.5 - np.arcsin(np.exp(-10.0 / 50.0)) / np.pi
    assert np.mean(step != 0) == pytest.approx(expected, rel=0.05)


def test_the_los_field_is_its_own_apart_from_the_shadowing_and_other_sites() -> None:
    """The world's LOS-state field of a site is independent of the same site's two shadowing
    fields and of the next site's LOS-state field (each seeded apart): a LOS state read off a
    shadowing field would tie a link's state to its shadowing."""
    import airan
    from airan.engine import Engine
    from airan.radio.shadowing import gaussian_field

    radio = Engine(airan.load_scenario("city"), duration_s=0.01).world.device_radio
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-1500.0, 1500.0, (2, 20_000))
    los_0 = gaussian_field(x, y, 0, 0, 50.0, radio._los_waves)
    others = [gaussian_field(x, y, 1, 0, 50.0, radio._los_waves),  # site 1's LOS state
              shadow_field(x, y, 0, False, 50.0, radio._sf_waves),  # site 0's shadowing
              shadow_field(x, y, 0, True, 50.0, radio._sf_waves)]
    for z in others:
        assert abs(np.corrcoef(los_0, z)[0, 1]) < 0.1


def test_two_carriers_on_one_mast_share_the_paths_los_state_and_shadowing() -> None:
    """Two cell sites at one position on 3.5 and 3.7 GHz: a device sees them through the same
    LOS state and shadowing (the path's), so their path gains differ by the frequency term of
    TR 38.901's path loss alone, 20 log10(3.7 / 3.5) = 0.48 dB, wherever the device is. Read
    from fields keyed by the site, they differed by up to tens of dB."""
    from one_cell import one_cell_site

    from airan.engine import Engine
    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=1)
    d["cell_sites"] = [{"name": name, "position_m": [0.0, 0.0], "sectors": 1,
                        "carrier": dict(d["carrier"], fc_ghz=fc)}
                       for name, fc in (("a", 3.5), ("b", 3.7))]
    d["compute_sites"][0]["at"] = "a"
    radio = Engine(scenario_from_dict(d), duration_s=0.01).world.device_radio
    rng = np.random.default_rng(8)
    xy = rng.uniform(-1500.0, 1500.0, (300, 2))
    gains = radio.gains(xy, np.full(300, 1.5), np.tile([0, 1], (300, 1)))
    diff_db = 10 * np.log10(gains[:, 0] / gains[:, 1])
    # (a LOS link past its breakpoint, which moves with the frequency, differs by less)
    assert np.all(np.abs(diff_db) <= 20 * np.log10(3.7 / 3.5) + 1e-9)
    assert np.mean(np.isclose(diff_db, 20 * np.log10(3.7 / 3.5), atol=1e-9)) > 0.95


def test_the_fields_cosine_is_libms_to_a_few_units_in_the_last_place() -> None:
    """The vectorizable cos of the fields' sums against libm's, where the reduction by pi/2 is
    hardest: next to every multiple of pi/4 (the quadrants' edges and the polynomials' ends),
    tiny and large arguments up to the reduction's limit."""
    rng = np.random.default_rng(11)
    k = np.arange(-4000, 4001) * (np.pi / 4.0)
    x = np.concatenate([
        k, np.nextafter(k, np.inf), np.nextafter(k, -np.inf),
        rng.uniform(-10.0, 10.0, 200_000), rng.uniform(-1e-6, 1e-6, 10_000),
        rng.uniform(-COS_REDUCED_MAX, COS_REDUCED_MAX, 200_000),
        np.nextafter(COS_REDUCED_MAX, 0.0) * np.array([-1.0, 1.0]),
    ])
    got = gaussian_field(x, 0.0, 0, 0, 1.0, _one_wave_table(1.0, 0.0))  # sqrt(2) cos(x)
    assert np.abs(got / np.sqrt(2.0) - np.cos(x)).max() <= 1e-15
    assert [reduced_cos(v) for v in (0.0, np.pi, -np.pi / 2.0)] == pytest.approx(
        [1.0, -1.0, 0.0], abs=1e-16)


def _one_wave_table(kx: float, phase: float) -> np.ndarray:
    return np.array([kx, 0.0, phase], dtype=np.float64).reshape(1, 1, 1, 3)


def test_the_field_is_its_sum_of_cosines_near_and_far_from_its_origin() -> None:
    """gaussian_field against the spectral sum written out in numpy (libm's cos), over a
    table with waves a million radians and more from the origin (libm's cos there)."""
    rng = np.random.default_rng(12)
    table = wave_table(40, 9)
    table[3, 0, 5, :2] = [4.0e4, -3.0e4]  # a wave of 8 mm at d_corr 50 m: ~10^7 rad at 14 km
    site = rng.integers(0, 40, 5000)
    site[:500] = 3
    x, y = rng.uniform(-14_000.0, 14_000.0, (2, site.size))
    d = 50.0
    w = table[site, 0]  # [links, waves, 3]
    want = np.sqrt(2.0 / N_WAVES) * np.cos(w[..., 0] * (x / d)[:, None]
                                           + w[..., 1] * (y / d)[:, None] + w[..., 2]).sum(1)
    assert np.abs(w[:500, 5, 0] * x[:500] / d).max() > COS_REDUCED_MAX
    assert np.abs(gaussian_field(x, y, site, 0, d, table) - want).max() <= 1e-13
