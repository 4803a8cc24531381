"""The engine's state as a structure of arrays, and the read-only World view the kernel sees."""

from __future__ import annotations

from collections import namedtuple
from typing import Any, cast

import numpy as np
from numba import njit
from numba.core import types
from numba.experimental import structref

from airan.engine import kernel as K
from airan.engine.world import World

_KW_FIELDS = [
    "slot_s",
    "slot_type",
    "radio_model",
    "cell_node",
    "cell_prb",
    "cell_bits_per_prb_dl",
    "cell_bits_per_prb_ul",
    "cell_ul_rx_gain",
    "cell_ul_diversity",
    "cell_tx_antennas",
    "cell_dl_layers",
    "cell_carrier",
    "cell_tx_on_mw",
    "ul_noise_mw",
    "ul_int_ptr",
    "ul_int_src",
    "ul_int_mw",
    "cell_ul_pref_mw",
    "cell_bg_ul_mw",
    "dev_fleet",
    "dev_cell",
    "dev_top_cell",
    "dev_top_gain",
    "dev_top_gain_ul",
    "dev_resid_gain_mw",
    "dev_dl_noise_mw",
    "dev_ue_tx_mw",
    "dev_ul_p_prb_mw",
    "dev_ul_buffer_bits",
    "dev_sr_offset_s",
    "flow_dev",
    "flow_svc",
    "flow_period_s",
    "flow_poisson",
    "flow_jitter_s",
    "flow_phase_s",
    "svc_model",
    "svc_deadline_s",
    "svc_ul_bits",
    "svc_ul_spread",
    "svc_ul_par",
    "svc_ul_quart",
    "svc_dl_bits",
    "svc_dl_spread",
    "svc_dl_par",
    "svc_dl_quart",
    "svc_state_bits",
    "svc_ul_priority",
    "svc_compute_priority",
    "path_delay_s",
    "model_dist",
    "svc_local_dist",
    "model_p1",
    "model_p2",
    "site_gpu_start",
    "site_node",
    "site_n_gpus",
    "site_queue_limit",
    "site_max_batch",
    "site_max_wait_s",
    "site_instances",
    "site_shared",
    "site_overhead_cap",
    "svc_site_ok",
    "gpu_type",
    "gpu_site",
    "svc_time_s",
    "svc_overhead_s",
    "local_time_s",
    "fleet_svc_group",
    "fleet_svc_slot",
    "fleet_local_queue_limit_s",
    "svc_engine",
    "local_power_w",
    "fleet_ul_latest",
    "fleet_active_w",
    "ue_tx_circuit_w",
    "ue_pa_efficiency",
    "ue_rx_w",
    "drx_any",
    "dev_drx_cycle_s",
    "dev_drx_on_s",
    "dev_drx_inact_s",
    "dev_drx_offset_s",
    "dev_drx_cycle_slots",
    "dev_drx_on_slots",
    "dev_drx_offset_slots",
    "dev_drx_short_s",
    "dev_drx_short_span_s",
    "dev_drx_short_slots",
    "ue_pdcch_w",
    "drx_sleep",
    "link_cap_bps",
    "link_delay_s",
    "path_links",
    "path_links_back",
    "transport_queue_limit_s",
    "packet_bits",
    "fixed_ul_bps",
    "fixed_dl_bps",
    "fixed_latency_s",
    "sr_period_s",
    "grant_delay_s",
    "sr_period_slots",
    "grant_delay_slots",
    "bler",
    "harq_max_retx",
    "harq_ul_slots",
    "harq_dl_slots",
    "dl_sched_delay_s",
    "configured_grant",
    "first_grant_bits",
    "scheduler_pf",
    "svc_delay_weight",
    "svc_qos_weight",
    "load_alpha",
    "load_decay",
    "min_sinr_lin",
    "total_prb",
    "ul_prefix",
    "dl_prefix",
]

