"""Fleets at given points (``area: {positions_m: [[x, y], ...]}``): static devices where they
stand (gate cameras, cranes, machines), device i at point i mod n."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import lab_cameras

from airan.engine import Engine
from airan.scenario import load_scenario, scenario_from_dict

POINTS = [[30.0, 0.0], [0.0, 60.0], [-90.0, -10.0], [150.0, 150.0]]


def _lab(count: int, points: list[list[float]] = POINTS, **fleet: Any) -> dict[str, Any]:
    d = lab_cameras({"positions_m": points}, ul_kb=20.0)
    d["fleets"][0].update(count=count, **fleet)
    d["duration_s"] = 1.0
    return d


@pytest.mark.parametrize("count", [4, 10, 3])
def test_devices_stand_at_their_points_in_turn(count: int) -> None:
    """As many devices as points: one at each, in order; more: they share the points in turn
    (device i at point i mod n); fewer: the first points."""
    w = Engine(scenario_from_dict(_lab(count)), policy="nearest-edge", seed=1).world
    want = np.asarray(POINTS)[np.arange(count) % len(POINTS)]
    np.testing.assert_array_equal(w.dev_xy, want)


def test_the_points_are_the_same_under_every_seed_and_the_run_conserves() -> None:
    """No draw places them: seeds 1 and 2 put the devices at the same points; each run ends
    every request in one outcome."""
    runs = [Engine(scenario_from_dict(_lab(4)), policy="nearest-edge", seed=s) for s in (1, 2)]
    np.testing.assert_array_equal(runs[0].world.dev_xy, runs[1].world.dev_xy)
    r = runs[0].run().summary["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"] > 0


def _validate(tmp_path: Any, d: dict[str, Any]) -> tuple[int, str]:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "points.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert "Traceback" not in res.output
    return res.exit_code, " ".join(res.output.split())


def test_validate_warns_where_the_count_is_not_the_number_of_points(tmp_path: Any) -> None:
    code, out = _validate(tmp_path, _lab(10))
    assert code == 0 and "fleets[cams].count" in out and "up to 3 share a point" in out
    code, out = _validate(tmp_path, _lab(3))
    assert code == 0 and "the last 1 stand empty" in out
    code, out = _validate(tmp_path, _lab(4))
    assert code == 0 and "fleets[cams].count" not in out


@pytest.mark.parametrize(("area", "expect"), [
    ({"positions_m": []}, "positions_m"),
    ({"positions_m": [[0.0]]}, "positions_m"),
    ({"positions_m": [[0.0, 2e7]]}, "positions_m"),
])
def test_bad_points_are_input_errors(tmp_path: Any, area: dict[str, Any], expect: str) -> None:
    d = _lab(4)
    d["fleets"][0]["area"] = area
    code, out = _validate(tmp_path, d)
    assert code == 2 and f"fleets[cams].area.{expect}" in out.replace("area.PointsArea.", "area.")


def test_moving_devices_cannot_stand_at_points(tmp_path: Any) -> None:
    d = _lab(4, mobility={"model": "random_waypoint", "speed_mps": [1.0, 2.0]})
    code, out = _validate(tmp_path, d)
    assert code == 2 and "fleets[cams]" in out and "stay put" in out


def test_points_far_from_every_cell_are_warned(tmp_path: Any) -> None:
    code, out = _validate(tmp_path, _lab(2, [[90_000.0, 0.0], [95_000.0, 0.0]]))
    assert code == 0 and "fleets[cams].area" in out and "km or more from the nearest" in out


def test_a_sharded_run_sends_each_device_with_its_point_to_its_region() -> None:
    """city cut 2x1: the fleet at points goes to the region whose box holds each point, every
    device kept, at its own point."""
    from airan.sweep.shard import plan_shards

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    pts = [[-1000.0, 0.0], [-900.0, 50.0], [1000.0, 10.0], [1100.0, -20.0], [1200.0, 0.0]]
    d["fleets"][0].update(count=5, area={"positions_m": pts})
    d["fleets"] = d["fleets"][:1]
    plan = plan_shards(scenario_from_dict(d), "2x1")
    got = []
    for k in range(plan.n_shards):
        fleets = [f for f in plan.scenario(k)["fleets"] if f["count"]]
        got += [(k, p) for f in fleets for p in f["area"]["positions_m"]]
        assert all(f["count"] == len(f["area"]["positions_m"]) for f in fleets)
    assert sorted(p for _, p in got) == sorted(pts)
    west = {tuple(p) for k, p in got if k == 0}
    assert west in ({(-1000.0, 0.0), (-900.0, 50.0)},
                    {(1000.0, 10.0), (1100.0, -20.0), (1200.0, 0.0)})
    assert len({k for k, _ in got}) == 2
