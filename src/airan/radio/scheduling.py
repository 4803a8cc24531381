"""Scheduling metrics: the weights a cell's uplink scheduler ranks its UEs by.

M-LWDF (Modified Largest Weighted Delay First; Andrews, Kumaran, Ramanan, Stolyar, Whiting and
Vijayakumar, "Providing quality of service over a shared wireless link", IEEE Communications
Magazine 39(2), 2001): serve the UE j that maximises a_j W_j r_j / R_j, where W_j is the delay
of its oldest packet (s), r_j its rate now and a_j = -ln(delta_j) / T_j for a QoS target
P(delay > T_j) <= delta_j. R_j is here PF's average served throughput, as LTE's schedulers take
it (Capozzi et al., IEEE Communications Surveys & Tutorials 15(2), 2013), where Andrews et al.
suggest the user's average channel rate. The kernel computes W_j r_j / R_j per slot; this
module gives a_j.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MLWDF_MAX_DELTA", "MLWDF_MIN_DELTA", "mlwdf_delay_weight"]

# the violation probabilities a target sets are kept within [1e-6, 1 - 1e-6]: a target hit
# ratio of 1 would make a_j infinite (capped at ~13.8 / T_j, six nines), one of 0 would make it
# 0, and its UEs would rank by device number alone (now ~1e-6 / T_j: behind every UE with a
# target, in PF order among themselves)
MLWDF_MIN_DELTA = 1e-6
MLWDF_MAX_DELTA = 1.0 - 1e-6


def mlwdf_delay_weight(target_hit_ratio: ArrayLike, deadline_s: ArrayLike) -> NDArray[np.float64]:
    """M-LWDF's a_j = -ln(delta_j) / T_j (1/s), with delta_j = 1 - target_hit_ratio (within
    ``MLWDF_MIN_DELTA`` and ``MLWDF_MAX_DELTA``) and T_j = ``deadline_s``. Shapes broadcast."""
    delta = np.clip(1.0 - np.asarray(target_hit_ratio, dtype=float), MLWDF_MIN_DELTA,
                    MLWDF_MAX_DELTA)
    return -np.log(delta) / np.asarray(deadline_s, dtype=float)
