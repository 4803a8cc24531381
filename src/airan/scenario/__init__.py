"""Scenario layer: the schema, YAML loading and the built-in scenarios."""

from airan.scenario.load import builtin_scenarios, load_scenario, scenario_from_dict
from airan.scenario.schema import Scenario

__all__ = ["Scenario", "builtin_scenarios", "load_scenario", "scenario_from_dict"]
