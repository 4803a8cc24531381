"""Connected-mode DRX: when a UE monitors the PDCCH, and what it draws while it sleeps.

A connected UE with DRX (TS 38.321 5.7) is in Active Time while its ``drx-InactivityTimer``
runs (restarted by every PDCCH that schedules it, and here by data reaching its uplink
buffer, whose scheduling request keeps it active until the grant) and during the
``drx-onDurationTimer`` that opens each long cycle, at the ms where ``(SFN * 10 + subframe)
mod drx-LongCycle = drx-StartOffset``. In between it sleeps: an answer for it waits at the gNB
for its next on-duration. The value sets are TS 38.331's DRX-Config; the sleep states and
their transitions are TR 38.840 Table 8.1.1-1 (FR1), in its relative units (PDCCH-only
monitoring = 100), scaled to the radio's ``ue_pdcch_w``.

Simplifications (named in the README): the long cycle only (no short cycle); the timer starts
at the slot a UE sends or receives in, not at its grant's PDCCH k2 slots before; the
retransmission timers are not modelled (HARQ rounds fall inside the inactivity timer).

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

#: TR 38.840 Table 8.1.1-1 (FR1): (state, relative power, additional transition energy in
#: relative units x ms, total transition time in ms), against PDCCH-only monitoring's 100.
#: A sleep needs at least its state's transition time (ramp down and up).
SLEEP_STATES: tuple[tuple[str, float, float, float], ...] = (
    ("deep", 1.0, 450.0, 20.0),
    ("light", 20.0, 100.0, 6.0),
    ("micro", 45.0, 0.0, 0.0),
)
_MONITOR_UNITS = 100.0  # PDCCH-only monitoring in TR 38.840's units


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
        if length_s >= table[i, 2]:
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
def asleep(t, last_s, inactivity_s, offset_s, cycle_s, on_s):  # type: ignore[no-untyped-def]
    """Whether a UE whose last activity was at ``last_s`` is outside Active Time at ``t``:
    its inactivity timer run out, and ``t`` outside an on-duration."""
    if t <= last_s + inactivity_s:
        return False
    x = t - offset_s
    return x - math.floor(x / cycle_s) * cycle_s >= on_s


@njit(cache=True)
def asleep_in_slot(k, t, last_s, inactivity_s, offset_slots, cycle_slots,
                   on_slots):  # type: ignore[no-untyped-def]
    """:func:`asleep` at ``t`` in slot ``k``, the on-duration counted in whole slots (every
    numerology has 2^mu slots per ms, and the cycle and on-duration are whole ms): exact at any
    simulated time, where the phase in seconds went wrong by a rounding deep into a run."""
    if t <= last_s + inactivity_s:
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
                  offset_s: np.ndarray, cycle_s: float, on_s: float) -> np.ndarray:
    """How long an answer reaching the cell at ``answer_s`` waits for its UE (s), whose last
    activity was at ``last_s``: 0 while the inactivity timer runs or in an on-duration, else
    until the next on-duration opens (a policy's estimate, in seconds; arrays broadcast; an
    infinite ``answer_s`` waits 0). :func:`answer_wait_one_s` is the same for one answer."""
    x = answer_s - offset_s
    with np.errstate(invalid="ignore"):
        phase = x - np.floor(x / cycle_s) * cycle_s
        wait = np.where((answer_s > last_s + inactivity_s) & (phase >= on_s), cycle_s - phase,
                        0.0)
    return np.where(np.isfinite(answer_s), wait, 0.0)  # type: ignore[no-any-return]


@njit(cache=True)
def answer_wait_one_s(answer_s, last_s, inactivity_s, offset_s, cycle_s,
                      on_s):  # type: ignore[no-untyped-def]
    """:func:`answer_wait_s` for one answer (compiled policies), operation for operation."""
    if not math.isfinite(answer_s):
        return 0.0
    x = answer_s - offset_s
    phase = x - math.floor(x / cycle_s) * cycle_s
    if answer_s > last_s + inactivity_s and phase >= on_s:
        return cycle_s - phase
    return 0.0


@njit(cache=True)
def next_wake_s(t, last_s, inactivity_s, offset_s, cycle_s, on_s):  # type: ignore[no-untyped-def]
    """The earliest time from ``t`` on at which the gNB can reach the UE: ``t`` itself in
    Active Time, else the next on-duration's start."""
    if not asleep(t, last_s, inactivity_s, offset_s, cycle_s, on_s):
        return t
    x = t - offset_s
    return offset_s + (math.floor(x / cycle_s) + 1.0) * cycle_s


@njit(cache=True)
def span_energy_j(a, b, offset_s, cycle_s, on_s, pdcch_w, table):  # type: ignore[no-untyped-def]
    """The energy (J) a UE draws over ``[a, b)`` outside its inactivity timer: monitoring at
    ``pdcch_w`` through each on-duration, asleep between them (:func:`sleep_energy_j`, each
    sleep from an on-duration's end, or ``a``, to the next one's start, or ``b``)."""
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
