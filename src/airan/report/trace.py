"""A Chrome / Perfetto trace (JSON trace event format) of a sample of a run's requests.

Each completed request is one complete event ("ph": "X") named after its service, spanning its
end-to-end latency from its creation, with one nested complete event per non-zero stage
(ul_wait, ul_air, ul_transport, queue, compute, dl_transport, dl_air) laid end to end. A dropped
request is an instant event ("ph": "i") named after the reason, at the time it was dropped
(its ``latency_ms`` is the time from creation to the drop); the stages it went through before
are drawn as for a completed request, under a parent event whose category is the drop. A
request still under way when the run ended (outcome ``in_flight``) is an instant event after
the stages it finished, which are drawn under a parent event of category ``in_flight``.
Processes are placements (compute sites, ``local``, ``rejected``, ``unreachable``), threads
are devices, named with their fleet (``amr device 12``): a device whose requests overlap in time
gets one lane per overlapping request, so that events on a thread always nest. Times are in
microseconds of simulated time, as the format requires.

Only the columns needed are read, and only the row groups holding sampled rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from airan.errors import InputError
from airan.report.rundir import read_run

TRACE = "trace.json"
STAGES = ("ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport", "dl_air")
COLUMNS = ["request", "service", "device", "placement", "outcome", "created_s",
           *(f"{s}_ms" for s in STAGES), "latency_ms"]
# read when present (older runs lack them)
OPTIONAL = ["fleet", "interrupted_by", "ul_kb", "dl_kb"]
DEFAULT_LIMIT = 2000


@dataclass(frozen=True)
class TraceFile:
    """A written trace: its path, how many requests it shows (and of how many traced, in the
    window of creation times asked for: ``window``, e.g. ``[1, 2) s``, empty for the whole run)."""

    path: Path
    requests: int
    dropped: int
    events: int
    traced: int
    window: str = ""


def sample_rows(created_s: np.ndarray, limit: int, from_s: float | None = None,
                to_s: float | None = None, weight: np.ndarray | None = None) -> np.ndarray:
    """Row indices of at most ``limit`` requests created in [from_s, to_s), evenly spread over
    the requests in order of creation.

    ``weight``: how many requests each row stands for (a trace keeps every request up to its
    limit and a uniform sample beyond it, whose rows stand for 1/sample each); without it each
    row is one request. Deterministic: the same run and arguments give the same sample.
    """
    keep = np.ones(len(created_s), dtype=bool)
    if from_s is not None:
        keep &= created_s >= from_s
    if to_s is not None:
        keep &= created_s < to_s
    rows = np.flatnonzero(keep)
    if len(rows) <= limit:
        return rows
    rows = rows[np.argsort(created_s[rows], kind="stable")]
    w = np.ones(len(rows)) if weight is None else np.asarray(weight, dtype=np.float64)[rows]
    # the row under each of `limit` evenly spaced points of the requests' cumulative count,
    # from the first request to the last
    ends = np.cumsum(w)
    points = np.linspace(ends[0], ends[-1], limit)
    pick = np.minimum(np.searchsorted(ends, points, side="left"), len(rows) - 1)
    return np.sort(rows[np.unique(pick)])


def trace_is_prefix(trace: dict[str, Any] | None) -> bool:
    """Whether a run's request trace (the summary's ``trace``) holds only its first ``limit``
    requests (``--trace-sample 0`` on a run that made more): rows from the start of the run,
    from empty queues, that no weight makes a sample of the whole run."""
    t = trace or {}
    return (t.get("limit") is not None and not t.get("sample_beyond_limit")
            and not t.get("complete", True))


def row_weights(request: np.ndarray, trace: dict[str, Any] | None) -> np.ndarray | None:
    """How many requests each trace row stands for, from the summary's ``trace`` (``limit``,
    ``sample_beyond_limit``); None when the trace kept every request."""
    limit, sample = (trace or {}).get("limit"), (trace or {}).get("sample_beyond_limit")
    if limit is None or not sample or (trace or {}).get("complete", False):
        return None
    w = np.ones(len(request))
    w[request >= limit] = 1.0 / float(sample)
    return w


def _read_sample(file: Path, limit: int, from_s: float | None,
                 to_s: float | None, trace: dict[str, Any] | None = None
                 ) -> tuple[pa.Table, int, int]:
    """The sampled rows (``COLUMNS`` and those of ``OPTIONAL`` present), the number of traced
    requests in the file and of those created in [from_s, to_s)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(file)
        missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
        if missing:
            raise InputError(f"column {missing[0]!r} is missing (not a request trace?)",
                             file=str(file))
        columns = COLUMNS + [c for c in OPTIONAL if c in pf.schema_arrow.names]
        head = pf.read(columns=["created_s", "request"])
        created = head.column("created_s").to_numpy()
        weight = row_weights(head.column("request").to_numpy(), trace)
        rows = sample_rows(created, limit, from_s, to_s, weight)
        in_window = int(np.count_nonzero(
            (created >= (-np.inf if from_s is None else from_s))
            & (created < (np.inf if to_s is None else to_s))))
        sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        parts = []
        group = np.searchsorted(starts, rows, side="right") - 1
        for g in np.unique(group):
            local = rows[group == g] - starts[g]
            parts.append(pf.read_row_group(int(g), columns=columns).take(pa.array(local)))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the request trace (half-written run?): {exc}",
                         file=str(file)) from None
    if not parts:
        schema = pf.schema_arrow
        return (pa.table({c: pa.array([], schema.field(c).type) for c in columns}),
                len(created), in_window)
    return pa.concat_tables(parts), len(created), in_window


