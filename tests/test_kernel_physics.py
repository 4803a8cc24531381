"""The compiled kernel's scalar physics equals the pure radio and compute functions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from airan.compute import roofline
from airan.engine import kernel as K
from airan.radio import link


@pytest.mark.parametrize("min_sinr_db", [-10.0, -5.0])
def test_kernel_spectral_efficiency_equals_radio_link(min_sinr_db: float) -> None:
    sinr_db = np.linspace(-20.0, 40.0, 601)
    expected = link.spectral_efficiency(sinr_db, min_sinr_db=min_sinr_db)
    got = [K.spectral_eff(10.0 ** (x / 10.0), 10.0 ** (min_sinr_db / 10.0)) for x in sinr_db]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("kind", "p1", "p2"),
    [
        (roofline.DIST_EXPONENTIAL, 1.0, 0.0),
        (roofline.DIST_LOGNORMAL, -0.5 * math.log1p(0.3**2), math.sqrt(math.log1p(0.3**2))),
        (roofline.DIST_UNIFORM, 0.5, 1.5),
    ],
)
def test_kernel_service_factor_has_unit_mean(kind: int, p1: float, p2: float) -> None:
    rng = np.array([12345], dtype=np.uint64)
    draws = np.array([K.service_factor(kind, p1, p2, rng) for _ in range(100_000)])
    assert draws.mean() == pytest.approx(1.0, abs=0.01)
    assert K.service_factor(roofline.DIST_DETERMINISTIC, 0.0, 0.0, rng) == 1.0


def _one_cell(n_rx: int):  # type: ignore[no-untyped-def]
    """One omnidirectional 100 MHz cell, no other cell, one UE 150 m away: noise only."""
    from one_cell import one_cell_site

    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=1)
    d["radio"].update(shadowing=False, initial_load=0.0, gnb_rx_antennas=n_rx)
    d["fleets"] = [{"name": "v", "count": 1, "services": ["perception"],
                    "area": {"x_m": [150.0, 150.0], "y_m": [0.0, 0.0]}}]
    return scenario_from_dict(d)


@pytest.mark.parametrize(("n_rx", "layers", "gain"),
                         [(1, 1, 1.0), (2, 1, 2.0), (4, 1, 4.0), (8, 1, 8.0), (4, 2, 1.5),
                          (4, 4, 0.25)])
def test_uplink_sinr_per_prb_is_gain_over_thermal_noise_times_receive_combining(
        n_rx: int, layers: int, gain: float) -> None:
    """SINR per PRB and mW per layer = g * (N_rx - L + 1) / L / (kT B_PRB NF): one layer gets
    the maximum-ratio combining gain N_rx; L layers keep N_rx - L + 1 of it (zero forcing)
    and share the UE's power."""
    from airan.engine import Engine

    sc = _one_cell(n_rx)
    if layers > 1:
        d = sc.model_dump(mode="json")
        d["carrier"]["ul_layers"] = layers
        from airan.scenario import scenario_from_dict

        sc = scenario_from_dict(d)
    eng = Engine(sc, policy="nearest-edge", duration_s=0.01, seed=1)
    w = eng.world
    K.refresh_ul(eng._kw, eng._sref, 0, eng.slot)
    n_prb = 273  # 100 MHz at 30 kHz, TS 38.101-1 Table 5.3.2-1
    # thermal noise over one PRB (12 subcarriers of 30 kHz) with the gNB's 5 dB noise figure
    noise_prb_mw = 10.0 ** ((-174.0 + 10.0 * math.log10(12 * 30e3) + 5.0) / 10.0)
    expected = float(w.dev_top_gain[0, 0]) * gain / noise_prb_mw
    assert int(w.cell_prb[0]) == n_prb
    assert float(eng._st.ue_se_ul[0]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n_rx", [1, 2, 4, 8])
def test_pf_fading_over_n_receive_antennas_is_gamma_n(n_rx: int) -> None:
    """Rayleigh on each of n independent antennas, combined (MRC): the power gain is the mean
    of n unit exponentials, Gamma(shape n, scale 1/n): mean 1, variance 1/n."""
    from scipy import stats

    seed = 12345
    draws = np.array([K.rayleigh_fade(i * n_rx, seed, n_rx) for i in range(40_000)])
    assert draws.mean() == pytest.approx(1.0, abs=4 * math.sqrt(1 / n_rx / len(draws)))
    assert draws.var() == pytest.approx(1.0 / n_rx, rel=0.05)
    assert stats.kstest(draws, stats.gamma(a=n_rx, scale=1.0 / n_rx).cdf).pvalue > 1e-3


def test_more_uplink_layers_than_receive_antennas_is_an_input_error() -> None:
    from airan.errors import InputError
    from airan.scenario import scenario_from_dict

    d = _one_cell(2).model_dump(mode="json")
    d["carrier"]["ul_layers"] = 4
    with pytest.raises(InputError, match="receive antennas") as err:
        scenario_from_dict(d)
    assert err.value.field == "carrier.ul_layers"


@pytest.mark.parametrize(("n_tx", "layers", "gain"),
                         [(1, 1, 1.0), (4, 1, 4.0), (8, 1, 8.0), (4, 2, 1.5), (4, 4, 0.25),
                          (8, 4, 1.25)])
def test_downlink_precoding_gain_is_zero_forcing_with_the_power_split(
        n_tx: int, layers: int, gain: float) -> None:
    assert link.dl_precoding_gain(n_tx, layers) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize(("n_tx", "max_layers"), [(1, 1), (4, 1), (4, 2), (4, 4), (8, 8)])
def test_kernel_downlink_rank_adaptation_equals_radio_link(n_tx: int, max_layers: int) -> None:
    sinr_db = np.linspace(-25.0, 50.0, 751)
    expected, _ = link.dl_rank_adapted_se(sinr_db, n_tx, max_layers)
    got = [K.dl_rank_se(10.0 ** (x / 10.0), n_tx, max_layers, 0.1) for x in sinr_db]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_downlink_rank_is_one_at_the_cell_edge_and_the_most_layers_near_the_cell() -> None:
    """Rank 1 takes the whole precoding gain where the SINR is low; near the cell every layer
    reaches the 256QAM cap and the most layers win (TS 38.214 5.2.2.2 rank indicator)."""
    se, rank = link.dl_rank_adapted_se(np.array([-10.0, -5.0, 60.0]), 4, 4)
    assert list(rank) == [1, 1, 4]
    # the edge: one layer with 4x (6 dB): 0.75 log2(1 + 4 * 0.1 / 1.25)
    assert se[0] == pytest.approx(0.75 * math.log2(1.0 + 0.4 / 1.25), rel=1e-12)
    assert se[2] == pytest.approx(4 * link.MAX_SE_256QAM, rel=1e-12)
    # every rank in between is somewhere the best, and the sum over layers never falls
    x = np.linspace(-20.0, 60.0, 2001)
    se_all, rank_all = link.dl_rank_adapted_se(x, 4, 4)
    assert set(rank_all) == {1, 2, 3, 4}
    assert np.all(np.diff(rank_all) >= 0) and np.all(np.diff(se_all) >= 0)


@pytest.mark.parametrize(("n_tx", "max_layers"), [(1, 1), (4, 1), (4, 2), (4, 4)])
def test_downlink_se_is_rank_adapted_over_the_ues_thermal_snr(n_tx: int, max_layers: int) -> None:
    """The UE's downlink SE = max over L of L SE(P g (n_tx - L + 1) / L / (kT B NF_UE)), with
    the cell's 46 dBm over 100 MHz and the UE's 9 dB noise figure, no other cell."""
    from airan.engine import Engine
    from airan.scenario import scenario_from_dict

    d = _one_cell(4).model_dump(mode="json")
    d["radio"]["gnb_tx_antennas"] = n_tx
    d["carrier"]["dl_layers"] = max_layers
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=1)
    eng._st.ue_se_slot_dl[0] = -1  # due now
    K.refresh_dl(eng._kw, eng._sref, 0, eng.slot)
    noise_mw = 10.0 ** ((-174.0 + 10.0 * math.log10(273 * 12 * 30e3) + 9.0) / 10.0)
    snr = 10.0 ** (46.0 / 10.0) * float(eng.world.dev_top_gain[0, 0]) / noise_mw
    best = max(n * min(0.75 * math.log2(1.0 + snr * (n_tx - n + 1) / n / 1.25),
                       link.MAX_SE_256QAM) for n in range(1, max_layers + 1))
    assert float(eng._st.ue_se_dl[0]) == pytest.approx(best, rel=1e-9)


