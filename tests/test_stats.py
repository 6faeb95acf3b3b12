"""Confidence intervals and verdicts: the numbers every comparison, sweep and check relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.experiment.directions import BETTER, SAME, WORSE, verdict
from simulator.experiment.stats import (
    Interval,
    mean_interval,
    paired_interval,
    t_quantile,
    welch_interval,
    wilson_interval,
)
from simulator.metrics import direction


@pytest.mark.parametrize(("p", "df", "expected"), [
    (0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 4, 2.7764), (0.975, 9, 2.2622),
    (0.975, 29, 2.0452), (0.995, 9, 3.2498), (0.95, 5, 2.0150), (0.975, 1e7, 1.9600),
])
def test_t_quantile_matches_printed_tables(p, df, expected):
    """Student t quantiles agree with the textbook table to four decimals."""
    assert t_quantile(p, df) == pytest.approx(expected, abs=5e-5)
    assert t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-5)


def test_mean_interval_is_the_student_t_interval():
    """Mean +- t(0.975, n-1) s / sqrt(n), with missing values left out (n = 4, so t = 3.1824)."""
    result = mean_interval([1.0, 2.0, None, 3.0, 4.0, float("nan")])
    half = 3.1824463 * math.sqrt(np.var([1, 2, 3, 4], ddof=1) / 4)
    assert (result.estimate, result.n) == (2.5, 4)
    assert (result.low, result.high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-6)


def test_one_value_gives_no_interval():
    """A single replication has a mean but no interval (NaN bounds), never a zero-width one."""
    result = mean_interval([3.0])
    assert result.estimate == 3.0 and math.isnan(result.low) and math.isnan(result.high)


def test_wilson_interval_is_exact_at_the_ends():
    """0 of 10 runs stuck: [0, 0.2775]; 3 of 10: [0.1078, 0.6032] (Wilson score, 95%)."""
    none = wilson_interval(0, 10)
    assert (none.estimate, none.low) == (0.0, 0.0) and none.high == pytest.approx(0.27753, abs=1e-5)
    some = wilson_interval(3, 10)
    assert (some.low, some.high) == pytest.approx((0.10779, 0.60322), abs=1e-5)
    assert wilson_interval(10, 10).high == 1.0


def test_pairing_removes_shared_noise():
    """With a large shared component per replication, the paired interval is far narrower."""
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 10, 20)
    a, b = shared + rng.normal(0, 0.3, 20), shared + 0.5 + rng.normal(0, 0.3, 20)
    pairs, welch = paired_interval(list(b), list(a)), welch_interval(list(b), list(a))
    assert pairs.high - pairs.low < (welch.high - welch.low) / 5
    assert pairs.low > 0  # the planted +0.5 is found


def test_null_difference_is_flagged_at_about_the_stated_rate():
    """Over 4000 paired experiments with no true difference, about 5% of 95% intervals miss zero."""
    rng = np.random.default_rng(2026)
    draws = rng.normal(0, 1, (4000, 2, 6)) + rng.normal(0, 3, (4000, 1, 6))
    flagged = sum(not paired_interval(list(x[0]), list(x[1])).contains(0.0) for x in draws)
    assert 0.04 <= flagged / 4000 <= 0.06


def test_planted_difference_is_detected_with_high_power():
    """A difference of two standard deviations of the paired noise is found almost always (n=10)."""
    rng = np.random.default_rng(7)
    draws = rng.normal(0, 1, (500, 2, 10))
    found = sum(paired_interval(list(x[0] + 2.0), list(x[1])).low > 0 for x in draws)
    assert found / 500 > 0.95


@pytest.mark.parametrize(("metric", "way"), [
    ("availability", 1), ("goodput", 1), ("throughput", 1), ("hit_ratio.cache", 1),
    ("latency_p99", -1), ("latency_p99.checkout", -1), ("stuck", -1), ("errors", -1),
    ("timeouts", -1), ("amplification", -1), ("time_to_recover", -1), ("time_to_detect.db_slow", -1),
    ("degraded_seconds", -1), ("wasted_work", -1), ("offered", 0), ("utilization.app", 0),
])
def test_metric_directions(metric, way):
    """Lower latency is better, higher availability is better, offered load is neither."""
    assert direction(metric) == way


def test_verdict_knows_which_way_is_better():
    """A higher availability is better; a higher p99 is worse; an interval across zero is no verdict."""
    up, down, across = Interval(0.1, 0.05, 0.15, 5), Interval(-0.1, -0.15, -0.05, 5), Interval(0, -1, 1, 5)
    assert verdict("availability", up) == BETTER and verdict("latency_p99", up) == WORSE
    assert verdict("latency_p99", down) == BETTER and verdict("stuck", up) == WORSE
    assert verdict("availability", across) == SAME
    assert verdict("offered", up) == "higher"
    assert verdict("availability", Interval(0.1, math.nan, math.nan, 1)) == SAME
