"""The log-bucket latency histogram: quantiles within 0.5% of the exact ones, merging by adding.

The exact reference is numpy's ``method="inverted_cdf"``: the smallest sample x with
F(x) >= q, i.e. the ceil(q n)-th smallest value, the same rank definition as
:func:`airan.metrics.histogram.quantile`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airan.metrics.histogram import (
    HIST_BUCKETS,
    HIST_GAMMA,
    HIST_MIN_S,
    MAX_RELATIVE_ERROR,
    bucket_of,
    histogram,
    quantile,
)

QS = (0.5, 0.9, 0.99, 0.999)
BOUND = 0.005  # the documented guarantee: 0.5% relative


def lognormal_latencies(seed: int, n: int, median_s: float = 0.03,
                        sigma: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(math.log(median_s), sigma, n)


def exact(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q, method="inverted_cdf"))


def rel_err(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def test_documented_bound() -> None:
    assert pytest.approx(math.sqrt(HIST_GAMMA) - 1.0) == MAX_RELATIVE_ERROR
    assert MAX_RELATIVE_ERROR < BOUND


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("median_s", "sigma"), [(0.03, 1.0), (2e-4, 0.5), (5.0, 2.0)])
def test_quantiles_within_half_a_percent(seed: int, median_s: float, sigma: float) -> None:
    v = lognormal_latencies(seed, 20_000, median_s, sigma)
    h = histogram(v)
    assert h.shape == (HIST_BUCKETS,)
    assert int(h.sum()) == len(v)
    for q in QS:
        assert rel_err(quantile(h, q), exact(v, q)) <= BOUND, q


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 3000),
       mu=st.floats(math.log(1e-5), math.log(1e3)), sigma=st.floats(0.0, 3.0),
       q=st.sampled_from([0.0, 0.001, 0.25, *QS, 1.0]))
def test_quantile_bound_on_any_sample(seed: int, n: int, mu: float, sigma: float, q: float) -> None:
    v = np.random.default_rng(seed).lognormal(mu, sigma, n)
    v = v[(v >= HIST_MIN_S) & (v < 1e5)]  # the histogram's exact range
    if len(v) == 0:
        return
    got = quantile(histogram(v), q)
    assert rel_err(got, exact(v, max(q, 1e-12))) <= BOUND


@pytest.mark.parametrize("seed", range(4))
def test_merging_halves_gives_the_pooled_quantiles(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    # two halves from different distributions, so that the pooled quantiles are not either's
    a = rng.lognormal(math.log(0.02), 0.5, 15_000)
    b = rng.lognormal(math.log(0.08), 1.2, 9_000)
    pooled = np.concatenate([a, b])
    merged = histogram(a) + histogram(b)
    assert np.array_equal(merged, histogram(pooled))
    for q in QS:
        assert rel_err(quantile(merged, q), exact(pooled, q)) <= BOUND, q


def test_merging_is_order_free() -> None:
    v = lognormal_latencies(7, 9_999)
    parts = np.array_split(v, 5)
    merged = sum(histogram(p) for p in parts)
    assert np.array_equal(merged, histogram(v))
    assert np.array_equal(merged, sum(histogram(p) for p in reversed(parts)))


def test_empty_histogram_gives_nan() -> None:
    empty = np.zeros(HIST_BUCKETS, dtype=np.int64)
    for q in (0.0, *QS, 1.0):
        assert math.isnan(quantile(empty, q))
    assert math.isnan(quantile(histogram(np.array([])), 0.5))


def test_single_value() -> None:
    for x in (1.5e-6, 0.001, 0.0375, 12.0):
        h = histogram([x])
        for q in (0.0, 0.5, 1.0):
            assert rel_err(quantile(h, q), x) <= BOUND


def test_bucket_edges() -> None:
    # bucket 0 holds values below min_s; bucket b >= 1 holds [min_s g^(b-1), min_s g^b)
    assert bucket_of([0.0, HIST_MIN_S / 2]).tolist() == [0, 0]
    assert bucket_of([HIST_MIN_S]).tolist() == [1]
    inside = HIST_MIN_S * HIST_GAMMA ** (np.arange(1, 500) + 0.5)  # geometric midpoints
    assert bucket_of(inside).tolist() == list(range(2, 501))
    # values beyond the range saturate in the last bucket
    assert bucket_of([1e9]).tolist() == [HIST_BUCKETS - 1]
    # buckets are monotone in the value
    v = np.sort(lognormal_latencies(3, 5_000, 0.01, 3.0))
    assert np.all(np.diff(bucket_of(v)) >= 0)


def test_values_below_min_report_half_min() -> None:
    h = histogram([1e-9, 2e-9, 3e-9])
    assert quantile(h, 0.5) == pytest.approx(HIST_MIN_S / 2)


def test_quantile_is_monotone_in_q() -> None:
    h = histogram(lognormal_latencies(11, 5_000))
    qs = np.linspace(0, 1, 101)
    vals = [quantile(h, q) for q in qs]
    assert all(a <= b for a, b in zip(vals, vals[1:], strict=False))
