"""The twin against reality: one scenario, its models calibrated on this machine, run in the
twin and live; p50 and p95 end-to-end latency side by side.

:func:`calibrate` profiles each service's ONNX model (decoding a payload of the service's
``ul_kb``, as a site does) and sets the service's ``service_time`` from it, so the twin and the
live runtime compute the same thing. :func:`calibrate_from_run` sets it instead from the compute
the sites of a live run measured: a model alone in a profile does not run as fast as it does
inside the running runtime, whose other processes keep the cores awake and share their caches.
:func:`twin_vs_live` runs both and returns the figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from airan.errors import InputError
from airan.live.models import lognormal_fit, profile, service_time_of, write_calibration
from airan.live.runtime import check_live_scenario, moving_fleets, resolve_models
from airan.scenario import Scenario, load_scenario, scenario_from_dict

#: the longest idle the profile waits before a run (ms): caches are as cold after 20 ms as later
MAX_GAP_MS = 50.0


def site_gap_ms(scenario: Scenario, service: str) -> float:
    """The mean time between two requests of ``service`` at one compute site (ms), if its
    requests are spread evenly over the scenario's compute sites: how long a site's worker
    idles before a batch of that model at this load (its caches and clock as cold as that)."""
    from airan.engine.world import build_world

    rate_hz = next(s.rate_hz for s in scenario.services if s.name == service)
    devices = sum(f.count for f in scenario.fleets if service in f.services)
    sites = max(1, len(build_world(scenario, scenario.seed).site_names))  # generated ones too
    gap = 1e3 * sites / (devices * rate_hz) if devices else MAX_GAP_MS
    return min(gap, MAX_GAP_MS)


def calibrate(scenario: Scenario, models: dict[str, str] | None = None, *,
              folder: str | Path | None = None, min_time_s: float = 1.0,
              gap_ms: float | None = None) -> Scenario:
    """The scenario with each service's ``service_time`` measured on this machine (batch sizes
    1, 2 and 4; the twin interpolates between them); calibration files go to ``folder``.

    Each run of the profile follows ``gap_ms`` of idling; by default, per service, the idle time
    a site sees between two of its requests at the scenario's load (:func:`site_gap_ms`),
    because a model that ran 20 ms ago runs slower than one that ran 5 ms ago."""
    files = resolve_models(scenario, models)
    data = scenario.model_dump(mode="json")
    for svc in data["services"]:
        gap = site_gap_ms(scenario, svc["name"]) if gap_ms is None else gap_ms
        cal = profile(files[svc["name"]], (1, 2, 4), min_time_s=min_time_s,
                      payload_kb=svc["ul_kb"] or None, gap_ms=gap)
        if folder is not None:
            write_calibration(cal, Path(folder) / f"{svc['name']}.calibration.yaml")
        svc["service_time"] = service_time_of(cal)
    return scenario_from_dict(data, label=f"{scenario.name} (calibrated)")


#: the fewest requests of a service a live run's sites must have computed to calibrate it
MIN_RUN_REQUESTS = 20


def service_times_from_run(scenario: Scenario,
                           run_folder: str | Path) -> dict[str, dict[str, Any] | None]:
    """Per service, the ``service_time`` its compute sites showed in the live run
    ``run_folder`` (written by ``airan live`` or ``airan devices``; ms, lognormal), or None
    where they computed fewer than :data:`MIN_RUN_REQUESTS` of its requests.

    The shape over batch sizes is the scenario's own (``batch_ms`` from ``airan profile``; a
    live run at a light load has too few batches of two or more to measure it), its level and
    spread the run's: each request a site computed, its compute divided by the scenario's mean
    for its batch size, those ratios fitted by the lognormal of their median and 90th
    percentile (:func:`~airan.live.models.lognormal_fit`, robust to a stall of the host), the
    curve multiplied by the fit's mean and the cv the fit's. A service without a
    ``service_time`` takes, per batch size the run has :data:`MIN_RUN_REQUESTS` requests of
    (its smallest at least), the mean of that size's fit, and the smallest size's cv. The times
    are this machine's at every site, so ``measured_on`` goes; ``on_device_ms`` (a device's
    own time) stays, with the run's spread. A run at a load where batches overlap on the
    machine's cores counts their contention twice (measured, then the twin's own sharing):
    calibrate from a lightly loaded run.
    """
    from airan.report.rundir import read_run

    r = read_run(run_folder, require=("requests",))
    if r.summary.get("live") is None:
        raise InputError("not a live run: its compute is the twin's, not this machine's "
                         "(calibrate from the folder of `airan live` or `airan devices`)",
                         file=str(run_folder))
    t = r.table("requests", ["service", "placement", "compute_ms", "batch_size"]).to_pydict()
    service = np.array(t["service"], dtype=object)
    compute_ms = np.array(t["compute_ms"], dtype=np.float64)
    batch = np.array(t["batch_size"], dtype=np.int64)
    at_site = (np.array(t["placement"], dtype=object) != "local") & np.isfinite(compute_ms) & (
        compute_ms > 0) & (batch >= 1)
    times: dict[str, dict[str, Any] | None] = {}
    for svc in scenario.services:
        mine = at_site & (service == svc.name)
        if mine.sum() < MIN_RUN_REQUESTS:
            times[svc.name] = None
            continue
        x, b = compute_ms[mine], batch[mine]
        given = svc.service_time.model_dump(exclude_none=True) if svc.service_time else {}
        keep: dict[str, Any] = {"on_device_ms": given["on_device_ms"]} if (
            "on_device_ms" in given) else {}
        if svc.service_time is None:
            sizes = sorted(set(b.tolist()))
            kept = [k for k in sizes if (b == k).sum() >= MIN_RUN_REQUESTS] or sizes[:1]
            fits = {k: lognormal_fit(x[b == k]) for k in kept}
            times[svc.name] = {"dist": "lognormal", **keep,
                               "batch_ms": {k: round(f[0], 4) for k, f in fits.items()},
                               "cv": round(max(fits[kept[0]][1], 1e-3), 4)}
            continue
        catalog = svc.service_time.as_catalog()
        sizes = sorted(given.get("batch_ms", {1: 0}))
        if isinstance(catalog, float):  # fixed, one mean for every batch size
            curve_ms = np.full(len(x), catalog)
            level = {k: catalog for k in sizes}
        else:
            curve_ms = 1e3 * catalog.mean_batch_s(b.astype(np.float64))
            level = dict(zip(sizes, 1e3 * catalog.mean_batch_s(np.array(sizes, np.float64)),
                             strict=True))
        scale, cv = lognormal_fit(x / curve_ms)
        times[svc.name] = {"dist": "lognormal", **keep,
                           "batch_ms": {k: round(float(scale * v), 4) for k, v in level.items()},
                           "cv": round(max(cv, 1e-3), 4)}
    return times


def calibrate_from_run(scenario: Scenario, run_folder: str | Path,
                       times: dict[str, dict[str, Any] | None] | None = None) -> Scenario:
    """The scenario with each service's ``service_time`` as the live run ``run_folder``
    measured it (``times``, else :func:`service_times_from_run`); a service its sites computed
    too little of keeps its own. Raises :class:`InputError` where that is every service."""
    if times is None:
        times = service_times_from_run(scenario, run_folder)
    if all(v is None for v in times.values()):
        raise InputError(f"its sites computed fewer than {MIN_RUN_REQUESTS} requests of every "
                         "service: nothing to calibrate (a longer run)", file=str(run_folder))
    data = scenario.model_dump(mode="json")
    for svc in data["services"]:
        if times.get(svc["name"]) is not None:
            svc["service_time"] = times[svc["name"]]
    return scenario_from_dict(data, label=f"{scenario.name} (calibrated from "
                                          f"{Path(run_folder).name})")


#: the file a twin-against-live comparison writes in its folder (beside twin/ and live/)
TWIN_VS_LIVE = "twin_vs_live.json"
#: what :func:`twin_vs_live` writes in its folder
TWIN_VS_LIVE_WRITES = frozenset({TWIN_VS_LIVE, "twin", "live", "serve", "warmup", "warmup-serve"})


def twin_vs_live(scenario: Scenario | str | Path, folder: str | Path, *, duration_s: float = 30.0,
                 models: dict[str, str] | None = None, policy: str | None = None,
                 shared_gateway: bool = False, warmup_s: float = 0.0,
                 seed: int | None = None, fleet_scale: float = 1.0) -> dict[str, Any]:
    """Run ``scenario`` (already calibrated) in the twin and live for ``duration_s``; write both
    run folders under ``folder`` and the figures in ``folder/twin_vs_live.json``; return per
    service the p50/p95 of each and their ratios.

    With ``warmup_s``, a live run of that long comes first (``folder/warmup``) and both runs
    take their service times from the compute its sites measured (:func:`calibrate_from_run`):
    the twin then computes as the runtime's sites do on this machine, beside the runtime's own
    processes, where a profile measures a model alone. ``seed`` (default: the scenario's)
    places the devices and draws the arrivals of all three runs; ``fleet_scale``: the factor
    ``scenario``'s fleets were scaled by, recorded in both summaries and the figures."""
    import airan
    from airan.api import note_fleet_scale
    from airan.live.devices import run_devices
    from airan.live.runtime import LiveRuntime
    from airan.report.rundir import write_run

    if not isinstance(scenario, Scenario):  # a built-in name or a file, as airan.run takes
        scenario = load_scenario(scenario)
    check_live_scenario(scenario)
    moving = moving_fleets(scenario)
    if moving:  # the twin would move them, the live run cannot: two workloads
        raise InputError("devices do not move in a live run, so the twin and the live run "
                         "would not run the same workload: compare without mobility",
                         field=f"fleets[{moving[0]}].mobility")
    spread = [(v.name, key) for v in scenario.services for key in ("ul_kb", "dl_kb")
              if getattr(v, f"{key}_spread") is not None]
    if spread:  # the twin would draw each payload's size, the live run sends the mean
        name, key = spread[0]
        what = "upload" if key == "ul_kb" else "answer"
        raise InputError(f"a live run sends every {what} at its mean size, so the twin and the "
                         f"live run would not send the same {what}s: compare without "
                         f"{key}_spread", field=f"services[{name}].{key}_spread")
    if not (np.isfinite(warmup_s) and 0 <= warmup_s <= 3600):
        raise InputError("must be 0-3,600 s", field="warmup_s", value=warmup_s)
    out = Path(folder)
    (out / TWIN_VS_LIVE).unlink(missing_ok=True)  # (an earlier comparison's, there till the end)
    if seed is not None:  # (the live runs take it from their deployment, the twin from here)
        scenario = scenario.model_copy(update={"seed": seed})
    if warmup_s > 0:
        with LiveRuntime(scenario, out / "warmup-serve", policy=policy, models=models,
                         shared_gateway=shared_gateway) as rt:
            assert rt.deployment is not None
            write_run(run_devices(scenario, rt.deployment, duration_s=warmup_s), out / "warmup")
        times = service_times_from_run(scenario, out / "warmup")
        short = [name for name, v in times.items() if v is None]
        if short:  # that service's twin would compute at the profile's level, not the sites'
            raise InputError(f"the warm-up's sites computed fewer than {MIN_RUN_REQUESTS} of "
                             f"{short[0]}'s requests: a longer warmup_s", field="warmup_s",
                             value=warmup_s)
        scenario = calibrate_from_run(scenario, out / "warmup", times)
    twin = airan.run(scenario, policy=policy, duration_s=duration_s)
    note_fleet_scale(twin.summary, fleet_scale)
    write_run(twin, out / "twin")
    with LiveRuntime(scenario, out / "serve", policy=policy, models=models,
                     shared_gateway=shared_gateway) as rt:
        assert rt.deployment is not None
        live = run_devices(scenario, rt.deployment, duration_s=duration_s)
    note_fleet_scale(live.summary, fleet_scale)
    write_run(live, out / "live")
    figures: dict[str, Any] = {
        "scenario": live.summary["scenario"], "policy": live.summary["policy"],
        "seed": live.summary["seed"], "duration_s": duration_s, "warmup_s": warmup_s,
        "fleet_scale": fleet_scale,
        "services": {}, "live": live.summary["live"]}
    if warmup_s > 0:
        figures["service_time"] = {s.name: s.service_time.model_dump(exclude_none=True)
                                   for s in scenario.services if s.service_time is not None}
    for name, t in twin.summary["services"].items():
        lv = live.summary["services"][name]
        row: dict[str, Any] = {}
        for q in ("p50", "p95"):
            a, b = t["latency_ms"][q], lv["latency_ms"][q]
            row[f"twin_{q}_ms"], row[f"live_{q}_ms"] = a, b
            row[f"{q}_ratio"] = b / a if a and b else None
        row["twin_hit_ratio"], row["live_hit_ratio"] = t["hit_ratio"], lv["hit_ratio"]
        row["live_mean_batch"] = live.summary["live"]["services"][name]["mean_batch"]
        figures["services"][name] = row
    (out / TWIN_VS_LIVE).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures
