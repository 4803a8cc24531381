"""The compiled deadline-aware policy decides exactly as its numpy reference.

The engine calls the compiled one every decision interval; the numpy one is the readable
definition. Both see the same live snapshots of real runs (loaded sites, busy cells), with and
without strict admission, and must agree request by request.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine import Engine
from airan.policy import LOCAL, REJECT
from airan.policy.builtin import deadline_aware, deadline_aware_reference
from airan.scenario import load_scenario, scenario_from_dict


def _compare_on_run(scenario: Any, strict: bool, duration_s: float,
                    energy: bool = False) -> dict[str, int]:
    seen = {"batches": 0, "requests": 0, "local": 0, "reject": 0, "sites": 0}
    chosen: set[int] = set()

    def both(snap: Any, batch: Any) -> np.ndarray:
        fast = deadline_aware(snap, batch, strict=strict, energy=energy)
        ref = deadline_aware_reference(snap, batch, strict=strict, energy=energy)
        np.testing.assert_array_equal(fast, ref)
        seen["batches"] += 1
        seen["requests"] += len(batch)
        seen["local"] += int((ref == LOCAL).sum())
        seen["reject"] += int((ref == REJECT).sum())
        chosen.update(int(x) for x in ref[ref >= 0])
        return fast

    eng = Engine(scenario, policy="deadline-aware", duration_s=duration_s)
    eng.policy = both
    eng.run()
    seen["sites"] = len(chosen)
    return seen


@pytest.mark.parametrize("name", ["factory", "city"])
def test_compiled_deadline_aware_equals_reference(name: str) -> None:
    seen = _compare_on_run(load_scenario(name), strict=False, duration_s=1.0)
    assert seen["batches"] >= 100 and seen["requests"] > 800
    assert seen["sites"] >= 2  # the choice really varies between sites


def test_compiled_deadline_aware_equals_reference_under_overload_and_strict() -> None:
    data = load_scenario("factory").model_dump(mode="json")
    for svc in data["services"]:
        svc["deadline_ms"] = svc["deadline_ms"] / 3  # tight: some requests cannot make it
    for f in data["fleets"]:
        f["count"] *= 4  # loaded sites: the backlog and the in-batch ranking matter
    data["admission"] = "strict"
    seen = _compare_on_run(scenario_from_dict(data), strict=True, duration_s=1.0)
    assert seen["reject"] > 0 and seen["requests"] - seen["reject"] > 0
    assert seen["local"] > 0 or seen["sites"] >= 2



def test_compiled_energy_objective_equals_reference() -> None:
    from test_energy import _vla_cell  # arms that can compute on board or offload

    for sc in (load_scenario("factory"), _vla_cell(ul_mbps=1.0), _vla_cell(ul_mbps=20.0)):
        seen = _compare_on_run(sc, strict=False, duration_s=2.0, energy=True)
        assert seen["batches"] >= 10


@pytest.mark.parametrize("name", ["factory", "city"])
def test_deadline_aware_decides_on_the_live_gateways_snapshot(name: str) -> None:
    """The live gateway's snapshot (idle-network rates, reported site backlogs) offers what
    the deadline-aware policy reads, and the compiled policy agrees with the reference on it."""
    from airan.engine.world import build_world
    from airan.live.gateway import LiveSnapshot, RadioRates
    from airan.policy import Batch

    sc = load_scenario(name)
    world = build_world(sc, sc.seed)
    n_sites = len(world.site_names)
    snap = LiveSnapshot(world, 1.0,
                        np.linspace(0.0, 0.02, n_sites), np.ones(n_sites, dtype=bool),
                        np.zeros(n_sites, dtype=np.int64), RadioRates(sc, world, sc.seed))
    flows = np.arange(0, len(world.flow_dev), max(1, len(world.flow_dev) // 50))
    devices = world.flow_dev[flows]
    batch = Batch(time_s=np.full(len(flows), 1.0), device=devices, service=world.flow_svc[flows],
                  cell=world.dev_cell[devices])
    fast = deadline_aware(snap, batch)
    np.testing.assert_array_equal(fast, deadline_aware_reference(snap, batch))
    assert ((fast >= 0) | (fast == LOCAL)).all()


def test_compiled_deadline_aware_equals_reference_with_contexts_to_move() -> None:
    """A stateful service (2 MB of context): the estimate adds moving it from the site that
    holds it, over the links' backlogs; both versions agree on every decision."""
    data = load_scenario("city").model_dump(mode="json")
    data["services"][0]["state_kb"] = 2000
    seen = _compare_on_run(scenario_from_dict(data), strict=False, duration_s=1.0)
    assert seen["batches"] >= 100 and seen["sites"] >= 2


