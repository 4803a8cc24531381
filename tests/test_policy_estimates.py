"""The built-in policies against what the engine then does with their choices.

least-loaded: only sites the request's cell reaches, each request at its own service's GPU
time. deadline-aware: its estimate of each part against the request's realised latency on an
uncongested scenario, request by request.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import airan
from airan.engine import Engine
from airan.policy.base import LOCAL, Batch, Snapshot
from airan.policy.builtin import least_loaded
from airan.scenario import load_scenario, scenario_from_dict


def _factory(**changes: Any) -> dict[str, Any]:
    d = load_scenario("factory").model_dump(mode="json")
    d.update(changes)
    return d


def test_least_loaded_sends_no_request_where_its_cell_has_no_path() -> None:
    """The link to the cloud is cut at 0.5 s: the cloud is still up, but no cell reaches it.
    least-loaded kept sending its share there, and the engine dropped them (no_route): 694 of
    ~800 requests after the cut in a reviewer's run."""
    d = _factory(faults=[{"kind": "link_down", "start_s": 0.5,
                          "link": ["regional-edge", "cloud"]}])
    for f, count in zip(d["fleets"], [40, 12, 6], strict=True):
        f["count"] = count
    res = airan.run(scenario_from_dict(d), policy="least-loaded", duration_s=1.5, seed=1)
    t = res.requests
    after = np.asarray(t.column("created_s").to_numpy()) > 0.6
    outcome = Counter(np.asarray(t.column("outcome").to_pylist())[after])
    assert sum(outcome.values()) > 500
    assert outcome["dropped:no_route"] == 0, outcome  # (before: those under way at the cut)


def test_least_loaded_counts_each_request_at_its_own_service_time() -> None:
    """The greedy assignment counts each request at its own service's GPU time, whichever
    service comes first in the batch: it used the first request's GPU time for all of them."""
    eng = Engine(load_scenario("factory"), policy="least-loaded", duration_s=0.5)
    eng.step(200)
    snap = Snapshot(eng)
    w = eng.world
    detect, vla = w.service_names.index("detect"), w.service_names.index("vla")
    cell = np.full(10, int(w.dev_cell[0]))
    dev = np.zeros(10, dtype=np.int64)
    from airan.policy.base import per_item_time_s

    def placed(services: list[int]) -> np.ndarray:
        batch = Batch(np.zeros(10), dev, np.asarray(services, dtype=np.int64), cell)
        return least_loaded(snap, batch)

    def greedy(services: list[int]) -> list[int]:
        """A reference: one request at a time, each at its own GPU time."""
        load = np.where(snap.site_healthy, snap.site_backlog_s, np.inf).copy()
        out = []
        for v in services:
            s = int(np.argmin(load))
            out.append(s)
            load[s] += per_item_time_s(snap, np.array([v]), np.array([s]))[0]
        return out

    for order in ([vla] + [detect] * 9, [detect] * 9 + [vla]):
        assert placed(order).tolist() == greedy(order)
    # the VLA's GPU time is not a detection's, so the first request's time for all of them
    # would have placed them otherwise
    vla_s = per_item_time_s(snap, np.array([vla, detect]), np.array([0, 0]))
    assert vla_s[0] > 3 * vla_s[1]


def test_least_loaded_breaks_ties_to_the_lower_site_and_skips_sites_out_of_reach() -> None:
    """Equal backlogs go to the lowest site index (as its docstring says, and as numpy's argmin
    would); each request then adds its GPU time, so the next goes to the next site; a site its
    node has no path to is never chosen, nor one that is down (an infinite backlog)."""
    from airan.policy.builtin import _least_loaded_core

    step = np.array([[0.1, 0.1, 0.1]])
    reach = np.array([[1e-3, 1e-3, 1e-3], [np.inf, 1e-3, 1e-3]])
    serves = np.ones((1, 3), dtype=np.bool_)  # (every site serves the service)

    def core(*args: np.ndarray) -> np.ndarray:
        return _least_loaded_core(*args, serves)  # type: ignore[no-any-return]

    three = np.zeros(3, dtype=np.int64)
    assert core(three, three, np.full(3, 1.0), step, reach).tolist() == [0, 1, 2]
    assert core(three + 1, three, np.full(3, 1.0), step, reach).tolist() == [1, 2, 1]
    assert core(three[:1], three[:1], np.array([1.0, np.inf, 1.0]), step,
                reach).tolist() == [0]
    assert core(three[:1] + 1, three[:1], np.array([1.0, np.inf, np.inf]), step,
                reach).tolist() == [-1]
    # nor a site that does not serve the request's service (compute_sites[].services)
    assert _least_loaded_core(three, three, np.full(3, 1.0), step, reach,
                              np.array([[False, True, True]])).tolist() == [1, 2, 1]


