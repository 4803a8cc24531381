"""The ``airan`` command line: a thin layer over the library (run, report, compare, trace,
validate, list, catalogs).

Every bad input ends as one line ``error: <message>`` on stderr and exit code 2; usage errors
(unknown option, a value of the wrong type) keep typer's own message, with the value given put
in (``console.HelpGroup``), and its exit code 2.
Anything else that escapes is a bug in airan and is allowed to raise.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from airan.console import (  # noqa: F401  (the shared pieces; sweep and live import them here)
    DEFAULT_SCENARIO,
    EXIT_INPUT,
    HelpGroup,
    _columns,
    _count,
    _fail,
    _hit_text,
    _num,
    _option_error,
    _resolve_precision,
    _safe_name,
    _scenario_errors,
    _table,
    _user_errors,
    check_writable,
    default_run_folder,
    err,
    load_kernel,
    out,
    policy_help,
    reader_may_leave,
    run_label,
    scale_suffix,
    with_warmup,
)
from airan.report.rundir import jsonable
from airan.version import airan_version

app = typer.Typer(
    name="airan",
    help="AI-RAN testbed: a digital twin of GPU base stations serving physical AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    cls=HelpGroup,
)
catalog_app = typer.Typer(help="Show the accelerator, model, device-class and 5QI catalogs.",
                          no_args_is_help=True, cls=HelpGroup)
app.add_typer(catalog_app, name="catalog")




# ---- option checks (before any work, naming the option) ---------------------------------------
# (--seed, --seeds, --duration, --fleet-scale and --trace-limit are checked on entering
# _user_errors, the same for every command; these are the checks particular to a command)
def _check_run_options(policy: str | None, trace_sample: float | None) -> None:
    from airan.policy import is_known_policy, unknown_policy

    if trace_sample is not None and not 0.0 <= trace_sample <= 1.0:
        raise _option_error("--trace-sample", "must be within [0, 1]", trace_sample)
    if policy is not None and not is_known_policy(policy):
        reason, choices = unknown_policy(policy)
        several = [p.strip() for p in split_policies(policy)]
        if len(several) > 1 and all(p and is_known_policy(p) for p in several):
            # several policies, each good: a comparison (a newcomer's review)
            reason, choices = (f"one policy only; to run {', '.join(several)} side by side: "
                               f"airan compare --policies {','.join(several)}", None)
        raise _option_error("--policy", reason, policy, choices)


# ---- commands ----------------------------------------------------------------------------------
def _version_callback(value: bool) -> None:
    if value:
        out.print(f"airan {airan_version()}", markup=False)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version_callback,
        is_eager=True,
    ),
) -> None:
    """AI-RAN testbed: a digital twin of GPU base stations serving physical AI."""



def _warn_run_folder_file(scenario: str, policy: str | None = None,
                          fleet_scale: float = 1.0) -> None:
    """A warning where ``scenario`` is a run folder's scenario.yaml whose run's policy was a
    function the file cannot name (and no ``policy`` is given): running it as it is runs
    another policy; and where its counts already carry a --fleet-scale that ``fleet_scale``
    would apply again."""
    from airan.report.rundir import POLICY_NOT_KEPT, SCALED_COUNTS

    path = Path(scenario)
    try:
        head = path.read_text(encoding="utf-8").split("\n", 2)[:2] if path.is_file() else []
    except (OSError, UnicodeDecodeError):
        return
    scaled = next((line for line in head if line.startswith(SCALED_COUNTS)), None)
    if scaled is not None and fleet_scale != 1.0:
        before = scaled[len(SCALED_COUNTS):].split()[0]
        err.print(f"warning: {scenario}: its fleets' counts already carry --fleet-scale "
                  f"{before}; --fleet-scale {fleet_scale:g} scales them again", markup=False,
                  soft_wrap=True)
    first = head[0] if head else ""
    if policy is None and first.startswith(POLICY_NOT_KEPT):
        ran = first[len(POLICY_NOT_KEPT):].strip().partition(",")[0]
        err.print(f"warning: {scenario}: the run this file comes from ran the policy function "
                  f"{ran}, which the file cannot name; this run uses the file's policy (give "
                  "--policy module:callable to run yours)", markup=False, soft_wrap=True)


@app.command()
def run(
    scenario: str = typer.Argument(
        DEFAULT_SCENARIO, help="A built-in scenario name (see `airan scenarios`) or a YAML path."
    ),
    policy: str | None = typer.Option(
        None, "--policy", "-p", help=policy_help("Placement policy (default: the scenario's)")
    ),
    duration: float | None = typer.Option(
        None, "--duration", "-d", help="Simulated seconds (default: the scenario's)."
    ),
    seed: int | None = typer.Option(None, "--seed", "-s", help="Seed (default: the scenario's)."),
    fleet_scale: float = typer.Option(
        1.0, "--fleet-scale", help="Multiply every fleet's device count by this factor."
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: runs/<scenario>-<policy>-<seed>, "
        "and -x<scale> with a --fleet-scale other than 1)."
    ),
    trace_limit: int | None = typer.Option(
        None, "--trace-limit", help="Trace every request up to this many (default: scenario's)."
    ),
    trace_sample: float | None = typer.Option(
        None, "--trace-sample", help="Fraction of requests traced beyond the limit (0..1)."
    ),
    warmup: float | None = typer.Option(
        None, "--warmup", help="Seconds whose requests count in no figure, while the queues "
        "fill from empty (default: the scenario's engine.warmup_s, 0)."
    ),
    no_report: bool = typer.Option(
        False, "--no-report", help="Skip report.html and its figures (`airan report` builds "
        "them later)."
    ),
) -> None:
    """Run a scenario; print per-service and per-site tables; write the run folder (summary.json,
    requests.parquet, load and map tables, scenario.yaml) and its report.html."""
    with _user_errors():
        _check_run_options(policy, trace_sample)

        from airan.api import scale_fleets
        from airan.engine import Engine
        from airan.scenario import load_scenario

        sc = load_scenario(scenario)
        from airan.console import _scenario_label
        from airan.scenario.load import check_policy_sites, scenario_warnings

        if policy is not None:  # (the kind of site it needs, the site site:NAME names)
            check_policy_sites(sc, policy, field="--policy")

        with _scenario_errors(scenario, _given_options(
                policy=policy, seed=seed, duration=duration, fleet_scale=fleet_scale,
                trace_limit=trace_limit, trace_sample=trace_sample, warmup=warmup)):
            scaled: list[str] = []
            if fleet_scale != 1.0:
                from airan.api import fleet_scale_warnings

                scaled = fleet_scale_warnings(sc, fleet_scale, label=_scenario_label(scenario))
                sc = scale_fleets(sc, fleet_scale)
            # of the scenario as it runs (a fleet --fleet-scale rounds to no devices, say)
            for line in [*scaled, *scenario_warnings(sc, label=_scenario_label(scenario),
                                                     duration_s=duration, policy=policy,
                                                     fleet_scale=fleet_scale)]:
                err.print(f"warning: {line}", markup=False, soft_wrap=True)
            _warn_run_folder_file(scenario, policy, fleet_scale)
            t0 = time.perf_counter()
            if out_dir is not None:  # before the world is built (seconds for a metro)
                _check_out_dir(out_dir)
            load_kernel()
            engine = Engine(sc, policy=policy, seed=seed, duration_s=duration,
                            trace_limit=trace_limit, trace_sample=trace_sample,
                            warmup_s=warmup)
            if out_dir is None:  # a scaled run does not overwrite the unscaled one
                scale = scale_suffix(fleet_scale)
                out_dir = default_run_folder(scenario, Path("runs") / _safe_name(
                    f"{run_label(scenario, sc.name)}-{engine.policy_name}-{engine.seed}{scale}"))
            _check_out_dir(out_dir)
            created = not out_dir.exists()
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                _fail(f"option '--out': cannot create folder '{out_dir}': {exc.strerror or exc}")
            try:
                result = _run_with_progress(engine, f"{sc.name} / {engine.policy_name}")
            except BaseException:  # interrupted, or a user's policy failed: no empty folder
                if created:
                    with contextlib.suppress(OSError):
                        out_dir.rmdir()
                raise
        total_wall = time.perf_counter() - t0
        from airan.api import note_fleet_scale

        note_fleet_scale(result.summary, fleet_scale)

    with _user_errors():  # a MemoryError while writing a very large run, too
        summary = jsonable(result.summary)
        from airan.report.placement import local_shares

        local = (local_shares(result.requests, summary.get("trace"))
                 if result.requests is not None else {})
        from airan.report.placement import misses_by_cell

        by_cell = (misses_by_cell(result.requests, summary.get("trace"))
                   if result.requests is not None else [])
        from airan.report.placement import local_counts

        kept = (local_counts(result.requests, summary.get("trace"))
                if result.requests is not None else {})
        from airan.report.placement import held_on_device
        from airan.scenario.load import device_times_s

        on_device = (device_times_s(sc), kept, held_on_device(
            result.requests, summary.get("trace"))) if kept else None
        from airan.scenario.load import peak_roofline_services

        peak = peak_roofline_services(sc)
        from airan.scenario.load import site_times_s

        site_s = site_times_s(sc)
        from airan.report import write_run

        try:  # the files first: a reader that stops early (`airan run | head`) loses none
            write_run(result, out_dir)
        except OSError as exc:
            _fail(f"option '--out': cannot write to '{out_dir}': {exc.strerror or exc}")
    with reader_may_leave():
        _print_summary(summary, total_wall, local, on_device=on_device, peak=peak,
                       by_cell=by_cell, site_s=site_s)
        out.print(f"wrote {out_dir / 'summary.json'}", markup=False, soft_wrap=True)
        trace = summary.get("trace") or {}
        sampled = "" if trace.get("complete", True) else (
            ("; " if not trace.get("sample_beyond_limit") else "; a sample: ") + trace["note"]
            if trace.get("note") else "; a sample")
        out.print(f"wrote {out_dir / 'requests.parquet'} ({result.requests.num_rows:,} rows"
                  f"{sampled})", markup=False, soft_wrap=True)
    if no_report:
        return
    from airan.report.html import build_report  # matplotlib: only when a report is wanted

    with _user_errors():
        report = build_report(out_dir)
    with reader_may_leave():
        out.print(f"wrote {report.path} ({len(report.figures)} figures in "
                  f"{report.path.parent / 'figures'}, {report.build_s:.1f} s)", markup=False,
                  soft_wrap=True)


def _given_options(
    *,
    policy: str | None = None,
    seed: int | None = None,
    duration: float | None = None,
    fleet_scale: float = 1.0,
    trace_limit: int | None = None,
    trace_sample: float | None = None,
    warmup: float | None = None,
) -> dict[str, str]:
    """The library's argument names the command line was given, to their options: an error the
    library raises about one of them names the option (see :func:`_scenario_errors`)."""
    given = {
        "policy": ("--policy", policy is not None),
        "seed": ("--seed", seed is not None),
        "duration_s": ("--duration", duration is not None),
        "fleet_scale": ("--fleet-scale", fleet_scale != 1.0),
        "trace_limit": ("--trace-limit", trace_limit is not None),
        "trace_sample": ("--trace-sample", trace_sample is not None),
        "warmup_s": ("--warmup", warmup is not None),
    }
    return {field: option for field, (option, yes) in given.items() if yes}


def _check_out_dir(out_dir: Path, marker: str | None = None) -> None:
    """Exit 2 where writing the run (or the comparison: ``marker`` comparison.json) would
    replace a user's own files in ``out_dir``."""
    from airan.report.rundir import SUMMARY, foreign_folder_error, other_kind_error

    kind = "run" if marker is None else "comparison"
    refused = other_kind_error(out_dir, kind) or foreign_folder_error(out_dir, marker or SUMMARY)
    if refused is not None:
        _fail(f"option '--out': {refused}")
    check_writable(out_dir)  # (a read-only folder was found only after the runs)


def _run_with_progress(engine: Any, label: str) -> Any:
    """``engine.run()`` with a progress bar (fraction of simulated time) on stderr."""
    total_s = float(engine.duration_s)
    with Progress(
        TextColumn("{task.description}", style="bold", markup=False),  # user text, as written
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TextColumn("sim {task.fields[sim]:.2f}/" + f"{total_s:g} s"),
        TimeElapsedColumn(),
        console=err,
        transient=True, disable=not err.is_terminal,  # a log gets no bar (nor its blank line)
    ) as bar:
        task = bar.add_task(label, total=1.0, sim=0.0)

        def progress(fraction: float) -> None:
            bar.update(task, completed=fraction, sim=fraction * total_s)

        return engine.run(progress=progress)


SITES_SHOWN = 12  # compute sites listed in the terminal; the rest are summed up in one line
DROPPED_NOTE = 0.01  # a service with more of its ended requests dropped: said under the latency


def _print_table(table: Any) -> None:
    """Print a table whole: columns that may wrap (``no_wrap`` off) wrap to fit the terminal;
    where it is narrower than the table with those at their narrowest, the lines run on (the
    terminal wraps them) rather than numbers being cut short."""
    from rich.measure import Measurement

    wide = out.options.update(width=10_000)
    need = Measurement.get(out, wide, table).maximum
    for column in table.columns:  # what wrapping the wrappable columns saves
        if not column.no_wrap:
            cells = [Measurement.get(out, wide, c) for c in (column.header, *column.cells)]
            need -= max(m.maximum for m in cells) - max(m.minimum for m in cells)
    if need <= out.width:
        out.print(table)
        return
    fixed = out._width  # None: the width follows the terminal ($COLUMNS) again afterwards
    out.width = need  # Console.print never renders wider than the console
    try:
        out.print(table, crop=False)
    finally:
        out._width = fixed


_SPLIT_LABELS = {"queue_device": "queue, on device", "queue_sites": "queue, at sites",
                 "compute_device": "compute, on device", "compute_sites": "compute, at sites",
                 "at_failed_site": "at a failed site or GPU"}


ANSWERED_AT_SHOWN = 3  # places named per service in the terminal's "answered at" line


def _print_answered_at(s: dict[str, Any]) -> None:
    """Where each service's answered requests ran, as shares (the busiest places first): a
    service half at the cloud reads differently from one at its edge (a port's review: 934 of
    1,200 crane requests went to the cloud, which only the request trace showed)."""
    said = []
    places = set()
    for name, v in s["services"].items():
        at = v.get("answered_at") or {}
        total = sum(at.values())
        if not total:
            continue
        places |= set(at)
        items = list(at.items())
        shown = items if len(items) <= ANSWERED_AT_SHOWN + 1 else items[:ANSWERED_AT_SHOWN]
        if "local" in at and all(k != "local" for k, _ in shown):  # the devices' always
            shown.append(("local", at["local"]))
        rest = len(items) - len(shown)
        rest_share = (total - sum(n for _, n in shown)) / total
        # (the hidden places' share said: a product manager's review read "on device 0.1% and
        # 2 more" where the two were 1.6% and 1.5%)
        said.append(f"{name} " + ", ".join(
            f"{'on device' if k == 'local' else k} {n / total:.1%}" for k, n in shown)
            + (f" and {rest} more ({rest_share:.1%})" if rest > 0 else ""))
    if said and len(places) > 1:  # (one place for all: nothing to tell)
        out.print("answered at (each service's answered requests): " + "; ".join(said),
                  markup=False, soft_wrap=True)


def _print_devices_satisfied(s: dict[str, Any]) -> None:
    """Per service, its devices whose own hit ratio meets the service's target (TR 38.838's
    satisfied UEs): a pooled hit ratio can hide a few devices that miss everything."""
    from airan.metrics.satisfaction import misses_in_a_row_text, satisfied_text

    figs = {n: f for n, v in s["services"].items() if (f := v.get("devices_satisfied"))}
    if not any(f["devices"] for f in figs.values()):
        return
    few = [n for n, f in figs.items() if f["devices"] and f["target"] < 1.0
           and f["requests_per_device"] * (1.0 - f["target"]) < 1.0]
    out.print("devices satisfied (each device's own hit ratio, overdue requests as misses, "
              "at its service's target; TR 38.838 counts a cell's capacity at 90% of them): "
              + "; ".join(satisfied_text(n, f) for n, f in figs.items())
              + (f"; {', '.join(few)}: fewer than 1 / (1 - target) requests per device, so "
                 "one miss unsatisfies a device (run longer)" if few else ""),
              markup=False, soft_wrap=True)
    runs = {n: r for n, f in figs.items() if (r := f.get("misses_in_a_row")) and r["longest"]}
    if runs:  # (a humanoid maker's review: one late control packet is harmless, three in a
        # row are a fall, and only a script over the trace could tell)
        out.print("misses in a row per device (in the order its requests end, overdue as "
                  "misses; TS 22.104's survival time of n transfer intervals tolerates n): "
                  + "; ".join(misses_in_a_row_text(n, r) for n, r in runs.items()),
                  markup=False, soft_wrap=True)


