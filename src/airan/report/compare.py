"""Policies side by side: every policy on every seed, the spread across seeds, one report.

Each run is an ordinary :func:`airan.run` (in process, one after another, without a request
trace). Per policy and service the hit ratio and the p50/p99 latency (requests that got no
answer counted as infinitely late: unbounded where the percentile falls among them) are
summarised over seeds as a mean with a 95% Student-t confidence interval,
``mean +- t(0.975, n-1) s / sqrt(n)`` with ``s`` the sample standard deviation, clipped to the
values the metric can take (a latency is never below 0, a hit ratio never outside [0, 1]); with
one seed the interval is undefined (None). All policies run on the same seeds, so the verdict
compares the leader with the runner-up seed by seed (a paired interval of the differences).
Per policy and fleet, the devices' energy (J per request, mean W, battery hours) is summarised
over seeds the same way: the other half of the on-board-or-offload question.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from airan.errors import InputError, unknown_name
from airan.metrics.histogram import MAX_RELATIVE_ERROR, percentile_with_unanswered_ms
from airan.report import figures as F
from airan.report.html import FIGURES, REPORT, RERUN_FOLDER, ms, pct, render
from airan.report.rundir import (
    foreign_folder_error,
    jsonable,
    scenario_yaml,
    write_json_atomic,
)

COMPARISON = "comparison.json"
RUN_FILE = re.compile(r"[A-Za-z0-9._-]+-seed-?\d+\.json")  # runs/<policy slug>-seed<N>.json
CONFIDENCE = 0.95
KIND = "airan-comparison"
CI_METHOD = ("Student t over seeds: mean +- t(0.975, n-1) * s / sqrt(n), s the sample standard "
             "deviation (n-1 in the denominator), clipped to the metric's possible values "
             "(latencies at 0, hit ratios to [0, 1], the devices' energy, power and battery "
             "life at 0); null when fewer than 2 seeds gave a value")
#: Fewer paired seeds than this, all one way, are said to be too few to tell (not evidence
#: of no difference: with 2 seeds the t interval's factor is 12.7).
FEW_SEEDS = 5
#: The values each metric can take: its confidence interval is clipped to them.
BOUNDS = {"hit_ratio": (0.0, 1.0), "hit_ratio_with_overdue": (0.0, 1.0),
          "p50_ms": (0.0, math.inf), "p99_ms": (0.0, math.inf), "mean_ms": (0.0, math.inf),
          "energy_per_request_j": (0.0, math.inf), "mean_power_w": (0.0, math.inf),
          "battery_life_h": (0.0, math.inf), "power_w": (0.0, math.inf),
          "energy_per_served_j": (0.0, math.inf), "unused_power_w": (0.0, math.inf)}
METRICS = {  # name in the aggregate -> how to read it from a run's service summary
    "hit_ratio": lambda svc: svc.get("hit_ratio"),
    # requests still in flight past their deadline at the end counted as misses: the fair
    # figure between policies that end hopeless requests and policies that leave them queued
    "hit_ratio_with_overdue": lambda svc: svc.get("hit_ratio_with_overdue"),
    # requests that got no answer (dropped, or past their deadline at the end) counted as
    # infinitely late: a p99 over the answered ones alone flatters a policy that drops or
    # strands many; inf (unbounded) where the percentile falls among the unanswered
    "p50_ms": lambda svc: percentile_with_unanswered_ms(svc, 0.50),
    "p99_ms": lambda svc: percentile_with_unanswered_ms(svc, 0.99),
    "mean_ms": lambda svc: (svc.get("latency_ms") or {}).get("mean"),
}

#: A fleet's device energy, as each run's summary has it under ``fleets.<fleet>``: J per
#: request created, W over the run, h on its battery (None where it has none). Aggregated per
#: policy and fleet as the services' figures are (a robot maker's review: compare gave hit
#: ratios and latencies only, the energy gap between policies, 1.2 mJ offloaded against
#: 597 mJ on board per AMR request, lay in the raw run summaries alone).
ENERGY_METRICS = ("energy_per_request_j", "mean_power_w", "battery_life_h")
#: The compute sites' GPU energy, as each run's summary has it under ``site_energy``: their
#: mean power (W), the energy per request they served (J) and the idle power of the sites
#: that served nothing (W) (an operator's energy planner: compare gave the devices' energy
#: alone, and the sites' power lay in the runs' summaries).
SITE_ENERGY_METRICS = ("power_w", "energy_per_served_j", "unused_power_w")
#: What the sites' energy counts (airan.metrics.site_energy), in one line
SITE_ENERGY_NOTE = ("Compute sites' energy: their GPU boards only (idle + busy share x (TDP - "
                    "idle) per GPU; not host servers, radios or cooling); per request over the "
                    "requests the sites served (the L1's energy included under ai_ran); idle "
                    "W: the GPUs of the sites that served nothing and ran no L1")
#: What the devices' energy counts (docs/model.md, the "device energy" row), in one line
ENERGY_NOTE = ("Devices' energy: their radio and on-board compute only, not motors; per request "
               "above the idle power, over every request the fleet created (dropped and "
               "unfinished ones included); mean power over the run, idle and PDCCH monitoring "
               "included; battery life where the fleet has battery_wh (with its base_power_w)")

#: the metrics read from a log-bucket histogram, and its resolution (relative): seeds whose
#: percentiles differ by less fall in one bucket and read alike (a researcher's review: three
#: seeds' p50 of 415.16, 414.94 and 415.37 ms all read 416.82, a zero-width interval)
RESOLUTION = {"p50_ms": MAX_RELATIVE_ERROR, "p99_ms": MAX_RELATIVE_ERROR}

#: progress(runs_done, runs_total, policy, seed, fraction_of_this_run)
Progress = Callable[[int, int, str, int, float], None]


@dataclass(frozen=True)
class Comparison:
    """A written comparison: its folder, comparison.json, report.html and the data itself."""

    folder: Path
    json_path: Path
    report_path: Path
    data: dict[str, Any]


# ---- statistics --------------------------------------------------------------------------------
def mean_ci(values: Sequence[float | None], confidence: float = CONFIDENCE,
            bounds: tuple[float, float] = (-math.inf, math.inf),
            resolution_rel: float = 0.0) -> dict[str, Any]:
    """Mean and Student-t confidence interval of the non-None ``values``.

    Returns ``{n, mean, std, ci_low, ci_high, half_width, values, unbounded}``; ``mean`` is
    None without values and the interval fields are None with fewer than two. ``ci_low`` and
    ``ci_high`` are clipped to ``bounds``, the values the metric can take (``half_width`` is
    not). ``unbounded`` counts the values that are +inf (a percentile that falls among the
    requests that got no answer): with any, the mean is unbounded too, and None. Values read
    to a relative ``resolution_rel`` (a histogram's percentiles) get a half width of at least
    that much of the mean, and the entry says so (``resolution_rel``).
    """
    from scipy import stats

    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(vals)
    unbounded = sum(1 for v in values if v is not None and float(v) == math.inf)
    out: dict[str, Any] = {"n": n, "mean": None, "std": None, "ci_low": None, "ci_high": None,
                           "half_width": None, "values": list(values), "unbounded": unbounded}
    if n == 0 or unbounded:
        return out
    arr = np.asarray(vals)
    mean = float(arr.mean())
    out["mean"] = mean
    if n < 2:
        return out
    std = float(arr.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / math.sqrt(n))
    if resolution_rel > 0:
        half = max(half, resolution_rel * abs(mean))
        out["resolution_rel"] = resolution_rel
    out.update(std=std, half_width=half, ci_low=max(mean - half, bounds[0]),
               ci_high=min(mean + half, bounds[1]))
    return out


def aggregate(runs: Sequence[Mapping[str, Any]], policies: Sequence[str],
              services: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per policy and service, :func:`mean_ci` of each metric over the policy's runs (seeds)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for p in policies:
        mine = sorted((r for r in runs if r["policy"] == p), key=lambda r: r["seed"])
        out[p] = {}
        for svc in services:
            per = [r["summary"]["services"].get(svc) or {} for r in mine]
            out[p][svc] = {m: mean_ci([get(s) for s in per], bounds=BOUNDS[m],
                                      resolution_rel=RESOLUTION.get(m, 0.0))
                           for m, get in METRICS.items()}
            out[p][svc]["seeds"] = [r["seed"] for r in mine]
    return out


def shared_services(runs: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per service that more than one fleet with devices sends in the runs, those fleets (in
    the order the runs' summaries list them): where a fleet's share of a service can differ from
    the whole (its own devices, its own cells). Entries of another shape are passed over (a
    hand-edited comparison.json)."""
    senders: dict[str, list[str]] = {}
    for r in runs:
        fleets = r.get("summary", {}).get("fleets") if isinstance(r, Mapping) else None
        if not isinstance(fleets, Mapping):
            continue
        for fleet, f in fleets.items():
            if not isinstance(f, Mapping) or not f.get("devices"):
                continue  # (a fleet scaled to no device sends nothing)
            services = f.get("services")
            for svc in services if isinstance(services, Mapping) else ():
                if fleet not in senders.setdefault(svc, []):
                    senders[svc].append(fleet)
    return {svc: fleets for svc, fleets in senders.items() if len(fleets) > 1}


def _fleet_service(summary: Mapping[str, Any], fleet: str, svc: str) -> Mapping[str, Any]:
    """``fleet``'s share of ``svc`` in a run's summary ({} where there is none)."""
    f = (summary.get("fleets") or {}).get(fleet) if isinstance(summary.get("fleets"),
                                                                Mapping) else None
    services = f.get("services") if isinstance(f, Mapping) else None
    out = services.get(svc) if isinstance(services, Mapping) else None
    return out if isinstance(out, Mapping) else {}


FLEET_SHARE = "fleet's share"  # what a verdict of fleet_comparison is about


def fleet_key(service: str, fleet: str) -> str:
    """A fleet's share of a service, named as a sweep's results name its columns."""
    return f"{service}[{fleet}]"


def aggregate_fleets(runs: Sequence[Mapping[str, Any]], policies: Sequence[str]
                     ) -> dict[str, dict[str, dict[str, Any]]]:
    """Per policy and fleet's share of a service that several fleets send (keyed
    ``service[fleet]``), :func:`mean_ci` of each metric over the policy's runs, as
    :func:`aggregate` does for the services: a policy can lead for the whole and fail one fleet
    (the one whose devices cannot compute on board, say)."""
    shared = shared_services(runs)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for p in policies:
        mine = sorted((r for r in runs if r["policy"] == p), key=lambda r: r["seed"])
        out[p] = {}
        for svc, fleets in shared.items():
            for fleet in fleets:
                per = [_fleet_service(r["summary"], fleet, svc) for r in mine]
                entry: dict[str, Any] = {
                    m: mean_ci([get(s) for s in per], bounds=BOUNDS[m],
                               resolution_rel=RESOLUTION.get(m, 0.0))
                    for m, get in METRICS.items()}
                entry["seeds"] = [r["seed"] for r in mine]
                out[p][fleet_key(svc, fleet)] = entry
    return out


def _number(x: Any) -> float | None:
    """``x`` as a float where it is a number (not a bool), else None (a missing figure, or a
    hand-edited summary's text)."""
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _run_fleets(summary: Mapping[str, Any]) -> Mapping[str, Any]:
    """A run summary's fleets by name ({} where it has none of that shape)."""
    fleets = summary.get("fleets")
    return fleets if isinstance(fleets, Mapping) else {}


def energy_fleets(runs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The fleets with devices in some run, in the order the runs' summaries list them (a
    fleet scaled to no device has no energy to compare)."""
    names: list[str] = []
    for r in runs:
        summary = r.get("summary") if isinstance(r, Mapping) else None
        for name, f in _run_fleets(summary if isinstance(summary, Mapping) else {}).items():
            if isinstance(f, Mapping) and _number(f.get("devices")) and name not in names:
                names.append(name)
    return names


def aggregate_energy(runs: Sequence[Mapping[str, Any]], policies: Sequence[str]
                     ) -> dict[str, dict[str, dict[str, Any]]]:
    """Per policy and fleet (:func:`energy_fleets`), :func:`mean_ci` over the policy's runs
    (seeds) of each of :data:`ENERGY_METRICS`: ``energy_per_request_j`` (J), ``mean_power_w``
    (W) and ``battery_life_h`` (h; None, no entry, where no run gave the fleet one: it has no
    battery). A run where a figure is None (a fleet that created no request has no energy per
    request) counts in no mean: ``n`` says on how many seeds it had one, and ``values`` holds
    the None in the seed's place. Also the fleet's ``devices`` and the ``seeds``."""
    names = energy_fleets(runs)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for p in policies:
        mine = sorted((r for r in runs if r["policy"] == p), key=lambda r: r["seed"])
        out[p] = {}
        for name in names:
            per: list[Mapping[str, Any]] = []
            for r in mine:
                f = _run_fleets(r["summary"]).get(name)
                per.append(f if isinstance(f, Mapping) else {})
            entry: dict[str, Any] = {
                "devices": max((int(_number(f.get("devices")) or 0) for f in per), default=0)}
            for m in ENERGY_METRICS:
                values = [_number(f.get(m)) for f in per]
                entry[m] = (None if m == "battery_life_h" and all(v is None for v in values)
                            else mean_ci(values, bounds=BOUNDS[m]))
            entry["seeds"] = [r["seed"] for r in mine]
            out[p][name] = entry
    return out


def aggregate_site_energy(runs: Sequence[Mapping[str, Any]], policies: Sequence[str]
                          ) -> dict[str, dict[str, Any]]:
    """Per policy, :func:`mean_ci` over its runs (seeds) of each of
    :data:`SITE_ENERGY_METRICS` from the runs' ``site_energy`` (a run without one, or a
    figure None, counts in no mean), and the ``seeds``."""
    out: dict[str, dict[str, Any]] = {}
    for p in policies:
        mine = sorted((r for r in runs if r["policy"] == p), key=lambda r: r["seed"])
        per = [(r["summary"].get("site_energy") if isinstance(r.get("summary"), Mapping)
                else None) or {} for r in mine]
        out[p] = {m: mean_ci([_number(e.get(m)) if isinstance(e, Mapping) else None
                              for e in per], bounds=BOUNDS[m]) for m in SITE_ENERGY_METRICS}
        out[p]["seeds"] = [r["seed"] for r in mine]
    return out


def comparison_site_energy(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The comparison's compute sites' energy per policy: its ``site_energy``
    (:func:`aggregate_site_energy`), or the same from its runs where an earlier
    comparison.json lacks it."""
    stored = data.get("site_energy")
    if isinstance(stored, Mapping):
        return {p: dict(stored.get(p) or {}) for p in data["policies"]}
    return aggregate_site_energy(data.get("runs") or [], data["policies"])


