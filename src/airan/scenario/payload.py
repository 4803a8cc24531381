"""The size of each upload: fixed at the service's ``ul_kb``, or spread about it (and of
each answer about ``dl_kb`` alike: ``dl_kb_spread``; ``ul_kb`` stands for either below).

Compressed frames differ in size from one to the next, and the large ones set a service's
tail on the air. A service's ``ul_kb_spread`` draws each request's upload size from one of:

- ``normal``: 3GPP's XR traffic model (TR 38.838 5.1.1, the video frame size): a Gaussian
  of mean ``ul_kb`` and standard deviation ``cv`` x ``ul_kb`` (10.5% there), truncated to
  ``min_ratio`` .. ``max_ratio`` x ``ul_kb`` (50% .. 150% there, the defaults here);
- ``lognormal``: the usual fit of compressed images' and files' sizes, with a heavier right
  tail (the NGMN and IEEE 802.16m evaluation methodologies draw their FTP files and HTTP
  objects so, truncated): mean ``ul_kb`` and coefficient of variation ``cv`` before
  truncation, untruncated by default.

As in those models, ``ul_kb`` and ``cv`` describe the distribution before truncation; the
mean of the sizes sent is the truncated one's (:func:`mean_ratio`, a closed form), which is
what the policies' estimates and the offered load read. A size outside the bounds is drawn
again (truncation, not clipping). Pure functions of ratios to ``ul_kb``; the kernel draws
with :func:`size_from_uniforms` from an order-independent hash of the request's number.
"""

from __future__ import annotations

import math

FIXED, NORMAL, LOGNORMAL = 0, 1, 2
KINDS = {"normal": NORMAL, "lognormal": LOGNORMAL}
#: TR 38.838 5.1.1's bounds of a frame's size, as ratios of the mean
NORMAL_BOUNDS = (0.5, 1.5)
#: the least share of the distribution the bounds may keep (each size is drawn again until
#: it falls within them: 10 draws on average at this share, ~0.4 us each time the kernel
#: asks for a size, a handful of times per request)
MIN_KEPT = 0.1
#: the share of uploads above the size ``validate`` names as a service's largest (where the
#: distribution has no bound, or a far one)
LARGEST_EXCEEDED_BY = 1e-5


