"""System-level calibration of the radio model against 3GPP's own results.

TR 38.901 7.8.1 specifies a large-scale calibration: a hexagonal layout of three-sector sites
(UMa: 500 m between sites, base stations 25 m high; UMi: 200 m, 10 m), 6 GHz, a column of 10
vertical elements 0.5 wavelengths apart tilted 12 degrees down, UEs dropped uniformly with 80%
indoors on a random floor (3 (n_fl - 1) + 1.5 m; a building of 4 to 8 floors), at least 35 m
(UMa) or 10 m (UMi) from a base station, each served by its strongest cell. The companies'
results were collected in R1-165974; their median curves are tabulated (5%, 10%, ..., 95%) in
QuaDRiGa's ``tutorials/calib_3GPP_ref_data.m`` (``gf38900a``, fraunhoferhhi/QuaDRiGa).

The geometry factor (serving over the sum of every other cell's received power) tests together
airan's TR 38.901 path loss and LOS probability (7.4.1, 7.4.2), the shadow fading, the antenna
element and column (7.3) and the sector layout (:mod:`airan.radio.geometry`). The building
penetration loss (7.4.3) is common to every link of a UE in this setup and cancels out of it.
Simplification of the harness: three rings of sites (37) with UEs served by the inner seven
stand in for 3GPP's 19 sites with wrap-around.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.radio import antenna, geometry, pathloss

QUANTILES = np.arange(5, 100, 5)
# R1-165974 median geometry factor (dB) at 6 GHz, 5%..95% (QuaDRiGa gf38900a(1,:,1:2))
REFERENCE_GEOMETRY_DB = {
    "umi": [-1.7, -0.5, 0.4, 1.2, 2.1, 3, 4, 5, 6.1, 7.3, 8.6, 9.9, 11.4, 13, 14.9, 17, 19.4,
            22.1, 24.9],
    "uma": [-1, 0.1, 1.1, 2, 2.9, 3.9, 5, 6, 7.2, 8.6, 9.9, 11.3, 12.9, 14.7, 16.5, 18.6, 20.9,
            23.4, 25.6],
}
LAYOUT = {"uma": (500.0, 25.0, 35.0), "umi": (200.0, 10.0, 10.0)}  # ISD, h_BS, min distance


def _geometry_db(env: str, n_ues: int, seed: int, indoor_share: float = 0.8) -> np.ndarray:
    isd, h_bs, d_min = LAYOUT[env]
    fc_ghz = 6.0
    rng = np.random.default_rng(seed)
    sites = geometry.hex_grid(3, isd)
    cell_xy = np.repeat(sites, 3, axis=0)
    cell_site = np.repeat(np.arange(len(sites)), 3)
    cell_az = np.tile(np.asarray(geometry.SECTOR_AZIMUTHS_DEG), len(sites))
    radius = 1.6 * isd  # the inner seven sites' area and a margin; served UEs are kept below
    xy = rng.uniform(-radius, radius, size=(4 * n_ues, 2))
    xy = xy[np.hypot(xy[:, 0], xy[:, 1]) < radius][:n_ues]
    n = len(xy)
    indoor = rng.uniform(size=n) < indoor_share
    floors = rng.integers(4, 9, size=n)
    floor = rng.integers(1, floors + 1)
    h_ut = np.where(indoor, 3.0 * (floor - 1) + 1.5, 1.5)
    dx = cell_xy[None, :, 0] - xy[:, None, 0]
    dy = cell_xy[None, :, 1] - xy[:, None, 1]
    d2d = np.hypot(dx, dy)
    dh = h_bs - h_ut[:, None]
    d3d = np.hypot(d2d, dh)
    # indoors, the LOS probability is that of the outdoor part of the path (7.4.3: d_2D-in is
    # min of two U(0, 25 m), one per UE)
    d_in = np.where(indoor, np.minimum(rng.uniform(0, 25, n), rng.uniform(0, 25, n)), 0.0)
    d_out = np.maximum(d2d - d_in[:, None], 0.0)
    p_los = pathloss.los_probability(env, d_out, np.broadcast_to(h_ut[:, None], d2d.shape))
    # LOS state and shadowing per site (the three sectors of a site share them)
    los = rng.uniform(size=(n, len(sites)))[:, cell_site] < p_los
    z = rng.standard_normal(size=(n, len(sites)))[:, cell_site]
    loss = pathloss.pathloss_db(env, d2d, d3d, fc_ghz, h_bs, h_ut[:, None], los)
    loss = loss + z * pathloss.shadow_fading_std_db(env, los)
    azimuth = geometry.bearing_deg(-dx, -dy) - cell_az[None, :]  # from the cell to the UE
    zenith = 90.0 + np.degrees(np.arctan2(dh, np.maximum(d2d, 1.0)))
    gain_db = antenna.column_gain_dbi(azimuth, zenith, tilt_deg=12.0, vertical_elements=10,
                                      spacing_wavelengths=0.5) - loss
    serving = gain_db.argmax(axis=1)
    keep = np.isin(cell_site[serving], np.arange(7)) & (d2d.min(axis=1) >= d_min)
    linear = 10.0 ** (gain_db[keep] / 10.0)
    best = linear.max(axis=1)
    return 10.0 * np.log10(best / (linear.sum(axis=1) - best))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("env", "tolerance_db"), [("uma", 0.75), ("umi", 2.0)])
def test_geometry_factor_matches_the_38901_large_scale_calibration(
        env: str, tolerance_db: float) -> None:
    """Every 5% quantile of the geometry factor near the 3GPP median curve. Measured with
    60,000 UEs: UMa within 0.25 dB everywhere; UMi within 0.5 dB up to the 70th percentile and
    up to 1.4 dB low at the 85th-90th (UEs near their base station, mostly in LOS)."""
    gf = _geometry_db(env, 20_000, seed=7)
    assert len(gf) > 12_000
    ours = np.percentile(gf, QUANTILES)
    ref = np.asarray(REFERENCE_GEOMETRY_DB[env])
    assert np.abs(ours - ref).max() <= tolerance_db, np.round(ours - ref, 2)


def _engine_links(seed: int, shadowing: bool) -> Any:
    """The engine's links (``engine.device_radio``) on the UMa calibration layout, 6 GHz."""
    from airan.engine.device_radio import DeviceRadio

    isd, h_bs, _ = LAYOUT["uma"]
    sites = geometry.hex_grid(3, isd)
    n_cells = 3 * len(sites)
    ones = np.ones(n_cells)
    return DeviceRadio(
        site_xy=sites, cell_node=np.repeat(np.arange(len(sites)), 3),
        cell_xy=np.repeat(sites, 3, axis=0), cell_h=h_bs * ones,
        cell_az=np.tile(np.asarray(geometry.SECTOR_AZIMUTHS_DEG), len(sites)),
        cell_tilt=12.0 * ones, cell_sect=np.ones(n_cells, dtype=bool), cell_fc=6.0 * ones,
        cell_rs_mw=ones, cell_tx_mw=ones, cell_carrier=np.zeros(n_cells, dtype=np.int64),
        cell_tx_on_mw=ones[None, :], environment="uma", nr=True, shadowing=shadowing,
        seed=seed, clutter_density=None, clutter_height_m=None, vertical_elements=10,
        element_spacing_wavelengths=0.5)


