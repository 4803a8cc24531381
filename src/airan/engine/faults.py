"""Timed faults: sites, GPUs, links and cells that fail, cells under interference, and fleets
that surge.

The engine applies each fault's start and end on the slot grid (:meth:`FaultSchedule.apply`)
by changing the arrays the compiled kernel reads, in place: site health, GPU free times,
transport paths and capacities, device attachments, receivers' noise floors, flow periods. A
failed site's queued and
running requests become *orphans*; the engine re-dispatches them through the policy at the
next decision point (the gateway noticing the failure), so nothing is lost silently: each ends
at another site, on its device, or dropped with reason ``site_failure``.

Simplifications (named in docs/model.md): requests already on a fibre when it is cut arrive; a
cell's devices re-attach to their next strongest cell among those precomputed for them, their
uplink silent until their radio link failure (T310) and re-establishment are through, or, where
it comes back first, until they are in sync with it again (under the nr radio: the ideal and
fixed radios keep an upload booked in the silence where it was booked; downlink answers are not
delayed), and when it comes back those it serves better by the hysteresis hand over to it at
once (no time-to-trigger); a
surge changes a fleet's rate from its start, but for the arrivals drawn already (those of the
decision interval it starts in); a batch cut by a failure is GPU work up to the cut only, and
not served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airan.engine import kernel as K
from airan.engine.world import World, cut_hold, hold_link, link_holds, transport_paths
from airan.radio import link as radio_link
from airan.radio import nr
from airan.scenario.load import FaultTargets, fault_cells, fault_target
from airan.scenario.schema import Fault, Scenario

START, NOTICED, END = range(3)  # the phases of a fault's events


@dataclass
class FaultRecord:
    """What one fault did, for the summary."""

    fault: Fault
    target: str
    # requests the failed site or GPUs gave back (each time: a request sent to the down site
    # again counts again), drained at the next decision while the fault is active
    affected_requests: int = 0
    redispatched: int = 0  # of those, placed again by the policy (they may still drop later)
    lost: int = 0  # of those, rejected by the policy at once
    devices_moved: int = 0  # cell_down: re-attached to another cell on air
    devices_without_cell: int = 0  # cell_down: every cell they list was off air
    # cell_down: re-attached to it when it came back (out of outage, or by handover)
    devices_back: int = 0
    # interference: the devices the cell (or cells) served at its start (the downlink's
    # receivers it raised then; devices that hand over in or out meanwhile follow it)
    devices_served: int = 0
    # site_down, gpu_down at a site that runs cells' L1: the cells it took off the air
    cells_off_air: int = 0
    requests_during: int = 0  # surge: requests its fleet created while it lasted
    # site_down: placements the policy made on the site while it was down (each comes back
    # and is placed again: a policy that reads no snapshot.site_healthy)
    placed_while_down: int = 0
    # site_down with detect_ms: placements the policy made on the site after it failed and
    # before the gateways noticed (each waited there unanswered until they did)
    sent_before_noticed: int = 0
    # link_down, link_degraded: requests dropped no_route or link_full while it lasted (those
    # of every cause then, as the faults' counts are approximate)
    transport_drops_during: int = 0
    # every fault: the requests that ended met, late and dropped while it lasted (of every
    # cause, as above: compare them with a run without it)
    ended_during: dict[str, int] = field(default_factory=dict)
    active: bool = False
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, Any]:
        f = self.fault
        out: dict[str, Any] = {
            "kind": f.kind,
            "target": self.target,
            "start_s": f.start_s,
            "end_s": f.end_s,
            "affected_requests": self.affected_requests,
            "redispatched": self.redispatched,
            "lost": self.lost,
            "ended_during": dict(self.ended_during),
        }
        if f.kind == "cell_down" or self.cells_off_air:
            if f.kind != "cell_down":
                out["cells_off_air"] = self.cells_off_air
            out["devices_moved"] = self.devices_moved
            out["devices_without_cell"] = self.devices_without_cell
            out["devices_back"] = self.devices_back
        if f.kind == "gpu_down":
            out["gpus"] = f.gpus
        if f.kind == "site_down":
            out["placed_while_down"] = self.placed_while_down
            out["detect_ms"] = f.detect_ms
            out["sent_before_noticed"] = self.sent_before_noticed
        if f.kind == "surge":
            out["rate_factor"] = f.rate_factor
            out["requests_during"] = self.requests_during
        if f.kind in ("link_down", "link_degraded"):
            assert f.link is not None
            out["link"] = list(f.link)  # (target joins the two names with '-', as they may)
            out["transport_drops_during"] = self.transport_drops_during
        if f.kind == "link_degraded":
            out["capacity_factor"] = f.capacity_factor
            out["extra_delay_ms"] = f.extra_delay_ms
        if f.kind == "interference":
            out["rise_db"] = f.rise_db
            out["direction"] = f.direction
            out["devices_served"] = self.devices_served
        return out


class FaultSchedule:
    """The scenario's faults, resolved against the world, and their effects."""

    def __init__(self, scenario: Scenario, world: World, kw: Any) -> None:
        w = world
        self.world = w
        self.kw = kw
        self.flushed_in_transit = 0  # requests that went on over the rest of their old path
        self.records: list[FaultRecord] = []
        # (slot, order, fault, phase): START, NOTICED (a site_down's detect_ms after its
        # start), END
        self.events: list[tuple[int, int, int, int]] = []
        self.gpu_up = np.ones(len(w.gpu_site), dtype=bool)
        # each GPU's time out of service (down, or its site down), to now from gpu_out_since
        # while out: the GPU-seconds a site had to serve with (gpu_seconds_out)
        self.gpu_in_service = np.ones(len(w.gpu_site), dtype=bool)
        self.gpu_out_s = np.zeros(len(w.gpu_site))
        self.gpu_out_since = np.zeros(len(w.gpu_site))
        self.link_up = np.ones(len(w.link_cap_bps), dtype=bool)
        self.link_cap0 = w.link_cap_bps.copy()
        self.link_delay0 = w.link_delay_s.copy()
        self.flow_period0 = w.flow_period_s.copy()
        self.ue_nf_db = scenario.radio.ue_noise_figure_db
        ho = scenario.handover  # A3's Hys + Off, linear
        self.hysteresis = 10 ** ((ho.hysteresis_db + ho.a3_offset_db) / 10)
        self.interruption_s = scenario.handover.interruption_ms * 1e-3
        self.rlf_s = nr.rlf_delay_s(ho.t310_ms, ho.n310)  # a lost cell to the link's failure
        self.recover_s = nr.rlm_recovery_s(ho.n311)  # a cell back before it: to in-sync
        self.reestablish_ms = ho.reestablish_ms  # a fault's own, where it gives one
        # devices whose cell a fault took: when their radio link fails (-inf: none pending),
        # the cell they lost, their link's holds before it and the holds the loss set (rows:
        # uplink, downlink; set at the first)
        self._rlf_at = np.zeros(0)
        self._lost_cell = np.zeros(0, dtype=np.int64)
        self._hold_before = np.zeros((2, 0))
        self._rlf_hold = np.zeros((2, 0))
        self.fleet_names = [f.name for f in scenario.fleets]
        # devices a cell outage left with no cell on air, and their gains, zeroed in the world
        # (the kernel's radio outage) until a cell of theirs comes back (set at the first)
        self._in_outage = np.zeros(0, dtype=bool)
        self._outage_gain = np.zeros((0, 0))
        self._outage_gain_ul = self._outage_gain  # (FDD: the uplink's gains, of their own)
        # cells whose L1 runs nowhere now (ai_ran: its site or every GPU of it down): off air
        self._l1_dark = np.zeros(len(w.cell_names), dtype=bool)
        # what the cells radiate on air (restored as they come back): a cell off air sends
        # nothing, so neither its devices' load nor the background interferes from it
        self._tx_on_mw0 = w.cell_tx_on_mw.copy()
        self._ul_int_mw0 = w.ul_int_mw.copy()
        self._dark = np.zeros(len(w.cell_names), dtype=bool)
        # interference bursts: the cells' uplink noise and the devices' downlink noise without
        # them (thermal: restored exactly), and each cell's noise factor now (rows: uplink,
        # downlink; 1 where no burst is on)
        self._ul_noise0 = w.ul_noise_mw.copy()
        self._dl_thermal_mw = w.dev_dl_noise_mw.copy()
        self._rise = np.ones((2, len(w.cell_names)))
        self._targets: FaultTargets | None = None
        for i, f in enumerate(scenario.faults):
            self.records.append(FaultRecord(f, self._target(i, f)))
            start = int(round(f.start_s / w.slot_s))
            self.events.append((start, 3 * i, i, START))
            if f.detect_ms > 0.0:  # (at least a slot after its start: a failure unnoticed)
                noticed = max(int(round((f.start_s + f.detect_ms * 1e-3) / w.slot_s)),
                              start + 1)
                self.events.append((noticed, 3 * i + 1, i, NOTICED))
            if f.end_s is not None:
                self.events.append((int(round(f.end_s / w.slot_s)), 3 * i + 2, i, END))
        self.events.sort()
        self._next = 0
        for name in ("path_links", "path_links_back", "link_cap_bps", "link_delay_s",
                     "dev_cell", "dev_top_cell", "dev_top_gain", "dev_top_gain_ul",
                     "dev_ul_p_prb_mw", "cell_tx_on_mw", "ul_int_mw", "cell_bg_ul_mw",
                     "flow_period_s", "flow_phase_s", "dev_resid_gain_mw",
                     "dev_dl_noise_mw", "ul_noise_mw"):
            # the kernel holds these very arrays (kernel_world copies only non-contiguous ones)
            if self.records and not getattr(w, name).flags.c_contiguous:
                raise RuntimeError(f"the kernel's {name} is a copy: faults could not reach it")

    @property
    def active(self) -> bool:
        return bool(self.records)

    # ---- targets ---------------------------------------------------------------------------
    def _target(self, i: int, f: Fault) -> str:
        """What fault ``i`` acts on, checked as ``airan validate`` checks it (one function)."""
        if self._targets is None:
            w = self.world
            names = w.node_names
            self._targets = FaultTargets(
                site_gpus=dict(zip(w.site_names, w.site_n_gpus.tolist(), strict=True)),
                nodes=names,
                links={(names[a], names[b])
                       for a, b in zip(w.link_a.tolist(), w.link_b.tolist(), strict=True)},
                cells=w.cell_names,
                fleets=self.fleet_names,
            )
        return fault_target(i, f, self._targets)

    def _link_ids(self, a: str, b: str) -> np.ndarray:
        w = self.world
        ia, ib = w.node_names.index(a), w.node_names.index(b)
        fwd = np.flatnonzero((w.link_a == ia) & (w.link_b == ib))
        return np.unique(np.r_[fwd, fwd ^ 1])

    def _cells(self, name: str) -> np.ndarray:
        return np.array(fault_cells(name, self.world.cell_names), dtype=np.int64)

    # ---- scheduling --------------------------------------------------------------------------
    def next_slot(self, slot: int) -> int | None:
        """The slot of the next fault event at or after ``slot`` not yet applied."""
        return self.events[self._next][0] if self._next < len(self.events) else None

    def apply(self, engine: Any) -> None:
        """Apply every fault event due at the engine's current slot."""
        due = []
        while self._next < len(self.events) and self.events[self._next][0] <= engine.slot:
            due.append(self.events[self._next])
            self._next += 1
        for _, _, i, phase in due:  # cells back together are all on air for each of them
            if phase == END and self.records[i].fault.kind == "cell_down":
                self.records[i].active = False
        for _, _, i, phase in due:
            rec = self.records[i]
            if phase == NOTICED:
                self._site_noticed(engine, rec)
                continue
            start = phase == START
            self._count_ended(engine, rec, start)
            getattr(self, f"_{rec.fault.kind}")(engine, rec, start)
        self._set_air()

    @staticmethod
    def _ended(engine: Any) -> dict[str, int]:
        cnt = engine._st.agg_cnt
        return {"met": int(cnt[:, K.A_MET].sum()), "late": int(cnt[:, K.A_LATE].sum()),
                "dropped": int(cnt[:, K.A_DROPPED].sum())}

    def _count_ended(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        """The requests that end met, late and dropped while a fault lasts (from its start to
        its end, or the run's)."""
        if start:
            rec._saved["ended"] = self._ended(engine)
        elif "ended" in rec._saved:
            now = self._ended(engine)
            rec.ended_during = {k: now[k] - rec._saved["ended"][k] for k in now}
            del rec._saved["ended"]

    def _set_air(self) -> None:
        """Cells off the air (:meth:`down_cells`) radiate nothing: their transmit power, which
        the downlink's interference sums weigh by each cell's load and the background, and
        their devices' and their background handsets' coupling into the other cells' uplink
        are zeroed in the world the kernel reads, and restored when they come back. (Their
        devices have re-attached elsewhere; their load's average would otherwise interfere on
        as it decays, and the background, the same in every cell, for as long as they are
        off. A device's residual
        power from the cells beyond its 16 strongest, ``dev_resid_gain_mw``, counts them on
        the air throughout: a simplification.)"""
        w = self.world
        dark = np.zeros(len(self._dark), dtype=bool)
        dark[self.down_cells()] = True
        if np.array_equal(dark, self._dark):
            return
        self._dark = dark
        w.cell_tx_on_mw[...] = np.where(dark[None, :], 0.0, self._tx_on_mw0)
        w.ul_int_mw[...] = np.where(dark[w.ul_int_src], 0.0, self._ul_int_mw0)
        # (the background's handsets of a cell off the air are silent too)
        rows = np.repeat(np.arange(len(dark)), np.diff(w.bg_ul_ptr))
        w.cell_bg_ul_mw[...] = np.bincount(rows, weights=np.where(dark[w.bg_ul_src], 0.0,
                                                                    w.bg_ul_mw),
                                           minlength=len(dark))

    def rebind(self, kw: Any) -> None:
        """Take the kernel's world anew, rebuilt before the run with the uplink coupling
        between cells from where mobility starts the devices (``Engine``)."""
        self.kw = kw
        self._ul_int_mw0 = self.world.ul_int_mw.copy()

    def forget_outage(self, devices: np.ndarray) -> None:
        """Devices whose gains mobility has evaluated afresh: their outage's saved gains are
        stale (it zeroes the serving gain of one with no cell on air itself)."""
        if len(self._in_outage):
            self._in_outage[devices] = False

    def down_cells(self) -> np.ndarray:
        """Cells that a fault has off air now (a cell_down, or the loss of the GPUs that run
        their L1)."""
        return np.concatenate([self.cells_down(), np.flatnonzero(self._l1_dark)])

    def cells_down(self) -> np.ndarray:
        """Cells that a ``cell_down`` fault has off air now."""
        return np.concatenate([self._cells(r.target) for r in self.records
                               if r.active and r.fault.kind == "cell_down"]
                              + [np.zeros(0, dtype=np.int64)])

    def drained(self) -> None:
        """The orphans given back have been placed again: a site back before its failure was
        noticed counts no later ones as that failure's."""
        for rec in self.records:
            rec._saved.pop("held_at_end", None)

    def site_fault(self, site: int) -> FaultRecord | None:
        """The active fault of ``site`` that its given-back work is counted under (orphan
        accounting): a site_down before a gpu_down, since with the whole site down every
        request there is given back for that reason."""
        name = self.world.site_names[site]
        active = [rec for rec in self.records if rec.active and rec.target == name
                  and rec.fault.kind in ("site_down", "gpu_down")]
        if not active:  # a site back before its failure was noticed: what it held is its
            return next((rec for rec in reversed(self.records) if rec.target == name
                         and rec._saved.get("held_at_end")), None)
        return min(active, key=lambda rec: rec.fault.kind != "site_down", default=None)

    # ---- compute ---------------------------------------------------------------------------
    def _site_gpus(self, site: int) -> np.ndarray:
        g0 = int(self.world.site_gpu_start[site])
        return np.arange(g0, g0 + int(self.world.site_n_gpus[site]))

    def _fail(self, engine: Any, rec: FaultRecord, site: int, down_local: np.ndarray) -> None:
        """Orphan what the failed GPUs held; purge their batches' events; cut their busy time."""
        st = engine._st
        now = engine.now_s
        gpus = self._site_gpus(site)[down_local]
        # the AI share each GPU's running work goes at (the share its batch started with; for
        # batches run at once, the GPU's share over the number doing their work): what converts
        # its time left into the AI work it will not do
        started_share = st.gpu_run_rate[gpus] * (
            np.maximum(st.gpu_run_n[gpus] - st.gpu_oh_n[gpus], 1)
            if self.world.site_shared[site] else 1)
        before = int(st.ctr[K.C_ORPHANS])
        n = int(K.fail_site_requests(self.kw, engine._sref, site, down_local, now))
        orphaned = st.orphans[before : before + n]
        if n:
            hn = int(st.ctr[K.C_HEAP_N])
            keep = ~np.isin(st.heap_r[:hn], orphaned)
            if not keep.all():
                t, r, q = st.heap_t[:hn][keep], st.heap_r[:hn][keep], st.heap_s[:hn][keep]
                order = np.lexsort((q, t))  # sorted by (time, push order): a valid heap
                m = len(order)
                st.heap_t[:m], st.heap_r[:m], st.heap_s[:m] = t[order], r[order], q[order]
                st.ctr[K.C_HEAP_N] = m
        ahead = np.maximum(st.gpu_free[gpus] - now, 0.0)
        cut_s = np.where(np.isfinite(ahead), ahead, 0.0)
        st.gpu_busy[gpus] -= cut_s
        # nor is the cut part AI work (power)
        st.site_ai_work[site] = max(
            0.0, st.site_ai_work[site] - float((cut_s * started_share).sum()))
        st.gpu_free[gpus] = np.where(np.isfinite(st.gpu_free[gpus]), now, np.inf)  # cut once

    def _rebuild_gpu_heap(self, engine: Any, site: int) -> None:
        st = engine._st
        ids = self._site_gpus(site)
        order = np.lexsort((ids, st.gpu_free[ids]))
        st.gpu_heap[ids[0] : ids[0] + len(ids)] = ids[order]

    # Overlapping faults on one target combine: every handler recomputes its target's state from
    # the base values and the faults active now (``rec.active`` is set before the handler runs).
    def _active(self, kind: str, target: str | None = None) -> list[FaultRecord]:
        """The faults of ``kind`` acting now (on ``target``): a site_down the gateways have not
        noticed yet is not among them (its site serves nothing, and looks up)."""
        return [r for r in self.records if r.active and r.fault.kind == kind
                and (target is None or r.target == target) and not r._saved.get("unnoticed")]

    def _refresh_site(self, engine: Any, rec: FaultRecord, s: int) -> None:
        """A site serves while no site_down is active on it and one of its GPUs is up; it is
        down (``site_up`` 0) while a site_down the gateways noticed holds it or no GPU of it is
        up, and failed unnoticed (-1: it serves nothing, the policies see it up) while only
        site_downs not yet noticed hold it (``detect_ms``)."""
        st = engine._st
        name = self.world.site_names[s]
        gpus = self._site_gpus(s)
        unnoticed = any(r._saved.get("unnoticed") for r in self.records if r.active
                        and r.fault.kind == "site_down" and r.target == name)
        state = (0 if self._active("site_down", name) or not self.gpu_up[gpus].any()
                 else -1 if unnoticed else 1)
        was = int(st.site_up[s])
        if was == 1 and state != 1:  # it fails now: what it held is given back
            st.site_up[s] = state
            self._fail(engine, rec, s, np.ones(len(gpus), dtype=bool))
        now = engine.now_s
        free = st.gpu_free[gpus]
        if state == 1:  # GPUs up keep their running batch; those coming back are free now
            keep = np.isfinite(free) & (was == 1)
            st.gpu_free[gpus] = np.where(self.gpu_up[gpus],
                                         np.where(keep, np.maximum(free, now), now), np.inf)
        elif state == -1:  # idle to the policies' eyes, as the gateways last knew it
            st.gpu_free[gpus] = np.where(self.gpu_up[gpus], now, np.inf)
        else:
            st.gpu_free[gpus] = np.inf
        st.site_up[s] = state
        serving = self.gpu_up[gpus] & (state == 1)  # (a failed site serves nothing, noticed
        out_now = self.gpu_in_service[gpus] & ~serving  # or not)
        back_now = ~self.gpu_in_service[gpus] & serving
        self.gpu_out_since[gpus[out_now]] = now
        self.gpu_out_s[gpus[back_now]] += now - self.gpu_out_since[gpus[back_now]]
        self.gpu_in_service[gpus] = serving
        if state == 1 and was != 1:
            st.site_clock[s] = engine.now_s
        self._rebuild_gpu_heap(engine, s)
        if engine.ran.active:  # the L1 spreads over the GPUs up now: batches start at that share
            engine.ran.update(self.world, st, now, self.gpu_up, self.cells_down())
            self._l1_cells(engine, rec)
        if state == 1:
            K.advance_site(self.kw, engine._sref, s, engine.now_s)  # queued work starts now

    def gpu_seconds_out(self, now_s: float) -> np.ndarray:
        """Per GPU, the seconds it was out of service up to ``now_s`` (down, or its site down):
        what a site's load against what its GPUs carry leaves out (engine.site_full_batch_load;
        a review: one of two GPUs down read the other as half loaded)."""
        return self.gpu_out_s + np.where(self.gpu_in_service, 0.0,
                                         now_s - self.gpu_out_since)

    def _site_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        """A site fails (or comes back): noticed at once, or ``detect_ms`` later
        (:meth:`_site_noticed`); until then it serves nothing, gives back every request that
        reaches it, held as on its way there (the gateway's request without an answer), and
        the policies see it up. Its cells' L1 stops at once either way."""
        s = self.world.site_names.index(rec.target)
        rec.active = start  # orphans from now on are this fault's
        if start and rec.fault.detect_ms > 0.0:
            rec._saved["unnoticed"] = True
        elif not start and rec._saved.pop("unnoticed", False):  # back before it was noticed
            rec._saved["held_at_end"] = True  # (what it held is placed again: its count)
        self._refresh_site(engine, rec, s)

    def _site_noticed(self, engine: Any, rec: FaultRecord) -> None:
        """The gateways notice a failed site (``detect_ms`` after it failed, if it is still
        down): down for the policies from now, and what it held is placed again."""
        if not rec.active or not rec._saved.pop("unnoticed", False):
            return
        self._refresh_site(engine, rec, self.world.site_names.index(rec.target))

    def _gpu_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        """The site's last GPUs are down, as many as its active gpu_down faults take together
        (at most all of them): overlapping faults add up, and one ending brings back only
        what the others do not hold down. Only GPUs that go down now lose their batches."""
        st = engine._st
        s = self.world.site_names.index(rec.target)
        gpus = self._site_gpus(s)
        rec.active = start
        n_down = min(len(gpus), sum(int(r.fault.gpus) for r in self._active("gpu_down",
                                                                             rec.target)))
        want_up = np.ones(len(gpus), dtype=bool)
        want_up[len(gpus) - n_down:] = False
        newly_down = self.gpu_up[gpus] & ~want_up
        if newly_down.any() and st.site_up[s]:
            self._fail(engine, rec, s, newly_down)
        self.gpu_up[gpus] = want_up
        self._refresh_site(engine, rec, s)

    # ---- transport -------------------------------------------------------------------------
    def _reroute(self) -> None:
        w = self.world
        links, back, delay, rate = transport_paths(
            w.node_names, w.link_a, w.link_b, w.link_delay_s, w.link_cap_bps, w.site_node,
            self.link_up, pipelined=bool(np.isfinite(w.packet_bits)))
        w.path_links[...] = links
        w.path_links_back[...] = back
        w.path_delay_s[...] = delay
        w.path_rate_bps[...] = rate
        for stale in ("nearest_site_by_node", "candidate_paths"):  # policies' cached tables
            w.extras.pop(stale, None)

    def _links_now(self, engine: Any) -> None:
        """Links from their base values and every active link fault.

        Messages between two nodes of their path keep the rest of it (kernel.flush_transit) and
        go on over it hop by hop, each link reserved as they reach it (kernel.send): a message
        under way finishes its path as it was when the links changed, at the links' capacity
        and delay as they are when it gets to each. The backlog a link holds when its capacity
        changes drains at the new capacity (the messages booked in it keep the times they were
        given; those that reach the link later wait for the rest at the new rate: a link
        restored after a degradation no longer makes them wait out the slow rate)."""
        w = self.world
        self.flushed_in_transit += int(K.flush_transit(self.kw, engine._sref))
        cap_before = w.link_cap_bps.copy()
        self.link_up[:] = True
        w.link_cap_bps[:] = self.link_cap0
        w.link_delay_s[:] = self.link_delay0
        for r in self._active("link_down"):
            self.link_up[self._link_ids(*r.fault.link)] = False  # type: ignore[misc]
        for r in self._active("link_degraded"):
            ids = self._link_ids(*r.fault.link)  # type: ignore[misc]
            w.link_cap_bps[ids] *= r.fault.capacity_factor
            w.link_delay_s[ids] += r.fault.extra_delay_ms * 1e-3
        changed = np.flatnonzero(w.link_cap_bps != cap_before)
        if changed.size:
            st, now = engine._st, float(engine.now_s)
            backlog = np.maximum(st.link_free[changed] - now, 0.0)
            drained = backlog * (cap_before[changed] / w.link_cap_bps[changed])
            st.link_free[changed] = np.where(backlog > 0.0, now + drained,
                                             st.link_free[changed])
            st.link_busy[changed] += drained - backlog
        self._reroute()

    def _link_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        rec.active = start
        self._count_transport_drops(engine, rec, start)
        self._links_now(engine)

    def _link_degraded(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        rec.active = start
        self._count_transport_drops(engine, rec, start)
        self._links_now(engine)

    @staticmethod
    def _transport_drops(engine: Any) -> int:
        drops = engine._st.agg_drop
        return int(drops[:, K.R_NO_ROUTE].sum() + drops[:, K.R_LINK_FULL].sum())

    def _count_transport_drops(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        """Count the no_route and link_full drops while a link fault lasts (from its start)."""
        if start:
            rec._saved["transport_drops"] = self._transport_drops(engine)
        elif "transport_drops" in rec._saved:
            rec.transport_drops_during = (self._transport_drops(engine)
                                          - rec._saved["transport_drops"])

    # ---- radio -----------------------------------------------------------------------------
    def _l1_cells(self, engine: Any, rec: FaultRecord) -> None:
        """The cells whose L1 the site's GPUs ran go off the air when none is up (the site
        down, or every GPU of it), and come back with the first: as a cell_down of them, under
        ``rec``'s ``reestablish_ms``."""
        dark = np.zeros(len(self._l1_dark), dtype=bool)
        dark[engine.ran.dark_cells()] = True
        gone, back = dark & ~self._l1_dark, self._l1_dark & ~dark
        self._l1_dark = dark
        if gone.any():
            rec.cells_off_air = max(rec.cells_off_air, int(gone.sum()))
            self._reattach(engine, rec, np.flatnonzero(gone), True)
        if back.any():
            self._reattach(engine, rec, np.flatnonzero(back), False)

    def _cell_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        rec.active = start
        self._reattach(engine, rec, self._cells(rec.target), start)
        if engine.ran.active:  # its L1 has nothing to process while it is off the air
            engine.ran.update(self.world, engine._st, engine.now_s, self.gpu_up,
                              self.cells_down())
            self._l1_cells(engine, rec)

    def _reattach(self, engine: Any, rec: FaultRecord, mine: np.ndarray, start: bool) -> None:
        """Devices attached to a cell of ``mine`` that goes down re-attach to their strongest
        cell on air (from their current list of cells), their link silent (uplink and
        downlink: :func:`hold_link`) until their radio link failure (T310 expiring, TS 38.331
        5.3.10) and ``reestablish_ms`` after it. When it comes back before their failure, they
        recover on it (in sync again: T310 stops, ``nr.rlm_recovery_s``); after it, those in
        radio outage re-establish on their strongest cell (``reestablish_ms``), and those
        served by another cell hand over to it where it is stronger by the hysteresis (event
        A3, TS 38.331 5.5.4.4, without the time-to-trigger or the layer-3 filter), silent for
        ``interruption_ms``; the others stay where they are."""
        w = self.world
        st = engine._st
        down = self.down_cells()
        if start:
            devs = np.flatnonzero(np.isin(w.dev_cell, mine))
        else:  # devices that list a returning cell may prefer it again
            devs = np.flatnonzero(np.isin(w.dev_top_cell, mine).any(axis=1))
        if not len(devs):
            return
        now = engine.now_s
        if not len(self._rlf_at):
            self._rlf_at = np.full(w.n_devices, -np.inf)
            self._lost_cell = np.full(w.n_devices, -1, dtype=np.int64)
            # each direction's hold before the loss and the loss's own (uplink, downlink)
            self._hold_before = np.zeros((2, w.n_devices))
            self._rlf_hold = np.zeros((2, w.n_devices))
        pending = self._rlf_at[devs] > now  # lost a cell, its link not failed yet
        if start:  # (a device already counting down for another cell goes on with that one)
            fresh = devs[~pending]
            self._rlf_at[fresh] = now + self.rlf_s
            self._lost_cell[fresh] = w.dev_cell[fresh]
            self._hold_before[:, fresh] = [held[fresh] for held in link_holds(st)]
            recovering = np.zeros(len(devs), dtype=bool)
        else:
            recovering = pending & np.isin(self._lost_cell[devs], mine)
        if not len(self._in_outage):
            self._in_outage = np.zeros(w.n_devices, dtype=bool)
            self._outage_gain = np.zeros_like(w.dev_top_gain)
            self._outage_gain_ul = (np.zeros_like(w.dev_top_gain) if w.uplink_gains_apart
                                    else self._outage_gain)
        # in radio outage: by a cell fault (its zeroed gains saved: back to what they were), or
        # by mobility's own reckoning (it zeroes a moving device's serving gain likewise)
        restored = self._in_outage[devs]
        outage = restored | (w.dev_top_gain[devs, 0] <= 0)
        w.dev_top_gain[devs[restored]] = self._outage_gain[devs[restored]]
        w.dev_top_gain_ul[devs[restored]] = self._outage_gain_ul[devs[restored]]
        self._in_outage[devs] = False
        top, gain = w.dev_top_cell[devs], w.dev_top_gain[devs]
        gain_ul = w.dev_top_gain_ul[devs] if w.uplink_gains_apart else gain
        rx = np.where(np.isin(top, down), 0.0, gain * w.cell_rs_mw[top])  # RSRP
        best = np.argmax(rx, axis=1)
        # a device in sync again goes on with the cell it lost (back on the air: not where
        # another fault still holds it off)
        listed = top == self._lost_cell[devs][:, None]
        recovering &= listed.any(axis=1) & ~np.isin(self._lost_cell[devs], down)
        best = np.where(recovering, np.argmax(listed, axis=1), best)
        rows = np.arange(len(devs))
        none = rx[rows, best] <= 0  # every cell it lists is off air
        changed = (top[rows, best] != w.dev_cell[devs]) & ~none
        if start:
            rec.devices_moved += int(changed.sum())
            rec.devices_without_cell += int(none.sum())
        else:  # the serving cell (on air) leads the list: A3 against it
            changed &= outage | recovering | (rx[rows, best] > rx[:, 0] * self.hysteresis)
            rec.devices_back += int((changed | (outage & ~none) | recovering).sum())
        keep = changed | none | outage | recovering
        devs, top, gain, gain_ul, best, none, outage, recovering = (
            devs[keep], top[keep], gain[keep], gain_ul[keep], best[keep], none[keep],
            outage[keep], recovering[keep])
        if not len(devs):
            return
        best = np.where(none, 0, best)  # no cell on air: it stays on its cell, in outage
        self._in_outage[devs[none]] = True
        self._outage_gain[devs[none]] = gain[none]
        self._outage_gain_ul[devs[none]] = gain_ul[none]
        cols = np.arange(top.shape[1])[None, :]
        order = np.where(cols == 0, best[:, None],
                         np.where(cols <= best[:, None], cols - 1, cols))
        top = np.take_along_axis(top, order, axis=1)
        gain = np.take_along_axis(gain, order, axis=1)
        gain_ul = np.take_along_axis(gain_ul, order, axis=1) if w.uplink_gains_apart else gain
        gain[none, 0] = 0.0  # no cell left on air: radio outage
        gain_ul[none, 0] = 0.0
        w.dev_top_cell[devs] = top
        w.dev_top_gain[devs] = gain
        w.dev_top_gain_ul[devs] = gain_ul
        w.dev_cell[devs] = top[:, 0]
        pl = 1.0 / np.maximum(gain[:, 0], 1e-30)
        w.dev_ul_p_prb_mw[devs] = radio_link.pusch_prb_power_mw(
            w.dev_ul_p0_dbm[devs], w.numerology, pl, w.dev_ul_alpha[devs])
        # the downlink noise of the new cell's bandwidth (another carrier's may differ)
        bw_hz = w.cell_prb[top[:, 0]] * 12 * 15e3 * (2 ** w.numerology)
        self.set_dl_noise(devs, radio_link.dbm_to_mw(nr.thermal_noise_dbm(bw_hz, self.ue_nf_db)))
        reestablish_ms = (self.reestablish_ms if rec.fault.reestablish_ms is None
                          else rec.fault.reestablish_ms)
        if start:
            new = devs[self._rlf_at[devs] == now + self.rlf_s]  # (not those counting down)
            hold_link(w, st, new, now + self.rlf_s + reestablish_ms * 1e-3, K.HOLD_CELL_FAULT,
                      now)
            self._rlf_hold[:, new] = [held[new] for held in link_holds(st)]
        else:
            # silent only until in sync: the failure's hold lifted (where nothing since, a
            # mobility's radio link failure say, held it longer), in each direction
            back = devs[recovering]
            for i, held in enumerate(link_holds(st)):
                own = back[held[back] == self._rlf_hold[i, back]]
                held[own] = self._hold_before[i, own]
                cut_hold(st, own, now, K.HOLD_CELL_FAULT)
            hold_link(w, st, back, now + self.recover_s, K.HOLD_CELL_FAULT, now)
            self._rlf_at[back] = -np.inf
            hold_link(w, st, devs[outage & ~none & ~recovering], now + reestablish_ms * 1e-3,
                      K.HOLD_CELL_FAULT, now)
            hold_link(w, st, devs[~outage & ~recovering], now + self.interruption_s,
                      K.HOLD_CELL_FAULT, now)
        st.ue_se_slot[devs] = -1  # re-evaluate their SINR now
        st.ue_se_slot_dl[devs] = -1

    def _interference(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        """An interference burst on a cell (or a cell site's cells) starts or ends: the floor
        its receivers hear is the thermal noise times each cell's factor, 1 + the sum of
        10^(rise_db / 10) - 1 over the bursts on it now (their powers add over the thermal
        noise; one burst: exactly rise_db over it), in the burst's ``direction``: the cell's
        uplink noise (``ul_noise_mw``, its receiver), the downlink noise of the devices it
        serves (``dev_dl_noise_mw``; a device that changes cell meanwhile takes its new cell's,
        :meth:`set_dl_noise`). The other cells' interference adds to it as ever. Their SINRs,
        cached, are re-evaluated at once (the scheduler's and the policies' next reads).

        Simplifications (named in docs/model.md): the burst's power is flat over the carrier and
        the same at every device the cell serves (a device's exposure to the source by its
        position is not modelled: the cell's devices stand for the aisle); the UE's transmit
        power does not rise to make up for it (open-loop power control only: no closed-loop
        TPC, which would lift a UE below its maximum power by up to the rise); the neighbour
        cells' receivers and their devices hear none of it."""
        w = self.world
        st = engine._st
        rec.active = start
        if start:
            rec.devices_served = int(np.isin(w.dev_cell, self._cells(rec.target)).sum())
        rise = np.ones_like(self._rise)
        for r in self._active("interference"):
            cells = self._cells(r.target)
            extra = 10.0 ** (float(r.fault.rise_db) / 10.0) - 1.0  # type: ignore[arg-type]
            if r.fault.direction in ("both", "uplink"):
                rise[0, cells] += extra
            if r.fault.direction in ("both", "downlink"):
                rise[1, cells] += extra
        changed = np.flatnonzero((rise != self._rise).any(axis=0))
        self._rise = rise
        w.ul_noise_mw[...] = self._ul_noise0 * rise[0]
        devs = np.flatnonzero(np.isin(w.dev_cell, changed))
        w.dev_dl_noise_mw[devs] = self._dl_thermal_mw[devs] * rise[1, w.dev_cell[devs]]
        st.ue_se_slot[devs] = -1  # re-evaluate their SINR now (uplink and downlink)
        st.ue_se_slot_dl[devs] = -1

    def dl_rise(self, cells: np.ndarray) -> np.ndarray:
        """The factor an interference burst raises the downlink noise of the devices ``cells``
        serve by now (1: none)."""
        return self._rise[1, cells]  # type: ignore[no-any-return]

    def set_dl_noise(self, devices: np.ndarray, thermal_mw: np.ndarray) -> None:
        """Devices whose serving cell (``world.dev_cell``, set already) has changed, by a
        handover or a cell's fault: their downlink noise is the thermal noise of their cell's
        bandwidth (``thermal_mw``), times that cell's interference burst now, if any (a device
        that hands over into an interfered cell hears it; one that leaves it, no longer)."""
        w = self.world
        self._dl_thermal_mw[devices] = thermal_mw
        w.dev_dl_noise_mw[devices] = thermal_mw * self._rise[1, w.dev_cell[devices]]

    def _surge(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        w = self.world
        st = engine._st
        f = self.fleet_names.index(rec.target)
        flows = np.flatnonzero(w.dev_fleet[w.flow_dev] == f)
        rec.active = start
        if start:
            rec._saved["created"] = int(st.fleet_req[f])
        else:
            rec.requests_during = int(st.fleet_req[f]) - rec._saved["created"]
        factor = float(np.prod([r.fault.rate_factor for r in self._active("surge", rec.target)]))
        new = self.flow_period0[flows] / factor
        ratio = np.ones(len(w.flow_period_s))
        ratio[flows] = new / w.flow_period_s[flows]
        # each flow's next arrival, already drawn at the old rate: its wait from the end of the
        # arrivals drawn so far shrinks or grows by the ratio of the periods (for Poisson
        # arrivals, memoryless, exactly a wait at the new rate; a periodic flow's next arrival
        # comes that much sooner or later, and the ones after it at the new period)
        nf = int(st.ctr[K.C_FH_N])
        due_t, due_f = st.fh_t[:nf], st.fh_f[:nf]
        mine = np.flatnonzero(ratio[due_f] != 1.0)
        fl = due_f[mine]
        drawn_s = max(engine.now_s, engine._drawn_slot * w.slot_s)
        # a periodic flow's arrival k is at phase + k * period plus its own jitter: the part on
        # the period's grid moves, the jitter stays (the phase takes no jitter: the kernel adds
        # each arrival's own)
        k = st.flow_k[fl]
        grid = w.flow_phase_s[fl] + k * w.flow_period_s[fl]
        periodic = ~w.flow_poisson[fl]
        base = np.where(periodic, grid, due_t[mine])
        moved = drawn_s + (base - drawn_s) * ratio[fl]
        due_t[mine] = np.maximum(drawn_s, moved + np.where(periodic, due_t[mine] - grid, 0.0))
        w.flow_phase_s[fl[periodic]] = moved[periodic] - k[periodic] * (
            w.flow_period_s[fl[periodic]] * ratio[fl[periodic]])
        order = np.lexsort((due_f, due_t))  # (sorted by time: a valid heap)
        due_t[:], due_f[:] = due_t[order], due_f[order]
        w.flow_period_s[flows] = new

    def close(self, engine: Any) -> None:
        """At the end of the run: count what still-active surges created, and what was dropped
        while still-active link faults lasted."""
        for rec in self.records:
            if rec.active and rec.fault.kind == "surge" and "created" in rec._saved:
                f = self.fleet_names.index(rec.target)
                rec.requests_during = int(engine._st.fleet_req[f]) - rec._saved["created"]
            if rec.active and "transport_drops" in rec._saved:
                rec.transport_drops_during = (self._transport_drops(engine)
                                              - rec._saved["transport_drops"])
            if rec.active:
                self._count_ended(engine, rec, False)
