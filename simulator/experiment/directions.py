"""The verdict a paired difference earns, in words that know which way is better.

"Better" is not "bigger": lower latency is better, higher availability is better, and a rise in
offered load is neither. Which way each metric family points is declared once, in the metric
catalogue (:data:`simulator.metrics.CATALOGUE`); this module only turns an interval into words.
"""

from __future__ import annotations

import math

from simulator.experiment.stats import Interval
from simulator.metrics import NEUTRAL, direction

BETTER, WORSE, SAME = "better", "worse", "no significant difference"
NO_DATA = "no data"
"""The verdict when no replication reports the metric for both variants (e.g. stuck without any
trigger)."""
TOO_FEW = "too few runs"
"""The verdict with fewer than :data:`MIN_RUNS` pairs: two runs that agree prove nothing."""
MIN_RUNS = 3
"""Pairs a difference needs before it may be called better or worse."""


def verdict(metric: str, diff: Interval) -> str:
    """Plain words for a paired difference (variant minus baseline) and its interval.

    An interval wholly above zero is "better" for a higher-is-better metric and "worse" for a
    lower-is-better one; an interval touching zero, or no interval at all, is "no significant
    difference"; no pair of values at all is "no data", fewer than three pairs "too few runs"
    (a t interval of two runs that happen to agree is as narrow as it is meaningless).
    Metrics with no better direction get "higher" or "lower".
    """
    if diff.n == 0:
        return NO_DATA
    if diff.n < MIN_RUNS:
        return TOO_FEW
    if math.isnan(diff.low) or math.isnan(diff.high) or diff.low <= 0 <= diff.high:
        return SAME
    sign = 1 if diff.low > 0 else -1
    way = direction(metric)
    if way == NEUTRAL:
        return "higher" if sign > 0 else "lower"
    return BETTER if sign == way else WORSE
