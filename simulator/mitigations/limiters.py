"""The five rate-limiting algorithms, as plain classes with no SimPy in them.

Each takes the current time (seconds) and decides about one request: ``allow(now) -> bool``.
``admit(now)`` says more: ``None`` to refuse, else the delay (seconds) before the request may go
on — always 0 except for the leaky bucket, which is a queue. ``level(now)`` is the gauge sampled
into ``.series`` (its name is the class's ``GAUGE``). Refused requests never consume anything.

The semantics follow the usual references:

* ``TokenBucket(rate, burst)`` — starts full; ``rate`` tokens/s refill up to ``burst``; a request
  takes one token. In any window of length T it admits at most ``burst + rate*T``.
* ``LeakyBucket(rate, capacity)`` — *as a queue* (nginx ``limit_req`` with ``burst`` and no
  ``nodelay``): admitted requests leave one every ``1/rate`` s; up to ``capacity`` may wait in the
  bucket, more are refused. Output never exceeds the rate; admitted requests are delayed.
* ``FixedWindow(limit, window)`` — at most ``limit`` per aligned window ``[k*window, (k+1)*window)``;
  up to twice the limit can pass across a boundary.
* ``SlidingLog(limit, window)`` — exact: keeps the admission times of the last ``window`` and
  admits while fewer than ``limit`` lie in ``(now - window, now]``.
* ``SlidingWindowCounter(limit, window)`` — Cloudflare's approximation: the previous aligned
  window's count weighted by the share of it still inside the sliding window, plus the current
  count; admits while that estimate is below ``limit``. Counts admitted requests only.
"""

from __future__ import annotations

import math
from collections import deque


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; one token per request."""

    GAUGE = "tokens"

    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.t = 0.0

    def _refill(self, now: float) -> None:
        if now > self.t:
            self.tokens = min(self.burst, self.tokens + (now - self.t) * self.rate)
            self.t = now

    def admit(self, now: float) -> float | None:
        # The refill of ``_refill`` inlined (this runs once per request): the same arithmetic, and
        # ``burst`` itself once full, as ``min(burst, ...)`` gives.
        tokens = self.tokens
        if now > self.t:
            tokens += (now - self.t) * self.rate
            if tokens >= self.burst:
                tokens = self.burst
            self.t = now
        # A hair of tolerance: float refills such as 0.1 * 10 land just below 1.0.
        if tokens >= 1.0 - 1e-9:
            self.tokens = tokens - 1.0
            return 0.0
        self.tokens = tokens
        return None

    def allow(self, now: float) -> bool:
        return self.admit(now) is not None

    def level(self, now: float) -> float:
        self._refill(now)
        return self.tokens


class LeakyBucket:
    """A queue of at most ``capacity`` waiting requests, drained at ``rate`` per second."""

    GAUGE = "queued"

    def __init__(self, rate: float, capacity: int):
        self.gap = 1.0 / rate
        self.capacity = capacity
        self.releases: deque[float] = deque()  # release times still in the future
        self.last = -math.inf  # the latest release time handed out

    def _drain(self, now: float) -> None:
        releases = self.releases
        while releases and releases[0] <= now:
            releases.popleft()

    def admit(self, now: float) -> float | None:
        self._drain(now)
        release = max(now, self.last + self.gap)
        if release > now:
            if len(self.releases) >= self.capacity:
                return None
            self.releases.append(release)
        self.last = release
        return release - now

    def allow(self, now: float) -> bool:
        return self.admit(now) is not None

    def level(self, now: float) -> float:
        self._drain(now)
        return float(len(self.releases))


class FixedWindow:
    """At most ``limit`` requests per aligned window of ``window`` seconds."""

    GAUGE = "count"

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self.index = 0
        self.count = 0

    def _roll(self, now: float) -> None:
        index = math.floor(now / self.window)
        if index != self.index:
            self.index = index
            self.count = 0

    def admit(self, now: float) -> float | None:
        self._roll(now)
        if self.count < self.limit:
            self.count += 1
            return 0.0
        return None

    def allow(self, now: float) -> bool:
        return self.admit(now) is not None

    def level(self, now: float) -> float:
        self._roll(now)
        return float(self.count)


class SlidingLog:
    """At most ``limit`` admissions in any ``window`` seconds (a log of admission times)."""

    GAUGE = "count"

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self.log: deque[float] = deque()

    def _expire(self, now: float) -> None:
        log = self.log
        horizon = now - self.window
        while log and log[0] <= horizon:
            log.popleft()

    def admit(self, now: float) -> float | None:
        self._expire(now)
        if len(self.log) < self.limit:
            self.log.append(now)
            return 0.0
        return None

    def allow(self, now: float) -> bool:
        return self.admit(now) is not None

    def level(self, now: float) -> float:
        self._expire(now)
        return float(len(self.log))


class SlidingWindowCounter:
    """Estimate = previous count x (share of the previous window still covered) + current count."""

    GAUGE = "estimate"

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self.index = 0
        self.current = 0
        self.previous = 0

    def _roll(self, now: float) -> None:
        index = math.floor(now / self.window)
        if index != self.index:
            self.previous = self.current if index == self.index + 1 else 0
            self.current = 0
            self.index = index

    def estimate(self, now: float) -> float:
        self._roll(now)
        elapsed = now - self.index * self.window
        return self.previous * (1.0 - elapsed / self.window) + self.current

    def admit(self, now: float) -> float | None:
        if self.estimate(now) < self.limit:
            self.current += 1
            return 0.0
        return None

    def allow(self, now: float) -> bool:
        return self.admit(now) is not None

    def level(self, now: float) -> float:
        return self.estimate(now)


def make_limiter(spec):
    """The algorithm a ``kind: rate_limit`` spec names, fresh (one per key)."""
    algorithm = spec.algorithm
    if algorithm == "token_bucket":
        return TokenBucket(spec.rate, spec.burst)
    if algorithm == "leaky_bucket":
        return LeakyBucket(spec.rate, spec.capacity)
    if algorithm == "fixed_window":
        return FixedWindow(spec.limit, spec.window)
    if algorithm == "sliding_log":
        return SlidingLog(spec.limit, spec.window)
    return SlidingWindowCounter(spec.limit, spec.window)
