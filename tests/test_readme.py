"""The README's and docs' scenarios and snippets are valid and say what runs do (the docs cannot
drift from the schema or the code)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel

from airan.engine import Engine
from airan.scenario import scenario_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"
DOCS = README.parent / "docs"


def test_the_annotated_scenario_validates_and_runs() -> None:
    """docs/scenario.md's annotated example scenario is one (the README points to it)."""
    text = (DOCS / "scenario.md").read_text(encoding="utf-8")
    block = re.search(r"# The scenario format\s.*?```yaml\n(.*?)```", text, re.S)
    assert block, "docs/scenario.md has an annotated scenario"
    assert "(docs/scenario.md)" in README.read_text(encoding="utf-8")
    sc = scenario_from_dict(yaml.safe_load(block.group(1)), label="docs/scenario.md")
    assert sc.ai_ran.mode == "dynamic" and sc.objective == "latency"
    s = Engine(sc, duration_s=0.2).run().summary
    assert s["requests"]["created"] > 0 and s["ai_ran"]["mode"] == "dynamic"


def test_the_model_states_what_an_fdd_uplink_gains_on_its_own_frequency() -> None:
    """The uplink's path loss is taken at its own frequency: docs/model.md's figures for it, 20
    log10(f_DL / f_UL) at a band's default carrier (TS 38.104 Table 5.2-1: n66's 400 MHz duplex
    distance is the widest listed, n20 and n71 send their uplink above the downlink)."""
    from math import log10

    from airan.radio.bands import NR_BANDS, channel_mhz, default_fc_ghz

    def gain_db(band: str, fc_ghz: float | None = None) -> float:
        fc = fc_ghz or default_fc_ghz(band)
        dl, ul = channel_mhz(fc, 10.0, band, fdd=True)
        return 20 * log10(sum(dl) / sum(ul))

    text = " ".join((DOCS / "model.md").read_text(encoding="utf-8").split())
    assert max(NR_BANDS, key=lambda n: abs(NR_BANDS[n].duplex_offset_mhz)) == "n66"
    n66 = gain_db("n66", 2.14)
    assert f"at n66 (uplink 1710-1780 MHz, downlink 2110-2200 MHz) {n66:.1f} dB at 2.14 GHz" in text
    assert f"{gain_db('n3'):.1f} dB at n3, {gain_db('n1'):.1f} dB at n1" in text
    assert f"(n20 {-gain_db('n20'):.1f} dB, n71 {-gain_db('n71'):.1f} dB at their centres)" in text


def test_readmes_first_scenario_validates_without_a_warning_and_its_figures_hold() -> None:
    """The newcomer's example (a port engineer's review: no outdoor, minimal one) is valid,
    warns of nothing, runs, and says what the text around it says."""
    from airan.scenario.load import offered_requests, scenario_warnings

    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Your first scenario\s.*?```yaml\n(.*?)```", text, re.S)
    assert block, "the README has a first scenario"
    d = yaml.safe_load(block.group(1))
    sc = scenario_from_dict(d, label="README.md")
    assert scenario_warnings(sc) == []
    offered = offered_requests(sc)
    assert offered == {"detect": (100.0, 2000.0), "vla": (20.0, 100.0)}
    assert "2,000 detections\nand 100 VLA steps a second, 240 and 24 Mbit/s" in text
    s = Engine(sc).run().summary  # (its own 10 s: a researcher's review ran it)
    assert s["services"]["detect"]["hit_ratio"] >= 0.99
    assert round(s["services"]["vla"]["hit_ratio"], 3) == 0.998
    assert round(s["services"]["vla"]["latency_ms"]["p99"]) == 96  # ("p99 of 96")
    assert s["sites"]["port-edge"]["gpu_utilization"] > 0.9  # "over 90% busy"
    assert "VLA 99.8% of them (a\np99 of 96 ms) with the two H100s over 90% busy, which its\n" \
        "cautions point out" in text
    s = Engine(sc, duration_s=2.0).run().summary
    assert all(v["hit_ratio"] >= 0.99 for v in s["services"].values())  # its first 2 s
    # the VLA's thin margin over seeds, as the text says (a vehicle maker's review found
    # layouts on which it misses: the claim above is its seed's)
    hits = [Engine(sc, duration_s=2.0, seed=seed).run().summary["services"]["vla"]["hit_ratio"]
            for seed in (2, 6, 10)]
    assert min(hits) < 0.99 and min(hits) >= 0.83
    assert "on seeds 2-10 it meets 83-100% of them in 2 s runs" in text
    # with L40S GPUs, validate warns of OpenVLA's batch-1 time there, as the text says
    d["compute_sites"][0]["gpus"] = [{"type": "L40S", "count": 2}]
    warned = [w for w in scenario_warnings(scenario_from_dict(d)) if "vla" in w]
    assert warned and "126 ms on an L40S at batch 1" in warned[0]
    assert "OpenVLA takes 126 ms at batch 1 there" in text