def test_a_snapshot_free_policy_decides_like_any_other_when_devices_move() -> None:
    """A policy that reads no load may decide a second of arrivals at once; with moving
    devices the cells they hand over to would then be read a second late (10 of 1,599
    requests placed by a stale cell in a reviewer's run)."""
    from airan.policy.builtin import nearest_edge

    d = load_scenario("city").model_dump(mode="json")
    d["fleets"][0]["count"] = 40
    d["fleets"][0]["mobility"] = {"model": "random_waypoint", "speed_mps": [30, 40],
                                  "pause_s": [0, 0]}
    sc = scenario_from_dict(d)

    def unmarked(snap: Any, batch: Any) -> np.ndarray:
        return nearest_edge(snap, batch)  # type: ignore[no-any-return]

    a = airan.run(sc, policy="nearest-edge", duration_s=4.0, seed=1).requests
    b = airan.run(sc, policy=unmarked, duration_s=4.0, seed=1).requests
    assert a.column("placement").to_pylist() == b.column("placement").to_pylist()


def test_an_unsigned_placement_beyond_the_sites_is_refused_not_wrapped_to_local() -> None:
    import pytest

    from airan.errors import InputError

    def huge(snap: Any, batch: Any) -> np.ndarray:
        return np.full(len(batch), 2**64 - 1, dtype=np.uint64)

    with pytest.raises(InputError, match="invalid placement 18446744073709551615"):
        airan.run(load_scenario("factory"), policy=huge, duration_s=0.05)


def test_deadline_aware_counts_the_batchers_wait_at_an_idle_site() -> None:
    """A lone request at an idle site waits the batcher's max_wait. The estimate left it out:
    with on-prem batching for up to 20 ms and a 15 ms deadline, deadline-aware kept sending
    the AMRs' detections there and met 29% of them, where the regional edge meets 99%."""
    d = _factory()
    for f, count in zip(d["fleets"], [3, 0, 0], strict=True):
        f["count"] = count
    d["fleets"] = d["fleets"][:1]
    d["compute_sites"][0]["batching"]["max_wait_ms"] = 20.0
    d["services"][0]["deadline_ms"] = 15.0
    s = airan.run(scenario_from_dict(d), policy="deadline-aware", duration_s=3.0,
                  seed=1).summary
    assert s["services"]["detect"]["hit_ratio"] > 0.95, s["services"]["detect"]
    assert s["sites"]["on-prem"]["served"] == 0


