"""``airan validate`` finds what a run would find: every bad input that used to pass validate
and fail only when the scenario ran (faults the world cannot apply, a policy without the sites it
needs, mobility the model cannot build, trace files that do not read, a path longer than the
engine's tables, a GPU that cannot run the L1 it is given, numbers that overflow) is one line
``error: <file>: field '<path>': ...``, exit code 2, without running anything."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from airan.cli import app
from airan.errors import InputError
from airan.scenario import builtin_scenarios, load_scenario
from airan.scenario.load import MAX_HOPS, scenario_warnings, transport_links
from airan.scenario.schema import Scenario

runner = CliRunner()

_BASES: dict[str, dict[str, Any]] = {}


def base(name: str = "factory") -> dict[str, Any]:
    if name not in _BASES:
        _BASES[name] = load_scenario(name).model_dump(mode="json", exclude_defaults=True)
    return copy.deepcopy(_BASES[name])


def write(tmp_path: Path, data: dict[str, Any], name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def validate(path: Path) -> Any:
    return runner.invoke(app, ["validate", str(path)])


def assert_rejected(result: Any, path: Path, field: str, *needles: str) -> str:
    """Exit 2, no traceback, one line ``error: <file>: field '<field>': ...``."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"error: {path}: field '{field}': "), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def site(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in d["compute_sites"] if s["name"] == name)


def trace_fleet(d: dict[str, Any], file: str, **spec: Any) -> None:
    d["fleets"][0]["mobility"] = {"model": "trace", "file": file, **spec}


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_builtin_scenarios_still_validate_without_warnings(name: str) -> None:
    result = runner.invoke(app, ["validate", name])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout
    assert scenario_warnings(load_scenario(name)) == []


# ---- faults: the check the engine makes when it builds them ------------------------------------
FAULTS: list[tuple[str, str, dict[str, Any], str, tuple[str, ...]]] = [
    ("gpu-down-more-gpus-than-the-site-has", "factory",
     {"kind": "gpu_down", "site": "on-prem", "gpus": 5, "start_s": 0},
     "faults[0].gpus", ("site 'on-prem' has 2 GPUs", "(got 5)")),
    ("gpu-down-on-a-generated-site-counts-its-gpus", "city",
     {"kind": "gpu_down", "site": "gpu-site0", "gpus": 2, "start_s": 0},
     "faults[0].gpus", ("site 'gpu-site0' has 1 GPUs",)),
    ("link-down-where-no-link-joins-the-nodes", "factory",
     {"kind": "link_down", "link": ["cell-a", "cloud"], "start_s": 0},
     "faults[0].link", ("no transport link joins 'cell-a' and 'cloud'",)),
    ("link-degraded-from-a-node-to-itself", "factory",
     {"kind": "link_degraded", "link": ["cloud", "cloud"], "start_s": 0},
     "faults[0].link", ("no transport link joins 'cloud' and 'cloud'",)),
    ("cell-down-on-a-sector-of-a-one-sector-site", "factory",
     {"kind": "cell_down", "cell": "cell-a/0", "start_s": 0},
     "faults[0].cell", ("'cell-a/0'", "did you mean 'cell-a'")),
    ("cell-down-on-a-sector-a-three-sector-site-lacks", "city",
     {"kind": "cell_down", "cell": "site0/5", "start_s": 0},
     "faults[0].cell", ("'site0/5'",)),
    ("site-down-on-an-unknown-site", "factory",
     {"kind": "site_down", "site": "on-prm", "start_s": 0},
     "faults[0].site", ("did you mean 'on-prem'",)),
    ("surge-of-an-unknown-fleet", "factory",
     {"kind": "surge", "fleet": "drones", "start_s": 0}, "faults[0].fleet", ("'drones'",)),
]


@pytest.mark.parametrize(("scenario", "fault", "field", "needles"),
                         [c[1:] for c in FAULTS], ids=[c[0] for c in FAULTS])
def test_fault_the_engine_cannot_apply_is_rejected_by_validate(
        tmp_path: Path, scenario: str, fault: dict[str, Any], field: str,
        needles: tuple[str, ...]) -> None:
    d = base(scenario)
    d["faults"] = [fault]
    path = write(tmp_path, d)
    line = assert_rejected(validate(path), path, field, *needles)
    # the engine, given the same scenario without the load-time checks, says the same
    from airan.engine import Engine

    with pytest.raises(InputError) as err:
        Engine(Scenario.model_validate(d), duration_s=0.01)
    assert line.endswith(str(err.value))


def test_link_fault_on_a_link_the_backhaul_rule_makes_validates(tmp_path: Path) -> None:
    d = base()  # cell-a has no link of its own: the backhaul joins it to factory-mec
    d["faults"] = [{"kind": "link_down", "link": ["factory-mec", "cell-a"], "start_s": 0}]
    assert validate(write(tmp_path, d)).exit_code == 0


def test_link_fault_on_a_cell_site_with_a_link_of_its_own_has_no_backhaul_link(
        tmp_path: Path) -> None:
    d = base()  # a cell site with a link gets no backhaul link (airan.engine.world)
    d["transport"]["links"].append({"a": "cell-a", "b": "regional-edge", "fiber_km": 1})
    d["faults"] = [{"kind": "link_down", "link": ["cell-a", "factory-mec"], "start_s": 0}]
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "faults[0].link", "no transport link joins")


