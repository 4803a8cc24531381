"""Mobility models: random waypoint's known density, streets, 3-D paths, trace replay, config."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from airan.errors import InputError
from airan.mobility import (
    ManhattanGrid,
    MobilitySpec,
    RandomWaypoint,
    SiteListFile,
    StaticMobility,
    TraceReplay,
    Waypoints3D,
    build_mobility,
    haversine_m,
)
from airan.mobility.traces import read_trace
from airan.scenario.schema import DiscArea, RectArea

SPEC = TypeAdapter(MobilitySpec)
DOC = Path(__file__).resolve().parents[1] / "docs" / "mobility.md"


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def rwp_cdf(u: np.ndarray) -> np.ndarray:
    """CDF of 6u(1-u), the exact 1-D random waypoint density (Bettstetter et al. 2003)."""
    return 3 * u**2 - 2 * u**3


# --- random waypoint -------------------------------------------------------------------------


def test_random_waypoint_on_a_segment_has_the_exact_density_6x_1_minus_x() -> None:
    # On a segment the stationary density is exactly 6x(1-x) (Bettstetter et al. 2003); both
    # the stationary start and the dynamics after many legs must reproduce it.
    spec = RandomWaypoint(speed_mps=(5, 15))
    mob = build_mobility(spec, 40_000, (0, 1000, 0, 0), 1.5, rng(11))
    for t in (0.0, 500.0):
        x = mob.positions(t)[:, 0] / 1000
        assert stats.kstest(x, rwp_cdf).pvalue > 1e-3
        assert stats.kstest(x, "uniform").pvalue < 1e-12


def test_random_waypoint_in_a_square_is_denser_in_the_centre_as_analysed() -> None:
    # Bettstetter, Resta & Santi 2003: f(x, y) ~ 36 x(1-x) y(1-y) on the unit square with no
    # pause. The product form is an approximation: marginals within a KS distance of 0.02,
    # interior cells within 10 %; a uniform placement is 0.096 away in KS distance.
    spec = RandomWaypoint(speed_mps=(5, 15), stationary_start=False)
    mob = build_mobility(spec, 50_000, RectArea(x_m=(0, 1000), y_m=(0, 1000)), 1.5, rng(3))
    assert stats.kstest(mob.initial_positions()[:, 0] / 1000, "uniform").pvalue > 1e-3
    xy = mob.positions(600.0)[:, :2] / 1000  # after a warm-up of ~8 legs from uniform
    for k in (0, 1):
        ks = stats.kstest(xy[:, k], rwp_cdf).statistic
        assert ks < 0.02, ks
    edges = np.linspace(0, 1, 6)
    p = np.diff(rwp_cdf(edges))
    hist = np.histogram2d(xy[:, 0], xy[:, 1], [edges, edges])[0] / len(xy)
    ratio = hist / np.outer(p, p)
    assert np.all(np.abs(ratio[1:4, 1:4] - 1) < 0.10), ratio
    centre = hist[2, 2]
    assert centre == pytest.approx(p[2] ** 2, rel=0.08)  # 0.088 against 0.04 if uniform
    assert centre > 4 * hist[0, 0]  # 5.4 (the product form says 8: it underrates corners)


def test_random_waypoint_stationary_start_has_the_long_run_speed_and_pause_share() -> None:
    # Stationary regime: mean speed over moving devices 1 / E[1/V] = (hi - lo) / ln(hi / lo),
    # share paused E[P] / (E[P] + E[D] E[1/V]), E[D] = 0.5214 a on a square of side a.
    lo, hi, a = 2.0, 6.0, 1000.0
    mean_d = (2 + math.sqrt(2) + 5 * math.log(1 + math.sqrt(2))) / 15 * a
    e_inv_v = math.log(hi / lo) / (hi - lo)
    e_pause = 100.0
    share = e_pause / (e_pause + mean_d * e_inv_v)
    spec = RandomWaypoint(speed_mps=(lo, hi), pause_s=(50, 150))
    mob = build_mobility(spec, 40_000, (0, a, 0, a), 1.5, rng(5))
    # No transient: the shares hold from t = 0 (a pause under way at t = 0 is length-biased).
    for t in [*np.arange(0.0, 300.0, 10.0), 2000.0]:
        p1 = mob.positions(t)
        p2 = mob.positions(t + 0.01)
        v = np.hypot(*(p2 - p1)[:, :2].T) / 0.01
        moving = v > 1e-9
        assert 1 - moving.mean() == pytest.approx(share, abs=0.01), t
        assert v[moving].mean() == pytest.approx(1 / e_inv_v, rel=0.02), t


def test_random_waypoint_keeps_speeds_in_range_and_devices_in_the_area() -> None:
    spec = RandomWaypoint(speed_mps=(3, 9), pause_s=(0, 2))
    area = DiscArea(center_m=(100, -50), radius_m=300)
    mob = build_mobility(spec, 2000, area, 1.5, rng(2))
    prev = mob.initial_positions()
    for t in np.arange(0.1, 60.0, 0.1):
        cur = mob.positions(t)
        step = np.hypot(*(cur - prev)[:, :2].T)
        assert step.max() <= 9 * 0.1 + 1e-9
        assert np.all(np.hypot(cur[:, 0] - 100, cur[:, 1] + 50) <= 300 + 1e-6)
        assert np.all((mob.speed_mps >= 3) & (mob.speed_mps <= 9))
        prev = cur
    assert np.all(cur[:, 2] == 1.5)
    assert step.max() > 0.8 * 0.9  # somebody moves near the top speed


def test_mobility_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    specs = [
        RandomWaypoint(speed_mps=(1, 2), pause_s=(0, 5)),
        ManhattanGrid(block_m=100, speed_mps=(5, 10)),
        Waypoints3D(generate={"count": 3, "points": 5}, speed_mps=10, phase="random"),
        StaticMobility(),
    ]
    for spec in specs:
        runs = []
        for seed in (7, 7, 8):
            mob = build_mobility(spec, 50, (0, 1000, 0, 1000), 1.5, rng(seed))
            runs.append(np.stack([mob.positions(t) for t in np.arange(0, 30, 0.1)]))
        np.testing.assert_array_equal(runs[0], runs[1])
        assert not np.allclose(runs[0], runs[2]), type(spec).__name__


def test_positions_refuse_to_go_back_in_time() -> None:
    mob = build_mobility(RandomWaypoint(speed_mps=(1, 2)), 5, (0, 10, 0, 10), 1.5, rng())
    mob.positions(1.0)
    with pytest.raises(ValueError, match="after t = 1.0"):
        mob.positions(0.5)


def test_static_devices_stay_where_the_engine_put_them() -> None:
    xy = np.array([[1.0, 2.0], [3.0, 4.0]])
    mob = build_mobility(None, 2, (0, 10, 0, 10), 2.0, rng(), initial_xy=xy)
    assert mob.is_static
    np.testing.assert_array_equal(mob.positions(100.0), [[1, 2, 2], [3, 4, 2]])
    np.testing.assert_array_equal(mob.initial_positions(), mob.positions(200.0))


# --- Manhattan grid --------------------------------------------------------------------------


def on_streets(xyz: np.ndarray, block: float) -> np.ndarray:
    def on(v: np.ndarray) -> np.ndarray:
        return np.abs(v / block - np.round(v / block)) < 1e-9

    return on(xyz[:, 0]) | on(xyz[:, 1])


def test_manhattan_vehicles_stay_on_the_streets_inside_the_area() -> None:
    spec = ManhattanGrid(block_m=200, speed_mps=(8, 14))
    mob = build_mobility(spec, 3000, (-1500, 1500, -1000, 1000), 1.5, rng(4))
    prev = mob.initial_positions()
    moved = np.zeros(3000)
    for t in np.arange(0.0, 120.0, 0.1):
        cur = mob.positions(t)
        assert on_streets(cur, 200).all()
        assert np.all((np.abs(cur[:, 0]) <= 1400 + 1e-9) & (np.abs(cur[:, 1]) <= 1000 + 1e-9))
        step = np.abs(cur - prev)[:, :2].sum(axis=1)  # street distance: no U-turns here
        assert step.max() <= 14 * 0.1 + 1e-9
        moved += step
        prev = cur
    # Every vehicle drove at between 8 and 14 m/s all the time (Manhattan distance = path).
    assert moved.min() >= 8 * 119.9 - 1e-6 and moved.max() <= 14 * 120 + 1e-6


def test_manhattan_vehicles_turn_at_the_given_rate() -> None:
    # p = 0.5: at interior intersections half the vehicles turn (ETSI TR 101 112 Annex B).
    for p in (0.0, 0.5):
        spec = ManhattanGrid(block_m=100, speed_mps=(10, 10), turn_probability=p)
        mob = build_mobility(spec, 4000, (-5000, 5000, -5000, 5000), 1.5, rng(9))
        h0 = mob.heading.copy()
        near_edge = (np.abs(mob.initial_positions()[:, :2]) > 4700).any(axis=1)
        mob.positions(10.0)  # exactly one intersection passed (100 m at 10 m/s)
        turned = (mob.heading != h0)[~near_edge].mean()
        assert turned == pytest.approx(p, abs=0.03)


def test_manhattan_in_a_disc_uses_only_intersections_inside_it() -> None:
    spec = ManhattanGrid(block_m=100, speed_mps=(5, 10))
    mob = build_mobility(spec, 500, DiscArea(center_m=(0, 0), radius_m=450), 1.5, rng(1))
    for t in np.arange(0, 200, 0.5):
        cur = mob.positions(t)
        assert on_streets(cur, 100).all()
        assert np.hypot(cur[:, 0], cur[:, 1]).max() <= 450 + 1e-6


def test_manhattan_with_a_block_larger_than_the_area_is_an_input_error() -> None:
    spec = ManhattanGrid(block_m=5000, speed_mps=(5, 10))
    with pytest.raises(InputError, match=r"fleets\[0\].mobility.block_m.*5000"):
        build_mobility(spec, 10, (100, 900, 100, 900), 1.5, rng(), field="fleets[0].mobility")


# --- 3-D waypoints ---------------------------------------------------------------------------


def test_drones_pass_their_waypoints_at_distance_over_speed() -> None:
    path = [(0.0, 0.0, 10.0), (100.0, 0.0, 10.0), (100.0, 100.0, 50.0)]
    leg2 = math.hypot(100, 40)
    spec = Waypoints3D(paths=[path], speed_mps=10, loop=False, phase="zero")
    mob = build_mobility(spec, 2, (0, 100, 0, 100), 1.5, rng())
    np.testing.assert_allclose(mob.initial_positions(), [path[0]] * 2)
    np.testing.assert_allclose(mob.positions(5.0)[0], [50, 0, 10])
    np.testing.assert_allclose(mob.positions(10.0)[0], path[1], atol=1e-9)
    np.testing.assert_allclose(mob.positions(10 + leg2 / 20)[0], [100, 50, 30], atol=1e-9)
    np.testing.assert_allclose(mob.positions(10 + leg2 / 10)[0], path[2], atol=1e-9)
    np.testing.assert_allclose(mob.positions(1e4)[0], path[2], atol=1e-9)  # hovers at the end


def test_looping_drones_come_back_and_spread_along_their_paths() -> None:
    square = [(0.0, 0.0, 30.0), (100.0, 0.0, 30.0), (100.0, 100.0, 30.0), (0.0, 100.0, 30.0)]
    line = [(-50.0, 0.0, 80.0), (-50.0, 300.0, 120.0)]
    spec = Waypoints3D(paths=[square, line], speed_mps=20, loop=True, phase="spread")
    mob = build_mobility(spec, 5, (0, 100, 0, 100), 1.5, rng())
    p0 = mob.initial_positions()
    # Round-robin: devices 0, 2, 4 fly the square (spread at 0, 1/3, 2/3 of 400 m), 1, 3 the line.
    np.testing.assert_allclose(p0[0], square[0])
    np.testing.assert_allclose(p0[2], [100, 100 / 3, 30], atol=1e-9)
    np.testing.assert_allclose(p0[4], [100 / 3, 100, 30], atol=1e-9)
    np.testing.assert_allclose(p0[1], line[0])
    np.testing.assert_allclose(p0[3], line[1], atol=1e-9)  # half of the 2 x 302.7 m loop
    period_square = 400 / 20
    np.testing.assert_allclose(mob.positions(period_square)[0], square[0], atol=1e-9)
    z = mob.positions(period_square + 1.0)[:, 2]
    assert set(np.round(z[[0, 2, 4]], 9)) == {30.0} and np.all(
        (z[[1, 3]] >= 80) & (z[[1, 3]] <= 120)
    )


def test_generated_drone_paths_stay_in_the_area_and_altitude_band() -> None:
    spec = Waypoints3D(
        generate={"count": 4, "points": 6, "altitude_m": (40, 90)}, speed_mps=15, phase="random"
    )
    mob = build_mobility(spec, 40, (0, 500, -200, 200), 1.5, rng(3))
    for t in np.arange(0, 300, 1.0):
        p = mob.positions(t)
        assert np.all((p[:, 0] >= 0) & (p[:, 0] <= 500) & (np.abs(p[:, 1]) <= 200))
        assert np.all((p[:, 2] >= 40) & (p[:, 2] <= 90))


# --- trace replay ----------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_trace_replay_interpolates_linearly(tmp_path: Path) -> None:
    write(
        tmp_path / "trace.csv",
        "t,device,x,y,z\n"
        "0,car-b,0,0,1\n"
        "10,car-b,100,0,3\n"
        "2,car-a,50,50,\n"
        "4,car-a,50,70,\n"
        "20,car-b,100,-100,3\n",
    )
    spec = TraceReplay(file="trace.csv")
    xy0 = np.array([[1.0, 1.0], [2.0, 2.0], [7.0, 8.0]])
    mob = build_mobility(spec, 3, (0, 10, 0, 10), 1.5, rng(), initial_xy=xy0, base_dir=tmp_path)
    # Order of first appearance: device 0 = car-b, device 1 = car-a, device 2 stays put.
    np.testing.assert_allclose(mob.initial_positions(), [[0, 0, 1], [50, 50, 1.5], [7, 8, 1.5]])
    np.testing.assert_allclose(mob.positions(3.0)[:2], [[30, 0, 1.6], [50, 60, 1.5]])
    np.testing.assert_allclose(mob.positions(15.0)[:2], [[100, -50, 3], [50, 70, 1.5]])
    np.testing.assert_allclose(mob.positions(99.0), [[100, -100, 3], [50, 70, 1.5], [7, 8, 1.5]])
    assert mob.trace.ids == ["car-b", "car-a"]


def test_csv_trace_with_renamed_columns_and_a_start_time(tmp_path: Path) -> None:
    write(tmp_path / "t.csv", "time;id;east;north\n100;a;0;0\n101;a;10;0\n102;a;10;10\n")
    spec = TraceReplay(
        file=str(tmp_path / "t.csv"),
        columns={"t": "time", "device": "id", "x": "east", "y": "north"},
        start_s=100.0,
        offset_m=(5.0, -5.0),
    )
    mob = build_mobility(spec, 1, (0, 10, 0, 10), 1.5, rng())
    steps = [mob.positions(t)[0] for t in np.arange(0, 2.05, 0.1)]
    np.testing.assert_allclose(steps[5], [10, -5, 1.5], atol=1e-9)
    np.testing.assert_allclose(steps[15], [15, 0, 1.5], atol=1e-9)
    np.testing.assert_allclose(steps[-1], [15, 5, 1.5], atol=1e-9)


def test_latlon_trace_is_projected_to_local_metres(tmp_path: Path) -> None:
    lat0, lon0 = 31.23, 121.47
    write(
        tmp_path / "geo.csv",
        f"t,device,lat,lon\n0,u1,{lat0},{lon0}\n60,u1,{lat0 + 0.01},{lon0 + 0.01}\n",
    )
    spec = TraceReplay(file=str(tmp_path / "geo.csv"), latlon=True)
    mob = build_mobility(spec, 1, (0, 10, 0, 10), 1.5, rng(), origin=(lat0, lon0))
    np.testing.assert_allclose(mob.initial_positions()[0], [0, 0, 1.5], atol=1e-6)
    x, y, _ = mob.positions(60.0)[0]
    assert x > 0 and y > 0  # north-east
    d = haversine_m(lat0, lon0, lat0 + 0.01, lon0 + 0.01)
    assert math.hypot(x, y) == pytest.approx(d, rel=1e-9)  # exact from the origin
    assert y == pytest.approx(haversine_m(lat0, lon0, lat0 + 0.01, lon0), rel=1e-4)


FCD = """<?xml version="1.0" encoding="UTF-8"?>
<fcd-export xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <timestep time="0.00">
        <vehicle id="veh0" x="10.00" y="20.00" angle="90.00" type="car" speed="10.00"
                 pos="5.10" lane="e0_0" slope="0.00"/>
    </timestep>
    <timestep time="1.00">
        <vehicle id="veh0" x="20.00" y="20.00" angle="90.00" type="car" speed="10.00"
                 pos="15.10" lane="e0_0" slope="0.00"/>
        <vehicle id="veh1" x="0.00" y="0.00" angle="0.00" type="car" speed="0.00"
                 pos="5.10" lane="e1_0" slope="0.00"/>
        <person id="ped0" x="5.00" y="5.00" angle="0.00" speed="1.00" pos="1.0" edge="e2"/>
    </timestep>
    <timestep time="3.00">
        <vehicle id="veh1" x="0.00" y="30.00" angle="0.00" type="car" speed="15.00"
                 pos="35.10" lane="e1_0" slope="0.00"/>
    </timestep>
