"""Each device's own random draws: uniforms keyed by (device, counter, kind).

A mobility model that draws from one stream in event order hands device i's draws to whichever
device needs one next, so a fleet one device larger moves every device. Keyed draws give device
i its k-th leg's numbers whatever the fleet's size and whatever the other devices did: counts
compared (``--fleet-scale``, max-fleet's bisection) move the same devices the same way (common
random numbers). Counter-based like Random123 (Salmon et al., SC 2011), on splitmix64's mixer.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airan.radio.hashing import hash_u01

__all__ = ["DeviceDraws"]

_DEVICE_SHIFT = np.uint64(32)  # device index: the key's upper 32 bits
_COUNTER_SHIFT = np.uint64(8)  # counter (a leg, a block, an attempt): the next 24
_COUNTER_MASK = np.uint64((1 << 24) - 1)  # (a device past 2^24 legs reuses its first ones')
_MAX_KIND = 1 << 8  # kind (which of a step's numbers): the lowest 8


class DeviceDraws:
    """Uniform doubles in (0, 1) for (device, counter, kind) triples, vectorized over devices.

    ``seed``: the fleet's (one draw of its mobility stream). Device indices are the fleet's own
    (0 .. n - 1), so the first ``n`` devices of a larger fleet draw what a fleet of ``n`` draws.
    """

    def __init__(self, seed: int) -> None:
        self.seed = np.uint64(seed)

    @classmethod
    def from_rng(cls, rng: np.random.Generator) -> DeviceDraws:
        """Keyed draws seeded by one draw of ``rng`` (a fleet's mobility stream)."""
        return cls(int(rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64)))

    def u(
        self, devices: NDArray[np.int64], counter: NDArray[np.int64] | int, kind: int
    ) -> NDArray[np.float64]:
        """One uniform per device in ``devices`` (shape (m,)), at its ``counter`` (scalar or
        (m,), >= 0; taken modulo 2^24: a device past 16.7 million legs, which only a tiny area
        over days reaches, draws its first legs' numbers again rather than failing the run),
        for the draw ``kind`` (0 .. 255, a programming constant)."""
        if not 0 <= kind < _MAX_KIND:
            raise ValueError(f"kind {kind} outside 0..{_MAX_KIND - 1}")
        c = np.asarray(counter, dtype=np.int64).astype(np.uint64) & _COUNTER_MASK
        keys = ((np.asarray(devices, dtype=np.uint64) << _DEVICE_SHIFT)
                | (c << _COUNTER_SHIFT) | np.uint64(kind))
        return hash_u01(np.atleast_1d(keys), self.seed)
