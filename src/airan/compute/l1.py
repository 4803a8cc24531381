"""The radio's own GPU work (vRAN Layer 1) and the background traffic of the cells over a day.

Calibration (DOMAIN.md, "AI-RAN"):

* NVIDIA Aerial cuBB on Grace Hopper runs 20 peak cells (4T4R, 100 MHz, 273 PRB) per GPU, so a
  peak 100 MHz cell takes 1/20 of a Hopper GPU: of a GH200's GPU, the platform measured, and of
  an H100 or H200, the same Hopper GPU (an assumption: not measured on them).
* The A100 line (A100 + CX6) runs 4 peak or 8 average cells: an average cell costs half a peak
  cell. The average cell of Aerial's traffic patterns uses at most 132 of the peak cell's 270
  PxSCH PRBs (0.489) with the same 4 DL / 2 UL layers (Grace Hopper multicell capacity table), so
  a linear cost in the PRB utilization ``u``, ``f0 + (1 - f0) * u``, through these two points has
  the fixed part ``f0 = (0.5 - 0.489) / (1 - 0.489) = 0.022``: the L1 work follows the PRBs it
  processes, with little that runs every slot regardless (an earlier calibration took the
  average cell's DL throughput ratio, 559 / 1544 = 0.362, as its PRB use and got 0.216, which
  tripled the cost of a lightly loaded cell). The same ``f0`` is taken for every GPU: Grace
  Hopper's "20 average cells" equals its peak figure, which reads as the tested configuration's
  ceiling (20 cells) rather than a measured average-load cost.
* Antennas (an assumption, calibrated): under the O-RAN 7.2x split the radio unit does the FFTs
  and the L1's main costs (LDPC, equalization) follow the layers, not the antennas; what grows
  with them is channel estimation and beamforming weights. Grace Hopper runs 20 peak 4T4R or 6
  peak 64T64R cells (the same page), so the cost scales as ``(antennas / 4) ** 0.434``
  (``16 ** 0.434 = 20 / 6``), through both points (a cost linear in the antennas would have made
  a 64T64R cell 16 peak 4T4R cells, 4.8x the published figure).
* Other GPUs (an assumption, stated): peak cells in proportion to dense BF16 throughput, from
  the Hopper point (989 TFLOPS for 20 cells). The two calibrated points do not agree on that
  rule (it would give the A100 6.3 peak cells, not 4): an L40S gets 7.3 from the Hopper point
  and would get 4.6 from the A100's, so the L1 share on GPUs other than these is uncertain by
  about 1.6x. The cost scales with bandwidth (per 100 MHz), as the L1 work of every symbol
  does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airan.catalog import GpuSpec

PEAK_CELLS_CALIBRATED = {  # GPU id -> peak 4T4R 100 MHz cells per GPU (DOMAIN.md)
    "GH200": 20.0,  # Grace Hopper, Aerial multicell capacity (the platform measured)
    "H100": 20.0,  # the same Hopper GPU as GH200's
    "H200": 20.0,
    "A100-40GB": 4.0,  # A100 + CX6, Aerial SDK 23-1 notes
    "A100-80GB": 4.0,
}
HOPPER_BF16_TFLOPS = 989.0
AVERAGE_CELL_UTILIZATION = 132.0 / 270.0  # the average pattern's PxSCH PRBs over the peak's
FIXED_FRACTION = (0.5 - AVERAGE_CELL_UTILIZATION) / (1.0 - AVERAGE_CELL_UTILIZATION)
REFERENCE_BANDWIDTH_MHZ = 100.0
REFERENCE_ANTENNAS = 4
PEAK_CELLS_64T64R_HOPPER = 6.0  # Grace Hopper, Aerial multicell capacity (BFP9)
ANTENNA_EXPONENT = math.log(PEAK_CELLS_CALIBRATED["GH200"] / PEAK_CELLS_64T64R_HOPPER) / math.log(
    64 / REFERENCE_ANTENNAS)

# Background traffic by hour (0..23), as a fraction of the busy hour. Shaped after the daily
# profile of mobile traffic used by the EARTH project's energy evaluation (Auer et al., IEEE
# Wireless Communications 2011): lowest around 4-5 h, highest in the evening. An assumption:
# give ``ai_ran.traffic.hourly`` for a measured profile.
DIURNAL = np.array([
    0.55, 0.40, 0.30, 0.22, 0.18, 0.17, 0.20, 0.30, 0.45, 0.60, 0.70, 0.75,
    0.78, 0.80, 0.80, 0.82, 0.85, 0.90, 0.95, 1.00, 1.00, 0.95, 0.85, 0.70,
])


def l1_peak_cells(gpu_id: str, spec: GpuSpec, given: Mapping[str, float] | None = None) -> float:
    """Peak 4T4R 100 MHz cells whose L1 one GPU of this type runs (0: it cannot run L1):
    ``given``'s (a scenario's ``ai_ran.l1_peak_cells``, one's own measurement), else the
    calibrated figure, else scaled from Hopper's by dense BF16 throughput."""
    if given and gpu_id in given:
        return float(given[gpu_id])
    if gpu_id in PEAK_CELLS_CALIBRATED:
        return PEAK_CELLS_CALIBRATED[gpu_id]
    if spec.kind not in ("datacenter", "edge"):
        return 0.0
    bf16 = spec.tflops.bf16 or 0.0
    return PEAK_CELLS_CALIBRATED["GH200"] * bf16 / HOPPER_BF16_TFLOPS


#: Memory slices (of 8) of the MIG GPU instance profiles of A100 and H100 by their compute
#: slices (of 7): 1g.10gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb (NVIDIA MIG User Guide, supported
#: profiles).
MIG_MEMORY_EIGHTHS = {1: 1, 2: 2, 3: 4, 4: 4, 7: 8}


