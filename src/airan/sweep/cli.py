"""The ``airan sweep`` and ``airan run-sharded`` commands (registered by :mod:`airan.cli`).

Heavy imports (Ray, the engine) stay inside the commands, so ``airan --help`` stays fast.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from airan.console import policy_help
from airan.errors import InputError


def _option_error(option: str, reason: str, value: Any,
                  choices: list[str] | None = None) -> InputError:
    error = InputError(f"option '{option}': {reason}", value=value, choices=choices)
    error.field = option
    return error


def _check_common(workers: int | None, duration: float | None = None,
                  policy: str | None = None, address: str | None = None) -> None:
    from airan.policy import is_known_policy, unknown_policy

    if workers is not None and workers < 1:
        raise _option_error("--workers", "must be at least 1", workers)
    if workers == 1 and address is not None:
        raise _option_error("--workers", "1 runs everything in this process, without Ray: "
                            "leave out --address, or give more workers", workers)
    if duration is not None and not duration > 0:
        raise _option_error("--duration", "must be positive", duration)
    if policy is not None and not is_known_policy(policy):
        reason, choices = unknown_policy(policy)
        raise _option_error("--policy", reason, policy, choices)


def _ray_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # a broken or half-removed installation
        return False


DRY_RUN_SHOWN = 20  # runs a dry run lists on a terminal (--all: every one)
NOTES_SHOWN = 4  # a sharded run's approximations listed on the terminal; all in summary.json


def _refuse_other_kind(folder: Path, kind: str) -> None:
    """Exit 2 where ``folder`` holds another kind of airan output (a run, a plan, ...)."""
    from airan.console import _fail
    from airan.report.rundir import other_kind_error

    refused = other_kind_error(folder, kind)
    if refused is not None:
        _fail(f"option '--out': {refused}")


def _where(workers: int | None, address: str | None) -> str:
    import os

    if workers == 1 and address is None:
        return "this process (--workers 1)"
    where = (f"Ray at {address}" if address is not None
             else f"a local Ray with {workers or os.cpu_count()} workers")
    if not _ray_installed():  # what a dry run says must be what a run does
        where += (" (but Ray is not installed: pip install 'airan[sweep]', or --workers 1 to "
                  "run in this process)")
    return where


def sweep(
    file: Path = typer.Argument(..., help="The sweep file (YAML): a scenario and axes to vary."),
    address: str | None = typer.Option(
        None, "--address", help="A Ray cluster (ray://host:10001, or auto); default: a local "
        "Ray with the machine's cores."),
    out_dir: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: runs/<sweep name>)."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", help="Runs at once (default: every core); 1 runs them in "
        "this process, without Ray."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the sweep and list its runs; run nothing."),
    list_all: bool = typer.Option(
        False, "--all", help=f"With --dry-run: list every run (on a terminal the first "
        f"{DRY_RUN_SHOWN}; into a file or a pipe every run)."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 4 when a run failed (the others' results are still "
        "written): for pipelines."),
) -> None:
    """Run a sweep of scenario fields, policies, seeds and loads as Ray tasks (resumable).

    Writes results.parquet (one row per run) and one run folder per run; started again, it runs
    only the runs that are not complete."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from airan.cli import _fail, _user_errors, err, out
    from airan.console import load_kernel

    with _user_errors():
        _check_common(workers, address=address)
        if list_all and not dry_run:  # (it would be ignored: a run lists no runs)
            raise _option_error("--all", "lists a dry run's runs: give it with --dry-run",
                                None)
        from airan.sweep.runner import Tally, is_complete, run_sweep
        from airan.sweep.spec import load_sweep

        sw = load_sweep(file)
        from airan.sweep.runner import _safe

        _warn_rounded_loads(sw)

        folder = out_dir or Path("runs") / _safe(sw.name)
        _refuse_other_kind(folder, "sweep")
        complete = sum(is_complete(folder / "runs" / r.key, r.key) for r in sw.runs)
        axes = ", ".join(f"{k} x{len(_values(sw, k))}" for k in sw.spec.axes) or "no axes"
        runs = f"{len(sw.runs)} run{'s' if len(sw.runs) != 1 else ''}"
        out.print(Text.assemble((sw.name, "bold"), f": {runs} of "
                                f"{sw.spec.scenario} ({axes}); {complete} already complete; "
                                f"on {_where(workers, address)}"), soft_wrap=True)
        if dry_run:
            # every run into a file or a pipe (a researcher's `> dry.txt` was cut at 20) or
            # with --all; on a terminal the first ones, and how to see the rest
            shown = len(sw.runs) if list_all or not out.is_terminal else DRY_RUN_SHOWN
            for r in sw.runs[:shown]:
                mark = "done" if is_complete(folder / "runs" / r.key, r.key) else "todo"
                out.print(f"  {r.key}  {mark}  {r.label()}", markup=False, soft_wrap=True)
            if len(sw.runs) > shown:
                out.print(f"  ... {len(sw.runs) - shown} more (--all lists them)",
                          markup=False)
            return
        if address is None and complete < len(sw.runs):  # (compiled here once, not in each
            load_kernel()  # local worker; none for a sweep done or a cluster's workers)
        with Progress(
            TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
            MofNCompleteColumn(), TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err, transient=True, disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(sw.name, total=len(sw.runs), counts="")

            def progress(t: Tally) -> None:
                counts = f"ok {t.ok} failed {t.failed} skipped {t.skipped}"
                bar.update(task, completed=t.done, counts=counts)

            try:
                result = run_sweep(sw, out=folder, workers=workers, address=address,
                                   progress=progress)
            except OSError as exc:
                _fail(f"option '--out': cannot write to '{folder}': {exc.strerror or exc}")
    t = result.tally
    _print_sweep_table(result.table, list(sw.spec.axes))
    out.print(f"{t.total} runs: {t.ok} run now, {t.skipped} already complete, {t.failed} failed "
              f"({result.wall_s:.1f} wall s)", markup=False, soft_wrap=True)
    if t.failed:
        failed = [r for r in result.table.to_pylist() if r["status"] == "failed"]
        for r in failed[:5]:
            out.print(f"  failed: {folder / r['folder']}: {r['error']}", markup=False,
                      soft_wrap=True)
        out.print("failed runs are retried when the sweep is started again", markup=False)
    if result.ignored_folders:
        out.print(f"note: {len(result.ignored_folders)} run folders in {folder / 'runs'} belong "
                  "to no run of this sweep (an earlier version of it?); they are not in the "
                  "results", markup=False, soft_wrap=True)
    out.print(f"wrote {result.results_path} ({result.table.num_rows} rows)", markup=False,
              soft_wrap=True)
    if t.ok or t.skipped:  # the figures along the sweep's axis (a researcher's review: a
        from airan.report.sweep import build_sweep_report  # sweep had a table, no report)

        try:
            report = build_sweep_report(folder)
        except (InputError, OSError) as exc:
            err.print(f"warning: no report.html: {exc}", markup=False, soft_wrap=True)
        else:
            out.print(f"wrote {report}", markup=False, soft_wrap=True)
    if strict and t.failed:  # (a researcher's review: a pipeline read exit 0 as all done)
        raise typer.Exit(4)


def _values(sw: Any, axis: str) -> list[Any]:
    seen: list[Any] = []
    for r in sw.runs:
        if r.axes[axis] not in seen:
            seen.append(r.axes[axis])
    return seen


def _short_axis_names(axes: list[str]) -> list[str]:
    """Column headers for the axes: the paths as written where they are short, else each
    path's last part that names it alone (``compute_sites[edge].gpus[0].count``: ``count``),
    so that the results fit an 80-column terminal (the full paths took it all and hid the
    results)."""
    def tail(a: str, n: int) -> str:
        return ".".join(a.split(".")[-n:])

    if sum(len(a) + 3 for a in axes) <= 40:
        return list(axes)
    out = []
    for a in axes:
        short = next((tail(a, n) for n in range(1, a.count(".") + 1)
                      if sum(tail(b, n) == tail(a, n) for b in axes) == 1
                      and len(tail(a, n)) <= 24), a)
        out.append(short)
    return out


def _print_sweep_table(table: Any, axes: list[str], max_rows: int = 40) -> None:
    """Per combination of the axes other than the seed: runs and mean hit ratio per service."""
    from airan.cli import _table, out

    rows = table.to_pylist()
    group_axes = [a for a in axes if a != "seed"]
    services = [c[: -len(".hit_ratio")] for c in table.column_names
                if c.endswith(".hit_ratio") and not c.endswith("target_hit_ratio")]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(str(r.get(a)) for a in group_axes), []).append(r)
    # the fair figure between configurations: requests in flight past their deadline at the end
    # counted as misses (results written before airan counted them have the plain ratio only)
    fair = all(f"{s}.hit_ratio_with_overdue" in table.column_names for s in services)
    metric = "hit_ratio_with_overdue" if fair else "hit_ratio"
    several = any(sum(r["status"] == "ok" for r in rs) > 1 for rs in groups.values())
    t = _table(("Mean over seeds (± their standard deviation): " if several else
                "One run per row (no spread: a seed axis gives one): ")
               + "deadline hit ratio per service"
               + (", overdue requests counted as missed" if fair else ""))
    short = _short_axis_names(group_axes)
    for a in short:
        t.add_column(Text(a), no_wrap=True)
    t.add_column("runs ok", justify="right")
    for s in services:
        t.add_column(Text(s), justify="right", no_wrap=True)
    for key, rs in list(groups.items())[:max_rows]:
        ok = [r for r in rs if r["status"] == "ok"]
        cells = []
        for s in services:
            vals = [r[f"{s}.{metric}"] for r in ok if r.get(f"{s}.{metric}") is not None]
            mean = sum(vals) / len(vals) if vals else 0.0
            sd = (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 \
                if len(vals) > 1 else None
            cells.append("-" if not vals else f"{mean:.3f}" if sd is None else
                         f"{mean:.3f}±{sd:.3f}")
        t.add_row(*(Text(str(k)) for k in key), f"{len(ok)}/{len(rs)}", *cells)
    out.print(t)
    _print_size_table(table, groups, group_axes, services, max_rows)
    if len(groups) > max_rows:
        out.print(f"... {len(groups) - max_rows} more rows in results.parquet", markup=False)
    named = [f"{s} = {a}" for s, a in zip(short, group_axes, strict=True) if s != a]
    if named:  # (an MEC planner's review: "count" beside a GPU type read as a GPU count)
        out.print("columns: " + "; ".join(named), markup=False, soft_wrap=True)


def _print_size_table(table: Any, groups: dict[tuple[Any, ...], list[dict[str, Any]]],
                      group_axes: list[str], services: list[str], max_rows: int) -> None:
    """Where a service's uploads (answers) vary in size in some run (``ul_kb_spread``,
    ``dl_kb_spread``): per row, the share of its answered requests whose upload (answer) was
    above the mean that went late and of the others, means over the seeds (a user's walk found
    them in results.parquet alone)."""
    for key, what in (("ul_kb", "uploads"), ("dl_kb", "answers")):
        sized = [s for s in services if f"{s}.{key}_late_share_other" in table.column_names]
        if sized:
            _print_late_by_size(groups, group_axes, sized, max_rows, key, what)


_OF_THE = {"uploads": "the answered uploads", "answers": "the answers sent down"}


def _print_late_by_size(groups: dict[tuple[Any, ...], list[dict[str, Any]]],
                        group_axes: list[str], sized: list[str], max_rows: int,
                        size_key: str, what: str) -> None:
    """:func:`_print_size_table`'s table of the ``size_key`` sizes (``ul_kb`` or ``dl_kb``)."""
    from airan.cli import _table, out

    def mean(rs: list[dict[str, Any]], col: str) -> str:
        vals = [r[col] for r in rs if r.get(col) is not None]
        return f"{sum(vals) / len(vals):.1%}" if vals else "-"

    t = _table(f"{what.capitalize()} of varying size: late, of {_OF_THE[what]} above the "
               "mean / of the others / of the largest quarter of the sizes sent (mean over "
               "seeds; - where none)")
    for a in _short_axis_names(group_axes):
        t.add_column(Text(a), no_wrap=True)
    for s in sized:
        t.add_column(Text(s), justify="right", no_wrap=True)
    for key, rs in list(groups.items())[:max_rows]:
        ok = [r for r in rs if r["status"] == "ok"]
        t.add_row(*(Text(str(k)) for k in key), *(
            f"{mean(ok, f'{s}.{size_key}_late_share_above_mean')} / "
            f"{mean(ok, f'{s}.{size_key}_late_share_other')} / "
            f"{mean(ok, f'{s}.{size_key}_late_share_top_quartile')}" for s in sized))
    out.print(t)


def run_sharded(
    scenario: str = typer.Argument("korea", help="A built-in scenario name or a YAML path."),
    regions: str = typer.Option(
        "2x2", "--regions", "-r", help="NxM (a grid of regions over the cell sites) or a CSV "
        "file with columns site (or name) and region."),
    sites: int | None = typer.Option(
        None, "--sites", help="Grow (or shrink) the hex cell layout to its first N sites, "
        "ring by ring (korea: 345795 for all of Korea); devices and shared GPUs scale with it."),
    policy: str | None = typer.Option(None, "--policy", "-p", help=policy_help(
        "Placement policy (default: the scenario's)")),
    duration: float | None = typer.Option(None, "--duration", "-d", help="Simulated seconds."),
    seed: int | None = typer.Option(None, "--seed", "-s", help="Seed (shard k: seed + k x "
                                    "1,000,003)."),
    fleet_scale: float = typer.Option(1.0, "--fleet-scale", help="Multiply every fleet's "
                                      "device count by this factor."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", help="Shards at once (default: every core); 1 runs them in "
        "this process, without Ray."),
    address: str | None = typer.Option(None, "--address", help="A Ray cluster (ray://...)."),
    out_dir: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: runs/<scenario>-sharded-<regions>"
        "[-<sites>][-x<fleet scale>])."),
) -> None:
    """Run a scenario cut into regional shards as Ray tasks, merged exactly (national scale).

    Counts add and percentiles come from the added histograms. Writes summary.json and
    shards/<region>.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from airan.cli import _fail, _given_options, _print_summary, _user_errors, err, out
    from airan.console import _scenario_errors, kernel_when_needed, scale_suffix

    with _user_errors():
        _check_common(workers, duration, policy, address)
        if sites is not None and not 1 <= sites <= 1_000_000:
            raise _option_error("--sites", "must be 1-1,000,000", sites)
        if not fleet_scale > 0 or not math.isfinite(fleet_scale):
            raise _option_error("--fleet-scale", "must be positive", fleet_scale)
        from airan.sweep.shard import parse_regions
        from airan.sweep.shard import run_sharded as _run

        try:
            parse_regions(regions)
        except InputError as exc:
            raise _option_error("--regions", exc.reason, regions) from None
        from airan.sweep.cluster import import_ray, uses_ray

        if uses_ray(workers, address):
            import_ray()  # before the scenario's errors: its absence is not the scenario's
        label = Path(regions).stem if regions.lower().endswith(".csv") else regions
        tag = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{Path(scenario).stem}-sharded-{label}"
                     + (f"-{sites}" if sites else "") + scale_suffix(fleet_scale))
        folder = out_dir or Path("runs") / tag
        _refuse_other_kind(folder, "sharded run")
        t0 = time.perf_counter()
        with Progress(
            TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
            MofNCompleteColumn(), TextColumn("shards"), TimeElapsedColumn(), console=err,
            transient=True, disable=not err.is_terminal,
        ) as bar, kernel_when_needed(bar):  # (run_sharded compiles here, not in each worker)
            task = bar.add_task(f"{Path(scenario).stem} on {_where(workers, address)}",
                                total=None)

            def progress(done: int, total: int, region: str) -> None:
                bar.update(task, completed=done, total=total)

            given = _given_options(policy=policy, seed=seed, duration=duration,
                                   fleet_scale=fleet_scale)
            if sites is not None:
                given["sites"] = "--sites"
            try:
                with _scenario_errors(scenario, given):
                    result = _run(scenario, regions, sites=sites, policy=policy,
                                  duration_s=duration, seed=seed, fleet_scale=fleet_scale,
                                  workers=workers, address=address, out=folder,
                                  progress=progress)
            except OSError as exc:
                _fail(f"option '--out': cannot write to '{folder}': {exc.strerror or exc}")
    s = result.summary
    from airan.scenario import load_scenario
    from airan.scenario.load import site_times_s

    _print_summary(s, time.perf_counter() - t0, site_s=site_times_s(load_scenario(scenario)))
    info = s["sharding"]
    grid = str(info["regions"]).split("x")
    boxes = int(grid[0]) * int(grid[1]) if len(grid) == 2 and all(
        g.isdigit() for g in grid) else info["shards"]
    empty = (f", {boxes - info['shards']} of its boxes without a cell site left out"
             if boxes > info["shards"] else "")
    out.print(f"sharded: {info['shards']} regions ({info['regions']}{empty}), {info['sites']:,} "
              f"cell sites, {s['devices']:,} devices; engine time {s['cpu_wall_s']:.3g} s summed "
              "over shards (the wall time above also holds building the shards' worlds and "
              "starting their workers); approximations: summary.json, sharding.approximation",
              markup=False, soft_wrap=True)
    # the GPUs of shared sites first: the site table above counts them over the shards
    notes = sorted(info.get("approximation") or [], key=lambda n: not n.startswith("shared"))
    for note in notes[:NOTES_SHOWN]:
        out.print(f"  {note}", markup=False, soft_wrap=True)
    if len(notes) > NOTES_SHOWN:
        out.print(f"  ... {len(notes) - NOTES_SHOWN} more in summary.json", markup=False)
    out.print(f"wrote {folder / 'summary.json'} and {info['shards']} shard summaries in "
              f"{folder / 'shards'}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("sweep")(sweep)
    app.command("run-sharded")(run_sharded)


def _warn_rounded_loads(sw: Any) -> None:
    """The ``load`` values that round a fleet's count more than 5% away from it (a
    researcher's review: a plot of load against hit ratio put small fleets at the wrong x)."""
    from airan.cli import err

    for line in sw.rounded:  # (each run's own counts: an axis may set them)
        err.print(f"warning: {line}", markup=False, soft_wrap=True)
