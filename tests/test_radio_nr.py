"""NR numerology, N_RB table, TDD parsing, rate arithmetic (TS 38.211/38.101-1/38.306)."""

import numpy as np
import pytest

from airan.radio.nr import (
    MAX_SE_64QAM,
    MAX_SE_256QAM,
    OVERHEAD_DL_FR1,
    OVERHEAD_UL_FR1,
    SCS_KHZ,
    bits_per_prb_per_slot,
    mean_slot_wait_s,
    n_prb,
    parse_tdd_pattern,
    peak_rate_bps,
    slot_duration_s,
    slot_usable,
    sr_grant_wait_s,
    sr_offset_slots,
    sr_period_slots,
    thermal_noise_dbm,
)


def test_numerology():
    assert SCS_KHZ == {0: 15, 1: 30, 2: 60, 3: 120, 4: 240}
    assert [slot_duration_s(mu) for mu in range(5)] == pytest.approx(
        [1e-3, 0.5e-3, 0.25e-3, 0.125e-3, 0.0625e-3]
    )
    with pytest.raises(ValueError):
        slot_duration_s(5)


@pytest.mark.parametrize(
    ("bw", "mu", "expected"),
    [
        (100, 1, 273),
        (20, 0, 106),
        (50, 1, 133),
        (40, 1, 106),
        (20, 1, 51),
        (10, 0, 52),
        (100, 2, 135),
        (5, 0, 25),
        (50, 0, 270),
        (60, 1, 162),
        (100.0, 1, 273),
    ],
)
def test_n_prb_table(bw, mu, expected):
    assert n_prb(bw, mu) == expected


@pytest.mark.parametrize(("bw", "mu"), [(100, 0), (5, 2), (33, 1), (20.5, 0), (100, 4)])
def test_n_prb_invalid(bw, mu):
    with pytest.raises(ValueError, match=f"mu={mu}"):
        n_prb(bw, mu)


@pytest.mark.parametrize(("bw", "mu", "expected"), [
    (50, 2, 66), (100, 2, 132), (200, 2, 264),  # TS 38.101-2 Table 5.3.2-1, 60 kHz
    (50, 3, 32), (100, 3, 66), (200, 3, 132), (400, 3, 264),  # 120 kHz
])
def test_n_prb_fr2_follows_ts_38_101_2(bw, mu, expected):
    assert n_prb(bw, mu, fr2=True) == expected


def test_n_prb_at_60_khz_differs_between_fr1_and_fr2():
    assert n_prb(100, 2) == n_prb(100, 2, fr2=False) == 135  # TS 38.101-1
    assert n_prb(100, 2, fr2=True) == 132
    with pytest.raises(ValueError, match="FR1"):
        n_prb(200, 2)  # no 200 MHz carrier in FR1


def test_overheads_follow_ts_38_306_per_frequency_range():
    from airan.radio.nr import FR2_MIN_GHZ, is_fr2, overheads

    assert overheads(3.5) == (0.14, 0.08)
    assert overheads(28.0) == (0.18, 0.10)
    assert not is_fr2(7.125) and is_fr2(FR2_MIN_GHZ) and FR2_MIN_GHZ == 24.25


def test_an_fr2_carrier_gets_its_own_prbs_and_overheads():
    from one_cell import one_cell_site

    from airan.engine.world import build_world
    from airan.scenario import scenario_from_dict

    d = one_cell_site()
    d["carrier"].update(band="n257", fc_ghz=28.0, bandwidth_mhz=100, numerology=3,
                        tdd_pattern="DDDSU")
    w = build_world(scenario_from_dict(d), 1)
    assert (w.cell_prb == 66).all()
    assert w.cell_bits_per_prb_dl[0] == pytest.approx(12 * 14 * (1 - 0.18))
    assert w.cell_bits_per_prb_ul[0] == pytest.approx(12 * 14 * (1 - 0.10))


