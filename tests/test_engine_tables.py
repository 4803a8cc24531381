"""The tables a run returns beside its summary: load over time, cells and devices on the map.

* each site's load windows add up exactly to the run's utilization and mean queue, and each
  cell's PRB windows to its utilization over the run; a surge shows in its windows;
* the windows are a fixed grid, so stepping in any sizes gives the same series;
* the cell table's PRB utilization is the summary's; the device table's SINR is the geometry
  SINR of a fully loaded network, checked by hand against the 38.901 path loss in one case.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import airan
from airan.engine import Engine
from airan.engine.engine import TIMESERIES_POINTS
from airan.radio import nr, pathloss
from airan.scenario import load_scenario, scenario_from_dict


def _site_series(table, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    site = np.asarray(table.column("site").to_pylist(), dtype=object)
    keep = site == name
    dt = (table.column("t_end_s").to_numpy() - table.column("t_start_s").to_numpy())[keep]
    return (dt, table.column("gpu_utilization").to_numpy()[keep],
            table.column("mean_queue").to_numpy()[keep])


@pytest.mark.parametrize("scenario", ["factory", "city"])
def test_load_windows_add_up_to_the_summary(scenario: str) -> None:
    res = airan.run(scenario, policy="nearest-edge", duration_s=4.0)
    assert res.timeseries is not None
    n_sites = len(res.summary["sites"])
    assert res.timeseries.num_rows % n_sites == 0
    windows = res.timeseries.num_rows // n_sites
    assert TIMESERIES_POINTS / 2 <= windows <= 2 * TIMESERIES_POINTS
    busiest = max(res.summary["sites"].values(), key=lambda s: s["gpu_utilization"])
    assert busiest["gpu_utilization"] > 0.01
    for name, s in res.summary["sites"].items():
        dt, util, queue = _site_series(res.timeseries, name)
        assert dt.sum() == pytest.approx(res.summary["duration_s"])
        assert np.all(util >= -1e-12) and np.all(util <= 1 + 1e-9)
        assert (dt * util).sum() / dt.sum() == pytest.approx(s["gpu_utilization"], abs=1e-12)
        assert (dt * queue).sum() / dt.sum() == pytest.approx(s["mean_queue"], abs=1e-12)
    # the cells' windows, the same windows, add up to cells.parquet's utilization over the run
    # (each window a whole number of TDD periods here: its slots of a direction, dt's share)
    cts, cells = res.cell_timeseries, res.cells
    assert cts is not None and cts.num_rows == windows * cells.num_rows
    assert cts.column("t_start_s").to_numpy()[:: cells.num_rows].tolist() == \
        res.timeseries.column("t_start_s").to_numpy()[::n_sites].tolist()
    dt = (cts.column("t_end_s").to_numpy() - cts.column("t_start_s").to_numpy()).reshape(
        windows, -1)[:, 0]
    for key in ("prb_utilization_ul", "prb_utilization_dl"):
        u = cts.column(key).to_numpy().reshape(windows, -1)
        assert np.all(u >= 0) and np.all(u <= 1 + 1e-9)
        overall = cells.column(key).to_numpy()
        assert overall.max() > 0.0001
        np.testing.assert_allclose(dt @ u / dt.sum(), overall, rtol=1e-9, atol=1e-15)


def test_a_surge_shows_in_its_cells_windows_and_not_outside_them() -> None:
    """A fleet's surge (ten times its rate between 1 and 1.5 s) shows in cell_timeseries:
    the cells' uplink PRB use in the windows within it is about ten times that outside (at 3%
    of the PRBs, the uploads' PRBs scale with their number; a hospital planner's review: a
    burst of uplink congestion could not be explained from the run's means), and the windows
    before it are the same as in a run without it."""
    d = load_scenario("city").model_dump(mode="json")
    d["fleets"][0]["count"] = 100  # (city's 1,000 vehicles fill half the PRBs: x10 saturates)
    plain = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=2.5).run()
    d["faults"] = [{"kind": "surge", "fleet": d["fleets"][0]["name"], "start_s": 1.0,
                    "end_s": 1.5, "rate_factor": 10.0}]
    surged = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=2.5).run()

    def ul(res: Any) -> tuple[np.ndarray, np.ndarray]:
        t = res.cell_timeseries
        n = res.cells.num_rows
        u = t.column("prb_utilization_ul").to_numpy().reshape(-1, n).sum(axis=1)
        return t.column("t_start_s").to_numpy()[::n], u

    t0, base = ul(plain)
    t1, surge = ul(surged)
    assert t0.tolist() == t1.tolist()
    before, inside = t0 < 0.99, (t0 > 1.05) & (t0 < 1.45)
    after = t0 > 1.7  # (the backlog of the surge served by then)
    assert surge[before].tolist() == base[before].tolist()
    ratio = surge[inside].mean() / base[inside].mean()
    assert 8.5 < ratio < 11.0, ratio
    assert surge[after].mean() / base[after].mean() < 1.35


def test_load_series_does_not_depend_on_step_sizes() -> None:
    sc = load_scenario("factory")
    first = Engine(sc, duration_s=0.7).run()
    whole = first.timeseries
    eng = Engine(sc, duration_s=0.7)
    sizes = [1, 7, 13, 250, 3]
    k = 0
    while not eng.done:
        eng.step(sizes[k % len(sizes)])
        k += 1
    res = eng.result()
    assert res.timeseries.equals(whole)
    assert res.cell_timeseries is not None
    assert res.cell_timeseries.equals(first.cell_timeseries)


def test_load_series_is_the_same_when_samples_are_reduced_as_taken(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples are kept as copies of the sites' state (reduced at the end), or with very many
    GPUs reduced as they are taken: both give the same series, bit for bit."""
    from airan.engine import engine as engine_module

    sc = load_scenario("factory")
    first = Engine(sc, duration_s=0.7).run()
    copies = first.timeseries
    monkeypatch.setattr(engine_module, "SAMPLE_COPIES_MAX_GPUS", 0)
    eng = Engine(sc, duration_s=0.7)
    assert not eng._sample_copies
    res = eng.run()
    assert res.timeseries.equals(copies)
    assert res.cell_timeseries is not None and res.cell_timeseries.num_rows > 0
    assert res.cell_timeseries.equals(first.cell_timeseries)
    assert copies.num_rows > 0


