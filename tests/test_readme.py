"""The README's annotated scenario is a valid scenario (the docs cannot drift from the schema)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from airan.engine import Engine
from airan.scenario import scenario_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_scenario_example_validates_and_runs() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## The scenario format\s+```yaml\n(.*?)```", text, re.S)
    assert block, "the README has an annotated scenario"
    sc = scenario_from_dict(yaml.safe_load(block.group(1)), label="README.md")
    assert sc.ai_ran.mode == "dynamic" and sc.objective == "latency"
    s = Engine(sc, duration_s=0.2).run().summary
    assert s["requests"]["created"] > 0 and s["ai_ran"]["mode"] == "dynamic"
