"""Each device's uplink figures for devices.parquet, computed as the kernel's radio computes
them (its own functions: ``_cell_iul``, ``_ul_gain``, ``ul_capacity_at``), so that a user can
check an upload's air time against them.

Read at the end of the run: each serving cell's uplink interference then (its interferers'
loads as the kernel last aged them, background traffic included), without fast fading.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from airan.compiled import borrow
from airan.engine import kernel as K


@njit(cache=True)
def _uplink_figures(W, S, ul_fraction):  # pragma: no cover - compiled
    """Per device: the uplink SINR per PRB (linear) at the power control's power per PRB, and
    the rate (bit/s, over every slot) on all the PRBs of its cell background traffic leaves."""
    n = W.dev_cell.shape[0]
    sinr = np.empty(n)
    rate = np.empty(n)
    iul = np.full(W.cell_prb.shape[0], np.nan)  # per cell, computed once
    for d in range(n):
        cell = W.dev_top_cell[d, 0]  # the serving cell, the strongest (as refresh_ul)
        if np.isnan(iul[cell]):
            iul[cell] = K._cell_iul(W, S, cell)
        gain = K._ul_gain(W, d, cell, iul[cell])  # SINR per PRB per mW
        # open-loop power per PRB, raised to the lowest usable SINR (the closed loop, as
        # ul_capacity_at), at most the UE's maximum power
        p_prb = W.dev_ul_p_prb_mw[d]
        if gain > 0.0 and p_prb * gain < W.min_sinr_lin:
            p_prb = W.min_sinr_lin / gain
        sinr[d] = min(p_prb, W.dev_ue_tx_mw[d]) * gain
        c = W.dev_cell[d]
        free_prb = W.cell_prb[c] * (1.0 - S.fs[K.F_BACKGROUND_UL])  # (the whole cell's)
        bits, _, _ = K.ul_capacity_at(W, d, c, free_prb, gain)
        rate[d] = bits * ul_fraction / W.slot_s
    return sinr, rate


@njit(cache=True)
def uplink_figures(W, S, ul_fraction):
    return _uplink_figures(borrow(W), borrow(S), ul_fraction)


@njit(cache=True)
def _uplink_gains(W, S):  # pragma: no cover - compiled
    """Per device, its SINR per PRB per mW of output on its serving cell (the kernel's
    ``_ul_gain`` at the cell's uplink interference now)."""
    n = W.dev_cell.shape[0]
    gain = np.empty(n)
    iul = np.full(W.cell_prb.shape[0], np.nan)
    for d in range(n):
        cell = W.dev_top_cell[d, 0]
        if np.isnan(iul[cell]):
            iul[cell] = K._cell_iul(W, S, cell)
        gain[d] = K._ul_gain(W, d, cell, iul[cell])
    return gain


@njit(cache=True)
def uplink_gains(W, S):
    return _uplink_gains(borrow(W), borrow(S))
