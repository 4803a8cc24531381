"""ONNX models for the live runtime: built-in architectures, sessions, payload decoding, profiling.

Built-in models are generated here with ``onnx.helper`` from well-known architectures, with
**random weights** (a fixed seed): they do the same arithmetic as the trained networks, so their
latency is real, but their answers mean nothing. They are written once into the cache folder
(``$AIRAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/airan``, else ``~/.cache/airan``); nothing is ever
downloaded. Users bring their own ONNX file by path.

:func:`profile` measures latency against batch size with ONNX Runtime on this machine and
:func:`write_calibration` stores it in a file from which a scenario takes its service time
(:func:`service_time_of`).
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from airan.errors import InputError

OPSET = 17
GENERATOR_VERSION = 1  # bump when a generator changes: cached files get a new name


# ---- building graphs ----------------------------------------------------------------------------
class _Graph:
    """A tiny builder for inference graphs (float32, dynamic batch ``N``)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.n = 0

    def _name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}{self.n}"

    def _const(self, arr: NDArray[Any], kind: str) -> str:
        from onnx import numpy_helper

        name = self._name(kind)
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def conv(self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, *, relu: bool = True,
             group: int = 1, gain: float = 1.0) -> str:
        """Conv (batch norm folded into its bias, as inference engines do) and ReLU."""
        from onnx import helper

        fan_in = c_in // group * k * k
        w = self.rng.standard_normal((c_out, c_in // group, k, k)) * gain * np.sqrt(2.0 / fan_in)
        b = np.zeros(c_out)
        out = self._name("conv")
        pad = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, self._const(w, "W"), self._const(b, "B")], [out], kernel_shape=[k, k],
            strides=[stride, stride], pads=[pad] * 4, group=group))
        return self.relu(out) if relu else out

    def relu(self, x: str) -> str:
        from onnx import helper

        out = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [out]))
        return out

    def add(self, a: str, b: str) -> str:
        from onnx import helper

        out = self._name("add")
        self.nodes.append(helper.make_node("Add", [a, b], [out]))
        return out

    def maxpool(self, x: str) -> str:
        from onnx import helper

        out = self._name("pool")
        self.nodes.append(helper.make_node("MaxPool", [x], [out], kernel_shape=[3, 3],
                                           strides=[2, 2], pads=[1, 1, 1, 1]))
        return out

    def head(self, x: str, c_in: int, n_out: int) -> str:
        """Global average pool, flatten, fully connected."""
        from onnx import helper

        gap, flat = self._name("gap"), self._name("flat")
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [gap]))
        self.nodes.append(helper.make_node("Flatten", [gap], [flat], axis=1))
        return self.dense(flat, c_in, n_out, relu=False)

    def dense(self, x: str, n_in: int, n_out: int, *, relu: bool = True) -> str:
        from onnx import helper

        w = self.rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        out = self._name("fc")
        self.nodes.append(helper.make_node(
            "Gemm", [x, self._const(w, "W"), self._const(np.zeros(n_out), "B")], [out]))
        return self.relu(out) if relu else out

    def model(self, name: str, x: str, shape: Sequence[int | str], y: str,
              out_shape: Sequence[int | str], doc: str) -> Any:
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            self.nodes, name, [helper.make_tensor_value_info(x, TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, list(out_shape))], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="airan", doc_string=doc)
        m.ir_version = 8
        return m


def _tiny_cnn() -> Any:
    """A small image CNN: 3x96x96, three strided 3x3 convs (32-64-128), pool, 10 classes."""
    g = _Graph(seed=11)
    x = "input"
    h = g.conv(x, 3, 32, 3, 2)
    h = g.conv(h, 32, 64, 3, 2)
    h = g.conv(h, 64, 128, 3, 2)
    h = g.conv(h, 128, 128, 3, 1)
    y = g.head(h, 128, 10)
    return g.model("tiny-cnn", x, ["N", 3, 96, 96], y, ["N", 10],
                   "airan built-in tiny-cnn: random weights (same compute as trained)")


