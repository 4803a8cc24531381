"""validate warns where a policy of fixed placement sends a service to a site whose GPUs take
longer than its deadline at batch 1 though a faster GPU elsewhere could meet it (a mine
planner's review: OpenVLA on the control room's L4s met 0 under nearest-edge, validate silent
because the cloud's H100s could)."""

from __future__ import annotations

from typing import Any

import pytest
from one_cell import lab_cameras, validate_dict

from airan.catalog import load_gpus, load_models
from airan.cli import _policy_site_warnings
from airan.compute.roofline import service_time_table_s
from airan.scenario.load import scenario_from_dict, scenario_warnings


def _rigs(edge_gpu: str = "L4", policy: str = "nearest-edge") -> dict[str, Any]:
    """The lab cell with its edge site (one ``edge_gpu``), a cloud of H100s 300 km away, and
    four drill rigs asking a VLA (openvla-7b) for an action every 200 ms."""
    d = lab_cameras({"x_m": [10, 50], "y_m": [10, 50]}, ul_kb=20)
    d["policy"] = policy
    d["nodes"].append({"name": "dc"})
    d["compute_sites"][0]["gpus"] = [{"type": edge_gpu, "count": 1}]
    d["compute_sites"].append({"name": "cloud", "at": "dc", "kind": "cloud",
                               "gpus": [{"type": "H100", "count": 8}]})
    d["transport"]["links"] = [{"a": "mec", "b": "dc", "fiber_km": 300}]
    d["fleets"] = [{"name": "rigs", "count": 4, "services": ["act"], "accelerator": "none",
                    "area": {"x_m": [10, 50], "y_m": [10, 50]}}]
    d["services"] = [{"name": "act", "model": "openvla-7b", "rate_hz": 5, "ul_kb": 20,
                      "dl_kb": 0.028, "deadline_ms": 200}]
    return d


def _said(d: dict[str, Any], policy: str | None = None) -> list[str]:
    return _policy_site_warnings(scenario_from_dict({**d, "policy": policy or d["policy"]}),
                                 "rigs")


def test_nearest_edge_to_an_l4_too_slow_for_a_vla_is_warned_with_the_faster_gpu_named() -> None:
    (line,) = _said(_rigs())
    # the L4's batch-1 time, 7B parameters read from memory per token at 300 GB/s
    l4 = float(service_time_table_s(load_models()["openvla-7b"], load_gpus()["L4"], 1)[1])
    h100 = float(service_time_table_s(load_models()["openvla-7b"], load_gpus()["H100"], 1)[1])
    assert 0.3 < l4 < 0.45 and h100 < 0.2  # (memory-bound decode: ~15 GB / 300 GB/s per token)
    assert "policy 'nearest-edge' sends every act request to edge" in line
    assert f"{l4 * 1e3:.3g} ms at batch 1 (an L4)" in line
    assert f"compute site cloud (H100) would take {h100 * 1e3:.3g} ms" in line
    assert "services[act].deadline_ms" in line


@pytest.mark.parametrize("policy", ["deadline-aware", "cloud", "least-loaded", "site:cloud"])
def test_a_policy_that_can_use_the_fast_gpu_is_not_warned(policy: str) -> None:
    assert _said(_rigs(policy=policy)) == []


def test_site_name_sends_there_and_a_site_that_does_not_serve_it_to_the_nearest_that_does(
        ) -> None:
    (line,) = _said(_rigs(), policy="site:edge")
    assert "policy 'site:edge' sends every act request to edge" in line
    d = _rigs(policy="site:edge")
    d["compute_sites"][0]["services"] = ["other"]
    d["services"].append({"name": "other", "model": "yolov8n", "rate_hz": 1, "deadline_ms": 100})
    d["fleets"][0]["services"] = ["act", "other"]
    assert _said(d) == []  # (act goes to the nearest site that serves it: the cloud)


def test_an_edge_gpu_fast_enough_is_not_warned() -> None:
    assert _said(_rigs(edge_gpu="H100")) == []


def test_a_deadline_no_gpu_can_meet_keeps_to_its_own_warning() -> None:
    d = _rigs()
    d["services"][0]["deadline_ms"] = 10  # (below the H100's time too)
    assert _said(d) == []
    s = scenario_from_dict(d)
    assert any("shorter than the least time" in w for w in scenario_warnings(s))


def _two_edges(near_gpu: str, far_gpu: str) -> dict[str, Any]:
    """The rigs' cell with its edge (``near_gpu``) and a second cell 3 km away with an edge of
    its own (``far_gpu``), both on the backhaul."""
    d = _rigs(edge_gpu=near_gpu)
    d["cell_sites"].append({"name": "gnb2", "position_m": [3000, 0], "sectors": 1})
    d["nodes"].append({"name": "mec2", "position_m": [3000, 0]})
    d["compute_sites"].append({"name": "edge2", "at": "mec2", "kind": "edge",
                               "gpus": [{"type": far_gpu, "count": 1}]})
    d["transport"]["links"].append({"a": "mec", "b": "mec2", "fiber_km": 3})
    return d


