"""Where a fleet's devices are placed does not depend on how many there are (a vehicle maker's
review: going from 100 to 101 devices moved all of the first 100, median 125 m, so max-fleet's
bisection compared different layouts, not different loads)."""

from __future__ import annotations

import numpy as np

from airan import load_scenario
from airan.engine import Engine
from airan.engine.world import World
from airan.mobility.models import Area
from airan.scenario import Scenario, scenario_from_dict


def _world(scenario: str | Scenario, scale: float = 1.0, seed: int = 1) -> World:
    return Engine(scenario, fleet_scale=scale, duration_s=0.01, seed=seed).world


def test_one_device_more_leaves_every_other_device_where_it_was() -> None:
    """city's 1,000 vehicles in a disc, here inside cars (each its own loss, TR 38.901
    7.4.3.2): 1,001 keep the first 1,000's positions and losses."""
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["penetration"] = "car"
    sc = scenario_from_dict(d)
    w, more = _world(sc), _world(sc, 1.001)
    n = len(w.dev_xy)
    assert len(more.dev_xy) == n + 1
    np.testing.assert_array_equal(more.dev_xy[:n], w.dev_xy)
    assert np.any(w.dev_o2i.loss_db != 0)
    np.testing.assert_array_equal(more.dev_o2i.loss_db[:n], w.dev_o2i.loss_db)


def test_another_fleets_count_moves_none_of_a_fleets_devices() -> None:
    """factory x1.1: 44 AMRs for 40, 13 arms for 12, 7 cameras for 6 (rectangular areas):
    each fleet's first devices where they were, whatever the fleets before it did."""
    w, more = _world("factory"), _world("factory", 1.1)
    for f in np.unique(w.dev_fleet):
        mine, theirs = w.dev_xy[w.dev_fleet == f], more.dev_xy[more.dev_fleet == f]
        assert len(theirs) > len(mine)
        np.testing.assert_array_equal(theirs[: len(mine)], mine)


def test_another_seed_is_another_layout() -> None:
    a, b = _world("factory", seed=1), _world("factory", seed=2)
    assert np.all(a.dev_xy != b.dev_xy)


def test_area_samples_are_prefixes_of_larger_samples() -> None:
    for area in (Area(0, 100, 0, 50), Area(-10, 10, -10, 10, radius=10.0)):
        a = area.sample(np.random.default_rng(3), 50)
        b = area.sample(np.random.default_rng(3), 51)
        np.testing.assert_array_equal(b[:50], a)
        assert np.all(area.contains(b))
