"""A fleet's own antenna gain and extra loss on every link, both ways.

A rural co-op's review: a tractor's roof antenna (+3-5 dBi), a crop canopy's or a hedgerow's
foliage loss and a cable's could not be given; only ue_tx_power_dbm could be bent, which moves
the uplink alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine.world import build_world
from airan.scenario import scenario_from_dict


def _world(**fleet: Any) -> Any:
    return build_world(_scenario(**fleet), 1)


def _scenario(**fleet: Any) -> Any:
    return scenario_from_dict({
        "name": "gain", "duration_s": 0.1, "seed": 1,
        "radio": {"environment": "rma"}, "carrier": {"band": "n28", "bandwidth_mhz": 20},
        "cell_layout": {"hex": {"rings": 1, "isd_m": 3000}},
        "nodes": [{"name": "edge"}],
        "compute_sites": [{"name": "mec", "at": "edge", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"backhaul": {"to": "edge", "capacity_gbps": 10}},
        "fleets": [{"name": "t", "count": 50, "device_class": "vehicle", "services": ["s"],
                    "area": {"center_m": [0, 0], "radius_m": 3000}, **fleet},
                   {"name": "c", "count": 20, "services": ["s"],
                    "area": {"center_m": [0, 0], "radius_m": 3000}}],
        "services": [{"name": "s", "model": "yolov8n", "rate_hz": 1, "ul_kb": 5,
                      "dl_kb": 1, "deadline_ms": 150}]})


def test_a_fleets_antenna_gain_and_loss_shift_every_link_of_its_devices_both_ways() -> None:
    """A 5 dBi roof antenna under 12 dB of canopy: each of the fleet's links 7 dB weaker than
    without (its candidate cells the same, ranked alike), downlink and uplink; the other
    fleet's links untouched, bit for bit."""
    base, moved = _world(), _world(antenna_gain_dbi=5.0, extra_loss_db=12.0)
    t = base.dev_fleet == 0
    np.testing.assert_array_equal(moved.dev_top_cell, base.dev_top_cell)
    shift = 10 * np.log10(moved.dev_top_gain[t] / base.dev_top_gain[t])
    np.testing.assert_allclose(shift[base.dev_top_gain[t] > 0], -7.0, atol=1e-9)
    shift_ul = 10 * np.log10(moved.dev_top_gain_ul[t] / base.dev_top_gain_ul[t])
    np.testing.assert_allclose(shift_ul[base.dev_top_gain_ul[t] > 0], -7.0, atol=1e-9)
    np.testing.assert_array_equal(moved.dev_top_gain[~t], base.dev_top_gain[~t])


@pytest.mark.parametrize(("field", "value"), [("antenna_gain_dbi", 30.0),
                                               ("extra_loss_db", -3.0)])
def test_out_of_range_gains_and_losses_are_refused_naming_the_field(field: str,
                                                                    value: float) -> None:
    from airan.errors import InputError

    with pytest.raises(InputError) as info:
        _world(**{field: value})
    assert f"fleets[t].{field}" in str(info.value)


def test_a_fleets_own_power_control_sets_its_devices_power_per_prb() -> None:
    """TS 38.213 7.1.1's open loop per PRB, P0 + 10 log10(2^mu) + alpha PL, with the fleet's
    own P0 and alpha (TR 36.777's mitigation of aerial UEs' uplink interference: a lower P0
    or alpha for drones): -95 dBm and 0.7 for one fleet, the radio's -85 dBm and 0.8 for the
    other, PL from each device's serving gain. By hand, in dB."""
    w = _world(ul_p0_dbm=-95.0, ul_alpha=0.7)
    pl_db = -10 * np.log10(w.dev_top_gain[:, 0])
    mu = w.numerology
    p0 = np.where(w.dev_fleet == 0, -95.0, -85.0)
    alpha = np.where(w.dev_fleet == 0, 0.7, 0.8)
    np.testing.assert_allclose(10 * np.log10(w.dev_ul_p_prb_mw),
                               p0 + 10 * np.log10(2**mu) + alpha * pl_db, atol=1e-9)


def test_a_moving_fleets_power_per_prb_follows_its_new_cell_with_its_own_control() -> None:
    """Vehicles at 25-30 m/s for 3 s hand over between the 3 km sites: each handover sets
    its power per PRB afresh from the new serving gain, with the fleet's own P0 and alpha."""
    from airan.engine import Engine

    sc = _scenario(ul_p0_dbm=-95.0, ul_alpha=0.7,
                   mobility={"model": "random_waypoint", "speed_mps": [25, 30]})
    eng = Engine(sc.model_copy(update={"duration_s": 3.0}), seed=1)
    w = eng.world
    before = w.dev_cell.copy()
    while not eng.done:
        eng.step()
    moved = w.dev_cell != before
    assert moved[w.dev_fleet == 0].sum() >= 3, moved.sum()
    pl_db = -10 * np.log10(w.dev_top_gain[:, 0])
    expected = np.where(w.dev_fleet == 0, -95.0 + 0.7 * pl_db, -85.0 + 0.8 * pl_db) + 10 * np.log10(
        2**w.numerology)
    np.testing.assert_allclose(10 * np.log10(w.dev_ul_p_prb_mw[moved]), expected[moved],
                               atol=1e-9)


def test_a_fleets_alpha_must_be_one_of_ts_38_331s() -> None:
    from airan.errors import InputError

    with pytest.raises(InputError) as info:
        _world(ul_alpha=0.75)
    assert "fleets[t].ul_alpha" in str(info.value) and "TS 38.331 Alpha value" in str(info.value)
