"""What a run's numbers need read with care, from its summary: one sentence each, shared by the
terminal and the report.

- Compute sites busier than :data:`GPU_BUSY`: a batch takes the same time however busy its GPU
  is (no contention from the host, PCIe or other kernels), so latencies there are optimistic
  (docs/model.md, "compute": one H100 holds p99 at loads where MLPerf Server's 15 ms bound fails).
- Busy compute sites whose requests would take under :data:`ROOM_BELOW` of their busy time in
  full batches (``full_batch_load``, each model's largest batch there): more load fills their
  batches at less GPU time per request, so utilization overstates how full they are.
- Compute sites saturated (:func:`saturated_sites`): their GPUs are a bottleneck, busy and as
  loaded at full batches (:func:`site_load`).
- A model's instances busier than :data:`GPU_BUSY` at a site whose GPUs run batches side by side
  and have throughput to spare (``instances_busy``): its batches wait for an instance.
- Cells that used more than the summary's ``busy_threshold`` of the PRBs background traffic
  left them in a direction: the radio is a bottleneck there; "not a GPU" only where no compute
  site is saturated (both are, often: 40 robots can fill the uplinks and one GPU at once).
- Transport link directions busier than :data:`LINK_BUSY` (summary.json's ``links``): messages
  queue behind each other there, the more steeply the busier (Kleinrock, "Queueing Systems"
  I, 1975: M/D/1's wait grows as rho / (1 - rho)), so the transport is a bottleneck.
- Fleets with devices out of coverage (``out_of_coverage``, ``out_of_coverage_uplink`` of them
  on the uplink): their uploads drop, or, on the downlink only, their answers.
- Parked devices whose serving cell's SSB is below Qout (a fleet's ``below_qout``, a static
  one's; the summary's ``qout_db``): radio link monitoring follows moving devices only, so
  they are served as if in sync where a moving device would fail (a drone maker's review: a
  fleet hovering at 300 m, most of it below Qout, was served; flying there, it failed).
- Services whose compute times are a roofline at the GPUs' datasheet peaks (:func:`at_peak`,
  from the scenario): optimistic against a deployed stack.
- Compute sites whose queue had no time to settle (:func:`unsettled_sites`): the run starts
  from empty queues, and a queue at utilization rho relaxes to its steady state over about
  ``1 / (mu (1 - sqrt(rho))^2)`` (the relaxation time of M/M/1, Morse, "Stochastic properties
  of waiting lines", 1955; mu: the site's throughput at full use): a run shorter than
  :data:`SETTLE_RUNS` of them counts mostly the start, and its queueing figures are optimistic.
- Requests the policy kept on devices whose own time for the service's model at batch 1 (their
  accelerator, or the generic device CPU) is longer than its deadline (:func:`slow_on_device`,
  from the scenario and the request trace, not summary.json): none of them can meet it.
- Requests answered at compute sites whose GPUs take longer than the service's deadline for
  its model at batch 1 (:func:`slow_at_site`, from the scenario: ``answered_at`` of
  summary.json): none of them can meet it, whatever the load or the batching.
- Services with fewer than :data:`FEW_REQUESTS` requests in the run (counted after the
  warm-up): their hit ratio moves by 1/n per request and their p99 is their slowest request
  (a researcher's review: a 2 s run of factory counted 57 inspections and said nothing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from airan.report.placement import RADIO_PARTS

GPU_BUSY = 0.8  # sites busier than this: their latencies are optimistic
FEW_REQUESTS = 100  # a service with fewer requests in the run: its p99 is its slowest request
ROOM_BELOW = 0.8  # a busy site whose requests would take under this share of its busy time
# in full batches (summary.json's full_batch_load): room to batch
GPU_SATURATED = 0.9  # sites busier than this: their GPUs are a bottleneck (assumption)
LINK_BUSY = 0.8  # a link direction busier than this: its queueing grows steeply (assumption)
NAMED = 5  # sites named in a sentence; the rest are counted
SETTLE_RUNS = 5.0  # a run shorter than this many relaxation times counts mostly the start
SETTLE_FROM = 0.5  # sites less busy than this settle within a few of their service times
WARMUP_RUNS = 2.0  # ... or a warm-up this many relaxation times long: e^-2 of the start left


def busy_sites(summary: Mapping[str, Any]) -> list[str]:
    """The compute sites above :data:`GPU_BUSY`, in the summary's order."""
    return [name for name, c in (summary.get("sites") or {}).items()
            if (c.get("gpu_utilization") or 0.0) > GPU_BUSY]