def _print_late(s: dict[str, Any]) -> None:
    """The late requests' mean breakdown per service that has any: where the tail spent its
    time, which the mean over all requests hides (requests kept on a slow device among many
    met at a GPU, a device stuck on a poor link)."""
    from airan.report.placement import FAILED_SITE, SPLIT_STAGES, late_parts

    parts = {n: p for n, v in s["services"].items() if (p := late_parts(v)) is not None}
    if not parts:
        return
    names = list(parts)
    device = any((parts[n]["queue_device"] or 0.0) + (parts[n]["compute_device"] or 0.0) > 0
                 for n in names)
    rows = [k for k in SPLIT_STAGES if device or k not in ("queue_device", "compute_device")]
    if any(p.get(FAILED_SITE) for p in parts.values()):  # (beside the transport it is part of)
        rows.insert(rows.index("ul_transport") + 1, FAILED_SITE)
    svcs = [s["services"][n] for n in names]
    table = _table("Answered late: mean ms")
    table.add_column("", no_wrap=True)
    _columns(table, *names)
    table.add_row("requests", *(f"{int(v['late']):,}" for v in svcs))
    if device:
        table.add_row("of them run on device", *(
            f"{int(v.get('late_on_device') or 0):,}" for v in svcs))
    # the misses with no answer, so none of the figures below (a review: 86 overdue beside
    # 359 answered late)
    table.add_row("not answered (dropped, overdue)", *(
        f"{int(v.get('dropped', 0)) + int(v.get('overdue', 0)):,}" for v in svcs),
        end_section=True)
    sums = [sum(float(x or 0.0) for x in parts[n].values()) for n in names]
    totals = [float(v.get("late_latency_ms") or x) for v, x in zip(svcs, sums, strict=True)]
    overhead = any(t - x > 0.01 for t, x in zip(totals, sums, strict=True))
    # one blank line before the total, as in the Latency table (an empty row and a section's
    # end made two: a newcomer's review)
    for i, k in enumerate(rows):
        label = k if device else k.replace("_sites", "")
        table.add_row(_SPLIT_LABELS.get(label, label), *(
            _num(parts[n].get(k), "{:.2f}") for n in names),
            end_section=i == len(rows) - 1 and not overhead)
    if overhead:  # a live run's runtime
        table.add_row("overhead (runtime)", *(f"{max(t - x, 0.0):.2f}" for t, x in zip(
            totals, sums, strict=True)), end_section=True)
    table.add_row("total (mean)", *(f"{t:.2f}" for t in totals), style="bold")
    _print_table(table)
    out.print("answered late: the requests answered past their deadline, their mean breakdown; "
              "those never answered (dropped, or overdue at the end) have none and are counted "
              "apart", markup=False, soft_wrap=True)


def _print_payload_sizes(s: dict[str, Any]) -> None:
    """Where a service's uploads (``ul_kb_spread``) or answers (``dl_kb_spread``) vary in
    size: the sizes sent and the mean size of its answered, late and dropped requests, so
    that a run says whether its large frames are the ones that miss (a perception engineer's
    walk: only the trace did)."""
    for name, v, key, what in ((name, v, key, what) for name, v in s["services"].items()
                               for key, what in (("ul_kb", "uploads"), ("dl_kb", "answers"))):
        u = v.get(key)
        if not u:
            continue
        runs = [f"{_three_figures(u[k])} kB over its {outcome}" for k, outcome in (
            ("met_mean", "met"), ("late_mean", "late"),
            ("dropped_mean", "dropped")) if u.get(k) is not None]
        # the answers: of those sent down from a site (not those made on the devices, nor
        # the dropped: a walk read "no request answered or dropped yet" after 720 drops)
        made_on_device = int((v.get("answered_at") or {}).get("local") or 0)
        local = (f"; {made_on_device:,} answered on the devices, not counted"
                 if key == "dl_kb" and made_on_device else "")
        if runs:
            said = "mean " + ", ".join(runs)
        elif key == "dl_kb":
            said = (f"no answer sent down from a site ({int(v.get('dropped') or 0):,} "
                    "dropped, whose answers' sizes are not kept)")
        else:
            said = "no request answered or dropped"
        shares = ""
        if u.get("late_mean") is not None and u.get("late_share_above_mean") is not None \
                and u.get("late_share_other") is not None:  # (some went late)
            shares = (f"; {u['late_share_above_mean']:.1%} of those "
                      f"{'answered' if key == 'ul_kb' else 'sent'} above the mean went late, "
                      f"{u['late_share_other']:.1%} of the others")
            shares += quartiles_said(u)
        out.print(f"{name}'s {what} ({u['dist']} sizes: mean {_three_figures(u['mean'])} kB, "
                  f"cv {_three_figures(u['cv'])}, p99 {_three_figures(u['p99'])} kB, largest "
                  f"{_three_figures(u['largest'])} kB): "
                  + said + shares + local
                  + f" (summary.json services.*.{key}; each request's in requests.parquet)",
                  markup=False, soft_wrap=True)


def quartiles_said(u: dict[str, Any]) -> str:
    """A run's late (or overdue) share by quartile of the sizes sent, as the terminal and the
    report say it; empty where the summary has none."""
    shares = u.get("missed_share_by_quartile") or u.get("late_share_by_quartile")
    if not shares:
        return ""
    return ("; by size quartile (" + ", ".join(_three_figures(x) for x in u["quartiles_kb"])
            + " kB): " + ", ".join("-" if x is None else f"{x:.1%}" for x in shares)
            + (" late or overdue" if "missed_share_by_quartile" in u else " late"))


def _print_ai_ran_line(s: dict[str, Any]) -> None:
    """AI-and-RAN in one line (the report's section has the GPU-hours): the share of the
    hosting GPUs' time the cells' L1 took, its slot misses, and the share of the GPU time left
    to AI that AI used."""
    ar = s.get("ai_ran") or {}
    if not ar or ar.get("mode", "none") == "none":
        return
    per_site = [c["ai_ran"] for c in (s.get("sites") or {}).values() if c.get("ai_ran")]
    hosts = [a for a in per_site if a.get("hosted_cells")]
    # all their GPUs' time, down time included (as mean_l1_share and gpu_utilization)
    host_h = sum(a["l1_gpu_hours"] + a["ai_gpu_hours"] + a["idle_gpu_hours"]
                 + a.get("down_gpu_hours", 0.0) for a in hosts)
    l1_h = sum(a["l1_gpu_hours"] for a in hosts)
    # AI's use of what the L1 left it, on the same GPUs (sites without cells are AI's alone)
    used = sum(a.get("ai_gpu_hours", 0.0) for a in hosts)
    capacity = sum(a.get("ai_capacity_gpu_hours", 0.0) for a in hosts)
    misses = int(ar.get("l1_slot_misses") or 0)
    slots = ar.get("l1_slots")
    if hosts:
        n_cells = sum(a["hosted_cells"] for a in hosts)
        down = min(int(ar.get("l1_slots_down") or 0), misses)
        misses -= down  # (what the L1 did not fit; a fault's outage lost the rest)
        of = (f"{misses:,} of its {int(slots):,} site-slots ({misses / slots:.1%})" if slots
              else f"{misses:,} of its slots")
        lost = (f", and {down:,} were lost while a fault had all of a site's GPUs down (its "
                "cells off the air)" if down else "")
        # the site that missed most, of its own slots (an operator's review: 0.4% of all the
        # site-slots hid one site missing 3.2% of its own)
        named = [(n, c["ai_ran"]) for n, c in (s.get("sites") or {}).items()
                 if (c.get("ai_ran") or {}).get("hosted_cells")]
        unfit = [(a["l1_slot_misses"] - min(a.get("l1_slots_down") or 0, a["l1_slot_misses"]),
                  n, a.get("l1_slots") or 0) for n, a in named]
        worst = max(unfit, key=lambda x: (x[0] / x[2] if x[2] else 0.0, x[0]), default=None)
        if misses and len(hosts) > 1 and worst is not None and worst[0] and worst[2]:
            of += (f" (most at {worst[1]}: {worst[0]:,} of its {worst[2]:,} slots, "
                   f"{worst[0] / worst[2]:.1%})")
        text = (f"AI-and-RAN ({ar['mode']}): the L1 of {n_cells:,} "
                f"cell{'s' if n_cells != 1 else ''} took "
                f"{l1_h / host_h if host_h else 0.0:.1%} of the GPU time of the {len(hosts):,} "
                f"compute site{'s that run' if len(hosts) != 1 else ' that runs'} it, {of} "
                f"did not fit{lost}; AI used "
                f"{used / capacity if capacity else 0.0:.1%} of the GPU time it left there "
                "(its GPU-hours in summary.json)")
        up_h = host_h - sum(a.get("down_gpu_hours", 0.0) for a in hosts)
        if ar["mode"] == "mig" and up_h > 0:
            text += (f"; under mig the L1's slice keeps {1 - capacity / up_h:.1%} of that "
                     "GPU time from AI whatever it uses (the slice's unused part and the SMs "
                     "neither instance has count as idle)")
        if ar["mode"] == "dynamic":  # (what the mode assumes, not what the run found)
            text += ("; under dynamic the L1 has the GPU first (an assumption: priority over "
                     "AI's kernels in every slot), so a slot misses only where the L1 alone "
                     "needs more than the site's GPUs that are up")
        if misses:
            model = ar.get("radio_model", "nr")
            text += ("; the L1 drops a slot that does not fit, and its cells carry no data "
                     "in it (their devices get that much less of the radio; a site with no "
                     "GPU up takes its cells off the air)" if model == "nr" else
                     f"; the L1 drops a slot that does not fit, which the {model} radio does "
                     "not model (it carries the cells' data regardless)")
    else:
        text = (f"AI-and-RAN ({ar['mode']}): no compute site runs a cell's L1 (a kind: cell "
                "site at a cell site would, or one that lists cell sites in hosts_l1_of)")
    dl, ul = ar.get("background_utilization_now_dl"), ar.get("background_utilization_now_ul")
    if dl or ul:  # (none without ai_ran.traffic)
        text += (f"; background traffic at the end: {dl:.0%} of the PRBs" if dl == ul else
                 f"; background traffic at the end: {dl:.0%} of the downlink's PRBs, "
                 f"{ul:.0%} of the uplink's")
    out.print(text, markup=False, soft_wrap=True, style="yellow" if misses else "")


def _print_fleets(s: dict[str, Any]) -> None:
    """Per fleet, its share of each service, where a service is run by more than one fleet
    (otherwise the services' table says it all): do the fleet's own devices meet it?"""
    fleets = {n: f for n, f in (s.get("fleets") or {}).items() if f.get("services")}
    runs: dict[str, int] = {}
    for f in fleets.values():
        for v in f["services"]:
            runs[v] = runs.get(v, 0) + 1
    if not any(n > 1 for n in runs.values()):
        return
    tab = _table("Fleets")
    tab.add_column("fleet", no_wrap=True)
    tab.add_column("service", no_wrap=True)
    _columns(tab, "devices", "requests", "met", "late", "dropped", "hit",
             "hit, overdue missed", "p50 ms", "p99 ms")
    for name, f in fleets.items():
        for i, (v, x) in enumerate(f["services"].items()):
            target = x.get("target_hit_ratio")
            tab.add_row(Text(name if i == 0 else ""), Text(v),
                        f"{f['devices']:,}" if i == 0 else "", f"{x['count']:,}",
                        f"{x['met']:,}", f"{x['late']:,}", f"{x['dropped']:,}",
                        _hit_text(x.get("hit_ratio"), target),
                        _hit_text(x.get("hit_ratio_with_overdue"), target),
                        _num(x["latency_ms"].get("p50"), "{:.2f}"),
                        _num(x["latency_ms"].get("p99"), "{:.2f}"),
                        end_section=i == len(f["services"]) - 1)
    _print_table(tab)


