"""Compile the kernel (or load it from numba's cache) before a run's clock starts.

numba compiles the kernel on the first run after an install (about a minute; then cached next to the
sources, or in ``NUMBA_CACHE_DIR``) and loads it from the cache in every new process after that.
Doing it once per process, in a tiny run of the built-in factory, keeps that out of a run's
``wall_s`` and lets the CLI say what the wait is.
"""

from __future__ import annotations

import time

_warm = False


def kernel_ready() -> bool:
    """Whether this process has compiled or loaded the kernel already."""
    return _warm


def warm_up() -> float:
    """Compile or load every kernel function a run uses, once per process: a run of the
    built-in factory over one decision interval (every stage of a request, the compiled
    deadline-aware policy), then the radio rates a policy may ask for. Returns the seconds it
    took (0 when already done)."""
    global _warm
    if _warm:
        return 0.0
    _warm = True  # before the run: the Engine it builds calls warm_up() too
    t0 = time.perf_counter()
    import numpy as np

    from airan.engine import kernel as K
    from airan.engine.engine import Engine
    from airan.scenario import load_scenario

    engine = Engine(load_scenario("factory"), duration_s=0.01)
    engine.run()
    # the radio rates a policy may ask for that the run did not (the uplink's: energy
    # objective, the live gateway's delays)
    for uplink in (True, False):
        engine._rate_bps(np.zeros(1, dtype=np.int64), uplink=uplink)
    K.pending_moves(engine._kw, engine._sref)  # the context moves of a stateful service
    return time.perf_counter() - t0
