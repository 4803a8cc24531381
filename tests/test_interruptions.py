"""Each request is counted by the link interruption its radio legs met, and by its outcome.

A device's link is interrupted by a handover (TS 38.300 9.2.3.2), an out-of-sync silence and
a radio link failure with the re-establishment after it (TS 38.331 5.3.10, 5.3.7), or a cell
taken off the air by a fault. A request whose upload (from its creation to its last bit) or
whose answer's downlink (from its arrival at the cell) overlaps one is counted under that
cause in its service's and fleet's ``interrupted`` ({cause: {met, late, dropped}}), and the
trace names it (``interrupted_by``). Checked against the interruption's window computed by
hand from TS 38.331's timers, request by request from the trace's own times.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from test_handover import _row_nr

from airan.engine import Engine
from airan.radio import nr
from airan.scenario import load_scenario, scenario_from_dict

_PARTS = ("ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms", "compute_ms",
          "dl_transport_ms")


def _col(trace: pa.Table, name: str) -> np.ndarray:
    return np.asarray(trace[name].to_numpy(zero_copy_only=False), dtype=float)


def _radio_legs(trace: pa.Table) -> tuple[np.ndarray, ...]:
    """Each traced request's upload (created, end of upload) and downlink (its answer at the
    cell, done), in s, from the trace's times: an upload not finished ends at the request's
    end (a drop), a downlink never reached is NaN."""
    created = _col(trace, "created_s")
    done = created + _col(trace, "latency_ms") * 1e-3
    ul_end = created + (_col(trace, "ul_wait_ms") + _col(trace, "ul_air_ms")) * 1e-3
    ul_end = np.where(np.isnan(ul_end), done, ul_end)
    dl_arr = created + np.sum([_col(trace, p) for p in _PARTS], axis=0) * 1e-3
    return created, ul_end, dl_arr, done


def _overlap(a0: np.ndarray, a1: np.ndarray, b0: float, b1: float) -> np.ndarray:
    return np.nan_to_num(np.maximum(0.0, np.minimum(a1, b1) - np.maximum(a0, b0)))


def _counts_from_trace(trace: pa.Table, service: str,
                       devices: np.ndarray | None = None) -> dict[str, dict[str, int]]:
    """{cause: {met, late, dropped}} of one service's ended requests (of ``devices``' only,
    where given), from the trace."""
    keep = pa.compute.equal(trace["service"].cast(pa.string()), service)
    if devices is not None:
        keep = pa.compute.and_(keep, pa.compute.is_in(trace["device"],
                                                      pa.array(devices.tolist())))
    rows = trace.filter(keep)
    out: dict[str, dict[str, int]] = {}
    causes = rows["interrupted_by"].cast(pa.string()).to_pylist()
    for cause, outcome in zip(causes, rows["outcome"].cast(pa.string()).to_pylist(),
                              strict=True):
        if cause is None or outcome == "in_flight":
            continue
        kind = "dropped" if outcome.startswith("dropped") else outcome
        out.setdefault(cause, {"met": 0, "late": 0, "dropped": 0})[kind] += 1
    return out


def test_a_cell_off_air_tags_the_requests_whose_radio_legs_met_its_silence() -> None:
    """cell-a off the air from 0.2 s: its devices lose their cell, fail after T310 (the 200 ms
    out-of-sync evaluation, N310 - 1 indications, T310; TS 38.331 5.3.10) and re-establish
    (reestablish_ms): their links silent from 0.2 s for nr.rlf_delay_s + 100 ms, to the start
    of the slot that ends in. Exactly the requests of those devices whose upload or downlink
    overlaps that window are counted under cell_fault; no other request is."""
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "cell_down", "cell": "cell-a", "start_s": 0.2}]
    d["handover"] = {"t310_ms": 500.0, "n310": 2, "reestablish_ms": 100.0}
    eng = Engine(scenario_from_dict(d), duration_s=1.5, seed=3, trace_limit=10**7, warmup_s=0.0)
    w = eng.world
    on_a = np.flatnonzero(w.dev_cell == w.cell_names.index("cell-a"))
    assert on_a.size
    result = eng.run()
    silence = nr.rlf_delay_s(500.0, 2) + 0.100  # 0.2 + 0.02 + 0.5, then re-establishing
    assert silence == pytest.approx(0.820, abs=1e-12)
    end = np.ceil((0.2 + silence) / w.slot_s - 1e-6) * w.slot_s
    trace = result.requests
    created, ul_end, dl_arr, done = _radio_legs(trace)
    device = _col(trace, "device").astype(int)
    mine = np.isin(device, on_a)
    met = _overlap(created, ul_end, 0.2, end) + _overlap(dl_arr, done, 0.2, end)
    # a request with no time on the radio (dropped at once, or kept on its device) counts
    # where it was created in the window
    inside = (created >= 0.2) & (created < end) & (met == 0.0)
    tag = np.array(trace["interrupted_by"].cast(pa.string()).to_pylist(), dtype=object)
    clear = (met > 1e-6) | (met == 0.0)  # (not within a rounding of the window's edges)
    expect = np.where(mine & ((met > 0.0) | inside), "cell_fault", None)
    assert np.array_equal(tag[clear], expect[clear]), (
        np.flatnonzero(tag[clear] != expect[clear])[:5])
    hit = mine & ((met > 1e-6) | inside)
    assert hit.sum() > 50 and (tag[clear] == "cell_fault").sum() == hit[clear].sum()
    # the summary's counts are the trace's (every request traced), per service and fleet
    summary = result.summary
    assert summary["trace"]["complete"]
    for name, svc in summary["services"].items():
        assert svc["interrupted"] == _counts_from_trace(trace, name)
    by_fleet: dict[str, int] = {}
    for name, fleet in summary["fleets"].items():
        by_fleet[name] = sum(sum(v.values()) for v in fleet["interrupted"].values())
    assert sum(by_fleet.values()) == sum(
        sum(sum(v.values()) for v in svc["interrupted"].values())
        for svc in summary["services"].values())
    for fi, (name, fleet) in enumerate(summary["fleets"].items()):  # and per fleet x service
        assert w.fleet_names[fi] == name
        for svc_name, svc in fleet["services"].items():
            assert svc["interrupted"] == _counts_from_trace(
                trace, svc_name, np.flatnonzero(w.dev_fleet == fi)), (name, svc_name)
    # those that met it waited: the window, not the cells' load, made them late
    late = np.array(trace["outcome"].cast(pa.string()).to_pylist()) == "late"
    assert late[hit].mean() > 0.5 > late[~mine].mean()


def test_out_of_sync_silences_and_failures_are_told_apart_from_handovers() -> None:
    """The drone of test_handover crossing cells with a 15 dB hysteresis and a 5.12 s
    time-to-trigger never hands over: below Qout it goes silent for T310 (1 s) and fails,
    re-establishing on its best cell; its requests meet out-of-sync silences and failures,
    no handover. With the usual 3 dB and 160 ms it hands over in time: handovers only. Every
    request that waited half a second for its upload (the silences' doing, one drone alone on
    its cells) is counted; the counts are the trace's."""
    results = {}
    for name, (hys, ttt) in {"late": (15.0, 5120.0), "usual": (3.0, 160.0)}.items():
        d = _row_nr(hys, ttt)
        d["services"][0].update(rate_hz=20.0)
        d["duration_s"] = 20.0
        results[name] = Engine(scenario_from_dict(d)).run()
    late, usual = (results[k].summary for k in ("late", "usual"))
    got = late["services"]["perception"]["interrupted"]
    assert late["mobility"]["handovers"] == 0 and late["mobility"]["radio_link_failures"] >= 1
    assert set(got) == {"out_of_sync", "radio_link_failure"}
    assert got["out_of_sync"]["late"] > 20  # ~20 Hz through each 1 s silence
    got_usual = usual["services"]["perception"]["interrupted"]
    assert usual["mobility"]["handovers"] >= 1 and set(got_usual) == {"handover"}
    for key, res in results.items():
        trace = res.requests
        assert res.summary["services"]["perception"]["interrupted"] == _counts_from_trace(
            trace, "perception"), key
        waited = _col(trace, "ul_wait_ms") > 500.0
        tag = np.array(trace["interrupted_by"].cast(pa.string()).to_pylist(), dtype=object)
        assert np.all(tag[waited] != None), key  # noqa: E711  (null: none met)
    assert res.summary["fleets"]["drone"]["interrupted"] == got_usual


