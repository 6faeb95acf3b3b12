"""A rule's metric over a window (a, b], computed from the tap: one function per metric name.

Request metrics count requests by the time they *ended* (an error is known when it happens), except
``offered``, which counts arrivals; rates are per second of the window. ``error_ratio`` is one minus
``availability`` (simulator.metrics.AVAILABLE decides what counts as available). A window without
data gives NaN, and a NaN never satisfies a condition (Prometheus: no sample, no alert).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simulator.alerts.tap import Tap
from simulator.scenario.alerts import GAUGES, latency_quantile

WindowMetric = Callable[[float, float], float]
"""(a, b) -> the metric over (a, b]."""


def window_metric(tap: Tap, metric: str, workload: int | None) -> WindowMetric:
    """The function computing ``metric`` (a validated name) of ``workload`` (None: all) over (a, b]."""
    quantile = latency_quantile(metric)
    if quantile is not None:
        tap.need_latency = True
        return lambda a, b: _quantile(tap.ok_latencies(a, b, workload), quantile)
    if metric in ("error_ratio", "availability"):
        sign = metric == "availability"
        return lambda a, b: _share(tap.counts(a, b, workload), sign)
    if metric == "goodput":
        return lambda a, b: tap.counts(a, b, workload)[1] / (b - a)  # available = ok + degraded
    if metric == "throughput":
        return lambda a, b: tap.counts(a, b, workload)[0] / (b - a)
    if metric == "offered":
        return lambda a, b: tap.arrivals(a, b, workload) / (b - a)
    gauge, _, component = metric.partition(".")
    tap.watch_gauge(component, GAUGES[gauge])
    return lambda a, b: tap.gauge_mean(component, GAUGES[gauge], a, b)


def _share(counts: tuple[int, float], available: bool) -> float:
    total, good = counts
    if total == 0:
        return math.nan
    return good / total if available else (total - good) / total


def _quantile(latencies: np.ndarray, q: float) -> float:
    return float(np.quantile(latencies, q)) if latencies.size else math.nan