# ---- policies that need a kind of compute site ---------------------------------------------------
@pytest.mark.parametrize(("policy", "keep", "needle"), [
    ("cloud", ("edge",), "needs a cloud compute site"),
    ("cloud", (), "needs a cloud compute site"),
    ("nearest-edge", (), "needs a compute site"),
    ("least-loaded", (), "needs a compute site"),
])
def test_policy_without_the_compute_sites_it_needs_is_rejected(
        tmp_path: Path, policy: str, keep: tuple[str, ...], needle: str) -> None:
    d = base()
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind", "edge") in keep]
    d["policy"] = policy
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "policy", f"policy {policy!r} {needle}")
    result = runner.invoke(app, ["run", str(path), "--no-report", "--out", str(tmp_path / "o")])
    assert_rejected(result, path, "policy", needle)  # found before the run starts


def test_policies_that_need_no_site_validate_without_one(tmp_path: Path) -> None:
    d = base()
    d["compute_sites"] = []
    for policy in ("deadline-aware", "local"):
        d["policy"] = policy
        assert validate(write(tmp_path, d)).exit_code == 0


def test_nearest_edge_with_only_a_cloud_site_validates(tmp_path: Path) -> None:
    d = base()  # nearest-edge falls back to any site where there is no edge
    d["compute_sites"] = [site(d, "cloud")]
    d["policy"] = "nearest-edge"
    assert validate(write(tmp_path, d)).exit_code == 0


# ---- mobility --------------------------------------------------------------------------------
def test_manhattan_block_larger_than_the_fleet_area_is_rejected(tmp_path: Path) -> None:
    d = base()
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 500, "speed_mps": [1, 2]}
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.block_m",
                    "leaves no street", "(got 500.0)")


def test_manhattan_block_larger_than_the_cells_bounding_box_is_rejected(tmp_path: Path) -> None:
    d = base()  # no area: the cells' bounding box with the engine's margin
    del d["fleets"][0]["area"]
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 1000, "speed_mps": [1, 2]}
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.block_m",
                    "x -20.0..140.0 m, y -35.0..95.0 m")


def test_manhattan_block_in_a_disc_too_small_for_a_street_is_rejected(tmp_path: Path) -> None:
    d = base()
    d["fleets"][0]["area"] = {"center_m": [60, 30], "radius_m": 20}
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 30, "speed_mps": [1, 2]}
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.block_m", "leaves no street")


def test_manhattan_grid_too_fine_to_build_is_rejected(tmp_path: Path) -> None:
    d = base()  # 1e-300 m blocks used to end in numpy's "Maximum allowed size exceeded"
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 1e-300, "speed_mps": [1, 2]}
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.block_m",
                    "more than 10,000,000 intersections")


@pytest.mark.parametrize(("area", "mobility", "field", "needle"), [
    # a 1 nm square: random waypoint walked ~4e8 legs in the first update and never ended it
    ({"x_m": [10, 10.000000001], "y_m": [10, 10.000000001]},
     {"model": "random_waypoint", "speed_mps": [1, 2]}, "speed_mps", "legs of"),
    ({"center_m": [10, 10], "radius_m": 1e-6},
     {"model": "random_waypoint", "speed_mps": [1, 2]}, "speed_mps", "legs of"),
    ({"x_m": [0, 1e-6], "y_m": [0, 1e-6]},
     {"model": "manhattan", "block_m": 1e-7, "speed_mps": [1, 2]}, "block_m", "blocks of"),
    # an update shorter than a slot moves once a slot: 1 us updates passed the check and hung
    ({"x_m": [10, 10.000000001], "y_m": [10, 10.000000001]},
     {"model": "random_waypoint", "speed_mps": [1, 2], "update_ms": 1e-6}, "speed_mps",
     "an update (0.5 ms)"),
], ids=["waypoint-square", "waypoint-disc", "manhattan", "sub-slot-update"])
def test_legs_tiny_against_an_update_are_rejected(tmp_path: Path, area: dict[str, Any],
                                                  mobility: dict[str, Any], field: str,
                                                  needle: str) -> None:
    d = base()
    d["fleets"][0]["area"] = area
    d["fleets"][0]["mobility"] = mobility
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, f"fleets[amr].mobility.{field}", needle,
                    "at most 1,000")


def test_a_workable_manhattan_grid_validates(tmp_path: Path) -> None:
    d = base()
    d["fleets"][0]["mobility"] = {"model": "manhattan", "block_m": 20, "speed_mps": [1, 2]}
    assert validate(write(tmp_path, d)).exit_code == 0


TRACES: list[tuple[str, str, dict[str, Any], str, tuple[str, ...]]] = [
    ("not-a-number", "t,device,x,y\n0,a,1,2\n1,a,abc,2\n", {},
     "fleets[amr].mobility.file", ("line 3: column 'x' value 'abc' is not a number",)),
    ("nan", "t,device,x,y\n0,a,nan,2\n", {}, "fleets[amr].mobility.file", ("'nan'",)),
    ("missing-column", "t,device,x\n0,a,1\n", {},
     "fleets[amr].mobility.columns.y", ("column 'y' is not in the file",)),
    ("no-samples", "t,device,x,y\n", {}, "fleets[amr].mobility.file", ("no samples",)),
    ("empty-file", "", {}, "fleets[amr].mobility.file", ("empty",)),
    ("latitude-out-of-range", "t,device,lat,lon\n0,a,95,10\n", {"latlon": True},
     "fleets[amr].mobility.latlon", ("latitude 95",)),
    ("beyond-the-map", "t,device,x,y\n0,a,1e300,2\n1,a,-1e300,2\n", {},
     "fleets[amr].mobility.file", ("x 1e+300", "10,000 km")),
    ("height-beyond-the-map", "t,device,x,y,z\n0,a,1,2,1e300\n", {},
     "fleets[amr].mobility.file", ("z 1e+300",)),
    # above a fleet's height_m's top, as a waypoint's z (a diff review: a trace's z took up
    # to 10,000 km where a waypoint's took 1,000 m)
    ("higher-than-a-fleet-may-be", "t,device,x,y,z\n0,a,1,2,0\n1,b,1,2,1500\n", {},
     "fleets[amr].mobility.file", ("device 'b' at t 1 s is 1500 m above ground",
                                   "at most 1000 m")),
    ("bad-sumo-xml", "<fcd-export><timestep time='0'>", {"format": "sumo_fcd"},
     "fleets[amr].mobility.file", ("not valid SUMO FCD XML",)),
]


