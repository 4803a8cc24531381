"""National scale: split a scenario into regional shards, run each as a Ray task, merge exactly.

A scenario is cut into regions either by a grid over its cell sites (``regions="4x4"``: equal
boxes over the sites' bounding box, the outer boxes open to infinity) or by a region label per
cell site (a mapping, or a CSV file with columns ``site`` (or ``name``) and ``region``, as an
imported site list carries). Each region becomes a scenario of its own (a shard):

- its cell sites, and the compute sites at them (``generated_compute_sites`` included, at the
  same sites as in the whole scenario);
- its share of every fleet: a fleet at given points, the devices whose points are in its
  region (its box, or its sites' nearest); else its piece of each fleet's area cut along the
  region boundaries (grid: exactly, a disc in strips of 1/32 of its radius; labels: on a 256 x
  256 raster, each tile going to the region of its nearest site) and its devices apportioned to
  the pieces by area, by largest remainder, so device totals are exact;
- every node that is not a cell site (edge, cloud), and a pro-rata share of what is shared
  across regions: the GPUs and queue limits of compute sites at those nodes and the capacity of
  links between them, in proportion to the region's offered request rate (GPUs by largest
  remainder, at least one per region);
- its own seed, ``seed + k * SEED_STRIDE`` for shard k = 0, 1, ... (modulo 2**63, as seeds
  are below it)

The shards' summaries merge exactly (:mod:`airan.sweep.merge`): counts add and percentiles come
from the added histograms. What is approximated, the cross-shard physics, is listed in the
merged summary under ``sharding.approximation`` and in docs/sweeps.md. With one region the shard
is the scenario itself and the run is identical to an unsharded one.

``sites=N`` first grows (or shrinks) the scenario's hex cell layout to its first N sites, ring by
ring at the same inter-site distance; fleet areas scale about the layout's centre by sqrt(N/N0)
and device counts by N/N0 (same density), and so do the shared GPUs, queue limits and links
(same load per shared GPU). That one parameter takes the built-in ``korea`` from its 331-site
sample to the 345,795 sites of Korea's 5G network.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from airan.errors import InputError, unknown_name

SEED_STRIDE = 1_000_003  # shard k runs on seed + k * SEED_STRIDE
STRIPS_PER_RADIUS = 32  # a disc fleet area cut by a region boundary: strips of radius / 32
RASTER = 256  # label regions: tiles per axis over a fleet's area
KOREA_SITES = 345_795  # Korea's 5G base stations, Aug 2024 (DOMAIN.md)

APPROXIMATION = (
    "Each shard simulates only its own cells: interference from the cells of other regions and "
    "devices crossing a region boundary are not modelled, so devices near a boundary see less "
    "interference than in one run of the whole scenario, and lose the other region's cells, "
    "which may be their nearest: they then send at more power for longer, and device energy "
    "per request is the figure most affected (city cut 2x1, 2 s: 6.2 mJ against 4.3 mJ whole).",
    "Devices are apportioned to regions by area (largest remainder: totals exact); a disc area "
    f"is cut in strips of 1/{STRIPS_PER_RADIUS} of its radius, label regions on a "
    f"{RASTER}x{RASTER} raster (each tile to the region of its nearest site).",
    "Shared capacity (compute sites at nodes that are not cell sites, e.g. edge and cloud, and "
    "links between such nodes) is split pro rata to each region's offered request rate: GPUs "
    "and queue limits by largest remainder (at least 1 per region: more GPUs in all where a site "
    "has fewer than there are regions), link capacity exactly. One pooled queue becomes "
    "independent queues of about the same total capacity: pooling across "
    "regions is lost (queueing at shared sites is pessimistic), and a copy with few GPUs forms "
    "smaller batches (more GPU time per request).",
    "A request is served within its region: cell-site GPUs of other regions are not candidates.",
)


@dataclass
class ShardPlan:
    """A scenario cut into regions; :meth:`scenario` builds shard k's scenario dict on demand."""

    name: str
    regions_spec: str
    labels: list[str]  # one per shard
    base: dict[str, Any]  # the scenario without sites, fleets, compute sites and links
    site_names: list[str]
    site_xy: np.ndarray  # [N, 2] m
    site_shard: np.ndarray  # [N] shard index
    site_dicts: list[dict[str, Any] | None]  # explicit cell sites as written (None: generated)
    layout_site: dict[str, Any]  # height, sectors, downtilt of generated sites
    compute: list[tuple[dict[str, Any], int]]  # (site, shard index; -1 = shared)
    shared_gpus: dict[str, np.ndarray]  # shared site -> [shards, groups] GPU counts
    shared_queue: dict[str, np.ndarray]  # shared site -> [shards] queue limit
    generated: dict[str, Any] | None
    generated_at: list[int]  # the cell sites (indices) generated_compute_sites stands at
    links: list[tuple[dict[str, Any], list[int]]]  # (link, shards; [] = shared by all)
    fleets: list[list[dict[str, Any]]]  # per shard
    share: np.ndarray  # [shards] share of the offered request rate
    sites_scale: float
    seed: int
    fleet0: dict[str, Any] = field(default_factory=dict)  # a fleet to copy for an empty shard
    notes: list[str] = field(default_factory=list)

    @property
    def n_shards(self) -> int:
        return len(self.labels)

    def shard_seed(self, k: int) -> int:
        """Shard ``k``'s seed: ``seed + k * SEED_STRIDE``, modulo 2**63 (seeds are below it)."""
        return (self.seed + k * SEED_STRIDE) % 2**63

    def sites(self, k: int) -> int:
        return int(np.count_nonzero(self.site_shard == k))

    def devices(self, k: int) -> int:
        return sum(int(f["count"]) for f in self.fleets[k])

    def scenario(self, k: int) -> dict[str, Any]:
        """Shard k's scenario, as a dict for :func:`airan.scenario.scenario_from_dict`."""
        d = copy.deepcopy(self.base)
        idx = np.flatnonzero(self.site_shard == k)
        members = set(idx.tolist())
        sites = []
        for i in idx.tolist():
            explicit = self.site_dicts[i] if i < len(self.site_dicts) else None
            if explicit is not None:
                sites.append(explicit)
            else:
                x, y = self.site_xy[i]
                sites.append({"name": self.site_names[i], "position_m": [float(x), float(y)],
                              **self.layout_site})
        d["cell_sites"] = sites
        d["cell_layout"] = None
        d["generated_compute_sites"] = None
        compute = []
        for site, owner in self.compute:
            if owner == k:
                compute.append(site)
            elif owner == -1:
                counts = self.shared_gpus[site["name"]][k]
                gpus = [{**g, "count": int(c)} for g, c in zip(site["gpus"], counts, strict=True)
                        if c > 0]
                compute.append({**site, "gpus": gpus,
                                "queue_limit": int(self.shared_queue[site["name"]][k])})
        g = self.generated
        if g is not None:
            from airan.scenario.schema import ComputeSite

            same = {key: v for key, v in g.items()
                    if key != "every" and key in ComputeSite.model_fields}
            for gi in self.generated_at:
                if gi in members:
                    compute.append({"name": f"gpu-{self.site_names[gi]}",
                                    "at": self.site_names[gi], "kind": "cell", **same})
        d["compute_sites"] = compute
        links, extra_nodes = [], {}
        index = {n: i for i, n in enumerate(self.site_names)}
        for link, owners in self.links:
            if not owners:
                links.append({**link, "capacity_gbps": link["capacity_gbps"] * max(
                    float(self.share[k]), 1e-9)})
            elif k in owners:
                links.append(link)
                for end in (link["a"], link["b"]):
                    pos = index.get(end)
                    if pos is not None and pos not in members:
                        extra_nodes[end] = [float(v) for v in self.site_xy[pos]]
        hub = (d.get("transport") or {}).get("backhaul") or None
        if hub is not None and hub["to"] in index and index[hub["to"]] not in members:
            extra_nodes[hub["to"]] = [float(v) for v in self.site_xy[index[hub["to"]]]]
        d["nodes"] = list(d.get("nodes") or []) + [
            {"name": n, "position_m": xy} for n, xy in extra_nodes.items()]
        d["transport"] = {**(d.get("transport") or {}), "links": links}
        d["fleets"] = self.fleets[k] or [{**self.fleet0, "count": 0, "area": None}]
        d["seed"] = self.shard_seed(k)
        if d.get("layout_seed") is not None:  # (its own too, as its seed)
            d["layout_seed"] = (int(d["layout_seed"]) + k * SEED_STRIDE) % 2**63
        if self.n_shards > 1:
            d["description"] = f"{d.get('description') or ''} [region {self.labels[k]}]".strip()
        return d


