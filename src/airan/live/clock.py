"""Sub-millisecond timers for the live runtime's asyncio loops.

asyncio's own timers wake late by up to a millisecond: the selector rounds its timeout up to
whole milliseconds (``epoll_wait`` takes ms), so ``asyncio.sleep(0.0043)`` returns after about
5 ms. The runtime emulates radio and fibre delays of a few ms and batches with a 1 ms wait, so
that rounding alone would add 0.5 ms on average to every emulated delay and every batch wait.

On Linux, :class:`Timers` keeps one ``timerfd`` (``CLOCK_MONOTONIC``, the clock of
``time.monotonic()``) armed at the earliest pending deadline and watched by the loop like a
socket: it wakes within the kernel's timer slack (~50 us). Elsewhere, or where ``timerfd`` is
not available, one ``loop.call_at`` is armed at the earliest deadline instead (and
:attr:`Timers.precise` says so). Either way the callbacks run in the order of their deadlines,
and of their scheduling among equal deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import heapq
import itertools
import math
import os
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["SWITCH_INTERVAL_S", "Timers", "frozen_heap", "short_switch_interval", "timers"]

#: the thread switch interval of the runtime's processes while they serve (s; Python's is 5 ms)
SWITCH_INTERVAL_S = 5e-5

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_TIMER_ABSTIME = 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _libc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.timerfd_settime.argtypes = [ctypes.c_int, ctypes.c_int,
                                         ctypes.POINTER(_Itimerspec), ctypes.c_void_p]
        return libc
    except (OSError, AttributeError):
        return None


# ---- the wall clock against the monotonic one ----------------------------------------------
OFFSET_READS = 5  # paired reads per estimate of the offset; the closest pair is kept
OFFSET_REFRESH_S = 1.0  # re-estimated this often (NTP slews the wall clock)
_offset: list[float] = []  # [time.time() - time.monotonic(), when it was estimated (monotonic)]


def wall_minus_monotonic_s() -> float:
    """``time.time() - time.monotonic()`` (s), one figure for the process (re-estimated each
    second): the processes of a live run exchange times on the wall clock and keep their own on
    the monotonic one. Two reads in a row are two instants: a thread switch between them skews
    the pair by up to the switch interval (a review measured jumps of up to 20 ms with a second
    thread busy, and answers timed 0.5-1 ms shorter than their parts); the pair of
    ``OFFSET_READS`` read closest together is kept."""
    now = time.monotonic()
    if _offset and now - _offset[1] < OFFSET_REFRESH_S:
        return _offset[0]
    best, gap = 0.0, math.inf
    for _ in range(OFFSET_READS):
        m0 = time.monotonic()
        wall = time.time()
        m1 = time.monotonic()
        if m1 - m0 < gap:
            best, gap = wall - 0.5 * (m0 + m1), m1 - m0
    _offset[:] = [best, now]
    return best


def unix_s(t_mono: float) -> float:
    """The wall-clock time (s since the epoch) of monotonic time ``t_mono``."""
    return t_mono + wall_minus_monotonic_s()


class Handle:
    """A scheduled callback; :meth:`cancel` stops it from running."""

    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], Any]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """Timers of one asyncio loop at ``time.monotonic()`` deadlines (s)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # the loop keeps its Timers, not the other way round
        self._heap: list[tuple[float, int, Handle]] = []
        self._seq = itertools.count()
        self._armed = float("inf")
        self._fd = -1
        self._loop_timer: asyncio.TimerHandle | None = None  # armed where there is no timerfd
        libc = _libc()
        if libc is not None:
            fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
            if fd >= 0:
                try:
                    loop.add_reader(fd, self._fire)
                except (NotImplementedError, RuntimeError):  # a loop without add_reader
                    os.close(fd)
                else:
                    self._fd, self._libc = fd, libc
                    weakref.finalize(self, os.close, fd)
        self.precise = self._fd >= 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        if loop is None:
            raise RuntimeError("the event loop of these timers is gone")
        return loop

    def call_at(self, when: float, callback: Callable[[], Any]) -> Handle:
        """Run ``callback`` in the loop once ``time.monotonic()`` reaches ``when``."""
        h = Handle(callback)
        heapq.heappush(self._heap, (when, next(self._seq), h))
        if when < self._armed:
            self._arm(when)
        return h

    async def sleep_until(self, when: float) -> None:
        """Return once ``time.monotonic()`` reaches ``when`` (at once if it has)."""
        if when <= time.monotonic():
            return
        fut: asyncio.Future[None] = self.loop.create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        h = self.call_at(when, wake)
        try:
            await fut
        finally:
            h.cancel()

    def _arm(self, when: float) -> None:
        self._armed = when
        if self._fd < 0:  # asyncio's own timer, converted to the loop's clock
            if self._loop_timer is not None:
                self._loop_timer.cancel()
            self._loop_timer = self.loop.call_at(self.loop.time() + (when - time.monotonic()),
                                                 self._fire)
            return
        sec = int(when)
        nsec = max(1, int((when - sec) * 1e9))  # 0/0 would disarm the timer
        spec = _Itimerspec(_Timespec(0, 0), _Timespec(sec, min(nsec, 999_999_999)))
        self._libc.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, ctypes.byref(spec), None)

    def _fire(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(BlockingIOError):
                os.read(self._fd, 8)
        self._loop_timer = None
        self._armed = float("inf")
        now = time.monotonic()
        heap = self._heap
        try:
            while heap and heap[0][0] <= now:
                h = heapq.heappop(heap)[2]
                if h.cancelled:
                    continue
                try:
                    h.callback()
                except Exception as exc:  # as asyncio does: report it, keep the others going
                    self.loop.call_exception_handler(
                        {"message": "exception in an airan.live.clock timer callback",
                         "exception": exc, "handle": h})
        finally:
            while heap and heap[0][2].cancelled:
                heapq.heappop(heap)
            if heap:  # (asyncio's timer may wake a little before a deadline: armed again)
                self._arm(heap[0][0])

    def close(self) -> None:
        """Stop watching the timer; pending callbacks do not run (later ones use asyncio's
        timer)."""
        if self._fd >= 0:
            self.loop.remove_reader(self._fd)
            self._fd = -1
            self.precise = False
        if self._loop_timer is not None:
            self._loop_timer.cancel()
            self._loop_timer = None
        self._heap.clear()
        self._armed = float("inf")


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Timers] = (
    weakref.WeakKeyDictionary())


