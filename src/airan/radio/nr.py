"""5G NR numerology, carrier sizes, TDD patterns and rate arithmetic.

Sources: TS 38.211 Table 4.2-1 (numerology), TS 38.101-1 Table 5.3.2-1 (FR1 N_RB),
TS 38.101-2 Table 5.3.2-1 (FR2, 60 and 120 kHz), TS 38.306 clause 4.1.2 (peak rate),
TS 38.214 Table 5.1.3.1-2 (highest spectral efficiencies).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)

__all__ = [
    "MAX_SE_64QAM",
    "MAX_SE_256QAM",
    "FR2_MIN_GHZ",
    "N_RB_TABLE",
    "N_RB_TABLE_FR2",
    "OVERHEAD_DL_FR1",
    "OVERHEAD_UL_FR1",
    "OVERHEAD_DL_FR2",
    "OVERHEAD_UL_FR2",
    "SCS_KHZ",
    "SLOT_D",
    "SLOT_S",
    "SLOT_U",
    "SLOT_BOTH",
    "SYMBOLS_PER_SLOT",
    "SUBCARRIERS_PER_PRB",
    "bits_per_prb_per_slot",
    "harq_mean_extra_s",
    "harq_retx_delay_s",
    "expected_sends",
    "harq_retx_slots",
    "is_fr2",
    "mean_slot_wait_s",
    "n_prb",
    "overheads",
    "parse_tdd_pattern",
    "peak_rate_bps",
    "report_round_s",
    "slot_duration_s",
    "slot_types",
    "slot_usable",
    "sr_grant_wait_s",
    "sr_offset_slots",
    "sr_period_slots",
    "whole_slots",
    "thermal_noise_dbm",
]

#: Subcarrier spacing in kHz per numerology mu (TS 38.211 Table 4.2-1).
SCS_KHZ: dict[int, int] = {0: 15, 1: 30, 2: 60, 3: 120, 4: 240}

#: OFDM symbols per slot, normal cyclic prefix (TS 38.211 Table 4.3.2-1).
SYMBOLS_PER_SLOT = 14
#: Subcarriers per resource block (TS 38.211 clause 4.4.4.1).
SUBCARRIERS_PER_PRB = 12

#: Overhead OH for FR1 downlink / uplink (TS 38.306 clause 4.1.2).
OVERHEAD_DL_FR1 = 0.14
OVERHEAD_UL_FR1 = 0.08
#: Overhead OH for FR2 downlink / uplink (TS 38.306 clause 4.1.2).
OVERHEAD_DL_FR2 = 0.18
OVERHEAD_UL_FR2 = 0.10
#: Lowest carrier frequency of FR2, GHz (TS 38.104 Table 5.1-1: FR2-1 is 24.25-52.6 GHz).
FR2_MIN_GHZ = 24.25

#: Highest spectral efficiency, bit/s/Hz: 256QAM MCS 27 of TS 38.214 Table 5.1.3.1-2.
MAX_SE_256QAM = 7.4063
#: Highest spectral efficiency, bit/s/Hz: 64QAM MCS 28 of TS 38.214 Table 5.1.3.1-1.
MAX_SE_64QAM = 5.5547

#: A macro cell's power per 10 MHz of its carrier (dBm): TR 36.814 Table A.2.1.1-2's 46 dBm
#: for a 10 MHz carrier, 49 for 20 MHz (DOMAIN.md's "46-49 dBm"), a density of 36 dBm/MHz.
MACRO_TX_DBM_PER_10_MHZ = 46.0
#: An outdoor small cell's (UMi) per 10 MHz (dBm): ITU-R M.2135's UMi, 41 dBm for 10 MHz and 44
#: for 20 MHz (TR 36.814 likewise), 5 dB below the macro's
UMI_TX_DBM_PER_10_MHZ = 41.0
#: Below this density (dBm/MHz) a UMa or RMa cell is warned of: ~6 dB under the macro density
#: (46 dBm over 100 MHz, a 10 MHz carrier's power copied to a wide one, is 26 dBm/MHz).
MACRO_MIN_DBM_PER_MHZ = 30.0
#: An indoor cell's power per 20 MHz below 7.125 GHz, and a cell's whole power in FR2, outdoors
#: and indoors (dBm): TR 38.901 Table 7.8-1's calibration (24 dBm indoors at 6 GHz; 35 and 23
#: dBm at 30 GHz, whatever the bandwidth: a figure per cell there, not a density)
INDOOR_TX_DBM_PER_20_MHZ = 24.0
FR2_TX_DBM = {"outdoor": 35.0, "indoor": 23.0}


def macro_tx_power_dbm(bandwidth_mhz: float) -> float:
    """A macro cell's total power over a carrier of ``bandwidth_mhz`` (dBm) at the density of
    TR 36.814 Table A.2.1.1-2 (46 dBm per 10 MHz): 56 dBm over 100 MHz."""
    return MACRO_TX_DBM_PER_10_MHZ + 10.0 * math.log10(bandwidth_mhz / 10.0)


def default_cell_tx_power_dbm(bandwidth_mhz: float, fc_ghz: float, environment: str) -> float:
    """A cell's total power over its carrier where the scenario gives none (dBm): in FR1 a
    macro's density outdoors (:func:`macro_tx_power_dbm`; UMi's small cells 41 dBm per 10
    MHz), an indoor cell's (InH, InF: 24 dBm per 20 MHz) indoors; in FR2 TR 38.901 Table
    7.8-1's 35 dBm outdoors, 23 indoors (a review: one macro figure for every cell gave an
    indoor cell 400 W and an FR2 one 1.6 kW)."""
    indoor = environment.lower().startswith(("inh", "inf"))
    if is_fr2(fc_ghz):
        return FR2_TX_DBM["indoor" if indoor else "outdoor"]
    if indoor:
        return INDOOR_TX_DBM_PER_20_MHZ + 10.0 * math.log10(bandwidth_mhz / 20.0)
    if environment.lower() == "umi":
        return UMI_TX_DBM_PER_10_MHZ + 10.0 * math.log10(bandwidth_mhz / 10.0)
    return macro_tx_power_dbm(bandwidth_mhz)


#: Slot type codes returned by :func:`parse_tdd_pattern`.
SLOT_D = 0
SLOT_S = 1
SLOT_U = 2
SLOT_BOTH = 3  # FDD: every slot carries both links

#: Radio link monitoring on the SSB in FR1 without DRX: the out-of-sync evaluation period
#: T_Evaluate_out = max(200 ms, ceil(10 P) T_SSB) and T_Evaluate_in =
#: max(100 ms, ceil(5 P) T_SSB), P = 1 (TS 38.133 Table 8.1.2.2-1) and an
#: indication every max(10 ms, T_SSB) (TS 38.213 clause 5), at an SSB period T_SSB of 20 ms
#: (the period a UE assumes before it is told, TS 38.213 4.1; an assumption for the serving cell).
RLM_EVALUATE_OUT_MS = 200.0
RLM_EVALUATE_IN_MS = 100.0
RLM_INDICATION_MS = 20.0


def rlf_delay_s(t310_ms: float, n310: int) -> float:
    """Seconds from the loss of a UE's serving cell to its radio link failure: the first
    out-of-sync indication at the end of the evaluation period, N310 - 1 more one indication
    period apart, then T310, which the N310th starts and whose expiry declares the failure
    (TS 38.331 5.3.10.1, 5.3.10.3). RRC re-establishment (5.3.7) follows."""
    return (RLM_EVALUATE_OUT_MS + (n310 - 1) * RLM_INDICATION_MS + t310_ms) * 1e-3


def rlm_recovery_s(n311: int) -> float:
    """Seconds from a lost serving cell's return, before T310 expires, to the UE's recovery on
    it: the in-sync evaluation period T_Evaluate_in = max(100 ms, ceil(5 P) T_SSB) (TS 38.133
    Table 8.1.2.2-1), then N311 - 1 more in-sync indications; the N311th stops T310 (TS 38.331
    5.3.10.2)."""
    return (RLM_EVALUATE_IN_MS + (n311 - 1) * RLM_INDICATION_MS) * 1e-3


#: Maximum transmission bandwidth N_RB, keyed by (channel bandwidth MHz, mu).
#: mu 0..2: TS 38.101-1 Table 5.3.2-1 (FR1, incl. Rel-17 35/45 MHz).
#: mu 3: TS 38.101-2 Table 5.3.2-1 (FR2, 120 kHz). The FR2 60 kHz column is not included
#: because its values differ from the FR1 60 kHz column for the same bandwidth.
N_RB_TABLE: dict[tuple[int, int], int] = {
    # SCS 15 kHz
    (5, 0): 25, (10, 0): 52, (15, 0): 79, (20, 0): 106, (25, 0): 133, (30, 0): 160,
    (35, 0): 188, (40, 0): 216, (45, 0): 242, (50, 0): 270,
    # SCS 30 kHz
    (5, 1): 11, (10, 1): 24, (15, 1): 38, (20, 1): 51, (25, 1): 65, (30, 1): 78,
    (35, 1): 92, (40, 1): 106, (45, 1): 119, (50, 1): 133, (60, 1): 162, (70, 1): 189,
    (80, 1): 217, (90, 1): 245, (100, 1): 273,
    # SCS 60 kHz (FR1)
    (10, 2): 11, (15, 2): 18, (20, 2): 24, (25, 2): 31, (30, 2): 38, (35, 2): 44,
    (40, 2): 51, (45, 2): 58, (50, 2): 65, (60, 2): 79, (70, 2): 93, (80, 2): 107,
    (90, 2): 121, (100, 2): 135,
    # SCS 120 kHz (FR2)
    (50, 3): 32, (100, 3): 66, (200, 3): 132, (400, 3): 264,
}  # fmt: skip

#: Maximum transmission bandwidth N_RB of FR2, keyed by (channel bandwidth MHz, mu):
#: TS 38.101-2 Table 5.3.2-1 (60 and 120 kHz).
N_RB_TABLE_FR2: dict[tuple[int, int], int] = {
    (50, 2): 66, (100, 2): 132, (200, 2): 264,
    (50, 3): 32, (100, 3): 66, (200, 3): 132, (400, 3): 264,
}  # fmt: skip

_N_RB_FR1 = {k: v for k, v in N_RB_TABLE.items() if k[1] <= 2}



def is_fr2(fc_ghz: float) -> bool:
    """Whether a carrier at ``fc_ghz`` is in FR2 (TS 38.104 Table 5.1-1)."""
    return float(fc_ghz) >= FR2_MIN_GHZ


def overheads(fc_ghz: float) -> tuple[float, float]:
    """(downlink, uplink) overhead OH of TS 38.306 clause 4.1.2 for a carrier at ``fc_ghz``."""
    if is_fr2(fc_ghz):
        return OVERHEAD_DL_FR2, OVERHEAD_UL_FR2
    return OVERHEAD_DL_FR1, OVERHEAD_UL_FR1


def slot_duration_s(mu: int) -> float:
    """Slot duration in seconds for numerology ``mu`` (TS 38.211 Table 4.2-1): 1e-3 / 2**mu.

    Raises ValueError for mu outside 0..4.
    """
    if mu not in SCS_KHZ:
        raise ValueError(f"numerology mu={mu!r} is not one of {sorted(SCS_KHZ)}")
    return 1e-3 / float(1 << mu)


def n_prb(bandwidth_mhz: float, mu: int, fr2: bool | None = None) -> int:
    """Maximum transmission bandwidth N_RB for a channel bandwidth (MHz) and numerology mu.

    TS 38.101-1 Table 5.3.2-1 (FR1; mu 0, 1, 2) and TS 38.101-2 Table 5.3.2-1 (FR2; mu 2, 3),
    ``fr2`` saying which (default: FR2 for mu 3 only; the two 60 kHz columns differ).
    E.g. 100 MHz at mu=1 (30 kHz) -> 273; 100 MHz at 60 kHz in FR2 -> 132. Raises ValueError
    naming the combination if the table has no entry for it.
    """
    if fr2 is None:
        fr2 = int(mu) >= 3
    table = N_RB_TABLE_FR2 if fr2 else _N_RB_FR1
    bw = float(bandwidth_mhz)
    key = (round(bw), int(mu))
    if abs(bw - key[0]) > 1e-9 or key not in table:
        scs = SCS_KHZ.get(int(mu), "?")
        spec = "TS 38.101-2 (FR2)" if fr2 else "TS 38.101-1 (FR1)"
        valid = sorted(b for (b, m) in table if m == int(mu))
        raise ValueError(
            f"no N_RB for bandwidth {bandwidth_mhz} MHz at mu={mu} (SCS {scs} kHz) in "
            f"{spec} Table 5.3.2-1; "
            + (f"valid bandwidths for this mu: {valid}" if valid else
               f"that table has no {scs} kHz column (mu {sorted({m for _, m in table})})")
        )
    return table[key]


def parse_tdd_pattern(pattern: str) -> NDArray[np.int8]:
    """Parse a TDD slot pattern such as ``"DDDSU"`` into slot codes.

    Letters D (downlink), S (special), U (uplink), case-insensitive; whitespace is not
    allowed. Returns int8 array of shape (n_slots,): 0 = D, 1 = S, 2 = U (TS 38.213
    clause 11.1 slot formats, summarised per slot). Raises ValueError on an empty pattern or
    any other character. FDD is represented by the caller passing no pattern at all.
    """
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"TDD pattern must be a non-empty string of D/S/U, got {pattern!r}")
    codes = {"D": SLOT_D, "S": SLOT_S, "U": SLOT_U}
    bad = sorted({c for c in pattern.upper() if c not in codes})
    if bad:
        raise ValueError(
            f"TDD pattern {pattern!r} has invalid slot letter(s) {bad}; use only D, S, U"
        )
    return np.array([codes[c] for c in pattern.upper()], dtype=np.int8)


def slot_types(tdd_pattern: str | None) -> NDArray[np.int8]:
    """The repeating slot codes of a carrier: its TDD pattern's (:func:`parse_tdd_pattern`),
    or, for FDD (no pattern), one slot of ``SLOT_BOTH``."""
    if tdd_pattern is None:
        return np.array([SLOT_BOTH], dtype=np.int8)
    return parse_tdd_pattern(tdd_pattern)


# special slot 10:2:2 (DL:guard:UL symbols; a common operator configuration of DDDSU, TS 38.213
# Table 11.1.1-1 formats allow others: assumption), its DL symbols carrying data only
S_SLOT_DL_FRACTION = 10.0 / 14.0


def slot_usable(slot_type: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per slot of the pattern (codes of :func:`parse_tdd_pattern`, 3 for an FDD slot that
    carries both), the share that carries uplink data and the share that carries downlink data:
    a U slot all uplink, a D slot all downlink, an S slot ``S_SLOT_DL_FRACTION`` downlink (its
    uplink symbols are not used for data)."""
    t = np.asarray(slot_type)
    ul = ((t == SLOT_U) | (t == 3)).astype(np.float64)
    dl = np.where(t == SLOT_S, S_SLOT_DL_FRACTION, ((t == SLOT_D) | (t == 3)).astype(np.float64))
    return ul, dl


