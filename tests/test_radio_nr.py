"""NR numerology, N_RB table, TDD parsing, rate arithmetic (TS 38.211/38.101-1/38.306)."""

import numpy as np
import pytest

from airan.radio.nr import (
    MAX_SE_64QAM,
    MAX_SE_256QAM,
    OVERHEAD_DL_FR1,
    OVERHEAD_UL_FR1,
    SCS_KHZ,
    bits_per_prb_per_slot,
    n_prb,
    parse_tdd_pattern,
    peak_rate_bps,
    slot_duration_s,
    thermal_noise_dbm,
)


def test_numerology():
    assert SCS_KHZ == {0: 15, 1: 30, 2: 60, 3: 120, 4: 240}
    assert [slot_duration_s(mu) for mu in range(5)] == pytest.approx(
        [1e-3, 0.5e-3, 0.25e-3, 0.125e-3, 0.0625e-3]
    )
    with pytest.raises(ValueError):
        slot_duration_s(5)


@pytest.mark.parametrize(
    ("bw", "mu", "expected"),
    [
        (100, 1, 273),
        (20, 0, 106),
        (50, 1, 133),
        (40, 1, 106),
        (20, 1, 51),
        (10, 0, 52),
        (100, 2, 135),
        (5, 0, 25),
        (50, 0, 270),
        (60, 1, 162),
        (100.0, 1, 273),
    ],
)
def test_n_prb_table(bw, mu, expected):
    assert n_prb(bw, mu) == expected


@pytest.mark.parametrize(("bw", "mu"), [(100, 0), (5, 2), (33, 1), (20.5, 0), (100, 4)])
def test_n_prb_invalid(bw, mu):
    with pytest.raises(ValueError, match=f"mu={mu}"):
        n_prb(bw, mu)


def test_parse_tdd_pattern():
    out = parse_tdd_pattern("DDDSU")
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(parse_tdd_pattern("ddsuu"), [0, 0, 1, 2, 2])
    for bad in ("", "DDXU", "DD SU", "F"):
        with pytest.raises(ValueError):
            parse_tdd_pattern(bad)


def test_bits_per_prb_per_slot():
    # 7.4063 * 12 * 14 * (1 - 0.14) * 2
    assert float(bits_per_prb_per_slot(7.4063, 0.14, 2)) == pytest.approx(
        7.4063 * 12 * 14 * 0.86 * 2
    )
    out = bits_per_prb_per_slot(np.array([[0.0, 1.0], [2.0, 3.0]]), 0.08)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, np.array([[0, 1], [2, 3]]) * 12 * 14 * 0.92)


def test_peak_rate_matches_38306():
    # 4 layers * 8 bits * 948/1024 * 273 * 12 / (1e-3 / (14 * 2)) * (1 - 0.14)
    expected = 4 * 8 * (948 / 1024) * 273 * 12 / (1e-3 / 28) * 0.86
    r = peak_rate_bps(273, 1, 4)
    assert r == pytest.approx(expected, rel=1e-12)
    assert r == pytest.approx(2.337e9, rel=1e-3)
    # UL, 1 layer, 64QAM
    expected_ul = 1 * 6 * (948 / 1024) * 273 * 12 / (1e-3 / 28) * 0.92
    assert peak_rate_bps(273, 1, 1, qm=6, overhead=OVERHEAD_UL_FR1) == pytest.approx(expected_ul)
    # one slot of peak rate equals bits_per_prb_per_slot at the 256QAM max SE (8 * 948/1024)
    per_slot = peak_rate_bps(273, 1, 4) * slot_duration_s(1)
    se = 8 * 948 / 1024
    assert per_slot == pytest.approx(float(bits_per_prb_per_slot(se, 0.14, 4)) * 273)


def test_thermal_noise():
    # 100 MHz, NF 5 dB: -174 + 80 + 5
    assert thermal_noise_dbm(100e6, 5.0) == pytest.approx(-89.0)
    assert isinstance(thermal_noise_dbm(100e6, 5.0), float)
    out = thermal_noise_dbm(np.array([20e6, 100e6]), 7.0)
    np.testing.assert_allclose(out, [-174 + 10 * np.log10(20e6) + 7, -174 + 80 + 7])


def test_constants():
    assert OVERHEAD_DL_FR1 == 0.14
    assert OVERHEAD_UL_FR1 == 0.08
    assert MAX_SE_256QAM == 7.4063
    assert MAX_SE_64QAM == 5.5547
