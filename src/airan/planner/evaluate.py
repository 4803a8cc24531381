"""Run the twin on a candidate build-out, once per seed, with a cache keyed by content hash.

The key of a run is the SHA-256 of the candidate scenario as JSON (``model_dump(mode="json")``,
keys sorted) with the policy, seed and simulated duration set in it, plus the airan version and
a hash of its code and data files (a changed engine never reuses a stale run): two configs that
make the same scenario share one run, and an on-disk cache (``cache_dir``) lets a
second ``airan plan`` reuse the first one's runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from airan.errors import InputError
from airan.metrics.histogram import percentile_with_unanswered_ms
from airan.planner.space import GENERATED, Config, PlanSpace
from airan.planner.targets import METRICS, RATIO_METRICS, UNMEASURED_SHORTFALL, Target
from airan.report.cautions import (
    SETTLE_RUNS,
    WARMUP_RUNS,
    site_load,
    unsettled_sites,
)
from airan.report.placement import late_parts, table_weights
from airan.report.rundir import scenario_document
from airan.scenario.schema import Fault
from airan.version import code_identity

__all__ = ["Evaluation", "Evaluator", "run_key"]


def run_key(scenario_json: dict[str, Any]) -> str:
    """Content hash of a scenario (JSON form, files it names by absolute path:
    :func:`airan.report.rundir.scenario_document`), the contents of those files (a changed
    trace is another run), the airan version and its code's hash."""
    from airan.sweep.spec import file_digests

    ident: dict[str, Any] = {**code_identity(), "scenario": scenario_json}
    files = file_digests(scenario_json)
    if files:
        ident["files"] = files
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _num(x: Any) -> float | None:
    """A plain float, or None for missing / NaN / infinite."""
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


_PERCENTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p999": 0.999}


def _percentile_ms(v: Mapping[str, Any], metric: str) -> float | None:
    """A service's latency percentile (ms) with every request that got no answer (dropped, or
    in flight past its deadline at the end) counted as infinitely late: a p99 bound holds only
    if 99% of the requests were answered within it. None when the percentile falls among the
    unanswered, or nothing was answered (see metrics.histogram.percentile_with_unanswered_ms)."""
    return _num(percentile_with_unanswered_ms(v, _PERCENTILES[metric]))


def _unanswered_shortfall(t: Target, info: dict[str, Any], unmeasured: float) -> float:
    """A percentile target missed because too many requests got no answer: how far, as a hit
    target's miss is (the share unanswered beyond what the percentile allows, over that
    allowance), so that a build-out answering more ranks closer; and at least as far as a
    lower percentile measured misses the bound by (with the unanswered counted, each lower
    percentile is at most this one: a plan review's VLA, 1% unanswered and the rest answered
    at ~200 ms, ranked "closest" to a p99 of 80 ms, ahead of GPUs that answered all at 96);
    ``unmeasured`` otherwise."""
    q = _PERCENTILES.get(t.metric)
    count, unanswered = int(info.get("count") or 0), int(info.get("unanswered") or 0)
    if q is None or count == 0 or unanswered == 0:
        return unmeasured
    allowed = 1.0 - q
    below = [t.shortfall(v) for m, p in _PERCENTILES.items() if p < q
             and (v := info.get(m)) is not None]
    return max([max(unanswered / count - allowed, 1e-9) / allowed, *below])


#: a site offered this share of what its GPUs carry, even in full batches
#: (:func:`airan.report.cautions.offered_load`), has no steady state: its queue grows for as
#: long as the load lasts, so a build-out with one misses, whatever its short run met
OVERLOADED = 1.005  # (more than 100%: within half a percent, the estimate's own rounding)

#: a cell whose devices offer its uplink or downlink this share of what it carries at their
#: own SINR or more (:func:`airan.engine.offered_air.air_overloads`, validate's cell
#: warnings) has no steady state either: its queues grow for as long as the load lasts, and
#: no GPU changes that; a caution on a count or a plan, not a miss (the scheduler may serve
#: every device with a target while a let-go one queues)
AIR_OVERLOADED = 1.0


def air_miss(way: str, cell: str, share: float) -> str:
    """The caution on a build-out (or a count) whose cell ``cell`` is offered ``share`` of
    what its ``way`` ("ul", "dl") carries (:data:`AIR_OVERLOADED` or more)."""
    what = "uplink" if way == "ul" else "downlink"
    return (f"{cell} offered {share:.2f}x what its {what} carries at its devices' SINR (as "
            f"`airan validate` counts it): its {what} queues grow without end, whatever a "
            "short run met")


#: a relaxation time beyond this (s), a queue at capacity for any run
SETTLE_FOREVER_S = 86_400.0


