"""The breaker's pure state machine follows resilience4j's documented behaviour.

The reference below is written from the resilience4j documentation, independently of the code:
closed keeps the last N calls (or the calls of the last N seconds); once it holds minimum_calls
(capped at N for a count window) it opens when the failure or slow-call rate is at or above its
threshold; open refuses for wait_in_open; half-open admits exactly permitted calls and closes or
reopens by their rates once min(minimum_calls, permitted) of them are in.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mitigations.breaker_state import CLOSED, HALF_OPEN, OPEN, BreakerConfig, BreakerState

SLOW = 1.0  # slow_call_duration in every generated config


class Reference:
    """resilience4j's breaker, as its documentation states it, for calls that end one at a time."""

    def __init__(self, c: BreakerConfig):
        self.c = c
        self.state = "closed"
        self.calls: list[tuple[float, bool, bool]] = []  # (t, failed, slow) since the last closing
        self.opened_at = 0.0

    def _window(self, now):
        if self.state == "half_open":
            return self.calls
        if self.c.window_type == "count":
            return self.calls[-self.c.window_size:]
        return [x for x in self.calls if math.floor(x[0]) > math.floor(now) - self.c.window_size]

    def _minimum(self):
        c = self.c
        if self.state == "half_open":
            return min(c.minimum_calls, c.permitted_calls_in_half_open)
        return min(c.minimum_calls, c.window_size) if c.window_type == "count" else c.minimum_calls

    def call(self, now, failed, duration) -> bool:
        if self.state == "open":
            if now - self.opened_at < self.c.wait_in_open:
                return False
            self.state, self.calls = "half_open", []
        self.calls.append((now, failed, duration > SLOW))
        window = self._window(now)
        if len(window) < self._minimum():
            return True
        failure = 100 * sum(f for _, f, _ in window) / len(window)
        slow = 100 * sum(s for _, _, s in window) / len(window)
        if failure >= round(self.c.failure_rate_threshold * 100, 9) or \
                slow >= round(self.c.slow_call_rate_threshold * 100, 9):
            self.state, self.opened_at, self.calls = "open", now, []
        elif self.state == "half_open":
            self.state, self.calls = "closed", []
        return True


configs = st.builds(
    BreakerConfig,
    window_type=st.sampled_from(["count", "time"]),
    window_size=st.integers(1, 8),
    minimum_calls=st.integers(1, 10),
    failure_rate_threshold=st.sampled_from([0.1, 0.3, 0.5, 0.7, 1.0]),
    slow_call_duration=st.just(SLOW),
    slow_call_rate_threshold=st.sampled_from([0.3, 0.5, 1.0]),
    wait_in_open=st.sampled_from([0.5, 2.0, 5.0]),
    permitted_calls_in_half_open=st.integers(1, 4),
)
steps = st.lists(st.tuples(st.sampled_from([0.0, 0.3, 1.0, 2.5, 6.0]), st.booleans(),
                           st.sampled_from([0.1, 0.1, 2.0])), max_size=80)
NAMES = {CLOSED: "closed", OPEN: "open", HALF_OPEN: "half_open"}


@settings(max_examples=400, deadline=None)
@given(configs, steps)
def test_matches_the_reference_call_by_call(config, calls):
    """Calls ending one at a time are admitted, and move the state, exactly as the reference says."""
    machine, reference = BreakerState(config), Reference(config)
    now = 0.0
    for dt, failed, duration in calls:
        now += dt
        generation = machine.try_acquire(now)
        assert (generation >= 0) == reference.call(now, failed, duration)
        if generation >= 0:
            machine.record(generation, now, duration, failed)
        assert NAMES[machine.state] == reference.state


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 20), st.lists(st.booleans(), min_size=6, max_size=6))
def test_half_open_admits_exactly_the_permitted_calls(permitted, extra, trial_failures):
    """However many calls arrive together in half-open, exactly ``permitted`` get through, and
    their failure rate alone decides between closed and open."""
    config = BreakerConfig(window_size=2, minimum_calls=100, wait_in_open=1.0,
                           permitted_calls_in_half_open=permitted)  # judged once all trials are in
    machine = BreakerState(config)
    for _ in range(2):
        machine.record(machine.try_acquire(0.0), 0.0, 0.1, True)
    assert machine.state == OPEN
    admitted = [g for g in (machine.try_acquire(1.0) for _ in range(permitted + extra)) if g >= 0]
    assert len(admitted) == permitted and machine.state == HALF_OPEN
    failures = trial_failures[:permitted]
    for generation, failed in zip(admitted, failures, strict=True):
        machine.record(generation, 1.5, 0.1, failed)
    expected = OPEN if sum(failures) * 2 >= permitted else CLOSED
    assert machine.state == expected


def test_opens_exactly_when_the_failure_threshold_is_reached():
    """With minimum 4 and 50%: three calls never open it; the fourth opens it at 2 failures of 4."""
    machine = BreakerState(BreakerConfig(window_size=10, minimum_calls=4))
    for failed in (True, False, True):
        machine.record(machine.try_acquire(0.0), 0.0, 0.1, failed)
        assert machine.state == CLOSED
    machine.record(machine.try_acquire(0.0), 0.0, 0.1, False)
    assert machine.state == OPEN


def test_open_refuses_until_the_wait_is_over():
    """Open refuses every call for wait_in_open, then the next call is a half-open trial."""
    machine = BreakerState(BreakerConfig(window_size=1, minimum_calls=1, wait_in_open=5.0))
    machine.record(machine.try_acquire(0.0), 0.0, 0.1, True)
    assert machine.try_acquire(4.99) == -1
    assert machine.try_acquire(5.0) >= 0 and machine.state == HALF_OPEN


def test_slow_calls_open_it():
    """All calls slow (longer than slow_call_duration) at the default 100% threshold opens it."""
    machine = BreakerState(BreakerConfig(window_size=3, minimum_calls=3, slow_call_duration=1.0))
    for _ in range(3):
        machine.record(machine.try_acquire(0.0), 2.0, 2.0, False)
    assert machine.state == OPEN


def test_late_results_of_an_earlier_state_are_ignored():
    """A call admitted while closed that ends during half-open does not count as a trial."""
    machine = BreakerState(BreakerConfig(window_size=2, minimum_calls=2, wait_in_open=1.0,
                                         permitted_calls_in_half_open=1))
    old = machine.try_acquire(0.0)
    for _ in range(2):
        machine.record(machine.try_acquire(0.0), 0.0, 0.1, True)
    trial = machine.try_acquire(1.0)
    machine.record(old, 1.1, 1.1, True)
    assert machine.state == HALF_OPEN
    machine.record(trial, 1.2, 0.2, False)
    assert machine.state == CLOSED


def test_time_window_forgets_old_seconds():
    """Failures older than the time window no longer count towards opening."""
    machine = BreakerState(BreakerConfig(window_type="time", window_size=2, minimum_calls=2))
    machine.record(machine.try_acquire(0.0), 0.0, 0.1, True)
    machine.record(machine.try_acquire(5.0), 5.0, 0.1, True)
    assert machine.state == CLOSED
    machine.record(machine.try_acquire(5.5), 5.5, 0.1, True)
    assert machine.state == OPEN
