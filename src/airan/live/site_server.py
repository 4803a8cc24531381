"""The site server: one compute site of a scenario, serving real ONNX models over gRPC.

A site has ``gpus`` GPUs, each running ``instances`` of every model (on this machine, threads
running ONNX Runtime; an instance computes one batch at a time; batches of several instances run
at once, as Triton runs them) and one queue per model. Batching is the twin's
(``airan.engine.kernel``): among the model queues that have a free instance and are full
(``max_batch``) or whose oldest request has waited ``max_wait``, the one whose head has the
highest ``compute_priority`` (1 first), then the oldest head, starts a batch of up to
``max_batch`` requests from its head; each queue is in (priority, arrival) order. At most
``queue_limit`` requests wait; the next one is answered ``OVERLOADED`` (reason ``queue_full``) at
once, so memory stays bounded. gRPC itself refuses calls beyond a fixed number in flight.

Run one with ``python -m airan.live.site_server CONFIG.json`` (``airan serve`` does it); it prints
``AIRAN_READY <port>`` once it listens.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import grpc
import numpy as np

from airan.errors import InputError
from airan.live import wire
from airan.live.clock import Handle, frozen_heap, short_switch_interval, timers, unix_s
from airan.live.models import Model, jpeg_payload
from airan.live.priority import DutyGovernor, WorkerPriority, realtime_duty

READY = "AIRAN_READY"
WARM_BATCH = 8  # the largest batch a site runs once before it serves (a first run per shape)


@dataclass
class SiteConfig:
    """What a site server needs (times in s, sizes in bytes)."""

    name: str
    models: dict[str, str]  # service name -> ONNX file
    tenants: dict[str, str]  # tenant -> token
    host: str = "127.0.0.1"
    port: int = 0
    gpus: int = 1
    queue_limit: int = 1024
    max_batch: int = 8
    max_wait_s: float = 0.002
    # per model file where its batching differs (batching.models): [max_batch, max_wait_s]
    batch_by_model_file: dict[str, list[float]] = field(default_factory=dict)
    instances: int = 1  # of each model per GPU (batching.instances)
    # service name -> its compute_priority where given (1 first; a service not named: 16)
    priorities: dict[str, int] = field(default_factory=dict)
    instances_by_model_file: dict[str, int] = field(default_factory=dict)
    threads: int = 1  # ONNX Runtime intra-op threads per worker
    # the workers' scheduling (airan.live.priority): SCHED_FIFO priority (0: never; not with
    # threads > 1) while a worker is busy less than worker_max_duty of the time (default: its
    # share of half the host's cores), and the nice value otherwise (0: leave it)
    worker_realtime: int = 10
    worker_nice: int = -10
    worker_max_duty: float | None = None
    max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES
    tls_cert: str | None = None  # PEM files: serve over TLS (wire.Tls)
    tls_key: str | None = None

    @classmethod
    def from_json(cls, path: str | Path) -> SiteConfig:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass
class _Item:
    tenant: str
    rid: str
    payload: bytes
    reply_bytes: int
    t_arrive: float
    fut: asyncio.Future[Any]
    model: str
    priority: int = 16  # its service's compute_priority (1 first)
    started: bool = False
    held: bool = False  # received ahead of its due time, not queued yet


class _Occupancy:
    """A site's GPU busy time as its load reports count it: the integral of min(batches
    computing, GPUs) over time (s), so that two batches computing at once on one GPU
    (instances, or two models) count once, as the twin's processor-shared GPU does; and the
    part of it run with real-time scheduling, each batch weighted by its share. Its methods
    are called from the worker threads and the event loop alike (a lock keeps them atomic)."""

    def __init__(self, gpus: int, t0: float) -> None:
        self.gpus = gpus
        self.t_last = t0
        self.n = 0  # batches computing now
        self.n_rt = 0  # of them, with real-time scheduling
        self.busy_s = 0.0
        self.realtime_busy_s = 0.0
        self._lock = threading.Lock()

    def _advance(self, now: float) -> None:
        dt = now - self.t_last
        if dt > 0 and self.n:
            occupied = min(self.n, self.gpus) * dt
            self.busy_s += occupied
            self.realtime_busy_s += occupied * self.n_rt / self.n
        self.t_last = max(self.t_last, now)

    def change(self, now: float, started: int, realtime: bool) -> None:
        """A batch started computing (``started`` 1) or ended (-1) at ``now`` (monotonic s)."""
        with self._lock:
            self._advance(now)
            self.n += started
            self.n_rt += started if realtime else 0

    def totals(self, now: float) -> tuple[float, float]:
        """(busy_s, realtime_busy_s) up to ``now``."""
        with self._lock:
            self._advance(now)
            return self.busy_s, self.realtime_busy_s


@dataclass
class _Stats:
    queue_area: float = 0.0
    q_last: float = 0.0
    served: int = 0
    batches: int = 0
    overloaded: int = 0
    bad: int = 0
    running: dict[int, tuple[float, float]] = field(default_factory=dict)  # id -> (start, est)


def rss_bytes() -> int:
    """This process's resident memory (bytes; 0 where /proc is absent)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class SiteServer:
    """The asyncio site server. ``start`` binds and returns the port; ``stop`` ends it."""

    def __init__(self, cfg: SiteConfig) -> None:
        self.cfg = cfg
        self.tenants = wire.Tenants.from_mapping(cfg.tenants)
        self._by_path: dict[str, Model] = {}
        self.service_model: dict[str, str] = {}
        for svc, path in cfg.models.items():
            key = str(path)
            if key not in self._by_path:
                self._by_path[key] = Model(path, threads=cfg.threads)
            self.service_model[svc] = key
        self.queues: dict[str, deque[_Item]] = {k: deque() for k in self._by_path}
        # per-item time per model (s), a running estimate for the backlog; seeded by one run
        self.per_item_s: dict[str, float] = {}
        for key, m in self._by_path.items():
            # what a first use costs is paid here, not by the first requests: decoding a frame
            # (PIL's import and codecs) and a first run at each of two batch shapes (ONNX
            # Runtime allocates per shape); they once added ~2-20 ms to the first 0.1 s
            m.decode(jpeg_payload(2000))
            own = cfg.batch_by_model_file.get(key, [cfg.max_batch])[0]  # its batching's limit
            warm = min(WARM_BATCH, max(1, int(own)))
            try:
                y = m.run(m.random_batch(warm))
            except Exception as exc:  # onnxruntime's own error types
                fixed = (f" (its input's batch dimension is fixed at {m.input_shape[0]}: export "
                         "it with a dynamic one, e.g. dynamic_axes={name: {0: 'batch'}} in "
                         "torch.onnx.export, or give it max_batch 1)"
                         if m.input_shape[0] is not None else "")
                raise InputError(f"the model fails on a batch of {warm}{fixed}: "
                                 f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
                                 file=key) from None
            if np.ndim(y) < 1 or np.shape(y)[0] != warm:  # (a live integrator's review: a
                # scalar output failed every request later, each as a site failure)
                raise InputError(f"the model's first output has shape {tuple(np.shape(y))} for "
                                 f"a batch of {warm}: its first dimension must be the batch's, "
                                 "one answer per request", file=key)
            m.run(m.random_batch(1))
            t0 = time.perf_counter()
            m.run(m.random_batch(1))
            self.per_item_s[key] = time.perf_counter() - t0
        self.queued = 0
        self.held: dict[str, int] = {k: 0 for k in self._by_path}  # received, not due yet
        # free instances per model: its instances on each GPU
        self.free = {k: cfg.gpus * cfg.instances_by_model_file.get(k, cfg.instances)
                     for k in self._by_path}
        self.n_workers = sum(self.free.values())  # (each instance a worker thread)
        self.inflight: dict[tuple[str, str], _Item] = {}
        self._model_errors: set[str] = set()  # models whose failure the log has shown
        self.stats = _Stats()
        self.t0 = time.monotonic()
        self.occupancy = _Occupancy(cfg.gpus, self.t0)
        self.stats.q_last = self.t0
        duty = (realtime_duty(self.n_workers) if cfg.worker_max_duty is None
                else cfg.worker_max_duty)
        # ONNX Runtime's own intra-op threads (threads > 1) run under the fair scheduler and
        # spin while they wait: a real-time worker waiting on them could starve them
        self.priority = WorkerPriority(cfg.worker_realtime if cfg.threads == 1 else 0,
                                       cfg.worker_nice, governor=DutyGovernor(duty, 0.8 * duty))
        self._pool = ThreadPoolExecutor(max_workers=self.n_workers,
                                        thread_name_prefix="gpu",
                                        initializer=self.priority.enter)
        self._timer: Handle | None = None
        self._batch_id = 0
        self.server: grpc.aio.Server | None = None

    # ---- queue bookkeeping ----------------------------------------------------------------------
    def _qarea(self, now: float) -> None:
        self.stats.queue_area += self.queued * (now - self.stats.q_last)
        self.stats.q_last = now

    def backlog_s(self, now: float) -> float:
        """Expected wait before a new request would start (s), as in the twin's snapshot."""
        busy = sum(max(0.0, s + e - now) for s, e in self.stats.running.values())
        queued = sum((len(q) + self.held[k]) * self.per_item_s[k]
                     for k, q in self.queues.items())
        return (busy + queued) / self.cfg.gpus

    def _kick(self) -> None:
        """Start every batch that is due (the twin's rule); if one is not due yet, set a timer
        for when its oldest request will have waited ``max_wait``."""
        limits = {key: self.cfg.batch_by_model_file.get(
            key, (self.cfg.max_batch, self.cfg.max_wait_s)) for key in self.queues}
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self.queued > 0:
            now = time.monotonic()
            best, best_t, next_ready = None, float("inf"), float("inf")
            best_p = 1 << 30
            for key, q in self.queues.items():
                if not q or self.free[key] == 0:  # no instance free: a batch end kicks again
                    continue
                # due max_wait after the one waiting longest (the head, unless priorities
                # reordered the queue); the next to start is the head
                oldest = (q[0].t_arrive if q[0].priority == q[-1].priority
                          else min(it.t_arrive for it in q))
                maxb, maxw = limits[key]
                if len(q) >= maxb or oldest + maxw <= now + 1e-6:
                    head_p, head_t = q[0].priority, q[0].t_arrive
                    if head_p < best_p or (head_p == best_p and head_t < best_t):
                        best, best_p, best_t = key, head_p, head_t
                else:
                    next_ready = min(next_ready, oldest + maxw)
            if best is None:
                if next_ready < math.inf:
                    self._timer = timers().call_at(next_ready, self._kick)
                return
            q = self.queues[best]
            items = [q.popleft() for _ in range(min(int(limits[best][0]), len(q)))]
            self._qarea(now)
            self.queued -= len(items)
            self.free[best] -= 1
            self._start_batch(best, items)

    def _enqueue(self, item: _Item, service: str) -> None:
        """Queue ``item`` after every request of its service's priority or a higher one and
        before the first of a lower one (the twin's (priority, arrival) order)."""
        q = self.queues[item.model]
        item.priority = self.cfg.priorities.get(service, 16)
        i = len(q)
        while i > 0 and q[i - 1].priority > item.priority:
            i -= 1
        q.insert(i, item)
        self.queued += 1

    def _compute(self, bid: int, key: str,
                 items: list[_Item]) -> tuple[np.ndarray, float, float, bool]:
        """In a worker thread: decode the payloads, run the batch; (outputs, t_start, t_end,
        whether it ran with real-time scheduling)."""
        self.priority.before_batch(self.per_item_s[key] * len(items))
        realtime = self.priority.realtime_here()
        t_start = time.monotonic()
        self.occupancy.change(t_start, 1, realtime)
        try:
            model = self._by_path[key]
            x = np.stack([model.decode(it.payload) for it in items])
            y = model.run(x)
        finally:
            t_end = time.monotonic()
            self.occupancy.change(t_end, -1, realtime)
            self.priority.after_batch(t_end - t_start, t_end)
        return y, t_start, t_end, realtime

    def _start_batch(self, key: str, items: list[_Item]) -> None:
        """Hand a batch to a worker thread now; :meth:`_batch_done` runs when it ends."""
        self._batch_id += 1
        bid = self._batch_id
        self.stats.running[bid] = (time.monotonic(), self.per_item_s[key] * len(items))
        for it in items:
            it.started = True
        fut = self._pool.submit(self._compute, bid, key, items)
        loop = asyncio.get_running_loop()
        fut.add_done_callback(
            lambda f: loop.call_soon_threadsafe(self._batch_done, bid, key, items, f))

    def _batch_done(self, bid: int, key: str, items: list[_Item], f: Any) -> None:
        self.stats.running.pop(bid, None)
        self.free[key] += 1
        exc = f.exception()
        if exc is not None:  # a model error fails the batch, not the server
            for it in items:
                if not it.fut.done():
                    it.fut.set_exception(exc)
            self._kick()
            return
        y, t_start, t_end, realtime = f.result()
        dt = t_end - t_start
        self.stats.served += len(items)
        self.stats.batches += 1
        self.per_item_s[key] = 0.8 * self.per_item_s[key] + 0.2 * dt / len(items)
        if np.ndim(y) < 1 or np.shape(y)[0] < len(items):  # (checked at the start too)
            bad = ValueError(f"the model answered shape {tuple(np.shape(y))} for a batch of "
                             f"{len(items)}: not one answer per request")
            for it in items:
                if not it.fut.done():
                    it.fut.set_exception(bad)
            self._kick()
            return
        for i, it in enumerate(items):
            if it.fut.done():
                continue
            row = np.ascontiguousarray(y[i], dtype="<f4")
            out = row.tobytes()
            if it.reply_bytes:
                out = out[: it.reply_bytes]
            it.fut.set_result((out, list(row.shape), (t_start - it.t_arrive) * 1e3, dt * 1e3,
                               len(items)))
        self._kick()

    # ---- RPCs -----------------------------------------------------------------------------------
    async def _bad(self, context: grpc.aio.ServicerContext, code: grpc.StatusCode,
                   msg: str) -> NoReturn:
        self.stats.bad += 1
        await context.abort(code, msg)
        raise AssertionError("unreachable: abort raises")  # for the type checker

    async def infer(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        t_recv = time.monotonic()
        if isinstance(req, wire.Malformed):
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"malformed InferRequest: {req.error}")
        tenant = self.tenants.tenant_of(context.invocation_metadata())
        if tenant is None:
            await self._bad(context, grpc.StatusCode.UNAUTHENTICATED,
                            "missing or unknown tenant token (metadata 'authorization: Bearer …')")
        if not req.request_id:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT, "request_id is empty")
        key = self.service_model.get(req.service)
        if key is None:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"unknown service {req.service!r} at site {self.cfg.name!r}; served: "
                            f"{', '.join(sorted(self.service_model))}")
        if len(req.payload) > self.cfg.max_payload_bytes:
            await self._bad(context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                            f"payload of {len(req.payload)} bytes is over the limit of "
                            f"{self.cfg.max_payload_bytes} bytes")
        ident = (tenant, req.request_id)
        if ident in self.inflight:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"request_id {req.request_id!r} is already in flight")
        loop = asyncio.get_running_loop()
        item = _Item(tenant, req.request_id, req.payload, req.reply_bytes, t_recv,  # type: ignore[arg-type]
                     loop.create_future(), key)
        held_ms = 0.0
        wait = req.due_unix_s - unix_s(time.monotonic()) if req.due_unix_s > 0 else 0.0
        if 0.0 < wait <= wire.MAX_LEAD_S:
            # forwarded ahead of its modelled arrival: it joins the queue when it is due, so the
            # gateway-to-site transfer is inside the emulated delays, as the device's hop is
            item.held = True
            self.inflight[ident] = item  # type: ignore[index]
            self.held[key] += 1  # in the backlog the gateways see: they counted it as sent
            try:
                await timers().sleep_until(time.monotonic() + wait)
            finally:
                self.inflight.pop(ident, None)  # type: ignore[arg-type]
                self.held[key] -= 1
            if not item.held:  # cancelled meanwhile
                return wire.InferReply(status=wire.InferReply.CANCELLED,
                                       request_id=req.request_id, site=self.cfg.name,
                                       reason="cancelled")
            item.held = False
            item.t_arrive = time.monotonic()
            held_ms = (item.t_arrive - t_recv) * 1e3
        if self.queued >= self.cfg.queue_limit:
            self.stats.overloaded += 1
            return wire.InferReply(status=wire.InferReply.OVERLOADED, request_id=req.request_id,
                                   site=self.cfg.name, reason="queue_full",
                                   timing=wire.Timing(site_ms=(time.monotonic() - t_recv) * 1e3,
                                                      held_ms=held_ms))
        self._qarea(item.t_arrive)
        self._enqueue(item, req.service)
        self.inflight[ident] = item  # type: ignore[index]
        self._kick()
        try:
            res = await item.fut
        except asyncio.CancelledError:  # the caller went away: free its place in the queue
            self._withdraw(item)
            raise
        except Exception as exc:  # the model failed on its batch: an error of the request, not
            # of the site (UNKNOWN would read as a crash: the gateway would mark it dead)
            if key not in self._model_errors:
                self._model_errors.add(key)
                print(f"model {key}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"model {key} failed: {type(exc).__name__}")
        finally:
            self.inflight.pop(ident, None)  # type: ignore[arg-type]
        if res is None:
            return wire.InferReply(status=wire.InferReply.CANCELLED, request_id=req.request_id,
                                   site=self.cfg.name, reason="cancelled")
        out, shape, queue_ms, compute_ms, b = res
        return wire.InferReply(
            status=wire.InferReply.OK, request_id=req.request_id, site=self.cfg.name,
            output=out, output_shape=shape,
            timing=wire.Timing(queue_ms=queue_ms, compute_ms=compute_ms, batch_size=b,
                               site_ms=(time.monotonic() - t_recv) * 1e3, held_ms=held_ms))

    def _withdraw(self, item: _Item) -> bool:
        """Take a request out of its queue if it has not started; True if it was there."""
        if item.held:  # not queued yet
            item.held = False
            return True
        if item.started:
            return False
        try:
            self.queues[item.model].remove(item)
        except ValueError:
            return False
        self._qarea(time.monotonic())
        self.queued -= 1
        return True

    async def cancel(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(req, wire.Malformed):
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"malformed CancelRequest: {req.error}")
        tenant = await wire.authenticate(self.tenants, context)
        item = self.inflight.get((tenant, req.request_id))
        if item is None:  # unknown, finished, or another tenant's: the same answer
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no request {req.request_id!r} of yours in flight here")
        assert item is not None
        done = self._withdraw(item)
        if done and not item.fut.done():
            item.fut.set_result(None)
        return wire.CancelReply(cancelled=done)

    async def load(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        await wire.authenticate(self.tenants, context)
        return self.load_report()

    def load_report(self) -> Any:
        now = time.monotonic()
        self._qarea(now)
        busy, busy_rt = self.occupancy.totals(now)
        return wire.LoadReport(
            name=self.cfg.name, healthy=True, backlog_s=self.backlog_s(now),
            queue_len=self.queued, queue_limit=self.cfg.queue_limit,
            in_service=len(self.stats.running), gpus=self.cfg.gpus, busy_s=busy,
            queue_area=self.stats.queue_area, served=self.stats.served,
            batches=self.stats.batches, overloaded=self.stats.overloaded,
            bad_requests=self.stats.bad, uptime_s=now - self.t0, rss_bytes=rss_bytes(),
            realtime_busy_s=busy_rt)

    # ---- life -----------------------------------------------------------------------------------
    async def start(self) -> int:
        """Listen on ``host:port`` (0: any free port); return the port."""
        cfg = self.cfg
        self.server, port = await wire.serve(
            "Site", {"Infer": self.infer, "Load": self.load, "Cancel": self.cancel},
            cfg.host, cfg.port, cfg.max_payload_bytes,
            2 * cfg.queue_limit + self.n_workers * self._largest_batch() + 256, f"site {cfg.name}",
            wire.Tls(cfg.tls_cert, cfg.tls_key))
        return port

    def _largest_batch(self) -> int:
        """The largest batch any model here may take (the site's, or a model's own)."""
        return max([self.cfg.max_batch]
                   + [int(b) for b, _ in self.cfg.batch_by_model_file.values()])

    async def stop(self, grace_s: float = 1.0) -> None:
        if self.server is not None:
            await self.server.stop(grace_s)
        if self._timer is not None:
            self._timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)


async def serve_forever(server: Any, ready_line: bool = True) -> None:
    """Start ``server`` (a site or a gateway), print the ready line, run until SIGTERM/SIGINT.

    The heap is collected and frozen (:func:`frozen_heap`) before the server starts: that one
    full collection stops the process (0.16 s in a process that has just compiled the kernel on
    a fresh install, 0.04 s after loading it from the cache; longer while the other components
    do the same), and after the ready line it made a gateway's load reports (0.2 s timeout)
    time out, so that every site looked down to the first requests."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with frozen_heap(), short_switch_interval():
        port = await server.start()
        if ready_line:
            print(f"{READY} {port}", flush=True)
        await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m airan.live.site_server CONFIG.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m airan.live.site_server CONFIG.json")
    wire.exit_with_parent()
    cfg = SiteConfig.from_json(args[0])
    try:
        asyncio.run(_main(cfg))
    except InputError as exc:  # a model it cannot load: the runtime passes it on as such
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)  # airan's exit code for bad input


async def _main(cfg: SiteConfig) -> None:
    await serve_forever(SiteServer(cfg))


if __name__ == "__main__":
    main()
