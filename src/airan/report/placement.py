"""Where a request's queue and compute time went: the device's own accelerator or a compute site.

summary.json has one ``queue`` and one ``compute`` component per service (``breakdown_ms``, the
mean over completed requests), wherever the request ran. A request the policy keeps on the
device (placement ``local``) waits for and runs on the device's own accelerator (or CPU), not a
site's GPU. The request trace (requests.parquet, its ``placement`` column) says which of the
traced requests ran where; :func:`local_shares` measures, per service, the share of the queue and
compute time spent on the devices, and :func:`split_breakdown` splits the summary's components in
those proportions. Only pyarrow: the terminal summary uses it without matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

LOCAL = "local"  # the trace's placement of a request served on the device itself
COLUMNS = ["request", "service", "placement", "outcome", "queue_ms", "compute_ms", "created_s"]
#: breakdown_ms with queue and compute split by where they happened (in this order)
#: the air interface's parts of a latency breakdown (scheduling request and grant, both air legs)
RADIO_PARTS = ("ul_wait", "ul_air", "dl_air")
SPLIT_STAGES = ("ul_wait", "ul_air", "ul_transport", "queue_device", "queue_sites",
                "compute_device", "compute_sites", "dl_transport", "dl_air")
#: :func:`late_parts`'s part of the uplink transport spent at compute sites that failed with
#: the requests there (queued, computing, or sent on while the failure was unnoticed)
FAILED_SITE = "at_failed_site"


@dataclass(frozen=True)
class LocalShare:
    """One service's completed requests in the trace, and the share of them (and of their queue
    and compute time) on the devices' own processors (accelerator or CPU)."""

    traced: int  # completed (met or late) requests of the service in the trace
    requests: float  # share of them that ran on the device
    queue: float  # share of their summed queue time spent on the device
    compute: float  # share of their summed compute time spent on the device


def local_shares(table: pa.Table, trace: Mapping[str, Any] | None = None
                 ) -> dict[str, LocalShare]:
    """Per service with a completed request in ``table`` (requests.parquet's ``COLUMNS``), the
    shares of its queue and compute time spent on the devices (placement ``local``).

    ``trace`` (the summary's ``trace``: ``limit``, ``sample_beyond_limit``) weighs each row by
    how many requests it stands for: every request up to the limit is kept, beyond it a
    uniform sample, so the rows over-represent the start of a long run without the weights;
    empty where the trace holds only the run's first requests (``--trace-sample 0``)."""
    import numpy as np
    import pyarrow.compute as pc

    if table.num_rows == 0 or _prefix_only(trace):
        return {}
    outcome = table.column("outcome").cast(pa.string())
    done = pc.is_in(outcome, value_set=pa.array(["met", "late"]))
    t = table.filter(done)
    if t.num_rows == 0:
        return {}
    code, names = _codes(t.column("service"))
    place, places = _codes(t.column("placement"))
    local = place == (places.index(LOCAL) if LOCAL in places else -1)
    weight = table_weights(t, trace)
    queue = np.nan_to_num(t.column("queue_ms").to_numpy(zero_copy_only=False), nan=0.0) * weight
    compute = np.nan_to_num(t.column("compute_ms").to_numpy(zero_copy_only=False),
                            nan=0.0) * weight
    out: dict[str, LocalShare] = {}
    for k in dict.fromkeys(code.tolist()):
        mine = code == k
        q, c, here, wt = queue[mine], compute[mine], local[mine], weight[mine]
        if not wt.sum() > 0:  # every one of them the warm-up's
            continue
        share = float(wt[here].sum() / wt.sum())
        out[names[k]] = LocalShare(
            traced=int((wt > 0).sum()),  # (the warm-up's rows weigh nothing)
            requests=share,
            queue=float(q[here].sum() / q.sum()) if q.sum() > 0 else share,
            compute=float(c[here].sum() / c.sum()) if c.sum() > 0 else share,
        )
    return out


