"""Build the planner's search space from the user's options, with one clear error per bad input."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from airan.catalog import load_gpus
from airan.errors import InputError
from airan.planner.space import GENERATED, PlanSpace, Slot
from airan.scenario import Scenario
from airan.scenario.load import l1_hosts

__all__ = ["DEFAULT_CANDIDATES", "build_space", "option_error", "parse_assignments", "parse_rent",
           "split_list"]

#: An edge GPU, a mid-range one and a data-centre one (DOMAIN.md GPU table).
DEFAULT_CANDIDATES: tuple[str, ...] = ("L4", "L40S", "H100")


def option_error(option: str, reason: str, value: Any = None,
                 choices: Sequence[str] | None = None) -> InputError:
    """An :class:`InputError` for a command-line option (``field`` is the option's name)."""
    err = InputError(f"option '{option}': {reason}", value=value, choices=choices)
    err.field = option
    return err


def split_list(text: str | Sequence[str] | None) -> list[str] | None:
    """``"a, b,c"`` -> ``["a", "b", "c"]`` (None stays None)."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    return [p.strip() for p in parts if p.strip()]


def parse_assignments(option: str, text: str | None, *, unit: str,
                       gpus: Mapping[str, Any] | None = None) -> dict[str, float]:
    """``"L4=2000,H100=25000"`` -> ``{"L4": 2000.0, "H100": 25000.0}`` (GPU ids checked against
    ``gpus``: a scenario's :meth:`~airan.scenario.Scenario.gpu_catalog`, else the catalog).
    A power (``unit`` W, a board's TDP) must be above 0, as a scenario's ``gpus:`` entry's
    (an operator's energy planner: ``--power L4=0`` wrote a plan.yaml that validate
    refused)."""
    out: dict[str, float] = {}
    if not text:
        return out
    gpus = load_gpus() if gpus is None else gpus
    for part in split_list(text) or []:
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            example = "L4=72" if unit == "W" else "L4=2500"
            raise option_error(option, f"expected TYPE={unit.upper()}, e.g. '{example}'", part)
        if name not in gpus:
            raise option_error(option, f"unknown GPU {name!r}", name, list(gpus))
        try:
            v = float(value)
        except ValueError:
            raise option_error(option, f"{value.strip()!r} is not a number of {unit}",
                               None) from None
        if not (v >= 0 and math.isfinite(v)):
            raise option_error(option, f"{unit} must be >= 0 and finite", v)
        if unit == "W" and v <= 0:  # (its idle draw scales with it: build_space)
            raise option_error(option, f"{name}'s board power must be above 0 W", v)
        if name in out and out[name] != v:
            raise option_error(option, f"{name} is given twice ({out[name]:g} and {v:g})", part)
        out[name] = v
    return out


def parse_rent(text: str | None, gpus: Mapping[str, Any] | None = None
               ) -> dict[str, dict[str, float]]:
    """``"cloud:H100=2.99,cloud:L4=0.8"`` -> ``{"cloud": {"H100": 2.99, "L4": 0.8}}``: USD
    per GPU-hour of each type at each rented site (the sites are checked by
    :func:`build_space`, the GPU ids against ``gpus`` as :func:`parse_assignments` does)."""
    out: dict[str, dict[str, float]] = {}
    for part in split_list(text) or []:
        site, colon, rest = part.partition(":")
        if not colon or "=" not in rest or not site.strip():
            raise option_error("--rent", "expected SITE:TYPE=USD per GPU-hour, e.g. "
                               "'cloud:H100=2.99'", part)
        for name, v in parse_assignments("--rent", rest, unit="USD per GPU-hour",
                                         gpus=gpus).items():
            if v <= 0:
                raise option_error("--rent", f"{site.strip()}:{name}: a GPU-hour must cost "
                                   "more than 0 USD", v)
            mine = out.setdefault(site.strip(), {})
            if name in mine and mine[name] != v:
                raise option_error("--rent", f"{site.strip()}:{name} is given twice "
                                   f"({mine[name]:g} and {v:g})", part)
            mine[name] = v
    return out


def build_space(
    scenario: Scenario,
    *,
    candidates: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    new_sites: Sequence[str] = (),
    max_gpus: int = 16,
    price_usd: Mapping[str, float] | None = None,
    tdp_w: Mapping[str, float] | None = None,
    site_cost_usd: float = 0.0,
    type_order: bool = False,
    keep_l1: bool = False,
    rent_usd_per_h: Mapping[str, Mapping[str, float]] | None = None,
    years: float = 3.0,
) -> PlanSpace:
    """The search space (see :mod:`airan.planner.space` for the model).

    ``rent_usd_per_h``: per site rented rather than bought (a cloud's, say), USD per GPU-hour
    of each type it may hold (the only types it may), over ``years``; those sites are sized
    too (added to the default ``sites``; named ones must be among them).

    ``candidates``: GPU ids (default :data:`DEFAULT_CANDIDATES`); ``sites``: compute sites to
    size (default: every site not of ``kind: cloud`` that has a GPU, not CPUs alone, and
    ``generated`` if the scenario generates sites); ``new_sites``: cell sites or nodes where a
    new compute site may be opened;
    ``keep_l1``: under ``ai_ran``, every slot that runs cells' L1 keeps at least one GPU, where
    that L1 runs (and is costed).
    """
    gpus = scenario.gpu_catalog()
    types = list(dict.fromkeys(candidates if candidates is not None else DEFAULT_CANDIDATES))
    if not types:
        raise option_error("--candidates", "give at least one GPU type", "")
    for t in types:
        if t not in gpus:
            raise option_error("--candidates", f"unknown GPU {t!r}", t, list(gpus))
    if not 1 <= max_gpus <= 1024:
        raise option_error("--max-gpus", "must be 1-1024 (GPUs of one type at one site)",
                           max_gpus)
    if not (site_cost_usd >= 0 and math.isfinite(site_cost_usd)):
        raise option_error("--site-cost", "must be >= 0 and finite", site_cost_usd)
    for t in types:
        given = (price_usd or {}).get(t)
        if given is not None and not (given > 0 and math.isfinite(given)):
            raise option_error("--price", f"GPU {t!r}: a price must be > 0 USD", given)
        if (given or gpus[t].price_usd) <= 0:
            raise option_error("--price", f"GPU {t!r} has no price; give one with "
                               f"--price {t}=USD", None)

    if not (years > 0 and math.isfinite(years) and years <= 30):
        raise option_error("--years", "must be above 0 and at most 30 (the horizon over which a "
                           "rented GPU-hour is set against a bought GPU)", years)
    by_name = {c.name: c for c in scenario.compute_sites}
    rent = {k: dict(v) for k, v in (rent_usd_per_h or {}).items()}
    for name, priced in rent.items():
        if name not in by_name:
            raise option_error("--rent", f"unknown compute site {name!r}", name, list(by_name))
        for t in priced:
            if t not in types:
                raise option_error("--rent", f"{name}:{t}: {t} is not among the candidates "
                                   f"({', '.join(types)}); add it to --candidates", t)
    n_generated = 0
    if scenario.generated_compute_sites is not None:
        n_generated = len(scenario.generated_host_indices())
    choices = list(by_name) + ([GENERATED] if n_generated else [])
    if sites is None:  # (not a site of CPUs alone, a teleoperation centre's relay, say: the
        # plan would swap them for GPUs; a teleoperation lead's review. --sites names one)
        chosen = [c.name for c in scenario.compute_sites if c.kind != "cloud" and not (
            c.gpus and all(gpus[g.type].kind == "cpu" for g in c.gpus))]
        chosen += [GENERATED] if n_generated else []
        chosen += [c.name for c in scenario.compute_sites if c.kind == "cloud" and c.name in rent]
    else:
        chosen = list(dict.fromkeys(sites))
        for name in chosen:
            if name not in choices:
                raise option_error("--sites", f"unknown compute site {name!r}", name, choices)
        for name in rent:
            if name not in chosen:
                raise option_error("--rent", f"{name!r} is rented but not sized: add it to "
                                   "--sites", name)
    # the sites that run cells' L1 under ai_ran (a cell-kind site at a cell site, or one that
    # lists cell sites in hosts_l1_of)
    hosts = {site for site, _ in l1_hosts(scenario).values()}
    pooled = {name for c in scenario.compute_sites for name in c.hosts_l1_of}
    cell_sites = set(scenario.cell_site_names())
    slots: list[Slot] = []
    for name in chosen:
        if name == GENERATED:
            gen = {f"gpu-{n}" for n in scenario.generated_hosts()}
            slots.append(Slot(GENERATED, "cell", None, n_generated, None,
                              runs_l1=bool(gen & hosts), may_run_l1=True))
        else:
            c = by_name[name]
            slots.append(Slot(c.name, c.kind, c.at, 1, c, runs_l1=c.name in hosts,
                              may_run_l1=c.kind == "cell" and c.at in cell_sites))
    nodes = scenario.node_names()
    taken = set(by_name)
    for node in dict.fromkeys(new_sites):
        if node not in nodes:
            raise option_error("--new-sites", f"unknown cell site or node {node!r}", node, nodes)
        name = f"new-{node}"
        if name in taken:
            raise option_error("--new-sites", f"a compute site named {name!r} already exists",
                               node)
        taken.add(name)
        slots.append(Slot(name, "cell" if node in cell_sites else "edge", node, 1, None,
                          new=True, runs_l1=node in cell_sites and node not in pooled,
                          may_run_l1=node in cell_sites))
    if not slots:
        raise option_error("--sites", "no compute site to size: the scenario has only cloud "
                           "sites and sites of CPUs alone; name them with --sites or add sites "
                           "with --new-sites", None)
    return PlanSpace(scenario, slots, types, gpus, max_gpus=max_gpus, price_usd=price_usd,
                     tdp_w=tdp_w, site_cost_usd=site_cost_usd, type_order=type_order,
                     keep_l1=keep_l1, rent_usd_per_h=rent, years=years)
