"""The share of devices satisfied: each device's own deadline hit ratio against its service's
target, the capacity criterion of 3GPP TR 38.838 (XR evaluation methodology, carried into
Rel-18 by TR 38.835 clause 4): a UE is satisfied when more than X% of its packets arrive within
their delay budget (X = 99%), and a cell's capacity is the most UEs at which at least Y% of them
(Y = 90%) are satisfied.

A service's hit ratio pools every device's requests: 99% met over a fleet can be every device
at 99% or one device in ten at 90%. These figures tell the two apart. Here X is the service's
``target_hit_ratio`` (0.99 by default, TR 38.838's X) and a device meets it at ``>=``, as the
service's own hit ratio does; Y is a planner target (``satisfied>=0.9``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["device_satisfaction", "devices_satisfied", "merge_misses_in_a_row",
           "merge_satisfied", "misses_in_a_row", "misses_in_a_row_text", "satisfaction_figures",
           "satisfied_text"]

#: runs of misses in a row counted one by one up to this; longer ones together ("5+")
RUN_BUCKETS = 5

#: the per-device ratio compared with the target (the slack: a ratio computed two ways)
_SLACK = 1e-12


def device_satisfaction(ended: np.ndarray, met: np.ndarray, target: float) -> dict[str, Any]:
    """One service's devices: ``ended`` and ``met`` [devices] are each device's requests that
    ended (met, late, dropped, or in flight past their deadline) and met theirs.

    Returns the devices evaluated (those with a request ended), those satisfied (own hit ratio
    ``>= target``), the share, the worst 5% of devices' hit ratio (``hit_ratio_p5``, a device's
    own ratio: the lower value at the 5th percentile), the lowest, and the mean requests per
    device evaluated (under ``1 / (1 - target)`` a single miss unsatisfies a device)."""
    ended = np.asarray(ended, np.int64)
    met = np.asarray(met, np.int64)
    seen = ended > 0
    n = int(seen.sum())
    ratio = met[seen] / ended[seen]
    ok = int((ratio >= target - _SLACK).sum())
    return {
        "target": float(target),
        "devices": n,
        "satisfied": ok,
        "share": ok / n if n else None,
        "hit_ratio_p5": float(np.quantile(ratio, 0.05, method="lower")) if n else None,
        "hit_ratio_min": float(ratio.min()) if n else None,
        "requests_per_device": float(ended[seen].mean()) if n else None,
        "without_requests": int(len(ended) - n),
    }


def devices_satisfied(ended: np.ndarray, met: np.ndarray, targets: np.ndarray
                      ) -> dict[str, Any]:
    """A fleet's devices, over all their services: ``ended`` and ``met`` [devices, services],
    ``targets`` [services]. A device is satisfied when every service it ended a request of
    meets its own target (TR 38.838: all of a UE's streams), and evaluated when it ended one."""
    ended = np.asarray(ended, np.int64)
    met = np.asarray(met, np.int64)
    seen = ended > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ok_each = ~seen | (met / np.where(seen, ended, 1) >= np.asarray(targets) - _SLACK)
    evaluated = seen.any(axis=1)
    n = int(evaluated.sum())
    ok = int((evaluated & ok_each.all(axis=1)).sum())
    return {"devices": n, "satisfied": ok, "share": ok / n if n else None}


def misses_in_a_row(longest: np.ndarray) -> dict[str, Any]:
    """The devices of one service (those that ended a request) by the longest run of its
    requests each missed in a row (``longest`` [devices]): ``longest``, the worst device's,
    and ``devices_by_longest`` {"0": n, "1": n, ... "5+": n}.

    Cyber-physical control tolerates a miss, not a run of them: TS 22.104's survival time is
    how long an application goes on without an expected message, so a survival time of n
    transfer intervals (n / rate_hz) tolerates n misses in a row and no more."""
    longest = np.asarray(longest, np.int64)
    counts = np.bincount(np.minimum(longest, RUN_BUCKETS), minlength=RUN_BUCKETS + 1)
    return {"longest": int(longest.max()) if len(longest) else None,
            "devices_by_longest": {(str(k) if k < RUN_BUCKETS else f"{k}+"): int(n)
                                   for k, n in enumerate(counts.tolist())}}


def merge_misses_in_a_row(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Disjoint devices' figures (a sharded run's shards) as one: the counts add, the longest
    is the longest."""
    got = [p for p in parts if p]
    if not got:
        return None
    lows = [int(p["longest"]) for p in got if p.get("longest") is not None]
    keys = list(got[0]["devices_by_longest"])
    return {"longest": max(lows) if lows else None,
            "devices_by_longest": {k: sum(int(p["devices_by_longest"].get(k, 0)) for p in got)
                                   for k in keys}}


def misses_in_a_row_text(name: str, fig: dict[str, Any]) -> str:
    """``control longest 3 (1 device 3, 2 devices 2, 4 devices 1, 43 none)``."""
    by = fig["devices_by_longest"]
    said = [f"{n:,} {'device' if n == 1 else 'devices'} {k}" for k, n in reversed(by.items())
            if n and k != "0"]
    if by["0"]:
        said.append(f"{by['0']:,} none")
    return f"{name} longest {fig['longest']} ({', '.join(said)})"


def satisfaction_figures(w: Any, ended: np.ndarray, met: np.ndarray,
                         longest: np.ndarray | None = None
                         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per service (:func:`device_satisfaction`, and :func:`misses_in_a_row` as its
    ``misses_in_a_row`` where ``longest`` is given) and per fleet (:func:`devices_satisfied`),
    from each device's requests ended and met and its longest run of misses, [devices,
    services] with the services in the columns of ``w.fleet_svc_slot`` (``w``: an
    :class:`airan.engine.world.World`)."""
    fleet_devices = [np.flatnonzero(w.dev_fleet == f) for f in range(len(w.fleet_names))]
    per_service = {}
    for v, name in enumerate(w.service_names):
        cols = [(ids, int(w.fleet_svc_slot[f, v])) for f, ids in enumerate(fleet_devices)
                if w.fleet_svc_slot[f, v] >= 0]
        none = [np.zeros(0, np.int64)]
        ended_v = np.concatenate([ended[ids, k] for ids, k in cols] or none)
        per_service[name] = device_satisfaction(
            ended_v, np.concatenate([met[ids, k] for ids, k in cols] or none),
            float(w.svc_target[v]))
        if longest is not None:
            runs = np.concatenate([longest[ids, k] for ids, k in cols] or none)
            per_service[name]["misses_in_a_row"] = misses_in_a_row(runs[ended_v > 0])
    per_fleet = {}
    for f, name in enumerate(w.fleet_names):
        svcs = sorted(set(w.fleet_services[f]), key=lambda v: int(w.fleet_svc_slot[f, v]))
        ids = fleet_devices[f]
        per_fleet[name] = devices_satisfied(ended[ids, : len(svcs)], met[ids, : len(svcs)],
                                            np.asarray(w.svc_target)[svcs])
    return per_service, per_fleet


def merge_satisfied(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The figures of disjoint sets of devices (a sharded run's shards) as one: counts add, the
    share and the mean requests per device are recomputed, the lowest ratio is the lowest; the
    5th percentile cannot be rebuilt from the parts' and is the lowest of theirs (a bound)."""
    got = [p for p in parts if p]
    if not got:
        return None
    out: dict[str, Any] = {k: v for k, v in got[0].items()}
    n = sum(int(p["devices"]) for p in got)
    ok = sum(int(p["satisfied"]) for p in got)
    out.update(devices=n, satisfied=ok, share=ok / n if n else None)
    if "requests_per_device" in out:
        reqs = sum(float(p["requests_per_device"] or 0.0) * int(p["devices"]) for p in got)
        lows = [p["hit_ratio_min"] for p in got if p.get("hit_ratio_min") is not None]
        p5s = [p["hit_ratio_p5"] for p in got if p.get("hit_ratio_p5") is not None]
        out.update(requests_per_device=reqs / n if n else None,
                   hit_ratio_min=min(lows) if lows else None,
                   hit_ratio_p5=min(p5s) if p5s else None,
                   without_requests=sum(int(p.get("without_requests") or 0) for p in got))
    return out


def satisfied_text(name: str, fig: dict[str, Any]) -> str:
    """``detect 38 of 40 (95.0%; the worst 5% at 0.975, ~40 requests each)``."""
    if not fig.get("devices"):
        return f"{name} none ended a request"
    text = (f"{name} {fig['satisfied']:,} of {fig['devices']:,} ({fig['share']:.1%}; "
            f"the worst 5% at {fig['hit_ratio_p5']:.3f}")
    return text + f", ~{fig['requests_per_device']:.0f} requests each)"
