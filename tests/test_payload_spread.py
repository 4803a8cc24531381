"""Uploads whose sizes vary (a service's ``ul_kb_spread``): the truncated distributions'
closed forms against scipy, the sizes a run draws against their distribution, an upload queue
of a fixed-rate link against M/G/1 (Pollaczek-Khinchine), reproducibility, and bad input."""

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


def _truncated(kind: int, cv: float, lo: float, hi: float) -> Any:
    """scipy's distribution of the sizes (ratios of ul_kb), truncated to ``lo`` .. ``hi``."""
    if kind == payload.NORMAL:
        return stats.truncnorm((lo - 1.0) / cv, (hi - 1.0) / cv, loc=1.0, scale=cv)
    s = math.sqrt(math.log1p(cv * cv))
    base = stats.lognorm(s, scale=math.exp(-0.5 * s * s))
    return base, base.cdf(lo), base.cdf(hi)


@pytest.mark.parametrize(("kind", "cv", "lo", "hi"), [
    (payload.NORMAL, 0.105, 0.5, 1.5),  # TR 38.838's XR frames
    (payload.NORMAL, 0.4, 0.5, 1.5),
    (payload.NORMAL, 0.3, 0.8, 2.5),  # asymmetric: the mean moves up
    (payload.LOGNORMAL, 1.0, 0.0, math.inf),
    (payload.LOGNORMAL, 1.0, 0.0, 3.0),
    (payload.LOGNORMAL, 0.5, 0.3, 2.0),
])
def test_truncated_mean_and_tail_shares_equal_scipys(kind: int, cv: float, lo: float,
                                                     hi: float) -> None:
    if kind == payload.NORMAL:
        d = _truncated(kind, cv, lo, hi)
        mean = d.mean()
        kept = stats.norm.cdf(hi, 1.0, cv) - stats.norm.cdf(lo, 1.0, cv)
        above = d.sf(1.2)
    else:
        base, c_lo, c_hi = _truncated(kind, cv, lo, hi)
        kept = c_hi - c_lo
        mean = base.expect(lambda x: x, lb=lo, ub=hi, conditional=True)
        above = (c_hi - base.cdf(1.2)) / kept
    assert payload.mean_ratio(kind, cv, lo, hi) == pytest.approx(mean, rel=1e-9)
    if kind == payload.NORMAL:
        sent_cv, p99 = d.std() / d.mean(), d.isf(0.01)
    else:
        second = base.expect(lambda x: x * x, lb=lo, ub=hi, conditional=True)
        sent_cv = math.sqrt(second - mean * mean) / mean
        p99 = base.isf(0.01 * kept + 1.0 - c_hi)  # (of the kept share, the top 1%)
    assert payload.cv_ratio(kind, cv, lo, hi) == pytest.approx(sent_cv, rel=1e-7)
    assert payload.exceeded_by(kind, cv, lo, hi, 0.01) == pytest.approx(min(p99, hi), rel=1e-7)
    assert payload.kept_share(kind, cv, lo, hi) == pytest.approx(kept, rel=1e-9)
    assert payload.share_above(kind, cv, lo, hi, 1.2) == pytest.approx(above, rel=1e-7)


def test_normal_spread_defaults_to_tr38838_xr_frames_and_keeps_its_mean() -> None:
    """TR 38.838 5.1.1: a frame's size within 50% .. 150% of the mean; symmetric bounds leave
    the mean at ul_kb."""
    from airan.scenario.schema import PayloadSpread

    spread = PayloadSpread(dist="normal", cv=0.105)
    assert spread.ratios() == (0.5, 1.5)
    assert spread.mean_ratio() == pytest.approx(1.0, abs=1e-12)
    assert PayloadSpread(dist="lognormal", cv=1.0).ratios() == (0.0, math.inf)


