"""Policies side by side: ``airan compare`` runs every policy on every seed and sums them up.

* comparison.json holds one summary per run, also written one file per run;
* its means and 95% intervals are those of scipy.stats.t over the per-run values;
* the report shows the same numbers, with its figures; one seed gives null intervals, no crash;
* an unknown policy is one clear error with a close match, before any run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from airan.cli import app
from airan.errors import InputError
from airan.report.compare import mean_ci, paired_difference, read_comparison, run_comparison
from airan.scenario import load_scenario

runner = CliRunner()
POLICIES = ["nearest-edge", "deadline-aware"]
SEEDS = 3
DURATION = 0.3
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    out = tmp_path_factory.mktemp("compare") / "out"
    result = runner.invoke(app, ["compare", "factory", "--policies", ",".join(POLICIES),
                                 "--seeds", str(SEEDS), "--duration", str(DURATION),
                                 "--seed", "11", "--out", str(out)])
    return result, out


def test_policies_given_as_a_repeated_option_all_run(tmp_path: Path) -> None:
    """-p a -p b ran only b (the option kept its last value), as "1 policies side by side"."""
    result = runner.invoke(app, ["compare", "factory", "-p", "nearest-edge", "-p", "local",
                                 "--seeds", "1", "--duration", "0.1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "comparison.json").read_text())["policies"] == [
        "nearest-edge", "local"]
    assert "2 policies x 1 seed " in result.stdout
    result = runner.invoke(app, ["compare", "factory", "-p", "local", "--seeds", "1",
                                 "--duration", "0.1", "--out", str(tmp_path / "one")])
    assert "1 policy x 1 seed " in result.stdout
    assert "factory: 1 policy side by side" in (tmp_path / "one" / "report.html").read_text()


def test_cli_compare_writes_everything(comparison: tuple[Any, Path]) -> None:
    result, out = comparison
    assert result.exit_code == 0, result.output
    for name in ("comparison.json", "report.html", "scenario.yaml"):
        assert (out / name).is_file(), name
        assert str(out / name) in result.stdout or name == "scenario.yaml"
    assert "nearest-edge" in result.stdout and "hit ratio" in result.stdout
    data = json.loads((out / "comparison.json").read_text())
    assert data["policies"] == POLICIES
    assert data["seeds"] == [11, 12, 13]
    # the scenario as compared: the runs' duration, and the first seed (not the scenario's 1)
    as_compared = yaml.safe_load((out / "scenario.yaml").read_text())
    assert (as_compared["seed"], as_compared["duration_s"]) == (11, DURATION)
    assert len(data["runs"]) == len(POLICIES) * SEEDS
    assert {(r["policy"], r["seed"]) for r in data["runs"]} == {
        (p, s) for p in POLICIES for s in data["seeds"]}
    for r in data["runs"]:
        assert r["summary"]["policy"] == r["policy"] and r["summary"]["seed"] == r["seed"]
        assert r["summary"]["duration_s"] == pytest.approx(DURATION)
        on_disk = json.loads((out / "runs" / f"{r['policy']}-seed{r['seed']}.json").read_text())
        assert on_disk == r["summary"]


def _t_interval(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))


def _percentile_counting_unanswered_ms(svc: dict[str, Any], q: float) -> float:
    """The nearest-rank q-quantile (ms) over every request, those without an answer (dropped,
    overdue) ranked last as infinitely late, read off the summary's log-bucket histogram
    (bucket b >= 1 holds [min_s g**(b-1), min_s g**b), reported at its geometric middle)."""
    hist = svc["latency_histogram"]
    answered = svc["met"] + svc["late"]
    rank = math.ceil(q * (answered + svc["dropped"] + svc.get("overdue", 0)))
    if rank > answered:
        return math.inf
    seen = 0
    for b, n in sorted((int(b), n) for b, n in hist["counts"].items()):
        seen += n
        if seen >= rank:
            return hist["min_s"] * hist["gamma"] ** (b - 0.5) * 1e3
    raise AssertionError("rank beyond the histogram")


def test_intervals_match_scipy(comparison: tuple[Any, Path]) -> None:
    _, out = comparison
    data = json.loads((out / "comparison.json").read_text())
    checked = 0
    for p in POLICIES:
        for svc in data["services"]:
            per_run = [json.loads((out / "runs" / f"{p}-seed{s}.json").read_text())
                       ["services"][svc] for s in data["seeds"]]
            for metric, values in (
                ("hit_ratio", [r["hit_ratio"] for r in per_run]),
                ("p99_ms", [_percentile_counting_unanswered_ms(r, 0.99) for r in per_run]),
                ("p50_ms", [_percentile_counting_unanswered_ms(r, 0.50) for r in per_run]),
            ):
                agg = data["aggregate"][p][svc][metric]
                if math.inf in values:  # more than 1% (50%) unanswered in a seed: unbounded
                    assert agg["unbounded"] == values.count(math.inf) and agg["mean"] is None
                    continue
                vals = [v for v in values if v is not None]
                assert agg["n"] == len(vals)
                assert agg["mean"] == pytest.approx(np.mean(vals), rel=1e-12)
                if len(vals) < 2:
                    assert agg["ci_low"] is None
                    continue
                if np.std(vals) == 0:
                    assert agg["ci_low"] == agg["ci_high"] == agg["mean"]
                    continue
                lo, hi = _t_interval(vals)
                # clipped to the values the metric can take (BOUNDS)
                lo, hi = max(lo, 0.0), min(hi, 1.0) if metric == "hit_ratio" else hi
                assert agg["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-12)
                assert agg["ci_high"] == pytest.approx(hi, rel=1e-9, abs=1e-12)
                checked += 1
    assert checked >= 3  # the runs differ by seed, so real intervals were compared


def test_report_shows_the_aggregate(comparison: tuple[Any, Path]) -> None:
    _, out = comparison
    data = json.loads((out / "comparison.json").read_text())
    html = (out / "report.html").read_text()
    for p in POLICIES:
        for svc in data["services"]:
            agg = data["aggregate"][p][svc]
            row = html.split(f'data-service="{svc}" data-policy="{p}"', 1)[1].split(">", 1)[0]
            for attr, value in (("hit-mean", agg["hit_ratio"]["mean"]),
                                ("hit-low", agg["hit_ratio"]["ci_low"]),
                                ("p99-mean", agg["p99_ms"]["mean"]),
                                ("p99-high", agg["p99_ms"]["ci_high"])):
                text = row.split(f'data-{attr}="', 1)[1].split('"', 1)[0]
                assert (float(text) if text else None) == value, (p, svc, attr)
    for name in ("compare_hit_ratio", "compare_p99", "compare_cdf"):
        assert f'id="fig-{name}"' in html
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
        assert (out / "figures" / f"{name}.svg").stat().st_size > 1000
    assert "airan compare scenario.yaml --policies nearest-edge,deadline-aware --seeds 3" in html
    assert "https://" not in html and "<script" not in html


def test_report_rebuilds_a_comparison(comparison: tuple[Any, Path], tmp_path: Path) -> None:
    _, out = comparison
    copy = tmp_path / "c"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    assert (copy / "report.html").read_text().count("<figure") == 4  # and the energy's


def test_one_seed_gives_null_intervals(tmp_path: Path) -> None:
    c = run_comparison("factory", ["nearest-edge"], seeds=1, duration_s=0.1, out=tmp_path)
    for svc in c.data["aggregate"]["nearest-edge"].values():
        for metric in ("hit_ratio", "p99_ms"):
            if svc[metric]["n"]:
                assert svc[metric]["mean"] is not None
            assert svc[metric]["ci_low"] is None and svc[metric]["ci_high"] is None
    json.loads((tmp_path / "comparison.json").read_text())  # valid JSON: null, not NaN
    assert "One seed only" in c.report_path.read_text()


def test_a_comparison_in_an_earlier_ones_folder_keeps_only_its_own_runs(tmp_path: Path) -> None:
    run_comparison("factory", ["local", "cloud"], seeds=1, duration_s=0.1, out=tmp_path)
    (tmp_path / "runs" / "baseline.json").write_text("{}")  # the user's own: kept
    run_comparison("factory", ["cloud"], seeds=1, duration_s=0.1, out=tmp_path)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["baseline.json",
                                                                      "cloud-seed1.json"]


def test_mean_ci_edge_cases() -> None:
    assert mean_ci([])["mean"] is None
    one = mean_ci([0.5, None])
    assert one["n"] == 1 and one["mean"] == 0.5 and one["ci_low"] is None
    flat = mean_ci([0.9, 0.9, 0.9])
    assert flat["ci_low"] == flat["ci_high"] == pytest.approx(0.9)
    vals = [0.91, 0.95, 0.87, 0.93]
    r = mean_ci(vals)
    half = stats.t.ppf(0.975, 3) * np.std(vals, ddof=1) / math.sqrt(4)
    assert r["half_width"] == pytest.approx(half, rel=1e-12)
    d = paired_difference([0.9, 0.8, None], [0.7, 0.7, 0.1])
    assert d["n"] == 2 and d["mean"] == pytest.approx(0.15)
    # a difference of hit ratios lies in [-1, 1]: its interval is clipped there
    d = paired_difference([1.0, 1.0, 0.5], [0.0, 0.0, 0.45])
    assert d["ci_high"] == 1.0 and d["mean"] + d["half_width"] > 1.0


def test_unknown_policy_suggests_a_close_match(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "factory", "--policies", "nearest-edge,least-loded",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # no traceback
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "'--policies'" in line and "'least-loded'" in line
    assert "did you mean 'least-loaded'?" in line
    assert not (tmp_path / "x").exists()  # checked before any work


@pytest.mark.parametrize(("args", "option"), [
    (["--policies", ","], "--policies"),
    (["--seeds", "0"], "--seeds"),
    (["--duration", "-1"], "--duration"),
])
def test_bad_compare_options(args: list[str], option: str) -> None:
    result = runner.invoke(app, ["compare", "factory", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: option '{option}'")


def test_library_rejects_unknown_policy(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="did you mean 'least-loaded'"):
        run_comparison("factory", ["least-loded"], seeds=1, out=tmp_path)
    with pytest.raises(InputError, match="not a comparison folder"):
        read_comparison(tmp_path)


def test_comparison_report_renders_in_headless_chromium(comparison: tuple[Any, Path],
                                                        tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (CI installs it: apt-get install chromium)"
        if os.environ.get("AIRAN_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("AIRAN_REQUIRE_BROWSER"):
            raise
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    _, out = comparison
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            sizes = page.eval_on_selector_all(
                "figure img", "imgs => imgs.map(i => [i.naturalWidth, "
                "i.getBoundingClientRect().width, i.getBoundingClientRect().height])")
            page.screenshot(path=str(tmp_path / "comparison.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(sizes) == 4  # hit ratio, p99, CDF and the devices' energy
    assert all(nw > 0 and w > 100 and h > 50 for nw, w, h in sizes), sizes


def _runs_with(policy_values: dict[str, list[tuple[int, int, int]]]) -> list[dict[str, Any]]:
    """Run summaries of one service: per policy and seed, (met, ended, overdue)."""
    runs = []
    for p, per_seed in policy_values.items():
        for seed, (met, ended, overdue) in enumerate(per_seed, start=1):
            svc = {"hit_ratio": met / ended, "hit_ratio_with_overdue": met / (ended + overdue),
                   "latency_ms": {}}
            runs.append({"policy": p, "seed": seed, "summary": {"services": {"s": svc}}})
    return runs


def test_a_lead_on_each_of_too_few_seeds_is_said_to_be_too_few_to_tell() -> None:
    """A robot maker's review: 0.956 and 0.723 against 0.005 on 2 seeds read "not significantly
    ahead" alone, a contradiction to the eye (t's factor is 12.7 at one degree of freedom)."""
    from airan.report.compare import FEW_SEEDS, aggregate, comparison_verdicts

    runs = _runs_with({"da": [(956, 1000, 0), (723, 1000, 0)],
                       "ne": [(5, 1000, 0), (5, 1000, 0)]})
    data = {"policies": ["da", "ne"], "services": {"s": {"target_hit_ratio": 0.9}},
            "aggregate": aggregate(runs, ["da", "ne"], ["s"])}
    verdict = comparison_verdicts(data)["s"]
    assert "not significantly ahead of ne" in verdict
    assert (f"though ahead on each of its 2 seeds: too few to tell, compare on {FEW_SEEDS} "
            "seeds or more") in verdict
    # one seed the other way: no such word
    runs = _runs_with({"da": [(956, 1000, 0), (3, 1000, 0)],
                       "ne": [(5, 1000, 0), (5, 1000, 0)]})
    data["aggregate"] = aggregate(runs, ["da", "ne"], ["s"])
    assert "too few to tell" not in comparison_verdicts(data)["s"]