@pytest.mark.parametrize(("text", "spec", "field", "needles"), [c[1:] for c in TRACES],
                         ids=[c[0] for c in TRACES])
def test_malformed_trace_is_rejected_naming_the_scenario_and_the_trace(
        tmp_path: Path, text: str, spec: dict[str, Any], field: str,
        needles: tuple[str, ...]) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(text)
    d = base()
    trace_fleet(d, "trace.csv", **spec)  # relative: to the scenario's folder
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, field, f"{trace}: ", *needles)


def test_unreadable_trace_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_bytes(b"\xff\xfe\x00garbage")
    d = base()
    trace_fleet(d, "trace.csv")
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.file", "UTF-8")


def test_missing_trace_is_rejected(tmp_path: Path) -> None:
    d = base()
    trace_fleet(d, "nowhere.csv")
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.file", "trace file not found")
    (tmp_path / "traces").mkdir()  # a folder where the trace should be: said so
    trace_fleet(d, "traces")
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "fleets[amr].mobility.file",
                    "is a folder, not a trace file")


def test_a_good_trace_next_to_the_scenario_validates(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("t,device,x,y\n0,a,1,2\n1,a,3,2\n")
    d = base()
    trace_fleet(d, "trace.csv")
    assert validate(write(tmp_path, d)).exit_code == 0


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.update(engine={"decision_interval_ms": 1e300}),
     "engine.decision_interval_ms"),
    (lambda d: d["fleets"][0].update(mobility={"model": "random_waypoint", "speed_mps": [1, 2],
                                               "pause_s": [1e300, 1e300]}),
     "fleets[amr].mobility.pause_s[0]"),
    (lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 1,
                                               "paths": [[[0, 0, 1e300], [10, 0, 1]]]}),
     "fleets[amr].mobility.paths[0][0][2]"),
    (lambda d: d["fleets"][0].update(mobility={"model": "waypoints", "speed_mps": 1,
                                               "generate": {"altitude_m": [1, 1e300]}}),
     "fleets[amr].mobility.generate.altitude_m[1]"),
    (lambda d: d.update(radio={"load_time_constant_ms": 1e300}), "radio.load_time_constant_ms"),
    (lambda d: d.update(handover={"hysteresis_db": 1e300}), "handover.hysteresis_db"),
], ids=["decision-interval", "pause", "waypoint-height", "generated-altitude",
        "load-time-constant", "hysteresis"])
def test_numbers_that_overflowed_in_a_run_are_rejected(
        tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str) -> None:
    d = base()
    change(d)
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, field, "less than or equal to")


# ---- the transport network --------------------------------------------------------------------
def chain(d: dict[str, Any], links: int) -> None:
    """A compute site ``links`` links beyond the regional edge (factory-mec is one closer to
    the cells: the path from the site to a cell has ``links`` + 2 links)."""
    names = [f"n{i}" for i in range(links)]
    d["nodes"] += [{"name": n} for n in names]
    ends = ["regional-edge", *names]
    d["transport"]["links"] += [{"a": a, "b": b, "fiber_km": 1}
                                for a, b in zip(ends, ends[1:], strict=False)]
    d["compute_sites"].append({"name": "far", "at": names[-1], "gpus": [{"type": "L4",
                                                                          "count": 1}]})


def test_path_longer_than_the_engine_holds_is_rejected_as_the_engine_reports_it(
        tmp_path: Path) -> None:
    d = base()
    chain(d, MAX_HOPS - 1)  # n6 -> ... -> regional-edge -> factory-mec -> cell-a: 9 links
    path = write(tmp_path, d)
    line = assert_rejected(validate(path), path, "transport.links",
                           f"path from n6 to cell-a has more than {MAX_HOPS} hops")
    from airan.engine import Engine

    with pytest.raises(InputError) as err:
        Engine(Scenario.model_validate(d), duration_s=0.01)
    assert line.endswith(str(err.value))


def test_path_of_the_most_hops_the_engine_holds_validates(tmp_path: Path) -> None:
    d = base()
    chain(d, MAX_HOPS - 2)
    assert validate(write(tmp_path, d)).exit_code == 0