def _col(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist()  # type: ignore[no-any-return]


def trace_events(table: pa.Table, deadlines_ms: dict[str, float] | None = None,
                 site_order: list[str] | None = None) -> list[dict[str, Any]]:
    """Chrome trace events for the requests of ``table`` (columns as in requests.parquet).

    Processes follow ``site_order`` (the summary's sites), then local, rejected, unreachable.
    """
    deadlines_ms = deadlines_ms or {}
    rank = {name: k for k, name in enumerate(site_order or [])}
    n = table.num_rows
    req, svc, dev = _col(table, "request"), _col(table, "service"), _col(table, "device")
    place, outcome = _col(table, "placement"), _col(table, "outcome")
    fleet = _col(table, "fleet") if "fleet" in table.column_names else [None] * n
    # the link interruption its radio legs met (a handover, a silence; null: none)
    held = _col(table, "interrupted_by") if "interrupted_by" in table.column_names \
        else [None] * n
    sizes = {k: _col(table, k) for k in ("ul_kb", "dl_kb") if k in table.column_names}
    created_ns = np.round(table.column("created_s").to_numpy() * 1e9).astype(np.int64)
    stage_ms = np.stack([table.column(f"{s}_ms").to_numpy() for s in STAGES], axis=1) if n \
        else np.zeros((0, len(STAGES)))
    latency = table.column("latency_ms").to_numpy()
    dropped = np.array([str(o).startswith("dropped") for o in outcome], dtype=bool)
    under_way = np.array([o == "in_flight" for o in outcome], dtype=bool)
    stage_ns = np.round(np.nan_to_num(stage_ms, nan=0.0) * 1e6).astype(np.int64)
    ends_ns = created_ns[:, None] + np.cumsum(stage_ns, axis=1)  # stage k ends here

    pids: dict[str, int] = {}
    special = ("local", "rejected", "unreachable")
    for p in sorted(set(place), key=lambda s: (s in special, rank.get(s, len(rank)), s)):
        pids[p] = len(pids) + 1
    lanes: dict[tuple[int, int], list[int]] = {}  # (pid, device) -> end time of each lane
    tids: dict[tuple[int, int, int], int] = {}  # (pid, device, lane) -> tid
    n_threads: dict[int, int] = {}  # pid -> threads named so far
    events: list[dict[str, Any]] = []
    for p, pid in pids.items():
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                       "args": {"name": p if p in special else f"site {p}"}})
        events.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                       "args": {"sort_index": pid}})
    for i in np.argsort(created_ns, kind="stable"):
        pid, d = pids[place[i]], int(dev[i])
        start = int(created_ns[i])
        if dropped[i]:  # it lived until the drop (NaN: dropped where it was created)
            lived = latency[i] if np.isfinite(latency[i]) else 0.0
            end = max(start + int(round(lived * 1e6)), int(ends_ns[i, -1]))  # covers its stages
        else:
            end = int(ends_ns[i, -1])
        ends = lanes.setdefault((pid, d), [])
        lane = next((k for k, e in enumerate(ends) if e <= start), len(ends))
        if lane == len(ends):
            ends.append(end)
        else:
            ends[lane] = end
        key = (pid, d, lane)
        if key not in tids:
            n_threads[pid] = tids[key] = n_threads.get(pid, 0) + 1
            events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tids[key],
                           "args": {"name": (f"{fleet[i]} " if fleet[i] else "")
                                    + f"device {d}" + (f" ({lane + 1})" if lane else "")}})
        tid = tids[key]
        args: dict[str, Any] = {"request": int(req[i]), "service": svc[i], "device": d,
                                "placement": place[i], "outcome": outcome[i]}
        if fleet[i] is not None:
            args["fleet"] = fleet[i]
        if held[i] is not None:
            args["interrupted_by"] = held[i]
        for col, kb in sizes.items():
            if kb[i] is not None:
                args[col] = round(float(kb[i]), 3)
        if dropped[i]:
            reason = str(outcome[i]).partition(":")[2] or "unknown"
            events.append({"ph": "i", "s": "t", "name": f"dropped: {reason}",
                           "cat": "dropped", "ts": end / 1e3, "pid": pid, "tid": tid,
                           "args": args})
            if end == start:
                continue
        if under_way[i]:  # still under way when the run ended: after the stages it finished
            events.append({"ph": "i", "s": "t", "name": "in flight at the end",
                           "cat": "in_flight", "ts": end / 1e3, "pid": pid, "tid": tid,
                           "args": args})
            if end == start:
                continue
        if np.isfinite(latency[i]):  # not for a request still under way at the end
            args["latency_ms"] = float(latency[i])
        if svc[i] in deadlines_ms:
            args["deadline_ms"] = deadlines_ms[svc[i]]
        events.append({"ph": "X", "name": f"{svc[i]} #{int(req[i])}", "cat": str(outcome[i]),
                       "ts": start / 1e3, "dur": (end - start) / 1e3, "pid": pid, "tid": tid,
                       "args": args})
        t = start
        for k, stage in enumerate(STAGES):
            e = int(ends_ns[i, k])
            if e > t:
                events.append({"ph": "X", "name": stage, "cat": "stage", "ts": t / 1e3,
                               "dur": (e - t) / 1e3, "pid": pid, "tid": tid,
                               "args": {"ms": float(stage_ms[i, k]), "request": int(req[i])}})
            t = e
    return events


