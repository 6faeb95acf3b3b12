"""A run's per-interval metrics as OpenMetrics text, loadable into Prometheus.

Why this shape: ``promtool tsdb create-blocks-from openmetrics`` turns such a file into TSDB blocks,
so a simulated incident can be looked at in Grafana next to real ones. The format's rules decide
the details: every family is declared once (HELP/TYPE/UNIT from :data:`simulator.metrics.CATALOGUE`)
and not interleaved with another; a family's name ends with its unit; a counter's samples end in
``_total`` and never decrease; each series' timestamps increase; the file ends with ``# EOF``.

What is exported: from the traffic table (per workload and interval), arrivals and each outcome as
counters (the cumulative count at the end of each interval, so ``increase()`` over an interval is
the table's rate times its width), throughput/goodput/offered rate, the latency quantiles and the
availability as gauges; from the gauge series (per component), each sampled gauge. A sample is
stamped at the end of the interval it describes (when an observer would have seen it), in seconds
since :data:`ORIGIN` plus the simulated time. Empty intervals' latencies (NaN) are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd

from simulator.metrics import CATALOGUE
from simulator.request import ENDED_OUTCOMES

ORIGIN = 1767225600.0
"""Simulated time 0 as a Unix time (2026-01-01T00:00:00Z): a fixed origin, so exports repeat bit
for bit and land in a range Prometheus tools accept (not 1970)."""
PREFIX = "cascade_"

_UNITS = {"s": "seconds", "requests/s": "requests_per_second", "share of requests": "ratio",
          "busy share of worker-seconds": "ratio", "requests": "requests"}
"""Catalogue units as OpenMetrics unit suffixes (Prometheus conventions: seconds, ratio)."""

_GAUGE_FAMILIES = {"utilization": "utilization"}
"""Sampled component gauges that are catalogue families (the others are described by name only)."""

_GAUGE_HELP = {"queue": "requests waiting in the component's queues (all replicas), sampled",
               "busy": "busy workers (all replicas), sampled",
               "in_flight": "requests in the component (queued or in service), sampled",
               "replicas": "replicas running, sampled",
               "desired": "replicas the autoscaler wants, sampled"}


def openmetrics_text(traffic: pd.DataFrame, series: pd.DataFrame, interval: float, end: float,
                     origin: float = ORIGIN) -> str:
    """The whole exposition (ending in ``# EOF``) of one run's traffic table and gauge series."""
    return "".join(_lines(traffic, series, interval, end, origin))


def _lines(traffic, series, interval, end, origin) -> Iterator[str]:
    if not traffic.empty:
        stamps = _interval_ends(traffic, interval, end)
        widths = stamps - traffic["t"].to_numpy()
        yield from _counter(traffic, "offered", "offered", widths, stamps, origin)
        for info in ENDED_OUTCOMES:
            yield from _counter(traffic, info.count_metric, info.label, widths, stamps, origin)
        for name, column in (("offered_rate", "offered"), ("throughput", "throughput"),
                             ("goodput", "goodput"), ("latency_p50", "latency_p50"),
                             ("latency_p95", "latency_p95"), ("latency_p99", "latency_p99"),
                             ("availability", "availability")):
            if column in traffic:
                yield from _gauge(traffic, name, column, stamps, origin)
    if not series.empty:
        yield from _series(series, origin)
    yield "# EOF\n"


def _interval_ends(traffic: pd.DataFrame, interval: float, end: float) -> np.ndarray:
    """Each row's interval end: the next interval's start, the run's end for the last one."""
    return np.minimum(traffic["t"].to_numpy() + interval, end)


def metric_name(family: str) -> tuple[str, str | None]:
    """(OpenMetrics family name, unit) of a catalogue family: the unit is the name's suffix."""
    unit = _UNITS.get(CATALOGUE[family].unit)
    name = PREFIX + family
    return (name + "_" + unit if unit and not name.endswith("_" + unit) else name), unit


def _header(name: str, kind: str, unit: str | None, help_text: str) -> Iterator[str]:
    yield f"# TYPE {name} {kind}\n"
    if unit:
        yield f"# UNIT {name} {unit}\n"
    yield f"# HELP {name} {_escape_help(help_text)}\n"


def _help(family: str) -> str:
    """HELP from the catalogue: the family, its unit and the window the summary sums it over."""
    found = CATALOGUE[family]
    extra = f", {found.qualifier}" if found.qualifier else ""
    return f"{family} ({found.kind}, {found.unit}{extra}) per workload and interval"


def _counter(traffic, family, column, widths, stamps, origin) -> Iterator[str]:
    """A count family as a counter: cumulative requests at the end of each interval."""
    name, unit = metric_name(family)
    yield from _header(name, "counter", unit, _help(family))
    for workload, rows in _by(traffic, "workload"):
        counts = np.rint(traffic[column].to_numpy()[rows] * widths[rows]).astype(np.int64)
        labels = _labels(workload=workload)
        yield from _samples(f"{name}_total{labels}", np.cumsum(counts), stamps[rows], origin)


def _gauge(traffic, family, column, stamps, origin) -> Iterator[str]:
    name, unit = metric_name(family)
    yield from _header(name, "gauge", unit, _help(family))
    for workload, rows in _by(traffic, "workload"):
        yield from _samples(name + _labels(workload=workload), traffic[column].to_numpy()[rows],
                            stamps[rows], origin)


def _series(series: pd.DataFrame, origin: float) -> Iterator[str]:
    """Each sampled gauge as one family, a series per component."""
    for gauge, rows in _by(series, "metric"):
        family = _GAUGE_FAMILIES.get(gauge)
        if family is not None:
            name, unit = metric_name(family)
            help_text = f"{family} ({CATALOGUE[family].unit}) per component, sampled"
        else:
            name, unit, help_text = PREFIX + _sanitize(gauge), None, _GAUGE_HELP.get(gauge, gauge)
        yield from _header(name, "gauge", unit, help_text)
        part = series.iloc[rows]
        for component, sub in _by(part, "component"):
            yield from _samples(name + _labels(component=component), part["value"].to_numpy()[sub],
                                part["t"].to_numpy()[sub], origin)


def _by(frame: pd.DataFrame, column: str) -> Iterator[tuple[str, np.ndarray]]:
    """(value, row positions) per distinct value of ``column``, in order of first appearance."""
    values = frame[column].astype(str).to_numpy()
    for value in dict.fromkeys(values):
        yield value, np.flatnonzero(values == value)


def _samples(series: str, values: np.ndarray, times: np.ndarray, origin: float) -> Iterator[str]:
    """One line per finite value; a timestamp that would not increase (rounded to the ms) is
    skipped, as the format requires increasing timestamps within a series."""
    last = -math.inf
    for value, t in zip(values.tolist(), times.tolist(), strict=True):
        stamp = round(origin + t, 3)
        if not math.isfinite(value) or stamp <= last:
            continue
        last = stamp
        yield f"{series} {_number(value)} {stamp:.3f}\n"


def _number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
    return "{" + inner + "}"


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _sanitize(text: str) -> str:
    """A metric name part: letters, digits and underscores only."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text)