</fcd-export>
"""


def test_sumo_fcd_replay_follows_vehicles_and_persons(tmp_path: Path) -> None:
    write(tmp_path / "fcd.xml", FCD)
    spec = SPEC.validate_python({"model": "trace", "file": "fcd.xml", "format": "sumo_fcd"})
    mob = build_mobility(spec, 4, (0, 1, 0, 1), 1.5, rng(), base_dir=tmp_path)
    assert mob.trace.ids == ["veh0", "veh1", "ped0"]
    p = [mob.positions(t) for t in (0.0, 0.5, 2.0, 10.0)]
    np.testing.assert_allclose(p[0][:3, :2], [[10, 20], [0, 0], [5, 5]])
    np.testing.assert_allclose(p[1][:3, :2], [[15, 20], [0, 0], [5, 5]])
    np.testing.assert_allclose(p[2][:3, :2], [[20, 20], [0, 15], [5, 5]])
    np.testing.assert_allclose(p[3][:3, :2], [[20, 20], [0, 30], [5, 5]])
    assert np.all(p[3][:, 2] == 1.5)
    np.testing.assert_array_equal(p[3][3], p[0][3])  # the 4th device is not in the trace


GEO_FCD = """<fcd-export>
    <timestep time="0.00"><vehicle id="v" x="121.470000" y="31.230000" speed="0"/></timestep>
    <timestep time="100.00"><vehicle id="v" x="121.480000" y="31.230000" speed="9"/></timestep>
