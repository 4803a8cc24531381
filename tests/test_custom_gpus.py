"""GPUs of one's own in a scenario (``gpus:``, the catalog's format), as models are (an
integrator's review: a card the catalog lacks could not be planned with at all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.catalog import load_gpus, load_models
from airan.cli import app
from airan.compute import batch_service_time_s
from airan.errors import InputError
from airan.scenario import scenario_from_dict

runner = CliRunner()

#: an L4 at half its peaks and bandwidth, under an id of its own
HALF_L4 = {"name": "half an L4", "kind": "edge", "memory_gb": 24, "mem_bw_tbps": 0.150,
           "tflops": {"fp32": 15.15, "bf16": 60.5, "fp16": 60.5, "fp8": 121.25,
                      "int8": 121.25},
           "tdp_w": 40, "idle_w": 6, "price_usd": 1000}


def _one_site(gpu: str, gpus: dict[str, Any] | None = None) -> dict[str, Any]:
    """One cell, ideal radio, one GPU serving YOLOv8s one request at a time."""
    d: dict[str, Any] = {
        "name": "own-gpu", "radio": {"model": "ideal"}, "policy": "nearest-edge",
        "cell_sites": [{"name": "c0", "position_m": [0, 0], "sectors": 1}],
        "compute_sites": [{"name": "gpu", "at": "c0", "kind": "edge",
                           "gpus": [{"type": gpu, "count": 1}],
                           "batching": {"max_batch": 1, "max_wait_ms": 0}}],
        "transport": {"hop_delay_us": 0},
        "fleets": [{"name": "cams", "count": 10, "area": {"center_m": [5, 0], "radius_m": 1},
                    "services": ["detect"]}],
        "services": [{"name": "detect", "model": "yolov8s", "rate_hz": 5, "deadline_ms": 100}],
    }
    if gpus is not None:
        d["gpus"] = gpus
    return d


def test_a_gpu_of_ones_own_runs_the_roofline_at_its_own_peaks() -> None:
    """Half an L4's peaks and bandwidth: a batch takes the roofline's time on that spec (the
    models' default efficiencies), which is longer than on the L4 itself."""
    sc = scenario_from_dict(_one_site("HalfL4", {"HalfL4": HALF_L4}))
    own = sc.gpu_catalog()["HalfL4"]
    assert own.id == "HalfL4" and own.price_usd == 1000
    expected_s = batch_service_time_s(load_models()["yolov8s"], own, 1)
    assert expected_s > batch_service_time_s(load_models()["yolov8s"], load_gpus()["L4"], 1)
    s = airan.run(sc, duration_s=2.0).summary
    compute_ms = s["services"]["detect"]["breakdown_ms"]["compute"]
    assert compute_ms == pytest.approx(expected_s * 1e3, rel=1e-6)
    # the site's power is the card's own: idle plus its busy share of the dynamic range
    site = s["sites"]["gpu"]
    assert site["power_w"] == pytest.approx(6 + site["gpu_utilization"] * (40 - 6), rel=0.02)


def test_an_unknown_gpu_names_the_scenarios_own_among_the_choices() -> None:
    with pytest.raises(InputError) as err:
        scenario_from_dict(_one_site("HalfL5", {"HalfL4": HALF_L4}))
    assert "HalfL5" in str(err.value) and "did you mean 'HalfL4'" in str(err.value)


@pytest.mark.parametrize(("change", "field"), [
    ({"idle_w": 50}, "gpus.HalfL4"),  # idle above the TDP
    ({"memory_gb": -1}, "gpus.HalfL4.memory_gb"),
    ({"tflops": {"fp32": True}}, "field 'gpus': GPU 'HalfL4': tflops.fp32: expected a number"),
])
def test_a_bad_gpu_of_ones_own_is_bad_input_naming_it(tmp_path: Path, change: dict[str, Any],
                                                     field: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_one_site("HalfL4", {"HalfL4": {**HALF_L4, **change}})))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert field in res.output and "Traceback" not in res.output


