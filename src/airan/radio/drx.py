"""Connected-mode DRX: when a UE monitors the PDCCH, and what it draws while it sleeps.

A connected UE with DRX (TS 38.321 5.7) is in Active Time while its ``drx-InactivityTimer``
runs (restarted by every PDCCH that schedules it, and here by data reaching its uplink
buffer, whose scheduling request keeps it active until the grant) and during the
``drx-onDurationTimer`` that opens each long cycle, at the ms where ``(SFN * 10 + subframe)
mod drx-LongCycle = drx-StartOffset``. In between it sleeps: an answer for it waits at the gNB
for its next on-duration. Where ``drx-ShortCycle`` is configured, the inactivity timer's
expiry starts ``drx-ShortCycleTimer`` (a whole number of short cycles) and the UE's
on-durations open every short cycle, where ``(SFN * 10 + subframe) mod drx-ShortCycle =
drx-StartOffset mod drx-ShortCycle``, until that timer expires; then the long cycle's again
(an on-duration already open runs to its end). The long cycle is a whole number of short ones
(TS 38.331), so every long on-duration is also a short one: a UE is in an on-duration where
the long cycle opened one, or the short cycle opened one between the inactivity timer's end
and the short cycle timer's (a start within ``EDGE_S`` of either end counts as at it: the
engine's times are whole slots, which a sum of seconds misses by a rounding). The value sets
are TS 38.331's DRX-Config; the sleep states and their transitions are TR 38.840 Table
8.1.1-1 (FR1), in its relative units (PDCCH-only monitoring = 100), scaled to the radio's
``ue_pdcch_w``.

Simplifications (named in docs/model.md): no DRX command MAC CE and no wake-up signal; the timer
starts at the slot a UE sends or receives in, not at its grant's PDCCH k2 slots before; the
retransmission timers are not modelled (HARQ rounds fall inside the inactivity timer); the
gNB keeps the long cycle's on-durations on downlink slots, not the short cycle's; the long
cycle is taken to be in use while the inactivity timer runs (an on-duration the short cycle
would open just before the timer's end is not, where a short cycle timer still running
from an earlier expiry would open it: at most one on-duration's difference).

Times are seconds unless a name says otherwise; the functions are compiled (numba) so that the
engine's kernel calls them, and callable from Python as they are.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)
from airan.radio.nr import SLOT_U

__all__ = [
    "CYCLE_MS",
    "INACTIVITY_MS",
    "ON_DURATION_MS",
    "SHORT_CYCLE_MS",
    "SHORT_CYCLE_TIMER",
    "EDGE_S",
    "SLEEP_STATES",
    "answer_wait_s",
    "answer_wait_one_s",
    "asleep",
    "asleep_in_slot",
    "offsets_with_downlink_ms",
    "next_wake_s",
    "on_time_s",
    "sleep_energy_j",
    "sleep_table",
    "span_energy_j",
]

#: drx-LongCycle values (ms), TS 38.331 DRX-Config (drx-LongCycleStartOffset).
CYCLE_MS: tuple[int, ...] = (10, 20, 32, 40, 60, 64, 70, 80, 128, 160, 256, 320, 512, 640,
                             1024, 1280, 2048, 2560, 5120, 10240)
#: drx-onDurationTimer values (ms), TS 38.331 DRX-Config (milliSeconds).
ON_DURATION_MS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 40, 50, 60, 80, 100, 200,
                                   300, 400, 500, 600, 800, 1000, 1200, 1600)
#: drx-InactivityTimer values (ms), TS 38.331 DRX-Config.
INACTIVITY_MS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 40, 50, 60, 80, 100,
                                  200, 300, 500, 750, 1280, 1920, 2560)

#: drx-ShortCycle values (ms), TS 38.331 DRX-Config.
SHORT_CYCLE_MS: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 10, 14, 16, 20, 30, 32, 35, 40, 64, 80,
                                   128, 160, 256, 320, 512, 640)
#: drx-ShortCycleTimer values (multiples of the short cycle), TS 38.331 DRX-Config.
SHORT_CYCLE_TIMER: tuple[int, ...] = tuple(range(1, 17))

#: TR 38.840 Table 8.1.1-1 (FR1): (state, relative power, additional transition energy in
#: relative units x ms, total transition time in ms), against PDCCH-only monitoring's 100.
#: A sleep needs at least its state's transition time (ramp down and up).
SLEEP_STATES: tuple[tuple[str, float, float, float], ...] = (
    ("deep", 1.0, 450.0, 20.0),
    ("light", 20.0, 100.0, 6.0),
    ("micro", 45.0, 0.0, 0.0),
)
_MONITOR_UNITS = 100.0  # PDCCH-only monitoring in TR 38.840's units

#: Two instants closer than this (s) are one: a short on-duration that opens at the short
#: cycle timer's end (whole slots and ms: exactly, but for a rounding) does not open, and a
#: sleep as long as a state's shortest allows it; far below a slot, far above the rounding
#: of a time of 10^6 s.
EDGE_S = 1e-9


def sleep_table(pdcch_w: float) -> np.ndarray:
    """[state, 3]: each sleep state's power (W), its transition's extra energy (J) and the
    shortest sleep it allows (s), for a UE whose PDCCH monitoring draws ``pdcch_w``."""
    unit_w = pdcch_w / _MONITOR_UNITS
    return np.array([[p * unit_w, e * unit_w * 1e-3, t * 1e-3]
                     for _, p, e, t in SLEEP_STATES])


@njit(cache=True)
def sleep_energy_j(length_s, table):  # type: ignore[no-untyped-def]
    """The energy (J) of one sleep of ``length_s`` between two wake-ups: the state that
    costs least among those whose transition fits (micro sleep always does)."""
    best = math.inf
    for i in range(table.shape[0]):
        if length_s >= table[i, 2] - EDGE_S:
            e = table[i, 0] * length_s + table[i, 1]
            if e < best:
                best = e
    return best


@njit(cache=True)
def on_time_s(t, offset_s, cycle_s, on_s):  # type: ignore[no-untyped-def]
    """The on-duration time in ``[offset_s, t)`` (s; negative before ``offset_s``) where
    on-durations of ``on_s`` open every ``cycle_s`` at ``offset_s + k * cycle_s``: the
    difference of two is a span's."""
    x = t - offset_s
    n = math.floor(x / cycle_s)
    return n * on_s + min(x - n * cycle_s, on_s)


