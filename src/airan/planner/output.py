"""The planner's files: the plan as a scenario, a JSON record and every run it evaluated.

``OUT/plan.yaml``: the cheapest build-out as a scenario file ready for ``airan run`` (when no
plan meets the targets: ``OUT/closest.yaml``, the build-out that came closest);
``OUT/plan.json``: targets, verdict, the chosen build-out per site (GPUs, cost, power) and per
service metrics, search settings and counts; ``OUT/evaluations.csv``: one row per build-out run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from airan.planner.evaluate import Evaluation
from airan.planner.search import PlanResult, ran_on
from airan.planner.space import GENERATED
from airan.report.rundir import write_text_atomic

__all__ = ["fixed_rows", "leans_on_fixed", "plan_record", "slot_rows", "write_plan"]


def slot_rows(result: PlanResult, ev: Evaluation) -> list[dict[str, Any]]:
    """Per slot: site, kind, GPUs, cost, peak and average power, utilization."""
    space = result.space
    rows = []
    for i, (slot, (t, n)) in enumerate(zip(space.slots, ev.config, strict=True)):
        m = int(space.mult[i])
        rows.append({
            "site": slot.name,
            "kind": slot.kind,
            "at": slot.at,
            "sites": m,
            "new": slot.new,
            "gpu": space.types[t] if n else None,
            "count_per_site": n,
            "gpus": m * n,
            "cost_usd": space.slot_cost(i, (t, n)),
            # rented (--rent): its GPUs by the hour over the horizon (cost_usd), at this price
            "rented": bool(space.rented[i]),
            "rent_usd_per_h": space.rent_usd_per_h[slot.name].get(space.types[t])
            if n and space.rented[i] else None,
            "peak_power_w": m * n * float(space.tdp[t]) if n else 0.0,
            "average_power_w": space.slot_average_power_w(
                i, (t, n), (ev.slot_busy_share or ev.slot_utilization)[i]),
            "gpu_utilization": ev.slot_utilization[i] if n else None,
            # AI and the cells' L1 together (from the power drawn): what is left is headroom
            "busy_share": ev.slot_busy_share[i] if n and ev.slot_busy_share else None,
            # the load its devices offer its GPUs at full batches, the worst over the seeds
            # and its sites (what --max-load holds to; None: it served nothing)
            "offered_load": ev.slot_offered[i] if n and ev.slot_offered else None,
        })
    return rows


def fixed_rows(result: PlanResult, ev: Evaluation) -> list[dict[str, Any]]:
    """Per compute site the plan keeps as it is and does not cost (a cloud): its GPUs, the
    requests it served in ``ev``'s runs (over the seeds) and its GPUs' utilization."""
    by_name = {c.name: c for c in result.space.scenario.compute_sites}
    rows = []
    for name in result.space.fixed_site_names():
        site = by_name[name]
        got = ev.fixed_sites.get(name, {})
        rows.append({
            "site": name,
            "kind": site.kind,
            "at": site.at,
            "gpus": ", ".join(f"{g.count} x {g.type}" for g in site.gpus) or "-",
            "costed": False,
            "served": int(got.get("served") or 0),
            "gpu_utilization": got.get("gpu_utilization"),
            # its GPUs' mean power in the runs (W; the mean over seeds): not in the plan's
            # total, which is what it buys, but drawn all the same
            "average_power_w": got.get("power_w"),
        })
    generated = result.space.generated_fixed_names()
    if generated:  # one row for them all, as the plan's own generated slot is one
        spec = result.space.scenario.generated_compute_sites
        assert spec is not None
        got_all = [ev.fixed_sites.get(n, {}) for n in generated]
        busy = [float(g["gpu_utilization"]) for g in got_all
                if g.get("gpu_utilization") is not None]
        rows.append({
            "site": f"{GENERATED} ({len(generated)} cell sites)",
            "kind": "cell",
            "at": None,
            "gpus": f"{len(generated)} sites x " + (
                f"{spec.gpus[0].count} x {spec.gpus[0].type}" if len(spec.gpus) == 1 else
                "(" + " + ".join(f"{g.count} x {g.type}" for g in spec.gpus) + ")"),
            "costed": False,
            "served": sum(int(g.get("served") or 0) for g in got_all),
            "gpu_utilization": sum(busy) / len(busy) if busy else None,
            "average_power_w": (sum(float(g["power_w"]) for g in got_all)
                                if got_all and all(g.get("power_w") is not None
                                                   for g in got_all) else None),
            "members": generated,
        })
    return rows


def fixed_share(result: PlanResult, ev: Evaluation) -> float:
    """The share of ``ev``'s requests answered at sites the plan does not cost (0: none): every
    place but the devices and the slots the plan sizes, generated sites left out of the slots
    among them; by the first seed's trace, the warm-up left out (a review of the diff: the
    sites' own counters counted the warm-up, 106%, and missed the generated sites)."""
    space = result.space
    sc = space.scenario
    listed = {c.name for c in sc.compute_sites}
    slots = {s.name for s in space.slots}
    # the generated sites are one slot (costed) or none (kept as they are, not costed)
    free = {n for n in sc.compute_site_names()
            if (n not in slots if n in listed else GENERATED not in slots)}
    total = sum(int(m.get("count") or 0) for m in ev.services.values())
    elsewhere = sum(int(m.get("count") or 0) * sum(
        float(x) for place, x in (m.get("placement_share") or {}).items() if place in free)
        for m in ev.services.values())
    return elsewhere / total if total else 0.0


