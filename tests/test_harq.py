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
        got = K.harq_end(eng._kw, eng._sref, t, k0, False, 0, k0)  # a one-block answer
        sent_again += got != t
        assert got in ends, (start_s, got, ends)
    assert 900 < sent_again < 1100  # half of them fail at least once


def test_an_answer_sent_again_in_an_s_slot_arrives_at_the_end_of_its_downlink_part() -> None:
    """DSUU at 30 kHz: an answer arrives at the end of slot 0 (0.5 ms into the 2 ms pattern) or
    of the S slot's 10 downlink symbols (0.5 + 0.5 x 10/14 ms), first sending or not; a block
    that fails in the S slot goes again in the next pattern's S slot (TS 38.214 5.1.2.1: a
    block is received after its last symbol). No built-in pattern resends into an S slot."""
    d = _one_ue(0.5, duration_s=20.0)
    d["carrier"]["tdd_pattern"] = "DSUU"
    # answers ready at any phase of the pattern (a fixed compute time after the U slots would
    # always make the next D slot)
    d["services"][0]["service_time"] = {"dist": "uniform", "low_ms": 1.0, "high_ms": 3.0}
    eng = Engine(scenario_from_dict(d), policy="nearest-edge")
    t = eng.run().requests
    done = np.isin(t.column("outcome").to_numpy(zero_copy_only=False), ["met", "late"])
    end_s = (t.column("created_s").to_numpy()[done]
             + t.column("latency_ms").to_numpy()[done] * 1e-3)
    dl = t.column("dl_air_ms").to_numpy()[done]
    phase = np.mod(end_s, 2e-3)
    d_end, s_end = 0.5e-3, 0.5e-3 + 0.5e-3 * 10 / 14
    at_d, at_s = np.isclose(phase, d_end, atol=1e-7), np.isclose(phase, s_end, atol=1e-7)
    assert np.all(at_d | at_s)
    assert at_s.sum() > 100 and at_d.sum() > 100
    # (a first sending takes at most 2.5 ms: the scheduling delay and the 2 ms pattern)
    assert (dl > 2.5 + 1e-6).sum() > 100


def test_every_block_of_a_long_upload_can_fail_and_a_late_resend_delays_it() -> None:
    """FDD, where a failed uplink block goes again R slots later (R = 3 here): a 100 kB upload
    from a UE alone in its cell takes n > 9 consecutive slots, and each of its blocks has its
    own HARQ process (TS 38.321 5.4.2). The block m slots before the last one delays the upload
    only if it fails floor(m / R) + 1 times, so the upload is late with probability
    1 - prod_m (1 - p^(floor(m / R) + 1)) (at most harq_max_retx failures): 0.295 at p = 0.1,
    R = 3, where a model in which only the last block can fail gives p = 0.1."""
    p = 0.1
    d = _one_ue(p, duration_s=60.0)
    d["carrier"] = {"band": "n3", "bandwidth_mhz": 20.0}
    d["radio"]["scheduler"] = "rr"  # the same slots for every first sending (no fading)
    d["services"][0].update(ul_kb=100.0, dl_kb=0.2, rate_hz=20.0, arrivals="periodic")
    eng, ul, _ = _air_ms(d)
    w = eng.world
    r = int(w.harq_ul_slots[0])
    slot_ms = w.slot_s * 1e3
    n = int(round(ul.min() / slot_ms))  # slots of a first sending
    assert (w.harq_ul_slots == r).all() and r >= 2 and n > 3 * r
    assert len(ul) > 1000
    retx = np.round((ul - ul.min()) / slot_ms)
    np.testing.assert_allclose(ul, ul.min() + slot_ms * retx, atol=1e-9)  # on the slot grid
    late = np.mean(retx > 0)
    times = np.minimum(np.arange(n) // r + 1, 4)  # failures that delay block m: 4 never happens
    expected = 1.0 - np.prod(1.0 - np.where(times <= 3, p**times, 0.0))
    assert expected == pytest.approx(0.295, abs=1e-3)
    assert late == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / len(ul)))
    # at most three round trips after the last block
    assert retx.max() <= 3 * r
