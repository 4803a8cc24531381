"""The compiled kernel's scalar physics equals the pure radio and compute functions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airan.compute import roofline
from airan.engine import kernel as K
from airan.radio import link


@pytest.mark.parametrize("min_sinr_db", [-10.0, -5.0])
def test_kernel_spectral_efficiency_equals_radio_link(min_sinr_db: float) -> None:
    sinr_db = np.linspace(-20.0, 40.0, 601)
    expected = link.spectral_efficiency(sinr_db, min_sinr_db=min_sinr_db)
    got = [K.spectral_eff(10.0 ** (x / 10.0), 10.0 ** (min_sinr_db / 10.0)) for x in sinr_db]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("kind", "p1", "p2"),
    [
        (roofline.DIST_EXPONENTIAL, 1.0, 0.0),
        (roofline.DIST_LOGNORMAL, -0.5 * math.log1p(0.3**2), math.sqrt(math.log1p(0.3**2))),
        (roofline.DIST_UNIFORM, 0.5, 1.5),
    ],
)
def test_kernel_service_factor_has_unit_mean(kind: int, p1: float, p2: float) -> None:
    rng = np.array([12345], dtype=np.uint64)
    draws = np.array([K.service_factor(kind, p1, p2, rng) for _ in range(100_000)])
    assert draws.mean() == pytest.approx(1.0, abs=0.01)
    assert K.service_factor(roofline.DIST_DETERMINISTIC, 0.0, 0.0, rng) == 1.0
