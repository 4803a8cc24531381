"""Validation of the GPU queue against closed-form queueing theory.

Ideal radio (no radio delay), the compute site at the cell site (no transport), Poisson arrivals
from many devices (their superposition is Poisson with the aggregate rate), ``max_batch: 1`` (no
batching) and a service time that replaces the roofline. The waiting time in the queue must then
match the textbook results:

* M/D/1, Pollaczek-Khinchine: ``Wq = rho S / (2 (1 - rho))``;
* M/M/1: ``Wq = rho / (mu - lambda)``;
* M/M/c, Erlang C: ``Wq = C(c, a) / (c mu - lambda)`` with ``a = lambda / mu``.

Every expected value below is computed from these formulas, never taken from airan's output.
Runs are long (hundreds of thousands of requests) so that the statistical error of the mean waiting
time is about 1% (measured over 10 seeds), well inside the 5% tolerance.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import airan
from airan.scenario import scenario_from_dict

N_DEVICES = 100
SITE = "gpu"


def queue_scenario(*, lam_hz: float, service_ms: float, dist: str, gpus: int = 1,
                   duration_s: float, seed: int, trace_limit: int = 0):
    """One cell, ideal radio, GPUs at the cell site, aggregate Poisson rate ``lam_hz``."""
    return scenario_from_dict({
        "name": f"validation-queue-{dist}-{gpus}",
        "duration_s": duration_s,
        "seed": seed,
        "policy": "nearest-edge",
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "c0", "position_m": [5, 5], "sectors": 1}],
        "compute_sites": [{
            "name": SITE, "at": "c0", "kind": "edge",
            "gpus": [{"type": "H100", "count": gpus}],
            "queue_limit": 10_000_000,
            "batching": {"max_batch": 1, "max_wait_ms": 0},
        }],
        "transport": {"hop_delay_us": 0},
        "fleets": [{"name": "f", "count": N_DEVICES, "area": {"x_m": [0, 10], "y_m": [0, 10]},
                    "services": ["s"]}],
        "services": [{
            "name": "s", "model": "yolov8s", "rate_hz": lam_hz / N_DEVICES, "arrivals": "poisson",
            "deadline_ms": 10_000, "service_time": {"dist": dist, "mean_ms": service_ms},
        }],
        # the policy (nearest-edge) ignores the snapshot: a long decision interval only saves
        # Python overhead, it does not change when requests are created or served
        "engine": {"trace_limit": trace_limit, "trace_sample": 0.0, "decision_interval_ms": 100},
    })


def run(sc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # uint64 seed hashing in state.py
        return airan.run(sc)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load ``a = lambda / mu`` (< c)."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


def wq_md1(rho: float, s: float) -> float:
    return rho * s / (2 * (1 - rho))


def wq_mm1(lam: float, mu: float) -> float:
    return (lam / mu) / (mu - lam)


def wq_mmc(c: int, lam: float, mu: float) -> float:
    return erlang_c(c, lam / mu) / (c * mu - lam)


def test_erlang_c_formula():
    # textbook values: C(1, a) = a (M/M/1), C(2, 1) = 1/3, C(4, 3.2) from the recursion on Erlang B
    assert erlang_c(1, 0.8) == pytest.approx(0.8)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    b = 1.0
    for k in range(1, 5):  # Erlang B recursion, then C = B / (1 - rho (1 - B))
        b = 3.2 * b / (k + 3.2 * b)
    assert erlang_c(4, 3.2) == pytest.approx(b / (1 - 0.8 * (1 - b)))
    assert wq_mmc(1, 800.0, 1000.0) == pytest.approx(wq_mm1(800.0, 1000.0))


def _check(summary, *, lam: float, s_ms: float, gpus: int, wq_ms: float, duration_s: float):
    svc = summary["services"]["s"]
    site = summary["sites"][SITE]
    rho = lam * s_ms * 1e-3 / gpus
    served = svc["met"] + svc["late"]
    # the run is long enough and nothing is dropped
    assert served >= 200_000
    assert svc["dropped"] == 0
    assert served == pytest.approx(lam * duration_s, rel=0.01)
    bd = svc["breakdown_ms"]
    for k in ("ul_wait", "ul_air", "ul_transport", "dl_transport", "dl_air"):
        assert bd[k] == pytest.approx(0.0, abs=1e-9), k
    assert bd["compute"] == pytest.approx(s_ms, rel=0.02)
    assert bd["queue"] == pytest.approx(wq_ms, rel=0.05)
    assert site["gpu_utilization"] == pytest.approx(rho, rel=0.02)
    assert site["mean_batch"] == pytest.approx(1.0)
    # Little's law: the time-averaged number waiting is the arrival rate times the mean wait
    assert site["mean_queue"] == pytest.approx(lam * wq_ms * 1e-3, rel=0.05)
    # end to end = queue + compute (everything else is zero)
    assert svc["latency_ms"]["mean"] == pytest.approx(wq_ms + s_ms, rel=0.05)


def test_md1_rho_05_trace_and_summary():
    """M/D/1 at rho = 0.5: the trace (after a warm-up) and the summary both match P-K."""
    lam, s_ms, dur = 500.0, 1.0, 500.0
    res = run(queue_scenario(lam_hz=lam, service_ms=s_ms, dist="fixed", duration_s=dur, seed=11,
                             trace_limit=1_000_000))
    wq = wq_md1(0.5, s_ms)  # 0.5 ms
    _check(res.summary, lam=lam, s_ms=s_ms, gpus=1, wq_ms=wq, duration_s=dur)
    tab = res.requests
    assert res.summary["trace"]["complete"]
    created = np.asarray(tab["created_s"])
    keep = created >= 1.0  # discard a 1 s warm-up from an empty system
    q = np.asarray(tab["queue_ms"])[keep]
    comp = np.asarray(tab["compute_ms"])[keep]
    assert len(q) >= 200_000
    assert np.isfinite(q).all()
    assert q.min() >= -1e-9
    assert q.mean() == pytest.approx(wq, rel=0.05)
    np.testing.assert_allclose(comp, s_ms, rtol=0, atol=1e-9)  # deterministic service
    # P-K also gives the probability of not waiting: 1 - rho
    assert np.mean(q < 1e-9) == pytest.approx(0.5, abs=0.01)
    lat = np.asarray(tab["latency_ms"])[keep]
    np.testing.assert_allclose(lat, q + comp, rtol=0, atol=1e-9)


def test_md1_rho_08():
    lam, s_ms, dur = 800.0, 1.0, 1000.0
    res = run(queue_scenario(lam_hz=lam, service_ms=s_ms, dist="fixed", duration_s=dur, seed=12))
    _check(res.summary, lam=lam, s_ms=s_ms, gpus=1, wq_ms=wq_md1(0.8, s_ms), duration_s=dur)


def test_mm1_rho_08():
    lam, s_ms, dur = 800.0, 1.0, 1500.0
    res = run(queue_scenario(lam_hz=lam, service_ms=s_ms, dist="exponential", duration_s=dur,
                             seed=13))
    wq = wq_mm1(lam, 1e3 / s_ms) * 1e3  # 4 ms
    _check(res.summary, lam=lam, s_ms=s_ms, gpus=1, wq_ms=wq, duration_s=dur)


def test_mm4_rho_08_erlang_c():
    lam, s_ms, dur, c = 3200.0, 1.0, 1000.0, 4
    res = run(queue_scenario(lam_hz=lam, service_ms=s_ms, dist="exponential", gpus=c,
                             duration_s=dur, seed=14))
    wq = wq_mmc(c, lam, 1e3 / s_ms) * 1e3  # ~0.746 ms
    _check(res.summary, lam=lam, s_ms=s_ms, gpus=c, wq_ms=wq, duration_s=dur)
    assert res.summary["sites"][SITE]["gpus"] == c


def wq_mdc_cosmetatos(c: int, lam: float, mu: float) -> float:
    """M/D/c's mean wait by Cosmetatos's correction of half M/M/c's (Cosmetatos, "Some
    approximate equilibrium results for the multi-server queue (M/G/r)", Oper. Res. Q. 27,
    1976; within about 1% of the exact M/D/c at rho 0.8)."""
    rho = lam / (c * mu)
    corr = 1 + (1 - rho) * (c - 1) * (math.sqrt(4 + 5 * c) - 2) / (16 * rho * c)
    return 0.5 * wq_mmc(c, lam, mu) * corr


@pytest.mark.parametrize("policy", ["deadline-aware", "least-loaded"])
def test_four_one_gpu_sites_queue_as_one_four_gpu_site_md4(policy: str) -> None:
    """Four one-GPU sites at one node, 1 ms jobs at rho 0.8, decided every 5 ms: sending each
    request where it finishes soonest, the batch's earlier requests counted where they went,
    is one shared queue, M/D/4 (0.385 ms). A researcher's review: deadline-aware counted only
    the first choices and sent a decision's 16 requests to one runner-up, 5.3 ms."""
    lam, s_ms, dur, c = 3200.0, 1.0, 60.0, 4
    d = queue_scenario(lam_hz=lam, service_ms=s_ms, dist="fixed", duration_s=dur,
                       seed=15).model_dump(mode="json", exclude_unset=True)
    site = d["compute_sites"][0]
    d["compute_sites"] = [{**site, "name": f"g{i}"} for i in range(c)]
    d["policy"] = policy
    d["engine"]["decision_interval_ms"] = 5.0
    summary = run(scenario_from_dict(d)).summary
    svc = summary["services"]["s"]
    assert svc["dropped"] == 0 and svc["met"] + svc["late"] > 0.99 * lam * dur
    wq = wq_mdc_cosmetatos(c, lam, 1e3 / s_ms) * 1e3
    assert svc["breakdown_ms"]["queue"] == pytest.approx(wq, rel=0.06)
    for i in range(c):
        assert summary["sites"][f"g{i}"]["gpu_utilization"] == pytest.approx(0.8, abs=0.03)


