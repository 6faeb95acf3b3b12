"""Confidence intervals and verdicts: the numbers every comparison, sweep and check relies on."""

from __future__ import annotations

import math
from statistics import NormalDist

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
    assert verdict("availability", Interval(0.1, math.nan, math.nan, 1)) == "too few runs"
    assert verdict("availability", Interval(0.1, math.nan, math.nan, 3)) == SAME


# --- paired proportions (issue 15, item 3) ----------------------------------------------------------

def _pairs(a: int, b: int, c: int, d: int) -> tuple[list[bool], list[bool]]:
    """A paired 2x2 table as two aligned yes/no lists: a yes/yes, b yes/no, c no/yes, d no/no."""
    return ([True] * (a + b) + [False] * (c + d), [True] * a + [False] * b + [True] * c + [False] * d)


def test_newcombe_paired_interval_reproduces_the_published_example():
    """Fagerland, Lydersen & Laake (2017), ch. 8, Cavo et al. (2012) table [[59, 6], [16, 80]]:
    Newcombe's square-and-add (hybrid score) interval -0.0621 (-0.1186 to -0.0046)."""
    from simulator.experiment.stats import paired_proportion_interval

    got = paired_proportion_interval(*_pairs(59, 6, 16, 80))
    assert got.n == 161 and got.estimate == pytest.approx(-10 / 161)
    assert (round(got.low, 4), round(got.high, 4)) == (-0.1186, -0.0046)


def test_newcombe_paired_interval_at_the_boundary_is_not_degenerate():
    """3 of 3 stuck vs 0 of 3: before, the t interval of the differences was [-1, -1] (certainty);
    by hand from the formula, phi = 0 (empty margins), Wilson(0/3) = [0, 3.8415/6.8415] so the far
    limit is -1 + sqrt(2) x 0.56150 = -0.20592."""
    from simulator.experiment.stats import paired_proportion_interval

    z2 = NormalDist().inv_cdf(0.975) ** 2
    far = -1 + math.sqrt(2) * z2 / (3 + z2)
    got = paired_proportion_interval(*_pairs(0, 0, 3, 0))
    assert got.estimate == -1.0 and got.low == -1.0 and got.high == pytest.approx(far, abs=1e-12)
    assert -1.0 < got.high < 0.0
    same = paired_proportion_interval(*_pairs(3, 0, 0, 0))  # all agree: both stuck every time
    assert same.estimate == 0.0 and same.low < 0.0 < same.high


def test_difference_of_a_yes_no_metric_uses_the_paired_score_interval():
    """compare's row for stuck 0/3 vs 3/3: the interval is Newcombe's, the verdict still "better"."""
    from simulator.experiment.estimates import difference_row

    row = difference_row("stuck", [False] * 3, [True] * 3)
    assert row["diff_low"] == -1.0 and -0.21 < row["diff_high"] < -0.20
    assert row["verdict"] == BETTER
    assert difference_row("overloaded", [True] * 3, [False] * 3)["verdict"] == WORSE


def test_fewer_than_three_runs_get_too_few_runs_not_a_verdict():
    """Two runs that agree give a razor-thin t interval; before, that was "better"."""
    from simulator.experiment.directions import TOO_FEW
    from simulator.experiment.estimates import difference_row

    assert difference_row("latency_p99", [0.1, 0.11], [0.3, 0.31])["verdict"] == TOO_FEW
    assert difference_row("latency_p99", [0.1, 0.11, 0.1], [0.3, 0.31, 0.3])["verdict"] == BETTER
