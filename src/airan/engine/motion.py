"""Devices that move: positions on their own period, radio links re-evaluated, A3 handovers.

Every ``update_ms`` (per fleet, on a fixed slot grid) the engine moves each mobile fleet's
devices (:mod:`airan.mobility`), recomputes their links to the cells
(:class:`~airan.engine.device_radio.DeviceRadio`) and decides handovers as an NR UE would report
event A3 (TS 38.331 5.5.4.4): a neighbour stronger than the serving cell by the hysteresis for
the whole time-to-trigger, both RSRPs layer-3 filtered (5.5.3.2, :mod:`airan.radio.l3_filter`:
each position update is a sample, a link's measurement held between the radio steps that
re-evaluate it, and a device whose filter has not settled on it sampled every update). A
handover silences the device's link, uplink and downlink, for ``interruption_ms`` (its answers
wait for its end); an answer is routed to the device's cell at the time its batch ends, and
delivered by the cell the device is in when it arrives there (the Xn forwarding between the
cells takes no time). A serving cell that falls out of the device's
strongest cells is lost: the device re-attaches to its strongest cell at once, its link silent
until its radio link failure (T310) and the RRC re-establishment are through (``handover``'s
``t310_ms``, ``n310``, ``reestablish_ms``); one heard below Qout (``qout_db``) fails the same way
unless the device hands over or is back in sync before T310 expires (:meth:`Motion._monitor`).

Simplifications (named in docs/model.md): the A3 condition is evaluated at each position update
(the TTT is counted in updates); a moving device's candidate cells and residual interference are
re-listed every ``RELIST_M`` of travel, and the gains to them re-evaluated every
:func:`radio_step_m` (positions themselves update every ``update_ms``); the uplink interference
coupling between cells keeps the positions the devices start from; a fleet's ``update_ms`` is
rounded up to the grid of the shortest one; Qout is checked when a moving device's links are
re-evaluated (and every update while it is out of sync), not for parked devices.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from airan.engine import kernel as K
from airan.engine.world import (
    World,
    cut_hold,
    hold_link,
    layout_seed,
    slot_start_at_or_after,
    ssb_noise_re_mw,
    ssb_sinr,
)
from airan.radio import l3_filter, nr
from airan.radio import link as radio_link
from airan.scenario.schema import Scenario

RELIST_M = 100.0  # a moving device's candidate cells (nearest sites) are re-listed this often (m)
RADIO_STEP_M = 10.0  # a device's links are re-evaluated once it has moved this far (m), or half
# the environment's shortest correlation distance where that is less (shadowing, TR 38.901 Table
# 7.5-6; LOS state, Table 7.6.3.1-2): UMa 10 m, UMi 5 m, InH 3 m, InF 0.5-2.5 m


STEP_TOL_M = 1e-6  # distances compared with RELIST_M and radio_step_m: rounding allowed (m)


def _per_km(handovers: int, km: float) -> float | None:
    """Handovers per km moved; None where nothing moved."""
    return handovers / km if km > 0.0 else None


def update_grid_slots(periods_s: list[float], slot_s: float) -> int:
    """The slots between the engine's motion updates: the shortest fleet period, in whole
    slots (at least one); each fleet moves on this grid once its own period has passed."""
    return max(1, int(round(min(periods_s, default=0.1) / slot_s)))


def radio_step_m(environment: str) -> float:
    """How far a device moves before its links are re-evaluated (m): its shadowing and the
    field behind its LOS state then correlate at exp(-step / d_corr) >= 0.6 with the last
    value (0.76 in UMa)."""
    from airan.radio.shadowing import LOS_STATE_DECORRELATION_M, SF_DECORRELATION_M

    env = environment.lower()
    shortest = min(*SF_DECORRELATION_M[env], LOS_STATE_DECORRELATION_M[env])
    return min(RADIO_STEP_M, shortest / 2.0)


def a3_trigger_since(cells: NDArray[np.int64], meets: NDArray[np.bool_],
                     prev_cells: NDArray[np.int64], prev_since: NDArray[np.float64],
                     t: float) -> NDArray[np.float64]:
    """Since when each of the devices' listed ``cells`` [m, K] has met A3's entering condition
    (s; inf where it does not now, ``meets`` False), each cell on a timer of its own (TS
    38.331 5.5.4.1: a cell enters ``cellsTriggeredList`` once it meets the condition for the
    whole time-to-trigger): a cell that met it at the last evaluation (``prev_cells`` and
    ``prev_since``, inf where it did not) keeps its start, one that meets it anew starts at
    ``t``. (A single timer that followed the strongest neighbour restarted whenever two
    neighbours swapped places: a RAN researcher's review.)"""
    if cells.shape[0] == 0:
        return np.zeros(cells.shape)
    match = cells[:, :, None] == prev_cells[:, None, :]
    listed = match.any(axis=2)
    prev = np.where(listed, np.take_along_axis(prev_since, np.argmax(match, axis=2), axis=1),
                    np.inf)
    return np.where(meets, np.minimum(prev, t), np.inf)  # type: ignore[no-any-return]


#: A handover back to the cell the device left at its previous handover within this is a
#: ping-pong (TR 36.839's mobility metric: back to the source cell within the minimum time of
#: stay, 1 s).
PING_PONG_S = 1.0

#: A device's layer-3 filtered RSRPs within this of its measurements (dB) have settled: until
#: they have, the filter is followed at every position update (its A3 condition may change)
FILTER_SETTLED_DB = 0.1

#: Qin above Qout (dB): in sync again once the serving SSB is this much above Qout (TS 38.133
#: 8.1.1: Qin is a 2% BLER of a hypothetical PDCCH at aggregation level 4 where Qout is 10% at
#: 8; the gap between them in dB an assumption), so a device at Qout does not flap in and out.
QIN_ABOVE_QOUT_DB = 2.0


class Motion:
    """The mobile fleets of one run and their handovers."""

    def __init__(self, scenario: Scenario, world: World, seed: int) -> None:
        from airan.mobility import build_mobility
        from airan.scenario.load import mobility_bounds, scenario_origin

        w = self.world = world
        self.fleets: list[tuple[NDArray[np.int64], Any]] = []
        self.fleet_index: list[int] = []  # each mobile fleet's index in the scenario
        bounds = mobility_bounds(w.cell_xy)
        origin = scenario_origin(scenario)  # lat/lon traces in the site list's frame
        periods = []
        for fi, f in enumerate(scenario.fleets):
            if f.mobility is None or f.mobility.model == "static":
                continue
            ids = np.flatnonzero(w.dev_fleet == fi)
            if not len(ids):
                continue
            # (trajectories are the layout's: from its seed, engine.world.layout_seed)
            rng = np.random.default_rng(np.random.SeedSequence(
                [layout_seed(scenario, seed), 0x6D6F76, fi]))
            # random waypoint starts in its stationary state, Manhattan on the streets; the
            # others start where the world placed the devices
            own_start = f.mobility.model in ("random_waypoint", "manhattan")
            mob = build_mobility(
                f.mobility, len(ids), f.area if f.area is not None else bounds, f.height_m,
                rng, initial_xy=None if own_start else w.dev_xy[ids], origin=origin,
                field=f"fleets[{f.name}].mobility")
            self.fleets.append((ids, mob))
            self.fleet_index.append(fi)
            periods.append(f.mobility.update_ms * 1e-3)
        # the engine calls update on the shortest period's grid; each fleet moves on its own
        self.update_slots = update_grid_slots(periods, w.slot_s)
        self._period_s = np.asarray(periods, dtype=float)
        self._moved_s = np.full(len(periods), -np.inf)  # when each fleet last moved
        self._seen = np.zeros((w.n_devices, 3))  # where each device's gains were evaluated
        # each device's distance moved (m): the straight lines between its updates (a rail
        # planner's review: handovers a minute, not per km, while a track's masts are per km)
        self.travelled_m = np.zeros(w.n_devices)
        # the links' LOS state (radio.los; None off the nr radio): the summary says it, so the
        # many-handovers caveat suggests a fixed state only where it is not one already
        self.los_mode = scenario.radio.los if scenario.radio.model == "nr" else None
        self._listed = np.zeros((w.n_devices, 2))  # where its candidate cells were listed
        self.radio_step_m = radio_step_m(scenario.radio.environment)
        ho = scenario.handover
        # per device, A3's Hys + Off, its time-to-trigger and a handover's interruption (s):
        # its fleet's own (Fleet.handover), else the scenario's
        n_all = w.n_devices
        self._hys_db = np.full(n_all, ho.hysteresis_db + ho.a3_offset_db)
        self._ttt_s = np.full(n_all, ho.ttt_ms * 1e-3)
        self._interruption_s = np.full(n_all, ho.interruption_ms * 1e-3)
        for (ids, _), fi in zip(self.fleets, self.fleet_index, strict=True):
            own = scenario.fleets[fi].handover
            if own is None:
                continue
            hys = ho.hysteresis_db if own.hysteresis_db is None else own.hysteresis_db
            off = ho.a3_offset_db if own.a3_offset_db is None else own.a3_offset_db
            self._hys_db[ids] = hys + off
            self._ttt_s[ids] = (ho.ttt_ms if own.ttt_ms is None else own.ttt_ms) * 1e-3
            self._interruption_s[ids] = (ho.interruption_ms if own.interruption_ms is None
                                         else own.interruption_ms) * 1e-3
        self.rlf_silence_s = ho.rlf_silence_s  # a lost serving cell: T310, re-establishment
        # radio link monitoring (TS 38.133 8.1): out of sync below Qout, on the nr radio only
        nr_radio = scenario.radio.model == "nr"
        self.qout = (10 ** (ho.qout_db / 10) if ho.qout_db is not None and nr_radio
                     else None)
        self.noise_re_mw = ssb_noise_re_mw(w.numerology, scenario.radio.ue_noise_figure_db)
        self.qin = None if self.qout is None else self.qout * 10 ** (QIN_ABOVE_QOUT_DB / 10)
        self.rlf_delay_s = nr.rlf_delay_s(ho.t310_ms, ho.n310)
        self.recover_s = nr.rlm_recovery_s(ho.n311)
        self.reestablish_s = ho.reestablish_ms * 1e-3
        self.oos_since = np.full(w.n_devices, np.inf)  # out of sync since (s), inf: in sync
        self._oos_cell = np.full(w.n_devices, -1, dtype=np.int64)  # the cell it was out on
        self._oos_silent = np.zeros(w.n_devices, dtype=bool)  # out-of-sync indicated: silent
        self._in_hole = np.zeros(w.n_devices, dtype=bool)  # failed, no cell usable: out of service
        self.oos_silences = np.zeros(w.n_devices, dtype=np.int64)  # out-of-sync silences
        self.oos_silent_s = np.zeros(w.n_devices)  # and their time (s), those ended
        self._oos_from = np.full(w.n_devices, np.nan)  # a silence under way: since when
        # each device's time between its updates (s): its fleet's period on the engine's grid
        # of the shortest one (update below: once its period less half a slot has passed)
        self._dev_period = np.zeros(w.n_devices)
        grid_s = self.update_slots * w.slot_s
        for (ids, _), period in zip(self.fleets, periods, strict=True):
            self._dev_period[ids] = max(1.0, math.ceil((period - 0.5 * w.slot_s) / grid_s
                                                       - 1e-9)) * grid_s
        # the layer-3 filter (TS 38.331 5.5.3.2; fc0: none): per device, the cells it filters,
        # their filtered RSRP and the measurement held since its last sample (dBm), when that
        # was (s), whether it has settled, and each new sample's weight at its update period
        self.filter_k = ho.filter_coefficient
        k_cells = w.dev_top_cell.shape[1]
        n_f = w.n_devices if self.fleets else 0  # (no mobile fleet: none; metro's 38 MB)
        self._f_cell = np.full((n_f, k_cells), -1, dtype=np.int64)
        self._f_db = np.full((n_f, k_cells), -np.inf)
        self._f_held_db = np.full((n_f, k_cells), -np.inf)
        self._f_t = np.full(n_f, -np.inf)
        self._unsettled = np.zeros(n_f, dtype=bool)
        self._f_weight = l3_filter.per_sample_factor(self.filter_k, self._dev_period)
        self.ue_nf_db = scenario.radio.ue_noise_figure_db
        n = w.n_devices
        self.candidate = np.full(n, -1, dtype=np.int64)  # the neighbour meeting A3, if any
        # each listed cell's A3 timer (a3_trigger_since): the cells, since when each has met
        # A3 (inf: not), and the serving cell they were measured against
        self._trig_cell = np.full((n_f, k_cells), -1, dtype=np.int64)
        self._trig_since = np.full((n_f, k_cells), np.inf)
        self._trig_serving = np.full(n_f, -1, dtype=np.int64)
        self.handovers = np.zeros(n, dtype=np.int64)
        # ping-pong: a handover back to the cell the device left at its previous one, within
        # PING_PONG_S of it, from the cell that handover entered (the cell it left, the one
        # it entered and when: a fault or a radio link failure since moves it elsewhere)
        self.ping_pongs = np.zeros(n, dtype=np.int64)
        self._left_cell = np.full(n, -1, dtype=np.int64)
        self._entered_cell = np.full(n, -1, dtype=np.int64)
        self._left_s = np.full(n, -np.inf)
        self.radio_link_failures = np.zeros(n, dtype=np.int64)
        self.affected = np.zeros(len(w.service_names), dtype=np.int64)
        #: when each device may send (s, from and until; None: every device all run): a
        #: trace's devices with ``outside_trace: silent`` between their first and last samples
        self.sending_s: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        for fi, (ids, mob) in zip(self.fleet_index, self.fleets, strict=True):
            spec = scenario.fleets[fi].mobility
            if spec is not None and spec.model == "trace" and spec.outside_trace == "silent":
                if self.sending_s is None:
                    self.sending_s = (np.full(n, -np.inf), np.full(n, np.inf))
                self.sending_s[0][ids], self.sending_s[1][ids] = mob.in_trace_s()

    @property
    def active(self) -> bool:
        return bool(self.fleets)

    def update(self, engine: Any, down_cells: NDArray[np.int64] | None = None, *,
               attach: bool = False) -> None:
        """Move the mobile devices to where they are now and hand over those that must
        (``attach``: at the start, every device simply attaches to its strongest cell)."""
        w = self.world
        st = engine._st
        t = engine.now_s
        # the fleets whose update_ms has passed (on the grid: within half a slot)
        due = np.flatnonzero(attach | (t >= self._moved_s + self._period_s - 0.5 * w.slot_s))
        if not len(due):
            return
        self._moved_s[due] = t
        ids = np.concatenate([self.fleets[i][0] for i in due])
        pos = np.concatenate([self.fleets[i][1].positions(t) for i in due])
        if not attach:  # (the start places them: no distance)
            self.travelled_m[ids] += np.hypot(np.hypot(*(pos[:, :2] - w.dev_xy[ids]).T),
                                              pos[:, 2] - w.dev_h[ids])
        w.dev_xy[ids] = pos[:, :2]
        w.dev_h[ids] = pos[:, 2]
        # a device's candidate cells are re-listed once it has moved RELIST_M, and the gains
        # to them re-evaluated once it has moved radio_step_m (or at the start: all of them)
        if attach:
            relist = np.ones(len(ids), dtype=bool)
        else:
            # (less a micrometre: a step of exactly the distance, 10 m at 10 m/s in 100 ms
            # updates, sums to 9.999999 m in floating point and waited an update more)
            relist = np.hypot(*(pos[:, :2] - self._listed[ids]).T) >= RELIST_M - STEP_TOL_M
            regain = np.hypot(*(pos - self._seen[ids]).T) >= self.radio_step_m - STEP_TOL_M
            regain |= self.candidate[ids] >= 0  # a neighbour meets A3: follow it every update
            regain |= np.isfinite(self.oos_since[ids]) | self._in_hole[ids]  # (T310 runs, or
            # it failed with no usable cell: followed every update)
            keep = relist | regain
            settle = ~keep & self._unsettled[ids]  # (their filter moves on the held links)
            if settle.any():
                keep[np.flatnonzero(settle)[self._settle(ids[settle], t, down_cells)]] = True
            ids, pos, relist = ids[keep], pos[keep], relist[keep]
            if not len(ids):
                return
        self._seen[ids] = pos
        self._listed[ids[relist]] = pos[relist, :2]
        k = w.dev_top_cell.shape[1]
        top = np.empty((len(ids), k), dtype=np.int64)
        gain = np.empty((len(ids), k))
        fdd = w.uplink_gains_apart
        gain_ul = np.empty((len(ids), k)) if fdd else gain
        resid = w.dev_resid_gain_mw[ids].copy()
        if relist.any():
            top[relist], gain[relist], g_ul, resid[relist] = w.device_radio.links(
                pos[relist, :2], pos[relist, 2], w.dev_o2i.rows(ids[relist]))
            if fdd:
                gain_ul[relist] = g_ul
        if (~relist).any():
            old = w.dev_top_cell[ids[~relist]]
            g, g_ul = w.device_radio.link_gains(pos[~relist, :2], pos[~relist, 2], old,
                                                w.dev_o2i.rows(ids[~relist]))
            dup = np.zeros(old.shape, dtype=bool)  # padding repeats a cell: count it once
            for j in range(1, old.shape[1]):
                dup[:, j] = (old[:, :j] == old[:, j : j + 1]).any(axis=1)
            g[dup] = 0.0
            top[~relist], gain[~relist] = old, g
            if fdd:
                g_ul[dup] = 0.0
                gain_ul[~relist] = g_ul
        rx = gain * w.cell_rs_mw[top]  # RSRP: event A3 compares it (TS 38.331 5.5.4.4)
        if down_cells is not None and len(down_cells):
            rx = np.where(np.isin(top, down_cells), 0.0, rx)
        with np.errstate(divide="ignore"):
            measured_db = 10.0 * np.log10(rx)
        filtered_db = (self._filtered(ids, top, measured_db, t) if self.filter_k
                       else measured_db)
        order = np.argsort(-rx, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        gain = np.take_along_axis(gain, order, axis=1)
        gain_ul = np.take_along_axis(gain_ul, order, axis=1) if fdd else gain
        rx = np.take_along_axis(rx, order, axis=1)
        measured_db = np.take_along_axis(measured_db, order, axis=1)
        filtered_db = (np.take_along_axis(filtered_db, order, axis=1) if self.filter_k
                       else measured_db)
        rows = np.arange(len(ids))
        serving = w.dev_cell[ids]
        at = top == serving[:, None]
        present = at.any(axis=1) & (rx[rows, np.argmax(at, axis=1)] > 0)
        best = top[:, 0]  # the strongest now: where a failed link re-establishes
        # A3 on the filtered RSRPs (dBm), each neighbour on its own time-to-trigger; the
        # handover's target the strongest of those that met it for the whole time-to-trigger
        # (the gNB's pick from the report's triggered cells)
        meets = self._a3_cells(top, filtered_db, serving, present, self._hys_db[ids])
        if attach:  # (no neighbour to follow: each attaches to its strongest, not the cell of
            meets[:] = False  # where the world first placed it)
        since = a3_trigger_since(top, meets, self._trig_cell[ids], self._trig_since[ids], t)
        anew = self._trig_serving[ids] != serving  # (timers against another serving cell)
        since[anew] = np.where(meets[anew], t, np.inf)
        fired = since <= (t - self._ttt_s[ids])[:, None] + 1e-9  # TTT 0: at once
        ho = fired.any(axis=1)
        a3 = meets.any(axis=1)
        pick = np.argmax(np.where(fired, filtered_db, np.where(meets, filtered_db - 1e3,
                                                                -np.inf)), axis=1)
        target = top[rows, pick]  # (where none fired: the strongest meeting A3, if any)
        self.candidate[ids] = np.where(a3, target, -1)
        self._trig_cell[ids], self._trig_since[ids] = top, since
        self._trig_serving[ids] = serving
        rlf = ~present & (rx[:, 0] > 0)
        none = np.zeros(len(ids), dtype=bool)
        declared, reattach, hole = none, none, none
        rlf_since = np.full(len(ids), np.inf)
        if self.qout is not None and not attach:
            # (an interference burst on the serving cell raises the floor its SSBs are heard
            # over too: a strong one puts its devices out of sync)
            rise = engine.faults.dl_rise(serving)
            declared, reattach, hole, rlf_since = self._monitor(
                engine, ids, serving, present, ho, rlf,
                self._ssb_sinr(top, rx, np.argmax(at, axis=1), resid, rise),
                self._ssb_sinr(top, rx, np.zeros(len(ids), dtype=np.int64), resid, rise))
            ho &= ~(declared | reattach | hole)
            rlf &= ~(reattach | hole)
        if attach:
            ho = rlf = np.zeros(len(ids), dtype=bool)
            serving = best
        move = ho | rlf | declared | reattach
        new_serving = np.where(ho, target, np.where(move, best, serving))
        # the serving cell leads each device's list (the kernel's convention)
        lead = np.argmax(top == new_serving[:, None], axis=1)
        cols = np.arange(top.shape[1])[None, :]
        perm = np.where(cols == 0, lead[:, None], np.where(cols <= lead[:, None], cols - 1, cols))
        top = np.take_along_axis(top, perm, axis=1)
        gain = np.take_along_axis(gain, perm, axis=1)
        gain_ul = np.take_along_axis(gain_ul, perm, axis=1) if fdd else gain
        if self.filter_k:  # (in the list's order: the next update finds the cells in place)
            self._keep_filter(ids, top, np.take_along_axis(filtered_db, perm, axis=1),
                              np.take_along_axis(measured_db, perm, axis=1), t,
                              new_serving)
        no_cell = rx[:, 0] <= 0
        gain[no_cell, 0] = 0.0  # every candidate cell is off air: radio outage
        gain_ul[no_cell, 0] = 0.0
        w.dev_top_cell[ids] = top
        w.dev_top_gain[ids] = gain
        w.dev_top_gain_ul[ids] = gain_ul
        engine.faults.forget_outage(ids)  # (gains afresh: a cell outage's saved ones are stale)
        w.dev_resid_gain_mw[ids] = resid
        w.dev_cell[ids] = top[:, 0]
        pl = 1.0 / np.maximum(gain[:, 0], 1e-30)
        w.dev_ul_p_prb_mw[ids] = radio_link.pusch_prb_power_mw(
            w.dev_ul_p0_dbm[ids], w.numerology, pl, w.dev_ul_alpha[ids])
        bw_hz = w.cell_prb[top[:, 0]] * 12 * 15e3 * (2 ** w.numerology)
        # (through the faults: an interference burst on the new cell raises it, one on the cell
        # it left no longer)
        engine.faults.set_dl_noise(
            ids, radio_link.dbm_to_mw(nr.thermal_noise_dbm(bw_hz, self.ue_nf_db)))
        st.ue_se_slot[ids] = -1  # their SINR is re-evaluated at the next use (or policy read)
        st.ue_se_slot_dl[ids] = -1
        moved = ids[move]
        if len(moved):
            handed = ids[ho]
            self.handovers[handed] += 1
            back = ((target[ho] == self._left_cell[handed])
                    & (serving[ho] == self._entered_cell[handed])  # A -> B -> A only
                    & (t - self._left_s[handed] <= PING_PONG_S + 1e-9))
            self.ping_pongs[handed[back]] += 1
            self._left_cell[handed] = serving[ho]
            self._entered_cell[handed] = target[ho]
            self._left_s[handed] = t
            self.radio_link_failures[ids[rlf | declared]] += 1
            self.candidate[moved] = -1
            self._trig_since[moved] = np.inf  # (A3 starts over against the new cell)
            hold_link(w, st, ids[ho], t + self._interruption_s[ids[ho]], K.HOLD_HANDOVER, t)
            # a cell lost: T310 from now, or, out of sync already, from its first indication
            fresh = rlf & np.isinf(rlf_since)
            hold_link(w, st, ids[fresh], t + self.rlf_silence_s, K.HOLD_LINK_FAILURE, t)
            late = rlf & np.isfinite(rlf_since)
            cut_hold(st, ids[late], t, K.HOLD_OUT_OF_SYNC)  # (the silence ends in a failure)
            hold_link(w, st, ids[late], np.maximum(rlf_since[late] + self.rlf_silence_s,
                                                   t + self.reestablish_s),
                      K.HOLD_LINK_FAILURE, t)
            # (a failure out of sync, and a return from a coverage hole: held by _monitor)
            self._count_affected(engine, moved)

    def _a3_cells(self, cells: NDArray[np.int64], filtered_db: NDArray[np.float64],
                  serving: NDArray[np.int64], present: NDArray[np.bool_],
                  hys_db: NDArray[np.float64]) -> NDArray[np.bool_]:
        """[m, K]: whether each of ``cells`` meets A3's entering condition against the
        serving cell (``present``: listed and heard), Mn - Hys > Mp + Off (TS 38.331
        5.5.4.4), on the filtered RSRPs ``filtered_db`` (dBm); ``hys_db``, each row's Hys +
        Off (dB)."""
        rows = np.arange(len(cells))
        at = cells == serving[:, None]
        own_db = np.where(present, filtered_db[rows, np.argmax(at, axis=1)], -np.inf)
        with np.errstate(invalid="ignore"):  # (-inf - -inf: nothing heard, no A3)
            return (present[:, None] & (cells != serving[:, None])  # type: ignore[no-any-return]
                    & (filtered_db - own_db[:, None] > hys_db[:, None]))

    def _a3(self, cells: NDArray[np.int64], filtered_db: NDArray[np.float64],
            serving: NDArray[np.int64], present: NDArray[np.bool_],
            hys_db: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Whether each device has a neighbour that meets A3's entering condition against the
        serving cell (``present``: listed and heard), Mn - Hys > Mp + Off (TS 38.331 5.5.4.4),
        on the filtered RSRPs ``filtered_db`` (dBm) of ``cells`` (:meth:`_a3_cells`), and the
        strongest such neighbour (the strongest cell where none does). With Hys + Off below
        zero a neighbour weaker than the serving cell may meet it, as the standard has it (a
        diff review: the strongest alone was checked here, and disagreed)."""
        rows = np.arange(len(cells))
        meets = self._a3_cells(cells, filtered_db, serving, present, hys_db)
        col = np.argmax(np.where(meets, filtered_db, filtered_db - 1e3), axis=1)
        return cells[rows, col], np.asarray(meets.any(axis=1), dtype=bool)

    def _filtered(self, ids: NDArray[np.int64], cells: NDArray[np.int64],
                  measured_db: NDArray[np.float64], t: float) -> NDArray[np.float64]:
        """The devices ``ids``' layer-3 filtered RSRPs (dBm) of ``cells`` at ``t``, given their
        measurements now (``measured_db``): each update since their last sample a sample of
        the measurement then held (:func:`airan.radio.l3_filter.filter_db`); a cell they had
        not listed starts from its measurement."""
        old = self._f_cell[ids]
        f_db, held_db = self._f_db[ids], self._f_held_db[ids]
        moved = np.flatnonzero((cells != old).any(axis=1))  # (most lists are as they were)
        if len(moved):
            match = cells[moved, :, None] == old[moved, None, :]
            listed = match.any(axis=2)
            col = np.argmax(match, axis=2)
            f_db[moved] = np.where(listed, np.take_along_axis(f_db[moved], col, axis=1),
                                   -np.inf)
            held_db[moved] = np.where(listed, np.take_along_axis(held_db[moved], col, axis=1),
                                      -np.inf)
        period = self._dev_period[ids]
        since = t - self._f_t[ids]
        samples = np.where(np.isfinite(since), np.maximum(np.round(since / period), 1.0), 1.0)
        return l3_filter.filter_db(f_db, held_db, measured_db, samples[:, None],
                                   self._f_weight[ids][:, None])

    def _keep_filter(self, ids: NDArray[np.int64], cells: NDArray[np.int64],
                     filtered_db: NDArray[np.float64], measured_db: NDArray[np.float64],
                     t: float, serving: NDArray[np.int64]) -> None:
        """Keep the devices ``ids``' filter state as sampled at ``t``. A device has settled
        where its filtered values are within :data:`FILTER_SETTLED_DB` of its measurements
        and A3 reads the same on both (against ``serving``): else the filter, moving on
        toward a measurement held, may still meet A3 (a review: a lead 0.1 dB above the
        hysteresis, read 0.1 dB below it, would wait for the next radio step)."""
        self._f_cell[ids] = cells
        self._f_db[ids] = filtered_db
        self._f_held_db[ids] = measured_db
        self._f_t[ids] = t
        with np.errstate(invalid="ignore"):
            apart = np.abs(filtered_db - measured_db) > FILTER_SETTLED_DB
        rows = np.arange(len(ids))
        at = cells == serving[:, None]
        present = at.any(axis=1) & np.isfinite(measured_db[rows, np.argmax(at, axis=1)])
        _, a3_filtered = self._a3(cells, filtered_db, serving, present, self._hys_db[ids])
        _, a3_measured = self._a3(cells, measured_db, serving, present, self._hys_db[ids])
        self._unsettled[ids] = apart.any(axis=1) | (a3_filtered != a3_measured)

    def _settle(self, ids: NDArray[np.int64], t: float,
                down_cells: NDArray[np.int64] | None) -> NDArray[np.bool_]:
        """Sample the filter of devices ``ids`` whose links are held (not re-evaluated now) but
        whose filtered RSRPs have not settled on them. Returns those that now meet A3 (or
        have lost their serving cell): the caller re-evaluates their links, and samples them,
        now; the others' samples are kept."""
        cells = self._f_cell[ids]
        held_db = self._f_held_db[ids]
        if down_cells is not None and len(down_cells):
            held_db = np.where(np.isin(cells, down_cells), -np.inf, held_db)
        filtered_db = self._filtered(ids, cells, held_db, t)
        serving = self.world.dev_cell[ids]
        at = cells == serving[:, None]
        rows = np.arange(len(ids))
        present = at.any(axis=1) & np.isfinite(held_db[rows, np.argmax(at, axis=1)])
        _, a3 = self._a3(cells, filtered_db, serving, present, self._hys_db[ids])
        follow = a3 | ~present
        calm = ~follow
        self._keep_filter(ids[calm], cells[calm], filtered_db[calm], held_db[calm], t,
                          serving[calm])
        return follow

    def _monitor(self, engine: Any, ids: NDArray[np.int64], serving: NDArray[np.int64],
                 present: NDArray[np.bool_], ho: NDArray[np.bool_], rlf: NDArray[np.bool_],
                 sinr: NDArray[np.float64], sinr_best: NDArray[np.float64],
                 ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_],
                            NDArray[np.float64]]:
        """Radio link monitoring (TS 38.133 8.1, TS 38.331 5.3.10) of the devices ``ids`` from
        their serving cell's SSB SINR (``sinr``; ``sinr_best``: their strongest cell's). Below
        Qout, a device is out of sync after the evaluation period (200 ms), silent from then (a
        simplification: at Qout nine PDCCHs in ten decode, but the indications fall far below
        it, a median -16.5 dB in city with moving vehicles), and T310 runs (``nr.rlf_delay_s``
        from the drop). It carries on where it hands over first (``ho``: A3's time-to-trigger
        met; after the handover's interruption), or where its SSB is back at Qin
        (:data:`QIN_ABOVE_QOUT_DB` above Qout) in time for the in-sync evaluation to stop T310
        before it expires (``recover_s`` later); else the failure is declared at T310's expiry,
        whatever the SSB is then, and the device re-establishes on its strongest cell
        (``reestablish_ms``), or, where that cell too is below Qout, stays out of service,
        silent, until one is at Qin (a coverage hole: one failure, not one every T310). Before
        the first indication its data goes on at the data channel's SINR (load-weighted), a
        simplification. The neighbours' SSBs, sent at the same instants in a synchronised
        network, interfere at full power whatever the load.

        Returns the failures declared now, the devices leaving a hole (to their strongest
        cell), those staying in one, and, for ``rlf`` (a serving cell lost) while out of sync,
        when T310 started (inf elsewhere): the engine holds their links from it."""
        w = self.world
        st = engine._st
        t = engine.now_s
        assert self.qout is not None and self.qin is not None
        eps = 1e-9
        period = self._dev_period[ids]
        since = self.oos_since[ids]
        since[self._oos_cell[ids] != serving] = np.inf  # (elsewhere since: a fault, a move)
        in_hole = self._in_hole[ids]
        reattach = in_hole & (sinr_best >= self.qin)
        hole = in_hole & ~reattach
        live = ~in_hole
        silent = live & self._oos_silent[ids] & np.isfinite(since)
        running = live & np.isfinite(since) & ~ho & ~rlf
        oos = live & present & (sinr < self.qout)
        start = oos & np.isinf(since) & ~ho & ~rlf
        # (T310 runs only from an indication: a device seen once below Qout and above it at
        # its next update, an update period of a second or more apart, was never followed)
        expired = running & (silent | oos) & (t - since >= self.rlf_delay_s - eps)
        indicated = (oos & running & ~silent & ~expired
                     & (t - since >= nr.RLM_EVALUATE_OUT_MS * 1e-3 - eps))
        calm = running & ~silent & ~oos & ~expired  # above Qout before the first indication
        back = (running & silent & ~expired & (sinr >= self.qin)
                & (t + self.recover_s <= since + self.rlf_delay_s + eps))
        rescued = silent & ho
        into_hole = expired & (sinr_best < self.qout)
        # a cell lost: T310 keeps its start where it runs already; and with no cell heard at
        # Qout, out of service at once (one failure for a hole, not a re-establishment on a
        # cell it cannot hear)
        rlf_since = np.where(rlf & np.isfinite(since), since, np.inf)
        lost_to_hole = live & rlf & (sinr_best < self.qout)
        into_hole |= lost_to_hole
        for mask, until in ((back, np.full(len(ids), t + self.recover_s)),
                            (rescued, t + self._interruption_s[ids])):
            # (the out-of-sync silence ends early)
            end = slot_start_at_or_after(until[mask], w.slot_s)
            for held in (st.ue_ul_elig, st.ue_dl_hold):
                held[ids[mask]] = np.minimum(held[ids[mask]], end)
            cut_hold(st, ids[mask], end, K.HOLD_OUT_OF_SYNC)
        hold_link(w, st, ids[indicated], since[indicated] + self.rlf_silence_s,
                  K.HOLD_OUT_OF_SYNC, t)
        # still out of sync: silent at least to the next update (one coarser than the rest of
        # T310 would open the link before the failure is declared)
        still = running & (silent | indicated) & ~back & ~expired
        hold_link(w, st, ids[still], t + period[still], K.HOLD_OUT_OF_SYNC, t)
        cut_hold(st, ids[expired], t, K.HOLD_OUT_OF_SYNC)  # (the silence ends in a failure)
        hold_link(w, st, ids[expired & ~into_hole], t + self.reestablish_s,
                  K.HOLD_LINK_FAILURE, t)
        hold_link(w, st, ids[into_hole | hole], t + period[into_hole | hole],
                  K.HOLD_LINK_FAILURE, t)
        hold_link(w, st, ids[reattach], t + self.reestablish_s, K.HOLD_LINK_FAILURE, t)
        since[start] = t
        since[calm | back | rescued | expired | rlf] = np.inf
        self.oos_since[ids] = since
        self._oos_silent[ids] = (silent | indicated) & np.isfinite(since)
        self._oos_cell[ids] = np.where(start, serving, self._oos_cell[ids])
        self._in_hole[ids] = hole | into_hole
        # out-of-sync silences, counted (an AMR maker's review: a half-second silence before a
        # late handover, the whole of the handovers' effect on latency, was said nowhere):
        # from the first indication to in sync again, a handover, or the failure
        was = np.isfinite(self._oos_from[ids])
        now = self._oos_silent[ids]
        ended = was & ~now
        end_t = np.where(back, t + self.recover_s,
                         np.where(rescued, t + self._interruption_s[ids], t))
        self.oos_silent_s[ids[ended]] += np.maximum(
            end_t[ended] - self._oos_from[ids[ended]], 0.0)
        self._oos_from[ids[ended]] = np.nan
        started = ~was & now
        self.oos_silences[ids[started]] += 1
        self._oos_from[ids[started]] = t
        return expired, reattach, hole, rlf_since

    def _ssb_sinr(self, top: NDArray[np.int64], rx: NDArray[np.float64], col: NDArray[np.int64],
                  resid: NDArray[np.float64], rise: NDArray[np.float64]) -> NDArray[np.float64]:
        """Each device's SINR on its serving cell's SSB (linear, :func:`ssb_sinr`: the serving
        cell ``rx[:, col]`` over the other listed cells of its carrier, ``resid`` and the noise
        of one subcarrier, times ``rise``)."""
        return ssb_sinr(self.world, top, rx, col, resid, self.noise_re_mw, rise)

    def _count_affected(self, engine: Any, devices: NDArray[np.int64]) -> None:
        """Requests on the radio (uplink buffer or downlink queue) of devices handing over."""
        rq = engine._st.rq_i
        on_air = (rq[:, K.I_STAGE] == K.ST_UL) | (rq[:, K.I_STAGE] == K.ST_DL)
        hit = on_air & np.isin(rq[:, K.I_DEV], devices)
        self.affected += np.bincount(rq[hit, K.I_SVC], minlength=len(self.affected))

    def _speed_now(self, fi: int, movers: NDArray[np.int64]) -> float | None:
        """Fleet ``fi``'s moving devices' mean speed now (m/s: each one's current leg's, a
        pause included, or its path's: a drone's while it flies, not 0 once it hovers at an
        open path's end, as its handovers a minute are over its minutes on the move), None
        where its model keeps none (a trace) or none of them moves. ``movers``: the world's
        ids of those that move in the run."""
        for index, (_, mob) in zip(self.fleet_index, self.fleets, strict=True):
            if index != fi:
                continue
            if not len(movers):
                return None
            v = getattr(mob, "speed_mps", None)
            if v is None:
                v = getattr(mob, "speed", None)
            if v is None:
                return None
            return float(np.mean(np.asarray(v, dtype=float)[: mob.n_moving]
                                 if np.ndim(v) else v))
        return None

    def summary(self, duration_s: float) -> dict[str, Any]:
        w = self.world
        # the devices that move (a trace of fewer devices than its fleet leaves the rest parked)
        movers = [ids[: mob.n_moving] for ids, mob in self.fleets]
        # out-of-sync silences (radio link monitoring below Qout): those under way count to now
        silent_s = self.oos_silent_s + np.nan_to_num(
            np.maximum(duration_s - self._oos_from, 0.0), nan=0.0)
        out: dict[str, Any] = {"mobile_devices": int(sum(len(i) for i in movers)),
                               "handovers": int(self.handovers.sum()),
                               "ping_pong_handovers": int(self.ping_pongs.sum()),
                               "radio_link_failures": int(self.radio_link_failures.sum()),
                               "out_of_sync_silences": int(self.oos_silences.sum()),
                               "out_of_sync_silent_s": float(silent_s.sum()),
                               "fleets": {}, "services": {}}
        # the layout's scale, for the handover rate the geometry alone gives (report.events):
        # the median distance from a cell site to its nearest, and cells per site
        xy = w.device_radio.site_xy  # (the cell sites; w.site_xy is the compute sites)
        if len(xy) >= 2:
            from scipy.spatial import cKDTree

            out["site_spacing_m"] = float(np.median(cKDTree(xy).query(xy, k=2)[0][:, 1]))
            out["cells_per_site"] = float(len(w.cell_names) / len(xy))
        # each device's time on the move in the run (s): a trace's devices only within their
        # samples (a V2X engineer's review: cars in a trace for 120, 80 and 30 s of a 120 s run
        # read 1.67 handovers a minute where their minutes gave 2.61; one whose samples all
        # fell after the run counted as a moving device)
        moving_s = np.full(len(w.dev_fleet), float(duration_s))
        for ids, mob in self.fleets:
            if hasattr(mob, "in_trace_s"):
                first, last = mob.in_trace_s()
                moving_s[ids] = np.clip(np.minimum(last, duration_s) - np.maximum(first, 0.0),
                                        0.0, duration_s)
            elif hasattr(mob, "moving_time_s"):  # (waypoints: hovering is not moving)
                moving_s[ids] = mob.moving_time_s(duration_s)
        movers = [ids[moving_s[ids] > 0] for ids in movers]

        def per_minute(devs: NDArray[np.int64]) -> float:
            return float(self.handovers[devs].sum() / max(moving_s[devs].sum() / 60.0, 1e-9)) \
                if len(devs) else 0.0

        out["mobile_devices"] = int(sum(len(i) for i in movers))
        every = np.concatenate(movers) if movers else np.zeros(0, dtype=np.int64)
        out["handovers_per_device_per_min"] = per_minute(every)
        out["travelled_km"] = float(self.travelled_m.sum() / 1e3)
        out["los"] = self.los_mode
        out["handovers_per_km"] = _per_km(int(self.handovers.sum()), out["travelled_km"])
        # the device-minutes the rates are over, so that shards' rates merge exactly
        out["moving_minutes"] = float(moving_s[every].sum() / 60.0)
        for ids, fi in zip(movers, self.fleet_index, strict=True):
            out["fleets"][w.fleet_names[fi]] = {
                "moving_devices": int(len(ids)),
                "handovers": int(self.handovers[ids].sum()),
                "handovers_per_device_per_min": per_minute(ids),
                "moving_minutes": float(moving_s[ids].sum() / 60.0),
                "travelled_km": float(self.travelled_m[ids].sum() / 1e3),
                "handovers_per_km": _per_km(int(self.handovers[ids].sum()),
                                            float(self.travelled_m[ids].sum() / 1e3)),
                "ping_pong_handovers": int(self.ping_pongs[ids].sum()),
                "radio_link_failures": int(self.radio_link_failures[ids].sum()),
                "out_of_sync_silences": int(self.oos_silences[ids].sum()),
                "out_of_sync_silent_s": float(silent_s[ids].sum()),
            }
            speed = self._speed_now(fi, ids)
            if speed is not None:  # (its moving devices' speed at the end, m/s)
                out["fleets"][w.fleet_names[fi]]["mean_speed_mps"] = speed
        moving = np.zeros(len(w.dev_fleet), dtype=bool)
        for ids in movers:
            moving[ids] = True
        for v, name in enumerate(w.service_names):
            fleets = [fi for fi, svcs in enumerate(w.fleet_services) if v in svcs]
            # over its moving devices, as the terminal's line (parked ones never hand over:
            # 100 moving and 300 parked read 3.86 here against 15.5 there)
            devs = np.flatnonzero(np.isin(w.dev_fleet, fleets) & moving)
            out["services"][name] = {
                "handovers_per_device_per_min": per_minute(devs),
                "moving_minutes": float(moving_s[devs].sum() / 60.0),
                "moving_devices": int(len(devs)),  # what the rate is over (shards weigh by it)
                "requests_affected_by_handover": int(self.affected[v]),
            }
        return out
