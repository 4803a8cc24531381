"""The device emulator: every fleet's requests at their rates, with real payloads, end to end.

Each device of the scenario (placed by the same seed as the gateways, so it attaches to the
same cell) sends each of its services' requests to its cell's gateway at the service's rate
(periodic with the scenario's phases and jitter, or Poisson), with a payload of the configured
size (a real JPEG frame), and measures the end-to-end latency against the deadline. A request
the policy places on the device itself is computed there for the catalog's on-device time.

:func:`run_devices` returns a :class:`airan.engine.Result` with the twin's summary layout and
tables, so ``write_run`` gives a run folder that every report and comparison reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np
import pyarrow as pa

from airan.engine.engine import (
    BREAKDOWN,
    REASONS,
    Result,
    service_priority,
    site_batching_room,
    site_full_batch_load,
)
from airan.engine.world import below_qout_per_fleet
from airan.errors import InputError
from airan.live import wire
from airan.live.clock import frozen_heap, short_switch_interval, timers, unix_s
from airan.live.models import jpeg_payload
from airan.live.runtime import Deployment, check_live_scenario
from airan.live.wire import MAX_LEAD_S
from airan.metrics.histogram import MAX_RELATIVE_ERROR, histogram, quantile
from airan.metrics.satisfaction import satisfaction_figures
from airan.metrics.site_energy import site_energy, sites_energy
from airan.scenario import Scenario, load_scenario
from airan.scenario.load import offered_requests
from airan.version import airan_version

#: Drop reasons of the live runtime beyond the twin's (``airan.engine.REASONS``).
LIVE_REASONS = ("site_failure", "timeout", "cancelled", "error")
OUTCOMES = ["met", "late"] + [f"dropped:{r}" for r in (*REASONS, *LIVE_REASONS)]
PAYLOAD_VARIANTS = 4  # distinct frames per service
STOPPED_POLLS = 2  # a site that misses this many load polls at the end has stopped
# requests are posted this long before they are sent (s), stamped with their send time: the
# gateway holds each until then, so the emulator's own work on a burst of simultaneous sends
# (about 1.5 ms a request here) is not added to their latency
LEAD_S = MAX_LEAD_S


@dataclass
class _Rec:
    """One request's record (times in s)."""

    seq: int
    service: int
    device: int
    created_s: float
    outcome: str = "dropped:error"
    # where it ran; "unreachable" until its gateway answers (a timeout or an error of the call
    # itself: the device never learns the site), "rejected" only for admission control's drops
    placement: str = "unreachable"
    latency_s: float = math.nan
    parts_ms: list[float] = field(default_factory=lambda: [math.nan] * len(BREAKDOWN))
    gateway_ms: float = math.nan
    site_ms: float = math.nan
    batch: int = 0
    attempts: int = 0
    cost_ms: float = math.nan  # the runtime's own work: hops, gateway, site beyond the model
    uplink_hop_ms: float = math.nan  # device to gateway, from the request's creation
    site_hop_ms: float = math.nan  # gateway to site and back, beyond the site's own time


