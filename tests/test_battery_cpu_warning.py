"""A handheld fleet's battery life on the catalog's robot CPU is warned about.

A hospital's review: AR glasses (2 Wh) and wearables (1 Wh) of the handset class, without an
accelerator, lasted 0.64 h and 0.32 h: 3 W each of the catalog's DeviceCPU idle, an embedded
robot CPU; with a SoC of their own idling at 0.3 W and 5 mW, 4.6 h and 10.2 h.
"""

from __future__ import annotations

from typing import Any

from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings


def _fleet(**fleet: Any) -> Any:
    return scenario_from_dict({
        "gpus": {"GlassesSoC": {"name": "glasses SoC (the user's figures)", "kind": "embedded",
                                "memory_gb": 8, "mem_bw_tbps": 0.05, "tdp_w": 5, "idle_w": 0.3,
                                "price_usd": 300, "tflops": {"fp32": 1, "bf16": 2, "fp16": 2,
                                                            "int8": 8}}},
        "name": "ward", "duration_s": 1, "radio": {"environment": "inh"},
        "cell_sites": [{"name": "c", "position_m": [0, 0], "height_m": 3, "sectors": 1}],
        "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "onprem", "at": "dc", "kind": "edge",
                           "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"backhaul": {"to": "dc", "capacity_gbps": 10}},
        "fleets": [{"name": "glasses", "count": 5, "services": ["ar"],
                    "area": {"center_m": [0, 0], "radius_m": 20}, **fleet}],
        "services": [{"name": "ar", "model": "yolov8n", "rate_hz": 5, "ul_kb": 20,
                      "dl_kb": 2, "deadline_ms": 200}]})


def _battery(sc: Any) -> list[str]:
    return [w for w in scenario_warnings(sc) if "DeviceCPU" in w]


def test_a_handset_fleets_battery_on_the_robot_cpu_is_warned_naming_its_idle_draw() -> None:
    (line,) = _battery(_fleet(device_class="handset", battery_wh=2.0))
    assert "fleets[glasses].accelerator" in line and "3 W idle" in line
    assert "give the fleet an accelerator of its own" in line
    # (engines of its own still idle on DeviceCPU: warned too)
    npu = {"npu": {"services": ["ar"], "time_ms": {"ar": 5.0}, "active_w": 0.5}}
    assert _battery(_fleet(device_class="handset", battery_wh=2.0, engines=npu))


def test_no_warning_without_a_battery_with_a_soc_of_its_own_or_for_a_robot() -> None:
    """An AMR's embedded CPU is the one DeviceCPU stands for; a fleet with its own SoC (a
    scenario gpus: entry) or without a battery figure has nothing to mislead."""
    assert not _battery(_fleet(device_class="handset"))
    assert not _battery(_fleet(device_class="amr", battery_wh=500.0, base_power_w=50.0))
    soc = _fleet(device_class="handset", battery_wh=2.0, accelerator="GlassesSoC")
    assert not _battery(soc)
