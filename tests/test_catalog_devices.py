"""Device classes: a fleet's defaults from the catalog, its own fields winning; sourced values."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import airan
from airan.catalog import load_device_classes, load_gpus
from airan.cli import app
from airan.errors import InputError
from airan.radio.pathloss import UT_HEIGHT_RANGE_M
from airan.scenario import scenario_from_dict


def _factory() -> dict:
    return airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)


def test_every_class_names_a_catalog_accelerator_and_cites_its_values() -> None:
    gpus = load_gpus()
    for key, c in load_device_classes().items():
        assert c.accelerator == "none" or c.accelerator in gpus, key
        for field in ("height_m", "accelerator", *(["ul_buffer_kb"] if c.ul_buffer_kb else [])):
            assert c.source.get(field), (key, field)


def test_heights_follow_tr_38901() -> None:
    classes = load_device_classes()
    assert classes["handset"].height_m == 1.5  # TR 38.901 Table 7.2-1, outdoor UT
    # a drone flies at the highest UE height the UMa/UMi formulas cover (not above it)
    assert classes["drone"].height_m == UT_HEIGHT_RANGE_M[1]


def test_a_fleet_takes_its_class_defaults_and_its_own_fields_win() -> None:
    d = _factory()
    amr = d["fleets"][0]
    for key in ("height_m", "accelerator", "ul_buffer_kb"):
        amr.pop(key, None)
    amr["device_class"] = "drone"
    s = scenario_from_dict(d)
    assert (s.fleets[0].height_m, s.fleets[0].accelerator) == (22.5, "JetsonOrin")
    amr["height_m"] = 10.0
    amr["accelerator"] = "none"
    s = scenario_from_dict(d)
    assert (s.fleets[0].height_m, s.fleets[0].accelerator) == (10.0, "none")


def test_builtin_fleets_name_their_class() -> None:
    classes = {f.name: f.device_class for f in airan.load_scenario("factory").fleets}
    assert classes == {"amr": "amr", "arm": "robot-arm", "camera": "camera"}
    camera = next(f for f in airan.load_scenario("metro").fleets if f.name == "camera")
    assert camera.ul_buffer_kb == load_device_classes()["camera"].ul_buffer_kb


def test_unknown_class_suggests_the_close_one() -> None:
    d = _factory()
    d["fleets"][1]["device_class"] = "robotarm"
    with pytest.raises(InputError) as err:
        scenario_from_dict(d)
    assert "fleets[arm].device_class" in str(err.value)
    assert "did you mean 'robot-arm'" in str(err.value)


def test_catalog_devices_lists_every_class() -> None:
    result = CliRunner().invoke(app, ["catalog", "devices", "--sources"])
    assert result.exit_code == 0, result.output
    for key in load_device_classes():
        assert key in result.output
    assert "TR 38.901" in result.output


def test_a_written_scenario_reloads_with_its_class_values_and_its_own_fields() -> None:
    from airan.scenario.schema import DEVICE_CLASS_FIELDS

    d = airan.load_scenario("factory").model_dump(mode="json")
    arm = next(f for f in d["fleets"] if f["name"] == "arm")
    assert not set(arm) & set(DEVICE_CLASS_FIELDS)  # its class's values: not written out
    arm["device_class"] = "camera"  # so a changed class (a sweep, an edit) takes effect
    s = scenario_from_dict(d)
    camera = load_device_classes()["camera"]
    assert (s.fleets[1].height_m, s.fleets[1].ul_buffer_kb) == (camera.height_m,
                                                                camera.ul_buffer_kb)
    # a field the fleet sets to the schema's default is its own: kept where defaults are not
    arm["device_class"] = "robot-arm"
    arm["accelerator"] = "none"
    written = scenario_from_dict(d).model_dump(mode="json", exclude_defaults=True)
    assert scenario_from_dict(written).fleets[1].accelerator == "none"


def test_the_fields_a_class_sets_are_the_schemas_list() -> None:
    from airan.catalog import DeviceClass
    from airan.scenario.schema import DEVICE_CLASS_FIELDS

    assert set(DEVICE_CLASS_FIELDS) == set(DeviceClass.model_fields) - {"name", "source"}


def test_a_plain_cameras_cpu_runs_no_model_and_an_accelerator_it_is_given_does() -> None:
    """An integrator's review: inspection cameras ran YOLOv8m on the catalog's device CPU
    (220 ms), the class's own note saying a plain IP camera streams. Its class now says its CPU
    runs no model: no device time, so no policy keeps work there; a smart camera (a fleet of
    the class given an accelerator) or a fleet that says its CPU does still computes."""
    import numpy as np

    from airan.engine import Engine

    def local_s(**fleet: object) -> float:
        d = airan.load_scenario("factory").model_dump(mode="json")
        cams = next(f for f in d["fleets"] if f["name"] == "camera")
        cams.update(fleet)
        w = Engine(scenario_from_dict(d), duration_s=0.01).world
        return float(w.local_time_s[w.fleet_names.index("camera"),
                                    w.service_names.index("inspect")])

    assert np.isinf(local_s())
    assert 0.0 < local_s(accelerator="JetsonOrin") < 0.1
    assert local_s(cpu_runs_models=True) == pytest.approx(0.22, rel=0.05)  # the CPU's
    text = " ".join(CliRunner().invoke(app, ["catalog", "devices"],
                                       env={"COLUMNS": "200"}).output.split())
    assert "none (its CPU runs no model)" in text


def test_the_local_policy_on_cameras_that_run_no_model_is_warned_about() -> None:
    from airan.scenario.load import scenario_warnings

    def warned(policy: str) -> list[str]:
        return [w for w in scenario_warnings(airan.load_scenario("factory"), policy=policy)
                if "cpu_runs_models" in w]

    [line] = warned("local")
    assert "fleets[camera].cpu_runs_models" in line and "device class 'camera'" in line
    assert warned("deadline-aware") == []