def test_verdict_ranks_policies_with_overdue_requests_counted_as_misses() -> None:
    """'queues' looks better on met over ended, but leaves 300 hopeless requests in flight
    where 'ends' finished them late: counted as misses, 'ends' leads."""
    from airan.report.compare import aggregate, comparison_verdicts

    runs = _runs_with({"queues": [(900, 950, 300), (905, 950, 290), (898, 950, 310)],
                       "ends": [(910, 1000, 0), (912, 1000, 0), (908, 1000, 0)]})
    data = {"policies": ["queues", "ends"], "services": {"s": {"target_hit_ratio": 0.9}},
            "aggregate": aggregate(runs, ["queues", "ends"], ["s"])}
    assert data["aggregate"]["queues"]["s"]["hit_ratio"]["mean"] > \
        data["aggregate"]["ends"]["s"]["hit_ratio"]["mean"]
    verdict = comparison_verdicts(data)["s"]
    assert verdict.startswith("ends has the highest mean hit ratio with overdue requests"), verdict
    # a seed in which 'queues' ended nothing but left requests overdue: still ranked on the
    # overdue-counted ratio (its plain ratio is undefined there), so 'ends' still leads
    bad = {"policy": "queues", "seed": 4, "summary": {"services": {"s": {
        "hit_ratio": None, "hit_ratio_with_overdue": 0.0, "latency_ms": {}}}}}
    ends4 = {"policy": "ends", "seed": 4, "summary": {"services": {"s": {
        "hit_ratio": 0.91, "hit_ratio_with_overdue": 0.91, "latency_ms": {}}}}}
    data["aggregate"] = aggregate([*runs, bad, ends4], ["queues", "ends"], ["s"])
    assert comparison_verdicts(data)["s"].startswith("ends has the highest mean hit ratio with")
    # summaries without the field (written by older versions) rank on the plain hit ratio
    for r in runs:
        del r["summary"]["services"]["s"]["hit_ratio_with_overdue"]
    data["aggregate"] = aggregate(runs, ["queues", "ends"], ["s"])
    assert comparison_verdicts(data)["s"].startswith("queues has the highest mean hit ratio (")


