"""Compute sites replayed exactly against an independent model of their documented rules.

The rules (docs/model.md's 'compute' row, ``scenario.schema.Batching``): each model has a FIFO
queue at the site; a GPU with a free instance of the model (``instances`` per GPU) starts a
batch of up to ``max_batch`` of its requests when ``max_batch`` wait or the oldest has waited
``max_wait_ms``; the batch goes to the GPU running the fewest batches (then the one free
soonest); when several models are ready, the one whose oldest request came first goes first;
batches running on one GPU at once share it equally (processor sharing).

``_reference`` is an event-by-event simulation of these rules written for this test (no airan
code), fed with the times airan's requests reach the site (ideal radio, zero transport: their
creation times). Every request's queueing and compute time must agree to 1e-9 ms, including
the timer wake-ups and GPU choice of GPUs that run several batches at once, which the SimPy
cross-check (one model, one GPU) and the statistical sharing tests do not pin down. Batch
times are odd numbers, so no two events tie.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pytest

import airan
from airan.engine import Engine
from airan.scenario import scenario_from_dict

DURATION_S = 1.0


def _service(name: str, rate_hz: float, batch_ms: dict[int, float],
             arrivals: str = "periodic") -> dict[str, Any]:
    return {"name": name, "model": "yolov8s", "rate_hz": rate_hz, "arrivals": arrivals,
            "deadline_ms": 10_000, "service_time": {"dist": "fixed", "batch_ms": batch_ms}}


def _scenario(services: list[dict[str, Any]], *, gpus: int, instances: int, max_batch: int,
              max_wait_ms: float) -> Any:
    return scenario_from_dict({
        "name": "batching", "duration_s": DURATION_S, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "c0", "position_m": [5, 5], "sectors": 1}],
        "compute_sites": [{"name": "gpu", "at": "c0", "gpus": [{"type": "H100", "count": gpus}],
                           "queue_limit": 100_000,
                           "batching": {"max_batch": max_batch, "max_wait_ms": max_wait_ms,
                                        "instances": instances}}],
        "transport": {"hop_delay_us": 0},
        "fleets": [{"name": "f", "count": 8, "area": {"x_m": [0, 10], "y_m": [0, 10]},
                    "services": [s["name"] for s in services], "ul_buffer_kb": 1_000_000}],
        "services": services,
        "engine": {"trace_limit": 1_000_000, "trace_sample": 0.0},
    })


def _reference(arrive_s: np.ndarray, queue_of: np.ndarray, batch_s: dict[str, np.ndarray], *,
               gpus: int, instances: int, max_batch: int, max_wait_s: float,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (s) of every request's computation under the rules above."""
    n = len(arrive_s)
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    queues: dict[str, collections.deque[int]] = {k: collections.deque() for k in batch_s}
    running: list[list[list[Any]]] = [[] for _ in range(gpus)]  # [work left (s), model, ids]
    free_at = [0.0] * gpus  # when each GPU's work so far ends (its backlog)
    order = iter(np.argsort(arrive_s, kind="stable").tolist())
    nxt = next(order, None)
    t = 0.0

    def gpu_for(model: str) -> int | None:
        free = [g for g in range(gpus)
                if sum(b[1] == model for b in running[g]) < instances]
        return min(free, key=lambda g: (len(running[g]), free_at[g], g)) if free else None

    def start_batches() -> None:
        while True:
            ready = [(arrive_s[q[0]], m) for m, q in queues.items() if q and gpu_for(m) is not None
                     and (len(q) >= max_batch or arrive_s[q[0]] + max_wait_s <= t + 1e-12)]
            if not ready:
                return
            _, m = min(ready)
            g = gpu_for(m)
            assert g is not None
            ids = [queues[m].popleft() for _ in range(min(max_batch, len(queues[m])))]
            work = float(batch_s[m][len(ids)])
            start[ids] = t
            running[g].append([work, m, ids])
            free_at[g] = max(free_at[g], t) + work

    while True:
        due = [arrive_s[nxt]] if nxt is not None else []
        due += [t + min(b[0] for b in r) * len(r) for r in running if r]  # a batch ends
        due += [arrive_s[q[0]] + max_wait_s for m, q in queues.items()  # a timer runs out
                if q and gpu_for(m) is not None and arrive_s[q[0]] + max_wait_s > t]
        if not due:
            break
        t_next = min(due)
        for r in running:  # processor sharing: each of k batches advances at 1/k
            for b in r:
                b[0] -= (t_next - t) / len(r)
        t = t_next
        for r in running:
            for b in [b for b in r if b[0] <= 1e-12]:
                r.remove(b)
                end[b[2]] = t
        start_batches()
        while nxt is not None and arrive_s[nxt] <= t:
            queues[str(queue_of[nxt])].append(nxt)
            nxt = next(order, None)
            start_batches()
    return start, end


