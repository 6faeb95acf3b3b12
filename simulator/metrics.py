"""The metric catalogue: every summary metric family declared once, and availability defined once.

Summary metric names are stable API (see the README). What a number *is* decides how it is shown
(``1,234`` vs ``12.3/s`` vs ``98.50%``), serialised (counts are JSON integers, never
``598192.0``), bounded (an interval for a fraction is cut to [0, 1]), judged (lower latency is
better, a rise in offered load is neither) and summed over (the measured window, the whole run, the
final window). Prometheus declares TYPE/HELP once per metric for the same reason: the console,
plots, HTML report, compare verdicts, sweeps, checks and the ranking all ask :data:`CATALOGUE`
instead of keeping lists of their own. Per-workload and per-component forms (``offered.checkout``,
``queue_max.app``, ``throttled.<mitigation>``) share their family's entry, the part before the
first dot. The per-outcome counts and what "available" means come from ``request.OUTCOMES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.request import INCOMPLETE, OK, OUTCOMES

COUNT, RATE, FRACTION, DURATION, LATENCY, FLAG, AVERAGE = (
    "count", "rate", "fraction", "duration", "latency", "flag", "average")
"""Kinds: whole numbers; per second; in [0, 1]; seconds; seconds of ok requests; yes/no per run
(a proportion over replications); a mean level (attempts per request, queued requests, replicas)."""

HIGHER, LOWER, NEUTRAL = 1, -1, 0
"""Directions: higher is better, lower is better, neither (what the scenario imposes)."""

MEASURED = "measured window"
"""Requests arriving in [warmup, duration); components' integrals, and defences' and clients' events
(refusals, retries, openings, late answers...) happening in that same span."""
RUN = "whole run"
"""From time 0 to the end of the drain, warm-up included: levels and moments, not counts."""
FINAL = "final window"
"""Requests arriving in the last stretch of the measured window (see simulator.recovery)."""
SLO_WINDOWS = "trailing SLO windows"
"""Positions of the SLO's trailing window over the measured window (see simulator.recovery)."""
BEFORE_TRIGGER = "before the first trigger"
"""Requests that arrived and ended before the first fault or release (see simulator.recovery)."""
AFTER_FAULT = "after the fault"
"""From a fault's start or the last fault's end (see simulator.recovery)."""

HEADLINE, LISTED = "headline", "listed"
"""Console placement: the leading block, in catalogue order; or after it, in the summary's order
(per-component rows of a ``grouped`` family first, grouped by family)."""


@dataclass(frozen=True)
class Family:
    """What one metric family is. ``high`` is None when unbounded above; every metric is >= 0."""

    kind: str
    direction: int
    unit: str
    window: str
    console: str = LISTED
    qualifier: str | None = None  # what the row counts where the name alone could mislead
    hide_zero: bool = False  # console: left out when zero in every column shown
    grouped: bool = False  # console: per-component rows together, right after the headline
    null: str | None = None  # what a null value means, when the metric can be null (one meaning)

    @property
    def bounds(self) -> tuple[float, float | None]:
        """(low, high) of the values the metric can take."""
        return 0.0, (1.0 if self.kind in (FRACTION, FLAG) else None)


def _outcome_families() -> dict[str, Family]:
    """One count per outcome, from request.OUTCOMES. Only ``ok`` is higher-is-better: every other
    way to end is a request not answered as asked. ``degraded`` counts as available yet is
    lower-is-better: a fallback's answer is worse than the real one. Outcomes only defences
    produce (after ``incomplete``) are hidden by the console where no variant has any. A defence's
    own count under an outcome's name (``rejected.<bulkhead>``, ``short_circuited.<breaker>``)
    counts its refusals in the measured window."""
    return {info.count_metric: Family(COUNT, HIGHER if info.code == OK else LOWER, "requests",
                                      MEASURED, HEADLINE, hide_zero=info.code > INCOMPLETE)
            for info in OUTCOMES}


def _c(direction: int, unit: str = "requests", window: str = MEASURED, console: str = LISTED) -> Family:
    """A count family (the most common kind, kept to one line per entry below)."""
    return Family(COUNT, direction, unit, window, console)


