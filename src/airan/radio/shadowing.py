"""Spatially consistent shadow fading and LOS state: Gaussian fields over the plane, per site.

TR 38.901 7.6.3.1 asks for large-scale parameters that are spatially consistent: a device's
shadowing to a site changes as it moves, correlated over the decorrelation distance d_corr of
Table 7.5-6 with the exponential law exp(-Δ / d_corr) (Gudmundson 1991), and two devices a
metre apart see nearly the same. Each (site, LOS state) has its own field, built as a sum of
``N_WAVES`` sinusoids (the spectral method, e.g. Cai and Giannakis 2003):

    z(x) = sqrt(2 / N) Σ_m cos(k_m · x + φ_m)

with uniform phases φ_m, uniform directions and radial wavenumbers |k_m| drawn from the 2-D
spectrum of the exponential correlation, whose CDF is F(k) = 1 - 1 / sqrt(1 + (k d_corr)^2)
(the Hankel transform of exp(-r / d_corr)): over the draws, E[z(x) z(x + Δ)] = exp(-|Δ| /
d_corr) exactly and Var z = 1. Each field is fixed by a hash of the seed, the site and the
wave index, so it does not depend on the order in which devices or sites are computed.

The LOS state is spatially consistent too (TR 38.901 7.6.3.3): a link is LOS where its site's
spatially consistent uniform random variable at the device's position, Phi(z) of one more such
field with the LOS-state correlation distance of Table 7.6.3.1-2, is below the LOS probability
at that distance (:func:`los_state`). A device that moves loses and regains LOS over that
distance, and devices side by side share their LOS state to a site.

Simplifications (named): a sum of finitely many sinusoids is Gaussian only approximately (its
values are bounded by sqrt(2 N) = 6.9 standard deviations) and, in one realisation, its
correlation follows the exponential law only on average over the sites; the fields of different
sites are independent (no inter-site shadowing correlation is modelled; cell sites at one position,
two carriers on one mast, share theirs: ``engine.device_radio``); LOS and NLOS
fields are independent, so a link that loses LOS draws its shadowing afresh. The LOS state is
hard (7.6.3.3's soft LOS is not modelled): thresholding a field whose exponential correlation
makes it rough at every scale, it flips the more often the finer it is read, so a moving
device's LOS changes count at the resolution links are re-read (``engine.motion.radio_step_m``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)
from airan.radio.hashing import hash_u01
from airan.radio.pathloss import INF_D_CLUTTER_M, SCENARIOS

N_WAVES = 24  # sinusoids per field (an assumption: tails of a normal to 1%, 24 cosines per link)

#: Shadow-fading decorrelation distance (m), (LOS, NLOS), TR 38.901 Table 7.5-6 (Part-1: UMa
#: 37 / 50, UMi street canyon 10 / 13, InH office 10 / 6; Part-2: RMa 37 / 120; Part-3: InF
#: 10 / 10).
SF_DECORRELATION_M: dict[str, tuple[float, float]] = {
    "uma": (37.0, 50.0),
    "umi": (10.0, 13.0),
    "rma": (37.0, 120.0),
    "inh": (10.0, 6.0),
    "inf-sl": (10.0, 10.0),
    "inf-dl": (10.0, 10.0),
    "inf-sh": (10.0, 10.0),
    "inf-dh": (10.0, 10.0),
}
assert set(SF_DECORRELATION_M) == set(SCENARIOS)

#: Correlation distance (m) of the LOS state, TR 38.901 Table 7.6.3.1-2: UMa 50, UMi 50, RMa
#: 60, InH 10, InF d_clutter / 2 (d_clutter of Table 7.2-4: 10 m sparse, 2 m dense clutter).
LOS_STATE_DECORRELATION_M: dict[str, float] = {
    "uma": 50.0, "umi": 50.0, "rma": 60.0, "inh": 10.0,
    **{name: d_clutter / 2.0 for name, d_clutter in INF_D_CLUTTER_M.items()},
}
assert set(LOS_STATE_DECORRELATION_M) == set(SCENARIOS)

_DIR_MIX = np.uint64(0x2545F4914F6CDD1D)
_RAD_MIX = np.uint64(0x9FB21C651E98DF25)
_PHASE_MIX = np.uint64(0xC13FA9A902A6328F)


def decorrelation_m(scenario: str, los: ArrayLike) -> NDArray[np.float64]:
    """d_corr (m) of the shadow fading for each link's LOS state, TR 38.901 Table 7.5-6."""
    d_los, d_nlos = SF_DECORRELATION_M[str(scenario).lower()]
    return np.where(np.asarray(los, dtype=bool), d_los, d_nlos).astype(np.float64)


