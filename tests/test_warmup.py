"""A warm-up: the requests created in the first ``warmup_s`` of a run (while its queues fill
from empty) count in no figure of the summary, and exactly those (a statistician's review: a
run counts its start from empty queues, and nothing could leave it out). Every request still
ends in one outcome: the engine's conservation check counts the warm-up's with the rest."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.errors import InputError

WARMUP_S = 1.0


@pytest.fixture(scope="module")
def runs() -> tuple[airan.Result, airan.Result]:
    """factory for 3 s under deadline-aware, every request traced, with and without a 1 s
    warm-up (the same run: the warm-up changes what is counted, not what happens)."""
    sc = airan.load_scenario("factory")
    return (airan.run(sc, duration_s=3.0, seed=2, warmup_s=WARMUP_S, fleet_scale=2),
            airan.run(sc, duration_s=3.0, seed=2, fleet_scale=2))


def test_the_summary_counts_exactly_the_requests_created_after_the_warmup(runs) -> None:
    warm, _ = runs
    s, t = warm.summary, warm.requests
    assert s["trace"]["complete"] and s["warmup_s"] == WARMUP_S
    after = t.filter(pc.greater_equal(t["created_s"], WARMUP_S))
    before = t.num_rows - after.num_rows
    assert s["requests"]["created_in_warmup"] == before > 500
    assert s["requests"]["created"] == after.num_rows
    for name, v in s["services"].items():
        mine = after.filter(pc.equal(after["service"], name))
        outcome = np.asarray(mine["outcome"].to_pylist())
        assert v["count"] == mine.num_rows
        assert v["met"] == int((outcome == "met").sum())
        assert v["late"] == int((outcome == "late").sum())
        assert v["dropped"] == int(np.char.startswith(outcome.astype(str), "dropped").sum())
        assert v["in_flight"] == int((outcome == "in_flight").sum())
        done = np.isin(outcome, ["met", "late"])
        if done.any():
            lat = mine["latency_ms"].to_numpy(zero_copy_only=False)[done]
            assert v["latency_ms"]["mean"] == pytest.approx(float(lat.mean()), rel=1e-9)
            assert v["latency_ms"]["p99"] == pytest.approx(
                float(np.quantile(lat, 0.99, method="inverted_cdf")), rel=0.005)
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"]


def test_the_warmup_changes_what_is_counted_not_what_happens(runs) -> None:
    warm, whole = runs
    a, b = warm.requests, whole.requests
    for column in ("placement", "outcome"):
        assert a[column].equals(b[column]), column
    for column in ("created_s", "latency_ms"):  # (NaN where none yet: in flight)
        np.testing.assert_array_equal(a[column].to_numpy(zero_copy_only=False),
                                      b[column].to_numpy(zero_copy_only=False))
    ra, rb = warm.summary["requests"], whole.summary["requests"]
    assert ra["created"] + ra["created_in_warmup"] == rb["created"]
    assert whole.summary["warmup_s"] == 0.0 and rb["created_in_warmup"] == 0
    # the sites' time averages cover the whole run either way
    assert warm.summary["sites"] == whole.summary["sites"]


def test_a_warmup_as_long_as_the_run_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="shorter than the run"):
        airan.run(airan.load_scenario("factory"), duration_s=1.0, warmup_s=1.0)
    res = CliRunner().invoke(app, ["run", "--duration", "0.5", "--warmup", "2", "--no-report",
                                   "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "--warmup" in res.output and "Traceback" not in res.output


def test_the_command_line_says_what_the_warmup_left_out(tmp_path) -> None:
    res = CliRunner().invoke(app, ["run", "--duration", "1", "--warmup", "0.4", "--no-report",
                                   "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    n = s["requests"]["created_in_warmup"]
    assert f"warm-up: the first 0.4 s, {n:,} requests" in " ".join(res.output.split())


def test_figures_read_from_the_trace_leave_the_warmup_out(runs) -> None:
    from airan.report.placement import misses_by_cell, table_weights

    warm, _ = runs
    t, trace = warm.requests, warm.summary["trace"]
    weight = table_weights(t, trace)
    created = t["created_s"].to_numpy()
    assert (weight[created < WARMUP_S] == 0).all() and (weight[created >= WARMUP_S] == 1).all()
    missed = sum(m for _, m, _, _ in misses_by_cell(t, trace))
    s = warm.summary["requests"]
    assert missed == s["late"] + s["dropped"]


def test_compare_leaves_each_runs_warmup_out_and_keeps_it_for_a_rerun(tmp_path) -> None:
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", "factory", "-p", "nearest-edge", "--seeds", "2",
                                   "--duration", "0.6", "--warmup", "0.2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    import yaml

    assert yaml.safe_load((out / "scenario.yaml").read_text())["engine"]["warmup_s"] == 0.2
    for f in (out / "runs").glob("*.json"):
        s = json.loads(f.read_text())
        assert s["warmup_s"] == 0.2 and s["requests"]["created_in_warmup"] > 0


def test_the_reports_readers_leave_the_warmup_out(runs, tmp_path) -> None:
    from airan.report.html import read_misses_by_cell
    from airan.report.placement import read_local_shares
    from airan.report.rundir import write_run

    warm, _ = runs
    write_run(warm, tmp_path / "run")
    trace = warm.summary["trace"]
    missed = sum(m for _, m, _, _ in read_misses_by_cell(tmp_path / "run", trace))
    s = warm.summary["requests"]
    assert missed == s["late"] + s["dropped"]
    shares = read_local_shares(tmp_path / "run", trace)
    for name, share in shares.items():
        v = warm.summary["services"][name]
        assert share.traced == v["met"] + v["late"]


def test_the_planners_commands_take_a_warmup_shorter_than_their_runs() -> None:
    res = CliRunner().invoke(app, ["max-fleet", "factory", "--fleet", "amr", "--duration",
                                   "0.5", "--warmup", "0.2", "--max-count", "4"])
    assert res.exit_code == 0, res.output
    for cmd in (["max-fleet", "factory", "--fleet", "amr"], ["plan", "factory"]):
        res = CliRunner().invoke(app, [*cmd, "--duration", "1", "--warmup", "1"])
        assert res.exit_code == 2 and "option '--warmup'" in res.output, res.output


def test_a_scenarios_warmup_as_long_as_its_duration_is_an_input_error() -> None:
    from airan.scenario import scenario_from_dict

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["duration_s"], d.setdefault("engine", {})["warmup_s"] = 2.0, 2.0
    with pytest.raises(InputError, match="shorter than the run's duration_s") as err:
        scenario_from_dict(d)
    assert err.value.field == "engine.warmup_s"


def test_a_runs_folder_reruns_with_its_warmup(tmp_path) -> None:
    """scenario.yaml and the report's command keep the warm-up (a researcher's review: both
    lost it, and the rerun counted the 170 requests the run had left out)."""
    import shlex

    import yaml

    from airan.report.html import reproduce_command
    from airan.report.rundir import write_run

    first = airan.run(airan.load_scenario("factory"), policy="nearest-edge", duration_s=0.6,
                      seed=1, warmup_s=0.2)
    write_run(first, tmp_path / "run")
    saved = tmp_path / "run" / "scenario.yaml"
    assert yaml.safe_load(saved.read_text())["engine"]["warmup_s"] == 0.2
    again = airan.run(airan.load_scenario(str(saved))).summary
    for key in ("requests", "services", "warmup_s"):
        assert again[key] == first.summary[key]
    assert first.summary["requests"]["created_in_warmup"] > 0
    args = shlex.split(reproduce_command(first.summary, "scenario.yaml"))
    assert args[args.index("--warmup") + 1] == "0.2"


def test_the_python_apis_comparison_takes_a_warmup(tmp_path) -> None:
    """airan.report.run_comparison(warmup_s=) as `airan compare --warmup` (a researcher's
    review: the CLI had it, the API did not); a warm-up as long as a run is refused."""
    from airan.report import run_comparison

    sc = airan.load_scenario("factory")
    run_comparison(sc, ["nearest-edge"], seeds=1, duration_s=0.6, warmup_s=0.2,
                   out=tmp_path / "cmp")
    files = list((tmp_path / "cmp" / "runs").glob("*.json"))
    assert len(files) == 1
    s = json.loads(files[0].read_text())
    assert s["warmup_s"] == 0.2 and s["requests"]["created_in_warmup"] > 0
    with pytest.raises(InputError, match="warmup_s"):
        run_comparison(sc, ["nearest-edge"], seeds=1, duration_s=0.6, warmup_s=0.6,
                       out=tmp_path / "bad")


def test_a_fault_within_the_warmup_is_cautioned_of_as_unseen_by_the_figures() -> None:
    """A port's review: a site down at 1-2 s in a run with an 8 s warm-up read "0 requests
    dropped while it lasted", and nothing said it fell where no figure counts."""
    from airan.report.cautions import cautions

    sc = airan.load_scenario("factory")
    down = {"kind": "site_down", "site": "on-prem", "start_s": 0.2, "end_s": 0.6}
    inside = sc.model_copy(update={"faults": [type(sc).model_validate(
        {**sc.model_dump(mode="json", exclude_unset=True), "faults": [down]}).faults[0]]})
    said = cautions(airan.run(inside, duration_s=2.0, seed=1, warmup_s=WARMUP_S).summary)
    assert [c for c in said if c.startswith("Faults within the warm-up")] == [
        "Faults within the warm-up (1 s, whose requests count in no figure): site_down of "
        "on-prem (0.2-0.6 s). The run's figures do not see them: start them after the warm-up "
        "(faults[].start_s), or run with a shorter --warmup."]
    later = inside.model_copy(update={"faults": [inside.faults[0].model_copy(
        update={"start_s": 1.2, "end_s": 1.6})]})
    said = cautions(airan.run(later, duration_s=2.0, seed=1, warmup_s=WARMUP_S).summary)
    assert not [c for c in said if c.startswith("Faults within the warm-up")]
