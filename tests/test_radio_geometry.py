"""Hexagonal grid, bearings, pairwise distances."""

from math import sqrt

import numpy as np
import pytest

from airan.radio.geometry import SECTOR_AZIMUTHS_DEG, bearing_deg, hex_grid, pairwise_distance_2d


@pytest.mark.parametrize(("rings", "n"), [(0, 1), (1, 7), (2, 19), (3, 37)])
def test_hex_grid_counts_and_spacing(rings, n):
    isd = 500.0
    xy = hex_grid(rings, isd)
    assert xy.shape == (n, 2)
    np.testing.assert_allclose(xy[0], [0.0, 0.0])
    np.testing.assert_allclose(xy.mean(axis=0), [0.0, 0.0], atol=1e-9)
    if n > 1:
        d = pairwise_distance_2d(xy, xy)
        np.fill_diagonal(d, np.inf)
        np.testing.assert_allclose(d.min(axis=1), isd)
        # ring 1 sites are all exactly isd from the centre
        np.testing.assert_allclose(np.hypot(*xy[1:7].T), isd)


def test_hex_grid_orientation():
    xy = hex_grid(1, 200.0)
    ang = bearing_deg(xy[1:, 0], xy[1:, 1])
    np.testing.assert_allclose(np.sort(ang), [30, 90, 150, 210, 270, 330], atol=1e-9)
    # the three sector boresights point at first-ring neighbours
    for az in SECTOR_AZIMUTHS_DEG:
        assert np.any(np.isclose(ang, az))
    # ring 2: 6 corners at 2*isd and 6 edge sites at sqrt(3)*isd
    r = np.sort(np.hypot(*hex_grid(2, 1.0)[7:].T))
    np.testing.assert_allclose(r, [sqrt(3)] * 6 + [2.0] * 6)


def test_bearing():
    out = bearing_deg([1, 0, -1, 0, 1, 1e-20], [0, 1, 0, -1, -1, -1e-30])
    np.testing.assert_allclose(out[:5], [0, 90, 180, 270, 315])
    assert np.all((out >= 0) & (out < 360))
    assert SECTOR_AZIMUTHS_DEG == (30.0, 150.0, 270.0)


def test_pairwise_distance():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [6.0, 8.0], [3.0, 0.0]])
    np.testing.assert_allclose(pairwise_distance_2d(a, b), [[0, 10, 3], [5, 5, 4]])
    assert pairwise_distance_2d(a, b[:0]).shape == (2, 0)


def test_hilbert_order_walks_a_grid_one_neighbour_at_a_time() -> None:
    """Along a Hilbert curve each point of a 2^k grid is next to the one before (the curve's
    defining property), starting at a corner: on 2 x 2, (0,0), (0,1), (1,1), (1,0)."""
    from airan.radio.geometry import hilbert_order

    square = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert square[hilbert_order(square, bits=1)].tolist() == [[0, 0], [0, 1], [1, 1], [1, 0]]
    g = np.array([(x, y) for x in range(16) for y in range(16)], dtype=float) * 7.5 - 40.0
    walk = g[hilbert_order(g, bits=4)]
    steps = np.abs(np.diff(walk, axis=0)).sum(axis=1)
    assert len(set(map(tuple, walk))) == 256 and np.allclose(steps, 7.5)
