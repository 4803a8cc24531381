"""A scenario of one cell site and an H100 beside it, built from `city` for the tests that need
a single cell (no transport, no other cell's interference)."""

from __future__ import annotations

from typing import Any

from airan.scenario import load_scenario


def one_cell_site(sectors: int = 3) -> dict[str, Any]:
    """`city` as a dict, reduced to one cell site ``bs`` at the origin with ``sectors`` cells and
    a cell-kind compute site ``edge`` (one H100) there; fleets and services as in `city`."""
    d = load_scenario("city").model_dump(mode="json")
    d.update(cell_layout=None, generated_compute_sites=None, nodes=[], transport={"links": []},
             cell_sites=[{"name": "bs", "position_m": [0.0, 0.0], "sectors": sectors}],
             compute_sites=[{"name": "edge", "at": "bs", "kind": "cell",
                             "gpus": [{"type": "H100", "count": 1}]}])
    return d
