"""Transport: FIFO per link in the order messages reach it, their packets pipelined over the
hops (store and forward per packet, ``transport.packet_bytes``).

A packet reserves a link when it gets there, not when it sets off: an answer still on its way
from a distant cloud must not hold up, on the links it will share near the device, an answer
from a nearby edge that gets there first (a reviewer measured 3.6 ms median downlink transport
from a factory's on-premises server 50 m away, whose unloaded time is 6 us). Closed forms: a
message alone on its path takes its links' delays, its serialization at the slowest link and a
packet's on each other link (a packet-by-packet tandem computed here agrees); two messages set
off together on one path of equal capacities arrive one serialization apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import airan
from airan.engine import Engine
from airan.engine import kernel as K


def _unloaded_s(w: Any, links: np.ndarray, bits: float, air_s: float = 0.0) -> float:
    """A lone message's time over ``links``: the links' delays, the message at the slowest
    link's capacity, and one of its n = ceil(bits / packet) equal packets on each other link
    (the packet-switching delay of Kurose & Ross, ch. 1.4, over links of unequal capacity);
    for an upload whose packets came over the air evenly in ``air_s`` before, from its last
    bits: the serialization less air_s (1 - 1 / n), and at least a packet on every link."""
    links = links[links >= 0]
    if not len(links):
        return 0.0
    caps = w.link_cap_bps[links]
    n = max(1.0, np.ceil(bits / w.packet_bits))
    packet = bits / n
    slowest = int(np.argmin(caps))
    lead = bits / caps[slowest] + np.sum(packet / np.delete(caps, slowest))
    return float(np.sum(w.link_delay_s[links])
                 + max(lead - air_s * (1.0 - 1.0 / n), np.sum(packet / caps)))


def _packet_tandem_s(bits: float, packet_bits: float, caps: list[float],
                     delays: list[float], at: np.ndarray | None = None) -> float:
    """When a message of ``bits`` is over empty links, computed packet by packet: each link
    sends a packet once it holds it whole and has sent the one before (a tandem of FIFO
    servers); the message as ceil(bits / packet_bits) equal packets, at the first node at
    ``at`` (each packet's time; default all at 0)."""
    n = max(1, int(np.ceil(bits / packet_bits)))
    at = np.zeros(n) if at is None else at.copy()  # when each packet is at the current node
    for cap, delay in zip(caps, delays, strict=True):
        done = 0.0
        for k in range(n):
            done = max(done, at[k]) + bits / n / cap
            at[k] = done + delay
    return float(at[-1])


def _carry(eng: Engine, sends: list[tuple[int, str, float]]) -> dict[int, float]:
    """Send answers (row, site, time) from their sites to device 0's cell in time order,
    running the transport's events; returns each row's arrival at the cell."""
    w, st, kw, sref = eng.world, eng._st, eng._kw, eng._sref
    cell = int(w.dev_cell[0])
    node = int(w.cell_node[cell])
    arrived: dict[int, float] = {}
    pending = sorted(sends, key=lambda x: x[2])
    while pending:
        t_next = st.heap_t[0] if st.ctr[K.C_HEAP_N] > 0 else np.inf
        if pending[0][2] <= t_next:  # the next answer sets off
            r, site, t = pending.pop(0)
            s = w.site_names.index(site)
            st.rq_i[r, K.I_DEV], st.rq_i[r, K.I_SVC], st.rq_i[r, K.I_PLACE] = 0, 0, s
            st.rq_i[r, K.I_STAGE], st.rq_i[r, K.I_CELL] = K.ST_DOWN, cell
            assert K.send(kw, sref, r, w.path_links_back, s, node, 0, w.svc_dl_bits[0], t,
                          K.T_DLARR) == -1.0  # on its way
        else:
            _next_event(eng, arrived)
    while st.ctr[K.C_HEAP_N] > 0:
        _next_event(eng, arrived)
    return arrived


def _next_event(eng: Engine, arrived: dict[int, float]) -> None:
    """Run the transport's next event: on to the next node, or arrived (into ``arrived``)."""
    st = eng._st
    t, r = float(st.heap_t[0]), int(st.heap_r[0])
    K.pop_event(eng._sref)
    if st.rq_i[r, K.I_HOP] != 0:
        K.transit(eng._kw, eng._sref, r, t)
    else:
        arrived[r] = t


def test_an_edge_answer_does_not_wait_behind_a_cloud_answer_still_on_its_way() -> None:
    eng = Engine(airan.load_scenario("factory"), policy="least-loaded", duration_s=0.01, seed=1)
    w = eng.world
    node = int(w.cell_node[w.dev_cell[0]])
    bits = float(w.svc_dl_bits[0])
    on_prem, cloud = w.site_names.index("on-prem"), w.site_names.index("cloud")
    shared = set(w.path_links_back[cloud, node][w.path_links_back[cloud, node] >= 0])
    assert set(w.path_links_back[on_prem, node][w.path_links_back[on_prem, node] >= 0]) <= shared
    # the cloud's answer sets off first, the on-prem one 1 ms later: it reaches the shared last
    # link ~9 ms before the cloud's answer, and passes at once
    arrived = _carry(eng, [(0, "cloud", 0.0), (1, "on-prem", 1e-3)])
    assert arrived[1] == pytest.approx(
        1e-3 + _unloaded_s(w, w.path_links_back[on_prem, node], bits), abs=1e-12)
    assert arrived[0] == pytest.approx(
        _unloaded_s(w, w.path_links_back[cloud, node], bits), abs=1e-12)


def test_packets_that_set_off_together_arrive_one_serialization_apart() -> None:
    eng = Engine(airan.load_scenario("factory"), policy="least-loaded", duration_s=0.01, seed=1)
    w = eng.world
    node = int(w.cell_node[w.dev_cell[0]])
    links = w.path_links_back[w.site_names.index("cloud"), node]
    caps = w.link_cap_bps[links[links >= 0]]
    assert np.all(caps == caps[0])  # equal capacities: the second packet is pipelined behind
    bits = float(w.svc_dl_bits[0])
    arrived = _carry(eng, [(0, "cloud", 0.0), (1, "cloud", 0.0)])
    assert arrived[0] == pytest.approx(_unloaded_s(w, links, bits), abs=1e-12)
    assert arrived[1] - arrived[0] == pytest.approx(bits / caps[0], rel=1e-9)


def test_transport_to_and_from_the_edge_is_unloaded_time_when_the_cloud_shares_links() -> None:
    """least-loaded spreads the factory's work over on-prem, regional and cloud, on links of
    10 Gb/s at a few % load: edge requests cross them in their unloaded time, but for
    collisions with another frame (at most a few serializations of the largest)."""
    sc = airan.load_scenario("factory")
    res = airan.run(sc, policy="least-loaded", duration_s=2.0, seed=3)
    w = Engine(sc, policy="least-loaded", duration_s=0.01, seed=3).world
    t = res.requests
    place = np.array(t.column("placement").to_pylist())
    dev = t.column("device").to_numpy()
    svc = np.array([w.service_names.index(x) for x in t.column("service").to_pylist()])
    largest_ser_s = float(max(w.svc_ul_bits.max(), w.svc_dl_bits.max()) / w.link_cap_bps.min())
    air = t.column("ul_air_ms").to_numpy(zero_copy_only=False) * 1e-3
    for site in ("on-prem", "regional"):
        s = w.site_names.index(site)
        sel = np.flatnonzero(place == site)
        assert sel.size > 100, site
        for col, up in (("ul_transport_ms", True), ("dl_transport_ms", False)):
            x = t.column(col).to_numpy(zero_copy_only=False)
            excess = []
            for i in sel[np.isfinite(x[sel])]:
                node = int(w.cell_node[w.dev_cell[dev[i]]])
                links = w.path_links[node, s] if up else w.path_links_back[s, node]
                bits = float(w.svc_ul_bits[svc[i]] if up else w.svc_dl_bits[svc[i]])
                # (its bits come evenly from its first slot's end, when the cell decodes it)
                span = max(air[i] - w.slot_s, 0.0) if up else 0.0
                excess.append(x[i] * 1e-3 - _unloaded_s(w, links, bits, span))
            e = np.array(excess)
            assert e.min() > -1e-9, (site, col)
            assert np.median(e) < 1e-6, (site, col, np.median(e))  # was 3.6 ms from on-prem
            assert e.max() < 3 * largest_ser_s, (site, col, e.max())


def test_a_packet_under_way_when_a_link_fault_starts_finishes_its_path_as_it_was() -> None:
    """A cloud answer sets off at 0; 1-2 ms later its last link is 20 ms slower, while it is
    still ~9 ms from reaching it: it goes on over its old path and, the fault over by the time
    it gets to that link, arrives in its unloaded time."""
    from airan.scenario import load_scenario, scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json")
    eng0 = Engine(scenario_from_dict(d), policy="least-loaded", duration_s=0.01)
    w0 = eng0.world
    node = int(w0.cell_node[w0.dev_cell[0]])
    cloud = w0.site_names.index("cloud")
    links = w0.path_links_back[cloud, node]
    last = int(links[links >= 0][-1])
    a, b = w0.node_names[w0.link_a[last]], w0.node_names[w0.link_b[last]]
    d["faults"] = [{"kind": "link_degraded", "link": [a, b], "start_s": 0.001, "end_s": 0.002,
                    "extra_delay_ms": 20.0}]
    eng = Engine(scenario_from_dict(d), policy="least-loaded", duration_s=0.01)
    w, st, kw, sref = eng.world, eng._st, eng._kw, eng._sref
    bits = float(w.svc_dl_bits[0])
    unloaded = _unloaded_s(w, links.copy(), bits)
    st.rq_i[0, K.I_DEV], st.rq_i[0, K.I_SVC], st.rq_i[0, K.I_PLACE] = 0, 0, cloud
    st.rq_i[0, K.I_STAGE], st.rq_i[0, K.I_CELL] = K.ST_DOWN, int(w.dev_cell[0])
    assert K.send(kw, sref, 0, w.path_links_back, cloud, node, 0, bits, 0.0, K.T_DLARR) == -1.0
    rec = eng.faults.records[0]
    for active in (True, False):  # the fault starts, then ends, before the packet gets there
        rec.active = active
        eng.faults._links_now(eng)
    assert eng.faults.flushed_in_transit == 1
    arrived: dict[int, float] = {}
    while st.ctr[K.C_HEAP_N] > 0:
        _next_event(eng, arrived)
    assert arrived[0] == pytest.approx(unloaded, abs=1e-12)


def test_a_packet_whose_old_path_is_full_when_the_links_change_ends_dropped_link_full() -> None:
    """At a link fault, a packet under way goes on over the rest of its old path; a link there
    whose backlog exceeds the queue limit drops it (link_full) when it reaches that link,
    recorded once, with nothing left in flight."""
    from airan.scenario import load_scenario, scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json")
    w0 = Engine(scenario_from_dict(d), policy="least-loaded", duration_s=0.01).world
    node = int(w0.cell_node[w0.dev_cell[0]])
    cloud = w0.site_names.index("cloud")
    links = w0.path_links_back[cloud, node]
    last = int(links[links >= 0][-1])
    a, b = w0.node_names[w0.link_a[last]], w0.node_names[w0.link_b[last]]
    d["faults"] = [{"kind": "link_degraded", "link": [a, b], "start_s": 0.001,
                    "capacity_factor": 0.5}]
    eng = Engine(scenario_from_dict(d), policy="least-loaded", duration_s=0.01)
    w, st, kw, sref = eng.world, eng._st, eng._kw, eng._sref
    st.rq_i[0, K.I_DEV], st.rq_i[0, K.I_SVC], st.rq_i[0, K.I_PLACE] = 0, 0, cloud
    st.rq_i[0, K.I_STAGE], st.rq_i[0, K.I_CELL] = K.ST_DOWN, int(w.dev_cell[0])
    assert K.send(kw, sref, 0, w.path_links_back, cloud, node, 0, float(w.svc_dl_bits[0]), 0.0,
                  K.T_DLARR) == -1.0
    st.link_free[last] = 10.0  # a backlog of ~10 s on the last link, beyond the queue limit
    eng.faults.records[0].active = True
    eng.faults._links_now(eng)
    assert st.rq_i[0, K.I_HOP] == K.HOP_OWN  # on the rest of its old path, nothing reserved
    st.ctr[K.C_IN_FLIGHT] = 1  # the request row set up by hand counts as in flight
    arrived: dict[int, float] = {}
    while st.ctr[K.C_HEAP_N] > 0:
        t = float(st.heap_t[0])
        _next_event(eng, arrived)
    assert arrived == {} and st.ctr[K.C_IN_FLIGHT] == 0
    assert st.rq_i[0, K.I_STAGE] == K.ST_FREE
    assert int(st.agg_drop[0, K.R_LINK_FULL]) == 1
    assert st.rq_f[0, K.T_DLARR] == t  # dropped where it was, at the full link's node


def test_a_packet_refused_by_a_later_link_is_dropped_when_it_reaches_that_link() -> None:
    """Six 125 kB uploads set off together over a 100 Gb/s link, then a 1 Gb/s one whose
    queue limit is 2.5 ms. The k-th (from 0) reaches the slow link (its first packet) 10 k us
    behind the others on the fast link, 0.12 us of that packet, 49 us of fibre and 5 us of hop
    after they set off, behind the k ms the others take there less the 10 k us: the 4th
    (k = 3, 84 us) finds 2.97 ms and is dropped there, link_full, at latency 0.084 ms, all of
    it uplink transport. (A packet reserves the links
    it reaches within 0.1 ms at once; one refused that way was dropped at the time it set
    off, latency 0, with no transport time, where the 5th and 6th, refused hop by hop, were
    dropped at the link: a reviewer's hand timeline.)"""
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "name": "two-hops", "duration_s": 0.05, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "ideal"},
        "cell_sites": [{"name": "cell-a", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "edge"}],
        "compute_sites": [{"name": "e1", "at": "edge", "kind": "edge",
                           "gpus": [{"type": "L40S", "count": 1}], "queue_limit": 512,
                           "batching": {"max_batch": 4, "max_wait_ms": 2}}],
        "transport": {"hop_delay_us": 5, "queue_limit_ms": 2.5, "links": [
            {"a": "cell-a", "b": "agg", "fiber_km": 10, "capacity_gbps": 100},
            {"a": "agg", "b": "edge", "fiber_km": 20, "capacity_gbps": 1}]},
        "fleets": [{"name": "f", "count": 6, "area": {"center_m": [0, 0], "radius_m": 10},
                    "services": ["svc"]}],
        "services": [{"name": "svc", "model": "yolov8s", "rate_hz": 10, "arrivals": "periodic",
                      "jitter_ms": 0, "ul_kb": 125, "dl_kb": 12.5, "deadline_ms": 100,
                      "service_time": {"dist": "fixed", "mean_ms": 5}}],
    })
    eng = Engine(sc, duration_s=0.05)
    phase = eng.world.flow_phase_s
    phase.setflags(write=True)
    phase[:] = 0.01  # every device's first request at 10 ms
    eng._st.fh_t[:] = 0.01
    t = eng.run().requests.to_pydict()
    order = np.argsort(t["request"], kind="stable")
    outcome = [t["outcome"][i] for i in order]
    assert outcome == ["met"] * 3 + ["dropped:link_full"] * 3
    fibre_hop_us = 10 * 4.9 + 5
    packet_us = 1e6 / np.ceil(1e6 / 12e3) / 100e3  # one of its 84 packets on the 100 Gb/s link
    for k in range(3, 6):
        reach_ms = (10 * k + packet_us + fibre_hop_us) / 1e3  # behind k others on that link
        assert t["latency_ms"][order[k]] == pytest.approx(reach_ms, abs=1e-9)
        assert t["ul_transport_ms"][order[k]] == pytest.approx(reach_ms, abs=1e-9)


