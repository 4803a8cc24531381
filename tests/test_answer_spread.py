"""Answers whose sizes vary (a service's ``dl_kb_spread``: rendered frames sent down, a point
cloud, a plan of varying length): a fixed-rate downlink's queue against M/G/1
(Pollaczek-Khinchine), the sizes drawn against their distribution and from a stream apart
from the uploads', each answer's own size on the links, what a run says of the late ones,
and bad input. The machinery is the uploads' (tests/test_payload_spread.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from one_cell import lab_cameras, one_cell_site, validate_dict
from scipy import stats

from airan import run
from airan.cli import _three_figures as _three  # (sizes as the terminal prints them)
from airan.scenario import payload, scenario_from_dict


def _fixed_downlink(spread: dict[str, Any] | None, *, devices: int = 100,
                    seconds: float = 10.0, seed: int = 3,
                    ul_spread: dict[str, Any] | None = None) -> Any:
    """One cell site, every device with a fixed-rate downlink of its own (80 Mbit/s) getting
    answers of 20 kB (2 ms each on the link) to a Poisson stream at 250 Hz: each link an
    M/G/1 queue at load 0.5 (M/D/1 with fixed sizes). The rest takes next to no time and no
    queue (10 B uploads, 1 us of compute), so the answers reach each device's link as the
    requests were made: Poisson."""
    d = one_cell_site()
    d["radio"].update(model="fixed", fixed_dl_rate_mbps=80.0)
    d["fleets"][0].update(count=devices)
    d["services"][0].update(arrivals="poisson", jitter_ms=0.0, rate_hz=250.0, ul_kb=0.01,
                            ul_kb_spread=ul_spread, dl_kb=20.0, dl_kb_spread=spread,
                            deadline_ms=1000.0,
                            service_time={"dist": "fixed", "mean_ms": 0.001})
    d["engine"].update(trace_limit=10**7)
    return run(scenario_from_dict(d), policy="nearest-edge", duration_s=seconds, seed=seed)


def test_fixed_link_answer_wait_is_mg1_with_the_sizes_second_moment() -> None:
    """Pollaczek-Khinchine: the mean wait lambda E[S^2] / (2 (1 - rho)); lognormal sizes of
    cv 1 double E[S^2] over fixed ones (1 + cv^2), and so the wait. The wait is an answer's
    time on its device's link less its own transmission."""
    lam, mean_s = 250.0, 20e3 * 8 / 80e6
    rho = lam * mean_s
    for spread, second in ((None, 1.0), ({"dist": "lognormal", "cv": 1.0}, 2.0)):
        t = _fixed_downlink(spread).requests
        air_s = t.column("dl_air_ms").to_numpy() * 1e-3
        sent = np.isfinite(air_s)
        wait_s = air_s[sent] - t.column("dl_kb").to_numpy()[sent] * 8e3 / 80e6
        assert len(wait_s) > 200_000 and wait_s.min() > -1e-9
        pk_s = lam * second * mean_s**2 / (2.0 * (1.0 - rho))
        assert wait_s.mean() == pytest.approx(pk_s, rel=0.05), spread


def test_answer_sizes_follow_their_distribution_apart_from_the_uploads() -> None:
    """The run's answer sizes (its trace's dl_kb) against scipy's truncated normal
    (Kolmogorov-Smirnov), within their bounds; drawn from a stream of their own: uncorrelated
    with the same requests' upload sizes, which stay what they were without an answer spread."""
    spread = {"dist": "normal", "cv": 0.3, "min_ratio": 0.4, "max_ratio": 2.0}
    ul = {"dist": "lognormal", "cv": 0.5}
    t = _fixed_downlink(spread, devices=20, seconds=2.0, ul_spread=ul).requests
    ratio = t.column("dl_kb").to_numpy() / 20.0
    assert len(ratio) > 9_000 and ratio.min() >= 0.4 and ratio.max() <= 2.0
    cdf = stats.truncnorm((0.4 - 1.0) / 0.3, (2.0 - 1.0) / 0.3, loc=1.0, scale=0.3).cdf
    assert stats.kstest(ratio, cdf).pvalue > 1e-3
    assert abs(np.corrcoef(ratio, t.column("ul_kb").to_numpy())[0, 1]) < 0.05
    alone = _fixed_downlink(None, devices=20, seconds=2.0, ul_spread=ul).requests
    assert alone.column("ul_kb").equals(t.column("ul_kb"))
    assert set(alone.column("dl_kb").to_pylist()) == {20.0}