def wave_table(n_sites: int, seed: int, n_waves: int = N_WAVES,
               n_fields: int = 2) -> NDArray[np.float64]:
    """The sinusoids of ``n_fields`` fields per site, [sites, fields, waves, 3] (shadowing:
    2, NLOS and LOS; LOS state: 1): the wave vector for d_corr = 1 (x and y: |k| d_corr in a
    uniform direction) and the phase (rad), side by side so that a field's waves are read
    from a few cache lines."""
    s = np.uint64(int(seed) & 0x7FFFFFFFFFFFFFFF)
    keys = (np.arange(n_sites * n_fields * n_waves, dtype=np.uint64)).reshape(
        n_sites, n_fields, n_waves)
    theta = 2.0 * np.pi * hash_u01(keys, s ^ _DIR_MIX)
    u = hash_u01(keys, s ^ _RAD_MIX)
    q = np.sqrt(1.0 / (1.0 - u) ** 2 - 1.0)  # |k| d_corr, from F(k) = 1 - 1/sqrt(1 + (k d)^2)
    phase = 2.0 * np.pi * hash_u01(keys, s ^ _PHASE_MIX)
    return np.stack([q * np.cos(theta), q * np.sin(theta), phase], axis=-1)


def shadow_field(x_m: ArrayLike, y_m: ArrayLike, site: ArrayLike, los: ArrayLike,
                 d_corr_m: ArrayLike, table: NDArray[np.float64]) -> NDArray[np.float64]:
    """The standard-normal shadowing z of each link at the device's position (``x_m``, ``y_m``)
    from its ``site`` in its LOS state (all broadcast together); multiply by sigma_SF (dB)."""
    return gaussian_field(x_m, y_m, site, np.asarray(los, dtype=bool).astype(np.int64),
                          d_corr_m, table)


def los_state(x_m: ArrayLike, y_m: ArrayLike, site: ArrayLike, p_los: ArrayLike,
              scenario: str, table: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether each link is LOS, TR 38.901 7.6.3.3: its ``site``'s spatially consistent
    uniform random variable at the device's position, Phi(z) of the site's LOS-state field
    (``table`` of one field per site) with the correlation distance of Table 7.6.3.1-2, is
    below the link's LOS probability ``p_los`` (all broadcast together)."""
    d_corr = LOS_STATE_DECORRELATION_M[str(scenario).lower()]
    z = gaussian_field(x_m, y_m, site, 0, d_corr, table)
    return ndtr(z) < np.asarray(p_los, dtype=np.float64)  # type: ignore[no-any-return]


def gaussian_field(x_m: ArrayLike, y_m: ArrayLike, site: ArrayLike, field: ArrayLike,
                   d_corr_m: ArrayLike, table: NDArray[np.float64]) -> NDArray[np.float64]:
    """The standard-normal value of each ``site``'s ``field`` (an index into ``table``'s
    fields) at (``x_m``, ``y_m``), correlated as exp(-distance / ``d_corr_m``); all
    broadcast together."""
    x, y, sites, fields, d = np.broadcast_arrays(
        np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64),
        np.asarray(site, dtype=np.int64), np.asarray(field, dtype=np.int64),
        np.asarray(d_corr_m, dtype=np.float64))
    out = np.empty(x.shape)
    row = x.shape[-1] if x.ndim else 1
    _field(np.ascontiguousarray(x).ravel(), np.ascontiguousarray(y).ravel(),
           np.ascontiguousarray(sites).ravel(), np.ascontiguousarray(fields).ravel(),
           np.ascontiguousarray(d).ravel(), table, row, out.reshape(-1))
    return out


