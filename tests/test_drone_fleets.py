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
from typer.testing import CliRunner

from airan.cli import app, fleets_radio_text
from airan.engine.engine import Engine, devices_radio
from airan.engine.world import serving_ssb_sinr
from airan.report.cautions import cautions, parked_below_qout
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
    assert both["below_qout"] == one["below_qout"] + s["fleets"]["drone60"]["below_qout"]
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


def test_a_drone_hovering_on_a_one_point_path_or_at_its_paths_end_is_not_moving() -> None:
    """A drone operator's review: inspection drones on one-point paths (hovering at rooftops)
    counted as 20 moving devices at the path's 1 m/s, diluting the handovers a minute. Now a
    one-point path moves no device; an open path's drone moves until its last point (its
    moving minutes: the path's 40 m at 20 m/s from its start, 2 s of a 5 s run; spread along
    it, less), its speed the path's; a looped
    path's moves all the run at its speed."""
    d = _city({}, count=10)
    area = d["fleets"][0]["area"]
    for name, paths, loop in (
            ("hover", [[[100.0 * i, 0.0, 40.0]] for i in range(5)], False),
            ("open", [[[0.0, 0.0, 60.0], [40.0, 0.0, 60.0]]], False),
            ("looped", [[[0.0, 0.0, 60.0], [40.0, 0.0, 60.0]]], True)):
        d["fleets"].append({"name": name, "count": 5, "area": area, "services": ["perception"],
                            "mobility": {"model": "waypoints", "speed_mps": 20.0,
                                         "paths": paths, "loop": loop, "phase": "zero"}})
    mob = Engine(scenario_from_dict(d), duration_s=5.0).run().summary["mobility"]
    fleets = mob["fleets"]
    assert fleets["hover"]["moving_devices"] == 0 and "mean_speed_mps" not in fleets["hover"]
    assert fleets["open"]["moving_devices"] == 5
    assert fleets["open"]["moving_minutes"] == pytest.approx(5 * 2.0 / 60.0)
    # (its speed on the move, as its handovers a minute are over those minutes: a diff
    # review, where 0 at its end took the fleet out of the terminal's rate for scale)
    assert fleets["open"]["mean_speed_mps"] == 20.0
    assert fleets["looped"]["moving_minutes"] == pytest.approx(5 * 5.0 / 60.0)
    assert fleets["looped"]["mean_speed_mps"] == 20.0
    assert mob["mobile_devices"] == 10
    # the distance each moved (a rail planner's review: handovers per km, where masts stand
    # per km): the open path's 40 m each, exactly; the looped one's 100 m each, less the
    # corners its updates cut at each turn (within 5%); the hovering ones none
    assert fleets["open"]["travelled_km"] == pytest.approx(5 * 0.040, rel=1e-9)
    assert fleets["looped"]["travelled_km"] == pytest.approx(5 * 0.100, rel=0.05)
    assert fleets["hover"]["travelled_km"] == 0.0 and fleets["hover"]["handovers_per_km"] is None
    assert mob["travelled_km"] == pytest.approx(sum(f["travelled_km"] for f in fleets.values()))
    for f in (fleets["open"], fleets["looped"]):
        assert f["handovers_per_km"] == f["handovers"] / f["travelled_km"]


def test_the_worlds_ssb_sinr_is_the_one_radio_link_monitoring_hears() -> None:
    """serving_ssb_sinr (every device, at its links now) equals Motion._monitor's SINR for the
    moving devices it monitors, at each update where the device kept its cell."""
    d = _city({}, count=150, mobility={"model": "random_waypoint", "speed_mps": [10, 20]})
    eng = Engine(scenario_from_dict(d), duration_s=1.0)
    m, w = eng.motion, eng.world
    nf = eng.scenario.radio.ue_noise_figure_db
    seen: list[tuple[Any, Any, Any]] = []
    checked = [0]
    monitor, update = m._monitor, m.update

    def spy(engine: Any, ids: Any, serving: Any, present: Any, ho: Any, rlf: Any, sinr: Any,
            sinr_best: Any) -> Any:
        seen.append((ids.copy(), serving.copy(), sinr.copy()))
        return monitor(engine, ids, serving, present, ho, rlf, sinr, sinr_best)

    def after(engine: Any, *a: Any, **k: Any) -> None:
        seen.clear()
        update(engine, *a, **k)
        now = serving_ssb_sinr(w, nf)
        for ids, serving, sinr in seen:
            kept = w.dev_cell[ids] == serving
            assert now[ids[kept]] == pytest.approx(sinr[kept], rel=1e-12)
            checked[0] += int(kept.sum())

    m._monitor, m.update = spy, after  # type: ignore[method-assign]
    eng.run()
    assert checked[0] > 100  # (each re-evaluated every 10 m of travel: 185)


