"""A scenario's own models (``models:``, the catalog's format): a service names them as it names
a catalog model, and every part of the twin that reads a model reads them."""

from __future__ import annotations

from typing import Any

import pytest

import airan
from airan.catalog import ModelSpec, load_gpus, load_models
from airan.compute.roofline import service_time_table_s
from airan.engine import Engine
from airan.errors import InputError
from airan.scenario import scenario_from_dict

# a 3B vision-language-action model, by the catalog's rules for OpenVLA-7B scaled to 3B
VLA_3B = {"params": 3.0e9, "precision": "bf16", "gflops": 1600, "weight_bytes": 6.0e9,
          "activation_bytes": 6.0e7, "decode_tokens": 7, "gflops_per_token": 6,
          "decode_weight_bytes": 5.4e9, "decode_activation_bytes": 5.5e7,
          "kv_bytes_per_token": 262144, "efficiency": {"compute": 1.0, "memory": 1.0}}


def _factory_with(model: dict[str, Any] | None = None) -> dict[str, Any]:
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {"vla-3b": VLA_3B if model is None else model}
    next(v for v in d["services"] if v["name"] == "vla")["model"] = "vla-3b"
    return d


def test_a_service_runs_a_model_of_the_scenarios_own_at_its_roofline() -> None:
    s = scenario_from_dict(_factory_with())
    assert s.models["vla-3b"].name == "vla-3b"  # (the id, where no name is given)
    w = Engine(s, duration_s=0.01).world
    spec = ModelSpec.model_validate({"name": "vla-3b", **VLA_3B})
    m, types = w.model_names.index("vla-3b"), w.gpu_type_names
    for gpu in ("L40S", "H100", "JetsonThor"):
        assert w.svc_time_s[m, types.index(gpu), 1] == service_time_table_s(
            spec, load_gpus()[gpu], 1)[1]
    # about 3/7 of OpenVLA-7B's time on an H100: a model of its own, not the catalog's
    seven = service_time_table_s(load_models()["openvla-7b"], load_gpus()["H100"], 1)[1]
    assert 0.3 < w.svc_time_s[m, types.index("H100"), 1] / seven < 0.5
    summary = Engine(s, duration_s=1.0).run().summary
    assert summary["services"]["vla"]["met"] > 0


def test_a_scenario_model_with_a_bad_field_is_refused_by_name() -> None:
    with pytest.raises(InputError, match=r"models.*vla-3b.*gflops"):
        scenario_from_dict(_factory_with({**VLA_3B, "gflops": -1}))
    bad = _factory_with()
    next(v for v in bad["services"] if v["name"] == "vla")["model"] = "vla-3c"
    with pytest.raises(InputError, match=r"services\[vla\]\.model.*vla-3c.*vla-3b"):
        scenario_from_dict(bad)


def test_a_scenario_models_own_fields_are_named_in_its_errors() -> None:
    with pytest.raises(InputError, match=r"models\.vla-3b\.gflops"):
        scenario_from_dict(_factory_with({**VLA_3B, "gflops": 0}))
    with pytest.raises(InputError, match=r"models\.vla-3b\.overhead_on.*H1000.*H100"):
        scenario_from_dict(_factory_with({**VLA_3B, "overhead_on": {"H1000": 2.0}}))
    eff = {"compute": 1.0, "memory": 1.0, "compute_on": {"H1000": 0.5}}
    with pytest.raises(InputError, match=r"models\.vla-3b\.efficiency\.compute_on.*H1000"):
        scenario_from_dict(_factory_with({**VLA_3B, "efficiency": eff}))
    dotted = _factory_with()
    dotted["models"] = {"vla.3b": VLA_3B}
    with pytest.raises(InputError, match=r"may not contain '\.'"):
        scenario_from_dict(dotted)
    odd = _factory_with()
    odd["models"] = {"vla/3b": VLA_3B}
    with pytest.raises(InputError, match=r"field 'models\.vla/3b': a name"):
        scenario_from_dict(odd)


def test_a_model_no_service_names_is_warned_about() -> None:
    from airan.scenario.load import scenario_warnings

    d = _factory_with()
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "models.vla-3b" in w]
    next(v for v in d["services"] if v["name"] == "vla")["model"] = "openvla-7b"
    found = [w for w in scenario_warnings(scenario_from_dict(d)) if "models.vla-3b" in w]
    assert len(found) == 1 and "no service names this model" in found[0]


