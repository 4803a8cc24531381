"""A researcher's review of sweeps:

* ``airan report`` on a sweep leaked matplotlib's "No artists with labels" warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airan.cli import app

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


def test_report_on_a_sweep_warns_of_no_empty_legend(edge: Path) -> None:
    """One line (no series legend) beside a deadline that differs along the axis (no deadline
    line): the p99 panel had nothing labelled, and matplotlib's warning reached the user."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["report", str(edge)])
    assert res.exit_code == 0, res.output
    assert not [w for w in caught if "No artists with labels" in str(w.message)]
    assert "No artists" not in res.output