</fcd-export>
"""  # (951 m in 100 s: a step faster than sound is bad input)


def test_sumo_fcd_geo_output_is_projected(tmp_path: Path) -> None:
    # sumo --fcd-output.geo writes x = longitude, y = latitude.
    write(tmp_path / "geo.xml", GEO_FCD)
    spec = TraceReplay(file=str(tmp_path / "geo.xml"), format="sumo_fcd", latlon=True)
    mob = build_mobility(spec, 1, (0, 1, 0, 1), 1.5, rng(), origin=(31.23, 121.47))
    np.testing.assert_allclose(mob.initial_positions()[0, :2], [0, 0], atol=1e-6)
    x, y, _ = mob.positions(100.0)[0]
    assert x == pytest.approx(haversine_m(31.23, 121.47, 31.23, 121.48), rel=1e-6)
    assert 0 < y < 1.0  # east along a parallel: the great circle from the origin lies north


@pytest.mark.parametrize(
    ("text", "columns", "needles"),
    [
        (
            "t,dev,x,y\n0,a,1,2\n",
            {},
            ["'device'", "columns.device", "did you mean 'dev'", "t, x, y"],
        ),
        ("t,device,x,y\n0,a,one,2\n", {}, ["line 2", "'x'", "'one'", "not a number"]),
        ("t,device,x,y\n", {}, ["no samples"]),
        ("t,device,x,y,z\n0,a,0,0,-5\n1,a,1,1,-5\n", {},  # as a waypoint's height (a review)
         ["line 2", "'z'", "'-5'", "below ground"]),
        # a V2X engineer's review: a 2 km jump in 0.1 s (km or ms units) replayed silently,
        # and rows of no device made one device ""
        ("t,device,x,y\n0,a,0,0\n0.1,a,2000,0\n0.2,a,4000,0\n0.3,a,6000,0\n", {},
         ["device 'a' moves 2,000.0 m in 0.1 s between t 0 and 0.1 s", "faster than sound"]),
        ("t,device,x,y\n0,a,0,0\n1,,5,0\n", {}, ["line 3", "'device' is empty"]),
    ],
    ids=["missing-column", "non-numeric", "empty", "negative-height", "too-fast", "no-device"],
)
def test_bad_csv_traces_are_input_errors(
    tmp_path: Path, text: str, columns: dict[str, str], needles: list[str]
) -> None:
    path = write(tmp_path / "bad.csv", text)
    spec = TraceReplay(file=str(path), columns=columns)
    with pytest.raises(InputError) as err:
        build_mobility(spec, 1, (0, 1, 0, 1), 1.5, rng(), field="fleets[1].mobility")
    msg = str(err.value)
    assert str(path) in msg
    for needle in needles:
        assert needle in msg, (needle, msg)


def test_a_single_fast_step_in_a_trace_is_kept(tmp_path: Path) -> None:
    """A GPS spike, or SUMO teleporting a jammed vehicle, is one step faster than sound: the
    trace stands (a diff review found it refused whole); only a trace whose steps are mostly
    that fast (its units) is bad input."""
    text = "t,device,x,y\n0,a,0,0\n1,a,10,0\n1.1,a,50,0\n2.1,a,60,0\n3.1,a,70,0\n"
    spec = TraceReplay(file=str(write(tmp_path / "spike.csv", text)))
    mob = build_mobility(spec, 1, (0, 1, 0, 1), 1.5, rng(), field="fleets[1].mobility")
    assert mob.positions(3.1)[0][0] == pytest.approx(70.0)


def test_missing_or_broken_trace_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="trace file not found"):
        build_mobility(TraceReplay(file="nope.csv"), 1, (0, 1, 0, 1), 1.5, rng(), base_dir=tmp_path)
    path = write(tmp_path / "broken.xml", "<fcd-export><timestep time='0'>")
    with pytest.raises(InputError, match="not valid SUMO FCD XML"):
        build_mobility(TraceReplay(file=str(path), format="sumo_fcd"), 1, (0, 1, 0, 1), 1.5, rng())


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"model": "random_walk"}, "random_waypoint"),
        ({"model": "random_waypoint", "speed_mps": [5, 1]}, "[low, high]"),
        ({"model": "random_waypoint", "speed_mps": [0, 1]}, "greater than 0"),
        # a finite but absurd speed walked ~1e300 legs an update: the run never ended
        ({"model": "random_waypoint", "speed_mps": [1, 1e300]}, "less than or equal to 343"),
        ({"model": "manhattan", "block_m": 100, "speed_mps": [1, 400]}, "less than or equal"),
        ({"model": "waypoints", "speed_mps": 1e9, "paths": [[[0, 0, 1]]]}, "less than or equal"),
        ({"model": "manhattan", "block_m": 100, "speed_mps": [1, 2], "turn": 0.2}, "turn"),
        ({"model": "manhattan", "block_m": 100, "speed_mps": [1, 2], "turn_probability": 2}, "1"),
        ({"model": "waypoints", "speed_mps": 5}, "exactly one of"),
        ({"model": "waypoints", "speed_mps": 5, "paths": [[[0, 0, -1]]]}, "greater than or"),
        ({"model": "waypoints", "speed_mps": 5, "paths": [[[0, 0, 1001]]]}, "less than or equal"),
        ({"model": "trace", "file": "a.csv", "origin_lat": 31.0}, "both origin_lat"),
        ({"model": "static", "update_ms": 0}, "greater than 0"),
    ],
)
def test_bad_mobility_specs_are_rejected_with_the_field_named(
    data: dict[str, object], needle: str
) -> None:
    with pytest.raises(ValidationError) as err:
        SPEC.validate_python(data)
    assert needle in str(err.value)


def test_the_yaml_examples_in_the_docs_validate() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 2
    fleets = yaml.safe_load(blocks[0])["fleets"]
    models = [SPEC.validate_python(f["mobility"]) for f in fleets]
    assert [m.model for m in models] == ["random_waypoint", "manhattan", "waypoints", "trace"]
    assert models[3].update_ms == 100
    sites = SiteListFile(**yaml.safe_load(blocks[1])["cell_sites_file"])
    assert sites.lat == "latitude" and sites.name == "id"



def test_every_module_imports_first() -> None:
    """A user's script may import any module first (``import airan.mobility`` once failed: the
    scenario schema and the mobility config import each other). Each module is imported with
    no airan module loaded, in one fresh interpreter."""
    import subprocess
    import sys

    import airan

    root = Path(airan.__file__).parent
    names = sorted(
        ".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in root.rglob("*.py")
        if "live" not in p.parts  # the live runtime imports grpc: its own tests cover it
    )
    code = (
        "import importlib, sys, traceback\n"
        "for n in sys.argv[1:]:\n"
        "    for m in [m for m in sys.modules if m == 'airan' or m.startswith('airan.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(n)\n"
        "    except Exception:\n"
        "        print('import', n, 'failed:', traceback.format_exc()[-1500:])\n"
        "        sys.exit(1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True)
    assert len(names) > 40
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_a_latlon_trace_lines_up_with_the_scenarios_site_list(tmp_path: Path) -> None:
    """A device standing at a listed site's latitude and longitude is at that site's position
    in the run: the trace is projected around the site list's origin, not its own median
    (which put it 6 km off here)."""
    from airan.engine import Engine
    from airan.scenario import load_scenario, scenario_from_dict
    from airan.scenario.schema import imported_sites

    write(tmp_path / "sites.csv", "id,latitude,longitude\nA,31.20,121.40\nB,31.22,121.45\n"
          "C,31.25,121.50\nD,31.21,121.47\n")
    write(tmp_path / "ll.csv", "t,device,lat,lon\n0,u1,31.25,121.50\n100,u1,31.25,121.50\n"
          "0,u2,31.26,121.52\n100,u2,31.26,121.52\n")
    d = load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None, compute_sites=[], nodes=[],
             transport={"links": []},
             cell_sites_file={"path": str(tmp_path / "sites.csv"), "name": "id"})
    d["fleets"] = [dict(d["fleets"][0], count=2, area=None, mobility={
        "model": "trace", "file": str(tmp_path / "ll.csv"), "latlon": True})]
    sc = scenario_from_dict(d)
    site_c = imported_sites(sc.cell_sites_file).xy_m[2]
    world = Engine(sc, duration_s=0.2).world
    np.testing.assert_allclose(world.dev_xy[0], site_c, atol=1e-3)


def test_a_latlon_trace_across_the_antimeridian_stays_in_one_piece(tmp_path: Path) -> None:
    """A 2.1 km track from 179.99 E to 179.99 W: centred at longitude 180, not 0 (which put
    its points 16,000 km apart)."""
    write(tmp_path / "fiji.csv", "t,device,lat,lon\n0,a,-17.0,179.99\n10,a,-17.0,-179.99\n")
    mob = build_mobility(TraceReplay(file=str(tmp_path / "fiji.csv"), latlon=True), 1,
                         (0, 10, 0, 10), 1.5, rng())
    a, b = mob.positions(0.0)[0], mob.positions(10.0)[0]
    assert np.hypot(*(b - a)[:2]) == pytest.approx(
        haversine_m(-17.0, 179.99, -17.0, -179.99), rel=1e-4)


@pytest.mark.parametrize(("count", "needle"), [(2, "only the first 2 to appear in the file"),
                                               (6, "the other 2 stand still"), (4, None)])
def test_a_trace_of_more_or_fewer_devices_than_the_fleet_is_warned_of(
        tmp_path: Path, count: int, needle: str | None) -> None:
    from airan.scenario import load_scenario, scenario_from_dict
    from airan.scenario.load import scenario_warnings

    rows = "".join(f"{t},d{k},{10 * k},{t}\n" for k in range(4) for t in (0, 10))
    write(tmp_path / "t.csv", "t,device,x,y\n" + rows)
    d = load_scenario("factory").model_dump(mode="json")
    d["fleets"][0].update(count=count, mobility={"model": "trace",
                                                  "file": str(tmp_path / "t.csv")})
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "the trace holds" in w]
    if needle is None:
        assert said == []
    else:
        assert len(said) == 1 and needle in said[0] and "count" in said[0], said


MIXED_FCD = """<fcd-export>
    <timestep time="0.00">
        <vehicle id="0" x="0.00" y="0.00" type="car" speed="10.00"/>
        <vehicle id="bus7" x="50.00" y="0.00" type="bus" speed="8.00"/>
        <person id="0" x="5.00" y="5.00" type="DEFAULT_PEDTYPE" speed="1.00"/>
    </timestep>
    <timestep time="1.00">
        <vehicle id="0" x="10.00" y="0.00" type="car" speed="10.00"/>
        <vehicle id="bus7" x="58.00" y="0.00" type="bus" speed="8.00"/>
        <person id="0" x="5.00" y="6.00" type="DEFAULT_PEDTYPE" speed="1.00"/>
    </timestep>