# DRX with the long cycle only, and with a short cycle whose end (6 x 10 ms after the 100 ms
# inactivity timer) falls among the answers (~150-165 ms after their uploads): some wait for
# a short on-duration (at most 8 ms), some for the long cycle's (up to 158 ms), and those the
# arm computes on board instead
DRX_CASES = [{}, {"on_duration_ms": 2, "short_cycle_ms": 10, "short_cycle_timer": 6}]


@pytest.mark.parametrize("drx_cfg", DRX_CASES, ids=["long", "short"])
def test_compiled_deadline_aware_equals_reference_under_drx(drx_cfg: dict[str, Any]) -> None:
    """Answers that wait for their device's on-duration (radio.drx): both versions add the
    same wait, and the choice varies between the edge and the device."""
    from test_drx import _arms

    seen = _compare_on_run(_arms(drx_cfg), strict=False, duration_s=2.0)
    assert seen["local"] > 0 and seen["requests"] - seen["local"] > 0


def test_compiled_deadline_aware_equals_reference_with_drx_per_fleet() -> None:
    """Fleets under radio.drx, under their own short cycle and with DRX off: each answer's
    wait is its own device's, the same in both versions."""
    from test_drx import _arms_per_fleet

    seen = _compare_on_run(_arms_per_fleet(), strict=False, duration_s=2.0)
    assert seen["local"] > 0 and seen["requests"] - seen["local"] > 0


def _engine_decides_as_the_policy(scenario: Any, duration_s: float) -> dict[str, int]:
    """Run ``scenario`` with a policy that decides each batch both ways, the engine's compiled
    call (engine.decide) and the policy on a snapshot, asserts they agree and goes on with it."""
    from airan.engine import decide

    eng = Engine(scenario, policy="deadline-aware", duration_s=duration_s)
    assert eng._kernel_decides  # the engine would decide these itself
    strict = scenario.admission == "strict"
    seen = {"batches": 0, "requests": 0, "local": 0, "reject": 0}

    def both(snap: Any, batch: Any) -> np.ndarray:
        ref = deadline_aware(snap, batch, strict=strict)
        fast = decide.deadline_aware(eng, batch.device, batch.service, strict)
        np.testing.assert_array_equal(fast, ref)
        seen["batches"] += 1
        seen["requests"] += len(batch)
        seen["local"] += int((ref == LOCAL).sum())
        seen["reject"] += int((ref == REJECT).sum())
        return ref

    eng.policy = both  # (a replaced policy is called: the engine no longer decides itself)
    eng.run()
    return seen


@pytest.mark.parametrize("name", ["factory", "city", "korea"])
def test_the_engine_decides_deadline_aware_as_the_policy_does(name: str) -> None:
    seen = _engine_decides_as_the_policy(load_scenario(name), duration_s=0.5)
    assert seen["batches"] >= 50 and seen["requests"] > 300


@pytest.mark.parametrize("drx_cfg", DRX_CASES, ids=["long", "short"])
def test_the_engine_decides_as_the_policy_does_under_drx(drx_cfg: dict[str, Any]) -> None:
    from test_drx import _arms

    seen = _engine_decides_as_the_policy(_arms(drx_cfg), duration_s=2.0)
    assert seen["local"] > 0 and seen["requests"] - seen["local"] > 0


