"""Running sweeps: in this process and as Ray tasks, resumable, failures recorded.

* 2 policies x 3 seeds give the same numbers with ``--workers 1`` (no Ray) and on Ray;
* a sweep killed midway and started again runs only the runs that were not complete;
* a failed run is recorded with its error, the others complete, and a restart retries it;
* a changed scenario never reuses the old runs' results;
* a sharded run gives the same merged numbers on Ray as in this process.

One local Ray (2 CPUs) serves the whole module; a watchdog ends the process if it hangs.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from airan.cli import app
from airan.errors import InputError
from airan.sweep.runner import RESULTS, Tally, run_sweep
from airan.sweep.shard import run_sharded
from airan.sweep.spec import load_sweep

runner = CliRunner()
WALL = ("wall_s", "requests_per_wall_s", "cpu_wall_s")
SWEEP = """\
name: two-by-three
scenario: factory
duration_s: {duration}
axes:
  policy: [nearest-edge, deadline-aware]
  seed: {{from: 11, count: 3}}
"""


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    from airan.sweep.cluster import start_ray

    # a hung Ray never hangs CI (its tests may wait behind the live tests: tests/conftest.py)
    faulthandler.dump_traceback_later(1200, exit=True)
    # started as the sweep starts it, again where its raylet missed Ray's fixed 30 s (a clean
    # clone's CI: "The current node timed out during startup", the other worker compiling)
    start_ray(ray, num_cpus=2, retries=3)
    try:
        yield ray
    finally:
        ray.shutdown()
        faulthandler.cancel_dump_traceback_later()


def write_sweep(folder: Path, duration: float = 0.3, text: str = SWEEP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.yaml"
    path.write_text(text.format(duration=duration), encoding="utf-8")
    return path


def numbers(table: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in WALL} for row in table.to_pylist()]


def strip_wall(summary: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in summary.items() if k not in WALL}
    if "sharding" in out:
        out["sharding"] = {**out["sharding"], "per_shard": [
            {k: v for k, v in s.items() if k not in WALL} for s in out["sharding"]["per_shard"]]}
    return out


def test_sweep_gives_the_same_numbers_in_process_and_on_ray(tmp_path: Path,
                                                            ray_session: Any) -> None:
    path = write_sweep(tmp_path)
    local = run_sweep(path, out=tmp_path / "local", workers=1)
    on_ray = run_sweep(path, out=tmp_path / "ray", workers=2)
    assert local.tally.ok == on_ray.tally.ok == 6
    assert numbers(local.table) == numbers(on_ray.table)
    rows = local.table.to_pylist()
    assert {(r["policy"], r["seed"]) for r in rows} == {
        (p, s) for p in ("nearest-edge", "deadline-aware") for s in (11, 12, 13)}
    assert all(r["status"] == "ok" and r["requests"] > 0 for r in rows)
    assert len({r["detect.mean_ms"] for r in rows}) == 6  # the runs differ from each other
    for r in rows:  # each run's folder holds the same summary both ways
        a = json.loads((tmp_path / "local" / r["folder"] / "summary.json").read_text())
        b = json.loads((tmp_path / "ray" / r["folder"] / "summary.json").read_text())
        assert strip_wall(a) == strip_wall(b)
        assert (tmp_path / "local" / r["folder"] / "devices.parquet").is_file()
    assert numbers(pq.read_table(tmp_path / "ray" / RESULTS)) == numbers(on_ray.table)


@pytest.mark.realtime  # (killed while 2 to 5 of its 6 runs are done: the clock decides)
def test_killed_sweep_resumes_with_the_rest_only(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, duration=1.5)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "airan.cli", "sweep", str(path), "--workers", "1", "--out",
         str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        start_new_session=True)
    deadline = time.monotonic() + 300  # a cold numba cache compiles first
    try:
        while len(list(out.glob("runs/*/summary.json"))) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/summary.json")}
    assert 2 <= len(done_before) < 6
    assert not (out / RESULTS).exists()  # killed: the table is written at the end

    seen: list[Tally] = []
    result = run_sweep(path, out=out, workers=1, progress=lambda t: seen.append(
        Tally(t.total, t.ok, t.failed, t.skipped, t.last)))
    assert result.tally.skipped == len(done_before)
    assert result.tally.ok == 6 - len(done_before)
    assert seen[0].skipped == len(done_before) and seen[0].ok == 0
    for key, mtime in done_before.items():  # the complete runs were not run again
        assert (out / "runs" / key / "summary.json").stat().st_mtime_ns == mtime
    assert [r["status"] for r in result.table.to_pylist()] == ["ok"] * 6


FAILING_POLICY = "def policy(snapshot, batch):\n    raise RuntimeError('no answer today')\n"


def test_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "failing_policy_xyz.py").write_text(FAILING_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = ("scenario: factory\nduration_s: 0.2\naxes:\n"
            "  policy: [nearest-edge, failing_policy_xyz:policy]\n  seed: [1, 2]\n")
    path = write_sweep(tmp_path, text=text)
    result = runner.invoke(app, ["sweep", str(path), "--workers", "1", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "2 failed" in result.stdout and "no answer today" in result.stdout
    rows = pq.read_table(tmp_path / "out" / RESULTS).to_pylist()
    by_policy = {(r["policy"], r["seed"]): r for r in rows}
    assert [by_policy[("nearest-edge", s)]["status"] for s in (1, 2)] == ["ok", "ok"]
    for s in (1, 2):
        bad = by_policy[("failing_policy_xyz:policy", s)]
        assert bad["status"] == "failed" and "RuntimeError: no answer today" in bad["error"]
        err = json.loads((tmp_path / "out" / bad["folder"] / "error.json").read_text())
        assert "Traceback" in err["traceback"]
    again = run_sweep(path, out=tmp_path / "out", workers=1)
    assert (again.tally.skipped, again.tally.failed, again.tally.ok) == (2, 2, 0)
    # --strict: the same, exit 4 for a pipeline (a researcher's review: exit 0 read as done)
    strict = runner.invoke(app, ["sweep", str(path), "--workers", "1", "--strict", "--out",
                                 str(tmp_path / "out")])
    assert strict.exit_code == 4 and "2 failed" in strict.stdout
    # every row has every column, whichever runs succeeded; the folder is last
    table = pq.read_table(tmp_path / "out" / RESULTS)
    assert table.column_names[-1] == "folder"
    assert {"hit_ratio", "detect.p99_ms", "vla.hit_ratio"} <= set(table.column_names)
    assert all(r["detect.p99_ms"] is None for r in rows if r["status"] == "failed")


def test_results_have_every_column_when_every_run_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "failing_policy_xyz.py").write_text(FAILING_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = ("scenario: factory\nduration_s: 0.1\nname: '..'\naxes:\n"
            "  policy: [failing_policy_xyz:policy]\n")
    path = write_sweep(tmp_path, text=text)
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        outcome = run_sweep(path, workers=1)  # the default folder: runs/<name>
    finally:
        os.chdir(monkey_cwd)
    assert outcome.folder == Path("runs") / "sweep"  # never runs/.. (the working folder)
    assert (tmp_path / "runs" / "sweep" / RESULTS).is_file()
    names = outcome.table.column_names
    assert {"devices", "requests", "hit_ratio", "detect.hit_ratio",
            "fleets[camera].mean_power_w", "fleets[amr].drx_share"} <= set(names)
    assert names[-1] == "folder"


def test_a_sweep_of_one_fleets_drx_shows_what_it_buys_and_costs(tmp_path: Path) -> None:
    """The cameras' DRX as an axis (off, TR 38.840's, a 320 ms cycle with a 10 ms timer):
    each row holds every fleet's device energy beside the hit ratios, the summary's to the
    bit; the awake fleets' power is the same in every row (to 1e-5 W: their transfers' slots
    move a little), the cameras' falls with the cycle, and their time in DRX shows."""
    text = ("scenario: factory\nduration_s: 2\naxes:\n  fleets[camera].drx:\n"
            "    - 'off'\n    - {{}}\n"  # (write_sweep formats the text: braces doubled)
            "    - {{cycle_ms: 320, on_duration_ms: 8, inactivity_ms: 10}}\n")
    outcome = run_sweep(write_sweep(tmp_path, text=text), out=tmp_path / "out", workers=1)
    rows = outcome.table.to_pylist()
    assert [r["status"] for r in rows] == ["ok"] * 3
    for r in rows:
        summary = json.loads((tmp_path / "out" / r["folder"] / "summary.json").read_text())
        for fleet, f in summary["fleets"].items():
            assert r[f"fleets[{fleet}].mean_power_w"] == f["mean_power_w"]
            assert r[f"fleets[{fleet}].energy_per_request_j"] == f["energy_per_request_j"]
            assert r[f"fleets[{fleet}].drx_share"] == f.get("drx_share")
            assert r[f"fleets[{fleet}].battery_life_h"] == f["battery_life_h"]
    power = [r["fleets[camera].mean_power_w"] for r in rows]
    assert power[0] > power[1] > power[2]
    assert rows[0]["fleets[camera].drx_share"] is None
    assert 0.0 < rows[1]["fleets[camera].drx_share"] < rows[2]["fleets[camera].drx_share"]
    for fleet in ("amr", "arm"):
        assert {r[f"fleets[{fleet}].drx_share"] for r in rows} == {None}
        awake = [r[f"fleets[{fleet}].mean_power_w"] for r in rows]
        assert max(awake) - min(awake) < 1e-5


