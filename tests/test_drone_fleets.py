"""A drone maker's review: fleets at several heights read per fleet (summary, terminal, report),
each device's height in devices.parquet, and parked devices below Qout counted and warned of."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from airan.cli import fleets_radio_text
from airan.engine.engine import Engine, devices_radio
from airan.report.html import fleet_radio_rows
from airan.scenario import scenario_from_dict
from airan.sweep.merge import merge_fleets

CITY: dict[str, Any] = yaml.safe_load(
    resources.files("airan.scenario.builtin").joinpath("city.yaml").read_text())


def _city(heights: dict[str, float], count: int = 100, **vehicles: Any) -> dict[str, Any]:
    """city's layout with its vehicles cut to ``count`` (``vehicles``: their fields changed)
    and a parked fleet of ``count`` drones per height (m) in ``heights``."""
    d = copy.deepcopy(CITY)
    veh = d["fleets"][0]
    veh.update(count=count, **vehicles)
    for name, h in heights.items():
        d["fleets"].append({"name": name, "count": count, "area": veh["area"],
                            "height_m": h, "services": ["perception"]})
    return d


def test_each_fleet_has_its_devices_radio_and_devices_parquet_its_height(
        tmp_path: Path) -> None:
    """Fleets at 30, 60, 100 and 150 m read as one pooled line: each fleet's p5 / p50 / p95
    are those of its own rows of devices.parquet, whose z_m is its height."""
    heights = {f"drone{h}": float(h) for h in (30, 60, 100, 150)}
    res = Engine(scenario_from_dict(_city(heights)), duration_s=0.1).run()
    s, dev = res.summary, res.devices
    fleet = np.asarray(dev.column("fleet").to_pylist())
    z = dev.column("z_m").to_numpy()
    assert np.array_equal(z[fleet == "vehicles"], np.full(100, 1.5))  # (its class's antenna)
    for name, h in heights.items():
        assert np.array_equal(z[fleet == name], np.full(100, h))
    for name, f in s["fleets"].items():
        assert set(f["radio"]) == set(s["cells"]["devices_radio"])
        for col in ("sinr_dl_db", "sinr_ul_db", "ul_rate_full_cell_mbps"):
            x = dev.column(col).to_numpy()[fleet == name]
            for q in (5, 50, 95):
                assert f["radio"][col][f"p{q}"] == pytest.approx(
                    float(np.percentile(x[np.isfinite(x)], q)), rel=1e-12)
    # the higher, the more cells in LOS interfere: the median downlink SINR falls with height
    p50 = [s["fleets"][n]["radio"]["sinr_dl_db"]["p50"] for n in ("vehicles", *heights)]
    assert p50[0] > p50[-1] + 5.0
    # the terminal: one line per fleet; the report: one row per fleet
    lines = fleets_radio_text(s["fleets"])
    assert len(lines) == 5 and lines[1].startswith("  fleet drone30 (100 devices), p5 / p50 / p95")
    p = s["fleets"]["drone150"]["radio"]["sinr_dl_db"]
    assert f"downlink SINR {p['p5']:.1f} / {p['p50']:.1f} / {p['p95']:.1f} dB" in lines[4]
    rows = fleet_radio_rows(s)
    assert [r["fleet"] for r in rows] == ["vehicles", *heights]
    # one fleet: the pooled line says it all
    assert fleets_radio_text({"vehicles": s["fleets"]["vehicles"]}) == []
    # shards: a fleet in one part keeps its percentiles; in several they do not merge
    one = s["fleets"]["drone30"]
    assert merge_fleets([one])["radio"] == one["radio"]
    both = merge_fleets([one, s["fleets"]["drone60"]])
    assert "radio" not in both
    # and the function the summary uses, over given rows
    assert devices_radio(dev, np.flatnonzero(fleet == "drone60")) == s["fleets"]["drone60"][
        "radio"]
    # the report's table, a row per fleet
    from airan.report import build_report, write_run

    write_run(res, tmp_path / "run")
    table = build_report(tmp_path / "run").path.read_text().split('id="fleet-radio-table"')[1]
    assert '<tr data-radio-fleet="drone150"><td>drone150</td><td>100</td><td>' in table


def test_a_flying_fleets_z_m_is_where_the_run_left_each_device() -> None:
    """Generated paths between 30 and 120 m: each device's z_m is its height at the end."""
    d = _city({}, count=50)
    d["fleets"].append({"name": "drones", "count": 50, "area": d["fleets"][0]["area"],
                        "services": ["perception"],
                        "mobility": {"model": "waypoints", "speed_mps": 15.0,
                                     "generate": {"count": 10, "altitude_m": [30, 120]}}})
    eng = Engine(scenario_from_dict(d), duration_s=0.5)
    res = eng.run()
    z = res.devices.column("z_m").to_numpy()[50:]
    ids, mob = eng.motion.fleets[0]
    assert np.array_equal(ids, np.arange(50, 100))
    assert np.allclose(z, mob.positions(eng.motion._moved_s[0])[:, 2], rtol=0, atol=1e-9)
    assert ((z >= 30.0) & (z <= 120.0)).all() and np.ptp(z) > 10.0
