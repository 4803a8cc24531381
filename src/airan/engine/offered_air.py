"""What the devices offer each cell's uplink and downlink, against what it carries at their own
SINR where the engine placed them (before a run): ``airan validate``'s cell warnings, and
the miss of a max-fleet count or a plan's build-out whose cell is offered what it carries or
more.

Uplink, by the scheduler's own capacity rule (``kernel.ul_capacity_at``: power control's power
per PRB, at most the UE's maximum spread over the PRBs it uses, none below the lowest usable
SINR): per device, the fewest PRBs per uplink slot that carry its uploads (each service's
rate_hz x the mean upload), over the PRBs background traffic leaves; per cell their sum.
Downlink: per device, its answers' bits per second (rate_hz x the mean answer) over its
downlink rate alone on its cell's free PRBs (the policies' ``dl_rate_bps``: its SE at the
start's interference, the neighbours at ``radio.initial_load``, the TDD pattern's downlink
share); per cell their sum.
Above 1, a direction cannot carry them whatever the scheduler: its queues grow without end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["OfferedAir", "air_overloads", "offered_air"]


@dataclass(frozen=True)
class OfferedAir:
    """Per cell (``cells``, the world's order), the share of its uplink and of its downlink
    PRBs its devices' offered load needs (1: all of them); per device, whether its uploads
    need more than it can send even alone on its cell (``short``; its cell's share counts the
    PRBs it can use)."""

    cells: list[str]
    uplink: np.ndarray
    downlink: np.ndarray
    short: np.ndarray
    # per cell, the uplink share of the devices that can send their uploads (not ``short``)
    uplink_sendable: np.ndarray

    def over(self, limit: float = 1.0) -> list[tuple[str, str, float]]:
        """The (direction "ul" or "dl", cell, share) offered ``limit`` or more, the most
        loaded first; the uplink's without the ``short`` devices, whose own uploads queue
        without end whatever the cell carries (validate names them apart): a device at the
        cell's edge does not make every other device's queue grow."""
        found = [(k, self.cells[c], float(need[c]))
                 for k, need in (("ul", self.uplink_sendable), ("dl", self.downlink))
                 for c in range(len(self.cells)) if need[c] >= limit]
        return sorted(found, key=lambda x: -x[2])


def offered_air(sc: Any, eng: Any, counted: Sequence[bool] | None = None) -> OfferedAir:
    """The offered load of ``sc``'s devices on each cell of ``eng`` (an :class:`Engine` of
    ``sc``, not yet run; nr radio), every request going over the air. ``counted``: per fleet,
    whether its devices count (None: all; max-fleet leaves out the fleets that may compute on
    board, so its shares are a lower bound)."""
    from airan.radio import link, nr

    w = eng.world
    svc = {v.name: v for v in sc.services}
    keep = np.ones(len(sc.fleets)) if counted is None else np.asarray(counted, dtype=float)
    ul_bps = keep * np.array([sum(svc[n].rate_hz * svc[n].ul_mean_kb * 8e3 for n in f.services)
                              for f in sc.fleets])
    dl_bps = keep * np.array([sum(svc[n].rate_hz * svc[n].dl_mean_kb * 8e3 for n in f.services)
                              for f in sc.fleets])
    n_cells = len(w.cell_names)
    cell = w.dev_cell
    gain = eng.uplink_gain_per_prb_mw()
    floor = w.min_sinr_lin
    floor_db = 10 * math.log10(floor)
    p_max = w.dev_ue_tx_mw
    # the closed loop raises a UE below the floor to it (as ul_capacity_at)
    p_prb = np.where(w.dev_ul_p_prb_mw * gain < floor, floor / np.maximum(gain, 1e-300),
                     w.dev_ul_p_prb_mw)
    free = (w.cell_prb * (1.0 - eng.ran.background_at(0.0, "ul")))[cell]
    n_max = np.minimum(free, p_max * gain / floor)  # the PRBs it can use at the floor or above
    bits_per_prb = w.cell_bits_per_prb_ul[cell]

    def bits(n: Any) -> Any:  # per uplink slot on n PRBs
        n = np.maximum(n, 1e-12)
        sinr = np.minimum(p_max / n, p_prb) * gain
        with np.errstate(divide="ignore"):
            se = link.spectral_efficiency(10 * np.log10(sinr), min_sinr_db=floor_db - 1e-9)
        return n * se * bits_per_prb

    slots_per_s = float(np.mean(nr.slot_usable(w.slot_type)[0])) / w.slot_s
    per_slot = ul_bps[w.dev_fleet] / slots_per_s
    alone = bits(n_max) if len(gain) else np.zeros(0)
    reach = (gain > 0.0) & (n_max > 0.0)  # (out of coverage: validate's coverage warnings)
    short = reach & (alone < per_slot)
    lo, hi = np.zeros(len(gain)), np.where(reach, n_max, 0.0)
    for _ in range(60):  # the fewest PRBs per slot that carry it: bits(n) grows with n
        mid = 0.5 * (lo + hi)
        enough = bits(mid) >= per_slot
        hi, lo = np.where(enough, mid, hi), np.where(enough, lo, mid)
    uplink = np.bincount(cell[reach], weights=np.where(short, n_max, hi)[reach] / free[reach],
                         minlength=n_cells)
    sendable = reach & ~short
    uplink_sendable = np.bincount(cell[sendable], weights=hi[sendable] / free[sendable],
                                  minlength=n_cells)
    downlink: np.ndarray = np.zeros(n_cells)
    if w.n_devices and (dl_bps > 0).any():
        rate = np.asarray(eng._rate_bps(np.arange(w.n_devices), uplink=False), dtype=float)
        ok = np.isfinite(rate) & (rate > 0.0)
        downlink = np.bincount(cell[ok], weights=dl_bps[w.dev_fleet][ok] / rate[ok],
                               minlength=n_cells)
    return OfferedAir(list(w.cell_names), uplink, downlink, short, uplink_sendable)


def air_overloads(sc: Any, eng: Any, limit: float = 1.0) -> list[tuple[str, str, float]]:
    """The cells of ``eng`` (an :class:`Engine` of ``sc``, not yet run) whose uplink or
    downlink its devices offer ``limit`` or more of what it carries (:meth:`OfferedAir.over`),
    the fleets that may compute on board left out (a lower bound: the policy may keep their
    requests there); none under the ideal and fixed radios or the local policy, where no cell
    carries them."""
    counted = [not f.computes_on_board for f in sc.fleets]
    if sc.radio.model != "nr" or eng.policy_name == "local" or not any(counted):
        return []
    return offered_air(sc, eng, counted).over(limit)
