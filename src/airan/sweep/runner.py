"""Run a sweep: every run as a Ray task (or in this process), resumable, one results table.

Layout of a sweep folder::

    sweep.json        the sweep as expanded: every run's key and axis values (written first)
    runs/<key>/       one run folder per run (see airan.report.rundir), plus run.json (its axis
                      values) and, for a failed run, error.json (the error and its traceback)
    results.parquet   one row per run: the axis values and the summary's headline numbers

A run's key is a hash of its resolved scenario, load, trace limit and airan's code
(:func:`spec.run_key`).
A run is complete when ``runs/<key>/summary.json`` exists (written last, atomically), so a sweep
that is interrupted, even killed, and started again runs only what is not complete; a run whose
scenario or airan changed has another key and is never mixed up with the old one. Failed runs are
recorded and retried when the sweep is started again.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from airan.errors import InputError
from airan.sweep.spec import LOAD_AXIS, RunSpec, Sweep, load_sweep, parse_path

KIND = "airan-sweep"
MANIFEST = "sweep.json"
RESULTS = "results.parquet"
RUNS = "runs"
RUN_INFO = "run.json"
ERROR = "error.json"
QUANTILES = ("p50", "p95", "p99")
FIXED_COLUMNS = ("run", "status", "error", "scenario", "policy", "seed", LOAD_AXIS, "duration_s")


@dataclass
class Tally:
    """How far a sweep has got: runs done (ok + failed + skipped) of ``total``."""

    total: int
    ok: int = 0
    failed: int = 0
    skipped: int = 0  # complete before this start
    last: str = ""  # the run that finished last

    @property
    def done(self) -> int:
        return self.ok + self.failed + self.skipped


@dataclass(frozen=True)
class SweepOutcome:
    """A finished sweep: its folder, the results table and what this start did."""

    folder: Path
    results_path: Path
    table: pa.Table
    tally: Tally
    wall_s: float
    ignored_folders: list[str]  # run folders of no run of this sweep (an older, changed sweep)


def run_sweep(
    sweep: Sweep | str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[Tally], None] | None = None,
) -> SweepOutcome:
    """Run every run of ``sweep`` not already complete in ``out``; write the results table.

    ``workers=1`` (and no ``address``) runs in this process; otherwise each run is a Ray task,
    on the cluster at ``address`` or on a local Ray with ``workers`` CPUs (default: all cores).
    ``out`` defaults to ``runs/<sweep name>``. ``progress`` is called after every run.
    """
    from airan.report.rundir import write_json_atomic
    from airan.sweep.cluster import check_workers, execute, import_ray, uses_ray

    check_workers(workers)
    if uses_ray(workers, address):
        import_ray()  # before the folder: a sweep that cannot run leaves nothing behind
    sw = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    folder = Path(out) if out is not None else Path("runs") / _safe(sw.name)
    runs_dir = folder / RUNS
    created = not folder.exists()
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the sweep folder: {exc.strerror or exc}",
                         field="--out", value=str(folder)) from None
    write_json_atomic(folder / MANIFEST, manifest(sw))
    keys = {r.key for r in sw.runs}
    ignored = sorted(p.name for p in runs_dir.iterdir() if p.is_dir() and p.name not in keys)

    tally = Tally(total=len(sw.runs))
    todo: list[RunSpec] = []
    for r in sw.runs:
        if is_complete(runs_dir / r.key, r.key):
            tally.skipped += 1
        else:
            todo.append(r)
    if progress is not None:
        progress(tally)

    own_policy = any(":" in r.policy for r in todo)  # (looked for beside the sweep file too)
    policy_dir = str(sw.folder) if own_policy and sw.folder is not None else None

    def job(i: int) -> dict[str, Any]:
        r = todo[i]
        return {"scenario": r.scenario, "trace_limit": r.trace_limit, "load": r.load,
                "policy_dir": policy_dir}

    def done(i: int, result: Any, error: str | None) -> None:
        r = todo[i]
        if error is None:
            try:
                _write_ok(runs_dir / r.key, r, result)
            except Exception as exc:  # noqa: BLE001 - a run that cannot be written has failed
                from airan.sweep.cluster import error_text

                error = error_text(exc)
        if error is None:
            tally.ok += 1
        else:
            _write_failed(runs_dir / r.key, r, error)
            tally.failed += 1
        tally.last = f"{r.label()}" + ("" if error is None else " (failed)")
        if progress is not None:
            progress(tally)

    t0 = time.perf_counter()
    try:
        execute(execute_run, len(todo), job, done, workers=workers, address=address)
    except InputError:  # Ray could not start or be reached: no run was made
        if created and tally.ok + tally.failed == 0:
            shutil.rmtree(folder, ignore_errors=True)  # leave nothing behind
        raise
    wall = time.perf_counter() - t0
    table = results_table(sw, folder)
    path = folder / RESULTS
    _write_parquet_atomic(table, path)
    return SweepOutcome(folder=folder, results_path=path, table=table, tally=tally, wall_s=wall,
                        ignored_folders=ignored)


def execute_run(job: dict[str, Any]) -> Any:
    """One run (the Ray task): validate the resolved scenario, run it, return the Result."""
    from airan.api import note_fleet_scale
    from airan.engine import Engine
    from airan.policy.files import also_search
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict(job["scenario"], label="<sweep run>")
    # a `module:callable` policy imported (and calling what it imports) as the sweep's listing
    # found it: on the Python path, beside the sweep file, or in the current folder
    with also_search(job.get("policy_dir")):
        engine = Engine(sc, trace_limit=int(job["trace_limit"]), trace_sample=0.0)
        result = engine.run()
    note_fleet_scale(result.summary, float(job.get("load", 1.0)))  # as `airan run --fleet-scale`
    return result


def manifest(sw: Sweep) -> dict[str, Any]:
    """What sweep.json holds: the sweep as written and every run's key and axis values."""
    return {
        "kind": KIND,
        "name": sw.name,
        "file": sw.label,
        "spec": sw.spec.model_dump(mode="json", by_alias=True),
        "runs": [{"index": r.index, "key": r.key, "axes": r.axes, "policy": r.policy,
                  "seed": r.seed, "load": r.load, "duration_s": r.duration_s} for r in sw.runs],
    }


