"""Order-independent random draws: uniform numbers from a hash of a key and a seed.

The waves of the shadowing and LOS-state fields come from ``hash_u01(key, seed)`` rather than
a random stream, so they do not depend on the order in which devices, sites or cells are
computed (splitmix64, Steele et al., OOPSLA 2014).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def hash_u01(keys: NDArray[np.uint64], seed: np.uint64) -> NDArray[np.float64]:
    """splitmix64 of (key, seed): uniform doubles in (0, 1), order-independent."""
    with np.errstate(over="ignore"):
        z = keys * np.uint64(0x9E3779B97F4A7C15) + seed
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)