_STATE_FIELDS = [
    "rq_f",
    "rq_i",
    "free_stack",
    "heap_t",
    "heap_r",
    "heap_s",
    "ulq_t",
    "ulq_s",
    "ulq_r",
    "ctr",
    "fs",
    "rng",
    "rng_arr",
    "fh_t",
    "fh_f",
    "flow_k",
    "ue_ul_head",
    "ue_ul_tail",
    "ue_ul_bits",
    "ue_ul_elig",
    "ue_dl_head",
    "ue_dl_tail",
    "ue_se_ul",
    "ue_se_dl",
    "ue_se_slot",
    "ue_se_slot_dl",
    "ue_pf_w",
    "ue_fade",
    "ue_grant",
    "ue_pf_n",
    "ue_tmp",
    "cell_top",
    "cell_top_m",
    "ue_avg_thr",
    "ue_sent_ul",
    "ue_first_grant",
    "ue_sent_dl",
    "ue_ul_free",
    "ue_dl_free",
    "ue_dl_hold",
    "dev_free",
    "dev_eng_free",
    "dev_hold",
    "dev_hold_cause",
    "dev_hold_n",
    "act_ul",
    "act_ul_pos",
    "act_dl",
    "act_dl_pos",
    "dlq_d",
    "cell_iul",
    "cell_iul_k",
    "cell_lul",
    "se_key",
    "load_dl",
    "load_ul",
    "pow_ul",
    "load_dl_k",
    "load_ul_k",
    "touched",
    "cell_mark",
    "cell_tmp",
    "cell_spare",
    "cell_heavy",
    "cell_used_cnt",
    "cell_used_dl",
    "cell_used_ul",
    "cell_pow_ul",
    "cell_free_prb_dl",
    "cell_free_prb_ul",
    "prb_sum_dl",
    "prb_sum_ul",
    "q_head",
    "q_tail",
    "q_len",
    "q_oldest_s",
    "q_level_tail",
    "q_len_svc",
    "site_en_route",
    "site_qlen",
    "site_wake",
    "site_clock",
    "site_ai_share",
    "site_ai_work",
    "fleet_energy_j",
    "ue_drx_last",
    "fleet_drx",
    "fleet_local_s",
    "fleet_eng_s",
    "fleet_req",
    "site_up",
    "ctx_site",
    "ctx_ready_s",
    "svc_migrations",
    "site_orphaned",
    "orphans",
    "rq_path",
    "rq_link0",
    "site_qarea",
    "site_qlast",
    "site_served",
    "site_batches",
    "gpu_free",
    "gpu_heap",
    "gpu_busy",
    "gpu_run_r",
    "gpu_run_left",
    "gpu_run_tail",
    "gpu_run_oh",
    "gpu_oh_n",
    "gpu_oh_rate",
    "gpu_run_n",
    "gpu_run_t",
    "gpu_run_rate",
    "gpu_model_n",
    "site_model_run",
    "site_run_area",
    "site_run_last",
    "gpu_ev_t",
    "link_free",
    "link_busy",
    "agg_cnt",
    "agg_drop",
    "warm_cnt",
    "warm_drop",
    "agg_sum",
    "agg_place",
    "warm_place",
    "agg_held",
    "dev_outcomes",
    "hist",
    "tr_f",
    "tr_i",
    "samp",
]
State: Any = cast(Any, namedtuple("State", _STATE_FIELDS))  # fields above; dynamic for mypy


# The kernel takes World and State as numba StructRefs, passed by one pointer; its entry points
# hand its functions Borrowed views of them (airan.compiled.borrow), which read the arrays
# without counting references.
@structref.register
class KernelWorldType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class KernelStateType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class KernelWorldRef(structref.StructRefProxy):
    """The World as the kernel sees it."""


class KernelStateRef(structref.StructRefProxy):
    """The State as the kernel sees it (the same arrays as the Python-side State)."""


