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

import airan.compiled  # noqa: F401  (numba's cache keyed on the code it imports)


@njit(cache=True)
def message_hop(free_s: float, t: float, tail: float, bits: float, packet_bits: float,
                cap_bps: float, delay_s: float, now: float,
                idle_s: float = -1.0) -> tuple[float, float, float, float]:
    """A message of ``bits`` crossing a link of ``cap_bps`` and ``delay_s`` (propagation and
    switching), free from ``free_s``, whose first packet reached the link at ``t`` and last at
    ``tail`` (>= ``t``; both ``t`` where the message starts whole), booked at ``now``.

    Returns (first, last, free, busy), s: when its first and last packets reach the next node,
    when the link is free again, and how long it is busy with the message (bits / capacity).
    The message is ceil(bits / ``packet_bits``) packets of equal size (the bits they carry:
    no header; a sender's segments are full but the last, which the equal sizes move by under
    a packet's time per hop); ``packet_bits`` inf, or a message of one packet, is store and
    forward of the whole message (bits / capacity on every link).

    The link sends the message first come, first served by first packet: from when it is
    free and the first packet is there, at its capacity, and the last packet once that has
    come. A lone message is thus exactly the packet-by-packet tandem of its links. Under
    contention it is a fluid view: the link counts the message's bits / capacity from its
    start, so a message whose packets trickle in behind a slower link (or the air) holds the
    link for that long although it uses less of it, and its later packets then run past the
    hold without slowing the messages after it (each off by up to the other's serialization).

    A message whose first packet was there before ``now`` (an upload the cell forwarded while
    it was on the air, booked when its last bits came): the packets that came before ``now``
    went on as they came, as far as the link's idle time since ``t`` allowed (``idle_s``, s:
    what the caller knows of it; -1: the time since the link's last booking ended, which
    is idle for sure), the rest queue behind the link's backlog now. The link never carries
    more than its capacity: what it carried for this message it did not carry for others.
    """
    ser = bits / cap_bps
    packet = bits  # its packets' size
    if bits > packet_bits:
        packet = bits / math.ceil(bits / packet_bits)
    if t >= now:
        start = free_s if free_s > t else t
        left = ser
        first = start + packet / cap_bps + delay_s
    else:
        came = bits
        if tail > now:  # its packets come evenly from the first at t to the last at tail
            came = packet + (bits - packet) * ((now - t) / (tail - t))
        if idle_s < 0.0:  # idle for sure: since its last booking ended (or since t)
            idle_s = now - (free_s if free_s > t else t)
            if idle_s < 0.0:
                idle_s = 0.0
        carried = cap_bps * idle_s
        if carried > came:
            carried = came
        start = free_s if free_s > now else now
        left = (bits - carried) / cap_bps
        first = t + packet / cap_bps + delay_s
    end = start + left
    last = tail + packet / cap_bps
    if last > end:
        end = last
    return first, end + delay_s, start + left, ser


@njit(cache=True)
def first_packet_s(bits: float, packet_bits: float, air_start_s: float, air_end_s: float) -> float:
    """When the first packet of an upload is at its cell, its bits having come over the air
    evenly from ``air_start_s`` to ``air_end_s`` (s: its first slot's end, when the cell has
    decoded its first transport block, to its last's; a HARQ resend or a handover's silence
    makes them come less evenly, which this leaves out): the gNB forwards each packet once
    it holds it (PDCP/GTP-U per IP packet), so the backhaul carries an upload while the UE
    still sends it. One packet (or ``packet_bits`` inf): the whole upload, at
    ``air_end_s``."""
    if bits <= packet_bits or not air_end_s > air_start_s:
        return air_end_s
    return air_start_s + (air_end_s - air_start_s) / math.ceil(bits / packet_bits)


@njit(cache=True)
def after_upload_s(bits: float, air_s: float, packet_bits: float, rate_bps: float) -> float:
    """The serialization at a path's slowest link (``rate_bps``) still ahead once an upload's
    last bits reach its cell, its packets forwarded as they came over the air in ``air_s``
    (:func:`first_packet_s`): the message's bits / rate less the air time after its first
    packet, at least one packet's (s). ``air_s`` 0: bits / rate."""
    n = 1.0
    if bits > packet_bits:
        n = math.ceil(bits / packet_bits)
    left = bits / rate_bps - air_s * (1.0 - 1.0 / n)
    one = bits / n / rate_bps
    return left if left > one else one
