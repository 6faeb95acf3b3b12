"""``kind: load_shedding``: shedding keeps goodput near capacity under overload, drops the lowest
priority first, and CoDel follows RFC 8289's control law."""

from __future__ import annotations

import math

import pytest

from simulator import run
from simulator.mitigations.codel import CoDel


def overload(mitigations: list, *, workloads=None) -> dict:
    """2x overload (400/s offered, 200/s capacity) with client timeouts and retries."""
    client = {"timeout": 0.5, "retry": {"max_attempts": 3, "base": 0.05, "cap": 1}}
    workloads = workloads or [{"name": "w", "rate": 400}]
    return {"name": "ls", "duration": 200, "warmup": 20, "seed": 1,
            "workload": [{"name": w["name"], "entry": "app", "priority": w.get("priority", 0),
                          "arrivals": {"pattern": "poisson", "rate": w["rate"]}, "client": client}
                         for w in workloads],
            "components": [{"kind": "service", "name": "app", "replicas": 2, "workers": 10,
                            "queue_limit": 1000,
                            "service_time": {"dist": "exponential", "mean": 0.1}}],
            "mitigations": mitigations}


@pytest.mark.parametrize("shedding", [
    {"strategy": "queue_length", "max_queue": 20},
    {"strategy": "queue_delay", "max_delay": 0.2},
])
def test_shedding_keeps_goodput_near_capacity_where_none_collapses(make_scenario, shedding):
    """Without shedding, queued work outlives the clients' patience and goodput collapses to
    almost nothing; with it, goodput stays above 90% of the 200/s capacity."""
    baseline = run(make_scenario(overload([]))).summary
    shed = run(make_scenario(overload([{"kind": "load_shedding", "name": "ls", "target": "app",
                                        **shedding}]))).summary
    assert baseline["goodput"] < 0.1 * 200
    assert shed["goodput"] > 0.9 * 200
    assert shed["shed"] > 0 and shed["shed.ls"] >= shed["shed"]


def test_lowest_priority_is_shed_first(make_scenario):
    """High priority at 150/s alone fits the 200/s capacity: the low-priority 250/s takes the shedding."""
    workloads = [{"name": "low", "rate": 250, "priority": 0}, {"name": "high", "rate": 150, "priority": 1}]
    data = overload([{"kind": "load_shedding", "name": "ls", "target": "app", "strategy": "queue_length",
                      "max_queue": 20}], workloads=workloads)
    requests = run(make_scenario(data)).requests
    shed = requests[requests["outcome"] == "shed"]["workload"].value_counts()
    assert shed.get("high", 0) < 0.05 * shed["low"]  # high is shed only when 20 high wait


def test_every_start_and_stop_of_shedding_is_an_event(make_scenario):
    """Shedding episodes are recorded per replica, a stop after each start."""
    data = overload([{"kind": "load_shedding", "name": "ls", "target": "app", "strategy": "queue_delay",
                      "max_delay": 0.2}])
    events = run(make_scenario(data)).events
    starts = events[events["kind"] == "shedding_start"]
    assert set(starts["component"]) == {"app/0", "app/1"}
    stops = events[events["kind"] == "shedding_stop"]
    assert len(starts) - len(stops) in (0, 1, 2)


def test_the_shedder_sees_a_visit_before_the_deadline_check(make_scenario):
    """The visit chain's begin order: shed first, then drop expired work. One worker busy 1 s per
    request, clients that give up after 0.5 s, a shedder at 0.6 s: a visit that waited over 0.6 s
    is both expired and overdue, and the shedder, first in the chain, takes it; the deadline check
    drops only those that waited between 0.5 and 0.6 s (the other order would shed nothing)."""
    data = {"name": "order", "duration": 200, "warmup": 10, "seed": 3,
            "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": 2},
                          "client": {"timeout": 0.5}}],
            "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 1,
                            "drop_expired": True, "service_time": {"dist": "constant", "value": 1.0}}],
            "mitigations": [{"kind": "load_shedding", "name": "ls", "target": "app",
                             "strategy": "queue_delay", "max_delay": 0.6}]}
    summary = run(make_scenario(data)).summary
    assert summary["shed.ls"] > 100 and summary["dropped_expired.app"] > 10
    assert summary["shed.ls"] > 2 * summary["dropped_expired.app"]


def test_codel_waits_an_interval_above_target_then_drops_faster_and_faster():
    """No drop before the sojourn has stayed above target for an interval; then drops come
    interval/sqrt(count) apart; a sojourn below target leaves the dropping state."""
    codel = CoDel(target=0.005, interval=0.1)
    assert not codel.should_drop(0.0, 0.05)
    assert not codel.should_drop(0.05, 0.05)
    assert codel.should_drop(0.1, 0.05) and codel.dropping
    drops = [t / 1000 for t in range(100, 1000) if codel.should_drop(t / 1000, 0.05)]
    gaps = [b - a for a, b in zip([0.1, *drops], drops, strict=False)]
    for count, gap in enumerate(gaps[:5], start=1):
        assert math.isclose(gap, 0.1 / math.sqrt(count), abs_tol=0.0011)
    assert not codel.should_drop(1.0, 0.001)
    assert not codel.dropping
