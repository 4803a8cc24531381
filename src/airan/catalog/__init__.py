"""Accelerator, model and device-class catalogs: typed specs loaded from package-data YAML files.

Every number in ``gpus.yaml``, ``models.yaml`` and ``devices.yaml`` has a citation in the
entry's ``source`` mapping (keyed by field name). Units are stated in the field names: ``_gb``
(1e9 bytes), ``_tbps`` (1e12 bytes/s), ``tflops`` (1e12 FLOP/s or OP/s, dense), ``_w`` (W),
``_ms`` (ms), ``_bytes`` (bytes), ``gflops`` (1e9 FLOP, with FLOPs = 2 x MACs), ``height_m``
(m), ``_kb`` (1000 bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from airan.yaml_files import load_yaml

__all__ = [
    "BYTES_PER_VALUE",
    "PRECISION_ORDER",
    "DeviceClass",
    "Efficiency",
    "GpuSpec",
    "ModelSpec",
    "Precision",
    "ServiceTimeDist",
    "Tflops",
    "load_device_classes",
    "load_gpus",
    "load_models",
    "parse_gpus",
    "parse_models",
]

Precision = Literal["fp4", "fp8", "int8", "fp16", "bf16", "fp32"]

#: Fallback order: a model served at ``p`` runs at the first precision at or after ``p``
#: in this tuple that the accelerator supports (never at a narrower one).
PRECISION_ORDER: tuple[str, ...] = ("fp4", "fp8", "int8", "fp16", "bf16", "fp32")

#: Bytes per stored value (weights, activations) at each precision.
BYTES_PER_VALUE: dict[str, float] = {
    "fp4": 0.5,
    "fp8": 1.0,
    "int8": 1.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp32": 4.0,
}

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Tflops(BaseModel):
    """Dense peak throughput per precision, in TFLOPS (TOPS for int8); absent = unsupported."""

    model_config = _STRICT

    fp32: float | None = Field(default=None, gt=0)
    bf16: float | None = Field(default=None, gt=0)
    fp16: float | None = Field(default=None, gt=0)
    fp8: float | None = Field(default=None, gt=0)
    int8: float | None = Field(default=None, gt=0)
    fp4: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _at_least_one(self) -> Tflops:
        if all(getattr(self, p) is None for p in PRECISION_ORDER):
            raise ValueError("tflops needs at least one precision")
        return self


class GpuSpec(BaseModel):
    """One accelerator (or a generic CPU): memory, bandwidth, dense peaks, power, price."""

    model_config = _STRICT

    name: str
    memory_gb: float = Field(gt=0)
    mem_bw_tbps: float = Field(gt=0)
    tflops: Tflops
    tdp_w: float = Field(gt=0)
    idle_w: float = Field(ge=0)
    price_usd: float = Field(ge=0)
    kind: Literal["datacenter", "edge", "embedded", "cpu"]
    mig: bool = False  # splits into the 7-compute-slice MIG instances (NVIDIA MIG User Guide)
    # the SMs of the whole GPU and of its MIG instance profiles by compute slices (1, 2, 3, 4,
    # 7), where known: an instance has the peaks of its share of the SMs (an H100's 4g has 64
    # of 132, not 4/7 of them); None: its sevenths
    sms: int | None = Field(None, gt=0)
    mig_sms: dict[int, int] | None = None
    source: dict[str, str] = Field(default_factory=dict)
    id: str = ""  # its catalog id, set by parse_gpus (a model's per-GPU efficiency is keyed by it)

    @model_validator(mode="after")
    def _idle_below_tdp(self) -> GpuSpec:
        if self.idle_w > self.tdp_w:
            raise ValueError(f"idle_w {self.idle_w} exceeds tdp_w {self.tdp_w}")
        return self

    @model_validator(mode="after")
    def _mig_sms_of_the_gpus(self) -> GpuSpec:
        if self.mig_sms is None:
            return self
        if self.sms is None or not self.mig:
            raise ValueError("mig_sms needs mig: true and the GPU's sms")
        bad = {k: v for k, v in self.mig_sms.items()
               if k not in (1, 2, 3, 4, 7) or not 0 < v <= self.sms}
        if bad:
            raise ValueError(f"mig_sms {bad}: compute slices 1, 2, 3, 4 or 7, each with 1 to "
                             f"sms ({self.sms}) SMs")
        return self

    def mig_sm_share(self, sevenths: int) -> float:
        """The share of the whole GPU's SMs that its MIG instance of ``sevenths`` compute
        slices has: the profile's SM count where the catalog gives it, else sevenths / 7."""
        if self.mig_sms is not None and self.sms is not None and sevenths in self.mig_sms:
            return self.mig_sms[sevenths] / self.sms
        return sevenths / 7

    @property
    def mem_bw_bytes_s(self) -> float:
        """Peak memory bandwidth in bytes/s."""
        return self.mem_bw_tbps * 1e12

    @property
    def memory_bytes(self) -> float:
        """Memory capacity in bytes."""
        return self.memory_gb * 1e9

    def supports(self, precision: str) -> bool:
        """True if the catalog lists a dense peak for ``precision``."""
        return getattr(self.tflops, precision, None) is not None

    def resolve_precision(self, precision: str) -> str:
        """Precision actually used for work requested at ``precision`` (see PRECISION_ORDER)."""
        if precision not in PRECISION_ORDER:
            raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISION_ORDER}")
        for p in PRECISION_ORDER[PRECISION_ORDER.index(precision) :]:
            if self.supports(p):
                return p
        raise ValueError(f"{self.name} supports no precision at or above {precision!r}")

    def peak_flops(self, precision: str) -> tuple[float, str]:
        """Dense peak in FLOP/s (OP/s for int8) and the precision used after fallback.

        Fallback goes only to wider types: fp4 -> fp8 -> int8 -> fp16 -> bf16 -> fp32. E.g. an fp8
        model on an A100 (no FP8 tensor cores) runs at int8 (624 TOPS).
        """
        used = self.resolve_precision(precision)
        tflops = getattr(self.tflops, used)
        assert tflops is not None
        return tflops * 1e12, used


