"""What a policy sees: the snapshot of the engine, the batch of new requests, latency estimates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)
from airan.radio import drx

LOCAL = -1
REJECT = -2
#: No site is up to take the request (a fault's): it ends ``site_failure``, where ``REJECT``
#: is the policy's own admission control (``admission``).
NO_SITE = -4
#: Time constant (s) of the rates a snapshot gives (:class:`PlacementRates`): ten decision
#: intervals of 5 ms, long enough to smooth a decision's Poisson count, short enough to follow
#: a fault's load moving within a few tens of milliseconds.
RATE_TIME_CONSTANT_S = 0.05


def read_only_world(world: Any) -> Any:
    """The engine's World as a policy of one's own sees it: a World whose arrays are views that
    cannot be written (``ValueError: assignment destination is read-only``), whose lists are
    tuples, whose fields cannot be set and whose ``device_radio`` is a read-only copy too, so
    that a policy that writes to what it reads (``d = world.svc_deadline_s; d -= margin``)
    fails at once instead of changing the run or the next decision's view. ``extras`` is
    shared: the place for a policy's own caches, kept from one decision to the next. The
    built-in policies read the engine's own World (:func:`world_of`): their compiled code takes
    writable arrays. This guards against accidents, not intent (``flags.writeable = True``
    undoes it). Built once per World and kept while its fields stay the same objects (the
    engine changes them in place)."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(world) if f.init and f.name != "extras"]
    key = tuple(id(getattr(world, n)) for n in names)
    kept = world.extras.get(_READ_ONLY)
    if kept is not None and kept[0] == key and kept[2] is world:
        return kept[1]
    view = _frozen_copy(world, names, _read_only_class(type(world)))
    object.__setattr__(view, "extras", world.extras)
    world.extras[_READ_ONLY] = (key, view, world)
    return view


def _frozen(value: object) -> object:
    if isinstance(value, np.ndarray):
        value = value.view()
        value.flags.writeable = False
    elif isinstance(value, list):
        value = tuple(tuple(x) if isinstance(x, list) else x for x in value)
    elif isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple of arrays
        value = type(value)(*[_frozen(x) for x in value])  # type: ignore[arg-type]
    elif _is_dataclass_instance(value):
        import dataclasses

        value = _frozen_copy(value, [f.name for f in dataclasses.fields(value)],  # type: ignore[arg-type]
                             _read_only_class(type(value)))
    return value


def _is_dataclass_instance(value: object) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _frozen_copy(obj: Any, names: list[str], cls: type) -> Any:
    """``obj``'s fields ``names``, frozen (:func:`_frozen`), in a new ``cls`` (a read-only
    subclass of its class: isinstance, pickling and dataclasses.fields still work)."""
    view: Any = object.__new__(cls)
    for name in names:
        object.__setattr__(view, name, _frozen(getattr(obj, name)))
    return view


_READ_ONLY_CLASSES: dict[type, type] = {}


def _read_only_class(base: type) -> type:
    """A subclass of ``base`` whose attributes cannot be set (once built by _frozen_copy)."""
    cls = _READ_ONLY_CLASSES.get(base)
    if cls is None:
        def refuse(self: object, name: str, value: object) -> None:
            raise AttributeError(f"a policy's snapshot.world is read-only (setting {name!r})")

        def reduce(self: object, protocol: object = None) -> tuple[object, ...]:
            return _writable_copy, (base, dict(self.__dict__))  # pickles as a plain copy

        cls = _READ_ONLY_CLASSES[base] = type(f"ReadOnly{base.__name__}", (base,), {
            "__setattr__": refuse, "__delattr__": refuse, "__reduce_ex__": reduce,
            "__module__": base.__module__, "__qualname__": f"ReadOnly{base.__qualname__}"})
    return cls


def _writable_copy(base: type, state: dict[str, object]) -> object:
    """What a pickled read-only view loads as: a ``base`` with the same fields (a copy, whose
    arrays are the unpickled copies)."""
    obj: Any = object.__new__(base)
    obj.__dict__.update(state)
    return obj


_READ_ONLY = "airan.read_only_world"  # where a World keeps its read-only view (extras)


def world_of(snap: object) -> object:
    """The World behind a snapshot: the engine's own (for airan's policies, which only read
    it), or whatever ``world`` a snapshot of another kind (the live gateway's) carries."""
    world = getattr(snap, "_world", None)
    return world if world is not None else snap.world  # type: ignore[attr-defined]


# the columns of Snapshot.drx_s (s): the long cycle (0: no DRX), the on-duration, the
# inactivity timer, the device's cycle offset, the short cycle (0: none) and how long it lasts
DRX_CYCLE, DRX_ON, DRX_INACTIVITY, DRX_OFFSET, DRX_SHORT, DRX_SHORT_SPAN = range(6)
DRX_COLUMNS = ("cycle_s", "on_s", "inact_s", "offset_s", "short_s", "short_span_s")


def drx_rows_s(snap: Any, devices: NDArray[np.int64]) -> NDArray[np.float64]:
    """``snap.drx_s(devices)`` as a float array, [0, 6] where no fleet has DRX or the
    snapshot (one of one's own, say) has no ``drx_s``."""
    of = getattr(snap, "drx_s", None)
    rows = of(devices) if of is not None else None
    if rows is None:
        return np.zeros((0, len(DRX_COLUMNS)))
    return np.ascontiguousarray(rows, dtype=np.float64)


#: the policies' random stream, apart from the engine's own draws (arrivals, fading, HARQ)
POLICY_RNG_STREAM = 0x706F6C696379


