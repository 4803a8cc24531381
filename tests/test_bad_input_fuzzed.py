"""Bad input a fuzzing review found to traceback, hang or print a corrupted value: each now
one line ``error: ...`` naming the option or field and the value, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input import assert_input_error, mutated, runner

from airan.cli import app

MODELS = ["--model", "detect=tiny-cnn", "--model", "vla=mlp", "--model", "inspect=tiny-cnn"]


@pytest.mark.parametrize(("policy", "needles"), [
    (":", ("option '--policy'", "package.module:callable", "(got ':')")),
    (".foo:f", ("option '--policy'", "(got '.foo:f')")),
    ("mysyntax:f", ("raised SyntaxError", "mysyntax.py, line 1")),
    ("myboom:f", ("raised RuntimeError: import-time boom", "myboom.py:1")),
])
def test_a_policy_module_that_cannot_load_is_bad_input(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str,
        needles: tuple[str, ...]) -> None:
    (tmp_path / "mysyntax.py").write_text("def f(:\n")
    (tmp_path / "myboom.py").write_text("raise RuntimeError('import-time boom')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    res = runner.invoke(app, ["run", "factory", "--duration", "0.05", "--policy", policy])
    assert_input_error(res, *needles)


def test_validate_imports_a_scenarios_own_policy(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d.update(policy="nosuchmodule_xyz:f"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]),
                       "cannot import policy module 'nosuchmodule_xyz'")


@pytest.mark.parametrize(("field", "value"), [
    ("sr_period_ms", 1.0e6),  # an array as long as the period in slots: minutes, then OOM
    ("grant_delay_ms", 1.0e20),  # an integer overflow building the world
])
def test_radio_delays_are_bounded(tmp_path: Path, field: str, value: float) -> None:
    path = mutated(tmp_path, lambda d: d["radio"].update({field: value}))
    assert_input_error(runner.invoke(app, ["validate", str(path)]), f"radio.{field}")


def test_yaml_nested_too_deeply_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "malformed YAML")


def test_values_are_printed_as_written(tmp_path: Path) -> None:
    """No emoji codes (':ok:' stays), a null or a list shown as the YAML has it, a value said
    once."""
    assert_input_error(runner.invoke(app, ["validate", "x:ok:y.yaml"]), "x:ok:y.yaml")
    null = mutated(tmp_path, lambda d: d["services"][0].update(rate_hz=None))
    assert_input_error(runner.invoke(app, ["validate", str(null)]), "rate_hz", "(got null)")
    listed = mutated(tmp_path, lambda d: d["services"][0].update(rate_hz=[1, 2]))
    assert_input_error(runner.invoke(app, ["validate", str(listed)]), "(got [1, 2])")
    ttt = mutated(tmp_path, lambda d: d.update(handover={"ttt_ms": 161}))
    res = runner.invoke(app, ["validate", str(ttt)])
    assert_input_error(res, "handover.ttt_ms")
    assert res.stderr.count("(got 161)") == 1


@pytest.mark.parametrize(("args", "needles"), [
    (["plan", "factory", "--target", "detect: p99<=25ms", "--max-gpus", "1000000"],
     ("option '--max-gpus'", "1000000")),
    (["plan", "factory", "--target", "detect: p99<=25ms", "--out", "{file}"],
     ("option '--out'", "is a file")),
    (["plan", "factory", "--target", "detect: p99<=25ms", "--cache", "{file}"],
     ("option '--cache'", "is a file")),
    (["live", "factory", *MODELS, "--seed", "-1"], ("option '--seed'", "-1")),
    (["live", "factory", *MODELS, "--duration", "1e9"], ("option '--duration'",)),
    (["live", "factory", *MODELS, "--out", "{file}"], ("option '--out'", "is a file")),
    (["serve", "factory", *MODELS, "--duration", "0.1", "--host", "999.1.1.1"],
     ("option '--host'", "999.1.1.1")),
    (["serve", "factory", *MODELS, "--threads", "0"], ("option '--threads'",)),
    (["profile", "mlp", "--payload-kb", "-5"], ("option '--payload-kb'",)),
    (["profile", "mlp", "--min-time", "nan"], ("option '--min-time'",)),
    (["profile", "mlp", "--batch", "1,1"], ("option '--batch'", "twice")),
    (["profile", "mlp", "--out", "{dir}"], ("option '--out'", "is a folder")),
    (["devices", "factory", "--deployment", "{binary}"], ("not a deployment file",)),
    (["devices", "factory", "--deployment", "{binary}", "--timeout", "-1"],
     ("option '--timeout'", "-1")),
    (["devices", "factory", "--deployment", "{binary}", "--timeout", "0"],
     ("option '--timeout'",)),
    (["run-sharded", "city", "--sites", "100000000"], ("option '--sites'",)),
])
def test_command_options_are_checked_before_any_work(
        tmp_path: Path, args: list[str], needles: tuple[str, ...]) -> None:
    files = {"{file}": tmp_path / "a.yaml", "{dir}": tmp_path, "{binary}": tmp_path / "b.json"}
    files["{file}"].write_text("x: 1\n")
    files["{binary}"].write_bytes(bytes(range(256)))
    argv = [str(files.get(a, a)) for a in args]
    assert_input_error(runner.invoke(app, argv), *needles)


def test_a_sweep_of_too_many_runs_is_refused_before_it_expands(tmp_path: Path) -> None:
    import yaml

    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump({"scenario": "factory", "axes": {
        "seed": {"from": 1, "count": 1000}, "load": {"from": 1, "count": 1000}}}))
    res = runner.invoke(app, ["sweep", str(spec), "--dry-run"])
    assert_input_error(res, "1,000,000 runs")


def test_a_misspelt_choice_gets_a_suggestion(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["radio"].update(scheduler="pff"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "radio.scheduler", "'pff'",
                       "did you mean 'pf'")


def test_a_bad_disc_area_names_the_discs_field(tmp_path: Path) -> None:
    """A disc with a bad radius used to be reported as a rectangle missing its x_m."""
    path = mutated(tmp_path, lambda d: d["fleets"][0].update(
        area={"center_m": [0, 0], "radius_m": -5}))
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "area.radius_m", "-5")


@pytest.mark.parametrize("axes", [
    {"services[detect].rate_hz": [5], "services[0].rate_hz": [1]},
    {"seed": [1], "seed ": [2]},
])
def test_two_sweep_axes_on_one_field_are_refused(tmp_path: Path, axes: dict) -> None:
    """Two spellings of one field (by name and by position, or with a stray space): one value
    silently won."""
    import yaml

    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump({"scenario": "factory", "axes": axes}))
    assert_input_error(runner.invoke(app, ["sweep", str(spec), "--dry-run"]), "set the same field")


def test_an_area_that_is_not_a_mapping_says_so(tmp_path: Path) -> None:
    path = mutated(tmp_path, lambda d: d["fleets"][0].update(area="disc"))
    assert_input_error(runner.invoke(app, ["validate", str(path)]), "area",
                       "expected a mapping of fields", "'disc'")
