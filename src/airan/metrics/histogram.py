"""Log-bucket latency histograms: exact counts, quantiles within 0.5% relative error.

Bucket 0 holds values below ``min_s``; bucket b >= 1 holds [min_s * g**(b-1), min_s * g**b) with
g = 1.01. A quantile is reported as the bucket's geometric midpoint, so its relative error is at
most sqrt(1.01) - 1 = 0.499%. Histograms of the same layout merge by adding counts, which is how
shards and seeds combine without averaging percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# log buckets of ratio HIST_GAMMA from HIST_MIN_S up to 1e5 s (<= 0.5% relative error); the
# compiled kernel fills them, the summary and the reports read them
HIST_MIN_S = 1e-6
HIST_GAMMA = 1.01
HIST_LOG_GAMMA = math.log(HIST_GAMMA)
HIST_BUCKETS = int(math.ceil(math.log(1e5 / HIST_MIN_S) / HIST_LOG_GAMMA)) + 2

MAX_RELATIVE_ERROR = math.sqrt(HIST_GAMMA) - 1.0


def bucket_of(values_s: ArrayLike) -> NDArray[np.int64]:
    """The bucket index of each value (same rule as the engine's kernel)."""
    v = np.asarray(values_s, dtype=float)
    b = np.zeros(v.shape, dtype=np.int64)
    pos = v >= HIST_MIN_S
    b[pos] = 1 + np.floor(np.log(v[pos] / HIST_MIN_S) / math.log(HIST_GAMMA)).astype(np.int64)
    return np.minimum(b, HIST_BUCKETS - 1)


def histogram(values_s: ArrayLike) -> NDArray[np.int64]:
    """Counts per bucket of a set of latencies (for tests and merging)."""
    return np.bincount(bucket_of(values_s).ravel(), minlength=HIST_BUCKETS).astype(np.int64)


def quantile(counts: ArrayLike, q: float) -> float:
    """The q-quantile (0 <= q <= 1) of the values counted in ``counts``; NaN when empty."""
    c = np.asarray(counts, dtype=np.int64)
    total = int(c.sum())
    if total == 0:
        return float("nan")
    return value_at_rank(c, max(1, math.ceil(q * total)))


def value_at_rank(counts: ArrayLike, rank: int) -> float:
    """The ``rank``-th smallest value (1-based, at most the count) of those in ``counts``."""
    c = np.asarray(counts, dtype=np.int64)
    b = int(np.searchsorted(np.cumsum(c), rank))
    if b == 0:
        return HIST_MIN_S / 2.0
    return HIST_MIN_S * HIST_GAMMA ** (b - 0.5)


def dense_counts(hist: Mapping[str, Any]) -> NDArray[np.int64]:
    """A summary's sparse histogram (``{counts: {bucket: n}}``) as the dense array of counts."""
    out = np.zeros(HIST_BUCKETS, dtype=np.int64)
    for b, n in (hist.get("counts") or {}).items():
        out[int(b)] += int(n)
    return out


def histogram_quantile_ms(hist: Mapping[str, Any], q: float) -> float | None:
    """The q-quantile (ms) of a summary's sparse histogram; None when it is empty."""
    v = quantile(dense_counts(hist), q)
    return None if np.isnan(v) else float(v * 1e3)


def percentile_with_unanswered_ms(service: Mapping[str, Any], q: float) -> float | None:
    """A service's q-quantile latency (ms) with every request that got no answer (dropped, or
    in flight past its deadline at the end: ``overdue``) counted as infinitely late.

    ``service`` is one service of a run summary (its ``latency_histogram``, ``met``, ``late``,
    ``dropped``, ``overdue``). A p99 of X ms then says that 99% of the requests were answered
    within X ms: ``inf`` when the quantile falls among the unanswered (also when none was
    answered and some were asked); None when no request was. (The summary's own ``latency_ms``
    percentiles are over the answered requests.) Without a histogram (an older summary), its
    answered-only value.
    """
    hist = service.get("latency_histogram")
    if not hist:
        v = (service.get("latency_ms") or {}).get(f"p{q * 100:g}".replace(".", ""))
        return None if v is None or not math.isfinite(float(v)) else float(v)
    answered = int(service.get("met", 0)) + int(service.get("late", 0))
    unanswered = int(service.get("dropped", 0)) + int(service.get("overdue", 0))
    if answered + unanswered == 0:
        return None
    # the nearest rank among all, as quantile() among the answered
    rank = max(1, math.ceil(q * (answered + unanswered)))
    if rank > answered:
        return math.inf
    return float(value_at_rank(dense_counts(hist), rank) * 1e3)
