"""Bad input: one line ``error: ...`` naming the field, exit code 2, never a traceback."""

from __future__ import annotations

import copy
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError

runner = CliRunner()

BASE: dict[str, Any] = yaml.safe_load(
    resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
)


def mutated(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = copy.deepcopy(BASE)
    change(data)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def service(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in d["services"] if s["name"] == name)


def site(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in d["compute_sites"] if s["name"] == name)


def assert_input_error(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# (id, mutation, strings the message must contain)
CASES: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("unknown-gpu",
     lambda d: site(d, "regional")["gpus"][0].update(type="H10"),
     ("compute_sites[regional].gpus[0].type", "'H10'", "did you mean 'H100'")),
    ("unknown-model",
     lambda d: service(d, "detect").update(model="yolov8x"),
     ("services[detect].model", "'yolov8x'", "did you mean 'yolov8")),
    ("negative-rate",
     lambda d: service(d, "detect").update(rate_hz=-5),
     ("services[detect].rate_hz", "-5")),
    ("zero-deadline",
     lambda d: service(d, "vla").update(deadline_ms=0),
     ("services[vla].deadline_ms", "greater than 0")),
    ("link-to-unknown-node",
     lambda d: d["transport"]["links"][0].update(b="nowhere"),
     ("transport.links[0].b", "'nowhere'")),
    ("second-link-between-two-nodes",
     lambda d: d["transport"]["links"].append({**d["transport"]["links"][0], "fiber_km": 50}),
     ("transport.links[", "a second link between", "transport.links[0] joins them")),
    ("two-gpu-types-at-one-site",
     lambda d: site(d, "regional")["gpus"].append({"type": "L4", "count": 1}),
     ("compute_sites[regional].gpus[1].type", "'L4'", "one type")),
    ("zero-instances",
     lambda d: site(d, "regional").setdefault("batching", {}).update(instances=0),
     ("compute_sites[regional].batching.instances", "0")),
    ("overlap-below-one",
     lambda d: site(d, "regional").setdefault("batching", {}).update(overhead_overlap=0.5),
     ("compute_sites[regional].batching.overhead_overlap", "0.5")),
    ("unknown-policy",
     lambda d: d.update(policy="nearest_edge"),
     ("'policy'", "'nearest_edge'", "did you mean 'nearest-edge'")),
    ("unknown-top-level-field",
     lambda d: d.update(durations=3),
     ("'durations'", "did you mean 'duration_s'")),
    # values that once crashed a run after passing validation, or ran as nonsense
    ("negative-seed", lambda d: d.update(seed=-1), ("'seed'", "-1")),
    ("nan-position",
     lambda d: d["cell_sites"][0].update(position_m=[float("nan"), 0.0]),
     ("cell_sites[cell-a].position_m[0]", "finite", "nan")),
    ("position-beyond-the-earth",
     lambda d: d["cell_sites"][0].update(position_m=[1e300, 0.0]),
     ("cell_sites[cell-a].position_m[0]", "1e+300")),
    ("infinite-rate",
     lambda d: service(d, "detect").update(rate_hz=float("inf")),
     ("services[detect].rate_hz", "inf")),
    ("absurd-rate",
     lambda d: service(d, "detect").update(rate_hz=1e12),
     ("services[detect].rate_hz", "10000")),
    ("infinite-duration", lambda d: d.update(duration_s=float("inf")), ("'duration_s'", "inf")),
    ("huge-queue-limit",
     lambda d: site(d, "regional").update(queue_limit=10**30),
     ("compute_sites[regional].queue_limit",)),
    ("nan-p0", lambda d: d["radio"].update(ul_p0_dbm=float("nan")), ("radio.ul_p0_dbm", "nan")),
    ("tdd-without-downlink",
     lambda d: d["carrier"].update(tdd_pattern="UUUU"),
     ("carrier.tdd_pattern", "no downlink")),
    ("fr1-carrier-at-120-khz",
     lambda d: d["carrier"].update(numerology=3),
     ("carrier.numerology", "FR1", "3")),
    ("sector-like-name",
     lambda d: d["cell_sites"][0].update(name="a/0"),
     ("cell_sites", "'a/0'", "'/'")),
    ("a-service-listed-twice",
     lambda d: d["fleets"][0].update(services=["detect", "detect"]),
     ("fleets[amr].services", "'detect'", "more than once")),
    ("ttt-not-in-ts-38331",
     lambda d: d.update(handover={"ttt_ms": 161}),
     ("handover.ttt_ms", "161")),
    ("t310-not-in-ts-38331",
     lambda d: d.update(handover={"t310_ms": 1500}),
     ("handover.t310_ms", "1500", "1000, 2000")),
    ("n310-not-in-ts-38331",
     lambda d: d.update(handover={"n310": 5}),
     ("handover.n310", "5", "4, 6")),
    ("negative-reestablishment",
     lambda d: d.update(faults=[{"kind": "cell_down", "cell": "cell-a", "start_s": 0,
                                 "reestablish_ms": -1}]),
     ("faults[0].reestablish_ms", "-1")),
    ("negative-monitoring-power",
     lambda d: d.setdefault("radio", {}).update(ue_pdcch_w=-0.1),
     ("radio.ue_pdcch_w", "-0.1")),
    ("drx-cycle-not-in-ts38331",
     lambda d: d.setdefault("radio", {}).update(drx={"cycle_ms": 150}),
     ("radio.drx.cycle_ms", "150", "drx-LongCycle", "the nearest is 160")),
    ("drx-on-duration-as-long-as-the-cycle",
     lambda d: d.setdefault("radio", {}).update(drx={"cycle_ms": 20, "on_duration_ms": 20}),
     ("radio.drx", "on_duration_ms 20", "cycle_ms 20")),
    ("drx-inactivity-not-in-ts38331",
     lambda d: d.setdefault("radio", {}).update(drx={"inactivity_ms": 7}),
     ("radio.drx.inactivity_ms", "7", "drx-InactivityTimer")),
    ("drx-short-cycle-not-in-ts38331",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_ms": 9,
                                                     "short_cycle_timer": 2}),
     ("radio.drx.short_cycle_ms", "9", "drx-ShortCycle", "the nearest is 8")),
    ("drx-long-cycle-not-a-multiple-of-the-short",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_ms": 30,
                                                     "short_cycle_timer": 2}),
     ("radio.drx.short_cycle_ms", "short_cycle_ms 30", "does not divide cycle_ms 160")),
    ("drx-short-cycle-without-its-timer",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_ms": 20}),
     ("radio.drx", "short_cycle_timer", "1-16")),
    ("drx-short-cycle-timer-out-of-range",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_ms": 20,
                                                     "short_cycle_timer": 17}),
     ("radio.drx.short_cycle_timer", "17", "drx-ShortCycleTimer", "the nearest is 16")),
    ("drx-short-cycle-timer-without-a-short-cycle",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_timer": 2}),
     ("radio.drx.short_cycle_timer", "needs short_cycle_ms")),
    ("drx-on-duration-as-long-as-the-short-cycle",
     lambda d: d.setdefault("radio", {}).update(drx={"short_cycle_ms": 8,
                                                     "short_cycle_timer": 2}),
     ("radio.drx", "on_duration_ms 8", "short_cycle_ms 8")),
    ("drx-without-slots",
     lambda d: d.setdefault("radio", {}).update(model="fixed", drx={}),
     ("radio.drx", "'fixed'", "nr")),
    ("fleet-drx-without-slots",
     lambda d: (d.setdefault("radio", {}).update(model="fixed"),
                d["fleets"][0].update(drx={})),
     ("fleets[amr].drx", "'fixed'", "nr")),
    ("fleet-drx-cycle-not-in-ts38331",
     lambda d: d["fleets"][0].update(drx={"cycle_ms": 150}),
     ("fleets[amr].drx.cycle_ms", "150", "drx-LongCycle", "the nearest is 160")),
    ("fleet-drx-neither-a-setting-nor-off",
     lambda d: d["fleets"][0].update(drx="on"),
     ("fleets[amr].drx", "'on'", "'off'")),
    ("jitter-beyond-a-period",
     lambda d: service(d, "detect").update(jitter_ms=1e9),
     ("services[detect]", "jitter_ms", "period")),
    ("a-fault-field-of-another-kind",
     lambda d: d.update(faults=[{"kind": "site_down", "site": "on-prem", "fleet": "amr",
                                 "start_s": 0}]),
     ("faults[0]", "'fleet'")),
    ("unknown-device-class",
     lambda d: d["fleets"][0].update(device_class="agv"),
     ("fleets[amr].device_class", "'agv'", "airan catalog devices")),
    ("carrier-outside-its-band",
     lambda d: d["carrier"].update(band="n79", fc_ghz=3.7),
     ("carrier.fc_ghz", "3.7", "4400-5000 MHz", "TS 38.104")),
    ("tdd-pattern-in-an-fdd-band",
     lambda d: d["carrier"].update(band="n3", fc_ghz=1.84, bandwidth_mhz=20),
     ("carrier.tdd_pattern", "'DDSUU'", "FDD")),
    ("carrier-wider-than-its-band",
     lambda d: d["carrier"].update(band="n1", fc_ghz=2.14, tdd_pattern=None),
     ("carrier.bandwidth_mhz", "100", "n1", "at most 60 MHz")),
    ("fr2-band-outside",
     lambda d: d["carrier"].update(band="n257", fc_ghz=24.5, numerology=3),
     ("carrier.fc_ghz", "Table 5.2-2")),
    ("fdd-in-a-tdd-band",
     lambda d: d["carrier"].update(tdd_pattern=None),
     ("carrier.tdd_pattern", "n78 is TDD")),
    ("not-a-band-name",
     lambda d: d["carrier"].update(band="78"),
     ("carrier.band", "'78'", "did you mean 'n78'")),
    ("site-named-like-a-placement",
     lambda d: site(d, "on-prem").update(name="local"),
     ("compute_sites[local].name", "'local'", "reserved")),
    ("misspelt-required-field",  # not "model: required field is missing"
     lambda d: service(d, "detect").update(modle=service(d, "detect").pop("model")),
     ("services[detect].modle", "unknown field 'modle'", "did you mean 'model'")),
    ("required-field-without-its-unit",
     lambda d: service(d, "vla").update(deadline=service(d, "vla").pop("deadline_ms")),
     ("services[vla].deadline", "did you mean 'deadline_ms'")),
    ("misspelt-mobility-model",
     lambda d: d["fleets"][0].update(mobility={"model": "random-waypoint",
                                               "speed_mps": [1, 2]}),
     ("fleets[amr].mobility.model", "'random-waypoint'", "did you mean 'random_waypoint'")),
    ("reversed-speed-range",  # its value once, and no union tag in the field's path
     lambda d: d["fleets"][0].update(mobility={"model": "random_waypoint",
                                               "speed_mps": [2.0, 0.5]}),
     ("field 'fleets[amr].mobility.speed_mps'", "high] (got [2.0, 0.5])")),
    ("missing-field-of-a-mobility-model",  # no union tag in the path
     lambda d: d["fleets"][0].update(mobility={"model": "random_waypoint"}),
     ("field 'fleets[amr].mobility.speed_mps'", "required field is missing")),
    ("waypoint-without-a-height",  # (a port automation lead's review: "paths[0][0][2]:
     # required field is missing" did not say that a height is due)
     lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 2,
                                               "paths": [[[0, 0], [50, 0]]]}),
     ("field 'fleets[amr].mobility.paths[0][0]'", "2 values where 3 are expected",
      "[x, y, z] in m, z its height above ground", "(got [0, 0])")),
    ("waypoint-of-one-coordinate",  # the length due, not the first missing place (a review)
     lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 2,
                                               "paths": [[[0], [50, 0, 1]]]}),
     ("field 'fleets[amr].mobility.paths[0][0]'", "1 value where 3 are expected")),
    ("position-of-one-coordinate",
     lambda d: d["cell_sites"][0].update(position_m=[30]),
     ("field 'cell_sites[cell-a].position_m'", "1 value where 2 are expected", "(got [30])")),
    ("cloud-site-at-a-cell-site",
     lambda d: site(d, "cloud").update(at="cell-a"),
     ("compute_sites[cloud].at", "'cell-a'", "not a cell site")),
    ("misspelt-key-of-a-mobility-model",  # the union's tag in pydantic's path hid the choices
     lambda d: d["fleets"][0].update(mobility={"model": "random_waypoint", "speed": [1, 2]}),
     ("fleets[amr].mobility.speed", "did you mean 'speed_mps'", "Accepted: model, pause_s")),
    ("misspelt-key-of-a-disc-area",
     lambda d: d["fleets"][0].update(area={"center_m": [0, 0], "radius": 50}),
     ("fleets[amr].area.radius", "did you mean 'radius_m'", "Accepted: center_m, radius_m")),
    ("disc-area-without-units",  # (it read as a rectangle: "x_m: required field is missing")
     lambda d: d["fleets"][0].update(area={"center": [60, 30], "radius": 50}),
     ("fleets[amr].area.center", "did you mean 'center_m'", "Accepted: center_m, radius_m")),
    ("jitter-longer-than-a-period",  # the field, not the whole service printed
     lambda d: service(d, "detect").update(jitter_ms=200),
     ("field 'services[detect].jitter_ms'", "(got 200)")),
    ("fault-ending-before-it-starts",
     lambda d: d.update(faults=[{"kind": "site_down", "site": "on-prem", "start_s": 0.5,
                                 "end_s": 0.2}]),
     ("field 'faults[0].end_s'", "end_s must be after start_s (got 0.2)")),
    ("area-bounds-reversed",
     lambda d: d["fleets"][0].update(area={"x_m": [120, 0], "y_m": [0, 60]}),
     ("field 'fleets[amr].area.x_m'", "(got [120, 0])")),
    # a waypoint's z at most a fleet's height_m's top, 1,000 m (a drone maker's review: it took
    # up to 10,000 km); 0 is on the ground, as a trace's
    ("waypoint-below-the-ground",
     lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 5,
                                               "paths": [[[0, 0, 10], [50, 0, -1]]]}),
     ("field 'fleets[amr].mobility.paths[0][1][2]'", "greater than or equal to 0 (got -1)")),
    ("waypoint-above-a-fleets-height",
     lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 5,
                                               "paths": [[[0, 0, 1500]]]}),
     ("field 'fleets[amr].mobility.paths[0][0][2]'", "less than or equal to 1000 (got 1500)")),
    ("generated-waypoints-above-a-fleets-height",
     lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 5,
                                               "generate": {"altitude_m": [30, 2000]}}),
     ("field 'fleets[amr].mobility.generate.altitude_m[1]'",
      "less than or equal to 1000 (got 2000)")),
]


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(("change", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scenario_field(tmp_path: Path, command: str, change, needles) -> None:
    path = mutated(tmp_path, change)
    args = [command, str(path)] + (["--duration", "0.1", "--out", str(tmp_path)]
                                   if command == "run" else [])
    result = runner.invoke(app, args)
    assert_input_error(result, str(path), *needles)
    if command == "run":
        assert not (tmp_path / "summary.json").exists()


@pytest.mark.parametrize(("change", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_library_raises_input_error_with_field_path(tmp_path: Path, change, needles) -> None:
    path = mutated(tmp_path, change)
    with pytest.raises(InputError) as info:
        airan.load_scenario(path)
    for needle in needles:
        assert needle in str(info.value)
    assert info.value.field is not None and info.value.field in str(info.value)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("name: x\nservices:\n\t- name: a\n", ("malformed YAML", "line 3")),  # tab indent
        ("name: x\ncell_sites: [ {name: a\n", ("malformed YAML", "line 3",  # unclosed bracket
                                               "check its brackets and commas")),
        ("services:\n  - name: a\n    model: m\n  rate_hz: 1\n",  # a key indented less
         ("line 4, column 3: expected <block end>, but found a key", "at line 2, column 3: "
          "check the indentation")),
        ('name: "x\nduration_s: 2\n', ("malformed YAML", "check its quotes")),  # unclosed quote
    ],
    ids=["tab", "unclosed-bracket", "indentation", "unclosed-quote"],
)
def test_malformed_yaml(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    assert_input_error(runner.invoke(app, ["validate", str(path)]), str(path), *needles)
    assert_input_error(runner.invoke(app, ["run", str(path)]), str(path), *needles)
    with pytest.raises(InputError, match="malformed YAML"):
        airan.load_scenario(path)


def test_a_key_given_twice_is_an_error_not_the_last_one_silently(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False) + "seed: 7\n")  # seed: 1 above
    assert_input_error(runner.invoke(app, ["validate", str(path)]), str(path),
                       "'seed' given twice")


def test_a_key_given_twice_in_any_yaml_a_user_gives_is_an_error(tmp_path: Path) -> None:
    """Sweep files and GPU inventories too, and on one line ({count: 5, count: 7}): a
    review's sweep with two ``policy:`` axes ran the second only, its inventory with two counts
    totalled the second, each exit 0 without a word."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("scenario: factory\naxes:\n  policy: [nearest-edge]\n"
                     "  policy: [least-loaded]\n")
    assert_input_error(runner.invoke(app, ["sweep", str(sweep), "--dry-run"]), str(sweep),
                       "line 4, column 3: key 'policy' given twice (first at line 3)")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("name: x\ngroups:\n  - {name: a, count: 5, gpu: B200, count: 7}\n")
    assert_input_error(runner.invoke(app, ["capacity", str(inventory)]), str(inventory),
                       "key 'count' given twice (first at line 3)")
    scenario = tmp_path / "flow.yaml"
    scenario.write_text("name: x\nengine: {decision_interval_ms: 5, decision_interval_ms: 1}\n")
    assert_input_error(runner.invoke(app, ["validate", str(scenario)]), str(scenario),
                       "key 'decision_interval_ms' given twice")


def test_a_path_name_past_the_file_systems_limit_is_an_error_not_a_traceback(
        tmp_path: Path) -> None:
    """A file name over 255 bytes: pathlib's exists() raises (ENAMETOOLONG) where it returns
    False for a missing file; every command that takes a path showed a traceback, exit 1."""
    long = tmp_path / ("a" * 300)
    for args in (["validate", f"{long}.yaml"], ["sweep", f"{long}.yaml"],
                 ["run", "factory", "--duration", "0.1", "--no-report", "--out", str(long)]):
        assert_input_error(runner.invoke(app, args), str(long), "File name too long")


def test_a_full_disk_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """A disk that fills while a command writes raises an OSError that may name no file (a
    write to an open file): one line, exit 2, where it was a traceback (a review)."""
    import errno

    import typer

    from airan.console import _user_errors

    with pytest.raises(typer.Exit) as exit_, _user_errors():
        raise OSError(errno.ENOSPC, "No space left on device")
    assert exit_.value.exit_code == 2
    assert capsys.readouterr().err.strip() == (
        "error: cannot write the outputs: No space left on device")


def test_one_worker_on_a_ray_cluster_is_refused(tmp_path: Path) -> None:
    """``--workers 1`` runs in this process, without Ray, says its help; with ``--address``
    the sweep went to Ray all the same (a review)."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("scenario: factory\naxes:\n  policy: [nearest-edge]\n")
    for args in (["sweep", str(sweep)], ["run-sharded", "factory", "--regions", "2x2"]):
        assert_input_error(runner.invoke(app, [*args, "--workers", "1", "--address", "auto"]),
                           "option '--workers'", "without Ray")


def test_a_compute_site_named_like_a_generated_one_is_an_error(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["generated_compute_sites"] = {"every": 1, "gpus": [{"type": "L4", "count": 1}]}
        site(d, "on-prem")["name"] = "gpu-cell-a"  # the name generated for cell-a

    path = mutated(tmp_path, change)
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "compute_sites",
                       "'gpu-cell-a' (written once: generated_compute_sites names a site "
                       "gpu-<cell site>")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert_input_error(runner.invoke(app, ["validate", str(path)]), str(path), "not found")
    assert_input_error(runner.invoke(app, ["run", str(path)]), str(path), "not found")


def test_a_misspelt_key_is_named_before_a_missing_field(tmp_path: Path) -> None:
    """A first scenario with a typo and no fleets yet: the typo is named (with its match)
    first; the missing field once hid it until the user had added the field."""
    path = tmp_path / "first.yaml"
    path.write_text("name: x\nduraton_s: 2\n")
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "duraton_s",
                       "did you mean 'duration_s'")
    path.write_text("name: x\nduration_s: 2\n")
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "fleets", "missing")


