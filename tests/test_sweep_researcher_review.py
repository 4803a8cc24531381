"""A researcher's review of sweeps:

* results.parquet's p99 (over the answered requests) and the report's figure (the unanswered
  infinitely late) disagreed, and the figure could not be rebuilt from the table: each
  service's outcomes and ``.p99_ms_with_unanswered`` are columns now;
* ``airan report`` on a sweep leaked matplotlib's "No artists with labels" warning.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from airan.cli import app
from airan.metrics.histogram import percentile_with_unanswered_ms
from airan.report.sweep import sweep_points

runner = CliRunner()
# vla's deadline along the axis (so no one deadline line on its p99 panel), one line: at 1 ms
# strict admission drops every vla request, at 200 ms some detect requests stay overdue
EDGE = """\
scenario: factory
duration_s: 0.3
set:
  admission: strict
  policy: deadline-aware
axes:
  services[vla].deadline_ms: [1, 200]
  seed: [1, 2]
"""


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("edge")
    (folder / "edge.yaml").write_text(EDGE)
    res = runner.invoke(app, ["sweep", str(folder / "edge.yaml"), "--workers", "1", "--out",
                              str(folder / "out")])
    assert res.exit_code == 0, res.output
    return folder / "out"


def test_the_figures_p99_is_rebuilt_from_the_results_table(edge: Path) -> None:
    rows = pq.read_table(edge / "results.parquet").to_pylist()
    assert rows and all(r["status"] == "ok" for r in rows)
    unbounded = 0
    for row in rows:
        summary = json.loads((edge / row["folder"] / "summary.json").read_text())
        for name, svc in summary["services"].items():
            for outcome in ("met", "late", "dropped", "overdue"):
                assert row[f"{name}.{outcome}"] == svc[outcome]
            want = percentile_with_unanswered_ms(svc, 0.99)
            assert row[f"{name}.p99_ms_with_unanswered"] == want
            unbounded += want == math.inf
    # vla at 1 ms: every request dropped, no answered p99, an unbounded one
    dropped = [r for r in rows if r["services[vla].deadline_ms"] == 1]
    assert all(r["vla.p99_ms"] is None and r["vla.p99_ms_with_unanswered"] == math.inf
               for r in dropped) and unbounded >= len(dropped)
    # the figure's points: the seeds' mean of the column, inf where the figure draws none
    data = sweep_points(edge)
    for p in data["points"]:
        mine = [r for r in rows if r["services[vla].deadline_ms"] == p.x]
        for name in data["services"]:
            values = [r[f"{name}.p99_ms_with_unanswered"] for r in mine]
            if math.inf in values:
                assert p.p99[name]["mean"] is None and p.p99[name]["unbounded"]
            else:
                assert p.p99[name]["mean"] == pytest.approx(sum(values) / len(values))


def test_the_results_columns_are_typed_and_documented(edge: Path) -> None:
    import pyarrow as pa

    schema = pq.read_schema(edge / "results.parquet")
    assert schema.field("detect.overdue").type == pa.int64()
    assert schema.field("detect.met").type == schema.field("detect.late").type == pa.int64()
    assert schema.field("vla.p99_ms_with_unanswered").type == pa.float64()
    docs = " ".join((Path(__file__).resolve().parents[1] / "docs" / "sweeps.md")
                    .read_text(encoding="utf-8").split())
    assert "`.p99_ms_with_unanswered`" in docs and "`.met`, `.late`, `.dropped`, `.overdue`" \
        in docs


def test_report_on_a_sweep_warns_of_no_empty_legend(edge: Path) -> None:
    """One line (no series legend) beside a deadline that differs along the axis (no deadline
    line): the p99 panel had nothing labelled, and matplotlib's warning reached the user."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["report", str(edge)])
    assert res.exit_code == 0, res.output
    assert not [w for w in caught if "No artists with labels" in str(w.message)]
    assert "No artists" not in res.output


# ---- a policy module beside the sweep file -----------------------------------------------------
SIDE = """\
name: side
scenario: factory
duration_s: 0.2
axes:
  policy: ['sidepol_h1:edge_if_short(thr_ms=5)', nearest-edge]
"""


