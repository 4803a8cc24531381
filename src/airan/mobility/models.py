"""Mobility models, vectorized over devices: positions (x, y, z) in metres at a time t (s).

Every model keeps per-device state in arrays and advances it with numpy masks: there is no
Python loop over devices, only (for random waypoint and the Manhattan grid) a loop over "legs
completed since the last call", each step vectorized over the devices that completed one.
Times passed to :meth:`Mobility.positions` must not decrease.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from airan.errors import InputError
from airan.mobility.draws import DeviceDraws
from airan.mobility.traces import Trace

__all__ = [
    "Area",
    "ManhattanMobility",
    "Mobility",
    "RandomWaypointMobility",
    "StaticPositions",
    "TraceMobility",
    "WaypointMobility",
    "as_area",
]


@dataclass(frozen=True)
class Area:
    """A fleet's area: a rectangle (``radius`` None) or a disc (centre ``cx, cy``, ``radius``)."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float
    radius: float | None = None

    @property
    def center(self) -> tuple[float, float]:
        return (0.5 * (self.xmin + self.xmax), 0.5 * (self.ymin + self.ymax))

    @property
    def max_chord(self) -> float:
        """The longest straight line inside the area, metres."""
        if self.radius is not None:
            return 2.0 * self.radius
        return math.hypot(self.xmax - self.xmin, self.ymax - self.ymin)

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """``n`` points uniform in the area, shape (n, 2); point i from the i-th pair of draws,
        so the first ``n`` of a larger sample from the same stream are these."""
        return self.at(rng.random((n, 2)))

    def at(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The points of the area that uniforms ``u`` (shape (n, 2), in [0, 1)) map to: uniform
        points for uniform ``u``."""
        if self.radius is not None:
            r = self.radius * np.sqrt(u[:, 0])
            th = 2.0 * np.pi * u[:, 1]
            cx, cy = self.center
            return np.c_[cx + r * np.cos(th), cy + r * np.sin(th)]
        return np.c_[self.xmin + u[:, 0] * (self.xmax - self.xmin),
                     self.ymin + u[:, 1] * (self.ymax - self.ymin)]

    def contains(self, xy: NDArray[np.float64], tol: float = 1e-6) -> NDArray[np.bool_]:
        """Whether each point (rows of ``xy``) lies in the area, within ``tol`` metres."""
        x, y = xy[..., 0], xy[..., 1]
        if self.radius is not None:
            cx, cy = self.center
            return np.hypot(x - cx, y - cy) <= self.radius + tol
        return (
            (x >= self.xmin - tol)
            & (x <= self.xmax + tol)
            & (y >= self.ymin - tol)
            & (y <= self.ymax + tol)
        )


def as_area(area: Any) -> Area:
    """An :class:`Area` from (xmin, xmax, ymin, ymax), a ``RectArea``, a ``DiscArea`` or a
    ``PointsArea`` (its points' bounding box)."""
    if isinstance(area, Area):
        return area
    if hasattr(area, "positions_m"):  # points: their bounding box
        xy = np.asarray(area.positions_m, dtype=float)
        return Area(float(xy[:, 0].min()), float(xy[:, 0].max()), float(xy[:, 1].min()),
                    float(xy[:, 1].max()))
    if hasattr(area, "radius_m"):
        cx, cy = area.center_m
        r = float(area.radius_m)
        return Area(cx - r, cx + r, cy - r, cy + r, radius=r)
    if hasattr(area, "x_m"):
        return Area(float(area.x_m[0]), float(area.x_m[1]), float(area.y_m[0]), float(area.y_m[1]))
    xmin, xmax, ymin, ymax = (float(v) for v in area)
    if xmin > xmax or ymin > ymax:
        raise ValueError(f"area bounds must be (xmin, xmax, ymin, ymax) in order, got {area}")
    return Area(xmin, xmax, ymin, ymax)


class Mobility(ABC):
    """Positions of ``n_devices`` devices over time; recompute them every ``update_s`` seconds."""

    #: True when positions never change (the engine can skip updates).
    is_static: bool = False

    def __init__(self, n_devices: int, update_s: float) -> None:
        self.n_devices = int(n_devices)
        self.update_s = float(update_s)
        self._last_t = -math.inf
        self._initial: NDArray[np.float64] | None = None

    @property
    def n_moving(self) -> int:
        """How many of the devices move: the first ``n_moving`` (all, but for a trace of fewer
        devices than its fleet, whose others stay where they were placed)."""
        return self.n_devices

    def initial_positions(self) -> NDArray[np.float64]:
        """Positions at t = 0, shape (n, 3): x, y, z (z = height above ground), metres."""
        assert self._initial is not None
        return self._initial.copy()

    def positions(self, t_s: float) -> NDArray[np.float64]:
        """Positions at ``t_s`` seconds, shape (n, 3), metres. ``t_s`` must not decrease."""
        t = float(t_s)
        if t < self._last_t:
            raise ValueError(f"positions() called with t = {t} s after t = {self._last_t} s")
        self._last_t = t
        return self._at(t)

    @abstractmethod
    def _at(self, t: float) -> NDArray[np.float64]: ...

    def _set_initial(self) -> None:
        self._initial = self.positions(0.0).copy()


class StaticPositions(Mobility):
    """Devices that never move."""

    is_static = True

    def __init__(self, xy: NDArray[np.float64], z_m: float, update_s: float) -> None:
        super().__init__(len(xy), update_s)
        self._xyz = np.c_[np.asarray(xy, dtype=float).reshape(-1, 2), np.full(len(xy), z_m)]
        self._set_initial()

    def _at(self, t: float) -> NDArray[np.float64]:
        return self._xyz.copy()


class RandomWaypointMobility(Mobility):
    """Random waypoint in a rectangle or a disc (Johnson & Maltz 1996; stationary analysis:
    Bettstetter, Resta & Santi, "The node distribution of the random waypoint mobility model for
    wireless ad hoc networks", IEEE TMC 2(3), 2003; perfect start: Navidi & Camp, IEEE TMC 3(1),
    2004).

    Each leg: from waypoint ``p0`` to a uniform random ``p1`` at a speed uniform in
    [v_lo, v_hi], then a pause uniform in [pause_lo, pause_hi]. With ``stationary_start`` the
    state at t = 0 is drawn from the stationary distribution: paused with probability
    E[P] / (E[P] + E[D] E[1/V]); otherwise on a length-biased leg (density proportional to its
    length D), at a speed of density proportional to 1/v, at a uniform point of the leg.
    Device i's start and its k-th leg come from draws of its own (:class:`DeviceDraws`), so the
    first n devices of a larger fleet move as a fleet of n does.
    """

    # the kinds of a device's draws (DeviceDraws): its start (counter 0), or its k-th leg (k)
    _PAUSED, _POS_X, _POS_Y, _PAUSE_TOTAL, _PAUSE_LEFT, _SPEED, _DONE, _PAUSE = range(8)
    _LEG_AX, _LEG_AY, _LEG_BX, _LEG_BY, _ACCEPT = range(8, 13)  # counter: the attempt
    _NEXT_X, _NEXT_Y = 13, 14

    def __init__(
        self,
        area: Area,
        n: int,
        speed: tuple[float, float],
        pause: tuple[float, float],
        z_m: float,
        rng: np.random.Generator,
        update_s: float,
        *,
        stationary_start: bool = True,
        initial_xy: NDArray[np.float64] | None = None,
    ) -> None:
        super().__init__(n, update_s)
        self.area, self._z = area, float(z_m)
        self._draws = DeviceDraws.from_rng(rng)
        self._mean_rng = rng  # E[D]'s Monte Carlo, independent of n
        self.v_lo, self.v_hi = float(speed[0]), float(speed[1])
        self.p_lo, self.p_hi = float(pause[0]), float(pause[1])
        self._frozen = area.max_chord == 0.0  # a point: nowhere to go
        self._leg = np.zeros(n, dtype=np.int64)  # each device's legs begun after t = 0
        every = np.arange(n)
        if stationary_start and initial_xy is None and not self._frozen:
            self._stationary_state(n)
        else:
            start = (self._point(every, 0, self._POS_X) if initial_xy is None
                     else np.asarray(initial_xy, float))
            self.p0 = start.copy()
            self.p1 = start.copy()
            self.t_dep = np.zeros(n)
            self.t_arr = np.zeros(n)
            self.t_next = np.zeros(n)  # a fresh leg at t = 0
            self.speed_mps = np.full(n, self.v_lo)
        self._set_initial()

    def _u(self, dev: NDArray[np.int64], counter: NDArray[np.int64] | int,
           kind: int) -> NDArray[np.float64]:
        return self._draws.u(dev, counter, kind)

    def _point(self, dev: NDArray[np.int64], counter: NDArray[np.int64] | int,
               kind_x: int) -> NDArray[np.float64]:
        """A uniform point of the area for each device (kinds ``kind_x`` and the next)."""
        return self.area.at(np.c_[self._u(dev, counter, kind_x), self._u(dev, counter, kind_x + 1)])

    def _draw_speed(self, dev: NDArray[np.int64],
                    leg: NDArray[np.int64] | int) -> NDArray[np.float64]:
        return self.v_lo + (self.v_hi - self.v_lo) * self._u(dev, leg, self._SPEED)

    def _draw_pause(self, dev: NDArray[np.int64],
                    leg: NDArray[np.int64] | int) -> NDArray[np.float64]:
        return self.p_lo + (self.p_hi - self.p_lo) * self._u(dev, leg, self._PAUSE)

    def _length_biased_legs(self, dev: NDArray[np.int64]) -> tuple[NDArray[np.float64],
                                                                    NDArray[np.float64]]:
        """A (start, end) pair of uniform points for each device, accepted with probability
        D / max chord: each device tries its own attempts 0, 1, ... until one is accepted."""
        m = len(dev)
        a_out, b_out = np.empty((m, 2)), np.empty((m, 2))
        todo = np.arange(m)
        attempt = 0
        while len(todo):
            d = dev[todo]
            a, b = self._point(d, attempt, self._LEG_AX), self._point(d, attempt, self._LEG_BX)
            ok = self._u(d, attempt, self._ACCEPT) * self.area.max_chord < np.hypot(*(b - a).T)
            a_out[todo[ok]], b_out[todo[ok]] = a[ok], b[ok]
            todo = todo[~ok]
            attempt += 1
        return a_out, b_out

    def _stationary_state(self, n: int) -> None:
        area = self.area
        # E[D] by Monte Carlo (closed forms exist only for squares and discs), E[1/V] exact.
        pa, pb = area.sample(self._mean_rng, 200_000), area.sample(self._mean_rng, 200_000)
        mean_d = float(np.hypot(*(pb - pa).T).mean())
        if self.v_hi > self.v_lo:
            mean_inv_v = math.log(self.v_hi / self.v_lo) / (self.v_hi - self.v_lo)
        else:
            mean_inv_v = 1.0 / self.v_lo
        mean_pause = 0.5 * (self.p_lo + self.p_hi)
        p_paused = mean_pause / (mean_pause + mean_d * mean_inv_v)
        every = np.arange(n)
        paused = self._u(every, 0, self._PAUSED) < p_paused
        self.p0, self.p1 = np.empty((n, 2)), np.empty((n, 2))
        self.t_dep, self.t_arr, self.t_next = np.empty(n), np.empty(n), np.empty(n)
        self.speed_mps = np.empty(n)

        i = np.flatnonzero(paused)
        if len(i):
            # At a uniform waypoint, in a pause of length-biased duration, uniformly far in.
            pos = self._point(i, 0, self._POS_X)
            lo2, hi2 = self.p_lo**2, self.p_hi**2
            total = np.sqrt(lo2 + (hi2 - lo2) * self._u(i, 0, self._PAUSE_TOTAL))
            left = total * self._u(i, 0, self._PAUSE_LEFT)
            self.p0[i], self.p1[i] = pos, pos
            self.t_dep[i], self.t_arr[i], self.t_next[i] = -1.0, 0.0, left
            self.speed_mps[i] = self._draw_speed(i, 0)
        j = np.flatnonzero(~paused)
        if len(j):
            a, b = self._length_biased_legs(j)
            if self.v_hi > self.v_lo:
                v = self.v_lo * (self.v_hi / self.v_lo) ** self._u(j, 0, self._SPEED)
            else:
                v = np.full(len(j), self.v_lo)
            dur = np.hypot(*(b - a).T) / v
            done = self._u(j, 0, self._DONE)
            self.p0[j], self.p1[j] = a, b
            self.t_dep[j] = -done * dur
            self.t_arr[j] = self.t_dep[j] + dur
            self.t_next[j] = self.t_arr[j] + self._draw_pause(j, 0)
            self.speed_mps[j] = v

    def _at(self, t: float) -> NDArray[np.float64]:
        if not self._frozen:
            i = np.flatnonzero(self.t_next <= t)
            while len(i):
                self._leg[i] += 1
                leg = self._leg[i]
                self.p0[i] = self.p1[i]
                self.p1[i] = self._point(i, leg, self._NEXT_X)
                v = self._draw_speed(i, leg)
                d = np.hypot(*(self.p1[i] - self.p0[i]).T)
                self.speed_mps[i] = v
                self.t_dep[i] = self.t_next[i]
                self.t_arr[i] = self.t_dep[i] + d / v
                self.t_next[i] = self.t_arr[i] + self._draw_pause(i, leg)
                i = i[self.t_next[i] <= t]
        dur = self.t_arr - self.t_dep
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(dur > 0, (t - self.t_dep) / dur, 1.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        xy = self.p0 + f * (self.p1 - self.p0)
        return np.c_[xy, np.full(self.n_devices, self._z)]


def _multiples(lo: float, hi: float, step: float) -> NDArray[np.int64]:
    """The integers k with lo <= k * step <= hi (to a relative 1e-9)."""
    return np.arange(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)


# Headings on the grid: east, north, west, south (counter-clockwise, so left = +1, right = -1).
_DX = np.array([1, 0, -1, 0])
_DY = np.array([0, 1, 0, -1])


class ManhattanMobility(Mobility):
    """Vehicles on a Manhattan street grid (ETSI TR 101 112 Annex B, the UMTS 30.03 Manhattan
    model): streets at x = k * block and y = k * block inside the area (a disc keeps the
    intersections inside it). A vehicle drives one block at its speed, then at the intersection
    goes straight with probability 1 - p_turn or turns left or right (p_turn / 2 each); a move
    that would leave the grid is replaced by one of the others, a U-turn only at a dead end.
    Speeds are uniform in [v_lo, v_hi], drawn again at every intersection. Vehicles start at a
    uniform intersection, heading a uniform allowed way, a uniform fraction into the block.
    Vehicle i's start and its k-th intersection come from draws of its own
    (:class:`DeviceDraws`), so the first n vehicles of a larger fleet drive as a fleet of n does.
    """

    # the kinds of a vehicle's draws (DeviceDraws): its start (counter 0), or its k-th block (k)
    _START, _TURN, _SPEED, _INTO_BLOCK = range(4)

    def __init__(
        self,
        area: Area,
        n: int,
        block_m: float,
        speed: tuple[float, float],
        turn_probability: float,
        z_m: float,
        rng: np.random.Generator,
        update_s: float,
        *,
        field: str = "mobility",
    ) -> None:
        super().__init__(n, update_s)
        self.block = float(block_m)
        self.v_lo, self.v_hi = float(speed[0]), float(speed[1])
        self.p_turn = float(turn_probability)
        self._draws, self._z = DeviceDraws.from_rng(rng), float(z_m)
        kx = _multiples(area.xmin, area.xmax, self.block)
        ky = _multiples(area.ymin, area.ymax, self.block)
        self.x_streets = kx * self.block
        self.y_streets = ky * self.block
        gx, gy = np.meshgrid(self.x_streets, self.y_streets, indexing="ij")
        self.node_ok = area.contains(np.stack([gx, gy], axis=-1), tol=1e-6 * self.block)
        self.nx, self.ny = len(kx), len(ky)
        # An intersection is usable if a street leaves it to another intersection of the area.
        all_x, all_y = np.nonzero(np.ones_like(self.node_ok))  # row-major, like reshape
        usable = np.zeros((self.nx, self.ny), dtype=bool)
        for d in range(4):
            usable |= self._valid(all_x, all_y, d).reshape(usable.shape)
        usable &= self.node_ok
        cand = np.argwhere(usable)
        if len(cand) == 0:
            raise InputError(
                f"block_m {block_m} m leaves no street of two intersections inside the fleet's "
                f"area (x {area.xmin}..{area.xmax} m, y {area.ymin}..{area.ymax} m)",
                field=f"{field}.block_m",
                value=block_m,
            )
        every = np.arange(n)
        self._block = np.zeros(n, dtype=np.int64)  # each vehicle's blocks begun after t = 0
        pick_u = self._draws.u(every, 0, self._START)
        pick = cand[np.minimum((pick_u * len(cand)).astype(np.int64), len(cand) - 1)]
        self.ix, self.iy = pick[:, 0].copy(), pick[:, 1].copy()
        w = np.stack([self._valid(self.ix, self.iy, d) for d in range(4)], axis=1).astype(float)
        self.heading = self._choose(w, self._draws.u(every, 0, self._TURN))
        self.speed_mps = self._draw_speed(every, 0)
        self.t_dep = -self._draws.u(every, 0, self._INTO_BLOCK) * self.block / self.speed_mps
        self._set_initial()

    def _draw_speed(self, dev: NDArray[np.int64],
                    block: NDArray[np.int64] | int) -> NDArray[np.float64]:
        return self.v_lo + (self.v_hi - self.v_lo) * self._draws.u(dev, block, self._SPEED)

    def _valid(self, ix: NDArray, iy: NDArray, d: NDArray | int) -> NDArray[np.bool_]:
        jx, jy = ix + _DX[d], iy + _DY[d]
        inside = (jx >= 0) & (jx < self.nx) & (jy >= 0) & (jy < self.ny)
        ok = np.zeros(np.shape(jx), dtype=bool)
        ok[inside] = self.node_ok[jx[inside], jy[inside]]
        return ok

    @staticmethod
    def _choose(w: NDArray[np.float64], u: NDArray[np.float64]) -> NDArray[np.int64]:
        """Row-wise draw of a column index with weights ``w`` (rows with some weight > 0), from
        one uniform per row."""
        c = np.cumsum(w, axis=1)
        u = u * c[:, -1]
        return np.minimum((u[:, None] >= c).sum(axis=1), w.shape[1] - 1)

    def _turn(self, i: NDArray[np.int64]) -> None:
        h = self.heading[i]
        options = np.stack([h, (h + 1) % 4, (h + 3) % 4, (h + 2) % 4], axis=1)  # S, L, R, U
        valid = np.stack(
            [self._valid(self.ix[i], self.iy[i], options[:, k]) for k in range(4)], axis=1
        )
        p = self.p_turn
        w = valid * np.array([1.0 - p, p / 2, p / 2, 0.0])
        stuck = w.sum(axis=1) == 0
        w[stuck] = valid[stuck] * np.array([1.0, 1.0, 1.0, 0.0])
        stuck = w.sum(axis=1) == 0
        w[stuck] = valid[stuck] * np.array([0.0, 0.0, 0.0, 1.0])
        u = self._draws.u(i, self._block[i], self._TURN)
        self.heading[i] = options[np.arange(len(i)), self._choose(w, u)]

    def _at(self, t: float) -> NDArray[np.float64]:
        i = np.flatnonzero(self.t_dep + self.block / self.speed_mps <= t)
        while len(i):
            h = self.heading[i]
            self.t_dep[i] += self.block / self.speed_mps[i]
            self.ix[i] += _DX[h]
            self.iy[i] += _DY[h]
            self._block[i] += 1
            self._turn(i)
            self.speed_mps[i] = self._draw_speed(i, self._block[i])
            i = i[self.t_dep[i] + self.block / self.speed_mps[i] <= t]
        s = np.clip((t - self.t_dep) * self.speed_mps, 0.0, self.block)
        x = self.x_streets[self.ix] + _DX[self.heading] * s
        y = self.y_streets[self.iy] + _DY[self.heading] * s
        return np.c_[x, y, np.full(self.n_devices, self._z)]


class WaypointMobility(Mobility):
    """Devices flying 3-D polylines at a constant speed (drones). Device i follows path
    i mod P from arc length ``phase_m[i]``; with ``loop`` the path is closed (last point back to
    the first) and repeated, otherwise the device hovers at the last point. The arc length at
    time t is phase + v t, so a device passes each waypoint at (its arc length - phase) / v."""

    def __init__(
        self,
        paths: list[NDArray[np.float64]],
        n: int,
        speed_mps: float,
        loop: bool,
        phase: str,
        rng: np.random.Generator,
        update_s: float,
    ) -> None:
        super().__init__(n, update_s)
        self.speed, self.loop = float(speed_mps), bool(loop)
        starts, ends, seg_start, lengths = [], [], [], []
        off = 0.0
        for path in paths:
            path = np.asarray(path, dtype=float).reshape(-1, 3)
            if loop and len(path) > 1:
                path = np.vstack([path, path[:1]])
            if len(path) == 1:  # one point: hover there
                path = np.vstack([path, path])
            cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
            starts.append(path[:-1])
            ends.append(path[1:])
            seg_start.append(off + cum[:-1])
            lengths.append(cum[-1])
            off += cum[-1]
        self._a = np.vstack(starts)  # segment start points
        self._b = np.vstack(ends)  # segment end points
        self._s0 = np.concatenate(seg_start)  # global arc length at each segment start
        self._seg_len = np.linalg.norm(self._b - self._a, axis=1)
        lengths_a = np.array(lengths)
        first_seg = np.concatenate([[0], np.cumsum([len(s) for s in seg_start])[:-1]])
        last_seg = first_seg + np.array([len(s) for s in seg_start]) - 1
        path_off = np.concatenate([[0.0], np.cumsum(lengths_a)[:-1]])

        n_paths = len(paths)
        self.path_of = np.arange(n) % n_paths
        rank = np.arange(n) // n_paths
        per_path = np.bincount(self.path_of, minlength=n_paths)
        L = lengths_a[self.path_of]
        if phase == "spread":
            self.phase_m = rank / np.maximum(per_path[self.path_of], 1) * L
        elif phase == "random":
            self.phase_m = rng.uniform(size=n) * L
        else:
            self.phase_m = np.zeros(n)
        self._L = L
        self._off = path_off[self.path_of]
        self._first = first_seg[self.path_of]
        self._last = last_seg[self.path_of]
        self._set_initial()

    def moving_time_s(self, duration_s: float) -> NDArray[np.float64]:
        """Each device's time on the move within ``duration_s`` (s): a looped path's all of
        it, an open one's until it reaches its last point (where it hovers), a one-point
        path's none (a drone hovering at a rooftop: a drone operator's review counted such
        drones as moving at the fleet's speed)."""
        if self.speed <= 0.0:
            return np.zeros(self.n_devices)
        if self.loop:
            return np.where(self._L > 0.0, float(duration_s), 0.0)
        return np.clip((self._L - self.phase_m) / self.speed, 0.0, float(duration_s))

    def _at(self, t: float) -> NDArray[np.float64]:
        s = self.phase_m + self.speed * t
        if self.loop:
            with np.errstate(invalid="ignore", divide="ignore"):
                s = np.where(self._L > 0, np.mod(s, np.where(self._L > 0, self._L, 1.0)), 0.0)
        else:
            s = np.minimum(s, self._L)
        g = self._off + s
        k = np.searchsorted(self._s0, g, side="right") - 1
        k = np.clip(k, self._first, self._last)
        seg = self._seg_len[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(seg > 0, (g - self._s0[k]) / seg, 0.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        return self._a[k] + f * (self._b[k] - self._a[k])


class TraceMobility(Mobility):
    """Replay of a :class:`~airan.mobility.traces.Trace`: device i < number of trace devices
    follows trace device i (linear interpolation; its first position before its first sample,
    its last after its last); the others stay at ``rest_xy``. Trace time = t + ``start_s``.
    (Whether a device sends outside its samples is the engine's, from :meth:`in_trace_s`.)"""

    def __init__(
        self,
        trace: Trace,
        rest_xy: NDArray[np.float64],
        z_m: float,
        start_s: float,
        update_s: float,
    ) -> None:
        n = len(rest_xy)
        super().__init__(n, update_s)
        self.trace = trace
        self.m = min(n, len(trace.ids))
        self.start_s = float(start_s)
        self._T = trace.t_s
        xyz = trace.xyz_m.copy()
        xyz[:, 2] = np.where(np.isnan(xyz[:, 2]), z_m, xyz[:, 2])
        self._P = xyz
        self._lo = trace.start[: self.m].copy()
        self._hi = trace.end[: self.m] - 1
        self._cur = self._lo.copy()
        self._rest = np.c_[np.asarray(rest_xy, float)[self.m :], np.full(n - self.m, z_m)]
        self._set_initial()

    @property
    def n_moving(self) -> int:
        return self.m

    def in_trace_s(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each device's first and last sample in simulated time (s), shape (n,) each: -inf
        and inf for a device beyond the trace's, which is never out of it."""
        first = np.full(self.n_devices, -np.inf)
        last = np.full(self.n_devices, np.inf)
        first[: self.m] = self._T[self._lo] - self.start_s
        last[: self.m] = self._T[self._hi] - self.start_s
        return first, last

    def _at(self, t: float) -> NDArray[np.float64]:
        tt = t + self.start_s
        T, cur, hi = self._T, self._cur, self._hi
        i = np.flatnonzero((cur < hi) & (T[np.minimum(cur + 1, hi)] <= tt))
        while len(i):
            cur[i] += 1
            i = i[(cur[i] < hi[i]) & (T[np.minimum(cur[i] + 1, hi[i])] <= tt)]
        nxt = np.minimum(cur + 1, hi)
        dt = T[nxt] - T[cur]
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(dt > 0, (tt - T[cur]) / dt, 0.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        moving = self._P[cur] + f * (self._P[nxt] - self._P[cur])
        return np.vstack([moving, self._rest])
