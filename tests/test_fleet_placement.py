"""Where a fleet's devices are placed does not depend on how many there are (a vehicle maker's
review: going from 100 to 101 devices moved all of the first 100, median 125 m, so max-fleet's
bisection compared different layouts, not different loads)."""

from __future__ import annotations

import numpy as np
import pytest

from airan import load_scenario
from airan.engine import Engine
from airan.engine.world import World
from airan.mobility.models import Area, ManhattanMobility, Mobility, RandomWaypointMobility
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


def _moving(model: str, n: int, seed: int = 5, **kw: object) -> Mobility:
    area = Area(0.0, 600.0, 0.0, 400.0)
    rng = np.random.default_rng(seed)
    if model == "random_waypoint":
        return RandomWaypointMobility(area, n, (5.0, 15.0), (0.0, 5.0), 1.5, rng, 0.1, **kw)
    return ManhattanMobility(area, n, 100.0, (5.0, 15.0), 0.5, 1.5, rng, 0.1)


@pytest.mark.parametrize(
    ("model", "kw"),
    [("random_waypoint", {}), ("random_waypoint", {"stationary_start": False}),
     ("manhattan", {})],
)
def test_one_moving_device_more_moves_every_other_device_as_before(
    model: str, kw: dict[str, object]
) -> None:
    """Random waypoint (in its stationary state or from uniform starts) and the Manhattan grid:
    the first 200 of 201 devices take the same legs, turns and speeds as 200 do, over 300 s
    (tens of legs and blocks each); another seed moves them otherwise."""
    a, b, c = _moving(model, 200, **kw), _moving(model, 201, **kw), _moving(model, 200, 6, **kw)
    for t in (0.0, 7.5, 60.0, 300.0):
        pa, pb, pc = a.positions(t), b.positions(t), c.positions(t)
        np.testing.assert_array_equal(pb[:200], pa)
        assert np.median(np.hypot(*(pc - pa)[:, :2].T)) > 50.0
    legs = b._leg if model == "random_waypoint" else b._block  # noqa: SLF001
    assert np.median(legs) >= 5


def test_a_moving_fleet_one_device_larger_ends_a_run_where_it_did() -> None:
    """The engine's own moving fleet (factory's AMRs on random waypoint): x1.1 leaves the
    first 40's end-of-run positions as they were."""
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["mobility"] = {"model": "random_waypoint", "speed_mps": [0.5, 2.0],
                                  "pause_s": [0.0, 5.0]}
    sc = scenario_from_dict(d)
    ends = []
    for scale in (1.0, 1.1):
        e = Engine(sc, fleet_scale=scale, duration_s=3.0, seed=2)
        e.run()
        ends.append(e.world.dev_xy[e.world.dev_fleet == 0].copy())
    assert len(ends[1]) > len(ends[0]) == 40
    np.testing.assert_array_equal(ends[1][:40], ends[0])