def test_a_link_fault_that_changes_nothing_changes_no_request() -> None:
    """A link fault reroutes; packets under way then go on hop by hop, each link reserved as
    they reach it. Before, they reserved the rest of their path at once, up to 10 ms ahead
    (a cloud answer), and edge answers that reached those links first queued behind them
    (1.8-3.3 ms instead of 0.17 ms on a reviewer's case). A fault that leaves every link as
    it was must leave every request as it was."""
    from airan.scenario import load_scenario, scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json")
    d["radio"]["model"] = "ideal"
    d.update(
        cell_sites=[{"name": "bs", "position_m": [0.0, 0.0], "height_m": 8, "sectors": 1}],
        nodes=[{"name": "mec"}, {"name": "cloud"}, {"name": "x"}],
        transport={"hop_delay_us": 5, "links": [
            {"a": "bs", "b": "mec", "fiber_km": 1, "capacity_gbps": 1},
            {"a": "mec", "b": "cloud", "fiber_km": 400, "capacity_gbps": 10,
             "extra_delay_ms": 8},
            {"a": "mec", "b": "x", "fiber_km": 1, "capacity_gbps": 10}]},
        compute_sites=[
            {"name": "near", "at": "mec", "kind": "edge", "gpus": [{"type": "H100", "count": 4}],
             "batching": {"max_batch": 1, "max_wait_ms": 0}},
            {"name": "cloud", "at": "cloud", "kind": "edge",
             "gpus": [{"type": "H100", "count": 8}], "batching": {"max_batch": 1,
                                                                 "max_wait_ms": 0}}],
        fleets=[{"name": "cam", "count": 8, "area": {"x_m": [0, 10], "y_m": [0, 10]},
                 "device_class": "camera", "services": ["svc"]}],
        services=[{"name": "svc", "model": "yolov8s", "rate_hz": 100, "arrivals": "poisson",
                   "ul_kb": 1, "dl_kb": 20, "deadline_ms": 1000,
                   "service_time": {"dist": "fixed", "mean_ms": 0.5}}])

    def halves(snap: Any, batch: Any) -> np.ndarray:  # even devices near, odd in the cloud
        return (batch.device % 2).astype(np.int64)  # type: ignore[no-any-return]

    def run(faults: list[dict[str, Any]]) -> Any:
        return airan.run(scenario_from_dict({**d, "faults": faults}), policy=halves,
                         duration_s=1.0, seed=11).requests

    noop = [{"kind": "link_degraded", "link": ["mec", "x"], "start_s": 0.5, "end_s": 0.75,
             "capacity_factor": 1.0}]
    base, faulted = run([]), run(noop)
    for col in ("created_s", "ul_transport_ms", "dl_transport_ms", "latency_ms"):
        np.testing.assert_array_equal(faulted.column(col).to_numpy(),
                                      base.column(col).to_numpy(), err_msg=col)


