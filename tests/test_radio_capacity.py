"""The uplink's capacity and round robin's shares, against a computation by hand from the rules
docs/model.md states (rows 'uplink', 'SINR, SE', 'scheduling'), for one cell with no interference
and no HARQ failures.

A U slot on n PRBs carries n x SE x 12 x 14 x (1 - 0.08) bits (TS 38.306 4.1.2, the FR1 uplink
overhead), SE = min(0.75 log2(1 + SINR / 1.25), 7.4063) (attenuated Shannon, TS 38.214 Table
5.1.3.1-2's cap). The UE's power per PRB is the open-loop P0 + alpha PL rule (the world's
``dev_ul_p_prb_mw``) within its maximum power (23 dBm here); a power-limited UE uses fewer
PRBs, as many as keep its SINR at the -10 dB floor. An upload's air time runs from the start
of its first U slot to the end of its last: on DDDSU at 30 kHz, m slots take (m - 1) x 2.5 +
0.5 ms.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

import airan.engine.engine as engine_module
from airan.engine import Engine
from airan.scenario import scenario_from_dict

U_PERIOD_MS, SLOT_MS = 2.5, 0.5  # DDDSU at 30 kHz: one U slot in five


def _cell(xs: list[float], ul_kb: float, *, counts: list[int] | None = None,
          duration_s: float = 2.0, rate_hz: float = 2.0) -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="rr", ul_access="configured_grant")
    d["fleets"] = [{"name": f"ue{i}", "count": counts[i] if counts else 1,
                    "services": ["perception"], "area": {"x_m": [x, x + 0.01], "y_m": [0.0, 0.01]}}
                   for i, x in enumerate(xs)]
    d["services"][0].update(ul_kb=ul_kb, dl_kb=1.0, rate_hz=rate_hz, arrivals="periodic",
                            jitter_ms=0.0)
    d["duration_s"] = duration_s
    return d


def _bits_per_u_slot(w: Any, d: int, prbs: float) -> float:
    """What device ``d`` sends in one U slot on ``prbs`` PRBs, by the rules above."""
    c = w.dev_cell[d]
    # SINR per mW of power per PRB: path gain x receive combining / noise per PRB
    per_mw = w.dev_top_gain[d, 0] * w.cell_prb[c] * w.cell_ul_rx_gain[c] / w.ul_noise_mw[c]
    p_prb = w.dev_ul_p_prb_mw[d]
    used = prbs
    if p_prb * prbs > w.dev_ue_tx_mw[d]:  # power-limited: the most PRBs at the SINR floor
        used = min(prbs, w.dev_ue_tx_mw[d] * per_mw / w.min_sinr_lin)
        p_prb = w.dev_ue_tx_mw[d] / used
    se = min(0.75 * math.log2(1.0 + p_prb * per_mw / 1.25), 7.4063)
    return used * se * 12 * 14 * (1 - 0.08)


def _trace(d: dict[str, Any]) -> tuple[Any, dict[str, np.ndarray]]:
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=2)
    t = eng.run().requests
    cols = ("device", "created_s", "ul_air_ms")
    return eng.world, {c: t.column(c).to_numpy(zero_copy_only=False) for c in cols}


@pytest.mark.parametrize(("x_m", "ul_kb"), [(40.0, 400.0), (300.0, 100.0), (900.0, 3.0)])
def test_an_upload_alone_takes_the_u_slots_its_bits_need(x_m: float, ul_kb: float) -> None:
    """At 40 m (on all PRBs), and at 300 and 900 m, where the UE is power-limited and uses
    fewer (at 900 m, 3 kB take 103 U slots). Without shadowing: the distances alone set the
    links (a deep fade at 900 m made each upload longer than the run)."""
    d = _cell([x_m], ul_kb, duration_s=4.0, rate_hz=2.0)
    d["radio"]["shadowing"] = False
    w, t = _trace(d)
    slots = math.ceil(ul_kb * 8e3 / _bits_per_u_slot(w, 0, float(w.cell_prb[0])))
    assert slots >= 2
    limited = w.dev_ul_p_prb_mw[0] * w.cell_prb[0] > w.dev_ue_tx_mw[0]
    assert limited == (x_m > 100.0)
    air = t["ul_air_ms"][np.isfinite(t["ul_air_ms"])]
    assert len(air) >= 6
    np.testing.assert_allclose(air, (slots - 1) * U_PERIOD_MS + SLOT_MS, rtol=0, atol=1e-9)


def test_a_fleets_own_ue_power_class_sets_its_power_limited_uploads() -> None:
    """A fleet's ``ue_tx_power_dbm`` (TS 38.101-1 6.2.1: power class 2, 26 dBm, for a vehicle
    modem) beside one at the radio's 23 dBm, both power-limited 900 m from the cell: twice the
    power, 3 dB more uplink SINR at full power, and each upload takes the U slots its own power
    carries by hand."""
    d = _cell([900.0, 900.0], 3.0, duration_s=4.0, rate_hz=2.0)
    d["radio"]["shadowing"] = False
    d["fleets"][1]["ue_tx_power_dbm"] = 26.0
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=2)
    res = eng.run()
    w = eng.world
    np.testing.assert_allclose(w.dev_ue_tx_mw, [10 ** 2.3, 10 ** 2.6], rtol=1e-12)
    sinr = res.devices.column("sinr_ul_db").to_numpy()
    assert sinr[1] - sinr[0] == pytest.approx(3.0, abs=0.01)  # (positions 1 cm apart at most)
    dev = res.requests.column("device").to_numpy()
    air = res.requests.column("ul_air_ms").to_numpy(zero_copy_only=False)
    slots = []
    for u in (0, 1):
        assert w.dev_ul_p_prb_mw[u] * w.cell_prb[0] > w.dev_ue_tx_mw[u]  # power-limited
        m = math.ceil(3.0 * 8e3 / _bits_per_u_slot(w, u, float(w.cell_prb[0])))
        mine = air[(dev == u) & np.isfinite(air)]
        assert len(mine) >= 3
        # (alone on the cell unless the other's upload overlaps: then shared, longer)
        assert np.min(mine) == pytest.approx((m - 1) * U_PERIOD_MS + SLOT_MS, abs=1e-9)
        slots.append(m)
    assert slots[1] < slots[0]


def _round_robin_by_hand(w: Any, n_dev: int, bits: float, period_s: float,
                         duration_s: float) -> dict[tuple[int, float], float]:
    """Fluid round robin on DDDSU: every device makes an upload of ``bits`` at 0, period, ...;
    in each U slot every device with data gets 1/n of the PRBs, and what a device does not need
    of it goes to those that need more. Air time per (device, created)."""
    prbs = float(w.cell_prb[0])
    waiting: dict[int, list[list[float]]] = {d: [] for d in range(n_dev)}  # [created, left, start]
    made = [0] * n_dev
    air: dict[tuple[int, float], float] = {}
    for k in range(4, int(duration_s / (SLOT_MS * 1e-3)) + 4000, 5):  # the U slots
        s0 = k * SLOT_MS * 1e-3
        for d in range(n_dev):  # the uploads made by the slot's start
            while made[d] * period_s <= s0 + 1e-12 and made[d] * period_s < duration_s:
                waiting[d].append([made[d] * period_s, bits, math.nan])
                made[d] += 1
        active = [d for d in range(n_dev) if waiting[d]]
        if not active:
            continue
        equal = prbs / len(active)
        # one round of progressive filling: a UE whose buffer fits in less than its equal
        # share leaves the rest to those that need more, in equal parts
        buffered = {d: sum(up[1] for up in waiting[d]) for d in active}
        fits = {d: buffered[d] < _bits_per_u_slot(w, d, equal) for d in active}
        spare = sum(equal * (1 - buffered[d] / _bits_per_u_slot(w, d, equal))
                    for d in active if fits[d])
        n_more = sum(1 for d in active if not fits[d])
        for d in active:
            cap = _bits_per_u_slot(w, d, equal if fits[d] else equal + spare / n_more)
            while waiting[d] and cap > 0:
                up = waiting[d][0]
                if math.isnan(up[2]):
                    up[2] = s0
                sent = min(up[1], cap)
                up[1] -= sent
                cap -= sent
                if up[1] <= 1e-9:
                    air[(d, round(up[0], 6))] = (s0 + SLOT_MS * 1e-3 - up[2]) * 1e3
                    waiting[d].pop(0)
    return air


@pytest.mark.parametrize(("xs", "counts"), [([100.0], [3]), ([40.0, 150.0, 400.0], None)])
def test_round_robin_gives_every_ue_with_data_an_equal_share_of_each_slot(
        xs: list[float], counts: list[int] | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three UEs at one spot (their shadowing differs), or at 40, 150 and 400 m, each making a
    200-300 kB upload every 0.5 s at the same instants: every upload's air time equals the
    fluid round robin's by hand, in which the UEs still sending share each U slot equally and
    a UE finishing in less than its share leaves the rest to the others."""
    build = engine_module.build_world

    def in_step(*args: Any, **kwargs: Any) -> Any:  # every flow starts at 0, no jitter
        w = build(*args, **kwargs)
        w.flow_phase_s[:] = 0.0
        w.flow_jitter_s[:] = 0.0
        return w

    monkeypatch.setattr(engine_module, "build_world", in_step)
    kb = 300.0 if counts else 200.0
    w, t = _trace(_cell(xs, kb, counts=counts))
    n_dev = len(w.dev_cell)
    hand = _round_robin_by_hand(w, n_dev, kb * 8e3, 0.5, 2.0)
    done = np.isfinite(t["ul_air_ms"])
    keys = [(int(d), round(float(c), 6)) for d, c in zip(t["device"][done], t["created_s"][done],
                                                         strict=True)]
    assert len(keys) >= 3 * 3 and all(k in hand for k in keys)
    np.testing.assert_allclose(t["ul_air_ms"][done], [hand[k] for k in keys], rtol=0, atol=1e-6)
    # and they did share: an upload alone would have been quicker
    alone = [math.ceil(kb * 8e3 / _bits_per_u_slot(w, d, float(w.cell_prb[0]))) for d, _ in keys]
    assert np.any(t["ul_air_ms"][done] > (np.array(alone) - 1) * U_PERIOD_MS + SLOT_MS + 1e-6)