def is_complete(folder: Path, key: str) -> bool:
    """Whether ``folder`` holds the complete run ``key`` (its summary.json written last, and
    readable: a corrupt one is run again, not kept as a failure no start retries)."""
    try:
        info = json.loads((folder / RUN_INFO).read_text(encoding="utf-8"))
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("key") == key and isinstance(summary, dict)


def _run_info(r: RunSpec, status: str) -> dict[str, Any]:
    return {"key": r.key, "index": r.index, "status": status, "axes": r.axes,
            "policy": r.policy, "seed": r.seed, "load": r.load, "duration_s": r.duration_s}


def _write_ok(folder: Path, r: RunSpec, result: Any) -> None:
    from airan.report.rundir import write_json_atomic, write_run

    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR).unlink(missing_ok=True)
    write_json_atomic(folder / RUN_INFO, _run_info(r, "ok"))
    write_run(result, folder)  # summary.json last: from here on the run is complete


def _write_failed(folder: Path, r: RunSpec, error: str) -> None:
    from airan.report.rundir import write_json_atomic

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").unlink(missing_ok=True)
    write_json_atomic(folder / RUN_INFO, _run_info(r, "failed"))
    write_json_atomic(folder / ERROR, {"key": r.key, "error": error.split("\n")[0],
                                       "traceback": error})