def export_trace(
    folder: str | Path,
    out: str | Path | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    from_s: float | None = None,
    to_s: float | None = None,
) -> TraceFile:
    """Write a Chrome trace of up to ``limit`` requests of the run in ``folder``.

    The sample is spread evenly over the traced requests created in [from_s, to_s) (simulated
    seconds; default: the whole run). Default output: ``folder/trace.json``.
    """
    if limit < 1:
        raise InputError("must be at least 1", field="limit", value=limit)
    if from_s is not None and to_s is not None and not to_s > from_s:
        raise InputError(f"must be after the start ({from_s:g} s)", field="to_s", value=to_s)
    run = read_run(folder, require=("requests",))
    table, traced, in_window = _read_sample(run.path / "requests.parquet", limit, from_s, to_s,
                                            run.summary.get("trace"))
    window = "" if from_s is None and to_s is None else (
        f"[{0.0 if from_s is None else from_s:g}, {'end' if to_s is None else f'{to_s:g}'}) s")
    ended = run.summary.get("duration_s")
    if table.num_rows == 0 and from_s is not None and isinstance(ended, int | float) \
            and from_s >= ended:
        raise InputError(
            f"the run ended at {ended:g} s (simulated): no request was created at or after "
            f"{from_s:g} s (give a window within 0..{ended:g} s)",
            file=str(run.path))
    if table.num_rows == 0:
        raise InputError(
            f"the run's request trace holds no request{' created in ' + window if window else ''}"
            f" (traced rows: {traced:,}; "
            "`airan run --trace-limit N` sets how many are kept)",
            file=str(run.path / "requests.parquet"),
        )
    s = run.summary
    deadlines = {name: v.get("deadline_ms") for name, v in s["services"].items()
                 if v.get("deadline_ms") is not None}
    events = trace_events(table, deadlines, list(s.get("sites") or {}))
    path = Path(out) if out is not None else run.path / TRACE
    doc = {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "airan_version": s.get("airan_version"),
            "scenario": s.get("scenario"),
            "policy": s.get("policy"),
            "seed": s.get("seed"),
            "duration_s": s.get("duration_s"),
            "sample": f"{table.num_rows:,} of {in_window:,} traced requests"
                      f"{' created in ' + window if window else ''}, evenly spread"
                      + (f" (the trace holds the run's first {run.summary['trace']['limit']:,} "
                         "requests only: --trace-sample 0)"
                         if trace_is_prefix(run.summary.get("trace")) else ""),
            "time": "simulated time in microseconds from the start of the run",
        },
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            json.dump(doc, fh, separators=(",", ":"), allow_nan=False)
    except OSError as exc:
        raise InputError(f"cannot write the trace: {exc.strerror or exc}", file=str(path)) from None
    dropped = int(sum(str(o).startswith("dropped") for o in _col(table, "outcome")))
    return TraceFile(path=path, requests=table.num_rows, dropped=dropped, events=len(events),
                     traced=in_window, window=window)
