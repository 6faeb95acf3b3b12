"""Every counter counts what happens in the measurement window [warmup, duration), as the request
counts do, so a counter and ``offered`` can be divided.

The check needs no model of the defences: a run is the same run whatever its warm-up (warm-up only
moves the start of measuring), and a run of duration W is the first W seconds of a longer one. So
for every counter c, c(warmup=W, duration=D) = c(warmup=0, duration=D) - c(warmup=0, duration=W)
exactly; a counter that also counted the warm-up, or the drain after the end, breaks it.
"""

from __future__ import annotations

import pytest

from simulator import run

W, D = 40.0, 100.0

EDGE_COUNTERS = ("retries_allowed.edge_budget", "budget_exhausted.edge_budget", "short_circuited.breaker",
                 "opened.breaker", "edge_timeouts.app->db", "edge_retries.app->db", "rate_limited.limit",
                 "fallbacks.fallback", "rejected.pool", "hedges_sent.hedge", "hedges_won.hedge", "offered")
CLIENT_COUNTERS = ("throttled.throttle", "retries_allowed.budget", "budget_exhausted.budget", "late_answers",
                   "offered", "timeouts")


def edge_defences(warmup: float, duration: float) -> dict:
    """A flaky, slow database behind an app, with every call-edge defence that counts switched on."""
    return {
        "name": "edges", "duration": duration, "warmup": warmup, "seed": 3,
        "workload": [{"name": "api", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": 120}}],
        "components": [
            {"kind": "load_balancer", "name": "lb", "targets": "app"},
            {"kind": "service", "name": "app", "replicas": 2, "workers": 4,
             "service_time": {"dist": "exponential", "mean": "15ms"},
             "calls": [{"target": "db", "timeout": "80ms", "retry": {"max_attempts": 2, "base": "5ms"}}]},
            {"kind": "database", "name": "db", "connections": 8, "error_rate": 0.3,
             "query_time": {"dist": "lognormal", "median": "20ms", "sigma": 1}},
        ],
        "mitigations": [
            {"kind": "retry_budget", "name": "edge_budget", "target": "app->db", "ratio": "10%",
             "min_per_second": 1},
            {"kind": "circuit_breaker", "name": "breaker", "target": "app->db", "window_type": "time",
             "window_size": 5, "minimum_calls": 20, "failure_rate_threshold": "20%", "wait_in_open": "2s"},
            {"kind": "fallback", "name": "fallback", "target": "app->db"},
            {"kind": "bulkhead", "name": "pool", "target": "app->db", "max_concurrent": 6},
            {"kind": "hedge", "name": "hedge", "target": "app->db", "delay": "40ms"},
            {"kind": "rate_limit", "name": "limit", "target": "app", "algorithm": "token_bucket",
             "rate": 100, "burst": 20},
        ],
    }


def client_defences(warmup: float, duration: float) -> dict:
    """An overloaded app whose clients time out and retry, under a retry budget and throttling."""
    return {
        "name": "clients", "duration": duration, "warmup": warmup, "seed": 4,
        "workload": [{"name": "api", "entry": "app", "arrivals": {"pattern": "poisson", "rate": 450},
                      "client": {"timeout": "200ms", "retry": {"max_attempts": 3, "base": "20ms"}}}],
        "components": [
            {"kind": "service", "name": "app", "replicas": 1, "workers": 2, "queue_limit": 30,
             "service_time": {"dist": "exponential", "mean": "12ms"}},
        ],
        "mitigations": [
            {"kind": "retry_budget", "name": "budget", "target": "api", "ratio": "10%", "min_per_second": 2},
            {"kind": "adaptive_throttling", "name": "throttle", "target": "api", "k": 2, "window": "10s"},
        ],
    }


def _three_runs(make) -> dict:
    from simulator.scenario.loader import scenario_from_dict

    spans = {"window": (W, D), "whole": (0.0, D), "head": (0.0, W)}
    return {key: run(scenario_from_dict(make(*span), source="w.yaml")).summary for key, span in spans.items()}


@pytest.fixture(scope="module")
def edge_runs():
    return _three_runs(edge_defences)


@pytest.fixture(scope="module")
def client_runs():
    return _three_runs(client_defences)


def _check(runs: dict, counter: str) -> None:
    window, whole, head = runs["window"], runs["whole"], runs["head"]
    assert head[counter] > 0, f"{counter} never counted in the first {W:g} s: not exercised"
    assert window[counter] == whole[counter] - head[counter]


@pytest.mark.parametrize("counter", EDGE_COUNTERS)
def test_edge_counters_count_only_the_measurement_window(edge_runs, counter):
    _check(edge_runs, counter)


@pytest.mark.parametrize("counter", CLIENT_COUNTERS)
def test_client_counters_count_only_the_measurement_window(client_runs, counter):
    _check(client_runs, counter)
