"""GPU memory: a compute site's GPU must hold every model it serves (the weights once, a full
batch per instance), in its MIG instance where the L1 takes the rest; a fleet whose accelerator
cannot hold its services' models is warned about, and so is AI-RAN with no GPU to run the L1."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from airan.catalog import load_gpus, load_models
from airan.cli import app
from airan.compute.memory import model_memory_bytes
from airan.errors import InputError
from airan.scenario import load_scenario, scenario_from_dict
from airan.scenario.load import scenario_warnings

runner = CliRunner()
GPUS = load_gpus()
MODELS = load_models()


def _factory() -> dict[str, Any]:
    return copy.deepcopy(load_scenario("factory").model_dump(mode="json", exclude_defaults=True))


def test_a_models_memory_is_its_weights_once_and_a_full_batch_per_instance() -> None:
    vla = MODELS["openvla-7b"]  # bf16 weights 15.08 GB, 150 MB per request (its catalog entry)
    assert model_memory_bytes(vla, GPUS["H100"], 1, 1) == pytest.approx(15.08e9 + 1.5e8)
    assert model_memory_bytes(vla, GPUS["H100"], 8, 2) == pytest.approx(15.08e9 + 16 * 1.5e8)
    # an fp8 LLM keeps its KV cache at its last decode step per request: 38 MB at the mean
    # context (144 tokens) and 16 tokens more of 262,144 B, 42.2 MB (> the 34 MB its prefill
    # writes); at the mean context, 447 of them on a 24 GB L4 passed at 23.99 GB, though the
    # cache reaches 25.86 GB by the last step (a review)
    llm = MODELS["llm-7b"]
    per_request = 3.8e7 + 16 * 262_144
    assert model_memory_bytes(llm, GPUS["H100"], 4, 1) == pytest.approx(7.0e9 + 4 * per_request)
    assert model_memory_bytes(llm, GPUS["L4"], 447, 1) == pytest.approx(25.86e9, rel=1e-3)


def test_a_gpu_without_the_models_precision_holds_it_wider() -> None:
    cpu = GPUS["CPU"]
    fp32_only = cpu.model_copy(update={"tflops": cpu.tflops.model_copy(
        update={"bf16": None, "fp16": None, "int8": None})})
    vla = MODELS["openvla-7b"]  # bf16: twice the bytes at fp32
    assert model_memory_bytes(vla, fp32_only, 1, 1) == pytest.approx(2 * (15.08e9 + 1.5e8))
    assert model_memory_bytes(vla, cpu, 1, 1) == pytest.approx(15.08e9 + 1.5e8)


def test_a_model_given_only_by_its_service_time_needs_no_memory_airan_knows_of() -> None:
    spec = MODELS["yolov8s"].model_copy(update={
        "gflops": None, "efficiency": None, "weight_bytes": 0.0, "activation_bytes": 0.0,
        "service_time_ms": 2.0})
    assert model_memory_bytes(spec, GPUS["L4"], 32, 4) == 0.0


def test_a_site_whose_gpu_cannot_hold_its_models_is_bad_input_naming_the_site() -> None:
    d = _factory()
    site = d["compute_sites"][0]  # on-prem: it serves the VLA and both detectors
    site["gpus"] = [{"type": "L4", "count": 2}]  # 24 GB
    site["batching"] = {"max_batch": 8, "max_wait_ms": 2,
                        "models": {"openvla-7b": {"max_batch": 32, "instances": 2}}}
    # 15.08 + 2 x 32 x 0.15 GB for the VLA alone: 24.7 GB
    with pytest.raises(InputError) as exc:
        scenario_from_dict(d)
    err = exc.value
    assert err.field == "compute_sites[on-prem].gpus[0].type"
    assert err.value == "L4"
    assert "24.00 GB" in str(err) and "openvla-7b 24.68" in str(err)
    # with one instance and batches of 8 the same GPU holds them all
    site["batching"]["models"]["openvla-7b"] = {"max_batch": 8, "instances": 1}
    scenario_from_dict(d)


def test_validate_names_the_site_whose_gpu_is_too_small(tmp_path: Path) -> None:
    d = _factory()
    d["compute_sites"][0]["gpus"] = [{"type": "L4", "count": 1}]
    d["compute_sites"][0]["batching"] = {"max_batch": 64, "max_wait_ms": 2}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "compute_sites[on-prem].gpus[0].type" in res.output
    assert "Traceback" not in res.output


def test_a_site_that_runs_the_l1_keeps_its_mig_instances_memory() -> None:
    def one_site(mode: str) -> dict[str, Any]:
        d = _factory()
        d["compute_sites"] = [{
            "name": "bs-gpu", "at": d["cell_sites"][0]["name"], "kind": "cell",
            "gpus": [{"type": "H100", "count": 1}],
            # the VLA's three instances need 15.08 + 3 x 64 x 0.15 = 43.9 GB, the detectors'
            # batches 4.3 GB: the 80 GB hold them, the 4g.40gb instance does not
            "batching": {"max_batch": 64, "max_wait_ms": 2,
                         "models": {"openvla-7b": {"instances": 3}}}}]
        d["transport"] = {"links": []}
        d["policy"] = "nearest-edge"
        d["ai_ran"] = {"mode": mode}
        return d

    scenario_from_dict(one_site("dynamic"))  # the whole 80 GB
    with pytest.raises(InputError, match="MIG instance") as exc:
        scenario_from_dict(one_site("mig"))
    assert "40.00 GB" in str(exc.value)


def test_a_fleet_whose_accelerator_cannot_hold_its_models_is_warned_about() -> None:
    d = _factory()
    arms = next(f for f in d["fleets"] if f["name"] == "arm")  # a Jetson Thor on board
    arms["accelerator"] = "none"  # a 16 GB Arm CPU: the VLA alone fits (15.2 GB) ...
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "on board" in w]
    # ... but not with a 7B assistant beside it (7.0 GB more: 22.3 GB)
    d["services"].append({"name": "assist", "model": "llm-7b", "rate_hz": 0.1,
                          "ul_kb": 1, "dl_kb": 1, "deadline_ms": 2000})
    arms["services"] = [*arms["services"], "assist"]
    warnings = [w for w in scenario_warnings(scenario_from_dict(d)) if "on board" in w]
    assert len(warnings) == 1
    assert f"fleets[{arms['name']}].accelerator" in warnings[0]
    assert "22.27 GB" in warnings[0] and "16.00 GB" in warnings[0]
    assert not [w for w in scenario_warnings(load_scenario("factory")) if "on board" in w]


def test_a_run_checks_a_scenario_changed_in_python() -> None:
    import airan
    from airan.scenario.schema import GpuGroup

    sc = load_scenario("factory")
    site = sc.compute_sites[0]
    small = site.model_copy(update={
        "gpus": [GpuGroup(type="L4", count=1)],
        "batching": site.batching.model_copy(update={"max_batch": 512})})
    changed = sc.model_copy(update={"compute_sites": [small, *sc.compute_sites[1:]]})
    with pytest.raises(InputError) as exc:
        airan.run(changed, duration_s=0.1)
    assert exc.value.field == "compute_sites[on-prem].gpus[0].type"


def test_a_service_that_no_fleet_runs_needs_no_memory() -> None:
    d = _factory()
    d["compute_sites"][0]["gpus"] = [{"type": "L4", "count": 2}]  # the VLA and detectors fit
    d["services"].append({"name": "chat", "model": "llm-7b", "rate_hz": 0.1,
                          "ul_kb": 1, "dl_kb": 1, "deadline_ms": 2000})
    scenario_from_dict(d)  # 7.34 GB more if a fleet ran it
    next(f for f in d["fleets"] if f["name"] == "arm")["services"].append(
        "chat")
    with pytest.raises(InputError, match="llm-7b 7.34"):
        scenario_from_dict(d)


def test_ai_ran_without_a_cell_site_gpu_is_warned_about() -> None:
    d = _factory()  # its compute sites are edges and a cloud: none runs a cell's L1
    d["ai_ran"] = {"mode": "mig"}
    lines = [w for w in scenario_warnings(scenario_from_dict(d)) if "ai_ran.mode" in w]
    assert len(lines) == 1 and "changes nothing" in lines[0]
    d["compute_sites"].append({"name": "cell-gpu", "at": d["cell_sites"][0]["name"],
                               "kind": "cell", "gpus": [{"type": "H100", "count": 1}]})
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "ai_ran.mode" in w]


def test_a_service_with_a_measured_time_holds_its_own_copy_of_the_model() -> None:
    d = _factory()
    d["compute_sites"][0]["batching"] = {  # on-prem, an L40S of 48 GB
        "max_batch": 8, "max_wait_ms": 2,
        "models": {"openvla-7b": {"max_batch": 32, "instances": 2}}}
    scenario_from_dict(d)  # the VLA once: 15.08 + 2 x 32 x 0.15 = 24.68 GB
    # a second service of the VLA, measured: a queue and instances of its own (the engine's
    # model openvla-7b@vla-measured), so its weights and batches again: 49.36 GB and more
    d["services"].append({"name": "vla-measured", "model": "openvla-7b", "rate_hz": 1,
                          "ul_kb": 15, "dl_kb": 0.028, "deadline_ms": 200,
                          "service_time": {"mean_ms": 30}})
    arms = next(f for f in d["fleets"] if f["name"] == "arm")
    arms["services"] = [*arms["services"], "vla-measured"]
    with pytest.raises(InputError) as exc:
        scenario_from_dict(d)
    text = str(exc.value)
    assert "openvla-7b 24.68" in text and "openvla-7b@vla-measured 24.68" in text


def test_a_model_of_ones_own_without_its_weights_is_warned() -> None:
    """An ML engineer's review: the README's vla-3b with weight_bytes left out ran 12x too
    fast on an L4 and fitted anywhere, and weight_bytes: 14 (meant as GB) passed too."""
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    own = {"params": 3.0e9, "precision": "bf16", "gflops": 1600, "decode_tokens": 7,
           "gflops_per_token": 6, "efficiency": {"compute": 1.0, "memory": 1.0}}
    for weights, warned in ((None, True), (14, True), (6e9, False)):
        d["models"] = {"vla-3b": {**own, **({} if weights is None else
                                            {"weight_bytes": weights})}}
        lines = [w for w in scenario_warnings(scenario_from_dict(d))
                 if "models.vla-3b.weight_bytes" in w]
        assert bool(lines) == warned, (weights, lines)
