"""Scenario-level checks that need the whole scenario: carriers, and unreachable sites."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import numpy as np
import pytest
import yaml

import airan
from airan.errors import InputError
from airan.scenario import scenario_from_dict


def _factory() -> dict[str, Any]:
    text = resources.files("airan.scenario.builtin").joinpath("factory.yaml").read_text()
    return yaml.safe_load(text)


def test_bandwidth_without_a_ts38101_prb_count_names_the_carrier() -> None:
    d = _factory()
    d["carrier"]["bandwidth_mhz"] = 33
    with pytest.raises(InputError, match=r"carrier\.bandwidth_mhz.*33"):
        scenario_from_dict(d)


@pytest.mark.parametrize(("key", "value", "bound"), [
    ("bler", 0.6, "0.5"),  # the HARQ model's range: a first-transmission target of 10% or so
    ("ul_alpha", 1.2, "1"),  # TS 38.213 7.1.1: alpha in {0, 0.4, ..., 1}
    ("ul_alpha", -0.1, "0"),
])
def test_radio_numbers_beyond_their_range_are_refused_by_name(key: str, value: float,
                                                              bound: str) -> None:
    d = _factory()
    d["radio"][key] = value
    with pytest.raises(InputError, match=rf"radio\.{key}.*{bound}") as err:
        scenario_from_dict(d)
    assert str(value) in str(err.value)
    d["radio"][key] = float(bound)  # the bound itself is accepted
    scenario_from_dict(d)


def test_ul_alpha_takes_only_ts38331_values_and_names_the_nearest() -> None:
    d = _factory()
    for ok in (0, 0.4, 0.7, 1):
        d["radio"]["ul_alpha"] = ok
        assert scenario_from_dict(d).radio.ul_alpha == ok
    d["radio"]["ul_alpha"] = 0.75  # between alpha07 and alpha08
    with pytest.raises(InputError, match=r"radio\.ul_alpha.*0, 0\.4, 0\.5.*got 0\.75; the "
                                         r"nearest: 0\.7 or 0\.8"):
        scenario_from_dict(d)
    d["radio"]["ul_alpha"] = 0.1
    with pytest.raises(InputError, match=r"nearest: 0\)"):
        scenario_from_dict(d)


def test_manhattan_and_random_waypoint_take_one_speed_for_every_device() -> None:
    """``speed_mps: 12`` (a review's first try) is the range [12, 12], as waypoints take one."""
    d = _factory()
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 10, "speed_mps": 2}
    assert scenario_from_dict(d).fleets[0].mobility.speed_mps == (2.0, 2.0)
    d["fleets"][0]["mobility"] = {"model": "random_waypoint", "speed_mps": 1.5}
    assert scenario_from_dict(d).fleets[0].mobility.speed_mps == (1.5, 1.5)
    d["fleets"][0]["mobility"]["speed_mps"] = 0
    with pytest.raises(InputError, match=r"speed_mps"):
        scenario_from_dict(d)


def test_cells_with_different_numerology_are_rejected_by_name() -> None:
    d = _factory()
    d["cell_sites"][1]["carrier"] = {"numerology": 0, "bandwidth_mhz": 20}
    with pytest.raises(InputError, match=r"cell_sites\[cell-b\]\.carrier.*synchronized"):
        scenario_from_dict(d)


def test_a_site_without_a_transport_path_drops_with_no_route() -> None:
    d = copy.deepcopy(_factory())
    d["transport"] = {"links": []}  # the cells reach no compute site
    sc = scenario_from_dict(d)
    res = airan.run(sc, policy="nearest-edge", duration_s=0.3)
    req = res.summary["requests"]
    assert req["dropped_by_reason"] == {"no_route": req["dropped"]}
    assert req["dropped"] == req["created"] - req["in_flight"] > 0
    assert set(res.requests["placement"].to_pylist()) == {"unreachable"}
    # deadline-aware never picks an unreachable site: it falls back to the devices, but for
    # the cameras', which run no model on board and have nowhere else to go
    res = airan.run(sc, policy="deadline-aware", duration_s=0.3)
    services = res.summary["services"]
    assert all("no_route" not in services[v]["dropped_by_reason"] for v in ("detect", "vla"))
    assert services["inspect"]["dropped_by_reason"] == {"no_route": services["inspect"]["count"]
                                                        - services["inspect"]["in_flight"]}


