"""An interference burst on a cell (a welding arc, a jammer; fault ``interference``): its
receivers' noise floor raised by ``rise_db`` for a window, uplink (the cell's), downlink (its
devices') or both, against the attenuated Shannon rule by hand (a robot maker's review: "what
happens to my robots if the radio degrades for 2 s in one aisle?" could not be asked).

One UE alone in a noise-limited cell, configured grant, no HARQ failures (the rules of
tests/test_radio_capacity.py): a U slot on n PRBs carries n x SE x 12 x 14 x (1 - 0.08) bits,
SE = min(0.75 log2(1 + SINR / 1.25), 7.4063); a rise of r dB divides the SINR by 10^(r / 10).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from one_cell import one_cell_site
from typer.testing import CliRunner

from airan import InputError
from airan.cli import app
from airan.engine import Engine
from airan.policy.builtin import nearest_edge
from airan.radio import link
from airan.report.events import events
from airan.scenario import load_scenario, scenario_from_dict

U_PERIOD_MS, SLOT_MS = 2.5, 0.5  # DDDSU at 30 kHz: one U slot in five


def _cell(x_m: float, ul_kb: float, dl_kb: float, fault: dict[str, Any]) -> dict[str, Any]:
    """One UE ``x_m`` from a one-sector cell ``bs``, an upload every 0.25 s from 0 to 1.75 s,
    ``fault`` on the cell."""
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="rr", ul_access="configured_grant", shadowing=False)
    d["fleets"] = [{"name": "ue", "count": 1, "services": ["perception"],
                    "area": {"x_m": [x_m, x_m + 0.01], "y_m": [0.0, 0.01]}}]
    d["services"][0].update(ul_kb=ul_kb, dl_kb=dl_kb, rate_hz=4.0, arrivals="periodic",
                            jitter_ms=0.0)
    d["duration_s"] = 2.0
    d["faults"] = [{"kind": "interference", "cell": "bs", **fault}]
    return d


def _u_slots(w: Any, bits: float, rise_db: float) -> int:
    """The U slots an upload of ``bits`` takes alone on every PRB (not power-limited), its
    SINR divided by the rise."""
    per_mw = w.dev_top_gain[0, 0] * w.cell_prb[0] * w.cell_ul_rx_gain[0] / w.ul_noise_mw[0]
    sinr = w.dev_ul_p_prb_mw[0] * per_mw / 10 ** (rise_db / 10)
    se = min(0.75 * math.log2(1.0 + sinr / 1.25), 7.4063)
    return math.ceil(bits / (float(w.cell_prb[0]) * se * 12 * 14 * (1 - 0.08)))


def test_an_uplink_burst_stretches_an_upload_to_the_u_slots_of_its_sinr_over_the_rise() -> None:
    """10 dB on the uplink from 0.6 to 1.4 s: the uploads made in it take the U slots of an SINR
    10 dB lower (22.4 dB -> 12.4 dB, 15 -> 27 slots for 400 kB), those before and after it the
    slots of the SINR without it; the device's downlink noise is untouched."""
    d = _cell(40.0, 400.0, 1.0, {"start_s": 0.6, "end_s": 1.4, "rise_db": 10.0,
                                 "direction": "uplink"})
    eng = Engine(scenario_from_dict(d), seed=2)
    w = eng.world
    assert w.dev_ul_p_prb_mw[0] * w.cell_prb[0] <= w.dev_ue_tx_mw[0]  # on all PRBs
    quiet, loud = _u_slots(w, 400e3 * 8, 0.0), _u_slots(w, 400e3 * 8, 10.0)
    assert loud > quiet + 5
    dl_noise, ul_noise = w.dev_dl_noise_mw.copy(), w.ul_noise_mw.copy()
    eng.step(int(round(1.0 / w.slot_s)))
    assert w.ul_noise_mw[0] == pytest.approx(10.0 * ul_noise[0], rel=1e-12)
    assert np.array_equal(w.dev_dl_noise_mw, dl_noise)
    eng.step(eng.n_slots - eng.slot)
    res = eng.result()
    assert np.array_equal(w.ul_noise_mw, ul_noise)  # back to thermal, exactly
    t = res.requests.to_pydict()
    created, air = np.array(t["created_s"]), np.array(t["ul_air_ms"], dtype=float)
    assert len(created) == 8 and np.isfinite(air).all()
    burst = (created > 0.6) & (created < 1.4)
    assert burst.sum() == 3
    want = np.where(burst, loud, quiet)
    np.testing.assert_allclose(air, (want - 1) * U_PERIOD_MS + SLOT_MS, rtol=0, atol=1e-9)
    f = res.summary["faults"][0]
    assert (f["kind"], f["rise_db"], f["direction"], f["devices_served"]) == (
        "interference", 10.0, "uplink", 1)
    assert sum(f["ended_during"].values()) == 3