def _fixed_link(spread: dict[str, Any] | None, *, devices: int = 100, seconds: float = 20.0,
                seed: int = 3) -> Any:
    """One cell site, every device with a fixed-rate uplink of its own (80 Mbit/s) sending a
    Poisson stream of 20 kB uploads (2 ms each on the link) at 250 Hz: each link an M/G/1 queue
    at load 0.5 (M/D/1 with fixed sizes)."""
    d = one_cell_site()
    d["radio"].update(model="fixed", fixed_ul_rate_mbps=80.0)
    d["fleets"][0].update(count=devices, ul_buffer_kb=1e6)
    d["services"][0].update(arrivals="poisson", jitter_ms=0.0, rate_hz=250.0, ul_kb=20.0,
                            ul_kb_spread=spread, deadline_ms=1000.0)
    d["engine"].update(trace_limit=10**7)
    return run(scenario_from_dict(d), policy="nearest-edge", duration_s=seconds, seed=seed)


def test_fixed_link_upload_wait_is_mg1_with_the_sizes_second_moment() -> None:
    """Pollaczek-Khinchine: the mean wait lambda E[S^2] / (2 (1 - rho)); lognormal sizes of
    cv 1 double E[S^2] over fixed ones (1 + cv^2), and so the wait."""
    lam, mean_s = 250.0, 20e3 * 8 / 80e6
    rho = lam * mean_s
    for spread, second in ((None, 1.0), ({"dist": "lognormal", "cv": 1.0}, 2.0)):
        t = _fixed_link(spread).requests
        wait_s = t.column("ul_wait_ms").to_numpy() * 1e-3
        wait_s = wait_s[np.isfinite(wait_s)]
        assert len(wait_s) > 400_000
        pk_s = lam * second * mean_s**2 / (2.0 * (1.0 - rho))
        assert wait_s.mean() == pytest.approx(pk_s, rel=0.05), spread


def test_drawn_sizes_follow_their_truncated_distribution() -> None:
    """The run's sizes (its trace's ul_kb) against scipy's truncated distribution
    (Kolmogorov-Smirnov), each within its bounds, and the air time each one's own."""
    for spread in ({"dist": "normal", "cv": 0.105},
                   {"dist": "lognormal", "cv": 0.8, "min_ratio": 0.25, "max_ratio": 3.0}):
        r = _fixed_link(spread, devices=20, seconds=2.0)
        t = r.requests
        ratio = t.column("ul_kb").to_numpy() / 20.0
        kind = payload.KINDS[spread["dist"]]
        lo, hi = payload.bounds(kind, spread.get("min_ratio"), spread.get("max_ratio"))
        assert ratio.min() >= lo and ratio.max() <= hi
        if kind == payload.NORMAL:
            cdf = _truncated(kind, spread["cv"], lo, hi).cdf
        else:
            base, c_lo, c_hi = _truncated(kind, spread["cv"], lo, hi)
            cdf = lambda x, b=base, a=c_lo, k=c_hi - c_lo: (b.cdf(x) - a) / k  # noqa: E731
        assert len(ratio) > 9_000
        assert stats.kstest(ratio, cdf).pvalue > 1e-3
        # each upload's time on its 80 Mbit/s link is its own size's
        air_ms = t.column("ul_air_ms").to_numpy()
        done = np.isfinite(air_ms)
        np.testing.assert_allclose(air_ms[done], ratio[done] * 20e3 * 8 / 80e6 * 1e3,
                                   rtol=1e-9)


def test_sizes_repeat_with_the_seed_and_change_with_another() -> None:
    spread = {"dist": "lognormal", "cv": 0.5}
    a = _fixed_link(spread, devices=5, seconds=0.5, seed=11)
    b = _fixed_link(spread, devices=5, seconds=0.5, seed=11)
    c = _fixed_link(spread, devices=5, seconds=0.5, seed=12)
    def timeless(s: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in s.items() if "wall" not in k}

    assert timeless(a.summary) == timeless(b.summary)
    assert a.requests.column("ul_kb").equals(b.requests.column("ul_kb"))
    assert not a.requests.column("ul_kb").equals(c.requests.column("ul_kb"))


