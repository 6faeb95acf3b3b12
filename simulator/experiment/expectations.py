"""Judging a scenario's ``expect:`` claims against finished runs: one verdict and reason per claim.

A bound (``at_least``, ``at_most``, ``above``, ``below``) judges the variant's mean, or the
proportion of runs for yes/no metrics; ``better_than`` judges the paired difference from the other
variant in the metric's better direction, at least ``by`` times the other's mean. With
``confidence`` the whole interval must satisfy the claim: a claim that holds "on average" but
whose interval straddles the line fails, because the evidence does not support it yet.

A metric no run reports is an input error, not a failure: ``availabilty`` must stop the CI gate
with a message naming the known metrics, never pass or fail quietly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.experiment.errors import ExperimentError
from simulator.experiment.estimates import PROPORTION, Values, estimate, kind, paired_difference
from simulator.experiment.stats import DEFAULT_CONFIDENCE, Interval
from simulator.metrics import NEUTRAL, direction, null_meaning, shown
from simulator.scenario.problems import suggest

ROW_COLUMNS = ["scenario", "expectation", "variant", "metric", "measured", "low", "high", "confidence",
               "passed", "reason", "test", "improvement", "margin"]
"""A check row. ``test``: at_least, at_most, above, below or better_than. ``measured``, ``low``,
``high``: the mean (proportion of runs for yes/no metrics) and its interval, or for
``better_than`` the paired difference (variant minus other) and its interval, in the metric's
unit. ``improvement`` (``better_than`` only): that difference in the
better direction as a share of the other variant's mean, the unit of ``by``. ``margin``: how far
the claim holds (> 0) or fails (< 0) by the value it is judged on (the mean, or the interval's
worst end with ``confidence``): in the metric's unit for a bound, as a share of the other
variant's mean for ``better_than`` (improvement minus ``by``)."""


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim: what was measured, its interval, pass or fail, and why."""

    expectation: str
    variant: str
    metric: str
    measured: float
    low: float
    high: float
    confidence: float
    passed: bool
    reason: str
    test: str = ""
    improvement: float = math.nan
    margin: float = math.nan


def check_metrics(source: str, expect: Sequence[Any], values: dict[str, Values]) -> None:
    """Refuse (ExperimentError) an expectation naming a metric that no run of its variants reports,
    or one that is null in any run it needs: a claim judged on part of its runs, or on none, would
    pass or fail on what was never measured."""
    for index, claim in enumerate(expect):
        known = list(values.get(claim.variant, {}))
        if claim.metric not in known:
            raise ExperimentError(f"{source}: expect[{index}].metric: unknown metric '{claim.metric}'"
                                  f"{suggest(claim.metric, known)}; known: {', '.join(known)}")
        if claim.better_than is not None and direction(claim.metric) == NEUTRAL:
            raise ExperimentError(f"{source}: expect[{index}].better_than: metric '{claim.metric}' has "
                                  "no better direction; use at_least / at_most instead")
        for variant in filter(None, (claim.variant, claim.better_than)):
            _no_nulls(f"{source}: expect[{index}].metric", claim.metric, variant,
                      values[variant][claim.metric])


def _no_nulls(where: str, metric: str, variant: str, runs: Sequence[Any]) -> None:
    """Refuse a metric that is null in any of ``runs``, saying what its null means."""
    missing = sum(1 for value in runs if value is None)
    if missing:
        meaning = null_meaning(metric) or "the run did not report it"
        raise ExperimentError(f"{where}: '{metric}' is null ({meaning}) in {missing} of {len(runs)} "
                              f"runs of {variant}; a claim on it cannot be judged")


def judge(claim: Any, values: dict[str, Values]) -> Verdict:
    """Evaluate one ExpectationSpec against each variant's per-replication values."""
    level = claim.confidence or DEFAULT_CONFIDENCE
    own = values[claim.variant][claim.metric]
    improvement = math.nan
    if claim.better_than is not None:
        other = values[claim.better_than][claim.metric]
        interval = paired_difference(claim.metric, own, other, level)
        other_mean = estimate(claim.metric, other, level).estimate
        passed, reason, margin = _better(claim, interval, other_mean)
        improvement = _relative(direction(claim.metric) * interval.estimate, other_mean)
    else:
        interval = estimate(claim.metric, own, level)
        passed, reason, margin = _bound(claim, interval, "share of runs"
                                        if kind(claim.metric, own) == PROPORTION else "mean")
    return Verdict(claim.describe(), claim.variant, claim.metric, interval.estimate, interval.low,
                   interval.high, level, passed, reason, claim.test, improvement, margin)


def _bound(claim: Any, interval: Interval, label: str) -> tuple[bool, str, float]:
    """at_least / at_most / above / below on the mean, or on the whole interval with confidence."""
    if interval.n == 0:
        return False, f"no run of {claim.variant} reported a value for {claim.metric}", math.nan
    limit = getattr(claim, claim.test)
    if claim.confidence is not None and math.isnan(interval.low):
        return False, "a confidence interval needs at least 2 replications", math.nan
    low, high = (interval.low, interval.high) if claim.confidence else (interval.estimate,) * 2
    margin = low - limit if claim.test in ("at_least", "above") else limit - high
    holds = {"at_least": low >= limit, "at_most": high <= limit,
             "above": low > limit, "below": high < limit}[claim.test]
    if holds:
        return True, "", margin
    metric, words = claim.metric, _words(claim.test)
    if claim.confidence is None:
        measured = shown(metric, interval.estimate)
        return False, f"{label} {measured} is not {words} {shown(metric, limit)}", margin
    return False, (f"{claim.confidence:.0%} interval [{shown(metric, interval.low)}, "
                   f"{shown(metric, interval.high)}] is not wholly {words} {shown(metric, limit)} "
                   f"({label} {shown(metric, interval.estimate)})"), margin


def _better(claim: Any, diff: Interval, other_mean: float) -> tuple[bool, str, float]:
    """better_than: the improvement (difference in the better direction) must exceed ``by`` x other."""
    if diff.n == 0:
        return False, (f"no replication where both {claim.variant} and {claim.better_than} "
                       f"report {claim.metric}"), math.nan
    way = direction(claim.metric)
    need = (claim.by or 0.0) * abs(other_mean)
    if claim.confidence is not None and math.isnan(diff.low):
        return False, "a confidence interval needs at least 2 replications", math.nan
    gains = (way * diff.low, way * diff.high) if claim.confidence else (way * diff.estimate,)
    worst = min(gains)
    margin = _relative(worst, other_mean) - (claim.by or 0.0)
    if worst > 0 and worst >= need:
        return True, "", margin
    metric = claim.metric
    wanted = (f"at least {shown(metric, need)} ({claim.by:.0%} of {shown(metric, other_mean)})"
              if claim.by else "above 0")
    what = "worst case in the interval" if claim.confidence else "mean improvement"
    return False, (f"{what} {shown(metric, worst)} ({_percent(_relative(worst, other_mean))}) is not "
                   f"{wanted} (paired difference {shown(metric, diff.estimate, signed=True)})"), margin


def _relative(gain: float, other_mean: float) -> float:
    """A gain as a share of the other variant's mean (NaN when that mean is 0)."""
    return gain / abs(other_mean) if other_mean else math.nan


def _percent(share: float) -> str:
    return "-" if math.isnan(share) else f"{share:.1%}"


def _words(test: str) -> str:
    return {"at_least": "at least", "at_most": "at most", "above": "above", "below": "below"}[test]
