"""A policy reads a device's link as it is now where the value kept is older than the cells'
load time constant, not as of the device's last upload.

The uplink keeps a device's SINR from when it last sent (re-evaluated at most every 20 slots
while it sends). A device deadline-aware keeps on board sends nothing, so the value it read
stayed the one that sent it there: in a port's review an AGV's SINR kept from an
interference peak held it on its 80 ms CPU against a 50 ms deadline for 7 requests in a row,
4 of which the edge, at the SINR then, would have answered in 35-70 ms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import airan
from airan.engine import Engine
from airan.policy.base import LOCAL, Batch, Snapshot, estimate_latency_s
from airan.scenario import scenario_from_dict


def _sector_edge(duration_s: float = 1.5) -> Any:
    """One three-sector UMa site, an edge L40S beside it; an AGV (yolov8s, 80 ms on its CPU,
    50 ms deadline) far out on one sector, and ten quiet cameras where two sectors meet,
    seven of them on the AGV's neighbour. Before any load is measured each cell takes its
    neighbours at ``initial_load`` (0.5): the cameras' sector then puts the AGV's uplink ~10 dB
    under what it is once their real load (a few kB a second) has been measured."""
    return scenario_from_dict({
        "name": "sector-edge", "radio": {"environment": "uma"}, "policy": "deadline-aware",
        "carrier": {"band": "n78", "bandwidth_mhz": 100, "tdd_pattern": "DDDSU"},
        "cell_sites": [{"name": "s", "position_m": [0, 0], "sectors": 3}],
        "nodes": [{"name": "mec", "position_m": [0, 0]}],
        "compute_sites": [{"name": "edge", "at": "mec", "kind": "edge",
                           "gpus": [{"type": "L40S", "count": 1}]}],
        "transport": {"backhaul": {"to": "mec", "capacity_gbps": 10}},
        "models": {"relay": {"name": "relay", "service_time_ms": 0.1}},
        "fleets": [{"name": "agv", "count": 1, "device_class": "amr", "services": ["detect"],
                    "area": {"x_m": [400, 402], "y_m": [0, 2]}},
                   {"name": "cams", "count": 10, "device_class": "camera",
                    "services": ["video"], "area": {"x_m": [-10, 10], "y_m": [80, 100]}}],
        "services": [{"name": "detect", "model": "yolov8s", "rate_hz": 10, "ul_kb": 15,
                      "dl_kb": 0.5, "deadline_ms": 50},
                     {"name": "video", "model": "relay", "rate_hz": 1, "ul_kb": 5,
                      "dl_kb": 0.1, "deadline_ms": 500, "on_device": False}],
        "duration_s": duration_s})


def test_a_device_kept_on_board_by_its_link_then_goes_back_once_the_link_is_better() -> None:
    """The AGV's first requests go on board (the edge, at its SINR under its neighbour's
    assumed load, ~170 ms). It sent nothing, so its kept SINR stayed the first one: every
    request of the run went on board, all late (hit ratio 0). Read as it is now, the link
    brings it to the edge once the edge is the sooner, and each answer there takes less than
    the on-board 80 ms; from ~1 s on they meet the deadline."""
    res = airan.run(_sector_edge(), seed=1)
    t = res.requests
    agv = np.asarray(t.column("fleet").to_pylist()) == "agv"
    created = np.asarray(t.column("created_s").to_numpy())[agv]
    place = np.asarray(t.column("placement").to_pylist())[agv]
    latency = np.asarray(t.column("latency_ms").to_numpy(), dtype=float)[agv]
    outcome = np.asarray(t.column("outcome").to_pylist())[agv]
    assert len(created) >= 14
    assert place[0] == "local"  # (the edge is slower at first: on board is right)
    later = created > 0.6
    assert np.all(place[later] == "edge"), list(zip(created, place, strict=True))
    assert np.all(latency[later] < 80.0)  # the on-board time, which misses 50 ms
    assert np.all(outcome[created > 1.0] == "met")


def _agv_on_board(snap: Snapshot, batch: Batch) -> np.ndarray:
    """The AGV (device 0) on board, the cameras at the edge (site 0): the AGV sends nothing."""
    return np.where(batch.device == 0, LOCAL, 0)


def test_a_policy_reads_a_link_kept_from_long_ago_as_it_is_now() -> None:
    """The snapshot's uplink and downlink figures for a device whose kept SINRs are old (kept
    on board, it has sent nothing since the start) are those it gives once they are marked
    stale, the value now, and reading them keeps nothing; deadline-aware's estimate and the
    engine's compiled decision follow them: the edge, where the SINR kept from the start
    estimated it at ~170 ms against the CPU's 80."""
    eng = Engine(_sector_edge(0.8), policy=_agv_on_board, seed=1)
    while eng.now_s < 0.6:
        eng.step()
    st = eng._st
    dev = np.array([0], dtype=np.int64)
    assert st.ue_se_slot[0] == 0 and st.ue_se_slot_dl[0] == 0  # kept from the start
    bits = np.array([15e3 * 8])
    snap = eng.snapshot()
    read = (snap.ul_time_s(dev, bits), snap.ul_rate_bps(dev), snap.dl_rate_bps(dev))
    assert st.ue_se_slot[0] == 0 and st.ue_se_slot_dl[0] == 0  # nothing kept by the reads
    st.ue_se_slot[0] = st.ue_se_slot_dl[0] = -1  # the value now, as after a move
    snap = eng.snapshot()
    now = (snap.ul_time_s(dev, bits), snap.ul_rate_bps(dev), snap.dl_rate_bps(dev))
    st.ue_se_slot[0] = st.ue_se_slot_dl[0] = 0
    for a, b in zip(read, now, strict=True):
        np.testing.assert_array_equal(a, b)
    w = eng.world
    batch = Batch(np.array([eng.now_s]), dev, np.array([0]), w.dev_cell[dev])
    est = estimate_latency_s(eng.snapshot(), batch)[0]
    assert est[0] < est[-1]  # the edge is the sooner now
    from airan.engine import decide

    assert decide.deadline_aware(eng, dev, np.array([0]), False)[0] == 0  # the edge