def test_a_full_uplink_every_policy_shares_is_named() -> None:
    """40 robots fill the four cells' uplinks whatever the policy: every edge or cloud policy
    scores near zero behind it, and the comparison says so rather than only rank them; 'local'
    sends nothing but fills the devices' queues, nearest-edge the edge GPU too."""
    from airan.report.compare import comparison_bottlenecks

    def summary(busy_ul: int, mec: float, device_full: int) -> dict[str, Any]:
        return {"cells": {"count": 4, "busy_threshold": 0.9, "cells_busy_ul": busy_ul,
                          "cells_busy_dl": 0},
                "sites": {"mec": {"gpu_utilization": mec}, "cloud": {"gpu_utilization": 0.7}},
                "requests": {"dropped_by_reason": {"device_queue_full": device_full}}}

    runs = [{"policy": p, "seed": seed, "summary": summary(*values)}
            for p, values in (("local", (0, 0.0, 500)), ("nearest-edge", (4, 0.97, 0)),
                              ("cloud", (4, 0.0, 0))) for seed in (1, 2)]
    notes = comparison_bottlenecks({"policies": ["local", "nearest-edge", "cloud"],
                                    "runs": runs})
    assert notes == [
        "Shared bottleneck: every run of nearest-edge and cloud used more than 90% of the "
        "uplink PRBs in 4 of 4 cells. The uplink is common to both and full whatever they "
        "place where, so their hit ratios compare placements behind it; fewer or smaller "
        "transfers, or more cells, would help each of them.",
        "local filled the devices' own queues on every seed (1,000 requests dropped for "
        "device_queue_full in all): their on-board processors (an accelerator, or the CPU on "
        "a device without one) are saturated.",
        "nearest-edge saturated the GPUs of mec on every seed."]
    # devices out of coverage keep their work on board for want of a cell: said so
    for r in runs[:2]:
        r["summary"]["fleets"] = {"far": {"devices": 20, "out_of_coverage": 20}}
    notes = comparison_bottlenecks({"policies": ["local", "nearest-edge", "cloud"],
                                    "runs": runs})
    assert notes[1].endswith("are saturated or, for the 20 devices out of coverage, on board "
                             "for want of a cell.")
    # a full uplink on one seed only, and no saturated site: nothing to say
    runs[3]["summary"] = summary(0, 0.5, 0)
    runs[0]["summary"] = runs[1]["summary"] = summary(0, 0.0, 0)
    assert comparison_bottlenecks({"policies": ["local", "nearest-edge", "cloud"],
                                   "runs": runs}) == []


