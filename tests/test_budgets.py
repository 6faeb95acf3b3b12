"""Retry budgets and adaptive throttling keep retries and attempts from burying a failing backend."""

from __future__ import annotations

import pytest

from simulator import run
from simulator.mitigations.windowed import WindowedSum


def _failing(mitigations: list, max_attempts: int = 5, rate: str = "100/s") -> dict:
    return {
        "name": "failing", "duration": "300s", "warmup": "30s", "seed": 5,
        "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "poisson", "rate": rate},
                      "client": {"retry": {"max_attempts": max_attempts, "base": "10ms"}}}],
        "components": [{"kind": "service", "name": "svc", "workers": 100, "service_time": "5ms",
                        "error_rate": "100%"}],
        "mitigations": mitigations,
    }


def test_windowed_sum_forgets_after_the_window():
    """Values leave the sum once they are older than the window (to one slice)."""
    w = WindowedSum(10.0)
    w.add(0.5, 3.0)
    w.add(5.0, 2.0)
    assert w.sum(9.0) == 5.0
    assert w.sum(10.5) == 2.0  # the slice holding t=0.5 expired
    assert w.sum(16.0) == 0.0


def test_without_a_budget_every_failure_is_retried(make_scenario):
    """Baseline: a backend that always fails gets max_attempts attempts per request."""
    s = run(make_scenario(_failing([]))).summary
    assert s["amplification"] == pytest.approx(5.0)


def test_retry_budget_bounds_amplification(make_scenario):
    """Finagle's budget: with every call failing, amplification stays near 1 + ratio."""
    budget = {"kind": "retry_budget", "name": "budget", "target": "w", "ratio": "20%", "min_per_second": 0}
    s = run(make_scenario(_failing([budget]))).summary
    assert s["amplification"] == pytest.approx(1.2, abs=0.03)
    assert s["budget_exhausted.budget"] > 0.5 * s["offered"]


def test_retry_budget_reserve_allows_min_per_second(make_scenario):
    """The reserve lets a quiet client retry about min_per_second times per second on top of the ratio."""
    budget = {"kind": "retry_budget", "name": "budget", "target": "w", "ratio": "10%", "min_per_second": 5}
    s = run(make_scenario(_failing([budget], rate="20/s"))).summary
    # per second: 20 requests, 20 x 0.1 = 2 deposited retries, plus 5/s from the reserve -> ~7 retries/s
    assert s["amplification"] == pytest.approx(1 + 7 / 20, abs=0.05)


def test_a_disabled_budget_changes_nothing(make_scenario):
    """enabled: false builds nothing: the run is identical to one without the budget."""
    budget = {"kind": "retry_budget", "name": "budget", "target": "w", "enabled": False}
    with_budget = run(make_scenario(_failing([budget]))).requests
    without = run(make_scenario(_failing([]))).requests
    assert with_budget.equals(without)


def test_adaptive_throttling_matches_its_formula(make_scenario):
    """The rejection probability is max(0, (requests - k*accepts) / (requests + 1)) over the window."""
    from simulator.mitigations.adaptive_throttling import AdaptiveThrottling
    from simulator.scenario.limits import AdaptiveThrottlingSpec

    spec = AdaptiveThrottlingSpec(name="t", target="w", k=2.0, window=60.0)
    ctx = type("Ctx", (), {"streams": type("S", (), {"generator": lambda self, name: None})()})()
    throttle = AdaptiveThrottling.__new__(AdaptiveThrottling)
    throttle.spec, throttle.ctx = spec, ctx
    throttle.requests, throttle.accepts = WindowedSum(60.0), WindowedSum(60.0)
    seen = {}
    for t in range(100):
        throttle.requests.add(float(t))
        if t % 4 == 0:
            throttle.accepts.add(float(t))
        seen[t] = throttle.probability(float(t))
    assert seen[50] == pytest.approx((51 - 2 * 13) / 52)  # everything since t=0 is in the window
    # at t=99 the window (10 slices of 6 s) holds t >= 42: 58 requests, 14 accepts (44, 48, ..., 96)
    assert seen[99] == pytest.approx((58 - 2 * 14) / 59)
    assert min(seen.values()) >= 0.0


def test_adaptive_throttling_sheds_attempts_to_a_dead_backend(make_scenario):
    """A backend that accepts nothing: almost every attempt is rejected at the client."""
    throttle = {"kind": "adaptive_throttling", "name": "thr", "target": "w", "window": "30s"}
    s = run(make_scenario(_failing([throttle], max_attempts=1))).summary
    assert s["rate_limited"] > 0.9 * s["offered"]
    assert s["throttled.thr"] >= s["rate_limited"]


def test_adaptive_throttling_leaves_a_healthy_backend_alone(make_scenario):
    """k = 2 and a backend accepting everything: nothing is throttled."""
    data = _failing([{"kind": "adaptive_throttling", "name": "thr", "target": "w"}], max_attempts=1)
    data["components"][0]["error_rate"] = 0
    s = run(make_scenario(data)).summary
    assert s["throttled.thr"] == 0 and s["availability"] == 1.0


def _failing_edge(mitigations: list) -> dict:
    """app calls db, which always fails; the edge retries up to 5 tries; the client does not retry."""
    return {
        "name": "failing-edge", "duration": "300s", "warmup": "30s", "seed": 5,
        "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
        "components": [
            {"kind": "service", "name": "app", "workers": 100, "service_time": "1ms",
             "calls": [{"target": "db", "retry": {"max_attempts": 5, "base": "10ms"}}]},
            {"kind": "service", "name": "db", "workers": 100, "service_time": "5ms", "error_rate": "100%"}],
        "mitigations": mitigations,
    }


def test_retry_budget_on_a_call_edge_bounds_the_edges_retries(make_scenario):
    """Finagle's budget in a service's client stack: edge retries per call stay near the ratio."""
    without = run(make_scenario(_failing_edge([]))).summary
    budget = {"kind": "retry_budget", "name": "budget", "target": "app->db", "ratio": "20%",
              "min_per_second": 0}
    with_budget = run(make_scenario(_failing_edge([budget]))).summary
    # Without a budget every call is tried 5 times: 4 retries per call. Counters cover the whole run
    # (warm-up included), so compare the two runs: same arrivals, 0.2 retries per call with the budget.
    assert with_budget["edge_retries.app->db"] / without["edge_retries.app->db"] == pytest.approx(
        0.2 / 4.0, abs=0.005)
    assert with_budget["budget_exhausted.budget"] > 0.5 * with_budget["offered"]


@pytest.mark.parametrize(("target", "expected"), [
    ("w->app", "is a workload's entry, not a service's call; to budget the client's retries, target"),
    ("db->app", "no call edge db->app"),
])
def test_retry_budget_on_an_edge_needs_a_service_call(make_scenario, target, expected):
    from simulator.scenario import ScenarioError

    budget = {"kind": "retry_budget", "name": "budget", "target": target}
    with pytest.raises(ScenarioError) as error:
        make_scenario(_failing_edge([budget]))
    assert expected in str(error.value)
    assert str(error.value).count("mitigations[0]") == 1


def test_retry_budget_on_an_edge_without_retries_is_refused(make_scenario):
    from simulator.scenario import ScenarioError

    data = _failing_edge([{"kind": "retry_budget", "name": "budget", "target": "app->db"}])
    data["components"][0]["calls"] = ["db"]
    with pytest.raises(ScenarioError, match="the call app->db has no retry to budget"):
        make_scenario(data)
