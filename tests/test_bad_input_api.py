"""Bad input to the command line's run-like commands, the Python API and sweep files: one clear
message naming the option or field and the value (exit code 2 from the CLI), never a traceback."""

from __future__ import annotations

import math
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError

runner = CliRunner()

RUN_LIKE = ["run", "compare", "plan", "run-sharded"]


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def assert_input_error(result: Any, *needles: str) -> None:
    text = result.output
    assert result.exit_code == 2, text
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.fixture(scope="module")
def factory() -> airan.Scenario:
    return airan.load_scenario("factory")


def factory_dict() -> dict[str, Any]:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    return yaml.safe_load(text)  # type: ignore[no-any-return]


# ---- 1, 2, 3, 11: the options every run-like command shares -----------------------------------
@pytest.mark.parametrize("command", RUN_LIKE)
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--seed", "-1"], ("--seed", "-1")),
        (["--seed", str(2**63)], ("--seed", str(2**63))),
        (["--duration", "inf"], ("--duration", "inf")),
        (["--duration", "nan"], ("--duration", "nan")),
    ],
    ids=["negative-seed", "huge-seed", "inf-duration", "nan-duration"],
)
def test_shared_options_rejected_before_any_work(tmp_path: Path, command: str, args: list[str],
                                                 needles: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    result = invoke(command, *args, "--out", str(out))
    assert_input_error(result, *needles)
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "compare", "run-sharded"])
def test_fleet_scale_must_be_finite(command: str) -> None:
    assert_input_error(invoke(command, "--fleet-scale", "inf"), "--fleet-scale", "inf")


def test_trace_limit_is_bounded(tmp_path: Path) -> None:
    result = invoke("run", "--trace-limit", "99999999999999999999", "--out", str(tmp_path / "o"))
    assert_input_error(result, "--trace-limit", "99999999999999999999", "1,000,000,000")


@pytest.mark.parametrize("command", ["compare", "plan"])
def test_seeds_is_bounded(command: str) -> None:
    assert_input_error(invoke(command, "--seeds", "100000000000"), "--seeds", "100000000000",
                       "10,000")


