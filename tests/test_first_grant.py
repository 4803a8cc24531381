"""The grant that answers a scheduling request (``radio.first_grant_bytes``): the gNB does not
know the UE's buffer until the buffer status report that rides in that grant (TS 38.321 5.4.5),
so what the grant cannot carry waits for the next one, ``grant_delay_ms`` after the report's
slot, in the first uplink slot then (``airan.radio.nr.report_round_s``).

One UE next to its cell, no block errors, uploads far apart that one uplink slot carries: the
upload's air time is its slot alone without the option or within the grant, and that slot plus
the report's round with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.policy import Snapshot
from airan.radio import nr
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings


def test_the_reports_round_reaches_the_first_uplink_slot_after_the_grant_delay() -> None:
    # FDD at 1 ms slots, 2 ms grant delay: report in slot k, sent from slot k + 1 + 2
    assert nr.report_round_s([1.0], 1e-3, 5e-3, 2e-3) == pytest.approx(3e-3, rel=1e-12)
    # DDDSU at 0.5 ms, 2 ms (4 slots): from U slot 4 the grant reaches slot 9, the next
    # pattern's U slot (S slots carry no uplink data here)
    ul, _ = nr.slot_usable(nr.parse_tdd_pattern("DDDSU"))
    assert nr.report_round_s(ul, 0.5e-3, 5e-3, 2e-3) == pytest.approx(2.5e-3, rel=1e-12)
    # DDDDDDDSUU: SRs on U slots 8 and 9 are both granted slot 18 (8 + 4 and 9 + 4 fall on D
    # slots), whose report's grant reaches slot 23, a D slot: the rest goes in slot 28, 5 ms
    # on; weighting U slots 8 and 9 alike would say 4.75 ms
    ul, _ = nr.slot_usable(nr.parse_tdd_pattern("DDDDDDDSUU"))
    assert nr.report_round_s(ul, 0.5e-3, 5e-3, 2e-3) == pytest.approx(5e-3, rel=1e-12)
    # a delay off the slot grid (1.2 ms at 0.5 ms): the first slot starting 1.2 ms after the
    # report's slot ends, k + 1 + ceil(2.4) = k + 4
    assert nr.report_round_s([1.0], 0.5e-3, 5e-3, 1.2e-3) == pytest.approx(2e-3, rel=1e-12)


def _one_ue(ul_kb: float, first_grant_bytes: int | None,
            tdd_pattern: str = "DDDSU") -> dict[str, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, first_grant_bytes=first_grant_bytes)
    d["carrier"]["tdd_pattern"] = tdd_pattern
    d["fleets"] = [{"name": "ue", "count": 1, "services": ["perception"],
                    "area": {"x_m": [40.0, 41.0], "y_m": [0.0, 1.0]}}]
    d["services"][0].update(ul_kb=ul_kb, dl_kb=0.2, rate_hz=10.0, arrivals="periodic",
                            jitter_ms=0.0)
    d["duration_s"] = 5.0
    return d


def _ul_ms(d: dict[str, Any]) -> tuple[Engine, np.ndarray, np.ndarray]:
    eng = Engine(scenario_from_dict(d), policy="nearest-edge")
    t = eng.run().requests
    return eng, t.column("ul_wait_ms").to_numpy(), t.column("ul_air_ms").to_numpy()


@pytest.mark.parametrize(("pattern", "round_ms"), [("DDDSU", 2.5), ("DDDDDDDSUU", 5.0)])
def test_an_upload_beyond_the_srs_grant_waits_for_the_reports_grant(
        pattern: str, round_ms: float) -> None:
    _, wait0, air0 = _ul_ms(_one_ue(4.0, None, pattern))
    eng, wait, air = _ul_ms(_one_ue(4.0, 500, pattern))
    assert len(air) > 40
    np.testing.assert_allclose(air0, 0.5, atol=1e-9)  # one U slot carries the 4 KB
    np.testing.assert_allclose(wait, wait0, atol=1e-9)  # the SR and its grant as before
    # 500 bytes go in the SR's grant, the rest one report's round later
    np.testing.assert_allclose(air, 0.5 + round_ms, atol=1e-9)
    w = eng.world
    ul, _ = nr.slot_usable(w.slot_type)
    assert nr.report_round_s(ul, w.slot_s, w.sr_period_s, w.grant_delay_s) == pytest.approx(
        round_ms * 1e-3)


def test_an_upload_within_the_srs_grant_is_unchanged() -> None:
    _, wait0, air0 = _ul_ms(_one_ue(0.2, None))
    _, wait, air = _ul_ms(_one_ue(0.2, 500))
    assert np.array_equal(wait, wait0) and np.array_equal(air, air0)


def test_the_policies_estimate_adds_the_round_to_the_legs_fixed_part() -> None:
    """On DDDSUDDSUU the round (2.67 ms on average) is not a whole number of uplink slot
    spacings (1.67 ms): it joins the leg's fixed part, so the estimated leg grows by the round
    itself, not by whole spacings of the data's slots."""
    from airan.policy.base import Batch, estimate_latency_s

    def leg_s(first_grant_bytes: int | None, ul_kb: float) -> tuple[float, float]:
        eng = Engine(scenario_from_dict(_one_ue(ul_kb, first_grant_bytes, "DDDSUDDSUU")),
                     policy="nearest-edge", duration_s=0.01)
        snap = Snapshot(eng)
        batch = Batch(np.array([0.0]), np.array([0]), np.array([0]), eng.world.dev_cell[:1])
        est = estimate_latency_s(snap, batch)
        return float(est[0, 0]), float(snap.ul_report_round_s(np.array([0]),
                                                              np.array([ul_kb * 8e3]))[0])

    for ul_kb in (4.0, 40.0):
        with_round, round_s = leg_s(500, ul_kb)
        without, none = leg_s(None, ul_kb)
        assert none == 0.0
        assert round_s == pytest.approx(8 / 3 * 1e-3)
        assert with_round - without == pytest.approx(round_s, rel=1e-9)
    assert leg_s(500, 0.4)[1] == 0.0  # 400 bytes: within the grant


