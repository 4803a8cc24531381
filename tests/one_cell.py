"""A scenario of one cell site and an H100 beside it, built from `city` for the tests that need
a single cell (no transport, no other cell's interference)."""

from __future__ import annotations

from typing import Any

from airan.scenario import load_scenario


def one_cell_site(sectors: int = 3) -> dict[str, Any]:
    """`city` as a dict, reduced to one cell site ``bs`` at the origin with ``sectors`` cells and
    a cell-kind compute site ``edge`` (one H100) there; fleets and services as in `city`."""
    d = load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None, nodes=[], transport={"links": []},
             cell_sites=[{"name": "bs", "position_m": [0.0, 0.0], "sectors": sectors}],
             compute_sites=[{"name": "edge", "at": "bs", "kind": "cell",
                             "gpus": [{"type": "H100", "count": 1}]}])
    return d


def lab_cameras(area: dict[str, Any], ul_kb: float) -> dict[str, Any]:
    """A lecturer's lab scenario: one one-sector UMa cell ``gnb`` at the origin (n78, 100 MHz,
    DDDSU), an L4 at a node beside it over a backhaul, and 20 cameras in ``area`` sending
    ``ul_kb`` frames for detection at 10 Hz against 50 ms."""
    return {"name": "lab", "radio": {"environment": "uma"}, "policy": "nearest-edge",
            "carrier": {"band": "n78", "bandwidth_mhz": 100, "tdd_pattern": "DDDSU"},
            "cell_sites": [{"name": "gnb", "position_m": [0, 0], "sectors": 1}],
            "nodes": [{"name": "mec", "position_m": [0, 0]}],
            "compute_sites": [{"name": "edge", "at": "mec", "kind": "edge",
                               "gpus": [{"type": "L4", "count": 1}]}],
            "transport": {"backhaul": {"to": "mec", "capacity_gbps": 10}},
            "fleets": [{"name": "cams", "count": 20, "device_class": "camera",
                        "services": ["detect"], "area": area}],
            "services": [{"name": "detect", "model": "yolov8s", "rate_hz": 10, "ul_kb": ul_kb,
                          "dl_kb": 0.5, "deadline_ms": 50}]}


def validate_dict(tmp_path: Any, d: dict[str, Any]) -> tuple[int, str]:
    """`airan validate` on scenario ``d`` written to a YAML file under ``tmp_path``: its exit
    code and its output on one line (no traceback, whatever the code)."""
    import yaml
    from typer.testing import CliRunner

    from airan.cli import app

    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert "Traceback" not in res.output
    return res.exit_code, " ".join(res.output.split())
