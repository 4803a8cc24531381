"""A power-limited device's uplink time, sharing its cell, at its rate on its share of the PRBs.

The uplink time a policy reads (``Snapshot.ul_time_s``) shares the cell among the UEs with
data as processor sharing. It took the device's rate as linear in its PRB share; a device at a
cell's edge cannot put its open-loop power on every PRB of a 100 MHz carrier, and on a third
of them loses little: in a port's review an AGV behind two OCR cameras' 200 kB uploads was
estimated at 81 ms on the air (kept on its 80 ms CPU against a 50 ms deadline) where it took
36 ms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import airan
from airan.engine import Engine
from airan.engine import kernel as K
from airan.scenario import scenario_from_dict


def _agv_beside_ocr(duration_s: float = 2.0) -> Any:
    """One one-sector UMa cell (n78, 100 MHz, DDDSU), an edge L40S beside it; an AGV 620 m
    out (yolov8s, 8 kB frames at 10 Hz, 50 ms; 80 ms on its CPU), power-limited there, and
    three OCR cameras 300 m out sending 200 kB at 4 Hz: when the AGV decides, one to three of
    them are uploading."""
    return scenario_from_dict({
        "name": "agv-beside-ocr", "radio": {"environment": "uma"}, "policy": "deadline-aware",
        "carrier": {"band": "n78", "bandwidth_mhz": 100, "tdd_pattern": "DDDSU"},
        "cell_sites": [{"name": "s", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "mec", "position_m": [0, 0]}],
        "compute_sites": [{"name": "edge", "at": "mec", "kind": "edge",
                           "gpus": [{"type": "L40S", "count": 1}]}],
        "transport": {"backhaul": {"to": "mec", "capacity_gbps": 10}},
        "fleets": [{"name": "agv", "count": 1, "device_class": "amr", "services": ["detect"],
                    "area": {"x_m": [620, 622], "y_m": [0, 2]}},
                   {"name": "ocr", "count": 3, "device_class": "camera", "services": ["ocr"],
                    "area": {"x_m": [300, 310], "y_m": [0, 10]}}],
        "services": [{"name": "detect", "model": "yolov8s", "rate_hz": 10, "ul_kb": 8,
                      "dl_kb": 0.5, "deadline_ms": 50},
                     {"name": "ocr", "model": "resnet50", "rate_hz": 4, "ul_kb": 200,
                      "dl_kb": 1, "deadline_ms": 500}],
        "duration_s": duration_s})


def test_a_power_limited_device_behind_large_uploads_is_not_kept_on_board() -> None:
    """Estimated at a third of its rate behind two uploads (~100 ms on the air), the AGV ran
    18 of its 20 requests on its CPU, all late (hit ratio 0.1); at its rate on its share it
    sends every one to the edge, which answers each within the deadline."""
    res = airan.run(_agv_beside_ocr(), seed=1)
    t = res.requests
    agv = np.asarray(t.column("fleet").to_pylist()) == "agv"
    place = np.asarray(t.column("placement").to_pylist())[agv]
    latency = np.asarray(t.column("latency_ms").to_numpy(), dtype=float)[agv]
    assert len(place) == 20
    assert np.all(place == "edge"), place
    assert np.all(latency < 50.0), latency
    assert res.summary["services"]["ocr"]["hit_ratio"] == 1.0  # (the cameras still meet 500 ms)


def test_uplink_time_behind_larger_uploads_is_its_bits_at_its_rate_on_its_share() -> None:
    """Where every other UE of the AGV's cell with data holds at least the AGV's upload, the
    sharing is one stretch: the upload's time is its bits at the rate the snapshot gives the
    AGV on its share of the cell (``ul_rate_bps``), not its bits times the UEs sharing over its
    rate alone. That rate is well above its share of its rate alone (it is power-limited)."""
    eng = Engine(_agv_beside_ocr(), seed=1)
    st, w = eng._st, eng.world
    dev = np.array([0], dtype=np.int64)
    bits = np.array([float(w.svc_ul_bits[0])])
    checked = 0
    while not eng.done and checked < 5:
        eng.step()
        act = st.act_ul[:st.ctr[K.C_ACT_UL]]
        others = act[(act != 0) & (w.dev_cell[act] == w.dev_cell[0])]
        if st.ue_ul_bits[0] > 0 or not len(others) or np.any(st.ue_ul_bits[others] < bits[0]):
            continue
        snap = eng.snapshot()
        rate = snap.ul_rate_bps(dev)[0]
        np.testing.assert_allclose(snap.ul_time_s(dev, bits)[0], bits[0] / rate, rtol=1e-12)
        checked += 1
        last = (rate, len(others))
    assert checked == 5
    # its rate alone, with the cell's PRBs to itself: sharing with n others costs it far
    # less than the 1 / (n + 1) that a rate linear in its share would
    rate, n = last
    st.ue_ul_bits[others] = 0.0  # (the run is not stepped again)
    alone = eng.snapshot().ul_time_s(dev, bits)[0]
    assert rate * (n + 1) > 1.5 * (bits[0] / alone)


def test_uplink_time_behind_smaller_and_larger_uploads_is_the_integral_over_its_stretches(
        ) -> None:
    """Behind three others holding 0.2 B, 0.6 B and 5 B (B the AGV's upload), the sharing runs
    in three stretches: 0.2 B among four UEs, then 0.4 B among three, then 0.4 B among two
    (the third other still sending), each at the AGV's rate on that share of the cell's free
    PRBs by the capacity rule: sum over stretches of its bits over that rate."""
    eng = Engine(_agv_beside_ocr(), seed=1)
    st, w = eng._st, eng.world
    dev = np.array([0], dtype=np.int64)
    b = float(w.svc_ul_bits[0])
    while True:
        eng.step()
        act = st.act_ul[:st.ctr[K.C_ACT_UL]]
        others = act[(act != 0) & (w.dev_cell[act] == w.dev_cell[0])]
        if st.ue_ul_bits[0] == 0 and len(others) == 3:
            break
        assert not eng.done

    def rate(n_sharing: int) -> float:
        return float(K.ul_rates_bps(eng._kw, eng._sref, dev, np.array([n_sharing - 1.0]),
                                    eng._ul_slot_fraction)[0])

    st.ue_ul_bits[others] = [0.2 * b, 0.6 * b, 5.0 * b]
    expected = 0.2 * b / rate(4) + 0.4 * b / rate(3) + 0.4 * b / rate(2)
    got = eng.snapshot().ul_time_s(dev, np.array([b]))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # (power-limited: the rate on a share falls less than the share does)
    assert rate(4) * 4 > 1.5 * rate(1)