@pytest.mark.parametrize("route_factor", [1.5, 2.0])
def test_a_backhaul_spoke_is_its_route_over_the_straight_line_at_4_9_us_per_km(
        route_factor: float) -> None:
    """A cell site 10 km from the hub: route_factor x 10 km of fibre at 4.9 us/km (n = 1.468,
    DOMAIN.md) and one 5 us hop, each way: 78.5 us at 1.5, 103 us at 2."""
    from airan.scenario import scenario_from_dict
    from airan.scenario.load import transport_links

    d = airan.load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None,
             cell_sites=[{"name": "bs", "position_m": [10_000.0, 0.0], "sectors": 1}],
             nodes=[{"name": "hub", "position_m": [0.0, 0.0]}],
             compute_sites=[{"name": "edge", "at": "hub", "kind": "edge",
                             "gpus": [{"type": "H100", "count": 1}]}],
             transport={"hop_delay_us": 5.0, "links": [],
                        "backhaul": {"to": "hub", "route_factor": route_factor}})
    net = transport_links(scenario_from_dict(d))
    assert len(net.link_delay_s) == 2
    np.testing.assert_allclose(net.link_delay_s, route_factor * 10 * 4.9e-6 + 5e-6, rtol=1e-12)


def test_a_listed_link_is_its_fibre_at_4_9_us_per_km_its_extra_delay_and_one_hop() -> None:
    """A link between two nodes: fiber_km x 4.9 us (DOMAIN.md), its extra_delay_ms and one
    hop_delay_us, in each direction: 100 km, 2 ms and 5 us give 2.495 ms."""
    from airan.scenario import scenario_from_dict
    from airan.scenario.load import transport_links

    d = airan.load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None,
             cell_sites=[{"name": "bs", "position_m": [0.0, 0.0], "sectors": 1}],
             nodes=[{"name": "hub", "position_m": [0.0, 0.0]}, {"name": "far"}],
             compute_sites=[{"name": "cloud", "at": "far", "kind": "cloud",
                             "gpus": [{"type": "H100", "count": 1}]}],
             transport={"hop_delay_us": 5.0, "backhaul": {"to": "hub"}, "links": [
                 {"a": "hub", "b": "far", "fiber_km": 100.0, "capacity_gbps": 7.0,
                  "extra_delay_ms": 2.0}]})
    net = transport_links(scenario_from_dict(d))
    listed = net.link_cap_bps == 7e9
    assert int(listed.sum()) == 2
    np.testing.assert_allclose(net.link_delay_s[listed], 100 * 4.9e-6 + 2e-3 + 5e-6, rtol=1e-12)


