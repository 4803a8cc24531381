"""A model's precision on particular GPUs (``precision_on``): INT8 on a Jetson, FP16 on an H100,
as deployments quantise for the edge (an ML engineer's review: one precision everywhere).
Weights and activations stay given at the model's ``precision`` and scale with the one used."""

from __future__ import annotations

import pytest

from airan.catalog import load_gpus, load_models
from airan.compute import batch_service_time_s
from airan.compute.memory import model_memory_bytes
from airan.errors import InputError
from airan.scenario import load_scenario, scenario_from_dict


def test_a_gpus_own_precision_runs_the_model_as_if_it_were_given_at_it() -> None:
    gpus = load_gpus()
    base = load_models()["resnet50"].model_copy(update={"precision": "fp16"})
    edge = base.model_copy(update={"precision_on": {"JetsonOrinNX": "int8"}})
    int8 = base.model_copy(update={"precision": "int8",
                                   "weight_bytes": base.weight_bytes / 2,
                                   "activation_bytes": base.activation_bytes / 2})
    orin, h100 = gpus["JetsonOrinNX"], gpus["H100"]
    for b in (1, 8):
        assert batch_service_time_s(edge, orin, b) == pytest.approx(
            batch_service_time_s(int8, orin, b), rel=1e-12)
        assert batch_service_time_s(edge, h100, b) == batch_service_time_s(base, h100, b)
    assert batch_service_time_s(edge, orin, 8) < batch_service_time_s(base, orin, 8)
    assert model_memory_bytes(edge, orin, 4, 1) == pytest.approx(
        model_memory_bytes(base, orin, 4, 1) / 2, rel=1e-12)


def test_a_precision_on_an_unknown_gpu_is_an_input_error() -> None:
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {"det": {"gflops": 28.6, "params": 11e6, "precision": "fp16",
                           "weight_bytes": 22e6, "efficiency": {"compute": 0.43, "memory": 0.6},
                           "precision_on": {"JetsonOrinNano": "int8"}}}
    with pytest.raises(InputError, match="models.det.precision_on"):
        scenario_from_dict(d)


def test_the_planners_gpu_ordering_compares_each_gpu_at_its_own_precision() -> None:
    """A review: ResNet-50 at fp32 on the H100 (precision_on) takes 2.68 ms a batch of 8 there
    and 0.80 ms on an L4 at int8, yet the planner ruled the L4 no faster than the H100 (both
    compared at int8) and could prune it on the H100's result."""
    from airan.planner.space import scenario_precisions, type_dominance

    gpus = load_gpus()
    m = load_models()["resnet50"].model_copy(update={"precision_on": {"H100": "fp32"}})
    le = type_dominance(["L4", "H100"], gpus, [m])
    assert not le[0, 1] and not le[1, 0]
    assert type_dominance(["L4", "H100"], gpus, [m.precision])[0, 1]  # (one precision: it is)
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {"resnet50": {**load_models()["resnet50"].model_dump(mode="json"),
                                "precision_on": {"H100": "fp32"}}}
    d["services"][0]["model"] = "resnet50"
    assert any(not isinstance(p, str) for p in scenario_precisions(scenario_from_dict(d)))
