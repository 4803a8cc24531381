"""A first-time user's review of the command line: default folders that replaced another
command's output, help that did not list the policies, figures that covered their own text,
and messages that did not say what to type instead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from airan.cli import app

runner = CliRunner()


def option_help(command: str, option: str) -> str:
    """``option``'s line of ``airan COMMAND --help``, one line at a wide terminal."""
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "1000"})
    assert res.exit_code == 0, res.output
    return " ".join(next(line for line in res.stdout.splitlines()
                         if f" {option} " in line).split())


def test_a_scaled_comparison_gets_its_own_default_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`airan compare --fleet-scale 3` wrote runs/factory-compare, replacing the unscaled
    comparison there; `run` and `plan` add -x<scale>."""
    monkeypatch.chdir(tmp_path)
    args = ["compare", "factory", "-p", "local", "--seeds", "1", "--duration", "0.1"]
    assert runner.invoke(app, args).exit_code == 0
    res = runner.invoke(app, [*args, "--fleet-scale", "2"])
    assert res.exit_code == 0, res.output
    base = json.loads((tmp_path / "runs/factory-compare/comparison.json").read_text())
    scaled = json.loads((tmp_path / "runs/factory-compare-x2/comparison.json").read_text())
    assert base["fleet_scale"] == 1.0 and scaled["fleet_scale"] == 2.0
    assert ("runs/<scenario>-compare, and -x<scale> with a --fleet-scale other than 1"
            in option_help("compare", "--out"))


def test_a_users_own_scenario_yaml_does_not_overwrite_the_run_its_name_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited copy of factory saved as scenario.yaml ran into runs/factory-deadline-aware-1
    (the name a run folder's own scenario.yaml keeps), replacing `airan run`'s run there (a
    run folder's own: tests/test_ux_files.py, into that folder's rerun)."""
    monkeypatch.chdir(tmp_path)
    args = ["--duration", "0.2", "--no-report"]
    assert runner.invoke(app, ["run", "factory", *args]).exit_code == 0
    factory = tmp_path / "runs/factory-deadline-aware-1"
    before = (factory / "summary.json").read_text()
    shown = runner.invoke(app, ["scenarios", "--show", "factory"]).stdout
    (tmp_path / "scenario.yaml").write_text(shown.replace("duration_s: 10", "duration_s: 5"))
    res = runner.invoke(app, ["run", "scenario.yaml", *args])
    assert res.exit_code == 0, res.output
    assert (factory / "summary.json").read_text() == before
    assert (tmp_path / "runs/scenario-deadline-aware-1/summary.json").is_file()


@pytest.mark.parametrize(("command", "option"), [
    ("run", "--policy"), ("compare", "--policies"), ("plan", "--policy"),
    ("max-fleet", "--policy"), ("run-sharded", "--policy")])
def test_policy_help_lists_every_builtin_and_ones_own(command: str, option: str) -> None:
    """`airan run --help` named no policy: a newcomer had to read the README to pick one."""
    from airan.console import BUILTIN_POLICY_HELP
    from airan.policy import BUILTIN_POLICIES

    assert set(BUILTIN_POLICY_HELP) == set(BUILTIN_POLICIES)  # (the help's own list, kept
    text = option_help(command, option)  # apart from the registry for --help's start-up)
    for name, what in BUILTIN_POLICY_HELP.items():
        assert f"{name} ({what})" in text
    assert "or module:callable" in text


def drawn(fig: Any) -> Any:
    """``fig`` laid out and drawn as the report saves it; its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def test_the_maps_colour_bar_labels_fit_on_the_figure() -> None:
    """figures/map.png cut the cell sites' colour-bar label off at the top: a sentence that
    the figure's caption in the report says in full."""
    import pyarrow as pa

    from airan.report import figures as F

    cells = pa.table({"cell": ["a/0", "b/0"], "site": ["a", "b"], "x_m": [0.0, 500.0],
                      "y_m": [0.0, 0.0], "prb_utilization_ul": [0.4, 0.3],
                      "prb_utilization_dl": [0.1, 0.9]})
    devices = pa.table({"x_m": [10.0, 400.0], "y_m": [0.0, 50.0], "sinr_dl_db": [5.0, 12.0]})
    with F.style():
        fig = F.network_map(cells, devices, {})
        renderer = drawn(fig)
    labels = [ax.yaxis.label for ax in fig.axes if ax.yaxis.label.get_text()]
    assert len(labels) == 3  # the map's y axis and its two colour bars
    for label in labels:
        box = label.get_window_extent(renderer)
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, label.get_text()


