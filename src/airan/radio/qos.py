"""Standardized 5QIs: the QoS characteristics a 5G QoS flow's 5QI stands for.

TS 23.501 Table 5.7.4-1 (its Rel-15 rows; Rel-16's live uplink streaming, 71-74 and 76,
and V2X's 86; Rel-17's satellite 10 and the XR rows 87-90): for each standardized 5QI
its resource type (GBR, non-GBR, delay-critical GBR), default priority level (1 first .. 127;
5.7.3.3) and packet delay budget (ms; 5.7.3.4). A flow may be given another priority level
than its 5QI's default (5.7.3.3): a scenario's ``qos_priority_level``. A device with no flow of
its own rides the default bearer's 5QI 9 (best effort, priority level 90).

The cells' schedulers weigh devices by the priority level (airan.radio.scheduling
``qos_priority_weight``); the packet delay budget, the resource type and a delay-critical GBR
5QI's maximum data burst volume are given for reference (validate shows them, and warns where
a service's uploads or answers exceed the burst volume) and do not act on the scheduler here.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["DEFAULT_5QI", "STANDARDIZED_5QI", "FiveQi", "priority_level"]


class FiveQi(NamedTuple):
    """One standardized 5QI's characteristics (TS 23.501 Table 5.7.4-1)."""

    resource_type: Literal["GBR", "non-GBR", "delay-critical GBR"]
    priority_level: int  # 1 first
    delay_budget_ms: float  # packet delay budget, UE to UPF
    example: str  # the table's example services, shortened
    max_burst_bytes: int | None = None  # maximum data burst volume (delay-critical GBR only)


STANDARDIZED_5QI: dict[int, FiveQi] = {
    1: FiveQi("GBR", 20, 100, "conversational voice"),
    2: FiveQi("GBR", 40, 150, "conversational video (live streaming)"),
    3: FiveQi("GBR", 30, 50, "real-time gaming, V2X messages, process automation monitoring"),
    4: FiveQi("GBR", 50, 300, "non-conversational video (buffered streaming)"),
    65: FiveQi("GBR", 7, 75, "mission-critical push-to-talk voice"),
    66: FiveQi("GBR", 20, 100, "non-mission-critical push-to-talk voice"),
    67: FiveQi("GBR", 15, 100, "mission-critical video user plane"),
    # "live" uplink streaming (TS 26.238): a camera's or a scanner's upload (a hospital
    # planner's review: its carts' images and its cameras had no 5QI of their own)
    71: FiveQi("GBR", 56, 150, "live uplink streaming (packet error rate 1e-6)"),
    72: FiveQi("GBR", 56, 300, "live uplink streaming (packet error rate 1e-4)"),
    73: FiveQi("GBR", 56, 300, "live uplink streaming (packet error rate 1e-8)"),
    74: FiveQi("GBR", 56, 500, "live uplink streaming (packet error rate 1e-8)"),
    76: FiveQi("GBR", 56, 500, "live uplink streaming (packet error rate 1e-4)"),
    5: FiveQi("non-GBR", 10, 100, "IMS signalling"),
    6: FiveQi("non-GBR", 60, 300, "video (buffered streaming), TCP-based"),
    7: FiveQi("non-GBR", 70, 100, "voice, video (live streaming), interactive gaming"),
    8: FiveQi("non-GBR", 80, 300, "video (buffered streaming), TCP-based"),
    9: FiveQi("non-GBR", 90, 300, "default bearer: video, TCP-based (best effort)"),
    10: FiveQi("non-GBR", 90, 1100, "video, TCP-based, over satellite access"),
    69: FiveQi("non-GBR", 5, 60, "mission-critical delay-sensitive signalling"),
    70: FiveQi("non-GBR", 55, 200, "mission-critical data"),
    79: FiveQi("non-GBR", 65, 50, "V2X messages"),
    80: FiveQi("non-GBR", 68, 10, "low-latency eMBB applications, augmented reality"),
    82: FiveQi("delay-critical GBR", 19, 10, "discrete automation", 255),
    83: FiveQi("delay-critical GBR", 22, 10, "discrete automation, V2X platooning", 1354),
    84: FiveQi("delay-critical GBR", 24, 30, "intelligent transport systems", 1354),
    85: FiveQi("delay-critical GBR", 21, 5, "electricity distribution, high voltage", 255),
    86: FiveQi("delay-critical GBR", 18, 5, "V2X collision avoidance, high-automation platooning",
               1354),
    # XR (TS 26.928): an XR device's pose and controls up, the rendered frames down
    87: FiveQi("delay-critical GBR", 25, 5, "interactive service: motion tracking data", 500),
    88: FiveQi("delay-critical GBR", 25, 10, "interactive service: motion tracking data", 1125),
    89: FiveQi("delay-critical GBR", 25, 15, "visual content for cloud, edge or split rendering",
               17000),
    90: FiveQi("delay-critical GBR", 25, 20, "visual content for cloud, edge or split rendering",
               63000),
}
DEFAULT_5QI = 9  # the default bearer's


def priority_level(five_qi: int | None, level: int | None) -> int:
    """A flow's priority level (1 first): ``level`` where given, else its 5QI's default
    (``DEFAULT_5QI``'s where neither is given). TS 23.501 5.7.3.3."""
    if level is not None:
        return level
    return STANDARDIZED_5QI[DEFAULT_5QI if five_qi is None else five_qi].priority_level
