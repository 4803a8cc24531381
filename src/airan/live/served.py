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

#: the scenario's parts the devices share with the gateways that serve them
SERVED_PARTS = ("fleets", "services", "cell_sites", "cell_sites_file", "cell_layout", "carrier",
                "radio")


def served_digest(scenario: Any) -> str:
    """A digest of ``scenario``'s :data:`SERVED_PARTS` as written out (files named
    absolutely): equal on two hosts that load the same scenario (a live review: a host on
    another seed dropped 60 of 120 requests as error, and exit 0)."""
    from airan.report.rundir import scenario_document

    doc = scenario_document(scenario)
    text = json.dumps({k: doc.get(k) for k in SERVED_PARTS}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