def test_parse_tdd_pattern():
    out = parse_tdd_pattern("DDDSU")
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(parse_tdd_pattern("ddsuu"), [0, 0, 1, 2, 2])
    for bad in ("", "DDXU", "DD SU", "F"):
        with pytest.raises(ValueError):
            parse_tdd_pattern(bad)
    from airan.radio.nr import SLOT_BOTH, slot_types

    np.testing.assert_array_equal(slot_types("DDDSU"), out)
    np.testing.assert_array_equal(slot_types(None), [SLOT_BOTH])  # FDD: both links every slot


@pytest.mark.parametrize(("usable", "to_start_slots", "to_end_slots"), [
    ([1.0], 0.5, 1.5),  # FDD: half a slot, then the slot
    ([0, 0, 0, 0, 1], 2.5, 3.5),  # DDDSU uplink: one U slot in five
    ([0, 0, 0, 1, 1], 1.7, 2.7),  # DDSUU uplink: (4**2/2 + 1/2) / 5, then the slot
    ([1, 1, 1, 10 / 14, 0], 0.7, 0.7 + (2 + 1 + 1 + 10 / 14) / 5),  # DDDSU downlink
])
def test_mean_slot_wait_matches_hand_computed_tdd_patterns(usable, to_start_slots, to_end_slots):
    slot_s = 0.5e-3
    to_start, to_end = mean_slot_wait_s(usable, slot_s)
    assert to_start == pytest.approx(to_start_slots * slot_s, rel=1e-12)
    assert to_end == pytest.approx(to_end_slots * slot_s, rel=1e-12)


@pytest.mark.parametrize("pattern", ["DDDSU", "DDSUU", "DSUUU", "DDDDDDDSUU"])
def test_mean_slot_wait_is_the_mean_over_uniformly_spread_instants(pattern):
    """Brute force: a million instants over the pattern, each waiting for the first usable
    slot that starts at or after it (the downlink, S slots carrying 10 of 14 symbols)."""
    slot_s = 0.5e-3
    codes = parse_tdd_pattern(pattern)
    usable = np.where(codes == 0, 1.0, np.where(codes == 1, 10 / 14, 0.0))
    period = len(codes) * slot_s
    t = (np.arange(1_000_000) + 0.5) / 1_000_000 * period
    starts = np.flatnonzero(usable > 0)
    starts = np.r_[starts, starts + len(codes)]  # the next period's, for the last instants
    nxt = starts[np.searchsorted(starts * slot_s, t - 1e-15)]
    wait = nxt * slot_s - t
    end = wait + usable[nxt % len(codes)] * slot_s
    to_start, to_end = mean_slot_wait_s(usable, slot_s)
    assert to_start == pytest.approx(wait.mean(), rel=1e-5)
    assert to_end == pytest.approx(end.mean(), rel=1e-5)


def _ul_usable(pattern: str | None) -> np.ndarray:
    codes = parse_tdd_pattern(pattern) if pattern else np.array([3], dtype=np.int8)
    return slot_usable(codes)[0]


@pytest.mark.parametrize(("slot_ms", "period_ms", "slots"), [
    (0.5, 0.25, 1), (0.5, 0.5, 1), (0.5, 1.0, 2), (0.5, 5.0, 10), (0.125, 80.0, 640),
    (1.0, 5.0, 5), (0.5, 0.7, 0), (0.5, 5.2, 0),
])
def test_sr_period_in_slots_is_whole_or_every_slot_or_off_the_grid(slot_ms, period_ms, slots):
    """TS 38.331 periods are 1-640 slots or 2 or 7 symbols (taken as every slot); anything else
    is off the slot grid (0)."""
    assert sr_period_slots(slot_ms * 1e-3, period_ms * 1e-3) == slots


