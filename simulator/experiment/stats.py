"""Confidence intervals for replicated simulation output.

One run of a stochastic model is one draw; these functions turn the replications of a metric
into an estimate with an interval:

- :func:`mean_interval`: Student t interval of a mean over independent replications;
- :func:`wilson_interval`: Wilson score interval of a proportion (``stuck`` runs out of n), which
  unlike the normal approximation stays inside [0, 1] and is not degenerate at 0 of n;
- :func:`paired_proportion_interval`: Newcombe's hybrid score interval for the difference of two
  *paired* proportions (``stuck`` in replication r of two variants): unlike a t interval of the
  0/1 differences it is not zero-width when all runs agree (3 of 3 vs 0 of 3 is not certainty);
- :func:`paired_interval`: t interval of the mean *paired* difference, replication by replication.
  Replication r of every variant shares its random streams (common random numbers), so the
  noise both variants share cancels in the difference and the interval is narrower than
  :func:`welch_interval`, the unpaired one, on the same data.

Why a t quantile of our own: scipy would be a large dependency for one function. The regularized
incomplete beta below (a Lentz continued fraction) gives the t distribution to about 1e-12 and
is checked against printed tables in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

DEFAULT_CONFIDENCE = 0.95
_NAN = float("nan")


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval.

    Attributes:
        estimate: The mean, the proportion or the mean difference.
        low: Lower bound (NaN when fewer than two values make an interval impossible).
        high: Upper bound (NaN likewise).
        n: How many values (or pairs) went in; missing values are left out.
    """

    estimate: float
    low: float
    high: float
    n: int

    def contains(self, value: float) -> bool:
        """True when ``value`` lies inside the closed interval (False when there is no interval)."""
        return self.low <= value <= self.high


def finite(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (None and NaN, an undefined metric, are left out)."""
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def mean_interval(values: Sequence[float | None], confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean of ``values`` with a Student t interval over replications."""
    xs = finite(values)
    n = len(xs)
    if n == 0:
        return Interval(_NAN, _NAN, _NAN, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return Interval(mean, _NAN, _NAN, 1)
    half = t_quantile(0.5 + confidence / 2, n - 1) * math.sqrt(_variance(xs, mean) / n)
    return Interval(mean, mean - half, mean + half, n)


def wilson_interval(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Proportion ``successes / n`` with the Wilson score interval."""
    if n == 0:
        return Interval(_NAN, _NAN, _NAN, 0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, no rounding dust
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high, n)


def paired_interval(values: Sequence[float | None], baseline: Sequence[float | None],
                    confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean of ``values[r] - baseline[r]`` with a t interval; pairs missing either side are dropped."""
    if len(values) != len(baseline):
        raise ValueError(f"paired samples need equal lengths; got {len(values)} and {len(baseline)}")
    diffs = [None if a is None or b is None else float(a) - float(b)
             for a, b in zip(values, baseline, strict=True)]
    return mean_interval(diffs, confidence)


def paired_proportion_interval(values: Sequence[bool | None], baseline: Sequence[bool | None],
                               confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """P(values) - P(baseline) over the replications both reported, with Newcombe's hybrid score
    interval for paired data (Newcombe 1998, Stat Med 17:2635, method 10).

    Each marginal proportion gets its Wilson interval (l1, u1), (l2, u2); the difference's limits
    square and add the distances to them, corrected for the correlation phi of the pairs:

        L = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        U = d + sqrt((p2 - l2)^2 - 2 phi (p2 - l2)(u1 - p1) + (u1 - p1)^2)

    with a, b, c, e the pair counts (yes/yes, yes/no, no/yes, no/no), A = ae - bc and
    phi = (A - n/2) / sqrt((a+b)(c+e)(a+c)(b+e)) if A > n/2, 0 if 0 <= A <= n/2, A / sqrt(...) if
    A < 0, and 0 when a margin is empty (Newcombe's rule). One pair gives no interval (NaN).
    """
    if len(values) != len(baseline):
        raise ValueError(f"paired samples need equal lengths; got {len(values)} and {len(baseline)}")
    pairs = [(bool(x), bool(y)) for x, y in zip(values, baseline, strict=True)
             if x is not None and y is not None]
    n = len(pairs)
    if n == 0:
        return Interval(_NAN, _NAN, _NAN, 0)
    a, b, c = (sum(1 for pair in pairs if pair == want) for want in ((True, True), (True, False),
                                                                      (False, True)))
    e = n - a - b - c
    p1, p2 = (a + b) / n, (a + c) / n
    if n == 1:
        return Interval(p1 - p2, _NAN, _NAN, 1)
    one, two = wilson_interval(a + b, n, confidence), wilson_interval(a + c, n, confidence)
    phi = _newcombe_phi(a, b, c, e)
    below = math.sqrt(max(0.0, (p1 - one.low) ** 2 - 2 * phi * (p1 - one.low) * (two.high - p2)
                          + (two.high - p2) ** 2))
    above = math.sqrt(max(0.0, (p2 - two.low) ** 2 - 2 * phi * (p2 - two.low) * (one.high - p1)
                          + (one.high - p1) ** 2))
    diff = p1 - p2
    return Interval(diff, max(-1.0, diff - below), min(1.0, diff + above), n)


def _newcombe_phi(a: int, b: int, c: int, e: int) -> float:
    """Newcombe's (1998) correlation estimate of a paired 2x2 table, shrunk towards 0 by n/2."""
    product = (a + b) * (c + e) * (a + c) * (b + e)
    if product == 0:
        return 0.0
    n, cross = a + b + c + e, a * e - b * c
    if cross > n / 2:
        return (cross - n / 2) / math.sqrt(product)
    return cross / math.sqrt(product) if cross < 0 else 0.0


def welch_interval(values: Sequence[float | None], baseline: Sequence[float | None],
                   confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Difference of means with the unpaired Welch interval: what pairing is measured against."""
    a, b = finite(values), finite(baseline)
    if len(a) < 2 or len(b) < 2:
        return Interval(_NAN, _NAN, _NAN, min(len(a), len(b)))
    mean_a, mean_b = math.fsum(a) / len(a), math.fsum(b) / len(b)
    va, vb = _variance(a, mean_a) / len(a), _variance(b, mean_b) / len(b)
    diff = mean_a - mean_b
    if va + vb == 0:
        return Interval(diff, diff, diff, min(len(a), len(b)))
    df = (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    half = t_quantile(0.5 + confidence / 2, df) * math.sqrt(va + vb)
    return Interval(diff, diff - half, diff + half, min(len(a), len(b)))


def _variance(xs: Sequence[float], mean: float) -> float:
    """Unbiased sample variance (n - 1 in the denominator)."""
    return math.fsum((x - mean) ** 2 for x in xs) / (len(xs) - 1)


# --- Student t --------------------------------------------------------------------------------------

def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` > 0 degrees of freedom (cached: experiments ask
    for the same few quantiles thousands of times)."""
    if not 0 < p < 1 or df <= 0:
        raise ValueError(f"t_quantile needs 0 < p < 1 and df > 0; got p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:  # bracket, then bisect: monotone, robust, ~60 steps
        low, high = high, high * 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-13 * max(1.0, high):
            break
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b), by the continued fraction on the faster side."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1 - math.exp(log_front) * _betacf(b, a, 1 - x) / b


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta (modified Lentz, Numerical Recipes 6.4)."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return result
