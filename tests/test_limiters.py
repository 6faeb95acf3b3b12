"""The five rate-limit algorithms keep the promises of their references (pure classes, no SimPy)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.mitigations.limiters import (
    FixedWindow,
    LeakyBucket,
    SlidingLog,
    SlidingWindowCounter,
    TokenBucket,
)

EPS = 1e-9
times = st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=1, max_size=150).map(sorted)
rates = st.floats(0.5, 50.0)
sizes = st.integers(1, 20)
windows = st.floats(0.1, 10.0)


def admitted(limiter, arrivals: list[float]) -> list[float]:
    return [t for t in arrivals if limiter.allow(t)]


@settings(max_examples=200, deadline=None)
@given(times, rates, sizes)
def test_token_bucket_never_exceeds_burst_plus_rate_times_window(arrivals, rate, burst):
    """In any window [a, b] a token bucket admits at most burst + rate * (b - a)."""
    passed = admitted(TokenBucket(rate, burst), arrivals)
    for i in range(len(passed)):
        for j in range(i, len(passed)):
            assert j - i + 1 <= burst + rate * (passed[j] - passed[i]) + 1e-6


@settings(max_examples=100, deadline=None)
@given(rates, sizes, st.floats(1.0, 10.0))
def test_token_bucket_admits_exactly_the_bound_under_saturation(rate, burst, horizon):
    """Offered far more than it allows, a token bucket admits floor(burst + rate * T) by time T."""
    step = 1.0 / (rate * 50)
    bucket = TokenBucket(rate, burst)
    n = sum(bucket.allow(k * step) for k in range(int(horizon / step) + 1))
    assert abs(n - math.floor(burst + rate * horizon)) <= 1


@settings(max_examples=200, deadline=None)
@given(times, sizes, windows)
def test_fixed_window_never_exceeds_its_limit_within_an_aligned_window(arrivals, limit, window):
    """Each aligned window [k*w, (k+1)*w) admits at most ``limit``; any window at most twice it."""
    passed = admitted(FixedWindow(limit, window), arrivals)
    per_window: dict[int, int] = {}
    for t in passed:
        per_window[math.floor(t / window)] = per_window.get(math.floor(t / window), 0) + 1
    assert max(per_window.values(), default=0) <= limit
    for i in range(len(passed) - 2 * limit):
        assert passed[i + 2 * limit] - passed[i] > window - EPS


def test_fixed_window_admits_twice_its_limit_across_a_boundary():
    """limit requests just before a boundary and limit just after all pass: 2x in a short span."""
    limit, window = 10, 1.0
    arrivals = [0.99 + 0.0005 * k for k in range(limit)] + [1.0 + 0.0005 * k for k in range(limit)]
    passed = admitted(FixedWindow(limit, window), arrivals)
    assert len(passed) == 2 * limit
    assert passed[-1] - passed[0] < 0.02


@settings(max_examples=200, deadline=None)
@given(times, sizes, windows)
def test_sliding_log_never_exceeds_its_limit_in_any_window(arrivals, limit, window):
    """Any limit + 1 admissions span at least one window: no window [t, t + w) holds more."""
    passed = admitted(SlidingLog(limit, window), arrivals)
    for i in range(len(passed) - limit):
        assert passed[i + limit] - passed[i] >= window - EPS


@settings(max_examples=200, deadline=None)
@given(times, rates, st.integers(0, 20))
def test_leaky_bucket_output_never_exceeds_its_rate(arrivals, rate, capacity):
    """Requests leave the bucket at least 1/rate apart, and at most ``capacity`` ever wait."""
    bucket = LeakyBucket(rate, capacity)
    releases = []
    for t in arrivals:
        delay = bucket.admit(t)
        if delay is not None:
            assert delay >= 0.0
            releases.append(t + delay)
        assert bucket.level(t) <= capacity
    gaps = [b - a for a, b in zip(releases, releases[1:], strict=False)]
    assert all(gap >= 1.0 / rate - 1e-9 for gap in gaps)


def test_leaky_bucket_queues_then_refuses():
    """A burst: the first goes at once, ``capacity`` wait their turn, the rest are refused."""
    bucket = LeakyBucket(rate=10.0, capacity=3)
    delays = [bucket.admit(0.0) for _ in range(6)]
    assert [round(d, 9) for d in delays[:4]] == [0.0, 0.1, 0.2, 0.3]
    assert delays[4:] == [None, None]


def test_sliding_window_counter_weights_the_previous_window():
    """Cloudflare's example: 42 last minute, 18 so far, 15 s in: 42 * 45/60 + 18 = 49.5 < 50."""
    counter = SlidingWindowCounter(limit=50, window=60.0)
    for k in range(42):
        assert counter.allow(k * 0.5)
    for k in range(18):
        assert counter.allow(74.0 + k * 0.05)
    assert math.isclose(counter.estimate(75.0), 49.5)
    assert counter.allow(75.0)  # 49.5 < 50: admitted, now 50.5
    assert not counter.allow(75.0)


@settings(max_examples=200, deadline=None)
@given(times, sizes, windows)
def test_sliding_window_counter_never_exceeds_its_limit_within_an_aligned_window(arrivals, limit, window):
    """The current window's own count never reaches past ``limit``."""
    passed = admitted(SlidingWindowCounter(limit, window), arrivals)
    counts: dict[int, int] = {}
    for t in passed:
        counts[math.floor(t / window)] = counts.get(math.floor(t / window), 0) + 1
    assert max(counts.values(), default=0) <= limit
