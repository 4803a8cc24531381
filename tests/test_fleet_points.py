"""Fleets at given points (``area: {positions_m: [[x, y], ...]}``): static devices where they
stand (gate cameras, cranes, machines), device i at point i mod n."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import lab_cameras, validate_dict

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


def test_validate_warns_where_the_count_is_not_the_number_of_points(tmp_path: Any) -> None:
    code, out = validate_dict(tmp_path, _lab(10))
    assert code == 0 and "fleets[cams].count" in out and "up to 3 share a point" in out
    code, out = validate_dict(tmp_path, _lab(3))
    assert code == 0 and "the last 1 stand empty" in out
    code, out = validate_dict(tmp_path, _lab(4))
    assert code == 0 and "fleets[cams].count" not in out


@pytest.mark.parametrize(("area", "expect"), [
    ({"positions_m": []}, "positions_m"),
    ({"positions_m": [[0.0]]}, "positions_m"),
    ({"positions_m": [[0.0, 2e7]]}, "positions_m"),
])
def test_bad_points_are_input_errors(tmp_path: Any, area: dict[str, Any], expect: str) -> None:
    d = _lab(4)
    d["fleets"][0]["area"] = area
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and f"fleets[cams].area.{expect}" in out


@pytest.mark.parametrize("mobility", [
    {"model": "random_waypoint", "speed_mps": [1.0, 2.0]},
    {"model": "trace", "file": "trace.csv"}])
def test_moving_devices_cannot_stand_at_points(tmp_path: Any, mobility: dict[str, Any]) -> None:
    code, out = validate_dict(tmp_path, _lab(4, mobility=mobility))
    assert code == 2 and "fleets[cams].mobility" in out and "where they stay" in out


def test_static_devices_at_points_run() -> None:
    d = _lab(4, mobility={"model": "static"})
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=1)
    np.testing.assert_array_equal(eng.world.dev_xy, np.asarray(POINTS))
    assert eng.run().summary["requests"]["created"] > 0


def test_other_fleets_stand_where_they_stood() -> None:
    """Each fleet's draws are its own: turning one fleet to points leaves the others' devices
    where the same seed put them."""
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    before = Engine(scenario_from_dict(d), policy="nearest-edge", seed=3).world
    f = d["fleets"][1]
    f["area"] = {"positions_m": [[10.0 * i, 5.0] for i in range(f["count"])]}
    after = Engine(scenario_from_dict(d), policy="nearest-edge", seed=3).world
    for fi in (0, 2):
        np.testing.assert_array_equal(before.dev_xy[before.dev_fleet == fi],
                                      after.dev_xy[after.dev_fleet == fi])
    np.testing.assert_array_equal(after.dev_xy[after.dev_fleet == 1],
                                  np.asarray(f["area"]["positions_m"]))


def test_points_far_from_every_cell_are_warned(tmp_path: Any) -> None:
    code, out = validate_dict(tmp_path, _lab(2, [[90_000.0, 0.0], [95_000.0, 0.0]]))
    assert code == 0
    assert ("field 'fleets[cams].area.positions_m': 2 of the 2 points its devices stand at "
            "are more than 10 km from every cell site: the devices there hardly reach a cell "
            "(radio_outage): points 0 [90000, 0] (90,000 m), 1 [95000, 0] (95,000 m)") in out
    # one far pole among near ones is named with its distance (the mine review's)
    from airan.radio.pathloss import MAX_DISTANCE_M

    reach = MAX_DISTANCE_M["uma"]
    code, out = validate_dict(tmp_path, _lab(3, [[30.0, 0.0], [0.0, 60.0],
                                                 [reach + 1000.0, 0.0]]))
    assert code == 0
    assert (f"1 of the 3 points its devices stand at is beyond the {reach:,.0f} m that TR "
            f"38.901's uma path loss covers") in out
    assert f"point 2 [{reach + 1000:g}, 0] ({reach + 1000:,.0f} m)" in out
    # points no device stands at (count 2 of 4) are not warned of
    code, out = validate_dict(tmp_path, _lab(2, [[30.0, 0.0], [0.0, 60.0], [90_000.0, 0.0],
                                             [95_000.0, 0.0]]))
    assert code == 0 and "fleets[cams].area" not in out, out


def test_points_beyond_the_layout_are_warned(tmp_path: Any) -> None:
    """city's cells span ~3 km; cameras 1.5-2 km beyond its edge attach to a distant cell."""
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["fleets"] = [dict(d["fleets"][0], count=3,
                        area={"positions_m": [[3000.0, 0.0], [3300.0, 0.0], [3600.0, 0.0]]})]
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "of this fleet's area lies beyond the cell sites" in out


def _sharded_points(plan: Any) -> list[tuple[int, tuple[float, float]]]:
    """(shard, point) for every device of every shard, device i at point i mod m there."""
    out = []
    for k in range(plan.n_shards):
        for f in plan.scenario(k)["fleets"]:
            pts = f["area"]["positions_m"] if f.get("area") and "positions_m" in f["area"] \
                else None
            if pts and f["count"]:
                out += [(k, tuple(pts[i % len(pts)])) for i in range(f["count"])]
    return out


