"""A device that loses its serving cell: radio link failure after T310, then re-establishment.

TS 38.331 5.3.10: N310 consecutive out-of-sync indications start T310, whose expiry declares
the failure; N311 in-sync indications before that stop it (the link recovers). Radio link
monitoring on the SSB in FR1 without DRX evaluates out-of-sync over 200 ms and in-sync over
100 ms (TS 38.133 Table 8.1.2.2-1, P = 1, a 20 ms SSB period) and indicates every 20 ms
(TS 38.213 clause 5). RRC re-establishment (5.3.7) follows the failure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.engine import Engine
from airan.radio import nr
from airan.scenario import load_scenario, scenario_from_dict
from airan.scenario.schema import Handover


def test_the_failure_comes_after_the_evaluation_period_n310_indications_and_t310() -> None:
    assert nr.rlf_delay_s(1000.0, 1) == pytest.approx(0.200 + 1.000, abs=1e-12)
    assert nr.rlf_delay_s(2000.0, 10) == pytest.approx(0.200 + 9 * 0.020 + 2.000, abs=1e-12)
    assert nr.rlf_delay_s(0.0, 1) == pytest.approx(0.200, abs=1e-12)  # T310 0: at once
    assert nr.rlm_recovery_s(1) == pytest.approx(0.100, abs=1e-12)
    assert nr.rlm_recovery_s(3) == pytest.approx(0.100 + 2 * 0.020, abs=1e-12)
    assert Handover().rlf_silence_s == pytest.approx(1.3, abs=1e-12)  # + 100 ms re-establishing
    ho = Handover(t310_ms=200.0, n310=4, reestablish_ms=50.0)
    assert ho.rlf_silence_s == pytest.approx(0.2 + 0.06 + 0.2 + 0.05, abs=1e-12)


@pytest.mark.parametrize(("field", "value"), [("t310_ms", 300.0), ("n310", 5), ("n311", 7)])
def test_rlf_timers_take_only_the_values_ts_38331_allows(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"{field} must be a TS 38.331"):
        Handover(**{field: value})


def _row(duration_s: float, *, handover: dict[str, Any] | None = None,
         faults: list[dict[str, Any]] | None = None, model: str = "ideal") -> dict[str, Any]:
    """Three omni cells 200 m apart; one device 10 m from c0 sending 0.2 kB at 100 Hz."""
    d = load_scenario("city").model_dump(mode="json")
    d.update(
        cell_layout=None, generated_compute_sites=None, nodes=[], policy="nearest-edge",
        cell_sites=[{"name": f"c{i}", "position_m": [200.0 * i, 0.0], "sectors": 1}
                    for i in range(3)],
        compute_sites=[{"name": "edge", "at": "c0", "kind": "cell",
                        "gpus": [{"type": "L4", "count": 1}]}],
        transport={"links": [{"a": f"c{i}", "b": f"c{i + 1}", "fiber_km": 0.2,
                              "capacity_gbps": 10.0} for i in range(2)]},
        handover={"hysteresis_db": 3.0, "ttt_ms": 160.0, "interruption_ms": 30.0,
                  **(handover or {})},
        duration_s=duration_s, faults=faults or [],
    )
    d["radio"]["model"] = model
    d["fleets"] = [{"name": "amr", "count": 1, "services": ["perception"],
                    "area": {"x_m": [10.0, 11.0], "y_m": [5.0, 6.0]}}]
    d["services"][0].update(rate_hz=100.0, ul_kb=0.2, arrivals="periodic", jitter_ms=0.0)
    return d


def _sends(d: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Engine]:
    eng = Engine(scenario_from_dict(d))
    t = eng.run().requests
    created = t.column("created_s").to_numpy()
    return created, created + t.column("ul_wait_ms").to_numpy() * 1e-3, eng


@pytest.mark.parametrize("model", ["ideal", "fixed"])
def test_a_lost_cell_silences_the_uplink_until_the_failure_and_the_re_establishment(
        model: str) -> None:
    """c0 off air from 0.5 s for good: the device re-attaches to c1 and sends nothing until
    T310 has run out and it has re-established, 1.3 s at the defaults, under every radio."""
    d = _row(2.5, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5}], model=model)
    created, sends, eng = _sends(d)
    silent_until = 0.5 + 0.2 + 1.0 + 0.1
    held = (created >= 0.5) & (created < silent_until)
    assert held.sum() >= 125
    assert np.all(sends[held] >= silent_until - 1e-9)
    assert sends[held].min() < silent_until + 0.01  # then at once
    assert np.all(sends[created < 0.5] < 0.5)
    assert eng.world.cell_names[int(eng.world.dev_cell[0])] == "c1"


def test_a_faults_own_reestablish_ms_and_the_timers_set_the_silence() -> None:
    d = _row(1.5, handover={"t310_ms": 100.0, "n310": 2},
             faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5,
                      "reestablish_ms": 40.0}])
    created, sends, _ = _sends(d)
    silent_until = 0.5 + 0.2 + 0.02 + 0.1 + 0.04
    held = (created >= 0.5) & (created < silent_until)
    assert held.sum() >= 30
    assert np.all(sends[held] >= silent_until - 1e-9)
    assert sends[held].min() < silent_until + 0.01


def test_a_cell_back_before_t310_runs_out_lets_its_devices_recover_on_it() -> None:
    """c0 off air 0.5-0.8 s, less than the 1.2 s to the failure: the device is in sync again
    100 ms after c0's return (T310 stopped, no re-establishment), back on c0."""
    d = _row(1.5, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 0.8}],
             model="nr")
    created, sends, eng = _sends(d)
    held = (created >= 0.5) & (created < 0.9)
    assert held.sum() >= 35
    assert np.all(sends[held] >= 0.9 - 1e-9) and sends[held].min() < 0.91
    late = created >= 0.95
    assert np.all(sends[late] < created[late] + 0.02)  # as before it (a grant's wait)
    assert eng.world.cell_names[int(eng.world.dev_cell[0])] == "c0"
    (row,) = eng.result().summary["faults"]
    assert row["devices_moved"] == 1 and row["devices_back"] == 1


