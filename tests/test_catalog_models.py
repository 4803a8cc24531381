"""Model catalog against DOMAIN.md 'Model costs' (/work/shared/design/DOMAIN.md)."""

from __future__ import annotations

import pydantic
import pytest

from airan.catalog import BYTES_PER_VALUE, ModelSpec, load_models

IDS = ("resnet50", "yolov8n", "yolov8s", "yolov8m", "vit-b16", "llm-7b", "openvla-7b")

# id: (params, GFLOPs per inference) from DOMAIN.md; FLOPs = 2 x MACs.
DOMAIN_COSTS = {
    "resnet50": (25.6e6, 2 * 4.1),
    "yolov8n": (3.2e6, 8.7),
    "yolov8s": (11.2e6, 28.6),
    "yolov8m": (25.9e6, 78.9),
    "vit-b16": (86.6e6, 2 * 17.56),
}


def test_all_models_present() -> None:
    assert set(IDS) <= set(load_models())


@pytest.mark.parametrize("mid", sorted(DOMAIN_COSTS))
def test_domain_costs(mid: str) -> None:
    params, gflops = DOMAIN_COSTS[mid]
    m = load_models()[mid]
    assert m.params == pytest.approx(params)
    assert m.gflops == pytest.approx(gflops)
    assert m.weight_bytes == pytest.approx(params * BYTES_PER_VALUE[m.precision])


def test_autoregressive_defaults() -> None:
    models = load_models()
    llm, vla = models["llm-7b"], models["openvla-7b"]
    assert llm.decode_tokens == 32 and llm.gflops == pytest.approx(128 * 14)
    assert llm.gflops_per_token == pytest.approx(14)
    assert vla.decode_tokens == 7 and vla.gflops == pytest.approx(3900)
    assert vla.params == pytest.approx(7.5e9, rel=0.02)
    assert not models["resnet50"].autoregressive and vla.autoregressive


def test_every_number_has_a_source() -> None:
    for mid, m in load_models().items():
        for field, value in m:
            if field in ("name", "precision", "source") or value is None or value == {}:
                continue
            if field in ModelSpec.model_fields and value == ModelSpec.model_fields[field].default:
                continue
            assert m.source.get(field), f"{mid}.{field} has no source"


def test_service_time_variants_and_rejections() -> None:
    ModelSpec.model_validate({"name": "f", "service_time_ms": 5})
    ModelSpec.model_validate(
        {"name": "d", "service_time_ms": {"dist": "lognormal", "mean_ms": 5, "cv": 0.3}}
    )
    bad = [
        {"name": "none"},  # neither roofline nor service time
        {"name": "x", "service_time_ms": {"dist": "lognormal", "mean_ms": 5}},  # no cv
        {"name": "x", "service_time_ms": {"dist": "uniform", "low_ms": 5, "high_ms": 1}},
        {"name": "x", "service_time_ms": {"dist": "exponential", "mean_ms": 5, "cv": 1}},
        {"name": "x", "service_time_ms": 0},
        {"name": "x", "service_time_ms": 5, "flops": 1},  # unknown field
        {"name": "x", "gflops": 1, "efficiency": {"compute": 1.2, "memory": 1}},
        {"name": "x", "gflops": 1, "efficiency": {"compute": 1, "memory": 1}, "decode_tokens": 3},
    ]
    for entry in bad:
        with pytest.raises(pydantic.ValidationError):
            ModelSpec.model_validate(entry)