def test_strict_admission_does_not_reject_for_a_batch_wait_that_others_would_cut_short(
) -> None:
    """An idle site's estimate counts the batcher's whole max_wait (10 ms here) for a request
    that would open a batch: 18.5 ms against an 18 ms deadline. Admission rejected on it, so
    nothing reached the site, which stayed idle: every request rejected, where nearest-edge
    met 99% (40 AMRs at 20 Hz fill a batch of 4 in ~4 ms; a review). Admission now counts
    the wait as the time the decision's requests that may go there take to fill the batch at
    their rate."""
    sc = scenario_from_dict({
        "name": "s6m", "duration_s": 1, "seed": 1, "admission": "strict",
        "radio": {"model": "nr", "environment": "inf-sh"},
        "carrier": {"band": "n78", "bandwidth_mhz": 100, "tdd_pattern": "DDSUU",
                    "tx_power_dbm": 24},
        "cell_sites": [{"name": "cell-a", "position_m": [30, 15], "height_m": 8, "sectors": 1}],
        "nodes": [{"name": "mec", "position_m": [30, 20]}],
        "compute_sites": [{"name": "on-prem", "at": "mec", "kind": "edge",
                           "gpus": [{"type": "L40S", "count": 2}],
                           "batching": {"max_batch": 4, "max_wait_ms": 10}}],
        "transport": {"backhaul": {"to": "mec", "capacity_gbps": 10}},
        "fleets": [{"name": "amr", "count": 40, "area": {"center_m": [30, 15], "radius_m": 30},
                    "device_class": "amr", "services": ["detect"]}],
        "services": [{"name": "detect", "model": "yolov8s", "rate_hz": 20, "ul_kb": 4,
                      "dl_kb": 0.5, "deadline_ms": 18}],
    })
    strict = airan.run(sc, policy="deadline-aware").summary["services"]["detect"]
    edge = airan.run(sc, policy="nearest-edge").summary["services"]["detect"]
    assert edge["hit_ratio"] > 0.95
    assert strict["dropped"] < 0.01 * strict["count"]
    assert strict["hit_ratio"] >= edge["hit_ratio"] - 0.01
    # two devices at 5 Hz: nothing would fill a batch, a request waits the whole 10 ms, and
    # misses a 14 ms deadline: rejected (a review of a first fix, which counted no wait at all
    # at admission, saw them admitted and all late)
    d = sc.model_dump(mode="json")
    d["fleets"][0]["count"], d["services"][0]["rate_hz"] = 2, 5
    d["services"][0]["deadline_ms"] = 14
    for interval_ms in (5, 1):  # (a lone request at 1 ms intervals was taken to have peers)
        d["engine"] = {"decision_interval_ms": interval_ms}
        lone = airan.run(scenario_from_dict(d), policy="deadline-aware").summary["services"]
        assert lone["detect"]["dropped_by_reason"] == {"admission": lone["detect"]["count"]}
    # a deadline no candidate can meet, however its batch fills, is still rejected
    d = sc.model_dump(mode="json")
    d["services"][0]["deadline_ms"] = 3
    tight = airan.run(scenario_from_dict(d), policy="deadline-aware").summary["services"]
    assert tight["detect"]["dropped_by_reason"] == {"admission": tight["detect"]["count"]}


def _packet_terms_s(w: Any, node: Any, sites: Any, bits: Any, up: bool) -> Any:
    """What the policies' transport leaves out, shape (n, k): one of the message's ceil(bits /
    packet) equal packets on each link of the path but the slowest (microseconds)."""
    out = np.zeros(sites.shape)
    for i in range(sites.shape[0]):
        for j in range(sites.shape[1]):
            n, s = int(node[i, 0]), int(sites[i, j])
            links = w.path_links[n, s] if up else w.path_links_back[s, n]
            caps = np.sort(w.link_cap_bps[links[links >= 0]])
            packet = bits[i] / max(1.0, np.ceil(bits[i] / w.packet_bits))
            out[i, j] = np.sum(packet / caps[1:])
    return out


