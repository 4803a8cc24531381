"""The built-in deadline-aware policy decided in one compiled call.

The policy runs every decision interval (5 ms) on the few dozen requests that arrived in it. Its
decision proper is compiled (:func:`airan.policy.builtin._deadline_aware_core`), but reading
what it needs through the snapshot's Python accessors (each device's uplink time, downlink rate
and device backlog, each site's backlog: a dozen small numpy and numba calls) took ~50 us a
decision, as long as the kernel's slots: ~40% of city's wall time. Here the engine reads the
same figures out of its own state, with the kernel functions the snapshot's accessors call
(and, for the device backlog, the same operation), and hands them to the same core: the
placements are identical (tests decide the built-in scenarios both ways and compare).

Taken where the snapshot's figures are the NR radio's and nothing else enters the decision: the
default objective (not ``energy``, which reads the devices' air rates and powers) and no
stateful service (whose context moves read the links' backlogs). Elsewhere, and for every
other policy, the engine calls the policy with a snapshot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from airan.compiled import borrow
from airan.engine import kernel as K
from airan.policy.base import (
    DRX_CYCLE,
    DRX_INACTIVITY,
    DRX_OFFSET,
    DRX_ON,
    DRX_SHORT,
    DRX_SHORT_SPAN,
)
from airan.policy.builtin import _candidate_paths, _deadline_aware_core, priority_levels


@njit(cache=True)
def decide(W_ref, S_ref, cand, cand_delay, cand_rate, cand_links, path_rate, dev, svc, now,
           per_item, gpu_up,
           ul_fraction, dl_fraction, report_round_s, ul_access, dl_access, ul_spacing,
           dl_spacing, strict, decision_s, site_rate,
           home_rate, svc_rate):  # pragma: no cover - compiled
    """Placements of the requests of devices ``dev`` and services ``svc``, as
    ``Engine._decide`` gives them for ``deadline_aware(snapshot, batch, strict=strict)`` under
    the NR radio without stateful services. (The kernel's entry point itself, on Borrowed
    views: a wrapper around it re-optimised its whole call tree once more, 2 s of the first
    compile.)"""
    W = borrow(W_ref)
    S = borrow(S_ref)
    n = dev.shape[0]
    node = np.empty(n, dtype=np.int64)
    fleet = np.empty(n, dtype=np.int64)
    bits = np.empty(n)
    prio = np.empty(n, dtype=np.int64)
    for i in range(n):
        node[i] = W.cell_node[W.dev_cell[dev[i]]]
        fleet[i] = W.dev_fleet[dev[i]]
        bits[i] = W.svc_ul_bits[svc[i]]
        prio[i] = W.svc_ul_priority[svc[i]]
    # Snapshot.ul_time_s (Engine._ul_time_s under NR), each behind what goes ahead of it
    ul_time = K._ul_times_s(W, S, dev, bits, ul_fraction, prio)
    ahead = K._ul_bits_ahead_of(W, S, dev, prio)  # Snapshot.ul_backlog_bits(services=)
    ul_air = np.empty(n)  # policy.base.upload_air_s: its own share of ul_time (nr)
    for i in range(n):
        share = bits[i] / (ahead[i] + bits[i]) if bits[i] > 0.0 else 0.0
        ul_air[i] = ul_time[i] * share
    ul_round = K._report_rounds_s(W, S, dev, bits, report_round_s, prio)  # .ul_report_round_s
    for i in range(n):  # + Snapshot.link_wait_s (policy.base.ul_delay_s)
        ul_round[i] = max(S.ue_dl_hold[dev[i]] - now, 0.0) + ul_round[i]
    dl_rate = K._dl_rates_bps(W, S, dev, dl_fraction)  # Snapshot.dl_rate_bps under NR
    # Snapshot.device_backlog_s
    dev_backlog = np.empty(n)
    for i in range(n):
        dev_backlog[i] = max(K.device_free(W, S, dev[i], svc[i]) - now, 0.0)
    _, model_backlog, _, site_backlog = K._site_backlogs(W, S, now, per_item, gpu_up,
                                                         svc_rate)  # [S, M], [S, V]
    healthy = S.site_up != 0  # (a failure not yet noticed looks up)
    none = np.zeros(0)
    # Snapshot.drx_s (policy.base.drx_rows_s): none where no fleet has DRX
    drx = np.zeros((n if W.drx_any else 0, 6))
    if W.drx_any:
        for i in range(n):
            x = dev[i]
            drx[i, DRX_CYCLE] = W.dev_drx_cycle_s[x]
            drx[i, DRX_ON] = W.dev_drx_on_s[x]
            drx[i, DRX_INACTIVITY] = W.dev_drx_inact_s[x]
            drx[i, DRX_OFFSET] = W.dev_drx_offset_s[x]
            drx[i, DRX_SHORT] = W.dev_drx_short_s[x]
            drx[i, DRX_SHORT_SPAN] = W.dev_drx_short_span_s[x]
    level, n_levels = priority_levels(W.svc_compute_priority)
    place = _deadline_aware_core(
        cand, cand_delay, cand_rate, cand_links, node, svc, fleet, none, ul_time, ul_round,
        dl_rate, none,
        dev_backlog, ul_access, dl_access, ul_spacing, dl_spacing, np.full(n, -1, np.int64),
        W.svc_state_bits, W.site_node, W.path_links, S.link_free, W.transport_queue_limit_s,
        site_backlog, site_rate, home_rate, W.site_max_wait_s, healthy, W.svc_site_ok,
        S.site_ai_share,
        W.svc_ul_bits,
        W.svc_dl_bits, W.svc_model, W.svc_deadline_s, W.path_delay_s, path_rate, W.gpu_type,
        W.site_gpu_start, W.site_max_batch, W.site_n_gpus, W.svc_time_s, W.local_time_s,
        strict, False, none, 0.0, W.ue_tx_circuit_w, W.ue_rx_w, 0.0, W.local_power_w, now,
        decision_s, drx, now, ul_air, W.packet_bits, level, n_levels, model_backlog)
    # Engine._decide: a site the request's cell has no transport path to is no_route
    for i in range(n):
        if place[i] >= 0 and not np.isfinite(W.path_delay_s[node[i], place[i]]):
            place[i] = K.PLACE_NO_ROUTE
    return place


def applies(world: Any, *, energy: bool) -> bool:
    """Whether :func:`deadline_aware` can decide in the kernel for this world (see above)."""
    return (world.radio_model == 0 and not energy
            and not bool(np.any(world.svc_state_bits > 0)))


def deadline_aware(engine: Any, device: NDArray[np.int64], service: NDArray[np.int64],
                   strict: bool) -> NDArray[np.int64]:
    """The engine's placements for one batch (see the module's docstring)."""
    w = engine.world
    cand_delay, cand_rate, cand_links = _candidate_paths(w)
    return decide(  # type: ignore[no-any-return]
        engine._kw, engine._sref, w.node_candidates, cand_delay, cand_rate, cand_links,
        w.path_rate_bps,
        np.ascontiguousarray(device, dtype=np.int64),
        np.ascontiguousarray(service, dtype=np.int64), float(engine.now_s), engine._per_item_s,
        engine.faults.gpu_up, engine._ul_slot_fraction, engine._dl_slot_fraction,
        engine._report_round_s, float(engine._ul_access_delay_s),
        float(engine._dl_access_delay_s), float(engine._ul_slot_spacing_s),
        float(engine._dl_slot_spacing_s), strict, float(engine.decision_interval_s),
        engine._rates.site, engine._rates.home, engine._rates.service)
