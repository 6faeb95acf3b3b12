"""cascade-sim: discrete-event simulation of distributed-system failures and the defences against them.

Public API::

    scenario = load_scenario("scenarios/three-tier-viral-spike.yaml")
    result = run(scenario, variant="small")
    result.summary["availability"], result.requests, result.traffic, result.series, result.events
    compare(scenario, replications=10).table     # paired comparison with 95% intervals
    sweep(scenario, ["components.app.replicas=2:8:2"]).table, check(["scenarios/x.yaml"]).passed
"""

from simulator.experiment import check, compare, sweep
from simulator.runner import RunResult, run
from simulator.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["RunResult", "Scenario", "ScenarioError", "check", "compare", "load_scenario", "run",
           "scenario_from_dict", "sweep"]
__version__ = "0.1.0"
