"""The built-in policies: local, cloud, nearest-edge, least-loaded, deadline-aware."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)
from airan.errors import InputError, unknown_name
from airan.policy import P, Policy, register
from airan.policy.base import (
    DRX_CYCLE,
    DRX_INACTIVITY,
    DRX_OFFSET,
    DRX_ON,
    DRX_SHORT,
    DRX_SHORT_SPAN,
    LOCAL,
    NO_SITE,
    REJECT,
    Batch,
    Snapshot,
    _mean_batch_wait,
    air_rates_bps,
    batch_wait_s,
    candidate_sites,
    device_energy_j,
    drx_rows_s,
    latency_parts_s,
    nr_slot_s,
    per_item_time_s,
    radio_tx_w,
    resend_factor,
    ul_delay_s,
    upload_air_s,
    world_of,
)
from airan.radio.drx import answer_wait_one_s
from airan.transport.pipeline import after_upload_s

I64 = NDArray[np.int64]

#: The kinds of compute site each built-in policy needs (None: a site of any kind): without one
#: it fails at its first decision, so validation checks for it first
#: (:func:`airan.scenario.load.check_policy_sites`).
NEEDS_SITES: dict[str, tuple[str, ...] | None] = {
    "cloud": ("cloud",),
    "nearest-edge": None,  # the nearest cell or edge site, or any site where there is none
    "least-loaded": None,
}


def _sites(
    snap: Snapshot, kinds: tuple[str, ...] | None, *, healthy_only: bool = True
) -> NDArray[np.bool_]:
    """Healthy sites (all with ``healthy_only=False``), of the given kinds (all with None)."""
    mask = np.asarray(snap.site_healthy, dtype=bool)
    if not healthy_only:
        mask = np.ones_like(mask)
    if kinds is None:
        return mask
    cache = world_of(snap).extras.setdefault("site_kind_mask", {})  # type: ignore[attr-defined]
    of_kind = cache.get(kinds)
    if of_kind is None:
        of_kind = cache[kinds] = np.isin(np.asarray(world_of(snap).site_kind), kinds)  # type: ignore[attr-defined]
    return mask & of_kind  # type: ignore[no-any-return]


def _nearest_by_node(w: object, mask: NDArray[np.bool_]) -> I64:
    """For every transport node, the allowed site nearest on the map, then by transport delay
    (sites without a position, like a cloud, rank after every positioned one); -1 where none
    is reachable. Cached on the world per mask (faults that re-route clear the cache)."""
    cache = w.extras.setdefault("nearest_site_by_node", {})  # type: ignore[attr-defined]
    key = mask.tobytes()
    table = cache.get(key)
    if table is None:
        delay = w.path_delay_s  # type: ignore[attr-defined]
        dist = w.node_site_distance_m + 1e-3 * delay  # type: ignore[attr-defined]
        dist = np.where(np.isfinite(dist), dist, 1e12 + delay)
        dist = np.where(mask[None, :] & np.isfinite(delay), dist, np.inf)
        table = np.where(np.isfinite(dist).any(axis=1), np.argmin(dist, axis=1), -1)
        table = table.astype(np.int64)
        cache[key] = table
    return table  # type: ignore[no-any-return]


def home_sites(w: Any) -> I64:
    """Each transport node's home site: where ``nearest-edge`` sends its requests with every
    site up (the nearest cell or edge site; of any kind where there is none); -1: none."""
    if not len(w.site_names):
        return np.full(len(w.node_names), -1, dtype=np.int64)
    mask = np.isin(np.asarray(w.site_kind), ("cell", "edge"))
    if not mask.any():
        mask = np.ones(len(w.site_names), dtype=bool)
    return _nearest_by_node(w, mask)


def _nearest(snap: Snapshot, batch: Batch, kinds: tuple[str, ...] | None, what: str) -> I64:
    """The nearest healthy site of ``kinds``; REJECT while every one of them is down. Where
    sites serve only some services (their ``services``): for each service, the nearest of
    those kinds that serves it (NO_SITE while each of them is down), or, where no site of those
    kinds serves it, the nearest site that does."""
    w = world_of(snap)
    mask = _sites(snap, kinds)
    of_kinds = _sites(snap, kinds, healthy_only=False)
    if not of_kinds.any():
        raise InputError(f"this policy needs at least one {what} compute site", field="policy")
    node = w.cell_node[batch.cell]  # type: ignore[attr-defined]
    ok = w.svc_site_ok  # type: ignore[attr-defined]
    if ok.all():
        if not mask.any():
            return np.full(len(batch), REJECT, dtype=np.int64)  # every such site is down now
        site = _nearest_by_node(w, mask)[node]
        # a node that reaches no allowed site: the first allowed one (the engine: no_route)
        return np.where(site >= 0, site, int(np.argmax(mask)))
    out = np.empty(len(batch), dtype=np.int64)
    for v in np.unique(batch.service):
        mine = batch.service == v
        # (none of these kinds serves it, up or down: the nearest site that does)
        serving = (mask if (of_kinds & ok[v]).any() else _sites(snap, None)) & ok[v]
        if not serving.any():
            out[mine] = NO_SITE  # (every site that serves it is down)
            continue
        site = _nearest_by_node(w, serving)[node[mine]]
        out[mine] = np.where(site >= 0, site, int(np.argmax(serving)))
    return out


def snapshot_free(fn: P) -> P:
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
    return _nearest(snap, batch, NEEDS_SITES["cloud"], "cloud")


#: ``site:NAME``: every request to one compute site (:func:`fixed_site`)
SITE_PREFIX = "site:"


def fixed_site(name: str) -> Policy:
    """The policy ``site:NAME``: every request to compute site ``name``, wherever its device
    is (a fixed-placement baseline: "all at the regional edge", as the placement environment's
    ``site:NAME`` action; a rural co-op's review had to delete its cell sites' GPUs to ask).
    While the site is down its requests are dropped (``site_failure``); a request whose cell
    does not reach it, dropped ``no_route`` by the engine; a service it does not serve
    (``compute_sites[].services``) goes to the nearest site that does, as ``cloud`` sends it."""

    @snapshot_free
    def place(snap: Snapshot, batch: Batch) -> I64:
        w = world_of(snap)
        names = list(w.site_names)  # type: ignore[attr-defined]
        if name not in names:
            raise unknown_name("compute site", name, names, field="policy")
        s = names.index(name)
        up = bool(np.asarray(snap.site_healthy, dtype=bool)[s])
        out = np.full(len(batch), s if up else NO_SITE, dtype=np.int64)
        elsewhere = ~w.svc_site_ok[batch.service, s]  # type: ignore[attr-defined]
        if elsewhere.any():
            out[elsewhere] = _nearest(snap, batch, None, "compute")[elsewhere]
        return out

    place.__name__ = place.__qualname__ = f"site:{name}"
    return place


@register("nearest-edge")
@snapshot_free
def nearest_edge(snap: Snapshot, batch: Batch) -> I64:
    """The compute site closest to the serving cell (on the map; not the cloud)."""
    kinds: tuple[str, ...] | None = ("cell", "edge")
    if not _sites(snap, kinds, healthy_only=False).any():
        kinds = None  # no edge at all: the nearest site of any kind
    return _nearest(snap, batch, kinds, "edge")


@njit(cache=True)
def _least_loaded_core(node, svc, backlog, step, path_delay, serves):  # pragma: no cover
    """Each request in turn to the site with the least backlog among those its node reaches
    (a finite ``path_delay``; ties: the lower index) that serve its service (``serves``
    [services, sites]); that site's backlog then grows by the request's own GPU time
    ``step[service, site]``. -1 where the node reaches no such site."""
    n = node.shape[0]
    load = backlog.copy()
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        best = -1
        for s in range(load.shape[0]):
            if (load[s] < np.inf and path_delay[node[i], s] < np.inf and serves[svc[i], s]
                    and (best < 0 or load[s] < load[best])):
                best = s
        out[i] = best
        if best >= 0:
            load[best] += step[svc[i], best]
    return out


@register("least-loaded")
def least_loaded(snap: Snapshot, batch: Batch) -> I64:
    """The site with the smallest backlog among those up and reachable from the request's
    cell, counting this batch's earlier assignments, each at its own service's GPU time
    (greedy, in the order of the requests)."""
    n = len(batch)
    mask = _sites(snap, None)
    if not mask.size:
        raise InputError("least-loaded needs at least one compute site", field="policy")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not mask.any():
        return np.full(n, REJECT, dtype=np.int64)  # every site is down now
    w = world_of(snap)
    base = np.where(mask, snap.site_backlog_s, np.inf)
    n_svc, n_sites = len(w.svc_model), len(mask)  # type: ignore[attr-defined]
    # the GPU time one more request of each service adds at each site, [services, sites]
    step = per_item_time_s(snap, np.arange(n_svc),
                           np.broadcast_to(np.arange(n_sites), (n_svc, n_sites)))
    ok = w.svc_site_ok  # type: ignore[attr-defined]
    out = _least_loaded_core(np.ascontiguousarray(w.cell_node[batch.cell], dtype=np.int64),  # type: ignore[attr-defined]
                             np.ascontiguousarray(batch.service, dtype=np.int64),
                             base, np.ascontiguousarray(step), w.path_delay_s, ok)  # type: ignore[attr-defined]
    # a cell that reaches no site up: the first site up that serves the service (the engine
    # drops it: no_route); none up that does: NO_SITE
    serving = mask[None, :] & ok
    first = np.where(serving.any(axis=1), np.argmax(serving, axis=1), NO_SITE)
    return np.where(out >= 0, out, first[batch.service])  # type: ignore[no-any-return]


@register("deadline-aware")
def deadline_aware(
    snap: Snapshot, batch: Batch, *, strict: bool = False, energy: bool = False
) -> I64:
    """The candidate (a nearby or regional site, the cloud, or the device) with the earliest
    estimated completion.

    The batch's requests decide in turn, each behind the earlier ones' work at the sites they
    went to (a full batch's GPU time per request, as least-loaded counts it): a second pass
    that counted only the first choices sent a decision's 16 requests to one runner-up, 5.3 ms
    of queueing where four one-GPU sites queue as one M/D/4, 0.39 ms (a researcher's
    review; ``tests/test_validation_queueing.py``). With
    ``admission: strict`` a request that no candidate can serve within its deadline is
    rejected (reason ``admission``), the batcher's wait where it would open a batch cut to the
    time the batch's other requests that may go there take to fill it at their rate. With
    ``objective: energy`` (``energy=True``), among the candidates estimated to meet the
    deadline the one that spends the least device energy wins (ties: the earliest); if none
    meets it, the earliest. Where services' ``compute_priority`` differ, a request's estimate
    at a site leaves out the lower priorities' work (``site_service_backlog_s``) and, but for
    the lowest priority and under ``objective: energy``, it goes, among the candidates that
    meet its deadline, to the one whose estimate counting every priority's work is least, so
    that it does not crowd a busy site its lower priorities need.

    The same decisions as :func:`deadline_aware_reference` (numpy, readable), computed in one
    compiled pass: this policy runs every decision interval, where numpy's per-call overhead
    on a few dozen requests would dominate.
    """
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = world_of(snap)
    d = batch.device
    cand_delay, cand_rate, cand_links = _candidate_paths(w)
    air = air_rates_bps(snap, d) if energy else (np.zeros(0), np.zeros(0))
    return _deadline_aware_core(  # type: ignore[no-any-return,call-arg]
        w.node_candidates,  # type: ignore[attr-defined]
        cand_delay,
        cand_rate,
        cand_links,
        w.cell_node[batch.cell],  # type: ignore[attr-defined]
        batch.service,
        w.dev_fleet[d],  # type: ignore[attr-defined]
        air[0] if energy else np.zeros(0),
        snap.ul_time_s(d, w.svc_ul_bits[batch.service], batch.service),  # type: ignore[attr-defined]
        ul_delay_s(snap, d, w.svc_ul_bits[batch.service], batch.service),  # type: ignore[attr-defined]
        snap.dl_rate_bps(d),
        air[1] if energy else np.zeros(0),
        snap.device_backlog_s(d, batch.service),
        float(snap.ul_access_delay_s),
        float(snap.dl_access_delay_s),
        float(snap.ul_slot_spacing_s),
        float(snap.dl_slot_spacing_s),
        snap.context_site(d, batch.service),
        w.svc_state_bits,  # type: ignore[attr-defined]
        w.site_node,  # type: ignore[attr-defined]
        w.path_links,  # type: ignore[attr-defined]
        np.asarray(snap.link_backlog_s, dtype=np.float64),
        float(w.transport_queue_limit_s),  # type: ignore[attr-defined]
        np.asarray(snap.site_service_backlog_s, dtype=np.float64),
        np.asarray(snap.site_model_rate_per_s, dtype=np.float64),
        np.asarray(snap.site_model_home_rate_per_s, dtype=np.float64),
        w.site_max_wait_s,  # type: ignore[attr-defined]
        np.asarray(snap.site_healthy, dtype=np.bool_),
        w.svc_site_ok,  # type: ignore[attr-defined]
        np.asarray(snap.site_ai_share, dtype=np.float64),
        w.svc_ul_bits,  # type: ignore[attr-defined]
        w.svc_dl_bits,  # type: ignore[attr-defined]
        w.svc_model,  # type: ignore[attr-defined]
        w.svc_deadline_s,  # type: ignore[attr-defined]
        w.path_delay_s,  # type: ignore[attr-defined]
        w.path_rate_bps,  # type: ignore[attr-defined]
        w.gpu_type,  # type: ignore[attr-defined]
        w.site_gpu_start,  # type: ignore[attr-defined]
        w.site_max_batch,  # type: ignore[attr-defined]
        w.site_n_gpus,  # type: ignore[attr-defined]
        w.svc_time_s,  # type: ignore[attr-defined]
        w.local_time_s,  # type: ignore[attr-defined]
        strict,
        energy,
        radio_tx_w(snap, d) if energy else np.zeros(0),
        nr_slot_s(w),
        float(w.ue_tx_circuit_w),  # type: ignore[attr-defined]
        float(w.ue_rx_w),  # type: ignore[attr-defined]
        resend_factor(w) - 1.0,  # (a transfer's last block's mean HARQ resends)
        w.local_active_w,  # type: ignore[attr-defined]
        0.0,
        float(getattr(snap, "decision_interval_s", 0.0)),
        drx_rows_s(snap, d),
        float(getattr(snap, "time_s", 0.0)),
        upload_air_s(snap, d, w.svc_ul_bits[batch.service], batch.service),  # type: ignore[attr-defined]
        float(w.packet_bits),  # type: ignore[attr-defined]
        *priority_levels(w.svc_compute_priority),  # type: ignore[attr-defined]
        np.asarray(snap.site_model_backlog_s, dtype=np.float64),
    )


@njit(cache=True)
def _air_leg(access, fluid, spacing):  # pragma: no cover - compiled
    """:func:`airan.policy.base.air_leg_s` for one request (the same operations)."""
    if spacing <= 0.0:
        return access + fluid
    more = max(np.ceil(fluid / spacing - 1e-9) - 1.0, 0.0)
    return access + more * spacing


def _candidate_paths(w: Any) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                      NDArray[np.int32]]:
    """Each node's transport delay and serialization rate (``path_rate_bps``) to each of its
    candidate sites,
    [nodes, k], and its path's links, [nodes, k, hops]: the policy's reads from the
    [nodes, sites] tables, contiguous (cached in ``World.extras`` until a link fault reroutes;
    the links read from metro's 120 MB node-by-site table cost a cache miss per candidate)."""
    cached = w.extras.get("candidate_paths")
    if cached is None:
        rows = np.arange(len(w.node_candidates))[:, None]
        cached = (np.ascontiguousarray(w.path_delay_s[rows, w.node_candidates]),
                  np.ascontiguousarray(w.path_rate_bps[rows, w.node_candidates]),
                  np.ascontiguousarray(w.path_links[rows, w.node_candidates]))
        w.extras["candidate_paths"] = cached
    return cached  # type: ignore[no-any-return]


@njit(cache=True)
def _longest_backlog(links, a, b, link_backlog, link_t0):  # pragma: no cover - compiled
    """The longest backlog (s) among the links of path ``links[a, b]`` (a [from, to, hops]
    table, -1 padded, read in place: a view per candidate costs its reference counting):
    ``link_backlog`` less ``link_t0``, at least 0."""
    longest = 0.0
    for h in range(links.shape[2]):
        lk = links[a, b, h]
        if lk < 0:
            break
        longest = max(longest, max(link_backlog[lk] - link_t0, 0.0))
    return longest


@njit(cache=True)
def _whole_slots(on_air_s, slot_s):
    """policy.base.whole_slots for one transfer."""
    if on_air_s <= 0.0:
        return 0.0
    return max(np.ceil(on_air_s / slot_s - 1e-9), 1.0)


@njit(cache=True)
def priority_levels(prio):  # pragma: no cover - compiled
    """Each service's level among the distinct ``compute_priority`` values (``prio`` [V], 1..16;
    level 0 the highest), and how many levels there are (1 where every service has one)."""
    present = np.zeros(18, dtype=np.int64)
    for v in range(prio.shape[0]):
        present[prio[v]] = 1
    below = np.zeros(18, dtype=np.int64)  # distinct values smaller than each
    for x in range(1, 18):
        below[x] = below[x - 1] + present[x - 1]
    level = np.empty(prio.shape[0], dtype=np.int64)
    for v in range(prio.shape[0]):
        level[v] = below[prio[v]]
    return level, max(below[17], 1)


@njit(cache=True)
def _deadline_aware_core(cand, cand_delay, cand_rate, cand_links, node, svc, fleet, ul_rate,
                         ul_time, ul_round, dl_rate, dl_air_rate, dev_backlog, ul_access, dl_access,
                         ul_spacing, dl_spacing, held, state_bits, site_node, path_links,
                         link_backlog, queue_limit, site_backlog, site_rate, home_rate,
                         max_wait,
                         healthy, svc_ok, ai_share, ul_bits, dl_bits, svc_model, deadline,
                         path_delay, path_rate, gpu_type, gpu_start, max_batch, n_gpus,
                         svc_time, local_time, strict, energy, tx_w, nr_slot, circ, rx_w,
                         resends, active_w, link_t0, decision_s, drx, now, ul_air,
                         packet_bits, level, n_levels,
                         model_backlog):  # pragma: no cover - compiled
    """:func:`deadline_aware_reference`, operation for operation (same rounding, same ties).
    ``link_backlog`` less ``link_t0`` (at least 0) is each link's backlog: the engine's
    decisions pass its links' free times and the time now, read only for the links of the
    paths it weighs. ``cand``: each transport node's candidate sites
    (``World.node_candidates``), read at each request's ``node``
    (:func:`airan.policy.base.candidate_sites`, without building it), and ``cand_delay``,
    ``cand_rate``, ``cand_links`` the paths to them (:func:`_candidate_paths`).
    ``decision_s``: the decision interval whose arrivals the batch holds (0: unknown).
    ``drx``: each request's device's DRX (:meth:`Snapshot.drx_s`'s columns, [n, 6]; [0, 6]:
    none in the run; a cycle of 0: none for that device) and the time ``now`` (s): an answer
    after the timer waits for its device's on-duration
    (:func:`airan.policy.base.latency_parts_s`). ``ul_air``: each upload's own time on the
    air, during which its packets (of ``packet_bits``) enter the transport (the ``nr`` radio;
    :func:`airan.policy.base.upload_serialization_s`; [0]: none). ``level``, ``n_levels``:
    each service's compute priority level (:func:`priority_levels`); ``site_backlog`` is
    [sites, services] (``Snapshot.site_service_backlog_s``) and ``model_backlog`` [sites,
    models] (``site_model_backlog_s``, every priority's work: where levels differ, the
    placement among the candidates that meet the deadline, see
    :func:`deadline_aware_reference`)."""
    n = node.shape[0]
    k = cand.shape[1]
    est = np.empty((n, k + 1))
    arrive = np.empty((n, k))  # the parts of est (latency_parts_s), for the second pass
    after = np.empty((n, k))
    opening = np.zeros((n, k))  # the batcher's wait in arrive, and the backlog in est: for
    backlog = np.empty((n, k))  # admission's estimate without that wait (see strict below)
    col = np.empty(n, dtype=np.int64)
    # the batch-1 service time of each model at each site (the same division as per request),
    # tabulated when the batch asks for more (request, site) pairs than there are entries
    n_models = svc_time.shape[0]
    n_sites = healthy.shape[0]
    offered = np.zeros((n_sites, n_models))  # the batch's requests that may go to each
    tab = n * k > n_models * n_sites
    comp = np.empty((n_models, n_sites) if tab else (0, 0))
    wait_tab = np.empty((n_models, n_sites) if tab else (0, 0))
    if tab:
        for m in range(n_models):
            for st in range(n_sites):
                comp[m, st] = svc_time[m, gpu_type[gpu_start[st]], 1] / ai_share[st]
                wait_tab[m, st] = _mean_batch_wait(max(site_rate[st, m], home_rate[st, m]),
                                                   max_batch[st, m], max_wait[st, m])
    for i in range(n):
        v = svc[i]
        m = svc_model[v]
        ul_leg = _air_leg(ul_access + ul_round[i], ul_time[i], ul_spacing)
        dl_leg = _air_leg(dl_access, dl_bits[v] / max(dl_rate[i], 1.0), dl_spacing)
        for j in range(k):
            st = cand[node[i], j]
            prop = cand_delay[node[i], j]
            bn = cand_rate[node[i], j]
            compute = (comp[m, st] if tab
                       else svc_time[m, gpu_type[gpu_start[st]], 1] / ai_share[st])
            after[i, j] = compute + (prop + dl_bits[v] / bn + dl_leg)
            backlog[i, j] = site_backlog[st, v]  # [sites, services]
            if not healthy[st] or not svc_ok[v, st]:  # (down, or not serving this service)
                arrive[i, j] = np.inf
                est[i, j] = np.inf
                continue
            offered[st, m] += 1.0
            up = ul_leg + prop + after_upload_s(
                ul_bits[v], ul_air[i] if ul_air.shape[0] > 0 else 0.0, packet_bits, bn)
            if link_backlog.shape[0] > 0:  # behind what its path's links carry (path_backlog_s)
                queued = _longest_backlog(cand_links, node[i], j, link_backlog, link_t0)
                if queued > queue_limit:
                    up = np.inf
                else:
                    up += queued
            h = held[i]
            if state_bits[v] > 0.0 and h >= 0 and h != st and healthy[h]:
                src = site_node[h]  # the context moves here first (context_move_s)
                if path_delay[src, st] < np.inf:
                    wait = _longest_backlog(path_links, src, st, link_backlog, link_t0)
                    if wait > queue_limit:
                        up = np.inf
                    else:
                        up += path_delay[src, st] + wait + state_bits[v] / path_rate[src, st]
            # the batcher's mean wait at the rate the site would see (batch_wait_s)
            opening[i, j] = (wait_tab[m, st] if tab else _mean_batch_wait(
                max(site_rate[st, m], home_rate[st, m]), max_batch[st, m], max_wait[st, m]))
            up += opening[i, j]
            arrive[i, j] = up
            # the answer's wait for its device's on-duration (DRX; a cycle of 0: none)
            if drx.shape[0] > 0 and drx[i, DRX_CYCLE] > 0.0:
                ready = now + (max(up, site_backlog[st, v]) + (after[i, j] - dl_leg))
                after[i, j] = after[i, j] + answer_wait_one_s(
                    ready, now + ul_leg, drx[i, DRX_INACTIVITY], drx[i, DRX_OFFSET],
                    drx[i, DRX_CYCLE], drx[i, DRX_ON], drx[i, DRX_SHORT],
                    drx[i, DRX_SHORT_SPAN])
            # it starts once it has arrived and the backlog has cleared (drained meanwhile)
            est[i, j] = max(up, site_backlog[st, v]) + after[i, j]
        est[i, k] = dev_backlog[i] + local_time[fleet[i], v]
    out = np.empty(n, dtype=np.int64)
    # each request in turn, behind the batch's earlier requests at the sites they went to:
    # their work (a full batch's time per request) joins those sites' backlogs, as
    # least-loaded counts it (counting only the first choices sent them all to one runner-up)
    # by compute priority level (one where every service has one): a request goes ahead of
    # the lower levels' (priority_levels)
    extra = np.zeros((healthy.shape[0], n_levels))
    for i in range(n):
        v = svc[i]
        mi = svc_model[v]
        lv = level[v]
        for j in range(k):
            st = cand[node[i], j]
            ahead = 0.0
            for q in range(lv + 1):
                ahead += extra[st, q]
            backlog[i, j] = site_backlog[st, v] + ahead
            est[i, j] = max(arrive[i, j], backlog[i, j]) + after[i, j]
        best = 0
        for j in range(1, k + 1):
            if est[i, j] < est[i, best]:
                best = j
        if lv < n_levels - 1 and not energy:  # among those that meet the deadline, the
            # least estimate counting every priority's work there (as first come, first
            # served): but for the lowest priority, which crowds none below it
            pick = -1
            best_f = np.inf
            for j in range(k + 1):
                if not est[i, j] <= deadline[v]:
                    continue
                f = est[i, k]
                if j < k:
                    st = cand[node[i], j]
                    every = 0.0
                    for q in range(n_levels):
                        every += extra[st, q]
                    f = max(arrive[i, j], model_backlog[st, mi] + every) + after[i, j]
                if pick < 0 or f < best_f or (f == best_f and est[i, j] < est[i, pick]):
                    pick, best_f = j, f
            if pick >= 0:
                best = pick
        if energy:  # the least device energy among the candidates that meet the deadline
            on_air = ul_bits[v] / max(ul_rate[i], 1.0)
            dl_on_air = dl_bits[v] / max(dl_air_rate[i], 1.0)
            if nr_slot > 0.0:  # whole slots of circuit power (device_energy_j), and the
                # last block's mean HARQ resends, a slot each
                up = (circ * nr_slot * (_whole_slots(on_air, nr_slot)
                                        + (resends if on_air > 0.0 else 0.0))
                      + (tx_w[i] - circ) * on_air)
                down = rx_w * nr_slot * (_whole_slots(dl_on_air, nr_slot)
                                         + (resends if dl_on_air > 0.0 else 0.0))
            else:
                up = tx_w[i] * on_air
                down = rx_w * dl_on_air
            e_remote = up + down
            e_local = active_w[fleet[i], v] * local_time[fleet[i], v]
            pick = -1
            best_e = np.inf
            for j in range(k + 1):
                if not est[i, j] <= deadline[v]:
                    continue
                e = e_local if j == k else e_remote
                if pick < 0 or e < best_e or (e == best_e and est[i, j] < est[i, pick]):
                    pick, best_e = j, e
            if pick >= 0:
                best = pick
        col[i] = best
        if best < k:
            st = cand[node[i], best]
            b = max_batch[st, mi]
            extra[st, lv] += (svc_time[mi, gpu_type[gpu_start[st]], b] / ai_share[st] / b
                              / n_gpus[st])
    for i in range(n):
        j = col[i]
        best_t = est[i, j]
        out[i] = LOCAL if j == k else cand[node[i], j]
        if not np.isfinite(best_t):  # nowhere to go (a service no device may run: on_device)
            first = _first_up(cand[node[i]], healthy, svc_ok[svc[i]])
            out[i] = REJECT if strict and first != NO_SITE else first
        elif strict:  # rejected if no candidate meets it even with its batch filled by the
            soonest = est[i, k]  # requests that may go there (as deadline_aware_reference)
            mi = svc_model[svc[i]]
            for jj in range(k):
                wb = opening[i, jj]
                st = cand[node[i], jj]
                if wb > 0.0 and decision_s > 0.0 and offered[st, mi] > 1.0:
                    fill = (max_batch[st, mi] - 1) * decision_s / (offered[st, mi] - 1.0)
                    if fill < wb:
                        wb = fill
                t = max(arrive[i, jj] - opening[i, jj] + wb, backlog[i, jj]) + after[i, jj]
                if t < soonest:
                    soonest = t
            if soonest > deadline[svc[i]]:
                out[i] = REJECT
    return out


def deadline_aware_reference(
    snap: Snapshot, batch: Batch, *, strict: bool = False, energy: bool = False
) -> I64:
    """The deadline-aware policy in numpy: the readable definition that the compiled
    :func:`deadline_aware` reproduces exactly (and an example of a policy written with the
    public helpers :func:`candidate_sites`, :func:`latency_parts_s` (the parts of
    :func:`estimate_latency_s`), :func:`per_item_time_s`). Its requests decide in turn, a
    Python loop over the batch: a reference for the tests, not a fast policy (the compiled
    one runs that loop).
    """
    n = len(batch)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    w = world_of(snap)
    sites = candidate_sites(snap, batch)
    k = sites.shape[1]
    arrive, wait, after, local = latency_parts_s(snap, batch, sites)
    est = np.concatenate([np.maximum(arrive, wait) + after, local[:, None]], axis=1)
    col = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    step = per_item_time_s(snap, batch.service, sites)
    joule = device_energy_j(snap, batch, sites) if energy else np.zeros((n, k + 1))
    deadline = w.svc_deadline_s[batch.service]  # type: ignore[attr-defined]
    # each request in turn, behind the batch's earlier requests at the sites they went to
    # (a full batch's time per request there, as least-loaded counts it): a loop over the
    # batch's requests, which the compiled policy runs
    # by compute priority level: a request goes ahead of the lower levels' (priority_levels)
    level, n_levels = priority_levels(w.svc_compute_priority)  # type: ignore[attr-defined]
    lv = level[batch.service]
    extra = np.zeros((len(snap.site_healthy), n_levels))
    model = w.svc_model[batch.service]  # type: ignore[attr-defined]
    for i in range(n):
        ahead = np.zeros(k)
        for q in range(lv[i] + 1):
            ahead = ahead + extra[sites[i], q]
        wait[i] = wait[i] + ahead
        est[i, :k] = np.maximum(arrive[i], wait[i]) + after[i]
        c = int(np.argmin(est[i]))
        ok = est[i] <= deadline[i]
        if lv[i] < n_levels - 1 and not energy and ok.any():
            # where priorities differ, a request's estimate leaves out the lower priorities'
            # work, which it goes ahead of, so the earliest completion would crowd a busy site
            # that the lower priorities need (a port terminal's review: urgent detections
            # kept at a saturated GPU beside idle ones 20 ms away took the bulk frames' hit
            # ratio from 1.0 to 0.15): among the candidates that meet the deadline, the one
            # whose estimate counting every priority's work there (as first come, first
            # served) is least, then the earliest; not for the lowest priority, which crowds
            # none below it (its own estimate, stretched by the higher ones' load, is the
            # better), nor under the energy objective, which picks among them by energy
            every = np.zeros(k)
            for q in range(n_levels):
                every = every + extra[sites[i], q]
            fifo = np.maximum(arrive[i], snap.site_model_backlog_s[sites[i], model[i]] + every) \
                + after[i]
            f = np.where(ok, np.concatenate([fifo, est[i, k:]]), np.inf)
            c = int(np.argmin(np.where(ok & (f == f.min()), est[i], np.inf)))
        if energy:  # the least device energy among the candidates that meet the deadline
            ok = est[i] <= deadline[i]
            if ok.any():
                e = np.where(ok, joule[i], np.inf)
                # ties in energy (every site costs the device the same): the earliest of them
                c = int(np.argmin(np.where(ok & (e == e.min()), est[i], np.inf)))
        col[i] = c
        if c < k:
            extra[sites[i, c], lv[i]] += step[i, c]
    best = est[rows, col]
    out = np.where(col == k, LOCAL, sites[rows, np.minimum(col, max(k - 1, 0))] if k else LOCAL)
    out = np.asarray(out, dtype=np.int64)
    if strict:  # rejected if no candidate meets it even with its batch filled by the
        soonest = local  # requests that may go there
        if k:
            model = np.broadcast_to(w.svc_model[batch.service][:, None], sites.shape)  # type: ignore[attr-defined]
            opening = batch_wait_s(snap, batch, sites)
            shorter = opening
            interval = float(getattr(snap, "decision_interval_s", 0.0))
            if interval > 0.0:
                up = snap.site_healthy[sites] & w.svc_site_ok[  # type: ignore[attr-defined]
                    batch.service[:, None], sites]
                offered = np.zeros(w.site_max_batch.shape)  # type: ignore[attr-defined]
                np.add.at(offered, (sites[up], model[up]), 1.0)
                others = offered[sites, model] - 1.0  # (a lone request: the whole wait)
                b = w.site_max_batch[sites, model]  # type: ignore[attr-defined]
                with np.errstate(divide="ignore"):
                    fill = np.where(others > 0, (b - 1) * interval / others, np.inf)
                shorter = np.where(opening > 0, np.minimum(opening, fill), opening)
            soonest = np.minimum(local, (np.maximum(arrive - opening + shorter, wait)
                                         + after).min(axis=1))
        out[soonest > deadline] = REJECT
    nowhere = ~np.isfinite(best)  # (a service no device may run, on_device: false)
    if nowhere.any():
        up = np.asarray(snap.site_healthy)
        ok = w.svc_site_ok  # type: ignore[attr-defined]
        first = np.array([_first_up(c, up, ok[v]) for c, v in zip(
            sites[nowhere], batch.service[nowhere], strict=True)], dtype=np.int64).reshape(-1)
        out[nowhere] = np.where(first == NO_SITE, NO_SITE, REJECT) if strict else first
    return out


@njit(cache=True)
def _first_up(cand, healthy, serves):  # pragma: no cover - compiled
    """Where deadline-aware sends a request that no candidate can serve (every estimate
    infinite: its device may not run it, and each site is down, cut off or behind a transport
    queue over its limit): the first candidate up, where the engine ends it as that place
    does (``no_route``, ``link_full``; under strict admission it rejects it instead);
    ``NO_SITE`` (``site_failure``) when none is up (of those that serve the service,
    ``serves``)."""
    for j in range(cand.shape[0]):
        if healthy[cand[j]] and serves[cand[j]]:
            return cand[j]
    return NO_SITE