def _phi(z: float) -> float:
    """The standard normal CDF (``-inf`` and ``inf`` allowed)."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) if math.isfinite(z) else 0.0


def bounds(kind: int, min_ratio: float | None, max_ratio: float | None) -> tuple[float, float]:
    """The truncation bounds as ratios of the mean (the kind's defaults where not given)."""
    lo_default, hi_default = NORMAL_BOUNDS if kind == NORMAL else (0.0, math.inf)
    return (lo_default if min_ratio is None else min_ratio,
            hi_default if max_ratio is None else max_ratio)


def shape(kind: int, cv: float) -> tuple[float, float]:
    """The distribution's parameters for a mean of 1 before truncation: ``normal``, its mean
    and standard deviation; ``lognormal``, the mean and standard deviation of its log
    (sigma^2 = ln(1 + cv^2), mu = -sigma^2 / 2)."""
    if kind == NORMAL:
        return 1.0, cv
    s2 = math.log1p(cv * cv)
    return -0.5 * s2, math.sqrt(s2)


def _standardized(kind: int, a: float, b: float, x: float) -> float:
    """Where ratio ``x`` falls on the standard normal of the distribution ``(a, b)``."""
    if kind == LOGNORMAL:
        return (math.log(x) - a) / b if x > 0.0 else -math.inf
    return (x - a) / b


def kept_share(kind: int, cv: float, lo: float, hi: float) -> float:
    """The share of the untruncated distribution within ``lo`` .. ``hi`` (ratios)."""
    a, b = shape(kind, cv)
    return _phi(_standardized(kind, a, b, hi)) - _phi(_standardized(kind, a, b, lo))


def share_above(kind: int, cv: float, lo: float, hi: float, x: float) -> float:
    """The share of the sizes sent (the truncated distribution) above ratio ``x``."""
    if kind == FIXED:
        return 1.0 if x < 1.0 else 0.0
    if x >= hi:
        return 0.0
    if x < lo:
        return 1.0
    a, b = shape(kind, cv)
    return ((_phi(_standardized(kind, a, b, hi)) - _phi(_standardized(kind, a, b, x)))
            / kept_share(kind, cv, lo, hi))


def exceeded_by(kind: int, cv: float, lo: float, hi: float, share: float) -> float:
    """The size (ratio) that ``share`` of the uploads sent exceed (a quantile of the truncated
    distribution; ``hi`` where none does, or far out): bisection of :func:`share_above`, which
    decreases with the size."""
    if kind == FIXED:
        return 1.0
    below, above = max(lo, 1e-12), min(hi, 1e9)
    if share_above(kind, cv, lo, hi, above) >= share:
        return above
    for _ in range(200):
        mid = math.sqrt(below * above)
        if share_above(kind, cv, lo, hi, mid) > share:
            below = mid
        else:
            above = mid
    return above


def largest_ratio(kind: int, cv: float, lo: float, hi: float) -> float:
    """The largest upload (ratio): the size only ``LARGEST_EXCEEDED_BY`` of them exceed, or
    ``hi`` where lower."""
    return exceeded_by(kind, cv, lo, hi, LARGEST_EXCEEDED_BY)


def cv_ratio(kind: int, cv: float, lo: float, hi: float) -> float:
    """The coefficient of variation of the sizes sent (after truncation; ``cv`` before):
    the truncated distribution's second moment, a closed form, against its mean."""
    if kind == FIXED:
        return 0.0
    a, b = shape(kind, cv)
    zl, zh = _standardized(kind, a, b, lo), _standardized(kind, a, b, hi)
    kept = _phi(zh) - _phi(zl)
    mean = mean_ratio(kind, cv, lo, hi)
    if kind == NORMAL:  # sigma^2 (1 + (alpha pdf(alpha) - beta pdf(beta)) / Z - ...^2)
        tl = zl * _pdf(zl) if math.isfinite(zl) else 0.0
        th = zh * _pdf(zh) if math.isfinite(zh) else 0.0
        d = (_pdf(zl) - _pdf(zh)) / kept
        var = b * b * (1.0 + (tl - th) / kept - d * d)
    else:  # E[X^2; lo <= X <= hi] of a lognormal of mean 1: (1 + cv^2), the CDF shifted 2 s
        var = (1.0 + cv * cv) * (_phi(zh - 2.0 * b) - _phi(zl - 2.0 * b)) / kept - mean * mean
    return math.sqrt(max(var, 0.0)) / mean


def mean_ratio(kind: int, cv: float, lo: float, hi: float) -> float:
    """The mean of the truncated distribution over its mean before truncation (1 where the
    bounds are symmetric about it under ``normal``, or ``lognormal`` unbounded)."""
    if kind == FIXED:
        return 1.0
    a, b = shape(kind, cv)
    zl, zh = _standardized(kind, a, b, lo), _standardized(kind, a, b, hi)
    kept = _phi(zh) - _phi(zl)
    if kind == NORMAL:  # mu + sigma (pdf(alpha) - pdf(beta)) / Z
        return a + b * (_pdf(zl) - _pdf(zh)) / kept
    # E[X; lo <= X <= hi] of a lognormal of mean 1: its CDF shifted by sigma
    return (_phi(zh - b) - _phi(zl - b)) / kept


def size_from_uniforms(kind: int, a: float, b: float, u1: float, u2: float) -> float:
    """One draw of the untruncated distribution ``(a, b)`` (:func:`shape`, scaled) from two
    uniforms in (0, 1) (Box-Muller); the kernel compiles it."""
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    if kind == LOGNORMAL:
        return math.exp(a + b * z)
    return a + b * z


def band_shares(answered: list[int], late: list[int]) -> list[float | None]:
    """The late share of each size band (None where none was answered)."""
    return [b / a if a else None for a, b in zip(answered, late, strict=True)]


def late_shares(answered: int, late: int, above: int, late_above: int) -> dict[str, float | None]:
    """A run's summary of sizes that vary: the share of the answered requests whose upload
    (or answer) was larger than the mean that went late (``above`` of them answered,
    ``late_above`` late), and of the others (None where there are none): how much likelier a
    large frame is to miss."""
    other = answered - above
    return {"late_share_above_mean": late_above / above if above else None,
            "late_share_other": (late - late_above) / other if other else None}
