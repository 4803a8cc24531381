"""Cells on different carriers: only the spectrum two channels share carries interference.

A cell's power spreads flat over its channel, so the share of an interferer's power inside a
victim's channel is their overlap over the interferer's width (bands.power_in_channel); cells
on channels apart do not interfere (adjacent-channel leakage, ACLR 45 dB at the base station,
is left out). FDD uplinks sit at their band's duplex distance below the downlink.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import one_cell_site

from airan.engine import Engine
from airan.engine import kernel as K
from airan.radio import bands
from airan.scenario import scenario_from_dict


@pytest.mark.parametrize(("band", "separation_mhz"), [
    # TS 38.101-1 Table 5.4.4-1, UE transmit-receive frequency separation
    ("n1", 190.0), ("n3", 95.0), ("n28", 55.0), ("n66", 400.0), ("n71", -46.0),
])
def test_fdd_uplink_channel_sits_at_the_bands_duplex_separation(
        band: str, separation_mhz: float) -> None:
    fc_ghz = bands.default_fc_ghz(band)
    dl, ul = bands.channel_mhz(fc_ghz, 10.0, band, fdd=True)
    assert dl == pytest.approx((fc_ghz * 1e3 - 5.0, fc_ghz * 1e3 + 5.0))
    assert (dl[0] - ul[0], dl[1] - ul[1]) == pytest.approx((separation_mhz, separation_mhz))


def test_tdd_carrier_sends_both_directions_on_one_channel() -> None:
    dl, ul = bands.channel_mhz(3.5, 100.0, "n78", fdd=False)
    assert dl == ul == pytest.approx((3450.0, 3550.0))


def test_power_in_channel_is_the_overlap_over_the_interferers_width() -> None:
    assert bands.power_in_channel((3450.0, 3550.0), (3450.0, 3550.0)) == 1.0
    assert bands.power_in_channel((3450.0, 3550.0), (3550.0, 3650.0)) == 0.0  # adjacent
    assert bands.power_in_channel((3450.0, 3550.0), (3500.0, 3600.0)) == 0.5
    # a 40 MHz interferer inside a 100 MHz victim puts all its power there, and a 100 MHz
    # interferer over a 40 MHz victim 40% of its power
    assert bands.power_in_channel((3450.0, 3550.0), (3480.0, 3520.0)) == 1.0
    assert bands.power_in_channel((3480.0, 3520.0), (3450.0, 3550.0)) == pytest.approx(0.4)


def _two_sites(fc_b_ghz: float | None, *, bw_a_mhz: float = 100.0,
               fleet: dict[str, Any] | None = None) -> dict[str, Any]:
    """Site ``bs`` at the origin on 3.45 GHz (``bw_a_mhz``), a device 190 m away (or ``fleet``),
    and site ``b`` 400 m away on ``fc_b_ghz``, 100 MHz (None: no site b)."""
    d = one_cell_site(sectors=1)
    d["radio"].update(shadowing=False, initial_load=1.0)
    d["carrier"]["fc_ghz"] = 3.45
    d["cell_sites"] = [{"name": "bs", "position_m": [0.0, 0.0], "sectors": 1,
                        "carrier": dict(d["carrier"], bandwidth_mhz=bw_a_mhz)}]
    if fc_b_ghz is not None:
        d["cell_sites"].append({"name": "b", "position_m": [400.0, 0.0], "sectors": 1,
                                "carrier": dict(d["carrier"], fc_ghz=fc_b_ghz)})
    d["fleets"] = [fleet or {"name": "v", "count": 1, "services": ["perception"],
                             "area": {"x_m": [190.0, 190.0], "y_m": [0.0, 0.0]}}]
    return d


def _engine(d: dict[str, Any]) -> Engine:
    # seed 2: the device's links to both sites NLOS, as the tests below take them (seed 1
    # makes its link to b LOS, and b then serves it)
    return Engine(scenario_from_dict(d), policy="nearest-edge", duration_s=0.01, seed=2)


def _dl_interference_mw(eng: Engine) -> float:
    """The device's downlink interference at full load (mW), from its geometry SINR."""
    sinr = 10 ** (float(eng.device_table()["sinr_dl_db"][0].as_py()) / 10)
    w = eng.world
    signal = float(w.cell_tx_mw[w.dev_cell[0]] * w.dev_top_gain[0, 0])
    return signal / sinr - float(w.dev_dl_noise_mw[0])


def _dl_se(eng: Engine) -> float:
    st = eng._st
    st.ue_se_slot_dl[0] = -1
    K.refresh_dl(eng._kw, eng._sref, 0, eng.slot)
    return float(st.ue_se_dl[0])


def test_a_neighbour_on_a_channel_apart_does_not_interfere() -> None:
    alone, apart, shared = (_engine(_two_sites(fc)) for fc in (None, 3.75, 3.45))
    noise = float(alone.world.dev_dl_noise_mw[0])
    assert [e.world.cell_names[e.world.dev_cell[0]] for e in (alone, apart, shared)] == ["bs"] * 3
    # 3.70-3.80 GHz against 3.40-3.50 GHz
    assert _dl_interference_mw(alone) == pytest.approx(0.0, abs=1e-6 * noise)
    assert _dl_interference_mw(apart) == pytest.approx(0.0, abs=1e-6 * noise)
    assert _dl_interference_mw(shared) > 10 * noise  # the co-channel neighbour dominates
    # the scheduler's SE (refreshed at full load) follows: the same as with no neighbour
    assert _dl_se(apart) == _dl_se(alone)
    assert _dl_se(shared) < 0.8 * _dl_se(alone)


