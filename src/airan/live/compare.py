"""The twin against reality: one scenario, its models calibrated on this machine, run in the
twin and live; p50 and p95 end-to-end latency side by side.

:func:`calibrate` profiles each service's ONNX model (decoding a payload of the service's
``ul_kb``, as a site does) and sets the service's ``service_time`` from it, so the twin and the
live runtime compute the same thing. :func:`twin_vs_live` runs both and returns the figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airan.errors import InputError
from airan.live.models import profile, service_time_of, write_calibration
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


def twin_vs_live(scenario: Scenario | str | Path, folder: str | Path, *, duration_s: float = 30.0,
                 models: dict[str, str] | None = None, policy: str | None = None,
                 shared_gateway: bool = False) -> dict[str, Any]:
    """Run ``scenario`` (already calibrated) in the twin and live for ``duration_s``; write both
    run folders under ``folder``; return per service the p50/p95 of each and their ratios."""
    import airan
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
    out = Path(folder)
    twin = airan.run(scenario, policy=policy, duration_s=duration_s)
    write_run(twin, out / "twin")
    with LiveRuntime(scenario, out / "serve", policy=policy, models=models,
                     shared_gateway=shared_gateway) as rt:
        assert rt.deployment is not None
        live = run_devices(scenario, rt.deployment, duration_s=duration_s)
    write_run(live, out / "live")
    figures: dict[str, Any] = {"services": {}, "live": live.summary["live"]}
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
    return figures
