"""The share of devices satisfied (TR 38.838's capacity criterion): each device's own deadline
hit ratio against its service's target, beside the service's pooled hit ratio.

A pooled 90% can be every device at 90% or one device in ten at 0%: the figures must tell
them apart, count a device's overdue requests as misses as ``hit_ratio_with_overdue`` does,
and agree with a count made device by device from the request trace.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pytest
from one_cell import lab_cameras

from airan.engine import Engine
from airan.metrics.satisfaction import (
    device_satisfaction,
    devices_satisfied,
    merge_satisfied,
    satisfied_text,
)
from airan.scenario import scenario_from_dict

DURATION_S = 3.0
DEADLINE_S = 0.05  # lab_cameras' detect


def _near_and_far(far_x_m: float = 600.0) -> Any:
    """Nine cameras 50-150 m from the cell, two power-limited ones ~600 m out."""
    d = lab_cameras({"x_m": [50.0, 150.0], "y_m": [-50.0, 50.0]}, ul_kb=40.0)
    d["fleets"][0]["count"] = 9
    d["fleets"].append({**d["fleets"][0], "name": "far", "count": 2,
                        "area": {"x_m": [far_x_m, far_x_m + 50.0], "y_m": [-25.0, 25.0]}})
    return scenario_from_dict(d)


def _from_trace(result: Any) -> dict[int, tuple[int, int]]:
    """Per device, its requests ended (met, late, dropped, or in flight past the deadline at
    the end) and met, counted row by row from the complete trace."""
    t = result.requests
    end_s = result.summary["duration_s"]
    out: dict[int, Counter[str]] = defaultdict(Counter)
    for dev, outcome, created in zip(t.column("device").to_pylist(),
                                     t.column("outcome").to_pylist(),
                                     t.column("created_s").to_pylist(), strict=True):
        if outcome == "in_flight":
            if end_s - created > DEADLINE_S + 1e-12:
                out[dev]["ended"] += 1
            continue
        out[dev]["ended"] += 1
        out[dev]["met"] += outcome == "met"
    return {d: (c["ended"], c["met"]) for d, c in out.items()}


@pytest.fixture(scope="module")
def near_and_far() -> Any:
    return Engine(_near_and_far(), policy="nearest-edge", duration_s=DURATION_S, seed=1).run()


def test_each_devices_own_hit_ratio_matches_a_count_from_the_trace(near_and_far: Any) -> None:
    s = near_and_far.summary
    assert s["trace"]["complete"]
    per_device = _from_trace(near_and_far)
    ratios = np.array([met / ended for ended, met in per_device.values() if ended])
    fig = s["services"]["detect"]["devices_satisfied"]
    assert fig["devices"] == len(ratios) == 11
    assert fig["satisfied"] == int((ratios >= 0.99).sum())
    assert fig["share"] == pytest.approx(fig["satisfied"] / 11)
    assert fig["hit_ratio_min"] == pytest.approx(ratios.min())
    assert fig["hit_ratio_p5"] == pytest.approx(np.quantile(ratios, 0.05, method="lower"))
    assert fig["requests_per_device"] == pytest.approx(
        np.mean([ended for ended, _ in per_device.values()]))


def test_the_power_limited_devices_are_unsatisfied_while_the_near_ones_are(
        near_and_far: Any) -> None:
    fleets = near_and_far.summary["fleets"]
    assert fleets["cams"]["devices_satisfied"] == {"devices": 9, "satisfied": 9, "share": 1.0}
    assert fleets["far"]["devices_satisfied"] == {"devices": 2, "satisfied": 0, "share": 0.0}
    svc = near_and_far.summary["services"]["detect"]
    # the pooled ratio over ended requests hides them (their requests mostly still queued)
    assert svc["hit_ratio"] > svc["devices_satisfied"]["share"] == pytest.approx(9 / 11)


def test_a_device_meets_the_target_at_exactly_its_ratio_and_not_below() -> None:
    fig = device_satisfaction(np.array([100, 100, 100, 0]), np.array([99, 98, 100, 0]), 0.99)
    assert (fig["devices"], fig["satisfied"], fig["without_requests"]) == (3, 2, 1)
    assert fig["hit_ratio_min"] == 0.98
    assert fig["requests_per_device"] == 100.0


def test_a_device_is_satisfied_only_when_each_of_its_services_meets_its_own_target() -> None:
    ended = np.array([[100, 10], [100, 10], [100, 0], [0, 0]])
    met = np.array([[99, 9], [100, 10], [95, 0], [0, 0]])
    # targets 0.99 and 0.9: device 0 meets both, 1 both, 2 misses the first (the second has
    # no request, so it does not count), 3 ended nothing (not evaluated)
    assert devices_satisfied(ended, met, np.array([0.99, 0.9])) == {
        "devices": 3, "satisfied": 2, "share": pytest.approx(2 / 3)}


def test_shards_figures_merge_by_adding_their_devices() -> None:
    a = device_satisfaction(np.array([10, 10]), np.array([10, 5]), 0.99)
    b = device_satisfaction(np.array([20, 20, 20]), np.array([20, 20, 19]), 0.99)
    whole = device_satisfaction(np.array([10, 10, 20, 20, 20]), np.array([10, 5, 20, 20, 19]),
                                0.99)
    merged = merge_satisfied([a, None, b])
    assert merged is not None
    for k in ("devices", "satisfied", "share", "hit_ratio_min", "requests_per_device",
              "without_requests"):
        assert merged[k] == pytest.approx(whole[k]), k
    assert merged["hit_ratio_p5"] <= whole["hit_ratio_p5"]  # a bound, said in the docstring
    assert merge_satisfied([None]) is None


def test_warm_up_requests_count_in_no_devices_figure() -> None:
    sc = _near_and_far()
    result = Engine(sc, policy="nearest-edge", duration_s=DURATION_S, seed=1,
                    warmup_s=1.0).run()
    s = result.summary["services"]["detect"]
    fig = s["devices_satisfied"]
    ended = s["met"] + s["late"] + s["dropped"] + s["overdue"]
    assert fig["requests_per_device"] * fig["devices"] == pytest.approx(ended)


def test_the_line_names_the_counts_the_worst_devices_and_the_requests_each() -> None:
    fig = device_satisfaction(np.array([40] * 20), np.array([40] * 19 + [30]), 0.99)
    assert satisfied_text("detect", fig) == (
        "detect 19 of 20 (95.0%; the worst 5% at 0.750, ~40 requests each)")
    assert satisfied_text("vla", device_satisfaction(np.zeros(3), np.zeros(3), 0.99)) == (
        "vla none ended a request")


def test_a_target_on_the_share_of_devices_satisfied_parses_as_a_lower_bound() -> None:
    from airan.errors import InputError
    from airan.planner.targets import parse_targets

    (t,) = parse_targets(["detect: satisfied>=90%"], ["detect"])
    assert (t.metric, t.op, t.value, t.is_ratio, t.text) == (
        "satisfied", ">=", 0.9, True, "detect: satisfied>=0.9")
    assert t.met(0.9) and not t.met(0.89) and not t.met(None)
    assert t.shortfall(0.8) == pytest.approx(1.0)  # the missing share over the allowed one
    for bad in ("detect: satisfied<=0.9", "detect: satisfied>=90", "detect: satisfied>=0.9ms"):
        with pytest.raises(InputError, match="satisfied"):
            parse_targets([bad], ["detect"])


def test_the_planner_reads_the_share_satisfied_and_flags_too_few_requests_per_device(
        near_and_far: Any) -> None:
    from types import SimpleNamespace

    from airan.planner.evaluate import _metrics
    from airan.planner.search import few_samples
    from airan.planner.targets import parse_targets

    m = _metrics(near_and_far.summary)["services"]["detect"]
    fig = near_and_far.summary["services"]["detect"]["devices_satisfied"]
    assert m["satisfied"] == fig["share"] == pytest.approx(9 / 11)
    assert m["requests_per_device"] == fig["requests_per_device"]
    assert m["device_target"] == 0.99
    targets = parse_targets(["detect: satisfied>=0.9"], ["detect"])
    # ~30 requests per device: under the 100 in which a device at 0.99 may miss one
    (what, _), = few_samples(SimpleNamespace(services={"detect": m}), targets, n_seeds=1)
    assert what.startswith("detect devices satisfied: ~30 requests per device per run, under "
                           "the 100 in which")
    enough = SimpleNamespace(services={"detect": {**m, "requests_per_device": 100.0}})
    assert few_samples(enough, targets, n_seeds=1) == []


def test_a_run_of_misses_longer_than_a_devices_requests_is_flagged_as_one_none_can_miss(
        ) -> None:
    """A VLA at 0.5 Hz in a 2 s plan run sends ~1 request per device: "consecutive<=2" cannot
    be missed by a run of 3 that no device sends; at 3 per device it can (and is not flagged);
    the note's duration is the one in which each device sends the run that misses it."""
    from types import SimpleNamespace

    from airan.planner.search import few_samples, few_samples_note
    from airan.planner.targets import parse_targets

    targets = parse_targets(["vla: consecutive<=2"], ["vla"])
    e = SimpleNamespace(services={"vla": {"count": 50, "requests_per_device": 1.0}})
    (what, beyond), = few_samples(e, targets, n_seeds=1)
    assert what == ("vla misses in a row: ~1.0 requests per device per run, fewer than the 3 "
                    "in a row that miss consecutive<=2: a device that sends its mean cannot "
                    "miss it")
    note = few_samples_note([(what, beyond)], 2.0)
    assert "with --duration 6 or more" in note  # 3 requests per device at 0.5 Hz
    assert note.endswith("and a run that misses within each device's requests")
    three = SimpleNamespace(services={"vla": {"count": 150, "requests_per_device": 3.0}})
    assert few_samples(three, targets, n_seeds=1) == []
    strict = parse_targets(["vla: consecutive<1"], ["vla"])  # a run of 1 misses it
    assert few_samples(e, strict, n_seeds=1) == []