def test_the_readmes_ai_ran_recipe_hosts_factorys_l1_and_its_figures_hold(
        tmp_path: Path) -> None:
    """The README's recipe, as written (the lines to add to factory's YAML), runs the four
    cells' L1 on on-prem, ran-share draws its day, and a 2 s run says the shares the text
    gives (a planner's walk: no built-in turns ai_ran on, and a copy with ai_ran alone ran
    no L1)."""
    from typer.testing import CliRunner

    from airan.cli import app
    from airan.engine.ran_share import day_profile
    from airan.scenario import load_scenario

    text = README.read_text(encoding="utf-8")
    section = re.search(r"## AI and the RAN on one GPU\s.*?```\n(.*?)```(.*?)\n## ", text, re.S)
    assert section, "the README has the ai_ran recipe"
    hosts = re.search(r"hosts_l1_of: (\[.*?\])", section.group(1))
    ai_ran = re.search(r"ai_ran: (\{.*?\})", section.group(1))
    assert hosts and ai_ran
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    on_prem = next(c for c in d["compute_sites"] if c["name"] == "on-prem")
    on_prem["hosts_l1_of"] = yaml.safe_load(hosts.group(1))
    d["ai_ran"] = yaml.safe_load(ai_ran.group(1))
    sc = scenario_from_dict(d)
    rows = day_profile(sc)
    assert [(r["site"], r["cells"]) for r in rows] == [("on-prem", 4)]
    path = tmp_path / "factory-ran.yaml"
    path.write_text(yaml.safe_dump(d))
    res = CliRunner().invoke(app, ["run", str(path), "--duration", "2", "--no-report",
                                   "--out", str(tmp_path / "run")])
    out = " ".join(res.output.split())
    assert res.exit_code == 0, res.output
    said = re.search(r"factory, 2 s: the L1 took ([\d.]+)%, AI used ([\d.]+)%",
                     " ".join(section.group(2).split()))
    assert said, "the README gives the run's shares"
    assert (f"the L1 of 4 cells took {said.group(1)}% of the GPU time of the 1 compute site "
            f"that runs it") in out
    assert f"AI used {said.group(2)}% of the GPU time it left there" in out


def _field_models(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models a field's annotation holds (through lists, dicts and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _field_models(arg)


def test_every_scenario_field_is_documented() -> None:
    """Each field a scenario file may set is named in the README, docs/ or the catalog files'
    own notes (a researcher's review: radio.dl_sched_delay_ms, which adds to every answer,
    and the fixed radio's rates were nowhere to be read)."""
    from airan.scenario.schema import Scenario

    catalog = Path(__file__).resolve().parents[1] / "src" / "airan" / "catalog"
    text = README.read_text() + "".join(
        p.read_text() for p in [*sorted((README.parent / "docs").glob("*.md")),
                                *sorted(catalog.glob("*.yaml"))])
    seen: set[type[BaseModel]] = set()
    missing: list[str] = []

    def walk(model: type[BaseModel], path: str) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if not re.search(rf"\b{re.escape(name)}\b", text):
                missing.append(f"{path}.{name}")
            for sub in _field_models(field.annotation):
                walk(sub, f"{path}.{name}")

    walk(Scenario, "scenario")
    assert not missing, missing


def test_the_docs_filter_of_dropped_requests_runs_on_a_runs_requests(tmp_path: Path) -> None:
    """docs/outputs.md's line that filters a run's dropped requests, as written, on a run that drops
    some (one waiting request per site): it raised, ``outcome`` being dictionary-encoded (a
    researcher's review), and the columns it names as such are."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from airan.report.rundir import write_run
    from airan.scenario import load_scenario

    text = " ".join((DOCS / "outputs.md").read_text(encoding="utf-8").split())
    snippet = re.search(r"filter dropped ones with `([^`]+)` after `([^`]+)`", text)
    assert snippet, "docs/outputs.md says how to filter the dropped requests"
    assert snippet.group(2) == "import pyarrow as pa, pyarrow.compute as pc"
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    for site in d["compute_sites"]:
        site["queue_limit"] = 1
    result = Engine(scenario_from_dict(d), duration_s=0.2, trace_limit=100_000).run()
    t = pq.read_table(write_run(result, tmp_path / "run") / "requests.parquet")
    dropped = eval(snippet.group(1), {"pa": pa, "pc": pc, "t": t})  # (the docs' line)
    outcomes = [str(o) for o in t.column("outcome").to_pylist()]
    assert dropped.num_rows == sum(o.startswith("dropped") for o in outcomes) > 0
    encoded = re.search(r"\(`service`, `fleet`, `placement`, `cell`, `outcome` and "
                        r"`interrupted_by` are dictionary-encoded", text)
    assert encoded and all(pa.types.is_dictionary(t.schema.field(c).type)
                           for c in ("service", "fleet", "placement", "cell", "outcome"))