def test_a_high_bs_factory_cell_below_the_clutter_is_rejected_by_name() -> None:
    d = _factory()  # inf-sh, ceiling cells at 8 m
    d["radio"]["clutter_height_m"] = 9.0
    with pytest.raises(InputError, match=r"cell_sites\[cell-a\]\.height_m.*clutter") as e:
        scenario_from_dict(d)
    assert e.value.value == 8


def test_factory_clutter_reaches_the_links_los_state() -> None:
    """The InF LOS probability takes the scenario's clutter (and the cells' height): with the
    clutter at the floor every UE is above it and every link LOS (TR 38.901 Table 7.4.2-1), so
    no device's serving-cell gain falls and the NLOS ones rise; dense, tall clutter the reverse.
    Against the sparse end's densest, tallest clutter (r 0.39, 4 m: 11 of 58 serving links
    NLOS), not the default's (2 m), under which every serving link of this layout is LOS.
    """
    from airan.engine.world import build_world

    def best_gain(**radio: float) -> Any:
        d = _factory()
        d["radio"].update(shadowing=False, **radio)
        return build_world(scenario_from_dict(d), seed=1).dev_top_gain[:, 0]

    default = best_gain(clutter_density=0.39, clutter_height_m=4.0)
    all_los = best_gain(clutter_height_m=0.0)
    dense = best_gain(clutter_density=0.9, clutter_height_m=7.5)
    assert default.shape == all_los.shape == dense.shape
    assert (all_los >= default * (1 - 1e-12)).all() and (all_los > default * 1.01).any()
    assert (dense <= default * (1 + 1e-12)).all() and (dense < default * 0.99).any()


def test_fleets_that_all_have_no_device_are_warned_about() -> None:
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "count 0" in w]
    for f in d["fleets"]:
        f["count"] = 0
    warnings = [w for w in scenario_warnings(scenario_from_dict(d)) if "count 0" in w]
    assert len(warnings) == 1 and "no request" in warnings[0]


def test_strict_admission_or_energy_with_a_policy_that_ignores_them_is_warned_about() -> None:
    """Only deadline-aware reads admission and objective: with nearest-edge a strict admission
    once admitted everything in silence (7,248 late of 9,975 requests, no drop)."""
    from airan.scenario.load import scenario_warnings

    d = _factory()
    d.update(admission="strict", objective="energy")
    sc = scenario_from_dict(d)
    assert sc.policy == "deadline-aware"
    assert not [w for w in scenario_warnings(sc) if "deadline-aware" in w]
    warned = [w for w in scenario_warnings(sc, policy="nearest-edge") if "deadline-aware" in w]
    assert len(warned) == 2
    assert "admission" in warned[0] and "'strict'" in warned[0] and "nearest-edge" in warned[0]
    assert "objective" in warned[1] and "'energy'" in warned[1]
    d.update(policy="least-loaded", objective="latency")
    warned = [w for w in scenario_warnings(scenario_from_dict(d)) if "deadline-aware" in w]
    assert len(warned) == 1 and "least-loaded" in warned[0]


def test_jitter_on_poisson_arrivals_is_warned_about() -> None:
    """The engine jitters periodic arrivals only: a Poisson service's jitter_ms validated in
    silence and did nothing (a review)."""
    from airan.scenario.load import scenario_warnings

    d = _factory()
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "jitter" in w]
    v = d["services"][0]
    v.update(arrivals="poisson", jitter_ms=5.0)
    (warned,) = [w for w in scenario_warnings(scenario_from_dict(d)) if "jitter" in w]
    assert f"services[{v['name']}].jitter_ms" in warned and "Poisson" in warned
    v.update(arrivals="periodic")
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "jitter" in w]


