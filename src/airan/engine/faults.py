"""Timed faults: sites, GPUs, links and cells that fail, and fleets that surge.

The engine applies each fault's start and end on the slot grid (:meth:`FaultSchedule.apply`)
by changing the arrays the compiled kernel reads, in place: site health, GPU free times,
transport paths and capacities, device attachments, flow periods. A failed site's queued and
running requests become *orphans*; the engine re-dispatches them through the policy at the
next decision point (the gateway noticing the failure), so nothing is lost silently: each ends
at another site, on its device, or dropped with reason ``site_failure``.

Simplifications (named in the README): requests already on a fibre when it is cut arrive; a
cell's devices re-attach to their next strongest cell among those precomputed for them, with
``reestablish_ms`` of uplink silence (downlink answers are not delayed); a surge changes a
fleet's rate from each device's next arrival; the GPU time of a batch cut by a failure is not
counted as work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airan.engine import kernel as K
from airan.engine.world import World, transport_paths
from airan.errors import InputError, unknown_name
from airan.radio import link as radio_link
from airan.scenario.schema import Fault, Scenario


@dataclass
class FaultRecord:
    """What one fault did, for the summary."""

    fault: Fault
    target: str
    affected_requests: int = 0  # requests the failed site or GPUs held or were sent meanwhile
    redispatched: int = 0
    lost: int = 0
    devices_moved: int = 0
    requests_during: int = 0
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
        }
        if f.kind == "cell_down":
            out["devices_moved"] = self.devices_moved
        if f.kind == "surge":
            out["requests_during"] = self.requests_during
        return out


class FaultSchedule:
    """The scenario's faults, resolved against the world, and their effects."""

    def __init__(self, scenario: Scenario, world: World, kw: Any) -> None:
        w = world
        self.world = w
        self.kw = kw
        self.records: list[FaultRecord] = []
        self.events: list[tuple[int, int, int, bool]] = []  # (slot, order, fault, is_start)
        self.gpu_up = np.ones(len(w.gpu_site), dtype=bool)
        self.link_up = np.ones(len(w.link_cap_bps), dtype=bool)
        self.link_cap0 = w.link_cap_bps.copy()
        self.link_delay0 = w.link_delay_s.copy()
        self.p0_mw = float(radio_link.dbm_to_mw(scenario.radio.ul_p0_dbm))
        self.alpha = scenario.radio.ul_alpha
        self.fleet_names = [f.name for f in scenario.fleets]
        for i, f in enumerate(scenario.faults):
            self.records.append(FaultRecord(f, self._target(i, f)))
            start = int(round(f.start_s / w.slot_s))
            self.events.append((start, 2 * i, i, True))
            if f.end_s is not None:
                self.events.append((int(round(f.end_s / w.slot_s)), 2 * i + 1, i, False))
        self.events.sort()
        self._next = 0
        for name in ("path_links", "path_links_back", "link_cap_bps", "link_delay_s",
                     "dev_cell", "dev_top_cell", "dev_top_gain", "dev_ul_p_prb_mw",
                     "flow_period_s", "flow_phase_s", "dev_resid_gain_mw",
                     "dev_dl_noise_mw"):
            # the kernel holds these very arrays (kernel_world copies only non-contiguous ones)
            if self.records and not getattr(w, name).flags.c_contiguous:
                raise RuntimeError(f"the kernel's {name} is a copy: faults could not reach it")

    @property
    def active(self) -> bool:
        return bool(self.records)

    # ---- targets ---------------------------------------------------------------------------
    def _target(self, i: int, f: Fault) -> str:
        w = self.world
        where = f"faults[{i}]"
        if f.kind in ("site_down", "gpu_down"):
            if f.site not in w.site_names:
                raise unknown_name("compute site", str(f.site), w.site_names, field=f"{where}.site")
            if f.kind == "gpu_down":
                n = int(w.site_n_gpus[w.site_names.index(f.site)])
                if f.gpus > n:
                    raise InputError(f"site {f.site!r} has {n} GPUs", field=f"{where}.gpus",
                                     value=f.gpus)
            return str(f.site)
        if f.kind in ("link_down", "link_degraded"):
            a, b = f.link  # type: ignore[misc]
            for end in (a, b):
                if end not in w.node_names:
                    raise unknown_name("node", end, w.node_names, field=f"{where}.link")
            if not self._link_ids(a, b).size:
                raise InputError(f"no transport link joins {a!r} and {b!r}",
                                 field=f"{where}.link", value=f"{a}-{b}")
            return f"{a}-{b}"
        if f.kind == "cell_down":
            if not self._cells(str(f.cell)).size:
                raise unknown_name("cell or cell site", str(f.cell), w.cell_names,
                                   field=f"{where}.cell")
            return str(f.cell)
        if f.fleet not in self.fleet_names:
            raise unknown_name("fleet", str(f.fleet), self.fleet_names, field=f"{where}.fleet")
        return str(f.fleet)

    def _link_ids(self, a: str, b: str) -> np.ndarray:
        w = self.world
        ia, ib = w.node_names.index(a), w.node_names.index(b)
        fwd = np.flatnonzero((w.link_a == ia) & (w.link_b == ib))
        return np.unique(np.r_[fwd, fwd ^ 1])

    def _cells(self, name: str) -> np.ndarray:
        names = self.world.cell_names
        return np.array([c for c, n in enumerate(names) if n == name or n.split("/")[0] == name],
                        dtype=np.int64)

    # ---- scheduling --------------------------------------------------------------------------
    def next_slot(self, slot: int) -> int | None:
        """The slot of the next fault event at or after ``slot`` not yet applied."""
        return self.events[self._next][0] if self._next < len(self.events) else None

    def apply(self, engine: Any) -> None:
        """Apply every fault event due at the engine's current slot."""
        while self._next < len(self.events) and self.events[self._next][0] <= engine.slot:
            _, _, i, start = self.events[self._next]
            self._next += 1
            rec = self.records[i]
            getattr(self, f"_{rec.fault.kind}")(engine, rec, start)
            rec.active = start

    def down_cells(self) -> np.ndarray:
        """Cells that a fault has off air now."""
        cells = [self._cells(r.target) for r in self.records
                 if r.active and r.fault.kind == "cell_down"]
        return np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)

    def site_fault(self, site: int) -> FaultRecord | None:
        """The active site_down or gpu_down fault of ``site`` (for orphan accounting)."""
        name = self.world.site_names[site]
        for rec in self.records:
            if rec.active and rec.fault.kind in ("site_down", "gpu_down") and rec.target == name:
                return rec
        return None

    # ---- compute ---------------------------------------------------------------------------
    def _site_gpus(self, site: int) -> np.ndarray:
        g0 = int(self.world.site_gpu_start[site])
        return np.arange(g0, g0 + int(self.world.site_n_gpus[site]))

    def _fail(self, engine: Any, rec: FaultRecord, site: int, down_local: np.ndarray) -> None:
        """Orphan what the failed GPUs held; purge their batches' events; cut their busy time."""
        st = engine._st
        now = engine.now_s
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
        gpus = self._site_gpus(site)[down_local]
        ahead = np.maximum(st.gpu_free[gpus] - now, 0.0)
        st.gpu_busy[gpus] -= np.where(np.isfinite(ahead), ahead, 0.0)

    def _rebuild_gpu_heap(self, engine: Any, site: int) -> None:
        st = engine._st
        ids = self._site_gpus(site)
        order = np.lexsort((ids, st.gpu_free[ids]))
        st.gpu_heap[ids[0] : ids[0] + len(ids)] = ids[order]

    def _site_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        st = engine._st
        s = self.world.site_names.index(rec.target)
        gpus = self._site_gpus(s)
        if start:
            st.site_up[s] = 0
            rec.active = True  # orphans from now on are this fault's
            self._fail(engine, rec, s, np.ones(len(gpus), dtype=bool))
            st.gpu_free[gpus] = np.where(self.gpu_up[gpus], engine.now_s, np.inf)
        else:
            st.site_up[s] = 1
            st.gpu_free[gpus] = np.where(self.gpu_up[gpus], engine.now_s, np.inf)
        st.site_clock[s] = engine.now_s
        self._rebuild_gpu_heap(engine, s)

    def _gpu_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        st = engine._st
        s = self.world.site_names.index(rec.target)
        gpus = self._site_gpus(s)
        if start:
            pick = gpus[self.gpu_up[gpus]][-rec.fault.gpus :]  # the site's last GPUs still up
            rec._saved["gpus"] = pick
            down_local = np.isin(gpus, pick)
            rec.active = True
            self._fail(engine, rec, s, down_local)
            self.gpu_up[pick] = False
            st.gpu_free[pick] = np.inf
        else:
            pick = rec._saved["gpus"]
            self.gpu_up[pick] = True
            st.gpu_free[pick] = engine.now_s
        self._rebuild_gpu_heap(engine, s)
        if not start and st.site_up[s]:
            K.advance_site(self.kw, engine._sref, s, engine.now_s)  # queued work starts now

    # ---- transport -------------------------------------------------------------------------
    def _reroute(self) -> None:
        w = self.world
        links, back, delay, bottleneck = transport_paths(
            w.node_names, w.link_a, w.link_b, w.link_delay_s, w.link_cap_bps, w.site_node,
            self.link_up)
        w.path_links[...] = links
        w.path_links_back[...] = back
        w.path_delay_s[...] = delay
        w.path_bottleneck_bps[...] = bottleneck
        w.extras.pop("nearest_site_by_node", None)  # policies' cached tables are stale now

    def _link_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        ids = self._link_ids(*rec.fault.link)  # type: ignore[misc]
        self.link_up[ids] = not start
        self._reroute()

    def _link_degraded(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        w = self.world
        ids = self._link_ids(*rec.fault.link)  # type: ignore[misc]
        if start:
            w.link_cap_bps[ids] = self.link_cap0[ids] * rec.fault.capacity_factor
            w.link_delay_s[ids] = self.link_delay0[ids] + rec.fault.extra_delay_ms * 1e-3
        else:
            w.link_cap_bps[ids] = self.link_cap0[ids]
            w.link_delay_s[ids] = self.link_delay0[ids]
        self._reroute()

    # ---- radio -----------------------------------------------------------------------------
    def _cell_down(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        w = self.world
        st = engine._st
        if start:
            down = self._cells(rec.target)
            devs = np.flatnonzero(np.isin(w.dev_cell, down))
            rec._saved.update(devs=devs, top=w.dev_top_cell[devs].copy(),
                              gain=w.dev_top_gain[devs].copy(), cell=w.dev_cell[devs].copy(),
                              p_prb=w.dev_ul_p_prb_mw[devs].copy())
            top, gain = w.dev_top_cell[devs], w.dev_top_gain[devs]
            usable = ~np.isin(top, down) & (gain > 0)
            best = np.argmax(usable, axis=1)  # the strongest usable cell (rows are sorted)
            rows = np.arange(len(devs))
            none = ~usable[rows, best]
            # the new serving cell moves to the front; the others keep their order
            cols = np.arange(top.shape[1])[None, :]
            order = np.where(cols == 0, best[:, None],
                             np.where(cols <= best[:, None], cols - 1, cols))
            top = np.take_along_axis(top, order, axis=1)
            gain = np.take_along_axis(gain, order, axis=1)
            gain[none, 0] = 0.0  # no cell left: radio outage until the cell returns
            w.dev_top_cell[devs] = top
            w.dev_top_gain[devs] = gain
            w.dev_cell[devs] = top[:, 0]
            pl = 1.0 / np.maximum(gain[:, 0], 1e-30)
            w.dev_ul_p_prb_mw[devs] = self.p0_mw * pl**self.alpha
            quiet = engine.now_s + rec.fault.reestablish_ms * 1e-3
            st.ue_ul_elig[devs] = np.maximum(st.ue_ul_elig[devs], quiet)
            rec.devices_moved = len(devs)
        else:
            sv = rec._saved
            devs = sv["devs"]
            w.dev_top_cell[devs] = sv["top"]
            w.dev_top_gain[devs] = sv["gain"]
            w.dev_cell[devs] = sv["cell"]
            w.dev_ul_p_prb_mw[devs] = sv["p_prb"]
        st.ue_se_slot[rec._saved["devs"]] = -1  # re-evaluate their SINR now

    def _surge(self, engine: Any, rec: FaultRecord, start: bool) -> None:
        w = self.world
        st = engine._st
        f = self.fleet_names.index(rec.target)
        flows = np.flatnonzero(w.dev_fleet[w.flow_dev] == f)
        if start:
            rec._saved["period"] = w.flow_period_s[flows].copy()
            rec._saved["created"] = int(st.fleet_req[f])
            new = rec._saved["period"] / rec.fault.rate_factor
        else:
            new = rec._saved["period"]
            rec.requests_during = int(st.fleet_req[f]) - rec._saved["created"]
        # periodic flows place arrival k at phase + k * period: rebase the phase so that the
        # next arrival follows the last one by the new period (no burst, no gap)
        k = st.flow_k[flows]
        w.flow_phase_s[flows] += k * (w.flow_period_s[flows] - new)
        w.flow_period_s[flows] = new

    def close(self, engine: Any) -> None:
        """At the end of the run: count what still-active surges created."""
        for rec in self.records:
            if rec.active and rec.fault.kind == "surge" and "created" in rec._saved:
                f = self.fleet_names.index(rec.target)
                rec.requests_during = int(engine._st.fleet_req[f]) - rec._saved["created"]