# the researcher's mypol.py (their /tmp/research/sw), its threshold policy
SIDEPOL = """\
import numpy as np
from airan.policy import LOCAL, candidate_sites


def edge_if_short(snap, batch, thr_ms=5.0):
    w = snap.world
    n = len(batch)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    cand = candidate_sites(snap, batch)
    node = w.cell_node[batch.cell]
    delay = w.path_delay_s[node[:, None], cand]
    kind = np.asarray(w.site_kind)[cand]
    ok = np.isin(kind, ["cell", "edge"]) & snap.site_healthy[cand] \\
        & w.svc_site_ok[batch.service[:, None], cand]
    delay = np.where(ok, delay, np.inf)
    site = cand[np.arange(n), np.argmin(delay, axis=1)]
    wait_ms = snap.site_model_backlog_s[site, w.svc_model[batch.service]] * 1e3
    can_local = np.isfinite(w.local_time_s[w.dev_fleet[batch.device], batch.service])
    return np.where((wait_ms < thr_ms) | ~can_local, site, LOCAL).astype(np.int64)
"""


@pytest.fixture
def side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The researcher's layout: sw/sweep.yaml and sw/sidepol_h1.py (their mypol.py, under a
    name no other test imports), started from the folder above."""
    sw = tmp_path / "sw"
    sw.mkdir()
    (sw / "sidepol_h1.py").write_text(SIDEPOL, encoding="utf-8")
    (sw / "sweep.yaml").write_text(SIDE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return sw / "sweep.yaml"


def test_a_policy_module_beside_the_sweep_file_is_found_from_another_folder(
        side: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    before = list(sys.path)
    res = runner.invoke(app, ["sweep", "sw/sweep.yaml", "--dry-run", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "sidepol_h1:edge_if_short(thr_ms=5)" in res.stdout and res.stdout.count("todo") == 2
    assert sys.path == before  # (looked for there while listing, not left on the path)
    # the same runs (keys) from the sweep file's own folder, where the current folder finds it
    keys = [line.split()[0] for line in res.stdout.splitlines() if "todo" in line]
    monkeypatch.chdir(side.parent)
    here = runner.invoke(app, ["sweep", "sweep.yaml", "--dry-run", "--workers", "1"])
    assert [line.split()[0] for line in here.stdout.splitlines() if "todo" in line] == keys


def test_a_policy_module_beside_the_sweep_file_runs_in_process_and_on_ray(side: Path) -> None:
    from airan.sweep.runner import run_sweep

    local = run_sweep("sw/sweep.yaml", out="local", workers=1)
    rows = local.table.to_pylist()
    assert [r["status"] for r in rows] == ["ok", "ok"], [r["error"] for r in rows]
    pytest.importorskip("ray")
    ray = run_sweep("sw/sweep.yaml", out="ray", workers=2)
    assert [r["status"] for r in ray.table.to_pylist()] == ["ok", "ok"], \
        [r["error"] for r in ray.table.to_pylist()]
    assert ray.table.column("detect.met").to_pylist() == \
        local.table.column("detect.met").to_pylist()


def test_a_policy_module_found_nowhere_names_the_folders_looked_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "s.yaml").write_text("scenario: factory\nset: {policy: 'nomod_h1:f'}\n")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["sweep", "sw/s.yaml", "--dry-run"])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "field 'policy'" in lines[0] and "'nomod_h1:f'" in lines[0]
    assert "sweep file's folder" in lines[0] and "current folder" in lines[0]


# ---- what trace_limit means in a sweep and in airan.run ----------------------------------------
def test_a_sweeps_trace_limit_is_the_first_requests_and_no_sample_as_documented(
        tmp_path: Path) -> None:
    """``trace_limit: N`` in a sweep keeps a run's first N requests and no sample beyond them;
    ``airan.run(..., trace_limit=0)`` still keeps its 1% sample: two meanings of 0, each now
    said where it is documented (docs/sweeps.md, airan.run's docstring)."""
    import airan
    from airan.sweep.runner import run_sweep

    (tmp_path / "t.yaml").write_text("scenario: factory\nduration_s: 0.3\ntrace_limit: 7\n"
                                     "axes: {seed: [1]}\n")
    done = run_sweep(tmp_path / "t.yaml", out=tmp_path / "o", workers=1)
    row = done.table.to_pylist()[0]
    assert pq.read_metadata(tmp_path / "o" / row["folder"] / "requests.parquet").num_rows == 7
    summary = json.loads((tmp_path / "o" / row["folder"] / "summary.json").read_text())
    assert summary["trace"]["sample_beyond_limit"] == 0
    sampled = airan.run("factory", duration_s=0.3, trace_limit=0)
    assert 0 < sampled.requests.num_rows < 0.05 * sampled.summary["requests"]["created"]
    assert airan.run("factory", duration_s=0.3, trace_limit=0,
                     trace_sample=0).requests.num_rows == 0
    doc = " ".join((airan.run.__doc__ or "").split())
    assert "``trace_limit=0`` still keeps about 1%" in doc
    docs = " ".join((Path(__file__).resolve().parents[1] / "docs" / "sweeps.md")
                    .read_text(encoding="utf-8").split())
    assert "a sweep keeps no sample beyond them" in docs
    assert "`airan.run(sc, trace_limit=0)` still traces about 1% of the requests" in docs


@pytest.mark.parametrize(("entry", "field"), [
    ("set: {engine.trace_sample: 0.1}", "set.engine.trace_sample"),
    ("axes: {engine.trace_limit: [0, 100]}", "axes.engine.trace_limit"),
    ("set: {engine: {trace_sample: 0.5}}", "set.engine"),
])
def test_the_scenarios_own_trace_fields_set_in_a_sweep_are_refused(
        tmp_path: Path, entry: str, field: str) -> None:
    """The sweep's runs ignored them (their trace is the sweep's trace_limit, no sample), and
    they only changed the run keys: now one line, exit 2, naming the field."""
    (tmp_path / "s.yaml").write_text(f"scenario: factory\n{entry}\n")
    res = runner.invoke(app, ["sweep", str(tmp_path / "s.yaml"), "--dry-run"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"field '{field}'" in lines[0]
    assert "not used in a sweep" in lines[0] and "`trace_limit`" in lines[0]
    ok = tmp_path / "ok.yaml"  # (the engine's other fields are the sweep's to set)
    ok.write_text("scenario: factory\nset: {engine.warmup_s: 0.1}\n")
    assert runner.invoke(app, ["sweep", str(ok), "--dry-run"]).exit_code == 0


# ---- a dry run's list ----------------------------------------------------------------------------
def test_a_dry_run_lists_every_run_into_a_file_and_with_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dry run of 25 runs listed 20 and '... 5 more' even into a file (a researcher's
    dry.txt), with no way to list them all: every one into a file or a pipe, the first 20 on a
    terminal with how to see the rest, every one there with --all."""
    from airan.console import out

    path = tmp_path / "s.yaml"
    path.write_text("scenario: factory\naxes: {seed: {from: 1, count: 25}}\n")
    args = ["sweep", str(path), "--dry-run", "--workers", "1", "--out", str(tmp_path / "o")]
    piped = runner.invoke(app, args)
    assert piped.exit_code == 0 and piped.stdout.count("todo") == 25
    assert "more" not in piped.stdout
    monkeypatch.setattr(type(out), "is_terminal", property(lambda self: True))
    shown = runner.invoke(app, args)
    assert shown.stdout.count("todo") == 20 and "... 5 more (--all lists them)" in shown.stdout
    every = runner.invoke(app, [*args, "--all"])
    assert every.stdout.count("todo") == 25 and "seed=25" in every.stdout
    alone = runner.invoke(app, ["sweep", str(path), "--all", "--workers", "1"])
    assert alone.exit_code == 2 and "option '--all'" in alone.stderr \
        and "--dry-run" in alone.stderr and len(alone.stderr.strip().splitlines()) == 1
