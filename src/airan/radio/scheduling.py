"""Scheduling metrics: the weights a cell's uplink scheduler ranks its UEs by.

M-LWDF (Modified Largest Weighted Delay First; Andrews, Kumaran, Ramanan, Stolyar, Whiting and
Vijayakumar, "Providing quality of service over a shared wireless link", IEEE Communications
Magazine 39(2), 2001): serve the UE j that maximises a_j W_j r_j / R_j, where W_j is the delay
of its oldest packet (s), r_j its rate now and a_j = -ln(delta_j) / T_j for a QoS target
P(delay > T_j) <= delta_j. R_j is here PF's average served throughput, as LTE's schedulers take
it (Capozzi et al., IEEE Communications Surveys & Tutorials 15(2), 2013), where Andrews et al.
suggest the user's average channel rate. The kernel computes W_j r_j / R_j per slot; this
module gives a_j.

QoS priority between devices: each scheduler weighs a UE by its flow's 5QI priority level P
(airan.radio.qos), 100 - P, as the QoS scheduler of CTTC's 5G-LENA (ns-3 nr module,
NrMacSchedulerOfdmaQos, 2022) does: its metric is (100 - P) times the PF metric. ``pf`` and
``mlwdf`` multiply their metric by it; ``rr`` (and every downlink) gives each UE a share of the
PRBs in proportion to it (weighted fair sharing, Parekh and Gallager's GPS), where it gave equal
shares. P is the priority of the request at the head of the UE's buffer (the one its grant
carries first), where 5G-LENA takes the best among the UE's logical channels with data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MLWDF_MAX_DELTA", "MLWDF_MIN_DELTA", "QOS_LEVELS", "mlwdf_delay_weight",
           "qos_priority_weight"]

QOS_LEVELS = 99  # priority levels the weight 100 - P takes (every standardized 5QI's is <= 90)

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


def qos_priority_weight(priority_level: ArrayLike) -> NDArray[np.float64]:
    """The scheduler's weight of a flow of 5QI priority level P (1 first .. ``QOS_LEVELS``):
    100 - P, 5G-LENA's QoS scheduler's (the module's docstring). Shapes broadcast."""
    p = np.asarray(priority_level, dtype=float)
    if np.any((p < 1) | (p > QOS_LEVELS)):
        raise ValueError(f"priority levels are 1..{QOS_LEVELS}")
    return 100.0 - p
