"""The build-out planner: the cheapest GPUs (type, count, site) that meet every service target,
with the twin in the loop (``airan plan``; see docs/planning.md).

>>> from airan.planner import plan
>>> result = plan("factory", ["detect: hit>=0.95"], candidates=["L4", "L40S"])  # doctest: +SKIP
>>> result.best.description, result.best.cost_usd                                # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from airan.planner.build import DEFAULT_CANDIDATES, build_space, option_error
from airan.planner.evaluate import Evaluation, Evaluator, check_max_load, check_survive
from airan.planner.search import Method, PlanResult, confirm_plan, ran_on, search
from airan.planner.space import Config, PlanSpace, Slot
from airan.planner.targets import Target, parse_targets, with_default_targets
from airan.scenario import Scenario

__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_DURATION_S",
    "Config",
    "Evaluation",
    "Evaluator",
    "PlanResult",
    "PlanSpace",
    "Slot",
    "Target",
    "build_space",
    "parse_targets",
    "plan",
    "search",
]

#: Simulated seconds per planner run (short: the planner runs the twin tens to hundreds of times).
DEFAULT_DURATION_S = 2.0


def plan(
    scenario: Scenario | str | Path,
    targets: Sequence[str] | None = None,
    *,
    candidates: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    new_sites: Sequence[str] = (),
    max_gpus: int = 16,
    budget_usd: float | None = None,
    price_usd: Mapping[str, float] | None = None,
    tdp_w: Mapping[str, float] | None = None,
    site_cost_usd: float = 0.0,
    type_order: bool = False,
    keep_l1: bool = False,
    rent_usd_per_h: Mapping[str, Mapping[str, float]] | None = None,
    years: float = 3.0,
    duration_s: float = DEFAULT_DURATION_S,
    seeds: Sequence[int] | None = None,
    policy: str | None = None,
    method: Method = "auto",
    max_evals: int = 400,
    enumerate_limit: int = 500_000,
    check_evals: int = 64,
    cache_dir: str | Path | None = None,
    progress: Callable[[Evaluator, Evaluation], None] | None = None,
    confirm: bool = True,
    max_load: float | None = None,
    survive: str | None = None,
) -> PlanResult:
    """Find the cheapest build-out of ``scenario`` that meets ``targets``.

    ``targets``: strings such as ``"detect: hit>=0.999, p99<=100ms"`` (default: every service's
    ``target_hit_ratio``). ``seeds``: a build-out must meet the targets on every seed (default:
    the scenario's seed). See :func:`build_space` for the space and :func:`search` for the search
    (``check_evals``: how many of the build-outs the pruning skipped it runs at most;
    ``keep_l1``: under ``ai_ran``, a GPU at least at every slot that runs cells' L1: a
    cell-kind site, or one that lists cell sites in ``hosts_l1_of``).
    ``confirm``: run the plan found once more, four times as long after a warm-up twice as
    long (:data:`~airan.planner.search.CONFIRM_WARMUP`), on its first seed and another, and
    note where it misses (:func:`~airan.planner.search.confirm_plan`).
    ``max_load``: the headroom, the largest share of what a sized site's GPUs carry at full
    batches that its devices may offer them (e.g. 0.7; None: up to what they carry); a
    build-out whose site is offered more misses
    (:func:`~airan.planner.evaluate.headroom_miss`).
    ``survive``: ``"gpu"`` or ``"site"``: a build-out must meet the targets with any one GPU
    it buys down too, or any one site it sizes down (N-1; each a fault for the whole run,
    :meth:`~airan.planner.evaluate.Evaluator.losses`), its confirmation likewise.
    ``rent_usd_per_h``: sites rented rather than bought (``{"cloud": {"H100": 2.99}}``, USD
    per GPU-hour), sized too and costed over ``years`` around the clock
    (:mod:`airan.planner.space`).
    Raises :class:`~airan.errors.InputError` on bad input.
    """
    from airan.policy import is_known_policy, unknown_policy
    from airan.scenario import load_scenario

    # the GPUs of the sites it sizes are replaced: checked per build-out (PlanSpace.fits)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, gpu_checks=False)
    names = [v.name for v in sc.services]
    # the services no --target names keep their target_hit_ratio: those some device sends (a
    # service no fleet of devices sends is never measured, so no build-out would meet it)
    sent = {v for f in sc.fleets if f.count > 0 for v in f.services}
    parsed: list[Target] = with_default_targets(
        parse_targets(targets, names) if targets else [],
        {v.name: v.target_hit_ratio for v in sc.services if v.name in sent})
    if not duration_s > 0:
        raise option_error("--duration", "must be positive", duration_s)
    if budget_usd is not None and not (budget_usd >= 0 and math.isfinite(budget_usd)):
        raise option_error("--budget", "must be >= 0 and finite (leave it out for no budget)",
                           budget_usd)
    check_max_load(max_load)
    check_survive(survive)
    if max_evals < 1:
        raise option_error("--max-evals", "must be at least 1", max_evals)
    if check_evals < 0:
        raise option_error("--check-evals", "must be >= 0", check_evals)
    if method not in ("auto", "greedy", "exact"):
        raise option_error("--search", f"unknown search {method!r}", method,
                           ["auto", "greedy", "exact"])
    pol = policy or sc.policy
    if not is_known_policy(pol):
        reason, choices = unknown_policy(pol)
        raise option_error("--policy", reason, pol, choices)
    if policy is not None:  # (site:NAME's site, a cloud for cloud: before the search)
        from airan.scenario.load import check_policy_sites

        check_policy_sites(sc, policy, field="--policy")
    run_seeds = list(seeds) if seeds else [sc.seed]
    space = build_space(sc, candidates=candidates, sites=sites, new_sites=new_sites,
                        max_gpus=max_gpus, price_usd=price_usd, tdp_w=tdp_w,
                        site_cost_usd=site_cost_usd, type_order=type_order,
                        keep_l1=keep_l1, rent_usd_per_h=rent_usd_per_h, years=years)
    if keep_l1 and sc.ai_ran.mode == "none":
        raise option_error("--keep-l1", "needs ai_ran.mode mig or dynamic in the scenario: "
                           "without it no GPU runs a cell's L1", True)
    if keep_l1 and not space.keeps_l1.any():
        raise option_error("--keep-l1", "no site that runs cells' L1 among the slots the plan "
                           "sizes (--sites, --new-sites): no GPU to keep for an L1", True)
    bare = [s.name for s, keep, fits in zip(space.slots, space.keeps_l1, space.fits,
                                            strict=True) if keep and not fits.any()]
    if bare:
        raise option_error("--keep-l1", f"no candidate GPU can run the cells' L1 at "
                           f"{', '.join(bare)} ({'; '.join(space.unfit)}): give others with "
                           "--candidates", True)
    least = space.cost(space.floor)
    if budget_usd is not None and least > budget_usd:  # (an operator's review: the search ran
        # and called a build-out that met every target one that GPUs "barely move")
        raise option_error("--budget", f"is below the least build-out the plan may make: "
                           f"{space.describe(space.floor)}, {least:,.0f} USD (a GPU at each "
                           "site that alone serves a service its devices may not run, and "
                           "with --keep-l1 at every site that runs cells' L1)", budget_usd)
    evaluator = Evaluator(space, parsed, policy=pol, duration_s=duration_s, seeds=run_seeds,
                          cache_dir=cache_dir, progress=progress, max_load=max_load,
                          survive=survive)
    result = search(space, evaluator, budget_usd=budget_usd, method=method,
                    max_evals=max_evals, enumerate_limit=enumerate_limit, check_evals=check_evals)
    if confirm:
        confirm_plan(result, cache_dir, progress)
    result.notes += l1_notes(result)
    if survive is not None and result.best is not None:
        lost = [label for label, _ in evaluator.losses(result.best)]
        result.notes.append(
            "N-1: the plan meets every target with each of these losses too, each in runs of "
            f"its own with the fault from the start ({ran_on(evaluator)[3:]}): "
            f"{', '.join(lost)}" if lost else
            "N-1: the plan buys no GPU, so it has none to lose (the sites it does not cost "
            "are not checked)")
    return result


def l1_notes(result: PlanResult) -> list[str]:
    """What the plan's (or the closest build-out's) cell-site GPUs do with their cells' L1
    beyond the planner's runs, which cover a few seconds at ``ai_ran.traffic.start_hour``: where
    they cannot carry it at full PRB use (``airan validate`` on plan.yaml says the same), and
    where a GPU's L1 capacity is scaled from Hopper's rather than measured (a planner's review:
    a plan of one L4 per 3-sector site was "confirmed" at 80-86% busy, though its L1 drops
    slots above 0.81 PRB use, on an L1 capacity extrapolated ~1.6-2x either way)."""
    from airan.scenario.load import l1_capacity_warnings, l1_extrapolated_gpus, l1_hosts

    if (result.best or result.closest) is None:
        return []
    sc = result.scenario()
    if sc.ai_ran.mode == "none":
        return []
    notes = [f"the plan's L1: {w}; the planner's runs are {result.evaluator.duration_s:g} s at "
             f"the scenario's hour, so a busier hour or load drops those slots"
             for w in l1_capacity_warnings(sc)]
    scaled = l1_extrapolated_gpus(sc)
    if scaled:
        notes.append(
            f"the L1 capacity of {', '.join(scaled)} is not measured: scaled from Hopper's (20 "
            "peak 4T4R 100 MHz cells per GPU, NVIDIA Aerial) by dense BF16 throughput, which "
            "the A100's measured 4 cells shows uncertain by ~1.6x; the L1's share of these "
            "GPUs, and what they leave AI, may be that far off")
    if sc.ai_ran.l1_fixed_share is None and l1_hosts(sc):
        # (an operator's review: the plan's AI GPU-hours off-peak went 15.1 -> 8.7 -> 0 per
        # site at fixed shares 0.022, 0.33 and 1, and the notes named only the capacity)
        notes.append(
            "the L1's cost at low PRB use rests on ai_ran.l1_fixed_share (0.022 of a peak "
            "cell, through the A100's 4 peak / 8 average cells; reading that release's average "
            "cell with half the peak's layers gives ~0.33, and Grace Hopper's '20 peak, 20 "
            "average' read as a cost 1): plan again at 0.33 to bracket what the GPUs leave AI "
            "off-peak, and `airan ran-share plan.yaml` shows it by hour")
    return notes
