"""The compute sites' GPU energy over a run, from each site's mean power (``power_w``).

A site's power is its GPU boards' (docs/model.md, "site power": per GPU, idle + busy share x
(TDP - idle), the busy share the AI work's and, under ``ai_ran``, the L1's). The host servers
(CPUs, memory, NICs, fans), the radios and the cooling (a data centre's PUE) are not in it: an
operator's figure for a site is larger, by a server's fixed draw per GPU server and by the PUE.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: joules in a kilowatt-hour
J_PER_KWH = 3.6e6
#: hours in a day: a run's mean power held for a day (kWh a day at the run's load)
HOURS_PER_DAY = 24.0
#: what the sites' energy counts, for the summary and the terminal
SCOPE = ("the GPU boards only (per GPU, idle + busy share x (TDP - idle)); not the host "
         "servers, the radios or the cooling (PUE)")


def site_energy(power_w: float, served: int, duration_s: float) -> dict[str, float | None]:
    """One site's energy over a run of ``duration_s`` (s) at mean power ``power_w`` (W):
    ``energy_kwh`` and ``energy_per_served_j``, its GPUs' energy over the requests they
    served (J; the L1's energy included under ``ai_ran``; None where it served none)."""
    energy_j = power_w * duration_s
    return {"energy_kwh": energy_j / J_PER_KWH,
            "energy_per_served_j": energy_j / served if served else None}


def _hosts_l1(site: Mapping[str, Any]) -> bool:
    """Whether a site's GPUs run cells' L1 (``ai_ran``): then not unused, whatever it served."""
    return int((site.get("ai_ran") or {}).get("hosted_cells") or 0) > 0


def sites_energy(sites: Mapping[str, Mapping[str, Any]],
                 duration_s: float) -> dict[str, Any] | None:
    """Over every compute site of a run (a summary's ``sites``): the GPUs' mean power (W), their
    energy over the run (kWh) and at that power for a day (kWh), the energy per request the
    sites served (J), and the sites whose GPUs did nothing (served no request and ran no L1),
    with their GPUs and the idle power they drew (W); ``l1_included`` where some site runs
    cells' L1 (``ai_ran``), whose energy is then in the power and the J per request. None
    without sites or power figures."""
    with_power = {n: c for n, c in sites.items() if c.get("power_w") is not None}
    if not with_power:
        return None
    power_w = sum(float(c["power_w"]) for c in with_power.values())
    served = sum(int(c.get("served") or 0) for c in with_power.values())
    unused = [c for c in with_power.values() if not c.get("served") and not _hosts_l1(c)]
    energy_j = power_w * duration_s
    return {
        "power_w": power_w,
        "energy_kwh": energy_j / J_PER_KWH,
        "kwh_per_day": power_w * HOURS_PER_DAY / 1e3,
        "served": served,
        "energy_per_served_j": energy_j / served if served else None,
        "unused_sites": len(unused),
        "unused_gpus": sum(int(c.get("gpus") or 0) for c in unused),
        "unused_power_w": sum(float(c["power_w"]) for c in unused),
        # whether some site's GPUs run cells' L1 (ai_ran): its energy is in these figures
        "l1_included": any(_hosts_l1(c) for c in with_power.values()),
        "scope": SCOPE,
    }


def sig(x: float) -> str:
    """``x`` to 3 significant digits, never with an exponent: 100 and more whole, with
    thousands separated (a diff review: a site's 1.2 MW read "1.2e+03 kW")."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def energy_text(j: float) -> str:
    """An energy in mJ below 1 J, else J (:func:`sig`)."""
    return f"{sig(j * 1e3)} mJ" if j < 1.0 else f"{sig(j)} J"


def site_energy_text(energy: Mapping[str, Any] | None) -> str | None:
    """One line on the compute sites' GPU energy (a summary's ``site_energy``, the terminal's
    and the run report's): mean power, kWh a day at this load, J per request served, and what
    the GPUs that did nothing drew; None without it."""
    if not energy:
        return None
    per = energy.get("energy_per_served_j")
    text = (f"sites' GPU power: {sig(energy['power_w'] / 1e3)} kW mean, "
            f"{sig(energy['kwh_per_day'])} kWh a day at this load"
            + (f", {energy_text(per)} per request served" if per is not None else "")
            + " (the L1's energy included)" * bool(energy.get("l1_included")))
    if energy.get("unused_sites"):
        share = energy["unused_power_w"] / energy["power_w"] if energy["power_w"] else 0.0
        gpus, n = int(energy["unused_gpus"]), int(energy["unused_sites"])
        text += (f"; {gpus:,} GPU{'s' * (gpus != 1)} at {n:,} site{'s' * (n != 1)} served "
                 f"nothing, drawing {energy['unused_power_w']:,.0f} W idle ({share:.0%})")
    return text + "; the GPU boards only, not host servers, radios or cooling (summary.json)"