def test_fixed_sizes_give_the_trace_their_size_and_the_summary_no_sizes() -> None:
    r = _fixed_link(None, devices=2, seconds=0.2)
    assert set(r.requests.column("ul_kb").to_pylist()) == {20.0}
    assert "ul_kb" not in r.summary["services"]["perception"]


def test_a_larger_upload_takes_longer_on_the_nr_air() -> None:
    """Under the NR radio, lognormal sizes of cv 1 about 30 kB: the sizes' mean stays ul_kb,
    and the largest quarter of the uploads (~8x the smallest quarter's size) spends several
    times as long on the air, whatever device sent it (its link's rate, PF's share)."""
    d = one_cell_site()
    d["fleets"][0].update(count=30, area={"center_m": [0.0, 0.0], "radius_m": 300.0})
    d["services"][0].update(ul_kb=30.0, ul_kb_spread={"dist": "lognormal", "cv": 1.0})
    t = run(scenario_from_dict(d), policy="nearest-edge", duration_s=3.0, seed=2).requests
    air = t.column("ul_air_ms").to_numpy()
    kb = t.column("ul_kb").to_numpy()
    assert kb.mean() == pytest.approx(30.0, rel=0.1)
    sent = np.isfinite(air)
    air, kb = air[sent], kb[sent]
    small, large = np.percentile(kb, [25, 75])
    assert kb[kb >= large].mean() > 6 * kb[kb <= small].mean()
    assert air[kb >= large].mean() > 3 * air[kb <= small].mean()


@pytest.mark.parametrize(("spread", "field"), [
    ({"dist": "gamma", "cv": 0.3}, "ul_kb_spread.dist"),
    ({"dist": "normal", "cv": 0}, "ul_kb_spread.cv"),
    ({"dist": "normal", "cv": -0.1}, "ul_kb_spread.cv"),
    ({"dist": "normal", "cv": 0.01, "min_ratio": 1.1, "max_ratio": 1.2}, "ul_kb_spread"),
    ({"dist": "lognormal", "cv": 0.5, "min_ratio": 2.0, "max_ratio": 1.0}, "ul_kb_spread"),
])
def test_bad_spread_exits_2_naming_the_field(tmp_path: Any, spread: dict[str, Any],
                                            field: str) -> None:
    d = one_cell_site()
    d["services"][0]["ul_kb_spread"] = spread
    code, out = validate_dict(tmp_path, d)
    assert code == 2
    assert f"services[perception].{field}" in out or f"services.0.{field}" in out, out


def test_spread_of_nothing_exits_2(tmp_path: Any) -> None:
    d = one_cell_site()
    d["services"][0].update(ul_kb=0.0, ul_kb_spread={"dist": "normal", "cv": 0.1})
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and "ul_kb_spread" in out and "ul_kb" in out


def test_twin_vs_live_refuses_spread_sizes_the_live_run_does_not_send(tmp_path: Any) -> None:
    """A live run sends each upload at its mean size: compared with a twin that draws them,
    the two would run different workloads (refused before anything starts, as mobility is)."""
    from airan.errors import InputError
    from airan.live.compare import twin_vs_live

    d = one_cell_site()
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 0.105}
    with pytest.raises(InputError, match="mean size") as err:
        twin_vs_live(scenario_from_dict(d), tmp_path / "cmp", duration_s=1.0)
    assert err.value.field == "services[perception].ul_kb_spread"
    assert not (tmp_path / "cmp").exists()


