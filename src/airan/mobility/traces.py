"""Position traces: CSV (``t, device, x, y[, z]`` or lat/lon) and SUMO FCD XML readers.

Both return a :class:`Trace`: per device, its samples sorted by time, stored flat (device d's
samples are ``start[d]:end[d]``). Bad input raises :class:`InputError` naming the file, the line
and the column.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from airan.errors import InputError
from airan.mobility.config import TraceReplay
from airan.mobility.sites import _column, _number, project_aeqd, read_csv_table

__all__ = ["Trace", "read_trace"]


@dataclass(frozen=True)
class Trace:
    """Samples of ``len(ids)`` devices, flat and sorted by (device, time); z is NaN where the
    file gives no height. ``origin``: the (lat, lon) of the local frame for a lat/lon trace."""

    ids: list[str]
    t_s: NDArray[np.float64]
    xyz_m: NDArray[np.float64]
    start: NDArray[np.int64]
    end: NDArray[np.int64]
    origin: tuple[float, float] | None = None
    #: a SUMO FCD's devices per element (vehicle, person, container) it replays; () for a CSV
    kinds: tuple[tuple[str, int], ...] = ()


def missing_trace_reason(path: str | Path) -> str:
    """Why a trace cannot be read at ``path``, which is no file: a folder, or nothing there."""
    return "is a folder, not a trace file" if Path(path).is_dir() else "trace file not found"


def read_trace(
    spec: TraceReplay,
    path: str | Path,
    *,
    origin: tuple[float, float] | None = None,
    field: str = "mobility",
) -> Trace:
    """Read the trace ``spec`` describes from ``path``.

    Lat/lon traces are projected (azimuthal equidistant) around the spec's origin, else
    ``origin``, else the trace's median point; ``spec.offset_m`` is then added to x, y.
    """
    file = str(path)
    if not Path(path).is_file():
        raise InputError(missing_trace_reason(path), file=file, field=f"{field}.file")
    kinds: tuple[tuple[str, int], ...] = ()
    if spec.format == "csv":
        ids_raw, t, a, b, z = _read_csv(spec, path, field=field)
    else:
        ids_raw, t, a, b, z, kinds = _read_fcd(path, field=field, elements=spec.elements,
                                               types=spec.types)
    if len(t) == 0:
        picked = "".join(f"; {k}: {v}" for k, v in (("elements", spec.elements),
                                                     ("types", spec.types)) if v is not None)
        raise InputError(f"the trace has no samples{picked}" + (
            " (none of the file's elements are of these)" if picked else ""), file=file,
            field=f"{field}.{'types' if spec.types is not None else 'elements'}"
            if picked else f"{field}.file")
    used_origin = None
    if spec.latlon:
        lat, lon = (b, a)  # CSV: (x, y) slots hold (lon, lat); FCD geo: x = lon, y = lat
        bad = (np.abs(lat) > 90) | (np.abs(lon) > 180)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"sample {j + 1} has latitude {lat[j]}, longitude {lon[j]} out of range",
                file=file,
                field=f"{field}.latlon",
            )
        if spec.origin_lat is not None and spec.origin_lon is not None:
            used_origin = (spec.origin_lat, spec.origin_lon)
        elif origin is not None:
            used_origin = (float(origin[0]), float(origin[1]))
        else:
            from airan.mobility.sites import _median_lon  # safe across the antimeridian

            all_lat, all_lon = lat, lon
            if spec.format == "sumo_fcd" and (spec.elements or spec.types):
                # the whole file's median, not the picked elements' (a diff review: a car and
                # a pedestrian on one spot, split into two fleets, landed 310 m apart)
                _, _, all_lon, all_lat, _, _ = _read_fcd(path, field=field)
            used_origin = (float(np.median(all_lat)), _median_lon(all_lon))
        a, b = project_aeqd(lat, lon, *used_origin)
    a = a + spec.offset_m[0]
    b = b + spec.offset_m[1]

    # Devices in order of first appearance; samples sorted by (device, time), stable.
    uniq, first, inv = np.unique(ids_raw, return_index=True, return_inverse=True)
    order_of_first = np.argsort(first, kind="stable")
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order_of_first] = np.arange(len(uniq))
    dev = rank[inv.ravel()]
    order = np.lexsort((t, dev))
    dev = dev[order]
    # one device at two places at one time: which the replay takes would rest on the rows'
    # order (a vehicle maker's review: such a trace was accepted without a word)
    ts, xs, ys = t[order], a[order], b[order]
    clash = np.flatnonzero((dev[1:] == dev[:-1]) & (ts[1:] == ts[:-1])
                           & ((xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])))
    if len(clash):
        k = int(clash[0])
        name = uniq[order_of_first[dev[k]]]
        raise InputError(
            f"device {str(name)!r} has two samples at t {ts[k]:g} s at different positions "
            f"({xs[k]:g}, {ys[k]:g}) and ({xs[k + 1]:g}, {ys[k + 1]:g}): keep one",
            file=file, field=f"{field}.file")
    # a step faster than sound: positions in km or times in ms read as m and s, most likely
    # (a V2X engineer's review: a 2 km jump in 0.1 s replayed as an ordinary handover)
    from airan.mobility.config import MAX_SPEED_MPS

    zs = z[order]
    same = dev[1:] == dev[:-1]
    dt = ts[1:] - ts[:-1]
    step = np.hypot(np.hypot(xs[1:] - xs[:-1], ys[1:] - ys[:-1]),
                    np.nan_to_num(zs[1:] - zs[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(same & (dt > 0), step / dt, 0.0)
    # (units, not a glitch: most of three or more moving steps that fast; a GPS spike or a
    # SUMO teleport of a jammed vehicle is one step, kept (a diff review), as a test's jump;
    # positions off the map altogether are said as such where the scenario is checked)
    moving = speed[speed > 0]
    fast = np.flatnonzero(speed > MAX_SPEED_MPS)
    if len(fast) and len(moving) >= 3 and float(np.median(moving)) > MAX_SPEED_MPS \
            and np.all(np.abs(np.nan_to_num(np.c_[xs, ys])) <= 1e7):
        k = int(fast[0])
        name = uniq[order_of_first[dev[k]]]
        raise InputError(
            f"device {str(name)!r} moves {step[k]:,.1f} m in {dt[k]:g} s between t {ts[k]:g} and "
            f"{ts[k + 1]:g} s ({speed[k]:,.0f} m/s), and most of the trace's steps are faster "
            f"than sound ({MAX_SPEED_MPS:g} m/s, the mobility models' limit): positions in "
            "metres and times in seconds?",
            file=file, field=f"{field}.file")
    counts = np.bincount(dev, minlength=len(uniq))
    end = np.cumsum(counts)
    return Trace(
        ids=[str(uniq[i]) for i in order_of_first],
        t_s=t[order],
        xyz_m=np.c_[a[order], b[order], z[order]],
        start=end - counts,
        end=end,
        origin=used_origin,
        kinds=kinds,
    )


def _read_csv(
    spec: TraceReplay, path: str | Path, *, field: str
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    file = str(path)
    cols = spec.columns
    header, rows, lines = read_csv_table(path, field=f"{field}.file")
    if header and header[0].lstrip().startswith("<"):  # (a vehicle maker's review: the
        raise InputError(  # message offered the XML declaration as a column)
            "the file is XML, not CSV: a SUMO floating car data trace is format: sumo_fcd",
            file=file, field=f"{field}.format", value=spec.format)
    f_cols = f"{field}.columns"
    i_t = _column(header, cols.t, file=file, field=f"{f_cols}.t")
    i_d = _column(header, cols.device, file=file, field=f"{f_cols}.device")
    if spec.latlon:
        i_a = _column(header, cols.lon, file=file, field=f"{f_cols}.lon")
        i_b = _column(header, cols.lat, file=file, field=f"{f_cols}.lat")
    else:
        i_a = _column(header, cols.x, file=file, field=f"{f_cols}.x")
        i_b = _column(header, cols.y, file=file, field=f"{f_cols}.y")
    i_z = header.index(cols.z) if cols.z in header else None
    n = len(rows)
    t, a, b = np.empty(n), np.empty(n), np.empty(n)
    z = np.full(n, np.nan)
    ids: list[str] = []
    for k, (row, line) in enumerate(zip(rows, lines, strict=True)):
        for arr, idx in ((t, i_t), (a, i_a), (b, i_b)):
            raw = row[idx].strip() if idx < len(row) else ""
            v = _number(raw)
            if v is None:
                raise InputError(
                    f"line {line}: column {header[idx]!r} value {raw!r} is not a number",
                    file=file,
                    field=f"{field}.file",
                )
            arr[k] = v
        if i_z is not None and i_z < len(row) and row[i_z].strip():
            v = _number(row[i_z].strip())
            if v is None:
                raise InputError(
                    f"line {line}: column {cols.z!r} value {row[i_z].strip()!r} is not a number",
                    file=file,
                    field=f"{field}.file",
                )
            if v < 0.0:  # (0 kept: a ground vehicle's trace, as a waypoint's z,
                # mobility.config._Altitude; the top: scenario.load._check_trace)
                raise InputError(
                    f"line {line}: column {cols.z!r} value {row[i_z].strip()!r} is below "
                    "ground: z is the height above ground (m), 0 or more",
                    file=file,
                    field=f"{field}.file",
                )
            z[k] = v
        device = row[i_d].strip() if i_d < len(row) else ""
        if not device:  # (a V2X engineer's review: rows of no device were one device "")
            raise InputError(f"line {line}: column {cols.device!r} is empty: every sample "
                             "names its device", file=file, field=f"{field}.columns.device")
        ids.append(device)
    return np.array(ids, dtype=str), t, a, b, z


#: Elements of a SUMO FCD timestep that carry a position (SUMO docs, "FCDOutput").
_FCD_TAGS = ("vehicle", "person", "container")


def _read_fcd(
    path: str | Path, *, field: str, elements: Sequence[str] | None = None,
    types: list[str] | None = None,
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray, tuple[tuple[str, int], ...]]:
    """SUMO ``--fcd-output``: ``<fcd-export><timestep time="0.00"><vehicle id=".." x=".." y=".."
    .../></timestep>...``, the ``elements`` (tags; all of :data:`_FCD_TAGS` by default) of the
    ``types`` (their ``type`` attribute; any by default). SUMO's ``z`` is the road's
    elevation, not the height above ground, so it is ignored (the fleet's height is used).
    Returns the samples and the devices per element read. A person or container whose id an
    element of another kind has too is read ``TAG:ID`` (SUMO keeps vehicles', persons' and
    containers' ids apart)."""
    file = str(path)
    tags = set(_FCD_TAGS if elements is None else elements)
    wanted = None if types is None else set(types)
    seen: dict[str, set[str]] = {tag: set() for tag in _FCD_TAGS}
    tag_of: list[str] = []
    ids: list[str] = []
    t: list[float] = []
    xs: list[float] = []
    ys: list[float] = []
    try:
        for _, elem in ET.iterparse(str(path), events=("end",)):
            if elem.tag != "timestep":
                continue
            tt = _number(elem.get("time", ""))
            if tt is None:
                raise InputError(
                    f"a <timestep> has time {elem.get('time')!r}, not a number",
                    file=file,
                    field=f"{field}.file",
                )
            for child in elem:
                if child.tag not in tags or (wanted is not None
                                             and child.get("type") not in wanted):
                    continue
                x, y = _number(child.get("x", "")), _number(child.get("y", ""))
                if x is None or y is None or child.get("id") is None:
                    raise InputError(
                        f"<{child.tag} id={child.get('id')!r}> at time {tt} lacks an id, or a "
                        "numeric x or y",
                        file=file,
                        field=f"{field}.file",
                    )
                ids.append(child.get("id", ""))
                seen[child.tag].add(ids[-1])
                tag_of.append(child.tag)
                t.append(tt)
                xs.append(x)
                ys.append(y)
            elem.clear()
    except ET.ParseError as exc:
        raise InputError(
            f"not valid SUMO FCD XML: {exc}", file=file, field=f"{field}.file"
        ) from None
    n = len(t)
    shared = {i for a in _FCD_TAGS for b in _FCD_TAGS if a < b for i in seen[a] & seen[b]}
    if shared:
        ids = [f"{tag}:{i}" if tag != "vehicle" and i in shared else i
               for i, tag in zip(ids, tag_of, strict=True)]
    kinds = tuple((tag, len(seen[tag])) for tag in _FCD_TAGS if seen[tag])
    return (np.array(ids, dtype=str), np.array(t), np.array(xs), np.array(ys), np.full(n, np.nan),
            kinds)