@njit(cache=True)
def _short_opened(start, end, short_end):  # type: ignore[no-untyped-def]
    """Whether the short cycle opens an on-duration at ``start``: from the inactivity timer's
    ``end`` until the short cycle timer's ``short_end`` (:data:`EDGE_S`)."""
    return start >= end - EDGE_S and start < short_end - EDGE_S


@njit(cache=True)
def asleep(t, last_s, inactivity_s, offset_s, cycle_s, on_s, short_s=0.0,
           short_span_s=0.0):  # type: ignore[no-untyped-def]
    """Whether a UE whose last activity was at ``last_s`` is outside Active Time at ``t``:
    its inactivity timer run out, and ``t`` outside an on-duration: of the long cycle
    ``cycle_s``, or of the short cycle ``short_s`` opened within ``short_span_s``
    (drx-ShortCycleTimer's whole cycles) of the timer's end (``short_s`` 0: none)."""
    end = last_s + inactivity_s
    if t <= end:
        return False
    x = t - offset_s
    if short_s > 0.0:
        x_short = x - math.floor(x / short_s) * short_s
        if x_short < on_s and _short_opened(t - x_short, end, end + short_span_s):
            return False
    return x - math.floor(x / cycle_s) * cycle_s >= on_s


@njit(cache=True)
def asleep_in_slot(k, t, last_s, inactivity_s, offset_slots, cycle_slots, on_slots,
                   short_slots=0, short_span_s=0.0, slot_s=0.0):  # type: ignore[no-untyped-def]
    """:func:`asleep` at ``t`` in slot ``k``, the on-durations counted in whole slots (every
    numerology has 2^mu slots per ms, and the cycles and on-duration are whole ms): exact at
    any simulated time, where the phase in seconds went wrong by a rounding deep into a run.
    ``short_slots`` (0: none) is the short cycle; ``slot_s`` the slot's length, which places
    a short on-duration's start (``k * slot_s``, as the engine's times) against the timers."""
    end = last_s + inactivity_s
    if t <= end:
        return False
    if short_slots > 0:
        x_short = (k - offset_slots) % short_slots
        if x_short < on_slots and _short_opened((k - x_short) * slot_s, end,
                                                end + short_span_s):
            return False
    return (k - offset_slots) % cycle_slots >= on_slots