@dataclass(frozen=True)
class ShardedRun:
    """A sharded run: the merged summary, each shard's summary, and the plan."""

    summary: dict[str, Any]
    shards: list[dict[str, Any]]
    plan: ShardPlan
    folder: Path | None


# ---- the plan ----------------------------------------------------------------------------------
def parse_regions(regions: Any) -> tuple[str, Any]:
    """``("grid", (nx, ny))`` or ``("labels", {site: region})`` from what a user gives.

    Accepted: ``"4x4"``, ``(4, 4)``, a mapping site -> region, or a CSV path with columns
    ``site`` (or ``name``) and ``region``.
    """
    if isinstance(regions, Mapping):
        return "labels", {str(k): str(v) for k, v in regions.items()}
    if isinstance(regions, tuple | list) and len(regions) == 2:
        nx, ny = (int(v) for v in regions)
        return _grid(nx, ny, regions)
    text = str(regions).strip()
    m = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if m:
        return _grid(int(m.group(1)), int(m.group(2)), text)
    if Path(text).is_dir():
        raise InputError("is a folder: give NxM (a grid, e.g. 4x4) or a CSV file with site "
                         "and region columns", field="regions", value=text)
    if text.lower().endswith(".csv") or Path(text).is_file():
        return "labels", read_region_csv(text)
    raise InputError("expected NxM (a grid, e.g. 4x4) or a CSV file with site and region "
                     "columns", field="regions", value=text)


def _grid(nx: int, ny: int, given: Any) -> tuple[str, Any]:
    if nx < 1 or ny < 1 or nx * ny > 100_000:
        raise InputError("a grid needs 1..100,000 regions (NxM, N and M >= 1)",
                         field="regions", value=str(given))
    return "grid", (nx, ny)


def _site_column(path: str) -> str:
    """The name of a region CSV's site column as its header writes it (``site`` or ``name``)."""
    with open(path, newline="", encoding="utf-8") as fh:
        header = [h.strip() for h in next(csv.reader(fh), [])]
    return next((h for h in header if h.lower() == "site"),
                next((h for h in header if h.lower() == "name"), "site"))


def read_region_csv(path: str | Path) -> dict[str, str]:
    """``{site: region}`` from a CSV with a header naming ``site`` (or ``name``) and ``region``."""
    label = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            lower = {h.lower(): h for h in header}
            site_col = lower.get("site") or lower.get("name")
            region_col = lower.get("region")
            if site_col is None or region_col is None:
                raise InputError(f"needs columns 'site' (or 'name') and 'region'; has "
                                 f"{', '.join(header) or 'no header'}", file=label)
            out: dict[str, str] = {}
            for line, row in enumerate(reader, start=2):
                row = {(k or "").strip(): v for k, v in row.items()}
                site = (row.get(site_col) or "").strip()
                region = (row.get(region_col) or "").strip()
                if not site or not region:
                    raise InputError(f"line {line}: empty site or region", file=label)
                if out.get(site, region) != region:
                    raise InputError(f"line {line}: site {site!r} is in region "
                                     f"{out[site]!r} already (a site is in one region)",
                                     file=label, field=site_col, value=region)
                out[site] = region
    except FileNotFoundError:
        raise InputError("file not found", file=label) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read the CSV: {exc}", file=label) from None
    if not out:
        raise InputError("no rows", file=label)
    return out