@pytest.mark.parametrize("regions", ["2x2", "3x1", "labels"])
def test_every_device_of_a_points_fleet_keeps_its_point_in_a_sharded_run(
        regions: str, tmp_path: Any) -> None:
    """city's 37 sites cut 2x2, 3x1 or by a label per site (west / east of x = 0): 11 devices
    at 4 points (3, 3, 3, 2 at each) keep their points and those counts, each in the region of
    its box (a box's sites' region) or of its nearest site."""
    from collections import Counter

    from airan.sweep.shard import plan_shards

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    pts = [[-1000.0, -900.0], [1000.0, 900.0], [1100.0, -1000.0], [-1200.0, 1000.0]]
    d["fleets"] = [dict(d["fleets"][0], count=11, area={"positions_m": pts})]
    sc = scenario_from_dict(d)
    if regions == "labels":
        from airan.scenario.load import cell_site_xy

        xy = cell_site_xy(sc)
        names = sc.cell_site_names()
        path = tmp_path / "regions.csv"
        path.write_text("site,region\n" + "".join(
            f"{n},{'west' if x < 0 else 'east'}\n" for n, (x, _) in zip(names, xy,
                                                                         strict=True)))
        regions = str(path)
    plan = plan_shards(sc, regions)
    got = _sharded_points(plan)
    assert Counter(p for _, p in got) == Counter(
        {tuple(p): c for p, c in zip(pts, (3, 3, 3, 2), strict=True)})
    for p in map(tuple, pts):  # a point's devices all in one region
        assert len({k for k, q in got if q == p}) == 1
    assert len({k for k, _ in got}) >= 2


def test_sites_refuses_a_fleet_at_points() -> None:
    from airan.errors import InputError
    from airan.sweep.shard import plan_shards

    d = load_scenario("korea").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["area"] = {"positions_m": [[0.0, 0.0], [100.0, 0.0]]}
    with pytest.raises(InputError, match="positions_m"):
        plan_shards(scenario_from_dict(d), "2x1", sites=1000)


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


def test_max_fleet_refuses_to_stack_devices_on_a_fleets_points(tmp_path: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "points.yaml"
    path.write_text(yaml.safe_dump(_lab(4)))
    res = CliRunner().invoke(app, ["max-fleet", str(path), "--fleet", "cams", "--target",
                                   "detect:hit>=0.9"])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "--fleet" in out and "4 given points" in out
    assert "x_m [-90, 150], y_m [-10, 150]" in out


def test_each_point_keeps_its_own_height_and_nothing_else_changes() -> None:
    """``heights_m``: device i at point i mod n, that point's height. Two devices at one spot,
    10 m and 10 m, are the fleet's height_m 10 m exactly (the same draws, the same gains);
    with 1.5 m for the first, the first alone changes, its path loss of a lower UE."""
    spot = [[300.0, 0.0], [300.0, 0.0]]

    def gains(**area: Any) -> tuple[np.ndarray, np.ndarray]:
        d = _lab(2, spot, height_m=10.0)
        d["fleets"][0]["area"] = {"positions_m": spot, **area}
        e = Engine(scenario_from_dict(d), policy="nearest-edge", seed=1)
        return e.world.dev_h, e.uplink_gain_per_prb_mw()

    h0, g0 = gains()
    h1, g1 = gains(heights_m=[10.0, 10.0])
    h2, g2 = gains(heights_m=[1.5, 10.0])
    np.testing.assert_array_equal(h0, [10.0, 10.0])
    np.testing.assert_array_equal(h1, h0)
    np.testing.assert_array_equal(g1, g0)
    np.testing.assert_array_equal(h2, [1.5, 10.0])
    assert g2[1] == g0[1] and g2[0] != g0[0]


@pytest.mark.parametrize(("heights", "expect"), [
    ([10.0], "1 height for 4 points: give one per point"),
    ([10.0, 10.0, 0.0, 5.0], "heights_m"),
    ([10.0, 10.0, 2000.0, 5.0], "heights_m"),
])
def test_bad_heights_are_input_errors(tmp_path: Any, heights: list[float], expect: str) -> None:
    d = _lab(4)
    d["fleets"][0]["area"]["heights_m"] = heights
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and "fleets[cams].area.heights_m" in out and expect in out


def test_validate_reads_the_points_heights(tmp_path: Any) -> None:
    d = _lab(4)
    d["radio"]["environment"] = "inf-dh"
    d["fleets"][0]["area"]["heights_m"] = [3.0, 4.0, 30.0, 5.0]  # (a crane cab at 30 m)
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "fleets[cams].area.heights_m" in out and "22.5 m" in out


def test_a_sharded_run_keeps_each_points_height() -> None:
    from airan.sweep.shard import plan_shards

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    pts = [[-1000.0, 0.0], [1000.0, 10.0], [-900.0, 50.0], [1100.0, -20.0]]
    d["fleets"][0].update(count=4, area={"positions_m": pts, "heights_m": [1.0, 2.0, 3.0, 4.0]})
    d["fleets"] = d["fleets"][:1]
    plan = plan_shards(scenario_from_dict(d), "2x1")
    got = {}
    for k in range(plan.n_shards):
        for f in plan.scenario(k)["fleets"]:
            if f["count"]:
                got.update(zip(map(tuple, f["area"]["positions_m"]), f["area"]["heights_m"],
                               strict=True))
    assert got == {tuple(p): h for p, h in zip(pts, [1.0, 2.0, 3.0, 4.0], strict=True)}


def test_a_points_height_at_or_above_its_cell_is_warned_and_height_m_beside_them_is_unused(
        tmp_path: Any) -> None:
    d = _lab(2, [[30.0, 0.0], [0.0, 60.0]], height_m=7.0)
    d["radio"]["environment"] = "umi"  # (cells at 10 m)
    d["cell_sites"][0]["height_m"] = 10.0
    d["fleets"][0]["area"]["heights_m"] = [12.0, 4.0]
    code, out = validate_dict(tmp_path, d)
    assert code == 0
    assert "field 'fleets[cams].area.heights_m': these devices (taken at 12 m) are at or " \
           "above the cell" in out
    assert "field 'fleets[cams].height_m': not used: this fleet's devices stand at its " \
           "points' own heights" in out