def test_the_admission_warning_knows_the_policy_by_what_it_is(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A built-in that ignores admission is warned about however it is named; deadline-aware
    by its module path, and a policy of one's own (which reads snapshot.admission), not."""
    from airan.scenario.load import scenario_warnings

    (tmp_path / "mine.py").write_text("def deadline_aware(snapshot, batch):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    d = _factory()
    d.update(admission="strict")
    sc = scenario_from_dict(d)
    for policy, warned in (("mine:deadline_aware", False),
                           ("airan.policy.builtin:deadline_aware", False),
                           ("airan.policy.builtin:nearest_edge", True)):
        lines = [w for w in scenario_warnings(sc, policy=policy) if "deadline-aware" in w]
        assert bool(lines) == warned, (policy, lines)


def test_a_policy_of_ones_own_reads_admission_and_objective_from_its_snapshot() -> None:
    """A user's policy can apply the scenario's strict admission itself: the snapshot says it
    (in the twin; the live gateway's snapshot carries them too)."""
    import numpy as np

    seen: list[tuple[str, str]] = []

    def mine(snapshot: Any, batch: Any) -> Any:
        seen.append((snapshot.admission, snapshot.objective))
        return np.full(len(batch), -1, dtype=np.int64)

    d = _factory()
    d.update(admission="strict", objective="energy")
    airan.run(scenario_from_dict(d), policy=mine, duration_s=0.05)
    assert seen and set(seen) == {("strict", "energy")}


def test_a_queue_limit_below_a_models_max_batch_is_warned_about() -> None:
    """queue_limit counts the requests waiting at a site, all models together: below a served
    model's max_batch, the request that would fill a batch is dropped (a review measured 62% of
    the requests dropped, the GPU 39% busy, with a limit of 3 and batches of 4)."""
    from airan.scenario.load import scenario_warnings

    d = _factory()
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "queue_limit" in w]
    site = d["compute_sites"][0]
    site["queue_limit"] = 3
    site["batching"] = {"max_batch": 8, "models": {"openvla-7b": {"max_batch": 2}}}
    warnings = [w for w in scenario_warnings(scenario_from_dict(d)) if "queue_limit" in w]
    assert len(warnings) == 1, warnings
    assert f"compute_sites[{site['name']}].queue_limit" in warnings[0]
    assert "below yolov8" in warnings[0] and "max_batch 8" in warnings[0]
    site["queue_limit"] = 8
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "queue_limit" in w]


def test_a_fleet_beyond_its_environments_path_loss_range_is_warned_about() -> None:
    from airan.scenario.load import scenario_warnings

    # TR 38.901 Table 7.4.1-1: InF covers d3D up to 600 m; factory's cells are 8 m high
    d = airan.load_scenario("factory").model_dump(mode="json")
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if ".area" in w]
    d["fleets"][0]["area"] = {"x_m": [2000.0, 2100.0], "y_m": [0.0, 60.0]}
    warned = [w for w in scenario_warnings(scenario_from_dict(d)) if "fleets[amr].area" in w]
    assert len(warned) == 1 and "600 m" in warned[0] and "inf-sh" in warned[0]


