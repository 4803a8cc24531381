"""Compute physics: roofline service times of models on accelerators (pure functions)."""

from airan.compute.roofline import (
    DIST_DETERMINISTIC,
    DIST_EXPONENTIAL,
    DIST_LOGNORMAL,
    DIST_UNIFORM,
    batch_service_time_s,
    sample_service_factors,
    service_factor,
    service_time_distribution,
    service_time_table_s,
)

__all__ = [
    "DIST_DETERMINISTIC",
    "DIST_EXPONENTIAL",
    "DIST_LOGNORMAL",
    "DIST_UNIFORM",
    "batch_service_time_s",
    "sample_service_factors",
    "service_factor",
    "service_time_distribution",
    "service_time_table_s",
]
