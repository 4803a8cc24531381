"""Compile the kernel (or load it from numba's cache) before a run's clock starts.

numba compiles the kernel on the first run after an install (one to two minutes; then cached
next to the sources, or in ``NUMBA_CACHE_DIR``) and loads it from the cache in every new
process after that.
Doing it once per process, in a tiny run of the built-in factory, keeps that out of a run's
``wall_s`` and lets the CLI say what the wait is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_warm = False
#: what wraps the compile or load when one is due (``announced``): the command line's spinner
_around: Callable[[Callable[[], float]], float] | None = None


def kernel_ready() -> bool:
    """Whether this process has compiled or loaded the kernel already."""
    return _warm


@contextmanager
def announced(around: Callable[[Callable[[], float]], float]) -> Iterator[None]:
    """Within it, a compile or load of the kernel that the first engine built calls for runs
    through ``around`` (given the compile, returning its seconds): a command can say why it
    waits at the moment it does, after checking its input (a review: commands that loaded
    the kernel first made a typo wait minutes for its one-line error on a fresh install)."""
    global _around
    before, _around = _around, around
    try:
        yield
    finally:
        _around = before


def warm_up() -> float:
    """Compile or load every kernel function a run uses, once per process (see
    :func:`_compile`); through :func:`announced`'s wrapper where one is set. Returns the
    seconds it took (0 when already done)."""
    if _warm:
        return 0.0
    return _around(_compile) if _around is not None else _compile()


def _compile() -> float:
    """Compile or load every kernel function a run uses, once per process: a run of the
    built-in factory over one decision interval (every stage of a request, deadline-aware as
    the engine decides it, engine.decide) with one fault of each kind, then the radio rates a
    policy may ask for, the least-loaded policy's core and deadline-aware's own path. Returns
    the seconds it took (0 when already done). (A function left out compiled at its first use,
    inside a run's ``wall_s``: the first fault of a fresh install's run took 11 s.)"""
    global _warm
    if _warm:
        return 0.0
    _warm = True  # before the run: the Engine it builds calls warm_up() too
    t0 = time.perf_counter()
    import numpy as np

    from airan.engine import kernel as K
    from airan.engine.engine import Engine
    from airan.policy import Snapshot
    from airan.policy.base import Batch
    from airan.policy.builtin import deadline_aware, least_loaded
    from airan.scenario import load_scenario, scenario_from_dict

    d = load_scenario("factory").model_dump(mode="json")
    d["faults"] = [  # each kind, within the run: their kernel functions compile now
        {"kind": "site_down", "site": "on-prem", "start_s": 0.002, "end_s": 0.006},
        {"kind": "gpu_down", "site": "regional", "start_s": 0.002, "end_s": 0.006},
        {"kind": "link_down", "link": ["regional-edge", "cloud"], "start_s": 0.003,
         "end_s": 0.007},
        {"kind": "link_degraded", "link": ["factory-mec", "regional-edge"], "start_s": 0.004,
         "end_s": 0.008},
        {"kind": "cell_down", "cell": "cell-a", "start_s": 0.004, "end_s": 0.008},
        {"kind": "surge", "fleet": "amr", "start_s": 0.002, "end_s": 0.004},
    ]
    engine = Engine(scenario_from_dict(d), duration_s=0.01)
    engine.run()
    # the radio rates a policy may ask for that the run did not (the uplink's: energy
    # objective, the live gateway's delays)
    for uplink in (True, False):
        engine._rate_bps(np.zeros(1, dtype=np.int64), uplink=uplink)
    K.pending_moves(engine._kw, engine._sref)  # the context moves of a stateful service
    K.report_rounds_s(engine._kw, engine._sref, np.zeros(1, dtype=np.int64), np.zeros(1),
                      1.0, np.zeros(1, dtype=np.int64))  # (radio.first_grant_bytes)
    K.ul_bits_ahead_of(engine._kw, engine._sref, np.zeros(1, dtype=np.int64),
                       np.zeros(1, dtype=np.int64))  # (a snapshot's ul_backlog_bits(services=))
    none = np.zeros(0, dtype=np.int64)  # a failed site's requests placed again (none here)
    K.redispatch(engine._kw, engine._sref, none, none, engine.now_s)
    from airan.engine.uplink_figures import uplink_figures

    uplink_figures(engine._kw, engine._sref, 1.0)  # (devices.parquet's uplink columns)
    one = np.zeros(1, dtype=np.int64)
    batch = Batch(np.zeros(1), one, one, one)
    least_loaded(Snapshot(engine), batch)
    # the run decided deadline-aware in the engine (engine.decide); through a snapshot, the
    # policy's own path (an energy objective, a stateful service, the ideal or fixed radio)
    deadline_aware(Snapshot(engine), batch)
    deadline_aware(Snapshot(engine), batch, energy=True)  # (the devices' powers too)
    return time.perf_counter() - t0
