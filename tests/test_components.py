"""Component behaviour: balancing policies, cache hit ratio vs Che, databases, calls, externals."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run
from tests.theory import che_lru_hit_ratio


def balanced(policy: str, rate: str = "95/s", seed: int = 8) -> dict:
    return {
        "name": "lb", "duration": "2000s", "warmup": "100s", "seed": seed,
        "workload": [{"name": "w", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": rate}}],
        "components": [
            {"kind": "load_balancer", "name": "lb", "targets": "app", "policy": policy},
            {"kind": "service", "name": "app", "replicas": 10, "workers": 1,
             "service_time": {"dist": "exponential", "mean": "100ms"}},
        ],
    }


def test_power_of_two_shortens_the_worst_queue(make_scenario):
    """At 95% load, two random choices keep the worst queue far shorter than one random choice."""
    rand = run(make_scenario(balanced("random"))).summary
    p2c = run(make_scenario(balanced("power_of_two"))).summary
    assert p2c["queue_max.app"] < 0.5 * rand["queue_max.app"]
    assert p2c["latency_p99"] < 0.5 * rand["latency_p99"]


def test_least_outstanding_beats_round_robin_on_tail(make_scenario):
    """Join-the-shortest-queue beats round robin's p99 at high load."""
    rr = run(make_scenario(balanced("round_robin"))).summary
    lo = run(make_scenario(balanced("least_outstanding"))).summary
    assert lo["latency_p99"] < rr["latency_p99"]


def test_weighted_policy_follows_weights():
    """Smooth weighted round robin with weights 3:1 sends exactly 3 of every 4 picks to replica 0."""
    from simulator.components.balancing import make_picker

    class Replica:
        def __init__(self, index):
            self.index = index

    a, b = Replica(0), Replica(1)
    stations = [a, b]
    pick = make_picker("weighted", stations, rng=None, weights=[3, 1])
    picks = [pick() for _ in range(400)]
    assert picks.count(a) == 300
    assert b not in picks[0:1] and picks[:4].count(b) == 1  # spread evenly, not bunched
    stations.remove(a)  # the balancer stopped believing in replica 0: its weight goes with it
    assert {pick() for _ in range(10)} == {b}


def test_cache_hit_ratio_matches_che(make_scenario):
    """An LRU cache under Zipf(0.8) keys over 10k items hits as often as Che's approximation says."""
    scenario = {
        "name": "cache", "duration": "4000s", "warmup": "500s", "seed": 6,
        "workload": [{"name": "w", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
        "components": [
            {"kind": "cache", "name": "cache", "capacity": 1000, "policy": "lru",
             "keys": {"dist": "zipf", "alpha": 0.8, "catalog": 10000}, "hit_time": "1ms", "backend": "db"},
            {"kind": "database", "name": "db", "connections": 50, "query_time": "5ms"},
        ],
    }
    s = run(make_scenario(scenario)).summary
    popularity = 1.0 / np.arange(1, 10001) ** 0.8
    assert s["hit_ratio.cache"] == pytest.approx(che_lru_hit_ratio(popularity, 1000), abs=0.01)


def test_database_sends_reads_to_replicas(make_scenario):
    """With 80% reads and 2 read replicas, the primary gets only the writes (20% of queries)."""
    from simulator.build import build, start

    scenario = make_scenario({
        "name": "db", "duration": "1000s", "seed": 3,
        "workload": [{"name": "w", "entry": "db", "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
        "components": [{"kind": "database", "name": "db", "connections": 4, "read_replicas": 2,
                        "read_fraction": "80%", "query_time": {"dist": "exponential", "mean": "10ms"}}],
    })
    system = build(scenario.spec, seed=3, replication=0)
    start(system, 10.0)
    system.ctx.env.run(until=1000)
    busy = [station.areas()[0] for station in system.components["db"].group.replicas]
    shares = [b / sum(busy) for b in busy]  # busy connection-seconds per node
    assert shares == pytest.approx([0.2, 0.4, 0.4], abs=0.015)


def test_required_call_failure_fails_request_optional_does_not(make_scenario):
    """A failing required dependency fails the request; an optional one does not."""
    def scenario(optional: bool) -> dict:
        return {
            "name": "calls", "duration": "500s", "seed": 3,
            "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "20/s"}}],
            "components": [
                {"kind": "service", "name": "app", "workers": 10, "service_time": "5ms",
                 "calls": [{"target": "pay", "optional": optional}]},
                {"kind": "external", "name": "pay", "latency": "20ms", "error_rate": "30%"},
            ],
        }
    required = run(make_scenario(scenario(False))).summary
    optional = run(make_scenario(scenario(True))).summary
    assert required["availability"] == pytest.approx(0.7, abs=0.02)
    assert optional["availability"] == 1.0
    assert optional["latency_mean"] == pytest.approx(0.025, rel=0.01)


def test_parallel_calls_take_the_slowest(make_scenario):
    """parallel: true waits for the slowest dependency instead of the sum."""
    def scenario(parallel: bool) -> dict:
        return {
            "name": "fanout", "duration": "200s", "seed": 3,
            "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "10/s"}}],
            "components": [
                {"kind": "service", "name": "app", "workers": 50, "service_time": "1ms",
                 "calls": ["a", "b"], "parallel": parallel},
                {"kind": "external", "name": "a", "latency": "30ms"},
                {"kind": "external", "name": "b", "latency": "50ms"},
            ],
        }
    assert run(make_scenario(scenario(False))).summary["latency_mean"] == pytest.approx(0.081)
    assert run(make_scenario(scenario(True))).summary["latency_mean"] == pytest.approx(0.051)


def test_bounded_queue_rejects_when_full(make_scenario):
    """queue_limit 0 on one worker: everything arriving while busy is rejected (M/M/1/1, Erlang B)."""
    scenario = {
        "name": "b", "duration": "5000s", "seed": 3,
        "workload": [{"name": "w", "entry": "s", "arrivals": {"pattern": "poisson", "rate": "1/s"}}],
        "components": [{"kind": "service", "name": "s", "workers": 1, "queue_limit": 0,
                        "service_time": {"dist": "exponential", "mean": "1s"}}],
    }
    s = run(make_scenario(scenario)).summary
    assert s["rejected"] / s["offered"] == pytest.approx(0.5, abs=0.02)
