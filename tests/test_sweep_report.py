"""A sweep's report (a researcher's review: `airan report` refused a sweep folder, and the
figures of a paper had to be drawn by hand from results.parquet).

* the x axis is the numeric axis with the most values, one line per other varying axis, the
  seeds of a point its mean and 95% interval, the same as `airan compare`'s statistics;
* the p99 counts unanswered requests as infinitely late (from each run's histogram);
* a failed run is named and left out; `airan sweep` writes the report, `airan report`
  rebuilds it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airan.cli import app
from airan.metrics.histogram import percentile_with_unanswered_ms
from airan.report.compare import mean_ci
from airan.report.sweep import choose_axes, sweep_points

runner = CliRunner()
SWEEP = """\
name: arms
scenario: factory
duration_s: 0.4
axes:
  policy: [nearest-edge, deadline-aware]
  seed: {from: 1, count: 3}
  fleets[arm].count: [4, 12]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "arms.yaml").write_text(SWEEP)
    res = runner.invoke(app, ["sweep", str(folder / "arms.yaml"), "--workers", "1", "--out",
                              str(folder / "out")])
    assert res.exit_code == 0, res.output
    assert f"wrote {folder / 'out' / 'report.html'}" in " ".join(res.output.split())
    return folder / "out"


def test_the_x_axis_is_the_numeric_one_with_most_values_and_the_rest_make_lines() -> None:
    runs = [{"axes": {"policy": p, "seed": s, "load": x, "band": "n78"}}
            for p in ("a", "b") for s in (1, 2) for x in (0.5, 1, 2)]
    assert choose_axes(runs) == ("load", ["policy"])
    assert choose_axes([{"axes": {"policy": p, "seed": 1}} for p in "ab"]) == ("policy", [])
    assert choose_axes([{"axes": {"seed": s}} for s in (1, 2)]) == (None, [])


def test_each_point_is_its_seeds_mean_and_interval_as_compare_reads_them(swept: Path) -> None:
    data = sweep_points(swept)
    assert data["x_axis"] == "fleets[arm].count" and data["series_axes"] == ["policy"]
    assert data["runs"] == 12 and not data["failed"]
    assert [(p.series, p.x) for p in data["points"]] == [
        ("policy=nearest-edge", 4), ("policy=nearest-edge", 12),
        ("policy=deadline-aware", 4), ("policy=deadline-aware", 12)]
    # one point by hand: its three runs' summaries
    sweep = json.loads((swept / "sweep.json").read_text())
    keys = [r["key"] for r in sweep["runs"] if r["axes"]["policy"] == "deadline-aware"
            and r["axes"]["fleets[arm].count"] == 12]
    summaries = [json.loads((swept / "runs" / k / "summary.json").read_text()) for k in keys]
    vla = [s["services"]["vla"] for s in summaries]
    point = data["points"][3]
    assert sorted(point.seeds) == [1, 2, 3]
    hit = mean_ci([v["hit_ratio_with_overdue"] for v in vla], bounds=(0.0, 1.0))
    assert point.hit["vla"]["mean"] == pytest.approx(hit["mean"])
    assert point.hit["vla"]["ci_high"] == pytest.approx(hit["ci_high"])
    p99 = [percentile_with_unanswered_ms(v, 0.99) for v in vla]
    assert point.p99["vla"]["values"] == p99
    if all(v is not None and v < float("inf") for v in p99):
        assert point.p99["vla"]["mean"] == pytest.approx(sum(p99) / 3)


def test_the_report_has_a_figure_per_service_and_a_row_per_point(swept: Path) -> None:
    html = (swept / "report.html").read_text()
    services = list(sweep_points(swept)["services"])
    assert html.count('<figure id="fig-sweep_') == len(services)
    assert all((swept / "figures" / f"sweep_{i}.png").is_file() for i in range(len(services)))
    rows = re.findall(r'<tr data-service="([^"]+)" data-series="([^"]+)" data-x="([^"]+)"', html)
    assert len(rows) == 4 * len(services)
    assert ("vla", "policy=deadline-aware", "12") in rows
    assert "along <code>fleets[arm].count</code>" in html


