"""The Python API: load a scenario, run it, get the summary and the per-request table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from airan.engine import Engine, Result
from airan.errors import InputError
from airan.policy import Policy
from airan.scenario import Scenario, load_scenario

MAX_DEVICES = 50_000_000  # devices in all after scaling: the schema's limit for one fleet


def scale_fleets(scenario: Scenario, factor: float) -> Scenario:
    """The same scenario with every fleet's device count multiplied by ``factor``.

    Raises :class:`InputError` (field ``fleet_scale``) for a factor that is not a finite positive
    number, that leaves no device at all, or that gives more than ``MAX_DEVICES`` devices.
    """
    if isinstance(factor, bool) or not isinstance(factor, int | float | np.number):
        raise InputError("fleet scale must be a number", field="fleet_scale", value=factor)
    if not factor > 0 or not math.isfinite(factor):
        raise InputError("fleet scale must be positive and finite", field="fleet_scale",
                         value=factor)
    before = sum(f.count for f in scenario.fleets)
    total = before * float(factor)
    if total > MAX_DEVICES:  # checked before any fleet count is built
        shown = f"{total:,.0f}" if total < 1e15 else f"{total:.3g}"
        raise InputError(
            f"would give {shown} devices ({before:,} x {factor:g}); at most "
            f"{MAX_DEVICES:,} devices in all", field="fleet_scale", value=factor)
    counts = [_scaled_count(f.count, factor) for f in scenario.fleets]
    if before and not sum(counts):
        raise InputError(
            f"leaves no device: every fleet's device count ({before:,} in all) rounds to 0",
            field="fleet_scale", value=factor)
    fleets = [f.model_copy(update={"count": n}) for f, n in zip(scenario.fleets, counts,
                                                                 strict=True)]
    return scenario.model_copy(update={"fleets": fleets})


def with_fields(scenario: Scenario | str | Path, fields: Mapping[str, Any]) -> Scenario:
    """The scenario with each field path of ``fields`` set to its value, validated again: the
    paths of a sweep file's ``set`` and ``axes`` (``"services[detect].rate_hz"``,
    ``"compute_sites[edge].gpus[0].count"``, list items by name or position). For a sweep
    from Python (a researcher's review: a scenario is frozen, and its nested copies took
    reading the code). ``scenario``: a :class:`Scenario`, a built-in name or a YAML path.
    :class:`InputError` names a path the scenario does not have, or a value it refuses."""
    from airan.scenario import scenario_from_dict
    from airan.sweep.spec import set_path

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    data = sc.model_dump(mode="json")
    given: set[tuple[str | int, ...]] = set()  # (a band set after them keeps them)
    for path, value in fields.items():
        set_path(data, path, value, where="fields", given=given)
    return scenario_from_dict(data)


def _scaled_count(count: int, factor: float) -> int:
    """A fleet's device count times ``factor``, rounded (:func:`scale_fleets`)."""
    return max(0, round(count * float(factor)))


def fleet_scale_warnings(scenario: Scenario, factor: float, *, label: str | None = None,
                         option: str = "--fleet-scale") -> list[str]:
    """Fleets whose count :func:`scale_fleets` rounds more than 5% away from ``factor`` times
    it (a researcher's review: at load 0.1 factory's arms ran at 0.083 and its cameras at
    0.167 of their load, a sweep's x axis saying 0.1): each a warning naming the fleet."""
    out = []
    for f in scenario.fleets:
        want = f.count * float(factor)
        got = _scaled_count(f.count, factor)
        if f.count and got and abs(got / want - 1.0) > 0.05:
            out.append(str(InputError(
                f"{option} {factor:g} makes {want:g} of its {f.count:,} devices, rounded to "
                f"{got:,}: this fleet runs at {got / f.count:.3g}x its count, not {factor:g}x",
                file=label, field=f"fleets[{f.name}].count", value=f.count)))
    return out


def note_fleet_scale(summary: dict[str, Any], factor: float) -> dict[str, Any]:
    """``summary`` (changed in place, and returned) with ``fleet_scale``, the factor every
    fleet's device count was multiplied by, right after ``duration_s``."""
    items = [(k, v) for k, v in summary.items() if k != "fleet_scale"]
    summary.clear()
    for k, v in items:
        summary[k] = v
        if k == "duration_s":
            summary["fleet_scale"] = float(factor)
    summary.setdefault("fleet_scale", float(factor))
    return summary


def run(
    scenario: Scenario | str | Path,
    *,
    policy: str | Policy | None = None,
    duration_s: float | None = None,
    seed: int | None = None,
    fleet_scale: float = 1.0,
    trace_limit: int | None = None,
    trace_sample: float | None = None,
    warmup_s: float | None = None,
) -> Result:
    """Run a scenario (object, built-in name or YAML path) and return its :class:`Result`.

    ``policy``: a built-in's name, ``'module:callable'``, or a function of (snapshot, batch)
    (it runs under the name ``module:qualname``).

    With a ``fleet_scale`` other than 1, its summary records it (``fleet_scale``; none means
    1), as the :class:`Engine` given the same does.

    ``trace_limit``: the run's first requests ``result.requests`` keeps (default the scenario's
    ``engine.trace_limit``, 200,000); ``trace_sample``: the share of the others kept, a seeded
    uniform sample (default ``engine.trace_sample``, 0.01). So ``trace_limit=0`` still keeps
    about 1% of the requests, and ``trace_limit=0, trace_sample=0`` none: what a sweep's
    ``trace_limit: 0`` (its default) gives, as a sweep keeps no sample (docs/sweeps.md)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    # seed, duration_s, policy, trace_limit, trace_sample, warmup_s and fleet_scale: checked
    # by the Engine
    engine = Engine(
        sc,
        policy=policy,
        seed=seed,
        duration_s=duration_s,
        trace_limit=trace_limit,
        trace_sample=trace_sample,
        warmup_s=warmup_s,
        fleet_scale=fleet_scale,
    )
    return engine.run()