def test_a_cell_back_after_the_failure_takes_its_devices_back_by_handover() -> None:
    """c0 off air 0.5-2.5 s: the device failed at 1.7 s and re-established on c1 by 1.8 s; at
    c0's return it hands over to it (A3, 30 ms without uplink)."""
    d = _row(3.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 2.5}])
    created, sends, eng = _sends(d)
    on_c1 = (created >= 1.8) & (created < 2.45)
    assert np.all(sends[on_c1] < created[on_c1] + 0.01)
    back = (created >= 2.5) & (created < 2.53)
    assert back.sum() >= 2 and np.all(sends[back] >= 2.53 - 1e-9)
    assert eng.world.cell_names[int(eng.world.dev_cell[0])] == "c0"


def test_a_serving_cell_lost_while_moving_is_a_radio_link_failure_with_its_timers() -> None:
    """A drone at 340 m/s along twenty cells 200 m apart, with a 15 dB hysteresis and a
    time-to-trigger (5.12 s) that no neighbour's A3 outlasts before c0 leaves its 16 strongest
    cells ~1.65 km on, under 5 s: a radio link failure; its uplink is then silent for 1.3 s,
    not for the handover's 30 ms. (At 100 m/s it relied on the single A3 timer of the
    strongest neighbour restarting as neighbours swapped; each neighbour now keeps its own,
    TS 38.331 5.5.4.1, and the drone hands over.)"""
    d = _row(25.0, handover={"ttt_ms": 5120.0, "hysteresis_db": 15.0})
    d["cell_sites"] = [{"name": f"c{i}", "position_m": [200.0 * i, 0.0], "sectors": 1}
                       for i in range(20)]
    d["transport"] = {"links": [{"a": "c0", "b": f"c{i}", "fiber_km": 0.2 * i,
                                 "capacity_gbps": 10.0} for i in range(1, 20)]}
    d["fleets"] = [{"name": "drone", "count": 1, "services": ["perception"],
                    "mobility": {"model": "waypoints",
                                 "paths": [[[0.0, 5.0, 1.5], [3800.0, 5.0, 1.5]]],
                                 "speed_mps": 340.0, "loop": False, "phase": "zero",
                                 "update_ms": 100.0}}]
    d["services"][0].update(rate_hz=1.0)
    eng = Engine(scenario_from_dict(d))
    chunk = int(round(0.1 / eng.world.slot_s))
    while eng.motion.radio_link_failures.sum() == 0 and eng.slot < eng.n_slots:
        before = eng.now_s
        eng.step(chunk)
    assert eng.motion.radio_link_failures.sum() == 1 and eng.motion.handovers.sum() == 0
    assert 4.4 < before < 5.2
    for held in (eng._st.ue_ul_elig, eng._st.ue_dl_hold):  # both directions
        assert before + 1.3 - 1e-9 <= float(held[0]) <= eng.now_s + 1.3 + eng.world.slot_s


