"""What happened to the network during a run, from its summary: the scenario's faults and the
moving devices' handovers, one sentence each, shared by the terminal and the report (without
them, a cut link's no_route drops or a failed site's redispatched requests read as ordinary
losses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _window(f: Mapping[str, Any]) -> str:
    start, end = f.get("start_s"), f.get("end_s")
    return f"from {start:g} s" if end is None else f"{start:g}-{end:g} s"


def _fault(f: Mapping[str, Any]) -> str:
    text = f"{f['kind']} {f['target']} {_window(f)}"
    kind = f["kind"]
    if kind in ("site_down", "gpu_down"):
        text += (f": {f.get('affected_requests', 0):,} requests it held given back, "
                 f"{f.get('redispatched', 0):,} placed again, {f.get('lost', 0):,} lost")
    elif kind == "cell_down":
        text += f": {f.get('devices_moved', 0):,} devices moved to other cells"
    elif kind == "surge":
        text += f": {f.get('requests_during', 0):,} requests created while it lasted"
    return text


def events(summary: Mapping[str, Any]) -> list[str]:
    """The sentences for ``summary``: one on its faults, one on its moving devices (none of
    either: an empty list)."""
    out = []
    faults = summary.get("faults") or []
    if faults:
        out.append("faults: " + "; ".join(_fault(f) for f in faults))
    mob = summary.get("mobility") or {}
    n = mob.get("mobile_devices") or 0
    if n:
        minutes = float(summary.get("duration_s") or 0.0) / 60.0
        ho = mob.get("handovers", 0)
        rate = f" ({ho / n / minutes:.1f} per device per minute)" if minutes > 0 else ""
        hit = {name: v.get("requests_affected_by_handover", 0)
               for name, v in (mob.get("services") or {}).items()}
        caught = ", ".join(f"{name} {k:,}" for name, k in hit.items() if k)
        out.append(f"mobility: {n:,} moving devices, {ho:,} handovers{rate}, "
                   f"{mob.get('radio_link_failures', 0):,} radio link failures; requests "
                   f"caught by a handover: {caught or 'none'}")
    return out
