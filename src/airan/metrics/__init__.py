"""Metrics: streaming aggregates read from the engine, never touching it."""

from airan.metrics.histogram import MAX_RELATIVE_ERROR, histogram, quantile

__all__ = ["MAX_RELATIVE_ERROR", "histogram", "quantile"]
