"""What the command line prints and where it writes: a user's own text as written, all of a
run's files even when the reader of its output stops early, no output mixed into a folder of
another kind, options named as options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError
from airan.live.runtime import resolve_models
from airan.report import write_run

runner = CliRunner()


def bracketed_factory(path: Path, name: str = "detect[b]") -> Path:
    """The factory with square brackets, rich's markup, in its description and a service name
    (``name``), and a backslash at the description's end."""
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    data["description"] = "Hall [phase 2], see [/docs] and [bold] C:\\data\\"
    for svc in data["services"]:
        if svc["name"] == "detect":
            svc["name"] = name
    for fleet in data["fleets"]:
        fleet["services"] = [name if s == "detect" else s for s in fleet["services"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_validate_prints_a_description_with_brackets_as_written(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(bracketed_factory(tmp_path / "s.yaml"))])
    assert result.exit_code == 0, result.output
    assert "Hall [phase 2], see [/docs] and [bold] C:\\data\\\n" in result.stdout
    assert "detect[b]" in result.stdout


def test_run_tables_print_a_service_name_with_brackets_as_written(tmp_path: Path) -> None:
    scenario = bracketed_factory(tmp_path / "s.yaml")
    result = runner.invoke(app, ["run", str(scenario), "--duration", "0.2", "--no-report",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    services, latency = result.stdout.split("Latency (ms)")
    assert "detect[b]" in services  # a row of the services table
    assert "detect[b]" in latency.splitlines()[1]  # a column of the latency table
    assert "detect[b]" in json.loads((tmp_path / "run" / "summary.json").read_text())["services"]


def test_run_tables_print_a_name_ending_in_a_backslash_once(tmp_path: Path) -> None:
    scenario = bracketed_factory(tmp_path / "s.yaml", name="det\\")
    result = runner.invoke(app, ["run", str(scenario), "--duration", "0.2", "--no-report",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "det\\ " in result.stdout and "det\\\\" not in result.stdout


def test_a_reader_that_stops_early_still_gets_every_file_of_the_run(tmp_path: Path) -> None:
    """``airan run | head``: the pipe closes before the tables are printed; the run folder and
    its report are written all the same, without a traceback."""
    out = tmp_path / "run"
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first line printed meets a broken pipe
    proc = subprocess.run(
        [sys.executable, "-c", "from airan.cli import app; app()", "run", "--duration", "0.2",
         "--out", str(out)], stdout=write, stderr=subprocess.PIPE, text=True, timeout=600)
    os.close(write)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    for name in ("summary.json", "requests.parquet", "report.html"):
        assert (out / name).is_file(), name


def test_a_reader_of_both_streams_that_stops_early_loses_no_comparison(tmp_path: Path) -> None:
    """``airan compare ... 2>&1 | head``: stderr's note meets the broken pipe first."""
    out = tmp_path / "cmp"
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run(
        [sys.executable, "-c", "from airan.cli import app; app()", "compare", "factory",
         "--policies", "local,local", "--duration", "0.1", "--seeds", "1", "--out", str(out)],
        stdout=write, stderr=write, timeout=600)
    os.close(write)
    assert proc.returncode == 0
    for name in ("comparison.json", "report.html"):
        assert (out / name).is_file(), name


def test_sweep_prints_an_axis_with_brackets_as_written(tmp_path: Path) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text('scenario: factory\nduration_s: 0.1\n'
                    'axes: {"services[detect].rate_hz": [10, 20]}\n')
    result = runner.invoke(app, ["sweep", str(path), "--dry-run", "--workers", "1", "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "(services[detect].rate_hz x2)" in " ".join(result.stdout.split())
    result = runner.invoke(app, ["sweep", str(path), "--workers", "1", "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    # one run per row: no spread to show, and the title says so (a robot maker's review: it
    # promised a standard deviation it never printed)
    assert "Mean over seeds" not in result.stdout
    table = result.stdout.split("One run per row (no spread: a seed axis gives one)")[1]
    assert "services[detect].rate_hz" in table  # the results table's axis column


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return " ".join(lines[0].split())


def test_a_run_is_not_written_over_a_sharded_run(tmp_path: Path) -> None:
    folder = tmp_path / "national"
    folder.mkdir()
    merged = {"scenario": "korea", "sharding": {"shards": 4}}
    (folder / "summary.json").write_text(json.dumps(merged))
    line = one_error_line(runner.invoke(app, ["run", "--duration", "0.1", "--out",
                                              str(folder)]))
    assert "option '--out'" in line and "holds an airan sharded run" in line
    assert json.loads((folder / "summary.json").read_text()) == merged


@pytest.mark.parametrize("command", [
    ["plan", "factory", "--target", "detect: p99<=25ms"],
    ["run-sharded", "korea", "--regions", "2x2", "--workers", "1"],
    ["compare", "factory", "--policies", "local"],
], ids=["plan", "run-sharded", "compare"])
def test_other_outputs_are_not_written_into_a_run_folder(
        tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "run"
    write_run(airan.run("factory", duration_s=0.1), folder)
    before = sorted(p.name for p in folder.iterdir())
    line = one_error_line(runner.invoke(app, [*command, "--out", str(folder)]))
    assert f"'{folder}' holds an airan run" in line
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_user_file_named_like_airans_own_is_no_airan_folder(tmp_path: Path) -> None:
    """A project folder's own plan.json or sweep.json (without airan's keys) does not make it
    an airan plan or sweep: a run may be written there."""
    from airan.report.rundir import folder_kind

    (tmp_path / "plan.json").write_text('{"budget": 3}')
    (tmp_path / "sweep.json").write_text("[1, 2]")
    assert folder_kind(tmp_path) is None
    (tmp_path / "comparison.json").write_text('{"aggregate": {}}')
    assert folder_kind(tmp_path) == "comparison"


def test_a_sweep_that_cannot_start_leaves_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text("scenario: factory\naxes: {seed: [1, 2]}\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # Ray not installed
    line = one_error_line(runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")]))
    assert "option '--workers'" not in line  # (not given: the default asks for Ray)
    assert "Ray" in line and "not installed" in line and "--workers 1" in line
    assert not (tmp_path / "o").exists()


def test_a_sharded_run_without_ray_says_so_not_as_an_error_of_its_scenario(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # Ray not installed
    line = one_error_line(runner.invoke(app, ["run-sharded", "city", "--regions", "2x1",
                                              "--duration", "0.1", "--out", str(tmp_path / "o")]))
    assert line.startswith("error: Ray, which runs jobs in parallel")
    assert "sweep's runs" in line and "sharded run's shards" in line and "--workers 1" in line
    assert not (tmp_path / "o").exists()


def test_an_error_about_a_command_line_option_calls_it_an_option() -> None:
    assert str(InputError("must be at least 1", field="--workers", value=0)).startswith(
        "option '--workers': must be at least 1")
    assert str(InputError("must be positive", field="services[a].rate_hz", value=-1)).startswith(
        "field 'services[a].rate_hz'")


def test_live_model_option_for_no_service_of_the_scenario_is_an_error() -> None:
    sc = airan.load_scenario("factory")
    with pytest.raises(InputError, match="'detct' is no service .*did you mean 'detect'"):
        resolve_models(sc, {"detect": "tiny-cnn", "detct": "mlp"})


@pytest.mark.parametrize("args", [
    ["run", "--duration", "0.1", "--no-report", "--out", "{out}"],
    ["validate", "factory"],
    ["compare", "factory", "--policies", "nearest-edge", "--duration", "0.1", "--out", "{out}"],
    ["max-fleet", "factory", "--fleet", "amr", "--duration", "0.1", "--no-confirm",
     "--max-count", "2"],
    ["run-sharded", "factory", "--regions", "1x1", "--duration", "0.1", "--workers", "1",
     "--out", "{out}"],
], ids=["run", "validate", "compare", "max-fleet", "run-sharded"])
def test_every_command_that_builds_an_engine_says_why_its_first_use_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """The spinner shows only on a terminal; in a CI log or a pipe, one line says the kernel is
    being compiled (one to two minutes, once). Not only run: validate (its uplink check builds an
    engine), compare, max-fleet and the others compiled it for minutes without a word."""
    import time

    import airan.console
    import airan.engine.warmup as warmup

    def compiling() -> float:  # numba compiling
        time.sleep(0.5)
        warmup._warm = True
        return 0.5

    monkeypatch.setattr(warmup, "_warm", False)
    monkeypatch.setattr(warmup, "_compile", compiling)
    monkeypatch.setattr(airan.console, "KERNEL_SAY_S", 0.1)
    result = runner.invoke(app, [a.format(out=tmp_path / "out") for a in args])
    assert result.exit_code in (0, 3), result.output
    assert "loading the simulation kernel (numba compiles it" in result.stderr


@pytest.mark.parametrize("args", [
    ["run-sharded", "no-such-file.yaml", "--regions", "2x2"],
    ["max-fleet", "factory", "--fleet", "typo"],
    ["max-fleet", "factory", "--fleet", "amr", "--max-count", "0"],
    ["plan", "factory", "--candidates", "L5", "--out", "{out}"],
    ["plan", "factory", "--target", "bogus: p99<=25ms", "--out", "{out}"],
    ["live", "factory", "--model", "detect", "--out", "{out}"],
    ["serve", "factory", "--model", "detect", "--out", "{out}"],
    ["live", "factory", "--policy", "no-such-policy", "--out", "{out}"],
], ids=["sharded-file", "max-fleet-fleet", "max-fleet-count", "plan-gpu", "plan-target",
        "live-model", "serve-model", "live-policy"])
def test_a_bad_option_is_said_before_the_kernel_compiles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """A review of the first placement of the kernel's load: run-sharded, max-fleet, plan,
    live and serve compiled it before checking their input, so on a fresh install a typo
    waited minutes for its one-line error."""
    import airan.engine.warmup as warmup

    def compiling() -> float:
        raise AssertionError("the kernel compiled before the input was checked")

    monkeypatch.setattr(warmup, "_warm", False)
    monkeypatch.setattr(warmup, "_compile", compiling)
    result = runner.invoke(app, [a.format(out=tmp_path / "out") for a in args])
    assert result.exit_code == 2, result.output


def test_trace_window_before_the_start_is_an_error(tmp_path: Path) -> None:
    line = one_error_line(runner.invoke(app, ["trace", str(tmp_path), "--from", "-1"]))
    assert "option '--from'" in line and "0 or later" in line


def test_a_fleet_scale_close_to_one_keeps_its_digits_in_the_folder_name() -> None:
    from airan.console import scale_suffix

    assert scale_suffix(1.0) == ""
    assert scale_suffix(10.0) == "-x10"
    assert scale_suffix(0.25) == "-x0.25"
    assert scale_suffix(1.0000001) == "-x1.0000001"


def test_a_file_name_where_the_scenario_wants_a_mapping_lists_its_fields(tmp_path: Path) -> None:
    text = resources.files("airan.scenario.builtin").joinpath("city.yaml").read_text()
    data = yaml.safe_load(text)
    data["cell_sites_file"] = "sites.csv"
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    line = one_error_line(runner.invoke(app, ["validate", str(path)]))
    assert "field 'cell_sites_file': expected a mapping of fields (path, lat, lon" in line
    assert "SiteListFile" not in line and "'sites.csv'" in line


def test_validating_an_inventory_or_a_sweep_names_the_command_that_reads_it(
        tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yaml"
    inventory.write_text("name: x\ngroups:\n  - {name: a, count: 10, gpu: H100}\n")
    line = one_error_line(runner.invoke(app, ["validate", str(inventory)]))
    assert "this is a GPU inventory" in line and f"airan capacity {inventory}" in line
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("scenario: factory\naxes: {seed: [1, 2]}\n")
    line = one_error_line(runner.invoke(app, ["run", str(sweep)]))
    assert "this is a sweep" in line and f"airan sweep {sweep}" in line


def test_a_sharded_run_lists_its_approximations_on_the_terminal(tmp_path: Path) -> None:
    """korea's 8 shared edge GPUs become at least one per region over 16 shards: the site
    table counts 16, and the lines under it say why."""
    result = runner.invoke(app, ["run-sharded", "korea", "--regions", "4x4", "--workers", "1",
                                 "--duration", "0.1", "--out", str(tmp_path / "sharded")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert ("shared site 'edge': 8 GPUs in the whole scenario, 16 over the shards (at least one "
            "per region)") in text


def test_compare_says_when_a_policy_is_named_twice(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "factory", "--policies", "local,local", "--duration",
                                 "0.1", "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "--policies names local more than once; each runs once" in result.stderr
    # a bad scenario: the error alone
    one_error_line(runner.invoke(app, ["compare", "nosuch", "--policies", "local,local"]))


def test_live_refuses_a_folder_of_another_kind(tmp_path: Path) -> None:
    from airan.live.cli import _check_out

    (tmp_path / "comparison.json").write_text('{"aggregate": {}}')
    with pytest.raises(InputError, match="option '--out': .* holds an airan comparison"):
        _check_out(tmp_path)


def test_a_run_in_a_log_writes_nothing_to_stderr_but_what_it_has_to_say(tmp_path: Path) -> None:
    """No progress bar off a terminal, nor the blank line it left."""
    from airan.engine.warmup import warm_up

    warm_up()  # a kernel compiled here says so, rightly: not this test's concern
    result = runner.invoke(app, ["run", "--duration", "0.1", "--no-report", "--out",
                                 str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_a_fleets_field_that_is_no_list_is_one_error_line(tmp_path: Path) -> None:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    data = yaml.safe_load(text)
    data["fleets"] = 3
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    line = one_error_line(runner.invoke(app, ["validate", str(path)]))
    assert "field 'fleets'" in line and "(got 3)" in line


def test_drops_are_printed_per_service_when_several_services_drop(tmp_path: Path) -> None:
    d = airan.load_scenario("factory").model_dump(mode="json")
    for c in d["compute_sites"]:
        c["queue_limit"] = 2
    for f in d["fleets"]:
        f["count"] *= 5
    path = tmp_path / "tight.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["run", str(path), "--duration", "1", "--policy",
                                   "nearest-edge", "--no-report", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    line = res.stdout.split("drops by reason: ", 1)[1]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert sum(bool(v["dropped_by_reason"]) for v in summary["services"].values()) >= 2
    for name, svc in summary["services"].items():
        for reason, n in (svc["dropped_by_reason"] or {}).items():
            assert f"{name}: {reason} {n:,}" in " ".join(line.split())
    # the p99 compare and plan read (a robot maker's review: the run's p99 over the answered
    # said 1,000 ms where compare said unbounded), beside the answered-only one
    from airan.metrics.histogram import percentile_with_unanswered_ms

    [row] = [r for r in res.stdout.splitlines() if r.startswith("p99, unanswered late")]
    want = [percentile_with_unanswered_ms(v, 0.99) for v in summary["services"].values()]
    assert row.split()[3:] == ["unbounded" if x == float("inf") else f"{x:.2f}" for x in want]
    assert "as airan compare and airan plan read it" in " ".join(res.stdout.split())


def _factory_with_inspect_kb(path: Path, ul_kb: float) -> Path:
    data: dict[str, Any] = yaml.safe_load(
        resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text())
    for svc in data["services"]:
        if svc["name"] == "inspect":
            svc["ul_kb"] = ul_kb
    for fleet in data["fleets"]:
        if fleet["name"] == "camera":
            fleet["ul_buffer_kb"] = 20 * ul_kb
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_run_whose_uplink_is_full_says_the_radio_is_the_bottleneck(tmp_path: Path) -> None:
    # six cameras sending 3 MB frames at 5 Hz (720 Mbit/s) fill the four cells' uplinks
    scenario = _factory_with_inspect_kb(tmp_path / "busy.yaml", 3000.0)
    res = runner.invoke(app, ["run", str(scenario), "--duration", "2",
                              "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert 'id="cautions"' in report and "of the uplink PRBs" in report
    # the map's caption: the devices' SINR at the run's end, its spread over them
    assert "downlink geometry SINR at the end of the run" in report
    assert "over the devices p5 / p50 / p95" in report
    text = " ".join(res.output.split())
    assert ("radio (the devices' PRBs used per uplink / downlink slot, 4 cells, uplink "
            "scheduler pf") in text
    assert "; no background traffic (the cells carry this scenario's devices alone" in text
    assert "of the uplink PRBs" in text and "the radio, not a GPU, is the bottleneck" in text
    cells = json.loads((tmp_path / "run" / "summary.json").read_text())["cells"]
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "run" / "cells.parquet")
    ul = table["prb_utilization_ul"].to_pylist()
    assert cells["max_prb_utilization_ul"] == pytest.approx(max(ul))
    assert cells["busiest_cell_ul"] == table["cell"].to_pylist()[ul.index(max(ul))]
    assert cells["cells_busy_ul"] == sum(u > cells["busy_threshold"] for u in ul) >= 1
    # the default factory's uplink is far from full: no such sentence
    res = runner.invoke(app, ["run", "--duration", "2", "--no-report",
                              "--out", str(tmp_path / "default")])
    assert res.exit_code == 0 and "bottleneck" not in res.output


def test_cautions_name_busy_gpu_sites_and_cells() -> None:
    from airan.report.cautions import cautions

    summary = {"sites": {"a": {"gpu_utilization": 0.85}, "b": {"gpu_utilization": 0.5},
                         "c": {"gpu_utilization": None}},
               "cells": {"count": 10, "busy_threshold": 0.9, "cells_busy_ul": 0,
                         "cells_busy_dl": 2, "busiest_cell_dl": "x/1",
                         "max_prb_utilization_dl": 0.97}}
    lines = cautions(summary)
    assert len(lines) == 2
    assert lines[0].startswith("Above 80% GPU utilization: a.")
    assert lines[1].startswith("2 of 10 cells used more than 90% of the downlink PRBs (busiest")
    assert cautions({"sites": {"a": {"gpu_utilization": 0.8}}, "cells": {}}) == []


def test_cautions_name_a_saturated_gpu_beside_a_full_uplink() -> None:
    # 40 robots at 10 Hz fill the four cells' uplinks and one L40S at once: the radio note
    # must not say "not a GPU" while the edge GPU is 97.8% busy with a queue of ~217
    from airan.report.cautions import cautions

    cells = {"count": 4, "busy_threshold": 0.9, "cells_busy_ul": 4, "busiest_cell_ul": "c1/1",
             "max_prb_utilization_ul": 0.99, "cells_busy_dl": 0}
    summary = {"sites": {"factory-mec": {"gpu_utilization": 0.978, "mean_queue": 217.0},
                         "cloud": {"gpu_utilization": 0.0}},
               "requests": {"dropped_by_reason": {}}, "cells": cells}
    text = " ".join(cautions(summary))
    assert "not a GPU" not in text
    assert "Saturated compute sites: factory-mec (97.8% busy, mean queue 217.0 requests)" in text
    assert "the radio is a bottleneck there, and so is compute at factory-mec" in text
    # 85% busy is saturated only where requests were dropped for a full queue
    summary["sites"]["factory-mec"]["gpu_utilization"] = 0.85
    assert "the radio, not a GPU, is the bottleneck there" in " ".join(cautions(summary))
    summary["requests"] = {"dropped_by_reason": {"queue_full": 3}}
    assert "Saturated compute sites: factory-mec" in " ".join(cautions(summary))


def test_busy_cells_count_against_the_prbs_background_traffic_leaves() -> None:
    # with half of every cell's PRBs taken by background traffic, cameras filling the rest
    # use ~49% of all PRBs: busy all the same
    import airan

    d = yaml.safe_load(
        resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text())
    for svc in d["services"]:
        if svc["name"] == "inspect":
            svc["ul_kb"] = 3000
    for fleet in d["fleets"]:
        if fleet["name"] == "camera":
            fleet["ul_buffer_kb"] = 60000
    d["ai_ran"] = {"traffic": {"hourly": [0.5] * 24}}
    from airan.scenario import scenario_from_dict

    cells = airan.run(scenario_from_dict(d), duration_s=2.0).summary["cells"]
    assert cells["background_share_dl"] == cells["background_share_ul"] == pytest.approx(0.5)
    assert 0.4 < cells["max_prb_utilization_ul"] < 0.5
    assert cells["cells_busy_ul"] >= 1


def test_a_run_prints_each_fleets_energy_as_summary_json_has_it(tmp_path: Path) -> None:
    """Device energy was in summary.json and the report only (a user's walkthrough)."""
    res = runner.invoke(app, ["run", "factory", "--duration", "1", "--no-report",
                              "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    fleets = json.loads((tmp_path / "run" / "summary.json").read_text())["fleets"]
    assert ("device energy, radio and on-board compute (its idle draw included), not motors "
            "(per request above idle, mean power") in text
    for name, f in fleets.items():
        assert f"{name} {f['energy_per_request_j'] * 1e3:.3g} mJ, {f['mean_power_w']:.3g} W" \
            in text


def test_a_run_under_drx_prints_each_fleets_time_in_drx(tmp_path: Path) -> None:
    """radio.drx: the devices' line says how much of their time the fleets' UEs spent in DRX
    (summary.json's drx_share)."""
    d = yaml.safe_load(
        resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text())
    d.setdefault("radio", {})["drx"] = {}
    path = tmp_path / "drx.yaml"
    path.write_text(yaml.safe_dump(d))
    res = runner.invoke(app, ["run", str(path), "--duration", "1", "--no-report",
                              "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    fleets = json.loads((tmp_path / "run" / "summary.json").read_text())["fleets"]
    for name, f in fleets.items():
        assert 0.0 <= f["drx_share"] <= 1.0
        assert f"{f['mean_power_w']:.3g} W, {f['drx_share']:.0%} in DRX" in text, name


def test_cautions_name_the_fleets_with_devices_out_of_coverage() -> None:
    from airan.report.cautions import cautions

    fleets = {"covered": {"devices": 30, "out_of_coverage": 0},
              "far": {"devices": 20, "out_of_coverage": 19}}
    text = " ".join(cautions({"sites": {}, "cells": {}, "fleets": fleets}))
    assert "Out of coverage: devices of far (19 of 20) cannot use their best cell" in text
    assert "covered" not in text
    fleets["far"]["out_of_coverage"] = 0
    assert cautions({"sites": {}, "cells": {}, "fleets": fleets}) == []


def _two_fleets(path: Path) -> Path:
    """City's perception sent by 20 vehicles on their CPU and 20 on a Jetson AGX Orin."""
    text = resources.files("airan.scenario.builtin").joinpath("city.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    cpu = data["fleets"][0]
    cpu["count"] = 20
    data["fleets"] = [cpu, {**cpu, "name": "orin-cars", "accelerator": "JetsonOrin"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_run_prints_each_fleets_share_of_a_service_two_fleets_send(tmp_path: Path) -> None:
    """A service two fleets send: the terminal tells each fleet's hit ratio (the one on its
    Orin meets the deadline, the one on its CPU does not), as summary.json's fleets do; a
    scenario whose fleets each send their own services prints no such table."""
    scenario = _two_fleets(tmp_path / "s.yaml")
    result = runner.invoke(app, ["run", str(scenario), "--duration", "0.5", "--policy", "local",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    table = result.stdout.split("Fleets")[1]
    rows = {line.split()[0]: line.split() for line in table.splitlines()
            if line.strip().startswith(("vehicles", "orin-cars"))}
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    for fleet, row in rows.items():
        svc = s["fleets"][fleet]["services"]["perception"]
        assert row[1] == "perception" and row[3] == f"{svc['count']:,}"
    assert s["fleets"]["orin-cars"]["hit_ratio"] == 1.0 and s["fleets"]["vehicles"]["met"] == 0
    assert set(rows) == {"vehicles", "orin-cars"}
    html = (tmp_path / "run" / "report.html").read_text()
    for fleet in rows:  # the report's per-fleet table holds the same figures
        row = html.split(f'<tr data-fleet="{fleet}" data-service="perception">')[1]
        row = row.split("</tr>")[0]
        hit = s["fleets"][fleet]["services"]["perception"]["hit_ratio"]
        assert f'data-field="hit_ratio" data-value="{hit!r}"' in row
    # a summary some of whose fleets lack their split (merged from an older airan's parts)
    del s["fleets"]["vehicles"]["services"]
    (tmp_path / "run" / "summary.json").write_text(json.dumps(s))
    again = runner.invoke(app, ["report", str(tmp_path / "run")])
    assert again.exit_code == 0, again.output
    html = (tmp_path / "run" / "report.html").read_text()
    assert 'data-fleet="orin-cars"' in html and 'data-fleet="vehicles"' not in html
    plain = runner.invoke(app, ["run", "factory", "--duration", "0.2", "--no-report",
                                "--out", str(tmp_path / "factory")])
    assert plain.exit_code == 0 and "Fleets" not in plain.stdout


def test_a_sweeps_long_axis_paths_leave_room_for_the_results(tmp_path: Path) -> None:
    """Three axes given as long field paths took a whole 80-column terminal and hid the
    results (a review): the headers are then each path's last part that names it alone; and a
    combination run on several seeds shows their standard deviation beside the mean."""
    from airan.sweep.cli import _short_axis_names

    axes = ["compute_sites[on-prem].gpus[0].count", "compute_sites[on-prem].batching.max_batch",
            "services[vla].arrivals", "services[detect].arrivals"]
    assert _short_axis_names(axes) == ["count", "max_batch", "services[vla].arrivals",
                                       "services[detect].arrivals"]  # (arrivals: twice)
    assert _short_axis_names(["seed", "policy"]) == ["seed", "policy"]
    path = tmp_path / "sweep.yaml"
    path.write_text("scenario: factory\nduration_s: 0.2\naxes:\n"
                    "  compute_sites[on-prem].batching.max_batch: [4, 8]\n"
                    "  compute_sites[regional].batching.max_wait_ms: [1, 2]\n  seed: [1, 2]\n")
    result = runner.invoke(app, ["sweep", str(path), "--workers", "1", "--out",
                                 str(tmp_path / "o")], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.stdout.split("Mean over seeds")[1]
    assert "max_batch" in table and "max_wait_ms" in table and "detect" in table
    assert "±" in table
    # and a line names each shortened column's whole path (an MEC planner's review: a
    # "count" beside a GPU type read as a GPU count)
    legend = " ".join(table.split("columns: ")[1].split())
    assert legend.startswith("max_batch = compute_sites[on-prem].batching.max_batch; "
                             "max_wait_ms = compute_sites[regional].batching.max_wait_ms")


def test_the_radio_line_says_what_share_the_background_traffic_took() -> None:
    """An operator's planner: a macro network without its handsets' load read as an empty one,
    unsaid; with ai_ran.traffic, its mean share of each direction, beside the devices' (an
    AI-RAN planner's review read the devices' means as the cells' whole load)."""
    from airan.cli import background_text

    assert background_text({"background_share_ul": 0.0, "background_share_dl": 0.0}) \
        .startswith("no background traffic")
    assert background_text({"background_share_ul": 0.3, "background_share_dl": 0.6}) == \
        "besides them, background traffic took 30.0% of the uplink PRBs, 60.0% of the downlink's"


def test_an_overloaded_fleets_energy_is_also_given_per_answered_request(tmp_path: Path) -> None:
    """A robot maker's review: under ``local`` an overloaded Thor printed 21.5 J per request,
    half of the ~44 J each VLA it computed cost, its dropped requests in the count. Where a
    fifth or more got no answer, the line gives the energy per answered request beside it
    (the run's energy over its met and late requests); none where nearly all were answered."""
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "factory", "--policy", "local", "--duration", "2",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    line = " ".join(next(x for x in res.output.splitlines()
                         if x.startswith("device energy")).split())
    arm = json.loads((out / "summary.json").read_text())["fleets"]["arm"]
    answered = arm["met"] + arm["late"]
    assert answered < 0.8 * arm["requests"]  # (overloaded: a real check)
    per = arm["energy_per_request_j"] * arm["requests"] / answered
    assert f"arm {arm['energy_per_request_j']:.3g} J ({per:.3g} J per answered request, " \
           f"{answered:,} of {arm['requests']:,})" in line
    res = runner.invoke(app, ["run", "factory", "--duration", "1", "--out",
                              str(tmp_path / "edge")])
    assert "per answered request" not in res.output