</fcd-export>
"""


@pytest.mark.parametrize(("pick", "ids", "kinds"), [
    ({}, ["0", "bus7", "person:0"], (("vehicle", 2), ("person", 1))),
    ({"elements": ["vehicle"]}, ["0", "bus7"], (("vehicle", 2),)),
    ({"elements": ["person"]}, ["0"], (("person", 1),)),
    ({"types": ["bus"]}, ["bus7"], (("vehicle", 1),)),
    ({"elements": ["vehicle", "person"], "types": ["car", "DEFAULT_PEDTYPE"]},
     ["0", "person:0"], (("vehicle", 1), ("person", 1))),
])
def test_a_sumo_trace_replays_the_elements_and_types_a_fleet_picks(
        tmp_path: Path, pick: dict[str, Any], ids: list[str], kinds: tuple[Any, ...]) -> None:
    """A V2X engineer's review: a SUMO run's pedestrians were replayed as the vehicle fleet's
    devices, and a person with a vehicle's id (SUMO keeps them apart) merged with it into one
    device that jumped between them. A fleet picks its elements and SUMO types; a person
    sharing a vehicle's id is a device of its own."""
    write(tmp_path / "fcd.xml", MIXED_FCD)
    spec = TraceReplay(file=str(tmp_path / "fcd.xml"), format="sumo_fcd", **pick)
    trace = read_trace(spec, tmp_path / "fcd.xml")
    assert trace.ids == ids and trace.kinds == kinds
    first = {i: trace.xyz_m[trace.start[k], :2].tolist() for k, i in enumerate(trace.ids)}
    if "person:0" in first:
        assert first["person:0"] == [5.0, 5.0]
    if "0" in first and pick.get("elements") != ["person"]:
        assert first["0"] == [0.0, 0.0]  # the car, not the pedestrian