def test_changed_scenario_never_reuses_old_results(tmp_path: Path) -> None:
    first = write_sweep(tmp_path / "a", duration=0.2)
    out = tmp_path / "out"
    run_sweep(first, out=out, workers=1)
    changed = write_sweep(tmp_path / "b", duration=0.2, text=SWEEP.replace(
        "axes:", "set:\n  services[detect].deadline_ms: 20\naxes:"))
    result = run_sweep(changed, out=out, workers=1)
    assert result.tally.skipped == 0 and result.tally.ok == 6
    assert len(result.ignored_folders) == 6
    keys = {r.key for r in load_sweep(changed).runs}
    assert {r["run"] for r in result.table.to_pylist()} == keys
    assert all(r["detect.p50_ms"] is not None for r in result.table.to_pylist())


def test_a_corrupt_summary_is_run_again(tmp_path: Path) -> None:
    """A run folder whose summary.json cannot be read is incomplete: the next start runs it
    again. It was taken as complete, tabled as failed ("unreadable summary") and never run
    again, the start's tally saying 0 failed (a review)."""
    path = write_sweep(tmp_path, duration=0.2)
    out = tmp_path / "out"
    run_sweep(path, out=out, workers=1)
    broken = sorted(out.glob("runs/*/summary.json"))[0]
    broken.write_text('{"trunc', encoding="utf-8")
    result = run_sweep(path, out=out, workers=1)
    assert (result.tally.ok, result.tally.skipped, result.tally.failed) == (1, 5, 0)
    assert [r["status"] for r in result.table.to_pylist()] == ["ok"] * 6