CASES = {
    "one model, one GPU": (
        [_service("s", 200.0, {1: 1.0137, 4: 2.5291})], dict(gpus=1, instances=1)),
    "one model, two GPUs, Poisson": (
        [_service("s", 300.0, {1: 1.0137, 8: 4.0911}, "poisson")],
        dict(gpus=2, instances=1, max_batch=8, max_wait_ms=5.0)),
    "two models sharing one GPU": (
        [_service("a", 97.31, {1: 1.0137, 4: 2.5291}), _service("b", 19.77, {1: 8.0731})],
        dict(gpus=1, instances=1)),
    "two instances of one model per GPU": (
        [_service("s", 150.0, {1: 1.0137, 4: 2.5291})], dict(gpus=1, instances=2)),
    "two models, two GPUs, two instances each": (
        [_service("a", 147.3, {1: 1.0137, 4: 2.5291}), _service("b", 39.1, {1: 8.0731})],
        dict(gpus=2, instances=2)),
    "three GPUs, two instances, batches of two, Poisson": (
        [_service("s", 311.3, {1: 1.0137, 2: 1.7291}, "poisson")],
        dict(gpus=3, instances=2, max_batch=2, max_wait_ms=3.0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_request_queues_and_computes_as_the_documented_rules_say(case: str) -> None:
    services, site = CASES[case]
    knobs = {"max_batch": 4, "max_wait_ms": 2.0} | site
    sc = _scenario(services, **knobs)
    world = Engine(sc).world
    gpu_type = world.gpu_type[world.site_gpu_start[0]]
    batch_s = {name: np.asarray(world.svc_time_s[world.svc_model[v], gpu_type])
               for v, name in enumerate(world.service_names)}
    t = {k: np.asarray(v) for k, v in airan.run(sc).requests.to_pydict().items()}
    arrive = t["created_s"]  # ideal radio, no transport: a request reaches the site at once
    assert np.all(t["ul_wait_ms"] + t["ul_air_ms"] + t["ul_transport_ms"] == 0.0)
    start, end = _reference(arrive, t["service"], batch_s, gpus=knobs["gpus"],
                            instances=knobs["instances"], max_batch=knobs["max_batch"],
                            max_wait_s=knobs["max_wait_ms"] * 1e-3)
    done = np.isfinite(t["compute_ms"])
    assert done.sum() > 0.9 * len(arrive) > 50
    assert np.all(np.isfinite(end[done]))  # everything airan finished, the reference did too
    np.testing.assert_allclose(t["queue_ms"][done], (start[done] - arrive[done]) * 1e3,
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["compute_ms"][done], (end[done] - start[done]) * 1e3,
                               rtol=0, atol=1e-9)
    # where batches can run side by side, some did (and took longer than any batch alone)
    alone_ms = np.array([batch_s[m][1:].max() * 1e3 for m in t["service"]])
    side_by_side = np.any(t["compute_ms"][done] > alone_ms[done] + 1e-6)
    assert side_by_side == (len(services) > 1 or knobs["instances"] > 1)
