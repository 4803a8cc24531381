"""Regional shards: a scenario cut into regions, run shard by shard, merged exactly.

* merged percentiles equal those of the pooled requests within the histogram's stated error
  (0.499%), unlike averaged percentiles; counts add;
* one region is the scenario itself: the same numbers as an unsharded run;
* cutting keeps every cell site and every device (largest remainder), splits shared GPUs pro
  rata, and every shard is a valid scenario;
* ``sites=345795`` takes the built-in korea to Korea's documented 5G site count;
* regions can come from a CSV site list; bad regions are one clear error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import airan
import airan.engine  # noqa: F401  (before airan.metrics, which imports it)
from airan.cli import app
from airan.errors import InputError
from airan.metrics.histogram import MAX_RELATIVE_ERROR, histogram, quantile
from airan.report.rundir import jsonable
from airan.scenario import scenario_from_dict
from airan.sweep.merge import dense_counts, merge_summaries
from airan.sweep.shard import (
    KOREA_SITES,
    _grid_pieces,
    largest_remainder,
    plan_shards,
    run_sharded,
)

runner = CliRunner()
QS = {"p50": 0.5, "p95": 0.95, "p99": 0.99, "p999": 0.999}


def fake_summary(latencies_s: np.ndarray, dropped: int = 0) -> dict[str, Any]:
    """A summary with one service whose finished requests took ``latencies_s``."""
    h = histogram(latencies_s)
    n = len(latencies_s)
    met = int((latencies_s <= 0.1).sum())
    svc = {"count": n + dropped, "met": met, "late": n - met, "dropped": dropped,
           "in_flight": 0, "hit_ratio": met / (n + dropped), "target_hit_ratio": 0.99,
           "deadline_ms": 100.0, "dropped_by_reason": {"queue_full": dropped} if dropped else {},
           "latency_ms": {"mean": float(latencies_s.mean() * 1e3)},
           "breakdown_ms": {"queue": float(latencies_s.mean() * 1e3)},
           "latency_histogram": {"min_s": 1e-5, "gamma": 1.01,
                                 "counts": {str(b): int(c) for b, c in enumerate(h) if c}}}
    return {"scenario": "x", "policy": "p", "seed": 1, "duration_s": 1.0, "wall_s": 0.1,
            "requests": {"created": n + dropped, "met": met, "late": n - met,
                         "dropped": dropped, "in_flight": 0},
            "services": {"svc": svc}, "sites": {}, "devices": 10, "cells": {"count": 3}}


def test_merged_percentiles_match_pooled_data_within_the_stated_error() -> None:
    rng = np.random.default_rng(7)
    # regions of very different size and latency: averaging their percentiles would be wrong
    parts = [rng.lognormal(math.log(s), 0.6, size=n)
             for s, n in ((0.01, 50_000), (0.03, 5_000), (0.2, 800), (0.005, 20_000))]
    merged = merge_summaries([fake_summary(p, dropped=i) for i, p in enumerate(parts)])
    pooled = np.concatenate(parts)
    svc = merged["services"]["svc"]
    assert np.array_equal(dense_counts(svc["latency_histogram"]), histogram(pooled))
    assert svc["count"] == len(pooled) + 6 and svc["dropped"] == 6
    assert svc["met"] + svc["late"] == len(pooled)
    assert merged["requests"]["created"] == len(pooled) + 6
    assert svc["dropped_by_reason"] == {"queue_full": 6}
    assert svc["latency_ms"]["mean"] == pytest.approx(pooled.mean() * 1e3, rel=1e-12)
    assert merged["percentile_relative_error"] == pytest.approx(MAX_RELATIVE_ERROR)
    for key, q in QS.items():
        exact = float(np.quantile(pooled, q, method="inverted_cdf")) * 1e3
        assert svc["latency_ms"][key] == pytest.approx(exact, rel=MAX_RELATIVE_ERROR + 1e-12)
        averaged = np.mean([np.quantile(p, q) for p in parts]) * 1e3
        assert abs(averaged / exact - 1) > 10 * MAX_RELATIVE_ERROR  # why we never average


def test_merged_sites_add_gpus_and_load() -> None:
    a, b = fake_summary(np.full(10, 0.01)), fake_summary(np.full(30, 0.01))
    a["sites"] = {"cloud": {"kind": "cloud", "gpus": 1, "gpu_utilization": 0.9,
                            "mean_queue": 2.0, "served": 10, "batches": 5}}
    b["sites"] = {"cloud": {"kind": "cloud", "gpus": 3, "gpu_utilization": 0.5,
                            "mean_queue": 1.0, "served": 30, "batches": 10}}
    site = merge_summaries([a, b])["sites"]["cloud"]
    assert site["gpus"] == 4 and site["served"] == 40 and site["mean_queue"] == 3.0
    assert site["gpu_utilization"] == pytest.approx((0.9 + 3 * 0.5) / 4)
    assert site["mean_batch"] == pytest.approx(40 / 15)


def test_merged_links_add_what_each_shard_sent_over_a_shared_link() -> None:
    a, b = fake_summary(np.full(10, 0.01)), fake_summary(np.full(30, 0.01))
    a["links"] = {"metro->cloud": {"capacity_gbps": 100.0, "utilization": 0.25},
                  "cs1->metro": {"capacity_gbps": 10.0, "utilization": 0.5}}
    b["links"] = {"metro->cloud": {"capacity_gbps": 100.0, "utilization": 0.125}}
    links = merge_summaries([a, b])["links"]
    assert links["metro->cloud"] == {"capacity_gbps": 100.0, "utilization": 0.375}
    assert links["cs1->metro"] == {"capacity_gbps": 10.0, "utilization": 0.5}
    # a link the shards shared out (43 and 57 of 100 Gbit/s), each 0.35% busy: the whole
    # link 0.35% busy, not 0.7% of 43 (a review)
    from airan.sweep.merge import merge_links

    split = merge_links({"metro->cloud": [{"capacity_gbps": 43.0, "utilization": 0.0035},
                                          {"capacity_gbps": 57.0, "utilization": 0.0035}]},
                        {"metro->cloud": 100.0})
    assert split["metro->cloud"]["capacity_gbps"] == 100.0
    assert split["metro->cloud"]["utilization"] == pytest.approx(0.0035)


def test_merged_faults_add_what_each_shard_saw() -> None:
    a, b = fake_summary(np.full(10, 0.01)), fake_summary(np.full(30, 0.01))
    a["faults"] = [{"kind": "site_down", "target": "cloud", "affected_requests": 3, "lost": 0}]
    b["faults"] = [{"kind": "site_down", "target": "cloud", "affected_requests": 5, "lost": 1}]
    (f,) = merge_summaries([a, b])["faults"]
    assert f == {"kind": "site_down", "target": "cloud", "affected_requests": 8, "lost": 1}


def test_merged_amounts_add_even_where_the_shards_report_the_same_figure() -> None:
    # two copies of a site with as many GPUs each report the same GPU-hours and power: the
    # whole has twice; a fault's settings, the same in every shard, are kept (a review found
    # equal amounts kept once: the site's GPUs summed to 4 beside 2 GPUs' capacity)
    a, b = fake_summary(np.full(10, 0.01)), fake_summary(np.full(30, 0.01))
    for s in (a, b):
        s["sites"] = {"metro": {"kind": "edge", "gpus": 2, "gpu_utilization": 0.5,
                                "mean_queue": 1.0, "served": 10, "batches": 5, "power_w": 105.0,
                                "ai_ran": {"hosted_cells": 3, "ai_capacity_gpu_hours": 0.25,
                                           "mean_l1_share": 0.1, "l1_slot_misses": 0}}}
        s["ai_ran"] = {"mode": "dynamic", "l1_gpu_hours": 0.5,
                       "background_utilization_now_dl": 0.2}
        s["faults"] = [{"kind": "gpu_down", "target": "metro", "start_s": 0.5, "end_s": 1.0,
                        "gpus": 1, "affected_requests": 3, "lost": 1}]
    merged = merge_summaries([a, b])
    site = merged["sites"]["metro"]
    assert site["gpus"] == 4 and site["power_w"] == 210.0
    assert site["ai_ran"] == {"hosted_cells": 6, "ai_capacity_gpu_hours": 0.5,
                              "mean_l1_share": 0.1, "l1_slot_misses": 0}
    assert merged["ai_ran"] == {"mode": "dynamic", "l1_gpu_hours": 1.0,
                                "background_utilization_now_dl": 0.2}
    assert merged["faults"] == [{"kind": "gpu_down", "target": "metro", "start_s": 0.5,
                                 "end_s": 1.0, "gpus": 1, "affected_requests": 6, "lost": 2}]


def test_sharded_run_merges_the_shards_exactly() -> None:
    run = run_sharded("korea", "2x2", duration_s=0.5, workers=1)
    s, shards = run.summary, run.shards
    assert len(shards) == 4 == s["sharding"]["shards"]
    assert s["devices"] == 2317 and s["sharding"]["sites"] == 331
    assert s["cells"]["count"] == 331 * 3
    for key in ("created", "met", "late", "dropped", "in_flight"):
        assert s["requests"][key] == sum(x["requests"][key] for x in shards)
    r = s["requests"]
    assert r["created"] == r["met"] + r["late"] + r["dropped"] + r["in_flight"] > 0
    for name, svc in s["services"].items():
        parts = [x["services"][name] for x in shards]
        total = sum(dense_counts(p["latency_histogram"]) for p in parts)
        assert np.array_equal(dense_counts(svc["latency_histogram"]), total)
        p99 = quantile(total, 0.99) * 1e3
        assert svc["latency_ms"]["p99"] == pytest.approx(p99, rel=1e-12)
        shard_p99 = [p["latency_ms"]["p99"] for p in parts if p["latency_ms"]["p99"]]
        assert min(shard_p99) <= svc["latency_ms"]["p99"] <= max(shard_p99)
        # each device in one shard: the devices satisfied add (TR 38.838's share)
        sat = svc["devices_satisfied"]
        for k in ("devices", "satisfied", "without_requests"):
            assert sat[k] == sum(p["devices_satisfied"][k] for p in parts)
        assert sat["share"] == pytest.approx(sat["satisfied"] / sat["devices"])
    edge = s["sites"]["edge"]
    assert edge["gpus"] == 8 and edge["shards"] == 4  # 8 H100 split 2 + 2 + 2 + 2
    assert edge["served"] == sum(x["sites"]["edge"]["served"] for x in shards)
    assert s["sharding"]["approximation"]
    if "fleets" in s:  # pieces of a fleet cut by the regions are one fleet again
        assert {n: f["devices"] for n, f in s["fleets"].items()} == {
            "vehicles": 1324, "amr": 331, "camera": 331, "arm": 331}
        assert sum(f["devices_satisfied"]["devices"] for f in s["fleets"].values()) == sum(
            f["devices_satisfied"]["devices"] for x in shards for f in x["fleets"].values())
    seeds = [p["seed"] for p in s["sharding"]["per_shard"]]
    assert seeds == [1 + k * 1_000_003 for k in range(4)]


def test_one_region_is_the_unsharded_run() -> None:
    plain = jsonable(airan.run("city", duration_s=0.5, trace_limit=0, trace_sample=0.0).summary)
    sharded = run_sharded("city", "1x1", duration_s=0.5, workers=1).summary
    for key in plain.keys() - {"wall_s", "requests_per_wall_s", "trace"}:
        assert sharded[key] == plain[key], key
    assert sharded["sharding"]["approximation"] == []


def test_cutting_keeps_every_site_and_device_and_shares_the_cloud() -> None:
    plan = plan_shards("korea", "4x4")
    n = plan.n_shards
    assert sum(plan.sites(k) for k in range(n)) == 331
    assert plan.share.sum() == pytest.approx(1.0)
    per_fleet: dict[str, int] = {}
    for k in range(n):
        d = plan.scenario(k)
        sc = scenario_from_dict(d, label=f"shard {plan.labels[k]}")
        assert len(sc.cell_sites) == plan.sites(k)
        for f in sc.fleets:
            base = f.name.split("#")[0]
            per_fleet[base] = per_fleet.get(base, 0) + f.count
        cloud = next(c for c in sc.compute_sites if c.name == "cloud")
        assert cloud.gpus[0].count >= 1
    assert per_fleet == {"vehicles": 1324, "amr": 331, "camera": 331, "arm": 331}
    gpus = plan.shared_gpus["cloud"].sum(axis=1)
    assert gpus.sum() >= 16 and np.all(gpus >= 1)
    # the cell-site GPUs stay at the same sites as in the whole scenario (every 692nd: site0)
    cells = [c.name for k in range(n) for c in scenario_from_dict(plan.scenario(k)).compute_sites
             if c.kind == "cell"]
    assert cells == ["gpu-site0"]


def test_a_site_lists_scenario_is_cut_with_its_sites_antennas_and_gpus(tmp_path: Path) -> None:
    """run-sharded on a scenario whose sites come from a cell_sites_file ended in a numpy
    traceback (every shard's sites read as none): its sites are cut as listed ones, keeping the
    heights and bearings the file gives, and its generated GPUs stand where the whole
    scenario's do (spread along a Hilbert curve over the list, not every n-th row: an operator
    planner's review found every 4th row of a list ordered by id clustered west)."""
    rows = ["id,lat,lon,h"] + [f"s{i},{31.20 + 0.004 * (i % 6)},{121.40 + 0.004 * (i // 6)},"
                               f"{30 + i}" for i in range(24)]
    (tmp_path / "sites.csv").write_text("\n".join(rows) + "\n")
    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d.pop("cell_layout")
    d["cell_sites_file"] = {"path": str(tmp_path / "sites.csv"), "lat": "lat", "lon": "lon",
                            "name": "id", "height": "h"}
    d["generated_compute_sites"] = {"every": 4, "gpus": [{"type": "L4", "count": 1}]}
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind") != "cell"]
    for f in d["fleets"]:
        f["area"] = {"center_m": [0, 0], "radius_m": 900}
        f["count"] = 60
    sc = scenario_from_dict(d)
    whole = sc.generated_hosts()
    assert len(whole) == 6 and whole != [f"s{i}" for i in range(0, 24, 4)]
    plan = plan_shards(sc, "2x1")
    shards = [scenario_from_dict(plan.scenario(k)) for k in range(plan.n_shards)]
    assert sorted(c.name for s in shards for c in s.cell_sites) == sorted(f"s{i}" for i in
                                                                          range(24))
    heights = {c.name: c.height_m for s in shards for c in s.cell_sites}
    assert heights == {f"s{i}": 30.0 + i for i in range(24)}
    assert sorted(c.at for s in shards for c in s.compute_sites if c.kind == "cell") == \
        sorted(whole)
    res = runner.invoke(app, ["run-sharded", str(_write(tmp_path / "s.yaml", d)), "--regions",
                              "2x1", "--duration", "0.3", "--workers", "1", "--out",
                              str(tmp_path / "out")])
    assert res.exit_code == 0, res.output


def _write(path: Path, d: dict[str, Any]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(d))
    return path


def test_korea_scales_to_the_national_site_count() -> None:
    plan = plan_shards("korea", "16x16", sites=KOREA_SITES)
    assert len(plan.site_names) == KOREA_SITES == 345_795
    assert sum(plan.sites(k) for k in range(plan.n_shards)) == KOREA_SITES
    ratio = KOREA_SITES / 331
    devices = sum(plan.devices(k) for k in range(plan.n_shards))
    assert devices == sum(round(c * ratio) for c in (1324, 331, 331, 331))
    assert math.ceil(KOREA_SITES / 692) == 500  # the documented >= 500 AI-RAN sites
    big = int(np.argmax([plan.sites(k) for k in range(plan.n_shards)]))
    sc = scenario_from_dict(plan.scenario(big))
    assert len(sc.cell_sites) == plan.sites(big) < 5_000  # a shard fits a laptop
    # the layout keeps the ISD: neighbours 580 m apart, wherever the shard is
    xy = np.asarray([c.position_m for c in sc.cell_sites])
    d = np.hypot(*(xy[1:] - xy[0]).T)
    assert d.min() == pytest.approx(580.0, rel=1e-9)


@pytest.mark.parametrize("n", [2_000, 20_000])
def test_a_grown_layout_covers_the_fleets_discs_it_grows_with(n: int) -> None:
    """A planner's review: grown ring by ring, the hexagon's flat sides fell short of the
    fleets' discs (the area of the sites' cells) by a margin growing with the sites: at
    20,000 sites 3.7% of the devices lay up to 2.4 km past every cell. The N sites nearest
    the centre make a disc: no point of a fleet's disc is an ISD from every site, and every
    shard with sites has devices."""
    from scipy.spatial import cKDTree

    plan = plan_shards("korea", "4x4", sites=n)
    radius = 5540.0 * math.sqrt(n / 331)  # (korea's fleets: a disc of 331 cells' area)
    rng = np.random.default_rng(0)
    u, th = rng.random(50_000), rng.random(50_000) * 2 * math.pi
    pts = np.c_[radius * np.sqrt(u) * np.cos(th), radius * np.sqrt(u) * np.sin(th)]
    far, _ = cKDTree(plan.site_xy).query(pts)
    assert far.max() < 580.0
    assert np.mean(far > 0.6 * 580.0) < 0.01  # (beyond a cell's edge: its rim's, a strip)
    assert all(plan.devices(k) > 0 for k in range(plan.n_shards) if plan.sites(k) > 0)


def test_disc_cut_by_boxes_keeps_its_area() -> None:
    area = {"center_m": [0.0, 0.0], "radius_m": 1000.0}
    pieces = _grid_pieces(area, (-1000.0, 1000.0, -1000.0, 1000.0), np.array([-300.0, 400.0]),
                          np.array([0.0]))
    assert {p[0] for p in pieces} == set(range(6))
    total = sum(p[2] for p in pieces)
    assert total == pytest.approx(math.pi * 1000.0**2, rel=2e-3)


@pytest.mark.parametrize("total", [0, 1, 7, 1000, 12345])
def test_largest_remainder_sums_exactly(total: int) -> None:
    w = np.array([0.5, 3.0, 0.0, 1.25, 7.0])
    out = largest_remainder(total, w)
    assert out.sum() == total and np.all(out >= 0) and out[2] == 0
    assert np.all(np.abs(out - total * w / w.sum()) < 1.0)


def test_regions_from_a_csv_site_list(tmp_path: Path) -> None:
    sc = airan.load_scenario("city")
    names = sc.cell_site_names()
    csv = tmp_path / "regions.csv"
    csv.write_text("site,region\n" + "".join(
        f"{n},{'north' if i % 3 == 0 else 'south' if i % 3 == 1 else 'east'}\n"
        for i, n in enumerate(names)))
    plan = plan_shards("city", str(csv))
    assert sorted(plan.labels) == ["east", "north", "south"]
    assert [plan.sites(k) for k in range(3)] == [
        sum(1 for i in range(len(names)) if i % 3 == r) for r in (2, 0, 1)]
    assert sum(plan.devices(k) for k in range(3)) == 1000
    for k in range(3):
        scenario_from_dict(plan.scenario(k))
    csv.write_text("site,region\nsite0,a\n")
    with pytest.raises(InputError, match="36 of 37 cell sites have no region"):
        plan_shards("city", str(csv))
    with pytest.raises(InputError, match="did you mean 'site1'"):
        plan_shards("city", {**{n: "a" for n in names}, "sitte1": "b"})
    # a site listed in two regions (it was put in the last one, exit 0)
    csv.write_text("site,region\n" + "".join(f"{n},a\n" for n in names) + f"{names[0]},b\n")
    with pytest.raises(InputError, match=f"line {len(names) + 2}: site '{names[0]}' is in "
                                         "region 'a' already"):
        plan_shards("city", str(csv))
    with pytest.raises(InputError, match="is a folder"):
        plan_shards("city", str(tmp_path))


def test_cli_run_sharded_writes_merged_and_shard_summaries(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run-sharded", "korea", "--regions", "2x1", "--duration",
                                 "0.3", "--workers", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "sharded: 2 regions (2x1), 331 cell sites, 2,317 devices" in result.stdout
    merged = json.loads((tmp_path / "summary.json").read_text())
    shards = [json.loads(p.read_text()) for p in sorted((tmp_path / "shards").glob("*.json"))]
    assert len(shards) == 2
    assert merged["requests"]["created"] == sum(s["requests"]["created"] for s in shards)

    assert "cells.parquet" not in result.stdout  # a sharded run writes no cell table
    assert "fleet_scale" not in merged


def test_cli_run_sharded_again_in_its_folder_keeps_only_its_own_shards(tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "mine.json").write_text("{}")  # the user's own: kept
    for regions in ("2x2", "2x1"):
        result = runner.invoke(app, ["run-sharded", "city", "--regions", regions, "--duration",
                                     "0.2", "--workers", "1", "--fleet-scale", "0.5",
                                     "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
    merged = json.loads((tmp_path / "summary.json").read_text())
    shards = [json.loads(p.read_text()) for p in sorted((tmp_path / "shards").glob("x*.json"))]
    assert (tmp_path / "shards" / "mine.json").read_text() == "{}"
    assert len(shards) == 2 == merged["sharding"]["shards"]
    assert merged["requests"]["created"] == sum(s["requests"]["created"] for s in shards)
    assert merged["fleet_scale"] == 0.5


def test_cli_run_sharded_names_its_default_folder_after_the_fleet_scale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run-sharded", "city", "--regions", "2x1", "--duration", "0.1",
                                 "--workers", "1", "--fleet-scale", "0.5"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "city-sharded-2x1-x0.5" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--regions", "4by4"], "option '--regions'"),
        (["--regions", "0x3"], "1..100,000 regions"),
        (["--sites", "0"], "option '--sites': must be 1-1,000,000"),
        (["--policy", "nearest-edg"], "did you mean 'nearest-edge'"),
        (["--workers", "0"], "option '--workers'"),
    ],
)
def test_cli_run_sharded_bad_options_exit_2(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["run-sharded", "korea", *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines


def test_sites_needs_a_hex_layout() -> None:
    with pytest.raises(InputError, match="hex cell_layout"):
        plan_shards("factory", "2x2", sites=100)


def test_a_csv_site_lists_errors_name_the_file(tmp_path: Path) -> None:
    csv = tmp_path / "regions.csv"
    csv.write_text("site,region\nsite0,a\n")
    result = runner.invoke(app, ["run-sharded", "city", "--regions", str(csv), "--workers", "1",
                                 "--duration", "0.1"])
    assert result.exit_code == 2
    assert f"{csv}: field 'site': 36 of 37 cell sites have no region" in " ".join(
        result.stderr.split())
    names = airan.load_scenario("city").cell_site_names()
    csv.write_text("site,region\n" + "".join(f"{n},a\n" for n in names) + "sitte1,b\n")
    with pytest.raises(InputError, match="did you mean 'site1'") as exc:
        plan_shards("city", str(csv))
    assert exc.value.file == str(csv)
    csv.write_text("Name,Region\nsite0,a\n")  # the column as the file names it
    with pytest.raises(InputError, match="field 'Name': 36 of 37"):
        plan_shards("city", str(csv))


def test_grid_cuts_run_between_rows_of_sites_so_regions_get_sites_as_they_get_devices() -> None:
    """city's hex layout has its centre column on the 2x1 cut: that column went to the right
    region, whose devices were half (by area) while its sites were 22 of 37, and the left
    region's devices near the cut lost their nearest cells (sharded p99 192 ms against 52 ms).
    Cutting between columns gives each region sites in proportion to its devices."""
    plan = plan_shards("city", "2x1")
    sites = np.array([plan.sites(k) for k in range(plan.n_shards)], dtype=float)
    devices = np.array([sum(f["count"] for f in plan.fleets[k]) for k in range(plan.n_shards)],
                       dtype=float)
    assert devices.sum() == 1000 and sites.sum() == 37
    per_site = devices / sites
    assert per_site.max() < 1.15 * per_site.min(), (sites, devices)
    # the regions' sites do not overlap across the cut
    x = plan.site_xy[:, 0]
    left = x[plan.site_shard == 0].max()
    right = x[plan.site_shard == 1].min()
    assert right - left > 0


@pytest.mark.parametrize(("rings", "n"), [(3, 3), (3, 4), (6, 5), (10, 4)])
def test_grid_cuts_never_lie_on_a_row_of_sites(rings: int, n: int) -> None:
    """A hex row's sites differ in y by rounding (~1e-13 m); taken as distinct coordinates,
    some 'midpoints between rows' were on a row (rings 3 cut in 3: three sites on the cut)."""
    from airan.radio.geometry import hex_grid
    from airan.sweep.shard import _between_sites

    y = hex_grid(rings, 500.0)[:, 1]
    cuts = _between_sites(y.min() + (y.max() - y.min()) * np.arange(1, n) / n, y)
    assert np.abs(y[:, None] - cuts[None, :]).min() > 1.0


def test_merged_cells_keep_the_busiest_cell_of_every_shard() -> None:
    from airan.sweep.merge import merge_cells

    a = {"count": 3, "mean_prb_utilization_ul": 0.2, "max_prb_utilization_ul": 0.5,
         "busiest_cell_ul": "a/0", "cells_busy_ul": 0, "mean_prb_utilization_dl": 0.1,
         "max_prb_utilization_dl": 0.95, "busiest_cell_dl": "a/1", "cells_busy_dl": 1,
         "busy_threshold": 0.9, "uplink_scheduler": "pf"}
    b = {"count": 1, "mean_prb_utilization_ul": 0.6, "max_prb_utilization_ul": 0.6,
         "busiest_cell_ul": "b/0", "cells_busy_ul": 0, "mean_prb_utilization_dl": 0.92,
         "max_prb_utilization_dl": 0.92, "busiest_cell_dl": "b/0", "cells_busy_dl": 1,
         "busy_threshold": 0.9}
    m = merge_cells([a, b], [3, 1])
    assert m["count"] == 4
    assert m["mean_prb_utilization_ul"] == pytest.approx((0.2 * 3 + 0.6) / 4)
    assert (m["busiest_cell_ul"], m["max_prb_utilization_ul"]) == ("b/0", 0.6)
    assert (m["busiest_cell_dl"], m["max_prb_utilization_dl"], m["cells_busy_dl"]) == (
        "a/1", 0.95, 2)
    assert m["uplink_scheduler"] == "pf"  # the same scenario's radio in every shard


def test_merged_energy_per_request_weighs_each_part_by_its_requests() -> None:
    """10 devices and 100 requests at 2 J, 10 devices and 300 requests at 4 J: the merged fleet
    used (200 + 1,200) J over 400 requests, 3.5 J each (by devices it would read 3.0)."""
    from airan.sweep.merge import merge_fleets

    parts = [{"devices": 10, "requests": 100, "energy_per_request_j": 2.0,
              "mean_power_w": 5.0, "battery_life_h": None},
             {"devices": 10, "requests": 300, "energy_per_request_j": 4.0,
              "mean_power_w": 7.0, "battery_life_h": None}]
    merged = merge_fleets(parts)
    assert merged["energy_per_request_j"] == pytest.approx(3.5, rel=1e-12)
    assert merged["mean_power_w"] == pytest.approx(6.0, rel=1e-12)
    assert merged["requests"] == 400 and merged["devices"] == 20


def test_merged_drx_share_weighs_each_part_by_its_devices() -> None:
    """10 devices 90% of the time in DRX and 30 devices 50%: 60% of the device time."""
    from airan.sweep.merge import merge_fleets

    parts = [{"devices": 10, "requests": 100, "energy_per_request_j": 2.0,
              "mean_power_w": 5.0, "battery_life_h": None, "drx_share": 0.9},
             {"devices": 30, "requests": 300, "energy_per_request_j": 4.0,
              "mean_power_w": 7.0, "battery_life_h": None, "drx_share": 0.5}]
    assert merge_fleets(parts)["drx_share"] == pytest.approx(0.6, rel=1e-12)
    without = [{k: v for k, v in p.items() if k != "drx_share"} for p in parts]
    assert "drx_share" not in merge_fleets(without)


def test_a_scenario_with_faults_is_not_sharded() -> None:
    """Each shard applied every fault to its own copy of the sites: a gpu_down of 2 of the
    metro edge's 4 GPUs took all 4 down over two shards (a review), silently."""
    d = airan.load_scenario("city").model_dump(mode="json")
    d["faults"] = [{"kind": "gpu_down", "site": "metro", "gpus": 2, "start_s": 0.5}]
    with pytest.raises(InputError, match="faults are not split between regional shards") as e:
        plan_shards(scenario_from_dict(d), "2x1")
    assert e.value.field == "faults"


def test_a_pooled_du_is_not_sharded_under_ai_ran_and_is_dropped_without_it() -> None:
    """A review: every shard kept the hub's hosts_l1_of, naming cell sites it does not hold,
    and failed to load. Under ai_ran it is refused (its GPUs would be split by request rate,
    not by each region's L1); without ai_ran the list changes nothing and each shard drops
    it."""
    d = airan.load_scenario("city").model_dump(mode="json")
    d["compute_sites"][0]["hosts_l1_of"] = ["site0", "site1", "site2"]
    d["ai_ran"] = {"mode": "dynamic"}
    with pytest.raises(InputError, match="a pooled DU is not split between regional shards"):
        plan_shards(scenario_from_dict(d), "2x1")
    d["ai_ran"] = {"mode": "none"}
    plan = plan_shards(scenario_from_dict(d), "2x1")
    for k in range(plan.n_shards):
        shard = scenario_from_dict(plan.scenario(k))  # (loads: no unknown cell site)
        assert not any(c.hosts_l1_of for c in shard.compute_sites)


def test_a_fleet_on_listed_paths_is_cut_by_path_and_refused_where_a_path_crosses_regions(
) -> None:
    """Devices on listed waypoint paths fly them wherever they lead, not within the piece of
    the area their shard got: on a highway cut in two, a third of their requests ended in
    radio outage or in flight, silently (a review: hit ratio 0.37 against 0.92 whole). Device
    i flies path i mod P, so the fleet is cut by path; a path that crosses regions, at a
    waypoint or along a leg, is refused."""
    d = airan.load_scenario("city").model_dump(mode="json")
    plan0 = plan_shards(scenario_from_dict(d), "2x1")
    xy, names = plan0.site_xy, plan0.site_names
    west, east = xy[np.argmin(xy[:, 0])], xy[np.argmax(xy[:, 0])]
    drones = {"name": "drones", "count": 7, "device_class": "drone", "services": ["perception"],
              "area": {"center_m": [0, 0], "radius_m": 1500}}

    def flying(*paths: list[list[float]], regions: Any = "2x1") -> Any:
        mob = {"model": "waypoints", "speed_mps": 20, "loop": False, "paths": list(paths)}
        d["fleets"] = [*d["fleets"][:1], {**drones, "mobility": mob}]
        return plan_shards(scenario_from_dict(d), regions)

    def leg(p: np.ndarray) -> list[list[float]]:
        return [[p[0], p[1], 50.0], [p[0] + 50, p[1], 50.0]]

    with pytest.raises(InputError, match="path 0 crosses 2 regions") as e:
        flying([[west[0], 0, 50], [east[0], 0, 50]])
    assert e.value.field == "fleets[drones].mobility.paths[0]"
    plan = flying(leg(west))  # one region: the fleet whole, uncut
    mine = [[f for f in shard if f["name"].startswith("drones")] for shard in plan.fleets]
    assert sorted(len(m) for m in mine) == [0, 1] and sum(f["count"] for m in mine
                                                          for f in m) == 7
    plan = flying(leg(west), leg(east))  # a path in each region: cut by path, 4 and 3
    mine = [[f for f in shard if f["name"].startswith("drones")] for shard in plan.fleets]
    assert sorted((f["name"], f["count"], len(f["mobility"]["paths"]))
                  for m in mine for f in m) == [("drones#1", 4, 1), ("drones#2", 3, 1)]
    assert all(len(m) == 1 for m in mine)
    # both ends in one region, the leg between them through another (regions need not be
    # convex): refused, as its devices cross the middle
    outer = {n: "outer" if abs(x) > 600 else "middle" for n, (x, _) in zip(names, xy,
                                                                          strict=True)}
    with pytest.raises(InputError, match="path 0 crosses 2 regions"):
        flying([[west[0], west[1], 50], [east[0], east[1], 50]], regions=outer)
    from airan.sweep.shard import _listed_paths  # a trace's positions are in its file

    with pytest.raises(InputError, match="trace") as e:
        _listed_paths({"name": "drones", "mobility": {"model": "trace"}}, 2)
    assert e.value.field == "fleets[drones].mobility.model"
    assert _listed_paths({"name": "drones", "mobility": {"model": "trace"}}, 1) is None


def test_merged_handover_rates_weigh_each_shard_by_its_moving_devices() -> None:
    """A service's handovers per moving device per minute, over the shards: weighted by each
    shard's moving devices of that service (it was by cells: 6.8487 for 6.8400 in a review)."""
    def mobility(cells: int, movers: int, rate: float, affected: int) -> dict[str, Any]:
        return {"mobile_devices": movers, "handovers": round(rate * movers / 30),
                "radio_link_failures": 0,
                "services": {"perception": {"handovers_per_device_per_min": rate,
                                            "moving_devices": movers,
                                            "requests_affected_by_handover": affected}}}

    a, b = fake_summary(np.full(10, 0.01)), fake_summary(np.full(30, 0.01))
    a["cells"], b["cells"] = {"count": 45}, {"count": 66}
    a["mobility"], b["mobility"] = mobility(45, 417, 6.4029, 10), mobility(66, 583, 7.1527, 14)
    m = merge_summaries([a, b])["mobility"]
    assert m["mobile_devices"] == 1000 and m["services"]["perception"]["moving_devices"] == 1000
    rate = m["services"]["perception"]["handovers_per_device_per_min"]
    assert rate == pytest.approx((6.4029 * 417 + 7.1527 * 583) / 1000, rel=1e-12)
    assert m["services"]["perception"]["requests_affected_by_handover"] == 24
    # with the device-minutes the rates are over (a trace's devices in part of the run), the
    # merged rate is every shard's handovers over all their minutes, fleet and overall too (a
    # diff review: the merged summary fell back to handovers / devices / the run's minutes)
    from airan.sweep.merge import merge_mobility

    def timed(handovers: int, minutes: float) -> dict[str, Any]:
        fleet = {"moving_devices": 10, "handovers": handovers, "moving_minutes": minutes,
                 "handovers_per_device_per_min": handovers / minutes}
        return {"mobile_devices": 10, "handovers": handovers, "radio_link_failures": 0,
                "moving_minutes": minutes, "handovers_per_device_per_min": handovers / minutes,
                "fleets": {"cars": fleet}, "services": {}}

    m = merge_mobility([timed(30, 2.0), timed(10, 8.0)])
    assert m["handovers_per_device_per_min"] == pytest.approx(40 / 10.0)
    assert m["fleets"]["cars"]["handovers_per_device_per_min"] == pytest.approx(4.0)
    # a fleet cut into pieces ("cars#1", "cars#2", as shards name them): one fleet, under its
    # own name, as the summary's fleets (a diff review: a sharded moving fleet read as parked)
    one, two = timed(30, 2.0), timed(10, 8.0)
    one["fleets"] = {"cars#1": one["fleets"]["cars"]}
    two["fleets"] = {"cars#2": two["fleets"]["cars"], "vans": two["fleets"]["cars"]}
    m = merge_mobility([one, two])
    assert set(m["fleets"]) == {"cars", "vans"}
    assert m["fleets"]["cars"]["moving_devices"] == 20 and m["fleets"]["cars"]["handovers"] == 40
    assert m["fleets"]["cars"]["handovers_per_device_per_min"] == pytest.approx(40 / 10.0)


def test_the_approximations_name_moving_devices_kept_in_their_piece(tmp_path: Path) -> None:
    """Sharded, a random-waypoint or Manhattan device moves within its fleet's piece of the
    area (of a disc, a strip 1/32 of its radius tall): the merged summary says so where a fleet
    moves, and names device energy as the figure a region's cut changes most (a review: 3x on
    city cut 2x1)."""
    import yaml

    from airan.scenario import scenario_from_dict

    still = plan_shards("city", "2x2").notes
    assert any("device energy per request is the figure most affected" in n for n in still)
    assert not any("Moving devices" in n for n in still)
    d = airan.load_scenario("city").model_dump(mode="json", exclude_none=True)
    for f in d["fleets"]:
        f["mobility"] = {"model": "random_waypoint", "speed_mps": [10, 15]}
    scenario_from_dict(d)  # (valid)
    path = tmp_path / "moving.yaml"
    path.write_text(yaml.safe_dump(d), encoding="utf-8")
    assert any(n.startswith("Moving devices") for n in plan_shards(str(path), "2x2").notes)


def test_merged_fleets_add_their_services_outcomes_and_histograms() -> None:
    """A fleet cut into two shards: its per-service outcomes add, its hit ratio is met over
    the pooled requests that ended, its histogram the sum of the parts'."""
    from airan.sweep.merge import merge_fleets

    def part(met: int, late: int, dropped: int, counts: dict[str, int]) -> dict[str, Any]:
        svc = {"count": met + late + dropped, "met": met, "late": late, "dropped": dropped,
               "in_flight": 0, "overdue": 0, "hit_ratio": met / (met + late + dropped),
               "hit_ratio_with_overdue": met / (met + late + dropped),
               "target_hit_ratio": 0.99, "deadline_ms": 100.0,
               "dropped_by_reason": {"buffer_full": dropped} if dropped else {},
               "latency_ms": {"mean": 10.0},
               "latency_histogram": {"min_s": 1e-6, "gamma": 1.01, "counts": counts}}
        return {"devices": 5, "requests": svc["count"], "energy_per_request_j": None,
                "mean_power_w": None, "battery_life_h": None, "out_of_coverage": 0,
                "met": met, "late": late, "dropped": dropped, "services": {"detect": svc}}

    merged = merge_fleets([part(90, 10, 0, {"5": 60, "9": 40}),
                           part(10, 30, 60, {"5": 10, "12": 30})])
    svc = merged["services"]["detect"]
    assert (svc["met"], svc["late"], svc["dropped"]) == (100, 40, 60)
    assert svc["dropped_by_reason"] == {"buffer_full": 60}
    assert svc["latency_histogram"]["counts"] == {"5": 70, "9": 40, "12": 30}
    assert merged["hit_ratio"] == pytest.approx(100 / 200) and merged["met"] == 100
    assert "breakdown_ms" not in svc  # (a whole run's fleet shares have none either)
