"""Roofline service times of a model on an accelerator, per batch, in seconds.

One-shot model, batch ``b`` (times in s)::

    T(b) = overhead + max(b * F / (P * e_c), (W + b * A) / (BW * e_m))

with ``F`` FLOPs per inference (``gflops * 1e9``), ``P`` dense peak FLOP/s at the precision
used after fallback (:meth:`airan.catalog.GpuSpec.peak_flops`), ``W`` weight bytes, ``A``
activation bytes per inference, ``BW`` memory bandwidth in bytes/s and ``e_c``, ``e_m`` the
model's efficiency factors (``e_c`` the one measured on this GPU where the catalog gives one,
:meth:`airan.catalog.Efficiency.compute_for`; ``overhead`` likewise,
:meth:`airan.catalog.ModelSpec.overhead_for`). Autoregressive models add ``decode_tokens``
steps, each::

    max(b * F_tok / (P * e_c), (W_dec + b * A_dec) / (BW * e_m))

(``F_tok`` = ``gflops_per_token * 1e9``, ``W_dec`` = ``decode_weight_bytes`` defaulting to
``W``, ``A_dec`` = ``decode_activation_bytes``, the KV cache read per sequence per step).
When the GPU lacks the model's precision and falls back to a wider one, ``W`` and ``A`` scale
by the ratio of bytes per value (e.g. fp8 -> fp16 doubles them).

Models with ``service_time_ms`` skip the roofline: a fixed number is the batch time for any
batch size >= 1 (a measured per-batch time; batching does not change it), and a distribution
contributes its mean here and its shape through :func:`service_time_distribution`; with
``batch_ms`` (the mean per batch size, as ``airan profile`` measures it) the mean follows the
batch size, interpolated linearly between the measured sizes.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from airan.catalog import BYTES_PER_VALUE, Efficiency, GpuSpec, ModelSpec, ServiceTimeDist

__all__ = [
    "DIST_DETERMINISTIC",
    "DIST_EXPONENTIAL",
    "DIST_LOGNORMAL",
    "DIST_UNIFORM",
    "batch_service_time_s",
    "fixed_overhead_s",
    "peak_roofline_s",
    "roofline_ratio",
    "sample_service_factors",
    "service_factor",
    "service_time_distribution",
    "service_time_table_s",
]

#: Distribution kinds returned by :func:`service_time_distribution`.
DIST_DETERMINISTIC = 0
DIST_EXPONENTIAL = 1
DIST_LOGNORMAL = 2
DIST_UNIFORM = 3


def _service_time_table(model: ModelSpec, gpu: GpuSpec, batch: NDArray[np.float64]) -> NDArray:
    """Vectorized T(b) in s for batch sizes ``batch`` (all >= 1)."""
    st = model.service_time_ms
    if isinstance(st, ServiceTimeDist):
        return st.mean_batch_s(batch)
    if st is not None:
        return np.full_like(batch, float(st) / 1e3)
    assert model.gflops is not None and model.efficiency is not None
    peak, used = gpu.peak_flops(model.precision_for(gpu))
    scale = BYTES_PER_VALUE[used] / BYTES_PER_VALUE[model.precision]  # (bytes at precision)
    flop_rate = peak * model.efficiency.compute_for(gpu)
    byte_rate = gpu.mem_bw_bytes_s * model.efficiency.memory
    weights = model.weight_bytes * scale
    t = np.maximum(
        batch * model.gflops * 1e9 / flop_rate,
        (weights + batch * model.activation_bytes * scale) / byte_rate,
    )
    if model.autoregressive:
        assert model.gflops_per_token is not None
        dec_weights = (
            weights if model.decode_weight_bytes is None else model.decode_weight_bytes * scale
        )
        step = np.maximum(
            batch * model.gflops_per_token * 1e9 / flop_rate,
            (dec_weights + batch * model.decode_activation_bytes * scale) / byte_rate,
        )
        t = t + model.decode_tokens * step
    return t + model.overhead_for(gpu) / 1e3


def fixed_overhead_s(model: ModelSpec, gpu: GpuSpec) -> float:
    """The fixed per-batch part of a roofline model's batch time on ``gpu`` (s): its
    ``overhead_ms`` (kernel launches, synchronisation and the small kernels that leave most of
    the SMs idle, fitted to batch-1 latencies); 0 for a given ``service_time_ms``, whose split
    is unknown. Where batches share a GPU, this part takes none of its throughput."""
    return 0.0 if model.service_time_ms is not None else model.overhead_for(gpu) / 1e3


def batch_service_time_s(model: ModelSpec, gpu: GpuSpec, batch: int) -> float:
    """Time in s to serve one batch of ``batch`` requests of ``model`` on ``gpu`` (0 for 0)."""
    if batch < 0:
        raise ValueError(f"batch must be >= 0, got {batch}")
    if batch == 0:
        return 0.0
    return float(_service_time_table(model, gpu, np.array([float(batch)]))[0])


def service_time_table_s(model: ModelSpec, gpu: GpuSpec, max_batch: int) -> NDArray[np.float64]:
    """Shape ``(max_batch + 1,)``: entry ``b`` is the batch-``b`` time in s; entry 0 is 0."""
    if max_batch < 0:
        raise ValueError(f"max_batch must be >= 0, got {max_batch}")
    out = np.zeros(max_batch + 1, dtype=np.float64)
    if max_batch >= 1:
        out[1:] = _service_time_table(model, gpu, np.arange(1, max_batch + 1, dtype=np.float64))
    return out


def roofline_ratio(model: ModelSpec, gpu: GpuSpec, measured_on: GpuSpec,
                   max_batch: int) -> NDArray[np.float64]:
    """Shape ``(max_batch + 1,)``: the roofline time of ``model`` on ``gpu`` over its time on
    ``measured_on``, per batch size (entry 0 is 1): what carries a time measured on one GPU to
    another (``service_time.measured_on``). ``model`` must have a roofline (FLOPs and
    efficiencies); a measured time it may carry is ignored here."""
    roof = model.model_copy(update={"service_time_ms": None})
    out = np.ones(max_batch + 1, dtype=np.float64)
    if max_batch >= 1:
        out[1:] = (service_time_table_s(roof, gpu, max_batch)[1:]
                   / service_time_table_s(roof, measured_on, max_batch)[1:])
    return out


def peak_roofline_s(model: ModelSpec, gpu: GpuSpec, batch: int = 1) -> float:
    """The time in s of a batch of ``model`` on ``gpu`` at its whole peak FLOP/s and memory
    bandwidth, no fixed overhead: a bound no measurement can beat (``model`` must have a
    roofline)."""
    peak = model.model_copy(update={"service_time_ms": None, "overhead_ms": 0.0,
                                    "overhead_on": {},
                                    "efficiency": Efficiency(compute=1.0, memory=1.0)})
    return batch_service_time_s(peak, gpu, batch)


def service_time_distribution(model: ModelSpec) -> tuple[int, float, float]:
    """``(kind, p1, p2)`` of a unit-mean random factor that multiplies the table time.

    How the engine uses it: take ``t = table[b]`` from :func:`service_time_table_s` (the mean
    batch time), draw ``f = service_factor(kind, p1, p2, u, z)`` with ``u`` ~ U(0, 1) and
    ``z`` ~ N(0, 1), and use ``t * f``. ``E[f] = 1``, so the table stays the mean. Kinds:

    - 0 deterministic: ``f = 1`` (roofline models, fixed ``service_time_ms``); p1 = p2 = 0.
    - 1 exponential: ``f = -ln(1 - u)``; p1 = 1 (mean), p2 = 0.
    - 2 lognormal: ``f = exp(p1 + p2 * z)`` with ``p2 = sqrt(ln(1 + cv^2))`` and
      ``p1 = -p2^2 / 2`` (log-space mean and std of a mean-1 lognormal with that cv).
    - 3 uniform: ``f = p1 + (p2 - p1) * u`` with ``p1 = low/mean``, ``p2 = high/mean``.
    """
    st = model.service_time_ms
    if not isinstance(st, ServiceTimeDist) or st.dist == "fixed":
        return DIST_DETERMINISTIC, 0.0, 0.0
    if st.dist == "exponential":
        return DIST_EXPONENTIAL, 1.0, 0.0
    if st.dist == "lognormal":
        assert st.cv is not None
        sigma = math.sqrt(math.log1p(st.cv * st.cv))
        return DIST_LOGNORMAL, -0.5 * sigma * sigma, sigma
    assert st.low_ms is not None and st.high_ms is not None
    mean_ms = st.mean_s * 1e3
    if mean_ms == 0.0:
        return DIST_DETERMINISTIC, 0.0, 0.0
    return DIST_UNIFORM, st.low_ms / mean_ms, st.high_ms / mean_ms


def service_factor(kind: int, p1: float, p2: float, u: float, z: float) -> float:
    """One unit-mean factor from a uniform ``u`` in [0, 1) and a standard normal ``z``.

    Scalar arithmetic only (``math``), so the engine can ``numba.njit`` this function as is.
    """
    if kind == DIST_EXPONENTIAL:
        return -p1 * math.log(1.0 - u)
    if kind == DIST_LOGNORMAL:
        return math.exp(p1 + p2 * z)
    if kind == DIST_UNIFORM:
        return p1 + (p2 - p1) * u
    return 1.0


def sample_service_factors(
    kind: int, p1: float, p2: float, rng: np.random.Generator, n: int
) -> NDArray[np.float64]:
    """Vectorized reference for :func:`service_factor`: ``n`` unit-mean factors."""
    if kind == DIST_EXPONENTIAL:
        return rng.exponential(p1, size=n)
    if kind == DIST_LOGNORMAL:
        return np.exp(p1 + p2 * rng.standard_normal(n))
    if kind == DIST_UNIFORM:
        return rng.uniform(p1, p2, size=n)
    return np.ones(n)
