"""The report's figures (matplotlib, Agg): one function per figure, one consistent style.

Every function returns a :class:`matplotlib.figure.Figure` (no pyplot, no global state);
:func:`save` writes it as PNG (150 dpi) and SVG and returns the SVG to embed in the HTML.
Latencies are drawn in ms, positions in m (km for maps wider than 5 km), loads as fractions.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cycler import cycler
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

PNG_DPI = 150
STAGES = ("ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport", "dl_air")
# Okabe-Ito: distinguishable by colour-blind readers and in greyscale print
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")
STAGE_COLOURS = dict(zip(STAGES, ("#56B4E9", "#0072B2", "#009E73", "#D55E00", "#E69F00",
                                  "#CC79A7", "#F0E442"), strict=True))
DEADLINE_COLOUR = "#C00000"
SITE_MARKERS = {"cell": "s", "edge": "D", "cloud": "*"}
HEXBIN_DEVICES = 20_000  # beyond this many devices the map shows mean SINR per hexagon
STYLE: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "lines.linewidth": 1.3,
    "svg.hashsalt": "airan",  # reproducible SVG ids
    "svg.fonttype": "path",  # text as outlines: the SVG needs no fonts to look the same
    "text.parse_math": False,  # names are the user's: a "$" is a dollar, not mathtext
}


def legend(ax: Any, **kwargs: Any) -> None:
    """``ax``'s legend, where something on it is labelled: matplotlib warns of an empty one
    ("No artists with labels found"), and the warning leaked out of ``airan report`` (a
    researcher's review: a sweep's one line beside a deadline that differs along its axis)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


@contextmanager
def style() -> Iterator[None]:
    """The report's matplotlib style, for creating and saving figures."""
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        yield


@dataclass(frozen=True)
class SavedFigure:
    """A figure written to disk: its name, title, caption, files and SVG (for embedding)."""

    name: str
    title: str
    caption: str
    png: Path
    svg: Path
    svg_data: bytes
    width_in: float
    height_in: float

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI (self-contained, no clashing ids between figures)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg_data).decode("ascii")


def save(fig: Figure, folder: Path, name: str, title: str, caption: str = "") -> SavedFigure:
    """Write ``fig`` as ``folder/name.png`` (150 dpi) and ``folder/name.svg``."""
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    fig.savefig(png, dpi=PNG_DPI, metadata={"Software": None})
    fig.set_layout_engine("none")  # keep the layout just computed: the SVG gets the same one
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", dpi=PNG_DPI, metadata={"Date": None, "Creator": None})
    data = buf.getvalue()
    svg.write_bytes(data)
    w, h = fig.get_size_inches()
    return SavedFigure(name, title, caption, png, svg, data, float(w), float(h))


