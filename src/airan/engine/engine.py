"""The engine: the clock and the request store. It owns the state and calls physics and policy.

One decision interval at a time: draw the interval's new requests, ask the policy where each runs
(on a snapshot taken now), then let the compiled kernel advance every slot of the interval.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from airan.engine import decide
from airan.engine import kernel as K
from airan.engine.faults import FaultSchedule
from airan.engine.motion import Motion
from airan.engine.ran_share import RanShare
from airan.engine.state import grow_pool, kernel_world, new_state, state_ref
from airan.engine.uplink_figures import uplink_figures
from airan.engine.warmup import warm_up
from airan.engine.world import (
    HOLD_CAUSES,
    World,
    below_qout_per_fleet,
    build_world,
    fleet_drx,
    uplink_coupling,
)
from airan.errors import InputError
from airan.metrics.histogram import MAX_RELATIVE_ERROR, quantile
from airan.metrics.satisfaction import satisfaction_figures
from airan.metrics.site_energy import site_energy, sites_energy
from airan.policy import (
    LOCAL,
    REJECT,
    Batch,
    Policy,
    Snapshot,
    as_policy,
    checked_placements,
    is_builtin_policy,
    policy_failed,
    policy_label,
    resolve_policy,
)
from airan.policy.base import PlacementRates, policy_rng
from airan.policy.builtin import cloud, deadline_aware, home_sites, least_loaded, nearest_edge
from airan.radio import nr, penetration
from airan.scenario import payload
from airan.scenario.load import load_scenario, offered_requests, scenario_from_dict
from airan.scenario.schema import MAX_DURATION_S, Scenario
from airan.version import airan_version


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (for a scenario's JSON dump)."""
    return value.item() if isinstance(value, np.generic) else value


REASONS = ("admission", "buffer_full", "queue_full", "link_full", "radio_outage", "no_route",
           "site_failure", "superseded", "device_queue_full", "not_on_device")
BREAKDOWN = ("ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport", "dl_air")
_TRACE_CAPACITY = 1 << 18
# policies that never read the snapshot decide long stretches at once (the same decisions,
# fewer calls): up to this long, and up to about this many arrivals per call
SNAPSHOT_FREE_INTERVAL_S = 1.0
SNAPSHOT_FREE_BATCH = 50_000
SAMPLE_COPIES_MAX_GPUS = 16_384  # see Engine.__init__: samples kept as state copies up to this
TIMESERIES_POINTS = 200  # about this many samples of each site's load over a run
CELL_BUSY = 0.9  # a cell using more of its PRBs than this is counted busy in the summary
SEED_LIMIT = 2**63  # seeds are integers 0 <= seed < 2**63 (as airan.console checks --seed)
TRACE_LIMIT_MAX = 10**9  # requests traced in full per run, at most (and --trace-limit)


class ConservationError(RuntimeError):
    """A request was lost or counted twice: a bug in the engine, never the user's fault."""


def _check_int(field: str, value: Any, low: int, high: int | None, reason: str) -> None:
    """An :class:`InputError` unless ``value`` is None or an integer in ``low..high``."""
    if value is None:
        return
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        raise InputError(reason, field=field, value=value)


@dataclass
class Result:
    """What a run returns: the summary (as in summary.json) and the per-request trace."""

    summary: dict[str, Any]
    requests: pa.Table
    timeseries: pa.Table | None = None  # per site and sample window: utilization, mean queue
    cells: pa.Table | None = None  # per cell: position, PRB utilization, attached devices
    devices: pa.Table | None = None  # per device: position, fleet, cell, geometry SINR
    scenario: Scenario | None = None  # the scenario as run (after --fleet-scale), to reproduce it
    # per cell and sample window: PRB utilization up and down (nr radio; None: not recorded)
    cell_timeseries: pa.Table | None = None


#: Why an engine cannot be copied or pickled, and what gives the same state (a researcher's
#: review: deepcopy failed with a numba typing error, pickle on a numba meminfo).
_NO_COPY = (
    "an Engine cannot be copied or pickled: its state lives in the compiled kernel's memory. A "
    "run is deterministic: Engine(scenario, policy=..., seed=..., duration_s=...) made the "
    "same way and stepped to the same slot (engine.step(n) with n = the first one's "
    "engine.slot) is in the same state, for a rollout or a checkpoint (a policy that keeps "
    "state of its own must be given the same too)")


#: the percentiles of the devices' radio figures in the summary (p5: the cell edge's, as
#: operators plan coverage and capacity on the 5th percentile user)
RADIO_PERCENTILES = (5, 50, 95)


def devices_radio(devices: pa.Table, rows: np.ndarray | None = None,
                  ) -> dict[str, dict[str, float | None]]:
    """Over the devices at the end of the run (``devices.parquet``'s columns; ``rows``: those
    rows only, a fleet's): their downlink geometry SINR (dB, every neighbour transmitting),
    uplink SINR per PRB (dB) and uplink and downlink rates alone on their cell's free PRBs
    (Mbit/s), each at
    :data:`RADIO_PERCENTILES` (finite values only; None where there is none)."""
    out: dict[str, dict[str, float | None]] = {}
    for col in ("sinr_dl_db", "sinr_ul_db", "ul_rate_full_cell_mbps", "dl_rate_full_cell_mbps"):
        x = np.asarray(devices.column(col).to_numpy(zero_copy_only=False), dtype=float)
        if rows is not None:
            x = x[rows]
        x = x[np.isfinite(x)]
        out[col] = {f"p{q}": (float(np.percentile(x, q)) if x.size else None)
                    for q in RADIO_PERCENTILES}
    return out


