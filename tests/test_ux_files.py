"""What a run writes, as a user meets it on disk.

* every file of a run folder (summary.json included: it is written atomically, through a
  temporary file) gets the mode any program's output gets, 0666 less the umask, not 0600;
  every atomic writer of the package follows the umask, and a failed write leaves the old file
  and no temporary one;
* requests.parquet names each request's fleet, right after its device, dictionary-encoded; the
  trace export shows it, and still reads a trace written without it;
* a run is never written over a user's own scenario.yaml, report.html or trace.json (``--out``
  a folder that is no run folder): refused before the run, exit 2.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.report.rundir import atomic_path, write_json_atomic, write_run, write_text_atomic
from airan.report.trace import export_trace
from airan.sweep.runner import _write_parquet_atomic

runner = CliRunner()


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """``umask(mask)`` sets the process umask for one test; the old one is restored after it."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- file modes --------------------------------------------------------------------------------


def test_run_folder_files_are_readable_by_group_and_others_under_umask_022(
    tmp_path: Path, umask
) -> None:
    umask(0o022)
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", "factory", "--duration", "0.2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"summary.json", "requests.parquet", "report.html", "scenario.yaml"} <= names
    wrong = {str(p.relative_to(out)): oct(_mode(p)) for p in files if _mode(p) != 0o644}
    assert not wrong, f"not 0644 under umask 022: {wrong}"
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]  # no temporary left


def test_atomic_writes_follow_the_umask_not_a_fixed_mode(tmp_path: Path, umask) -> None:
    umask(0o027)
    table = pa.table({"x": [1, 2, 3]})
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    write_text_atomic(tmp_path / "b.yaml", "x: 1\n")
    _write_parquet_atomic(table, tmp_path / "c.parquet")  # sweep results.parquet
    for name in ("a.json", "b.yaml", "c.parquet"):
        assert _mode(tmp_path / name) == 0o640, name
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    assert pq.read_table(tmp_path / "c.parquet").equals(table)


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


# ---- the fleet column --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def factory_result() -> airan.Result:
    return airan.run("factory", duration_s=0.3, seed=3)


def test_requests_parquet_names_each_requests_fleet_after_its_device(
    factory_result, tmp_path: Path
) -> None:
    folder = write_run(factory_result, tmp_path / "run")
    table = pq.read_table(folder / "requests.parquet")
    names = table.column_names
    assert names[names.index("device") + 1] == "fleet"
    assert pa.types.is_dictionary(table.schema.field("fleet").type)
    # each row's fleet is its device's fleet in the map (devices.parquet)
    devices = pq.read_table(folder / "devices.parquet").to_pydict()
    fleet_of = dict(zip(devices["device"], devices["fleet"], strict=True))
    rows = table.select(["device", "fleet"]).to_pydict()
    assert rows["fleet"] == [fleet_of[d] for d in rows["device"]]
    fleets = set(rows["fleet"])
    assert len(fleets) > 1 and fleets <= set(factory_result.summary["fleets"])


def test_trace_export_shows_the_fleet_and_reads_traces_written_without_it(
    factory_result, tmp_path: Path
) -> None:
    folder = write_run(factory_result, tmp_path / "run")
    doc = json.loads(export_trace(folder, limit=200).path.read_text())
    bars = [e for e in doc["traceEvents"] if e["ph"] in ("X", "i") and e.get("cat") != "stage"]
    assert bars and all("fleet" in e["args"] for e in bars)
    threads = [e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "thread_name"]
    assert all(" device " in name for name in threads)  # "amr device 12"

    path = folder / "requests.parquet"  # a run written before the column existed
    pq.write_table(pq.read_table(path).drop_columns(["fleet"]), path)
    doc = json.loads(export_trace(folder, limit=200).path.read_text())
    bars = [e for e in doc["traceEvents"] if e["ph"] in ("X", "i") and e.get("cat") != "stage"]
    assert bars and not any("fleet" in e["args"] for e in bars)


