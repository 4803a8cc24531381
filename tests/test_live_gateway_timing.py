"""The gateway's emulated delays: an answer never reaches the device before the delays the
twin's models give (plus, where the network itself delays the packets, the real link time);
and the policy counts the gateway's own placements at once.

One gateway in process, its site replaced by a stub that answers after a real one-way link
time each way plus the site's time; the device's hop to the gateway is emulated through
``sent_unix_s`` (a lagging emulator or a slow upload).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import numpy as np
import pytest
from test_live import small_scenario

from airan.live import gateway as gateway_module
from airan.live import wire
from airan.live.gateway import EARLY_AFTER, EARLY_MAX_S, Gateway, GatewayConfig, _Flight, _SiteView
from airan.policy import Batch
from airan.scenario import scenario_from_dict

SITE_MS = 2.0


class _LinkStub:
    """A site behind a link of ``one_way_s`` each way that spends SITE_MS on each request."""

    def __init__(self, one_way_s: float) -> None:
        self.one_way_s = one_way_s

    async def infer(self, req: Any, timeout: float, metadata: Any) -> Any:
        await asyncio.sleep(self.one_way_s)
        # a request forwarded ahead is held until due, as a site server does
        held = max(0.0, req.due_unix_s - time.time()) if req.due_unix_s > 0 else 0.0
        await asyncio.sleep(held + SITE_MS / 1e3 + self.one_way_s)
        return wire.InferReply(status=wire.InferReply.OK, request_id=req.request_id,
                               site="edge", timing=wire.Timing(
                                   site_ms=held * 1e3 + SITE_MS, held_ms=held * 1e3,
                                   queue_ms=0.0, compute_ms=SITE_MS, batch_size=1))


def _gateway(mode: str, stubs: list[Any]) -> Gateway:
    """A gateway of the test scenario's two cells in process, its sites replaced by ``stubs``
    (one per compute site, in the world's order)."""
    cfg = GatewayConfig(cells=["bs-a", "bs-b"], scenario="", sites={"gpu-a": "x:1", "edge": "x:2"},
                        tenants={"default": "t"}, delays=mode)
    g = Gateway(cfg, scenario_from_dict(small_scenario()))
    g.views = [_SiteView(name, stub, healthy=True)  # type: ignore[arg-type]
               for name, stub in zip(g.world.site_names, stubs, strict=True)]
    return g


async def _latencies(mode: str, one_way_s: float, hop_s: float, n: int) -> list[tuple[float,
                                                                                       float]]:
    """(latency, modelled parts) in ms of ``n`` requests in turn."""
    g = _gateway(mode, [_LinkStub(one_way_s), _LinkStub(one_way_s)])
    w = g.world
    edge = list(w.site_names).index("edge")
    g.decide = lambda d, v, cell: edge  # type: ignore[method-assign]
    # as a gateway does before it serves: what the legs compile (numba) is compiled here,
    # not on the first request (a clean clone's first answer came 0.8 s late, where no
    # earlier test had compiled the transport's hop)
    g._warm_up()
    out = []
    for k in range(n):
        d = k % 3
        t_create = time.monotonic() - hop_s
        req = wire.InferRequest(request_id=f"r{k}", device=d, service=w.service_names[0],
                                payload=b"x", sent_unix_s=time.time() - hop_s)
        rep = await g._serve(req, d, 0, time.monotonic(), _Flight())
        lat = (time.monotonic() - t_create) * 1e3
        t = rep.timing
        parts = (t.ul_wait_ms + t.ul_air_ms + t.ul_transport_ms + t.site_ms - t.held_ms
                 + t.dl_transport_ms + t.dl_air_ms)
        out.append((lat, parts))
        await asyncio.sleep(0.03)  # the device's FIFO link is free again
    return out

pytestmark = pytest.mark.usefixtures("model_cache")


@pytest.mark.parametrize(("mode", "one_way_s", "hop_s"), [
    ("gateway", 0.0, 0.0),      # loopback: every delay emulated here
    ("gateway", 0.0, 0.004),    # a device 4 ms late (or a slow upload): hidden, never early
    ("gateway", 0.0, -0.004),   # posted 4 ms ahead of its send time: held until then
    ("radio", 0.003, 0.0),      # netem: the link itself takes 3 ms each way
    ("propagation", 0.003, 0.0),
])
def test_an_answer_never_arrives_before_its_modelled_delays(mode: str, one_way_s: float,
                                                            hop_s: float) -> None:
    res = asyncio.run(_latencies(mode, one_way_s, hop_s, 24))
    for k, (lat, parts) in enumerate(res):
        # the first answers (before EARLY_AFTER hops) leave on time; then at most EARLY_MAX_S
        # early (the least hop seen), which the real hop back (here ~0) can only partly make up
        slack = 0.0 if k + 1 < EARLY_AFTER else EARLY_MAX_S * 1e3
        assert lat >= parts - slack - 0.05, (k, lat, parts)
        assert lat <= parts + 50.0, (k, lat, parts)  # not absurdly late (a loaded machine)
    extra = sorted(lat - parts for lat, parts in res)
    assert extra[len(extra) // 2] < 3.0  # and typically on time: no delay counted twice
    if mode in ("radio", "propagation"):  # the real link time is in the transport parts
        assert min(p for _, p in res) >= 6.0 + SITE_MS


class _CountingStub(_LinkStub):
    def __init__(self) -> None:
        super().__init__(0.0)
        self.seen = 0

    async def infer(self, req: Any, timeout: float, metadata: Any) -> Any:
        self.seen += 1
        return await super().infer(req, timeout, metadata)


def test_requests_sent_together_are_spread_by_least_loaded() -> None:
    """Four devices send at the same instant; the sites' load reports say both are idle. The
    twin's least-loaded places a decision batch one request at a time, counting its own
    assignments (2 and 2); the gateway must count each placement from the moment it makes it,
    not only once the request reaches the site after its uplink delay (which sent all four to
    one site and made batches of 4 that the twin never saw)."""
    stubs = [_CountingStub(), _CountingStub()]
    g = _gateway("gateway", stubs)
    w = g.world

    async def main() -> None:
        now = time.time()
        reqs = [wire.InferRequest(request_id=f"r{d}", device=d, service=w.service_names[0],
                                  payload=b"x", sent_unix_s=now) for d in range(4)]
        await asyncio.gather(*(g._serve(r, int(r.device), 0, time.monotonic(), _Flight())
                               for r in reqs))

    asyncio.run(main())
    assert [s.seen for s in stubs] == [2, 2]
    assert all(v.pending_s == 0.0 for v in g.views)  # nothing left counted once they arrived


def test_a_request_cancelled_on_its_uplink_stops_counting_as_load_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy counts a placed request as pending at its site from the decision on; a
    request cancelled while it crosses the emulated uplink no longer counts from that moment
    (not only once its modelled arrival comes), and never reaches the site."""
    # a modelled uplink of half a second, all of it slept (no forward lead): the cancel comes
    # inside it however loaded the machine (the scenario's ~5 ms uplink, counted from the
    # request's arrival at the gateway, could pass before the task first runs)
    monkeypatch.setattr(gateway_module, "FORWARD_LEAD_S", 0.0)
    stubs = [_CountingStub(), _CountingStub()]
    g = _gateway("gateway", stubs)
    monkeypatch.setattr(g.delays, "uplink", lambda d, v, now: (0.0, 0.5))
    w = g.world

    class _Context:
        def invocation_metadata(self) -> Any:
            return (("authorization", "Bearer t"),)

    async def main() -> tuple[float, float, Any, Any]:
        req = wire.InferRequest(request_id="c1", device=0, service=w.service_names[0],
                                payload=b"x", sent_unix_s=time.time())
        flight = _Flight()
        g.inflight[("default", "c1")] = flight
        task = asyncio.ensure_future(g._serve(req, 0, 0, time.monotonic(), flight))
        for _ in range(10_000):  # until it is placed and crossing the uplink
            if flight.pending is not None or task.done():
                break
            await asyncio.sleep(0)
        assert flight.pending is not None and flight.site is None
        before = sum(v.pending_s for v in g.views)
        reply = await g.cancel(wire.CancelRequest(request_id="c1"), _Context())  # type: ignore
        after = sum(v.pending_s for v in g.views)
        return before, after, reply, await task

    before, after, reply, answer = asyncio.run(main())
    assert before > 0 and after == 0.0
    assert reply.cancelled and answer.status == wire.InferReply.CANCELLED
    assert [s.seen for s in stubs] == [0, 0]
    assert not g.snapshot().site_model_queue.any()  # nor as a request of its model there


def test_a_placed_request_counts_as_queued_and_in_the_sites_rate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the twin's snapshot, a request placed at a site counts among the requests of its
    model there from the decision on (on its way, then sent until the next load report), and
    in the rate placed there: the next request's batcher wait there is shorter (the idle
    site's whole ``max_wait`` before)."""
    from airan.policy.base import batch_wait_s

    monkeypatch.setattr(gateway_module, "FORWARD_LEAD_S", 0.0)
    stubs = [_CountingStub(), _CountingStub()]
    g = _gateway("gateway", stubs)
    monkeypatch.setattr(g.delays, "uplink", lambda d, v, now: (0.0, 0.2))
    w = g.world
    v = 0
    m = int(w.svc_model[v])
    sites = np.arange(len(w.site_names))
    batching = (w.site_max_batch[:, m] > 1) & (w.site_max_wait_s[:, m] > 0)
    assert batching.any()

    async def main() -> tuple[Any, Any, Any]:
        idle = g.snapshot()
        req = wire.InferRequest(request_id="p1", device=0, service=w.service_names[v],
                                payload=b"x", sent_unix_s=time.time())
        flight = _Flight()
        task = asyncio.ensure_future(g._serve(req, 0, 0, time.monotonic(), flight))
        for _ in range(10_000):
            if flight.pending is not None or task.done():
                break
            await asyncio.sleep(0)
        on_its_way = g.snapshot()
        await task
        return idle, on_its_way, g.snapshot()

    idle, on_its_way, sent = asyncio.run(main())
    place = int(np.flatnonzero(on_its_way.site_model_queue[:, m])[0])
    one = Batch(time_s=np.zeros(1), device=np.zeros(1, dtype=np.int64),
                service=np.full(1, v, dtype=np.int64), cell=w.dev_cell[[0]])
    before = batch_wait_s(idle, one, sites[None, :])[0, place]
    after = batch_wait_s(on_its_way, one, sites[None, :])[0, place]
    if batching[place]:
        assert before == w.site_max_wait_s[place, m]  # nothing placed there yet
        assert on_its_way.site_model_rate_per_s[place, m] > 0.0
        assert 0.0 < after < before
    assert sent.site_model_queue[place, m] == 1  # sent, until the site's next report


def test_an_answer_sent_ahead_says_when_it_is_due_and_is_never_due_early() -> None:
    """A caller that times answers itself (``reply_lead_s``, as the device emulator does) gets
    each up to the lead before it is due, stamped with the modelled arrival time."""
    g = _gateway("gateway", [_LinkStub(0.0), _LinkStub(0.0)])
    w = g.world
    g.decide = lambda d, v, cell: 1  # type: ignore[method-assign]

    async def main() -> list[tuple[float, float, float]]:
        out = []
        for k in range(4):
            t_sent = time.time()
            req = wire.InferRequest(request_id=f"r{k}", device=k, service=w.service_names[0],
                                    payload=b"x", sent_unix_s=t_sent, reply_lead_s=0.004)
            rep = await g._serve(req, k, 0, time.monotonic(), _Flight())
            t = rep.timing
            parts = (t.ul_wait_ms + t.ul_air_ms + t.ul_transport_ms + t.site_ms - t.held_ms
                     + t.dl_transport_ms + t.dl_air_ms)
            out.append(((rep.due_unix_s - t_sent) * 1e3, (time.time() - t_sent) * 1e3, parts))
        return out

    res = asyncio.run(main())
    for due_ms, got_ms, parts in res:
        assert due_ms >= parts - 0.05  # due no earlier than the modelled delays say
        assert due_ms - 4.0 - 0.05 <= got_ms  # sent at most the lead ahead of it
    assert any(got < due for due, got, _ in res)  # ahead indeed: the hop back is hidden


def test_the_gateway_places_a_request_of_each_service_before_it_serves(monkeypatch) -> None:
    """What the policy and the radio rates compile (numba, seconds on a fresh install) is
    compiled before the gateway serves: on a cold cache the first requests used to wait for it
    (late by ~2 s) and the sites' load reports timed out meanwhile (all sites 'down')."""
    g = _gateway("gateway", [_LinkStub(0.0), _LinkStub(0.0)])
    placed: list[int] = []
    real_decide = g.decide
    g.decide = lambda d, v, cell: placed.append(v) or real_decide(d, v, cell)  # type: ignore[method-assign]
    placed_when_served: list[list[int]] = []

    async def no_poll(view: Any) -> None:
        view.report_t = 1.0  # as if it had reported

    async def serve(*args: Any, **kwargs: Any) -> Any:
        placed_when_served.append(sorted(placed))
        raise RuntimeError("serving is not this test's")

    g._poll_one = no_poll  # type: ignore[method-assign]
    monkeypatch.setattr(gateway_module.wire, "serve", serve)
    with pytest.raises(RuntimeError, match="serving"):
        asyncio.run(g.start())
    assert placed_when_served == [list(range(len(g.world.service_names)))]


def test_a_policy_that_fails_fails_the_gateways_start_as_an_input_error() -> None:
    from airan.errors import InputError

    g = _gateway("gateway", [_LinkStub(0.0), _LinkStub(0.0)])

    def broken(snapshot: Any, batch: Any) -> Any:
        raise ValueError("boom")

    async def no_poll(view: Any) -> None:
        view.report_t = 1.0  # as if it had reported

    g.policy = broken  # type: ignore[assignment]
    g.policy_name = "mine:broken"
    g._poll_one = no_poll  # type: ignore[method-assign]
    with pytest.raises(InputError, match=r"field 'policy': calling the policy .* raised "
                                         r"ValueError: boom .*\(got 'mine:broken'\)"):
        asyncio.run(g.start())


def test_a_starting_gateway_waits_for_every_sites_first_report(monkeypatch) -> None:
    """A site whose first load report is lost (a busy machine) is asked again before the
    gateway serves: the first requests used to find every site 'down' (admission drops)."""
    g = _gateway("gateway", [_LinkStub(0.0), _LinkStub(0.0)])
    asked: dict[str, int] = {}

    async def poll(view: Any) -> None:
        asked[view.name] = asked.get(view.name, 0) + 1
        if view.name == "edge" and asked[view.name] == 1:
            view.healthy = False  # its first report timed out
            return
        view.healthy = True
        view.report_t = time.monotonic()

    healthy_when_served: list[list[bool]] = []

    async def serve(*args: Any, **kwargs: Any) -> Any:
        healthy_when_served.append([v.healthy for v in g.views])
        raise RuntimeError("serving is not this test's")

    g._poll_one = poll  # type: ignore[method-assign]
    monkeypatch.setattr(gateway_module.wire, "serve", serve)
    with pytest.raises(RuntimeError, match="serving"):
        asyncio.run(g.start())
    assert asked == {"gpu-a": 1, "edge": 2}
    assert healthy_when_served == [[True, True]]


def test_a_placed_request_adds_the_backlog_the_twins_snapshot_counts() -> None:
    """Between load reports the gateway adds each placement to the site's backlog. It must add
    what the twin's snapshot adds for a request on its way (a full batch's time per request,
    over the site's GPUs; the site's own report counts its queue the same way), not a batch
    of one's time, which made a burst look several times longer to the policies than in the
    twin."""
    from airan.engine.engine import Engine

    sc = scenario_from_dict(small_scenario())
    g = _gateway("gateway", [_CountingStub(), _CountingStub()])
    w = g.world
    assert (w.site_max_batch > 1).any()  # else the two rules agree
    twin = Engine(sc, duration_s=1.0)._per_item_s / w.site_n_gpus[:, None]
    assert g._per_item_s == pytest.approx(twin, rel=1e-12)
    batch_of_one = w.svc_time_s[:, w.gpu_type[w.site_gpu_start], 1].T / w.site_n_gpus[:, None]
    assert (g._per_item_s < batch_of_one).any()


def test_a_request_no_site_is_up_for_drops_as_site_failure_as_in_the_twin() -> None:
    """least-loaded (the test scenario's policy) has no site up to send a request to: a fault's
    drop, site_failure, as the twin books it, not 'admission' (none was set)."""
    g = _gateway("gateway", [_LinkStub(0.0), _LinkStub(0.0)])
    assert g.policy_name == "least-loaded"
    assert (g.snapshot().admission, g.snapshot().objective) == ("none", "latency")
    for view in g.views:
        view.healthy = False
    req = wire.InferRequest(request_id="r0", device=0, service=g.world.service_names[0],
                            payload=b"x", sent_unix_s=time.time())
    rep = asyncio.run(g._serve(req, 0, 0, time.monotonic(), _Flight()))
    assert (rep.status, rep.reason) == (wire.InferReply.DROPPED, "site_failure")


def test_a_request_placed_again_after_its_site_failed_is_no_new_arrival() -> None:
    """The gateway places a request again when its site fails: counted where it goes, not
    again in the rate its cell sends (the twin's re-dispatch does the same; a review)."""
    g = _gateway("gateway", [_CountingStub(), _CountingStub()])
    w = g.world
    d, v = 0, 0
    cell = int(w.dev_cell[d])
    g.decide(d, v, cell)
    home, placed = g._placement_rates.home.copy(), g._placement_rates.site.copy()
    assert home.sum() > 0 and placed.sum() > 0
    g.decide(d, v, cell, retry=True)
    rates = g._placement_rates
    keep = home.sum() and rates.home.sum() / home.sum()  # (only decayed since)
    assert 0.0 < keep <= 1.0
    assert rates.site.sum() > placed.sum() * keep


def test_the_warm_up_places_no_request_of_the_run() -> None:
    """The gateway's warm-up decides a request of each service to compile the policy before
    serving: those placements leave no trace in the rates the run's decisions read."""
    g = _gateway("gateway", [_CountingStub(), _CountingStub()])
    g._warm_up()
    rates = g._placement_rates
    assert not rates.site.any() and not rates.home.any() and rates.time_s == 0.0
    g.decide(0, 0, int(g.world.dev_cell[0]))
    assert rates.home.any()


def test_a_device_placement_of_a_service_it_may_not_run_drops_as_in_the_twin() -> None:
    """``on_device: false``: a LOCAL placement ends ``not_on_device`` (the twin's reason), the
    other service still runs on the device; a policy's NO_SITE ends ``site_failure``."""
    from airan.policy import LOCAL, NO_SITE

    data = small_scenario()
    data["services"][1]["on_device"] = False  # plan
    cfg = GatewayConfig(cells=["bs-a", "bs-b"], scenario="", sites={"gpu-a": "x:1", "edge": "x:2"},
                        tenants={"default": "t"}, delays="gateway")
    g = Gateway(cfg, scenario_from_dict(data))
    g.views = [_SiteView(name, _LinkStub(0.0), healthy=True)  # type: ignore[arg-type]
               for name in g.world.site_names]
    answers = iter([LOCAL, LOCAL, NO_SITE])
    g.decide = lambda d, v, cell: next(answers)  # type: ignore[method-assign]

    def serve(service: str) -> Any:
        req = wire.InferRequest(request_id=service, device=0, service=service, payload=b"x",
                                sent_unix_s=time.time())
        v = list(g.world.service_names).index(service)
        return asyncio.run(g._serve(req, 0, v, time.monotonic(), _Flight()))

    plan, detect, nowhere = serve("plan"), serve("detect"), serve("detect")
    assert (plan.status, plan.reason) == (wire.InferReply.DROPPED, "not_on_device")
    assert detect.status == wire.InferReply.LOCAL and 0 < detect.timing.local_ms < np.inf
    assert (nowhere.status, nowhere.reason) == (wire.InferReply.DROPPED, "site_failure")


def test_nr_rates_are_read_at_the_loads_the_twin_settles_to() -> None:
    """A live integrator's review: under nr the gateway read each device's rate at the cells'
    starting load (radio.initial_load, 50%), and a camera's 200 kB upload took 20.8 ms live
    against the twin's 10.4. It now reads them after the twin's first second (its loads'
    EWMA settled over ten time constants): the rates of that run's engine, faster than at
    the start on a factory at a tenth of its fleets."""
    from airan.api import scale_fleets
    from airan.engine import Engine
    from airan.live.gateway import RadioRates
    from airan.scenario import load_scenario

    sc = scale_fleets(load_scenario("factory"), 0.1)
    start = Engine(sc, seed=1)
    w = start.world
    cams = np.flatnonzero(w.dev_fleet == w.fleet_names.index("camera"))
    rates = RadioRates(sc, w, 1).rate_bps(cams, uplink=True)
    twin = Engine(sc, seed=1, duration_s=1.0)
    twin.run()
    assert rates == pytest.approx(twin._rate_bps(cams, uplink=True), rel=1e-12)
    bits = w.svc_ul_bits[w.service_names.index("inspect")]
    assert np.mean(bits / rates) < 0.6 * np.mean(bits / start._rate_bps(cams, uplink=True))
    assert 8e-3 < np.mean(bits / rates) < 11e-3  # (the twin's inspect uploads: ~10 ms)


@pytest.mark.parametrize(("answer", "said"), [
    (lambda n: np.zeros(n + 1, dtype=np.int64), "policy must return 1 integers, got shape (2,)"),
    (lambda n: np.full(n, 0.5), "got shape (1,) and dtype float64"),
    (lambda n: np.full(n, 99, dtype=np.int64), "policy returned an invalid placement 99"),
])
def test_the_gateway_checks_a_policys_answer_as_the_twin_does(answer: Any, said: str) -> None:
    """A live integrator's review: the gateway took one index too many and a float 0.5 as
    site 0, and an index past the sites failed as the gateway's IndexError; the twin refuses
    all three. Now the same check (policy.checked_placements): at the gateway's start an
    input error, exit 2 (_warm_up); mid-run the request is dropped as an error that says
    why, and the devices' summary counts it under that message."""
    from airan.errors import InputError

    g = _gateway("gateway", [_LinkStub(0.001), _LinkStub(0.001)])
    g.policy = lambda snap, batch: answer(len(batch))  # type: ignore[assignment]
    with pytest.raises(InputError, match=re.escape(said)):
        g._warm_up()
    w = g.world
    req = wire.InferRequest(request_id="r0", device=0, service=w.service_names[0],
                            payload=b"x", sent_unix_s=time.time())
    rep = asyncio.run(g._serve(req, 0, int(w.dev_cell[0]), time.monotonic(), _Flight()))
    assert rep.status == wire.InferReply.DROPPED
    assert rep.reason.startswith("error: ") and said in rep.reason


def test_a_fixed_downlink_answer_that_comes_late_is_not_queued_behind_a_later_one() -> None:
    """A live integrator's review: Delays.downlink(0, 0, 1.0) gave 5 ms and then (0, 0, 0.8)
    205 ms, the earlier answer queued behind the later one's booking (the runtime's lag read
    as radio time). In order the link is a FIFO; out of order an answer is not held back."""
    from airan.live.gateway import Delays

    d = small_scenario()
    d["radio"] = {"model": "fixed", "fixed_ul_rate_mbps": 80, "fixed_dl_rate_mbps": 500,
                  "fixed_latency_ms": 5}
    d["services"][0]["dl_kb"] = 500.0  # (8 ms on the link)
    g = Gateway(GatewayConfig(cells=["bs-a", "bs-b"], scenario="",
                              sites={"gpu-a": "x:1", "edge": "x:2"}, tenants={"default": "t"}),
                scenario_from_dict(d))
    delays = Delays(g.world, g.rates)
    one = 500e3 * 8 / 500e6
    assert delays.downlink(0, 0, 1.0) == pytest.approx(one + 5e-3, rel=1e-9)
    assert delays.downlink(0, 0, 1.0 + one / 2) == pytest.approx(one / 2 + one + 5e-3,
                                                               rel=1e-9)  # FIFO behind it
    assert delays.downlink(0, 0, 0.8) == pytest.approx(one + 5e-3, rel=1e-9)  # not behind
    assert delays.downlink(0, 0, 1.0 + one) == pytest.approx(one + one + 5e-3, rel=1e-9)


def test_a_site_late_with_its_load_report_is_slow_not_down_until_three_in_a_row() -> None:
    """A live integrator's review: a site whose event loop a heavy model starved answered its
    load report late once and its gateway took it for down (91 of 160 requests dropped
    site_failure). Late reports count as down only three times running; a refused call (a
    killed process) at once; a good report resets the count."""
    import grpc

    from airan.live.gateway import LATE_REPORTS_DOWN

    class _Stub:
        def __init__(self, codes: list[Any]) -> None:
            self.codes = codes

        async def load(self, timeout_s: float) -> Any:
            code = self.codes.pop(0)
            if code is None:
                return wire.LoadReport(name="s", healthy=True)
            raise grpc.aio.AioRpcError(code, None, None)

    g = _gateway("gateway", [_LinkStub(0.001), _LinkStub(0.001)])
    late = grpc.StatusCode.DEADLINE_EXCEEDED
    view = g.views[0]
    codes = [late, late, None, late, late, late, grpc.StatusCode.UNAVAILABLE]
    view.stub = _Stub(codes)  # type: ignore[assignment]
    seen = []
    for _ in range(6):
        asyncio.run(g._poll_one(view))
        seen.append(view.healthy)
    assert LATE_REPORTS_DOWN == 3
    assert seen == [True, True, True, True, True, False]
    view.healthy = True
    asyncio.run(g._poll_one(view))
    assert view.healthy is False  # refused: down at once


def test_the_gateway_compiles_its_delays_before_serving_and_leaves_their_bookings_as_they_were(
) -> None:
    """A fresh install's first live run answered its first half-second 0.2-0.8 s late: the
    gateway compiled the transport's hop (numba, a specialization of its own) on the first
    request. Its warm-up crosses every leg once, as a request would, then undoes the bookings:
    a request's transport after it compiles nothing new, and the links and device links are
    free as before."""
    g = _gateway("gateway", [_LinkStub(0.001), _LinkStub(0.001)])
    d = g.delays
    d.link_free[:] = 0.25  # (bookings of its own, to be kept)
    d.dl_last[:] = 0.5
    before = [a.copy() for a in (d.ul_free, d.dl_free, d.dl_last, d.link_free, d.link_last)]
    g._warm_up()
    for a, b in zip((d.ul_free, d.dl_free, d.dl_last, d.link_free, d.link_last), before,
                    strict=True):
        assert np.array_equal(a, b)
    # in a process of its own (the suite's earlier tests compile the hop whatever the warm-up
    # does, a diff review): the warm-up adds the gateway's specialization, a request none
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import json, sys, numpy as np\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_live_gateway_timing import _gateway, _LinkStub\n"
        "from airan.transport.pipeline import message_hop\n"
        "g = _gateway('gateway', [_LinkStub(0.001), _LinkStub(0.001)])\n"
        "before = len(message_hop.signatures)\n"
        "g._warm_up()\n"
        "warm = len(message_hop.signatures)\n"
        "w, d = g.world, g.delays\n"
        "node = int(w.cell_node[int(w.dev_cell[0])])\n"
        "site = int(np.flatnonzero((w.path_links[node] >= 0).any(axis=1))[0])\n"
        "d.transport(w.path_links[node, site], float(w.svc_ul_bits[0]), 1.0, 1e-3)\n"
        "d.transport(w.path_links_back[site, node], float(w.svc_dl_bits[0]), 1.0)\n"
        "print(json.dumps([before, warm, len(message_hop.signatures)]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=True)
    before_n, warm_n, after_n = json.loads(done.stdout.strip().splitlines()[-1])
    assert warm_n > before_n and after_n == warm_n
