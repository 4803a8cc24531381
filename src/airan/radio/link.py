"""Link-level abstraction: power unit conversions, SINR and SINR-to-spectral-efficiency.

SINR to SE: attenuated Shannon bound (Mogensen et al., "LTE capacity compared to the Shannon
bound", IEEE VTC 2007), capped at the highest spectral efficiency of the MCS table
(TS 38.214 Table 5.1.3.1-2, MCS 27 = 7.4063 bit/s/Hz for 256QAM).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airan.radio.nr import MAX_SE_256QAM

__all__ = [
    "dbm_to_mw",
    "dl_precoding_gain",
    "dl_rank_adapted_se",
    "mw_to_dbm",
    "pusch_prb_power_mw",
    "sinr_db",
    "spectral_efficiency",
    "ul_combining_gain",
]


def dbm_to_mw(dbm: ArrayLike) -> NDArray[np.float64]:
    """Power dBm -> mW: 10**(dBm/10). Any shape in, same shape out."""
    return np.power(10.0, np.asarray(dbm, dtype=np.float64) / 10.0)


def mw_to_dbm(mw: ArrayLike) -> NDArray[np.float64]:
    """Power mW -> dBm: 10 log10(mW). Any shape in, same shape out (0 mW -> -inf)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(mw, dtype=np.float64))


def pusch_prb_power_mw(
    p0_dbm: ArrayLike, numerology: int, path_loss_lin: ArrayLike, alpha: ArrayLike
) -> NDArray[np.float64]:
    """Open-loop PUSCH transmit power of one PRB (mW), TS 38.213 clause 7.1.1:
    P_O_PUSCH + 10 log10(2^mu * M_RB) + alpha * PL with M_RB = 1, no closed-loop correction
    (f = 0) and no transport-format term (Delta_TF = 0). ``path_loss_lin`` is the linear
    downlink path loss estimate (>= 1), any shape; the UE's total over its PRBs is capped at
    P_CMAX by the caller. Example: P0 -85 dBm, mu 1, PL 100 dB, alpha 0.8 -> -2 dBm per PRB.
    ``p0_dbm`` and ``alpha`` may be arrays (each UE's own), broadcast with the path loss.
    """
    return np.asarray(
        dbm_to_mw(np.asarray(p0_dbm, dtype=np.float64)) * 2.0**numerology
        * np.asarray(path_loss_lin, dtype=np.float64) ** np.asarray(alpha, dtype=np.float64),
        dtype=np.float64)


def _zero_forcing_gain(n_antennas: int, n_layers: int, side: str) -> float:
    """(N - L + 1) / L: the array gain per layer that zero forcing keeps over ``n_antennas``
    for ``n_layers`` layers, with the power split over the layers."""
    if not 1 <= n_layers <= n_antennas:
        raise ValueError(f"{n_layers} layers need at least as many {side} antennas "
                         f"(have {n_antennas})")
    return (n_antennas - n_layers + 1) / n_layers


def ul_combining_gain(n_rx: int, n_layers: int = 1) -> float:
    """Uplink SINR gain per layer of a cell with ``n_rx`` receive antennas that separates
    ``n_layers`` spatial layers (linear): (n_rx - n_layers + 1) / n_layers.

    A zero-forcing receiver keeps n_rx - n_layers + 1 degrees of freedom of array gain for each
    layer (one layer: maximum-ratio combining, a gain of n_rx), and the UE splits its power over
    its layers. Noise and interference are taken as uncorrelated across the antennas (Tse &
    Viswanath, Fundamentals of Wireless Communication, 2005, 3.3.1 and 8.3.1). The diversity
    order of the fading is the same n_rx - n_layers + 1.
    """
    return _zero_forcing_gain(n_rx, n_layers, "receive")


def dl_precoding_gain(n_tx: int, n_layers: int = 1) -> float:
    """Downlink SINR gain per layer of a cell with ``n_tx`` transmit antennas sending
    ``n_layers`` layers to one UE (linear): (n_tx - n_layers + 1) / n_layers.

    The transmit side of :func:`ul_combining_gain`: zero-forcing precoding keeps
    n_tx - n_layers + 1 degrees of freedom of array gain per layer (one layer: maximum-ratio
    transmission, a gain of n_tx), and the cell's power is split over the layers. Interference
    from other cells is taken at its mean power (their beams point at their own UEs) (Tse &
    Viswanath 2005, 3.3.2 transmit beamforming, 10.3 zero-forcing precoding).
    """
    return _zero_forcing_gain(n_tx, n_layers, "transmit")


def dl_rank_adapted_se(
    sinr_db: ArrayLike, n_tx: int, max_layers: int, *, min_sinr_db: float = -10.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Downlink spectral efficiency summed over layers (bit/s/Hz) and the rank that gives it.

    ``sinr_db`` is the SINR of one antenna at the cell's full power. The cell picks, per UE,
    the rank L <= ``max_layers`` that maximises L * SE(SINR * (n_tx - L + 1) / L) (rank
    adaptation from the UE's rank indicator, TS 38.214 5.2.2.2): rank 1 with the full
    precoding gain at the cell edge, more layers, each with a share of the power, near the
    cell (:func:`dl_precoding_gain`, :func:`spectral_efficiency`). Ties go to the lower rank.
    """
    x = np.asarray(sinr_db, dtype=np.float64)
    best = np.zeros(x.shape)
    rank = np.ones(x.shape, dtype=np.int64)
    for n_layers in range(1, max_layers + 1):
        gain_db = 10.0 * math.log10(dl_precoding_gain(n_tx, n_layers))
        se = n_layers * spectral_efficiency(x + gain_db, min_sinr_db=min_sinr_db)
        better = se > best
        best = np.where(better, se, best)
        rank = np.where(better, n_layers, rank)
    return best, rank


def sinr_db(
    signal_mw: ArrayLike, interference_mw: ArrayLike, noise_mw: ArrayLike
) -> NDArray[np.float64]:
    """SINR in dB: 10 log10(S / (I + N)). Powers in mW (linear), broadcast together."""
    s = np.asarray(signal_mw, dtype=np.float64)
    i_n = np.asarray(interference_mw, dtype=np.float64) + np.asarray(noise_mw, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(s / i_n)


def spectral_efficiency(
    sinr_db: ArrayLike,
    *,
    max_se: float = MAX_SE_256QAM,
    attenuation: float = 0.75,
    sinr_gap_db: float = 10.0 * math.log10(1.25),
    min_sinr_db: float = -10.0,
) -> NDArray[np.float64]:
    """Spectral efficiency in bit/s/Hz from SINR in dB (attenuated Shannon, Mogensen 2007).

    SE = attenuation * log2(1 + SINR_lin / 10**(sinr_gap_db/10)), i.e. with the defaults
    0.75 * log2(1 + SINR/1.25); SE = 0 where SINR < ``min_sinr_db`` (-10 dB); SE capped at
    ``max_se`` (TS 38.214 Table 5.1.3.1-2 MCS 27 = 7.4063). Any shape in, same shape out.
    Monotone non-decreasing in SINR. NaN SINR gives SE 0.
    """
    x = np.asarray(sinr_db, dtype=np.float64)
    gap_lin = 10.0 ** (sinr_gap_db / 10.0)
    se = attenuation * np.log2(1.0 + np.power(10.0, x / 10.0) / gap_lin)
    se = np.minimum(se, max_se)
    return np.where(x >= min_sinr_db, se, 0.0)
