"""A wall-clock watch over a running simulation: progress reports and a time limit.

Why a heartbeat in simulated time: a run's cost per simulated second varies by orders of magnitude
(a quiet night, a retry storm, a ``duration: 1e9s`` run), so neither fixed slices of simulated time
nor a check per event fit. The watch is one recurring timeout on the SimPy scheduler whose period
adapts to beat about every :data:`TICK` wall-clock seconds (at most doubling or halving per beat),
so a slow stretch is seen within a beat or two and a run pays a few events per wall second.

It never touches the model: its callback reads the clock and the simulated time only, and a timeout
among the model's events leaves their order unchanged (SimPy orders by time, priority, then
scheduling order), so a watched run produces the numbers of an unwatched one up to the moment the
time limit stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simpy.core import StopSimulation

TICK = 0.25
"""Target wall-clock seconds between beats."""

FIRST_PERIOD = 1e-3
"""Simulated seconds to the first beat; the period then adapts to the run's speed."""


class Watch:
    """Beats in simulated time, reports progress and stops the run once its time limit is reached.

    ``progress(now, end)`` is called at each beat; ``time_limit`` (wall seconds from ``started``,
    a ``time.perf_counter()`` reading) stops ``env.run`` at the first beat past it and sets
    :attr:`expired`, which the caller reads to mark the results partial.
    """

    def __init__(self, env, end: float, progress: Callable[[float, float], None] | None = None,
                 time_limit: float | None = None, started: float | None = None):
        self.env = env
        self.end = end
        self.progress = progress
        now = time.perf_counter()
        self.deadline = None if time_limit is None else (now if started is None else started) + time_limit
        self.expired = False
        self.period = FIRST_PERIOD
        self.longest = max(end / 100.0, FIRST_PERIOD)  # never fewer than about 100 beats per run
        self._last = now

    def start(self) -> None:
        """Schedule the first beat."""
        self.env.timeout(self.period).callbacks.append(self._beat)

    def _beat(self, event) -> None:
        wall = time.perf_counter()
        took, self._last = wall - self._last, wall
        self.period = min(self.longest, self.period * min(2.0, max(0.5, TICK / max(took, 1e-9))))
        if self.progress is not None:
            self.progress(self.env.now, self.end)
        if self.deadline is not None and wall >= self.deadline:
            self.expired = True
            raise StopSimulation(None)  # ends the current env.run(); the schedule is left as it is
        self.env.timeout(self.period).callbacks.append(self._beat)

    def out_of_time(self) -> bool:
        """Whether the limit has passed (checked between the drain's steps as well)."""
        return self.expired or (self.deadline is not None and time.perf_counter() >= self.deadline)