def test_a_cell_still_held_off_the_air_by_another_fault_lets_the_link_fail() -> None:
    """c0 off air 0.5-0.8 s and, by a second fault, 0.6-2.5 s: the first's end brings nothing
    back to sync with, so the link fails at 1.7 s and re-establishes on c1 by 1.8 s (a review:
    the device "recovered" onto the dark c0 and sent nothing until 2.5 s)."""
    d = _row(3.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 0.8},
                          {"kind": "cell_down", "cell": "c0", "start_s": 0.6, "end_s": 2.5}],
             model="nr")
    created, sends, eng = _sends(d)
    held = (created >= 0.5) & (created < 1.8)
    assert np.all(sends[held] >= 1.8 - 1e-9)
    on_c1 = (created >= 1.85) & (created < 2.45)
    assert on_c1.sum() >= 55 and np.all(sends[on_c1] < created[on_c1] + 0.02)
    first, second = eng.result().summary["faults"]
    assert first["devices_back"] == 0 and second["devices_back"] == 1


def test_a_longer_hold_set_while_counting_down_outlasts_the_recovery() -> None:
    """The recovery lifts the cell loss's own hold only: a longer one set since (by hand here,
    as a moving device's own radio link failure would) stays."""
    d = _row(1.5, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 0.8}],
             model="nr")
    eng = Engine(scenario_from_dict(d))
    w = eng.world
    st = eng._st
    eng.step(int(round(0.6 / w.slot_s)))
    assert st.ue_ul_elig[0] == pytest.approx(1.8) and st.ue_dl_hold[0] == pytest.approx(1.8)
    st.ue_ul_elig[0] = 2.0  # another hold, longer than the failure's (the uplink's only)
    eng.step(int(round(0.85 / w.slot_s)) - eng.slot)
    assert st.ue_ul_elig[0] == 2.0
    assert st.ue_dl_hold[0] == pytest.approx(0.9)  # the failure's own, lifted at the recovery
    assert w.cell_names[int(w.dev_cell[0])] == "c0"