def test_a_few_full_cells_are_no_shared_bottleneck() -> None:
    """1 to 4 of 111 cells with a full uplink on every run, while nearest-edge saturates the
    L4s and deadline-aware does not: the uplink is no shared bottleneck (the claim would tell
    the reader the placements compare behind a full radio), those cells are named for what they
    are, and the GPU difference comes first."""
    from airan.report.compare import SHARED_CELLS, comparison_bottlenecks

    def summary(busy_ul: int, l4: float) -> dict[str, Any]:
        return {"cells": {"count": 111, "busy_threshold": 0.9, "cells_busy_ul": busy_ul,
                          "cells_busy_dl": 0},
                "sites": {"edge": {"gpu_utilization": l4}}, "requests": {}}

    runs = [{"policy": p, "seed": seed, "summary": summary(busy, l4)}
            for p, l4 in (("nearest-edge", 0.99), ("deadline-aware", 0.6))
            for seed, busy in ((1, 1), (2, 4))]
    data = {"policies": ["nearest-edge", "deadline-aware"], "runs": runs}
    notes = comparison_bottlenecks(data)
    assert not any("Shared bottleneck" in n or "common to" in n for n in notes)
    assert notes[0] == "nearest-edge saturated the GPUs of edge on every seed."
    assert len(notes) == 2
    assert "1 to 4 of 111 cells: their devices' uploads wait whatever the policy" in notes[1]
    assert "a bottleneck for them that no placement relieves" in notes[1]
    assert "no bottleneck the policies share across the network" in notes[1]
    # (it claims no difference between the policies: an operator's planner saw "differ for
    # other reasons" where their hit ratios were equal)
    assert notes[1].endswith("where their hit ratios differ, the cause lies elsewhere.")
    # the full cells named where the runs name them (a port's review read "no shared
    # bottleneck" as none, every crane-video miss coming from its two full cells)
    for r in runs:
        r["summary"]["cells"]["busiest_cell_ul"] = "mast-c1/2"
    named = comparison_bottlenecks(data)[1]
    assert "wait whatever the policy (the busiest: mast-c1/2), a bottleneck for them" in named
    # as many full cells as the rule asks for, on every run: the shared bottleneck again
    many = int(SHARED_CELLS * 111) + 1
    for r in runs:
        r["summary"]["cells"]["cells_busy_ul"] = many
    notes = comparison_bottlenecks(data)
    assert notes[0].startswith("Shared bottleneck: every run of every policy used more than "
                               f"90% of the uplink PRBs in {many} of 111 cells.")