def _mlp() -> Any:
    """A multilayer perceptron: 1024 inputs, three hidden layers of 1024, 16 outputs."""
    g = _Graph(seed=12)
    x = "input"
    h = g.dense(x, 1024, 1024)
    h = g.dense(h, 1024, 1024)
    h = g.dense(h, 1024, 1024)
    y = g.dense(h, 1024, 16, relu=False)
    return g.model("mlp", x, ["N", 1024], y, ["N", 16],
                   "airan built-in mlp: random weights (same compute as trained)")


def _resnet(depth: int) -> Any:
    """ResNet-18/34 (basic blocks) or ResNet-50 v1.5 (bottlenecks, stride on the 3x3), 224x224,
    1000 classes: He et al. 2016, torchvision's layout."""
    blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3]}[depth]
    bottleneck = depth >= 50
    g = _Graph(seed=depth)
    x = "input"
    h = g.conv(x, 3, 64, 7, 2)
    h = g.maxpool(h)
    c_in = 64
    for stage, n in enumerate(blocks):
        width = 64 * 2**stage
        c_out = width * 4 if bottleneck else width
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            if bottleneck:
                b = g.conv(h, c_in, width, 1)
                b = g.conv(b, width, width, 3, stride)
                b = g.conv(b, width, c_out, 1, relu=False, gain=0.2)
            else:
                b = g.conv(h, c_in, width, 3, stride)
                b = g.conv(b, width, c_out, 3, relu=False, gain=0.2)
            short = h if (stride == 1 and c_in == c_out) else g.conv(
                h, c_in, c_out, 1, stride, relu=False)
            h = g.relu(g.add(b, short))
            c_in = c_out
    y = g.head(h, c_in, 1000)
    return g.model(f"resnet{depth}", x, ["N", 3, 224, 224], y, ["N", 1000],
                   f"airan built-in ResNet-{depth}: random weights (same compute as trained)")


#: Built-in models by name: a generator and a one-line description.
BUILTIN: dict[str, tuple[Callable[[], Any], str]] = {
    "tiny-cnn": (_tiny_cnn, "small CNN, 3x96x96 input, 4 convs (~0.1 GFLOP)"),
    "mlp": (_mlp, "MLP 1024-1024-1024-1024-16 (~6 MFLOP)"),
    "resnet18": (lambda: _resnet(18), "ResNet-18, 224x224 (3.6 GFLOP)"),
    "resnet34": (lambda: _resnet(34), "ResNet-34, 224x224 (7.3 GFLOP)"),
    "resnet50": (lambda: _resnet(50), "ResNet-50 v1.5, 224x224 (8.2 GFLOP)"),
}