def mean_slot_wait_s(usable: ArrayLike, slot_s: float) -> tuple[float, float]:
    """Mean wait, from a uniformly random instant, for the next slot of one link direction.

    ``usable[i]`` is the share of slot ``i`` of the repeating pattern that carries the
    direction's data (1 for a D slot on the downlink, 10/14 for a 10:2:2 S slot, 0 for a slot
    of the other direction). A slot can be used by data that is ready at or before its start.
    Returns ``(to_start, to_end)``: the mean time (s) to the start of the next usable slot, and
    to the end of its usable part (a transport block is decoded after its last symbol,
    TS 38.214 5.1.2.1 and 6.1.2.1). With usable slots starting at ``a_j`` and ``g_j`` the time
    since the previous one, the instants in ``(a_j - g_j, a_j]`` wait for slot ``j``:
    ``to_start = sum(g_j**2 / 2) / P`` and ``to_end = to_start + sum(g_j * usable_j) * slot / P``
    over the pattern's period ``P``. For FDD (one usable slot): ``slot/2`` and ``3 slot/2``.
    """
    u = np.asarray(usable, dtype=np.float64)
    if u.ndim != 1 or not len(u) or not (u > 0).any() or (u < 0).any() or (u > 1).any():
        raise ValueError(f"usable must be slot shares in [0, 1] with one above 0, got {u!r}")
    starts = np.flatnonzero(u > 0) * slot_s
    period = len(u) * slot_s
    gaps = np.diff(np.r_[starts[-1] - period, starts])
    to_start = float(np.sum(gaps**2 / 2) / period)
    return to_start, to_start + float(np.sum(gaps * u[u > 0]) * slot_s / period)


