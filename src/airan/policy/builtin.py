"""The built-in policies: local, cloud, nearest-edge, least-loaded, deadline-aware."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airan.errors import InputError
from airan.policy import Policy, register
from airan.policy.base import (
    LOCAL,
    REJECT,
    Batch,
    Snapshot,
    candidate_sites,
    estimate_latency_s,
    per_item_time_s,
)

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
        raise InputError(
            f"this policy needs at least one healthy {what} compute site", field="policy"
        )
    node = w.cell_node[batch.cell]  # type: ignore[attr-defined]
    # nearest on the map, then by transport delay (sites without a position, like a cloud)
    key = w.node_site_distance_m[node] + 1e-3 * w.path_delay_s[node]  # type: ignore[attr-defined]
    key = np.where(np.isfinite(key), key, 1e12 + w.path_delay_s[node])  # type: ignore[attr-defined]
    key = np.where(mask[None, :] & np.isfinite(w.path_delay_s[node]), key, np.inf)  # type: ignore[attr-defined]
    return np.argmin(key, axis=1).astype(np.int64)


def snapshot_free(fn: Policy) -> Policy:
    """Mark a policy whose decisions never read the snapshot's load figures.

    The engine may then decide a longer stretch of arrivals in one call (the result is the same).
    """
    fn.snapshot_free = True  # type: ignore[attr-defined]
    return fn


@register("local")
@snapshot_free
def local(snap: Snapshot, batch: Batch) -> I64:
    """Every request runs on the device's own accelerator (or CPU)."""
    return np.full(len(batch), LOCAL, dtype=np.int64)


@register("cloud")
@snapshot_free
def cloud(snap: Snapshot, batch: Batch) -> I64:
    """Every request goes to the nearest cloud site."""
    return _nearest(snap, batch, _sites(snap, ("cloud",)), "cloud")


@register("nearest-edge")
@snapshot_free
def nearest_edge(snap: Snapshot, batch: Batch) -> I64:
    """The compute site closest to the serving cell (on the map; not the cloud)."""
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
    all_sites = np.arange(len(mask))
    step = per_item_time_s(snap, batch.service[:1], all_sites)
    return _water_fill(base, step, n)


@register("deadline-aware")
def deadline_aware(snap: Snapshot, batch: Batch, *, strict: bool = False) -> I64:
    """The candidate (a nearby or regional site, the cloud, or the device) with the earliest
    estimated completion.

    Requests of the batch that pick the same site queue behind each other: a second pass adds
    that wait and lets the later ones move. With ``admission: strict`` a request that no
    candidate can serve within its deadline is rejected (reason ``admission``).
    """
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = snap.world
    sites = candidate_sites(snap, batch)
    k = sites.shape[1]
    est = estimate_latency_s(snap, batch, sites)
    col = np.argmin(est, axis=1)
    rows = np.arange(n)
    if k:
        chosen = np.where(col < k, sites[rows, np.minimum(col, k - 1)], -1)
        rank = _rank_within_group(chosen)
        step = per_item_time_s(snap, batch.service, sites)
        remote = col < k
        est[rows[remote], col[remote]] += rank[remote] * step[rows[remote], col[remote]]
        col = np.argmin(est, axis=1)
    best = est[rows, col]
    out = np.where(col == k, LOCAL, sites[rows, np.minimum(col, max(k - 1, 0))] if k else LOCAL)
    out = np.asarray(out, dtype=np.int64)
    if strict:
        deadline = w.svc_deadline_s[batch.service]  # type: ignore[attr-defined]
        out[best > deadline] = REJECT
    out[~np.isfinite(best)] = REJECT
    return out


def _rank_within_group(keys: I64) -> NDArray[np.float64]:
    """For each element, how many earlier elements share its key (0 for the first)."""
    n = len(keys)
    order = np.lexsort((np.arange(n), keys))
    sk = keys[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    lengths = np.diff(np.r_[starts, n])
    ranks = np.arange(n) - np.repeat(starts, lengths)
    out = np.empty(n)
    out[order] = ranks
    return out
