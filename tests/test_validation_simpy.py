"""Validation of the whole request pipeline against an independent SimPy model.

The scenario: ``N`` devices with Poisson arrivals, each with its own fixed-rate FIFO uplink and
downlink (serialization ``bits / rate`` then a fixed latency), one transport link between the cell
site and an edge node (fibre propagation 4.9 us/km + hop delay, serialization ``bits / capacity``,
FIFO and store-and-forward, one queue per direction), and one GPU with dynamic batching
(``max_batch`` 4, ``max_wait`` 2 ms) at a load where batching matters (GPU utilization ~0.6).

The SimPy model below is written from the documented rules only (schema docstrings): the GPU,
when free, starts a batch of up to ``max_batch`` queued requests as soon as the queue holds
``max_batch`` or the oldest queued request has waited ``max_wait``; a batch of ``b`` takes
``table[b]`` (the roofline table is taken from airan's world, the only input shared).

Two comparisons:

* replay: SimPy is fed airan's own arrival times and devices. Everything else being
  deterministic, every request's latency must then agree to floating-point precision;
* independent: SimPy draws its own Poisson arrivals; p50 and p95 of the end-to-end latency (and of
  the time spent at the GPU site) must agree within 5%, the GPU utilization and mean batch size
  within 2-3%.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

simpy = pytest.importorskip("simpy")

import airan  # noqa: E402
from airan.engine.engine import Engine  # noqa: E402
from airan.scenario import scenario_from_dict  # noqa: E402

N_DEV = 20
RATE_HZ = 90.0  # per device: 1800 requests/s in all, GPU utilization ~0.6
UL_KB, DL_KB = 15.0, 0.5
UL_MBPS, DL_MBPS, RADIO_LAT_MS = 80.0, 500.0, 2.0
FIBER_KM, CAP_GBPS, HOP_US = 10.0, 1.0, 5.0
MAX_BATCH, MAX_WAIT_MS = 4, 2.0
DURATION_S = 20.0


def pipeline_scenario(*, seed: int, duration_s: float = DURATION_S, trace_limit: int = 10_000_000):
    return scenario_from_dict({
        "name": "validation-pipeline",
        "duration_s": duration_s,
        "seed": seed,
        "policy": "nearest-edge",
        "radio": {"model": "fixed", "fixed_ul_rate_mbps": UL_MBPS, "fixed_dl_rate_mbps": DL_MBPS,
                  "fixed_latency_ms": RADIO_LAT_MS},
        "cell_sites": [{"name": "c0", "position_m": [5, 5], "sectors": 1}],
        "nodes": [{"name": "edge"}],
        "compute_sites": [{
            "name": "gpu", "at": "edge", "kind": "edge",
            "gpus": [{"type": "H100", "count": 1}],
            "queue_limit": 1_000_000,
            "batching": {"max_batch": MAX_BATCH, "max_wait_ms": MAX_WAIT_MS},
        }],
        "transport": {"hop_delay_us": HOP_US, "links": [
            {"a": "c0", "b": "edge", "fiber_km": FIBER_KM, "capacity_gbps": CAP_GBPS}]},
        "fleets": [{"name": "f", "count": N_DEV, "area": {"x_m": [0, 10], "y_m": [0, 10]},
                    "services": ["s"], "ul_buffer_kb": 1_000_000}],
        "services": [{"name": "s", "model": "yolov8s", "rate_hz": RATE_HZ, "arrivals": "poisson",
                      "ul_kb": UL_KB, "dl_kb": DL_KB, "deadline_ms": 10_000}],
        "engine": {"trace_limit": trace_limit, "trace_sample": 0.0},
    })


def batch_table_s(sc) -> np.ndarray:
    """``table[b]``: the service time of a batch of ``b`` on the site's GPU, from airan's world."""
    w = Engine(sc).world
    table = np.asarray(w.svc_time_s[w.svc_model[0], w.gpu_type[w.site_gpu_start[0]]], float)
    assert table.shape[0] == MAX_BATCH + 1
    assert np.all(np.diff(table[1:]) >= 0) and table[1] > 0
    return table


def run_airan(sc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # uint64 seed hashing in state.py
        return airan.run(sc)


def simpy_pipeline(arrivals_t: np.ndarray, arrivals_dev: np.ndarray, table: np.ndarray) -> dict:
    """An independent SimPy model of the pipeline; returns per-request times (s) and GPU stats."""
    ul_bits, dl_bits = UL_KB * 8e3, DL_KB * 8e3
    ul_bps, dl_bps, radio_lat = UL_MBPS * 1e6, DL_MBPS * 1e6, RADIO_LAT_MS * 1e-3
    cap_bps = CAP_GBPS * 1e9
    link_delay = FIBER_KM * 4.9e-6 + HOP_US * 1e-6
    max_wait = MAX_WAIT_MS * 1e-3

    env = simpy.Environment()
    ul = [simpy.Resource(env, capacity=1) for _ in range(N_DEV)]
    dl = [simpy.Resource(env, capacity=1) for _ in range(N_DEV)]
    link_up = simpy.Resource(env, capacity=1)
    link_down = simpy.Resource(env, capacity=1)
    queue: collections.deque = collections.deque()  # (arrival time at the site, done event)
    wake = {"ev": env.event()}
    n = len(arrivals_t)
    latency = np.full(n, np.nan)
    at_site = np.full(n, np.nan)  # from arrival at the compute site to the end of its batch
    gpu = {"busy": 0.0, "batches": 0, "timer_batches": 0}

    def gpu_loop():
        while True:
            if not queue:
                wake["ev"] = env.event()
                yield wake["ev"]
                continue
            oldest = queue[0][0]
            if len(queue) >= MAX_BATCH or env.now >= oldest + max_wait - 1e-12:
                b = min(MAX_BATCH, len(queue))
                items = [queue.popleft() for _ in range(b)]
                gpu["busy"] += table[b]
                gpu["batches"] += 1
                gpu["timer_batches"] += b < MAX_BATCH
                yield env.timeout(table[b])
                for _, done in items:
                    done.succeed()
            else:  # wait for another request or for the oldest to reach max_wait
                wake["ev"] = env.event()
                yield wake["ev"] | env.timeout(oldest + max_wait - env.now)

    def fifo_link(res, bits, bps, delay):
        with res.request() as req:
            yield req
            yield env.timeout(bits / bps)
        yield env.timeout(delay)  # propagation: the link is free for the next message

    def request(i, dev, t0):
        yield from fifo_link(ul[dev], ul_bits, ul_bps, radio_lat)
        yield from fifo_link(link_up, ul_bits, cap_bps, link_delay)
        t_site = env.now
        done = env.event()
        queue.append((t_site, done))
        if not wake["ev"].triggered:
            wake["ev"].succeed()
        yield done
        at_site[i] = env.now - t_site
        yield from fifo_link(link_down, dl_bits, cap_bps, link_delay)
        yield from fifo_link(dl[dev], dl_bits, dl_bps, radio_lat)
        latency[i] = env.now - t0

    def source():
        for i in range(n):
            t = float(arrivals_t[i])
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(request(i, int(arrivals_dev[i]), t))

    env.process(gpu_loop())
    env.process(source())
    env.run()
    return {"latency_s": latency, "at_site_s": at_site, **gpu}


def poisson_arrivals(rng: np.random.Generator, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    ts, devs = [], []
    for d in range(N_DEV):
        k = int(RATE_HZ * duration_s * 1.5 + 100)
        t = np.cumsum(rng.exponential(1.0 / RATE_HZ, size=k))
        assert t[-1] > duration_s
        t = t[t < duration_s]
        ts.append(t)
        devs.append(np.full(len(t), d))
    t = np.concatenate(ts)
    dev = np.concatenate(devs)
    order = np.argsort(t, kind="stable")
    return t[order], dev[order]


@pytest.fixture(scope="module")
def airan_run():
    sc = pipeline_scenario(seed=5)
    res = run_airan(sc)
    return sc, res


def test_airan_run_is_clean(airan_run):
    _, res = airan_run
    s = res.summary
    assert s["requests"]["dropped"] == 0
    assert s["trace"]["complete"]
    assert s["requests"]["created"] == pytest.approx(N_DEV * RATE_HZ * DURATION_S, rel=0.02)
    site = s["sites"]["gpu"]
    assert 0.5 < site["gpu_utilization"] < 0.7  # the load the test is meant for
    assert 1.5 < site["mean_batch"] < MAX_BATCH - 0.1  # batching matters, batches not all full


def test_simpy_replay_of_airan_arrivals_matches_per_request(airan_run):
    """Same arrivals in SimPy: every request's latency and GPU-site time agree exactly."""
    sc, res = airan_run
    tab = res.requests
    created = np.asarray(tab["created_s"])
    dev = np.asarray(tab["device"])
    lat_ms = np.asarray(tab["latency_ms"])
    site_ms = np.asarray(tab["queue_ms"]) + np.asarray(tab["compute_ms"])
    order = np.argsort(created, kind="stable")
    created, dev, lat_ms, site_ms = created[order], dev[order], lat_ms[order], site_ms[order]

    sim = simpy_pipeline(created, dev, batch_table_s(sc))
    # requests still in flight at the end are not in airan's trace: compare the ones whose
    # neighbours (batch mates, link queues) all finished within the run
    keep = created < DURATION_S - 0.2
    assert keep.sum() > 30_000
    np.testing.assert_allclose(sim["latency_s"][keep] * 1e3, lat_ms[keep], rtol=0, atol=1e-6)
    np.testing.assert_allclose(sim["at_site_s"][keep] * 1e3, site_ms[keep], rtol=0, atol=1e-6)
    gpu = res.summary["sites"]["gpu"]
    assert gpu["batches"] == pytest.approx(sim["batches"], abs=3)
    assert gpu["gpu_utilization"] == pytest.approx(sim["busy"] / DURATION_S, rel=0.002)
    # the closed-form floor: a request that waits nowhere and runs alone in a batch of one
    table = batch_table_s(sc)
    floor_ms = (UL_KB * 8e3 / (UL_MBPS * 1e6) + UL_KB * 8e3 / (CAP_GBPS * 1e9)
                + DL_KB * 8e3 / (CAP_GBPS * 1e9) + DL_KB * 8e3 / (DL_MBPS * 1e6)
                + 2 * (FIBER_KM * 4.9e-6 + HOP_US * 1e-6) + 2 * RADIO_LAT_MS * 1e-3
                + table[1]) * 1e3
    assert np.nanmin(lat_ms) >= floor_ms - 1e-6  # (NaN: in flight at the end)
    assert np.nanmin(lat_ms) < floor_ms + MAX_WAIT_MS + 0.5


