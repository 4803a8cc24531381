"""A busy GPU in small batches has room: utilization counts busy time, and dynamic batching
serves more requests in the same time at higher load (an operator's review: 93% busy with 6 VLA
arms read as full, where 24 were all served)."""

from __future__ import annotations

from typing import Any

from airan.engine import Engine
from airan.report.cautions import cautions
from airan.scenario import load_scenario, scenario_from_dict
from airan.sweep.merge import merge_sites


def _arms(n: int) -> Any:
    """``n`` robot arms sending OpenVLA-7B requests at 5 Hz (Poisson) to one H100 that
    batches up to 8, over an ideal radio."""
    d = load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None, nodes=[], policy="nearest-edge",
             cell_sites=[{"name": "bs", "position_m": [0.0, 0.0]}],
             compute_sites=[{"name": "bs-gpu", "at": "bs", "kind": "cell",
                             "gpus": [{"type": "H100", "count": 1}],
                             "batching": {"max_batch": 8, "max_wait_ms": 0.0}}],
             transport={"links": []})
    d["radio"].update(model="ideal")
    d["fleets"][0].update(count=n, area={"x_m": [-50.0, 50.0], "y_m": [-50.0, 50.0]})
    d["services"][0].update(model="openvla-7b", rate_hz=5.0, deadline_ms=200.0,
                            arrivals="poisson", jitter_ms=0.0)
    return scenario_from_dict(d)


def test_a_busy_gpu_in_small_batches_is_said_to_have_room_and_has_it() -> None:
    busy = Engine(_arms(12), duration_s=10.0, seed=1).run().summary
    site = busy["sites"]["bs-gpu"]
    assert site["gpu_utilization"] > 0.9 and site["max_batch"] == 8
    assert site["mean_batch"] < 4.0
    said = [c for c in cautions(busy) if c.startswith("Busy in small batches")]
    assert len(said) == 1 and "bs-gpu" in said[0], cautions(busy)
    # and it has: the load of 20 arms meets every deadline on the same GPU, in fuller batches
    more = Engine(_arms(20), duration_s=10.0, seed=1).run().summary
    assert more["services"]["perception"]["hit_ratio_with_overdue"] >= 0.99
    assert more["sites"]["bs-gpu"]["mean_batch"] > 2 * site["mean_batch"]
    # where the batches are full already, the GPU is full: nothing of the kind is said
    full = Engine(_arms(24), duration_s=10.0, seed=1).run().summary
    assert full["sites"]["bs-gpu"]["mean_batch"] >= 4.0
    assert not [c for c in cautions(full) if c.startswith("Busy in small batches")]


def test_shards_of_a_site_keep_its_largest_batch_not_their_sum() -> None:
    part = {"kind": "edge", "x_m": 0.0, "y_m": 0.0, "gpus": 2, "gpu_utilization": 0.5,
            "mean_queue": 1.0, "served": 10, "batches": 5, "mean_batch": 2.0, "max_batch": 8}
    assert merge_sites([part, dict(part)])["max_batch"] == 8