def test_p99_counts_unanswered_requests_as_infinitely_late() -> None:
    """Of 120 requests 87 answered within 10 ms and 33 never answered (dropped, or in flight
    past the deadline at the end): the p99 is unbounded, not the answered ones' 10 ms, in the
    aggregate and in both tables; with 1 of 200 unanswered it is the answered ones' value."""
    from airan.report.compare import _fmt_ci, aggregate

    def service(answered: int, dropped: int, overdue: int) -> dict[str, Any]:
        bucket = 1 + math.floor(math.log(0.010 / 1e-6) / math.log(1.01))  # 10 ms
        return {"met": answered, "late": 0, "dropped": dropped, "overdue": overdue,
                "hit_ratio": answered / (answered + dropped),
                "latency_ms": {"p50": 10.0, "p99": 10.0},
                "latency_histogram": {"min_s": 1e-6, "gamma": 1.01,
                                      "counts": {str(bucket): answered}}}

    runs = [{"policy": p, "seed": seed, "summary": {"services": {"s": svc}}}
            for seed in (1, 2, 3)
            for p, svc in (("strands", service(87, 12, 21)), ("clean", service(199, 1, 0)))]
    agg = aggregate(runs, ["strands", "clean"], ["s"])
    p99 = agg["strands"]["s"]["p99_ms"]
    assert p99["mean"] is None and p99["unbounded"] == 3
    assert _fmt_ci(p99, "{:.1f}".format) == "unbounded (3 of 3 seeds)"
    assert agg["strands"]["s"]["p50_ms"]["mean"] == pytest.approx(10.0, rel=0.005)
    assert agg["clean"]["s"]["p99_ms"]["mean"] == pytest.approx(10.0, rel=0.005)
    assert agg["clean"]["s"]["p99_ms"]["unbounded"] == 0


def test_the_same_value_on_every_seed_is_no_zero_width_interval() -> None:
    """Every seed 100%: not "100.00% [100.00%, 100.00%]", a certainty the seeds do not give
    (a review), but the value and how many seeds gave it; a spread keeps its interval."""
    from airan.report.compare import _fmt_ci, mean_ci
    from airan.report.html import pct

    assert _fmt_ci(mean_ci([1.0, 1.0, 1.0], bounds=(0.0, 1.0)), pct) == "100.00% (on all 3 seeds)"
    spread = _fmt_ci(mean_ci([0.98, 1.0, 0.99], bounds=(0.0, 1.0)), pct, (0.0, 1.0))
    assert spread.startswith("99.00% [") and spread.endswith(", 100.00%]")


def test_percentiles_in_one_histogram_bucket_keep_the_histograms_resolution_as_interval(
        ) -> None:
    """Three seeds whose exact p50s are 415.16, 414.94 and 415.37 ms (a researcher's review)
    fall in one 1% log bucket and read alike: the interval is the histogram's +-0.5%, not
    zero, and the text says why; seeds further apart than that keep their t interval."""
    from airan.metrics.histogram import MAX_RELATIVE_ERROR, histogram, quantile
    from airan.report.compare import RESOLUTION, _fmt_ci, mean_ci

    read = [quantile(histogram([v * 1e-3]), 0.5) * 1e3 for v in (415.16, 414.94, 415.37)]
    assert read[0] == read[1] == read[2]
    st = mean_ci(read, bounds=(0.0, math.inf), resolution_rel=RESOLUTION["p50_ms"])
    assert st["half_width"] == pytest.approx(MAX_RELATIVE_ERROR * read[0])
    assert st["ci_low"] < 415.0 < st["ci_high"]
    assert _fmt_ci(st, "{:.1f}".format) == (f"{read[0]:.1f} (+-0.5% on all 3 seeds: the "
                                            "histogram's resolution)")
    wide = mean_ci([400.0, 415.0, 430.0], resolution_rel=RESOLUTION["p50_ms"])
    assert wide["half_width"] == pytest.approx(4.303 * 15.0 / math.sqrt(3), rel=1e-3)


