"""What a policy sees: the snapshot of the engine, the batch of new requests, latency estimates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

LOCAL = -1
REJECT = -2


class Snapshot:
    """The engine at the start of a decision interval, as a policy sees it (SI units).

    Cheap to take: per-site figures are computed on first use, per-device figures only for the
    devices asked about, so a policy pays for what it reads.

    - ``site_backlog_s``: expected wait before a new request would start on a GPU of each site.
    - ``ul_rate_bps(devices)`` / ``dl_rate_bps(devices)``: each device's share of its cell now.
    - ``device_backlog_s(devices)``: work queued on each device's own accelerator.
    """

    def __init__(self, engine: object) -> None:
        self._engine = engine
        self.world = engine.world  # type: ignore[attr-defined]
        self.time_s: float = engine.now_s  # type: ignore[attr-defined]
        self.ul_access_delay_s: float = engine._ul_access_delay_s  # type: ignore[attr-defined]

    @cached_property
    def site_backlog_s(self) -> NDArray[np.float64]:
        return self._engine._site_backlog_s()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_queue_len(self) -> NDArray[np.int64]:
        return self._engine._st.site_qlen.copy()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_healthy(self) -> NDArray[np.bool_]:
        return np.ones(len(self.world.site_names), dtype=bool)  # type: ignore[attr-defined]

    def ul_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._rate_bps(devices, uplink=True)  # type: ignore[attr-defined,no-any-return]

    def dl_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._rate_bps(devices, uplink=False)  # type: ignore[attr-defined,no-any-return]

    def device_backlog_s(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        free = self._engine._st.dev_free[devices]  # type: ignore[attr-defined]
        return np.maximum(free - self.time_s, 0.0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Batch:
    """The new requests of one decision interval, in time order."""

    time_s: NDArray[np.float64]
    device: NDArray[np.int64]
    service: NDArray[np.int64]
    cell: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.time_s)


def estimate_latency_s(snap: Snapshot, batch: Batch) -> NDArray[np.float64]:
    """Estimated end-to-end latency of each request at each site and locally.

    Returns shape (n_requests, n_sites + 1); the last column is the device itself. Unhealthy sites
    are ``inf``. The estimate adds: the grant wait and the uplink time at the device's current
    rate, propagation and serialization to the site, the site's backlog, the batch-1 service time,
    the way back and the downlink.
    """
    w = snap.world
    n_sites = len(w.site_names)  # type: ignore[attr-defined]
    out = np.empty((len(batch), n_sites + 1))
    v = batch.service
    d = batch.device
    ul_bits = w.svc_ul_bits[v]  # type: ignore[attr-defined]
    dl_bits = w.svc_dl_bits[v]  # type: ignore[attr-defined]
    if n_sites:
        node = w.cell_node[batch.cell]  # type: ignore[attr-defined]
        air = (snap.ul_access_delay_s + ul_bits / np.maximum(snap.ul_rate_bps(d), 1.0)
               + dl_bits / np.maximum(snap.dl_rate_bps(d), 1.0))
        prop = 2.0 * w.path_delay_s[node]  # type: ignore[attr-defined]
        ser = (ul_bits + dl_bits)[:, None] / w.path_bottleneck_bps[node]  # type: ignore[attr-defined]
        first_gpu_type = w.gpu_type[w.site_gpu_start]  # type: ignore[attr-defined]
        model = w.svc_model[v]  # type: ignore[attr-defined]
        compute = w.svc_time_s[model[:, None], first_gpu_type[None, :], 1]  # type: ignore[attr-defined]
        out[:, :n_sites] = air[:, None] + prop + ser + snap.site_backlog_s[None, :] + compute
        out[:, :n_sites][:, ~snap.site_healthy] = np.inf
    fleet = w.dev_fleet[d]  # type: ignore[attr-defined]
    out[:, n_sites] = snap.device_backlog_s(d) + w.local_time_s[fleet, v]  # type: ignore[attr-defined]
    return out


def per_item_time_s(snap: Snapshot, service: NDArray[np.int64]) -> NDArray[np.float64]:
    """GPU time one more request adds at each site (batched, spread over the site's GPUs).

    Shape (n_requests, n_sites).
    """
    w = snap.world
    first_gpu_type = w.gpu_type[w.site_gpu_start]  # type: ignore[attr-defined]
    b = w.site_max_batch  # type: ignore[attr-defined]
    model = w.svc_model[service]  # type: ignore[attr-defined]
    t_b = w.svc_time_s[model[:, None], first_gpu_type[None, :], b[None, :]]  # type: ignore[attr-defined]
    return t_b / b[None, :] / w.site_n_gpus[None, :]  # type: ignore[attr-defined]
