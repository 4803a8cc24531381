"""What happened to the network during a run, from its summary: the scenario's faults, the
moving devices' handovers and, in a live run, the sites that stopped answering; one sentence
each, shared by the terminal and the report (without them, a cut link's no_route drops or a
failed site's redispatched requests read as ordinary losses)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _window(f: Mapping[str, Any], duration_s: float) -> str | None:
    """When fault ``f`` acted within a run of ``duration_s`` (None: it never started)."""
    start, end = float(f["start_s"]), f.get("end_s")
    if start >= duration_s:
        return None
    if end is None or float(end) >= duration_s:
        return f"from {start:g} s to the end"
    return f"{start:g}-{float(end):g} s"


def _geometric_rate(mob: Mapping[str, Any]) -> str:
    """The handover rate the layout's geometry alone gives the moving fleets, as a clause
    ending in "; " ("" without the figures): a straight drive at random crosses a cell every
    pi A / P on average (Cauchy's mean chord of a convex cell: a 3-sector site's rhombus of
    side D / sqrt 3, 0.39 D; a 1-sector site's hexagon, 0.79 D; D the sites' spacing), at the
    fleets' mean speed (a V2X engineer's review: the hint quoted 500 m sites on a highway of
    1,732 m ones)."""
    import math

    d = mob.get("site_spacing_m")
    speeds = [(float(f["mean_speed_mps"]), int(f.get("moving_devices") or 0))
              for f in (mob.get("fleets") or {}).values() if f.get("mean_speed_mps")]
    if not d or not speeds or not sum(w for _, w in speeds):
        return ""
    v = sum(s * w for s, w in speeds) / sum(w for _, w in speeds)
    sectors = float(mob.get("cells_per_site") or 3.0)
    chord = (math.pi / 4.0 if sectors < 2 else math.pi / 8.0) * float(d)
    return (f"for scale: with sites {float(d):,.0f} m apart, {sectors:g} cell"
            f"{'s' if sectors != 1 else ''} each, a straight drive enters a new cell every "
            f"~{chord:,.0f} m on average, ~{v * 60.0 / chord:.2g} handovers a minute at the "
            f"fleets' mean {v * 3.6:.0f} km/h; ")


def _fault(f: Mapping[str, Any], duration_s: float, l1_sites: frozenset[str] = frozenset()
           ) -> str:
    kind = f["kind"]
    link = f.get("link")
    what = f"{kind} between {link[0]} and {link[1]}" if link else f"{kind} {f['target']}"
    if kind == "gpu_down" and f.get("gpus"):
        what += f" ({_count(int(f['gpus']), 'GPU')})"
    elif kind == "link_degraded" and "capacity_factor" in f:
        extra = float(f.get("extra_delay_ms") or 0.0)
        what += f" (capacity x{float(f['capacity_factor']):g}" + (
            f", +{extra:g} ms)" if extra else ")")
    elif kind == "surge" and "rate_factor" in f:
        what += f" (rate x{float(f['rate_factor']):g})"
    elif kind == "interference" and f.get("rise_db") is not None:
        heard = {"uplink": "the cell's receiver", "downlink": "its devices' receivers"}.get(
            str(f.get("direction")), "the cell's and its devices' receivers")
        what += f" ({float(f['rise_db']):g} dB over thermal noise at {heard})"
    window = _window(f, duration_s)
    if window is None:
        return f"{what} at {float(f['start_s']):g} s: not reached in this run"
    text = f"{what} {window}"
    if kind in ("site_down", "gpu_down"):
        given = int(f.get("affected_requests", 0))
        text += (f": requests given back to the policy {_count(given, 'time')} "
                 f"({f.get('redispatched', 0):,} placed again, {f.get('lost', 0):,} rejected "
                 "at once)")
        detect = float(f.get("detect_ms") or 0.0)
        if detect:  # (each sent there meanwhile waited for the notice)
            text += (f"; noticed {detect:g} ms after it failed, "
                     f"{_count(int(f.get('sent_before_noticed', 0)), 'request')} sent there "
                     "meanwhile, each answered only after it")
        off = int(f.get("cells_off_air") or 0)
        if off:  # (ai_ran: no GPU left up to run its cells' L1)
            text += (f"; {_count(off, 'cell')} off the air (no GPU up for their L1), "
                     f"{_count(int(f.get('devices_moved', 0)), 'device')} moved to another "
                     "cell")
            without = int(f.get("devices_without_cell", 0))
            if without:
                text += f", {without:,} left with no cell on air"
        elif kind == "gpu_down" and f.get("target") in l1_sites:  # (an operator's review)
            text += ("; its cells' L1 ran on the GPUs left up meanwhile, a larger share of "
                     "each (less for AI)")
    elif kind == "cell_down":
        text += f": {_count(int(f.get('devices_moved', 0)), 'device')} moved to another cell"
        without = int(f.get("devices_without_cell", 0))
        if without:
            text += f", {without:,} left with no cell on air"
        end = f.get("end_s")
        if "devices_back" in f and end is not None and float(end) < duration_s:
            text += f", {int(f['devices_back']):,} back on it when it returned"
    elif kind == "surge":
        text += f": {_count(int(f.get('requests_during', 0)), 'request')} created while it lasted"
    elif kind == "interference" and "devices_served" in f:
        text += f": {_count(int(f['devices_served']), 'device')} on it when it began"
    elif "transport_drops_during" in f:
        n = int(f["transport_drops_during"])
        text += f": {_count(n, 'request')} dropped no_route or link_full while it lasted"
    ended = f.get("ended_during") or {}
    total = sum(int(v) for v in ended.values())
    if total:  # what it did to deadlines: a cut link's detour can make every request late
        text += (f"; of the {total:,} that ended while it lasted, {int(ended.get('late', 0)):,}"
                 f" late and {int(ended.get('dropped', 0)):,} dropped")
    return text


#: Handovers per moving device per minute above which the terminal notes that the hard LOS
#: state's count runs above drive tests' (a few per minute at 50 km/h with 500 m sites).
FEW_PER_MINUTE = 3.0


#: how the interruptions' causes read (world.HOLD_CAUSES)
_CAUSES = {"handover": "a handover", "out_of_sync": "an out-of-sync silence",
           "radio_link_failure": "a radio link failure", "cell_fault": "a cell's fault"}


def _interruptions(summary: Mapping[str, Any]) -> str | None:
    """The requests whose radio legs met a link interruption, by its cause, and how many of
    the run's late requests they are (None where none did, or nothing was counted): how much
    of a moving fleet's or a fault's lateness its link's silences explain."""
    services = (summary.get("services") or {}).values()
    by_cause: dict[str, dict[str, int]] = {}
    for svc in services:
        for cause, n in (svc.get("interrupted") or {}).items():
            tally = by_cause.setdefault(cause, {"met": 0, "late": 0, "dropped": 0})
            for k in tally:
                tally[k] += int(n.get(k) or 0)
    total = sum(sum(t.values()) for t in by_cause.values())
    if not total:
        return None
    late = sum(t["late"] for t in by_cause.values())
    run_late = int((summary.get("requests") or {}).get("late") or 0)

    def part(cause: str, t: Mapping[str, int]) -> str:
        extra = ", ".join(f"{t[k]:,} {k}" for k in ("late", "dropped") if t[k])
        return f"{sum(t.values()):,} {_CAUSES.get(cause, cause)}" + (
            f" ({extra})" if extra else "")

    return (f"link interruptions: {_count(total, 'request')} met one while on the radio "
            "(uploading or getting the answer) or were created in one: " + ", ".join(
                part(c, t) for c, t in by_cause.items())
            + ("; no request of the run was late" if not run_late else
               f"; they are {late:,} of the run's {run_late:,} late requests") + (
                " (the others met none themselves: load on the cells, the links or the "
                "compute, to which the backlog a silence releases at once adds)"
                if run_late > late else ""))


