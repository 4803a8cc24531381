"""The ``airan`` command line: run, validate, scenarios, catalog, --version."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from airan.cli import app

runner = CliRunner()

DURATION = "0.5"
BREAKDOWN_KEYS = {"ul_wait", "ul_air", "ul_transport", "queue", "compute", "dl_transport",
                  "dl_air"}
TRACE_COLUMNS = {"request", "service", "device", "fleet", "placement", "outcome", "cell",
                 "created_s", *(f"{k}_ms" for k in BREAKDOWN_KEYS), "latency_ms", "ul_kb",
                 "dl_kb"}


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def factory_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("run") / "out"
    result = invoke("run", "--duration", DURATION, "--out", str(out))
    return result, out


def test_run_default_scenario_writes_both_files(factory_run) -> None:
    result, out = factory_run
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").is_file()
    assert (out / "requests.parquet").is_file()
    assert str(out / "summary.json") in result.stdout
    assert str(out / "requests.parquet") in result.stdout
    assert (out / "report.html").is_file()
    assert str(out / "report.html") in result.stdout


def test_run_prints_tables(factory_run) -> None:
    result, _ = factory_run
    text = result.stdout
    for word in ("detect", "vla", "inspect", "on-prem", "regional", "cloud", "p99",
                 "utilization", "ul_transport", "drops by reason", "requests per wall s"):
        assert word in text, word


def test_summary_json_has_the_documented_keys(factory_run) -> None:
    _, out = factory_run
    s = json.loads((out / "summary.json").read_text())
    for key in ("scenario", "policy", "seed", "duration_s", "wall_s", "requests_per_wall_s",
                "requests", "services", "sites"):
        assert key in s, key
    assert s["scenario"] == "factory"
    assert s["policy"] == "deadline-aware"
    assert s["seed"] == 1
    assert s["duration_s"] == pytest.approx(float(DURATION))
    assert set(s["requests"]) >= {"created", "met", "late", "dropped", "in_flight",
                                  "dropped_by_reason"}
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]
    assert r["created"] > 0
    assert set(s["services"]) == {"detect", "vla", "inspect"}
    for v in s["services"].values():
        assert set(v) >= {"count", "met", "late", "dropped", "hit_ratio", "latency_ms",
                          "breakdown_ms"}
        assert set(v["latency_ms"]) >= {"mean", "p50", "p95", "p99", "p999"}
        assert set(v["breakdown_ms"]) == BREAKDOWN_KEYS
    assert set(s["sites"]) == {"on-prem", "regional", "cloud"}
    for c in s["sites"].values():
        assert set(c) >= {"gpu_utilization", "mean_queue", "served"}


def test_requests_parquet_one_row_per_traced_request(factory_run) -> None:
    _, out = factory_run
    s = json.loads((out / "summary.json").read_text())
    table = pq.read_table(out / "requests.parquet")
    assert set(table.column_names) == TRACE_COLUMNS
    assert table.num_rows == s["trace"]["rows"]
    # every request is traced in a short run (far below the trace limit), the in-flight too
    r = s["requests"]
    assert table.num_rows == r["created"]
    outcomes = table.column("outcome").to_pylist()
    assert outcomes.count("in_flight") == r["in_flight"]
    ids = table.column("request").to_pylist()
    assert len(set(ids)) == len(ids)


def test_run_default_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--duration", "0.2", "--seed", "7", "--policy", "nearest-edge",
                    "--no-report")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "runs" / "factory-nearest-edge-7"
    s = json.loads((folder / "summary.json").read_text())
    assert s["seed"] == 7 and s["policy"] == "nearest-edge"
    assert (folder / "requests.parquet").is_file()


def test_fleet_scale_doubles_created_requests(tmp_path: Path, factory_run) -> None:
    _, out = factory_run
    base = json.loads((out / "summary.json").read_text())["requests"]["created"]
    result = invoke("run", "--duration", DURATION, "--fleet-scale", "2", "--no-report",
                    "--out", str(tmp_path / "x2"))
    assert result.exit_code == 0, result.output
    doubled = json.loads((tmp_path / "x2" / "summary.json").read_text())["requests"]["created"]
    assert 1.8 * base <= doubled <= 2.2 * base, (base, doubled)


def test_trace_limit_option(tmp_path: Path) -> None:
    result = invoke("run", "--duration", "0.2", "--trace-limit", "10", "--trace-sample", "0",
                    "--no-report", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "requests.parquet").num_rows <= 10
    # the terminal says what the trace holds, not only summary.json: with no sample beyond
    # the limit, the run's first requests only
    text = " ".join(result.stdout.split())
    assert "rows; the first 10 requests only (no sample beyond them" in text
    result = invoke("run", "--duration", "0.2", "--trace-limit", "10", "--trace-sample", "0.1",
                    "--no-report", "--out", str(tmp_path / "sampled"))
    assert result.exit_code == 0, result.output
    assert "rows; a sample: every request up to the first 10" in " ".join(result.stdout.split())


def test_scenarios_lists_builtins() -> None:
    result = invoke("scenarios")
    assert result.exit_code == 0, result.output
    assert "factory" in result.stdout
    assert "city" in result.stdout
    assert "Private 5G factory" in result.stdout


def test_validate_builtin_file() -> None:
    path = Path(__file__).resolve().parents[1] / "src/airan/scenario/builtin/factory.yaml"
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert "services 3" in result.stdout
    assert "devices 58" in result.stdout


def test_catalog_gpus() -> None:
    result = invoke("catalog", "gpus")
    assert result.exit_code == 0, result.output
    assert "H100" in result.stdout
    assert "L40S" in result.stdout
    assert "1979" in result.stdout  # H100 FP8 dense TFLOPS


def test_catalog_models() -> None:
    result = invoke("catalog", "models")
    assert result.exit_code == 0, result.output
    assert "yolov8s" in result.stdout
    assert "H100" in result.stdout
    assert "openvla-7b" in result.stdout


def test_version() -> None:
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0
    assert version("airan") in result.stdout


def test_no_command_shows_help() -> None:
    result = invoke()
    assert "run" in result.output and "validate" in result.output


def test_the_terminal_summary_never_cuts_numbers_and_lists_a_few_sites(
        factory_run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A metro-sized summary on a 60-column terminal: every count printed whole (no ellipsis),
    what is still in flight said, and the cell sites beyond the busiest few summed in a line."""
    import io

    from rich.console import Console

    import airan.cli as cli

    _, out = factory_run
    s = json.loads((out / "summary.json").read_text())
    for v in s["services"].values():
        v.update(count=123_456_789, met=100_000_000, late=20_000_000, dropped=3_000_000,
                 in_flight=456_789)
    s["requests"].update(created=123_456_789, in_flight=456_789)
    cell = next(iter(s["sites"].values()))
    for i in range(40):
        s["sites"][f"gpu-site{i}"] = {**cell, "kind": "cell", "gpu_utilization": i / 100,
                                      "served": 1_000}
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=60, highlight=False))
    cli._print_summary(s, 1.0)
    text = buf.getvalue()
    assert "…" not in text
    assert text.count("123,456,789") == len(s["services"]) + 2  # and the totals
    assert "456,789" in text and "in flight at the end: 456,789" in text
    shown = [line for line in text.splitlines() if line.startswith("gpu-site")]
    n_cells = cli.SITES_SHOWN - 3  # factory's own three sites are edge and cloud ones
    # the busiest, busiest first (an operator planner's review: "the 9 busiest" in name order)
    assert [line.split()[0] for line in shown] == [f"gpu-site{i}"
                                                   for i in range(39, 39 - n_cells, -1)]
    assert "more cell sites" in text


