"""A service's uplink priority (``ul_priority``, TS 38.331 LogicalChannelConfig priority): a
device's grant serves its buffer in priority order (TS 38.321 5.4.3.1), so a robot's obstacle
detections go ahead of its teleoperation video instead of queueing behind it (a warehouse
robot maker's review: detections met 85% on the robots that also streamed, 99.95% on the
others). Without priorities, or with equal ones, the buffer is the FIFO it always was."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.scenario import scenario_from_dict


def _scenario(priorities: tuple[int | None, int | None]) -> dict[str, Any]:
    """factory's 40 AMRs each detecting (30 kB at 15 Hz) and streaming video (40 kB at 30
    Hz) over four indoor cells: the uplink runs full, so each robot's buffer holds both."""
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["fleets"] = [f for f in d["fleets"] if f["name"] == "amr"]
    d["fleets"][0]["services"] = ["detect", "teleop"]
    d["services"] = [
        {"name": "detect", "model": "yolov8s", "rate_hz": 15, "ul_kb": 30, "dl_kb": 0.5,
         "deadline_ms": 60, "ul_priority": priorities[0]},
        {"name": "teleop", "model": "resnet50", "rate_hz": 30, "ul_kb": 40, "dl_kb": 0.1,
         "deadline_ms": 150, "on_device": False, "ul_priority": priorities[1],
         "service_time": {"dist": "fixed", "mean_ms": 0.01}}]
    return d


def _run(priorities: tuple[int | None, int | None]) -> dict[str, Any]:
    return airan.run(scenario_from_dict(_scenario(priorities)), policy="nearest-edge",
                     duration_s=2.0, seed=1).summary


@pytest.fixture(scope="module")
def fifo() -> dict[str, Any]:
    return _run((None, None))


def test_a_higher_priority_service_goes_ahead_in_the_devices_uplink_buffer(fifo) -> None:
    first = _run((1, 2))
    d0, d1 = fifo["services"]["detect"], first["services"]["detect"]
    t0, t1 = fifo["services"]["teleop"], first["services"]["teleop"]
    assert fifo["cells"]["max_prb_utilization_ul"] > 0.95  # (a full uplink: buffers queue)
    assert d1["breakdown_ms"]["ul_wait"] < 0.1 * d0["breakdown_ms"]["ul_wait"]
    assert d1["hit_ratio"] > d0["hit_ratio"] + 0.3  # (0.32 to 0.71; seeds 2, 3: +0.58, +0.61)
    assert t1["breakdown_ms"]["ul_wait"] > t0["breakdown_ms"]["ul_wait"]  # it waits instead
    for s in (fifo, first):
        r = s["requests"]
        assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]


def test_equal_priorities_are_the_fifo_without_them(fifo) -> None:
    same = _run((5, 5))
    assert same["requests"] == fifo["requests"]
    for name, svc in same["services"].items():  # (all but the priority each was given)
        assert svc["priority"]["ul"] == 5 and fifo["services"][name]["priority"]["ul"] == 16
        assert {k: v for k, v in svc.items() if k != "priority"} == {
            k: v for k, v in fifo["services"][name].items() if k != "priority"}


def test_a_priority_outside_ts_38_331s_range_is_an_input_error(tmp_path) -> None:
    import yaml

    d = _scenario((0, 2))
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "services[detect].ul_priority" in " ".join(res.output.split())


def _buffer_bits_by_service(eng: Any, dev: int) -> dict[int, float]:
    """The bits of each service waiting in a device's uplink buffer, read off its linked list."""
    from airan.engine import kernel as K

    st = eng._st
    out: dict[int, float] = {}
    r = int(st.ue_ul_head[dev])
    while r >= 0:
        v = int(st.rq_i[r, K.I_SVC])
        out[v] = out.get(v, 0.0) + float(st.rq_f[r, K.REM_BITS])
        r = int(st.rq_i[r, K.I_NEXT])
    return out


def test_a_snapshot_counts_only_the_buffered_bits_that_go_ahead_of_a_services_priority() -> None:
    """A detection (priority 1) waits behind the detections already buffered, not behind the
    robot's video (priority 2), which waits behind both: the policies' uplink estimates queue
    each request where the grant will serve it."""
    import numpy as np

    from airan.engine import Engine
    from airan.policy import Snapshot

    eng = Engine(scenario_from_dict(_scenario((1, 2))), policy="nearest-edge", duration_s=2.0,
                 seed=1)
    eng.step(int(round(1.0 / eng.world.slot_s)))
    snap = Snapshot(eng)
    dev = np.arange(len(eng.world.dev_fleet))
    detect, teleop = np.zeros(len(dev), dtype=np.int64), np.ones(len(dev), dtype=np.int64)
    whole = snap.ul_backlog_bits(dev)
    ahead_of_detect = snap.ul_backlog_bits(dev, detect)
    by_service = [_buffer_bits_by_service(eng, int(x)) for x in dev]
    assert ahead_of_detect == pytest.approx([b.get(0, 0.0) for b in by_service], abs=1e-6)
    assert whole == pytest.approx([sum(b.values()) for b in by_service], rel=1e-9, abs=1e-6)
    assert np.array_equal(snap.ul_backlog_bits(dev, teleop), whole)  # the lowest: everything
    assert whole.sum() > 20 * ahead_of_detect.sum() > 0.0  # (the video fills the buffers)
    bits = np.full(len(dev), eng.world.svc_ul_bits[0])
    by_priority, by_whole = snap.ul_time_s(dev, bits, detect), snap.ul_time_s(dev, bits)
    behind_video = whole > ahead_of_detect + 1e-6
    assert behind_video.sum() > len(dev) // 2
    assert (by_priority[behind_video] < by_whole[behind_video]).all()
    np.testing.assert_array_equal(by_priority[~behind_video], by_whole[~behind_video])


def test_equal_priorities_leave_the_snapshots_uplink_estimates_as_without_services() -> None:
    import numpy as np

    from airan.engine import Engine
    from airan.policy import Snapshot

    eng = Engine(scenario_from_dict(_scenario((3, 3))), policy="nearest-edge", duration_s=2.0,
                 seed=1)
    eng.step(int(round(0.5 / eng.world.slot_s)))
    snap = Snapshot(eng)
    dev = np.arange(len(eng.world.dev_fleet))
    bits = np.full(len(dev), 3e5)
    for v in (0, 1):
        svc = np.full(len(dev), v, dtype=np.int64)
        assert np.array_equal(snap.ul_backlog_bits(dev, svc), snap.ul_backlog_bits(dev))
        assert np.array_equal(snap.ul_time_s(dev, bits, svc), snap.ul_time_s(dev, bits))
        assert np.array_equal(snap.ul_report_round_s(dev, bits, svc),
                              snap.ul_report_round_s(dev, bits))


def test_deadline_aware_offloads_a_priority_service_its_devices_video_does_not_delay() -> None:
    """Counting the robot's whole buffer, deadline-aware saw its detections waiting ~0.4 s
    behind the video and kept two thirds of them off the uplink (hit 0.32); by priority it
    sees ~40 ms, offloads them and meets them as nearest-edge does (0.71 on this seed's
    layout, 0.83 and 0.92 on seeds 2 and 3: what a full uplink leaves)."""
    s = airan.run(scenario_from_dict(_scenario((1, 2))), policy="deadline-aware",
                  duration_s=2.0, seed=1).summary["services"]["detect"]
    near = _run((1, 2))["services"]["detect"]
    assert s["hit_ratio"] > 0.65
    assert s["hit_ratio"] == pytest.approx(near["hit_ratio"], abs=0.02)
