"""Client timeouts without an event per attempt: one pending SimPy event per client, and runs
identical, to the last tie, to one ``env.timeout`` per attempt."""

from __future__ import annotations

import functools

import pandas as pd
import pytest
import simpy

from simulator import run
from simulator.request import Attempt
from simulator.workload import client as client_module
from simulator.workload.timeouts import DeadlineQueue, make_timeouts


def _attempts(n: int) -> list[Attempt]:
    return [Attempt(i, 0.0, 1, [], None) for i in range(n)]


def test_one_event_however_many_attempts_wait():
    """A hundred attempts waiting on their timeouts keep a single event in SimPy's queue."""
    env = simpy.Environment()
    queue = DeadlineQueue(env, 1.0, lambda att: None)
    for att in _attempts(100):
        queue.add(att)
    assert len(env._queue) == 1


def test_only_unanswered_attempts_expire_at_their_deadline():
    """Each attempt still unsettled expires exactly ``timeout`` after it was sent; answered ones never."""
    env = simpy.Environment()
    expired = []
    queue = DeadlineQueue(env, 1.0, lambda att: expired.append((att.id, env.now)))
    attempts = _attempts(4)

    def send(i):
        queue.add(attempts[i])

    for i, t in enumerate((0.0, 0.25, 0.5, 0.75)):
        env.timeout(t).callbacks.append(lambda _, i=i: send(i))
    env.timeout(0.9).callbacks.append(lambda _: setattr(attempts[0], "is_settled", True))
    env.timeout(1.1).callbacks.append(lambda _: setattr(attempts[2], "is_settled", True))
    env.run()
    assert expired == [(1, 1.25), (3, 1.75)]
    assert all(att.is_settled for att in attempts)


def tie_scenario(arrivals: dict, timeout: str, extra: dict | None = None) -> dict:
    """Constant work and evenly spaced arrivals: answers land exactly on deadlines."""
    data = {
        "name": "ties", "duration": "30s", "warmup": 0, "seed": 3,
        "workload": [{"name": "w", "entry": "lb", "arrivals": arrivals,
                      "client": {"timeout": timeout,
                                 "retry": {"max_attempts": 3, "backoff": "constant", "base": "250ms",
                                           "jitter": "none"}}}],
        "components": [
            {"kind": "load_balancer", "name": "lb", "targets": "app"},
            {"kind": "service", "name": "app", "replicas": 2, "workers": 2, "service_time": "250ms",
             "calls": ["db"]},
            {"kind": "database", "name": "db", "connections": 2, "query_time": "250ms", "error_rate": "30%"},
        ],
    }
    data.update(extra or {})
    return data


BREAKER = {"kind": "circuit_breaker", "name": "brk", "target": "app->db", "window_size": 5,
           "minimum_calls": 3, "wait_in_open": "500ms", "permitted_calls_in_half_open": 2}


@pytest.mark.parametrize("arrivals, timeout, extra", [
    ({"pattern": "deterministic", "rate": "8/s"}, "500ms", None),
    ({"pattern": "deterministic", "rate": "16/s"}, "750ms", {"mitigations": [BREAKER]}),
    ({"pattern": "closed", "users": 9, "think_time": "250ms"}, "500ms", None),
    ({"pattern": "poisson", "rate": "12/s"}, "400ms", {"mitigations": [BREAKER]}),
])
def test_runs_match_one_timeout_per_attempt(make_scenario, monkeypatch, arrivals, timeout, extra):
    """Requests, events and series are the same as with a SimPy timeout per attempt, ties included."""
    scenario = make_scenario(tie_scenario(arrivals, timeout, extra))
    fast = run(scenario)
    monkeypatch.setattr(client_module, "make_timeouts", functools.partial(make_timeouts, per_attempt=True))
    plain = run(scenario)
    assert fast.summary["timeouts"] > 0
    for table in ("requests", "traffic", "series", "events"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(plain, table), check_exact=True)
    summaries = [pd.Series({k: v for k, v in r.summary.items() if k != "wall_time"}, dtype=object)
                 for r in (fast, plain)]
    pd.testing.assert_series_equal(*summaries, check_exact=True)  # NaN latencies compare equal here
