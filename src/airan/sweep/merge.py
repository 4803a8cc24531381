"""Merge run summaries of disjoint parts of one system (regional shards) into one summary.

Counts add. Latency percentiles come from the merged histograms: the engine's log-bucket
histograms (:mod:`airan.metrics.histogram`) merge exactly by adding counts, so a merged
percentile is the percentile of the pooled requests within the histogram's own bound
(``percentile_relative_error``, 0.499%), never an average of percentiles. Means are weighted by
what they average over (finished requests, GPUs, devices). A compute site present in several
shards (a shared cloud split pro rata) adds its GPUs, requests served, queue length and power;
a fleet cut into pieces (``vehicles#1``, ``vehicles#2``) is one fleet again. A site or fleet in
one shard only is copied as it is. Numbers the engine adds later and this module does not know
are summed when they are counts or amounts (integers, ``*_hours``, ``*_j``, ``*_w``), even
where every part gives the same figure, and averaged otherwise, weighted as their parent; a
fault's settings (its times, ``gpus``, factors) are kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airan.metrics.histogram import (  # noqa: F401  (dense_counts: the tests' too)
    MAX_RELATIVE_ERROR,
    dense_counts,
    histogram_quantile_ms,
    quantile,
)
from airan.metrics.satisfaction import merge_misses_in_a_row, merge_satisfied
from airan.metrics.site_energy import J_PER_KWH, sites_energy

QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99, "p999": 0.999}
EXTENSIVE = ("_hours", "_kwh", "_j", "_w", "_s", "served", "batches", "count", "requests",
             "devices", "misses", "cells")
# numbers each part repeats from the scenario, not amounts of its own: a fault's times and sizes
SETTINGS = ("start_s", "end_s", "gpus", "rate_factor", "capacity_factor", "extra_delay_ms")


def merge_histograms(hists: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Add sparse histograms ``{min_s, gamma, counts: {bucket: n}}`` of one layout."""
    layout: tuple[float, float] | None = None
    counts: dict[int, int] = {}
    for h in hists:
        if not h:
            continue
        this = (float(h["min_s"]), float(h["gamma"]))
        if layout is None:
            layout = this
        elif this != layout:
            raise ValueError(f"histograms of different layouts cannot merge: {layout} vs {this}")
        for b, n in (h.get("counts") or {}).items():
            counts[int(b)] = counts.get(int(b), 0) + int(n)
    min_s, gamma = layout if layout is not None else (None, None)
    return {"min_s": min_s, "gamma": gamma,
            "counts": {str(b): counts[b] for b in sorted(counts)}}


def _wmean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    """The weighted mean of the values that have a positive weight (one value: itself)."""
    used = [(float(v), float(w)) for v, w in pairs if v is not None and w > 0]
    if len(used) == 1:
        return used[0][0]
    den = sum(w for _, w in used)
    return sum(v * w for v, w in used) / den if den > 0 else None