def comparison_energy(data: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The comparison's devices' energy per policy and fleet: its ``fleets``
    (:func:`aggregate_energy`), or the same from its runs where an earlier comparison.json
    lacks it."""
    stored = data.get("fleets")
    if isinstance(stored, Mapping):
        return {p: dict(stored.get(p) or {}) for p in data["policies"]}
    return aggregate_energy(data.get("runs") or [], data["policies"])


def fleet_comparison(data: Mapping[str, Any]) -> dict[str, Any]:
    """The comparison of the fleets' shares of the services several fleets send, in the form
    of a comparison (``services`` keyed ``service[fleet]``, each with its service's deadline
    and target; ``aggregate`` from :func:`aggregate_fleets`, or from the runs where an earlier
    comparison.json lacks it): the verdicts and tables read it as they read the services'."""
    policies = data["policies"]
    agg = data.get("aggregate_fleets")
    if agg is None:
        agg = aggregate_fleets(data.get("runs") or [], policies)
    # the shares every policy has (a stored aggregate_fleets is checked when read), each with
    # its service's deadline and target
    keys = [k for k in (agg.get(policies[0]) or {}) if "[" in k] if policies else []
    services = {k: dict(data["services"].get(k[:k.rindex("[")]) or {}) for k in keys
                if all(k in (agg.get(p) or {}) for p in policies)}
    return {**data, "services": services, "aggregate": agg}


def paired_difference(a: Sequence[float | None], b: Sequence[float | None],
                      bounds: tuple[float, float] = (-1.0, 1.0)) -> dict[str, Any]:
    """:func:`mean_ci` of ``a - b`` over the seeds where both have a value, its interval clipped
    to ``bounds`` (the difference of two hit ratios lies in [-1, 1])."""
    return mean_ci([x - y for x, y in zip(a, b, strict=True) if x is not None and y is not None],
                   bounds=bounds)


# ---- running -----------------------------------------------------------------------------------
def check_policies(policies: Sequence[str], *, field: str = "policies") -> list[str]:
    """The policies, de-duplicated in order; :class:`InputError` for an unknown one or none."""
    from airan.policy import is_known_policy, policy_names

    names = [p.strip() for p in policies if p.strip()]
    if not names:
        raise InputError("give at least one policy", field=field, value=",".join(policies))
    for name in names:
        if not is_known_policy(name):
            raise unknown_name("policy", name, policy_names(), field=field)
    return list(dict.fromkeys(names))


def run_comparison(
    scenario: Any,
    policies: Sequence[Any] | Mapping[str, Any],
    *,
    seeds: int = 5,
    first_seed: int | None = None,
    duration_s: float | None = None,
    fleet_scale: float = 1.0,
    warmup_s: float | None = None,
    out: str | Path,
    progress: Progress | None = None,
) -> Comparison:
    """Run every policy on seeds ``first_seed .. first_seed + seeds - 1``; write the comparison.

    ``scenario`` is a :class:`~airan.scenario.Scenario`, a built-in name or a YAML path;
    ``policies`` are names (built-in or ``module:callable``) or policy functions, as
    :func:`airan.run` takes (a function under its ``module:qualname``), or a mapping of labels
    of one's own to them (variants of one policy: ``{"thr-10ms": partial(f, 0.01), ...}``);
    ``first_seed`` defaults
    to the scenario's seed; ``warmup_s`` (the scenario's ``engine.warmup_s`` where None): the
    seconds of each run whose requests count in no figure. Writes ``out/comparison.json``,
    ``out/runs/<policy>-seed<N>.json`` (one summary per run; an earlier comparison's files of
    that form are removed first), ``out/scenario.yaml`` and
    ``out/report.html`` with its figures. A folder that is no comparison but holds a file it
    writes (the user's own scenario.yaml) is refused (FileExistsError).
    """
    from airan.api import note_fleet_scale, scale_fleets
    from airan.engine import Engine
    from airan.policy import as_policy, policy_label
    from airan.scenario import Scenario, load_scenario

    given: dict[str, Any] = {}  # label -> what the engine runs (a name or the function)
    if isinstance(policies, Mapping):  # labels of one's own (a researcher's review: variants
        for label, p in policies.items():  # of one policy read functools:partial()#2)
            if not isinstance(label, str) or not label.strip() or "/" in label:
                raise InputError("a policy's label is a non-empty name without '/'",
                                 field="policies", value=repr(label))
            if callable(p):
                given[label] = as_policy(p, label)
            elif isinstance(p, str):
                given[label] = check_policies([p])[0]
            else:
                raise InputError("a policy is a name or a function (snapshot, batch) -> array",
                                 field=f"policies.{label}", value=repr(p))
        policies = []
    for p in policies:
        if callable(p):
            if any(q is p for q in given.values()):
                continue
            label = policy_label(p)  # (two partials, two lambdas: one label; number them)
            if label in given:
                label += f"#{sum(k == label or k.startswith(label + '#') for k in given) + 1}"
            given[label] = as_policy(p, label)
        elif isinstance(p, str):
            given.update({n: n for n in check_policies([p]) if n not in given})
        else:
            raise InputError("a policy is a name or a function (snapshot, batch) -> array",
                             field="policies", value=repr(p))
    if not given:
        check_policies([])  # (none given: its error)
    policies = list(given)
    if seeds < 1:
        raise InputError("must be at least 1", field="seeds", value=seeds)
    if duration_s is not None and not duration_s > 0:
        raise InputError("must be positive", field="duration_s", value=duration_s)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    from airan.scenario.load import check_policy_sites

    for p in policies:  # before any run: a policy the scenario cannot serve fails at once
        check_policy_sites(sc, given[p] if isinstance(given[p], str) else p, field="policies")
    if fleet_scale != 1.0:
        sc = scale_fleets(sc, fleet_scale)
    if warmup_s is not None:  # (each run, and out/scenario.yaml, keep it)
        if not (math.isfinite(warmup_s) and 0.0 <= warmup_s < (duration_s or sc.duration_s)):
            raise InputError("must be at least 0 and shorter than a run", field="warmup_s",
                             value=warmup_s)
        sc = sc.model_copy(update={"engine": sc.engine.model_copy(
            update={"warmup_s": float(warmup_s)})})
    base = sc.seed if first_seed is None else int(first_seed)
    seed_list = [base + i for i in range(seeds)]
    folder = Path(out)
    refused = foreign_folder_error(folder, COMPARISON)
    if refused is not None:  # the user's own scenario.yaml or report.html
        raise FileExistsError(refused)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COMPARISON).unlink(missing_ok=True)  # present only once complete
    runs_dir = folder / "runs"
    runs_dir.mkdir(exist_ok=True)
    for stale in runs_dir.glob("*-seed*.json"):  # an earlier comparison's runs (by their
        if RUN_FILE.fullmatch(stale.name):  # names: no other file of the folder's)
            stale.unlink(missing_ok=True)

    runs: list[dict[str, Any]] = []
    total = len(policies) * len(seed_list)
    t0 = time.perf_counter()
    failed: dict[str, str] = {}  # a policy of one's own that failed in a run: why
    for p in policies:
        for seed in seed_list:
            done = len(runs)
            engine = Engine(sc, policy=given[p], seed=seed, duration_s=duration_s,
                            trace_limit=0, trace_sample=0.0)
            if progress is not None:
                progress(done, total, p, seed, 0.0)

            def tick(frac: float, _d: int = done, _p: str = p, _s: int = seed) -> None:
                if progress is not None:
                    progress(_d, total, _p, _s, frac)

            try:
                result = engine.run(progress=tick)
            except InputError as exc:
                if exc.field != "policy":
                    raise  # (the scenario's bad input: not this policy's)
                # one policy of one's own that fails leaves the others compared (its runs
                # so far are dropped: every policy is compared on every seed)
                failed[p] = f"seed {seed}: {exc.reason}"
                for r in [r for r in runs if r["policy"] == p]:
                    runs.remove(r)
                    (runs_dir / f"{_slug(p)}-seed{r['seed']}.json").unlink(missing_ok=True)
                break
            summary = jsonable(note_fleet_scale(result.summary, fleet_scale))
            summary["policy"] = p  # (its label here: two functions of one name are numbered)
            write_json_atomic(runs_dir / f"{_slug(p)}-seed{seed}.json", summary)
            runs.append({"policy": p, "seed": seed, "summary": summary})
    if failed and len(failed) == len(policies):
        name, why = next(iter(failed.items()))
        raise InputError(f"every policy failed ({name}, {why})", field="policies", value=name)
    policies = [p for p in policies if p not in failed]
    wall = time.perf_counter() - t0
    if progress is not None:
        progress(total, total, policies[-1], seed_list[-1], 1.0)

    first = runs[0]["summary"]
    services = list(first["services"])
    data = {
        "kind": KIND,
        "airan_version": first.get("airan_version"),
        "scenario": first["scenario"],
        "policies": policies,
        "seeds": seed_list,
        "duration_s": first["duration_s"],
        "fleet_scale": fleet_scale,
        "wall_s": wall,
        "confidence": CONFIDENCE,
        "ci_method": CI_METHOD,
        "services": {
            s: {"deadline_ms": first["services"][s].get("deadline_ms"),
                "target_hit_ratio": first["services"][s].get("target_hit_ratio")}
            for s in services
        },
        "aggregate": aggregate(runs, policies, services),
        # per fleet, where several fleets send a service: keyed service[fleet]
        "aggregate_fleets": aggregate_fleets(runs, policies),
        # per policy and fleet, the devices' energy: J per request, W, battery h
        "fleets": aggregate_energy(runs, policies),
        # per policy, the compute sites' GPU energy: W, J per request served, idle GPUs' W
        "site_energy": aggregate_site_energy(runs, policies),
        "runs": runs,
        # policies of one's own that failed in a run, and why (left out of the comparison)
        "failed_policies": failed,
    }
    # the scenario as compared: its duration the one the runs had, its seed the first seed
    # (policies and seeds vary)
    as_run = sc.model_copy(update={"seed": base} if duration_s is None else
                           {"seed": base, "duration_s": float(duration_s)})
    (folder / "scenario.yaml").write_text(scenario_yaml(as_run), encoding="utf-8")
    write_json_atomic(folder / COMPARISON, data)
    report = build_comparison_report(folder, data=data)
    return Comparison(folder=folder, json_path=folder / COMPARISON, report_path=report,
                      data=data)


