"""``site:NAME``: every request to one compute site, a fixed-placement baseline.

A rural co-op's review: comparing "everything at the regional edge" with the base stations'
GPUs meant deleting those GPUs from the scenario; ``--policy site:regional`` was read as Python's
own ``site`` module ("'regional' is not a callable in 'site'").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.scenario import load_scenario

runner = CliRunner()


def _placements(res: Any) -> dict[str, np.ndarray]:
    t = res.requests
    answered = np.isin(np.asarray(t.column("outcome").to_pylist()), ("met", "late"))
    services = np.asarray(t.column("service").to_pylist())[answered]
    places = np.asarray(t.column("placement").to_pylist())[answered]
    return {v: places[services == v] for v in np.unique(services)}


def test_every_request_goes_to_the_named_site() -> None:
    """factory under site:regional: every answered request of every service ran at the
    regional edge (nearest-edge sends them on-premises)."""
    res = airan.run("factory", policy="site:regional", duration_s=0.5, seed=1)
    placed = _placements(res)
    assert set(placed) == {"detect", "vla", "inspect"}
    assert all(np.all(p == "regional") for p in placed.values())
    assert res.summary["sites"]["regional"]["served"] > 0
    assert res.summary["sites"]["on-prem"]["served"] == res.summary["sites"]["cloud"]["served"] == 0


def test_a_service_the_site_does_not_serve_goes_to_the_nearest_that_does() -> None:
    """The regional edge serving detection only: the VLA and the inspections go where cloud
    and nearest-edge would send a service their kind of site does not serve, the nearest site
    that serves it (on-premises here), and detection still to the regional edge."""
    sc = load_scenario("factory")
    sites = [c.model_copy(update={"services": ["detect"]}) if c.name == "regional" else c
             for c in sc.compute_sites]
    res = airan.run(sc.model_copy(update={"compute_sites": sites}), policy="site:regional",
                    duration_s=0.5, seed=1)
    placed = _placements(res)
    assert np.all(placed["detect"] == "regional")
    assert np.all(placed["vla"] == "on-prem") and np.all(placed["inspect"] == "on-prem")


def test_while_the_site_is_down_its_requests_drop_as_site_failures() -> None:
    sc = load_scenario("factory")
    fault = {"kind": "site_down", "site": "regional", "start_s": 0.2, "end_s": 0.4}
    sc = sc.model_validate({**sc.model_dump(), "faults": [fault]})
    res = airan.run(sc, policy="site:regional", duration_s=0.6, seed=1)
    dropped = res.summary["requests"]["dropped_by_reason"]
    assert dropped.get("site_failure", 0) > 0
    assert all(np.all(p == "regional") for p in _placements(res).values())


def test_an_unknown_site_is_refused_naming_it_with_a_suggestion() -> None:
    res = runner.invoke(app, ["run", "factory", "--policy", "site:regionl", "--duration", "0.1",
                              "--no-report"])
    assert res.exit_code == 2, res.output
    assert ("option '--policy': unknown compute site 'regionl'; did you mean 'regional'?"
            in res.stderr)
    assert len(res.stderr.strip().splitlines()) == 1
    help_text = " ".join(runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).stdout
                         .split())
    assert "site:NAME (every request to compute site NAME)" in help_text


def test_a_generated_site_can_be_named_and_an_unknown_one_is_refused_before_a_plan() -> None:
    """A review: city's generated GPU sites (gpu-<cell site>) were refused by the check though
    the engine serves them; plan and max-fleet ran an unknown site's build-outs (exit 3, 'no
    plan meets the targets') where run refused it."""
    from airan.scenario.load import check_policy_sites

    sc = load_scenario("city")
    site = sc.compute_site_names()[-1]
    assert site.startswith("gpu-")
    check_policy_sites(sc, f"site:{site}", field="--policy")
    for command in (["plan", "factory", "--target", "detect: hit>=0.9"],
                    ["max-fleet", "factory", "--fleet", "amr", "--target", "detect: p99<=50ms"]):
        res = runner.invoke(app, [*command, "--policy", "site:nope", "--duration", "0.5",
                                  "--no-confirm"])
        assert res.exit_code == 2, res.output
        assert "option '--policy': unknown compute site 'nope'" in res.stderr