def _print_summary(s: dict[str, Any], total_wall: float, local: Any = None,
                   on_device: tuple[Any, Any, Any] | None = None,
                   peak: Any = (), by_cell: Any = (), site_s: Any = None) -> None:
    """The run's tables on the terminal. ``local`` (service -> LocalShare, from the request
    trace): where requests ran; when some ran on the devices, queue and compute are each shown
    as the part on the devices' own processors and the part at compute sites. ``on_device``:
    the devices' times and the requests kept on them, for the cautions
    (:func:`airan.report.cautions.slow_on_device`); ``peak``: the services computed at the
    GPUs' datasheet peaks (:func:`airan.report.cautions.at_peak`); ``site_s``: the sites' times
    at batch 1 (:func:`airan.report.cautions.slow_at_site`)."""
    from airan.report.cautions import GPU_BUSY, cautions
    from airan.report.events import events
    from airan.report.placement import any_local, split_breakdown

    out.print(Text.assemble(
        (str(s["scenario"]), "bold"), "  policy ", (str(s["policy"]), "bold"),
        f"  seed {s['seed']}  {s['duration_s']:.3g} s simulated, {s.get('devices', '?')} devices"))
    warmup = float(s.get("warmup_s") or 0.0)
    if warmup > 0.0:  # (the figures below leave it out; the sites', cells' and links' do not)
        n = int((s.get("requests") or {}).get("created_in_warmup") or 0)
        out.print(f"warm-up: the first {warmup:g} s, {n:,} requests, counted in no request "
                  "figure below (the sites', cells', links' and energy figures cover the whole "
                  "run)", markup=False, soft_wrap=True)

    svc = _table("Services")
    svc.add_column("service", no_wrap=True)
    _columns(svc, "requests", "met", "late", "dropped", "in flight", "overdue", "hit",
             "hit, overdue missed", "target")
    for name, v in s["services"].items():
        target = v.get("target_hit_ratio")
        svc.add_row(Text(name), f"{v['count']:,}", f"{v['met']:,}", f"{v['late']:,}",
                    f"{v['dropped']:,}", f"{v.get('in_flight', 0):,}",
                    f"{v.get('overdue', 0):,}", _hit_text(v.get("hit_ratio"), target),
                    _hit_text(v.get("hit_ratio_with_overdue"), target), _num(target, "{:g}"))
    _print_table(svc)
    _print_answered_at(s)
    _print_devices_satisfied(s)

    lat = _table("Latency (ms)")
    lat.add_column("", no_wrap=True)
    names = list(s["services"])
    _columns(lat, *names)
    parts = {n: s["services"][n]["breakdown_ms"] for n in names}
    split = bool(local) and any_local({n: v for n, v in local.items() if n in parts})
    if split:
        from airan.report.placement import LocalShare

        none = LocalShare(traced=0, requests=0.0, queue=0.0, compute=0.0)
        parts = {n: split_breakdown(bd, local.get(n, none)) for n, bd in parts.items()}
    keys = list(next(iter(parts.values()))) if names else []
    from airan.report.placement import overhead_ms

    unparted = [overhead_ms(s["services"][n]) for n in names]
    for i, k in enumerate(keys):
        lat.add_row(_SPLIT_LABELS.get(k, k),
                    *(_num(parts[n].get(k), "{:.2f}") for n in names),
                    end_section=i == len(keys) - 1 and not any(unparted))
    if any(unparted):  # a live run: what the runtime adds, in none of the seven parts
        lat.add_row("overhead (runtime)", *(f"{x:.2f}" for x in unparted), end_section=True)
    for q in ("mean", "p50", "p95", "p99", "p999"):
        lat.add_row({"mean": "total (mean)", "p999": "p99.9"}.get(q, q),
                    *(_num(s["services"][n]["latency_ms"].get(q), "{:.2f}") for n in names),
                    style="bold" if q == "mean" else None)
    # the p99 that compare and plan read: the requests that got no answer counted as late
    unanswered = [int(s["services"][n].get("dropped", 0)) + int(s["services"][n].get(
        "overdue", 0)) for n in names]
    if any(unanswered):
        from airan.metrics.histogram import percentile_with_unanswered_ms

        p99s = [percentile_with_unanswered_ms(s["services"][n], 0.99) for n in names]
        lat.add_row("p99, unanswered late", *(
            "unbounded" if x == math.inf else _num(x, "{:.2f}") for x in p99s))
    _print_table(lat)
    out.print(LATENCY_GLOSSARY, style="dim", markup=False, soft_wrap=True)
    if any(unanswered):
        out.print("p50-p99.9: over the requests answered; 'p99, unanswered late' counts those that "
                  "got none (dropped, or past their deadline at the end) as infinitely late, as "
                  "airan compare and airan plan read it: unbounded where more than 1% got none",
                  markup=False, soft_wrap=True)
    if split:
        out.print("queue and compute by where they happened: 'on device' on the devices' own "
                  "processors, accelerator or CPU (requests the policy kept on the device), "
                  "'at sites' at compute sites; split in the proportions of the request trace",
                  markup=False,
                  soft_wrap=True)
    dropped_notes = []
    for n in names:
        v = s["services"][n]
        done = int(v.get("met", 0)) + int(v.get("late", 0))
        dropped = int(v.get("dropped", 0))
        if dropped and dropped > DROPPED_NOTE * (done + dropped):
            dropped_notes.append(f"{n} over {done:,} requests, {dropped:,} dropped "
                                 f"({dropped / (done + dropped):.1%} of those that ended)")
    _print_late(s)
    _print_payload_sizes(s)
    if dropped_notes:
        out.print("latency (mean, its parts and percentiles) is over the requests that ended "
                  "met or late, not the dropped ones: " + "; ".join(dropped_notes),
                  markup=False, soft_wrap=True)
    _print_fleets(s)

    if s.get("sites"):
        items = list(s["sites"].items())
        # every edge and cloud site, then the busiest cell sites, up to SITES_SHOWN in all
        shown = [(n, c) for n, c in items if c.get("kind") != "cell"]
        cells = [(n, c) for n, c in items if c.get("kind") == "cell"]
        n_cells = max(0, SITES_SHOWN - len(shown))
        rest: list[tuple[str, Any]] = []
        title = "Compute sites"
        if len(cells) > n_cells:  # the busiest cell sites (a stable sort: ties keep their order)
            cells = sorted(cells, key=lambda x: -_site_busy(x[1]))
            cells, rest = cells[:n_cells], cells[n_cells:]
            title = f"Compute sites (edge and cloud, and the {n_cells} busiest cell sites)"
        # the edge and cloud sites in the scenario's order, then the cell sites (the busiest
        # first where only the busiest are shown: an operator planner's review read a table
        # titled "the 10 busiest" in name order)
        shown = ([x for x in items if x in shown] + cells if rest else
                 [x for x in items if x in shown or x in cells])
        sites = _table(title)
        sites.add_column("site", no_wrap=True)
        sites.add_column("kind")
        # under ai_ran, a share of what the RAN's L1 leaves the AI
        # (docs/outputs.md: gpu_utilization)
        ai_ran = (s.get("ai_ran") or {}).get("mode") not in (None, "none")
        # (an operator's review: "AI utilization 92%" read as the whole GPU's, where the L1
        # took 36% of it and AI 92% of the rest: the L1's share beside it)
        _columns(sites, "GPUs", *(("AI utilization", "L1 share") if ai_ran else
                                  ("utilization",)),
                 "mean queue (requests)", "served", "mean batch", "power (W)")
        for name, c in shown:
            util = c.get("gpu_utilization")
            l1 = ((c.get("ai_ran") or {}).get("mean_l1_share"),) if ai_ran else ()
            sites.add_row(Text(name), str(c.get("kind", "")), str(c.get("gpus", "")),
                          Text(_num(util, "{:.1%}"),
                               style="yellow" if (util or 0.0) > GPU_BUSY else ""),
                          *(_num(x, "{:.1%}") for x in l1),
                          _num(c.get("mean_queue"), "{:.2f}"), f"{c.get('served', 0):,}",
                          _num(c.get("mean_batch"), "{:.2f}"), _num(c.get("power_w"), "{:,.0f}"))
        _print_table(sites)
        if rest:
            util = [c.get("gpu_utilization") or 0.0 for _, c in rest]
            l1_rest = [float((c.get("ai_ran") or {}).get("mean_l1_share") or 0.0)
                       for _, c in rest]
            l1_text = (f"; L1 share mean {sum(l1_rest) / len(l1_rest):.1%}, highest "
                       f"{max(l1_rest):.1%}" if ai_ran else "")
            power = sum(float(c.get("power_w") or 0.0) for _, c in rest)
            out.print(
                f"and {len(rest):,} more cell sites: {'AI ' if ai_ran else ''}utilization mean "
                f"{sum(util) / len(util):.1%}, highest {max(util):.1%}{l1_text}; "
                f"{sum(c.get('served', 0) for _, c in rest):,} served; {power:,.0f} W"
                " (every site in summary.json)", markup=False, soft_wrap=True)
        from airan.metrics.site_energy import site_energy_text

        energy_line = site_energy_text(s.get("site_energy"))
        if energy_line:
            out.print(energy_line, markup=False, soft_wrap=True)

    _print_links_line(s.get("links") or {})
    _print_radio_line(s.get("cells") or {}, table="sharding" not in s,
                      fleets=s.get("fleets") or {})
    _print_missed_cells(by_cell, s)
    _print_devices_line(s.get("fleets") or {}, counted_all=not s.get("warmup_s"))
    _print_ai_ran_line(s)
    for line in events(s):
        out.print(line, markup=False, soft_wrap=True)
    device_s, kept, held = on_device or ({}, {}, {})
    for line in cautions(s, device_s, kept, held, peak=peak, site_s=site_s):
        out.print(line, markup=False, soft_wrap=True, style="yellow")
    req = s["requests"]
    drops = req.get("dropped_by_reason") or {}
    drop_text = ", ".join(f"{r} {n:,}" for r, n in drops.items()) if drops else "none"
    by_service = {n: v.get("dropped_by_reason") or {} for n, v in s["services"].items()}
    if len([n for n, r in by_service.items() if r]) > 1:  # which service lost what, and why
        drop_text += "; " + "; ".join(
            f"{n}: " + ", ".join(f"{r} {k:,}" for r, k in reasons.items())
            for n, reasons in by_service.items() if reasons)
    out.print(f"drops by reason: {drop_text}", markup=False, soft_wrap=True)
    if req.get("in_flight"):
        overdue = req.get("overdue") or 0
        out.print(
            f"in flight at the end: {req['in_flight']:,} of {req['created']:,} requests "
            f"({req['in_flight'] / max(req['created'], 1):.1%}), "
            + (f"{overdue:,} of them already past their deadline ('overdue'): 'hit' is met over "
               "the requests that ended, 'hit, overdue missed' counts the overdue ones as misses "
               "too" if overdue else "none of them past its deadline yet"),
            markup=False, soft_wrap=True)
    rate = s.get("requests_per_wall_s")
    out.print(
        f"throughput: {req['created']:,} requests in {s['wall_s']:.3f} wall s "
        f"({_num(rate, '{:,.0f}')} requests per wall s; {total_wall:.2f} s with setup)",
        markup=False, soft_wrap=True,
    )


LINKS_SHOWN = 4  # the busiest transport link directions the terminal names


def _print_links_line(links: dict[str, Any]) -> None:
    """The busiest transport link directions, by utilization (every one in summary.json)."""
    from airan.report.cautions import LINK_BUSY, links_by_load

    if not links:
        return
    busiest = links_by_load({"links": links})
    parts = [f"{name} {float(v.get('utilization') or 0.0):.1%} of "
             f"{float(v.get('capacity_gbps') or 0.0):g} Gbit/s"
             for name, v in busiest[:LINKS_SHOWN]]
    more = f" ({len(links):,} in summary.json)" if len(links) > LINKS_SHOWN else ""
    out.print("busiest transport links: " + ", ".join(parts) + more, markup=False,
              soft_wrap=True, style="yellow" if float(
                  busiest[0][1].get("utilization") or 0.0) > LINK_BUSY else "")


CELLS_NAMED = 5  # cells named in the terminal's line of the cells with the most misses
MISSES_FOR_CELLS = 10  # misses in the trace below which that line is left out


def _print_missed_cells(by_cell: Any, s: dict[str, Any]) -> None:
    """The cells whose requests missed most (late or dropped, from the request trace:
    :func:`airan.report.placement.misses_by_cell`), so a miss at the edge of coverage or at
    one overloaded cell shows where (the trace's ``cell`` column has every cell)."""
    rows = list(by_cell or [])
    if len(rows) < 1 or sum(r[1] for r in rows) < MISSES_FOR_CELLS:
        return
    n_cells = int((s.get("cells") or {}).get("count") or 0)
    if n_cells < 2:
        return
    sampled = not (s.get("trace") or {}).get("complete", True)
    about = "~" if sampled else ""
    several = len({v for r in rows for v in r[3]}) > 1  # (one service: its name says nothing)

    def cell_text(c: str, m: float, n: float, per: dict[str, float]) -> str:
        by = (": " + ", ".join(f"{v} {about}{x:,.0f}" for v, x in per.items())
              if several else "")
        return f"{c} {about}{m:,.0f} of {about}{n:,.0f} ({m / n:.1%}{by})"

    named = "; ".join(cell_text(*r) for r in rows[:CELLS_NAMED])
    missed = sum(r[1] for r in rows)
    req = s.get("requests") or {}
    if sampled and {"late", "dropped"} <= set(req):  # the exact total, not the sample's
        missed, about_all = int(req["late"]) + int(req["dropped"]), ""
    else:
        about_all = about
    out.print(f"missed requests (late or dropped, overdue not counted) by cell, most misses "
              f"first: {named}"
              + (f"; {len(rows) - CELLS_NAMED:,} more cells with misses"
                 if len(rows) > CELLS_NAMED else "")
              + f" ({about_all}{missed:,.0f} in all; the cell each request's answer went to, "
              "requests.parquet's cell column: the radio there, or the site its requests went "
              "to, may be the cause)"
              + (" (estimated from the trace's sample)" if sampled else ""),
              markup=False, soft_wrap=True)


def _print_radio_line(cells: dict[str, Any], *, table: bool = True,
                      fleets: dict[str, Any] | None = None) -> None:
    """One line on the cells' PRB use (NR only): the mean and the busiest cell per direction;
    ``table``: the run wrote cells.parquet (a sharded run writes none); then the devices'
    radio, and each fleet's where there are several (``fleets``: the summary's)."""
    if cells.get("mean_prb_utilization_ul") is None or cells.get("busiest_cell_ul") is None:
        return
    parts = [f"{label} mean {cells[f'mean_prb_utilization_{key}']:.1%}, busiest "
             f"{cells[f'busiest_cell_{key}']} {cells[f'max_prb_utilization_{key}']:.1%}"
             for key, label in (("ul", "uplink"), ("dl", "downlink"))]
    sched = cells.get("uplink_scheduler")
    named = f", uplink scheduler {sched}" if sched else ""
    where = "; every cell in cells.parquet" if table else ""
    # (the devices' own, background traffic apart: an AI-RAN planner's review read the means
    # as the cells' whole load beside the background's share)
    out.print(f"radio (the devices' PRBs used per uplink / downlink slot, {cells['count']:,} "
              f"cells{named}"
              f"{where}): " + "; ".join(parts + [background_text(cells)]), markup=False,
              soft_wrap=True)
    radio = devices_radio_text(cells.get("devices_radio") or {})
    if radio:
        out.print(radio, markup=False, soft_wrap=True)
    for line in fleets_radio_text(fleets or {}):
        out.print(line, markup=False, soft_wrap=True)


def fleets_radio_text(fleets: dict[str, Any]) -> list[str]:
    """One line per fleet on its devices' radio, p5 / p50 / p95 (summary.json's
    ``fleets.<fleet>.radio``), where more than one fleet has it (a drone maker's review: fleets
    at 30, 60, 100 and 150 m read as one pooled line)."""
    have = {n: f["radio"] for n, f in fleets.items() if f.get("radio")}
    if len(have) < 2:
        return []
    out = []
    for name, figures in have.items():
        parts = [f"{label} {v}{unit}" for label, v, unit in (
            ("downlink SINR", _three(figures, "sinr_dl_db", "{:.1f}"), " dB"),
            ("uplink SINR per PRB", _three(figures, "sinr_ul_db", "{:.1f}"), " dB"),
            ("uplink rate alone on its cell", _three(figures, "ul_rate_full_cell_mbps",
                                                     "{:.3g}"), " Mbit/s"),
            ("downlink rate alone", _three(figures, "dl_rate_full_cell_mbps", "{:.3g}"),
             " Mbit/s"),
        ) if v is not None]
        below = fleets[name].get("below_qout")
        if below is not None:  # (its serving cell's SSB under handover.qout_db)
            parts.append(f"{int(below):,} below Qout")
        if parts:
            out.append(f"  fleet {name} ({int(fleets[name].get('devices') or 0):,} devices), "
                       "p5 / p50 / p95: " + "; ".join(parts))
    return out


def _three(figures: dict[str, Any], col: str, fmt: str) -> str | None:
    """``figures[col]``'s p5 / p50 / p95 as text; None where one is missing."""
    p = figures.get(col) or {}
    if any(p.get(k) is None for k in ("p5", "p50", "p95")):
        return None
    return " / ".join(fmt.format(p[k]) for k in ("p5", "p50", "p95"))


def _site_busy(site: dict[str, Any]) -> float:
    """How busy a site's GPUs were, AI and L1 together, for ranking the busiest (an operator's
    energy planner: under ai_ran a site whose L1 took 93% of its GPU and missed slots ranked
    last, by its AI utilization of 0%)."""
    ai = float(site.get("gpu_utilization") or 0.0)
    l1 = float((site.get("ai_ran") or {}).get("mean_l1_share") or 0.0)
    return l1 + (1.0 - l1) * ai  # (AI utilization: a share of what the L1 leaves)


def devices_radio_text(figures: dict[str, Any]) -> str | None:
    """One line on the devices' radio at the run's end, p5 / p50 / p95 over them (an operator's
    planner: the cell edge's SINR and rate were only in devices.parquet); None without it."""
    def three(col: str, fmt: str) -> str | None:
        return _three(figures, col, fmt)

    parts = [f"{label} {v}{unit}" for label, v, unit in (
        ("downlink SINR (every neighbour transmitting)", three("sinr_dl_db", "{:.1f}"), " dB"),
        ("uplink SINR per PRB (at its power control's power)", three("sinr_ul_db", "{:.1f}"),
         " dB"),
        # (a lecturer's lab: 19 dB per PRB and 76 Mbit/s, 8.4 dB and 0.37: far out a UE's
        # whole power spread over the cell's PRBs sets the rate, not the per-PRB SINR)
        ("uplink rate alone on its cell (at its power control's power on every free PRB, at "
         "most its full power spread over the PRBs it can use: power-limited far out)",
         three("ul_rate_full_cell_mbps", "{:.3g}"), " Mbit/s"),
        ("downlink rate alone on its cell (its SE at the cell's interference at the end, every "
         "free PRB, the downlink's share of the slots)",
         three("dl_rate_full_cell_mbps", "{:.3g}"), " Mbit/s"),
    ) if v is not None]
    if not parts:
        return None
    return ("devices' radio at the end of the run, p5 / p50 / p95 (p5: the cell edge; each "
            "device in devices.parquet): " + "; ".join(parts))


def background_text(cells: dict[str, Any]) -> str:
    """What else the cells carried: the background traffic's mean share of each direction's
    PRBs, or that there was none (an operator's planner: a macro network without its handsets'
    load reads as an empty network, unsaid)."""
    ul = cells.get("background_share_ul") or 0.0
    dl = cells.get("background_share_dl") or 0.0
    if ul <= 0.0 and dl <= 0.0:
        return ("no background traffic (the cells carry this scenario's devices alone; "
                "ai_ran.traffic adds a day's handset load)")
    return (f"besides them, background traffic took {ul:.1%} of the uplink PRBs, {dl:.1%} of "
            "the downlink's")


def _energy(j: float) -> str:
    from airan.metrics.site_energy import energy_text

    return energy_text(j)


