"""cascade-sim: discrete-event simulation of distributed-system failures and the defences against them.

Public API::

    scenario = load_scenario("scenarios/three-tier-viral-spike.yaml")
    result = run(scenario, variant="small")
    result.summary["availability"], result.requests, result.traffic, result.series, result.events
"""

from simulator.runner import RunResult, run
from simulator.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "run", "scenario_from_dict"]
__version__ = "0.1.0"