@pytest.mark.parametrize("batch_of_one", [False, True])
def test_deadline_aware_estimate_of_an_unloaded_request_is_what_it_then_takes(
        batch_of_one: bool) -> None:
    """On an unloaded factory, each part the estimate knows exactly (transport, the message at
    the path's slowest link, packets pipelined, less the packet's time on each other link,
    which the estimate leaves out and this test adds, and less, for the upload, what its
    packets crossed while it was still on the air, here from its realised air time; compute)
    equals the request's realised parts, request by request,
    and the batcher's mean wait at the rate the camera's requests arrive at (taken as Poisson:
    ~20/s, one in ~10 within ``max_wait``) is within 5% of the ``max_wait`` it then waits,
    alone. Before: transport one serialization short per extra link
    (21.85 against 22.17 ms from the cloud over a 1 Gbit/s backhaul), the wait 0 against 2 ms.
    With batches of one, a request starts at once whatever max_wait says: no wait."""
    from airan.policy.base import batch_wait_s

    d = _factory()
    if batch_of_one:
        for c in d["compute_sites"]:
            c["batching"] = {"max_batch": 1, "max_wait_ms": 2.0}
    for f, count in zip(d["fleets"], [0, 0, 1], strict=True):
        f["count"] = count
    d["fleets"] = d["fleets"][2:]  # one inspection camera: 200 kB frames, one at a time
    inspect = next(v for v in d["services"] if v["name"] == "inspect")
    inspect.update(arrivals="periodic", jitter_ms=0)  # (Poisson frames may overlap)
    d["transport"]["backhaul"]["capacity_gbps"] = 1.0
    sc = scenario_from_dict(d)
    for site in range(3):
        seen: list[float] = []
        waits: list[float] = []
        uploads: list[tuple[float, float, float]] = []  # bits, packet bits, slowest link

        def pinned(snap: Any, batch: Any, site: int = site, seen: list[float] = seen,
                   waits: list[float] = waits,
                   uploads: list[tuple[float, float, float]] = uploads) -> Any:
            w = snap.world
            sites = np.full((len(batch), 1), site)
            node = w.cell_node[batch.cell][:, None]
            v = batch.service
            model = w.svc_model[v][:, None]
            uploads.extend((float(b), float(w.packet_bits), float(r)) for b, r in zip(
                w.svc_ul_bits[v], w.path_rate_bps[node, sites].ravel(), strict=True))
            transport = (2 * w.path_delay_s[node, sites]
                         + w.svc_dl_bits[v][:, None] / w.path_rate_bps[node, sites]
                         + _packet_terms_s(w, node, sites, w.svc_ul_bits[v], True)
                         + _packet_terms_s(w, node, sites, w.svc_dl_bits[v], False))
            gpu = w.gpu_type[w.site_gpu_start[sites]]
            compute = w.svc_time_s[model, gpu, 1]
            waits.extend(batch_wait_s(snap, batch, sites).ravel())
            seen.extend((transport + w.site_max_wait_s[sites, model] * (not batch_of_one)
                         + compute).ravel())
            return np.full(len(batch), site, dtype=np.int64)

        t = airan.run(sc, policy=pinned, duration_s=3.0, seed=1).requests
        met = np.asarray(t.column("outcome").to_pylist()) == "met"
        real = sum(np.asarray(t.column(c).to_numpy())[met] for c in
                   ("ul_transport_ms", "queue_ms", "compute_ms", "dl_transport_ms"))
        assert met.sum() >= 5
        # the upload's serialization at the slowest link once its last bits are at the cell:
        # its n equal packets came over the air evenly in air_s from its first slot's end
        air_s = np.maximum(np.asarray(t.column("ul_air_ms").to_numpy()) * 1e-3
                           - Engine(sc, duration_s=0.01).world.slot_s, 0.0)  # (decoded)
        bits, packet, rate = np.asarray(uploads).T
        n = np.maximum(np.ceil(bits / packet), 1.0)
        ser = np.maximum(bits / rate - air_s * (1.0 - 1.0 / n), bits / n / rate)
        assert (ser < bits / rate - 1e-3).all()  # 200 kB over 1 Gbit/s: 1.6 ms, mostly on air
        np.testing.assert_allclose(real, (np.asarray(seen) + ser)[met] * 1e3, rtol=1e-9,
                                   atol=1e-6)
        max_wait = sc.compute_sites[site].batching.max_wait_ms * 1e-3 * (not batch_of_one)
        np.testing.assert_allclose(waits, max_wait, rtol=0.05)
        assert (np.asarray(waits) <= max_wait).all()