@pytest.mark.parametrize(("pattern", "slot_ms", "period_ms", "expected"), [
    ("DDDSU", 0.5, 5.0, [4, 9]),  # the U slots of a 10-slot period
    ("DDDSU", 0.5, 2.5, [4]),
    # every 2 slots: offset 0 meets U slot 4, offset 1 U slot 9 (the rest are not sent)
    ("DDDSU", 0.5, 1.0, [0, 1]),
    ("DDSUU", 0.5, 5.0, [3, 4, 8, 9]),
    (None, 1.0, 5.0, [0, 1, 2, 3, 4]),  # FDD: every slot has uplink
    ("DDDSU", 0.5, 0.7, None),  # not a whole number of slots
    ("DDDSU", 0.5, 0.25, [0]),  # shorter than a slot: every slot
])
def test_sr_offsets_are_the_slots_whose_occasions_meet_an_uplink_slot(pattern, slot_ms,
                                                                      period_ms, expected):
    got = sr_offset_slots(_ul_usable(pattern), slot_ms * 1e-3, period_ms * 1e-3)
    assert (got is None) if expected is None else got.tolist() == expected


@pytest.mark.parametrize(("pattern", "slot_ms", "period_ms", "grant_ms", "to_start_ms"), [
    # half a period to the occasion (on a U slot), then from U slot 4 (9) the grant reaches
    # slot 8 (13), an S slot, and the data goes in U slot 9 (14): 2.5 + 2.5 ms
    ("DDDSU", 0.5, 5.0, 2.0, 5.0),
    # a 2-slot period, but only the occasions on U slots 4 and 9 are sent: the same as above
    ("DDDSU", 0.5, 1.0, 2.0, 5.0),
    # from U slots 3, 4, 8, 9 the grant reaches 7 (S), 8 (U), 12 (S), 13 (U): 5, 4, 5, 4 slots
    ("DDSUU", 0.5, 5.0, 2.0, 2.5 + 2.25),
    # from U slots 8 and 9, slots 12 and 13 are D: the next U slots are 18 and 18
    ("DDDDDDDSUU", 0.5, 5.0, 2.0, 2.5 + 4.75),
    # FDD: the grant ends on a slot start (2 ms), or in a slot (1.5 ms) that it then waits out
    (None, 1.0, 5.0, 2.0, 2.5 + 2.0),
    (None, 1.0, 5.0, 1.5, 2.5 + 2.0),
    (None, 0.5, 1.0, 2.0, 0.5 + 2.0),
    # occasions off the slot grid: uniform over the period, then the mean wait for a U slot
    ("DDDSU", 0.5, 0.7, 2.0, 0.35 + 2.0 + 1.25),
    # a period of a few symbols: an occasion in every slot, sent in U slot 4 only (2.5 slots
    # away on average), then as from U slot 4 above
    ("DDDSU", 0.5, 0.25, 2.0, 1.25 + 2.5),
    # 4 ms (8 slots) on DDDSU: one occasion in five lands on U slot 4, every 20 ms
    ("DDDSU", 0.5, 4.0, 2.0, 10.0 + 2.5),
])
def test_sr_grant_wait_matches_hand_computed_configurations(pattern, slot_ms, period_ms,
                                                           grant_ms, to_start_ms):
    """From a uniform instant to the uplink slot the grant allows (TS 38.213 9.2.4, 11.1); the
    data is decoded at that slot's end, one slot later (all slots here are whole U slots)."""
    to_start, to_end = sr_grant_wait_s(_ul_usable(pattern), slot_ms * 1e-3, period_ms * 1e-3,
                                       grant_ms * 1e-3)
    assert to_start == pytest.approx(to_start_ms * 1e-3, rel=1e-12)
    assert to_end == pytest.approx((to_start_ms + slot_ms) * 1e-3, rel=1e-12)


@pytest.mark.parametrize("bad", [[], [0.0, 0.0], [1.5], [-0.1, 1.0], [[1.0]]])
def test_mean_slot_wait_rejects_a_pattern_without_a_usable_slot(bad):
    with pytest.raises(ValueError, match="usable"):
        mean_slot_wait_s(bad, 1e-3)


