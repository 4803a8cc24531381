"""Layer-3 filtering of RSRP (TS 38.331 5.5.3.2) and the A3 handovers it delays.

* the filter is TS 38.331's ``F_n = (1 - a) F_{n-1} + a M_n``, ``a = 1 / 2^(k / 4)``, its step
  response ``M + (F_0 - M)(1 - a)^n``, kept in time at another sample rate;
* held samples fold in at once; a new cell starts from its measurement, one off the air is
  forgotten; fc0 is no filter;
* in the engine, a device whose neighbour jumps ahead hands over at the sample where the
  filtered lead first exceeds the hysteresis, as the closed form gives for fc0, fc4 and fc8.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_handover import _row_of_cells

from airan.engine import Engine
from airan.engine import motion as M
from airan.radio import l3_filter
from airan.scenario import scenario_from_dict


def test_the_filter_weight_is_one_over_two_to_the_k_over_four() -> None:
    assert l3_filter.filter_factor(0) == 1.0
    assert l3_filter.filter_factor(4) == 0.5  # fc4, QuantityConfig's default
    assert l3_filter.filter_factor(8) == 0.25
    assert l3_filter.filter_factor(19) == pytest.approx(2 ** -4.75)
    # one sample per measurement period: the coefficient itself
    assert float(l3_filter.per_sample_factor(4, 0.2)) == pytest.approx(0.5)


def _step(f: float, m: float, weight: float, samples: float = 1.0, held: float | None = None
          ) -> float:
    a = np.array([[f]])
    return float(l3_filter.filter_db(a, np.array([[m if held is None else held]]),
                                     np.array([[m]]), np.array([[samples]]),
                                     np.array([[weight]]))[0, 0])


def test_a_step_settles_as_one_minus_a_to_the_n_and_keeps_its_time_at_any_sample_rate() -> None:
    """From -100 dBm to a measurement of -80 dBm: after n measurement periods of 200 ms the
    filtered value is -80 - 20 (1 - a)^n, whether sampled every 200 ms or every 100 ms
    (TS 38.331: the filter adapted so that its time characteristics are kept)."""
    for k in (1, 4, 8):
        a = l3_filter.filter_factor(k)
        w200 = float(l3_filter.per_sample_factor(k, 0.2))
        w100 = float(l3_filter.per_sample_factor(k, 0.1))
        f200 = f100 = -100.0
        for n in range(1, 8):
            f200 = _step(f200, -80.0, w200)
            f100 = _step(_step(f100, -80.0, w100), -80.0, w100)
            closed = -80.0 - 20.0 * (1.0 - a) ** n
            assert f200 == pytest.approx(closed, abs=1e-12)
            assert f100 == pytest.approx(closed, abs=1e-12)


def test_held_samples_fold_in_as_one_sample_each() -> None:
    """Five samples since the last: four of the held measurement, then the new one."""
    w = float(l3_filter.per_sample_factor(4, 0.1))
    f = -90.0
    for _ in range(4):
        f = _step(f, -85.0, w)
    f = _step(f, -70.0, w)
    assert _step(-90.0, -70.0, w, samples=5.0, held=-85.0) == pytest.approx(f, abs=1e-12)


def test_fc0_is_no_filter_and_a_cell_new_or_gone_starts_over() -> None:
    assert _step(-100.0, -80.0, float(l3_filter.per_sample_factor(0, 0.1))) == -80.0
    w = float(l3_filter.per_sample_factor(4, 0.1))
    assert _step(-math.inf, -80.0, w, held=-math.inf) == -80.0  # newly listed: F_0 = M_1
    assert _step(-100.0, -math.inf, w) == -math.inf  # off the air: forgotten


def _handover_times(eng: Engine) -> list[float]:
    """Run ``eng`` and return when its first device handed over (s), each time."""
    times: list[float] = []
    update = M.Motion.update

    def logged(self: Any, engine: Any, down_cells: Any = None, *, attach: bool = False) -> None:
        before = int(self.handovers[0])
        update(self, engine, down_cells, attach=attach)
        if self.handovers[0] > before:
            times.append(engine.now_s)

    mp = pytest.MonkeyPatch()
    mp.setattr(M.Motion, "update", logged)
    try:
        eng.run()
    finally:
        mp.undo()
    return times


def _jump(k: int, hysteresis_db: float, folder: Path) -> tuple[float, float, list[float]]:
    """One drone at x = 40 m (nearer c0), at x = 160 m (nearer c1) from the first update
    on (a trace): the lead of c1 over c0 jumps from -D to +D dB (D from the engine's own
    links). Returns D, the sample period and the times of its handovers."""
    trace = folder / "jump.csv"
    trace.write_text("t,device,x,y,z\n0,d,40,5,1.5\n0.05,d,160,5,1.5\n")
    d = _row_of_cells([], hysteresis_db=hysteresis_db, ttt_ms=0.0, duration_s=2.0,
                      filter_coefficient=k)
    d["fleets"][0]["mobility"] = {"model": "trace", "file": str(trace), "update_ms": 100.0}
    eng = Engine(scenario_from_dict(d))
    w = eng.world
    top, gain, _, _ = w.device_radio.links(np.array([[40.0, 5.0]]), np.array([1.5]))
    rx = dict(zip(top[0].tolist(), (gain[0] * w.cell_rs_mw[top[0]]).tolist(), strict=True))
    c0, c1 = w.cell_names.index("c0"), w.cell_names.index("c1")
    lead_db = 10 * math.log10(rx[c0] / rx[c1])  # (c1 at 160 m leads c0 by as much)
    times = _handover_times(eng)
    assert w.cell_names[int(w.dev_cell[0])] == "c1"
    return lead_db, float(eng.motion._dev_period[0]), times


@pytest.mark.parametrize("k", [0, 4, 8])
def test_a_neighbour_that_jumps_ahead_is_handed_over_to_when_its_filtered_lead_passes_a3(
        k: int, tmp_path: Path) -> None:
    """The filtered lead after n samples of +D, from -D: D (1 - 2 (1 - a')^n), a' the weight
    at the 100 ms update (TS 38.331 5.5.3.2); A3 (no time-to-trigger) at the first n where
    it exceeds the hysteresis. fc0 hands over at the first sample, fc4 at the third, fc8 at
    the eighth."""
    hys = 3.0
    lead, period, times = _jump(k, hys, tmp_path)
    assert lead > 2 * hys
    keep = 1.0 - float(l3_filter.per_sample_factor(k, period))
    n = next(n for n in range(1, 100) if lead * (1.0 - 2.0 * keep ** n) > hys)
    assert min(abs(lead * (1.0 - 2.0 * keep ** m) - hys) for m in (n - 1, n)) > 0.05
    assert times == [pytest.approx(n * period, abs=1e-9)]
    assert n == {0: 1, 4: 3, 8: 8}[k]


def test_a_lead_just_above_the_hysteresis_is_followed_until_the_filter_meets_it(
        tmp_path: Path) -> None:
    """A review: a device whose filtered values are within 0.1 dB of its held measurements,
    but whose measured lead is just above the hysteresis (a filtered lead just below it),
    stopped being sampled, and a parked device never handed over. It is followed until the
    filter meets A3: from -10.8 dB to a lead of 3.1 dB at fc4, at the first n where
    3.1 - (3.1 + 10.8) (1 - a')^n > 3, as the closed form gives."""
    d3 = lambda x, cx: math.hypot(x - cx, 5.0, 25.0 - 1.5)  # noqa: E731
    # (ideal radio: gains 1 / d^2, so the lead is 20 log10 of the distances' ratio)
    lo, hi = 100.0, 200.0
    for _ in range(200):  # the x where c1 leads c0 by 3.1 dB
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if 20 * math.log10(d3(mid, 0.0) / d3(mid, 200.0)) < 3.1 else (lo, mid)
    trace = tmp_path / "near.csv"
    trace.write_text(f"t,device,x,y,z\n0,d,40,5,1.5\n0.05,d,{lo!r},5,1.5\n")
    d = _row_of_cells([], hysteresis_db=3.0, ttt_ms=0.0, duration_s=4.0, filter_coefficient=4)
    d["fleets"][0]["mobility"] = {"model": "trace", "file": str(trace), "update_ms": 100.0}
    eng = Engine(scenario_from_dict(d))
    w = eng.world
    top, gain, _, _ = w.device_radio.links(np.array([[40.0, 5.0], [lo, 5.0]]),
                                           np.array([1.5, 1.5]))
    c0, c1 = w.cell_names.index("c0"), w.cell_names.index("c1")

    def lead(row: int) -> float:
        rx = dict(zip(top[row].tolist(), (gain[row] * w.cell_rs_mw[top[row]]).tolist(),
                      strict=True))
        return 10 * math.log10(rx[c1] / rx[c0])

    start, end = lead(0), lead(1)
    assert end == pytest.approx(3.1, abs=1e-6) and start == pytest.approx(-10.8, abs=0.01)
    keep = 1.0 - float(l3_filter.per_sample_factor(4, 0.1))
    n = next(n for n in range(1, 200) if end - (end - start) * keep ** n > 3.0)
    times = _handover_times(eng)
    assert n > 10  # (past the 0.1 dB each cell's filter settles within)
    assert times == [pytest.approx(n * 0.1, abs=1e-9)]
