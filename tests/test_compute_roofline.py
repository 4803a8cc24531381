"""Roofline service times against published latencies (DOMAIN.md 'Model costs', 'Physical-AI').

Tolerances are stated per test; the published figures are written out here, not taken from the
catalog. The MLPerf ResNet-50 and TensorRT YOLOv8 points are the ones the catalog's efficiencies
and per-batch overheads were fitted to (six ResNet-50 points, six free parameters; three YOLOv8
points, three overheads), so these tests check the catalog's arithmetic and that a change keeps
the fit, not the model's accuracy at other GPUs or batch sizes (docs/model.md, "How we know it is
right"); the OpenVLA points are vla-perf's rooflines, a model of the same kind, not measurements.
"""

from __future__ import annotations

import numpy as np
import pytest

from airan.catalog import GpuSpec, ModelSpec, load_gpus, load_models
from airan.compute import (
    DIST_DETERMINISTIC,
    DIST_EXPONENTIAL,
    DIST_LOGNORMAL,
    DIST_UNIFORM,
    batch_service_time_s,
    sample_service_factors,
    service_factor,
    service_time_distribution,
    service_time_table_s,
)


@pytest.fixture(scope="module")
def gpus() -> dict[str, GpuSpec]:
    return load_gpus()


@pytest.fixture(scope="module")
def models() -> dict[str, ModelSpec]:
    return load_models()


@pytest.mark.parametrize("mid", ["resnet50", "yolov8m", "vit-b16", "llm-7b", "openvla-7b"])
@pytest.mark.parametrize("gid", ["A100-80GB", "H100", "L4", "JetsonOrin", "JetsonThor", "CPU"])
def test_batch_time_grows_and_per_item_time_falls(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], mid: str, gid: str
) -> None:
    table = service_time_table_s(models[mid], gpus[gid], 64)
    t = table[1:]
    b = np.arange(1, 65)
    assert np.all(np.diff(t) >= 0) and t[-1] > t[0]
    per_item = t / b
    assert np.all(np.diff(per_item) <= 1e-15) and per_item[-1] < per_item[0]


def test_resnet50_h100_offline_throughput(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec]
) -> None:
    # MLPerf Inference H100 ResNet-50 Offline: 88,714 img/s; within 2% at batch 256 (a
    # calibration point: models.yaml solves the CNN efficiency from it).
    b = 256
    throughput = b / batch_service_time_s(models["resnet50"], gpus["H100"], b)
    assert throughput == pytest.approx(88_714, rel=0.02)


@pytest.mark.parametrize(("gid", "samples_per_s"), [("A100-80GB", 42_379.3), ("L4", 13_157.8)])
def test_resnet50_offline_throughput_on_the_gpus_mlperf_measured(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], gid: str, samples_per_s: float
) -> None:
    # MLPerf Inference v3.0 ResNet-50 Offline, closed division, NVIDIA TensorRT INT8, one GPU
    # (results/DGX-A100_A100-SXM-80GBx1_TRT, results/L4x1_TRT); within 3% at batch 256. One
    # compute efficiency for every GPU (the H100's) put the A100 27% below it.
    b = 256
    throughput = b / batch_service_time_s(models["resnet50"], gpus[gid], b)
    assert throughput == pytest.approx(samples_per_s, rel=0.03)


def test_a_gpu_without_a_measured_efficiency_takes_the_models_own(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec]
) -> None:
    eff = models["resnet50"].efficiency
    assert eff is not None and "H100" not in eff.compute_on
    assert eff.compute_for(gpus["H100"]) == eff.compute
    assert eff.compute_for(gpus["A100-80GB"]) > eff.compute
    # every GPU a model names has a catalog entry (a misspelt id would silently go unused)
    for mid, m in models.items():
        if m.efficiency is not None:
            assert set(m.efficiency.compute_on) <= set(gpus), mid


@pytest.mark.parametrize(
    ("gid", "ms"),
    [("JetsonOrin", 0.64), ("A100-80GB", 0.476417), ("L4", 0.361584)],
)
def test_resnet50_single_stream_on_the_gpus_mlperf_measured(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], gid: str, ms: float
) -> None:
    # MLPerf ResNet-50 SingleStream p90 at batch 1, within 2%: Jetson AGX Orin 0.64 ms
    # (DOMAIN.md); v3.0 closed, NVIDIA TensorRT INT8, one GPU: A100-PCIe-80GB 476,417 ns
    # (results/A100-PCIe-80GBx1_TRT), L4 361,584 ns (results/L4x1_TRT). One overhead for
    # every GPU (Orin's 0.40 ms) put the A100 11% fast and the L4 56% slow.
    t = batch_service_time_s(models["resnet50"], gpus[gid], 1)
    assert t == pytest.approx(ms * 1e-3, rel=0.02)


