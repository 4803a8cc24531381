"""`airan.with_fields`: a scenario with fields set by the sweep files' paths, from Python."""

from __future__ import annotations

import pytest

import airan


def test_with_fields_sets_sweep_paths_and_names_a_bad_one() -> None:
    """A researcher's review: a scenario is frozen, and changing one field from Python took
    nested copies found by reading the code."""
    base = airan.load_scenario("city")
    sc = airan.with_fields(base, {"services[perception].rate_hz": 20, "fleets[0].count": 2000})
    assert sc.services[0].rate_hz == 20.0 and sc.fleets[0].count == 2000
    assert base.services[0].rate_hz != 20.0  # the scenario given is left as it was
    assert airan.with_fields("city", {}) == base
    with pytest.raises(airan.InputError, match="did you mean 'perception'") as bad:
        airan.with_fields("city", {"services[percption].rate_hz": 3})
    assert bad.value.field == "services[percption].rate_hz"
    with pytest.raises(airan.InputError, match="greater than 0"):
        airan.with_fields(base, {"services[perception].rate_hz": -3})


def test_the_policy_helpers_are_public_and_compute_time_is_the_batch_table() -> None:
    """A researcher's review: a policy's cost of a site needed the world's internal arrays."""
    import numpy as np

    from airan import policy

    for name in ("candidate_sites", "compute_time_s", "per_item_time_s", "batch_wait_s",
                 "device_energy_j", "estimate_latency_s", "latency_parts_s", "world_of"):
        assert name in policy.__all__ and callable(getattr(policy, name))
    eng = airan.Engine("factory", duration_s=0.01)
    snap = eng.snapshot()
    w = policy.world_of(snap)
    sites = np.arange(len(w.site_names))
    svc = np.zeros(1, dtype=np.int64)
    one = policy.compute_time_s(snap, svc, sites[None, :])[0]
    m, g = w.svc_model[0], w.gpu_type[w.site_gpu_start[sites]]
    np.testing.assert_array_equal(one, w.svc_time_s[m, g, 1] / snap.site_ai_share[sites])
    full = policy.compute_time_s(snap, svc, sites[None, :], batch_size=10_000)[0]
    b = w.site_max_batch[sites, m]
    np.testing.assert_array_equal(full / b / w.site_n_gpus[sites],
                                  policy.per_item_time_s(snap, svc, sites[None, :])[0])
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        policy.compute_time_s(snap, svc, sites[None, :], batch_size=0)
