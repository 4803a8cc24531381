"""The engine's hot loop, compiled with numba: one call advances every slot of a decision interval.

State is a structure of arrays (see :mod:`airan.engine.state`). Per slot the work is proportional to
what is in flight: UEs with data in their buffers, events that fall due (a binary heap keyed by
time), and compute sites with queued work. Slots with nothing to do are skipped. The air interface
shares each slot's PRBs as a fluid among the UEs with data, and a request's air leg ends at the
end of the slot that carries its last bits; queues at the GPUs and on the transport links are
served in continuous time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

import airan.scenario.payload as payload  # (not the package: its loader, ~50 files)
from airan.compiled import borrow, prefetch
from airan.compute import roofline
from airan.metrics.histogram import (  # noqa: F401  (HIST_GAMMA re-exported)
    HIST_BUCKETS,
    HIST_GAMMA,
    HIST_LOG_GAMMA,
    HIST_MIN_S,
)
from airan.radio import drx, nr
from airan.transport.pipeline import first_packet_s, message_hop

# request float columns
T_CREATE, T_UL_START, T_UL_DONE, T_SITE, T_CSTART, T_CEND, T_DLARR, T_DONE, REM_BITS = range(9)
# the time (s) it spent at compute sites (or GPUs) that failed with it there (queued, computing,
# or held while the failure was unnoticed), from its arrival at each to its new placement: a
# part of its uplink transport (T_SITE - T_UL_DONE), told apart for the late ones
# (SUM_LATE_FAILED); not an upload whose cell lost its path to the site (no site failed)
T_FAILED = 9
N_RQ_F = 10
# request int columns
# I_CELL: the device's cell when the request was created, then when it last set off over the
# transport (the start of its path); I_GPU: the GPU computing it; I_HOP (the same column, free
# outside the GPU) while in transit: the next link of its path to reserve (0: none left)
I_DEV, I_SVC, I_PLACE, I_STAGE, I_NEXT, I_SEQ, I_CELL, I_GPU = range(8)
# the policies' wait behind later requests of a higher compute_priority: their load counted at
# most this (an assumption: the load is estimated over ~50 ms, and a burst read at 1 or more
# would read as a wait without end)
MAX_HIGHER_LOAD = 0.95
I_HOP = I_GPU
N_RQ_I = 8
# I_HOP of a message that was between two nodes of its path when a link fault rerouted: it goes
# on over the rest of its old path, kept in rq_path[r] (see flush_transit), from link k there
# when I_HOP = HOP_OWN - k
HOP_OWN = -1
# I_NEXT of a request that waited at its site for its service's context to arrive (it is in no
# list then): when its wait ends it is served there, the context not moved again (another
# request of its device may have taken it on since: it moves once per request, not to and fro)
CTX_WAITED = -3
# a message reserves at once the links its first packet reaches within this of the moment it is
# handled, and beyond moves hop by hop (an event at each node): each link serves messages in the
# order they reach it, to within this (well below a slot, and with no event for short paths)
TRANSIT_AHEAD_S = 1e-4
# stages
# ST_ORPHAN: held by a failed site, waiting for the engine to re-dispatch it through the policy
# ST_HELD: an orphan of a site that failed unnoticed (``site_up`` -1: a site_down's detect_ms):
# still on its way there as the gateway counts it (site_en_route), re-dispatched once noticed
# ST_AIR: an answer whose delivery over the air is an event of its own (the ideal and fixed
# radios', a block sent again by HARQ): delivered then, or where the device's link is held
# then (ue_dl_hold: a handover, a radio link failure since), when it is back
ST_FREE, ST_UL, ST_UP, ST_QUEUE, ST_COMP, ST_DOWN, ST_DL, ST_FINISH, ST_ORPHAN, ST_AIR, \
    ST_HELD = range(11)
# counters
# C_ACT_UL_SORTED, C_ACT_DL_SORTED: how many of the active UEs at the front of ``act_ul``,
# ``act_dl`` are in device order (the schedulers keep them so; new ones are appended)
# C_ULQ_N: uplink completions of the current slot waiting in the ulq_* arrays (see serve_ul)
# C_WORK_UL, C_WORK_DL, C_WORK_EVENTS: the work done so far, for benchmarks (exact where wall
# time is noisy): UEs the uplink and downlink schedulers visited (summed over slots) and events
# C_SAMP_EVERY, C_SAMP_NEXT, C_SAMP_N: load samples taken by the kernel (see _take_samples):
# every how many slots (0: the engine takes them), the next slot due, how many rows of ``samp``
# C_DLQ_HEAD, C_DLQ_N: the UEs whose first answer waits to become schedulable (``dlq_d``, a
# ring in arrival order; see dl_arrive)
C_FREE_TOP, C_HEAP_N, C_ACT_UL, C_ACT_DL, C_SEQ, C_TR_N, C_TR_LOST, C_SLOT, C_QUEUED, \
    C_IN_FLIGHT, C_ARR_POS, C_FH_N, C_TOUCHED, C_NSLOT_UL, C_NSLOT_DL, C_PUSHES, \
    C_ORPHANS, C_ACT_UL_SORTED, C_ACT_DL_SORTED, C_ULQ_N, C_WORK_UL, C_WORK_DL, \
    C_WORK_EVENTS, C_HEAP_COMPACTIONS, C_STALE, C_SAMP_EVERY, C_SAMP_NEXT, C_SAMP_N, \
    C_DLQ_HEAD, C_DLQ_N = range(30)
N_CTR = 30
# float scalars
# F_BACKGROUND_DL, _UL: PRB utilization of every cell by traffic other than the simulated
# devices', on each direction's slots
# F_WARMUP: requests created before this time (s) are the warm-up's: counted apart (warm_cnt,
# warm_drop), in no figure of the run (Engine.warmup_s)
F_MEAN_LOAD_DL, F_MEAN_LOAD_UL, F_BACKGROUND_DL, F_BACKGROUND_UL, F_WARMUP = range(5)
N_FS = 5
# drop reasons (index into agg_drop); keep in sync with engine.REASONS. numpy integers, not
# Python ones: numba compiles a function called with a Python int constant once per value
# (drop, once per reason: ten compiles, 4 s of the first), and a numpy one once for them all
N_REASONS = 10
R_ADMISSION, R_BUFFER_FULL, R_QUEUE_FULL, R_LINK_FULL, R_RADIO_OUTAGE, R_NO_ROUTE, \
    R_SITE_FAILURE, R_SUPERSEDED, R_DEVICE_QUEUE_FULL, R_NOT_ON_DEVICE = np.arange(N_REASONS,
                                                                                dtype=np.int64)
PLACE_NO_ROUTE = -3  # the engine marks a placement at a site the cell cannot reach
# the engine marks a built-in policy's rejection while every site it may use is down (a fault),
# and a policy may answer it (airan.policy.NO_SITE): dropped site_failure, placement "rejected"
PLACE_NO_SITE = -4
# aggregate count columns
A_CREATED, A_MET, A_LATE, A_DROPPED = range(4)
# aggregate sums: 7 breakdown components then end-to-end latency (SUM_LATENCY); then the late
# requests' 7 components (from SUM_LATE), the queue and compute of those that ran on their
# device (SUM_LATE_DEVICE_QUEUE, SUM_LATE_DEVICE_COMPUTE) and how many did (SUM_LATE_ON_DEVICE)
SUM_LATENCY = 7
SUM_LATE = 8
SUM_LATE_DEVICE_QUEUE, SUM_LATE_DEVICE_COMPUTE, SUM_LATE_ON_DEVICE = 15, 16, 17
SUM_LATE_FAILED = 18  # of the late ones' uplink transport, the time at failed sites (T_FAILED)
# where a service's uploads vary in size (ul_kb_spread), their bits: of the requests answered,
# of the late ones, of the dropped ones (which sizes went late, or were dropped)
SUM_UL_BITS, SUM_LATE_UL_BITS, SUM_DROPPED_UL_BITS = 19, 20, 21
# and how many of the answered ones, and of the late ones, were larger than the mean upload
# (how much likelier a large frame is to miss)
SUM_ABOVE_MEAN, SUM_LATE_ABOVE_MEAN = 22, 23
# the same of the answers where their sizes vary (dl_kb_spread): the bits of the answered
# and of the late ones, and how many of each were larger than the mean answer, of those sent
# down from a site (an answer lost on the way has no size of its own worth counting: the
# drop may come before it exists; one made on its device crossed no link)
SUM_DL_BITS, SUM_LATE_DL_BITS, SUM_DL_ABOVE_MEAN, SUM_LATE_DL_ABOVE_MEAN = 24, 25, 26, 27
# and by the quartile of the sizes sent its size falls in (World.svc_ul_quart, svc_dl_quart):
# four counts each of the answered and of the late ones, of the uploads then of the answers
SUM_UL_BAND, SUM_LATE_UL_BAND, SUM_DL_BAND, SUM_LATE_DL_BAND = 28, 32, 36, 40
N_SUMS = 44
# outcome codes in the trace: 0 met, 1 late, 2 + reason dropped
OUT_MET, OUT_LATE, OUT_DROP0 = 0, 1, 2
OUT_IN_FLIGHT = OUT_DROP0 + N_REASONS  # in the trace only: still under way at the end
# a device's link interruptions (world.hold_link), kept where a run moves devices or has
# faults: the last HOLD_RING of them per device, each (start, end) in ``dev_hold`` and its
# cause in ``dev_hold_cause`` (0: an empty entry); a request whose radio legs overlap one is
# counted by that cause and outcome (``agg_held`` [groups, causes, met / late / dropped]);
# keep in sync with world.HOLD_CAUSES
HOLD_NONE, HOLD_HANDOVER, HOLD_OUT_OF_SYNC, HOLD_LINK_FAILURE, HOLD_CELL_FAULT = range(5)
N_HOLD_CAUSES = 5
HOLD_RING = 4
# latency histogram: log buckets (airan.metrics.histogram owns the layout)
# slot types
SLOT_D, SLOT_S, SLOT_U, SLOT_BOTH = 0, 1, 2, 3
S_SLOT_DL_FRACTION = nr.S_SLOT_DL_FRACTION  # special slot 10:2:2, DL data only
SE_MAX = 7.4063  # TS 38.214 Table 5.1.3.1-2, MCS 27 (256QAM)
SE_ATT = 0.75  # attenuated Shannon (Mogensen et al., VTC 2007)
SE_GAP = 1.25
SE_REFRESH_SLOTS = 20
# a UE's SINR in each direction is re-evaluated at most every SE_REFRESH_SLOTS slots, when used
# (cell loads are EWMAs; see refresh_ul, refresh_dl)
PF_MAX_UES = 8  # UEs a PF scheduler serves per UL slot and cell (PDCCH-limited; assumption)
PREFETCH_AHEAD = 8  # items ahead that the schedulers' loops prefetch (see prefetch)
# the event loop prefetches only where the state outgrows the caches: more requests in the pool
# or more devices than this (in a small scenario every read hits the caches anyway)
PREFETCH_MIN_ITEMS = 1 << 15
EPS = 1e-12
FADE_SEED_MIX = 0x2545F4914F6CDD1D  # fading draws: a stream apart from trace sampling
SIZE_SEED_MIX = 0x3C6EF372FE94F82B  # upload sizes (ul_kb_spread): another stream apart
DL_SIZE_SEED_MIX = 0x1F83D9ABFB41BD6B  # answer sizes (dl_kb_spread): one more
# a size outside its bounds is drawn again, at most this often (the bounds keep at
# least payload.MIN_KEPT of the distribution: all fail with a chance under 1e-40), each try
# from two hashes of the request's number
MAX_SIZE_DRAWS = 10_000
SIZE_KEYS_PER_REQUEST = 32_768  # >= 2 x MAX_SIZE_DRAWS


# ---------------------------------------------------------------------------------------------
# small helpers


@njit(cache=True)
def rand_u01(rng):
    """splitmix64: a uniform double in [0, 1); the state lives in ``rng[0]``."""
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def hash_u01(seq, seed):
    """A uniform double from (seq, seed), independent of the order of events (for sampling)."""
    z = np.uint64(seq) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def rayleigh_fade(seq, seed, n_branch):
    """Power gain of Rayleigh fading combined over ``n_branch`` independent receive antennas
    (maximum-ratio combining): the mean of ``n_branch`` unit exponentials, Gamma(n, 1/n) with
    mean 1, drawn from uniforms ``seq`` .. ``seq + n_branch - 1`` as the log of their product."""
    u = 1.0 - hash_u01(seq, seed)
    for b in range(1, n_branch):
        u *= 1.0 - hash_u01(seq + b, seed)
    return -math.log(max(u, 1e-300)) / n_branch  # (a product below 1e-300: ~80 sd at n = 64)


@njit(cache=True)
def rand_normal(rng):
    u1 = rand_u01(rng)
    u2 = rand_u01(rng)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


_size_from_uniforms = njit(cache=True)(payload.size_from_uniforms)


@njit(cache=True)
def ul_bits_of(W, v, seq):
    """The size (bits) of the upload of request number ``seq``, of service ``v``: the
    service's own where fixed, else a draw of its truncated distribution
    (:mod:`airan.scenario.payload`) from hashes of ``seq`` and the seed: the same wherever it
    is asked for, and independent of the order of events."""
    kind = W.svc_ul_spread[v]
    if kind == payload.FIXED:
        return W.svc_ul_bits[v]
    return _drawn_bits(kind, W.svc_ul_par[v], W.seed ^ SIZE_SEED_MIX, seq)


@njit(cache=True)
def dl_bits_of(W, v, seq):
    """The size (bits) of the answer to request number ``seq``, of service ``v``: as
    :func:`ul_bits_of`, from a stream of its own (a request's answer size does not follow its
    upload's)."""
    kind = W.svc_dl_spread[v]
    if kind == payload.FIXED:
        return W.svc_dl_bits[v]
    return _drawn_bits(kind, W.svc_dl_par[v], W.seed ^ DL_SIZE_SEED_MIX, seq)


@njit(cache=True)
def size_band(edges, bits):
    """The band (0 .. 3) of a size of ``bits`` among its sizes' quartiles ``edges``."""
    return int(bits > edges[0]) + int(bits > edges[1]) + int(bits > edges[2])


@njit(cache=True)
def _drawn_bits(kind, par, key, seq):
    """A size (bits) of the truncated distribution ``kind`` with parameters and bounds
    ``par`` (``World.svc_ul_par``'s row), drawn for request number ``seq`` from hashes of it
    keyed ``key``: each draw outside the bounds is drawn again."""
    a = par[0]
    b = par[1]
    lo = par[2]
    hi = par[3]
    x = a
    for k in range(MAX_SIZE_DRAWS):
        n = seq * SIZE_KEYS_PER_REQUEST + 2 * k
        x = _size_from_uniforms(kind, a, b, 1.0 - hash_u01(n, key), hash_u01(n + 1, key))
        if lo <= x <= hi:
            return x
    return min(max(x, lo), hi)


@njit(cache=True)
def spectral_eff(sinr, min_sinr):
    """Attenuated Shannon capped at 7.4063 bit/s/Hz; zero below ``min_sinr`` (linear)."""
    if sinr < min_sinr:
        return 0.0
    se = SE_ATT * math.log2(1.0 + sinr / SE_GAP)
    return se if se < SE_MAX else SE_MAX


_unit_factor = njit(cache=True)(roofline.service_factor)


@njit(cache=True)
def service_factor(kind, p1, p2, rng):
    """A unit-mean random factor for a batch's service time (see compute.roofline)."""
    if kind == roofline.DIST_DETERMINISTIC:
        return 1.0
    z = rand_normal(rng) if kind == roofline.DIST_LOGNORMAL else 0.0
    return _unit_factor(kind, p1, p2, rand_u01(rng), z)


# ---------------------------------------------------------------------------------------------
# binary min-heap of (time, id)


@njit(cache=True)
def push_event(S, t, r):
    """Schedule request ``r`` (or a site timer, r < 0) at time ``t``.

    The event heap is ordered by time, and equal times by push order (FIFO), so that a run is
    the same whatever the heap's internal layout.
    """
    ht, hi, hs = S.heap_t, S.heap_r, S.heap_s
    seq = S.ctr[C_PUSHES]
    S.ctr[C_PUSHES] = seq + 1
    i = S.ctr[C_HEAP_N]
    S.ctr[C_HEAP_N] = i + 1
    while i > 0:  # move the hole up past every later parent, then fill it
        p = (i - 1) >> 1
        if ht[p] < t or (ht[p] == t and hs[p] < seq):
            break
        ht[i] = ht[p]
        hi[i] = hi[p]
        hs[i] = hs[p]
        i = p
    ht[i] = t
    hi[i] = r
    hs[i] = seq


@njit(cache=True)
def _compact_heap(S):
    """Remove the superseded events from the heap (a site timer whose time is no longer its
    ``site_wake``, a GPU's batch end whose time is no longer its ``gpu_ev_t``) and restore the
    heap order (time, push order). The heap holds one event per request and one timer per site
    and per GPU, and room beyond for superseded ones, which wait there until their time; a
    timer or batch end that would supersede one more than that room compacts it first
    (:func:`_supersede_timer`; rarely: when batches on a GPU that runs several change many
    times within a long one)."""
    ht, hi, hs = S.heap_t, S.heap_r, S.heap_s
    n_sites = S.site_wake.shape[0]
    k = 0
    for i in range(S.ctr[C_HEAP_N]):
        r = hi[i]
        if r < 0:
            x = -r - 1
            if x < n_sites:
                if ht[i] != S.site_wake[x]:
                    continue
            elif ht[i] != S.gpu_ev_t[x - n_sites]:
                continue
        ht[k] = ht[i]
        hi[k] = r
        hs[k] = hs[i]
        k += 1
    S.ctr[C_HEAP_N] = k
    S.ctr[C_HEAP_COMPACTIONS] += 1
    S.ctr[C_STALE] = 0
    # heap order: sorted by (time, push order) is a valid heap (compaction is rare: a sort)
    by_seq = np.argsort(hs[:k])
    order = by_seq[np.argsort(ht[:k][by_seq], kind="mergesort")]
    ht[:k] = ht[:k][order]
    hi[:k] = hi[:k][order]
    hs[:k] = hs[:k][order]
    if k >= ht.shape[0]:
        raise RuntimeError("event heap full (more live events than requests and timers)")


@njit(cache=True)
def _supersede_timer(S):
    """A site timer or a GPU's batch end is about to be superseded (it stays in the heap until
    its time): count it, and compact the heap when the room for such events is used up (the
    heap holds one event per request, per site and per GPU besides)."""
    room = S.heap_t.shape[0] - S.rq_i.shape[0] - S.site_wake.shape[0] - S.gpu_ev_t.shape[0]
    if S.ctr[C_STALE] >= room - 1:
        _compact_heap(S)
    S.ctr[C_STALE] += 1


@njit(cache=True)
def pop_event(S):
    """Remove the earliest event (read ``heap_t[0]``, ``heap_r[0]`` before)."""
    ht, hi, hs = S.heap_t, S.heap_r, S.heap_s
    n = S.ctr[C_HEAP_N] - 1
    S.ctr[C_HEAP_N] = n
    t = ht[n]  # the last entry sinks from the root: move the hole down past earlier children
    r = hi[n]
    seq = hs[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        g = 2 * c + 1  # the grandchildren, which the next level compares: fetch them now
        prefetch(ht, g)
        prefetch(hs, g)
        prefetch(ht, g + 3)
        prefetch(hs, g + 3)
        tc = ht[c]
        sc = hs[c]
        b = c + 1
        if b < n:
            tb = ht[b]
            sb = hs[b]
            if tb < tc or (tb == tc and sb < sc):
                c = b
                tc = tb
                sc = sb
        if t < tc or (t == tc and seq < sc):
            break
        ht[i] = tc
        hi[i] = hi[c]
        hs[i] = sc
        i = c
    ht[i] = t
    hi[i] = r
    hs[i] = seq


@njit(cache=True)
def heap_replace_top(ht, hi, n, t, r):
    """Replace the top of a binary min-heap of times ``ht[:n]`` (ids ``hi``) by (t, r).

    The flow heap: equal times (rare, but metro meets one within a minute) leave in the order
    this layout gives them, so the layout is part of the arrival process. (A 4-ary heap pops
    ~1.6x faster at 10^5 flows but draws a different, equally valid stream after a tie.)
    """
    ht[0] = t
    hi[0] = r
    i = 0
    while True:
        a = 2 * i + 1
        if a >= n:
            break
        prefetch(ht, 2 * a + 1)  # the grandchildren, which the next level compares
        prefetch(ht, 2 * a + 4)
        b = a + 1
        c = b if (b < n and ht[b] < ht[a]) else a
        if ht[i] <= ht[c]:
            break
        ht[c], ht[i] = ht[i], ht[c]
        hi[c], hi[i] = hi[i], hi[c]
        i = c


# ---------------------------------------------------------------------------------------------
# arrivals


@njit(cache=True)
def _gen_arrivals(W, S, t_end, out_t, out_f):
    """Pop every flow whose next request is due before ``t_end``; returns the count written.

    Stops early when ``out_t`` is full (the caller then calls again with a larger buffer).
    """
    n = 0
    cap = out_t.shape[0]
    fh_t = S.fh_t
    fh_f = S.fh_f
    nf = S.ctr[C_FH_N]
    f_period = W.flow_period_s
    f_poisson = W.flow_poisson
    f_jitter = W.flow_jitter_s
    f_phase = W.flow_phase_s
    flow_k = S.flow_k
    rng = S.rng_arr
    while nf > 0 and fh_t[0] < t_end and n < cap:
        t = fh_t[0]
        f = fh_f[0]
        out_t[n] = t
        out_f[n] = f
        n += 1
        period = f_period[f]
        if f_poisson[f]:
            nxt = t - period * math.log(1.0 - rand_u01(rng))
        else:
            flow_k[f] += 1
            jitter = f_jitter[f] * rand_u01(rng)
            nxt = f_phase[f] + flow_k[f] * period + jitter
            if nxt < t:
                nxt = t
        heap_replace_top(fh_t, fh_f, nf, nxt, f)
        g = fh_f[0]  # the next flow: fetch its parameters while this loop closes
        prefetch(f_period, g)
        prefetch(f_poisson, g)
        prefetch(f_jitter, g)
        prefetch(f_phase, g)
        prefetch(flow_k, g)
    return n


# ---------------------------------------------------------------------------------------------
# outcomes


@njit(cache=True)
def _traced(W, seq):
    """Whether request number ``seq`` is in the trace: every one up to the limit, then a
    seeded uniform sample."""
    return seq < W.trace_limit or hash_u01(seq, W.seed) < W.trace_sample


@njit(cache=True)
def _overlap(a0, a1, b0, b1):
    """How long the intervals [a0, a1] and [b0, b1] share (s; 0 where apart)."""
    return max(0.0, min(a1, b1) - max(a0, b0))


@njit(cache=True)
def held_cause(S, d, f, t_end):
    """The cause (HOLD_*) of the link interruption of device ``d`` that overlapped the radio
    legs of a request with stage times ``f`` the longest: its uplink, from its creation to
    the end of its upload, and its downlink, from its answer's arrival at the cell, each up
    to ``t_end`` where not reached; else the one it was created in (a request with no time on
    the radio: dropped at its creation, or kept on its device); HOLD_NONE where none (or
    none is kept)."""
    if S.dev_hold.shape[0] == 0:
        return HOLD_NONE
    t0 = f[T_CREATE]
    u1 = f[T_UL_DONE]
    if not u1 <= t_end:  # (NaN: still uploading, or dropped on the way)
        u1 = t_end
    d0 = f[T_DLARR]
    best = HOLD_NONE
    longest = 0.0
    start = -np.inf
    for k in range(HOLD_RING):
        c = S.dev_hold_cause[d, k]
        if c == HOLD_NONE:
            continue
        h0 = S.dev_hold[d, 2 * k]
        h1 = S.dev_hold[d, 2 * k + 1]
        o = _overlap(t0, u1, h0, h1)
        if d0 <= t_end:  # (its answer at the cell: the downlink leg)
            o += _overlap(d0, t_end, h0, h1)
        # the longest; of equals, the later (a handover out of a silence: the handover)
        if o > longest or (o > 0.0 and o == longest and h0 > start):
            longest = o
            best = c
            start = h0
    if best == HOLD_NONE:  # no time on the radio in one: created during one (dropped at once,
        for k in range(HOLD_RING):  # its buffer full, or kept on its device: an AGV
            c = S.dev_hold_cause[d, k]  # integrator's review, 457 buffer_full drops uncounted)
            h0 = S.dev_hold[d, 2 * k]
            if c != HOLD_NONE and h0 <= t0 < S.dev_hold[d, 2 * k + 1] and h0 > start:
                best = c
                start = h0
    return best


@njit(cache=True)
def _trace_row(S, r, outcome, f, tr_f, tr_i, n, cause=0):
    """Row ``n`` of a trace (``tr_f``, ``tr_i``): request ``r`` with its stage times ``f``
    and the cause of a link interruption its radio legs met (``cause``, HOLD_*)."""
    tr_f[n, 0] = f[T_CREATE]
    tr_f[n, 1] = f[T_UL_START] - f[T_CREATE]
    tr_f[n, 2] = f[T_UL_DONE] - f[T_UL_START]
    tr_f[n, 3] = f[T_SITE] - f[T_UL_DONE]
    tr_f[n, 4] = f[T_CSTART] - f[T_SITE]
    tr_f[n, 5] = f[T_CEND] - f[T_CSTART]
    tr_f[n, 6] = f[T_DLARR] - f[T_CEND]
    tr_f[n, 7] = f[T_DONE] - f[T_DLARR]
    tr_f[n, 8] = f[T_DONE] - f[T_CREATE]
    tr_i[n, 0] = S.rq_i[r, I_SVC]
    tr_i[n, 1] = S.rq_i[r, I_DEV]
    tr_i[n, 2] = S.rq_i[r, I_PLACE]
    tr_i[n, 3] = outcome
    tr_i[n, 4] = S.rq_i[r, I_SEQ]
    tr_i[n, 5] = S.rq_i[r, I_CELL]
    tr_i[n, 6] = cause


@njit(cache=True)
def _trace(W, S, r, outcome, cause=0):
    if not _traced(W, S.rq_i[r, I_SEQ]):
        return
    n = S.ctr[C_TR_N]
    if n >= S.tr_f.shape[0]:
        S.ctr[C_TR_LOST] += 1
        return
    _trace_row(S, r, outcome, S.rq_f[r], S.tr_f, S.tr_i, n, cause)
    S.ctr[C_TR_N] = n + 1


@njit(cache=True)
def _in_flight_trace(W, S, now):
    """Trace rows (``tr_f``, ``tr_i`` shaped) of the traced requests still in flight at
    ``now``, outcome ``OUT_IN_FLIGHT``: the stages they have finished, NaN from the one they
    are in (by their stage: a packet under way holds the time it reached a node, a request
    waiting for its context the time it reached the site; and by time: a batch or an on-board
    computation booked to end after ``now`` has not ended)."""
    pool = S.rq_i.shape[0]
    n = 0
    for r in range(pool):
        if S.rq_i[r, I_STAGE] != ST_FREE and _traced(W, S.rq_i[r, I_SEQ]):
            n += 1
    tr_f = np.empty((n, S.tr_f.shape[1]))
    tr_i = np.empty((n, S.tr_i.shape[1]), dtype=np.int64)
    f = np.empty(S.rq_f.shape[1])
    k = 0
    for r in range(pool):
        if S.rq_i[r, I_STAGE] == ST_FREE or not _traced(W, S.rq_i[r, I_SEQ]):
            continue
        st = S.rq_i[r, I_STAGE]
        first_open = T_DONE  # the first time of the pipeline not reached yet
        if st == ST_UL:
            first_open = T_UL_DONE
        elif st in (ST_UP, ST_ORPHAN, ST_HELD):
            first_open = T_SITE
        elif st == ST_QUEUE:
            first_open = T_CSTART
        elif st == ST_COMP:
            first_open = T_CEND
        elif st == ST_DOWN:
            first_open = T_DLARR
        for c in range(f.shape[0]):
            x = S.rq_f[r, c]
            f[c] = x if x <= now and c < first_open else np.nan
        _trace_row(S, r, OUT_IN_FLIGHT, f, tr_f, tr_i, k,
                   held_cause(S, S.rq_i[r, I_DEV], f, now))
        k += 1
    return tr_f, tr_i


@njit(cache=True)
def _en_route(S, r, stage):
    """Set request ``r``'s stage to ``stage``, keeping ``site_en_route`` [S, V] (the requests
    of each service on their way to each site: in an uplink buffer, on the links, or at the
    site waiting for their context) up to date as it enters or leaves that part of its way."""
    old = S.rq_i[r, I_STAGE]
    was = old in (ST_UL, ST_UP, ST_HELD)
    now = stage in (ST_UL, ST_UP, ST_HELD)
    S.rq_i[r, I_STAGE] = stage
    if was != now and S.rq_i[r, I_PLACE] >= 0:
        S.site_en_route[S.rq_i[r, I_PLACE], S.rq_i[r, I_SVC]] += 1 if now else -1


@njit(cache=True)
def _release(S, r):
    _en_route(S, r, ST_FREE)
    S.free_stack[S.ctr[C_FREE_TOP]] = r
    S.ctr[C_FREE_TOP] += 1
    S.ctr[C_IN_FLIGHT] -= 1


@njit(cache=True)
def device_free(W, S, d, v):  # pragma: no cover - compiled
    """When device ``d``'s engine for service ``v`` is free (s): its accelerator's main one,
    or one of its own (a fleet's ``engines``)."""
    e = W.svc_engine[W.dev_fleet[d], v]
    return S.dev_free[d] if e < 0 else S.dev_eng_free[d, e]


@njit(cache=True)
def book_device(W, S, d, v, until):  # pragma: no cover - compiled
    """Device ``d``'s engine for service ``v`` is busy until ``until`` (s)."""
    e = W.svc_engine[W.dev_fleet[d], v]
    if e < 0:
        S.dev_free[d] = until
    else:
        S.dev_eng_free[d, e] = until


@njit(cache=True)
def count_device(W, S, r, met):  # pragma: no cover - compiled
    """Count request ``r``'s end in its device's own figures (state.dev_outcomes): ended,
    met (TR 38.838's satisfied UEs), and its run of misses in a row, the longest kept (TS
    22.104's survival time), in the order its requests end."""
    d = S.rq_i[r, I_DEV]
    k = W.fleet_svc_slot[W.dev_fleet[d], S.rq_i[r, I_SVC]]
    o = S.dev_outcomes
    o[d, k, 0] += 1
    if met:
        o[d, k, 1] += 1
        o[d, k, 2] = 0
    else:
        o[d, k, 2] += 1
        if o[d, k, 2] > o[d, k, 3]:
            o[d, k, 3] = o[d, k, 2]


@njit(cache=True)
def drop(W, S, r, reason, t):
    """End a request as dropped for ``reason`` at time ``t``."""
    g = W.fleet_svc_group[W.dev_fleet[S.rq_i[r, I_DEV]], S.rq_i[r, I_SVC]]  # (fleet, service)
    warm = S.rq_f[r, T_CREATE] < S.fs[F_WARMUP]
    if warm:  # a warm-up request: counted apart
        S.warm_cnt[g, A_DROPPED] += 1
        S.warm_drop[g, reason] += 1
    else:
        S.agg_cnt[g, A_DROPPED] += 1
        S.agg_drop[g, reason] += 1
        count_device(W, S, r, False)
        v = S.rq_i[r, I_SVC]
        if W.svc_ul_spread[v] != payload.FIXED:
            S.agg_sum[g, SUM_DROPPED_UL_BITS] += ul_bits_of(W, v, S.rq_i[r, I_SEQ])
    # the trace's parts: the stages it finished, and the one it was in up to the drop (a wait
    # in its device's buffer is ul_wait), so that they add up to its latency; the stages it
    # never reached, and one it would have entered at the drop itself, stay NaN (as does a
    # time booked ahead that the drop cut short: a batch's end on a failed site)
    f = S.rq_f
    last = T_CREATE  # the last stage it finished
    for c in range(T_UL_START, T_DONE):
        if f[r, c] > t + 1e-9:  # (the slack: the same instant, computed two ways)
            f[r, c] = np.nan
        elif f[r, c] == f[r, c]:
            last = c
    if last + 1 < T_DONE and t > f[r, last]:
        f[r, last + 1] = t
    f[r, T_DONE] = t
    cause = held_cause(S, S.rq_i[r, I_DEV], f[r], t)
    if not warm:
        S.agg_held[g, cause, 2] += 1
    _trace(W, S, r, OUT_DROP0 + reason, cause)
    _release(S, r)


@njit(cache=True)
def finish(W, S, r, t):
    """End a request that got its answer at time ``t``: met or late against its deadline."""
    f = S.rq_f
    f[r, T_DONE] = t
    v = S.rq_i[r, I_SVC]
    lat = t - f[r, T_CREATE]
    met = lat <= W.svc_deadline_s[v] + 1e-12
    g = W.fleet_svc_group[W.dev_fleet[S.rq_i[r, I_DEV]], v]  # its (fleet, service) group
    place = S.rq_i[r, I_PLACE]
    cause = held_cause(S, S.rq_i[r, I_DEV], f[r], t)
    if f[r, T_CREATE] < S.fs[F_WARMUP]:  # a warm-up request: counted apart, in no figure
        S.warm_cnt[g, A_MET if met else A_LATE] += 1
        S.warm_place[g, place if place >= 0 else S.warm_place.shape[1] - 1] += 1
        _trace(W, S, r, OUT_MET if met else OUT_LATE, cause)
        _release(S, r)
        return
    S.agg_cnt[g, A_MET if met else A_LATE] += 1
    S.agg_held[g, cause, 0 if met else 1] += 1
    count_device(W, S, r, met)
    S.agg_place[g, place if place >= 0 else S.agg_place.shape[1] - 1] += 1
    s = S.agg_sum
    p0 = f[r, T_UL_START] - f[r, T_CREATE]
    p1 = f[r, T_UL_DONE] - f[r, T_UL_START]
    p2 = f[r, T_SITE] - f[r, T_UL_DONE]
    p3 = f[r, T_CSTART] - f[r, T_SITE]
    p4 = f[r, T_CEND] - f[r, T_CSTART]
    p5 = f[r, T_DLARR] - f[r, T_CEND]
    p6 = t - f[r, T_DLARR]
    s[g, 0] += p0
    s[g, 1] += p1
    s[g, 2] += p2
    s[g, 3] += p3
    s[g, 4] += p4
    s[g, 5] += p5
    s[g, 6] += p6
    s[g, SUM_LATENCY] += lat
    ul_bits = 0.0  # (where its size is drawn: its upload's, for the sums of sizes)
    above = 0.0  # (1 where that size is above the mean)
    ul_band = -1  # (and its quartile)
    if W.svc_ul_spread[v] != payload.FIXED:
        ul_bits = ul_bits_of(W, v, S.rq_i[r, I_SEQ])
        s[g, SUM_UL_BITS] += ul_bits
        above = 1.0 if ul_bits > W.svc_ul_bits[v] else 0.0
        s[g, SUM_ABOVE_MEAN] += above
        ul_band = size_band(W.svc_ul_quart[v], ul_bits)
        s[g, SUM_UL_BAND + ul_band] += 1.0
    dl_bits = 0.0  # (the same of its answer's size, where drawn and sent down: an answer
    dl_above = 0.0  # made on the device crossed no link, its size no cause of its lateness)
    dl_band = -1
    if W.svc_dl_spread[v] != payload.FIXED and place >= 0:
        dl_bits = dl_bits_of(W, v, S.rq_i[r, I_SEQ])
        s[g, SUM_DL_BITS] += dl_bits
        dl_above = 1.0 if dl_bits > W.svc_dl_bits[v] else 0.0
        s[g, SUM_DL_ABOVE_MEAN] += dl_above
        dl_band = size_band(W.svc_dl_quart[v], dl_bits)
        s[g, SUM_DL_BAND + dl_band] += 1.0
    if not met:  # where the late ones spent their time (the mean hides a tail's cause)
        s[g, SUM_LATE] += p0
        s[g, SUM_LATE + 1] += p1
        s[g, SUM_LATE + 2] += p2
        s[g, SUM_LATE + 3] += p3
        s[g, SUM_LATE + 4] += p4
        s[g, SUM_LATE + 5] += p5
        s[g, SUM_LATE + 6] += p6
        s[g, SUM_LATE_FAILED] += f[r, T_FAILED]
        s[g, SUM_LATE_UL_BITS] += ul_bits
        s[g, SUM_LATE_ABOVE_MEAN] += above
        s[g, SUM_LATE_DL_BITS] += dl_bits
        s[g, SUM_LATE_DL_ABOVE_MEAN] += dl_above
        if ul_band >= 0:
            s[g, SUM_LATE_UL_BAND + ul_band] += 1.0
        if dl_band >= 0:
            s[g, SUM_LATE_DL_BAND + dl_band] += 1.0
        if S.rq_i[r, I_PLACE] == -1:  # on its device's own processor
            s[g, SUM_LATE_DEVICE_QUEUE] += p3
            s[g, SUM_LATE_DEVICE_COMPUTE] += p4
            s[g, SUM_LATE_ON_DEVICE] += 1.0
    if lat < HIST_MIN_S:
        b = 0
    else:
        b = 1 + int(math.log(lat / HIST_MIN_S) / HIST_LOG_GAMMA)
        if b >= HIST_BUCKETS:
            b = HIST_BUCKETS - 1
    S.hist[g, b] += 1
    _trace(W, S, r, OUT_MET if met else OUT_LATE, cause)
    _release(S, r)


# ---------------------------------------------------------------------------------------------
# transport


@njit(cache=True)
def hop(W, S, lk, bits, t, tail, now, idle=-1.0):
    """Carry a message of ``bits`` over link ``lk``, its first packet at the link at ``t`` and
    its last at ``tail``, booked at ``now`` (:func:`airan.transport.pipeline.message_hop`),
    keeping the link's state. Returns its first and last packets' times at the next node."""
    first, last, free, busy = message_hop(S.link_free[lk], t, tail, bits, W.packet_bits,
                                          W.link_cap_bps[lk], W.link_delay_s[lk], now, idle)
    S.link_free[lk] = free
    S.link_busy[lk] += busy
    return first, last


@njit(cache=True)
def transport(W, S, links, bits, t, h=0):
    """Send ``bits`` along ``links`` from hop ``h`` (FIFO per link, packets pipelined: see
    :func:`hop`) from time ``t``, reserving every link at once.

    Returns the arrival time of the whole message, or -1.0 when a link's backlog exceeds its
    queue limit. For a request's own messages see :func:`send`, which reserves a link when the
    message reaches it.
    """
    tail = t
    while h < links.shape[0]:
        lk = links[h]
        if lk < 0:
            break
        if (S.link_free[lk] if S.link_free[lk] > t else t) - t > W.transport_queue_limit_s:
            return -1.0
        t, tail = hop(W, S, lk, bits, t, tail, t)
        h += 1
    return tail


@njit(cache=True)
def send(W, S, r, links, a, b, h, bits, t, t_field, own=False, tail=-1.0, now=-1.0,
         idle=-1.0):
    """Move request ``r``'s message along the path ``links[a, b]`` (a [from, to, hops] table,
    read in place: a view per message costs its reference counting) from hop ``h``, whose node
    its first packet reached at ``t`` and its last at ``tail`` (-1: at ``t``, whole at its
    source; an upload's first packet can be at its cell before ``now``, the event's time, -1:
    ``t``): reserve each link it reaches by ``max(t, now) + TRANSIT_AHEAD_S`` (FIFO per link,
    packets pipelined: :func:`hop`), then push its next event: at the node of the next link
    when its first packet gets there (``I_HOP`` that link, the time kept in ``t_field`` for
    :func:`_flush_transit`, its last packet's in ``REM_BITS``, unused on the links), or at its
    destination when its last packet does (``I_HOP`` 0).

    A link is thus reserved when the message reaches it, not when it sets off: an answer from
    a distant cloud does not hold up, on the last links to the device, one from a nearby edge
    that gets there first. Returns -1.0 once the message is on its way; when a link's backlog
    exceeds its queue limit, pushes nothing and returns the time the message reached that link
    (the drop's time: the links before it carried it). ``own``: the path is the request's own
    rest of an old path (``rq_path``).
    """
    if tail < 0.0:
        tail = t
    horizon = (now if now > t else t) + TRANSIT_AHEAD_S
    while h < links.shape[2]:
        lk = links[a, b, h]
        if lk < 0:
            break
        if t > horizon:
            S.rq_i[r, I_HOP] = HOP_OWN - h if own else h
            S.rq_f[r, t_field] = t
            S.rq_f[r, REM_BITS] = tail
            push_event(S, t, r)
            return -1.0
        at = t if t > now else now  # (the backlog it finds: from now, where it got there before)
        if (S.link_free[lk] if S.link_free[lk] > at else at) - at > W.transport_queue_limit_s:
            return t
        t, tail = hop(W, S, lk, bits, t, tail, now, idle)
        idle = -1.0  # (known for the first link only: ul_done)
        h += 1
    S.rq_i[r, I_HOP] = 0
    push_event(S, tail, r)
    return -1.0


@njit(cache=True)
def _transit_path(W, S, r):
    """Request ``r``'s transit: whether it goes up (``W.path_links[a, b]``; else down,
    ``W.path_links_back[a, b]``), ``a``, ``b``, its bits and its time column."""
    node = W.cell_node[S.rq_i[r, I_CELL]]
    s = S.rq_i[r, I_PLACE]
    v = S.rq_i[r, I_SVC]
    if S.rq_i[r, I_STAGE] == ST_UP:
        return True, node, s, ul_bits_of(W, v, S.rq_i[r, I_SEQ]), T_SITE
    return False, s, node, dl_bits_of(W, v, S.rq_i[r, I_SEQ]), T_DLARR


@njit(cache=True)
def _path_link(W, up, a, b, h):
    """Link ``h`` of the path ``a`` -> ``b`` up or down (-1: past its end)."""
    links = W.path_links if up else W.path_links_back
    return links[a, b, h] if h < links.shape[2] else -1


@njit(cache=True)
def transit(W, S, r, t):
    """Request ``r`` reached, at ``t``, a node on its path (``I_HOP`` != 0): go on."""
    h = S.rq_i[r, I_HOP]
    up, a, b, bits, t_field = _transit_path(W, S, r)
    tail = S.rq_f[r, REM_BITS]  # its last packet's time at this node
    if h <= HOP_OWN:  # rerouted under way: the rest of its old path
        own = S.rq_path.reshape((S.rq_path.shape[0], 1, S.rq_path.shape[1]))
        refused = send(W, S, r, own, r, 0, HOP_OWN - h, bits, t, t_field, True, tail)
    elif up:
        refused = send(W, S, r, W.path_links, a, b, h, bits, t, t_field, False, tail)
    else:
        refused = send(W, S, r, W.path_links_back, a, b, h, bits, t, t_field, False, tail)
    if refused >= 0.0:
        S.rq_f[r, t_field] = refused
        drop(W, S, r, R_LINK_FULL, refused)


@njit(cache=True)
def _flush_transit(W, S):
    """Before the paths change (a link fault reroutes): every request between two nodes of its
    path keeps the rest of it (``rq_path``) and goes on over it hop by hop, reserving each link
    as it gets there (:func:`send`), so that it arrives as it would have and holds up no
    message that reaches a link before it. Returns how many were caught under way."""
    n = 0
    for r in range(S.rq_i.shape[0]):
        st = S.rq_i[r, I_STAGE]
        h = S.rq_i[r, I_HOP]
        if (st != ST_UP and st != ST_DOWN) or h <= 0:
            continue  # not under way on the path tables (0: arrived; < 0: on its own already)
        up, a, b, _, _ = _transit_path(W, S, r)
        k = 0
        while _path_link(W, up, a, b, h) >= 0:
            S.rq_path[r, k] = _path_link(W, up, a, b, h)
            k += 1
            h += 1
        while k < S.rq_path.shape[1]:
            S.rq_path[r, k] = -1
            k += 1
        S.rq_i[r, I_HOP] = HOP_OWN  # its pending event at the next node takes it on
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# radio


@njit(cache=True)
def cell_load(load, load_k, c, now_k, decay):
    """A cell's PRB-use EWMA now: updated lazily, decayed over the slots it was not used.

    ``decay[g]`` is (1 - alpha)**g, tabulated and ending in 0 (the load has decayed to ~0); the
    gap is clipped into the table rather than branched on (branch-free, for the inner loops).
    """
    gap = now_k - load_k[c]
    gap = max(gap, 0)
    gap = min(gap, decay.shape[0] - 1)
    return load[c] * decay[gap]


@njit(cache=True)
def _ul_rates_bps(W, S, devices, n_active, ul_fraction):
    """Each device's expected uplink rate now, sharing its cell with ``n_active`` other UEs.

    The same capacity rule as the scheduler (``ul_capacity``), at the mean SINR; for policies.
    """
    out = np.empty(devices.shape[0])
    n = devices.shape[0]
    for i in range(n):
        if i + PREFETCH_AHEAD < n:  # the devices' rows are scattered: fetch a few ahead
            x = devices[i + PREFETCH_AHEAD]
            prefetch(W.dev_cell, x)
            prefetch(S.ue_se_ul, x)
            prefetch(W.dev_ul_p_prb_mw, x)
            prefetch(W.dev_ue_tx_mw, x)
        d = devices[i]
        c = W.dev_cell[d]
        free_prb = S.cell_free_prb_ul[c]
        cap, _, _ = ul_capacity_at(W, d, c, free_prb / (1.0 + n_active[i]),
                                   _ul_gain_for_policy(W, S, d))
        out[i] = cap * ul_fraction / W.slot_s
    return out


@njit(cache=True)
def _ul_gain_for_policy(W, S, d):
    """Device ``d``'s uplink SINR per PRB per mW as a policy reads it: the value kept while
    :func:`_kept_for_policy` (younger than the cells' load time constant), else the value now,
    computed without keeping it (a policy's reads leave the run as it was); so too where a
    move or a cell change (a handover, a cell fault) marked it stale (slot -1). The uplink
    re-evaluates the kept value only when the device next sends, so a device that a stale
    value kept on board would otherwise never get a fresh one: its outage during a cell
    fault, say, or, with no fault at all, the interference at its last upload (a port's
    review: an AGV's SINR kept from an interference peak, 4-7 dB below its SINR at each
    decision after it, kept it on its 80 ms CPU against a 50 ms deadline for 7 requests in
    0.6 s, 4 of which the edge, estimated at the SINR then, would have answered in 35-70
    ms), or its cell's ``initial_load`` for a device on board from its first request.

    Not the scheduler's SE_REFRESH_SLOTS: read at that age, nearly every request's device
    (a 10 Hz device's value is ~100 ms old when it next decides) cost a sum over its cell's
    interferers and its 16 strongest cells, +30-70% on deadline-aware's decisions (city
    ~180 ns, metro ~700 ns a request: ~5% and ~10% of the run); at the load time constant
    +5-10% (~50 ns a request)."""
    if W.radio_model != 0 or _kept_for_policy(W, S, S.ue_se_slot[d]):
        return S.ue_se_ul[d]
    k = S.ctr[C_SLOT]
    cell = W.dev_top_cell[d, 0]
    if k - S.cell_iul_k[cell] >= SE_REFRESH_SLOTS or S.cell_iul_k[cell] < 0:
        iul = _cell_iul(W, S, cell)
    else:
        iul = S.cell_iul[cell]
    return _ul_gain(W, d, cell, iul)


@njit(cache=True)
def _dl_se_for_policy(W, S, d):
    """Device ``d``'s downlink SE as a policy reads it: the value kept while
    :func:`_kept_for_policy`, else the value now, not kept (see :func:`_ul_gain_for_policy`)."""
    if W.radio_model != 0 or _kept_for_policy(W, S, S.ue_se_slot_dl[d]):
        return S.ue_se_dl[d]
    return _dl_se(W, S, d)


@njit(cache=True)
def _kept_for_policy(W, S, slot):
    """Whether a policy reads a device's link value kept at ``slot`` as it was kept: while
    it is younger than the cells' load time constant (``radio.load_time_constant_ms``, over
    which the loads it was computed from move by 1 - 1/e of a change) or SE_REFRESH_SLOTS,
    whichever is longer; never where a move or a cell change marked it stale (-1)."""
    if slot < 0:
        return False
    age = S.ctr[C_SLOT] - slot
    return age < SE_REFRESH_SLOTS or age * W.load_alpha < 1.0


@njit(cache=True)
def _dl_rates_bps(W, S, devices, dl_fraction):
    """Each device's expected downlink rate now: its SE on its cell's PRBs that background
    traffic and its L1's dropped slots leave, shared with the cell's UEs that have answers
    (those whose answer is not schedulable yet too), over the direction's share of the slots;
    for policies."""
    n_active = _active_in_cells(W, S, devices, False)
    out = np.empty(devices.shape[0])
    for i in range(devices.shape[0]):
        d = devices[i]
        c = W.dev_cell[d]
        free_prb = S.cell_free_prb_dl[c]
        per_slot = _dl_se_for_policy(W, S, d) * free_prb * W.cell_bits_per_prb_dl[c]
        out[i] = per_slot * dl_fraction / W.slot_s / (1.0 + n_active[i])
    return out


@njit(cache=True)
def _lowest_ul_priority(W):
    """The largest uplink priority number of the scenario's services (the last served)."""
    low = 0
    for v in range(W.svc_ul_priority.shape[0]):
        low = max(low, W.svc_ul_priority[v])
    return low


@njit(cache=True)
def _ul_bits_ahead(W, S, d, prio, lowest):
    """Bits in device ``d``'s uplink buffer that a new request of uplink priority ``prio``
    would wait behind: those of its priority or a higher one (a smaller or equal number), as
    :func:`_ul_insert` queues it (TS 38.321 5.4.3.1); the whole buffer where ``prio`` is the
    ``lowest`` of the scenario (every service's where all priorities are equal)."""
    if prio >= lowest:
        return S.ue_ul_bits[d]
    ahead = 0.0
    x = S.ue_ul_head[d]
    while x >= 0:
        if W.svc_ul_priority[S.rq_i[x, I_SVC]] <= prio:
            ahead += S.rq_f[x, REM_BITS]
        x = S.rq_i[x, I_NEXT]
    return ahead


@njit(cache=True)
def _ul_bits_ahead_of(W, S, devices, prio):
    """:func:`_ul_bits_ahead` for each device and priority; for policies."""
    lowest = _lowest_ul_priority(W)
    out = np.empty(devices.shape[0])
    for i in range(devices.shape[0]):
        out[i] = _ul_bits_ahead(W, S, devices[i], prio[i], lowest)
    return out


@njit(cache=True)
def _report_rounds_s(W, S, devices, bits, round_s, prio):
    """The buffer status report's round (``round_s``) each upload of ``bits`` (of uplink
    priority ``prio``) adds now, where the device waits for its SR's grant (an empty buffer,
    or one the SR's grant has not served yet) and that grant (``radio.first_grant_bytes``)
    cannot carry the upload and what goes ahead of it (:func:`_ul_bits_ahead`); 0 elsewhere;
    for policies."""
    out = np.zeros(devices.shape[0])
    if round_s <= 0.0:
        return out
    lowest = _lowest_ul_priority(W)
    for i in range(devices.shape[0]):
        held = S.ue_ul_bits[devices[i]]
        waiting = held <= 0.0 or S.ue_first_grant[devices[i]] == 1
        if waiting:
            ahead = _ul_bits_ahead(W, S, devices[i], prio[i], lowest)
            if ahead + bits[i] > W.first_grant_bits:
                out[i] = round_s
    return out


@njit(cache=True)
def _ul_tx_w(W, S, devices, n_active):
    """Each device's power while it sends (W), sharing its cell with ``n_active`` other UEs:
    circuits plus its output power on its share (the scheduler's capacity rule, ``ul_capacity``:
    open-loop power per PRB, capped at the UE's maximum) over PA efficiency, as the engine books
    it; for policies."""
    out = np.empty(devices.shape[0])
    for i in range(devices.shape[0]):
        d = devices[i]
        c = W.dev_cell[d]
        free_prb = S.cell_free_prb_ul[c]
        _, _, p_out = ul_capacity_at(W, d, c, free_prb / (1.0 + n_active[i]),
                                     _ul_gain_for_policy(W, S, d))
        out[i] = W.ue_tx_circuit_w + p_out * 1e-3 / W.ue_pa_efficiency
    return out


@njit(cache=True)
def _ul_times_s(W, S, devices, bits, ul_fraction, prio):
    """Expected time for each device to send ``bits`` more on its uplink (of uplink priority
    ``prio``), after what its buffer holds ahead of them (:func:`_ul_bits_ahead`), sharing its
    cell with the other UEs that have data as processor sharing.

    Under an equal share of the PRBs, a UE's B bits have left once every other UE of the cell
    has sent min(its backlog, B) as well: T = (B + sum_j min(b_j, B)) / R, with R the device's
    rate with the cell's free PRBs to itself (the scheduler's capacity rule, at the mean SINR).
    The others are taken at the device's own rate (their SINRs differ), none arrives meanwhile,
    and the rate is taken as linear in the PRB share (a power-limited UE loses less than its
    share). A snapshot's count of UEs with data overstates the share of a large request in a
    cell of small bursts: this does not. Measured against the uplink times that followed (city
    and factory, 3 s), it is no better calibrated than the count (RMS log error 0.40 against
    0.32 in city) but decides better at the default four receive antennas (hit ratio with
    overdue counted, seeds 1-3: city 0.978 against 0.975, factory inspect 1.0 against 0.997).
    """
    act = S.act_ul
    n_act = S.ctr[C_ACT_UL]
    dev_cell = W.dev_cell
    # the UEs with data grouped by cell, in activity order within a cell; work in the UEs with
    # data only (not in the cells: a national map has a million), with a per-cell scratch
    # (cell_used_cnt, zero between uses) holding a cell's group number + 1
    group = S.cell_used_cnt
    cells = np.empty(n_act, dtype=np.int64)
    size = np.zeros(n_act, dtype=np.int64)
    of = np.empty(n_act, dtype=np.int64)  # each active UE's group (its cell read once)
    n_groups = 0
    for i in range(n_act):
        c = dev_cell[act[i]]
        if group[c] == 0:
            cells[n_groups] = c
            n_groups += 1
            group[c] = n_groups
        of[i] = group[c] - 1
        size[of[i]] += 1
    start = np.empty(n_groups + 1, dtype=np.int64)
    start[0] = 0
    for g in range(n_groups):
        start[g + 1] = start[g] + size[g]
    fill = start[:-1].copy()
    members = np.empty(n_act, dtype=np.int64)
    for i in range(n_act):
        g = of[i]
        members[fill[g]] = act[i]
        fill[g] += 1
    lowest = _lowest_ul_priority(W)
    out = np.empty(devices.shape[0])
    for i in range(devices.shape[0]):
        d = devices[i]
        c = W.dev_cell[d]
        mine = _ul_bits_ahead(W, S, d, prio[i], lowest) + bits[i]
        ahead = mine
        g = group[c] - 1
        if g >= 0:
            for q in range(start[g], start[g + 1]):
                j = members[q]
                if j != d:
                    ahead += min(S.ue_ul_bits[j], mine)
        free_prb = S.cell_free_prb_ul[c]
        cap, _, _ = ul_capacity_at(W, d, c, free_prb, _ul_gain_for_policy(W, S, d))
        out[i] = ahead / max(cap * ul_fraction / W.slot_s, 1.0)
    for g in range(n_groups):
        group[cells[g]] = 0
    return out


@njit(cache=True)
def _active_in_cells(W, S, devices, uplink):
    """How many UEs with data in the direction's buffers share each device's cell now (as a
    float; ``numpy.bincount`` of the active UEs' cells, read at the devices' cells)."""
    act = S.act_ul if uplink else S.act_dl
    n_act = S.ctr[C_ACT_UL] if uplink else S.ctr[C_ACT_DL]
    dev_cell = W.dev_cell
    cnt = S.cell_used_cnt
    for i in range(n_act):
        cnt[dev_cell[act[i]]] += 1
    n_wait = 0 if uplink else S.ctr[C_DLQ_N]  # (answers not yet schedulable count too)
    ring = S.dlq_d
    for i in range(n_wait):
        cnt[dev_cell[ring[(S.ctr[C_DLQ_HEAD] + i) % ring.shape[0]]]] += 1
    out = np.empty(devices.shape[0])
    for i in range(devices.shape[0]):
        out[i] = cnt[dev_cell[devices[i]]]
    for i in range(n_act):
        cnt[dev_cell[act[i]]] = 0
    for i in range(n_wait):
        cnt[dev_cell[ring[(S.ctr[C_DLQ_HEAD] + i) % ring.shape[0]]]] = 0
    return out


@njit(cache=True)
def _pending_moves(W, S):
    """The context moves already decided: a stateful request on its way to a site (in an
    uplink buffer or on the links) moves its pair's (device, service) context there when it
    arrives (:func:`site_arrive`), and reserves the links only then.

    Returns the time [s] those moves will take on each link, and, sorted by pair key
    ``device * n_services + service``, each pair with such a request and the site its newest
    one goes to: where the context will be. A pair's requests move it in the order they were
    made (old -> s1 -> s2; none where the next goes where it already is): an approximation
    where a later request overtakes an earlier one on a shorter path (a rare case)."""
    out = np.zeros(W.link_cap_bps.shape[0])
    n_svc = W.svc_state_bits.shape[0]
    key = np.empty(S.rq_i.shape[0], dtype=np.int64)
    seq = np.empty(S.rq_i.shape[0], dtype=np.int64)
    row = np.empty(S.rq_i.shape[0], dtype=np.int64)
    m = 0
    for r in range(S.rq_i.shape[0]):
        st = S.rq_i[r, I_STAGE]
        if st != ST_UL and st != ST_UP:
            continue
        v = S.rq_i[r, I_SVC]
        s = S.rq_i[r, I_PLACE]
        if W.svc_state_bits[v] <= 0.0 or s < 0 or S.site_up[s] <= 0:
            continue  # (one on its way to a failed site is turned away there: no move)
        if S.rq_i[r, I_NEXT] == CTX_WAITED:
            continue  # (its move is made: it waits at its site, and moves nothing again)
        key[m] = S.rq_i[r, I_DEV] * n_svc + v
        seq[m] = S.rq_i[r, I_SEQ]
        row[m] = r
        m += 1
    by_seq = np.argsort(seq[:m])  # by pair, then in the order they were made
    order = by_seq[np.argsort(key[:m][by_seq], kind="mergesort")]
    pair = np.empty(m, dtype=np.int64)
    dest = np.empty(m, dtype=np.int64)
    n_pairs = 0
    i = 0
    while i < m:
        k = key[order[i]]
        d = k // n_svc
        v = k % n_svc
        cur = S.ctx_site[d, v]
        while i < m and key[order[i]] == k:
            s = S.rq_i[row[order[i]], I_PLACE]
            i += 1
            if cur == s:
                continue
            # as site_arrive: a context at a failed or unreachable site is lost, none moves
            if cur >= 0 and S.site_up[cur] > 0 and W.path_delay_s[W.site_node[cur], s] < np.inf:
                links = W.path_links[W.site_node[cur], s]
                for h in range(links.shape[0]):
                    lk = links[h]
                    if lk < 0:
                        break
                    out[lk] += W.svc_state_bits[v] / W.link_cap_bps[lk]
            cur = s
        pair[n_pairs] = k
        dest[n_pairs] = cur
        n_pairs += 1
    return out, pair[:n_pairs], dest[:n_pairs]


@njit(cache=True)
def _site_backlogs(W, S, now, per_item, gpu_up, svc_rate):
    """Each site's backlog [S], each site's and model's [S, M] (``Engine._site_backlog_s``,
    ``Engine._site_model_backlog_s``: what they say, compiled; the same operations in the same
    order as the numpy they replace), and the requests of each model queued at each site or on
    their way there [S, M] (``Engine._site_model_queue``). Where a GPU runs batches at once,
    a model's wait is what the batches there take from its work (processor sharing) and the
    stretch of its fixed overhead beside theirs (``overhead_overlap``); where every instance of
    it is held, when the first of its batches frees one, by processor sharing, and then that."""
    n_sites = W.site_gpu_start.shape[0]
    n_gpus = W.gpu_site.shape[0]
    n_models = per_item.shape[1]
    coming = S.q_len.copy()  # queued, and on the way (site_en_route by service)
    for v in range(W.svc_model.shape[0]):
        for s in range(n_sites):
            coming[s, W.svc_model[v]] += S.site_en_route[s, v]
    backlog = np.empty(n_sites)
    out = np.empty((n_sites, n_models))
    any_shared = False
    for s in range(n_sites):
        g0 = W.site_gpu_start[s]
        g1 = W.site_gpu_start[s + 1] if s + 1 < n_sites else n_gpus
        busy = 0.0
        n_up = 0.0
        for g in range(g0, g1):
            if gpu_up[g]:
                ahead = S.gpu_free[g] - now
                busy += ahead if ahead > 0.0 else 0.0
                n_up += 1.0
        queued = 0.0
        for m in range(n_models):
            queued += coming[s, m] * per_item[s, m]
        queued /= S.site_ai_share[s]
        backlog[s] = (busy + queued) / n_up if n_up > 0.0 else np.inf
        for m in range(n_models):
            out[s, m] = backlog[s]
        if W.site_shared[s] > 0:
            any_shared = True
    # where batches run at once, the models whose wait is the site's backlog (none found)
    whole = np.zeros((n_sites, n_models), dtype=np.bool_)
    if not any_shared:
        return backlog, out, coming, _service_backlogs(W, S, per_item, gpu_up, out, whole, svc_rate)
    n_run = S.gpu_run_r.shape[1]
    best = np.full((n_sites, n_models), np.inf)
    held = np.full((n_sites, n_models), np.inf)  # where every instance there is held
    n_up2 = np.zeros(n_sites)
    for g in range(n_gpus):
        s = W.gpu_site[g]
        share = S.site_ai_share[s]
        up = gpu_up[g] and np.isfinite(S.gpu_free[g])
        if up:
            n_up2[s] += 1.0
        if not up:
            continue
        elapsed = now - S.gpu_run_t[g]
        for m in range(n_models):
            # its batch-1 time's part that shares the GPU (its fixed overhead does not)
            x = (W.svc_time_s[m, W.gpu_type[g], 1] - W.svc_overhead_s[m, W.gpu_type[g]]) / share
            taken = 0.0  # what the batches already there take from it (processor sharing)
            for j in range(n_run):
                r = 0.0
                if S.gpu_run_r[g, j] >= 0 and S.gpu_run_oh[g, j] == 0:  # (not in its overhead)
                    left = S.gpu_run_left[g, j] - elapsed * S.gpu_run_rate[g]
                    r = (left if left > 0.0 else 0.0) / share
                taken += r if r < x else x
            # its own fixed overhead beside those in theirs now, as many as keep running
            # through it (one that ends gives way to the next, in a steady state): slowed where
            # they are more than the site's overheads that overlap at full speed
            over = (S.gpu_oh_n[g] + 1.0) / W.site_overhead_cap[s] - 1.0
            if S.gpu_model_n[g, m] < W.site_instances[s, m]:
                if over > 0.0:
                    taken += over * W.svc_overhead_s[m, W.gpu_type[g]] / share
                if taken < best[s, m]:
                    best[s, m] = taken
                continue
            # every instance held here: the first of its batches to end frees one, by
            # processor sharing its work ends once each batch sharing the GPU has done as
            # much (or its own, less), then its fixed overhead runs (a review: the GPU's whole
            # backlog, a VLA's 400 ms beside one detection's 1.5 ms, kept detections on board);
            # the new batch then shares the GPU with what the others have left
            free = np.inf
            k = -1  # the batch that frees it, and the work it had left (0: in its overhead)
            k_own = 0.0
            for j in range(n_run):
                fj = S.gpu_run_r[g, j]
                if fj < 0 or W.svc_model[S.rq_i[fj, I_SVC]] != m:
                    continue
                own = 0.0
                if S.gpu_run_oh[g, j] != 0:  # in its overhead, at the overheads' rate
                    left = S.gpu_run_left[g, j] - elapsed * S.gpu_oh_rate[g]
                    end = (left if left > 0.0 else 0.0) / S.gpu_oh_rate[g]
                else:
                    own = S.gpu_run_left[g, j] - elapsed * S.gpu_run_rate[g]
                    own = own if own > 0.0 else 0.0
                    end = 0.0
                    for i in range(n_run):
                        if S.gpu_run_r[g, i] >= 0 and S.gpu_run_oh[g, i] == 0:
                            left = S.gpu_run_left[g, i] - elapsed * S.gpu_run_rate[g]
                            left = left if left > 0.0 else 0.0
                            end += left if left < own else own
                    end = (end + S.gpu_run_tail[g, j]) / share
                if end < free:
                    free, k, k_own = end, j, own
            if k < 0:
                continue
            after = 0.0  # what the others, less their work meanwhile, take from the new batch
            for i in range(n_run):
                if i == k or S.gpu_run_r[g, i] < 0 or S.gpu_run_oh[g, i] != 0:
                    continue
                left = S.gpu_run_left[g, i] - elapsed * S.gpu_run_rate[g]
                left = left if left > 0.0 else 0.0
                left = (left - (left if left < k_own else k_own)) / share
                after += left if left < x else x
            # then its own overhead beside those still in theirs (the freed one's done)
            freed_oh = 1.0 if S.gpu_run_oh[g, k] != 0 else 0.0
            over = (S.gpu_oh_n[g] - freed_oh + 1.0) / W.site_overhead_cap[s] - 1.0
            if over > 0.0:
                after += over * W.svc_overhead_s[m, W.gpu_type[g]] / share
            if free + after < held[s, m]:
                held[s, m] = free + after
    for s in range(n_sites):
        if W.site_shared[s] <= 0:
            continue
        nu = n_up2[s] if n_up2[s] > 1.0 else 1.0
        gt = W.gpu_type[W.site_gpu_start[s]]
        for m in range(n_models):
            if np.isfinite(best[s, m]):
                out[s, m] = best[s, m] + coming[s, m] * per_item[s, m] / S.site_ai_share[s] / nu
            elif np.isfinite(held[s, m]):  # every instance held: the first to free, then as
                out[s, m] = held[s, m] + coming[s, m] * per_item[s, m] / S.site_ai_share[s] / nu
            else:  # (no batch of it found running: within the GPU's backlog and an overhead)
                out[s, m] = backlog[s] + W.svc_overhead_s[m, gt] / S.site_ai_share[s]
                whole[s, m] = True
    return backlog, out, coming, _service_backlogs(W, S, per_item, gpu_up, out, whole, svc_rate)


@njit(cache=True)
def _service_backlogs(W, S, per_item, gpu_up, out, whole, svc_rate):
    """[S, V]: the wait a new request of each service adds to its batch-1 time at each site,
    ``out`` [S, M] of its model less the work it goes ahead of: the requests of a lower
    ``compute_priority`` queued there or on their way (all models' where ``out`` is the site's
    backlog: its GPUs run one batch at a time, or ``whole``; its model's where batches run at
    once, as ``out`` counts them), and stretched by the requests of a higher priority that
    come meanwhile and go ahead of it: at their load rho (``svc_rate`` [S, V], placed per
    second, times their per-item time), the wait W that clears a backlog B is B + rho W,
    B / (1 - rho) (Kleinrock's delay cycle; rho taken at most ``MAX_HIGHER_LOAD``, the rates
    being estimates over ~50 ms). Where every service has one priority, ``out`` of each
    service's model."""
    n_sites = out.shape[0]
    n_svc = W.svc_model.shape[0]
    res = np.empty((n_sites, n_svc))
    prio = W.svc_compute_priority
    mixed = False
    for v in range(n_svc):
        mixed = mixed or prio[v] != prio[0]
    for s in range(n_sites):
        for v in range(n_svc):
            res[s, v] = out[s, W.svc_model[v]]
    if not mixed:
        return res
    n_gpus = W.gpu_site.shape[0]
    coming = (S.site_en_route + S.q_len_svc).astype(np.float64)  # [S, V]: queued, and coming
    for s in range(n_sites):
        g0 = W.site_gpu_start[s]
        g1 = W.site_gpu_start[s + 1] if s + 1 < n_sites else n_gpus
        n_up = 0.0
        nu = 0.0
        for g in range(g0, g1):
            if gpu_up[g]:
                n_up += 1.0
                if np.isfinite(S.gpu_free[g]):
                    nu += 1.0
        shared = W.site_shared[s] > 0
        for v in range(n_svc):
            m = W.svc_model[v]
            if not np.isfinite(out[s, m]):
                continue
            lower_all = 0.0  # the work of lower priorities' requests, all models'
            lower_own = 0.0  # of its model's
            higher_all = 0.0  # the work per second of higher priorities' placed there
            higher_own = 0.0
            for u in range(n_svc):
                mu = W.svc_model[u]
                if prio[u] > prio[v] and coming[s, u] > 0.0:
                    work = coming[s, u] * per_item[s, mu]
                    lower_all += work
                    if mu == m:
                        lower_own += work
                elif prio[u] < prio[v] and svc_rate.shape[1] == n_svc:
                    load = svc_rate[s, u] * per_item[s, mu]
                    higher_all += load
                    if mu == m:
                        higher_own += load
            # (as out counts it: the site's backlog over its GPUs up, or, where batches run
            # at once and a GPU of the model is found, its model's queue over those GPUs)
            if not shared or whole[s, m]:
                n = n_up
                cut, rho = lower_all, higher_all
            else:
                n = nu if nu > 1.0 else 1.0
                cut, rho = lower_own, higher_own
            if n > 0.0:
                cut /= S.site_ai_share[s] * n
                rho /= S.site_ai_share[s] * n
            left = out[s, m] - cut
            left = left if left > 0.0 else 0.0
            res[s, v] = left / (1.0 - (rho if rho < MAX_HIGHER_LOAD else MAX_HIGHER_LOAD))
    return res


@njit(cache=True)
def _touch(S, c):
    if S.cell_mark[c] == 0:
        S.cell_mark[c] = 1
        S.touched[S.ctr[C_TOUCHED]] = c
        S.ctr[C_TOUCHED] += 1


@njit(cache=True)
def _prefetch_iul(W, S, cell, k):
    """Prefetch a cell's list of uplink interferers if a refresh is about to sum it."""
    iul_k = S.cell_iul_k[cell]
    if k - iul_k >= SE_REFRESH_SLOTS or iul_k < 0:
        ptr = W.ul_int_ptr
        src = W.ul_int_src
        mw = W.ul_int_mw
        a = ptr[cell]
        b = ptr[cell + 1]
        for q in range(a, b, 8):  # 8 values per 64-byte line
            prefetch(src, q)
            prefetch(mw, q)
        if b > a:
            prefetch(src, b - 1)
            prefetch(mw, b - 1)


@njit(cache=True)
def _dense(W):
    """Whether uplink interference sums read every cell's load from a table of all cells'
    loads now (see _ul_loads_now): where there are about as many devices as cells or more."""
    return W.dev_cell.shape[0] * 4 >= W.cell_prb.shape[0]


@njit(cache=True)
def _ul_loads_now(W, S):
    """Every cell's uplink load now as an interference sum weighs it: the power its UEs put
    out (``pow_ul``, aged by ``cell_load``; the background's is a term of its own), the same
    values a sum computes cell by cell (so the results are identical). Filled at most once per
    uplink slot, at the first sum that needs it: a
    cell's sum (~40 interferers) then reads one value per interferer instead of three, and the
    loads are aged once per cell."""
    key = S.se_key
    now = S.ctr[C_NSLOT_UL]
    out = S.cell_lul
    if key[0] == now:
        return out
    decay = W.load_decay
    load, load_k = S.pow_ul, S.load_ul_k
    for c in range(out.shape[0]):
        out[c] = cell_load(load, load_k, c, now, decay)
    key[0] = now
    return out


@njit(cache=True)
def refresh_se(W, S, d, k):
    """Re-evaluate a UE's UL and DL link quality, each if due (see refresh_ul, refresh_dl)."""
    refresh_ul(W, S, d, k)
    refresh_dl(W, S, d, k)


@njit(cache=True)
def refresh_dl(W, S, d, k):
    """Re-evaluate a UE's DL spectral efficiency from the cells' current loads, if it is at
    least SE_REFRESH_SLOTS old (``ue_se_slot_dl``).

    Called where the downlink is used: when the UE has an answer to schedule (serve_dl), and
    for every device at the start. The scheduler thus uses a value at most SE_REFRESH_SLOTS
    old, as on the uplink; a policy's downlink rate reads the value now, without keeping it,
    where the one kept is older than the loads' time constant (:func:`_dl_se_for_policy`).
    (This sum over the device's 16 strongest cells is the costliest refresh; it was also run
    on uplink activity, where it is not used, ~3x as often.)
    """
    if k - S.ue_se_slot_dl[d] < SE_REFRESH_SLOTS and S.ue_se_slot_dl[d] >= 0:
        return
    S.ue_se_slot_dl[d] = k
    S.ue_se_dl[d] = _dl_se(W, S, d)


@njit(cache=True)
def _dl_se(W, S, d):
    """Device ``d``'s downlink SE from the cells' current loads (of :func:`refresh_dl`)."""
    # arrays are read out of the World and State once, into locals
    top_cell = W.dev_top_cell
    top_gain = W.dev_top_gain
    decay = W.load_decay
    load_dl = S.load_dl
    load_dl_k = S.load_dl_k
    now_dl = S.ctr[C_NSLOT_DL]
    cell = top_cell[d, 0]  # the serving cell, the strongest
    # each cell's power in the serving cell's channel (all of it where they share one)
    tx_mw = W.cell_tx_on_mw[W.cell_carrier[cell]]
    sig = tx_mw[cell] * top_gain[d, 0]
    bg = S.fs[F_BACKGROUND_DL]  # background traffic adds to every cell's load (capped at 1)
    intf = 0.0
    for j in range(1, top_cell.shape[1]):
        c = top_cell[d, j]
        if c != cell:
            ld = cell_load(load_dl, load_dl_k, c, now_dl, decay)
            if bg > 0.0:
                ld = min(1.0, bg + ld)
            intf += ld * tx_mw[c] * top_gain[d, j]
    mean_dl = S.fs[F_MEAN_LOAD_DL]
    if bg > 0.0:
        mean_dl = min(1.0, bg + mean_dl)
    intf += mean_dl * W.dev_resid_gain_mw[d]
    return dl_rank_se(sig / (W.dev_dl_noise_mw[d] + intf), W.cell_tx_antennas[cell],
                      W.cell_dl_layers[cell], W.min_sinr_lin)


@njit(cache=True)
def dl_rank_se(sinr, n_tx, max_layers, min_sinr):
    """Downlink SE summed over the layers of the best rank L <= ``max_layers``:
    L * SE(sinr * (n_tx - L + 1) / L), ``sinr`` that of one antenna at full power (see
    radio.link.dl_rank_adapted_se; ties go to the lower rank)."""
    best = 0.0
    for n_layers in range(1, max_layers + 1):
        se = n_layers * spectral_eff(sinr * ((n_tx - n_layers + 1) / n_layers), min_sinr)
        if se > best:
            best = se
    return best


@njit(cache=True)
def refresh_ul(W, S, d, k):
    """Re-evaluate a UE's UL SINR per PRB and mW from its cell's interference, if it is at
    least SE_REFRESH_SLOTS old (``ue_se_slot``): when the UE creates a request it sends (the
    outage check; one it keeps on board refreshes nothing) and when the uplink scheduler
    visits it. A policy reads the value now, without keeping it, where the one kept is older
    than the loads' time constant (:func:`_ul_gain_for_policy`)."""
    if k - S.ue_se_slot[d] < SE_REFRESH_SLOTS and S.ue_se_slot[d] >= 0:
        return
    S.ue_se_slot[d] = k
    cell = W.dev_top_cell[d, 0]  # the serving cell, the strongest
    # uplink interference depends only on the serving cell: kept per cell, refreshed as often
    iul_k = S.cell_iul_k
    if k - iul_k[cell] >= SE_REFRESH_SLOTS or iul_k[cell] < 0:
        S.cell_iul[cell] = _cell_iul(W, S, cell)
        iul_k[cell] = k
    S.ue_se_ul[d] = _ul_gain(W, d, cell, S.cell_iul[cell])


@njit(cache=True)
def _ul_gain(W, d, cell, iul):
    """Device ``d``'s uplink SINR per PRB for each mW it puts on a PRB at ``cell`` (noise and
    interference ``iul`` per PRB), after combining over the cell's receive antennas
    (radio.link.ul_combining_gain); its path gain at the uplink's frequency (FDD's own)."""
    return W.dev_top_gain_ul[d, 0] * W.cell_prb[cell] * W.cell_ul_rx_gain[cell] / (
        W.ul_noise_mw[cell] + iul)


@njit(cache=True)
def _cell_iul(W, S, cell):
    """The uplink interference at ``cell`` now, in mW over the whole carrier (as
    ``ul_noise_mw``): its interferers' loads weighted by their coupling, and the background's
    (of :func:`refresh_ul`, which keeps it per cell)."""
    decay = W.load_decay
    bg = S.fs[F_BACKGROUND_UL]
    src = W.ul_int_src
    mw = W.ul_int_mw
    ptr = W.ul_int_ptr
    pow_ul = S.pow_ul
    load_ul_k = S.load_ul_k
    now_ul = S.ctr[C_NSLOT_UL]
    # the background's handsets in the other cells (world.background_uplink_coupling), apart
    # from the devices: a cell's devices (drones in LOS of many cells) do not stand where its
    # background's handsets do, and a cell without devices has background too
    iul = bg * W.cell_bg_ul_mw[cell]
    if _dense(W):
        lul = _ul_loads_now(W, S)
        for p in range(ptr[cell], ptr[cell + 1]):
            iul += lul[src[p]] * mw[p]
    else:
        for p in range(ptr[cell], ptr[cell + 1]):
            iul += cell_load(pow_ul, load_ul_k, src[p], now_ul, decay) * mw[p]
    return iul


@njit(cache=True)
def ul_capacity(W, S, d, c, share, fade):
    """Uplink bits a UE can send in one slot on ``share`` PRBs, the PRBs it actually uses and
    its total output power on them (mW): :func:`ul_capacity_at` its SINR per PRB per mW, with
    ``fade``."""
    return ul_capacity_at(W, d, c, share, S.ue_se_ul[d] * fade)


@njit(cache=True)
def ul_capacity_at(W, d, c, share, gain):
    """Uplink bits device ``d`` can send in one slot on ``share`` PRBs at SINR per PRB per mW
    ``gain``, the PRBs it actually uses and its total output power on them (mW).

    Power control (TS 38.213 7.1.1, open loop): the UE puts ``dev_ul_p_prb_mw`` on each PRB, at
    most its maximum power spread over the PRBs it uses. A power-limited UE uses only the PRBs
    on which its SINR stays at the lowest usable SINR or above (the rest of its share stays idle).
    """
    if gain <= 0.0:
        return 0.0, 0.0, 0.0
    p_prb = W.dev_ul_p_prb_mw[d]
    if p_prb * gain < W.min_sinr_lin:  # closed loop raises a UE that sits below the floor
        p_prb = W.min_sinr_lin / gain
    p_max = W.dev_ue_tx_mw[d]
    n_lim = p_max * gain / W.min_sinr_lin
    n_use = share if share < n_lim else n_lim
    if n_use <= 0.0:
        return 0.0, 0.0, 0.0
    p = p_max / n_use
    if p > p_prb:
        p = p_prb
    se = spectral_eff(p * gain, W.min_sinr_lin * (1.0 - 1e-9))
    return n_use * se * W.cell_bits_per_prb_ul[c], n_use, p * n_use


@njit(cache=True)
def _set_add(arr, pos, cnt_idx, ctr, d):
    if pos[d] >= 0:
        return
    n = ctr[cnt_idx]
    arr[n] = d
    pos[d] = n
    ctr[cnt_idx] = n + 1


@njit(cache=True)
def _set_remove(arr, pos, cnt_idx, ctr, d):
    i = pos[d]
    if i < 0:
        return
    n = ctr[cnt_idx] - 1
    last = arr[n]
    arr[i] = last
    pos[last] = i
    pos[d] = -1
    ctr[cnt_idx] = n


@njit(cache=True)
def ul_done(W, S, r, t):
    """Uplink finished at ``t``: send the request over the transport to its compute site."""
    S.rq_f[r, T_UL_DONE] = t
    site = S.rq_i[r, I_PLACE]
    node = W.cell_node[W.dev_cell[S.rq_i[r, I_DEV]]]  # the cell it is attached to now
    if not W.path_delay_s[node, site] < np.inf:  # a fault cut the path: place it again
        S.rq_f[r, T_SITE] = t
        orphan(S, r, site)
        return
    bits = ul_bits_of(W, S.rq_i[r, I_SVC], S.rq_i[r, I_SEQ])
    _en_route(S, r, ST_UP)
    S.rq_i[r, I_CELL] = W.dev_cell[S.rq_i[r, I_DEV]]
    head = t  # its first packet at the cell: under nr, forwarded while the UE still sends
    idle = -1.0
    if W.radio_model == 0:
        # (the cell decodes the first slot's transport block at that slot's end)
        first_decoded = S.rq_f[r, T_UL_START] + W.slot_s
        head = first_packet_s(bits, W.packet_bits, min(first_decoded, t), t)
        lk = W.path_links[node, site, 0]
        if head < t and lk >= 0 and S.rq_link0[r, 0] == lk:  # (no handover to another path)
            # the first link's idle time since the upload's first bits: its work done since
            idle = (t - S.rq_f[r, T_UL_START]) - (_link_work_done(S, lk, t) - S.rq_link0[r, 1])
            idle = min(max(idle, 0.0), t - head)
    refused = send(W, S, r, W.path_links, node, site, 0, bits, head, T_SITE, False, t, t,
                   idle)
    if refused >= 0.0:  # dropped where refused (its transport time up to there; none at the
        # first link)
        drop(W, S, r, R_LINK_FULL, refused if refused > t else t)


@njit(cache=True)
def _link_work_done(S, lk, t):
    """The work link ``lk`` has done by ``t`` (s): all it was booked less what is still
    ahead of it then (non-decreasing in t)."""
    ahead = S.link_free[lk] - t
    return S.link_busy[lk] - (ahead if ahead > 0.0 else 0.0)


@njit(cache=True)
def _mark_first_link(W, S, r, d, t):
    """An upload's first bits go on the air at ``t``: keep its first link and that link's work
    done then (``rq_link0``), so that its booking at its end knows the link's idle time for
    the packets the cell forwarded meanwhile (:func:`ul_done`)."""
    S.rq_link0[r, 0] = np.nan
    site = S.rq_i[r, I_PLACE]
    if site < 0 or not ul_bits_of(W, S.rq_i[r, I_SVC], S.rq_i[r, I_SEQ]) > W.packet_bits:
        return
    lk = W.path_links[W.cell_node[W.dev_cell[d]], site, 0]
    if lk >= 0:
        S.rq_link0[r, 0] = lk
        S.rq_link0[r, 1] = _link_work_done(S, lk, t)


@njit(cache=True)
def _resend_end(W, S, k, retx, plen):
    """The slot in which a transport block first sent in slot ``k`` finally gets through: each
    sending fails with probability ``W.bler``, and a failed one goes again ``retx[j]`` slots
    after its slot ``j`` (:func:`airan.radio.nr.harq_retx_slots`), at most
    ``W.harq_max_retx`` times."""
    for _ in range(W.harq_max_retx):
        if rand_u01(S.rng) >= W.bler:
            break
        k += retx[k % plen]
    return k


@njit(cache=True)
def harq_end(W, S, t, k, uplink, d, k_first):
    """When a transfer of UE ``d`` whose first transport block was in slot ``k_first`` and
    whose last in slot ``k`` (decoded at ``t``) gets through. Every block of it can fail
    (TS 38.321 5.3.2, 5.4.2: each has its own HARQ process), and the transfer is through when
    its last block to get through is: the last one's resends always delay it; an earlier
    block's (one of the slots ``k_first .. k - 1`` the UE sent in, ``ue_sent_*``) only where
    one lands after slot ``k``, as on DDDSU's downlink a block from the S slot (resent 7 slots
    on) or in FDD any of the last few. Counted in whole slots, so the slot of each sending is
    exact at any simulated time (recovered from a sum of seconds it went wrong at 120 kHz after
    ~540,000 s); the transfer arrives at the end of that slot's part of its direction. The
    UE's last 63 slots are known; blocks before them cannot be resent after ``k`` unless
    ``harq_max_retx`` round trips span more than that."""
    if W.bler <= 0.0:
        return t
    plen = W.slot_type.shape[0]
    retx = W.harq_ul_slots if uplink else W.harq_dl_slots
    k_end = _resend_end(W, S, k, retx, plen)
    if k_first < k:
        sent = S.ue_sent_ul if uplink else S.ue_sent_dl
        mask = sent[d, 0]
        last = sent[d, 1]
        reach = 0  # the furthest a block's resends can go: max_retx of the longest round trip
        for x in range(plen):
            if retx[x] > reach:
                reach = retx[x]
        lo = k - W.harq_max_retx * reach + 1
        if lo < k_first:
            lo = k_first
        for i in range(63):  # the earlier blocks, latest first
            j = last - i
            if j < lo:
                break
            if j < k and (mask >> i) & 1:
                kj = _resend_end(W, S, j, retx, plen)
                if kj > k_end:
                    k_end = kj
    if k_end == k:
        return t
    part = 1.0
    if not uplink and W.slot_type[k_end % plen] == SLOT_S:
        part = S_SLOT_DL_FRACTION
    return (k_end + part) * W.slot_s


@njit(cache=True)
def _count_drx(W, d, a, b, out):
    """``out[fleet of d]`` += the time ``[a, b)`` UE ``d`` spent in DRX (s) and what its radio
    drew then (J; airan.radio.drx.span_energy_j)."""
    f = W.dev_fleet[d]
    out[f, 0] += b - a
    out[f, 1] += drx.span_energy_j(a, b, W.dev_drx_offset_s[d], W.dev_drx_cycle_s[d],
                                   W.dev_drx_on_s[d], W.ue_pdcch_w, W.drx_sleep,
                                   W.dev_drx_short_s[d], W.dev_drx_short_span_s[d])


@njit(cache=True)
def drx_wake(W, S, d, t):
    """UE ``d`` active at ``t`` under DRX (a slot schedules it, or data reached its uplink
    buffer, whose scheduling request keeps it awake until the grant: TS 38.321 5.7): the time
    since its inactivity timer ran out, in DRX, is counted for its fleet (:func:`_count_drx`),
    and the timer restarts. A UE whose fleet has no DRX (where another's has) is left alone."""
    if W.dev_drx_cycle_s[d] <= 0.0:
        return
    last = S.ue_drx_last[d]
    a = last + W.dev_drx_inact_s[d]
    if t > a and S.ue_ul_head[d] < 0:  # (awake all along while it had uplink data waiting)
        _count_drx(W, d, a, t, S.fleet_drx)
    if t > last:
        S.ue_drx_last[d] = t


@njit(cache=True)
def _drx_tail(W, S, now, out):
    """``out[fleet]`` += (the time in DRX, the energy then) of its UEs from their inactivity
    timers' end to ``now``: what :func:`drx_wake` will count at their next activity."""
    if not W.drx_any:
        return
    for d in range(W.dev_fleet.shape[0]):
        a = S.ue_drx_last[d] + W.dev_drx_inact_s[d]
        # (with uplink data waiting, awake: its SR; a UE of a fleet without DRX: never)
        if W.dev_drx_cycle_s[d] > 0.0 and now > a and S.ue_ul_head[d] < 0:
            _count_drx(W, d, a, now, out)


@njit(cache=True)
def _mark_sent(sent, d, k):
    """Note that UE ``d`` sent (or received) a transport block in slot ``k`` (harq_end):
    ``sent[d]`` is (mask, slot), bit i of the mask set where it did in slot - i."""
    shift = k - sent[d, 1]
    if shift <= 0:
        sent[d, 0] |= 1
        return
    sent[d, 0] = ((sent[d, 0] << shift) | 1) if shift < 63 else 1
    sent[d, 1] = k


@njit(cache=True)
def serve_ul(W, S, k, s0):
    """One uplink slot: every cell shares its PRBs among its UEs that have data and a grant.

    Round robin (``rr``): equal shares among all such UEs (a fluid processor-sharing model), then
    one round of progressive filling.
    Proportional fair (``pf``): each UE sees Rayleigh block fading (drawn from a hash of slot and
    device, so the draw does not depend on the order of the active list); the cell grants its
    PRBs in the order of the instantaneous-rate / average-throughput metric, each UE taking what
    its buffer needs (a power-limited one what it can use) until the PRBs or the ``PF_MAX_UES``
    grants of the slot run out. A UE at a fading peak thus sends at that peak: the multiuser
    diversity gain of PF (Tse & Viswanath 2005, 6.6).
    M-LWDF (``mlwdf``): PF with the metric weighted by how urgent the UE's oldest request is,
    a_j times its delay so far (radio.scheduling): a UE whose request has waited longer,
    relative to its service's deadline and target, goes first at equal rate and throughput.
    """
    n_act = S.ctr[C_ACT_UL]
    if n_act == 0:
        return
    # Arrays are read out of the World and State once, into locals the loops keep in registers.
    ctr = S.ctr
    ctr[C_WORK_UL] += n_act
    act = S.act_ul
    act_pos = S.act_ul_pos
    pf_w = S.ue_pf_w
    elig = S.ue_ul_elig
    se_slot = S.ue_se_slot
    se_ul = S.ue_se_ul
    fade_a = S.ue_fade
    avg_thr = S.ue_avg_thr
    ul_head = S.ue_ul_head
    ul_tail = S.ue_ul_tail
    ul_bits = S.ue_ul_bits
    sent_ul = S.ue_sent_ul
    cell_top = S.cell_top
    cell_top_m = S.cell_top_m
    cell_mark = S.cell_mark
    touched = S.touched
    used_ul = S.cell_used_ul
    pow_ul = S.cell_pow_ul
    rq_f = S.rq_f
    rq_i = S.rq_i
    dev_cell = W.dev_cell
    p_prb_a = W.dev_ul_p_prb_mw
    free_prb = S.cell_free_prb_ul  # the PRBs the devices may use (background, L1 taken out)
    bpp_ul = W.cell_bits_per_prb_ul
    alpha = W.load_alpha
    cnt = S.cell_tmp
    pf = W.scheduler_pf
    delay_w = W.svc_delay_weight
    mlwdf = delay_w.shape[0] > 0  # PF's metric weighted by the head request's delay
    qos_w = W.svc_qos_weight
    qos = qos_w.shape[0] > 0  # each UE weighed by its head request's 5QI priority level
    lim = s0 + EPS
    # visit the UEs in device order: memory is then read in one direction (prefetchable), and
    # the result does not depend on the order in which UEs became active
    _sort_active(act, ctr, C_ACT_UL, C_ACT_UL_SORTED)
    n_dev = dev_cell.shape[0]
    fade_seed = W.seed ^ FADE_SEED_MIX
    diversity = W.cell_ul_diversity
    pf_n = S.ue_pf_n
    n_now = ctr[C_NSLOT_UL]  # this uplink slot's number (update_loads counts it at its end)
    decay = W.load_decay
    n_decay = decay.shape[0] - 1
    top_cell = W.dev_top_cell
    top_gain = W.dev_top_gain_ul  # the uplink refresh reads its own frequency's gains
    n_top = top_cell.shape[1]
    for i in range(n_act):
        if i + 2 * PREFETCH_AHEAD < n_act:  # a UE's own entries, which the next stage reads
            y = act[i + 2 * PREFETCH_AHEAD]
            prefetch(se_slot, y)
            prefetch(elig, y)
        # (a UE still waiting for its SR's grant is passed over: nothing more of it is read)
        if i + PREFETCH_AHEAD < n_act:  # an eligible UE's cell; if it is due for a SINR
            x = act[i + PREFETCH_AHEAD]  # refresh, its gains
            if elig[x] <= lim:
                prefetch(dev_cell, x)
                if k - se_slot[x] >= SE_REFRESH_SLOTS or se_slot[x] < 0:
                    prefetch(top_cell, x * n_top)
                    prefetch(top_gain, x * n_top)
        if i + PREFETCH_AHEAD // 2 < n_act:
            x = act[i + PREFETCH_AHEAD // 2]
            if elig[x] <= lim and (k - se_slot[x] >= SE_REFRESH_SLOTS or se_slot[x] < 0):
                _prefetch_iul(W, S, dev_cell[x], k)
        d = act[i]
        pf_w[d] = -1.0  # not eligible this slot
        if elig[d] <= lim:
            c = dev_cell[d]
            if k - se_slot[d] >= SE_REFRESH_SLOTS or se_slot[d] < 0:
                refresh_ul(W, S, d, k)
            if cell_mark[c] == 0:  # _touch
                cell_mark[c] = 1
                touched[ctr[C_TOUCHED]] = c
                ctr[C_TOUCHED] += 1
            pf_w[d] = 1.0
            w_qos = qos_w[rq_i[ul_head[d], I_SVC]] if qos else 1.0
            cnt[c] += w_qos  # (rr's shares: in proportion to the weights)
            if pf:  # its fading and metric; the cell keeps its PF_MAX_UES best in order
                # its average throughput decayed over the uplink slots it was not served
                # in while it had no data or no grant (an EWMA over every slot, lazily)
                gap = n_now - pf_n[d]
                if gap > 0:
                    a = avg_thr[d] * decay[min(gap, n_decay)]
                    avg_thr[d] = a if a > 1e-3 else 1e-3
                pf_n[d] = n_now + 1
                n_branch = diversity[c]
                fade = rayleigh_fade((k * n_dev + d) * n_branch, fade_seed, n_branch)
                fade_a[d] = fade
                # a cell's first UE waits for a second before its metric is computed: alone,
                # it is first whatever its metric (most cells hold one UE in a slot)
                if cell_top[c, 0] < 0:
                    cell_top[c, 0] = d
                    cell_top_m[c, 0] = np.nan
                    continue
                if cell_top_m[c, 0] != cell_top_m[c, 0]:
                    u = cell_top[c, 0]
                    m0 = math.log2(1.0 + se_ul[u] * fade_a[u] * p_prb_a[u]) / avg_thr[u]
                    if mlwdf:
                        m0 *= _delay_weight(S, u, delay_w, s0)
                    if qos:
                        m0 *= qos_w[rq_i[ul_head[u], I_SVC]]
                    cell_top_m[c, 0] = m0
                metric = math.log2(1.0 + se_ul[d] * fade * p_prb_a[d]) / avg_thr[d]
                if mlwdf:
                    metric *= _delay_weight(S, d, delay_w, s0)
                metric *= w_qos
                _top_insert(cell_top, cell_top_m, c, d, metric)  # ties: the lower device
    slot = W.slot_s
    grant = S.ue_grant
    spare = S.cell_spare
    heavy = S.cell_heavy
    if pf:  # each cell with eligible UEs makes its grants (see _pf_grant)
        for i in range(n_act):
            d = act[i]
            if pf_w[d] >= 0.0 and cell_top[dev_cell[d], 0] >= 0:
                c = dev_cell[d]
                _pf_grant(W, S, c, free_prb[c])
    else:
        # one round of progressive filling: what a UE does not need of its equal share (its
        # whole buffer fits in less) goes, in equal parts, to the UEs of its cell that need
        # more (marked pf_w 2); without it a large upload beside a few small ones crawled at
        # 1/n of the cell
        for i in range(n_act):
            d = act[i]
            if pf_w[d] <= 0.0:
                continue
            c = dev_cell[d]
            w_qos = qos_w[rq_i[ul_head[d], I_SVC]] if qos else 1.0
            equal = free_prb[c] * w_qos / cnt[c]
            cap = ul_capacity(W, S, d, c, equal, 1.0)[0]
            want = _ul_want(W, S, d)
            if cap > 0.0 and want < cap:
                spare[c] += equal * (1.0 - want / cap)
            else:
                heavy[c] += w_qos
                pf_w[d] = 2.0
    fleet_energy = S.fleet_energy_j
    dev_fleet = W.dev_fleet
    drx_on = W.drx_any != 0
    tx_circuit_w = W.ue_tx_circuit_w
    pa_eff = W.ue_pa_efficiency
    resends = nr.expected_sends(W.bler, W.harq_max_retx) - 1.0  # (a last block's, a slot each)
    kept = 0  # UEs still holding data are compacted to the front, in order
    nrf = rq_f.shape[1]
    nri = rq_i.shape[1]
    # the slot's uplink completions are events, ordered with the heap's by (time, push order),
    # all at the slot's end: they wait in a list of their own, in push order, rather than in
    # the heap (a quarter of all events: cheaper than heap pushes and pops)
    ulq_t = S.ulq_t
    ulq_s = S.ulq_s
    ulq_r = S.ulq_r
    s1 = s0 + slot
    ctr[C_ULQ_N] = 0
    for i in range(n_act):  # (only a granted UE's buffer is read: the others' is not fetched)
        if i + 2 * PREFETCH_AHEAD < n_act:  # a UE's own entries, which the next stage reads
            y = act[i + 2 * PREFETCH_AHEAD]
            if pf_w[y] > (1.5 if pf else 0.0):
                prefetch(ul_head, y)
        if i + PREFETCH_AHEAD < n_act:  # the request at the head of a UE's buffer
            y = act[i + PREFETCH_AHEAD]
            if pf_w[y] > (1.5 if pf else 0.0):
                x = ul_head[y]
                prefetch(rq_f, x * nrf + T_UL_START)
                prefetch(rq_f, x * nrf + REM_BITS)
                prefetch(rq_i, x * nri + I_NEXT)
        d = act[i]
        if pf_w[d] <= 0.0 or (pf and pf_w[d] < 1.5):
            if pf and pf_w[d] > 0.0:  # eligible, not granted
                a = avg_thr[d] * (1.0 - alpha)
                avg_thr[d] = a if a > 1e-3 else 1e-3
            act[kept] = d
            act_pos[d] = kept
            kept += 1
            continue
        c = dev_cell[d]
        if pf:
            share = grant[d]
        else:
            w_qos = qos_w[rq_i[ul_head[d], I_SVC]] if qos else 1.0
            share = free_prb[c] * w_qos / cnt[c]
            if pf_w[d] > 1.5:  # it needs more than an equal share: a part of what others leave
                share += spare[c] * w_qos / heavy[c]
        cap, n_use, p_out_mw = ul_capacity(W, S, d, c, share, fade_a[d] if pf else 1.0)
        if cap <= 0.0 and ul_bits[d] > 0.0:  # (a grant for requests of no bits carries none)
            act[kept] = d
            act_pos[d] = kept
            kept += 1
            continue
        # the SR's grant carries at most its size, the buffer's report with it; the next
        # grant, sized to the report, follows grant_delay after this slot
        send = cap
        first = W.first_grant_bits > 0.0 and S.ue_first_grant[d] == 1
        if first:
            S.ue_first_grant[d] = 0
            if W.first_grant_bits < send:
                send = W.first_grant_bits
        used = 0.0
        r = ul_head[d]
        while r >= 0 and (used < send or rq_f[r, REM_BITS] <= 0.0):  # (empty ones ride along)
            if rq_f[r, T_UL_START] != rq_f[r, T_UL_START]:
                rq_f[r, T_UL_START] = s0  # its first bits go in this slot's transport block
                _mark_first_link(W, S, r, d, s0)
            rem = rq_f[r, REM_BITS]
            if rem <= send - used:
                used += rem
                rq_f[r, REM_BITS] = 0.0
                ul_bits[d] -= rem
                nxt = rq_i[r, I_NEXT]
                ul_head[d] = nxt
                # its last bits are in this slot's transport block, which the cell decodes
                # after the slot's last symbol (PUSCH spans the slot, TS 38.214 6.1.2.1): an
                # event at the slot's end, so links are used in time order
                t_done = harq_end(W, S, s1, k, True, d,
                                  int(rq_f[r, T_UL_START] / W.slot_s + 0.5))
                rq_f[r, T_UL_DONE] = t_done
                nq = ctr[C_ULQ_N]
                if t_done > s1:  # sent again (HARQ): a later event
                    push_event(S, t_done, r)
                elif nq < ulq_t.shape[0]:  # one of this slot's: queued apart
                    ulq_t[nq] = t_done
                    ulq_s[nq] = ctr[C_PUSHES]
                    ulq_r[nq] = r
                    ctr[C_PUSHES] += 1
                    ctr[C_ULQ_N] = nq + 1
                else:
                    push_event(S, t_done, r)
                r = nxt
            else:
                rq_f[r, REM_BITS] = rem - (send - used)
                ul_bits[d] -= send - used
                used = send
        if first and ul_head[d] >= 0:
            elig[d] = _next_grant_time(W, k + 1)
        if cap > 0.0:
            used_ul[c] += n_use * used / cap
            pow_ul[c] += p_out_mw * used / cap  # the power it put out, over the PRBs it used
            if used > 0.0:  # device energy: PUSCH spans the slot (TS 38.214 6.1.2.1), so the
                # circuits draw for all of it; the output power is on the PRBs its data needed
                fleet_energy[dev_fleet[d]] += (tx_circuit_w + p_out_mw * 1e-3 / pa_eff
                                               * used / cap) * slot
                if ul_head[d] < 0:  # its buffer's last block: its resends go alone
                    fleet_energy[dev_fleet[d]] += tx_circuit_w * slot * resends
                _mark_sent(sent_ul, d, k)
                if drx_on and s0 > S.ue_drx_last[d]:  # the timer restarts (awake since its
                    S.ue_drx_last[d] = s0  # data came, its SR pending: drx_wake then)
        if pf:  # average throughput in PRB-normalised units, EWMA
            avg_thr[d] += alpha * (used / bpp_ul[c] - avg_thr[d])
            if avg_thr[d] < 1e-3:
                avg_thr[d] = 1e-3
        if ul_head[d] < 0:
            ul_tail[d] = -1
            ul_bits[d] = 0.0
            act_pos[d] = -1
        else:
            act[kept] = d
            act_pos[d] = kept
            kept += 1
    ctr[C_ACT_UL] = kept
    ctr[C_ACT_UL_SORTED] = kept


@njit(cache=True)
def _delay_weight(S, d, delay_w, s0):
    """M-LWDF's weight of UE ``d`` at ``s0``: a_j of its oldest request's service times that
    request's delay so far (radio.scheduling)."""
    r = S.ue_ul_head[d]
    return delay_w[S.rq_i[r, I_SVC]] * (s0 - S.rq_f[r, T_CREATE])


@njit(cache=True)
def _pf_grant(W, S, c, prbs):
    """One cell's PF grants in an uplink slot, of ``prbs`` PRBs, to its ranked UEs (``cell_top``,
    best metric first; emptied here): a UE takes what its buffer needs within its power headroom
    (the PRBs it fills at its open-loop power per PRB, TS 38.213 7.1.1); what is left then goes,
    in the same order, to UEs that could use more at a lower power per PRB (power-limited ones,
    down to the SINR floor). Granted UEs get ``ue_grant`` and are marked pf_w 2 (3 between the
    passes: still wanting more); the others stay 1 (eligible, not served)."""
    cell_top = S.cell_top
    cell_top_m = S.cell_top_m
    pf_w = S.ue_pf_w
    grant = S.ue_grant
    fade_a = S.ue_fade
    p_prb_a = W.dev_ul_p_prb_mw
    p_max_a = W.dev_ue_tx_mw
    left = prbs
    n_top = 0
    for j in range(PF_MAX_UES):
        u = cell_top[c, j]
        if u < 0:
            break
        n_top = j + 1
        if left <= 0.0:
            continue
        room = p_max_a[u] / p_prb_a[u]
        offer = left if left < room else room
        cap, n_use, _ = ul_capacity(W, S, u, c, offer, fade_a[u])
        if cap <= 0.0:
            continue
        g, more = _pf_take(_ul_want(W, S, u), cap, n_use)
        # it could use more: its buffer needs more, and its headroom, not the PRBs left or the
        # SINR floor, bounded what it took
        pf_w[u] = 3.0 if more and offer < left and n_use >= offer else 2.0
        grant[u] = g
        left -= g
    for j in range(n_top):
        u = cell_top[c, j]
        if left > 0.0 and pf_w[u] > 2.5:
            cap, n_use, _ = ul_capacity(W, S, u, c, grant[u] + left, fade_a[u])
            g, _ = _pf_take(_ul_want(W, S, u), cap, n_use)
            if g < n_use:  # its buffer fits: past its headroom the capacity grows less than
                # in proportion to the PRBs, so the share overstates them
                g = _pf_need(W, S, u, c, _ul_want(W, S, u), grant[u], g, fade_a[u])
            if g > grant[u]:
                left -= g - grant[u]
                grant[u] = g
            pf_w[u] = 2.0
        cell_top[c, j] = -1
        cell_top_m[c, j] = -1.0


@njit(cache=True)
def _pf_take(bits, cap, n_use):
    """(PRBs, wants more) a PF grant takes of an offer that carries ``cap`` bits on ``n_use``
    PRBs: the share its ``bits`` need (rounded up by a hair, so the grant's capacity holds them
    all: capacity is concave in the PRBs through zero), or all ``n_use`` if they need more."""
    if bits < cap:
        return n_use * min(bits / cap * (1.0 + 1e-9), 1.0), False
    return n_use, True


@njit(cache=True)
def _pf_need(W, S, d, c, bits, lo, hi, fade):
    """The fewest PRBs, between ``lo`` (the UE's power headroom, which carries less than
    ``bits``) and ``hi`` (which carries them), on which a power-limited UE sends ``bits``.

    Past its headroom the UE spreads its maximum power over the PRBs, so the capacity n SE(P g /
    n) is concave in n: Newton's steps from ``lo`` approach the root from below, a few suffice.
    The root is taken for ``bits`` raised by a hair, so the grant's capacity holds them all;
    ``hi`` stays the answer if the steps do not settle (the SINR floor's kink, say)."""
    want = bits * (1.0 + 1e-9)
    gain = S.ue_se_ul[d] * fade
    p_max = W.dev_ue_tx_mw[d]
    bpp = W.cell_bits_per_prb_ul[c]
    n = lo
    for _ in range(12):
        cap = ul_capacity(W, S, d, c, n, fade)[0]
        if cap >= bits and n <= hi:
            return n
        x = p_max / n * gain  # the SINR per PRB at full power on n PRBs
        se = spectral_eff(x, W.min_sinr_lin * (1.0 - 1e-9))
        slope = se if se >= SE_MAX else se - SE_ATT * x / (math.log(2.0) * (SE_GAP + x))
        if slope <= 0.0 or cap <= 0.0:
            break
        n += (want - cap) / (slope * bpp)
    return hi


@njit(cache=True)
def _top_insert(top, top_m, c, d, metric):
    """Keep the PF_MAX_UES best (metric, UE) of cell ``c`` in descending order."""
    m = top.shape[1]
    if metric <= top_m[c, m - 1]:
        return
    j = m - 1
    while j > 0 and top_m[c, j - 1] < metric:
        top[c, j] = top[c, j - 1]
        top_m[c, j] = top_m[c, j - 1]
        j -= 1
    top[c, j] = d
    top_m[c, j] = metric


RADIX_BITS = 11  # digits of the radix sort: a 16 KB count table, two passes up to 4M devices


@njit(cache=True)
def _sorted_ids(ids):
    """A sorted copy of ``ids`` (non-negative ints): LSD radix sort, a pass per RADIX_BITS of
    the largest; insertion sort for a few. The same result as ``np.sort`` (ids are integers),
    ~5x faster on the few hundred to few thousand UEs a slot adds in metro."""
    n = ids.shape[0]
    out = ids.copy()
    if n < 32:
        for i in range(1, n):
            x = out[i]
            j = i - 1
            while j >= 0 and out[j] > x:
                out[j + 1] = out[j]
                j -= 1
            out[j + 1] = x
        return out
    top = 0
    for i in range(n):
        if out[i] > top:
            top = out[i]
    tmp = np.empty_like(out)
    counts = np.empty(1 << RADIX_BITS, dtype=np.int64)
    mask = (1 << RADIX_BITS) - 1
    shift = 0
    while (top >> shift) > 0:
        counts[:] = 0
        for i in range(n):
            counts[(out[i] >> shift) & mask] += 1
        total = 0
        for b in range(counts.shape[0]):
            c = counts[b]
            counts[b] = total
            total += c
        for i in range(n):
            x = out[i]
            b = (x >> shift) & mask
            tmp[counts[b]] = x
            counts[b] += 1
        out, tmp = tmp, out
        shift += RADIX_BITS
    return out


@njit(cache=True)
def _sort_active(act, ctr, n_idx, sorted_idx):
    """Put the active UEs in device order: the front is sorted already (the schedulers keep
    their order), the UEs appended since are sorted and merged in."""
    n = ctr[n_idx]
    m = ctr[sorted_idx]
    if m > n:
        m = n
    if m == n:
        return
    tail = _sorted_ids(act[m:n])
    i = m - 1  # merge from the back: the sorted front moves up past the larger new UEs
    j = tail.shape[0] - 1
    w = n - 1
    while j >= 0:
        if i >= 0 and act[i] > tail[j]:
            act[w] = act[i]
            i -= 1
        else:
            act[w] = tail[j]
            j -= 1
        w -= 1
    ctr[sorted_idx] = n


@njit(cache=True)
def _activate_dl(W, S, lim):
    """Move the UEs whose first answer is schedulable by ``lim`` from the ring of those waiting
    (dl_arrive) into the downlink scheduler's active set. Answers arrive in time order and
    wait the same ``dl_sched_delay_s``, so the ring is in the order they become due."""
    ring = S.dlq_d
    n = S.ctr[C_DLQ_N]
    h = S.ctr[C_DLQ_HEAD]
    delay = W.dl_sched_delay_s
    while n > 0:
        d = ring[h]
        if S.rq_f[S.ue_dl_head[d], T_DLARR] + delay > lim:
            break
        _set_add(S.act_dl, S.act_dl_pos, C_ACT_DL, S.ctr, d)
        h = h + 1 if h + 1 < ring.shape[0] else 0
        n -= 1
    S.ctr[C_DLQ_N] = n
    S.ctr[C_DLQ_HEAD] = h


@njit(cache=True)
def serve_dl(W, S, k, s0, frac):
    """One downlink slot (``frac`` of it usable): PRBs shared among UEs with answers waiting."""
    _activate_dl(W, S, s0 + EPS)
    n_act = S.ctr[C_ACT_DL]
    if n_act == 0:
        return
    S.ctr[C_WORK_DL] += n_act
    act = S.act_dl
    act_pos = S.act_dl_pos
    dl_head = S.ue_dl_head
    dl_tail = S.ue_dl_tail
    se_dl = S.ue_se_dl
    se_slot = S.ue_se_slot_dl
    rq_f = S.rq_f
    rq_i = S.rq_i
    dev_cell = W.dev_cell
    free_prb = S.cell_free_prb_dl  # the PRBs the devices may use (background, L1 taken out)
    bpp_dl = W.cell_bits_per_prb_dl
    used_dl = S.cell_used_dl
    cnt = S.cell_tmp
    lim = s0 + EPS
    delay = W.dl_sched_delay_s  # an answer can be scheduled this long after it arrived
    # device order: one-directional memory access, order-independent result
    _sort_active(act, S.ctr, C_ACT_DL, C_ACT_DL_SORTED)
    top_cell = W.dev_top_cell
    top_gain = W.dev_top_gain
    n_top = top_cell.shape[1]
    resid = W.dev_resid_gain_mw
    dl_noise = W.dev_dl_noise_mw
    nrf = rq_f.shape[1]
    dev_fleet = W.dev_fleet
    hold = S.ue_dl_hold  # its link interrupted until then (a handover, a re-establishment)
    drx_on = W.drx_any != 0
    qos_w = W.svc_qos_weight
    qos = qos_w.shape[0] > 0  # shares in proportion to the head answer's 5QI weight
    # 1: the UE needs more than an equal share; 2: out of coverage; 3: held (or asleep)
    more = S.ue_tmp
    for i in range(n_act):
        if i + 2 * PREFETCH_AHEAD < n_act:  # a UE's own entries, which the next stage reads
            y = act[i + 2 * PREFETCH_AHEAD]
            prefetch(dl_head, y)
            prefetch(se_slot, y)
            prefetch(dev_cell, y)
            prefetch(dev_fleet, y)
        if i + PREFETCH_AHEAD < n_act:  # the answer at the head, and the gains for a refresh
            x = act[i + PREFETCH_AHEAD]
            prefetch(rq_f, dl_head[x] * nrf + T_DLARR)
            if k - se_slot[x] >= SE_REFRESH_SLOTS or se_slot[x] < 0:
                prefetch(top_cell, x * n_top)
                prefetch(top_cell, x * n_top + n_top - 1)
                prefetch(top_gain, x * n_top)
                prefetch(top_gain, x * n_top + n_top - 1)
                prefetch(resid, x)
                prefetch(dl_noise, x)
                prefetch(se_dl, x)
        d = act[i]
        if rq_f[dl_head[d], T_DLARR] + delay <= lim:
            if hold[d] > lim:  # waits in the set, with no share, until its link is back
                more[d] = 3
                continue
            # (a UE of a fleet without DRX, where another's has it: no on-duration, awake)
            if drx_on and S.ue_ul_head[d] < 0 and W.dev_drx_on_slots[d] > 0 and (
                    drx.asleep_in_slot(k, lim, S.ue_drx_last[d], W.dev_drx_inact_s[d],
                                       W.dev_drx_offset_slots[d], W.dev_drx_cycle_slots[d],
                                       W.dev_drx_on_slots[d], W.dev_drx_short_slots[d],
                                       W.dev_drx_short_span_s[d], W.slot_s)):
                more[d] = 3  # the UE sleeps (DRX): the answer waits for its on-duration
                continue  # (one with uplink data waiting is awake, its SR pending)
            if k - se_slot[d] >= SE_REFRESH_SLOTS or se_slot[d] < 0:
                refresh_dl(W, S, d, k)
            if se_dl[d] <= 0.0:  # below the SINR floor: no PRB carries a bit (see below)
                more[d] = 2
                continue
            more[d] = 0
            c = dev_cell[d]
            _touch(S, c)
            cnt[c] += qos_w[rq_i[dl_head[d], I_SVC]] if qos else 1.0
    slot = W.slot_s * frac
    resends = nr.expected_sends(W.bler, W.harq_max_retx) - 1.0  # (a last block's, a slot each)
    # one round of progressive filling, as on the uplink (serve_ul): the answers a UE can take
    # in less than its equal share leave the rest to the UEs of its cell that need more
    spare = S.cell_spare
    heavy = S.cell_heavy
    for i in range(n_act):
        d = act[i]
        r = dl_head[d]
        if rq_f[r, T_DLARR] + delay > lim or more[d] >= 2:
            continue
        c = dev_cell[d]
        w_qos = qos_w[rq_i[r, I_SVC]] if qos else 1.0
        equal = free_prb[c] * w_qos / cnt[c]
        cap = equal * se_dl[d] * bpp_dl[c] * frac
        need = 0.0
        while r >= 0 and need < cap and rq_f[r, T_DLARR] + delay <= lim:
            need += rq_f[r, REM_BITS]
            r = rq_i[r, I_NEXT]
        if cap > 0.0 and need < cap:
            spare[c] += equal * (1.0 - need / cap)
            more[d] = 0
        else:
            heavy[c] += w_qos
            more[d] = 1
    kept = 0
    for i in range(n_act):
        d = act[i]
        r = dl_head[d]
        if rq_f[r, T_DLARR] + delay > lim or more[d] == 3:
            act[kept] = d
            act_pos[d] = kept
            kept += 1
            continue
        if more[d] == 2:
            # a UE whose downlink SINR is below the floor gets no bit through and takes no
            # share of the cell: its answers due now end as radio_outage, as an upload does
            # at creation (else they would wait, unbounded, for the SINR to recover)
            while r >= 0 and rq_f[r, T_DLARR] + delay <= lim:
                nxt = rq_i[r, I_NEXT]
                drop(W, S, r, R_RADIO_OUTAGE, s0)
                r = nxt
            dl_head[d] = r
        else:
            c = dev_cell[d]
            w_qos = qos_w[rq_i[r, I_SVC]] if qos else 1.0
            share = free_prb[c] * w_qos / cnt[c]
            if more[d] == 1:
                share += spare[c] * w_qos / heavy[c]
            cap = share * se_dl[d] * bpp_dl[c] * frac
            used = 0.0
            while r >= 0 and used < cap and rq_f[r, T_DLARR] + delay <= lim:
                if rq_f[r, T_DONE] != rq_f[r, T_DONE]:  # its first bits: T_DONE holds the slot
                    rq_f[r, T_DONE] = k  # until it is done (harq_end)
                rem = rq_f[r, REM_BITS]
                if rem <= cap - used:
                    used += rem
                    nxt = rq_i[r, I_NEXT]
                    dl_head[d] = nxt
                    # delivered after the last downlink symbol of the slot (or of the S slot's
                    # downlink part) that carried its last bits, as on the uplink
                    t_done = harq_end(W, S, s0 + slot, k, False, d, int(rq_f[r, T_DONE]))
                    if t_done > s0 + slot:  # sent again (HARQ): delivered by an event
                        rq_i[r, I_STAGE] = ST_AIR
                        push_event(S, t_done, r)
                    else:
                        finish(W, S, r, t_done)
                    r = nxt
                else:
                    rq_f[r, REM_BITS] = rem - (cap - used)
                    used = cap
            used_dl[c] += share * (used / cap if cap > 0 else 1.0)
            if used > 0.0:  # device energy: receiving for the slot (PDSCH spans it)
                S.fleet_energy_j[dev_fleet[d]] += W.ue_rx_w * slot
                if dl_head[d] < 0:  # its queue's last block: its resends come alone
                    S.fleet_energy_j[dev_fleet[d]] += W.ue_rx_w * W.slot_s * resends
                _mark_sent(S.ue_sent_dl, d, k)
                if drx_on:
                    drx_wake(W, S, d, s0)
        if dl_head[d] < 0:
            dl_tail[d] = -1
            act_pos[d] = -1
        else:
            act[kept] = d
            act_pos[d] = kept
            kept += 1
    S.ctr[C_ACT_DL] = kept
    S.ctr[C_ACT_DL_SORTED] = kept


@njit(cache=True)
def update_loads(W, S, direction):
    """Close a slot of one direction: fold the PRBs each touched cell used into its load EWMA.

    Only cells that had UEs to serve are visited; the others decay lazily (see cell_load).
    """
    a = W.load_alpha
    if direction == 0:
        load, load_k, used, prb_sum, nslot = S.load_dl, S.load_dl_k, S.cell_used_dl, \
            S.prb_sum_dl, C_NSLOT_DL
    else:
        load, load_k, used, prb_sum, nslot = S.load_ul, S.load_ul_k, S.cell_used_ul, \
            S.prb_sum_ul, C_NSLOT_UL
    now = S.ctr[nslot] + 1
    tot = 0.0
    for x in range(S.ctr[C_TOUCHED]):
        c = S.touched[x]
        u = used[c] / W.cell_prb[c]
        if u > 1.0:
            u = 1.0
        if direction == 1:  # the UEs' output power, for the interference (read before load_k)
            cur = cell_load(S.pow_ul, load_k, c, now - 1, W.load_decay)
            S.pow_ul[c] = cur + a * (S.cell_pow_ul[c] / W.cell_ul_pref_mw[c] - cur)
            S.cell_pow_ul[c] = 0.0
        cur = cell_load(load, load_k, c, now - 1, W.load_decay)
        load[c] = cur + a * (u - cur)
        load_k[c] = now
        prb_sum[c] += used[c]
        tot += used[c]
        used[c] = 0.0
        S.cell_tmp[c] = 0.0
        S.cell_spare[c] = 0.0
        S.cell_heavy[c] = 0.0
        S.cell_mark[c] = 0
    S.ctr[C_TOUCHED] = 0
    S.ctr[nslot] = now
    f = F_MEAN_LOAD_DL if direction == 0 else F_MEAN_LOAD_UL
    S.fs[f] += a * (tot / W.total_prb - S.fs[f])


@njit(cache=True)
def dl_arrive(W, S, r, t):
    """The answer reached the device's cell at ``t``: queue it for the downlink."""
    S.rq_f[r, T_DLARR] = t
    d = S.rq_i[r, I_DEV]
    bits = dl_bits_of(W, S.rq_i[r, I_SVC], S.rq_i[r, I_SEQ])  # (none: nothing to wait for)
    if W.radio_model == 1:  # ideal: at once, or when the device's link is back
        if bits > 0.0 and S.ue_dl_hold[d] > t:
            S.rq_i[r, I_STAGE] = ST_AIR
            push_event(S, S.ue_dl_hold[d], r)
        else:
            finish(W, S, r, t)
        return
    if W.radio_model == 2:  # fixed-rate link per device (from when its link is back)
        start = max(t, S.ue_dl_free[d], S.ue_dl_hold[d]) if bits > 0.0 else max(
            t, S.ue_dl_free[d])
        S.ue_dl_free[d] = start + bits / W.fixed_dl_bps
        S.fleet_energy_j[W.dev_fleet[d]] += W.ue_rx_w * bits / W.fixed_dl_bps
        S.rq_i[r, I_STAGE] = ST_AIR if bits > 0.0 else ST_FINISH
        push_event(S, start + bits / W.fixed_dl_bps + W.fixed_latency_s, r)
        return
    if bits <= 0.0:
        finish(W, S, r, t)
        return
    S.rq_f[r, REM_BITS] = bits
    S.rq_i[r, I_STAGE] = ST_DL
    S.rq_i[r, I_NEXT] = -1
    if S.ue_dl_head[d] < 0:
        S.ue_dl_head[d] = r
        # schedulable from t + dl_sched_delay_s, at a slot's start: it waits in a ring until
        # then, out of the scheduler's way (a slot's visits to UEs with nothing schedulable
        # were 60% of the downlink's in metro). The ring stays in time order (answers arrive
        # in it): one out of order joins the active set at once, to wait there
        ring = S.dlq_d
        n = S.ctr[C_DLQ_N]
        last = ring[(S.ctr[C_DLQ_HEAD] + n - 1) % ring.shape[0]]
        if n > 0 and S.rq_f[S.ue_dl_head[last], T_DLARR] > t:
            _set_add(S.act_dl, S.act_dl_pos, C_ACT_DL, S.ctr, d)
        else:
            ring[(S.ctr[C_DLQ_HEAD] + n) % ring.shape[0]] = d
            S.ctr[C_DLQ_N] = n + 1
    else:
        S.rq_i[S.ue_dl_tail[d], I_NEXT] = r
    S.ue_dl_tail[d] = r


# ---------------------------------------------------------------------------------------------
# compute sites: per-model FIFO queues, GPUs with dynamic batching, in continuous time. A site
# whose GPUs run one batch at a time (one model, one instance) keeps a heap of its GPUs by free
# time, and each batch's end is its first request's event. Where a GPU may run several at once
# (world.site_shared), they share it equally (processor sharing): the GPU keeps their work left
# and has one event of its own, its next batch end, moved whenever a batch joins or leaves.


@njit(cache=True)
def _run_area(S, s, t):
    """Integrate site ``s``'s running batches per model (``site_model_run``, their fixed
    overheads included) up to ``t``, before they change: the time its models' instances were
    busy (``site_run_area``, instance-seconds)."""
    dt = t - S.site_run_last[s]
    if dt > 0.0:
        for m in range(S.site_model_run.shape[1]):
            S.site_run_area[s, m] += S.site_model_run[s, m] * dt
        S.site_run_last[s] = t


@njit(cache=True)
def _qarea(S, s, t):
    if t > S.site_qlast[s]:
        S.site_qarea[s] += S.site_qlen[s] * (t - S.site_qlast[s])
        S.site_qlast[s] = t


@njit(cache=True)
def _gpu_sift_top(key, heap, g0, n):
    """Restore a site's GPU heap (``heap[g0:g0+n]``, ordered by (free time, index)) after the
    key of its top GPU grew. The top is then the GPU a linear scan for the first minimum finds."""
    i = 0
    x = heap[g0]
    kx = key[x]
    while True:
        a = 2 * i + 1
        if a >= n:
            break
        ga = heap[g0 + a]
        b = a + 1
        if b < n:
            gb = heap[g0 + b]
            if key[gb] < key[ga] or (key[gb] == key[ga] and gb < ga):
                a = b
                ga = gb
        if key[ga] < kx or (key[ga] == kx and ga < x):
            heap[g0 + i] = ga
            i = a
        else:
            break
    heap[g0 + i] = x


@njit(cache=True)
def _gpu_progress(S, g, t):
    """Advance the batches running at once on GPU ``g`` to ``t``: those doing their work at
    ``gpu_run_rate``, those in their fixed overhead at ``gpu_oh_rate``."""
    dt = t - S.gpu_run_t[g]
    if dt > 0.0:
        done = dt * S.gpu_run_rate[g]
        done_oh = dt * S.gpu_oh_rate[g]
        for k in range(S.gpu_run_r.shape[1]):
            if S.gpu_run_r[g, k] >= 0:
                S.gpu_run_left[g, k] -= done_oh if S.gpu_run_oh[g, k] != 0 else done
    S.gpu_run_t[g] = t


@njit(cache=True)
def _gpu_schedule(W, S, g, s, t):
    """From ``t`` on, GPU ``g``'s running batches share its AI share equally (processor
    sharing) while they do their work; those in their fixed overhead share a capacity of their
    own (``site_overhead_cap`` overheads at full speed at once: launches and small kernels
    overlap only so far), taking none of the throughput the work shares. Schedule the first
    phase to end, GPU ``g``'s one live event (a superseded one is ignored when it comes up,
    see :func:`gpu_batch_end`)."""
    n = S.gpu_run_n[g]
    if n == 0:
        if S.gpu_ev_t[g] < np.inf:
            _supersede_timer(S)
        S.gpu_ev_t[g] = np.inf
        return
    share = S.site_ai_share[s]
    n_oh = S.gpu_oh_n[g]
    n_work = n - n_oh
    rate = share / n_work if n_work > 0 else share
    cap = W.site_overhead_cap[s]
    rate_oh = share * (cap / n_oh if n_oh > cap else 1.0)
    S.gpu_run_rate[g] = rate
    S.gpu_oh_rate[g] = rate_oh
    least = np.inf
    for k in range(S.gpu_run_r.shape[1]):
        if S.gpu_run_r[g, k] >= 0:
            left = S.gpu_run_left[g, k]
            dt = (left if left > 0.0 else 0.0) / (rate_oh if S.gpu_run_oh[g, k] != 0 else rate)
            if dt < least:
                least = dt
    end = t + least
    # an event already due at or before then wakes the GPU (it reschedules when nothing has
    # ended yet): only an earlier end needs a new one
    if end < S.gpu_ev_t[g]:
        if S.gpu_ev_t[g] < np.inf:
            _supersede_timer(S)
        S.gpu_ev_t[g] = end
        push_event(S, end, -(S.site_wake.shape[0] + 1 + g))


@njit(cache=True)
def gpu_batch_end(W, S, g, t):
    """GPU ``g``'s event at ``t``: unless superseded, move every running batch whose work is
    done (to within a nanosecond) on to its fixed overhead, and end every batch whose overhead
    is done: its model's instance is free again; send its answers (:func:`compute_done`)."""
    if t != S.gpu_ev_t[g]:  # superseded
        S.ctr[C_STALE] -= 1
        return
    S.gpu_ev_t[g] = np.inf
    s = W.gpu_site[g]
    _gpu_progress(S, g, t)
    while True:
        k = -1
        for j in range(S.gpu_run_r.shape[1]):
            if S.gpu_run_r[g, j] >= 0 and S.gpu_run_left[g, j] <= 1e-9:
                k = j
                break
        if k < 0:
            break
        first = S.gpu_run_r[g, k]
        if S.gpu_run_oh[g, k] == 0 and S.gpu_run_tail[g, k] > 0.0:
            # its work is done, its fixed overhead starts: the others' work speeds up now
            S.gpu_run_oh[g, k] = 1
            S.gpu_run_left[g, k] = S.gpu_run_tail[g, k]
            S.gpu_oh_n[g] += 1
            _gpu_schedule(W, S, g, s, t)
            continue
        S.gpu_oh_n[g] -= S.gpu_run_oh[g, k]
        S.gpu_run_oh[g, k] = 0
        S.gpu_run_r[g, k] = -1
        S.gpu_run_n[g] -= 1
        r = first
        while r >= 0:
            S.rq_f[r, T_CEND] = t
            r = S.rq_i[r, I_NEXT]
        m = W.svc_model[S.rq_i[first, I_SVC]]
        _run_area(S, s, t)
        S.gpu_model_n[g, m] -= 1
        S.site_model_run[s, m] -= 1
        _gpu_schedule(W, S, g, s, t)  # the others speed up (before new batches may join them)
        compute_done(W, S, first, t)
    if S.gpu_ev_t[g] == np.inf:
        _gpu_schedule(W, S, g, s, t)


@njit(cache=True)
def dispatch(W, S, s, m, g, t):
    """Start a batch of model ``m`` on GPU ``g`` of site ``s`` at time ``t``."""
    b = S.q_len[s, m]
    if b > W.site_max_batch[s, m]:
        b = W.site_max_batch[s, m]
    work = W.svc_time_s[m, W.gpu_type[g], b] * service_factor(
        W.model_dist[m], W.model_p1[m], W.model_p2[m], S.rng)
    shared = W.site_shared[s] != 0
    tail = 0.0
    if shared:  # its fixed overhead takes none of the throughput the batches share
        tail = W.svc_overhead_s[m, W.gpu_type[g]]
        if tail > work:
            tail = work
        work -= tail
    S.site_ai_work[s] += work
    # the GPU's AI share (below 1 where it also runs the cells' L1): the batch takes longer
    dur = work / S.site_ai_share[s]
    # a GPU that runs batches at once still does the same work: its backlog ends at gpu_free
    end = (S.gpu_free[g] if S.gpu_free[g] > t else t) + dur if shared else t + dur
    S.gpu_free[g] = end
    if not shared:
        _gpu_sift_top(S.gpu_free, S.gpu_heap, W.site_gpu_start[s], W.site_n_gpus[s])
        S.gpu_run_rate[g] = S.site_ai_share[s]  # its one batch's share (a fault's cut reads it)
    S.gpu_busy[g] += dur
    _qarea(S, s, t)
    S.site_batches[s] += 1
    first = S.q_head[s, m]
    r = first
    taken_oldest = False
    # where priorities differ (else each queue is first come, first served: its head is its
    # oldest, and none of this is kept)
    levels = S.q_level_tail.shape[0] > 0
    for _ in range(b):
        if levels:
            if S.rq_f[r, T_SITE] <= S.q_oldest_s[s, m]:
                taken_oldest = True
            v = S.rq_i[r, I_SVC]
            S.q_len_svc[s, v] -= 1
            if S.q_level_tail[s, m, W.svc_compute_priority[v]] == r:  # its priority's last
                S.q_level_tail[s, m, W.svc_compute_priority[v]] = -1
        S.rq_f[r, T_CSTART] = t
        S.rq_f[r, T_CEND] = end if not shared else np.nan  # shared: known when it ends
        S.rq_i[r, I_STAGE] = ST_COMP
        S.rq_i[r, I_GPU] = g
        last = r
        r = S.rq_i[r, I_NEXT]
    S.q_head[s, m] = r
    S.rq_i[last, I_NEXT] = -1  # the batch is now a list of its own
    if shared:  # it joins the GPU's running batches, which all slow down to make room
        _gpu_progress(S, g, t)
        k = 0
        while S.gpu_run_r[g, k] >= 0:
            k += 1
        S.gpu_run_r[g, k] = first
        S.gpu_run_left[g, k] = work
        S.gpu_run_tail[g, k] = tail
        S.gpu_run_oh[g, k] = 0
        S.gpu_run_n[g] += 1
        _run_area(S, s, t)
        S.gpu_model_n[g, m] += 1
        S.site_model_run[s, m] += 1
        _gpu_schedule(W, S, g, s, t)
    else:
        # the answers leave when the batch ends: one event for the batch, its requests in
        # queue order (as b events pushed back to back would run), so links are used in time
        # order
        push_event(S, end, first)
    S.q_len[s, m] -= b
    if S.q_len[s, m] == 0:
        S.q_tail[s, m] = -1
    if levels:
        S.q_oldest_s[s, m] = _q_oldest_after(W, S, s, m, taken_oldest)
    S.site_qlen[s] -= b
    S.ctr[C_QUEUED] -= b
    S.site_served[s] += b


@njit(cache=True)
def compute_done(W, S, r, t):
    """A batch ended at ``t``: send each answer back towards its device's current cell.

    ``r`` is the batch's first request; the others follow it through ``I_NEXT``.
    """
    # prefetch what every answer of the batch reads (see prefetch; the cell it left from stands
    # in for the device's current cell), so that their cache misses overlap
    rq_i = S.rq_i
    path_delay = W.path_delay_s
    path_back = W.path_links_back
    n_nodes = path_delay.shape[0]
    n_sites = path_delay.shape[1]
    hops = path_back.shape[2]
    x = rq_i[r, I_NEXT]
    while x >= 0:
        node = W.cell_node[rq_i[x, I_CELL]]
        s = rq_i[x, I_PLACE]
        prefetch(W.dev_cell, rq_i[x, I_DEV])
        prefetch(path_delay, node * n_sites + s)
        prefetch(path_back, (s * n_nodes + node) * hops)
        x = rq_i[x, I_NEXT]
    while r >= 0:
        nxt = S.rq_i[r, I_NEXT]
        s = S.rq_i[r, I_PLACE]
        node = W.cell_node[W.dev_cell[S.rq_i[r, I_DEV]]]
        if not W.path_delay_s[node, s] < np.inf:  # no way back to the device's cell now
            drop(W, S, r, R_NO_ROUTE, t)
            _advance_site(W, S, s, t)
            r = nxt
            continue
        S.rq_i[r, I_STAGE] = ST_DOWN
        S.rq_i[r, I_CELL] = W.dev_cell[S.rq_i[r, I_DEV]]
        refused = send(W, S, r, W.path_links_back, s, node, 0,
                       dl_bits_of(W, S.rq_i[r, I_SVC], S.rq_i[r, I_SEQ]), t, T_DLARR)
        if refused >= 0.0:
            drop(W, S, r, R_LINK_FULL, refused)
        _advance_site(W, S, s, t)  # the GPU is free: start the next batch now
        r = nxt


@njit(cache=True)
def _advance_site(W, S, s, t_until):
    """Run site ``s`` up to and including time ``t_until``: start every batch that is due."""
    if S.site_up[s] <= 0:  # a failed site starts nothing (noticed or not)
        return
    if W.site_shared[s] != 0:
        _advance_shared(W, S, s, t_until)
        return
    g0 = W.site_gpu_start[s]
    maxb = W.site_max_batch[s]  # per model
    maxw = W.site_max_wait_s[s]
    levels = S.q_level_tail.shape[0] > 0  # priorities differ (else the head is the oldest)
    while S.site_qlen[s] > 0:
        g = S.gpu_heap[g0]  # the GPU free first (lowest index among ties)
        now = S.site_clock[s] if S.site_clock[s] > S.gpu_free[g] else S.gpu_free[g]
        if now > t_until:
            break
        best = -1
        best_p = 1 << 30
        best_t = np.inf
        next_ready = np.inf
        for m in range(S.q_len.shape[1]):
            if S.q_len[s, m] == 0:
                continue
            head = S.q_head[s, m]  # the next to start
            head_t = S.rq_f[head, T_SITE]
            ready_at = (S.q_oldest_s[s, m] if levels else head_t) + maxw[m]
            if S.q_len[s, m] >= maxb[m] or ready_at <= now + EPS:
                # the highest priority, then the oldest
                head_p = W.svc_compute_priority[S.rq_i[head, I_SVC]] if levels else 0
                if head_p < best_p or (head_p == best_p and head_t < best_t):
                    best_p = head_p
                    best_t = head_t
                    best = m
            elif ready_at < next_ready:
                next_ready = ready_at
        if best >= 0:
            S.site_clock[s] = now
            dispatch(W, S, s, np.int64(best), np.int64(g), now)  # (one compile: see R_)
            continue
        if next_ready > t_until:
            if next_ready < S.site_wake[s]:  # wake the site when its oldest request is due
                if S.site_wake[s] < np.inf:
                    _supersede_timer(S)
                S.site_wake[s] = next_ready
                push_event(S, next_ready, -(s + 1))
            break
        S.site_clock[s] = next_ready
    if t_until > S.site_clock[s]:
        S.site_clock[s] = t_until


@njit(cache=True)
def _advance_shared(W, S, s, t):
    """:func:`_advance_site` where GPUs run batches at once: at ``t``, start every batch that
    is due and has a free instance of its model, on the GPU (up) that runs the fewest batches
    (then the least backlog, then the lowest index). A batch end calls this again."""
    if t > S.site_clock[s]:
        S.site_clock[s] = t
    now = S.site_clock[s]
    g0 = W.site_gpu_start[s]
    g1 = g0 + W.site_n_gpus[s]
    maxb = W.site_max_batch[s]
    maxw = W.site_max_wait_s[s]
    inst = W.site_instances[s]
    n_gpus = W.site_n_gpus[s]
    levels = S.q_level_tail.shape[0] > 0  # priorities differ (else the head is the oldest)
    while S.site_qlen[s] > 0:
        best = -1
        best_g = -1
        best_p = 1 << 30
        best_t = np.inf
        next_ready = np.inf
        for m in range(S.q_len.shape[1]):
            # none waiting, or every instance of the model busy: a batch end starts it
            if S.q_len[s, m] == 0 or S.site_model_run[s, m] >= inst[m] * n_gpus:
                continue
            head = S.q_head[s, m]  # the next to start
            head_t = S.rq_f[head, T_SITE]
            ready_at = (S.q_oldest_s[s, m] if levels else head_t) + maxw[m]
            if not (S.q_len[s, m] >= maxb[m] or ready_at <= now + EPS):
                if ready_at < next_ready:
                    next_ready = ready_at
                continue
            # the highest priority, then the oldest
            head_p = W.svc_compute_priority[S.rq_i[head, I_SVC]] if levels else 0
            if head_p > best_p or (head_p == best_p and head_t >= best_t):
                continue
            gm = -1
            for g in range(g0, g1):
                if S.gpu_model_n[g, m] >= inst[m] or S.gpu_free[g] == np.inf:
                    continue  # every instance of the model busy here, or the GPU down
                if gm < 0 or S.gpu_run_n[g] < S.gpu_run_n[gm] or (
                        S.gpu_run_n[g] == S.gpu_run_n[gm] and S.gpu_free[g] < S.gpu_free[gm]):
                    gm = g
            if gm >= 0:  # (none: its free instances are on GPUs that are down)
                best_p = head_p
                best_t = head_t
                best = m
                best_g = gm
        if best >= 0:
            dispatch(W, S, s, np.int64(best), np.int64(best_g), now)
            continue
        if next_ready < S.site_wake[s]:  # wake the site when its oldest request is due
            if S.site_wake[s] < np.inf:
                _supersede_timer(S)
            S.site_wake[s] = next_ready
            push_event(S, next_ready, -(s + 1))
        break


@njit(cache=True)
def orphan(S, r, s):
    """Hand request ``r`` (held by failed site ``s``) to the engine for a new placement (held
    as on its way there while the failure is unnoticed, ``site_up`` -1)."""
    _en_route(S, r, ST_HELD if S.site_up[s] < 0 else ST_ORPHAN)
    S.orphans[S.ctr[C_ORPHANS]] = r
    S.ctr[C_ORPHANS] += 1
    S.site_orphaned[s] += 1


@njit(cache=True)
def _fail_site_requests(W, S, s, gpu_down, t):
    """Site ``s`` (its GPUs where ``gpu_down``, or all of them and its queue if the whole site
    failed, ``S.site_up[s] <= 0``) lost what it held at ``t``: orphan every request it queued or
    was computing. Returns how many were orphaned."""
    n0 = S.ctr[C_ORPHANS]
    if S.site_up[s] <= 0:
        _qarea(S, s, t)
        for m in range(S.q_len.shape[1]):
            r = S.q_head[s, m]
            while r >= 0:
                nxt = S.rq_i[r, I_NEXT]
                S.rq_i[r, I_NEXT] = -1
                orphan(S, r, s)
                r = nxt
            S.ctr[C_QUEUED] -= S.q_len[s, m]
            S.q_head[s, m] = -1
            S.q_tail[s, m] = -1
            S.q_len[s, m] = 0
        S.site_qlen[s] = 0
        if S.q_level_tail.shape[0] > 0:
            S.q_level_tail[s, :, :] = -1
            S.q_len_svc[s, :] = 0
    g0 = W.site_gpu_start[s]
    cut = np.zeros(gpu_down.shape[0], dtype=np.bool_)  # GPUs whose running batch is cut
    for r in range(S.rq_i.shape[0]):
        if (S.rq_i[r, I_STAGE] == ST_COMP and S.rq_i[r, I_PLACE] == s
                and gpu_down[S.rq_i[r, I_GPU] - g0]):
            S.rq_i[r, I_NEXT] = -1
            S.rq_f[r, T_CEND] = t  # its compute ends cut (a new place computes it afresh)
            S.site_served[s] -= 1  # nor did the site serve it
            cut[S.rq_i[r, I_GPU] - g0] = True
            orphan(S, r, s)
    for i in range(gpu_down.shape[0]):  # the cut batches are not counted as served
        if gpu_down[i]:
            g = g0 + i
            if W.site_shared[s] != 0:  # (those in their fixed overhead too)
                S.site_batches[s] -= S.gpu_model_n[g, :].sum()
            elif cut[i]:  # (one batch at a time)
                S.site_batches[s] -= 1
            S.gpu_run_r[g, :] = -1
            S.gpu_run_oh[g, :] = 0
            S.gpu_run_n[g] = 0
            S.gpu_oh_n[g] = 0
            _run_area(S, s, t)
            S.site_model_run[s, :] -= S.gpu_model_n[g, :]
            S.gpu_model_n[g, :] = 0
            if S.gpu_ev_t[g] < np.inf:  # its event is superseded
                _supersede_timer(S)
            S.gpu_ev_t[g] = np.inf
    return S.ctr[C_ORPHANS] - n0


@njit(cache=True)
def _redispatch(W, S, rs, places, t):
    """Send orphaned requests to their new places at ``t``: from their device's cell (the
    gateway still holds the uplinked data), to the device itself, or drop them."""
    for i in range(rs.shape[0]):
        r = rs[i]
        p = places[i]
        if S.rq_i[r, I_STAGE] == ST_HELD:  # no longer on its way to the failed site
            _en_route(S, r, ST_ORPHAN)
        old = S.rq_i[r, I_PLACE]
        arrived = S.rq_f[r, T_SITE]  # at the failed site (or GPU): its time there was lost;
        # not an upload whose cell lost its path to the site (ul_done: no site failed)
        if (arrived == arrived and arrived <= t and old >= 0
                and (S.site_up[old] <= 0 or S.rq_f[r, T_CSTART] == S.rq_f[r, T_CSTART])):
            S.rq_f[r, T_FAILED] += t - arrived
        S.rq_i[r, I_PLACE] = p if p != PLACE_NO_SITE else -2
        S.rq_i[r, I_NEXT] = -1
        if S.rq_f[r, T_CSTART] != S.rq_f[r, T_CSTART]:  # it never started where it was
            # its wait there and the gateway's for this decision count as transport (a drop
            # now, say no_route, then ends a row whose parts add up)
            S.rq_f[r, T_SITE] = t
        if p == -2 or p == PLACE_NO_SITE:
            drop(W, S, r, R_SITE_FAILURE, t)
            continue
        if p == PLACE_NO_ROUTE:
            drop(W, S, r, R_NO_ROUTE, t)
            continue
        d = S.rq_i[r, I_DEV]
        v = S.rq_i[r, I_SVC]
        if p == -1:  # on the device's own accelerator, from now
            if not W.local_time_s[W.dev_fleet[d], v] < np.inf:  # a service it may not run
                drop(W, S, r, R_NOT_ON_DEVICE, t)
                continue
            free = device_free(W, S, d, v)
            if free - t > W.fleet_local_queue_limit_s[W.dev_fleet[d]]:
                drop(W, S, r, R_DEVICE_QUEUE_FULL, t)
                continue
            start = free if free > t else t
            m = W.svc_model[v]
            dur = W.local_time_s[W.dev_fleet[d], v] * service_factor(
                W.svc_local_dist[v], W.model_p1[m], W.model_p2[m], S.rng)
            book_device(W, S, d, v, start + dur)
            fl = W.dev_fleet[d]
            S.fleet_energy_j[fl] += W.local_power_w[fl, v] * dur
            S.fleet_local_s[fl] += dur
            if W.svc_engine[fl, v] >= 0:  # (an engine of its own: its busy time apart)
                S.fleet_eng_s[fl, W.svc_engine[fl, v]] += dur
            S.rq_f[r, T_SITE] = t
            S.rq_f[r, T_CSTART] = start
            S.rq_f[r, T_CEND] = start + dur
            S.rq_f[r, T_DLARR] = start + dur
            S.rq_i[r, I_STAGE] = ST_FINISH
            push_event(S, start + dur, r)
            continue
        node = W.cell_node[W.dev_cell[d]]
        # a cut batch's times belong to the failed site: its new site writes its own (else a
        # drop on the way would keep them beside the new arrival: a negative queue time)
        S.rq_f[r, T_SITE] = t
        S.rq_f[r, T_CSTART] = np.nan
        S.rq_f[r, T_CEND] = np.nan
        _en_route(S, r, ST_UP)
        S.rq_i[r, I_CELL] = W.dev_cell[d]
        refused = send(W, S, r, W.path_links, node, p, 0, ul_bits_of(W, v, S.rq_i[r, I_SEQ]), t,
                       T_SITE)
        if refused >= 0.0:
            S.rq_f[r, T_SITE] = refused
            drop(W, S, r, R_LINK_FULL, refused)
    S.ctr[C_ORPHANS] = 0


@njit(cache=True)
def site_arrive(W, S, r, t):
    """A request reached its compute site at ``t``: queue it (or drop it when the queue is full)."""
    S.rq_f[r, T_SITE] = t
    s = S.rq_i[r, I_PLACE]
    if S.site_up[s] <= 0:  # it arrived at a failed site: back to the gateway for a new place
        orphan(S, r, s)
        return
    v = S.rq_i[r, I_SVC]
    if S.rq_i[r, I_NEXT] == CTX_WAITED:  # its context came (see CTX_WAITED): served here
        S.rq_i[r, I_NEXT] = -1
    elif W.svc_state_bits[v] > 0.0:  # a stateful service: its context must be here first
        d = S.rq_i[r, I_DEV]
        held = S.ctx_site[d, v]
        S.ctx_site[d, v] = s
        src = W.site_node[held] if held >= 0 else 0
        # a context at a failed or unreachable site is lost: the service starts afresh here
        if (held >= 0 and held != s and S.site_up[held] > 0  # (failed, noticed or not: lost)
                and W.path_delay_s[src, s] < np.inf):
            S.svc_migrations[v] += 1
            ready = S.ctx_ready_s[d, v]
            ta = transport(W, S, W.path_links[src, s], W.svc_state_bits[v], t)
            if ta < 0.0:  # the links are full: the context cannot move, nor the request
                S.ctx_site[d, v] = held
                drop(W, S, r, R_LINK_FULL, t)
                return
            if ready > t:  # still on its way to where it is held: it leaves from there once
                ta += ready - t  # there (the links reserved from now, a simplification)
            S.ctx_ready_s[d, v] = ta
            if ta > t:  # the request waits for its context (queued behind it on the links)
                S.rq_i[r, I_NEXT] = CTX_WAITED
                push_event(S, ta, r)
                return
        elif held == s:
            if S.ctx_ready_s[d, v] > t:  # its context is still on its way here
                S.rq_i[r, I_NEXT] = CTX_WAITED
                push_event(S, S.ctx_ready_s[d, v], r)
                return
        else:  # none yet, or lost with a failed or unreachable site: it starts afresh here
            S.ctx_ready_s[d, v] = t
    _advance_site(W, S, s, t)
    if S.site_qlen[s] >= W.site_queue_limit[s]:
        drop(W, S, r, R_QUEUE_FULL, t)
        return
    _qarea(S, s, t)
    m = W.svc_model[S.rq_i[r, I_SVC]]
    _en_route(S, r, ST_QUEUE)
    S.rq_i[r, I_NEXT] = -1
    levels = S.q_level_tail.shape[0] > 0  # priorities differ
    if S.q_len[s, m] == 0:
        S.q_head[s, m] = r
        S.q_tail[s, m] = r
        S.q_oldest_s[s, m] = t
    elif (not levels or W.svc_compute_priority[S.rq_i[S.q_tail[s, m], I_SVC]]
            <= W.svc_compute_priority[v]):
        S.rq_i[S.q_tail[s, m], I_NEXT] = r
        S.q_tail[s, m] = r
    else:  # ahead of the first of a lower priority (its time is the latest: the oldest stays)
        _q_insert(W, S, s, m, r, W.svc_compute_priority[v])
    if levels:
        S.q_level_tail[s, m, W.svc_compute_priority[v]] = r
        S.q_len_svc[s, v] += 1
    S.q_len[s, m] += 1
    S.site_qlen[s] += 1
    S.ctr[C_QUEUED] += 1
    _advance_site(W, S, s, t)


@njit(cache=True)
def _q_insert(W, S, s, m, r, prio):
    """Put request ``r`` into site ``s``'s queue of model ``m`` after every request of priority
    ``prio`` or a higher one (a smaller number) and before the first of a lower one: the queue
    stays in (priority, arrival) order, Triton's dynamic batcher's (``priority_levels``). It
    goes after the last request of the lowest priority at or above its own that has one
    (``q_level_tail``, kept where priorities differ, as they do where this is called)."""
    prev = -1
    for q in range(prio, 0, -1):
        if S.q_level_tail[s, m, q] >= 0:
            prev = S.q_level_tail[s, m, q]
            break
    if prev < 0:
        S.rq_i[r, I_NEXT] = S.q_head[s, m]
        S.q_head[s, m] = r
    else:
        S.rq_i[r, I_NEXT] = S.rq_i[prev, I_NEXT]
        S.rq_i[prev, I_NEXT] = r


@njit(cache=True)
def _q_oldest_after(W, S, s, m, taken_oldest):
    """Site ``s``'s queue of model ``m`` lost its head's requests to a batch: when the one
    waiting longest now reached the site. Unless the batch took the one that was
    (``taken_oldest``), it is the same; where the queue holds one priority (its head's and its
    tail's), the head; else the oldest of the priorities' first requests (each priority's
    requests are in arrival order, one after another: the first follows the last of the
    priority before it)."""
    if S.q_len[s, m] == 0:
        return np.inf
    if not taken_oldest:
        return S.q_oldest_s[s, m]
    x = S.q_head[s, m]
    if (W.svc_compute_priority[S.rq_i[x, I_SVC]]
            == W.svc_compute_priority[S.rq_i[S.q_tail[s, m], I_SVC]]):
        return S.rq_f[x, T_SITE]
    oldest = np.inf
    for q in range(1, 17):
        last = S.q_level_tail[s, m, q]
        if last < 0:
            continue
        if S.rq_f[x, T_SITE] < oldest:  # x: this priority's first
            oldest = S.rq_f[x, T_SITE]
        x = S.rq_i[last, I_NEXT]
    return oldest


# ---------------------------------------------------------------------------------------------
# request creation


@njit(cache=True)
def _supersede(W, S, d, v, r, bits, t):
    """``ul_queue: latest``: new request ``r`` of service ``v`` takes the place, in device
    ``d``'s uplink buffer, of an older one of the same service none of whose bits has been sent
    yet, which ends dropped (``superseded``). Returns whether there was one."""
    f = S.rq_f
    prev = -1
    x = S.ue_ul_head[d]
    while x >= 0:
        if S.rq_i[x, I_SVC] == v and f[x, T_UL_START] != f[x, T_UL_START]:  # unsent (NaN)
            f[r, REM_BITS] = bits
            _en_route(S, r, ST_UL)
            S.rq_i[r, I_NEXT] = S.rq_i[x, I_NEXT]
            if prev < 0:
                S.ue_ul_head[d] = r
            else:
                S.rq_i[prev, I_NEXT] = r
            if S.ue_ul_tail[d] == x:
                S.ue_ul_tail[d] = r
            S.ue_ul_bits[d] += bits - f[x, REM_BITS]
            drop(W, S, x, R_SUPERSEDED, t)
            return True
        prev = x
        x = S.rq_i[x, I_NEXT]
    return False


@njit(cache=True)
def create(W, S, t, flow, place):
    """A new request from ``flow`` at ``t`` placed at ``place`` (site, -1 local, -2 rejected)."""
    top = S.ctr[C_FREE_TOP] - 1
    r = S.free_stack[top]
    S.ctr[C_FREE_TOP] = top
    S.ctr[C_IN_FLIGHT] += 1
    d = W.flow_dev[flow]
    v = W.flow_svc[flow]
    f = S.rq_f
    for c in range(N_RQ_F):
        f[r, c] = np.nan
    f[r, T_CREATE] = t
    f[r, T_FAILED] = 0.0
    S.rq_i[r, I_DEV] = d
    S.rq_i[r, I_SVC] = v
    S.rq_i[r, I_PLACE] = place if place != PLACE_NO_SITE else -2
    S.rq_i[r, I_NEXT] = -1
    S.rq_i[r, I_SEQ] = S.ctr[C_SEQ]
    S.rq_i[r, I_CELL] = W.dev_cell[d]
    S.ctr[C_SEQ] += 1
    fleet = W.dev_fleet[d]
    if t < S.fs[F_WARMUP]:  # a warm-up request (Engine.warmup_s): counted apart
        S.warm_cnt[W.fleet_svc_group[fleet, v], A_CREATED] += 1
    else:
        S.agg_cnt[W.fleet_svc_group[fleet, v], A_CREATED] += 1
    S.fleet_req[fleet] += 1
    if place == -2:
        drop(W, S, r, R_ADMISSION, t)
        return
    if place == PLACE_NO_SITE:
        drop(W, S, r, R_SITE_FAILURE, t)
        return
    if place == PLACE_NO_ROUTE:
        drop(W, S, r, R_NO_ROUTE, t)
        return
    if place == -1:  # on the device's own accelerator: a FIFO, one request at a time
        if not W.local_time_s[fleet, v] < np.inf:  # a service it may not run (on_device)
            drop(W, S, r, R_NOT_ON_DEVICE, t)
            return
        free = device_free(W, S, d, v)
        if free - t > W.fleet_local_queue_limit_s[W.dev_fleet[d]]:
            drop(W, S, r, R_DEVICE_QUEUE_FULL, t)  # more work waiting than the device keeps
            return
        start = free if free > t else t
        dur = W.local_time_s[W.dev_fleet[d], v]
        m = W.svc_model[v]
        dur *= service_factor(W.svc_local_dist[v], W.model_p1[m], W.model_p2[m], S.rng)
        book_device(W, S, d, v, start + dur)
        fl = W.dev_fleet[d]
        S.fleet_energy_j[fl] += W.local_power_w[fl, v] * dur  # its engine at full power
        S.fleet_local_s[fl] += dur
        if W.svc_engine[fl, v] >= 0:  # (an engine of its own: its busy time apart)
            S.fleet_eng_s[fl, W.svc_engine[fl, v]] += dur
        f[r, T_UL_START] = t
        f[r, T_UL_DONE] = t
        f[r, T_SITE] = t
        f[r, T_CSTART] = start
        f[r, T_CEND] = start + dur
        f[r, T_DLARR] = start + dur
        S.rq_i[r, I_STAGE] = ST_FINISH
        push_event(S, start + dur, r)
        return
    bits = ul_bits_of(W, v, S.rq_i[r, I_SEQ])
    if W.radio_model == 1:  # ideal radio: at once, or when a handover lets the UE send again
        if S.ue_ul_elig[d] > t:
            f[r, T_UL_START] = S.ue_ul_elig[d]
            f[r, REM_BITS] = S.ue_ul_elig[d]  # (the fixed link's: when it is through)
            _en_route(S, r, ST_UL)
            push_event(S, S.ue_ul_elig[d], r)
            return
        f[r, T_UL_START] = t
        ul_done(W, S, r, t)
        return
    if W.radio_model == 2:  # fixed-rate link per device
        # the bits waiting: the link's work from when it may send (after a handover's
        # interruption, which holds bits but sends none) until it is free; none when idle (a
        # request larger than the buffer is dropped, on an idle link too)
        backlog = max(S.ue_ul_free[d] - max(t, S.ue_ul_elig[d]), 0.0) * W.fixed_ul_bps
        if backlog + bits > W.dev_ul_buffer_bits[d]:
            drop(W, S, r, R_BUFFER_FULL, t)
            return
        start = max(t, S.ue_ul_free[d], S.ue_ul_elig[d])  # (not during a handover)
        S.ue_ul_free[d] = start + bits / W.fixed_ul_bps
        tx_w = W.ue_tx_circuit_w + W.dev_ue_tx_mw[d] * 1e-3 / W.ue_pa_efficiency  # full power
        S.fleet_energy_j[W.dev_fleet[d]] += tx_w * bits / W.fixed_ul_bps
        f[r, T_UL_START] = start
        # ul_done runs when the last bit has crossed the link (a heap event)
        f[r, REM_BITS] = start + bits / W.fixed_ul_bps + W.fixed_latency_s
        _en_route(S, r, ST_UL)
        push_event(S, f[r, REM_BITS], r)
        return
    # NR: into the UE's uplink buffer
    refresh_ul(W, S, d, S.ctr[C_SLOT])
    if S.ue_se_ul[d] * W.dev_ue_tx_mw[d] < W.min_sinr_lin:
        drop(W, S, r, R_RADIO_OUTAGE, t)
        return
    if W.fleet_ul_latest[W.dev_fleet[d]] and _supersede(W, S, d, v, r, bits, t):
        return
    if S.ue_ul_bits[d] + bits > W.dev_ul_buffer_bits[d]:
        drop(W, S, r, R_BUFFER_FULL, t)
        return
    f[r, REM_BITS] = bits
    _en_route(S, r, ST_UL)
    S.ue_ul_bits[d] += bits
    if W.drx_any:  # awake from now to its last grant (its SR pending), then the
        drx_wake(W, S, d, t)  # timer (data behind other data: awake already)
    if S.ue_ul_head[d] < 0:
        S.ue_ul_head[d] = r
        # (never earlier than a handover's interruption or a re-establishment lets it send:
        # motion and faults hold ue_ul_elig until then)
        # a configured grant sends at once; else a scheduling request, then the grant
        elig = t if W.configured_grant else sr_grant_time(W, d, t)
        if elig > S.ue_ul_elig[d]:
            S.ue_ul_elig[d] = elig
        if W.first_grant_bits > 0.0 and not W.configured_grant:
            S.ue_first_grant[d] = 1  # the SR's grant, sized without the buffer's report
        _set_add(S.act_ul, S.act_ul_pos, C_ACT_UL, S.ctr, d)
    elif W.svc_ul_priority[S.rq_i[S.ue_ul_tail[d], I_SVC]] > W.svc_ul_priority[v]:
        _ul_insert(W, S, d, r, W.svc_ul_priority[v])  # ahead of a lower priority's
        return
    else:
        S.rq_i[S.ue_ul_tail[d], I_NEXT] = r
    S.ue_ul_tail[d] = r


@njit(cache=True)
def _ul_insert(W, S, d, r, prio):
    """Put request ``r`` of uplink priority ``prio`` into device ``d``'s buffer ahead of the
    first request of a lower priority (a larger number; the buffer's tail is one), the one
    being sent included: a grant serves the logical channels in priority order (TS 38.321
    5.4.3.1), and the rest of an RLC SDU begun waits as a segment."""
    prev = -1
    x = S.ue_ul_head[d]
    while x >= 0 and W.svc_ul_priority[S.rq_i[x, I_SVC]] <= prio:
        prev = x
        x = S.rq_i[x, I_NEXT]
    S.rq_i[r, I_NEXT] = x
    if prev < 0:
        S.ue_ul_head[d] = r
    else:
        S.rq_i[prev, I_NEXT] = r


@njit(cache=True)
def sr_grant_time(W, d, t):
    """When device ``d``'s uplink grant lets it send data that arrived at ``t`` in an empty
    buffer: its next SR occasion, then ``W.grant_delay_s``.

    Occasions are the slots ``offset + k * sr_period_slots`` (TS 38.213 9.2.4), counted in whole
    slots, and one on a slot without uplink is not sent (TS 38.213 11.1; the world's offsets
    have one on a U slot within the pattern's repeat). A grant of whole slots ends exactly at a
    slot's start, computed as the scheduler computes that start (``k * slot_s``): a sum of
    seconds would miss it by a rounding, and the slot with it, from t ~ 16,000 s on. A period
    off the slot grid (``sr_period_slots`` 0) keeps the offset in seconds."""
    slot = W.slot_s
    n = W.sr_period_slots
    if n == 0:
        off = W.dev_sr_offset_s[d]
        t_sr = off + math.ceil((t - off) / W.sr_period_s) * W.sr_period_s
        if t_sr < t:
            t_sr += W.sr_period_s
        return t_sr + W.grant_delay_s
    plen = W.slot_type.shape[0]
    off = int(W.dev_sr_offset_s[d] / slot + 0.5)
    k = int(math.ceil(t / slot - 1e-6))  # the first slot starting at t (to a rounding) or later
    k += (off - k) % n
    for _ in range(plen):
        if W.slot_type[k % plen] in (SLOT_U, SLOT_BOTH):
            break
        k += n
    else:
        raise RuntimeError("an SR offset with no occasion on an uplink slot")
    return _next_grant_time(W, k)


@njit(cache=True)
def _next_grant_time(W, k):
    """When a grant the gNB sends on what it learnt in slot ``k`` (an SR occasion at its start,
    or a buffer status report decoded by then) lets the UE send: ``W.grant_delay_s`` later, in
    whole slots where the delay is (``k * slot_s``, as the scheduler computes a slot's start)."""
    slot = W.slot_s
    if W.grant_delay_slots >= 0:
        return (k + W.grant_delay_slots) * slot
    return k * slot + W.grant_delay_s


@njit(cache=True)
def _ul_want(W, S, d):
    """The bits UE ``d``'s grant can carry now: its buffer, or at most the grant answering its
    SR (``radio.first_grant_bytes``) while that is its next one."""
    b = S.ue_ul_bits[d]
    if W.first_grant_bits > 0.0 and S.ue_first_grant[d] == 1 and W.first_grant_bits < b:
        return W.first_grant_bits
    return b


# ---------------------------------------------------------------------------------------------
# the slot loop


@njit(cache=True)
def handle_event(W, S, r, t):
    S.ctr[C_WORK_EVENTS] += 1
    if r < 0:  # a compute site's batching timer, or a batch end on a GPU that runs several
        site = -r - 1
        if site >= S.site_wake.shape[0]:
            gpu_batch_end(W, S, site - S.site_wake.shape[0], t)
        elif t == S.site_wake[site]:
            S.site_wake[site] = np.inf
            _advance_site(W, S, site, t)
        else:  # superseded
            S.ctr[C_STALE] -= 1
        return
    st = S.rq_i[r, I_STAGE]
    if st in (ST_UP, ST_DOWN) and S.rq_i[r, I_HOP] != 0:
        transit(W, S, r, t)
    elif st == ST_UP:
        site_arrive(W, S, r, t)
    elif st == ST_ORPHAN:  # the engine purges a failed batch's event; never reached
        return
    elif st == ST_COMP:  # (a GPU that runs batches at once ends them in gpu_batch_end)
        compute_done(W, S, r, t)
    elif st == ST_DOWN:
        dl_arrive(W, S, r, t)
    elif st == ST_FINISH:
        finish(W, S, r, t)
    elif st == ST_AIR:
        back = S.ue_dl_hold[S.rq_i[r, I_DEV]]
        if back > t:  # its link held since: when it is back
            push_event(S, back, r)
        else:
            finish(W, S, r, t)
    elif st == ST_UL:  # fixed-rate uplink finished
        ul_done(W, S, r, t)


@njit(cache=True)
def _count_slots(prefix, plen, k0, k1):
    """How many slots of one direction lie in [k0, k1) (``prefix``: cumulative over a pattern)."""
    n1 = (k1 // plen) * prefix[plen] + prefix[k1 % plen]
    n0 = (k0 // plen) * prefix[plen] + prefix[k0 % plen]
    return n1 - n0


@njit(cache=True)
def _take_samples(S, k, slot):
    """Load samples at every sample slot up to ``k``: a row of ``samp`` per slot b, holding b's
    time and the sites' state as the engine's timeseries reads it (GPU free times and busy
    time, queue area, length and last change), then the cells' PRBs used so far, uplink and
    downlink (the engine's cell_timeseries). No slot ran since b, so the state now is b's.
    Taken here, a run needs no return to Python at each of its ~200 sample points."""
    every = S.ctr[C_SAMP_EVERY]
    samp = S.samp
    g = S.gpu_free.shape[0]
    n = S.site_qarea.shape[0]
    while S.ctr[C_SAMP_NEXT] <= k:
        b = S.ctr[C_SAMP_NEXT]
        i = S.ctr[C_SAMP_N]
        if i >= samp.shape[0]:
            raise RuntimeError("load sample buffer full")
        samp[i, 0] = b * slot
        samp[i, 1 : 1 + g] = S.gpu_free
        samp[i, 1 + g : 1 + 2 * g] = S.gpu_busy
        o = 1 + 2 * g
        samp[i, o : o + n] = S.site_qarea
        for j in range(n):
            samp[i, o + n + j] = S.site_qlen[j]
        samp[i, o + 2 * n : o + 3 * n] = S.site_qlast
        o += 3 * n
        c = S.prb_sum_ul.shape[0]
        samp[i, o : o + c] = S.prb_sum_ul
        samp[i, o + c : o + 2 * c] = S.prb_sum_dl
        S.ctr[C_SAMP_N] = i + 1
        S.ctr[C_SAMP_NEXT] = b + every


@njit(cache=True)
def advance(W_ref, S_ref, arr_t, arr_f, arr_p, n_arr, slot_end):
    """Advance from the current slot to ``slot_end`` (exclusive), consuming the arrivals.

    An entry point (see below) written out in full: a one-line wrapper around the slot loop
    re-optimised the loop's whole call tree once more, 3 s of the first compile."""
    W = borrow(W_ref)
    S = borrow(S_ref)
    k = S.ctr[C_SLOT]
    slot = W.slot_s
    plen = W.slot_type.shape[0]
    pos = 0
    # what a new request reads of its device, prefetched a few arrivals ahead (see prefetch)
    flow_dev = W.flow_dev
    flow_svc = W.flow_svc
    dev_cell = W.dev_cell
    dev_fleet = W.dev_fleet
    top_cell = W.dev_top_cell
    top_gain = W.dev_top_gain_ul  # (prefetched for the uplink SINR refresh)
    n_top = top_cell.shape[1]
    ul_buf = W.dev_ul_buffer_bits
    sr_off = W.dev_sr_offset_s
    se_slot = S.ue_se_slot
    se_ul = S.ue_se_ul
    ul_bits = S.ue_ul_bits
    ul_head = S.ue_ul_head
    ul_tail = S.ue_ul_tail
    ul_elig = S.ue_ul_elig
    act_pos = S.act_ul_pos
    nr = W.radio_model == 0
    heap_r = S.heap_r
    rq_f = S.rq_f
    rq_i = S.rq_i
    nrf = rq_f.shape[1]
    nri = rq_i.shape[1]
    cell_node = W.cell_node
    path_delay = W.path_delay_s
    path_links = W.path_links
    path_back = W.path_links_back
    n_sites = path_delay.shape[1]
    n_nodes = path_delay.shape[0]
    hops = path_links.shape[2]
    dl_head = S.ue_dl_head
    dl_tail = S.ue_dl_tail
    act_dl_pos = S.act_dl_pos
    ulq_t = S.ulq_t
    ulq_s = S.ulq_s
    ulq_r = S.ulq_r
    deep = max(rq_f.shape[0], dev_cell.shape[0]) >= PREFETCH_MIN_ITEMS
    sampling = S.ctr[C_SAMP_EVERY] > 0
    while k < slot_end:
        if sampling and k >= S.ctr[C_SAMP_NEXT]:  # before slot k runs: the state at its start
            _take_samples(S, k, slot)
        S.ctr[C_SLOT] = k  # the current slot, for what is created inside it
        s0 = k * slot
        s1 = s0 + slot
        # skip slots with nothing to do
        if S.ctr[C_ACT_UL] == 0 and S.ctr[C_ACT_DL] == 0 and S.ctr[C_DLQ_N] == 0:
            nxt = slot_end * slot
            if pos < n_arr and arr_t[pos] < nxt:
                nxt = arr_t[pos]
            if S.ctr[C_HEAP_N] > 0 and S.heap_t[0] < nxt:
                nxt = S.heap_t[0]
            kn = int(nxt / slot)
            if kn > k:
                kn = kn if kn < slot_end else slot_end
                # loads decay over the skipped slots of each direction
                S.ctr[C_NSLOT_UL] += _count_slots(W.ul_prefix, plen, k, kn)
                S.ctr[C_NSLOT_DL] += _count_slots(W.dl_prefix, plen, k, kn)
                k = kn
                continue
        # 1. uplink air interface (the scheduler decides at the slot's start)
        st = W.slot_type[k % plen]
        if W.radio_model == 0 and st in (SLOT_U, SLOT_BOTH):
            serve_ul(W, S, k, s0)
            update_loads(W, S, 1)
        # 2. new requests and due events, merged in time order (events: the heap's and the
        # slot's uplink completions, by time and push order)
        nq = S.ctr[C_ULQ_N]
        q = 0
        while True:
            t_arr = arr_t[pos] if pos < n_arr else np.inf
            t_ev = S.heap_t[0] if S.ctr[C_HEAP_N] > 0 else np.inf
            from_q = False
            if q < nq and (ulq_t[q] < t_ev or (ulq_t[q] == t_ev and ulq_s[q] < S.heap_s[0])):
                t_ev = ulq_t[q]
                from_q = True
            if t_arr < t_ev:
                if t_arr >= s1:
                    break
                if deep and pos + 8 < n_arr:
                    f = arr_f[pos + 8]
                    prefetch(flow_dev, f)
                    prefetch(flow_svc, f)
                if deep and pos + 4 < n_arr:
                    d = flow_dev[arr_f[pos + 4]]
                    prefetch(dev_cell, d)
                    prefetch(dev_fleet, d)
                    prefetch(ul_bits, d)
                    prefetch(ul_head, d)
                    prefetch(ul_tail, d)
                    prefetch(ul_buf, d)
                    prefetch(act_pos, d)
                    if nr:
                        prefetch(ul_elig, d)
                        prefetch(sr_off, d)
                        prefetch(se_slot, d)
                        prefetch(se_ul, d)
                if deep and nr and pos + 2 < n_arr:  # its age was fetched two arrivals ago
                    d = flow_dev[arr_f[pos + 2]]
                    if k - se_slot[d] >= SE_REFRESH_SLOTS or se_slot[d] < 0:
                        prefetch(top_cell, d * n_top)
                        prefetch(top_gain, d * n_top)
                        _prefetch_iul(W, S, dev_cell[d], k)
                create(W, S, t_arr, arr_f[pos], arr_p[pos])
                pos += 1
            else:
                # the slot's uplink completions are at its end, s1: they, and what else falls
                # at s1 before them, are handled in this slot (the next begins with them done)
                if t_ev > s1 or (t_ev == s1 and q >= nq):
                    break
                if from_q:
                    r = ulq_r[q]
                    q += 1
                    if deep and q + 3 < nq:  # prefetch for the completions after this one
                        x = ulq_r[q + 3]
                        prefetch(rq_i, x * nri)
                        prefetch(rq_i, x * nri + nri - 1)
                        prefetch(rq_f, x * nrf)
                        prefetch(rq_f, x * nrf + nrf - 1)
                    if deep and q + 1 < nq:
                        x = ulq_r[q + 1]
                        node = cell_node[rq_i[x, I_CELL]]
                        site = rq_i[x, I_PLACE]
                        prefetch(dev_cell, rq_i[x, I_DEV])
                        if site >= 0:
                            prefetch(path_delay, node * n_sites + site)
                            prefetch(path_links, (node * n_sites + site) * hops)
                    handle_event(W, S, r, t_ev)
                    continue
                r = heap_r[0]
                pop_event(S)
                # prefetch for the next events (see prefetch): the event after this one is the
                # heap's top now (its request's row was fetched one event earlier, when it was a
                # child of the top): fetch what its handler will read; the top's children are
                # the candidates for the event after that: fetch their requests' rows
                hn = S.ctr[C_HEAP_N] if deep else 0
                if hn > 0 and heap_r[0] >= 0:
                    x = heap_r[0]
                    stx = rq_i[x, I_STAGE]
                    if stx in (ST_UL, ST_COMP):
                        # the cell it left from stands in for the device's current cell (a hint)
                        node = cell_node[rq_i[x, I_CELL]]
                        site = rq_i[x, I_PLACE]
                        prefetch(dev_cell, rq_i[x, I_DEV])
                        if site >= 0:
                            prefetch(path_delay, node * n_sites + site)
                            if stx == ST_UL:
                                prefetch(path_links, (node * n_sites + site) * hops)
                            else:
                                prefetch(path_back, (site * n_nodes + node) * hops)
                                y = rq_i[x, I_NEXT]  # the batch's next request
                                if y >= 0:
                                    prefetch(rq_i, y * nri)
                                    prefetch(rq_i, y * nri + nri - 1)
                    elif stx == ST_DOWN:
                        y = rq_i[x, I_DEV]
                        prefetch(dl_head, y)
                        prefetch(dl_tail, y)
                        prefetch(act_dl_pos, y)
                for h in range(1, 3 if hn > 3 else hn):
                    x = heap_r[h]
                    if x >= 0:
                        prefetch(rq_i, x * nri)
                        prefetch(rq_i, x * nri + nri - 1)
                        prefetch(rq_f, x * nrf)
                        prefetch(rq_f, x * nrf + nrf - 1)
                handle_event(W, S, r, t_ev)
        S.ctr[C_ULQ_N] = 0
        # 3. downlink air interface
        if W.radio_model == 0 and st != SLOT_U:
            serve_dl(W, S, k, s0, S_SLOT_DL_FRACTION if st == SLOT_S else 1.0)
            update_loads(W, S, 0)
        k += 1
        if 2 * S.ctr[C_TR_N] > S.tr_f.shape[0]:  # the trace buffer half full: back to the
            break  # engine, which empties it (a slot fills at most the other half)
    S.ctr[C_SLOT] = k
    S.ctr[C_ARR_POS] = pos
    if sampling and k >= S.ctr[C_SAMP_NEXT]:  # sample slots up to the end, skipped over idle
        _take_samples(S, k, slot)
    return pos


@njit(cache=True)
def _init_se(W, S):
    """Every device's spectral efficiency at the initial cell loads (before the first slot)."""
    if W.radio_model != 0:
        return
    for d in range(W.dev_cell.shape[0]):
        S.ue_se_slot[d] = -1
        S.ue_se_slot_dl[d] = -1
        refresh_se(W, S, d, 0)


# ---------------------------------------------------------------------------------------------
# entry points: what the engine calls, with its StructRefs. Each hands the kernel Borrowed views
# of them (see airan.compiled.borrow): the kernel's functions then read their arrays without
# reference counting. (Written out one by one: numba's on-disk cache keys a function by its
# qualified name, which wrappers made by one factory would share.)


@njit(cache=True)
def active_in_cells(W, S, devices, uplink):
    return _active_in_cells(borrow(W), borrow(S), devices, uplink)


@njit(cache=True)
def site_backlogs(W, S, now, per_item, gpu_up, svc_rate):
    return _site_backlogs(borrow(W), borrow(S), now, per_item, gpu_up, svc_rate)


@njit(cache=True)
def pending_moves(W, S):
    return _pending_moves(borrow(W), borrow(S))


@njit(cache=True)
def advance_site(W, S, s, t_until):
    return _advance_site(borrow(W), borrow(S), s, t_until)


@njit(cache=True)
def fail_site_requests(W, S, s, gpu_down, t):
    return _fail_site_requests(borrow(W), borrow(S), s, gpu_down, t)


@njit(cache=True)
def flush_transit(W, S):
    return _flush_transit(borrow(W), borrow(S))


@njit(cache=True)
def gen_arrivals(W, S, t_end, out_t, out_f):
    return _gen_arrivals(borrow(W), borrow(S), t_end, out_t, out_f)


@njit(cache=True)
def in_flight_trace(W, S, now):
    return _in_flight_trace(borrow(W), borrow(S), now)


@njit(cache=True)
def init_se(W, S):
    return _init_se(borrow(W), borrow(S))


@njit(cache=True)
def drx_tail(W, S, now, out):
    return _drx_tail(borrow(W), borrow(S), now, out)


@njit(cache=True)
def redispatch(W, S, rs, places, t):
    return _redispatch(borrow(W), borrow(S), rs, places, t)


@njit(cache=True)
def ul_rates_bps(W, S, devices, n_active, ul_fraction):
    return _ul_rates_bps(borrow(W), borrow(S), devices, n_active, ul_fraction)


@njit(cache=True)
def dl_rates_bps(W, S, devices, dl_fraction):
    return _dl_rates_bps(borrow(W), borrow(S), devices, dl_fraction)


@njit(cache=True)
def report_rounds_s(W, S, devices, bits, round_s, prio):
    return _report_rounds_s(borrow(W), borrow(S), devices, bits, round_s, prio)


@njit(cache=True)
def ul_bits_ahead_of(W, S, devices, prio):
    return _ul_bits_ahead_of(borrow(W), borrow(S), devices, prio)


@njit(cache=True)
def bits_of_each(W, svc, seq, answers):
    """:func:`ul_bits_of` (``answers`` False) or :func:`dl_bits_of` for each request of
    service ``svc[i]`` and number ``seq[i]``."""
    w = borrow(W)
    out = np.empty(svc.shape[0])
    for i in range(svc.shape[0]):
        out[i] = dl_bits_of(w, svc[i], seq[i]) if answers else ul_bits_of(w, svc[i], seq[i])
    return out


@njit(cache=True)
def ul_tx_w(W, S, devices, n_active):
    return _ul_tx_w(borrow(W), borrow(S), devices, n_active)


@njit(cache=True)
def ul_times_s(W, S, devices, bits, ul_fraction, prio):
    return _ul_times_s(borrow(W), borrow(S), devices, bits, ul_fraction, prio)