def test_a_sumo_trace_pick_that_matches_nothing_or_a_csv_pick_is_bad_input(
        tmp_path: Path) -> None:
    write(tmp_path / "fcd.xml", MIXED_FCD)
    spec = TraceReplay(file=str(tmp_path / "fcd.xml"), format="sumo_fcd", types=["tram"])
    with pytest.raises(InputError, match=r"no samples; types: \['tram'\] \(none of the") as e:
        read_trace(spec, tmp_path / "fcd.xml")
    assert e.value.field == "mobility.types"
    with pytest.raises(ValidationError, match="elements and types pick a SUMO FCD"):
        TraceReplay(file="t.csv", elements=["vehicle"])
    with pytest.raises(ValidationError, match="elements"):
        TraceReplay(file="f.xml", format="sumo_fcd", elements=["bicycle"])  # type: ignore[list-item]


def test_fleets_picked_from_one_geo_sumo_trace_share_its_frame(tmp_path: Path) -> None:
    """A diff review: with ``latlon`` and no origin, each fleet picked from one SUMO file took
    the median of its own elements as the origin, so a car and a pedestrian on one spot, in
    two fleets, landed 310 m apart. The frame is the whole file's median."""
    fcd = ("<fcd-export><timestep time='0'>"
           "<vehicle id='c' x='121.4700' y='31.2300' type='car'/>"
           "<vehicle id='d' x='121.4800' y='31.2300' type='car'/>"
           "<person id='p' x='121.4700' y='31.2300'/></timestep>"
           "<timestep time='100'>"
           "<vehicle id='c' x='121.4710' y='31.2300' type='car'/>"
           "<vehicle id='d' x='121.4810' y='31.2300' type='car'/>"
           "<person id='p' x='121.4700' y='31.2301'/></timestep></fcd-export>")
    write(tmp_path / "geo.xml", fcd)
    car, ped = (read_trace(TraceReplay(file="geo.xml", format="sumo_fcd", latlon=True,
                                       elements=[kind]), tmp_path / "geo.xml")
                for kind in ("vehicle", "person"))
    whole = read_trace(TraceReplay(file="geo.xml", format="sumo_fcd", latlon=True),
                       tmp_path / "geo.xml")
    assert car.origin == ped.origin == whole.origin
    c0 = car.xyz_m[car.start[car.ids.index("c")], :2]
    p0 = ped.xyz_m[ped.start[0], :2]
    np.testing.assert_allclose(c0, p0, atol=1e-6)  # one spot, one place