def test_verdict_names_every_policy_tied_for_the_lead_and_their_p99() -> None:
    """Policies with the leader's hit ratio on every seed tie, whichever is listed first: the
    verdict names them all, the one of them with the lowest p99, and compares them with the
    next policy."""
    from airan.report.compare import aggregate, comparison_verdicts

    perfect = [(1000, 1000, 0)] * 3
    runs = _runs_with({"nearest": perfect, "least": perfect, "aware": perfect,
                       "cloud": [(900, 1000, 0), (910, 1000, 0), (905, 1000, 0)]})
    p99 = {"nearest": 18.6, "least": 39.4, "aware": 17.6, "cloud": 90.0}
    for r in runs:
        r["summary"]["services"]["s"]["latency_ms"] = {"p99": p99[r["policy"]]}
    names = ["nearest", "least", "aware", "cloud"]
    data = {"policies": names, "services": {"s": {}},
            "aggregate": aggregate(runs, names, ["s"])}
    verdict = comparison_verdicts(data)["s"]
    assert verdict.startswith("nearest, least and aware tie for the highest mean hit ratio "
                              "with overdue requests counted as missed (100.00%) on every seed"
                              ), verdict
    assert "aware has the lowest mean p99 (17.6 ms, against up to 39.4 ms)" in verdict
    assert "they are ahead of cloud by" in verdict
    # a policy that matches the leader only on the seeds where the leader has a value does
    # not tie with it
    gaps = _runs_with({"a": [(1000, 1000, 0)] * 3, "b": [(1000, 1000, 0), (500, 1000, 0),
                                                        (700, 1000, 0)]})
    gaps[1]["summary"]["services"]["s"] = {"hit_ratio": None, "hit_ratio_with_overdue": None,
                                           "latency_ms": {}}
    gaps[2]["summary"]["services"]["s"] = dict(gaps[1]["summary"]["services"]["s"])
    gap_data = {"policies": ["a", "b"], "services": {"s": {}},
                "aggregate": aggregate(gaps, ["a", "b"], ["s"])}
    gap_verdict = comparison_verdicts(gap_data)["s"]
    assert gap_verdict.startswith("a has the highest mean hit ratio"), gap_verdict
    # (a's mean is over the one seed it has a value on: the verdict says so)
    assert gap_verdict.endswith("Means over fewer than the 3 seeds where nothing of the service "
                                "ended on the others: a over 1."), gap_verdict
    # the same mean on different seeds is no lead for the policy listed first
    same = _runs_with({"b": [(1000, 1000, 0)] * 3, "a": [(1000, 1000, 0)] * 3})
    same[4]["summary"]["services"]["s"] = dict(gaps[1]["summary"]["services"]["s"])
    same_data = {"policies": ["a", "b"], "services": {"s": {}},
                 "aggregate": aggregate(same, ["a", "b"], ["s"])}
    assert comparison_verdicts(same_data)["s"].startswith(
        "a and b have the same mean hit ratio with overdue requests counted as missed "
        "(100.00%), not on the same seeds"), comparison_verdicts(same_data)["s"]
    # a lower p99 that the seeds do not bear out is said to be no significant difference
    noisy = _runs_with({"x": perfect, "y": perfect})
    for r, v in zip(noisy, [40.0, 80.0, 60.0, 41.0, 79.0, 61.5], strict=True):
        r["summary"]["services"]["s"]["latency_ms"] = {"p99": v}
    noisy_data = {"policies": ["x", "y"], "services": {"s": {}},
                  "aggregate": aggregate(noisy, ["x", "y"], ["s"])}
    assert "x has the lowest mean p99 (60.0 ms, against up to 60.5 ms, not significantly " \
        "lower than y)" in comparison_verdicts(noisy_data)["s"]
    # one leader alone: as before
    data["aggregate"] = aggregate([r for r in runs if r["policy"] in ("aware", "cloud")],
                                  ["aware", "cloud"], ["s"])
    data["policies"] = ["aware", "cloud"]
    assert comparison_verdicts(data)["s"].startswith(
        "aware has the highest mean hit ratio with overdue requests counted as missed "
        "(100.00%), ahead of cloud by 9.50 points")


def test_a_policy_the_scenario_cannot_serve_fails_before_any_run(tmp_path: Path) -> None:
    import yaml

    from airan.scenario import load_scenario

    d = load_scenario("factory").model_dump(mode="json")
    d["compute_sites"] = [c for c in d["compute_sites"] if c["kind"] != "cloud"]
    path = tmp_path / "no-cloud.yaml"
    path.write_text(yaml.safe_dump(d))
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", str(path), "--policies", "nearest-edge,cloud",
                                 "--seeds", "1", "--duration", "0.2", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "policy 'cloud' needs a cloud compute site" in result.output
    assert not (out / "runs").exists()  # nearest-edge did not run first


def test_a_log_scaled_p99_figure_labels_every_service_and_lays_out(tmp_path: Path) -> None:
    """p99s spanning more than 20x go on a log axis: a service within less than a decade (16 to
    40 ms) still gets labelled ticks (1-2-5 steps, plain numbers), and three columns of them
    lay out (mathtext labels like 2 x 10^1 collapsed them: matplotlib warned)."""
    import warnings

    from airan.report import figures as F

    def stat(v: float) -> dict[str, Any]:
        return {"n": 1, "mean": v, "ci_low": None, "ci_high": None, "values": [v]}

    agg = {p: {"detect": {"p99_ms": stat(a)}, "vla": {"p99_ms": stat(b)},
               "inspect": {"p99_ms": stat(c)}}
           for p, (a, b, c) in {"nearest-edge": (18.7, 488.8, 67.5),
                                "least-loaded": (39.0, 136.8, 73.8),
                                "deadline-aware": (16.8, 49.1, 67.5)}.items()}
    with F.style(), warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = F.compare_metric(agg, "p99_ms", ["detect", "vla", "inspect"],
                               ylabel="p99 latency (ms)",
                               reference={"detect": 50.0, "vla": 200.0, "inspect": 200.0},
                               reference_label="deadline", log=True)
        F.save(fig, tmp_path, "p99", "p99")
    detect = fig.axes[0]
    lo, hi = detect.get_ylim()
    shown = [t.get_text() for t in detect.get_yticklabels() if t.get_text()
             and lo <= float(t.get_text()) <= hi]
    assert len(shown) >= 2 and all("times" not in s for s in shown), shown