@pytest.mark.parametrize("air_ms", [0.0, 0.05, 20.0])
@pytest.mark.parametrize("caps_gbps", [(10, 10), (10, 1, 100), (100, 1), (1, 100), (25, 10, 40)])
@pytest.mark.parametrize("kb", [1.0, 1.5, 125.0, 1000.0, 1234.567])
def test_a_lone_message_arrives_when_its_packets_would_one_by_one(
        caps_gbps: tuple[float, ...], kb: float, air_ms: float) -> None:
    """The rule the kernel applies link by link (the message's first and last packets' times
    at each node) against a packet-by-packet tandem of the links, and against the closed form;
    an upload that took ``air_ms`` on the air from 0.25 s, its packets coming evenly and
    forwarded by the cell as they came, booked once its last bits are there."""
    from airan.transport.pipeline import first_packet_s, message_hop

    caps = [c * 1e9 for c in caps_gbps]
    delays = [50e-6 * (i + 1) for i in range(len(caps))]
    bits, packet = kb * 8e3, 1500 * 8.0
    done = 0.25 + air_ms * 1e-3  # its last bits at the cell: the booking's time
    t, tail = first_packet_s(bits, packet, 0.25, done), done
    for cap, delay in zip(caps, delays, strict=True):
        t, tail, free, busy = message_hop(0.0, t, tail, bits, packet, cap, delay, done)
        assert busy == pytest.approx(bits / cap, rel=1e-12)
        assert t <= tail and free <= tail
    n = max(1, int(np.ceil(bits / packet)))
    came = 0.25 + air_ms * 1e-3 * (np.arange(n) + 1.0) / n  # each packet at the cell
    want = _packet_tandem_s(bits, packet, caps, delays, came)
    assert tail == pytest.approx(want, rel=1e-12)
    if air_ms == 0.0:
        closed = (0.25 + sum(delays) + bits / min(caps)
                  + sum(bits / n / c for c in caps) - bits / n / min(caps))
        assert tail == pytest.approx(closed, rel=1e-12)