def test_a_run_that_interrupts_no_link_counts_nothing_and_traces_nulls() -> None:
    """Without mobility or faults nothing is interrupted: no ``interrupted`` figure (it would
    read as a count of none where none could be), nor the trace's column."""
    result = Engine(load_scenario("factory"), duration_s=0.5).run()
    assert all("interrupted" not in s for s in result.summary["services"].values())
    assert all("interrupted" not in f for f in result.summary["fleets"].values())
    assert "interrupted_by" not in result.requests.column_names


def _ring_of(d: dict[str, Any]) -> Engine:
    return Engine(scenario_from_dict(d), duration_s=0.1)


def test_a_silence_held_update_after_update_is_one_interruption() -> None:
    """world.note_hold: an interruption of the same cause that goes on one under way (an
    out-of-sync silence held at each update) lengthens it; another cause takes the ring's
    next entry, the oldest of the last four giving way; cut_hold ends the newest of a cause
    early; of two a request overlaps as long, the later one names it."""
    from airan.engine import kernel as K
    from airan.engine.world import cut_hold, note_hold

    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "cell_down", "cell": "cell-a", "start_s": 5.0}]
    st = _ring_of(d)._st
    dev = np.array([0])
    note_hold(st, dev, 1.0, 1.1, K.HOLD_OUT_OF_SYNC)
    note_hold(st, dev, 1.1, 1.2, K.HOLD_OUT_OF_SYNC)  # goes on: one entry, to 1.2
    assert st.dev_hold_n[0] == 1 and list(st.dev_hold[0, :2]) == [1.0, 1.2]
    note_hold(st, dev, 1.2, 1.25, K.HOLD_HANDOVER)  # another cause: the next entry
    note_hold(st, dev, 2.0, 2.1, K.HOLD_HANDOVER)  # the same cause, after a gap: another
    assert st.dev_hold_n[0] == 3
    cut_hold(st, dev, 2.05, K.HOLD_HANDOVER)
    assert st.dev_hold[0, 5] == pytest.approx(2.05)
    cut_hold(st, dev, 1.1, K.HOLD_OUT_OF_SYNC)  # the newest of that cause, not the newest
    assert list(st.dev_hold[0, :2]) == [1.0, 1.1] and st.dev_hold[0, 5] == pytest.approx(2.05)
    st.dev_hold[0, 1] = 1.2  # (back as it was)
    for k in range(2):
        note_hold(st, dev, 3.0 + k, 3.5 + k, K.HOLD_CELL_FAULT)
    assert st.dev_hold_n[0] == 5  # the first entry gave way to the fifth
    assert list(st.dev_hold_cause[0]) == [K.HOLD_CELL_FAULT, K.HOLD_HANDOVER,
                                          K.HOLD_HANDOVER, K.HOLD_CELL_FAULT]
    assert list(st.dev_hold[0, :2]) == [4.0, 4.5]
    held_cause = K.held_cause.py_func
    f = np.full(K.N_RQ_F, np.nan)
    f[K.T_CREATE], f[K.T_UL_DONE] = 1.15, 1.3  # over the silence's entry, given way, and the
    assert held_cause(st, 0, f, 1.3) == K.HOLD_HANDOVER  # handover's after it
    f[K.T_CREATE], f[K.T_UL_DONE] = 2.5, 2.6
    assert held_cause(st, 0, f, 2.6) == K.HOLD_NONE  # between them
    f[K.T_CREATE], f[K.T_UL_DONE] = 1.9, 2.1  # 0.05 s of the cut handover's; its answer's
    assert held_cause(st, 0, f, 2.1) == K.HOLD_HANDOVER
    f[K.T_DLARR] = 4.1  # downlink 0.2 s into a cell fault's: the longest
    assert held_cause(st, 0, f, 4.3) == K.HOLD_CELL_FAULT
    f[K.T_UL_DONE] = np.nan  # an upload cut short by a drop at 2.1: to the drop
    f[K.T_DLARR] = np.nan
    assert held_cause(st, 0, f, 2.1) == K.HOLD_HANDOVER
    f[K.T_CREATE] = f[K.T_UL_DONE] = 3.2  # created in a fault's silence, no time on the
    f[K.T_DLARR] = np.nan  # radio (dropped at once, its buffer full): that fault
    assert held_cause(st, 0, f, 3.2) == K.HOLD_CELL_FAULT
    f[K.T_CREATE] = f[K.T_UL_DONE] = 3.6
    assert held_cause(st, 0, f, 3.6) == K.HOLD_NONE
    note_hold(st, dev, 6.0, 6.5, K.HOLD_OUT_OF_SYNC)  # a silence, then a handover out of it
    note_hold(st, dev, 6.2, 6.25, K.HOLD_HANDOVER)
    cut_hold(st, dev, 6.25, K.HOLD_OUT_OF_SYNC)
    f[K.T_CREATE], f[K.T_UL_DONE], f[K.T_DLARR] = 6.21, 6.3, np.nan  # as long in each
    assert held_cause(st, 0, f, 6.3) == K.HOLD_HANDOVER