def _add_counts(dicts: Iterable[Mapping[str, int] | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in (d or {}).items():
            out[k] = out.get(k, 0) + int(v)
    return out


def merge_generic(parts: Sequence[Any], weights: Sequence[float], key: str = "") -> Any:
    """Values the engine reports that this module has no rule for (see the module docstring).

    Amounts add even where the parts give the same figure (two copies of a site with as many
    GPUs have as many GPU-hours each: the whole has twice); a setting (``SETTINGS``), a
    string or a flag the same in every part is kept."""
    numbers = [p for p in parts if p is not None]
    if (numbers and key not in SETTINGS
            and all(isinstance(p, int | float) and not isinstance(p, bool) for p in numbers)):
        if all(isinstance(p, int) for p in numbers) or key.endswith(EXTENSIVE):
            return sum(numbers)
        if all(p == parts[0] for p in parts):  # a mean the parts agree on
            return parts[0]
        return _wmean(zip(parts, weights, strict=True))
    if all(isinstance(p, Mapping) for p in parts):
        keys = list(dict.fromkeys(k for p in parts for k in p))
        return {k: merge_generic([p.get(k) for p in parts], weights, k) for k in keys}
    if all(isinstance(p, list) and len(p) == len(parts[0]) for p in parts):
        # item by item (e.g. the faults: each shard counts the requests it saw affected)
        return [merge_generic([p[i] for p in parts], weights, key) for i in range(len(parts[0]))]
    if all(p == parts[0] for p in parts):
        return copy.deepcopy(parts[0])
    if numbers and all(isinstance(p, int | float) and not isinstance(p, bool) for p in numbers):
        return _wmean(zip(parts, weights, strict=True))  # a setting the parts disagree on
    return copy.deepcopy(parts[0])


def merge_mobility(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The shards' mobility summaries as one: counts added, each service's handover rate per
    moving device weighted by the shard's moving devices of that service (a summary written
    before it said how many: by the shard's moving devices of every service)."""
    out: dict[str, Any] = {k: sum(int(p.get(k) or 0) for p in parts)
                           for k in ("mobile_devices", "handovers", "radio_link_failures")}
    if all("moving_minutes" in p for p in parts):  # (the rate over the device-minutes)
        minutes = sum(float(p["moving_minutes"]) for p in parts)
        out["moving_minutes"] = minutes
        out["handovers_per_device_per_min"] = out["handovers"] / minutes if minutes else 0.0
    if parts and all("los" in p for p in parts):  # (one scenario's: the same in each)
        out["los"] = parts[0]["los"]
    if all("travelled_km" in p for p in parts):  # (per km: over the distance, exact)
        out["travelled_km"] = sum(float(p["travelled_km"]) for p in parts)
        out["handovers_per_km"] = (out["handovers"] / out["travelled_km"]
                                   if out["travelled_km"] > 0 else None)
    if all("ping_pong_handovers" in p for p in parts):
        out["ping_pong_handovers"] = sum(int(p["ping_pong_handovers"]) for p in parts)
    if all("out_of_sync_silences" in p for p in parts):
        out["out_of_sync_silences"] = sum(int(p["out_of_sync_silences"]) for p in parts)
        out["out_of_sync_silent_s"] = sum(float(p["out_of_sync_silent_s"]) for p in parts)
    if all("fleets" in p for p in parts):  # a fleet spread over shards: counts added
        fleets: dict[str, Any] = {}
        pieces: dict[str, list[Mapping[str, Any]]] = {}
        for p in parts:
            for piece, f in (p.get("fleets") or {}).items():
                # (a shard cuts a fleet into pieces, "name#k": the whole's figures under its
                # own name, as the summary's fleets; a diff review: a sharded moving fleet read
                # as parked, and the terminal listed 55 pieces' handover rates)
                name = str(piece).split("#")[0]
                pieces.setdefault(name, []).append(f)
                row = fleets.setdefault(name, {"moving_devices": 0, "handovers": 0,
                                               "handovers_per_device_per_min": 0.0,
                                               "ping_pong_handovers": 0,
                                               "radio_link_failures": 0})
                for k in ("moving_devices", "handovers", "ping_pong_handovers",
                          "radio_link_failures"):
                    row[k] += int(f.get(k) or 0)
                if "travelled_km" in f:
                    row["travelled_km"] = row.get("travelled_km", 0.0) + float(f["travelled_km"])
                if "out_of_sync_silences" in f:
                    row["out_of_sync_silences"] = (row.get("out_of_sync_silences", 0)
                                                   + int(f["out_of_sync_silences"]))
                    row["out_of_sync_silent_s"] = (row.get("out_of_sync_silent_s", 0.0)
                                                   + float(f["out_of_sync_silent_s"]))
        for name, row in fleets.items():
            mine = pieces[name]
            if "travelled_km" in row:
                if all("travelled_km" in f for f in mine):
                    km = row["travelled_km"]
                    row["handovers_per_km"] = row["handovers"] / km if km > 0 else None
                else:  # (some pieces did not say: no total)
                    del row["travelled_km"]
            if all("moving_minutes" in f for f in mine):  # (exact: over the device-minutes)
                minutes = sum(float(f["moving_minutes"]) for f in mine)
                row["moving_minutes"] = minutes
                row["handovers_per_device_per_min"] = row["handovers"] / minutes \
                    if minutes else 0.0
                continue
            rates = [(f.get("handovers_per_device_per_min"), float(f.get("moving_devices") or 0))
                     for f in mine]
            row["handovers_per_device_per_min"] = _wmean(rates) or 0.0
        out["fleets"] = fleets
    services: dict[str, Any] = {}
    for name in dict.fromkeys(n for p in parts for n in (p.get("services") or {})):
        rows = [(p["services"][name], p) for p in parts if name in (p.get("services") or {})]
        weights = [float(r.get("moving_minutes", r.get("moving_devices",
                                                       p.get("mobile_devices") or 0)))
                   for r, p in rows]
        rate = _wmean(zip([r.get("handovers_per_device_per_min") for r, _ in rows], weights,
                          strict=True))
        services[name] = {
            "handovers_per_device_per_min": rate if rate is not None else 0.0,  # (none moved)
            "requests_affected_by_handover": sum(
                int(r.get("requests_affected_by_handover") or 0) for r, _ in rows),
        }
        if all("moving_devices" in r for r, _ in rows):
            services[name]["moving_devices"] = sum(int(r["moving_devices"]) for r, _ in rows)
    out["services"] = services
    return out


def merge_services(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One service's summary from its summaries in several shards."""
    if len(parts) == 1:
        return copy.deepcopy(dict(parts[0]))
    first = parts[0]
    met = sum(int(p["met"]) for p in parts)
    late = sum(int(p["late"]) for p in parts)
    dropped = sum(int(p["dropped"]) for p in parts)
    done = [int(p["met"]) + int(p["late"]) for p in parts]
    hist = merge_histograms(p.get("latency_histogram") or {} for p in parts)
    ended = met + late + dropped
    # a part written before airan counted overdue requests: the merged figure is unknown
    known = all("overdue" in p for p in parts)
    overdue = sum(int(p.get("overdue", 0)) for p in parts)
    breakdown_keys = list((first.get("breakdown_ms") or {}).keys())
    out = {
        "count": sum(int(p["count"]) for p in parts),
        "met": met,
        "late": late,
        "dropped": dropped,
        "in_flight": sum(int(p["in_flight"]) for p in parts),
        "overdue": overdue if known else None,
        "hit_ratio": met / ended if ended else None,
        "hit_ratio_with_overdue": met / (ended + overdue) if known and ended + overdue else None,
        "target_hit_ratio": first.get("target_hit_ratio"),
        "deadline_ms": first.get("deadline_ms"),
        "dropped_by_reason": _add_counts(p.get("dropped_by_reason") for p in parts),
        "latency_ms": {
            "mean": _wmean(((p.get("latency_ms") or {}).get("mean"), n)
                           for p, n in zip(parts, done, strict=True)),
            **{k: histogram_quantile_ms(hist, q) for k, q in QUANTILES.items()},
        },
        "breakdown_ms": {
            k: _wmean(((p.get("breakdown_ms") or {}).get(k), n)
                      for p, n in zip(parts, done, strict=True))
            for k in breakdown_keys
        },
        "latency_histogram": hist,
    }
    if "priority" in first:  # a setting, the same in every shard (merge_generic adds ints)
        out["priority"] = copy.deepcopy(first["priority"])
    if "offered_per_s" in first:  # (each shard's own devices)
        out["offered_per_s"] = sum(float(p.get("offered_per_s") or 0.0) for p in parts)
    if "answered_at" in first:  # (each shard's own sites; a local one in several)
        added = _add_counts(p.get("answered_at") for p in parts)
        out["answered_at"] = dict(sorted(added.items(), key=lambda kv: -kv[1]))
    if "late_breakdown_ms" in first:  # the late requests' means, weighted by their counts
        lates = [int(p["late"]) for p in parts]
        out["late_breakdown_ms"] = {
            k: _wmean(((p.get("late_breakdown_ms") or {}).get(k), n)
                      for p, n in zip(parts, lates, strict=True))
            for k in first["late_breakdown_ms"]
        }
        out["late_on_device"] = sum(int(p.get("late_on_device") or 0) for p in parts)
        if "late_failed_site_ms" in first:
            out["late_failed_site_ms"] = _wmean((p.get("late_failed_site_ms"), n)
                                                for p, n in zip(parts, lates, strict=True))
        if "late_latency_ms" in first:
            out["late_latency_ms"] = _wmean((p.get("late_latency_ms"), n)
                                            for p, n in zip(parts, lates, strict=True))
        out["late_device_ms"] = {
            k: _wmean(((p.get("late_device_ms") or {}).get(k), n)
                      for p, n in zip(parts, lates, strict=True))
            for k in first.get("late_device_ms") or {}
        }
    for key in ("ul_kb", "dl_kb"):  # uploads (answers) of varying size
        if not first.get(key):
            continue
        # the sizes' distribution, the same in every shard; the run's means weighted by the
        # requests they are over (the answers: those sent down, its own counts)
        over = {"answered": done, "met": [int(p["met"]) for p in parts],
                "late": [int(p["late"]) for p in parts],
                "dropped": [int(p["dropped"]) for p in parts]}
        if all("sent" in (p.get(key) or {}) for p in parts):
            sent = [int(p[key]["sent"]) for p in parts]
            lates = [int(p[key]["late_sent"]) for p in parts]
            over = {"answered": sent, "met": [a - b for a, b in zip(sent, lates, strict=True)],
                    "late": lates}
        sizes: dict[str, Any] = {**copy.deepcopy(first[key]), **{
            f"{k}_mean": _wmean(((p.get(key) or {}).get(f"{k}_mean"), n)
                                for p, n in zip(parts, w, strict=True))
            for k, w in over.items() if f"{k}_mean" in first[key]}}
        if "sent" in sizes:
            sizes.update(sent=sum(over["answered"]), late_sent=sum(over["late"]))
        if all("answered_above_mean" in (p.get(key) or {}) for p in parts):
            from airan.scenario.payload import late_shares

            above = sum(int(p[key]["answered_above_mean"]) for p in parts)
            late_above = sum(int(p[key]["late_above_mean"]) for p in parts)
            sizes.update(answered_above_mean=above, late_above_mean=late_above,
                         **late_shares(sum(over["answered"]), sum(over["late"]), above,
                                       late_above))
        else:  # (a part from before airan counted them: none, not the first part's alone)
            for k in ("answered_above_mean", "late_above_mean", "late_share_above_mean",
                      "late_share_other"):
                sizes.pop(k, None)
        if all("answered_by_quartile" in (p.get(key) or {}) for p in parts):  # (counts add)
            from airan.scenario.payload import band_shares

            bands = {k: [sum(x) for x in zip(*(p[key].get(k) or [0] * 4 for p in parts),
                                             strict=True)]
                     for k in ("answered_by_quartile", "late_by_quartile",
                               "overdue_by_quartile")}
            ans, late_b, over_b = (bands[k] for k in ("answered_by_quartile",
                                                      "late_by_quartile",
                                                      "overdue_by_quartile"))
            sizes.update(bands, late_share_by_quartile=band_shares(ans, late_b),
                         missed_share_by_quartile=band_shares(
                             [a + o for a, o in zip(ans, over_b, strict=True)],
                             [b + o for b, o in zip(late_b, over_b, strict=True)]))
        else:
            for k in ("answered_by_quartile", "late_by_quartile", "late_share_by_quartile",
                      "overdue_by_quartile", "missed_share_by_quartile"):
                sizes.pop(k, None)
        out[key] = sizes
    if "devices_satisfied" in first:  # (disjoint devices: counts add; None where a part
        # was written before airan counted them)
        sat = (merge_satisfied([p["devices_satisfied"] for p in parts])
               if all("devices_satisfied" in p for p in parts) else None)
        if sat is not None and "misses_in_a_row" in (first["devices_satisfied"] or {}):
            sat["misses_in_a_row"] = merge_misses_in_a_row(
                [p["devices_satisfied"].get("misses_in_a_row") for p in parts])
        out["devices_satisfied"] = sat
    _merge_interrupted(out, parts)
    for k in first:
        if k not in out:
            out[k] = merge_generic([p.get(k) for p in parts], done, k)
    return out


def _merge_interrupted(out: dict[str, Any], parts: Sequence[Mapping[str, Any]]) -> None:
    """``interrupted`` ({cause: {met, late, dropped}}) added over the parts that have it: a
    shard where no link can be interrupted (its fleets static, no fault there) has none, and
    the merge of the others kept only the first part's keys (a review of the diff: the counts
    dropped or copied unsummed by the order of the shards)."""
    held = [p["interrupted"] for p in parts if isinstance(p.get("interrupted"), Mapping)]
    if not held:
        return
    total: dict[str, dict[str, int]] = {}
    for h in held:
        for cause, n in h.items():
            t = total.setdefault(cause, {"met": 0, "late": 0, "dropped": 0})
            for k in t:
                t[k] += int(n.get(k) or 0)
    out["interrupted"] = total


def merge_sites(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One compute site's summary from its copies in several shards (GPUs and load add)."""
    if len(parts) == 1:
        return copy.deepcopy(dict(parts[0]))
    first = parts[0]
    gpus = [int(p["gpus"]) for p in parts]
    served = sum(int(p["served"]) for p in parts)
    batches = sum(int(p.get("batches") or 0) for p in parts)
    out = {
        "kind": first.get("kind"),
        "x_m": first.get("x_m"),
        "y_m": first.get("y_m"),
        "gpus": sum(gpus),
        "gpu_utilization": _wmean((p.get("gpu_utilization"), g)
                                  for p, g in zip(parts, gpus, strict=True)),
        "mean_queue": sum(float(p.get("mean_queue") or 0.0) for p in parts),
        "served": served,
        "batches": batches,
        "mean_batch": served / batches if batches else None,
    }
    loads = [p.get("full_batch_load") for p in parts]
    if any(x is not None for x in loads):  # a copy that served nothing: none of its GPUs' time
        weighted = sum(float(x or 0.0) * g for x, g in zip(loads, gpus, strict=True))
        out["full_batch_load"] = weighted / max(sum(gpus), 1)
    for key in ("max_batch", "full_batch_gpu_share"):  # settings of the site: the largest
        if any(p.get(key) is not None for p in parts):
            out[key] = max(p[key] for p in parts if p.get(key) is not None)
    for k in first:
        if k not in out:
            out[k] = merge_generic([p.get(k) for p in parts], gpus, k)
    energy_kwh = out.get("energy_kwh")
    if energy_kwh is not None:  # (the copies' energy adds; per request it does not)
        out["energy_per_served_j"] = float(energy_kwh) * J_PER_KWH / served if served else None
    out["shards"] = len(parts)
    return out


def merge_fleets(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One fleet's summary from its pieces (energy per request by requests, power by devices)."""
    if len(parts) == 1:
        return copy.deepcopy(dict(parts[0]))
    devices = [int(p.get("devices") or 0) for p in parts]
    requests = [int(p.get("requests") or 0) for p in parts]
    power = _wmean((p.get("mean_power_w"), n) for p, n in zip(parts, devices, strict=True))
    base_w = next((float(p["base_power_w"]) for p in parts if p.get("base_power_w")), 0.0)
    battery = next((p["battery_life_h"] * (p["mean_power_w"] + base_w) for p in parts
                    if p.get("battery_life_h") and p.get("mean_power_w") is not None), None)
    out = {
        "devices": sum(devices),
        "requests": sum(requests),
        "energy_per_request_j": _wmean((p.get("energy_per_request_j"), n)
                                       for p, n in zip(parts, requests, strict=True)),
        "mean_power_w": power,
        "battery_life_h": (battery / (power + base_w) if battery and power is not None
                           and power + base_w > 0 else None),
        "out_of_coverage": sum(int(p.get("out_of_coverage") or 0) for p in parts),
    }
    if all("out_of_coverage_uplink" in p for p in parts):  # (a part without it: not known)
        out["out_of_coverage_uplink"] = sum(int(p["out_of_coverage_uplink"]) for p in parts)
    if "below_qout" in parts[0]:  # (None: not monitored, in every part alike)
        out["below_qout"] = (sum(int(p["below_qout"]) for p in parts)
                             if all(p.get("below_qout") is not None for p in parts) else None)
    if base_w > 0:
        out["base_power_w"] = base_w
    if any("penetration" in p for p in parts):  # inside a building or a car: mean loss
        out["penetration"] = next(p["penetration"] for p in parts if "penetration" in p)
        out["penetration_db"] = _wmean((p.get("penetration_db"), n)
                                       for p, n in zip(parts, devices, strict=True))
    if any("drx_share" in p for p in parts):  # (a fleet with DRX) a share of device time
        out["drx_share"] = _wmean((p.get("drx_share"), n)
                                  for p, n in zip(parts, devices, strict=True))
    if any("on_board_busy" in p for p in parts):  # each engine's share of device time
        names = list(dict.fromkeys(e for p in parts for e in p.get("on_board_busy") or {}))
        out["on_board_busy"] = {e: _wmean(((p.get("on_board_busy") or {}).get(e), n)
                                          for p, n in zip(parts, devices, strict=True))
                                for e in names}
    if any("power_breakdown_w" in p for p in parts):  # (W per device: by devices)
        names = list(dict.fromkeys(k for p in parts for k in p.get("power_breakdown_w") or {}))
        out["power_breakdown_w"] = {
            k: _wmean(((p.get("power_breakdown_w") or {}).get(k), n)
                      for p, n in zip(parts, devices, strict=True)) for k in names}
    if all("services" in p for p in parts):  # its requests' outcomes, per service
        svcs = {v: merge_services(ps) for v, ps in _group(parts, "services").items()}
        for v, x in svcs.items():  # (a fleet's share of a service has no breakdown of its own)
            if not any("breakdown_ms" in (p["services"].get(v) or {}) for p in parts):
                x.pop("breakdown_ms", None)
        met = sum(x["met"] for x in svcs.values())
        ended = sum(x["met"] + x["late"] + x["dropped"] for x in svcs.values())
        known = all(x.get("overdue") is not None for x in svcs.values())
        over = sum(int(x.get("overdue") or 0) for x in svcs.values())
        out.update({
            "met": met,
            "late": sum(x["late"] for x in svcs.values()),
            "dropped": sum(x["dropped"] for x in svcs.values()),
            "hit_ratio": met / ended if ended else None,
            "hit_ratio_with_overdue": met / (ended + over) if known and ended + over else None,
            "services": svcs,
        })
    if "devices_satisfied" in parts[0]:  # (a fleet's devices in several shards: counts add)
        out["devices_satisfied"] = (merge_satisfied([p["devices_satisfied"] for p in parts])
                                    if all("devices_satisfied" in p for p in parts) else None)
    _merge_interrupted(out, parts)
    for k in parts[0]:
        if k not in out and k != "radio":  # (percentiles of its devices in several shards
            # do not merge from theirs: left out, as cells.devices_radio is)
            out[k] = merge_generic([p.get(k) for p in parts], devices, k)
    if not all("out_of_coverage_uplink" in p for p in parts):
        out.pop("out_of_coverage_uplink", None)  # (a part from before the split: not known)
    return out


def _group(summaries: Sequence[Mapping[str, Any]], section: str,
           rename: Any = None) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for s in summaries:
        for name, v in (s.get(section) or {}).items():
            out.setdefault(rename(name) if rename else name, []).append(v)
    return out


def merge_links(parts: Mapping[str, Sequence[Mapping[str, Any]]],
                capacity_gbps: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Each link's load from its copies in several shards: a link in several shards carries
    what each sent over it; its capacity is ``capacity_gbps``'s (the whole link, where the
    shards each had a share of it) or the largest copy's (a link each shard had whole)."""
    out = {}
    for name, p in parts.items():
        cap = (capacity_gbps or {}).get(name) or max(float(x["capacity_gbps"]) for x in p)
        if len(p) == 1 and float(p[0]["capacity_gbps"]) == cap:
            out[name] = dict(p[0])  # (one region: the unsharded run's figures, bit for bit)
            continue
        carried = sum(float(x["utilization"]) * float(x["capacity_gbps"]) for x in p)
        out[name] = {"capacity_gbps": cap, "utilization": carried / cap if cap > 0 else 0.0}
    return out


def merge_cells(cells: Sequence[Mapping[str, Any]], n_cells: Sequence[int]) -> dict[str, Any]:
    """The shards' cell summaries as one: means weighted by cells, the busiest cell of all,
    busy cells added."""
    out: dict[str, Any] = {"count": sum(n_cells)}
    for key in ("dl", "ul"):
        out[f"mean_prb_utilization_{key}"] = _wmean(
            (c.get(f"mean_prb_utilization_{key}"), n) for c, n in zip(cells, n_cells, strict=True))
        peaks = [c for c in cells if c.get(f"max_prb_utilization_{key}") is not None]
        top = max(peaks, key=lambda c: c[f"max_prb_utilization_{key}"], default=None)
        out[f"max_prb_utilization_{key}"] = top[f"max_prb_utilization_{key}"] if top else None
        out[f"busiest_cell_{key}"] = top.get(f"busiest_cell_{key}") if top else None
        out[f"cells_busy_{key}"] = (sum(int(c.get(f"cells_busy_{key}") or 0) for c in cells)
                                    if top else None)
    for key in ("busy_threshold", "background_share_dl", "background_share_ul",
                "uplink_scheduler"):  # the same in every shard
        out[key] = next((c[key] for c in cells if key in c), None)
    if len(cells) == 1 and "devices_radio" in cells[0]:  # (percentiles of several shards'
        out["devices_radio"] = cells[0]["devices_radio"]  # devices do not merge from theirs)
    return out


def merge_summaries(summaries: Sequence[Mapping[str, Any]], *,
                    wall_s: float | None = None) -> dict[str, Any]:
    """One summary (the engine's layout) for the union of ``summaries`` (disjoint shards).

    ``wall_s``: the wall time of the whole (parallel) run; without it, the shards' sum.
    The result adds ``cpu_wall_s`` (the sum of the shards' engine wall times).
    """
    if not summaries:
        raise ValueError("nothing to merge")
    first = summaries[0]
    req = [s["requests"] for s in summaries]
    created = sum(int(r["created"]) for r in req)
    cpu_wall = sum(float(s.get("wall_s") or 0.0) for s in summaries)
    wall = cpu_wall if wall_s is None else float(wall_s)
    cells = [s.get("cells") or {} for s in summaries]
    n_cells = [int(c.get("count") or 0) for c in cells]
    traces = [s.get("trace") or {} for s in summaries]
    out: dict[str, Any] = {
        "airan_version": first.get("airan_version"),
        "scenario": first.get("scenario"),
        "policy": first.get("policy"),
        "objective": first.get("objective"),
        "admission": first.get("admission"),
        "seed": first.get("seed"),
        "duration_s": max(float(s["duration_s"]) for s in summaries),
        "wall_s": wall,
        "cpu_wall_s": cpu_wall,
        "requests_per_wall_s": (created + sum(int(r.get("created_in_warmup", 0)) for r in req))
        / wall if wall > 0 else None,
        "requests": {
            "created": created,
            "met": sum(int(r["met"]) for r in req),
            "late": sum(int(r["late"]) for r in req),
            "dropped": sum(int(r["dropped"]) for r in req),
            "in_flight": sum(int(r["in_flight"]) for r in req),
            "overdue": sum(int(r.get("overdue", 0)) for r in req),
            "created_in_warmup": sum(int(r.get("created_in_warmup", 0)) for r in req),
            "dropped_by_reason": _add_counts(r.get("dropped_by_reason") for r in req),
        },
        "warmup_s": max(float(s.get("warmup_s") or 0.0) for s in summaries),
        "services": {n: merge_services(p) for n, p in _group(summaries, "services").items()},
        "sites": {n: merge_sites(p) for n, p in _group(summaries, "sites").items()},
        "site_energy": None,  # (below, from the sites as merged)
        "cells": merge_cells(cells, n_cells),
        "links": merge_links(_group(summaries, "links")),
        "devices": sum(int(s.get("devices") or 0) for s in summaries),
        "trace": {
            "rows": sum(int(t.get("rows") or 0) for t in traces),
            "lost_rows": sum(int(t.get("lost_rows") or 0) for t in traces),
            "complete": all(bool(t.get("complete")) for t in traces),
            "note": "the shards' traces are in their own summaries; rows add",
        },
        "percentile_relative_error": max(
            [float(s.get("percentile_relative_error") or 0.0) for s in summaries]
            + [MAX_RELATIVE_ERROR]),
    }
    out["site_energy"] = sites_energy(out["sites"], out["duration_s"])
    if any(s.get("mobility") for s in summaries):
        out["mobility"] = merge_mobility([s["mobility"] for s in summaries if s.get("mobility")])
    if any("fleets" in s for s in summaries):
        fleets = _group(summaries, "fleets", rename=lambda n: n.split("#")[0])
        out["fleets"] = {n: merge_fleets(p) for n, p in fleets.items()}
    weights = [float(c) for c in n_cells]
    for key in dict.fromkeys(k for s in summaries for k in s):
        if key not in out:
            values = [s.get(key) for s in summaries]
            present = [v for v in values if v is not None]
            out[key] = merge_generic(present, [w for v, w in zip(values, weights, strict=True)
                                               if v is not None], key) if present else None
    return out