def _imported_as_listed(sc: Any) -> list[dict[str, Any]]:
    """A scenario's ``cell_sites_file`` sites as listed cell sites (name, position, and the
    height, downtilt and sector bearing its columns give), in the engine's order."""
    from airan.scenario.schema import imported_sites

    sites = imported_sites(sc.cell_sites_file)
    out = []
    for i, (name, (x, y)) in enumerate(zip(sites.names, sites.xy_m, strict=True)):
        c: dict[str, Any] = {"name": name, "position_m": [float(x), float(y)]}
        for key, values in (("height_m", sites.height_m), ("downtilt_deg", sites.downtilt_deg)):
            if values is not None and not np.isnan(values[i]):
                c[key] = float(values[i])
        if sites.azimuth_deg is not None and not np.isnan(sites.azimuth_deg[i]):
            c["azimuth_deg"] = float((60.0 - sites.azimuth_deg[i] + 180.0) % 360.0 - 180.0)
        out.append(c)
    return out


def _pin_trace_origins(d: dict[str, Any], sc: Any) -> None:
    """Give each lat/lon trace without an origin of its own the site list's (which the shards,
    holding the sites as listed ones, no longer have)."""
    from airan.scenario.load import scenario_origin

    origin = scenario_origin(sc)
    for f in d["fleets"]:
        m = f.get("mobility") or {}
        if origin is not None and m.get("model") == "trace" and m.get("latlon") \
                and m.get("origin_lat") is None:
            m["origin_lat"], m["origin_lon"] = origin