class Efficiency(BaseModel):
    """Fractions of peak achieved: ``compute`` of tensor FLOP/s, ``memory`` of bandwidth.

    ``compute_on`` gives the compute fraction measured on particular GPUs (GPU catalog id ->
    fraction), where it differs from ``compute``: a tensor peak is not equally reachable on
    every architecture (ResNet-50 in MLPerf reaches ~0.6 of an A100's INT8 peak, ~0.4 of an
    H100's). A GPU not listed takes ``compute``.
    """

    model_config = _STRICT

    compute: float = Field(gt=0, le=1)
    memory: float = Field(gt=0, le=1)
    compute_on: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)

    def compute_for(self, gpu: GpuSpec) -> float:
        """The compute fraction on ``gpu`` (its measured one, else ``compute``)."""
        return self.compute_on.get(gpu.id, self.compute)


class ServiceTimeDist(BaseModel):
    """A measured service-time distribution per batch, in ms.

    ``fixed``: ``mean_ms``; ``exponential``: ``mean_ms``; ``lognormal``: ``mean_ms`` and ``cv``
    (std/mean); ``uniform``: ``low_ms`` and ``high_ms``. In place of ``mean_ms``, ``batch_ms``
    gives the mean per batch size as measured (``airan profile``): ``{1: 1.4, 2: 2.8, 4: 5.5}``;
    other sizes are interpolated linearly and the end segments extended (never falling above the
    largest size; below the smallest, at least its time per item). Without it the time is the
    same for every batch size.
    """

    model_config = _STRICT

    dist: Literal["fixed", "lognormal", "exponential", "uniform"]
    mean_ms: float | None = Field(default=None, gt=0)
    batch_ms: dict[int, float] | None = None
    cv: float | None = Field(default=None, ge=0)
    low_ms: float | None = Field(default=None, ge=0)
    high_ms: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _params(self) -> ServiceTimeDist:
        given = {k for k in ("mean_ms", "batch_ms", "cv", "low_ms", "high_ms")
                 if getattr(self, k) is not None}
        need = {
            "fixed": {"mean_ms"},
            "exponential": {"mean_ms"},
            "lognormal": {"mean_ms", "cv"},
            "uniform": {"low_ms", "high_ms"},
        }[self.dist]
        alt = "" if self.dist == "uniform" else " (or batch_ms in place of mean_ms)"
        msg = f"{self.dist} needs exactly {sorted(need)}{alt}, got {sorted(given)}"
        if self.dist != "uniform" and "batch_ms" in given:
            need = need - {"mean_ms"} | {"batch_ms"}
        if given != need:
            raise ValueError(msg)
        if self.batch_ms is not None:
            if not self.batch_ms:
                raise ValueError("batch_ms is empty")
            bad = [(b, t) for b, t in self.batch_ms.items() if b < 1 or not t > 0]
            if bad:
                raise ValueError(f"batch_ms needs batch sizes >= 1 and times > 0, got {bad[0]}")
        if self.dist == "uniform":
            assert self.low_ms is not None and self.high_ms is not None
            if self.low_ms > self.high_ms:
                raise ValueError("uniform: low_ms > high_ms")
        return self

    @property
    def mean_s(self) -> float:
        """Mean service time of a batch of one in s."""
        if self.batch_ms is not None:
            return self.mean_batch_s(np.array([1.0]))[0]  # type: ignore[no-any-return]
        if self.dist == "uniform":
            assert self.low_ms is not None and self.high_ms is not None
            return 0.5 * (self.low_ms + self.high_ms) / 1e3
        assert self.mean_ms is not None
        return self.mean_ms / 1e3

    def mean_batch_s(self, batch: NDArray[np.float64]) -> NDArray[np.float64]:
        """Mean time in s of a batch of each size in ``batch`` (all >= 1)."""
        if self.batch_ms is None:
            return np.full_like(batch, self.mean_s)
        b = np.array(sorted(self.batch_ms), dtype=np.float64)
        t = np.array([self.batch_ms[int(k)] for k in b]) / 1e3
        if len(b) == 1:
            return np.full_like(batch, t[0])
        out = np.interp(batch, b, t)
        lo, hi = batch < b[0], batch > b[-1]
        # below the smallest size: the first segment's line, between the smallest size's share
        # per item and its whole time; above the largest: the last segment's line, never
        # falling (a bigger batch does not take less time than a smaller one)
        first = t[0] + (batch[lo] - b[0]) * (t[1] - t[0]) / (b[1] - b[0])
        out[lo] = np.clip(first, t[0] * batch[lo] / b[0], t[0])
        out[hi] = t[-1] + (batch[hi] - b[-1]) * max(0.0, (t[-1] - t[-2]) / (b[-1] - b[-2]))
        return out