def _print_devices_line(fleets: dict[str, Any], counted_all: bool = True) -> None:
    """One line on the fleets' energy: per request above the idle power, the mean power and,
    where a battery is given, its life (docs/model.md, "device energy"); where a fifth or more
    of a fleet's requests got no answer (``counted_all``: no warm-up, whose requests the
    energy counts and the outcomes not), the energy per answered one beside it."""
    from airan.metrics.site_energy import sig

    parts = []
    for name, f in fleets.items():
        if f.get("energy_per_request_j") is None or f.get("mean_power_w") is None:
            continue
        life = f.get("battery_life_h")
        drx_share = f.get("drx_share")
        answered = int(f.get("met") or 0) + int(f.get("late") or 0)
        made = int(f.get("requests") or 0)
        # (a robot maker's review: an overloaded Thor's 21.5 J per request was half of the
        # 44 J each VLA it computed cost, its dropped requests in the count)
        per_answer = (f" ({_energy(f['energy_per_request_j'] * made / answered)} per answered "
                      f"request, {answered:,} of {made:,})"
                      if counted_all and 0 < answered <= 0.8 * made else "")
        split = f.get("power_breakdown_w") or {}
        # (what drew it: a headset's 3.63 W was 3 W of an idle CPU, an XR maker's review)
        drew = (" (" + ", ".join(f"{k} {sig(split[k])}" for k in ("radio", "monitoring",
                                                                   "compute", "idle")
                                 if k in split) + ")") if split else ""
        parts.append(f"{name} {_energy(f['energy_per_request_j'])}{per_answer}, "
                     f"{f['mean_power_w']:.3g} W"
                     + (f", {drx_share:.0%} in DRX" if drx_share is not None else "")
                     + (f", {life:.3g} h" if life is not None else "") + drew)
    # (a drone maker's review: a 2.8 ms YOLOv8n on a Jetson at its whole 60 W MAXN budget read
    # as a measurement; a fleet's engines' active_w sets what it draws)
    on_board = any(f.get("on_board_busy") for f in fleets.values())
    if parts:
        # (an operator's energy planner: a camera whose CPU runs no model drew its 3 W idle
        # under "AI and radio only")
        out.print("device energy, radio and on-board compute (its idle draw included), not "
                  "motors (per request above idle, mean power, time in DRX where set, battery "
                  "life where given, with the fleet's base_power_w, and what drew the mean "
                  "power, W"
                  + ("; on board at the accelerator's TDP while it computes, an upper bound "
                     "unless the fleet's engines give active_w" if on_board else "") + "): "
                  + "; ".join(parts), markup=False,
                  soft_wrap=True)
    inside = [f"{name} {f['penetration']} {f['penetration_db']:.1f} dB"
              for name, f in fleets.items() if f.get("penetration")]
    if inside:
        out.print("inside buildings or cars (TR 38.901 7.4.3, mean loss on every link): "
                  + "; ".join(inside), markup=False, soft_wrap=True)


@app.command()
def report(
    folder: Path = typer.Argument(
        ..., help="A run folder (from `airan run`), a comparison folder (from `airan compare`) "
        "or a sweep folder (from `airan sweep`)."
    ),
) -> None:
    """Rebuild FOLDER/report.html and its figures (PNG and SVG in FOLDER/figures)."""
    with _user_errors():
        from airan.errors import InputError
        from airan.report.compare import build_comparison_report, is_comparison
        from airan.report.html import build_report
        from airan.report.rundir import folder_kind
        from airan.report.sweep import build_sweep_report

        t0 = time.perf_counter()
        kind = folder_kind(folder)
        # a comparison.json of the user's in a run folder does not make it a comparison; one
        # that is no run's and cannot be read gets the comparison's own message
        try:
            if kind == "comparison" or (kind is None and folder.is_dir()
                                        and is_comparison(folder)):
                path = build_comparison_report(folder)
            elif kind == "sweep":
                path = build_sweep_report(folder)
            else:
                path = build_report(folder).path
        except OSError as exc:  # a read-only folder, a disk full
            where = f" ('{exc.filename}')" if exc.filename else ""
            raise InputError(f"cannot write the report{where}: {exc.strerror or exc}",
                             file=str(folder)) from None
    out.print(f"wrote {path} ({time.perf_counter() - t0:.1f} s)", markup=False, soft_wrap=True)


DEFAULT_POLICIES = "nearest-edge,least-loaded,deadline-aware"


@app.command()
def compare(
    scenario: str = typer.Argument(
        DEFAULT_SCENARIO, help="A built-in scenario name (see `airan scenarios`) or a YAML path."
    ),
    policy_options: list[str] | None = typer.Option(
        None, "--policies", "-p", help=policy_help(
            "Placement policies, comma-separated or the option repeated (-p a -p b; default: "
            f"{DEFAULT_POLICIES})")
    ),
    seeds: int = typer.Option(5, "--seeds", "-n", help="Runs per policy, on consecutive seeds."),
    seed: int | None = typer.Option(
        None, "--seed", "-s", help="First seed (default: the scenario's)."
    ),
    duration: float | None = typer.Option(
        None, "--duration", "-d", help="Simulated seconds per run (default: the scenario's)."
    ),
    fleet_scale: float = typer.Option(
        1.0, "--fleet-scale", help="Multiply every fleet's device count by this factor."
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: runs/<scenario>-compare, and "
        "-x<scale> with a --fleet-scale other than 1)."
    ),
    warmup: float | None = typer.Option(
        None, "--warmup", help="Seconds of each run whose requests count in no figure, while "
        "the queues fill from empty (default: the scenario's engine.warmup_s, 0)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 4 when a policy failed in a run (the others are still "
        "compared and written): for pipelines."
    ),
) -> None:
    """Run each policy on each seed; write comparison.json, one summary per run (runs/) and a
    report.html setting the policies side by side (means and 95% confidence intervals)."""
    # every -p given counts (a repeated option kept only its last value: a silent one-policy run)
    policies = ",".join(policy_options) if policy_options else DEFAULT_POLICIES
    with _user_errors():
        names = _check_compare_options(policies, seeds)

        from airan.api import scale_fleets
        from airan.report.compare import run_comparison
        from airan.scenario import load_scenario

        # (the comparison's scenario.yaml keeps the warm-up: a rerun has it)
        sc = with_warmup(load_scenario(scenario), warmup, duration)
        given = _given_options(seed=seed, duration=duration, fleet_scale=fleet_scale,
                               warmup=warmup)
        given["policies"] = given["policy"] = "--policies"
        given["seeds"] = "--seeds"
        with _scenario_errors(scenario, given):
            scale_fleets(sc, fleet_scale)  # a scale that leaves no device, or far too many
        if fleet_scale != 1.0:
            from airan.api import fleet_scale_warnings
            from airan.console import _scenario_label

            for line in fleet_scale_warnings(sc, fleet_scale, label=_scenario_label(scenario)):
                err.print(f"warning: {line}", markup=False, soft_wrap=True)
            # (its --policies run, not the file's: only a scaled run's counts to say)
            _warn_run_folder_file(scenario, "compare", fleet_scale)
        if out_dir is None:  # a scaled comparison does not overwrite the unscaled one
            out_dir = Path("runs") / _safe_name(
                f"{run_label(scenario, sc.name)}-compare{scale_suffix(fleet_scale)}")
        from airan.report.compare import COMPARISON

        _check_out_dir(out_dir, COMPARISON)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"option '--out': cannot create folder '{out_dir}': {exc.strerror or exc}")
        given_names = [p.strip() for p in split_policies(policies) if p.strip()]
        twice = sorted({n for n in given_names if given_names.count(n) > 1})
        if twice:  # the options are good: a note, before the runs
            err.print(f"note: --policies names {', '.join(twice)} more than once; each runs "
                      "once", markup=False, soft_wrap=True)
        total = len(names) * seeds
        load_kernel()
        with Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            TextColumn("{task.fields[run]}", markup=False),
            TimeElapsedColumn(),
            console=err,
            transient=True, disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(sc.name, total=total, run="")

            def progress(done: int, n: int, policy: str, run_seed: int, frac: float) -> None:
                label = f"run {min(done + 1, n)}/{n}: {policy}, seed {run_seed}"
                bar.update(task, completed=done + frac, run=label)

            try:
                with _scenario_errors(scenario, given):
                    result = run_comparison(sc, names, seeds=seeds, first_seed=seed,
                                            duration_s=duration, fleet_scale=fleet_scale,
                                            out=out_dir, progress=progress)
            except OSError as exc:
                _fail(f"option '--out': cannot write to '{out_dir}': {exc.strerror or exc}")
    _print_comparison(result.data)
    out.print(f"wrote {result.json_path}", markup=False, soft_wrap=True)
    n_runs = len(result.data["runs"])
    out.print(f"wrote {out_dir / 'runs'} ("
              + ("1 run summary" if n_runs == 1 else f"{n_runs} run summaries") + ")",
              markup=False, soft_wrap=True)
    out.print(f"wrote {result.report_path}", markup=False, soft_wrap=True)
    if strict and result.data.get("failed_policies"):  # (a researcher's review: exit 0 read
        raise typer.Exit(4)  # as all done in a pipeline)


def split_policies(text: str) -> list[str]:
    """``--policies`` split at its commas outside parentheses, so that a policy's parameters
    stay whole ('mypol:fn(a=1, b=2),cloud': two policies)."""
    parts, depth, start = [], 0, 0
    quote = ""  # (brackets and commas inside a string value count for nothing: a diff review)
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote and text[i - 1] != "\\" else quote
            continue
        if ch in "'\"":
            quote = ch
            continue
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth <= 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _check_compare_options(policies: str, seeds: int) -> list[str]:
    from airan.policy import canonical_policy, is_known_policy, unknown_policy

    names = [canonical_policy(p.strip()) for p in split_policies(policies) if p.strip()]
    if not names:
        raise _option_error("--policies", "give at least one policy", policies)
    for name in names:
        if not is_known_policy(name):
            reason, choices = unknown_policy(name)
            raise _option_error("--policies", reason, name, choices)
    if seeds < 1:
        raise _option_error("--seeds", "must be at least 1", seeds)
    return list(dict.fromkeys(names))


def _print_comparison(d: dict[str, Any]) -> None:
    from airan.report.compare import (
        ENERGY_NOTE,
        FLEET_SHARE,
        SITE_ENERGY_NOTE,
        _fmt_ci,
        comparison_bottlenecks,
        comparison_energy,
        comparison_verdicts,
        energy_text,
        fleet_comparison,
        sig3,
        site_energy_rows,
    )

    for name, why in (d.get("failed_policies") or {}).items():
        err.print(f"warning: policy {name!r} failed ({why}); the others are compared without "
                  "it", markup=False, soft_wrap=True)
    seeds = d["seeds"]
    out.print(Text.assemble(
        (str(d["scenario"]), "bold"), f"  {len(d['policies'])} "
        f"{'policy' if len(d['policies']) == 1 else 'policies'} x {len(seeds)} "
        f"{'seed' if len(seeds) == 1 else 'seeds'} "
        f"({', '.join(map(str, seeds))}), {d['duration_s']:.3g} s simulated each, "
        f"the runs {d['wall_s']:.2f} s of wall time"))
    table = _table("Policies side by side: mean over seeds [95% CI]")
    table.add_column("service", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    # (a product manager's review: the run's p50 counts the answered alone, these the
    # unanswered as infinitely late, under the same name)
    _columns(table, "hit ratio", "hit, overdue missed", "target", "p50, unanswered late (ms)",
             "p99, unanswered late (ms)")

    def ci(st: dict[str, Any], fmt: str) -> str:
        return _fmt_ci(st, fmt.format, (-math.inf, math.inf))

    def rows(table: Any, data: dict[str, Any]) -> None:
        for svc, meta in data["services"].items():
            for k, p in enumerate(data["policies"]):
                a = data["aggregate"][p][svc]
                with_overdue = a.get("hit_ratio_with_overdue") or {"mean": None}
                table.add_row(Text(svc) if k == 0 else "", Text(p),
                              ci(a["hit_ratio"], "{:.3f}"), ci(with_overdue, "{:.3f}"),
                              _num(meta.get("target_hit_ratio"), "{:g}"),
                              ci(a["p50_ms"], "{:.1f}"), ci(a["p99_ms"], "{:.1f}"),
                              end_section=k == len(data["policies"]) - 1)

    rows(table, d)
    _print_table(table)
    fleets = fleet_comparison(d)  # where several fleets send a service: each one's share
    if fleets["services"]:
        table = _table("Fleets sharing a service: mean over seeds [95% CI]")
        table.add_column(Text("service[fleet]"), no_wrap=True)  # (not rich markup)
        table.add_column("policy", no_wrap=True)
        _columns(table, "hit ratio", "hit, overdue missed", "target",
                 "p50, unanswered late (ms)", "p99, unanswered late (ms)")
        rows(table, fleets)
        _print_table(table)
    out.print("p50 and p99 count the requests that got no answer (dropped, or past their "
              "deadline at the end) as infinitely late: unbounded where more than 1% (p99), "
              "50% (p50) got none",
              markup=False, soft_wrap=True)
    # the other half of on board or offload: what each policy costs the devices (a robot
    # maker's review: the energy gap lay in the raw run summaries alone)
    energy = comparison_energy(d)
    names = [f for f in energy.get(d["policies"][0], {})
             if all(f in energy.get(p, {}) for p in d["policies"])]
    if names:
        battery = any(energy[p][f].get("battery_life_h") for p in d["policies"] for f in names)
        table = _table("Devices' energy: mean over seeds [95% CI]")
        table.add_column("fleet", no_wrap=True)
        table.add_column("policy", no_wrap=True)
        _columns(table, "per request (mJ)", "mean power (W)",
                 *(("battery life (h)",) if battery else ()))
        for f in names:
            for k, p in enumerate(d["policies"]):
                e = energy[p][f]
                cells = [energy_text(e["energy_per_request_j"],
                                     lambda v: sig3(None if v is None else v * 1e3),
                                     len(seeds), missing="no requests"),
                         energy_text(e["mean_power_w"], sig3, len(seeds))]
                if battery:
                    cells.append(energy_text(e.get("battery_life_h"), sig3, len(seeds)))
                table.add_row(Text(f) if k == 0 else "", Text(p), *cells,
                              end_section=k == len(d["policies"]) - 1)
        _print_table(table)
        out.print(ENERGY_NOTE, markup=False, soft_wrap=True)
    site_rows = site_energy_rows(d)
    if site_rows:  # (an operator's energy planner: the devices' energy alone was compared)
        table = _table("Compute sites' GPU energy: mean over seeds [95% CI]")
        table.add_column("policy", no_wrap=True)
        _columns(table, "mean power (kW)", "kWh a day at it", "per request served (J)",
                 "sites that served nothing (W)")
        for r in site_rows:
            table.add_row(Text(r["policy"]), r["power_text"], r["day_text"],
                          r["per_served_text"], r["unused_text"])
        _print_table(table)
        out.print(SITE_ENERGY_NOTE, markup=False, soft_wrap=True)
    if len(seeds) >= 2:
        out.print("95% CI: Student t over seeds, clipped to the values a metric can take "
                  "(latencies at 0 ms, hit ratios to [0, 1], energies at 0)", markup=False,
                  soft_wrap=True)
    if len(seeds) < 2:
        out.print("one seed: confidence intervals are undefined (use --seeds 3 or more)",
                  markup=False)
    for svc, text in comparison_verdicts(d).items():
        out.print(f"{svc}: {text}", markup=False, soft_wrap=True)
    for svc, text in comparison_verdicts(fleets, of=FLEET_SHARE).items():
        out.print(f"{svc}: {text}", markup=False, soft_wrap=True)
    for line in comparison_bottlenecks(d):
        out.print(line, markup=False, soft_wrap=True, style="yellow")


@app.command()
def trace(
    folder: Path = typer.Argument(..., help="A run folder (from `airan run`)."),
    out_file: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default: FOLDER/trace.json)."
    ),
    limit: int = typer.Option(2000, "--limit", "-n",
                              help="At most this many requests, spread evenly over the window "
                              "(from a sampled trace, each row weighed by the requests it "
                              "stands for: fewer rows than this where picks coincide; every "
                              "row where the trace holds no more)."),
    from_s: float | None = typer.Option(
        None, "--from", help="Only requests created at or after this simulated second."
    ),
    to_s: float | None = typer.Option(
        None, "--to", help="Only requests created before this simulated second."
    ),
) -> None:
    """Export a Chrome / Perfetto trace (JSON) of a sample of the run's requests: each request's
    uplink, transport, queue, compute and downlink on a timeline."""
    with _user_errors():
        if limit < 1:
            raise _option_error("--limit", "must be at least 1", limit)
        for option, value in (("--from", from_s), ("--to", to_s)):
            if value is not None and not (math.isfinite(value) and value >= 0.0):
                raise _option_error(option, "must be a simulated second, 0 or later (a finite "
                                    "number)", value)
        if from_s is not None and to_s is not None and not to_s > from_s:
            raise _option_error("--to", f"must be after --from ({from_s:g})", to_s)
        if out_file is not None:
            if out_file.is_dir():
                raise _option_error("--out", "is a folder, not a file", str(out_file))
            check_writable(out_file, "--out", is_file=True)
        from airan.report.trace import export_trace

        result = export_trace(folder, out_file, limit=limit, from_s=from_s, to_s=to_s)
    created = f" created in {result.window}" if result.window else ""
    out.print(f"wrote {result.path} ({result.requests:,} of {result.traced:,} traced requests"
              f"{created}, "
              f"{result.dropped:,} dropped; {result.events:,} events)", markup=False,
              soft_wrap=True)
    out.print("open it at https://ui.perfetto.dev (Open trace file) or in Chrome at "
              "chrome://tracing (Load)", markup=False, soft_wrap=True)