def misses_by_cell(table: pa.Table, trace: Mapping[str, Any] | None = None
                   ) -> list[tuple[str, float, float, dict[str, float]]]:
    """Per cell of the request trace (``cell``), its requests that missed (ended late or
    dropped), all that ended, and its misses per service (the most first), each row weighed
    by the requests it stands for (as :func:`local_shares`), the most misses first; empty
    without a ``cell`` column (a run from before airan kept it) or a miss, or where the trace
    holds only the run's first requests (``--trace-sample 0``: the start's, not the run's)."""
    import numpy as np
    import pyarrow.compute as pc

    if table.num_rows == 0 or not {"cell", "outcome"} <= set(table.column_names) \
            or _prefix_only(trace):
        return []
    outcome = table.column("outcome").cast(pa.string())
    ended = pc.invert(pc.equal(outcome, "in_flight"))
    t = table.filter(pc.and_(ended, pc.is_valid(table.column("cell"))))
    if t.num_rows == 0:
        return []
    out_t = t.column("outcome").cast(pa.string())
    missed = pc.invert(pc.equal(out_t, "met")).to_numpy(zero_copy_only=False)
    cell, cells = _codes(t.column("cell"))
    weight = table_weights(t, trace)
    miss = np.bincount(cell, weights=weight * missed, minlength=len(cells))
    total = np.bincount(cell, weights=weight, minlength=len(cells))
    svc, svcs = _codes(t.column("service")) if "service" in t.column_names else (
        np.zeros(t.num_rows, dtype=np.int64), [""])
    per = np.bincount(cell * len(svcs) + svc, weights=weight * missed,
                      minlength=len(cells) * len(svcs)).reshape(len(cells), len(svcs))
    order = sorted(np.flatnonzero(miss).tolist(), key=lambda k: (-miss[k], cells[k]))
    return [(cells[k], float(miss[k]), float(total[k]),
             {svcs[j]: float(per[k, j]) for j in sorted(np.flatnonzero(per[k]).tolist(),
                                                         key=lambda j: -per[k, j])})
            for k in order]


def _prefix_only(trace: Mapping[str, Any] | None) -> bool:
    """A trace of the run's first requests only (:func:`airan.report.trace.trace_is_prefix`):
    the estimates here would be the start's, not the run's, so they are left out."""
    from airan.report.trace import trace_is_prefix

    return trace_is_prefix(dict(trace) if trace else None)


def table_weights(table: pa.Table, trace: Mapping[str, Any] | None) -> Any:
    """How many requests each row of a request trace ``table`` stands for
    (:func:`airan.report.trace.row_weights`; all 1 without a ``request`` column), and 0 for
    the warm-up's (``trace``'s ``warmup_s``; with a ``created_s`` column)."""
    import numpy as np

    from airan.report.trace import row_weights

    weight = (row_weights(table.column("request").to_numpy(zero_copy_only=False), dict(trace))
              if "request" in table.column_names and trace else None)
    weight = np.ones(table.num_rows) if weight is None else weight
    warmup = float((trace or {}).get("warmup_s") or 0.0)
    if warmup > 0.0 and "created_s" in table.column_names:  # the warm-up's: in no figure
        created = table.column("created_s").to_numpy(zero_copy_only=False)
        weight = np.where(created < warmup, 0.0, weight)
    return weight


def _codes(column: pa.ChunkedArray) -> tuple[Any, list[str]]:
    """A string or dictionary column as (int codes, names)."""
    import numpy as np
    import pyarrow.compute as pc

    # through plain strings: chunks may carry dictionaries of their own
    col = pc.dictionary_encode(column.cast(pa.string()).combine_chunks())
    return (col.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            [str(v) for v in col.dictionary.to_pylist()])