def test_more_downlink_layers_than_transmit_antennas_is_an_input_error() -> None:
    from airan.errors import InputError
    from airan.scenario import scenario_from_dict

    d = _one_cell(4).model_dump(mode="json")
    d["radio"]["gnb_tx_antennas"] = 2
    d["carrier"]["dl_layers"] = 4
    with pytest.raises(InputError, match="transmit antennas") as err:
        scenario_from_dict(d)
    assert err.value.field == "carrier.dl_layers"


def test_air_legs_end_at_the_end_of_the_slot_that_carries_the_last_bits() -> None:
    """A transport block spans its slot's symbols (TS 38.214 6.1.2.1, 5.1.2.1): an upload is
    decoded at the end of a U slot, an answer received at the end of a D slot or of the
    downlink symbols of an S slot (10 of 14 in this model); never mid-slot."""
    import airan

    res = airan.run("factory", policy="deadline-aware", duration_s=1.0, seed=4)
    sc = airan.load_scenario("factory")
    slot = 1e-3 / 2 ** sc.carrier.numerology
    pattern = sc.carrier.tdd_pattern
    t = res.requests
    ok = np.array([o in ("met", "late") for o in t.column("outcome").to_pylist()])
    place = np.array(t.column("placement").to_pylist())
    remote = ok & (place != "local")
    created = t.column("created_s").to_numpy()[remote]

    def ms(col: str) -> np.ndarray:
        return t.column(col).to_numpy(zero_copy_only=False)[remote] * 1e-3

    ul_done = created + ms("ul_wait_ms") + ms("ul_air_ms")
    k_ul = np.rint(ul_done / slot).astype(int)
    assert remote.sum() > 500
    np.testing.assert_allclose(ul_done, k_ul * slot, atol=1e-9)
    assert {pattern[(k - 1) % len(pattern)] for k in k_ul} == {"U"}  # the slot just ended
    done = created + t.column("latency_ms").to_numpy()[remote] * 1e-3
    k_dl = np.floor(done / slot + 1e-6).astype(int)
    frac = done / slot - k_dl
    end_of_d = np.isclose(frac, 0.0, atol=1e-6) & np.array(
        [pattern[(k - 1) % len(pattern)] == "D" for k in k_dl])
    end_of_s = np.isclose(frac, 10 / 14, atol=1e-6) & np.array(
        [pattern[k % len(pattern)] == "S" for k in k_dl])
    assert np.all(end_of_d | end_of_s)
    assert end_of_d.any() and end_of_s.any()