def test_a_changed_policy_of_ones_own_is_another_run(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``module:callable`` policy's module is part of the run's key: edited, its runs are
    run again (they were reused, the old code's results under the new code's name)."""
    from airan.sweep.spec import run_key

    module = tmp_path / "my_sweep_policy.py"
    module.write_text("from airan.policy.builtin import nearest_edge as good\n",
                      encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    scenario = {"name": "x", "policy": "my_sweep_policy:good"}
    before = run_key(scenario, 1.0, 0)
    assert run_key(scenario, 1.0, 0) == before  # (stable)
    module.write_text("from airan.policy.builtin import least_loaded as good\n",
                      encoding="utf-8")
    assert run_key(scenario, 1.0, 0) != before
    assert run_key({"name": "x", "policy": "nearest-edge"}, 1.0, 0) == run_key(
        {"name": "x", "policy": "nearest-edge"}, 1.0, 0)
    # found without running it: listing a sweep runs none of the user's code (a module that
    # exits on import ended a --dry-run with its exit code, silently; a review)
    (tmp_path / "exits_on_import.py").write_text(
        "import sys\nsys.exit(3)\n\n\ndef p(snapshot, batch):\n    return None\n",
        encoding="utf-8")
    sweep = tmp_path / "exits.yaml"
    sweep.write_text("scenario: factory\naxes:\n  policy: ['exits_on_import:p', "
                     "nearest-edge]\n", encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 runs" in result.output


def test_cli_sweep_prints_a_table_and_writes_results(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, duration=0.2)
    result = runner.invoke(app, ["sweep", str(path), "--workers", "1", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "6 runs of factory" in result.stdout
    assert "nearest-edge" in result.stdout and "3/3" in result.stdout
    assert "6 run now, 0 already complete, 0 failed" in result.stdout
    assert (tmp_path / "out" / RESULTS).is_file()
    manifest = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert len(manifest["runs"]) == 6 and manifest["name"] == "two-by-three"


def test_sharded_run_gives_the_same_numbers_on_ray(ray_session: Any) -> None:
    here = run_sharded("korea", "2x1", duration_s=0.4, workers=1)
    there = run_sharded("korea", "2x1", duration_s=0.4, workers=2)
    assert strip_wall(here.summary) == strip_wall(there.summary)
    assert here.summary["sharding"]["shards"] == 2


def test_the_results_latency_columns_are_over_the_answered_and_the_docs_say_so() -> None:
    """A run that drops 5% of its requests: its sweep row's p99 is the answered requests' (as
    the summary's latency_ms), where compare and plan put it at infinity. docs/sweeps.md said
    nothing of it (a review), so a sweep ranked by .p99_ms favoured the run that dropped."""
    import re

    from airan.sweep.runner import headline

    svc = {"count": 100, "met": 95, "late": 0, "dropped": 5, "overdue": 0, "hit_ratio": 0.95,
           "hit_ratio_with_overdue": 0.95, "latency_ms": {"mean": 10.0, "p99": 20.0}}
    row = headline({"requests": {"created": 100, "met": 95, "dropped": 5},
                    "services": {"vla": svc}})
    assert row["vla.p99_ms"] == 20.0  # not infinity: the 5 dropped are left out
    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "sweeps.md")
                    .read_text(encoding="utf-8").split())
    table = text[text.index("`results.parquet` has one row per run"):]
    table = table[:table.index("## Resume")]
    assert re.search(r"latency columns .*over the requests that got an answer", table)
    assert "infinitely late" in table and "airan compare" in table and "airan plan" in table
    assert "To rank runs, use `<service>.hit_ratio_with_overdue`" in table


def test_the_results_split_a_service_two_fleets_send_by_fleet() -> None:
    """A sweep row holds each fleet's share of a service several fleets send (the run's
    fleets.<fleet>.services), and no such columns where each fleet sends its own services."""
    from airan.engine import Engine
    from airan.scenario import load_scenario, scenario_from_dict
    from airan.sweep.runner import headline

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    cpu = dict(d["fleets"][0], count=20)
    d["fleets"] = [cpu, {**cpu, "name": "orin-cars", "accelerator": "JetsonOrin"}]
    s = Engine(scenario_from_dict(d), duration_s=0.5, policy="local", seed=1).run().summary
    row = headline(s)
    for fleet in ("vehicles", "orin-cars"):
        svc = s["fleets"][fleet]["services"]["perception"]
        assert row[f"perception[{fleet}].requests"] == svc["count"] > 0
        assert row[f"perception[{fleet}].hit_ratio"] == svc["hit_ratio"]
        assert row[f"perception[{fleet}].p99_ms"] == svc["latency_ms"]["p99"]
    assert row["perception[orin-cars].hit_ratio"] == 1.0
    assert row["perception[vehicles].hit_ratio"] == 0.0
    factory = Engine(load_scenario("factory"), duration_s=0.2).run().summary
    assert not [k for k in headline(factory) if "[" in k and not k.startswith("fleets[")]


def test_a_fleets_share_never_overwrites_a_service_named_like_it() -> None:
    """A service named 'a[x]' beside a service 'a' that fleets x and y send: the row's a[x]
    columns stay the service's own (a review found fleet x's share of 'a' written over them)."""
    from airan.sweep.runner import headline

    def svc(n: int) -> dict[str, Any]:
        return {"count": n, "met": n, "late": 0, "dropped": 0, "hit_ratio": 1.0,
                "hit_ratio_with_overdue": 1.0, "latency_ms": {"mean": 1.0, "p99": 2.0}}

    row = headline({"requests": {"created": 10}, "services": {"a": svc(5), "a[x]": svc(99)},
                    "fleets": {"x": {"devices": 2, "services": {"a": svc(4), "a[x]": svc(99)}},
                               "y": {"devices": 1, "services": {"a": svc(1)}}}})
    assert row["a[x].requests"] == 99 and row["a[y].requests"] == 1


def test_folder_stays_the_last_column_when_a_later_run_has_more_columns(tmp_path: Path) -> None:
    """The first run failed (no summary: only the services' columns), a later one has the L1's
    and a fleet's share columns: they come before folder, not after it (a review)."""
    from airan.sweep.runner import RUN_INFO, results_table

    text = ("scenario: factory\nduration_s: 0.1\naxes:\n  seed: [1, 2]\n")
    sw = load_sweep(write_sweep(tmp_path, text=text))
    later = sw.runs[1]
    folder = tmp_path / "out" / "runs" / later.key
    folder.mkdir(parents=True)
    (folder / RUN_INFO).write_text(json.dumps({"key": later.key, "status": "ok"}))
    share = {"count": 3, "met": 3, "hit_ratio": 1.0, "latency_ms": {"p99": 2.0}}
    (folder / "summary.json").write_text(json.dumps({
        "requests": {"created": 6, "met": 6}, "services": {"detect": share},
        "ai_ran": {"l1_slot_misses": 1, "l1_slots": 10},
        "fleets": {"a": {"devices": 3, "services": {"detect": share}},
                   "b": {"devices": 3, "services": {"detect": share}}}}))
    table = results_table(sw, tmp_path / "out")
    names = table.column_names
    assert names[-1] == "folder"
    assert {"l1_slot_miss_share", "detect[a].hit_ratio"} <= set(names)
    assert table.column("l1_slot_miss_share").to_pylist() == [None, 0.1]


def test_the_results_all_services_hit_ratio_counts_overdue_requests_as_missed(
        tmp_path: Path) -> None:
    """results.parquet had the all-services ``hit_ratio`` (met over ended) only, though the
    docs (outputs.md) and the terminal's table compare runs with overdue requests (in flight past
    their deadline at the end) counted as misses: the plain ratio rewards a run that strands them (a
    review: factory, 0.5 s, nearest-edge seed 2, 0.983 against 0.964 with its 8 overdue). The
    row's ``hit_ratio_with_overdue`` is met over met, late, dropped and overdue, from its own
    counts and from its run's summary, as each service's."""
    from airan.sweep.runner import headline

    text = "scenario: factory\nduration_s: 0.5\naxes:\n  policy: [nearest-edge]\n  seed: [1, 2]\n"
    out = tmp_path / "out"
    result = run_sweep(write_sweep(tmp_path, text=text), out=out, workers=1)
    names = result.table.column_names
    assert names.index("hit_ratio_with_overdue") == names.index("hit_ratio") + 1
    rows = pq.read_table(out / RESULTS).to_pylist()
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert any(r["overdue"] > 0 for r in rows)  # (else the test would prove nothing)
    for r in rows:
        counted = r["met"] + r["late"] + r["dropped"] + r["overdue"]
        assert r["hit_ratio_with_overdue"] == pytest.approx(r["met"] / counted)
        assert r["hit_ratio_with_overdue"] <= r["hit_ratio"]
        if r["overdue"]:
            assert r["hit_ratio_with_overdue"] < r["hit_ratio"]
        summary = json.loads((out / r["folder"] / "summary.json").read_text())
        req, svcs = summary["requests"], summary["services"].values()
        assert r["overdue"] == req["overdue"] == sum(s["overdue"] for s in svcs)
        assert r["hit_ratio_with_overdue"] == pytest.approx(
            req["met"] / (req["met"] + req["late"] + req["dropped"] + req["overdue"]))
        assert r["hit_ratio_with_overdue"] == pytest.approx(  # as the services' own figures
            sum(s["met"] for s in svcs)
            / sum(s["met"] + s["late"] + s["dropped"] + s["overdue"] for s in svcs))
    # a summary written before airan counted overdue requests: unknown, not the plain ratio
    assert headline({"requests": {"created": 10, "met": 9, "late": 1}})[
        "hit_ratio_with_overdue"] is None


def test_two_sweeps_results_read_as_one_whichever_runs_failed_or_had_a_battery(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """results.parquet's column types are fixed, never inferred from the values: a sweep with
    a failed run and no battery, and one with no failure and a camera battery, concatenate
    without promotion and read as one pyarrow dataset (a researcher's review: ``error`` was
    null-typed where no run failed, ``fleets[*].battery_life_h`` where no fleet had a battery,
    and both raised)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    (tmp_path / "failing_policy_xyz.py").write_text(FAILING_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    failing = ("scenario: factory\nduration_s: 0.05\naxes:\n"
               "  policy: [nearest-edge, failing_policy_xyz:policy]\n"
               "  services[detect].deadline_ms: [50]\n")
    battery = ("scenario: factory\nduration_s: 0.05\nset:\n  fleets[camera].battery_wh: 50\n"
               "axes:\n  policy: [nearest-edge]\n  services[detect].deadline_ms: [40]\n")
    a = run_sweep(write_sweep(tmp_path / "a", text=failing), out=tmp_path / "a" / "out",
                  workers=1)
    b = run_sweep(write_sweep(tmp_path / "b", text=battery), out=tmp_path / "b" / "out",
                  workers=1)
    assert (a.tally.ok, a.tally.failed, b.tally.ok, b.tally.failed) == (1, 1, 1, 0)
    ta, tb = pq.read_table(a.results_path), pq.read_table(b.results_path)
    # (else the test would prove nothing: one sweep has values where the other has none)
    assert [e is None for e in ta.column("error").to_pylist()] == [True, False]
    assert tb.column("error").to_pylist() == [None]
    assert ta.column("fleets[camera].battery_life_h").to_pylist() == [None, None]
    assert tb.column("fleets[camera].battery_life_h").to_pylist()[0] > 0
    assert ta.schema == tb.schema
    assert not [f.name for f in ta.schema if pa.types.is_null(f.type)]
    types = {f.name: f.type for f in ta.schema}
    assert types["error"] == types["busiest_site"] == types["policy"] == pa.string()
    assert types["seed"] == types["requests"] == types["detect.dropped"] == pa.int64()
    assert types["fleets[amr].drx_share"] == types["detect.p99_ms"] == pa.float64()
    # (the axis: its numbers as the scenario holds them, a float field's 50 as 50.0, so that
    # another sweep's [0.5] is the same type: a diff review)
    assert types["services[detect].deadline_ms"] == pa.float64()
    both = pa.concat_tables([ta, tb])  # (no promote_options)
    assert both.num_rows == 3
    read = ds.dataset([a.results_path, b.results_path], format="parquet").to_table()
    assert sorted(read.column("services[detect].deadline_ms").to_pylist()) == [40, 50, 50]
    assert sorted(read.column("status").to_pylist()) == ["failed", "ok", "ok"]


def test_an_axis_column_is_typed_from_the_sweeps_values_of_it() -> None:
    """Integers int64, numbers float64 (an integer among them too), flags bool, anything else
    text: whatever the runs gave, as the results are typed before they are read."""
    import pyarrow as pa

    from airan.sweep.runner import axis_type, column_type

    assert axis_type([2, 4]) == pa.int64()
    assert axis_type([2, 4.5]) == pa.float64()
    assert axis_type([True, False]) == pa.bool_()
    assert axis_type(["off", {"cycle_ms": 320}]) == pa.string()
    assert axis_type([1, "auto"]) == pa.string()
    assert axis_type([None]) == pa.string()  # (never the null type)
    assert column_type("perception[vehicles].requests") == pa.int64()
    assert column_type("fleets[camera].battery_life_h") == pa.float64()
    assert column_type("busiest_link") == pa.string()


def test_a_local_ray_node_that_timed_out_starting_is_started_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray waits a fixed time for a local node's processes to register, which a host busy on
    every core can miss (the suite beside numba's compile did): the sweep starts it again,
    twice; a third time out says so in one line, and another error is raised."""
    from airan.sweep import cluster

    calls: list[str] = []

    class FakeRay:
        def __init__(self, fails: int) -> None:
            self.fails = fails

        def is_initialized(self) -> bool:
            return False

        def init(self, **kwargs: Any) -> None:
            calls.append("init")
            if self.fails:
                self.fails -= 1
                raise Exception("The current node timed out during startup. This could "
                                "happen because some of the raylet failed to startup")

        def shutdown(self) -> None:
            calls.append("shutdown")

    ran: list[int] = []
    monkeypatch.setattr(cluster, "_execute_ray", lambda *a: ran.append(a[2]))
    monkeypatch.setattr(cluster, "import_ray", lambda: FakeRay(1))
    cluster.execute(abs, 3, lambda i: -i, lambda i, v, e: None, workers=2)
    assert calls == ["init", "shutdown", "init", "shutdown"] and ran == [3]
    calls.clear()
    monkeypatch.setattr(cluster, "import_ray", lambda: FakeRay(3))
    with pytest.raises(InputError, match="could not start a local Ray node in 3 tries .*"
                       "timed out during startup.*--workers 1"):
        cluster.execute(abs, 3, lambda i: -i, lambda i, v, e: None, workers=2)
    assert calls == ["init", "shutdown"] * 3
    calls.clear()  # the tests' own Ray session allows three more tries
    cluster.start_ray(FakeRay(3), num_cpus=2, retries=3)
    assert calls == ["init", "shutdown"] * 3 + ["init"]
    # (another CI run: the GCS server's port file, raised as a RuntimeError, once named
    # --address, which the sweep had not been given)
    calls.clear()
    fake = FakeRay(0)

    def gcs_late(**kwargs: Any) -> None:
        calls.append("init")
        if calls.count("init") == 1:
            raise RuntimeError("Timed out waiting for file /tmp/ray/session_x/gcs_server_port")

    fake.init = gcs_late  # type: ignore[method-assign]
    cluster.start_ray(fake, num_cpus=2)
    assert calls == ["init", "shutdown", "init"]
