"""The run report: one self-contained HTML file (figures embedded) built from a run folder.

It reads summary.json and three small tables (timeseries, cells, devices; only the columns it
draws): latency CDFs come from the summary's exact histograms, so the report of a run of millions
of requests costs about the same as that of a short one. Of the per-request trace it reads six
columns, when the run kept one: where each request ran (the device itself or a compute site)
and how many requests its row stands for, to tell the queue and compute time on the devices'
own processors (accelerator or CPU) from those at compute sites (:mod:`airan.report.placement`).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airan.metrics.satisfaction import misses_in_a_row_text, satisfied_text
from airan.metrics.site_energy import site_energy_text
from airan.report import figures as F
from airan.report.cautions import (
    LINK_BUSY,
    cautions,
    links_by_load,
    run_on_device,
    run_peak,
    run_site_times,
)
from airan.report.events import events
from airan.report.placement import (
    LocalShare,
    late_parts,
    overhead_ms,
    read_local_shares,
    split_breakdown,
)
from airan.report.rundir import Run, read_run

REPORT = "report.html"
FIGURES = "figures"
_STAGE_NAMES = {
    # (its scheduling request and grant, the next U slot, data ahead of it)
    "ul_wait": "waiting in the device's uplink buffer for a grant and an uplink slot",
    "ul_air": "uplink radio",
    "ul_transport": "uplink transport",
    # (late_parts: the part of the uplink transport at a failed site)
    "at_failed_site": "time at a compute site or GPU that failed with them there (queued, "
                      "computing, or waiting until the failure was noticed)",
    # where the trace does not say where requests ran: on a device or at a site
    "queue": "the queue for compute (on the devices or at compute sites)",
    "compute": "compute (on the devices or at compute sites)",
    "queue_device": "the queue on the devices' own processors",
    "queue_sites": "the queue at compute sites",
    "compute_device": "compute on the devices' own processors",
    "compute_sites": "compute at compute sites",
    "dl_transport": "downlink transport",
    "dl_air": "downlink radio",
    # a live run's: its latency less the seven parts (placement.overhead_ms)
    "overhead": "the live runtime's own overhead",
}


@dataclass(frozen=True)
class Report:
    """A written report: the HTML file, its figures and how long it took to build (s)."""

    path: Path
    figures: list[F.SavedFigure]
    build_s: float


# ---- formatting --------------------------------------------------------------------------------
def pct(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage (``0.9182 -> '91.82%'``); '-' for None."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x * 100:.{digits}f}%"


def ms(x: float | None) -> str:
    """Milliseconds for a table: one decimal below 1 s (``'23.4'``), whole ms above."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1f}" if abs(x) < 1000 else f"{x:,.0f}"


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("airan.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = pct
    env.filters["ms"] = ms
    env.filters["num"] = lambda v: "-" if v is None else f"{v:,}"
    env.filters["val"] = lambda v: "" if v is None else repr(v)
    env.globals["pct"] = pct
    return env


def render(template: str, **context: Any) -> str:
    """Render one of the package's templates (``templates/<template>``)."""
    return str(_env().get_template(template).render(**context))


# ---- the headline ------------------------------------------------------------------------------
def verdict(name: str, svc: Mapping[str, Any],
            local: LocalShare | None = None) -> tuple[bool | None, str]:
    """Whether ``svc`` meets its target (None: nothing ended) and one line saying why.

    ``local``: where the service's traced requests ran (:mod:`airan.report.placement`); with it
    the queue and compute time are each attributed to the devices' own processors or to the
    compute sites, never a device's own queue called a site's."""
    hit, target = svc.get("hit_ratio"), svc.get("target_hit_ratio")
    deadline = svc.get("deadline_ms")
    lat = svc.get("latency_ms") or {}
    if hit is None:
        if not svc.get("count"):
            return None, ("no request of this service was created during the run (no fleet "
                          "sends it, or the run is shorter than its period).")
        return None, "no request ended during the run (run it longer)."
    overdue, with_overdue = svc.get("overdue") or 0, svc.get("hit_ratio_with_overdue")
    if overdue and with_overdue is not None:
        # judged as the terminal, compare and the planner judge it: a request still in flight
        # past its deadline is a miss (else an overloaded run's backlog would count for it)
        hit = with_overdue
    within = (f"{pct(hit)} within {deadline:g} ms" if deadline else f"hit ratio {pct(hit)}")
    ok = target is None or hit >= target
    tail = (f" {overdue:,} request{'s' if overdue != 1 else ''} still in flight at the end "
            f"{'were' if overdue != 1 else 'was'} already past {'their' if overdue != 1 else 'its'}"
            f" deadline, counted as {'misses' if overdue != 1 else 'a miss'} here (over the "
            f"requests that ended: {pct(svc['hit_ratio'])})." if overdue else "")
    # no p99 where nothing completed (every request ended dropped)
    p99 = f"; p99 {ms(lat['p99'])} ms" if lat.get("p99") is not None else ""
    if ok:
        at = svc.get("answered_at") or {}
        on_board = at.get("local", 0) / max(1, sum(at.values()))
        # (a review: inspection cameras' own CPUs ran it all, unsaid, while the cells' uplink
        # was full: the target met says nothing of the network then)
        where = (f"; {pct(on_board, 1)} of it answered on its devices themselves"
                 if on_board >= 0.005 else "")
        return True, f"meets its target: {within} (target {pct(target)}){p99}{where}.{tail}"
    parts = [f"misses its target by {(target - hit) * 100:.2f} points: {within} "
             f"(target {pct(target)}){p99}"]
    ended = int(svc.get("met", 0)) + int(svc.get("late", 0)) + int(svc.get("dropped", 0))
    drops = svc.get("dropped_by_reason") or {}
    if drops and ended:
        reason, n = max(drops.items(), key=lambda kv: kv[1])
        parts.append(f"{pct(svc['dropped'] / ended, 1)} dropped, mostly {reason}")
    bd = svc.get("breakdown_ms") or {}
    if local is not None and bd:
        bd = split_breakdown(bd, local)
    bd = {k: v for k, v in bd.items() if v is not None}
    if bd and overhead_ms(svc) > 0:  # a live run's latency holds more than its seven parts
        bd["overhead"] = overhead_ms(svc)
    mean = lat.get("mean")
    if bd and mean:
        stage, t = max(bd.items(), key=lambda kv: kv[1])
        where = ""
        if local is not None and stage.endswith(("_device", "_sites")):
            where = f"; {pct(local.requests, 0)} of its completed requests ran on the devices"
        most = "most" if t > 0.5 * mean else "the largest part"  # (38% is no 'most')
        parts.append(f"{most} of the mean latency is {_STAGE_NAMES.get(stage, stage)} "
                     f"({t / mean:.0%}{where})")
    at = svc.get("answered_at") or {}
    total = sum(at.values())
    if total:  # where its answered requests ran (the busiest three places, its devices')
        shown = list(at.items())[:3]
        if "local" in at and all(k != "local" for k, _ in shown):
            shown.append(("local", at["local"]))
        parts.append("answered at " + ", ".join(
            f"{'its devices' if k == 'local' else k} {pct(n / total, 1)}"
            for k, n in shown) + (" and elsewhere" if len(at) > len(shown) else ""))
    late = {k: v for k, v in (late_parts(svc) or {}).items() if v is not None}
    if late and sum(late.values()) > 0:  # the tail's cause, which the mean may hide
        parted = sum(late.values())
        if svc.get("late_latency_ms") is not None and svc["late_latency_ms"] - parted > 0.01:
            late["overhead"] = svc["late_latency_ms"] - parted  # a live run's runtime
        total = sum(late.values())
        (stage, t), *others = sorted(late.items(), key=lambda kv: -kv[1])
        on_device = int(svc.get("late_on_device") or 0)
        # "most" only for a majority; else the largest part and the next
        head = (f"most of it {_STAGE_NAMES.get(stage, stage)} ({t / total:.0%}"
                if t > 0.5 * total or not others else
                f"the largest part {_STAGE_NAMES.get(stage, stage)} ({t / total:.0%}), then "
                f"{_STAGE_NAMES.get(others[0][0], others[0][0])} ({others[0][1] / total:.0%}")
        parts.append(f"its {int(svc['late']):,} late requests took {ms(total)} ms on average, "
                     + head
                     + (f"; {on_device:,} of them ran on their devices" if on_device else "")
                     + ")")
    return False, "; ".join(parts) + "." + tail


def headline(summary: Mapping[str, Any],
             local: Mapping[str, LocalShare] | None = None) -> list[dict[str, Any]]:
    """Per service: the numbers of summary.json that the report's headline shows, and a verdict
    (``local``: where each service's traced requests ran, see :func:`verdict`)."""
    rows = []
    for name, svc in summary["services"].items():
        lat = svc.get("latency_ms") or {}
        ok, text = verdict(name, svc, (local or {}).get(name))
        rows.append({
            "service": name,
            "count": svc.get("count"),
            "met": svc.get("met"),
            "late": svc.get("late"),
            "dropped": svc.get("dropped"),
            "hit_ratio": svc.get("hit_ratio"),
            # (what the verdict judges: requests in flight past their deadline missed)
            "hit_ratio_with_overdue": svc.get("hit_ratio_with_overdue", svc.get("hit_ratio")),
            "target_hit_ratio": svc.get("target_hit_ratio"),
            "deadline_ms": svc.get("deadline_ms"),
            "p50_ms": lat.get("p50"),
            "p95_ms": lat.get("p95"),
            "p99_ms": lat.get("p99"),
            "p999_ms": lat.get("p999"),  # (a V2N engineer's tail: in summary.json only before)
            "ok": ok,
            "verdict": text,
        })
    return rows


RERUN_FOLDER = "rerun"  # where a report's reproduce command, run from its folder, writes


def unloadable_policy_note(policy: str) -> str | None:
    """Why the reproduce command cannot load ``policy`` (a function passed in Python under a
    name no other process imports: a script's or notebook's ``__main__``, a lambda, a nested
    function, a callable object such as a ``functools.partial``), or None where it can."""
    module, _, name = policy.partition(":")
    if not name or (module != "__main__" and "<" not in name and not name.endswith("()")):
        return None
    return (f"The policy {policy} was a function of the script or notebook that made this run: "
            "another process cannot load it by that name, so the command above fails (and "
            "scenario.yaml keeps the scenario's own policy). To run it again, put the function "
            "in a module on the Python path and pass --policy module:function, or call "
            "airan.run with it from Python.")


def reproduce_command(summary: Mapping[str, Any], scenario_file: str,
                      scaled: bool = False) -> str:
    """The ``airan run`` command line that makes the same run again (``scaled``: the scenario
    file holds the fleets as run, after ``--fleet-scale``, as a run folder's scenario.yaml
    does, and the command, run from that folder, writes to its ``rerun`` folder rather than to
    a ``runs/...`` folder nested in it; else the summary's ``fleet_scale`` is given again).
    A live run's is ``airan live`` with its models and delays (the same load, not the same
    latencies: a live run is not deterministic)."""
    live = summary.get("live") if isinstance(summary.get("live"), Mapping) else None
    args = ["airan", "live" if live else "run", scenario_file, "--policy",
            str(summary["policy"]), "--seed", str(summary["seed"]), "--duration",
            f"{summary['duration_s']:.9g}"]
    scale = summary.get("fleet_scale")
    if not scaled and scale is not None and scale != 1:
        args += ["--fleet-scale", f"{scale:.9g}"]
    if live:
        from airan.live.models import BUILTIN

        models = live.get("models") if isinstance(live.get("models"), Mapping) else {}
        for name, path in models.items():
            # a built-in model by its name, not the file generated for it in this machine's
            # cache (airan.live.models.model_path: <cache>/onnx/<name>-v<N>.onnx)
            built_in = re.fullmatch(r"(.+)-v\d+\.onnx", Path(str(path)).name)
            shown = (built_in.group(1) if built_in and built_in.group(1) in BUILTIN
                     and Path(str(path)).parent.name == "onnx" else path)
            args += ["--model", f"{name}={shown}"]
        if live.get("delays"):
            args += ["--delays", str(live["delays"])]
        if live.get("shared_gateway"):  # (a live integrator's review: the rerun dropped
            args += ["--shared-gateway"]  # these, and so ran another setup)
        if int(live.get("threads") or 1) > 1:
            args += ["--threads", str(int(live["threads"]))]
        if live.get("realtime_workers") is not None:
            args += ["--realtime" if live["realtime_workers"] else "--no-realtime"]
        if scaled:
            args += ["--out", RERUN_FOLDER]
        return " ".join(shlex.quote(a) for a in args)
    if summary.get("warmup_s"):
        args += ["--warmup", f"{summary['warmup_s']:.9g}"]
    trace = summary.get("trace") or {}
    if trace.get("limit") is not None:
        args += ["--trace-limit", str(trace["limit"])]
    if trace.get("sample_beyond_limit") is not None:
        args += ["--trace-sample", f"{trace['sample_beyond_limit']:g}"]
    if scaled:  # run from the run's folder: the copy goes beside the files it reproduces
        args += ["--out", RERUN_FOLDER]
    return " ".join(shlex.quote(a) for a in args)


# ---- building ----------------------------------------------------------------------------------
def run_figures(run: Run, folder: Path,
                local: Mapping[str, LocalShare] | None = None) -> list[F.SavedFigure]:
    """Draw and save every figure of a run's report into ``folder`` (``local``: where each
    service's traced requests ran, to split queue and compute by device and site)."""
    s = run.summary
    services = s["services"]
    sites = s.get("sites") or {}
    # read (and so check) every table before drawing anything
    ts = run.table("timeseries", ["t_start_s", "t_end_s", "site", "gpu_utilization",
                                  "mean_queue"])
    cells = run.table("cells", ["site", "x_m", "y_m", "prb_utilization_ul"])
    # per cell over time: nr radio only, and absent from folders older than it
    cell_ts = (run.table("cell_timeseries") if (run.path / "cell_timeseries.parquet").is_file()
               else None)
    devices = run.table("devices", ["x_m", "y_m", "sinr_dl_db"])
    out: list[F.SavedFigure] = []
    slugs = _unique_slugs(list(services))
    with F.style():
        for name, svc in services.items():
            fig = F.latency_cdf(name, svc)
            out.append(F.save(
                fig, folder, f"latency_cdf_{slugs[name]}", f"Latency CDF: {name}",
                "Left: the fraction of this service's requests done within x, over the requests "
                "that ended (met, late or dropped; those still in flight at the end left out, as "
                "in the hit ratio) (exact log-bucket histogram, 1% buckets); dropped requests "
                "never finish, so the curve ends below 1 when there are drops. Dashed: the "
                "deadline; the dot is the hit ratio. Right: the tail, the fraction later than x."))
        split = F.breakdown_split(services, local)
        out.append(F.save(
            F.breakdown(services, local), folder, "latency_breakdown", "Where the time goes",
            "Mean latency of completed requests split into the seven parts of its breakdown; "
            "the red tick is the deadline." + (" Queue and compute are each split in two by "
                                                "where they happened (nine bars): on the "
                           "devices' own processors, accelerator or CPU (requests the "
                           "policy kept on the device; hatched) or at compute sites, in the "
                           "proportions of the request trace." if split else "")))
        faults_shaded = " The faults' times are shaded." if s.get("faults") else ""
        out.append(F.save(
            F.site_load(ts, sites, faults=s.get("faults") or ()), folder, "site_load",
            "Compute sites over time",
            "GPU utilization (the time an AI batch runs on the GPUs over their time; where "
            "a GPU runs batches at once, the share of its throughput their work used, their "
            "fixed overheads left out: a launch-bound model can hold its instances most of "
            "the time at a few percent, see the site's instances_busy; with ai_ran a batch "
            "runs at the share the cells' L1 leaves it, the L1 using the rest "
            "alongside, so the AI GPU-hours of the AI-and-RAN table are less than this share "
            "of the time) and time-averaged queue length per compute site, in about 200 "
            "windows over the run." + faults_shaded))
        if cell_ts is not None:
            out.append(F.save(
                F.cell_load(cell_ts, faults=s.get("faults") or ()), folder, "cell_load",
                "Cells over time",
                "The share of each cell's PRBs the simulated devices used per slot of each "
                "direction, in the same windows (background traffic, ai_ran.traffic, takes "
                "its share on top of it): the five cells busiest on average one by one, "
                "the others as their median and 10-90% band. A cell near 100% (near the "
                "share the background leaves, where ai_ran.traffic is set) is where the radio "
                "queues uploads or answers; cell_timeseries.parquet holds every cell's series."
                + faults_shaded))
        radio = (s.get("cells") or {}).get("devices_radio") or {}
        dl = radio.get("sinr_dl_db") or {}
        spread = (f"; over the devices p5 / p50 / p95 {dl['p5']:.1f} / {dl['p50']:.1f} / "
                  f"{dl['p95']:.1f} dB, p5 the cell edge"
                  if all(dl.get(k) is not None for k in ("p5", "p50", "p95")) else "")
        out.append(F.save(
            F.network_map(cells, devices, sites), folder, "map", "Map",
            "Devices coloured by their downlink geometry SINR at the end of the run (fully "
            f"loaded network{spread}; a moving device's can be the low of the moment before a "
            "handover, not a hole in the coverage); cell sites "
            "(triangles) by the PRB utilization of their busiest sector in the busier of its "
            "uplink and downlink, from 0 to 100%, counting the PRBs of the simulated devices "
            "only: background traffic (ai_ran.traffic) takes its share on top of it; compute "
            "sites as outlined markers by kind."))
        out.append(F.save(
            F.drops(services), folder, "drops", "Dropped requests by reason",
            "admission: rejected by the policy; buffer_full: the device's uplink buffer; "
            "queue_full: a site's queue limit; device_queue_full: the device's own "
            "(local_queue_limit_ms); "
            "link_full: a transport link; radio_outage: no usable radio link; no_route: no "
            "transport path to the chosen site; site_failure: no site left to serve it; "
            "superseded: a newer frame took its place (ul_queue: latest); not_on_device: "
            "placed on a device that may not run its service (on_device: false)."))
    return out


#: cells the report's table of missed requests lists (the most misses first)
MISSED_CELLS_LISTED = 10


def fleet_radio_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per fleet, its devices' radio at the end of the run as text, p5 / p50 / p95
    (summary.json's ``fleets.<fleet>.radio``), for the report's table where more than one
    fleet has it (a drone maker's review: fleets at 30 to 150 m read as one pooled spread)."""
    fleets = summary.get("fleets") or {}

    def three(p: Mapping[str, Any] | None, fmt: str) -> str:
        p = p or {}
        if any(p.get(k) is None for k in ("p5", "p50", "p95")):
            return "-"
        return " / ".join(fmt.format(p[k]) for k in ("p5", "p50", "p95"))

    have = [(n, f) for n, f in fleets.items() if f.get("radio")]
    if len(have) < 2:
        return []
    return [{"fleet": n, "devices": int(f.get("devices") or 0),
             "sinr_dl_db": three(f["radio"].get("sinr_dl_db"), "{:.1f}"),
             "sinr_ul_db": three(f["radio"].get("sinr_ul_db"), "{:.1f}"),
             "ul_rate_full_cell_mbps": three(f["radio"].get("ul_rate_full_cell_mbps"), "{:.3g}"),
             "dl_rate_full_cell_mbps": three(f["radio"].get("dl_rate_full_cell_mbps"), "{:.3g}"),
             "below_qout": f.get("below_qout")} for n, f in have]


def late_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per service with requests answered late: their count, how many ran on their devices,
    the unanswered (dropped, overdue) beside, their mean latency and its three largest parts
    (ms), for the report's table (the terminal's "Answered late")."""
    rows = []
    for name, svc in summary["services"].items():
        parts = {k: v for k, v in (late_parts(svc) or {}).items() if v is not None and v > 0}
        if not parts:
            continue
        total = float(svc.get("late_latency_ms") or sum(parts.values()))
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
        from airan.cli import quartiles_said

        uploads = ""  # payloads of varying size: were the late ones' large?
        for key, what in (("ul_kb", "upload"), ("dl_kb", "answer")):
            sizes = svc.get(key) or {}
            if sizes.get("late_mean") is not None:  # (every one late: no met ones' mean)
                met = ("" if sizes.get("met_mean") is None
                       else f", the met ones' {sizes['met_mean']:.3g} kB")
                uploads += f"; their mean {what} {sizes['late_mean']:.3g} kB{met}"
                if sizes.get("late_share_above_mean") is not None \
                        and sizes.get("late_share_other") is not None:  # (a walk: only the
                    # terminal and summary.json said how much likelier a large one misses)
                    uploads += (f" ({sizes['late_share_above_mean']:.1%} of those "
                                f"{'answered ' if key == 'ul_kb' else 'sent '}above the mean "
                                f"went late, {sizes['late_share_other']:.1%} of the others"
                                + quartiles_said(sizes) + ")")
        rows.append({
            "service": name, "late": int(svc["late"]),
            "on_device": int(svc.get("late_on_device") or 0),
            "unanswered": int(svc.get("dropped", 0)) + int(svc.get("overdue") or 0),
            "mean_ms": total,
            "parts": "; ".join(f"{_STAGE_NAMES.get(k, k)} {v:.1f} ms ({v / total:.0%})"
                               for k, v in top) + uploads,
        })
    return rows


def read_misses_by_cell(folder: Path, trace: Mapping[str, Any] | None
                        ) -> list[tuple[str, float, float, dict[str, float]]]:
    """:func:`airan.report.placement.misses_by_cell` of the run's request trace (empty without
    one, or one from before airan kept each request's cell)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airan.errors import InputError
    from airan.report.placement import misses_by_cell

    file = folder / "requests.parquet"
    if not file.is_file():
        return []
    try:
        names = set(pq.read_schema(file).names)
        # (created_s: the warm-up's rows weigh nothing)
        cols = [c for c in ("request", "cell", "outcome", "service", "created_s") if c in names]
        if "cell" not in names:
            return []
        return misses_by_cell(pq.read_table(file, columns=cols), trace)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the request trace (half-written run?): {exc}",
                         file=str(file)) from None


def build_report(folder: str | Path, *, run: Run | None = None) -> Report:
    """Build ``folder/report.html`` and ``folder/figures/*`` from the run in ``folder``.

    Raises :class:`~airan.errors.InputError` if ``folder`` is not a complete run.
    """
    t0 = time.perf_counter()
    run = run or read_run(folder)
    # {} when the run kept no request trace
    local = read_local_shares(run.path, run.summary.get("trace"))
    figs = run_figures(run, run.path / FIGURES, local)
    s = run.summary
    scenario_text = run.scenario_text()
    html = render(
        "run.html.j2",
        s=s,
        title=f"airan: {s['scenario']} / {s['policy']} / seed {s['seed']}",
        headline=headline(s, local),
        late=late_rows(s),
        fleet_radio=fleet_radio_rows(s),
        missed_cells=read_misses_by_cell(run.path, s.get("trace"))[:MISSED_CELLS_LISTED],
        cautions=cautions(s, *run_on_device(run.path, s), peak=run_peak(run.path),
                          site_s=run_site_times(run.path)),
        events=events(s),
        figures=figs,
        sites=s.get("sites") or {},
        # (a diff review: the terminal's and compare's kWh, J per request and idle GPUs were
        # not in the run's report)
        site_energy=site_energy_text(s.get("site_energy")),
        devices_satisfied="; ".join(
            satisfied_text(n, f) for n, v in s["services"].items()
            if (f := v.get("devices_satisfied"))),
        misses_in_a_row="; ".join(
            misses_in_a_row_text(n, r) for n, v in s["services"].items()
            if (r := (v.get("devices_satisfied") or {}).get("misses_in_a_row"))
            and r["longest"]),
        links=busiest_links(s),
        links_total=len(s.get("links") or {}),
        link_busy=LINK_BUSY,
        scenario_text=scenario_text,
        rerun=RERUN_FOLDER if scenario_text else None,
        reproduce=reproduce_command(s, "scenario.yaml", scaled=True) if scenario_text else
        reproduce_command(s, str(s["scenario"])),
        policy_note=unloadable_policy_note(str(s["policy"])),
        built=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        figures_dir=FIGURES,
        version=s.get("airan_version", "?"),
    )
    path = run.path / REPORT
    path.write_text(html, encoding="utf-8")
    return Report(path=path, figures=figs, build_s=time.perf_counter() - t0)


#: the transport link directions the report's table lists (the busiest; all in summary.json)
LINKS_LISTED = 12


def busiest_links(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The :data:`LINKS_LISTED` busiest transport link directions, ``("a->b", entry)`` by
    utilization, for the report's table."""
    return links_by_load(summary)[:LINKS_LISTED]


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "service"


def _unique_slugs(names: list[str]) -> dict[str, str]:
    """A file name part for each name, unique even where two names differ only in characters
    a file name cannot hold (``a b``, ``a_b``) or in case (on a case-insensitive file system):
    a later one gets ``_2``, ``_3``..., in the order given."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = slug = _slug(name)
        k = 1
        while slug.lower() in taken:
            k += 1
            slug = f"{base}_{k}"
        taken.add(slug.lower())
        out[name] = slug
    return out