def test_nine_megabytes_over_two_10_gbps_hops_take_one_serialization_and_a_packet() -> None:
    """Kurose & Ross's (N + P - 1) L / R for P packets over N links of rate R: 9 MB (6,000
    packets of 1,500 B) over two 10 Gb/s hops is 7.2 ms and a packet's 1.2 us, not the
    14.4 ms of each hop holding the whole message (what ``packet_bytes: null`` asks for)."""
    from airan.scenario import scenario_from_dict

    def world(packet_bytes: int | None) -> Any:
        return Engine(scenario_from_dict({
            "name": "two-hops", "radio": {"model": "ideal"},
            "cell_sites": [{"name": "cell", "position_m": [0, 0], "sectors": 1}],
            "nodes": [{"name": "agg"}, {"name": "edge"}],
            "compute_sites": [{"name": "e", "at": "edge", "gpus": [{"type": "L40S", "count": 1}]}],
            "transport": {"hop_delay_us": 0, "packet_bytes": packet_bytes, "links": [
                {"a": "cell", "b": "agg", "fiber_km": 0, "capacity_gbps": 10},
                {"a": "agg", "b": "edge", "fiber_km": 0, "capacity_gbps": 10}]},
            "fleets": [{"name": "f", "count": 1, "area": {"center_m": [0, 0], "radius_m": 5},
                        "services": ["s"]}],
            "services": [{"name": "s", "model": "yolov8s", "rate_hz": 1, "ul_kb": 10_000,
                          "dl_kb": 1, "deadline_ms": 100}],
        }), duration_s=0.01)

    for packet_bytes, want_s, rate_bps in ((1500, 7.2e-3 + 1.2e-6, 10e9), (None, 14.4e-3, 5e9)):
        eng = world(packet_bytes)
        w = eng.world
        node, site = int(w.cell_node[0]), 0
        links = w.path_links[node, site]
        assert (links >= 0).sum() == 2
        t = K.transport(eng._kw, eng._sref, links, 72e6, 0.0)
        assert t == pytest.approx(want_s, rel=1e-9), packet_bytes
        # what the policies read: 72 Mbit / path_rate_bps is the same serialization
        assert w.path_rate_bps[node, site] == pytest.approx(rate_bps, rel=1e-12)


def test_a_packet_size_below_an_ethernet_minimum_is_refused_naming_the_field(
        tmp_path: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["transport"]["packet_bytes"] = 10
    f = tmp_path / "small-packets.yaml"
    f.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(f)])
    assert res.exit_code == 2
    assert "transport.packet_bytes" in res.output and "10" in res.output


def _three_hops(packet_bytes: int | None = 1500, radio: str = "ideal") -> Any:
    """A cell, then 1, 10 and 100 Gb/s links of 2, 40 and 100 km (a message's first packet
    reaches the next node more than the 0.1 ms of booking ahead later: an event between)."""
    from airan.scenario import scenario_from_dict

    return scenario_from_dict({
        "name": "three-hops", "radio": {"model": radio}, "policy": "nearest-edge",
        "cell_sites": [{"name": "cell", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "metro"}, {"name": "edge"}],
        "compute_sites": [{"name": "e", "at": "edge", "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"hop_delay_us": 5, "packet_bytes": packet_bytes, "links": [
            {"a": "cell", "b": "agg", "fiber_km": 2, "capacity_gbps": 1},
            {"a": "agg", "b": "metro", "fiber_km": 40, "capacity_gbps": 10},
            {"a": "metro", "b": "edge", "fiber_km": 100, "capacity_gbps": 100}]},
        "fleets": [{"name": "cam", "count": 1, "area": {"center_m": [20, 0], "radius_m": 1},
                    "services": ["frame"]}],
        "services": [{"name": "frame", "model": "yolov8s", "rate_hz": 5, "arrivals": "periodic",
                      "jitter_ms": 0, "ul_kb": 1000, "dl_kb": 50, "deadline_ms": 500,
                      "service_time": {"dist": "fixed", "mean_ms": 2}}],
    })


