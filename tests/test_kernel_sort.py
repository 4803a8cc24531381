"""The kernel's radix sort of UE ids gives exactly what np.sort gives."""

import numpy as np
import pytest

from airan.engine.kernel import _sorted_ids


@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 1000, 5000])
@pytest.mark.parametrize("high", [1, 2, 2048, 2049, 100_000, 5_000_000])
def test_sorted_ids_equals_numpy_sort(n: int, high: int) -> None:
    rng = np.random.default_rng(n * 7 + high)
    distinct = rng.choice(high, size=min(n, high), replace=False).astype(np.int64)
    repeated = rng.integers(0, high, n).astype(np.int64)
    for ids in (distinct, repeated):
        before = ids.copy()
        assert np.array_equal(_sorted_ids(ids), np.sort(ids))
        assert np.array_equal(ids, before)  # a sorted copy: the input is left as it was
