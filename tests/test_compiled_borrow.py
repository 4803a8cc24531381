"""airan.compiled.borrow: a StructRef's arrays read and written through a Borrowed view, which
can be neither assigned to nor outlive the call; what the kernel's entry points return owns its
memory."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, types
from numba.core.errors import TypingError
from numba.experimental import structref

from airan.compiled import borrow


@structref.register
class _PairType(types.StructRef):
    def preprocess_fields(self, fields):  # type: ignore[no-untyped-def]
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class _Pair(structref.StructRefProxy):
    pass


structref.define_proxy(_Pair, _PairType, ["values", "scale"])


@structref.register
class _NestedType(types.StructRef):
    pass


class _Nested(structref.StructRefProxy):
    pass


structref.define_proxy(_Nested, _NestedType, ["inner"])


@njit
def _scale_in_place(b):
    for i in range(b.values.shape[0]):
        b.values[i] *= b.scale
    return b.values.sum()


@njit
def _through_borrowed(p):
    return _scale_in_place(borrow(p))


@njit
def _borrow_nested(n):
    return borrow(n)


@njit
def _assign_through_borrowed(p):
    b = borrow(p)
    b.scale = 2.0


def test_borrowed_view_reads_and_writes_the_owners_arrays() -> None:
    values = np.arange(5, dtype=np.float64)
    p = _Pair(values, 3.0)
    assert _through_borrowed(p) == pytest.approx(30.0)
    # the writes landed in the owner's array, which stays valid and owned by Python
    assert np.array_equal(values, 3.0 * np.arange(5))
    del p
    assert values.sum() == pytest.approx(30.0)


def test_borrowed_view_of_many_calls_keeps_the_arrays_alive() -> None:
    values = np.ones(1000)
    p = _Pair(values, 1.0)
    del values  # the StructRef alone owns the array now
    for _ in range(2000):  # would free or corrupt it if reference counts went astray
        assert _through_borrowed(p) == pytest.approx(1000.0)


def test_borrow_refuses_fields_that_are_neither_arrays_nor_scalars() -> None:
    with pytest.raises(TypingError, match="neither an array nor a scalar"):
        _borrow_nested(_Nested(_Pair(np.zeros(1), 1.0)))


def test_a_borrowed_view_cannot_be_assigned_to() -> None:
    with pytest.raises(Exception, match="Borrowed"):  # a compile error, not a silent no-op
        _assign_through_borrowed(_Pair(np.zeros(1), 1.0))


def test_the_kernels_entry_points_return_arrays_that_own_their_memory() -> None:
    """Arrays allocated in the kernel come back with their numba owner; a view of a borrowed
    array would come back without one (base None) and dangle."""
    from airan.engine import Engine
    from airan.engine import kernel as K
    from airan.scenario import load_scenario

    eng = Engine(load_scenario("factory"), duration_s=0.2)
    eng.step(100)
    devices = np.arange(4, dtype=np.int64)
    out = [
        K.in_flight_trace(eng._kw, eng._sref, eng.now_s)[0],
        K.ul_times_s(eng._kw, eng._sref, devices, np.full(4, 1e5), 0.2,
                     np.zeros(4, dtype=np.int64)),
        K.ul_bits_ahead_of(eng._kw, eng._sref, devices, np.zeros(4, dtype=np.int64)),
        K.ul_rates_bps(eng._kw, eng._sref, devices,
                       K.active_in_cells(eng._kw, eng._sref, devices, True), 0.2),
    ]
    trace, ul_s, ahead, rate = out
    assert trace.ndim == 2 and ul_s.shape == ahead.shape == rate.shape == (4,)
    for arr in out:
        assert arr.base is not None