def plan_shards(
    scenario: Any,
    regions: Any = "2x2",
    *,
    sites: int | None = None,
    policy: str | None = None,
    duration_s: float | None = None,
    seed: int | None = None,
    fleet_scale: float = 1.0,
) -> ShardPlan:
    """Cut ``scenario`` (a Scenario, built-in name or YAML path) into regional shards.

    ``regions``: see :func:`parse_regions`. ``sites``: grow the hex layout to this many sites
    first (module docstring). Nothing runs; :meth:`ShardPlan.scenario` gives each shard.
    """
    from airan.api import scale_fleets
    from airan.radio.geometry import hex_grid
    from airan.scenario import Scenario, load_scenario

    kind, spec = parse_regions(regions)
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if fleet_scale != 1.0:
        sc = scale_fleets(sc, fleet_scale)
    d = sc.model_dump(mode="json")
    if policy is not None:
        d["policy"] = policy
    if duration_s is not None:
        if not duration_s > 0:
            raise InputError("must be positive", field="duration_s", value=duration_s)
        d["duration_s"] = float(duration_s)
    base_seed = int(d["seed"] if seed is None else seed)
    if d.get("faults"):  # each shard would apply every fault to its own copy of the sites
        raise InputError(
            "faults are not split between regional shards (a gpu_down at a shared site would "
            "take down its GPUs in every shard's copy; a fault at a cell or site of one region "
            "is unknown in the others): run the scenario whole with `airan run`, or without "
            "its faults", field="faults", value=f"{len(d['faults'])} fault(s)")
    pools = [c for c in d["compute_sites"] if c.get("hosts_l1_of")]
    if pools and sc.ai_ran.mode != "none":  # (a review: every shard listed cell sites it lacks)
        raise InputError(
            "a pooled DU is not split between regional shards (its GPUs would be shared by "
            "request rate, not by the L1 of each region's cells): run the scenario whole with "
            "`airan run`", field=f"compute_sites[{pools[0]['name']}].hosts_l1_of",
            value=pools[0]["hosts_l1_of"][0])
    for c in pools:  # (without ai_ran it changes nothing: each shard lacks the others' sites)
        c["hosts_l1_of"] = []

    # ---- cell sites (explicit first, then the layout's: the engine's order) --------------------
    explicit = list(d["cell_sites"])
    n_listed = len(explicit)
    imported_xy = None
    if sc.cell_sites_file is not None:  # a site list's sites, each written out as listed
        explicit += _imported_as_listed(sc)  # (the whole list's origin kept for lat/lon traces)
        imported_xy = np.asarray([c["position_m"] for c in explicit[n_listed:]], float)
        d["cell_sites_file"] = None
        _pin_trace_origins(d, sc)
    names = [c["name"] for c in explicit]
    xy_parts = [np.asarray([c["position_m"] for c in explicit], float).reshape(-1, 2)]
    lay = d.get("cell_layout")
    ratio = 1.0
    layout_site: dict[str, Any] = {}
    center = np.zeros(2)
    if lay is not None:
        hx = lay["hex"]
        center = np.asarray(hx["center_m"], float)
        n0 = 3 * hx["rings"] * (hx["rings"] + 1) + 1
        n = n0 if sites is None else int(sites)
        if n < 1:
            raise InputError("must be at least 1", field="sites", value=sites)
        grid = (hex_grid(hx["rings"], hx["isd_m"]) if sites is None
                else disc_of_sites(n, hx["isd_m"]))
        xy_parts.append(grid + center)
        names += [f"{lay['name_prefix']}{i}" for i in range(n)]
        ratio = n / n0
        # (height_m absent where the layout gives none: the environment's, when validated)
        layout_site = {k: lay[k] for k in ("height_m", "sectors", "downtilt_deg") if k in lay}
    elif sites is not None:
        raise InputError("--sites needs a scenario with a hex cell_layout to grow",
                         field="sites", value=sites)
    site_xy = np.concatenate(xy_parts)
    site_dicts: list[dict[str, Any] | None] = [*explicit]
    cell_names = set(names)

    # ---- scale to `sites` (density and load per shared GPU kept) ------------------------------
    fleets = [dict(f) for f in d["fleets"]]
    shared_links_scale = 1.0
    if ratio != 1.0:
        k = math.sqrt(ratio)
        for f in fleets:
            if f["area"] is not None and "positions_m" in f["area"]:
                raise InputError(
                    "--sites grows the layout and each fleet's area and count with it; this "
                    "fleet stands at given points, which do not grow: give it a rectangle or "
                    "a disc to grow it, or run without --sites",
                    field=f"fleets[{f['name']}].area.positions_m", value=sites)
            f["count"] = int(round(f["count"] * ratio))
            f["area"] = _scale_area(f["area"], center, k)
        shared_links_scale = ratio
    compute_all = [dict(c) for c in d["compute_sites"]]
    for c in compute_all:
        if c["at"] not in cell_names and ratio != 1.0:
            c["gpus"] = [{**g, "count": max(1, int(round(g["count"] * ratio)))}
                         for g in c["gpus"]]
            c["queue_limit"] = max(1, int(round(c["queue_limit"] * ratio)))

    # ---- regions -----------------------------------------------------------------------------
    lo, hi = site_xy.min(axis=0), site_xy.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 50.0)  # the engine's area for a fleet without one
    xcuts = ycuts = np.zeros(0)  # (label regions: none; a grid's below)
    box_shard: np.ndarray | None = None
    if kind == "grid":
        nx, ny = spec
        # each cut runs between two rows (columns) of sites, not through one: a site on the
        # line would go to one side while its coverage spans both, and its region would get
        # fewer sites than devices (on a hex layout, whose centre row lies on a 2x1 cut,
        # the left half of city had 15 sites for 500 devices, the right 22)
        xcuts = _between_sites(lo[0] + (hi[0] - lo[0]) * np.arange(1, nx) / nx, site_xy[:, 0])
        ycuts = _between_sites(lo[1] + (hi[1] - lo[1]) * np.arange(1, ny) / ny, site_xy[:, 1])
        box = (np.searchsorted(ycuts, site_xy[:, 1], side="right") * nx
               + np.searchsorted(xcuts, site_xy[:, 0], side="right"))
        used = np.unique(box)
        box_shard = np.full(nx * ny, -1, dtype=np.int64)
        box_shard[used] = np.arange(len(used))
        site_shard = box_shard[box]
        labels = [f"x{b % nx}-y{b // nx}" for b in used]
        regions_spec = f"{nx}x{ny}"
    else:
        mapping: dict[str, str] = spec
        # a site list read from a CSV: its errors name the file (and its column)
        csv_file = str(regions) if isinstance(regions, str | Path) else None
        column = _site_column(csv_file) if csv_file else "regions"
        # a misspelt name first: it is also why a site has no region
        stray = [s for s in mapping if s not in cell_names]
        if stray:
            err = unknown_name("cell site", stray[0], names, field=column)
            raise err.with_file(csv_file) if csv_file else err
        missing = [n for n in names if n not in mapping]
        if missing:
            raise InputError(f"{len(missing):,} of {len(names):,} cell sites have no region, "
                             f"e.g. {missing[0]!r}", file=csv_file, field=column,
                             value=missing[0])
        labels = sorted({mapping[n] for n in names})
        pos = {lab: i for i, lab in enumerate(labels)}
        site_shard = np.asarray([pos[mapping[n]] for n in names], dtype=np.int64)
        regions_spec = f"site list ({len(labels)} regions)"
    n_shards = len(labels)
    tree = None

    def nearest_shard(points: np.ndarray) -> np.ndarray:
        nonlocal tree
        if tree is None:
            from scipy.spatial import cKDTree

            tree = cKDTree(site_xy)
        _, idx = tree.query(points)
        return site_shard[np.asarray(idx, dtype=np.int64)]

    # ---- fleets: pieces per shard, devices by largest remainder -------------------------------
    per_shard: list[list[dict[str, Any]]] = [[] for _ in range(n_shards)]
    rate = {v["name"]: float(v["rate_hz"]) for v in d["services"]}
    offered = np.zeros(n_shards)
    for f in fleets:
        paths = _listed_paths(f, n_shards)
        if paths is not None:  # it flies its paths, wherever its area is cut: by path
            pieces_of = _fleet_by_path(f, paths, nearest_shard)
            for s_k, piece in pieces_of.items():
                per_shard[s_k].append(piece)
                offered[s_k] += piece["count"] * sum(rate[v] for v in f["services"])
            continue
        if f["area"] is not None and "positions_m" in f["area"]:
            for s_k, piece in _points_pieces(f, kind, xcuts, ycuts, box_shard,
                                             nearest_shard).items():
                per_shard[s_k].append(piece)
                offered[s_k] += piece["count"] * sum(rate[v] for v in f["services"])
            continue
        rect = _fleet_rect(f["area"], lo - pad, hi + pad)
        if kind == "grid" and box_shard is not None:
            pieces = _grid_pieces(f["area"], rect, xcuts, ycuts)
            owner = box_shard[[p[0] for p in pieces]] if pieces else np.zeros(0, np.int64)
            lost = owner < 0
            if lost.any():  # a box without sites: its devices go to the nearest site's region
                centres = np.asarray([_centre(pieces[i][1]) for i in np.flatnonzero(lost)])
                owner[lost] = nearest_shard(centres)
        else:
            pieces, owner = _raster_pieces(f["area"], rect, nearest_shard)
        if len(set(owner.tolist())) <= 1:  # all in one region: the fleet as it is
            target = int(owner[0]) if len(owner) else int(nearest_shard(
                np.asarray([_centre(rect)]))[0])
            if f["area"] is None and n_shards > 1:  # None means the shard's own box: pin it
                f = {**f, "area": _rect_area(*rect)}
            per_shard[target].append(f)
            offered[target] += f["count"] * sum(rate[s] for s in f["services"])
            continue
        counts = largest_remainder(int(f["count"]), np.asarray([p[2] for p in pieces]))
        mine: dict[int, list[dict[str, Any]]] = {}
        for (_, area, _w), s, c in zip(pieces, owner, counts, strict=True):
            if c > 0:
                mine.setdefault(int(s), []).append({**f, "count": int(c), "area": area})
        for s, fl in mine.items():
            if len(fl) > 1:
                fl = [{**p, "name": f"{f['name']}#{j + 1}"} for j, p in enumerate(fl)]
            per_shard[s].extend(fl)
            offered[s] += sum(p["count"] for p in fl) * sum(rate[v] for v in f["services"])
    total = offered.sum()
    share = offered / total if total > 0 else np.full(n_shards, 1.0 / n_shards)

    # ---- compute sites and links --------------------------------------------------------------
    index = {n: i for i, n in enumerate(names)}
    compute: list[tuple[dict[str, Any], int]] = []
    shared_gpus: dict[str, np.ndarray] = {}
    shared_queue: dict[str, np.ndarray] = {}
    notes = list(APPROXIMATION)
    if any((f.get("mobility") or {}).get("model") in ("random_waypoint", "manhattan")
           for f in d["fleets"]):
        notes.append("Moving devices (random waypoint, Manhattan) move within their piece of the "
                     f"area (of a disc: a strip 1/{STRIPS_PER_RADIUS} of its radius tall), so "
                     "handovers and the figures of mobility differ from one run of the whole, "
                     "away from region boundaries too (city's vehicles on random waypoints cut "
                     "2x2, 2 s: 207 handovers against 243).")
    for c in compute_all:
        if c["at"] in index:
            compute.append((c, int(site_shard[index[c["at"]]])))
            continue
        compute.append((c, -1))
        groups = np.stack([largest_remainder(int(g["count"]), share) for g in c["gpus"]], axis=1)
        empty = groups.sum(axis=1) == 0
        groups[empty, 0] = 1  # at least one GPU per region
        shared_gpus[c["name"]] = groups
        shared_queue[c["name"]] = np.maximum(1, largest_remainder(int(c["queue_limit"]), share))
        before = sum(int(g["count"]) for g in c["gpus"])
        if int(groups.sum()) != before:
            notes.append(f"shared site {c['name']!r}: {before:,} GPUs in the whole scenario, "
                         f"{int(groups.sum()):,} over the shards (at least one per region)")
    links: list[tuple[dict[str, Any], list[int]]] = []
    for lk in d["transport"]["links"]:
        ends = [index.get(lk["a"]), index.get(lk["b"])]
        owners = sorted({int(site_shard[i]) for i in ends if i is not None})
        if not owners:
            lk = {**lk, "capacity_gbps": lk["capacity_gbps"] * shared_links_scale}
        elif len(owners) > 1:
            notes.append(f"link {lk['a']}-{lk['b']} joins two regions: each keeps it whole")
        links.append((lk, owners))
    base = {k: v for k, v in d.items() if k not in ("cell_sites", "fleets", "compute_sites")}
    base["transport"] = {k: v for k, v in d["transport"].items() if k != "links"}
    generated = d.get("generated_compute_sites")
    from airan.scenario.schema import generated_indices

    generated_at = ([] if generated is None else
                    generated_indices(n_listed, imported_xy, len(names), int(generated["every"])))
    plan = ShardPlan(
        name=d["name"], regions_spec=regions_spec, labels=labels, base=base, site_names=names,
        site_xy=site_xy, site_shard=site_shard, site_dicts=site_dicts, layout_site=layout_site,
        compute=compute, shared_gpus=shared_gpus, shared_queue=shared_queue,
        generated=generated, generated_at=generated_at, links=links, fleets=per_shard,
        share=share, sites_scale=ratio,
        seed=base_seed, fleet0=dict(d["fleets"][0]), notes=notes)
    if n_shards == 1:  # one region: the scenario exactly as it is (same sites, same streams)
        plan.notes = []
    return plan