def test_validate_echoes_the_spread_and_warns_of_uploads_over_the_buffer(tmp_path: Any) -> None:
    """`validate` says each service's upload size as drawn (its mean, a closed form) and,
    where a share of the uploads outgrows the fleet's uplink buffer, how much of them."""
    d = one_cell_site()
    d["fleets"][0]["ul_buffer_kb"] = 60.0
    d["services"][0].update(ul_kb=20.0, ul_kb_spread={"dist": "lognormal", "cv": 1.0,
                                                      "max_ratio": 4.0})
    code, out = validate_dict(tmp_path, d)
    assert code == 0, out
    sent = {"mean": payload.mean_ratio(payload.LOGNORMAL, 1.0, 0.0, 4.0) * 20.0,
            "cv": payload.cv_ratio(payload.LOGNORMAL, 1.0, 0.0, 4.0),
            "p99": payload.exceeded_by(payload.LOGNORMAL, 1.0, 0.0, 4.0, 0.01) * 20.0}
    assert (f"lognormal about 20 kB, cv 1, within 0-4 x: sent with a mean of "
            f"{_three(sent['mean'])} kB, cv {sent['cv']:.2g}, p99 {_three(sent['p99'])} kB") in out
    over = payload.share_above(payload.LOGNORMAL, 1.0, 0.0, 4.0, 3.0)
    assert 0.01 < over < 0.1
    assert f"{over:.3%} of service 'perception''s uploads" in out
    assert "fleets[vehicles].ul_buffer_kb" in out


def test_transport_carries_each_uploads_own_size() -> None:
    """Over a 20 Mbit/s backhaul, with the ideal radio, an upload that finds the link idle
    takes the propagation and the hop's delay plus its own size over the link's rate (0.4 ms
    per kB); one that queues, more. At a load of ~6% most find it idle."""
    d = lab_cameras({"center_m": [0.0, 0.0], "radius_m": 100.0}, ul_kb=40.0)
    d["radio"]["model"] = "ideal"
    d["transport"]["backhaul"]["capacity_gbps"] = 0.02
    d["services"][0].update(rate_hz=0.2, arrivals="poisson", deadline_ms=1000.0,
                            ul_kb_spread={"dist": "lognormal", "cv": 0.6, "max_ratio": 3.0})
    t = run(scenario_from_dict(d), duration_s=150.0, seed=4).requests
    kb = t.column("ul_kb").to_numpy()
    tr_ms = t.column("ul_transport_ms").to_numpy()
    sent = np.isfinite(tr_ms)
    assert sent.sum() > 500 and kb[sent].std() > 10.0
    fixed_ms = tr_ms[sent] - kb[sent] * 8e3 / 20e6 * 1e3  # less its own serialization
    assert fixed_ms.min() > 0.0
    assert np.mean(np.abs(fixed_ms - fixed_ms.min()) < 1e-6) > 0.8


def test_a_requests_size_is_the_same_whatever_the_policy_does_with_it() -> None:
    """The size hangs on the request's number and the seed, not on the order of events: the
    same requests kept on their devices or sent to the edge have the same sizes."""
    d = one_cell_site()
    d["fleets"][0]["count"] = 20
    d["services"][0]["ul_kb_spread"] = {"dist": "lognormal", "cv": 0.5}
    sc = scenario_from_dict(d)
    sizes = [dict(zip(r.column("request").to_pylist(), r.column("ul_kb").to_pylist(),
                      strict=True))
             for r in (run(sc, policy=p, duration_s=1.0, seed=6).requests
                       for p in ("local", "nearest-edge"))]
    common = sizes[0].keys() & sizes[1].keys()
    assert len(common) > 150
    assert all(sizes[0][k] == sizes[1][k] for k in common)


def test_a_5qis_burst_limit_is_checked_against_the_largest_uploads(tmp_path: Any) -> None:
    """5QI 90 carries bursts of 63,000 B: a 50 kB mean fits, its XR spread's largest frames
    do not (the size only 1 in 100,000 exceed, below the bound of 1.5 x: 1 + 4.26 sd), and
    validate says so."""
    d = one_cell_site()
    d["services"][0].update(ul_kb=50.0, five_qi=90)
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "maximum data burst volume" not in out, out
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 0.105}
    code, out = validate_dict(tmp_path, d)
    largest = payload.largest_ratio(payload.NORMAL, 0.105, 0.5, 1.5) * 50e3
    xr = _truncated(payload.NORMAL, 0.105, 0.5, 1.5)
    assert largest == pytest.approx(50e3 * xr.isf(1e-5), rel=1e-6)
    assert code == 0 and f"this service sends up to {largest:,.0f}" in out, out


