"""Client timeouts without an event per attempt: one pending SimPy event per client, and runs
identical, to the last tie, to one ``env.timeout`` per attempt; the guard that takes that plain path
when SimPy is not the version or shape the deadline queue was verified on."""

from __future__ import annotations

import functools
import heapq

import pandas as pd
import pytest
import simpy

from simulator import run
from simulator.request import Attempt
from simulator.workload import client as client_module
from simulator.workload import timeouts
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


# --- the guard on SimPy's internals: a verified version and the expected queue shape, else the plain path

class _ReorderedEnvironment(simpy.Environment):
    """A SimPy whose queue entries are laid out (time, id, priority, event): works, but not as
    the deadline queue assumes."""

    def schedule(self, event, priority=simpy.events.NORMAL, delay=0):
        heapq.heappush(self._queue, (self._now + delay, next(self._eid), priority, event))

    def step(self):
        try:
            self._now, _, _, event = heapq.heappop(self._queue)
        except IndexError:
            raise simpy.core.EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            raise event._value


class _StricterStepEnvironment(simpy.Environment):
    """A SimPy whose ``step`` reads one more private field of every event."""

    def step(self):
        if self._queue:
            self._queue[0][3]._value  # noqa: B018 - a plain Event has it; the queue's alarm does not
        super().step()


@pytest.fixture
def fresh_guard():
    """The guard's cached verdicts forgotten before and after the test."""
    timeouts._supported.cache_clear()
    yield
    timeouts._supported.cache_clear()


def test_the_installed_simpy_takes_the_fast_path(fresh_guard):
    """The pinned SimPy (4.1 <= version < 5) passes the version check and the shape probe."""
    low, high = timeouts.VERIFIED_SIMPY
    assert low <= timeouts._version(simpy.__version__) < high
    assert timeouts.fast_path_supported(simpy.Environment)
    assert isinstance(make_timeouts(simpy.Environment(), 1.0, lambda att: None), DeadlineQueue)


@pytest.mark.parametrize("version", ["5.0.0", "4.0.1", "3.0.13", "", "dev"])
def test_an_unverified_simpy_version_takes_the_plain_path(fresh_guard, monkeypatch, version):
    """Outside the verified range (or unreadable), one timeout per attempt."""
    monkeypatch.setattr(simpy, "__version__", version)
    assert not timeouts.fast_path_supported(simpy.Environment)
    assert isinstance(make_timeouts(simpy.Environment(), 1.0, lambda att: None), timeouts._TimeoutPerAttempt)


@pytest.mark.parametrize("env_class", [_ReorderedEnvironment, _StricterStepEnvironment])
def test_internals_of_another_shape_take_the_plain_path(fresh_guard, env_class):
    """Same names, other shape: the probe notices and the plain path still expires on time."""
    assert not timeouts.fast_path_supported(env_class)
    env, expired = env_class(), []
    queue = make_timeouts(env, 1.0, lambda att: expired.append((att.id, env.now)))
    assert isinstance(queue, timeouts._TimeoutPerAttempt)
    attempts = _attempts(2)
    queue.add(attempts[0])
    env.timeout(0.5).callbacks.append(lambda _: queue.add(attempts[1]))
    env.timeout(0.75).callbacks.append(lambda _: setattr(attempts[0], "is_settled", True))
    env.run()
    assert expired == [(1, 1.5)]


def _frames(result):
    summary = pd.Series({k: v for k, v in result.summary.items() if k != "wall_time"}, dtype=object)
    return [getattr(result, table) for table in ("requests", "traffic", "series", "events")], summary


@pytest.mark.parametrize("force", ["version", "shape"])
def test_a_forced_fallback_gives_the_fast_paths_results(make_scenario, monkeypatch, fresh_guard, force):
    """With the guard failing (an unverified version, or a SimPy whose step reads more of an event, for
    the whole run), a run with timeouts and retries takes the plain path and its requests,
    series, events and summary equal the fast path's exactly."""
    scenario = make_scenario(tie_scenario({"pattern": "poisson", "rate": "12/s"}, "400ms",
                                          {"mitigations": [BREAKER]}))
    made = []

    def spy(*args, **kwargs):
        queue = make_timeouts(*args, **kwargs)
        made.append(type(queue))
        return queue

    monkeypatch.setattr(client_module, "make_timeouts", spy)
    fast = run(scenario)
    assert set(made) == {DeadlineQueue}
    made.clear()
    if force == "version":
        monkeypatch.setattr(simpy, "__version__", "5.0.0")
    else:
        monkeypatch.setattr(simpy, "Environment", _StricterStepEnvironment)
    plain = run(scenario)
    assert set(made) == {timeouts._TimeoutPerAttempt}
    assert fast.summary["timeouts"] > 0 and fast.summary["amplification"] > 1  # attempts were retried
    (fast_tables, fast_summary), (plain_tables, plain_summary) = _frames(fast), _frames(plain)
    for a, b in zip(fast_tables, plain_tables, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_series_equal(fast_summary, plain_summary, check_exact=True)
