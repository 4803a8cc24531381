"""TR 38.901 (V17) path loss, LOS probability and shadow-fading spread.

Path loss: TR 38.901 clause 7.4.1, Table 7.4.1-1. LOS probability: clause 7.4.2,
Table 7.4.2-1. Shadow-fading standard deviations: Table 7.4.1-1.

Scenarios (``SCENARIOS``):

- ``"uma"``: Urban Macro (hBS 25 m typical).
- ``"umi"``: Urban Micro street canyon (hBS 10 m typical).
- ``"rma"``: Rural Macro (hBS 35 m typical; buildings 5 m high, streets 20 m wide, the
  table's defaults, :data:`RMA_BUILDING_HEIGHT_M` and :data:`RMA_STREET_WIDTH_M`).
- ``"inh"``: Indoor Hotspot office (path loss), InH-Mixed office (LOS probability).
- ``"inf-sl"``, ``"inf-dl"``, ``"inf-sh"``, ``"inf-dh"``: Indoor Factory with sparse/dense
  clutter and low/high BS. They share the InF LOS formula and differ in NLOS path loss,
  LOS probability and NLOS shadow fading.

Conventions: distances in metres, heights in metres, carrier frequency ``fc_ghz`` in GHz as
in Table 7.4.1-1 (the breakpoint distance uses fc in Hz and c = 3.0e8 m/s), losses in dB.
All functions are vectorized and broadcast their array arguments.

Simplifications (stated once here, repeated in the docstrings):

- UMa's effective environment height hE is drawn per link as Note 1 says (1 m with
  probability 1/(1+C(d2D, hUT)), else uniform in {12, 15, ..., hUT-1.5}:
  :func:`uma_effective_height_m`) from a uniform the caller gives; without one, 1 m, which the
  rule gives anyway for hUT < 13 m. The engine reads that uniform from a spatially consistent
  field per mast (the LOS state's correlation distance), so a link's hE does not flicker as
  its device moves: a choice, as Note 1 asks only that each link draw its own.
- Distances below the model's minimum are clamped: for UMa/UMi d2D >= 10 m, with d3D raised
  to at least sqrt(10**2 + (hBS - hUT)**2) to stay consistent; for InH/InF d3D >= 1 m.
  Distances above the model's maximum (5 km UMa/UMi, 150 m InH, 600 m InF) are extrapolated
  with the same formula, not clamped.
- UMa/UMi UE heights below 1.5 m (Table 7.4.1-1) are evaluated at 1.5 m in the height terms
  (d'BP, hBS - hUT, the NLOS hUT term): below 1 m the breakpoint distance would otherwise
  vanish and every LOS link fall on PL2. Above 22.5 m the UE is an aerial one (below).
- Aerial UEs (drones), 22.5 m < hUT <= 300 m under UMa and UMi: TR 36.777 Annex B (UMa-AV,
  UMi-AV; Table B-1 LOS probability, B-2 path loss, B-3 shadow fading), whose fits assume the
  BS at 25 m (UMa) and 10 m (UMi); above 300 m they are taken at 300 m. UMa-AV's NLOS formula
  is maxed with its LOS one as every NLOS formula here is (the TR gives it bare: they differ
  below d3D ~20 m only). The shadowing's correlation distances stay the terrestrial ones.
- RMa UE heights below 1 m are evaluated at 1 m (Table 7.4.1-1's range 1-10 m); above 10 m
  the UE is an aerial one, TR 36.777 Annex B's RMa-AV (Tables B-1 to B-3) up to 300 m. RMa's
  LOS shadowing is 4 dB before its breakpoint and 6 dB beyond (given the link's distance).
- InF LOS probability: the clutter density r and clutter height hc default to the values
  used for InF calibration in TR 38.901 (clause 7.8, Table 7.8-7): r = 0.2, hc = 2 m for
  sparse clutter (SL, SH), r = 0.6, hc = 6 m for dense clutter (DL, DH); Table 7.2-4 gives
  the ranges (r < 40 % sparse, >= 40 % dense; hc 0-10 m, below the ceiling).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AERIAL_TOP_M",
    "BS_HEIGHT_M",
    "C_M_S",
    "INF_CLUTTER",
    "INF_D_CLUTTER_M",
    "MAX_DISTANCE_M",
    "SCENARIOS",
    "UT_HEIGHT_RANGE_M",
    "aerial_above_m",
    "breakpoint_distance_m",
    "los_probability",
    "rma_breakpoint_m",
    "pathloss_db",
    "shadow_fading_std_db",
    "uma_effective_height_m",
]

#: Speed of light used by TR 38.901 (clause 7.4.1, Note 1 of Table 7.4.1-1).
C_M_S = 3.0e8

SCENARIOS: tuple[str, ...] = ("uma", "umi", "rma", "inh", "inf-sl", "inf-dl", "inf-sh",
                              "inf-dh")

#: Minimum 2D distance of the UMa/UMi validity range (Table 7.4.1-1), metres.
_MIN_D2D_OUTDOOR_M = 10.0
#: Minimum 3D distance of the InH/InF validity range (Table 7.4.1-1), metres.
_MIN_D3D_INDOOR_M = 1.0
#: The farthest distance each model covers (Table 7.4.1-1), metres: d2D for UMa/UMi, d3D for
#: InH/InF; beyond it the formulas are extrapolated.
MAX_DISTANCE_M: dict[str, float] = {
    "uma": 5000.0, "umi": 5000.0, "rma": 10_000.0, "inh": 150.0,
    "inf-sl": 600.0, "inf-dl": 600.0, "inf-sh": 600.0, "inf-dh": 600.0,
}
#: UE heights (min, max) of the UMa/UMi formulas (Table 7.4.1-1), metres.
UT_HEIGHT_RANGE_M: tuple[float, float] = (1.5, 22.5)
#: The highest aerial UE height of TR 36.777 Annex B's UMa-AV and UMi-AV (Tables B-1 to B-3),
#: metres; above UT_HEIGHT_RANGE_M's top, an UMa/UMi UE is an aerial one.
AERIAL_TOP_M = 300.0
#: UMa-AV: above this height every link is LOS (TR 36.777 Table B-1), metres.
_UMA_AV_ALL_LOS_M = 100.0
#: UE heights (min, max) of the RMa formulas (Table 7.4.1-1), metres; above it, RMa-AV.
RMA_UT_HEIGHT_RANGE_M: tuple[float, float] = (1.0, 10.0)
#: RMa-AV: above this height every link is LOS (TR 36.777 Table B-1), metres.
_RMA_AV_ALL_LOS_M = 40.0
#: RMa's average building height h and street width W (m), Table 7.4.1-1's defaults (its
#: ranges 5-50 m for both).
RMA_BUILDING_HEIGHT_M = 5.0
RMA_STREET_WIDTH_M = 20.0

#: The BS (cell) height each scenario assumes, metres: UMa 25 m, UMi 10 m (Table 7.4.1-1, the
#: only heights its UMa/UMi formulas are given for), InH 3 m (ceiling, Table 7.2-1), InF 1.5 m
#: for a low BS (SL, DL) and 8 m for a high BS (SH, DH) (Table 7.2-4). A cell site that gives
#: no ``height_m`` takes its environment's.
BS_HEIGHT_M: dict[str, float] = {
    "uma": 25.0, "umi": 10.0, "rma": 35.0, "inh": 3.0,
    "inf-sl": 1.5, "inf-dl": 1.5, "inf-sh": 8.0, "inf-dh": 8.0,
}

#: Shadow-fading std (LOS, NLOS) in dB, Table 7.4.1-1.
_SF_STD_DB: dict[str, tuple[float, float]] = {
    "uma": (4.0, 6.0),
    "umi": (4.0, 7.82),
    "rma": (4.0, 8.0),  # (LOS 6 dB beyond the breakpoint: shadow_fading_std_db)
    "inh": (3.0, 8.03),
    "inf-sl": (4.3, 5.7),
    "inf-dl": (4.3, 7.2),
    "inf-sh": (4.3, 5.9),
    "inf-dh": (4.3, 4.0),
}

#: Typical clutter size d_clutter (m) per InF sub-scenario, TR 38.901 Table 7.2-4.
INF_D_CLUTTER_M: dict[str, float] = {"inf-sl": 10.0, "inf-dl": 2.0, "inf-sh": 10.0, "inf-dh": 2.0}

#: Clutter density r and effective clutter height hc (m) per InF sub-scenario: the InF
#: calibration values of TR 38.901 clause 7.8 (Table 7.8-7), within Table 7.2-4's ranges.
INF_CLUTTER: dict[str, tuple[float, float]] = {
    "inf-sl": (0.2, 2.0),
    "inf-dl": (0.6, 6.0),
    "inf-sh": (0.2, 2.0),
    "inf-dh": (0.6, 6.0),
}

#: Effective environment height hE (m) in the breakpoint distance: UMi's, and UMa's at
#: probability 1/(1 + C) (Table 7.4.1-1 Note 1; :func:`uma_effective_height_m`).
_H_E_M = 1.0


def uma_effective_height_m(d2d_m: ArrayLike, h_ut_m: ArrayLike, u: ArrayLike
                           ) -> NDArray[np.float64]:
    """UMa's effective environment height hE (m) of each link, TR 38.901 Table 7.4.1-1
    Note 1, from a uniform ``u`` in [0, 1): 1 m with probability 1 / (1 + C(d2D, hUT)), else
    drawn uniformly from {12, 15, ..., hUT - 1.5}, where C = 0 for hUT < 13 m and
    ((hUT - 13) / 10)^1.5 g(d2D) for 13 <= hUT <= 23 m, g(d2D) = 0 for d2D <= 18 m and
    (5/4) (d2D / 100)^3 exp(-d2D / 150) beyond (the C' of the LOS probability, Table 7.4.2-1).
    A UE at 22.5 m 600 m out: C = 4.58, so hE = 1 m on 18% of its links and 12, 15, 18 or
    21 m on 21% each. All arguments broadcast; hUT above 23 m is taken at 23 m."""
    d2d = np.asarray(d2d_m, dtype=np.float64)
    h_ut = np.minimum(np.asarray(h_ut_m, dtype=np.float64), 23.0)
    g = np.where(d2d > 18.0, 1.25 * (d2d / 100.0) ** 3 * np.exp(-d2d / 150.0), 0.0)
    c = np.where(h_ut >= 13.0, (np.maximum(h_ut - 13.0, 0.0) / 10.0) ** 1.5, 0.0) * g
    p_one = 1.0 / (1.0 + c)
    # {12, 15, ..., hUT - 1.5}: n values (none below hUT = 13.5 m, where hE stays 1 m)
    n = np.floor((h_ut - 1.5 - 12.0) / 3.0 + 1e-9) + 1.0
    uu = np.asarray(u, dtype=np.float64)
    k = np.floor((uu - p_one) / np.maximum(1.0 - p_one, 1e-300) * n)
    above = (uu >= p_one) & (p_one < 1.0) & (n >= 1.0)
    return np.where(above, 12.0 + 3.0 * np.clip(k, 0.0, np.maximum(n - 1.0, 0.0)), _H_E_M)


def _check_scenario(scenario: str) -> str:
    s = str(scenario).lower()
    if s not in SCENARIOS:
        raise ValueError(f"unknown TR 38.901 scenario {scenario!r}; choose one of {SCENARIOS}")
    return s


def aerial_above_m(scenario: str) -> float | None:
    """The UE height (m) above which a UE is an aerial one under ``scenario``'s outdoor cells
    (TR 36.777 Annex B): 22.5 m under UMa and UMi, 10 m under RMa; None indoors (InH, InF:
    no aerial model)."""
    s = _check_scenario(scenario)
    return {"uma": UT_HEIGHT_RANGE_M[1], "umi": UT_HEIGHT_RANGE_M[1],
            "rma": RMA_UT_HEIGHT_RANGE_M[1]}.get(s)


def rma_breakpoint_m(fc_ghz: ArrayLike, h_bs_m: ArrayLike, h_ut_m: ArrayLike
                     ) -> NDArray[np.float64]:
    """RMa's breakpoint distance dBP = 2 pi hBS hUT fc / c, TR 38.901 Table 7.4.1-1 Note 5 (the
    actual heights, fc in Hz). Example: 3.5 GHz, 35 m, 1.5 m: 2 pi x 35 x 1.5 x 3.5e9 / 3e8
    = 3,848 m."""
    return np.asarray(2.0 * np.pi * np.asarray(h_bs_m, dtype=np.float64)
                      * np.asarray(h_ut_m, dtype=np.float64)
                      * np.asarray(fc_ghz, dtype=np.float64) * 1e9 / C_M_S, dtype=np.float64)


def _rma_pl1(d3d: NDArray[np.float64], fc: NDArray[np.float64]) -> NDArray[np.float64]:
    """RMa LOS PL1 at 3D distance ``d3d`` (Table 7.4.1-1), h = RMA_BUILDING_HEIGHT_M."""
    h = RMA_BUILDING_HEIGHT_M
    return np.asarray(20.0 * np.log10(40.0 * np.pi * d3d * fc / 3.0)
                      + min(0.03 * h**1.72, 10.0) * np.log10(d3d)
                      - min(0.044 * h**1.72, 14.77) + 0.002 * np.log10(h) * d3d)


def breakpoint_distance_m(
    fc_ghz: ArrayLike, h_bs_m: ArrayLike, h_ut_m: ArrayLike, h_e_m: ArrayLike = _H_E_M
) -> NDArray[np.float64]:
    """Breakpoint distance d'BP = 4 h'BS h'UT fc / c, TR 38.901 Table 7.4.1-1 Note 1.

    h' = h - hE, hE 1 m unless given (UMa's per link: :func:`uma_effective_height_m`); fc
    given in GHz and converted to Hz; c = 3e8 m/s. Inputs broadcast; returns metres (>= 0).
    Example: fc 3.5 GHz, hBS 25 m, hUT 1.5 m -> 4 * 24 * 0.5 * 3.5e9 / 3e8 = 560 m; hUT
    22.5 m with hE 21 m: 4 * 4 * 1.5 * 3.5e9 / 3e8 = 280 m.
    """
    fc = np.asarray(fc_ghz, dtype=np.float64) * 1e9
    h_e = np.asarray(h_e_m, dtype=np.float64)
    hb = np.asarray(h_bs_m, dtype=np.float64) - h_e
    hu = np.asarray(h_ut_m, dtype=np.float64) - h_e
    return np.maximum(4.0 * hb * hu * fc / C_M_S, 0.0)


def pathloss_db(
    scenario: str,
    d2d_m: ArrayLike,
    d3d_m: ArrayLike,
    fc_ghz: ArrayLike,
    h_bs_m: ArrayLike,
    h_ut_m: ArrayLike,
    los: ArrayLike,
    h_e_m: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Basic path loss in dB, TR 38.901 V17 Table 7.4.1-1 (no shadow fading, no O2I).

    All array arguments broadcast together; ``los`` is a bool array (True = LOS formula).
    d2d_m, d3d_m, h_bs_m, h_ut_m in metres; fc_ghz in GHz; ``h_e_m``, UMa's effective
    environment height of each link in d'BP (Note 1, :func:`uma_effective_height_m`; None:
    1 m, as UMi's always is). Returns float64 array of the broadcast shape.

    - UMa LOS: PL1 = 28.0 + 22 log10(d3D) + 20 log10(fc) for d2D <= d'BP,
      PL2 = 28.0 + 40 log10(d3D) + 20 log10(fc) - 9 log10(d'BP^2 + (hBS - hUT)^2) beyond.
      NLOS: max(PL_LOS, 13.54 + 39.08 log10(d3D) + 20 log10(fc) - 0.6 (hUT - 1.5)).
    - UMi street canyon LOS: PL1 = 32.4 + 21 log10(d3D) + 20 log10(fc),
      PL2 = 32.4 + 40 log10(d3D) + 20 log10(fc) - 9.5 log10(d'BP^2 + (hBS - hUT)^2).
      NLOS: max(PL_LOS, 22.4 + 35.3 log10(d3D) + 21.3 log10(fc) - 0.3 (hUT - 1.5)).
    - InH office LOS: 32.4 + 17.3 log10(d3D) + 20 log10(fc);
      NLOS: max(PL_LOS, 17.30 + 38.3 log10(d3D) + 24.9 log10(fc)).
    - InF LOS (all sub-scenarios): 31.84 + 21.50 log10(d3D) + 19.00 log10(fc). NLOS:
      SL max(LOS, 33 + 25.5 log10 d3D + 20 log10 fc);
      DL max(LOS, SL, 18.6 + 35.7 log10 d3D + 20 log10 fc) (the table also maxes DL with SL);
      SH max(LOS, 32.4 + 23.0 log10 d3D + 20 log10 fc);
      DH max(LOS, 33.63 + 21.9 log10 d3D + 20 log10 fc).

    - RMa LOS: PL1 = 20 log10(40 pi d3D fc / 3) + min(0.03 h^1.72, 10) log10(d3D)
      - min(0.044 h^1.72, 14.77) + 0.002 log10(h) d3D for d2D <= dBP (= 2 pi hBS hUT fc / c),
      PL2 = PL1(dBP) + 40 log10(d3D / dBP) beyond; NLOS: max(PL_LOS, 161.04 - 7.1 log10(W)
      + 7.5 log10(h) - (24.37 - 3.7 (h / hBS)^2) log10(hBS) + (43.42 - 3.1 log10(hBS))
      (log10(d3D) - 3) + 20 log10(fc) - (3.2 (log10(11.75 hUT))^2 - 4.97)), h = 5 m, W = 20 m.
    - Aerial UEs, 22.5 m < hUT <= 300 m (TR 36.777 Table B-2; above 300 m, at 300 m):
      UMa-AV LOS 28.0 + 22 log10(d3D) + 20 log10(fc) (no breakpoint);
      NLOS max(PL_LOS, -17.5 + (46 - 7 log10 hUT) log10(d3D) + 20 log10(40 pi fc / 3)).
      UMi-AV LOS max(PL_free, 30.9 + (22.25 - 0.5 log10 hUT) log10(d3D) + 20 log10(fc)),
      PL_free = 20 log10(40 pi d3D fc / 3); NLOS max(PL_LOS, 32.4 + (43.2 - 7.6 log10 hUT)
      log10(d3D) + 20 log10(fc)). Under RMa above 10 m, RMa-AV: LOS max(23.9 - 1.8 log10 hUT,
      20) log10(d3D) + 20 log10(40 pi fc / 3); NLOS max(PL_LOS, -12 + (35 - 5.3 log10 hUT)
      log10(d3D) + 20 log10(40 pi fc / 3)).

    Breakpoint d'BP uses hE = 1 m for UMa as well as UMi (UMa's stochastic hE is fixed at
    1 m); UMa/UMi ground height terms take hUT within 1.5-22.5 m (the nearest limit outside).
    UMa/UMi: d2D is clamped to >= 10 m and d3D raised to at least sqrt(10^2 + (hBS - hUT)^2);
    InH/InF: d3D is clamped to >= 1 m. Larger distances are extrapolated.
    """
    s = _check_scenario(scenario)
    d2d, d3d, fc, hb, hu, is_los, h_e = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=np.float64),
        np.asarray(d3d_m, dtype=np.float64),
        np.asarray(fc_ghz, dtype=np.float64),
        np.asarray(h_bs_m, dtype=np.float64),
        np.asarray(h_ut_m, dtype=np.float64),
        np.asarray(los, dtype=bool),
        np.asarray(_H_E_M if h_e_m is None or s != "uma" else h_e_m, dtype=np.float64),
    )
    ground = RMA_UT_HEIGHT_RANGE_M if s == "rma" else UT_HEIGHT_RANGE_M
    if s in ("uma", "umi", "rma"):
        h_air = np.minimum(hu, AERIAL_TOP_M)
        aerial = hu > ground[1]
        hu = np.clip(hu, *ground)
        if aerial.any():  # the aerial UE's own height in its distances
            hu = np.where(aerial, h_air, hu)
        d_min = _MIN_D2D_OUTDOOR_M
        dh = hb - hu
        d2 = np.maximum(d2d, d_min)
        d3 = np.maximum(d3d, np.sqrt(d_min**2 + dh**2))
    else:
        d3 = np.maximum(d3d, _MIN_D3D_INDOOR_M)
    lg_d = np.log10(d3)
    lg_f = np.log10(fc)

    if s in ("uma", "umi"):
        hg = np.minimum(hu, UT_HEIGHT_RANGE_M[1])  # (the ground formulas' height terms)
        d_bp = breakpoint_distance_m(fc, hb, hg, h_e)
        dhg = hb - hg
        if s == "uma":
            pl1 = 28.0 + 22.0 * lg_d + 20.0 * lg_f
            pl2 = 28.0 + 40.0 * lg_d + 20.0 * lg_f - 9.0 * np.log10(d_bp**2 + dhg**2)
            pl_nlos = 13.54 + 39.08 * lg_d + 20.0 * lg_f - 0.6 * (hg - 1.5)
        else:
            pl1 = 32.4 + 21.0 * lg_d + 20.0 * lg_f
            pl2 = 32.4 + 40.0 * lg_d + 20.0 * lg_f - 9.5 * np.log10(d_bp**2 + dhg**2)
            pl_nlos = 22.4 + 35.3 * lg_d + 21.3 * lg_f - 0.3 * (hg - 1.5)
        pl_los = np.where(d2 <= d_bp, pl1, pl2)
        if aerial.any():  # TR 36.777 Table B-2
            lg_h = np.log10(np.where(aerial, hu, UT_HEIGHT_RANGE_M[1]))
            if s == "uma":
                av_los = 28.0 + 22.0 * lg_d + 20.0 * lg_f
                av_nlos = (-17.5 + (46.0 - 7.0 * lg_h) * lg_d
                           + 20.0 * np.log10(40.0 * np.pi * fc / 3.0))
            else:
                av_los = np.maximum(20.0 * np.log10(40.0 * np.pi * d3 * fc / 3.0),
                                    30.9 + (22.25 - 0.5 * lg_h) * lg_d + 20.0 * lg_f)
                av_nlos = 32.4 + (43.2 - 7.6 * lg_h) * lg_d + 20.0 * lg_f
            pl_los = np.where(aerial, av_los, pl_los)
            pl_nlos = np.where(aerial, av_nlos, pl_nlos)
    elif s == "rma":
        hg = np.minimum(hu, ground[1])  # (the ground formulas' height terms)
        d_bp = np.maximum(rma_breakpoint_m(fc, hb, hg), _MIN_D2D_OUTDOOR_M)
        pl_los = np.where(d2 <= d_bp, _rma_pl1(d3, fc),
                          _rma_pl1(d_bp, fc) + 40.0 * np.log10(d3 / d_bp))
        h, w = RMA_BUILDING_HEIGHT_M, RMA_STREET_WIDTH_M
        lg_hb = np.log10(hb)
        pl_nlos = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
                   - (24.37 - 3.7 * (h / hb) ** 2) * lg_hb
                   + (43.42 - 3.1 * lg_hb) * (lg_d - 3.0) + 20.0 * lg_f
                   - (3.2 * np.log10(11.75 * hg) ** 2 - 4.97))
        if aerial.any():  # TR 36.777 Table B-2, RMa-AV
            lg_h = np.log10(np.where(aerial, hu, ground[1]))
            free = 20.0 * np.log10(40.0 * np.pi * fc / 3.0)
            av_los = np.maximum(23.9 - 1.8 * lg_h, 20.0) * lg_d + free
            av_nlos = -12.0 + (35.0 - 5.3 * lg_h) * lg_d + free
            pl_los = np.where(aerial, av_los, pl_los)
            pl_nlos = np.where(aerial, av_nlos, pl_nlos)
    elif s == "inh":
        pl_los = 32.4 + 17.3 * lg_d + 20.0 * lg_f
        pl_nlos = 17.30 + 38.3 * lg_d + 24.9 * lg_f
    else:
        pl_los = 31.84 + 21.50 * lg_d + 19.00 * lg_f
        pl_sl = 33.0 + 25.5 * lg_d + 20.0 * lg_f
        if s == "inf-sl":
            pl_nlos = pl_sl
        elif s == "inf-dl":
            pl_nlos = np.maximum(pl_sl, 18.6 + 35.7 * lg_d + 20.0 * lg_f)
        elif s == "inf-sh":
            pl_nlos = 32.4 + 23.0 * lg_d + 20.0 * lg_f
        else:  # inf-dh
            pl_nlos = 33.63 + 21.9 * lg_d + 20.0 * lg_f
    return np.asarray(np.where(is_los, pl_los, np.maximum(pl_los, pl_nlos)), dtype=np.float64)


