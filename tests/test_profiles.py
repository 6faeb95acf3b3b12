"""Arrival-rate profiles: exact inversion of the cumulative rate, spikes and steps where asked."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from simulator import run
from simulator.workload.profiles import RateFunction, knots_for


def test_advance_inverts_cumulative_rate_on_a_ramp():
    """On a rate ramping 0 -> 10/s over 10 s, the first unit of mass ends at sqrt(2) s."""
    rf = RateFunction([(0.0, 0.0), (10.0, 10.0)])
    assert rf.advance(0.0, 1.0) == pytest.approx(math.sqrt(2.0))
    assert rf.advance(10.0, 5.0) == pytest.approx(10.5)  # constant 10/s after the last knot


def test_spike_knots_follow_rise_hold_decay():
    """The spike profile reaches its peak after `rise` and is back at base after `decay`."""
    spike = SimpleNamespace(kind="spike", at=100.0, peak=500.0, rise=10.0, hold=50.0, decay=20.0,
                            shape="linear")
    rf = RateFunction(knots_for(spike, 100.0, 600.0))
    assert [rf.rate(t) for t in (50, 105, 110, 150, 170, 300)] == pytest.approx(
        [100, 300, 500, 500, 300, 100])


def test_step_profile_changes_measured_arrival_rate(make_scenario):
    """A step from 50/s to 200/s at t=100s shows up in the traffic table."""
    scenario = {
        "name": "step", "duration": "200s", "seed": 1, "sample_interval": "10s",
        "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "poisson", "rate": "50/s"},
                      "profile": [{"at": "100s", "rate": "200/s"}]}],
        "components": [{"kind": "service", "name": "svc", "workers": 100, "service_time": "1ms"}],
    }
    traffic = run(make_scenario(scenario)).traffic
    before = traffic[traffic.t < 100].offered.mean()
    after = traffic[traffic.t >= 100].offered.mean()
    assert before == pytest.approx(50, rel=0.05)
    assert after == pytest.approx(200, rel=0.05)


def test_deterministic_arrivals_are_evenly_spaced(make_scenario):
    """pattern: deterministic gives exactly 1/rate between arrivals."""
    scenario = {
        "name": "det", "duration": "10s", "seed": 1,
        "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "deterministic", "rate": "4/s"}}],
        "components": [{"kind": "service", "name": "svc", "workers": 1, "service_time": "1ms"}],
    }
    gaps = np.diff(run(make_scenario(scenario)).requests.t_arrival.to_numpy())
    np.testing.assert_allclose(gaps, 0.25)