@app.command()
def validate(
    file: str = typer.Argument(..., help="A scenario YAML file (or a built-in name)."),
) -> None:
    """Check a scenario file and describe it; exit 2 with one error line if it is invalid."""
    with _user_errors():
        from airan.errors import InputError
        from airan.policy import resolve_policy
        from airan.scenario import load_scenario

        sc = load_scenario(file)
        if ":" in sc.policy:  # a user's policy: import it, as a run would
            try:
                resolve_policy(sc.policy)
            except InputError as exc:  # the file's policy field, as `airan run` names it
                raise (exc.with_file(file) if not exc.file and Path(file).is_file()
                       else exc) from None
    n_cell_sites = len(sc.cell_site_names())
    cells = len(sc.cell_names())  # (listed, imported from a site list and generated)
    n_sites = len(sc.compute_sites)
    if sc.generated_compute_sites is not None:
        n_sites += len(sc.generated_host_indices())
    gpus = sum(g.count for c in sc.compute_sites for g in c.gpus)
    if sc.generated_compute_sites is not None:
        g = sc.generated_compute_sites
        gpus += (n_sites - len(sc.compute_sites)) * sum(x.count for x in g.gpus)
    devices = sum(f.count for f in sc.fleets)
    # user text, printed as written (brackets too: no markup)
    out.print(Text.assemble((sc.name, "bold"), f": {sc.description.strip()}" if sc.description
                            else ""))
    out.print(f"  cell sites {n_cell_sites:,} ({cells:,} cells), compute sites {n_sites:,}"
              + (f" ({gpus:,} GPU{'s' if gpus != 1 else ''})" if gpus else "")
              + f", fleets {len(sc.fleets)}, devices {devices:,}, services {len(sc.services)} "
              f"({', '.join(v.name for v in sc.services)})"
              + (f", models of its own {len(sc.models)} ({', '.join(sc.models)})"
                 if sc.models else ""), markup=False, soft_wrap=True)
    out.print(f"  policy {sc.policy}, {sc.duration_s:g} s, seed {sc.seed}", markup=False)
    if sc.cell_sites_file is not None:  # (an operator planner's review: the frame its metres
        # are in was never said, and moves with the list's median as rows are added)
        from airan.scenario.schema import imported_sites

        listed = imported_sites(sc.cell_sites_file)
        given = sc.cell_sites_file.origin_lat is not None
        columns = [c for c in ("height", "azimuth", "downtilt")
                   if getattr(sc.cell_sites_file, c) is not None]
        out.print(f"  site list {sc.cell_sites_file.path}: {len(listed):,} sites kept, "
                  f"{len(listed.outliers):,} skipped; metres east and north of "
                  f"({listed.origin_lat:.6f}, {listed.origin_lon:.6f}), "
                  + ("origin_lat/origin_lon" if given else
                     "the kept sites' median point (origin_lat/origin_lon fix it)")
                  + (f"; each site's {', '.join(columns)} from the file" if columns else
                     "; every site at the defaults' height, bearings and tilt (columns height, "
                     "azimuth, downtilt set them)"), markup=False, soft_wrap=True)
    out.print(_radio_echo(sc), markup=False, soft_wrap=True)
    heights = _heights_echo(sc)
    if heights:
        out.print(heights, markup=False, soft_wrap=True)
    if sc.ai_ran.mode != "none":
        out.print(_ai_ran_echo(sc), markup=False, soft_wrap=True)
    for line in _on_board_echo(sc):
        out.print(line, markup=False, soft_wrap=True)
    from airan.console import _scenario_label
    from airan.scenario.load import offered_requests, scenario_warnings

    # what each service offers, so a rate or a size in the wrong unit shows before a run
    for v, (n_dev, per_s) in offered_requests(sc).items():
        svc = next(x for x in sc.services if x.name == v)
        out.print(f"  {v}: {n_dev:,.0f} devices x {svc.rate_hz:g} Hz = {per_s:,.6g} requests/s "
                  f"({per_s * sc.duration_s:,.0f} in {sc.duration_s:g} s), uplink "
                  f"{_three_figures(per_s * svc.ul_mean_kb * 8e-3)} Mbit/s offered "
                  f"({_size_said(svc.ul_kb, svc.ul_kb_spread)}), downlink "
                  f"{_three_figures(per_s * svc.dl_mean_kb * 8e-3)} Mbit/s"
                  + (f" ({_size_said(svc.dl_kb, svc.dl_kb_spread)})" if svc.dl_kb_spread else "")
                  + f", deadline "
                  f"{svc.deadline_ms:g} ms, model {svc.model}"
                  + _priorities_said(svc.ul_priority, svc.compute_priority)
                  + _qos_said(svc.five_qi, svc.qos_priority_level),
                  markup=False, soft_wrap=True)

    warnings = scenario_warnings(sc, label=_scenario_label(file))
    warnings += _coverage_warnings(sc, _scenario_label(file))
    warnings += _uplink_cell_warnings(sc, _scenario_label(file))
    warnings += _policy_site_warnings(sc, _scenario_label(file))
    warnings += _other_seeds_warnings(sc, _scenario_label(file))
    for line in warnings:
        err.print(f"warning: {line}", markup=False, soft_wrap=True)
    out.print("[green]valid[/green]" + (f" ({len(warnings)} warning"
                                        f"{'s' if len(warnings) > 1 else ''})" if warnings else ""))


def _on_board_echo(sc: Any) -> list[str]:
    """validate's lines on what each fleet with an accelerator and several services (or
    engines of its own) runs on board, engine by engine, at batch 1 (each service's mean
    time): each engine runs one request at a time, so a service shares its wait with the
    others on its engine."""
    from airan.scenario.load import device_times_s

    # the mean time (a review: a lognormal's least, 0, showed a 210 ms VLM on a drone's Orin
    # as "0 ms", free, where its every run was past the deadline)
    times = device_times_s(sc, mean=True)
    lines = []
    for f in sc.fleets:
        if not f.count or (not f.engines and (f.accelerator == "none" or len(f.services) < 2)):
            continue
        own = {v: e for e, spec in f.engines.items() for v in spec.services}
        engines: dict[str, list[str]] = {"main": []}
        deadline_ms = {x.name: x.deadline_ms for x in sc.services}
        for v in f.services:
            t = times.get((f.name, v))
            if t is not None and math.isfinite(t):
                past = " (past its deadline)" if t * 1e3 > deadline_ms[v] else ""
                engines.setdefault(own.get(v, "main"), []).append(
                    f"{v} {_three_figures(t * 1e3)} ms{past}")
        acc = f.accelerator if f.accelerator != "none" else "its CPU"
        said = [f"{e}: {', '.join(vs)}" for e, vs in engines.items() if vs]
        if said:
            lines.append(f"  on board {f.name} ({acc}, mean times, one request at a time per "
                         "engine): " + "; ".join(said))
    return lines


def _heights_echo(sc: Any) -> str | None:
    """validate's line on the devices' heights where a fleet may fly (a drone maker's review:
    whether a fleet counted as aerial was said nowhere, and the drone class's default, 22.5 m,
    is the ground formulas' top): each fleet's height (a waypoint fleet's, its paths') and the
    path loss it takes under UMa, UMi and RMa, TR 38.901's ground UEs up to 22.5 m (RMa 10 m)
    and TR 36.777's aerial ones above; None where no fleet flies or no aerial model applies."""
    from airan.radio.pathloss import aerial_above_m

    env = sc.radio.environment
    above = aerial_above_m(env)
    if sc.radio.model != "nr" or above is None:
        return None
    top = above
    parts, flies = [], False
    shared_control = []  # aerial fleets under the cells' power control, as the ground's
    for f in sc.fleets:
        if not f.count:
            continue
        lo = hi = float(f.height_m)
        at_points = getattr(f.area, "heights_m", None)
        if at_points:
            lo, hi = float(min(at_points)), float(max(at_points))
        m = f.mobility
        if m is not None and m.model == "waypoints":
            if m.paths:
                zs = [p[2] for path in m.paths for p in path]
                lo, hi = float(min(zs)), float(max(zs))
            elif m.generate is not None:
                lo, hi = (float(x) for x in m.generate.altitude_m)
        drone = f.device_class == "drone"
        flies |= hi > top or drone
        span = f"{lo:g} m" if lo == hi else f"{lo:g}-{hi:g} m"
        name = {"uma": "UMa", "umi": "UMi", "rma": "RMa"}[env]
        kind = (f"aerial, TR 36.777 {name}-AV" if lo > top else
                "ground and aerial" if hi > top else
                f"ground, TR 38.901 (at {top:g} m, the {name} ground formulas' top; a height "
                "above it flies as TR 36.777's aerial UEs)" if drone and hi == top
                else "ground, TR 38.901")
        parts.append(f"{f.name} {span} ({kind})")
        if hi > top and f.ul_p0_dbm is None and f.ul_alpha is None:
            shared_control.append(f.name)
    if not flies:
        return None
    aerial = any(p.endswith("-AV)") or "ground and aerial" in p for p in parts)
    from airan.scenario.load import _cell_site_antennas

    sectored = bool((_cell_site_antennas(sc)[2] == 3).any())  # (omni cells: 0 dBi, no element)
    column = ("" if not aerial or sc.radio.gnb_vertical_elements > 1 or not sectored else
              "; the cells radiate from one 8 dBi element (radio.gnb_vertical_elements 1): "
              "a drone's downlink SINR rests on it, as a column's narrower, downtilted beam "
              "serves the ground better and the sky worse (TR 38.901 7.8.1's 10 elements: "
              "set it for an aerial study, with a downtilt_deg that puts the beam on the cell "
              "edge: its 12 deg is for sites 500 m apart)")
    # (a drone operator's review: 60 drones at 100 m took 150 ground handsets' median uplink
    # SINR from 14.0 to 1.0 dB, and neither validate nor the run named the cause or the fix)
    one = len(shared_control) == 1
    control = ("" if not shared_control else
               f"; fleet{'' if one else 's'} {', '.join(shared_control)} send{'s' if one else ''} "
               f"under the cells' power control (P0 {sc.radio.ul_p0_dbm:g} dBm, alpha "
               f"{sc.radio.ul_alpha:g}) as the ground does: from the sky their uploads reach "
               "many cells in LOS and raise the uplink interference every cell's devices hear "
               "(TR 36.777); a fleet's own ul_p0_dbm or ul_alpha, as the gNB sets them per UE, "
               "lowers it")
    return f"  heights: {'; '.join(parts)}{column}{control}"


def _ai_ran_echo(sc: Any) -> str:
    """validate's AI-and-RAN line: which compute sites run which cells' L1, a pooled DU's
    (``hosts_l1_of``) by name with its cell sites and its longest fronthaul."""
    from collections import Counter

    from airan.scenario.load import fronthaul_delays_s, l1_hosts

    cells = Counter(c.split("/")[0] for c in sc.cell_names())
    hosted: dict[str, list[str]] = {}
    for cell_site, (site, _) in l1_hosts(sc).items():
        hosted.setdefault(site, []).append(cell_site)
    n_cells = sum(cells[c] for names in hosted.values() for c in names)
    text = (f"  ai_ran {sc.ai_ran.mode}: {n_cells:,} of {sum(cells.values()):,} cells run their "
            f"L1 on the GPUs of {len(hosted):,} compute site{'s' if len(hosted) != 1 else ''}")
    pools = {c.name for c in sc.compute_sites if c.hosts_l1_of}
    fronthaul = fronthaul_delays_s(sc)
    parts = []
    for site in sorted(pools & set(hosted)):
        longest = max(d for (s, _), d in fronthaul.items() if s == site)
        parts.append(f"{site}: {sum(cells[c] for c in hosted[site])} cells of "
                     f"{len(hosted[site])} cell sites, fronthaul up to {longest * 1e6:.0f} us")
    own = len(set(hosted) - pools)
    if parts and own:
        parts.append(f"{own:,} other compute site{'s' if own != 1 else ''} "
                     f"{'each' if own != 1 else ''} its own cell site's".replace("  ", " "))
    return text + (f" ({'; '.join(parts)})" if parts else "")


#: what the latency table's parts are, under it (a lecturer's lab: ul_wait, most of a
#: detection's 11 ms, was explained only in a README table cell)
LATENCY_GLOSSARY = (
    "ul_wait: the request's wait for its uplink slot (scheduling request, grant, next U "
    "slot, data ahead of it in the device's buffer); ul_air: its slots on the air, HARQ "
    "resends too; ul_transport, dl_transport: the links between its cell and the site; queue: "
    "waiting to compute, a batch's fill too; compute: its batch's run; dl_air: the answer's "
    "wait for and time in downlink slots")


#: validate places the devices and checks their coverage up to this many devices (city's
#: 1,000 in 0.03 s; metro's 100,000 take seconds: its run says it)
COVERAGE_CHECK_DEVICES = 50_000


def _coverage_warnings(sc: Any, label: str) -> list[str]:
    """Fleets with devices out of coverage where the scenario's seed places them (the engine's
    own test, World.out_of_coverage, without a run): a lecturer's cameras 5 km from their one
    cell validated silently, and the run dropped every request. Static fleets only (a moving
    fleet's model starts its devices elsewhere); none past COVERAGE_CHECK_DEVICES devices."""
    from airan.errors import InputError

    if sc.radio.model != "nr" or not 0 < sum(f.count for f in sc.fleets) \
            <= COVERAGE_CHECK_DEVICES:
        return []
    import numpy as np

    from airan.engine.world import build_world

    w = build_world(sc, sc.seed)
    both, up = w.out_of_coverage(), w.out_of_coverage("ul")
    out = []
    for fi, f in enumerate(sc.fleets):
        if f.mobility is not None and f.mobility.model != "static":
            continue
        mine = w.dev_fleet == fi
        n, n_up = int(np.count_nonzero(both & mine)), int(np.count_nonzero(up & mine))
        if n:
            out.append(str(InputError(
                f"{n:,} of its {int(mine.sum()):,} devices {'is' if n == 1 else 'are'} out of "
                f"coverage where seed {sc.seed} places {'it' if n == 1 else 'them'} ({n_up:,} "
                "on the uplink: their uploads drop; "
                f"{n - n_up:,} on the downlink only: their answers drop), their best cell's SNR "
                "at full power below radio.min_sinr_db: cells nearer them, or the fleet's area "
                "nearer the cells", file=label,
                field=f"fleets[{f.name}]" + (".area" if f.area is not None else ""))))
    return out + _qout_warnings(sc, w, label)


def _qout_warnings(sc: Any, w: Any, label: str) -> list[str]:
    """Static fleets with devices whose serving cell's SSB is below ``handover.qout_db`` where
    the scenario's seed places them (World's serving_ssb_sinr, as radio link monitoring hears
    it): a parked device is not monitored, so it is served as if in sync (a drone maker's
    review: a fleet hovering at 300 m, most of it below Qout, was served, where flying there it
    failed); none where ``qout_db`` is null."""
    from airan.engine.world import below_qout_per_fleet
    from airan.errors import InputError

    q = sc.handover.qout_db
    if q is None:
        return []
    import numpy as np

    from airan.report.cautions import PARKED_QOUT_SHARE

    # (the summary's own count, World.below_qout_per_fleet: one rule for both)
    below = below_qout_per_fleet(w, 10 ** (q / 10), sc.radio.ue_noise_figure_db)
    devices = np.bincount(w.dev_fleet, minlength=len(sc.fleets))
    out = []
    for fi, f in enumerate(sc.fleets):
        if below is None or f.mobility is not None and f.mobility.model != "static":
            continue
        n, of = int(below[fi]), int(devices[fi])
        if n > PARKED_QOUT_SHARE * of:  # (a cell edge's one or two: no warning)
            out.append(str(InputError(
                f"{n:,} of its {of:,} parked devices {'hears its' if n == 1 else 'hear their'} "
                "serving cell's SSB "
                f"below Qout ({q:g} dB, handover.qout_db) where seed {sc.seed} places them: "
                "not being monitored (radio link monitoring follows moving devices), they are "
                "served as if in sync, where a moving device there would go out of sync and "
                "fail (docs/model.md, Mobility)", file=label, field=f"fleets[{f.name}]")))
    return out