def leans_on_fixed(result: PlanResult, ev: Evaluation) -> str | None:
    """What of ``ev``'s requests the sites it does not cost served, as a sentence; None when
    they served none: a plan whose targets rest on a cloud's 8 H100s must say so."""
    rows = [r for r in fixed_rows(result, ev) if r["served"]]
    if not rows:
        return None
    total = sum(int(m.get("count") or 0) for m in ev.services.values())

    def placed(m: dict[str, Any], row: dict[str, Any]) -> float:
        """The share of a service's requests answered at the row's site (or sites)."""
        at = m.get("placement_share") or {}
        return sum(float(at.get(s, 0.0)) for s in row.get("members") or [row["site"]])

    def services(row: dict[str, Any]) -> str:
        """The services that sent a share of their requests there (first seed's trace)."""
        shares = [(n, placed(m, row)) for n, m in ev.services.items()]
        said = [f"{n} {sh:.0%}" for n, sh in shares if sh >= 0.005]
        return f"; of each service's requests: {', '.join(said)}" if said else ""

    def share(row: dict[str, Any]) -> str:
        """Of all the requests, those answered there (the trace's placements: the warm-up's
        left out, which the site's own count of requests served holds)."""
        n = sum(int(m.get("count") or 0) * placed(m, row) for m in ev.services.values())
        return "under 1%" if n < 0.005 * total else f"{n / total:.0%}"

    parts = [f"{r['site']} ({r['gpus']}) served {r['served']:,} requests"
             + (f" ({share(r)} of all{services(r)})" if total else "")
             + (f", its GPUs {r['gpu_utilization']:.0%} busy"
                if r["gpu_utilization"] is not None else "") for r in rows]
    runs = f"{result.evaluator.duration_s:g} s run" + ("s" if len(result.evaluator.seeds) > 1
                                                       else "")
    few = total and sum(r["served"] for r in rows) < 0.01 * total  # all of them together
    return (("the plan" if result.feasible else "this build-out")
            + (" sends a few requests to sites the plan does not cost: " if few
               else " leans on sites the plan does not cost: ") + "; ".join(parts)
            + f" (in its {runs})"
            + ("; it may miss without them" if result.feasible else ""))


