"""Proportional fair against closed forms: the multiuser diversity gain of scheduling the UE at
its fading peak (Tse & Viswanath 2005, 6.6), and the equal shares PF gives symmetric UEs.

One cell, no interference, no HARQ failures, configured grants; N identical UEs (the world's
gains and powers of the first copied to all) with full buffers. Each U slot PF grants the cell
to the UE with the best rate / average-throughput metric; for identical UEs with long averages
that is the UE with the strongest fade, so the cell carries E[n x SE(rho x max_i h_i)] bits
per slot x 12 x 14 x (1 - 0.08), with h_i independent Gamma(M, 1/M) (Rayleigh fading combined
over the cell's M receive antennas). The expectation is integrated numerically from the
order statistic's density N F(h)^(N-1) f(h), independently of the kernel's draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site
from scipy import integrate, stats

import airan.engine.engine as engine_module
from airan.engine import Engine
from airan.scenario import scenario_from_dict

SNR_PER_PRB_DB = 8.0  # mean SINR on each PRB (moderate: the SE cap is not reached)
KB, PERIOD_S, DURATION_S = 100.0, 0.02, 12.0  # 40 Mbit/s offered per UE: buffers never empty
BITS_PER_PRB_SE = 12 * 14 * (1 - 0.08)  # TS 38.306 4.1.2, FR1 uplink overhead


def _se(snr: np.ndarray | float) -> np.ndarray:
    """Attenuated Shannon with the cap (docs/model.md row 'SINR, SE')."""
    return np.minimum(0.75 * np.log2(1.0 + np.asarray(snr) / 1.25), 7.4063)


def _every_ue_the_first_ones_twin(monkeypatch: pytest.MonkeyPatch,
                                   snr_db: Any = SNR_PER_PRB_DB) -> None:
    """Worlds built from now on give every UE the first one's gains and cell, and a power per
    PRB that puts ``snr_db`` on each PRB (one figure for all, or one per UE)."""
    build = engine_module.build_world

    def identical(*args: Any, **kwargs: Any) -> Any:
        w = build(*args, **kwargs)
        w.dev_top_gain[:] = w.dev_top_gain[0]
        w.dev_top_cell[:] = w.dev_top_cell[0]
        c = w.dev_top_cell[0, 0]
        per_mw = w.dev_top_gain[0, 0] * w.cell_prb[c] * w.cell_ul_rx_gain[c] / w.ul_noise_mw[c]
        w.dev_ul_p_prb_mw[:] = 10 ** (np.asarray(snr_db, dtype=float) / 10) / per_mw
        return w

    monkeypatch.setattr(engine_module, "build_world", identical)


def _run(n_ue: int, scheduler: str, monkeypatch: pytest.MonkeyPatch,
         snr_db: Any = SNR_PER_PRB_DB) -> tuple[Any, Any]:
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler=scheduler, ul_access="configured_grant",
                      shadowing=False)
    d["fleets"] = [{"name": "ue", "count": n_ue, "services": ["perception"],
                    "area": {"x_m": [100.0, 100.01], "y_m": [0.0, 0.01]}}]
    d["services"][0].update(ul_kb=KB, dl_kb=0.1, rate_hz=1.0 / PERIOD_S, arrivals="periodic",
                            jitter_ms=0.0, deadline_ms=60_000.0)
    d["duration_s"] = DURATION_S
    _every_ue_the_first_ones_twin(monkeypatch, snr_db)
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=3)
    return eng.world, eng.run().requests


def _delivered_mbps(t: Any) -> tuple[float, np.ndarray]:
    """The cell's uplink throughput over the run's second half, from the uploads that ended in
    it, and each UE's count of them."""
    air = t.column("ul_air_ms").to_numpy(zero_copy_only=False)
    end = (t.column("created_s").to_numpy() + (t.column("ul_wait_ms").to_numpy(
        zero_copy_only=False) + air) * 1e-3)
    dev = t.column("device").to_numpy()
    t0, t1 = DURATION_S / 2, DURATION_S - 1.0
    won = np.isfinite(end) & (end >= t0) & (end < t1)
    return won.sum() * KB * 8e3 / (t1 - t0) / 1e6, np.bincount(dev[won])


def _max_fade_mean_se(n_ue: int, order: int, snr: float) -> float:
    """E[SE(snr x max of n_ue Gamma(order, 1/order) draws)], by quadrature."""
    g = stats.gamma(order, scale=1.0 / order)

    def f(h: float) -> float:
        return float(_se(snr * h)) * n_ue * g.cdf(h) ** (n_ue - 1) * g.pdf(h)

    return integrate.quad(f, 0.0, np.inf, limit=200)[0]