def test_transport_links_have_the_fibre_delay_and_the_backhaul_rule() -> None:
    """factory's links by hand: 4.9 us/km of fibre plus the extra delay plus a 5 us hop, both
    ways; every cell site to factory-mec by backhaul, 1.5 x the straight line, at 10 Gbit/s."""
    from airan.engine import world

    s = load_scenario("factory")
    net = transport_links(s)
    hop = 5e-6
    want = {("factory-mec", "regional-edge"): (30 * 4.9e-6 + hop, 10e9),
            ("regional-edge", "cloud"): (400 * 4.9e-6 + 8e-3 + hop, 10e9)}
    mec = np.array([60.0, 30.0])
    for name, xy in (("cell-a", (30, 15)), ("cell-b", (90, 15)), ("cell-c", (30, 45)),
                     ("cell-d", (90, 45))):
        km = float(np.hypot(*(np.asarray(xy) - mec))) / 1e3
        want[(name, "factory-mec")] = (1.5 * km * 4.9e-6 + hop, 10e9)
    got = {(net.node_names[a], net.node_names[b]): (d, c) for a, b, d, c in
           zip(net.link_a, net.link_b, net.link_delay_s, net.link_cap_bps, strict=True)}
    assert len(got) == 2 * len(want)
    for (a, b), (delay_s, cap) in want.items():
        for key in ((a, b), (b, a)):
            assert got[key][0] == pytest.approx(delay_s, rel=1e-12), key
            assert got[key][1] == cap, key
    w = world.build_world(s, 1)  # the engine's links are these
    np.testing.assert_array_equal(net.link_delay_s, w.link_delay_s)


def test_compute_site_no_cell_reaches_is_a_warning_not_an_error(tmp_path: Path) -> None:
    """The engine runs such a scenario (requests sent there end dropped, reason no_route; see
    tests/test_scenario_checks.py): validate accepts it and names the site as a warning."""
    d = base()
    d["nodes"].append({"name": "island"})
    d["compute_sites"].append({"name": "isl", "at": "island", "gpus": [{"type": "L4",
                                                                         "count": 1}]})
    path = write(tmp_path, d)
    assert validate(path).exit_code == 0
    warnings = scenario_warnings(load_scenario(path), label=str(path))
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: field 'compute_sites[isl].at': no cell reaches")
    result = validate(path)  # printed on stderr, after the description
    text = result.output + getattr(result, "stderr", "")
    assert "warning: " in text and "compute_sites[isl].at" in text and "(1 warning)" in text
    assert "warning" not in validate(write(tmp_path, base())).output  # the base has none


def test_an_upload_larger_than_the_uplink_buffer_is_a_warning_and_every_request_drops(
        tmp_path: Path) -> None:
    """A frame that never fits its fleet's buffer is dropped (buffer_full) whenever it is sent
    over the radio: validate and run say so before the run; the run shows it."""
    d = base()
    arms = next(f for f in d["fleets"] if "vla" in f["services"])
    vla = next(v for v in d["services"] if v["name"] == "vla")
    vla["ul_kb"] = 2000.0
    arms["ul_buffer_kb"] = 1000.0
    path = write(tmp_path, d)
    # (2 MB frames at 5 Hz also offer the cells more uplink than they carry: warned apart)
    warnings = [w for w in scenario_warnings(load_scenario(path), label=str(path))
                if "Mbit/s of uplink" not in w]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}: field 'fleets[{arms['name']}].ul_buffer_kb': "
                                  "service 'vla' uploads 2000 KB")
    result = runner.invoke(app, ["run", str(path), "--policy", "cloud", "--duration", "0.5",
                                 "--out", str(tmp_path / "run"), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output + getattr(result, "stderr", "")
    import json

    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    vla_s = s["services"]["vla"]
    assert vla_s["count"] > 0 and vla_s["dropped"] == vla_s["count"]
    assert s["requests"]["dropped_by_reason"]["buffer_full"] >= vla_s["count"]
    d["radio"]["model"] = "ideal"  # no radio buffer: nothing to warn about
    assert scenario_warnings(load_scenario(write(tmp_path, d, "ideal.yaml"))) == []
    arms["ul_queue"] = "latest"  # ... but a queue rule that cannot act is
    warnings = scenario_warnings(load_scenario(write(tmp_path, d, "ideal2.yaml")))
    assert len(warnings) == 1 and f"fleets[{arms['name']}].ul_queue" in warnings[0]


def test_batching_for_a_model_no_service_uses_is_rejected_with_a_suggestion(
        tmp_path: Path) -> None:
    d = base()
    d["compute_sites"][0].setdefault("batching", {})["models"] = {"openvla7b": {"max_batch": 1}}
    path = write(tmp_path, d)
    result = validate(path)
    assert result.exit_code == 2
    text = result.output + getattr(result, "stderr", "")
    assert f"compute_sites[{d['compute_sites'][0]['name']}].batching.models" in text
    assert "openvla-7b" in text  # the close match


# ---- AI-RAN --------------------------------------------------------------------------------
def test_ai_ran_on_a_gpu_that_cannot_run_the_l1_is_rejected(tmp_path: Path) -> None:
    d = base()
    d["ai_ran"] = {"mode": "dynamic"}
    d["compute_sites"].append({"name": "cell-gpu", "at": "cell-a", "kind": "cell",
                               "gpus": [{"type": "JetsonThor", "count": 1}]})
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "ai_ran.mode",
                    "compute site 'cell-gpu' hosts the L1 of its cells but its GPU "
                    "'JetsonThor' cannot run L1")


def test_mig_mode_on_a_gpu_without_mig_is_rejected(tmp_path: Path) -> None:
    d = base()
    d["compute_sites"].append({"name": "cell-gpu", "at": "cell-a", "kind": "cell",
                               "gpus": [{"type": "L40S", "count": 1}]})
    d["ai_ran"] = {"mode": "dynamic"}  # airan lets an L40S run the L1 beside AI ...
    assert validate(write(tmp_path, d)).exit_code == 0
    d["ai_ran"] = {"mode": "mig"}  # ... but cannot be split into MIG instances
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "ai_ran.mode",
                    "compute site 'cell-gpu' hosts the L1 of its cells on a MIG instance but "
                    "its GPU 'L40S' has no MIG")


