"""NR operating bands (TS 38.104 Tables 5.2-1, 5.2-2): ranges, duplex, a carrier's defaults."""

from __future__ import annotations

from typing import Any

import pytest

import airan
from airan.engine.kernel import SLOT_BOTH
from airan.radio.bands import NR_BANDS, default_fc_ghz, is_band_name
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings


@pytest.mark.parametrize(("band", "duplex", "ul_mhz", "dl_mhz"), [
    ("n1", "FDD", (1920, 1980), (2110, 2170)),   # TS 38.104 Table 5.2-1
    ("n3", "FDD", (1710, 1785), (1805, 1880)),
    ("n28", "FDD", (703, 748), (758, 803)),
    ("n41", "TDD", (2496, 2690), (2496, 2690)),
    ("n77", "TDD", (3300, 4200), (3300, 4200)),
    ("n78", "TDD", (3300, 3800), (3300, 3800)),
    ("n79", "TDD", (4400, 5000), (4400, 5000)),
    ("n257", "TDD", (26500, 29500), (26500, 29500)),  # Table 5.2-2 (FR2)
    ("n258", "TDD", (24250, 27500), (24250, 27500)),
])
def test_band_table_matches_ts_38104(band, duplex, ul_mhz, dl_mhz) -> None:
    spec = NR_BANDS[band]
    assert (spec.duplex, spec.ul_mhz, spec.dl_mhz) == (duplex, ul_mhz, dl_mhz)


def test_default_frequency_is_3_5_ghz_where_the_band_holds_it_else_its_centre() -> None:
    assert default_fc_ghz("n78") == default_fc_ghz("n77") == 3.5
    assert default_fc_ghz("n79") == pytest.approx(4.7)
    assert default_fc_ghz("n1") == pytest.approx(2.14)
    assert default_fc_ghz("n99") == 3.5  # not in the table: the schema's default


def test_band_names() -> None:
    assert is_band_name("n78") and is_band_name("n262") and is_band_name("n99")
    assert not any(is_band_name(x) for x in ("78", "N78", "n078", "n", "n1234", "b3"))


def _factory_carrier(**carrier) -> dict:
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["carrier"] = {"bandwidth_mhz": 20.0, **carrier}
    return d


def test_an_fdd_band_runs_without_a_tdd_pattern_at_its_frequency() -> None:
    s = scenario_from_dict(_factory_carrier(band="n3"))
    assert s.carrier.tdd_pattern is None
    assert s.carrier.fc_ghz == pytest.approx(1.8425)
    result = airan.run(s, duration_s=0.5)
    assert result.summary["requests"]["created"] > 0
    eng = airan.engine.Engine(s, duration_s=0.01)
    assert (eng.world.slot_type == SLOT_BOTH).all()  # uplink and downlink in every slot


def test_a_band_outside_the_table_loads_with_a_warning() -> None:
    s = scenario_from_dict(_factory_carrier(band="n99", fc_ghz=1.8, tdd_pattern=None))
    warnings = [w for w in scenario_warnings(s) if "carrier.band" in w]
    assert len(warnings) == 1 and "not in airan's band table" in warnings[0]
    assert not [w for w in scenario_warnings(airan.load_scenario("factory")) if ".band" in w]


@pytest.mark.parametrize(("carrier", "band"), [
    ({"fc_ghz": 3.7}, "n78"),                            # the narrowest TDD band holding it
    ({"fc_ghz": 4.0}, "n77"),
    ({"fc_ghz": 28.0, "numerology": 3}, "n261"),
    ({"fc_ghz": 2.14, "bandwidth_mhz": 20, "tdd_pattern": None}, "n1"),  # FDD: no pattern
    ({"fc_ghz": 3.5, "tdd_pattern": None}, None),        # no FDD band there: taken as given
    ({"fc_ghz": 10.0, "numerology": 2}, None),
    # only an FDD band holds 2.14 GHz (n1's downlink): FDD without being told
    ({"fc_ghz": 2.14, "bandwidth_mhz": 20, "numerology": 0}, "n1"),
])
def test_a_carrier_given_only_a_frequency_takes_the_band_that_holds_it(carrier, band) -> None:
    s = scenario_from_dict(_factory_carrier(**{"bandwidth_mhz": 100.0, **carrier}))
    assert s.carrier.band == band
    assert not [w for w in scenario_warnings(s) if ".band" in w]


def test_the_whole_channel_must_fit_the_band() -> None:
    assert NR_BANDS["n78"].holds(3.75, 100) and not NR_BANDS["n78"].holds(3.79, 100)
    assert not NR_BANDS["n1"].holds(2.14, 100)  # n1: 60 MHz each way
    assert NR_BANDS["n257"].table.endswith("5.2-2") and NR_BANDS["n78"].table.endswith("5.2-1")


def test_a_frequency_only_an_fdd_band_holds_runs_fdd() -> None:
    s = scenario_from_dict(_factory_carrier(fc_ghz=2.14, bandwidth_mhz=20, numerology=0))
    assert s.carrier.band == "n1" and s.carrier.tdd_pattern is None
    # a pattern given keeps TDD: the frequency is then taken as given
    s = scenario_from_dict(_factory_carrier(fc_ghz=2.14, bandwidth_mhz=20, numerology=0,
                                            tdd_pattern="DDDSU"))
    assert s.carrier.band is None and s.carrier.tdd_pattern == "DDDSU"


