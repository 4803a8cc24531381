"""`airan ran-share`: hour by hour over a day, what the RAN's L1 takes of each cell-site GPU
and what it leaves to AI, at the cells' background traffic, without a run (an operator's
review: "how much GPU does the RAN leave free for AI at each site over a day?" took a sweep
over start_hour and gave fleet-wide totals only)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import airan
from airan.catalog import load_gpus
from airan.cli import app
from airan.compute.l1 import DIURNAL
from airan.engine.ran_share import day_profile
from airan.errors import InputError
from airan.scenario import scenario_from_dict


def _city(mode: str, gpu: str = "L40S", **traffic: Any) -> dict[str, Any]:
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d["ai_ran"] = {"mode": mode, "traffic": {"peak_utilization": 0.8, **traffic}}
    d["generated_compute_sites"]["gpus"] = [{"type": gpu, "count": 1}]
    return d


def test_the_days_l1_share_is_the_documented_closed_form() -> None:
    """3 cells of 100 MHz, 4 antennas, on one L40S: (f0 + (1 - f0) u) x 3 / peak cells, f0
    through Aerial's average cell (132 of 270 PRBs at half a peak cell's cost), the L40S's
    peak 20 x its dense BF16 over Hopper's 989 TFLOPS, u the diurnal curve x 0.8."""
    rows = day_profile(scenario_from_dict(_city("dynamic")))
    assert len(rows) == 10 and all(r["cells"] == 3 and r["gpus"] == 1 for r in rows)
    peak = 20.0 * float(load_gpus()["L40S"].tflops.bf16) / 989.0
    u = 0.8 * DIURNAL
    f0 = (0.5 - 132 / 270) / (1 - 132 / 270)
    expected = 3 * (f0 + (1 - f0) * u) / peak
    r = rows[0]
    assert np.allclose(r["background"], u, rtol=1e-12)
    assert np.allclose(r["l1_share"], expected, rtol=1e-9)
    assert np.allclose(r["ai_share"], 1.0 - np.asarray(r["l1_share"]), rtol=1e-12)
    assert r["ai_gpu_hours"] == pytest.approx(sum(r["ai_share"]), rel=1e-12)
    assert max(r["l1_share"]) == pytest.approx(r["l1_share"][19])  # the busy hour, 19-20 h
    assert all(f == 1.0 for f in r["l1_fit"])


def test_an_hour_of_the_day_is_what_a_run_at_that_hour_gives() -> None:
    """The engine's own L1 share in a run that starts at 19 h with no devices (the background
    alone) is the day's figure for 19 h."""
    d = _city("dynamic", start_hour=19.0)
    d["fleets"][0]["count"] = 0
    sc = scenario_from_dict(d)
    hour = day_profile(sc)[0]["l1_share"][19]
    site = airan.run(sc, duration_s=0.5, seed=1).summary["sites"]["gpu-site0"]
    assert site["ai_ran"]["mean_l1_share"] == pytest.approx(hour, rel=1e-9)
    # and its power: the GPU's catalog idle plus the L1's share of its range, the day's
    # figure for 19 h (an operator's energy planner: ran-share gave no energy)
    row = day_profile(sc)[0]
    gpu = load_gpus()["L40S"]
    assert row["l1_power_w"][19] == pytest.approx(hour * (gpu.tdp_w - gpu.idle_w), rel=1e-9)
    assert site["power_w"] == pytest.approx(row["idle_power_w"] + row["l1_power_w"][19],
                                            rel=1e-9)
    assert row["l1_kwh_per_day"] == pytest.approx(sum(row["l1_power_w"]) / 1e3, rel=1e-12)
    assert row["idle_kwh_per_day"] == pytest.approx(gpu.idle_w * 24 / 1e3, rel=1e-12)