def test_ai_ran_on_generated_sites_checks_their_gpu(tmp_path: Path) -> None:
    d = base("city")
    d["ai_ran"] = {"mode": "mig"}
    d["generated_compute_sites"]["gpus"] = [{"type": "JetsonThor", "count": 1}]
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "ai_ran.mode", "'gpu-site0'")


# ---- settings validate accepts that make a run say little (a review) --------------------------
def _factory_with(change: Callable[[dict[str, Any]], None]) -> Scenario:
    from airan.scenario import scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json")
    change(d)
    return scenario_from_dict(d)


@pytest.mark.parametrize(("change", "field", "says"), [
    (lambda d: d["fleets"][0].update(height_m=1000.0), "fleets[amr].height_m",
     "covers UE heights up to 22.5 m"),
    (lambda d: d["fleets"][0].update(mobility={
        "model": "waypoints", "speed_mps": 10.0, "paths": [[[10, 10, 1000.0], [20, 10, 50.0]]]}),
     "fleets[amr].mobility.paths", "covers UE heights up to 22.5 m"),
    (lambda d: d["compute_sites"][0]["batching"].update(max_wait_ms=1000.0),
     "compute_sites[on-prem].batching.max_wait_ms",
     "waits 1000 ms, at or beyond the 50 ms deadline of service 'detect'"),
    (lambda d: d["radio"].update(min_sinr_db=40.0), "radio.min_sinr_db",
     "above 30.7 dB, the SINR at which the spectral efficiency reaches its cap"),
])
def test_a_setting_that_makes_the_run_meaningless_is_warned_about(
        change: Callable[[dict[str, Any]], None], field: str, says: str) -> None:
    """Each ran without a word: drones 10,000 km up served as at 50 m (the path loss is taken at
    22.5 m), a 1 s batching wait or a 40 dB SINR floor missed every deadline."""
    warnings = [w for w in scenario_warnings(_factory_with(change)) if f"'{field}'" in w]
    assert len(warnings) == 1 and says in warnings[0], warnings