def test_simpy_independent_poisson_quantiles(airan_run):
    """SimPy with its own Poisson arrivals: p50 and p95 within 5%."""
    sc, res = airan_run
    t, dev = poisson_arrivals(np.random.default_rng(2024), DURATION_S)
    sim = simpy_pipeline(t, dev, batch_table_s(sc))
    warm = t >= 0.5
    sim_lat = sim["latency_s"][warm] * 1e3
    sim_site = sim["at_site_s"][warm] * 1e3
    assert np.isfinite(sim_lat).all()

    tab = res.requests
    created = np.asarray(tab["created_s"])
    a_warm = (created >= 0.5) & np.isfinite(np.asarray(tab["latency_ms"]))  # ended ones
    a_lat = np.asarray(tab["latency_ms"])[a_warm]
    a_site = (np.asarray(tab["queue_ms"]) + np.asarray(tab["compute_ms"]))[a_warm]

    for q in (50, 95):
        assert np.percentile(a_lat, q) == pytest.approx(np.percentile(sim_lat, q), rel=0.05), q
        assert np.percentile(a_site, q) == pytest.approx(np.percentile(sim_site, q), rel=0.05), q
    # the summary's histogram percentiles (<= 0.5% bucket error) agree too
    lat = res.summary["services"]["s"]["latency_ms"]
    assert lat["p50"] == pytest.approx(np.percentile(sim_lat, 50), rel=0.05)
    assert lat["p95"] == pytest.approx(np.percentile(sim_lat, 95), rel=0.05)

    gpu = res.summary["sites"]["gpu"]
    n_sim = len(t)
    assert gpu["gpu_utilization"] == pytest.approx(sim["busy"] / DURATION_S, rel=0.03)
    assert gpu["mean_batch"] == pytest.approx(n_sim / sim["batches"], rel=0.02)
    assert sim["timer_batches"] / sim["batches"] > 0.05  # max_wait does start batches