def test_the_summary_says_which_sizes_went_late_or_were_dropped() -> None:
    """services.*.ul_kb: the sizes' distribution (closed forms) and the run's mean upload of the
    answered, late and dropped requests, equal to the trace's (every request traced here):
    the late ones larger than most, those dropped with a full buffer (75 kB) the largest."""
    d = one_cell_site()
    d["fleets"][0].update(count=15, area={"center_m": [0.0, 0.0], "radius_m": 300.0},
                          ul_buffer_kb=75.0)
    d["services"][0].update(ul_kb=30.0, deadline_ms=40.0,
                            ul_kb_spread={"dist": "lognormal", "cv": 0.8})
    r = run(scenario_from_dict(d), policy="nearest-edge", duration_s=3.0, seed=2)
    u = r.summary["services"]["perception"]["ul_kb"]
    sizes = {"mean": payload.mean_ratio, "cv": payload.cv_ratio}
    assert u["dist"] == "lognormal"
    assert u["mean"] == pytest.approx(30.0 * sizes["mean"](payload.LOGNORMAL, 0.8, 0, math.inf))
    assert u["cv"] == pytest.approx(0.8)
    assert u["p99"] == pytest.approx(30.0 * payload.exceeded_by(payload.LOGNORMAL, 0.8, 0.0,
                                                                math.inf, 0.01))
    t = r.requests
    kb = t.column("ul_kb").to_numpy()
    outcome = np.array(t.column("outcome").cast("string").to_pylist())
    assert len(kb) == r.summary["requests"]["created"]
    for key, rows in (("answered_mean", np.isin(outcome, ["met", "late"])),
                      ("met_mean", outcome == "met"), ("late_mean", outcome == "late"),
                      ("dropped_mean", np.char.startswith(outcome, "dropped"))):
        assert rows.sum() > 10, key
        assert u[key] == pytest.approx(kb[rows].mean(), rel=1e-9), key
    assert u["late_mean"] > 1.1 * u["answered_mean"]
    assert u["dropped_mean"] > 2.0 * u["answered_mean"]
    # how many answered uploads were above the mean, and how many of those went late
    answered = np.isin(outcome, ["met", "late"])
    above = kb > u["mean"]
    assert u["answered_above_mean"] == int((answered & above).sum()) > 0
    assert u["late_above_mean"] == int((above & (outcome == "late")).sum())
    assert u["late_share_above_mean"] == pytest.approx(
        u["late_above_mean"] / u["answered_above_mean"])
    assert u["late_share_other"] == pytest.approx(
        (int((outcome == "late").sum()) - u["late_above_mean"]) / int((answered & ~above).sum()))
    assert u["late_share_above_mean"] > 1.5 * u["late_share_other"]
    # and by quartile of the sizes sent: its edges scipy's quantiles, its counts the trace's
    base, _, _ = _truncated(payload.LOGNORMAL, 0.8, 0.0, math.inf)
    np.testing.assert_allclose(u["quartiles_kb"], 30.0 * base.ppf([0.25, 0.5, 0.75]),
                               rtol=1e-6)
    band = np.searchsorted(np.array(u["quartiles_kb"]), kb, side="left")  # (x > edge: above)
    assert u["answered_by_quartile"] == [int((answered & (band == q)).sum()) for q in range(4)]
    assert u["late_by_quartile"] == [int(((outcome == "late") & (band == q)).sum())
                                     for q in range(4)]
    shares = u["late_share_by_quartile"]
    assert shares[3] > shares[0] and shares[3] == pytest.approx(
        u["late_by_quartile"][3] / u["answered_by_quartile"][3])
    # the overdue ones (in flight past their deadline at the end) by quartile, counted as
    # missed beside the late in missed_share_by_quartile
    created = t.column("created_s").to_numpy()
    overdue = (outcome == "in_flight") & (3.0 - created > 0.040 + 1e-12)
    assert overdue.sum() == r.summary["services"]["perception"]["overdue"] > 0
    assert u["overdue_by_quartile"] == [int((overdue & (band == q)).sum()) for q in range(4)]
    assert u["missed_share_by_quartile"] == pytest.approx([
        (lt + o) / (a + o) for a, lt, o in zip(u["answered_by_quartile"], u["late_by_quartile"],
                                             u["overdue_by_quartile"], strict=True)])


