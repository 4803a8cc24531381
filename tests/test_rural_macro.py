"""RMa, TR 38.901's rural macro (a drone maker's review: `environment: rma` was "did you
mean 'uma'?", where rural inspection, farms and highways are RMa's): its cells stand at
35 m unless given, its formulas reach 10 km, and a drone above 10 m flies as TR 36.777's
RMa-AV aerial UE (the formulas themselves: tests/test_radio_pathloss.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.radio import pathloss
from airan.scenario import scenario_from_dict


def _rural(**fleet: Any) -> dict[str, Any]:
    """city's vehicles on a rural layout: 7 three-sector sites 1,732 m apart (TR 38.901 Table
    7.2-3's RMa inter-site distance), cells at RMa's default height."""
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["radio"] = {**d.get("radio", {}), "environment": "rma"}
    d["cell_layout"] = {"hex": {"rings": 1, "isd_m": 1732}, "name_prefix": "site",
                        "sectors": 3, "downtilt_deg": 6}
    d["generated_compute_sites"]["every"] = 7
    d["fleets"][0].update({"count": 50, "area": {"center_m": [0, 0], "radius_m": 2500},
                           **fleet})
    return d


def test_a_rural_layout_stands_at_rma_heights_and_runs() -> None:
    from airan.engine import Engine

    sc = scenario_from_dict(_rural())
    eng = Engine(sc, duration_s=1.0)
    assert np.all(eng.world.device_radio.cell_h == 35.0)  # (Table 7.4.1-1's RMa hBS)
    res = eng.run()
    assert np.isfinite(eng.device_table().column("sinr_dl_db").to_numpy()).all()
    s = res.summary
    assert s["requests"]["created"] == s["requests"]["met"] + s["requests"]["late"] \
        + s["requests"]["dropped"] + s["requests"]["in_flight"]
    assert s["services"]["perception"]["count"] > 0
    # devices ~4.3 km from the nearest site: RMa's open country (LOS probability
    # exp(-(d - 10)/1000), 35 m masts) carries them ~15 dB better than UMa's formulas would
    # (-11 against -28 dB median downlink SINR, every neighbour transmitting)
    median = {}
    for env in ("rma", "uma"):
        d = _rural()
        d["radio"]["environment"] = env
        d["fleets"][0].update(count=5, area={"center_m": [6000, 0], "radius_m": 50})
        far = airan.run(scenario_from_dict(d), duration_s=0.2)
        median[env] = float(np.median(far.devices.column("sinr_dl_db").to_numpy()))
    assert median["rma"] > median["uma"] + 10.0, median


def test_a_drone_above_10_m_over_rural_cells_is_an_rma_av_aerial_ue(tmp_path: Any) -> None:
    d = _rural(device_class="drone", height_m=30)
    path = tmp_path / "rural-drones.yaml"
    path.write_text(yaml.safe_dump(d))
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 0, out.output
    assert "heights: vehicles 30 m (aerial, TR 36.777 RMa-AV)" in " ".join(out.output.split())
    assert pathloss.aerial_above_m("rma") == 10.0
    # in line of sight of every cell above 40 m (TR 36.777 Table B-1)
    assert float(pathloss.los_probability("rma", 5000.0, 45.0)) == 1.0


def test_rmas_indoor_devices_walk_0_10_m_to_the_wall_and_only_low_loss_applies() -> None:
    """TR 38.901 7.4.3.1 (a review of RMa): d_2D-in is the smaller of two uniform draws on
    0-10 m under RMa (0-25 m under UMa and UMi), and only the low-loss model applies to RMa.
    The same devices (one seed) inside low-loss buildings lose 0.5 dB/m x (25 - 10) m x
    min(u1, u2) less under RMa: between 0 and 7.5 dB, 2.5 dB on average (E min = 1/3)."""
    import pytest

    from airan.engine.world import build_world
    from airan.errors import InputError

    loss = {}
    for env in ("rma", "uma"):
        d = _rural(penetration="low-loss", count=3000)
        d["radio"]["environment"] = env
        loss[env] = build_world(scenario_from_dict(d), 1).dev_o2i.loss_db
    gap = loss["uma"] - loss["rma"]
    assert gap.min() >= -1e-9 and gap.max() <= 7.5 + 1e-9
    assert gap.mean() == pytest.approx(2.5, abs=0.15)
    with pytest.raises(InputError, match="low-loss O2I model only"):
        scenario_from_dict(_rural(penetration="high-loss"))