def test_transport_carries_each_answers_own_size() -> None:
    """Over a 20 Mbit/s backhaul, with the ideal radio, an answer that finds the link idle
    takes the propagation and the hop's delay plus its own size over the link's rate (0.4 ms
    per kB); one that queues, more. At a load of ~6% most find it idle."""
    d = lab_cameras({"center_m": [0.0, 0.0], "radius_m": 100.0}, ul_kb=0.1)
    d["radio"]["model"] = "ideal"
    d["transport"]["backhaul"]["capacity_gbps"] = 0.02
    d["services"][0].update(rate_hz=0.2, arrivals="poisson", deadline_ms=1000.0, dl_kb=40.0,
                            dl_kb_spread={"dist": "lognormal", "cv": 0.6, "max_ratio": 3.0})
    t = run(scenario_from_dict(d), duration_s=150.0, seed=4).requests
    kb = t.column("dl_kb").to_numpy()
    tr_ms = t.column("dl_transport_ms").to_numpy()
    sent = np.isfinite(tr_ms)
    assert sent.sum() > 500 and kb[sent].std() > 10.0
    fixed_ms = tr_ms[sent] - kb[sent] * 8e3 / 20e6 * 1e3  # less its own serialization
    assert fixed_ms.min() > 0.0
    assert np.mean(np.abs(fixed_ms - fixed_ms.min()) < 1e-6) > 0.8


SPLIT_MEAN = payload.mean_ratio(payload.LOGNORMAL, 0.8, 0.0, 4.0)  # ~0.97 (the bound)


def _split_rendering() -> dict[str, Any]:
    """40 devices in one cell getting ~300 kB answers (lognormal, cv 0.8, within 4 x) at
    10 Hz against 40 ms: ~930 Mbit/s offered at the mean, the downlink the bottleneck."""
    d = one_cell_site()
    d["fleets"][0].update(count=40, area={"center_m": [0.0, 0.0], "radius_m": 300.0})
    d["services"][0].update(ul_kb=5.0, dl_kb=300.0, deadline_ms=40.0,
                            dl_kb_spread={"dist": "lognormal", "cv": 0.8, "max_ratio": 4.0})
    return d


def test_the_summary_says_which_answer_sizes_went_late() -> None:
    """services.*.dl_kb: the sizes' distribution (closed forms) and the run's mean answer of
    the answered, met and late requests, equal to the trace's (every request traced here);
    the large answers several times likelier to go late than the others on the NR downlink."""
    r = run(scenario_from_dict(_split_rendering()), policy="nearest-edge", duration_s=3.0,
            seed=2)
    u = r.summary["services"]["perception"]["dl_kb"]
    assert "ul_kb" not in r.summary["services"]["perception"]  # (fixed uploads: none)
    assert u["dist"] == "lognormal" and SPLIT_MEAN < 0.98
    assert u["mean"] == pytest.approx(300.0 * SPLIT_MEAN)
    assert u["cv"] == pytest.approx(payload.cv_ratio(payload.LOGNORMAL, 0.8, 0.0, 4.0))
    assert u["p99"] == pytest.approx(300.0 * payload.exceeded_by(payload.LOGNORMAL, 0.8, 0.0,
                                                                 4.0, 0.01))
    assert u["largest"] == pytest.approx(
        300.0 * payload.largest_ratio(payload.LOGNORMAL, 0.8, 0.0, 4.0))
    assert "dropped_mean" not in u  # (an answer lost on the way may not have been made)
    t = r.requests
    kb = t.column("dl_kb").to_numpy()
    outcome = np.array(t.column("outcome").cast("string").to_pylist())
    assert len(kb) == r.summary["requests"]["created"]
    for key, rows in (("answered_mean", np.isin(outcome, ["met", "late"])),
                      ("met_mean", outcome == "met"), ("late_mean", outcome == "late")):
        assert rows.sum() > 30, key
        assert u[key] == pytest.approx(kb[rows].mean(), rel=1e-9), key
    answered = np.isin(outcome, ["met", "late"])
    assert (u["sent"], u["late_sent"]) == (answered.sum(), (outcome == "late").sum())
    above = kb > u["mean"]
    assert u["answered_above_mean"] == int((answered & above).sum()) > 0
    assert u["late_above_mean"] == int((above & (outcome == "late")).sum())
    assert u["late_share_other"] == pytest.approx(
        (int((outcome == "late").sum()) - u["late_above_mean"]) / int((answered & ~above).sum()))
    assert u["late_mean"] > 1.5 * u["answered_mean"]
    assert u["late_share_above_mean"] > 3.0 * u["late_share_other"]
    # by quartile: the edges scipy's quantiles of the truncated lognormal, the counts the
    # trace's, the misses in the top quartile
    s = math.sqrt(math.log1p(0.8**2))
    base = stats.lognorm(s, scale=math.exp(-0.5 * s * s))
    edges = 300.0 * base.ppf(np.array([0.25, 0.5, 0.75]) * base.cdf(4.0))
    np.testing.assert_allclose(u["quartiles_kb"], edges, rtol=1e-6)
    band = np.searchsorted(edges, kb)
    assert u["answered_by_quartile"] == [int((answered & (band == q)).sum()) for q in range(4)]
    assert u["late_by_quartile"] == [int(((outcome == "late") & (band == q)).sum())
                                     for q in range(4)]
    assert u["late_share_by_quartile"][3] > 3.0 * u["late_share_by_quartile"][1]
    # the overdue answers bound for a site, by quartile (none made on the devices here)
    created = t.column("created_s").to_numpy()
    overdue = (outcome == "in_flight") & (3.0 - created > 0.040 + 1e-12)
    assert u["overdue_by_quartile"] == [int((overdue & (band == q)).sum()) for q in range(4)]
    assert sum(u["overdue_by_quartile"]) == r.summary["services"]["perception"]["overdue"]