_OK_ONLY = "ok only"

CATALOGUE: dict[str, Family] = {
    # requests of a workload (or all of them), in the console's headline order
    "offered": _c(NEUTRAL, console=HEADLINE),
    "completed": _c(HIGHER, console=HEADLINE),
    **_outcome_families(),
    "availability": Family(FRACTION, HIGHER, "share of requests", MEASURED, HEADLINE),
    "offered_rate": Family(RATE, NEUTRAL, "requests/s", MEASURED, HEADLINE),
    "throughput": Family(RATE, HIGHER, "requests/s", MEASURED, HEADLINE),
    "goodput": Family(RATE, HIGHER, "requests/s", MEASURED, HEADLINE),
    **{name: Family(LATENCY, LOWER, "s", MEASURED, HEADLINE, _OK_ONLY)
       for name in ("latency_mean", "latency_p50", "latency_p95", "latency_p99", "latency_p999")},
    "amplification": Family(AVERAGE, LOWER, "attempts per request", MEASURED, HEADLINE),
    # cascade and recovery (simulator.recovery)
    "stuck": Family(FLAG, LOWER, "yes/no", FINAL, HEADLINE,
                    null="no trigger (fault, surge, burst, spike, batch, release) "
                         "or health before it unknown"),
    "overloaded": Family(FLAG, LOWER, "yes/no", BEFORE_TRIGGER, HEADLINE,
                         null="no request ended before the first trigger"),
    "time_to_recover": Family(DURATION, LOWER, "s", AFTER_FAULT, HEADLINE,
                              null="not recovered by the end of the run (0: never degraded)"),
    "degraded_seconds": Family(DURATION, LOWER, "s", SLO_WINDOWS, HEADLINE),
    "peak_amplification": Family(AVERAGE, LOWER, "attempts per request", SLO_WINDOWS, HEADLINE,
                                 null="no request ended in any window"),
    "final_availability": Family(FRACTION, HIGHER, "share of requests", FINAL, HEADLINE,
                                 null="no request arrived in the final window"),
    "wasted_work": Family(DURATION, LOWER, "server-seconds", MEASURED, HEADLINE, grouped=True),
    "time_to_detect": Family(DURATION, LOWER, "s", AFTER_FAULT, grouped=True, null="never detected"),
    "late_answers": _c(LOWER, "answers"),  # served answers nobody waited for any more
    # components over the measured window (stats.window())
    "utilization": Family(FRACTION, NEUTRAL, "busy share of worker-seconds", MEASURED, grouped=True),
    "queue_mean": Family(AVERAGE, LOWER, "queued requests", MEASURED, qualifier="all replicas",
                         grouped=True),
    "queue_max": Family(COUNT, LOWER, "requests", MEASURED, qualifier="longest single queue",
                        grouped=True),
    "hit_ratio": Family(FRACTION, HIGHER, "share of lookups", MEASURED, grouped=True),
    "instance_seconds": Family(DURATION, LOWER, "instance-seconds", MEASURED),
    "replicas_mean": Family(AVERAGE, LOWER, "replicas", MEASURED),  # cost, as instance_seconds
    "dropped_expired": _c(LOWER),
    "remote_requests": _c(LOWER),  # served by another region: a cross-region round trip each
    "failed_lookups": _c(LOWER, "lookups"),
    "backend_calls": _c(LOWER, "calls"),
    "coalesced": _c(NEUTRAL),  # rises with concurrent misses as much as with the defence's merit
    "stale_served": _c(LOWER),  # an old answer is worse than a fresh one, as degraded
    # queues (``<metric>.<queue>``)
    "backlog_max": _c(LOWER, "messages"),
    "accepted": _c(NEUTRAL, "messages"),
    "consumed": _c(HIGHER, "messages"),
    "dead_letters": _c(LOWER, "messages"),
    "delivery_delay_p99": Family(DURATION, LOWER, "s", MEASURED),
    "delivery_delay_max": Family(DURATION, LOWER, "s", MEASURED),
    # defences' counters (``<counter>.<mitigation>``, Mitigation.counters())
    "throttled": _c(LOWER),
    "retries_allowed": _c(LOWER, "retries"),
    "budget_exhausted": _c(LOWER, "retries refused"),
    "edge_timeouts": _c(LOWER, "attempts"),
    "edge_retries": _c(LOWER, "retries"),
    "opened": _c(LOWER, "breaker openings"),
    "fallbacks": _c(LOWER),  # a fallback's answer is worse than the real one
    "scale_ups": _c(NEUTRAL, "scaling actions"),  # a response to load, neither good nor bad
    "scale_downs": _c(NEUTRAL, "scaling actions"),
    "replicas_max": _c(LOWER, "replicas", RUN),
    "new_version_requests": _c(NEUTRAL),  # exposure to a release, good or bad by the release
    "bad_requests": _c(LOWER),
    "rollback_at": Family(DURATION, LOWER, "s since start", RUN),  # earlier: less exposure
    "hedges_sent": _c(LOWER, "attempts"),  # extra load on the callee
    "hedges_won": _c(NEUTRAL, "answers"),
    # workloads
    "batch_duration": Family(DURATION, LOWER, "s", RUN),
    # alert rules (``<metric>.<alert>``, simulator.alerts.score; evaluated from 0 to the duration)
    "alerts_fired": _c(NEUTRAL, "firings", RUN),  # right during a fault, wrong without one
    "time_to_alert": Family(DURATION, LOWER, "s", AFTER_FAULT),
    "false_alarms": _c(LOWER, "firings", RUN),
    "missed_faults": _c(LOWER, "faults", RUN),
    "reset_time": Family(DURATION, LOWER, "s", AFTER_FAULT),
    "alert_seconds": Family(DURATION, NEUTRAL, "s firing", RUN),
    # data consistency (``<metric>.<component>``, simulator.data.books; docs/consistency.md)
    "reads": _c(NEUTRAL, "reads"),  # reads a component answered (what stale_reads is a share of)
    "writes": _c(NEUTRAL, "writes"),
    "stale_reads": Family(FRACTION, LOWER, "share of reads", MEASURED, null="no read answered"),
    "staleness_p50": Family(DURATION, LOWER, "s", MEASURED, qualifier="all reads, fresh = 0 s",
                            null="no read answered"),
    "staleness_p99": Family(DURATION, LOWER, "s", MEASURED, qualifier="all reads, fresh = 0 s",
                            null="no read answered"),
    "lost_writes": _c(LOWER, "writes"),  # acknowledged, then gone (a crash, a failover)
    "lost_updates": _c(LOWER, "increments"),  # overwritten by a concurrent read-modify-write
    "cas_conflicts": _c(LOWER, "conflicts"),  # each one a retried read-modify-write
    "conflicting_writes": _c(LOWER, "writes"),  # accepted on both sides of a partition
    "discarded_writes": _c(LOWER, "writes"),  # dropped by a conflict rule when a partition healed
    # data consistency: caches (simulator.components.cache_data)
    # data consistency: databases (simulator.components.database_data)
    # data consistency: global caches and counters (simulator.components.counter, global_cache)
    "writes_saved": _c(HIGHER, "database writes"),
    "count_lost": _c(LOWER, "increments"),
    "count_error": Family(FRACTION, LOWER, "share of increments", MEASURED,
                          qualifier="not in the database at the end of the window", null="no increment"),
}
"""Every summary metric family, in the console's order for headline rows."""