@pytest.mark.parametrize(("rho", "limit"), [(0.9, 4), (1.2, 10)])
def test_queue_limit_drops_as_mm1k_blocks(rho: float, limit: int):
    """M/M/1/K: a site whose queue holds ``queue_limit`` requests besides the one computing is
    K = limit + 1; an arrival finding K in the system is dropped (``queue_full``) with the
    blocking probability (1 - rho) rho^K / (1 - rho^(K+1)) (Kleinrock 1975, 3.6), also past
    rho = 1."""
    s_ms, dur = 1.0, 400.0
    lam = rho * 1e3 / s_ms
    d = queue_scenario(lam_hz=lam, service_ms=s_ms, dist="exponential", duration_s=dur,
                       seed=16).model_dump()
    d["compute_sites"][0]["queue_limit"] = limit
    summary = run(scenario_from_dict(d)).summary
    k = limit + 1
    p_block = (1 - rho) * rho**k / (1 - rho ** (k + 1))
    req = summary["requests"]
    assert req["dropped_by_reason"] == {"queue_full": req["dropped"]}
    assert req["dropped"] / req["created"] == pytest.approx(p_block, rel=0.05)


def test_mm2_downlink_transport_is_fifo_in_time_order():
    """M/M/2 behind a lightly loaded transport link: the answers' trip back is serialization plus
    propagation (link utilization ~0.1%, so essentially no queueing on the link)."""
    lam, s_ms, dur, c = 1000.0, 1.0, 100.0, 2
    d = queue_scenario(lam_hz=lam, service_ms=s_ms, dist="exponential", gpus=c, duration_s=dur,
                       seed=15).model_dump()
    d["nodes"] = [{"name": "edge"}]
    d["compute_sites"][0]["at"] = "edge"
    d["transport"] = {"hop_delay_us": 0, "links": [
        {"a": "c0", "b": "edge", "fiber_km": 1.0, "capacity_gbps": 10.0}]}
    for v in d["services"]:
        v["dl_kb"] = 1.0
    res = run(scenario_from_dict(d))
    bd = res.summary["services"]["s"]["breakdown_ms"]
    up_ms = (15.0 * 8e3 / 10e9 + 1.0 * 4.9e-6) * 1e3  # default ul_kb 15
    down_ms = (1.0 * 8e3 / 10e9 + 1.0 * 4.9e-6) * 1e3
    assert bd["ul_transport"] == pytest.approx(up_ms, rel=0.05)
    assert bd["queue"] == pytest.approx(wq_mmc(c, lam, 1e3 / s_ms) * 1e3, rel=0.05)
    assert bd["dl_transport"] == pytest.approx(down_ms, rel=0.05)  # got 0.334 ms vs 0.0057 ms


def test_work_counts_three_events_per_request_and_no_radio_visits_with_ideal_radio() -> None:
    """``Engine.work`` (what benchmarks report per request) counts exactly: with an ideal radio
    and no batching, a finished request is three events (it reaches the GPU, its batch of one
    ends, its answer reaches the device) and the schedulers visit no UE."""
    from airan.engine import Engine

    sc = queue_scenario(lam_hz=500, service_ms=1.0, dist="fixed", duration_s=2.0, seed=5)
    engine = Engine(sc)
    result = engine.run()
    req = result.summary["requests"]
    work = engine.work
    finished = req["met"] + req["late"]
    assert req["dropped"] == 0 and finished > 900
    assert work["requests"] == req["created"]
    assert work["ul_ue_slots"] == 0 and work["dl_ue_slots"] == 0
    assert 3 * finished <= work["events"] <= 3 * finished + 2 * req["in_flight"]