@pytest.mark.parametrize(("field", "value", "named"), [
    ("policies", "x", "field 'policies' should be a list of names"),
    ("aggregate", [1], "field 'aggregate' should be a mapping of every policy"),
    ("runs", "x", "field 'runs' should be a list of runs"),
    ("aggregate_fleets", {"nearest-edge": 1}, "field 'aggregate_fleets' should be a mapping"),
    # an entry without its figures (a review: KeyError 'hit_ratio' from airan report)
    ("aggregate_fleets", {"nearest-edge": {"a[b]": {}}, "deadline-aware": {}},
     "field 'aggregate_fleets' should be a mapping"),
    ("aggregate", {"nearest-edge": {"detect": {}}, "deadline-aware": {}},
     "field 'aggregate' should be a mapping of every policy"),
])
def test_a_comparison_with_a_field_of_the_wrong_type_is_one_error_line(
        comparison: tuple[Any, Path], tmp_path: Path, field: str, value: Any,
        named: str) -> None:
    _, out = comparison
    copy = tmp_path / "c"
    shutil.copytree(out, copy)
    data = json.loads((copy / "comparison.json").read_text())
    data[field] = value
    (copy / "comparison.json").write_text(json.dumps(data))
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 2 and named in result.stderr, result.output


def test_a_comparison_from_before_unanswered_counted_says_its_p99_is_answered_only(
        comparison: tuple[Any, Path], tmp_path: Path) -> None:
    _, out = comparison
    copy = tmp_path / "old"
    shutil.copytree(out, copy)
    data = json.loads((copy / "comparison.json").read_text())
    html = (copy / "report.html").read_text()
    assert "count the requests that got no answer" in html
    for per in data["aggregate"].values():  # as written before the field existed
        for svc in per.values():
            for metric in svc.values():
                if isinstance(metric, dict):
                    metric.pop("unbounded", None)
    (copy / "comparison.json").write_text(json.dumps(data))
    assert runner.invoke(app, ["report", str(copy)]).exit_code == 0
    html = (copy / "report.html").read_text()
    assert "over the answered requests only" in html
    assert "count the requests that got no answer" not in html


def test_a_tie_names_the_policies_whose_p99_is_unbounded() -> None:
    from airan.report.compare import comparison_verdicts

    stat = {"n": 3, "mean": 1.0, "values": [1.0, 1.0, 1.0], "ci_low": 1.0, "ci_high": 1.0}
    agg = {p: {"s": {"hit_ratio": stat, "hit_ratio_with_overdue": stat,
                     "p99_ms": {"mean": p99, "values": [p99] * 3, "unbounded": 0}
                     if p99 is not None else {"mean": None, "values": [None] * 3,
                                              "unbounded": 3}}}
           for p, p99 in (("a", 20.0), ("b", 30.0), ("c", None))}
    data = {"policies": ["a", "b", "c"], "services": {"s": {}}, "aggregate": agg}
    verdict = comparison_verdicts(data)["s"]
    assert "a has the lowest mean p99 (20.0 ms, against up to 30.0 ms; unbounded for c" \
        in verdict, verdict


def _tied_on_hit_ratio(p99: dict[str, list[float]]) -> dict[str, Any]:
    """A comparison of one service 's' whose policies (in the order given) all meet every
    deadline on every seed, with these p99 latencies per seed."""
    from airan.report.compare import mean_ci

    hit = mean_ci([1.0] * 3, bounds=(0.0, 1.0))
    agg = {p: {"s": {"hit_ratio": hit, "hit_ratio_with_overdue": hit,
                     "p99_ms": mean_ci(v, bounds=(0.0, math.inf))}}
           for p, v in p99.items()}
    return {"policies": list(p99), "services": {"s": {}}, "aggregate": agg}


def test_policies_with_the_same_lowest_p99_tie_for_it_whatever_the_order_listed() -> None:
    """A researcher's review: a policy deciding exactly as deadline-aware, listed first, was
    named as having "the lowest mean p99" though deadline-aware had the same on every seed."""
    from airan.report.compare import _and, comparison_verdicts

    low, high = [17.1, 16.9, 17.1], [39.4, 38.6, 38.3]
    for order in (["mine", "worst", "aware"], ["aware", "mine", "worst"]):
        data = _tied_on_hit_ratio({p: {"mine": low, "aware": low, "worst": high}[p]
                                   for p in order})
        verdict = comparison_verdicts(data)["s"]
        pair = _and([p for p in order if p != "worst"])
        assert (f"; of those, {pair} tie for the lowest mean p99 on every seed (17.0 ms, "
                "against up to 38.8 ms).") in verdict, verdict
        assert "has the lowest mean p99" not in verdict, verdict
    # the same mean on different seeds: said so, no policy named the lowest
    data = _tied_on_hit_ratio({"mine": low, "aware": [16.9, 17.1, 17.1], "worst": high})
    verdict = comparison_verdicts(data)["s"]
    assert ("of those, mine and aware have the same lowest mean p99, not on the same seeds "
            "(17.0 ms, against up to 38.8 ms") in verdict, verdict
    assert "has the lowest mean p99" not in verdict, verdict


