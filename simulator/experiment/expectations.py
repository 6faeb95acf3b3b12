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
from simulator.experiment.estimates import PROPORTION, Values, estimate, kind, paired
from simulator.experiment.stats import DEFAULT_CONFIDENCE, Interval
from simulator.metrics import NEUTRAL, direction
from simulator.scenario.problems import suggest

ROW_COLUMNS = ["scenario", "expectation", "variant", "metric", "measured", "low", "high", "confidence",
               "passed", "reason"]


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


def check_metrics(source: str, expect: Sequence[Any], values: dict[str, Values]) -> None:
    """Refuse (ExperimentError) an expectation naming a metric that no run of its variants reports."""
    for index, claim in enumerate(expect):
        known = list(values.get(claim.variant, {}))
        if claim.metric not in known:
            raise ExperimentError(f"{source}: expect[{index}].metric: unknown metric '{claim.metric}'"
                                  f"{suggest(claim.metric, known)}; known: {', '.join(known)}")
        if claim.better_than is not None and direction(claim.metric) == NEUTRAL:
            raise ExperimentError(f"{source}: expect[{index}].better_than: metric '{claim.metric}' has "
                                  "no better direction; use at_least / at_most instead")


def judge(claim: Any, values: dict[str, Values]) -> Verdict:
    """Evaluate one ExpectationSpec against each variant's per-replication values."""
    level = claim.confidence or DEFAULT_CONFIDENCE
    own = values[claim.variant][claim.metric]
    if claim.better_than is not None:
        other = values[claim.better_than][claim.metric]
        interval = paired(own, other, level)
        passed, reason = _better(claim, interval, estimate(claim.metric, other, level).estimate)
    else:
        interval = estimate(claim.metric, own, level)
        passed, reason = _bound(claim, interval, "share of runs" if kind(claim.metric, own) == PROPORTION
                                else "mean")
    return Verdict(claim.describe(), claim.variant, claim.metric, interval.estimate, interval.low,
                   interval.high, level, passed, reason)


def _bound(claim: Any, interval: Interval, label: str) -> tuple[bool, str]:
    """at_least / at_most / above / below on the mean, or on the whole interval with confidence."""
    if interval.n == 0:
        return False, f"no run of {claim.variant} reported a value for {claim.metric}"
    limit = getattr(claim, claim.test)
    if claim.confidence is not None and math.isnan(interval.low):
        return False, "a confidence interval needs at least 2 replications"
    low, high = (interval.low, interval.high) if claim.confidence else (interval.estimate,) * 2
    holds = {"at_least": low >= limit, "at_most": high <= limit,
             "above": low > limit, "below": high < limit}[claim.test]
    if holds:
        return True, ""
    if claim.confidence is None:
        return False, f"{label} {interval.estimate:.4g} is not {_words(claim.test)} {limit:g}"
    return False, (f"{claim.confidence:.0%} interval [{interval.low:.4g}, {interval.high:.4g}] is not "
                   f"wholly {_words(claim.test)} {limit:g} ({label} {interval.estimate:.4g})")


def _better(claim: Any, diff: Interval, other_mean: float) -> tuple[bool, str]:
    """better_than: the improvement (difference in the better direction) must exceed ``by`` x other."""
    if diff.n == 0:
        return False, (f"no replication where both {claim.variant} and {claim.better_than} "
                       f"report {claim.metric}")
    way = direction(claim.metric)
    need = (claim.by or 0.0) * abs(other_mean)
    if claim.confidence is not None and math.isnan(diff.low):
        return False, "a confidence interval needs at least 2 replications"
    gains = (way * diff.low, way * diff.high) if claim.confidence else (way * diff.estimate,)
    worst = min(gains)
    if worst > 0 and worst >= need:
        return True, ""
    wanted = f"at least {need:.4g} ({claim.by:.0%} of {other_mean:.4g})" if claim.by else "above 0"
    what = "worst case in the interval" if claim.confidence else "mean improvement"
    return False, f"{what} {worst:.4g} is not {wanted} (paired difference {diff.estimate:.4g})"


def _words(test: str) -> str:
    return {"at_least": "at least", "at_most": "at most", "above": "above", "below": "below"}[test]