#: the built-in policies that place by site kind alone, whatever the load
FIXED_PLACEMENT = ("nearest-edge", "cloud")


def _policy_site_warnings(sc: Any, label: str) -> list[str]:
    """Under a policy of fixed placement (:data:`FIXED_PLACEMENT`, ``site:NAME``), a service
    whose model takes longer than its deadline at batch 1 on every GPU of a site the policy
    sends some cells' requests to, where a faster GPU or device elsewhere could meet it: none
    of those requests can (a mine planner's review: OpenVLA on the control room's L4s, 362 ms
    against 200, met none under nearest-edge beside eight idle H100s at the cloud, validate
    silent, as the scenario's fastest GPU met the deadline). The policy itself places a request
    of each service from each cell, every site up (on a world without devices: these policies
    read the cells alone), and the times are the engine's tables (a MIG instance's where
    ``ai_ran.mode: mig`` slices a site's GPUs; the stretch of ``dynamic`` is not counted)."""
    import numpy as np

    from airan.engine import Engine
    from airan.errors import InputError
    from airan.policy import resolve_policy
    from airan.policy.base import Batch, Snapshot
    from airan.policy.builtin import SITE_PREFIX

    sent = {name for f in sc.fleets if f.count > 0 for name in f.services}
    if not sent or not (sc.policy in FIXED_PLACEMENT or sc.policy.startswith(SITE_PREFIX)):
        return []
    bare = sc.model_copy(update={"fleets": [f.model_copy(update={"count": 0})
                                            for f in sc.fleets]})
    w = (eng := Engine(bare, duration_s=sc.duration_s)).world
    services = [v for v, name in enumerate(w.service_names) if name in sent]
    n_cells = len(w.cell_names)
    cell = np.tile(np.arange(n_cells, dtype=np.int64), len(services))
    svc = np.repeat(np.asarray(services, dtype=np.int64), n_cells)
    site = np.asarray(resolve_policy(sc.policy)(Snapshot(eng), Batch(
        time_s=np.zeros(len(cell)), device=np.zeros(len(cell), dtype=np.int64), service=svc,
        cell=cell)))
    # per service and site, the fastest of its GPUs at batch 1 (s)
    per_gpu = w.svc_time_s[np.asarray(w.svc_model)[:, None], np.asarray(w.gpu_type)[None, :], 1]
    at_site = np.minimum.reduceat(per_gpu, np.asarray(w.site_gpu_start), axis=1)
    gpu_site, gpu_type = np.asarray(w.gpu_site), np.asarray(w.gpu_type)

    def fastest_gpu(v: int, k: int) -> str:
        """The GPU type of site ``k`` that runs service ``v`` soonest at batch 1."""
        mine = gpu_site == k
        return str(w.gpu_type_names[int(gpu_type[mine][np.argmin(per_gpu[v, mine])])])

    out = []
    for v in services:
        spec = sc.services[v]
        deadline_s = spec.deadline_ms * 1e-3
        on_board = (np.asarray(w.local_time_s)[:, v].min() if spec.on_device
                    else np.inf)  # (inf for fleets that do not run it)
        fastest = min(float(at_site[v].min()), float(on_board))
        if not fastest < deadline_s:
            continue  # (no request can meet it anywhere: the deadline's own warning says so)
        mine = site[svc == v]
        used = np.unique(mine[mine >= 0])
        slow = [int(k) for k in used if at_site[v, k] > deadline_s]
        if not slow:
            continue
        cells = int(np.isin(mine, slow).sum())
        names = [w.site_names[k] for k in slow]
        each = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5
                                       else "")
        k = min(slow, key=lambda k: at_site[v, k])
        gpu = fastest_gpu(v, k)
        there = (f"{spec.model} takes {at_site[v, k] * 1e3:.3g} ms at batch 1 "
                 f"({'an' if gpu[0] in 'AEFHILMNORSX' else 'a'} {gpu}"
                 f"{', the fastest of those sites' if len(slow) > 1 else ''}), before any "
                 "radio or transport")
        whose = (f"every {spec.name} request" if cells == n_cells else
                 f"the {spec.name} requests of {cells:,} of {n_cells:,} cells")
        best = int(np.argmin(at_site[v]))
        where = ("the devices' own processors" if on_board < at_site[v, best] else
                 f"compute site {w.site_names[best]} ({fastest_gpu(v, best)})")
        out.append(str(InputError(
            f"policy {sc.policy!r} sends {whose} to {each}, where {there}: "
            f"none of them can meet the deadline; {where} would take {fastest * 1e3:.3g} ms "
            "(deadline-aware sends each request where its estimate is earliest; site:NAME "
            "sends them all to one site)", file=label,
            field=f"services[{spec.name}].deadline_ms", value=spec.deadline_ms)))
    return out


#: seeds after the scenario's own on which validate places static fleets too (each draws the
#: shadowing and LOS anew, and an area's positions): a device one seed covers, another may not
OTHER_SEEDS = 4
#: ... up to this many devices (each seed builds the world again: city's 1,000 in ~0.5 s)
OTHER_SEEDS_DEVICES = 5_000


def _other_seeds_warnings(sc: Any, label: str) -> list[str]:
    """Static fleets with devices out of coverage, or that cannot send their uploads even alone
    on their cell (:func:`_coverage_warnings`, :func:`_uplink_cell_warnings`), on the
    :data:`OTHER_SEEDS` seeds after the scenario's: the shadowing and LOS each seed draws move a
    device's SINR by several dB, so a point one seed covers another may not (a mine planner's
    review: a pole camera at a fixed point, clean on seed 1, met 16% on seed 2, validate
    reading seed 1 alone). A fleet at points names its points. Not where ``layout_seed`` fixes
    the positions, LOS and shadowing, nor past :data:`OTHER_SEEDS_DEVICES` devices in all."""
    from airan.errors import InputError

    static = [f.mobility is None or f.mobility.model == "static" for f in sc.fleets]
    n_static = sum(f.count for f, s in zip(sc.fleets, static, strict=True) if s)
    # (nothing a seed draws moves a fleet at points without shadowing and with a fixed LOS)
    drawn = sc.radio.shadowing or sc.radio.los == "model" or any(
        s and getattr(f.area, "positions_m", None) is None
        for f, s in zip(sc.fleets, static, strict=True))
    if (sc.radio.model != "nr" or sc.layout_seed is not None or not n_static or not drawn
            or sum(f.count for f in sc.fleets) > OTHER_SEEDS_DEVICES):
        return []
    import numpy as np

    from airan.engine import Engine
    from airan.engine.offered_air import offered_air

    load_kernel()
    seeds = range(sc.seed + 1, sc.seed + 1 + OTHER_SEEDS)
    bad: dict[int, dict[int, list[int]]] = {}  # fleet -> seed -> its devices' indices
    for seed in [sc.seed, *seeds]:
        eng = Engine(sc, seed=seed, duration_s=sc.duration_s)
        w = eng.world
        lost = w.out_of_coverage()
        if sc.policy != "local":  # (under local no upload goes over the air)
            lost = lost | offered_air(sc, eng).short
        first = np.searchsorted(w.dev_fleet, np.arange(len(sc.fleets)))
        for d in np.flatnonzero(lost):
            fi = int(w.dev_fleet[d])
            if static[fi]:
                bad.setdefault(fi, {}).setdefault(seed, []).append(int(d - first[fi]))
    out = []
    for fi, by_seed in bad.items():
        f = sc.fleets[fi]
        # (the scenario's seed: its own warnings say it) at points, the devices it keeps, lost
        # on another; in an area, whose positions each seed draws anew, more devices lost
        own = by_seed.pop(sc.seed, [])
        points = getattr(f.area, "positions_m", None)
        more = ({s: kept for s, d in by_seed.items() if (kept := sorted(set(d) - set(own)))}
                if points is not None else
                {s: d for s, d in by_seed.items() if len(d) > len(own)})
        if not more:
            continue
        each = "; ".join(f"seed {s}: {_devices_at(d, points)}" for s, d in more.items())
        out.append(str(InputError(
            f"on {len(more)} of seeds {seeds[0]}-{seeds[-1]} (each draws the shadowing"
            + (" and LOS" if sc.radio.los == "model" else "") + " anew"
            + (f"), devices that seed {sc.seed} keeps" if points is not None else
               f", and the devices' positions), more devices than on seed {sc.seed} "
               f"({len(own):,})")
            + " are out of coverage or cannot send their uploads even alone on their cell: "
            f"{each}; one seed's run is one draw of them "
            "(airan compare --seeds N runs several)", file=label,
            field=f"fleets[{f.name}]" + (".area" if f.area is not None else ""))))
    return out


def _devices_at(devices: list[int], points: Any) -> str:
    """How many of a fleet's ``devices`` (indices in the fleet), and, for a fleet at points
    (device i at point i mod n), the points they stand at: the first three with positions."""
    if points is None:
        return f"{len(devices):,}"
    at = sorted({i % len(points) for i in devices})
    named = ", ".join(f"{i} {[float(x) for x in points[i]]}" for i in at[:3]) + (
        f" and {len(at) - 3:,} more" if len(at) > 3 else "")
    return f"{len(devices):,} at point{'s' if len(at) > 1 else ''} {named}"


#: validate warns of a cell whose devices' uploads need more than this share of its uplink
#: PRB-slots (:func:`_uplink_cell_warnings`): more than it has
UPLINK_FULL = 1.0


def _uplink_cell_warnings(sc: Any, label: str) -> list[str]:
    """Cells whose devices offer more uploads than the cell's uplink carries at their own SINR,
    where the scenario's seed places them (a moving fleet at its start), by the uplink
    scheduler's own capacity rule (:func:`airan.engine.offered_air.offered_air`, which
    max-fleet's miss shares). Above 1, the uplink cannot carry them whatever the scheduler; a
    device whose uploads need more than it can send alone on every PRB it can use is named too
    (a drone maker's review: six drones' 15 Mbit/s video filled a sector's ~31 Mbit/s, and
    validate checked the offered load against every cell's peak spectral efficiency alone).
    At the start's interference; none past COVERAGE_CHECK_DEVICES devices or under
    ``local``."""
    from airan.errors import InputError

    if sc.radio.model != "nr" or sc.policy == "local" or not 0 < sum(
            f.count for f in sc.fleets) <= COVERAGE_CHECK_DEVICES:
        return []
    import numpy as np

    from airan.engine import Engine
    from airan.engine.offered_air import offered_air

    load_kernel()

    eng = Engine(sc, duration_s=sc.duration_s)
    w = eng.world
    air = offered_air(sc, eng)
    need, short = air.uplink, air.short
    over = [c for c in np.argsort(-need, kind="stable") if need[c] > UPLINK_FULL]
    out = []
    uplink_slots = "the TDD pattern's uplink slots" if sc.carrier.tdd_pattern else "every slot"
    if over:
        named = ", ".join(f"{w.cell_names[c]} {need[c]:.2f}x" for c in over[:5]) + (
            f" and {len(over) - 5:,} more" if len(over) > 5 else "")
        on_board = any(f.computes_on_board and f.accelerator != "none" for f in sc.fleets)
        out.append(str(InputError(
            f"{len(over):,} of {len(w.cell_names):,} cells' devices offer more uploads than "
            f"the cell's uplink carries at their own SINR where seed {sc.seed} places them: "
            f"{named} (the share of its uplink PRBs in {uplink_slots} they need, each device "
            "its uploads, rate_hz x the mean upload, on the fewest PRBs that carry them at the "
            "uplink power control's power)"
            + (", if every request goes over the air (the policy may keep some on board)"
               if on_board else "")
            + ": their uplink queues grow and their requests go late (more cells, an "
            "uplink-heavier TDD pattern, or smaller or fewer uploads)", file=label,
            field="fleets")))
    if short.any():
        by_fleet = np.bincount(w.dev_fleet[short], minlength=len(sc.fleets))
        first = np.searchsorted(w.dev_fleet, np.arange(len(sc.fleets)))
        # (a fleet at points: which points, as the other seeds' warning names them; a rail
        # planner's review: "crossings 1" said which fleet, not which crossing)
        names = ", ".join(
            f"{sc.fleets[k].name} " + _devices_at(
                [int(d - first[k]) for d in np.flatnonzero(short & (w.dev_fleet == k))],
                getattr(sc.fleets[k].area, "positions_m", None))
            for k, n in enumerate(by_fleet) if n)
        k = int(short.sum())
        out.append(str(InputError(
            f"{k:,} device{'s offer' if k != 1 else ' offers'} more uploads than "
            f"{'they' if k != 1 else 'it'} can send even alone on "
            f"{'their' if k != 1 else 'its'} cell, at full power over every PRB "
            f"{'they' if k != 1 else 'it'} can use ({names}), where seed "
            f"{sc.seed} places {'them' if k != 1 else 'it'}: {'their' if k != 1 else 'its'} "
            "uploads queue without end (cells nearer, or smaller or fewer uploads)",
            file=label, field="fleets")))
    return out + _downlink_cell_warnings(sc, eng, label, air.downlink)


def _downlink_cell_warnings(sc: Any, eng: Any, label: str, need: Any) -> list[str]:
    """Cells whose devices' answers need more than the cell's downlink carries (an XR maker's
    review: 9,600 Mbit/s of rendered frames offered to two cells of ~870 validated silently):
    ``need``, per cell, :func:`airan.engine.offered_air.offered_air`'s downlink share (each
    device's answers, rate_hz x the mean answer, over its rate alone on its cell's free PRBs at the
    start's interference, the neighbours at ``radio.initial_load``). Above 1, the downlink
    cannot carry them whatever the scheduler, at that load of the neighbours (a diff review:
    the message said "the neighbours idle")."""
    import numpy as np

    from airan.errors import InputError

    w = eng.world
    over = [c for c in np.argsort(-need, kind="stable") if need[c] > UPLINK_FULL]
    if not over:
        return []
    named = ", ".join(f"{w.cell_names[c]} {need[c]:.2f}x" for c in over[:5]) + (
        f" and {len(over) - 5:,} more" if len(over) > 5 else "")
    on_board = any(f.computes_on_board and f.accelerator != "none" for f in sc.fleets)
    slots = "the TDD pattern's downlink slots" if sc.carrier.tdd_pattern else "every slot"
    return [str(InputError(
        f"{len(over):,} of {len(w.cell_names):,} cells' devices get more answers than the "
        f"cell's downlink carries at their own SINR where seed {sc.seed} places them: {named} "
        f"(the share of its downlink PRBs in {slots} they need, each device its answers, "
        f"rate_hz x the mean answer, at its rate alone on the cell, the neighbours "
        f"{sc.radio.initial_load:.0%} loaded, radio.initial_load)"
        + (", if every request goes over the air (the policy may keep some on board)"
           if on_board else "")
        + ": their answers queue and go late (more cells, a downlink-heavier TDD pattern, or "
        "smaller or fewer answers)", file=label, field="fleets"))]


