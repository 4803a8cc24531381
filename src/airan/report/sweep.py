"""A sweep's report: how each service's hit ratio and p99 move along the sweep's axis.

The x axis is the sweep's numeric axis with the most values (``load``, a GPU count, a rate),
else its first axis of names (a policy, a band); the other axes that vary, the seed apart, make
one line each; the seeds of a point give its mean and 95% Student-t interval
(:func:`airan.report.compare.mean_ci`). As ``airan compare`` does, the hit ratio counts the
requests in flight past their deadline at the end as missed (``hit_ratio_with_overdue``) and
the p99 counts every request that got no answer as infinitely late, from each run's
summary.json (its latency histogram: the interval is at least the histogram's 0.5%). A point
whose p99 falls among the unanswered on some seed is unbounded and drawn at none.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib import ticker
from matplotlib.figure import Figure

from airan.errors import InputError
from airan.metrics.histogram import percentile_with_unanswered_ms
from airan.report import figures as F
from airan.report.compare import RESOLUTION, _fmt_ci, mean_ci
from airan.report.html import FIGURES, REPORT, ms, pct, render
from airan.report.rundir import SUMMARY

SWEEP_JSON = "sweep.json"
RESULTS = "results.parquet"
SEED = "seed"
LOG_X_RATIO = 20.0  # a numeric axis spanning more than this (all positive) is drawn log


@dataclass
class Point:
    """One series' runs at one value of the x axis: per service, the mean and interval over
    its seeds of the hit ratio (overdue counted as missed) and of the p99 (unanswered as
    infinitely late)."""

    series: str
    x: Any
    seeds: list[int] = field(default_factory=list)
    hit: dict[str, dict[str, Any]] = field(default_factory=dict)
    p99: dict[str, dict[str, Any]] = field(default_factory=dict)
    # in a zip sweep, the other axes' values at this point (they move with x: no lines)
    detail: str = ""
    # per service, its target and deadline in these runs (None where they differ)
    target: dict[str, float | None] = field(default_factory=dict)
    deadline_ms: dict[str, float | None] = field(default_factory=dict)
    # per service where its uploads or answers vary in size: "ul_kb" / "dl_kb" to the share
    # of each quartile of the sizes sent that went late or overdue, a mean over the seeds
    # (None where none), and the quartiles' edges (kB; None where the seeds' differ)
    late_by_size: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    size_edges: dict[str, dict[str, list[float] | None]] = field(default_factory=dict)


def is_sweep(folder: str | Path) -> bool:
    """Whether ``folder`` holds a finished sweep (sweep.json and results.parquet)."""
    path = Path(folder)
    return (path / SWEEP_JSON).is_file() and (path / RESULTS).is_file()


def _key(value: Any) -> str:
    """An axis value as a key: its whole canonical JSON (two values that differ only far
    into an object stay apart)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _label(value: Any) -> str:
    """An axis value as a label (a whole object as compact JSON, shortened)."""
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    text = _key(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _labels(values: Sequence[Any]) -> dict[str, str]:
    """Each distinct value's (by :func:`_key`) label, shortened where that keeps them apart."""
    keys = {_key(v): v for v in values}
    short = {k: _label(v) for k, v in keys.items()}
    clash = len(set(short.values())) < len(short)
    return {k: (k if clash and not isinstance(v, str) else short[k]) for k, v in keys.items()}


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def choose_axes(runs: Sequence[Mapping[str, Any]], zipped: bool = False
                ) -> tuple[str | None, list[str]]:
    """The x axis and the series axes of a sweep's runs (each with its ``axes`` values): the
    axes that vary, the seed apart; x the numeric one with the most values, else the first.
    In a zip sweep the axes move together: no series (the others go with x)."""
    names: list[str] = []
    for r in runs:
        for k in r.get("axes") or {}:
            if k != SEED and k not in names:
                names.append(k)
    distinct = {k: list(dict.fromkeys(_key(r["axes"].get(k)) for r in runs)) for k in names}
    varying = [k for k in names if len(distinct[k]) > 1]
    numeric = [k for k in varying if _numeric([r["axes"].get(k) for r in runs])]
    x = (max(numeric, key=lambda k: len(distinct[k])) if numeric
         else varying[0] if varying else None)
    return x, [] if zipped else [k for k in varying if k != x]


def _same(values: Sequence[Any]) -> Any:
    """The value all of ``values`` share, None where they differ."""
    return values[0] if values and all(v == values[0] for v in values) else None


def sweep_points(folder: str | Path) -> dict[str, Any]:
    """Read a sweep folder: its axes, services and :class:`Point` per series and x value.

    Returns ``{name, scenario, x_axis, series_axes, services, points, failed, runs}``;
    ``services`` maps each to its deadline and target; ``failed`` lists the runs that did not
    finish (their status and error)."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    try:
        meta = json.loads((folder / SWEEP_JSON).read_text(encoding="utf-8"))
        table = pq.read_table(folder / RESULTS).to_pylist()
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable sweep folder: {exc}", file=str(folder)) from None
    axes_of = {r["key"]: r for r in meta.get("runs") or []}
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for row in table:
        run = axes_of.get(row.get("run"))
        if run is None:
            continue
        summary_path = folder / str(row.get("folder") or "") / SUMMARY
        if row.get("status") != "ok" or not summary_path.is_file():
            status = row.get("status") if row.get("status") != "ok" else "its summary missing"
            failed.append({"run": row.get("run"), "status": status,
                           "error": row.get("error"), "axes": run.get("axes")})
            continue
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        done.append({"axes": run.get("axes") or {}, "seed": run.get(SEED),
                     "summary": summary})
    if not done:
        raise InputError("no run of this sweep finished: nothing to report", file=str(folder))
    zipped = (meta.get("spec") or {}).get("mode") == "zip"
    x_axis, series_axes = choose_axes(done, zipped)
    others = [k for k in dict.fromkeys(k for r in done for k in r["axes"])
              if k not in (SEED, x_axis) and k not in series_axes]
    labels = {k: _labels([r["axes"].get(k) for r in done]) for k in [*series_axes, *others]}
    services: dict[str, dict[str, Any]] = {}
    for r in done:
        for name, svc in (r["summary"].get("services") or {}).items():
            services.setdefault(name, {"runs": []})["runs"].append(svc)
    for meta_svc in services.values():  # (the same reference for every point, else none)
        runs_of = meta_svc.pop("runs")
        meta_svc["deadline_ms"] = _same([s.get("deadline_ms") for s in runs_of])
        meta_svc["target_hit_ratio"] = _same([s.get("target_hit_ratio") for s in runs_of])
        # overdue counted as missed where every run counts them (as compare ranks)
        meta_svc["hit_metric"] = ("hit_ratio_with_overdue" if all(
            "hit_ratio_with_overdue" in s for s in runs_of) else "hit_ratio")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    x_values: dict[str, Any] = {}
    for r in done:
        series = ", ".join(f"{k}={labels[k][_key(r['axes'].get(k))]}"
                           for k in series_axes) or "all"
        xv = r["axes"].get(x_axis) if x_axis is not None else None
        x_values.setdefault(_key(xv), xv)
        groups.setdefault((series, _key(xv)), []).append(r)
    points = []
    for (series, xk), rs in groups.items():
        p = Point(series, x_values[xk], seeds=[int(r["seed"]) for r in rs
                                               if r.get("seed") is not None])
        p.detail = ", ".join(
            f"{k}={labels[k][_key(rs[0]['axes'].get(k))]}" for k in others
            if len({_key(r["axes"].get(k)) for r in done}) > 1)
        for name, meta_svc in services.items():
            svcs = [(r["summary"].get("services") or {}).get(name) or {} for r in rs]
            p.target[name] = _same([s.get("target_hit_ratio") for s in svcs])
            p.deadline_ms[name] = _same([s.get("deadline_ms") for s in svcs])
            hits = [s.get(meta_svc["hit_metric"]) for s in svcs]
            p.hit[name] = mean_ci(hits, bounds=(0.0, 1.0))
            p.p99[name] = mean_ci([percentile_with_unanswered_ms(s, 0.99) if s else None
                                   for s in svcs], bounds=(0.0, math.inf),
                                  resolution_rel=RESOLUTION["p99_ms"])
            for key in ("ul_kb", "dl_kb"):  # (a walk: the sweep's report had no sizes)
                by_run = [(s.get(key) or {}).get("missed_share_by_quartile")
                          or (s.get(key) or {}).get("late_share_by_quartile") for s in svcs]
                if any(by_run):
                    p.late_by_size.setdefault(name, {})[key] = [
                        _mean_of([b[q] for b in by_run if b]) for q in range(4)]
                    p.size_edges.setdefault(name, {})[key] = _same(
                        [(s.get(key) or {}).get("quartiles_kb") for s in svcs])
        points.append(p)
    if x_axis is not None and _numeric([p.x for p in points]):  # (lines in the sweep's order)
        order = {name: i for i, name in enumerate(dict.fromkeys(p.series for p in points))}
        points.sort(key=lambda p: (order[p.series], float(p.x)))
    return {"name": meta.get("name") or folder.name,
            "scenario": (meta.get("spec") or {}).get("scenario"),
            "x_axis": x_axis, "series_axes": series_axes, "zipped": zipped,
            "services": services,
            "points": points, "failed": failed, "runs": len(done)}


def sweep_figure(data: Mapping[str, Any], service: str) -> Figure:
    """One service's hit ratio and p99 along the x axis, a line per series: each point the
    mean over its seeds with its 95% interval; dashed the target and the deadline."""
    points: list[Point] = data["points"]
    x_axis = data["x_axis"]
    series = list(dict.fromkeys(p.series for p in points))
    numeric = x_axis is not None and _numeric([p.x for p in points])
    categories = list(dict.fromkeys(_key(p.x) for p in points))
    tick = _labels([p.x for p in points]) if x_axis is not None else {_key(None): "all runs"}
    fig = F._figure(6.4, 2.6)
    axes = fig.subplots(1, 2)
    meta = data["services"][service]
    for k, (ax, metric, ref, ref_label) in enumerate((
            (axes[0], "hit", meta.get("target_hit_ratio"), "target"),
            (axes[1], "p99", meta.get("deadline_ms"), "deadline"))):
        for i, name in enumerate(series):
            mine = [p for p in points if p.series == name]
            xs, ys, lo, hi = [], [], [], []
            for p in mine:
                st = getattr(p, metric)[service]
                if st.get("mean") is None:  # (unbounded on some seed, or no request)
                    continue
                xs.append(float(p.x) if numeric else categories.index(_key(p.x)))
                ys.append(st["mean"])
                lo.append(st["mean"] - (st["ci_low"] if st.get("ci_low") is not None
                                        else st["mean"]))
                hi.append((st["ci_high"] if st.get("ci_high") is not None else st["mean"])
                          - st["mean"])
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", ms=3.5, capsize=3,
                            color=F.PALETTE[i % len(F.PALETTE)],
                            label=name if k == 0 and len(series) > 1 else None)
        if ref is not None:
            ax.axhline(ref, color=F.DEADLINE_COLOUR, ls="--", lw=1.0, label=ref_label)
        if numeric:
            xs_all = [float(p.x) for p in points]
            if min(xs_all) > 0 and max(xs_all) / min(xs_all) > LOG_X_RATIO:
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            ax.set_xticks(range(len(categories)), [tick[k] for k in categories], rotation=25,
                          ha="right")
            ax.set_xlim(-0.5, len(categories) - 0.5)
        ax.set_xlabel(x_axis or "all runs")
        if metric == "hit":
            ax.set_ylabel("deadline hit ratio" + (" (overdue missed)" if meta.get(
                "hit_metric") == "hit_ratio_with_overdue" else ""))
            ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        else:
            ax.set_ylabel("p99 latency (ms)")
            ax.set_ylim(bottom=0)
        F.legend(ax, loc="best", frameon=False)  # (none where nothing is labelled)
    fig.suptitle(service)
    return fig


def _mean_of(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def _size_text(late_by_size: Mapping[str, list[float | None]],
               edges: Mapping[str, list[float] | None]) -> str:
    """A point's late (or overdue) shares by quartile of the sizes sent, smallest first, and
    the quartiles' edges where its seeds agree on them."""
    def said(key: str) -> str:
        e = edges.get(key)
        return ((f" (quartiles at {', '.join(f'{x:.3g}' for x in e)} kB)" if e else "")
                + ": ")

    return "; ".join(
        f"{'uploads' if key == 'ul_kb' else 'answers'}{said(key)}" + " / ".join(
            "-" if x is None else f"{x:.1%}" for x in shares)
        for key, shares in late_by_size.items())


def _rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name in data["services"]:
        for p in data["points"]:
            hit, p99 = p.hit[name], p.p99[name]
            target = p.target.get(name)
            rows.append({
                "service": name, "series": p.series, "detail": p.detail,
                "x": _label(p.x) if data["x_axis"] is not None else "all",
                "seeds": len(p.seeds),
                "hit_text": _fmt_ci(hit, pct, (0.0, 1.0)), "p99_text": _fmt_ci(p99, ms),
                "ok": None if hit.get("mean") is None or target is None
                else hit["mean"] >= target,
                "hit_mean": hit.get("mean"), "p99_mean": p99.get("mean"),
                "size_text": _size_text(p.late_by_size.get(name) or {},
                                        p.size_edges.get(name) or {})})
    return rows


def build_sweep_report(folder: str | Path) -> Path:
    """Write ``folder/report.html`` and ``folder/figures/*`` from a finished sweep."""
    folder = Path(folder)
    data = sweep_points(folder)
    with F.style():
        figs = [F.save(sweep_figure(data, name), folder / FIGURES, f"sweep_{i}",
                       f"{name} along {data['x_axis'] or 'the runs'}",
                       "Each point the mean over its seeds with its 95% confidence interval "
                       "(Student t; a p99 at least the histogram's 0.5%); the hit ratio counts "
                       "requests in flight past their deadline at the end as missed, the p99 "
                       "every request that got no answer as infinitely late (a point "
                       "unbounded on some seed is not drawn). Dashed: the target and the "
                       "deadline, where every run has the same.")
                for i, name in enumerate(data["services"])]
    rows = _rows(data)
    html = render(
        "sweep.html.j2", d=data, rows=rows, figures=figs, figures_dir=FIGURES,
        sized=any(r["size_text"] for r in rows),
        title=f"airan sweep: {data['name']}", version=_version(folder) or "?",
        built=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seeds=sorted({s for p in data["points"] for s in p.seeds}),
        single_seed=max((len(p.seeds) for p in data["points"]), default=0) < 2)
    path = folder / REPORT
    path.write_text(html, encoding="utf-8")
    return path


def _version(folder: Path) -> str | None:
    """The airan version that wrote the sweep's first run."""
    for summary in sorted((folder / "runs").glob(f"*/{SUMMARY}"))[:1]:
        try:
            return str(json.loads(summary.read_text(encoding="utf-8")).get("airan_version"))
        except (OSError, ValueError):
            return None
    return None


__all__ = ["Point", "build_sweep_report", "choose_axes", "is_sweep", "sweep_figure",
           "sweep_points"]