@pytest.mark.parametrize("packet_bytes", [1500, None])
def test_a_message_keeps_its_last_packets_time_from_node_to_node(
        packet_bytes: int | None) -> None:
    """Over links of unequal capacity with an event at each node between, every upload and
    answer takes the closed form: its last packet's time carried from node to node (a
    review's mutation that dropped it gave 1.33 ms for 4.49); whole messages (``null``) take
    bits / capacity on every link."""
    res = airan.run(_three_hops(packet_bytes), duration_s=1.0, seed=1)
    w = Engine(_three_hops(packet_bytes), duration_s=0.01).world
    node, site = int(w.cell_node[0]), 0
    up, down = w.path_links[node, site], w.path_links_back[site, node]
    assert (up >= 0).sum() == 3
    t = res.requests
    for col, links, bits in (("ul_transport_ms", up, float(w.svc_ul_bits[0])),
                             ("dl_transport_ms", down, float(w.svc_dl_bits[0]))):
        x = t.column(col).to_numpy(zero_copy_only=False) * 1e-3
        assert len(x) >= 4
        if packet_bytes is None:
            want = float(np.sum(bits / w.link_cap_bps[links[links >= 0]]
                                + w.link_delay_s[links[links >= 0]]))
        else:
            want = _unloaded_s(w, links, bits)
        np.testing.assert_allclose(x, want, rtol=1e-9)
    if packet_bytes:  # 1 MB over 1 Gb/s first: 8 ms and the links' delays, not 8 + 0.8 + 0.08
        delays_ms = float(np.sum(w.link_delay_s[up[up >= 0]])) * 1e3
        assert float(np.max(t.column("ul_transport_ms").to_numpy())) < 8.0 + delays_ms + 0.05


def test_the_live_gateway_carries_a_lone_message_as_the_twin_does() -> None:
    """The live gateway's emulated transport against the kernel's, packets pipelined, for a
    whole message and for an upload forwarded while on the air."""
    from airan.live.gateway import Delays
    from airan.transport.pipeline import first_packet_s

    eng = Engine(_three_hops(), duration_s=0.01)
    w = eng.world
    links = w.path_links[int(w.cell_node[0]), 0]
    for air_s in (0.0, 0.02):
        delays = Delays(w, rates=None, enabled=True)  # type: ignore[arg-type]
        live = delays.transport(links, 8e6, 1.0, air_s)
        eng._st.link_free[:] = 0.0
        head = first_packet_s(8e6, float(w.packet_bits), 1.0 - air_s, 1.0)
        tail = 1.0
        for lk in links[links >= 0]:
            head, tail = K.hop(eng._kw, eng._sref, int(lk), 8e6, head, tail, 1.0)
        assert live == pytest.approx(tail - 1.0, rel=1e-12)
        assert live < (8e-3 if air_s == 0.0 else 0.7e-3) + 1.0e-3


def test_a_link_under_random_contention_keeps_its_books() -> None:
    """Random messages, whole or trickling in, some booked after their first packet came:
    the link's free time never goes back, a message's last packet never leaves before it
    came nor before its first, and the link is busy for bits / capacity of each."""
    from airan.transport.pipeline import message_hop

    rng = np.random.default_rng(7)
    cap, delay, packet = 1e9, 1e-4, 12e3
    free, now = 0.0, 0.0
    for _ in range(5000):
        now += rng.exponential(2e-4)
        bits = float(rng.choice([8e3, 1.2e5, 8e6])) * rng.uniform(0.5, 1.5)
        span = float(rng.choice([0.0, rng.uniform(0, 0.02)]))
        head = now - span * rng.uniform(0, 1) if rng.uniform() < 0.5 else now
        tail = max(head + span, now) if head < now else now + span
        first, last, new_free, busy = message_hop(free, head, tail, bits, packet, cap, delay,
                                                  now)
        n = max(1.0, np.ceil(bits / packet))
        assert new_free >= free
        assert first <= last + 1e-15
        assert last >= tail + bits / n / cap + delay - 1e-15
        assert busy == pytest.approx(bits / cap, rel=1e-12)
        free = new_free