structref.define_proxy(
    KernelWorldRef, KernelWorldType, [*_KW_FIELDS, "seed", "trace_limit", "trace_sample"]
)
structref.define_proxy(KernelStateRef, KernelStateType, _STATE_FIELDS)


# The proxies' own constructors are compiled afresh in every process (numba does not cache
# them: ~3.7 s of each run's start-up); these cached ones build the same StructRefs.
@njit(cache=True)
def _new_state_ref(fields):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    return KernelStateRef(*fields)


@njit(cache=True)
def _new_world_ref(fields):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    return KernelWorldRef(*fields)


def state_ref(st: Any) -> Any:
    """The kernel's view of a State (shares its arrays)."""
    return _new_state_ref(tuple(st))


def kernel_world(w: World, seed: int, trace_limit: int, trace_sample: float) -> Any:
    """The read-only tuple of arrays and scalars the compiled kernel takes."""
    vals = []
    for name in _KW_FIELDS:
        v = getattr(w, name)
        if isinstance(v, np.ndarray):
            v = np.ascontiguousarray(v)
        elif isinstance(v, bool):
            v = bool(v)
        elif isinstance(v, int):
            v = int(v)
        elif isinstance(v, float):
            v = float(v)
        vals.append(v)
    return _new_world_ref(
        (*vals, int(seed) & 0x7FFFFFFFFFFFFFFF, int(trace_limit), float(trace_sample))
    )