def read_local_shares(folder: str | Path, trace: Mapping[str, Any] | None = None
                      ) -> dict[str, LocalShare]:
    """:func:`local_shares` of the run in ``folder`` (``trace``: its summary's); empty if it
    kept no request trace (or one without a placement column, from an older run). A trace that
    cannot be read is an input error, as for every table of a run (a report without it would
    lose the split between devices and sites without a word)."""
    import pyarrow.parquet as pq

    from airan.errors import InputError

    file = Path(folder) / "requests.parquet"
    if not file.is_file():
        return {}
    try:
        if not set(COLUMNS) <= set(pq.read_schema(file).names):
            return {}
        return local_shares(pq.read_table(file, columns=COLUMNS), trace)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the request trace (half-written run?): {exc}",
                         file=str(file)) from None


def local_counts(table: pa.Table, trace: Mapping[str, Any] | None = None
                 ) -> dict[tuple[str, str], float]:
    """Per (fleet, service), how many requests the policy kept on the device (placement
    ``local``, whatever their outcome) in ``table`` (requests.parquet with ``fleet``,
    ``service``, ``placement`` and ``request``), each row weighed by the requests it stands for
    as in :func:`local_shares` (an estimate where the trace is a sample)."""
    if table.num_rows == 0 or not {"fleet", "service", "placement"} <= set(table.column_names) \
            or _prefix_only(trace):
        return {}
    place, places = _codes(table.column("placement"))
    if LOCAL not in places:
        return {}
    return _by_fleet_and_service(table, trace, place == places.index(LOCAL))


