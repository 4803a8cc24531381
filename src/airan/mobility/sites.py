"""Real site lists: read a CSV of latitude/longitude, project to local metres, skip outliers.

Projection: azimuthal equidistant on a sphere of the IUGG mean Earth radius (6,371,008.8 m),
centred on the list's median point (or a given origin); x east, y north, metres. Distances from
the origin are exact great-circle distances; between two other points the plane distance is
within a factor 1 + c^2/6 (c: angular distance from the origin) of the great-circle distance,
i.e. about 0.001 % within 50 km and under 0.01 % within 150 km (c^2/6: 1.0e-5, 9.2e-5). The
sphere itself differs from the WGS-84 ellipsoid by up to about 0.3 % in distance at mid
latitudes (Snyder, "Map Projections - A Working Manual", USGS PP 1395, 1987, pp. 191-202) -
negligible for path loss.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airan.errors import InputError

__all__ = [
    "EARTH_RADIUS_M",
    "SiteList",
    "haversine_m",
    "load_site_list",
    "project_aeqd",
    "read_csv_table",
    "unproject_aeqd",
]

#: IUGG mean Earth radius R1 (Moritz, "Geodetic Reference System 1980"), metres.
EARTH_RADIUS_M = 6_371_008.8

#: Whatever the spread of a list, the robust radius is at least this (a campus of 4 masts
#: 200 m apart keeps all four), metres.
MIN_ROBUST_RADIUS_M = 1000.0


def haversine_m(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray:
    """Great-circle distance on the mean-radius sphere, metres (inputs in degrees, broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def project_aeqd(
    lat: ArrayLike, lon: ArrayLike, lat0: float, lon0: float
) -> tuple[NDArray, NDArray]:
    """Azimuthal equidistant projection (sphere) around (lat0, lon0): (x east, y north), metres.

    Snyder 1987, eqs. (25-2) to (25-4); the angular distance c comes from the haversine formula,
    which is accurate at small distances.
    """
    phi, lam = np.radians(lat), np.radians(lon)
    phi0, lam0 = math.radians(lat0), math.radians(lon0)
    dl = lam - lam0
    c = haversine_m(lat, lon, lat0, lon0) / EARTH_RADIUS_M
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(c > 1e-12, c / np.sin(c), 1.0)
    x = EARTH_RADIUS_M * k * np.cos(phi) * np.sin(dl)
    north = math.cos(phi0) * np.sin(phi) - math.sin(phi0) * np.cos(phi) * np.cos(dl)
    y = EARTH_RADIUS_M * k * north
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def unproject_aeqd(x: ArrayLike, y: ArrayLike, lat0: float, lon0: float) -> tuple[NDArray, NDArray]:
    """Inverse of :func:`project_aeqd`: (lat, lon) in degrees (Snyder 1987, eqs. 20-14, 20-15)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    phi0, lam0 = math.radians(lat0), math.radians(lon0)
    rho = np.hypot(x, y)
    c = rho / EARTH_RADIUS_M
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(rho > 0, y * np.sin(c) / rho, 0.0)
    phi = np.arcsin(np.clip(np.cos(c) * math.sin(phi0) + s * math.cos(phi0), -1.0, 1.0))
    lam = lam0 + np.arctan2(
        x * np.sin(c), rho * math.cos(phi0) * np.cos(c) - y * math.sin(phi0) * np.sin(c)
    )
    lon = (np.degrees(lam) + 180.0) % 360.0 - 180.0
    return np.degrees(phi), lon


@dataclass(frozen=True)
class SiteList:
    """Sites kept from a list, in local metres, and the rows that were skipped.

    ``outliers``: (line number in the file, reason) for every skipped row; ``rows``: the line
    number of every kept site (the header is line 1).
    """

    path: str
    names: list[str]
    xy_m: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    regions: list[str] | None
    origin_lat: float
    origin_lon: float
    outliers: list[tuple[int, str]] = field(default_factory=list)
    rows: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    radius_limit_m: float = math.inf
    # per site where the file has the column (NaN where its cell is empty; None: no column):
    # the antennas' height (m), the first sector's bearing (degrees clockwise from north, as
    # site databases give it) and the downtilt (degrees below the horizon)
    height_m: NDArray[np.float64] | None = None
    azimuth_deg: NDArray[np.float64] | None = None
    downtilt_deg: NDArray[np.float64] | None = None
    projection: str = "azimuthal equidistant, sphere R = 6371008.8 m"

    def __len__(self) -> int:
        return len(self.names)

    def summary(self, max_shown: int = 5) -> str:
        """One paragraph for the user: kept, skipped, and the first few reasons."""
        x, y = self.xy_m[:, 0], self.xy_m[:, 1]
        text = (
            f"{self.path}: {len(self)} sites kept, {len(self.outliers)} skipped; "
            f"origin ({self.origin_lat:.6f}, {self.origin_lon:.6f}); extent "
            f"{(x.max() - x.min()) / 1e3:.1f} km x {(y.max() - y.min()) / 1e3:.1f} km"
        )
        if self.outliers:
            shown = "; ".join(f"line {r}: {why}" for r, why in self.outliers[:max_shown])
            extra = len(self.outliers) - max_shown
            more = f" (+{extra} more)" if extra > 0 else ""
            text += f". Skipped: {shown}{more}"
        return text


def read_csv_table(path: str | Path, *, field: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and their line numbers of a CSV (``,``, ``;`` or tab; UTF-8, BOM ok).

    A missing, unreadable or empty file raises :class:`InputError` naming ``field``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("is a folder, not a CSV file" if p.is_dir() else "file not found",
                         file=str(p), field=field)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the file as UTF-8 text: {exc}", file=str(p), field=field
        ) from None
    head = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(), dialect)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InputError("the file is empty (no header row)", file=str(p), field=field)
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not row or not any(c.strip() for c in row):
            continue
        rows.append(row)
        lines.append(reader.line_num)
    return [h.strip() for h in header], rows, lines


def _column(header: Sequence[str], col: str, *, file: str, field: str) -> int:
    if col in header:
        return header.index(col)
    raise InputError(
        f"column {col!r} is not in the file",
        file=file,
        field=field,
        value=col,
        choices=[h for h in header if h],
    )


#: what a list's optional column may hold for "not given" (an empty cell too): its default
MISSING_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "-"})


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def load_site_list(
    path: str | Path,
    *,
    lat: str = "latitude",
    lon: str = "longitude",
    name: str | None = None,
    region: str | None = None,
    max_radius_km: float | None = None,
    iqr_k: float = 3.0,
    origin: tuple[float, float] | None = None,
    name_prefix: str = "site",
    field: str = "cell_sites_file",
    merge_within_m: float | None = None,
    height: str | None = None,
    azimuth: str | None = None,
    downtilt: str | None = None,
) -> SiteList:
    """Read a site list (CSV with latitude/longitude in degrees) and project it to local metres.

    Skipped and reported (never fatal): rows whose lat or lon is empty or not a number, lat
    outside [-90, 90] or lon outside [-180, 180], and points farther than ``max_radius_km`` from
    ``origin`` (lat, lon) where given, else from the median point, or, without
    ``max_radius_km``, farther from the median point than max(Q3 + ``iqr_k`` x IQR of the
    distances to it, 1 km) (Tukey's far-out fence on distance). The projection is centred on
    ``origin`` or on the median of the kept points; see the module docstring. With
    ``merge_within_m``, a row within that distance of an earlier kept row is skipped too (one
    mast listed twice, two operators' entries for one rooftop: as two co-channel sites they
    would interfere with each other at nearly their own strength). ``height``, ``azimuth`` and
    ``downtilt`` name columns of each site's antenna height (m, 0-1,000), its first sector's
    bearing (degrees clockwise from north: ``site/0`` points there, ``site/1`` and ``site/2``
    at 240 and 120 degrees clockwise from it, TR 38.901's counter-clockwise numbering) and its
    downtilt (degrees, 0-90); an empty cell (or NA, NaN, NULL, none, -) leaves the scenario's
    default, a value that is not a number or out of range skips the row.
    Sites are named from the ``name`` column (a repeated name gets ``-2``, ``-3``, ...) or
    ``<name_prefix><i>``. A missing file, a missing column or no usable row raises
    :class:`InputError` (the missing column's message lists the file's columns).
    """
    file = str(path)
    header, rows, lines = read_csv_table(path, field=f"{field}.path")
    i_lat = _column(header, lat, file=file, field=f"{field}.lat")
    i_lon = _column(header, lon, file=file, field=f"{field}.lon")
    i_name = None if name is None else _column(header, name, file=file, field=f"{field}.name")
    i_reg = None if region is None else _column(header, region, file=file, field=f"{field}.region")
    # (key, column index, column name, lowest, highest, lowest excluded)
    extra_cols = [(key, _column(header, col, file=file, field=f"{field}.{key}"), col, lo, hi, excl)
                  for key, col, lo, hi, excl in (("height", height, 0.0, 1000.0, True),
                                                 ("azimuth", azimuth, -360.0, 360.0, False),
                                                 ("downtilt", downtilt, 0.0, 90.0, False))
                  if col is not None]
    extra_v: dict[str, list[float]] = {key: [] for key, *_ in extra_cols}

    outliers: list[tuple[int, str]] = []
    ok_rows: list[int] = []
    lat_v: list[float] = []
    lon_v: list[float] = []
    first_at: dict[tuple[float, float], int] = {}  # a position's first line (a row repeated)
    for k, (row, line) in enumerate(zip(rows, lines, strict=True)):
        cells = []
        for idx, col in ((i_lat, lat), (i_lon, lon)):
            raw = row[idx].strip() if idx < len(row) else ""
            if not raw:
                outliers.append((line, f"empty {col!r}"))
                break
            v = _number(raw)
            if v is None:
                outliers.append((line, f"{col!r} value {raw!r} is not a number"))
                break
            cells.append(v)
        else:
            la, lo = cells
            if not -90.0 <= la <= 90.0:
                outliers.append((line, f"latitude {la} outside [-90, 90]"))
            elif not -180.0 <= lo <= 180.0:
                outliers.append((line, f"longitude {lo} outside [-180, 180]"))
            elif (la, lo) in first_at:  # the same site twice would interfere with itself
                outliers.append((line, f"the same position as line {first_at[la, lo]}"))
            else:
                values: dict[str, float] = {}
                for key, idx, col, v_lo, v_hi, excl in extra_cols:
                    raw = row[idx].strip() if idx < len(row) else ""
                    # (NA, NaN, NULL, none, "-": an export's missing value, as an empty cell;
                    # a diff review: a height of "nan" dropped its mast)
                    v = math.nan if raw.lower() in MISSING_WORDS else _number(raw)
                    if v is None or not (math.isnan(v) or (v_lo < v <= v_hi if excl
                                                           else v_lo <= v <= v_hi)):
                        outliers.append((line, f"{col!r} value {raw!r} is not a number in "
                                         f"{'(' if excl else '['}{v_lo:g}, {v_hi:g}]"))
                        break
                    values[key] = v
                else:
                    first_at[la, lo] = line
                    ok_rows.append(k)
                    lat_v.append(la)
                    lon_v.append(lo)
                    for key in extra_v:
                        extra_v[key].append(values[key])
    if not ok_rows:
        raise InputError(
            f"no usable row among {len(rows)} (first problem: "
            f"{outliers[0][1] if outliers else 'no data rows'})",
            file=file,
            field=f"{field}.lat" if rows else f"{field}.path",
        )
    la_a, lo_a = np.array(lat_v), np.array(lon_v)
    # a radius is the user's district around their origin (an operator planner's review: an
    # origin in Lujiazui with a 1.5 km radius kept the sites around the list's median point,
    # 4-6 km away); the robust fence is the list's own outliers, around its median
    if origin is not None and max_radius_km is not None:
        around, c_lat, c_lon = "the origin", float(origin[0]), float(origin[1])
    else:
        around, c_lat, c_lon = "the median point", float(np.median(la_a)), _median_lon(lo_a)
    dist = haversine_m(la_a, lo_a, c_lat, c_lon)
    if max_radius_km is not None:
        limit = max_radius_km * 1e3
    elif len(dist) >= 4:
        q1, q3 = np.percentile(dist, [25, 75])
        limit = max(q3 + iqr_k * (q3 - q1), MIN_ROBUST_RADIUS_M)
    else:
        limit = math.inf
    keep = dist <= limit
    for j in np.flatnonzero(~keep):
        outliers.append(
            (
                lines[ok_rows[j]],
                f"({la_a[j]:.6f}, {lo_a[j]:.6f}) is {dist[j] / 1e3:.1f} km from {around} "
                f"(limit {limit / 1e3:.1f} km)",
            )
        )
    outliers.sort()
    if not keep.any():
        raise InputError(
            f"every point is farther than {limit / 1e3:.1f} km from {around}",
            file=file,
            field=f"{field}.max_radius_km",
        )
    kept = [ok_rows[j] for j in np.flatnonzero(keep)]
    la_k, lo_k = la_a[keep], lo_a[keep]
    extra = {key: np.asarray(v, dtype=float)[keep] for key, v in extra_v.items()}
    if origin is None:
        o_lat, o_lon = float(np.median(la_k)), _median_lon(lo_k)
    else:
        o_lat, o_lon = float(origin[0]), float(origin[1])
    x, y = project_aeqd(la_k, lo_k, o_lat, o_lon)
    if merge_within_m is not None and merge_within_m > 0 and len(kept) > 1:
        from scipy.spatial import cKDTree

        xy = np.c_[x, y]
        tree = cKDTree(xy)
        dropped = np.zeros(len(kept), dtype=bool)
        for i in range(len(kept)):  # in file order: the first row of a mast stands for it
            if dropped[i]:
                continue
            for j in tree.query_ball_point(xy[i], merge_within_m):
                if j > i and not dropped[j]:
                    dropped[j] = True
                    outliers.append((lines[kept[j]], f"{np.hypot(*(xy[j] - xy[i])):.1f} m from "
                                     f"line {lines[kept[i]]} (merge_within_m {merge_within_m:g})"))
        outliers.sort()
        stay = ~dropped
        kept = [k for k, s in zip(kept, stay, strict=True) if s]
        la_k, lo_k, x, y = la_k[stay], lo_k[stay], x[stay], y[stay]
        extra = {key: v[stay] for key, v in extra.items()}

    if i_name is None:
        names = [f"{name_prefix}{i}" for i in range(len(kept))]
    else:
        given = [rows[k][i_name].strip() if i_name < len(rows[k]) else "" for k in kept]
        for k, n in zip(kept, given, strict=True):
            if "/" in n or len(n) > 200:  # as a scenario's own names (schema.Name)
                raise InputError(
                    f"line {lines[k]}: name {n!r}: a site name is at most 200 characters, "
                    "without '/' (which names a site's sectors, 'site/0')", file=file,
                    field=f"{field}.name", value=n)
        names = _unique(given)
    regions = (
        None
        if i_reg is None
        else [rows[k][i_reg].strip() if i_reg < len(rows[k]) else "" for k in kept]
    )
    return SiteList(
        path=file,
        names=names,
        xy_m=np.c_[x, y],
        lat=la_k,
        lon=lo_k,
        regions=regions,
        origin_lat=o_lat,
        origin_lon=o_lon,
        outliers=outliers,
        rows=np.array([lines[k] for k in kept], dtype=np.int64),
        radius_limit_m=float(limit),
        height_m=extra.get("height"),
        azimuth_deg=extra.get("azimuth"),
        downtilt_deg=extra.get("downtilt"),
    )


def _median_lon(lon: NDArray) -> float:
    """Median longitude, safe across the antimeridian (unwrapped around the circular mean)."""
    ang = np.radians(lon)
    ref = math.degrees(math.atan2(np.sin(ang).mean(), np.cos(ang).mean()))
    rel = (lon - ref + 180.0) % 360.0 - 180.0
    return float((np.median(rel) + ref + 180.0) % 360.0 - 180.0)


def _unique(names: list[str]) -> list[str]:
    used: set[str] = set()
    out = []
    for i, n in enumerate(names):
        base = n or f"row{i}"
        cand, k = base, 1
        while cand in used:
            k += 1
            cand = f"{base}-{k}"
        used.add(cand)
        out.append(cand)
    return out