def test_max_fleet_on_the_share_satisfied_finds_what_one_gpu_carries() -> None:
    """One GPU serving 10 ms jobs, devices at 1 Hz (tests/test_max_fleet.py): past ~100
    devices its queue grows and every device's requests go late, so the share satisfied
    falls with the hit ratio."""
    from test_max_fleet import _one_gpu

    from airan.planner.fleet import largest_fleet
    from airan.planner.targets import parse_targets

    res = largest_fleet(_one_gpu(), "bots", parse_targets(["job: satisfied>=0.9"], ["job"]),
                        duration_s=2.0, seeds=[1], confirm=False)
    assert 95 <= res.largest <= 104, [(t.count, t.met) for t in res.tries]
    met = [t for t in res.tries if t.met]
    assert met and all(t.values["job: satisfied>=0.9"] >= 0.9 for t in met)


def test_the_terminal_and_report_say_each_services_devices_satisfied(tmp_path: Any) -> None:
    import html
    import json

    from typer.testing import CliRunner

    from airan.cli import app

    res = CliRunner().invoke(app, ["run", "factory", "--policy", "nearest-edge", "--duration",
                                   "1", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    said = [satisfied_text(n, v["devices_satisfied"]) for n, v in s["services"].items()]
    text = " ".join(res.output.split())
    assert "devices satisfied (each device's own hit ratio" in text
    assert all(x in text for x in said)
    # 1 s at 5 Hz: the VLA's 5 requests per device cannot tell 0.99 from 1
    assert "vla" in text.split("fewer than 1 / (1 - target) requests per device")[0].rsplit(
        ";", 1)[-1]
    report = html.unescape((tmp_path / "r" / "report.html").read_text())
    assert "; ".join(said) in " ".join(report.split())


def _longest_runs_from_trace(result: Any, service: str) -> list[int]:
    """Per device of ``service``, its longest run of requests not met in a row, in the order
    they ended (created_s + latency), overdue ones last, counted row by row from the trace."""
    t = result.requests
    end_s = result.summary["duration_s"]
    deadline_s = result.summary["services"][service]["deadline_ms"] * 1e-3
    rows = defaultdict(list)
    for svc, dev, outcome, created, lat in zip(
            t.column("service").to_pylist(), t.column("device").to_pylist(),
            t.column("outcome").to_pylist(), t.column("created_s").to_pylist(),
            t.column("latency_ms").to_pylist(), strict=True):
        if svc != service:
            continue
        if outcome == "in_flight":
            if end_s - created > deadline_s + 1e-12:
                rows[dev].append((math.inf, False))
            continue
        rows[dev].append((created + lat * 1e-3, outcome == "met"))
    longest = []
    for seq in rows.values():
        run = best = 0
        for _, met in sorted(seq, key=lambda x: x[0]):
            run = 0 if met else run + 1
            best = max(best, run)
        longest.append(best)
    return longest


def test_misses_in_a_row_match_a_count_from_the_trace(near_and_far: Any) -> None:
    from airan.metrics.satisfaction import misses_in_a_row

    fig = near_and_far.summary["services"]["detect"]["devices_satisfied"]["misses_in_a_row"]
    assert fig == misses_in_a_row(np.array(_longest_runs_from_trace(near_and_far, "detect")))
    assert fig["devices_by_longest"]["0"] == 9 and fig["longest"] >= 20  # the far ones: all


def test_a_site_down_for_half_a_second_misses_five_periods_in_a_row() -> None:
    """Three devices at 10 Hz, periodic, on one GPU and nowhere else: a site_down from 1.0 to
    1.5 s (noticed at once) drops the 5 requests each creates in it (site_failure), and at
    most the one it held (10 ms of service): 5 or 6 in a row, none before or after."""
    from test_max_fleet import _one_gpu

    d = _one_gpu(3).model_dump(mode="json", exclude_unset=True)
    d["services"][0]["rate_hz"] = 10.0
    d["faults"] = [{"kind": "site_down", "site": "gpu", "start_s": 1.0, "end_s": 1.5,
                    "detect_ms": 0}]
    result = Engine(scenario_from_dict(d), duration_s=3.0, seed=2).run()
    fig = result.summary["services"]["job"]["devices_satisfied"]["misses_in_a_row"]
    runs = _longest_runs_from_trace(result, "job")
    assert len(runs) == 3 and all(5 <= r <= 6 for r in runs), runs
    assert fig["longest"] == max(runs)
    assert sum(fig["devices_by_longest"].get(k, 0) for k in ("5+",)) == 3
    s = result.summary["services"]["job"]
    assert s["dropped"] == sum(runs)  # every miss is one of the runs


def test_the_misses_in_a_row_line_names_the_worst_first() -> None:
    from airan.metrics.satisfaction import misses_in_a_row, misses_in_a_row_text

    fig = misses_in_a_row(np.array([0] * 43 + [1] * 4 + [2, 2, 3, 9]))
    assert fig["longest"] == 9
    assert fig["devices_by_longest"] == {"0": 43, "1": 4, "2": 2, "3": 1, "4": 0, "5+": 1}
    assert misses_in_a_row_text("control", fig) == (
        "control longest 9 (1 device 5+, 1 device 3, 2 devices 2, 4 devices 1, 43 none)")
    every = misses_in_a_row(np.array([2, 3]))  # (no "0 none": a diff review)
    assert misses_in_a_row_text("vla", every) == "vla longest 3 (1 device 3, 1 device 2)"


def test_the_terminal_and_report_say_the_longest_runs_of_misses(tmp_path: Any) -> None:
    import html
    import json

    from typer.testing import CliRunner

    from airan.cli import app
    from airan.metrics.satisfaction import misses_in_a_row_text

    # the factory's VLA on its on-prem L40S under nearest-edge: most of its requests late
    res = CliRunner().invoke(app, ["run", "factory", "--policy", "nearest-edge", "--duration",
                                   "2", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    runs = {n: v["devices_satisfied"]["misses_in_a_row"] for n, v in s["services"].items()}
    assert runs["vla"]["longest"] >= 2
    said = "; ".join(misses_in_a_row_text(n, r) for n, r in runs.items() if r["longest"])
    assert said in " ".join(res.output.split())
    report = html.unescape((tmp_path / "r" / "report.html").read_text())
    assert said in " ".join(report.split())


def test_a_target_on_misses_in_a_row_parses_as_a_whole_number_bound() -> None:
    from airan.errors import InputError
    from airan.planner.targets import parse_targets

    (t,) = parse_targets(["control: consecutive<=2"], ["control"])
    assert (t.metric, t.op, t.value, t.is_ratio, t.is_latency, t.text) == (
        "consecutive", "<=", 2.0, False, False, "control: consecutive<=2")
    assert t.met(2) and not t.met(3) and not t.met(None)
    assert t.shortfall(4) == pytest.approx(1.0)
    (zero,) = parse_targets(["control: consecutive<=0"], ["control"])
    assert zero.met(0) and zero.shortfall(2) == pytest.approx(2.0)
    for bad in ("control: consecutive<=2.5", "control: consecutive<=2ms",
                "control: consecutive>=2", "control: consecutive<0"):
        with pytest.raises(InputError, match="consecutive"):
            parse_targets([bad], ["control"])


def test_max_fleet_on_misses_in_a_row_keeps_within_the_survival_time() -> None:
    """Devices at 10 Hz on one GPU of 10 ms jobs (it carries 10), whose site is down from 1.0
    to 1.5 s: every device misses the 5 or 6 requests of the outage in a row, at any count.
    A survival time of 4 periods (consecutive<=4) no count meets; of 6, the counts the GPU
    carries do, up to its 10 devices."""
    from test_max_fleet import _one_gpu

    from airan.planner.fleet import largest_fleet
    from airan.planner.targets import parse_targets

    d = _one_gpu(3).model_dump(mode="json", exclude_unset=True)
    d["services"][0]["rate_hz"] = 10.0
    d["faults"] = [{"kind": "site_down", "site": "gpu", "start_s": 1.0, "end_s": 1.5,
                    "detect_ms": 0}]
    sc = scenario_from_dict(d)

    def largest(bound: int) -> Any:
        return largest_fleet(sc, "bots", parse_targets([f"job: consecutive<={bound}; "
                                                        "job: hit>=0"], ["job"]),
                             duration_s=3.0, seeds=[1], confirm=False)

    assert largest(4).largest == 0
    six = largest(6)
    assert 5 <= six.largest <= 10, [(t.count, t.values) for t in six.tries]
    assert all(t.values["job: consecutive<=6"] <= 6 for t in six.tries if t.met)


def test_a_sweeps_results_give_each_services_share_satisfied_and_longest_run(
        near_and_far: Any) -> None:
    """A sweep over a fleet's count reads TR 38.838's capacity (the count where the share of
    devices satisfied falls below 0.9) from its results, one row per run."""
    import pyarrow as pa

    from airan.sweep.runner import column_type, headline

    row = headline(near_and_far.summary)
    fig = near_and_far.summary["services"]["detect"]["devices_satisfied"]
    assert row["detect.devices_satisfied"] == fig["share"] == pytest.approx(9 / 11)
    assert row["detect.misses_in_a_row"] == fig["misses_in_a_row"]["longest"] >= 20
    assert column_type("detect.devices_satisfied") == pa.float64()
    assert column_type("detect.misses_in_a_row") == pa.int64()