def plan_record(result: PlanResult, command: str | None = None) -> dict[str, Any]:
    """Everything about the plan as JSON-ready data."""
    ev = result.best or result.closest
    targets = result.evaluator.targets
    space = result.space
    rec: dict[str, Any] = {
        "scenario": space.scenario.name,
        "feasible": result.feasible,
        # minimal under the assumption that fewer GPUs never help; exhaustive: without it
        # (every cheaper build-out was run)
        "proven_minimal": result.proven,
        "exhaustive": result.exhaustive,
        "verdict": result.verdict,
        # no plan, and every build-out run missed by about as much: no GPU to buy for it
        "gpus_barely_matter": result.gpus_barely_matter,
        "notes": list(result.notes),
        # the plan run again, longer and on another seed (None: not run)
        "confirmation": None if result.confirmation is None or result.confirmed_on is None
        else {
            "duration_s": result.confirmed_on[0], "seed": result.confirmed_on[1],
            "warmup_s": result.confirmed_warmup_s, "seeds": list(result.confirmed_seeds),
            "feasible": result.confirmation.feasible,
            "misses": list(result.confirmation.misses),
            "untested": [t.text for t in result.confirmation.untested],
            "cautions": list(result.confirmation.cautions)},
        "targets": [t.text for t in targets],
        "candidates": list(space.types),
        "sites": [s.name for s in space.slots],
        "max_gpus": space.max_gpus,
        "budget_usd": result.budget_usd,
        "price_usd": dict(zip(space.types, map(float, space.price), strict=True)),
        "tdp_w": dict(zip(space.types, map(float, space.tdp), strict=True)),
        "site_cost_usd": space.site_cost_usd,
        # the sites rented rather than bought (--rent), USD per GPU-hour by type, and the
        # horizon their hours are costed over (every cost above is over it)
        "rent_usd_per_h": space.rent_usd_per_h,
        "years": space.years,
        # the headroom asked (--max-load; None: up to what the GPUs carry)
        "max_load": result.evaluator.max_load,
        # the loss every build-out had to survive (--survive: "gpu", "site"; None: none)
        "survive": result.evaluator.survive,
        "policy": result.evaluator.policy,
        "duration_s": result.evaluator.duration_s,
        "seeds": result.evaluator.seeds,
        "search": result.method,
        "evaluations": len(result.evaluations),
        "engine_runs": result.evaluator.runs,
        "cache_hits": result.evaluator.cache_hits,
        "wall_s": round(result.wall_s, 3),
        "command": command,
    }
    if ev is not None:
        rec["plan" if result.feasible else "closest"] = {
            "build_out": ev.description,
            "cost_usd": ev.cost_usd,
            "peak_power_w": ev.peak_power_w,
            "average_power_w": ev.average_power_w,
            "gpus": ev.gpus,
            "sites": slot_rows(result, ev),
            # the sites it does not cost, and what they served in its runs
            "fixed_sites": fixed_rows(result, ev),
            # the share of its requests answered there, and the terminal's sentence on it (a
            # product manager's review: a dashboard on plan.json showed a free plan that rests
            # on the cloud's GPUs with no word of it)
            "fixed_share": fixed_share(result, ev),
            "leans_on_fixed": leans_on_fixed(result, ev),
            "services": ev.services,
            "misses": list(ev.misses),
            # the targets its runs did not test: no request of their service, kept targets only
            "untested": [t.text for t in ev.untested],
            # with --survive: the losses it was run with, and whether it met the targets
            # through each (None: not asked, or it missed without a loss)
            "survive_losses": [label for label, _ in result.evaluator.losses(ev)]
            if result.evaluator.survive is not None else [],
            "survived": ev.survived,
        }
    return rec


class _Dumper(yaml.SafeDumper):
    """Short lists of numbers or strings on one line (``position_m: [0.0, 0.0]``)."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = len(data) <= 8 and all(isinstance(x, int | float | str) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def _rerun_hint(result: PlanResult, sc: Any) -> str:
    """How to run the file so that it gives the planned figures: the file keeps the scenario's
    own duration and seed, the plan may have run others."""
    ev = result.evaluator
    args = []
    if ev.duration_s != sc.duration_s:
        args.append(f"--duration {ev.duration_s:g}")
    if ev.seeds[0] != sc.seed:
        args.append(f"--seed {ev.seeds[0]}")
    more = f" (and with --seed {', '.join(map(str, ev.seeds[1:]))})" if len(ev.seeds) > 1 else ""
    return f"run it as planned: airan run <this file>{''.join(' ' + a for a in args)}{more}"


def _compact_document(sc: Any) -> dict[str, Any]:
    """The scenario as plan.yaml holds it: the fields that differ from their defaults, name
    first; but a fleet's mobility and the cell site list whole, as a run folder's scenario.yaml
    has them (their ``model`` tag is its own default, and a file they name is made absolute:
    the plan is read from its folder, not the one the scenario was loaded from)."""
    from airan.report.rundir import scenario_document

    data = sc.model_dump(mode="json", exclude_defaults=True)
    full = scenario_document(sc)
    if full.get("cell_sites_file") is not None:
        data["cell_sites_file"] = full["cell_sites_file"]
    for fleet, whole, f in zip(data.get("fleets") or [], full["fleets"], sc.fleets,
                               strict=True):
        if whole.get("mobility") is not None:
            fleet["mobility"] = whole["mobility"]
        # a fleet's field written at its default says something (penetration: none says the
        # devices are outdoors; an MEC planner's review: plan.yaml dropped it, and its runs
        # warned of what the scenario had settled)
        if "penetration" in f.model_fields_set and "penetration" not in fleet:
            fleet["penetration"] = f.penetration
    return {"name": data.pop("name"), **data}


def _overridden_gpus(result: PlanResult, ev: Any, sc: Any
                     ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The plan's GPU types to which ``--price`` or ``--power`` gave other figures than the
    scenario's: their entries with those figures (the idle draw scaled with the board power, as
    the plan's power is), so that a run of plan.yaml reports the power the plan did (an MEC
    planner's review: a card at --power 150 ran at its 300 W in plan.yaml, twice the plan's);
    and the types left as they are, because a fleet's devices or a site the plan does not cost
    run them too, whose power and energy the entry would change."""
    space = result.space
    catalog = sc.gpu_catalog()
    used = {space.types[t] for t, n in ev.config if n > 0}
    slots = {s.name for s in space.slots}
    elsewhere = {f.accelerator for f in sc.fleets} | {
        gg.type for c in sc.compute_sites if c.name not in slots for gg in c.gpus}
    if sc.generated_compute_sites is not None and GENERATED not in slots:
        elsewhere |= {gg.type for gg in sc.generated_compute_sites.gpus}
    out: dict[str, dict[str, Any]] = {}
    kept: list[str] = []
    for i, t in enumerate(space.types):
        g = catalog[t]
        if t not in used or (space.price[i] == g.price_usd and space.tdp[i] == g.tdp_w):
            continue
        if t in elsewhere:
            kept.append(t)
            continue
        entry = g.model_copy(update={
            "price_usd": float(space.price[i]), "tdp_w": float(space.tdp[i]),
            "idle_w": round(float(space.idle[i]), 1)}).model_dump(
                mode="json", exclude={"id"}, exclude_defaults=True)
        entry["source"] = {**g.source, **{k: "airan plan --price" for k in ("price_usd",)
                                          if space.price[i] != g.price_usd},
                           **({"tdp_w": "airan plan --power",
                               "idle_w": "airan plan --power (the idle share kept)"}
                              if space.tdp[i] != g.tdp_w else {})}
        out[t] = entry
    return out, kept