def test_the_downlink_scheduler_visits_a_ue_only_once_its_answer_is_schedulable() -> None:
    """An answer may be scheduled ``dl_sched_delay_ms`` after it reaches the cell; until then
    its UE waits outside the scheduler (``kernel.dl_arrive``, ``_activate_dl``). One device near
    the cell whose 1 KB answers each fit in one slot: the scheduler visits it once per answer
    (it visited it ~2.5 times before, in the slots the answer was not schedulable yet), and
    the answer's air time ends in the first downlink slot from its arrival plus the delay."""
    d = _cell([40.0], 10.0, duration_s=2.0, rate_hz=20.0)
    d["radio"]["shadowing"] = False
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=2)
    res = eng.run()
    req = res.summary["requests"]
    finished = req["met"] + req["late"]
    assert req["dropped"] == 0 and finished >= 38
    assert finished <= eng.work["dl_ue_slots"] <= finished + req["in_flight"]
    t = res.requests
    created = t.column("created_s").to_numpy()
    dl_air = t.column("dl_air_ms").to_numpy()
    done = np.isfinite(dl_air)
    # the answer reaches the cell at created + up to the downlink: its slot starts at the first
    # D or S slot start at or after that + 0.5 ms, and ends one slot later
    parts = ("ul_wait_ms", "ul_air_ms", "ul_transport_ms", "queue_ms", "compute_ms",
             "dl_transport_ms")
    arrive_ms = created[done] * 1e3 + sum(t.column(c).to_numpy()[done] for c in parts)
    ready = arrive_ms + 0.5
    k = np.ceil(ready / SLOT_MS - 1e-9)
    k = np.where(k % 5 == 4, k + 1, k)  # a U slot carries no downlink: the next D slot
    np.testing.assert_allclose(dl_air[done], (k + 1) * SLOT_MS - arrive_ms, atol=1e-6)


def test_a_policys_downlink_count_includes_ues_whose_answer_waits_to_be_schedulable() -> None:
    """The UEs with answers, per cell, that a policy's downlink rate divides among
    (``Snapshot.dl_rate_bps``) count those still waiting out the scheduling delay."""
    from airan.engine import kernel as K

    d = _cell([40.0, 60.0], 10.0, duration_s=1.0, rate_hz=20.0)
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=2)
    seen = 0
    dev = np.zeros(1, dtype=np.int64)
    for _ in range(2000):
        eng.step(1)
        waiting = int(eng._st.ctr[K.C_DLQ_N])
        active = int(eng._st.ctr[K.C_ACT_DL])
        got = K.active_in_cells(eng._kw, eng._sref, dev, False)[0]
        assert got == waiting + active  # one cell: every UE with an answer is in it
        seen += waiting > 0
        if eng.slot >= eng.n_slots:
            break
    assert seen > 10