def test_a_carrier_outside_fr1_and_fr2_is_warned_about() -> None:
    s = scenario_from_dict(_factory_carrier(fc_ghz=10.0, bandwidth_mhz=100, numerology=2))
    warnings = [w for w in scenario_warnings(s) if "carrier.fc_ghz" in w]
    assert len(warnings) == 1 and "FR1 410-7,125 MHz" in warnings[0]
    for name in ("factory", "city", "metro", "korea"):
        assert not [w for w in scenario_warnings(airan.load_scenario(name)) if "carrier" in w]


@pytest.mark.parametrize(("pattern", "mu", "ok"), [
    ("DDDSU", 1, True),         # 2.5 ms
    ("DDSUU", 1, True),
    ("DDDDDDDSUU", 1, True),    # 5 ms
    ("DDDSUDDSUU", 1, True),    # two 2.5 ms patterns: 5 ms divides 20 ms
    ("DDDSU", 0, True),         # 5 ms at 15 kHz
    ("DSU", 1, False),          # 1.5 ms: no such periodicity
    ("DDDSUUU", 1, False),      # 3.5 ms, and no split into two configurable patterns
    ("DUDU", 1, True),          # 1 + 1 ms, each D then U
    ("UDDS", 1, False),         # U before D in one pattern, and no split of two that works
    ("DDDDSU", 1, False),       # 3 ms: a period of TS 38.331, but alone it does not divide 20 ms
    ("DDDDDDSU", 1, True),      # 4 ms, configurable as two patterns: 3 ms and 1 ms
    ("DDDDSUDDSU", 1, True),    # 3 + 2 ms: two patterns whose periods add up to 5 ms
])
def test_tdd_patterns_are_checked_against_ts38331_periodicities(pattern, mu, ok) -> None:
    from airan.scenario.load import tdd_pattern_configurable

    assert tdd_pattern_configurable(pattern, mu) is ok
    s = scenario_from_dict(_factory_carrier(tdd_pattern=pattern, numerology=mu,
                                            bandwidth_mhz=100 if mu else 50))
    warned = [w for w in scenario_warnings(s) if "carrier.tdd_pattern" in w]
    assert len(warned) == (0 if ok else 1)


def test_a_channel_that_fits_no_band_is_warned_about() -> None:
    # 2.14 GHz is n1's downlink, but 100 MHz does not fit n1's 60 MHz: taken as given, said so
    s = scenario_from_dict(_factory_carrier(fc_ghz=2.14, bandwidth_mhz=100))
    assert s.carrier.band is None
    warned = [w for w in scenario_warnings(s) if "carrier.fc_ghz" in w]
    assert len(warned) == 1 and "100 MHz TDD channel there fits no band" in warned[0]


def test_an_fdd_downlink_without_an_uplink_pair_is_not_in_the_band() -> None:
    # n66: downlink 2110-2200 MHz, uplink 1710-1780 MHz, 400 MHz apart (TS 38.104 Table
    # 5.2-1): above 2180 MHz the downlink has no uplink pair (supplemental downlink only)
    n66 = NR_BANDS["n66"]
    assert n66.paired_dl_mhz == (2110, 2180)
    assert n66.holds(2.17, 20) and not n66.holds(2.19, 20)
    assert NR_BANDS["n71"].holds(0.6345, 35)  # downlink below its uplink, 46 MHz apart
    with pytest.raises(airan.InputError, match="2110-2180 MHz with an uplink pair"):
        scenario_from_dict(_factory_carrier(band="n66", fc_ghz=2.19, numerology=0))


@pytest.mark.parametrize(("band", "fc_ghz", "tdd"), [
    ("n100", (919.4 + 925) / 2e3, None),  # FRMCS 900 MHz: FDD, 874.4-880 up, 919.4-925 down
    ("n101", 1.905, "DDDSU"),             # FRMCS 1.9 GHz: TDD, 1900-1910
])
def test_the_railways_frmcs_bands_take_their_own_frequency_and_duplex(
        band: str, fc_ghz: float, tdd: str | None) -> None:
    """TS 38.101-1 Table 5.2-1 (Rel-17): a rail planner's n100 ran at 3.5 GHz TDD, unlisted."""
    s = scenario_from_dict(_factory_carrier(band=band, bandwidth_mhz=5))
    assert s.carrier.fc_ghz == pytest.approx(fc_ghz)
    assert s.carrier.tdd_pattern == tdd


def test_a_band_outside_the_table_without_a_frequency_is_refused(tmp_path: Any) -> None:
    from one_cell import validate_dict

    code, out = validate_dict(tmp_path, _factory_carrier(band="n99"))
    assert code == 2
    assert "field 'carrier.band'" in out and "give fc_ghz" in out and "tdd_pattern: null" in out


def test_an_unlisted_bands_frequency_survives_a_dump_without_defaults() -> None:
    """A plan.yaml (a dump without defaults) of an unlisted band at 3.5 GHz reloads: the
    frequency, the default's value, is kept, where it would be dropped and the band refused."""
    from airan.scenario.schema import Carrier

    c = Carrier.model_validate({"band": "n99", "fc_ghz": 3.5, "bandwidth_mhz": 20})
    again = Carrier.model_validate(c.model_dump(mode="json", exclude_defaults=True))
    assert (again.fc_ghz, again.tdd_pattern) == (3.5, "DDDSU")
    assert Carrier.model_validate({"band": "n78"}).model_dump(
        mode="json", exclude_defaults=True) == {"band": "n78"}