def _behind_a_thin_link(policy: str) -> dict[str, Any]:
    """One cell whose edge sits behind 1 km of 0.2 Gbit/s and whose cloud behind 100 km of
    10 Gbit/s and 10 ms more; 3 devices send 200 kB frames at 50 Hz (240 Mbit/s: more than the
    thin link carries), deadline 50 ms."""
    gpus = [{"type": "H100", "count": 4}]
    one = {"max_batch": 1, "max_wait_ms": 0}
    d = {
        "name": "thin-link", "duration_s": 2, "seed": 1, "policy": policy,
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "s0", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "e"}, {"name": "c"}],
        "compute_sites": [{"name": "edge", "at": "e", "kind": "edge", "gpus": gpus,
                           "batching": one},
                          {"name": "cloud", "at": "c", "kind": "cloud", "gpus": gpus,
                           "batching": one}],
        "transport": {"links": [
            {"a": "s0", "b": "e", "fiber_km": 1, "capacity_gbps": 0.2},
            {"a": "s0", "b": "c", "fiber_km": 100, "capacity_gbps": 10, "extra_delay_ms": 10}]},
        "fleets": [{"name": "f", "count": 3, "area": {"x_m": [10, 20], "y_m": [10, 20]},
                    "services": ["svc"]}],
        "services": [{"name": "svc", "model": "resnet50", "rate_hz": 50, "arrivals": "poisson",
                      "ul_kb": 200, "dl_kb": 0, "deadline_ms": 50}],
    }
    return airan.run(scenario_from_dict(d), duration_s=2.0, seed=1).summary


def test_deadline_aware_sees_the_queue_on_its_own_path_to_a_site() -> None:
    """A site behind a saturated link is late by that link's queue: deadline-aware once saw
    only its propagation and serialization and kept sending there (hit ratio 0.12, uploads
    132 ms on the link, link_full drops) while the cloud, 10 ms away, took every frame in time
    (as the cloud policy shows)."""
    aware = _behind_a_thin_link("deadline-aware")
    cloud = _behind_a_thin_link("cloud")
    assert cloud["services"]["svc"]["hit_ratio"] > 0.99
    assert aware["services"]["svc"]["hit_ratio"] > 0.95
    assert "link_full" not in aware["requests"]["dropped_by_reason"]
    assert aware["sites"]["cloud"]["served"] > 0 and aware["sites"]["edge"]["served"] > 0


def _site_zero(snap: Snapshot, batch: Batch) -> np.ndarray:
    return np.zeros(len(batch), dtype=np.int64)


def _site_zero_writing_the_times(snap: Snapshot, batch: Batch) -> np.ndarray:
    t = batch.time_s
    t -= snap.time_s  # relative times, in place: the policy's own copy
    return np.zeros(len(batch), dtype=np.int64)


def test_a_policy_that_writes_its_batchs_times_changes_nothing_in_the_run() -> None:
    """The batch's times were a view of the engine's arrival times: a policy that made them
    relative in place moved every request's creation (factory's detections 791 met of 838 ->
    37, a review), silently."""
    runs = [airan.run("factory", policy=p, duration_s=0.5, seed=2).summary
            for p in (_site_zero, _site_zero_writing_the_times)]
    for name in runs[0]["services"]:
        a, b = runs[0]["services"][name], runs[1]["services"][name]
        assert (a["met"], a["late"], a["latency_ms"]) == (b["met"], b["late"], b["latency_ms"])


def _nearest_reading_every_link(snap: Snapshot, batch: Batch) -> np.ndarray:
    every = np.arange(snap.world.n_devices, dtype=np.int64)  # type: ignore[attr-defined]
    snap.ul_rate_bps(every), snap.dl_rate_bps(every), snap.ul_tx_w(every)
    snap.ul_time_s(every, np.full(len(every), 8e4))
    from airan.policy.builtin import nearest_edge

    return nearest_edge(snap, batch)


