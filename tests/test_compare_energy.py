"""The devices' energy in ``airan compare`` (a robot maker's review: compare gave hit ratios and
latencies only; the energy gap between on board and offloaded, 597 mJ against 1.2 mJ per AMR
request, lay in the raw run summaries alone).

* comparison.json's ``fleets``: per policy and fleet, the mean over seeds and Student-t 95%
  interval of energy per request (J), mean power (W) and battery life (h, None without a
  battery), equal to those recomputed from the run summaries in runs/;
* the terminal prints a table of them in mJ, W and h, and what the energy counts;
* report.html has the table and a figure; a comparison.json from before rebuilds them from
  its runs, and one whose ``fleets`` is of the wrong type is one error line;
* a fleet with no request on a seed counts in no mean for that seed (n says so); one with no
  device is left out.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

from airan.cli import app
from airan.report.compare import aggregate_energy, energy_text, sig3
from airan.scenario import load_scenario

runner = CliRunner()
POLICIES = ["local", "nearest-edge"]
SEEDS = [5, 6]
BATTERY_WH = 500.0  # on the AMRs alone: the other fleets have none


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """factory with a battery on its AMRs, local against nearest-edge, 2 seeds of 0.5 s."""
    tmp = tmp_path_factory.mktemp("energy")
    d = load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    amr = next(f for f in d["fleets"] if f["name"] == "amr")
    amr["battery_wh"] = BATTERY_WH
    path = tmp / "factory-battery.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    out = tmp / "cmp"
    result = runner.invoke(app, ["compare", str(path), "--policies", ",".join(POLICIES),
                                 "--seeds", str(len(SEEDS)), "--seed", str(SEEDS[0]),
                                 "--duration", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result, out


def _runs(out: Path, policy: str) -> list[dict[str, Any]]:
    """The policy's run summaries, seed by seed, as written to runs/."""
    return [json.loads((out / "runs" / f"{policy}-seed{s}.json").read_text()) for s in SEEDS]