# ---- reading and the report --------------------------------------------------------------------
def is_comparison(folder: str | Path) -> bool:
    """Whether ``folder`` holds a comparison.json."""
    return (Path(folder) / COMPARISON).is_file()


def read_comparison(folder: str | Path) -> dict[str, Any]:
    """The comparison.json of ``folder``; :class:`InputError` if missing or malformed."""
    path = Path(folder) / COMPARISON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"not a comparison folder: no {COMPARISON}", file=str(folder)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"unreadable or half-written comparison: {exc}",
                         file=str(path)) from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise InputError(f"not an airan comparison: field 'kind' is not {KIND!r}",
                         file=str(path))
    for key in ("policies", "seeds", "services", "aggregate", "runs"):
        if key not in data:
            raise InputError(f"not an airan comparison: field {key!r} is missing",
                             file=str(path))
    wrong = _comparison_type_error(data)
    if wrong is not None:
        raise InputError(f"not an airan comparison: {wrong}", file=str(path))
    return data


def _figures_ok(entry: Any,
                metrics: Sequence[str] = ("hit_ratio", "p50_ms", "p99_ms")) -> bool:
    """Whether an aggregate's entry (one policy, one service) has every figure the report
    reads: per metric a mapping with a mean (a number or None), values (a list) and n."""
    def num(x: Any) -> bool:
        return x is None or (isinstance(x, int | float) and not isinstance(x, bool))

    return isinstance(entry, dict) and all(
        isinstance(m := entry.get(k), dict) and num(m.get("mean"))
        and isinstance(m.get("values"), list) and all(num(v) for v in m["values"])
        and isinstance(m.get("n"), int) and num(m.get("ci_low")) and num(m.get("ci_high"))
        for k in metrics)


