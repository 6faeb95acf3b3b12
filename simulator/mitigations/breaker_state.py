"""The circuit breaker's state machine, with no SimPy in it: resilience4j's semantics, pure.

Modelled on resilience4j's ``CircuitBreakerStateMachine`` and ``CircuitBreakerMetrics``:

* **closed** — every call is admitted; each result goes into a sliding window (the last
  ``window_size`` calls, or the calls of the last ``window_size`` seconds in one-second buckets).
  Once the window holds at least ``minimum_calls`` (capped at ``window_size`` for a count window,
  as resilience4j does), the breaker opens as soon as the failure rate or the slow-call rate is
  *at or above* its threshold.
* **open** — every call is refused, until ``wait_in_open`` has passed; the first call after that
  moves it to half-open (resilience4j's default lazy transition) and is judged there.
* **half-open** — exactly ``permitted_calls_in_half_open`` trial calls are admitted, the others
  refused. Once ``min(minimum_calls, permitted)`` trial results are in, it opens again if a rate
  is at or above its threshold, else it closes with a fresh window.

One deliberate difference: resilience4j records a late result into whatever state is current, so
a call admitted while closed that ends during half-open counts as a trial. Here a result counts
only in the state *generation* that admitted the call, so half-open is judged by its own trials.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = 0, 1, 2
STATE_NAMES = ("closed", "open", "half_open")


@dataclass(frozen=True)
class BreakerConfig:
    """Resolved breaker parameters (seconds, fractions in [0, 1])."""

    window_type: str = "count"  # "count" (last N calls) or "time" (last N seconds)
    window_size: int = 100
    minimum_calls: int = 100
    failure_rate_threshold: float = 0.5
    slow_call_duration: float = 60.0  # a call longer than this is slow (inf: never)
    slow_call_rate_threshold: float = 1.0
    wait_in_open: float = 60.0
    permitted_calls_in_half_open: int = 10


class CountWindow:
    """The outcomes of the last ``size`` calls: a ring buffer with running totals."""

    __slots__ = ("size", "ring", "next", "total", "failed", "slow")

    def __init__(self, size: int):
        self.size = size
        self.ring = [0] * size  # bit 1: failed, bit 2: slow; 0 until written (a fresh window)
        self.next = 0
        self.total = self.failed = self.slow = 0

    def record(self, now: float, failed: bool, slow: bool) -> bool:
        """Add one call; True when no rate can have risen (a call neither failed nor slow)."""
        # O(1): the slot overwritten holds the oldest call (0 while the ring fills), and the running
        # totals change only when the new call differs from it (rarely, in a healthy system).
        i = self.next
        ring = self.ring
        new = failed | (slow << 1)
        old = ring[i]
        if new != old:
            ring[i] = new
            self.failed += (new & 1) - (old & 1)
            self.slow += (new >> 1) - (old >> 1)
        if self.total < self.size:
            self.total += 1
        i += 1
        self.next = 0 if i == self.size else i
        return not new

    def advance(self, now: float) -> None:
        """A count window does not age."""


class TimeWindow:
    """The calls of the last ``seconds`` whole seconds, one bucket per second (as resilience4j)."""

    def __init__(self, seconds: int):
        self.size = seconds
        self.buckets = [[0, 0, 0] for _ in range(seconds)]  # total, failed, slow
        self.head = 0  # the newest second the buckets describe
        self.total = self.failed = self.slow = 0

    def advance(self, now: float) -> None:
        """Drop the buckets of seconds that left the window."""
        second = math.floor(now)
        if second <= self.head:
            return
        for s in range(max(self.head + 1, second - self.size + 1), second + 1):
            bucket = self.buckets[s % self.size]
            self.total -= bucket[0]
            self.failed -= bucket[1]
            self.slow -= bucket[2]
            bucket[0] = bucket[1] = bucket[2] = 0
        self.head = second

    def record(self, now: float, failed: bool, slow: bool) -> bool:
        """Add one call; False: a rate can rise even with a healthy call, as old calls age out."""
        self.advance(now)
        bucket = self.buckets[math.floor(now) % self.size]
        bucket[0] += 1
        bucket[1] += failed
        bucket[2] += slow
        self.total += 1
        self.failed += failed
        self.slow += slow
        return False


class BreakerState:
    """Admission and result recording; ``on_transition(old, new)`` hears every state change."""

    def __init__(self, config: BreakerConfig, on_transition: Callable[[int, int], None] | None = None):
        self.config = config
        self.on_transition = on_transition
        self.state = CLOSED
        self.generation = 0  # bumped at every transition: results of older calls are ignored
        self.opened_at = 0.0
        self.permits = 0
        self.is_below = False  # the current window was judged below both thresholds since it began
        self._failure_pct = round(config.failure_rate_threshold * 100.0, 9)
        self._slow_pct = round(config.slow_call_rate_threshold * 100.0, 9)
        self._slow_duration = config.slow_call_duration
        self._enter_closed()

    # --- admission ------------------------------------------------------------------------------
    def try_acquire(self, now: float) -> int:
        """The generation the call is admitted in, or -1 when it is refused."""
        state = self.state
        if state == CLOSED:
            return self.generation
        if state == OPEN:
            if now - self.opened_at < self.config.wait_in_open:
                return -1
            self._move(HALF_OPEN, now)
        if self.permits > 0:
            self.permits -= 1
            return self.generation
        return -1

    # --- results --------------------------------------------------------------------------------
    def record(self, generation: int, now: float, duration: float, failed: bool) -> None:
        """The result of a call admitted in ``generation``, ``duration`` seconds after admission."""
        if generation != self.generation or self.state == OPEN:
            return  # admitted in an earlier state: it no longer says anything about this one
        window = self.window
        if window.record(now, failed, duration > self._slow_duration) and self.is_below:
            return  # a healthy call cannot lift a count window that was below the thresholds
        total = window.total
        if total < self.minimum:
            return
        # Rates in percent, as resilience4j compares them (30% of 10 calls is 3 calls, exactly).
        if (window.failed * 100.0 / total >= self._failure_pct
                or window.slow * 100.0 / total >= self._slow_pct):
            self._move(OPEN, now)
        elif self.state == HALF_OPEN:
            self._move(CLOSED, now)
        else:
            self.is_below = True

    def failure_rate(self, now: float) -> float:
        """The failure rate over the current window (0 when it is empty)."""
        window = self.window
        window.advance(now)
        return window.failed / window.total if window.total else 0.0

    # --- transitions ----------------------------------------------------------------------------
    def _move(self, new: int, now: float) -> None:
        old = self.state
        self.state = new
        self.generation += 1
        self.is_below = False  # a new window (or none, while open)
        if new == OPEN:
            self.opened_at = now
        elif new == HALF_OPEN:
            permitted = self.config.permitted_calls_in_half_open
            self.permits = permitted
            self.window = CountWindow(permitted)
            self.minimum = min(self.config.minimum_calls, permitted)
        else:
            self._enter_closed()
        if self.on_transition is not None:
            self.on_transition(old, new)

    def _enter_closed(self) -> None:
        config = self.config
        if config.window_type == "time":
            self.window = TimeWindow(config.window_size)
            self.minimum = config.minimum_calls
        else:
            self.window = CountWindow(config.window_size)
            self.minimum = min(config.minimum_calls, config.window_size)