def test_the_planner_sizes_with_a_gpu_of_ones_own_at_its_price(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(_one_site("L4", {"HalfL4": HALF_L4})))
    out = tmp_path / "plan"
    res = runner.invoke(app, ["plan", str(path), "--target", "detect: p99<=20ms",
                              "--candidates", "HalfL4,L4", "--max-gpus", "2", "--duration", "1",
                              "--no-confirm", "--price", "HalfL4=900", "--out", str(out)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "gpu: 1 x HalfL4" in " ".join(res.output.split())  # (the cheaper, fast enough)
    planned = airan.load_scenario(out / "plan.yaml")
    assert planned.compute_sites[0].gpus[0].type == "HalfL4" and "HalfL4" in planned.gpus
    bad = runner.invoke(app, ["plan", str(path), "--candidates", "HalfL5", "--out",
                              str(tmp_path / "p2")])
    assert bad.exit_code == 2 and "did you mean 'HalfL4'" in bad.output


def test_a_fleets_accelerator_of_its_own_runs_its_models_on_board() -> None:
    """A smart camera's NPU given as a GPU of one's own: its devices compute on it (a plain
    camera's CPU runs none)."""
    from airan.engine import Engine

    d = _one_site("L4", {"CamNPU": {**HALF_L4, "name": "a camera's NPU", "kind": "embedded",
                                    "memory_gb": 4, "tdp_w": 10, "idle_w": 1}})
    d["fleets"][0].update(device_class="camera", accelerator="CamNPU")
    w = Engine(scenario_from_dict(d), duration_s=0.01).world
    own = scenario_from_dict(d).gpu_catalog()["CamNPU"]
    assert w.local_time_s[0, 0] == pytest.approx(
        batch_service_time_s(load_models()["yolov8s"], own, 1), rel=1e-9)


def test_none_is_no_gpu_id_and_a_sweep_may_add_a_gpu_of_its_own() -> None:
    """'none' is a fleet's CPU, so no GPU may take it; a sweep's path may name a GPU id the
    base scenario does not have (gpus.<id>), as it may a model's."""
    from airan.sweep.spec import set_path

    with pytest.raises(InputError, match="'none' is no GPU id"):
        scenario_from_dict(_one_site("L4", {"none": HALF_L4}))
    d = _one_site("L4", {"HalfL4": HALF_L4})
    set_path(d, "gpus.QuarterL4", {**HALF_L4, "mem_bw_tbps": 0.075}, where="set")
    assert scenario_from_dict(d).gpu_catalog()["QuarterL4"].mem_bw_tbps == 0.075


@pytest.mark.parametrize(("section", "entries", "message"), [
    ("gpus", {"My.Card": HALF_L4}, "a GPU id may not contain '.': 'My.Card'"),
    ("models", {"my.vla": {"params": 1e9}}, "a model id may not contain '.': 'my.vla'"),
    ("models", {"vla": {"params": True}}, "model 'vla': params: expected a number, got a boolean"),
])
def test_ids_of_ones_own_take_no_dot_and_no_boolean_for_a_number(
        section: str, entries: dict[str, Any], message: str) -> None:
    """A sweep's path <section>.<id>.<field> splits at dots; YAML reads an unquoted yes as
    true."""
    d = _one_site("L4")
    d[section] = entries
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("(", r"\(")):
        scenario_from_dict(d)


def test_the_catalog_commands_show_a_scenarios_own_gpus(tmp_path: Path) -> None:
    """An MEC planner's review: `airan catalog models --gpu MyCard` said unknown GPU, so a card
    of one's own could not be looked at outside a run."""
    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(_one_site("HalfL4", {"HalfL4": HALF_L4})))
    models = runner.invoke(app, ["catalog", "models", "--scenario", str(path), "--gpu",
                                 "HalfL4"], env={"COLUMNS": "200"})
    assert models.exit_code == 0, models.output
    own = airan.load_scenario(path).gpu_catalog()["HalfL4"]
    ms = batch_service_time_s(load_models()["yolov8s"], own, 1) * 1e3
    row = next(line for line in models.output.splitlines() if line.startswith("yolov8s "))
    assert f"{ms:.2f}" in row.split()
    gpus = runner.invoke(app, ["catalog", "gpus", "--scenario", str(path)],
                         env={"COLUMNS": "200"})
    assert gpus.exit_code == 0 and any(line.startswith("HalfL4 ")
                                       for line in gpus.output.splitlines())
    plain = runner.invoke(app, ["catalog", "models", "--gpu", "HalfL4"])
    assert plain.exit_code == 2 and "unknown GPU 'HalfL4'" in plain.output


def test_a_catalog_gpu_takes_the_fields_a_scenario_gives_over_its_own() -> None:
    """A robot maker's review: `gpus: {JetsonThor: {tdp_w: 60}}` (a lower power mode) was
    refused for the name and figures it left out, where a catalog model takes a partial entry.
    Now alike: the fields given replace the catalog's, mappings key by key, the rest kept."""
    from airan.catalog import load_gpus

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["gpus"] = {"JetsonThor": {"tdp_w": 60, "tflops": {"fp4": 500}}}
    sc = scenario_from_dict(d)
    thor, cat = sc.gpu_catalog()["JetsonThor"], load_gpus()["JetsonThor"]
    assert thor.tdp_w == 60 and cat.tdp_w != 60
    assert thor.tflops.fp4 == 500 and thor.tflops.bf16 == cat.tflops.bf16
    assert (thor.name, thor.idle_w, thor.mem_bw_tbps, thor.id) == (
        cat.name, cat.idle_w, cat.mem_bw_tbps, "JetsonThor")
    # and the run draws it: the arms' idle Thor the same, its busy power lower
    plain = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    arm_w = [airan.run(scenario_from_dict(x), policy="local", duration_s=1.0)
             .summary["fleets"]["arm"]["mean_power_w"] for x in (plain, d)]
    assert arm_w[1] < arm_w[0]
