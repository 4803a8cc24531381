"""A100-equivalents: each accelerator's ratio to an NVIDIA A100, from the catalog's spec sheets.

All ratios are dimensionless quotients of two catalog figures (``gpus.yaml``, which copies the GPU
table of the project design notes (DOMAIN.md) from the vendor datasheets):

* ``training``: dense BF16 tensor TFLOPS over the A100's dense BF16 (312 TFLOPS). E.g. H100
  989 / 312 = 3.17; GB200 2,500 / 312 = 8.0 (DOMAIN.md: "GB200 vs A100 is ~8x on dense BF16").
* ``inference``: like for like at the lowest precision the model allows. Both GPUs run at the
  narrowest precision at or above it that they support (the twin's own fallback,
  :meth:`airan.catalog.GpuSpec.peak_flops`): an FP8 model runs at FP8 on an H100 (1,979 TFLOPS)
  and at INT8 on an A100 (624 TOPS), so H100 / A100 = 3.17.
* ``headline``: the GPU at that precision over the A100 at dense FP16 (312 TFLOPS), the way
  vendor comparisons are quoted (DOMAIN.md: GB200 "~16x with FP8, ~32x FP4 vs A100 FP16").
  It is twice the like-for-like ratio wherever the A100 could have run INT8.
* ``decode``: memory bandwidth over the A100's, for memory-bound autoregressive decoding
  (every weight is read once per token): GB200 8 / 2.039 TB/s = 3.9.
* ``claim``: a vendor's rack-scale figure where one exists (:data:`RACK_SCALE_CLAIMS`), else the
  headline ratio at FP4. It is not a spec-sheet ratio: GB200 NVL72 is quoted at 30x an H100 for
  real-time inference of a 1.8T-parameter MoE at FP4, i.e. 30 x 3.17 = 95 A100 per GPU.

The reference is the A100 80GB SXM (:data:`REFERENCE_GPU`); the 40GB part has the same tensor
peaks and 1.555 instead of 2.039 TB/s, so only ``decode`` changes with ``reference``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from airan.catalog import PRECISION_ORDER, GpuSpec, load_gpus

__all__ = [
    "BASES",
    "GB200_NVL72_VS_H100_INFERENCE",
    "GB200_NVL72_VS_H100_TRAINING",
    "MLPERF_B200_VS_H100_LLAMA2_70B",
    "RACK_SCALE_CLAIMS",
    "REFERENCE_GPU",
    "A100Ratios",
    "a100_ratios",
    "claim_ratio",
    "decode_ratio",
    "headline_inference_ratio",
    "inference_ratio",
    "training_ratio",
]

#: The A100 every ratio divides by (DOMAIN.md GPU table: 80 GB, 2.039 TB/s, BF16 312 TFLOPS).
REFERENCE_GPU = "A100-80GB"

#: The bases of comparison, in the order they are shown.
BASES: tuple[str, ...] = ("training", "inference", "headline", "decode", "claim")

#: NVIDIA: GB200 NVL72 vs H100, real-time inference on a 1.8T-parameter MoE (rack scale, FP4).
#: Source: DOMAIN.md "A100-equivalents" (NVIDIA GB200 NVL72 announcement).
GB200_NVL72_VS_H100_INFERENCE = 30.0
#: NVIDIA: GB200 NVL72 vs H100 for training (rack scale). Source: DOMAIN.md "A100-equivalents".
GB200_NVL72_VS_H100_TRAINING = 4.0
#: MLPerf Inference, per GPU, Llama2-70B offline, B200 vs H100. Source: DOMAIN.md.
MLPERF_B200_VS_H100_LLAMA2_70B = 3.7

#: Vendor claims per GPU id: (factor, the GPU it is quoted against, what it covers).
RACK_SCALE_CLAIMS: dict[str, tuple[float, str, str]] = {
    "GB200": (
        GB200_NVL72_VS_H100_INFERENCE,
        "H100",
        "NVIDIA: GB200 NVL72 vs H100, 30x real-time inference, 1.8T MoE, FP4, rack scale "
        "(DOMAIN.md 'A100-equivalents')",
    ),
}


def training_ratio(gpu: GpuSpec, reference: GpuSpec) -> float | None:
    """Dense BF16 TFLOPS of ``gpu`` over ``reference`` (None if either lacks BF16)."""
    if gpu.tflops.bf16 is None or reference.tflops.bf16 is None:
        return None
    return gpu.tflops.bf16 / reference.tflops.bf16


def inference_ratio(
    gpu: GpuSpec, reference: GpuSpec, precision: str
) -> tuple[float, str, str] | None:
    """Like-for-like inference ratio at the lowest precision the model allows.

    Returns ``(ratio, precision used by gpu, precision used by reference)``: each runs at the
    narrowest precision at or above ``precision`` that it supports (dense TFLOPS or TOPS); None
    if either supports none.
    """
    try:
        g_flops, g_used = gpu.peak_flops(precision)
        r_flops, r_used = reference.peak_flops(precision)
    except ValueError:
        return None
    return g_flops / r_flops, g_used, r_used


def headline_inference_ratio(
    gpu: GpuSpec, reference: GpuSpec, precision: str
) -> tuple[float, str] | None:
    """``gpu`` at the lowest precision it supports at or above ``precision`` over the
    reference's dense FP16 (vendor style: DOMAIN.md GB200 "~16x with FP8, ~32x FP4 vs A100
    FP16"). Returns ``(ratio, precision used by gpu)``."""
    ref = reference.tflops.fp16 or reference.tflops.bf16
    if ref is None:
        return None
    try:
        g_flops, g_used = gpu.peak_flops(precision)
    except ValueError:
        return None
    return g_flops / (ref * 1e12), g_used