class ModelSpec(BaseModel):
    """One inference model: a roofline cost (FLOPs, bytes) or a given service time.

    Roofline fields: ``gflops`` per inference (prefill for autoregressive models),
    ``weight_bytes`` at ``precision``, ``activation_bytes`` per inference, and optionally
    ``decode_tokens`` steps of ``gflops_per_token`` each reading ``decode_weight_bytes``
    (default ``weight_bytes``) plus ``decode_activation_bytes`` (KV cache, at the mean
    context) per sequence; ``kv_bytes_per_token``, what the cache grows by per token, sizes it
    at the last step, where the memory check needs it (:mod:`airan.compute.memory`). The
    steps come after the prefill, which yields the first output token itself: an output of N
    tokens is ``decode_tokens: N - 1`` (vla-perf counts OpenVLA's 7 action tokens as 7 steps,
    and the catalog follows it there).
    ``overhead_ms`` is the fixed time of a batch (kernel launches, the layers too small to
    fill the GPU at batch 1); ``overhead_on`` gives the one fitted on particular GPUs (GPU
    catalog id -> ms) where a measured batch-1 latency says it differs.
    Alternatively ``service_time_ms`` (fixed number or distribution) replaces the roofline.
    """

    model_config = _STRICT

    name: str
    params: float | None = Field(default=None, gt=0)
    precision: Precision = "fp16"
    gflops: float | None = Field(default=None, ge=0)
    weight_bytes: float = Field(default=0.0, ge=0)
    activation_bytes: float = Field(default=0.0, ge=0)
    decode_tokens: int = Field(default=0, ge=0)
    gflops_per_token: float | None = Field(default=None, ge=0)
    decode_weight_bytes: float | None = Field(default=None, ge=0)
    decode_activation_bytes: float = Field(default=0.0, ge=0)
    kv_bytes_per_token: float = Field(default=0.0, ge=0)
    efficiency: Efficiency | None = None
    overhead_ms: float = Field(default=0.0, ge=0)
    overhead_on: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    # the precision it is deployed at on particular GPUs (GPU id -> precision), where it differs
    # from ``precision``: INT8 on a Jetson, FP16 on an H100 (weights stay given at ``precision``)
    precision_on: dict[str, Precision] = Field(default_factory=dict)
    service_time_ms: float | ServiceTimeDist | None = None
    source: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cost_given(self) -> ModelSpec:
        if isinstance(self.service_time_ms, float | int) and self.service_time_ms <= 0:
            raise ValueError("service_time_ms must be > 0")
        if self.service_time_ms is None:
            if self.gflops is None or self.efficiency is None:
                raise ValueError(
                    "a roofline model needs gflops and efficiency (or service_time_ms)"
                )
            if self.decode_tokens > 0 and self.gflops_per_token is None:
                raise ValueError("decode_tokens > 0 needs gflops_per_token")
        return self

    def overhead_for(self, gpu: GpuSpec) -> float:
        """The per-batch overhead in ms on ``gpu``: its measured one, else ``overhead_ms``."""
        return self.overhead_on.get(gpu.id, self.overhead_ms)

    def precision_for(self, gpu: GpuSpec) -> str:
        """The lowest precision the model runs at on ``gpu`` (``precision_on``, else
        ``precision``), before the GPU's fallback to one it supports."""
        return self.precision_on.get(gpu.id, self.precision)

    @property
    def autoregressive(self) -> bool:
        """True if the model decodes tokens after its prefill."""
        return self.decode_tokens > 0


