"""A site's workers stand for GPUs: real-time scheduling while they leave the cores half free."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from airan.live.priority import DutyGovernor, WorkerPriority


def test_a_worker_busy_over_half_the_time_leaves_real_time_and_returns_when_idle() -> None:
    g = DutyGovernor(max_duty=0.5, resume_duty=0.4, window_s=0.5)
    t = 0.0
    changes = []
    for busy, idle in [(0.004, 0.006)] * 100 + [(0.007, 0.003)] * 100 + [(0.002, 0.008)] * 100:
        t += busy
        changes.append((round(t, 3), g.observe(busy, t)))
        t += idle
    switched = [(at, c) for at, c in changes if c is not None]
    # 40% busy keeps real time; 70% leaves it within a window; 20% brings it back
    assert [c for _, c in switched] == [False, True]
    assert 1.0 < switched[0][0] <= 1.0 + 2 * g.window_s
    assert 2.0 < switched[1][0] <= 2.0 + 2 * g.window_s


def _may_use_realtime() -> bool:
    """Whether this process may use SCHED_FIFO (root without CAP_SYS_NICE, in a container, may
    not): tried in a thread of its own."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    import threading

    ok: list[bool] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            ok.append(True)
        except OSError:
            ok.append(False)

    th = threading.Thread(target=attempt)
    th.start()
    th.join()
    return ok[0]


needs_realtime = pytest.mark.skipif(
    not _may_use_realtime(), reason="real-time scheduling needs CAP_SYS_NICE or RLIMIT_RTPRIO "
    "(the worker then runs at its nice value)")


@needs_realtime
def test_worker_thread_runs_real_time_then_fair_share_once_saturated() -> None:
    prio = WorkerPriority(realtime_priority=10, nice=-10,
                          governor=DutyGovernor(window_s=0.1))

    def work() -> tuple[bool, int, bool, int]:
        first, nice_first = prio.realtime_now(), os.getpriority(os.PRIO_PROCESS, 0)
        t = 0.0
        for _ in range(50):  # batches that keep the worker busy 90% of the time
            t += 0.009
            prio.after_batch(0.009, t)
            t += 0.001
        return first, nice_first, prio.realtime_now(), os.getpriority(os.PRIO_PROCESS, 0)

    with ThreadPoolExecutor(1, initializer=prio.enter) as pool:
        first, nice_first, later, nice = pool.submit(work).result()
    assert first and not later
    assert nice == nice_first  # back to the fair scheduler at the nice value it had
    assert not prio.realtime_now()  # the caller's own thread is left alone


@needs_realtime
def test_a_batch_too_long_for_the_duty_runs_fair_share_and_the_next_short_one_real_time() -> None:
    prio = WorkerPriority(realtime_priority=10, nice=0, governor=DutyGovernor(0.1, 0.05, 0.5))

    def work() -> list[bool]:
        seen = []
        for expected_s in (0.01, 0.2, 0.01):  # 0.2 s > 10% of a 0.5 s window
            prio.before_batch(expected_s)
            seen.append(prio.realtime_now())
        return seen

    with ThreadPoolExecutor(1, initializer=prio.enter) as pool:
        assert pool.submit(work).result() == [True, False, True]


