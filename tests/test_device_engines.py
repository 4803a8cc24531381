"""A device's own engines (a fleet's ``engines``): services that run beside the accelerator's
main one, each a FIFO of its own (a drone maker's review: a VLA kept on board, 548 ms, held up
that drone's obstacle detection, which a real drone runs on a DLA).

* on an engine of its own, a detector waits for no VLA: each detection takes its compute time,
  as by hand; on one engine it waits behind the VLA as a FIFO says;
* deadline-aware reads the backlog of the engine that would run the request;
* the energy counts every engine's busy time at the accelerator's active power;
* a service an engine lists must be the fleet's, and on one engine only (exit 2 naming it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from airan.cli import app
from airan.engine import Engine
from airan.scenario import scenario_from_dict


def _drone(engines: dict[str, list[str]] | None, policy: str = "local") -> dict[str, Any]:
    """One drone with a Jetson Orin: detection every 50 ms taking 10 ms on board, a VLA step
    every 1 s taking 500 ms on board; an edge GPU 20 ms away."""
    fleet: dict[str, Any] = {"name": "drone", "count": 1, "accelerator": "JetsonOrin",
                             "area": {"center_m": [5, 0], "radius_m": 1},
                             "services": ["detect", "vla"]}
    if engines is not None:
        fleet["engines"] = engines
    return {
        "name": "drone", "radio": {"model": "ideal"}, "policy": policy, "duration_s": 10.0,
        "cell_sites": [{"name": "c0", "position_m": [0, 0], "sectors": 1}],
        "nodes": [{"name": "far", "position_m": [0, 0]}],
        "compute_sites": [{"name": "edge", "at": "far", "kind": "edge",
                           "gpus": [{"type": "H100", "count": 1}]}],
        "transport": {"hop_delay_us": 0, "links": [
            {"a": "c0", "b": "far", "fiber_km": 0.0, "capacity_gbps": 100.0,
             "extra_delay_ms": 10.0}]},
        "fleets": [fleet],
        "services": [
            {"name": "detect", "model": "yolov8n", "rate_hz": 20.0, "arrivals": "periodic",
             "jitter_ms": 0.0, "deadline_ms": 30.0, "ul_kb": 1, "dl_kb": 0.1,
             "service_time": {"dist": "fixed", "mean_ms": 2.0,
                              "on_device_ms": {"JetsonOrin": 10.0}}},
            {"name": "vla", "model": "openvla-7b", "rate_hz": 1.0, "arrivals": "periodic",
             "jitter_ms": 0.0, "deadline_ms": 1000.0, "ul_kb": 1, "dl_kb": 0.1,
             "service_time": {"dist": "fixed", "mean_ms": 50.0,
                              "on_device_ms": {"JetsonOrin": 500.0}}}],
    }


def _run(d: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The run's summary and its trace's columns (all requests: 210 at most)."""
    res = Engine(scenario_from_dict(d)).run()
    t = res.requests
    cols = {c: np.asarray(t.column(c).to_pylist()) for c in
            ("service", "placement", "created_s", "latency_ms", "queue_ms", "compute_ms")}
    return res.summary, cols