def test_a_fleet_too_large_for_this_machines_memory_is_warned_about(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from airan.scenario.load import BYTES_PER_DEVICE

    sc = _factory_with(lambda d: d["fleets"][0].update(count=2_000_000))
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": int(5e9 / 4096)}  # a 5 GB machine
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    (warning,) = [w for w in scenario_warnings(sc) if "'fleets'" in w]
    assert f"about {2_000_018 * BYTES_PER_DEVICE / 1e9:.0f} GB" in warning
    assert "more than half of this machine's 5 GB" in warning
    pages["SC_PHYS_PAGES"] = int(64e9 / 4096)  # plenty: nothing to say
    assert not [w for w in scenario_warnings(sc) if "'fleets'" in w]


def test_an_empty_tdd_pattern_is_said_to_be_empty() -> None:
    with pytest.raises(InputError, match="TDD pattern is empty"):
        _factory_with(lambda d: d["carrier"].update(tdd_pattern=""))


# ---- the cell's height (a review: every cell defaulted to UMa's 25 m mast) --------------------
def _cells_without_height(env: str) -> dict[str, Any]:
    d = base()  # factory: four ceiling cells at 8 m
    d["radio"]["environment"] = env
    d["radio"].pop("clutter_height_m", None)
    for c in d["cell_sites"]:
        del c["height_m"]
    return d


@pytest.mark.parametrize(("env", "h_bs"), [
    ("uma", 25.0), ("umi", 10.0),  # TR 38.901 Table 7.4.1-1
    ("inh", 3.0),  # Table 7.2-1, ceiling
    ("inf-sl", 1.5), ("inf-dl", 1.5), ("inf-sh", 8.0), ("inf-dh", 8.0),  # Table 7.2-4
])
def test_a_cell_without_a_height_takes_its_environments(env: str, h_bs: float) -> None:
    from airan.scenario import scenario_from_dict

    d = _cells_without_height(env)
    d["cell_layout"] = {"hex": {"rings": 0, "isd_m": 200.0}, "sectors": 1}
    sc = scenario_from_dict(d)
    assert [c.height_m for c in sc.cell_sites] == [h_bs] * 4
    assert sc.cell_layout is not None and sc.cell_layout.height_m == h_bs
    # written out without it, so that it reloads with its environment's (a sweep over
    # radio.environment): UMi's 10 m, not the height of the environment it was read in
    again = sc.model_dump(mode="json")
    assert "height_m" not in again["cell_sites"][0] and "height_m" not in again["cell_layout"]
    again["radio"]["environment"] = "umi"
    assert scenario_from_dict(again).cell_sites[0].height_m == 10.0
    # one that gives its own keeps it, and writes it out
    d["cell_sites"][0]["height_m"] = 9.0
    sc = scenario_from_dict(d)
    assert sc.cell_sites[0].height_m == 9.0
    assert sc.model_dump()["cell_sites"][0]["height_m"] == 9.0


@pytest.mark.parametrize(("env", "h_bs"), [("umi", 1.0), ("uma", 1.5), ("umi", 0.5)])
def test_an_outdoor_cell_at_or_below_the_ue_is_rejected_by_name(
        tmp_path: Path, env: str, h_bs: float) -> None:
    """TR 38.901 Table 7.4.1-1 Note 1: d'BP = 4 (hBS - 1)(hUT - 1) fc / c vanishes at hBS = 1 m,
    and every LOS link falls on PL2: UMi, 50 m at 3.5 GHz, 117 dB where free space is 77 dB."""
    from math import hypot, log10

    from airan.radio.pathloss import pathloss_db

    pl = float(pathloss_db("umi", 50.0, hypot(50.0, 0.5), 3.5, 1.0, 1.5, True))
    free_space = 20 * log10(4 * np.pi * hypot(50.0, 0.5) * 3.5e9 / 3e8)
    assert pl - free_space > 35.0  # why it is an error, not a warning
    d = _cells_without_height(env)
    d["cell_sites"][1]["height_m"] = h_bs
    path = write(tmp_path, d)
    assert_rejected(validate(path), path, "cell_sites[cell-b].height_m", f"{h_bs:g}",
                    "breakpoint")


def test_an_outdoor_cell_off_the_trs_height_or_below_a_fleet_is_warned_about() -> None:
    from airan.scenario import scenario_from_dict

    d = _cells_without_height("uma")
    d["cell_sites"][2]["height_m"] = 40.0
    warnings = scenario_warnings(scenario_from_dict(d))
    off = [w for w in warnings if "'cell_sites[cell-c].height_m'" in w]
    assert len(off) == 1 and "hBS = 25 m" in off[0] and "40" in off[0], warnings
    d["fleets"][0]["height_m"] = 12.0
    d["radio"]["environment"] = "umi"  # the others at UMi's 10 m, below the fleet
    warnings = scenario_warnings(scenario_from_dict(d))
    above = [w for w in warnings if f"'fleets[{d['fleets'][0]['name']}].height_m'" in w]
    assert len(above) == 1 and "at or above the cell" in above[0], warnings
    assert not [w for w in scenario_warnings(load_scenario("city")) if "hBS" in w]


# ---- a field written in the wrong section (a review) -------------------------------------------
@pytest.mark.parametrize(("section", "key", "value", "field", "says"), [
    # was "did you mean 'battery_wh'?"
    ("fleets", "rate_hz", 10.0, "fleets[amr].rate_hz",
     "'rate_hz' is a field of services[...], not of fleets[amr]"),
    # was the service's own fields alone
    ("services", "accelerator", "JetsonOrin", "services[detect].accelerator",
     "'accelerator' is a field of fleets[...], not of services[detect]"),
    ("cell_sites", "gpus", [{"type": "L4", "count": 1}], "cell_sites[cell-a].gpus",
     "compute_sites[...]"),
    (None, "deadline_ms", 50.0, "deadline_ms",
     "'deadline_ms' is a field of services[...], not of the scenario's top level"),
])
def test_a_field_of_another_section_says_where_it_belongs(
        tmp_path: Path, section: str | None, key: str, value: Any, field: str,
        says: str) -> None:
    d = base()
    (d if section is None else d[section][0])[key] = value
    path = write(tmp_path, d)
    line = assert_rejected(validate(path), path, field, f"unknown field '{key}'", says)
    assert "did you mean" not in line


def test_a_height_written_at_the_schemas_default_survives_a_compact_dump() -> None:
    """A UMi scenario that writes its cells at 25 m (the schema's default, UMa's height): a
    plan.yaml, which leaves out defaults, still says 25 m, so it reloads as it was evaluated
    (it reloaded at UMi's 10 m: a review)."""
    from airan.planner.output import _compact_document
    from airan.scenario import scenario_from_dict

    d = _cells_without_height("umi")
    for c in d["cell_sites"]:
        c["height_m"] = 25.0
    sc = scenario_from_dict(d)
    again = scenario_from_dict(_compact_document(sc))
    assert [c.height_m for c in again.cell_sites] == [25.0] * len(d["cell_sites"])


@pytest.mark.parametrize(("env", "h_bs"), [("uma", 25.0), ("umi", 10.0)])
def test_imported_sites_stand_at_their_environments_height(
        tmp_path: Path, env: str, h_bs: float) -> None:
    """Sites read from cell_sites_file stand at TR 38.901's hBS of the scenario's environment,
    as written sites without a height do (they stood at 25 m in UMi too)."""
    from airan.engine import Engine
    from airan.scenario import scenario_from_dict

    (tmp_path / "sites.csv").write_text("id,latitude,longitude\nA,31.20,121.40\n"
                                        "B,31.21,121.41\n")
    d = load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None, compute_sites=[], nodes=[],
             transport={"links": []},
             cell_sites_file={"path": str(tmp_path / "sites.csv"), "name": "id"})
    d["radio"]["environment"] = env
    d["fleets"] = [dict(d["fleets"][0], count=3, area={"x_m": [-300, 300], "y_m": [-300, 300]})]
    world = Engine(scenario_from_dict(d), duration_s=0.01).world
    assert np.all(world.device_radio.cell_h == h_bs)


@pytest.mark.parametrize(("section", "key", "value", "field", "says"), [
    # a carrier's field under a cell site: its own carrier, not the top-level one
    ("cell_sites", "band", "n78", "cell_sites[cell-a].band",
     "'band' is a field of cell_sites[cell-a].carrier, not of cell_sites[cell-a]"),
    # 'name' is a field of many sections: this one's close match, as for any misspelling
    ("cell_layout", "name", "x", "cell_layout.name", "did you mean 'name_prefix'?"),
    # a slip of the keys stays a misspelling, though 'service' might be read as another's
    ("fleets", "servics", ["detect"], "fleets[amr].servics", "did you mean 'services'?"),
])
def test_a_misspelling_is_told_apart_from_a_field_of_another_section(
        tmp_path: Path, section: str, key: str, value: Any, field: str, says: str) -> None:
    d = base()
    if section == "cell_layout":
        d["cell_layout"] = {"hex": {"rings": 0, "isd_m": 200.0}}
    target = d[section] if isinstance(d[section], dict) else d[section][0]
    target[key] = value
    path = write(tmp_path, d)
    line = assert_rejected(validate(path), path, field, f"unknown field '{key}'", says)
    assert "Accepted:" in line  # this section's fields, either way