def _far_interference(quiet: int = 0) -> tuple[Any, float, float]:
    """Four cell-edge UEs of cell ``bs`` sending more than their PRBs carry (and ``quiet``
    devices beside the base station that upload nothing): the engine after 0.5 s, cell
    ``far``'s interference sum as refresh_ul takes it (the loads now times the couplings, mW),
    and the four's full powers times their gains to ``far`` (mW)."""
    from one_cell import one_cell_site

    from airan.engine import Engine
    from airan.engine import kernel as K
    from airan.scenario import scenario_from_dict

    d = one_cell_site(sectors=1)
    d["cell_sites"].append({"name": "far", "position_m": [900.0, 0.0], "sectors": 1})
    d["radio"].update(shadowing=False, initial_load=0.0, load_time_constant_ms=5.0)
    d["fleets"] = [{"name": "edge", "count": 4, "services": ["bulk"], "ul_buffer_kb": 1e5,
                    "area": {"x_m": [380.0, 380.0], "y_m": [0.0, 0.0]}}]
    d["services"] = [{"name": "bulk", "model": "yolov8n", "rate_hz": 100, "ul_kb": 500.0,
                      "dl_kb": 0.1, "deadline_ms": 1000}]
    if quiet:
        d["fleets"].append({"name": "quiet", "count": quiet, "services": ["listen"],
                            "area": {"center_m": [40.0, 0.0], "radius_m": 20.0}})
        d["services"].append({"name": "listen", "model": "yolov8n", "rate_hz": 1,
                              "ul_kb": 0.0, "dl_kb": 1.0, "deadline_ms": 1000})
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.5, seed=1)
    eng.run()
    w = eng.world
    near, far = (w.cell_names.index(n) for n in ("bs", "far"))
    assert (w.dev_cell == near).all()
    to_far = np.array([w.dev_top_gain[u, list(w.dev_top_cell[u]).index(far)] for u in range(4)])
    rows = slice(w.ul_int_ptr[far], w.ul_int_ptr[far + 1])
    loads = K._ul_loads_now(eng._kw, eng._sref)
    got_mw = float(np.sum(loads[w.ul_int_src[rows]] * w.ul_int_mw[rows]))
    return eng, got_mw, PC3_MW * float(to_far.sum())


