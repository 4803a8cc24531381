"""The fixed part of each air leg that the policies add to their estimates
(``Snapshot.ul_access_delay_s`` / ``dl_access_delay_s``) is the mean that the engine realizes.

Under NR an upload waits for its SR occasion and grant, then for a U slot, and is decoded at the
slot's end; an answer waits for the scheduling delay, then for a slot with downlink symbols, and
is received at the end of those symbols. The policies take the mean over an instant spread
uniformly over the TDD pattern (:func:`airan.radio.nr.mean_slot_wait_s`) and, for the SR, over
the SR period (:func:`airan.radio.nr.sr_grant_wait_s`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import airan
from airan.api import scale_fleets
from airan.engine import Engine
from airan.policy import Snapshot


def _realized_ms(name: str, scale: float, column: str) -> tuple[Engine, float]:
    sc = scale_fleets(airan.load_scenario(name), scale)
    eng = Engine(sc, policy="nearest-edge", duration_s=3.0, seed=2)
    t = eng.run().requests
    ended = np.isin(t.column("outcome").to_numpy(zero_copy_only=False), ["met", "late"])
    remote = t.column("placement").to_numpy(zero_copy_only=False) != "local"
    values = t.column(column).to_numpy(zero_copy_only=False)[ended & remote]
    assert len(values) > 400
    return eng, float(values.mean())


@pytest.mark.parametrize(("name", "scale"), [("city", 0.1), ("factory", 0.2)])
def test_uplink_wait_estimate_is_the_mean_wait_of_an_idle_network(name: str, scale: float) -> None:
    """A tenth of city's vehicles, a fifth of the factory's robots: almost every upload finds its
    cell free, so its wait is the SR occasion, the grant and the next U slot. By hand, for a 5 ms
    SR period (10 slots of 0.5 ms) and a 2 ms grant (4 slots): the occasion is on average half
    a period away, on a U slot (TS 38.213 9.2.4, 11.1). DDDSU: its U slots are 4 and 9, and
    4 + 4 = 8 and 9 + 4 = 13 are S slots, so the data goes 5 slots after the occasion. DDSUU:
    from U slots 3, 4, 8, 9 the grant reaches slots 7 (S), 8 (U), 12 (S), 13 (U), and the data
    goes 5, 4, 5, 4 slots after: 4.5 on average."""
    eng, wait_ms = _realized_ms(name, scale, "ul_wait_ms")
    snap = Snapshot(eng)
    sc = eng.scenario
    slot_s = eng.world.slot_s
    assert (sc.radio.sr_period_ms, sc.radio.grant_delay_ms, slot_s) == (5.0, 2.0, 0.5e-3)
    to_u_slot_s = {"DDDSU": 5.0, "DDSUU": 4.5}[sc.carrier.tdd_pattern] * slot_s
    # the access delay ends with the U slot, and adds HARQ's mean for a block sent again
    assert snap.ul_access_delay_s == pytest.approx(2.5e-3 + to_u_slot_s + slot_s + snap.ul_harq_s,
                                                   rel=1e-12)
    assert snap.ul_harq_s > 0.0
    assert snap.ul_access_delay_s - snap.ul_harq_s - slot_s == pytest.approx(wait_ms * 1e-3,
                                                                               rel=0.04)


@pytest.mark.parametrize(("period_ms", "to_occasion_ms"), [(1.0, 2.5), (4.0, 10.0), (0.25, 1.25)])
def test_sr_occasions_on_downlink_slots_are_not_sent(period_ms: float,
                                                     to_occasion_ms: float) -> None:
    """City's DDDSU with a 1 ms SR period (every 2 slots): four of a UE's five occasions fall on
    D or S slots and are skipped (TS 38.213 11.1), so the upload waits as with a 5 ms period
    (spread uniformly over the period, the occasions would have cut the wait by 1.25 ms). A
    4 ms period (8 slots) meets U slot 4 once in 20 ms; one of a few symbols (0.25 ms), in every
    U slot. From the occasion on U slot 4 the grant reaches S slot 8: 5 slots to U slot 9."""
    sc = scale_fleets(airan.load_scenario("city"), 0.1)
    sc = sc.model_copy(update={"radio": sc.radio.model_copy(update={"sr_period_ms": period_ms})})
    eng = Engine(sc, policy="nearest-edge", duration_s=3.0, seed=2)
    t = eng.run().requests
    ended = np.isin(t.column("outcome").to_numpy(zero_copy_only=False), ["met", "late"])
    remote = t.column("placement").to_numpy(zero_copy_only=False) != "local"
    wait_ms = float(t.column("ul_wait_ms").to_numpy()[ended & remote].mean())
    snap = Snapshot(eng)
    slot_s = eng.world.slot_s
    assert snap.ul_access_delay_s == pytest.approx(
        to_occasion_ms * 1e-3 + 5 * slot_s + slot_s + snap.ul_harq_s, rel=1e-12)
    assert snap.ul_access_delay_s - snap.ul_harq_s - slot_s == pytest.approx(wait_ms * 1e-3,
                                                                               rel=0.04)


@pytest.mark.parametrize("start_s", [0.0, 20_000.0, 500_000.0])
def test_a_grant_of_whole_slots_ends_on_its_slot_start_at_any_time(start_s: float) -> None:
    """Factory's grant is 4 slots and reaches a U slot: the data must go in that slot, hours
    into a run too. Summing seconds (occasion + grant) missed the scheduler's slot start by a
    rounding from t ~ 16,000 s on, ~5% of the uploads a whole pattern late. Against integer
    slot arithmetic: the next occasion at or after t (offset + k x 10 slots), on a U slot."""
    from airan.engine import kernel as K

    eng = Engine(airan.load_scenario("factory"), duration_s=0.01, seed=1)
    w = eng.world
    slot = w.slot_s
    pattern = w.slot_type
    assert (w.sr_period_slots, w.grant_delay_slots) == (10, 4)
    rng = np.random.default_rng(5)
    devices = rng.integers(0, len(w.dev_fleet), 2000)
    times = start_s + rng.uniform(0.0, 100.0, 2000)
    for d, t in zip(devices, times, strict=True):
        elig = K.sr_grant_time(eng._kw, int(d), float(t))
        off = round(w.dev_sr_offset_s[d] / slot)
        k = math.ceil(t / slot)
        k += (off - k) % 10
        while pattern[k % len(pattern)] != 2:  # occasions off a U slot are not sent
            k += 10
        s0 = (k + 4) * slot  # the start of the slot the grant allows, as the scheduler has it
        assert elig == s0, (d, t, elig, s0)


@pytest.mark.parametrize(("name", "scale"), [("city", 0.1), ("factory", 0.2)])
def test_whole_uplink_leg_estimate_counts_slots_not_a_fluid(name: str, scale: float) -> None:
    """The SR and grant, the wait for a U slot and that slot, then the further U slots the
    upload needs (``air_leg_s``): the mean over an idle network's uploads is within 6% of what
    they took (adding the fluid time to the first slot, as before, overshot by ~0.6-1.1 ms)."""
    from airan.policy.base import air_leg_s

    sc = scale_fleets(airan.load_scenario(name), scale)
    eng = Engine(sc, policy="nearest-edge", duration_s=3.0, seed=2)
    t = eng.run().requests
    ended = np.isin(t.column("outcome").to_numpy(zero_copy_only=False), ["met", "late"])
    remote = t.column("placement").to_numpy(zero_copy_only=False) != "local"
    keep = ended & remote
    took_ms = (t.column("ul_wait_ms").to_numpy() + t.column("ul_air_ms").to_numpy())[keep]
    dev = t.column("device").to_numpy()[keep]
    names = [v.name for v in sc.services]
    svc = np.array([names.index(v) for v in
                    t.column("service").to_numpy(zero_copy_only=False)[keep]])
    snap = Snapshot(eng)
    est_s = air_leg_s(snap.ul_access_delay_s, snap.ul_time_s(dev, eng.world.svc_ul_bits[svc]),
                      snap.ul_slot_spacing_s)
    assert snap.ul_slot_spacing_s == pytest.approx(
        eng.world.slot_s * len(sc.carrier.tdd_pattern) / sc.carrier.tdd_pattern.count("U"))
    assert est_s.mean() * 1e3 == pytest.approx(took_ms.mean(), rel=0.06)


def test_downlink_access_estimate_is_the_mean_air_time_of_small_answers() -> None:
    """Answers of a few kB reach their cell at instants that queueing spreads over the
    pattern; their mean air time is the scheduling delay, the wait for a downlink slot and that
    slot (the estimate before this: the bits over the rate alone, ~10 us against ~1.4 ms).
    (Answers computed without queueing come back at a fixed phase of the pattern, after the U
    slot that carried their request: factory's detections take 1.29 ms against 1.52 ms.)"""
    eng, air_ms = _realized_ms("city", 1.0, "dl_air_ms")
    snap = Snapshot(eng)
    assert snap.dl_access_delay_s > eng.world.dl_sched_delay_s + eng.world.slot_s
    assert snap.dl_access_delay_s == pytest.approx(air_ms * 1e-3, rel=0.08)


def test_fixed_radio_splits_its_latency_between_the_two_legs() -> None:
    from one_cell import one_cell_site

    from airan.scenario import scenario_from_dict

    d = one_cell_site()
    d["radio"].update(model="fixed", fixed_ul_rate_mbps=50.0, fixed_dl_rate_mbps=100.0,
                      fixed_latency_ms=3.0)
    snap = Snapshot(Engine(scenario_from_dict(d), duration_s=0.1, seed=1))
    assert snap.ul_access_delay_s == snap.dl_access_delay_s == pytest.approx(3e-3)


def test_air_leg_adds_whole_slots_beyond_the_first() -> None:
    from airan.policy.base import air_leg_s

    fluid = np.array([0.0, 1.0, 2.5, 2.5 + 1e-6, 6.0]) * 1e-3  # spacing 2.5 ms (DDDSU uplink)
    np.testing.assert_allclose(air_leg_s(3e-3, fluid, 2.5e-3),
                               np.array([3.0, 3.0, 3.0, 5.5, 8.0]) * 1e-3)
    np.testing.assert_allclose(air_leg_s(3e-3, fluid, 0.0), 3e-3 + fluid)  # no slots: a fluid
