"""What components share: the call edge to a dependency, slot helpers and group statistics.

The component protocol is structural (no base class): ``name``, ``handle(attempt, done)`` which
eventually calls ``done(outcome)`` exactly once, ``dependencies()`` (names it calls) and ``stats``
(an object with ``sample(interval)`` and ``window()``). Wrappers such as a circuit breaker or a
rate limiter implement the same protocol around another component.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from simulator.components.station import Station
from simulator.randomness import sampler

UNIFORM01 = SimpleNamespace(dist="uniform", low=0.0, high=1.0)


@dataclass(frozen=True)
class Dependency:
    """A resolved call edge: the live target component and whether its failure is tolerated."""

    target: object
    optional: bool = False


def take(work: list, slot: int, extra) -> float:
    """The attempt's pre-drawn value for ``slot``; a fresh ``extra()`` draw on a repeat visit."""
    value = work[slot]
    if value < 0:
        return extra()
    work[slot] = -1.0
    return value


def dist_factory(dist_spec):
    """Slot factory for a duration distribution."""
    return lambda rng: sampler(dist_spec, rng)


def uniform_factory(rng):
    """Slot factory for a U(0,1) decision (error or not, read or write)."""
    return sampler(UNIFORM01, rng)


def time_and_error_slots(plan, name: str, time_dist, error_rate: float):
    """Register a component's time slot and, if it can fail intrinsically, its error slot."""
    time_slot = plan.slot(name, "time", dist_factory(time_dist))
    error = plan.slot(name, "error", uniform_factory) if error_rate > 0 else None
    return time_slot, error


class GroupStats:
    """Gauges and windowed summaries over a list of stations (replicas of one component)."""

    def __init__(self, stations: list[Station]):
        self.stations = stations
        self._last_busy = 0.0  # busy-worker-seconds at the previous sample
        self._mark: tuple[float, float, float] | None = None

    def _areas(self) -> tuple[float, float]:
        busy = queued = 0.0
        for s in self.stations:
            b, q = s.areas()
            busy += b
            queued += q
        return busy, queued

    def capacity(self) -> int:
        return sum(s.workers for s in self.stations)

    def sample(self, now: float, interval: float) -> dict[str, float]:
        """Gauges now: queue length, busy workers, in flight, utilisation over the last interval."""
        busy_area, _ = self._areas()
        util = (busy_area - self._last_busy) / (interval * self.capacity()) if interval > 0 else 0.0
        self._last_busy = busy_area
        return {
            "queue": float(sum(len(s.queue) for s in self.stations)),
            "busy": float(sum(s.busy for s in self.stations)),
            "in_flight": float(sum(s.in_flight for s in self.stations)),
            "utilization": util,
        }

    def mark_warmup(self, now: float) -> None:
        """Start the measurement window: snapshot integrals, restart queue maxima."""
        busy, queued = self._areas()
        self._mark = (now, busy, queued)
        for s in self.stations:
            s.reset_queue_max()

    def window(self, now: float) -> dict[str, float]:
        """utilization, queue_mean (all replicas together) and queue_max (worst single queue)."""
        t0, busy0, queued0 = self._mark or (0.0, 0.0, 0.0)
        busy, queued = self._areas()
        span = now - t0
        if span <= 0:
            return {}
        return {
            "utilization": (busy - busy0) / (span * self.capacity()),
            "queue_mean": (queued - queued0) / span,
            "queue_max": float(max(s.queue_max for s in self.stations)),
        }
