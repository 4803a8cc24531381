"""Requests a policy keeps on devices that cannot compute them before their deadline (a fleet
without an accelerator runs the model on the catalog's generic CPU): a caution names the fleet,
the service, the on-device time, the deadline and how many, and points to `admission: strict`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.engine import Engine
from airan.report.cautions import cautions, slow_on_device
from airan.report.placement import held_on_device, local_counts
from airan.scenario.load import device_times_s


def test_device_times_are_the_engines_on_device_times() -> None:
    """factory's AMRs have no accelerator: their times are the device CPU's, the ones the
    engine runs a request kept on board for (fixed times: no spread to take the least of);
    its cameras' CPUs run no model (their class's cpu_runs_models), so they have none."""
    sc = airan.load_scenario("factory")
    w = Engine(sc, duration_s=0.01).world
    times = device_times_s(sc)
    assert set(times) == {(f.name, v) for f in sc.fleets if f.count and f.name != "camera"
                          for v in f.services}
    camera = w.fleet_names.index("camera")
    assert np.isinf(w.local_time_s[camera]).all()
    for (fleet, svc), t in times.items():
        local = w.local_time_s[w.fleet_names.index(fleet), w.service_names.index(svc)]
        assert np.isclose(t, local, rtol=1e-9) or t <= local  # the least, at most the mean


def test_local_counts_weigh_the_sampled_rows() -> None:
    """Every request up to the trace's limit is a row; beyond it one row in 1/sample stands
    for 1/sample requests."""
    table = pa.table({
        "request": [0, 1, 2, 10, 11],
        "fleet": ["a", "a", "b", "a", "a"],
        "service": ["s", "s", "s", "s", "s"],
        "placement": ["local", "edge", "local", "local", "local"],
    })
    counts = local_counts(table, {"limit": 5, "sample_beyond_limit": 0.25})
    assert counts == {("a", "s"): 9.0, ("b", "s"): 1.0}
    assert local_counts(table.filter(pa.array([False, True, False, False, False]))) == {}


def _summary(complete: bool = True) -> dict:
    return {"policy": "deadline-aware", "services": {"perception": {"deadline_ms": 100.0}},
            "fleets": {"vehicles": {"services": {"perception": {"count": 20980}}},
                       "vehicles-orin": {"services": {"perception": {"count": 9000}}}},
            "trace": {"complete": complete}}


def test_a_caution_names_requests_kept_on_a_device_slower_than_the_deadline() -> None:
    device_s = {("vehicles", "perception"): 0.220, ("vehicles-orin", "perception"): 0.0038}
    kept = {("vehicles", "perception"): 8633.0, ("vehicles-orin", "perception"): 9000.0}
    line = slow_on_device(_summary(), device_s, kept)
    assert line is not None and "\n" not in line
    assert "8,633 of 20,980 vehicles requests of perception (220 ms on the device against " \
           "a 100 ms deadline)" in line
    assert "vehicles-orin" not in line  # its 3.8 ms meet the deadline
    assert "`admission: strict`" in line
    assert line in cautions(_summary(), device_s, kept)
    # a sampled trace gives an estimate; none kept, or none too slow: nothing to say
    assert "about 8,633 of 20,980" in (slow_on_device(_summary(False), device_s, kept) or "")
    assert slow_on_device(_summary(), device_s, {("vehicles-orin", "perception"): 9.0}) is None
    assert not any("deadline" in c for c in cautions(_summary()))


def test_the_caution_names_the_other_work_the_slow_requests_held_up_on_board() -> None:
    """A drone maker's review: a VLA kept on board (548 ms against 250) made the drones'
    obstacle detections (3.4 ms on board) late behind it, and the caution named only the VLA:
    the late ones that waited on board are counted (held_on_device: placement local, late,
    queue_ms above 0), those of the slow service itself not again, other fleets not at all."""
    table = pa.table({
        "request": list(range(6)),
        "fleet": ["fly", "fly", "fly", "fly", "road", "fly"],
        "service": ["obstacle", "obstacle", "obstacle", "nav", "obstacle", "obstacle"],
        "placement": ["local", "local", "local", "local", "local", "edge"],
        "outcome": ["late", "late", "met", "late", "late", "late"],
        "queue_ms": [120.0, 0.0, 30.0, 200.0, 90.0, 80.0],
    })
    held = held_on_device(table)
    assert held == {("fly", "obstacle"): 1.0, ("fly", "nav"): 1.0, ("road", "obstacle"): 1.0}
    summary = {"policy": "deadline-aware", "trace": {"complete": True},
               "services": {"nav": {"deadline_ms": 250.0}, "obstacle": {"deadline_ms": 50.0}},
               "fleets": {"fly": {"services": {"nav": {"count": 900}}}}}
    device_s = {("fly", "nav"): 0.548, ("fly", "obstacle"): 0.0034,
                ("road", "obstacle"): 0.0034}
    line = slow_on_device(summary, device_s, {("fly", "nav"): 9.0, ("fly", "obstacle"): 50.0,
                                              ("road", "obstacle"): 40.0}, held)
    assert line is not None
    assert ("kept 9 of 900 fly requests of nav (548 ms on the device against a 250 ms "
            "deadline) on board, where none can meet it; a device's accelerator runs one "
            "request at a time, so they can hold up its other work: on those fleets, 1 fly "
            "requests of obstacle ended late after waiting on board (behind them, or behind "
            "their own; a service on an engine of its own, the fleet's `engines`, a DLA say, "
            "waits for no other's);") in line, line
    assert "road" not in line  # (no slow service on board there)


def test_a_run_that_keeps_work_on_too_slow_devices_says_so(tmp_path: Path) -> None:
    """factory with the 'local' policy: the AMRs run detect on their CPU (80 ms against a
    50 ms deadline); the terminal and the report both say how many they kept there. The
    cameras compute nothing on board (an integrator's review: their CPUs ran YOLOv8m in
    220 ms, unsaid): 'local' drops their requests, not_on_device."""
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "factory", "--policy", "local", "--duration", "0.3",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    n = summary["fleets"]["amr"]["services"]["detect"]["count"]
    text = re.sub(r"\s+", " ", res.output)
    assert (f"{n:,} of {n:,} amr requests of detect (80 ms on the device against a 50 ms "
            "deadline)") in text
    assert "camera requests of inspect" not in text
    inspect = summary["services"]["inspect"]
    assert inspect["count"] > 0 and inspect["met"] == 0
    assert set(inspect["dropped_by_reason"]) == {"not_on_device"}
    report = (out / "report.html").read_text()
    assert "amr requests of detect (80 ms on the device" in report
