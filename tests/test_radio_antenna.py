"""TR 38.901 Table 7.3-1 sector element pattern."""

import numpy as np
import pytest

from airan.radio.antenna import column_gain_dbi, omni_gain_dbi, sector_gain_dbi


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


# ---- a vertical column of elements, electrically tilted (TR 38.901 7.3, 7.8.1) ----------------
def test_column_peaks_at_its_tilt_with_the_array_gain_over_the_element() -> None:
    """The calibration antenna of TR 38.901 7.8.1 (10 elements, 0.5 wavelength, tilt 12 deg)
    peaks at 102 deg zenith with the untilted element's gain there plus 10 log10(10)."""
    peak = float(column_gain_dbi(0.0, 102.0, tilt_deg=12.0))
    assert peak == pytest.approx(8.0 - 12 * (12 / 65) ** 2 + 10.0)
    around = column_gain_dbi(0.0, np.linspace(95.0, 109.0, 141), tilt_deg=12.0)
    assert float(around.max()) == pytest.approx(peak, abs=0.05)


def test_column_half_power_beamwidth_and_first_null_follow_the_array_factor() -> None:
    """Broadside (tilt 0), M = 10 at 0.5 wavelength: |AF|^2 = sin^2(M psi/2) / (M sin^2(psi/2))
    falls to half at psi = 2.783 / M (cos theta = -0.0886 for M d = 5: 5.08 deg off the
    horizon) and to zero at psi = 2 pi / M (cos theta = -0.2: 11.54 deg)."""
    element = sector_gain_dbi(0.0, 95.08)
    assert float(column_gain_dbi(0.0, 95.08) - element) == pytest.approx(
        10.0 - 3.01, abs=0.05)  # the array's 10 dB, less 3 dB
    null_zenith = float(np.degrees(np.arccos(-0.2)))
    assert float(column_gain_dbi(0.0, null_zenith)) == pytest.approx(8.0 - 30.0)  # floored


def test_a_column_of_one_is_the_tilted_element() -> None:
    az = np.linspace(-180, 180, 37)[:, None]
    zen = np.linspace(0, 180, 19)[None, :]
    assert np.array_equal(column_gain_dbi(az, zen, tilt_deg=12.0, vertical_elements=1),
                          sector_gain_dbi(az, zen, tilt_deg=12.0))


def test_a_scenario_with_a_column_per_port_gains_what_the_pattern_says() -> None:
    """radio.gnb_vertical_elements: 10 changes a device's path gain to each sector by exactly
    the column's gain over the tilted element at that device's angles (same LOS and shadowing
    draws), and a device on a sector's boresight at the tilt angle gains ~9.6 dB."""
    from one_cell import one_cell_site

    from airan.engine import Engine
    from airan.radio import geometry
    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=3)
    d["fleets"][0]["count"] = 50
    az0 = np.radians(geometry.SECTOR_AZIMUTHS_DEG[0])
    d2d = (25.0 - 1.5) / np.tan(np.radians(12.0))  # 102 deg zenith from a 25 m mast
    gains = {}
    for m in (1, 10):
        d["radio"]["gnb_vertical_elements"] = m
        w = Engine(scenario_from_dict(d), duration_s=0.01).world
        xy = np.array([[d2d * np.cos(az0), d2d * np.sin(az0)]])
        cells = np.arange(3)[None, :]
        gains[m] = w.device_radio.gains(xy, np.array([1.5]), cells)
    ratio_db = 10 * np.log10(gains[10] / gains[1])[0]
    assert ratio_db[0] == pytest.approx(8.0 - 12 * (12 / 65) ** 2 + 10.0 - 8.0, abs=1e-6)
    phi = np.array([0.0, -120.0, 120.0])  # the other two sectors see it 120 deg off
    expected = column_gain_dbi(phi, 102.0, tilt_deg=12.0) - sector_gain_dbi(
        phi, 102.0, tilt_deg=12.0)
    assert ratio_db == pytest.approx(expected, abs=1e-6)