def cache_dir() -> Path:
    """Where generated models live: ``$AIRAN_CACHE_DIR`` or the user's cache folder."""
    env = os.environ.get("AIRAN_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airan"


def model_path(spec: str) -> Path:
    """The ONNX file of ``spec``: a built-in name (generated on first use) or a file path."""
    if spec in BUILTIN:
        folder = cache_dir() / "onnx"
        path = folder / f"{spec}-v{GENERATOR_VERSION}.onnx"
        if not path.is_file():
            import onnx

            folder.mkdir(parents=True, exist_ok=True)
            model = BUILTIN[spec][0]()
            onnx.checker.check_model(model)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            onnx.save(model, str(tmp))
            os.replace(tmp, path)  # atomic: concurrent first uses never see half a file
        return path
    path = Path(spec)
    if path.suffix != ".onnx" or not path.is_file():
        raise InputError(
            f"no ONNX model {spec!r}: give a path to an .onnx file or a built-in name",
            field="--model", value=spec, choices=BUILTIN)
    return path


# ---- sessions -----------------------------------------------------------------------------------
def providers() -> list[str]:
    """ONNX Runtime providers to use: CUDA where this machine has it, then the CPU."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in have]


class Model:
    """One ONNX model loaded in ONNX Runtime; ``run`` is thread-safe (the GIL is released)."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts,
                                                providers=providers())
        except Exception as exc:  # onnxruntime raises its own types for a bad file
            raise InputError(f"ONNX Runtime cannot load the model: {exc}", file=str(path)) from None
        inp = self.session.get_inputs()[0]
        self.input_name: str = inp.name
        self.input_shape = [d if isinstance(d, int) and d > 0 else None for d in inp.shape]
        if any(d is None for d in self.input_shape[1:]):
            raise InputError(f"input {inp.name!r} needs a fixed shape beyond the batch, "
                             f"got {inp.shape}", file=str(path))
        if not inp.shape or self.input_shape[0] not in (None, 1):  # not even one request fits
            raise InputError(f"input {inp.name!r} needs a dynamic batch dimension first (the "
                             f"sites batch requests), got {inp.shape}: export it with one, e.g. "
                             f"dynamic_axes={{{inp.name!r}: {{0: 'batch'}}}} in "
                             "torch.onnx.export", file=str(path))
        self.item_shape: tuple[int, ...] = tuple(self.input_shape[1:])  # type: ignore[arg-type]
        self.provider: str = self.session.get_providers()[0]
        self.path = Path(path)

    def run(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        """Outputs of a batch (first output only), shape (batch, ...)."""
        return self.session.run(None, {self.input_name: batch})[0]  # type: ignore[no-any-return]

    def random_batch(self, n: int, seed: int = 0) -> NDArray[np.float32]:
        return np.random.default_rng(seed).random((n, *self.item_shape), dtype=np.float32)

    def decode(self, payload: bytes) -> NDArray[np.float32]:
        """One input item from a payload: a JPEG/PNG frame decoded and resized for image
        models (channels first, 3 or 1: [3, H, W], [1, H, W]; or last: [H, W, 3], [H, W, 1]),
        otherwise the bytes themselves, repeated or cut to fit, / 255 (a live integrator's
        review: NHWC and single-channel models were fed the JPEG's bytes as pixels)."""
        shape = self.item_shape
        layout = _image_layout(shape)
        if layout is not None and payload[:2] in (b"\xff\xd8", b"\x89P"):
            channels, height, width, first = layout
            try:
                from PIL import Image

                img = Image.open(io.BytesIO(payload)).convert("RGB" if channels == 3 else "L")
                arr = np.asarray(img.resize((width, height)), dtype=np.float32) / 255.0
                arr = arr.reshape(height, width, channels)
                return np.ascontiguousarray(arr.transpose(2, 0, 1) if first else arr)
            except Exception:  # noqa: BLE001 - not an image after all: fall back to raw bytes
                pass
        raw = np.frombuffer(payload, dtype=np.uint8) if payload else np.zeros(1, np.uint8)
        return (np.resize(raw, shape).astype(np.float32) / 255.0)


def _image_layout(shape: tuple[int, ...]) -> tuple[int, int, int, bool] | None:
    """(channels, height, width, channels first) of an image input's item shape: 3 or 1
    channels first or last (first where both read so: a [3, H, 3] is taken as NCHW); None
    for an input that is no image."""
    if len(shape) != 3:
        return None
    if shape[0] in (1, 3) and shape[1] > 4 and shape[2] > 4:
        return shape[0], shape[1], shape[2], True
    if shape[2] in (1, 3) and shape[0] > 4 and shape[1] > 4:
        return shape[2], shape[0], shape[1], False
    return None


# ---- payloads -----------------------------------------------------------------------------------
def jpeg_payload(size_bytes: int, seed: int = 0) -> bytes:
    """A real JPEG frame of exactly ``size_bytes`` (a noise image, padded with comment
    segments); plain random bytes when the size is below a small JPEG's."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    if size_bytes < 1200:
        return rng.integers(0, 256, size_bytes, dtype=np.uint8).tobytes()
    side, best = 16, b""
    while True:  # the largest square noise image whose JPEG fits
        img = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=75)
        data = buf.getvalue()
        if len(data) > size_bytes - 4:
            break
        best = data
        side = int(side * 1.25) + 1
    if not best:
        return rng.integers(0, 256, size_bytes, dtype=np.uint8).tobytes()
    pad = size_bytes - len(best)
    segs = []
    while pad > 0:  # COM segments (0xFFFE, 2-byte length incl. itself), each <= 65535 bytes
        take = min(pad, 65535 + 2)
        if take < 4:  # too short for a segment: grow the previous one
            take = 4
        body = take - 4
        segs.append(b"\xff\xfe" + (body + 2).to_bytes(2, "big") + b"\x00" * body)
        pad -= take
    out = best[:2] + b"".join(segs) + best[2:]
    return out[:size_bytes] if len(out) > size_bytes else out


# ---- profiling ----------------------------------------------------------------------------------
Z90 = 1.2815515655446004  # the standard normal's 90th percentile


def lognormal_fit(times_ms: NDArray[np.float64]) -> tuple[float, float]:
    """The (mean, cv) of the lognormal with the median and the 90th percentile of ``times_ms``.

    Quantiles rather than the sample's mean and standard deviation: among the few dozen runs of a
    profile, one stall of the host (a 50 ms pause of the virtual machine, say) moves the mean by
    a millisecond and turns the cv into a heavy tail that the model does not have. The 90th
    percentile rather than the 95th: with 20 runs the 95th still gives the largest run 5% weight,
    the 90th none. Where the median is not positive, the sample's mean and cv."""
    x = np.asarray(times_ms, dtype=float)
    p50, p90 = np.percentile(x, [50, 90])
    if not p50 > 0:
        mean = float(x.mean())
        return mean, float(x.std() / mean) if mean > 0 else 0.0
    sigma = max(float(np.log(p90 / p50)) / Z90, 0.0)
    return float(p50 * np.exp(sigma**2 / 2)), float(np.sqrt(np.expm1(sigma**2)))


def profile(spec: str, batches: Sequence[int] = (1, 2, 4, 8), *, threads: int = 1,
            min_time_s: float = 1.0, min_runs: int = 20, warmup: int = 5,
            payload_kb: float | None = None, gap_ms: float = 5.0) -> dict[str, Any]:
    """Latency of ``spec`` (built-in name or .onnx path) at each batch size on this machine.

    For each batch size ``warmup`` runs, then the batch sizes take turns, each run after
    ``gap_ms`` of sleep, until each has had at least ``min_runs`` runs and ``min_time_s`` times
    the number of sizes has passed (so that a slow spell of the host, whose speed drifts, weighs
    on each alike). The gap is how a site that is not
    saturated runs a batch: with its caches cold and the core clocked down after idling, which
    on the development machine triples a small MLP's time (0.20 ms back to back, 0.67 ms after
    7 ms of idling); ``gap_ms=0`` measures back to back (a saturated site). With ``payload_kb``,
    each run also decodes that many KB of JPEG per request, as a site server does (its compute
    time). Returns the calibration (times in ms): per batch mean, p50, p95, cv and the lognormal
    fitted to p50 and p90 (:func:`lognormal_fit`); the least squares line
    ``overhead_ms + per_item_ms * batch``; and ``service_time``, a scenario's
    ``services[].service_time`` (lognormal): the fitted mean per batch size (``batch_ms``) and
    the smallest batch's fitted cv.
    """
    if not batches or any(b < 1 for b in batches):
        raise InputError("batch sizes must be positive integers", field="batch", value=batches)
    if not gap_ms >= 0:
        raise InputError("the gap between runs must be >= 0 ms", field="gap_ms", value=gap_ms)
    path = model_path(spec)
    model = Model(path, threads=threads)
    frames = ([jpeg_payload(int(payload_kb * 1000), seed=k) for k in range(4)]
              if payload_kb else None)

    def once(b: int, x: NDArray[np.float32]) -> float:
        if gap_ms > 0:
            time.sleep(gap_ms / 1e3)
        t0 = time.perf_counter()
        if frames is not None:
            x = np.stack([model.decode(frames[i % 4]) for i in range(b)])
        model.run(x)
        return time.perf_counter() - t0

    sizes = sorted(set(batches))
    inputs = {b: model.random_batch(b) for b in sizes}
    for b in sizes:
        try:
            once(b, inputs[b])
        except Exception as exc:  # onnxruntime's own error types: the model fails at this batch
            raise InputError(f"the model fails on a batch of {b}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:300]}", file=str(path)) from None
        for _ in range(warmup - 1):
            once(b, inputs[b])
    times: dict[int, list[float]] = {b: [] for b in sizes}
    t_end = time.perf_counter() + min_time_s * len(sizes)
    while len(times[sizes[-1]]) < min_runs or time.perf_counter() < t_end:
        for b in sizes:
            times[b].append(once(b, inputs[b]))
    per: dict[int, dict[str, float]] = {}
    for b in sizes:
        arr = np.array(times[b]) * 1e3
        fit_mean, fit_cv = lognormal_fit(arr)
        per[b] = {"mean_ms": float(arr.mean()), "p50_ms": float(np.percentile(arr, 50)),
                  "p95_ms": float(np.percentile(arr, 95)),
                  "cv": float(arr.std() / arr.mean()) if arr.mean() > 0 else 0.0,
                  "fit_mean_ms": fit_mean, "fit_cv": fit_cv, "runs": len(arr)}
    bs = np.array(sizes, dtype=float)
    means = np.array([per[b]["fit_mean_ms"] for b in sizes])
    if len(bs) > 1:
        slope, intercept = np.polyfit(bs, means, 1)
    else:
        slope, intercept = means[0], 0.0
    import onnxruntime as ort

    st = service_time_of({"batches": per})
    return {
        "model": spec,
        "file": str(path.resolve()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "runtime": {"onnxruntime": ort.__version__, "provider": model.provider,
                    "intra_op_threads": threads},
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(),
                 "processor": platform.processor() or platform.machine(),
                 "python": platform.python_version()},
        "input": {"name": model.input_name, "shape": ["N", *model.item_shape]},
        "payload_kb": payload_kb,
        "gap_ms": gap_ms,
        "batches": {int(b): v for b, v in per.items()},
        "fit": {"overhead_ms": float(max(intercept, 0.0)), "per_item_ms": float(slope)},
        "service_time": {"dist": "lognormal",
                         "batch_ms": {b: round(v, 4) for b, v in st["batch_ms"].items()},
                         "cv": round(st["cv"], 4)},
        "note": ("service_time: per measured batch size the mean of the lognormal fitted to "
                 "p50 and p90 (the twin interpolates between them), and the smallest batch's cv"),
    }


def write_calibration(calibration: dict[str, Any], path: str | Path) -> Path:
    """Write a calibration (from :func:`profile`) as YAML."""
    import yaml

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(calibration, sort_keys=False), encoding="utf-8")
    return out


