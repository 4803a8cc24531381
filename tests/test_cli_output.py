"""What the command line prints: a user's own text as written, and all of a run's files even
when the reader of its output stops early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from airan.cli import app

runner = CliRunner()


def bracketed_factory(path: Path) -> Path:
    """The factory with square brackets, rich's markup, in its description and a service name."""
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    data["description"] = "Hall [phase 2], see [/docs] and [bold]"
    for svc in data["services"]:
        if svc["name"] == "detect":
            svc["name"] = "detect[b]"
    for fleet in data["fleets"]:
        fleet["services"] = ["detect[b]" if s == "detect" else s for s in fleet["services"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_validate_prints_a_description_with_brackets_as_written(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(bracketed_factory(tmp_path / "s.yaml"))])
    assert result.exit_code == 0, result.output
    assert "Hall [phase 2], see [/docs] and [bold]" in result.stdout
    assert "detect[b]" in result.stdout


def test_run_tables_print_a_service_name_with_brackets_as_written(tmp_path: Path) -> None:
    scenario = bracketed_factory(tmp_path / "s.yaml")
    result = runner.invoke(app, ["run", str(scenario), "--duration", "0.2", "--no-report",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "detect[b]" in result.stdout
    assert "detect[b]" in json.loads((tmp_path / "run" / "summary.json").read_text())["services"]


def test_a_reader_that_stops_early_still_gets_every_file_of_the_run(tmp_path: Path) -> None:
    """``airan run | head``: the pipe closes before the tables are printed; the run folder and
    its report are written all the same, without a traceback."""
    out = tmp_path / "run"
    read, write = os.pipe()
    os.close(read)  # nobody reads: the first line printed meets a broken pipe
    proc = subprocess.run(
        [sys.executable, "-c", "from airan.cli import app; app()", "run", "--duration", "0.2",
         "--out", str(out)], stdout=write, stderr=subprocess.PIPE, text=True, timeout=600)
    os.close(write)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    for name in ("summary.json", "requests.parquet", "report.html"):
        assert (out / name).is_file(), name