def headroom_miss(site: str, load: float, max_load: float) -> str:
    """The miss of a build-out (or a count) whose ``site`` is offered ``load`` of what its GPUs
    carry at full batches (:func:`airan.report.cautions.offered_load`), above the headroom
    ``--max-load`` leaves: an operator sizes for a busy hour beyond the one modelled, a GPU
    lost, or the next year's growth (a queue's waits grow as 1 / (1 - load): at 0.7 a third of
    those at 0.9)."""
    return (f"{site} offered {load:.1%} of what its GPUs carry (at full batches), above the "
            f"{max_load * 100:g}% --max-load leaves")


#: a load within this of ``--max-load`` keeps it (70 devices of 10 ms at 1 Hz offer
#: 0.7000000000000001 of a GPU: at the headroom, not above it; a diff review)
HEADROOM_TOLERANCE = 1e-9


def above_headroom(load: float, max_load: float | None) -> bool:
    """Whether ``load`` is above the headroom ``max_load`` leaves (False where none)."""
    return max_load is not None and load > max_load + HEADROOM_TOLERANCE


def check_max_load(max_load: float | None) -> None:
    """``--max-load``: a share of what GPUs carry, in (0, 1] (None: no headroom asked)."""
    if max_load is not None and not 0.0 < max_load <= 1.0:
        raise InputError("must be in (0, 1]: the largest share of what a site's GPUs carry (at "
                         "full batches) that its devices may offer it, e.g. 0.7",
                         field="--max-load", value=max_load)


def faults_past_warmup(sc: Any, warmup_s: float, counted_from_s: float) -> Any:
    """``sc`` for a confirmation run whose counted time starts at ``warmup_s``, where the
    planner's runs counted from ``counted_from_s`` (the scenario's own warm-up): each fault
    moved as much later, so that it falls as far into the time counted (a port's review: a
    site down at 1-3 s fell within the confirmation's 8 s warm-up, and the plan was
    "confirmed" on runs that never saw it); one that holds from the time counted (or before) to
    the end stays, through the warm-up too."""
    shift = warmup_s - counted_from_s
    if not sc.faults or shift <= 0.0:
        return sc
    # (a fault from the time counted on to the end, a busy hour's surge, stays: it holds
    # through the warm-up too, as the queues fill under it; a diff review)
    moved = [f if f.end_s is None and f.start_s <= counted_from_s else
             f.model_copy(update={"start_s": f.start_s + shift,
                                  "end_s": None if f.end_s is None else f.end_s + shift})
             for f in sc.faults]
    return sc.model_copy(update={"faults": moved})


#: what ``--survive`` takes: the loss every build-out must meet the targets through
SURVIVE = ("gpu", "site")


def check_survive(survive: str | None) -> None:
    """``--survive``: one of :data:`SURVIVE` (None: no loss asked)."""
    if survive is not None and survive not in SURVIVE:
        raise InputError("must be gpu (any one GPU the plan buys down) or site (any one site "
                         "it sizes down)", field="--survive", value=survive,
                         choices=list(SURVIVE))


def unsettled_miss(site: str, tau_s: float, metrics: dict[str, Any]) -> str:
    """The miss of a build-out (or a count) whose run at ``site`` had no time to settle
    (:func:`airan.report.cautions.unsettled_sites`, ``tau_s`` its queue's relaxation time):
    its figures are the start's, better than a steady day's (a planner's review: max-fleet
    gave 97 devices on an M/D/1 GPU whose steady state meets the target up to 77, its 2 s
    runs meeting 100% at 97 where an 8 s confirmation met 51%)."""
    run = float(metrics.get("duration_s") or 0.0) - float(metrics.get("warmup_s") or 0.0)
    if tau_s > SETTLE_FOREVER_S:  # (rho within a rounding of 1: 1e27 s said nothing)
        return f"{site}'s queue is at capacity: no steady state, whatever a short run met"
    return (f"{site}'s queue had no time to settle in the {run:g} s counted (~{tau_s:.3g} s "
            f"to settle: runs of {SETTLE_RUNS * tau_s:.3g} s, or a warm-up of "
            f"{WARMUP_RUNS * tau_s:.3g} s, tell; a short run's figures are the start's)")


#: the request trace a planner run keeps, only to tell the requests that ran on the devices
#: from those on a GPU (every request up to the limit, then a seeded uniform sample: the
#: sample is a hash of the request, it does not change the run)
TRACE_LIMIT = 2_000
TRACE_SAMPLE = 0.02