def test_cell_table_matches_summary_and_attachments() -> None:
    res = airan.run("city", policy="nearest-edge", duration_s=0.5)
    cells, devices = res.cells, res.devices
    assert cells.num_rows == res.summary["cells"]["count"]
    assert np.mean(cells.column("prb_utilization_ul").to_numpy()) == pytest.approx(
        res.summary["cells"]["mean_prb_utilization_ul"])
    assert cells.column("devices").to_numpy().sum() == devices.num_rows == res.summary["devices"]
    sinr = devices.column("sinr_dl_db").to_numpy()
    assert np.all(np.isfinite(sinr))
    # a macro layout at full load: median geometry SINR a few dB, spread over ~-5..+25 dB
    # (the 3GPP calibration range of TR 36.814 / 38.901 system-level studies)
    assert -3 < np.median(sinr) < 12
    assert np.percentile(sinr, 5) > -10 and np.percentile(sinr, 95) < 35


def test_single_cell_sinr_is_tx_power_minus_path_loss_minus_noise() -> None:
    data = load_scenario("city").model_dump(mode="json")
    data["radio"]["shadowing"] = False
    data["cell_layout"] = None
    data["cell_sites"] = [{"name": "bs", "position_m": [0.0, 0.0], "height_m": 25.0,
                           "sectors": 1}]
    data["generated_compute_sites"] = None
    data["transport"]["backhaul"] = None
    data["transport"]["links"].append({"a": "bs", "b": "metro-edge", "fiber_km": 1.0,
                                       "capacity_gbps": 10.0})
    data["fleets"][0].update(count=40, area={"x_m": [20.0, 400.0], "y_m": [-1.0, 1.0]})
    res = Engine(scenario_from_dict(data), duration_s=0.01).run()
    x = res.devices.column("x_m").to_numpy()
    y = res.devices.column("y_m").to_numpy()
    sinr = res.devices.column("sinr_dl_db").to_numpy()
    d2d = np.hypot(x, y)
    d3d = np.hypot(d2d, 25.0 - 1.5)
    occupied_hz = nr.n_prb(100.0, 1) * 12 * 30e3  # 273 PRB at 30 kHz, TS 38.101-1 5.3.2-1
    noise_dbm = nr.thermal_noise_dbm(occupied_hz, 9.0)
    # one omni cell, no interferer, no shadowing: SINR = P_tx - PL(LOS or NLOS) - N (TR 38.901)
    expected = {
        los: data["carrier"]["tx_power_dbm"]
        - pathloss.pathloss_db("uma", d2d, d3d, 3.5, 25.0, 1.5, los) - noise_dbm
        for los in (True, False)
    }
    close = [np.isclose(sinr, e, rtol=0, atol=1e-6) for e in expected.values()]
    assert np.all(close[0] | close[1])
    # at 20-400 m both LOS and NLOS links occur (4 of 40 LOS on this seed; UMa's LOS
    # probability falls to 0.2 at 200 m, the state correlated over 50 m: at 20-700 m seed 1
    # of seeds 1-10 put every device in NLOS)
    assert close[0].any() and close[1].any()