def _fifo(created_s: np.ndarray, service: np.ndarray, engine_of: dict[str, str],
          took: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """By hand: each engine a FIFO of its services' requests, in order of creation, each
    taking its on-board time (``took``, s: detect 10 ms, vla 500 ms unless given). Returns
    each one's start and end."""
    took = took or {"detect": 0.010, "vla": 0.500}
    free: dict[str, float] = {}
    start, end = np.empty(len(created_s)), np.empty(len(created_s))
    for i in np.argsort(created_s, kind="stable"):
        e = engine_of[service[i]]
        start[i] = max(free.get(e, 0.0), created_s[i])
        end[i] = free[e] = start[i] + took[service[i]]
    return start, end


def _busy_in_run_s(c: dict[str, np.ndarray], took: dict[str, float]) -> dict[str, float]:
    """Per service, its engine's busy time within the 10 s run, by :func:`_fifo` with each
    service on an engine of its own."""
    created = c["created_s"].astype(float)
    start, end = _fifo(created, c["service"], {"detect": "dla", "vla": "main"}, took)
    inside = np.clip(np.minimum(end, 10.0) - start, 0.0, None)
    return {v: float(inside[c["service"] == v].sum()) for v in took}


def _fifo_latencies_ms(created_s: np.ndarray, service: np.ndarray,
                       engine_of: dict[str, str]) -> np.ndarray:
    return (_fifo(created_s, service, engine_of)[1] - created_s) * 1e3


@pytest.mark.parametrize("engines", [{"dla": ["detect"]}, None])
def test_each_engine_is_a_fifo_of_its_own_services(engines: dict[str, list[str]] | None
                                                   ) -> None:
    """On an engine of its own a detection takes its 10 ms whatever the VLA does; on one
    engine the detections that come during a VLA's 500 ms wait for it: the run's latencies are
    a replay of one FIFO per engine, to the microsecond."""
    s, c = _run(_drone(engines))
    assert (c["placement"] == "local").all() and len(c["service"]) >= 200
    done = np.isfinite(c["latency_ms"].astype(float))
    engine_of = {"detect": "dla" if engines else "main", "vla": "main"}
    want = _fifo_latencies_ms(c["created_s"], c["service"], engine_of)
    assert c["latency_ms"][done].astype(float) == pytest.approx(want[done], abs=1e-3)
    detect = c["service"] == "detect"
    if engines:
        assert s["services"]["detect"]["hit_ratio"] == 1.0
        assert (want[detect] == pytest.approx(10.0, abs=1e-9))
    else:  # (~12 detections behind each of the 10 VLAs)
        assert (want[detect] > 10.0 + 1e-6).sum() > 90
        assert s["services"]["detect"]["hit_ratio"] < 0.6


def test_the_energy_counts_every_engines_busy_time() -> None:
    """On board at the Orin's active power on each engine (an upper bound where engines
    overlap, as docs/model.md says): idle + (TDP - idle) x the engines' busy time in the run
    over its 10 s, the ideal radio drawing nothing."""
    from airan.scenario.schema import Scenario

    orin = Scenario.model_validate(_drone(None)).gpu_catalog()["JetsonOrin"]
    for engines in ({"dla": ["detect"]}, None):
        s, c = _run(_drone(engines))
        start, end = _fifo(c["created_s"].astype(float), c["service"],
                           {"detect": "dla" if engines else "main", "vla": "main"})
        busy = np.clip(np.minimum(end, 10.0) - start, 0.0, None).sum()
        assert s["fleets"]["drone"]["mean_power_w"] == pytest.approx(
            orin.idle_w + (orin.tdp_w - orin.idle_w) * busy / 10.0, rel=1e-9)


def test_deadline_aware_reads_the_backlog_of_the_engine_that_would_run_it() -> None:
    """The VLA on board (500 ms, where the edge takes 2 s), detection on an engine of its
    own: deadline-aware keeps every detection on board (10 ms against the edge's ~22 ms);
    with both on one engine it sends those that would wait behind a VLA to the edge."""
    def drone(engines: dict[str, list[str]] | None) -> dict[str, Any]:
        d = _drone(engines, policy="deadline-aware")
        d["services"][1]["service_time"]["mean_ms"] = 2000.0
        d["services"][1]["deadline_ms"] = 3000.0
        return d

    s, _ = _run(drone({"dla": ["detect"]}))
    assert s["services"]["detect"]["answered_at"] == {"local": 200}
    assert s["services"]["vla"]["answered_at"].get("local", 0) >= 9
    s1, _ = _run(drone(None))
    at1 = s1["services"]["detect"]["answered_at"]
    assert at1.get("edge", 0) >= 80 and s1["services"]["detect"]["hit_ratio"] == 1.0


def test_validate_says_what_runs_on_board_engine_by_engine(tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "drone.yaml"
    path.write_text(yaml.safe_dump(_drone({"dla": ["detect"]})))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert ("on board drone (JetsonOrin, mean times, one request at a time per engine): main: "
            "vla 500 ms; dla: detect 10 ms") in " ".join(res.output.split())
    d = _drone({"dla": ["detect"]})
    d["services"][1]["deadline_ms"] = 300.0
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert "main: vla 500 ms (past its deadline); dla: detect 10 ms" in " ".join(
        res.output.split())


def test_validate_gives_a_spread_on_board_time_at_its_mean_not_its_least(tmp_path: Any) -> None:
    """A drone maker's review: a VLM measured at 210 ms on the Orin with a lognormal spread
    showed as "0 ms" (the distribution's least, which the deadline check takes), free, where
    every run of it was past its 150 ms deadline; a uniform 2-4 ms, 60 on board, showed 40."""
    import yaml

    d = _drone(None)
    d["services"][1].update(deadline_ms=150.0, service_time={
        "dist": "lognormal", "mean_ms": 60.0, "cv": 0.2, "on_device_ms": {"JetsonOrin": 210.0}})
    d["services"][0]["service_time"] = {"dist": "uniform", "low_ms": 2.0, "high_ms": 4.0,
                                        "on_device_ms": {"JetsonOrin": 60.0}}
    path = tmp_path / "drone.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "vla 210 ms (past its deadline)" in text, text
    assert "detect 60 ms" in text, text


@pytest.mark.parametrize(("engines", "said"), [
    ({"dla": ["plan"]}, "engines.dla: 'plan' is not one of this fleet's services"),
    ({"dla": ["detect"], "dla2": ["detect"]}, "service 'detect' is on two engines"),
    ({"dla": []}, "engine 'dla' runs no service"),
])
def test_an_engine_of_services_the_fleet_does_not_run_is_an_input_error(
        engines: dict[str, list[str]], said: str, tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_drone(engines)))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert said in text and "fleets[drone]" in text


@pytest.mark.parametrize(("change", "said"), [
    ({"accelerator": "none"}, "its CPU runs each engine's services beside the others'"),
    ({"accelerator": "none", "cpu_runs_models": False}, "these engines are never used"),
    ({"on_device": False}, "detect never run on board (on_device: false)"),
])
def test_engines_that_cannot_do_what_they_say_are_warned_of(change: dict[str, Any],
                                                           said: str) -> None:
    from airan.scenario.load import scenario_warnings

    d = _drone({"dla": ["detect"]})
    if "on_device" in change:
        d["services"][0]["on_device"] = False
        del d["services"][0]["service_time"]["on_device_ms"]
    else:
        d["fleets"][0].update(change)
    warned = [w for w in scenario_warnings(scenario_from_dict(d))
              if "engines" in w and "second module" not in w]
    assert len(warned) == 1 and said in warned[0], warned
    dla = {"dla": {"services": ["detect"], "time_factor": 3.0, "active_w": 5.0}}
    assert not [w for w in scenario_warnings(scenario_from_dict(_drone(dla))) if "engines" in w]


def test_an_engine_at_the_accelerators_whole_speed_and_draw_is_warned_of() -> None:
    """A humanoid maker's review: a "dla" engine (a list of services: time_factor 1, the
    module's draw) on a Jetson AGX Thor, which has no DLA, ran its detector at the GPU's speed
    beside the VLA, and the module drew 159 W of its 130 W TDP, silently. validate names it
    as a second module's worth, with the draw of both; an engine of its own speed or draw is
    not warned of."""
    from airan.scenario.load import scenario_warnings
    from airan.scenario.schema import Scenario

    def said(engines: Any) -> list[str]:
        return [w for w in scenario_warnings(scenario_from_dict(_drone(engines)))
                if "second module" in w]

    orin = Scenario.model_validate(_drone(None)).gpu_catalog()["JetsonOrin"]
    (line,) = said({"dla": ["detect"]})
    both = orin.idle_w + 2 * (orin.tdp_w - orin.idle_w)
    assert "field 'fleets[drone].engines'" in line and "a second module's worth" in line
    assert f"drawing up to {both:,.0f} W where one module's TDP is {orin.tdp_w:g} W" in line
    assert not said({"dla": {"services": ["detect"], "time_factor": 3.0}})
    assert not said({"dla": {"services": ["detect"], "active_w": 5.0}})
    assert not said({"dla": {"services": ["detect"], "time_ms": {"detect": 24.0}}})


def test_an_engine_named_main_is_refused() -> None:
    with pytest.raises(Exception, match="'main' is the accelerator's own engine"):
        scenario_from_dict(_drone({"main": ["detect"]}))


def test_an_engine_of_its_own_runs_at_its_time_factor_and_draws_its_power() -> None:
    """A DLA three times the GPU's time at 5 W above idle (an AMR maker's review: a DLA ran
    at the GPU's speed and drew the module's TDP): each detection takes 3 x 10 ms there, and
    the energy is idle + 5 W x the DLA's busy time + (TDP - idle) x the main engine's."""
    from airan.scenario.schema import Scenario

    d = _drone({"dla": {"services": ["detect"], "time_factor": 3.0, "active_w": 5.0}})
    s, c = _run(d)
    detect = (c["service"] == "detect") & np.isfinite(c["latency_ms"].astype(float))
    assert c["latency_ms"][detect].astype(float) == pytest.approx(30.0, abs=1e-6)
    orin = Scenario.model_validate(_drone(None)).gpu_catalog()["JetsonOrin"]
    busy = _busy_in_run_s(c, {"detect": 0.030, "vla": 0.500})
    want = orin.idle_w + (5.0 * busy["detect"] + (orin.tdp_w - orin.idle_w) * busy["vla"]) / 10
    assert s["fleets"]["drone"]["mean_power_w"] == pytest.approx(want, rel=1e-9)
    # the list form is the same engine at the accelerator's speed and power
    plain = scenario_from_dict(_drone({"dla": ["detect"]})).fleets[0].engines["dla"]
    assert (plain.services, plain.time_factor, plain.active_w) == (["detect"], 1.0, None)


def test_each_engines_busy_share_is_in_the_summary() -> None:
    """An AMR maker's review: the DLA's and the GPU's headroom could not be read. The share
    of the devices' time each engine computed, by hand from the FIFO replay."""
    s, c = _run(_drone({"dla": {"services": ["detect"], "time_factor": 3.0}}))
    busy = _busy_in_run_s(c, {"detect": 0.030, "vla": 0.500})
    share = s["fleets"]["drone"]["on_board_busy"]
    assert share["dla"] == pytest.approx(busy["detect"] / 10.0, rel=1e-9)
    assert share["main"] == pytest.approx(busy["vla"] / 10.0, rel=1e-9)
    alone = _run(_drone(None))[0]["fleets"]["drone"]["on_board_busy"]  # (no engines: the
    assert set(alone) == {"main"} and alone["main"] > 0  # accelerator's own share alone)


def test_an_engines_measured_time_replaces_its_time_factor_for_that_service() -> None:
    """``time_ms``: a DLA's own profile of a service (24 ms here), in place of time_factor x
    the accelerator's 10 ms; a service the engine runs without one keeps the factor. Each
    detection alone on its engine takes exactly that."""
    d = _drone({"dla": {"services": ["detect", "vla"], "time_factor": 3.0,
                        "time_ms": {"detect": 24.0}}})
    d["services"][1]["rate_hz"] = 0.25  # (a VLA step every 4 s: 3 x 500 ms, then detections)
    _, c = _run(d)
    ran = np.isfinite(c["compute_ms"].astype(float))  # (those the VLA's 1.5 s held up beyond
    detect = (c["service"] == "detect") & ran  # the device's queue dropped)
    assert detect.sum() > 100
    assert c["compute_ms"][detect].astype(float) == pytest.approx(24.0, abs=1e-6)
    vla = (c["service"] == "vla") & ran
    assert vla.sum() >= 2
    assert c["compute_ms"][vla].astype(float) == pytest.approx(1500.0, abs=1e-6)


def test_validate_gives_each_engines_own_time(tmp_path: Any) -> None:
    """validate's on-board line gave a DLA's services the accelerator's time, whatever its
    time_factor: at 3x, detect's 10 ms is 30 ms there, at its 30 ms deadline; measured at
    31 ms (time_ms), past it."""
    import yaml

    path = tmp_path / "drone.yaml"
    path.write_text(yaml.safe_dump(_drone({"dla": {"services": ["detect"],
                                                   "time_factor": 3.0}})))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert "main: vla 500 ms; dla: detect 30 ms" in " ".join(res.output.split())
    path.write_text(yaml.safe_dump(_drone({"dla": {"services": ["detect"],
                                                   "time_ms": {"detect": 31.0}}})))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert "dla: detect 31 ms (past its deadline)" in " ".join(res.output.split())


def test_a_measured_time_for_a_service_the_engine_does_not_run_is_an_input_error(
        tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_drone({"dla": {"services": ["detect"],
                                                   "time_ms": {"vla": 300.0}}})))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "fleets[drone]" in text and "time_ms gives 'vla', which it does not run" in text
    # a factor no service takes (an AGV integrator's review: accepted, silently unused)
    path.write_text(yaml.safe_dump(_drone({"dla": {"services": ["detect"], "time_factor": 3.0,
                                                   "time_ms": {"detect": 24.0}}})))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "time_factor 3 applies to none of its services" in " ".join(
        res.output.split())


