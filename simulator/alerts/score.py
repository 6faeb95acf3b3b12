"""Scoring an alert's firing spans against the run's faults (the SRE workbook's four numbers).

A fault's *window* is [start, end + grace) (end: the end of the run for a fault without one).
A firing is credited to a fault only if it *starts* in the fault's window: an alert that was
already firing when the fault began (still on from an earlier fault, or a false alarm) did not
detect it, since its firing says nothing about this fault (without that rule an alert stuck on
since the start of a run would detect every fault in 0 s).

- ``detected at``: the start of the first firing that starts in the window;
  ``time_to_alert`` = detected at - start. None when missed.
- ``missed_faults``: faults in whose window no firing starts.
- ``false_alarms``: firings that start outside every fault window.
- ``reset_time``: from the fault's end until the alert stops firing on it: the end of the last
  firing credited to the fault, minus the fault's end (0 if that firing ended before the fault
  did); a firing still open at the end of the run counts up to then (a lower bound). None for a
  missed or open-ended fault.
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
        f"false_alarms.{name}": float(sum(not any(lo <= s < hi for lo, hi in windows) for s, _ in closed)),
    }
    detections, resets, missed = [], [], 0
    for (fault, f_start, f_end), (lo, hi) in zip(faults, windows, strict=True):
        credited = [(start, stop) for start, stop in closed if lo <= start < hi]
        missed += not credited
        delay = min(s for s, _ in credited) - f_start if credited else None
        reset = None if not credited or f_end is None else max(0.0, max(s for _, s in credited) - f_end)
        detections.append(delay)
        resets.append(reset)
        if len(faults) > 1:
            metrics[f"time_to_alert.{name}.{fault}"] = delay
            metrics[f"reset_time.{name}.{fault}"] = reset
    metrics[f"missed_faults.{name}"] = float(missed)
    metrics[f"time_to_alert.{name}"] = _mean(detections)
    metrics[f"reset_time.{name}"] = _mean(resets)
    return metrics


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