def policy_rng(seed: int, stream: int = 0) -> np.random.Generator:
    """The random generator a run with ``seed`` hands its policy (``Snapshot.rng``): an ML
    researcher's review: a policy that drew from ``np.random`` made other placements in every
    process, and neither the snapshot nor the world said the run's seed. ``stream``: one of
    several deciding apart (a live deployment's gateways, by their first cell)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), POLICY_RNG_STREAM,
                                                         int(stream)]))


class Snapshot:
    """The engine at the start of a decision interval, as a policy sees it (SI units).

    Cheap to take: per-site figures are computed on first use, per-device figures only for the
    devices asked about, so a policy pays for what it reads.

    - ``time_s``: the decision's time; ``world``: the scenario as arrays, read-only
      (:class:`airan.engine.world.World`), among them ``site_names`` (the index a policy
      answers with names that site), ``site_kind``, ``service_names``, ``svc_model``,
      ``svc_deadline_s``, ``svc_ul_bits`` and ``svc_dl_bits`` (the mean upload and answer; a
      policy does not see a request's own sizes under ``ul_kb_spread`` or ``dl_kb_spread``),
      ``local_time_s`` [fleets, services] (a device's own
      compute time; inf where it has none), ``svc_site_ok`` [services, sites] (False where a
      site serves not that service: its ``services``; a placement there is an error),
      ``dev_fleet``, ``dev_cell``, ``cell_node`` and ``path_delay_s`` [nodes, sites] (inf: no
      route), and ``extras``, a dict of the run's own that a policy may write to (state that
      lasts one run).
    - ``site_queue_len``: requests waiting at each site, all models together (what its
      ``queue_limit`` counts).
    - ``ul_tx_w(devices)``: each device's power (W, its circuits and its PA) while it sends on
      its share of its cell now: what ``objective: energy`` weighs.

    - ``site_backlog_s``: expected wait before a new request would start on a GPU of each site,
      counting the requests queued there and those already on their way there (placed by
      earlier decisions, still in an uplink buffer or on the links, or waiting there for their
      context to arrive).
    - ``site_model_backlog_s``: [sites, models], the wait a new request of each model adds to
      its batch-1 time at each site (where batches share a GPU, what those already running
      take from it).
    - ``site_service_backlog_s``: [sites, services], the same for a new request of each
      service, less the work of lower ``compute_priority`` requests it goes ahead of, and
      stretched by the higher priorities' that come while it waits.
    - ``site_model_queue``: [sites, models], requests of each model queued at each site or on
      their way there.
    - ``site_ai_share``: the share of each site's GPUs left to AI (the RAN's L1 takes the rest).
    - ``link_backlog_s``: how long each transport link stays busy, counting the context moves
      already decided; ``site_healthy``: False for a site a fault has taken down.
    - ``ul_rate_bps(devices)`` / ``dl_rate_bps(devices)``: each device's share of its cell now.
    - ``device_backlog_s(devices, services=None)``: work queued on each device's own
      accelerator; given each request's service, on the engine that runs it (a fleet's
      ``engines``: a DLA beside the GPU), else on the accelerator's main one.
    - ``ul_backlog_bits(devices, services=None)``: bits already waiting in each device's uplink
      buffer, which a new request queues behind; given each request's service, only those of
      its ``ul_priority`` or a higher one (a grant serves the buffer in priority order, TS
      38.321 5.4.3.1).
    - ``ul_time_s(devices, bits, services=None)``: expected time to send ``bits`` more from each
      device, behind its buffer (given the services, what goes ahead of them), its cell shared
      as processor sharing with the UEs that have data.
    - ``ul_report_round_s(devices, bits, services=None)``: the buffer status report's round such
      an upload adds to the leg's fixed part where the SR's grant cannot carry it
      (``radio.first_grant_bytes``; 0 otherwise).
    - ``link_wait_s(devices)``: how long each device's radio link stays interrupted (a
      handover's interruption, a radio link failure's silence and the re-establishment after
      it; 0 while it is up): neither its upload nor its answer moves before (the air legs'
      estimates start after it; a device's own accelerator does not wait).
    - ``drx_s(devices)``: each device's connected-mode DRX (``radio.drx``, or its fleet's
      own ``drx``), [n, 6] in seconds, columns ``DRX_CYCLE`` (0: no DRX for that device),
      ``DRX_ON`` (on-duration), ``DRX_INACTIVITY`` (inactivity timer), ``DRX_OFFSET`` (its
      cycle offset), ``DRX_SHORT`` (short cycle, 0: none) and ``DRX_SHORT_SPAN`` (how long
      the short cycle lasts after the inactivity timer); None where no fleet has DRX. An
      answer reaching the cell after its device's inactivity timer (from its upload's end)
      waits for the device's next on-duration (``answer_wait_s`` in :mod:`airan.radio.drx`;
      :func:`latency_parts_s` counts it).
    - ``context_site(devices, services)``: the site holding each pair's context (-1: none, or
      a stateless service), or, where a request of the pair is on its way to a site, the site
      the newest one goes to: a stateful service's request elsewhere first moves it there.
    - ``ul_access_delay_s`` / ``dl_access_delay_s``: the fixed part of each air leg, the same for
      every device (NR: the SR and grant, or the downlink's scheduling delay, then the mean wait
      for a slot of the direction and that slot, at whose end the leg ends, and HARQ's mean
      delay for a last block sent again, ``ul_harq_s`` / ``dl_harq_s``; ``fixed``: the link
      latency; ``ideal``: 0).
    - ``ul_slot_spacing_s`` / ``dl_slot_spacing_s``: the mean time between slots of each
      direction (NR; 0 for a radio without slots): data beyond what the first slot carries
      goes in the next ones (:func:`air_leg_s`).
    - ``admission`` (``"none"`` or ``"strict"``) and ``objective`` (``"latency"`` or
      ``"energy"``): the scenario's settings, which deadline-aware applies and a policy of
      one's own may read (the other built-ins ignore them).
    - ``decision_interval_s``: the time whose arrivals one batch holds (the scenario's
      ``engine.decision_interval_ms``, in whole slots).
    - ``site_model_rate_per_s``: [sites, models], requests of each model placed at each site
      per second, and ``site_model_home_rate_per_s``, those arriving from the cells each site
      is nearest to (where ``nearest-edge`` sends them), before this batch: rates weighted
      exponentially over the last ~50 ms (:class:`PlacementRates`).
    - ``rng``: a random generator (``numpy.random.Generator``) for a policy that draws (an
      epsilon-greedy or sampling one), seeded from the run's seed on a stream of its own: the
      same scenario and seed make the same draws, another seed others; one per run, its draws
      going on from one decision to the next (:func:`policy_rng`).
    """

    def __init__(self, engine: object) -> None:
        self._engine = engine
        self._world = engine.world  # type: ignore[attr-defined]
        self.time_s: float = engine.now_s  # type: ignore[attr-defined]
        self.ul_access_delay_s: float = engine._ul_access_delay_s  # type: ignore[attr-defined]
        self.dl_access_delay_s: float = engine._dl_access_delay_s  # type: ignore[attr-defined]
        self.ul_harq_s: float = engine._ul_harq_s  # type: ignore[attr-defined]
        self.dl_harq_s: float = engine._dl_harq_s  # type: ignore[attr-defined]
        self.ul_slot_spacing_s: float = engine._ul_slot_spacing_s  # type: ignore[attr-defined]
        self.dl_slot_spacing_s: float = engine._dl_slot_spacing_s  # type: ignore[attr-defined]
        self.admission: str = engine.scenario.admission  # type: ignore[attr-defined]
        self.objective: str = engine.scenario.objective  # type: ignore[attr-defined]
        self.decision_interval_s: float = engine.decision_interval_s  # type: ignore[attr-defined]

    @property
    def rng(self) -> np.random.Generator:
        """The run's random generator for policies (:func:`policy_rng`): the engine's own."""
        return self._engine.policy_rng()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def world(self) -> Any:
        """The scenario as arrays (:class:`airan.engine.world.World`), read-only: a policy that
        writes to its arrays gets an error, not a changed run (:func:`read_only_world`)."""
        return read_only_world(self._world)

    @cached_property
    def _backlogs(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64],
                                 NDArray[np.float64]]:
        return self._engine._site_backlogs()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_backlog_s(self) -> NDArray[np.float64]:
        return self._backlogs[0]

    @cached_property
    def site_model_backlog_s(self) -> NDArray[np.float64]:
        """[sites, models]: the wait a new request of each model adds to its batch-1 time at
        each site: the site's backlog where its GPUs run one batch at a time; where batches
        share a GPU, what the batches already on the best GPU with a free instance of the model
        take from it (processor sharing), plus the model's queue and the requests of the model
        on their way there; with every instance of the model held, when the first of its
        batches frees one (by processor sharing: its work ends once each batch sharing the GPU
        has done as much, then its fixed overhead) and what the others' rest then takes from
        the new batch, plus the queue as above (the site's backlog only where none is found)."""
        return self._backlogs[1]

    @cached_property
    def site_service_backlog_s(self) -> NDArray[np.float64]:
        """[sites, services]: :attr:`site_model_backlog_s` of each service's model, less the
        work of the requests of a lower ``compute_priority`` queued there or on their way
        (which a new one goes ahead of), over 1 - rho, rho the load of the higher priorities'
        requests placed there (~50 ms), which go ahead of it while it waits (Kleinrock's delay
        cycle; ``kernel._service_backlogs``); the same where every service has one priority."""
        return self._backlogs[3]

    @cached_property
    def site_model_queue(self) -> NDArray[np.int64]:
        """[sites, models]: requests of each model queued at each site or on their way there."""
        return self._backlogs[2]

    @cached_property
    def site_model_rate_per_s(self) -> NDArray[np.float64]:
        """[sites, models]: requests of each model placed at each site per second (~50 ms)."""
        return self._engine._rates.site.copy()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_model_home_rate_per_s(self) -> NDArray[np.float64]:
        """[sites, models]: requests of each model arriving from the cells each site is nearest
        to (its home cells) per second (~50 ms), before this batch."""
        return self._engine._rates.home.copy()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_queue_len(self) -> NDArray[np.int64]:
        return self._engine._st.site_qlen.copy()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_ai_share(self) -> NDArray[np.float64]:
        """Share of each site's GPUs left to AI now (below 1 where they also run the RAN's L1)."""
        return self._engine._st.site_ai_share.copy()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def link_backlog_s(self) -> NDArray[np.float64]:
        """How long each transport link stays busy with what it already carries, and with the
        context moves already decided: a stateful request on its way to a new site moves its
        context there when it arrives, but the next decisions must see that move now (without
        it, deadline-aware kept choosing moves whose links earlier choices were about to fill)."""
        free = self._engine._st.link_free  # type: ignore[attr-defined]
        return np.maximum(free - self.time_s, 0.0) + self._pending_moves[0]  # type: ignore[no-any-return]

    @cached_property
    def _pending_moves(self) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
        return self._engine._pending_moves()  # type: ignore[attr-defined,no-any-return]

    @cached_property
    def site_healthy(self) -> NDArray[np.bool_]:
        """False for a site that a fault has taken down (once the gateways notice: a
        ``site_down``'s ``detect_ms``)."""
        return self._engine._st.site_up != 0  # type: ignore[attr-defined,no-any-return]

    def ul_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._rate_bps(devices, uplink=True)  # type: ignore[attr-defined,no-any-return]

    def dl_rate_bps(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._rate_bps(devices, uplink=False)  # type: ignore[attr-defined,no-any-return]

    def ul_tx_w(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._ul_tx_w(devices)  # type: ignore[attr-defined,no-any-return]

    def ul_time_s(self, devices: NDArray[np.int64], bits: NDArray[np.float64],
                  services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return self._engine._ul_time_s(devices, bits, services)  # type: ignore[attr-defined,no-any-return]

    def ul_backlog_bits(self, devices: NDArray[np.int64],
                        services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return self._engine._ul_backlog_bits(devices, services)  # type: ignore[attr-defined,no-any-return]

    def ul_report_round_s(self, devices: NDArray[np.int64], bits: NDArray[np.float64],
                          services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        return self._engine._ul_report_round_s(devices, bits, services)  # type: ignore[attr-defined,no-any-return]

    def link_wait_s(self, devices: NDArray[np.int64]) -> NDArray[np.float64]:
        return self._engine._link_wait_s(devices)  # type: ignore[attr-defined,no-any-return]

    def drx_s(self, devices: NDArray[np.int64]) -> NDArray[np.float64] | None:
        w = self._world
        if not w.drx_any:  # type: ignore[attr-defined]
            return None
        return np.stack([getattr(w, f"dev_drx_{col}")[devices] for col in DRX_COLUMNS],
                        axis=1)

    def device_backlog_s(self, devices: NDArray[np.int64],
                         services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        st, w = self._engine._st, self._world  # type: ignore[attr-defined]
        free = st.dev_free[devices]
        if services is not None and w.svc_engine.max(initial=-1) >= 0:
            engine = w.svc_engine[w.dev_fleet[devices], services]
            own = engine >= 0  # (a fleet's engines: each a FIFO of its own)
            free = np.where(own, st.dev_eng_free[devices, np.maximum(engine, 0)], free)
        return np.maximum(free - self.time_s, 0.0)  # type: ignore[no-any-return]

    def context_site(self, devices: NDArray[np.int64],
                     services: NDArray[np.int64]) -> NDArray[np.int64]:
        if not np.any(self._world.svc_state_bits > 0):  # type: ignore[attr-defined]
            return np.full(len(devices), -1, dtype=np.int64)
        devices = np.asarray(devices, dtype=np.int64)
        services = np.asarray(services, dtype=np.int64)
        held = self._engine._st.ctx_site[devices, services]  # type: ignore[attr-defined]
        _, pair, dest = self._pending_moves
        if not len(pair):
            return held  # type: ignore[no-any-return]
        # where a request of the pair is on its way, the context will be where the newest goes
        key = devices * len(self._world.svc_state_bits) + services  # type: ignore[attr-defined]
        at = np.minimum(np.searchsorted(pair, key), len(pair) - 1)
        return np.where(pair[at] == key, dest[at], held)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Batch:
    """The new requests of one decision interval, in time order: ``time_s`` each one's
    creation (s), ``device`` and ``service`` indices into the world's devices and
    ``service_names``, ``cell`` its device's cell then. Where a fault gives a site's requests
    back, the policy is called again for them with ``time_s`` now (and a site it answers that
    is not ``site_healthy`` gives them back again)."""

    time_s: NDArray[np.float64]
    device: NDArray[np.int64]
    service: NDArray[np.int64]
    cell: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.time_s)


def candidate_sites(snap: Snapshot, batch: Batch) -> NDArray[np.int64]:
    """The sites worth considering for each request, shape (n_requests, k).

    The nearest cell-site GPUs (by transport delay from the request's cell) and every regional
    edge and cloud site; computed once per scenario (``World.node_candidates``).
    """
    w = world_of(snap)
    return w.node_candidates[w.cell_node[batch.cell]]  # type: ignore[attr-defined,no-any-return]


def estimate_latency_s(
    snap: Snapshot, batch: Batch, sites: NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Estimated end-to-end latency of each request at each candidate site and locally.

    ``sites``: (n_requests, k) site indices (default: :func:`candidate_sites`). Returns shape
    (n_requests, k + 1); the last column is the device itself. Unhealthy sites are ``inf``. A
    request reaches a site after the uplink leg (its access delay, then the further slots it
    needs behind the device's buffer, :meth:`Snapshot.ul_time_s` and :func:`air_leg_s`),
    propagation and serialization (at the path's slowest link: its packets pipeline over the
    links, ``transport.packet_bytes``, and under ``nr`` enter them while the upload is still
    on the air, :func:`upload_serialization_s`; on every link for whole messages) behind the
    longest backlog of the path's links (:func:`path_backlog_s`), and, for a stateful
    service, moving its context there first (:func:`context_move_s`); the batcher's mean
    wait (:func:`batch_wait_s`); it starts then or when the
    site's backlog has cleared, whichever is later (the GPUs work through the backlog while it
    travels); then its
    batch-1 service time, the way back and the downlink leg at the device's current rate.

    The batch-1 time is deliberate. Costing the batch a request is expected to join (an EWMA of
    each site's recent batch size per model) made placements worse: city's mean latency +0.6 ms
    and every korea service slower (10 s runs); metro's perception and detection +1.8 and +1.6 ms
    at p50 and its VLA's hit ratio 98.9% -> 98.5% (3 s; its p50 fell by 61 ms, off the cloud's
    batches of 32), because the sites that then look cheaper grow their batches only after the
    decisions move load to them.

    The batcher's wait is counted (without it, a site batching for up to 20 ms behind a 15 ms
    deadline kept every request: 29% met; 99% at the next site), as its mean at the rate the
    site would see (:func:`batch_wait_s`). Counting ``max_wait`` where nothing of the model was
    queued or on its way and 0 elsewhere kept traffic where a fault had moved it; the rates cost
    metro (3 s) +0.4 and +0.3 ms on perception's and detection's means, the VLA's +4 ms, the
    same hit ratios (its cell sites' batch waits, counted now where a request is on its way,
    send more to the edges), and save city 0.14 ms.

    The backlog counts the requests on their way to the site as if they were there: a lower
    bound where they arrive about when this one does. (Adding their work after the ``max``
    instead, the upper bound, did worse in 5 of 6 built-in runs: city, city x4, korea, factory,
    factory x3; better only for metro's VLA.)
    """
    arrive, wait, after, local = latency_parts_s(snap, batch, sites)
    return np.concatenate([np.maximum(arrive, wait) + after, local[:, None]], axis=1)


def latency_parts_s(
    snap: Snapshot, batch: Batch, sites: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The parts of :func:`estimate_latency_s`: for each request at each candidate site, when
    it could start at the earliest (its arrival there, plus the batcher's wait where it would
    open a batch; ``inf`` at an unhealthy site), the site's backlog, and the time from
    its start to its answer (service time, way back, downlink leg), each (n_requests, k); and
    its latency on the device, (n_requests,)."""
    w = world_of(snap)
    if sites is None:
        sites = candidate_sites(snap, batch)
    n, k = sites.shape
    v = batch.service
    d = batch.device
    ul_bits = w.svc_ul_bits[v]  # type: ignore[attr-defined]
    dl_bits = w.svc_dl_bits[v]  # type: ignore[attr-defined]
    arrive = np.empty((n, k))
    wait = np.empty((n, k))
    after = np.empty((n, k))
    if k:
        node = w.cell_node[batch.cell][:, None]  # type: ignore[attr-defined]
        ul_leg = air_leg_s(snap.ul_access_delay_s + ul_delay_s(snap, d, ul_bits, v),
                           snap.ul_time_s(d, ul_bits, v), snap.ul_slot_spacing_s)
        dl_leg = air_leg_s(snap.dl_access_delay_s, dl_bits / np.maximum(snap.dl_rate_bps(d), 1.0),
                           snap.dl_slot_spacing_s)
        prop = w.path_delay_s[node, sites]  # type: ignore[attr-defined]
        rate = w.path_rate_bps[node, sites]  # type: ignore[attr-defined]
        gpu_type = w.gpu_type[w.site_gpu_start[sites]]  # type: ignore[attr-defined]
        model = w.svc_model[v][:, None]  # type: ignore[attr-defined]
        compute = w.svc_time_s[model, gpu_type, 1] / snap.site_ai_share[sites]  # type: ignore[attr-defined]
        arrive[:] = ul_leg[:, None] + prop + upload_serialization_s(snap, d, ul_bits, rate, v)
        arrive += path_backlog_s(snap, batch, sites)
        arrive += context_move_s(snap, batch, sites)
        # (a site down, or one that does not serve the request's service: its services)
        arrive[~(snap.site_healthy[sites] & w.svc_site_ok[v[:, None], sites])] = np.inf  # type: ignore[attr-defined]
        arrive += batch_wait_s(snap, batch, sites)
        wait[:] = snap.site_service_backlog_s[sites, v[:, None]]  # type: ignore[attr-defined]
        after[:] = compute + (prop + dl_bits[:, None] / rate + dl_leg[:, None])
        rows = drx_rows_s(snap, d)
        if rows.shape[0]:  # an answer after the device's inactivity timer (from its upload's
            # end) waits for its next on-duration (DRX), at the time the site's backlog lets
            # it be ready; the devices of one DRX setting at a time
            ready = snap.time_s + (np.maximum(arrive, wait) + (after - dl_leg[:, None]))
            last = (snap.time_s + ul_leg)[:, None]
            timers = rows[:, [DRX_CYCLE, DRX_ON, DRX_INACTIVITY, DRX_SHORT, DRX_SHORT_SPAN]]
            for cfg in np.unique(timers[timers[:, 0] > 0.0], axis=0):
                at = np.flatnonzero((timers == cfg).all(axis=1))
                cycle, on, inactivity, short, short_span = (float(x) for x in cfg)
                after[at] += drx.answer_wait_s(ready[at], last[at], inactivity,
                                               rows[at, DRX_OFFSET][:, None], cycle, on,
                                               short, short_span)
    fleet = w.dev_fleet[d]  # type: ignore[attr-defined]
    local = snap.device_backlog_s(d, v) + w.local_time_s[fleet, v]  # type: ignore[attr-defined]
    return arrive, wait, after, local


def batch_wait_s(snap: Snapshot, batch: Batch,
                 sites: NDArray[np.int64]) -> NDArray[np.float64]:
    """The batcher's mean wait for each request of ``batch`` at each of ``sites``
    (n_requests, k): a batch starts when it holds ``max_batch`` requests or its first has
    waited ``max_wait`` (0 where batches are of one), and the requests of its model reach the
    site as a Poisson stream at the rate it would see: the larger of the rate placed there and
    that from its home cells (:attr:`Snapshot.site_model_rate_per_s`,
    :attr:`Snapshot.site_model_home_rate_per_s`; requests that share a nearest site decide
    alike, so they would go there together) (:func:`mean_batch_wait_s`).

    Not ``max_wait`` where a request would open a batch and 0 where one is waiting: that made
    a site in use look a batch's wait cheaper than an idle one, so traffic that a fault moved
    away stayed away once it was over (see docs/policies.md, deadline-aware)."""
    w = world_of(snap)
    model = w.svc_model[batch.service][:, None]  # type: ignore[attr-defined]
    rate = np.maximum(np.asarray(snap.site_model_rate_per_s)[sites, model],
                      np.asarray(snap.site_model_home_rate_per_s)[sites, model])
    return mean_batch_wait_s(rate, w.site_max_batch[sites, model],  # type: ignore[attr-defined]
                             w.site_max_wait_s[sites, model])  # type: ignore[attr-defined]


@njit(cache=True)
def _mean_batch_wait(rate_per_s, max_batch, max_wait_s):  # pragma: no cover - compiled
    """:func:`mean_batch_wait_s` for one batcher (the compiled policy calls it too)."""
    if max_batch <= 1 or max_wait_s <= 0.0:
        return 0.0
    if rate_per_s <= 0.0:
        return max_wait_s
    # the j-th request after the batch's first comes S_j later (a sum of j exponentials); the
    # batch starts at T = min(S_{b-1}, w), when E[min(S_j, w)] = sum_{i=1..j} P(N(w) >= i) / rate
    # for N(w) the arrivals within w (Poisson); the j-th joins it if S_j < w and waits T - S_j
    mean = rate_per_s * max_wait_s
    log_mean = math.log(mean)
    p = math.exp(-mean)  # P(N(w) = 0) (from the log past exp's range: see below)
    # P(N(w) >= j), from P(N(w) >= 1) down by each P(N(w) = j): not 1 - P(N(w) < j), which
    # rounds to 0 for a faded rate (mean below ~1e-16) and the wait with it
    at_least = -math.expm1(-mean)
    until = 0.0  # E[min(S_j, w)] * rate
    sum_until = 0.0  # sum over j < b - 1 of it
    joined = 0.0  # expected requests after the first in a batch
    for j in range(1, max_batch):
        until += at_least
        joined += at_least
        if j < max_batch - 1:
            sum_until += until
        p = (p * mean / j if mean < 700.0
             else math.exp(j * log_mean - mean - math.lgamma(j + 1.0)))
        at_least = max(at_least - p, 0.0)
    start = until / rate_per_s  # E[T]
    waited = start * max_batch - (sum_until + until) / rate_per_s
    return min(max(waited / (1.0 + joined), 0.0), max_wait_s)


@njit(cache=True)
def _mean_batch_waits(rate, max_batch, max_wait, out):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] = _mean_batch_wait(rate[i], max_batch[i], max_wait[i])


def mean_batch_wait_s(rate_per_s: ArrayLike, max_batch: ArrayLike,
                      max_wait_s: ArrayLike) -> NDArray[np.float64]:
    """Mean wait (s) of a request in a batcher that starts a batch when it holds ``max_batch``
    requests or its first has waited ``max_wait_s``, the requests arriving as a Poisson stream
    of ``rate_per_s`` (broadcast shapes). Per batch (a renewal cycle, the GPU taken as free):
    the sum of its requests' waits over their expected number; ``max_wait_s`` with no arrivals,
    0 with batches of one. Exact for Poisson arrivals (tests check it against a simulated
    batcher)."""
    r, b, w = np.broadcast_arrays(np.asarray(rate_per_s, dtype=np.float64),
                                  np.asarray(max_batch, dtype=np.int64),
                                  np.asarray(max_wait_s, dtype=np.float64))
    out = np.empty(r.size)
    _mean_batch_waits(np.ascontiguousarray(r).ravel(), np.ascontiguousarray(b).ravel(),
                      np.ascontiguousarray(w).ravel(), out)
    return out.reshape(r.shape)


class PlacementRates:
    """The request rates a snapshot gives, per second, each weighted exponentially over the
    past (time constant :data:`RATE_TIME_CONSTANT_S`), per site and model ([sites, models]):
    ``site``, the requests placed there; ``home``, those arriving from the cells the site is
    nearest to (``home_site``: each transport node's nearest cell or edge site, where
    ``nearest-edge`` sends its requests). The decision being taken is not counted: its own
    requests are not peers that a batch could wait for. A decision's ``n`` requests over its
    interval ``interval_s`` add ``n (1 - exp(-interval_s / tau)) / interval_s`` at its end, so
    that steady arrivals at a rate read that rate at the next decision; with ``interval_s`` 0
    (the live gateway, one request at a time), each adds ``1 / tau``, an unbiased estimate of a
    Poisson stream's rate at any time. With ``n_services``, ``service`` [sites, services]
    counts the requests placed at each site by service as ``site`` does by model (the engine's:
    the policies' wait behind later requests of a higher ``compute_priority``)."""

    def __init__(self, home_site: NDArray[np.int64], n_sites: int, n_models: int,
                 interval_s: float, n_services: int = 0) -> None:
        self.site = np.zeros((n_sites, n_models))
        self.home = np.zeros((n_sites, n_models))
        self.service = np.zeros((n_sites, n_services))
        self.home_site = np.asarray(home_site, dtype=np.int64)
        self.time_s = 0.0  # the rates as of this time
        self.interval_s = interval_s
        tau = RATE_TIME_CONSTANT_S
        self._weight = -math.expm1(-interval_s / tau) / interval_s if interval_s > 0 else 1 / tau

    def clear(self) -> None:
        """Forget every request counted so far (the clock back at 0)."""
        self.site[:] = 0.0
        self.home[:] = 0.0
        self.service[:] = 0.0
        self.time_s = 0.0

    def _keep(self, time_s: float) -> float:
        """The factor that decays the rates to ``time_s`` (1 where they are as of it or later),
        the clock moved there."""
        if time_s <= self.time_s:
            return 1.0
        keep = math.exp(-(time_s - self.time_s) / RATE_TIME_CONSTANT_S)
        self.time_s = time_s
        return keep

    def advance(self, time_s: float) -> None:
        """Decay the rates to ``time_s`` (nothing where they are as of that time or later)."""
        keep = self._keep(time_s)
        if keep != 1.0:
            self.site *= keep
            self.home *= keep
            self.service *= keep

    def record(self, time_s: float, node: NDArray[np.int64], site: NDArray[np.int64],
               model: NDArray[np.int64], *, arrivals: bool = True,
               service: NDArray[np.int64] | None = None) -> None:
        """Count a decision of the interval that starts at ``time_s``: requests of ``model``
        from ``node`` placed at ``site`` (on the device, rejected: at no site), as of the
        interval's end; ``arrivals=False`` for requests placed again (a failed site's), which
        arrived from their cells once already: counted where they go, as of the rates' time,
        whose clock they leave where it is (between two decisions, or at a decision's slot
        before it, they moved it an interval ahead: the next decision read rates ~10% low).
        (Compiled: it runs at every decision.)"""
        keep = self._keep(time_s + self.interval_s) if arrivals else 1.0
        by_service = self.service.shape[1] > 0 and service is not None
        _decay_and_count(self.site, self.home, self.service, self.home_site,
                         np.asarray(node, dtype=np.int64), np.asarray(site, dtype=np.int64),
                         np.asarray(model, dtype=np.int64),
                         np.asarray(service if by_service else model, dtype=np.int64),
                         keep, self._weight, arrivals, by_service)


@njit(cache=True)
def _decay_and_count(site_rate, home_rate, svc_rate, home_site, node, site, model, service,
                     keep, weight, arrivals, by_service):  # pragma: no cover - compiled
    """:meth:`PlacementRates.record`: the rates times ``keep``, then ``weight`` added per
    request where it goes (by model, and by service where ``by_service``) and, for
    ``arrivals``, at its node's home site."""
    if keep != 1.0:
        site_rate *= keep
        home_rate *= keep
        svc_rate *= keep
    for i in range(node.shape[0]):
        if arrivals and home_site[node[i]] >= 0:
            home_rate[home_site[node[i]], model[i]] += weight
        if site[i] >= 0:
            site_rate[site[i], model[i]] += weight
            if by_service:
                svc_rate[site[i], service[i]] += weight


def ul_delay_s(snap: Snapshot, devices: NDArray[np.int64], ul_bits: NDArray[np.float64],
               services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """What each upload (of each of ``services``, for its uplink priority) waits beyond the
    uplink's fixed part (s): its device's link back (a handover's or a radio link failure's
    interruption, ``link_wait_s``), then the buffer status report's round where the SR's grant
    cannot carry it (``ul_report_round_s``)."""
    return snap.link_wait_s(devices) + snap.ul_report_round_s(devices, ul_bits, services)  # type: ignore[no-any-return]


def air_leg_s(access_s: ArrayLike, fluid_s: ArrayLike,
              spacing_s: float) -> NDArray[np.float64]:
    """An air leg's expected time: its fixed part ``access_s`` (which ends with its first slot),
    then, for data that needs more than that slot, the direction's further slots ``spacing_s``
    apart. ``fluid_s`` is the data's time at the direction's average rate (``x`` slots of
    capacity take ``x * spacing_s``): the leg takes ``ceil(x) - 1`` slots after the first. A
    radio without slots (``spacing_s`` 0) adds the fluid time."""
    fluid = np.asarray(fluid_s, dtype=np.float64)
    access = np.asarray(access_s, dtype=np.float64)
    if spacing_s <= 0.0:
        return access + fluid  # type: ignore[no-any-return]
    more = np.maximum(np.ceil(fluid / spacing_s - 1e-9) - 1.0, 0.0)
    return access + more * spacing_s  # type: ignore[no-any-return]


def upload_air_s(snap: Snapshot, d: NDArray[np.int64], ul_bits: NDArray[np.float64],
                 services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """Each upload's own expected time on the air under ``nr`` (s): its share of
    :meth:`Snapshot.ul_time_s`, which counts what its device's buffer holds ahead of it too
    (given its service, by uplink priority); empty on other radios (the transport takes it
    whole)."""
    w = world_of(snap)
    if int(w.radio_model) != 0:  # type: ignore[attr-defined]
        return np.zeros(0)
    ul_bits = np.asarray(ul_bits, dtype=np.float64)
    some = ul_bits > 0.0
    ahead = snap.ul_backlog_bits(d, services)
    share = np.where(some, ul_bits / np.where(some, ahead + ul_bits, 1.0), 0.0)
    return snap.ul_time_s(d, ul_bits, services) * share  # type: ignore[no-any-return]


def upload_serialization_s(snap: Snapshot, d: NDArray[np.int64], ul_bits: NDArray[np.float64],
                           rate_bps: NDArray[np.float64],
                           services: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """Each upload's serialization at the slowest link of each candidate's path
    (``rate_bps``, (n, k)) still ahead once its last bits reach the cell, s: under ``nr`` the
    cell forwards its packets as they come over the air, so an upload slower on the air than
    on the link leaves one packet's (:func:`airan.transport.pipeline.after_upload_s`, the same
    operations); on other radios, bits / rate."""
    w = world_of(snap)
    packet = float(w.packet_bits)  # type: ignore[attr-defined]
    n = np.where(ul_bits > packet, np.ceil(ul_bits / packet), 1.0)
    air = upload_air_s(snap, d, ul_bits, services)
    if not len(air):
        air = np.zeros(len(ul_bits))
    left = ul_bits[:, None] / rate_bps - (air * (1.0 - 1.0 / n))[:, None]
    return np.maximum(left, (ul_bits / n)[:, None] / rate_bps)  # type: ignore[no-any-return]


def path_backlog_s(snap: Snapshot, batch: Batch, sites: NDArray[np.int64]) -> NDArray[np.float64]:
    """The wait of each request's upload behind what the links of its path to each candidate
    site already carry, shape (n_requests, k): the longest backlog among them (s), ``inf`` where
    it is over the transport queue limit (the engine would drop it, ``link_full``). Without it
    deadline-aware kept sending 200 kB frames behind a saturated 0.2 Gbit/s link (uploads 132 ms
    on the link, hit ratio 0.12) while a cloud 10 ms away took them at once (1.00)."""
    w = world_of(snap)
    backlog = snap.link_backlog_s
    if not len(backlog):  # no transport link at all
        return np.zeros(sites.shape)
    node = w.cell_node[batch.cell][:, None]  # type: ignore[attr-defined]
    links = w.path_links[node, sites]  # type: ignore[attr-defined]
    wait = np.where(links >= 0, backlog[np.maximum(links, 0)], 0.0).max(axis=2)
    return np.where(wait > w.transport_queue_limit_s, np.inf, wait)  # type: ignore[attr-defined,no-any-return]


def context_move_s(snap: Snapshot, batch: Batch, sites: NDArray[np.int64]) -> NDArray[np.float64]:
    """Time to move each request's service context to each candidate site first, shape
    (n_requests, k): 0 where the service is stateless, the site already holds it, or it is held
    nowhere (or at a failed or unreachable site: it is lost and starts afresh). Otherwise the
    propagation, the longest backlog of the path's links and the serialization of ``state_kb``
    from the site that holds it, as the engine sends it before queueing the request; ``inf``
    where that backlog is over the transport queue limit (the engine drops it, ``link_full``)."""
    w = world_of(snap)
    n, k = sites.shape
    state_bits = w.svc_state_bits[batch.service]  # type: ignore[attr-defined]
    if not np.any(state_bits > 0):
        return np.zeros((n, k))
    held = snap.context_site(batch.device, batch.service)
    src = w.site_node[np.maximum(held, 0)][:, None]  # type: ignore[attr-defined]
    delay = w.path_delay_s[src, sites]  # type: ignore[attr-defined]
    moving = ((held >= 0) & snap.site_healthy[np.maximum(held, 0)])[:, None] & (
        held[:, None] != sites) & (delay < np.inf)
    links = w.path_links[src, sites]  # type: ignore[attr-defined]
    wait = np.where(links >= 0, snap.link_backlog_s[np.maximum(links, 0)], 0.0).max(axis=2)
    with np.errstate(invalid="ignore"):
        move = delay + wait + state_bits[:, None] / w.path_rate_bps[src, sites]  # type: ignore[attr-defined]
    move[wait > w.transport_queue_limit_s] = np.inf  # type: ignore[attr-defined]
    return np.where(moving, move, 0.0)  # type: ignore[no-any-return]


def device_energy_j(
    snap: Snapshot, batch: Batch, sites: NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Estimated device energy of each request at each candidate site and locally (J).

    Shape (n_requests, k + 1) like :func:`estimate_latency_s`. Offloaded: sending the uplink
    (circuits plus output over PA efficiency, the output power-controlled on the device's share
    of its cell under NR, full power on the fixed radio) for the time its bits are on the air
    (the direction's slots only), and receiving the answer likewise; under NR the circuits draw
    for every slot the bits reach into, whole (PUSCH and PDSCH span the slot), by the engine's
    rules (at the expected share of the cell: on a loaded cell, where the scheduler also hands
    a UE the PRBs others leave, this counts more slots than are used; see docs/model.md). The
    same for every site. On board: the accelerator's TDP less its idle power
    for the service time (the device draws idle power either way).
    """
    w = world_of(snap)
    if sites is None:
        sites = candidate_sites(snap, batch)
    n, k = sites.shape
    v = batch.service
    d = batch.device
    tx_w = radio_tx_w(snap, d)
    ul_air, dl_air = air_rates_bps(snap, d)
    on_air = w.svc_ul_bits[v] / np.maximum(ul_air, 1.0)  # type: ignore[attr-defined]
    dl_on_air = w.svc_dl_bits[v] / np.maximum(dl_air, 1.0)  # type: ignore[attr-defined]
    slot = nr_slot_s(w)
    if slot > 0.0:  # the circuits draw for whole slots
        circ = float(w.ue_tx_circuit_w)  # type: ignore[attr-defined]
        resends = resend_factor(w) - 1.0  # (the last block's, a slot of circuits each)
        # (a transfer of no bits has no block to resend, as the engine books it)
        up = (circ * slot * (whole_slots(on_air, slot) + resends * (on_air > 0.0))
              + (tx_w - circ) * on_air)
        down = w.ue_rx_w * slot * (  # type: ignore[attr-defined]
            whole_slots(dl_on_air, slot) + resends * (dl_on_air > 0.0))
    else:
        up = tx_w * on_air
        down = w.ue_rx_w * dl_on_air  # type: ignore[attr-defined]
    remote = up + down
    fleet = w.dev_fleet[d]  # type: ignore[attr-defined]
    out = np.empty((n, k + 1))
    out[:, :k] = remote[:, None]
    # above the idle power the device draws whether or not it runs the work (the engine books
    # idle for every second off the accelerator, so offloading saves TDP - idle, not TDP)
    out[:, k] = w.local_active_w[fleet, v] * w.local_time_s[fleet, v]  # type: ignore[attr-defined]
    return out


def resend_factor(world: object) -> float:
    """The mean times a transport block goes on the air under NR HARQ (1 on the ideal and
    fixed radios, which resend nothing): a transfer's last block's resends, less one, each
    cost a slot of the radio's circuits, as the engine books them
    (:func:`airan.radio.nr.expected_sends`)."""
    if getattr(world, "radio_model", 0) != 0:
        return 1.0
    from airan.radio.nr import expected_sends

    return float(expected_sends(float(world.bler), int(world.harq_max_retx)))  # type: ignore[attr-defined]


def nr_slot_s(world: object) -> float:
    """The slot (s) for which a UE's radio circuits draw once it sends or receives in it (the
    NR radio: PUSCH and PDSCH span the slot); 0 for the ideal and fixed radios, which book the
    time the bits take."""
    if getattr(world, "radio_model", 0) != 0:
        return 0.0
    return float(world.slot_s)  # type: ignore[attr-defined]


def whole_slots(on_air_s: ArrayLike, slot_s: float) -> NDArray[np.float64]:
    """The slots a transfer of ``on_air_s`` of air time reaches into: at least one, none for a
    transfer of no bits (as the engine books them)."""
    t = np.asarray(on_air_s, dtype=float)
    return np.where(t > 0.0, np.maximum(np.ceil(t / slot_s - 1e-9), 1.0), 0.0)


def radio_tx_w(snap: Snapshot, devices: NDArray[np.int64]) -> NDArray[np.float64]:
    """Each device's power while it sends (W): the snapshot's (power-controlled under NR), or
    full power where the snapshot has none (a live one)."""
    w = world_of(snap)
    fn = getattr(snap, "ul_tx_w", None)
    if fn is not None:
        return np.asarray(fn(devices), dtype=np.float64)
    return np.asarray(w.ue_full_tx_w, dtype=np.float64)[devices]  # type: ignore[attr-defined]


def air_rates_bps(snap: Snapshot, devices: NDArray[np.int64]
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each device's rate while it is on the air, uplink and downlink: the mean rates over the
    slots of the direction only (a UE sends or receives in its direction's slots, not in the
    others between them, which the mean rate spreads the data over)."""
    w = world_of(snap)
    slot = float(getattr(w, "slot_s", 0.0))
    ul, dl = snap.ul_rate_bps(devices), snap.dl_rate_bps(devices)
    if slot > 0 and snap.ul_slot_spacing_s > 0:
        ul = ul * (snap.ul_slot_spacing_s / slot)
    if slot > 0 and snap.dl_slot_spacing_s > 0:
        dl = dl * (snap.dl_slot_spacing_s / slot)
    return ul, dl


def per_item_time_s(
    snap: Snapshot, service: NDArray[np.int64], sites: NDArray[np.int64]
) -> NDArray[np.float64]:
    """GPU time one more request adds at each given site (batched, spread over its GPUs).

    ``sites`` is (n_requests, k), or (n_requests,): one site per request; the result has its
    shape.
    """
    w = world_of(snap)
    gpu_type = w.gpu_type[w.site_gpu_start[sites]]  # type: ignore[attr-defined]
    model = w.svc_model[service]  # type: ignore[attr-defined]
    if sites.ndim == 2:
        model = model[:, None]
    b = w.site_max_batch[sites, model]  # type: ignore[attr-defined]
    t_b = w.svc_time_s[model, gpu_type, b] / snap.site_ai_share[sites]  # type: ignore[attr-defined]
    return t_b / b / w.site_n_gpus[sites]  # type: ignore[attr-defined,no-any-return]


def compute_time_s(
    snap: Snapshot, service: NDArray[np.int64], sites: NDArray[np.int64], batch_size: int = 1
) -> NDArray[np.float64]:
    """How long a batch of ``batch_size`` of each request's service takes on one GPU of each
    given site (s), at the share of it AI has now (``Snapshot.site_ai_share``): the time a
    request there computes, batch-1 by default (what :func:`estimate_latency_s` counts).
    ``sites`` is (n_requests, k), or (n_requests,): one site per request; the result has its
    shape. A batch larger than a site's ``max_batch`` for the model is taken at that limit."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    w = world_of(snap)
    gpu_type = w.gpu_type[w.site_gpu_start[sites]]  # type: ignore[attr-defined]
    model = w.svc_model[service]  # type: ignore[attr-defined]
    if sites.ndim == 2:
        model = model[:, None]
    b = np.minimum(int(batch_size), w.site_max_batch[sites, model])  # type: ignore[attr-defined]
    return w.svc_time_s[model, gpu_type, b] / snap.site_ai_share[sites]  # type: ignore[attr-defined,no-any-return]