def test_a_policy_that_reads_every_devices_link_changes_nothing_in_the_run() -> None:
    """A moving device's link estimates are stale once it moves until a scheduler next serves
    it; a policy's read takes them as they are now (else a stale outage could keep a device
    on board for good) without keeping them, so what a policy reads does not change the run:
    here a policy that reads every device's links, moving ones among them, and answers as
    nearest-edge does gives nearest-edge's run, request for request."""
    d = _factory()
    for f in d["fleets"]:
        f["mobility"] = {"model": "random_waypoint", "speed_mps": [1.0, 2.0]}
    sc = scenario_from_dict(d)
    runs = [airan.run(sc, policy=p, duration_s=1.0, seed=3)
            for p in ("nearest-edge", _nearest_reading_every_link)]
    a, b = (np.asarray(r.requests.column("latency_ms"), dtype=float) for r in runs)
    assert len(a) > 500 and np.array_equal(a, b, equal_nan=True)
    assert runs[0].summary["services"] == runs[1].summary["services"]


def _writes_the_deadlines(snap: Snapshot, batch: Batch) -> np.ndarray:
    deadline = snap.world.svc_deadline_s  # type: ignore[attr-defined]
    deadline -= 0.001  # a margin, in place: the engine's own deadlines
    return np.zeros(len(batch), dtype=np.int64)


def _sets_a_field(snap: Snapshot, batch: Batch) -> np.ndarray:
    w = snap.world  # type: ignore[attr-defined]
    w.svc_deadline_s = w.svc_deadline_s - 0.001  # would drift further at every decision
    return np.zeros(len(batch), dtype=np.int64)


def _writes_the_radio(snap: Snapshot, batch: Batch) -> np.ndarray:
    snap.world.device_radio.cell_tx_on_mw *= 1e-6  # type: ignore[attr-defined]
    return np.zeros(len(batch), dtype=np.int64)


def _wraps_deadline_aware(snap: Snapshot, batch: Batch) -> np.ndarray:
    from airan.policy.builtin import deadline_aware

    place = deadline_aware(snap, batch)
    far = snap.world.svc_deadline_s[batch.service] > 1.0  # type: ignore[attr-defined]
    return np.where(far, LOCAL, place)


def test_a_policy_cannot_write_the_world_it_reads_but_built_ins_still_run_inside_it() -> None:
    """snapshot.world was the engine's own: a policy writing to it changed the deadlines the
    run used and reported (a review); its arrays are now read-only views, so the write fails
    as the policy's error, while a policy that calls a built-in on its snapshot runs as
    before."""
    from airan.errors import InputError

    with pytest.raises(InputError, match="read-only") as err:
        airan.run("factory", policy=_writes_the_deadlines, duration_s=0.1)
    assert "snapshot.world is read-only: a policy changes the run only by its answer" in \
        str(err.value)
    for writes in (_sets_a_field, _writes_the_radio):
        with pytest.raises(InputError, match="read-only"):
            airan.run("factory", policy=writes, duration_s=0.1)
    s = airan.run("factory", policy=_wraps_deadline_aware, duration_s=0.5).summary
    assert s["requests"]["created"] > 0
    detect = next(v for v in load_scenario("factory").services if v.name == "detect")
    assert s["services"]["detect"]["deadline_ms"] == detect.deadline_ms


class _KeepsACache:
    """A policy that keeps its own cache in snapshot.world.extras and checks what it reads."""

    def __init__(self) -> None:
        self.built = 0
        self.calls = 0

    def __call__(self, snap: Snapshot, batch: Batch) -> np.ndarray:
        import pickle

        from airan.engine.world import World

        w = snap.world
        assert isinstance(w, World) and isinstance(w.site_names, tuple)
        assert not w.path_delay_s.flags.writeable
        if self.calls == 0:
            assert pickle.loads(pickle.dumps(w)).site_names == w.site_names
        if "mine" not in w.extras:
            self.built += 1
            w.extras["mine"] = np.argsort(w.svc_deadline_s)
        self.calls += 1
        cell = batch.cell
        cell[:] = 0  # the policy's copy: the engine's no-route check reads its own
        return np.zeros(len(batch), dtype=np.int64)


