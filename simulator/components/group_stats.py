"""A replica group's statistics: gauges now and summaries over the measurement window.

Time integrals stay exact across every change of the group: replicas that left keep theirs, so
utilization and queue means cover every replica that ever served in the window.
"""

from __future__ import annotations

from simulator.components.station import Station


class GroupStats:
    """Gauges and windowed summaries over every replica that ever served in the group."""

    def __init__(self, group):
        self.group = group
        self._last = (0.0, 0.0)  # (busy, capacity) worker-seconds at the previous sample
        self._mark: tuple[float, float, float, float] | None = None
        self._wasted_mark = 0.0
        self._counted_mark: dict[str, int] = {}

    def _stations(self) -> list[Station]:
        return [*self.group.replicas, *self.group.retired]

    def _areas(self) -> tuple[float, float, float]:
        busy = queued = capacity = 0.0
        for s in self._stations():
            b, q = s.areas()
            busy += b
            queued += q
            capacity += s.capacity_area()
        return busy, queued, capacity

    def sample(self, now: float, interval: float) -> dict[str, float]:
        """Gauges now: queue (all replicas), busy, in flight, replicas, utilisation over the interval."""
        busy_area, _, capacity_area = self._areas()
        d_busy, d_cap = busy_area - self._last[0], capacity_area - self._last[1]
        self._last = (busy_area, capacity_area)
        live = self.group.replicas
        return {
            "queue": float(sum(len(s.queue) for s in live)),
            "busy": float(sum(s.busy for s in live)),
            "in_flight": float(sum(s.in_flight for s in live)),
            "utilization": d_busy / d_cap if d_cap > 0 else 0.0,
            "replicas": float(len(live)),
        }

    def mark_warmup(self, now: float) -> None:
        """Start the measurement window: snapshot integrals, restart queue maxima."""
        busy, queued, capacity = self._areas()
        self._mark = (now, busy, queued, capacity)
        self._wasted_mark = self.group.wasted
        self._counted_mark = self.group.chain.counters()
        for s in self.group.replicas:
            s.reset_queue_max()

    def window(self, now: float) -> dict[str, float]:
        """Over the measurement window: instance-seconds (cost: replicas that exist, starting ones
        included, integrated over time) and their mean, utilization (busy over available
        worker-seconds), queue_mean (all replicas together), queue_max (worst single queue),
        wasted work, and the counts of the group's visit layers (``dropped_expired``)."""
        t0, busy0, queued0, cap0 = self._mark or (0.0, 0.0, 0.0, 0.0)
        busy, queued, capacity = self._areas()
        span = now - t0
        if span <= 0:
            return {}
        instance_seconds = sum(max(0.0, min(now, s.t_removed if s.t_removed is not None else now)
                                   - max(t0, s.t_created)) for s in self._stations())
        return {
            "instance_seconds": instance_seconds,
            "replicas_mean": instance_seconds / span,
            "utilization": (busy - busy0) / (capacity - cap0) if capacity > cap0 else 0.0,
            "queue_mean": (queued - queued0) / span,
            "queue_max": float(max(s.queue_max for s in self._stations())),
            "wasted_work": self.group.wasted - self._wasted_mark,
            **{name: count - self._counted_mark.get(name, 0)
               for name, count in self.group.chain.counters().items()},
        }