def test_unknown_builtin_scenario() -> None:
    result = runner.invoke(app, ["run", "factroy"])
    assert_input_error(result, "'factroy'", "did you mean 'factory'")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--duration", "-1"], ("--duration", "positive", "-1")),
        (["--duration", "0"], ("--duration", "positive")),
        (["--fleet-scale", "0"], ("--fleet-scale", "positive")),
        (["--fleet-scale", "-2"], ("--fleet-scale", "positive")),
        (["--policy", "nearest_edge"],
         ("--policy", "'nearest_edge'", "did you mean 'nearest-edge'")),
        (["--trace-sample", "1.5"], ("--trace-sample",)),
        (["--trace-limit", "-1"], ("--trace-limit",)),
    ],
    ids=["negative-duration", "zero-duration", "zero-fleet-scale", "negative-fleet-scale",
         "unknown-policy", "trace-sample", "trace-limit"],
)
def test_bad_run_options(tmp_path: Path, args: list[str], needles: tuple[str, ...]) -> None:
    result = runner.invoke(app, ["run", *args, "--out", str(tmp_path / "out")])
    assert_input_error(result, *needles)
    assert not (tmp_path / "out").exists()


def test_usage_errors_keep_exit_code_2() -> None:
    result = runner.invoke(app, ["run", "--duration", "abc"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--duration" in result.output
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "needles"), [
    (["run", "--duration", "abc"], ["--duration", "'abc'", "number"]),
    (["run", "--seed=1.5"], ["--seed", "'1.5'", "integer"]),
    (["run", "-sx"], ["--seed", "'x'"]),
    (["run", "--fleet-scale", "2", "--fleet-scale", "ten"], ["--fleet-scale", "'ten'"]),
    (["run-sharded", "metro", "--workers", "two"], ["--workers", "'two'"]),  # another layer's
])
def test_a_value_of_the_wrong_type_is_named_with_its_option(args: list[str],
                                                            needles: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # no typer box
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize(("args", "needles"), [
    (["run", "--bogus"], ["No such option: --bogus", "'airan run --help' lists the options"]),
    (["validate"], ["Missing argument", "'airan validate --help'"]),
    (["nosuch"], ["No such command 'nosuch'", "'airan --help' lists the commands"]),
    (["--bogus"], ["No such option: --bogus", "'airan --help' lists the options"]),
    (["catalog", "--bogus"], ["No such option: --bogus", "'airan catalog --help'"]),
    # a group without its command prints its help; the error line said nothing ("error:  (...")
    (["catalog"], ["error: Missing command. ('airan catalog --help' lists the commands)"]),
    # an option without its value: the command's help, not the program's (a review)
    (["run", "factory", "--duration"], ["'--duration' requires an argument",
                                        "('airan run --help' lists the options)"]),
    (["catalog", "gpus", "--precision"], ["'airan catalog gpus --help' lists the options"]),
])
def test_usage_errors_are_one_line(args: list[str], needles: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_given_values_reads_every_way_of_writing_an_option() -> None:
    from types import SimpleNamespace

    from airan.console import given_values

    seed = SimpleNamespace(param_type_name="option", is_flag=False, opts=["--seed", "-s"],
                           secondary_opts=[])
    assert given_values(seed, ["run", "--seed", "3", "-s4", "--seed=5", "-s", "6"]) == [
        "3", "4", "5", "6"]
    assert given_values(seed, ["run", "--", "--seed", "3"]) == []
    assert given_values(seed, ["run", "--seed"]) == []  # no value follows


def test_catalog_models_unknown_gpu() -> None:
    assert_input_error(runner.invoke(app, ["catalog", "models", "--gpu", "H10"]),
                       "--gpu", "did you mean 'H100'")


def test_a_name_given_short_is_suggested_in_full(tmp_path: Path) -> None:
    from airan.errors import suggest

    assert suggest("mec", ["cell-a", "factory-mec", "cloud"]) == "factory-mec"
    assert suggest("mec", ["north-hall-mec", "south-hall-mec"]) is None  # two: no telling which
    # nor a name a letter away, when the name is part of several (a review's reference: A100)
    assert suggest("A100", ["A100-40GB", "A100-80GB", "H100"]) is None
    # but the error lists them (an operator's review: `--candidates A100` suggested nothing)
    assert_input_error(runner.invoke(app, ["plan", "factory", "--target", "vla: p99<=80ms",
                                           "--candidates", "A100"]),
                       "--candidates", "did you mean 'A100-40GB' or 'A100-80GB'?")
    path = mutated(tmp_path, lambda d: d["transport"]["backhaul"].update(to="mec"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]),
                       "transport.backhaul.to", "did you mean 'factory-mec'?")
    path = mutated(tmp_path, lambda d: d["fleets"][0].update(device_class="agv"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]),
                       "unknown device class 'agv'. Accepted:")


def test_a_gh200_site_validates_where_it_was_taken_for_a_typo_of_h200(tmp_path: Path) -> None:
    """An operator's `type: GH200` (NVIDIA's AI-RAN platform) got "did you mean 'H200'"; it is a
    catalog GPU now, and a near miss of it is suggested as itself."""
    path = mutated(tmp_path, lambda d: site(d, "regional")["gpus"][0].update(type="GH200"))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert "did you mean" not in res.output
    path = mutated(tmp_path, lambda d: site(d, "regional")["gpus"][0].update(type="GH20"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "did you mean 'GH200'")


def test_a_share_written_as_a_percentage_says_it_wants_a_fraction(tmp_path: Path) -> None:
    """A robot maker's review: `target_hit_ratio: 99` got "less than or equal to 1" alone."""
    path = mutated(tmp_path, lambda d: service(d, "detect").update(target_hit_ratio=99))
    assert_input_error(runner.invoke(app, ["validate", str(path)]),
                       "services[detect].target_hit_ratio", "(a fraction: 0.99 for 99%)")
    path = mutated(tmp_path, lambda d: service(d, "detect").update(target_hit_ratio=1000))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "a fraction" not in res.stderr  # no percentage either