def test_under_mig_ai_keeps_its_instance_and_an_l1_past_its_slice_drops_slots() -> None:
    """On an H100 the AI's 4g instance keeps 64 of 132 SMs all day; an L1 of 3 cells fits
    the 3g slice (60 SMs). Three 64T64R cells (6 peak cells per Hopper GPU) fully loaded at the
    busy hour need half the GPU, more than the slice: that hour processes 0.455 / 0.5 of its
    slots, a quiet one all."""
    rows = day_profile(scenario_from_dict(_city("mig", "H100")))
    assert rows[0]["ai_share"] == pytest.approx([64 / 132] * 24)
    assert all(f == 1.0 for f in rows[0]["l1_fit"])
    d = _city("mig", "H100", peak_utilization=1.0)
    d["ai_ran"]["antennas"] = 64
    rows = day_profile(scenario_from_dict(d))
    fit = np.asarray(rows[0]["l1_fit"])
    assert rows[0]["l1_share"][19] == pytest.approx(0.5, rel=1e-2)
    assert fit[19] == pytest.approx((60 / 132) / rows[0]["l1_share"][19]) and fit[4] == 1.0


def test_the_command_prints_the_sites_and_writes_every_hour(tmp_path) -> None:
    import csv

    import yaml

    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(_city("dynamic")))
    res = CliRunner().invoke(app, ["ran-share", str(path), "--csv", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "gpu-site0 (+9 alike)" in text and "busiest hour 19h" in text
    rows = list(csv.DictReader((tmp_path / "d.csv").open()))
    assert len(rows) == 10 * 24 and {r["hour"] for r in rows} == {str(h) for h in range(24)}
    # each direction's background and the mean the L1 takes (an operator's planner read one
    # figure for both)
    for r in rows:
        dl, ul = float(r["background_prb_use_dl"]), float(r["background_prb_use_ul"])
        assert float(r["background_prb_use"]) == pytest.approx(0.5 * (dl + ul), rel=1e-5)
    busiest = [r for r in rows if r["hour"] == "19"][0]
    assert (f"{float(busiest['background_prb_use_dl']):.0%} downlink, "
            f"{float(busiest['background_prb_use_ul']):.0%} uplink (the L1's load takes their "
            f"mean, {float(busiest['background_prb_use']):.0%})") in text
    none = CliRunner().invoke(app, ["ran-share", "city"])
    assert none.exit_code == 2 and "ai_ran.mode" in none.output
    with pytest.raises(InputError, match="ai_ran.mode"):
        day_profile(airan.load_scenario("city"))


def test_an_hour_the_table_does_not_show_still_marks_its_drops(tmp_path) -> None:
    """The table shows even hours; an L1 that drops slots at 19 h alone (three 64T64R cells on
    an H100's MIG slice, full at 19 h only) marks the 18 h column and names 19 h (a review: no
    mark and no note, the CSV alone showed it)."""
    import yaml

    d = _city("mig", "H100")
    d["ai_ran"] = {"mode": "mig", "antennas": 64,
                   "traffic": {"hourly": [0.1] * 19 + [1.0] + [0.1] * 4}}
    path = tmp_path / "odd.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["ran-share", str(path)])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if line.startswith("gpu-site0"))
    assert row.count("*") == 1
    assert "drops the slots it cannot process, at 19h" in " ".join(res.output.split())


def test_ones_own_l1_capacity_for_a_gpu_replaces_the_catalogs() -> None:
    """An operator's review: an L4's L1 capacity is scaled from Hopper's (2.45 peak cells,
    uncertain ~1.6-2x), and a plan rested on it with no way to give a measured one.
    ``ai_ran.l1_peak_cells`` gives it: the day's L1 share follows it exactly, the plan no
    longer calls the L4 unmeasured, and a misspelt GPU id is an input error."""
    from airan.planner import plan

    d = _city("dynamic", "L4")
    scaled = day_profile(scenario_from_dict(d))[0]["l1_share"]
    d["ai_ran"]["l1_peak_cells"] = {"L4": 5.0}
    given = scenario_from_dict(d)
    own = day_profile(given)[0]["l1_share"]
    peak = 20.0 * float(load_gpus()["L4"].tflops.bf16) / 989.0
    assert np.allclose(np.asarray(own) * 5.0, np.asarray(scaled) * peak, rtol=1e-12)
    res = plan(given, ["perception: hit>=0.3"], candidates=["L4"], max_gpus=1,
               duration_s=0.3, sites=["generated"], keep_l1=True, confirm=False)
    assert not any("is not measured" in n for n in res.notes)
    d["ai_ran"]["l1_peak_cells"] = {"L44": 5.0}
    with pytest.raises(InputError, match="ai_ran.l1_peak_cells"):
        scenario_from_dict(d)


def test_ran_share_brackets_the_l1s_fixed_share_where_the_scenario_leaves_it(
        tmp_path: Any) -> None:
    """An AI-RAN planner's review: the GPU time left to AI off-peak rests on the fixed share,
    0.022, which ran-share did not say. Where the scenario leaves it, the day again at 0.33
    (the other reading of Aerial's average cell): the day's GPU-hours for AI and the L1's
    share at the quietest hour, each the closed form's; where it sets it, nothing more."""
    import yaml

    from airan.cli import OTHER_FIXED_SHARE

    d = _city("dynamic")
    path = tmp_path / "ran.yaml"
    path.write_text(yaml.safe_dump(d))
    text = " ".join(CliRunner().invoke(app, ["ran-share", str(path)]).output.split())
    rows = day_profile(scenario_from_dict(d))
    d["ai_ran"]["l1_fixed_share"] = OTHER_FIXED_SHARE
    other = day_profile(scenario_from_dict(d))
    quiet = min(range(24), key=lambda h: max(r["l1_share"][h] for r in rows))
    assert quiet in (4, 5)  # (the diurnal curve's lowest)
    assert all(f >= 1.0 for r in other for f in r["l1_fit"])  # (an L40S holds it all day)
    assert (f"at 0.33 the day's GPU-hours left to AI would be "
            f"{sum(r['ai_gpu_hours'] for r in other):,.1f} against "
            f"{sum(r['ai_gpu_hours'] for r in rows):,.1f} and the L1 would need "
            f"{max(r['l1_share'][quiet] for r in other):.1%} of the busiest GPU at the quietest "
            f"hour, {quiet:02d}h, against {max(r['l1_share'][quiet] for r in rows):.1%}; set it "
            "to bracket the answer") in text
    assert max(r["l1_share"][quiet] for r in other) > 2 * max(r["l1_share"][quiet] for r in rows)
    path.write_text(yaml.safe_dump(d))  # (set: the user's own reading)
    text = " ".join(CliRunner().invoke(app, ["ran-share", str(path)]).output.split())
    assert "least certain input" not in text and "GPU-hours left to AI over" in text


def test_ran_share_gives_the_ai_gpu_hours_in_requests_a_day(tmp_path: Any) -> None:
    """An AI-RAN planner's review: GPU-hours alone did not say how many detections a day that
    is. Per site, the day's AI GPU-hours x 3600 x max_batch / the model's batch time at
    max_batch on the site's GPU (the roofline's), summed over the sites; beside it, what the
    fleets offer a day (devices x rate x 86,400)."""
    import yaml

    from airan.compute.roofline import batch_service_time_s

    d = _city("dynamic")
    sc = scenario_from_dict(d)
    rows = day_profile(sc)
    t_8 = batch_service_time_s(sc.model_catalog()["yolov8m"], load_gpus()["L40S"], 8)
    for r in rows:  # (city's sites batch 8: generated_compute_sites.batching)
        assert r["ai_requests_per_day"]["perception"] == pytest.approx(
            r["ai_gpu_hours"] * 3600.0 * 8 / t_8, rel=1e-12)
    total = sum(r["ai_gpu_hours"] for r in rows) * 3600.0 * 8 / t_8
    path = tmp_path / "ran.yaml"
    path.write_text(yaml.safe_dump(d))
    text = " ".join(CliRunner().invoke(app, ["ran-share", str(path)]).output.split())
    assert (f"AI's share of these GPUs would compute {total / 1e9:,.1f} billion perception "
            "requests (yolov8m) a day") in text
    # 1,000 vehicles x 10 Hz
    assert "the scenario's fleets offer 864.0 million perception requests a day" in text
    # under mig the AI instance computes all day at its own batch times (the world's GPU type
    # for it), not at AI's share once more (a review: 0.485x too few)
    from airan.engine.world import build_world

    d = _city("mig", "H100")
    sc = scenario_from_dict(d)
    w = build_world(sc, sc.seed)
    m = int(w.svc_model[0])
    for r in day_profile(sc):
        s = w.site_names.index(r["site"])
        t_inst = float(w.svc_time_s[m, int(w.gpu_type[w.site_gpu_start[s]]), 8])
        whole = batch_service_time_s(sc.model_catalog()["yolov8m"], load_gpus()["H100"], 8)
        # (the 4g instance: 64 of 132 SMs, half the bandwidth; its fixed overhead unscaled)
        assert t_inst > 1.25 * whole
        assert r["ai_requests_per_day"]["perception"] == pytest.approx(
            r["gpus"] * 86400.0 * 8 / t_inst, rel=1e-12)
    from airan.cli import _count_text

    assert _count_text(999_960_000) == "1.0 billion" and _count_text(999_999.6) == "1.0 million"
    assert _count_text(450_000) == "450,000"


def test_ran_share_refuses_a_scenario_where_no_site_runs_an_l1(tmp_path: Any) -> None:
    """A planner's walk: a copy of factory with ai_ran alone (its on-prem server is an edge
    site hosting no cell) printed an empty table and exited 0; validate only warned. Now the
    warning is the error, exit 2, naming the field and how to host the L1."""
    import yaml

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["ai_ran"] = {"mode": "dynamic"}
    path = tmp_path / "factory-ran.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["ran-share", str(path)])
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "'ai_ran.mode'" in text and "hosts_l1_of" in text, res.output
    assert "Traceback" not in res.output


def test_under_mig_ran_share_says_what_of_the_l1s_slice_idles(tmp_path: Any) -> None:
    """An AI-RAN planner's review: a 3/7 slice the L1 used a fraction of, unsaid. Its slice on
    an H100 is the 3g profile's 60 of 132 SMs, fixed; what the L1 leaves of it each hour idles,
    where AI cannot use it: sum over sites and hours of GPUs x (slice - L1 share)."""
    import yaml

    d = _city("mig", "H100")
    rows = day_profile(scenario_from_dict(d))
    assert all(r["l1_slice"] == pytest.approx(60 / 132) for r in rows)
    idle = sum(r["gpus"] * sum(60 / 132 - x for x in r["l1_share"]) for r in rows)
    used = max(max(r["l1_share"]) for r in rows) / (60 / 132)
    assert 0.1 < used < 0.5
    path = tmp_path / "mig.yaml"
    path.write_text(yaml.safe_dump(d))
    text = " ".join(CliRunner().invoke(app, ["ran-share", str(path)]).output.split())
    assert ("under mig the L1's slice is fixed (3/7 of each GPU's compute slices, "
            "ai_ran.mig_l1_fraction: 45% of an H100's peaks): at its busiest hour the L1 needs "
            f"{used:.0%} of it; the slice's unused part idles, where AI cannot use it: "
            f"{idle:,.1f} GPU-hours a day over the 10 sites") in text
    assert day_profile(scenario_from_dict(_city("dynamic")))[0]["l1_slice"] is None
    # a need beyond the slice: said, and its hours idle nothing
    from airan.cli import mig_slice_text

    over = mig_slice_text([{"gpu": "A100", "site": "x", "gpus": 2, "l1_slice": 0.5,
                            "l1_share": [0.6] + [0.1] * 23}], 3 / 7)
    assert over is not None and ("the L1 needs 120% of it (more than it holds: it drops "
                                 "slots); the slice's unused part idles, where AI cannot use "
                                 "it: 18.4 GPU-hours a day over the 1 site") in over


def test_the_fixed_share_line_says_the_hours_the_l1_would_drop_and_what_mig_changes() -> None:
    """A diff review: the line gave GPU-hours only, where at 0.33 an L4 drops slots at the
    busy hours; under mig, whose AI slice is fixed, it gave the same GPU-hours twice; on a
    day without background traffic its "quietest hour" was 00h."""
    from airan.cli import OTHER_FIXED_SHARE, fixed_share_text

    def both(d: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = day_profile(scenario_from_dict(d))
        d = {**d, "ai_ran": {**d["ai_ran"], "l1_fixed_share": OTHER_FIXED_SHARE}}
        return rows, day_profile(scenario_from_dict(d))

    rows, other = both(_city("dynamic", "L4"))
    drops = sorted({h for r in other for h in range(24) if r["l1_fit"][h] < 1.0})
    assert drops and all(f >= 1.0 for r in rows for f in r["l1_fit"])
    text = fixed_share_text(rows, other, "dynamic")
    assert text.endswith("it would drop slots at " + ", ".join(f"{h:02d}h" for h in drops)
                         + "; set it to bracket the answer")
    rows, other = both(_city("mig", "H100"))
    text = fixed_share_text(rows, other, "mig")
    assert "GPU-hours" not in text and "whether the L1 fits its MIG slice" in text
    assert ("its MIG slice would still hold it at every hour" in text) == all(
        f >= 1.0 for r in other for f in r["l1_fit"])
    d = _city("dynamic")
    d["ai_ran"].pop("traffic")
    rows, other = both(d)
    assert "the busiest GPU at every hour against" in fixed_share_text(rows, other, "dynamic")


def test_a_runs_device_prb_use_adds_to_the_background_at_every_hour(tmp_path: Any) -> None:
    """An operator's review: ran-share gave AI 52% of an A100 all day where a run of the same
    hour, its devices' PRBs added, dropped 19% of the L1's slots. --from-run adds a run's
    devices' PRB use per cell (the mean of its cells.parquet's two directions) to the
    background at every hour: the closed form at u = background + devices; a run of other
    cells is bad input naming the option."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    sc = scenario_from_dict(_city("dynamic", start_hour=19.0))
    run = tmp_path / "run"

    path = tmp_path / "city-ran.yaml"
    path.write_text(yaml.safe_dump(_city("dynamic", start_hour=19.0)))
    res = CliRunner().invoke(app, ["run", str(path), "--duration", "0.5", "--no-report",
                                   "--out", str(run)])
    assert res.exit_code == 0, res.output
    cells = pq.read_table(run / "cells.parquet").to_pydict()
    use = 0.5 * (np.asarray(cells["prb_utilization_ul"]) + np.asarray(cells["prb_utilization_dl"]))
    assert use.max() > 0.05  # (the vehicles' uploads)
    order = {c: i for i, c in enumerate(cells["cell"])}
    site0 = [order[f"site0/{k}"] for k in range(3)]
    with_devices = day_profile(sc, device_use=use[[order[c] for c in sc.cell_names()]])[0]
    peak = 20.0 * float(load_gpus()["L40S"].tflops.bf16) / 989.0
    f0 = (0.5 - 132 / 270) / (1 - 132 / 270)
    u = np.minimum(1.0, 0.8 * DIURNAL[:, None] + use[site0][None, :])
    assert np.allclose(with_devices["l1_share"], (f0 + (1 - f0) * u).sum(axis=1) / peak,
                       rtol=1e-9)
    assert with_devices["devices"] == pytest.approx(use[site0].mean())
    out = CliRunner().invoke(app, ["ran-share", str(path), "--from-run", str(run)])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert f"background traffic and the devices' PRB use in {run}" in text
    assert "the day's GPU-hours left to AI over the 10 sites" in text
    # a run that filled cells added what they carried, less than their devices wanted: said
    # (an AI-RAN planner's review), and only then
    summary = json.loads((run / "summary.json").read_text())
    busy = summary["cells"]["cells_busy_ul"] + summary["cells"]["cells_busy_dl"]
    assert ("the run filled cells" in text) == (busy > 0)
    summary["cells"].update(cells_busy_ul=7, cells_busy_dl=0)
    (run / "summary.json").write_text(json.dumps(summary))
    out = CliRunner().invoke(app, ["ran-share", str(path), "--from-run", str(run)])
    text = " ".join(out.output.split())
    assert out.exit_code == 0 and ("the run filled cells: 7 on the uplink of its 111 cells used "
                                   "more than 90% of the PRBs the background left them") in text
    assert "the L1's share at those cells' sites is a lower bound" in text
    other = tmp_path / "other"
    other.mkdir()
    pq.write_table(pa.table({"cell": ["x/0"], "prb_utilization_ul": [0.1],
                             "prb_utilization_dl": [0.1]}), other / "cells.parquet")
    for folder, said in ((other, "has no cell 'site0/0' of this scenario (111 of its 111"),
                         (tmp_path, "holds no cells.parquet")):
        bad = CliRunner().invoke(app, ["ran-share", str(path), "--from-run", str(folder)])
        assert bad.exit_code == 2 and "'--from-run'" in bad.output, bad.output
        assert said in " ".join(bad.output.split())
