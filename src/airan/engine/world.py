"""Build the World: a validated Scenario turned into SI arrays, once, before the clock starts.

Everything here is vectorized over devices (in chunks to bound memory) and deterministic for a
seed. The engine never looks at the Scenario again, only at these arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)
from airan.catalog import GpuSpec
from airan.compute import l1, service_time_distribution, service_time_table_s
from airan.compute.roofline import DIST_DETERMINISTIC, fixed_overhead_s, roofline_ratio
from airan.engine import kernel as K
from airan.engine.device_radio import O2I, DeviceRadio
from airan.errors import InputError
from airan.radio import bands, drx, geometry, link, nr, penetration, qos, scheduling
from airan.radio.pathloss import BS_HEIGHT_M
from airan.scenario import payload
from airan.scenario.load import MAX_HOPS, cell_site_xy, l1_hosts, transport_links
from airan.scenario.schema import (
    Carrier,
    DiscArea,
    Drx,
    PayloadSpread,
    PointsArea,
    Scenario,
    Service,
    imported_sites,
)

CANDIDATE_CELL_SITES = 8  # cell-site GPUs a policy weighs for each request (nearest by delay)


F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: a power class 3 UE's maximum output power, 23 dBm (TS 38.101-1 6.2.1), in mW
PC3_MW = float(link.dbm_to_mw(23.0))
I32 = NDArray[np.int32]


@dataclass
class World:
    """The scenario as arrays. Shapes in brackets; units SI unless the name says otherwise."""

    name: str
    slot_s: float
    slot_type: NDArray[np.int8]  # [pattern length] 0=D, 1=S, 2=U (FDD: all 3 = both)
    numerology: int  # mu of every carrier (TS 38.211 4.3): 15 * 2^mu kHz subcarriers
    radio_model: int  # 0 nr, 1 ideal, 2 fixed
    # cells (sectors)
    cell_names: list[str]
    cell_node: I64  # [C]
    cell_xy: F64  # [C, 2]
    cell_prb: F64  # [C]
    cell_bandwidth_mhz: F64  # [C] channel bandwidth (TS 38.101-1)
    cell_bits_per_prb_dl: F64  # [C] bits per PRB per slot per unit SE of one layer, incl. overhead
    cell_bits_per_prb_ul: F64  # [C]
    cell_ul_rx_gain: F64  # [C] uplink SINR gain per layer of the receive antennas (linear)
    cell_ul_diversity: I64  # [C] the diversity order of its fading (independent antennas)
    cell_tx_antennas: I64  # [C] transmit antennas (downlink precoding gain)
    cell_dl_layers: I64  # [C] the most downlink layers per UE (the rank is adapted per UE)
    cell_tx_mw: F64  # [C]
    # [C] the cell's carrier: the row of cell_tx_on_mw and ul_channel_share its DL/UL channel
    # is in (one row where every cell shares one channel)
    cell_carrier: I64
    # [carriers, C] the power of cell c that falls in carrier v's downlink channel (mW): what c
    # interferes with a UE of a v cell; cell_tx_mw where they share the channel, 0 apart
    cell_tx_on_mw: F64
    # [C] the power of one resource element (mW), tx over 12 x PRBs: what cell selection and
    # event A3 rank cells by (RSRP, TS 38.215 5.1.1), not the carrier's total power
    cell_rs_mw: F64
    ul_noise_mw: F64  # [C]
    ul_int_ptr: I64  # [C+1] CSR: interferers j of receiving cell c
    ul_int_src: I64
    ul_int_mw: F64  # mean power from an active UE of cell j received at c (full band)
    cell_ul_pref_mw: F64  # [C] the mean full-band power of a cell's UEs (ul_int_mw's weights)
    # [C] the uplink interference at c from the other cells' background handsets
    # (ai_ran.traffic) at full background load, full band (mW): the kernel weighs it by the
    # background's PRB utilization now (background_uplink_coupling); zeros without background
    cell_bg_ul_mw: F64
    # its terms, CSR as ul_int_*: receiving cell c, interfering cell j (faults zero a dark j's)
    bg_ul_ptr: I64
    bg_ul_src: I64
    bg_ul_mw: F64
    # [carriers, carriers] the share of a UE's power on carrier u's uplink channel that falls in
    # carrier v's (row v): 1 on a shared channel, 0 between channels apart
    ul_channel_share: F64
    # devices
    dev_xy: F64  # [N, 2]
    dev_h: F64  # [N] height above ground (m)
    dev_o2i: O2I  # [N] building or car penetration (TR 38.901 7.4.3)
    dev_fleet: I64  # [N]
    dev_cell: I64  # [N] serving cell (strongest received power)
    dev_top_cell: I32  # [N, K] (32-bit: a row fits one cache line)
    dev_top_gain: F64  # [N, K] linear path gain incl. antenna and shadowing, top-1 = serving
    # [N, K] the same paths' gains at the uplink's frequency (an FDD carrier's uplink is on
    # another); in TDD this is the very array dev_top_gain
    dev_top_gain_ul: F64
    dev_resid_gain_mw: F64  # [N] DL power from all cells beyond the top K (mW, at full load)
    dev_dl_noise_mw: F64  # [N]
    dev_ue_tx_mw: F64  # [N] each UE's maximum output power (mW): its fleet's, or the radio's
    dev_ul_p_prb_mw: F64  # [N] open-loop power-control target per PRB (TS 38.213 7.1.1)
    # [N] each UE's P0 (dBm) and alpha of that power control: its fleet's, or the radio's
    dev_ul_p0_dbm: F64
    dev_ul_alpha: F64
    # [N] the uplink bits per second its services offer (rate_hz x the mean upload), each over
    # the air: its weight in the uplink interference of its cell's UEs (_uplink_coupling)
    dev_ul_offered_bps: F64
    dev_ul_buffer_bits: F64  # [N]
    dev_sr_offset_s: F64  # [N]
    # flows (device x service)
    flow_dev: I64
    flow_svc: I64
    flow_period_s: F64
    flow_poisson: NDArray[np.bool_]
    flow_jitter_s: F64
    flow_phase_s: F64
    # services
    service_names: list[str]
    svc_model: I64  # [V] index into queue models
    svc_deadline_s: F64
    svc_ul_bits: F64  # [V] an upload's mean size (bits; the truncated mean under a spread)
    # [V] how its uploads' sizes vary (airan.scenario.payload: FIXED, NORMAL, LOGNORMAL) and
    # [V, 4] the distribution in bits: its (a, b) before truncation (payload.shape, scaled)
    # and its bounds
    svc_ul_spread: I64
    svc_ul_par: F64
    svc_ul_quart: F64  # [V, 3] its sizes' quartiles (bits; where spread): a run's size bands
    svc_dl_bits: F64  # [V] an answer's mean size (bits; the truncated mean under a spread)
    svc_dl_spread: I64  # [V] and [V, 4]: how the answers' sizes vary, as svc_ul_spread/_par
    svc_dl_par: F64
    svc_dl_quart: F64  # [V, 3] as svc_ul_quart, of the answers
    svc_state_bits: F64  # [V] context a stateful service moves between sites (0: stateless)
    svc_ul_priority: I64  # [V] its uplink logical channel's priority (1 first; 16 the default)
    svc_compute_priority: I64  # [V] its priority in a compute site's queues (1 first; 16 default)
    svc_target: F64
    # queue models (a catalog model, or a service with its own service time)
    model_names: list[str]
    model_dist: I64  # [M]
    model_p1: F64
    model_p2: F64
    # compute sites and GPUs
    site_names: list[str]
    site_kind: list[str]
    site_node: I64  # [S]
    site_xy: F64  # [S, 2] position on the map (NaN where the site has none, e.g. a cloud)
    site_gpu_start: I64  # [S]
    site_n_gpus: I64  # [S]
    site_queue_limit: I64
    site_max_batch: I64  # [S, M] per site and model (batching, batching.models)
    site_max_wait_s: F64  # [S, M]
    site_instances: I64  # [S, M] instances of each model per GPU (batching.instances)
    site_shared: I64  # [S] 1 where a GPU may run batches at once (more than one instance)
    # [S] how many batches' fixed overheads a GPU runs at once at full speed (inf: any number;
    # batching.overhead_overlap)
    site_overhead_cap: F64
    svc_site_ok: NDArray[np.bool_]  # [V, S] whether a site serves a service (its services)
    gpu_site: I64  # [G]
    gpu_type: I64  # [G] index into gpu_type_names
    gpu_type_names: list[str]
    svc_time_s: F64  # [M, types, Bmax+1] batch service time
    # [M, types] the fixed per-batch overhead in it (s; a roofline model's overhead_ms, 0 for a
    # measured time): where batches share a GPU it takes none of the GPU's throughput
    svc_overhead_s: F64
    local_time_s: F64  # [fleets, V] on-device time for one request (inf if not allowed)
    # [V] the random factor of its on-device time: its model's, deterministic where a measured
    # service time gives way to the catalog model's roofline on the device
    svc_local_dist: I64
    fleet_local_queue_limit_s: F64  # [fleets] the longest wait for the device's accelerator
    # [fleets, V] the on-board engine that runs a service (a fleet's `engines`): -1 the
    # accelerator's main one, e >= 0 the e-th of its own (state.dev_eng_free's column)
    svc_engine: I64
    # [fleets, V] the draw above the idle power while a service computes on board (W: the
    # accelerator's TDP - idle, or its engine's active_w), and [fleets, V] the whole draw then
    local_active_w: F64
    local_power_w: F64
    eng_power_w: F64  # [fleets, E] each engine of its own's whole draw while it computes (W)
    fleet_ul_latest: I64  # [fleets] 1: ul_queue latest (a new request supersedes an unsent one)
    fleet_active_w: F64  # [fleets] power of the on-board accelerator while computing (TDP)
    fleet_idle_w: F64  # [fleets] its idle power
    ue_tx_circuit_w: float  # UE power while sending: circuits plus output power / PA efficiency
    ue_pa_efficiency: float
    ue_rx_w: float  # UE power while receiving
    # connected-mode DRX (radio.drx, or a fleet's own drx; airan.radio.drx), per device: the
    # long cycle, its on-duration and the inactivity timer (s; a cycle of 0: no DRX for that
    # device) and its cycle offset (s); each [N], or [1] where no fleet has DRX (drx_any 0)
    drx_any: int
    dev_drx_cycle_s: F64
    dev_drx_on_s: F64
    dev_drx_inact_s: F64
    dev_drx_offset_s: F64
    # the same cycle, on-duration and offset in whole slots (radio.drx.asleep_in_slot)
    dev_drx_cycle_slots: I64
    dev_drx_on_slots: I64
    dev_drx_offset_slots: I64
    # the short cycle (s; 0: none), how long it lasts after the inactivity timer (s:
    # drx-ShortCycleTimer's cycles) and the short cycle in whole slots (0: none)
    dev_drx_short_s: F64
    dev_drx_short_span_s: F64
    dev_drx_short_slots: I64
    ue_pdcch_w: float
    drx_sleep: F64  # [states, 3] power (W), transition energy (J), shortest sleep (s)
    fleet_names: list[str]
    fleet_services: list[list[int]]
    # a run's outcomes are counted per (fleet, service) pair, a group: [fleets, V] its index,
    # -1 where the fleet does not run the service; [groups] the fleet and service of each
    fleet_svc_group: I64
    # [fleets, V] the service's column among its fleet's in State.dev_outcomes (each device's
    # own counts, for the share of devices satisfied: TR 38.838); -1 where it does not run it
    fleet_svc_slot: I64
    group_fleet: I64
    group_svc: I64
    # transport
    node_names: list[str]
    link_cap_bps: F64  # [L] directed
    link_a: I64  # [L] from node
    link_b: I64  # [L] to node (links come in pairs: the reverse of link h is h ^ 1)
    link_delay_s: F64  # [L] propagation + extra + hop
    path_links: I32  # [nodes, S, MAX_HOPS] node -> site, -1 padded
    path_links_back: I32  # [S, nodes, MAX_HOPS] site -> node
    path_delay_s: F64  # [nodes, S] one-way propagation
    path_rate_bps: F64  # [nodes, S] the slowest link's capacity (inf: none)
    node_candidates: I64  # [nodes, k] sites a policy considers from each node
    node_site_distance_m: F64  # [nodes, S] straight-line distance (inf where unknown)
    transport_queue_limit_s: float
    packet_bits: float  # a message crosses the links in packets of this size (inf: whole)
    # radio parameters
    fixed_ul_bps: float
    fixed_dl_bps: float
    fixed_latency_s: float
    sr_period_s: float
    grant_delay_s: float
    # the SR period in slots (occasions on slot starts; those on a slot without uplink are not
    # sent), 0 where it is off the slot grid; and the grant delay in whole slots, -1 if it is not
    sr_period_slots: int
    grant_delay_slots: int
    bler: float  # each transport block fails with this probability per sending (kernel.harq_end)
    harq_max_retx: int
    # [pattern length] how many slots after a failed uplink block's slot it is sent again (nr;
    # -1: not a slot of the link), and the same on the downlink
    harq_ul_slots: I64
    harq_dl_slots: I64
    dl_sched_delay_s: float
    configured_grant: bool
    first_grant_bits: float  # the grant answering an SR; 0: it carries the whole buffer
    scheduler_pf: bool  # PF's fading and ranked grants (pf and mlwdf)
    # [services] M-LWDF's a_i = -ln(delta_i) / T_i (1/s), delta_i the share of requests allowed
    # past the deadline T_i (1 - target_hit_ratio); empty unless the scheduler is mlwdf
    svc_delay_weight: F64
    # [services] the schedulers' weight of a service's QoS flow between devices, 100 - its 5QI
    # priority level (radio.scheduling.qos_priority_weight); empty where every service a
    # fleet runs has one level (the weights would all be alike: the slot loops read none)
    svc_qos_weight: F64
    initial_load: float
    load_alpha: float
    min_sinr_lin: float
    device_radio: Any = None  # recomputes devices' links when they move (DeviceRadio)
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def ul_prefix(self) -> I64:
        """Uplink slots among the first i slots of the TDD pattern, i = 0..len."""
        return np.r_[0, np.cumsum((self.slot_type == 2) | (self.slot_type == 3))].astype(np.int64)

    @property
    def dl_prefix(self) -> I64:
        """Slots carrying downlink (D, S, or both) among the first i slots of the pattern."""
        return np.r_[0, np.cumsum(self.slot_type != 2)].astype(np.int64)

    @property
    def load_decay(self) -> F64:
        """(1 - alpha)**g for g slots of a direction, up to where it falls below 1e-6; then 0.

        The final 0 lets the kernel clip the gap instead of branching on it.
        """
        n = int(np.ceil(np.log(1e-6) / np.log1p(-min(self.load_alpha, 0.999999)))) + 1
        return np.r_[(1.0 - self.load_alpha) ** np.arange(max(n, 1)), 0.0]

    @property
    def ue_full_tx_w(self) -> F64:
        """[N] each UE's power while it sends at full output (W): circuits plus output / PA
        efficiency (the kernel's fixed-radio uplink books the same)."""
        return self.ue_tx_circuit_w + self.dev_ue_tx_mw * 1e-3 / self.ue_pa_efficiency

    @property
    def total_prb(self) -> float:
        return float(self.cell_prb.sum())

    @property
    def n_devices(self) -> int:
        return len(self.dev_fleet)

    @property
    def uplink_gains_apart(self) -> bool:
        """Whether the devices' uplink gains are an array of their own (an FDD uplink, on
        another frequency); in TDD ``dev_top_gain_ul`` is ``dev_top_gain`` itself."""
        return self.dev_top_gain_ul is not self.dev_top_gain

    def fleet_penetration(self, fleet: int) -> dict[str, Any]:
        """A fleet's building or car penetration for its summary: the model and its devices'
        mean loss (dB, at their cells' downlink frequency); empty for a fleet outdoors."""
        mine = self.dev_fleet == fleet
        codes = self.dev_o2i.code[mine]
        if not codes.size or not codes[0]:
            return {}
        fc = self.device_radio.cell_fc[self.dev_cell[mine]]
        loss = penetration.wall_loss_by_code_db(codes, fc) + self.dev_o2i.loss_db[mine]
        return {"penetration": penetration.MODELS[int(codes[0])],
                "penetration_db": float(loss.mean())}

    def out_of_coverage(self, direction: str = "either") -> NDArray[np.bool_]:
        """[N] devices without a usable link to their best cell even in an idle network (no
        interference): the uplink at full power on one PRB, or the downlink on every transmit
        antenna with one layer, below ``min_sinr_lin`` (the engine's radio_outage test, as the
        kernel computes it, without interference); ``direction`` "ul" or "dl": that link alone.
        Their uploads drop below it on the uplink, their answers below it on the downlink. Only
        the nr radio has a coverage; other radios: none."""
        if self.radio_model != 0 or not self.n_devices:
            return np.zeros(self.n_devices, dtype=bool)
        cell = self.dev_top_cell[:, 0]
        gain = self.dev_top_gain[:, 0]
        ul = (self.dev_top_gain_ul[:, 0] * self.cell_prb[cell] * self.cell_ul_rx_gain[cell]
              / self.ul_noise_mw[cell] * self.dev_ue_tx_mw)
        tx_mw = self.cell_tx_on_mw[self.cell_carrier[cell], cell]
        dl = tx_mw * gain / self.dev_dl_noise_mw * self.cell_tx_antennas[cell]
        if direction == "ul":
            return ul < self.min_sinr_lin  # type: ignore[no-any-return]
        if direction == "dl":
            return dl < self.min_sinr_lin  # type: ignore[no-any-return]
        return (ul < self.min_sinr_lin) | (dl < self.min_sinr_lin)  # type: ignore[no-any-return]


def ssb_noise_re_mw(numerology: int, ue_noise_figure_db: float) -> float:
    """The noise a UE hears on one resource element (mW): kT over one subcarrier, 15 x 2^mu kHz
    (TS 38.211 4.2), plus its noise figure; what an SSB's SINR is over."""
    return float(link.dbm_to_mw(nr.thermal_noise_dbm(15e3 * 2 ** numerology,
                                                     ue_noise_figure_db)))


def ssb_sinr(w: World, top: NDArray[np.integer], rx: F64, col: I64, resid: F64,
             noise_re_mw: float, rise: ArrayLike = 1.0) -> F64:
    """Each device's SINR on its serving cell's SSB (linear), as radio link monitoring hears it
    (TS 38.133 8.1): the serving cell's power per resource element (``rx[:, col]``, RSRP, TS
    38.215 5.1.1; ``top`` the cells listed, ``rx`` their RSRPs) over the other listed cells' of
    its carrier (their SSBs sent at the same instants in a synchronised network, at full power
    whatever the load), the cells beyond them (their full power, ``resid``, spread over the
    serving carrier's resource elements) and the noise of one subcarrier (``noise_re_mw``,
    :func:`ssb_noise_re_mw`), times ``rise`` (an interference burst on the cell serving it: the
    device's receiver hears it on every cell's SSB)."""
    rows = np.arange(len(top))
    serving = top[rows, col]
    own = rx[rows, col]
    same = w.cell_carrier[top] == w.cell_carrier[serving][:, None]
    others = np.where(same, rx, 0.0).sum(axis=1) - own
    per_re = resid / (12.0 * w.cell_prb[serving])
    return own / (others + per_re + noise_re_mw * np.asarray(rise))  # type: ignore[no-any-return]


def serving_ssb_sinr(w: World, ue_noise_figure_db: float) -> F64:
    """[N] each device's SINR on its serving cell's SSB (linear) at its links now
    (:func:`ssb_sinr`, the serving cell leading its list), the figure a moving device's radio
    link monitoring compares with Qout (``Motion._monitor``), for every device, the parked ones
    too (a drone maker's review: a fleet hovering at 300 m, most of it below Qout, was served as
    if in sync); NaN under the ideal and fixed radios."""
    n = w.n_devices
    if w.radio_model != 0 or not n:
        return np.full(n, np.nan)
    top = w.dev_top_cell.astype(np.int64)
    rx = w.dev_top_gain * w.cell_rs_mw[top]
    return ssb_sinr(w, top, rx, np.zeros(n, dtype=np.int64), w.dev_resid_gain_mw,
                    ssb_noise_re_mw(w.numerology, ue_noise_figure_db))


def below_qout_per_fleet(w: World, qout: float | None, ue_noise_figure_db: float,
                         ) -> I64 | None:
    """Per fleet, its devices whose serving cell's SSB SINR (:func:`serving_ssb_sinr`) is
    below ``qout`` (linear) now; None where nothing is monitored (``qout`` None: qout_db null,
    or a radio other than nr)."""
    if qout is None:
        return None
    below = serving_ssb_sinr(w, ue_noise_figure_db) < qout
    return np.bincount(w.dev_fleet, weights=below,  # type: ignore[no-any-return]
                       minlength=len(w.fleet_names)).astype(np.int64)


def slot_start_at_or_after(t_s: ArrayLike, slot_s: float) -> F64:
    """The start of the first slot at or after each time in ``t_s``, computed as the scheduler
    computes a slot's start (``k * slot_s``), so that a UE held until then gets that slot at any
    simulated time (a sum of seconds can land a rounding after it: from ~16,000 s on, a slot
    in ten was missed). Times within 1e-6 of a slot after its start count as at it."""
    return np.ceil(np.asarray(t_s, dtype=np.float64) / slot_s - 1e-6) * slot_s  # type: ignore[no-any-return]


def link_holds(state: Any) -> tuple[F64, F64]:
    """The engine state's per-device holds of a link, uplink (``ue_ul_elig``, which also
    waits for an SR's grant) and downlink (``ue_dl_hold``): until when each direction may
    carry the device's bits."""
    return state.ue_ul_elig, state.ue_dl_hold


#: the causes of a link interruption, by their code (kernel.HOLD_*; 0: none), as a run's
#: summary and trace name them
HOLD_CAUSES = ("none", "handover", "out_of_sync", "radio_link_failure", "cell_fault")


def hold_link(world: World, state: Any, devices: NDArray[np.int64], until_s: ArrayLike,
              cause: int, now_s: float) -> None:
    """Interrupt ``devices``' radio link from ``now_s`` until ``until_s`` (a handover's
    interruption, a radio link failure and the re-establishment after it): neither the uplink
    (``ue_ul_elig``) nor the downlink (``ue_dl_hold``) carries their bits before it. The answers
    wait for the new cell: forwarded to it in a handover (TS 38.300 9.2.3.2, the UE off its
    source cell before it is on the target), recovered by PDCP after a re-establishment (TS
    38.323 5.1.2). Under nr, until the start of the slot it ends in
    (:func:`slot_start_at_or_after`). What the fixed radio booked before stays booked. Each
    device notes the interruption and its ``cause`` (kernel.HOLD_*), for the requests it
    meets (:func:`note_hold`)."""
    end = slot_start_at_or_after(until_s, world.slot_s) if world.radio_model == 0 else until_s
    for held in link_holds(state):
        held[devices] = np.maximum(held[devices], end)
    note_hold(state, devices, now_s, end, cause)


def note_hold(state: Any, devices: NDArray[np.int64], now_s: float, until_s: ArrayLike,
              cause: int) -> None:
    """Note that ``devices``' links are interrupted from ``now_s`` to ``until_s`` for
    ``cause`` (kernel.HOLD_*) in their rings of recent interruptions (``dev_hold``; kept
    where the run may interrupt links): one that goes on an interruption of the same cause
    still under way (a silence held update after update) lengthens it; any other takes the
    ring's next entry, the oldest of the last ``HOLD_RING`` giving way."""
    if state.dev_hold.shape[0] == 0 or len(devices) == 0:
        return
    devices = np.asarray(devices, dtype=np.int64)
    end = np.broadcast_to(np.asarray(until_s, dtype=np.float64), devices.shape)
    n = state.dev_hold_n[devices]
    last = (n - 1) % K.HOLD_RING
    last_end = state.dev_hold[devices, 2 * last + 1]
    go_on = ((n > 0) & (state.dev_hold_cause[devices, last] == cause)
             & (last_end >= now_s - 1e-9))
    state.dev_hold[devices[go_on], 2 * last[go_on] + 1] = np.maximum(last_end[go_on],
                                                                     end[go_on])
    fresh = devices[~go_on]
    k = n[~go_on] % K.HOLD_RING
    state.dev_hold[fresh, 2 * k] = now_s
    state.dev_hold[fresh, 2 * k + 1] = end[~go_on]
    state.dev_hold_cause[fresh, k] = cause
    state.dev_hold_n[fresh] += 1


def cut_hold(state: Any, devices: NDArray[np.int64], until_s: ArrayLike, cause: int) -> None:
    """``devices``' newest interruption of ``cause`` ends by ``until_s``: its hold lifted early
    (in sync again, a handover out of a silence, a cell back on air), or another cause taking
    over (a silence ending in the link's failure). The newest of that cause, not the newest of
    all: a handover noted during a cell outage's silence left the outage's entry running to
    its full hold once the cell came back (a review of the diff)."""
    if state.dev_hold.shape[0] == 0 or len(devices) == 0:
        return
    devices = np.asarray(devices, dtype=np.int64)
    n = state.dev_hold_n[devices]
    end = np.broadcast_to(np.asarray(until_s, dtype=np.float64), devices.shape)
    done = n <= 0  # (no entry: nothing to cut)
    for back in range(1, K.HOLD_RING + 1):  # newest first
        k = (n - back) % K.HOLD_RING
        hit = ~done & (n - back >= 0) & (state.dev_hold_cause[devices, k] == cause)
        if hit.any():
            d, col = devices[hit], 2 * k[hit] + 1
            state.dev_hold[d, col] = np.minimum(state.dev_hold[d, col], end[hit])
        done |= hit
        if done.all():
            break


def sr_offsets_s(u: F64, slot_type: NDArray[np.int8], slot_s: float, period_s: float) -> F64:
    """Each device's SR offset (s) within the SR period, from its uniform draw in ``u``: the
    start of one of the slots :func:`airan.radio.nr.sr_offset_slots` allows, each equally
    likely; uniform over the period where the period is not a whole number of slots."""
    allowed = nr.sr_offset_slots(nr.slot_usable(slot_type)[0], slot_s, period_s)
    if allowed is None:
        return u * period_s
    pick = np.minimum((u * len(allowed)).astype(np.int64), len(allowed) - 1)
    return (allowed[pick] * slot_s).astype(np.float64)


def transport_paths(
    node_names: list[str],
    link_a: I64,
    link_b: I64,
    link_delay_s: F64,
    link_cap_bps: F64,
    site_node: I64,
    link_up: NDArray[np.bool_] | None = None,
    pipelined: bool = True,
) -> tuple[I32, I32, F64, F64]:
    """Shortest paths by delay from every node to every site and back, over the links that are
    up: (path_links [nodes, S, MAX_HOPS] node -> site, path_back [S, nodes, MAX_HOPS],
    path_delay_s [nodes, S], path_rate_bps [nodes, S]: its slowest link's capacity, so that
    bits / rate is a message's serialization with its packets pipelined over the links, less
    a packet's time on each faster link (12 us per hop at 1 Gbit/s); not ``pipelined``, whole
    messages: 1 /
    the sum over its links of 1 / capacity); unreachable: inf, no links."""
    n_nodes = len(node_names)
    n_sites = len(site_node)
    up_mask = np.ones(len(link_a), dtype=bool) if link_up is None else np.asarray(link_up)
    la = [int(x) for x in np.asarray(link_a)[up_mask]]
    lb = [int(x) for x in np.asarray(link_b)[up_mask]]
    ldel = np.asarray(link_delay_s, float)[up_mask]
    link_ids = np.flatnonzero(up_mask)  # graph edge k is link link_ids[k]
    ldel_full = np.asarray(link_delay_s, float)
    lcap_full = np.asarray(link_cap_bps, float)
    # link ids fit 32 bits: the two largest tables of a metro-scale world at half the size
    path_links = np.full((n_nodes, n_sites, MAX_HOPS), -1, dtype=np.int32)
    path_back = np.full((n_sites, n_nodes, MAX_HOPS), -1, dtype=np.int32)
    path_delay = np.full((n_nodes, n_sites), np.inf)
    path_bn = np.full((n_nodes, n_sites), np.inf)
    if n_sites:
        graph = (
            sparse.csr_matrix((np.asarray(ldel) + 1e-12, (la, lb)), shape=(n_nodes, n_nodes))
            if la
            else sparse.csr_matrix((n_nodes, n_nodes))
        )
        dist, pred = shortest_path(
            graph, directed=True, indices=np.unique(site_node), return_predecessors=True
        )
        site_nodes = np.unique(site_node)
        site_row = np.searchsorted(site_nodes, site_node).astype(np.int64)
        if la:
            # link id + 1 of each directed edge (u, v) on the graph, in CSR form
            lid = sparse.csr_matrix((link_ids + 1, (la, lb)), shape=(n_nodes, n_nodes))
            lid.sum_duplicates()
            lid.sort_indices()
            far = _walk_paths(
                np.ascontiguousarray(pred, dtype=np.int64), np.isfinite(dist), site_row,
                np.asarray(site_node, dtype=np.int64), lid.indptr.astype(np.int64),
                lid.indices.astype(np.int64), lid.data.astype(np.int64), ldel_full, lcap_full,
                path_links, path_back, path_delay, path_bn, pipelined)
            if far[0] >= 0:
                home = int(site_node[far[0]])
                raise InputError(
                    f"path from {node_names[home]} to {node_names[int(far[1])]} "
                    f"has more than {MAX_HOPS} hops",
                    field="transport.links",
                )
        else:  # no links: only the site's own node reaches it
            path_delay[site_node, np.arange(n_sites)] = 0.0

    return path_links, path_back, path_delay, path_bn


@njit(cache=True)
def _walk_paths(pred, reach, site_row, site_node, lid_ptr, lid_idx, lid_val, ldel, lcap,
                path_links, path_back, path_delay, path_bn, pipelined):  # pragma: no cover
    """Fill the path tables of :func:`transport_paths` from the shortest-path predecessors
    (``pred[r]``: from the site node of row r to every node). Returns (site, node) of the first
    path longer than MAX_HOPS (in site, then node order), or (-1, -1)."""
    n_sites = site_node.shape[0]
    n_nodes = pred.shape[1]
    hops = path_links.shape[2]
    walk = np.empty(hops, dtype=np.int64)
    dsum = np.zeros(8)  # per-hop delays, summed as numpy sums a row of 8 (pairwise)
    far = np.full(2, -1, dtype=np.int64)
    for si in range(n_sites):
        r = site_row[si]
        home = site_node[si]
        path_delay[home, si] = 0.0
        for n in range(n_nodes):
            if n == home or not reach[r, n]:
                continue
            # walk back from the node towards the site: walk[j] is the j-th link from the
            # node's end, in the downlink direction (site -> ... -> node)
            depth = 0
            cur = n
            while True:
                if depth >= hops:
                    far[0] = si
                    far[1] = n
                    return far
                u = pred[r, cur]
                lo = lid_ptr[u]  # the edge (u, cur): binary search in u's sorted row
                hi = lid_ptr[u + 1]
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if lid_idx[mid] < cur:
                        lo = mid + 1
                    else:
                        hi = mid
                walk[depth] = lid_val[lo] - 1 if lo < lid_ptr[u + 1] and lid_idx[lo] == cur \
                    else -1
                depth += 1
                cur = u
                if u == home:
                    break
            # the uplink, node-first (links come in (u, v), (v, u) pairs: the reverse of h is
            # h ^ 1); the downlink, site-first
            dsum[:] = 0.0
            slowest = np.inf  # packets pipeline over the links: the slowest one paces them
            per_bit = 0.0  # (whole messages: serialized on every link, store and forward)
            for j in range(hops):
                h = walk[j] if j < depth else -1
                up = h ^ 1 if h >= 0 else -1
                path_links[n, si, j] = up
                path_back[si, n, j] = walk[depth - 1 - j] if j < depth else -1
                if up >= 0:
                    dsum[j] = ldel[up]
                    slowest = min(slowest, lcap[up])
                    per_bit += 1.0 / lcap[up]
            path_delay[n, si] = (((dsum[0] + dsum[1]) + (dsum[2] + dsum[3]))
                                 + ((dsum[4] + dsum[5]) + (dsum[6] + dsum[7])))
            if pipelined:
                path_bn[n, si] = slowest
            else:
                path_bn[n, si] = 1.0 / per_bit if per_bit > 0.0 else np.inf
    return far


def fleet_drx(s: Scenario, fleet: int) -> Drx | None:
    """The DRX a fleet's UEs run (TS 38.321 5.7): its own ``drx``, none where it says
    ``off``, else ``radio.drx``; none on a radio other than nr (the gNB configures DRX per
    UE, TS 38.331 DRX-Config, so AMRs may stay awake while cameras sleep)."""
    if s.radio.model != "nr":
        return None
    own = s.fleets[fleet].drx
    if own == "off":
        return None
    return own if own is not None else s.radio.drx


def _drx_per_device(s: Scenario, dev_fleet: NDArray[np.int64], slot_type: NDArray[np.int8],
                    slots_per_ms: int) -> dict[str, Any]:
    """World's DRX fields, each device's of its fleet's setting (:func:`fleet_drx`): [N]
    arrays (a cycle of 0 where a fleet has none), or [1] where no fleet has DRX. The gNB
    spreads the on-durations of the UEs of one setting over its cycle (drx-StartOffset, whole
    ms, the i-th of them at i mod cycle_ms), each on one that holds a downlink slot."""
    cfgs = [fleet_drx(s, f) for f in range(len(s.fleets))]
    any_drx = any(c is not None for c in cfgs)
    n = len(dev_fleet) if any_drx else 1
    cols: dict[str, Any] = {
        "drx_any": int(any_drx),
        **{k: np.zeros(n) for k in ("dev_drx_cycle_s", "dev_drx_on_s", "dev_drx_inact_s",
                                    "dev_drx_offset_s", "dev_drx_short_s",
                                    "dev_drx_short_span_s")},
        **{k: np.zeros(n, dtype=np.int64) for k in ("dev_drx_on_slots",
                                                    "dev_drx_offset_slots",
                                                    "dev_drx_short_slots")},
        "dev_drx_cycle_slots": np.ones(n, dtype=np.int64),
    }
    if not cols["drx_any"]:
        return cols
    settings: dict[str, tuple[Drx, list[int]]] = {}  # each setting and its fleets
    for f, c in enumerate(cfgs):
        if c is not None:
            settings.setdefault(c.model_dump_json(), (c, []))[1].append(f)
    for c, fleets in settings.values():
        # the UEs of one setting spread over its cycle by their rank among them (one setting
        # for every fleet: device i at i mod cycle_ms)
        ids = np.flatnonzero(np.isin(dev_fleet, fleets))
        offset_ms = drx.offsets_with_downlink_ms(len(ids), c.cycle_ms, c.on_duration_ms,
                                                 slot_type, slots_per_ms)
        short_ms, short_n = ((c.short_cycle_ms, c.short_cycle_timer or 0)
                             if c.short_cycle_ms else (0, 0))
        for name, value in (("cycle_s", c.cycle_ms * 1e-3), ("on_s", c.on_duration_ms * 1e-3),
                            ("inact_s", c.inactivity_ms * 1e-3),
                            ("offset_s", offset_ms * 1e-3), ("short_s", short_ms * 1e-3),
                            ("short_span_s", short_ms * short_n * 1e-3),
                            ("cycle_slots", c.cycle_ms * slots_per_ms),
                            ("on_slots", c.on_duration_ms * slots_per_ms),
                            ("offset_slots", offset_ms * slots_per_ms),
                            ("short_slots", short_ms * slots_per_ms)):
            cols[f"dev_drx_{name}"][ids] = value
    return cols


def _uplink_coupling(dev_cell: I64, top_cell: NDArray[np.integer], top_gain_ul: F64,
                     p_full_mw: F64, ue_tx_mw: F64, carrier: I64,
                     ul_channel_share: F64, ul_offered_bps: F64) -> tuple[I64, I64, F64, F64]:
    """The uplink interference between cells, from where the devices are: a busy UE of cell j
    leaks P * g(ue -> c) into cell c (g at the uplink's frequency; mean over j's UEs of their
    full-band power P, ``p_full_mw``, each UE weighted by the uplink bits it offers,
    ``ul_offered_bps``: the UEs that send are the ones on j's PRBs, and a device that sends
    nothing never interferes; where none of j's UEs offers any, each counts alike); the kernel
    scales it by the power j's UEs put out in units of that mean (kernel.update_loads), as
    each of several power-limited UEs sharing j's PRBs sends its full power on fewer PRBs.
    Returns the CSR rows (receiving cell c: its interferers j and their mW) and each cell's
    mean full-band UE power, so weighted (mW; in a cell without UEs, the median UE's maximum
    power, ``ue_tx_mw`` per device).

    (Weighted by bits, not by the PRBs they take: a UE at its cell's edge, its SE lower, takes
    more PRBs per bit and interferes more than its weight says. A port's review: 300 sensors
    at 0.1 Hz, unweighted, diluted the mean coupling of the crane cameras that carried the
    uplink, and raised their SINR by 1.4-3.2 dB.)"""
    n_cells = len(carrier)
    n_dev = len(dev_cell)
    k_top = top_cell.shape[1] if top_cell.ndim == 2 else 0
    offered = np.bincount(dev_cell, weights=ul_offered_bps, minlength=n_cells) if n_dev \
        else np.zeros(n_cells)
    # each UE's weight: its bits' share of its cell's (alike where its cell's offer none)
    weight = np.where(offered[dev_cell] > 0.0, ul_offered_bps, 1.0) if n_dev else np.zeros(0)
    w_in_cell = np.bincount(dev_cell, weights=weight, minlength=n_cells) if n_dev \
        else np.zeros(n_cells)
    p_sum = np.bincount(dev_cell, weights=weight * p_full_mw, minlength=n_cells) if n_dev \
        else np.zeros(n_cells)
    empty_mw = float(np.median(ue_tx_mw)) if n_dev else PC3_MW
    cell_ul_pref_mw = np.where(w_in_cell > 0, p_sum / np.maximum(w_in_cell, 1e-300), empty_mw)
    if n_dev and k_top > 1:
        rows = top_cell[:, 1:].ravel()
        cols = np.repeat(dev_cell, k_top - 1)
        vals = ((weight * p_full_mw)[:, None] * top_gain_ul[:, 1:]).ravel() / w_in_cell[cols]
        if ul_channel_share.shape[0] > 1:  # a UE's power that falls in the receiving cell's channel
            vals = vals * ul_channel_share[carrier[rows], carrier[cols]]
        mat = sparse.csr_matrix((vals, (rows, cols)), shape=(n_cells, n_cells))
        mat.sum_duplicates()
        mat.setdiag(0.0)
        mat.eliminate_zeros()
        ul_ptr, ul_src, ul_val = mat.indptr.astype(np.int64), mat.indices.astype(np.int64), mat.data
    else:
        ul_ptr, ul_src, ul_val = np.zeros(n_cells + 1, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return ul_ptr, ul_src, np.asarray(ul_val, float), np.asarray(cell_ul_pref_mw, float)


#: the background handsets (ai_ran.traffic's uplink) on a polar grid of equal areas at each
#: mast, (rings, bearings) the first of these within BACKGROUND_HANDSETS / masts (the bearings
#: a multiple of 3 and of 6: a site's sectors alike), the last however many masts (metro's
#: 3,781: 181,488 handsets). At 12 x 48, city's cells' coupling is within 2.2% of a
#: 6,000-point mean at the 90th percentile, a lone site's sectors within 5%; at 4 x 12 a 37-site
#: layout's interior cells read 0.4 dB below 12 x 48 (a diff review: one ring of 48 read 1.0 dB
#: below, the radial spread matters more than the bearings)
BACKGROUND_GRIDS = ((12, 48), (8, 36), (6, 24), (4, 24), (4, 12))
BACKGROUND_RINGS, BACKGROUND_BEARINGS = BACKGROUND_GRIDS[0]
BACKGROUND_HANDSETS = 60_000
#: a background handset's height (m): TR 38.901's ground UE (Table 7.4.1-1's 1.5 m), outdoors
BACKGROUND_UE_HEIGHT_M = 1.5
#: the disc a mast's handsets cover: the area of a hexagonal cell of a layout whose sites stand
#: D apart, (sqrt 3 / 2) D^2, as a disc, radius D sqrt(sqrt 3 / (2 pi)) = 0.525 D, with D the
#: distance to the mast's second nearest (a small cell beside a macro, or a second carrier's
#: mast a metre off, does not shrink it: a diff review)
_DISC_PER_SPACING = math.sqrt(math.sqrt(3.0) / (2.0 * math.pi))
#: a lone mast's D (m): TR 38.901's inter-site distance of its environment (Table 7.2-1: UMa
#: 500 m, UMi 200 m, InH 20 m; Table 7.2-3: RMa 1732 m; InF's halls, Table 7.2-4, with BSs 20 m
#: apart in the small hall)
_LONE_MAST_SPACING_M = {"uma": 500.0, "umi": 200.0, "rma": 1732.0, "inh": 20.0}
_INF_LONE_MAST_SPACING_M = 20.0


def background_ue_points(site_xy: F64, environment: str) -> F64:
    """Where the background handsets stand, shape (masts x rings x bearings, 2), m: at each
    mast (sites at one position are one mast) a polar grid over the disc of radius 0.525 D
    (:data:`_DISC_PER_SPACING`; D the distance to its second nearest mast, the nearest where
    there are two, :data:`_LONE_MAST_SPACING_M` for one): ring i of n at R sqrt((i + 1/2) / n),
    each the same area, at the bearings (k + 1/2) 360 / m deg, (n, m) of
    :data:`BACKGROUND_GRIDS` by the masts' number. Fixed points, no draw: a run's other draws
    stay as they were."""
    masts = np.unique(np.round(np.asarray(site_xy, float).reshape(-1, 2), 2), axis=0)
    if not len(masts):
        return np.zeros((0, 2))
    if len(masts) > 1:
        from scipy.spatial import cKDTree

        k = min(3, len(masts))
        spacing = cKDTree(masts).query(masts, k=k)[0][:, k - 1]
    else:
        spacing = np.full(1, _LONE_MAST_SPACING_M.get(environment, _INF_LONE_MAST_SPACING_M))
    radius = _DISC_PER_SPACING * spacing
    rings, bearings = next((g for g in BACKGROUND_GRIDS
                            if g[0] * g[1] * len(masts) <= BACKGROUND_HANDSETS),
                           BACKGROUND_GRIDS[-1])
    r = np.repeat(np.sqrt((np.arange(rings) + 0.5) / rings), bearings)
    theta = np.tile((np.arange(bearings) + 0.5) * (2.0 * math.pi / bearings), rings)
    unit = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)  # [n, 2] in a unit disc
    return (masts[:, None, :] + radius[:, None, None] * unit[None, :, :]).reshape(-1, 2)


#: background couplings already computed, by everything they depend on (validate builds a
#: scenario's world for several seeds; the coupling is the same on each): a few at most
_BACKGROUND_CACHE: dict[str, tuple[F64, I64, I64, F64]] = {}


def _background_key(radio: DeviceRadio, *args: Any) -> str:
    """A digest of what :func:`background_uplink_coupling` reads: the radio's fields but its
    seed and shadowing (its mean links draw nothing), and the other arguments."""
    import dataclasses
    import hashlib

    h = hashlib.sha256()
    for f in dataclasses.fields(radio):
        if not f.init or f.name in ("seed", "shadowing"):
            continue
        v = getattr(radio, f.name)
        h.update(f.name.encode())
        h.update(np.ascontiguousarray(v).tobytes() if isinstance(v, np.ndarray)
                 else repr(v).encode())
    for v in args:
        h.update(np.ascontiguousarray(v).tobytes() if isinstance(v, np.ndarray)
                 else repr(v).encode())
    return h.hexdigest()


def background_uplink_coupling(radio: DeviceRadio, environment: str, cell_prb: F64,
                               carrier: I64, ul_channel_share: F64, numerology: int,
                               p0_dbm: float, alpha: float, ue_tx_mw: float
                               ) -> tuple[F64, I64, I64, F64]:
    """The uplink interference of the background traffic (``ai_ran.traffic``) between cells:
    ground handsets at :func:`background_ue_points`, each on the strongest cell of each carrier
    it hears (a carrier's cells all carry background), their links the mean over the LOS state
    without shadowing (:meth:`DeviceRadio.mean_links`: a population, not a few draws; the same
    on every seed), under the radio's open-loop power control (TS 38.213 7.1.1, the radio's P0
    and alpha, its UE power), coupled into the other cells as :func:`_uplink_coupling` couples
    the devices (each handset alike). Returns each cell's sum over its interferers at full
    background load (mW, full band) and the terms as CSR rows (ptr, src, mW). Kept for the
    next world of the same cells and radio (:data:`_BACKGROUND_CACHE`).

    (A drone operator's review: the background's interference was weighed by the coupling of
    the devices each cell serves, so 120 drones at 100 m sending 0.1 KB at 1 Hz took 4.3 dB
    off the ground handsets' uplink SINR under background traffic, and cells without devices
    sent none. Simplifications: the handsets stand outdoors, none inside a building, and
    their power control and coupling take the mean link, where shadowing would scatter
    both.)"""
    key = _background_key(radio, environment, cell_prb, carrier, ul_channel_share, numerology,
                          p0_dbm, alpha, ue_tx_mw, BACKGROUND_GRIDS, BACKGROUND_HANDSETS,
                          BACKGROUND_UE_HEIGHT_M)
    if key not in _BACKGROUND_CACHE:
        if len(_BACKGROUND_CACHE) >= 4:
            _BACKGROUND_CACHE.pop(next(iter(_BACKGROUND_CACHE)))
        _BACKGROUND_CACHE[key] = _background_uplink_coupling(
            radio, environment, cell_prb, carrier, ul_channel_share, numerology, p0_dbm, alpha,
            ue_tx_mw)
    per_cell, ptr, src, mw = _BACKGROUND_CACHE[key]
    return per_cell.copy(), ptr.copy(), src.copy(), mw.copy()  # (faults write a world's own)


def _background_uplink_coupling(radio: DeviceRadio, environment: str, cell_prb: F64,
                                carrier: I64, ul_channel_share: F64, numerology: int,
                                p0_dbm: float, alpha: float, ue_tx_mw: float
                                ) -> tuple[F64, I64, I64, F64]:
    """:func:`background_uplink_coupling`, computed."""
    n_cells = len(carrier)
    xy = background_ue_points(radio.site_xy, environment)
    if not len(xy) or not n_cells:
        return (np.zeros(n_cells), np.zeros(n_cells + 1, np.int64), np.zeros(0, np.int64),
                np.zeros(0))
    h = np.full(len(xy), BACKGROUND_UE_HEIGHT_M)
    top_cell, top_gain, top_gain_ul = radio.mean_links(xy, h)
    rows = np.arange(len(xy))
    rank = top_gain * radio.cell_rs_mw[top_cell]  # RSRP: which of a carrier's cells serves
    cells_, tops, gains, gains_ul = [], [], [], []
    for v in np.unique(carrier):
        on_v = np.where(carrier[top_cell] == v, rank, -1.0)
        best = np.argmax(on_v, axis=1)
        hears = on_v[rows, best] > 0.0
        # the handset's row with its serving cell of carrier v first (swapped with column 0)
        order = np.tile(np.arange(top_cell.shape[1]), (len(xy), 1))
        order[rows, best] = 0
        order[:, 0] = best
        cells_.append(top_cell[rows, best][hears])
        tops.append(np.take_along_axis(top_cell, order, axis=1)[hears])
        gains.append(np.take_along_axis(top_gain, order, axis=1)[hears])
        gains_ul.append(np.take_along_axis(top_gain_ul, order, axis=1)[hears])
    serving = np.concatenate(cells_)
    top = np.concatenate(tops)
    g = np.concatenate(gains)
    g_ul = np.concatenate(gains_ul)
    path_loss_lin = 1.0 / np.maximum(g[:, 0], 1e-30)
    p_prb = link.pusch_prb_power_mw(p0_dbm, numerology, path_loss_lin, alpha)
    p_full = np.minimum(ue_tx_mw, p_prb * cell_prb[serving])
    ptr, src, mw, _ = _uplink_coupling(serving, top, g_ul, p_full, np.full(len(serving),
                                       ue_tx_mw), carrier, ul_channel_share,
                                       np.zeros(len(serving)))
    per_cell = np.bincount(np.repeat(np.arange(n_cells), np.diff(ptr)), weights=mw,
                           minlength=n_cells)
    return np.asarray(per_cell, float), ptr, src, mw


def uplink_coupling(w: World) -> tuple[I64, I64, F64, F64]:
    """:func:`_uplink_coupling` from where the world's devices are now (their serving cells,
    gains and power control), for ``ul_int_ptr``, ``ul_int_src``, ``ul_int_mw`` and
    ``cell_ul_pref_mw``."""
    dev_cell = np.asarray(w.dev_cell, dtype=np.int64)
    p_full_mw = np.minimum(w.dev_ue_tx_mw, w.dev_ul_p_prb_mw * w.cell_prb[dev_cell])
    return _uplink_coupling(dev_cell, w.dev_top_cell, w.dev_top_gain_ul, p_full_mw,
                            w.dev_ue_tx_mw, w.cell_carrier, w.ul_channel_share,
                            w.dev_ul_offered_bps)


# the columns of a device's row of layout draws (:func:`layout_draws`)
DRAW_XY = slice(0, 2)  # its position in its fleet's area
DRAW_O2I = slice(2, 5)  # its own part of a building's or a car's loss (penetration)
LAYOUT_DRAWS = 5
_LAYOUT_STREAM = 0x646576  # "dev"


def layout_seed(s: Scenario, seed: int) -> int:
    """The seed of a run's layout: the scenario's ``layout_seed``, else the run's ``seed``."""
    return int(seed if s.layout_seed is None else s.layout_seed)


def layout_draws(seed: int, fleet_index: int, count: int) -> F64:
    """The uniform draws that place a fleet's devices, shape (count, LAYOUT_DRAWS): row i is
    device i's, from a stream of the seed and the fleet's index alone. So a fleet one device
    larger keeps every other device where it was, behind the same walls, and another fleet's
    count moves none of them: counts compared (a ``--fleet-scale``, max-fleet's bisection)
    differ in load, not in layout (common random numbers). Line of sight and shadowing follow
    position (spatially consistent maps). (A random-waypoint or Manhattan fleet's mobility
    model draws its start positions and legs device by device too, :mod:`airan.mobility.draws`.)
    Arrival phases and SR offsets are drawn in flow order from streams of their own, so a
    fleet's count shifts those of the fleets after it."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _LAYOUT_STREAM, fleet_index]))
    return rng.random((count, LAYOUT_DRAWS))


def service_engines(s: Scenario) -> NDArray[np.int64]:
    """[fleets, V] the on-board engine of each fleet's services: -1 its accelerator's main
    one, e the e-th engine of its own (``fleets[].engines``, in the order given)."""
    names = [v.name for v in s.services]
    out = np.full((len(s.fleets), len(names)), -1, dtype=np.int64)
    for fi, f in enumerate(s.fleets):
        for e, spec in enumerate(f.engines.values()):
            for svc in spec.services:
                out[fi, names.index(svc)] = e
    return out


def _or_default(values: NDArray[np.float64] | None, default: float,
                n: int) -> NDArray[np.float64]:
    """A site list's column (NaN where its cell was empty; None: no column), the default
    where it gives nothing."""
    if values is None:
        return np.full(n, default)
    return np.where(np.isnan(values), default, values)


def _spread_par(kb: float, spread: PayloadSpread | None) -> list[float]:
    """A size distribution in bits (``World.svc_ul_par``, ``svc_dl_par``) about ``kb``: its
    parameters before truncation and its bounds; the fixed size, unbounded, without one."""
    bits = kb * 8e3
    if spread is None:
        return [bits, 0.0, bits, bits]
    kind = payload.KINDS[spread.dist]
    a, b = payload.shape(kind, spread.cv)
    lo, hi = spread.ratios()
    if kind == payload.LOGNORMAL:
        return [a + math.log(bits), b, lo * bits, hi * bits]
    return [a * bits, b * bits, lo * bits, hi * bits]


def _size_arrays(services: list[Service], way: str) -> dict[str, Any]:
    """How each service's uploads (``way`` "ul") or answers ("dl") vary in size, as the World
    holds it: ``svc_<way>_spread`` [V] (payload.FIXED, NORMAL, LOGNORMAL), ``svc_<way>_par``
    [V, 4] (:func:`_spread_par`) and ``svc_<way>_quart`` [V, 3] (:func:`_quartiles_bits`)."""
    given = [(getattr(v, f"{way}_kb"), getattr(v, f"{way}_kb_spread")) for v in services]
    return {f"svc_{way}_spread": np.array([payload.FIXED if sp is None else payload.KINDS[sp.dist]
                                           for _, sp in given], dtype=np.int64),
            f"svc_{way}_par": np.array([_spread_par(kb, sp) for kb, sp in given]).reshape(-1, 4),
            f"svc_{way}_quart": np.array([_quartiles_bits(kb, sp)
                                          for kb, sp in given]).reshape(-1, 3)}


def _quartiles_bits(kb: float, spread: PayloadSpread | None) -> list[float]:
    """The quartiles of the sizes sent about ``kb`` (bits; ``World.svc_ul_quart``): inf where
    every one is ``kb`` (one band)."""
    if spread is None:
        return [math.inf] * 3
    return [x * kb * 8e3 for x in spread.quartiles()]


def build_world(s: Scenario, seed: int) -> World:
    """Turn a validated scenario into arrays. Random draws (positions, LOS, shadowing, phases)
    come from streams derived from ``seed``; each fleet's layout from its own
    (:func:`layout_draws`), the layout's (positions, LOS, shadowing, O2I) from
    ``s.layout_seed`` where it is set (:func:`layout_seed`)."""
    root = np.random.SeedSequence(seed)
    placed = layout_seed(s, seed)
    _rng_pos, _rng_los, _rng_sf, rng_flow, rng_sr, _rng_o2i = (
        np.random.default_rng(x) for x in root.spawn(6))
    gpus = s.gpu_catalog()
    models = s.model_catalog()

    # ---- cell sites and sectors -------------------------------------------------------------
    sites: list[tuple[str, float, float, float, int, float, Carrier]] = []
    rotation_deg: dict[str, float] = {}  # a listed site's sectors turned (azimuth_deg)
    for c in s.cell_sites:
        sites.append(
            (
                c.name,
                c.position_m[0],
                c.position_m[1],
                c.height_m,
                c.sectors,
                c.downtilt_deg,
                c.carrier or s.carrier,
            )
        )
        if c.azimuth_deg:
            rotation_deg[c.name] = float(c.azimuth_deg)
    if s.cell_sites_file is not None:  # 3-sector sites at the environment's TR 38.901 height
        imported = imported_sites(s.cell_sites_file)  # (or the file's own height, tilt, bearing)
        n_imp = len(imported.names)
        heights = _or_default(imported.height_m, BS_HEIGHT_M[s.radio.environment], n_imp)
        tilts = _or_default(imported.downtilt_deg, 12.0, n_imp)
        bearings = _or_default(imported.azimuth_deg, math.nan, n_imp)
        for i, (name, (x, y)) in enumerate(zip(imported.names, imported.xy_m, strict=True)):
            sites.append((name, float(x), float(y), float(heights[i]), 3, float(tilts[i]),
                          s.carrier))
            if math.isfinite(bearings[i]):  # the first sector, at 30 deg counter-clockwise
                rotation_deg[name] = 60.0 - float(bearings[i])  # from east, turned to it
    if s.cell_layout is not None:
        lay = s.cell_layout
        xy = geometry.hex_grid(lay.hex.rings, lay.hex.isd_m) + np.asarray(lay.hex.center_m)
        for i, (x, y) in enumerate(xy):
            sites.append(
                (
                    f"{lay.name_prefix}{i}",
                    float(x),
                    float(y),
                    lay.height_m,
                    lay.sectors,
                    lay.downtilt_deg,
                    s.carrier,
                )
            )
    # one numerology and TDD pattern for all (checked in airan.scenario.load)
    carriers = {(c.numerology, c.tdd_pattern) for *_, c in sites}
    mu, pattern = next(iter(carriers))
    slot_s = nr.slot_duration_s(mu)
    slot_type = nr.slot_types(pattern or None)
    harq_ul_slots, harq_dl_slots = nr.harq_retx_slots(*nr.slot_usable(slot_type), slot_s, mu)

    node_names = [x[0] for x in sites] + [n.name for n in s.nodes]
    node_index = {n: i for i, n in enumerate(node_names)}
    node_xy = np.full((len(node_names), 2), np.nan)
    for i, (_, x, y, *_rest) in enumerate(sites):
        node_xy[i] = (x, y)
    for j, n in enumerate(s.nodes):
        if n.position_m is not None:
            node_xy[len(sites) + j] = n.position_m

    cell_names: list[str] = []
    cell_node, cell_xy, cell_h, cell_az, cell_tilt, cell_sect = [], [], [], [], [], []
    cell_prb, cell_bpp_dl, cell_bpp_ul, cell_tx_mw, cell_bw_hz, cell_fc = [], [], [], [], [], []
    cell_ul_fc: list[float] = []  # the uplink's centre (GHz): FDD's at the band's duplex distance
    cell_ul_gain: list[float] = []
    cell_ul_div: list[int] = []
    cell_dl_layers: list[int] = []
    cell_channel_mhz: list[float] = []
    channels: list[tuple[tuple[float, float], tuple[float, float]]] = []  # (DL, UL) MHz
    cell_carrier: list[int] = []
    for i, (name, x, y, h, sectors, tilt, car) in enumerate(sites):
        channel = bands.channel_mhz(car.fc_ghz, car.bandwidth_mhz, car.band,
                                    fdd=car.tdd_pattern is None)
        if channel not in channels:
            channels.append(channel)
        ul_fc = car.fc_ghz if channel[1] == channel[0] else (channel[1][0] + channel[1][1]) / 2e3
        fr2 = nr.is_fr2(car.fc_ghz)
        prb = nr.n_prb(car.bandwidth_mhz, car.numerology, fr2)  # validated by scenario.load
        oh_dl, oh_ul = nr.overheads(car.fc_ghz)
        turn = rotation_deg.get(name, 0.0)
        azs = tuple(a + turn for a in geometry.SECTOR_AZIMUTHS_DEG) if sectors == 3 else (0.0,)
        for k, az in enumerate(azs):
            cell_names.append(f"{name}/{k}" if sectors == 3 else name)
            cell_node.append(i)
            cell_xy.append((x, y))
            cell_h.append(h)
            cell_az.append(az)
            cell_tilt.append(tilt)
            cell_sect.append(sectors == 3)
            cell_prb.append(prb)
            cell_bpp_dl.append(
                float(nr.bits_per_prb_per_slot(1.0, oh_dl, 1))  # per layer
            )
            cell_bpp_ul.append(
                float(nr.bits_per_prb_per_slot(1.0, oh_ul, car.ul_layers))
            )
            cell_ul_gain.append(link.ul_combining_gain(s.radio.gnb_rx_antennas, car.ul_layers))
            cell_ul_div.append(s.radio.gnb_rx_antennas - car.ul_layers + 1)
            cell_dl_layers.append(car.dl_layers)
            cell_tx_mw.append(float(link.dbm_to_mw(car.power_dbm(s.radio.environment))))
            cell_bw_hz.append(prb * 12 * nr.SCS_KHZ[car.numerology] * 1e3)
            cell_fc.append(car.fc_ghz)
            cell_ul_fc.append(ul_fc)
            cell_channel_mhz.append(car.bandwidth_mhz)
            cell_carrier.append(channels.index(channel))
    n_cells = len(cell_names)
    cell_xy_a = np.asarray(cell_xy, dtype=float)
    # interference between cells counts the power that falls in the victim's channel
    # (bands.power_in_channel): all of it on a shared channel, none between channels apart
    carrier_a = np.asarray(cell_carrier, dtype=np.int64)
    share_dl = np.array([[bands.power_in_channel(v[0], s_[0]) for s_ in channels]
                         for v in channels])
    share_ul = np.array([[bands.power_in_channel(v[1], s_[1]) for s_ in channels]
                         for v in channels])
    # (C order: the kernel holds this very array, which faults zero for a cell off the air)
    cell_tx_on = np.ascontiguousarray(share_dl[:, carrier_a]
                                      * np.asarray(cell_tx_mw, float)[None, :])

    # ---- devices ------------------------------------------------------------------------------
    fleet_names = [f.name for f in s.fleets]
    svc_index = {v.name: i for i, v in enumerate(s.services)}
    lo = cell_xy_a.min(axis=0)
    hi = cell_xy_a.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 50.0)
    dev_xy_parts, dev_fleet_parts, dev_h_parts, dev_buf_parts = [], [], [], []
    fleet_u = [layout_draws(placed, fi, int(f.count)) for fi, f in enumerate(s.fleets)]
    for fi, f in enumerate(s.fleets):
        count = int(f.count)
        area = f.area
        u = fleet_u[fi][:, DRAW_XY]
        if area is None:
            xy = (lo - pad) + u * ((hi + pad) - (lo - pad))
        elif isinstance(area, PointsArea):  # device i at point i mod n (no draw)
            points = np.asarray(area.positions_m, dtype=float)
            xy = points[np.arange(count) % len(points)]
        elif isinstance(area, DiscArea):
            rad = area.radius_m * np.sqrt(u[:, 0])
            th = 2.0 * np.pi * u[:, 1]
            xy = np.asarray(area.center_m) + np.c_[rad * np.cos(th), rad * np.sin(th)]
        else:
            (x0, x1), (y0, y1) = area.x_m, area.y_m
            xy = np.c_[x0 + u[:, 0] * (x1 - x0), y0 + u[:, 1] * (y1 - y0)]
        dev_xy_parts.append(xy)
        dev_fleet_parts.append(np.full(count, fi, dtype=np.int64))
        at_points = getattr(area, "heights_m", None)  # (a fleet at points, one per point)
        dev_h_parts.append(np.full(count, f.height_m) if at_points is None else
                           np.asarray(at_points, dtype=float)[np.arange(count) % len(at_points)])
        dev_buf_parts.append(np.full(count, f.ul_buffer_kb * 8e3))
    dev_xy = np.concatenate(dev_xy_parts) if dev_xy_parts else np.zeros((0, 2))
    dev_fleet = np.concatenate(dev_fleet_parts).astype(np.int64)
    dev_h = np.concatenate(dev_h_parts)
    n_dev = len(dev_fleet)
    # inside a building or a car: each device's model and its own part of the loss
    fleet_o2i = np.array([penetration.MODELS.index(f.penetration) for f in s.fleets]
                         + [0], dtype=np.int8)
    o2i_code = fleet_o2i[dev_fleet]
    dev_u = np.concatenate(fleet_u) if fleet_u else np.zeros((0, LAYOUT_DRAWS))
    fleet_extra_db = np.array([f.extra_loss_db - f.antenna_gain_dbi for f in s.fleets] + [0.0])
    dev_o2i = O2I(o2i_code, penetration.device_loss_db(
        o2i_code, dev_u[:, DRAW_O2I],
        penetration.RMA_INDOOR_DISTANCE_M if s.radio.environment == "rma"
        else penetration.INDOOR_DISTANCE_M)
                  if o2i_code.any() else np.zeros(n_dev), fleet_extra_db[dev_fleet])

    # ---- radio: path gains to the cells of the nearest sites, keep the strongest K ------------
    site_xy = np.asarray([(x[1], x[2]) for x in sites], dtype=float)
    device_radio = DeviceRadio(
        site_xy=site_xy, cell_node=np.asarray(cell_node, dtype=np.int64), cell_xy=cell_xy_a,
        cell_h=np.asarray(cell_h, float), cell_az=np.asarray(cell_az, float),
        cell_tilt=np.asarray(cell_tilt, float), cell_sect=np.asarray(cell_sect, bool),
        cell_fc=np.asarray(cell_fc, float),
        cell_ul_fc=np.asarray(cell_ul_fc, float),
        cell_rs_mw=np.asarray(cell_tx_mw, float) / (12.0 * np.asarray(cell_prb, float)),
        cell_tx_mw=np.asarray(cell_tx_mw, float),
        cell_carrier=carrier_a,
        # (its own copy: a device's residual from the cells beyond its strongest keeps the
        # cells a fault takes off the air, which the world's array zeroes while they are off)
        cell_tx_on_mw=cell_tx_on.copy(),
        environment=s.radio.environment, nr=s.radio.model == "nr",
        shadowing=s.radio.shadowing, seed=int(placed), los_mode=s.radio.los,
        clutter_density=s.radio.clutter_density, clutter_height_m=s.radio.clutter_height_m,
        vertical_elements=s.radio.gnb_vertical_elements,
        element_spacing_wavelengths=s.radio.gnb_element_spacing_wavelengths,
    )
    # (gains at the uplink's frequency: an FDD uplink's own path loss; in TDD the same array)
    top_cell, top_gain, top_gain_ul, resid = device_radio.links(dev_xy, dev_h, dev_o2i)
    dev_cell = top_cell[:, 0].astype(np.int64) if n_dev else np.zeros(0, dtype=np.int64)

    bw = np.asarray(cell_bw_hz)
    dl_noise = (
        link.dbm_to_mw(nr.thermal_noise_dbm(bw[dev_cell], s.radio.ue_noise_figure_db))
        if n_dev
        else np.zeros(0)
    )
    ul_noise = link.dbm_to_mw(nr.thermal_noise_dbm(bw, s.radio.gnb_noise_figure_db))
    # each UE's maximum output power: its fleet's power class, else the radio's
    fleet_ue_dbm = np.array([s.radio.ue_tx_power_dbm if f.ue_tx_power_dbm is None
                             else f.ue_tx_power_dbm for f in s.fleets] + [0.0])
    ue_tx_mw = np.asarray(link.dbm_to_mw(fleet_ue_dbm), float)[dev_fleet]

    # open-loop power control, TS 38.213 7.1.1: P0 + 10 log10(2^mu) + alpha * PL per PRB,
    # capped by P_max overall; PL is the UE's estimate from the downlink's reference signals
    # (7.1.1: "a downlink pathloss estimate"), so on the downlink's frequency in FDD too
    path_loss_lin = 1.0 / np.maximum(top_gain[:, 0], 1e-30) if n_dev else np.zeros(0)
    # (each fleet's own P0 and alpha, else the radio's: TR 36.777's aerial UEs' mitigation)
    dev_p0_dbm = np.asarray([s.radio.ul_p0_dbm if f.ul_p0_dbm is None else f.ul_p0_dbm
                             for f in s.fleets] + [0.0], float)[dev_fleet]
    dev_alpha = np.asarray([s.radio.ul_alpha if f.ul_alpha is None else f.ul_alpha
                            for f in s.fleets] + [0.0], float)[dev_fleet]
    p_prb_mw = link.pusch_prb_power_mw(dev_p0_dbm, mu, path_loss_lin, dev_alpha)
    prb_dev = np.asarray(cell_prb, float)[dev_cell] if n_dev else np.zeros(0)
    p_full_mw = np.minimum(ue_tx_mw, p_prb_mw * prb_dev)  # power when the UE fills the carrier
    # each device's uplink bits per second, every request over the air (its services' rate_hz
    # x their mean upload): its weight in the interference its cell's UEs make
    svc_ul_bps = {v.name: v.rate_hz * v.ul_mean_kb * 8e3 for v in s.services}
    fleet_ul_bps = np.array([sum(svc_ul_bps[n] for n in f.services) for f in s.fleets] + [0.0])
    ul_offered_bps = np.asarray(fleet_ul_bps[dev_fleet], float)
    ul_ptr, ul_src, ul_val, cell_ul_pref_mw = _uplink_coupling(
        dev_cell, top_cell, top_gain_ul, p_full_mw, ue_tx_mw, carrier_a, share_ul,
        ul_offered_bps)
    n_cells_all = len(cell_prb)
    if s.radio.model == "nr" and s.ai_ran.traffic is not None:
        bg_ul = background_uplink_coupling(
            device_radio, s.radio.environment, np.asarray(cell_prb, float), carrier_a, share_ul,
            int(mu), s.radio.ul_p0_dbm, s.radio.ul_alpha,
            float(link.dbm_to_mw(s.radio.ue_tx_power_dbm)))
    else:
        bg_ul = (np.zeros(n_cells_all), np.zeros(n_cells_all + 1, np.int64),
                 np.zeros(0, np.int64), np.zeros(0))

    # ---- services, models and flows -------------------------------------------------------------
    model_keys: list[tuple[str, str | None]] = []
    svc_model = []
    for v in s.services:
        key = (v.model, v.name if v.service_time is not None else None)
        if key not in model_keys:
            model_keys.append(key)
        svc_model.append(model_keys.index(key))
    # a service with a measured service time gets its own copy of the model (a queue of its own)
    model_specs = []
    for mname, svc in model_keys:
        spec = models[mname]
        if svc is not None:
            st = next(x.service_time for x in s.services if x.name == svc)
            assert st is not None
            spec = spec.model_copy(update={"service_time_ms": st.as_catalog()})
        model_specs.append(spec)
    dists = [service_time_distribution(m) for m in model_specs]

    def _carried(key: tuple[str, str | None], gpu: GpuSpec, b_max: int) -> NDArray[np.float64]:
        """The factor that carries a service's time measured on ``service_time.measured_on`` to
        ``gpu``, per batch size (ones where no such GPU is named)."""
        st = next(x.service_time for x in s.services if x.name == key[1]) if key[1] else None
        if st is None or st.measured_on is None:
            return np.ones(b_max + 1)
        return roofline_ratio(models[key[0]], gpu, gpus[st.measured_on], b_max)
    model_dist = [d[0] for d in dists]
    model_p1 = [d[1] for d in dists]
    model_p2 = [d[2] for d in dists]

    fl_dev, fl_svc = [], []
    fleet_services = []
    for fi, f in enumerate(s.fleets):
        ids = np.nonzero(dev_fleet == fi)[0]
        svcs = [svc_index[n] for n in f.services]
        fleet_services.append(svcs)
        for vi in svcs:
            fl_dev.append(ids)
            fl_svc.append(np.full(len(ids), vi, dtype=np.int64))
    fleet_svc_group = np.full((len(s.fleets), len(s.services)), -1, np.int64)
    fleet_svc_slot = np.full((len(s.fleets), len(s.services)), -1, np.int64)
    groups: list[tuple[int, int]] = []
    for fi, svcs in enumerate(fleet_services):
        for vi in svcs:
            if fleet_svc_group[fi, vi] < 0:
                fleet_svc_slot[fi, vi] = int((fleet_svc_group[fi] >= 0).sum())
                fleet_svc_group[fi, vi] = len(groups)
                groups.append((fi, vi))
    flow_dev = np.concatenate(fl_dev).astype(np.int64) if fl_dev else np.zeros(0, np.int64)
    flow_svc = np.concatenate(fl_svc).astype(np.int64) if fl_svc else np.zeros(0, np.int64)
    rate = np.array([v.rate_hz for v in s.services])[flow_svc]
    period = 1.0 / rate
    poisson = np.array([v.arrivals == "poisson" for v in s.services])[flow_svc]
    jitter = np.array([v.jitter_ms * 1e-3 for v in s.services])[flow_svc]
    phase = rng_flow.uniform(size=len(flow_dev)) * period

    # ---- compute sites ----------------------------------------------------------------------
    csites = list(s.compute_sites)
    if s.generated_compute_sites is not None:
        g = s.generated_compute_sites
        from airan.scenario.schema import ComputeSite

        for i in s.generated_host_indices():
            csites.append(
                ComputeSite(
                    name=f"gpu-{sites[i][0]}",
                    at=sites[i][0],
                    kind="cell",
                    gpus=g.gpus,
                    queue_limit=g.queue_limit,
                    batching=g.batching,
                )
            )
    gpu_type_names = sorted(
        {gg.type for c in csites for gg in c.gpus}
        | {f.accelerator for f in s.fleets if f.accelerator != "none"}
        | {"DeviceCPU"}
    )
    type_index = {n: i for i, n in enumerate(gpu_type_names)}
    # per site and model: (max_batch, max_wait_ms)
    batching = [[c.batching.for_model(mname) for mname, _ in model_keys] for c in csites]
    instances = np.array([[c.batching.instances_for(mname) for mname, _ in model_keys]
                          for c in csites], np.int64).reshape(len(csites), len(model_keys))
    b_max = max([b for row in batching for b, _ in row] + [1])
    svc_time = np.zeros((len(model_keys), len(gpu_type_names), b_max + 1))
    svc_overhead = np.zeros((len(model_keys), len(gpu_type_names)))
    for mi, spec in enumerate(model_specs):
        for ti, tname in enumerate(gpu_type_names):
            svc_time[mi, ti] = service_time_table_s(spec, gpus[tname], b_max) * _carried(
                model_keys[mi], gpus[tname], b_max)
            svc_overhead[mi, ti] = fixed_overhead_s(spec, gpus[tname])
    gpu_site: list[int] = []
    gpu_type: list[int] = []
    site_gpu_start: list[int] = []
    site_n: list[int] = []
    # ai_ran.mode mig: the GPUs of a cell-kind site at a cell site keep AI on a MIG instance of
    # their own, a GPU type of its own (the catalog name, the instance's peaks and bandwidth):
    # its batch times are the roofline's on that instance, fixed overheads not stretched
    mig_type: dict[str, int] = {}
    # the sites that run cells' L1 (airan.scenario.load.l1_hosts, as RanShare)
    site_index = {c.name: i for i, c in enumerate(csites)}
    l1_sites = {site_index[site] for site, _ in l1_hosts(s).values()}
    if s.ai_ran.mode == "mig":
        for i in sorted(l1_sites):
            name = csites[i].gpus[0].type
            if name in mig_type:
                continue
            compute, memory = l1.mig_ai_slice(s.ai_ran.mig_l1_fraction, gpus[name])
            mig_type[name] = len(gpu_type_names)
            gpu_type_names.append(name)
            instance = l1.mig_slice_spec(gpus[name], compute, memory)
            # a given (measured) time is the whole GPU's: on the instance, over its SM share
            tabs = [service_time_table_s(m, instance, b_max) * _carried(key, gpus[name], b_max)
                    / (compute if m.service_time_ms is not None else 1.0)
                    for key, m in zip(model_keys, model_specs, strict=True)]
            svc_time = np.concatenate([svc_time, np.stack(tabs)[:, None, :]], axis=1)
            svc_overhead = np.concatenate([svc_overhead, np.array(
                [[fixed_overhead_s(m, instance)] for m in model_specs])], axis=1)
    for si, csite in enumerate(csites):
        site_gpu_start.append(len(gpu_site))
        sliced = s.ai_ran.mode == "mig" and si in l1_sites
        for gg in csite.gpus:
            gpu_site += [si] * gg.count
            gpu_type += [mig_type[gg.type] if sliced else type_index[gg.type]] * gg.count
        site_n.append(len(gpu_site) - site_gpu_start[-1])
    local = np.full((len(s.fleets), len(s.services)), np.inf)
    local_dist = np.asarray([model_dist[m] for m in svc_model], np.int64)
    fleet_acc = [f.accelerator if f.accelerator != "none" else "DeviceCPU" for f in s.fleets]
    roofline_local = np.zeros(len(s.services), dtype=bool)  # a device runs a roofline time
    for fi, acc in enumerate(fleet_acc):
        for vi in fleet_services[fi]:
            local[fi, vi] = svc_time[svc_model[vi], type_index[acc], 1]
            base = models[s.services[vi].model]
            st = s.services[vi].service_time
            on_device = (st.on_device_ms or {}) if st is not None else {}
            if st is not None and s.fleets[fi].accelerator in on_device:
                local[fi, vi] = on_device[s.fleets[fi].accelerator] * 1e-3  # measured there
            elif ((st is not None and st.measured_on is None or st is None
                   and base.service_time_ms is not None) and base.gflops is not None
                    and base.efficiency is not None):
                # a service's (or its model's own) measured time is its compute sites'; the
                # device's own accelerator runs the model's roofline (not a server GPU's
                # measured time: a robot maker's review found a model's own 80 ms on the
                # robot's bare CPU, whose roofline is 3.8 s)
                local[fi, vi] = service_time_table_s(
                    base.model_copy(update={"service_time_ms": None}), gpus[acc], 1)[1]
                roofline_local[vi] = True
    # (a service whose devices run a roofline time on one fleet's accelerator runs it without
    # the measured distribution's spread on every device)
    local_dist[roofline_local] = DIST_DETERMINISTIC
    # a service on an engine of the fleet's own takes its measured time there, or its
    # time_factor of the accelerator's, and
    # draws its active_w above the idle power (the accelerator's TDP - idle where none given)
    idle_w = np.asarray([gpus[a].idle_w for a in fleet_acc], float)
    local_active = np.asarray([[gpus[a].tdp_w - gpus[a].idle_w] * len(s.services)
                               for a in fleet_acc], float).reshape(len(s.fleets),
                                                                   len(s.services))
    n_eng = max([len(f.engines) for f in s.fleets] + [1])
    eng_power = np.zeros((len(s.fleets), n_eng))
    names = [v.name for v in s.services]
    for fi, f in enumerate(s.fleets):
        for e, eng in enumerate(f.engines.values()):
            active = (gpus[fleet_acc[fi]].tdp_w - idle_w[fi] if eng.active_w is None
                      else eng.active_w)
            eng_power[fi, e] = idle_w[fi] + active
            for svc in eng.services:
                vi = names.index(svc)
                local[fi, vi] = eng.time_s(svc, float(local[fi, vi]))
                local_active[fi, vi] = active
    # a service that may not run on its devices (on_device: false): no device time, so no
    # policy's estimate picks the device, and the engine drops a placement there
    local[:, [vi for vi, v in enumerate(s.services) if not v.on_device]] = np.inf
    # and a device that computes nothing on board (a plain camera: cpu_runs_models false)
    local[[fi for fi, f in enumerate(s.fleets) if not f.computes_on_board], :] = np.inf

    # ---- transport: the links as validation sees them (one rule for both) ---------------------
    net = transport_links(s)
    assert net.node_names == node_names
    assert np.array_equal(cell_site_xy(s), node_xy[: len(sites)])  # so the backhaul lengths
    la, lb, lcap, ldel = net.link_a, net.link_b, net.link_cap_bps, net.link_delay_s
    n_nodes = len(node_names)
    n_sites = len(csites)
    site_node = np.array([node_index[c.at] for c in csites], dtype=np.int64)
    path_links, path_back, path_delay, path_bn = transport_paths(
        node_names, np.asarray(la, dtype=np.int64), np.asarray(lb, dtype=np.int64),
        np.asarray(ldel, float), np.asarray(lcap, float), site_node,
        pipelined=s.transport.packet_bytes is not None)

    # candidates per node: the nearest cell-site GPUs by delay, and every edge and cloud site;
    # and every cell site that serves some services only (its services), which the nearest
    # eight may leave out for the services it serves
    kinds = np.array([c.kind for c in csites])
    some_only = np.array([c.services is not None for c in csites], dtype=bool)
    cell_sites_idx = np.flatnonzero((kinds == "cell") & ~some_only)
    other_idx = np.flatnonzero((kinds != "cell") | some_only)
    k_near = min(CANDIDATE_CELL_SITES, len(cell_sites_idx))
    site_xy_c = node_xy[site_node] if n_sites else np.zeros((0, 2))
    dist_m = np.hypot(
        node_xy[:, None, 0] - site_xy_c[None, :, 0], node_xy[:, None, 1] - site_xy_c[None, :, 1]
    )
    dist_m = np.where(np.isnan(dist_m), np.inf, dist_m)
    if k_near:
        # nearest on the map (the transport delay breaks ties): with a star backhaul every
        # remote site is two hops away and delay alone would send the whole city to the hub's
        order_key = dist_m[:, cell_sites_idx] + 1e-3 * path_delay[:, cell_sites_idx]
        near = np.argsort(order_key, axis=1, kind="stable")[:, :k_near]
        node_cand = np.c_[cell_sites_idx[near], np.tile(other_idx, (n_nodes, 1))]
    else:
        node_cand = np.tile(other_idx, (n_nodes, 1))
    r = s.radio
    drx_cols = _drx_per_device(s, dev_fleet, slot_type, round(1e-3 / slot_s))
    return World(
        name=s.name,
        slot_s=slot_s,
        slot_type=slot_type,
        numerology=int(mu),
        radio_model={"nr": 0, "ideal": 1, "fixed": 2}[r.model],
        cell_names=cell_names,
        cell_node=np.asarray(cell_node, np.int64),
        cell_xy=cell_xy_a,
        cell_prb=np.asarray(cell_prb, float),
        cell_bandwidth_mhz=np.asarray(cell_channel_mhz, float),
        cell_bits_per_prb_dl=np.asarray(cell_bpp_dl),
        cell_bits_per_prb_ul=np.asarray(cell_bpp_ul),
        cell_ul_rx_gain=np.asarray(cell_ul_gain, float),
        cell_ul_diversity=np.asarray(cell_ul_div, dtype=np.int64),
        cell_tx_antennas=np.full(n_cells, s.radio.gnb_tx_antennas, dtype=np.int64),
        cell_dl_layers=np.asarray(cell_dl_layers, dtype=np.int64),
        cell_tx_mw=np.asarray(cell_tx_mw, float),
        cell_carrier=carrier_a,
        cell_tx_on_mw=cell_tx_on,
        cell_rs_mw=np.asarray(cell_tx_mw, float) / (12.0 * np.asarray(cell_prb, float)),
        ul_noise_mw=np.asarray(ul_noise, float),
        ul_int_ptr=ul_ptr,
        ul_int_src=ul_src,
        ul_int_mw=ul_val,
        cell_ul_pref_mw=cell_ul_pref_mw,
        cell_bg_ul_mw=bg_ul[0],
        bg_ul_ptr=bg_ul[1],
        bg_ul_src=bg_ul[2],
        bg_ul_mw=bg_ul[3],
        ul_channel_share=share_ul,
        dev_h=dev_h,
        dev_o2i=dev_o2i,
        device_radio=device_radio,
        dev_xy=dev_xy,
        dev_fleet=dev_fleet,
        dev_cell=dev_cell.astype(np.int64),
        dev_top_cell=top_cell,
        dev_top_gain=top_gain,
        dev_top_gain_ul=top_gain_ul,
        dev_resid_gain_mw=resid,
        dev_dl_noise_mw=np.asarray(dl_noise, float),
        dev_ue_tx_mw=ue_tx_mw,
        dev_ul_p_prb_mw=np.asarray(p_prb_mw, float),
        dev_ul_p0_dbm=dev_p0_dbm,
        dev_ul_alpha=dev_alpha,
        dev_ul_offered_bps=ul_offered_bps,
        dev_ul_buffer_bits=np.concatenate(dev_buf_parts) if dev_buf_parts else np.zeros(0),
        dev_sr_offset_s=sr_offsets_s(rng_sr.uniform(size=n_dev), slot_type, slot_s,
                                     r.sr_period_ms * 1e-3),
        flow_dev=flow_dev,
        flow_svc=flow_svc,
        flow_period_s=period,
        flow_poisson=poisson,
        flow_jitter_s=jitter,
        flow_phase_s=phase,
        service_names=[v.name for v in s.services],
        svc_model=np.asarray(svc_model, np.int64),
        svc_deadline_s=np.array([v.deadline_ms * 1e-3 for v in s.services]),
        svc_ul_bits=np.array([v.ul_mean_kb * 8e3 for v in s.services]),
        **_size_arrays(s.services, "ul"),
        svc_dl_bits=np.array([v.dl_mean_kb * 8e3 for v in s.services]),
        **_size_arrays(s.services, "dl"),
        svc_state_bits=np.array([v.state_kb * 8e3 for v in s.services]),
        svc_ul_priority=np.array([16 if v.ul_priority is None else v.ul_priority
                                  for v in s.services], dtype=np.int64),
        svc_compute_priority=np.array([16 if v.compute_priority is None else v.compute_priority
                                       for v in s.services], dtype=np.int64),
        svc_target=np.array([v.target_hit_ratio for v in s.services]),
        model_names=[m if sv is None else f"{m}@{sv}" for m, sv in model_keys],
        model_dist=np.asarray(model_dist, np.int64),
        model_p1=np.asarray(model_p1, float),
        model_p2=np.asarray(model_p2, float),
        site_names=[c.name for c in csites],
        site_kind=[c.kind for c in csites],
        svc_site_ok=np.array([[c.services is None or v.name in c.services for c in csites]
                              for v in s.services], dtype=np.bool_).reshape(
                                  len(s.services), len(csites)),
        site_node=site_node,
        site_xy=site_xy_c,
        site_gpu_start=np.asarray(site_gpu_start, np.int64),
        site_n_gpus=np.asarray(site_n, np.int64),
        site_queue_limit=np.array([c.queue_limit for c in csites], np.int64),
        site_max_batch=np.array([[b for b, _ in row] for row in batching],
                                np.int64).reshape(len(csites), len(model_keys)),
        site_max_wait_s=np.array([[w * 1e-3 for _, w in row] for row in batching],
                                 float).reshape(len(csites), len(model_keys)),
        site_instances=instances,
        site_shared=(instances.sum(axis=1) > 1).astype(np.int64),
        site_overhead_cap=np.array([np.inf if c.batching.overhead_overlap is None
                                    else c.batching.overhead_overlap for c in csites], float),
        gpu_site=np.asarray(gpu_site, np.int64),
        gpu_type=np.asarray(gpu_type, np.int64),
        gpu_type_names=gpu_type_names,
        svc_time_s=svc_time,
        svc_overhead_s=svc_overhead.reshape(len(model_keys), len(gpu_type_names)),
        local_time_s=local,
        svc_local_dist=local_dist,
        fleet_local_queue_limit_s=np.array([f.local_queue_limit_ms * 1e-3 for f in s.fleets]),
        svc_engine=service_engines(s),
        local_active_w=local_active,
        local_power_w=idle_w[:, None] + local_active,
        eng_power_w=eng_power,
        fleet_ul_latest=np.array([f.ul_queue == "latest" for f in s.fleets],
                                 dtype=np.int64).reshape(len(s.fleets)),
        fleet_active_w=np.asarray([gpus[a].tdp_w for a in fleet_acc], float),
        fleet_idle_w=np.asarray([gpus[a].idle_w for a in fleet_acc], float),
        ue_tx_circuit_w=s.radio.ue_tx_circuit_w,
        ue_pa_efficiency=s.radio.ue_pa_efficiency,
        ue_rx_w=s.radio.ue_rx_w,
        **drx_cols,
        ue_pdcch_w=s.radio.pdcch_monitor_w,
        drx_sleep=drx.sleep_table(s.radio.pdcch_monitor_w),
        fleet_names=fleet_names,
        fleet_services=fleet_services,
        fleet_svc_group=fleet_svc_group,
        fleet_svc_slot=fleet_svc_slot,
        group_fleet=np.asarray([g[0] for g in groups], np.int64),
        group_svc=np.asarray([g[1] for g in groups], np.int64),
        node_names=node_names,
        link_a=np.asarray(la, dtype=np.int64),
        link_b=np.asarray(lb, dtype=np.int64),
        link_cap_bps=np.asarray(lcap, float),
        link_delay_s=np.asarray(ldel, float),
        path_links=path_links,
        path_links_back=path_back,
        path_delay_s=path_delay,
        path_rate_bps=path_bn,
        node_candidates=node_cand.astype(np.int64),
        node_site_distance_m=dist_m,
        transport_queue_limit_s=s.transport.queue_limit_ms * 1e-3,
        packet_bits=(np.inf if s.transport.packet_bytes is None
                     else 8.0 * s.transport.packet_bytes),
        fixed_ul_bps=r.fixed_ul_rate_mbps * 1e6,
        fixed_dl_bps=r.fixed_dl_rate_mbps * 1e6,
        fixed_latency_s=r.fixed_latency_ms * 1e-3,
        sr_period_s=r.sr_period_ms * 1e-3,
        grant_delay_s=r.grant_delay_ms * 1e-3,
        sr_period_slots=nr.sr_period_slots(slot_s, r.sr_period_ms * 1e-3),
        grant_delay_slots=nr.whole_slots(r.grant_delay_ms * 1e-3, slot_s),
        bler=float(r.bler),
        harq_max_retx=int(r.harq_max_retx),
        harq_ul_slots=harq_ul_slots,
        harq_dl_slots=harq_dl_slots,
        dl_sched_delay_s=r.dl_sched_delay_ms * 1e-3,
        configured_grant=r.ul_access == "configured_grant",
        first_grant_bits=8.0 * r.first_grant_bytes if r.first_grant_bytes else 0.0,
        scheduler_pf=r.scheduler in ("pf", "mlwdf"),
        svc_delay_weight=(
            scheduling.mlwdf_delay_weight([v.target_hit_ratio for v in s.services],
                                          [v.deadline_ms * 1e-3 for v in s.services])
            if r.scheduler == "mlwdf" else np.zeros(0)),
        svc_qos_weight=_qos_weights(s),
        initial_load=r.initial_load,
        load_alpha=min(1.0, slot_s / (r.load_time_constant_ms * 1e-3)),
        min_sinr_lin=10.0 ** (r.min_sinr_db / 10.0),
    )


def _qos_weights(s: Scenario) -> F64:
    """[services] the schedulers' QoS weight of each service's flow (``svc_qos_weight``):
    empty where every service a fleet runs has the same priority level (the others send
    nothing), so that such a run takes the unweighted path exactly."""
    levels = [qos.priority_level(v.five_qi, v.qos_priority_level) for v in s.services]
    run = {name for f in s.fleets if f.count for name in f.services}
    if len({p for p, v in zip(levels, s.services, strict=True) if v.name in run}) < 2:
        return np.zeros(0)
    return scheduling.qos_priority_weight(levels)
