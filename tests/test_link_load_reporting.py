"""Transport link load where a user reads a run: a caution in the terminal and the report, the
report's table of the busiest directions, the comparison's bottlenecks and a sweep's columns
(a planner's review: a backhaul at 88% showed only as a number in summary.json, while a GPU
at 88% had a caution of its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import airan
from airan.report import build_report, write_run
from airan.report.cautions import LINK_BUSY, busy_links, cautions
from airan.report.compare import comparison_bottlenecks
from airan.scenario import scenario_from_dict
from airan.sweep.runner import headline


def _backhaul(rate_hz: float) -> Any:
    """One camera's 1 MB frames, periodic, over a cell's 1 Gb/s backhaul then 10 Gb/s to an
    edge GPU: the backhaul is busy rate_hz x 8 ms a second (1 MB at 1 Gb/s), the 10 Gb/s
    link a tenth of that."""
    return scenario_from_dict({
        "name": "backhaul", "radio": {"model": "ideal"}, "policy": "nearest-edge",
        "cell_sites": [{"name": "cell", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "agg"}, {"name": "edge"}],
        "compute_sites": [{"name": "e", "at": "edge", "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"hop_delay_us": 5, "links": [
            {"a": "cell", "b": "agg", "fiber_km": 2, "capacity_gbps": 1},
            {"a": "agg", "b": "edge", "fiber_km": 40, "capacity_gbps": 10}]},
        "fleets": [{"name": "cam", "count": 1, "area": {"center_m": [20, 0], "radius_m": 1},
                    "services": ["frame"]}],
        "services": [{"name": "frame", "model": "yolov8s", "rate_hz": rate_hz,
                      "arrivals": "periodic", "jitter_ms": 0, "ul_kb": 1000, "dl_kb": 1,
                      "deadline_ms": 500, "service_time": {"dist": "fixed", "mean_ms": 2}}],
    })


@pytest.fixture(scope="module")
def busy_run() -> Any:
    return airan.run(_backhaul(110.0), duration_s=1.0, seed=1)


def test_a_backhaul_busier_than_80_percent_gets_a_caution_naming_it(busy_run: Any) -> None:
    """110 frames a second of 8 ms each at 1 Gb/s: 88% (the last frame's backlog at the end
    left out); the 10 Gb/s link carries the same bits in a tenth of the time, 8.8%."""
    links = busy_run.summary["links"]
    assert links["cell->agg"]["utilization"] == pytest.approx(0.88, abs=0.01)
    assert links["agg->edge"]["utilization"] == pytest.approx(0.088, abs=0.001)
    assert busy_links(busy_run.summary) == ["cell->agg"]
    [line] = [c for c in cautions(busy_run.summary) if c.startswith("Transport links")]
    util = links["cell->agg"]["utilization"]
    assert line.startswith(f"Transport links busier than 80%: cell->agg ({util:.1%} of 1 Gbit/s).")
    assert "agg->edge" not in line


def test_a_backhaul_with_room_gets_no_caution() -> None:
    """5 frames a second: 4% of the backhaul, nothing to say."""
    res = airan.run(_backhaul(5.0), duration_s=1.0, seed=1)
    assert res.summary["links"]["cell->agg"]["utilization"] == pytest.approx(0.04, rel=1e-9)
    assert busy_links(res.summary) == []
    assert not any("Transport links" in c for c in cautions(res.summary))


def test_the_busiest_links_are_named_busiest_first_and_the_rest_counted() -> None:
    """Seven directions above 80%: the five busiest named, the other two counted."""
    links = {f"c{i}->agg": {"capacity_gbps": 10, "utilization": 0.81 + i / 100}
             for i in range(7)}
    links["agg->c0"] = {"capacity_gbps": 10, "utilization": 0.8}  # not above 80%
    assert busy_links({"links": links}) == [f"c{i}->agg" for i in range(6, -1, -1)]
    [line] = cautions({"links": links})
    assert ("c6->agg (87.0% of 10 Gbit/s), c5->agg (86.0% of 10 Gbit/s), c4->agg (85.0% of "
            "10 Gbit/s), c3->agg (84.0% of 10 Gbit/s), c2->agg (83.0% of 10 Gbit/s) and 2 "
            "more.") in line
    assert LINK_BUSY == 0.8


def test_the_report_lists_the_busiest_links_and_marks_the_busy_ones(
        busy_run: Any, tmp_path: Path) -> None:
    write_run(busy_run, tmp_path / "run")
    html = build_report(tmp_path / "run").path.read_text(encoding="utf-8")
    table = html[html.index('<table id="links-table">'):]
    table = table[:table.index("</table>")]
    busy, calm = table.index("<td>cell-&gt;agg</td>"), table.index("<td>agg-&gt;edge</td>")
    assert busy < calm  # busiest first
    assert '<td class="bad">' in table[busy:calm] and '<td class="ok">' in table[calm:]
    assert "Transport links busier than 80%: cell-&gt;agg" in html  # the caution too


def test_a_sweeps_row_names_the_busiest_site_and_link(busy_run: Any) -> None:
    row = headline(busy_run.summary)
    assert row["busiest_link"] == "cell->agg"
    assert row["busiest_link_utilization"] == busy_run.summary["links"]["cell->agg"][
        "utilization"]
    assert row["busiest_site"] == "e"
    assert row["busiest_site_utilization"] == busy_run.summary["sites"]["e"]["gpu_utilization"]
    empty = headline({"requests": {}, "sites": {}})  # a run with no compute site, no link
    assert empty["busiest_link"] is None and empty["busiest_link_utilization"] is None
    # sites and links that carried nothing (policy local): none is the busiest
    idle = headline({"requests": {}, "sites": {"metro": {"gpu_utilization": 0.0}},
                     "links": {"a->b": {"utilization": 0.0}}})
    assert idle["busiest_site"] is None and idle["busiest_site_utilization"] is None
    assert idle["busiest_link"] is None and idle["busiest_link_utilization"] is None
    assert empty["busiest_site"] is None


def test_a_comparison_names_a_link_a_policy_loaded_on_every_seed() -> None:
    """cloud sends everything over the backhaul (92%, 95%), nearest-edge keeps it at the cell
    site (20%); a link busy on one seed only is not said."""
    def summary(util: float, other: float) -> dict[str, Any]:
        return {"sites": {}, "requests": {},
                "links": {"cell->agg": {"capacity_gbps": 1, "utilization": util},
                          "agg->cloud": {"capacity_gbps": 10, "utilization": other}}}

    runs = [{"policy": "cloud", "seed": 1, "summary": summary(0.92, 0.9)},
            {"policy": "cloud", "seed": 2, "summary": summary(0.95, 0.5)},
            {"policy": "nearest-edge", "seed": 1, "summary": summary(0.2, 0.0)},
            {"policy": "nearest-edge", "seed": 2, "summary": summary(0.2, 0.0)}]
    notes = comparison_bottlenecks({"policies": ["nearest-edge", "cloud"], "runs": runs})
    assert notes == ["cloud loaded the transport link cell->agg above 80% on every seed: "
                     "messages queue there (the transport is a bottleneck)."]
