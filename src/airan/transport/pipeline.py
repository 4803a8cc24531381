"""A message over one transport link, its packets pipelined over the hops.

Every switch forwards a packet once it holds it whole (store and forward per packet), so a
message of many packets is on several links at once: over ``h`` links of one capacity ``C`` a
message of ``n`` packets of ``L`` bits arrives after ``(n + h - 1) L / C`` plus the links'
delays, not ``h n L / C`` as if each hop held the whole message (Kurose & Ross, *Computer
Networking*, ch. 1.4: end-to-end delay of packet switching). With capacities that differ, the
slowest link paces the message and each other link adds one packet's time.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True)
def message_hop(free_s: float, t: float, tail: float, bits: float, packet_bits: float,
                cap_bps: float, delay_s: float) -> tuple[float, float, float, float]:
    """A message of ``bits`` crossing a link of ``cap_bps`` and ``delay_s`` (propagation and
    switching), free from ``free_s``, whose first packet reached the link at ``t`` and last at
    ``tail`` (>= ``t``; both ``t`` where the message starts whole).

    Returns (start, first, last, busy), s: when the link starts sending it (FIFO, once free
    and the first packet is there), when its first and last packets reach the next node, and
    how long the link is busy with it (it is free again at start + busy). The message is
    ceil(bits / ``packet_bits``) packets of equal size (a simplification: a sender's segments
    are full but the last, which changes the arrival by under a packet's time per hop);
    ``packet_bits`` inf, or a message of one packet, is store and forward of the whole
    message (bits / capacity on every link).

    A lone message is exactly the packet-by-packet tandem of its links (the link sends from
    its start at its capacity, and its last packet once that has come). A fast link behind a
    slow one waits for the packets but counts busy for bits / capacity only (other messages'
    packets interleave with them: a fluid view of the link).
    """
    start = free_s if free_s > t else t
    ser = bits / cap_bps
    packet = bits  # its packets' size
    if bits > packet_bits:
        packet = bits / math.ceil(bits / packet_bits)
    end = start + ser
    last = tail + packet / cap_bps
    if last > end:
        end = last
    return start, start + packet / cap_bps + delay_s, end + delay_s, ser