def test_bits_per_prb_per_slot():
    # 7.4063 * 12 * 14 * (1 - 0.14) * 2
    assert float(bits_per_prb_per_slot(7.4063, 0.14, 2)) == pytest.approx(
        7.4063 * 12 * 14 * 0.86 * 2
    )
    out = bits_per_prb_per_slot(np.array([[0.0, 1.0], [2.0, 3.0]]), 0.08)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, np.array([[0, 1], [2, 3]]) * 12 * 14 * 0.92)


def test_peak_rate_matches_38306():
    # 4 layers * 8 bits * 948/1024 * 273 * 12 / (1e-3 / (14 * 2)) * (1 - 0.14)
    expected = 4 * 8 * (948 / 1024) * 273 * 12 / (1e-3 / 28) * 0.86
    r = peak_rate_bps(273, 1, 4)
    assert r == pytest.approx(expected, rel=1e-12)
    assert r == pytest.approx(2.337e9, rel=1e-3)
    # UL, 1 layer, 64QAM
    expected_ul = 1 * 6 * (948 / 1024) * 273 * 12 / (1e-3 / 28) * 0.92
    assert peak_rate_bps(273, 1, 1, qm=6, overhead=OVERHEAD_UL_FR1) == pytest.approx(expected_ul)
    # one slot of peak rate equals bits_per_prb_per_slot at the 256QAM max SE (8 * 948/1024)
    per_slot = peak_rate_bps(273, 1, 4) * slot_duration_s(1)
    se = 8 * 948 / 1024
    assert per_slot == pytest.approx(float(bits_per_prb_per_slot(se, 0.14, 4)) * 273)


def test_thermal_noise():
    # 100 MHz, NF 5 dB: -174 + 80 + 5
    assert thermal_noise_dbm(100e6, 5.0) == pytest.approx(-89.0)
    assert isinstance(thermal_noise_dbm(100e6, 5.0), float)
    out = thermal_noise_dbm(np.array([20e6, 100e6]), 7.0)
    np.testing.assert_allclose(out, [-174 + 10 * np.log10(20e6) + 7, -174 + 80 + 7])


def test_constants():
    assert OVERHEAD_DL_FR1 == 0.14
    assert OVERHEAD_UL_FR1 == 0.08
    assert MAX_SE_256QAM == 7.4063
    assert MAX_SE_64QAM == 5.5547