# ---- the results table -------------------------------------------------------------------------
# a fleet's device energy in the results (the summary's fleets.<fleet> fields)
FLEET_ENERGY = ("mean_power_w", "battery_life_h", "energy_per_request_j", "drx_share")


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's headline numbers as flat columns (``hit_ratio`` and ``hit_ratio_with_overdue``
    of all services, ``<service>.hit_ratio`` and so on)."""
    req = summary.get("requests") or {}
    met = int(req.get("met", 0))
    ended = sum(int(req.get(k, 0)) for k in ("met", "late", "dropped"))
    overdue = req.get("overdue")  # (None: a summary written before airan counted them)
    row: dict[str, Any] = {
        "devices": summary.get("devices"),
        "requests": req.get("created"),
        "met": req.get("met"),
        "late": req.get("late"),
        "dropped": req.get("dropped"),
        "overdue": overdue,
        "hit_ratio": met / ended if ended else None,
        # the figure to compare runs on: the requests still in flight past their deadline at
        # the end counted as misses, as each service's (and the engine's per fleet): met over
        # met, late, dropped and overdue. The plain ratio rewards a run that strands requests.
        "hit_ratio_with_overdue": met / (ended + int(overdue))
        if overdue is not None and ended + int(overdue) else None,
        "wall_s": summary.get("wall_s"),
        "requests_per_wall_s": summary.get("requests_per_wall_s"),
    }
    ar = summary.get("ai_ran") or {}
    if ar.get("l1_slots"):  # the cells' L1 on the GPUs: the share of its slots that missed
        row["l1_slot_misses"] = ar.get("l1_slot_misses")
        row["l1_slot_miss_share"] = ar["l1_slot_misses"] / ar["l1_slots"]
        row["l1_slots_down"] = ar.get("l1_slots_down")  # (of them, a fault's outage's)
        # the GPU-hours of the sites that run it: the L1's, what it left AI, what AI used (a
        # day's sum over a start_hour axis is what an operator sells)
        for key in ("l1_gpu_hours", "ai_capacity_gpu_hours", "ai_gpu_hours"):
            row[key] = ar.get(key)
    mob = summary.get("mobility") or {}
    if mob.get("mobile_devices"):  # devices that move: their handovers and silences (an AMR
        # maker's review: a handover sweep opened every run's summary.json for them)
        minutes = float(summary.get("duration_s") or 0.0) / 60.0
        # (the summary's own: over each device's minutes in the run, a trace's within its
        # samples; the run's minutes for a summary written before it said)
        row["handovers_per_device_per_min"] = mob.get(
            "handovers_per_device_per_min",
            int(mob.get("handovers") or 0) / int(mob["mobile_devices"]) / minutes
            if minutes > 0 else None)
        for key in ("handovers", "handovers_per_km", "ping_pong_handovers",
                    "radio_link_failures", "out_of_sync_silences", "out_of_sync_silent_s"):
            row[key] = mob.get(key)
    held = [svc["interrupted"] for svc in (summary.get("services") or {}).values()
            if "interrupted" in svc]
    if held:  # links interrupted (moves, faults): the requests that met one, and the late
        counts = [n for h in held for n in h.values()]  # ones among them
        row["interrupted_requests"] = sum(int(n.get(k) or 0) for n in counts
                                          for k in ("met", "late", "dropped"))
        row["interrupted_late"] = sum(int(n.get("late") or 0) for n in counts)
    # where the load went: the busiest compute site and transport link direction (a sweep over
    # the load or the build-out shows the bottleneck move from one to the other)
    for kind, entries, field in (("site", summary.get("sites"), "gpu_utilization"),
                                 ("link", summary.get("links"), "utilization")):
        loads = {n: float(v.get(field) or 0.0) for n, v in (entries or {}).items()}
        top = max(loads, key=loads.__getitem__) if loads else None  # (first of equals)
        if top is not None and loads[top] <= 0.0:  # none carried any: no busiest (a
            top = None  # researcher's review: `local` on city named an idle cloud)
        row[f"busiest_{kind}"] = top
        row[f"busiest_{kind}_utilization"] = loads[top] if top is not None else None
    # and the busiest cell of each direction, with the cells' mean PRB use (an XR maker's
    # review: a sweep over frame sizes could not show the downlink binding without opening
    # every run's summary); None under the ideal and fixed radios
    cells = summary.get("cells") or {}
    for k in ("ul", "dl"):
        row[f"busiest_cell_{k}"] = cells.get(f"busiest_cell_{k}")
        row[f"busiest_cell_{k}_utilization"] = cells.get(f"max_prb_utilization_{k}")
        row[f"mean_prb_utilization_{k}"] = cells.get(f"mean_prb_utilization_{k}")
    # the compute sites' GPU energy (summary's site_energy): mean W, J per request served
    energy = summary.get("site_energy") or {}
    row["sites_power_w"] = energy.get("power_w")
    row["sites_energy_per_served_j"] = energy.get("energy_per_served_j")
    for name, svc in (summary.get("services") or {}).items():
        _outcome_columns(row, name, svc)
        row[f"{name}.target_hit_ratio"] = svc.get("target_hit_ratio")
        # the share of its devices satisfied (TR 38.838) and the longest run of misses any
        # device had in a row (TS 22.104): a sweep over a fleet's count reads a cell's
        # capacity as TR 38.838 counts it, the count where the share falls below 0.9
        sat = svc.get("devices_satisfied") or {}
        row[f"{name}.devices_satisfied"] = sat.get("share")
        row[f"{name}.misses_in_a_row"] = (sat.get("misses_in_a_row") or {}).get("longest")
        row[f"{name}.mean_ms"] = (svc.get("latency_ms") or {}).get("mean")
        for q in QUANTILES:  # (in the order of the columns before)
            row[f"{name}.{q}_ms"] = row.pop(f"{name}.{q}_ms")
        row[f"{name}.p99_ms_with_unanswered"] = row.pop(f"{name}.p99_ms_with_unanswered")
        for key, cols in SIZE_COLUMNS.items():
            sizes = svc.get(key) or {}
            if sizes:  # uploads (answers) of varying size: the mean of those met and late (a
                # sweep over ul_kb_spread shows whether the large ones miss without opening
                # each summary)
                for k in cols:
                    row[f"{name}.{key}_{k}"] = sizes.get(k)
                # the late share of its largest quarter (summary's late_share_by_quartile)
                row[f"{name}.{key}_late_share_top_quartile"] = (
                    sizes.get("late_share_by_quartile") or [None] * 4)[3]
    # a service several fleets send: each fleet's share too (``<service>[<fleet>].hit_ratio``;
    # the fleets compare tells apart, named as it names them)
    from airan.report.compare import fleet_key, shared_services

    for name, who in shared_services([{"summary": summary}]).items():
        for f in who:
            key = fleet_key(name, f)
            if key in (summary.get("services") or {}):  # (a service of that very name: its
                continue  # own columns stay)
            _outcome_columns(row, key, summary["fleets"][f]["services"][name])
    # each fleet's device energy (``fleets[<fleet>].mean_power_w`` and so on; None where the
    # run has none: no battery given, no DRX): what a DRX setting or an on-board accelerator
    # buys in battery life, beside the hit ratios it costs
    for fleet, f in (summary.get("fleets") or {}).items():
        for col in FLEET_ENERGY:
            row[f"fleets[{fleet}].{col}"] = f.get(col) if isinstance(f, Mapping) else None
    return row


#: a sweep's columns ``<service>.ul_kb_*`` (``dl_kb_*``) where a service's uploads (answers)
#: vary in size: of its summary's ``ul_kb`` (``dl_kb``)
SIZE_COLUMNS = {"ul_kb": ("mean", "met_mean", "late_mean", "dropped_mean",
                          "late_share_above_mean", "late_share_other"),
                "dl_kb": ("mean", "met_mean", "late_mean", "late_share_above_mean",
                          "late_share_other")}


def _fixed_sizes(row: dict[str, Any], scenario: Mapping[str, Any],
                 spread: set[tuple[Any, str]], summary: Mapping[str, Any]) -> None:
    """A run whose service sends every upload at ``ul_kb`` (answer at ``dl_kb``), in a sweep
    where another run spreads that service's sizes (``spread``: its name and ``ul_kb`` or
    ``dl_kb``): its ``<service>.ul_kb_*`` columns from the fixed size (a sweep over
    ``ul_kb_spread`` left its baseline row null: a user's walk), none above the mean, so every
    late one among the others."""
    from airan.scenario.schema import Service

    for v, key in ((v, key) for v in scenario.get("services") or [] for key in SIZE_COLUMNS):
        name = v.get("name")
        if (name, key) not in spread or v.get(f"{key}_spread") is not None:
            continue
        kb = float(v.get(key, Service.model_fields[key].default))
        s = (summary.get("services") or {}).get(name) or {}
        met, late = int(s.get("met") or 0), int(s.get("late") or 0)
        row[f"{name}.{key}_mean"] = kb
        for col, n in (("met_mean", met), ("late_mean", late),
                       ("dropped_mean", int(s.get("dropped") or 0))):
            if col in SIZE_COLUMNS[key]:
                row[f"{name}.{key}_{col}"] = kb if n else None
        row[f"{name}.{key}_late_share_above_mean"] = None
        row[f"{name}.{key}_late_share_other"] = late / (met + late) if met + late else None
        row[f"{name}.{key}_late_share_top_quartile"] = None  # (one size: no quartiles)


def _outcome_columns(row: dict[str, Any], prefix: str, svc: Mapping[str, Any]) -> None:
    """A service's (or a fleet's share of it) counts, hit ratios and latency percentiles as
    ``<prefix>.requests`` and so on.

    Its outcomes (met, late, dropped, overdue) and ``.p99_ms_with_unanswered``, the p99 with
    every request that got no answer counted as infinitely late (``inf`` where it falls among
    them; :func:`~airan.metrics.histogram.percentile_with_unanswered_ms`): what the sweep's
    figure and ``airan compare`` draw, beside the answered requests' ``.p99_ms`` (a
    researcher's review: the table's p99 and the figure's disagreed, and the figure could not
    be rebuilt from the table)."""
    from airan.metrics.histogram import percentile_with_unanswered_ms

    lat = svc.get("latency_ms") or {}
    row[f"{prefix}.requests"] = svc.get("count")
    for outcome in ("met", "late", "dropped", "overdue"):
        row[f"{prefix}.{outcome}"] = svc.get(outcome)
    row[f"{prefix}.hit_ratio"] = svc.get("hit_ratio")
    row[f"{prefix}.hit_ratio_with_overdue"] = svc.get("hit_ratio_with_overdue")
    for q in QUANTILES:
        row[f"{prefix}.{q}_ms"] = lat.get(q)
    # (None where no request was asked; the figure's own reading of the run's summary)
    row[f"{prefix}.p99_ms_with_unanswered"] = percentile_with_unanswered_ms(svc, 0.99) \
        if svc else None


def results_table(sw: Sweep, folder: str | Path) -> pa.Table:
    """One row per run of ``sw`` (in the sweep's order) from the run folders under ``folder``.

    Columns: run (key), status (ok, failed or missing), error, scenario, policy, seed, load,
    duration_s, one column per axis (named by its path; dicts and lists as JSON text), then the
    headline numbers (:func:`headline`) and ``folder`` (the run folder, relative). Their types
    are fixed (:data:`FIXED_TYPES`, :func:`axis_type`, :func:`column_type`), never the values'.
    """
    runs_dir = Path(folder) / RUNS
    rows: list[dict[str, Any]] = []
    # every run has every headline column (null where it failed or is missing), whichever runs
    # succeeded: the columns are the services of the sweep's scenarios, in their order
    services = list(dict.fromkeys(v.get("name") for r in sw.runs
                                  for v in r.scenario.get("services") or []))
    fleets = list(dict.fromkeys(f.get("name") for r in sw.runs
                                for f in r.scenario.get("fleets") or []))
    blank = dict.fromkeys(headline({"services": {name: {} for name in services},
                                    "fleets": {name: {} for name in fleets}}))
    spread = {(v.get("name"), key) for r in sw.runs for v in r.scenario.get("services") or []
              for key in SIZE_COLUMNS if v.get(f"{key}_spread") is not None}
    for r in sw.runs:
        row: dict[str, Any] = {"run": r.key, "status": "missing", "error": None,
                               "scenario": r.scenario.get("name"), "policy": r.policy,
                               "seed": r.seed, LOAD_AXIS: r.load, "duration_s": r.duration_s}
        for name, value in r.axes.items():
            if name not in row:
                row[name] = (json.dumps(value) if isinstance(value, dict | list)
                             else as_run(r, name, value))
        row.update(blank)
        sub = runs_dir / r.key
        if is_complete(sub, r.key):
            try:
                summary = json.loads((sub / "summary.json").read_text(encoding="utf-8"))
                row["status"] = "ok"
                row.update(headline(summary))
                _fixed_sizes(row, r.scenario, spread, summary)
            except (OSError, ValueError) as exc:
                row.update(status="failed", error=f"unreadable summary: {exc}")
        elif (sub / ERROR).is_file():
            try:
                row["error"] = json.loads((sub / ERROR).read_text(encoding="utf-8"))["error"]
            except (OSError, ValueError, KeyError, TypeError):
                row["error"] = "failed (error.json unreadable)"
            row["status"] = "failed"
        row["folder"] = f"{RUNS}/{r.key}"
        rows.append(row)
    columns: dict[str, list[Any]] = {}
    for row in rows:
        for k in row:
            columns.setdefault(k, [])
    columns["folder"] = columns.pop("folder")  # last, whichever run first had which columns
    for row in rows:
        for k, col in columns.items():
            col.append(row.get(k))
    # an axis's column typed from the sweep's values of it; an axis named as a fixed or a
    # headline column holds that column's values, and has its type
    axes = sw.runs[0].axes if sw.runs else {}
    types = {n: axis_type([as_run(r, n, r.axes[n]) for r in sw.runs]) for n in axes
             if n not in blank}
    types.update(FIXED_TYPES)
    fields = [pa.field(k, types.get(k) or column_type(k)) for k in columns]
    return pa.table([_column(v, f) for f, v in zip(fields, columns.values(), strict=True)],
                    schema=pa.schema(fields))


# ---- the results table's types: fixed, never inferred from the values (a researcher's review:
# ``error`` was typed null in a sweep with no failure and string in one with failures, a fleet's
# battery_life_h null where no fleet had a battery, so two sweeps' results.parquet neither
# concatenated nor read as one pyarrow dataset)
FIXED_TYPES: dict[str, pa.DataType] = {
    "run": pa.string(), "status": pa.string(), "error": pa.string(), "scenario": pa.string(),
    "policy": pa.string(), "seed": pa.int64(), LOAD_AXIS: pa.float64(),
    "duration_s": pa.float64(), "folder": pa.string()}
# headline columns that count (a service's or a fleet's share's by their last part)
COUNTS = frozenset({"devices", "requests", "met", "late", "dropped", "overdue",
                    "l1_slot_misses", "l1_slots_down", "handovers", "ping_pong_handovers",
                    "radio_link_failures", "out_of_sync_silences", "interrupted_requests",
                    "interrupted_late", "misses_in_a_row"})
TEXT = frozenset({"busiest_site", "busiest_link", "busiest_cell_ul", "busiest_cell_dl"})


def column_type(name: str) -> pa.DataType:
    """A headline column's type, by its name: counts int64, the busiest site's and link's
    names string, every other figure float64 (``<service>.requests`` counts, as ``requests``)."""
    if name in TEXT:
        return pa.string()
    field = name if name in COUNTS else name.rsplit(".", 1)[-1] if "." in name else name
    return pa.int64() if field in COUNTS else pa.float64()


def as_run(run: RunSpec, name: str, value: Any) -> Any:
    """An axis's number as the run's validated scenario holds it: a float field's ``0`` as
    ``0.0``, so that ``[0]`` in one sweep and ``[0.1]`` in another are one column type (a
    diff review: int64 against float64, and the two results did not read as one); any other
    value (and a number the scenario does not hold at that path) as written."""
    if isinstance(value, bool) or not isinstance(value, int | float) or name == LOAD_AXIS:
        return value
    node: Any = run.scenario
    try:
        for part in parse_path(name):
            if isinstance(node, list) and isinstance(part, str):
                key = part.strip("[]")
                node = next(x for x in node if isinstance(x, dict) and x.get("name") == key)
            else:
                node = node[part]
    except (KeyError, IndexError, StopIteration, TypeError, ValueError):
        return value
    return node if isinstance(node, int | float) and not isinstance(node, bool) else value


def axis_type(values: list[Any]) -> pa.DataType:
    """An axis column's type from the sweep's values of it (never from the results): bool where
    every value is one, int64 where every one is an integer, float64 where they are numbers,
    string otherwise (dicts and lists as JSON text, anything else as ``str`` writes it)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.int64() if all(isinstance(v, int) for v in present) else pa.float64()
    return pa.string()


def _column(values: list[Any], f: pa.Field) -> pa.Array:
    """``values`` as ``f``'s type: text as text (dicts and lists as JSON), a count as an integer
    (a whole float too; a fraction is an error, never truncated as pyarrow would)."""
    if pa.types.is_string(f.type):
        return pa.array([None if v is None else v if isinstance(v, str)
                         else json.dumps(v) if isinstance(v, dict | list) else str(v)
                         for v in values], pa.string())
    if pa.types.is_integer(f.type):
        bad = [v for v in values if v is not None and not (
            isinstance(v, int) or isinstance(v, float) and v.is_integer())]
        if bad:
            raise ValueError(f"results column {f.name!r} counts, got {bad[0]!r}")
        return pa.array([None if v is None else int(v) for v in values], f.type)
    return pa.array(values, f.type)


def _write_parquet_atomic(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    from airan.report.rundir import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_results(folder: str | Path) -> pa.Table:
    """The results table of a sweep folder; :class:`InputError` if there is none."""
    import pyarrow.parquet as pq

    path = Path(folder) / RESULTS
    if not path.is_file():
        raise InputError(f"not a finished sweep folder: no {RESULTS}", file=str(folder))
    return pq.read_table(path)


def _safe(name: str) -> str:
    """``name`` as one folder name: never empty, never ``.`` or ``..``."""
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")
    return "sweep" if not safe.strip(".") else safe

