"""``layout_seed``: where the devices are (positions, line of sight, shadowing, trajectories)
from a seed of its own, so that runs over seeds vary the traffic on one layout (a researcher's
review: each seed drew a new layout, and a comparison's intervals mixed the topology's
variance with the traffic's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine import Engine
from airan.errors import InputError
from airan.scenario import load_scenario, scenario_from_dict


def _run(name: str, seed: int, layout_seed: int | None, duration_s: float = 1.0) -> Engine:
    if name == "factory-moving":  # the AMRs on random waypoints
        d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
        d["fleets"][0]["mobility"] = {"model": "random_waypoint", "speed_mps": [0.5, 2.0]}
        sc = scenario_from_dict(d).model_copy(update={"layout_seed": layout_seed})
    else:
        sc = load_scenario(name).model_copy(update={"layout_seed": layout_seed})
    eng = Engine(sc, seed=seed, duration_s=duration_s)
    eng.run()
    return eng


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items()
            if k not in ("wall_s", "requests_per_wall_s", "layout_seed", "timing")}


def test_a_layout_seed_equal_to_the_seed_is_the_run_without_one() -> None:
    a, b = _run("factory", 3, None), _run("factory", 3, 3)
    assert _figures(a.result().summary) == _figures(b.result().summary)
    assert b.result().summary["layout_seed"] == 3 and a.result().summary["layout_seed"] is None


def test_one_layout_seed_keeps_the_layout_and_the_seeds_vary_the_traffic() -> None:
    a, b = _run("factory", 1, 7), _run("factory", 2, 7)
    np.testing.assert_array_equal(a.world.dev_xy, b.world.dev_xy)
    np.testing.assert_array_equal(a.world.dev_top_gain, b.world.dev_top_gain)  # LOS, shadowing
    assert a.result().summary["services"] != b.result().summary["services"]
    c = _run("factory", 1, 8)  # another layout, the same traffic seed
    assert not np.array_equal(a.world.dev_xy, c.world.dev_xy)
    assert not np.array_equal(a.world.dev_top_gain, c.world.dev_top_gain)


def test_a_moving_fleet_follows_the_same_trajectories_on_one_layout_seed() -> None:
    a, b = _run("factory-moving", 1, 5, 2.0), _run("factory-moving", 2, 5, 2.0)
    np.testing.assert_array_equal(a.world.dev_xy, b.world.dev_xy)  # where they are at 2 s
    start = _run("factory-moving", 1, 5, 0.01).world.dev_xy
    amrs = a.world.dev_fleet == 0
    assert (np.hypot(*(a.world.dev_xy - start)[amrs].T) > 0.5).mean() > 0.9  # they moved
    c = _run("factory-moving", 2, None, 2.0)
    assert not np.array_equal(b.world.dev_xy, c.world.dev_xy)


@pytest.mark.parametrize("value", [-1, 2**63, "one"])
def test_a_bad_layout_seed_is_an_input_error_naming_the_field(value: Any) -> None:
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["layout_seed"] = value
    with pytest.raises(InputError, match="layout_seed"):
        scenario_from_dict(d)


def test_each_shard_of_a_sharded_run_gets_a_layout_seed_of_its_own() -> None:
    """As each shard's seed is the run's plus k x SEED_STRIDE, so its layout seed: the shards'
    devices are not drawn alike; unset, every shard takes its own seed's layout."""
    from airan.sweep.shard import SEED_STRIDE, plan_shards

    sc = load_scenario("korea").model_copy(update={"layout_seed": 11})
    plan = plan_shards(sc, "2x1")
    assert [plan.scenario(k)["layout_seed"] for k in range(plan.n_shards)] == [
        11 + k * SEED_STRIDE for k in range(plan.n_shards)]
    bare = plan_shards(load_scenario("korea"), "2x1")
    assert all(bare.scenario(k).get("layout_seed") is None for k in range(bare.n_shards))