def arrivals(world: Any, duration_s: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Creation times (s) and flow indices of every request in ``[0, duration_s)``, in time
    order: each flow periodic from its phase (plus uniform jitter) or Poisson at its rate."""
    rng = np.random.default_rng([seed, 7])
    ts, fs = [], []
    for f in range(len(world.flow_dev)):
        period = float(world.flow_period_s[f])
        if world.flow_poisson[f]:
            n = int(duration_s / period * 1.5 + 20)
            t = np.cumsum(rng.exponential(period, n))
        else:
            t = world.flow_phase_s[f] + period * np.arange(int(duration_s / period) + 2)
            if world.flow_jitter_s[f] > 0:
                t = t + rng.uniform(0, world.flow_jitter_s[f], len(t))
        t = t[t < duration_s]
        ts.append(t)
        fs.append(np.full(len(t), f, dtype=np.int64))
    t_all = np.concatenate(ts) if ts else np.zeros(0)
    f_all = np.concatenate(fs) if fs else np.zeros(0, dtype=np.int64)
    order = np.argsort(t_all, kind="stable")
    return t_all[order], f_all[order]


def _report_span(t_a: float, a: Any, t_b: float, b: Any) -> float:
    """The time between two load reports of a site (s): by its own clock (``uptime_s``, read
    with its busy time and queue area), else by when they were asked for. A slow site answers
    late, and a span of the asking times beside busy times read at the answers gave a one-GPU
    site 110% busy (a live integrator's review)."""
    up_a, up_b = float(getattr(a, "uptime_s", 0.0)), float(getattr(b, "uptime_s", 0.0))
    return up_b - up_a if up_a > 0.0 and up_b > up_a else t_b - t_a


#: distinct error messages a live run's summary keeps (each with its count)
MAX_ERRORS_KEPT = 5


class DeviceEmulator:
    """The devices of a scenario against a running deployment (see :func:`run_devices`)."""

    def __init__(self, scenario: Scenario, deployment: Deployment, *, duration_s: float,
                 timeout_s: float = 5.0, poll_s: float = 0.25, lead_s: float = LEAD_S) -> None:
        from airan.engine.world import build_world

        if not 0.0 <= lead_s <= MAX_LEAD_S:
            raise InputError(f"the posting lead must be between 0 and {MAX_LEAD_S:g} s",
                             field="lead_s", value=lead_s)
        self.lead_s = lead_s
        self.scenario = scenario
        self.dep = deployment
        self.duration_s = duration_s
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.world = w = build_world(scenario, deployment.seed)
        missing = [c for c in set(w.cell_names[i] for i in w.dev_cell) if c not in
                   deployment.gateways]
        if missing:
            raise InputError(f"no gateway for cell {missing[0]!r}", field="gateways",
                             value=missing[0])
        # (each upload and answer at its service's mean size: a ul_kb_spread or dl_kb_spread
        # is the twin's alone)
        self.payloads = [[jpeg_payload(int(round(s.ul_mean_kb * 1000)), seed=100 * v + k)
                          for k in range(PAYLOAD_VARIANTS)]
                         for v, s in enumerate(scenario.services)]
        self.reply_bytes = [int(round(s.dl_mean_kb * 1000)) for s in scenario.services]
        self.records: list[_Rec] = []
        self.samples: dict[str, list[tuple[float, Any]]] = {n: [] for n in w.site_names}
        self.refused: set[str] = set()  # sites that refused this tenant's token
        self.poll_times: list[float] = []  # when the sites were asked for their load
        self.wall_s = 0.0
        self.errors: dict[str, int] = {}  # what the requests dropped as error said, and how many
        # when each device's engine (main: -1, or one of its own) is free (monotonic s)
        self._engine_free: dict[tuple[int, int], float] = {}

    def _note_error(self, text: str) -> None:
        """Count a request dropped as an error under what it said (a policy's or a model's
        failure, a site's refusal), so that the run's summary says why (a live integrator's
        review: "error 32" and the cause only in a gateway's log)."""
        key = text[:500]
        if key in self.errors or len(self.errors) < MAX_ERRORS_KEPT:
            self.errors[key] = self.errors.get(key, 0) + 1

    async def _one(self, rec: _Rec, stub: wire.Stub, t_create: float) -> None:
        w = self.world
        v = rec.service
        deadline = float(w.svc_deadline_s[v])
        req = wire.InferRequest(
            request_id=f"{rec.device}-{rec.seq}", device=rec.device,
            service=w.service_names[v], payload=self.payloads[v][rec.seq % PAYLOAD_VARIANTS],
            reply_bytes=self.reply_bytes[v],
            sent_unix_s=unix_s(t_create), posted_unix_s=unix_s(time.monotonic()),
            reply_lead_s=self.lead_s)
        try:
            rep = await stub.infer(req, self.timeout_s)
        except asyncio.CancelledError:
            # still unanswered 5 s past its own timeout when the run ended
            rec.outcome = "dropped:timeout"
            raise
        except grpc.aio.AioRpcError as exc:
            rec.outcome = ("dropped:timeout" if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                           else "dropped:error")
            if rec.outcome == "dropped:error":
                self._note_error(f"{exc.code().name}: {exc.details()}")
            return
        t = rep.timing
        rec.gateway_ms, rec.site_ms = t.gateway_ms, t.site_ms - t.held_ms  # from when it was due
        rec.batch, rec.attempts = t.batch_size, t.attempts
        rec.uplink_hop_ms, rec.site_hop_ms = t.uplink_hop_ms, t.site_hop_ms
        rec.cost_ms = (t.uplink_hop_ms + t.site_hop_ms + t.gateway_ms
                       + max(0.0, t.site_ms - t.held_ms - t.queue_ms - t.compute_ms))
        S = wire.InferReply
        if rep.status == S.LOCAL:
            # on the device's engine for the service, one request at a time as in the twin
            # (a live integrator's review: each ran at once, however many were waiting),
            # from the send time: an answer to a request posted ahead may come before it
            rec.placement = "local"
            fleet = int(w.dev_fleet[rec.device])
            engine = (rec.device, int(w.svc_engine[fleet, v]))
            now = max(time.monotonic(), t_create)
            free = self._engine_free.get(engine, now)
            if free - now > float(w.fleet_local_queue_limit_s[fleet]):
                rec.outcome = "dropped:device_queue_full"  # more waiting than it keeps
                return
            start = max(now, free)
            self._engine_free[engine] = start + t.local_ms / 1e3
            await timers().sleep_until(start + t.local_ms / 1e3)
            rec.latency_s = time.monotonic() - t_create
            rec.parts_ms = [0.0, 0.0, 0.0, (start - now) * 1e3, t.local_ms, 0.0, 0.0]
        elif rep.status == S.OK:
            rec.placement = rep.site
            now = time.monotonic()
            # the answer counts from when it is due here (its modelled arrival over the radio)
            # if it came over loopback ahead of that, as the gateway may send it (reply_lead_s)
            # (the gateway stamps due_unix_s only when its clock agrees with this one; it is
            # then in this clock's frame: our send time plus the modelled delays)
            ahead = rep.due_unix_s - unix_s(now) if rep.due_unix_s > 0 else 0.0
            rec.latency_s = now + max(0.0, ahead) - t_create
            rec.parts_ms = [t.ul_wait_ms, t.ul_air_ms, t.ul_transport_ms, t.queue_ms,
                            t.compute_ms, t.dl_transport_ms, t.dl_air_ms]
        else:
            reason = rep.reason or "error"
            if reason.startswith("error"):
                self._note_error(reason.removeprefix("error").lstrip(": ") or "error")
                reason = "error"
            # (placed where the twin's trace puts it: a rejection, the device a service may
            # not run on, or no site it reaches)
            rec.placement = rep.site or {"admission": "rejected",
                                         "not_on_device": "local"}.get(reason, "unreachable")
            rec.outcome = f"dropped:{reason}" if f"dropped:{reason}" in OUTCOMES else \
                "dropped:error"
            return
        rec.outcome = "met" if rec.latency_s <= deadline else "late"

    async def _poll(self, stubs: dict[str, wire.Stub], stop: asyncio.Event) -> None:
        while True:
            await self._poll_once(stubs)
            if stop.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_s)

    async def _poll_once(self, stubs: dict[str, wire.Stub]) -> None:
        now = time.monotonic() - self._t0

        async def one(name: str, stub: wire.Stub) -> None:
            try:
                rep = await stub.load(timeout_s=0.5)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                    self.refused.add(name)
                return  # a dead site keeps its last report
            self.samples[name].append((now, rep))

        await asyncio.gather(*(one(n, s) for n, s in stubs.items()))
        self.poll_times.append(now)

    async def run(self) -> None:
        """Send every request, wait for every answer (or its timeout), poll the sites."""
        w = self.world
        dep = self.dep
        t_arr, f_arr = arrivals(w, self.duration_s, dep.seed)
        # every request over one stream per gateway: half a unary call's work on each side
        tls = dep.client_tls
        gw = {c: wire.Stub(a, "Gateway", dep.token, streamed=True, tls=tls)
              for c, a in dep.gateways.items()}
        sites = {n: wire.Stub(a, "Site", dep.token, tls=tls) for n, a in dep.sites.items()
                 if n in self.samples}
        cell_stub = [gw.get(c) for c in w.cell_names]
        await _check_reachable(gw, dep, self.scenario)
        stop = asyncio.Event()
        self._t0 = time.monotonic()
        poller = asyncio.get_running_loop().create_task(self._poll(sites, stop))
        tasks: set[asyncio.Task[None]] = set()
        seq = 0
        t0 = time.monotonic()
        self._t0 = t0
        loop = asyncio.get_running_loop()
        clock = timers()
        i = 0
        n = len(t_arr)
        lead = self.lead_s
        while i < n:
            now = time.monotonic() - t0 + lead  # requests are posted up to lead_s early
            if t_arr[i] > now:
                await clock.sleep_until(t0 + float(t_arr[i]) - lead)
                continue
            while i < n and t_arr[i] <= now:
                f = int(f_arr[i])
                d = int(w.flow_dev[f])
                rec = _Rec(seq, int(w.flow_svc[f]), d, float(t_arr[i]))
                self.records.append(rec)
                stub = cell_stub[int(w.dev_cell[d])]
                assert stub is not None
                task = loop.create_task(self._one(rec, stub, t0 + float(t_arr[i])))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                seq += 1
                i += 1
        rest = self.duration_s - (time.monotonic() - t0)
        if rest > 0:
            await asyncio.sleep(rest)
        if tasks:
            await asyncio.wait(list(tasks), timeout=self.timeout_s + 5.0)
        for t in list(tasks):
            t.cancel()
        stop.set()
        await poller
        self.wall_s = time.monotonic() - t0
        for s in [*gw.values(), *sites.values()]:
            await s.close()

    # ---- the run's summary and tables (the twin's layout) ---------------------------------------
    def result(self, policy: str) -> Result:
        """The run as a :class:`airan.engine.Result` (summary and tables as the twin's)."""
        from airan.engine import Engine

        w = self.world
        recs = self.records
        # (the live run counts every request: check_live_scenario refuses a warm-up)
        eng = Engine(self.scenario, seed=self.dep.seed, duration_s=self.duration_s, warmup_s=0.0)
        services: dict[str, Any] = {}
        drops_total: dict[str, int] = {}
        overhead_all: list[float] = []
        own_all: list[float] = []  # the overhead less the real hops (for --delays none)
        cost_all: list[float] = []
        live_svc: dict[str, Any] = {}
        offered = offered_requests(self.scenario)
        for v, name in enumerate(w.service_names):
            rs = [r for r in recs if r.service == v]
            out = _record_outcomes(rs, float(w.svc_deadline_s[v] * 1e3), float(w.svc_target[v]))
            for k, n in out["dropped_by_reason"].items():
                drops_total[k] = drops_total.get(k, 0) + n
            done = [r for r in rs if r.outcome in ("met", "late")]
            parts = np.array([r.parts_ms for r in done]) if done else np.zeros((0, 7))
            remote = [r for r in done if r.placement != "local"]
            over = np.array([r.latency_s * 1e3 - float(np.nansum(r.parts_ms)) for r in remote])
            overhead_all += over.tolist()
            own_all += [o - (r.uplink_hop_ms if math.isfinite(r.uplink_hop_ms) else 0.0)
                        - (r.site_hop_ms if math.isfinite(r.site_hop_ms) else 0.0)
                        for o, r in zip(over.tolist(), remote, strict=True)]
            hist = out.pop("latency_histogram")
            services[name] = {
                **out,
                "state_migrations": None,  # devices do not move in a live run
                "breakdown_ms": {k: (float(np.mean(parts[:, i])) if len(parts) else None)
                                 for i, k in enumerate(BREAKDOWN)},
                **_late_breakdown(done),
                "offered_per_s": offered[name][1],  # (as the twin's summary has it)
                "arrivals": self.scenario.services[v].arrivals,
                # (as the twin's; qos_level weighs nothing here: docs/live.md)
                "priority": service_priority(self.scenario.services[v]),
                "answered_at": dict(Counter(r.placement for r in done).most_common()),
                "latency_histogram": hist,
            }
            cost = np.array([r.cost_ms for r in remote])
            cost_all += cost.tolist()
            live_svc[name] = {
                "overhead_ms": _stats(over),
                "runtime_cost_ms": _stats(cost),
                "gateway_ms": _stats(np.array([r.gateway_ms for r in remote])),
                "mean_batch": float(np.mean([r.batch for r in remote])) if remote else None,
                "rerouted": int(sum(r.attempts > 1 for r in rs)),
            }
        # each device's own hit ratio at its service's target (TR 38.838), as the twin's: every
        # request has ended in a live run
        ended = np.zeros((w.n_devices, w.fleet_svc_slot.max(initial=0) + 1), np.int64)
        met_each, now, longest = np.zeros_like(ended), np.zeros_like(ended), np.zeros_like(ended)
        # (in the order they ended, as the twin counts its runs of misses: a timed-out call
        # at its timeout, a refused one at once; a diff review)
        def ended_s(r: Any) -> float:
            if math.isfinite(r.latency_s):
                return float(r.created_s + r.latency_s)
            return float(r.created_s + (self.timeout_s if r.outcome == "dropped:timeout"
                                        else 0.0))

        for r in sorted(recs, key=ended_s):
            d, k = r.device, w.fleet_svc_slot[w.dev_fleet[r.device], r.service]
            ended[d, k] += 1
            if r.outcome == "met":
                met_each[d, k] += 1
                now[d, k] = 0
            else:
                now[d, k] += 1
                longest[d, k] = max(longest[d, k], now[d, k])
        satisfied_v, satisfied_f = satisfaction_figures(w, ended, met_each, longest)
        for name, fig in satisfied_v.items():
            services[name]["devices_satisfied"] = fig
        elapsed = self.duration_s
        sites: dict[str, Any] = {}
        ts_rows: dict[str, list[Any]] = {k: [] for k in ("t_start_s", "t_end_s", "site",
                                                          "gpu_utilization", "mean_queue",
                                                          "l1_share")}

        gpus = self.scenario.gpu_catalog()
        # each model's instance time per site: its requests' compute time over their batch
        # (those of a batch share its start and end), for the sites that run batches at once
        compute = BREAKDOWN.index("compute")
        held: dict[tuple[str, int], float] = {}
        for r in recs:
            ms = r.parts_ms[compute]
            if r.batch > 0 and math.isfinite(ms):
                key = (r.placement, int(w.svc_model[r.service]))
                held[key] = held.get(key, 0.0) + ms * 1e-3 / r.batch
        for s, name in enumerate(w.site_names):
            smp = self.samples.get(name, [])
            ng = int(w.site_n_gpus[s])
            busy = area = span = busy_rt = 0.0
            served = batches = 0
            last = None  # a site that never answered a load report has no figures of its own
            if smp:
                (t_first, first), (t_last, last) = smp[0], smp[-1]
                busy = last.busy_s - first.busy_s
                busy_rt = last.realtime_busy_s - first.realtime_busy_s
                area = last.queue_area - first.queue_area
                span = _report_span(t_first, first, t_last, last)
                served = int(last.served - first.served)
                batches = int(last.batches - first.batches)
            x, y = (float(a) for a in w.site_xy[s])
            util = busy / (ng * span) if span > 0 else 0.0
            spec = gpus[w.gpu_type_names[w.gpu_type[int(w.site_gpu_start[s])]]]
            sites[name] = {
                "kind": w.site_kind[s],
                "x_m": x if math.isfinite(x) else None,
                "y_m": y if math.isfinite(y) else None,
                "gpus": ng,
                "gpu_utilization": util,
                "mean_queue": area / span if span > 0 else 0.0,
                "served": served,
                "batches": batches,
                "mean_batch": served / batches if batches else None,
                **site_batching_room(w, s),
                "full_batch_load": site_full_batch_load(w, s, np.array(
                    [services[v]["answered_at"].get(name, 0) for v in w.service_names],
                    dtype=np.float64), served, span) if span > 0 else None,
                **({"instances_busy": {
                    w.model_names[m]: held[name, m] / (w.site_instances[s, m] * ng * elapsed)
                    for m in range(len(w.model_names)) if held.get((name, m), 0.0) > 0.0}}
                   if w.site_shared[s] else {}),
                # nominal: the catalog GPU's idle + busy share of its range (not this CPU's draw)
                "power_w": ng * (spec.idle_w + min(1.0, util) * (spec.tdp_w - spec.idle_w)),
                "live": {"overloaded": int(last.overloaded) if last else 0,
                         "bad_requests": int(last.bad_requests) if last else 0,
                         "rss_mb": last.rss_bytes / 2**20 if last else None,
                         # the share of compute time its workers ran in real time
                         # (airan.live.priority; below 1: unprivileged, or saturated)
                         "realtime_share": busy_rt / busy if busy > 0 else None,
                         "answered_load_reports": len(smp),
                         # it runs and refuses this tenant's token (hosts given other tokens)
                         "refused_token": name in self.refused},
            }
            # a site that answered, then missed the last STOPPED_POLLS polls or more: it
            # stopped (a crash, a kill); its figures cover its time before
            # (over the span its load reports cover, as its power and its served: a diff
            # review; the run's total, site_energy, takes the run's duration)
            sites[name].update(site_energy(sites[name]["power_w"], served,
                                           span if span > 0 else float(elapsed)))
            missed = sum(t > smp[-1][0] for t in self.poll_times) if smp else 0
            if missed >= STOPPED_POLLS:
                sites[name]["live"]["stopped_answering_s"] = smp[-1][0]
            for (t_a, a), (t_b, b) in zip(smp, smp[1:], strict=False):
                dt = _report_span(t_a, a, t_b, b)
                if dt <= 0:
                    continue
                ts_rows["t_start_s"].append(t_a)
                ts_rows["t_end_s"].append(t_b)
                ts_rows["site"].append(s)
                ts_rows["gpu_utilization"].append((b.busy_s - a.busy_s) / (ng * dt))
                ts_rows["mean_queue"].append((b.queue_area - a.queue_area) / dt)
                ts_rows["l1_share"].append(0.0)
        n_dev = np.bincount(w.dev_fleet, minlength=len(w.fleet_names))
        uncovered = np.bincount(w.dev_fleet, weights=w.out_of_coverage(),
                                minlength=len(w.fleet_names))
        uncovered_ul = np.bincount(w.dev_fleet, weights=w.out_of_coverage("ul"),
                                   minlength=len(w.fleet_names))
        # (as the twin's: its devices below Qout where they are, the air emulated from them)
        below_qout = below_qout_per_fleet(w, eng.motion.qout,
                                          self.scenario.radio.ue_noise_figure_db)
        fleets: dict[str, Any] = {}
        for f, name in enumerate(w.fleet_names):
            mine = [r for r in recs if w.dev_fleet[r.device] == f]
            per_svc = {w.service_names[v]: _record_outcomes(
                [r for r in mine if r.service == v], float(w.svc_deadline_s[v] * 1e3),
                float(w.svc_target[v])) for v in w.fleet_services[f]}
            met = sum(x["met"] for x in per_svc.values())
            ended = sum(x["met"] + x["late"] + x["dropped"] for x in per_svc.values())
            fleets[name] = {
                "devices": int(n_dev[f]), "requests": len(mine),
                "energy_per_request_j": None, "mean_power_w": None, "battery_life_h": None,
                "power_breakdown_w": None,  # (the twin's: the devices are emulated)
                "out_of_coverage": int(uncovered[f]),
                "out_of_coverage_uplink": int(uncovered_ul[f]),
                "below_qout": None if below_qout is None else int(below_qout[f]),
                **w.fleet_penetration(f),
                "met": met, "late": sum(x["late"] for x in per_svc.values()),
                "dropped": ended - sum(x["met"] + x["late"] for x in per_svc.values()),
                "hit_ratio": met / ended if ended else None,
                "hit_ratio_with_overdue": met / ended if ended else None,
                "devices_satisfied": satisfied_f[name],
                "services": per_svc,
            }
            own = self.scenario.fleets[f]
            if n_dev[f] and (own.engines or own.computes_on_board):  # (as the twin's: each
                # on-board engine's share of its devices' time, its requests' local compute)
                on_board: dict[int, float] = defaultdict(float)
                for r in mine:
                    if r.placement == "local" and math.isfinite(r.parts_ms[4]):
                        on_board[int(w.svc_engine[f, r.service])] += r.parts_ms[4] * 1e-3
                device_s = float(n_dev[f]) * self.duration_s
                fleets[name]["on_board_busy"] = {
                    "main": on_board[-1] / device_s,
                    **{e: on_board[i] / device_s for i, e in enumerate(own.engines)}}
        created = len(recs)
        met = sum(r.outcome == "met" for r in recs)
        late = sum(r.outcome == "late" for r in recs)
        summary = {
            "airan_version": airan_version(),
            "scenario": w.name,
            "policy": policy,
            "objective": self.scenario.objective,
            "admission": self.scenario.admission,
            "seed": self.dep.seed,
            "layout_seed": self.scenario.layout_seed,  # (as the twin's summary)
            "duration_s": float(elapsed),
            "wall_s": float(self.wall_s),
            "requests_per_wall_s": created / self.wall_s if self.wall_s > 0 else None,
            "warmup_s": 0.0,  # (a live run counts every request: check_live_scenario)
            "requests": {"created": created, "met": met, "late": late,
                         "dropped": created - met - late, "in_flight": 0, "overdue": 0,
                         "created_in_warmup": 0, "dropped_by_reason": drops_total},
            "services": services,
            "sites": sites,
            # (nominal, as each site's power_w: the twin's figures' form)
            "site_energy": sites_energy(sites, float(elapsed)),
            # the twin's cell fields (engine._cells_summary), unmeasured live: the air is
            # emulated
            "cells": {"count": len(w.cell_names), **{
                f"{name}_{key}": None for key in ("dl", "ul") for name in (
                    "mean_prb_utilization", "max_prb_utilization", "busiest_cell",
                    "cells_busy", "background_share")}, "busy_threshold": None,
                "uplink_scheduler": None},
            # the twin's per-link load (engine._links_summary): the gateways emulate the links
            # each for its own requests, and no run-wide load is gathered from them
            "links": {},
            "devices": int(w.n_devices),
            "fleets": fleets,
            "qout_db": None if eng.motion.qout is None else self.scenario.handover.qout_db,
            "faults": [],
            "mobility": None,
            "ai_ran": None,
            "trace": {"rows": created, "limit": created, "sample_beyond_limit": 0.0,
                      "lost_rows": 0, "complete": True, "warmup_s": 0.0,
                      "note": "live run: every request"},
            "percentile_relative_error": MAX_RELATIVE_ERROR,
            "live": {
                "mode": "live",
                "delays": self.dep.delays,
                "models": self.dep.models,
                # (with --delays none nothing is emulated to hide the real hops in: the
                # runtime's own work beyond them tells, a live integrator's review: every
                # light run was called saturated)
                "saturated": _saturated(own_all if self.dep.delays == "none" else overhead_all),
                # what the requests dropped as error said (the first kinds), with their counts
                "errors": dict(self.errors),
                # whether the workers were asked to run in real time (priority.realtime_workers;
                # None: a deployment started elsewhere), and the share of compute that did
                "realtime_workers": self.dep.realtime_workers,
                # how the sites and gateways were started (a rerun repeats them)
                "threads": self.dep.threads,
                "shared_gateway": self.dep.shared_gateway,
                "realtime_share": _realtime_share(sites),
                "overhead_ms": _stats(np.array(overhead_all)),
                "runtime_cost_ms": _stats(np.array(cost_all)),
                "services": live_svc,
                "note": ("overhead_ms: end-to-end latency minus the seven parts (the delays "
                         "applied and the site's queue and compute), what the runtime adds "
                         "beyond the model; runtime_cost_ms: the runtime's own work per "
                         "request (device-to-gateway hop, gateway-to-site hop, gateway, site "
                         "beyond queue and compute), much of it hidden inside emulated delays"),
            },
        }
        return Result(summary=summary, requests=self._requests_table(),
                      timeseries=_timeseries(ts_rows, w.site_names), cells=eng.cell_table(),
                      devices=eng.device_table(),
                      # the scenario as run (as a twin's run folder keeps it)
                      scenario=self.scenario.model_copy(update={
                          "policy": policy, "seed": self.dep.seed,
                          "duration_s": self.duration_s}))

    def _requests_table(self) -> pa.Table:
        w = self.world
        recs = self.records
        places = [*w.site_names, "unreachable", "rejected", "local"]
        pidx = {p: i for i, p in enumerate(places)}
        oidx = {o: i for i, o in enumerate(OUTCOMES)}
        parts = np.array([r.parts_ms for r in recs]).reshape(len(recs), len(BREAKDOWN))
        cols: dict[str, Any] = {
            "request": pa.array([r.seq for r in recs], pa.int64()),
            "service": pa.DictionaryArray.from_arrays(
                pa.array([r.service for r in recs], pa.int32()), pa.array(w.service_names)),
            "device": pa.array([r.device for r in recs], pa.int64()),
            "fleet": pa.DictionaryArray.from_arrays(
                pa.array(w.dev_fleet[np.array([r.device for r in recs], dtype=np.int64)]
                         .astype(np.int32)), pa.array(w.fleet_names)),
            "placement": pa.DictionaryArray.from_arrays(
                pa.array([pidx.get(r.placement, pidx["unreachable"]) for r in recs],
                         pa.int32()), pa.array(places)),
            "outcome": pa.DictionaryArray.from_arrays(
                pa.array([oidx[r.outcome] for r in recs], pa.int32()), pa.array(OUTCOMES)),
            # its device's cell, the gateway it went through (devices do not move live)
            "cell": pa.DictionaryArray.from_arrays(
                pa.array(w.dev_cell[np.array([r.device for r in recs], dtype=np.int64)]
                         .astype(np.int32)), pa.array(w.cell_names)),
            "created_s": pa.array([r.created_s for r in recs], pa.float64()),
        }
        for i, k in enumerate(BREAKDOWN):
            cols[f"{k}_ms"] = pa.array(parts[:, i], pa.float64())
        cols["latency_ms"] = pa.array([r.latency_s * 1e3 for r in recs], pa.float64())
        # each request's upload and answer size, as the twin's trace: the ones it sent (its
        # service's mean sizes, a live run drawing none)
        svc = np.array([r.service for r in recs], dtype=np.int64)
        cols["ul_kb"] = pa.array((w.svc_ul_bits / 8e3)[svc], pa.float64())
        cols["dl_kb"] = pa.array((w.svc_dl_bits / 8e3)[svc], pa.float64())
        cols["gateway_ms"] = pa.array([r.gateway_ms for r in recs], pa.float64())
        cols["site_ms"] = pa.array([r.site_ms for r in recs], pa.float64())
        cols["batch_size"] = pa.array([r.batch for r in recs], pa.int32())
        cols["attempts"] = pa.array([r.attempts for r in recs], pa.int32())
        cols["runtime_cost_ms"] = pa.array([r.cost_ms for r in recs], pa.float64())
        cols["uplink_hop_ms"] = pa.array([r.uplink_hop_ms for r in recs], pa.float64())
        cols["site_hop_ms"] = pa.array([r.site_hop_ms for r in recs], pa.float64())
        return pa.table(cols)


#: unhidden overhead (p50, ms) beyond which the runtime itself is the bottleneck: a runtime
#: that keeps up hides nearly all its work (p50 0.1-0.2 ms on the development machine)
SATURATED_OVERHEAD_MS = 2.0


def _realtime_share(sites: dict[str, Any]) -> float | None:
    """The share of all sites' compute time that ran with real-time scheduling (None: no
    compute seen)."""
    shares = [(v["gpu_utilization"] * v["gpus"], v["live"]["realtime_share"])
              for v in sites.values() if v["live"]["realtime_share"] is not None]
    busy = sum(b for b, _ in shares)  # GPU-seconds per second, weighting each site's share
    return sum(b * r for b, r in shares) / busy if busy > 0 else None


#: answered requests below which a run is not judged saturated (its first requests meet a cold
#: runtime: 5 requests were once called saturated, a live review)
SATURATED_MIN_REQUESTS = 50


def _saturated(overhead_ms: list[float]) -> bool:
    """Whether the runtime could not keep up with the offered load: its own work, beyond the
    emulated delays, is a large part of most requests' latency (over at least
    :data:`SATURATED_MIN_REQUESTS` of them)."""
    x = np.asarray(overhead_ms, dtype=float)
    x = x[np.isfinite(x)]
    return x.size >= SATURATED_MIN_REQUESTS and float(np.median(x)) > SATURATED_OVERHEAD_MS


def _timeseries(rows: dict[str, list[Any]], names: list[str]) -> pa.Table:
    return pa.table({
        "t_start_s": pa.array(rows["t_start_s"], pa.float64()),
        "t_end_s": pa.array(rows["t_end_s"], pa.float64()),
        "site": pa.DictionaryArray.from_arrays(pa.array(rows["site"], pa.int32()),
                                               pa.array(names)),
        "gpu_utilization": pa.array(rows["gpu_utilization"], pa.float64()),
        "mean_queue": pa.array(rows["mean_queue"], pa.float64()),
        "l1_share": pa.array(rows["l1_share"], pa.float64()),
    })


def _late_breakdown(done: list[Any]) -> dict[str, Any]:
    """The late records' mean breakdown, as the twin's summary gives it
    (:func:`airan.engine.engine.late_breakdown`)."""
    late = [r for r in done if r.outcome == "late"]
    parts = np.array([r.parts_ms for r in late]) if late else np.zeros((0, 7))
    here = np.array([r.placement == "local" for r in late], dtype=bool)
    q, c = BREAKDOWN.index("queue"), BREAKDOWN.index("compute")

    def mean(x: np.ndarray) -> float | None:
        return float(np.sum(x) / len(late)) if late else None

    return {
        "late_breakdown_ms": {k: mean(parts[:, i]) for i, k in enumerate(BREAKDOWN)},
        "late_latency_ms": mean(np.array([r.latency_s * 1e3 for r in late])),
        "late_on_device": int(here.sum()),
        "late_device_ms": {"queue": mean(parts[here, q]), "compute": mean(parts[here, c])},
        "late_failed_site_ms": 0.0 if late else None,  # (a live run has no faults)
    }


def _record_outcomes(rs: list[Any], deadline_ms: float, target: float) -> dict[str, Any]:
    """The outcomes of some of a service's records (one fleet's): the fields a twin's run gives
    a fleet's service (engine._outcomes); every request has ended in a live run."""
    met = sum(r.outcome == "met" for r in rs)
    late = sum(r.outcome == "late" for r in rs)
    dropped = len(rs) - met - late
    by_reason: dict[str, int] = {}
    for r in rs:
        if r.outcome.startswith("dropped:"):
            k = r.outcome.split(":", 1)[1]
            by_reason[k] = by_reason.get(k, 0) + 1
    lat = np.array([r.latency_s for r in rs if r.outcome in ("met", "late")])
    hist = histogram(lat) if len(lat) else np.zeros(1, dtype=np.int64)
    return {
        "count": len(rs), "met": met, "late": late, "dropped": dropped, "in_flight": 0,
        "overdue": 0, "hit_ratio": met / len(rs) if rs else None,
        "hit_ratio_with_overdue": met / len(rs) if rs else None,
        "target_hit_ratio": target, "deadline_ms": deadline_ms, "dropped_by_reason": by_reason,
        "latency_ms": {
            "mean": float(lat.mean() * 1e3) if len(lat) else None,
            "p50": _q(hist, 0.50), "p95": _q(hist, 0.95), "p99": _q(hist, 0.99),
            "p999": _q(hist, 0.999),
        },
        "latency_histogram": {"min_s": _hist_min(), "gamma": _hist_gamma(),
                              "counts": {str(int(b)): int(hist[b]) for b in np.nonzero(hist)[0]}},
    }


def _q(hist: np.ndarray, q: float) -> float | None:
    v = quantile(hist, q)
    return None if math.isnan(v) else float(v * 1e3)


def _stats(x: np.ndarray) -> dict[str, float | None]:
    x = x[np.isfinite(x)] if len(x) else x
    if not len(x):
        return {"mean": None, "p50": None, "p95": None}
    return {"mean": float(x.mean()), "p50": float(np.percentile(x, 50)),
            "p95": float(np.percentile(x, 95))}


def _hist_min() -> float:
    from airan.engine.kernel import HIST_MIN_S

    return float(HIST_MIN_S)


def _hist_gamma() -> float:
    from airan.engine.kernel import HIST_GAMMA

    return float(HIST_GAMMA)


async def _check_reachable(gateways: dict[str, wire.Stub], dep: Deployment,
                           scenario: Scenario | None = None) -> None:
    """One clear error, before any request is sent, when no gateway of the deployment answers
    (it has stopped, or the addresses are wrong); a gateway down among others that answer is a
    fault the run shows (its requests are dropped with reason ``error``). For a deployment
    made from the scenario's live addresses, one whose gateways serve another scenario or seed
    than ``scenario`` and ``dep.seed`` (each reports both: :mod:`airan.live.served`)."""

    async def answers(stub: wire.Stub) -> tuple[grpc.StatusCode, str, Any]:
        try:
            rep = await stub.load(timeout_s=2.0)
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or "", None
        return grpc.StatusCode.OK, "", rep

    replies = await asyncio.gather(*(answers(s) for s in gateways.values()))
    if dep.from_scenario and scenario is not None:  # (--deployment: its scenario file checked)
        from airan.live.served import served_digest

        mine = served_digest(scenario)
        for address, (_, _, rep) in zip(gateways.values(), replies, strict=True):
            if rep is None or not rep.scenario_digest:  # (down, or an airan that says neither)
                continue
            if rep.scenario_digest != mine:
                raise InputError(f"the gateway at {address.address} serves another scenario "
                                 "(its fleets, services, cells, carrier or radio differ): give "
                                 "the one every host serves", field="scenario")
            if int(rep.seed) != dep.seed:
                raise InputError(f"the gateway at {address.address} places the devices on seed "
                                 f"{rep.seed} (airan serve --seed): give --seed {rep.seed}",
                                 field="--seed", value=dep.seed)
    codes = [code for code, _, _ in replies]
    ok = [c == grpc.StatusCode.OK for c in codes]
    if gateways and not any(ok) and grpc.StatusCode.UNAUTHENTICATED in codes:
        # they run, and refuse the token (never printed: it is a secret)
        where = list(dep.gateways.values())[codes.index(grpc.StatusCode.UNAUTHENTICATED)]
        raise InputError(f"the deployment's gateways refuse this tenant token (UNAUTHENTICATED "
                         f"at {where}): give the token the servers were given (--token or "
                         "AIRAN_TOKEN as for `airan serve`, or its deployment file)",
                         field="--token")
    if gateways and not any(ok):
        first = next(iter(dep.gateways.values()))
        details = replies[0][1]
        if _tls_failure(details, plain=not dep.tls):  # it runs, the ends disagree on TLS
            host = first.rsplit(":", 1)[0].strip("[]")
            said = ("this side dials over TLS, and the servers must too (airan serve "
                    "--tls-cert), with a certificate signed by a CA trusted here (--tls-ca; "
                    f"without, the system's) that names {host}" if dep.tls else
                    "this side dials without TLS: do the servers speak TLS (airan serve "
                    "--tls-cert)? Then give --tls-ca, or their deployment file")
            raise InputError(f"the gateway at {first} does not complete a TLS handshake: "
                             f"{said} ({details.strip()[:300]})", field="--tls-ca",
                             value=dep.tls_ca if dep.tls else None)
        if dep.from_scenario:  # (a live review: it named --deployment, which nobody gave)
            raise InputError(f"no gateway at the scenario's addresses answers (tried {len(ok)}, "
                             f"e.g. {first}): is each host's `airan serve --component` running?",
                             field="live.gateways", value=first)
        raise InputError(f"no gateway of the deployment answers (tried {len(ok)}, e.g. {first});"
                         " is `airan serve` still running?", field="--deployment",
                         value=first)


def _tls_failure(details: str, plain: bool) -> bool:
    """Whether gRPC's words for a failed connection say that TLS failed (a handshake, a
    certificate, a name the certificate does not hold), or, for a ``plain`` caller, that a
    TLS server closed its connection."""
    text = details.lower()
    return any(w in text for w in ("ssl", "handshake", "certificate", "tls", "verification")) \
        or (plain and "socket closed" in text)


def run_devices(scenario: Scenario | str, deployment: Deployment, *, duration_s: float,
                timeout_s: float = 5.0) -> Result:
    """Emulate the scenario's devices against ``deployment`` for ``duration_s`` seconds of wall
    time; every request ends met, late or dropped with a reason (none left in flight)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_live_scenario(sc)
    emu = DeviceEmulator(sc, deployment, duration_s=duration_s, timeout_s=timeout_s)
    with frozen_heap(), short_switch_interval():
        asyncio.run(emu.run())
    return emu.result(deployment.policy)
