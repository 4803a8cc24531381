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