def _radio_echo(sc: Any) -> str:
    """One line on the radio a scenario sets (an operator's planner: validate echoed neither the
    TDD pattern's uplink share nor a fleet's own UE power)."""
    from airan.radio import nr

    c, r = sc.carrier, sc.radio
    if r.model != "nr":  # (no PRBs, path loss nor power under the ideal and fixed radios)
        return f"  radio {r.model}: no cells' PRBs, path loss or powers in play"
    mu = c.numerology
    slot_ms = nr.slot_duration_s(mu) * 1e3
    pattern = c.tdd_pattern
    if pattern:
        ups = pattern.count("U")
        duplex = (f"TDD {pattern} every {len(pattern) * slot_ms:g} ms ({ups} of {len(pattern)} "
                  "slots uplink"
                  # (as radio.nr.slot_usable has it: no data on the S slot's uplink symbols, a
                  # NACK's short PUCCH only; a newcomer's review: "and the S slot's uplink
                  # symbols" read as uplink capacity)
                  + ("; the S slot's uplink symbols carry no data" if "S" in pattern else "")
                  + ")")
    else:
        duplex = "FDD"
    own = [f"{f.name} {f.ue_tx_power_dbm:g} dBm" for f in sc.fleets
           if f.ue_tx_power_dbm is not None]
    numerology = (f"numerology {mu}: {15 * 2 ** mu} kHz, {slot_ms:g} ms slots, "
                  f"{nr.n_prb(c.bandwidth_mhz, mu, nr.is_fr2(c.fc_ghz))} PRBs")
    # (the SR period and grant delay are in ms, not slots: a numerology changes neither; a
    # lecturer's lab saw numerology 2 leave the uplink wait as it was)
    access = ("uplink by configured grant" if r.ul_access == "configured_grant" else
              f"uplink by SR every {r.sr_period_ms:g} ms, grant {r.grant_delay_ms:g} ms later")
    return (f"  radio {r.model}, {r.environment}, {c.band or 'no band'} at {c.fc_ghz:g} GHz, "
            f"{c.bandwidth_mhz:g} MHz, {numerology}, {duplex}, {access}, cells "
            + (f"{c.tx_power_dbm:g}" if c.tx_power_dbm is not None
               else f"{c.power_dbm(r.environment):.1f}") + " dBm"
            + (" (the default for the environment and bandwidth)" if c.tx_power_dbm is None
               else "") + f", UEs {r.ue_tx_power_dbm:g} dBm"
            + (f" ({', '.join(own)})" if own else "")
            + "".join(f"; {f.name}: antenna {f.antenna_gain_dbi:g} dBi, {f.extra_loss_db:g} dB "
                      "more loss on every link" for f in sc.fleets
                      if f.antenna_gain_dbi or f.extra_loss_db)
            + f"; uplink power control P0 {r.ul_p0_dbm:g} dBm, alpha {r.ul_alpha:g}"
            + "".join(f"; {f.name}'s P0 {r.ul_p0_dbm if f.ul_p0_dbm is None else f.ul_p0_dbm:g} "
                      f"dBm, alpha {r.ul_alpha if f.ul_alpha is None else f.ul_alpha:g}"
                      for f in sc.fleets if f.ul_p0_dbm is not None or f.ul_alpha is not None))


#: the L1's fixed share on the other reading of Aerial's average cell (half the peak's layers:
#: docs/model.md, "RAN L1 on the GPU"), against which ran-share brackets the default 0.022
OTHER_FIXED_SHARE = 0.33


@app.command("ran-share")
def ran_share(
    scenario: str = typer.Argument(..., help="A scenario YAML file (or a built-in name) with "
                                   "ai_ran.mode dynamic or mig; no built-in sets it: add it "
                                   "to a copy (`airan scenarios --show city`)."),
    csv: Path | None = typer.Option(None, "--csv", help="Also write every site's hours to "
                                    "this CSV file."),
    from_run: Path | None = typer.Option(
        None, "--from-run", help="A run's folder of this scenario: add its devices' PRB use "
        "per cell (its cells.parquet) to the background at every hour."),
) -> None:
    """Hour by hour over a day, the share of each GPU that runs cells' L1 the RAN takes at the
    cells' background traffic (ai_ran.traffic) and the share left to AI, with the day's
    GPU-hours for AI: the engine's L1 rules in closed form, without a run (a run adds the
    devices' own PRB use: --from-run adds a run's)."""
    with _user_errors():
        from airan.api import with_fields
        from airan.engine.ran_share import day_profile
        from airan.scenario import load_scenario

        sc = load_scenario(scenario)
        use = _device_prb_use(sc, from_run) if from_run is not None else None
        rows = day_profile(sc, device_use=use)
        if not rows:  # (a planner's walk: a copy of factory with ai_ran alone printed an
            # empty table and exited 0; validate's warning, as the error)
            from airan.errors import InputError

            raise InputError(
                "no compute site of kind 'cell' stands at a cell site, nor lists any in "
                "hosts_l1_of, to run its cells' L1: give a cell site's compute site kind: "
                "cell, or list the cell sites in a site's hosts_l1_of", field="ai_ran.mode",
                value=sc.ai_ran.mode)
        if csv is not None:
            _write_ran_share_csv(rows, csv)
        # the fixed part is the least certain input (an AI-RAN planner's review: the off-peak
        # share left to AI rests on 0.022 unsaid): the day again at another reading of it
        other = (None if sc.ai_ran.l1_fixed_share is not None or not rows else day_profile(
            with_fields(sc, {"ai_ran.l1_fixed_share": OTHER_FIXED_SHARE}),
            device_use=use))
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:  # sites alike (generated ones: one line each before)
        key = (r["cells"], r["gpus"], r["gpu"], tuple(round(x, 9) for x in r["l1_share"]))
        groups.setdefault(key, []).append(r)
    mode = sc.ai_ran.mode
    table = _table(f"AI's share of each GPU every other hour (ai_ran.mode {mode}; " + (
        f"background traffic and the devices' PRB use in {from_run}" if from_run is not None
        else "background traffic only") + "; every hour with --csv)")
    table.add_column("site", no_wrap=True)
    table.add_column("cells, GPUs", no_wrap=True)
    hours = list(range(0, 24, 2))
    for h in hours:
        table.add_column(f"{h:02d}h", justify="right")
    table.add_column("AI GPU-h/day", justify="right")
    dropping = sorted({h for r in rows for h in range(24) if r["l1_fit"][h] < 1.0})
    for members in groups.values():
        r = members[0]
        name = r["site"] + (f" (+{len(members) - 1} alike)" if len(members) > 1 else "")
        cells = []
        for h in hours:  # (a mark where the L1 drops slots in the hour shown or the next)
            mark = "*" if min(r["l1_fit"][h], r["l1_fit"][h + 1]) < 1.0 else ""
            cells.append(f"{r['ai_share'][h]:.0%}{mark}")
        table.add_row(name, f"{r['cells']}, {r['gpus']} x {r['gpu']}", *cells,
                      f"{r['ai_gpu_hours']:.1f}")
    _print_table(table)
    if rows:
        busiest = max(range(24), key=lambda h: max(r["l1_share"][h] for r in rows))
        top = max(rows, key=lambda r: r["l1_share"][busiest])
        # (an operator's review: a flat day read "busiest hour 00h")
        flat = all(max(r["l1_share"]) - min(r["l1_share"]) < 1e-12 for r in rows)
        devices = (f", the devices' {top['devices']:.0%} (the run's) added"
                   if from_run is not None else "")
        # (each direction's: an operator's planner read one figure, the mean, for both)
        out.print(("every hour alike" if flat else f"busiest hour {busiest:02d}h")
                  + f": background PRB use {top['background_dl'][busiest]:.0%} downlink, "
                  f"{top['background_ul'][busiest]:.0%} uplink (the L1's load takes their mean, "
                  f"{top['background'][busiest]:.0%}{devices}), the L1 needs "
                  f"{top['l1_share'][busiest]:.1%} of each GPU at {top['site']}", markup=False,
                  soft_wrap=True)
        if len(rows) > 1:  # (an operator's review: GPU-hours per site, none for the region)
            out.print(f"the day's GPU-hours left to AI over the {len(rows):,} sites that run "
                      f"cells' L1 ({sum(r['gpus'] for r in rows):,} GPUs): "
                      f"{sum(r['ai_gpu_hours'] for r in rows):,.1f}", markup=False,
                      soft_wrap=True)
        capacity = ai_requests_text(rows, sc)
        if capacity:
            out.print(capacity, markup=False, soft_wrap=True)
        # (an operator's energy planner: GPU-hours alone, no energy)
        l1_kwh = sum(r["l1_kwh_per_day"] for r in rows)
        idle_kwh = sum(r["idle_kwh_per_day"] for r in rows)
        from airan.metrics.site_energy import sig

        out.print(f"the L1's energy: {sig(l1_kwh)} kWh a day above the GPUs' idle, which draws "
                  f"{sig(idle_kwh)} kWh a day whatever runs (GPU boards only; AI's work adds "
                  "its own)", markup=False, soft_wrap=True)
    if dropping:
        out.print("*: the L1 needs more than it may use in that hour or the next (the whole GPU, "
                  "or under mig its slice): it drops the slots it cannot process, at "
                  f"{', '.join(f'{h:02d}h' for h in dropping)}", markup=False, soft_wrap=True)
    if other is not None:
        out.print(fixed_share_text(rows, other, mode), markup=False, soft_wrap=True)
    slice_text = mig_slice_text(rows, sc.ai_ran.mig_l1_fraction) if mode == "mig" else None
    if slice_text:
        out.print(slice_text, markup=False, soft_wrap=True)
    note = (_saturated_run_note(from_run, sc.ai_ran.traffic is not None)
            if from_run is not None else None)
    if note:
        out.print(note, markup=False, soft_wrap=True)
    if sc.ai_ran.traffic is None:
        out.print("no ai_ran.traffic: the cells carry no background traffic, so the L1 costs "
                  "its fixed part only" + ("" if from_run is not None else
                                           "; a run adds the devices' PRB use (--from-run)"),
                  markup=False, soft_wrap=True)


def _device_prb_use(sc: Any, folder: Path) -> Any:
    """Per cell of ``sc`` (the world's order), the devices' PRB use in the run in ``folder``:
    the mean of its cells.parquet's uplink and downlink utilization (the L1's load takes their
    mean, as the engine does). Bad input where the folder holds no run of these cells."""
    import numpy as np
    import pyarrow.parquet as pq

    from airan.errors import InputError

    file = folder / "cells.parquet"
    if not file.is_file():
        raise InputError(f"'{folder}' holds no cells.parquet: give the folder of an `airan "
                         "run` of this scenario", field="--from-run", value=str(folder))
    t = pq.read_table(file, columns=["cell", "prb_utilization_ul", "prb_utilization_dl"])
    use = dict(zip(t.column("cell").to_pylist(), (0.5 * (
        np.nan_to_num(t.column("prb_utilization_ul").to_numpy(zero_copy_only=False))
        + np.nan_to_num(t.column("prb_utilization_dl").to_numpy(zero_copy_only=False))
    )).tolist(), strict=True))
    names = sc.cell_names()
    missing = [c for c in names if c not in use]
    if missing:
        raise InputError(f"the run in '{folder}' has no cell {missing[0]!r} of this scenario "
                         f"({len(missing):,} of its {len(names):,} cells missing): give a run "
                         "of the same cells", field="--from-run", value=str(folder))
    return np.array([use[c] for c in names])


def _count_text(n: float) -> str:
    """A count of requests as a planner reads it: 1.5 billion, 12.3 million, 450,000 (each
    unit from where its rounded figure reaches it: 999.96 million is 1.0 billion)."""
    if round(n / 1e6, 1) >= 1000.0:
        return f"{n / 1e9:,.1f} billion"
    return f"{n / 1e6:,.1f} million" if round(n) >= 1e6 else f"{n:,.0f}"


def ai_requests_text(rows: list[dict[str, Any]], sc: Any) -> str | None:
    """ran-share's line on what the day's GPU-hours left to AI would compute, per service, in
    requests (:func:`~airan.engine.ran_share.day_profile`'s ``ai_requests_per_day`` summed
    over the sites; an AI-RAN planner's review: GPU-hours alone did not say how many
    detections a day that is). None where no site serves a service."""
    per_day: dict[str, float] = {}
    for r in rows:
        for name, n in r.get("ai_requests_per_day", {}).items():
            per_day[name] = per_day.get(name, 0.0) + n
    if not per_day:
        return None
    from airan.scenario.load import offered_requests

    model = {v.name: v.model for v in sc.services}
    offered = offered_requests(sc)
    apart = [v.name for v in sc.services if v.name not in per_day]
    return ("at full batches, one batch after another, AI's share of these GPUs would compute "
            + ", or ".join(f"{_count_text(n)} {name} requests ({model[name]})"
                           for name, n in per_day.items())
            + " a day" + (", one service's at a time" if len(per_day) > 1 else "")
            + " (uneven arrivals and batches that wait to fill compute fewer; batches that "
            "overlap, more); the scenario's fleets offer " + ", ".join(
                f"{_count_text(offered[name][1] * 86400.0)} {name} requests" for name in per_day)
            + " a day, wherever they are computed"
            + (f" ({', '.join(apart)}: served at none of these sites)" if apart else ""))


def mig_slice_text(rows: list[dict[str, Any]], fraction: float) -> str | None:
    """Under ``mig``, ran-share's line on the L1's slice: fixed whatever the L1 uses, so what
    its busiest hour leaves of it idles all day, where AI cannot use it (an AI-RAN planner's
    review: a 3/7 slice the L1 used a sixth of, unsaid). None without rows."""
    if not rows:
        return None
    need = max(max(r["l1_share"]) / r["l1_slice"] for r in rows)
    idle = sum(r["gpus"] * sum(max(r["l1_slice"] - x, 0.0) for x in r["l1_share"])
               for r in rows)
    sevenths = round(7 * fraction)
    share = f"{sevenths}/7" if abs(7 * fraction - sevenths) < 1e-3 else f"{fraction:.3g}"
    slices = {r["gpu"]: r["l1_slice"] for r in rows}  # (one GPU type a site)
    of = ", ".join(f"{x:.0%} of an {g}'s peaks" if g[0] in "AEFHILMNORSX" else
                   f"{x:.0%} of a {g}'s peaks" for g, x in slices.items())
    return (f"under mig the L1's slice is fixed ({share} of each GPU's compute slices, "
            f"ai_ran.mig_l1_fraction: {of}): at its busiest hour the L1 needs {need:.0%} of it"
            + (" (more than it holds: it drops slots)" if need > 1.0 + 1e-9 else "")
            + "; the slice's unused part idles, where AI cannot use it: "
            f"{idle:,.1f} GPU-hours a day over the {len(rows):,} site"
            f"{'s' if len(rows) != 1 else ''}")


def fixed_share_text(rows: list[dict[str, Any]], other: list[dict[str, Any]], mode: str) -> str:
    """ran-share's line on the L1's fixed share: the day (``rows``, :func:`day_profile`'s)
    against the same day at :data:`OTHER_FIXED_SHARE` (``other``): the day's GPU-hours left to
    AI (not under ``mig``, whose AI slice is fixed), what the L1 needs of the busiest GPU at
    the quietest hour (every hour, on a day without background traffic) and the hours it
    would drop slots, where it would."""
    flat = all(max(r["l1_share"]) - min(r["l1_share"]) < 1e-12 for r in rows)
    quiet = min(range(24), key=lambda h: max(r["l1_share"][h] for r in rows))
    when = "at every hour" if flat else f"at the quietest hour, {quiet:02d}h,"
    need = [max(r["l1_share"][quiet] for r in x) for x in (other, rows)]
    said = [f"the L1 would need {need[0]:.1%} of the busiest GPU {when} against {need[1]:.1%}"]
    if mode != "mig":
        now, then = (sum(r["ai_gpu_hours"] for r in x) for x in (rows, other))
        said.insert(0, f"the day's GPU-hours left to AI would be {then:,.1f} against {now:,.1f}")
    drops = sorted({h for r in other for h in range(24) if r["l1_fit"][h] < 1.0})
    if drops:
        said.append("it would drop slots at " + ", ".join(f"{h:02d}h" for h in drops)
                    + (" (it would not fit its MIG slice)" if mode == "mig" else ""))
    elif mode == "mig":
        said.append("its MIG slice would still hold it at every hour")
    what = ("whether the L1 fits its MIG slice" if mode == "mig"
            else "the GPU time left to AI off-peak")
    return (f"the L1's fixed part, the work of every slot at any load, is the least certain input "
            f"to {what} (ai_ran.l1_fixed_share: 0.022 by default, from the A100's 4 peak / 8 "
            f"average cells; {OTHER_FIXED_SHARE:g} where that average cell has half the peak's "
            "layers; 1 where Grace Hopper's \"20 peak, 20 average\" is read as a cost, a cell "
            f"costing its peak at any load: docs/model.md): at {OTHER_FIXED_SHARE:g} "
            + ", ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
            + "; set it to bracket the answer")


def _saturated_run_note(folder: Path, background: bool = True) -> str | None:
    """A line where the run in ``folder`` filled cells (its summary's ``cells_busy_ul`` and
    ``_dl``: PRB use above the busy threshold of what the background left): their devices
    may have wanted more PRBs than they got, which is all --from-run adds, so at an hour whose
    background is lighter than the run's they may take more, and the L1's share there is a
    lower bound (an AI-RAN planner's review: a saturated run's use was added as if it were
    the devices' demand); without ``background`` traffic no hour is lighter, and the note
    says what the run filled only. None where the summary is absent or no cell was busy."""
    import json

    try:
        cells = json.loads((folder / "summary.json").read_text()).get("cells") or {}
    except (OSError, ValueError):
        return None
    busy = {key: int(cells.get(f"cells_busy_{key}") or 0) for key in ("ul", "dl")}
    if not any(busy.values()):
        return None
    which = " and ".join(f"{n:,} on the {label}" for key, label in (("ul", "uplink"),
                                                                   ("dl", "downlink"))
                         if (n := busy[key]))
    return (f"the run filled cells: {which} of its {int(cells.get('count') or 0):,} cells used "
            f"more than {float(cells.get('busy_threshold') or 0.9):.0%} of the PRBs the "
            "background left them, so their devices may have wanted more than they got"
            + ("; at hours whose background is lighter than the run's they may take more, and "
               "the L1's share at those cells' sites is a lower bound there" if background
               else "") + " (its summary.json names the busiest)")