def test_the_ssb_sinr_by_hand_from_the_devices_gains() -> None:
    """For a parked device: its serving cell's RSRP, P / (12 N_PRB) (TS 38.215 5.1.1, 56 dBm
    over 273 PRBs), over the other cells' RSRPs, its residual power over the serving carrier's
    REs, and kT over one 30 kHz subcarrier (-174 dBm/Hz + 10 log10 30e3 + NF 9 dB)."""
    eng = Engine(scenario_from_dict(_city({"d300": 300.0}, count=20)), duration_s=1e-3)
    w = eng.world
    rs_mw = 10 ** (56.0 / 10) / (12 * 273)
    noise_mw = 10 ** ((-174.0 + 10 * np.log10(30e3) + 9.0) / 10)
    got = serving_ssb_sinr(w, 9.0)
    for i in range(w.n_devices):
        cells = list(dict.fromkeys(int(c) for c in w.dev_top_cell[i]))  # (padding repeats)
        g = {int(c): float(x) for c, x in zip(w.dev_top_cell[i][::-1], w.dev_top_gain[i][::-1],
                                               strict=True)}
        own = g[cells[0]] * rs_mw
        others = sum(g[c] * rs_mw for c in cells[1:])
        want = own / (others + w.dev_resid_gain_mw[i] / (12 * 273) + noise_mw)
        assert got[i] == pytest.approx(want, rel=1e-9)


def _validate(tmp_path: Path, d: dict[str, Any]) -> Any:
    path = tmp_path / "drones.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return CliRunner().invoke(app, ["validate", str(path)])


def test_parked_drones_below_qout_are_counted_cautioned_and_warned_of(tmp_path: Path) -> None:
    """A fleet hovering at 300 m over city hears most SSBs below Qout (-8 dB): counted in its
    summary, cautioned of (parked: not monitored), and warned of by validate (exit 0); the
    vehicles at 1.5 m are not; with qout_db null nothing is monitored: None, no word."""
    d = _city({"hover300": 300.0}, count=200)
    s = Engine(scenario_from_dict(d), duration_s=0.1).run().summary
    assert s["qout_db"] == -8.0
    hover, ground = s["fleets"]["hover300"]["below_qout"], s["fleets"]["vehicles"]["below_qout"]
    assert hover > 100 and ground < 5
    assert parked_below_qout(s)[-1] == f"hover300 ({hover:,} of 200 parked devices)"
    said = [c for c in cautions(s) if c.startswith("Parked below Qout")]
    assert len(said) == 1 and "not being monitored" in said[0] and "-8 dB" in said[0]
    result = _validate(tmp_path, d)
    assert result.exit_code == 0, result.output
    warned = [ln for ln in result.stderr.splitlines() if "below Qout" in ln]
    assert any("'fleets[hover300]'" in ln and f"{hover:,} of its 200 parked devices" in ln
               for ln in warned), result.stderr
    assert ground or not any("fleets[vehicles]" in ln for ln in warned)
    # the terminal: the fleet's line counts them, the caution names it
    ran = CliRunner().invoke(app, ["run", str(tmp_path / "drones.yaml"), "--duration", "0.1",
                                   "--no-report", "--out", str(tmp_path / "run")])
    assert ran.exit_code == 0, ran.output
    text = " ".join(ran.stdout.split())
    assert "fleet hover300 (200 devices), p5 / p50 / p95: downlink SINR" in text
    assert f"{hover:,} below Qout" in text and "Parked below Qout: devices of" in text
    # a moving fleet at 300 m is monitored: no caution for it
    moving = copy.deepcopy(d)
    moving["fleets"][1]["mobility"] = {"model": "random_waypoint", "speed_mps": [5, 10]}
    sm = Engine(scenario_from_dict(moving), duration_s=0.1).run().summary
    assert sm["fleets"]["hover300"]["below_qout"] > 100
    assert not any("hover300" in x for x in parked_below_qout(sm))
    # qout_db null: nothing monitored, nothing counted
    d["handover"] = {"qout_db": None}
    s = Engine(scenario_from_dict(d), duration_s=0.1).run().summary
    assert s["qout_db"] is None
    assert all(f["below_qout"] is None for f in s["fleets"].values())
    assert not parked_below_qout(s)
    assert "below Qout" not in _validate(tmp_path, d).stderr


def test_a_few_devices_at_a_cell_edge_and_a_sharded_moving_fleet_draw_no_caution() -> None:
    """A diff review: korea's one vehicle of 1,324 below Qout drew a caution on every run, and
    a moving fleet cut into pieces by shards (``drones#1``, ``drones#2`` in the merged
    mobility) was called parked. A fleet is cautioned of where more than 1% of it is below."""
    s: dict[str, Any] = {"qout_db": -8.0, "mobility": None, "fleets": {
        "vehicles": {"devices": 1324, "below_qout": 1},
        "edge": {"devices": 200, "below_qout": 2},
        "drones": {"devices": 200, "below_qout": 3}}}
    assert parked_below_qout(s) == ["drones (3 of 200 parked devices)"]
    s["mobility"] = {"fleets": {"drones#1": {"moving_devices": 0},
                                "drones#2": {"moving_devices": 40}}}
    assert parked_below_qout(s) == []
    s["mobility"] = {"fleets": {"drones#1": {"moving_devices": 0}}}  # every piece parked
    assert parked_below_qout(s) == ["drones (3 of 200 parked devices)"]


def test_the_built_in_scenarios_validate_without_a_qout_warning() -> None:
    for name in ("factory", "city", "korea"):
        res = CliRunner().invoke(app, ["validate", name])
        assert res.exit_code == 0, res.output
        assert "below Qout" not in res.output, name
