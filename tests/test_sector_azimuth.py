"""A cell site's sectors turned (``azimuth_deg``): their boresights at TR 38.901's 30, 150 and
270 degrees plus the rotation (a V2N review: sites along a road could not point a sector along
it). A device on a turned boresight gets what the same device on the unturned one got."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.scenario import scenario_from_dict


def _devices_at(bearings_deg: list[float], rotation_deg: float) -> Engine:
    """The lone three-sector site at the origin turned by ``rotation_deg``, one device 15 m
    away at each bearing (UMa: in LOS for certain within 18 m), no shadowing."""
    d = one_cell_site()
    d["cell_sites"][0]["azimuth_deg"] = rotation_deg
    d["radio"].update(shadowing=False)
    fleets: list[dict[str, Any]] = []
    for i, b in enumerate(bearings_deg):
        x, y = 15.0 * math.cos(math.radians(b)), 15.0 * math.sin(math.radians(b))
        fleets.append({"name": f"d{i}", "count": 1, "services": ["perception"],
                       "area": {"x_m": [x, x], "y_m": [y, y]}})
    d["fleets"] = fleets
    return Engine(scenario_from_dict(d), duration_s=0.01, seed=1)


def test_turned_sectors_serve_the_bearings_their_boresights_point_at() -> None:
    # at 60 deg the boresights are 90, 210 and 330: bearing 0 is sector 2's, 100 sector 0's
    plain, turned = _devices_at([0.0, 100.0], 0.0), _devices_at([0.0, 100.0], 60.0)
    names = [[e.world.cell_names[int(c)] for c in e.world.dev_cell] for e in (plain, turned)]
    assert names == [["bs/0", "bs/1"], ["bs/2", "bs/0"]]


@pytest.mark.parametrize("rotation_deg", [-30.0, 45.0, 200.0])
def test_a_device_on_a_turned_boresight_gets_the_unturned_gain(rotation_deg: float) -> None:
    bearings = [30.0, 150.0, 270.0]
    plain = _devices_at(bearings, 0.0).world
    turned = _devices_at([b + rotation_deg for b in bearings], rotation_deg).world
    assert np.array_equal(plain.dev_cell, turned.dev_cell)
    assert np.allclose(plain.dev_top_gain[:, 0], turned.dev_top_gain[:, 0], rtol=1e-9)