def _energy_ok(entry: Any) -> bool:
    """Whether an entry of a comparison's ``fleets`` (one policy, one fleet) has the figures
    the report reads: :data:`ENERGY_METRICS` each as :func:`_figures_ok` checks them, the
    battery's life null too (a fleet without a battery)."""
    return isinstance(entry, dict) and all(
        (m == "battery_life_h" and entry.get(m) is None) or _figures_ok({m: entry.get(m)}, (m,))
        for m in ENERGY_METRICS)


def _comparison_type_error(data: Mapping[str, Any]) -> str | None:
    """What in a comparison.json (a user may have edited it) is not of the type the report
    reads it as, naming the field; None when all is."""
    from airan.report.rundir import summary_type_error

    def bad(key: str, what: str) -> str:
        return f"field {key!r} should be {what} (got {data[key]!r:.60})"

    if not (isinstance(data["policies"], list)
            and all(isinstance(p, str) for p in data["policies"])):
        return bad("policies", "a list of names")
    if not (isinstance(data["seeds"], list) and all(
            isinstance(x, int) and not isinstance(x, bool) for x in data["seeds"])):
        return bad("seeds", "a list of integers")
    if not (isinstance(data["services"], dict)
            and all(isinstance(v, dict) for v in data["services"].values())):
        return bad("services", "a mapping of services to mappings")
    agg = data["aggregate"]
    if not (isinstance(agg, dict) and all(
            isinstance(agg.get(p), dict) and all(_figures_ok(agg[p].get(s))
                                                 for s in data["services"])
            for p in data["policies"])):
        return bad("aggregate", "a mapping of every policy to a mapping of every service to "
                   "its figures (hit_ratio, p99_ms, ...: each a mean, values and n)")
    fleets = data.get("aggregate_fleets")
    if fleets is not None and not (isinstance(fleets, dict) and all(
            isinstance(fleets.get(p), dict)
            and all(_figures_ok(v) for v in fleets[p].values())
            for p in data["policies"])):
        return bad("aggregate_fleets",
                   "a mapping of every policy to a mapping of service[fleet] to its figures")
    energy = data.get("fleets")
    if energy is not None and not (isinstance(energy, dict) and all(
            isinstance(energy.get(p), dict) and all(_energy_ok(v) for v in energy[p].values())
            for p in data["policies"])):
        return bad("fleets", "a mapping of every policy to a mapping of fleets to their "
                   "energy figures (energy_per_request_j, mean_power_w: each a mean, values and "
                   "n; battery_life_h the same or null)")
    site_energy = data.get("site_energy")
    if site_energy is not None and not (isinstance(site_energy, dict) and all(
            isinstance(site_energy.get(p), dict)
            and _figures_ok(site_energy[p], SITE_ENERGY_METRICS) for p in data["policies"])):
        return bad("site_energy", "a mapping of every policy to its sites' energy figures "
                   "(power_w, energy_per_served_j, unused_power_w: each a mean, values and n)")
    runs = data["runs"]
    if not (isinstance(runs, list) and all(
            isinstance(r, dict) and isinstance(r.get("summary"), dict)
            and isinstance(r.get("summary", {}).get("services"), dict) for r in runs)):
        return bad("runs", "a list of runs, each with its summary")
    for k, r in enumerate(runs):
        summary = {"services": {}, **r["summary"]}
        wrong = summary_type_error(summary)
        if wrong is not None:
            return f"runs[{k}].summary: {wrong}"
    return None