def new_state(w: World, seed: int, capacity: int, trace_capacity: int,
              reroutes: bool = False, holds: bool = False) -> Any:
    """Fresh state: empty buffers and queues, every flow's first arrival scheduled.

    ``reroutes``: link faults may change the paths, so each request gets room for the rest of
    its old path (``rq_path``, see kernel.flush_transit). ``holds``: devices' links may be
    interrupted (mobility, faults), so each device keeps its last interruptions
    (``dev_hold``, see world.hold_link) and each request is counted by the one it met."""
    n_dev = w.n_devices
    n_cells = len(w.cell_names)
    n_sites = len(w.site_names)
    n_models = len(w.model_names)
    n_svc = len(w.service_names)
    prio_mixed = len(set(w.svc_compute_priority.tolist())) > 1
    n_groups = len(w.group_svc)
    n_flows = len(w.flow_dev)
    n_gpus = len(w.gpu_site)
    # a GPU runs at most the sum of its site's model instances at once
    run_slots = max(1, int(w.site_instances.sum(axis=1).max(initial=1)))
    # events beyond one per request: a timer per site and a batch end per GPU, and room for
    # superseded ones not yet popped (kernel._supersede_timer compacts the heap when it is used)
    n_timers = 2 * n_sites + n_gpus * (run_slots + 1) + 64
    rng = np.array([_mix64(int(seed) * 2 + 1)], dtype=np.uint64)
    # first arrivals: periodic at phase + U(0, jitter); Poisson after an exponential gap
    draw = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    first = np.where(
        w.flow_poisson,
        draw.exponential(size=n_flows) * w.flow_period_s,
        w.flow_phase_s + w.flow_jitter_s * draw.uniform(size=n_flows),
    )
    order = np.argsort(first, kind="stable")  # a sorted array is a valid heap
    ctr = np.zeros(K.N_CTR, dtype=np.int64)
    ctr[K.C_FREE_TOP] = capacity
    ctr[K.C_FH_N] = n_flows
    st = State(
        rq_f=np.full((capacity, K.N_RQ_F), np.nan),
        rq_i=np.zeros((capacity, K.N_RQ_I), dtype=np.int64),
        free_stack=np.arange(capacity - 1, -1, -1, dtype=np.int64),
        heap_t=np.zeros(capacity + n_timers),
        heap_r=np.zeros(capacity + n_timers, dtype=np.int64),
        heap_s=np.zeros(capacity + n_timers, dtype=np.int64),
        # the current uplink slot's completions (time, push order, request): events kept
        # apart from the heap (kernel.serve_ul); those beyond this many go to the heap
        ulq_t=np.zeros(max(n_dev, 16)),
        ulq_s=np.zeros(max(n_dev, 16), dtype=np.int64),
        ulq_r=np.zeros(max(n_dev, 16), dtype=np.int64),
        ctr=ctr,
        # the mean loads (downlink, uplink); no background traffic (either direction)
        fs=np.r_[np.full(2, w.initial_load), np.zeros(K.N_FS - 2)],
        rng=rng,
        # arrivals draw from their own stream, so that how the run is cut into decision
        # intervals never changes which random numbers the kernel sees
        rng_arr=np.array([_mix64(int(seed) * 2 + 2)], dtype=np.uint64),
        fh_t=first[order].astype(np.float64),
        fh_f=order.astype(np.int64),
        flow_k=np.zeros(n_flows, dtype=np.int64),
        ue_ul_head=np.full(n_dev, -1, dtype=np.int64),
        ue_ul_tail=np.full(n_dev, -1, dtype=np.int64),
        ue_ul_bits=np.zeros(n_dev),
        ue_ul_elig=np.zeros(n_dev),
        ue_dl_head=np.full(n_dev, -1, dtype=np.int64),
        ue_dl_tail=np.full(n_dev, -1, dtype=np.int64),
        ue_se_ul=np.zeros(n_dev),
        ue_se_dl=np.zeros(n_dev),
        # the slot of each UE's last UL and DL link-quality refresh (kernel.refresh_ul, _dl)
        ue_se_slot=np.full(n_dev, -1, dtype=np.int64),
        ue_se_slot_dl=np.full(n_dev, -1, dtype=np.int64),
        ue_pf_w=np.ones(n_dev),
        ue_fade=np.ones(n_dev),
        ue_grant=np.zeros(n_dev),  # PRBs a PF cell grants each of its UEs in the current slot
        # the uplink slot (count) from which each UE's PF average has not been updated yet
        ue_pf_n=np.zeros(n_dev, dtype=np.int64),
        ue_tmp=np.zeros(n_dev, dtype=np.int64),  # scratch: UEs flagged by the DL scheduler
        cell_top=np.full((n_cells, K.PF_MAX_UES), -1, dtype=np.int64),
        cell_top_m=np.full((n_cells, K.PF_MAX_UES), -1.0),
        ue_avg_thr=np.ones(n_dev),
        # the slots each UE last sent / received a transport block in, for HARQ (kernel.harq_end):
        # [n_dev, 2]: a mask whose bit i is set where it did in slot (column 1) - i, and that
        # slot, side by side (one cache line)
        ue_sent_ul=np.zeros((n_dev, 2), dtype=np.int64),
        # 1 while a UE's next grant is the one answering its SR (radio.first_grant_bytes)
        ue_first_grant=np.zeros(n_dev, dtype=np.int8),
        ue_sent_dl=np.zeros((n_dev, 2), dtype=np.int64),
        ue_ul_free=np.zeros(n_dev),
        ue_dl_free=np.zeros(n_dev),
        # until when each UE's downlink is held, its link interrupted (a handover, a radio link
        # failure and its re-establishment: world.hold_link); ue_ul_elig holds the uplink
        ue_dl_hold=np.zeros(n_dev),
        dev_free=np.zeros(n_dev),
        # when each device's own engines (fleets[].engines) are free, beside dev_free's main one
        dev_eng_free=np.zeros((n_dev, max(1, int(w.svc_engine.max(initial=-1)) + 1))),
        # each device's last K.HOLD_RING link interruptions: (start, end) s side by side (one
        # cache line), their causes (K.HOLD_*, 0 an empty entry) and how many it has had;
        # none kept where no link is ever interrupted
        dev_hold=np.zeros((n_dev if holds else 0, 2 * K.HOLD_RING)),
        dev_hold_cause=np.zeros((n_dev if holds else 0, K.HOLD_RING), dtype=np.int8),
        dev_hold_n=np.zeros(n_dev if holds else 0, dtype=np.int64),
        act_ul=np.zeros(n_dev, dtype=np.int64),
        act_ul_pos=np.full(n_dev, -1, dtype=np.int64),
        act_dl=np.zeros(n_dev, dtype=np.int64),
        act_dl_pos=np.full(n_dev, -1, dtype=np.int64),
        dlq_d=np.zeros(max(n_dev, 1), dtype=np.int64),  # a ring: each device once at most
        load_dl=np.full(n_cells, w.initial_load),
        load_ul=np.full(n_cells, w.initial_load),
        # the power a cell's UEs put out, in units of their mean full-band power (EWMA, ages
        # with load_ul): what uplink interference sums weigh, not the PRBs used
        pow_ul=np.full(n_cells, w.initial_load),
        cell_iul=np.zeros(n_cells),
        cell_iul_k=np.full(n_cells, -1, dtype=np.int64),
        # every cell's UL load now, as interference sums weigh it (kernel._ul_loads_now), and
        # the UL slot count it holds for (NaN: not yet filled; the second entry unused)
        cell_lul=np.zeros(n_cells),
        se_key=np.full(2, np.nan),
        load_dl_k=np.zeros(n_cells, dtype=np.int64),
        load_ul_k=np.zeros(n_cells, dtype=np.int64),
        touched=np.zeros(n_cells, dtype=np.int64),
        cell_mark=np.zeros(n_cells, dtype=np.int64),
        cell_tmp=np.zeros(n_cells),
        # per cell in a slot: the PRBs its light UEs leave of their equal shares, and how many
        # UEs need more than an equal share (see serve_ul: one round of progressive filling)
        cell_spare=np.zeros(n_cells),
        cell_heavy=np.zeros(n_cells),
        cell_used_cnt=np.zeros(n_cells, dtype=np.int64),  # scratch (kernel.active_in_cells)
        cell_used_dl=np.zeros(n_cells),
        cell_used_ul=np.zeros(n_cells),
        cell_pow_ul=np.zeros(n_cells),
        # the PRBs a slot of each cell has for the devices, per direction: the cell's, less
        # background traffic's share and the slots its L1 drops (set by RanShare each window)
        cell_free_prb_dl=w.cell_prb.astype(float),
        cell_free_prb_ul=w.cell_prb.astype(float),
        prb_sum_dl=np.zeros(n_cells),
        prb_sum_ul=np.zeros(n_cells),
        q_head=np.full((n_sites, n_models), -1, dtype=np.int64),
        q_tail=np.full((n_sites, n_models), -1, dtype=np.int64),
        q_len=np.zeros((n_sites, n_models), dtype=np.int64),
        # when the request waiting longest in each queue reached the site, kept where
        # priorities differ (else the head is the oldest): a batch is due max_wait after it
        q_oldest_s=np.full((n_sites, n_models), np.inf),
        # where services' compute_priority differ (else empty): each queue's last request of
        # each priority (1..16), and the requests of each service queued at each site
        q_level_tail=np.full((n_sites, n_models, 17) if prio_mixed else (0, 0, 0), -1,
                             dtype=np.int64),
        q_len_svc=np.zeros((n_sites, n_svc) if prio_mixed else (0, 0),
                           dtype=np.int64),
        # requests of each service on their way to each site (kernel._en_route)
        site_en_route=np.zeros((n_sites, len(w.svc_model)), dtype=np.int64),
        site_qlen=np.zeros(n_sites, dtype=np.int64),
        site_wake=np.full(n_sites, np.inf),
        site_clock=np.zeros(n_sites),
        site_ai_share=np.ones(n_sites),  # share of each GPU left to AI (L1 takes the rest)
        site_ai_work=np.zeros(n_sites),  # GPU-seconds of AI batches at full speed
        fleet_energy_j=np.zeros(len(w.fleet_names)),  # device energy for requests (J)
        # DRX: each UE's last activity (s; its inactivity timer runs from it: at first run
        # out, the UE asleep from the start), and per fleet the time its UEs spent outside
        # that timer (s) and what their radios drew then (J; kernel.drx_wake)
        ue_drx_last=-w.dev_drx_inact_s if w.drx_any else np.zeros(1),
        fleet_drx=np.zeros((len(w.fleet_names), 2)),
        fleet_local_s=np.zeros(len(w.fleet_names)),  # device-seconds computing on board
        # of them, on each engine of the fleet's own (fleets[].engines) [fleets, E]
        fleet_eng_s=np.zeros((len(w.fleet_names), max(1, int(w.svc_engine.max(initial=-1))
                                                        + 1))),
        fleet_req=np.zeros(len(w.fleet_names), dtype=np.int64),  # requests created
        # 0 while a fault has the site down; -1 failed, not yet noticed (a site_down's
        # detect_ms): it serves nothing, and the policies still see it up
        site_up=np.ones(n_sites, dtype=np.int64),
        # where each (device, stateful service) keeps its context (-1: nowhere yet)
        ctx_site=np.full((n_dev, n_svc) if np.any(w.svc_state_bits > 0) else (1, 1), -1,
                         dtype=np.int64),
        # when a context on its way to ctx_site lands there (s)
        ctx_ready_s=np.zeros((n_dev, n_svc) if np.any(w.svc_state_bits > 0) else (1, 1)),
        svc_migrations=np.zeros(n_svc, dtype=np.int64),
        site_orphaned=np.zeros(n_sites, dtype=np.int64),  # requests a failed site gave back
        orphans=np.zeros(capacity, dtype=np.int64),  # those waiting for a new placement
        # the rest of its old path, for a request under way when a link fault rerouted
        rq_path=np.full((capacity, max(w.path_links.shape[-1], w.path_links_back.shape[-1]))
                        if reroutes else (1, 1), -1, dtype=w.path_links.dtype),
        # an upload's first link and that link's work done (s) when its first bits went on the
        # air: the capacity it had for them since (kernel.ul_done; nr, uploads over a packet)
        rq_link0=np.full((capacity, 2), np.nan),
        site_qarea=np.zeros(n_sites),
        site_qlast=np.zeros(n_sites),
        site_served=np.zeros(n_sites, dtype=np.int64),
        site_batches=np.zeros(n_sites, dtype=np.int64),
        gpu_free=np.zeros(len(w.gpu_site)),
        # per site, a binary heap of its GPUs by (free time, index) in its slice of gpu ids
        gpu_heap=np.arange(len(w.gpu_site), dtype=np.int64),
        gpu_busy=np.zeros(len(w.gpu_site)),
        # GPUs that run batches at once (world.site_shared): per GPU, its running batches (their
        # first requests) and each one's work left (s at the full AI share), since gpu_run_t,
        # each advancing at gpu_run_rate (the AI share over their number; on a GPU that runs
        # one batch at a time, the share its batch started with); its running batches per
        # model; the time of its next batch end, the one event of its own in the heap
        gpu_run_r=np.full((n_gpus, run_slots), -1, dtype=np.int64),
        gpu_run_left=np.zeros((n_gpus, run_slots)),
        # and its fixed overhead (s at the full AI share), which runs after its shared work
        # without taking the GPU's throughput, its model's instance held meanwhile; 1 where the
        # batch is in it (gpu_run_left then the overhead left), how many are, and the rate each
        # goes at (the AI share, less where more overheads run at once than the site's
        # overhead_overlap lets run at full speed)
        gpu_run_tail=np.zeros((n_gpus, run_slots)),
        gpu_run_oh=np.zeros((n_gpus, run_slots), dtype=np.int64),
        gpu_oh_n=np.zeros(n_gpus, dtype=np.int64),
        gpu_oh_rate=np.ones(n_gpus),
        gpu_run_n=np.zeros(n_gpus, dtype=np.int64),
        gpu_run_t=np.zeros(n_gpus),
        gpu_run_rate=np.ones(n_gpus),
        gpu_model_n=np.zeros((n_gpus, n_models), dtype=np.int64),
        site_model_run=np.zeros((n_sites, n_models), dtype=np.int64),  # the sum over its GPUs
        # its integral over time (instance-seconds) up to site_run_last (kernel._run_area)
        site_run_area=np.zeros((n_sites, n_models)),
        site_run_last=np.zeros(n_sites),
        gpu_ev_t=np.full(n_gpus, np.inf),
        link_free=np.zeros(len(w.link_cap_bps)),
        link_busy=np.zeros(len(w.link_cap_bps)),
        # outcomes per (fleet, service) group (World.fleet_svc_group); the engine sums a
        # service's groups
        agg_cnt=np.zeros((n_groups, 4), dtype=np.int64),
        agg_drop=np.zeros((n_groups, K.N_REASONS), dtype=np.int64),
        # the same for the requests created in the warm-up (Engine.warmup_s), in no figure
        warm_cnt=np.zeros((n_groups, 4), dtype=np.int64),
        warm_drop=np.zeros((n_groups, K.N_REASONS), dtype=np.int64),
        agg_sum=np.zeros((n_groups, K.N_SUMS)),
        # answered requests per (fleet, service) group by where they ran: each site, then
        # the device itself (the last column)
        agg_place=np.zeros((n_groups, n_sites + 1), dtype=np.int64),
        warm_place=np.zeros((n_groups, n_sites + 1), dtype=np.int64),  # the warm-up's
        # ended requests per (fleet, service) group by the link interruption their radio legs
        # met (K.HOLD_*; kernel.held_cause) and outcome: met, late, dropped
        agg_held=np.zeros((n_groups, K.N_HOLD_CAUSES, 3), dtype=np.int64),
        # per device, each of its fleet's services (World.fleet_svc_slot): its requests ended
        # and met (the share of devices satisfied: TR 38.838), its misses in a row now and
        # the longest run of them (TS 22.104's survival time), the warm-up's aside
        dev_outcomes=np.zeros((n_dev, max(1, int(w.fleet_svc_slot.max(initial=0)) + 1), 4),
                              dtype=np.int64),
        hist=np.zeros((n_groups, K.HIST_BUCKETS), dtype=np.int64),
        tr_f=np.zeros((trace_capacity, 9)),
        tr_i=np.zeros((trace_capacity, 7), dtype=np.int64),
        samp=np.zeros((0, 1)),  # load samples the kernel takes (Engine: kernel_samples)
    )
    return st._replace(**_rows(st))