def family(name: str) -> str:
    """The metric a per-workload or per-component name belongs to: ``queue_max.app`` -> ``queue_max``."""
    return name.split(".", 1)[0]


def entry(name: str) -> Family | None:
    """The catalogue entry of a metric in any form, or None for a name nobody declared."""
    return CATALOGUE.get(family(name))


def _kind(name: str) -> str | None:
    found = entry(name)
    return found.kind if found else None


def is_count(name: str) -> bool:
    """True for metrics that are whole numbers (JSON integers, shown without decimals)."""
    return _kind(name) == COUNT


def is_rate(name: str) -> bool:
    """True for metrics in requests per second."""
    return _kind(name) == RATE


def is_ratio(name: str) -> bool:
    """True for metrics that are fractions between 0 and 1 (shown as percentages)."""
    return _kind(name) == FRACTION


def is_seconds(name: str) -> bool:
    """True for durations in seconds other than latencies (time to detect, to recover...)."""
    return _kind(name) == DURATION


def is_flag(name: str) -> bool:
    """True for yes/no metrics such as ``stuck`` (a proportion of runs over replications)."""
    return _kind(name) == FLAG


def is_latency(name: str) -> bool:
    """True for latency metrics (seconds, successful requests only)."""
    return _kind(name) == LATENCY