@pytest.mark.parametrize("n_ue", [1, 4])
def test_pf_carries_the_mean_rate_at_the_best_ues_fade(
        n_ue: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """One UE alone sends at E[SE(rho h)] (below SE(rho): fading costs it); four send at the
    strongest of four fades, above SE(rho): the multiuser diversity gain."""
    w, t = _run(n_ue, "pf", monkeypatch)
    c = int(w.dev_top_cell[0, 0])
    prbs, snr = float(w.cell_prb[c]), 10 ** (SNR_PER_PRB_DB / 10)
    assert w.dev_ul_p_prb_mw[0] * prbs < w.dev_ue_tx_mw[0]  # all PRBs at the open-loop power
    order = int(w.cell_ul_diversity[c])
    u_slots_per_s = 1e3 / 2.5  # DDDSU at 30 kHz
    expected = prbs * _max_fade_mean_se(n_ue, order, snr) * BITS_PER_PRB_SE * u_slots_per_s
    mbps, per_ue = _delivered_mbps(t)
    assert mbps == pytest.approx(expected / 1e6, rel=0.03)
    flat = prbs * float(_se(snr)) * BITS_PER_PRB_SE * u_slots_per_s / 1e6
    assert (mbps < flat) if n_ue == 1 else (mbps > 1.1 * flat)
    if n_ue > 1:  # symmetric UEs, equal shares
        assert per_ue.min() >= 0.85 * per_ue.max()


def test_pf_beats_round_robin_with_many_backlogged_ues(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round robin gives the four UEs equal shares at their mean SINR: SE(rho) on every PRB,
    whatever the fading; PF carries more (the gain above)."""
    w, t = _run(4, "rr", monkeypatch)
    c = int(w.dev_top_cell[0, 0])
    flat = float(w.cell_prb[c]) * float(_se(10 ** (SNR_PER_PRB_DB / 10))) * BITS_PER_PRB_SE * 400
    rr_mbps, per_ue = _delivered_mbps(t)
    assert rr_mbps == pytest.approx(flat / 1e6, rel=0.02)
    pf_mbps, _ = _delivered_mbps(_run(4, "pf", monkeypatch)[1])
    assert pf_mbps > 1.1 * rr_mbps


def test_pf_gives_a_weak_and_a_strong_ue_about_half_the_slots_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """PF's metric divides the rate by the UE's average throughput, so with long averages each
    of N backlogged UEs gets ~1/N of the slots whatever its SNR (Tse & Viswanath 2005, 6.7),
    at its own fading peaks; a max-rate scheduler would give every slot to the UE 12 dB
    stronger. The weak UE therefore carries about half its rate alone, E[SE(rho h)], a bit
    more for the peaks it is picked at."""
    w, t = _run(2, "pf", monkeypatch, snr_db=[0.0, 12.0])  # weak, and 12 dB stronger
    c = int(w.dev_top_cell[0, 0])
    prbs = float(w.cell_prb[c])
    assert w.dev_ul_p_prb_mw[1] * prbs < w.dev_ue_tx_mw[0]  # both at their open-loop power
    _, per_ue = _delivered_mbps(t)
    t0, t1 = DURATION_S / 2, DURATION_S - 1.0
    weak_mbps = per_ue[0] * KB * 8e3 / (t1 - t0) / 1e6
    g = stats.gamma(int(w.cell_ul_diversity[c]), scale=1.0 / int(w.cell_ul_diversity[c]))
    alone = integrate.quad(lambda h: float(_se(h)) * g.pdf(h), 0.0, np.inf)[0]  # rho = 0 dB
    alone_mbps = prbs * alone * BITS_PER_PRB_SE * 400 / 1e6  # DDDSU: 400 U slots/s
    assert 0.45 <= weak_mbps / alone_mbps <= 0.75


def test_pf_serves_small_uploads_beside_a_large_one_in_the_same_slot(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A UE whose buffer needs only part of the cell takes that part; the best-metric UE does
    not block the others: UEs whose uploads fit together all finish in their first U slot."""
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="pf", ul_access="configured_grant", shadowing=False)
    d["fleets"] = [{"name": "ue", "count": 4, "services": ["perception"],
                    "area": {"x_m": [100.0, 100.01], "y_m": [0.0, 0.01]}}]
    d["services"][0].update(ul_kb=2.0, dl_kb=0.1, rate_hz=2.0, arrivals="periodic",
                            jitter_ms=0.0)
    d["duration_s"] = 2.0
    build = engine_module.build_world

    def in_step(*args: Any, **kwargs: Any) -> Any:  # every flow starts at 0, no jitter
        w = build(*args, **kwargs)
        w.flow_phase_s[:] = 0.0
        return w

    monkeypatch.setattr(engine_module, "build_world", in_step)
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", seed=3)
    t = eng.run().requests
    air = t.column("ul_air_ms").to_numpy(zero_copy_only=False)
    air = air[np.isfinite(air)]
    assert len(air) >= 4 * 3
    assert math.isclose(float(air.max()), 0.5, abs_tol=1e-9)  # one slot, whoever goes first


def test_a_power_limited_ue_is_granted_the_fewest_prbs_that_carry_its_buffer() -> None:
    """Past its power headroom a UE spreads its 23 dBm over more PRBs, and the capacity grows
    less than in proportion to them: the grant is the root of capacity(n) = buffer (minimal:
    a part per million fewer PRBs carry less), not the proportional share of a larger offer,
    which gave 2-5x the PRBs needed and starved the next UE. The same for a UE of a fleet of
    its own power class beside it (26 dBm: twice the PRBs at the open-loop power per PRB)."""
    from airan.engine import kernel as K

    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler="pf", shadowing=False)
    d["fleets"] = [{"name": name, "count": 1, "services": ["perception"],
                    "area": {"x_m": [350.0, 350.0], "y_m": [0.0, 0.0]}, **power}
                   for name, power in (("edge", {}), ("pc2", {"ue_tx_power_dbm": 26.0}))]
    eng = Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=1)
    eng.run()
    w, W, S = eng.world, eng._kw, eng._sref
    rooms = w.dev_ue_tx_mw / w.dev_ul_p_prb_mw  # PRBs at the open-loop power per PRB
    assert rooms[1] / rooms[0] == pytest.approx(10 ** 0.3, rel=1e-12)
    for u in (0, 1):
        c = int(w.dev_cell[u])
        room = float(rooms[u])
        prbs = float(w.cell_prb[c])
        assert 1.0 < room < prbs / 10
        for fade in (0.3, 1.0, 2.5):
            at_room = K.ul_capacity(W, S, u, c, room, fade)[0]
            full, n_full, _ = K.ul_capacity(W, S, u, c, prbs, fade)
            for frac in (0.05, 0.5, 0.95):
                bits = at_room + frac * (full - at_room)
                share = n_full * bits / full  # the proportional share of the whole offer
                n = K._pf_need(W, S, u, c, bits, room, share, fade)
                assert K.ul_capacity(W, S, u, c, n, fade)[0] >= bits
                assert K.ul_capacity(W, S, u, c, n * (1 - 1e-6), fade)[0] < bits
                assert room < n < share