PC3_MW = 10 ** (23 / 10)


def test_uplink_interference_adds_the_full_power_of_every_power_limited_ue_sharing_a_cell() -> None:
    """Four cell-edge UEs of cell ``near``, each with more to send than its 68 PRBs carry and
    each at its 23 dBm limit (TS 38.213 7.1.1: the open-loop power per PRB times its PRBs is
    above P_CMAX), transmit together in every U slot: cell ``far`` receives the sum of their
    full powers, 4 x 200 mW x g(ue -> far), not one UE's power spread over the carrier."""
    eng, got_mw, four_mw = _far_interference()
    w = eng.world
    near = w.cell_names.index("bs")
    assert (w.dev_ul_p_prb_mw * w.cell_prb[near] / 4 > PC3_MW).all()  # power-limited
    assert eng._st.pow_ul[near] == pytest.approx(4.0, rel=0.01)  # four full powers
    assert got_mw == pytest.approx(four_mw, rel=0.01)


def test_a_device_that_sends_nothing_adds_no_uplink_interference() -> None:
    """As above, with 60 devices beside the base station that upload nothing (a downlink-only
    service): far's interference is still the four senders' full powers. The UEs on a cell's
    PRBs are the ones that send (a port's review: 300 yard sensors at 0.1 Hz, averaged in
    alike, lowered the mean coupling of the crane cameras that carried the uplink, and raised
    their SINR by up to 3.2 dB)."""
    _, got_mw, four_mw = _far_interference(quiet=60)
    assert got_mw == pytest.approx(four_mw, rel=0.01)


def test_uplink_coupling_weights_each_ue_by_the_bits_it_offers() -> None:
    """Cell 0's UEs A and B offer 3 and 1 Mbit/s: the coupling into cell 1 is their full powers
    times their gains weighted 3:1, and so is the cell's mean power; cell 1's UEs offer none,
    so they count alike."""
    from airan.engine.world import _uplink_coupling

    dev_cell = np.array([0, 0, 1, 1])
    top_cell = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    gain = np.array([[1e-9, 4e-12], [1e-9, 1e-12], [1e-9, 2e-12], [1e-9, 6e-12]])
    p_full = np.array([100.0, 20.0, 50.0, 150.0])
    ptr, src, val, pref = _uplink_coupling(dev_cell, top_cell, gain, p_full, np.full(4, 200.0),
                                           np.zeros(2, np.int64), np.ones((1, 1)),
                                           np.array([3e6, 1e6, 0.0, 0.0]))
    into = {(c, int(src[q])): float(val[q]) for c in range(2) for q in range(ptr[c], ptr[c + 1])}
    assert into[1, 0] == pytest.approx((3 * 100.0 * 4e-12 + 1 * 20.0 * 1e-12) / 4, rel=1e-12)
    assert into[0, 1] == pytest.approx((50.0 * 2e-12 + 150.0 * 6e-12) / 2, rel=1e-12)
    assert pref == pytest.approx([(3 * 100.0 + 20.0) / 4, (50.0 + 150.0) / 2], rel=1e-12)