def metric_value(v: Mapping[str, Any], metric: str) -> float | None:
    """A target's metric (:data:`~airan.planner.targets.METRICS`) from a service's outcomes in
    a run summary (``services.<s>``, or a fleet's share of them, ``fleets.<f>.services.<s>``,
    where ``satisfied`` is None)."""
    if metric == "hit":  # overdue requests (in flight past their deadline at the end) count
        # as misses: a build-out that leaves hopeless requests queued must not pass on the
        # ones that ended
        return _num(v.get("hit_ratio_with_overdue", v.get("hit_ratio")))
    if metric == "satisfied":  # the share of its devices whose own hit ratio meets its
        # target (TR 38.838; None: no device ended a request)
        return _num((v.get("devices_satisfied") or {}).get("share"))
    if metric == "consecutive":  # the longest run any device missed in a row (None: no
        # device ended a request)
        runs = (v.get("devices_satisfied") or {}).get("misses_in_a_row") or {}
        return _num(runs.get("longest"))
    if metric == "mean":  # over the answered requests
        return _num((v.get("latency_ms") or {}).get("mean"))
    return _percentile_ms(v, metric)


def requests_due(v: Mapping[str, Any]) -> int:
    """A service's requests (in a run summary's outcomes) that ended or came due: met, late,
    dropped and overdue (a fleet's share with none says nothing of the targets)."""
    return sum(int(v.get(k, 0)) for k in ("met", "late", "dropped", "overdue"))


def _metrics(summary: dict[str, Any], local: dict[str, Any] | None = None) -> dict[str, Any]:
    """The compact part of a run summary the planner keeps (and caches), JSON-ready.

    ``local``: per service, the shares of its requests, queue and compute time on the devices
    themselves (report.placement.local_shares), kept as ``local_share``."""
    services = {}
    for name, v in summary["services"].items():
        share = (local or {}).get(str(name))
        services[str(name)] = {
            **{m: metric_value(v, m) for m in METRICS},
            "requests_per_device": _num((v.get("devices_satisfied") or {}).get(
                "requests_per_device")),
            "device_target": _num(v.get("target_hit_ratio")),
            "count": int(v.get("count", 0)),
            "due": requests_due(v),
            # the requests a second its devices offer (how long a run tests it)
            "offered_per_s": _num(v.get("offered_per_s")),
            "dropped": int(v.get("dropped", 0)),
            "unanswered": int(v.get("dropped", 0)) + int(v.get("overdue", 0)),
            "breakdown_ms": {str(k): _num(x) for k, x in (v.get("breakdown_ms") or {}).items()},
            # the late requests' breakdown, queue and compute split by where they ran (None:
            # none late, or a run cached before airan kept it)
            "late": int(v.get("late", 0)),
            "late_parts": late_parts(v),
            # of those, the ones whose radio legs met a link interruption, by its cause (a
            # handover, a radio link failure: report.events; a teleoperation lead's review:
            # max-fleet's one vehicle missed on its handovers, and it named no cause)
            "late_interrupted": {str(c): int(n.get("late") or 0)
                                 for c, n in (v.get("interrupted") or {}).items()
                                 if int(n.get("late") or 0)},
            # this seed's unanswered, beside its late (``unanswered`` sums the seeds')
            "seed_unanswered": int(v.get("dropped", 0)) + int(v.get("overdue", 0)),
            # the hit ratio of the seed whose breakdown is kept (_merge_service)
            "parts_hit": metric_value(v, "hit"),
            # (None: no request of it in the trace; the breakdown's queue and compute are then
            # not known to be on the GPUs or on the devices)
            "local_share": None if share is None else {
                "requests": share.requests, "queue": share.queue, "compute": share.compute},
        }
    from airan.report.cautions import offered_load

    # the relaxation time of a queue a run this short cannot tell the steady state of
    settle = {name: tau for name, _, tau in unsettled_sites(summary)}
    sites = {str(name): {"gpus": int(c.get("gpus") or 0),
                         "gpu_utilization": _num(c.get("gpu_utilization")),
                         "power_w": _num(c.get("power_w")),
                         "served": int(c.get("served") or 0),
                         # the load its devices offer it at full batches (1 or more: its
                         # queue grows until it drops, whatever a short run met)
                         "offered_load": _num((offered_load(summary, str(name))
                                               or (None,))[0]),
                         "settle_s": settle.get(str(name))}
             for name, c in (summary.get("sites") or {}).items()}
    # slots the RAN's L1 missed on GPUs that host cells (ai_ran): a build-out whose cell-site
    # GPUs cannot carry the L1 fails whatever its AI latencies; not those a fault's outage
    # lost (no GPU up: more GPUs would not help)
    ar = summary.get("ai_ran") or {}
    l1_misses = int(ar.get("l1_slot_misses") or 0) - int(ar.get("l1_slots_down") or 0)
    return {"services": services, "sites": sites, "wall_s": _num(summary.get("wall_s")),
            "l1_slot_misses": l1_misses, "duration_s": _num(summary.get("duration_s")),
            "warmup_s": _num(summary.get("warmup_s"))}


