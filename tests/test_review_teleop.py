"""A teleoperated-driving lead's review: what validate says of remote-driven vehicles at speed
under a fading-aware scheduler, and of commands with nothing to upload."""

from __future__ import annotations

from typing import Any

import pytest

import airan
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings

SPEED_OF_LIGHT_MPS = 299_792_458.0


def _city(**mobility: Any) -> dict[str, Any]:
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    if mobility:
        d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 200, **mobility}
    return d


def _said(d: dict[str, Any], field: str) -> list[str]:
    return [w for w in scenario_warnings(scenario_from_dict(d)) if f"field '{field}'" in w]


def test_vehicles_at_speed_under_pf_are_told_the_scheduler_knows_each_slots_fading() -> None:
    said = _said(_city(speed_mps=[8, 33]), "radio.scheduler")
    assert len(said) == 1
    # Clarke's coherence time 0.423 / f_D at the top speed, f_D = v fc / c
    doppler_hz = 33 * 3.5e9 / SPEED_OF_LIGHT_MPS
    assert f"Doppler {doppler_hz:,.0f} Hz" in said[0] and "385 Hz" in said[0]
    assert f"~{0.423 / doppler_hz * 1e3:.2g} ms" in said[0] and "~1.1 ms" in said[0]
    assert "fleets vehicles move at up to 33 m/s (119 km/h)" in said[0]
    # round robin has no fading gain to overstate, and a walking pace no stale CSI to speak of
    rr = _city(speed_mps=[8, 33])
    rr["radio"]["scheduler"] = "rr"
    assert _said(rr, "radio.scheduler") == []
    assert _said(_city(speed_mps=[1, 5]), "radio.scheduler") == []
    assert _said(_city(), "radio.scheduler") == []  # parked


@pytest.mark.parametrize("policy", ["deadline-aware", "local"])
def test_a_service_with_nothing_to_upload_is_told_it_still_crosses_the_uplink(
        policy: str) -> None:
    d = _city()
    d["policy"] = policy
    d["services"].append({**d["services"][0], "name": "control", "ul_kb": 0, "dl_kb": 0.2,
                          "rate_hz": 100, "deadline_ms": 30})
    d["fleets"][0]["services"] = ["perception", "control"]
    said = _said(d, "services[control].ul_kb")
    if policy == "local":  # nothing goes over the air
        assert said == []
        return
    assert len(said) == 1
    assert "a scheduling request and a grant" in said[0]
    assert "have no uplink leg, which airan does not model" in said[0]
    d["radio"] = {"model": "ideal"}  # no uplink to wait for
    assert _said(d, "services[control].ul_kb") == []
