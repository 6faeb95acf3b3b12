"""The ``traffic_drop`` fault: an upstream outage thins a workload's arrivals.

Definition: each arrival of the window [at, at + for) is skipped with probability ``drop``; the
others arrive exactly when they would without the fault, and a skipped arrival is no request (the
books, simulator.accounting, still balance: the run would stop with an internal error otherwise).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import run


def scenario(faults: list[dict], pattern: str = "poisson") -> dict:
    return {
        "name": "drop", "duration": "5m", "seed": 11,
        "workload": [{"name": "web", "entry": "app", "arrivals": {"pattern": pattern, "rate": "20/s"}}],
        "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 4,
                        "service_time": "10ms"}],
        "faults": faults,
    }


DROP = {"kind": "traffic_drop", "name": "upstream", "target": "web", "at": 60, "for": 120, "drop": "70%"}


@pytest.mark.parametrize("pattern", ["poisson", "deterministic"])
def test_drop_thins_the_window_and_leaves_every_other_arrival_where_it_was(make_scenario, pattern):
    base = run(make_scenario(scenario([], pattern))).requests["t_arrival"].to_numpy()
    dropped = run(make_scenario(scenario([DROP], pattern))).requests["t_arrival"].to_numpy()
    inside = (base >= 60) & (base < 180)
    assert np.array_equal(dropped[dropped < 60], base[base < 60])
    assert np.array_equal(dropped[dropped >= 180], base[base >= 180])
    kept = dropped[(dropped >= 60) & (dropped < 180)]
    assert set(kept) <= set(base[inside])  # a subset of the same arrival times: thinning
    n = int(inside.sum())
    assert abs(len(kept) - 0.3 * n) < 4 * math.sqrt(n * 0.3 * 0.7)  # Binomial(n, 0.3) within 4 sd


def test_a_drop_needs_open_loop_arrivals(validate_one_line):
    data = scenario([DROP])
    data["workload"][0]["arrivals"] = {"pattern": "closed", "users": 10, "think_time": "1s"}
    assert "faults[0].target: a traffic_drop needs open-loop arrivals" in validate_one_line(data)
