"""GPU memory: what a model keeps resident on an accelerator (pure functions, bytes).

A model on a GPU holds its weights and, while a batch runs, the batch's working set. Triton's
TensorRT backend builds one engine per model and GPU and gives each instance of the model
(``instance_group``) an execution context of its own, so a GPU holds a model's weights once
and a full batch's working set per instance. The working set of one request is taken as the
larger of the activation bytes it writes and, for an autoregressive model, the KV cache it
holds at its last decode step: the cache at the mean context (``decode_activation_bytes``)
and the second half of the steps' tokens (``kv_bytes_per_token``; at the mean context, the
catalog's 7B LLM at 160 tokens was taken 10% short and a GPU 7% over full passed).
Simplifications: the peak of live activations is at most
the bytes written, so for a CNN this is an upper bound; the L1's own memory in
``ai_ran.mode`` dynamic and the framework's workspace are not counted.
"""

from __future__ import annotations

from airan.catalog import BYTES_PER_VALUE, GpuSpec, ModelSpec


def model_memory_bytes(model: ModelSpec, gpu: GpuSpec, max_batch: int, instances: int) -> float:
    """Bytes ``model`` needs on one ``gpu`` that runs ``instances`` instances of it, each up to
    ``max_batch`` requests at once: the weights once, plus a full batch's working set per
    instance, at the precision the model runs at there (a wider one where the GPU lacks its
    own: the bytes scale with it). A model given only by a service time, without weight or
    activation bytes, needs none that airan knows of."""
    if max_batch < 1 or instances < 1:
        raise ValueError(f"max_batch and instances must be >= 1, got {max_batch}, {instances}")
    last_step_kv = (model.decode_activation_bytes
                    + model.kv_bytes_per_token * model.decode_tokens / 2)
    per_request = max(model.activation_bytes, last_step_kv)
    if model.weight_bytes == 0.0 and per_request == 0.0:
        return 0.0
    used = gpu.resolve_precision(model.precision_for(gpu))
    scale = BYTES_PER_VALUE[used] / BYTES_PER_VALUE[model.precision]
    return (model.weight_bytes + instances * max_batch * per_request) * scale
