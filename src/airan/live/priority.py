"""Scheduling of the site workers: a worker stands for a GPU, which the host does not preempt.

On a small machine the workers share the cores with the device emulator, the gateways and the
other sites. Under Linux's fair scheduler a worker that wakes up, or that is preempted, waits on the
run queue until the running thread's slice ends, even at nice -10; that wait is counted as compute
time and the twin, calibrated on an idle machine, does not have it. Measured on the development
machine in the twin-against-live comparison (``/proc/<pid>/task/<tid>/schedstat``): detect's batch
of one had a wall-time p95 of 3.5-3.8 ms against 2.1-2.3 ms of CPU, and its slowest 5% waited
2.0-2.5 ms on the run queue. A real-time thread (``SCHED_FIFO``) does not wait behind fair-share
threads: with it the run-queue wait was 0 at p95 and the wall time followed the CPU time.

A real-time thread that never sleeps would take a core from everything else (the kernel leaves
other work 5% of each core), so a worker keeps real-time scheduling only while it is busy for
less than ``max_duty`` of the time, measured over windows of ``window_s``; beyond that (a
saturated site) it runs at ``nice`` until its duty falls below ``resume_duty``, so that the event
loops, the gateways and the devices still get their share. ``max_duty`` is the worker's share of
half the cores this process may use (:func:`realtime_duty`): 22 workers on two cores may each
stay real time up to 4.5% busy, so that together they hold at most one core, on average over a
window; a batch expected to take longer than that allows in one window (a large model, a slow
first run) runs at ``nice`` from its start. Real-time scheduling needs ``CAP_SYS_NICE`` (root,
outside most containers) or ``ulimit -r 10``; without it the worker runs at ``nice``, and where
not that either, at the default; it says so once on stderr. Linux only: elsewhere nothing is
changed. A live runtime asks for real time only where its workers are fewer than the cores
(:func:`realtime_workers`).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field

#: the share of the host's cores that real-time workers may hold together
REALTIME_SHARE = 0.5
LINUX = sys.platform.startswith("linux")


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, as a container's cpuset sets it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def realtime_duty(workers: int, cpus: int | None = None) -> float:
    """Each of ``workers`` workers' share of ``REALTIME_SHARE`` of the ``cpus`` this process may
    use (busy fraction, at most ``REALTIME_SHARE``)."""
    n_cpus = cpus or usable_cpus()
    return min(REALTIME_SHARE, REALTIME_SHARE * n_cpus / max(workers, 1))


def realtime_workers(workers: int, cpus: int | None = None) -> bool:
    """Whether ``workers`` site workers on this host should run with real-time scheduling: only
    where they are fewer than the ``cpus`` this process may use, so that at least one core is
    never held by them. Real-time workers computing on every core at once stop the event loops
    of the gateways, the device emulator and the sites themselves for a whole batch, and that
    stall is not inside any emulated delay: on a 2-core machine (2026-12-04, the four workers of
    ``tests/test_live.py``'s comparison, the twin calibrated from a live warm-up run, which
    takes in the compute's wait for a core) detect's p95 was 1.33-1.40x the twin's with them
    and 1.18-1.22x without, in runs alternated in the same minutes."""
    return workers < (cpus or usable_cpus())


@dataclass
class DutyGovernor:
    """Whether a worker may keep real-time scheduling, from how busy it has been (times in s).

    ``observe`` accounts one batch; at the end of each window it compares the window's duty
    (busy time over elapsed time) with the thresholds and returns the new state when it changes.
    ``admits`` refuses real time to a batch expected to run longer than the duty allows in one
    window (a large model, a slow first run), before it starts.
    """

    max_duty: float = 0.5
    resume_duty: float = 0.4
    window_s: float = 0.5
    realtime: bool = True
    _start_s: float | None = field(default=None, init=False)
    _busy_s: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if not (0.0 < self.resume_duty <= self.max_duty <= 1.0 and self.window_s > 0.0):
            raise ValueError(f"need 0 < resume_duty <= max_duty <= 1 and window_s > 0, not "
                             f"{self.resume_duty}, {self.max_duty}, {self.window_s}")

    def admits(self, expected_s: float) -> bool:
        """Whether a batch expected to take ``expected_s`` may run in real time."""
        return expected_s <= self.max_duty * self.window_s

    def observe(self, busy_s: float, end_s: float) -> bool | None:
        """Account a batch of ``busy_s`` that ended at ``end_s``; the new state (True: real time)
        when a window closes with a change, else None."""
        if self._start_s is None:
            self._start_s = end_s - busy_s
        self._busy_s += busy_s
        elapsed = end_s - self._start_s
        if elapsed < self.window_s:
            return None
        duty = self._busy_s / elapsed
        self._start_s, self._busy_s = end_s, 0.0
        if self.realtime and duty > self.max_duty:
            self.realtime = False
            return False
        if not self.realtime and duty < self.resume_duty:
            self.realtime = True
            return True
        return None


class WorkerPriority:
    """The scheduling of a pool's worker threads: :meth:`enter` is the pool's initializer;
    :meth:`before_batch` and :meth:`after_batch` run in the worker around each batch.
    ``realtime_priority`` is the ``SCHED_FIFO`` priority (1-99; 0: never real time); ``nice``
    the fair-share priority (0: leave it). Linux only; elsewhere nothing is changed."""

    def __init__(self, realtime_priority: int = 10, nice: int = -10, *,
                 governor: DutyGovernor | None = None) -> None:
        self.realtime_priority = realtime_priority
        self.nice = nice
        self._template = governor or DutyGovernor()
        self._local = threading.local()
        self._said: set[str] = set()

    def _say(self, what: str, exc: OSError) -> None:
        if what not in self._said:  # once per kind of failure
            self._said.add(what)
            print(f"airan site: the workers {what} ({exc.strerror})", file=sys.stderr)

    def enter(self) -> None:
        """In a new worker thread: set its nice value, then real-time scheduling where allowed."""
        self._local.governor = None
        self._local.on = False
        if not LINUX:
            return
        # a process started niced (nice -n 19 airan ...) keeps to what its user asked: its
        # workers above the rest of it by as much, not above everyone, and never real time
        # (a live integrator's review: workers at -10 and SCHED_FIFO under nice 19)
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        target = self.nice + own if own > 0 else self.nice
        if self.nice and target != own:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), target)
            except OSError as exc:
                self._say(f"keep their nice value (not {target})", exc)
        if self.realtime_priority and own <= 0 and self._set_realtime(True):
            t = self._template
            self._local.governor = DutyGovernor(t.max_duty, t.resume_duty, t.window_s)

    def _set_realtime(self, on: bool) -> bool:
        """Switch the calling thread's scheduling; whether it now is as asked."""
        try:
            if on:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(self.realtime_priority))
            else:  # back to the fair scheduler; the nice value set in enter() still holds
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError as exc:
            self._say("run without real-time scheduling" if on
                      else "could not leave real-time scheduling", exc)
            return False
        self._local.on = on
        return True

    def before_batch(self, expected_s: float) -> None:
        """In the worker thread, before a batch expected to take ``expected_s`` (s): a batch
        longer than the duty allows in a window runs at the fair-share priority."""
        governor: DutyGovernor | None = getattr(self._local, "governor", None)
        if governor is None:
            return
        want = governor.realtime and governor.admits(expected_s)
        if want != self._local.on:
            self._set_realtime(want)

    def after_batch(self, busy_s: float, end_s: float) -> None:
        """In the worker thread, after a batch of ``busy_s`` that ended at ``end_s`` (s)."""
        governor: DutyGovernor | None = getattr(self._local, "governor", None)
        if governor is None:
            return
        change = governor.observe(busy_s, end_s)
        if change is not None and change != self._local.on and not self._set_realtime(change):
            governor.realtime = self._local.on  # as it is, so that it is tried again later

    def realtime_here(self) -> bool:
        """Whether the calling worker thread runs in real time, as this object set it (no
        system call)."""
        return bool(getattr(self._local, "on", False))

    @staticmethod
    def realtime_now() -> bool:
        """Whether the calling thread runs with real-time scheduling."""
        return LINUX and os.sched_getscheduler(0) == os.SCHED_FIFO