def test_an_on_board_time_faster_than_the_accelerator_can_run_is_warned_of() -> None:
    """An AGV integrator's review: validate warned of a site's measured time faster than its
    GPU's peak allows (seconds written for ms), but not of an on-board one: `time_ms:
    {detect: 0.024}` and `on_device_ms: {JetsonOrin: 0.01}` (YOLOv8n's roofline at an Orin's
    whole peak is ~0.1 ms) passed silently. Both are warned of, naming the field; the
    drone's 10 ms and a DLA's 24 ms are not."""
    from airan.scenario.load import scenario_warnings

    d = _drone({"dla": {"services": ["detect"], "time_ms": {"detect": 0.024}}})
    d["services"][0]["service_time"]["on_device_ms"] = {"JetsonOrin": 0.01}
    warned = [w for w in scenario_warnings(scenario_from_dict(d)) if "faster than" in w]
    assert len(warned) == 2
    assert any("fleets[drone].engines.dla.time_ms.detect" in w and "0.024 ms" in w
               for w in warned)
    assert any("services[detect].service_time.on_device_ms.JetsonOrin" in w for w in warned)
    fine = _drone({"dla": {"services": ["detect"], "time_ms": {"detect": 24.0}}})
    assert not [w for w in scenario_warnings(scenario_from_dict(fine)) if "faster than" in w]