def test_a_policys_world_is_a_read_only_world_whose_extras_it_may_keep() -> None:
    """The snapshot's world is a World (isinstance, pickle, dataclasses work) with read-only
    arrays and tuples for lists; extras is shared, so a policy's cache lasts the run (it was
    copied per decision in a first version); the batch's cells are the policy's to write."""
    keeps = _KeepsACache()
    s = airan.run("factory", policy=keeps, duration_s=0.3, seed=2).summary
    assert keeps.calls > 20 and keeps.built == 1
    plain = airan.run("factory", policy=_site_zero, duration_s=0.3, seed=2).summary
    assert s["requests"] == plain["requests"]


def _simulated_batch_wait_s(rate_per_s: float, max_batch: int, max_wait_s: float,
                            batches: int, seed: int) -> float:
    """Mean wait in a batcher (a batch starts when full or when its first has waited
    ``max_wait_s``) fed Poisson arrivals, simulated batch by batch (each opened by an arrival:
    the exponential gaps forget the batch before)."""
    rng = np.random.default_rng(seed)
    later = np.cumsum(rng.exponential(1.0 / rate_per_s, (batches, max_batch - 1)), axis=1)
    start = np.minimum(later[:, -1], max_wait_s)
    joined = later <= start[:, None]  # (the one that fills the batch starts it)
    waited = start.sum() + np.where(joined, start[:, None] - later, 0.0).sum()
    return float(waited / (batches + joined.sum()))


@pytest.mark.parametrize(("rate_per_s", "max_batch", "max_wait_s"), [
    (50.0, 8, 0.002), (400.0, 8, 0.01), (2000.0, 8, 0.002), (800.0, 32, 0.01), (5000.0, 4, 0.005),
])
def test_mean_batch_wait_is_that_of_a_simulated_batcher(
        rate_per_s: float, max_batch: int, max_wait_s: float) -> None:
    """The closed form that deadline-aware charges for the batcher's wait, against a simulated
    batcher: within 1% (200,000 batches) from a nearly empty batcher (50/s, 2 ms: ~max_wait)
    to one that fills long before its max_wait (5,000/s in batches of 4: ~0.3 ms)."""
    from airan.policy.base import mean_batch_wait_s

    exact = float(mean_batch_wait_s(rate_per_s, max_batch, max_wait_s))
    simulated = _simulated_batch_wait_s(rate_per_s, max_batch, max_wait_s, 200_000, seed=7)
    assert exact == pytest.approx(simulated, rel=0.01)
    assert 0.0 < exact < max_wait_s


def test_mean_batch_wait_at_its_limits() -> None:
    """No arrivals: the whole max_wait; batches of one or no max_wait: none; a stream that
    fills a batch of b at once: about (b - 1) / 2 gaps for the average request, (b - 1) / (2
    rate); the Poisson terms past exp's range (mean arrivals in max_wait >= 700) continue
    those below it."""
    from airan.policy.base import mean_batch_wait_s

    assert mean_batch_wait_s(0.0, 8, 0.002) == 0.002
    assert mean_batch_wait_s(1000.0, 1, 0.002) == 0.0
    assert mean_batch_wait_s(1000.0, 8, 0.0) == 0.0
    assert mean_batch_wait_s(1e7, 9, 0.002) == pytest.approx(4 / 1e7, rel=1e-6)
    below, above = mean_batch_wait_s(np.array([699.999e3, 700.001e3]), 900, 0.001)
    assert above < below
    assert above == pytest.approx(below, rel=1e-5)
    # a rate faded to almost nothing waits the whole max_wait, as none does: 1 - P(N < j)
    # rounded to 0 below ~1e-16 arrivals in max_wait, and the wait with it (a review: a site
    # left ~2 s before looked free of any batch wait, and drew requests back for a while)
    faded = mean_batch_wait_s(np.array([1e-12, 1e-14, 5e-15, 1e-20, 1e-300]), 8, 0.01)
    np.testing.assert_allclose(faded, 0.01, rtol=1e-9)
    assert (faded <= 0.01).all()
    waits = mean_batch_wait_s(np.logspace(-25, 8, 400), 8, 0.01)
    assert (np.diff(waits) <= 1e-15).all()  # never longer at a higher rate