def test_the_engines_links_give_the_calibrated_geometry_factor_outdoors() -> None:
    """The engine's own link gains (``engine.device_radio``: LOS state and shadowing from
    spatially consistent fields per site, its zenith and bearing, the sector switch) against
    the calibrated harness above, on the same UMa layout with every UE outdoors at 1.5 m (the
    engine models no building entry): every 5% quantile within 0.5 dB. The LOS state swapped or
    a zenith of the wrong sign moves them by 8 dB (the shadowing's sigma they barely see: the
    next test checks it)."""
    isd, _, d_min = LAYOUT["uma"]
    radio = _engine_links(seed=11, shadowing=True)
    n_cells = len(radio.cell_node)
    rng = np.random.default_rng(5)
    radius = 1.6 * isd
    xy = rng.uniform(-radius, radius, size=(80_000, 2))
    xy = xy[np.hypot(xy[:, 0], xy[:, 1]) < radius][:40_000]
    cells = np.ascontiguousarray(np.broadcast_to(np.arange(n_cells), (len(xy), n_cells)))
    linear = radio.gains(xy, np.full(len(xy), 1.5), cells)
    serving = linear.argmax(axis=1)
    d2d = np.hypot(*(radio.cell_xy[None, :, :] - xy[:, None, :]).transpose(2, 0, 1))
    keep = (radio.cell_node[serving] < 7) & (d2d.min(axis=1) >= d_min)
    best = linear[keep].max(axis=1)
    ours = np.percentile(10 * np.log10(best / (linear[keep].sum(axis=1) - best)), QUANTILES)
    harness = np.percentile(_geometry_db("uma", 40_000, seed=7, indoor_share=0.0), QUANTILES)
    assert np.abs(ours - harness).max() <= 0.5, np.round(ours - harness, 2)


