"""Scenario-level checks that need the whole scenario: carriers, and unreachable sites."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

import airan
from airan.errors import InputError
from airan.scenario import scenario_from_dict


def _factory() -> dict[str, Any]:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    return yaml.safe_load(text)


def test_bandwidth_without_a_ts38101_prb_count_names_the_carrier() -> None:
    d = _factory()
    d["carrier"]["bandwidth_mhz"] = 33
    with pytest.raises(InputError, match=r"carrier\.bandwidth_mhz.*33"):
        scenario_from_dict(d)


def test_cells_with_different_numerology_are_rejected_by_name() -> None:
    d = _factory()
    d["cell_sites"][1]["carrier"] = {"numerology": 0, "bandwidth_mhz": 20}
    with pytest.raises(InputError, match=r"cell_sites\[cell-b\]\.carrier.*synchronized"):
        scenario_from_dict(d)


def test_a_site_without_a_transport_path_drops_with_no_route() -> None:
    d = copy.deepcopy(_factory())
    d["transport"] = {"links": []}  # the cells reach no compute site
    sc = scenario_from_dict(d)
    res = airan.run(sc, policy="nearest-edge", duration_s=0.3)
    req = res.summary["requests"]
    assert req["dropped_by_reason"] == {"no_route": req["dropped"]}
    assert req["dropped"] == req["created"] - req["in_flight"] > 0
    assert set(res.requests["placement"].to_pylist()) == {"unreachable"}
    # deadline-aware never picks an unreachable site: it falls back to the devices
    res = airan.run(sc, policy="deadline-aware", duration_s=0.3)
    assert "no_route" not in res.summary["requests"]["dropped_by_reason"]