def los_probability(
    scenario: str,
    d2d_m: ArrayLike,
    h_ut_m: ArrayLike,
    *,
    clutter_density: float | None = None,
    clutter_height_m: float | None = None,
    h_bs_m: ArrayLike = 8.0,
) -> NDArray[np.float64]:
    """LOS probability, TR 38.901 clause 7.4.2 Table 7.4.2-1. Returns values in [0, 1].

    ``d2d_m`` (m) and ``h_ut_m`` (m) broadcast (``h_bs_m`` too, for InF-SH/DH); returns a
    float64 array of the broadcast shape. Variants used:

    - ``"uma"``: Pr = 1 for d2D <= 18 m, else
      [18/d + exp(-d/63)(1 - 18/d)] * (1 + C'(hUT) * 5/4 * (d/100)^3 * exp(-d/150)),
      C'(hUT) = 0 for hUT <= 13 m, ((hUT - 13)/10)^1.5 for 13 < hUT <= 23 m (hUT above
      23 m is treated as 23 m). d2D is the outdoor distance d2D-out.
    - ``"umi"``: street canyon, Pr = 1 for d <= 18 m, else 18/d + exp(-d/36)(1 - 18/d).
    - Aerial UEs under UMa/UMi, 22.5 m < hUT (TR 36.777 Table B-1): Pr = 1 for d <= d1, else
      d1/d + exp(-d/p1)(1 - d1/d); UMa-AV up to 100 m: d1 = max(460 log10(hUT) - 700, 18),
      p1 = 4300 log10(hUT) - 3800, and Pr = 1 above 100 m; UMi-AV up to 300 m:
      d1 = max(294.05 log10(hUT) - 432.94, 18), p1 = 233.98 log10(hUT) - 0.95 (hUT above
      300 m is taken at 300 m).
    - ``"rma"``: Pr = 1 for d <= 10 m, else exp(-(d - 10)/1000). Aerial UEs above 10 m
      (TR 36.777 Table B-1, RMa-AV): d1/d + exp(-d/p1)(1 - d1/d) beyond d1, d1 = max(1350.8
      log10(hUT) - 1602, 18), p1 = max(15021 log10(hUT) - 16053, 1000); Pr = 1 above 40 m.
    - ``"inh"``: InH-Mixed office, Pr = 1 for d <= 1.2 m, exp(-(d - 1.2)/4.7) for
      1.2 < d < 6.5 m, 0.32 * exp(-(d - 6.5)/32.6) for d >= 6.5 m.
    - ``"inf-sl"``, ``"inf-dl"``: Pr = exp(-d/k), k = -d_clutter / ln(1 - r), with
      r = ``clutter_density`` and d_clutter = 10 m (SL) / 2 m (DL) (Table 7.2-4).
    - ``"inf-sh"``, ``"inf-dh"``: k = -d_clutter / ln(1 - r) * (hBS - hUT)/(hc - hUT),
      hc = ``clutter_height_m``, d_clutter 10 m (SH) / 2 m (DH). Where hUT >= hc the UT is
      above the clutter and Pr = 1. Raises ValueError if any hBS <= hc.

    ``clutter_density``, ``clutter_height_m`` and ``h_bs_m`` (8 m, Table 7.2-4's high BS, by
    default) are used by InF only; ``None`` takes the sub-scenario's calibration values
    (``INF_CLUTTER``): SL/SH r = 0.2, hc = 2 m; DL/DH r = 0.6, hc = 6 m.
    """
    s = _check_scenario(scenario)
    d, hu = np.broadcast_arrays(
        np.asarray(d2d_m, dtype=np.float64), np.asarray(h_ut_m, dtype=np.float64)
    )
    if s in ("uma", "umi"):
        dd = np.maximum(d, 18.0)  # avoids division by ~0; d <= 18 m is set to 1 below
        if s == "uma":
            base = 18.0 / dd + np.exp(-dd / 63.0) * (1.0 - 18.0 / dd)
            c_prime = np.where(hu <= 13.0, 0.0, ((np.clip(hu, 13.0, 23.0) - 13.0) / 10.0) ** 1.5)
            p = base * (1.0 + c_prime * 1.25 * (dd / 100.0) ** 3 * np.exp(-dd / 150.0))
        else:
            p = 18.0 / dd + np.exp(-dd / 36.0) * (1.0 - 18.0 / dd)
        p = np.where(d <= 18.0, 1.0, p)
        aerial = hu > UT_HEIGHT_RANGE_M[1]
        if aerial.any():  # TR 36.777 Table B-1
            lg_h = np.log10(np.clip(hu, UT_HEIGHT_RANGE_M[1], AERIAL_TOP_M))
            if s == "uma":
                d1 = np.maximum(460.0 * lg_h - 700.0, 18.0)
                p1 = 4300.0 * lg_h - 3800.0
            else:
                d1 = np.maximum(294.05 * lg_h - 432.94, 18.0)
                p1 = 233.98 * lg_h - 0.95
            da = np.maximum(d, d1)
            p_av = np.where(d <= d1, 1.0, d1 / da + np.exp(-da / p1) * (1.0 - d1 / da))
            if s == "uma":
                p_av = np.where(hu > _UMA_AV_ALL_LOS_M, 1.0, p_av)
            p = np.where(aerial, p_av, p)
    elif s == "rma":
        p = np.where(d <= 10.0, 1.0, np.exp(-(np.maximum(d, 10.0) - 10.0) / 1000.0))
        aerial = hu > RMA_UT_HEIGHT_RANGE_M[1]
        if aerial.any():  # TR 36.777 Table B-1, RMa-AV
            lg_h = np.log10(np.clip(hu, RMA_UT_HEIGHT_RANGE_M[1], AERIAL_TOP_M))
            d1 = np.maximum(1350.8 * lg_h - 1602.0, 18.0)
            p1 = np.maximum(15021.0 * lg_h - 16053.0, 1000.0)
            da = np.maximum(d, d1)
            p_av = np.where(d <= d1, 1.0, d1 / da + np.exp(-da / p1) * (1.0 - d1 / da))
            p_av = np.where(hu > _RMA_AV_ALL_LOS_M, 1.0, p_av)
            p = np.where(aerial, p_av, p)
    elif s == "inh":
        p = np.where(
            d <= 1.2,
            1.0,
            np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7), 0.32 * np.exp(-(d - 6.5) / 32.6)),
        )
    else:
        r_default, hc_default = INF_CLUTTER[s]
        r = r_default if clutter_density is None else float(clutter_density)
        if not 0.0 <= r < 1.0:
            raise ValueError(f"clutter_density must be in [0, 1), got {clutter_density!r}")
        d_clutter = INF_D_CLUTTER_M[s]
        with np.errstate(divide="ignore"):
            k = -d_clutter / np.log1p(-r) if r > 0.0 else np.inf
        if s in ("inf-sh", "inf-dh"):
            hc = hc_default if clutter_height_m is None else float(clutter_height_m)
            hb = np.broadcast_to(np.asarray(h_bs_m, dtype=np.float64), d.shape)
            if np.any(hb <= hc):
                raise ValueError(
                    f"{s}: h_bs_m must exceed clutter_height_m={hc} (high BS above clutter)"
                )
            below = hu < hc
            ratio = np.where(below, (hb - hu) / np.where(below, hc - hu, 1.0), np.inf)
            k_eff = k * ratio
        else:
            k_eff = np.full(d.shape, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(np.isinf(k_eff), 1.0, np.exp(-np.maximum(d, 0.0) / k_eff))
    return np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)