def test_the_terminal_says_how_many_late_requests_met_an_interruption() -> None:
    """One line: the requests that met an interruption on the radio by cause, and the share of
    the run's late requests they are (the rest late for other reasons); none without any."""
    from airan.report.events import events

    summary: dict[str, Any] = {"duration_s": 10.0, "requests": {"late": 40}, "services": {
        "detect": {"interrupted": {"handover": {"met": 5, "late": 2, "dropped": 0},
                                   "out_of_sync": {"met": 1, "late": 20, "dropped": 3}}},
        "vla": {"interrupted": {"handover": {"met": 1, "late": 0, "dropped": 0}}}}}
    assert events(summary) == [
        "link interruptions: 32 requests met one while on the radio (uploading or getting the "
        "answer) or were created in one: 8 a handover (2 late), 24 an out-of-sync silence (20 "
        "late, 3 dropped); they are 22 of the run's 40 late requests (the others met none "
        "themselves: load on the cells, the links or the compute, to which the backlog a "
        "silence releases at once adds)"]
    summary["requests"]["late"] = 0  # (an AGV integrator's review: "0 of the run's 0")
    for svc in summary["services"].values():
        for n in svc["interrupted"].values():
            n["late"] = 0
    assert events(summary)[0].endswith("; no request of the run was late")
    for svc in summary["services"].values():
        svc["interrupted"] = {}
    assert events(summary) == []