def report_round_s(ul_usable: ArrayLike, slot_s: float, period_s: float,
                   grant_delay_s: float) -> float:
    """Mean delay (s) the SR's grant adds to data it cannot carry (``radio.first_grant_bytes``).

    The UE sends what fits, with its buffer status report (TS 38.321 5.4.5), in the uplink slot
    ``k`` its SR's grant gives it; the gNB decodes the report at the slot's end, and its next
    grant lets the UE send ``grant_delay_s`` later, in the first uplink slot starting then or
    after. The rest of the upload starts there instead of in slot ``k``: exact for a rest one
    slot carries, and for a longer upload where the SR's grant is small against a slot's
    capacity. Slot ``k`` is where the SR's grant lands, as :func:`sr_grant_wait_s` finds it
    (each SR offset equally likely, data arriving uniformly in time); a period off the slot
    grid takes every uplink slot as equally likely. Whole-slot delays are counted in slots
    (:func:`whole_slots`), as in the engine. With a 2 ms grant delay: 3 ms on FDD at 1 ms
    slots; 2.5 ms on DDDSU at 0.5 ms (the next pattern's U slot).
    """
    u = np.asarray(ul_usable, dtype=np.float64)
    offsets = sr_offset_slots(u, slot_s, period_s)
    if offsets is None:
        k = np.flatnonzero(u > 0)
        return float(np.mean(_granted_slot(k + 1, u, slot_s, grant_delay_s) - k) * slot_s)
    span, per_offset = _sr_occasions(u, slot_s, period_s, offsets)
    total = 0.0
    for occ, gaps in per_offset:
        k = _granted_slot(occ, u, slot_s, grant_delay_s)  # the SR grant's slot
        rounds = _granted_slot(k + 1, u, slot_s, grant_delay_s) - k  # the report decoded by k+1
        total += float(np.sum(gaps * rounds)) * slot_s / span
    return total / len(offsets)