def _listed_paths(fleet: dict[str, Any], n_shards: int) -> list[np.ndarray] | None:
    """Each listed waypoint path of a fleet as (x, y) points along it, at most
    :data:`PATH_STEP_M` apart (its legs, and the leg back to its start where it loops), where
    it has them and the scenario is cut in several shards (None otherwise). Its devices follow
    them wherever they lead, not within the fleet's area as the other mobility models keep
    them; a trace is refused here (its positions are in a file, unbounded by the area too)."""
    mob = fleet.get("mobility") or {}
    if n_shards <= 1:
        return None
    if mob.get("model") == "trace":
        raise InputError(
            "a trace's devices go where the file takes them, across region boundaries, and a "
            "shard simulates only its own cells: run the scenario whole with `airan run`",
            field=f"fleets[{fleet['name']}].mobility.model", value="trace")
    if mob.get("model") != "waypoints" or not mob.get("paths"):
        return None
    out = []
    for path in mob["paths"]:
        xy = np.asarray([p[:2] for p in path], dtype=float)
        if mob.get("loop", True) and len(xy) > 1:
            xy = np.vstack([xy, xy[:1]])
        legs = [xy[:1]]
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            n = min(int(np.ceil(np.hypot(*(b - a)) / PATH_STEP_M)), 100_000)
            legs.append(a + (b - a) * (np.arange(1, n + 1) / max(n, 1))[:, None])
        out.append(np.vstack(legs))
    return out


#: the spacing of the points at which a listed path's region is read (m)
PATH_STEP_M = 25.0