def timers() -> Timers:
    """The :class:`Timers` of the running loop (made on first use; its timerfd is closed
    when the loop is gone)."""
    loop = asyncio.get_running_loop()
    t = _BY_LOOP.get(loop)
    if t is None:
        t = _BY_LOOP[loop] = Timers(loop)
    return t


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector's long pauses out of a latency-critical stretch.

    Python's cyclic collector stops the process while it walks every tracked object of the
    oldest generation: in a process that has imported numba, pyarrow and the engine (200,000+
    objects), one such pass took up to 140 ms during a live run here (measured with
    ``gc.callbacks``), and every request in flight in that process was late by as much. Objects
    that exist when the stretch starts (modules, models, the scenario) live until its end, so
    they are moved out of the collector's sight (``gc.freeze``); what the stretch itself
    allocates is collected as usual.
    """
    frozen_before = gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:  # a caller that froze its heap itself keeps it frozen
            gc.unfreeze()


@contextlib.contextmanager
def short_switch_interval(interval_s: float = SWITCH_INTERVAL_S) -> Iterator[None]:
    """Hand the interpreter lock between threads within ``interval_s`` for a stretch.

    A gRPC asyncio process has two busy threads: the event loop and gRPC's poller, which takes
    the interpreter lock for every completion (a call received, a reply sent) and hands it to
    the loop. While one runs Python code the other waits up to the switch interval for the
    lock, Python's default 5 ms, so a burst of requests queued for milliseconds in the device
    emulator and the gateway. At 50 us, in runs alternated with the default, the overhead not
    hidden inside the emulated delays had a p95 of 1.6-2.1 ms against 2.2-4.7 ms. In a site
    server it also bounds a worker's wait for the lock on its way back from ONNX Runtime
    (detect's compute p95 4.6 ms against 5.1-5.4 at 0.2 ms).
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval_s)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