def _figure(width_in: float, height_in: float) -> Figure:
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _message(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35")
    ax.set_axis_off()


FAULT_COLOUR = "#D55E00"


def _fault_spans(axes: Sequence[Any], faults: Sequence[Mapping[str, Any]],
                 end_s: float) -> None:
    """Shade each fault's time on ``axes`` (a fault without ``end_s`` lasts to ``end_s``) and
    label the first axis's once, so a slump in a series shows beside its cause (a port
    automation lead's review: a cell_down's two seconds were nowhere on the report's
    figures)."""
    for i, f in enumerate(faults):
        start = f.get("start_s")
        if start is None:
            continue
        stop = f.get("end_s")
        stop = end_s if stop is None else min(float(stop), end_s)
        for k, ax in enumerate(axes):
            ax.axvspan(float(start), stop, color=FAULT_COLOUR, alpha=0.12, lw=0,
                       label=("faults (shaded)" if i == 0 and k == 0 else None))


def _log_ms_axis(ax: Any, lo: float, hi: float) -> None:
    """A log latency axis over [lo, hi] ms with plain numbers as ticks (1, 2, 5, 10 ...)."""
    ax.set_xscale("log")
    decades = math.log10(max(hi, 1e-9) / max(lo, 1e-9))
    subs = (1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,) if decades > 5 else (1.0, 3.0)
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def _grid(n: int, max_cols: int = 4) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    return math.ceil(max(n, 1) / cols), cols


# ---- latency distribution ----------------------------------------------------------------------
def histogram_cdf(hist: Mapping[str, Any], ended: int) -> tuple[np.ndarray, np.ndarray]:
    """Latency (ms) at each bucket's upper edge and the fraction of ``ended`` requests done by then.

    ``hist`` is a summary's ``latency_histogram`` ({min_s, gamma, counts}); dropped requests are
    part of ``ended`` and never complete, so the curve tops out at 1 - drop fraction and its
    value at the deadline is the hit ratio (to the 1% bucket width).
    """
    counts = hist.get("counts") or {}
    if not counts or ended <= 0:
        return np.zeros(0), np.zeros(0)
    b = np.fromiter((int(k) for k in counts), dtype=np.int64, count=len(counts))
    n = np.fromiter((int(v) for v in counts.values()), dtype=np.int64, count=len(counts))
    lo, hi = int(b.min()), int(b.max())
    dense = np.zeros(hi - lo + 1, dtype=np.int64)
    np.add.at(dense, b - lo, n)
    min_s, gamma = float(hist["min_s"]), float(hist["gamma"])
    upper = min_s * gamma ** np.arange(lo, hi + 1, dtype=float)  # bucket b: [g^(b-1), g^b) min_s
    lower0 = min_s * gamma ** (lo - 1) if lo >= 1 else 0.0
    x_ms = np.concatenate([[lower0], upper]) * 1e3
    frac = np.concatenate([[0.0], np.cumsum(dense) / ended])
    return x_ms, frac


def latency_cdf(name: str, svc: Mapping[str, Any]) -> Figure:
    """One service's latency CDF (left) and tail (right, log), with its deadline and target."""
    fig = _figure(6.4, 2.6)
    ax, tail = fig.subplots(1, 2)
    ended = int(svc.get("met", 0)) + int(svc.get("late", 0)) + int(svc.get("dropped", 0))
    x, f = histogram_cdf(svc.get("latency_histogram") or {}, ended)
    deadline = svc.get("deadline_ms")
    target = svc.get("target_hit_ratio")
    hit = svc.get("hit_ratio")
    if len(x) == 0:
        _message(ax, f"{name}: no request completed")
        _message(tail, "")
        return fig
    for a in (ax, tail):
        a.plot(x, f if a is ax else np.maximum(1.0 - f, 1e-9), color=PALETTE[0],
               drawstyle="default", label=name)
        _log_ms_axis(a, float(x[1]), max(float(x[-1]), deadline or 0.0))
        a.set_xlabel("end-to-end latency (ms)")
        if deadline:
            a.axvline(deadline, color=DEADLINE_COLOUR, ls="--", lw=1.0,
                      label=f"deadline {deadline:g} ms")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("fraction of requests done")
    ax.set_title(f"{name}: latency CDF")
    if target is not None:
        ax.axhline(target, color="0.4", ls=":", lw=1.0, label=f"target {target:.3g}")
    if deadline and hit is not None:
        ax.plot([deadline], [hit], "o", color=DEADLINE_COLOUR, ms=4,
                label=f"hit ratio {hit:.1%}")
    legend(ax, loc="lower right", frameon=False)
    tail.set_yscale("log")
    # plain numbers (1, 0.1, 0.01): mathtext is off, so the default log labels read as code
    tail.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    tail.yaxis.set_minor_formatter(ticker.NullFormatter())
    floor = 1.0 / max(ended, 1)
    tail.set_ylim(max(floor / 2, 1e-7), 1.2)
    tail.set_ylabel("fraction later than x (or dropped)")
    tail.set_title(f"{name}: tail")
    if target is not None and target < 1:
        tail.axhline(1 - target, color="0.4", ls=":", lw=1.0, label=f"1 - target {1 - target:.2g}")
    legend(tail, loc="lower left", frameon=False)
    return fig


# ---- where the time goes -----------------------------------------------------------------------
def breakdown_split(services: Mapping[str, Mapping[str, Any]],
                    local: Mapping[str, Any] | None) -> bool:
    """Whether :func:`breakdown` splits queue and compute by device and site: some service ran
    some of its traced requests on the devices (``local``: service -> LocalShare)."""
    from airan.report.placement import any_local

    return bool(local) and any_local({n: v for n, v in (local or {}).items() if n in services})


def breakdown(services: Mapping[str, Mapping[str, Any]],
              local: Mapping[str, Any] | None = None) -> Figure:
    """Mean latency per service as stacked bars of its seven components (ms).

    With ``local`` (service -> :class:`~airan.report.placement.LocalShare`) and some request run
    on a device, queue and compute are each drawn as two parts: on the devices' own processors
    (hatched) and at compute sites."""
    from airan.report.placement import SPLIT_STAGES, LocalShare, overhead_ms, split_breakdown

    names = list(services)
    fig = _figure(6.4, 1.1 + 0.42 * max(len(names), 1))
    ax = fig.subplots()
    if not names:
        _message(ax, "no service")
        return fig
    split = breakdown_split(services, local)
    none = LocalShare(traced=0, requests=0.0, queue=0.0, compute=0.0)
    parts = {n: split_breakdown(services[n]["breakdown_ms"], (local or {}).get(n, none))
             if split else dict(services[n]["breakdown_ms"]) for n in names}
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for stage in SPLIT_STAGES if split else STAGES:
        base, _, where = stage.rpartition("_")
        on_device = base in ("queue", "compute") and where == "device"
        colour = STAGE_COLOURS[base if base in ("queue", "compute") else stage]
        label = {"device": f"{base} (device)", "sites": f"{base} (sites)"}.get(
            where, stage) if base in ("queue", "compute") else stage
        vals = np.array([parts[n].get(stage) or 0.0 for n in names])
        ax.barh(y, vals, left=left, height=0.6, color=colour, label=label,
                edgecolor="white", linewidth=0.4, hatch="////" if on_device else None)
        left += vals
    rest = np.array([overhead_ms(services[n]) for n in names])
    if rest.any():  # a live run: the runtime's own time, in none of the parts
        ax.barh(y, rest, left=left, height=0.6, color="#BBBBBB", label="overhead (runtime)",
                edgecolor="white", linewidth=0.4)
        left += rest
    for yi, n in zip(y, names, strict=True):
        svc = services[n]
        mean = svc["latency_ms"].get("mean")
        text = f" {mean:.1f} ms" if mean is not None else " no completed request"
        ax.text(left[list(names).index(n)], yi, text, va="center", fontsize=7)
        deadline = svc.get("deadline_ms")
        if deadline:
            ax.plot([deadline, deadline], [yi - 0.38, yi + 0.38], color=DEADLINE_COLOUR,
                    lw=1.2)
    ax.set_yticks(y, names)
    ax.set_xlabel("mean latency (ms); red tick: deadline")
    ax.set_xlim(0, max(float(left.max()), max(
        (services[n].get("deadline_ms") or 0.0) for n in names)) * 1.18 or 1.0)
    ax.grid(axis="y", visible=False)
    legend(ax, ncols=5 if split or rest.any() else 7, loc="lower center",
              bbox_to_anchor=(0.5, 1.0),
              frameon=False, handlelength=1.0, columnspacing=0.8)
    return fig


# ---- compute sites over time -------------------------------------------------------------------
def codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str]]:
    """A string or dictionary column as (int codes, names)."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    return (col.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            [str(v) for v in col.dictionary.to_pylist()])


def site_load(timeseries: pa.Table, sites: Mapping[str, Mapping[str, Any]],
              top: int = 6, faults: Sequence[Mapping[str, Any]] = ()) -> Figure:
    """GPU utilization and mean queue length over time per compute site, ``faults`` (the
    summary's) shaded.

    With more than ``top + 1`` sites, the ``top`` busiest are drawn one by one and the others as
    their median with a 10-90% band.
    """
    fig = _figure(6.4, 3.8)
    ax_u, ax_q = fig.subplots(2, 1, sharex=True)
    if timeseries.num_rows == 0:
        _message(ax_u, "no compute site")
        _message(ax_q, "")
        return fig
    code, names = codes(timeseries.column("site"))
    t0 = timeseries.column("t_start_s").to_numpy()
    t1 = timeseries.column("t_end_s").to_numpy()
    util = timeseries.column("gpu_utilization").to_numpy()
    queue = timeseries.column("mean_queue").to_numpy()
    n_sites = len(names)
    order = np.argsort(code, kind="stable")  # rows grouped by site, in time order
    per_site = np.bincount(code, minlength=n_sites)
    n_win = int(per_site.max())
    if not np.all(per_site == n_win):  # ragged (should not happen): fall back to the minimum
        n_win = int(per_site.min())
    idx = np.full((n_sites, n_win), -1, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(per_site)[:-1]])
    for s in range(n_sites):
        idx[s] = order[starts[s]: starts[s] + n_win]
    mid = (t0[idx[0]] + t1[idx[0]]) / 2
    U, Q = util[idx], queue[idx]
    mean_u = np.array([
        (sites.get(n) or {}).get("gpu_utilization", float(np.mean(U[i])))
        for i, n in enumerate(names)
    ], dtype=float)
    ranked = np.argsort(-mean_u, kind="stable")
    shown = ranked if n_sites <= top + 1 else ranked[:top]
    rest = np.setdiff1d(np.arange(n_sites), shown)
    for k, s in enumerate(shown):
        colour = PALETTE[k % len(PALETTE)]
        kind = (sites.get(names[s]) or {}).get("kind", "")
        label = f"{names[s]} ({kind}, mean {mean_u[s]:.0%})" if kind else names[s]
        ax_u.plot(mid, U[s], color=colour, label=label)
        ax_q.plot(mid, Q[s], color=colour)
    if len(rest):
        for a, M in ((ax_u, U[rest]), (ax_q, Q[rest])):
            lo, med, hi = np.percentile(M, [10, 50, 90], axis=0)
            a.fill_between(mid, lo, hi, color="0.6", alpha=0.3, lw=0)
            a.plot(mid, med, color="0.45", lw=1.0,
                   label=f"other {len(rest)} sites: median, 10-90%" if a is ax_u else None)
    ax_u.set_ylabel("GPU utilization")
    ax_u.set_ylim(0, 1.05)
    ax_u.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    ax_q.set_ylabel("mean queue (requests)")
    ax_q.set_xlabel("simulated time (s)")
    ax_q.set_ylim(bottom=0)
    ax_u.set_title("Compute sites: load over time")
    _fault_spans((ax_u, ax_q), faults, float(t1.max()))
    legend(ax_u, loc="center left", bbox_to_anchor=(1.01, 0.0), frameon=False)
    return fig


def cell_load(cell_timeseries: pa.Table, top: int = 5,
              faults: Sequence[Mapping[str, Any]] = ()) -> Figure:
    """Each direction's PRB utilization over time per cell (``cell_timeseries.parquet``): in
    each panel the ``top`` cells busiest in that direction one by one (by their mean over the
    windows; each labelled with its busiest window too), the others as their median with a
    10-90% band, so a burst shows where and when it was; ``faults`` (the summary's) shaded."""
    fig = _figure(6.4, 3.8)
    axes = fig.subplots(2, 1, sharex=True)
    if cell_timeseries.num_rows == 0:
        _message(axes[0], "no cell")
        _message(axes[1], "")
        return fig
    code, names = codes(cell_timeseries.column("cell"))
    n_cells = len(names)
    n_win = cell_timeseries.num_rows // n_cells  # rows: window by window, every cell in each
    t0 = cell_timeseries.column("t_start_s").to_numpy()[::n_cells][:n_win]
    t1 = cell_timeseries.column("t_end_s").to_numpy()[::n_cells][:n_win]
    mid = (t0 + t1) / 2
    _fault_spans(axes, faults, float(t1.max()))
    for ax, key, word in ((axes[0], "prb_utilization_ul", "uplink"),
                          (axes[1], "prb_utilization_dl", "downlink")):
        u = np.full((n_win, n_cells), np.nan)
        u[np.repeat(np.arange(n_win), n_cells), code[: n_win * n_cells]] = \
            cell_timeseries.column(key).to_numpy()[: n_win * n_cells]
        ok = np.isfinite(u)
        seen = ok.any(axis=0)
        peak = np.where(seen, np.max(np.where(ok, u, -1.0), axis=0), 0.0)
        mean = np.where(seen, np.where(ok, u, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1),
                        -1.0)
        ranked = np.argsort(-mean, kind="stable")
        shown = ranked if n_cells <= top + 1 else ranked[:top]
        rest = np.setdiff1d(np.arange(n_cells), shown)
        for k, c in enumerate(shown):
            ax.plot(mid, u[:, c], color=PALETTE[k % len(PALETTE)],
                    label=f"{names[c]} (mean {max(mean[c], 0.0):.0%}, peak {peak[c]:.0%})")
        if len(rest):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN window
                lo, med, hi = np.nanpercentile(u[:, rest], [10, 50, 90], axis=1)
            ax.fill_between(mid, lo, hi, color="0.6", alpha=0.3, lw=0)
            ax.plot(mid, med, color="0.45", lw=1.0,
                    label=f"other {len(rest):,} cells: median, 10-90%")
        ax.set_ylabel(f"{word} PRBs used")
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
        legend(ax, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    axes[1].set_xlabel("simulated time (s)")
    axes[0].set_title("Cells: PRB use over time")
    return fig


# ---- the map -----------------------------------------------------------------------------------
def network_map(cells: pa.Table, devices: pa.Table,
                sites: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Devices coloured by geometry SINR (dB), cell sites by their busiest sector's PRB use in
    the busier of its two directions, on a fixed 0-100% scale (the simulated devices' PRBs; not
    the background traffic of ``ai_ran.traffic``; an XR maker's review: a downlink 99.7% used
    did not show, and an uplink at 0.4% read dark red on a scale to its own maximum),
    compute sites by kind. Points are rasterized, so 100k devices stay light in the SVG; beyond
    ``HEXBIN_DEVICES`` devices the map shows their mean SINR per hexagon instead of points."""
    fig = _figure(6.4, 5.2)
    ax = fig.subplots()
    dx = devices.column("x_m").to_numpy() if devices.num_rows else np.zeros(0)
    dy = devices.column("y_m").to_numpy() if devices.num_rows else np.zeros(0)
    sinr = devices.column("sinr_dl_db").to_numpy() if devices.num_rows else np.zeros(0)
    cx = cells.column("x_m").to_numpy() if cells.num_rows else np.zeros(0)
    cy = cells.column("y_m").to_numpy() if cells.num_rows else np.zeros(0)
    placed = [(n, s) for n, s in sites.items() if s.get("x_m") is not None]
    far: list[tuple[str, float]] = []  # compute sites far off the cells and devices: named
    if len(dx) + len(cx):  # (a rural co-op's review: a data centre 120 km out squeezed 7
        # masts and their fields into a corner of the map)
        core_x, core_y = np.concatenate([dx, cx]), np.concatenate([dy, cy])
        lo = np.array([core_x.min(), core_y.min()])
        hi = np.array([core_x.max(), core_y.max()])
        reach = max(float((hi - lo).max()), 1000.0)  # beyond the core by more: off the map
        mid = (lo + hi) / 2
        keep = []
        for n, s in placed:
            pos = np.array([s["x_m"], s["y_m"]], dtype=float)
            if np.any(pos < lo - reach) or np.any(pos > hi + reach):
                far.append((n, float(np.hypot(*(pos - mid)))))
            else:
                keep.append((n, s))
        placed = keep
    xs = np.concatenate([dx, cx, [s["x_m"] for _, s in placed]])
    ys = np.concatenate([dy, cy, [s["y_m"] for _, s in placed]])
    if len(xs) == 0:
        _message(ax, "nothing to draw")
        return fig
    extent = max(float(np.ptp(xs)), float(np.ptp(ys)))
    scale, unit = (1e3, "km") if extent > 5000 else (1.0, "m")
    n_dev = len(dx)
    size = 6.0 if n_dev < 2000 else 2.0
    if n_dev:
        finite = np.isfinite(sinr)
        vmin, vmax = (np.percentile(sinr[finite], [1, 99]) if finite.any() else (-5, 25))
        kw: dict[str, Any] = {"cmap": "viridis", "vmin": vmin, "vmax": vmax, "rasterized": True,
                              "zorder": 1}
        sc: Any
        if n_dev > HEXBIN_DEVICES:  # too many to tell apart: the mean SINR per hexagon
            sc = ax.hexbin(dx[finite] / scale, dy[finite] / scale, C=sinr[finite],
                           reduce_C_function=np.mean, gridsize=70, lw=0, **kw)
            label = "mean device DL geometry SINR (dB) per hexagon"
        else:
            sc = ax.scatter(dx / scale, dy / scale, c=np.clip(sinr, -50, 60), s=size, lw=0,
                            **kw)
            label = "device DL geometry SINR (dB)"
        fig.colorbar(sc, ax=ax, label=label, shrink=0.8, pad=0.01, fraction=0.04, aspect=30)
    if cells.num_rows:
        site_code, _ = codes(cells.column("site"))
        n_cs = int(site_code.max()) + 1
        ul = cells.column("prb_utilization_ul").to_numpy().astype(float)
        dl = (cells.column("prb_utilization_dl").to_numpy().astype(float)
              if "prb_utilization_dl" in cells.column_names else np.full(len(ul), np.nan))
        both = np.fmax(ul, dl)  # (the busier direction; NaN only where both are)
        busiest = np.full(n_cs, -np.inf)
        np.maximum.at(busiest, site_code, np.nan_to_num(both, nan=-np.inf))
        first = np.full(n_cs, -1, dtype=np.int64)
        first[site_code[::-1]] = np.arange(len(site_code))[::-1]
        sx, sy = cx[first], cy[first]
        tri = 36.0 if n_cs < 200 else (10.0 if n_cs < 2000 else 3.0)
        if np.isfinite(busiest).any():
            busiest[~np.isfinite(busiest)] = 0.0
            cs = ax.scatter(sx / scale, sy / scale, c=busiest, s=tri, marker="^", cmap="OrRd",
                            vmin=0, vmax=1.0, edgecolors="0.2",
                            linewidths=0.3 if n_cs < 2000 else 0.0, rasterized=n_cs > 500,
                            zorder=2)
            # (which sector, direction and PRBs: the report's caption; a newcomer's review:
            # the whole of that as the label ran off the top of the figure)
            fig.colorbar(cs, ax=ax, label="cell site: busiest sector's PRB use",
                         shrink=0.8, pad=0.01, fraction=0.04, aspect=30,
                         format=ticker.PercentFormatter(1.0))
        else:  # ideal or fixed radio: no PRB use to show
            ax.scatter(sx / scale, sy / scale, s=tri, marker="^", color="0.5", zorder=2,
                       rasterized=n_cs > 500)
    handles = [Line2D([], [], marker="^", ls="", color="0.5", label="cell site")]
    for kind, marker in SITE_MARKERS.items():
        at = [(s["x_m"], s["y_m"]) for _, s in placed if s.get("kind") == kind]
        if not at:
            continue
        p = np.asarray(at, dtype=float) / scale
        big = kind != "cell"
        small = (22.0, 0.8) if len(at) < 100 else (8.0, 0.5) if len(at) < 1000 else (3.0, 0.3)
        ax.scatter(p[:, 0], p[:, 1], marker=marker, s=70 if big else small[0],
                   facecolors="none", edgecolors="black",
                   linewidths=1.3 if big else small[1], zorder=3)
        handles.append(Line2D([], [], marker=marker, ls="", mfc="none", mec="black",
                              label=f"{kind} compute site ({len(at)})"))
    off_map = [n for n, s in sites.items() if s.get("x_m") is None] + [
        f"{n} ({d / 1e3:,.0f} km away)" if d >= 10_000 else f"{n} ({d:,.0f} m away)"
        for n, d in far]
    if off_map:
        handles.append(Line2D([], [], ls="", label=f"off the map: {', '.join(off_map[:3])}"
                              + (" ..." if len(off_map) > 3 else "")))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.1), ncols=3,
              frameon=False)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    ax.set_title(f"Map: {n_dev:,} devices, {cells.num_rows:,} cells, {len(sites)} compute sites")
    ax.grid(False)
    return fig


# ---- drops -------------------------------------------------------------------------------------
def drops(services: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Dropped requests by reason, stacked by service."""
    reasons: list[str] = []
    for svc in services.values():
        for r in svc.get("dropped_by_reason") or {}:
            if r not in reasons:
                reasons.append(r)
    fig = _figure(6.4, 1.0 + 0.35 * len(reasons) if reasons else 1.2)
    ax = fig.subplots()
    if not reasons:
        _message(ax, "no request was dropped")
        ax.set_title("Dropped requests by reason")
        return fig
    y = np.arange(len(reasons))[::-1]
    left = np.zeros(len(reasons))
    for k, (name, svc) in enumerate(services.items()):
        by = svc.get("dropped_by_reason") or {}
        vals = np.array([by.get(r, 0) for r in reasons], dtype=float)
        if vals.any():
            ax.barh(y, vals, left=left, height=0.6, color=PALETTE[k % len(PALETTE)],
                    label=name)
        left += vals
    for yi, total in zip(y, left, strict=True):
        ax.text(total, yi, f" {int(total):,}", va="center", fontsize=7)
    ax.set_yticks(y, reasons)
    ax.set_xlabel("dropped requests")
    ax.set_xlim(0, float(left.max()) * 1.15)
    ax.grid(axis="y", visible=False)
    ax.set_title("Dropped requests by reason")
    legend(ax, loc="lower right", frameon=False)
    return fig


# ---- comparison of policies --------------------------------------------------------------------
def compare_metric(
    aggregate: Mapping[str, Mapping[str, Mapping[str, Any]]],
    metric: str,
    services: Sequence[str],
    *,
    ylabel: str,
    reference: Mapping[str, float | None],
    reference_label: str,
    log: bool | Collection[str] = False,
    percent: bool = False,
) -> Figure:
    """Per service, each policy's mean of ``metric`` with its 95% CI and each seed as a dot.

    ``aggregate[policy][service][metric]`` holds ``mean``, ``ci_low``, ``ci_high``, ``values``;
    ``log``: a log scale on every panel, or on those of the services named (a fleet whose
    policies spend 1.2 and 597 mJ a request, beside one that spends 0 on board).
    """
    policies = list(aggregate)
    rows, cols = _grid(len(services))
    fig = _figure(min(6.4, 1.9 + 1.6 * cols), 0.6 + 2.3 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(services):]:
        ax.set_visible(False)
    x = np.arange(len(policies))
    for ax, svc in zip(axes, services, strict=False):
        for i, p in enumerate(policies):
            st = aggregate[p][svc][metric]
            colour = PALETTE[i % len(PALETTE)]
            vals = [v for v in st.get("values", []) if v is not None and math.isfinite(v)]
            if vals:
                jitter = (np.arange(len(vals)) - (len(vals) - 1) / 2) * 0.04
                ax.plot(x[i] + 0.18 + jitter, vals, ".", color=colour, ms=3, alpha=0.6)
            if st.get("mean") is None:
                continue
            lo, hi = st.get("ci_low"), st.get("ci_high")
            if lo is not None and hi is not None:
                ax.errorbar([x[i]], [st["mean"]], yerr=[[st["mean"] - lo], [hi - st["mean"]]],
                            fmt="o", color=colour, ms=5, capsize=4, lw=1.4)
            else:
                ax.plot([x[i]], [st["mean"]], "o", color=colour, ms=5)
        ref = reference.get(svc)
        if ref is not None:
            ax.axhline(ref, color=DEADLINE_COLOUR, ls="--", lw=1.0, label=reference_label)
            legend(ax, loc="best", frameon=False)
        ax.set_xticks(x, policy_labels(policies), rotation=25, ha="right")
        ax.set_xlim(-0.5, len(policies) - 0.5)
        ax.set_title(svc)
        ax.grid(axis="x", visible=False)
        if log is True or (not isinstance(log, bool) and svc in log):
            # plain numbers (20, 50, 100), not 2 x 10^1: three columns of those collapsed
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        elif not percent and ax.get_ylim()[0] < 0:  # a latency: intervals cut at zero
            ax.set_ylim(bottom=0)
        if percent:  # a hit ratio: intervals beyond [0, 1] are cut at the frame
            seen = [v for p in policies for v in (
                aggregate[p][svc][metric].get("ci_low"), aggregate[p][svc][metric].get("mean"),
                *aggregate[p][svc][metric].get("values", [])) if v is not None]
            ax.set_ylim(max(-0.02, min(min(seen, default=0.0) - 0.02, 0.9)), 1.01)
            ax.yaxis.set_major_formatter(ticker.PercentFormatter(1.0))
    for ax in axes[::cols]:
        ax.set_ylabel(ylabel)
    return fig


#: a policy's name on a figure (tick label, legend) at most this long
POLICY_LABEL_CHARS = 24


def policy_label(policy: str) -> str:
    """A policy's name as a figure shows it: a ``module:callable``'s callable (the report's
    tables give the whole name), at most :data:`POLICY_LABEL_CHARS` characters (long names as
    tick labels collapsed the panels under constrained_layout)."""
    name = policy.rsplit(":", 1)[-1] if ":" in policy else policy
    return name if len(name) <= POLICY_LABEL_CHARS else name[: POLICY_LABEL_CHARS - 1] + "…"


def policy_labels(policies: Sequence[str]) -> list[str]:
    """:func:`policy_label` of each, told apart where two would read alike (a diff review:
    teamA.p:policy and teamB.p:policy both read "policy"): the whole name's end, then a
    number."""
    labels = [policy_label(p) for p in policies]
    if len(set(labels)) == len(labels):
        return labels
    n = POLICY_LABEL_CHARS
    labels = [p if len(p) <= n else "…" + p[-(n - 1):] for p in policies]
    if len(set(labels)) == len(labels):
        return labels
    return [f"{label} ({i + 1})" for i, label in enumerate(labels)]


def compare_cdf(
    pooled: Mapping[str, Mapping[str, tuple[dict[str, Any], int]]],
    services: Sequence[str],
    deadlines: Mapping[str, float | None],
) -> Figure:
    """Per service, the latency CDF of each policy with every seed pooled (histograms added).

    ``pooled[policy][service]`` is ``(latency_histogram, ended requests)``.
    """
    policies = list(pooled)
    rows, cols = _grid(len(services), max_cols=2)
    # the legend above the panels: as many columns as its longest label leaves room for on
    # the figure's width, and a line of height per row of it (long module:callable names
    # collapsed the panels under constrained_layout)
    labels = policy_labels(policies)
    longest = max((len(x) for x in [*labels, "deadline"]), default=8)
    n_cols = max(1, min(len(policies) + 1, 4, 64 // max(longest + 4, 1)))
    legend_rows = math.ceil((len(policies) + 1) / n_cols)
    fig = _figure(6.4, 0.6 + 0.3 * legend_rows + 2.4 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes[len(services):]:
        ax.set_visible(False)
    any_deadline = False
    for ax, svc in zip(axes, services, strict=False):
        drew = False
        for i, p in enumerate(policies):
            hist, ended = pooled[p][svc]
            x, f = histogram_cdf(hist, ended)
            if len(x):
                ax.plot(x, f, color=PALETTE[i % len(PALETTE)])
                drew = True
        if not drew:
            _message(ax, f"{svc}: no request completed")
            continue
        deadline = deadlines.get(svc)
        if deadline:
            ax.axvline(deadline, color=DEADLINE_COLOUR, ls="--", lw=1.0)
            any_deadline = True
        _log_ms_axis(ax, *ax.get_xlim())
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("end-to-end latency (ms)")
        ax.set_ylabel("fraction of requests done")
        ax.set_title(f"{svc}: all seeds" + (f", deadline {deadline:g} ms" if deadline else ""))
    # one legend for every panel, above them (a newcomer's review: one inside each panel
    # covered a policy's curve and the deadline)
    handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], label=labels[i])
               for i in range(len(policies))]
    if any_deadline:
        handles.append(Line2D([], [], color=DEADLINE_COLOUR, ls="--", lw=1.0,
                              label="deadline"))
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), n_cols),
               frameon=False)
    return fig
