"""The gateway: the local breakout of a cell. It places each request with the airan policy and
forwards it to a site, applying the radio and transport delays of the twin's models.

For every request: check it, ask the policy (the same :mod:`airan.policy` code and registry,
fed with the sites' live load reports) where it runs, wait the uplink delay (radio, then the
fibre to that site), forward it, wait the way back, answer. A site that does not answer (its
process died, a timeout) or fails its load report is marked unhealthy; its requests are placed
again among the healthy ones (``max_attempts`` sites in all), and every request ends with an
answer or a reason.

Run one with ``python -m airan.live.gateway CONFIG.json`` (``airan serve`` does it).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import grpc
import numpy as np
from numpy.typing import ArrayLike, NDArray

from airan.errors import InputError
from airan.live import wire
from airan.live.clock import timers, unix_s
from airan.live.served import served_digest
from airan.live.site_server import serve_forever
from airan.policy import (
    LOCAL,
    NO_SITE,
    REJECT,
    Batch,
    checked_placements,
    policy_failed,
    resolve_policy,
)
from airan.policy.base import PlacementRates, air_leg_s, policy_rng
from airan.scenario import Scenario, load_scenario
from airan.transport.pipeline import first_packet_s, message_hop

RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL,
             grpc.StatusCode.RESOURCE_EXHAUSTED}


DELAY_MODES = ("gateway", "propagation", "radio", "none")
# a device-to-gateway hop longer than this (s) is taken for clock skew between hosts: the hop
# is then measured and added, not hidden inside the emulated radio delay
MAX_HOP_S = 0.1
# a request is forwarded this long (s) before its modelled arrival at the site (loopback
# delays only), stamped due then; the site holds it until due (at most wire.MAX_LEAD_S). Close
# to that limit: in runs alternated with 2 ms, the overhead not hidden had a p95 of 2.8-3.5 ms
# against 4.2 ms, for the gateway-to-site hop is slow in bursts
FORWARD_LEAD_S = 4.5e-3
# an answer leaves early by the least hop seen, once EARLY_AFTER hops are known, at most this (s)
EARLY_AFTER = 16
EARLY_MAX_S = 0.5e-3


@dataclass
class GatewayConfig:
    """What a gateway needs (times in s)."""

    cells: list[str]  # the cells (sectors) it is the breakout of
    scenario: str  # a scenario YAML path or built-in name
    sites: dict[str, str]  # compute site name -> host:port
    tenants: dict[str, str]  # tenant -> token
    seed: int = 1
    policy: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    # gateway: apply the twin's radio and transport delays; propagation: the radio and the
    # transport's delays but not its serialization (the network between gateway and sites
    # limits the rate itself, e.g. tbf); radio: the radio only (the network delays the packets
    # itself, e.g. netem); none: neither
    delays: str = "gateway"
    poll_s: float = 0.05  # load report period per site
    site_timeout_s: float = 2.0  # a forwarded request not answered by then: the site is dead
    max_attempts: int = 3
    max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES
    # PEM files: serve over TLS, and dial the sites over TLS trusting ``tls_ca`` (None: the
    # system's roots) wherever a certificate is given (wire.Tls)
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None

    @property
    def tls(self) -> wire.Tls:
        return wire.Tls(self.tls_cert, self.tls_key, self.tls_ca,
                        enabled=self.tls_cert is not None)

    @classmethod
    def from_json(cls, path: str | Path) -> GatewayConfig:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


async def _sleep_until(t_mono: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``t_mono`` (at once if it has); sub-ms precise
    (:mod:`airan.live.clock`)."""
    await timers().sleep_until(t_mono)


