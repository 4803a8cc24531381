"""The live runtime's timers (airan.live.clock): never early, in deadline order, cancellable,
and the same behaviour on the asyncio fallback."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from airan.live import clock


@pytest.mark.parametrize("precise", [True, False])
def test_timers_run_in_deadline_order_never_early_and_cancelled_ones_not_at_all(
        precise: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not precise:
        monkeypatch.setattr(clock, "_libc", lambda: None)

    async def main() -> tuple[list[tuple[int, float, float]], bool]:
        t = clock.timers()
        ran: list[tuple[int, float, float]] = []
        t0 = time.monotonic()
        # scheduled out of order, some at the same instant, one cancelled
        offsets = [0.006, 0.002, 0.004, 0.002, 0.001, 0.003]
        handles = []
        for i, dt in enumerate(offsets):
            when = t0 + dt
            handles.append(t.call_at(when, lambda i=i, when=when:
                                     ran.append((i, when, time.monotonic()))))
        handles[2].cancel()
        await t.sleep_until(t0 + 0.010)
        assert time.monotonic() >= t0 + 0.010
        await t.sleep_until(t0)  # in the past: at once
        return ran, t.precise

    ran, precise_now = asyncio.run(main())
    assert precise_now == (precise and sys.platform.startswith("linux"))
    assert [i for i, _, _ in ran] == [4, 1, 3, 5, 0]
    assert all(now >= when for _, when, now in ran)


def test_each_loop_has_its_own_timers() -> None:
    async def main() -> clock.Timers:
        a = clock.timers()
        assert clock.timers() is a
        await a.sleep_until(time.monotonic() + 0.001)
        return a

    assert asyncio.run(main()) is not asyncio.run(main())
