"""The compute sites' GPU energy (an operator's energy planner's review: site power was in W
alone, in summary.json alone; no kWh, no J per request served, nothing said of the GPUs that
served nothing, and compare gave the devices' energy only).

* per site, ``energy_kwh`` = power_w x duration / 3.6e6 and ``energy_per_served_j`` = its
  energy over the requests it served; a site that served nothing draws its GPUs' catalog idle
  power (TDP and idle from the GPU catalog, not our output);
* ``site_energy``: the sums over the sites, kWh a day = W x 24 / 1000, the sites that served
  nothing and ran no L1 with their GPUs and W;
* shards: a site's copies add their energy, and its J per request is recomputed, not added;
* the terminal's sites table has a power column and a line of the totals; the busiest cell
  sites rank by AI and L1 together; compare gives the sites' energy per policy (terminal,
  comparison.json, report).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import airan
from airan.cli import _site_busy, app
from airan.metrics.site_energy import J_PER_KWH, site_energy, site_energy_text, sites_energy
from airan.report.compare import site_energy_rows
from airan.scenario import load_scenario
from airan.sweep.merge import merge_sites

runner = CliRunner()
DURATION_S = 1.0


@pytest.fixture(scope="module")
def factory_run() -> dict[str, Any]:
    """factory under nearest-edge: its cloud's GPUs serve nothing."""
    return airan.run(load_scenario("factory"), policy="nearest-edge",
                     duration_s=DURATION_S, seed=3).summary


def test_each_sites_energy_is_its_mean_power_over_the_run(factory_run: dict[str, Any]) -> None:
    for name, c in factory_run["sites"].items():
        assert c["energy_kwh"] == pytest.approx(c["power_w"] * DURATION_S / 3.6e6, rel=1e-12)
        if c["served"]:
            assert c["energy_per_served_j"] == pytest.approx(
                c["power_w"] * DURATION_S / c["served"], rel=1e-12), name
        else:
            assert c["energy_per_served_j"] is None, name


def test_a_site_that_served_nothing_draws_its_gpus_catalog_idle_power(
        factory_run: dict[str, Any]) -> None:
    sc = load_scenario("factory")
    gpus = sc.gpu_catalog()
    idle = [(n, c) for n, c in factory_run["sites"].items() if c["served"] == 0]
    assert idle, "nearest-edge leaves factory's cloud unused"
    for name, c in idle:
        spec = next(s for s in sc.compute_sites if s.name == name)
        gpu = gpus[spec.gpus[0].type]  # (one GPU type per site)
        assert c["power_w"] == pytest.approx(c["gpus"] * gpu.idle_w, rel=1e-12)
    total = factory_run["site_energy"]
    assert total["unused_sites"] == len(idle)
    assert total["unused_gpus"] == sum(c["gpus"] for _, c in idle)
    assert total["unused_power_w"] == pytest.approx(sum(c["power_w"] for _, c in idle))


def test_the_totals_add_the_sites(factory_run: dict[str, Any]) -> None:
    sites, total = factory_run["sites"], factory_run["site_energy"]
    power = sum(c["power_w"] for c in sites.values())
    served = sum(c["served"] for c in sites.values())
    assert total["power_w"] == pytest.approx(power, rel=1e-12)
    assert total["kwh_per_day"] == pytest.approx(power * 24 / 1000, rel=1e-12)
    assert total["energy_kwh"] == pytest.approx(
        sum(c["energy_kwh"] for c in sites.values()), rel=1e-12)
    assert total["served"] == served
    assert total["energy_per_served_j"] == pytest.approx(power * DURATION_S / served)
    assert total["l1_included"] is False
    assert "GPU boards only" in total["scope"]


def test_sites_energy_by_hand() -> None:
    """Two sites over 10 s: one at 150 W that served 300 requests, one idle H100 at 105 W,
    and one that served nothing but runs two cells' L1 (not unused)."""
    sites = {"edge": {"power_w": 150.0, "served": 300, "gpus": 1},
             "cloud": {"power_w": 105.0, "served": 0, "gpus": 1},
             "cell": {"power_w": 60.0, "served": 0, "gpus": 1, "ai_ran": {"hosted_cells": 2}}}
    e = sites_energy(sites, 10.0)
    assert e is not None
    assert e["power_w"] == 315.0
    assert e["energy_kwh"] == pytest.approx(3150.0 / 3.6e6)
    assert e["kwh_per_day"] == pytest.approx(7.56)
    assert e["energy_per_served_j"] == pytest.approx(3150.0 / 300)
    assert (e["unused_sites"], e["unused_gpus"], e["unused_power_w"]) == (1, 1, 105.0)
    assert e["l1_included"] is True
    assert site_energy(150.0, 300, 10.0) == {"energy_kwh": 1500.0 / 3.6e6,
                                             "energy_per_served_j": 5.0}
    assert sites_energy({}, 10.0) is None