def decode_ratio(gpu: GpuSpec, reference: GpuSpec) -> float:
    """Memory bandwidth of ``gpu`` over ``reference`` (TB/s over TB/s): the ratio of
    memory-bound decode throughput, where each token reads every weight once."""
    return gpu.mem_bw_tbps / reference.mem_bw_tbps


def claim_ratio(
    gpu_id: str, gpu: GpuSpec, reference: GpuSpec, gpus: Mapping[str, GpuSpec] | None = None
) -> tuple[float, str]:
    """The most generous per-GPU figure: a vendor's rack-scale claim converted to A100s where
    :data:`RACK_SCALE_CLAIMS` has one (factor x the quoted GPU's BF16 ratio), else the headline
    ratio at FP4. Returns ``(ratio, basis text)``."""
    if gpu_id in RACK_SCALE_CLAIMS:
        factor, versus, text = RACK_SCALE_CLAIMS[gpu_id]
        catalog = gpus if gpus is not None else load_gpus()
        base = training_ratio(catalog[versus], reference)
        assert base is not None
        return factor * base, f"{factor:g} x {versus} ({base:.2f} A100): {text}"
    head = headline_inference_ratio(gpu, reference, "fp4")
    if head is None:
        return 0.0, "no tensor precision"
    return head[0], f"no vendor claim; headline at {head[1].upper()} vs A100 FP16"


@dataclass(frozen=True)
class A100Ratios:
    """One accelerator against the reference A100 (dimensionless; see the module docstring)."""

    gpu: str
    reference: str
    precision: str
    training: float | None
    inference: float | None
    inference_precision: str | None
    reference_precision: str | None
    headline: float | None
    decode: float
    claim: float
    claim_basis: str
    sources: dict[str, str] = field(default_factory=dict)

    def value(self, basis: str) -> float | None:
        """The ratio on one of :data:`BASES`."""
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}; expected one of {BASES}")
        return getattr(self, basis)  # type: ignore[no-any-return]


def a100_ratios(
    gpu_id: str,
    *,
    precision: str = "fp8",
    reference: str = REFERENCE_GPU,
    gpus: Mapping[str, GpuSpec] | None = None,
) -> A100Ratios:
    """All ratios of catalog GPU ``gpu_id`` to ``reference``; ``precision`` is the lowest
    precision the served model allows (one of ``fp4, fp8, int8, fp16, bf16, fp32``)."""
    if precision not in PRECISION_ORDER:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISION_ORDER}")
    catalog = gpus if gpus is not None else load_gpus()
    g, ref = catalog[gpu_id], catalog[reference]
    inf = inference_ratio(g, ref, precision)
    head = headline_inference_ratio(g, ref, precision)
    claim, claim_basis = claim_ratio(gpu_id, g, ref, catalog)
    sources = {
        "tflops": g.source.get("tflops", ""),
        "mem_bw_tbps": g.source.get("mem_bw_tbps", ""),
        "reference": f"{reference}: {ref.source.get('tflops', '')}",
    }
    if gpu_id in RACK_SCALE_CLAIMS:
        sources["claim"] = RACK_SCALE_CLAIMS[gpu_id][2]
    return A100Ratios(
        gpu=gpu_id,
        reference=reference,
        precision=precision,
        training=training_ratio(g, ref),
        inference=None if inf is None else inf[0],
        inference_precision=None if inf is None else inf[1],
        reference_precision=None if inf is None else inf[2],
        headline=None if head is None else head[0],
        decode=decode_ratio(g, ref),
        claim=claim,
        claim_basis=claim_basis,
        sources=sources,
    )
