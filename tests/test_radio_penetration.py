"""Building (O2I) and in-car penetration loss, TR 38.901 7.4.3:

* the external wall's loss PL_tw equals Table 7.4.3-2's formulas over Table 7.4.3-1's
  materials at hand-computed points;
* a device's own part has the TR's distribution (PL_in over the smaller of two uniform
  distances, sigma_P; a car's N(9, 5^2));
* in the engine a fleet inside loses exactly its devices' loss on every link, nothing else
  about the world changes, and its uploads take longer; indoor environments refuse it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from airan import InputError
from airan.engine import Engine
from airan.radio import penetration
from airan.scenario import load_scenario, scenario_from_dict


def _db(x: float) -> float:
    return 10 * math.log10(x)


@pytest.mark.parametrize("fc_ghz", [0.7, 3.5, 28.0])
def test_wall_loss_is_table_7_4_3_2_over_the_materials_of_table_7_4_3_1(fc_ghz: float) -> None:
    glass, irr, concrete = 2 + 0.2 * fc_ghz, 23 + 0.3 * fc_ghz, 5 + 4 * fc_ghz
    low = 5 - _db(0.3 * 10 ** (-glass / 10) + 0.7 * 10 ** (-concrete / 10))
    high = 5 - _db(0.7 * 10 ** (-irr / 10) + 0.3 * 10 ** (-concrete / 10))
    assert penetration.wall_loss_db("low-loss", fc_ghz) == pytest.approx(low, abs=1e-12)
    assert penetration.wall_loss_db("high-loss", fc_ghz) == pytest.approx(high, abs=1e-12)
    assert penetration.wall_loss_db("car", fc_ghz) == 0.0  # a car's is its draw alone
    # by code, as the engine takes it per device
    code = np.array([0, 1, 2, 3])
    np.testing.assert_allclose(penetration.wall_loss_by_code_db(code, fc_ghz),
                               [0.0, low, high, 0.0], atol=1e-12)


def test_wall_loss_at_3_5_ghz_by_hand() -> None:
    # low-loss: 5 - 10 log10(0.3 x 10^-0.27 + 0.7 x 10^-1.9) = 5 + 7.698
    assert penetration.wall_loss_db("low-loss", 3.5) == pytest.approx(12.698, abs=1e-3)
    # high-loss: 5 - 10 log10(0.7 x 10^-2.405 + 0.3 x 10^-1.9) = 5 + 21.850
    assert penetration.wall_loss_db("high-loss", 3.5) == pytest.approx(26.850, abs=1e-3)


@pytest.mark.parametrize("model, mean, std", [
    # PL_in = 0.5 d, d the smaller of two U(0, 25): mean 25/3 m, variance 25^2/18 m^2
    ("low-loss", 0.5 * 25 / 3, math.sqrt(0.25 * 25**2 / 18 + 4.4**2)),
    ("high-loss", 0.5 * 25 / 3, math.sqrt(0.25 * 25**2 / 18 + 6.5**2)),
    ("car", 9.0, 5.0),
    ("none", 0.0, 0.0),
])
def test_a_devices_own_loss_has_the_trs_distribution(model: str, mean: float, std: float) -> None:
    n = 400_000
    code = np.full(n, penetration.MODELS.index(model))  # type: ignore[arg-type]
    loss = penetration.device_loss_db(code, np.random.default_rng(5).random((n, 3)))
    assert loss.mean() == pytest.approx(mean, abs=0.03)
    assert loss.std() == pytest.approx(std, abs=0.03)


def _city(penetration_model: str | None) -> Any:
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    if penetration_model is not None:
        d["fleets"][0]["penetration"] = penetration_model
    return scenario_from_dict(d)


@pytest.mark.parametrize("model", ["low-loss", "high-loss", "car"])
def test_a_fleet_inside_loses_its_devices_loss_on_every_link_and_nothing_else_moves(
        model: str) -> None:
    out, inside = Engine(_city(None), duration_s=2.0), Engine(_city(model), duration_s=2.0)
    w0, w1 = out.world, inside.world
    np.testing.assert_array_equal(w0.dev_xy, w1.dev_xy)  # the same devices, cells, order
    np.testing.assert_array_equal(w0.dev_top_cell, w1.dev_top_cell)
    fc = w1.device_radio.cell_fc[w1.dev_top_cell]  # [N, K] GHz
    want_db = penetration.wall_loss_by_code_db(w1.dev_o2i.code[:, None], fc) \
        + w1.dev_o2i.loss_db[:, None]
    listed = w0.dev_top_gain > 0
    got_db = 10 * np.log10(w0.dev_top_gain[listed] / w1.dev_top_gain[listed])
    np.testing.assert_allclose(got_db, want_db[listed], atol=1e-9)
    assert (w1.dev_o2i.code == penetration.MODELS.index(model)).all()  # type: ignore[arg-type]
    # the devices' map says it
    table = inside.device_table()
    np.testing.assert_allclose(table["penetration_db"].to_numpy(), want_db[:, 0], atol=1e-9)
    # weaker links: longer uploads (city's 1,000 vehicles at 3.5 GHz)
    summaries = [e.run().summary for e in (out, inside)]
    ul = [s["services"]["perception"]["breakdown_ms"]["ul_air"] for s in summaries]
    assert ul[1] > ul[0], ul
    # the summary says it, per fleet: the model and its devices' mean loss
    fleet = summaries[1]["fleets"]["vehicles"]
    assert fleet["penetration"] == model
    assert fleet["penetration_db"] == pytest.approx(float(want_db[:, 0].mean()), rel=1e-12)
    assert "penetration" not in summaries[0]["fleets"]["vehicles"]


def test_penetration_is_refused_for_an_indoor_environment_by_name() -> None:
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["penetration"] = "low-loss"
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    assert err.value.field == f"fleets[{d['fleets'][0]['name']}].penetration"
    assert "outdoor cells" in str(err.value)
    d["fleets"][0]["penetration"] = "low-los"
    with pytest.raises(InputError, match="low-loss"):
        scenario_from_dict(d)


def test_a_devices_loss_does_not_depend_on_the_devices_after_it() -> None:
    """Each device's draws are its own: a fleet after it growing leaves its loss (and its
    position) as it was, so a sweep over another fleet's count compares the same devices."""
    def losses(count_b: int) -> np.ndarray:
        d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
        a = d["fleets"][0]
        a.update(count=30, penetration="low-loss")
        d["fleets"] = [a, {**a, "name": "b", "count": count_b, "penetration": "car"}]
        w = Engine(scenario_from_dict(d), duration_s=0.01).world
        return np.c_[w.dev_xy[:30], w.dev_o2i.loss_db[:30]]

    np.testing.assert_array_equal(losses(10), losses(20))


