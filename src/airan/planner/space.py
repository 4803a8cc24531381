"""The planner's search space: which GPUs, how many, at which sites, and what that costs.

Model
-----
* A *slot* is a place the planner sizes: an existing compute site of the scenario (by default
  every site that is not ``kind: cloud`` and has a GPU, not CPUs alone), the scenario's
  ``generated_compute_sites`` (one slot standing for all of them: its cost is multiplied by
  their number), or a new site at a cell site or node (``--new-sites``; named
  ``new-<node>``, ``kind: cell`` at a cell site, else ``edge``).
* A slot holds one GPU type from the candidates, ``1..max_gpus`` of it, or nothing (the site is
  then left out of the scenario). Its GPUs replace the scenario's (green field); its queue limit
  and batching are kept. Sites that are not slots stay as they are and cost nothing in the plan
  (capacity already paid for, or rented, such as the cloud).
* Cost (USD) = sum over slots of multiplicity x (count x price + site cost if used); price from
  the catalog's ``price_usd`` unless overridden. A *rented* slot (``--rent``: a cloud's GPUs,
  or any site's) costs its GPUs by the hour over the plan's horizon instead: count x USD per
  GPU-hour x ``years`` x 8,766 h, on for the whole horizon (capacity reserved for a real-time
  fleet is rented around the clock, not by the busy hour), no site cost; a type with no hourly
  price there cannot go there. Peak power (W) = multiplicity x count x
  ``tdp_w``; average power uses the run's GPU utilization:
  idle + utilization x (TDP - idle) per GPU (a linear power model, an assumption).
* A config is one ``(type index, count)`` per slot, with ``(-1, 0)`` for an empty slot.
* A type a slot cannot use is never put there (``PlanSpace.fits``): one whose GPU cannot hold
  every model the services use with the slot's batching (:func:`airan.scenario.load.
  site_memory`), and, at a slot that runs cells' L1 with ``ai_ran`` on (``Slot.runs_l1``), one
  that cannot run the L1, or with ``mig`` cannot be split into MIG instances. The checks that
  loading a scenario does: a plan always loads.

Monotonicity (the search's assumption; every pair of runs that breaks it is reported): fewer
GPUs of the same type at a slot, or none, never helps. So a config that misses the targets
proves that every config below it misses too. With ``type_order`` the planner also assumes that
a GPU type no faster on any axis never helps: type ``a`` is *no faster than* ``b`` when, at
every precision the scenario's models use, ``b``'s dense peak (after fallback) is at least
``a``'s, its bandwidth over bytes per value is at least ``a``'s, and it has at least ``a``'s
memory. That prunes more, but the twin can break it: with several services a faster GPU draws
more of the work (the deadline-aware policy sends the VLA to it) and can serve another service
worse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from airan.catalog import BYTES_PER_VALUE, PRECISION_ORDER, GpuSpec, ModelSpec
from airan.scenario import Scenario
from airan.scenario.schema import ComputeSite, Fault, GpuGroup

__all__ = ["Config", "PlanSpace", "Slot", "scenario_precisions", "type_dominance"]

#: One (type index, count) per slot; (-1, 0) is an empty slot.
Config = tuple[tuple[int, int], ...]

GENERATED = "generated"

#: Hours in a year (365.25 days): a rented GPU's hours over the plan's horizon.
HOURS_PER_YEAR = 8766.0


@dataclass(frozen=True)
class Slot:
    """A place the planner sizes (see the module docstring)."""

    name: str
    kind: str
    at: str | None  # node; None for the generated sites
    multiplicity: int  # how many sites the slot stands for
    template: ComputeSite | None  # the existing site (queue limit, batching), if any
    new: bool = False
    # under ai_ran, its GPUs run cells' L1 (a cell-kind site at a cell site not pooled
    # elsewhere, or a site that lists cell sites in hosts_l1_of)
    runs_l1: bool = False
    # and may run some in a build-out: a cell-kind site at a pooled cell site takes over its
    # L1 where the hub gets no GPU (its GPUs must be able to run L1 all the same)
    may_run_l1: bool = False


def sole_servers(scenario: Scenario, slots: Sequence[Slot]) -> list[list[str]]:
    """Per slot, the services it alone serves whose devices may not run them
    (``on_device: false``): no other slot and no site the plan leaves as it is serves them
    (a teleoperation lead's review: the plan emptied the only site of a service, and every run
    of that build-out failed). A generated or new slot serves every service."""
    names = [v.name for v in scenario.services]
    # (as the scenario's own check has it, scenario.load._check_site_services: whether a fleet
    # sends it or not, such a service without a site is no scenario that runs)
    needed = [v.name for v in scenario.services if not v.on_device]

    def serves(site: ComputeSite | None) -> set[str]:
        return set(names) if site is None or site.services is None else set(site.services)

    slot_names = {s.name for s in slots}
    fixed = set().union(*(serves(c) for c in scenario.compute_sites if c.name not in slot_names))
    if scenario.generated_compute_sites is not None and not any(
            s.template is None and not s.new for s in slots):
        fixed |= set(names)  # (the generated sites, left as they are)
    by_slot = [serves(s.template) for s in slots]
    out: list[list[str]] = [[] for _ in slots]
    for name in needed:
        at = [i for i, served in enumerate(by_slot) if name in served]
        if name not in fixed and len(at) == 1:
            out[at[0]].append(name)
    return out


def _unrented(space: PlanSpace, slot: Slot, gpu: str) -> str | None:
    """Why ``gpu`` cannot go at a rented ``slot``: no hourly price given for it there."""
    rent = space.rent_usd_per_h.get(slot.name)
    if rent is None or gpu in rent:
        return None
    return f"rented, and no --rent price for it ({', '.join(rent)} only)"


def _no_faster(a: GpuSpec, b: GpuSpec, precisions: Sequence[str | ModelSpec]) -> bool:
    """True if ``b`` is at least as fast as ``a`` on every roofline axis at ``precisions``
    (see the module docstring); a model given there runs at its own precision on each GPU
    (``precision_on``), so the two are compared each at its own."""
    if b.memory_gb < a.memory_gb:
        return False
    for p in precisions:
        pa, pb = (p, p) if isinstance(p, str) else (p.precision_for(a), p.precision_for(b))
        try:
            fa, ua = a.peak_flops(pa)
        except ValueError:
            continue
        try:
            fb, ub = b.peak_flops(pb)
        except ValueError:
            return False
        if fb < fa:
            return False
        if b.mem_bw_tbps / BYTES_PER_VALUE[ub] < a.mem_bw_tbps / BYTES_PER_VALUE[ua]:
            return False
    return True


def type_dominance(
    types: Sequence[str], gpus: Mapping[str, GpuSpec],
    precisions: Sequence[str | ModelSpec] = PRECISION_ORDER,
) -> NDArray[np.bool_]:
    """``le[i, j]``: type ``i`` is no faster than type ``j`` for models served at
    ``precisions`` (a model: at its precision on each GPU) (reflexive)."""
    n = len(types)
    le = np.zeros((n, n), dtype=bool)
    for i, a in enumerate(types):
        for j, b in enumerate(types):
            le[i, j] = i == j or _no_faster(gpus[a], gpus[b], precisions)
    return le


def scenario_precisions(scenario: Scenario) -> list[str | ModelSpec]:
    """The precisions the scenario's services request (roofline models, and measured times
    carried by the roofline (``measured_on``); another measured time runs the same on every
    GPU); a model deployed at precisions of its own per GPU (``precision_on``) as itself."""
    models = scenario.model_catalog()
    out: list[str | ModelSpec] = []
    for v in scenario.services:
        m = models[v.model]
        measured_on = v.service_time is not None and v.service_time.measured_on is not None
        if (v.service_time is None and m.service_time_ms is None) or measured_on:
            # (times measured_on a GPU follow the roofline elsewhere)
            out.append(m if m.precision_on else m.precision)
    return [p for i, p in enumerate(out) if not any(p is q or p == q for q in out[:i])]


def _unfit(scenario: Scenario, slot: Slot, gid: str, gpu: GpuSpec) -> str | None:
    """Why slot ``slot`` may not hold GPUs of type ``gid`` (None: it may; see the module
    docstring)."""
    from airan.compute import l1
    from airan.scenario.load import site_memory
    from airan.scenario.schema import Batching

    mode = scenario.ai_ran.mode
    runs_l1 = mode != "none" and (slot.runs_l1 or slot.may_run_l1)
    if runs_l1 and l1.l1_peak_cells(gid, gpu, scenario.ai_ran.l1_peak_cells) <= 0:
        return f"cannot run its cells' L1 (ai_ran.mode {mode})"
    if runs_l1 and mode == "mig" and not gpu.mig:
        return "has no MIG (ai_ran.mode mig)"
    if slot.template is not None:
        batching = slot.template.batching
    elif slot.name == GENERATED and scenario.generated_compute_sites is not None:
        batching = scenario.generated_compute_sites.batching
    else:
        batching = Batching()
    mig = runs_l1 and mode == "mig"
    served = slot.template.services if slot.template is not None else None
    need, have = site_memory(scenario, gid, batching, mig=mig, services=served)
    if sum(need.values()) > have:
        return (f"cannot hold the models: they need {sum(need.values()) / 1e9:.2f} GB with the "
                f"site's batching, it has {have / 1e9:.2f} GB"
                + (" in the AI's MIG instance" if mig else ""))
    return None


class PlanSpace:
    """Slots, candidate types, prices and power: turns a config into a cost and a scenario."""

    def __init__(
        self,
        scenario: Scenario,
        slots: Sequence[Slot],
        types: Sequence[str],
        gpus: Mapping[str, GpuSpec],
        *,
        max_gpus: int = 16,
        price_usd: Mapping[str, float] | None = None,
        tdp_w: Mapping[str, float] | None = None,
        site_cost_usd: float = 0.0,
        type_order: bool = False,
        keep_l1: bool = False,
        rent_usd_per_h: Mapping[str, Mapping[str, float]] | None = None,
        years: float = 3.0,
    ) -> None:
        self.scenario = scenario
        self.type_order = bool(type_order)
        self.slots = list(slots)
        self.types = list(types)
        self.max_gpus = int(max_gpus)
        self.site_cost_usd = float(site_cost_usd)
        price_usd = dict(price_usd or {})
        tdp_w = dict(tdp_w or {})
        self.price = np.array([price_usd.get(t, gpus[t].price_usd) for t in self.types])
        self.tdp = np.array([tdp_w.get(t, gpus[t].tdp_w) for t in self.types])
        # the engine's site power is at the catalog's figures
        self.tdp_catalog = np.array([gpus[t].tdp_w for t in self.types])
        self.idle_catalog = np.array([gpus[t].idle_w for t in self.types])
        # an overridden board power scales the idle draw with it (the catalog's idle share)
        self.idle = np.minimum(self.idle_catalog * self.tdp / self.tdp_catalog, self.tdp)
        self.bf16 = np.array([gpus[t].tflops.bf16 or 0.0 for t in self.types])
        self.mult = np.array([s.multiplicity for s in self.slots], dtype=np.int64)
        # rented slots: USD per GPU-hour by type, over the horizon's hours (module docstring)
        self.rent_usd_per_h = {k: dict(v) for k, v in (rent_usd_per_h or {}).items()}
        self.years = float(years)
        self.rented = np.array([s.name in self.rent_usd_per_h for s in self.slots], dtype=bool)
        # slot_price[s, t]: one GPU of type t at slot s, bought or rented over the horizon (nan:
        # not rented there); slot_site_cost[s]: what a site costs once it has GPUs
        hours = self.years * HOURS_PER_YEAR
        self.slot_price = np.array(
            [[self.rent_usd_per_h[s.name].get(t, math.nan) * hours
              if s.name in self.rent_usd_per_h else self.price[i]
              for i, t in enumerate(self.types)] for s in self.slots],
            dtype=float).reshape(len(self.slots), len(self.types))
        self.slot_site_cost = np.where(self.rented, 0.0, self.site_cost_usd)
        # le[i, j]: type i never beats type j at a slot. Only the identity unless type_order:
        # a faster GPU can attract work from other services and serve one of them worse.
        self.le = (type_dominance(self.types, gpus, scenario_precisions(scenario)) if type_order
                   else np.eye(len(self.types), dtype=bool))
        # fits[s, t]: slot s may hold GPUs of type t (see the module docstring); unfit says
        # why not, "<type> at <slot>: <reason>"
        why = [[_unrented(self, slot, t) or _unfit(scenario, slot, t, gpus[t])
                for t in self.types] for slot in self.slots]
        self.fits = np.array([[r is None for r in row] for row in why], dtype=bool).reshape(
            len(self.slots), len(self.types))
        self.unfit = [f"{t} at {slot.name}: {r}" for slot, row in zip(self.slots, why, strict=True)
                      for t, r in zip(self.types, row, strict=True) if r is not None]
        # required[s]: slot s keeps at least one GPU (``keep_l1``: under ai_ran, a slot whose
        # GPUs run cells' L1: without one the L1 would be neither run nor costed)
        self.keeps_l1 = np.array([bool(keep_l1) and scenario.ai_ran.mode != "none"
                                  and slot.runs_l1 for slot in self.slots], dtype=bool)
        # and a slot that is the only server of a service its devices may not run
        # (``sole_servers``): emptied, no request of it could be answered and every run fails
        self.sole_server = sole_servers(scenario, self.slots)
        self.required = self.keeps_l1 | np.array([bool(s) for s in self.sole_server], dtype=bool)

    # ---- configs -------------------------------------------------------------------------------
    @property
    def empty(self) -> Config:
        """Every slot empty."""
        return tuple((-1, 0) for _ in self.slots)

    def keeps_required(self, config: Config) -> bool:
        """True if ``config`` has a GPU at every slot that must keep one (``required``)."""
        return all(n > 0 for (_, n), keep in zip(config, self.required, strict=True) if keep)

    @property
    def floor(self) -> Config:
        """The least build-out: the slots that must keep a GPU (``required``) one of the
        cheapest type that fits there, the others empty."""
        out = []
        for s in range(len(self.slots)):
            fit = [t for t in range(len(self.types)) if self.fits[s, t]]
            out.append((min(fit, key=lambda t: self.slot_price[s, t]), 1) if self.required[s]
                       and fit
                       else (-1, 0))
        return tuple(out)

    def options(self) -> list[tuple[int, int]]:
        """The choices of one slot: empty, or 1..max_gpus of a candidate type."""
        return [(-1, 0)] + [(t, n) for t in range(len(self.types))
                            for n in range(1, self.max_gpus + 1)]

    def size(self) -> int:
        """Number of configs in the whole space."""
        return (1 + len(self.types) * self.max_gpus) ** len(self.slots)

    def cost(self, config: Config) -> float:
        """Build-out cost in USD."""
        return float(sum(self.slot_cost(s, choice) for s, choice in enumerate(config)))

    def slot_cost(self, slot: int, choice: tuple[int, int]) -> float:
        """USD of one slot's choice: its sites' GPUs, bought or rented over the horizon, and
        their site cost (none where rented)."""
        t, n = choice
        if n <= 0:
            return 0.0
        return float(self.mult[slot] * (n * self.slot_price[slot, t] + self.slot_site_cost[slot]))

    def peak_power_w(self, config: Config) -> float:
        """GPU power at TDP in W (every GPU of the plan at full load)."""
        return float(sum(m * n * self.tdp[t] for (t, n), m in zip(config, self.mult, strict=True)
                         if n > 0))

    def gpu_count(self, config: Config) -> int:
        """Number of GPUs bought."""
        return int(sum(m * n for (_, n), m in zip(config, self.mult, strict=True)))

    def capacity_tflops(self, config: Config) -> float:
        """Dense BF16 TFLOPS bought (a tie-breaker for the greedy search)."""
        return float(sum(m * n * self.bf16[t] for (t, n), m in zip(config, self.mult, strict=True)
                         if n > 0))

    def busy_share(self, choice: tuple[int, int], power_per_gpu_w: float | None) -> float | None:
        """The busy share of the dynamic range behind a run's site power per GPU (the engine's
        idle + busy x (TDP - idle) at the catalog's figures, AI work and L1 together)."""
        t, n = choice
        if n <= 0 or power_per_gpu_w is None or math.isnan(power_per_gpu_w):
            return None
        span = self.tdp_catalog[t] - self.idle_catalog[t]
        if span <= 0:
            return None
        return float(min(max((power_per_gpu_w - self.idle_catalog[t]) / span, 0.0), 1.0))

    def slot_average_power_w(self, slot: int, choice: tuple[int, int],
                             utilization: float | None) -> float:
        """Mean GPU power of one slot in W: idle + utilization x (TDP - idle) per GPU."""
        t, n = choice
        if n <= 0:
            return 0.0
        u = 0.0 if utilization is None or math.isnan(utilization) else \
            min(max(utilization, 0.0), 1.0)
        return float(self.mult[slot] * n * (self.idle[t] + u * (self.tdp[t] - self.idle[t])))

    def average_power_w(self, config: Config, utilization: Sequence[float | None]) -> float:
        """Mean GPU power in W over the slots (see :meth:`slot_average_power_w`)."""
        return sum(self.slot_average_power_w(i, c, u)
                   for i, (c, u) in enumerate(zip(config, utilization, strict=True)))

    def describe(self, config: Config) -> str:
        """``"on-prem: 2 x L40S; regional: -"``; a slot for several sites says how many
        (``"generated: 10 x 2 x L4"``: 2 L4s at each of 10 sites)."""
        parts = []
        for s, (t, n) in zip(self.slots, config, strict=True):
            each = f"{n} x {self.types[t]}"
            parts.append(f"{s.name}: -" if n <= 0 else f"{s.name}: {each}" if s.multiplicity == 1
                         else f"{s.name}: {s.multiplicity} x {each}")
        return "; ".join(parts)

    def fixed_site_names(self) -> list[str]:
        """The scenario's compute sites that are no slot: their GPUs stay as they are and the
        plan does not cost them (by default a cloud, and a site of CPUs alone)."""
        slots = {s.name for s in self.slots}
        return [c.name for c in self.scenario.compute_sites if c.name not in slots]

    def generated_fixed_names(self) -> list[str]:
        """The scenario's generated compute sites (``generated_compute_sites``) where they are
        no slot (``--sites`` left them out): kept as they are and not costed either (an
        operator planner's review: 13 such L40S served every request of a plan that said 0 USD
        and listed none of them)."""
        sc = self.scenario
        if sc.generated_compute_sites is None or GENERATED in {s.name for s in self.slots}:
            return []
        listed = {c.name for c in sc.compute_sites}
        return [n for n in sc.compute_site_names() if n not in listed]

    def with_slot(self, config: Config, slot: int, choice: tuple[int, int]) -> Config:
        """``config`` with one slot changed."""
        t, n = choice
        c = list(config)
        c[slot] = (t, n) if n > 0 else (-1, 0)
        return tuple(c)

    # ---- scenario --------------------------------------------------------------------------------
    def _faults_for(self, sites: list[ComputeSite], gen_gpus: int | None) -> list[Fault]:
        """The scenario's faults for a build-out with ``sites`` (and ``gen_gpus`` at each
        generated site): a site's fault goes where the build-out leaves the site out (nothing
        there to fail), and a gpu_down of more GPUs than the site gets takes all of them."""
        explicit = {c.name for c in self.scenario.compute_sites} | {
            s.name for s in self.slots if s.new}
        count = {c.name: sum(g.count for g in c.gpus) for c in sites}
        out = []
        for f in self.scenario.faults:
            if f.site is None:
                out.append(f)
                continue
            n = count.get(f.site, 0) if f.site in explicit else gen_gpus
            if n == 0:
                continue
            if f.kind == "gpu_down" and n is not None and f.gpus > n:
                f = f.model_copy(update={"gpus": n})
            out.append(f)
        return out

    def scenario_for(self, config: Config, **update: object) -> Scenario:
        """The base scenario with the slots' GPUs set by ``config`` (``update``: other fields)."""
        sc = self.scenario
        by_name = {s.name: (s, choice) for s, choice in zip(self.slots, config, strict=True)}
        sites: list[ComputeSite] = []
        for c in sc.compute_sites:
            if c.name in by_name:
                slot, (t, n) = by_name[c.name]
                if n > 0:
                    sites.append(c.model_copy(update={"gpus": [GpuGroup(type=self.types[t],
                                                                         count=n)]}))
            else:
                sites.append(c)
        for slot, (t, n) in zip(self.slots, config, strict=True):
            if slot.new and n > 0:
                assert slot.at is not None
                sites.append(ComputeSite(name=slot.name, at=slot.at, kind=slot.kind,  # type: ignore[arg-type]
                                         gpus=[GpuGroup(type=self.types[t], count=n)]))
        fields: dict[str, object] = {"compute_sites": sites}
        kept = {c.name for c in sites}
        gone = [name for name in sc.live.sites if name not in kept]
        if gone:  # a site emptied here has no live address to keep (its name is no site)
            fields["live"] = sc.live.model_copy(update={"sites": {
                k: v for k, v in sc.live.sites.items() if k not in gone}})
        gen_gpus = None  # GPUs at each generated site (None: as the scenario has them)
        if GENERATED in by_name:
            slot, (t, n) = by_name[GENERATED]
            gen = sc.generated_compute_sites
            assert gen is not None
            fields["generated_compute_sites"] = (
                gen.model_copy(update={"gpus": [GpuGroup(type=self.types[t], count=n)]})
                if n > 0 else None
            )
            gen_gpus = n
        if any(f.site is not None for f in sc.faults):
            fields["faults"] = self._faults_for(sites, gen_gpus)
        fields.update(update)
        return sc.model_copy(update=fields)

    # ---- arrays for the exhaustive pass ----------------------------------------------------------
    def enumerate_below(
        self, max_cost: float, *, limit: int, inclusive: bool = False
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None:
        """Every config costing less than ``max_cost`` (or at most, if ``inclusive``), as arrays
        ``types (N, S)``, ``counts (N, S)``, ``cost (N,)``; None if there are more than
        ``limit``. Partial costs only grow, so the product is pruned slot by slot."""
        opts = self.options()
        ot = np.array([o[0] for o in opts], dtype=np.int64)
        on = np.array([o[1] for o in opts], dtype=np.int64)
        types = np.zeros((1, 0), dtype=np.int64)
        counts = np.zeros((1, 0), dtype=np.int64)
        cost = np.zeros(1)
        eps = 1e-9 * max(1.0, abs(max_cost)) if math.isfinite(max_cost) else 0.0
        for s in range(len(self.slots)):
            allowed = np.where(on == 0, not self.required[s], self.fits[s, np.maximum(ot, 0)])
            oc = np.where(on > 0, self.mult[s] * (on * np.nan_to_num(
                self.slot_price[s, np.maximum(ot, 0)]) + self.slot_site_cost[s]), 0.0)
            new_cost = (cost[:, None] + oc[None, :]).ravel()
            keep = new_cost <= max_cost + eps if inclusive else new_cost < max_cost - eps
            keep &= np.broadcast_to(allowed, (len(cost), len(opts))).ravel()
            idx = np.nonzero(keep)[0]
            if idx.size > limit:
                return None
            row, col = np.divmod(idx, len(opts))
            types = np.concatenate([types[row], ot[col][:, None]], axis=1)
            counts = np.concatenate([counts[row], on[col][:, None]], axis=1)
            cost = new_cost[idx]
        return types, counts, cost

    def dominated_by(
        self, types: NDArray[np.int64], counts: NDArray[np.int64], config: Config
    ) -> NDArray[np.bool_]:
        """Mask of the rows that have no more capacity than ``config`` in every slot."""
        mask = np.ones(types.shape[0], dtype=bool)
        for s, (t, n) in enumerate(config):
            empty = counts[:, s] == 0
            if n == 0:
                mask &= empty
                continue
            slower = self.le[np.maximum(types[:, s], 0), t]
            mask &= empty | (slower & (counts[:, s] <= n))
        return mask

    def dominates(
        self, types: NDArray[np.int64], counts: NDArray[np.int64], config: Config
    ) -> NDArray[np.bool_]:
        """Mask of the rows that have at least the capacity of ``config`` in every slot."""
        mask = np.ones(types.shape[0], dtype=bool)
        for s, (t, n) in enumerate(config):
            if n == 0:
                continue
            faster = self.le[t, np.maximum(types[:, s], 0)]
            mask &= (counts[:, s] >= n) & faster & (counts[:, s] > 0)
        return mask

    def config_of(self, types: NDArray[np.int64], counts: NDArray[np.int64], i: int) -> Config:
        """Row ``i`` as a config."""
        return tuple((int(t), int(n)) if n > 0 else (-1, 0)
                     for t, n in zip(types[i], counts[i], strict=True))

    def is_below(self, a: Config, b: Config) -> bool:
        """True if ``a`` has no more capacity than ``b`` in every slot."""
        for (ta, na), (tb, nb) in zip(a, b, strict=True):
            if na == 0:
                continue
            if nb == 0 or na > nb or not self.le[ta, tb]:
                return False
        return True
