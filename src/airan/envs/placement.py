"""A Gymnasium environment over the engine: an agent places each service's requests, one
decision interval at a time, and is rewarded by the requests that end in time.

Each step holds one action for ``step_s`` of simulated time (default: the scenario's decision
interval, ``engine.decision_interval_ms``, 5 ms), and the engine runs exactly as under a policy
(:class:`airan.engine.Engine`, ``Engine.step``): the action is a policy for the requests that
arrive meanwhile, and for those a fault gives back.

- **Action** (``MultiDiscrete``): per service, in the scenario's order, one of
  :attr:`PlacementEnv.targets`: ``local`` (the device), a built-in policy (``nearest-edge``,
  ``least-loaded``, ``cloud``, ``deadline-aware``, each deciding that service's requests as it
  would), or one compute site, ``site:<name>`` (a request whose cell has no path to it drops,
  ``no_route``; :attr:`PlacementEnv.action_mask` is False for a site that does not serve the
  service, whose action is an input error, and for ``local`` where no device that sends the
  service can run it on board: allowed, its requests all drop ``not_on_device``). The same
  built-in for every service is that policy's run, request for request.
- **Observation** (``Dict``): ``time_s``; per site ``site_backlog_s`` (the wait before a new
  request would start there, capped at :data:`BACKLOG_CAP_S`, the cap also for a site that is
  down), ``site_queue`` (requests waiting there) and ``site_healthy``; per site and model
  ``site_model_backlog_s`` (the wait a request of the model adds, as the policies'
  :class:`~airan.policy.Snapshot` gives it) and ``site_model_queue`` (queued there or on their
  way); per transport link direction ``link_backlog_s`` (capped likewise; named in
  :attr:`PlacementEnv.link_names`); per cell ``cell_prb_use_ul`` and ``cell_prb_use_dl``
  (the share of its PRBs the devices used over the last step, named in
  :attr:`PlacementEnv.cell_names`); per service ``arrivals_per_s`` over the last step,
  ``outcomes``, the requests that ended in it as [met, late, dropped], and ``overdue``, those
  in flight past their deadline. The env's ``deadline_s``, ``service_model`` and
  ``model_names`` give what stays the same.
- **Reward**: ``reward_weights`` (met, late, dropped) dotted with the step's outcomes summed
  over services; (1, -1, -1) by default. A request's outcome comes when it ends, steps after
  its placement; at the episode's end, the requests still in flight past their deadline count
  as late (as ``hit_ratio_with_overdue``, by which ``airan compare`` ranks: a policy that
  leaves hopeless requests queued must not gain by it).
- **Episode**: ``duration_s`` of simulated time, then ``truncated`` (a time limit; the episode
  never terminates otherwise). :meth:`PlacementEnv.result` gives the run's
  :class:`airan.engine.Result` (summary.json's dict, the request trace), conservation checked.
- **Seeds** (Gymnasium's convention): ``reset(seed=s)`` runs the engine on seed ``s`` and seeds
  :attr:`np_random`, from which each later episode's run seed is drawn (in [0, 2**63)) until
  the next seeded reset: the episodes after ``reset(seed=s)`` are a function of ``s``, and
  those of distinct seeds do not overlap in practice (a vector env's copies, seeded ``s``,
  ``s+1``, ...). An unseeded first reset draws from the OS's entropy, as Gymnasium's envs do,
  so that unseeded copies differ; the scenario's ``seed`` is not used (a researcher's review:
  every copy of a vector env ran the scenario's seed, then the next, in lockstep; seeded
  copies' episodes ran each other's). ``info["seed"]`` from ``reset`` is the episode's run
  seed: ``airan.run(scenario, seed=info["seed"], ...)`` under the same decisions runs it
  again. Same seed and actions, same episode, bit for bit.
- **Masks**: ``info["action_mask"]`` from ``reset`` and ``step`` is :attr:`action_mask`
  ([services, targets], bool); :meth:`PlacementEnv.action_masks` gives it flattened, service
  after service, as sb3-contrib's ``MaskablePPO`` takes it for a ``MultiDiscrete`` action.
  Through ``gymnasium.make``'s wrappers, the env's attributes are ``env.unwrapped.<name>``
  (Gymnasium 1.x's wrappers do not forward them).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from airan.engine import Engine
from airan.engine import kernel as K
from airan.engine.engine import SEED_LIMIT, Result
from airan.errors import InputError
from airan.policy import LOCAL, NO_SITE, REJECT, Batch, Snapshot, resolve_policy
from airan.policy.builtin import deadline_aware
from airan.scenario import Scenario, load_scenario

#: The built-in policies an action may name for a service's requests.
POLICY_TARGETS = ("nearest-edge", "least-loaded", "cloud", "deadline-aware")
#: Backlogs are capped at this in observations (s): a site or link that is down, or so far
#: behind that no deadline it could meet is left.
BACKLOG_CAP_S = 10.0
#: The bound of the counts and rates in observations (never reached in practice).
COUNT_CAP = 1e9


class PlacementEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """Place each service's requests at every step (see the module docstring).

    ``scenario``: a built-in name, a YAML path or a :class:`~airan.scenario.Scenario`;
    ``duration_s``: an episode's simulated time (default: the scenario's); ``step_s``: the
    simulated time one action holds, a whole number of decision intervals (default one);
    ``fleet_scale``: every fleet's device count times this (as ``airan run --fleet-scale``);
    ``reward_weights``: (met, late, dropped)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, scenario: Scenario | str = "factory", *, duration_s: float | None = None,
                 step_s: float | None = None, fleet_scale: float = 1.0,
                 reward_weights: Sequence[float] = (1.0, -1.0, -1.0)) -> None:
        from airan.api import scale_fleets

        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.fleet_scale = float(fleet_scale)
        if fleet_scale != 1.0:
            self.scenario = scale_fleets(self.scenario, fleet_scale)
        weights = np.asarray(reward_weights, dtype=np.float64)
        if weights.shape != (3,) or not np.isfinite(weights).all():
            raise InputError("must be three finite numbers: met, late, dropped",
                             field="reward_weights", value=list(reward_weights))
        self.reward_weights = weights
        # an engine of the scenario, for its world's shape and its decision interval
        # (an episode counts every request: the scenario's warm-up is the summaries')
        probe = Engine(self.scenario, duration_s=duration_s, policy=self._place, warmup_s=0.0)
        w = probe.world
        self.duration_s = probe.duration_s
        self.site_names: list[str] = list(w.site_names)
        self.service_names: list[str] = list(w.service_names)
        #: what an action may name per service, in its order (see the module docstring)
        self.targets: list[str] = ["local", *POLICY_TARGETS,
                                   *(f"site:{name}" for name in self.site_names)]
        #: [services, targets] which targets each service may take: a site that does not serve
        #: it (compute_sites[].services) may not, nor ``local`` where no device that sends it
        #: can run it on board (an ML researcher's review: the cameras' inspections, all
        #: dropped not_on_device) (an action mask for an agent)
        self.action_mask: np.ndarray = np.ones((len(self.service_names), len(self.targets)),
                                               dtype=bool)
        self.action_mask[:, len(self.targets) - len(self.site_names):] = w.svc_site_ok
        sends = ((np.asarray(w.fleet_svc_group) >= 0)
                 & (np.bincount(w.dev_fleet, minlength=len(w.fleet_names)) > 0)[:, None])
        self.action_mask[:, 0] = (np.isfinite(np.asarray(w.local_time_s)) & sends).any(axis=0)
        self._interval_slots = probe.interval_slots
        if step_s is None:
            self._step_slots = probe.interval_slots
        else:
            k = (float(step_s) / probe.decision_interval_s
                 if isinstance(step_s, int | float | np.floating | np.integer)
                 and not isinstance(step_s, bool) else -1.0)
            if not (math.isfinite(k) and k >= 1.0 - 1e-9 and abs(k - round(k)) < 1e-6):
                raise InputError(
                    f"must be a whole number of decision intervals of "
                    f"{probe.decision_interval_s * 1e3:g} ms", field="step_s", value=step_s)
            self._step_slots = int(round(k)) * probe.interval_slots
        #: the simulated time one step holds its action (s)
        self.step_s = self._step_slots * float(w.slot_s)
        self._group_svc = np.asarray(w.group_svc)
        #: each transport link direction of ``link_backlog_s``, ``"a->b"`` (nodes' names)
        self.link_names: list[str] = [f"{w.node_names[a]}->{w.node_names[b]}"
                                      for a, b in zip(w.link_a, w.link_b, strict=True)]
        #: the models of ``site_model_backlog_s``'s columns, and each service's model and
        #: deadline (s): what an agent may want beside the observation
        self.model_names: list[str] = list(w.model_names)
        self.service_model: list[int] = [int(m) for m in w.svc_model]
        self.deadline_s: list[float] = [float(x) for x in w.svc_deadline_s]
        #: the cells of ``cell_prb_use_ul`` and ``_dl`` (``site/sector``)
        self.cell_names: list[str] = list(w.cell_names)
        self._cell_prb = np.asarray(w.cell_prb, dtype=float)[: len(self.cell_names)]
        n_s, n_l, n_v = len(self.site_names), len(w.link_cap_bps), len(self.service_names)
        n_m, n_c = len(self.model_names), len(self.cell_names)
        self.action_space = spaces.MultiDiscrete([len(self.targets)] * n_v)
        big = np.float32(COUNT_CAP)  # (finite: learning libraries scale by the bounds)
        self.observation_space = spaces.Dict({  # type: ignore[assignment]
            "time_s": spaces.Box(0.0, np.float32(self.duration_s), (1,), np.float32),
            "site_backlog_s": spaces.Box(0.0, BACKLOG_CAP_S, (n_s,), np.float32),
            "site_model_backlog_s": spaces.Box(0.0, BACKLOG_CAP_S, (n_s, n_m), np.float32),
            "site_model_queue": spaces.Box(0.0, big, (n_s, n_m), np.float32),
            "site_queue": spaces.Box(0.0, big, (n_s,), np.float32),
            "site_healthy": spaces.MultiBinary(n_s),
            "link_backlog_s": spaces.Box(0.0, BACKLOG_CAP_S, (n_l,), np.float32),
            "arrivals_per_s": spaces.Box(0.0, big, (n_v,), np.float32),
            "outcomes": spaces.Box(0.0, big, (n_v, 3), np.float32),
            "overdue": spaces.Box(0.0, big, (n_v,), np.float32),
            "cell_prb_use_ul": spaces.Box(0.0, 1.0, (n_c,), np.float32),
            "cell_prb_use_dl": spaces.Box(0.0, 1.0, (n_c,), np.float32),
        })
        self._prb_seen = (np.zeros(n_c), np.zeros(n_c), 0, 0)  # (ul, dl PRBs; their slots)
        self._policies = {name: self._builtin(name) for name in POLICY_TARGETS}
        self._engine: Engine | None = None
        self._action = np.zeros(n_v, dtype=np.int64)
        self._counts = np.zeros((n_v, 4), dtype=np.int64)

    # ---- gymnasium -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)  # (seeds np_random with seed; unseeded first: from entropy)
        #: the run seed of the episode (info["seed"]): reset's own, or one drawn from np_random
        self.seed_used = (int(seed) if seed is not None
                          else int(self.np_random.integers(SEED_LIMIT)))
        self._engine = Engine(self.scenario, duration_s=self.duration_s, seed=self.seed_used,
                              policy=self._place, warmup_s=0.0)
        self._counts = self._service_counts()
        self._prb_seen = self._prb_used()
        zero = np.zeros((len(self.service_names), 4), dtype=np.int64)
        return (self._observe(zero, self.step_s),
                {"seed": self.seed_used, "action_mask": self.action_mask.copy()})

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool,
                                         dict[str, Any]]:
        eng = self._engine
        if eng is None:
            raise RuntimeError("call reset() before step()")
        if eng.done:
            raise RuntimeError("the episode is over (truncated): call reset()")
        a = np.asarray(action)
        # whole numbers only: a network's float output cut to an int would train on actions
        # it never chose (a researcher's review)
        if (a.shape != self.action_space.shape or a.dtype.kind not in "iu"
                or not self.action_space.contains(a.astype(np.int64))):
            raise InputError(f"must be {len(self.service_names)} integers in "
                             f"0..{len(self.targets) - 1} (one per service: "
                             f"{', '.join(self.service_names)}; "
                             "env.unwrapped.targets names them)",
                             field="action", value=a.tolist())
        # (a site that does not serve the service is an error; local where no device runs
        # it is masked but allowed: its requests drop not_on_device, as a policy's would)
        wrong = ~self.action_mask[np.arange(len(a)), a.astype(np.int64)] & (a != 0)
        if wrong.any():
            v = int(np.flatnonzero(wrong)[0])
            raise InputError(f"service {self.service_names[v]!r} may not go to "
                             f"{self.targets[int(a[v])]}, which does not serve it "
                             "(env.unwrapped.action_mask says which targets each service "
                             "may take)",
                             field="action", value=a.tolist())
        self._action = a.astype(np.int64)
        t0 = eng.now_s
        eng.step(self._step_slots)
        counts = self._service_counts()
        delta = counts - self._counts
        self._counts = counts
        ended = delta[:, [K.A_MET, K.A_LATE, K.A_DROPPED]]
        reward = float(ended.sum(axis=0) @ self.reward_weights)
        info = {"met": int(ended[:, 0].sum()), "late": int(ended[:, 1].sum()),
                "dropped": int(ended[:, 2].sum()), "created": int(delta[:, K.A_CREATED].sum()),
                "action_mask": self.action_mask.copy()}
        obs = self._observe(delta, eng.now_s - t0)
        if eng.done:  # the requests still in flight past their deadline count as late now:
            # their verdict is known, and a policy that leaves them queued must not gain by it
            # (as hit_ratio_with_overdue, which compare ranks by)
            overdue = float(obs["overdue"].sum())
            reward += overdue * float(self.reward_weights[1])
            info["overdue"] = int(overdue)
        return obs, reward, False, eng.done, info

    def action_masks(self) -> np.ndarray:
        """:attr:`action_mask` flattened, one service's targets after another's (length
        services x targets): what sb3-contrib's ``MaskablePPO`` calls for, the concatenation
        of a ``MultiDiscrete`` action's per-dimension masks (a researcher's review: no
        method nor info gave the mask, so each user wired it up by hand)."""
        return self.action_mask.reshape(-1).copy()

    def result(self) -> Result:
        """The episode's run as :func:`airan.run` gives it (summary and request trace; the
        conservation check at its end), for what has been simulated so far."""
        if self._engine is None:
            raise RuntimeError("call reset() first")
        res = self._engine.result()
        if self.fleet_scale != 1.0:
            from airan.api import note_fleet_scale

            note_fleet_scale(res.summary, self.fleet_scale)
        return res

    # ---- the policy the engine calls ---------------------------------------------------------
    def _builtin(self, name: str) -> Any:
        fn = resolve_policy(name)
        sc = self.scenario
        if fn is deadline_aware and (sc.admission == "strict" or sc.objective == "energy"):
            return functools.partial(deadline_aware, strict=sc.admission == "strict",
                                     energy=sc.objective == "energy")  # (as the engine does)
        if fn is deadline_aware:
            return fn

        def no_site_when_down(snap: Snapshot, batch: Batch) -> np.ndarray:
            # these reject only while every site they may use is down: site_failure, as in
            # their own runs (the engine's rule for them), not admission
            place = np.asarray(fn(snap, batch), dtype=np.int64)
            place[place == REJECT] = NO_SITE
            return place

        return no_site_when_down

    def _place(self, snap: Snapshot, batch: Batch) -> np.ndarray:
        """The current action as a policy: each service's requests where its target says."""
        choice = self._action[batch.service]
        place = np.full(len(batch), LOCAL, dtype=np.int64)
        first_site = 1 + len(POLICY_TARGETS)
        site = choice >= first_site
        place[site] = choice[site] - first_site
        for k, name in enumerate(POLICY_TARGETS, start=1):
            mine = choice == k
            if not mine.any():
                continue
            if mine.all():  # the whole batch: the policy's own call, as its run makes it
                return np.asarray(self._policies[name](snap, batch), dtype=np.int64)
            sub = Batch(batch.time_s[mine], batch.device[mine], batch.service[mine],
                        batch.cell[mine])
            place[mine] = self._policies[name](snap, sub)
        return place

    # ---- observations ------------------------------------------------------------------------
    def _service_counts(self) -> np.ndarray:
        """Per service, [created, met, late, dropped] so far (every request of the episode:
        the engine runs it without a warm-up)."""
        assert self._engine is not None
        out = np.zeros((len(self.service_names), 4), dtype=np.int64)
        st = self._engine._st
        np.add.at(out, self._group_svc, st.agg_cnt + st.warm_cnt)
        return out

    def _prb_used(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Each cell's PRBs the devices used so far on the uplink and the downlink, and the
        slots of each direction run (the engine's counters: cells.parquet's figures)."""
        assert self._engine is not None
        st, n_c = self._engine._st, len(self.cell_names)
        return (st.prb_sum_ul[:n_c].astype(float), st.prb_sum_dl[:n_c].astype(float),
                int(st.ctr[K.C_NSLOT_UL]), int(st.ctr[K.C_NSLOT_DL]))

    def _prb_use(self) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's share of its PRBs the devices used per slot of each direction since the
        last observation (background traffic not counted; 0 under the ideal and fixed
        radios, which have no PRBs)."""
        now = self._prb_used()
        before, self._prb_seen = self._prb_seen, now
        out = []
        for k in (0, 1):
            slots = now[k + 2] - before[k + 2]
            use = ((now[k] - before[k]) / (self._cell_prb * slots) if slots > 0
                   else np.zeros(len(self.cell_names)))
            out.append(np.clip(np.nan_to_num(use), 0.0, 1.0).astype(np.float32))
        return out[0], out[1]

    def _observe(self, delta: np.ndarray, span_s: float) -> dict[str, np.ndarray]:
        """The observation after a step of ``span_s`` (s) whose counts changed by ``delta``."""
        assert self._engine is not None
        eng = self._engine
        snap = eng.snapshot()

        def capped(x: np.ndarray) -> np.ndarray:
            return np.minimum(np.nan_to_num(x, nan=BACKLOG_CAP_S, posinf=BACKLOG_CAP_S),
                              BACKLOG_CAP_S).astype(np.float32)

        return {
            "time_s": np.array([min(self._engine.now_s, self.duration_s)], dtype=np.float32),
            "site_backlog_s": capped(snap.site_backlog_s),
            "site_model_backlog_s": capped(snap.site_model_backlog_s),
            "site_model_queue": snap.site_model_queue.astype(np.float32),
            "site_queue": snap.site_queue_len.astype(np.float32),
            "site_healthy": snap.site_healthy.astype(np.int8),
            "link_backlog_s": capped(snap.link_backlog_s),
            "arrivals_per_s": (delta[:, K.A_CREATED] / max(span_s, 1e-12)).astype(np.float32),
            "outcomes": delta[:, [K.A_MET, K.A_LATE, K.A_DROPPED]].astype(np.float32),
            "overdue": eng._per_service(
                eng._overdue_per_group(eng._overdue_rows())).astype(np.float32),
            **dict(zip(("cell_prb_use_ul", "cell_prb_use_dl"), self._prb_use(), strict=True)),
        }
