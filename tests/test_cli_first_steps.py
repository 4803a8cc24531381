"""A lecturer's lab: a built-in as a file to start from, and variants of one file that keep
its ``name:`` each keeping their own run folder."""

from __future__ import annotations

import re
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
    apart (a plan's is <scenario>-plan); only in a folder of airan's, though (a newcomer's
    review: a user's own scenario.yaml named factory overwrote runs/factory-...)."""
    from airan.console import run_label

    for name, marker, holds in (("plan.yaml", "plan.json", '{"verdict": "ok"}'),
                                ("scenario.yaml", "summary.json", "{}"),
                                ("scenario.yaml", "comparison.json", '{"aggregate": {}}')):
        folder = tmp_path / marker.partition(".")[0]
        folder.mkdir()
        (folder / name).write_text("name: x\n")
        # (no marker beside it: a file of the user's, named after itself like any other)
        assert run_label(str(folder / name), "factory-plan") == Path(name).stem
        (folder / marker).write_text(holds)
        assert run_label(str(folder / name), "factory-plan") == "factory-plan"
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
    """A lecturer's lab: cameras 5 km from their one cell (at 46 dBm; at the 56 dBm of a
    100 MHz macro carrier, 8 km) validated silently and the run dropped every request.
    validate places the devices as the run would (the scenario's seed) and counts those out
    of coverage by the engine's own test, as the run's summary does."""
    from one_cell import lab_cameras

    d = lab_cameras({"center_m": [8000, 0], "radius_m": 200}, ul_kb=15)
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
    validate said nothing, its check the offered load against every cell's peak. By the
    uplink scheduler's own capacity rule (power control's power per PRB, a UE's maximum
    spread over the PRBs it uses; a review of the check: at the power control's power on
    every PRB, cameras 500 m out that cannot send their frames alone passed), 20 cameras at
    10 Hz against 50 ms: 300 m out, 40 kB frames need more than the cell's uplink; 1,200 m
    out, 1 kB ones need more than some cameras can send alone; 300 m out, 2 kB ones neither.
    The runs agree: their uplink waits grow past 100 ms where validate warns, and stay short
    where it does not."""
    from one_cell import lab_cameras

    def check(center_m: float, ul_kb: float) -> tuple[str, float]:
        d = lab_cameras({"center_m": [center_m, 0], "radius_m": 50}, ul_kb=ul_kb)
        path = tmp_path / f"cams-{center_m:g}-{ul_kb:g}.yaml"
        path.write_text(yaml.safe_dump(d))
        res = runner.invoke(app, ["validate", str(path)])
        assert res.exit_code == 0, res.output
        run = airan.run(scenario_from_dict(d), duration_s=3.0).summary
        return " ".join(res.output.split()), run["services"]["detect"]["breakdown_ms"][
            "ul_wait"]

    heavy, wait = check(300, 40)
    [need] = re.findall(r"1 of 1 cells' devices offer more uploads than the cell's uplink "
                        r"carries at their own SINR where seed 1 places them: gnb ([\d.]+)x",
                        heavy)
    assert float(need) > 2.0 and wait > 100.0, (heavy, wait)
    far, wait = check(1200, 1)
    assert "uplink carries" not in far
    assert re.search(r"\d+ devices? offers? more uploads than (they|it) can send even alone "
                     r"on (their|its) cell, at full power over every PRB (they|it) can use "
                     r"\(cams \d+\)", far), far
    assert wait > 100.0
    light, wait = check(300, 2)
    assert "more uploads" not in light and wait < 20.0, (light, wait)