def test_a_batch_that_outlasts_the_deadline_where_one_request_meets_it_is_warned_about() -> None:
    """A robot maker's VLA measured at 180 ms alone and 260 ms in a batch of 4 on an H100,
    200 ms deadline, max_batch 4: a batch of 2 takes 206.7 ms (the table's linear
    interpolation), so every request of a batch of 2 or more is late however idle the GPUs
    (34% met on 36 to 56 GPUs, ~50% busy, and nothing said why); with max_batch 1 there is
    nothing to say, and the built-ins say nothing (factory caps its L40S's VLA batch at 7: a
    batch of 8 takes 202 ms there)."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    for c in d["compute_sites"]:
        c["batching"] = {"max_batch": 4, "max_wait_ms": 5}
        c["gpus"] = [{"type": "H100", "count": 8}]
    vla = next(v for v in d["services"] if v["name"] == "vla")
    vla["service_time"] = {"dist": "fixed", "batch_ms": {1: 180, 4: 260},
                           "measured_on": "H100"}
    vla["deadline_ms"] = 200.0

    def said(data: dict[str, Any]) -> list[str]:
        return [w for w in scenario_warnings(scenario_from_dict(data)) if "a batch of" in w]

    (msg,) = said(d)
    assert "field 'compute_sites[on-prem].batching'" in msg
    assert "a batch of 2 openvla-7b requests takes 206.7 ms on H100 (one alone 180 ms)" in msg
    assert "give the model max_batch 1 there (batching.models.openvla-7b.max_batch)" in msg
    assert "(at 3 compute sites alike: on-prem, regional, cloud)" in msg
    for c in d["compute_sites"]:
        c["batching"]["models"] = {"openvla-7b": {"max_batch": 1}}
    assert said(d) == []
    for name in ("factory", "city", "metro", "korea"):
        assert [w for w in scenario_warnings(airan.load_scenario(name)) if "a batch of" in w] \
            == [], name


def test_a_fleet_that_fleet_scale_rounds_to_no_device_is_named_as_such(tmp_path: Any) -> None:
    """`airan run factory --fleet-scale 0.05`: the six cameras round to none, and the warning
    says the scale did it (it said 'got 0' of a fleet whose file says 6)."""
    from typer.testing import CliRunner

    from airan.cli import app

    result = CliRunner().invoke(app, ["run", "factory", "--fleet-scale", "0.05", "-d", "0.1",
                                      "--no-report", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert ("field 'fleets[camera].count': this fleet has no devices (--fleet-scale 0.05 "
            "rounds its count to 0): it makes no request") in text
    assert "(got 0)" not in text


def test_a_batching_of_a_model_no_service_uses_is_a_warning_and_a_misspelt_one_an_error() -> None:
    """A copy of factory without its VLA service keeps on-prem's VLA batching: a warning (it
    was refused); a name that is no model at all is still bad input with a close match."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["services"] = [v for v in d["services"] if v["name"] != "vla"]
    d["fleets"] = [f for f in d["fleets"] if "vla" not in f["services"]]
    (msg,) = [w for w in scenario_warnings(scenario_from_dict(d)) if "batching.models" in w]
    assert "compute_sites[on-prem].batching.models" in msg
    assert "no service uses model 'openvla-7b'" in msg
    d["compute_sites"][0]["batching"]["models"] = {"yolov8x": {"max_batch": 2}}
    with pytest.raises(InputError, match=r"unknown model 'yolov8x'.*did you mean"):
        scenario_from_dict(d)


def test_the_batch_warning_takes_a_mig_sites_ai_instance() -> None:
    """Under ai_ran mig, a cell site's H100 runs AI on its 4g instance (64 of 132 SMs, half the
    bandwidth): OpenVLA's batch of 2 takes 72.6 ms there against 36.1 ms on the whole GPU, so a
    70 ms deadline that batch 1 meets (64.9 ms) is warned about under mig and not under
    dynamic (whose share the run sets)."""
    from one_cell import one_cell_site

    from airan.scenario.load import scenario_warnings

    d = one_cell_site()
    d["compute_sites"][0]["batching"] = {"max_batch": 4, "max_wait_ms": 1}
    d["services"][0].update(model="openvla-7b", deadline_ms=70.0)

    def said(mode: str) -> list[str]:
        d["ai_ran"] = {"mode": mode}
        return [w for w in scenario_warnings(scenario_from_dict(d)) if "a batch of" in w]

    (msg,) = said("mig")
    assert "a batch of 2 openvla-7b requests takes 72.63 ms on H100 (its AI MIG instance) " \
        "(one alone 64.88 ms)" in msg
    assert said("dynamic") == []


