"""SINR and attenuated-Shannon spectral efficiency."""

import math
from math import log2

import numpy as np
import pytest

from airan.radio import scheduling
from airan.radio.link import (
    dbm_to_mw,
    mw_to_dbm,
    pusch_prb_power_mw,
    sinr_db,
    spectral_efficiency,
)


def test_power_conversions():
    np.testing.assert_allclose(dbm_to_mw([0.0, 30.0, -10.0]), [1.0, 1000.0, 0.1])
    np.testing.assert_allclose(mw_to_dbm([1.0, 1000.0, 0.1]), [0.0, 30.0, -10.0])
    assert float(mw_to_dbm(0.0)) == -np.inf


def test_pusch_power_per_prb_follows_ts_38_213():
    # P0 + 10 log10(2^mu) + alpha * PL: -85 + 3.0103 + 0.8 * 100 = -1.9897 dBm per PRB at 30 kHz
    p = pusch_prb_power_mw(-85.0, 1, 1e10, 0.8)
    assert float(mw_to_dbm(p)) == pytest.approx(-85.0 + 10 * np.log10(2.0) + 80.0, abs=1e-9)
    # 15 kHz: no SCS term; full compensation: 1 dB more path loss, 1 dB more power
    assert float(mw_to_dbm(pusch_prb_power_mw(-100.0, 0, 1e9, 1.0))) == pytest.approx(-10.0)
    pl = np.array([[1e8, 1e9], [1e10, 1e11]])
    assert pusch_prb_power_mw(-85.0, 1, pl, 0.8).shape == (2, 2)


def test_sinr_db():
    # S = 1e-6 mW, I = 1e-7, N = 1e-7 -> 10 log10(1e-6 / 2e-7) = 10 log10(5)
    assert float(sinr_db(1e-6, 1e-7, 1e-7)) == pytest.approx(10 * np.log10(5.0))
    out = sinr_db(np.ones((3, 1)), np.zeros((1, 4)), 0.01)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, 20.0)


def test_se_values():
    assert float(spectral_efficiency(20.0)) == pytest.approx(0.75 * log2(1 + 100 / 1.25))
    assert float(spectral_efficiency(0.0)) == pytest.approx(0.75 * log2(1 + 1 / 1.25))
    assert float(spectral_efficiency(-10.0)) == pytest.approx(0.75 * log2(1 + 0.1 / 1.25))
    assert float(spectral_efficiency(-10.01)) == 0.0
    assert float(spectral_efficiency(-50.0)) == 0.0


def test_se_cap_and_monotone():
    x = np.linspace(-30.0, 60.0, 2001)
    se = spectral_efficiency(x)
    assert se.shape == x.shape
    assert np.all(np.diff(se) >= 0.0)
    assert se.max() == 7.4063
    assert float(spectral_efficiency(50.0)) == 7.4063
    assert float(spectral_efficiency(50.0, max_se=5.5547)) == 5.5547
    assert np.all(se[x < -10.0] == 0.0)


def test_se_parameters_and_shape():
    # plain Shannon: attenuation 1, gap 0 dB
    se = spectral_efficiency(
        np.array([[10.0], [20.0]]), attenuation=1.0, sinr_gap_db=0.0, max_se=100.0
    )
    np.testing.assert_allclose(se, [[log2(11.0)], [log2(101.0)]])
    assert float(spectral_efficiency(-12.0, min_sinr_db=-15.0)) > 0.0


def test_mlwdf_delay_weight_is_andrews_a_j() -> None:
    """a_j = -ln(delta_j) / T_j (Andrews et al. 2001): a 99% target within 100 ms gives
    ln(100) / 0.1 s = 46.05/s; a target of 1 is capped at six nines."""
    w = scheduling.mlwdf_delay_weight([0.99, 0.9, 1.0, 0.0], [0.1, 2.0, 0.05, 0.1])
    assert w[:3] == pytest.approx([math.log(100) / 0.1, math.log(10) / 2.0,
                                   6 * math.log(10) / 0.05])
    assert 0.0 < w[3] < 1e-4  # no target: last, but still ranked by delay and PF
