"""The service-level objective a run is judged against: what "healthy" means for recovery metrics.

A fault's damage is measured by how long the system stays outside its objective, not by the
fault itself: a retry storm can keep it there long after the trigger is gone. The objective is
judged over sliding windows (see :mod:`simulator.recovery`), so one slow request or one unlucky
second does not count as an outage.
"""

from __future__ import annotations

from simulator.scenario.base import SpecModel
from simulator.units import Fraction, PositiveDuration


class SloSpec(SpecModel):
    """Availability and tail-latency targets, and the windows they are judged over."""

    availability: Fraction = 0.99
    """Minimum fraction of requests ending ok in a sliding window (``99%`` or 0.99)."""
    latency_p99: PositiveDuration = 1.0
    """Maximum 99th-percentile latency of the successful requests in a sliding window, seconds."""
    window: PositiveDuration = 10.0
    """Length of the sliding window the objective is judged over, seconds."""
    final_window: PositiveDuration | None = None
    """The last stretch of the measured run judged for ``stuck``, seconds (none: the last 10% of the
    measured run, at least 60s, at most the whole measured run)."""