def offsets_with_downlink_ms(n_devices: int, cycle_ms: int, on_ms: int, slot_types: np.ndarray,
                             slots_per_ms: int) -> np.ndarray:
    """Each device's drx-StartOffset (ms): device i's at i mod ``cycle_ms``, spreading the
    on-durations over the cycle, or the next one (cyclically) whose on-duration holds the start
    of a slot with downlink symbols (``slot_types``: the TDD pattern's, nr.SLOT_*), as the gNB
    chooses it: on an on-duration of uplink slots only, an answer could never reach its UE
    (where the cycle is a whole number of patterns, every cycle's on-duration falls on the same
    slots). The phase of the first cycle recurs, so an answer waits a bounded time."""
    plen = len(slot_types)
    ok = np.zeros(cycle_ms, dtype=bool)
    for m in range(cycle_ms):  # each offset's on-duration, in whole slots
        k = np.arange(m * slots_per_ms, (m + on_ms) * slots_per_ms)
        ok[m] = bool(np.any(slot_types[k % plen] != SLOT_U))
    if not ok.any():
        raise ValueError("no DRX offset puts an on-duration on a downlink slot")
    # the first acceptable offset at or after each m, cyclically
    idx = np.flatnonzero(ok)
    pos = np.searchsorted(idx, np.arange(cycle_ms))
    first = np.where(pos < len(idx), idx[np.minimum(pos, len(idx) - 1)], idx[0])
    return first[np.arange(n_devices) % cycle_ms].astype(np.int64)


def answer_wait_s(answer_s: np.ndarray, last_s: np.ndarray, inactivity_s: float,
                  offset_s: np.ndarray, cycle_s: float, on_s: float, short_s: float = 0.0,
                  short_span_s: float = 0.0) -> np.ndarray:
    """How long an answer reaching the cell at ``answer_s`` waits for its UE (s), whose last
    activity was at ``last_s``: 0 while the inactivity timer runs or in an on-duration, else
    until the next on-duration opens (:func:`asleep`'s cycles; a policy's estimate, in
    seconds; arrays broadcast; an infinite ``answer_s`` waits 0). :func:`answer_wait_one_s`
    is the same for one answer, operation for operation."""
    x = answer_s - offset_s
    end = last_s + inactivity_s
    with np.errstate(invalid="ignore"):
        phase = x - np.floor(x / cycle_s) * cycle_s
        wait = np.where(phase >= on_s, cycle_s - phase, 0.0)
        if short_s > 0.0:
            short_end = end + short_span_s
            x_short = x - np.floor(x / short_s) * short_s
            start = answer_s - x_short
            opened = (x_short < on_s) & (start >= end - EDGE_S) & (start < short_end - EDGE_S)
            to_next = short_s - x_short  # the next short start (the long's: one of them)
            wait = np.where(opened | (phase < on_s), 0.0,
                            np.where(answer_s + to_next < short_end - EDGE_S, to_next, wait))
        wait = np.where(answer_s > end, wait, 0.0)
    return np.where(np.isfinite(answer_s), wait, 0.0)  # type: ignore[no-any-return]


@njit(cache=True)
def answer_wait_one_s(answer_s, last_s, inactivity_s, offset_s, cycle_s, on_s, short_s=0.0,
                      short_span_s=0.0):  # type: ignore[no-untyped-def]
    """:func:`answer_wait_s` for one answer (compiled policies), operation for operation."""
    if not math.isfinite(answer_s):
        return 0.0
    end = last_s + inactivity_s
    if answer_s <= end:
        return 0.0
    x = answer_s - offset_s
    phase = x - math.floor(x / cycle_s) * cycle_s
    if short_s > 0.0:
        short_end = end + short_span_s
        x_short = x - math.floor(x / short_s) * short_s
        start = answer_s - x_short
        if (x_short < on_s and start >= end - EDGE_S and start < short_end - EDGE_S) \
                or phase < on_s:
            return 0.0
        to_next = short_s - x_short
        if answer_s + to_next < short_end - EDGE_S:
            return to_next
        return cycle_s - phase
    if phase >= on_s:
        return cycle_s - phase
    return 0.0