def test_aerial_ues_are_warned_about_only_above_tr_36_777s_300_m(tmp_path: Path) -> None:
    """Under UMa/UMi cells a drone above 22.5 m is an aerial UE (TR 36.777 Annex B, up to 300
    m): at 120 m nothing to say (not 'at or above the cell' either: the TR's formulas mean
    it); at 1,000 m, or a trace's heights up to 400 m, the radio takes it at 300 m and says so
    (a drone maker's review: a trace's heights went unremarked)."""
    from airan.scenario import scenario_from_dict

    def city_with(fleet: dict[str, Any]) -> list[str]:
        d = load_scenario("city").model_dump(mode="json")
        d["fleets"].append({"name": "uav", "count": 2, "device_class": "drone",
                            "services": [d["services"][0]["name"]], **fleet})
        return [w for w in scenario_warnings(scenario_from_dict(d)) if "fleets[uav]" in w]

    assert city_with({"height_m": 120.0}) == []
    [w] = city_with({"height_m": 1000.0})
    assert "fly up to 300 m" in w and "'fleets[uav].height_m'" in w
    trace = tmp_path / "uav.csv"
    trace.write_text("t,device,x,y,z\n0,a,0,0,80\n10,a,100,0,400\n0,b,50,50,90\n"
                     "10,b,50,50,90\n")  # (both in the trace the whole 10 s run)
    [w] = city_with({"mobility": {"model": "trace", "file": str(trace)}})
    assert "fly up to 300 m" in w and "'fleets[uav].mobility.file'" in w and "400" in w


def test_a_fleet_spread_far_beyond_the_cells_is_warned_about() -> None:
    """A drone maker's review: a 4 km disc over 7 sites ~0.75 km across validated silently and
    met 17% of its deadlines. city's own square (its corners beyond the cells) is not named;
    the same fleet over a 10 km disc is, with the share of its area beyond the layout's 500 m
    inter-site distance from every site."""
    from airan.scenario import scenario_from_dict

    d = load_scenario("city").model_dump(mode="json")
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if ".area'" in w]
    d["fleets"][0]["area"] = {"center_m": [0, 0], "radius_m": 10_000}
    [w] = [w for w in scenario_warnings(scenario_from_dict(d)) if ".area'" in w]
    assert f"'fleets[{d['fleets'][0]['name']}].area'" in w
    assert "of this fleet's area lies beyond the cell sites, farther than the layout's " \
        "inter-site distance" in w
    share = int(w.split("% of this fleet's area")[0].rsplit(" ", 1)[-1])
    assert 80 <= share <= 100  # (the cells cover ~3 x 3 km of the 314 km2 disc)


def test_cell_sites_closer_than_ten_metres_on_one_carrier_are_warned_about(
        tmp_path: Path) -> None:
    """An operator planner's review: two imported sites 2.98 m apart ran as two co-channel
    interferers of each other (median SINR around them 2.9 dB against 6.3 elsewhere) and
    nothing said so. Two carriers on one mast (sites at one position on other channels) are
    no such pair; merge_within_m merges an imported pair."""
    from airan.scenario import scenario_from_dict

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d.pop("cell_layout")
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind") != "cell"]
    d["cell_sites"] = [{"name": "a", "position_m": [0, 0]}, {"name": "b", "position_m": [3, 0]},
                       {"name": "c", "position_m": [500, 0]}]

    def close(doc: dict) -> list[str]:
        return [w for w in scenario_warnings(scenario_from_dict(doc)) if "closer than 10 m" in w]

    [w] = close(d)
    assert "'cell_sites[b].position_m'" in w and "(a and b: 3.0 m)" in w
    d["cell_sites"][1]["carrier"] = {**d["carrier"], "band": "n41", "fc_ghz": 2.6}
    assert close(d) == []  # another channel on the same mast
    csv = tmp_path / "sites.csv"
    csv.write_text("latitude,longitude\n31.2300,121.4700\n31.2300,121.47003\n"
                   "31.2350,121.4750\n")
    d["cell_sites"] = []
    d["cell_sites_file"] = {"path": str(csv)}
    [w] = close(d)
    assert "'cell_sites_file.merge_within_m'" in w and "site0 and site1" in w
    d["cell_sites_file"]["merge_within_m"] = 10
    assert close(d) == []
    # a listed site on a file's is no merge_within_m's (it merges the file's rows alone), and
    # a layout's own spacing has its own warning (a diff review: both were advised otherwise)
    d["cell_sites"] = [{"name": "x", "position_m": [0.0, 2.0]}]
    [w] = close(d)
    assert "'cell_sites[x].position_m'" in w and "move or remove one of them" in w
    d["cell_sites"], d["cell_sites_file"] = [], None
    d["cell_layout"] = {"hex": {"rings": 1, "isd_m": 5}}
    assert close(d) == []
    assert [w for w in scenario_warnings(scenario_from_dict(d)) if "isd_m" in w]


