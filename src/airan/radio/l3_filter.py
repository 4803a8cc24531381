"""Layer-3 filtering of a UE's cell measurements (TS 38.331 5.5.3.2), which event A3 compares.

A UE filters each cell's RSRP before it evaluates a reporting criterion:
``F_n = (1 - a) F_{n-1} + a M_n`` with ``a = 1 / 2^(k / 4)``, ``k`` the ``filterCoefficient``
of its ``quantityConfig`` (default fc4: ``a = 1/2``), in the logarithmic domain (dBm) where
the criterion is (``F_0`` the first measurement; ``k = 0``: no filtering). The coefficient
assumes one sample per L1 measurement period, :data:`MEASUREMENT_PERIOD_S`; a UE sampling
at another rate adapts it so that the filter's time characteristics are kept:
``a' = 1 - (1 - a)^(T / period)`` for a sample every ``T`` (:func:`per_sample_factor`).

The engine samples every position update and holds a link's measurement between the radio
steps that re-evaluate it, so :func:`filter_db` folds the held samples in at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: TS 38.133 9.2.5.1's intra-frequency SSB measurement period in FR1 without DRX:
#: max(200 ms, ceil(5 Kp) x SMTC period), 200 ms at the 20 ms SMTC period (Kp = 1). The FR1
#: figure is taken for every band (FR2's receive-beam sweep lengthens it: not modelled).
MEASUREMENT_PERIOD_S = 0.2

#: TS 38.331's FilterCoefficient values (fc0 ... fc19)
FILTER_COEFFICIENTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 17, 19)


def filter_factor(k: int) -> float:
    """The filter's weight of a new sample, ``a = 1 / 2^(k / 4)`` (TS 38.331 5.5.3.2): 1 at
    fc0 (no filtering), 1/2 at the default fc4."""
    return float(2.0 ** (-k / 4.0))


def per_sample_factor(k: int, sample_period_s: NDArray[np.float64] | float
                      ) -> NDArray[np.float64]:
    """The weight of a new sample taken every ``sample_period_s`` (s) that keeps the filter's
    time characteristics at :data:`MEASUREMENT_PERIOD_S`: ``1 - (1 - a)^(T / period)``."""
    keep = (1.0 - filter_factor(k)) ** (np.asarray(sample_period_s, dtype=float)
                                        / MEASUREMENT_PERIOD_S)
    return np.asarray(1.0 - keep, dtype=float)


def filter_db(f_db: NDArray[np.float64], held_db: NDArray[np.float64],
              m_db: NDArray[np.float64], samples: NDArray[np.float64],
              weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """The filtered values (dB) after ``samples`` samples since ``f_db`` was: ``samples - 1``
    of the held measurement ``held_db``, then the new one ``m_db``, each weighed by
    ``weight`` (:func:`per_sample_factor`; shapes broadcast: ``f_db``, ``held_db``, ``m_db``
    are [devices, cells], ``samples`` and ``weight`` [devices, 1]).

    A cell with no earlier value (``-inf`` in ``f_db`` or ``held_db``: newly listed, or back on
    the air) starts from its measurement, as ``F_0 = M_1``; one not heard now (``m_db`` -inf:
    off the air) is forgotten."""
    keep = 1.0 - weight
    with np.errstate(invalid="ignore"):
        before = held_db + (f_db - held_db) * keep ** np.maximum(samples - 1.0, 0.0)
        out = keep * before + weight * m_db
    known = np.isfinite(f_db) & np.isfinite(held_db) & np.isfinite(m_db)
    return np.where(known, out, m_db)