def _fmt_ci(st: Mapping[str, Any], fmt: Callable[[float | None], str],
            bounds: tuple[float, float] = (0.0, math.inf)) -> str:
    """``mean [low, high]``, the interval clipped to the metric's possible range for display;
    ``unbounded (k of n seeds)`` for a percentile that falls among the unanswered requests."""
    if st.get("unbounded"):
        seeds = len(st.get("values") or [])
        return f"unbounded ({st['unbounded']} of {seeds} seeds)"
    if st.get("mean") is None:
        return "-"
    if st.get("ci_low") is None:
        return f"{fmt(st['mean'])} (no CI)"
    values = st.get("values") or []
    if len(values) > 1 and all(v == values[0] for v in values):
        # a zero-width interval would claim a certainty the seeds do not give
        if st.get("resolution_rel"):  # (one histogram bucket: they differ, by less than it)
            return (f"{fmt(st['mean'])} (+-{st['resolution_rel']:.1%} on all {len(values)} "
                    "seeds: the histogram's resolution)")
        return f"{fmt(st['mean'])} (on all {len(values)} seeds)"
    lo, hi = max(st["ci_low"], bounds[0]), min(st["ci_high"], bounds[1])
    return f"{fmt(st['mean'])} [{fmt(lo)}, {fmt(hi)}]"


def ranking_metric(agg: Mapping[str, Any], policies: Sequence[str], svc: str) -> str:
    """The hit ratio policies are ranked on: ``hit_ratio_with_overdue`` (requests still in flight
    past their deadline at the end counted as misses), or the plain ``hit_ratio`` when some run's
    summary lacks it (written before airan counted overdue requests). A run in which nothing
    ended but requests are overdue has only the former: it stays, at 0."""
    m = "hit_ratio_with_overdue"
    if any(agg[p][svc].get(m, {}).get("n", 0) < agg[p][svc]["hit_ratio"]["n"] for p in policies):
        return "hit_ratio"
    return m


def comparison_verdicts(data: Mapping[str, Any], of: str = "service") -> dict[str, str]:
    """Per service (or what ``of`` names: a fleet's share of one), one line: which policy leads
    on hit ratio and whether that is significant.

    Policies are ranked on the hit ratio with overdue requests (still in flight past their
    deadline at the end) counted as misses, where every run has it; else on the plain one.
    """
    agg = data["aggregate"]
    out: dict[str, str] = {}
    for svc, meta in data["services"].items():
        target = meta.get("target_hit_ratio")
        m = ranking_metric(agg, data["policies"], svc)
        label = ("hit ratio with overdue requests counted as missed" if m != "hit_ratio"
                 else "hit ratio")
        ranked = sorted(
            (p for p in data["policies"] if agg[p][svc][m]["mean"] is not None),
            key=lambda p: -agg[p][svc][m]["mean"],
        )
        if not ranked:
            out[svc] = f"no policy completed a request of this {of}."
            continue
        best = ranked[0]
        hit = agg[best][svc][m]["mean"]
        meets = [p for p in ranked if target is None or agg[p][svc][m]["mean"] >= target]
        # the policies with the leader's hit ratio on every seed: they tie, whatever the order
        tied = [p for p in ranked
                if _same_on_every_seed(agg[p][svc][m]["values"], agg[best][svc][m]["values"])]
        rest = [p for p in ranked if p not in tied]
        if len(tied) > 1:
            every = "on every seed" if len(agg[best][svc][m]["values"]) > 1 else "on its seed"
            text = f"{_and(tied)} tie for the highest mean {label} ({pct(hit)}) {every}"
            p99 = {p: agg[p][svc]["p99_ms"]["mean"] for p in tied}
            known = [p for p in tied if p99[p] is not None]
            unbounded = [p for p in tied if agg[p][svc]["p99_ms"].get("unbounded")]
            if len(known) > 1 and len({p99[p] for p in known}) > 1:
                least = min(p99[p] for p in known)
                # the policies at the lowest mean p99 tie for it, whatever the order listed
                lows = [p for p in known if p99[p] == least]
                others = sorted((p for p in known if p not in lows), key=lambda p: p99[p])
                high = others[-1]
                # the policies above whose p99 the lowest's is not significantly lower (the
                # paired 95% interval of the difference includes 0, or there are too few
                # seeds for one): the runner-up's included, not only the worst's
                weak = [q for q in others if not all(
                    _significantly_lower(agg[p][svc]["p99_ms"]["values"],
                                         agg[q][svc]["p99_ms"]["values"]) for p in lows)]
                sure = f", not significantly lower than {_and(weak)}" if weak else ""
                figures = f"({ms(least)} ms, against up to {ms(p99[high])} ms{sure}"
                values = agg[lows[0]][svc]["p99_ms"]["values"]
                if len(lows) == 1:
                    text += f"; of those, {lows[0]} has the lowest mean p99 {figures}"
                elif all(_same_on_every_seed(agg[p][svc]["p99_ms"]["values"], values)
                         for p in lows):
                    text += (f"; of those, {_and(lows)} tie for the lowest mean p99 "
                             f"{'on every seed' if len(values) > 1 else 'on its seed'} "
                             f"{figures}")
                else:  # equal means, not seed by seed
                    text += (f"; of those, {_and(lows)} have the same lowest mean p99, not on "
                             f"the same seeds {figures}")
                text += (f"; unbounded for {_and(unbounded)}, which left more than 1% "
                         "unanswered)" if unbounded else ")")
            elif len(known) == 1 and unbounded:
                text += (f"; of those, {known[0]} has a bounded p99 ({ms(p99[known[0]])} ms; "
                         f"{_and(unbounded)} left more than 1% unanswered)")
        elif rest and agg[rest[0]][svc][m]["mean"] == hit:  # equal means, not seed by seed
            text = (f"{best} and {rest[0]} have the same mean {label} ({pct(hit)}), not on "
                    "the same seeds")
            rest = []
        else:
            text = f"{best} has the highest mean {label} ({pct(hit)})"
        if rest:
            second = rest[0]
            diff = paired_difference(agg[best][svc][m]["values"],
                                     agg[second][svc][m]["values"])
            they = "it" if len(tied) == 1 else "they"
            if diff["ci_low"] is None:
                text += (f"; with {diff['n']} paired seed(s) {they} cannot be told apart from "
                         f"{second}")
            elif diff["ci_low"] > 0:
                text += (("," if len(tied) == 1 else "; they are")
                         + f" ahead of {second} by {diff['mean'] * 100:.2f} points "
                         f"[{diff['ci_low'] * 100:.2f}, {diff['ci_high'] * 100:.2f}] "
                         f"(95% CI, paired over {diff['n']} seeds)")
            else:
                text += ((", but" if len(tied) == 1 else "; they are")
                         + f" not significantly ahead of {second}: difference "
                         f"{diff['mean'] * 100:.2f} points [{diff['ci_low'] * 100:.2f}, "
                         f"{diff['ci_high'] * 100:.2f}] (95% CI, paired over {diff['n']} seeds)")
                pairs = [(x, y) for x, y in zip(agg[best][svc][m]["values"],
                                                agg[second][svc][m]["values"], strict=False)
                         if x is not None and y is not None]
                if pairs and all(x > y for x, y in pairs) and len(pairs) < FEW_SEEDS:
                    # (a robot maker's review: 0.96 and 0.72 against 0.005 read as a
                    # contradiction beside "not significantly ahead")
                    text += (f", though ahead on each of {'its' if len(tied) == 1 else 'their'}"
                             f" {len(pairs)} seeds: too few to tell, compare on {FEW_SEEDS} "
                             "seeds or more")
        if target is not None:
            text += (f". Meeting the target {pct(target)} on average: "
                     f"{', '.join(meets) if meets else 'none'}")
        seeds = (len(data["seeds"]) if data.get("seeds")
                 else max(agg[p][svc][m]["n"] for p in ranked))
        fewer = [f"{p} over {agg[p][svc][m]['n']}" for p in ranked
                 if agg[p][svc][m]["n"] < seeds]
        if fewer:
            text += (f". Means over fewer than the {seeds} seeds where nothing of the {of} "
                     f"ended on the others: {_and(fewer)}")
        out[svc] = text + "."
    return out