def _mean_and_t_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval, the low end clipped at 0 (no energy is negative)."""
    a = np.asarray(values, dtype=float)
    if np.std(a) == 0:
        return float(a.mean()), float(a.mean()), float(a.mean())
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    return float(a.mean()), max(float(lo), 0.0), float(hi)


def test_fleets_energy_is_the_mean_and_t_interval_of_the_run_summaries(
        compared: tuple[Any, Path]) -> None:
    _, out = compared
    data = json.loads((out / "comparison.json").read_text())
    fleets = list(_runs(out, POLICIES[0])[0]["fleets"])
    assert set(data["fleets"]) == set(POLICIES)
    checked = 0
    for p in POLICIES:
        runs = _runs(out, p)
        assert list(data["fleets"][p]) == fleets
        for fleet in fleets:
            entry = data["fleets"][p][fleet]
            assert set(entry) == {"devices", "energy_per_request_j", "mean_power_w",
                                  "battery_life_h", "seeds"}
            assert entry["seeds"] == SEEDS
            assert entry["devices"] == runs[0]["fleets"][fleet]["devices"]
            for metric in ("energy_per_request_j", "mean_power_w", "battery_life_h"):
                values = [r["fleets"][fleet][metric] for r in runs]
                if metric == "battery_life_h" and fleet != "amr":
                    assert values == [None, None] and entry[metric] is None
                    continue
                agg = entry[metric]
                assert agg["values"] == values and agg["n"] == len(SEEDS)
                mean, lo, hi = _mean_and_t_interval(values)
                assert agg["mean"] == pytest.approx(mean, rel=1e-12)
                assert agg["ci_low"] == pytest.approx(lo, rel=1e-9, abs=1e-15)
                assert agg["ci_high"] == pytest.approx(hi, rel=1e-9, abs=1e-15)
                checked += lo < hi
    assert checked >= 6  # the seeds differ: real intervals were compared
    # the AMRs' battery: its life is 500 Wh over the mean power (no base_power_w), per seed
    for p in POLICIES:
        for r, life in zip(_runs(out, p), data["fleets"][p]["amr"]["battery_life_h"]["values"],
                           strict=True):
            assert life == pytest.approx(BATTERY_WH / r["fleets"]["amr"]["mean_power_w"])
    # the review's gap: an AMR's request on board costs hundreds of times one offloaded
    local = data["fleets"]["local"]["amr"]["energy_per_request_j"]["mean"]
    edge = data["fleets"]["nearest-edge"]["amr"]["energy_per_request_j"]["mean"]
    assert local > 100 * edge


def test_the_terminal_shows_the_devices_energy_table_in_mj(compared: tuple[Any, Path]) -> None:
    result, out = compared
    data = json.loads((out / "comparison.json").read_text())
    lines = result.stdout.splitlines()
    title = next(i for i, line in enumerate(lines)
                 if "Devices' energy: mean over seeds [95% CI]" in line)
    header = " ".join(lines[title + 1].split())
    assert header == "fleet policy per request (mJ) mean power (W) battery life (h)"
    table = lines[title + 2:]
    fleet = None
    for line in table:
        if not line.strip() or set(line.strip()) <= {"─"}:
            continue
        if line.startswith("Devices' energy:"):  # the line on what the energy counts
            assert "radio and on-board compute" in line and "created" in line
            break
        words = line.split()
        if not line.startswith(" "):
            fleet = words.pop(0)
        policy = words.pop(0)
        e = data["fleets"][policy][fleet]
        # each cell a mean and its interval (or "(on all 2 seeds)"), or "-"
        cells = re.findall(r"[\d,.]+ (?:\[[^]]*\]|\([^)]*\))|-", " ".join(words))
        assert len(cells) == 3, (fleet, policy, words)
        # per request in mJ (the summaries' J x 1000), then W, then h where a battery is
        mean_mj = float(np.mean([v * 1e3 for v in e["energy_per_request_j"]["values"]]))
        assert cells[0].split()[0] == sig3(mean_mj), (fleet, policy, cells)
        assert cells[1].split()[0] == sig3(float(np.mean(e["mean_power_w"]["values"])))
        if fleet == "amr":  # its battery's life, in h
            life = float(np.mean(e["battery_life_h"]["values"]))
            assert cells[2].split()[0] == sig3(life)
        else:  # none: no battery
            assert e["battery_life_h"] is None and cells[2] == "-"
    else:
        raise AssertionError("no line on what the devices' energy counts")
    assert fleet == list(data["fleets"]["local"])[-1]


def test_the_report_has_the_energy_table_and_figure(compared: tuple[Any, Path]) -> None:
    _, out = compared
    data = json.loads((out / "comparison.json").read_text())
    html = (out / "report.html").read_text()
    assert 'id="energy-table"' in html and "battery life (h)" in html
    for p in POLICIES:
        for fleet, e in data["fleets"][p].items():
            row = html.split(f'data-fleet="{fleet}" data-policy="{p}"', 1)[1].split(">", 1)[0]
            for attr, value in (("energy-mean", e["energy_per_request_j"]["mean"]),
                                ("energy-high", e["energy_per_request_j"]["ci_high"]),
                                ("power-mean", e["mean_power_w"]["mean"])):
                text = row.split(f'data-{attr}="', 1)[1].split('"', 1)[0]
                assert float(text) == value, (p, fleet, attr)
    assert 'id="fig-compare_energy"' in html
    assert (out / "figures" / "compare_energy.png").stat().st_size > 1000


def test_a_comparison_from_before_the_fleets_energy_rebuilds_it_from_its_runs(
        compared: tuple[Any, Path], tmp_path: Path) -> None:
    _, out = compared
    copy = tmp_path / "old"
    shutil.copytree(out, copy)
    data = json.loads((copy / "comparison.json").read_text())
    want = data.pop("fleets")
    (copy / "comparison.json").write_text(json.dumps(data))
    (copy / "report.html").unlink()
    assert runner.invoke(app, ["report", str(copy)]).exit_code == 0
    html = (copy / "report.html").read_text()
    mean = want["local"]["amr"]["energy_per_request_j"]["mean"]
    assert f'data-energy-mean="{mean!r}"' in html
    # a hand-edited fleets of the wrong shape: one error line naming it
    data["fleets"] = {p: {"amr": {"energy_per_request_j": "a lot"}} for p in POLICIES}
    (copy / "comparison.json").write_text(json.dumps(data))
    result = runner.invoke(app, ["report", str(copy)])
    assert result.exit_code == 2 and "'fleets'" in result.stderr, result.output


def _run(policy: str, seed: int, fleets: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"policy": policy, "seed": seed, "summary": {"fleets": fleets}}


def test_a_seed_without_requests_counts_in_no_mean_and_a_fleet_without_devices_is_left_out(
        ) -> None:
    """A fleet that created no request on a seed has no energy per request there (None): the
    mean is the other seeds', n says how many; one that never did reads 'no requests'; a fleet
    scaled to no device has nothing to compare."""
    def fleet(energy: float | None, power: float, devices: int = 4) -> dict[str, Any]:
        return {"devices": devices, "energy_per_request_j": energy, "mean_power_w": power,
                "battery_life_h": None}

    runs = [_run("local", 1, {"amr": fleet(0.5, 10.0), "cam": fleet(None, 3.5),
                              "none": fleet(None, 0.0, devices=0)}),
            _run("local", 2, {"amr": fleet(None, 9.0), "cam": fleet(None, 3.5),
                              "none": fleet(None, 0.0, devices=0)}),
            _run("local", 3, {"amr": fleet(0.7, 11.0), "cam": fleet(None, 3.5),
                              "none": fleet(None, 0.0, devices=0)})]
    agg = aggregate_energy(runs, ["local"])["local"]
    assert list(agg) == ["amr", "cam"]
    e = agg["amr"]["energy_per_request_j"]
    assert e["values"] == [0.5, None, 0.7] and e["n"] == 2
    assert e["mean"] == pytest.approx(0.6)
    half = stats.t.ppf(0.975, 1) * np.std([0.5, 0.7], ddof=1) / math.sqrt(2)
    assert e["ci_high"] == pytest.approx(0.6 + half) and e["ci_low"] == 0.0  # clipped at 0
    assert agg["amr"]["mean_power_w"]["n"] == 3 and agg["amr"]["battery_life_h"] is None

    def mj(v: float | None) -> str:
        return sig3(None if v is None else v * 1e3)

    assert energy_text(e, mj, 3).endswith(" (2 of 3 seeds)")
    assert energy_text(agg["cam"]["energy_per_request_j"], mj, 3,
                       missing="no requests") == "no requests"
    assert energy_text(agg["cam"]["battery_life_h"], sig3, 3) == "-"


@pytest.mark.parametrize(("value", "text"), [(21_500.0, "21,500"), (597.4, "597"),
                                             (15.43, "15.4"), (1.19, "1.19"),
                                             (0.001314, "0.00131"), (0.0, "0")])
def test_energies_spanning_orders_read_to_three_significant_digits(value: float,
                                                                    text: str) -> None:
    assert sig3(value) == text


def test_the_least_energy_mark_skips_a_policy_that_spent_none() -> None:
    """A diff review: `local` marked "least energy" for factory's cameras at 0 mJ, having
    served none of their requests (their CPU runs no model). The mark goes to the least among
    the policies that spent any."""
    from airan.report.compare import _energy_rows

    def fleet(mean: float | None) -> dict:
        stat = {"mean": mean, "lo": mean, "hi": mean, "n": 2, "values": [mean, mean]}
        return {"devices": 6, "energy_per_request_j": stat, "mean_power_w": stat,
                "battery_life_h": None}

    data = {"policies": ["local", "edge", "cloud"], "seeds": [1, 2]}
    energy = {"local": {"camera": fleet(0.0)}, "edge": {"camera": fleet(0.009)},
              "cloud": {"camera": fleet(0.012)}}
    marked = [r["policy"] for r in _energy_rows(data, energy) if r["least"]]
    assert marked == ["edge"]
