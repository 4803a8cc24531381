"""Run independent jobs in this process or as Ray tasks, one callback per finished job.

Sweeps and sharded runs both hand a list of jobs to :func:`execute`. ``workers=1`` without an
address runs them here, one after another (for debugging: no Ray, plain tracebacks). Otherwise
each job is a Ray task of one CPU: on the cluster at ``address`` (``ray://host:10001`` or
``auto``), or on a local Ray started with ``workers`` CPUs (default: every core of the machine).
A Ray session that is already initialized (a notebook, a test fixture) is used as it is and left
running; one started here is shut down at the end.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from airan.errors import InputError

#: times a local Ray node that timed out during its startup is started again
RAY_START_RETRIES = 2

#: on_done(job_index, value, error): value is None when the job raised; error is then its text
OnDone = Callable[[int, Any, "str | None"], None]


def check_workers(workers: int | None, *, field: str = "--workers") -> None:
    """:class:`InputError` unless ``workers`` is None or at least 1."""
    if workers is not None and workers < 1:
        raise InputError("must be at least 1", field=field, value=workers)


def uses_ray(workers: int | None, address: str | None) -> bool:
    """Whether :func:`execute` would use Ray for these settings."""
    return address is not None or workers != 1


def import_ray() -> Any:
    """The ``ray`` module, or an :class:`InputError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(  # (no field: the user may not have given --workers at all)
            "Ray, which runs jobs in parallel (a sweep's runs, a sharded run's shards), is not "
            "installed: pip install 'airan[sweep]', or run with --workers 1 (in this process)"
        ) from None
    return ray


def error_text(exc: BaseException) -> str:
    """``Type: message`` and the traceback, as recorded for a failed job."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{type(exc).__name__}: {exc}\n\n{tb}"


def _guarded(fn: Callable[[Any], Any], job: Any) -> tuple[Any, str | None]:
    """``fn(job)`` with any exception turned into its text (so one job never stops the rest)."""
    try:
        return fn(job), None
    except Exception as exc:  # noqa: BLE001 - recorded, reported, never swallowed silently
        return None, error_text(exc)


def execute(
    fn: Callable[[Any], Any],
    n_jobs: int,
    make_job: Callable[[int], Any],
    on_done: OnDone,
    *,
    workers: int | None = None,
    address: str | None = None,
) -> None:
    """Run ``fn(make_job(i))`` for i in 0..n_jobs-1; call ``on_done`` as each one finishes.

    ``fn`` must be a module-level function (Ray imports it by name in its workers). Jobs are
    made just before they are submitted, and at most about twice the cluster's CPUs are in
    flight, so a long list never sits in memory at once. A job that raises (or whose Ray worker
    dies) is reported to ``on_done`` with its error text; the others go on.
    """
    check_workers(workers)
    if n_jobs <= 0:
        return
    if not uses_ray(workers, address):
        for i in range(n_jobs):
            value, err = _guarded(fn, make_job(i))
            on_done(i, value, err)
        return
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        start_ray(ray, address=address,
                  num_cpus=None if address is not None else workers or os.cpu_count() or 1)
        started = True
    try:
        _execute_ray(ray, fn, n_jobs, make_job, on_done, workers)
    finally:
        if started:
            ray.shutdown()


def start_ray(ray: Any, *, address: str | None = None, num_cpus: int | None = None,
              retries: int = RAY_START_RETRIES) -> None:
    """``ray.init`` of a local node (``num_cpus``) or of a cluster at ``address``, quietly.

    Ray waits a fixed time for a local node's processes to start and register (30 s for the
    raylet, and a while for the GCS server's port file), which a host busy on every core can
    miss (the test suite beside numba's compile did, twice in four runs, and twice in a clean
    clone's CI): a local node that timed out is started again, up to ``retries`` times, and
    then says so in one line. An address that cannot be reached is an :class:`InputError`
    naming ``--address``.
    """
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                              "logging_level": "ERROR"}
    if num_cpus is not None:
        kwargs["num_cpus"] = num_cpus
    for attempt in range(1 + retries):
        try:
            with warnings.catch_warnings():  # the error below says it once, in one line
                warnings.simplefilter("ignore")
                ray.init(address=address, **kwargs)
            return
        except Exception as exc:
            if address is not None:
                if isinstance(exc, (ConnectionError, ValueError, RuntimeError)):
                    raise InputError(f"cannot start or reach Ray: {exc}", field="--address",
                                     value=address) from None
                raise
            if "timed out" not in str(exc).lower():
                raise
            ray.shutdown()
            if attempt == retries:
                raise InputError(
                    f"could not start a local Ray node in {1 + retries} tries ({exc}): the "
                    "machine may be too busy; try again, or run with --workers 1 (in this "
                    "process)") from None


def _execute_ray(ray: Any, fn: Callable[[Any], Any], n_jobs: int,
                 make_job: Callable[[int], Any], on_done: OnDone, workers: int | None) -> None:
    task = ray.remote(num_cpus=1, max_retries=0)(_guarded)
    cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
    window = workers if workers else 2 * cpus  # --workers N: at most N at once
    fn_ref = ray.put(fn)
    pending: dict[Any, int] = {}
    submitted = 0
    try:
        while submitted < n_jobs or pending:
            while submitted < n_jobs and len(pending) < window:
                pending[task.remote(fn_ref, make_job(submitted))] = submitted
                submitted += 1
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    value, err = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died (memory, a signal)
                    value, err = None, f"{type(exc).__name__}: {exc}"
                on_done(i, value, err)
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