def test_a_lowest_p99_not_significantly_below_the_runner_up_is_said_so() -> None:
    """The lowest p99 was tested against the worst policy's only: a close second, within the
    seeds' noise, never weakened the claim."""
    from airan.report.compare import comparison_verdicts, paired_difference

    low, close, high = [17.0, 18.0, 19.0], [17.5, 19.5, 18.2], [38.0, 39.0, 40.0]
    assert paired_difference(close, low, bounds=(-math.inf, math.inf))["ci_low"] < 0
    assert paired_difference(high, low, bounds=(-math.inf, math.inf))["ci_low"] > 0
    data = _tied_on_hit_ratio({"worst": high, "close": close, "low": low})
    verdict = comparison_verdicts(data)["s"]
    assert ("; of those, low has the lowest mean p99 (18.0 ms, against up to 39.0 ms, not "
            "significantly lower than close).") in verdict, verdict
    # a runner-up the seeds set apart: the claim stands as it was
    data = _tied_on_hit_ratio({"worst": high, "close": [18.0, 19.1, 19.9], "low": low})
    verdict = comparison_verdicts(data)["s"]
    assert "; of those, low has the lowest mean p99 (18.0 ms, against up to 39.0 ms)." \
        in verdict, verdict
    # a tie for the lowest is tested against the runner-up too
    data = _tied_on_hit_ratio({"a": low, "b": low, "close": close, "worst": high})
    verdict = comparison_verdicts(data)["s"]
    assert ("; of those, a and b tie for the lowest mean p99 on every seed (18.0 ms, against "
            "up to 39.0 ms, not significantly lower than close).") in verdict, verdict
    # one seed each: no interval, so not significantly lower than any of them
    data = _tied_on_hit_ratio({"low": [17.0], "close": [18.0], "worst": [39.0]})
    for p in data["aggregate"]:
        for m in ("hit_ratio", "hit_ratio_with_overdue"):
            data["aggregate"][p]["s"][m] = {"n": 1, "mean": 1.0, "values": [1.0],
                                            "ci_low": None, "ci_high": None}
    verdict = comparison_verdicts(data)["s"]
    assert ("low has the lowest mean p99 (17.0 ms, against up to 39.0 ms, not significantly "
            "lower than close and worst)") in verdict, verdict


def test_fleets_that_share_a_service_are_compared_each_on_its_own(tmp_path: Path) -> None:
    """City's perception sent by 20 vehicles on their CPU and 20 on a Jetson AGX Orin (the
    deadline between the two devices' times): run on board, the Orin fleet meets it and the
    CPU fleet misses every request, which the service's mean hides; the comparison gives each
    fleet's share its means over seeds (those of the runs' summaries), a table and a verdict
    line each, in comparison.json, on the terminal and in the report (a vehicle maker's
    question: do our Orin cars make it under each policy?)."""
    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    cpu = d["fleets"][0]
    cpu["count"] = 20
    d["fleets"] = [cpu, {**cpu, "name": "orin-cars", "accelerator": "JetsonOrin"}]
    path = tmp_path / "two-fleets.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", str(path), "--policies", "local,nearest-edge",
                                 "--seeds", "2", "--duration", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "comparison.json").read_text())
    svc = next(iter(data["services"]))
    orin, on_cpu = f"{svc}[orin-cars]", f"{svc}[{cpu['name']}]"
    agg = data["aggregate_fleets"]
    assert set(agg["local"]) == {orin, on_cpu}
    for p in ("local", "nearest-edge"):
        for fleet, key in ((cpu["name"], on_cpu), ("orin-cars", orin)):
            values = [r["summary"]["fleets"][fleet]["services"][svc]["hit_ratio"]
                      for r in data["runs"] if r["policy"] == p]
            assert agg[p][key]["hit_ratio"]["values"] == values
            assert agg[p][key]["hit_ratio"]["mean"] == pytest.approx(float(np.mean(values)))
    assert agg["local"][orin]["hit_ratio"]["mean"] == 1.0
    assert agg["local"][on_cpu]["hit_ratio"]["mean"] == 0.0
    whole = data["aggregate"]["local"][svc]["hit_ratio"]["mean"]
    assert 0.0 < whole < 1.0  # the service's mean: between its fleets' (many CPU ones unended)
    text = " ".join(result.stdout.split())
    assert "Fleets sharing a service" in text and "service[fleet]" in text
    assert f"{on_cpu}: nearest-edge has the highest mean" in text
    html = (out / "report.html").read_text()
    assert 'id="fleet-table"' in html and f'data-service="{orin}"' in html
    # a comparison.json written before the fleets' aggregate: the report takes it from the runs
    del data["aggregate_fleets"]
    (out / "comparison.json").write_text(json.dumps(data))
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert f'data-service="{orin}"' in (out / "report.html").read_text()
    # scaled to no Orin car (1 x 0.4 rounds to 0), the service is no longer shared: no fleet
    # table, no verdict (a review: a row of dashes and 'no policy completed a request')
    d["fleets"][1]["count"] = 1
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    result = runner.invoke(app, ["compare", str(path), "--policies", "local,nearest-edge",
                                 "--seeds", "1", "--duration", "0.2", "--fleet-scale", "0.4",
                                 "--out", str(tmp_path / "scaled")])
    assert result.exit_code == 0, result.output
    assert "Fleets sharing a service" not in result.stdout


def test_a_comparison_without_shared_services_has_no_fleet_table(
        comparison: tuple[Any, Path]) -> None:
    result, out = comparison
    data = json.loads((out / "comparison.json").read_text())
    assert data["aggregate_fleets"] == {p: {} for p in POLICIES}
    assert "Fleets sharing a service" not in result.stdout
    assert 'id="fleet-table"' not in (out / "report.html").read_text()