@pytest.mark.parametrize(("pattern", "mu", "ul_ms", "dl_ms"), [
    # DDDSU at 30 kHz (slots of 0.5 ms, symbols of 0.5/14 ms; N1 = 10, N2 = 12 symbols; a
    # NACK goes in a U slot's PUCCH from its first symbol, or in an S slot's short PUCCH in its
    # last two symbols, N1 or more after the PDSCH (TS 38.214 5.3)):
    # uplink in slot 4 fails at 2.5 ms; the gNB, N2 later (2.93 ms), grants in slot 6 (D,
    # 3.0 ms); the UE needs 2 + 12 symbols after 3.0 ms (3.5 ms): U slot 9, decoded at 5.0 ms
    # -> 2.5 ms. Downlink in slot 0 ends at 0.5 ms; NACK in the first slot with uplink symbols
    # starting N1 later (the S slot 3, 1.5-2.0 ms); the gNB, N2 after 2.0 ms, retransmits in
    # slot 5, ending 3.0 ms -> 2.5 ms; slot 1 (ends 1.0): NACK in slot 3 too -> 2.0; slot 2
    # (ends 1.5, N1 later 1.857): slot 3's short PUCCH starts at 1.5 + 12 symbols = 1.929, so
    # the NACK goes there too; retransmission in slot 5 (2.0 + N2 = 2.43 -> 2.5-3.0) -> 1.5;
    # the S slot's downlink part ends at 1.5 + 0.5 * 10/14 ms, N1 later is past slot 4's start:
    # NACK in slot 8 (S), retransmission in slot 10 (5.0-5.5 ms)
    ("DDDSU", 1, [2.5], [2.5, 2.0, 1.5, 5.5 - (1.5 + 0.5 * 10 / 14)]),
    # DDSUU: slot 3 fails at 2.0; grant in slot 5 (2.5 >= 2.43), retransmission in U slot 8
    # (start 4.0 >= 3.0 + 0.5), decoded at 4.5 -> 2.5; slot 4 fails at 2.5, grant in slot 6,
    # retransmission in slot 8 -> 2.0. Downlink slot 0: NACK in the S slot 2 (its PUCCH at
    # 1.43 >= 0.86), retransmission in slot 5 (2.5 >= 1.93) -> 2.5; slot 1 (ends 1.0, N1 later
    # 1.357): NACK in slot 2's short PUCCH (1.429), retransmission in slot 5 -> 2.0. The S
    # slot's downlink part ends at 1.357 ms; its own PUCCH (1.43) is before 1.357 + N1 = 1.714,
    # slot 3's start too: NACK in slot 4 (starts 2.0); retransmission in slot 6 (3.0 >= 2.93),
    # ending 3.5 ms
    ("DDSUU", 1, [2.5, 2.0], [2.5, 2.0, 3.5 - (1.0 + 0.5 * 10 / 14)]),
    # FDD at 15 kHz (slots of 1 ms; N1 = 8, N2 = 10 symbols): uplink fails at the end of slot
    # j; grant in slot j + 2 (j + 1 + 10/14 rounded up to a slot start); retransmission in slot
    # j + 3 (after j + 2 + 12/14), decoded at its end: 3 ms. Downlink: NACK in slot j + 2,
    # retransmission in j + 4, received at its end: 4 ms
    (None, 0, [3.0], [4.0]),
    # FDD at 120 kHz (slots of 0.125 ms; N1 = 20, N2 = 36 symbols, TS 38.214 Tables 5.3-1 and
    # 6.4-1): uplink fails at the end of slot j (j + 1); grant after j + 1 + 36/14 = j + 3.57:
    # slot j + 4; retransmission after j + 4 + 38/14 = j + 6.71: slot j + 7, decoded at j + 8
    # -> 7 slots. Downlink: NACK after j + 1 + 20/14 = j + 2.43: slot j + 3; retransmission
    # after its end + 36/14 = j + 6.57: slot j + 7, received at j + 8 -> 7 slots
    (None, 3, [7 * 0.125], [7 * 0.125]),
    # DDDSU at 120 kHz: uplink slot 4 fails at 5; grant after 7.57: slot 8 (S); retransmission
    # after 8 + 38/14 = 10.71: U slot 14, decoded at 15 -> 10 slots. Downlink slot 0 (ends 1):
    # NACK at or after 2.43: slot 3's short PUCCH (3.86); retransmission after 4 + 36/14 =
    # 6.57: slot 7 -> ends 8, 7 slots; slot 1 (ends 2, N1 later 3.43): slot 3 too -> 6 slots;
    # slot 2 (ends 3, N1 later 4.43): slot 3's PUCCH and slot 4's start are before it, so slot
    # 8 (S, 8.86); retransmission after 9 + 2.57: slot 12 -> ends 13, 10 slots; the S slot's
    # downlink part ends at 3 + 10/14, N1 later 5.14: NACK in slot 8, retransmission in 12
    ("DDDSU", 3, [10 * 0.125], [7 * 0.125, 6 * 0.125, 10 * 0.125,
                                (13 - (3 + 10 / 14)) * 0.125]),
    # DDSUU at 120 kHz: uplink slot 3 fails at 4; grant after 6.57: slot 7 (S); retransmission
    # after 9.71: U slot 13 -> 10 slots; slot 4 fails at 5; grant after 7.57: slot 10 (the
    # next with downlink symbols); retransmission after 12.71: slot 13 -> 9 slots. Downlink
    # slot 0 (ends 1, N1 later 2.43): NACK in slot 2's short PUCCH (2.86); retransmission after
    # 3 + 2.57: slot 6 -> 6 slots; slot 1 (ends 2, N1 later 3.43): NACK in U slot 4 (4.0);
    # retransmission after 5 + 2.57: slot 10 -> 9 slots; the S slot's downlink part ends at
    # 2 + 10/14, N1 later 4.14, past slot 4's start: NACK in slot 7 (S, 7.86), retransmission
    # in slot 11, ending 12 (an N1 of 17 symbols would make slot 4 and slot 10 of it)
    ("DDSUU", 3, [10 * 0.125, 9 * 0.125], [6 * 0.125, 9 * 0.125, (12 - (2 + 10 / 14)) * 0.125]),
])
def test_harq_retransmission_delays_match_the_hand_computed_timeline(pattern, mu, ul_ms, dl_ms):
    from airan.radio.nr import harq_retx_delay_s, slot_usable

    codes = parse_tdd_pattern(pattern) if pattern else np.array([3], dtype=np.int8)
    ul, dl = harq_retx_delay_s(*slot_usable(codes), slot_duration_s(mu), mu)
    np.testing.assert_allclose(ul[np.isfinite(ul)] * 1e3, ul_ms, rtol=1e-9)
    np.testing.assert_allclose(dl[np.isfinite(dl)] * 1e3, dl_ms, rtol=1e-9)