def test_the_cell_forwards_an_upload_while_it_is_still_on_the_air() -> None:
    """A planner's review: 5 MB camera frames took ~1 s on the air and then 40 ms on the cell
    site's 1 Gb/s backhaul, the gNB holding each whole, and AMRs' 15 kB detections queued
    behind them (p99 33 ms, 16 late of 2,002 at 50 ms). A gNB forwards each packet as it
    decodes it: the frame's backhaul is then its last packet's time and the propagation, and
    no detection waits behind a frame. ``packet_bytes: null`` keeps the whole-message hold."""
    from airan.scenario import scenario_from_dict

    def run(packet_bytes: int | None) -> Any:
        return airan.run(scenario_from_dict({
            "name": "mix", "radio": {"model": "nr", "environment": "umi"},
            "policy": "nearest-edge",
            "cell_sites": [{"name": "cs1", "position_m": [0, 0], "sectors": 1}],
            "nodes": [{"name": "agg"}, {"name": "edge"}],
            "compute_sites": [{"name": "regional", "at": "edge", "queue_limit": 100000,
                               "gpus": [{"type": "H100", "count": 4}]}],
            "transport": {"hop_delay_us": 5, "packet_bytes": packet_bytes, "links": [
                {"a": "cs1", "b": "agg", "fiber_km": 10, "capacity_gbps": 1},
                {"a": "agg", "b": "edge", "fiber_km": 50, "capacity_gbps": 10}]},
            "fleets": [
                {"name": "cams", "count": 2, "area": {"center_m": [30, 0], "radius_m": 5},
                 "device_class": "camera", "ul_buffer_kb": 20000, "services": ["frame"]},
                {"name": "amrs", "count": 10, "area": {"center_m": [0, 30], "radius_m": 20},
                 "device_class": "amr", "services": ["detect"]}],
            "services": [
                {"name": "frame", "model": "yolov8m", "rate_hz": 0.5, "ul_kb": 5000,
                 "dl_kb": 1, "deadline_ms": 3000, "service_time": {"dist": "fixed",
                                                                   "mean_ms": 5}},
                {"name": "detect", "model": "yolov8s", "rate_hz": 20, "ul_kb": 15,
                 "dl_kb": 0.5, "deadline_ms": 50, "service_time": {"dist": "fixed",
                                                                   "mean_ms": 2}}],
        }), duration_s=6.0, seed=1).requests.to_pydict()

    propagation_ms = 60 * 4.9e-3 + 2 * 5e-3
    for packet_bytes in (1500, None):
        t = run(packet_bytes)
        svc = np.asarray(t["service"])
        ul = np.asarray(t["ul_transport_ms"], dtype=float)
        frames = ul[(svc == "frame") & np.isfinite(ul)]
        detects = ul[(svc == "detect") & np.isfinite(ul)]
        assert frames.size >= 3 and detects.size > 1000
        if packet_bytes:
            # at least the last of 3,334 packets over 1 then 10 Gb/s (12 + 1.2 us); a little
            # more where detections took the link while the frame came over the air
            assert (frames >= propagation_ms + 5e6 * 8 / 3334 * 1.1e-9 * 1e3 - 1e-9).all()
            assert frames.max() < propagation_ms + 10.0  # not the 40 ms of a whole frame
            # none behind a frame: a one-slot detection's 120 us at 1 Gb/s at most
            assert np.percentile(detects, 99) < propagation_ms + 0.13
            assert detects.max() < propagation_ms + 2.0
        else:
            whole = propagation_ms + 40.0 + 4.0  # 5 MB held whole at 1, then 10 Gb/s
            assert (frames >= whole - 1e-6).all() and (frames < whole + 1.0).all()
            assert detects.max() > 10.0  # behind a frame held whole at the cell


def test_a_link_restored_after_a_degradation_drains_its_backlog_at_full_capacity() -> None:
    """A planner's review: a 10 Gb/s link at 3% for a second built ~0.2 s of backlog, charged
    at the slow rate; after the fault ended, uploads still waited 188, 124, 62 ms behind it
    for 0.2 s, where the 2.5-7.5 MB it held drain at 10 Gb/s in 2-6 ms."""
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "name": "degraded", "radio": {"model": "ideal"}, "policy": "nearest-edge",
        "cell_sites": [{"name": "cs1", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "edge"}],
        "compute_sites": [{"name": "regional", "at": "edge", "queue_limit": 100000,
                           "gpus": [{"type": "H100", "count": 4}]}],
        "transport": {"hop_delay_us": 5, "links": [
            {"a": "cs1", "b": "agg", "fiber_km": 1, "capacity_gbps": 10},
            {"a": "agg", "b": "edge", "fiber_km": 20, "capacity_gbps": 10}]},
        "fleets": [{"name": "cams", "count": 5, "area": {"center_m": [10, 0], "radius_m": 5},
                    "services": ["frame"]}],
        "services": [{"name": "frame", "model": "yolov8m", "rate_hz": 10, "arrivals": "periodic",
                      "jitter_ms": 1, "ul_kb": 1000, "dl_kb": 1, "deadline_ms": 100,
                      "service_time": {"dist": "fixed", "mean_ms": 2}}],
        "faults": [{"kind": "link_degraded", "link": ["cs1", "agg"], "start_s": 1, "end_s": 2,
                    "capacity_factor": 0.03}],
    })
    t = airan.run(sc, duration_s=3.0, seed=1).requests.to_pydict()
    created = np.asarray(t["created_s"])
    ul = np.asarray(t["ul_transport_ms"], dtype=float)
    unloaded = 8.0 / 10.0 + 8.0 / 10.0 / 667 + 21 * 4.9e-3 + 2 * 5e-3  # 1 MB over two hops
    during = (created > 1.5) & (created < 2.0) & np.isfinite(ul)
    assert ul[during].min() > 50.0  # ~0.3 ms of the link's second per upload at 3%
    after = (created >= 2.0) & (created < 2.3)
    assert after.sum() >= 10
    assert np.median(ul[after]) == pytest.approx(unloaded, rel=1e-3)
    assert ul[after].max() < unloaded + 0.8 + 1e-3  # at most behind another camera's frame


def test_a_links_utilization_is_the_bits_it_carried_over_its_capacity_and_the_run() -> None:
    """summary.json's links (a planner's review: no link load anywhere): five 1 MB uploads
    a second over 1 Gb/s, then 10 and 100 Gb/s, and their 50 kB answers back."""
    res = airan.run(_three_hops(), duration_s=1.0, seed=1)
    links = res.summary["links"]
    assert res.summary["requests"]["met"] == 5
    for name, cap_gbps, bits in (("cell->agg", 1, 8e6), ("agg->metro", 10, 8e6),
                                 ("metro->edge", 100, 8e6), ("edge->metro", 100, 4e5),
                                 ("agg->cell", 1, 4e5)):
        assert links[name]["capacity_gbps"] == cap_gbps
        assert links[name]["utilization"] == pytest.approx(5 * bits / (cap_gbps * 1e9),
                                                           rel=1e-9)