def shadow_fading_std_db(scenario: str, los: ArrayLike,
                         h_ut_m: ArrayLike | None = None, *, d2d_m: ArrayLike | None = None,
                         fc_ghz: ArrayLike | None = None, h_bs_m: ArrayLike | None = None,
                         ) -> NDArray[np.float64]:
    """Shadow-fading standard deviation sigma_SF in dB, TR 38.901 Table 7.4.1-1.

    UMa 4 / 6, UMi 4 / 7.82, RMa 4 (6 beyond its breakpoint, where ``d2d_m``, ``fc_ghz`` and
    ``h_bs_m`` give it) / 8, InH 3 / 8.03 (LOS / NLOS); InF LOS 4.3, NLOS SL 5.7, DL 7.2, SH
    5.9, DH 4.0. Aerial UEs (TR 36.777 Table B-3, hUT taken at 300 m at most): under UMa/UMi
    above 22.5 m, UMa-AV LOS 4.64 exp(-0.0066 hUT), NLOS 6; UMi-AV LOS max(5 exp(-0.01 hUT),
    2), NLOS 8; under RMa above 10 m, RMa-AV LOS 4.2 exp(-0.0046 hUT), NLOS 6. ``los`` is a
    bool array (the others broadcast with it); returns a float64 array of their shape.
    """
    s = _check_scenario(scenario)
    sf_los, sf_nlos = _SF_STD_DB[s]
    is_los = np.asarray(los, dtype=bool)
    if h_ut_m is None or s not in ("uma", "umi", "rma"):
        return np.where(is_los, sf_los, sf_nlos).astype(np.float64)
    is_los, hu = np.broadcast_arrays(is_los, np.asarray(h_ut_m, dtype=np.float64))
    out = np.where(is_los, sf_los, sf_nlos).astype(np.float64)
    if s == "rma" and d2d_m is not None and fc_ghz is not None and h_bs_m is not None:
        hg = np.clip(hu, *RMA_UT_HEIGHT_RANGE_M)
        beyond = np.asarray(d2d_m, dtype=np.float64) > np.maximum(
            rma_breakpoint_m(fc_ghz, h_bs_m, hg), _MIN_D2D_OUTDOOR_M)
        out = np.where(is_los & beyond, 6.0, out)
    aerial = hu > (aerial_above_m(s) or np.inf)
    if not aerial.any():
        return np.asarray(out, dtype=np.float64)
    h = np.minimum(hu, AERIAL_TOP_M)
    if s == "uma":
        av = np.where(is_los, 4.64 * np.exp(-0.0066 * h), 6.0)
    elif s == "umi":
        av = np.where(is_los, np.maximum(5.0 * np.exp(-0.01 * h), 2.0), 8.0)
    else:
        av = np.where(is_los, 4.2 * np.exp(-0.0046 * h), 6.0)
    return np.asarray(np.where(aerial, av, out), dtype=np.float64)
