"""A pooled DU: one compute site's GPUs run the L1 of several cell sites (``hosts_l1_of``).

Aerial on Grace Hopper carries 20 peak 4T4R 100 MHz cells per GPU (DOMAIN.md): about seven
three-sector sites, which is how an AI-RAN hub is built, the radio units reaching it over
fronthaul. Checked here against that figure in closed form, and the rules around it: who
runs a pooled cell site's L1, what a hub's failure takes off the air, the fronthaul's reach
(the eCPRI transport requirements' 100 us one way), and the clear errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from airan.compute import l1
from airan.engine import Engine
from airan.engine.ran_share import day_profile
from airan.errors import InputError
from airan.scenario import load_scenario, scenario_from_dict
from airan.scenario.load import fronthaul_delays_s, l1_hosts, scenario_warnings

ISD_M = 500.0
#: seven three-sector sites: a centre and its first ring of a hexagonal grid
SITES = ["c", *[f"r{k}" for k in range(6)]]


def _hub(mode: str = "dynamic", *, hour: float = 20.0, peak: float = 0.8, gpus: int = 1,
         hub_km: float | None = None, **hub: Any) -> dict[str, Any]:
    """Seven cell sites whose 21 cells' L1 runs on one H100 at an aggregation node ``hub``
    (every cell site's backhaul goes there; ``hub_km``: a link of its own to node ``far``,
    where the compute site then stands), on the ideal radio: the L1 follows the background
    traffic alone (``peak`` at the busy hour)."""
    d = load_scenario("city").model_dump(mode="json")
    ring = [[ISD_M * np.cos(np.pi / 3 * k + np.pi / 6), ISD_M * np.sin(np.pi / 3 * k + np.pi / 6)]
            for k in range(6)]
    at = "hub" if hub_km is None else "far"
    d.update(
        cell_layout=None, generated_compute_sites=None, policy="nearest-edge",
        cell_sites=[{"name": n, "position_m": [float(x), float(y)]}
                    for n, (x, y) in zip(SITES, [[0.0, 0.0], *ring], strict=True)],
        nodes=[{"name": "hub", "position_m": [0.0, 0.0]}, {"name": "far"}],
        compute_sites=[{"name": "pool", "at": at, "kind": "edge",
                        "gpus": [{"type": "H100", "count": gpus}],
                        "batching": {"max_batch": 1, "max_wait_ms": 0.0},
                        "hosts_l1_of": list(SITES), **hub}],
        transport={"backhaul": {"to": "hub"},
                   "links": [] if hub_km is None else [
                       {"a": "hub", "b": "far", "fiber_km": hub_km}]},
        ai_ran={"mode": mode, "update_ms": 100.0,
                "traffic": {"start_hour": hour, "peak_utilization": peak}},
    )
    d["radio"].update(model="ideal", initial_load=0.0)
    d["fleets"][0].update(count=4, area={"x_m": [-50.0, 50.0], "y_m": [-50.0, 50.0]})
    d["services"][0].update(rate_hz=2.0, arrivals="poisson", jitter_ms=0.0)
    return d


def test_a_hub_gpu_carries_21_pooled_cells_l1_as_aerials_20_peak_cells_per_gpu_give() -> None:
    """21 cells at the busy hour's 80% PRB use on one H100: (0.022 + 0.978 x 0.8) / 20 of it
    each (l1.l1_gpu_share, Aerial's 20 peak cells per Hopper GPU), 0.845 of the GPU, over the
    whole run; AI keeps the rest; no slot misses."""
    eng = Engine(scenario_from_dict(_hub()), duration_s=1.0)
    s = eng.run().summary
    site = s["sites"]["pool"]["ai_ran"]
    assert site["hosted_cells"] == 21
    u = float(l1.background_utilization(20 * 3600.0, peak_utilization=0.8))
    expected = 21 * float(l1.l1_gpu_share(u, 20.0))
    assert 0.8 < expected < 0.9
    assert site["mean_l1_share"] == pytest.approx(expected, rel=1e-9)
    assert site["l1_slot_misses"] == 0
    # the same in closed form (airan ran-share), and every cell's host is the pool
    [row] = day_profile(scenario_from_dict(_hub()))
    assert row["site"] == "pool" and row["cells"] == 21
    assert row["l1_share"][20] == pytest.approx(expected, rel=1e-9)
    assert set(eng.ran.cell_host.tolist()) == {eng.world.site_names.index("pool")}


def test_a_hub_that_cannot_carry_its_pooled_cells_at_full_load_is_a_warning() -> None:
    """21 peak cells need 21/20 of a Hopper GPU at full PRB use: loading says so, counting the
    cells of all seven sites; two GPUs carry them."""
    said = [x for x in scenario_warnings(scenario_from_dict(_hub())) if "cells' L1" in x]
    assert len(said) == 1
    assert "its H100 GPUs carry 21 cells' L1 of 7 cell sites" in said[0]
    assert "1.05 of each GPU at full PRB use" in said[0]
    assert not [x for x in scenario_warnings(scenario_from_dict(_hub(gpus=2)))
                if "cells' L1" in x]


def test_past_one_gpu_the_pooled_l1_drops_its_share_of_slots() -> None:
    """At 100% background (every PRB used), 21 cells' L1 needs 1.05 of the hub's one GPU:
    under mig with the L1 on 3/7 of it it fits 0.455 / 1.05 of its slots (an H100's 3g
    instance, 60 of 132 SMs) and drops the rest."""
    d = _hub("mig", peak=1.0)
    d["ai_ran"]["traffic"]["hourly"] = [1.0] * 24
    s = Engine(scenario_from_dict(d), duration_s=0.5).run().summary
    site = s["sites"]["pool"]["ai_ran"]
    fit = (60 / 132) / (21 * float(l1.l1_gpu_share(1.0, 20.0)))
    assert site["l1_slot_misses"] == pytest.approx(site["l1_slots"] * (1 - fit), abs=1.0)


def test_a_cell_kind_site_at_a_pooled_cell_site_serves_ai_alone() -> None:
    """A compute site standing at a cell site that the hub lists runs no L1 (the listing
    wins), and under mig keeps its whole GPU for AI; the warning about two cell-kind sites at
    one cell site is not given, as hosts_l1_of says which runs it."""
    d = _hub("mig")
    d["compute_sites"].append({"name": "c-gpu", "at": "c", "kind": "cell",
                               "gpus": [{"type": "L40S", "count": 1}]})
    sc = scenario_from_dict(d)
    assert l1_hosts(sc)["c"] == ("pool", "H100")
    eng = Engine(sc, duration_s=0.01)
    w = eng.world
    a, b = w.site_names.index("c-gpu"), w.site_names.index("pool")
    assert eng.ran.hosted_cells[a] == 0 and eng.ran.hosted_cells[b] == 21
    assert w.gpu_type_names[w.gpu_type[w.site_gpu_start[a]]] == "L40S"
    assert w.gpu_type[w.site_gpu_start[a]] == w.gpu_type_names.index("L40S")  # the catalog's
    assert w.gpu_type[w.site_gpu_start[b]] != w.gpu_type_names.index("H100")  # its instance
    # without the listing, the cell-kind site runs its own cell site's L1 (an L40S: no MIG)
    d["compute_sites"][0]["hosts_l1_of"] = SITES[1:]
    with pytest.raises(InputError, match="compute site 'c-gpu' hosts the L1 of its cells"):
        scenario_from_dict(d)
    assert l1_hosts(scenario_from_dict(d, gpu_checks=False))["c"] == ("c-gpu", "L40S")


def test_a_hub_down_takes_all_its_pooled_cells_off_the_air() -> None:
    d = _hub(hour=4.0)
    d["faults"] = [{"kind": "site_down", "site": "pool", "start_s": 0.2, "end_s": 0.4}]
    s = Engine(scenario_from_dict(d), duration_s=0.6).run().summary
    (row,) = s["faults"]
    assert row["cells_off_air"] == 21


def test_the_fronthaul_is_the_transport_route_and_past_100_us_a_warning() -> None:
    """A hub 30 km of fibre from the aggregation node: 147 us of fibre (4.9 us/km) and a hop
    (5 us) beyond the backhaul's, over ai_ran.fronthaul_max_us's 100; 10 km is within."""
    far = scenario_from_dict(_hub(hub_km=30.0))
    delays = fronthaul_delays_s(far)
    backhaul_s = 1.5 * ISD_M / 1e3 * 4.9e-6 + 5e-6  # a ring site's: route factor 1.5
    assert delays[("pool", "r0")] == pytest.approx(30 * 4.9e-6 + 5e-6 + backhaul_s, rel=1e-6)
    assert delays[("pool", "c")] == pytest.approx(30 * 4.9e-6 + 5e-6 + 5e-6, rel=1e-6)
    said = [x for x in scenario_warnings(far) if "fronthaul" in x]
    assert len(said) == 7 and "beyond ai_ran.fronthaul_max_us 100 us" in said[0]
    assert not [x for x in scenario_warnings(scenario_from_dict(_hub(hub_km=10.0)))
                if "fronthaul" in x]
    d = _hub(hub_km=30.0)
    d["ai_ran"]["fronthaul_max_us"] = 200.0
    assert not [x for x in scenario_warnings(scenario_from_dict(d)) if "fronthaul" in x]


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["compute_sites"][0].update(hosts_l1_of=["r9"]),
     "compute_sites[pool].hosts_l1_of", "did you mean"),
    (lambda d: d["compute_sites"][0].update(hosts_l1_of=["c", "c"]),
     "compute_sites[pool].hosts_l1_of", "listed twice"),
    (lambda d: d["compute_sites"].append({"name": "other", "at": "hub", "kind": "edge",
                                          "gpus": [{"type": "H100", "count": 1}],
                                          "hosts_l1_of": ["r3"]}),
     "compute_sites[other].hosts_l1_of", "by 'pool' too"),
    (lambda d: d["compute_sites"][0].update(kind="cloud"),
     "compute_sites[pool].hosts_l1_of", "a cloud compute site cannot run cells' L1"),
    (lambda d: d["transport"].update(backhaul=None, links=[
        {"a": "hub", "b": n, "fiber_km": 1.0} for n in SITES[:-1]]),
     "compute_sites[pool].hosts_l1_of", "no transport link reaches cell site 'r5'"),
])
def test_bad_pools_are_refused_naming_the_field(change: Any, field: str, words: str) -> None:
    d = _hub()
    change(d)
    with pytest.raises(InputError) as e:
        scenario_from_dict(d)
    assert e.value.field == field and words in str(e.value), str(e.value)


def test_a_pool_without_ai_ran_is_a_warning_that_it_changes_nothing() -> None:
    d = _hub("none")
    said = [x for x in scenario_warnings(scenario_from_dict(d)) if "hosts_l1_of" in x]
    assert len(said) == 1 and "changes nothing" in said[0]
    # (nor is a route its fronthaul would need asked for: the hook's re-read of the diff)
    d["transport"].update(backhaul=None, links=[])
    scenario_from_dict(d)


def test_the_planner_keeps_a_gpu_at_the_hub_and_not_at_a_pooled_cell_kind_site() -> None:
    from airan.planner.build import build_space

    d = _hub()
    d["compute_sites"].append({"name": "c-gpu", "at": "c", "kind": "cell",
                               "gpus": [{"type": "L40S", "count": 1}]})
    space = build_space(scenario_from_dict(d), candidates=["H100", "L40S"], keep_l1=True)
    required = {slot.name: bool(r) for slot, r in zip(space.slots, space.required, strict=True)}
    assert required == {"pool": True, "c-gpu": False}


def test_a_planner_that_empties_the_hub_moves_its_l1_to_the_cell_kind_site_and_says_so(
) -> None:
    """A review: a build-out without the hub's GPUs moved cell site c's L1 to the cell-kind
    site standing at it, whose L40S the planner had never checked could run L1 (under mig:
    no MIG, so the run failed), and the note said that L1 ran nowhere. Such a slot may run
    L1 (its candidates are checked for it), and the note names where it moves."""
    from airan.planner.build import build_space
    from airan.planner.search import _cell_slots_without_l1, _l1_moved

    d = _hub("mig")
    d["compute_sites"].append({"name": "c-gpu", "at": "c", "kind": "cell",
                               "gpus": [{"type": "H100", "count": 1}]})
    space = build_space(scenario_from_dict(d), candidates=["H100", "L40S"])
    slots = {s.name: s for s in space.slots}
    assert slots["pool"].runs_l1 and not slots["c-gpu"].runs_l1 and slots["c-gpu"].may_run_l1
    assert any(u.startswith("L40S at c-gpu: ") and "MIG" in u for u in space.unfit)
    h100 = space.types.index("H100")
    config = ((-1, 0), (h100, 1))  # (pool empty, c-gpu one H100)
    assert _cell_slots_without_l1(space, config) == ["pool"]
    assert _l1_moved(space, config) == {"c": "c-gpu"}


def test_a_hub_takes_the_l1_of_generated_sites_it_lists() -> None:
    """city's generated GPU sites (every 4th cell site runs its own cells' L1): a hub at the
    metro edge that lists site0 and site4 takes their L1; gpu-site0 and gpu-site4 then serve
    AI alone, and the other generated sites keep theirs."""
    d = load_scenario("city").model_dump(mode="json")
    d["ai_ran"] = {"mode": "dynamic"}
    d["compute_sites"].insert(0, {"name": "hub", "at": "metro-edge", "kind": "edge",
                                  "gpus": [{"type": "H100", "count": 1}],
                                  "hosts_l1_of": ["site0", "site4"]})
    sc = scenario_from_dict(d)
    hosts = l1_hosts(sc)
    assert hosts["site0"] == ("hub", "H100") and hosts["site4"] == ("hub", "H100")
    assert hosts["site8"] == ("gpu-site8", "L40S")
    eng = Engine(sc, duration_s=0.01)
    names = eng.world.site_names
    assert eng.ran.hosted_cells[names.index("hub")] == 6
    assert eng.ran.hosted_cells[names.index("gpu-site0")] == 0
    assert eng.ran.hosted_cells[names.index("gpu-site8")] == 3


def test_a_hub_at_a_cell_site_runs_that_sites_cells_l1_besides_those_it_lists() -> None:
    """An AI-RAN planner's review: a GH200 hub of kind edge standing at the centre site,
    hosting the six around it, counted 18 of the 21 cells' L1; the centre's own three ran
    nowhere, silently, where docs/model.md says a hub runs them besides those it lists."""
    d = _hub()
    d["compute_sites"][0].update(at="c", hosts_l1_of=SITES[1:])
    eng = Engine(scenario_from_dict(d), duration_s=1.0)
    s = eng.run().summary
    assert s["sites"]["pool"]["ai_ran"]["hosted_cells"] == 21
    assert set(eng.ran.cell_host.tolist()) == {eng.world.site_names.index("pool")}
    [row] = day_profile(scenario_from_dict(d))
    assert row["site"] == "pool" and row["cells"] == 21
    # a cell-kind site at the centre keeps its own cells' L1 (the hub, the ring's)
    d["compute_sites"].append({"name": "centre", "at": "c", "kind": "cell",
                               "gpus": [{"type": "L40S", "count": 1}]})
    hosts = l1_hosts(scenario_from_dict(d))
    assert hosts["c"][0] == "centre" and {hosts[n][0] for n in SITES[1:]} == {"pool"}