def _sr_occasions(u: NDArray[np.float64], slot_s: float, period_s: float,
                  offsets: NDArray[np.int64]) -> tuple[int, list[tuple[NDArray[np.int64],
                                                                      NDArray[np.int64]]]]:
    """The span (slots) in which SR occasions and the pattern repeat, and per offset its
    occasions on uplink slots within it with the slots since each one's previous (the share
    of arrival instants each serves)."""
    n = sr_period_slots(slot_s, period_s)
    length = len(u)
    span = n * length // math.gcd(n, length)
    out = []
    for off in offsets:
        occ = np.arange(off, span, n)
        occ = occ[u[occ % length] > 0]
        out.append((occ, np.diff(np.r_[occ[-1] - span, occ])))
    return span, out


def _granted_slot(k: NDArray[np.int64], u: NDArray[np.float64], slot_s: float,
                  grant_delay_s: float) -> NDArray[np.int64]:
    """The first uplink slot a grant issued on what slot ``k`` taught (an SR occasion at its
    start, a report decoded by then) lets the UE use: ``grant_delay_s`` later, then the next
    slot with uplink data. A grant of whole slots (to 1e-6, :func:`whole_slots`) ends on a
    slot start, as in the engine (``kernel._next_grant_time``)."""
    k = np.asarray(k, dtype=np.int64)
    whole = whole_slots(grant_delay_s, slot_s)
    first = (k + whole if whole >= 0 else
             np.ceil((k * slot_s + grant_delay_s) / slot_s - 1e-9).astype(np.int64))
    ul = np.flatnonzero(u > 0)
    ahead = (ul[None, :] - first[:, None] % len(u)) % len(u)
    return first + ahead.min(axis=1)  # type: ignore[no-any-return]


