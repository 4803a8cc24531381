"""The command line as a user reads it: catalogs with their sources, whole numbers in narrow
terminals, and clean ``--help`` pages.

* ``airan catalog gpus|models --sources`` lists every entry's source, field by field, as in
  gpus.yaml / models.yaml; without it, one line says how to see them;
* in a terminal narrower than a catalog table, no number is cut short (the lines run on);
* no ``--help`` page shows a value type for a flag (``<bool>``) or a Python type
  (``<list[str]>``) for a repeatable option, and the list of commands does not keep the
  docstrings' line breaks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from airan.catalog import load_gpus, load_models
from airan.cli import app

runner = CliRunner()


def invoke(*args: str, columns: int = 100) -> Any:
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- sources -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("catalog", "load"), [("gpus", load_gpus), ("models", load_models)])
def test_catalog_sources_list_every_entrys_source_field_by_field(catalog: str, load: Any) -> None:
    res = invoke("catalog", catalog, "--sources", columns=1000)  # wide: one line per source
    assert res.exit_code == 0, res.output
    lines = [_one_line(line) for line in res.stdout.splitlines()]
    entries = load()
    for key, entry in entries.items():
        assert entry.source, key
        for k, (field, text) in enumerate(entry.source.items()):
            row = (f"{key} " if k == 0 else "") + f"{field} {_one_line(text)}"
            assert row in lines, f"{catalog}: {key}.{field}: no row {row!r}"


@pytest.mark.parametrize("catalog", ["gpus", "models"])
def test_catalog_without_sources_says_how_to_see_them(catalog: str) -> None:
    res = invoke("catalog", catalog)
    assert res.exit_code == 0, res.output
    assert f"airan catalog {catalog} --sources" in res.stdout
    assert "datasheet" not in res.stdout and "DOMAIN.md" not in res.stdout


def test_catalog_sources_wrap_in_a_narrow_terminal_without_losing_words() -> None:
    res = invoke("catalog", "gpus", "--sources", columns=60)
    assert res.exit_code == 0, res.output
    words = _one_line(res.stdout)
    assert "INT8 624 TOPS dense; no FP8" in words  # A100's tflops source, wrapped, whole
    assert "…" not in res.stdout


# ---- narrow terminals --------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [40, 60])
def test_catalog_gpus_keeps_every_number_whole_in_a_narrow_terminal(columns: int) -> None:
    res = invoke("catalog", "gpus", columns=columns)
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout
    rows = {line.split()[0]: line.split() for line in res.stdout.splitlines() if line.strip()}
    for key, g in load_gpus().items():
        peaks = [getattr(g.tflops, p) for p in ("bf16", "fp8", "int8", "fp4")]
        expected = [f"{g.memory_gb:g}", f"{g.mem_bw_tbps:g}",
                    *("-" if v is None else f"{v:g}" for v in peaks), f"{g.tdp_w:g}",
                    f"{g.idle_w:g}", "-" if g.price_usd is None else f"{g.price_usd:,.0f}",
                    "yes" if g.mig else "-"]
        assert rows[key][2:] == expected, key


def test_catalog_gpus_a100_keeps_every_number_whole_in_a_narrow_terminal() -> None:
    wide = invoke("catalog", "gpus", "--a100", columns=200)
    narrow = invoke("catalog", "gpus", "--a100", columns=40)
    assert narrow.exit_code == 0, narrow.output
    gpus = load_gpus()

    def rows(text: str) -> dict[str, list[str]]:
        return {line.split()[0]: line.split() for line in text.splitlines()
                if line.strip() and line.split()[0] in gpus}

    assert rows(narrow.stdout) == rows(wide.stdout)
    assert len(rows(narrow.stdout)) == len(gpus)


def test_catalog_models_wraps_names_but_keeps_numbers_whole_in_a_narrow_terminal() -> None:
    res = invoke("catalog", "models", columns=60)
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout
    lines = res.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 60  # the name column wraps to fit
    models = load_models()
    rows = {line.split()[0]: line.split() for line in lines if line.split()
            and line.split()[0] in models}
    assert set(rows) == set(models)
    for key, m in models.items():
        assert rows[key][3] == f"{m.gflops:g}", key  # id, params (2 tokens), GFLOPs
        assert re.fullmatch(r"\d+\.\d\d", rows[key][5]), rows[key]  # the latency in ms


# ---- help pages --------------------------------------------------------------------------------


def _command_paths() -> list[list[str]]:
    """Every command and group, as the words that name it (the root is [])."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        paths.append(path)
        for name in getattr(cmd, "commands", {}):
            walk(cmd.commands[name], [*path, name])

    walk(root, [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "airan")
def test_help_shows_no_type_for_flags_and_no_python_list_types(path: list[str]) -> None:
    res = invoke(*path, "--help", columns=120)
    assert res.exit_code == 0, res.output
    assert "--help" in res.stdout
    assert "<bool>" not in res.stdout
    assert "<list[" not in res.stdout


def test_help_marks_repeatable_options_as_repeatable() -> None:
    res = invoke("live", "--help", columns=200)
    assert res.exit_code == 0, res.output
    model = next(line for line in res.stdout.splitlines() if "--model" in line)
    assert "<str>" in model and "(repeatable)" in model


def test_help_lists_each_command_in_one_paragraph() -> None:
    res = invoke("--help", columns=250)
    assert res.exit_code == 0, res.output
    run = next(line for line in res.stdout.splitlines() if line.startswith("│ run "))
    # the docstring breaks after "(summary.json,"; the listing must not
    assert "(summary.json, requests.parquet, load and map tables, scenario.yaml)" in run


def test_the_gpu_table_shows_the_price_the_planner_costs_and_how_to_override_it() -> None:
    """A planner's review: the planner costs GPUs at the catalog's price_usd, which no table
    showed, and the sources said to override it 'in scenario', where no field takes it."""
    res = invoke("catalog", "gpus", columns=120)
    assert res.exit_code == 0
    row = next(line for line in res.output.splitlines() if line.startswith("H100 "))
    assert f"{load_gpus()['H100'].price_usd:,.0f}" in row
    assert "`airan plan --price` overrides it" in _one_line(res.output)
    sources = _one_line(invoke("catalog", "gpus", "--sources", columns=200).output)
    assert "override in scenario" not in sources and "airan plan --price" in sources


def test_the_model_catalog_shows_the_precision_a_gpu_runs_a_model_at() -> None:
    """An ML engineer's review: llm-7b read "fp8" on an A100, which has no FP8 and runs it at
    INT8 (W8A8); the column now says both."""
    from typer.testing import CliRunner

    from airan.cli import app

    res = CliRunner().invoke(app, ["catalog", "models", "--gpu", "A100-80GB"])
    assert res.exit_code == 0
    row = next(line for line in res.output.splitlines() if line.startswith("llm-7b"))
    assert "fp8 (int8 here)" in row
    h100 = CliRunner().invoke(app, ["catalog", "models", "--gpu", "H100"])
    row = next(line for line in h100.output.splitlines() if line.startswith("llm-7b"))
    assert "fp8" in row and "here" not in row


def test_the_model_catalog_gives_batch_times_and_throughputs_at_the_sizes_asked() -> None:
    """An ML engineer's review: batch 1 alone could not be set beside trtexec's or
    perf_analyzer's batch curves. ResNet-50 on an H100 at batch 256 reads the 89,297/s that
    its MLPerf Offline calibration (88,714/s) sits near; a size out of range exits 2."""
    from typer.testing import CliRunner

    from airan.catalog import load_gpus, load_models
    from airan.cli import app
    from airan.compute import batch_service_time_s

    res = CliRunner().invoke(app, ["catalog", "models", "--gpu", "H100", "--batch", "1,256"],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("resnet50"))
    t = batch_service_time_s(load_models()["resnet50"], load_gpus()["H100"], 256)
    assert f"{t * 1e3:.2f} ({256 / t:,.0f})" in row and "(89,297)" in row
    for bad in ("0", "8,x", "5000"):
        out = CliRunner().invoke(app, ["catalog", "models", "--batch", bad])
        assert out.exit_code == 2 and "--batch" in out.output
