"""A trace's devices send only while they are in it (``outside_trace: silent``, the default):
a SUMO vehicle that enters the network late or leaves it early sent all run from where it
entered or left (a vehicle maker's review), loading the cells at the network's edges with
cars that were not there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from airan import load_scenario
from airan.engine import Engine
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings

# car a drives from t 0 to 3 s, car b from 4 to 8 s (trace time), both 150 m east
TRACE = "t,device,x,y\n0,a,-300,0\n3,a,-150,0\n4,b,100,50\n8,b,250,50\n"


def _cars(tmp_path: Path, duration_s: float, **mobility: Any) -> Any:
    trace = tmp_path / "cars.csv"
    trace.write_text(TRACE)
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    svc = d["fleets"][0]["services"][0]
    d["duration_s"] = duration_s
    d["fleets"] = [{"name": "cars", "count": 2, "device_class": "vehicle", "services": [svc],
                    "mobility": {"model": "trace", "file": str(trace), **mobility}}]
    return scenario_from_dict(d)


def _created(sc: Any) -> dict[int, np.ndarray]:
    t = Engine(sc, seed=1).run().requests.to_pydict()
    dev, created = np.array(t["device"]), np.array(t["created_s"])
    return {d: np.sort(created[dev == d]) for d in (0, 1)}


def test_a_trace_device_sends_only_between_its_first_and_last_sample(tmp_path: Path) -> None:
    silent = _created(_cars(tmp_path, 10.0))
    held = _created(_cars(tmp_path, 10.0, outside_trace="hold"))
    assert silent[0].min() >= 0.0 and silent[0].max() <= 3.0
    assert silent[1].min() >= 4.0 and silent[1].max() <= 8.0
    # city's perception at 10 Hz: 3 s and 4 s of it, where holding sends all 10 s
    assert len(silent[0]) == pytest.approx(30, abs=1) and len(silent[1]) == pytest.approx(40, abs=1)
    assert len(held[0]) == pytest.approx(100, abs=1) and len(held[1]) == pytest.approx(100, abs=1)
    # the same arrivals inside the window: those outside it are left out, none moved
    for d, (lo, hi) in ((0, (0.0, 3.0)), (1, (4.0, 8.0))):
        inside = held[d][(held[d] >= lo) & (held[d] <= hi)]
        np.testing.assert_array_equal(silent[d], inside)


def test_the_window_follows_the_traces_start_time(tmp_path: Path) -> None:
    """start_s 2: trace time 2 s is simulated 0, so car a sends for its last second, car b
    from 2 s to 6 s."""
    silent = _created(_cars(tmp_path, 7.0, start_s=2.0))
    assert silent[0].max() <= 1.0 and len(silent[0]) == pytest.approx(10, abs=1)
    assert silent[1].min() >= 2.0 and silent[1].max() <= 6.0


def test_validate_says_what_share_of_the_run_a_traces_devices_send(tmp_path: Path) -> None:
    [w] = [w for w in scenario_warnings(_cars(tmp_path, 8.0)) if "fleets[cars]" in w]
    # a: 3 s, b: 4 s of 2 x 8 s
    assert "'fleets[cars].mobility.outside_trace'" in w
    assert "in the trace for 44% of the run on average" in w
    assert not [w for w in scenario_warnings(_cars(tmp_path, 8.0, outside_trace="hold"))
                if "fleets[cars]" in w]
    # a run past the trace: said, and the share (a: 3 s, b: 4 s of 2 x 10 s)
    past, share = [w for w in scenario_warnings(_cars(tmp_path, 10.0)) if "fleets[cars]" in w]
    assert "reaches 2 s past the trace's last sample (t 8 s): the trace's devices are silent " \
        "then" in past and "in the trace for 35% of the run" in share


def test_an_unknown_outside_trace_is_bad_input(tmp_path: Path) -> None:
    from airan.errors import InputError

    with pytest.raises(InputError, match=r"outside_trace"):
        _cars(tmp_path, 8.0, outside_trace="park")


def test_a_traces_handover_rate_is_over_the_minutes_its_devices_are_in_the_run(
        tmp_path: Path) -> None:
    """A V2X engineer's review: cars in a trace for part of the run had their handovers
    divided by the whole run's minutes (1.67 a minute where their own minutes gave 2.61), and
    a car whose samples all fall after the run counted as moving. Car a is in the run for 3 s,
    car b for 4 s, car c (samples at 20-30 s) never."""
    trace = tmp_path / "cars.csv"
    trace.write_text(TRACE + "20,c,0,0\n30,c,100,0\n")
    sc = _cars(tmp_path, 10.0)
    d = sc.model_dump(mode="json", exclude_unset=True)
    d["fleets"][0].update(count=3, mobility={"model": "trace", "file": str(trace)})
    mob = Engine(scenario_from_dict(d), seed=1).run().summary["mobility"]
    f = mob["fleets"]["cars"]
    assert f["moving_devices"] == 2 and mob["mobile_devices"] == 2
    assert f["handovers_per_device_per_min"] == pytest.approx(f["handovers"] / (7.0 / 60.0))
    assert mob["handovers_per_device_per_min"] == pytest.approx(f["handovers_per_device_per_min"])


def test_a_trace_in_clock_time_a_coarse_update_and_an_altitude_are_warned_of(
        tmp_path: Path) -> None:
    """A V2X engineer's review: a trace in Unix time read only "in the trace for 0% of the
    run"; update_ms 500 made out-of-sync silences vanish (94 at 50 ms, 3 at 500) silently; a
    car's GPS altitude in z made it an aerial UE silently."""
    def warned(text: str, **mobility: Any) -> list[str]:
        trace = tmp_path / "t.csv"
        trace.write_text(text)
        sc = _cars(tmp_path, 10.0)
        d = sc.model_dump(mode="json", exclude_unset=True)
        d["fleets"][0]["mobility"] = {"model": "trace", "file": str(trace), **mobility}
        return scenario_warnings(scenario_from_dict(d))

    epoch = "t,device,x,y\n1717000000,a,0,0\n1717000060,a,300,0\n"
    [w] = [w for w in warned(epoch) if "clock times" in w]
    assert "start at t 1,717,000,000 s" in w and "start_s: 1717000000" in w
    coarse = [w for w in warned(TRACE, update_ms=500) if "update_ms" in w]
    assert len(coarse) == 1 and "every 500 ms" in coarse[0]
    assert not [w for w in warned(TRACE) if "update_ms" in w]  # (100 ms, the default)
    high = "t,device,x,y,z\n0,a,0,0,48.7\n3,a,150,0,48.7\n"
    [w] = [w for w in warned(high) if "columns.z" in w]
    assert "heights up to 48.7 m" in w and "not an altitude" in w