def write_plan(result: PlanResult, out: str | Path, command: str | None = None) -> dict[str, Path]:
    """Write plan.yaml (or closest.yaml), plan.json and evaluations.csv into ``out``.

    An earlier plan's other file goes: a folder never holds a plan.yaml beside a plan.json
    that says no plan met the targets (or a stale closest.yaml beside a plan that did)."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("plan.yaml", "closest.yaml"):
        (folder / stale).unlink(missing_ok=True)
    paths: dict[str, Path] = {}
    ev = result.best or result.closest
    if ev is not None:
        sc = result.scenario(ev)
        data = _compact_document(sc)
        # the scenario's own description may tell of the GPUs the plan replaced
        data["description"] = (f"{result.space.scenario.name} with the GPUs that airan plan "
                               f"chose: {ev.description}")
        own, kept = _overridden_gpus(result, ev, sc)
        if own:
            data["gpus"] = {**(data.get("gpus") or {}), **own}
        verdict = (f"meets every target {ran_on(result.evaluator)}" if result.feasible
                   else "misses: " + "; ".join(ev.misses)) + (
            f" (untested: {', '.join(t.text for t in ev.untested)})" if ev.untested else "")
        header = [
            f"# airan plan for {result.space.scenario.name}: {ev.description}",
            f"# cost {ev.cost_usd:,.0f} USD"
            + (f" (rented GPUs' hours over {result.space.years:g} years with it)"
               if result.space.rent_usd_per_h else "")
            + f", peak GPU power {ev.peak_power_w:,.0f} W; {verdict}",
            f"# targets: {', '.join(t.text for t in result.evaluator.targets)}",
            f"# planned on {result.evaluator.duration_s:g} simulated s, seeds "
            f"{', '.join(map(str, result.evaluator.seeds))}; {_rerun_hint(result, sc)}",
        ]
        lean = leans_on_fixed(result, ev)
        if lean:
            header.append(f"# {lean}")
        if own:
            header.append(f"# gpus: {', '.join(own)} at the --price/--power figures the plan "
                          "costed (the idle draw scaled with the board power)")
        if kept:
            header.append(f"# {', '.join(kept)} at the scenario's figures, not --price/--power: "
                          "a fleet's devices or a site the plan does not cost run them too, so a "
                          "run of this file reports their power as the scenario has it")
        if command:
            header.append(f"# command: {command}")
        name = "plan.yaml" if result.feasible else "closest.yaml"
        paths["scenario"] = folder / name
        write_text_atomic(paths["scenario"], "\n".join(header) + "\n"
                          + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                                      width=100))
    paths["json"] = folder / "plan.json"
    write_text_atomic(paths["json"], json.dumps(plan_record(result, command), indent=2,
                                                allow_nan=False, default=str) + "\n")
    rows = [e.row(result.evaluator.targets) for e in result.evaluations]
    paths["csv"] = folder / "evaluations.csv"
    fields = list(rows[0]) if rows else ["index"]
    with open(paths["csv"], "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return paths
