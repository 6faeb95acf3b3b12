"""Scenario files: the typed schema, the loader with its error messages, variants and overrides."""

from simulator.scenario.catalog import BuiltinScenario, builtin_scenarios
from simulator.scenario.loader import Scenario, load_scenario, locate_scenario, scenario_from_dict
from simulator.scenario.overrides import apply_overrides, parse_set_option
from simulator.scenario.problems import Problem, ScenarioError
from simulator.scenario.schema import ScenarioSpec

__all__ = [
    "BuiltinScenario",
    "Problem",
    "Scenario",
    "ScenarioError",
    "ScenarioSpec",
    "apply_overrides",
    "builtin_scenarios",
    "load_scenario",
    "locate_scenario",
    "parse_set_option",
    "scenario_from_dict",
]
