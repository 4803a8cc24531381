"""validate warns of cells whose devices' answers need more than the cell's downlink carries
(an XR maker's review: 9,600 Mbit/s of rendered frames offered to two ~870 Mbit/s cells
validated silently, where the uplink had such a check): per device its answers' bits per
second over its rate alone on its cell, summed per cell; a run of a cell named confirms it
(its downlink PRBs all but full, its answers late)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.scenario import scenario_from_dict

runner = CliRunner()


def _factory(dl_kb: float) -> dict[str, Any]:
    """factory's AMRs (40, detect at 20 Hz) receiving ``dl_kb`` answers (rendered frames)."""
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    next(s for s in d["services"] if s["name"] == "detect")["dl_kb"] = dl_kb
    return d


def _warned(tmp_path: Path, d: dict[str, Any]) -> dict[str, float]:
    path = tmp_path / "xr.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    line = next((ln for ln in res.stderr.splitlines() if "downlink carries" in ln), "")
    if line:
        assert "field 'fleets'" in line
    return {c: float(x) for c, x in re.findall(r"([\w/-]+) ([0-9.]+)x", line)}


def test_answers_beyond_the_downlink_are_warned_of_and_a_run_confirms(tmp_path: Path) -> None:
    assert _warned(tmp_path, _factory(0.5)) == {}  # factory as built: 0.5 kB answers
    big = _warned(tmp_path, _factory(3000.0))  # 40 x 20 Hz x 24 Mbit: 19 Gbit/s
    assert big and all(x > 1.0 for x in big.values())
    # each device's need is its bits over its rate: proportional to dl_kb
    double = _warned(tmp_path, _factory(6000.0))
    assert double.keys() == big.keys()
    for c in big:
        assert double[c] == pytest.approx(2 * big[c], rel=1e-3)  # (printed to 2 decimals)
    # a run: the busiest cell named has its downlink PRBs all but full
    out = tmp_path / "run"
    d = _factory(3000.0)
    d["fleets"] = [f for f in d["fleets"] if f["name"] == "amr"]
    d["services"] = [s for s in d["services"] if s["name"] == "detect"]
    (tmp_path / "amr.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    named = _warned(tmp_path, d)
    assert named
    res = runner.invoke(app, ["run", str(tmp_path / "amr.yaml"), "--duration", "1",
                              "--no-report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    cells = pq.read_table(out / "cells.parquet").to_pydict()
    util = dict(zip(cells["cell"], cells["prb_utilization_dl"], strict=True))
    busiest = max(named, key=lambda c: named[c])
    assert util[busiest] > 0.9


def _one_cell_headsets(count: int, rate_hz: float, dl_kb: float, x_m: float,
                       radius_m: float) -> dict[str, Any]:
    """One one-sector cell (no neighbour) and ``count`` headsets within ``radius_m`` of a
    point ``x_m`` from it, rendered frames of ``dl_kb`` at ``rate_hz``, no HARQ resends."""
    from one_cell import one_cell_site

    d = one_cell_site(sectors=1)
    d["radio"]["bler"] = 0.0
    d["fleets"] = [{"name": "headset", "count": count, "services": ["render"],
                    "area": {"center_m": [x_m, 0.0], "radius_m": radius_m}}]
    d["services"] = [{"name": "render", "model": "resnet50", "rate_hz": rate_hz,
                      "ul_kb": 1.0, "dl_kb": dl_kb, "deadline_ms": 500.0}]
    d["policy"] = "nearest-edge"
    return d


def test_one_cells_headsets_are_named_just_above_what_its_downlink_carries(
        tmp_path: Path) -> None:
    """A diff review: ten headsets at 20 Hz on one cell (no neighbour, so no load assumed of
    one), named at 1 MB frames (~1.1x: the run's downlink all but full) and not at 600 kB
    (~0.7x: the run's downlink two thirds used)."""
    def headsets(dl_kb: float) -> dict[str, Any]:
        return _one_cell_headsets(10, 20.0, dl_kb, x_m=80.0, radius_m=40.0)

    def dl_used(d: dict[str, Any]) -> float:
        res = airan.run(scenario_from_dict(d), duration_s=2.0, seed=1)
        return float(res.cells.column("prb_utilization_dl").to_pylist()[0])

    assert _warned(tmp_path, headsets(600.0)) == {}
    assert 0.5 < dl_used(headsets(600.0)) < 0.85
    named = _warned(tmp_path, headsets(1000.0))
    assert len(named) == 1 and 1.0 < next(iter(named.values())) < 1.3
    assert dl_used(headsets(1000.0)) > 0.95


def test_a_devices_downlink_rate_alone_is_what_its_answers_take_on_the_air() -> None:
    """devices.parquet's dl_rate_full_cell_mbps (an XR maker's review: no downlink rate in any
    output): one device alone on one cell (no HARQ resends), its answers' air time grows by
    bits / that rate: 2 and 4 MB answers, 16 Mbit apart (~9 ms: the scheduling delay and the
    TDD pattern's phase, the same for both, cancel)."""
    def run(dl_kb: float) -> tuple[float, float]:
        d = _one_cell_headsets(1, 10.0, dl_kb, x_m=60.0, radius_m=1.0)
        res = airan.run(scenario_from_dict(d), duration_s=3.0, seed=1)
        rate = res.devices.column("dl_rate_full_cell_mbps").to_pylist()[0] * 1e6
        fleet = res.summary["fleets"]["headset"]["radio"]["dl_rate_full_cell_mbps"]
        assert fleet["p50"] == pytest.approx(rate / 1e6)
        air = [x for x in res.requests.column("dl_air_ms").to_pylist() if x == x]
        assert len(air) >= 20
        return rate, sum(air) / len(air)

    (rate, small), (rate4, large) = run(2000.0), run(4000.0)
    assert rate4 == pytest.approx(rate)
    assert 100e6 < rate < 2e9  # (a 100 MHz n78 carrier near its cell)
    assert large - small == pytest.approx(2000 * 8e3 / rate * 1e3, rel=0.05)


def test_the_map_colours_a_cell_site_by_its_busier_direction_on_a_fixed_scale() -> None:
    """An XR maker's review: a downlink 99.7% used did not show on the map (uplink only), and
    an uplink 0.4% used read dark red on a scale to its own maximum."""
    import pyarrow as pa
    from matplotlib.collections import PathCollection

    from airan.report.figures import network_map

    cells = pa.table({"cell": ["a/0", "a/1", "b/0"], "site": ["a", "a", "b"],
                      "x_m": [0.0, 0.0, 500.0], "y_m": [0.0, 0.0, 0.0],
                      "prb_utilization_ul": [0.004, 0.002, 0.30],
                      "prb_utilization_dl": [0.997, 0.10, 0.05]})
    devices = pa.table({"x_m": [10.0], "y_m": [0.0], "sinr_dl_db": [5.0]})
    fig = network_map(cells, devices, {})
    sites = [c for ax in fig.axes for c in ax.collections
             if isinstance(c, PathCollection) and len(c.get_offsets()) == 2]
    assert len(sites) == 1
    assert list(sites[0].get_array()) == pytest.approx([0.997, 0.30])
    assert sites[0].get_clim() == (0.0, 1.0)


def test_a_sweeps_results_name_each_directions_busiest_cell_and_the_sites_energy() -> None:
    """An XR maker's review: a sweep over frame sizes could not show the downlink binding
    without opening every run's summary. A results row gives each direction's busiest cell and
    its PRB use, the cells' mean, and the sites' GPU power and J per request."""
    import pyarrow as pa

    from airan.sweep.runner import column_type, headline

    d = _one_cell_headsets(10, 20.0, 1000.0, x_m=80.0, radius_m=40.0)
    s = airan.run(scenario_from_dict(d), duration_s=1.0, seed=1).summary
    row = headline(s)
    cells = s["cells"]
    assert row["busiest_cell_dl"] == cells["busiest_cell_dl"] == "bs"  # (its one cell)
    assert row["busiest_cell_dl_utilization"] == cells["max_prb_utilization_dl"] > 0.9
    assert row["busiest_cell_ul_utilization"] == cells["max_prb_utilization_ul"] < 0.1
    assert row["mean_prb_utilization_dl"] == cells["mean_prb_utilization_dl"]
    assert row["sites_power_w"] == s["site_energy"]["power_w"] > 0
    assert row["sites_energy_per_served_j"] == s["site_energy"]["energy_per_served_j"]
    assert column_type("busiest_cell_dl") == pa.string()
    assert column_type("busiest_cell_dl_utilization") == pa.float64()


def test_a_compute_site_far_off_the_cells_is_named_off_the_map_not_drawn() -> None:
    """A rural co-op's review: a regional data centre 120 km from 7 masts 5.5 km apart set the
    map's axes, its sites and devices in a corner 5% wide. A site beyond the cells' and
    devices' extent by more than that extent (at least 1 km) is named off the map with its
    distance; one within it is drawn."""
    import pyarrow as pa
    from matplotlib.collections import PathCollection

    from airan.report.figures import network_map

    cells = pa.table({"cell": ["a/0", "b/0"], "site": ["a", "b"], "x_m": [0.0, 5500.0],
                      "y_m": [0.0, 0.0], "prb_utilization_ul": [0.1, 0.2],
                      "prb_utilization_dl": [0.1, 0.2]})
    devices = pa.table({"x_m": [100.0, 5000.0], "y_m": [0.0, 300.0], "sinr_dl_db": [5.0, 1.0]})
    sites = {"mec": {"kind": "edge", "x_m": 6000.0, "y_m": 200.0},
             "regional": {"kind": "edge", "x_m": 120_000.0, "y_m": 0.0}}
    fig = network_map(cells, devices, sites)
    ax = fig.axes[0]
    assert ax.get_xlim()[1] < 20.0  # km: the map is the masts', not the data centre's
    drawn = [c for c in ax.collections if isinstance(c, PathCollection)
             and c.get_facecolor().size == 0]  # (the compute sites: hollow markers)
    assert [list(c.get_offsets()[0]) for c in drawn] == [[6.0, 0.2]]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "off the map: regional (117 km away)" in labels
    assert "edge compute site (1)" in labels