def test_the_batch_warning_under_mig_takes_a_scenario_models_given_time_as_the_engine() -> None:
    """A model of the scenario's own with measured batch times runs on the AI's MIG instance
    at those times over the instance's share, as the engine takes them (a review: the warning
    divided only a service's own service_time, and called a batch of 4 at 70 ms the first
    late one where the engine's batch of 2 took 82.5 ms)."""
    from one_cell import one_cell_site

    from airan.engine import Engine
    from airan.scenario.load import scenario_warnings

    d = one_cell_site()
    d["compute_sites"][0]["batching"] = {"max_batch": 4, "max_wait_ms": 1}
    d["models"] = {"mine": {"service_time_ms": {"dist": "fixed",
                                                "batch_ms": {1: 30.0, 2: 40.0, 4: 70.0}},
                            "weight_bytes": 2e7}}
    d["services"][0].update(model="mine", deadline_ms=70.0)
    d["ai_ran"] = {"mode": "mig"}
    sc = scenario_from_dict(d)
    (msg,) = [w for w in scenario_warnings(sc) if "a batch of" in w]
    table_ms = Engine(sc, duration_s=0.01).world.svc_time_s[0] * 1e3
    g = int(np.argmax(table_ms[:, 1]))  # (the MIG instance's row: the slowest)
    assert f"a batch of 2 mine requests takes {table_ms[g, 2]:.4g} ms" in msg


def _two_cells(**transport: Any) -> dict[str, Any]:
    return {
        "name": "two-cells", "radio": {"model": "ideal"},
        "cell_sites": [{"name": "cs1", "position_m": [0, 0], "sectors": 1},
                       {"name": "cs2", "position_m": [4000, 0], "sectors": 1}],
        "nodes": [{"name": "agg", "position_m": [2000, 0]}, {"name": "edge"}],
        "compute_sites": [{"name": "e", "at": "edge", "gpus": [{"type": "L4", "count": 1}]}],
        "transport": {"links": [{"a": "cs1", "b": "agg", "fiber_km": 2},
                                {"a": "agg", "b": "edge", "fiber_km": 20}], **transport},
        "fleets": [{"name": "f", "count": 2, "area": {"center_m": [4000, 0], "radius_m": 5},
                    "services": ["s"]}],
        "services": [{"name": "s", "model": "yolov8s", "rate_hz": 10, "ul_kb": 20,
                      "dl_kb": 1, "deadline_ms": 100}],
    }


def test_a_cell_site_that_reaches_no_compute_site_is_a_warning_and_its_requests_no_route() -> None:
    """A planner's review: a spoke left out of the links validated clean, then every request
    from it was dropped, no_route."""
    from airan.scenario.load import scenario_warnings

    sc = scenario_from_dict(_two_cells())
    said = [w for w in scenario_warnings(sc) if "reach no compute site" in w]
    assert len(said) == 1 and "1 of 2 cell sites" in said[0] and "(cs2)" in said[0]
    assert "transport.links" in said[0]
    res = airan.run(sc, policy="nearest-edge", duration_s=0.5, seed=1)
    assert res.summary["requests"]["dropped_by_reason"].get("no_route", 0) > 0
    linked = scenario_from_dict(_two_cells(backhaul={"to": "agg"}))
    assert not [w for w in scenario_warnings(linked) if "reach no compute site" in w]


def test_a_backhaul_hub_without_a_position_is_a_warning() -> None:
    """A planner's review: every spoke's fibre was 0 km, silently (59 us at 8 km)."""
    from airan.scenario.load import scenario_warnings

    d = _two_cells(backhaul={"to": "agg"})
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "no position_m" in w]
    del d["nodes"][0]["position_m"]
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "no position_m" in w]
    assert len(said) == 1 and "transport.backhaul.to" in said[0] and "'agg'" in said[0]


