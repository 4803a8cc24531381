"""The Python API: load a scenario, run it, get the summary and the per-request table."""

from __future__ import annotations

from pathlib import Path

from airan.engine import Engine, Result
from airan.errors import InputError
from airan.scenario import Scenario, load_scenario


def scale_fleets(scenario: Scenario, factor: float) -> Scenario:
    """The same scenario with every fleet's device count multiplied by ``factor``."""
    if not factor > 0:
        raise InputError("fleet scale must be positive", field="fleet_scale", value=factor)
    fleets = [
        f.model_copy(update={"count": max(0, round(f.count * factor))}) for f in scenario.fleets
    ]
    return scenario.model_copy(update={"fleets": fleets})


def run(
    scenario: Scenario | str | Path,
    *,
    policy: str | None = None,
    duration_s: float | None = None,
    seed: int | None = None,
    fleet_scale: float = 1.0,
    trace_limit: int | None = None,
    trace_sample: float | None = None,
) -> Result:
    """Run a scenario (object, built-in name or YAML path) and return its :class:`Result`."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if fleet_scale != 1.0:
        sc = scale_fleets(sc, fleet_scale)
    engine = Engine(
        sc,
        policy=policy,
        seed=seed,
        duration_s=duration_s,
        trace_limit=trace_limit,
        trace_sample=trace_sample,
    )
    return engine.run()