def _interrupted_by(summary: Mapping[str, Any], cause: str) -> dict[str, int]:
    """The requests whose radio legs met an interruption of ``cause``, by outcome (all
    services; empty where none)."""
    tally = {"met": 0, "late": 0, "dropped": 0}
    for svc in (summary.get("services") or {}).values():
        n = (svc.get("interrupted") or {}).get(cause) or {}
        for k in tally:
            tally[k] += int(n.get(k) or 0)
    return tally if sum(tally.values()) else {}


def events(summary: Mapping[str, Any]) -> list[str]:
    """The sentences for ``summary``: one on its faults, one on its moving devices, one on
    the requests their link's interruptions met (none of them: an empty list)."""
    out = []
    duration_s = float(summary.get("duration_s") or 0.0)
    faults = summary.get("faults") or []
    if faults:
        l1_sites = frozenset(name for name, c in (summary.get("sites") or {}).items()
                             if (c.get("ai_ran") or {}).get("hosted_cells"))
        text = "faults: " + "; ".join(_fault(f, duration_s, l1_sites) for f in faults)
        # what the cells' outages did to the requests on their radio legs, counted as they
        # end (a humanoid maker's review: a cell_down read "0 late and 0 dropped" of those
        # that ended while it lasted, where 23 it held ended late after it)
        hit = _interrupted_by(summary, "cell_fault")
        if hit and any(f.get("kind") == "cell_down" for f in faults):
            text += (f"; the cell outages met {_count(sum(hit.values()), 'request')} on "
                     f"their radio legs, {hit['late']:,} of them late and {hit['dropped']:,} "
                     "dropped (counted as they end, after the outage for most)")
        out.append(text)
    mob = summary.get("mobility") or {}
    n = int(mob.get("mobile_devices") or 0)
    if n:
        ho = int(mob.get("handovers", 0))
        # a rate from a handful of handovers, or a fraction of a minute, says little
        fleets = mob.get("fleets") or {}
        each = (": " + ", ".join(f"{name} {f.get('handovers_per_device_per_min', 0.0):.3g}"
                                 for name, f in fleets.items())
                if len(fleets) > 1 else "")  # each fleet's own rate
        # (per minute each device moved in the run: a trace's devices within their samples)
        rate = ""
        if ho >= 10 and duration_s >= 1.0:
            per_min = mob.get("handovers_per_device_per_min")
            if per_min is None:  # (a summary written before it said)
                per_min = ho / n / (duration_s / 60.0)
            per_km = mob.get("handovers_per_km")
            total = float(mob.get("travelled_km") or 0.0)
            km = (f"; {float(per_km):.3g} per km moved, "
                  f"{f'{total:,.0f}' if total >= 1000 else f'{total:.4g}'} km"
                  if per_km is not None and total else "")
            rate = f" ({per_min:.3g} per device per minute{each}{km})"
        pp = mob.get("ping_pong_handovers")
        if pp is not None and ho >= 10:
            rate += f", {int(pp) / ho:.0%} of them ping-pong (back within 1 s)"
        hit = {name: v.get("requests_affected_by_handover", 0)
               for name, v in (mob.get("services") or {}).items()}
        caught = ", ".join(f"{name} {k:,}" for name, k in hit.items() if k)
        # (a summary that counts every request by the interruption it met says so on a
        # line of its own, _interruptions; one from before, those on the radio at a handover)
        counted = any("interrupted" in v for v in (summary.get("services") or {}).values())
        rlf = int(mob.get("radio_link_failures", 0))
        # each fleet's where several move (a drone maker's review: only in summary.json)
        by_fleet = (" (" + ", ".join(f"{name} {int(f.get('radio_link_failures', 0)):,}"
                                     for name, f in fleets.items()) + ")"
                    if rlf and len(fleets) > 1 else "")
        oos = int(mob.get("out_of_sync_silences") or 0)
        # (an AMR maker's review: a half-second silence below Qout before a late handover,
        # the handovers' whole cost in latency, showed only as uplink wait)
        silences = (f", {_count(oos, 'out-of-sync silence')} "
                    f"({float(mob.get('out_of_sync_silent_s') or 0.0):.3g} s in all: the "
                    "serving cell's SSB below Qout, the link silent both ways until in sync "
                    "again, a handover or the failure; their requests' wait shows as ul_wait, "
                    "or ul_air and dl_air for an upload or an answer caught mid-way)"
                    if oos else "")
        out.append(f"mobility: {_count(n, 'moving device')}, {_count(ho, 'handover')}{rate}, "
                   f"{_count(rlf, 'radio link failure')}{by_fleet}{silences}"
                   + ("" if counted else
                      "; requests on the radio when their device handed over (not those "
                      f"created during an interruption, which wait too): {caught or 'none'}")
                   + ("; these counts, and the SINR swings and silences behind them, may run "
                      "high: TR 38.901's line-of-sight state, read every few metres, flips a "
                      "path loss by 20-30 dB at once and keeps it for tens of metres, longer "
                      "than the UE's layer-3 filter smooths (where every link is in line of "
                      "sight, a rail corridor or an open field, radio.los: always keeps it so; "
                      + _geometric_rate(mob) + "docs/mobility.md)"
                      # (the re-read: where the state is fixed, or the radio has none, no flip
                      # is behind the counts, and the caveat's cause is absent)
                      if ho >= 10 and duration_s > 0 and mob.get("los", "model") == "model"
                      and ho / n / (duration_s / 60.0) > FEW_PER_MINUTE else ""))
    line = _interruptions(summary)
    if line:
        out.append(line)
    stopped = {name: (c.get("live") or {}).get("stopped_answering_s")
               for name, c in (summary.get("sites") or {}).items()}
    stopped = {name: t for name, t in stopped.items() if t is not None}
    if stopped:  # a live run's site that crashed or was killed
        out.append("sites that stopped answering their load reports: " + ", ".join(
            f"{name} after {t:.2f} s" for name, t in stopped.items()) + " (their figures cover "
            "the time before; requests sent there later were placed again or dropped)")
    refused = [name for name, c in (summary.get("sites") or {}).items()
               if (c.get("live") or {}).get("refused_token")]
    if refused:  # (a live review: a site given another token read as down)
        out.append("sites that refused the tenant token (UNAUTHENTICATED): " + ", ".join(refused)
                   + " (the hosts were given different tokens? every airan serve --component "
                   "and airan devices needs the same AIRAN_TOKEN)")
    silent = [name for name, c in (summary.get("sites") or {}).items()
              if (c.get("live") or {}).get("answered_load_reports", 1) == 0
              and name not in refused]
    if silent:  # a live run's site down (or unreachable) from the start
        out.append("sites that answered no load report all run: " + ", ".join(silent)
                   + " (down or unreachable from the start: their figures are empty)")
    return out