def test_a_sumo_trace_of_vehicles_and_persons_replayed_whole_is_warned_of(
        tmp_path: Path) -> None:
    """A V2X engineer's review: a SUMO run's pedestrians replayed as the car fleet's devices,
    silently. Warned where the fleet picks no elements; not where it does."""
    fcd = tmp_path / "run.fcd.xml"
    fcd.write_text("<fcd-export><timestep time='0'><vehicle id='v' x='0' y='0' type='car'/>"
                   "<person id='p' x='5' y='5'/><person id='q' x='6' y='5'/></timestep>"
                   "<timestep time='10'><vehicle id='v' x='100' y='0' type='car'/>"
                   "<person id='p' x='5' y='15'/><person id='q' x='6' y='15'/></timestep>"
                   "</fcd-export>")
    sc = _cars(tmp_path, 5.0)
    d = sc.model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["mobility"] = {"model": "trace", "file": str(fcd), "format": "sumo_fcd"}
    [w] = [w for w in scenario_warnings(scenario_from_dict(d)) if "SUMO trace" in w]
    assert "1 vehicle and 2 persons" in w and "elements: [vehicle]" in w
    assert "fleets[cars].mobility.elements" in w
    d["fleets"][0]["mobility"]["elements"] = ["vehicle"]
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "SUMO trace" in w]
