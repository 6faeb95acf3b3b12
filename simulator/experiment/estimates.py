"""From finished runs to estimates: each metric's replications, its interval, its paired difference.

Comparisons, sweeps and checks all estimate the same way, so they share these functions: a
numeric metric gets its mean with a Student t interval, a yes/no metric (``stuck``,
``overloaded``) the proportion of runs with a Wilson interval, and a difference from a baseline
the t interval of the replication-by-replication (paired) differences, or for yes/no metrics
Newcombe's paired score interval (a t interval of 0/1 differences is zero-width when every run
agrees).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.experiment.directions import verdict
from simulator.experiment.stats import (
    DEFAULT_CONFIDENCE,
    Interval,
    mean_interval,
    paired_interval,
    paired_proportion_interval,
    wilson_interval,
)
from simulator.experiment.tasks import Point, RunRecord
from simulator.metrics import bounds, is_flag, is_ratio

MEAN, PROPORTION = "mean", "proportion"

Values = dict[str, list[Any]]
"""metric -> one value per replication (None where the run did not report it)."""


def metric_names(records: Sequence[RunRecord]) -> list[str]:
    """Every metric any run reported, in first-seen order (the summaries' own stable order)."""
    return list(dict.fromkeys(name for record in records for name in record.summary))


def collect(records: Sequence[RunRecord]) -> dict[tuple[Point, str], Values]:
    """Per (sweep point, variant): each metric's values, aligned by replication index."""
    names = metric_names(records)
    groups: dict[tuple[Point, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault((record.point, record.variant), []).append(record)
    collected = {}
    for key, group in groups.items():
        by_rep = {record.replication: record for record in group}
        reps = sorted(by_rep)
        collected[key] = {name: [by_rep[r].summary.get(name) for r in reps] for name in names}
    return collected


def kind(metric: str, values: Sequence[Any]) -> str:
    """``proportion`` for yes/no metrics (by name, or because every value is a bool), else ``mean``."""
    present = [v for v in values if v is not None]
    if is_flag(metric) or (present and all(isinstance(v, bool) for v in present)):
        return PROPORTION
    return MEAN


def estimate(metric: str, values: Sequence[Any], confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean with a t interval, or proportion with a Wilson interval for yes/no metrics."""
    if kind(metric, values) == PROPORTION:
        present = [bool(v) for v in values if v is not None]
        return wilson_interval(sum(present), len(present), confidence)
    return _within_range(metric, mean_interval([_number(v) for v in values], confidence))


def paired(values: Sequence[Any], baseline: Sequence[Any],
           confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Mean paired difference (variant minus baseline) over the replications both reported."""
    n = min(len(values), len(baseline))
    return paired_interval([_number(v) for v in values[:n]], [_number(v) for v in baseline[:n]],
                           confidence)


def paired_difference(metric: str, values: Sequence[Any], baseline: Sequence[Any],
                      confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """The paired difference with the interval its kind calls for: Newcombe's for yes/no metrics
    (inside [-1, 1] by construction), the t interval otherwise (cut to [-1, 1] for fractions)."""
    n = min(len(values), len(baseline))
    if kind(metric, [*values, *baseline]) == PROPORTION:
        return paired_proportion_interval(values[:n], baseline[:n], confidence)
    diff = paired(values, baseline, confidence)
    if is_ratio(metric):
        diff = Interval(diff.estimate, max(diff.low, -1.0), min(diff.high, 1.0), diff.n)
    return diff


def difference_row(metric: str, values: Sequence[Any], baseline: Sequence[Any],
                   confidence: float = DEFAULT_CONFIDENCE) -> dict[str, Any]:
    """The paired difference as a table row part: diff, diff_low, diff_high, verdict."""
    diff = paired_difference(metric, values, baseline, confidence)
    return {"diff": diff.estimate, "diff_low": diff.low, "diff_high": diff.high,
            "verdict": verdict(metric, diff)}


def _within_range(metric: str, interval: Interval) -> Interval:
    """The t interval cut to the values the metric can take (its catalogue bounds): an
    availability of 1.0008 or a negative timeout count is no possible truth, only the symmetric
    formula's overreach."""
    low, high = bounds(metric)
    return Interval(interval.estimate, interval.low if low is None else max(interval.low, low),
                    interval.high if high is None else min(interval.high, high), interval.n)


def _number(value: Any) -> float | None:
    """A value as float (bools as 0/1); None stays None."""
    return None if value is None else float(value)
