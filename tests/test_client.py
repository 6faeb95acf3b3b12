"""Client behaviour users rely on: retries recover errors, timeouts abandon (but servers keep
working), backoff follows its definition, closed-loop users obey the response-time law."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from simulator import run
from simulator.request import Attempt
from simulator.workload.backoff import Backoff


def flaky(retry: dict | None, error_rate: str = "20%", timeout=None) -> dict:
    client = {}
    if retry:
        client["retry"] = retry
    if timeout:
        client["timeout"] = timeout
    return {
        "name": "flaky", "duration": "2000s", "seed": 4,
        "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "poisson", "rate": "20/s"},
                      "client": client}],
        "components": [{"kind": "service", "name": "svc", "workers": 8, "error_rate": error_rate,
                        "service_time": {"dist": "exponential", "mean": "50ms"}}],
    }


def test_retries_recover_intrinsic_errors(make_scenario):
    """With a 20% error rate, 3 attempts lift availability from 0.8 to 1 - 0.2^3."""
    without = run(make_scenario(flaky(None))).summary
    with_retry = run(make_scenario(flaky({"max_attempts": 3, "base": "10ms"}))).summary
    assert without["availability"] == pytest.approx(0.8, abs=0.01)
    assert with_retry["availability"] == pytest.approx(1 - 0.2**3, abs=0.003)
    assert with_retry["amplification"] == pytest.approx(1 + 0.2 + 0.04, abs=0.01)


def test_timeouts_abandon_but_server_keeps_working(make_scenario):
    """A 40 ms timeout against ~50 ms work: many timeouts, and the server still finishes them."""
    s = run(make_scenario(flaky(None, error_rate="0%", timeout="40ms"))).summary
    assert s["timeouts"] / s["offered"] == pytest.approx(0.45, abs=0.05)  # P(Exp(50ms) > 40ms) + queueing
    assert s["late_answers"] >= 0.9 * s["timeouts"]
    assert s["utilization.svc"] == pytest.approx(20 * 0.05 / 8, rel=0.05)  # all work still done


def test_backoff_definitions():
    """Exponential backoff doubles up to the cap; jitter modes stay within their ranges."""
    spec = SimpleNamespace(backoff="exponential", base=0.1, cap=1.0, jitter="none")
    b = Backoff(spec, lambda: 0.5)
    assert [b.nominal(k) for k in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]
    req = Attempt(0, 0.0, 3, [], None)
    assert b.delay(req) == pytest.approx(0.4)
    for jitter, expected in (("full", 0.2), ("equal", 0.3)):
        assert Backoff(SimpleNamespace(backoff="exponential", base=0.1, cap=1.0, jitter=jitter),
                       lambda: 0.5).delay(req) == pytest.approx(expected)
    decorrelated = Backoff(SimpleNamespace(backoff="exponential", base=0.1, cap=1.0,
                                           jitter="decorrelated"), lambda: 1.0)
    req = Attempt(1, 0.0, 3, [], None)
    assert decorrelated.delay(req) == pytest.approx(0.3)  # U(base, 3*base) at u=1
    assert decorrelated.delay(req) == pytest.approx(0.9)  # U(base, 3*previous)
    assert decorrelated.delay(req) == pytest.approx(1.0)  # capped


def test_closed_loop_response_time_law(make_scenario):
    """N users with think time Z: throughput X = N / (R + Z) (interactive response-time law)."""
    scenario = {
        "name": "closed", "duration": "3000s", "warmup": "100s", "seed": 2,
        "workload": [{"name": "users", "entry": "svc",
                      "arrivals": {"pattern": "closed", "users": 30,
                                   "think_time": {"dist": "exponential", "mean": "1s"}}}],
        "components": [{"kind": "service", "name": "svc", "workers": 2,
                        "service_time": {"dist": "exponential", "mean": "50ms"}}],
    }
    s = run(make_scenario(scenario)).summary
    assert s["throughput"] == pytest.approx(30 / (s["latency_mean"] + 1.0), rel=0.02)
    assert s["utilization.svc"] > 0.6  # the service is really loaded


def test_retry_asks_for_the_same_thing(make_scenario):
    """A retried write stays a write: request-level draws (read or write, cache key) survive retries."""
    from simulator import run

    scenario = make_scenario({
        "name": "sticky", "duration": "300s", "seed": 4,
        "workload": [{"name": "w", "entry": "db", "arrivals": {"pattern": "poisson", "rate": "50/s"},
                      "client": {"retry": {"max_attempts": 3, "base": "10ms"}}}],
        "components": [{"kind": "database", "name": "db", "connections": 50, "read_replicas": 2,
                        "read_fraction": "80%", "query_time": "5ms"}],
        "faults": [{"kind": "db_primary_failure", "name": "primary", "target": "db", "at": "0s",
                    "promotion_delay": "400s"}],
    })
    s = run(scenario).summary
    # Writes fail on every attempt (the primary is gone); re-drawn, they would fail 0.2^3 = 0.8% of the time.
    assert 1 - s["availability"] == pytest.approx(0.2, abs=0.02)
    assert s["amplification"] == pytest.approx(1 + 2 * 0.2, abs=0.05)


@pytest.mark.parametrize("jitter", ["full", "equal", "decorrelated"])
def test_jitter_spreads_a_thundering_herd(make_scenario, jitter):
    """200 clients rejected at once: without jitter they retry in lockstep and collide again; jitter
    spreads them, so fewer calls are made in total and more requests succeed (AWS, Brooker 2015)."""
    from simulator import run

    def scenario(kind: str):
        return make_scenario({
            "name": "herd", "duration": "60s", "seed": 2,
            "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "poisson", "rate": "1/s"},
                          "client": {"retry": {"max_attempts": 8, "base": "100ms", "jitter": kind}}}],
            "components": [{"kind": "service", "name": "svc", "workers": 10, "queue_limit": 0,
                            "service_time": "100ms"}],
            "faults": [{"kind": "burst", "name": "herd", "target": "w", "at": "10s", "count": 200}],
        })

    plain, spread = run(scenario("none")), run(scenario(jitter))
    assert spread.requests.attempts.sum() < 0.85 * plain.requests.attempts.sum()
    assert spread.summary["availability"] > plain.summary["availability"] + 0.3