def test_penetration_needs_the_nr_radio_and_a_policy_cannot_write_it() -> None:
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["penetration"] = "car"
    d["radio"]["model"] = "ideal"
    with pytest.raises(InputError, match="needs the nr radio's path loss") as err:
        scenario_from_dict(d)
    assert err.value.field == "fleets[vehicles].penetration"
    eng = Engine(_city("car"), duration_s=0.01)
    frozen = eng.snapshot().world.dev_o2i  # type: ignore[attr-defined]
    assert not frozen.loss_db.flags.writeable and not frozen.code.flags.writeable
    np.testing.assert_array_equal(frozen.loss_db, eng.world.dev_o2i.loss_db)


def test_a_fleet_of_an_indoor_class_under_outdoor_cells_is_warned_it_is_taken_outdoors() -> None:
    """city's cells with an AMR fleet that does not say where it works: a warning names the
    field (the twin takes it outdoors); saying 'none' (metro's, korea's) or 'low-loss' is
    quiet, as is an indoor environment (factory's InF cells are in the hall with it)."""
    from airan.scenario.load import scenario_warnings

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["fleets"].append({"name": "robots", "count": 10, "device_class": "amr",
                        "services": [d["services"][0]["name"]]})
    said = [w for w in scenario_warnings(scenario_from_dict(d))
            if "fleets[robots].penetration" in w]
    assert len(said) == 1 and "usually works indoors" in said[0] and "UMa's" in said[0]
    for given in ("none", "low-loss"):
        d["fleets"][-1]["penetration"] = given
        assert not any("penetration" in w for w in scenario_warnings(scenario_from_dict(d)))
    for name in ("metro", "korea", "factory"):
        assert not any("penetration" in w for w in scenario_warnings(load_scenario(name)))
