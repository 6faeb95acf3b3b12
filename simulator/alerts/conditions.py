"""A rule's condition: what one evaluation at time t computes, per alert kind.

Each condition is a callable ``t -> (true?, value, detail)``: the value is what the event records
as having triggered the transition; the detail says what was compared with what.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from simulator.alerts.detectors import Ewma, RollingZscore
from simulator.alerts.tap import Tap
from simulator.alerts.window import window_metric

Condition = Callable[[float], tuple[bool, float, str]]

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def condition_for(alert, tap: Tap, spec, streams=None) -> Condition:
    """The condition of one validated alert spec of scenario ``spec`` (``streams``: the run's
    random streams, for detectors that draw random numbers)."""
    workloads = [w.name for w in spec.workload]
    workload = None if alert.workload is None else workloads.index(alert.workload)
    if alert.kind == "threshold":
        return _threshold(alert, window_metric(tap, alert.metric, workload))
    if alert.kind == "burn_rate":
        return _burn_rate(alert, window_metric(tap, "error_ratio", workload), spec.slo.availability)
    if alert.method == "isolation_forest":
        return _forest(alert, [window_metric(tap, m, workload) for m in alert.features], streams)
    return _anomaly(alert, window_metric(tap, alert.metric, workload))


def _threshold(alert, metric) -> Condition:
    compare, window, value = OPS[alert.op], alert.window, alert.value

    def evaluate(t: float) -> tuple[bool, float, str]:
        x = metric(t - window, t)
        detail = f"{alert.metric}={x:.6g} (fires {alert.op} {value:g})"
        return (not math.isnan(x) and compare(x, value)), x, detail

    return evaluate


def _burn_rate(alert, error_ratio, availability: float) -> Condition:
    """The workbook's multiwindow rule: both windows' error ratios above burn_rate x (1 - SLO)."""
    limit = alert.burn_rate * (1.0 - availability)
    long_window, short_window = alert.long_window, alert.short_window

    def evaluate(t: float) -> tuple[bool, float, str]:
        long, short = error_ratio(t - long_window, t), error_ratio(t - short_window, t)
        detail = (f"error_ratio={long:.6g} over {long_window:g}s, {short:.6g} over {short_window:g}s "
                  f"(fires > {limit:.6g} over both)")
        return (long > limit and short > limit), long, detail  # NaN compares false

    return evaluate


def _anomaly(alert, metric) -> Condition:
    interval = alert.evaluation_interval
    if alert.method == "ewma":
        detector = Ewma(alert.ewma_alpha, alert.threshold, alert.direction, alert.min_samples)
    else:
        detector = RollingZscore(round(alert.history / interval), alert.threshold, alert.direction)

    def evaluate(t: float) -> tuple[bool, float, str]:
        x = metric(t - interval, t)
        if math.isnan(x):
            return False, x, f"{alert.metric}=nan (no data)"
        anomalous, z = detector.observe(x)
        return anomalous, x, f"{alert.metric}={x:.6g} z={z:.3g}"

    return evaluate


def _forest(alert, metrics, streams) -> Condition:
    """An isolation forest over every feature metric of the evaluation interval; an evaluation
    where one has no data is neither learnt nor judged."""
    from simulator.alerts.forest import Forest

    interval, names = alert.evaluation_interval, alert.features
    rng = streams.generator(f"alert.{alert.name}.isolation_forest")
    forest = Forest(alert.forest_train, alert.forest_contamination, int(rng.integers(2**31 - 1)))

    def evaluate(t: float) -> tuple[bool, float, str]:
        row = [metric(t - interval, t) for metric in metrics]
        shown = " ".join(f"{n}={x:.6g}" for n, x in zip(names, row, strict=True))
        if any(math.isnan(x) for x in row):
            return False, math.nan, f"{shown} (no data)"
        anomalous, score = forest.observe(t, row)
        return anomalous, score, f"{shown} score={score:.3g}"

    return evaluate