def test_the_engines_shadowing_has_the_sigma_of_each_los_state() -> None:
    """The engine's shadowing alone (its links with and without it: the same LOS fields): 4 dB
    within 18 m of a site, where UMa is LOS for certain, 6 dB beyond 1,200 m, where it is NLOS
    but for ~2% (TR 38.901 Table 7.4.1-1). One UE beside each of the 37 sites, 20 seeds: the
    geometry factor's quantiles barely tell the two sigmas swapped."""
    near, far = [], []
    for seed in range(1, 21):
        on, off = _engine_links(seed, True), _engine_links(seed, False)
        xy = on.site_xy + 5.0
        cells = np.ascontiguousarray(np.broadcast_to(np.arange(len(on.cell_node)),
                                                     (len(xy), len(on.cell_node))))
        shadow_db = 10 * np.log10(on.gains(xy, np.full(len(xy), 1.5), cells)
                                  / off.gains(xy, np.full(len(xy), 1.5), cells))
        d2d = np.hypot(*(on.cell_xy[None, :, :] - xy[:, None, :]).transpose(2, 0, 1))
        near.append(shadow_db[d2d < 18.0][::3])  # a site's three sectors share the value
        far.append(shadow_db[d2d > 1200.0])
    sigma_near, sigma_far = np.std(np.concatenate(near)), np.std(np.concatenate(far))
    assert 3.6 < sigma_near < 4.4 and 5.5 < sigma_far < 6.5, (sigma_near, sigma_far)


def test_interference_beyond_the_strongest_cells_is_counted_at_full_power() -> None:
    """Each device keeps its K strongest cells (by RSRP, the power of one resource element);
    the downlink interference of all the others is kept as one sum in mW of their whole power.
    It was summed in RSRP, 12 x N_PRB (3,276 on 100 MHz) times too small. Brute force: every
    cell of the layout beyond the device's K, at full power."""
    import airan
    from airan.engine import Engine

    w = Engine(airan.load_scenario("city"), duration_s=0.01).world
    devices = np.arange(0, w.n_devices, 10)
    cells = np.broadcast_to(np.arange(len(w.cell_names)), (len(devices), len(w.cell_names)))
    gain = w.device_radio.gains(w.dev_xy[devices], w.dev_h[devices],
                                np.ascontiguousarray(cells))
    power = gain * w.cell_tx_mw[None, :]
    top = w.dev_top_cell[devices]
    beyond = power.sum(axis=1) - np.take_along_axis(power, top.astype(np.int64), axis=1).sum(1)
    kept = w.dev_resid_gain_mw[devices]
    assert np.all(kept <= beyond * (1 + 1e-9))  # (the model looks at the nearest sites only)
    assert np.median(kept / beyond) > 0.5