def test_python_dash_m_airan_is_the_same_command_line() -> None:
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "airan", "scenarios"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "factory" in res.stdout and "metro" in res.stdout
    bad = subprocess.run([sys.executable, "-m", "airan", "validate", "/nonexistent.yaml"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "error:" in bad.stderr


def test_validate_echoes_the_radio_with_the_uplink_share_and_each_fleets_ue_power(
        tmp_path) -> None:
    """An operator's planner: validate echoed neither the TDD pattern's uplink share nor a
    fleet's own UE power class."""
    import yaml

    import airan

    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["fleets"][0]["ue_tx_power_dbm"] = 26
    path = tmp_path / "pc2.yaml"
    path.write_text(yaml.safe_dump(d))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    # (the numerology's figures: TS 38.211 Table 4.2-1, TS 38.101-1 Table 5.3.2-1's 273 PRBs at
    # 100 MHz and 30 kHz, 135 at 60 kHz; a lecturer's lab: numerology 2 echoed nothing)
    assert ("radio nr, uma, n78 at 3.5 GHz, 100 MHz, numerology 1: 30 kHz, 0.5 ms slots, 273 "
            "PRBs, TDD DDDSU every 2.5 ms (1 of 5 slots uplink; the S slot's uplink symbols "
            "carry no data), uplink by SR every 5 ms, grant 2 ms later, cells 56 dBm, UEs 23 dBm "
            f"({d['fleets'][0]['name']} 26 dBm)") in text
    # as the radio model has it (a newcomer's review: validate said the S slot's uplink
    # symbols added to the uplink, which carries its data in the U slots only)
    from airan.radio import nr

    ul_share, _ = nr.slot_usable(nr.parse_tdd_pattern("DDDSU"))
    assert list(ul_share) == [0.0, 0.0, 0.0, 0.0, 1.0]
    d["carrier"]["numerology"] = 2
    path.write_text(yaml.safe_dump(d))
    mu2 = " ".join(runner.invoke(app, ["validate", str(path)]).output.split())
    assert "numerology 2: 60 kHz, 0.25 ms slots, 135 PRBs, TDD DDDSU every 1.25 ms" in mu2
    d["carrier"]["numerology"] = 1
    d["radio"]["model"] = "ideal"  # (no PRBs nor powers: said so, not the carrier's figures)
    path.write_text(yaml.safe_dump(d))
    ideal = runner.invoke(app, ["validate", str(path)])
    assert ideal.exit_code == 0 and "radio ideal: no cells' PRBs, path loss or powers in play" \
        in " ".join(ideal.output.split())


def test_validate_says_which_fleets_fly_as_aerial_ues_and_warns_of_paths_beyond_the_cells(
        tmp_path) -> None:
    """A drone maker's review: whether a fleet was aerial (TR 36.777 above 22.5 m, TR 38.901's
    ground formulas to it) was said nowhere, the drone class's default sits on that line, a
    path 7 km beyond the cells validated silently, and a waypoint fleet's height_m was
    replaced by its paths' heights unsaid."""
    import yaml

    import airan

    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    base = dict(d["fleets"][0])
    d["fleets"] = [
        {**base, "name": "parked", "count": 5, "device_class": "drone"},
        {**base, "name": "flyers", "count": 5, "device_class": "drone", "height_m": 100,
         "mobility": {"model": "waypoints", "speed_mps": 15,
                      "paths": [[[0, 0, 40], [500, 0, 120]], [[0, 0, 60], [9000, 0, 60]]]}},
        {**base, "name": "cars", "count": 5},
    ]
    path = tmp_path / "drones.yaml"
    path.write_text(yaml.safe_dump(d))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert ("heights: parked 22.5 m (ground, TR 38.901 (at 22.5 m, the UMa ground formulas' "
            "top; a height above it flies as TR 36.777's aerial UEs)); flyers 40-120 m "
            "(aerial, TR 36.777 UMa-AV); cars 1.5 m (ground, TR 38.901)") in text, text
    assert ("field 'fleets[flyers].height_m': not used: a waypoint fleet's devices (drones, "
            "AGVs) move at their paths' heights") in text
    assert "field 'fleets[flyers].mobility.paths[1]': path 1 reaches (9000, 0)," in text
    assert "paths[0]" not in text  # (within the layout)
    # (the drone maker's: the median SINR at 120 m moved 2 dB with a 10-element column)
    assert "the cells radiate from one 8 dBi element (radio.gnb_vertical_elements 1)" in text
    d["radio"] = {**d.get("radio", {}), "gnb_vertical_elements": 10}
    path.write_text(yaml.safe_dump(d))
    column = " ".join(runner.invoke(app, ["validate", str(path)]).output.split())
    assert "flyers 40-120 m (aerial" in column and "one 8 dBi element" not in column
    # (a drone operator's review: 60 drones at 100 m took the ground's median uplink SINR from
    # 14.0 to 1.0 dB, the cause and the fix named nowhere): a flying fleet under the cells'
    # power control is named with TR 36.777's remedy, one with its own P0 is not
    assert ("fleet flyers sends under the cells' power control (P0 -85 dBm, alpha 0.8) as the "
            "ground does") in column and "ul_p0_dbm or ul_alpha" in column
    assert "parked sends" not in column  # (at 22.5 m, ground)
    d["fleets"][1]["ul_p0_dbm"] = -95
    path.write_text(yaml.safe_dump(d))
    own = " ".join(runner.invoke(app, ["validate", str(path)]).output.split())
    assert "flyers 40-120 m (aerial" in own and "under the cells' power control" not in own
    assert "heights:" not in " ".join(runner.invoke(app, ["validate", "city"]).output.split())
