"""Analysis helpers agree with their plain numpy definitions."""

from __future__ import annotations

import numpy as np

from simulator.analysis import grouped_quantiles


def test_grouped_quantiles_match_numpy():
    """Per-group quantiles equal np.quantile on each group, and empty groups are NaN."""
    rng = np.random.default_rng(0)
    values = rng.exponential(size=5000)
    keys = rng.integers(0, 7, size=5000)
    keys[keys == 3] = 4  # group 3 stays empty
    result = grouped_quantiles(values, keys, 8, [0.5, 0.95, 0.99])
    for k in range(8):
        mine = values[keys == k]
        expected = np.quantile(mine, [0.5, 0.95, 0.99]) if len(mine) else [np.nan] * 3
        np.testing.assert_allclose(result[k], expected, equal_nan=True)


def test_per_workload_metrics_when_several_workloads(make_scenario):
    """Two workloads hitting services of different speed get their own latency and availability."""
    from simulator import run

    scenario = {
        "name": "two", "duration": "500s", "seed": 2,
        "workload": [
            {"name": "fast", "entry": "a", "arrivals": {"pattern": "poisson", "rate": "10/s"}},
            {"name": "slow", "entry": "b", "arrivals": {"pattern": "poisson", "rate": "5/s"}},
        ],
        "components": [
            {"kind": "service", "name": "a", "workers": 100, "service_time": "10ms"},
            {"kind": "service", "name": "b", "workers": 100, "service_time": "200ms", "error_rate": "50%"},
        ],
    }
    s = run(make_scenario(scenario)).summary
    assert abs(s["latency_mean.fast"] - 0.01) < 1e-9
    assert abs(s["latency_mean.slow"] - 0.2) < 1e-9
    assert s["availability.fast"] == 1.0
    assert abs(s["availability.slow"] - 0.5) < 0.05
    assert s["offered.fast"] + s["offered.slow"] == s["offered"]