# The per-device fields the schedulers and a new request read together, kept as columns of one
# row per device (a 64-byte cache line where the row is 8 wide): a UE's visit then misses the
# caches once per group, not once per field (at metro scale every device's row is cold); and
# the per-cell fields a UE's visit and the loads' update read, likewise one row per cell. The
# fields stay 1-D arrays (strided views), so the kernel's code and the engine's reads are
# unchanged; results are bit for bit the same. Measured on metro (10 s, alternated): the engine
# ~7-10% faster with the devices' rows, ~4% more with the cells' (3 s; benchmarks/README.md).
# A block has at least two rows (a spare one past a single device's or cell's, which the
# engine's whole-array reads leave out): numpy calls a view of one element contiguous whatever
# its stride, and numba would then compile the kernel a second time for such scenarios.
_ROW_BLOCKS = (
    (8, ("ue_ul_bits", "ue_ul_elig", "ue_se_ul", "ue_pf_w", "ue_fade", "ue_grant", "ue_avg_thr",
         "ue_ul_free")),  # the uplink scheduler's and a new request's floats
    (8, ("ue_ul_head", "ue_ul_tail", "ue_se_slot", "ue_pf_n", "act_ul_pos", "ue_sent_ul")),
    (4, ("ue_se_dl", "ue_dl_free", "ue_dl_hold", "dev_free")),  # the downlink's, on-board's
    (8, ("ue_dl_head", "ue_dl_tail", "ue_se_slot_dl", "act_dl_pos", "ue_tmp", "ue_sent_dl")),
    (8, ("cell_tmp", "cell_spare", "cell_heavy", "cell_used_ul", "cell_pow_ul", "cell_iul",
         "load_ul", "pow_ul")),  # a cell's, as the uplink scheduler and its loads read them
    (4, ("cell_used_dl", "prb_sum_dl", "prb_sum_ul", "load_dl")),
    (8, ("cell_mark", "cell_iul_k", "load_ul_k", "load_dl_k", "cell_used_cnt")),
)


