"""A service's measured times: ``measured_on`` carries them to other GPUs and to devices by the
roofline's ratio, ``on_device_ms`` sets a device accelerator's own, and the times that look
mistyped (or a deadline no placement can meet) are warned about."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import airan
from airan.catalog import load_gpus, load_models
from airan.compute.roofline import peak_roofline_s, service_time_table_s
from airan.engine import Engine
from airan.errors import InputError
from airan.scenario import scenario_from_dict
from airan.scenario.load import scenario_warnings


def _factory(**service_time: Any) -> dict[str, Any]:
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    vla = next(v for v in d["services"] if v["name"] == "vla")
    vla["service_time"] = service_time
    return d


def _warnings(d: dict[str, Any]) -> list[str]:
    return scenario_warnings(scenario_from_dict(d))


def test_times_measured_on_one_gpu_carry_to_others_and_to_devices_by_the_roofline() -> None:
    d = _factory(dist="fixed", batch_ms={1: 130.0, 8: 200.0}, measured_on="L40S")
    w = Engine(scenario_from_dict(d), duration_s=0.01).world
    m = w.model_names.index("openvla-7b@vla")
    model, gpus = load_models()["openvla-7b"], load_gpus()
    given = np.interp(np.arange(1, 9), [1, 8], [0.130, 0.200])

    def roof(gpu: str) -> np.ndarray:
        return service_time_table_s(model, gpus[gpu], 8)[1:9]

    types = w.gpu_type_names
    # on the GPU they were measured on: as given; on an H100: times its roofline's ratio
    assert w.svc_time_s[m, types.index("L40S"), 1:9] == pytest.approx(given, rel=1e-12)
    assert w.svc_time_s[m, types.index("H100"), 1:9] == pytest.approx(
        given * roof("H100") / roof("L40S"), rel=1e-12)
    assert roof("H100")[0] < 0.5 * roof("L40S")[0]  # (the ratio is far from 1: a real check)
    # the arms' Jetson Thor runs it at the batch-1 time carried the same way
    arm, vla = w.fleet_names.index("arm"), w.service_names.index("vla")
    thor = service_time_table_s(model, gpus["JetsonThor"], 1)[1]
    assert w.local_time_s[arm, vla] == pytest.approx(0.130 * thor / roof("L40S")[0], rel=1e-12)


def test_without_measured_on_the_times_apply_as_given_and_devices_run_the_roofline() -> None:
    d = _factory(dist="fixed", mean_ms=130.0)
    w = Engine(scenario_from_dict(d), duration_s=0.01).world
    m = w.model_names.index("openvla-7b@vla")
    assert np.all(w.svc_time_s[m, :, 1] == 0.130)
    arm, vla = w.fleet_names.index("arm"), w.service_names.index("vla")
    thor = service_time_table_s(load_models()["openvla-7b"], load_gpus()["JetsonThor"], 1)[1]
    assert w.local_time_s[arm, vla] == thor


def test_a_time_measured_on_the_device_is_what_the_device_takes() -> None:
    d = _factory(dist="fixed", mean_ms=130.0, on_device_ms={"JetsonThor": 150.0})
    d["fleets"] = [f for f in d["fleets"] if f["name"] == "arm"]
    d["services"] = [v for v in d["services"] if v["name"] == "vla"]
    s = Engine(scenario_from_dict(d), duration_s=2.0, policy="local").run().summary
    vla = s["services"]["vla"]
    assert vla["met"] > 0
    assert vla["breakdown_ms"]["compute"] == pytest.approx(150.0, rel=1e-9)


@pytest.mark.parametrize(("service_time", "match"), [
    ({"dist": "fixed", "mean_ms": 130.0, "measured_on": "L4OS"},
     r"services\[vla\]\.service_time\.measured_on.*L4OS.*L40S"),
    ({"dist": "fixed", "mean_ms": 130.0, "on_device_ms": {"JetsonTor": 150.0}},
     r"services\[vla\]\.service_time\.on_device_ms.*JetsonTor.*JetsonThor"),
    # a device's time alone (it said 'fixed needs exactly [mean_ms]', of a dist never written)
    ({"on_device_ms": {"JetsonThor": 150.0}},
     r"services\[vla\]\.service_time\.on_device_ms.*also needs the compute sites' time"),
])
def test_a_misspelt_gpu_in_a_measured_time_is_refused_by_name(service_time: dict[str, Any],
                                                             match: str) -> None:
    with pytest.raises(InputError, match=match):
        scenario_from_dict(_factory(**service_time))


def test_times_in_seconds_for_ms_are_warned_about_against_the_gpus_peak() -> None:
    assert not [w for w in _warnings(_factory(dist="fixed", mean_ms=130.0, measured_on="L40S"))
                if "peak" in w]
    warned = [w for w in _warnings(_factory(dist="fixed", mean_ms=0.13, measured_on="L40S"))
              if "peak" in w]
    bound = peak_roofline_s(load_models()["openvla-7b"], load_gpus()["L40S"])
    assert len(warned) == 1 and "services[vla].service_time" in warned[0]
    assert f"{bound * 1e3:.3g} ms" in warned[0] and "seconds" in warned[0]
    assert "give it as measured_on" not in warned[0]  # (it has one)
    # without measured_on, a time from a faster GPU than the scenario's is one likely cause
    (alike,) = [w for w in _warnings(_factory(dist="fixed", mean_ms=0.13)) if "peak" in w]
    assert "or measured on a faster GPU: give it as measured_on (without it the time is " \
        "taken on every GPU alike)" in " ".join(alike.split())


def test_a_batch_table_that_falls_or_stops_short_of_max_batch_is_warned_about() -> None:
    ok = _warnings(_factory(dist="fixed", batch_ms={1: 130.0, 8: 200.0, 32: 500.0}))
    assert not [w for w in ok if "batch_ms" in w]
    falls = _warnings(_factory(dist="fixed", batch_ms={1: 130.0, 4: 120.0, 32: 500.0}))
    assert [w for w in falls if "batch of 4 takes less time" in w]
    short = [w for w in _warnings(_factory(dist="fixed", batch_ms={1: 130.0, 8: 200.0}))
             if "beyond the largest size measured (8)" in w]
    # on-prem batches up to 8, the regional edge up to 16, the cloud up to 32
    assert len(short) == 1 and "up to 16 run at compute site regional and 1 more" in short[0]


def test_a_deadline_shorter_than_the_model_anywhere_is_warned_about() -> None:
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    h100 = service_time_table_s(load_models()["openvla-7b"], load_gpus()["H100"], 1)[1]
    found = {}
    for deadline_ms in (h100 * 1e3 * 0.9, h100 * 1e3 * 1.1):
        next(v for v in d["services"] if v["name"] == "vla")["deadline_ms"] = deadline_ms
        found[deadline_ms] = [w for w in _warnings(d) if "services[vla].deadline_ms" in w
                                    and "over the radio" not in w]
    short, enough = found.values()
    assert len(short) == 1 and f"{h100 * 1e3:.3g} ms on an H100 at batch 1" in short[0]
    assert not enough
    assert "seconds written?" not in short[0]
    # 0.2 for 200 ms: the unit is named
    next(v for v in d["services"] if v["name"] == "vla")["deadline_ms"] = 0.2
    (secs,) = [w for w in _warnings(d) if "services[vla].deadline_ms" in w
                     and "over the radio" not in w]
    assert "(deadline_ms is in milliseconds: seconds written?)" in secs


def test_an_on_device_time_for_an_accelerator_no_fleet_has_is_warned_about() -> None:
    found = [w for w in _warnings(_factory(dist="fixed", mean_ms=130.0,
                                           on_device_ms={"JetsonOrin": 150.0}))
             if "on_device_ms" in w and "no fleet" in w]
    assert len(found) == 1 and "JetsonOrin" in found[0]


@pytest.mark.parametrize("name", ["factory", "city", "metro", "korea"])
def test_the_built_in_scenarios_raise_none_of_these_warnings(name: str) -> None:
    s = airan.load_scenario(name)
    assert not [w for w in scenario_warnings(s) if "service_time" in w or "fastest" in w]


def test_no_deadline_warning_for_a_service_that_makes_no_request() -> None:
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    next(v for v in d["services"] if v["name"] == "vla")["deadline_ms"] = 20.0
    assert [w for w in _warnings(d) if "services[vla].deadline_ms" in w
                  and "over the radio" not in w]
    next(f for f in d["fleets"] if f["name"] == "arm")["count"] = 0
    assert not [w for w in _warnings(d) if "services[vla].deadline_ms" in w
                      and "over the radio" not in w]


def test_the_peak_check_compares_a_table_at_its_smallest_size() -> None:
    """A table measured from batch 8 up is checked at batch 8, not at a batch-1 time drawn
    down from it (which a memory-bound model's sensible table can fall below)."""
    peak8 = peak_roofline_s(load_models()["openvla-7b"], load_gpus()["L40S"], 8) * 1e3
    sensible = _factory(dist="fixed", batch_ms={8: 1.2 * peak8, 16: 2.4 * peak8},
                        measured_on="L40S")
    assert not [w for w in _warnings(sensible) if "peak" in w]
    typo = _factory(dist="fixed", batch_ms={8: 0.5 * peak8, 16: 2.4 * peak8},
                    measured_on="L40S")
    found = [w for w in _warnings(typo) if "peak" in w]
    assert len(found) == 1 and "at batch 8" in found[0]


def test_the_peak_check_reads_generated_compute_sites() -> None:
    d = airan.load_scenario("metro").model_dump(mode="json", exclude_unset=True)
    gen = d["generated_compute_sites"]["gpus"][0]["type"]
    d["compute_sites"] = []
    perception = d["services"][0]
    perception["service_time"] = {"dist": "fixed", "mean_ms": 1e-4}
    found = [w for w in _warnings(d) if "peak" in w and perception["name"] in w]
    assert len(found) == 1 and f"({gen}:" in found[0]


def test_the_deadline_warning_takes_a_spread_times_least() -> None:
    """A uniform time can be as short as its low end, an exponential or lognormal one as short
    as any deadline: no warning says no request can meet a deadline some do."""
    spread = _factory(dist="uniform", low_ms=5.0, high_ms=300.0, measured_on="H100")
    next(v for v in spread["services"] if v["name"] == "vla")["deadline_ms"] = 100.0
    assert not [w for w in _warnings(spread) if "services[vla].deadline_ms" in w
                      and "over the radio" not in w]
    next(v for v in spread["services"] if v["name"] == "vla")["deadline_ms"] = 4.0
    found = [w for w in _warnings(spread) if "services[vla].deadline_ms" in w
                   and "over the radio" not in w]
    assert len(found) == 1 and "5 ms on an H100" in found[0]
    expo = _factory(dist="exponential", mean_ms=250.0)
    next(v for v in expo["services"] if v["name"] == "vla")["deadline_ms"] = 1.0
    assert not [w for w in _warnings(expo) if "services[vla].deadline_ms" in w
                      and "over the radio" not in w]
    fixed = _factory(dist="fixed", mean_ms=250.0)
    next(v for v in fixed["services"] if v["name"] == "vla")["deadline_ms"] = 200.0
    found = [w for w in _warnings(fixed) if "services[vla].deadline_ms" in w
                   and "over the radio" not in w]
    assert len(found) == 1 and "250 ms on any compute site's GPU" in found[0]


def test_the_deadline_warning_takes_an_on_device_times_spread_and_a_cv_of_0() -> None:
    # the arms' Thor takes 200 ms x U(0.75, 1.25): a 180 ms deadline can be met
    spread = _factory(dist="uniform", low_ms=300.0, high_ms=500.0, measured_on="H100",
                      on_device_ms={"JetsonThor": 200.0})
    next(v for v in spread["services"] if v["name"] == "vla")["deadline_ms"] = 180.0
    assert not [w for w in _warnings(spread) if "services[vla].deadline_ms" in w
                      and "over the radio" not in w]
    # a lognormal of cv 0 has no spread: 300 ms always
    still = _factory(dist="lognormal", mean_ms=300.0, cv=0.0)
    next(v for v in still["services"] if v["name"] == "vla")["deadline_ms"] = 100.0
    assert [w for w in _warnings(still) if "services[vla].deadline_ms" in w
                  and "over the radio" not in w]


def _own_model(**model: Any) -> dict[str, Any]:
    """factory with the arms' VLA as a model of one's own, ``models: {myvla: ...}``."""
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {"myvla": model}
    next(v for v in d["services"] if v["name"] == "vla")["model"] = "myvla"
    return d


def test_a_models_own_measured_time_is_the_sites_and_devices_run_its_roofline() -> None:
    """A robot maker's review: a model of one's own given as ``service_time_ms: 80`` (its
    GFLOPs too) ran in 80 ms on the robot's bare CPU, whose roofline is seconds, where the same
    time as a service's ``service_time`` runs the roofline on board (docs/scenario.md: "as a
    service's service_time"). Now alike: the sites take the time, the devices the model's
    roofline."""
    roof = {"params": 3.0e9, "precision": "bf16", "gflops": 1600, "weight_bytes": 6.0e9,
            "efficiency": {"compute": 1.0, "memory": 1.0}}
    d = _own_model(service_time_ms=80, **roof)
    sc = scenario_from_dict(d)
    w = Engine(sc, duration_s=0.01).world
    arm, vla = w.fleet_names.index("arm"), w.service_names.index("vla")
    m = w.svc_model[vla]
    assert np.all(w.svc_time_s[m, :, 1] == pytest.approx(0.080))  # every site GPU
    plain = sc.model_catalog()["myvla"].model_copy(update={"service_time_ms": None})
    thor = service_time_table_s(plain, load_gpus()["JetsonThor"], 1)[1]
    assert w.local_time_s[arm, vla] == pytest.approx(thor, rel=1e-12)
    assert abs(thor / 0.080 - 1) > 0.5  # (the roofline is far from the time: a real check)
    assert not [x for x in _warnings(d) if "no FLOPs" in x]
    # with no FLOPs there is no roofline: the device runs the time too, and validate says so
    bare = _own_model(service_time_ms=80)
    w = Engine(scenario_from_dict(bare), duration_s=0.01).world
    assert w.local_time_s[arm, vla] == pytest.approx(0.080)
    [x] = [x for x in _warnings(bare) if "no FLOPs" in x]
    assert "on board (JetsonThor)" in x and "on_device_ms: {JetsonThor: ...}" in x
    assert "field 'services[vla].model'" in x and "its own measured time" in x
    # FLOPs and no efficiency: no roofline either, and the warning says which is missing (an
    # XR maker's review: it read "no FLOPs", and "got 'none'", the accelerator)
    half = _own_model(service_time_ms=80, gflops=1600, params=3.0e9, precision="bf16",
                      weight_bytes=6.0e9)
    [x] = [x for x in _warnings(half) if "for a roofline" in x]
    assert "no efficiency for a roofline" in x and "got" not in x
    bare["services"][1]["service_time"] = {"dist": "fixed", "mean_ms": 80,
                                           "on_device_ms": {"JetsonThor": 400}}
    assert next(v for v in bare["services"] if v["name"] == "vla") is bare["services"][1]
    assert not [x for x in _warnings(bare) if "no FLOPs" in x]


def test_the_catalog_lists_a_devices_roofline_for_a_model_measured_at_the_sites(
        tmp_path: Any) -> None:
    """`airan catalog models --gpu JetsonThor` gives what the engine runs on board: a model's
    own measured time is the compute sites', the device's its roofline (marked)."""
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    d = _own_model(service_time_ms=80, params=3.0e9, precision="bf16", gflops=1600,
                   weight_bytes=6.0e9, efficiency={"compute": 1.0, "memory": 1.0})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    sc = scenario_from_dict(d)
    plain = sc.model_catalog()["myvla"].model_copy(update={"service_time_ms": None})
    thor_ms = service_time_table_s(plain, load_gpus()["JetsonThor"], 1)[1] * 1e3
    runner = CliRunner()
    out = runner.invoke(app, ["catalog", "models", "--scenario", str(path), "--gpu",
                              "JetsonThor"]).output
    assert f"{thor_ms:.2f}*" in out and "its measured service_time_ms is the compute" in out
    h100 = runner.invoke(app, ["catalog", "models", "--scenario", str(path), "--gpu",
                               "H100"]).output
    assert "80.00 " in h100 and "*" not in h100


def test_a_warning_of_a_model_two_services_run_is_given_once() -> None:
    """A teleoperation lead's review: a model of one's own with a flat measured time, run by
    two services at sites that batch it, had its batching warning printed twice, word for
    word (it names the model's field, not a service's)."""
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["models"] = {**d.get("models", {}), "relay": {"service_time_ms": 0.1}}
    first = next(v for v in d["services"] if v["name"] == "detect")
    d["services"] += [{**first, "name": "video", "model": "relay"},
                      {**first, "name": "control", "model": "relay"}]
    for f in d["fleets"]:
        if "detect" in f.get("services", []):
            f["services"] = [*f["services"], "video", "control"]
    said = [w for w in _warnings(d) if "models[relay].service_time_ms" in w]
    assert len(said) == 1 and "batches of up to" in said[0]
    assert len(set(_warnings(d))) == len(_warnings(d))