def test_the_option_is_named_where_it_has_no_effect() -> None:
    d = _one_ue(4.0, 500)
    d["radio"]["ul_access"] = "configured_grant"
    warnings = scenario_warnings(scenario_from_dict(d))
    assert any("radio.first_grant_bytes" in w for w in warnings)
    assert not any("first_grant" in w for w in scenario_warnings(
        scenario_from_dict(_one_ue(4.0, 500))))


def _bulk_beside_pings(ping_kb: float, scheduler: str) -> float:
    """The air time (ms) of a 2 MB upload from one UE while a second UE beside it sends
    ``ping_kb`` every 20 ms, both on SR grants of 500 bytes."""
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, first_grant_bytes=500, scheduler=scheduler)
    base = {k: v for k, v in d["services"][0].items() if k != "name"}
    d["services"] = [
        {**base, "name": "bulk", "ul_kb": 2000.0, "rate_hz": 0.5, "arrivals": "periodic",
         "jitter_ms": 0.0, "deadline_ms": 1000.0},
        {**base, "name": "ping", "ul_kb": ping_kb, "rate_hz": 50.0, "arrivals": "periodic",
         "jitter_ms": 0.0}]
    area = {"x_m": [40.0, 41.0], "y_m": [0.0, 1.0]}
    d["fleets"] = [{"name": "big", "count": 1, "services": ["bulk"], "area": area,
                    "ul_buffer_kb": 4000.0},
                   {"name": "small", "count": 1, "services": ["ping"], "area": area}]
    d["duration_s"] = 2.0
    t = Engine(scenario_from_dict(d), policy="nearest-edge").run().requests
    svc = np.array(t.column("service").to_pylist())
    air = t.column("ul_air_ms").to_numpy()[svc == "bulk"]
    assert len(air) == 1 and np.isfinite(air[0])
    return float(air[0])


@pytest.mark.parametrize("scheduler", ["rr", "pf"])
def test_prbs_an_srs_grant_leaves_go_to_the_ue_beside_it(scheduler: str) -> None:
    """Each 12 KB ping's SR grant carries 500 bytes: the PRBs the ping would have filled go to
    the 2 MB upload beside it (RR's spare shares, PF's next grant), so the cell stays work
    conserving: beside the pings the upload takes longer than beside 100-byte ones by the
    pings' own bits over a slot's capacity (~5 U slots), within 1.5 slots. With SR grants
    sized for the whole buffer (not the 500 bytes sent), each ping's left ~half the cell idle
    and the upload took ~10 U slots longer."""
    ping_kb = 12.0
    with_pings = _bulk_beside_pings(ping_kb, scheduler)
    tiny_pings = _bulk_beside_pings(0.1, scheduler)
    slots_alone = tiny_pings / 2.5  # U slots, one per 2.5 ms pattern (DDDSU at 30 kHz)
    bits_per_slot = 2000.0 * 8e3 / slots_alone
    pings = with_pings / 20.0  # the pings sent during the upload, one every 20 ms
    expected_slots = pings * ping_kb * 8e3 / bits_per_slot
    assert expected_slots > 3.0
    assert (with_pings - tiny_pings) / 2.5 == pytest.approx(expected_slots, abs=1.5)