def _two_services(scheduler: str, monkeypatch: pytest.MonkeyPatch,
                  seed: int = 1) -> dict[str, float]:
    """Two identical UEs side by side (gains and powers of the first copied to the second), one
    sending for a tight service (20 ms, 99.9%) and one for a loose one (2 s, 90%), each a
    Poisson stream of 20 kB uploads (two U slots of the cell) at ~35% of the cell: each
    service's mean uplink air time (ms)."""
    d = one_cell_site(sectors=1)
    d["radio"].update(bler=0.0, scheduler=scheduler, ul_access="configured_grant",
                      shadowing=False)
    base = dict(d["services"][0], ul_kb=20.0, dl_kb=0.1, rate_hz=70.0, arrivals="poisson")
    d["services"] = [dict(base, name="tight", deadline_ms=20.0, target_hit_ratio=0.999),
                     dict(base, name="loose", deadline_ms=2000.0, target_hit_ratio=0.9)]
    area = {"x_m": [100.0, 100.01], "y_m": [0.0, 0.01]}
    d["fleets"] = [dict(d["fleets"][0], name=n, count=1, services=[n], area=area)
                   for n in ("tight", "loose")]
    d["duration_s"] = 20.0
    _every_ue_the_first_ones_twin(monkeypatch)
    summary = Engine(scenario_from_dict(d), policy="nearest-edge", seed=seed).run().summary
    return {n: summary["services"][n]["breakdown_ms"]["ul_air"] for n in ("tight", "loose")}


def test_mlwdf_sends_the_tighter_deadlines_upload_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """PF ranks two identical UEs alike, whatever their services' deadlines: their uploads take
    the same air time. M-LWDF weights each by a_j = -ln(1 - target) / deadline times its oldest
    request's delay: 345/s against 1.15/s here, so when both wait the tight one goes first (its
    whole upload: it needs the cell), and the loose one waits behind it."""
    pf = _two_services("pf", monkeypatch)
    assert pf["tight"] == pytest.approx(pf["loose"], rel=0.15)  # (seeds 1-5: within 13%)
    mlwdf = _two_services("mlwdf", monkeypatch)
    assert mlwdf["tight"] < 0.8 * pf["tight"]
    assert mlwdf["loose"] > 1.1 * pf["loose"]
    assert mlwdf["tight"] < 0.7 * mlwdf["loose"]