def test_validate_says_what_each_service_offers_and_warns_of_a_rate_in_the_wrong_unit(
        tmp_path) -> None:
    """A port engineer wrote ``rate_hz: 0.02`` for 20 Hz: 18 requests, hit 1.000, 'meets
    target', without a word. validate now prints each service's offered load, and a service
    expected to make under 100 requests in the scenario's own duration is warned about."""
    from typer.testing import CliRunner

    from airan.cli import app

    d = _factory()
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)], terminal_width=300)
    assert res.exit_code == 0, res.output
    # factory's figures by hand: 40 AMRs x 20 Hz x 15 kB x 8 = 96 Mbit/s; 6 cameras x 5 Hz x
    # 200 kB x 8 = 48 Mbit/s
    for line in ("  detect: 40 devices x 20 Hz = 800 requests/s (8,000 in 10 s), uplink 96 "
                 "Mbit/s offered (15 kB each), downlink 3.2 Mbit/s, deadline 50 ms, model "
                 "yolov8s",
                 "  inspect: 6 devices x 5 Hz = 30 requests/s (300 in 10 s), uplink 48 Mbit/s "
                 "offered (200 kB each)"):
        assert line in res.output
    assert "warning" not in res.output
    slow = next(v for v in d["services"] if v["name"] == "detect")
    slow["rate_hz"] = 0.02
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)], terminal_width=300)
    assert res.exit_code == 0
    assert "field 'services[detect].rate_hz': about" in res.output
    assert "rate_hz is per second" in res.output
    # a run made short on purpose is no reason: the scenario's own duration is judged
    res = CliRunner().invoke(app, ["run", "factory", "--duration", "0.05", "--no-report",
                                   "--out", str(tmp_path / "r")], terminal_width=300)
    assert res.exit_code == 0 and "rate_hz is per second" not in res.output


def test_an_uplink_beyond_half_of_what_the_cells_carry_at_most_is_warned_about() -> None:
    """An integrator's review: 492 Mbit/s offered to four DDDSU cells validated silently and the
    run met 4% of the detections' deadlines. The most a cell carries: 273 PRB (100 MHz at
    30 kHz, TS 38.101-1 Table 5.3.2-1) x 168 resource elements x 7.4063 bit/s/Hz (TS 38.214
    MCS 27) x (1 - 0.08) (TS 38.306 4.1.2, FR1 uplink) per U slot, 2,000 slots a second."""
    from airan.scenario.load import scenario_warnings, uplink_most_bps

    per_cell_u_slot = 273 * 12 * 14 * 7.4063 * (1 - 0.08)
    d = airan.load_scenario("factory").model_dump(mode="json")
    # factory: 4 cells of DDSUU, two U slots in five
    assert uplink_most_bps(scenario_from_dict(d)) == pytest.approx(
        4 * per_cell_u_slot * 2000 * 2 / 5, rel=1e-9)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "Mbit/s of uplink" in w]
    for v in d["services"]:
        v["ul_kb"] *= 4  # 151 Mbit/s offered -> 605, 60% of the cells' 1,000
    [line] = [w for w in scenario_warnings(scenario_from_dict(d)) if "Mbit/s of uplink" in w]
    assert "offer 605 Mbit/s of uplink" in line and "60% of the most the 4 cells carry" in line
    # the AMRs' detections: the largest share, named with its rate and size (a drone
    # operator's review: a rate_hz of 1500 was named as the ul_kb it sends)
    assert "field 'services[detect]'" in line and " devices x rate_hz 20 x ul_kb" in line