def _answers(d: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each request's uplink end, its answer's arrival at the serving cell and its end (s)."""
    t = Engine(scenario_from_dict(d)).run().requests
    created = t.column("created_s").to_numpy()

    def s(*names: str) -> np.ndarray:
        return sum((t.column(n).to_numpy() * 1e-3 for n in names), np.zeros(len(created)))

    sent = created + s("ul_wait_ms", "ul_air_ms")
    due = sent + s("ul_transport_ms", "queue_ms", "compute_ms", "dl_transport_ms")
    return sent, due, created + s("latency_ms")


@pytest.mark.parametrize("model", ["ideal", "fixed", "nr"])
def test_an_answer_due_while_the_link_is_down_waits_for_the_re_establishment(
        model: str) -> None:
    """c0 off air from 0.403 s, just after the device sent an upload: its answer reaches the
    cell during the silence and is delivered after the re-establishment, 1.3 s on (forwarded
    to c1, recovered by PDCP), not while the device hears no cell."""
    d = _row(2.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.403}], model=model)
    sent, due, done = _answers(d)
    silent_until = 0.403 + 1.3
    waiting = (sent < 0.403) & (due >= 0.403)
    assert waiting.sum() == 1
    assert np.all(done[waiting] >= silent_until - 1e-9)
    assert np.all(done[waiting] < silent_until + 0.005)
    assert np.all(done[due < 0.403] < 0.403)


@pytest.mark.parametrize("model", ["ideal", "fixed", "nr"])
def test_an_answer_booked_before_a_later_silence_waits_for_it_too(model: str) -> None:
    """c0 off air 0.403-0.7 s, then from 1.0 s for good: the ideal and fixed radios book an
    answer's delivery when it reaches the cell; one booked for after 1.0 s still waits for
    the second silence to end (a review: delivered inside it), as under nr."""
    faults = [{"kind": "cell_down", "cell": "c0", "start_s": 0.403, "end_s": 0.7},
              {"kind": "cell_down", "cell": "c0", "start_s": 1.0}]
    _, due, done = _answers(_row(2.5, faults=faults, model=model))
    assert np.sum(due < 0.403) >= 30
    assert not np.any((done > 1.0 + 1e-9) & (done < 2.3 - 1e-9))
    assert np.sum(done >= 2.3 - 1e-9) >= 1


@pytest.mark.parametrize(("model", "start_s"), [("ideal", 0.403), ("fixed", 0.403),
                                               ("nr", 0.3995)])  # (an upload sent, its answer due)
def test_an_answer_of_no_bytes_has_nothing_to_wait_for(model: str, start_s: float) -> None:
    """A service with ``dl_kb: 0`` sends nothing down: its request ends when the answer is
    ready, held link or not, under every radio (a review: ideal and fixed held it 1.3 s)."""
    d = _row(1.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": start_s}],
             model=model)
    d["services"][0]["dl_kb"] = 0.0
    sent, due, done = _answers(d)
    waiting = (sent < start_s) & (due >= start_s)
    assert waiting.sum() == 1
    assert np.all(done[waiting] == pytest.approx(due[waiting], abs=1e-3))


def test_a_block_sent_again_into_a_silence_waits_for_its_end() -> None:
    """An answer whose last block goes out just before c0 goes off air and fails (HARQ, here
    at ``bler`` 0.5) is not delivered by the resend inside the silence (a review)."""
    d = _row(2.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5}], model="nr")
    d["radio"]["bler"] = 0.5
    d["fleets"][0]["count"] = 20
    _, due, done = _answers(d)
    silent_until = 0.5 + 1.3
    assert np.sum((due < 0.5) & (done > 0.5)) >= 1  # some answer's resend came after 0.5 s
    assert not np.any((done > 0.5 + 1e-9) & (done < silent_until - 1e-9))


def test_an_answer_due_before_the_cell_returns_is_delivered_once_in_sync() -> None:
    """c0 off air 0.403-0.7 s: the answer waiting for the device goes out when it is in sync
    on c0 again (0.8 s), not after a re-establishment."""
    d = _row(1.5, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.403,
                           "end_s": 0.7}], model="nr")
    sent, due, done = _answers(d)
    waiting = (sent < 0.403) & (due >= 0.403)
    assert waiting.sum() == 1
    assert np.all(done[waiting] >= 0.8 - 1e-9) and np.all(done[waiting] < 0.81)


def test_a_handover_holds_the_downlink_for_its_interruption() -> None:
    """c0 back at 2.5 s takes the device back from c1 (A3): an answer reaching the cell in the
    30 ms of the handover's interruption waits for its end (TS 38.300 9.2.3.2)."""
    d = _row(3.0, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 2.5}],
             model="nr")
    sent, due, done = _answers(d)
    waiting = (due >= 2.5) & (due < 2.53)
    assert waiting.sum() >= 1
    assert np.all(done[waiting] >= 2.53 - 1e-9) and np.all(done[waiting] < 2.54)
    after = (sent > 2.6) & (due < 2.95)
    assert after.sum() >= 30 and np.all(done[after] < due[after] + 0.01)  # as before it


def _on_board(duration_s: float, **kw: Any) -> dict[str, Any]:
    """``_row`` under deadline-aware, YOLOv8n at 20 Hz from a device whose own embedded CPU
    takes 25 ms (the edge's L4 ~1 ms, behind ~10 ms of radio): within the 100 ms deadline
    either way, faster at the edge."""
    d = _row(duration_s, **kw)
    d["policy"] = "deadline-aware"
    d["fleets"][0]["accelerator"] = "DeviceCPU"
    d["services"][0].update(model="yolov8n", rate_hz=20.0)
    return d


def test_deadline_aware_computes_on_board_while_the_link_is_down() -> None:
    """c0 off air from 0.5 s: for the 1.3 s the device's link is silent, an offload would wait
    for it (``Snapshot.link_wait_s``), so deadline-aware runs the requests on the device's own
    accelerator and meets them; before and after, the edge."""
    d = _on_board(2.5, faults=[{"kind": "cell_down", "cell": "c0", "start_s": 0.5}],
                  model="nr")
    t = Engine(scenario_from_dict(d)).run().requests
    created = t.column("created_s").to_numpy()
    place = np.asarray(t.column("placement").to_pylist())
    met = np.asarray(t.column("outcome").to_pylist()) == "met"
    silent = (created >= 0.505) & (created < 1.795)  # (a decision interval's margin)
    assert silent.sum() >= 25
    assert np.all(place[silent] == "local") and np.all(met[silent])
    before, after = created < 0.495, created >= 1.81
    assert before.sum() >= 9 and np.all(place[before] == "edge")
    assert after.sum() >= 13 and np.all(place[after] == "edge") and np.all(met[after])


