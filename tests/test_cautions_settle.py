"""A run starts with empty queues: where a compute site's queue needs longer than the run to
reach its steady state, the cautions say so (a statistician's review: an M/D/1 GPU at 95% load
met 100% of its deadlines over 2 s and 68% over 60 s, and nothing warned). The settling time
is M/M/1's relaxation time, 1 / (mu (1 - sqrt(rho))^2) (Morse 1955)."""

from __future__ import annotations

import math
from typing import Any

import pytest

import airan
from airan.report.cautions import SETTLE_RUNS, cautions, offered_at, unsettled_sites
from airan.scenario import scenario_from_dict


def _summary(duration_s: float, rho: float, served: int) -> dict[str, Any]:
    return {"duration_s": duration_s,
            "sites": {"gpu": {"gpu_utilization": rho, "served": served, "mean_queue": 9.0}}}


def _one_gpu(count: int, **arrivals: Any) -> dict[str, Any]:
    """``count`` devices at 1 Hz (``arrivals``: the service's arrival fields) on one GPU
    serving one request at a time in 10 ms, 2 s: M/D/1 (Poisson) or its periodic twin."""
    return {"name": "md1", "radio": {"model": "ideal"}, "policy": "nearest-edge",
            "duration_s": 2.0,
            "cell_sites": [{"name": "c0", "position_m": [0, 0], "sectors": 1}],
            "compute_sites": [{"name": "gpu", "at": "c0", "kind": "edge",
                               "queue_limit": 100_000, "gpus": [{"type": "H100", "count": 1}],
                               "batching": {"max_batch": 1, "max_wait_ms": 0}}],
            "transport": {"hop_delay_us": 0},
            "fleets": [{"name": "bots", "count": count,
                        "area": {"center_m": [5, 0], "radius_m": 1}, "services": ["job"]}],
            "services": [{"name": "job", "model": "yolov8s", "rate_hz": 1.0,
                          "deadline_ms": 100, **arrivals,
                          "service_time": {"dist": "fixed", "mean_ms": 10}}]}


def test_the_relaxation_time_is_morses_at_the_sites_throughput() -> None:
    # 190 requests served in 0.95 x 2 s of busy time: mu = 100 per s
    [(name, rho, tau)] = unsettled_sites(_summary(2.0, 0.95, 190))
    assert (name, rho) == ("gpu", 0.95)
    assert tau == pytest.approx(1.0 / (100.0 * (1.0 - math.sqrt(0.95)) ** 2), rel=1e-12)
    assert tau == pytest.approx(15.6, abs=0.05)
    # long enough (five relaxation times): nothing to say; a site at half load: nothing
    long_s = SETTLE_RUNS * tau * 1.01
    assert unsettled_sites(_summary(long_s, 0.95, round(95 * long_s))) == []
    assert unsettled_sites(_summary(long_s / 1.02, 0.95, round(95 * long_s / 1.02)))
    assert unsettled_sites(_summary(2.0, 0.45, 90)) == []
    # at capacity there is no steady state to reach
    [(_, _, tau)] = unsettled_sites(_summary(600.0, 1.0, 60_000))
    assert tau == math.inf
    [text] = [c for c in cautions(_summary(600.0, 1.0, 60_000)) if c.startswith("Queues")]
    assert "at capacity, no steady state" in text


def test_a_short_run_of_a_busy_gpu_is_cautioned_and_a_long_one_is_not() -> None:
    d = _one_gpu(90, arrivals="poisson")
    short = airan.run(scenario_from_dict(d), seed=1).summary
    said = [c for c in cautions(short) if c.startswith("Queues with no time to settle")]
    assert len(said) == 1 and "gpu (" in said[0] and "Morse" in said[0]
    quiet = airan.run(scenario_from_dict({**d, "policy": "nearest-edge"}), seed=1,
                      duration_s=120.0).summary
    assert not unsettled_sites(quiet)  # 0.9 load: ~11 s to settle, 120 s is long enough


def test_the_settling_time_takes_the_load_the_devices_offer_where_the_run_saw_less() -> None:
    """A researcher's review: M/D/1 offered 0.95 (100 devices at 0.95 Hz, 10 ms) over 5 s
    served 438 requests, 0.876 of the GPU, and the caution said ~2.4 s where Morse's time at
    the offered load is 15.6 s. The offered load (each service's ``offered_per_s``, less what
    was dropped before reaching a site, shared out as its answered requests ran, over mu) is
    taken where it is more than the run's; a run that saw more keeps its own."""
    def summary(served: int, offered_per_s: float, count: int = 443,
                drops: dict[str, int] | None = None) -> dict[str, Any]:
        s = _summary(5.0, served * 0.01 / 5.0, served)
        s["services"] = {"job": {"offered_per_s": offered_per_s, "count": count,
                                 "dropped_by_reason": drops or {},
                                 "answered_at": {"gpu": served - 10, "local": 10}}}
        return s

    # 438 served in 4.38 s of busy time: mu 100 per s; offered 95 / s, 10 of 438 answered
    # locally
    [(_, rho, tau)] = unsettled_sites(summary(438, 95.0 * 438 / 428))
    assert rho == pytest.approx(0.95, rel=1e-12)
    assert tau == pytest.approx(1.0 / (100.0 * (1.0 - math.sqrt(0.95)) ** 2), rel=1e-12)
    [text] = [c for c in cautions(summary(438, 95.0 * 438 / 428)) if c.startswith("Queues")]
    assert "gpu (87.6% busy, 95.0% offered: settles in ~15.6 s or more)" in text
    # the run saw more than is offered: its own load
    [(_, rho, _)] = unsettled_sites(summary(438, 50.0, count=443))
    assert rho == pytest.approx(0.876)
    # half the requests dropped on the uplink never reach the site (a review: read as 160%)
    [(_, rho, _)] = unsettled_sites(summary(438, 2 * 95.0 * 438 / 428, count=960,
                                            drops={"buffer_full": 480}))
    assert rho == pytest.approx(0.95, rel=1e-12)
    # far fewer created than offered (devices silent outside their trace): the run's rate,
    # 443 in 5 s, 0.866 of mu at the site, so the run's own 0.876 (not 300 / s's 2.9)
    [(_, rho, _)] = unsettled_sites(summary(438, 300.0, count=443))
    assert rho == pytest.approx(0.876)
    assert offered_at(summary(438, 300.0, count=443), "gpu") == pytest.approx(
        443 / 5.0 * 428 / 438, rel=1e-12)
    # a summary without the offered rates: the run's load, as before
    plain = summary(438, 95.0)
    del plain["services"]["job"]["offered_per_s"]
    assert unsettled_sites(plain)[0][1] == pytest.approx(0.876)


