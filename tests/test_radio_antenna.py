"""TR 38.901 Table 7.3-1 sector element pattern."""

import numpy as np
import pytest

from airan.radio.antenna import omni_gain_dbi, sector_gain_dbi


def test_boresight_and_half_power():
    assert float(sector_gain_dbi(0.0, 90.0)) == pytest.approx(8.0)
    # A_H = -12 * (32.5/65)^2 = -3 dB
    assert float(sector_gain_dbi(32.5, 90.0)) == pytest.approx(8.0 - 3.0)
    assert float(sector_gain_dbi(-32.5, 90.0)) == pytest.approx(8.0 - 3.0)
    # vertical: 32.5 deg below the horizon
    assert float(sector_gain_dbi(0.0, 122.5)) == pytest.approx(5.0)


def test_floor_and_wrap():
    assert float(sector_gain_dbi(180.0, 90.0)) == pytest.approx(8.0 - 30.0)
    assert float(sector_gain_dbi(120.0, 0.0)) == pytest.approx(8.0 - 30.0)
    # 350 deg is -10 deg: A_H = -12 (10/65)^2
    assert float(sector_gain_dbi(350.0, 90.0)) == pytest.approx(8.0 - 12 * (10 / 65) ** 2)
    # combined: A = -min(-(A_V + A_H), 30) + 8 with A_H = -12 (40/65)^2, A_V = -12 (30/65)^2
    expected = -min(12 * (40 / 65) ** 2 + 12 * (30 / 65) ** 2, 30.0) + 8.0
    assert float(sector_gain_dbi(40.0, 120.0)) == pytest.approx(expected)


def test_tilt_convention():
    # positive tilt: beam centre at theta = 90 + tilt (below the horizon)
    assert float(sector_gain_dbi(0.0, 100.0, tilt_deg=10.0)) == pytest.approx(8.0)
    assert float(sector_gain_dbi(0.0, 90.0, tilt_deg=10.0)) == pytest.approx(
        8.0 - 12 * (10 / 65) ** 2
    )


def test_broadcast_and_omni():
    az = np.linspace(-180, 180, 37)[:, None]
    zen = np.linspace(0, 180, 19)[None, :]
    g = sector_gain_dbi(az, zen, tilt_deg=6.0)
    assert g.shape == (37, 19)
    assert np.all((g >= -22.0 - 1e-12) & (g <= 8.0 + 1e-12))
    o = omni_gain_dbi(az, zen, tilt_deg=6.0)
    assert o.shape == (37, 19)
    assert np.all(o == 0.0)