class LiveSnapshot:
    """What a policy sees, from live load reports (duck-types :class:`airan.policy.Snapshot`).

    Radio rates are the twin's for an idle network (``fixed``: the link rates; ``ideal``:
    unlimited; ``nr``: each device's share of its cell with no other active UE).
    """

    def __init__(self, world: Any, time_s: float, backlog_s: NDArray[np.float64],
                 healthy: NDArray[np.bool_], queue_len: NDArray[np.int64],
                 rates: RadioRates, placed: NDArray[np.int64] | None = None,
                 admission: str = "none", objective: str = "latency",
                 placement_rates: PlacementRates | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self._world = world  # the gateway's own, which the built-in policies read (world_of)
        self.rng = rng if rng is not None else policy_rng(1)  # (the gateway's, Snapshot.rng)
        self.time_s = time_s
        self.admission = admission  # the scenario's, as the twin's snapshot has them
        self.objective = objective
        self.decision_interval_s = 0.0  # one request a decision: no peers to count
        self.ul_access_delay_s = rates.ul_access_delay_s
        self.dl_access_delay_s = rates.dl_access_delay_s
        self.ul_slot_spacing_s = rates.ul_slot_spacing_s
        self.dl_slot_spacing_s = rates.dl_slot_spacing_s
        self.ul_harq_s = rates.ul_harq_s
        self.dl_harq_s = rates.dl_harq_s
        self.site_backlog_s = backlog_s
        # a live site reports one backlog (its workers' instances are not reported apart)
        self.site_model_backlog_s = np.repeat(
            np.asarray(backlog_s, dtype=np.float64)[:, None], len(world.model_names), axis=1)
        # (nor by priority: every service's is the site's, its lower priorities' work in it)
        self.site_service_backlog_s = np.repeat(
            np.asarray(backlog_s, dtype=np.float64)[:, None], len(world.svc_model), axis=1)
        self.site_healthy = healthy
        self.site_queue_len = queue_len
        # a live site reports its queue, not per model: every model's, with the requests this
        # gateway placed there since (``placed`` [sites, models]: on their way, or sent since
        # the report)
        self.site_model_queue = np.repeat(
            np.asarray(queue_len, dtype=np.int64)[:, None], len(world.model_names), axis=1)
        if placed is not None:
            self.site_model_queue = self.site_model_queue + placed
        # the rates placed at each site and arriving from its home cells, as the twin's, but
        # of this gateway's own decisions only (one request each): with a gateway per cell, a
        # site that many cells use looks less used than it is, its batch wait longer
        # (Snapshot.site_model_rate_per_s)
        n_sites, n_models = len(world.site_names), len(world.model_names)
        self.site_model_rate_per_s = (np.zeros((n_sites, n_models)) if placement_rates is None
                                      else placement_rates.site.copy())
        self.site_model_home_rate_per_s = (np.zeros((n_sites, n_models))
                                           if placement_rates is None
                                           else placement_rates.home.copy())
        self.site_ai_share = np.ones(len(world.site_names))
        self.link_backlog_s = np.zeros(len(world.link_cap_bps))  # read only for moved contexts
        self._rates = rates


    @property
    def world(self) -> Any:
        """The scenario as arrays, read-only for a policy of one's own (as in the twin)."""
        from airan.policy.base import read_only_world

        return read_only_world(self._world)
    def ul_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._rates.rate_bps(devices, uplink=True)

    def dl_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._rates.rate_bps(devices, uplink=False)

    def ul_backlog_bits(self, devices: NDArray[np.int64],
                        services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return np.zeros(len(devices))  # the live devices' buffers are not reported

    def ul_time_s(self, devices: NDArray[np.int64], bits: NDArray[np.float64],
                  services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return np.asarray(bits, dtype=np.float64) / np.maximum(self.ul_rate_bps(devices), 1.0)

    def ul_report_round_s(self, devices: NDArray[np.int64], bits: NDArray[np.float64],
                          services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return self._rates.report_round_s(bits) * np.ones(len(devices))

    def device_backlog_s(self, devices: NDArray[np.int64],
                         services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return np.zeros(len(devices))

    def link_wait_s(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.zeros(len(devices))  # the live devices' links are not interrupted here

    def drx_s(self, devices: NDArray[np.int64]) -> NDArray[np.float64] | None:
        return None  # (the live devices do not sleep: no DRX live)

    def context_site(self, devices: NDArray[np.int64],
                     services: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.full(len(devices), -1, dtype=np.int64)  # contexts do not move here


class RadioRates:
    """Per-device radio rates and the air legs' fixed delays, from the twin's radio model.

    ``ul_wait_s`` / ``dl_wait_s``: what the gateway waits before a leg's first slot (NR: the SR
    and grant, or the scheduling delay, then the mean wait for a slot of the direction);
    ``ul_access_delay_s`` / ``dl_access_delay_s``: the same with that slot and HARQ's mean delay
    (``ul_harq_s`` / ``dl_harq_s``: the gateway adds the mean, it does not draw retransmissions),
    and ``ul_slot_spacing_s`` / ``dl_slot_spacing_s``: the mean time between the direction's
    slots, as the policies see them (:class:`airan.policy.Snapshot`).
    """

    #: the twin's run (s) that settles the cells' loads before the rates are read: five of
    #: their time constants (radio.load_time_constant_ms), and at least this
    SETTLE_S = 1.0

    def __init__(self, scenario: Scenario, world: Any, seed: int,
                 policy: str | None = None) -> None:
        self.world = world
        self._engine: Any = None
        self.ul_wait_s = self.dl_wait_s = 0.0
        self.ul_slot_spacing_s = self.dl_slot_spacing_s = 0.0
        self.ul_harq_s = self.dl_harq_s = 0.0
        self.ul_report_round_s = 0.0  # radio.first_grant_bytes' round, beyond the SR's grant
        if world.radio_model == 0:  # nr: the engine's own rules, at the cells' loads its run
            from airan.engine import Engine  # settles to (a reviewer's factory: at the loads it

            # starts from, radio.initial_load's 50%, uploads took twice the twin's time)
            settle_s = min(float(scenario.duration_s), max(
                self.SETTLE_S, 5e-3 * scenario.radio.load_time_constant_ms))
            # (its devices where the live ones stay, at the world's start: no mobility; and
            # every request of it counted, whatever the scenario's warm-up: a review of the
            # diff)
            still = scenario.model_copy(update={"fleets": [
                f.model_copy(update={"mobility": None}) for f in scenario.fleets]})
            self._engine = Engine(still, seed=seed, policy=policy, duration_s=settle_s,
                                  warmup_s=0.0)
            self._engine.step(self._engine.n_slots)
            self.ul_wait_s = float(self._engine._ul_wait_s)
            self.dl_wait_s = float(self._engine._dl_wait_s)
            self.ul_access_delay_s = float(self._engine._ul_access_delay_s)
            self.dl_access_delay_s = float(self._engine._dl_access_delay_s)
            self.ul_slot_spacing_s = float(self._engine._ul_slot_spacing_s)
            self.dl_slot_spacing_s = float(self._engine._dl_slot_spacing_s)
            self.ul_harq_s = float(self._engine._ul_harq_s)
            self.ul_report_round_s = float(self._engine._report_round_s)
            self.dl_harq_s = float(self._engine._dl_harq_s)
        elif world.radio_model == 2:  # fixed: the link's latency each way (as the Engine)
            self.ul_access_delay_s = self.dl_access_delay_s = float(world.fixed_latency_s)
        else:
            self.ul_access_delay_s = self.dl_access_delay_s = 0.0

    def report_round_s(self, bits: ArrayLike) -> NDArray[np.float64]:
        """The buffer status report's round an upload of ``bits`` from an idle device adds
        (``radio.first_grant_bytes``; the live devices' buffers are not reported)."""
        over = np.asarray(bits, dtype=np.float64) > self.world.first_grant_bits
        return np.where(over, self.ul_report_round_s, 0.0)

    def rate_bps(self, devices: NDArray[np.int64], *, uplink: bool) -> NDArray[np.float64]:
        w = self.world
        if w.radio_model == 1:
            return np.full(len(devices), np.inf)
        if w.radio_model == 2:
            return np.full(len(devices), w.fixed_ul_bps if uplink else w.fixed_dl_bps)
        return self._engine._rate_bps(np.asarray(devices, dtype=np.int64), uplink=uplink)  # type: ignore[no-any-return]


class Delays:
    """The delays the gateway applies (s): the twin's radio per device (FIFO per device link
    for ``fixed``) and transport per path (FIFO per link, packets pipelined over the links as
    the twin's: :func:`airan.transport.pipeline.message_hop`)."""

    def __init__(self, world: Any, rates: RadioRates, enabled: bool = True,
                 transport: bool = True, serialization: bool = True) -> None:
        self.w = world
        self.rates = rates
        self.enabled = enabled
        self.transport_enabled = enabled and transport
        # without it, the links' serialization (and the queueing it causes) is the network's
        self.serialization = serialization
        n = world.n_devices
        self.ul_free = np.zeros(n)
        self.dl_free = np.zeros(n)
        self.dl_last = np.full(n, -np.inf)  # the latest arrival each device link has taken
        self.link_free = np.zeros(len(world.link_cap_bps))
        self.link_last = np.full(len(world.link_cap_bps), -np.inf)

    def uplink(self, d: int, v: int, now: float) -> tuple[float, float]:
        """(ul_wait, ul_air) for device ``d`` sending service ``v``'s payload at ``now``."""
        w = self.w
        if not self.enabled or w.radio_model == 1:
            return 0.0, 0.0
        bits = float(w.svc_ul_bits[v])
        if w.radio_model == 2:
            start = max(now, self.ul_free[d])
            self.ul_free[d] = start + bits / w.fixed_ul_bps
            return start - now, bits / w.fixed_ul_bps + w.fixed_latency_s
        rate = float(self.rates.rate_bps(np.array([d]), uplink=True)[0])
        r = self.rates
        # the first U slot, then the further ones the bits need (as the twin's legs go)
        access = r.ul_access_delay_s - r.ul_wait_s + float(r.report_round_s(bits))
        return r.ul_wait_s, float(air_leg_s(access, bits / max(rate, 1.0), r.ul_slot_spacing_s))

    def downlink(self, d: int, v: int, now: float) -> float:
        """dl_air for the answer of service ``v`` reaching device ``d``'s cell at ``now``."""
        w = self.w
        if not self.enabled or w.radio_model == 1:
            return 0.0
        bits = float(w.svc_dl_bits[v])
        if w.radio_model == 2:
            # FIFO per device link; an answer that reaches the cell after a later one (its
            # site answered late) is not queued behind it (a live integrator's review: 200 ms
            # of the runtime's lag read as radio time), as on the transport links
            start = max(now, self.dl_free[d]) if now >= self.dl_last[d] else now
            self.dl_last[d] = max(self.dl_last[d], now)
            self.dl_free[d] = max(self.dl_free[d], start + bits / w.fixed_dl_bps)
            return start - now + bits / w.fixed_dl_bps + w.fixed_latency_s
        rate = float(self.rates.rate_bps(np.array([d]), uplink=False)[0])
        r = self.rates
        return r.dl_wait_s + float(air_leg_s(r.dl_access_delay_s - r.dl_wait_s,
                                             bits / max(rate, 1.0), r.dl_slot_spacing_s))

    def transport(self, links: NDArray[np.int64], bits: float, now: float,
                  air_s: float = 0.0) -> float:
        """Time to cross ``links`` (-1 padded) with ``bits`` from ``now`` (s), an upload's
        packets entering them as they came over the air in the ``air_s`` before (nr)."""
        if not self.transport_enabled:
            return 0.0
        tail = now  # the message's first and last packets' times at a node
        t = first_packet_s(bits, float(self.w.packet_bits), now - air_s, now)
        for lk in links:
            if lk < 0:
                break
            # FIFO per link; answers reach the gateway slightly out of time order, and one that
            # arrives after a later one (by its send time) is not queued behind it
            last = self.link_last[lk]
            at = max(t, now)  # (an upload's first packet, forwarded while on the air, earlier)
            free = self.link_free[lk] if at >= last else at
            self.link_last[lk] = max(last, at)
            t, tail, free, _ = message_hop(
                free, t, tail, bits if self.serialization else 0.0, float(self.w.packet_bits),
                float(self.w.link_cap_bps[lk]), float(self.w.link_delay_s[lk]), now)
            self.link_free[lk] = max(self.link_free[lk], free)
        return tail - now

    def warm_up(self, d: int, v: int, links: NDArray[np.int64]) -> None:
        """Every leg once for device ``d``'s service ``v`` over ``links``, as a request's would
        go, its bookings undone: what they call compiled (numba) before the first request.
        (The transport's hop, called here with its default arguments, is a specialization the
        kernel's warm-up does not compile: on a fresh install the first half-second of a live
        run's answers came 0.2-0.8 s late while the gateway compiled it.)"""
        kept = [a.copy() for a in (self.ul_free, self.dl_free, self.dl_last, self.link_free,
                                   self.link_last)]
        self.uplink(d, v, 0.0)
        self.transport(links, float(self.w.svc_ul_bits[v]), 0.0, 1e-3)
        self.transport(links, float(self.w.svc_dl_bits[v]), 0.0)
        self.downlink(d, v, 0.0)
        for a, b in zip((self.ul_free, self.dl_free, self.dl_last, self.link_free,
                         self.link_last), kept, strict=True):
            a[:] = b


STARTUP_REPORTS_S = 3.0  # how long a starting gateway waits for every site's first report


@dataclass
class _SiteView:
    name: str
    stub: wire.Stub
    healthy: bool = False
    backlog_s: float = 0.0
    queue_len: int = 0
    extra_s: float = 0.0  # work this gateway sent since the last report
    pending_s: float = 0.0  # work this gateway placed here that is still on its way (uplink)
    report_t: float = 0.0
    # requests by model placed here and on their way, and sent here since the last report
    # (the twin's snapshot counts both in Snapshot.site_model_queue)
    pending_n: dict[int, int] = field(default_factory=dict)
    sent_n: dict[int, int] = field(default_factory=dict)
    late_reports: int = 0  # load reports in a row that timed out
    refused: bool = False  # it refused this gateway's tenant token (said once in the log)
    tls_said: bool = False  # a TLS failure to it said in the log


#: load reports in a row that time out before a site is taken for down (one that refuses the
#: call, a killed process, is at once): a site whose event loop a heavy model starves answers
#: late, and one late report made it dead to its gateway (a live integrator's review: 91 of
#: 160 requests dropped site_failure at a site that was only slow)
LATE_REPORTS_DOWN = 3


@dataclass
class _Flight:
    site: str | None = None
    cancelled: bool = False
    answered: bool = False  # the site has answered: too late to cancel
    metadata: Any = field(default=None)
    # while it crosses the emulated uplink: the site view and the work counted there as pending
    pending: tuple[Any, float] | None = None
    model: int = -1  # its model, counted in the view's pending_n while pending


def _release_pending(flight: _Flight) -> None:
    """Stop counting a request as pending at the site it is crossing the uplink to."""
    if flight.pending is not None:
        view, work = flight.pending
        view.pending_s = max(0.0, view.pending_s - work)
        if view.pending_n.get(flight.model, 0) > 0:
            view.pending_n[flight.model] -= 1
        flight.pending = None


class Gateway:
    """The asyncio gateway of a set of cells."""

    def __init__(self, cfg: GatewayConfig, scenario: Scenario | None = None) -> None:
        from airan.engine.world import build_world

        self.cfg = cfg
        self.scenario = scenario or load_scenario(cfg.scenario)
        self.digest = served_digest(self.scenario)
        self.world = w = build_world(self.scenario, cfg.seed)
        unknown = [c for c in cfg.cells if c not in w.cell_names]
        if unknown:
            raise InputError(f"unknown cell {unknown[0]!r}", field="cells", value=unknown[0],
                             choices=w.cell_names)
        self.cell_ids = {w.cell_names.index(c) for c in cfg.cells}
        self.policy_name = cfg.policy or self.scenario.policy
        self.policy = resolve_policy(self.policy_name)
        from airan.policy.builtin import (
            cloud,
            deadline_aware,
            home_sites,
            least_loaded,
            nearest_edge,
        )

        # these reject only while every site they may use is down: a fault's drop, as in the
        # twin (engine.Engine._decide), not an admission control's
        self.reject_reason = ("site_failure" if self.policy in (cloud, nearest_edge, least_loaded)
                              else "admission")
        sc = self.scenario
        if self.policy is deadline_aware and (sc.admission == "strict" or
                                              sc.objective == "energy"):
            self.policy = functools.partial(deadline_aware, strict=sc.admission == "strict",
                                            energy=sc.objective == "energy")
        self.rates = RadioRates(sc, w, cfg.seed, self.policy_name)
        # (Snapshot.rng: the deployment's seed, and this gateway's first cell, so that the
        # gateways of a deployment do not all draw the same numbers; a diff review)
        first_cell = min((w.cell_names.index(c) for c in cfg.cells if c in w.cell_names),
                         default=0)
        self._policy_rng = policy_rng(cfg.seed, stream=first_cell)
        if cfg.delays not in DELAY_MODES:
            raise InputError(f"delays must be one of {', '.join(DELAY_MODES)}", field="delays",
                             value=cfg.delays, choices=list(DELAY_MODES))
        self.delays = Delays(w, self.rates, enabled=cfg.delays != "none",
                             transport=cfg.delays in ("gateway", "propagation"),
                             serialization=cfg.delays == "gateway")
        self.tenants = wire.Tenants.from_mapping(cfg.tenants)
        self.service_index = {n: i for i, n in enumerate(w.service_names)}
        # the GPU time one more request adds to each site's backlog between reports: as in the
        # twin's snapshot (Engine._per_item_s) and the site's own report, a full batch's time
        # per request, over the site's GPUs
        first = w.gpu_type[w.site_gpu_start]
        b = w.site_max_batch  # [S, M]
        m = np.arange(b.shape[1])
        self._per_item_s = (w.svc_time_s[m[None, :], first[:, None], b] / b
                            / w.site_n_gpus[:, None])  # [S, M]
        missing = [s for s in w.site_names if s not in cfg.sites]
        if missing:
            raise InputError(f"no address for compute site {missing[0]!r}", field="sites",
                             value=missing[0])
        self.inflight: dict[tuple[str, str], _Flight] = {}
        self._policy_errors = 0  # requests a failing policy dropped (error)
        self.views: list[_SiteView] = []
        self._poller: asyncio.Task[None] | None = None
        self.server: grpc.aio.Server | None = None
        self.t0 = time.monotonic()
        self._placement_rates = PlacementRates(home_sites(w), len(w.site_names),
                                               len(w.model_names), 0.0)
        self.answered = 0
        # the least device-to-gateway hop seen (s): what an answer's last hop takes
        self._hop_floor = math.inf
        self._hops = 0
        # the network between gateway and sites applies the transport (or its serialization)
        self.network_transport = cfg.delays in ("radio", "propagation")
        self.bad = 0

    # ---- load reports ---------------------------------------------------------------------------
    async def _poll_one(self, view: _SiteView) -> None:
        try:
            rep = await view.stub.load(timeout_s=max(0.2, 4 * self.cfg.poll_s))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED and not view.refused:
                view.refused = True  # (said once: a live review found nothing in any log)
                print(f"gateway: site {view.name} refuses this gateway's tenant token "
                      "(UNAUTHENTICATED): were the hosts given different tokens? It counts as "
                      "down", file=sys.stderr, flush=True)
            details = (exc.details() or "").lower()
            if not view.tls_said and any(w in details for w in (
                    "ssl", "handshake", "certificate", "tls", "verification")):
                view.tls_said = True  # (a diff review: a TLS failure to a site left no word)
                print(f"gateway: site {view.name}: TLS failed ({exc.details()}); it counts as "
                      "down", file=sys.stderr, flush=True)
            # a site too busy to take one more call is alive, one slow to answer too until it
            # has been LATE_REPORTS_DOWN times running; anything else: dead for now
            late = exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            view.late_reports = view.late_reports + 1 if late else 0
            busy = exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED or (
                late and view.late_reports < LATE_REPORTS_DOWN)
            view.healthy = busy and view.healthy
            return
        view.late_reports = 0
        view.healthy = bool(rep.healthy)
        view.backlog_s = float(rep.backlog_s)
        view.queue_len = int(rep.queue_len)
        view.extra_s = 0.0
        view.sent_n = {}  # (those on their way stay counted: the report does not hold them)
        view.report_t = time.monotonic()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.gather(*(self._poll_one(v) for v in self.views))
            await asyncio.sleep(self.cfg.poll_s)

    def snapshot(self) -> LiveSnapshot:
        v = self.views
        placed = np.zeros((len(v), len(self.world.model_names)), dtype=np.int64)
        for i, x in enumerate(v):
            for m, n in x.pending_n.items():
                placed[i, m] += n
            for m, n in x.sent_n.items():
                placed[i, m] += n
        now = time.monotonic() - self.t0
        self._placement_rates.advance(now)
        return LiveSnapshot(
            self.world, now,
            np.array([x.backlog_s + x.extra_s + x.pending_s for x in v]),
            np.array([x.healthy for x in v], dtype=bool),
            np.array([x.queue_len for x in v], dtype=np.int64), self.rates, placed,
            admission=self.scenario.admission, objective=self.scenario.objective,
            placement_rates=self._placement_rates, rng=self._policy_rng)

    def decide(self, d: int, v: int, cell: int, *, retry: bool = False) -> int:
        """The policy's placement of one request: a site index, LOCAL or REJECT (``retry``: a
        request placed again after its site failed, counted where it goes, not again as an
        arrival from its cell)."""
        snap = self.snapshot()
        batch = Batch(time_s=np.array([snap.time_s]), device=np.array([d], dtype=np.int64),
                      service=np.array([v], dtype=np.int64), cell=np.array([cell], dtype=np.int64))
        w = self.world
        try:
            raw = self.policy(snap, batch)  # type: ignore[arg-type]
        except InputError:  # e.g. no healthy site of the kind the policy needs
            p = REJECT - 1
        else:  # (as the twin checks it: InputError for an answer it cannot place)
            p = int(checked_placements(raw, 1, len(w.site_names), self.policy_name,
                                       " for a request")[0])
        if p >= 0 and not np.isfinite(w.path_delay_s[w.cell_node[cell], p]):
            p = REJECT - 1  # no route
        elif p >= 0 and not w.svc_site_ok[v, p]:  # a policy of one's own's error (the twin
            p = REJECT - 1  # fails the run on it): dropped here, the gateway serving on
        self._placement_rates.record(snap.time_s, w.cell_node[[cell]],
                                     np.array([p], dtype=np.int64), w.svc_model[[v]],
                                     arrivals=not retry)
        return p

    # ---- RPCs -----------------------------------------------------------------------------------
    async def _bad(self, context: grpc.aio.ServicerContext, code: grpc.StatusCode,
                   msg: str) -> NoReturn:
        self.bad += 1
        await context.abort(code, msg)
        raise AssertionError("unreachable: abort raises")  # for the type checker

    async def infer(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        t_in = time.monotonic()
        if isinstance(req, wire.Malformed):
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"malformed InferRequest: {req.error}")
        tenant = self.tenants.tenant_of(context.invocation_metadata())
        if tenant is None:
            await self._bad(context, grpc.StatusCode.UNAUTHENTICATED,
                            "missing or unknown tenant token (metadata 'authorization: Bearer …')")
        w = self.world
        v = self.service_index.get(req.service)
        if not req.request_id:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT, "request_id is empty")
        if v is None:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"unknown service {req.service!r}; accepted: "
                            f"{', '.join(w.service_names)}")
        d = int(req.device)
        if not 0 <= d < w.n_devices or int(w.dev_cell[d]) not in self.cell_ids:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"device {d} is not attached to this gateway's cells "
                            f"({', '.join(self.cfg.cells)})")
        if len(req.payload) > self.cfg.max_payload_bytes:
            await self._bad(context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                            f"payload of {len(req.payload)} bytes is over the limit of "
                            f"{self.cfg.max_payload_bytes} bytes")
        ident = (tenant, req.request_id)
        if ident in self.inflight:
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"request_id {req.request_id!r} is already in flight")
        flight = _Flight(metadata=context.invocation_metadata())
        self.inflight[ident] = flight  # type: ignore[index]
        try:
            return await self._serve(req, d, v, t_in, flight)  # type: ignore[arg-type]
        finally:
            self.inflight.pop(ident, None)  # type: ignore[arg-type]
            self.answered += 1

    async def _serve(self, req: Any, d: int, v: int, t_in: float, flight: _Flight) -> Any:
        w = self.world
        cell = int(w.dev_cell[d])
        node = int(w.cell_node[cell])
        timing = wire.Timing()
        # a delay is emulated as an arrival time: when the data was sent plus the model's delay,
        # so the real transfer (the hop from the device, this gateway's own work) is inside it
        sent = t_in
        in_step = False
        if req.sent_unix_s > 0:
            now_mono = time.monotonic()
            now_unix = unix_s(now_mono)  # (one offset for the process: clock.unix_s)
            age = now_unix - req.sent_unix_s
            posted = req.posted_unix_s if req.posted_unix_s > 0 else req.sent_unix_s
            in_step = -wire.MAX_LEAD_S <= age < MAX_HOP_S  # clocks agree (one host, or synced)
            if in_step:
                sent = now_mono - age
            else:  # another host's clock: only the lead it posted with is known (one clock)
                sent = t_in + min(max(req.sent_unix_s - posted, 0.0), wire.MAX_LEAD_S)
            hop = now_unix - posted
            if 0.0 <= hop < MAX_HOP_S:
                timing.uplink_hop_ms = hop * 1e3
                self._hop_floor = min(self._hop_floor, hop)
                self._hops += 1
        # a request posted ahead (at most MAX_LEAD_S) is placed now, a little before it is sent,
        # as the twin places the arrivals of its next decision interval (5 ms by default)
        failed = ""
        try:
            place = self.decide(d, v, cell)
        except (Exception, SystemExit) as exc:  # a user's policy that fails (a sys.exit in it
            # too: a diff review), or answers what cannot be
            # placed, mid-run: the request dropped as an error that says why (a live
            # integrator's review: 32 requests "error" and tracebacks in the gateway's log)
            err = exc if isinstance(exc, InputError) else policy_failed(exc, self.policy_name)
            failed = f"error: {err}"
            if not self._policy_errors:  # (once in the log: the devices count them)
                print(f"gateway: {err}", file=sys.stderr, flush=True)
            self._policy_errors += 1
            place = REJECT - 1
        own_s = time.monotonic() - t_in  # time in the gateway itself, sleeps excluded

        def reply(status: Any, reason: str = "", site: str = "") -> Any:
            timing.gateway_ms = own_s * 1e3
            return wire.InferReply(status=status, request_id=req.request_id, site=site,
                                   reason=reason, timing=timing)

        if failed:
            return reply(wire.InferReply.DROPPED, failed)

        if place == REJECT:
            return reply(wire.InferReply.DROPPED, self.reject_reason)
        if place == NO_SITE:  # (a policy's answer while no site it may use is up)
            return reply(wire.InferReply.DROPPED, "site_failure")
        if place == LOCAL:
            local_s = float(w.local_time_s[w.dev_fleet[d], v])
            if not local_s < np.inf:  # a service its devices may not run (on_device: false)
                return reply(wire.InferReply.DROPPED, "not_on_device")
            timing.local_ms = local_s * 1e3
            return reply(wire.InferReply.LOCAL)
        if place < 0:
            return reply(wire.InferReply.DROPPED, "no_route")
        now = sent - self.t0
        ul_wait, ul_air = self.delays.uplink(d, v, now)
        timing.ul_wait_ms, timing.ul_air_ms = ul_wait * 1e3, ul_air * 1e3
        radio_done = sent + ul_wait + ul_air
        tried: set[int] = set()
        model = int(w.svc_model[v])
        while True:
            if flight.cancelled:
                return reply(wire.InferReply.CANCELLED, "cancelled")
            view = self.views[place]
            tried.add(place)
            timing.attempts += 1
            t0 = time.monotonic()
            start = max(radio_done, t0)
            ul_tr = self.delays.transport(w.path_links[node, place], float(w.svc_ul_bits[v]),
                                          start - self.t0, ul_air if w.radio_model == 0 else 0.0)
            timing.ul_transport_ms = ul_tr * 1e3
            own_s += time.monotonic() - t0
            # the policy's next decisions count this one from now on (as the twin's count a
            # decision batch's own assignments), not only once it reaches the site: requests
            # that arrive together would otherwise all pick the same site
            work = float(self._per_item_s[place, model])
            view.pending_s += work
            flight.pending = (view, work)
            view.pending_n[model] = view.pending_n.get(model, 0) + 1
            flight.model = model
            arrive = start + ul_tr  # the request's modelled arrival at the site
            # over loopback it leaves a little earlier, due at `arrive`: the site holds it
            lead = 0.0 if self.network_transport else FORWARD_LEAD_S
            try:
                await _sleep_until(arrive - lead)
            finally:
                _release_pending(flight)
            if flight.cancelled:
                return reply(wire.InferReply.CANCELLED, "cancelled")
            view.extra_s += work
            view.sent_n[model] = view.sent_n.get(model, 0) + 1
            flight.site = view.name
            t_fwd = time.monotonic()
            req.due_unix_s = unix_s(arrive) if arrive > t_fwd else 0.0
            try:
                rep = await view.stub.infer(req, self.cfg.site_timeout_s, flight.metadata)
            except grpc.aio.AioRpcError as exc:
                t1 = time.monotonic()
                flight.site = None
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    # gRPC's own bound on a site's RPCs in flight: overloaded, as a full queue
                    timing.gateway_ms = (own_s + time.monotonic() - t1) * 1e3
                    return wire.InferReply(status=wire.InferReply.OVERLOADED,
                                           request_id=req.request_id, site=view.name,
                                           reason="queue_full", timing=timing)
                if exc.code() not in RETRYABLE:  # the site refused the request itself
                    return reply(wire.InferReply.DROPPED, f"error:{exc.code().name.lower()}",
                                 view.name)
                view.healthy = False
                if timing.attempts >= self.cfg.max_attempts:
                    return reply(wire.InferReply.DROPPED, "site_failure", view.name)
                try:
                    place = self.decide(d, v, cell, retry=True)
                except (Exception, SystemExit) as exc:  # (as above: the policy failed again)
                    err = (exc if isinstance(exc, InputError)
                           else policy_failed(exc, self.policy_name))
                    return reply(wire.InferReply.DROPPED, f"error: {err}", view.name)
                own_s += time.monotonic() - t1
                if place < 0 or place in tried:
                    return reply(wire.InferReply.DROPPED, "site_failure", view.name)
                continue
            flight.site = None
            flight.answered = True
            t1 = time.monotonic()
            st = rep.timing
            timing.queue_ms, timing.compute_ms = st.queue_ms, st.compute_ms
            timing.site_ms, timing.batch_size = st.site_ms, st.batch_size
            timing.held_ms = st.held_ms
            round_trip = max(0.0, t1 - t_fwd - st.site_ms * 1e-3)
            timing.site_hop_ms = round_trip * 1e3
            if rep.status != wire.InferReply.OK:
                timing.gateway_ms = own_s * 1e3
                return wire.InferReply(status=rep.status, request_id=req.request_id,
                                       site=rep.site, reason=rep.reason, timing=timing)
            if self.network_transport:
                # the network between here and the site delayed the packets itself (netem, or
                # tbf's serialization): the answer is timed from its real arrival, and the
                # transport parts include the measured link time, half each way
                left = t1
                timing.ul_transport_ms += round_trip * 0.5e3
            else:
                # loopback: the answer left the site what the site spent after the request was
                # due (held there until then) after its modelled arrival; a transfer that took
                # longer than the lead is inside the emulated downlink, as far as it goes
                left = arrive + (st.site_ms - st.held_ms) * 1e-3
            dl_tr = self.delays.transport(w.path_links_back[place, node],
                                          float(w.svc_dl_bits[v]), left - self.t0)
            dl_air = self.delays.downlink(d, v, left + dl_tr - self.t0)
            timing.dl_transport_ms, timing.dl_air_ms = dl_tr * 1e3, dl_air * 1e3
            if self.network_transport:
                timing.dl_transport_ms += round_trip * 0.5e3
            own_s += time.monotonic() - t1
            timing.gateway_ms = own_s * 1e3
            # the answer is due at the device at left + dl_tr + dl_air; it leaves here the
            # least device-to-gateway hop seen (a transfer without the device's own lag; once
            # there are enough of them, at most EARLY_MAX_S) earlier, so that last hop is
            # inside the emulated air time, as on the uplink
            due = left + dl_tr + dl_air
            lead_ok = req.reply_lead_s > 0 and in_step  # due_unix_s in the caller's clock
            if lead_ok:
                # the caller (the device emulator) times the answer from due_unix_s itself: it
                # may leave up to the lead earlier, so the hop back is inside the downlink
                early = min(req.reply_lead_s, wire.MAX_LEAD_S)
            else:
                early = (min(self._hop_floor, dl_air, EARLY_MAX_S)
                         if self._hops >= EARLY_AFTER else 0.0)
            await _sleep_until(due - early)
            due_unix = unix_s(due) if lead_ok else 0.0
            return wire.InferReply(status=wire.InferReply.OK, request_id=req.request_id,
                                   site=rep.site, output=rep.output,
                                   output_shape=rep.output_shape, timing=timing,
                                   due_unix_s=due_unix)

    async def cancel(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(req, wire.Malformed):
            await self._bad(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"malformed CancelRequest: {req.error}")
        tenant = await wire.authenticate(self.tenants, context)
        flight = self.inflight.get((tenant, req.request_id))
        if flight is None:  # unknown, finished, or another tenant's: the same answer
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no request {req.request_id!r} of yours in flight here")
        assert flight is not None
        if flight.answered:  # computed: the answer is on its way (the emulated downlink)
            return wire.CancelReply(cancelled=False)
        if flight.site is None:
            flight.cancelled = True
            _release_pending(flight)  # the policy stops counting it at once
            return wire.CancelReply(cancelled=True)
        stub = self.views[self.world.site_names.index(flight.site)].stub
        try:
            rep = await stub.cancel(req.request_id, metadata=context.invocation_metadata())
        except grpc.aio.AioRpcError:
            return wire.CancelReply(cancelled=False)
        return rep

    async def load(self, req: Any, context: grpc.aio.ServicerContext) -> Any:
        await wire.authenticate(self.tenants, context)
        return wire.LoadReport(name=",".join(self.cfg.cells),
                               healthy=any(v.healthy for v in self.views),
                               served=self.answered, bad_requests=self.bad,
                               uptime_s=time.monotonic() - self.t0, seed=self.cfg.seed,
                               scenario_digest=self.digest)

    # ---- life -----------------------------------------------------------------------------------
    async def start(self) -> int:
        cfg = self.cfg
        token = next(iter(cfg.tenants.values()))
        self.views = [_SiteView(n, wire.Stub(cfg.sites[n], "Site", token, cfg.max_payload_bytes,
                                             streamed=True, tls=cfg.tls))
                      for n in self.world.site_names]
        # ready once every site has reported (or after STARTUP_REPORTS_S: those that have not
        # count as down): a first report lost to a busy machine (processes compiling on a
        # fresh install) made every site look down to the first requests
        deadline = time.monotonic() + STARTUP_REPORTS_S
        while True:
            await asyncio.gather(*(self._poll_one(v) for v in self.views if not v.report_t))
            if all(v.report_t for v in self.views) or time.monotonic() >= deadline:
                break
            await asyncio.sleep(self.cfg.poll_s)
        self._warm_up()
        self._poller = asyncio.get_running_loop().create_task(self._poll_loop())
        self.server, port = await wire.serve(
            "Gateway", {"Infer": self.infer, "Load": self.load, "Cancel": self.cancel},
            cfg.host, cfg.port, cfg.max_payload_bytes, 100_000, f"gateway {cfg.cells}", cfg.tls)
        return port

    def _warm_up(self) -> None:
        """Place one request of each service and compute its radio legs before serving: what
        the policy and the radio rates compile (numba, on a fresh install: seconds) is
        compiled here, not while the first requests wait and the sites' load reports time
        out (which made them look down). A policy that fails fails here, as an input error
        (a stateful policy sees these calls: they are not requests of the run)."""
        w = self.world
        mine = np.flatnonzero(np.isin(w.dev_cell, list(self.cell_ids)))
        if not len(mine):
            return
        d = int(mine[0])
        for v in range(len(w.service_names)):
            try:
                self.decide(d, v, int(w.dev_cell[d]))
            except InputError:  # (an answer it cannot place: said as it is)
                raise
            except (Exception, SystemExit) as exc:  # a user's policy that fails: say so now,
                raise policy_failed(exc, self.policy_name) from exc  # in one line
        self.rates.rate_bps(np.array([d], dtype=np.int64), uplink=True)
        self.rates.rate_bps(np.array([d], dtype=np.int64), uplink=False)
        paths = w.path_links[int(w.cell_node[int(w.dev_cell[d])])]  # [sites, hops]
        linked = np.flatnonzero((paths >= 0).any(axis=1))
        self.delays.warm_up(d, 0, paths[int(linked[0])] if len(linked) else paths[0])
        self._placement_rates.clear()  # (these placements are no requests' either)

    async def stop(self, grace_s: float = 1.0) -> None:
        if self.server is not None:
            await self.server.stop(grace_s)
        if self._poller is not None:
            self._poller.cancel()
        for v in self.views:
            await v.stub.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m airan.live.gateway CONFIG.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m airan.live.gateway CONFIG.json")
    wire.exit_with_parent()
    cfg = GatewayConfig.from_json(args[0])
    try:
        asyncio.run(serve_forever(Gateway(cfg)))
    except InputError as exc:  # the runtime passes it on as the input error it is
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)  # airan's exit code for bad input


if __name__ == "__main__":
    main()