def sr_period_slots(slot_s: float, period_s: float) -> int:
    """The SR period in slots (TS 38.331 ``periodicityAndOffset``: sl1, 2, 4, 5, 8, 10, 16, 20,
    40, 80, 160, 320 or 640 slots, those allowed depending on the subcarrier spacing, which
    ``scenario.load`` checks; or 2 or 7 symbols, which the twin takes as every slot, with the
    occasion at the slot's start); 0 for a period longer than a slot that is not a whole number
    of them (not a 38.331 period: the engine then spreads each UE's occasions uniformly over
    it, a simplification)."""
    if period_s / slot_s < 1.0 + 1e-6:
        return 1
    return max(whole_slots(period_s, slot_s), 0)


def whole_slots(delay_s: float, slot_s: float) -> int:
    """``delay_s`` in slots where it is a whole number of them (to 1e-6), else -1."""
    n = round(delay_s / slot_s)
    return int(n) if abs(delay_s / slot_s - n) <= 1e-6 * max(1.0, n) else -1


def sr_offset_slots(ul_usable: ArrayLike, slot_s: float,
                    period_s: float) -> NDArray[np.int64] | None:
    """The slot offsets (0 .. n-1, n the SR period in slots) a UE's SR configuration may have.

    A UE's SR occasions are the slots ``offset + k n`` (TS 38.213 9.2.4), and an occasion on a
    slot without uplink symbols for PUCCH is not sent (TS 38.213 11.1). An offset qualifies when
    at least one of its occasions falls on a slot that carries uplink data (``ul_usable > 0``:
    a U slot, or any FDD slot; the S slot's few uplink symbols are not used, a simplification).
    A period that does not divide the pattern's sends only the occasions on U slots (on DDDSU a
    1 ms period waits as a 5 ms one, a 4 ms period as a 20 ms one). ``None`` when the period is
    not on the slot grid (:func:`sr_period_slots` is 0).
    """
    u = np.asarray(ul_usable, dtype=np.float64)
    n = sr_period_slots(slot_s, period_s)
    if n == 0:
        return None
    ul = u > 0
    length = len(u)
    reps = length // math.gcd(n, length)  # periods in the span where both repeat
    slots = (np.arange(n)[:, None] + n * np.arange(reps)[None, :]) % length
    return np.flatnonzero(ul[slots].any(axis=1)).astype(np.int64)


