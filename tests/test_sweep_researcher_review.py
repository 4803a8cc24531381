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