def _write_ran_share_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """One row per site and hour: its cells, GPUs, background PRB use and the shares."""
    import csv as csv_module

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out_csv = csv_module.writer(f)
        out_csv.writerow(["site", "cells", "gpus", "gpu", "hour", "background_prb_use",
                          "l1_share", "ai_share", "l1_fit", "background_prb_use_dl",
                          "background_prb_use_ul", "device_prb_use"])
        for r in rows:
            for h in range(24):
                out_csv.writerow([r["site"], r["cells"], r["gpus"], r["gpu"], h,
                                  f"{r['background'][h]:.6g}", f"{r['l1_share'][h]:.6g}",
                                  f"{r['ai_share'][h]:.6g}", f"{r['l1_fit'][h]:.6g}",
                                  f"{r['background_dl'][h]:.6g}",
                                  f"{r['background_ul'][h]:.6g}", f"{r['devices']:.6g}"])


def _size_said(kb: float, spread: Any) -> str:
    """An upload's or answer's size as ``validate`` echoes it: fixed, or its spread about
    ``kb`` and the sizes it sends."""
    if spread is None:
        return f"{kb:g} kB each"
    lo, hi = spread.ratios()
    if math.isfinite(hi):
        within = f"within {lo:g}-{hi:g} x"
    else:
        within = f"at least {lo:g} x" if lo > 0 else "untruncated"
    sent = spread.sizes()
    return (f"{spread.dist} about {kb:g} kB, cv {spread.cv:g}, {within}: sent with a "
            f"mean of {_three_figures(sent['mean'] * kb)} kB, cv "
            f"{_three_figures(sent['cv'])}, p99 "
            f"{_three_figures(sent['p99'] * kb)} kB")


def _priorities_said(ul: int | None, compute: int | None) -> str:
    """validate's words for a service's priorities where it sets them (1 first)."""
    said = [f"{name} {p}" for name, p in (("uplink priority", ul), ("compute priority", compute))
            if p is not None]
    return f", {' and '.join(said)} (1 first)" if said else ""


def _qos_said(five_qi: int | None, level: int | None) -> str:
    """validate's words for a service's QoS flow on the air where it sets one: its 5QI's
    characteristics (TS 23.501 Table 5.7.4-1) and the priority level the schedulers weigh."""
    if five_qi is None and level is None:
        return ""
    from airan.radio.qos import STANDARDIZED_5QI, priority_level

    p = priority_level(five_qi, level)
    if five_qi is None:
        return f", QoS priority level {p} on the air (1 first; unset: 90, 5QI 9's)"
    q = STANDARDIZED_5QI[five_qi]
    own = "" if level is None else f", its own level {p} in place of {q.priority_level}"
    return (f", 5QI {five_qi} on the air ({q.resource_type}, {q.example}; priority level "
            f"{q.priority_level}, delay budget {q.delay_budget_ms:g} ms{own})")


def _three_figures(x: float) -> str:
    """``x`` to three significant figures, never in exponent form (1,080, 57.6, 0.0134)."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{float(f'{x:.3g}'):g}"


@app.command()
def scenarios(
    show: str | None = typer.Option(
        None, "--show", help="Print this built-in's YAML file, its comments and sources kept: "
        "the start of a scenario of one's own (`airan scenarios --show factory > mine.yaml`)."),
) -> None:
    """List the built-in scenarios (or print one's YAML: --show NAME)."""
    with _user_errors():
        from airan.scenario import builtin_scenarios
        from airan.scenario.load import builtin_text

        if show is not None:
            sys.stdout.write(builtin_text(show))
            return

        table = _table("Built-in scenarios")
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("description")
        for name, desc in builtin_scenarios().items():
            table.add_row(name, Text(desc))
    _print_table(table)


def _scenario_catalogs(scenario: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A scenario's GPUs and models: the catalogs' and its own (an MEC planner's review: a GPU
    of one's own could not be looked at outside a run)."""
    from airan.scenario import load_scenario

    sc = load_scenario(scenario, gpu_checks=False)
    return sc.gpu_catalog(), sc.model_catalog()


@catalog_app.command("gpus")
def catalog_gpus(
    a100: bool = typer.Option(
        False, "--a100", help="Each GPU's ratio to an A100: training (dense BF16), inference "
        "(at --precision), headline (vs A100 FP16), decode (memory bandwidth), vendor claim."
    ),
    precision: str | None = typer.Option(
        None, "--precision", help="With --a100: the lowest precision the model allows "
        "(fp4, fp8, int8, fp16, bf16, fp32; default fp8)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="With --a100: take the precision from this catalog model."
    ),
    reference: str = typer.Option(
        "A100-80GB", "--reference", help="With --a100: the A100 to divide by."
    ),
    sources: bool = typer.Option(
        False, "--sources", help="Then the source of every number, per GPU and field."
    ),
    scenario: str | None = typer.Option(
        None, "--scenario", help="Also the GPUs of one's own that this scenario gives (gpus:)."
    ),
) -> None:
    """The accelerator catalog: memory, bandwidth, dense peaks, power; with --a100, each GPU in
    A100-equivalents; with --sources, where every number comes from."""
    with _user_errors():
        from airan.catalog import load_gpus

        gpus = load_gpus() if scenario is None else _scenario_catalogs(scenario)[0]
        if a100:
            prec = _resolve_precision(precision, model)
            if reference not in gpus:
                raise _option_error("--reference", f"unknown GPU {reference!r}", reference,
                                    list(gpus))
        elif precision is not None or model is not None:
            raise _option_error("--precision" if precision is not None else "--model",
                                "needs --a100", precision or model)
    if a100:
        _print_a100(gpus, prec, reference, model)
    else:
        _print_gpus(gpus)
    _print_sources(gpus, "gpus", sources)


def _print_gpus(gpus: dict[str, Any]) -> None:
    table = _table("Accelerators (dense peak TFLOPS; INT8 in TOPS)")
    table.add_column("id", style="bold", no_wrap=True)
    _columns(table, "kind", justify="left")
    _columns(table, "mem GB", "BW TB/s", "BF16", "FP8", "INT8", "FP4", "TDP W", "idle W",
             "price USD")
    _columns(table, "MIG", justify="left")
    for key, g in gpus.items():
        table.add_row(key, g.kind, f"{g.memory_gb:g}", f"{g.mem_bw_tbps:g}",
                      *(_num(getattr(g.tflops, p), "{:g}") for p in ("bf16", "fp8", "int8", "fp4")),
                      f"{g.tdp_w:g}", f"{g.idle_w:g}", _num(g.price_usd, "{:,.0f}"),
                      "yes" if g.mig else "-")
    _print_table(table)
    # (an operator's energy planner: idle power, which decides what an unused GPU costs, was
    # in the YAML alone)
    out.print("price: the planner's (a rough street price; `airan plan --price` overrides it); "
              "idle W: a GPU ready to serve, its model loaded (an assumption, ~15% of TDP, "
              "above the deepest idle state nvidia-smi shows for a board with nothing loaded); "
              "a site's power is idle + busy share x (TDP - idle) per GPU; a scenario's `gpus:` "
              "overrides either", style="dim", markup=False, soft_wrap=True)


def _print_a100(gpus: dict[str, Any], precision: str, reference: str, model: str | None) -> None:
    from airan.catalog.equivalents import a100_ratios

    ref = gpus[reference]
    why = f" (the precision of {model})" if model else ""
    table = _table(f"{reference}-equivalents: ratio to one {reference} per GPU; inference at "
                   f"{precision.upper()}{why}")
    table.add_column("id", style="bold", no_wrap=True)
    _columns(table, "training", "inference", "runs at", "headline", "decode", "claim")
    rows = [a100_ratios(k, precision=precision, reference=reference, gpus=gpus) for k in gpus]
    for r in rows:
        used = "-" if r.inference_precision is None else (
            f"{r.inference_precision} / {r.reference_precision}")
        table.add_row(r.gpu, _num(r.training, "{:.2f}"), _num(r.inference, "{:.2f}"), used,
                      _num(r.headline, "{:.2f}"), f"{r.decode:.2f}", f"{r.claim:.1f}")
    _print_table(table)
    bf16 = ref.tflops.bf16
    out.print(
        f"training: dense BF16 TFLOPS / {bf16:g} ({reference}).  inference: dense peak at the "
        f"narrowest precision at or above {precision.upper()} each GPU supports (GPU / A100; "
        "an A100 runs FP8 and FP4 work at INT8).  headline: that peak / the A100's dense FP16, "
        f"as vendors quote it.  decode: memory bandwidth / {ref.mem_bw_tbps:g} TB/s, for "
        "memory-bound token decoding.  claim: a vendor's rack-scale figure where one exists "
        "(GB200 NVL72: 30x H100 real-time inference, FP4, 1.8T MoE), else the headline at FP4.",
        markup=False, soft_wrap=True)
    out.print("sources (gpus.yaml, from the GPU table of DOMAIN.md and the vendor datasheets):",
              markup=False)
    for r in rows:
        g = gpus[r.gpu]
        out.print(f"  {r.gpu}: tflops: {g.source.get('tflops', '-')}; mem_bw_tbps: "
                  f"{g.source.get('mem_bw_tbps', '-')}", markup=False, soft_wrap=True)
        if "claim" in r.sources:
            out.print(f"  {r.gpu}: claim: {r.sources['claim']}", markup=False, soft_wrap=True)


def _batch_sizes(text: str) -> list[int]:
    """``--batch``'s sizes ("1,8,64"), each a whole number from 1 to 4096."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= 4096:
            raise _option_error("--batch", "batch sizes are whole numbers from 1 to 4096, "
                                "comma-separated", part or text)
        sizes.append(int(part))
    return list(dict.fromkeys(sizes))


@catalog_app.command("models")
def catalog_models(
    gpu: str = typer.Option("H100", "--gpu", help="Accelerator for the latency columns."),
    batch: str = typer.Option(
        "1", "--batch", help="Batch sizes to show the batch time at, comma-separated (e.g. "
        "1,8,64: each with its throughput, to set beside trtexec or perf_analyzer)."),
    sources: bool = typer.Option(
        False, "--sources", help="Then the source of every number, per model and field."
    ),
    scenario: str | None = typer.Option(
        None, "--scenario", help="Also the models and GPUs of one's own that this scenario "
        "gives (models:, gpus:): --gpu may name one of its GPUs."
    ),
) -> None:
    """The model catalog: size, cost, precision and batch time on one accelerator (batch 1, or
    --batch sizes with their throughput); with --sources, where every number comes from."""
    with _user_errors():
        from airan.catalog import load_gpus, load_models
        from airan.compute import batch_service_time_s

        gpus, models = ((load_gpus(), load_models()) if scenario is None
                        else _scenario_catalogs(scenario))
        if gpu not in gpus:
            raise _option_error("--gpu", f"unknown GPU {gpu!r}", gpu, list(gpus))
        spec = gpus[gpu]
        sizes = _batch_sizes(batch)
    shown = "batch-1 latency" if sizes == [1] else "batch time and throughput"
    table = _table(f"Models ({shown} on {gpu})")
    table.add_column("id", style="bold", no_wrap=True)
    _columns(table, "params", "GFLOPs")
    _columns(table, "precision", justify="left")
    _columns(table, *([f"{gpu} ms"] if sizes == [1] else [f"b={b} ms (req/s)" for b in sizes]))
    table.add_column("name")
    # a device's (a Jetson, a device's CPU; not a server's): what runs there (engine.world)
    on_board = spec.kind == "embedded" or gpu == "DeviceCPU"
    roofed = []
    for key, m in models.items():
        if on_board and m.service_time_ms is not None and m.gflops is not None \
                and m.efficiency is not None:  # (a measured time is the compute sites')
            m = m.model_copy(update={"service_time_ms": None})
            roofed.append(key)
        times_s = [batch_service_time_s(m, spec, b) for b in sizes]
        used = spec.resolve_precision(m.precision_for(spec))  # (what the roofline runs there)
        mark = "*" if roofed and roofed[-1] == key else ""
        table.add_row(key, _count(m.params), _num(m.gflops, "{:g}"),
                      m.precision if used == m.precision else f"{m.precision} ({used} here)",
                      *([f"{times_s[0] * 1e3:.2f}{mark}"] if sizes == [1] else
                        [f"{t * 1e3:.2f} ({b / t:,.0f}){mark}" for b, t in zip(sizes, times_s,
                                                                             strict=True)]),
                      m.name)
    _print_table(table)
    if roofed:
        out.print(f"* on board a {gpu} runs the model's roofline: its measured service_time_ms "
                  f"is the compute sites' ({', '.join(roofed)})", markup=False, soft_wrap=True)
    _print_sources(models, "models", sources)


@catalog_app.command("devices")
def catalog_devices(
    sources: bool = typer.Option(
        False, "--sources", help="Then the source of every value, per class and field."
    ),
) -> None:
    """The device classes a fleet names with ``device_class``: antenna height, on-board
    accelerator, uplink buffer; with --sources, where every value comes from."""
    with _user_errors():
        from airan.catalog import load_device_classes

        classes = load_device_classes()
    table = _table("Device classes (a fleet's own fields win over its class's)")
    table.add_column("id", style="bold", no_wrap=True)
    _columns(table, "height m")
    _columns(table, "accelerator", "UL buffer KB", justify="left")
    table.add_column("name")
    from airan.scenario.schema import Fleet

    default_kb = Fleet.model_fields["ul_buffer_kb"].default
    for key, c in classes.items():
        buffer = (f"{default_kb:g} (a fleet's default)" if c.ul_buffer_kb is None
                  else f"{c.ul_buffer_kb:g}")
        acc = (c.accelerator if c.cpu_runs_models or c.accelerator != "none"
               else "none (its CPU runs no model)")
        table.add_row(key, f"{c.height_m:g}", acc, buffer, c.name)
    _print_table(table)
    _print_sources(classes, "devices", sources)


@catalog_app.command("5qi")
def catalog_5qi() -> None:
    """The standardized 5QIs a service names with ``five_qi`` (TS 23.501 Table 5.7.4-1): the
    priority level the cells' schedulers weigh (100 - level), and the delay budget."""
    from airan.radio.qos import DEFAULT_5QI, STANDARDIZED_5QI

    table = _table("Standardized 5QIs (TS 23.501 Table 5.7.4-1; schedulers weigh 100 - level)")
    table.add_column("5QI", style="bold", no_wrap=True)
    _columns(table, "priority level", "weight", "delay budget ms", "max burst B")
    _columns(table, "resource type", justify="left")
    table.add_column("example services")
    for key, q in sorted(STANDARDIZED_5QI.items(), key=lambda kv: (kv[1].priority_level, kv[0])):
        name = f"{key} (default)" if key == DEFAULT_5QI else str(key)
        table.add_row(name, str(q.priority_level), str(100 - q.priority_level),
                      f"{q.delay_budget_ms:g}",
                      "-" if q.max_burst_bytes is None else f"{q.max_burst_bytes:,}",
                      q.resource_type, q.example)
    _print_table(table)


def _print_sources(entries: dict[str, Any], catalog: str, show: bool) -> None:
    """With ``show``, a table of every entry's ``source`` mapping (field -> citation) from
    ``{catalog}.yaml``; else one line saying how to see it."""
    if not show:
        out.print(f"every number's source: airan catalog {catalog} --sources", style="dim",
                  markup=False, soft_wrap=True)
        return
    from rich.text import Text

    table = _table(f"Sources ({catalog}.yaml)")
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("field", no_wrap=True)
    table.add_column("source", min_width=20)
    for key, e in entries.items():
        rows = list(e.source.items()) or [("-", "no source given")]
        for i, (field, text) in enumerate(rows):
            table.add_row(key if i == 0 else "", field, Text(" ".join(str(text).split())),
                          end_section=i == len(rows) - 1)
    out.print()
    _print_table(table)


# commands that live with their own layer (imports inside them stay lazy)
from airan.live.cli import register as _register_live  # noqa: E402
from airan.planner.cli import register as _register_planner  # noqa: E402
from airan.sweep.cli import register as _register_sweep  # noqa: E402

_register_planner(app)
_register_sweep(app)
_register_live(app)


if __name__ == "__main__":  # pragma: no cover
    app()