class Engine:
    """A steppable simulation of one scenario under one policy and seed."""

    def __init__(
        self,
        scenario: Scenario | str | os.PathLike[str],
        *,
        policy: str | Policy | None = None,
        seed: int | None = None,
        duration_s: float | None = None,
        trace_limit: int | None = None,
        trace_sample: float | None = None,
        warmup_s: float | None = None,
        fleet_scale: float = 1.0,
    ) -> None:
        if not isinstance(scenario, Scenario):  # a built-in's name or a YAML path, as in run
            scenario = load_scenario(scenario)
        # every fleet's device count times fleet_scale (airan.scale_fleets; the summary says so)
        self.fleet_scale = fleet_scale
        if isinstance(fleet_scale, bool) or fleet_scale != 1.0:
            from airan.api import scale_fleets

            scenario = scale_fleets(scenario, fleet_scale)
        self.scenario = scenario
        if policy is not None and not isinstance(policy, str) and not callable(policy):
            raise InputError(
                "must be a policy's name (a built-in or 'module:callable') or a function of "
                "(snapshot, batch)", field="policy", value=policy)
        _check_int("seed", seed, 0, SEED_LIMIT - 1, "must be an integer in [0, 2**63)")
        _check_int("trace_limit", trace_limit, 0, TRACE_LIMIT_MAX,
                   f"must be an integer in 0..{TRACE_LIMIT_MAX:,}")
        for name, number in (("duration_s", duration_s), ("trace_sample", trace_sample),
                             ("warmup_s", warmup_s)):
            if number is not None and (
                isinstance(number, bool) or not isinstance(number, int | float | np.number)
                or not math.isfinite(number)
            ):
                raise InputError("must be a finite number", field=name, value=number)
        self._policy_function = None
        self._builtin_policy = False
        self._policy_rng: np.random.Generator | None = None
        if callable(policy):  # a function handed over in Python (a notebook's own policy)
            self.policy_name = policy_label(policy)
            self.policy = as_policy(policy, self.policy_name)
            self._policy_function = policy
        else:
            self.policy_name = policy or scenario.policy
            # (a user's module imported afresh: a run depends on its scenario and seed only)
            self.policy = resolve_policy(self.policy_name, fresh=True)
        # one of airan's own: its failure is a bug in airan; any other's the user's input
        self._builtin_policy = is_builtin_policy(self.policy_name, self.policy)
        # the built-in deadline-aware decides in one compiled call where it can (engine.decide)
        self._kernel_decides = self.policy is deadline_aware
        self._strict = scenario.admission == "strict"
        if self.policy is deadline_aware and (
            scenario.admission == "strict" or scenario.objective == "energy"
        ):
            self.policy = functools.partial(
                deadline_aware, strict=scenario.admission == "strict",
                energy=scenario.objective == "energy")
        self._kernel_policy = self.policy
        # these built-ins reject only while every site they may use is down: a fault's drop
        # (site_failure), not an admission control's
        self._rejects_when_down = self.policy in (cloud, nearest_edge, least_loaded)
        self.seed = scenario.seed if seed is None else int(seed)
        self.duration_s = scenario.duration_s if duration_s is None else float(duration_s)
        if not self.duration_s > 0:
            raise InputError("duration must be positive", field="duration_s", value=self.duration_s)
        if not self.duration_s <= MAX_DURATION_S:
            raise InputError(f"duration must be at most {MAX_DURATION_S:g} s (ten simulated days)",
                             field="duration_s", value=self.duration_s)
        # the requests created before it are the warm-up's: counted apart, in no figure (the
        # queues fill from empty meanwhile)
        self.warmup_s = scenario.engine.warmup_s if warmup_s is None else float(warmup_s)
        if not 0.0 <= self.warmup_s < self.duration_s:
            raise InputError(
                f"the warm-up must be at least 0 and shorter than the run ({self.duration_s:g} "
                "s): the requests created in it count in no figure", field="warmup_s",
                value=self.warmup_s)
        self.trace_limit = scenario.engine.trace_limit if trace_limit is None else trace_limit
        self.trace_sample = scenario.engine.trace_sample if trace_sample is None else trace_sample
        if not 0.0 <= self.trace_sample <= 1.0:
            raise InputError(
                "trace sample must be within [0, 1]", field="trace_sample", value=self.trace_sample
            )
        # a scenario changed in Python since it was loaded (model_copy validates nothing): its
        # fields and references checked again, as loading checks them
        # (no file named: the command line names the scenario's, as for the engine's own errors)
        # (numpy numbers in fields set in Python, e.g. seed=np.int64(3), as plain ones)
        scenario_from_dict(scenario.model_dump(mode="json", warnings=False, fallback=_plain),
                           label="")
        warm_up()  # the kernel compiled or loaded before any run's clock starts (once)
        self.world: World = build_world(scenario, self.seed)
        w = self.world
        self._kernel_decides = self._kernel_decides and len(w.site_names) > 0 and \
            decide.applies(w, energy=scenario.objective == "energy")
        # whole slots, at least one: a positive duration shorter than a slot runs one slot
        self.n_slots = max(1, int(math.ceil(self.duration_s / w.slot_s - 1e-9)))
        interval_s = scenario.engine.decision_interval_ms * 1e-3
        expected_rate = float(np.sum(1.0 / w.flow_period_s)) if len(w.flow_period_s) else 0.0
        batch_s = min(SNAPSHOT_FREE_INTERVAL_S, SNAPSHOT_FREE_BATCH / max(expected_rate, 1.0))
        # a policy that reads no load may decide a longer stretch at once, unless the cells
        # change under it (faults; moving devices hand over: batch.cell would be stale)
        moving = any(f.mobility is not None and f.mobility.model != "static"
                     for f in scenario.fleets)
        if getattr(self.policy, "snapshot_free", False) and not scenario.faults and not moving:
            interval_s = max(interval_s, batch_s)
        self.interval_slots = max(1, int(round(interval_s / w.slot_s)))
        #: the time whose arrivals one decision places (s)
        self.decision_interval_s = self.interval_slots * float(w.slot_s)
        # the rates a snapshot gives (Snapshot.site_model_rate_per_s, .._home_rate_per_s)
        self._rates = PlacementRates(home_sites(w), len(w.site_names), len(w.model_names),
                                     self.decision_interval_s, n_services=len(w.svc_model))
        # arrivals are drawn ahead of the decision intervals, as long a stretch at once as a
        # snapshot-free policy decides (the same arrivals: the flows' draws never depend on how
        # the run is cut); not with faults, whose surges change flows' rates on their grid
        self._draw_slots = self.interval_slots if scenario.faults else max(
            self.interval_slots, int(round(batch_s / w.slot_s)))
        self._drawn_slot = 0  # arrivals before this slot have been drawn
        self._drawn_t = np.zeros(0)  # drawn, not yet decided (time order)
        self._drawn_f = np.zeros(0, dtype=np.int64)
        self._kw = kernel_world(w, self.seed, self.trace_limit, self.trace_sample)
        capacity = max(1024, int(expected_rate * 0.2) + 2 * len(w.flow_dev))
        # trace buffer: flushed when half full; no larger than the run can fill (small runs and
        # untraced runs start fast)
        expected = expected_rate * self.duration_s
        beyond = max(0.0, expected - self.trace_limit)
        rows = min(expected, self.trace_limit) + self.trace_sample * beyond
        self._trace_capacity = int(min(_TRACE_CAPACITY, 4096 + 2 * rows))
        reroutes = any(f.kind in ("link_down", "link_degraded") for f in scenario.faults)
        # a device's link may be interrupted (a handover, a radio link failure, a cell's fault):
        # each request is counted by the interruption its radio legs met
        holds = links_interruptible(scenario)
        self._st = new_state(w, self.seed, capacity, self._trace_capacity, reroutes, holds)
        self._st.fs[K.F_WARMUP] = self.warmup_s
        self._sref = state_ref(self._st)
        self._arr_t = np.zeros(max(1024, int(expected_rate * self._draw_slots * w.slot_s * 2)))
        self._arr_f = np.zeros(len(self._arr_t), dtype=np.int64)
        self._trace_parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._in_flight_at: tuple[float, tuple[np.ndarray, np.ndarray]] | None = None
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
        self.wall_s = 0.0
        # load samples on a fixed grid of slots, so any stepping gives the same series
        self.sample_slots = max(1, round(self.n_slots / TIMESERIES_POINTS))
        # each sample: t and copies of the site state it needs, reduced in one pass at the end
        # (~10 us per sample less than reducing each); with very many GPUs, reduced as taken
        # (memory: TIMESERIES_POINTS copies of two per-GPU arrays)
        self._sample_copies = len(w.gpu_type) <= SAMPLE_COPIES_MAX_GPUS
        zeros = np.zeros(len(w.site_names))
        first = (0.0, np.zeros_like(self._st.gpu_free), np.zeros_like(self._st.gpu_busy), zeros,
                 np.zeros_like(self._st.site_qlen), zeros, zeros)
        self._samples: list[tuple[Any, ...]] = [first if self._sample_copies else
                                                (0.0, zeros, zeros, zeros)]
        # and each cell's PRBs used so far, up and down, at the same samples (cell_timeseries)
        no_prbs = np.zeros_like(self._st.prb_sum_ul)
        self._cell_samples: list[tuple[float, np.ndarray, np.ndarray]] = [(0.0, no_prbs,
                                                                          no_prbs)]
        # AI-and-RAN: L1 on the cell-site GPUs and background cell traffic, on their own grid
        self.ran = RanShare(scenario, w)
        if self.ran.active:
            self.ran.update(w, self._st, 0.0)
        # faults: applied on the slot grid; orphans of failed sites re-dispatched at least every
        # decision interval of the scenario (the gateway noticing the failure)
        self.faults = FaultSchedule(scenario, w, self._kw)
        self._orphan_check_slots = max(
            1, int(round(scenario.engine.decision_interval_ms * 1e-3 / w.slot_s)))
        # mobility: positions and handovers on their own grid of slots
        self.motion = Motion(scenario, w, self.seed)
        # each flow's sending window (s), where a trace's devices are silent outside theirs:
        # the flows draw as ever (the same arrivals in the window), those outside it dropped
        # before the policy sees them, as never created
        sending = self.motion.sending_s
        self._flow_sending: tuple[np.ndarray, np.ndarray] | None = None if sending is None \
            else (sending[0][w.flow_dev], sending[1][w.flow_dev])
        if self.motion.active:
            self.motion.update(self, attach=True)  # where the mobility models start
            # the uplink interference between cells from there, not from where the world
            # first placed the devices (over a fleet's area or the map: a fleet on a road, a
            # trace or a street grid is elsewhere); kept as they move (a simplification)
            w.ul_int_ptr, w.ul_int_src, w.ul_int_mw, w.cell_ul_pref_mw = uplink_coupling(w)
            self._kw = kernel_world(w, self.seed, self.trace_limit, self.trace_sample)
            self.faults.rebind(self._kw)
        # the devices out of coverage at their first positions, before any fault (a fault or a
        # move rewrites the world's gains as the run goes)
        self._out_of_coverage = w.out_of_coverage()
        self._out_of_coverage_ul = w.out_of_coverage("ul")
        # load samples taken by the kernel as it passes their slots (kernel._take_samples):
        # where nothing else stops the slot loop on their grid (AI-and-RAN's L1 windows,
        # mobility, faults), a run then returns to Python once per decision interval only
        self._kernel_samples = self._sample_copies and not (
            self.ran.active or self.motion.active or self.faults.active)
        if self._kernel_samples:
            st = self._st
            width = 1 + 2 * len(st.gpu_free) + 3 * len(st.site_qarea) + 2 * len(st.prb_sum_ul)
            self._st = st._replace(samp=np.zeros((self.n_slots // self.sample_slots + 2, width)))
            self._st.ctr[K.C_SAMP_EVERY] = self.sample_slots
            self._st.ctr[K.C_SAMP_NEXT] = self.sample_slots
            self._sref = state_ref(self._st)
        K.init_se(self._kw, self._sref)
        pattern = w.slot_type
        # the share of each slot of the pattern that carries each direction's data
        ul_usable, dl_usable = nr.slot_usable(pattern)
        self._ul_slot_fraction = float(np.mean(ul_usable))
        self._dl_slot_fraction = float(np.mean(dl_usable))
        # the fixed part of each air leg, for the policies' estimates (Snapshot) and the live
        # gateway: under NR, the uplink's SR and grant, then the wait for a U slot; the
        # downlink's scheduling delay, then the wait for a slot with downlink symbols; each
        # leg ends with its slot (``*_access_delay_s``: the wait plus that slot)
        if w.radio_model == 0:
            if w.configured_grant:
                ul_start, ul_end = nr.mean_slot_wait_s(ul_usable, w.slot_s)
            else:  # the SR occasion, the grant, then the U slot
                ul_start, ul_end = nr.sr_grant_wait_s(ul_usable, w.slot_s, w.sr_period_s,
                                                      w.grant_delay_s)
            dl_start, dl_end = nr.mean_slot_wait_s(dl_usable, w.slot_s)
            # and, as the leg's last block may be sent again, HARQ's mean delay
            self._ul_harq_s = nr.harq_mean_extra_s(ul_usable, w.harq_ul_slots, w.slot_s, w.bler,
                                                   w.harq_max_retx)
            self._dl_harq_s = nr.harq_mean_extra_s(dl_usable, w.harq_dl_slots, w.slot_s, w.bler,
                                                   w.harq_max_retx)
            self._ul_wait_s = ul_start
            self._ul_access_delay_s = ul_end + self._ul_harq_s
            # data beyond the SR's grant waits for the report's grant (radio.first_grant_bytes)
            self._report_round_s = (
                nr.report_round_s(ul_usable, w.slot_s, w.sr_period_s, w.grant_delay_s)
                if w.first_grant_bits > 0 and not w.configured_grant else 0.0)
            self._dl_wait_s = w.dl_sched_delay_s + dl_start
            self._dl_access_delay_s = w.dl_sched_delay_s + dl_end + self._dl_harq_s
            # data beyond the first slot's goes in the direction's next slots, this far apart
            self._ul_slot_spacing_s = w.slot_s / self._ul_slot_fraction
            self._dl_slot_spacing_s = w.slot_s / self._dl_slot_fraction
        elif w.radio_model == 2:  # the fixed link's latency, each way
            self._report_round_s = 0.0
            self._ul_harq_s = self._dl_harq_s = 0.0
            self._ul_wait_s = self._dl_wait_s = 0.0
            self._ul_access_delay_s = self._dl_access_delay_s = w.fixed_latency_s
            self._ul_slot_spacing_s = self._dl_slot_spacing_s = 0.0  # no slots
        else:
            self._report_round_s = 0.0
            self._ul_harq_s = self._dl_harq_s = 0.0
            self._ul_wait_s = self._dl_wait_s = 0.0
            self._ul_access_delay_s = self._dl_access_delay_s = 0.0
            self._ul_slot_spacing_s = self._dl_slot_spacing_s = 0.0
        if len(w.site_names):
            first_type = w.gpu_type[w.site_gpu_start]
            b = w.site_max_batch  # [S, M]
            m = np.arange(b.shape[1])
            self._per_item_s = w.svc_time_s[m[None, :], first_type[:, None], b] / b  # [S, M]

    # ---- stepping ------------------------------------------------------------------------------
    @property
    def slot(self) -> int:
        return int(self._st.ctr[K.C_SLOT])

    @property
    def now_s(self) -> float:
        return self.slot * self.world.slot_s

    @property
    def done(self) -> bool:
        return self.slot >= self.n_slots

    @property
    def work(self) -> dict[str, int]:
        """The work the engine has done so far, exact where wall time is noisy: UEs visited by
        the uplink and downlink schedulers (summed over slots), events handled, requests."""
        c = self._st.ctr
        return {"ul_ue_slots": int(c[K.C_WORK_UL]), "dl_ue_slots": int(c[K.C_WORK_DL]),
                "events": int(c[K.C_WORK_EVENTS]), "requests": int(c[K.C_SEQ])}

    def __deepcopy__(self, memo: dict[int, Any]) -> Engine:
        raise TypeError(_NO_COPY)

    def __reduce__(self) -> Any:
        raise TypeError(_NO_COPY)

    def step(self, n_slots: int | None = None) -> None:
        """Advance by ``n_slots`` (default: one decision interval), not past the end of the run.

        Decisions are always taken on the grid of decision intervals, so stepping in any sizes
        gives exactly the same run as :meth:`run`.
        """
        if n_slots is not None:
            _check_int("n_slots", n_slots, 1, None,
                       "must be a positive whole number of slots (or None: one decision interval)")
        target = min(self.n_slots, self.slot + (n_slots or self.interval_slots))
        t0 = time.perf_counter()
        ran = self.ran
        faults = self.faults
        # requests come back for a new place where a site fails or a path is cut: by a fault,
        # or by a handover to a cell with no path to the site (an uplink that ends there)
        replace = faults.active or self.motion.active
        while self.slot < target:
            if faults.active:
                faults.apply(self)
            if replace:
                self._drain_orphans()
            stop = target if self._kernel_samples else min(
                target, (self.slot // self.sample_slots + 1) * self.sample_slots)
            if ran.active:
                stop = min(stop, (self.slot // ran.update_slots + 1) * ran.update_slots)
            motion = self.motion
            if motion.active:
                stop = min(stop, (self.slot // motion.update_slots + 1) * motion.update_slots)
            if faults.active:
                nxt = faults.next_slot(self.slot)
                if nxt is not None and nxt > self.slot:
                    stop = min(stop, nxt)
            if replace:
                check = self._orphan_check_slots
                stop = min(stop, (self.slot // check + 1) * check)
            self._advance_to(stop)
            if motion.active and self.slot % motion.update_slots == 0 and self.slot < self.n_slots:
                motion.update(self, faults.down_cells())
            if ran.active and self.slot % ran.update_slots == 0 and self.slot < self.n_slots:
                ran.update(self.world, self._st, self.now_s,
                           *((faults.gpu_up, faults.cells_down()) if faults.active else ()))
            if self.slot == self.n_slots or (
                    not self._kernel_samples and self.slot % self.sample_slots == 0):
                self._record_sample()
        self.wall_s += time.perf_counter() - t0

    def run(self, progress: Callable[[float], None] | None = None) -> Result:
        """Run to the end; ``progress`` is called with the fraction done after each step."""
        chunk = self.n_slots if progress is None else max(self.interval_slots, self.n_slots // 200)
        while not self.done:
            self.step(chunk)
            if progress is not None:
                progress(self.slot / self.n_slots)
        return self.result()

    def _advance_to(self, target_slot: int) -> None:
        """Advance within the current decision interval, deciding its arrivals at its start."""
        if self._pending is None:
            grid_end = (self.slot // self.interval_slots + 1) * self.interval_slots
            grid_end = min(self.n_slots, grid_end)
            self._pending = self._draw_and_decide(grid_end) + (grid_end,)
        arr_t, arr_f, place, grid_end = self._pending
        end = min(target_slot, grid_end)
        pos = K.advance(self._kw, self._sref, arr_t, arr_f, place, len(arr_t), end)
        # (the kernel stops early, before ``end``, when its trace buffer is half full)
        self._pending = None if self.slot >= grid_end else (arr_t[pos:], arr_f[pos:],
                                                            place[pos:], grid_end)
        tn = int(self._st.ctr[K.C_TR_N])
        if tn > self._trace_capacity // 2 or (tn and end >= self.n_slots):
            self._flush_trace()

    def _draw(self, end_slot: int) -> None:
        """Draw the arrivals due before ``end_slot`` (appended to those drawn, in time order)."""
        t_end = end_slot * self.world.slot_s
        n = K.gen_arrivals(self._kw, self._sref, t_end, self._arr_t, self._arr_f)
        while n == len(self._arr_t):  # buffer full: grow and continue drawing
            grow = len(self._arr_t)
            self._arr_t = np.concatenate([self._arr_t, np.zeros(grow)])
            self._arr_f = np.concatenate([self._arr_f, np.zeros(grow, dtype=np.int64)])
            n += K.gen_arrivals(self._kw, self._sref, t_end, self._arr_t[n:], self._arr_f[n:])
        arr_t, arr_f = self._arr_t[:n], self._arr_f[:n]
        if self._flow_sending is not None:
            since, until = self._flow_sending
            keep = (arr_t >= since[arr_f]) & (arr_t <= until[arr_f])
            arr_t, arr_f = arr_t[keep], arr_f[keep]
        self._drawn_t = np.concatenate([self._drawn_t, arr_t])
        self._drawn_f = np.concatenate([self._drawn_f, arr_f])
        self._drawn_slot = end_slot

    def _draw_and_decide(self, end_slot: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The new requests due before ``end_slot`` and where the policy places them."""
        w = self.world
        if end_slot > self._drawn_slot:
            self._draw(min(self.n_slots, max(end_slot, self.slot + self._draw_slots)))
        n = int(np.searchsorted(self._drawn_t, end_slot * w.slot_s, side="left"))
        arr_t, self._drawn_t = self._drawn_t[:n], self._drawn_t[n:]
        arr_f, self._drawn_f = self._drawn_f[:n], self._drawn_f[n:]
        st = self._st
        if int(st.ctr[K.C_FREE_TOP]) < n + 16:
            self._st = st = grow_pool(st, 2 * st.rq_f.shape[0] + n)
            self._sref = state_ref(st)
        dev = w.flow_dev[arr_f]
        batch = Batch(time_s=arr_t, device=dev, service=w.flow_svc[arr_f], cell=w.dev_cell[dev])
        return arr_t, arr_f, self._decide(batch)

    def _drain_orphans(self) -> None:
        """Re-dispatch through the policy what failed sites gave back (or drop it); what a
        site whose failure the gateways have not noticed yet holds waits for them to."""
        st = self._st
        n = int(st.ctr[K.C_ORPHANS])
        if not n:
            return
        w = self.world
        rs = st.orphans[:n].copy()
        old_site = st.rq_i[rs, K.I_PLACE].copy()
        unnoticed = st.site_up[np.maximum(old_site, 0)] < 0
        held = 0
        if unnoticed.any():  # kept at the list's head, in order; the rest is placed now
            held = int(unnoticed.sum())
            st.orphans[:held] = rs[unnoticed]
            st.ctr[K.C_ORPHANS] = held
            rs, old_site = rs[~unnoticed], old_site[~unnoticed]
            if not len(rs):
                return
            n = len(rs)
        dev = st.rq_i[rs, K.I_DEV].copy()
        batch = Batch(time_s=np.full(n, self.now_s), device=dev,
                      service=st.rq_i[rs, K.I_SVC].copy(), cell=w.dev_cell[dev])
        place = self._decide(batch, redispatch=True)
        for site in np.unique(old_site):
            rec = self.faults.site_fault(int(site))
            if rec is None:
                continue
            mine = old_site == site
            rec.affected_requests += int(np.sum(mine))
            rec.redispatched += int(np.sum(mine & (place >= LOCAL)))
            rec.lost += int(np.sum(mine & (place < LOCAL)))
        K.redispatch(self._kw, self._sref, rs, place, self.now_s)
        st.ctr[K.C_ORPHANS] = held  # (redispatch empties the list; the held ones stay in it)
        self.faults.drained()

    def _decide(self, batch: Batch, *, redispatch: bool = False) -> np.ndarray:
        n = len(batch)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        w = self.world
        self._rates.advance(self.now_s)
        place = self._placements(batch)
        site_up = self._st.site_up
        if (site_up != 1).any():  # (a site_down holds): what the policy placed on a down site
            on = place[place >= 0]
            for site in np.unique(on[site_up[on] != 1]):
                rec = self.faults.site_fault(int(site))
                if rec is not None and rec.fault.kind == "site_down":
                    if site_up[site] < 0:  # failed, not yet noticed: sent there all the same
                        rec.sent_before_noticed += int(np.sum(on == site))
                    else:
                        rec.placed_while_down += int(np.sum(on == site))
        # (a failed site's requests placed again leave the rates' clock where it is)
        self._rates.record(self.now_s, w.cell_node[batch.cell], place,
                           w.svc_model[batch.service], arrivals=not redispatch,
                           service=batch.service)
        return place

    def _placements(self, batch: Batch) -> np.ndarray:
        """The policy's placements of a non-empty batch (checked)."""
        n = len(batch)
        if self._kernel_decides and self.policy is self._kernel_policy:  # (not replaced since)
            return decide.deadline_aware(self, batch.device, batch.service, self._strict)
        snapshot = self.snapshot()
        cell = batch.cell  # the engine's; the policy gets copies of what it may write to
        try:
            place = self.policy(snapshot, Batch(batch.time_s.copy(), batch.device.copy(),
                                                batch.service.copy(), cell.copy()))
        except MemoryError:
            raise
        except (Exception, SystemExit) as exc:  # (a sys.exit() in a policy of one's own
            # ended `airan run` with exit 0 and nothing written; an ML researcher's review)
            if self._builtin_policy:  # a bug in airan, not the input (one registered by a
                raise  # user, airan.policy.register, is the user's: a review)
            when = (f" on a batch of {n} at t = "
                    f"{float(batch.time_s[0]) if n else self.now_s:.4f} s")
            raise policy_failed(exc, self.policy_name, when) from exc  # a user's policy failed
        place = checked_placements(
            place, n, len(self.world.site_names), self.policy_name,
            f" for the batch of {n} at t = {float(batch.time_s[0]) if n else self.now_s:.4f} s")
        # a site the request's cell has no transport path to: dropped (no_route), never free
        remote = place >= 0
        if remote.any() and not self.world.svc_site_ok.all():
            wrong = remote.copy()
            wrong[remote] = ~self.world.svc_site_ok[batch.service[remote], place[remote]]
            if wrong.any():
                i = int(np.flatnonzero(wrong)[0])
                site = self.world.site_names[int(place[i])]
                raise InputError(
                    f"policy placed a request of service "
                    f"{self.world.service_names[int(batch.service[i])]!r} at compute site "
                    f"{site!r}, which does not serve it (compute_sites[{site}].services): "
                    "a policy of one's own passes over the sites where "
                    "snapshot.world.svc_site_ok[service, site] is False",
                    field="policy", value=self.policy_name)
        if remote.any():
            node = self.world.cell_node[cell[remote]]
            unreachable = ~np.isfinite(self.world.path_delay_s[node, place[remote]])
            if unreachable.any():
                idx = np.flatnonzero(remote)[unreachable]
                place[idx] = K.PLACE_NO_ROUTE
        if self._rejects_when_down:
            place[place == REJECT] = K.PLACE_NO_SITE
        return place

    def snapshot(self) -> Snapshot:
        """The engine's state as a policy sees it (computed lazily, on first use)."""
        return Snapshot(self)

    def policy_rng(self) -> np.random.Generator:
        """The run's random generator for its policy (``Snapshot.rng``), made at first use."""
        if self._policy_rng is None:
            self._policy_rng = policy_rng(self.seed)
        return self._policy_rng

    def _site_backlog_s(self) -> np.ndarray:
        """Per site, the expected wait before a new request would start on one of its GPUs: the
        work ahead on its GPUs that are up and the work of the requests queued there or on
        their way there (at the site's per-item time), over those GPUs; ``inf`` with none up.
        A policy counts the work already sent, as the live gateway does, or each decision
        interval would pile onto the site that looked free before the previous ones' requests
        arrived (``kernel.site_backlogs``)."""
        return self._site_backlogs()[0]

    def _site_model_backlog_s(self) -> np.ndarray:
        """Per site and model [S, M], the wait a new request of the model adds to its batch-1
        time there. A site whose GPUs run one batch at a time: its backlog
        (:meth:`_site_backlog_s`). Where batches share a GPU: on the GPU (up, with a free
        instance of the model) where it would finish first, the time the batches already there
        take from it (processor sharing, no later arrivals: sum(min(r_i, x)) for their
        remaining times r_i and its time x), its own fixed overhead's stretch beside the
        overheads running there ((n_oh + 1) / overhead_overlap - 1 of it, where positive), plus
        the model's queued and coming work; with no free instance, the site's backlog and a
        held instance's overhead (``kernel.site_backlogs``)."""
        return self._site_backlogs()[1]

    def _site_model_queue(self) -> np.ndarray:
        """Per site and model [S, M], the requests queued there and those on their way."""
        return self._site_backlogs()[2]

    def _site_backlogs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The three above at once, and per site and service [S, V] the model's backlog less
        the lower ``compute_priority`` work a new request goes ahead of (one compiled pass; a
        snapshot takes it once)."""
        w = self.world
        if not len(w.site_names):
            n_models = len(w.model_names)
            return (np.zeros(0), np.zeros((0, n_models)),
                    np.zeros((0, n_models), dtype=np.int64), np.zeros((0, len(w.svc_model))))
        return K.site_backlogs(  # type: ignore[no-any-return]
            self._kw, self._sref, float(self.now_s), self._per_item_s, self.faults.gpu_up,
            self._rates.service)

    def _pending_moves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The context moves already decided (``kernel.pending_moves``): their time on each
        link, and each pair (``device * n_services + service``, sorted) with a request on its
        way, with the site its context goes to."""
        if not (self.world.svc_state_bits > 0).any():
            none = np.zeros(0, dtype=np.int64)
            return np.zeros(len(self.world.link_cap_bps)), none, none
        return K.pending_moves(self._kw, self._sref)  # type: ignore[no-any-return]

    def _ul_priorities(self, devices: np.ndarray, services: np.ndarray | None) -> np.ndarray:
        """Each upload's uplink priority (``ul_priority``): its service's, or the scenario's
        lowest where no service is given (everything in the buffer goes ahead of it)."""
        prio = self.world.svc_ul_priority
        if services is None:
            return np.full(len(devices), int(prio.max(initial=16)), dtype=np.int64)
        return np.ascontiguousarray(prio[services], dtype=np.int64)

    def _ul_backlog_bits(self, devices: np.ndarray,
                         services: np.ndarray | None = None) -> np.ndarray:
        """Bits waiting in each device's uplink buffer now, which a new request queues behind;
        with ``services``, only those a request of each service would wait behind (its
        ``ul_priority`` or a higher one's: ``kernel.ul_bits_ahead_of``)."""
        w = self.world
        if w.radio_model == 1:  # ideal: nothing waits but across a handover, which holds no bits
            return np.zeros(len(devices))
        if w.radio_model == 2:  # fixed-rate link: the time it stays busy sending, at its rate
            sends_from = np.maximum(self._st.ue_ul_elig[devices], self.now_s)
            busy_s = np.maximum(self._st.ue_ul_free[devices] - sends_from, 0.0)
            return busy_s * w.fixed_ul_bps  # type: ignore[no-any-return]
        if services is None:
            return self._st.ue_ul_bits[devices]  # type: ignore[no-any-return]
        devices = np.ascontiguousarray(devices, dtype=np.int64)
        return K.ul_bits_ahead_of(  # type: ignore[no-any-return]
            self._kw, self._sref, devices, self._ul_priorities(devices, services))

    def _ul_time_s(self, devices: np.ndarray, bits: np.ndarray,
                   services: np.ndarray | None = None) -> np.ndarray:
        """Expected time to send ``bits`` more from each device now, after its buffer (with
        ``services``, what goes ahead of each service's upload): the cell shared as processor
        sharing with the UEs that have data (``kernel.ul_times_s``)."""
        w = self.world
        bits = np.asarray(bits, dtype=np.float64)
        if w.radio_model == 1:
            return np.zeros(len(devices))
        if w.radio_model == 2:  # (the fixed link sends in turn, whatever the priority)
            return (self._ul_backlog_bits(devices) + bits) / w.fixed_ul_bps  # type: ignore[no-any-return]
        devices = np.ascontiguousarray(devices, dtype=np.int64)
        return K.ul_times_s(  # type: ignore[no-any-return]
            self._kw, self._sref, devices, np.ascontiguousarray(bits), self._ul_slot_fraction,
            self._ul_priorities(devices, services))

    def _link_wait_s(self, devices: np.ndarray) -> np.ndarray:
        """How long each device's radio link stays interrupted from now (s; world.hold_link
        holds both directions until the same time, the downlink's alone without the uplink's
        own SR and grant)."""
        return np.maximum(self._st.ue_dl_hold[devices] - self.now_s, 0.0)  # type: ignore[no-any-return]

    def _ul_report_round_s(self, devices: np.ndarray, bits: np.ndarray,
                           services: np.ndarray | None = None) -> np.ndarray:
        """The buffer status report's round each upload of ``bits`` adds now
        (``radio.first_grant_bytes``, ``nr.report_round_s``): where the device waits for its
        SR's grant (an empty buffer, or one the SR's grant has not served yet) and the grant
        cannot carry the upload and what goes ahead of it (with ``services``, by priority)."""
        if self._report_round_s <= 0.0:
            return np.zeros(len(devices))
        devices = np.ascontiguousarray(devices, dtype=np.int64)
        return K.report_rounds_s(  # type: ignore[no-any-return]
            self._kw, self._sref, devices,
            np.ascontiguousarray(bits, dtype=np.float64), self._report_round_s,
            self._ul_priorities(devices, services))

    def _ul_tx_w(self, devices: np.ndarray) -> np.ndarray:
        """A device's power while it sends now (W), as the kernel books it: under NR its
        power-controlled output on its share of the cell; under the fixed radio full power."""
        w = self.world
        if w.radio_model != 0:
            return w.ue_full_tx_w[devices]
        devices = np.ascontiguousarray(devices, dtype=np.int64)
        n_active = K.active_in_cells(self._kw, self._sref, devices, True)
        return K.ul_tx_w(self._kw, self._sref, devices, n_active)  # type: ignore[no-any-return]

    def _rate_bps(self, devices: np.ndarray, *, uplink: bool) -> np.ndarray:
        """A device's expected rate now: its SE times its cell's PRBs shared with the active UEs."""
        w = self.world
        if w.radio_model == 1:
            return np.full(len(devices), np.inf)
        if w.radio_model == 2:
            return np.full(len(devices), w.fixed_ul_bps if uplink else w.fixed_dl_bps)
        devices = np.ascontiguousarray(devices, dtype=np.int64)
        if not uplink:  # SE x free PRBs, shared with the cell's UEs that have answers
            return K.dl_rates_bps(  # type: ignore[no-any-return]
                self._kw, self._sref, devices, self._dl_slot_fraction)
        # the UEs with data in the uplink buffers, per cell, at each device's cell; the
        # scheduler's own capacity rule (power control, power-limited UEs)
        n_active = K.active_in_cells(self._kw, self._sref, devices, uplink)
        return K.ul_rates_bps(  # type: ignore[no-any-return]
            self._kw, self._sref, devices, n_active, self._ul_slot_fraction)

    # ---- results -------------------------------------------------------------------------------
    def _cumulative_site_load(self, t: np.ndarray | np.float64, free: np.ndarray, busy: np.ndarray,
                              qarea: np.ndarray, qlen: np.ndarray, qlast: np.ndarray,
                              ) -> tuple[np.ndarray, np.ndarray]:
        """Per site at times ``t`` (a scalar, or a column for rows of samples), from the GPUs'
        free times and busy seconds and the sites' queue state then: GPU busy seconds up to
        ``t`` (summed over the site's GPUs) and queue-length area."""
        if not len(self.world.site_names):
            return np.zeros(qarea.shape), np.zeros(qarea.shape)
        ahead = np.maximum(free - t, 0.0)
        busy = busy - np.where(np.isfinite(ahead), ahead, 0.0)
        busy_site = np.add.reduceat(busy, self.world.site_gpu_start, axis=-1)
        area = qarea + qlen * np.maximum(0.0, t - qlast)
        return busy_site, area

    def _sample_rows(self) -> list[np.ndarray]:
        """The load samples as arrays over time, [n] and [n, G] or [n, S]: t, the GPUs' free
        times and busy time, the sites' queue area, length, last change, and L1 GPU time (the
        engine's samples, with the kernel's rows between the first and the rest)."""
        py = self._samples
        cols = [np.stack([x[i] for x in py]) for i in range(len(py[0]))]
        if not self._kernel_samples:
            return cols
        st = self._st
        rows = st.samp[: int(st.ctr[K.C_SAMP_N])]
        g, n_sites = len(st.gpu_free), len(st.site_qarea)
        o = 1 + 2 * g
        kernel = [rows[:, 0], rows[:, 1 : 1 + g], rows[:, 1 + g : o], rows[:, o : o + n_sites],
                  rows[:, o + n_sites : o + 2 * n_sites].astype(st.site_qlen.dtype),
                  rows[:, o + 2 * n_sites : o + 3 * n_sites],
                  np.broadcast_to(cols[-1][:1], (len(rows), cols[-1].shape[1]))]
        return [np.concatenate([c[:1], k, c[1:]]) for c, k in zip(cols, kernel, strict=True)]

    def _record_sample(self) -> None:
        t = self.now_s
        n = int(self._st.ctr[K.C_SAMP_N])
        if t <= self._samples[-1][0] or (n and t <= self._st.samp[n - 1, 0]):
            return
        st = self._st
        if self.ran.active:
            self.ran.close_window(t)
            l1 = self.ran.l1_gpu_s.copy()
        else:
            l1 = self._samples[0][-1]  # zeros, shared
        state = (st.gpu_free, st.gpu_busy, st.site_qarea, st.site_qlen, st.site_qlast)
        if self._sample_copies:
            self._samples.append((t, *(a.copy() for a in state), l1))
        else:
            self._samples.append((t, *self._cumulative_site_load(np.float64(t), *state), l1))
        self._cell_samples.append((t, st.prb_sum_ul.copy(), st.prb_sum_dl.copy()))

    def timeseries(self) -> pa.Table:
        """Per site and sample window: GPU utilization and time-averaged queue length.

        Windows are a fixed grid of slots (about ``TIMESERIES_POINTS`` per run); each value is
        exact over its window (differences of cumulative busy time and queue area).
        """
        w = self.world
        rows = self._sample_rows()
        t = rows[0]
        n_win = len(t) - 1
        n_sites = len(w.site_names)
        if n_win < 1 or not n_sites:
            return pa.table({"t_start_s": pa.array([], pa.float64()), "t_end_s": pa.array(
                [], pa.float64()), "site": pa.array([], pa.string()), "gpu_utilization":
                pa.array([], pa.float64()), "mean_queue": pa.array([], pa.float64()),
                "l1_share": pa.array([], pa.float64())})
        if self._sample_copies:  # [n_win+1, S]
            busy, area = self._cumulative_site_load(rows[0][:, None], *rows[1:6])
        else:
            busy, area = rows[1], rows[2]
        l1_gpu_s = rows[-1]
        dt = np.diff(t)[:, None]
        util = np.diff(busy, axis=0) / (dt * w.site_n_gpus[None, :])
        queue = np.diff(area, axis=0) / dt
        l1_share = np.diff(l1_gpu_s, axis=0) / (dt * w.site_n_gpus[None, :])
        site_idx = np.tile(np.arange(n_sites, dtype=np.int32), n_win)
        return pa.table({
            "t_start_s": np.repeat(t[:-1], n_sites),
            "t_end_s": np.repeat(t[1:], n_sites),
            "site": pa.DictionaryArray.from_arrays(pa.array(site_idx), pa.array(w.site_names)),
            "gpu_utilization": util.ravel(),
            "mean_queue": queue.ravel(),
            "l1_share": l1_share.ravel(),
        })

    def _cell_sample_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cells' samples as arrays over time: t [n], and the PRBs each cell used so far,
        uplink and downlink [n, cells] (the engine's samples, with the kernel's rows between
        the first and the rest, as :meth:`_sample_rows`)."""
        py = self._cell_samples
        t = np.array([x[0] for x in py], dtype=np.float64)
        ul, dl = np.stack([x[1] for x in py]), np.stack([x[2] for x in py])
        if not self._kernel_samples:
            return t, ul, dl
        st = self._st
        rows = st.samp[: int(st.ctr[K.C_SAMP_N])]
        o = 1 + 2 * len(st.gpu_free) + 3 * len(st.site_qarea)
        c = ul.shape[1]
        return (np.concatenate([t[:1], rows[:, 0], t[1:]]),
                np.concatenate([ul[:1], rows[:, o : o + c], ul[1:]]),
                np.concatenate([dl[:1], rows[:, o + c : o + 2 * c], dl[1:]]))

    def cell_timeseries(self) -> pa.Table | None:
        """Per cell and sample window (the windows of :meth:`timeseries`): the share of its
        PRBs the simulated devices used per slot of each direction, as cells.parquet's
        ``prb_utilization_ul`` and ``_dl`` over the whole run (not the background traffic of
        ``ai_ran.traffic``), so a burst of uplink congestion shows where and when it was (a
        hospital planner's review: the run's mean hid it). NaN in a window with no slot of
        that direction (windows shorter than the TDD period, in runs of fewer than ~200
        periods); None under the ideal and fixed radios.

        Each direction's slots in a window are counted from the TDD pattern
        (``World.ul_prefix``, ``dl_prefix``): a special slot counts as a downlink slot, as the
        run's own counters count it."""
        w = self.world
        n_cells = len(w.cell_names)
        if w.radio_model != 0 or not n_cells:
            return None
        t, ul, dl = self._cell_sample_rows()
        n_win = len(t) - 1
        if n_win < 1:
            return pa.table({"t_start_s": pa.array([], pa.float64()),
                             "t_end_s": pa.array([], pa.float64()),
                             "cell": pa.array([], pa.string()),
                             "prb_utilization_ul": pa.array([], pa.float64()),
                             "prb_utilization_dl": pa.array([], pa.float64())})
        slots = np.rint(t / w.slot_s).astype(np.int64)
        plen = len(w.slot_type)
        util = []
        for used, prefix in ((ul, w.ul_prefix), (dl, w.dl_prefix)):
            n_dir = (slots // plen) * prefix[plen] + prefix[slots % plen]  # slots so far
            per_win = np.diff(n_dir).astype(np.float64)[:, None] * w.cell_prb[None, :]
            with np.errstate(invalid="ignore", divide="ignore"):
                util.append(np.where(per_win > 0, np.diff(used[:, :n_cells], axis=0) / per_win,
                                     np.nan))
        cell_idx = np.tile(np.arange(n_cells, dtype=np.int32), n_win)
        return pa.table({
            "t_start_s": np.repeat(t[:-1], n_cells),
            "t_end_s": np.repeat(t[1:], n_cells),
            "cell": pa.DictionaryArray.from_arrays(pa.array(cell_idx), pa.array(w.cell_names)),
            "prb_utilization_ul": util[0].ravel(),
            "prb_utilization_dl": util[1].ravel(),
        })

    def _direction_slots(self) -> tuple[int, int]:
        """Uplink and downlink slots run so far (at least 1 each)."""
        ctr = self._st.ctr
        return max(1, int(ctr[K.C_NSLOT_UL])), max(1, int(ctr[K.C_NSLOT_DL]))

    def _links_summary(self) -> dict[str, dict[str, float]]:
        """Each transport link direction that carried anything, ``"a->b"``: its capacity
        (Gbit/s, without faults) and utilization, the share of the run it was busy sending
        (bits / capacity of every message it carried, at the capacity then, less the backlog
        still ahead of it at the end)."""
        w, st = self.world, self._st
        dur = float(self.now_s)
        cap = getattr(self.faults, "link_cap0", w.link_cap_bps)
        done = st.link_busy - np.maximum(st.link_free - dur, 0.0)
        return {
            f"{w.node_names[int(w.link_a[k])]}->{w.node_names[int(w.link_b[k])]}": {
                "capacity_gbps": float(cap[k]) / 1e9,
                "utilization": min(float(done[k]) / dur, 1.0) if dur > 0 else 0.0,
            }
            for k in np.flatnonzero(st.link_busy > 0.0)
        }

    def _cells_summary(self, n_ul: int, n_dl: int) -> dict[str, Any]:
        """The cells' PRB use per slot of each direction: the mean over every cell, the busiest
        cell and how many cells used more than CELL_BUSY of the PRBs background traffic left
        them (the radio is then a bottleneck there). None of it under the ideal
        and fixed radios."""
        w = self.world
        st = self._st
        out: dict[str, Any] = {"count": len(w.cell_names)}
        # the background's mean share of each direction over the run (0 without it): the
        # fleets' PRBs are over the whole carrier, their room is what the background leaves
        n_cells = len(w.cell_names)  # (the state's per-cell rows keep a spare one)
        for key, used, n, bg_s in (("dl", st.prb_sum_dl[:n_cells], n_dl, self.ran.background_s),
                                   ("ul", st.prb_sum_ul[:n_cells], n_ul,
                                    self.ran.background_ul_s)):
            left = 1.0 - (bg_s / self.now_s if self.now_s > 0 else 0.0)
            out[f"background_share_{key}"] = 1.0 - left
            nr = w.radio_model == 0 and len(w.cell_names) > 0
            util = used / w.cell_prb / n if nr else None
            out[f"mean_prb_utilization_{key}"] = float(np.mean(util)) if util is not None else None
            out[f"max_prb_utilization_{key}"] = float(np.max(util)) if util is not None else None
            out[f"busiest_cell_{key}"] = (w.cell_names[int(np.argmax(util))]
                                          if util is not None else None)
            out[f"cells_busy_{key}"] = (int(np.sum(util > CELL_BUSY * left))
                                        if util is not None else None)
        out["busy_threshold"] = CELL_BUSY
        # the uplink's PRB sharing (radio.scheduler; the downlink always shares round robin)
        out["uplink_scheduler"] = (self.scenario.radio.scheduler
                                   if w.radio_model == 0 and len(w.cell_names) > 0 else None)
        return out

    def cell_table(self) -> pa.Table:
        """Per cell: position (m), sector azimuth index, mean PRB utilization, attached devices."""
        w = self.world
        st = self._st
        # per slot of each direction (a saturated DDDSU uplink reads 1, not its 1/5 of slots)
        n_ul, n_dl = self._direction_slots()
        nr = w.radio_model == 0
        devices = np.bincount(w.dev_cell, minlength=len(w.cell_names))
        return pa.table({
            "cell": pa.array(w.cell_names),
            "site": pa.array([n.split("/")[0] for n in w.cell_names]),
            "x_m": w.cell_xy[:, 0],
            "y_m": w.cell_xy[:, 1],
            "prb_utilization_ul": st.prb_sum_ul[: len(w.cell_names)] / w.cell_prb / n_ul if nr
            else np.full(len(w.cell_names), np.nan),
            "prb_utilization_dl": st.prb_sum_dl[: len(w.cell_names)] / w.cell_prb / n_dl if nr
            else np.full(len(w.cell_names), np.nan),
            "devices": devices,
        })

    def uplink_gain_per_prb_mw(self) -> np.ndarray:
        """Per device, its uplink SINR per PRB per mW of output on its serving cell, at the
        cells' uplink interference now (the kernel's; nr radio only, else empty)."""
        if self.world.radio_model != 0 or not len(self.world.cell_names):
            return np.zeros(0)
        from airan.engine.uplink_figures import uplink_gains

        return uplink_gains(self._kw, self._sref)  # type: ignore[no-any-return]

    def device_table(self) -> pa.Table:
        """Per device: position and height above ground (m), fleet, serving cell, its
        downlink geometry SINR (dB), its uplink SINR per PRB (dB) and rate on its cell's whole
        free carrier (Mbit/s), and its building's or car's penetration loss (dB,
        :mod:`airan.radio.penetration`).

        The downlink SINR is that of a fully loaded network (every neighbour transmitting), from
        the serving cell's gain over the strongest others and the residual beyond them. The
        uplink's are the radio's own (:mod:`airan.engine.uplink_figures`): with each cell's
        uplink interference at the end of the run, the open-loop power per PRB and the receive
        antennas' combining gain; the rate over every slot (the TDD pattern's uplink share
        included), alone on the PRBs background traffic leaves. Under the ideal and fixed radios
        the uplink SINR is NaN and the rate infinite or the fixed uplink rate.
        """
        w = self.world
        top = w.dev_top_cell
        rx = w.cell_tx_on_mw[w.cell_carrier[top[:, :1]], top] * w.dev_top_gain  # [N, K] mW
        interference = rx[:, 1:].sum(axis=1) + w.dev_resid_gain_mw
        with np.errstate(divide="ignore"):
            sinr_db = 10 * np.log10(rx[:, 0] / (interference + w.dev_dl_noise_mw))
        if w.radio_model == 0 and len(w.cell_names):
            sinr_ul, rate_ul_bps = uplink_figures(self._kw, self._sref, self._ul_slot_fraction)
            with np.errstate(divide="ignore"):
                sinr_ul_db = 10 * np.log10(sinr_ul)
            # the downlink's alone on its cell: the policies' rate (its SE at the cell's
            # interference now, the free PRBs, the downlink's share of the slots) without the
            # cell's other UEs with answers (an XR maker's review: no downlink rate anywhere)
            every = np.arange(w.n_devices, dtype=np.int64)
            rate_dl_bps = (K.dl_rates_bps(self._kw, self._sref, every, self._dl_slot_fraction)
                           * (1.0 + K.active_in_cells(self._kw, self._sref, every, False)))
        else:
            sinr_ul_db = np.full(w.n_devices, np.nan)
            rate_ul_bps = np.full(w.n_devices, {1: np.inf, 2: w.fixed_ul_bps}.get(
                w.radio_model, np.nan))
            rate_dl_bps = np.full(w.n_devices, {1: np.inf, 2: w.fixed_dl_bps}.get(
                w.radio_model, np.nan))
        return pa.table({
            "device": np.arange(w.n_devices, dtype=np.int64),
            "fleet": pa.DictionaryArray.from_arrays(
                pa.array(w.dev_fleet.astype(np.int32)), pa.array(w.fleet_names)
            ),
            "x_m": w.dev_xy[:, 0],
            "y_m": w.dev_xy[:, 1],
            # its height above ground (a drone maker's review: fleets flying 30 to 120 m could
            # not tell which height a SINR was at); a moving device's where the run ended
            "z_m": w.dev_h,
            "cell": pa.DictionaryArray.from_arrays(
                pa.array(w.dev_cell.astype(np.int32)), pa.array(w.cell_names)
            ),
            "sinr_dl_db": sinr_db,
            "sinr_ul_db": sinr_ul_db,
            "ul_rate_full_cell_mbps": rate_ul_bps / 1e6,
            "dl_rate_full_cell_mbps": rate_dl_bps / 1e6,
            # a building's or a car's loss on its links (TR 38.901 7.4.3), at its cell's
            # downlink frequency; 0 outdoors
            "penetration_db": penetration.wall_loss_by_code_db(
                w.dev_o2i.code, w.device_radio.cell_fc[w.dev_cell]) + w.dev_o2i.loss_db,
        })

    def _flush_trace(self) -> None:
        st = self._st
        n = int(st.ctr[K.C_TR_N])
        if n:
            self._trace_parts.append((st.tr_f[:n].copy(), st.tr_i[:n].copy()))
            st.ctr[K.C_TR_N] = 0

    def check_conservation(self) -> None:
        """created = met + late + dropped + in_flight, per (fleet, service) group and in total
        (the warm-up's requests with the rest); else raise."""
        st = self._st
        cnt = st.agg_cnt + st.warm_cnt
        drops_total = int(st.agg_drop.sum() + st.warm_drop.sum())
        in_flight = int(st.ctr[K.C_IN_FLIGHT])
        held = st.rq_f.shape[0] - int(st.ctr[K.C_FREE_TOP])
        created = int(cnt[:, K.A_CREATED].sum())
        ended = int(cnt[:, K.A_MET].sum() + cnt[:, K.A_LATE].sum() + cnt[:, K.A_DROPPED].sum())
        stage = st.rq_i[:, K.I_STAGE]
        place = st.rq_i[:, K.I_PLACE]
        coming = ((stage == K.ST_UL) | (stage == K.ST_UP) | (stage == K.ST_HELD)) & (place >= 0)
        en_route = np.zeros_like(st.site_en_route)
        np.add.at(en_route, (place[coming], st.rq_i[coming, K.I_SVC]), 1)
        if not np.array_equal(en_route, st.site_en_route):
            raise ConservationError(
                f"requests on their way to sites miscounted: {int(st.site_en_route.sum())} "
                f"counted, {int(en_route.sum())} under way")
        if (
            created != ended + in_flight
            or in_flight != held
            or drops_total != int(cnt[:, K.A_DROPPED].sum())
            or created != int(st.ctr[K.C_SEQ])
        ):
            raise ConservationError(
                f"conservation broken: created {created}, ended {ended}, in flight {in_flight} "
                f"(held {held}), drops by reason {drops_total}"
            )
        # per (fleet, service) group: a request counted under another's outcome balances the
        # totals
        w = self.world
        grp_in_flight = np.bincount(self._group_of(stage != K.ST_FREE), minlength=cnt.shape[0])
        grp_ended = cnt[:, K.A_MET] + cnt[:, K.A_LATE] + cnt[:, K.A_DROPPED]
        broken = np.flatnonzero(cnt[:, K.A_CREATED] != grp_ended + grp_in_flight)
        if not broken.size and self.warmup_s > 0.0:  # each pool on its own: the warm-up's
            warm_rows = (stage != K.ST_FREE) & (st.rq_f[:, K.T_CREATE] < self.warmup_s)
            warm = st.warm_cnt
            warm_in_flight = np.bincount(self._group_of(warm_rows), minlength=cnt.shape[0])
            broken = np.flatnonzero(warm[:, K.A_CREATED] != warm[:, K.A_MET] + warm[:, K.A_LATE]
                                    + warm[:, K.A_DROPPED] + warm_in_flight)
        if int(grp_in_flight.sum()) != held or broken.size:
            g = int(broken[0]) if broken.size else 0
            raise ConservationError(
                f"conservation broken for service {w.service_names[w.group_svc[g]]!r} of fleet "
                f"{w.fleet_names[w.group_fleet[g]]!r}: created {int(cnt[g, K.A_CREATED])}, "
                f"ended {int(grp_ended[g])}, in flight {int(grp_in_flight[g])} "
                f"({int(grp_in_flight.sum())} rows held of {held})")

    def _group_of(self, rows: np.ndarray) -> np.ndarray:
        """The (fleet, service) group (World.fleet_svc_group) of the request rows ``rows``."""
        st, w = self._st, self.world
        return w.fleet_svc_group[w.dev_fleet[st.rq_i[rows, K.I_DEV]], st.rq_i[rows, K.I_SVC]]

    def _per_service(self, per_group: np.ndarray) -> np.ndarray:
        """An outcome array kept per (fleet, service) group summed over each service's fleets."""
        out = np.zeros((len(self.world.service_names), *per_group.shape[1:]), per_group.dtype)
        np.add.at(out, self.world.group_svc, per_group)
        return out

    def result(self) -> Result:
        self._flush_trace()
        self.check_conservation()
        summary = self.summary()
        devices = self.device_table()
        if self.world.radio_model == 0 and summary.get("cells"):
            summary["cells"]["devices_radio"] = devices_radio(devices)
            # and per fleet (a drone maker's review: fleets at 30, 60, 100 and 150 m read as
            # one pooled line, devices.parquet grouped by hand)
            for f, name in enumerate(self.world.fleet_names):
                summary["fleets"][name]["radio"] = devices_radio(
                    devices, np.flatnonzero(self.world.dev_fleet == f))
        if self.fleet_scale != 1.0:
            from airan.api import note_fleet_scale

            note_fleet_scale(summary, self.fleet_scale)
        return Result(
            summary=summary,
            requests=self.trace_table(),
            timeseries=self.timeseries(),
            cell_timeseries=self.cell_timeseries(),
            cells=self.cell_table(),
            devices=devices,
            scenario=self.scenario_as_run(),
        )

    def scenario_as_run(self) -> Scenario:
        """The scenario with the policy, seed, duration, warm-up and trace settings this engine
        runs (a run folder's scenario.yaml: running it again gives the same run). A policy function
        passed in Python is named by its ``module:qualname`` where that name loads it back from
        another process; otherwise (a script's ``__main__``, a lambda, a nested function, a
        ``functools.partial``) the scenario keeps its own policy, and the summary names the
        function."""
        sc = self.scenario
        policy = self.policy_name if self._policy_loads_back() else sc.policy
        return sc.model_copy(update={
            "policy": policy, "seed": self.seed, "duration_s": self.duration_s,
            "engine": sc.engine.model_copy(update={"trace_limit": self.trace_limit,
                                                   "trace_sample": self.trace_sample,
                                                   "warmup_s": self.warmup_s})})

    def _policy_loads_back(self) -> bool:
        fn = self._policy_function
        if fn is None:
            return True  # given by name
        if self.policy_name.startswith("__main__:"):
            return False  # the script's or notebook's own module: not there in another process
        try:
            return resolve_policy(self.policy_name) is fn
        except Exception:  # noqa: BLE001  (any import or lookup failure: it does not load)
            return False

    def _overdue_rows(self) -> np.ndarray:
        """The request rows still in flight whose deadline has already passed.

        Their verdict is known (they will end late or dropped), so a policy that leaves many
        hopeless requests in flight must not look better than one that ends them:
        ``hit_ratio_with_overdue`` counts them as misses, where ``hit_ratio`` (met over ended)
        does not see them.
        """
        st = self._st
        # (the warm-up's requests count in no figure)
        live = np.flatnonzero((st.rq_i[:, K.I_STAGE] != K.ST_FREE)
                              & ~(st.rq_f[:, K.T_CREATE] < self.warmup_s))
        age_s = self.now_s - st.rq_f[live, K.T_CREATE]
        # the kernel's met rule, negated
        return live[age_s > self.world.svc_deadline_s[st.rq_i[live, K.I_SVC]] + 1e-12]

    def _overdue_size_bands(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Per service [V, 4], the overdue request rows ``rows`` by the quartile of the sizes
        sent their upload (``ul_kb``) and answer (``dl_kb``) falls in, where spread (zeros
        elsewhere): the answers only of those bound for a site, as a run's answered ones."""
        w, st = self.world, self._st
        svc, seq = st.rq_i[rows, K.I_SVC], st.rq_i[rows, K.I_SEQ]
        out = {}
        for key, answers, spread, edges, keep in (
                ("ul_kb", False, w.svc_ul_spread, w.svc_ul_quart,
                 np.ones(len(rows), dtype=bool)),
                ("dl_kb", True, w.svc_dl_spread, w.svc_dl_quart,
                 st.rq_i[rows, K.I_PLACE] >= 0)):
            counts = np.zeros((len(w.service_names), 4), dtype=np.int64)
            pick = keep & (spread[svc] != payload.FIXED)
            if pick.any():
                bits = K.bits_of_each(self._kw, svc[pick], seq[pick], answers)
                e = edges[svc[pick]]
                band = (bits > e[:, 0]).astype(np.int64) + (bits > e[:, 1]) + (bits > e[:, 2])
                np.add.at(counts, (svc[pick], band), 1)
            out[key] = counts
        return out

    def _overdue_per_group(self, rows: np.ndarray) -> np.ndarray:
        """The overdue request rows ``rows`` (:meth:`_overdue_rows`) per (fleet, service)
        group."""
        return np.bincount(self._group_of(rows), minlength=len(self.world.group_svc))

    def _device_outcomes(self, overdue_rows: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per device and each of its fleet's services (World.fleet_svc_slot): its requests
        ended, met, and its longest run of misses in a row, the overdue ones ``overdue_rows``
        counted in as misses (after those that ended: they will end late or dropped);
        [devices, services] each."""
        st, w = self._st, self.world
        out = st.dev_outcomes[: w.n_devices].astype(np.int64)
        ended, met, now, longest = (out[..., i] for i in range(4))
        dev = st.rq_i[overdue_rows, K.I_DEV]
        overdue = np.zeros_like(ended)
        np.add.at(overdue, (dev, w.fleet_svc_slot[w.dev_fleet[dev],
                                                  st.rq_i[overdue_rows, K.I_SVC]]), 1)
        return ended + overdue, met, np.maximum(longest, now + overdue)

    def _satisfaction(self, overdue_rows: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
        """The share of devices satisfied (each device's own hit ratio at its service's
        target: TR 38.838, airan.metrics.satisfaction), per service and per fleet."""
        return satisfaction_figures(self.world, *self._device_outcomes(overdue_rows))

    def summary(self) -> dict[str, Any]:
        """The run's summary: the same dict that is written to summary.json."""
        w = self.world
        st = self._st
        elapsed = max(self.now_s, 1e-12)
        overdue_rows = self._overdue_rows()
        overdue_g = self._overdue_per_group(overdue_rows)
        # each device's own hit ratio at its service's target (an XR maker's review: 99% met
        # over a fleet can be every headset at 99% or one in ten at 90%; TR 38.838)
        satisfied_v, satisfied_f = self._satisfaction(overdue_rows)
        cnt, drop_n, sums_v, hist_v, place_v = (self._per_service(a) for a in (
            st.agg_cnt, st.agg_drop, st.agg_sum, st.hist, st.agg_place))
        overdue = self._per_service(overdue_g)
        overdue_bands = self._overdue_size_bands(overdue_rows)
        held_v = self._per_service(st.agg_held) if st.dev_hold.shape[0] else None
        answered_v = self._per_service(st.agg_place + st.warm_place)  # the warm-up's too
        created = int(cnt[:, K.A_CREATED].sum())
        warm = int(st.warm_cnt[:, K.A_CREATED].sum())  # the warm-up's, in no figure
        services: dict[str, Any] = {}
        offered = offered_requests(self.scenario)
        for v, name in enumerate(w.service_names):
            sums = sums_v[v]
            done = int(cnt[v, K.A_MET] + cnt[v, K.A_LATE])
            services[name] = {
                **_outcomes(cnt[v], drop_n[v], sums, hist_v[v], int(overdue[v]),
                            float(w.svc_deadline_s[v]), float(w.svc_target[v])),
                "state_migrations": int(st.svc_migrations[v]) if w.svc_state_bits[v] > 0
                else None,
                "breakdown_ms": {
                    k: (float(sums[i] / done * 1e3) if done else None)
                    for i, k in enumerate(BREAKDOWN)
                },
                **late_breakdown(sums, int(cnt[v, K.A_LATE])),
                **upload_sizes(self.scenario.services[v], sums, cnt[v],
                               overdue_bands["ul_kb"][v]),
                **answer_sizes(self.scenario.services[v], sums, cnt[v],
                               int(place_v[v][-1]), overdue_bands["dl_kb"][v]),
                # the requests per second its devices offer (each at rate_hz; surges aside):
                # the load a short run's sample of arrivals stands for (report.cautions)
                "offered_per_s": offered[name][1],
                # its arrival process: a queue fed by random (Poisson) arrivals settles slowly
                # near capacity, one fed by periodic ones within their period (cautions)
                "arrivals": self.scenario.services[v].arrivals,
                # the priorities it is served at (1 first; 16 and 90 where it sets none): in
                # its device's uplink buffer, in a site's queue of its model, and between
                # devices on the air (its 5QI's level, or its own; radio.qos)
                "priority": service_priority(self.scenario.services[v]),
                # where its answered requests ran: each site's count, "local" its devices'
                "answered_at": {(w.site_names[k] if k < len(w.site_names) else "local"): int(n)
                                for k, n in sorted(enumerate(place_v[v].tolist()),
                                                   key=lambda kn: -kn[1]) if n},
            }
            if held_v is not None:  # where links may be interrupted: the requests whose
                # radio legs met an interruption, by its cause and their outcome
                services[name]["interrupted"] = interrupted(held_v[v])
            services[name]["devices_satisfied"] = satisfied_v[name]
            services[name]["latency_histogram"] = services[name].pop("latency_histogram")
        sites: dict[str, Any] = {}
        gpus = self.scenario.gpu_catalog()
        self.ran.close_window(self.now_s)
        over = np.maximum(st.gpu_free - elapsed, 0.0)
        over_s = np.where(np.isfinite(over), over, 0.0)
        work_scale = self.ran.ai_work_scale  # (a MIG instance's seconds in whole-GPU seconds)
        busy = st.gpu_busy - over_s
        out_s = self.faults.gpu_seconds_out(elapsed)  # (GPUs out of service: no capacity)
        for s, name in enumerate(w.site_names):
            g0, ng = int(w.site_gpu_start[s]), int(w.site_n_gpus[s])
            area = st.site_qarea[s] + st.site_qlen[s] * max(0.0, elapsed - st.site_qlast[s])
            x, y = (float(v) for v in w.site_xy[s])
            sites[name] = {
                "kind": w.site_kind[s],
                "x_m": x if math.isfinite(x) else None,
                "y_m": y if math.isfinite(y) else None,
                "gpus": ng,
                "gpu_utilization": float(busy[g0 : g0 + ng].sum() / (ng * elapsed)),
                "mean_queue": float(area / elapsed),
                "served": int(st.site_served[s]),
                "batches": int(st.site_batches[s]),
                "mean_batch": float(st.site_served[s] / st.site_batches[s])
                if st.site_batches[s]
                else None,
                **site_batching_room(w, s),
                "full_batch_load": site_full_batch_load(
                    w, s, answered_v[:, s], int(st.site_served[s]), elapsed,
                    ai_stretch=float(st.gpu_busy[g0 : g0 + ng].sum() / st.site_ai_work[s])
                    if st.site_ai_work[s] > 0 else 1.0,
                    gpu_s_out=float(out_s[g0 : g0 + ng].sum())),
            }
            if w.site_shared[s]:  # batches side by side: how busy each model's instances were
                run = st.site_run_area[s] + st.site_model_run[s] * max(
                    0.0, elapsed - st.site_run_last[s])
                sites[name]["instances_busy"] = {
                    w.model_names[m]: float(run[m] / (w.site_instances[s, m] * ng * elapsed))
                    for m in range(len(w.model_names)) if run[m] > 0.0}
            # power: idle plus the busy share (AI work and L1) of the dynamic range, per GPU;
            # AI work booked at a batch's start but running past now belongs to later
            spec = gpus[w.gpu_type_names[w.gpu_type[g0]]]
            ai_work = max(0.0, float(st.site_ai_work[s]) - float(
                (over_s[g0 : g0 + ng].sum()) * st.site_ai_share[s])) * float(work_scale[s])
            work = (ai_work + self.ran.l1_gpu_s[s]) / (ng * elapsed)
            sites[name]["power_w"] = float(
                ng * (spec.idle_w + min(1.0, work) * (spec.tdp_w - spec.idle_w)))
            # (an operator's energy planner: W alone, no kWh and no J per request served)
            sites[name].update(site_energy(sites[name]["power_w"], int(st.site_served[s]),
                                           elapsed))
            if self.ran.mode != "none":
                sites[name]["ai_ran"] = self.ran.site_summary(s, ai_work, elapsed)
        self.faults.close(self)
        fleets: dict[str, Any] = {}
        n_dev = np.bincount(w.dev_fleet, minlength=len(w.fleet_names))
        # on-board work booked at its start but running past now belongs to later
        ahead_main = np.maximum(st.dev_free[: w.n_devices] - elapsed, 0.0)
        ahead_eng = np.maximum(st.dev_eng_free[: w.n_devices] - elapsed, 0.0)
        ahead_s = np.bincount(w.dev_fleet, weights=ahead_main + ahead_eng.sum(axis=1),
                              minlength=len(w.fleet_names))
        # and its energy, at each engine's draw (the main one's, the accelerator's TDP)
        e_cols = ahead_eng.shape[1]
        ahead_j = np.bincount(w.dev_fleet, weights=ahead_main * w.fleet_active_w[w.dev_fleet]
                              + (ahead_eng * w.eng_power_w[w.dev_fleet][:, :e_cols]).sum(
                                  axis=1), minlength=len(w.fleet_names))
        uncovered = np.bincount(w.dev_fleet, weights=self._out_of_coverage,
                                minlength=len(w.fleet_names))
        uncovered_ul = np.bincount(w.dev_fleet, weights=self._out_of_coverage_ul,
                                   minlength=len(w.fleet_names))
        # DRX (radio.drx, a fleet's drx): per fleet, its UEs' time outside their inactivity
        # timers and what their radios drew then, up to now (kernel.drx_wake, and each UE's
        # stretch since)
        in_drx = st.fleet_drx.copy()
        if w.drx_any:
            K.drx_tail(self._kw, self._sref, float(self.now_s), in_drx)
        monitor_w = self.scenario.radio.pdcch_monitor_w
        # per fleet, its devices whose serving cell's SSB is below Qout now (a drone maker's
        # review: a parked fleet there, never monitored, was served as if in sync); None where
        # nothing is monitored (qout_db null, or a radio other than nr)
        qout = self.motion.qout
        below_qout = below_qout_per_fleet(w, qout, self.scenario.radio.ue_noise_figure_db)
        for f, name in enumerate(w.fleet_names):
            n = int(n_dev[f])
            device_s = n * elapsed
            local_s = st.fleet_local_s[f] - ahead_s[f]
            energy = float(st.fleet_energy_j[f] - ahead_j[f])
            # (idle for every second off the accelerator; engines of its own that ran at once
            # make its busy seconds more than the run's: each drew its own above the idle)
            idle_j = w.fleet_idle_w[f] * (device_s - local_s)
            # and the radio's PDCCH monitoring, all along (the transfers' energy is above it);
            # under DRX, on-durations and sleeps in place of it outside the inactivity timer
            power = ((energy + idle_j) / device_s + monitor_w
                     - (monitor_w * in_drx[f, 0] - in_drx[f, 1]) / device_s
                     if device_s > 0 else None)
            # per request, above the idle power the device draws anyway (as the policies
            # weigh it): the accelerator's TDP - idle while it computes
            marginal = energy - float(w.fleet_idle_w[f]) * max(0.0, local_s)
            battery = self.scenario.fleets[f].battery_wh
            base_w = self.scenario.fleets[f].base_power_w
            fleets[name] = {
                "devices": n,
                # (every request it created, the warm-up's too, as its energy covers the run)
                "requests": int(st.fleet_req[f]),
                "energy_per_request_j": marginal / st.fleet_req[f] if st.fleet_req[f] else None,
                "mean_power_w": power,
                "battery_life_h": (battery / (power + base_w) if battery and power is not None
                                   and power + base_w > 0 else None),
                # without a usable link even in an idle network (World.out_of_coverage), at
                # their first positions, before any fault
                "out_of_coverage": int(uncovered[f]),
                "out_of_coverage_uplink": int(uncovered_ul[f]),  # (the rest: downlink only)
                "below_qout": None if below_qout is None else int(below_qout[f]),
                **w.fleet_penetration(f),  # inside a building or a car: its model, mean loss
            }
            if base_w > 0:  # (its motors' and the like: battery life counts it)
                fleets[name]["base_power_w"] = base_w
            engines = self.scenario.fleets[f].engines
            if device_s > 0:  # its mean power by what drew it (a robot maker's, an XR
                # maker's and an operator's reviews: a headset's 3.63 W was 3 W of an idle
                # CPU, and the radio's share could not be read): the accelerator's idle power
                # all along, each on-board engine's draw above it while it ran (engines that
                # run at once each draw their own: a diff review), the radio's transfers
                # (every slot sent or received in, HARQ's resends), the PDCCH monitoring
                ahead_f = ahead_eng[w.dev_fleet == f].sum(axis=0)
                own_s = [float(st.fleet_eng_s[f, e] - ahead_f[e]) for e in range(len(engines))]
                idle_w = float(w.fleet_idle_w[f])
                on_board_j = ((local_s - sum(own_s)) * float(w.fleet_active_w[f])
                              + sum(x * float(w.eng_power_w[f, e])
                                    for e, x in enumerate(own_s)))
                radio_w = float((energy - on_board_j) / device_s)
                power_w = float(power) if power is not None else 0.0
                fleets[name]["power_breakdown_w"] = {
                    "compute": float((on_board_j - idle_w * local_s) / device_s),
                    "idle": idle_w,
                    # (a difference: rounding where the radio sent nothing, none kept)
                    "radio": radio_w if abs(radio_w) > 1e-9 * max(power_w, 1.0) else 0.0,
                    "monitoring": float(monitor_w - (monitor_w * in_drx[f, 0] - in_drx[f, 1])
                                        / device_s),
                }
            if device_s > 0 and (engines or self.scenario.fleets[f].computes_on_board):
                # each on-board engine's busy share (an AMR maker's review: the DLA's and the
                # GPU's headroom could not be read; a robot maker's: nor a lone accelerator's)
                ahead_f = ahead_eng[w.dev_fleet == f].sum(axis=0)
                own = [float(st.fleet_eng_s[f, e] - ahead_f[e]) for e in range(len(engines))]
                fleets[name]["on_board_busy"] = {
                    "main": float(local_s - sum(own)) / device_s,
                    **{e: x / device_s for e, x in zip(engines, own, strict=True)}}
            if fleet_drx(self.scenario, f) is not None:  # the share of its UEs' time
                # outside their inactivity timers
                fleets[name]["drx_share"] = (float(in_drx[f, 0] / device_s) if device_s > 0
                                             else None)
            # its devices' requests, per service (a service's figures split by fleet)
            per_svc = {
                w.service_names[v]: _outcomes(
                    st.agg_cnt[g], st.agg_drop[g], st.agg_sum[g], st.hist[g],
                    int(overdue_g[g]), float(w.svc_deadline_s[v]), float(w.svc_target[v]))
                for g, v in ((int(w.fleet_svc_group[f, v]), v) for v in w.fleet_services[f])
            }
            if held_v is not None:  # which interruptions met this fleet's requests of each
                for v in w.fleet_services[f]:  # service (an AGV maker's review: the fleets'
                    # detections and the arms' VLA calls told apart)
                    per_svc[w.service_names[v]]["interrupted"] = interrupted(
                        st.agg_held[int(w.fleet_svc_group[f, v])])
            met = sum(x["met"] for x in per_svc.values())
            ended = sum(x["met"] + x["late"] + x["dropped"] for x in per_svc.values())
            over = sum(x["overdue"] for x in per_svc.values())
            fleets[name].update({
                "met": met,
                "late": sum(x["late"] for x in per_svc.values()),
                "dropped": sum(x["dropped"] for x in per_svc.values()),
                "hit_ratio": met / ended if ended else None,
                "hit_ratio_with_overdue": met / (ended + over) if ended + over else None,
                "devices_satisfied": satisfied_f[name],
                "services": per_svc,
            })
            if held_v is not None:  # (its services' groups summed)
                groups = [int(w.fleet_svc_group[f, v]) for v in w.fleet_services[f]]
                fleets[name]["interrupted"] = interrupted(st.agg_held[groups].sum(axis=0))
        drops = st.agg_drop.sum(axis=0)
        self._flush_trace()  # (mid-run: the rows the kernel holds)
        n_tr = sum(len(p[0]) for p in self._trace_parts) + len(self._in_flight_rows()[0])
        complete = ((created + warm <= self.trace_limit or self.trace_sample >= 1.0)
                    and not st.ctr[K.C_TR_LOST])
        n_ul, n_dl = self._direction_slots()
        return {
            "airan_version": airan_version(),
            "scenario": w.name,
            "policy": self.policy_name,
            # what deadline-aware applies (a policy of one's own may read them)
            "objective": self.scenario.objective,
            "admission": self.scenario.admission,
            "seed": self.seed,
            # the layout's seed (None: the seed's), scenario.layout_seed
            "layout_seed": self.scenario.layout_seed,
            "duration_s": float(self.now_s),
            "wall_s": float(self.wall_s),
            # (the speed counts every request simulated, the warm-up's too)
            "requests_per_wall_s": float((created + warm) / self.wall_s)
            if self.wall_s > 0 else None,
            # requests created before it count in no figure but these: the queues fill from
            # empty meanwhile (time averages, of sites, cells, links and energy, cover the run)
            "warmup_s": self.warmup_s,
            "requests": {
                "created": created,
                "met": int(cnt[:, K.A_MET].sum()),
                "late": int(cnt[:, K.A_LATE].sum()),
                "dropped": int(cnt[:, K.A_DROPPED].sum()),
                "in_flight": created - int(cnt[:, K.A_MET].sum() + cnt[:, K.A_LATE].sum()
                                           + cnt[:, K.A_DROPPED].sum()),
                "created_in_warmup": warm,
                "overdue": int(overdue.sum()),
                "dropped_by_reason": {r: int(drops[i]) for i, r in enumerate(REASONS) if drops[i]},
            },
            "services": services,
            "sites": sites,
            # all of them: mean W, kWh, J per request served, the GPUs that did nothing
            "site_energy": sites_energy(sites, elapsed),
            "cells": self._cells_summary(n_ul, n_dl),
            "links": self._links_summary(),
            "devices": w.n_devices,
            "fleets": fleets,
            # the Qout the fleets' below_qout compare with (handover.qout_db; None: none)
            "qout_db": None if qout is None else self.scenario.handover.qout_db,
            "faults": [rec.summary() for rec in self.faults.records],
            "mobility": self.motion.summary(self.now_s) if self.motion.active else None,
            "ai_ran": {
                "mode": self.ran.mode,
                # a dropped L1 slot takes the cells' PRBs on the nr radio only (ideal and fixed
                # carry the data regardless)
                "radio_model": ("nr", "ideal", "fixed")[w.radio_model],
                "l1_slot_misses": int(self.ran.l1_slot_misses.sum()),
                # of them, those of a site with no GPU up (a fault's, not a lack of capacity)
                "l1_slots_down": int(self.ran.l1_slots_down.sum()),
                # the slots of all sites that run a cell's L1 (l1_slot_misses' denominator)
                "l1_slots": int(self.ran.l1_slots.sum()),
                # the GPUs that run the L1 (each site's own, all sites', under sites.*.ai_ran)
                "l1_gpu_hours": float(self.ran.l1_gpu_s.sum() / 3600),
                "ai_capacity_gpu_hours": float(
                    self.ran.ai_capacity_gpu_s[self.ran.hosted_cells > 0].sum() / 3600),
                "ai_gpu_hours": sum(
                    a["ai_gpu_hours"] for a in (v.get("ai_ran") for v in sites.values())
                    if a is not None and a["hosted_cells"] > 0),
                "background_utilization_now_dl": self.ran.background,
                "background_utilization_now_ul": self.ran.background_ul,
            } if self.ran.active else None,
            "trace": {
                "rows": n_tr,
                "limit": self.trace_limit,
                "sample_beyond_limit": self.trace_sample,
                "lost_rows": int(st.ctr[K.C_TR_LOST]),
                "complete": complete,
                # (it holds the warm-up's requests too: figures read from it leave them out)
                "warmup_s": self.warmup_s,
                # (a researcher's review: a complete trace's note spoke of a sample it lacked)
                "note": (
                    "every request" if complete else
                    f"every request up to the first {self.trace_limit:,}, then a seeded "
                    f"uniform {self.trace_sample:.2%} sample" if self.trace_sample > 0.0 else
                    f"the first {self.trace_limit:,} requests only (no sample beyond them: "
                    "figures from the trace are the start of the run's)"
                ),
            },
            "percentile_relative_error": MAX_RELATIVE_ERROR,
        }

    def _in_flight_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Trace rows of the traced requests still in flight now (kernel.in_flight_trace)."""
        if self._in_flight_at is None or self._in_flight_at[0] != self.now_s:
            self._in_flight_at = (self.now_s, K.in_flight_trace(self._kw, self._sref, self.now_s))
        return self._in_flight_at[1]  # type: ignore[no-any-return]

    def trace_table(self) -> pa.Table:
        """One row per traced request: service, device, fleet, placement, outcome, times (ms).

        A dropped request's ``latency_ms`` is the time from its creation to the drop; one still
        in flight at the end has outcome ``in_flight``, the stages it finished and NaN after.
        """
        w = self.world
        self._flush_trace()  # (mid-run: the rows the kernel holds)
        parts = [*self._trace_parts, self._in_flight_rows()]
        tf = np.concatenate([p[0] for p in parts])
        ti = np.concatenate([p[1] for p in parts])
        order = np.argsort(ti[:, 4], kind="stable")
        tf, ti = tf[order], ti[order]
        outcomes = ["met", "late"] + [f"dropped:{r}" for r in REASONS] + ["in_flight"]
        places = [*w.site_names, "unreachable", "rejected", "local"]
        # sites keep their index; -1 local, -2 rejected, -3 unreachable count from the end
        place_idx = np.where(ti[:, 2] >= 0, ti[:, 2], len(places) + ti[:, 2])
        cols: dict[str, Any] = {
            "request": pa.array(ti[:, 4]),
            "service": pa.DictionaryArray.from_arrays(
                pa.array(ti[:, 0].astype(np.int32)), pa.array(w.service_names)
            ),
            "device": pa.array(ti[:, 1]),
            "fleet": pa.DictionaryArray.from_arrays(
                pa.array(w.dev_fleet[ti[:, 1]].astype(np.int32)), pa.array(w.fleet_names)
            ),
            "placement": pa.DictionaryArray.from_arrays(
                pa.array(place_idx.astype(np.int32)), pa.array(places)
            ),
            "outcome": pa.DictionaryArray.from_arrays(
                pa.array(ti[:, 3].astype(np.int32)), pa.array(outcomes)
            ),
            # the cell its answer went to (its device's when the answer left the site), else
            # the one it was uploaded through; null without one (radio outage)
            "cell": pa.DictionaryArray.from_arrays(
                pa.array(ti[:, 5].astype(np.int32), mask=ti[:, 5] < 0),
                pa.array(w.cell_names)
            ),
            "created_s": pa.array(tf[:, 0]),
        }
        for i, k in enumerate(BREAKDOWN):
            cols[f"{k}_ms"] = pa.array(tf[:, 1 + i] * 1e3)
        cols["latency_ms"] = pa.array(tf[:, 8] * 1e3)
        # each one's upload and answer size: its service's, or drawn for it (ul_kb_spread,
        # dl_kb_spread; an answer's whether it was sent or not)
        for key, answers in (("ul_kb", False), ("dl_kb", True)):
            cols[key] = pa.array(K.bits_of_each(self._kw, ti[:, 0], ti[:, 4], answers) / 8e3)
        if self._st.dev_hold.shape[0]:  # where links may be interrupted: the interruption
            # its radio legs met the longest (kernel.held_cause), null where none
            cols["interrupted_by"] = pa.DictionaryArray.from_arrays(
                pa.array(ti[:, 6].astype(np.int32), mask=ti[:, 6] <= 0),
                pa.array(HOLD_CAUSES))
        return pa.table(cols)


def late_breakdown(sums: np.ndarray, late: int) -> dict[str, Any]:
    """The late requests' mean breakdown (ms; None without any): where a service's tail spent
    its time, which the mean over every request hides (a few late requests kept on a slow
    device, say, among many met at a GPU); ``late_on_device``: how many of them ran on their
    device, and ``late_device_ms`` the part of the queue and compute that was there (a mean
    over all the late ones, as the breakdown: its queue and compute less these are the compute
    sites'); ``late_latency_ms`` their mean latency; ``late_failed_site_ms`` the part of their
    uplink transport spent at compute sites that failed with them there. Requests never
    answered (dropped, or in
    flight at the end) are in none of them."""
    def mean_ms(x: float) -> float | None:
        return float(x / late * 1e3) if late else None

    return {
        "late_breakdown_ms": {k: mean_ms(sums[K.SUM_LATE + i]) for i, k in enumerate(BREAKDOWN)},
        # their mean latency: the parts' sum here (a live run's holds its runtime's overhead)
        "late_latency_ms": mean_ms(float(np.sum(sums[K.SUM_LATE:K.SUM_LATE + len(BREAKDOWN)]))),
        "late_on_device": int(sums[K.SUM_LATE_ON_DEVICE]),
        "late_device_ms": {"queue": mean_ms(sums[K.SUM_LATE_DEVICE_QUEUE]),
                           "compute": mean_ms(sums[K.SUM_LATE_DEVICE_COMPUTE])},
        # of their uplink transport, the time at compute sites that failed with them there
        # (a hospital's review: 99.7% of late robots' 'uplink transport' was the wait at a
        # dead on-prem server until its failure was noticed)
        "late_failed_site_ms": mean_ms(sums[K.SUM_LATE_FAILED]),
    }


def upload_sizes(service: Any, sums: np.ndarray, cnt: np.ndarray,
                 overdue_bands: Sequence[int] = (0, 0, 0, 0)) -> dict[str, Any]:
    """Where a service's uploads vary in size (``ul_kb_spread``), ``ul_kb``: its distribution
    (the sizes sent: ``mean``, ``cv``, ``p99``, ``largest``; closed forms) and the run's mean
    size of the requests answered, met, late and dropped (kB; None without any; every one's,
    whether its upload went on the air or not): whether the large ones went late. Nothing for
    a fixed size."""
    spread = service.ul_kb_spread
    if spread is None:
        return {}
    answered = int(cnt[K.A_MET] + cnt[K.A_LATE])
    sizes = spread.sizes()
    return {"ul_kb": {
        "dist": spread.dist,
        **{k: x * service.ul_kb for k, x in sizes.items() if k != "cv"},
        "cv": sizes["cv"],
        "answered_mean": mean_kb(sums[K.SUM_UL_BITS], answered),
        "met_mean": mean_kb(sums[K.SUM_UL_BITS] - sums[K.SUM_LATE_UL_BITS], int(cnt[K.A_MET])),
        "late_mean": mean_kb(sums[K.SUM_LATE_UL_BITS], int(cnt[K.A_LATE])),
        "dropped_mean": mean_kb(sums[K.SUM_DROPPED_UL_BITS], int(cnt[K.A_DROPPED])),
        # of the answered uploads larger than the mean (``mean``), how many, and how many
        # of those went late: a large frame's chance to miss beside a small one's
        "answered_above_mean": int(sums[K.SUM_ABOVE_MEAN]),
        "late_above_mean": int(sums[K.SUM_LATE_ABOVE_MEAN]),
        **payload.late_shares(answered, int(cnt[K.A_LATE]), int(sums[K.SUM_ABOVE_MEAN]),
                              int(sums[K.SUM_LATE_ABOVE_MEAN])),
        **by_quartile(spread, service.ul_kb, sums, K.SUM_UL_BAND, K.SUM_LATE_UL_BAND,
                      overdue_bands),
    }}


def answer_sizes(service: Any, sums: np.ndarray, cnt: np.ndarray, on_device: int,
                 overdue_bands: Sequence[int] = (0, 0, 0, 0)) -> dict[str, Any]:
    """Where a service's answers vary in size (``dl_kb_spread``), ``dl_kb``: as
    :func:`upload_sizes`' ``ul_kb``, of the answers sent down from a site (``sent``, of them
    ``late_sent`` late): not of those made on the devices (``on_device`` answered there),
    whose size could not make them late, nor of the dropped (an answer lost on the way may
    not have been made). Nothing for a fixed size."""
    spread = service.dl_kb_spread
    if spread is None:
        return {}
    sent = int(cnt[K.A_MET] + cnt[K.A_LATE]) - on_device
    late = int(cnt[K.A_LATE]) - int(sums[K.SUM_LATE_ON_DEVICE])
    sizes = spread.sizes()
    return {"dl_kb": {
        "dist": spread.dist,
        **{k: x * service.dl_kb for k, x in sizes.items() if k != "cv"},
        "cv": sizes["cv"],
        "sent": sent,
        "late_sent": late,
        "answered_mean": mean_kb(sums[K.SUM_DL_BITS], sent),
        "met_mean": mean_kb(sums[K.SUM_DL_BITS] - sums[K.SUM_LATE_DL_BITS], sent - late),
        "late_mean": mean_kb(sums[K.SUM_LATE_DL_BITS], late),
        "answered_above_mean": int(sums[K.SUM_DL_ABOVE_MEAN]),
        "late_above_mean": int(sums[K.SUM_LATE_DL_ABOVE_MEAN]),
        **payload.late_shares(sent, late, int(sums[K.SUM_DL_ABOVE_MEAN]),
                              int(sums[K.SUM_LATE_DL_ABOVE_MEAN])),
        **by_quartile(spread, service.dl_kb, sums, K.SUM_DL_BAND, K.SUM_LATE_DL_BAND,
                      overdue_bands),
    }}


def by_quartile(spread: Any, kb: float, sums: np.ndarray, answered_at: int, late_at: int,
                overdue: Sequence[int]) -> dict[str, Any]:
    """The answered requests (of the answers: those sent down) by the quartile of the sizes
    sent their size falls in, smallest first, and the late ones: ``quartiles_kb`` (the three
    edges, closed forms), ``answered_by_quartile``, ``late_by_quartile`` and their ratio
    ``late_share_by_quartile`` (None where none): where in the sizes the misses start, which
    one split at the mean hides under a long tail (a user's walk). And ``overdue`` of them
    still in flight past their deadline at the end (``overdue_by_quartile``), counted as
    missed in ``missed_share_by_quartile``, (late + overdue) / (answered + overdue), as
    ``hit_ratio_with_overdue`` counts them (a walk: 542 overdue answers left out of the
    shares of an overloaded run understated its misses)."""
    answered = [int(x) for x in sums[answered_at:answered_at + 4]]
    late = [int(x) for x in sums[late_at:late_at + 4]]
    over = [int(x) for x in overdue]
    return {"quartiles_kb": [x * kb for x in spread.quartiles()],
            "answered_by_quartile": answered, "late_by_quartile": late,
            "late_share_by_quartile": payload.band_shares(answered, late),
            "overdue_by_quartile": over,
            "missed_share_by_quartile": payload.band_shares(
                [a + o for a, o in zip(answered, over, strict=True)],
                [b + o for b, o in zip(late, over, strict=True)])}


def mean_kb(bits: float, n: int) -> float | None:
    """The mean size (kB) of ``n`` payloads of ``bits`` in all; None without any."""
    return float(bits / n / 8e3) if n else None


def links_interruptible(scenario: Scenario) -> bool:
    """Whether a run of ``scenario`` can interrupt a device's link: devices that move (not
    ``static``), a cell taken off the air (``cell_down``), or, where cells' L1 runs on GPUs
    (``ai_ran``), a site or GPU failure that takes its cells off the air. Only there are the
    requests counted by the interruption they met (a run of none reads as no figure, not as
    a count of none)."""
    if any(f.mobility is not None and f.mobility.model != "static" for f in scenario.fleets):
        return True
    l1 = scenario.ai_ran.mode != "none"
    return any(f.kind == "cell_down" or (l1 and f.kind in ("site_down", "gpu_down"))
               for f in scenario.faults)


def interrupted(held: np.ndarray) -> dict[str, dict[str, int]]:
    """The requests whose radio legs met a link interruption (``held`` [causes, 3], a row
    per cause, world.HOLD_CAUSES, of met, late and dropped counts), per cause with any:
    {cause: {met, late, dropped}}."""
    return {HOLD_CAUSES[c]: {"met": int(held[c, 0]), "late": int(held[c, 1]),
                             "dropped": int(held[c, 2])}
            for c in range(1, len(HOLD_CAUSES)) if held[c].any()}


def _outcomes(cnt: np.ndarray, drops: np.ndarray, sums: np.ndarray, hist: np.ndarray,
              overdue: int, deadline_s: float, target: float) -> dict[str, Any]:
    """A service's outcomes (or one fleet's share of them) from the kernel's counts, sums and
    latency histogram: requests, met / late / dropped, hit ratios, latency percentiles."""
    met, late, dropped = int(cnt[K.A_MET]), int(cnt[K.A_LATE]), int(cnt[K.A_DROPPED])
    done = met + late
    ended = done + dropped
    return {
        "count": int(cnt[K.A_CREATED]),
        "met": met,
        "late": late,
        "dropped": dropped,
        "in_flight": int(cnt[K.A_CREATED]) - ended,
        "overdue": overdue,
        "hit_ratio": met / ended if ended else None,
        "hit_ratio_with_overdue": met / (ended + overdue) if ended + overdue else None,
        "target_hit_ratio": target,
        "deadline_ms": deadline_s * 1e3,
        "dropped_by_reason": {r: int(drops[i]) for i, r in enumerate(REASONS) if drops[i]},
        "latency_ms": {
            "mean": float(sums[K.SUM_LATENCY] / done * 1e3) if done else None,
            "p50": _q(hist, 0.50),
            "p95": _q(hist, 0.95),
            "p99": _q(hist, 0.99),
            "p999": _q(hist, 0.999),
        },
        "latency_histogram": {
            "min_s": K.HIST_MIN_S,
            "gamma": K.HIST_GAMMA,
            "counts": _sparse_counts(hist),
        },
    }


def site_batching_room(w: World, s: int) -> dict[str, Any]:
    """Site ``s``'s largest batch (``max_batch``; None where the scenario's services' models
    batch to different limits there) and ``full_batch_gpu_share``: the GPU time a request takes
    in a full batch over its time alone, the most of those models on the site's GPU (1: a
    fuller batch saves nothing; None without batching). What a caution needs to say that a busy
    GPU in small batches has room (report.cautions)."""
    models = sorted({int(m) for m in w.svc_model})
    limits = {int(w.site_max_batch[s, m]) for m in models}
    g = int(w.gpu_type[w.site_gpu_start[s]]) if w.site_n_gpus[s] else None
    if len(limits) != 1 or g is None:
        return {"max_batch": None, "full_batch_gpu_share": None}
    b = limits.pop()
    table = w.svc_time_s[models, g]
    share = table[:, b] / b / table[:, 1] if b > 1 else np.ones(len(models))
    return {"max_batch": b, "full_batch_gpu_share": float(np.max(share)) if b > 1 else None}


def site_full_batch_load(w: World, s: int, answered: np.ndarray, served: int,
                         elapsed_s: float, ai_stretch: float = 1.0,
                         gpu_s_out: float = 0.0) -> float | None:
    """The share of site ``s``'s GPUs its ``served`` requests would have taken in full batches
    (each model's largest batch there): its load against what dynamic batching can carry.
    A batching GPU looks busy all the time at loads it carries with room (while one batch runs
    the next fills), so utilization alone reads as full; under 1 here, fuller batches take the
    same requests. The requests' mix by service from ``answered`` (its counted answers per
    service, shape (V,), the warm-up's too: like utilization, the whole run's), each batch
    stretched by ``ai_stretch``, the mean of 1 / the AI's share of the GPU its batches ran at
    (under ``ai_ran`` the cells' L1 takes the rest: the site's busy time over its AI work),
    over the GPU-seconds its GPUs were in service (``gpu_s_out`` of them out: a fault's GPU
    down, or its site down, carries nothing). None where it served none."""
    ng = int(w.site_n_gpus[s])
    total = float(answered.sum())
    gpu_s = ng * elapsed_s - gpu_s_out
    if ng == 0 or served <= 0 or total <= 0.0 or gpu_s <= 0.0:
        return None
    g = int(w.gpu_type[w.site_gpu_start[s]])
    m = w.svc_model[: len(answered)]
    b = w.site_max_batch[s, m]
    per_request_s = w.svc_time_s[m, g, b] / b  # GPU time a request takes in a full batch
    mean_s = float((answered * per_request_s).sum() / total)
    load = served * mean_s * ai_stretch / gpu_s
    if not w.site_shared[s]:
        return load
    # batches of several instances at once (a shared GPU, kernel._advance_shared): they share
    # its throughput, their fixed overheads run beside it (up to batching.overhead_overlap of
    # them at full speed), and each model runs no more than its own instances; the load is
    # the most used of the three (an AGV integrator's review: YOLOv8s, mostly overhead on an
    # H100, beside a VLA read as 103% where the VLA's own instances, the bottleneck, carried
    # 71 AGVs and collapsed at 72)
    overhead_s = np.minimum(w.svc_overhead_s[m, g], w.svc_time_s[m, g, b]) / b
    throughput = float((answered * (per_request_s - overhead_s)).sum())
    overheads = float((answered * overhead_s).sum()) / float(w.site_overhead_cap[s])
    per_model = np.bincount(m, weights=answered * per_request_s,
                            minlength=w.site_instances.shape[1])
    own = float((per_model / np.maximum(w.site_instances[s], 1)).max())
    return max(throughput, overheads, own) * served / total * ai_stretch / gpu_s


def _q(hist: np.ndarray, q: float) -> float | None:
    v = quantile(hist, q)
    return None if math.isnan(v) else float(v * 1e3)


def _sparse_counts(hist: np.ndarray) -> dict[str, int]:
    nz = np.nonzero(hist)[0]
    return {str(int(b)): int(hist[b]) for b in nz}




def service_priority(svc: Any) -> dict[str, int | None]:
    """A service's priorities as summary.json gives them (1 first): what it sets, or the
    level every service without one shares (16 in the buffer and the site queue; 90 on the
    air, the default bearer's 5QI 9)."""
    from airan.radio.qos import priority_level

    return {"ul": 16 if svc.ul_priority is None else svc.ul_priority,
            "compute": 16 if svc.compute_priority is None else svc.compute_priority,
            "five_qi": svc.five_qi,
            "qos_level": priority_level(svc.five_qi, svc.qos_priority_level)}