def is_average(name: str) -> bool:
    """True for mean levels: amplification, queue_mean, replicas_mean."""
    return _kind(name) == AVERAGE


def direction(name: str) -> int:
    """HIGHER (+1) when higher is better, LOWER (-1) when lower is better, NEUTRAL (0) when neither
    or undeclared."""
    found = entry(name)
    return found.direction if found else NEUTRAL


def bounds(name: str) -> tuple[float | None, float | None]:
    """(low, high) of the values the metric can take; (None, None) for an undeclared name."""
    found = entry(name)
    return found.bounds if found else (None, None)


def null_meaning(name: str) -> str | None:
    """What null means for this metric (one meaning per metric), or None if it is never null."""
    found = entry(name)
    return found.null if found else None


def qualifier(name: str) -> str | None:
    """What the metric counts when its name could mislead (``latency_p99`` -> ``ok only``), else None."""
    found = entry(name)
    return found.qualifier if found else None


AVAILABLE = np.array([info.available for info in OUTCOMES])
"""Per outcome code: does it count as available (``ok``, and a fallback's ``degraded``)?"""


def availability(counts) -> np.ndarray | float:
    """Available requests over requests that arrived: the one definition for a run and an interval.

    ``counts`` holds request counts by outcome code on its last axis (one row of
    ``np.bincount(outcomes, minlength=len(OUTCOMES))``, or a stack of them, one per interval).
    Every outcome is in the denominator, ``incomplete`` included: a request still in flight after
    the drain was not answered, so an overloaded system cannot look healthy by never answering.
    NaN where nothing arrived.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1)
    available = counts[..., AVAILABLE].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, available / np.where(total > 0, total, 1.0), np.nan)
    return float(share) if share.ndim == 0 else share


def display_scale(metric: str, kind: str = "mean") -> tuple[float, str]:
    """Display factor and unit for plots: latencies in ms, fractions and proportions of runs in %,
    rates per second (``kind`` is an estimate's: ``proportion`` for a yes/no metric)."""
    if kind == "proportion":
        return 100.0, "% of runs"
    if is_latency(metric):
        return 1e3, "ms"
    if is_ratio(metric):
        return 100.0, "%"
    if is_rate(metric):
        return 1.0, "/s"
    return 1.0, ""


def shown(metric: str, value: float, *, signed: bool = False) -> str:
    """A value in the unit people read, with the unit: ``250 ms``, ``99.50%``, ``20 s``, ``300/s``.

    Latencies in ms; fractions and yes/no metrics (a proportion of runs) in %, their differences
    (``signed``) in percentage points; durations in s; rates per second; other kinds plain. Four
    significant digits, but never in exponent form: 33,496 writes, not ``3.35e+04``.
    """
    sign = "+" if signed and value > 0 else ""
    found = entry(metric)
    kind = found.kind if found else None
    if kind == LATENCY:
        return f"{sign}{_digits(value * 1e3)} ms"
    if kind in (FRACTION, FLAG):
        return f"{sign}{value * 100:.4g}{' pp' if signed else '%'}"
    if kind == DURATION:
        return f"{sign}{_digits(value)} {found.unit}"
    if kind == RATE:
        return f"{sign}{_digits(value)}/s"
    return f"{sign}{_digits(value)}"


def _digits(value: float) -> str:
    """Four significant digits below 10,000, whole numbers with separators from there on."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"