@pytest.mark.parametrize("theirs", ["report.html", "scenario.yaml", "trace.json"])
def test_a_run_never_replaces_a_users_own_file_in_a_folder_that_is_no_run(
        tmp_path: Path, theirs: str) -> None:
    (tmp_path / theirs).write_text("mine")
    result = runner.invoke(app, ["run", "--duration", "0.05", "--no-report", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert theirs in result.stderr and "--out" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [theirs]  # nothing written, kept
    assert (tmp_path / theirs).read_text() == "mine"
    run = airan.run(airan.load_scenario("factory"), duration_s=0.05)
    with pytest.raises(FileExistsError, match=theirs):
        write_run(run, tmp_path)


def test_a_run_folder_and_a_folder_of_other_files_take_a_run(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    args = ["run", "--duration", "0.05", "--no-report", "--out", str(tmp_path)]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, args).exit_code == 0  # again: now a run folder (its scenario.yaml)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_live_commands_refuse_such_a_folder_before_their_session(tmp_path: Path) -> None:
    from airan.errors import InputError
    from airan.live.cli import _check_out

    _check_out(tmp_path)  # empty: fine
    (tmp_path / "trace.json").write_text("mine")
    with pytest.raises(InputError, match="trace.json") as exc:
        _check_out(tmp_path)
    assert exc.value.field == "--out"


def test_compare_never_replaces_a_users_own_scenario_in_a_folder_that_is_no_comparison(
        tmp_path: Path) -> None:
    from airan.report.compare import run_comparison

    (tmp_path / "scenario.yaml").write_text("# mine, with my comments\n")
    result = runner.invoke(app, ["compare", "--policies", "local", "--seeds", "1",
                                 "--duration", "0.05", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "scenario.yaml" in result.stderr and "--out" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]
    assert (tmp_path / "scenario.yaml").read_text() == "# mine, with my comments\n"
    with pytest.raises(FileExistsError, match="comparison"):
        run_comparison("factory", ["local"], seeds=1, duration_s=0.05, out=tmp_path)
    (tmp_path / "scenario.yaml").unlink()  # an empty folder takes one, and again after it
    args = ["compare", "--policies", "local", "--seeds", "1", "--duration", "0.05",
            "--out", str(tmp_path)]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, args).exit_code == 0


def test_a_run_folders_scenario_is_the_scenario_as_run(tmp_path: Path) -> None:
    """The options given (policy, seed, duration, trace settings) are in its scenario.yaml:
    running that file again makes the same run."""
    result = runner.invoke(app, ["run", "factory", "--policy", "nearest-edge", "--seed", "7",
                                 "--duration", "0.3", "--trace-limit", "50", "--no-report",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sc = airan.load_scenario(str(tmp_path / "scenario.yaml"))
    assert (sc.policy, sc.seed, sc.duration_s, sc.engine.trace_limit) == (
        "nearest-edge", 7, 0.3, 50)
    s = json.loads((tmp_path / "summary.json").read_text())
    again = airan.run(sc)
    assert again.summary["requests"] == s["requests"]
    assert again.summary["services"] == s["services"]


def test_running_a_run_folders_scenario_again_keeps_that_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``airan run runs/<run>/scenario.yaml`` from the project folder: its default folder is
    the run's own, which it once overwrote (its report deleted); it now writes ``rerun`` in it."""
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["run", "factory", "--duration", "0.1"]).exit_code == 0
    run = Path("runs") / "factory-deadline-aware-1"
    before = (run / "summary.json").read_bytes()
    assert (run / "report.html").is_file()
    result = runner.invoke(app, ["run", str(run / "scenario.yaml"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert (run / "summary.json").read_bytes() == before and (run / "report.html").is_file()
    again = json.loads((run / "rerun" / "summary.json").read_text())
    assert again["requests"] == json.loads(before)["requests"]
    # a scaled run's scenario names the unscaled run by default (its fleets are scaled), and
    # a rerun's own scenario its parent: each goes to its own folder's rerun
    assert runner.invoke(app, ["run", "factory", "--duration", "0.1", "--fleet-scale", "0.5",
                               "--no-report"]).exit_code == 0
    half = Path("runs") / "factory-deadline-aware-1-x0.5"
    assert runner.invoke(app, ["run", str(half / "scenario.yaml"), "--no-report"]).exit_code == 0
    assert (run / "summary.json").read_bytes() == before
    assert (half / "rerun" / "summary.json").is_file()
    assert runner.invoke(app, ["run", str(run / "rerun" / "scenario.yaml"),
                               "--no-report"]).exit_code == 0
    assert (run / "summary.json").read_bytes() == before
    assert (run / "rerun" / "rerun" / "summary.json").is_file()


def test_compare_tells_a_comparison_from_a_project_or_a_run_folder(tmp_path: Path) -> None:
    """A project folder whose runs/ holds runs, and a run folder, are refused; a comparison
    that stopped while being written (runs/ holding per-run summaries only) and a folder of
    files a comparison never writes (trace.json) take one."""
    from airan.report.rundir import foreign_folder_error

    project = tmp_path / "project"
    (project / "runs" / "factory-deadline-aware-1").mkdir(parents=True)
    (project / "scenario.yaml").write_text("# mine\n")
    assert "scenario.yaml" in (foreign_folder_error(project, "comparison.json") or "")
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", "--duration", "0.05", "--no-report", "--out",
                               str(run)]).exit_code == 0
    assert "scenario.yaml" in (foreign_folder_error(run, "comparison.json") or "")
    half = tmp_path / "half"
    (half / "runs").mkdir(parents=True)
    (half / "runs" / "local-seed1.json").write_text("{}")
    (half / "scenario.yaml").write_text("name: x\n")
    assert foreign_folder_error(half, "comparison.json") is None
    traced = tmp_path / "traced"
    traced.mkdir()
    (traced / "trace.json").write_text("{}")
    assert foreign_folder_error(traced, "comparison.json") is None
    assert "trace.json" in (foreign_folder_error(traced) or "")  # a run writes one


def test_a_comparisons_scenario_has_the_duration_compared(tmp_path: Path) -> None:
    from airan.report.compare import run_comparison

    run_comparison("factory", ["local"], seeds=1, duration_s=0.05, out=tmp_path)
    assert airan.load_scenario(str(tmp_path / "scenario.yaml")).duration_s == 0.05


def _module_policy(snapshot, batch):  # type: ignore[no-untyped-def]
    return np.full(len(batch), -1, dtype=np.int64)  # every request on its device


def test_a_policy_function_is_named_in_the_run_folder_only_where_it_loads_back() -> None:
    sc = airan.load_scenario("factory")
    named = airan.run(sc, policy=_module_policy, duration_s=0.05)
    assert named.scenario.policy == f"{__name__}:_module_policy"
    for fn in (lambda snapshot, batch: _module_policy(snapshot, batch),
               functools.partial(_module_policy)):
        kept = airan.run(sc, policy=fn, duration_s=0.05)
        assert kept.scenario.policy == sc.policy  # its label would not load: not written
        assert kept.summary["policy"] != sc.policy  # the summary names the function
