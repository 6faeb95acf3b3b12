"""Which way is better for each metric, and the verdict a paired difference earns.

"Better" is not "bigger": lower latency is better, higher availability is better, and a rise in
offered load is neither. This table is the one place that knows; comparisons, expectations and
the ranking all ask it. Per-workload and per-component forms (``latency_p99.checkout``,
``queue_max.app``) share the direction of their family, the part before the first dot.
"""

from __future__ import annotations

import math

from simulator.experiment.stats import Interval

HIGHER, LOWER, NEUTRAL = 1, -1, 0

DIRECTIONS: dict[str, int] = {
    # what users get: more is better
    "availability": HIGHER, "goodput": HIGHER, "throughput": HIGHER, "ok": HIGHER,
    "hit_ratio": HIGHER, "final_availability": HIGHER, "completed": HIGHER,
    # what users suffer, and what it costs: less is better
    "errors": LOWER, "timeouts": LOWER, "rejected": LOWER, "unavailable": LOWER,
    "incomplete": LOWER, "late_answers": LOWER, "amplification": LOWER,
    "peak_amplification": LOWER, "stuck": LOWER, "time_to_recover": LOWER,
    "time_to_detect": LOWER, "degraded_seconds": LOWER, "wasted_work": LOWER,
    "queue_mean": LOWER, "queue_max": LOWER, "shed": LOWER, "short_circuited": LOWER,
    "instance_seconds": LOWER, "slo_violation_seconds": LOWER,
    "bad_requests": LOWER, "batch_duration": LOWER,
    "dead_letters": LOWER, "backlog_max": LOWER, "delivery_delay_p99": LOWER, "delivery_delay_max": LOWER,
    # what the scenario imposes or what is neither good nor bad in itself
    "offered": NEUTRAL, "offered_rate": NEUTRAL, "utilization": NEUTRAL,
}
"""Direction of each metric family; latencies (``latency_*``) are lower-is-better too."""

BOOLEAN_METRICS = frozenset({"stuck"})
"""Metrics that are yes/no per run: reported as a proportion of runs with a Wilson interval."""

BETTER, WORSE, SAME = "better", "worse", "no significant difference"
NO_DATA = "no data"
"""The verdict when no replication reports the metric for both variants (e.g. time_to_recover
without faults)."""


def family(metric: str) -> str:
    """``latency_p99.checkout`` -> ``latency_p99``; ``queue_max.app`` -> ``queue_max``."""
    return metric.split(".", 1)[0]


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither (or unknown)."""
    name = family(metric)
    if name.startswith("latency_"):
        return LOWER
    return DIRECTIONS.get(name, NEUTRAL)


def is_boolean(metric: str) -> bool:
    """True for yes/no metrics such as ``stuck``."""
    return family(metric) in BOOLEAN_METRICS


def verdict(metric: str, diff: Interval) -> str:
    """Plain words for a paired difference (variant minus baseline) and its interval.

    An interval wholly above zero is "better" for a higher-is-better metric and "worse" for a
    lower-is-better one; an interval touching zero, or no interval at all (fewer than two
    replications), is "no significant difference"; no pair of values at all is "no data".
    Metrics with no better direction get "higher" or "lower".
    """
    if diff.n == 0:
        return NO_DATA
    if math.isnan(diff.low) or math.isnan(diff.high) or diff.low <= 0 <= diff.high:
        return SAME
    sign = 1 if diff.low > 0 else -1
    way = direction(metric)
    if way == NEUTRAL:
        return "higher" if sign > 0 else "lower"
    return BETTER if sign == way else WORSE