def test_a_gpu_without_a_measured_overhead_takes_the_models_own(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec]
) -> None:
    r = models["resnet50"]
    assert "H100" not in r.overhead_on and r.overhead_for(gpus["H100"]) == r.overhead_ms
    assert r.overhead_for(gpus["L4"]) < r.overhead_ms < r.overhead_for(gpus["A100-80GB"])
    for mid, m in models.items():  # every GPU a model names has a catalog entry
        assert set(m.overhead_on) <= set(gpus), mid


@pytest.mark.parametrize(("mid", "ms"), [("yolov8n", 0.99), ("yolov8s", 1.20), ("yolov8m", 1.83)])
def test_yolov8_a100_batch1(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], mid: str, ms: float
) -> None:
    # Ultralytics YOLOv8 A100 TensorRT latency at batch 1; within 2% (the overheads are fitted
    # to it at the A100's measured CNN efficiency).
    t = batch_service_time_s(models[mid], gpus["A100-80GB"], 1)
    assert t == pytest.approx(ms * 1e-3, rel=0.02)


#: YOLOv8 over YOLO11 at batch 1, TensorRT FP32 on the Orin NX 16GB (Ultralytics' Jetson guide:
#: 8.9 / 14.82 / 33.21 against 8.05 / 14.13 / 30.72 ms)
_V8_OVER_11 = {"yolov8n": 8.9 / 8.05, "yolov8s": 14.82 / 14.13, "yolov8m": 33.21 / 30.72}


@pytest.mark.parametrize(("gid", "mid", "yolo11_ms"), [
    ("JetsonOrin", "yolov8n", 2.45), ("JetsonOrin", "yolov8s", 3.01),
    ("JetsonOrin", "yolov8m", 5.12), ("JetsonOrinNX", "yolov8n", 4.37),
    ("JetsonOrinNX", "yolov8s", 5.63), ("JetsonOrinNX", "yolov8m", 10.19)])
def test_yolov8_on_jetson_orin_batch1(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], gid: str, mid: str,
    yolo11_ms: float
) -> None:
    """Ultralytics' NVIDIA Jetson guide, TensorRT INT8, batch 1, 640 (AGX Orin 64GB,
    JetPack 6.2; Orin NX 16GB, JetPack 6.0), YOLO11 scaled to YOLOv8 by the guide's FP32 rows
    on the Orin NX; within 15% with one overhead per module for the three sizes. The A100's
    overheads put YOLOv8n on the Orin NX at 1.64 ms, half of it (a drone maker's review)."""
    t = batch_service_time_s(models[mid], gpus[gid], 1)
    assert t == pytest.approx(yolo11_ms * _V8_OVER_11[mid] * 1e-3, rel=0.15)


@pytest.mark.parametrize(
    ("gid", "ms", "rel"),
    [("A100-80GB", 55.1, 0.08), ("H100", 30.7, 0.08), ("JetsonThor", 380.5, 0.08)],
)
def test_openvla_batch1(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec], gid: str, ms: float, rel: float
) -> None:
    # vla-perf OpenVLA-7B batch-1 rooflines (DOMAIN.md Physical-AI workloads); ours are 5.8%
    # above them (the catalog's source note says why)
    t = batch_service_time_s(models["openvla-7b"], gpus[gid], 1)
    assert t == pytest.approx(ms * 1e-3, rel=rel)


def test_openvla_b100_like_gpu(models: dict[str, ModelSpec]) -> None:
    # vla-perf B100 13.1 ms (within 15%); B100 = 8 TB/s, 1750 dense BF16 TFLOPS (NVIDIA Blackwell
    # architecture brief), not in the catalog, so it is built here.
    b100 = GpuSpec(
        name="B100", memory_gb=192, mem_bw_tbps=8, tflops={"bf16": 1750, "fp8": 3500},
        tdp_w=700, idle_w=100, price_usd=0, kind="datacenter",
    )  # fmt: skip
    t = batch_service_time_s(models["openvla-7b"], b100, 1)
    assert t == pytest.approx(13.1e-3, rel=0.15)


