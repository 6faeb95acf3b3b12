"""The message queue: accepts at once, delivers later, redelivers, dead-letters, rejects when full."""

from __future__ import annotations

import math

import pytest

from simulator import run
from simulator.scenario import ScenarioError


def queued(rate: str = "20/s", *, capacity: int = 100_000, consumer: dict | None = None,
           faults: list | None = None, duration: str = "400s", **queue) -> dict:
    worker = {"kind": "service", "name": "worker", "replicas": 1, "workers": 4,
              "service_time": {"dist": "exponential", "mean": "50ms"}, **(consumer or {})}
    return {
        "name": "q", "duration": duration, "warmup": "20s", "seed": 5,
        "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": rate}}],
        "components": [
            {"kind": "service", "name": "app", "workers": 8, "service_time": "5ms", "calls": ["q"]},
            {"kind": "queue", "name": "q", "capacity": capacity, "consumer": "worker", "concurrency": 4,
             **queue},
            worker,
        ],
        "faults": faults or [],
    }


def built(scenario, until: float):
    from simulator.build import build, start

    spec = scenario.resolve(None)
    system = build(spec, seed=spec.seed, replication=0)
    start(system, spec.effective_sample_interval)
    system.ctx.env.run(until=until)
    return system.components["q"]


def test_messages_are_conserved(make_scenario):
    """Every accepted message is consumed, dead-lettered, waiting or in flight, at any moment."""
    scenario = make_scenario(queued(consumer={"error_rate": "30%"}, max_deliveries=2,
                                    redelivery_delay="500ms"))
    q = built(scenario, until=300.0)
    assert q.accepted > 5000 and q.dead_letters > 0 and q.consumed > 0
    assert q.accepted == q.consumed + q.dead_letters + q.backlog + q.in_flight


def test_consumer_outage_is_absorbed(make_scenario):
    """While the consumer is down for 60 s the producer still succeeds; the backlog grows, then
    drains, and the oldest messages wait out the whole outage."""
    crash = {"kind": "crash", "name": "down", "target": "worker", "at": "100s", "for": "60s"}
    result = run(make_scenario(queued(faults=[crash])))
    s = result.summary
    assert s["availability"] == 1.0
    assert s["backlog_max.q"] > 0.9 * 20 * 60
    # FIFO: a message's wait is the outage left when it arrived plus the catch-up, so the longest
    # wait is the whole outage and the top 1% waited most of it.
    assert s["delivery_delay_max.q"] > 60.0
    assert s["delivery_delay_p99.q"] > 0.8 * 60.0
    assert s["dead_letters.q"] == 0
    series = result.series
    backlog = series[(series.component == "q") & (series.metric == "backlog")]
    assert backlog[backlog.t > 300].value.max() < 50  # drained


def test_full_queue_rejects(make_scenario):
    """With a consumer far too slow, a 50-message queue fills and the producer's calls are rejected."""
    slow = {"service_time": {"dist": "constant", "value": "2s"}, "workers": 1}
    s = run(make_scenario(queued(capacity=50, consumer=slow, duration="200s"))).summary
    assert s["backlog_max.q"] == 50
    assert s["errors"] > 0.8 * s["offered"]  # the producer's required call failed: an error to the user


def test_failing_consumer_dead_letters_everything(make_scenario):
    """A consumer that always fails sends every message to dead letters after max_deliveries tries."""
    scenario = make_scenario(queued(consumer={"error_rate": "100%"}, max_deliveries=3,
                                    redelivery_delay="200ms", duration="200s"))
    q = built(scenario, until=150.0)
    assert q.consumed == 0
    assert q.dead_letters > 0.95 * q.accepted
    s = run(scenario).summary
    assert s["consumed.q"] == 0 and s["dead_letters.q"] > 0
    assert math.isnan(s["delivery_delay_p99.q"])


def test_consumer_must_be_a_service(make_scenario):
    """A queue consuming into a database is refused with the key path."""
    data = queued()
    data["components"][2] = {"kind": "database", "name": "worker", "connections": 4, "query_time": "5ms"}
    with pytest.raises(ScenarioError) as error:
        make_scenario(data)
    assert "components[1].consumer" in str(error.value)
    assert "expected a service; 'worker' is a database" in str(error.value)


def test_queue_needs_a_consumer(make_scenario):
    """A queue without a consumer is a schema error naming the missing key."""
    data = queued()
    del data["components"][1]["consumer"]
    with pytest.raises(ScenarioError) as error:
        make_scenario(data)
    assert "consumer" in str(error.value)