def test_a_wider_neighbour_interferes_with_the_share_of_its_power_in_the_channel() -> None:
    # the same frequency, so the same path gains: a 40 MHz victim channel takes 40% of a
    # 100 MHz neighbour's power, a 100 MHz one all of it
    i_full = _dl_interference_mw(_engine(_two_sites(3.45)))
    i_part = _dl_interference_mw(_engine(_two_sites(3.45, bw_a_mhz=40.0)))
    assert i_part == pytest.approx(0.4 * i_full, rel=1e-9)


def test_uplink_interference_couples_only_cells_whose_uplinks_overlap() -> None:
    near_b = {"name": "v", "count": 40, "services": ["perception"],
              "area": {"x_m": [380.0, 420.0], "y_m": [-20.0, 20.0]}}

    def into_a(fc_b_ghz: float, bw_a_mhz: float) -> float:
        """What b's UEs put into cell a's uplink channel (the coupling matrix's row a)."""
        w = _engine(_two_sites(fc_b_ghz, bw_a_mhz=bw_a_mhz, fleet=near_b)).world
        assert np.all(w.dev_cell == 1)  # every UE on b
        return float(np.sum(w.ul_int_mw[w.ul_int_ptr[0]:w.ul_int_ptr[1]]))

    shared = into_a(3.45, 100.0)
    assert shared > 0.0
    assert into_a(3.45, 40.0) == pytest.approx(0.4 * shared, rel=1e-9)
    assert into_a(3.75, 100.0) == 0.0


def test_fdd_carriers_whose_downlinks_overlap_but_uplinks_do_not() -> None:
    # n1 (DL 2110-2170, UL 1920-1980) and n66 (DL 2110-2200, UL 1710-1780) at 2.14 GHz:
    # the same downlink channel, uplinks 400 - 190 = 210 MHz apart
    d = _two_sites(None, fleet={"name": "v", "count": 40, "services": ["perception"]})
    car = {"band": "n1", "fc_ghz": 2.14, "bandwidth_mhz": 20, "numerology": 0,
           "tdd_pattern": None}
    d["carrier"] = car
    d["cell_sites"] = [{"name": "bs", "position_m": [0.0, 0.0], "sectors": 1},
                       {"name": "b", "position_m": [400.0, 0.0], "sectors": 1,
                        "carrier": dict(car, band="n66")}]
    w = _engine(d).world
    assert len(set(w.cell_carrier.tolist())) == 2
    assert np.all(w.cell_tx_on_mw == w.cell_tx_mw[None, :])  # downlinks fully shared
    assert np.sum(w.ul_int_mw) == 0.0


def test_a_device_moved_by_a_cell_outage_takes_the_new_carriers_noise() -> None:
    from airan.radio import link, nr

    d = _two_sites(3.75, bw_a_mhz=100.0)
    d["cell_sites"][1]["carrier"]["bandwidth_mhz"] = 40  # 4.1 dB more power per RE
    d["cell_sites"][1]["position_m"] = [500.0, 0.0]  # 8 dB further than bs (both NLOS)
    d["faults"] = [{"kind": "cell_down", "cell": "bs", "start_s": 0.005}]
    eng = _engine(d)
    assert eng.world.dev_cell[0] == 0
    eng.run()
    w = eng.world
    assert w.dev_cell[0] == 1
    bw_hz = nr.n_prb(40, 1) * 12 * 30e3
    assert w.dev_dl_noise_mw[0] == pytest.approx(
        float(link.dbm_to_mw(nr.thermal_noise_dbm(bw_hz, d["radio"].get("ue_noise_figure_db",
                                                                        9.0)))), rel=1e-12)


@pytest.mark.parametrize(("second", "why"), [
    ({"band": "n28", "bandwidth_mhz": 20, "numerology": 0},
     "an FDD carrier and a TDD one in one scenario (carrier is n78 (DDDSU TDD, 30 kHz), this "
     "one n28 (FDD, 15 kHz))"),
    ({"band": "n78", "numerology": 0, "bandwidth_mhz": 50}, "two subcarrier spacings in one "
     "scenario"),
    ({"band": "n78", "tdd_pattern": "DDSUU"}, "two TDD patterns in one scenario"),
])
def test_carriers_one_slot_grid_cannot_hold_are_refused_saying_why(
        second: dict[str, Any], why: str) -> None:
    """Every cell runs on one slot grid (one numerology, one TDD pattern or FDD): a rural
    co-op's n28 FDD coverage layer beside n78 TDD on the same masts was refused as '(1,
    None)'. The message says which kind of mix it is and what to do."""
    from airan.errors import InputError

    d = one_cell_site(sectors=1)
    d["carrier"] = {"band": "n78", "tdd_pattern": "DDDSU"}
    d["cell_sites"].append({"name": "low", "position_m": [5, 0], "sectors": 1,
                            "carrier": second})
    with pytest.raises(InputError) as info:
        scenario_from_dict(d)
    text = str(info.value)
    assert "field 'cell_sites[low].carrier'" in text and why in text
    assert "run each layer as a scenario of its own" in text
