"""A drone maker's review: fleets at several heights read per fleet (summary, terminal, report),
each device's height in devices.parquet, and parked devices below Qout counted and warned of."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import numpy as np
import yaml

from airan.engine.engine import Engine
from airan.scenario import scenario_from_dict

CITY: dict[str, Any] = yaml.safe_load(
    resources.files("airan.scenario.builtin").joinpath("city.yaml").read_text())


def _city(heights: dict[str, float], count: int = 100, **vehicles: Any) -> dict[str, Any]:
    """city's layout with its vehicles cut to ``count`` (``vehicles``: their fields changed)
    and a parked fleet of ``count`` drones per height (m) in ``heights``."""
    d = copy.deepcopy(CITY)
    veh = d["fleets"][0]
    veh.update(count=count, **vehicles)
    for name, h in heights.items():
        d["fleets"].append({"name": name, "count": count, "area": veh["area"],
                            "height_m": h, "services": ["perception"]})
    return d


def test_a_flying_fleets_z_m_is_where_the_run_left_each_device() -> None:
    """Generated paths between 30 and 120 m: each device's z_m is its height at the end."""
    d = _city({}, count=50)
    d["fleets"].append({"name": "drones", "count": 50, "area": d["fleets"][0]["area"],
                        "services": ["perception"],
                        "mobility": {"model": "waypoints", "speed_mps": 15.0,
                                     "generate": {"count": 10, "altitude_m": [30, 120]}}})
    eng = Engine(scenario_from_dict(d), duration_s=0.5)
    res = eng.run()
    z = res.devices.column("z_m").to_numpy()[50:]
    ids, mob = eng.motion.fleets[0]
    assert np.array_equal(ids, np.arange(50, 100))
    assert np.allclose(z, mob.positions(eng.motion._moved_s[0])[:, 2], rtol=0, atol=1e-9)
    assert ((z >= 30.0) & (z <= 120.0)).all() and np.ptp(z) > 10.0