def test_a_time_a_little_faster_than_the_peak_is_not_read_as_a_unit_slip() -> None:
    """A drone maker's review: 60 ms against a roofline of 78.7 ms at the GPU's whole peak was
    read as "seconds written where ms are meant"; a slip of units is 1000x. Within 100x the
    warning says another model (a smaller or quantized one) instead."""
    from airan.compute.roofline import peak_roofline_s
    from airan.scenario.load import scenario_warnings

    d = _drone(None)
    s = scenario_from_dict(d)
    bound_ms = peak_roofline_s(s.model_catalog()["openvla-7b"], s.gpu_catalog()["JetsonOrin"],
                               1) * 1e3
    for ms, slip in ((0.7 * bound_ms, False), (bound_ms / 1000.0, True)):
        d["services"][1]["service_time"]["on_device_ms"] = {"JetsonOrin": ms}
        warned = [w for w in scenario_warnings(scenario_from_dict(d)) if "faster than" in w]
        assert len(warned) == 1 and "another model than 'openvla-7b'" in warned[0]
        assert ("seconds written where ms are meant" in warned[0]) == slip, warned[0]


def test_a_fleet_without_engines_reports_its_accelerators_busy_share() -> None:
    """A robot maker's review: a Thor running flat out under ``local`` showed no utilization
    at all (``on_board_busy`` came only with ``engines``). Now every fleet that computes on
    board has it: the time its devices computed (the trace's compute times of the requests
    kept on board) over its devices' time; none for a fleet whose CPU runs no model."""
    import pyarrow.compute as pc

    import airan

    r = airan.run(airan.load_scenario("factory"), policy="local", duration_s=2.0, seed=3)
    t = r.requests
    for name, f in r.summary["fleets"].items():
        busy = f.get("on_board_busy")
        if name == "camera":  # (no accelerator, its CPU runs no model)
            assert busy is None
            continue
        mine = t.filter(pc.and_(pc.equal(t["fleet"].cast("string"), name),
                                pc.equal(t["placement"].cast("string"), "local")))
        done = mine.filter(pc.invert(pc.is_nan(mine["compute_ms"])))
        computed_s = pc.sum(done["compute_ms"]).as_py() * 1e-3
        share = computed_s / (f["devices"] * 2.0)
        # and at most one request per device still computing at the end (one FIFO each)
        longest_s = pc.max(done["compute_ms"]).as_py() * 1e-3
        assert share - 1e-9 <= busy["main"] <= share + longest_s / 2.0 + 1e-9
        assert busy["main"] > 0.5
    edge = airan.run(airan.load_scenario("factory"), policy="nearest-edge", duration_s=1.0)
    assert edge.summary["fleets"]["amr"]["on_board_busy"]["main"] == 0.0


