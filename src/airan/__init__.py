"""airan: a fast, validated digital twin of AI-RAN (GPU base stations serving physical AI)."""

from airan.api import run, scale_fleets
from airan.engine import Engine, Result
from airan.errors import InputError
from airan.scenario import Scenario, load_scenario

__all__ = ["Engine", "InputError", "Result", "Scenario", "load_scenario", "run", "scale_fleets"]
