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
    return {c: float(x) for c, x in re.findall(r"(cell-\w+) ([0-9.]+)x", line)}


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

