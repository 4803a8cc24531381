"""What a user review of the command line and the report found, each as the behaviour it fixed.

* the verdict, the terminal breakdown and the breakdown figure attribute queue and compute time
  to where it happened: the devices' own accelerators or the compute sites;
* a run folder's scenario.yaml names the files it reads by absolute path (reproducible anywhere);
* the live commands without the live extra: one line naming the package and the extra, exit 2;
* comparison intervals stay within the values a metric can take;
* the terminal says when latency figures leave out a notable share of dropped requests;
* PRB utilization is labelled as the simulated devices' own, beside the background traffic;
* validation warns of faults after the end, services no fleet runs, fleets far from any cell;
* errors give the bad value once; a scaled run gets its own default folder and records its scale;
* writing a run removes the report files of an earlier run in that folder;
* a sharded folder, a trace window past the end, a sweep without Ray: each says what it is;
* ``true`` is no number in a scenario; a scenario comment says what its value is.
"""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError
from airan.report import build_report, write_run
from airan.report.compare import aggregate, mean_ci
from airan.report.html import _STAGE_NAMES, verdict
from airan.report.placement import LocalShare, local_shares, split_breakdown
from airan.report.rundir import scenario_document
from airan.scenario import load_scenario, scenario_from_dict
from airan.scenario.load import scenario_warnings

runner = CliRunner()


def factory() -> dict[str, Any]:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    return yaml.safe_load(text)


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# ---- 1: queue and compute, on the device or at a site -----------------------------------------
def _missing(breakdown: dict[str, float]) -> dict[str, Any]:
    return {"hit_ratio": 0.5, "target_hit_ratio": 0.99, "deadline_ms": 50.0, "met": 50,
            "late": 50, "dropped": 0, "latency_ms": {"mean": sum(breakdown.values()),
                                                     "p99": 300.0},
            "breakdown_ms": breakdown}


def test_verdict_names_the_devices_own_queue_not_the_gpu_queue() -> None:
    svc = _missing({"ul_wait": 10.0, "ul_air": 30.0, "queue": 49.0, "compute": 11.0})
    here = LocalShare(traced=100, requests=0.7, queue=0.98, compute=0.5)
    _, text = verdict("detect", svc, here)
    assert "the queue on the devices' own processors (48%; 70% of its completed requests ran " \
           "on the devices)" in text, text
    assert "GPU queue" not in text
    at_sites = LocalShare(traced=100, requests=0.0, queue=0.0, compute=0.0)
    assert "the queue at compute sites (49%" in verdict("detect", svc, at_sites)[1]
    # without a request trace nothing says where it queued: no site GPU is blamed
    _, unknown = verdict("detect", svc)
    assert "GPU queue" not in unknown and "on the devices or at compute sites" in unknown


def test_local_shares_weigh_queue_time_by_placement_over_completed_requests() -> None:
    table = pa.table({
        "service": pa.array(["a", "a", "a", "b", "a"]).dictionary_encode(),
        "placement": pa.array(["local", "site1", "local", "site1", "local"]).dictionary_encode(),
        "outcome": pa.array(["late", "met", "late", "met", "dropped:queue_full"]),
        "queue_ms": [30.0, 10.0, 60.0, 5.0, 1000.0],  # the dropped one does not count
        "compute_ms": [1.0, 3.0, 1.0, 2.0, 0.0],
    })
    shares = local_shares(table)
    assert shares["a"] == LocalShare(traced=3, requests=pytest.approx(2 / 3), queue=0.9,
                                     compute=0.4)
    assert shares["b"].requests == 0.0
    split = split_breakdown({"queue": 50.0, "compute": 10.0, "ul_air": 1.0}, shares["a"])
    assert split["queue_device"] == pytest.approx(45.0)
    assert split["queue_sites"] == pytest.approx(5.0)
    assert split["compute_device"] == pytest.approx(4.0)
    assert split["ul_air"] == 1.0