@pytest.mark.parametrize(("engines", "policy", "vla_on_device", "vla_deadline_ms", "warned"), [
    (None, "local", True, 1000.0, True),
    (None, "deadline-aware", True, 1000.0, True),
    ({"dla": ["detect"]}, "local", True, 1000.0, False),  # an engine of its own
    (None, "nearest-edge", True, 1000.0, False),  # never on board
    (None, "local", False, 1000.0, False),  # the VLA kept off the device
    # the VLA past its own 400 ms deadline on board: deadline-aware still runs it there where
    # no site answers sooner (a second diff review), so the warning stands, said as a maybe
    (None, "deadline-aware", True, 400.0, True),
    (None, "local", True, 400.0, True),
])
def test_a_short_deadline_behind_a_longer_job_on_one_engine_is_warned_of(
        engines: dict[str, list[str]] | None, policy: str, vla_on_device: bool,
        vla_deadline_ms: float, warned: bool) -> None:
    """A humanoid maker's review: a 15 ms control loop behind a 101 ms VLA on the Thor's one
    FIFO met 30% of its requests, validate silent. Here detection (30 ms deadline) shares the
    Orin with a 500 ms VLA step."""
    from airan.scenario.load import scenario_warnings

    d = _drone(engines, policy)
    d["services"][1]["deadline_ms"] = vla_deadline_ms
    if not vla_on_device:
        d["services"][1]["on_device"] = False
        del d["services"][1]["service_time"]["on_device_ms"]
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "shares the on-board" in w]
    if not warned:
        assert said == []
        return
    (line,) = said
    assert "field 'fleets[drone].services'" in line
    assert ("detect (deadline 30 ms) shares the on-board engine 'main' with vla (500 ms at "
            "batch 1, mean)") in line


