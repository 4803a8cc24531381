"""AI-and-RAN: how much of each cell-site GPU the radio's L1 takes, window by window.

The engine calls :meth:`RanShare.update` on a fixed grid of slots (``ai_ran.update_ms``), and
the faults when GPUs go down or come back. For the window that starts there it sets each site's
AI share of its GPUs (the kernel stretches an AI batch by 1 / share) and the background
utilization the radio sees; it integrates, per site, the GPU time taken by L1, the capacity left
to AI, and the L1 slots that did not fit.

Where a site's L1 needs more than it may use, it processes the share of its slots that fits
(``fit``: what it may use over what it needs) and drops the rest, as an L1 past its slot deadline
does; its cells then carry data in that share of their slots only: the kernel gives each cell's
devices ``fit`` of the PRBs it would (``cell_free_prb_dl`` and ``_ul``), and a site down, or all
of its GPUs, takes its cells off the air.

Simplifications (named in docs/model.md): the L1 load of a window follows the cell loads at its
start (EWMAs of PRB use plus the background profile; the devices' use is taken per slot the L1
processed, so a cell that dropped slots carried its load in fewer of them); L1 work is spread
evenly over the site's GPUs; a dropped slot is a fluid: every slot carries ``fit`` of the PRBs,
where a real L1 drops whole slots (and HARQ sends their blocks again); an AI batch runs at the
share it started with; in ``dynamic`` mode AI keeps at least ``MIN_AI_SHARE`` of a GPU even
when L1 takes it all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from airan.compute import l1
from airan.engine import kernel as K
from airan.engine.world import World
from airan.errors import InputError
from airan.scenario.load import l1_hosts
from airan.scenario.schema import Scenario

MIN_AI_SHARE = 1e-3


class RanShare:
    """Per-site L1 hosting and its accounting, for one run."""

    def __init__(self, scenario: Scenario, world: World) -> None:
        ar = scenario.ai_ran
        w = world
        self.mode = ar.mode
        self.traffic = ar.traffic
        self.update_slots = max(1, int(round(ar.update_ms * 1e-3 / w.slot_s)))
        n_sites = len(w.site_names)
        self.n_gpus = w.site_n_gpus.astype(float)
        self.n_up = self.n_gpus.copy()  # GPUs up to run L1 in the current window (faults)
        # the compute site running each cell's L1 (airan.scenario.load.l1_hosts: the cell-kind
        # site at its cell site, or the one that lists it in hosts_l1_of), -1: none
        self.cell_host = np.full(len(w.cell_names), -1, dtype=np.int64)
        if self.mode != "none":
            site_index = {name: i for i, name in enumerate(w.site_names)}
            host_of = {cell_site: site_index[site]
                       for cell_site, (site, _) in l1_hosts(scenario).items()}
            for c, node in enumerate(w.cell_node):
                self.cell_host[c] = host_of.get(w.node_names[int(node)], -1)
        self.hosted_cells = np.bincount(self.cell_host[self.cell_host >= 0], minlength=n_sites)
        hosts = self.hosted_cells > 0
        gpus = scenario.gpu_catalog()
        self.peak_cells = np.zeros(n_sites)
        # L1 capacity per GPU: the MIG slice's share of the peaks (its SMs'), or the whole GPU
        # (strict priority); and, under mig, the AI instance's share (its SMs')
        self.l1_cap = np.zeros(n_sites)
        self.ai_mig_share = np.ones(n_sites)
        for s in np.flatnonzero(hosts):
            gid = w.gpu_type_names[w.gpu_type[w.site_gpu_start[s]]]
            self.peak_cells[s] = l1.l1_peak_cells(gid, gpus[gid], ar.l1_peak_cells)
            self.l1_cap[s] = (l1.mig_l1_share(ar.mig_l1_fraction, gpus[gid])
                              if self.mode == "mig" else 1.0)
            if self.mode == "mig":
                self.ai_mig_share[s] = l1.mig_ai_slice(ar.mig_l1_fraction, gpus[gid])[0]
            if self.peak_cells[s] <= 0 and self.hosted_cells[s]:
                raise InputError(
                    f"compute site {w.site_names[s]!r} hosts the L1 of its cells but its GPU "
                    f"{gid!r} cannot run L1 (ai_ran.mode {self.mode!r})",
                    field="ai_ran.mode", value=self.mode)
        # the bandwidth each cell's L1 processes per slot (FDD: both carriers, l1.FDD_WORK_FACTOR)
        self.bandwidth_mhz = l1.l1_bandwidth_mhz(w.cell_bandwidth_mhz,
                                                 bool(np.all(w.slot_type == 3)))
        self.antennas = ar.antennas if ar.antennas is not None else scenario.radio.gnb_rx_antennas
        self.fixed_share = (ar.l1_fixed_share if ar.l1_fixed_share is not None
                            else l1.FIXED_FRACTION)
        self.share = np.ones(n_sites)  # AI share of each GPU in the current window
        self.l1_load = np.zeros(n_sites)  # L1 demand per GPU in the current window
        self.background = 0.0  # the background's PRB utilization now, downlink and uplink
        self.background_ul = 0.0
        self.background_s = 0.0  # the background's utilization integrated over time (s)
        self.background_ul_s = 0.0
        self.t_window = 0.0
        self.l1_gpu_s = np.zeros(n_sites)  # GPU-seconds of L1 work served
        self.ai_capacity_gpu_s = np.zeros(n_sites)  # GPU-seconds left to AI
        self.up_gpu_s = np.zeros(n_sites)  # GPU-seconds up (a fault's GPUs down excluded)
        # slots a site's L1 dropped (a float: a window drops 1 - fit of its slots)
        self.l1_slots_dropped = np.zeros(n_sites)
        self.l1_slots = np.zeros(n_sites, dtype=np.int64)  # slots a site's L1 ran (or dropped)
        self.l1_slots_down = np.zeros(n_sites, dtype=np.int64)  # dropped with no GPU up
        self.fit = np.ones(n_sites)  # the share of its slots a site's L1 processes now
        self.cell_fit = np.ones(len(w.cell_names))  # the same per cell (1: no L1 hosted)
        # the fit the cells' measured PRB use was taken under: per direction, averaged with the
        # weights of the loads' EWMAs (each ages by the slots of its direction), and the slot
        # counts they were last aged to
        self.fit_dl = np.ones(len(w.cell_names))
        self.fit_ul = np.ones(len(w.cell_names))
        self._fit_k = (0, 0)
        self.slot_s = w.slot_s

    @property
    def ai_work_scale(self) -> np.ndarray:
        """Per site, the share of a whole GPU that a second of AI batches uses: the AI MIG
        instance's share of the SMs in mode ``mig`` (its batch times are the instance's), else 1."""
        if self.mode != "mig":
            return np.ones(len(self.share))
        return np.where(self.hosted_cells > 0, self.ai_mig_share, 1.0)

    @property
    def active(self) -> bool:
        return self.mode != "none" or self.traffic is not None

    def background_at(self, t_s: float, direction: str = "dl") -> float:
        """The background's PRB utilization of every cell at ``t_s`` on ``direction``'s
        slots ("dl" or "ul": the uplink's own curve where ``ai_ran.traffic`` gives one)."""
        tr = self.traffic
        if tr is None:
            return 0.0
        hourly, peak = tr.curve("ul" if direction == "ul" else "dl")
        return float(l1.background_utilization(
            t_s, hourly=hourly, peak_utilization=peak, start_hour=tr.start_hour,
            step_s=tr.step_s))

    def close_window(self, now_s: float) -> None:
        """Integrate the current window up to ``now_s`` (its slots whose L1 missed too)."""
        dt = now_s - self.t_window
        if dt <= 0:
            return
        self.background_s += self.background * dt
        self.background_ul_s += self.background_ul * dt
        # what the L1 got: at most its cap, and at most what AI's share leaves (an L1 beyond
        # the whole GPU was booked at all of it while AI kept MIN_AI_SHARE: over 100% booked)
        served = np.minimum(np.minimum(self.l1_load, self.l1_cap), 1.0 - self.share)
        self.l1_gpu_s += served * self.n_up * dt
        self.ai_capacity_gpu_s += self.share * self.n_up * dt
        self.up_gpu_s += self.n_up * dt
        slots = int(round(dt / self.slot_s))
        hosting = self.hosted_cells > 0
        self.l1_slots_dropped += np.where(hosting, slots * (1.0 - self.fit), 0.0)
        # of them, those of a site that had no GPU up (a fault's, not the L1's capacity)
        self.l1_slots_down += np.where(hosting & (self.n_up <= 0), slots, 0)
        self.l1_slots += np.where(hosting, slots, 0)
        self.t_window = now_s

    @property
    def l1_slot_misses(self) -> np.ndarray:
        """Per site, the slots its L1 dropped, a part of one counted as one (the planner fails
        a build-out that drops any)."""
        return np.ceil(self.l1_slots_dropped - 1e-6).astype(np.int64)

    def dark_cells(self) -> np.ndarray:
        """The cells whose L1 runs nowhere now (its site down, or every GPU of it): off the
        air (faults re-attach their devices, as for a cell_down)."""
        return np.flatnonzero(self.cell_fit <= 0.0)

    def _age_fit(self, st: Any, keep: float) -> None:
        """Age the per-direction averages of the cells' fit to the slots run so far, with the
        current fit for the slots since (a cell whose fit stayed 1 keeps exactly 1)."""
        k = (int(st.ctr[K.C_NSLOT_DL]), int(st.ctr[K.C_NSLOT_UL]))
        for name, k_now, k_then in (("fit_dl", k[0], self._fit_k[0]),
                                    ("fit_ul", k[1], self._fit_k[1])):
            old = getattr(self, name)
            w_old = keep ** float(k_now - k_then)
            setattr(self, name, np.where((old == 1.0) & (self.cell_fit == 1.0), 1.0,
                                         old * w_old + self.cell_fit * (1.0 - w_old)))
        self._fit_k = k

    def _set_free_prb(self, world: World, st: Any) -> None:
        """The PRBs each cell's slots of each direction have for the devices from now on:
        background traffic's share out, and only the share of its slots its L1 processes (the
        kernel's ``cell_free_prb_dl`` and ``_ul``; a product in this order, as the kernel
        formed it before)."""
        n = len(world.cell_names)
        st.cell_free_prb_dl[:n] = world.cell_prb * (1.0 - self.background) * self.cell_fit
        st.cell_free_prb_ul[:n] = world.cell_prb * (1.0 - self.background_ul) * self.cell_fit

    def update(self, world: World, st: Any, now_s: float,
               gpu_up: np.ndarray | None = None, cells_down: np.ndarray | None = None) -> None:
        """Close the window ending now and set the shares from now on: at each window's start,
        and when a fault takes GPUs down or brings them back (their batches then start at the
        share of the GPUs up, not at the one of the window before).

        ``gpu_up``: which GPUs faults left up (None: all); a site's L1 is spread over its GPUs
        up, and where none is (or the site is down) every slot of its cells' L1 drops.
        ``cells_down``: cells a ``cell_down`` fault has off the air, which carry nothing, so
        their L1 has nothing to process. Called twice at one instant, it sets the same."""
        self.close_window(now_s)
        w = world
        self.background = self.background_at(now_s, "dl")
        self.background_ul = self.background_at(now_s, "ul")
        st.fs[K.F_BACKGROUND_DL] = self.background
        st.fs[K.F_BACKGROUND_UL] = self.background_ul
        if self.mode == "none" or not len(w.site_names):
            self._set_free_prb(w, st)
            return
        decay = w.load_decay
        n = len(w.cell_names)  # (the state's per-cell rows keep a spare one)
        load_dl, load_ul = st.load_dl[:n], st.load_ul[:n]
        gap_dl = np.clip(st.ctr[K.C_NSLOT_DL] - st.load_dl_k[:n], 0, len(decay) - 1)
        gap_ul = np.clip(st.ctr[K.C_NSLOT_UL] - st.load_ul_k[:n], 0, len(decay) - 1)
        # the devices' PRB use: the EWMAs start at radio.initial_load (the interference's
        # assumption before any load is measured), which is no L1 work: take out what is left
        # of it, initial_load x (1 - alpha)^(slots of the direction so far)
        keep = 1.0 - w.load_alpha
        dl = load_dl * decay[gap_dl] - w.initial_load * keep ** float(st.ctr[K.C_NSLOT_DL])
        ul = load_ul * decay[gap_ul] - w.initial_load * keep ** float(st.ctr[K.C_NSLOT_UL])
        # per slot the L1 processed: a cell that dropped slots carried its load in the rest,
        # each direction's EWMA over the fit its slots had (none processed: nothing to scale)
        self._age_fit(st, keep)
        dl, ul = np.maximum(dl, 0.0), np.maximum(ul, 0.0)
        dl = np.divide(dl, self.fit_dl, out=dl.copy(), where=self.fit_dl > 1e-9)
        ul = np.divide(ul, self.fit_ul, out=ul.copy(), where=self.fit_ul > 1e-9)
        ai = 0.5 * (dl + ul)
        # (the two directions' mean: the downlink's alone where the uplink follows its curve)
        util = np.minimum(1.0, 0.5 * (self.background + self.background_ul) + ai)
        hosted = self.cell_host >= 0
        share_per_cell = np.zeros(len(w.cell_names))
        host = self.cell_host[hosted]
        share_per_cell[hosted] = l1.l1_gpu_share(
            util[hosted], 1.0, self.bandwidth_mhz[hosted], self.antennas, self.fixed_share
        ) / np.maximum(self.peak_cells[host], 1e-12)
        if cells_down is not None:
            share_per_cell[cells_down] = 0.0
        demand = np.bincount(host, weights=share_per_cell[hosted], minlength=len(w.site_names))
        n_up = self.n_gpus if gpu_up is None else np.bincount(
            w.gpu_site, weights=gpu_up.astype(float), minlength=len(w.site_names))
        self.n_up = np.where(st.site_up > 0, n_up, 0.0)  # (failed, noticed or not: none)
        # per GPU up, spread evenly (none up: the L1 cannot run)
        # (a site that hosts cells' L1 with no GPU up cannot run it, needed or not: its cells
        # stay dark while a cell_down, which needs no L1, holds them off the air too)
        self.l1_load = np.where(self.n_up > 0, demand / np.maximum(self.n_up, 1.0),
                                np.where((demand > 0) | (self.hosted_cells > 0), np.inf, 0.0))
        if self.mode == "mig":
            self.share = np.where(self.hosted_cells > 0, self.ai_mig_share, 1.0)
            # AI runs on its own MIG instance, whose batch times the world's tables hold
            # (a GPU type of its own): nothing to stretch
            st.site_ai_share[:] = 1.0
        else:
            self.share = np.maximum(1.0 - np.minimum(self.l1_load, 1.0), MIN_AI_SHARE)
            self.share = np.where(self.hosted_cells > 0, self.share, 1.0)
            st.site_ai_share[:] = self.share
        # the share of its slots a site's L1 processes: what it may use (its cap, and no more
        # than AI leaves it) over what it needs; none where no GPU is up
        may_use = np.minimum(self.l1_cap, 1.0 - self.share)
        load = self.l1_load
        self.fit = np.where(load > may_use + 1e-12, np.divide(
            may_use, load, out=np.zeros(len(load)), where=np.isfinite(load) & (load > 0.0)), 1.0)
        self.cell_fit = np.where(hosted, self.fit[np.maximum(self.cell_host, 0)], 1.0)
        self._set_free_prb(w, st)

    def site_summary(self, s: int, ai_work_gpu_s: float, elapsed_s: float) -> dict[str, Any]:
        """Site ``s``'s GPU time in hours: the L1's, AI's, and the rest of the time its GPUs
        were up (``idle``: under ``mig`` it holds the unused part of the L1's slice, which AI
        cannot use, and the SMs that neither instance has, 8 of an H100's 132; a GPU that a
        fault takes down is not idle); ``ai_capacity`` is the time
        left to AI, sellable or not."""
        total = self.n_gpus[s] * elapsed_s
        up = min(float(self.up_gpu_s[s]), total)
        return {
            "hosted_cells": int(self.hosted_cells[s]),
            "l1_gpu_hours": float(self.l1_gpu_s[s] / 3600),
            "ai_gpu_hours": float(ai_work_gpu_s / 3600),
            "idle_gpu_hours": float(max(0.0, up - self.l1_gpu_s[s] - ai_work_gpu_s) / 3600),
            "down_gpu_hours": float((total - up) / 3600),
            "ai_capacity_gpu_hours": float(self.ai_capacity_gpu_s[s] / 3600),
            # of all its GPUs' time, down time included (as gpu_utilization, the timeseries'
            # l1_share and the terminal's line)
            "mean_l1_share": float(self.l1_gpu_s[s] / total) if total > 0 else 0.0,
            "l1_slot_misses": int(self.l1_slot_misses[s]),
            # of them, the slots it had no GPU up for (a fault's: the cells were off the air)
            "l1_slots_down": int(self.l1_slots_down[s]),
            "l1_slots": int(self.l1_slots[s]),
        }


def day_profile(scenario: Scenario, seed: int | None = None,
                device_use: Any = None) -> list[dict[str, Any]]:
    """Hour by hour over a day, what the RAN's L1 takes of each cell-site compute site's GPUs
    and what it leaves to AI, at the cells' background traffic (``ai_ran.traffic``; without it,
    idle cells), in closed form: the engine's rules (:meth:`RanShare.update`) without a run, so
    without the devices' own PRB use, which a run adds. One entry per site that hosts cells'
    L1: ``site``, ``cells``, ``gpus``, ``gpu``, and per hour 0..23 ``background`` (the PRB use
    of its cells, the mean of downlink and uplink, which the L1's load takes),
    ``background_dl`` and ``background_ul`` (each direction's), ``l1_share`` (of each GPU,
    what the L1 needs), ``ai_share`` (what AI has: under ``dynamic`` the rest, under ``mig`` its
    instance's), ``l1_fit`` (the share of its slots the L1 processes: below 1 it drops the
    rest), ``ai_gpu_hours`` (the day's GPU-hours left to AI, all its GPUs),
    ``devices`` (its cells' mean device PRB use added, 0 without ``device_use``), ``l1_slice``
    (one figure: under ``mig``, the L1's MIG slice's share of each GPU's peaks, else None),
    per hour ``l1_power_w`` (its GPUs' power for the L1's processed slots above their idle:
    the L1's share x (TDP - idle), as a run's ``power_w`` counts it), ``idle_power_w`` (its GPUs'
    idle, drawn all day), ``l1_kwh_per_day`` and ``idle_kwh_per_day``, and
    ``ai_requests_per_day``: per service the site serves, the requests AI's share of its GPUs
    would compute in the day at full batches of its model, one batch after another: under
    ``dynamic``, ``ai_gpu_hours`` x 3600 x max_batch / the batch's time on the whole GPU (the
    engine stretches a batch by AI's share); under ``mig``, the AI instance all day, GPUs x
    86,400 x max_batch / the batch's time on the instance (the world's own GPU type for it).
    Requests are the unit a planner sizes services in; one service at a time.

    ``device_use``: per cell (the world's order), the devices' own PRB use, the mean of the
    two directions' (a run's cells.parquet), added to the background at every hour (as the
    run measured it: the devices' load does not follow the day; an operator's review:
    ran-share gave AI 52% of an A100 all day where a run of the same hour, its devices' PRBs
    added, dropped 19% of the L1's slots); None: the background alone."""
    from airan.engine.world import build_world

    if scenario.ai_ran.mode == "none":
        raise InputError("the scenario runs no cell's L1 on a GPU: set ai_ran.mode to "
                         "dynamic or mig", field="ai_ran.mode", value="none")
    w = build_world(scenario, scenario.seed if seed is None else seed)
    ran = RanShare(scenario, w)
    gpus = scenario.gpu_catalog()
    tr = scenario.ai_ran.traffic
    hours = np.arange(24, dtype=float)
    if tr is None:
        bg = dl = ul = np.zeros(24)
    else:  # (at each clock hour: the curve's values, whatever start_hour the runs take)
        dl, ul = (l1.background_utilization(hours * 3600.0, hourly=c[0], peak_utilization=c[1],
                                            start_hour=0.0, step_s=60.0)
                  for c in (tr.curve("dl"), tr.curve("ul")))
        bg = 0.5 * (dl + ul)
    devices = (np.zeros(len(w.cell_names)) if device_use is None
               else np.asarray(device_use, dtype=float))
    out = []
    for s in np.flatnonzero(ran.hosted_cells > 0):
        cells = np.flatnonzero(ran.cell_host == s)
        # (the engine's: the background's mean and the devices', at most every PRB)
        need = sum(l1.l1_gpu_share(np.minimum(1.0, bg + devices[c]), 1.0,
                                   ran.bandwidth_mhz[c], ran.antennas, ran.fixed_share)
                   for c in cells) / ran.peak_cells[s]
        per_gpu = np.asarray(need, dtype=float) / max(ran.n_gpus[s], 1.0)
        if ran.mode == "mig":
            ai = np.full(24, ran.ai_mig_share[s])
        else:
            ai = np.where(per_gpu < 1.0, np.maximum(1.0 - per_gpu, MIN_AI_SHARE), MIN_AI_SHARE)
        may_use = np.minimum(ran.l1_cap[s], 1.0 - ai)
        fit = np.where(per_gpu > may_use + 1e-12, may_use / np.maximum(per_gpu, 1e-300), 1.0)
        gid = w.gpu_type_names[w.gpu_type[w.site_gpu_start[s]]]
        out.append({
            "site": w.site_names[s], "cells": int(len(cells)), "gpus": int(ran.n_gpus[s]),
            "gpu": gid, "background": bg.tolist(), "background_dl": dl.tolist(),
            "background_ul": ul.tolist(), "l1_share": per_gpu.tolist(),
            "ai_share": ai.tolist(), "l1_fit": fit.tolist(),
            "ai_gpu_hours": float(ai.sum() * ran.n_gpus[s]),
            # under mig, the L1's slice of each GPU (its SMs' share of the peaks; None
            # otherwise): fixed whatever the L1 uses, the rest of it idle to AI
            "l1_slice": float(ran.l1_cap[s]) if ran.mode == "mig" else None,
            "devices": float(devices[cells].mean()),
            # its GPUs' power for the L1 above their idle, per hour (W: the slots it processes,
            # as a run's power_w counts them), and the day's, with the idle's (an operator's
            # energy planner: GPU-hours alone, no kWh)
            "l1_power_w": (np.minimum(per_gpu, may_use) * ran.n_gpus[s]
                           * (gpus[gid].tdp_w - gpus[gid].idle_w)).tolist(),
            "idle_power_w": float(ran.n_gpus[s] * gpus[gid].idle_w),
        })
        gtype = int(w.gpu_type[w.site_gpu_start[s]])
        per_day = {}
        for v, name in enumerate(w.service_names):
            m = int(w.svc_model[v])
            b = int(w.site_max_batch[s, m])
            t_b = float(w.svc_time_s[m, gtype, b])
            if w.svc_site_ok[v, s] and b > 0 and np.isfinite(t_b) and t_b > 0.0:
                # (under mig gtype is the AI instance's own type, its times the instance's:
                # the instance all day, not the share again; a review)
                hours = (24.0 * ran.n_gpus[s] if ran.mode == "mig"
                         else out[-1]["ai_gpu_hours"])
                per_day[name] = float(hours * 3600.0 * b / t_b)
        out[-1]["ai_requests_per_day"] = per_day
        out[-1]["l1_kwh_per_day"] = sum(out[-1]["l1_power_w"]) / 1e3  # (an hour each)
        out[-1]["idle_kwh_per_day"] = out[-1]["idle_power_w"] * 24 / 1e3
    return out