def test_a_held_links_wait_is_decided_alike_in_the_kernel_and_by_the_policy() -> None:
    """The engine's compiled deadline-aware (engine.decide) and the policy on a snapshot, and
    the policy's compiled core and its numpy reference, agree on every decision across the
    silence, the recovery and the handover back (c0 off air 0.5-0.8 s and 1.0-2.5 s)."""
    from test_policy_compiled import _compare_on_run, _engine_decides_as_the_policy

    faults = [{"kind": "cell_down", "cell": "c0", "start_s": 0.5, "end_s": 0.8},
              {"kind": "cell_down", "cell": "c0", "start_s": 1.0, "end_s": 2.5}]
    sc = scenario_from_dict(_on_board(3.0, faults=faults, model="nr"))
    seen = _engine_decides_as_the_policy(sc, duration_s=3.0)
    assert seen["local"] >= 30 and seen["requests"] - seen["local"] >= 20
    seen = _compare_on_run(sc, strict=False, duration_s=3.0)
    assert seen["local"] >= 30
    eng = Engine(sc)
    eng.step(int(round(0.6 / eng.world.slot_s)))
    from airan.policy import Snapshot

    wait = Snapshot(eng).link_wait_s(np.array([0]))
    assert wait[0] == pytest.approx(1.8 - eng.now_s, abs=1e-9)


def test_the_mobility_line_gives_each_moving_fleets_radio_link_failures() -> None:
    """A drone maker's review: the terminal gave each fleet's handovers and only the total of
    radio link failures (each fleet's were in summary.json alone)."""
    from airan.report.events import events

    fleets = {"fly120": {"handovers_per_device_per_min": 4.5, "radio_link_failures": 7},
              "road": {"handovers_per_device_per_min": 14.5, "radio_link_failures": 0}}
    s = {"duration_s": 20.0, "mobility": {"mobile_devices": 60, "handovers": 190,
                                          "radio_link_failures": 7, "fleets": fleets}}
    (line,) = [e for e in events(s) if e.startswith("mobility")]
    assert "7 radio link failures (fly120 7, road 0);" in line
    s["mobility"]["radio_link_failures"] = 0
    fleets["fly120"]["radio_link_failures"] = 0
    (line,) = [e for e in events(s) if e.startswith("mobility")]
    assert "0 radio link failures;" in line


def test_the_handover_hint_scales_with_the_layout_and_the_fleets_speed() -> None:
    """A V2X engineer's review: the hint quoted 500 m sites at 50 km/h on a highway of
    1,732 m sites at 100-130 km/h. It now gives the rate the geometry alone gives: Cauchy's
    mean chord of a 3-sector site's cell, pi A / P = pi D / 8 (680 m at D = 1,732 m), at the
    moving fleets' mean speed (115 km/h: 1,917 m a minute, 2.8 handovers)."""
    import math

    from airan.report.events import events

    fleets = {"car100": {"handovers_per_device_per_min": 8.4, "moving_devices": 20,
                         "mean_speed_mps": 27.8},
              "car130": {"handovers_per_device_per_min": 12.3, "moving_devices": 20,
                         "mean_speed_mps": 36.1}}
    s = {"duration_s": 10.0, "mobility": {
        "mobile_devices": 40, "handovers": 69, "radio_link_failures": 0, "fleets": fleets,
        "site_spacing_m": 1732.0, "cells_per_site": 3.0}}
    (line,) = [e for e in events(s) if e.startswith("mobility")]
    chord = math.pi * 1732.0 / 8
    rate = 31.95 * 60 / chord
    assert (f"with sites 1,732 m apart, 3 cells each, a straight drive enters a new cell every "
            f"~{chord:,.0f} m on average, ~{rate:.2g} handovers a minute at the fleets' mean "
            "115 km/h") in line, line
    del s["mobility"]["site_spacing_m"]  # (a merged summary has none: no figures)
    (line,) = [e for e in events(s) if e.startswith("mobility")]
    assert "for scale" not in line and "docs/mobility.md" in line