def sr_grant_wait_s(ul_usable: ArrayLike, slot_s: float, period_s: float,
                    grant_delay_s: float) -> tuple[float, float]:
    """Mean time from a uniformly random instant at which an idle UE gets uplink data to the
    start of the first uplink slot its grant can use, and to the end of that slot's usable part.

    The UE waits for its next SR occasion that falls on an uplink slot, the grant follows
    ``grant_delay_s`` after the occasion's slot starts, and the data goes in the next uplink
    slot that starts then or later (:func:`mean_slot_wait_s`' rule). The mean is over the
    offsets of :func:`sr_offset_slots`, each equally likely. Where the period is not a whole
    number of slots (``sr_offset_slots`` is ``None``) the occasion is uniform over the period:
    ``period/2 + grant_delay + mean_slot_wait_s``. (The engine computes the same in whole slots,
    ``kernel.create``.)
    """
    u = np.asarray(ul_usable, dtype=np.float64)
    offsets = sr_offset_slots(u, slot_s, period_s)
    if offsets is None:
        start, end = mean_slot_wait_s(u, slot_s)
        fixed = period_s / 2 + grant_delay_s
        return fixed + start, fixed + end
    span, per_offset = _sr_occasions(u, slot_s, period_s, offsets)
    to_start = to_end = 0.0
    for occ, gaps in per_offset:
        slot = _granted_slot(occ, u, slot_s, grant_delay_s)  # the grant's first uplink slot
        wait = (slot - occ) * slot_s  # from the occasion to that slot's start
        usable_s = u[slot % len(u)] * slot_s
        to_start += float(np.sum(gaps * (gaps * slot_s / 2 + wait))) / span
        to_end += float(np.sum(gaps * (gaps * slot_s / 2 + wait + usable_s))) / span
    return to_start / len(offsets), to_end / len(offsets)


#: UE processing times in OFDM symbols, capability 1, per numerology mu = 0..3: N1 from the end
#: of a PDSCH to its HARQ-ACK (TS 38.214 Table 5.3-1, dmrs-AdditionalPosition pos0) and N2 from
#: the end of the PDCCH with an uplink grant to its PUSCH (TS 38.214 Table 6.4-1).
N1_SYMBOLS = (8, 10, 17, 20)
N2_SYMBOLS = (10, 12, 23, 36)
PDCCH_SYMBOLS = 2  # the CORESET at the start of a slot that carries the grant (assumption)
# the gNB's own time to act on a decoded PUSCH or a NACK, taken as the UE's N2 (assumption: the
# standard leaves it to the implementation)


S_PUCCH_SYMBOL = 12  # an S slot's short PUCCH: its last 2 symbols (10:2:2; assumption)


@njit(cache=True)
def expected_sends(bler: float, max_retx: int) -> float:
    """The mean number of times a transport block goes on the air: once, and again after each
    failure, each with probability ``bler``, at most ``max_retx`` times (TS 38.321 5.4.2):
    sum of bler^i for i in 0..max_retx. The rate (attenuated Shannon) is net of the resends,
    so the slots a transfer is booked already hold them, a failed block going again with the
    next; but a transfer's last block goes again alone, in a slot of its own: each of its
    mean resends costs the radio's circuits a slot (a robot maker's review: at bler 0.3 the
    uploads' air time grew 64% and the robots' energy not at all)."""
    n = 1.0
    p = 1.0
    for _ in range(max_retx):
        p *= bler
        n += p
    return n


