"""Edges of the engine found in review: requests that could wait forever now end.

* a request with nothing to upload goes through the uplink under every scheduler (PF sized
  its grant to the empty buffer, zero PRBs, and never sent it);
* an answer for a device whose downlink SINR is below the floor ends as radio_outage, as an
  upload does (it waited, unbounded, and took a share of the cell's PRBs it could not use);
* a device that hands over mid-upload to a cell with no path to its site has the request
  placed again (without faults, nothing did).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine import Engine
from airan.scenario import scenario_from_dict


def _indoor(fleet: dict[str, Any], service: dict[str, Any], **radio: Any) -> dict[str, Any]:
    """One 24 dBm InF ceiling cell with an L40S beside it."""
    return {
        "name": "edge-case", "duration_s": 2, "seed": 1, "policy": "nearest-edge",
        "radio": {"model": "nr", "environment": "inf-sh", **radio},
        "carrier": {"band": "n78", "fc_ghz": 3.7, "bandwidth_mhz": 100, "numerology": 1,
                    "tdd_pattern": "DDSUU", "tx_power_dbm": 24},
        "cell_sites": [{"name": "cell-a", "position_m": [0, 0], "height_m": 8, "sectors": 1}],
        "compute_sites": [{"name": "edge", "at": "cell-a", "kind": "cell",
                           "gpus": [{"type": "L40S", "count": 1}]}],
        "fleets": [fleet], "services": [service],
    }


def _trace(result: Any) -> dict[str, np.ndarray]:
    t = result.requests
    out = {name: np.asarray(t[name].to_numpy(zero_copy_only=False))
           for name in ("outcome", "created_s", "ul_wait_ms", "ul_air_ms", "ul_transport_ms",
                        "queue_ms", "compute_ms", "dl_transport_ms")}
    # when the answer reached the device's cell (s)
    out["at_cell_s"] = out["created_s"] + sum(out[name] for name in (
        "ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms", "compute_ms",
        "dl_transport_ms")) * 1e-3
    return out


@pytest.mark.parametrize(("scheduler", "access"), [
    ("pf", "sr"), ("rr", "sr"), ("pf", "configured_grant"), ("rr", "configured_grant")])
def test_a_request_with_nothing_to_upload_is_served(scheduler: str, access: str) -> None:
    d = _indoor({"name": "amr", "count": 10, "area": {"x_m": [0, 50], "y_m": [0, 50]},
                 "device_class": "amr", "services": ["detect"]},
                {"name": "detect", "model": "yolov8s", "rate_hz": 20, "ul_kb": 0,
                 "dl_kb": 0.5, "deadline_ms": 50},
                scheduler=scheduler, ul_access=access)
    s = Engine(scenario_from_dict(d), duration_s=2.0).run().summary
    r = s["requests"]
    assert r["created"] == 400
    assert r["met"] >= 395 and r["in_flight"] <= 5  # those of the run's last few ms
    assert s["services"]["detect"]["breakdown_ms"]["ul_air"] < 1.0


def test_answers_for_a_device_out_of_downlink_coverage_end_as_radio_outage() -> None:
    # 3 km from a 24 dBm indoor cell: the uplink still closes (4 receive antennas, full
    # power: 12-14 dB), the downlink's mean SINR is -9 to -16 dB, mostly below the -10 dB floor
    # (at 2 km, -2 to -15 dB: fading let every answer through on this seed's layout)
    d = _indoor({"name": "amr", "count": 10, "area": {"x_m": [3000, 3100], "y_m": [0, 100]},
                 "device_class": "amr", "services": ["detect"]},
                {"name": "detect", "model": "yolov8s", "rate_hz": 20, "ul_kb": 15,
                 "dl_kb": 0.5, "deadline_ms": 50}, scheduler="pf")
    result = Engine(scenario_from_dict(d), duration_s=6.0).run()
    assert result.summary["requests"]["dropped_by_reason"].get("radio_outage", 0) > 0
    t = _trace(result)
    # nothing waits for the downlink: an in-flight answer at its device's cell got there in
    # the run's last few ms (a HARQ retransmission under way, say)
    waiting = (t["outcome"] == "in_flight") & (t["at_cell_s"] < 6.0 - 0.05)
    assert not waiting.any(), t["at_cell_s"][waiting][:5]


def test_a_handover_to_a_cell_with_no_path_to_the_site_places_the_request_again() -> None:
    d = _indoor({"name": "amr", "count": 20, "area": {"x_m": [0, 120], "y_m": [-10, 10]},
                 "device_class": "amr", "services": ["detect"],
                 "mobility": {"model": "random_waypoint", "speed_mps": [10, 20],
                              "pause_s": [0, 0.1]}},
                {"name": "detect", "model": "yolov8s", "rate_hz": 5, "ul_kb": 300,
                 "dl_kb": 0.5, "deadline_ms": 500}, scheduler="pf")
    d["cell_sites"].append({"name": "cell-b", "position_m": [120, 0], "height_m": 8,
                            "sectors": 1})
    d["nodes"] = [{"name": "mec", "position_m": [0, 10]}]
    d["compute_sites"][0].update(at="mec", kind="edge")
    d["transport"] = {"links": [{"a": "cell-a", "b": "mec", "fiber_km": 0.1,
                                 "capacity_gbps": 10}]}
    result = Engine(scenario_from_dict(d), duration_s=10.0).run()
    t = _trace(result)
    stuck = (t["outcome"] == "in_flight") & (t["created_s"] < 9.0)
    assert not stuck.any(), t["created_s"][stuck]
    assert result.summary["requests"]["dropped_by_reason"].get("no_route", 0) > 0