def _placement_shares(table: Any, trace: dict[str, Any] | None) -> dict[str, dict[str, float]]:
    """Per service, the share of its traced requests (weighted as the trace sampled them) that
    each placement (a site's name, ``local``, ``rejected``, ``unreachable``) took: what a plan
    owes to a site it does not cost."""
    if table.num_rows == 0:
        return {}
    service = table.column("service").to_pylist()
    place = table.column("placement").to_pylist()
    weight = table_weights(table, trace)
    totals: dict[str, float] = {}
    out: dict[str, dict[str, float]] = {}
    for s, p, w in zip(service, place, weight.tolist(), strict=True):
        totals[s] = totals.get(s, 0.0) + w
        out.setdefault(s, {})[p] = out.get(s, {}).get(p, 0.0) + w
    # (a service whose traced requests all fell in the warm-up weighs nothing: no shares, as
    # without a trace; a humanoid maker's review: an LLM planner at 0.8 a second, its 3 traced
    # requests in the confirmation's warm-up, crashed plan at its end, ZeroDivisionError)
    return {s: {p: w / totals[s] for p, w in places.items()} for s, places in out.items()
            if totals[s] > 0}


def _worse(metric: str, a: float | None, b: float | None) -> float | None:
    """The worse of two values of a metric (None, i.e. unmeasured, is the worst)."""
    if a is None or b is None:
        return None
    return min(a, b) if metric in RATIO_METRICS else max(a, b)


#: the requests a run that tests a service should have of it (the untested note's length)
UNTESTED_REQUESTS = 100


def untested(service: Mapping[str, Any] | None) -> bool:
    """True where a service's run (every seed's, merged) created no request of it at all:
    its targets could not be tested (a camera planner's review: a 0.01 Hz service on 20
    devices sent none in 2 s runs, and max-fleet answered "not even one device"). Requests
    created but not yet ended or due are not this: a build-out too slow to finish any must
    miss (a diff review: three L4s "met" a p99 no request of theirs could)."""
    return service is not None and service.get("count") == 0


def untested_targets(targets: Sequence[Target], services: Mapping[str, Mapping[str, Any]]
                     ) -> list[Target]:
    """The targets kept from a service's ``target_hit_ratio`` (no ``--target`` names it) on
    a service a run did not test (:func:`untested`), but those let go (``hit>=0``, met
    whatever the run): neither met nor missed. A target a ``--target`` names must be tested:
    untested, it misses (a diff review: a named target no request tested read as met)."""
    return [t for t in targets if t.kept and not t.met(None)
            and untested(services.get(t.service))]


def untested_note(targets: Sequence[Target], services: Mapping[str, Mapping[str, Any]],
                  duration_s: float) -> str:
    """A line on ``targets``, untested in runs of ``duration_s`` (:func:`untested_targets`):
    per service, the rate its devices offer and the run length that gives
    ``UNTESTED_REQUESTS`` of its requests."""
    parts = []
    for name in dict.fromkeys(t.service for t in targets):
        texts = ", ".join(t.text for t in targets if t.service == name)
        rate = services.get(name, {}).get("offered_per_s") or 0.0
        need = (f"its devices offer {rate:.3g} a second, so runs of ~"
                f"{math.ceil(UNTESTED_REQUESTS / rate):,} s give ~{UNTESTED_REQUESTS}"
                if rate > 0 else "its devices offer none")
        parts.append(f"{texts} (no {name} request in the {duration_s:g} s runs; "
                     f"{need})")
    return ("not evaluated, neither met nor missed, and no part of the answer: "
            + "; ".join(parts))


#: the figures of where a service's time went, kept from one seed (:func:`_merge_service`)
PARTS_FIELDS = ("breakdown_ms", "late", "late_parts", "late_interrupted", "local_share",
                "seed_unanswered", "parts_hit")


def _merge_service(merged: dict[str, Any] | None, v: dict[str, Any]) -> dict[str, Any]:
    """A service's figures over the seeds so far (``merged``; None: none yet) with one more
    seed's ``v``: the worst of each metric over the seeds that tested it (:func:`untested`;
    a seed with no request of it had nothing to measure), the counts summed, and where its
    time went (``PARTS_FIELDS``) from the seed of the lowest hit ratio, the first among
    equals: the seed the misses come from (a port terminal's review: a plan's confirmation
    said a service's misses were 19.5 ms, mostly its uplink's air time, from the seed that met
    every target, where the seed that missed took 399 ms, mostly the uplink's wait)."""
    if merged is None:
        return dict(v)
    counts = {k: int(merged.get(k) or 0) + int(v.get(k) or 0)
              for k in ("count", "dropped", "unanswered", "due")}
    if untested(v):
        return {**merged, **counts}
    if untested(merged):  # (the first seed that tested it)
        return {**v, **counts}
    out = dict(merged)
    kept = merged.get("parts_hit")  # (not the merged hit, None once any seed's is unmeasured)
    if v.get("parts_hit") is not None and (kept is None or v["parts_hit"] < kept):
        out.update({k: v.get(k) for k in PARTS_FIELDS})
    for m in METRICS:
        out[m] = _worse(m, merged.get(m), v.get(m))
    a, b = merged.get("requests_per_device"), v.get("requests_per_device")
    out["requests_per_device"] = None if a is None or b is None else min(a, b)
    return {**out, **counts}