def test_a_link_too_slow_for_one_message_within_its_deadline_is_warned_about() -> None:
    """A lecturer's lab: capacity_gbps 0.001 (1 Mbit/s) carries a 15 kB upload in 120 ms, past
    a 50 ms deadline, and validated silently (the run dropped 371 of 390 link_full)."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "capacity_gbps" in w]
    d["transport"]["links"][0]["capacity_gbps"] = 0.001
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "capacity_gbps" in w]
    assert len(said) == 1 and "transport.links[0].capacity_gbps" in said[0]
    # the worst of the services against its deadline: inspect's 4 MB frame, 32 s at 1 Mbit/s
    worst = max(d["services"], key=lambda v: max(v.get("ul_kb", 0), v.get("dl_kb", 0))
                * 8e3 / 1e6 / (v["deadline_ms"] * 1e-3))
    assert f"message of {worst['name']}" in said[0] and "Gbit/s" in said[0]


@pytest.mark.parametrize(("key", "value", "named"), [
    ("fiber_km", 600_000.0, "fiber_km is in km"),  # metres written as km
    ("extra_delay_ms", 10_000.0, "extra_delay_ms is in ms"),  # seconds written as ms
])
def test_a_link_whose_round_trip_outlasts_every_deadline_is_warned_about(
        key: str, value: float, named: str) -> None:
    """A drone maker's review: a cloud link of 600,000 km (or 10,000 ms) validated silently and
    its run ended with every cloud request in flight. Its round trip, 2 x (4.9 us/km + extra),
    against the loosest deadline of the services sent; the larger part named."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "there and back" in w]
    i = next(i for i, k in enumerate(d["transport"]["links"]) if "cloud" in (k["a"], k["b"]))
    d["transport"]["links"][i][key] = value
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "there and back" in w]
    assert len(said) == 1 and f"transport.links[{i}].{key}" in said[0] and named in said[0]
    loosest = max(v["deadline_ms"] for v in d["services"])
    assert f"the loosest: {loosest:g} ms" in said[0]
    # a link whose round trip just fits the loosest deadline is not
    d["transport"]["links"][i].update(fiber_km=0.0, extra_delay_ms=loosest / 2 - 1.0)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "there and back" in w]


def test_a_layout_spaced_closer_than_the_path_loss_holds_is_warned_about() -> None:
    """A drone maker's review: ``isd_m: 0.5`` (km written as m) passed quietly, and the only
    warning read "farther than the layout's inter-site distance (0 m)"."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("city").model_dump(mode="json", exclude_unset=True)
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "isd_m" in w]
    d["cell_layout"]["hex"]["isd_m"] = 0.5
    said = [w for w in scenario_warnings(scenario_from_dict(d)) if "isd_m" in w]
    assert len(said) == 1 and "sites 0.5 m apart" in said[0] and "10 m" in said[0]
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "(0 m)" in w]


def test_an_uplink_heavier_frame_outdoors_is_warned_of_as_unmodelled_cross_link() -> None:
    """A camera planner's review: DSUUU on public n78 (UMa) tripled the cameras a cell
    carries, silently; a neighbouring network in a downlink-heavier frame would interfere
    into its uplink slots, which the twin does not model. Indoors (InF), or at DDDSU, nothing
    is said."""
    from airan.scenario import load_scenario, scenario_from_dict
    from airan.scenario.load import scenario_warnings

    def said(name: str, frame: str) -> list[str]:
        d = load_scenario(name).model_dump(mode="json", exclude_unset=True)
        d.setdefault("carrier", {})["tdd_pattern"] = frame
        return [w for w in scenario_warnings(scenario_from_dict(d))
                if "cross-link interference" in w]

    (line,) = said("city", "DSUUU")
    assert "field 'carrier.tdd_pattern'" in line and "(got 'DSUUU')" in line
    assert said("city", "DDDSU") == [] and said("factory", "DDSUU") == []
    assert len(said("city", "DDSUU")) == 1  # 40% of the slots uplink, DDDSU's 20%


def test_a_deadline_below_the_radios_least_latency_is_warned_of() -> None:
    """A hospital planner's review: AR glasses at a 3 ms deadline validated silently and met 0
    of 447. Over the nr radio a request takes at least the grant's 2 ms after its scheduling
    request, a 0.5 ms slot up, the downlink's 0.5 ms scheduling delay and a slot down: 3.5 ms
    (factory, 30 kHz); under a configured grant 1.5 ms."""
    from airan.scenario.load import scenario_warnings

    d = airan.load_scenario("factory").model_dump(mode="json")
    d["services"][0]["deadline_ms"] = 3.0
    name = d["services"][0]["name"]
    [line] = [w for w in scenario_warnings(scenario_from_dict(d))
              if f"services[{name}].deadline_ms" in w and "over the radio" in w]
    assert "the least time a request takes over the radio, 3.5 ms" in line
    d["services"][0]["deadline_ms"] = 4.0
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "over the radio" in w]
    d["services"][0]["deadline_ms"] = 3.0
    d["radio"]["ul_access"] = "configured_grant"
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "over the radio" in w]