def _by_fleet_and_service(table: pa.Table, trace: Mapping[str, Any] | None,
                          rows: Any) -> dict[tuple[str, str], float]:
    """Per (fleet, service), the requests the ``rows`` of ``table`` (a bool mask) stand for,
    each row weighed as the trace's sample weighs it (:func:`table_weights`)."""
    import numpy as np

    fleet, fleets = _codes(table.column("fleet"))
    svc, svcs = _codes(table.column("service"))
    weight = table_weights(table, trace)
    sums = np.bincount(fleet[rows] * len(svcs) + svc[rows], weights=weight[rows],
                       minlength=len(fleets) * len(svcs))
    return {(fleets[k // len(svcs)], svcs[k % len(svcs)]): float(sums[k])
            for k in np.flatnonzero(sums).tolist()}


def held_on_device(table: pa.Table, trace: Mapping[str, Any] | None = None
                   ) -> dict[tuple[str, str], float]:
    """Per (fleet, service), the requests that ran on the device and ended late after waiting
    there (placement ``local``, outcome ``late``, ``queue_ms`` above 0): held up by the work
    queued before them on the device's accelerator, which runs one request at a time; weighed
    as :func:`local_counts`. Empty without the columns."""
    import numpy as np

    need = {"fleet", "service", "placement", "outcome", "queue_ms"}
    if table.num_rows == 0 or not need <= set(table.column_names) or _prefix_only(trace):
        return {}
    place, places = _codes(table.column("placement"))
    outcome, outcomes = _codes(table.column("outcome"))
    if LOCAL not in places or "late" not in outcomes:
        return {}
    queued = np.nan_to_num(table.column("queue_ms").to_numpy(zero_copy_only=False)) > 0.0
    return _by_fleet_and_service(table, trace, (place == places.index(LOCAL))
                                 & (outcome == outcomes.index("late")) & queued)


def read_local_counts(folder: str | Path, trace: Mapping[str, Any] | None = None
                      ) -> dict[tuple[str, str], float]:
    """:func:`local_counts` of the run in ``folder``; empty without a request trace (or one
    without the columns it reads) or where it cannot be read (:func:`read_local_shares` says
    so)."""
    return _read_counts(folder, ["request", "fleet", "service", "placement"], local_counts,
                        trace)


def read_held_on_device(folder: str | Path, trace: Mapping[str, Any] | None = None
                        ) -> dict[tuple[str, str], float]:
    """:func:`held_on_device` of the run in ``folder`` (empty as :func:`read_local_counts`)."""
    return _read_counts(folder, ["request", "fleet", "service", "placement", "outcome",
                                 "queue_ms"], held_on_device, trace)


def _read_counts(folder: str | Path, cols: list[str],
                 count: Callable[[pa.Table, Mapping[str, Any] | None],
                                 dict[tuple[str, str], float]],
                 trace: Mapping[str, Any] | None) -> dict[tuple[str, str], float]:
    """``count`` of the columns ``cols`` of the run's requests.parquet in ``folder``."""
    import pyarrow.parquet as pq

    file = Path(folder) / "requests.parquet"
    try:
        if not file.is_file() or not set(cols) <= set(pq.read_schema(file).names):
            return {}
        if "created_s" in pq.read_schema(file).names:  # (the warm-up's rows weigh nothing)
            cols = [*cols, "created_s"]
        return count(pq.read_table(file, columns=cols), trace)
    except (OSError, pa.ArrowException):
        return {}


def any_local(shares: Mapping[str, LocalShare]) -> bool:
    """Whether some service ran some of its requests on the devices."""
    return any(s.requests > 0 for s in shares.values())


def split_breakdown(breakdown: Mapping[str, Any], share: LocalShare) -> dict[str, float | None]:
    """``breakdown`` (one service's breakdown_ms) with ``queue`` and ``compute`` each split into
    ``*_device`` (on the devices' own processors, accelerator or CPU) and ``*_sites`` (at
    compute sites)."""
    out: dict[str, float | None] = {}
    for stage in SPLIT_STAGES:
        base, _, where = stage.partition("_")
        if base in ("queue", "compute") and where in ("device", "sites"):
            v = breakdown.get(base)
            frac = getattr(share, base)
            out[stage] = None if v is None else float(v) * (frac if where == "device"
                                                            else 1.0 - frac)
        else:
            out[stage] = breakdown.get(stage)
    return out


def late_parts(service: Mapping[str, Any]) -> dict[str, float | None] | None:
    """Where a service's late requests spent their time: their mean breakdown (ms) with queue
    and compute split into ``*_device`` and ``*_sites`` as :data:`SPLIT_STAGES`, exact (the
    engine sums the late ones' parts by where they ran); None without late requests or in a
    summary written before airan kept them (``late_breakdown_ms``)."""
    late = service.get("late_breakdown_ms")
    if not late or not service.get("late") or late.get("queue") is None:
        return None
    device = service.get("late_device_ms") or {}
    out: dict[str, float | None] = {}
    for stage in SPLIT_STAGES:
        base, _, where = stage.partition("_")
        if base in ("queue", "compute") and where in ("device", "sites"):
            here = float(device.get(base) or 0.0)
            out[stage] = here if where == "device" else float(late[base]) - here
        else:
            out[stage] = late.get(stage)
    # the wait at compute sites that failed with them there, told apart from the transport it
    # is booked as (FAILED_SITE; a hospital's review read a dead server as backhaul to buy)
    failed = float(service.get("late_failed_site_ms") or 0.0)
    if failed > 0.0 and out.get("ul_transport") is not None:
        out["ul_transport"] = max(float(out["ul_transport"] or 0.0) - failed, 0.0)
        out[FAILED_SITE] = failed
    return out


def overhead_ms(service: Mapping[str, Any]) -> float:
    """A service's mean latency less the sum of its mean parts (ms): 0 in a simulated run,
    whose parts add up to each request's latency; in a live run, what the runtime adds beyond
    the delays it applies and the site's queue and compute (``live.overhead_ms``), which the
    parts leave out (0 where it rounds away: under 0.01 ms and 0.5% of the mean)."""
    mean = service.get("latency_ms", {}).get("mean")
    if mean is None:
        return 0.0
    rest = float(mean) - sum(float(x or 0.0) for x in service["breakdown_ms"].values())
    return rest if rest > max(0.01, 0.005 * float(mean)) else 0.0