class DeviceClass(BaseModel):
    """A kind of device: the defaults a fleet takes with ``device_class`` (its own fields win).

    ``height_m``: the UE antenna's height above the ground (m); ``accelerator``: a GPU catalog
    id or ``"none"`` (the device's CPU); ``ul_buffer_kb``: the uplink buffer (KB), where the
    class needs more than a fleet's default; ``cpu_runs_models``: false where the device's CPU
    runs no model (a plain IP camera streams its frames; an accelerator a fleet gives it
    still runs them).
    """

    model_config = _STRICT

    name: str
    height_m: float = Field(gt=0, le=1000)
    accelerator: str
    ul_buffer_kb: float | None = Field(default=None, gt=0)
    cpu_runs_models: bool = True
    source: dict[str, str] = Field(default_factory=dict)

    def fleet_defaults(self) -> dict[str, Any]:
        """The fleet fields this class sets (its ``ul_buffer_kb`` only where it gives one)."""
        out: dict[str, Any] = {"height_m": self.height_m, "accelerator": self.accelerator,
                               "cpu_runs_models": self.cpu_runs_models}
        if self.ul_buffer_kb is not None:
            out["ul_buffer_kb"] = self.ul_buffer_kb
        return out


def _read_yaml(filename: str, path: str | Path | None) -> Mapping[str, Any]:
    if path is None:
        text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = load_yaml(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{filename}: top level must be a mapping of id -> entry")
    return data


def parse_gpus(data: Mapping[str, Any]) -> dict[str, GpuSpec]:
    """Validate a mapping ``id -> fields`` into GpuSpecs (raises pydantic.ValidationError)."""
    return {str(k): GpuSpec.model_validate({**v, "id": str(k)} if isinstance(v, Mapping) else v)
            for k, v in data.items()}


def parse_models(data: Mapping[str, Any]) -> dict[str, ModelSpec]:
    """Validate a mapping ``id -> fields`` into ModelSpecs (raises pydantic.ValidationError)."""
    return {str(k): ModelSpec.model_validate(v) for k, v in data.items()}


@lru_cache(maxsize=8)
def _gpus_cached(path: str | None) -> dict[str, GpuSpec]:
    return parse_gpus(_read_yaml("gpus.yaml", path))


@lru_cache(maxsize=8)
def _models_cached(path: str | None) -> dict[str, ModelSpec]:
    return parse_models(_read_yaml("models.yaml", path))


def load_gpus(path: str | Path | None = None) -> dict[str, GpuSpec]:
    """GPU catalog keyed by id (e.g. ``"H100"``); the packaged ``gpus.yaml`` unless ``path``."""
    return dict(_gpus_cached(None if path is None else str(path)))


def load_models(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """Model catalog keyed by id (e.g. ``"resnet50"``); packaged ``models.yaml`` unless ``path``."""
    return dict(_models_cached(None if path is None else str(path)))


@lru_cache(maxsize=1)
def _device_classes_cached() -> dict[str, DeviceClass]:
    data = _read_yaml("devices.yaml", None)
    return {str(k): DeviceClass.model_validate(v) for k, v in data.items()}


def load_device_classes() -> dict[str, DeviceClass]:
    """Device classes keyed by id (e.g. ``"amr"``), from the packaged ``devices.yaml``."""
    return dict(_device_classes_cached())
