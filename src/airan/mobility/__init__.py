"""Devices that move: mobility models, trace replay and real site lists.

:func:`build_mobility` turns a fleet's ``mobility`` spec (:mod:`airan.mobility.config`) into a
:class:`Mobility` whose ``positions(t)`` gives every device's (x, y, z) in metres, vectorized
over devices; the engine calls it every ``update_s`` seconds. :func:`load_site_list` reads a
latitude/longitude site list into local metres. See docs/mobility.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import airan.scenario.schema  # noqa: F401  (first: the schema imports airan.mobility.config)
from airan.errors import InputError
from airan.mobility.config import (
    GeneratedPaths,
    ManhattanGrid,
    MobilitySpec,
    RandomWaypoint,
    SiteListFile,
    StaticMobility,
    TraceColumns,
    TraceReplay,
    Waypoints3D,
)
from airan.mobility.models import (
    Area,
    ManhattanMobility,
    Mobility,
    RandomWaypointMobility,
    StaticPositions,
    TraceMobility,
    WaypointMobility,
    as_area,
)
from airan.mobility.sites import SiteList, haversine_m, load_site_list, project_aeqd
from airan.mobility.traces import Trace, read_trace

__all__ = [
    "Area",
    "GeneratedPaths",
    "ManhattanGrid",
    "ManhattanMobility",
    "Mobility",
    "MobilitySpec",
    "RandomWaypoint",
    "RandomWaypointMobility",
    "SiteList",
    "SiteListFile",
    "StaticMobility",
    "StaticPositions",
    "Trace",
    "TraceColumns",
    "TraceMobility",
    "TraceReplay",
    "WaypointMobility",
    "Waypoints3D",
    "build_mobility",
    "haversine_m",
    "load_site_list",
    "project_aeqd",
    "read_trace",
]


def build_mobility(
    spec: MobilitySpec | None,
    n_devices: int,
    area_bounds: tuple[float, float, float, float] | Any,
    base_height_m: float,
    rng: np.random.Generator,
    *,
    initial_xy: ArrayLike | None = None,
    origin: tuple[float, float] | None = None,
    base_dir: str | Path | None = None,
    field: str = "mobility",
) -> Mobility:
    """The mobility of ``n_devices`` devices of one fleet.

    ``area_bounds``: (xmin, xmax, ymin, ymax) in metres, or the fleet's ``RectArea`` /
    ``DiscArea``. ``base_height_m``: the devices' height above ground (z) for the 2-D models.
    ``initial_xy`` (n, 2): where the engine placed the devices (static devices stay there,
    random waypoint starts there instead of its stationary state, trace devices beyond the
    trace's stay there); default: uniform in the area. ``origin``: the scenario's (lat, lon) for
    lat/lon traces. ``base_dir``: the folder a relative trace ``file`` is resolved against.
    ``field``: the field path named in errors (e.g. ``fleets[2].mobility``). ``spec`` None means
    static. Deterministic for a given ``rng`` state and sequence of ``positions`` calls.
    """
    spec = StaticMobility() if spec is None else spec
    area = as_area(area_bounds)
    n = int(n_devices)
    update_s = spec.update_ms * 1e-3
    xy0 = None
    if initial_xy is not None:
        xy0 = np.asarray(initial_xy, dtype=float).reshape(-1, 2)
        if len(xy0) != n:
            raise ValueError(f"initial_xy has {len(xy0)} rows for {n} devices")

    if isinstance(spec, StaticMobility):
        return StaticPositions(area.sample(rng, n) if xy0 is None else xy0, base_height_m, update_s)
    if isinstance(spec, RandomWaypoint):
        return RandomWaypointMobility(
            area,
            n,
            spec.speed_mps,
            spec.pause_s,
            base_height_m,
            rng,
            update_s,
            stationary_start=spec.stationary_start,
            initial_xy=xy0,
        )
    if isinstance(spec, ManhattanGrid):
        return ManhattanMobility(
            area,
            n,
            spec.block_m,
            spec.speed_mps,
            spec.turn_probability,
            base_height_m,
            rng,
            update_s,
            field=field,
        )
    if isinstance(spec, Waypoints3D):
        if spec.paths is not None:
            paths = [np.asarray(p, dtype=float) for p in spec.paths]
        else:
            g = spec.generate
            assert g is not None
            paths = [
                np.c_[area.sample(rng, g.points), rng.uniform(*g.altitude_m, g.points)]
                for _ in range(g.count)
            ]
        return WaypointMobility(paths, n, spec.speed_mps, spec.loop, spec.phase, rng, update_s)
    if isinstance(spec, TraceReplay):
        path = Path(spec.file)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        trace = read_trace(spec, path, origin=origin, field=field)
        rest = area.sample(rng, n) if xy0 is None else xy0
        return TraceMobility(trace, rest, base_height_m, spec.start_s, update_s)
    raise InputError(f"unknown mobility model {spec!r}", field=f"{field}.model")