#: how a failed run's miss begins (Evaluation.failed)
FAILED_MISS = "run failed: "


@dataclass(frozen=True)
class Evaluation:
    """One candidate build-out, run on every seed: metrics are the worst over seeds."""

    index: int
    phase: str
    config: Config
    description: str
    keys: tuple[str, ...]
    cost_usd: float
    peak_power_w: float
    average_power_w: float
    gpus: int
    feasible: bool
    shortfall: float
    services: dict[str, dict[str, Any]]
    slot_utilization: tuple[float | None, ...]
    runs: int  # engine runs made for it (0 when every seed came from the cache)
    wall_s: float
    misses: tuple[str, ...] = field(default_factory=tuple)
    # per slot, the busy share of the GPUs' dynamic power range (AI work and the RAN's L1, a MIG
    # instance's seconds at its share of the GPU), from the run's site power: what average power
    # needs (None: not known, utilization stands in)
    slot_busy_share: tuple[float | None, ...] = field(default_factory=tuple)
    # the scenario's compute sites that are no slot (fixed, not costed): per site its GPUs, the
    # requests it served (over the seeds) and its GPUs' utilization (mean over the seeds); a
    # plan that leans on them must say so
    fixed_sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what `airan run` would caution about its runs (airan.report.cautions, each seed's, once):
    # a plan confirmed by a run whose queues had no time to settle must say so (a review)
    cautions: tuple[str, ...] = ()
    # per slot, the share of its GPUs its requests would take in full batches (summary.json's
    # full_batch_load, mean over seeds; utilization where a site has none): how near its GPUs
    # are to what dynamic batching carries, where a batching GPU looks busy all the time
    slot_load: tuple[float | None, ...] = field(default_factory=tuple)
    # the kept targets its runs did not test (no request of their service): neither met nor
    # missed, they decide nothing, and the plan says so (untested_note)
    untested: tuple[Target, ...] = ()
    # the cells offered what their uplink or downlink carries or more: (direction, cell,
    # share), the worst over the seeds (air_miss: no GPU fixes them)
    air_overloaded: tuple[tuple[str, str, float], ...] = ()
    # per slot, the load its devices offer its GPUs at full batches (offered_load), the worst
    # over the seeds and, for the generated sites, over them (None: it served nothing): what
    # --max-load holds to
    slot_offered: tuple[float | None, ...] = field(default_factory=tuple)
    # and the site of it (for the generated sites, the one offered the most)
    slot_offered_site: tuple[str | None, ...] = field(default_factory=tuple)
    # with --survive: whether it met the targets with each loss too (None: not asked, or it
    # missed without a loss)
    survived: bool | None = None
    # with --survive: each service's figures, the worst over its runs and its losses' runs (what
    # "meets this service's targets" judges; empty: no loss run)
    services_with_losses: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """Its runs failed (the build-out is no scenario that runs: a service no site
        serves, say): it has no figures, and its shortfall is only a placeholder's."""
        return any(m.startswith(FAILED_MISS) for m in self.misses)

    def row(self, targets: Sequence[Target]) -> dict[str, Any]:
        """A flat record (CSV / JSON)."""
        out: dict[str, Any] = {
            "index": self.index, "phase": self.phase, "plan": self.description,
            "cost_usd": round(self.cost_usd, 2), "peak_power_w": round(self.peak_power_w, 1),
            "average_power_w": round(self.average_power_w, 1), "gpus": self.gpus,
            "feasible": self.feasible, "shortfall": round(self.shortfall, 6),
            "runs": self.runs, "cached": self.runs == 0, "wall_s": round(self.wall_s, 4),
            "misses": "; ".join(self.misses),
            "untested": "; ".join(t.text for t in self.untested),
        }
        for t in targets:
            out[f"{t.service}.{t.metric}"] = self.services.get(t.service, {}).get(t.metric)
        return out


class Evaluator:
    """Evaluate configs of a :class:`PlanSpace` against targets; remembers every evaluation."""

    def __init__(
        self,
        space: PlanSpace,
        targets: Sequence[Target],
        *,
        policy: str,
        duration_s: float,
        seeds: Sequence[int],
        cache_dir: str | Path | None = None,
        progress: Callable[[Evaluator, Evaluation], None] | None = None,
        warmup_s: float | None = None,
        max_load: float | None = None,
        survive: str | None = None,
    ) -> None:
        check_max_load(max_load)
        check_survive(survive)
        # the loss each build-out must survive: "gpu" (any one of its GPUs down), "site" (any
        # one of the sites it sizes down), None (none)
        self.survive = survive
        # the runs of a config, with a loss (its fault as JSON) or none: what a build-out's
        # evaluation and its losses' are made of
        self._raw: dict[tuple[Config, str | None], Evaluation] = {}
        self.space = space
        # the most a slot's devices may offer its GPUs at full batches (None: up to
        # OVERLOADED): the headroom an operator sizes with (headroom_miss)
        self.max_load = max_load
        self.targets = list(targets)
        self.policy = policy
        self.duration_s = float(duration_s)
        # a warm-up before the duration_s counted (engine.warmup_s; None: the scenario's own,
        # within duration_s)
        self.warmup_s = warmup_s
        self.seeds = list(seeds)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.progress = progress
        self.runs = 0  # engine runs made
        self.cache_hits = 0  # runs answered by the cache (memory or disk)
        self.log: list[Evaluation] = []  # one per distinct config, in the order asked
        self._by_config: dict[Config, Evaluation] = {}
        self._memory: dict[str, dict[str, Any]] = {}
        self.phase = "start"

    def __call__(self, config: Config) -> Evaluation:
        """The evaluation of ``config`` (run on every seed unless cached); with ``survive``,
        a build-out that meets the targets is run again with each loss it must survive
        (:meth:`_with_losses`)."""
        known = self._by_config.get(config)
        if known is not None:
            return known
        t0, runs0 = time.perf_counter(), self.runs
        ev = self._evaluate(config)
        if self.survive is not None and ev.feasible:
            ev = self._with_losses(ev)
        ev = replace(ev, index=len(self.log) + 1, phase=self.phase,
                     runs=self.runs - runs0, wall_s=time.perf_counter() - t0)
        self.log.append(ev)
        self._by_config[config] = ev
        if self.progress is not None:
            self.progress(self, ev)
        return ev

    def losses(self, ev: Evaluation) -> list[tuple[str, Fault]]:
        """The losses ``ev``'s build-out must survive (``survive``): per slot with GPUs, a
        fault for the whole run at its site (for the generated sites, at the one offered the
        most load in ``ev``'s runs), each with its name: one GPU down (``"gpu"``) or the
        site down, noticed at once (``"site"``)."""
        out = []
        for slot, (_, n), site in zip(self.space.slots, ev.config, ev.slot_offered_site,
                                      strict=True):
            name = slot.name if slot.name != GENERATED else site
            if n < 1 or name is None:
                continue
            if self.survive == "gpu":
                out.append((f"one GPU of {name} down",
                            Fault(kind="gpu_down", site=name, gpus=1, start_s=0.0)))
            else:
                out.append((f"{name} down", Fault(kind="site_down", site=name, start_s=0.0)))
        return out

    def _with_losses(self, ev: Evaluation) -> Evaluation:
        """``ev`` (which met the targets) judged with each of its :meth:`losses` too: each
        loss's runs (the same seeds, the fault from the start) must meet the targets, by the
        same rules; a loss that misses adds its misses, named, and its shortfall."""
        misses: list[str] = []
        shortfall = 0.0
        worst = dict(ev.services)
        for label, fault in self.losses(ev):
            lost = self._evaluate(ev.config, fault)
            for name, v in lost.services.items():
                worst[name] = _merge_service(worst.get(name), v)
            if not lost.feasible:
                shortfall += max(lost.shortfall, 0.01)
                misses.append(f"with {label}: {'; '.join(lost.misses)}")
        return replace(ev, feasible=not misses, shortfall=ev.shortfall + shortfall,
                       misses=tuple(misses), survived=not misses, services_with_losses=worst)

    def _evaluate(self, config: Config, loss: Fault | None = None) -> Evaluation:
        """``config``'s runs on every seed (cached), with ``loss`` a fault added to each."""
        which = None if loss is None else loss.model_dump_json()
        known = self._raw.get((config, which))
        if known is not None:
            return known
        t0 = time.perf_counter()
        space = self.space
        keys: list[str] = []
        merged: dict[str, dict[str, Any]] = {}
        sites_util: dict[str, list[float]] = {}
        sites_load: dict[str, list[float]] = {}
        sites_power: dict[str, list[float]] = {}  # per GPU, W
        runs = 0
        errors: list[str] = []
        l1_misses = 0
        overloaded: dict[str, float] = {}  # sites offered their GPUs' capacity or more
        offered: dict[str, float] = {}  # each site's offered load, the worst seed's
        air_over: dict[tuple[str, str], float] = {}  # (direction, cell) offered it or more
        unsettled: dict[str, str] = {}  # sites whose queue a run could not settle
        fixed: dict[str, dict[str, Any]] = {}
        fixed_names = space.fixed_site_names() + space.generated_fixed_names()
        said: list[str] = []
        for seed in self.seeds:
            if self.warmup_s is None:
                sc = space.scenario_for(config, policy=self.policy, seed=seed,
                                        duration_s=self.duration_s)
            else:
                sc = faults_past_warmup(space.scenario_for(
                    config, policy=self.policy, seed=seed,
                    duration_s=self.warmup_s + self.duration_s,
                    engine=space.scenario.engine.model_copy(
                        update={"warmup_s": self.warmup_s})),
                    self.warmup_s, space.scenario.engine.warmup_s)
            if loss is not None:  # (from the start, past any warm-up: the steady state)
                sc = sc.model_copy(update={"faults": [*sc.faults, loss]})
            key = run_key(scenario_document(sc))
            keys.append(key)
            metrics = self._cached(key)
            if metrics is None:
                metrics = self._run(sc)
                runs += 1
                self._store(key, metrics)
            if metrics.get("error"):
                errors.append(str(metrics["error"]))
            said += metrics.get("cautions") or []
            l1_misses = max(l1_misses, int(metrics.get("l1_slot_misses") or 0))
            for way, cell, share in metrics.get("air_overloaded") or []:
                air_over[way, cell] = max(air_over.get((way, cell), 0.0), float(share))
            for name, v in metrics["services"].items():
                merged[name] = _merge_service(merged.get(name), v)
            for name, c in metrics["sites"].items():
                if c.get("offered_load") is not None:
                    offered[name] = max(offered.get(name, 0.0), float(c["offered_load"]))
                if (c.get("offered_load") or 0.0) >= OVERLOADED:
                    overloaded[name] = max(overloaded.get(name, 0.0), float(c["offered_load"]))
                elif c.get("settle_s") is not None and name not in unsettled:
                    unsettled[name] = unsettled_miss(name, float(c["settle_s"]), metrics)
                if name in fixed_names:
                    f = fixed.setdefault(name, {"gpus": int(c.get("gpus") or 0), "served": 0,
                                                "gpu_utilization": [], "power_w": []})
                    f["served"] += int(c.get("served") or 0)
                    if c.get("gpu_utilization") is not None:
                        f["gpu_utilization"].append(float(c["gpu_utilization"]))
                    if c.get("power_w") is not None:  # (an operator's energy planner: the
                        # plan's power left out the sites that served the load)
                        f["power_w"].append(float(c["power_w"]))
                u = c.get("gpu_utilization")
                if u is not None:
                    sites_util.setdefault(name, []).append(float(u))
                    sites_load.setdefault(name, []).append(site_load(c))
                pw, ng = c.get("power_w"), c.get("gpus")
                if pw is not None and ng:
                    sites_power.setdefault(name, []).append(float(pw) / ng)
        misses = [f"{FAILED_MISS}{e}" for e in dict.fromkeys(errors)]
        shortfall = 0.0
        unknown = untested_targets(self.targets, merged)  # (neither met nor missed)
        for t in self.targets:
            if t in unknown:
                continue
            value = merged.get(t.service, {}).get(t.metric)
            s = t.shortfall(value)
            if s > 0.0 and value is None:
                s = _unanswered_shortfall(t, merged.get(t.service, {}), s)
            shortfall += s
            if s > 0:
                info = merged.get(t.service, {})
                if value is None and t.metric in _PERCENTILES and info.get("unanswered"):
                    shown = f"-: {info['unanswered']:,} of {info.get('count', 0):,} unanswered"
                else:
                    shown = "-" if value is None else (
                        f"{value:.1f}ms" if t.is_latency else f"{value:.4g}")
                misses.append(f"{t.text} (got {shown})")
        for name, load in overloaded.items():  # (an AMR maker's review, as max-fleet)
            shortfall += load - 1.0 + 0.01
            misses.append(f"{name} offered {load:.0%} of what its GPUs carry (at full "
                          "batches): its queue grows until it drops, whatever a short run met")
        slot_offered = tuple(self._slot_worst(i, offered) for i in range(len(space.slots)))
        if self.max_load is not None and loss is None:  # (with a loss, what N-1 asks: the
            # GPUs left carry it, at up to what they carry; the headroom is the intact
            # build-out's, not counted twice: a diff review)
            for worst in slot_offered:
                if worst is not None and above_headroom(worst[1], self.max_load) \
                        and worst[0] not in overloaded:
                    shortfall += worst[1] - self.max_load
                    misses.append(headroom_miss(worst[0], worst[1], self.max_load))
        # (a cell offered what it carries or more is a caution, not a miss: the scheduler may
        # serve every device with a target while a let-go one queues, and the offered load
        # moves with the other fleets' interference; a diff review: counts that met every
        # target for 30 s missed on it)
        for name, text in unsettled.items():  # (not what the run met: its start's)
            if name not in overloaded:
                shortfall += 0.01
                misses.append(text)
        if l1_misses:  # (the worst seed's)
            shortfall += UNMEASURED_SHORTFALL
            misses.append(f"the RAN's L1 missed {l1_misses:,} slots (ai_ran: the GPUs that host "
                          "cells cannot carry their L1 beside the AI)")
        util = tuple(self._slot_utilization(i, sites_util) for i in range(len(space.slots)))
        busy = tuple(space.busy_share(c, self._slot_utilization(i, sites_power))
                     for i, c in enumerate(config))
        busy = tuple(u if b is None else b for b, u in zip(busy, util, strict=True))
        ev = Evaluation(
            index=len(self.log) + 1,
            phase=self.phase,
            config=config,
            description=space.describe(config),
            keys=tuple(keys),
            cost_usd=space.cost(config),
            peak_power_w=space.peak_power_w(config),
            average_power_w=space.average_power_w(config, busy),
            gpus=space.gpu_count(config),
            feasible=not misses,
            shortfall=shortfall,
            services=merged,
            slot_utilization=util,
            runs=runs,
            wall_s=time.perf_counter() - t0,
            misses=tuple(misses),
            slot_busy_share=busy,
            fixed_sites={name: {**f, **{k: sum(f[k]) / len(f[k]) if f[k] else None
                                        for k in ("gpu_utilization", "power_w")}}
                         for name, f in fixed.items()},
            cautions=tuple(dict.fromkeys(said)),
            slot_load=tuple(self._slot_utilization(i, sites_load)
                            for i in range(len(space.slots))),
            untested=tuple(unknown),
            air_overloaded=tuple((w, c, x) for (w, c), x in air_over.items()),
            slot_offered=tuple(None if w is None else w[1] for w in slot_offered),
            slot_offered_site=tuple(None if w is None else w[0] for w in slot_offered),
        )
        self._raw[config, which] = ev
        return ev

    def evaluated(self, config: Config) -> Evaluation | None:
        """The evaluation of ``config`` if it was made."""
        return self._by_config.get(config)

    # ---- internals -------------------------------------------------------------------------------
    def _slot_utilization(self, i: int, sites_util: dict[str, list[float]]) -> float | None:
        slot = self.space.slots[i]
        if slot.name == GENERATED:
            explicit = {c.name for c in self.space.scenario.compute_sites}
            explicit |= {s.name for s in self.space.slots}
            values = [sum(v) / len(v) for k, v in sites_util.items() if k not in explicit]
        else:
            values = [sum(sites_util[slot.name]) / len(sites_util[slot.name])] \
                if slot.name in sites_util else []
        return sum(values) / len(values) if values else None

    def _slot_worst(self, i: int, by_site: dict[str, float]) -> tuple[str, float] | None:
        """Slot ``i``'s site and its value in ``by_site``, for the generated sites the largest
        of theirs (None: no site of the slot has one)."""
        slot = self.space.slots[i]
        if slot.name != GENERATED:
            return (slot.name, by_site[slot.name]) if slot.name in by_site else None
        explicit = {c.name for c in self.space.scenario.compute_sites}
        explicit |= {s.name for s in self.space.slots}
        mine = [(k, v) for k, v in by_site.items() if k not in explicit]
        return max(mine, key=lambda kv: kv[1]) if mine else None

    def _run(self, scenario: Any) -> dict[str, Any]:
        from airan.engine import Engine
        from airan.engine.offered_air import air_overloads
        from airan.errors import InputError
        from airan.report.cautions import cautions
        from airan.report.placement import local_shares

        self.runs += 1
        try:
            engine = Engine(scenario, trace_limit=TRACE_LIMIT, trace_sample=TRACE_SAMPLE)
            air = air_overloads(scenario, engine, AIR_OVERLOADED)  # (before the run)
            result = engine.run()
        except InputError as exc:  # e.g. a policy that needs a compute site, and there is none
            return {"services": {}, "sites": {}, "wall_s": None, "error": str(exc)}
        trace = result.summary.get("trace")
        local = local_shares(result.requests, trace) if result.requests is not None else {}
        metrics = _metrics(result.summary, local)
        metrics["cautions"] = cautions(result.summary)
        metrics["air_overloaded"] = [list(x) for x in air]
        if result.requests is not None:
            for name, places in _placement_shares(result.requests, trace).items():
                if name in metrics["services"]:
                    metrics["services"][name]["placement_share"] = places
        return metrics

    def _cached(self, key: str) -> dict[str, Any] | None:
        hit = self._memory.get(key)
        if hit is None and self.cache_dir is not None:
            path = self.cache_dir / f"{key}.json"
            if path.is_file():
                try:
                    hit = json.loads(path.read_text())
                except (OSError, ValueError):
                    hit = None
                if hit is not None:
                    self._memory[key] = hit
        if hit is not None:
            self.cache_hits += 1
        return hit

    def _store(self, key: str, metrics: dict[str, Any]) -> None:
        self._memory[key] = metrics
        if self.cache_dir is not None:
            try:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                (self.cache_dir / f"{key}.json").write_text(json.dumps(metrics))
            except OSError:
                pass  # the cache is an optimisation; a read-only folder only costs re-runs