def test_openvla_decode_is_memory_bound(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec]
) -> None:
    # Batch-1 decode reads all LLM weights per token: doubling bandwidth must nearly halve it.
    vla = models["openvla-7b"]
    h100 = gpus["H100"]
    fast = h100.model_copy(update={"mem_bw_tbps": 2 * h100.mem_bw_tbps})
    ratio = batch_service_time_s(vla, fast, 1) / batch_service_time_s(vla, h100, 1)
    assert 0.5 < ratio < 0.6


def test_precision_fallback_scales_bytes(models: dict[str, ModelSpec]) -> None:
    # An fp8 LLM on a GPU with only bf16 reads twice the weight bytes in decode.
    llm = models["llm-7b"]
    kw = {"name": "g", "memory_gb": 80, "mem_bw_tbps": 1.0, "tdp_w": 1, "idle_w": 0,
          "price_usd": 0, "kind": "edge"}  # fmt: skip
    fp8 = GpuSpec.model_validate({**kw, "tflops": {"bf16": 1000, "fp8": 1000}})
    bf16 = GpuSpec.model_validate({**kw, "tflops": {"bf16": 1000}})
    ratio = batch_service_time_s(llm, bf16, 1) / batch_service_time_s(llm, fp8, 1)
    assert ratio == pytest.approx(2.0, rel=0.02)


def test_fixed_service_time(gpus: dict[str, GpuSpec]) -> None:
    m = ModelSpec(name="fixed", service_time_ms=7.5)
    for b in (1, 4, 32):
        assert batch_service_time_s(m, gpus["L4"], b) == 7.5e-3
    table = service_time_table_s(m, gpus["H100"], 8)
    assert table[0] == 0.0 and np.all(table[1:] == 7.5e-3)
    assert service_time_distribution(m) == (DIST_DETERMINISTIC, 0.0, 0.0)


def test_table_shape_and_consistency(
    models: dict[str, ModelSpec], gpus: dict[str, GpuSpec]
) -> None:
    m, g = models["yolov8s"], gpus["L40S"]
    table = service_time_table_s(m, g, 16)
    assert table.shape == (17,) and table.dtype == np.float64
    assert table[0] == 0.0
    assert batch_service_time_s(m, g, 0) == 0.0
    for b in (1, 5, 16):
        assert table[b] == pytest.approx(batch_service_time_s(m, g, b), rel=1e-12)
    assert service_time_table_s(m, g, 0).shape == (1,)
    with pytest.raises(ValueError):
        batch_service_time_s(m, g, -1)


@pytest.mark.parametrize(
    ("dist", "kind", "mean_ms", "cv"),
    [
        ({"dist": "exponential", "mean_ms": 4.0}, DIST_EXPONENTIAL, 4.0, 1.0),
        ({"dist": "lognormal", "mean_ms": 4.0, "cv": 0.5}, DIST_LOGNORMAL, 4.0, 0.5),
        (
            {"dist": "uniform", "low_ms": 2.0, "high_ms": 6.0},
            DIST_UNIFORM,
            4.0,
            (6 - 2) / 12**0.5 / 4,
        ),
    ],
)
def test_distributions_unit_mean_factor(
    gpus: dict[str, GpuSpec], dist: dict[str, object], kind: int, mean_ms: float, cv: float
) -> None:
    m = ModelSpec.model_validate({"name": "d", "service_time_ms": dist})
    assert batch_service_time_s(m, gpus["H100"], 3) == pytest.approx(mean_ms * 1e-3)
    k, p1, p2 = service_time_distribution(m)
    assert k == kind
    rng = np.random.default_rng(1)
    n = 200_000
    f = sample_service_factors(k, p1, p2, rng, n)
    assert f.mean() == pytest.approx(1.0, abs=0.01)
    assert f.std() / f.mean() == pytest.approx(cv, rel=0.03)
    # the scalar kernel agrees with the vectorized reference in distribution
    u = rng.random(n)
    z = rng.standard_normal(n)
    g = np.array(
        [service_factor(k, p1, p2, ui, zi) for ui, zi in zip(u[:20_000], z[:20_000], strict=True)]
    )
    assert g.mean() == pytest.approx(1.0, abs=0.03)
    assert np.all(g >= 0)