def test_placement_rates_read_a_steady_stream_at_its_rate() -> None:
    """Poisson arrivals at 600/s decided every 5 ms, half placed at one site: the rates a
    snapshot gives read 600/s from the cells a site is nearest to and 300/s placed there
    (within 5%, over 2 s); they then fade with the 50 ms time constant."""
    from airan.policy.base import PlacementRates

    rates = PlacementRates(np.array([0, 0]), 2, 1, 0.005)
    rng = np.random.default_rng(3)
    seen = []
    for k in range(400):
        n = rng.poisson(600 * 0.005)
        rates.advance(k * 0.005)
        seen.append((rates.home[0, 0], rates.site[1, 0]))
        node = rng.integers(0, 2, n)
        rates.record(k * 0.005, node, np.where(rng.random(n) < 0.5, 1, -1),
                     np.zeros(n, dtype=np.int64))
    home, placed = np.mean(seen[40:], axis=0)
    assert home == pytest.approx(600, rel=0.05)
    assert placed == pytest.approx(300, rel=0.05)
    # a failed site's requests placed again, counted at the interval's start as the engine
    # does: they add to where they go, not to the rate their cells send, and the clock stays
    # on the grid (at the time a read of the next decision expects)
    home, placed, clock = rates.home[0, 0], rates.site[1, 0], rates.time_s
    rates.record(399 * 0.005, np.array([0]), np.array([1]), np.array([0]), arrivals=False)
    assert (rates.home[0, 0], rates.time_s) == (home, clock)
    assert rates.site[1, 0] > placed
    before = rates.home[0, 0]
    rates.advance(400 * 0.005 + 0.05)
    assert rates.home[0, 0] == pytest.approx(before * np.exp(-1.0), rel=1e-12)


def test_deadline_aware_brings_traffic_back_to_a_site_after_its_fault() -> None:
    """On-prem is down 0.5-1.0 s and detection moves to the regional edge. Once on-prem is
    back, deadline-aware returns it there (the rate its cells send makes its batch wait as
    short as at the edge, which it is nearer to): with a 10 ms max_wait behind an 18 ms
    deadline, after 1.2 s at least 95% go to on-prem and as many are met as without the fault.
    Before, an idle site was charged the whole max_wait and one in use none: every request
    stayed at the regional edge, 72% met against 83%."""
    d = _factory()
    for c in d["compute_sites"]:
        if c["name"] in ("on-prem", "regional"):
            c["batching"]["max_wait_ms"] = 10
    next(v for v in d["services"] if v["name"] == "detect")["deadline_ms"] = 18
    met = {}
    for faults in ([], [{"kind": "site_down", "site": "on-prem", "start_s": 0.5,
                         "end_s": 1.0}]):
        d["faults"] = faults
        t = airan.run(scenario_from_dict(d), policy="deadline-aware", duration_s=2.0,
                      seed=1).requests
        after = ((np.asarray(t.column("created_s").to_numpy()) > 1.2)
                 & (np.asarray(t.column("service").to_pylist()) == "detect"))
        place = np.asarray(t.column("placement").to_pylist())[after]
        assert np.mean(place == "on-prem") >= 0.95
        met[len(faults)] = np.mean(np.asarray(t.column("outcome").to_pylist())[after] == "met")
    assert met[1] == pytest.approx(met[0], abs=0.02)


def test_deadline_aware_keeps_traffic_home_once_a_fault_is_over() -> None:
    """Factory, on-prem down 0.5-1.2 s: detection returns on-prem and stays there. A review
    saw requests drawn back to the regional edge ~1.9 s after it was last used, when its
    faded rate rounded its batch wait to 0."""
    d = _factory(faults=[{"kind": "site_down", "site": "on-prem", "start_s": 0.5,
                          "end_s": 1.2}])
    t = airan.run(scenario_from_dict(d), policy="deadline-aware", duration_s=4.0,
                  seed=1).requests
    after = np.asarray(t.column("created_s").to_numpy()) > 1.25
    place = np.asarray(t.column("placement").to_pylist())[after]
    service = np.asarray(t.column("service").to_pylist())[after]
    assert (place[service == "detect"] == "on-prem").all()
