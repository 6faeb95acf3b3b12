"""Scoring an alert's firing spans against the run's faults (the SRE workbook's four numbers).

A fault's *window* is [start, end + grace] (end: the end of the run for a fault without one).

- ``detected at``: the first instant in the window at which the alert is firing (its start, if the
  alert was already firing then); ``time_to_alert`` = detected at - start. None when missed.
- ``missed_faults``: faults whose window holds no firing instant.
- ``false_alarms``: firings that start outside every fault window.
- ``reset_time``: from the fault's end until the alert stops firing on it (the end of the last span
  that started in the window or covers the end; 0 if none is firing then); a span still open at
  the end of the run counts up to then (a lower bound). None for a missed or open-ended fault.
- ``alerts_fired``: firings; ``alert_seconds``: time spent firing up to the end of the run.

With several faults, ``time_to_alert`` and ``reset_time`` are the means over the detected ones and
each fault also gets ``time_to_alert.<alert>.<fault>`` and ``reset_time.<alert>.<fault>``.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[float, float | None]
"""(fired at, resolved at or None if still firing at the end of the run)."""
Fault = tuple[str, float, float | None]
"""(name, start, end or None)."""


def alert_summary(name: str, spans: Sequence[Span], faults: Sequence[Fault], grace: float,
                  end: float) -> dict[str, float | None]:
    """The summary metrics of alert ``name`` in a run that ended at ``end``."""
    closed = [(start, end if stop is None else min(stop, end)) for start, stop in spans]
    windows = [(f_start, (end if f_end is None else f_end) + grace) for _, f_start, f_end in faults]
    metrics: dict[str, float | None] = {
        f"alerts_fired.{name}": float(len(closed)),
        f"alert_seconds.{name}": float(sum(stop - start for start, stop in closed)),
        f"false_alarms.{name}": float(sum(not any(lo <= s <= hi for lo, hi in windows) for s, _ in closed)),
    }
    detections, resets, missed = [], [], 0
    for (fault, f_start, f_end), (lo, hi) in zip(faults, windows, strict=True):
        detected = _first_firing(closed, lo, hi)
        missed += detected is None
        delay = None if detected is None else detected - f_start
        reset = None if detected is None or f_end is None else _reset(closed, lo, hi, f_end)
        detections.append(delay)
        resets.append(reset)
        if len(faults) > 1:
            metrics[f"time_to_alert.{name}.{fault}"] = delay
            metrics[f"reset_time.{name}.{fault}"] = reset
    metrics[f"missed_faults.{name}"] = float(missed)
    metrics[f"time_to_alert.{name}"] = _mean(detections)
    metrics[f"reset_time.{name}"] = _mean(resets)
    return metrics


def _first_firing(spans: Sequence[tuple[float, float]], lo: float, hi: float) -> float | None:
    hits = [max(start, lo) for start, stop in spans if start <= hi and (stop > lo or start >= lo)]
    return min(hits) if hits else None


def _reset(spans: Sequence[tuple[float, float]], lo: float, hi: float, fault_end: float) -> float:
    ends = [stop for start, stop in spans if (lo <= start <= hi) or (start <= fault_end < stop)]
    return max(0.0, max(ends, default=fault_end) - fault_end)


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