def test_local_shares_weigh_sampled_rows_by_the_requests_they_stand_for() -> None:
    """Beyond the trace limit only a uniform sample is kept: each such row stands for
    1 / sample requests, so a long run's later requests are not under-counted."""
    table = pa.table({
        "request": [0, 1, 10],  # limit 2: the third row is one of a 50% sample
        "service": pa.array(["a", "a", "a"]).dictionary_encode(),
        "placement": pa.array(["local", "local", "site1"]).dictionary_encode(),
        "outcome": pa.array(["met", "met", "met"]),
        "queue_ms": [10.0, 10.0, 10.0],
        "compute_ms": [1.0, 1.0, 1.0],
    })
    assert local_shares(table)["a"].queue == pytest.approx(2 / 3)
    weighted = local_shares(table, {"limit": 2, "sample_beyond_limit": 0.5})["a"]
    assert weighted.queue == weighted.requests == pytest.approx(0.5)


@pytest.fixture(scope="module")
def scaled_factory(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """factory at ten times its fleets: most detect requests run on the AMRs themselves."""
    out = tmp_path_factory.mktemp("scaled") / "run"
    result = runner.invoke(app, ["run", "factory", "--fleet-scale", "10", "--duration", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result, out


def test_scaled_factory_report_attributes_time_to_where_it_was_spent(scaled_factory) -> None:
    result, out = scaled_factory
    shares = local_shares(pq.read_table(out / "requests.parquet"))
    assert shares["detect"].requests > 0.5  # the situation the review met
    summary = json.loads((out / "summary.json").read_text())
    split = split_breakdown(summary["services"]["detect"]["breakdown_ms"], shares["detect"])
    biggest = max((k for k, v in split.items() if v is not None), key=lambda k: split[k] or 0)
    html = (out / "report.html").read_text(encoding="utf-8")
    line = html.split('<li data-service="detect">', 1)[1].split("</li>", 1)[0]
    assert "GPU queue" not in html
    assert _STAGE_NAMES[biggest].replace("'", "&#39;") in line, (biggest, line)
    assert 'id="fleet-scale">x10 ' in html  # the report says the fleets were scaled
    # the terminal shows the split too, and says what it means
    for label in ("queue, on device", "queue, at sites", "compute, on device",
                  "compute, at sites"):
        assert label in result.stdout, label
    assert "'on device' on the devices' own processors" in result.stdout


def test_breakdown_figure_draws_device_and_site_parts() -> None:
    from airan.report import figures as F

    services = {"detect": _missing({"ul_wait": 1.0, "queue": 40.0, "compute": 10.0})}
    services["detect"]["breakdown_ms"] = {k: services["detect"]["breakdown_ms"].get(k, 0.0)
                                          for k in F.STAGES}
    local = {"detect": LocalShare(traced=10, requests=0.5, queue=0.9, compute=0.5)}
    labels = [t.get_text() for t in F.breakdown(services, local).axes[0].get_legend().texts]
    assert {"queue (device)", "queue (sites)", "compute (device)", "compute (sites)"} <= \
        set(labels)
    plain = [t.get_text() for t in F.breakdown(services).axes[0].get_legend().texts]
    assert "queue" in plain and "queue (device)" not in plain


# ---- 2: the run folder's scenario.yaml names files by absolute path ---------------------------
def test_run_folder_scenario_reads_its_trace_from_anywhere(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    d = factory()
    d["fleets"][0]["mobility"] = {"model": "trace", "file": "traces/amr.csv"}
    trace = tmp_path / "scen" / "traces" / "amr.csv"
    trace.parent.mkdir(parents=True)
    trace.write_text("t,device,x,y\n0,a,10,10\n5,a,60,30\n0,b,100,50\n5,b,20,5\n")
    write_scenario(tmp_path / "scen" / "plant.yaml", d)
    monkeypatch.chdir(tmp_path)  # the scenario given by a relative path, as users do
    result = runner.invoke(app, ["run", "scen/plant.yaml", "--duration", "0.2", "--no-report",
                                 "--out", "out"])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((tmp_path / "out" / "scenario.yaml").read_text())
    assert saved["fleets"][0]["mobility"]["file"] == str(trace.resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where the report's reproduce command may be run from
    again = load_scenario(str(tmp_path / "out" / "scenario.yaml"))
    assert again.fleets[0].mobility is not None


def test_scenario_document_makes_the_site_list_path_absolute(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    from airan.mobility.config import SiteListFile

    monkeypatch.chdir(tmp_path)
    sc = scenario_from_dict(factory()).model_copy(
        update={"cell_sites_file": SiteListFile(path="sites/x.csv")})
    assert scenario_document(sc)["cell_sites_file"]["path"] == str(tmp_path / "sites" / "x.csv")


# ---- 3: the live commands without the live extra -----------------------------------------------
@pytest.mark.parametrize("args", [["live", "factory", "--duration", "1"],
                                  ["devices", "factory", "--token", "t"],
                                  ["serve", "factory", "--duration", "1"]],
                         ids=lambda a: a[0])
def test_live_commands_without_grpc_say_how_to_install_it(args: list[str]) -> None:
    code = ("import sys; sys.modules['grpc'] = None\n"
            "from airan.cli import app\n"
            f"sys.argv = ['airan', *{args!r}]\n"
            "app()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == ["error: grpcio is not installed (the live runtime needs it): "
                     "pip install 'airan[live]'"], proc.stderr


# ---- 4: confidence intervals within the possible values ---------------------------------------
def test_confidence_intervals_are_clipped_to_possible_values() -> None:
    latency = mean_ci([10.0, 12.0, 300.0], bounds=(0.0, math.inf))
    assert latency["ci_low"] == 0.0 and latency["ci_high"] > latency["mean"]
    hit = mean_ci([1.0, 1.0, 0.97], bounds=(0.0, 1.0))
    assert hit["ci_high"] == 1.0 and hit["ci_low"] < hit["mean"]
    runs = [{"policy": "p", "seed": s, "summary": {"services": {"x": {
        "hit_ratio": h, "hit_ratio_with_overdue": h,
        "latency_ms": {"p50": 5.0, "p99": p99, "mean": 6.0}}}}}
        for s, (h, p99) in enumerate([(1.0, 10.0), (1.0, 12.0), (0.97, 300.0)])]
    agg = aggregate(runs, ["p"], ["x"])["p"]["x"]
    assert agg["p99_ms"]["ci_low"] == 0.0
    assert agg["hit_ratio"]["ci_high"] == 1.0
    assert agg["hit_ratio_with_overdue"]["ci_high"] == 1.0


# ---- 5: percentiles over ended requests, said when drops are many -----------------------------
def test_terminal_says_latency_leaves_out_dropped_requests(tmp_path: Path) -> None:
    d = factory()
    for site in d["compute_sites"]:
        site["queue_limit"] = 1
    path = write_scenario(tmp_path / "tight.yaml", d)
    result = runner.invoke(app, ["run", str(path), "--policy", "nearest-edge", "--duration",
                                 "0.3", "--no-report", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    notable = [n for n, v in s["services"].items()
               if v["dropped"] > 0.01 * (v["met"] + v["late"] + v["dropped"])]
    assert notable
    text = " ".join(result.stdout.split())
    assert "over the requests that ended met or late, not the dropped ones" in text
    for n in notable:
        v = s["services"][n]
        assert f"{n} over {v['met'] + v['late']:,} requests, {v['dropped']:,} dropped" in text


def test_terminal_says_nothing_of_drops_without_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--duration", "0.2", "--no-report", "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["requests"]["dropped"] == 0
    assert "not the dropped ones" not in result.stdout


# ---- 6: PRB utilization is the devices' own --------------------------------------------------
def test_report_labels_prb_use_as_the_devices_beside_the_background(tmp_path: Path) -> None:
    d = load_scenario("city").model_dump(mode="json")
    d["generated_compute_sites"]["gpus"] = [{"type": "H100", "count": 1}]  # MIG splits it
    d["ai_ran"] = {"mode": "mig", "antennas": 32, "traffic": {"start_hour": 20.0}}
    res = airan.run(scenario_from_dict(d), duration_s=0.3)
    html = build_report(write_run(res, tmp_path / "run")).path.read_text(encoding="utf-8")
    assert res.summary["ai_ran"]["background_utilization_now_dl"] > 0.1
    caption = html.split('id="fig-map"', 1)[1].split("</figcaption>", 1)[0]
    assert "the simulated devices only" in caption and "background traffic" in caption
    background = html.split('id="background"', 1)[1].split("</p>", 1)[0]
    assert "counts the simulated devices' PRBs only" in background
    assert "not background traffic" in html.split('id="prb-use"', 1)[1].split("</dd>", 1)[0]


# ---- 7: validation warnings ---------------------------------------------------------------------
def test_warns_of_a_fault_that_starts_after_the_run() -> None:
    d = factory()
    d["faults"] = [{"kind": "site_down", "site": "regional", "start_s": 12.0}]
    sc = scenario_from_dict(d)  # duration_s 10
    lines = scenario_warnings(sc, label="plant.yaml")
    assert any("faults[0].start_s" in ln and "never happens" in ln and "12.0" in ln
               for ln in lines), lines
    assert not any("faults[0]" in ln for ln in scenario_warnings(sc, duration_s=20.0))
    assert any("faults[0]" in ln for ln in scenario_warnings(sc, duration_s=12.0))  # at the end
    # factory's slots are 0.5 ms: a start in the last 0.25 ms rounds to the run's end and never
    # acts; one in the last slot's first half acts in that slot
    late = [ln for ln in scenario_warnings(sc, duration_s=12.0002) if "faults[0]" in ln]
    assert late == []
    d["faults"][0]["start_s"] = 11.99976
    sc = scenario_from_dict(d)
    late = [ln for ln in scenario_warnings(sc, duration_s=12.0) if "faults[0]" in ln]
    assert len(late) == 1 and "rounds to the end" in late[0], late
    from airan.engine import Engine

    eng = Engine(sc, duration_s=12.0)
    assert eng.faults.events[0][0] >= eng.n_slots  # indeed never applied


def test_warns_of_a_service_no_fleet_runs() -> None:
    d = factory()
    d["services"].append({**d["services"][0], "name": "orphan"})
    lines = scenario_warnings(scenario_from_dict(d))
    assert any("services[orphan]" in ln and "no fleet runs this service" in ln for ln in lines)
    assert scenario_warnings(scenario_from_dict(factory())) == []


def test_warns_of_one_empty_fleet_and_of_a_run_shorter_than_a_slot() -> None:
    d = factory()
    d["fleets"][0]["count"] = 0
    name = d["fleets"][0]["name"]
    lines = scenario_warnings(scenario_from_dict(d))
    assert any(f"fleets[{name}].count" in ln and "no devices" in ln for ln in lines), lines
    short = scenario_warnings(scenario_from_dict(factory()), duration_s=1e-9)
    assert len(short) == 1 and "duration_s" in short[0] and "one whole slot" in short[0], short
    assert scenario_warnings(scenario_from_dict(factory()), duration_s=0.0005) == []


def test_load_scenario_names_what_it_takes_when_given_a_dict() -> None:
    with pytest.raises(InputError) as exc:
        airan.load_scenario({"name": "x"})  # type: ignore[arg-type]
    assert exc.value.field == "scenario" and "scenario_from_dict" in str(exc.value)
    import pathlib

    path = resources.files("airan.scenario.builtin").joinpath("factory.yaml")
    assert airan.load_scenario(pathlib.PurePosixPath(str(path))).name == "factory"  # a PathLike


def test_warns_of_a_fleet_far_from_every_cell_site(tmp_path: Path) -> None:
    d = factory()
    d["fleets"][0]["area"] = {"x_m": [50_000, 50_100], "y_m": [0, 60]}
    d["fleets"][1]["area"] = {"center_m": [9_000, 30], "radius_m": 100}  # within 10 km
    lines = scenario_warnings(scenario_from_dict(d))
    far = [ln for ln in lines if "(more than 10 km)" in ln]
    assert len(far) == 1 and f"fleets[{d['fleets'][0]['name']}].area" in far[0], lines
    assert "49.9 km" in far[0]
    # the one within 10 km lies beyond InF's 600 m: warned of that instead
    beyond = [ln for ln in lines if "path loss covers" in ln]
    assert len(beyond) == 1 and f"fleets[{d['fleets'][1]['name']}].area" in beyond[0], lines
    path = write_scenario(tmp_path / "far.yaml", d)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "from the nearest cell site" in result.stderr


def test_warns_of_a_cell_site_beyond_reach_of_every_fleet() -> None:
    """A robot maker's review: a ceiling cell at x 1,250 m in a 150 m hall validated without a
    word (a position in the wrong place serves no device)."""
    d = factory()
    d["cell_sites"][-1]["position_m"] = [1250.0, 30.0]
    name = d["cell_sites"][-1]["name"]
    lines = scenario_warnings(scenario_from_dict(d))
    [far] = [ln for ln in lines if "cell sites farther from every fleet's area" in ln]
    assert "field 'cell_sites'" in far and f"{name} (" in far and "600 m" in far, far
    assert not any("cell sites farther" in ln for ln in scenario_warnings(
        scenario_from_dict(factory())))


# ---- 8: the bad value, once ----------------------------------------------------------------------
def test_inverted_area_error_gives_the_bounds(tmp_path: Path) -> None:
    d = factory()
    d["fleets"][1]["area"] = {"x_m": [100, 20], "y_m": [25, 35]}
    line = one_error_line(runner.invoke(app, ["validate", str(write_scenario(
        tmp_path / "s.yaml", d))]))
    assert f"fleets[{d['fleets'][1]['name']}].area" in line
    assert "x_m is [100, 20]" in line


def test_fleet_scale_leaving_no_device_gives_the_scale_once() -> None:
    line = one_error_line(runner.invoke(app, ["run", "factory", "--fleet-scale", "0.01"]))
    assert line.count("0.01") == 1, line
    assert "--fleet-scale" in line and "no device" in line


# ---- 9: a scaled run's folder and summary ------------------------------------------------------
def test_scaled_run_gets_its_own_default_folder_and_records_its_scale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "--duration", "0.2", "--seed", "7", "--policy", "nearest-edge", "--no-report"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, [*args, "--fleet-scale", "2"])
    assert result.exit_code == 0, result.output
    base = json.loads((tmp_path / "runs/factory-nearest-edge-7/summary.json").read_text())
    scaled = json.loads((tmp_path / "runs/factory-nearest-edge-7-x2/summary.json").read_text())
    assert base["fleet_scale"] == 1.0 and scaled["fleet_scale"] == 2.0
    assert scaled["devices"] == 2 * base["devices"]
    assert list(scaled).index("fleet_scale") == list(scaled).index("duration_s") + 1
    assert airan.run("factory", duration_s=0.1, fleet_scale=0.5).summary["fleet_scale"] == 0.5


# ---- 10: no file of an earlier run stays --------------------------------------------------------
def test_writing_a_run_removes_the_report_files_of_an_earlier_one(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_run(airan.run("factory", duration_s=0.1), folder)
    build_report(folder)
    figures = folder / "figures"
    (figures / "latency_cdf_gone.png").write_bytes(b"old")
    (figures / "latency_cdf_gone.svg").write_text("old")
    (folder / "trace.json").write_text("{}")
    (figures / "notes.txt").write_text("mine")  # not airan's: stays
    (folder / "notes.txt").write_text("mine")
    write_run(airan.run("factory", duration_s=0.1, seed=2), folder)
    assert not (folder / "trace.json").exists() and not (folder / "report.html").exists()
    assert sorted(p.name for p in figures.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    (figures / "notes.txt").unlink()
    write_run(airan.run("factory", duration_s=0.1, seed=3), folder)
    assert not figures.exists()  # an empty figures folder goes too


# ---- 11: messages that say what the folder, the window, the machine is ----------------------
def test_report_of_a_sharded_run_says_sharded_runs_have_no_report(tmp_path: Path) -> None:
    out = tmp_path / "sharded"
    result = runner.invoke(app, ["run-sharded", "factory", "--regions", "1x1", "--workers", "1",
                                 "--duration", "0.1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    line = one_error_line(runner.invoke(app, ["report", str(out)]))
    assert "sharded run" in line and "no report" in line and "older airan" not in line


def test_trace_window_past_the_end_says_when_the_run_ended(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    write_run(airan.run("factory", duration_s=0.5), folder)
    line = one_error_line(runner.invoke(app, ["trace", str(folder), "--from", "100", "--to",
                                              "200"]))
    assert "the run ended at 0.5 s" in line and "--trace-limit" not in line


def test_sweep_dry_run_without_ray_says_ray_is_not_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text("scenario: factory\naxes: {seed: [1, 2]}\n")
    monkeypatch.setitem(sys.modules, "ray", None)
    result = runner.invoke(app, ["sweep", str(path), "--dry-run", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "Ray is not installed" in text and "--workers 1" in text
    result = runner.invoke(app, ["sweep", str(path), "--dry-run", "--workers", "1", "--out",
                                 str(tmp_path / "o")])
    assert "this process" in result.stdout and "not installed" not in result.stdout


# ---- 12: true is no number -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [(lambda d: d["services"][0].update(rate_hz=True), "services[detect].rate_hz"),
     (lambda d: d["cell_sites"][0].update(position_m=[True, 15]), "cell_sites[cell-a].position_m"),
     (lambda d: d["cell_sites"][0].update(sectors=True), "cell_sites[cell-a].sectors"),
     (lambda d: d["carrier"].update(numerology=False), "carrier.numerology")],
    ids=["float", "pair", "literal", "int"])
def test_true_or_false_for_a_number_is_an_error_naming_the_field(change: Any, field: str) -> None:
    d = factory()
    change(d)
    with pytest.raises(InputError) as info:
        scenario_from_dict(d)
    assert info.value.field == field
    msg = str(info.value)
    assert "expected a number, got " in msg and ("true" in msg or "false" in msg)
    assert "True" not in msg and "False" not in msg  # as the YAML spells them


def test_whole_numbers_and_booleans_still_load_where_they_belong() -> None:
    d = factory()
    d["services"][0]["rate_hz"] = 20  # an int for a float field
    d["radio"]["shadowing"] = False  # a bool for a bool field
    sc = scenario_from_dict(copy.deepcopy(d))
    assert sc.services[0].rate_hz == 20.0 and sc.radio.shadowing is False
    for name in ("factory", "city", "metro", "korea"):
        load_scenario(name)


# ---- 13: a comment says what its value is ------------------------------------------------------
def test_city_link_comments_give_the_link_capacity() -> None:
    lines = resources.files("airan.scenario.builtin").joinpath("city.yaml").read_text() \
        .splitlines()
    checked = 0
    for k, line in enumerate(lines):
        cap = re.search(r"capacity_gbps: ([0-9.]+)", line)
        above = k
        while above > 0 and lines[above - 1].strip().startswith("#"):
            above -= 1
        if not cap or above == k:
            continue
        comment = " ".join(lines[above:k])  # the comment block right above the line
        first = re.search(r"([0-9.]+) Gbps", comment)
        if first:
            assert float(first[1]) == float(cap[1]), (comment, line)
            checked += 1
    assert checked >= 1


def test_warns_of_a_grant_delay_shorter_than_the_ue_can_act_on() -> None:
    """TS 38.214 6.4: the grant's PDCCH comes in a slot after the SR's at the earliest, and the
    UE needs N2 symbols after it; with 30 kHz slots that is one slot and (2 + 12) symbols,
    1 ms. A shorter grant delay lets data go before a grant could reach the UE (0.5 ms passed:
    data in the slot after the SR's, where its grant could not yet be)."""
    d = factory()
    for delay_ms in (0.0, 0.5):
        d["radio"]["grant_delay_ms"] = delay_ms
        lines = scenario_warnings(scenario_from_dict(d), label="plant.yaml")
        assert any("radio.grant_delay_ms" in ln and "not physical" in ln and "1 ms" in ln
                   for ln in lines), lines
    d["radio"]["grant_delay_ms"] = 1.0
    assert not any("grant_delay_ms" in ln for ln in scenario_warnings(scenario_from_dict(d)))


def test_warns_where_harq_resends_outreach_the_engines_memory_of_a_ues_blocks() -> None:
    """kernel.harq_end follows a transfer's earlier blocks over the UE's last 63 slots: enough
    for 3 resends of any built-in pattern (DDDSU's longest round trip is 7 slots), not for 7 on
    DDDDDDDSUU (10-slot round trips: 70)."""
    d = factory()
    assert not any("harq_max_retx" in ln for ln in scenario_warnings(scenario_from_dict(d)))
    d["carrier"]["tdd_pattern"] = "DDDDDDDSUU"
    d["radio"]["harq_max_retx"] = 7
    lines = scenario_warnings(scenario_from_dict(d))
    assert any("radio.harq_max_retx" in ln and "70 slots" in ln for ln in lines), lines


@pytest.mark.parametrize(("period_ms", "warned"), [
    (5.0, False), (0.25, False), (0.5, False), (8.0, False), (1.5, True), (3.0, True),
    (5.2, True), (2.5, True), (0.1, True), (1 / 14, False)])
def test_warns_of_an_sr_period_ts_38331_does_not_configure(period_ms: float,
                                                             warned: bool) -> None:
    """30 kHz slots: 5 ms is 10 slots and 8 ms 16 (TS 38.331 periods), 0.25 ms is 7 symbols
    and 1/14 ms 2; 1.5 ms (3 slots), 3 ms (6), 5.2 ms (off the grid), 0.1 ms (2.8 symbols) are
    not, nor 2.5 ms (5 slots: at 15 kHz only)."""
    d = factory()
    d["radio"]["sr_period_ms"] = period_ms
    lines = scenario_warnings(scenario_from_dict(d))
    assert any("radio.sr_period_ms" in ln and "TS 38.331" in ln for ln in lines) == warned


def test_profile_names_its_model_argument_not_an_option() -> None:
    from typer.testing import CliRunner

    from airan.cli import app

    result = CliRunner().invoke(app, ["profile", "nope.onnx"])
    assert result.exit_code == 2
    assert "argument 'MODEL'" in result.stderr and "'nope.onnx'" in result.stderr
    assert "--model" not in result.stderr


# ---- 5: live options checked before any process starts or any model runs ----------------------
@pytest.mark.parametrize(("args", "says"), [
    (["serve", "factory", "--threads", "100000"], "option '--threads': must be 1-1024"),
    (["profile", "tiny-cnn", "--out", "{file}/x.yaml"], "option '--out': '{file}' is a file"),
    (["serve", "factory", "--out", "{file}/sub"], "option '--out': '{file}' is a file"),
    (["live", "factory", "--out", "{file}/sub"], "option '--out': '{file}' is a file"),
], ids=["threads", "profile-out", "serve-out", "live-out"])
def test_live_commands_refuse_what_would_fail_later(tmp_path: Path, args: list[str],
                                                     says: str) -> None:
    """A file in the way of --out, or 100,000 threads: one line, exit 2, before the work (serve
    raised NotADirectoryError, profile FileExistsError after measuring; serve waited 2 minutes
    for sites that could not start)."""
    from typer.testing import CliRunner

    from airan.cli import app

    blocker = tmp_path / "F"
    blocker.write_text("x")
    result = CliRunner().invoke(app, [a.replace("{file}", str(blocker)) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: " + says.replace("{file}", str(blocker)))


@pytest.mark.parametrize(("args", "says"), [
    (["run", "factory", "--duration", "1e308"],
     "option '--duration': must be at most 864000 simulated seconds"),
    (["compare", "factory", "--duration", "1e12"], "option '--duration': must be at most"),
    (["plan", "factory", "--duration", "1e308"], "option '--duration': must be at most"),
    (["plan", "factory", "--budget", "inf"], "option '--budget': must be >= 0 and finite"),
    (["plan", "factory", "--price", "L4=1,L4=2"], "option '--price': L4 is given twice"),
    (["plan", "factory", "--target", "*: p99<=1e400ms"],
     "option '--target': p99 bound must be positive and finite"),
    (["catalog", "gpus", "--a100", "--precision", ""], "option '--precision': unknown "
     "precision ''"),
    (["serve", "factory", "--delays", "netns", "--host", "127.0.0.1"],
     "option '--host': not with --delays netns"),
    (["run", "factory", "--out", ""], "option '--out': an empty path"),
    (["compare", "factory", "--out="], "option '--out': an empty path"),
    (["live", "factory", "--out", ""], "option '--out': an empty path"),
], ids=["run", "compare", "plan", "budget", "price", "target", "precision", "host", "out",
        "out=", "live-out"])
def test_out_of_range_numbers_are_refused_at_once(args: list[str], says: str) -> None:
    """--duration 1e308 overflowed a slot count (a traceback) and 1e12 ran for ever; a budget
    of inf failed writing plan.json after the whole search."""
    from typer.testing import CliRunner

    from airan.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: " + says), result.stderr


def test_the_api_refuses_a_duration_beyond_ten_days() -> None:
    import airan
    from airan.errors import InputError

    with pytest.raises(InputError, match="at most 864000") as info:
        airan.run("factory", duration_s=1e308)
    assert info.value.field == "duration_s"


@pytest.mark.parametrize(("args", "says"), [
    (["live", "factory", "--fleet-scale", "1e9"], "option '--fleet-scale': would give"),
    (["serve", "factory", "--policy", "bogus", "--model", "yolov8s=tiny-cnn", "--model",
      "yolov8m=tiny-cnn", "--model", "openvla-7b=tiny-cnn"],
     "option '--policy': unknown policy 'bogus'"),
], ids=["fleet-scale", "policy"])
def test_live_commands_name_their_options_as_the_others_do(args: list[str], says: str) -> None:
    """serve and live said field 'policy' and field 'fleet_scale' for their own options."""
    from typer.testing import CliRunner

    from airan.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: " + says), result.stderr


@pytest.mark.parametrize("args", [
    ["run", "factory", "--duration", "0.1", "--no-report", "--out", "{dir}"],
    ["compare", "factory", "--duration", "0.1", "--out", "{dir}"],
    ["plan", "factory", "--duration", "0.1", "--out", "{dir}"],
    ["capacity", "examples/inventory-korea.yaml", "--json", "{dir}/x.json"],
], ids=["run", "compare", "plan", "capacity"])
def test_an_output_folder_that_cannot_be_written_is_refused_before_the_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """A read-only --out was found after the simulation, the search or the printed table."""
    import os

    from typer.testing import CliRunner

    from airan.cli import app

    folder = tmp_path / "read-only"
    folder.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: (
        False if Path(p) == folder and mode & os.W_OK else real(p, mode, **kw)))
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    result = CliRunner().invoke(app, [a.replace("{dir}", str(folder)) for a in args])
    assert result.exit_code == 2, result.output
    assert f"cannot write in '{folder}'" in result.stderr, result.stderr
    assert "Services" not in result.stdout and "Totals" not in result.stdout  # nothing ran


def test_a_plan_cache_in_a_run_folder_is_refused(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from airan.cli import app

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text('{"services": {}}')
    result = CliRunner().invoke(app, ["plan", "factory", "--duration", "0.1", "--cache",
                                      str(tmp_path / "run"), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert "option '--cache'" in result.stderr and "holds an airan run" in result.stderr


def test_files_of_the_wrong_kind_say_what_they_are(tmp_path: Path) -> None:
    """A scenario given to capacity, a deployment file with a stray field, an empty scenario
    path in Python, a file in the way of trace --out: each says what it is (they gave pydantic's
    'unknown field duration_s', a dataclass's TypeError, a bare 'not a file', 'File exists')."""
    from typer.testing import CliRunner

    import airan
    from airan.cli import app
    from airan.errors import InputError

    root = Path(__file__).resolve().parents[1]
    scenario = root / "src" / "airan" / "scenario" / "builtin" / "factory.yaml"
    result = CliRunner().invoke(app, ["capacity", str(scenario)])
    assert result.exit_code == 2 and "this is a scenario ('fleets'), not a GPU inventory" \
        in result.stderr
    stray = tmp_path / "deployment.json"
    stray.write_text('{"x": 1}')
    result = CliRunner().invoke(app, ["devices", "factory", "--deployment", str(stray)])
    assert result.exit_code == 2 and "not a deployment file (`airan serve` writes one): " \
        "unknown field 'x'" in result.stderr
    with pytest.raises(InputError, match="an empty path is not a scenario") as info:
        airan.load_scenario("")
    assert info.value.field == "scenario"
    blocker = tmp_path / "F"
    blocker.write_text("x")
    result = CliRunner().invoke(app, ["trace", str(tmp_path), "--out", str(blocker / "t.json")])
    assert result.exit_code == 2 and f"'{blocker}' is a file, not a folder" in result.stderr