@pytest.mark.skipif(not hasattr(os, "SCHED_FIFO"), reason="no POSIX scheduling classes here")
def test_a_worker_not_allowed_real_time_says_so_once_and_keeps_going(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import airan.live.priority as P

    def refuse(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(P, "LINUX", True)
    monkeypatch.setattr(os, "sched_setscheduler", refuse, raising=False)
    monkeypatch.setattr(os, "setpriority", refuse, raising=False)
    prio = WorkerPriority(realtime_priority=10, nice=-10)

    def work() -> bool:
        prio.before_batch(0.001)
        prio.after_batch(0.001, 1.0)
        return prio._local.governor is None

    with ThreadPoolExecutor(2, initializer=prio.enter) as pool:
        assert all(f.result() for f in [pool.submit(work) for _ in range(4)])
    err = capsys.readouterr().err
    assert err.count("without real-time scheduling") == 1
    assert err.count("keep their nice value") == 1


def test_duty_thresholds_are_checked() -> None:
    with pytest.raises(ValueError, match="resume_duty"):
        DutyGovernor(max_duty=0.3, resume_duty=0.4)
    assert not DutyGovernor(0.1, 0.05, 0.5).admits(0.06)


def test_site_workers_use_the_configured_scheduling() -> None:
    from test_live import _site

    site = _site(worker_realtime=0, worker_nice=0)
    try:
        assert site._pool.submit(WorkerPriority.realtime_now).result() is False
    finally:
        site._pool.shutdown()
    if _may_use_realtime():
        site = _site()
        try:
            assert site._pool.submit(WorkerPriority.realtime_now).result() is True
        finally:
            site._pool.shutdown()


def test_workers_share_half_the_host_between_them() -> None:
    from airan.live.priority import realtime_duty

    assert realtime_duty(4, cpus=2) == 0.25  # the test scenario: two models on each of 2 sites
    assert realtime_duty(2, cpus=2) == 0.5
    assert realtime_duty(66, cpus=2) == pytest.approx(1 / 66)  # factory: together, one core
    assert realtime_duty(1, cpus=16) == 0.5  # never more than half of one worker's time
    if hasattr(os, "sched_getaffinity"):  # the CPUs this process may use, not the host's
        assert realtime_duty(1000) == pytest.approx(0.5 * len(os.sched_getaffinity(0)) / 1000)


@pytest.mark.parametrize("realtime", [0, 10])
def test_a_site_reports_how_much_of_its_compute_ran_in_real_time(realtime: int) -> None:
    import asyncio

    from test_live import TOKEN_A, _req, _site

    from airan.live import wire

    async def main() -> tuple[float, float]:
        site = _site(worker_realtime=realtime, max_wait_s=0.0)
        port = await site.start()
        stub = wire.Stub(f"127.0.0.1:{port}", "Site", TOKEN_A)
        try:
            for i in range(5):
                assert (await stub.infer(_req(f"r{i}"), 5)).status == wire.InferReply.OK
            rep = await stub.load()
        finally:
            await stub.close()
            await site.stop()
        return rep.busy_s, rep.realtime_busy_s

    busy, busy_rt = asyncio.run(main())
    assert busy > 0
    if realtime and _may_use_realtime():
        assert busy_rt == pytest.approx(busy)
    else:
        assert busy_rt == 0.0


def test_a_load_report_counts_running_batches_alike_in_busy_and_real_time() -> None:
    """A report taken mid-batch counts the batches' compute so far in both sums (once busy had
    it and realtime_busy did not, so the share between two reports could exceed 1): on one
    GPU, 0.1 s of a real-time batch alone, then 0.1 s shared with one that is not."""
    import time

    from test_live import _site

    from airan.live.site_server import _Occupancy

    site = _site()
    try:
        now = time.monotonic()
        site.occupancy = _Occupancy(1, now - 1.0)
        site.occupancy.change(now - 0.2, 1, True)
        site.occupancy.change(now - 0.1, 1, False)
        rep = site.load_report()
    finally:
        site._pool.shutdown()
    assert rep.busy_s == pytest.approx(0.2, abs=0.02)
    assert rep.realtime_busy_s == pytest.approx(0.1 + 0.05, abs=0.02)


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are Linux's")
def test_a_niced_process_keeps_its_workers_niced_and_off_real_time() -> None:
    """A live integrator's review: started under nice 19 on a shared machine, the site's
    workers set themselves to nice -10 and SCHED_FIFO, above everyone. A niced process's
    workers go 10 above the rest of it (19: 9) and never real time."""
    import subprocess

    code = ("import os, threading\n"
            "from airan.live.priority import WorkerPriority\n"
            "os.nice(19)\n"
            "p = WorkerPriority(realtime_priority=10, nice=-10)\n"
            "out = []\n"
            "def w():\n"
            "    p.enter()\n"
            "    out.append((os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),"
            " p.realtime_now()))\n"
            "t = threading.Thread(target=w); t.start(); t.join(); print(out[0])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert res.stdout.strip() == "(9, False)", res.stderr