def harq_retx_slots(ul_usable: ArrayLike, dl_usable: ArrayLike, slot_s: float,
                    mu: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """How many slots after slot ``j`` of the repeating pattern a transport block that failed
    in ``j`` is sent again, per slot of each direction (-1 for a slot that does not carry it).

    Uplink (TS 38.321 5.4.2, adaptive retransmission by a new grant): the gNB learns of the
    failure at the end of the PUSCH's slot and, ``N2`` symbols later (its own processing, an
    assumption), sends the grant in the next slot with downlink symbols; the UE retransmits in
    the first U slot that starts ``PDCCH_SYMBOLS + N2`` symbols after that slot's start.
    Downlink (TS 38.213 9.2.3): the UE sends its NACK on the first PUCCH whose first symbol is
    ``N1`` symbols or more after the end of the PDSCH (TS 38.214 5.3): a U slot's from its first
    symbol, an S slot's short PUCCH in its last two (``S_PUCCH_SYMBOL``); the gNB, ``N2`` symbols
    after that slot, retransmits in the next slot with downlink symbols. Assumptions the
    standard leaves open: UE capability 1 with ``dmrs-AdditionalPosition`` pos0 (N1), the grant
    in the first ``PDCCH_SYMBOLS`` symbols, no limit from the K1/K2 sets or the HARQ processes.
    ``*_usable`` as for :func:`mean_slot_wait_s`.
    """
    ul = np.asarray(ul_usable, dtype=np.float64)
    dl = np.asarray(dl_usable, dtype=np.float64)
    if ul.shape != dl.shape or ul.ndim != 1 or not (ul > 0).any() or not (dl > 0).any():
        raise ValueError("ul_usable and dl_usable must be one pattern with slots of both links")
    if mu < 0:
        raise ValueError(f"numerology must be >= 0, got {mu}")
    n = len(ul)
    sym = slot_s / SYMBOLS_PER_SLOT
    mu = min(mu, len(N1_SYMBOLS) - 1)  # (240 kHz, mu 4, takes mu 3's symbol counts)

    def first(usable: NDArray[np.float64], t: float) -> int:
        k = math.ceil(t / slot_s - 1e-9)  # the first slot that starts at or after t
        while usable[k % n] <= 0:
            k += 1
        return k

    # where a slot's PUCCH starts, in symbols (NaN: none): a U or FDD slot's at its start, an
    # S slot's (downlink symbols, then the guard) in its last two symbols
    s_slot = (dl > 0) & (dl < 1)
    pucch_at = np.where(ul > 0, 0.0, np.where(s_slot, float(S_PUCCH_SYMBOL), np.nan))

    def first_pucch(t: float) -> int:
        k = math.floor(t / slot_s + 1e-9)  # the slot that holds t (its PUCCH may come later)
        while not (pucch_at[k % n] >= 0 and (k * SYMBOLS_PER_SLOT + pucch_at[k % n]) * sym
                   >= t - 1e-9 * slot_s):
            k += 1
        return k

    ul_k = np.full(n, -1, dtype=np.int64)
    dl_k = np.full(n, -1, dtype=np.int64)
    for j in range(n):
        if ul[j] > 0:
            end = (j + 1) * slot_s
            grant = first(dl, end + N2_SYMBOLS[mu] * sym)
            ul_k[j] = first(ul, grant * slot_s + (PDCCH_SYMBOLS + N2_SYMBOLS[mu]) * sym) - j
        if dl[j] > 0:
            end = (j + dl[j]) * slot_s
            nack = first_pucch(end + N1_SYMBOLS[mu] * sym)
            dl_k[j] = first(dl, (nack + 1) * slot_s + N2_SYMBOLS[mu] * sym) - j
    return ul_k, dl_k


def harq_retx_delay_s(ul_usable: ArrayLike, dl_usable: ArrayLike, slot_s: float,
                      mu: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """How much later a transport block arrives when its transmission in slot ``j`` of the
    repeating pattern fails and its retransmission (:func:`harq_retx_slots`) succeeds: from the
    end of its part of slot ``j`` to the end of the retransmission's (an uplink block is decoded
    at its slot's end, a downlink one received at the end of the slot's downlink symbols).
    Returns ``(ul_s, dl_s)``, one entry per pattern slot (NaN for a slot that does not carry
    the direction)."""
    ul = np.asarray(ul_usable, dtype=np.float64)
    dl = np.asarray(dl_usable, dtype=np.float64)
    ul_k, dl_k = harq_retx_slots(ul, dl, slot_s, mu)
    return _retx_delay_s(ul, ul_k, slot_s), _retx_delay_s(dl, dl_k, slot_s)


def _retx_delay_s(usable: NDArray[np.float64], retx: NDArray[np.int64],
                  slot_s: float) -> NDArray[np.float64]:
    n = len(usable)
    j = np.arange(n)
    later = usable[(j + np.maximum(retx, 0)) % n]
    return np.where(retx >= 0, (retx + later - usable) * slot_s, np.nan)


def harq_mean_extra_s(usable: ArrayLike, retx_slots: ArrayLike, slot_s: float, bler: float,
                      max_retx: int) -> float:
    """Mean delay HARQ adds to a transfer's last transport block: each sending fails with
    probability ``bler`` (the link adaptation target), and a failed one goes again
    ``retx_slots[j]`` slots after its slot ``j`` (:func:`harq_retx_slots`), at most ``max_retx``
    times. Each slot of the direction weighs as the share of instants whose data it carries
    first (the time since the previous such slot, as in :func:`mean_slot_wait_s`), and each
    retransmission is followed from its own slot."""
    u = np.asarray(usable, dtype=np.float64)
    k = np.asarray(retx_slots, dtype=np.int64)
    n = len(u)
    slots = np.flatnonzero(u > 0)
    gaps = np.diff(np.r_[slots[-1] - n, slots]).astype(np.float64)

    def extra(j: int, left: int) -> float:
        if left == 0 or bler <= 0.0:
            return 0.0
        nxt = (j + int(k[j])) % n
        return bler * ((k[j] + u[nxt] - u[j]) * slot_s + extra(nxt, left - 1))

    return float(sum(g * extra(int(j), max_retx) for j, g in zip(slots, gaps, strict=True))
                 / gaps.sum())


def bits_per_prb_per_slot(
    se_bps_hz: ArrayLike, overhead: float, layers: int = 1
) -> NDArray[np.float64]:
    """Information bits carried by one PRB in one slot.

    bits = SE * 12 subcarriers * 14 symbols * (1 - overhead) * layers, consistent with
    TS 38.306 clause 4.1.2 (where SE = Q_m * f * R_max). ``se_bps_hz`` in bit/s/Hz (any
    shape); returns float64 array of the same shape, in bits.
    """
    se = np.asarray(se_bps_hz, dtype=np.float64)
    return se * (SUBCARRIERS_PER_PRB * SYMBOLS_PER_SLOT * (1.0 - overhead) * layers)


def peak_rate_bps(
    n_prb: int,
    mu: int,
    layers: int,
    qm: int = 8,
    r_max: float = 948 / 1024,
    scaling: float = 1.0,
    overhead: float = OVERHEAD_DL_FR1,
) -> float:
    """Approximate peak data rate of one carrier in bit/s (TS 38.306 clause 4.1.2).

    R = v_layers * Q_m * f * R_max * N_PRB * 12 / T_s(mu) * (1 - OH),
    T_s(mu) = 1e-3 / (14 * 2**mu). E.g. 273 PRB, mu=1, 4 layers, 256QAM, OH 0.14 -> ~2.337e9.
    """
    t_s = slot_duration_s(mu) / SYMBOLS_PER_SLOT
    return float(
        layers * qm * scaling * r_max * n_prb * SUBCARRIERS_PER_PRB / t_s * (1.0 - overhead)
    )


def thermal_noise_dbm(
    bandwidth_hz: ArrayLike, noise_figure_db: ArrayLike
) -> float | NDArray[np.float64]:
    """Thermal noise power in dBm: -174 dBm/Hz + 10 log10(B / 1 Hz) + NF.

    -174 dBm/Hz is kT at 290 K (TS 38.101-1 / usual evaluation assumption). Inputs broadcast;
    bandwidth in Hz, noise figure in dB. Returns a float for scalar inputs, else a float64
    array of the broadcast shape.
    """
    b = np.asarray(bandwidth_hz, dtype=np.float64)
    nf = np.asarray(noise_figure_db, dtype=np.float64)
    out = -174.0 + 10.0 * np.log10(b) + nf
    return float(out) if out.ndim == 0 else out