#: A radio direction full in at least this share of the cells is the policies' shared
#: bottleneck (assumption, as :data:`airan.report.cautions.GPU_SATURATED` is: summary.json
#: counts the busy cells, not the requests each carries, so the share is of all cells)
SHARED_CELLS = 0.25


def comparison_bottlenecks(data: Mapping[str, Any]) -> list[str]:
    """What the runs saturated, which a ranking of the policies alone hides (all of them near
    zero behind one full resource): a radio direction that every run of two or more policies
    filled in at least :data:`SHARED_CELLS` of the cells (shared by them: no placement avoids
    it), then per policy the compute sites saturated on every seed
    (:func:`airan.report.cautions.saturated_sites`), the transport link directions busier than
    :data:`airan.report.cautions.LINK_BUSY` on every seed, and the devices' own queues where
    every seed dropped requests for them being full; last, a direction full in fewer cells
    than that on every such run: those cells' devices wait whatever the policy, but the rest of
    the radio has room, so it is no shared bottleneck and the policies differ elsewhere (a
    saturated GPU, say)."""
    from airan.report.cautions import LINK_BUSY, busy_links, saturated_sites

    policies = list(data["policies"])
    runs = {p: [r["summary"] for r in data.get("runs") or [] if r["policy"] == p]
            for p in policies}
    out, few = [], []
    for key, label in (("ul", "uplink"), ("dl", "downlink")):
        full = [p for p in policies if runs[p] and all(
            (s.get("cells") or {}).get(f"cells_busy_{key}") for s in runs[p])]
        if len(full) < 2:
            continue
        cells = [s["cells"] for p in full for s in runs[p]]
        busy = sorted({int(c[f"cells_busy_{key}"]) for c in cells})
        n = f"{busy[0]:,}" if len(busy) == 1 else f"{busy[0]:,} to {busy[-1]:,}"
        who = "every policy" if len(full) == len(policies) else _and(full)
        count = int(cells[0].get("count") or 0)
        threshold = cells[0].get("busy_threshold", 0.9)
        if count and busy[0] < SHARED_CELLS * count:  # on some run, only a few cells full
            some = "" if busy[-1] < SHARED_CELLS * count else " on some runs"
            # (a port's review read "no shared bottleneck" as none, where every crane-video
            # miss came from the two full cells: a bottleneck for their devices, named)
            names = sorted({str(c[f"busiest_cell_{key}"]) for c in cells
                            if c.get(f"busiest_cell_{key}")})
            busiest = (f" (the busiest: {_and(names[:3])}"
                       + (f" and {len(names) - 3} more" if len(names) > 3 else "") + ")"
                       if names else "")
            few.append(
                f"Every run of {who} used more than {threshold:.0%} of the {label} PRBs in "
                f"{n} of {count:,} cells: their devices' "
                f"{'uploads' if key == 'ul' else 'downloads'} wait whatever the policy{busiest}, "
                "a bottleneck for them that no placement relieves; but fewer than "
                f"{SHARED_CELLS:.0%} of the cells are full{some}, so the {label} is no "
                "bottleneck the policies share across the network: where their hit ratios "
                "differ, the cause lies elsewhere.")
            continue
        out.append(
            f"Shared bottleneck: every run of {who} used more than "
            f"{threshold:.0%} of the {label} PRBs in {n} of "
            f"{count:,} cells. The {label} is common to "
            f"{'them' if len(full) > 2 else 'both'} and full whatever they place where, so their "
            f"hit ratios compare placements behind it; fewer or smaller transfers, or more "
            f"cells, would help each of them.")
    for p in policies:
        if not runs[p]:
            continue
        sat = [set(saturated_sites(s)) for s in runs[p]]
        sites = [n for n in runs[p][0].get("sites") or {} if all(n in x for x in sat)]
        if sites:
            out.append(f"{p} saturated the GPUs of {_and(sites)} on every seed.")
        loaded = [set(busy_links(s)) for s in runs[p]]
        links = [n for n in busy_links(runs[p][0]) if all(n in x for x in loaded)]
        if links:
            named = links if len(links) <= 5 else links[:5] + [f"{len(links) - 5:,} more"]
            out.append(f"{p} loaded the transport link{'s' if len(links) > 1 else ''} "
                       f"{_and(named)} above {LINK_BUSY:.0%} on every seed: messages queue "
                       "there (the transport is a bottleneck).")
        full_dev = [int(((s.get("requests") or {}).get("dropped_by_reason") or {}).get(
            "device_queue_full") or 0) for s in runs[p]]
        if all(full_dev):
            # devices that no cell serves keep their work on board whatever its load
            # (those below the floor on the uplink: a downlink-only one's uploads go)
            uncovered = sum(int(f.get("out_of_coverage_uplink", f.get("out_of_coverage")) or 0)
                            for f in (runs[p][0].get("fleets") or {}).values())
            why = (f" or, for the {uncovered:,} devices out of coverage, on board for want of a "
                   "cell" if uncovered else "")
            # (a fleet without an accelerator computes on the catalog's generic device CPU)
            out.append(f"{p} filled the devices' own queues on every seed ({sum(full_dev):,} "
                       "requests dropped for device_queue_full in all): their on-board "
                       "processors (an accelerator, or the CPU on a device without one) are "
                       f"saturated{why}.")
    # the cells' own L1 on the GPUs (ai_ran): slots it did not fit, whatever the placement
    l1 = [ar for s in (r["summary"] for r in data.get("runs") or [])
          if (ar := s.get("ai_ran") or {}).get("l1_slots")]
    # (slots a fault's outage lost are not the L1's capacity: left out)
    shares = [(ar["l1_slot_misses"] - (ar.get("l1_slots_down") or 0)) / ar["l1_slots"]
              for ar in l1]
    if shares and max(shares) > 0:
        model = l1[0].get("radio_model", "nr")
        lo, hi = min(shares), max(shares)
        span = f"{lo:.1%}" if f"{lo:.1%}" == f"{hi:.1%}" else f"{lo:.1%} to {hi:.1%}"
        out.append(f"The cells' L1 did not fit in {span} of its site-slots in these runs "
                   "(ai_ran.l1_slot_misses): the L1 drops those slots, whichever policy "
                   "places the AI, " + ("and its cells carry no data in them." if model == "nr"
                                        else f"which the {model} radio does not model (it "
                                        "carries the cells' data regardless)."))
    return out + few


