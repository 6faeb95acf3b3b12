"""What kind of quantity each summary metric is: the one place that knows counts from rates.

Summary metric names are stable API (see the README). Their kind decides how they are shown
(``1,234`` vs ``12.3/s`` vs ``98.50%``) and serialised (counts are JSON integers, never
``598192.0``), so the table, the plots and ``--json`` all ask here instead of keeping lists of
their own. Per-workload and per-component forms (``offered.checkout``, ``queue_max.app``) share
the kind of their family, the part before the first dot.
"""

from __future__ import annotations

from simulator.request import OUTCOMES

COUNTS = frozenset(("offered", "completed", *(info.count_metric for info in OUTCOMES),
                    "late_answers", "queue_max",
                    # mitigation counters (``<counter>.<mitigation>``)
                    "budget_exhausted", "retries_allowed", "throttled", "opened", "fallbacks",
                    "scale_ups", "scale_downs", "replicas_max", "edge_timeouts", "edge_retries",
                    "dropped_expired", "backend_calls", "coalesced", "stale_served",
                    "bad_requests", "new_version_requests",
                    # queues (``<metric>.<queue>``)
                    "backlog_max", "accepted", "consumed", "dead_letters"))
"""Whole numbers: requests by outcome, answers nobody waited for, the longest single queue."""

RATES = frozenset(("offered_rate", "throughput", "goodput"))
"""Requests per second over the measurement window."""

RATIOS = frozenset(("availability", "utilization", "hit_ratio", "final_availability"))
"""Fractions between 0 and 1."""

SECONDS = frozenset(("time_to_detect", "time_to_recover", "degraded_seconds", "wasted_work",
                     "instance_seconds", "delivery_delay_p99", "delivery_delay_max",
                     "rollback_at", "batch_duration"))
"""Durations in seconds (``None`` in JSON when the thing never happened)."""

FLAGS = frozenset(("stuck",))
"""Yes/no outcomes of a run (JSON booleans; a proportion over replications)."""

LATENCY_PREFIX = "latency_"
"""Latencies are seconds, measured over successful requests only."""

QUALIFIERS = {"latency": "ok only", "queue_mean": "all replicas", "queue_max": "longest single queue"}
"""What a metric counts where its name alone could mislead; labels show it, names stay stable."""


def family(name: str) -> str:
    """The metric a per-workload or per-component name belongs to: ``queue_max.app`` -> ``queue_max``."""
    return name.split(".", 1)[0]


def is_count(name: str) -> bool:
    """True for metrics that are whole numbers (JSON integers, shown without decimals)."""
    return family(name) in COUNTS


def is_rate(name: str) -> bool:
    """True for metrics in requests per second."""
    return family(name) in RATES


def is_ratio(name: str) -> bool:
    """True for metrics that are fractions (shown as percentages)."""
    return family(name) in RATIOS


def is_seconds(name: str) -> bool:
    """True for durations in seconds other than latencies (time to detect, to recover...)."""
    return family(name) in SECONDS


def is_flag(name: str) -> bool:
    """True for yes/no metrics such as ``stuck``."""
    return family(name) in FLAGS


def is_latency(name: str) -> bool:
    """True for latency metrics (seconds, successful requests only)."""
    return name.startswith(LATENCY_PREFIX)


def qualifier(name: str) -> str | None:
    """What the metric counts when its name could mislead (``latency_p99`` -> ``ok only``), else None."""
    return QUALIFIERS.get("latency" if is_latency(name) else family(name))
