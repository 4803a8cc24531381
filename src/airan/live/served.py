"""What the devices share with the gateways that serve them, and its digest.

A gateway knows devices and services by their place in the scenario it serves, and places the
devices by its seed: devices of another scenario, or on another seed, are refused or, worse,
served at the wrong places. ``airan devices --deployment`` compares the served scenario file;
devices started from the scenario's live addresses alone compare the digest and seed each
gateway reports in its load report (no grpc here: the command line imports it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["SERVED_PARTS", "served_digest"]

#: the scenario's parts the devices share with the gateways that serve them
SERVED_PARTS = ("fleets", "services", "cell_sites", "cell_sites_file", "cell_layout", "carrier",
                "radio")


def served_digest(scenario: Any) -> str:
    """A digest of ``scenario``'s :data:`SERVED_PARTS` as written out (files named
    absolutely): equal on two hosts that load the same scenario (a live review: a host on
    another seed dropped 60 of 120 requests as error, and exit 0)."""
    from airan.report.rundir import scenario_document

    doc = {k: scenario_document(scenario).get(k) for k in SERVED_PARTS}
    # a file the scenario names stands by its contents: the same list at another path on
    # another host is the same scenario (a diff review), another list at the same path not
    listed = doc.get("cell_sites_file")
    if isinstance(listed, dict) and listed.get("path"):
        listed["path"] = _contents(listed["path"])
    for fleet in doc.get("fleets") or []:
        mobility = fleet.get("mobility") if isinstance(fleet, dict) else None
        if isinstance(mobility, dict) and mobility.get("file"):
            mobility["file"] = _contents(mobility["file"])
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _contents(path: str) -> str:
    """A file by the digest of its bytes (its path where it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return "sha256:" + hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return str(path)
