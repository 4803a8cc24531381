"""A service computed at its GPUs' datasheet peaks is named (a robot maker's review: the
VLA's times are a roofline at efficiency 1.0, where the OpenVLA paper's stack ran ~1.4x slower,
and a plan's 83 ms p99 against 100 ms rested on them without a word)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from airan.cli import app
from airan.report.cautions import at_peak, cautions
from airan.scenario import load_scenario, scenario_from_dict
from airan.scenario.load import peak_roofline_services


def test_the_factorys_vla_is_the_one_service_at_the_datasheet_peaks() -> None:
    sc = load_scenario("factory")
    assert peak_roofline_services(sc) == [("vla", "openvla-7b")]  # (YOLOv8: calibrated)
    d = sc.model_dump(mode="json", exclude_unset=True)
    for v in d["services"]:
        if v["name"] == "vla":  # measured: no longer the roofline's
            v["service_time"] = {"dist": "fixed", "mean_ms": 45.0}
    assert peak_roofline_services(scenario_from_dict(d)) == []


def test_the_caution_names_the_service_and_its_model() -> None:
    [line] = cautions({}, peak=[("vla", "openvla-7b")])
    assert line == at_peak([("vla", "openvla-7b")])
    assert line.startswith("At the GPUs' datasheet peaks: vla (openvla-7b) computes at")
    assert "measured service_time" in line
    assert cautions({}) == []


def test_a_run_and_its_report_say_so(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["run", "factory", "--duration", "0.3", "--out",
                                   str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "At the GPUs' datasheet peaks: vla (openvla-7b)" in " ".join(res.output.split())
    html = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert "At the GPUs&#39; datasheet peaks: vla (openvla-7b)" in html \
        or "At the GPUs' datasheet peaks: vla (openvla-7b)" in html
