"""HARQ in the engine: a transfer's last transport block fails with probability ``radio.bler``
and arrives one HARQ round trip later (``airan.radio.nr.harq_retx_delay_s``, whose timeline
test_radio_nr checks by hand).

One UE next to its cell sends frames small enough for one slot each way, so without HARQ every
uplink takes exactly its U slot (0.5 ms). With DDDSU at 30 kHz a failed uplink block comes back
2.5 ms later (one pattern), so the uplink air time is 0.5 ms with probability 1 - p, 3.0 ms with
p (1 - p), 5.5 ms with p^2 (1 - p), ...: a geometric law nobody here chose.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.policy import Snapshot
from airan.radio.nr import harq_retx_delay_s, slot_usable
from airan.scenario import scenario_from_dict


def _one_ue(bler: float, duration_s: float = 60.0) -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=bler, harq_max_retx=3)
    d["fleets"] = [{"name": "ue", "count": 1, "services": ["perception"],
                    "area": {"x_m": [40.0, 41.0], "y_m": [0.0, 1.0]}}]
    d["services"][0].update(ul_kb=0.2, dl_kb=0.2, rate_hz=50.0, arrivals="poisson")
    d["duration_s"] = duration_s
    return d


def _air_ms(d: dict[str, Any]) -> tuple[Engine, np.ndarray, np.ndarray]:
    eng = Engine(scenario_from_dict(d), policy="nearest-edge")
    t = eng.run().requests
    done = np.isin(t.column("outcome").to_numpy(zero_copy_only=False), ["met", "late"])
    return (eng, t.column("ul_air_ms").to_numpy()[done], t.column("dl_air_ms").to_numpy()[done])


def test_without_block_errors_every_small_upload_takes_its_slot() -> None:
    _, ul, _ = _air_ms(_one_ue(0.0, duration_s=10.0))
    assert len(ul) > 400
    np.testing.assert_allclose(ul, 0.5, atol=1e-9)


def test_failed_uplink_blocks_come_back_one_pattern_later_with_the_geometric_law() -> None:
    p = 0.1
    eng, ul, _ = _air_ms(_one_ue(p))
    n = len(ul)
    assert n > 2500
    # every value is the slot plus whole HARQ round trips of one pattern (2.5 ms)
    retx = np.round((ul - 0.5) / 2.5)
    np.testing.assert_allclose(ul, 0.5 + 2.5 * retx, atol=1e-9)
    for k, share in ((0, 1 - p), (1, p * (1 - p)), (2, p**2 * (1 - p))):
        sd = np.sqrt(share * (1 - share) / n)
        assert np.mean(retx == k) == pytest.approx(share, abs=4 * sd + 1e-3), k
    assert retx.max() <= 3  # harq_max_retx
    # the policies' estimate adds the mean: p + p^2 + p^3 round trips of 2.5 ms
    snap = Snapshot(eng)
    assert snap.ul_harq_s == pytest.approx(2.5e-3 * (p + p**2 + p**3), rel=1e-12)
    assert np.mean(ul - 0.5) == pytest.approx(snap.ul_harq_s * 1e3, rel=0.25)


def test_failed_downlink_blocks_arrive_one_harq_round_trip_later() -> None:
    p = 0.1
    _, _, dl0 = _air_ms(_one_ue(0.0))
    eng, _, dl = _air_ms(_one_ue(p))
    w = eng.world
    _, dl_s = harq_retx_delay_s(*slot_usable(w.slot_type), w.slot_s, 1)
    extra = set(np.round(dl_s[np.isfinite(dl_s)] * 1e3, 6))
    # without HARQ the downlink leg is the scheduling delay, the wait for a slot and that slot
    # (at most 2.5 ms here); a block sent again adds one of the round trips
    assert dl0.max() < 2.5 + 1e-9
    later = dl > dl0.max() + 1e-9
    assert np.mean(later) == pytest.approx(p, abs=0.025)
    assert min(extra) >= 1.5  # the quickest round trip on DDDSU is 1.5 ms (from D slot 2)
    assert dl.max() <= dl0.max() + 3 * max(extra) + 1e-9  # at most three round trips
    # the policies' mean (over the downlink slots, equally likely) against what these answers,
    # which land in the slots their compute times lead to, took
    assert np.mean(dl) - np.mean(dl0) == pytest.approx(Snapshot(eng).dl_harq_s * 1e3, rel=0.2)


@pytest.mark.parametrize("start_s", [0.0, 540_000.0, 860_000.0])
def test_a_block_sent_again_arrives_at_its_slot_end_at_any_time(start_s: float) -> None:
    """120 kHz (slots of 125 us), DDDSU, half the blocks failing: each sending goes
    ``harq_dl_slots`` slots after the previous one and arrives at the end of that slot's
    downlink part, days into a run too. (Recovering the slot from a sum of seconds misread it
    for ~10% of the chains after ~540,000 s, where t / slot passes 2**32.)"""
    import airan
    from airan.engine import kernel as K
    from airan.scenario import scenario_from_dict

    sc = airan.load_scenario("factory").model_dump(mode="json")
    sc["carrier"].update(band="n257", fc_ghz=28.0, numerology=3, tdd_pattern="DDDSU",
                         bandwidth_mhz=100)
    sc["radio"].update(bler=0.5, harq_max_retx=4)
    eng = Engine(scenario_from_dict(sc), duration_s=0.01, seed=1)
    w = eng.world
    slot = w.slot_s
    part = np.where(w.slot_type == 1, 10 / 14, 1.0)  # an S slot's downlink symbols
    plen = len(w.slot_type)
    rng = np.random.default_rng(3)
    sent_again = 0
    for first in int(start_s / slot) + rng.integers(0, 10**6, 2000):
        k0 = int(first) - int(first) % plen + int(rng.integers(0, 4))  # a slot with downlink
        t = (k0 + part[k0 % plen]) * slot  # the end of its downlink part
        ends, k = [t], k0
        for _ in range(4):  # the slot and end of each sending again, in whole slots
            k += int(w.harq_dl_slots[k % plen])
            ends.append((k + part[k % plen]) * slot)
        got = K.harq_end(eng._kw, eng._sref, t, k0, False)
        sent_again += got != t
        assert got in ends, (start_s, got, ends)
    assert 900 < sent_again < 1100  # half of them fail at least once