def test_shards_add_their_interruption_counts_whichever_has_none() -> None:
    """A review of the diff: a shard whose fleets do not move has no ``interrupted``, and the
    merge kept the first part's keys only: the counts were lost, or copied unsummed, by the
    shards' order. Now they add over the shards that have them, a service's and a fleet's."""
    from airan.sweep.merge import merge_fleets, merge_services

    def part(held: dict[str, Any] | None) -> dict[str, Any]:
        p: dict[str, Any] = {"count": 10, "met": 8, "late": 2, "dropped": 0, "in_flight": 0,
                             "overdue": 0, "latency_ms": {"mean": 5.0},
                             "latency_histogram": {}, "breakdown_ms": {}}
        if held is not None:
            p["interrupted"] = held
        return p

    a = {"handover": {"met": 3, "late": 1, "dropped": 0}}
    b = {"handover": {"met": 1, "late": 0, "dropped": 2},
         "cell_fault": {"met": 0, "late": 4, "dropped": 0}}
    want = {"handover": {"met": 4, "late": 1, "dropped": 2},
            "cell_fault": {"met": 0, "late": 4, "dropped": 0}}
    for parts in ([part(None), part(a), part(b)], [part(b), part(None), part(a)]):
        assert merge_services(parts)["interrupted"] == want
    assert "interrupted" not in merge_services([part(None), part(None)])
    fleets = [{"devices": 5, "met": 8, "late": 2, "dropped": 0, "services": {}},
              {"devices": 5, "met": 8, "late": 2, "dropped": 0, "services": {},
               "interrupted": a}]
    assert merge_fleets(fleets)["interrupted"] == a


def test_a_fault_that_interrupts_no_link_counts_nothing() -> None:
    """A review of the diff: a GPU's fault (no L1 on GPUs here) or a static mobility model
    interrupts no device's link, and its run counted interruptions (none) all the same."""
    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [{"kind": "gpu_down", "site": "on-prem", "gpus": 1, "start_s": 0.1}]
    d["fleets"][0]["mobility"] = {"model": "static"}
    s = Engine(scenario_from_dict(d), duration_s=0.3).run()
    assert all("interrupted" not in v for v in s.summary["services"].values())
    assert "interrupted_by" not in s.requests.column_names
