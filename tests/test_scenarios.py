"""The built-in scenarios load, and tell the story their descriptions promise."""

from __future__ import annotations

import pytest

from simulator import load_scenario, run
from simulator.scenario import builtin_scenarios


@pytest.mark.parametrize("name", [s[0] for s in builtin_scenarios()])
def test_builtin_scenario_validates_every_variant(name):
    """Every built-in scenario and each of its variants passes validation."""
    scenario = load_scenario(name)
    for variant in scenario.variant_names:
        scenario.resolve(variant)


def test_demo_small_fleet_collapses_and_large_fleet_does_not():
    """The viral spike saturates 3 app replicas (retry storm outlives the spike) but not 8."""
    scenario = load_scenario("three-tier-viral-spike")
    small_run = run(scenario, "small", duration=600)
    small, large = small_run.summary, run(scenario, "large", duration=600).summary
    assert large["availability"] > 0.999
    assert small["availability"] < 0.5
    assert small["amplification"] > 2.0 and small["late_answers"] > 0
    traffic = small_run.traffic
    after_spike = traffic[(traffic.t >= 9 * 60)]  # the spike has decayed by 8.5 min
    assert after_spike.goodput.mean() < 0.5 * after_spike.offered.mean()  # still broken: metastable


def test_demo_defences_keep_the_small_fleet_out_of_the_storm():
    """Same 3 replicas, plus a retry budget and shedding stale work: goodput holds and it recovers."""
    scenario = load_scenario("three-tier-viral-spike")
    small = run(scenario, "small", duration=600).summary
    defended = run(scenario, "small_defended", duration=600).summary
    assert small["stuck"] and not defended["stuck"]
    assert defended["goodput"] > 3 * small["goodput"]
    assert defended["amplification"] < 1.1 and defended["shed"] > 0