def _rows(st: Any) -> dict[str, Any]:
    """The fields of :data:`_ROW_BLOCKS` moved into row-per-item blocks (values kept)."""
    out: dict[str, Any] = {}
    for width, names in _ROW_BLOCKS:
        cols = [getattr(st, name) for name in names]
        n = cols[0].shape[0]
        block = np.zeros((max(n, 2), width), dtype=cols[0].dtype)
        j = 0
        for name, col in zip(names, cols, strict=True):
            view = block[:, j] if col.ndim == 1 else block[:, j:j + col.shape[1]]
            view[:n] = col  # (a spare row stays 0: no device's or cell's)
            out[name] = view
            j += 1 if col.ndim == 1 else col.shape[1]
    return out


def _mix64(x: int) -> int:
    """splitmix64's finalizer: unrelated 64-bit generator states for neighbouring seeds.

    (A state of seed * golden ratio would make seed k+1's stream seed k's shifted by one draw,
    since splitmix64 itself steps by the golden ratio.)
    """
    m = 0xFFFFFFFFFFFFFFFF
    z = (x * 0x9E3779B97F4A7C15) & m
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return z ^ (z >> 31)


def grow_pool(st: Any, capacity: int) -> Any:
    """The same state with room for ``capacity`` requests (free slots appended)."""
    old = st.rq_f.shape[0]
    if capacity <= old:
        return st
    extra = capacity - old
    rq_f = np.concatenate([st.rq_f, np.full((extra, K.N_RQ_F), np.nan)])
    rq_i = np.concatenate([st.rq_i, np.zeros((extra, K.N_RQ_I), dtype=np.int64)])
    top = int(st.ctr[K.C_FREE_TOP])
    free = np.empty(capacity, dtype=np.int64)
    free[:extra] = np.arange(capacity - 1, old - 1, -1)
    free[extra : extra + top] = st.free_stack[:top]
    st.ctr[K.C_FREE_TOP] = top + extra
    n_timers = st.heap_t.shape[0] - old
    heap_t = np.zeros(capacity + n_timers)
    heap_r = np.zeros(capacity + n_timers, dtype=np.int64)
    heap_s = np.zeros(capacity + n_timers, dtype=np.int64)
    n = int(st.ctr[K.C_HEAP_N])
    heap_t[:n] = st.heap_t[:n]
    heap_r[:n] = st.heap_r[:n]
    heap_s[:n] = st.heap_s[:n]
    orphans = np.zeros(capacity, dtype=np.int64)
    orphans[: len(st.orphans)] = st.orphans
    rq_path = st.rq_path
    if rq_path.shape[0] == old:  # (kept per request only where link faults reroute)
        rq_path = np.concatenate([rq_path, np.full((extra, rq_path.shape[1]), -1,
                                                   dtype=rq_path.dtype)])
    rq_link0 = np.concatenate([st.rq_link0, np.full((extra, 2), np.nan)])
    return st._replace(
        rq_f=rq_f, rq_i=rq_i, free_stack=free, heap_t=heap_t, heap_r=heap_r, heap_s=heap_s,
        orphans=orphans, rq_path=rq_path, rq_link0=rq_link0,
    )