def test_validate_warns_where_the_bounds_change_the_sizes_sent(tmp_path: Any) -> None:
    """ul_kb and cv are the distribution's before its bounds: where the bounds cut the spread
    (normal at cv 0.5 within 0.5 .. 1.5 sends a cv of 0.27) or move the mean, validate says
    so; a cv of 3 meant as 3% gets told cv is a ratio; TR 38.838's own figures pass quietly."""
    d = one_cell_site()
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 0.105}
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "change the uploads sent" not in out
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 0.5}
    code, out = validate_dict(tmp_path, d)
    sent_cv = payload.cv_ratio(payload.NORMAL, 0.5, 0.5, 1.5)
    assert code == 0 and f"a cv of {sent_cv:.3g} (cv 0.5 before them)" in out, out
    assert "services[perception].ul_kb_spread" in out and "cv is a ratio" not in out
    assert "is the mean before them" not in out  # (symmetric bounds: the mean stays)
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 3}
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "cv is a ratio, 0.03 for 3%" in out
    d["services"][0]["ul_kb_spread"] = {"dist": "lognormal", "cv": 0.5, "max_ratio": 1.5}
    moved = payload.mean_ratio(payload.LOGNORMAL, 0.5, 0.0, 1.5) * 15.0
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and f"a mean of {moved:.3g} kB (ul_kb 15 is the mean before them)" in out
    d["services"][0]["ul_kb_spread"] = {"dist": "normal", "cv": 0.6, "min_ratio": 0,
                                        "max_ratio": 100}
    code, out = validate_dict(tmp_path, d)
    assert code == 0 and "sizes cannot be negative" in out and "a lognormal keeps" in out


@pytest.mark.parametrize("cv", ["30%", 30, "30"])
def test_a_cv_given_as_a_percentage_exits_2_saying_it_is_a_ratio(tmp_path: Any,
                                                                 cv: Any) -> None:
    d = one_cell_site()
    d["services"][0]["ul_kb_spread"] = {"dist": "lognormal", "cv": cv}
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and "ul_kb_spread.cv" in out and "0.3 for 30%" in out, out


