"""A cell's power over its carrier: given, or the environment's and bandwidth's default.

TR 36.814 Table A.2.1.1-2 gives a macro cell 46 dBm for a 10 MHz carrier and 49 dBm for 20 MHz
(DOMAIN.md's "46-49 dBm"): a density, 36 dBm/MHz, so 56 dBm over 100 MHz. A RAN researcher's
review found the old default, 46 dBm over any bandwidth, 10 dB low at every noise-limited cell
edge of a 100 MHz carrier. Indoors and in FR2 the default is TR 38.901 Table 7.8-1's.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import airan
from airan.engine.world import build_world
from airan.radio import link, nr
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings


def _city(**carrier: Any) -> dict[str, Any]:
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["carrier"] = {k: v for k, v in d["carrier"].items() if k != "tx_power_dbm"} | carrier
    return d


def _cell_dbm(d: dict[str, Any]) -> float:
    w = build_world(scenario_from_dict(d), 1)
    return float(10.0 * math.log10(w.cell_tx_mw[0]))


@pytest.mark.parametrize(("env", "carrier", "dbm"), [
    ("uma", {"bandwidth_mhz": 100}, 56.0),  # 46 dBm per 10 MHz (TR 36.814)
    ("uma", {"bandwidth_mhz": 20}, 46.0 + 10 * math.log10(2.0)),  # ~49 dBm, as the table
    ("rma", {"bandwidth_mhz": 10, "band": "n1", "fc_ghz": 2.14, "tdd_pattern": None}, 46.0),
    ("umi", {"bandwidth_mhz": 100}, 51.0),  # small cells: 41 dBm per 10 MHz (ITU-R M.2135)
    ("inh", {"bandwidth_mhz": 100}, 24.0 + 10 * math.log10(5.0)),  # 24 dBm per 20 MHz
    ("uma", {"band": "n257", "fc_ghz": 28.0, "bandwidth_mhz": 100, "numerology": 3}, 35.0),
    ("uma", {"bandwidth_mhz": 100, "tx_power_dbm": 40.0}, 40.0),  # given: as given
    ("uma", {"bandwidth_mhz": 100, "tx_power_dbm": None}, 56.0),  # null: the default
])
def test_a_cell_without_a_power_takes_its_environments_density_over_its_bandwidth(
        env: str, carrier: dict[str, Any], dbm: float) -> None:
    d = _city(**carrier)
    d["radio"]["environment"] = env
    if env == "inh":
        d["cell_layout"]["hex"]["isd_m"] = 20.0
        d["cell_layout"]["height_m"] = 3.0
    assert _cell_dbm(d) == pytest.approx(dbm, abs=1e-9)
    assert float(link.dbm_to_mw(nr.macro_tx_power_dbm(100.0))) == pytest.approx(10 ** 5.6)


def test_a_default_power_is_re_derived_where_the_bandwidth_changes_and_written_unset() -> None:
    """A diff review: filled in as the scenario loaded, the default was frozen into every dump,
    so a sweep of the bandwidth kept the first bandwidth's power (and the new warning blamed
    the user for a value never given). Unset, it is derived where it is used."""
    sc = scenario_from_dict(_city(bandwidth_mhz=20))
    assert sc.carrier.tx_power_dbm is None
    again = sc.model_dump(mode="json")
    again["carrier"]["bandwidth_mhz"] = 100
    assert _cell_dbm(again) == pytest.approx(56.0)
    assert not [w for w in scenario_warnings(scenario_from_dict(again)) if "dBm/MHz" in w]


def test_a_macro_power_given_for_a_narrower_carrier_is_warned_about() -> None:
    """46 dBm given over 100 MHz in UMa is 26 dBm/MHz, 10 dB below the macro density: a 10 MHz
    carrier's figure, most likely. UMi's small cells and the default are not warned of."""
    said = [w for w in scenario_warnings(scenario_from_dict(_city(tx_power_dbm=46.0)))
            if "dBm/MHz" in w]
    assert len(said) == 1 and "carrier.tx_power_dbm" in said[0] and "10 dB below" in said[0]
    assert "56 dBm over 100 MHz" in said[0]
    umi = _city(tx_power_dbm=46.0)
    umi["radio"]["environment"] = "umi"
    assert not [w for w in scenario_warnings(scenario_from_dict(umi)) if "dBm/MHz" in w]
    assert not [w for w in scenario_warnings(scenario_from_dict(_city())) if "dBm/MHz" in w]