def _fleet_by_path(fleet: dict[str, Any], paths: list[np.ndarray],
                   nearest_shard: Any) -> dict[int, dict[str, Any]]:
    """A fleet on listed paths cut by path: device i flies path i mod P, so each region gets
    the paths that lie in it and their devices (one fleet as it is where they all lie in one).
    A path that crosses regions is refused: its devices would fly into cells the shard does
    not simulate, and fall into radio outage there."""
    region = []
    for i, xy in enumerate(paths):
        on = np.unique(nearest_shard(xy))
        if len(on) > 1:
            raise InputError(
                f"path {i} crosses {len(on)} regions, and a shard simulates only its own cells "
                "(its devices would fall into radio outage where they leave them): run the "
                "scenario whole with `airan run`, or keep each path within one region",
                field=f"fleets[{fleet['name']}].mobility.paths[{i}]",
                value=f"{len(fleet['mobility']['paths'][i]):,} waypoints")
        region.append(int(on[0]))
    n_paths, count = len(paths), int(fleet["count"])
    per_path = [count // n_paths + (1 if p < count % n_paths else 0) for p in range(n_paths)]
    regions = sorted(set(region))
    if len(regions) == 1:
        return {regions[0]: fleet}
    out = {}
    for j, r in enumerate(regions):
        mine = [p for p in range(n_paths) if region[p] == r]
        n = sum(per_path[p] for p in mine)
        if n > 0:
            mob = {**fleet["mobility"], "paths": [fleet["mobility"]["paths"][p] for p in mine]}
            out[r] = {**fleet, "name": f"{fleet['name']}#{j + 1}", "count": n, "mobility": mob}
    return out


def disc_of_sites(n: int, isd_m: float) -> np.ndarray:
    """The ``n`` sites of a hexagonal grid (``isd_m`` apart) nearest its centre, nearest first
    (ties by angle), shape (n, 2) m: a layout grown (or shrunk) to ``n`` sites covers a disc,
    as the fleets' discs it grows with do. Taken ring by ring instead, a hexagon's flat sides
    fell short of the discs by a growing margin (a planner's review: 3.7% of the devices of a
    20,000-site korea, 2.1 km past the cells, their shards' misses read as a lack of GPUs)."""
    # the disc of n cells (each sqrt(3)/2 isd^2) has radius isd sqrt(n sqrt(3) / (2 pi)); a
    # hexagon of r rings holds it where its inradius, r isd sqrt(3) / 2, is larger
    from airan.radio.geometry import hex_grid

    radius = math.sqrt(n * math.sqrt(3.0) / (2.0 * math.pi))
    pts = hex_grid(int(math.ceil(radius / (math.sqrt(3.0) / 2.0))) + 2, isd_m)
    dist = np.round(np.hypot(pts[:, 0], pts[:, 1]) / isd_m, 9)
    angle = np.round(np.arctan2(pts[:, 1], pts[:, 0]), 9)
    return pts[np.lexsort((angle, dist))[:n]]


def _points_pieces(f: dict[str, Any], kind: str, xcuts: np.ndarray, ycuts: np.ndarray,
                   box_shard: np.ndarray | None,
                   nearest_shard: Callable[[np.ndarray], np.ndarray]) -> dict[int, Any]:
    """A fleet at given points, by shard: each point goes to the region of its box (grid; a
    box without sites, and label regions: its nearest site's) with the devices that stand at
    it. The whole fleet's n points hold q + 1 devices each up to index r - 1 and q after
    (count = q n + r); a shard lists its points with index below r first, and its count is q m
    + (how many of those), so device i at point i mod m puts as many at each point."""
    pts = np.asarray(f["area"]["positions_m"], dtype=float)
    n = len(pts)
    q, r = divmod(int(f["count"]), n)
    if kind == "grid" and box_shard is not None:
        owner = box_shard[np.searchsorted(ycuts, pts[:, 1], side="right") * (len(xcuts) + 1)
                          + np.searchsorted(xcuts, pts[:, 0], side="right")]
        if (owner < 0).any():  # a box without sites: its nearest site's region
            owner[owner < 0] = nearest_shard(pts[owner < 0])
    else:
        owner = nearest_shard(pts)
    out: dict[int, Any] = {}
    for s_k in np.unique(owner).tolist():
        mine = np.flatnonzero(owner == s_k)  # ascending: those below r come first
        count = q * len(mine) + int(np.count_nonzero(mine < r))
        if count:
            area = {"positions_m": pts[mine].tolist()}
            if f["area"].get("heights_m") is not None:  # (each point keeps its height)
                area["heights_m"] = np.asarray(f["area"]["heights_m"], float)[mine].tolist()
            out[int(s_k)] = {**f, "count": count, "area": area}
    return out


def _scale_area(area: dict[str, Any] | None, center: np.ndarray, k: float) -> Any:
    """``area`` scaled by ``k`` about ``center`` (None stays None: it follows the layout)."""
    if area is None:
        return None
    if "radius_m" in area:
        c = center + (np.asarray(area["center_m"], float) - center) * k
        return {"center_m": [float(c[0]), float(c[1])], "radius_m": area["radius_m"] * k}
    xs = [float(center[0] + (v - center[0]) * k) for v in area["x_m"]]
    ys = [float(center[1] + (v - center[1]) * k) for v in area["y_m"]]
    return {"x_m": xs, "y_m": ys}


def _fleet_rect(area: dict[str, Any] | None, lo: np.ndarray, hi: np.ndarray) -> tuple[float, ...]:
    """The bounding rectangle (x0, x1, y0, y1) of a fleet's area (None: the layout's box)."""
    if area is None:
        return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
    if "radius_m" in area:
        (cx, cy), r = area["center_m"], area["radius_m"]
        return cx - r, cx + r, cy - r, cy + r
    return (*area["x_m"], *area["y_m"])


def _centre(area: Any) -> tuple[float, float]:
    if isinstance(area, tuple):
        return (area[0] + area[1]) / 2, (area[2] + area[3]) / 2
    if area is None:
        return 0.0, 0.0
    if "radius_m" in area:
        return tuple(area["center_m"])  # type: ignore[return-value]
    return (sum(area["x_m"]) / 2, sum(area["y_m"]) / 2)


def _rect_area(x0: float, x1: float, y0: float, y1: float) -> dict[str, Any]:
    return {"x_m": [float(x0), float(x1)], "y_m": [float(y0), float(y1)]}


def _between_sites(cuts: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Each cut moved to the nearest midpoint between two consecutive site coordinates."""
    u = np.unique(np.round(coords, 6))  # (a row's sites differ by rounding, ~1e-13 m)
    if len(u) < 2:
        return cuts
    mids = (u[:-1] + u[1:]) / 2
    return np.array([mids[np.argmin(np.abs(mids - c))] for c in cuts])


def _grid_pieces(area: dict[str, Any] | None, rect: tuple[float, ...], xcuts: np.ndarray,
                 ycuts: np.ndarray) -> list[tuple[int, Any, float]]:
    """(box, area, weight m2) pieces of a fleet's area cut by the grid's boxes."""
    nx = len(xcuts) + 1
    xe = np.r_[-np.inf, xcuts, np.inf]
    ye = np.r_[-np.inf, ycuts, np.inf]
    x0, x1, y0, y1 = rect
    out: list[tuple[int, Any, float]] = []
    disc = area is not None and "radius_m" in area
    if not (x1 > x0 and y1 > y0):  # a line or a point: the box of its centre
        box = (int(np.searchsorted(ycuts, (y0 + y1) / 2, side="right")) * nx
               + int(np.searchsorted(xcuts, (x0 + x1) / 2, side="right")))
        return [(box, area, 1.0)]
    for iy in range(len(ye) - 1):
        for ix in range(nx):
            bx0, bx1 = max(x0, xe[ix]), min(x1, xe[ix + 1])
            by0, by1 = max(y0, ye[iy]), min(y1, ye[iy + 1])
            if bx1 <= bx0 or by1 <= by0:
                continue
            box = iy * nx + ix
            if not disc:
                out.append((box, _rect_area(bx0, bx1, by0, by1), (bx1 - bx0) * (by1 - by0)))
                continue
            (cx, cy), r = area["center_m"], area["radius_m"]  # type: ignore[index]
            n = max(1, math.ceil((by1 - by0) / (r / STRIPS_PER_RADIUS)))
            h = (by1 - by0) / n
            run: list[float] | None = None  # merge consecutive strips of the same x-range
            for j in range(n):
                ya = by0 + j * h
                half = math.sqrt(max(r * r - (ya + h / 2 - cy) ** 2, 0.0))
                sx0, sx1 = max(bx0, cx - half), min(bx1, cx + half)
                if sx1 <= sx0:
                    if run is not None:
                        out.append((box, _rect_area(*run), (run[1] - run[0]) * (run[3] - run[2])))
                        run = None
                    continue
                if run is not None and run[0] == sx0 and run[1] == sx1:
                    run[3] = ya + h
                    continue
                if run is not None:
                    out.append((box, _rect_area(*run), (run[1] - run[0]) * (run[3] - run[2])))
                run = [sx0, sx1, ya, ya + h]
            if run is not None:
                out.append((box, _rect_area(*run), (run[1] - run[0]) * (run[3] - run[2])))
    if len({p[0] for p in out}) == 1 and area is not None:
        return [(out[0][0], area, 1.0)]  # wholly inside one box: keep the area as written
    return out


def _raster_pieces(area: dict[str, Any] | None, rect: tuple[float, ...],
                   nearest_shard: Callable[[np.ndarray], np.ndarray],
                   ) -> tuple[list[tuple[int, Any, float]], np.ndarray]:
    """Pieces of a fleet's area on a raster, each tile to the shard of its nearest site."""
    x0, x1, y0, y1 = rect
    tx, ty = (x1 - x0) / RASTER, (y1 - y0) / RASTER
    cx = x0 + (np.arange(RASTER) + 0.5) * tx
    cy = y0 + (np.arange(RASTER) + 0.5) * ty
    gx, gy = np.meshgrid(cx, cy)  # [row = y, col = x]
    shard = nearest_shard(np.c_[gx.ravel(), gy.ravel()]).reshape(RASTER, RASTER)
    if area is not None and "radius_m" in area:
        (ccx, ccy), r = area["center_m"], area["radius_m"]
        shard = np.where((gx - ccx) ** 2 + (gy - ccy) ** 2 <= r * r, shard, -1)
    present = np.unique(shard[shard >= 0])
    if len(present) <= 1:
        return [(0, area, 1.0)], present.astype(np.int64)
    pieces: list[tuple[int, Any, float]] = []
    owners: list[int] = []
    open_: dict[tuple[int, int, int], int] = {}  # (shard, col0, col1) -> first row
    for row in range(RASTER + 1):
        runs: set[tuple[int, int, int]] = set()
        if row < RASTER:
            line = shard[row]
            edges = np.flatnonzero(np.diff(line)) + 1
            starts = np.r_[0, edges]
            ends = np.r_[edges, RASTER]
            runs = {(int(line[a]), int(a), int(b)) for a, b in zip(starts, ends, strict=True)
                    if line[a] >= 0}
        for key in [k for k in open_ if k not in runs]:
            r0 = open_.pop(key)
            s, c0, c1 = key
            pieces.append((s, _rect_area(x0 + c0 * tx, x0 + c1 * tx, y0 + r0 * ty, y0 + row * ty),
                           (c1 - c0) * (row - r0) * tx * ty))
            owners.append(s)
        for key in runs:
            open_.setdefault(key, row)
    return pieces, np.asarray(owners, dtype=np.int64)


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split into integers proportional to ``weights`` (Hamilton's method: the sum is
    exactly ``total``; ties go to the earlier index)."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        return np.zeros(0, dtype=np.int64)
    if not w.sum() > 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


# ---- running -----------------------------------------------------------------------------------
def execute_shard(job: dict[str, Any]) -> dict[str, Any]:
    """One shard (the Ray task): validate its scenario, run it, return its summary."""
    from airan.engine import Engine
    from airan.report.rundir import jsonable
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict(job["scenario"], label=f"<shard {job['region']}>")
    engine = Engine(sc, trace_limit=0, trace_sample=0.0)
    return jsonable(engine.run().summary)  # type: ignore[no-any-return]


def run_sharded(
    scenario: Any,
    regions: Any = "2x2",
    *,
    sites: int | None = None,
    policy: str | None = None,
    duration_s: float | None = None,
    seed: int | None = None,
    fleet_scale: float = 1.0,
    workers: int | None = None,
    address: str | None = None,
    out: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ShardedRun:
    """Run ``scenario`` cut into ``regions``, each shard a Ray task; merge the summaries.

    ``workers=1`` (no ``address``) runs the shards here, one after another. With ``out``, writes
    ``out/summary.json`` (the merged summary) and ``out/shards/<region>.json``. ``progress`` is
    called with (shards done, shards, region) after each shard. A failed shard fails the run
    (a partial national sum would be silently wrong): :class:`RuntimeError` with its error.
    """
    from airan.report.rundir import write_json_atomic
    from airan.sweep.cluster import execute
    from airan.sweep.merge import _group, merge_links, merge_summaries

    plan = plan_shards(scenario, regions, sites=sites, policy=policy, duration_s=duration_s,
                       seed=seed, fleet_scale=fleet_scale)
    from airan.scenario import scenario_from_dict

    scenario_from_dict(plan.scenario(0), label=plan.name)  # bad input fails here, not in a task
    if address is None:  # the kernel compiled (or loaded) here once, not in each local worker
        from airan.engine.warmup import warm_up

        warm_up()
    summaries: list[dict[str, Any] | None] = [None] * plan.n_shards
    errors: list[str] = []
    done = 0

    def job(k: int) -> dict[str, Any]:
        return {"scenario": plan.scenario(k), "region": plan.labels[k]}

    def finished(k: int, value: Any, err: str | None) -> None:
        nonlocal done
        done += 1
        if err is not None:
            errors.append(f"shard {plan.labels[k]}: {err}")
        else:
            summaries[k] = value
        if progress is not None:
            progress(done, plan.n_shards, plan.labels[k])

    t0 = time.perf_counter()
    execute(execute_shard, plan.n_shards, job, finished, workers=workers, address=address)
    wall = time.perf_counter() - t0
    if errors:
        _raise_shard_error(errors, plan.n_shards)
    shards = [s for s in summaries if s is not None]
    merged = merge_summaries(shards, wall_s=wall)
    # the links the shards shared, each with a share of its capacity: the whole link's load
    whole = {f"{x}->{y}": float(link["capacity_gbps"]) for link, owners in plan.links
             if not owners for x, y in ((link["a"], link["b"]), (link["b"], link["a"]))}
    merged["links"] = merge_links(_group(shards, "links"), whole)
    if fleet_scale != 1.0:
        from airan.api import note_fleet_scale

        note_fleet_scale(merged, fleet_scale)
    merged["sharding"] = sharding_info(plan, shards)
    folder = None
    if out is not None:
        folder = Path(out)
        stale = _shard_labels(folder)  # an earlier sharded run's regions, which go with it
        (folder / "summary.json").unlink(missing_ok=True)
        for label in stale:
            (folder / "shards" / f"{label}.json").unlink(missing_ok=True)
        (folder / "shards").mkdir(parents=True, exist_ok=True)
        for label, s in zip(plan.labels, shards, strict=True):
            write_json_atomic(folder / "shards" / f"{label}.json", s)
        write_json_atomic(folder / "summary.json", merged)
    return ShardedRun(summary=merged, shards=shards, plan=plan, folder=folder)


def _shard_labels(folder: Path) -> list[str]:
    """The regions whose summaries the sharded run in ``folder`` wrote to ``shards/`` (none
    where it holds no sharded run: only airan's own files are ever removed)."""
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return [str(p["region"]) for p in data["sharding"]["per_shard"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _raise_shard_error(errors: Sequence[str], n_shards: int) -> None:
    """A failed shard fails the run: bad input found while a shard ran (an error of the input,
    raised again as one) or too little memory for a shard (a :class:`MemoryError`, which the
    command line reports in one line); anything else is a :class:`RuntimeError` with its text."""
    kinds = (("InputError", InputError), ("MemoryError", MemoryError),
             ("OutOfMemoryError", MemoryError))  # the last: Ray's, for a worker it killed
    for kind, exc_type in kinds:
        for e in errors:
            shard, _, text = e.partition(": ")
            if text.startswith(f"{kind}: "):
                first = text[len(kind) + 2:].split("\n\n", 1)[0]
                raise exc_type(f"{shard} (of {n_shards}): {first}")
    raise RuntimeError(f"{len(errors)} of {n_shards} shards failed; {errors[0]}")


def sharding_info(plan: ShardPlan, shards: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``sharding`` section of a merged summary: regions, shards, approximations."""
    return {
        "regions": plan.regions_spec,
        "shards": plan.n_shards,
        "sites": len(plan.site_names),
        "sites_scale": plan.sites_scale,
        "seed_stride": SEED_STRIDE,
        "approximation": plan.notes,
        "per_shard": [
            {"region": plan.labels[k], "seed": plan.shard_seed(k),
             "sites": plan.sites(k), "devices": plan.devices(k),
             "load_share": float(plan.share[k]), "requests": s["requests"]["created"],
             "wall_s": s.get("wall_s")}
            for k, s in enumerate(shards)
        ],
    }
