"""``radio.los``: every link LOS (``always``: a rail corridor, as TR 38.913's high-speed scenario
and TS 38.104 Annex G's high-speed train take it) or NLOS (``never``) in place of TR 38.901's
LOS probability (a rail planner's review: the LOS state, drawn anew along the track, gave a
300 km/h train 3 handovers per km where its masts' sectors give ~1.5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from one_cell import validate_dict

from airan.engine import Engine
from airan.radio.pathloss import pathloss_db
from airan.scenario import scenario_from_dict


def _rma_cell(los: str, x_m: float = 1200.0) -> dict[str, Any]:
    """One one-sector RMa mast 30 m high at the origin, shadowing off, one camera at
    (``x_m``, 0), 1.5 m high."""
    return {
        "name": "field", "radio": {"environment": "rma", "shadowing": False, "los": los},
        "carrier": {"band": "n78", "fc_ghz": 3.5, "bandwidth_mhz": 100},
        "cell_sites": [{"name": "m", "position_m": [0, 0], "height_m": 30, "sectors": 1}],
        "nodes": [{"name": "dc"}],
        "compute_sites": [{"name": "cloud", "at": "dc", "kind": "cloud",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"links": [{"a": "m", "b": "dc", "fiber_km": 10}]},
        "fleets": [{"name": "cams", "count": 1, "height_m": 1.5, "services": ["see"],
                    "area": {"positions_m": [[x_m, 0.0]]}}],
        "services": [{"name": "see", "model": "yolov8n", "rate_hz": 1, "deadline_ms": 100}]}


@pytest.mark.parametrize("x_m", [300.0, 1200.0, 4000.0])
def test_always_and_never_take_the_los_and_the_nlos_formula(x_m: float) -> None:
    """The same link under always and never differs by TR 38.901's NLOS less LOS path loss at
    its distance (the antenna, the same on both, cancels)."""
    def gain(los: str) -> float:
        w = Engine(scenario_from_dict(_rma_cell(los, x_m))).world
        return float(w.device_radio.link_gains(w.dev_xy, w.dev_h, np.zeros((1, 1), np.int64))
                     [0][0, 0])

    d3 = np.hypot(x_m, 30.0 - 1.5)
    pl = {los: float(pathloss_db("rma", x_m, d3, 3.5, 30.0, 1.5, los)) for los in (True, False)}
    assert 10 * np.log10(gain("always") / gain("never")) == pytest.approx(
        pl[False] - pl[True], abs=1e-9)
    assert pl[False] - pl[True] > 5.0  # (the difference the LOS state's flips make)


def test_a_train_along_a_corridor_of_los_hands_over_less() -> None:
    """Six trains at 300 km/h past masts 2 km apart beside the track: under the LOS model each
    link's state flips along the way, and the flips hand trains over to far masts and back;
    with every link LOS the handovers are fewer by a third or more."""
    def handovers(los: str) -> int:
        d = _rma_cell(los)
        d["radio"]["shadowing"] = True
        d["cell_sites"] = [{"name": f"m{k}", "position_m": [2000.0 * k, 40.0], "height_m": 30}
                           for k in range(7)]
        d["transport"] = {"backhaul": {"to": "dc"}, "links": []}
        d["nodes"] = [{"name": "dc", "position_m": [6000.0, 5000.0]}]
        d["fleets"] = [{"name": "trains", "count": 6, "height_m": 4.5, "services": ["see"],
                        "mobility": {"model": "waypoints", "speed_mps": 83.3, "loop": True,
                                     "phase": "spread",
                                     "paths": [[[0, 0, 4.5], [12000, 0, 4.5]]]}}]
        d["duration_s"] = 10.0
        return int(Engine(scenario_from_dict(d)).run().summary["mobility"]["handovers"])

    model, always = handovers("model"), handovers("always")
    assert always <= 0.67 * model, (always, model)


def test_a_misspelt_los_mode_is_refused(tmp_path: Any) -> None:
    code, out = validate_dict(tmp_path, _rma_cell("allways"))
    assert code == 2 and "radio.los" in out and "always" in out


def test_never_leaves_an_aerial_ue_its_tr_36_777_los() -> None:
    """TR 36.777: a UMa UE above 100 m sees its cells in LOS, and the NLOS fits stop there, so
    ``never`` keeps the model's state for aerial UEs: a drone at 150 m, the same under all three."""
    def gain(los: str) -> float:
        d = _rma_cell(los, 1000.0)
        d["radio"]["environment"] = "uma"
        d["fleets"][0].update(height_m=150.0, device_class="drone")
        w = Engine(scenario_from_dict(d)).world
        return float(w.device_radio.link_gains(w.dev_xy, w.dev_h, np.zeros((1, 1), np.int64))
                     [0][0, 0])

    assert gain("never") == gain("model") == gain("always")


def test_validate_names_a_los_mode_or_a_clutter_nothing_reads(tmp_path: Any) -> None:
    """The ideal and fixed radios have no path loss, and the clutter sets only InF's LOS
    probability (TR 38.901 Table 7.4.2-1): each set where nothing reads it is named (a diff
    review: they were ignored silently); where they act, nothing is said of them."""
    def warned(d: dict[str, Any]) -> str:
        (tmp_path / "w").mkdir(exist_ok=True)
        code, out = validate_dict(tmp_path / "w", d)
        assert code == 0, out
        return out

    ideal = _rma_cell("always")
    ideal["radio"]["model"] = "ideal"
    assert "radio.los" in warned(ideal) and "the ideal radio has none" in warned(ideal)
    assert "radio.los" not in warned(_rma_cell("always"))
    ideal["radio"]["clutter_density"] = 0.4
    out = warned(ideal)
    assert "radio.clutter_density" in out and "the ideal radio has no path loss" in out
    rma = _rma_cell("model")
    rma["radio"]["clutter_density"] = 0.4
    out = warned(rma)
    assert "radio.clutter_density" in out and "rma has its own" in out
    inf = _rma_cell("model")
    inf["radio"].update(environment="inf-dl", clutter_density=0.4)
    inf["cell_sites"][0]["height_m"] = 4
    inf["fleets"][0]["area"] = {"positions_m": [[20.0, 0.0]]}
    assert "clutter" not in warned(inf)
    inf["radio"]["los"] = "always"
    out = warned(inf)
    assert "radio.clutter_density" in out and "los: always replaces" in out