def test_a_failed_run_is_named_and_left_out(swept: Path, tmp_path: Path) -> None:
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    copy = tmp_path / "copy"
    shutil.copytree(swept, copy)
    table = pq.read_table(copy / "results.parquet").to_pylist()
    table[0].update(status="failed", error="boom")
    pq.write_table(pa.Table.from_pylist(table), copy / "results.parquet")
    res = runner.invoke(app, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    html = (copy / "report.html").read_text()
    assert 'id="failed"' in html and "boom" in html
    assert sweep_points(copy)["runs"] == 11


def test_values_that_differ_past_their_label_stay_apart_and_zip_axes_make_no_lines() -> None:
    """A review: two GPU entries that differ only past the label's 40 characters were pooled
    into one point as if four seeds of one; a zip sweep's co-moving axes made a line of one
    point per run."""
    a = {"type": "H100", "count": 1, "comment_that_is_long_enough": "x" * 30 + "a"}
    b = {**a, "comment_that_is_long_enough": "x" * 30 + "b"}
    runs = [{"axes": {"gpu": g, "seed": s}} for g in (a, b) for s in (1, 2)]
    assert choose_axes(runs) == ("gpu", [])
    zipped = [{"axes": {"load": x, "count": c, "seed": 1}} for x, c in ((1, 2), (2, 4), (4, 8))]
    assert choose_axes(zipped, zipped=True) == ("load", [])
    assert choose_axes(zipped) == ("load", ["count"])


def test_a_zip_sweep_is_one_line_with_the_other_axes_beside_each_point(tmp_path: Path) -> None:
    (tmp_path / "z.yaml").write_text("""\
name: z
scenario: factory
duration_s: 0.3
mode: zip
axes:
  fleets[arm].count: [4, 8]
  fleets[amr].count: [10, 20]
""")
    res = runner.invoke(app, ["sweep", str(tmp_path / "z.yaml"), "--workers", "1", "--out",
                              str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    data = sweep_points(tmp_path / "out")
    assert data["zipped"] and data["series_axes"] == []
    assert {p.series for p in data["points"]} == {"all"}
    assert [(p.x, p.detail) for p in data["points"]] == [
        (4, "fleets[amr].count=10"), (8, "fleets[amr].count=20")]


def test_a_sweeps_row_carries_the_mobility_of_a_run_whose_devices_move() -> None:
    """An AMR maker's review: a handover sweep had to open every run's summary.json."""
    from airan.sweep.runner import headline

    mob = {"mobile_devices": 60, "handovers": 41, "ping_pong_handovers": 0,
           "radio_link_failures": 1, "out_of_sync_silences": 16, "out_of_sync_silent_s": 3.75}
    row = headline({"duration_s": 20.0, "requests": {}, "mobility": mob})
    assert row["handovers_per_device_per_min"] == pytest.approx(41 / 60 / (20 / 60))
    assert (row["handovers"], row["radio_link_failures"], row["out_of_sync_silences"],
            row["out_of_sync_silent_s"]) == (41, 1, 16, 3.75)
    assert row["handovers_per_km"] is None  # (a summary written before it said)
    row = headline({"duration_s": 20.0, "requests": {},
                    "mobility": {**mob, "travelled_km": 8.2, "handovers_per_km": 5.0}})
    assert row["handovers_per_km"] == 5.0
    assert "handovers" not in headline({"duration_s": 20.0, "requests": {}})
    # and the requests the links' interruptions met, the late ones among them (every service's)
    held = {"det": {"interrupted": {"handover": {"met": 3, "late": 1, "dropped": 0},
                                    "out_of_sync": {"met": 0, "late": 9, "dropped": 2}}},
            "vla": {"interrupted": {}}}
    row = headline({"duration_s": 20.0, "requests": {}, "mobility": mob, "services": held})
    assert (row["interrupted_requests"], row["interrupted_late"]) == (15, 10)
    assert "interrupted_late" not in headline({"duration_s": 20.0, "requests": {}})