def test_a_downlink_burst_cuts_the_rate_a_policy_reads_to_the_se_of_the_sinr_over_it() -> None:
    """10 dB on the downlink from 0.6 to 1.4 s, the UE 300 m out (19.8 dB at one antenna, rank
    adapted over 4): its downlink noise is 10x the thermal while it lasts, and the downlink
    rate the policy reads falls by the rank-adapted SE at the SINR 10 dB lower over the SE
    without it (TS 38.214 5.2.2.2, attenuated Shannon), back to it after; the cell's uplink
    noise is untouched."""
    rates: list[tuple[float, float]] = []

    def spy(snap: Any, batch: Any) -> np.ndarray:
        rates.extend(zip(np.asarray(batch.time_s).tolist(),
                         snap.dl_rate_bps(np.asarray(batch.device)).tolist(), strict=True))
        return nearest_edge(snap, batch)

    d = _cell(300.0, 1.0, 100.0, {"start_s": 0.6, "end_s": 1.4, "rise_db": 10.0,
                                  "direction": "downlink"})
    eng = Engine(scenario_from_dict(d), policy=spy, seed=2)
    w = eng.world
    dl_noise, ul_noise = w.dev_dl_noise_mw.copy(), w.ul_noise_mw.copy()
    sinr_db = 10 * math.log10(w.cell_tx_on_mw[w.cell_carrier[0], 0] * w.dev_top_gain[0, 0]
                              / dl_noise[0])
    se, se_burst = (float(link.dl_rank_adapted_se(sinr_db - r, int(w.cell_tx_antennas[0]),
                                                  int(w.cell_dl_layers[0]))[0])
                    for r in (0.0, 10.0))
    assert se_burst < 0.6 * se
    eng.step(int(round(1.0 / w.slot_s)))
    assert w.dev_dl_noise_mw[0] == pytest.approx(10.0 * dl_noise[0], rel=1e-12)
    assert np.array_equal(w.ul_noise_mw, ul_noise)
    eng.step(eng.n_slots - eng.slot)
    s = eng.result().summary
    assert np.array_equal(w.dev_dl_noise_mw, dl_noise)
    assert s["requests"]["in_flight"] == 0 and s["requests"]["dropped"] == 0
    created, rate = np.array(rates).T
    burst = (created > 0.6) & (created < 1.4)
    assert burst.sum() == 3 and (~burst).sum() == 5
    np.testing.assert_allclose(rate[burst] / rate[0], se_burst / se, rtol=1e-9)
    np.testing.assert_allclose(rate[~burst], rate[0], rtol=1e-12)


def _factory(**fleet_changes: Any) -> dict[str, Any]:
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["policy"] = "deadline-aware"
    d["fleets"][0].update(fleet_changes)
    return d


def _window(d: dict[str, Any], cell: str) -> tuple[dict[str, Any], np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """A 1.5 s run: its summary, and of the requests that devices on ``cell`` at the start
    created from 0.5 to 1 s, whether each met its deadline, its latency and its upload's air
    time (ms)."""
    eng = Engine(scenario_from_dict(d), duration_s=1.5, seed=1)
    on = np.flatnonzero(eng.world.dev_cell == eng.world.cell_names.index(cell))
    res = eng.run()
    t = res.requests.to_pydict()
    created, device = np.array(t["created_s"]), np.array(t["device"])
    mine = (created > 0.5) & (created < 1.0) & np.isin(device, on)
    return (res.summary, np.array(t["outcome"])[mine] == "met",
            np.array(t["latency_ms"], dtype=float)[mine],
            np.array(t["ul_air_ms"], dtype=float)[mine])


def test_a_burst_on_one_factory_cell_makes_its_robots_late_in_the_window_and_loses_nothing(
        ) -> None:
    """20 dB both ways on cell-a from 0.5 to 1 s, deadline-aware: the robots on cell-a meet
    fewer deadlines and wait longer than the same run without it (their uploads' air time
    several times theirs: the uplink's SINR 20 dB down), every request is accounted for, and
    the summary and the terminal's faults line say what it was."""
    d = _factory()
    base, met0, lat0, air0 = _window(d, "cell-a")
    d["faults"] = [{"kind": "interference", "cell": "cell-a", "start_s": 0.5, "end_s": 1.0,
                    "rise_db": 20.0}]
    s, met, lat, air = _window(d, "cell-a")
    assert len(met) == len(met0) > 100  # (the same arrivals)
    assert met.mean() < met0.mean() - 0.03
    assert np.nanmean(lat) > 1.5 * np.nanmean(lat0)
    assert np.nanmean(air) > 3 * np.nanmean(air0)
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]
    assert r["created"] == base["requests"]["created"]
    f = s["faults"][0]
    assert (f["kind"], f["target"], f["rise_db"], f["direction"]) == (
        "interference", "cell-a", 20.0, "both")
    assert f["devices_served"] > 0 and sum(f["ended_during"].values()) > 0
    line = next(x for x in events(s) if "interference" in x)
    assert "cell-a (20 dB over thermal noise at the cell's and its devices' receivers)" in line
    assert "0.5-1 s" in line and f"{f['devices_served']} devices on it when it began" in line