def test_a_run_summary_says_what_each_service_offers() -> None:
    s = airan.run(scenario_from_dict({
        "name": "two", "radio": {"model": "ideal"}, "duration_s": 0.5,
        "cell_sites": [{"name": "c0", "position_m": [0, 0], "sectors": 1}],
        "compute_sites": [{"name": "gpu", "at": "c0", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "fleets": [{"name": "a", "count": 3, "area": {"center_m": [5, 0], "radius_m": 1},
                    "services": ["job", "big"]},
                   {"name": "b", "count": 2, "area": {"center_m": [5, 0], "radius_m": 1},
                    "services": ["job"]}],
        "services": [{"name": "job", "model": "yolov8s", "rate_hz": 4.0, "deadline_ms": 100},
                     {"name": "big", "model": "yolov8s", "rate_hz": 0.5, "deadline_ms": 100}]}),
        fleet_scale=2.0).summary
    assert s["services"]["job"]["offered_per_s"] == pytest.approx((6 + 4) * 4.0)
    assert s["services"]["big"]["offered_per_s"] == pytest.approx(6 * 0.5)


def test_a_service_with_few_requests_in_the_run_is_cautioned() -> None:
    """A researcher's review: `airan run factory --duration 2` counted 57 inspections and said
    nothing; the scenario's own check counts its own duration, not the run's."""
    s = {"duration_s": 2.0, "services": {"inspect": {"count": 57}, "detect": {"count": 8000},
                                          "idle": {"count": 0}}}
    [text] = [c for c in cautions(s) if c.startswith("Few requests")]
    assert text.startswith("Few requests in this 2 s run: inspect (57).")
    assert "detect" not in text and "idle" not in text
    s["services"]["inspect"]["count"] = 100
    assert not [c for c in cautions(s) if c.startswith("Few requests")]


def test_a_queue_of_periodic_devices_settles_within_their_period() -> None:
    """Periodic devices, their phases spread, bring the same work every period: 95 of them at
    1 Hz on a 10 ms GPU waited as long in 2 s as in 60 s (27-32 ms against 29-33), where 95
    Poisson ones waited 22-28 ms in 2 s and 57-73 ms in 60 s. So a site fed by periodic
    devices alone is not cautioned, and one fed by both settles over Morse's time scaled by
    its Poisson share of the requests (a heavy-traffic relaxation time goes as the variance of
    the work arriving; cautions.random_share)."""
    from airan.report.cautions import random_share

    def summary(poisson_answered: int, periodic_answered: int) -> dict[str, Any]:
        s = _summary(2.0, 0.95, 190)
        s["services"] = {"p": {"arrivals": "poisson", "answered_at": {"gpu": poisson_answered}},
                         "d": {"arrivals": "periodic",
                               "answered_at": {"gpu": periodic_answered, "local": 40}}}
        return s

    full = 1.0 / (100.0 * (1.0 - math.sqrt(0.95)) ** 2)
    assert unsettled_sites(summary(0, 190)) == []
    [(_, _, tau)] = unsettled_sites(summary(190, 0))
    assert tau == pytest.approx(full, rel=1e-12)
    [(_, _, tau)] = unsettled_sites(summary(19, 171))
    assert random_share(summary(19, 171), "gpu") == pytest.approx(0.1)
    assert tau == pytest.approx(0.1 * full, rel=1e-12)
    # a summary from before the arrivals were said: every request's counted as random
    old = summary(19, 171)
    for svc in old["services"].values():
        del svc["arrivals"]
    assert unsettled_sites(old)[0][2] == pytest.approx(full, rel=1e-12)
    # and a run of periodic devices says nothing of settling
    d = _one_gpu(95, arrivals="periodic", jitter_ms=0)
    short = airan.run(scenario_from_dict(d), seed=1).summary
    assert short["services"]["job"]["arrivals"] == "periodic"
    assert not unsettled_sites(short)
    assert not [c for c in cautions(short) if c.startswith("Queues with no time to settle")]