def site_load(c: Mapping[str, Any]) -> float:
    """A site's load against what its GPUs carry: the share its requests would take in full
    batches (summary.json's ``full_batch_load``), or its utilization where that is not known.
    A batching GPU is busy nearly all the time at loads its batches carry with room (while one
    batch runs the next fills), so its busy time alone reads as full (a robot maker's review:
    100% busy at 77% of what batches of 8 carry, 20 arms served and 25 carried)."""
    load = c.get("full_batch_load")
    return float(c.get("gpu_utilization") or 0.0) if load is None else float(load)


def saturated_sites(summary: Mapping[str, Any]) -> list[str]:
    """The compute sites whose GPUs are a bottleneck, in the summary's order: busier than
    :data:`GPU_SATURATED`, or than :data:`GPU_BUSY` in a run that dropped requests for a full
    queue (summary.json counts those drops per service, not per site), and as loaded at full
    batches (:func:`site_load`)."""
    full = bool(((summary.get("requests") or {}).get("dropped_by_reason") or {}).get(
        "queue_full"))
    bound = GPU_BUSY if full else GPU_SATURATED
    return [name for name, c in (summary.get("sites") or {}).items()
            if (c.get("gpu_utilization") or 0.0) > bound and site_load(c) > bound]


#: drops before a request reaches a compute site (its uplink, the policy, the transport, the
#: device's own accelerator): the rest reach one, the queued and dropped there included
BEFORE_A_SITE = ("admission", "buffer_full", "superseded", "radio_outage", "no_route",
                 "link_full", "device_queue_full", "not_on_device")


def offered_at(summary: Mapping[str, Any], site: str) -> float | None:
    """The requests per second the devices offer ``site``: per service, its offered rate
    (``offered_per_s``; the run's own where it created more, a surge, or clearly fewer,
    devices silent outside their trace), of which those not dropped before reaching a site
    (:data:`BEFORE_A_SITE`), shared out as its answered requests ran (``answered_at``): the
    requests queued at the end, or dropped there, go where the answered ones went. None for a
    summary without the rates."""
    total = 0.0
    span = float(summary.get("duration_s") or 0.0) - float(summary.get("warmup_s") or 0.0)
    for svc in (summary.get("services") or {}).values():
        rate, at = svc.get("offered_per_s"), svc.get("answered_at") or {}
        if rate is None:
            return None
        count = int(svc.get("count") or 0)
        answered = sum(int(n) for n in at.values())
        if not count or not answered or span <= 0.0:
            continue
        expected = float(rate) * span
        seen = count / span
        # (3 sigma of a Poisson count below what is offered: not chance, fewer devices sent)
        rate = max(float(rate), seen) if count >= expected - 3.0 * math.sqrt(expected) - 1.0 \
            else seen
        lost = sum(int((svc.get("dropped_by_reason") or {}).get(r, 0)) for r in BEFORE_A_SITE)
        total += rate * max(count - lost, 0) / count * int(at.get(site, 0)) / answered
    return total


def offered_load(summary: Mapping[str, Any], site: str) -> tuple[float, float] | None:
    """A compute site's load and throughput at full use (requests/s): ``mu``, the requests it
    served over the time they took (``served / (rho T)``, ``rho`` its load in the run,
    :func:`site_load`: at full batches where it batches), and the load its devices offer it
    (:func:`offered_at` over ``mu``) where that is more than the run's: a short run's
    arrivals fall short of it by chance, or its queue, still filling (or growing without end,
    at 1 or more), has not served them. None for a site that served nothing."""
    c = (summary.get("sites") or {}).get(site) or {}
    rho, served = site_load(c), int(c.get("served") or 0)
    duration = float(summary.get("duration_s") or 0.0)
    if rho <= 0.0 or served <= 0 or duration <= 0.0:
        return None
    mu = served / (rho * duration)
    offered = offered_at(summary, site)
    return (max(rho, offered / mu) if offered is not None else rho), mu


def random_share(summary: Mapping[str, Any], site: str) -> float:
    """The share of ``site``'s answered requests whose service has random (Poisson) arrivals
    (``arrivals`` in the summary's services; a summary without it: every one's): the part of
    its load whose fluctuations build a queue over a relaxation time. Periodic devices, their
    phases spread, bring the same work every period, so a queue they feed at under capacity
    repeats from one period to the next (1 where nothing was answered there)."""
    total = random = 0
    for svc in (summary.get("services") or {}).values():
        n = int((svc.get("answered_at") or {}).get(site, 0))
        total += n
        if svc.get("arrivals", "poisson") == "poisson":
            random += n
    return random / total if total else 1.0