LOOK_BACK = 16  # links of the same row searched for one at the same site, field and place

# cos(x) for the fields' sums, in arithmetic the compiler vectorizes (libm's cos is a call per
# wave: ~16 ns, 2.5 s of metro's world build). x is reduced to r in [-pi/4, pi/4] by pi/2 in
# two parts (Cody and Waite): PIO2_HI carries pi/2's first 33 bits, so n * PIO2_HI is exact
# for |n| < 2^20; then fdlibm's minimax polynomials for cos and sin on [-pi/4, pi/4]
# (k_cos.c, k_sin.c; error below 2^-58). Within 1e-15 of libm for |x| < COS_REDUCED_MAX;
# beyond, libm's cos (a wave more than ~10^5 turns from its origin: rare).
_TWO_OVER_PI = 6.36619772367581382433e-01
_PIO2_HI = 1.57079632673412561417e+00
_PIO2_LO = 6.07710050650619224932e-11  # pi/2 - _PIO2_HI
_ROUND = 6755399441055744.0  # 1.5 * 2^52: adding and subtracting it rounds to an integer
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
COS_REDUCED_MAX = 1.0e6


@njit(cache=True, inline="always")
def reduced_cos(x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """cos(x) for |x| < COS_REDUCED_MAX, branch-free (see above)."""
    n = (x * _TWO_OVER_PI + _ROUND) - _ROUND
    r = (x - n * _PIO2_HI) - n * _PIO2_LO
    z = r * r
    c = 1.0 - 0.5 * z + z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    s = r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    q = np.int64(n) & 3  # the quadrant: cos, -sin, -cos, sin of r
    v = c if (q & 1) == 0 else s
    return v if ((q + 1) & 2) == 0 else -v


@njit(cache=True)
def _field(x, y, site, field, d, table, row, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[i]``: the value of ``site[i]``'s field ``field[i]`` at (``x[i]``, ``y[i]``). A link
    that repeats one of the ``LOOK_BACK`` before it in its row of ``row`` (another sector of
    the same site, for the same device) takes its value: a device's cells come from a few
    sites. The waves' phases, then their cosines, then their sum in wave order: the first two
    loops run on vectors, the sum is the same whatever the machine."""
    n_waves = table.shape[2]
    norm = math.sqrt(2.0 / n_waves)
    arg = np.empty(n_waves)
    val = np.empty(n_waves)
    for i in range(x.shape[0]):
        first = i - i % row
        if first < i - LOOK_BACK:
            first = i - LOOK_BACK
        same = -1
        for j in range(i - 1, first - 1, -1):
            if (site[j] == site[i] and field[j] == field[i] and x[j] == x[i]
                    and y[j] == y[i] and d[j] == d[i]):
                same = j
                break
        if same >= 0:
            out[i] = out[same]
            continue
        s, t = site[i], field[i]
        u, v = x[i] / d[i], y[i] / d[i]
        far = 0
        for m in range(n_waves):
            a = table[s, t, m, 0] * u + table[s, t, m, 1] * v + table[s, t, m, 2]
            arg[m] = a
            far |= abs(a) >= COS_REDUCED_MAX
        for m in range(n_waves):
            val[m] = reduced_cos(arg[m])
        if far:
            for m in range(n_waves):
                if abs(arg[m]) >= COS_REDUCED_MAX:
                    val[m] = math.cos(arg[m])
        z = 0.0
        for m in range(n_waves):
            z += val[m]
        out[i] = z * norm
