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
    return build_world(scenario_from_dict({
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
                      "dl_kb": 1, "deadline_ms": 150}]}), 1)


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