def unsettled_sites(summary: Mapping[str, Any]) -> list[tuple[str, float, float]]:
    """(site, load, relaxation time in s) of the compute sites at least :data:`SETTLE_FROM`
    busy whose queue's relaxation time from empty, ``1 / (mu (1 - sqrt(rho))^2)`` (M/M/1's,
    Morse 1955), is more than the run's time counted (``duration_s`` less ``warmup_s``) over
    :data:`SETTLE_RUNS`, unless its
    warm-up (``warmup_s``, whose requests count in no figure) lasted :data:`WARMUP_RUNS` of
    them. ``mu`` is the site's throughput at full use, the requests it served over the time
    they took (``served / (rho T)``, ``rho`` its load in the run, :func:`site_load`: at full
    batches where it batches); the ``rho`` of the relaxation is the load its devices offer
    it where that is more (:func:`offered_at` over ``mu``): a short run's arrivals fall short
    of it by chance, or its queue, still filling, has not served them yet, and near rho = 1
    the relaxation time grows steeply with it (a researcher's review: M/D/1 offered 0.95,
    16 s, read as 2.4 s from a 5 s run's 0.876). It is scaled by the site's share of random
    arrivals (:func:`random_share`; a heavy-traffic relaxation time goes as the variance of
    the work arriving, which periodic devices do not add to over periods): a site fed by
    periodic devices alone settles within their period (a 2 s run of 95 periodic devices at
    one 10 ms GPU waited 27-32 ms, a 60 s one 29-33 ms; Poisson ones 22-28 ms against
    57-73 ms). inf at rho >= 1: no steady state. The longest first."""
    duration = float(summary.get("duration_s") or 0.0)
    warmup = float(summary.get("warmup_s") or 0.0)
    out = []
    for name, c in (summary.get("sites") or {}).items():
        if site_load(c) < SETTLE_FROM:
            continue
        loads = offered_load(summary, str(name))
        if loads is None:
            continue
        rho, mu = loads
        share = random_share(summary, str(name))
        if share <= 0.0:  # periodic devices alone: their queue repeats every period (past
            continue  # capacity it grows: saturated_sites, the planner's offered load)
        tau = math.inf if rho >= 1.0 else share / (mu * (1.0 - math.sqrt(rho)) ** 2)
        # (over the time counted, after the warm-up: the planner's miss says that span)
        if tau * SETTLE_RUNS > duration - warmup and not warmup >= WARMUP_RUNS * tau:
            out.append((str(name), rho, tau))
    return sorted(out, key=lambda x: -x[2])