def test_devices_table_has_the_uplink_sinr_and_rate_the_radio_uses() -> None:
    """devices.parquet's uplink columns are the kernel's own figures: in a run too short for
    any device to send (every value as the start left it), the rate alone on the cell's PRBs
    is what a policy reads for the uplink with no other UE active, and the SINR per PRB the
    gain the kernel keeps times the power control's power per PRB."""
    from airan.engine import kernel as K

    eng = Engine(load_scenario("factory"), duration_s=1e-4)
    devices = eng.run().devices
    w = eng.world
    n = w.n_devices
    rate = devices.column("ul_rate_full_cell_mbps").to_numpy()
    expected = K.ul_rates_bps(eng._kw, eng._sref, np.arange(n, dtype=np.int64),
                              np.zeros(n, dtype=np.int64), eng._ul_slot_fraction) / 1e6
    np.testing.assert_allclose(rate, expected, rtol=1e-12)
    gain = eng._st.ue_se_ul
    p_prb = np.minimum(np.maximum(w.dev_ul_p_prb_mw, w.min_sinr_lin / gain), w.dev_ue_tx_mw)
    np.testing.assert_allclose(devices.column("sinr_ul_db").to_numpy(),
                               10 * np.log10(p_prb * gain), rtol=0, atol=1e-9)
    assert np.all(rate > 0) and np.all(np.isfinite(rate))
    # ideal radio: no SINR, no rate limit
    data = load_scenario("factory").model_dump(mode="json")
    data["radio"]["model"] = "ideal"
    ideal = Engine(scenario_from_dict(data), duration_s=1e-4).run().devices
    assert np.all(np.isnan(ideal.column("sinr_ul_db").to_numpy()))
    assert np.all(np.isinf(ideal.column("ul_rate_full_cell_mbps").to_numpy()))


def test_the_summary_gives_the_devices_radio_percentiles_of_the_devices_table() -> None:
    """An operator's planner: the cell edge's SINR and uplink rate (p5 over the devices, as
    coverage and capacity are planned) were only in devices.parquet; the summary's
    cells.devices_radio holds p5 / p50 / p95 of its columns, and the terminal says them."""
    from airan.cli import devices_radio_text

    res = Engine("city", duration_s=0.2).run()
    got = res.summary["cells"]["devices_radio"]
    for col in ("sinr_dl_db", "sinr_ul_db", "ul_rate_full_cell_mbps"):
        x = res.devices.column(col).to_numpy()
        x = x[np.isfinite(x)]
        assert len(x) == 1000
        for q in (5, 50, 95):
            assert got[col][f"p{q}"] == pytest.approx(float(np.percentile(x, q)), rel=1e-12)
    assert got["sinr_dl_db"]["p5"] < got["sinr_dl_db"]["p50"] < got["sinr_dl_db"]["p95"]
    line = devices_radio_text(got)
    assert line is not None and "p5: the cell edge" in line
    assert f"downlink SINR (every neighbour transmitting) {got['sinr_dl_db']['p5']:.1f} / " in line
    # the ideal radio has no SINR: no such figures
    ideal = load_scenario("city").model_dump(mode="json")
    ideal["radio"]["model"] = "ideal"
    s = Engine(scenario_from_dict(ideal), duration_s=0.1).run().summary
    assert "devices_radio" not in (s.get("cells") or {})


def test_devices_at_the_layouts_edge_hear_fewer_interferers_as_the_docs_say() -> None:
    """No wrap-around (a planner's review): city's vehicles beyond 1.2 km from the centre see a
    higher median downlink SINR than those within 800 m, the figures docs/model.md gives."""
    from pathlib import Path

    res = Engine("city", duration_s=0.1).run()
    x, y = res.devices.column("x_m").to_numpy(), res.devices.column("y_m").to_numpy()
    sinr = res.devices.column("sinr_dl_db").to_numpy()
    d = np.hypot(x, y)
    outer, inner = np.median(sinr[d > 1200]), np.median(sinr[d < 800])
    assert outer > inner + 2.0
    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text().split())
    assert (f"a median downlink geometry SINR of {outer:.1f} dB for the "
            f"{(d > 1200).mean():.0%} of vehicles beyond 1.2 km from the centre, {inner:.1f} dB "
            "within 800 m") in text