def test_a_sites_copies_in_shards_add_their_energy_not_their_joules_per_request() -> None:
    parts = [{"kind": "edge", "gpus": 1, "gpu_utilization": 0.5, "served": 100, "batches": 10,
              "power_w": 200.0, **site_energy(200.0, 100, 2.0)},
             {"kind": "edge", "gpus": 1, "gpu_utilization": 0.1, "served": 300, "batches": 30,
              "power_w": 120.0, **site_energy(120.0, 300, 2.0)}]
    merged = merge_sites(parts)
    assert merged["power_w"] == pytest.approx(320.0)
    assert merged["energy_kwh"] == pytest.approx(640.0 / J_PER_KWH)
    assert merged["energy_per_served_j"] == pytest.approx(640.0 / 400)


def test_the_energy_line_reads_whole_numbers_at_any_scale() -> None:
    """A diff review: 1.2 MW of GPUs read "1.2e+03 kW mean, 2.88e+04 kWh a day"."""
    big = sites_energy({"cloud": {"power_w": 1.2e6, "served": 50, "gpus": 1700},
                        "spare": {"power_w": 105_000.0, "served": 0, "gpus": 1000}}, 1.0)
    assert site_energy_text(big) == (
        "sites' GPU power: 1,305 kW mean, 31,320 kWh a day at this load, 26,100 J per request "
        "served; 1,000 GPUs at 1 site served nothing, drawing 105,000 W idle (8%); the GPU "
        "boards only, not host servers, radios or cooling (summary.json)")
    small = sites_energy({"edge": {"power_w": 153.0, "served": 900, "gpus": 1}}, 2.0)
    assert site_energy_text(small) == (
        "sites' GPU power: 0.153 kW mean, 3.67 kWh a day at this load, 340 mJ per request "
        "served; the GPU boards only, not host servers, radios or cooling (summary.json)")


def test_busiest_cell_sites_rank_by_ai_and_l1_together() -> None:
    l1_heavy = {"gpu_utilization": 0.0, "ai_ran": {"mean_l1_share": 0.9}}
    ai_half = {"gpu_utilization": 0.5, "ai_ran": {"mean_l1_share": 0.0}}
    both = {"gpu_utilization": 0.5, "ai_ran": {"mean_l1_share": 0.4}}
    assert _site_busy(l1_heavy) == pytest.approx(0.9)
    assert _site_busy(both) == pytest.approx(0.4 + 0.6 * 0.5)  # AI: a share of what L1 left
    assert _site_busy(l1_heavy) > _site_busy(both) > _site_busy(ai_half)


def test_the_terminal_and_report_give_each_sites_power_and_the_totals(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "factory", "--policy", "nearest-edge", "--duration",
                                 "0.5", "--seed", "3", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    text = " ".join(result.output.split())
    assert "power (W)" in text
    line = site_energy_text(s["site_energy"])
    assert line is not None and " ".join(line.split()) in text
    e = s["site_energy"]
    assert f"served nothing, drawing {e['unused_power_w']:,.0f} W idle" in line
    for name, c in s["sites"].items():  # each site's row ends in its power
        assert any(row.split()[:1] == [name] and row.split()[-1] == f"{c['power_w']:,.0f}"
                   for row in result.output.splitlines()), name
    html = (tmp_path / "r" / "report.html").read_text()
    assert f'<p id="site-energy">{line}.</p>'.replace("'", "&#39;") in html


def test_compare_gives_the_sites_energy_per_policy(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", "factory", "--policies", "nearest-edge,least-loaded",
                                 "--seeds", "2", "--duration", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "comparison.json").read_text())
    for p in ("nearest-edge", "least-loaded"):
        runs = [json.loads(f.read_text()) for f in sorted((out / "runs").glob(f"{p}-seed*.json"))]
        assert len(runs) == 2
        entry = data["site_energy"][p]
        want = [r["site_energy"]["power_w"] for r in runs]
        assert entry["power_w"]["values"] == pytest.approx(want)
        assert entry["power_w"]["mean"] == pytest.approx(sum(want) / 2)
        assert entry["energy_per_served_j"]["values"] == pytest.approx(
            [r["site_energy"]["energy_per_served_j"] for r in runs])
    text = " ".join(result.output.split())
    assert "Compute sites' GPU energy" in text and "GPU boards only" in text
    html = (out / "report.html").read_text()
    assert 'id="site-energy-table"' in html
    assert html.count('<tr data-policy="') >= 2
    # a comparison.json from before site_energy: its table rebuilt from its runs, the same
    rows = site_energy_rows(data)
    assert [r["policy"] for r in rows] == ["nearest-edge", "least-loaded"]
    older = {k: v for k, v in data.items() if k != "site_energy"}
    assert site_energy_rows(older) == rows
    # and a run summary from before it has none: no row, no error
    for r in older["runs"]:
        r["summary"].pop("site_energy")
    assert site_energy_rows(older) == []