@pytest.mark.parametrize(("device_class", "mobility", "base_w", "warned"), [
    ("humanoid", None, 0.0, "a humanoid's"), ("amr", None, 0.0, "an amr's"),
    ("drone", None, 0.0, "a drone's"), ("humanoid", None, 400.0, None),
    ("camera", None, 0.0, None),
    ("robot-arm", {"model": "static"}, 0.0, None),  # (a diff review: static is no motion)
    ("robot-arm", {"model": "random_waypoint", "speed_mps": [0.5, 1.0]}, 0.0,
     "a robot-arm's")])
def test_a_moving_fleets_battery_without_its_motors_is_warned_of(
        device_class: str, mobility: dict[str, Any] | None, base_w: float,
        warned: str | None) -> None:
    """A humanoid maker's review: a 2.25 kWh humanoid's battery read 89 h, AI and radio
    only."""
    from airan.scenario.load import scenario_warnings

    d = _drone(None, "nearest-edge")
    d["fleets"][0].update(device_class=device_class, battery_wh=2250.0, base_power_w=base_w,
                          mobility=mobility)
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "battery life" in w]
    assert len(said) == (warned is not None)
    if warned:
        assert "field 'fleets[drone].base_power_w'" in said[0]
        assert f"{warned} motors" in said[0]