def _significantly_lower(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Whether the per-seed values ``a`` are significantly lower than ``b``: the paired 95%
    interval of ``b - a`` lies above 0 (with fewer than two paired seeds, there is none)."""
    gap = paired_difference(b, a, bounds=(-math.inf, math.inf))
    return gap["ci_low"] is not None and gap["ci_low"] > 0


def _same_on_every_seed(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Whether two policies' per-seed values are the same on every seed, a seed without a
    value included (a policy that matches the leader only where the leader has a value does
    not tie with it)."""
    return any(x is not None for x in a) and list(a) == list(b)


def _and(names: Sequence[str], word: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def build_comparison_report(folder: str | Path, *, data: Mapping[str, Any] | None = None) -> Path:
    """Write ``folder/report.html`` and ``folder/figures/*`` from ``folder/comparison.json``."""
    folder = Path(folder)
    data = data if data is not None else read_comparison(folder)
    agg = data["aggregate"]
    services = list(data["services"])
    policies = list(data["policies"])
    meta = data["services"]
    pooled: dict[str, dict[str, tuple[dict[str, Any], int]]] = {}
    for p in policies:
        pooled[p] = {}
        for s in services:
            counts: dict[str, int] = {}
            hist_meta: dict[str, Any] = {}
            ended = 0
            for r in data["runs"]:
                if r["policy"] != p:
                    continue
                svc = r["summary"]["services"].get(s) or {}
                h = svc.get("latency_histogram") or {}
                hist_meta = hist_meta or {"min_s": h.get("min_s"), "gamma": h.get("gamma")}
                for b, c in (h.get("counts") or {}).items():
                    counts[b] = counts.get(b, 0) + int(c)
                ended += int(svc.get("met", 0)) + int(svc.get("late", 0)) + int(
                    svc.get("dropped", 0))
            pooled[p][s] = ({**hist_meta, "counts": counts}, ended)
    fig_dir = folder / FIGURES
    p99s = [agg[p][s]["p99_ms"]["mean"] for p in policies for s in services
            if agg[p][s]["p99_ms"]["mean"]]
    log_p99 = bool(p99s) and max(p99s) / max(min(p99s), 1e-9) > 20
    with F.style():
        figs = [
            F.save(F.compare_metric(
                agg, "hit_ratio", services, ylabel="deadline hit ratio",
                reference={s: meta[s].get("target_hit_ratio") for s in services},
                reference_label="target", percent=True),
                fig_dir, "compare_hit_ratio", "Deadline hit ratio by policy",
                "Mean over seeds with its 95% confidence interval (Student t); the small dots "
                "are the seeds; dashed: the service's target."),
            F.save(F.compare_metric(
                agg, "p99_ms", services, ylabel="p99 latency (ms)",
                reference={s: meta[s].get("deadline_ms") for s in services},
                reference_label="deadline", log=log_p99),
                fig_dir, "compare_p99", "p99 latency by policy",
                "Mean of the per-seed p99 with its 95% confidence interval; dots: the seeds; "
                "dashed: the deadline. Requests that got no answer count as infinitely late: "
                "where more than 1% got none in a seed, the p99 is unbounded and has no bar."),
            F.save(F.compare_cdf(pooled, services, {s: meta[s].get("deadline_ms")
                                                    for s in services}),
                   fig_dir, "compare_cdf", "Latency CDF by policy",
                   "Every seed's requests pooled (histograms added); drops never finish, so a "
                   "curve ends below 1 when there are drops. Dashed: the deadline."),
        ]
    energy = comparison_energy(data)
    energy_rows = _energy_rows(data, energy)
    per_request = {p: {f: {"mj": _in_mj(e["energy_per_request_j"])} for f, e in fleets.items()}
                   for p, fleets in energy.items()}
    fleet_names = [r["fleet"] for r in energy_rows if r["policy"] == policies[0]]
    seen = {f: [v for p in per_request for v in per_request[p][f]["mj"]["values"]
                if v is not None] for f in fleet_names}
    if any(v > 0 for vs in seen.values() for v in vs):  # (cheap: as the services' hit ratio)
        # a log scale for a fleet whose policies differ by orders (1.2 mJ offloaded, 597 on
        # board) where every seed spent some energy (a camera computing nothing on board: 0)
        log_mj = [f for f, vs in seen.items() if vs and min(vs) > 0 and max(vs) / min(vs) > 20]
        with F.style():
            figs.append(F.save(F.compare_metric(
                per_request, "mj", fleet_names, ylabel="energy per request (mJ)",
                reference={}, reference_label="", log=log_mj),
                fig_dir, "compare_energy", "Devices' energy per request by policy",
                "Per fleet, the mean over seeds of its devices' radio and on-board compute "
                "energy above the idle power per request created, with its 95% confidence "
                "interval (Student t); dots: the seeds. A log scale where a fleet's values "
                "span more than 20x (none at 0)."))
    fleets = fleet_comparison(data)
    seeds = data["seeds"]
    html = render(
        "compare.html.j2",
        d=data,
        title=(f"airan: {data['scenario']}, {len(policies)} polic"
               f"{'y' if len(policies) == 1 else 'ies'} x {len(seeds)} seed"
               f"{'' if len(seeds) == 1 else 's'}"),
        rows=_table_rows(data),
        verdicts=comparison_verdicts(data),
        fleet_rows=_table_rows(fleets),
        fleet_verdicts=comparison_verdicts(fleets, of=FLEET_SHARE),
        energy_rows=energy_rows,
        energy_battery=any(r["battery"] is not None for r in energy_rows),
        energy_note=ENERGY_NOTE,
        site_energy_rows=site_energy_rows(data),
        site_energy_note=SITE_ENERGY_NOTE,
        bottlenecks=comparison_bottlenecks(data),
        figures=figs,
        figures_dir=FIGURES,
        version=data.get("airan_version") or "?",
        built=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        reproduce=_reproduce(data, (folder / "scenario.yaml").is_file()),
        rerun=RERUN_FOLDER if (folder / "scenario.yaml").is_file() else None,
        single_seed=len(seeds) < 2,
        # (a comparison written before p50 and p99 counted them keeps its answered-only ones)
        counts_unanswered=all("unbounded" in agg[p][s]["p99_ms"] for p in policies
                              for s in services),
    )
    path = folder / REPORT
    path.write_text(html, encoding="utf-8")
    return path


def _table_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's table: a row per service (or fleet's share of one) and policy."""
    agg, policies, meta = data["aggregate"], list(data["policies"]), data["services"]
    rows = []

    def meets(value: float | None, target: float | None) -> bool | None:
        return None if value is None or target is None else value >= target

    for s in meta:
        m = ranking_metric(agg, policies, s)  # the verdict's: best and target met on it
        best = max((agg[p][s][m]["mean"] for p in policies
                    if agg[p][s][m]["mean"] is not None), default=None)
        for p in policies:
            a = agg[p][s]
            target = meta[s].get("target_hit_ratio")
            overdue = a.get("hit_ratio_with_overdue", {})
            rows.append({
                # the seeds the ranked hit ratio had a value on (a seed on which nothing of
                # the service ended has none)
                "service": s, "policy": p, "n": a[m]["n"], "target": target,
                "deadline_ms": meta[s].get("deadline_ms"),
                "n_text": (f"{a[m]['n']} of {len(data['seeds'])}"
                           if a[m]["n"] < len(data["seeds"]) else str(a[m]["n"])),
                "hit": a["hit_ratio"], "p50": a["p50_ms"], "p99": a["p99_ms"],
                "hit_text": _fmt_ci(a["hit_ratio"], pct, (0.0, 1.0)),
                "hit_overdue_text": _fmt_ci(overdue, pct, (0.0, 1.0)),
                "p50_text": _fmt_ci(a["p50_ms"], ms), "p99_text": _fmt_ci(a["p99_ms"], ms),
                "best": best is not None and a[m]["mean"] == best,
                "ok": meets(a["hit_ratio"]["mean"], target),
                "ok_overdue": meets(overdue.get("mean"), target),
            })
    return rows


def _in_mj(st: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`mean_ci` entry in J, its figures in mJ (for the figure)."""
    def mj(v: Any) -> Any:
        return v * 1e3 if isinstance(v, int | float) and not isinstance(v, bool) else v

    return {**st, **{k: mj(st.get(k)) for k in ("mean", "ci_low", "ci_high", "std",
                                                  "half_width")},
            "values": [mj(v) for v in st.get("values") or []]}


def sig3(x: float | None) -> str:
    """``x`` to 3 significant digits without an exponent (21,500; 597; 1.19; 0.00131), the
    thousands separated: a column of energies spanning orders reads at a glance."""
    if x is None:
        return "-"
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def energy_text(st: Mapping[str, Any] | None, fmt: Callable[[float | None], str], seeds: int,
                missing: str = "-") -> str:
    """An energy figure's ``mean [low, high]`` (:func:`_fmt_ci`), with on how many of the
    ``seeds`` it had a value where fewer (a seed on which the fleet created no request has no
    energy per request); ``missing`` where it had none (or the fleet has no battery)."""
    if st is None or st.get("mean") is None:
        return missing
    text = _fmt_ci(st, fmt)
    return text + (f" ({st['n']} of {seeds} seeds)" if st["n"] < seeds else "")


def _energy_rows(data: Mapping[str, Any], energy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's devices' energy table: a row per fleet and policy, the policy with the
    least mean energy per request of a fleet marked, among those that spent any (a diff
    review: a policy that served none of a fleet's requests, at 0 J, was marked)."""
    policies, seeds = list(data["policies"]), len(data["seeds"])
    names = [f for f in (energy.get(policies[0]) or {}) if all(
        f in (energy.get(p) or {}) for p in policies)] if policies else []
    rows = []
    for f in names:
        least = min((energy[p][f]["energy_per_request_j"]["mean"] for p in policies
                     if (energy[p][f]["energy_per_request_j"]["mean"] or 0.0) > 0.0),
                    default=None)
        for p in policies:
            e = energy[p][f]
            rows.append({
                "fleet": f, "policy": p, "devices": e.get("devices"),
                "energy": e["energy_per_request_j"], "power": e["mean_power_w"],
                "battery": e.get("battery_life_h"),
                "least": least is not None and e["energy_per_request_j"]["mean"] == least,
                "energy_text": energy_text(e["energy_per_request_j"],
                                           lambda v: sig3(None if v is None else v * 1e3),
                                           seeds, missing="no requests"),
                "power_text": energy_text(e["mean_power_w"], sig3, seeds),
                "battery_text": energy_text(e.get("battery_life_h"), sig3, seeds),
            })
    return rows


def site_energy_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The compute sites' energy per policy (:func:`comparison_site_energy`), as the terminal
    and the report show it: mean power (kW), kWh a day at it, J per request served and the
    idle sites' W, each ``mean [95% CI]``; none where no run had site power."""
    energy = comparison_site_energy(data)
    seeds = len(data["seeds"])
    rows = []
    for p in data["policies"]:
        e = energy.get(p) or {}
        if not (e.get("power_w") or {}).get("n"):
            continue
        rows.append({
            "policy": p, "power": e["power_w"],
            "power_text": energy_text(e["power_w"], lambda v: sig3(None if v is None
                                                                  else v / 1e3), seeds),
            "day_text": energy_text(e["power_w"], lambda v: sig3(None if v is None
                                                                else v * 24 / 1e3), seeds),
            "per_served_text": energy_text(e.get("energy_per_served_j"), sig3, seeds,
                                           missing="none served"),
            "unused_text": energy_text(e.get("unused_power_w"), sig3, seeds),
        })
    return rows


def _reproduce(data: Mapping[str, Any], has_yaml: bool) -> str:
    import shlex

    args = ["airan", "compare", "scenario.yaml" if has_yaml else str(data["scenario"]),
            "--policies", ",".join(data["policies"]), "--seeds", str(len(data["seeds"])),
            "--seed", str(data["seeds"][0]), "--duration", f"{data['duration_s']:.9g}"]
    if not has_yaml and data.get("fleet_scale", 1.0) != 1.0:
        args += ["--fleet-scale", f"{data['fleet_scale']:g}"]
    if has_yaml:  # run from the comparison's folder: its copy goes beside it, not nested
        args += ["--out", RERUN_FOLDER]
    return " ".join(shlex.quote(a) for a in args)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "policy"