def test_a_link_faults_line_says_how_many_requests_ended_late_while_it_lasted() -> None:
    """A planner's review: a cut link whose detour made 49 of 200 requests late printed "0
    requests dropped no_route or link_full while it lasted" and nothing on deadlines."""
    from airan.report.events import events
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict({
        "name": "detour", "radio": {"model": "ideal"}, "policy": "nearest-edge",
        "cell_sites": [{"name": "cs1", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "edge"}, {"name": "cloud"}],
        "compute_sites": [{"name": "regional", "at": "edge", "queue_limit": 100000,
                           "gpus": [{"type": "H100", "count": 4}]}],
        "transport": {"hop_delay_us": 5, "links": [
            {"a": "cs1", "b": "agg", "fiber_km": 1, "capacity_gbps": 10},
            {"a": "agg", "b": "edge", "fiber_km": 20, "capacity_gbps": 10},
            {"a": "edge", "b": "cloud", "fiber_km": 400, "capacity_gbps": 10},
            {"a": "agg", "b": "cloud", "fiber_km": 300, "capacity_gbps": 1}]},
        "fleets": [{"name": "cams", "count": 5, "area": {"center_m": [10, 0], "radius_m": 5},
                    "services": ["frame"]}],
        "services": [{"name": "frame", "model": "yolov8m", "rate_hz": 10,
                      "arrivals": "periodic", "jitter_ms": 1, "ul_kb": 1000, "dl_kb": 1,
                      "deadline_ms": 17, "service_time": {"dist": "fixed", "mean_ms": 2}}],
        "faults": [{"kind": "link_down", "link": ["agg", "edge"], "start_s": 1, "end_s": 2}],
    })
    res = airan.run(sc, duration_s=3.0, seed=1)
    (f,) = res.summary["faults"]
    t = res.requests.to_pydict()
    done = np.asarray(t["created_s"]) + np.asarray(t["latency_ms"]) * 1e-3
    out = np.asarray(t["outcome"])
    inside = (done >= 1.0) & (done < 2.0)
    assert f["ended_during"] == {"met": int(((out == "met") & inside).sum()),
                                 "late": int(((out == "late") & inside).sum()),
                                 "dropped": int((out.astype(str) != "met")[inside].sum()
                                                - ((out == "late") & inside).sum())}
    assert f["ended_during"]["late"] >= 40  # the detour over the cloud: ~11.5 ms more
    line = next(x for x in events(res.summary) if x.startswith("faults:"))
    assert f"of the {sum(f['ended_during'].values()):,} that ended while it lasted" in line
    assert f"{f['ended_during']['late']:,} late" in line


def test_uploads_forwarded_while_on_the_air_never_take_more_than_the_links_capacity() -> None:
    """A review: ten 40 Mb uploads on the air over the same 40 ms each got a 1 Gb/s link to
    themselves (the last through at 40 ms, not 400), and two cameras' 5 MB frames over a
    20 Mb/s backhaul reached their site faster than the link could carry them. A link
    carries an upload's packets as they come only in time it has idle."""
    from airan.scenario import scenario_from_dict
    from airan.transport.pipeline import first_packet_s, message_hop

    free, bits, packet, cap = 0.0, 40e6, 12e3, 1e9
    last = []
    for _ in range(10):  # each on the air 0-40 ms, booked at 40 ms
        t = first_packet_s(bits, packet, 0.0, 0.04)
        _, done, free, _ = message_hop(free, t, 0.04, bits, packet, cap, 0.0, 0.04)
        last.append(done)
    assert last[-1] >= 10 * bits / cap - 1e-12
    sc = scenario_from_dict({
        "name": "slow-backhaul", "radio": {"model": "nr", "environment": "umi"},
        "policy": "nearest-edge",
        "cell_sites": [{"name": "cs1", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "edge"}],
        "compute_sites": [{"name": "regional", "at": "edge", "queue_limit": 100000,
                           "gpus": [{"type": "H100", "count": 4}]}],
        "transport": {"hop_delay_us": 5, "queue_limit_ms": 100000, "links": [
            {"a": "cs1", "b": "agg", "fiber_km": 10, "capacity_gbps": 0.02},
            {"a": "agg", "b": "edge", "fiber_km": 50, "capacity_gbps": 10}]},
        "fleets": [{"name": "cams", "count": 2, "area": {"center_m": [30, 0], "radius_m": 5},
                    "device_class": "camera", "ul_buffer_kb": 200000, "services": ["frame"]}],
        "services": [{"name": "frame", "model": "yolov8m", "rate_hz": 0.5, "ul_kb": 5000,
                      "arrivals": "periodic", "dl_kb": 1, "deadline_ms": 30000,
                      "service_time": {"dist": "fixed", "mean_ms": 5}}],
    })
    res = airan.run(sc, duration_s=12.0, seed=1)
    t = res.requests.to_pydict()
    parts = [np.asarray(t[c], dtype=float) for c in ("ul_wait_ms", "ul_air_ms",
                                                      "ul_transport_ms")]
    at_site = np.sort((np.asarray(t["created_s"]) + sum(parts) * 1e-3)[np.isfinite(parts[2])])
    assert at_site.size >= 4
    for i, x in enumerate(at_site):  # the i+1 uploads through the 20 Mb/s link by then
        assert (i + 1) * 40e6 <= 20e6 * x + 1e-6, (i, x)
    util = res.summary["links"]["cs1->agg"]["utilization"]
    assert 0.5 < util <= 1.0  # the share of the run it was busy, never more than all of it
