"""Scenario fields for moving devices (``fleets[].mobility``) and real site lists
(``cell_sites_file``), in the units a user writes (metres, m/s, seconds, ms, km).

``MobilitySpec`` is a discriminated union on ``model``: ``static``, ``random_waypoint``,
``manhattan``, ``waypoints`` and ``trace``. Every model has ``update_ms``, the period at which
device positions are recomputed (positions are not updated every slot). See docs/mobility.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from airan.scenario.schema import MAX_HEIGHT_M, Coord, PosFloat, _Strict

if TYPE_CHECKING:
    from airan.mobility.sites import SiteList

__all__ = [
    "GeneratedPaths",
    "ManhattanGrid",
    "MobilitySpec",
    "RandomWaypoint",
    "SiteListFile",
    "StaticMobility",
    "TraceColumns",
    "TraceReplay",
    "Waypoints3D",
]

_Prob = Annotated[float, Field(ge=0, le=1)]


def _ordered(v: tuple[float, float]) -> tuple[float, float]:
    if v[0] > v[1]:
        raise ValueError(f"a range must be [low, high] (got [{v[0]}, {v[1]}])")
    return v


#: The fastest a device may move (m/s): the speed of sound at sea level, above an airliner's
#: cruise and 3GPP's fastest terrestrial class (TR 38.913 6.1: high-speed train, 500 km/h). The
#: models walk every leg or block a device completes between two updates, so an absurd speed
#: would take that many steps.
MAX_SPEED_MPS = 343.0
#: A speed (m/s): strictly positive (a zero minimum speed makes random waypoint's average speed
#: decay to zero, Yoon, Liu & Noble, INFOCOM 2003), at most :data:`MAX_SPEED_MPS`.
Speed = Annotated[float, Field(gt=0, le=MAX_SPEED_MPS, allow_inf_nan=False)]


def _one_speed_is_a_range(v: object) -> object:
    """A single speed (a number) is the range [v, v]: every device moves at it."""
    return (v, v) if isinstance(v, int | float) and not isinstance(v, bool) else v


#: A [low, high] range of speeds, or one speed for every device.
SpeedRange = Annotated[tuple[Speed, Speed], BeforeValidator(_one_speed_is_a_range),
                       AfterValidator(_ordered)]
#: A pause (s): at most ten days, the longest run (a longer one overflows the stationary state).
_Pause = Annotated[float, Field(ge=0, le=10 * 86_400)]
#: A height above ground (m): 0 (on the ground: a robot's path, a landing pad; the path loss
#: takes a ground UE's heights within its formulas' range, TR 38.901 Table 7.4.1-1, as a
#: trace's z of 0) to :data:`MAX_HEIGHT_M`, a fleet's ``height_m``'s top (a drone maker's
#: review: a waypoint's z took up to 10,000 km)
_Altitude = Annotated[float, Field(ge=0, le=MAX_HEIGHT_M)]


class _MobilityBase(_Strict):
    update_ms: PosFloat = 100.0  # positions are recomputed this often (not every slot)


class StaticMobility(_MobilityBase):
    """Devices stay where they were placed."""

    model: Literal["static"] = "static"


class RandomWaypoint(_MobilityBase):
    """Random waypoint (Johnson & Maltz 1996): go in a straight line to a uniform random point of
    the fleet's area at a speed drawn uniformly from ``speed_mps``, pause for a time drawn
    uniformly from ``pause_s``, repeat.

    ``stationary_start``: draw the initial state from the model's stationary distribution
    (Navidi & Camp, IEEE TMC 2004), so the long-run, centre-heavy density of Bettstetter, Resta
    & Santi (IEEE TMC 2003) holds from t = 0 instead of after a warm-up.
    """

    model: Literal["random_waypoint"] = "random_waypoint"
    speed_mps: SpeedRange
    pause_s: Annotated[tuple[_Pause, _Pause], AfterValidator(_ordered)] = (0.0, 0.0)
    stationary_start: bool = True


class ManhattanGrid(_MobilityBase):
    """Vehicles on a Manhattan street grid: streets at every multiple of ``block_m`` in x and in y
    inside the fleet's area; at each intersection a vehicle goes straight with probability
    1 - ``turn_probability`` or turns left or right (half each), never leaving the grid (the
    Manhattan model of ETSI TR 101 112 / UMTS 30.03 Annex B; 0.5 / 0.25 / 0.25 by default).
    Each vehicle draws a new speed from ``speed_mps`` at every intersection."""

    model: Literal["manhattan"] = "manhattan"
    block_m: PosFloat
    speed_mps: SpeedRange
    turn_probability: _Prob = 0.5


class GeneratedPaths(_Strict):
    """``count`` random closed paths of ``points`` waypoints each: x, y uniform in the fleet's
    area, altitude (height above ground) uniform in ``altitude_m``."""

    count: int = Field(1, ge=1, le=100_000)
    points: int = Field(4, ge=1, le=10_000)
    altitude_m: Annotated[tuple[_Altitude, _Altitude], AfterValidator(_ordered)] = (30.0, 120.0)

    @model_validator(mode="after")
    def _bounded(self) -> GeneratedPaths:
        if self.count * self.points > 1_000_000:
            raise ValueError(f"count x points = {self.count * self.points:,} waypoints; at most "
                             "1,000,000")
        return self


class Waypoints3D(_MobilityBase):
    """Drones flying 3-D paths at ``speed_mps``: device i follows path i mod (number of paths).

    ``paths``: lists of [x, y, z] points in metres (z = height above ground), or ``generate``
    random ones (give exactly one). ``loop``: fly back to the first point and repeat; otherwise
    hover at the last point. ``phase``: where on its path each device starts: ``spread`` (the
    devices sharing a path evenly spaced along it), ``zero`` (all at the first point) or
    ``random`` (uniform along the path).
    """

    model: Literal["waypoints"] = "waypoints"
    paths: list[Annotated[list[tuple[Coord, Coord, _Altitude]], Field(min_length=1)]] | None = (
        Field(None, min_length=1)
    )
    generate: GeneratedPaths | None = None
    speed_mps: Speed
    loop: bool = True
    phase: Literal["spread", "zero", "random"] = "spread"

    @model_validator(mode="after")
    def _one_source(self) -> Waypoints3D:
        if (self.paths is None) == (self.generate is None):
            raise ValueError("give exactly one of 'paths' and 'generate'")
        return self


class TraceColumns(_Strict):
    """Column names of a CSV trace: ``t`` (s), ``device`` and either ``x``/``y`` (metres) or
    ``lat``/``lon`` (degrees) with ``latlon: true``; ``z`` (height above ground, metres) is used
    when the file has it."""

    t: str = "t"
    device: str = "device"
    x: str = "x"
    y: str = "y"
    z: str = "z"
    lat: str = "lat"
    lon: str = "lon"


class TraceReplay(_MobilityBase):
    """Replay recorded positions, linearly interpolated between samples; a device holds its first
    position before its first sample and its last one after its last.

    ``outside_trace``: what a trace device does before its first sample and after its last (a
    SUMO vehicle that enters the network late or leaves it early): ``silent`` (the default)
    sends nothing then, as a vehicle not on the road; ``hold`` keeps sending from the position
    it holds.

    ``format``: ``csv`` (one row per sample, see :class:`TraceColumns`) or ``sumo_fcd`` (SUMO
    floating car data, ``sumo --fcd-output``: ``<timestep time=..><vehicle id x y .../>``;
    https://sumo.dlr.de/docs/Simulation/Output/FCDOutput.html; with ``--fcd-output.geo`` x is
    the longitude and y the latitude, so set ``latlon: true``). Trace devices map to the fleet's
    devices in order of first appearance; extra fleet devices stay where they were placed.
    ``latlon``: project to local metres around (``origin_lat``, ``origin_lon``), or the
    scenario's origin, or the trace's median point. ``offset_m`` is added to x, y afterwards.
    ``start_s``: the trace time at simulated t = 0. A relative ``file`` is resolved against the
    scenario file's folder.

    ``elements`` and ``types`` (``sumo_fcd`` only) pick what of the FCD this fleet replays: its
    ``<vehicle>``, ``<person>`` or ``<container>`` elements (all three by default) and, by their
    ``type`` attribute, the SUMO vehicle or person types (every type by default): one file
    feeds a fleet of cars, one of buses and one of pedestrians. A person and a vehicle of one
    id are two devices (SUMO keeps their ids apart): the person is read ``person:ID``.
    """

    model: Literal["trace"] = "trace"
    file: str
    format: Literal["csv", "sumo_fcd"] = "csv"
    columns: TraceColumns = TraceColumns()
    latlon: bool = False
    origin_lat: float | None = Field(None, ge=-90, le=90)
    origin_lon: float | None = Field(None, ge=-180, le=180)
    offset_m: tuple[Coord, Coord] = (0.0, 0.0)
    start_s: float = 0.0
    outside_trace: Literal["silent", "hold"] = "silent"
    elements: list[Literal["vehicle", "person", "container"]] | None = Field(None, min_length=1)
    types: list[str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _origin_pair(self) -> TraceReplay:
        if (self.origin_lat is None) != (self.origin_lon is None):
            raise ValueError("give both origin_lat and origin_lon, or neither")
        if self.format != "sumo_fcd" and (self.elements is not None or self.types is not None):
            raise ValueError("elements and types pick a SUMO FCD's elements (format: sumo_fcd); "
                             "a CSV trace's devices are its rows' (one file per fleet)")
        return self


MobilitySpec = Annotated[
    StaticMobility | RandomWaypoint | ManhattanGrid | Waypoints3D | TraceReplay,
    Field(discriminator="model"),
]


class SiteListFile(_Strict):
    """Cell sites read from a CSV of latitude/longitude (``cell_sites_file``).

    The columns are named by ``lat``, ``lon`` and optionally ``name`` and ``region``. Points are
    projected to local metres (azimuthal equidistant on a sphere) around (``origin_lat``,
    ``origin_lon``) or the list's median point. Unparsable rows, coordinates out of range and
    points farther than ``max_radius_km`` from the origin (where given; else from the median
    point) are reported and skipped; without ``max_radius_km``, the points beyond a robust
    limit from the median point (Q3 + ``iqr_k`` x IQR of the distances).
    """

    path: str
    lat: str = "latitude"
    lon: str = "longitude"
    name: str | None = None
    region: str | None = None
    max_radius_km: PosFloat | None = None
    iqr_k: PosFloat = 3.0
    origin_lat: float | None = Field(None, ge=-90, le=90)
    origin_lon: float | None = Field(None, ge=-180, le=180)
    # a row within this many metres of an earlier one is skipped (one mast listed twice)
    merge_within_m: float | None = Field(None, ge=0, le=10_000)
    # columns of each site's antenna height (m), first sector's bearing (degrees clockwise
    # from north) and downtilt (degrees); an empty cell: the scenario's default
    height: str | None = None
    azimuth: str | None = None
    downtilt: str | None = None

    @model_validator(mode="after")
    def _origin_pair(self) -> SiteListFile:
        if (self.origin_lat is None) != (self.origin_lon is None):
            raise ValueError("give both origin_lat and origin_lon, or neither")
        return self

    def load(
        self, base_dir: str | Path | None = None, *, field: str = "cell_sites_file"
    ) -> SiteList:
        """Read the list (a relative ``path`` is resolved against ``base_dir``)."""
        from airan.mobility.sites import load_site_list

        path = Path(self.path)
        if base_dir is not None and not path.is_absolute():
            path = Path(base_dir) / path
        origin = None if self.origin_lat is None else (self.origin_lat, self.origin_lon)
        return load_site_list(
            path,
            lat=self.lat,
            lon=self.lon,
            name=self.name,
            region=self.region,
            max_radius_km=self.max_radius_km,
            iqr_k=self.iqr_k,
            origin=origin,  # type: ignore[arg-type]
            field=field,
            merge_within_m=self.merge_within_m,
            height=self.height,
            azimuth=self.azimuth,
            downtilt=self.downtilt,
        )