def test_a_real_networks_gaps_between_its_sites_are_not_beyond_the_cells() -> None:
    """An operator planner's review: a Shanghai district whose dense core spaces its sites 112
    m apart read "66% of this fleet's area lies farther than the layout's inter-site
    distance", where the run left no device out of coverage. A dense core and a sparse ring
    around it: the area they surround is the cells', however far from the nearest site; the
    same fleet spread 3 km beyond the ring is warned of."""
    from airan.scenario import scenario_from_dict

    d = load_scenario("city").model_dump(mode="json", exclude_unset=True)
    d.pop("cell_layout")
    core = [(x, y) for x in range(-200, 201, 100) for y in range(-200, 201, 100)]
    ring = [(1500.0 * np.cos(a), 1500.0 * np.sin(a)) for a in np.arange(8) * np.pi / 4]
    d["cell_sites"] = [{"name": f"s{i}", "position_m": [float(x), float(y)]}
                       for i, (x, y) in enumerate(core + ring)]
    d["compute_sites"] = [c for c in d["compute_sites"] if c.get("kind") != "cell"]
    d["fleets"][0]["area"] = {"x_m": [-1000, 1000], "y_m": [-1000, 1000]}
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if ".area'" in w]
    d["fleets"][0]["area"] = {"x_m": [-4500, 4500], "y_m": [-4500, 4500]}
    [w] = [w for w in scenario_warnings(scenario_from_dict(d)) if ".area'" in w]
    # (the spacing: the median distance from a site to its third nearest, 100 m in the core)
    assert "lies beyond the cell sites, farther than the layout's inter-site distance (100 m)" in w
    # sites on a road (no hull) keep the nearest's spacing: 500 m apart read as 500, and a
    # wide box over them is warned of (a diff review: the third nearest made it 1,000)
    d["cell_sites"] = [{"name": f"r{i}", "position_m": [500.0 * (i - 4), 1.5 * (i % 2)]}
                       for i in range(9)]  # (1.5 m of jitter across: a road from lat/lon)
    d["fleets"][0]["area"] = {"x_m": [-2200, 2200], "y_m": [-1200, 1200]}
    [w] = [w for w in scenario_warnings(scenario_from_dict(d)) if ".area'" in w]
    assert "inter-site distance (500 m)" in w


def test_a_run_past_its_mobility_traces_samples_is_warned_about(tmp_path: Path) -> None:
    """A vehicle maker's review: a 12 s SUMO trace under a 20 s run (or start_s 100) validated
    as 'valid' and its cars stood still, sending, after it; a CSV trace that is XML offered
    the XML declaration as a column name."""
    from airan.scenario import scenario_from_dict

    trace = tmp_path / "cars.csv"
    trace.write_text("t,device,x,y\n0,a,0,0\n12,a,150,0\n0,b,50,50\n12,b,50,200\n")

    def warned(start_s: float, duration_s: float) -> list[str]:
        d = load_scenario("city").model_dump(mode="json")
        d["duration_s"] = duration_s
        d["fleets"].append({"name": "cars", "count": 2, "device_class": "vehicle",
                            "services": [d["services"][0]["name"]],
                            "mobility": {"model": "trace", "file": str(trace),
                                         "start_s": start_s}})
        return [w for w in scenario_warnings(scenario_from_dict(d)) if "fleets[cars]" in w]

    assert warned(0.0, 10.0) == []
    past, share = warned(0.0, 20.0)  # (and the cars send for 60% of it: its first 12 s)
    assert "'fleets[cars].mobility.start_s'" in past and "reaches 8 s past the trace's last " \
        "sample (t 12 s)" in past and "in the trace for 60% of the run" in share
    past, share = warned(100.0, 10.0)
    assert "starts after the trace's last sample" in past
    assert "in the trace for 0% of the run" in share
    trace.write_text("t,device,x,y\n0,a,0,0\n5,a,50,0\n5,a,60,0\n12,a,150,0\n"
                     "0,b,50,50\n12,b,50,200\n5,b,50,100\n5,b,50,100\n")
    with pytest.raises(InputError, match=r"device 'a' has two samples at t 5 s at different "
                       r"positions \(50, 0\) and \(60, 0\)"):
        warned(0.0, 10.0)  # (b's repeated sample, at one place, is no clash)
    xml = tmp_path / "cars.fcd.xml"
    xml.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<fcd-export>\n</fcd-export>\n')
    trace.write_text(xml.read_text())
    with pytest.raises(InputError, match="the file is XML, not CSV: .* format: sumo_fcd"):
        warned(0.0, 10.0)


def test_a_ue_power_above_every_fr1_power_class_is_warned_about() -> None:
    """An operator's planner: 40 dBm as a UE's power was taken silently (TS 38.101-1 Table
    6.2.1-1 tops out at 31 dBm, class 1 on n14); class 2's 26 dBm on a fleet is not named."""
    from airan.scenario import scenario_from_dict

    d = load_scenario("city").model_dump(mode="json")
    d["fleets"][0]["ue_tx_power_dbm"] = 26.0
    assert not [w for w in scenario_warnings(scenario_from_dict(d)) if "power class" in w]
    d["fleets"][0]["ue_tx_power_dbm"] = 40.0
    d["radio"]["ue_tx_power_dbm"] = 33.0  # (40 is the schema's bound)
    radio, fleet = [w for w in scenario_warnings(scenario_from_dict(d)) if "power class" in w]
    assert "'radio.ue_tx_power_dbm'" in radio and "33 dBm is above every FR1 UE power" in radio
    assert f"'fleets[{d['fleets'][0]['name']}].ue_tx_power_dbm'" in fleet and "40 dBm" in fleet
