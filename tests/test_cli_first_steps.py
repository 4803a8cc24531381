"""A lecturer's lab: a built-in as a file to start from, and variants of one file that keep
its ``name:`` each keeping their own run folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.scenario import scenario_from_dict

runner = CliRunner()


def test_scenarios_show_prints_the_builtin_file_with_its_comments() -> None:
    res = runner.invoke(app, ["scenarios", "--show", "factory"])
    assert res.exit_code == 0, res.output
    assert "#" in res.stdout  # the sources, as shipped
    assert scenario_from_dict(yaml.safe_load(res.stdout)) == airan.load_scenario("factory")
    bad = runner.invoke(app, ["scenarios", "--show", "factroy"])
    assert bad.exit_code == 2 and "did you mean 'factory'" in bad.output


def test_variants_of_one_file_write_their_own_run_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two copies of a file that keep its ``name: factory`` (a lecturer's review: the second
    run silently replaced the first in runs/lab-nearest-edge-1)."""
    monkeypatch.chdir(tmp_path)
    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    for stem, kb in (("ex2-15", 15), ("ex2-60", 60)):
        d["services"][0]["ul_kb"] = kb
        (tmp_path / f"{stem}.yaml").write_text(yaml.safe_dump(d))
        res = runner.invoke(app, ["run", f"{stem}.yaml", "--duration", "0.2", "--no-report"])
        assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "ex2-15-deadline-aware-1", "ex2-60-deadline-aware-1"]
    # a built-in's name stays the folder's
    res = runner.invoke(app, ["run", "factory", "--duration", "0.2", "--no-report"])
    assert res.exit_code == 0 and (tmp_path / "runs" / "factory-deadline-aware-1").is_dir()


def test_files_airan_writes_keep_their_scenarios_name_for_the_folder(tmp_path: Path) -> None:
    """A review of the diff: every plan.yaml (and a run's or a comparison's scenario.yaml)
    would have shared runs/plan-... and runs/scenario-..., which the scenario's name kept
    apart (a plan's is <scenario>-plan)."""
    from airan.console import run_label

    for name in ("plan.yaml", "scenario.yaml"):
        (tmp_path / name).write_text("name: x\n")
        assert run_label(str(tmp_path / name), "factory-plan") == "factory-plan"
    (tmp_path / "ex2-60.yaml").write_text("name: x\n")
    assert run_label(str(tmp_path / "ex2-60.yaml"), "lab") == "ex2-60"
    assert run_label("factory", "factory") == "factory"  # a built-in's name


def test_a_refused_plan_cache_leaves_no_empty_plan_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that is a file is refused before the plan's folder is made (runs/factory-plan
    had been left behind, empty, by every such refusal)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    res = runner.invoke(app, ["plan", "factory", "--target", "detect: p99<=25ms", "--cache",
                              "afile"])
    assert res.exit_code == 2 and "is a file, not a folder" in res.output
    assert not (tmp_path / "runs").exists()


def test_validate_names_a_fleet_placed_out_of_coverage(tmp_path: Path) -> None:
    """A lecturer's lab: cameras 5 km from their one cell validated silently and the run
    dropped every request. validate places the devices as the run would (the scenario's seed)
    and counts those out of coverage by the engine's own test, as the run's summary does."""
    from one_cell import lab_cameras

    d = lab_cameras({"center_m": [5000, 0], "radius_m": 200}, ul_kb=15)
    path = tmp_path / "far.yaml"
    path.write_text(yaml.safe_dump(d))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    summary = airan.run(scenario_from_dict(d), duration_s=0.1).summary["fleets"]["cams"]
    assert summary["out_of_coverage"] == 20  # the run's own count, the same placement
    assert (f"field 'fleets[cams].area': 20 of its 20 devices are out of coverage where seed 1 "
            f"places them ({summary['out_of_coverage_uplink']} on the uplink") in text
    near = runner.invoke(app, ["validate", "city"])
    assert near.exit_code == 0 and "out of coverage" not in near.output


def test_validate_warns_of_a_cell_whose_devices_offer_more_uploads_than_its_uplink_carries(
        tmp_path: Path) -> None:
    """A drone maker's review: six drones' 15 Mbit/s video filled a sector's ~31 Mbit/s and
    validate said nothing, its check the offered load against every cell's peak. Per cell, the
    share of its uplink PRB-slots the devices' uploads need at their SINR per PRB (the run's
    devices.parquet sinr_ul_db; attenuated Shannon, the kernel's bits per PRB, 273 PRBs, the
    DDDSU pattern's uplink share): 20 cameras 300 m out at 10 Hz; 60 kB frames need more than
    the cell has and their uplink wait grows, 6 kB ones do not."""
    import math

    import numpy as np
    from one_cell import lab_cameras

    from airan.engine import Engine
    from airan.radio import link, nr

    area = {"center_m": [300, 0], "radius_m": 50}
    heavy = tmp_path / "heavy.yaml"
    heavy.write_text(yaml.safe_dump(lab_cameras(area, ul_kb=60)))
    res = runner.invoke(app, ["validate", str(heavy)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    eng = Engine(scenario_from_dict(lab_cameras(area, ul_kb=60)), duration_s=1.0)
    w = eng.world
    se = link.spectral_efficiency(eng.device_table().column("sinr_ul_db").to_numpy(),
                                  min_sinr_db=10 * math.log10(w.min_sinr_lin))
    slots_per_s = float(np.mean(nr.slot_usable(w.slot_type)[0])) / w.slot_s
    need = float(np.sum(10 * 60 * 8e3 / (se * w.cell_bits_per_prb_ul[0] * 273 * slots_per_s)))
    assert need > 1.0
    assert (f"field 'fleets': 1 of 1 cells' devices offer more uploads than the cell's uplink "
            f"carries at their own SINR where seed 1 places them: gnb {need:.2f}x") in text, text
    run = eng.run().summary["services"]["detect"]["breakdown_ms"]
    assert run["ul_wait"] > 100.0  # (the run: its uplink queue grows)
    light = tmp_path / "light.yaml"
    light.write_text(yaml.safe_dump(lab_cameras(area, ul_kb=6)))
    assert "uplink carries" not in runner.invoke(app, ["validate", str(light)]).output
    assert airan.run(scenario_from_dict(lab_cameras(area, ul_kb=6)), duration_s=1.0).summary[
        "services"]["detect"]["breakdown_ms"]["ul_wait"] < 20.0