def test_a_run_prints_which_answer_sizes_went_late(tmp_path: Any) -> None:
    """The terminal's line per service whose answers vary, beside the uploads' line."""
    import json

    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_split_rendering()))
    res = CliRunner().invoke(app, ["run", str(path), "--duration", "2", "--seed", "2",
                                   "--no-report", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    u = json.loads((tmp_path / "run" / "summary.json").read_text())["services"]["perception"][
        "dl_kb"]
    text = " ".join(res.output.split())
    assert (f"perception's answers (lognormal sizes: mean {_three(u['mean'])} kB, cv "
            f"{_three(u['cv'])}, p99 {_three(u['p99'])} kB, largest {_three(u['largest'])} kB): "
            "mean "
            f"{_three(u['met_mean'])} kB over its met, {_three(u['late_mean'])} kB "
            f"over its late; {u['late_share_above_mean']:.1%} of those sent above the mean "
            f"went late, {u['late_share_other']:.1%} of the others") in text
    assert "(summary.json services.*.dl_kb;" in text
    assert "perception's uploads" not in text


def test_answers_made_on_the_devices_are_not_counted_among_those_sent(tmp_path: Any) -> None:
    """An answer made on its device crossed no link: its size cannot make it late. Under the
    local policy none is sent down, and the run says so, not that none was answered (a
    walk read "no request answered or dropped yet" beside 720 drops)."""
    import json

    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    d = _split_rendering()
    d["fleets"][0].update(count=5, accelerator="JetsonOrin")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["run", str(path), "--policy", "local", "--duration", "1",
                                   "--no-report", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    s = json.loads((tmp_path / "run" / "summary.json").read_text())["services"]["perception"]
    u = s["dl_kb"]
    local = s["answered_at"]["local"]
    assert local == s["met"] + s["late"] > 0
    assert (u["sent"], u["late_sent"], u["answered_above_mean"]) == (0, 0, 0)
    assert u["answered_by_quartile"] == [0] * 4 and u["late_share_by_quartile"] == [None] * 4
    assert u["answered_mean"] is None and u["late_share_above_mean"] is None
    text = " ".join(res.output.split())
    assert (f"no answer sent down from a site ({s['dropped']:,} dropped, whose answers' sizes "
            f"are not kept); {local:,} answered on the devices, not counted") in text


def test_a_sweeps_row_and_the_reports_late_table_carry_the_answer_sizes() -> None:
    from airan.report.html import late_rows
    from airan.sweep.runner import headline

    s = run(scenario_from_dict(_split_rendering()), policy="nearest-edge", duration_s=2.0,
            seed=2).summary
    u = s["services"]["perception"]["dl_kb"]
    row = headline(s)
    assert [row[f"perception.dl_kb_{k}"] for k in (
        "mean", "met_mean", "late_mean", "late_share_above_mean", "late_share_other")] == [
        u["mean"], u["met_mean"], u["late_mean"], u["late_share_above_mean"],
        u["late_share_other"]]
    assert row["perception.dl_kb_late_share_top_quartile"] == u["late_share_by_quartile"][3]
    assert "perception.ul_kb_mean" not in row and "perception.dl_kb_dropped_mean" not in row
    (late,) = late_rows(s)
    assert late["parts"].endswith(f"; their mean answer {u['late_mean']:.3g} kB, the met "
                                  f"ones' {u['met_mean']:.3g} kB ("
                                  f"{u['late_share_above_mean']:.1%} of those sent above the "
                                  f"mean went late, {u['late_share_other']:.1%} of the "
                                  "others; by size quartile ("
                                  + ", ".join(_three(x) for x in u["quartiles_kb"]) + " kB): "
                                  + ", ".join(f"{x:.1%}" for x in u["missed_share_by_quartile"])
                                  + " late or overdue)")


def test_a_sweeps_terminal_table_gives_the_answers_late_shares() -> None:
    import pyarrow as pa

    from airan.cli import out
    from airan.sweep.cli import _print_size_table

    rows = [{"status": "ok", "render.dl_kb_late_share_above_mean": a,
             "render.dl_kb_late_share_other": b, "render.dl_kb_late_share_top_quartile": c}
            for a, b, c in ((0.2, 0.05, 0.3), (0.4, 0.05, 0.5))]
    table = pa.Table.from_pylist(rows)
    with out.capture() as cap:
        _print_size_table(table, {("lognormal",): rows}, ["spread"], ["render"], 10)
    text = " ".join(cap.get().split())
    assert "Answers of varying size: late, of the answers sent down above the mean" in text
    assert "30.0% / 5.0% / 40.0%" in text and "Uploads" not in text


def test_a_sweeps_fixed_baseline_gets_answer_size_columns_from_its_fixed_size() -> None:
    from airan.sweep.runner import _fixed_sizes

    row: dict[str, Any] = {}
    summary = {"services": {"render": {"met": 30, "late": 10, "dropped": 5}}}
    _fixed_sizes(row, {"services": [{"name": "render", "dl_kb": 250.0}]},
                 {("render", "dl_kb")}, summary)
    assert row == {"render.dl_kb_mean": 250.0, "render.dl_kb_met_mean": 250.0,
                   "render.dl_kb_late_mean": 250.0, "render.dl_kb_late_share_above_mean": None,
                   "render.dl_kb_late_share_other": 0.25,
                   "render.dl_kb_late_share_top_quartile": None}


def test_shards_merge_the_mean_answers_weighted_by_their_requests() -> None:
    from airan.sweep.merge import merge_services

    def part(met: int, late: int, local: int, means: tuple[float, float], above: int,
             late_above: int) -> dict[str, Any]:
        """A shard whose ``local`` answered requests (met ones) were made on the devices."""
        return {"count": met + late, "met": met, "late": late, "dropped": 0, "in_flight": 0,
                "dl_kb": {"dist": "normal", "mean": 200.0, "cv": 0.1, "p99": 249.0,
                          "largest": 289.0, "sent": met + late - local, "late_sent": late,
                          "answered_mean": means[0], "late_mean": means[1],
                          "answered_above_mean": above, "late_above_mean": late_above}}

    # (the means over the answers sent: 100 and 300 of them, 10 and 30 late)
    u = merge_services([part(150, 10, 60, (200.0, 230.0), 40, 8),
                        part(270, 30, 0, (190.0, 220.0), 120, 20)])["dl_kb"]
    assert "ul_kb" not in u and "dropped_mean" not in u
    assert (u["dist"], u["mean"], u["p99"]) == ("normal", 200.0, 249.0)
    assert (u["sent"], u["late_sent"]) == (400, 40)
    assert u["answered_mean"] == pytest.approx((100 * 200.0 + 300 * 190.0) / 400)
    assert u["late_mean"] == pytest.approx((10 * 230.0 + 30 * 220.0) / 40)
    assert u["late_share_above_mean"] == pytest.approx(28 / 160)
    assert u["late_share_other"] == pytest.approx((40 - 28) / (400 - 160))


@pytest.mark.parametrize(("dist", "cv", "lo", "hi"), [
    ("normal", 0.105, None, None), ("normal", 0.3, 0.8, 2.5), ("lognormal", 1.0, 0.3, 2.0)])
def test_size_quartiles_are_scipys_quantiles_of_the_truncated_distribution(
        dist: str, cv: float, lo: float | None, hi: float | None) -> None:
    from airan.scenario.schema import PayloadSpread

    spread = PayloadSpread(dist=dist, cv=cv, min_ratio=lo, max_ratio=hi)
    a, b = spread.ratios()
    if dist == "normal":
        quantile = stats.truncnorm((a - 1.0) / cv, (b - 1.0) / cv, loc=1.0, scale=cv).ppf
    else:
        s = math.sqrt(math.log1p(cv * cv))
        base = stats.lognorm(s, scale=math.exp(-0.5 * s * s))
        c_lo, c_hi = base.cdf(a), base.cdf(b)
        quantile = lambda q: base.ppf(c_lo + q * (c_hi - c_lo))  # noqa: E731
    np.testing.assert_allclose(spread.quartiles(), quantile(np.array([0.25, 0.5, 0.75])),
                               rtol=1e-7)


def test_shards_without_the_size_counts_merge_to_none_of_them() -> None:
    """A shard written before airan counted sizes by band (or above the mean): the merge
    drops those counts rather than keep the first shard's as the whole run's."""
    from airan.sweep.merge import merge_services

    new = {"count": 100, "met": 90, "late": 10, "dropped": 0, "in_flight": 0,
           "dl_kb": {"dist": "normal", "mean": 200.0, "sent": 100, "late_sent": 10,
                     "answered_mean": 200.0, "late_mean": 230.0, "answered_above_mean": 40,
                     "late_above_mean": 8, "late_share_above_mean": 0.2,
                     "late_share_other": 0.033, "answered_by_quartile": [25] * 4,
                     "late_by_quartile": [0, 1, 2, 7],
                     "late_share_by_quartile": [0.0, 0.04, 0.08, 0.28]}}
    old = {**new, "dl_kb": {k: v for k, v in new["dl_kb"].items()
                            if "quartile" not in k and "above" not in k and "other" not in k}}
    for parts in ([new, old], [old, new]):
        u = merge_services(parts)["dl_kb"]
        assert not {"answered_by_quartile", "late_share_by_quartile", "late_share_above_mean",
                    "answered_above_mean"} & set(u), u
        assert u["answered_mean"] == 200.0


def test_validate_echoes_the_answer_spread_and_warns_where_bounds_change_it(
        tmp_path: Any) -> None:
    d = one_cell_site()
    d["services"][0].update(dl_kb=100.0, dl_kb_spread={"dist": "normal", "cv": 0.105})
    code, out = validate_dict(tmp_path, d)
    assert code == 0, out
    sent = payload.exceeded_by(payload.NORMAL, 0.105, 0.5, 1.5, 0.01) * 100.0
    assert (f"Mbit/s (normal about 100 kB, cv 0.105, within 0.5-1.5 x: sent with a mean of "
            f"100 kB, cv 0.105, p99 {_three(sent)} kB)") in out
    assert "change the answers sent" not in out
    d["services"][0]["dl_kb_spread"] = {"dist": "lognormal", "cv": 0.5, "max_ratio": 1.5}
    moved = payload.mean_ratio(payload.LOGNORMAL, 0.5, 0.0, 1.5) * 100.0
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "change the answers sent" in out, out
    assert f"a mean of {moved:.3g} kB (dl_kb 100 is the mean before them)" in out
    assert "services[perception].dl_kb_spread" in out


@pytest.mark.parametrize(("spread", "field"), [
    ({"dist": "pareto", "cv": 0.3}, "dl_kb_spread.dist"),
    ({"dist": "normal", "cv": "30%"}, "dl_kb_spread.cv"),
    ({"dist": "normal", "cv": 0.01, "min_ratio": 1.1, "max_ratio": 1.2}, "dl_kb_spread"),
])
def test_bad_answer_spread_exits_2_naming_the_field(tmp_path: Any, spread: dict[str, Any],
                                                   field: str) -> None:
    d = one_cell_site()
    d["services"][0]["dl_kb_spread"] = spread
    code, out = validate_dict(tmp_path, d)
    assert code == 2
    assert f"services[perception].{field}" in out or f"services.0.{field}" in out, out
    assert "ul_kb" not in out  # (the messages name the size given, not the uploads')


def test_an_answer_spread_of_nothing_exits_2(tmp_path: Any) -> None:
    d = one_cell_site()
    d["services"][0].update(dl_kb=0.0, dl_kb_spread={"dist": "normal", "cv": 0.1})
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and "dl_kb_spread spreads the answers' sizes about dl_kb" in out, out


def test_a_lognormal_cv_of_10_asks_whether_it_meant_10_percent(tmp_path: Any) -> None:
    """cv 10 passes the limit of 10 (a ratio may be that wide) but sends sizes from under a
    tenth of the mean to ~15 x it at the 99th percentile: validate asks (a user's walk sent
    16 MB frames that way without a word); a normal of cv 10, whose default bounds keep too
    little, is told first that cv is a ratio."""
    d = one_cell_site()
    d["services"][0].update(dl_kb=150.0, dl_kb_spread={"dist": "lognormal", "cv": 10})
    code, out = validate_dict(tmp_path, d)
    p99 = payload.exceeded_by(payload.LOGNORMAL, 10.0, 0.0, math.inf, 0.01)
    assert 10 < p99 < 20
    assert code == 0 and f"the answers sent reach {p99:.3g} x their mean" in out, out
    assert "cv is a ratio, 0.1 for 10%" in out and "services[perception].dl_kb_spread.cv" in out
    d["services"][0]["dl_kb_spread"] = {"dist": "lognormal", "cv": 2}
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "cv is a ratio" not in out
    d["services"][0]["dl_kb_spread"] = {"dist": "normal", "cv": 10}
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and "cv is a ratio, 0.1 for 10%; or widen min_ratio" in out, out


def test_a_5qis_burst_limit_is_checked_against_the_largest_answers(tmp_path: Any) -> None:
    """5QI 90 carries bursts of 63,000 B: a 50 kB answer fits, its XR spread's largest do not
    (TR 38.838's frames: the size only 1 in 100,000 exceed, below the bound of 1.5 x)."""
    d = one_cell_site()
    d["services"][0].update(ul_kb=5.0, dl_kb=50.0, five_qi=90)
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "maximum data burst volume" not in out, out
    d["services"][0]["dl_kb_spread"] = {"dist": "normal", "cv": 0.105}
    code, out = validate_dict(tmp_path, d)
    largest = payload.largest_ratio(payload.NORMAL, 0.105, 0.5, 1.5) * 50e3
    assert code == 0 and f"this service sends up to {largest:,.0f}" in out, out
    # the larger direction's own: fixed uploads larger than any answer are sent as they are
    d["services"][0].update(ul_kb=100.0, dl_kb=1.0)
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "this service sends 100,000:" in out, out


def test_a_live_run_warns_that_it_answers_at_the_mean_size() -> None:
    from airan.live.cli import _warn, err

    d = one_cell_site()
    d["services"][0].update(dl_kb=100.0, dl_kb_spread={"dist": "lognormal", "cv": 1.0,
                                                       "max_ratio": 2.0})
    sc = scenario_from_dict(d)
    with err.capture() as cap:
        _warn(sc, "s.yaml", None, None)
    text = " ".join(cap.get().split())
    assert ("field 'services[perception].dl_kb_spread': a live run sends every answer at its "
            f"mean size ({sc.services[0].dl_mean_kb:.3g} kB)") in text
    assert "ul_kb_spread" not in text


def test_twin_vs_live_refuses_answer_sizes_the_live_run_does_not_send(tmp_path: Any) -> None:
    from airan.errors import InputError
    from airan.live.compare import twin_vs_live

    d = one_cell_site()
    d["services"][0]["dl_kb_spread"] = {"dist": "normal", "cv": 0.105}
    with pytest.raises(InputError, match="every answer at its mean size") as err:
        twin_vs_live(scenario_from_dict(d), tmp_path / "cmp", duration_s=1.0)
    assert err.value.field == "services[perception].dl_kb_spread"
    assert not (tmp_path / "cmp").exists()


def test_the_offered_downlink_and_the_policies_read_the_mean_answer_sent() -> None:
    """Bounds that move the mean (a lognormal of cv 1 cut at 1.5 x) move what the world's
    answer size, the policies' estimate, reads: the truncated mean, not dl_kb."""
    from airan.engine.world import build_world

    d = one_cell_site()
    d["services"][0].update(dl_kb=100.0, dl_kb_spread={"dist": "lognormal", "cv": 1.0,
                                                       "max_ratio": 1.5})
    sc = scenario_from_dict(d)
    mean = payload.mean_ratio(payload.LOGNORMAL, 1.0, 0.0, 1.5)
    assert mean < 0.8
    assert sc.services[0].dl_mean_kb == pytest.approx(100.0 * mean)
    assert build_world(sc, 1).svc_dl_bits[0] == pytest.approx(100.0 * mean * 8e3)