def test_only_the_cells_whose_nearest_edge_is_slow_are_counted() -> None:
    (line,) = _said(_two_edges("L4", "H200"))
    assert "policy 'nearest-edge' sends the act requests of 1 of 2 cells to edge, " in line
    (line,) = _said(_two_edges("H200", "L4"))
    assert "the act requests of 1 of 2 cells to edge2, " in line


def test_a_slow_site_no_cell_is_sent_to_is_not_named() -> None:
    d = _rigs(edge_gpu="H200")  # the cell's own edge is fast; a slow one 900 m off
    d["nodes"].append({"name": "mec2", "position_m": [900, 0]})
    d["compute_sites"].append({"name": "edge2", "at": "mec2", "kind": "edge",
                               "gpus": [{"type": "L4", "count": 1}]})
    d["transport"]["links"].append({"a": "mec", "b": "mec2", "fiber_km": 1})
    assert _said(d) == []
    d = _rigs(edge_gpu="H200")
    d["nodes"].append({"name": "dc2"})
    d["compute_sites"].append({"name": "cloud2", "at": "dc2", "kind": "cloud",
                               "gpus": [{"type": "L4", "count": 1}]})
    d["transport"]["links"].append({"a": "mec", "b": "dc2", "fiber_km": 2000})
    assert _said(d, policy="cloud") == []  # (the nearer cloud, of H100s, is where it goes)


def test_generated_sites_are_placed_on_by_their_own_names() -> None:
    d = _rigs(edge_gpu="L4")
    d["generated_compute_sites"] = {"every": 1, "gpus": [{"type": "H200", "count": 1}]}
    assert _said(d, policy="site:gpu-gnb") == []
    (line,) = _said(d, policy="site:edge")
    assert "sends every act request to edge," in line


def test_a_site_that_does_not_serve_the_service_is_not_where_it_goes() -> None:
    d = _rigs()
    d["compute_sites"][0]["services"] = ["other"]  # (the L4 serves another service)
    d["services"].append({"name": "other", "model": "yolov8n", "rate_hz": 1,
                          "deadline_ms": 100})
    d["fleets"][0]["services"] = ["act", "other"]
    assert _said(d) == []  # (nearest-edge sends act to the nearest site serving it: the cloud)


def test_validate_prints_it_and_still_exits_0(tmp_path: Any) -> None:
    code, out = validate_dict(tmp_path, _rigs())
    assert code == 0
    assert "field 'services[act].deadline_ms': policy 'nearest-edge' sends every act" in out


def test_the_caution_names_the_requests_answered_at_a_site_too_slow_for_them() -> None:
    from airan.report.cautions import slow_at_site

    summary = {"services": {"act": {"deadline_ms": 200.0, "answered_at": {"edge": 10,
                                                                            "cloud": 5}},
                            "see": {"deadline_ms": 50.0, "answered_at": {"edge": 7}}}}
    site_s = {("edge", "act"): (0.362, "L4"), ("cloud", "act"): (0.0324, "H100"),
              ("edge", "see"): (0.004, "L4")}
    line = slow_at_site(summary, site_s)
    assert line is not None
    assert "10 act requests at edge (362 ms at batch 1 on its L4 against a 200 ms" in line
    assert "cloud" not in line and "see" not in line
    # a live run's sites computed its own models, not the catalog's: no caution from these
    assert slow_at_site({**summary, "live": {"models": {}}}, site_s) is None
    site_s[("edge", "act")] = (0.199, "L4")
    assert slow_at_site(summary, site_s) is None


def test_a_run_under_nearest_edge_cautions_in_the_terminal_and_the_report(tmp_path: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "rigs.yaml"
    path.write_text(yaml.safe_dump({**_rigs(), "duration_s": 2.0}))
    for policy, said in (("nearest-edge", True), ("deadline-aware", False)):
        out = tmp_path / policy
        res = CliRunner().invoke(app, ["run", str(path), "--policy", policy, "--out", str(out)])
        assert res.exit_code == 0, res.output
        text = " ".join(res.output.split())
        assert ("Slower at the site than the deadline: " in text) is said
        html = " ".join((out / "report.html").read_text().split())
        assert ("Slower at the site than the deadline: " in html) is said
        if said:
            n = yaml.safe_load((out / "summary.json").read_text())[
                "services"]["act"]["answered_at"]["edge"]
            assert n > 0 and f"{n:,} act requests at edge (" in text