def test_harq_mean_extra_is_the_geometric_sum_of_retransmissions():
    from airan.radio.nr import harq_mean_extra_s

    # one slot of the direction in five, each retransmission one pattern later: p, p^2, ...
    u, k = [0.0, 0.0, 0.0, 0.0, 1.0], [-1, -1, -1, -1, 5]
    assert harq_mean_extra_s(u, k, 0.5e-3, 0.1, 3) == pytest.approx(2.5e-3 * 0.111, rel=1e-12)
    assert harq_mean_extra_s(u, k, 0.5e-3, 0.0, 3) == 0.0
    assert harq_mean_extra_s(u, k, 0.5e-3, 0.5, 0) == 0.0


def test_harq_mean_extra_weighs_slots_by_their_share_and_follows_each_retransmission():
    """Slots 0 and 1 of a 3-slot pattern carry the direction; a block failed in slot 0 goes
    again 3 slots on (slot 0 again), one failed in slot 1, 2 slots on (slot 0). Slot 0 carries
    what arrives in 2 of the 3 slots (since slot 1), slot 1 the rest. With p = 0.1, two
    retransmissions at most, 1 ms slots: from slot 0, 0.1 (3 + 0.1 x 3) = 0.33 ms; from slot 1,
    0.1 (2 + 0.1 x 3) = 0.23 ms; the mean (2 x 0.33 + 0.23) / 3 ms (an equal weight per slot
    with one delay per slot, as before: 0.1 x 1.1 x 2.5 = 0.275 ms)."""
    from airan.radio.nr import harq_mean_extra_s

    got = harq_mean_extra_s([1.0, 1.0, 0.0], [3, 2, -1], 1e-3, 0.1, 2)
    assert got == pytest.approx((2 * 0.33 + 0.23) / 3 * 1e-3, rel=1e-12)



def test_harq_mean_extra_counts_a_partial_slots_own_end_on_dddsu():
    """DDDSU at 30 kHz, the downlink: a block is received at the end of its slot's downlink
    part, so a failure in the S slot (10 of 14 symbols) resent in the next D slot 7 slots on
    waits 7 + 1 - 10/14 slots, 3.643 ms (as the hand timeline above); from D slots 0, 1 and 2,
    2.5, 2.0 and 1.5 ms. Slot 0 carries what arrives in 2 slots (since the S slot), the others
    1: with p = 0.1 and one retransmission, 0.1 x (2 x 2.5 + 2.0 + 1.5 + 3.643) / 5 ms."""
    from airan.radio.nr import harq_mean_extra_s

    u, k = [1.0, 1.0, 1.0, 10 / 14, 0.0], [5, 4, 3, 7, -1]
    expected = 0.1 * (2 * 2.5 + 2.0 + 1.5 + (7 + 1 - 10 / 14) * 0.5) / 5 * 1e-3
    assert harq_mean_extra_s(u, k, 0.5e-3, 0.1, 1) == pytest.approx(expected, rel=1e-12)