def test_a_device_that_hands_over_into_or_out_of_the_burst_takes_its_new_cells_noise() -> None:
    """120 AMRs moving through the hall (random waypoint, 8-12 m/s) while cell-a is under a
    10 dB both-ways burst from 0.1 to 1.4 s: at each check every device's downlink noise is
    the same run's without the burst times 10 where cell-a serves it now and 1 elsewhere, the
    devices that handed over into cell-a or out of it since the burst began included (where
    motion rewrote a moving device's noise as thermal, 40 of 138 were wrong); at the end, back
    to it everywhere."""
    d = _factory(count=120, mobility={"model": "random_waypoint", "speed_mps": [8.0, 12.0]})
    quiet = Engine(scenario_from_dict(d), duration_s=1.5, seed=1)
    d["faults"] = [{"kind": "interference", "cell": "cell-a", "start_s": 0.1, "end_s": 1.4,
                    "rise_db": 10.0}]
    loud = Engine(scenario_from_dict(d), duration_s=1.5, seed=1)
    a = loud.world.cell_names.index("cell-a")
    for eng in (quiet, loud):
        eng.step(int(round(0.1 / eng.world.slot_s)) + 1)
    on_a_then = loud.world.dev_cell == a
    crossed = 0
    for t_s in (0.7, 1.3):
        for eng in (quiet, loud):
            eng.step(int(round(t_s / eng.world.slot_s)) - eng.slot)
        assert np.array_equal(quiet.world.dev_cell, loud.world.dev_cell)
        on_a = loud.world.dev_cell == a
        crossed += int((on_a != on_a_then).sum())
        np.testing.assert_allclose(loud.world.dev_dl_noise_mw,
                                   quiet.world.dev_dl_noise_mw * np.where(on_a, 10.0, 1.0),
                                   rtol=1e-12)
    assert crossed > 0
    for eng in (quiet, loud):
        eng.step(eng.n_slots - eng.slot)
    np.testing.assert_allclose(loud.world.dev_dl_noise_mw, quiet.world.dev_dl_noise_mw,
                               rtol=1e-12)
    np.testing.assert_array_equal(loud.world.ul_noise_mw, quiet.world.ul_noise_mw)
    s = loud.result().summary
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]


@pytest.mark.parametrize(("fault", "field", "says"), [
    ({"cell": "cel-a", "rise_db": 10.0}, "faults[0].cell", "cell-a"),
    ({"cell": "cell-a", "rise_db": -3.0}, "rise_db", "greater than 0"),
    ({"cell": "cell-a", "rise_db": 80.0}, "rise_db", "60"),
    ({"cell": "cell-a"}, "faults[0]", "rise_db"),
    ({"cell": "cell-a", "rise_db": 10.0, "direction": "sideways"}, "direction", "uplink"),
])
def test_validate_refuses_a_bad_interference_fault_naming_the_field(
        tmp_path: Path, fault: dict[str, Any], field: str, says: str) -> None:
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "interference", "start_s": 0.5, "end_s": 1.0, **fault}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert field in res.output and says in res.output


def test_interference_is_the_nr_radios_and_its_fields_no_other_faults() -> None:
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "interference", "cell": "cell-a", "start_s": 0.5, "rise_db": 10.0}]
    d["radio"]["model"] = "ideal"
    with pytest.raises(InputError, match=r"faults\[0\]\.kind"):
        scenario_from_dict(d)
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "cell_down", "cell": "cell-a", "start_s": 0.5, "rise_db": 10.0}]
    with pytest.raises(InputError, match="rise_db"):
        scenario_from_dict(d)
