"""Hedged requests (``kind: hedge``) against their closed form at low load.

With no queueing, a call hedged after a fixed delay d answers at T = min(X1, d + X2), X1 and X2
independent service times. For a lognormal X (median 10 ms, sigma 1) and d its p95 (51.8 ms):
P(T > t) = S(t) S(t - d) for t > d, so p99 falls from 102.4 ms to 66.7 ms, while P(X1 > d) = 5%
of calls send a copy, and a copy wins when X1 > d + X2. The references below are computed from
these formulas (normal tail by erfc, a root by bisection, an expectation by quadrature), not
from the simulator.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from simulator import run

MU, SIGMA = math.log(0.010), 1.0
RATE, DURATION = 1000, 200  # 200,000 calls: p99's standard error is under 1 ms


def survival(t: float) -> float:
    """P(X > t) for the lognormal service time."""
    return 1.0 if t <= 0 else 0.5 * math.erfc((math.log(t) - MU) / (SIGMA * math.sqrt(2)))


def quantile(q: float) -> float:
    return math.exp(MU + SIGMA * NormalDist().inv_cdf(q))


def hedged_quantile(q: float, d: float) -> float:
    """The t with P(min(X1, d + X2) > t) = 1 - q, by bisection."""
    lo, hi = d, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if survival(mid) * survival(mid - d) > 1 - q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def copy_wins(d: float) -> float:
    """P(X1 > d + X2) = E[S(d + X2)], by quadrature over X2's normal score."""
    z = np.linspace(-8, 8, 8001)
    density = np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    values = np.array([survival(d + math.exp(MU + SIGMA * zi)) for zi in z])
    return float(np.trapezoid(density * values, z))


def scenario(hedge: dict | None, *, via_balancer: bool = False) -> dict:
    """Calls at 1000/s to a service with far more workers than it needs: nothing ever waits."""
    service = {"kind": "service", "name": "svc", "replicas": 4, "workers": 40,
               "service_time": {"dist": "lognormal", "median": "10ms", "sigma": 1}}
    components = [service]
    entry = "svc"
    if via_balancer:
        components.insert(0, {"kind": "load_balancer", "name": "lb", "targets": "svc"})
        entry = "lb"
    data = {
        "name": "hedging", "duration": DURATION, "seed": 11,
        "workload": [{"name": "w", "entry": entry, "arrivals": {"pattern": "poisson", "rate": RATE}}],
        "components": components,
    }
    if hedge is not None:
        data["mitigations"] = [{"kind": "hedge", "name": "h", **hedge}]
    return data


def test_reference_numbers_are_those_the_literature_quotes():
    d = quantile(0.95)
    assert d == pytest.approx(0.0518, abs=5e-5)
    assert quantile(0.99) == pytest.approx(0.1024, abs=5e-5)
    assert hedged_quantile(0.99, d) == pytest.approx(0.0667, abs=5e-5)


@pytest.mark.slow
@pytest.mark.parametrize("via_balancer", [False, True], ids=["direct", "balancer"])
def test_fixed_delay_hedging_matches_its_closed_form(make_scenario, via_balancer):
    d = quantile(0.95)
    target = "w"
    plain = run(make_scenario(scenario(None, via_balancer=via_balancer))).summary
    hedged = run(make_scenario(scenario({"target": target, "delay": d}, via_balancer=via_balancer))).summary
    n = hedged["offered"]
    assert plain["latency_p99"] == pytest.approx(quantile(0.99), abs=0.004)
    assert hedged["latency_p99"] == pytest.approx(hedged_quantile(0.99, d), abs=0.004)
    # About 5% more attempts, within 4 binomial standard deviations.
    share, sd = hedged["hedges_sent.h"] / n, math.sqrt(0.05 * 0.95 / n)
    assert abs(share - 0.05) < 4 * sd
    won, p_won = hedged["hedges_won.h"] / n, copy_wins(d)
    assert abs(won - p_won) < 4 * math.sqrt(p_won * (1 - p_won) / n)
    assert hedged["availability"] == 1.0 and plain["availability"] == 1.0


@pytest.mark.slow
def test_percentile_delay_learns_the_p95_from_recent_latencies(make_scenario):
    """``delay: p95`` estimates d from the first copies' own latencies: the same closed form."""
    d = quantile(0.95)
    hedged = run(make_scenario(scenario({"target": "w", "delay": "p95", "window": "30s"}))).summary
    n = hedged["offered"]
    assert hedged["latency_p99"] == pytest.approx(hedged_quantile(0.99, d), abs=0.005)
    assert hedged["hedges_sent.h"] / n == pytest.approx(0.05, abs=0.004)


def test_a_copy_that_loses_is_cancelled_and_its_late_work_is_wasted(make_scenario):
    """One replica with one worker: the copy queues behind its own original, so it always loses;
    once the original answers, the copy is settled and the work it then does is wasted."""
    data = scenario({"target": "w", "delay": "5ms"})
    data["components"][0].update(replicas=1, workers=1,
                                 service_time={"dist": "constant", "value": "20ms"})
    data["workload"][0]["arrivals"]["rate"] = 10
    data["duration"] = 60
    s = run(make_scenario(data)).summary
    assert s["hedges_won.h"] == 0
    assert s["hedges_sent.h"] == pytest.approx(s["offered"], rel=0.01)
    # Every copy does 20 ms of work for a call already answered.
    assert s["wasted_work.svc"] == pytest.approx(0.020 * s["hedges_sent.h"], rel=0.02)


@pytest.mark.parametrize("hedge, expected", [
    ({"target": "w", "delay": "p100"}, "expected a percentile between p1 and p99.9"),
    ({"target": "w", "delay": "0s"}, "greater than zero"),
    ({"target": "w", "delay": "5ms", "max_extra": 0}, "max_extra: must be at least 1"),
    ({"target": "nope", "delay": "5ms"}, "'nope' names no component, workload or edge"),
    ({"target": "svc", "delay": "5ms"}, "a hedge acts on a call edge caller->callee or a workload"),
])
def test_bad_hedge_specs_name_the_key(validate_one_line, hedge, expected):
    line = validate_one_line(scenario(hedge))
    assert "mitigations[0]" in line and expected in line