def _profile(share: float) -> int | None:
    """The compute slices (of 7) of the MIG profile with ``share`` of them, if one has it."""
    sevenths = round(7 * share)
    if abs(7 * share - sevenths) < 1e-3 and sevenths in MIG_MEMORY_EIGHTHS:  # (0.4286: 3/7)
        return sevenths
    return None


def mig_ai_slice(l1_fraction: float, spec: GpuSpec | None = None) -> tuple[float, float]:
    """(compute, memory) shares of the GPU that AI keeps when the L1 takes a MIG slice of
    ``l1_fraction`` of its compute slices: the AI instance's profile (Aerial's 3/7 L1 slice
    leaves AI 4g.40gb, 4/8 of the memory and its bandwidth, and the profile's SMs: 64 of an
    H100's 132, 0.485 of its peaks, where the catalog lists them, else 4/7). A share no profile
    has keeps that share of the SMs and of the memory."""
    compute = 1.0 - l1_fraction
    sevenths = _profile(compute)
    if sevenths is not None:
        sms = spec.mig_sm_share(sevenths) if spec is not None else sevenths / 7
        return sms, MIG_MEMORY_EIGHTHS[sevenths] / 8
    return compute, compute


def mig_l1_share(l1_fraction: float, spec: GpuSpec | None = None) -> float:
    """The share of the GPU's peaks the L1's MIG slice of ``l1_fraction`` has: its profile's
    SMs where the catalog lists them (an H100's 3g has 60 of 132: 0.455, not 3/7), else
    ``l1_fraction``."""
    sevenths = _profile(l1_fraction)
    if sevenths is not None and spec is not None:
        return spec.mig_sm_share(sevenths)
    return l1_fraction


def mig_slice_spec(spec: GpuSpec, compute: float, memory: float) -> GpuSpec:
    """A MIG instance as a GPU of its own: ``compute`` of the peaks, ``memory`` of the memory
    and its bandwidth (power and price stay the whole GPU's)."""
    peaks = {p: (v * compute if v is not None else None)
             for p, v in spec.tflops.model_dump().items()}
    return spec.model_copy(update={
        "tflops": spec.tflops.model_copy(update=peaks),
        "mem_bw_tbps": spec.mem_bw_tbps * memory,
        "memory_gb": spec.memory_gb * memory,
    })


#: the L1 work of an FDD cell over a TDD cell of the same channel bandwidth: it processes a
#: downlink and an uplink carrier in every slot, where a TDD cell (Aerial's calibration, on
#: DDDSUUDDDD) processes one direction per slot; with the costs of a downlink and an uplink
#: PRB taken alike (not published apart), twice the PRB-slots per second (an operator's
#: review: 3 FDD cells of 20 MHz were costed 1% of an H100, as TDD ones)
FDD_WORK_FACTOR = 2.0


def l1_bandwidth_mhz(channel_mhz: ArrayLike, fdd: bool) -> NDArray[np.float64]:
    """The bandwidth (MHz) a cell's L1 processes per slot, for :func:`l1_gpu_share`: its
    channel's, twice for an FDD cell's paired carriers (:data:`FDD_WORK_FACTOR`)."""
    return np.asarray(channel_mhz, dtype=float) * (FDD_WORK_FACTOR if fdd else 1.0)


def l1_gpu_share(
    utilization: ArrayLike,
    peak_cells: float,
    bandwidth_mhz: ArrayLike = REFERENCE_BANDWIDTH_MHZ,
    antennas: int = REFERENCE_ANTENNAS,
    fixed_fraction: float = FIXED_FRACTION,
) -> NDArray[np.float64]:
    """Fraction of one GPU that a cell's L1 needs at PRB utilization ``utilization`` (0..1);
    ``fixed_fraction``: the share of a peak cell's work it takes at no PRB use (the work of
    every slot), the calibrated 0.022 unless ``ai_ran.l1_fixed_share`` sets it."""
    u = np.clip(np.asarray(utilization, dtype=float), 0.0, 1.0)
    per_cell = fixed_fraction + (1.0 - fixed_fraction) * u
    scale = np.asarray(bandwidth_mhz, dtype=float) / REFERENCE_BANDWIDTH_MHZ
    scale = scale * (antennas / REFERENCE_ANTENNAS) ** ANTENNA_EXPONENT
    if peak_cells <= 0:
        return np.full(np.shape(per_cell * scale), np.inf)
    return per_cell * scale / peak_cells  # type: ignore[no-any-return]


def background_utilization(
    t_s: ArrayLike,
    *,
    hourly: ArrayLike | None = None,
    peak_utilization: float = 0.8,
    start_hour: float = 0.0,
    step_s: float = 60.0,
) -> NDArray[np.float64]:
    """Background PRB utilization of a cell at simulated time ``t_s`` (a step function).

    ``hourly``: 24 utilizations (then ``peak_utilization`` is not used); default: ``DIURNAL``
    scaled to ``peak_utilization``. Between hours the curve is linear; it is sampled at the
    start of each ``step_s`` step.
    """
    t = np.floor(np.asarray(t_s, dtype=float) / step_s) * step_s
    hour = (start_hour + t / 3600.0) % 24.0
    curve = np.asarray(hourly, dtype=float) if hourly is not None else DIURNAL * peak_utilization
    h0 = np.floor(hour).astype(int) % 24
    frac = hour - np.floor(hour)
    return (1 - frac) * curve[h0] + frac * curve[(h0 + 1) % 24]  # type: ignore[no-any-return]