def test_the_comparisons_cdf_legend_covers_no_panel() -> None:
    """compare_cdf.png's legend, inside each panel's lower right, covered a policy's curve
    and the deadline: one legend now stands above the panels, each panel's title giving its
    deadline."""
    import math

    import numpy as np

    from airan.report import figures as F

    def hist(lo_ms: float, hi_ms: float) -> tuple[dict[str, Any], int]:
        ms = np.geomspace(lo_ms, hi_ms, 200)
        buckets = np.ceil(np.log(ms * 1e-3 / 1e-4) / math.log(1.01)).astype(int)
        counts = {str(b): int((buckets == b).sum()) for b in np.unique(buckets)}
        return {"min_s": 1e-4, "gamma": 1.01, "counts": counts}, 200

    services = ["detect", "vla", "inspect"]
    pooled = {"nearest-edge": {s: hist(140.0, 280.0) for s in services},
              "least-loaded": {s: hist(30.0, 150.0) for s in services},
              "deadline-aware": {s: hist(30.0, 55.0) for s in services}}
    with F.style():
        fig = F.compare_cdf(pooled, services, {"detect": 50.0, "vla": 200.0, "inspect": 200.0})
        renderer = drawn(fig)
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [*pooled, "deadline"]
    box = legend.get_window_extent(renderer)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    for ax in panels:
        assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
        title = ax.title.get_window_extent(renderer)
        assert fig.bbox.x0 <= title.x0 and title.x1 <= fig.bbox.x1, ax.get_title()
    assert panels[1].get_title() == "vla: all seeds, deadline 200 ms"


@pytest.mark.parametrize("late_latency_ms", [7.0, 9.0])  # 9: a live run's runtime overhead
def test_the_answered_late_table_has_one_blank_line_before_its_total(
        late_latency_ms: float) -> None:
    """It had two (an empty row, then the section's end); the Latency table has one."""
    import airan.cli as cli

    stages = ("ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport", "dl_air")
    service = {"late": 12, "dropped": 0, "overdue": 0, "late_latency_ms": late_latency_ms,
               "late_breakdown_ms": dict.fromkeys(stages, 1.0), "late_device_ms": {}}
    with cli.out.capture() as cap:
        cli._print_late({"services": {"detect": service}})
    lines = cap.get().splitlines()
    total = next(i for i, line in enumerate(lines) if line.startswith("total (mean)"))
    above = "overhead (runtime)" if late_latency_ms > 7.0 else "dl_air"
    assert lines[total - 1].strip() == "" and lines[total - 2].startswith(above), lines


def test_one_compared_run_is_one_run_summary(tmp_path: Path) -> None:
    """"wrote … (1 run summaries)"."""
    res = runner.invoke(app, ["compare", "factory", "-p", "local", "--seeds", "1",
                              "--duration", "0.1", "--out", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert f"wrote {tmp_path / 'cmp' / 'runs'} (1 run summary)" in res.stdout


@pytest.mark.parametrize("given", ["factory.yaml", "sub/city.yml"])
def test_a_missing_file_named_after_a_builtin_suggests_the_builtin(
        given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`airan run factory.yaml` with no such file said only "file not found"."""
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["run", given])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    stem = Path(given).stem
    assert res.stderr.strip() == (
        f"error: {given}: file not found; did you mean the built-in scenario {stem!r}, named "
        f"without {Path(given).suffix}? (`airan scenarios --show {stem} > {given}` writes it "
        "as a file to edit)")
    other = runner.invoke(app, ["run", "mine.yaml"])  # no built-in of that name
    assert other.exit_code == 2 and other.stderr.strip() == "error: mine.yaml: file not found"


def test_several_policies_given_to_run_suggest_compare() -> None:
    """`airan run --policy cloud,nearest-edge` said "unknown policy 'cloud,nearest-edge'; did
    you mean 'nearest-edge'?"."""
    res = runner.invoke(app, ["run", "--policy", "cloud,nearest-edge"])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    line = res.stderr.strip()
    assert line.startswith("error: option '--policy': one policy only; to run cloud, "
                           "nearest-edge side by side: airan compare --policies "
                           "cloud,nearest-edge"), line
    typo = runner.invoke(app, ["run", "--policy", "cloud,nearst-edge"])  # not two policies
    assert typo.exit_code == 2 and "unknown policy 'cloud,nearst-edge'" in typo.stderr