def read_calibration(path: str | Path) -> dict[str, Any]:
    """A calibration file written by :func:`write_calibration` (``airan profile``)."""
    import yaml

    from airan.yaml_files import load_yaml

    p = Path(path)
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the calibration: {exc}", file=str(p)) from None
    if not isinstance(data, dict) or "service_time" not in data or "batches" not in data:
        raise InputError("not a calibration file (written by `airan profile`)", file=str(p))
    return data


def service_time_of(calibration: dict[str, Any], batch: int | None = None) -> dict[str, Any]:
    """A scenario's ``service_time`` (lognormal, ms): per measured batch size the mean of the
    lognormal fitted to p50 and p90 (``batch_ms``) and the smallest batch's cv; with ``batch``,
    that one size's for every batch size. Calibrations written before the fit was recorded give
    the sample's mean and cv."""
    per = {int(k): v for k, v in calibration["batches"].items()}

    def mean_cv(v: dict[str, float]) -> tuple[float, float]:
        mean = float(v.get("fit_mean_ms", v["mean_ms"]))
        return mean, max(float(v.get("fit_cv", v["cv"])), 1e-3)

    if batch is None:
        return {"dist": "lognormal", "cv": mean_cv(per[min(per)])[1],
                "batch_ms": {b: mean_cv(v)[0] for b, v in sorted(per.items())}}
    if batch not in per:
        raise InputError(f"the calibration has no batch {batch}", field="batch", value=batch,
                         choices=[str(b) for b in per])
    mean, cv = mean_cv(per[batch])
    return {"dist": "lognormal", "mean_ms": mean, "cv": cv}
