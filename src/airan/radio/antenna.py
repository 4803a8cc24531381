"""Base-station antenna patterns: the element of TR 38.901 clause 7.3 Table 7.3-1, and a panel
of such elements stacked in a vertical column with an electrical downtilt (clause 7.3; the
large-scale calibration of clause 7.8.1 uses 10 of them, 0.5 wavelength apart, tilted 12 deg
outdoors and 20 deg indoors).

Angles in degrees. ``azimuth_offset_deg`` is the horizontal angle between the direction to
the UE and the sector boresight (any real value; wrapped to [-180, 180)). ``zenith_deg`` is
the zenith angle theta of the direction to the UE: 0 = straight up, 90 = horizon,
180 = straight down. Gains in dBi.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["column_gain_dbi", "column_half_power_deg", "omni_gain_dbi", "sector_gain_dbi",
           "wrap_deg"]


def wrap_deg(angle_deg: ArrayLike) -> NDArray[np.float64]:
    """Wrap angles (degrees, any shape) to [-180, 180)."""
    a = np.asarray(angle_deg, dtype=np.float64)
    return (a + 180.0) % 360.0 - 180.0


def sector_gain_dbi(
    azimuth_offset_deg: ArrayLike,
    zenith_deg: ArrayLike,
    *,
    tilt_deg: ArrayLike = 0.0,
    hpbw_deg: float = 65.0,
    max_att_db: float = 30.0,
    sla_v_db: float = 30.0,
    max_gain_dbi: float = 8.0,
) -> NDArray[np.float64]:
    """3GPP sector element gain in dBi, TR 38.901 Table 7.3-1.

    A_H(phi)   = -min(12 (phi / phi_3dB)^2, A_max)
    A_V(theta) = -min(12 ((theta - 90 - tilt) / theta_3dB)^2, SLA_V)
    A(theta, phi) = -min(-(A_V + A_H), A_max) + G_max

    with phi_3dB = theta_3dB = ``hpbw_deg`` (65 deg), A_max = ``max_att_db`` (30 dB),
    SLA_V = ``sla_v_db`` (30 dB), G_max = ``max_gain_dbi`` (8 dBi). phi is
    ``azimuth_offset_deg`` wrapped to [-180, 180); theta is ``zenith_deg`` (90 = horizon).

    Tilt sign: positive ``tilt_deg`` is a downtilt, pointing the beam below the horizon,
    i.e. the vertical beam centre is at theta = 90 + tilt. (This is the electrical/mechanical
    tilt applied to the element pattern directly; TR 38.901 models it via the rotation of
    clause 7.1.3, which for small tilts is equivalent.)

    All angle inputs broadcast; returns float64 array of the broadcast shape, in
    [G_max - A_max, G_max].
    """
    phi = wrap_deg(azimuth_offset_deg)
    theta = np.asarray(zenith_deg, dtype=np.float64)
    tilt = np.asarray(tilt_deg, dtype=np.float64)
    a_h = -np.minimum(12.0 * (phi / hpbw_deg) ** 2, max_att_db)
    a_v = -np.minimum(12.0 * ((theta - 90.0 - tilt) / hpbw_deg) ** 2, sla_v_db)
    return np.asarray(-np.minimum(-(a_v + a_h), max_att_db) + max_gain_dbi, dtype=np.float64)


def column_gain_dbi(
    azimuth_offset_deg: ArrayLike,
    zenith_deg: ArrayLike,
    *,
    tilt_deg: ArrayLike = 0.0,
    vertical_elements: int = 10,
    spacing_wavelengths: float = 0.5,
) -> NDArray[np.float64]:
    """Gain in dBi of a column of ``vertical_elements`` (M) elements of Table 7.3-1, spaced
    ``spacing_wavelengths`` (d_V) apart and fed with the weights that steer its beam to the
    electrical downtilt ``tilt_deg`` (TR 38.901 7.3; the calibration antenna of 7.8.1):

    G = A_E(theta, phi) + 10 log10 |AF(theta)|^2,
    |AF|^2 = (1/M) |sum_m exp(j 2 pi (m - 1) d_V (cos theta - cos theta_t))|^2
           = sin^2(M psi / 2) / (M sin^2(psi / 2)),   psi = 2 pi d_V (cos theta - cos theta_t)

    with theta_t = 90 + ``tilt_deg``. The element itself is not tilted (the tilt is electrical),
    the beam peaks at A_E + 10 log10 M (18 dBi less the element's 0.4 dB at 12 deg for the
    calibration antenna), and the array's nulls are floored at the element's own floor
    (G_max - A_max, -22 dBi). With M = 1 it is the element alone, tilted by ``tilt_deg``
    (:func:`sector_gain_dbi`). Angles and shapes as :func:`sector_gain_dbi`.
    """
    m = int(vertical_elements)
    if m == 1:
        return sector_gain_dbi(azimuth_offset_deg, zenith_deg, tilt_deg=tilt_deg)
    element = sector_gain_dbi(azimuth_offset_deg, zenith_deg)
    theta = np.radians(np.asarray(zenith_deg, dtype=np.float64))
    theta_t = np.radians(90.0 + np.asarray(tilt_deg, dtype=np.float64))
    half_psi = np.pi * spacing_wavelengths * (np.cos(theta) - np.cos(theta_t))
    den = m * np.sin(half_psi) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        af2 = np.where(den > 1e-12, np.sin(m * half_psi) ** 2 / np.where(den > 1e-12, den, 1.0),
                       float(m))  # psi -> 0 (mod 2 pi): the main beam, M
        gain = element + 10.0 * np.log10(af2)
    return np.asarray(np.maximum(gain, 8.0 - 30.0), dtype=np.float64)


def column_half_power_deg(vertical_elements: int, spacing_wavelengths: float = 0.5,
                          tilt_deg: float = 0.0) -> float:
    """Half the vertical half-power beamwidth (deg) of :func:`column_gain_dbi`'s beam: the
    angle above its peak (steered to ``tilt_deg`` below the horizon) where it is 3 dB down,
    found by bisection.
    10 elements 0.5 wavelength apart: 5.04 deg (the array factor alone: 0.886 / (M d) rad over
    two, 5.08 deg); 1 element: 32.5 deg, Table 7.3-1's 65 deg over two."""
    peak = 90.0 + tilt_deg

    def down_db(off: float) -> float:
        return float(column_gain_dbi(0.0, peak, tilt_deg=tilt_deg,
                                     vertical_elements=vertical_elements,
                                     spacing_wavelengths=spacing_wavelengths)
                     - column_gain_dbi(0.0, peak - off, tilt_deg=tilt_deg,
                                       vertical_elements=vertical_elements,
                                       spacing_wavelengths=spacing_wavelengths))
    lo, hi = 0.0, 90.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if down_db(mid) < 3.0 else (lo, mid)
    return (lo + hi) / 2


def omni_gain_dbi(
    azimuth_offset_deg: ArrayLike, zenith_deg: ArrayLike, **_ignored: object
) -> NDArray[np.float64]:
    """Isotropic 0 dBi antenna, for indoor ceiling-mounted cells (a modelling choice).

    Accepts (and ignores) the keyword arguments of :func:`sector_gain_dbi` so that both can be
    called the same way. Returns zeros of the broadcast shape of the two angle arrays.
    """
    shape = np.broadcast_shapes(np.shape(azimuth_offset_deg), np.shape(zenith_deg))
    return np.zeros(shape, dtype=np.float64)