def links_by_load(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The summary's transport link directions, ``("a->b", entry)``, busiest first (a stable
    sort: equals in the summary's order): what the terminal, the report and the cautions
    name."""
    return sorted((summary.get("links") or {}).items(),
                  key=lambda x: -float(x[1].get("utilization") or 0.0))


def busy_links(summary: Mapping[str, Any]) -> list[str]:
    """The transport link directions (``"a->b"``) above :data:`LINK_BUSY`, busiest first."""
    return [name for name, v in links_by_load(summary)
            if float(v.get("utilization") or 0.0) > LINK_BUSY]


def _names(names: list[str]) -> str:
    more = len(names) - NAMED
    return ", ".join(names[:NAMED]) + (f" and {more:,} more" if more > 0 else "")


#: a static fleet is cautioned of (and validate warns of it) where more than this share of its
#: devices is below Qout (a diff review: korea's one vehicle of 1,324 at a cell edge drew a
#: caution on every run)
PARKED_QOUT_SHARE = 0.01


def parked_below_qout(summary: Mapping[str, Any]) -> list[str]:
    """Per static fleet (none of its devices moving) with more than :data:`PARKED_QOUT_SHARE`
    of its devices below Qout at the end of the run (its ``below_qout``), ``"F (N of M parked
    devices)"``, in the summary's order; empty where nothing is monitored (``qout_db`` None).
    A fleet cut into pieces by shards (``name#k`` in a sharded run's mobility) moves where
    any piece does."""
    if summary.get("qout_db") is None:
        return []
    moving: dict[str, int] = {}
    for name, f in ((summary.get("mobility") or {}).get("fleets") or {}).items():
        base = str(name).split("#")[0]
        moving[base] = moving.get(base, 0) + int(f.get("moving_devices") or 0)
    return [f"{n} ({int(f['below_qout']):,} of {int(f.get('devices') or 0):,} parked devices)"
            for n, f in (summary.get("fleets") or {}).items()
            if f.get("below_qout") and not moving.get(n)
            and int(f["below_qout"]) > PARKED_QOUT_SHARE * int(f.get("devices") or 0)]


def slow_on_device(summary: Mapping[str, Any], device_s: Mapping[tuple[str, str], float],
                   kept: Mapping[tuple[str, str], float],
                   held: Mapping[tuple[str, str], float] | None = None) -> str | None:
    """One sentence on the requests the policy kept on a device that cannot compute them in time:
    per (fleet, service) whose on-device batch-1 time ``device_s`` (s,
    :func:`airan.scenario.load.device_times_s`) is longer than the service's deadline and of
    which ``kept`` (:func:`airan.report.placement.local_counts`) has any; None when none is.
    With ``held`` (:func:`airan.report.placement.held_on_device`), the other services' requests
    of those fleets that ended late after waiting on board: the device's accelerator runs one
    request at a time, so a slow one holds up the rest (a drone maker's review: 22 VLA
    requests on board made 421 obstacle detections late, and the caution named only the 22)."""
    fleets = summary.get("fleets") or {}
    services = summary.get("services") or {}
    sampled = not (summary.get("trace") or {}).get("complete", True)
    each = []
    for (fleet, svc), n in kept.items():
        t = device_s.get((fleet, svc))
        deadline = (services.get(svc) or {}).get("deadline_ms")
        if n < 0.5 or t is None or deadline is None or not t * 1e3 > deadline:
            continue
        total = ((fleets.get(fleet) or {}).get("services") or {}).get(svc, {}).get("count")
        of = f" of {total:,}" if total else ""
        each.append(f"{'about ' if sampled else ''}{round(n):,}{of} {fleet} requests of {svc} "
                    f"({t * 1e3:,.0f} ms on the device against a {deadline:g} ms deadline)")
    if not each:
        return None
    slow = {(f, v) for f, v in kept if (f, v) in device_s and (services.get(v) or {}).get(
        "deadline_ms") is not None and device_s[(f, v)] * 1e3 > services[v]["deadline_ms"]}
    slow_fleets = {f for f, _ in slow}
    behind = [(n, f, v) for (f, v), n in (held or {}).items()
              if f in slow_fleets and (f, v) not in slow and n >= 0.5]
    after = ""
    if behind:
        names = [f"{'about ' if sampled else ''}{round(n):,} {f} requests of {v}"
                 for n, f, v in sorted(behind, key=lambda x: -x[0])]
        after = (f"; a device's accelerator runs one request at a time, so they can hold up "
                 f"its other work: on those fleets, {_names(names)} ended late after waiting "
                 "on board (behind them, or behind their own; a service on an engine of its "
                 "own, the fleet's `engines`, a DLA say, waits for no other's)")
    return (f"Slower on the device than the deadline: {summary.get('policy', 'the policy')} "
            f"kept {_names(each)} on board, where none can meet it{after}; with `admission: "
            "strict` deadline-aware drops at admission what no candidate can serve in time "
            "instead.")


def slow_at_site(summary: Mapping[str, Any],
                 site_s: Mapping[tuple[str, str], tuple[float, str]]) -> str | None:
    """One sentence on the requests answered at a compute site whose GPUs take longer than
    their service's deadline at batch 1: per (site, service) of ``site_s``
    (:func:`airan.scenario.load.site_times_s`: the time and the GPU that gives it) whose time
    is longer and of which summary.json's ``answered_at`` counts any; None when none is (a
    mine planner's review: OpenVLA on the control room's L4s, 362 ms against 200, met none
    under nearest-edge, and the cautions spoke of small batches alone)."""
    if summary.get("live"):  # (a live run's sites compute its own models, not the catalog's)
        return None
    each = []
    for name, svc in (summary.get("services") or {}).items():
        deadline = svc.get("deadline_ms")
        for site, n in (svc.get("answered_at") or {}).items():
            t_gpu = site_s.get((site, name))
            if deadline is None or t_gpu is None or not n or not t_gpu[0] * 1e3 > deadline:
                continue
            each.append(f"{int(n):,} {name} requests at {site} ({t_gpu[0] * 1e3:,.3g} ms at "
                        f"batch 1 on its {t_gpu[1]} against a {deadline:g} ms deadline)")
    if not each:
        return None
    return (f"Slower at the site than the deadline: {_names(each)} were answered where their "
            "model takes longer than their deadline before any radio, transport or queue, so "
            "none could meet it, whatever the load or the batching; a faster GPU there, or a "
            "policy that sends them to one (deadline-aware), can.")


def run_scenario(folder: str | Path) -> Any:
    """The scenario of the run in ``folder`` as its scenario.yaml gives it; None where it has
    none, or one that no longer loads (a scenario of an older airan, say)."""
    from airan.errors import InputError

    file = Path(folder) / "scenario.yaml"
    if not file.is_file():
        return None
    from airan.scenario import load_scenario

    try:
        return load_scenario(file)
    except (InputError, OSError, ValueError):
        return None


def run_site_times(folder: str | Path) -> dict[tuple[str, str], tuple[float, str]]:
    """``site_s`` for :func:`cautions` of the run in ``folder``, from its scenario.yaml (none
    where it has none that loads)."""
    from airan.scenario.load import site_times_s

    sc = run_scenario(folder)
    return {} if sc is None else site_times_s(sc)


def run_on_device(folder: str | Path, summary: Mapping[str, Any]
                  ) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float],
                             dict[tuple[str, str], float]]:
    """``device_s``, ``kept`` and ``held`` for :func:`cautions` of the run in ``folder``: the
    devices' times from its scenario.yaml, the requests its trace kept on the devices, and
    those that ended late after waiting there; all empty where it kept none, or has no trace
    or no scenario.yaml that loads."""
    from airan.errors import InputError
    from airan.report.placement import read_held_on_device, read_local_counts

    kept = read_local_counts(folder, summary.get("trace"))
    sc = run_scenario(folder) if kept else None
    if sc is None:
        return {}, {}, {}
    from airan.scenario.load import device_times_s

    try:
        return (device_times_s(sc), kept, read_held_on_device(folder, summary.get("trace")))
    except (InputError, OSError, ValueError):  # (a scenario of an older airan, say)
        return {}, {}, {}


def at_peak(pairs: Sequence[tuple[str, str]]) -> str | None:
    """One sentence on the services whose compute times are a roofline at the GPUs' datasheet
    peaks (:func:`airan.scenario.load.peak_roofline_services`); None for none."""
    if not pairs:
        return None
    each = [f"{svc} ({model})" for svc, model in pairs]
    return (f"At the GPUs' datasheet peaks: {_names(each)} computes at its GPUs' whole FLOP/s "
            "and memory bandwidth (catalog efficiency 1.0, the roofline vla-perf assumes), "
            "which an optimized stack approaches and a deployed one does not (the OpenVLA "
            "paper's own ran ~1.4x slower on an RTX 4090): its compute times and the hit ratios "
            "they give are optimistic. Give the service its measured service_time (airan "
            "profile) before sizing GPUs on them.")


def run_peak(folder: str | Path) -> list[tuple[str, str]]:
    """``peak`` for :func:`cautions` of the run in ``folder``, from its scenario.yaml (none
    where it has none that loads)."""
    from airan.scenario.load import peak_roofline_services

    sc = run_scenario(folder)
    return [] if sc is None else peak_roofline_services(sc)


def _missing_where_batched(summary: Mapping[str, Any], names: Sequence[str]) -> str:
    """For the "busy in small batches" caution: the services answered at those sites that miss
    their target, whose room the caution must not read as capacity (a newcomer's review: the
    factory's VLA met 17.5% on on-prem's L40S under nearest-edge, the caution saying its GPUs
    could serve more; a fuller batch takes longer for each request in it)."""
    said: list[str] = []
    radio: list[str] = []
    for v, svc in (summary.get("services") or {}).items():
        hit = svc.get("hit_ratio_with_overdue", svc.get("hit_ratio"))
        target = svc.get("target_hit_ratio")
        at = [n for n in names if (svc.get("answered_at") or {}).get(n)]
        if at and hit is not None and target is not None and hit < target:
            where = _late_on_radio(svc)  # (missed on the radio: not the batches' doing)
            (radio if where else said).append(
                f"{v} ({hit:.3g} against {target:g}, answered at {_names(at)}"
                f"{where or _late_mostly(svc)})")
    out = ""
    if said:
        out += (f" But {_names(said)} {'misses its' if len(said) == 1 else 'miss their'} "
                "target there: a fuller batch serves more requests but takes longer for each "
                "one, so that room is not room for it; the late requests' breakdown says where "
                "their time went.")
    if radio:
        out += (f" {_names(radio)} {'misses its' if len(radio) == 1 else 'miss their'} "
                "target on the radio, not at these GPUs.")
    return out


#: the share of a late request's mean time in one part of its breakdown, or in the radio's
#: parts together, from which the caution says where it went
MOSTLY = 0.5


def _late_parts(svc: Mapping[str, Any]) -> dict[str, float]:
    """A service's late requests' mean breakdown (ms; the parts given)."""
    return {k: float(x) for k, x in (svc.get("late_breakdown_ms") or {}).items()
            if x is not None}


def _late_on_radio(svc: Mapping[str, Any]) -> str:
    """``"; 99% of its late requests' time on the radio (dl_air 576 ms), 1% in queue and
    compute"`` where the radio's parts take more than :data:`MOSTLY` of the late requests'
    mean time, else nothing (a stadium planner's review: a caution on the venue's GPUs read as
    their fault, where the late answers spent 576 ms on the downlink's air and 7 ms at the
    GPUs; a humanoid maker's, the same with 77% on the uplink's wait)."""
    parts = _late_parts(svc)
    total = sum(parts.values())
    radio = sum(parts.get(k, 0.0) for k in RADIO_PARTS)
    if total <= 0 or radio <= MOSTLY * total:
        return ""
    shown = ", ".join(f"{k} {parts[k]:.3g} ms" for k in RADIO_PARTS
                      if parts.get(k, 0.0) >= 0.1 * total)
    gpu = parts.get("queue", 0.0) + parts.get("compute", 0.0)
    return (f"; {radio / total:.0%} of its late requests' time on the radio ({shown}), "
            f"{gpu / total:.0%} in queue and compute")


def _late_mostly(svc: Mapping[str, Any]) -> str:
    """``"; 62% of its late requests' time in compute"``: the part of the late requests'
    mean breakdown that holds more than :data:`MOSTLY` of it, else nothing."""
    parts = _late_parts(svc)
    total = sum(parts.values())
    if total <= 0:
        return ""
    top = max(parts, key=lambda k: parts[k])
    if parts[top] > MOSTLY * total:
        return f"; {parts[top] / total:.0%} of its late requests' time in {top}"
    return ""


def cautions(summary: Mapping[str, Any], device_s: Mapping[tuple[str, str], float] | None = None,
             kept: Mapping[tuple[str, str], float] | None = None,
             held: Mapping[tuple[str, str], float] | None = None,
             peak: Sequence[tuple[str, str]] = (),
             site_s: Mapping[tuple[str, str], tuple[float, str]] | None = None) -> list[str]:
    """The sentences for ``summary`` (empty when nothing needs care); with ``device_s``,
    ``kept`` and ``held`` (:func:`slow_on_device`), the requests kept on devices too slow for
    them and those they held up; with
    ``peak`` (:func:`at_peak`), the services computed at the GPUs' datasheet peaks; with
    ``site_s`` (:func:`slow_at_site`), the requests answered at sites too slow for them."""
    out = []
    busy = busy_sites(summary)
    if busy:
        out.append(f"Above {GPU_BUSY:.0%} GPU utilization: {_names(busy)}. Besides sharing "
                   "the GPU with the batches running beside it, a batch here takes no longer "
                   "for contention from the host, PCIe or memory, which real servers near "
                   "saturation show, so latencies there are optimistic.")
    sites = summary.get("sites") or {}
    small_sites = [n for n in busy if sites[n].get("mean_batch")
                   and sites[n].get("full_batch_load") is not None
                   and site_load(sites[n]) < ROOM_BELOW * sites[n]["gpu_utilization"]]
    small = [f"{n} ({sites[n]['gpu_utilization']:.0%} busy in batches of "
             f"{sites[n]['mean_batch']:.1f} on average"
             + (f", up to {sites[n]['max_batch']}" if sites[n].get("max_batch") else "")
             + f"; in full batches its requests would keep its GPUs "
               f"{site_load(sites[n]):.0%} busy)"
             for n in small_sites]
    if small:
        out.append(f"Busy in small batches: {_names(small)}. More load fills the batches, "
                   "and a request in a fuller batch costs less GPU time, so these GPUs can "
                   "serve more than their utilization suggests (dynamic batching); size them "
                   "by the hit ratio at the load you plan for, not by utilization."
                   + _missing_where_batched(summary, small_sites))
    waiting = [f"{n} ({m}'s {x:.0%} busy, the GPUs' throughput "
               f"{sites[n].get('gpu_utilization') or 0.0:.0%} used)"
               for n in sites if (sites[n].get("gpu_utilization") or 0.0) <= GPU_BUSY
               for m, x in (sites[n].get("instances_busy") or {}).items() if x > GPU_BUSY]
    if waiting:
        out.append(f"Instances busy with GPU to spare: {_names(waiting)}. Those models' batches "
                   "wait for a free instance, not for the GPU: a batch holds its instance for "
                   "its fixed overhead too (launches and small kernels), which takes none of "
                   "the throughput the batches beside it share. More instances "
                   "(batching.instances), larger batches or more GPUs serve more.")
    saturated = saturated_sites(summary)
    if saturated:
        each = [f"{n} ({sites[n].get('gpu_utilization') or 0.0:.1%} busy, mean queue "
                f"{sites[n].get('mean_queue') or 0.0:,.1f} requests)" for n in saturated]
        out.append(f"Saturated compute sites: {_names(each)}. Requests wait there for a "
                   "GPU: compute is a bottleneck (more GPUs there, or fewer requests sent "
                   "there, shortens the queue).")
    unsettled = unsettled_sites(summary)
    if unsettled:
        def load(n: str, rho: float) -> str:
            """The run's load at the site, and what its devices offer where that is more."""
            seen = site_load(sites.get(n, {}))
            kind = ("loaded at full batches" if sites.get(n, {}).get("full_batch_load")
                    is not None else "busy")
            return f"{seen:.1%} {kind}" + (f", {rho:.1%} offered" if rho > seen + 5e-4
                                           else "")

        each = [f"{n} ({load(n, rho)}: "
                + ("at capacity, no steady state" if tau == math.inf
                   else f"settles in ~{tau:,.3g} s or more") + ")" for n, rho, tau in unsettled]
        out.append(f"Queues with no time to settle in this {summary.get('duration_s', 0):g} s "
                   f"run: {_names(each)}. The run starts with empty queues, and a queue this "
                   "busy takes about 1 / (mu (1 - sqrt(rho))^2) to reach its steady state (the "
                   "relaxation time of M/M/1, Morse 1955; mu the site's throughput, rho the "
                   "load its devices offer it, or the run's where more, at full batches where "
                   "it batches; times the share of its requests that arrive at random, "
                   "Poisson: periodic devices bring the same work every period): its "
                   "queueing, hit ratio and tail "
                   "here are the start's, better than a steady day's. Run it for "
                   f"{SETTLE_RUNS:g} times that or more, or leave {WARMUP_RUNS:g} times that "
                   "out as a warm-up (--warmup, engine.warmup_s).")
    cells = summary.get("cells") or {}
    also = (f"the radio is a bottleneck there, and so is compute at {_names(saturated)} "
            "(saturated, above)." if saturated
            else "the radio, not a GPU, is the bottleneck there.")
    for key, label in (("ul", "uplink"), ("dl", "downlink")):
        n = cells.get(f"cells_busy_{key}") or 0
        background = (cells.get(f"background_share_{key}")
                      or cells.get("background_share") or 0.0)  # (runs before the split)
        room = (f" the background traffic left (it took {background:.0%} on average)"
                if background > 0 else "")
        if n:
            out.append(
                f"{n:,} of {cells.get('count', 0):,} cells used more than "
                f"{cells.get('busy_threshold', 0.9):.0%} of the {label} PRBs{room} (busiest "
                f"{cells.get(f'busiest_cell_{key}')}, "
                f"{cells.get(f'max_prb_utilization_{key}', 0.0):.1%} of all): {also}")
    links = summary.get("links") or {}
    loaded = [f"{n} ({float(links[n]['utilization']):.1%} of "
              f"{float(links[n].get('capacity_gbps') or 0.0):g} Gbit/s)"
              for n in busy_links(summary)]
    if loaded:
        out.append(f"Transport links busier than {LINK_BUSY:.0%}: {_names(loaded)}. Messages "
                   "queue behind each other there, the longer the busier and the burstier the "
                   "traffic (their wait is in ul_transport and dl_transport): the transport is "
                   "a bottleneck (more capacity, smaller or fewer messages over it, or compute "
                   "nearer the cells).")
    fleets = summary.get("fleets") or {}
    def directions(f: Mapping[str, Any]) -> str:
        n, up = int(f["out_of_coverage"]), f.get("out_of_coverage_uplink")
        if up is None:  # (a summary from before the split)
            return ""
        return f": {int(up):,} on the uplink, {n - int(up):,} on the downlink only"

    uncovered = [f"{n} ({f['out_of_coverage']:,} of {f.get('devices', 0):,}{directions(f)})"
                 for n, f in fleets.items() if f.get("out_of_coverage")]
    if uncovered:
        out.append(f"Out of coverage: devices of {_names(uncovered)} cannot use their best "
                   "cell even in an idle network (their SNR at full power is below "
                   "min_sinr_db): below it on the uplink, every upload drops (radio_outage); "
                   "on the downlink only, the uploads go, at what their uplink carries, and "
                   "the answers drop when due (radio_outage); more cells near them, or their "
                   "work kept on board.")
    parked = parked_below_qout(summary)
    if parked:
        out.append(f"Parked below Qout: devices of {_names(parked)} hear their serving "
                   f"cell's SSB below Qout ({float(summary['qout_db']):g} dB, "
                   "handover.qout_db) and, not being "
                   "monitored (radio link monitoring follows moving devices), are served as "
                   "if in sync, where a moving device there would go out of sync and fail "
                   "(docs/model.md, Mobility): their figures are optimistic; cells nearer them "
                   "(or, for drones, a lower height) bring them above it.")
    busy_cells = sum(int(cells.get(f"cells_busy_{k}") or 0) for k in ("ul", "dl"))
    if (summary.get("objective") == "energy" and busy_cells  # (deadline-aware applies it)
            and summary.get("policy") in ("deadline-aware",
                                          "airan.policy.builtin:deadline_aware")):
        out.append("objective: energy offloads every request its estimate says meets the "
                   "deadline, however loaded the cells: an upload's estimate counts the data "
                   "waiting now, not the uploads that start while it is under way, so on cells "
                   "it fills the estimate runs low and requests sent on it miss (a robot maker's "
                   "AMRs filled four cells' uplinks, 99.9%, and met 66% where objective latency "
                   "met all). Give such services a deadline with a margin, or run objective "
                   "latency.")
    warmup = float(summary.get("warmup_s") or 0.0)
    unseen = [f"{f['kind']} of {f['target']} ({f['start_s']:g}-{f['end_s']:g} s)"
              for f in summary.get("faults") or []
              if warmup > 0.0 and f.get("end_s") is not None and float(f["end_s"]) <= warmup]
    if unseen:  # (a port's review: a site down at 1-2 s, "0 requests dropped while it lasted"
        # in a run whose 8 s warm-up it fell within)
        out.append(f"Faults within the warm-up ({warmup:g} s, whose requests count in no "
                   f"figure): {_names(unseen)}. The run's figures do not see them: start them "
                   "after the warm-up (faults[].start_s), or run with a shorter --warmup.")
    down = [(f["target"], f) for f in summary.get("faults") or []
            if f.get("kind") == "site_down" and f.get("placed_while_down")]
    if down:
        each = [f"{n:,} placements on {site} ({f['start_s']:g}-"
                f"{'end' if f.get('end_s') is None else format(f['end_s'], 'g')} s)"
                for site, f in down for n in [int(f["placed_while_down"])]]
        out.append(f"The policy placed requests on sites that were down: {_names(each)} (a "
                   "request counted each time). Each came back at once and was placed again "
                   "(the wait counts as ul_transport), so those requests lost time to it: a "
                   "policy of one's own should pass over the sites whose snapshot.site_healthy "
                   "is False.")
    slow = slow_on_device(summary, device_s or {}, kept or {}, held)
    if slow is not None:
        out.append(slow)
    slow = slow_at_site(summary, site_s or {})
    if slow is not None:
        out.append(slow)
    ideal = at_peak(peak)
    if ideal is not None:
        out.append(ideal)
    few = [f"{name} ({int(svc['count']):,})"
           for name, svc in (summary.get("services") or {}).items()
           if 0 < int(svc.get("count") or 0) < FEW_REQUESTS]
    if few:
        out.append(f"Few requests in this {summary.get('duration_s', 0):g} s run: "
                   f"{_names(few)}. A hit ratio over n requests moves by 1/n with each one, "
                   "and a p99 over fewer than 100 is about the slowest request: run longer "
                   "(--duration) or over seeds (airan compare) before reading them.")
    return out
