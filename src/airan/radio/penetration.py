"""Outdoor-to-indoor (O2I) building and in-car penetration loss, TR 38.901 V17 clause 7.4.3.

A device inside a building or a car, served by outdoor cells (UMa, UMi, RMa), loses on every
link

    PL = PL_b + PL_tw + PL_in + N(0, sigma_P^2)                      (7.4.3.1, Table 7.4.3-2)

where PL_b is the outdoor path loss, PL_tw the loss through the external wall (a function of the
carrier frequency), PL_in = 0.5 dB/m x d_2D-in the loss indoors and sigma_P the spread; in a car,
N(9 dB, 5 dB^2) (7.4.3.2). Both are drawn once per device, the same on all of its links (one
wall or car body between it and every cell), d_2D-in as the smaller of two uniform draws on
[0, 25] m (UMa, UMi-Street Canyon) or [0, 10] m (RMa), where only the low-loss model applies
(7.4.3.1). Simplifications: the device's LOS state and height are those of
its own position (the TR takes LOS on the outdoor distance d_2D-out, ~d_2D-in shorter, and an
indoor UE's height from its floor).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Penetration = Literal["none", "low-loss", "high-loss", "car"]
#: the models by code: a device's code is its index here (0: outdoors, no loss)
MODELS: tuple[Penetration, ...] = ("none", "low-loss", "high-loss", "car")
#: sigma_P (dB) of the building models, TR 38.901 Table 7.4.3-2
SIGMA_P_DB = {"low-loss": 4.4, "high-loss": 6.5}
#: in-car loss N(mu, sigma^2) in dB, TR 38.901 7.4.3.2 (the basic model)
CAR_MEAN_DB, CAR_SIGMA_DB = 9.0, 5.0
#: d_2D-in is the smaller of two uniform draws on [0, this] (UMa, UMi-Street Canyon, m)
INDOOR_DISTANCE_M = 25.0
#: the same under RMa (TR 38.901 7.4.3.1), m
RMA_INDOOR_DISTANCE_M = 10.0
#: PL_in per metre indoors (dB/m), Table 7.4.3-2
INDOOR_DB_PER_M = 0.5


def material_loss_db(material: str, fc_ghz: ArrayLike) -> NDArray[np.float64]:
    """Penetration loss of one material (dB), TR 38.901 Table 7.4.3-1, ``fc_ghz`` in GHz:
    standard multi-pane glass 2 + 0.2 f, IRR glass 23 + 0.3 f, concrete 5 + 4 f, wood
    4.85 + 0.12 f."""
    a, b = {"glass": (2.0, 0.2), "irr-glass": (23.0, 0.3), "concrete": (5.0, 4.0),
            "wood": (4.85, 0.12)}[material]
    return a + b * np.asarray(fc_ghz, dtype=np.float64)  # type: ignore[no-any-return]


def wall_loss_db(model: Penetration, fc_ghz: ArrayLike) -> NDArray[np.float64]:
    """PL_tw (dB), the loss through a building's external wall, TR 38.901 Table 7.4.3-2:
    ``low-loss`` 5 - 10 log10(0.3 x 10^(-L_glass/10) + 0.7 x 10^(-L_concrete/10)), ``high-loss``
    5 - 10 log10(0.7 x 10^(-L_IRRglass/10) + 0.3 x 10^(-L_concrete/10)); none for ``none`` and
    ``car``. Example: 12.70 dB low-loss, 26.85 dB high-loss at 3.5 GHz."""
    f = np.asarray(fc_ghz, dtype=np.float64)
    if model == "low-loss":
        mix = (0.3 * 10 ** (-material_loss_db("glass", f) / 10)
               + 0.7 * 10 ** (-material_loss_db("concrete", f) / 10))
    elif model == "high-loss":
        mix = (0.7 * 10 ** (-material_loss_db("irr-glass", f) / 10)
               + 0.3 * 10 ** (-material_loss_db("concrete", f) / 10))
    else:
        return np.zeros(f.shape)
    return 5.0 - 10.0 * np.log10(mix)  # type: ignore[no-any-return]


def wall_loss_by_code_db(code: NDArray[np.integer], fc_ghz: ArrayLike) -> NDArray[np.float64]:
    """:func:`wall_loss_db` of each device's model (``code``, an index of :data:`MODELS`),
    broadcast against ``fc_ghz``."""
    f = np.asarray(fc_ghz, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(np.shape(code), f.shape))
    for i, model in enumerate(MODELS):
        if model in SIGMA_P_DB:
            out = np.where(code == i, wall_loss_db(model, f), out)
    return out


def device_loss_db(code: NDArray[np.integer], u: NDArray[np.float64],
                   indoor_distance_m: float = INDOOR_DISTANCE_M) -> NDArray[np.float64]:
    """The part of each device's loss that is its own (dB): PL_in + N(0, sigma_P^2) in a
    building, N(9, 5^2) in a car, 0 outdoors; ``code`` an index of :data:`MODELS` per device,
    ``u`` its three uniform draws, shape (n, 3): the indoor distance from the smaller of the
    first two (TR 38.901 7.4.3.1: min of two uniforms over 0-25 m, 0-10 m under RMa:
    ``indoor_distance_m``), the normal by the third's inverse CDF. A device's loss so depends
    on its own draws alone."""
    from scipy.special import ndtri

    code = np.asarray(code)
    n = len(code)
    u = np.asarray(u, float).reshape(n, 3)
    d_in = indoor_distance_m * u[:, :2].min(axis=1)
    z = ndtri(u[:, 2])
    out = np.zeros(n)
    for i, model in enumerate(MODELS):
        mine = code == i
        if model in SIGMA_P_DB:
            out[mine] = INDOOR_DB_PER_M * d_in[mine] + SIGMA_P_DB[model] * z[mine]
        elif model == "car":
            out[mine] = CAR_MEAN_DB + CAR_SIGMA_DB * z[mine]
    return out
