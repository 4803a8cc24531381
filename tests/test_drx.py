"""Connected-mode DRX (TS 38.321 5.7, radio.drx): a UE's power between on-durations against a
hand computation from TR 38.840 Table 8.1.1-1, and an answer's wait for the next on-duration
against the closed form for a uniformly distributed arrival."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.engine.world import build_world
from airan.radio import drx, nr
from airan.scenario import load_scenario, scenario_from_dict

# TR 38.840 Table 8.1.1-1 (FR1), in its units (PDCCH-only monitoring 100): deep sleep 1, with
# 450 units x ms to fall asleep and wake (20 ms); light sleep 20 (100, 6 ms); micro sleep 45
UNIT_W = 0.5 / 100  # ue_pdcch_w at its default (half of ue_rx_w's 1 W) is 100 units


def _cell(count: int, rate_hz: float, drx_cfg: dict[str, Any] | None,
          duration_s: float = 20.0, **service: Any) -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="rr", drx=drx_cfg)
    d["compute_sites"][0]["gpus"][0]["count"] = 64
    d["fleets"] = [{"name": "ue", "count": count, "services": ["perception"],
                    "area": {"x_m": [30.0, 60.0], "y_m": [-10.0, 10.0]}}]
    d["services"][0].update({"rate_hz": rate_hz, "arrivals": "periodic", "jitter_ms": 0.0,
                             "ul_kb": 10.0, "dl_kb": 2.0, "deadline_ms": 1000.0, **service})
    d["duration_s"] = duration_s
    return d


def test_an_idle_ue_sleeps_between_on_durations_at_tr38840s_power() -> None:
    # two UEs that never send, 20 s (125 cycles of 160 ms): device 0's on-durations open at
    # 0, 160, ... ms (drx-StartOffset 0), device 1's at 1, 161, ... ms. Per cycle 8 ms of
    # monitoring (800 units x ms) and a deep sleep of 152 ms (152 + 450); device 1 starts
    # with a 1 ms sleep, too short for light or deep sleep (micro: 45), and its last sleep
    # is 151 ms
    s = Engine(scenario_from_dict(_cell(2, 1e-3, {})), policy="nearest-edge", seed=1).run()
    fleet = s.summary["fleets"]["ue"]
    assert fleet["requests"] == 0
    dev0 = 125 * (800 + 152 + 450)
    dev1 = 45 + 125 * 800 + 124 * (152 + 450) + (151 + 450)
    idle_w = 3.0  # the device's CPU idling (catalog), as without DRX
    assert fleet["mean_power_w"] == pytest.approx(
        idle_w + (dev0 + dev1) * UNIT_W * 1e-3 / (2 * 20.0), rel=1e-9)
    assert fleet["drx_share"] == pytest.approx(1.0)
    # 43.8 mW against the 500 mW of monitoring every slot
    assert (dev0 * UNIT_W * 1e-3 / 20.0) == pytest.approx(0.0438125)
    without = Engine(scenario_from_dict(_cell(2, 1e-3, None)), policy="nearest-edge",
                     seed=1).run().summary["fleets"]["ue"]
    assert without["mean_power_w"] == pytest.approx(idle_w + 0.5, rel=1e-12)
    assert "drx_share" not in without


def _finished(drx_cfg: dict[str, Any] | None, **service: Any) -> dict[str, np.ndarray]:
    """200 UEs at 1 Hz for 20 s (seed 4, nothing dropped): the request id and the latency
    parts (ms) of each request that finished, met or late, in request order."""
    res = Engine(scenario_from_dict(_cell(200, 1.0, drx_cfg, **service)),
                 policy="nearest-edge", seed=4).run()
    assert res.summary["requests"]["dropped"] == 0
    t = res.requests
    done = np.isin(np.array(t.column("outcome").to_pylist()), ["met", "late"])
    order = np.argsort(t.column("request").to_numpy()[done])
    return {c: t.column(c).to_numpy()[done][order] for c in t.column_names
            if c == "request" or c.endswith("_ms")}


def test_an_answer_after_the_inactivity_timer_waits_for_the_next_on_duration() -> None:
    # every answer is ready 300 ms after its upload, past the 100 ms inactivity timer: the UE
    # sleeps, and the answer waits for its next on-duration. Over answers uniform in the
    # cycle's phase, the wait is 0 inside an on-duration and T - phase beyond it: its mean is
    # (T - T_on)^2 / 2T = 152^2 / 320 = 72.2 ms
    svc = {"service_time": {"dist": "fixed", "mean_ms": 300.0}}
    runs = {name: _finished(cfg, **svc) for name, cfg in (("drx", {}), ("none", None))}
    # request by request (the same arrivals), those both runs finished: ~3,800
    ids = np.intersect1d(runs["drx"]["request"], runs["none"]["request"])
    assert len(ids) > 3500
    a, b = ({c: v[np.isin(r["request"], ids)] for c, v in r.items()}
            for r in (runs["drx"], runs["none"]))
    closed = (160.0 - 8.0) ** 2 / (2 * 160.0)
    wait = a["dl_air_ms"] - b["dl_air_ms"]
    assert wait.mean() == pytest.approx(closed, rel=0.05)
    assert wait.max() <= 152.0 + 1.0  # at most a sleep (and a slot)
    # the uplink is the UE's to start (its scheduling request wakes it): nothing before the
    # answer's downlink changes
    for part in ("ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport"):
        assert np.array_equal(a[f"{part}_ms"], b[f"{part}_ms"])


def test_answers_within_the_inactivity_timer_do_not_wait() -> None:
    # answers back ~13 ms after the upload, well within the 100 ms timer: the same latency as
    # without DRX, and the radio sleeps for most of each 2 s period
    runs = [Engine(scenario_from_dict(_cell(20, 0.5, cfg)), policy="nearest-edge",
                   seed=2).run().summary for cfg in ({}, None)]
    lat = [r["services"]["perception"]["latency_ms"]["mean"] for r in runs]
    assert lat[0] == pytest.approx(lat[1], abs=1e-9)
    assert 0.9 < runs[0]["fleets"]["ue"]["drx_share"] < 0.95
    assert runs[0]["fleets"]["ue"]["mean_power_w"] < runs[1]["fleets"]["ue"]["mean_power_w"] - 0.4


def _brute_span_j(a: float, b: float, off: float, cycle: float, on: float, pdcch_w: float,
                  table: np.ndarray, step: float = 1e-6) -> float:
    """The energy over [a, b) on a fine grid: monitoring in on-durations, each maximal run of
    sleep its cheapest feasible state."""
    t = np.arange(a, b, step) + step / 2
    in_on = np.mod(t - off, cycle) < on
    e = pdcch_w * in_on.sum() * step
    edges = np.flatnonzero(np.diff(np.r_[1, in_on.astype(int), 1]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        length = (stop - start) * step
        e += min(p * length + tr for p, tr, shortest in table if length >= shortest - 1e-12)
    return float(e)


@pytest.mark.parametrize(("a", "b", "off"), [
    (0.0, 0.16, 0.0), (0.003, 0.0031, 0.0), (0.0105, 0.9, 0.004), (0.155, 0.171, 0.0),
    (1.2345, 3.4567, 0.117), (0.05, 0.168, 0.16 - 1e-3)])
def test_span_energy_matches_a_fine_grid(a: float, b: float, off: float) -> None:
    table = drx.sleep_table(0.5)
    assert table.ravel().tolist() == pytest.approx([0.005, 2.25e-3, 0.02, 0.1, 0.5e-3, 0.006,
                                                   0.225, 0.0, 0.0])
    got = drx.span_energy_j(a, b, off, 0.16, 0.008, 0.5, table)
    assert got == pytest.approx(_brute_span_j(a, b, off, 0.16, 0.008, 0.5, table), rel=1e-4)


def test_on_durations_open_where_ts38321_says() -> None:
    # [(SFN x 10) + subframe] mod drx-LongCycle = drx-StartOffset: at offset + k x cycle ms
    last, inact = -1.0, 0.1
    for t, asleep in ((0.040, False), (0.047, False), (0.048, True), (0.199, True),
                      (0.200, False), (0.2079, False)):
        assert drx.asleep(t, last, inact, 0.040, 0.160, 0.008) is asleep
    assert drx.next_wake_s(0.05, last, inact, 0.040, 0.160, 0.008) == pytest.approx(0.2)
    assert drx.next_wake_s(0.05, 0.0, inact, 0.040, 0.160, 0.008) == 0.05  # timer running
    assert drx.asleep(0.1, 0.0, inact, 0.040, 0.160, 0.008) is False
    assert drx.asleep(0.1 + 1e-9, 0.0, inact, 0.040, 0.160, 0.008) is True
    assert math.isclose(drx.on_time_s(0.5, 0.040, 0.160, 0.008), 3 * 0.008)


def test_every_on_duration_holds_a_downlink_slot() -> None:
    # DDSUU at 30 kHz (2.5 ms, whole in 160 ms): a 1 ms on-duration at offset 4 ms covers
    # slots 8 and 9, both U, in every cycle; the gNB takes 5 ms (and 10 for 9 ms) instead
    got = drx.offsets_with_downlink_ms(12, 160, 1, nr.slot_types("DDSUU"), 2)
    assert got.tolist() == [0, 1, 2, 3, 5, 5, 6, 7, 8, 10, 10, 11]
    # FDD: every slot has downlink
    assert drx.offsets_with_downlink_ms(5, 10, 1, nr.slot_types(None), 1).tolist() == \
        [0, 1, 2, 3, 4]


def test_answers_reach_ues_whose_on_duration_would_fall_on_uplink_slots() -> None:
    # (a review) device 4's on-duration fell on DDSUU's two U slots in every cycle: each of its
    # answers waited for its next upload's scheduling request, a whole period, and its last
    # never went out
    d = _cell(5, 1.0, {"cycle_ms": 160, "on_duration_ms": 1, "inactivity_ms": 100},
              duration_s=4.0, service_time={"dist": "fixed", "mean_ms": 300.0})
    d["carrier"]["tdd_pattern"] = "DDSUU"
    res = Engine(scenario_from_dict(d), policy="nearest-edge", seed=1).run()
    t = res.requests
    done = np.isin(np.array(t.column("outcome").to_pylist()), ["met", "late"])
    created = t.column("created_s").to_numpy()
    assert np.all(done | (created > 4.0 - 0.5))  # all but the last moments' finished
    assert t.column("dl_air_ms").to_numpy()[done].max() < 160.0 + 3.0


def test_a_ue_waiting_for_its_grant_is_awake() -> None:
    # (a review) a pending scheduling request keeps a UE in Active Time (TS 38.321 5.7): with
    # no inactivity timer, a UE with an upload waiting for its grant or its next U slot is
    # awake, and a summary taken then counts none of that wait as DRX time (it counted the
    # time since its last slot, which the run's end did not)
    d = _cell(1, 0.5, {"cycle_ms": 160, "on_duration_ms": 2, "inactivity_ms": 0},
              duration_s=4.0, ul_kb=600.0)
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=3)
    checked = 0
    while eng.now_s < 4.0 and checked < 5:
        eng.step(1)
        st = eng._st
        if st.ue_ul_head[0] >= 0 and eng.now_s > st.ue_drx_last[0] + 1e-3:
            share = eng.summary()["fleets"]["ue"]["drx_share"]
            assert share * eng.now_s == pytest.approx(st.fleet_drx[0, 0], rel=1e-12)
            checked += 1
    assert checked == 5


def test_on_durations_are_found_in_whole_slots_deep_into_a_run() -> None:
    # (a review) at 15 kHz (1 ms slots) a 1 ms on-duration holds one slot start; its phase
    # in seconds, k x slot - offset modulo the cycle, read it as the cycle's end for 861 of
    # 3,200 cycles at ~20,000 s. In whole slots every one is found
    k0 = 20_000_000  # slots of 1 ms: 20,000 s
    for k in range(k0, k0 + 3200 * 160, 160):
        assert not drx.asleep_in_slot(k + 7, (k + 7) * 1e-3 + 1e-12, -1.0, 0.1, 7, 160, 1)
        assert drx.asleep_in_slot(k + 8, (k + 8) * 1e-3 + 1e-12, -1.0, 0.1, 7, 160, 1)


def _arms_dict(drx_cfg: dict[str, Any] | None) -> dict[str, Any]:
    d = _cell(40, 2.0, drx_cfg, duration_s=6.0, deadline_ms=280.0,
              service_time={"dist": "fixed", "mean_ms": 150.0,
                            "on_device_ms": {"JetsonOrin": 250.0}})
    d["fleets"][0]["accelerator"] = "JetsonOrin"
    return d


def _arms(drx_cfg: dict[str, Any] | None) -> Any:
    """Arms with a Jetson Orin: an answer from the edge is ready 150 ms after its upload, past
    the 100 ms inactivity timer, and waits 0-152 ms for the arm's on-duration under DRX; on
    board takes 250 ms; the deadline is 280 ms."""
    return scenario_from_dict(_arms_dict(drx_cfg))


def _arms_per_fleet() -> Any:
    """:func:`_arms`' 40 arms as three fleets: ``long`` under radio.drx (TR 38.840's, 2 ms
    on-durations), ``short`` under its own 16 short cycles of 20 ms after the timer, ``awake``
    with DRX off."""
    d = _arms_dict({"on_duration_ms": 2})
    f = d["fleets"][0]
    d["fleets"] = [dict(f, name="long", count=14),
                   dict(f, name="short", count=13, drx={"on_duration_ms": 2, **_short(16)}),
                   dict(f, name="awake", count=13, drx="off")]
    return scenario_from_dict(d)


def test_deadline_aware_foresees_the_wait_for_an_on_duration() -> None:
    # without DRX the edge (~160 ms) always beats the arm's 250 ms; under DRX a request whose
    # answer would wait more than ~90 ms for the arm's on-duration is computed on board
    # instead: 2 of 460 late (their answers, estimated inside an on-duration, came a few ms
    # after it: the estimate takes the SR's mean wait), where nearest-edge's 91 of 462 waited
    # past the deadline
    runs = {p: Engine(_arms({}), policy=p, seed=5).run().summary
            for p in ("deadline-aware", "nearest-edge")}
    aware, edge = (runs[p]["services"]["perception"] for p in ("deadline-aware",
                                                                "nearest-edge"))
    assert edge["hit_ratio"] < 0.85
    assert aware["hit_ratio"] > 0.99
    none = Engine(_arms(None), policy="deadline-aware", seed=5).run()
    placements = np.array(none.requests.column("placement").to_pylist())
    assert not np.any(placements == "local")  # the edge, every time, without DRX


# the short cycle (drx-ShortCycle, drx-ShortCycleTimer): after the inactivity timer, on-durations
# every short cycle for the timer's cycles, then the long cycle again


def _us(x: float) -> int:
    return round(x * 1e6)


def _awake_us(a: float, b: float, off: float, cycle: float, on: float, short: float,
              span: float) -> np.ndarray:
    """Whether the UE is in an on-duration at each whole us of [a, b), its inactivity timer
    having ended at ``a``, from TS 38.321 5.7's on-durations listed in integer us (no
    rounding, no phase arithmetic): every long cycle's, and every short cycle's that opens
    from ``a`` until the short cycle timer ends at ``a + span``."""
    a_us, b_us, off_us, on_us = _us(a), _us(b), _us(off), _us(on)
    cyc_us, short_us, span_us = _us(cycle), _us(short), _us(span)
    awake = np.zeros(b_us - a_us, dtype=bool)

    def mark(start: int) -> None:
        lo, hi = max(start, a_us) - a_us, min(start + on_us, b_us) - a_us
        if hi > lo:
            awake[lo:hi] = True

    start = off_us + (a_us - on_us - off_us) // cyc_us * cyc_us
    while start < b_us:
        mark(start)
        start += cyc_us
    start = off_us - (off_us - a_us) // short_us * short_us  # the first at or after a
    while start < min(a_us + span_us, b_us):
        mark(start)
        start += short_us
    return awake


def _brute_short_j(a: float, b: float, off: float, cycle: float, on: float, short: float,
                   span: float, pdcch_w: float, table: np.ndarray) -> float:
    """The energy over [a, b) from :func:`_awake_us`: monitoring in on-durations, each
    maximal run of sleep its cheapest state whose shortest sleep (whole us) it reaches."""
    awake = _awake_us(a, b, off, cycle, on, short, span)
    e = pdcch_w * awake.sum() * 1e-6
    edges = np.flatnonzero(np.diff(np.r_[1, awake.astype(int), 1]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        length_us = int(stop - start)
        e += min(p * length_us * 1e-6 + tr for p, tr, shortest in table
                 if length_us >= round(shortest * 1e6))
    return float(e)


SHORT_CASES = [  # (a, b, offset): the timer's end, the span's end, the device's offset
    (0.0, 0.5, 0.0), (0.0031, 0.0795, 0.0), (0.1005, 0.9, 0.004), (0.155, 0.171, 0.0),
    (1.2345, 3.4567, 0.117), (0.0505, 0.168, 0.159), (0.017, 0.041, 0.016),
    (0.1, 0.4, 0.0), (0.121, 0.5, 0.041)]  # (short on-durations at the timers' ends)


@pytest.mark.parametrize(("a", "b", "off"), SHORT_CASES)
@pytest.mark.parametrize(("short", "on"), [(0.02, 0.002), (0.008, 0.002), (0.04, 0.02)])
def test_short_cycle_energy_matches_a_listing_of_on_durations(a: float, b: float, off: float,
                                                              short: float, on: float) -> None:
    # short cycles for 3 cycles, a 160 ms long cycle; 8 ms short cycles with 2 ms on-durations
    # sleep exactly light sleep's shortest (6 ms), 40 ms with 20 ms deep sleep's (20 ms)
    table = drx.sleep_table(0.5)
    want = _brute_short_j(a, b, off, 0.16, on, short, 3 * short, 0.5, table)
    got = drx.span_energy_j(a, b, off, 0.16, on, 0.5, table, short, 3 * short)
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(("a", "b", "off"), SHORT_CASES)
def test_short_cycle_wake_times_match_the_listed_on_durations(a: float, b: float,
                                                              off: float) -> None:
    # asleep, next_wake_s and both answer waits against the listing, just before and just
    # after every whole 0.1 ms (on-durations' starts and ends, and the timers' ends, among
    # them: exactly at one, a time in seconds is on either side as a rounding falls)
    last, inact, cycle, on, short, span = a - 0.1, 0.1, 0.16, 0.002, 0.02, 0.06
    awake = _awake_us(a, b + 0.2, off, cycle, on, short, span)
    for shift in (-3e-7, 3e-7):
        times = a + np.arange(1, _us(b - a) // 100) * 1e-4 + shift
        np_wait = drx.answer_wait_s(times, np.full(len(times), last), inact,
                                    np.full(len(times), off), cycle, on, short, span)
        for t, w_np in zip(times, np_wait, strict=True):
            i = int(math.floor((t - a) * 1e6))
            wake_us = i + int(np.argmax(awake[i:]))
            assert drx.asleep(t, last, inact, off, cycle, on, short, span) == (
                not awake[i]), t
            want = t if awake[i] else a + wake_us * 1e-6
            assert drx.next_wake_s(t, last, inact, off, cycle, on, short, span) == \
                pytest.approx(want, abs=1e-9)
            one = drx.answer_wait_one_s(t, last, inact, off, cycle, on, short, span)
            assert one == pytest.approx(want - t, abs=1e-9)
            assert w_np == one  # operation for operation


@pytest.mark.parametrize("k0", [0, 40_000_000])
def test_short_cycle_slots_match_the_seconds_at_the_engines_instants(k0: int) -> None:
    # (a review) the engine's times are whole slots (last = k x slot), its cycles and offsets
    # whole ms: a short on-duration opens exactly at the short cycle timer's end for some
    # offsets, and the kernel opened it or not as a rounding fell. At 30 kHz, at each slot's
    # start, the slots' form agrees with the listing (deep into a run too, where a phase in
    # seconds goes wrong by a rounding: the seconds' form, the policies', agrees at the start)
    slot, inact, cycle, on, short, n = 0.0005, 0.1, 0.16, 0.002, 0.02, 3
    for last_k in (0, 30, 117):
        last = (k0 + last_k) * slot
        for off_ms in range(0, 160, 7):
            off = off_ms * 1e-3
            for k in range(k0 + last_k + 199, k0 + last_k + 500) if k0 == 0 else ():
                t = k * slot + 1e-12  # (the downlink's instant in slot k)
                seconds = drx.asleep(t, last, inact, off, cycle, on, short, n * short)
                slots = drx.asleep_in_slot(k, t, last, inact, 2 * off_ms, 320, 4, 40,
                                           n * short, slot)
                assert slots == seconds, (last_k, off_ms, k - k0)
            # the listing: relative to the timer's end, in whole us
            a = (last_k * slot) + inact
            awake = _awake_us(a, a + 0.25, (off - k0 * slot) % cycle, cycle, on, short,
                              n * short)
            for k in range(k0 + last_k + 201, k0 + last_k + 500):
                i = _us((k - k0) * slot - a)
                if 0 <= i < len(awake):
                    assert drx.asleep_in_slot(k, k * slot + 1e-12, last, inact, 2 * off_ms,
                                              320, 4, 40, n * short, slot) == (not awake[i])


def _short(n: int, on_ms: int = 2, short_ms: int = 20) -> dict[str, Any]:
    return {"on_duration_ms": on_ms, "short_cycle_ms": short_ms, "short_cycle_timer": n}


def test_an_idle_ue_takes_the_short_cycle_then_the_long_at_tr38840s_power() -> None:
    # a UE that never sends, 20 s: its timer ran out at 0, so 4 short cycles of 20 ms (2 ms
    # on, 18 ms asleep: too short for deep sleep, light: 18 x 20 + 100), then, from 80 ms,
    # the long cycle: a deep sleep to 160 ms (98 + 450), on-durations at 160, 320, ..., 19,840
    # ms (124), each followed by a deep sleep of 158 ms
    s = Engine(scenario_from_dict(_cell(1, 1e-3, _short(4))), policy="nearest-edge",
               seed=1).run()
    fleet = s.summary["fleets"]["ue"]
    dev0 = 4 * 200 + 3 * (18 * 20 + 100) + (98 + 450) + 124 * (200 + 158 + 450)
    assert fleet["mean_power_w"] == pytest.approx(3.0 + dev0 * UNIT_W * 1e-3 / 20.0,
                                                  rel=1e-9)


def test_an_answer_in_the_short_cycle_waits_for_its_next_short_on_duration() -> None:
    # answers ready 300 ms after the upload, 200 ms into the short phase of 16 x 20 ms: each
    # waits for the next short on-duration, (T - T_on)^2 / 2T = 18^2 / 40 = 8.1 ms on average
    # (uniform phases), at most 18 ms, where the long cycle alone makes them wait 72 ms
    svc = {"service_time": {"dist": "fixed", "mean_ms": 300.0}}
    waits = {}
    runs = {name: _finished(cfg, **svc) for name, cfg in (
        ("short", _short(16)), ("long", {"on_duration_ms": 2}), ("none", None))}
    ids = np.intersect1d(runs["short"]["request"], runs["none"]["request"])
    ids = np.intersect1d(ids, runs["long"]["request"])
    assert len(ids) > 3500
    for name in ("short", "long"):
        keep = np.isin(runs[name]["request"], ids)
        base = runs["none"]["dl_air_ms"][np.isin(runs["none"]["request"], ids)]
        waits[name] = runs[name]["dl_air_ms"][keep] - base
    assert waits["short"].mean() == pytest.approx(18.0 ** 2 / 40.0, rel=0.06)
    assert waits["short"].max() <= 18.0 + 1.0
    assert waits["long"].mean() == pytest.approx(158.0 ** 2 / 320.0, rel=0.06)


def test_a_short_cycle_lets_edge_answers_through_where_the_long_cycle_sends_work_on_board(
) -> None:
    # the arms' edge answers come ~150 ms after their uploads: under the long cycle alone
    # (2 ms on-durations) about half would wait up to 158 ms, so deadline-aware computes
    # those on board (250 ms, the arm's accelerator at full power); 16 short cycles of 20 ms
    # after the timer cover them, an answer waits at most 18 ms and every one goes to the edge
    # in time, the arm's accelerator idle
    long_only, short = (Engine(_arms(cfg), policy="deadline-aware", seed=5).run()
                        for cfg in ({"on_duration_ms": 2}, _short(16)))
    placed = [np.array(r.requests.column("placement").to_pylist()) for r in (long_only, short)]
    assert (placed[0] == "local").mean() > 0.3
    assert not np.any(placed[1] == "local")
    assert short.summary["services"]["perception"]["hit_ratio"] == 1.0
    power = [r.summary["fleets"]["ue"]["mean_power_w"] for r in (long_only, short)]
    assert power[1] < power[0] - 5.0


# DRX per fleet: the gNB configures DRX per UE (TS 38.331 DRX-Config), a fleet's own ``drx``
# (or "off") in place of radio.drx's


def _fleets(drx_on: bool, duration_s: float = 10.0) -> Any:
    """Three fleets of 70 UEs in one cell at 1 Hz, each answer ready 300 ms after its upload
    (past every inactivity timer): cams under radio.drx (TR 38.840's 160 ms cycle, 8 ms on),
    arms under their own 320 ms cycle with 4 ms on-durations, amrs with DRX off; or none at
    all (``drx_on`` False)."""
    d = _cell(210, 1.0, {} if drx_on else None, duration_s=duration_s,
              service_time={"dist": "fixed", "mean_ms": 300.0})
    f = d["fleets"][0]
    d["fleets"] = [dict(f, name=name, count=70) for name in ("cams", "arms", "amrs")]
    if drx_on:
        d["fleets"][1]["drx"] = {"cycle_ms": 320, "on_duration_ms": 4}
        d["fleets"][2]["drx"] = "off"
    return scenario_from_dict(d)


def test_each_fleet_waits_for_its_own_on_durations() -> None:
    # request by request against the same arrivals without DRX: each fleet's answers wait
    # (T - T_on)^2 / 2T on average for its own cycle, 72.2 ms for the cams and 156.0 ms for
    # the arms, and the amrs' not at all; the uplink is the same throughout
    runs = {}
    for name, on in (("drx", True), ("none", False)):
        res = Engine(_fleets(on), policy="nearest-edge", seed=4).run()
        assert res.summary["requests"]["dropped"] == 0
        runs[name] = res
        t = res.requests
        done = np.isin(np.array(t.column("outcome").to_pylist()), ["met", "late"])
        runs[name + "-rows"] = {c: t.column(c).to_numpy(zero_copy_only=False)[done]
                                for c in ("request", "fleet", "ul_air_ms", "dl_air_ms")}
    a, b = runs["drx-rows"], runs["none-rows"]
    ids = np.intersect1d(a["request"], b["request"])
    a, b = ({c: v[np.isin(r["request"], ids)] for c, v in r.items()} for r in (a, b))
    assert np.array_equal(a["request"], b["request"]) and len(ids) > 2000
    assert np.array_equal(a["ul_air_ms"], b["ul_air_ms"])
    wait = a["dl_air_ms"] - b["dl_air_ms"]
    for fleet, cycle, on in (("cams", 160.0, 8.0), ("arms", 320.0, 4.0)):
        mine = wait[a["fleet"] == fleet]
        assert len(mine) > 650
        assert mine.mean() == pytest.approx((cycle - on) ** 2 / (2 * cycle), rel=0.08)
        assert mine.max() <= cycle - on + 1.0  # at most a sleep (and a slot)
    assert np.all(wait[a["fleet"] == "amrs"] == 0.0)
    # the amrs monitor the PDCCH in every slot, as without DRX: the same power to the bit,
    # and no time in DRX; the others sleep ~80% of the time
    fleets = {name: runs[name].summary["fleets"] for name in ("drx", "none")}
    assert fleets["drx"]["amrs"]["mean_power_w"] == fleets["none"]["amrs"]["mean_power_w"]
    assert "drx_share" not in fleets["drx"]["amrs"]
    for fleet in ("cams", "arms"):
        assert 0.75 < fleets["drx"][fleet]["drx_share"] < 0.85
        assert fleets["drx"][fleet]["mean_power_w"] < fleets["none"][fleet]["mean_power_w"] - 0.3


def _summary_and_trace(scenario: Any, **run: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    res = Engine(scenario, **run).run()
    summary = {k: v for k, v in res.summary.items() if "wall" not in k}
    trace = {c: res.requests.column(c).to_pylist() for c in res.requests.column_names}
    return summary, trace


@pytest.mark.parametrize("cfg", [{}, {"cycle_ms": 320, "on_duration_ms": 4, "inactivity_ms": 40,
                                       "short_cycle_ms": 20, "short_cycle_timer": 4}],
                         ids=["long", "short"])
def test_every_fleet_given_radio_drxs_setting_runs_as_radio_drx_does(
        cfg: dict[str, Any]) -> None:
    # factory's three fleets (AMRs, arms, cameras) under deadline-aware: radio.drx for all,
    # the same setting as each fleet's own, and radio.drx overridden by each fleet with the
    # same: the same summary and request trace, bit for bit
    base = load_scenario("factory").model_dump(mode="json")
    variants = []
    for where in ("radio", "fleets", "both"):
        d = copy.deepcopy(base)
        if where != "fleets":
            d["radio"]["drx"] = cfg if where == "radio" else {"cycle_ms": 40}
        if where != "radio":
            for f in d["fleets"]:
                f["drx"] = cfg
        variants.append(_summary_and_trace(scenario_from_dict(d), duration_s=1.5, seed=3))
    assert variants[0][0]["fleets"]["amr"]["drx_share"] > 0.0
    for other in variants[1:]:
        assert other[0] == variants[0][0]
        assert other[1].keys() == variants[0][1].keys()
        for c, values in variants[0][1].items():  # (NaN, a part not reached, equals NaN)
            np.testing.assert_array_equal(np.array(other[1][c]), np.array(values), err_msg=c)


def test_deadline_aware_sends_work_on_board_only_for_the_fleet_whose_answers_would_wait() -> None:
    # the arms' edge answers come ~150 ms after their uploads: those of the long-cycle fleet
    # would wait up to 158 ms, and deadline-aware computes about half of them on board; the
    # short-cycle fleet's wait at most 18 ms and the awake fleet's not at all: all at the edge
    res = Engine(_arms_per_fleet(), policy="deadline-aware", seed=5).run()
    t = res.requests
    fleet = np.array(t.column("fleet").to_pylist())
    local = np.array(t.column("placement").to_pylist()) == "local"
    assert local[fleet == "long"].mean() > 0.3
    assert not np.any(local[fleet != "long"])
    fleets = res.summary["fleets"]
    assert "drx_share" not in fleets["awake"]
    assert res.summary["services"]["perception"]["hit_ratio"] > 0.98


def test_the_ues_of_one_setting_spread_over_its_cycle() -> None:
    # drx-StartOffset: the i-th UE of a setting at i ms, whatever fleets come before it (each
    # on-duration of 4 or 8 ms holds a downlink slot of the TDD pattern); a UE without DRX has
    # a cycle of 0
    w = build_world(_fleets(True), seed=1)
    cams, arms, amrs = slice(0, 70), slice(70, 140), slice(140, 210)
    for ues, cycle_s in ((cams, 0.16), (arms, 0.32)):
        np.testing.assert_array_equal(w.dev_drx_offset_s[ues], np.arange(70) * 1e-3)
        assert np.all(w.dev_drx_cycle_s[ues] == cycle_s)
    assert np.all(w.dev_drx_cycle_s[amrs] == 0.0) and w.drx_any
    none = build_world(_fleets(False), seed=1)
    assert not none.drx_any and none.dev_drx_cycle_s.shape == (1,)


@pytest.mark.parametrize("where", ["radio", "fleet"])
def test_a_misspelt_drx_field_is_suggested_and_the_accepted_ones_listed(where: str) -> None:
    """The same message under radio.drx and a fleet's own drx (a fleet's, a union of a
    setting and 'off' whose setting pydantic names after its validator, had no suggestion)."""
    from airan import InputError

    d = load_scenario("factory").model_dump(mode="json")
    if where == "radio":
        d["radio"]["drx"] = {"cycle_msec": 160}
        field = "radio.drx.cycle_msec"
    else:
        d["fleets"][0]["drx"] = {"cycle_msec": 160}
        field = f"fleets[{d['fleets'][0]['name']}].drx.cycle_msec"
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    text = str(err.value)
    assert field in text and "did you mean 'cycle_ms'?" in text
    assert "Accepted: cycle_ms, inactivity_ms, on_duration_ms, short_cycle_ms" in text


def test_an_off_under_radio_drx_is_told_where_off_belongs() -> None:
    """YAML's unquoted off is false: under radio.drx it names a fleet's own drx, where off is
    taken, and leaving radio.drx out; a fleet's drx on another radio is refused without the
    defaults it was filled with shown as if written."""
    from airan import InputError

    d = load_scenario("factory").model_dump(mode="json")
    d["radio"]["drx"] = False
    with pytest.raises(InputError, match="'off' is a fleet's own drx"):
        scenario_from_dict(d)
    d = load_scenario("factory").model_dump(mode="json")
    d["radio"]["model"] = "ideal"
    d["fleets"][0]["drx"] = {}
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    assert "DRX needs the nr radio" in str(err.value) and "got" not in str(err.value)