def test_a_run_prints_which_sizes_went_late(tmp_path: Any) -> None:
    """The terminal's line per spread service: the sizes sent and the mean upload of the
    answered and late requests (summary.json's services.*.ul_kb)."""
    import json

    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    d = one_cell_site()
    d["fleets"][0].update(count=40, area={"center_m": [0.0, 0.0], "radius_m": 300.0})
    d["services"][0].update(ul_kb=60.0, deadline_ms=60.0,
                            ul_kb_spread={"dist": "lognormal", "cv": 0.8})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["run", str(path), "--duration", "2", "--seed", "2",
                                   "--no-report", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    u = json.loads((tmp_path / "run" / "summary.json").read_text())["services"]["perception"][
        "ul_kb"]
    text = " ".join(res.output.split())
    assert (f"perception's uploads (lognormal sizes: mean {_three(u['mean'])} kB, cv 0.8, p99 "
            f"{_three(u['p99'])} kB, largest {_three(u['largest'])} kB): mean "
            f"{_three(u['met_mean'])} kB over its met, {_three(u['late_mean'])} kB "
            "over its late") in text
    assert (f"{u['late_share_above_mean']:.1%} of those answered above the mean went late, "
            f"{u['late_share_other']:.1%} of the others; by size quartile ("
            + ", ".join(_three(x) for x in u["quartiles_kb"]) + " kB): "
            + ", ".join(f"{x:.1%}" for x in u["missed_share_by_quartile"]) + " late or overdue"
            ) in text


def test_shards_merge_the_mean_uploads_weighted_by_their_requests() -> None:
    from airan.sweep.merge import merge_services

    def part(met: int, late: int, dropped: int, means: tuple[float, float, float]) -> dict:
        return {"count": met + late + dropped, "met": met, "late": late, "dropped": dropped,
                "in_flight": 0, "ul_kb": {"dist": "normal", "mean": 40.0, "cv": 0.1,
                                          "p99": 49.8, "largest": 57.9,
                                          "answered_mean": means[0], "late_mean": means[1],
                                          "dropped_mean": means[2]}}

    a = part(90, 10, 0, (40.0, 50.0, None))  # type: ignore[arg-type]
    b = part(270, 30, 20, (38.0, 46.0, 60.0))
    a["ul_kb"].update(answered_above_mean=40, late_above_mean=8,
                      answered_by_quartile=[25, 25, 25, 25], late_by_quartile=[0, 1, 2, 7],
                      overdue_by_quartile=[0, 0, 1, 3])
    b["ul_kb"].update(answered_above_mean=120, late_above_mean=20,
                      answered_by_quartile=[75, 75, 75, 75], late_by_quartile=[0, 3, 9, 18])
    u = merge_services([a, b])["ul_kb"]
    assert u["answered_by_quartile"] == [100] * 4 and u["late_by_quartile"] == [0, 4, 11, 25]
    assert u["late_share_by_quartile"] == pytest.approx([0.0, 0.04, 0.11, 0.25])
    # (a part from before the overdue were counted by quartile: none there)
    assert u["overdue_by_quartile"] == [0, 0, 1, 3]
    assert u["missed_share_by_quartile"] == pytest.approx([0.0, 0.04, 12 / 101, 28 / 103])
    assert (u["answered_above_mean"], u["late_above_mean"]) == (160, 28)
    assert u["late_share_above_mean"] == pytest.approx(28 / 160)
    assert u["late_share_other"] == pytest.approx((40 - 28) / (400 - 160))
    assert (u["dist"], u["mean"], u["p99"]) == ("normal", 40.0, 49.8)
    assert u["answered_mean"] == pytest.approx((100 * 40.0 + 300 * 38.0) / 400)
    assert u["late_mean"] == pytest.approx((10 * 50.0 + 30 * 46.0) / 40)
    assert u["dropped_mean"] == 60.0


def test_a_sweeps_row_and_the_reports_late_table_carry_the_sizes() -> None:
    """A sweep over ul_kb_spread shows the mean upload of the met and the late requests in its
    table, and the report's "Answered late" row beside the late ones' parts."""
    from airan.report.html import late_rows
    from airan.sweep.runner import headline

    d = one_cell_site()
    d["fleets"][0].update(count=15, area={"center_m": [0.0, 0.0], "radius_m": 300.0})
    d["services"][0].update(ul_kb=30.0, deadline_ms=40.0,
                            ul_kb_spread={"dist": "lognormal", "cv": 0.8})
    s = run(scenario_from_dict(d), policy="nearest-edge", duration_s=2.0, seed=2).summary
    u = s["services"]["perception"]["ul_kb"]
    row = headline(s)
    assert [row[f"perception.ul_kb_{k}"] for k in ("mean", "met_mean", "late_mean")] == [
        u["mean"], u["met_mean"], u["late_mean"]]
    (late,) = late_rows(s)
    assert late["parts"].endswith(f"; their mean upload {u['late_mean']:.3g} kB, the met "
                                  f"ones' {u['met_mean']:.3g} kB ("
                                  f"{u['late_share_above_mean']:.1%} of those answered above "
                                  f"the mean went late, {u['late_share_other']:.1%} of the "
                                  "others; by size quartile ("
                                  + ", ".join(_three(x) for x in u["quartiles_kb"]) + " kB): "
                                  + ", ".join(f"{x:.1%}" for x in u["missed_share_by_quartile"])
                                  + " late or overdue)")


@pytest.mark.parametrize(("spread", "way"), [
    ({"dist": "normal", "cv": 0.1, "min_ratio": 0.99, "max_ratio": 1.005}, "lower"),
    ({"dist": "lognormal", "cv": 0.5, "min_ratio": 2.0}, "raise"),
    ({"dist": "normal", "cv": 0.1, "max_ratio": 0.8}, "raise"),
])
def test_bounds_that_keep_too_little_say_which_way_cv_would_help(tmp_path: Any,
                                                                 spread: dict[str, Any],
                                                                 way: str) -> None:
    """Bounds about the mean keep more of a narrower distribution, bounds beside it of a
    wider one (a user's walk was told to lower a cv that had to rise); each check: the
    kept share at the other cv, by the closed form."""
    kind = payload.KINDS[spread["dist"]]
    lo, hi = payload.bounds(kind, spread.get("min_ratio"), spread.get("max_ratio"))
    other = spread["cv"] * (0.5 if way == "lower" else 2.0)
    assert payload.kept_share(kind, other, lo, hi) > payload.kept_share(kind, spread["cv"], lo,
                                                                        hi)
    d = one_cell_site()
    d["services"][0]["ul_kb_spread"] = spread
    code, out = validate_dict(tmp_path, d)
    assert code == 2 and f"or {way} cv" in out, out


def test_a_sweep_over_the_spread_fills_its_fixed_baselines_size_columns(tmp_path: Any) -> None:
    """A sweep over ul_kb_spread with a fixed-size baseline: the baseline's row has the size
    columns too, from its fixed size (every upload ul_kb: none above the mean), beside the
    spread row's from its summary (a user's walk found the baseline's null)."""
    import pyarrow.parquet as pq
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "name": "sizes", "scenario": "factory", "duration_s": 1.0,
        "axes": {"services[detect].ul_kb_spread": [None, {"dist": "lognormal", "cv": 0.5}]}}))
    res = CliRunner().invoke(app, ["sweep", str(path), "--workers", "1", "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    rows = pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    # the terminal's table of them: per row, late above the mean / of the others
    text = " ".join(res.output.split())
    assert "Uploads of varying size: late, of the answered uploads above the mean" in text
    for r in rows:
        above, other = (r[f"detect.ul_kb_late_share_{k}"] for k in ("above_mean", "other"))
        assert (f"{'-' if above is None else f'{above:.1%}'} / {other:.1%}") in text
    fixed, spread = rows
    answered = fixed["detect.met"] + fixed["detect.late"]
    assert fixed["detect.ul_kb_mean"] == fixed["detect.ul_kb_met_mean"] == 15.0
    assert fixed["detect.ul_kb_late_share_above_mean"] is None
    assert fixed["detect.ul_kb_late_share_other"] == pytest.approx(
        fixed["detect.late"] / answered)
    assert spread["detect.ul_kb_mean"] == pytest.approx(15.0)
    assert spread["detect.ul_kb_met_mean"] is not None
    assert "vla.ul_kb_mean" not in spread  # (no run spreads its sizes: no such columns)
    # the sweep's report: the late shares by quartile of the sizes sent beside each point's
    # hit ratio (a walk found no size in it), from the spread run's summary
    import json

    html = (tmp_path / "out" / "report.html").read_text()
    assert "late or overdue, by quartile of the sizes sent (smallest first)" in html
    (sub,) = [p for p in (tmp_path / "out").rglob("summary.json")
              if json.loads(p.read_text())["services"]["detect"].get("ul_kb")]
    u = json.loads(sub.read_text())["services"]["detect"]["ul_kb"]
    assert ("uploads (quartiles at " + ", ".join(f"{x:.3g}" for x in u["quartiles_kb"])
            + " kB): " + " / ".join("-" if x is None else f"{x:.1%}"
                                    for x in u["missed_share_by_quartile"])) in html