# ---- 4: --fleet-scale that gives too many devices, or none --------------------------------------
@pytest.mark.parametrize("command", ["run", "compare", "run-sharded"])
def test_fleet_scale_too_many_devices(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out"
    result = invoke(command, "factory", "--fleet-scale", "1e12", "--out", str(out))
    assert_input_error(result, "--fleet-scale", "1e+12", "58,000,000,000,000 devices",
                       "50,000,000")
    assert not out.exists()


@pytest.mark.parametrize("command", ["run", "compare"])
def test_fleet_scale_leaving_no_device(tmp_path: Path, command: str) -> None:
    result = invoke(command, "--fleet-scale", "1e-6", "--out", str(tmp_path / "out"))
    assert_input_error(result, "--fleet-scale", "1e-06", "no device")


@pytest.mark.parametrize(
    ("factor", "needles"),
    [(math.inf, ("positive and finite", "inf")), (math.nan, ("nan",)),
     (1e12, ("58,000,000,000,000 devices",)), (1e-9, ("no device",)), ("x", ("number",))],
    ids=["inf", "nan", "huge", "tiny", "text"],
)
def test_scale_fleets_api(factory: airan.Scenario, factor: Any, needles: tuple[str, ...]) -> None:
    with pytest.raises(InputError) as info:
        airan.scale_fleets(factory, factor)
    assert info.value.field == "fleet_scale"
    for needle in needles:
        assert needle in str(info.value)


def test_scale_fleets_api_still_scales(factory: airan.Scenario) -> None:
    scaled = airan.scale_fleets(factory, 2)
    assert sum(f.count for f in scaled.fleets) == 2 * sum(f.count for f in factory.fleets)


# ---- 1, 2, 3, 6: the Python API's arguments ------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field", "shown"),
    [
        ({"seed": -1}, "seed", "-1"),
        ({"seed": "abc"}, "seed", "'abc'"),
        ({"seed": 1.7}, "seed", "1.7"),
        ({"seed": 2**63}, "seed", str(2**63)),
        ({"seed": True}, "seed", "True"),
        ({"duration_s": math.inf}, "duration_s", "inf"),
        ({"duration_s": "abc"}, "duration_s", "'abc'"),
        ({"duration_s": 1e300}, "duration_s", "at most 864000 s"),
        ({"duration_s": 1e308}, "duration_s", "at most 864000 s"),
        ({"trace_limit": 10**20}, "trace_limit", str(10**20)),
        ({"trace_limit": 2.5}, "trace_limit", "2.5"),
        ({"trace_sample": "x"}, "trace_sample", "'x'"),
        ({"policy": 5}, "policy", "5"),
        ({"fleet_scale": math.inf}, "fleet_scale", "inf"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "-".join(f"{k}={x}" for k, x in
                                                                 v.items()),
)
def test_api_arguments(factory: airan.Scenario, kwargs: dict[str, Any], field: str,
                       shown: str) -> None:
    with pytest.raises(InputError) as info:
        airan.run(factory, **kwargs)
    assert info.value.field == field
    assert f"field '{field}'" in str(info.value)
    assert shown in str(info.value)


def test_api_accepts_numpy_integer_seed(factory: airan.Scenario) -> None:
    engine = airan.Engine(factory, seed=np.int64(3), duration_s=0.002)
    assert engine.seed == 3


# ---- 6: a callable that is not a policy ----------------------------------------------------------
@pytest.mark.parametrize("policy", ["os:system", "airan:run"])
def test_callable_that_is_not_a_policy(tmp_path: Path, policy: str) -> None:
    result = invoke("run", "--policy", policy, "--duration", "0.01", "--out", str(tmp_path / "o"))
    assert_input_error(result, "--policy", repr(policy), "(snapshot, batch)", "int array")


def test_callable_that_is_not_a_policy_api(factory: airan.Scenario) -> None:
    with pytest.raises(InputError, match=r"takes \(snapshot, batch\)") as info:
        airan.Engine(factory, policy="os:system")
    assert info.value.field == "policy"


def test_policy_raising_type_error_is_reported_with_its_message(tmp_path: Path) -> None:
    # operator.add accepts two arguments, then fails on them: caught where it is first called
    result = invoke("run", "--policy", "operator:add", "--duration", "0.01", "--no-report",
                    "--out", str(tmp_path / "o"))
    assert_input_error(result, "--policy", "'operator:add'", "(snapshot, batch)",
                       "unsupported operand")


def test_type_error_inside_a_policy_keeps_its_message(tmp_path: Path, monkeypatch,
                                                      factory: airan.Scenario) -> None:
    (tmp_path / "bad_policy_mod.py").write_text(
        "def policy(snapshot, batch):\n    return len(None)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InputError) as info:
        airan.run(factory, policy="bad_policy_mod:policy", duration_s=0.01)
    assert info.value.field == "policy"
    assert "has no len()" in str(info.value)
    assert isinstance(info.value.__cause__, TypeError)


# ---- 7: Engine.step ------------------------------------------------------------------------------
def test_engine_step_arguments(factory: airan.Scenario) -> None:
    engine = airan.Engine(factory, duration_s=0.01)
    for bad in (1.5, -1, 0, True, "3"):
        with pytest.raises(InputError, match="positive whole number of slots") as info:
            engine.step(bad)  # type: ignore[arg-type]
        assert info.value.field == "n_slots"
    assert engine.slot == 0
    engine.step(np.int64(2))
    engine.step(3)
    assert engine.slot == 5


# ---- 5: not enough memory ------------------------------------------------------------------------
def _no_memory(*_: Any, **__: Any) -> Any:
    raise MemoryError("Unable to allocate 291. TiB for an array with shape (40000000000000,)")


def test_memory_error_in_run_is_one_line(tmp_path: Path, monkeypatch) -> None:
    import airan.engine

    monkeypatch.setattr(airan.engine.Engine, "__init__", _no_memory)
    result = invoke("run", "--out", str(tmp_path / "o"))
    assert_input_error(result, "not enough memory to run this scenario (factory (built-in))",
                       "291. TiB", "--fleet-scale", "--duration")
    assert len(result.output.strip().splitlines()) == 1


def test_memory_error_in_compare_and_plan(tmp_path: Path, monkeypatch) -> None:
    import airan.planner
    import airan.report.compare

    monkeypatch.setattr(airan.report.compare, "run_comparison", _no_memory)
    monkeypatch.setattr(airan.planner, "plan", _no_memory)
    for command in ("compare", "plan"):
        result = invoke(command, "--out", str(tmp_path / command))
        assert_input_error(result, "not enough memory", "factory (built-in)", "291. TiB")
        # (a search's own memory: a teleoperation lead's plan was told to shorten its runs)
        assert ("fewer --candidates, --sites or --max-gpus" in result.output) == (
            command == "plan")


# ---- 8: errors found while a scenario is built name the scenario's file -------------------------
def test_engine_time_error_names_the_scenario_file(tmp_path: Path) -> None:
    d = factory_dict()
    d["faults"] = [{"kind": "gpu_down", "start_s": 0.0, "site": "on-prem", "gpus": 100}]
    path = tmp_path / "faulty.yaml"
    path.write_text(yaml.safe_dump(d))
    result = invoke("run", str(path), "--duration", "0.01", "--no-report",
                    "--out", str(tmp_path / "o"))
    text = result.output
    if result.exit_code == 2 and f"{path}: field 'faults[0].gpus'" in text:
        return  # found at load time (where the scenario checks may move): named the same way
    assert_input_error(result, f"{path}: field 'faults[0].gpus'", "100")


def test_engine_time_error_names_a_builtin_scenario(tmp_path: Path, monkeypatch) -> None:
    import airan.engine

    def fails(*_: Any, **__: Any) -> None:
        raise InputError("site 'on-prem' has 2 GPUs", field="faults[0].gpus", value=100)

    monkeypatch.setattr(airan.engine.Engine, "__init__", fails)
    result = invoke("run", "--out", str(tmp_path / "o"))
    assert_input_error(result, "factory (built-in): field 'faults[0].gpus'", "(got 100)")


# ---- 9: sweep files ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("scenario: factroy\n", ("field 'scenario'", "'factroy'", "did you mean 'factory'")),
        ("scenario: nope.yaml\n", ("field 'scenario'", "file not found", "'nope.yaml'")),
        ("scenario: factory\naxes:\n  seed: [-1]\n", ("field 'axes.seed'", "-1")),
        ("scenario: factory\naxes:\n  seed: {from: 1, count: -5}\n",
         ("field 'axes.seed.count'", "-5")),
        ("scenario: factory\naxes:\n  seed: {from: 1, count: 0}\n",
         ("field 'axes.seed.count'", "(got 0)")),
        ("scenario: factory\nduration_s: .inf\n", ("field 'duration_s'", "finite", "inf")),
        ("scenario: factory\naxes:\n  load: [.inf]\n", ("field 'axes.load'", "finite", "inf")),
        ("scenario: factory\naxes:\n  load: [1.0e+12]\n",
         ("field 'axes.load'", "50,000,000", "1e+12")),
        ("scenario: factory\naxes:\n  load: [1.0e-9]\n", ("field 'axes.load'", "no device")),
        ("scenario: factory\ntrace_limit: 99999999999999999999\n", ("field 'trace_limit'",)),
    ],
    ids=["unknown-scenario", "missing-scenario-file", "negative-seed", "negative-count",
         "zero-count", "inf-duration", "inf-load", "huge-load", "tiny-load", "huge-trace-limit"],
)
def test_bad_sweep_file(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    result = invoke("sweep", str(path), "--dry-run")
    assert_input_error(result, f"{path}:", *needles)
    assert "valid list" not in result.output


# ---- 10: trace --from / --to, validate "" --------------------------------------------------------
@pytest.mark.parametrize("option", ["--from", "--to"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_trace_window_must_be_finite(tmp_path: Path, option: str, value: str) -> None:
    result = invoke("trace", str(tmp_path), option, value)
    assert_input_error(result, option, value)


@pytest.mark.parametrize("command", ["validate", "run"])
def test_empty_scenario_path(command: str) -> None:
    result = invoke(command, "")
    assert_input_error(result, "empty path", "(got '')")


def test_any_error_inside_a_users_policy_is_one_line_naming_it_and_where(
        tmp_path: Path) -> None:
    """A user's policy that fails (here a KeyError on line 3 of its module): exit 2, the error,
    its message and its file and line, and no traceback."""
    (tmp_path / "failing_policy_mod.py").write_text(
        "def policy(snapshot, batch):\n    table = {}\n    return table['sites']\n")
    result = subprocess.run(
        [sys.executable, "-m", "airan.cli", "run", "factory", "--policy",
         "failing_policy_mod:policy", "--duration", "0.01", "--no-report",
         "--out", str(tmp_path / "o")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "KeyError: 'sites'" in result.stderr
    assert "failing_policy_mod.py:3 in policy" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_engine_takes_a_scenarios_name_or_path_as_run_does(tmp_path: Path) -> None:
    """``airan.Engine`` loads a built-in's name or a YAML path as ``airan.run`` does; anything
    else (a dict of the YAML's fields, a misspelt name) is one InputError naming 'scenario'."""
    by_name = airan.Engine("factory", duration_s=0.05).run().summary
    path = tmp_path / "f.yaml"
    path.write_text(resources.files("airan.scenario.builtin").joinpath("factory.yaml")
                    .read_text())
    by_path = airan.Engine(path, duration_s=0.05).run().summary
    assert by_name["requests"] == by_path["requests"] and by_name["requests"]["created"] > 0
    with pytest.raises(InputError, match="scenario_from_dict") as exc:
        airan.Engine({"name": "x"})  # type: ignore[arg-type]
    assert exc.value.field == "scenario"
    with pytest.raises(InputError, match="did you mean 'factory'") as exc:
        airan.Engine("factry")
    assert exc.value.field == "scenario"


@pytest.mark.parametrize("update", [{"services": []}, {"fleets": []}],
                         ids=["no-services", "no-fleets"])
def test_a_scenario_changed_in_python_is_checked_again(update: dict) -> None:
    """``model_copy`` validates nothing: the engine checks the scenario's fields and references
    as loading does (an empty service list raised KeyError deep in the world's build, an empty
    fleet list a numpy ValueError)."""
    sc = airan.load_scenario("factory").model_copy(update=update)
    field = next(iter(update))
    with pytest.raises(InputError, match="at least 1 item") as exc:
        airan.Engine(sc, duration_s=0.05)
    assert exc.value.field == field


def test_a_scenario_with_numpy_numbers_set_in_python_runs() -> None:
    """``for seed in np.arange(3)``: the engine's re-validation dumps the scenario to JSON, where
    a numpy integer is no number pydantic knows (it raised PydanticSerializationError)."""
    import numpy as np

    sc = airan.load_scenario("factory").model_copy(update={"seed": np.int64(3)})
    a = airan.Engine(sc, duration_s=0.05).run().summary
    b = airan.Engine(airan.load_scenario("factory").model_copy(update={"seed": 3}),
                     duration_s=0.05).run().summary
    assert a["requests"] == b["requests"] and a["requests"]["created"] > 0
