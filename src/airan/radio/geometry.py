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