def test_the_engine_decides_as_the_policy_does_with_drx_per_fleet() -> None:
    from test_drx import _arms_per_fleet

    seen = _engine_decides_as_the_policy(_arms_per_fleet(), duration_s=2.0)
    assert seen["local"] > 0 and seen["requests"] - seen["local"] > 0


def test_the_engine_decides_as_the_policy_does_under_uplink_priorities() -> None:
    """Robots whose buffers hold video (priority 2) behind detections (priority 1): both
    paths queue each upload where the grant serves it, and decide the same."""
    from test_ul_priority import _scenario

    sc = scenario_from_dict(_scenario((1, 2)))
    seen = _engine_decides_as_the_policy(sc, duration_s=1.0)
    assert seen["requests"] > 1000
    seen = _compare_on_run(sc, strict=False, duration_s=1.0)
    assert seen["requests"] > 1000


def test_the_engine_decides_strict_admission_under_overload_as_the_policy_does() -> None:
    data = load_scenario("factory").model_dump(mode="json")
    for svc in data["services"]:
        svc["deadline_ms"] = svc["deadline_ms"] / 3
    for f in data["fleets"]:
        f["count"] *= 4
    data["admission"] = "strict"
    seen = _engine_decides_as_the_policy(scenario_from_dict(data), duration_s=1.0)
    assert seen["reject"] > 0 and seen["local"] + seen["requests"] - seen["reject"] > 0


def test_every_path_decides_alike_under_compute_priorities() -> None:
    """factory x4 with strict admission and its services in three compute priorities (one
    service a model: no queue holds two priorities, but each decision's requests count the
    earlier ones at their priority or a higher one only): the engine's compiled call, the
    compiled policy and its numpy reference agree. (test_compute_priority.py has queues that
    hold two.)"""
    data = load_scenario("factory").model_dump(mode="json")
    for i, svc in enumerate(data["services"]):
        svc["deadline_ms"] = svc["deadline_ms"] / 3
        svc["compute_priority"] = 1 + 4 * (i % 3)
    assert len({svc["compute_priority"] for svc in data["services"]}) >= 2
    for f in data["fleets"]:
        f["count"] *= 4
    data["admission"] = "strict"
    sc = scenario_from_dict(data)
    seen = _engine_decides_as_the_policy(sc, duration_s=1.0)
    assert seen["reject"] > 0 and seen["requests"] - seen["reject"] > 0
    seen = _compare_on_run(sc, strict=True, duration_s=1.0)
    assert seen["reject"] > 0 and seen["requests"] - seen["reject"] > 0


def test_a_run_is_the_same_whether_the_engine_or_the_policy_decides() -> None:
    def summary(kernel: bool) -> dict[str, Any]:
        eng = Engine(load_scenario("city"), duration_s=2.0, seed=3)
        assert eng._kernel_decides
        eng._kernel_decides = kernel
        s = dict(eng.run().summary)
        for key in ("wall_s", "requests_per_wall_s"):
            s.pop(key)
        return s

    assert summary(True) == summary(False)


def test_the_engine_leaves_to_the_policy_what_it_cannot_decide_itself() -> None:
    data = load_scenario("factory").model_dump(mode="json")
    data["objective"] = "energy"
    assert not Engine(scenario_from_dict(data), duration_s=0.1)._kernel_decides
    data = load_scenario("factory").model_dump(mode="json")
    data["services"][0]["state_kb"] = 64.0  # a stateful service: context moves
    assert not Engine(scenario_from_dict(data), duration_s=0.1)._kernel_decides
    data = load_scenario("factory").model_dump(mode="json")
    data["radio"]["model"] = "ideal"
    assert not Engine(scenario_from_dict(data), duration_s=0.1)._kernel_decides
    assert not Engine(load_scenario("factory"), policy="least-loaded",
                      duration_s=0.1)._kernel_decides
