"""Planar deployment geometry: hexagonal site grids, sector azimuths, bearings, distances.

Coordinates are metres in a local east/north plane (x east, y north). Azimuths and bearings
are degrees measured counter-clockwise from the +x axis, in [0, 360).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SECTOR_AZIMUTHS_DEG", "bearing_deg", "hex_grid", "pairwise_distance_2d"]

#: Boresight azimuths of the three sectors of a site (TR 36.814 Annex A.2.1.1 / TR 38.901
#: clause 7.8 three-sector layout), degrees counter-clockwise from +x. With :func:`hex_grid`
#: each boresight points at a first-ring neighbour site.
SECTOR_AZIMUTHS_DEG: tuple[float, float, float] = (30.0, 150.0, 270.0)


def hex_grid(rings: int, isd_m: float) -> NDArray[np.float64]:
    """Site centres of a hexagonal layout, shape (n_sites, 2), metres.

    ``rings`` rings around a centre site at (0, 0): n_sites = 1 + 3 rings (rings + 1), i.e.
    1, 7, 19 for rings 0, 1, 2 (the TR 38.901 clause 7.8 / TR 36.814 19-site layout for
    rings = 2). Adjacent sites are exactly ``isd_m`` apart (inter-site distance). First-ring
    neighbours lie at 30, 90, ..., 330 deg, so the sector boresights in
    :data:`SECTOR_AZIMUTHS_DEG` point at neighbour sites as in the 3GPP layout. Row 0 is the
    centre site; rows are ordered by ring, then by angle counter-clockwise from +x.
    """
    if rings < 0:
        raise ValueError(f"rings must be >= 0, got {rings}")
    idx = np.arange(-rings, rings + 1)
    q, r = (a.ravel() for a in np.meshgrid(idx, idx, indexing="ij"))
    ring = np.maximum(np.maximum(np.abs(q), np.abs(r)), np.abs(q + r))
    keep = ring <= rings
    q, r, ring = q[keep], r[keep], ring[keep]
    # Axial basis vectors 60 deg apart, a1 at 30 deg and a2 at 90 deg, length isd; the six
    # neighbours are +-a1, +-a2, +-(a1 - a2) and the ring index is max(|q|, |r|, |q + r|).
    a1 = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    a2 = np.array([0.0, 1.0])
    xy = isd_m * (q[:, None] * a1[None, :] + r[:, None] * a2[None, :])
    ang = np.round(bearing_deg(xy[:, 0], xy[:, 1]), 6)
    order = np.lexsort((ang, ring))
    out = np.asarray(xy[order], dtype=np.float64)
    out[np.abs(out) < 1e-9 * max(isd_m, 1.0)] = 0.0
    return out


def bearing_deg(dx: ArrayLike, dy: ArrayLike) -> NDArray[np.float64]:
    """Angle of vector (dx, dy) in degrees, counter-clockwise from +x, in [0, 360).

    Same convention as :data:`SECTOR_AZIMUTHS_DEG`. Inputs broadcast; (0, 0) gives 0.
    """
    b = np.degrees(np.arctan2(np.asarray(dy, dtype=np.float64), np.asarray(dx, dtype=np.float64)))
    b = np.mod(b, 360.0)
    return np.where(b >= 360.0, 0.0, b)


def pairwise_distance_2d(a_xy: ArrayLike, b_xy: ArrayLike) -> NDArray[np.float64]:
    """Euclidean distances between point sets, metres.

    ``a_xy`` shape (n, 2), ``b_xy`` shape (m, 2) (extra trailing columns such as z are
    ignored); returns shape (n, m).
    """
    a = np.asarray(a_xy, dtype=np.float64).reshape(-1, np.shape(a_xy)[-1])
    b = np.asarray(b_xy, dtype=np.float64).reshape(-1, np.shape(b_xy)[-1])
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def hilbert_order(xy: NDArray[np.float64], bits: int = 16) -> NDArray[np.int64]:
    """The indices that sort points ``xy`` (shape (n, 2), any unit) along a Hilbert curve over
    their bounding box on a 2^bits grid: points close in the order are close in the plane, so
    every k-th of them spreads over the area (Hilbert 1891; the iterative index of Warren,
    *Hacker's Delight*, 16-2). Ties keep their order."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) < 2:
        return np.arange(len(xy), dtype=np.int64)
    lo = xy.min(axis=0)
    span = float(max((xy.max(axis=0) - lo).max(), 1e-12))
    side = (1 << bits) - 1
    x = np.round((xy[:, 0] - lo[0]) / span * side).astype(np.int64)
    y = np.round((xy[:, 1] - lo[1]) / span * side).astype(np.int64)
    d = np.zeros(len(xy), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant so that the curve inside it runs as the whole one does
        flip = ~ry
        turn = flip & rx
        x = np.where(turn, side - x, x)
        y = np.where(turn, side - y, y)
        x, y = np.where(flip, y, x), np.where(flip, x, y)
        s >>= 1
    return np.argsort(d, kind="stable").astype(np.int64)