def test_a_sweep_may_add_a_model_beside_the_scenarios_own() -> None:
    from airan.sweep.spec import set_path

    d = _factory_with()
    set_path(d, "models.vla-7b", {**VLA_3B, "params": 7e9}, where="set")
    assert set(d["models"]) == {"vla-3b", "vla-7b"}
    with pytest.raises(InputError, match=r"unknown field 'modelz'"):
        set_path(d, "modelz.x", 1, where="set")


def test_the_live_runtime_calls_a_scenario_model_the_scenarios_own() -> None:
    from airan.live.runtime import resolve_models

    s = scenario_from_dict(_factory_with())
    with pytest.raises(InputError, match=r"uses the scenario's own model 'vla-3b'"):
        resolve_models(s, {"detect": "tiny-cnn", "inspect": "tiny-cnn"})


def test_a_scenario_models_booleans_and_bad_distributions_are_refused_plainly() -> None:
    with pytest.raises(InputError, match=r"model 'vla-3b': gflops: expected a number"):
        scenario_from_dict(_factory_with({**VLA_3B, "gflops": True}))
    given = {"service_time_ms": {"dist": "uniform", "low_ms": 5}}
    with pytest.raises(InputError, match=r"service_time_ms: uniform needs exactly"):
        scenario_from_dict(_factory_with(given))


def test_validate_lists_the_scenarios_own_models(tmp_path: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "own.yaml"
    path.write_text(yaml.safe_dump(_factory_with()))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "models of its own 1 (vla-3b)" in result.stdout


def test_a_catalog_models_id_takes_the_fields_given_over_the_catalogs_entry() -> None:
    """A robot maker's review: ``openvla-7b: {precision_on: {JetsonThor: fp4}}`` was refused
    (a roofline needs gflops), and a restated entry silently lost the fields it left out (the
    L40S's batch-1 time moved 125.8 -> 124.5 ms). Now the catalog's fields stay, the given
    ones win: the VLA on a Thor at FP4 takes about a quarter of its BF16 time (weights read
    at half a byte, not two), on an H100 exactly the catalog's."""
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {"openvla-7b": {"precision_on": {"JetsonThor": "fp4"}}}
    s = scenario_from_dict(d)
    catalog, gpus = load_models()["openvla-7b"], load_gpus()
    own = s.models["openvla-7b"]
    assert own.precision_on == {"JetsonThor": "fp4"}
    assert own.model_copy(update={"precision_on": catalog.precision_on}) == catalog
    thor_bf16 = service_time_table_s(catalog, gpus["JetsonThor"], 1)[1]
    thor_fp4 = service_time_table_s(own, gpus["JetsonThor"], 1)[1]
    assert 0.2 < thor_fp4 / thor_bf16 < 0.3
    assert (service_time_table_s(own, gpus["H100"], 1)[1]
            == service_time_table_s(catalog, gpus["H100"], 1)[1])
    # a field given replaces the catalog's, a mapping key by key (a review of the diff: an
    # efficiency given dropped the catalog's compute_on calibrations), and the catalog's
    # source for it goes; an unknown one is refused by name
    d["models"] = {"openvla-7b": {"overhead_ms": 5.0},
                   "resnet50": {"efficiency": {"compute": 0.5}, "gflops": 9.0},
                   "yolov8n": {"overhead_on": {"JetsonThor": 1.0}}}
    models = scenario_from_dict(d).models
    assert models["openvla-7b"].overhead_ms == 5.0
    cat = load_models()
    r = models["resnet50"]
    assert r.efficiency is not None and r.efficiency.compute == 0.5
    assert r.efficiency.compute_on == cat["resnet50"].efficiency.compute_on != {}
    assert "gflops" in cat["resnet50"].source and "gflops" not in r.source
    assert models["yolov8n"].overhead_on == {**cat["yolov8n"].overhead_on, "JetsonThor": 1.0}
    d["models"] = {"openvla-7b": {"overhead_msec": 5.0}}
    with pytest.raises(InputError, match="overhead_msec"):
        scenario_from_dict(d)