def test_measured_batch_times_are_interpolated_and_extended(gpus: dict[str, GpuSpec]) -> None:
    # a profile's per-batch means (ms): sizes in between on the line through their neighbours,
    # beyond the largest on the last segment's line; the distribution keeps its unit-mean factor
    m = ModelSpec.model_validate({"name": "p", "service_time_ms": {
        "dist": "lognormal", "cv": 0.2, "batch_ms": {1: 1.4, 2: 2.8, 4: 5.0}}})
    table = service_time_table_s(m, gpus["CPU"], 6) * 1e3
    assert table[0] == 0.0
    np.testing.assert_allclose(table[1:], [1.4, 2.8, 3.9, 5.0, 6.1, 7.2], rtol=1e-12)
    assert batch_service_time_s(m, gpus["H100"], 3) == pytest.approx(3.9e-3, rel=1e-12)
    kind, p1, p2 = service_time_distribution(m)
    assert kind == DIST_LOGNORMAL and p2 == pytest.approx(np.sqrt(np.log1p(0.04)))
    fixed = ModelSpec.model_validate({"name": "f", "service_time_ms": {
        "dist": "fixed", "batch_ms": {2: 3.0}}})
    assert service_time_distribution(fixed) == (DIST_DETERMINISTIC, 0.0, 0.0)
    assert np.all(service_time_table_s(fixed, gpus["CPU"], 4)[1:] == 3.0e-3)
    # noisy tables: a falling last segment is not extended downwards; below the smallest size,
    # no less than its time per item and no more than its time
    noisy = ModelSpec.model_validate({"name": "n", "service_time_ms": {
        "dist": "fixed", "batch_ms": {1: 0.67, 2: 0.62}}})
    np.testing.assert_allclose(service_time_table_s(noisy, gpus["CPU"], 16)[2:] * 1e3, 0.62)
    steep = ModelSpec.model_validate({"name": "s", "service_time_ms": {
        "dist": "fixed", "batch_ms": {2: 0.5, 4: 3.0}}})
    assert batch_service_time_s(steep, gpus["CPU"], 1) == pytest.approx(0.25e-3)
    flat = ModelSpec.model_validate({"name": "f2", "service_time_ms": {
        "dist": "fixed", "batch_ms": {2: 2.0, 4: 2.2}}})
    assert batch_service_time_s(flat, gpus["CPU"], 1) == pytest.approx(1.9e-3)


@pytest.mark.parametrize("bad", [
    {"dist": "fixed", "batch_ms": {0: 1.0}},
    {"dist": "fixed", "batch_ms": {}},
    {"dist": "lognormal", "cv": 0.1, "mean_ms": 1.0, "batch_ms": {1: 1.0}},
    {"dist": "uniform", "low_ms": 1.0, "high_ms": 2.0, "batch_ms": {1: 1.0}},
])
def test_bad_batch_tables_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="batch_ms|needs exactly"):
        ModelSpec.model_validate({"name": "b", "service_time_ms": bad})


def test_a_memory_bound_batch_reads_the_weights_once_and_each_requests_activations() -> None:
    """T(b) = max(b F / P, (W + b A) / BW) (the module's roofline): with a negligible F, each
    request of a batch adds its activation bytes A over the bandwidth, the weights W read once:
    T(8) - T(1) = 7 A / BW exactly, T(1) = (W + A) / BW."""
    gpu = GpuSpec.model_validate({"name": "g", "memory_gb": 80, "mem_bw_tbps": 2.0, "tdp_w": 1,
                                  "idle_w": 0, "price_usd": 0, "kind": "edge",
                                  "tflops": {"bf16": 1000}})
    m = ModelSpec.model_validate({"name": "mem", "gflops": 1e-6, "weight_bytes": 1e9,
                                  "activation_bytes": 1e8, "precision": "bf16",
                                  "efficiency": {"compute": 1.0, "memory": 1.0},
                                  "overhead_ms": 0.0})
    bw = 2.0e12
    assert batch_service_time_s(m, gpu, 1) == pytest.approx((1e9 + 1e8) / bw, rel=1e-12)
    assert batch_service_time_s(m, gpu, 8) - batch_service_time_s(m, gpu, 1) == pytest.approx(
        7e8 / bw, rel=1e-9)