@njit(cache=True)
def next_wake_s(t, last_s, inactivity_s, offset_s, cycle_s, on_s, short_s=0.0,
                short_span_s=0.0):  # type: ignore[no-untyped-def]
    """The earliest time from ``t`` on at which the gNB can reach the UE: ``t`` itself in
    Active Time, else the next on-duration's start (:func:`asleep`'s cycles)."""
    if not asleep(t, last_s, inactivity_s, offset_s, cycle_s, on_s, short_s, short_span_s):
        return t
    x = t - offset_s
    if short_s > 0.0:  # the next short start, if the short cycle opens it, comes first
        nxt = offset_s + (math.floor(x / short_s) + 1.0) * short_s
        end = last_s + inactivity_s
        if _short_opened(nxt, end, end + short_span_s):
            return nxt
    return offset_s + (math.floor(x / cycle_s) + 1.0) * cycle_s


@njit(cache=True)
def _long_span_energy_j(a, b, offset_s, cycle_s, on_s, pdcch_w,
                        table):  # type: ignore[no-untyped-def]
    """:func:`span_energy_j` in the long cycle."""
    if b <= a:
        return 0.0
    on_j = pdcch_w * (on_time_s(b, offset_s, cycle_s, on_s)
                      - on_time_s(a, offset_s, cycle_s, on_s))
    na = math.floor((a - offset_s) / cycle_s)
    nb = math.floor((b - offset_s) / cycle_s)
    # the sleep of cycle n: [offset + n cycle + on, offset + (n + 1) cycle), cut to [a, b)
    s0 = max(a, offset_s + na * cycle_s + on_s)
    if nb == na:
        return on_j + (sleep_energy_j(b - s0, table) if b > s0 else 0.0)
    e = on_j
    first_end = offset_s + (na + 1.0) * cycle_s
    if first_end > s0:
        e += sleep_energy_j(first_end - s0, table)
    full = nb - na - 1.0  # whole cycles between
    if full > 0.0:
        e += full * sleep_energy_j(cycle_s - on_s, table)
    last0 = offset_s + nb * cycle_s + on_s
    if b > last0:
        e += sleep_energy_j(b - last0, table)
    return e


@njit(cache=True)
def span_energy_j(a, b, offset_s, cycle_s, on_s, pdcch_w, table, short_s=0.0,
                  short_span_s=0.0):  # type: ignore[no-untyped-def]
    """The energy (J) a UE draws over ``[a, b)`` outside its inactivity timer, which ended at
    ``a``: monitoring at ``pdcch_w`` through each on-duration, asleep between them
    (:func:`sleep_energy_j`, each sleep from an on-duration's end, or ``a``, to the next one's
    start, or ``b``). With a short cycle ``short_s``: a long on-duration open at ``a``, then
    the short cycle's through ``short_span_s`` from ``a`` (at most 16, taken one by one), then
    the long cycle's (:func:`asleep`'s cycles)."""
    if short_s <= 0.0:
        return _long_span_energy_j(a, b, offset_s, cycle_s, on_s, pdcch_w, table)
    if b <= a:
        return 0.0
    e = 0.0
    awake_to = a  # the end of the last on-duration counted (or a): where a sleep starts
    x = a - offset_s
    phase = x - math.floor(x / cycle_s) * cycle_s
    if phase < on_s:  # a long on-duration open when the inactivity timer ran out
        awake_to = min(a + (on_s - phase), b)
        e += pdcch_w * (awake_to - a)
    short_end = a + short_span_s
    n = math.ceil((a - EDGE_S - offset_s) / short_s)
    while True:
        start = offset_s + n * short_s
        if start >= b or not _short_opened(start, a, short_end):
            break
        lo = max(start, awake_to)
        hi = min(start + on_s, b)  # (one open at the short cycle's end runs to its end)
        if hi > lo:
            if lo > awake_to:
                e += sleep_energy_j(lo - awake_to, table)
            e += pdcch_w * (hi - lo)
            awake_to = hi
        n += 1.0
    if awake_to >= b:
        return e
    if b <= short_end:
        return e + sleep_energy_j(b - awake_to, table)
    # the long cycle's on-durations are short ones too: none opens in [awake_to, short_end)
    return e + _long_span_energy_j(awake_to, b, offset_s, cycle_s, on_s, pdcch_w, table)
