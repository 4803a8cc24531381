"""The built-in policies: local, cloud, nearest-edge, least-loaded, deadline-aware."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airan.errors import InputError
from airan.policy import register
from airan.policy.base import LOCAL, REJECT, Batch, Snapshot, estimate_latency_s, per_item_time_s

I64 = NDArray[np.int64]


def _sites(snap: Snapshot, kinds: tuple[str, ...] | None) -> NDArray[np.bool_]:
    w = snap.world
    mask = np.asarray(snap.site_healthy, dtype=bool).copy()
    if kinds is not None:
        mask &= np.isin(np.asarray(w.site_kind), kinds)  # type: ignore[attr-defined]
    return mask


def _nearest(snap: Snapshot, batch: Batch, mask: NDArray[np.bool_], what: str) -> I64:
    w = snap.world
    if not mask.any():
        raise InputError(f"this policy needs at least one healthy {what} compute site",
                         field="policy")
    node = w.cell_node[batch.cell]  # type: ignore[attr-defined]
    delay = np.where(mask[None, :], w.path_delay_s[node], np.inf)  # type: ignore[attr-defined]
    return np.argmin(delay, axis=1).astype(np.int64)


@register("local")
def local(snap: Snapshot, batch: Batch) -> I64:
    """Every request runs on the device's own accelerator (or CPU)."""
    return np.full(len(batch), LOCAL, dtype=np.int64)


@register("cloud")
def cloud(snap: Snapshot, batch: Batch) -> I64:
    """Every request goes to the nearest cloud site."""
    return _nearest(snap, batch, _sites(snap, ("cloud",)), "cloud")


@register("nearest-edge")
def nearest_edge(snap: Snapshot, batch: Batch) -> I64:
    """The compute site closest to the serving cell over the transport (not the cloud)."""
    mask = _sites(snap, ("cell", "edge"))
    if not mask.any():
        mask = _sites(snap, None)
    return _nearest(snap, batch, mask, "edge")


def _water_fill(base: NDArray[np.float64], step: NDArray[np.float64], n: int) -> I64:
    """Greedy assignment of ``n`` equal jobs to servers with backlog ``base`` growing by ``step``.

    Equivalent to assigning one job at a time to the least-loaded server, without the loop: the
    n smallest values of the sequences base_s + j*step_s are the greedy choices.
    """
    j = np.arange(n)
    vals = base[:, None] + j[None, :] * step[:, None]
    flat = np.argpartition(vals.ravel(), n - 1)[:n] if n < vals.size else np.arange(vals.size)
    order = flat[np.argsort(vals.ravel()[flat], kind="stable")]
    return (order // n).astype(np.int64)


@register("least-loaded")
def least_loaded(snap: Snapshot, batch: Batch) -> I64:
    """The site with the smallest backlog, counting this batch's own assignments (greedy)."""
    n = len(batch)
    mask = _sites(snap, None)
    if not mask.any():
        raise InputError("least-loaded needs at least one healthy compute site", field="policy")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    base = np.where(mask, snap.site_backlog_s, np.inf)
    step = per_item_time_s(snap, batch.service).mean(axis=0)
    return _water_fill(base, step, n)


@register("deadline-aware")
def deadline_aware(snap: Snapshot, batch: Batch, *, strict: bool = False) -> I64:
    """The candidate (any site or the device) with the earliest estimated completion.

    The batch's own load is accounted for in a second pass. With ``admission: strict`` a request
    that no candidate can serve within its deadline is rejected (reason ``admission``).
    """
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = snap.world
    est = estimate_latency_s(snap, batch)
    n_sites = est.shape[1] - 1
    choice = np.argmin(est, axis=1)
    if n_sites:
        # second pass: requests earlier in the batch that chose the same site queue ahead
        onehot = np.zeros((n, n_sites + 1))
        onehot[np.arange(n), choice] = 1.0
        ahead = np.cumsum(onehot, axis=0) - onehot
        step = np.c_[per_item_time_s(snap, batch.service), np.zeros(n)]
        local_col = w.local_time_s[w.dev_fleet[batch.device], batch.service]  # type: ignore[attr-defined]
        step[:, n_sites] = np.where(np.isfinite(local_col), local_col, 0.0)
        # local queues are per device; only requests of the same device queue ahead there
        ahead[:, n_sites] = 0.0
        est = est + ahead * step
        choice = np.argmin(est, axis=1)
    best = est[np.arange(n), choice]
    out = np.where(choice == n_sites, LOCAL, choice).astype(np.int64)
    if strict:
        deadline = w.svc_deadline_s[batch.service]  # type: ignore[attr-defined]
        out[best > deadline] = REJECT
    out[~np.isfinite(best)] = REJECT
    return out
