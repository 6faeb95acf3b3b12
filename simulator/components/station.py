"""A station: W identical workers in front of one FIFO queue (a service replica, a database node).

Owns only admission and the time-weighted statistics; what a worker *does* while held is the
owner's business (the owner calls :meth:`release` when done). Written for the hot path: no SimPy
Resource, no event per admission, a deque for the queue and plain float accumulators.
"""

from __future__ import annotations

from collections import deque


class Station:
    """Workers + bounded or unbounded FIFO queue, with exact busy/queue time integrals.

    Admission calls ``start(job)`` at once when a worker is free (synchronously, no event), queues
    the job otherwise, or returns False when the queue is full. ``release`` hands the freed worker
    to the oldest queued job.
    """

    __slots__ = ("name", "env", "workers", "queue_limit", "start", "queue", "busy", "in_flight",
                 "_t_last", "_busy_area", "_queue_area", "queue_max", "rejected", "admitted")

    def __init__(self, name: str, env, workers: int, queue_limit: int | None, start):
        self.name = name
        self.env = env
        self.workers = workers
        self.queue_limit = queue_limit
        self.start = start  # callable(job): begin work on a job that now holds a worker
        self.queue: deque = deque()
        self.busy = 0
        self.in_flight = 0  # queued + in service, as a load balancer sees it
        self._t_last = 0.0
        self._busy_area = 0.0
        self._queue_area = 0.0
        self.queue_max = 0
        self.rejected = 0
        self.admitted = 0

    def admit(self, job) -> bool:
        """Start or queue ``job``; False when the queue is full (the caller reports REJECTED)."""
        busy = self.busy
        if busy < self.workers:
            now = self.env.now
            self._busy_area += busy * (now - self._t_last)
            self._queue_area += len(self.queue) * (now - self._t_last)
            self._t_last = now
            self.busy = busy + 1
            self.in_flight += 1
            self.admitted += 1
            self.start(job)
            return True
        queue = self.queue
        if self.queue_limit is not None and len(queue) >= self.queue_limit:
            self.rejected += 1
            return False
        self._advance()
        queue.append(job)
        self.in_flight += 1
        self.admitted += 1
        if len(queue) > self.queue_max:
            self.queue_max = len(queue)
        return True

    def release(self) -> None:
        """Free one worker; the oldest queued job (if any) takes it immediately."""
        self.in_flight -= 1
        queue = self.queue
        if queue:
            self._advance()
            self.start(queue.popleft())  # the worker passes straight on: busy is unchanged
        else:
            now = self.env.now
            self._busy_area += self.busy * (now - self._t_last)
            self._t_last = now
            self.busy -= 1

    def _advance(self) -> None:
        """Bring the time integrals up to now (called before any change of busy or queue)."""
        now = self.env.now
        dt = now - self._t_last
        self._busy_area += self.busy * dt
        self._queue_area += len(self.queue) * dt
        self._t_last = now

    # --- statistics -------------------------------------------------------------------------
    def areas(self) -> tuple[float, float]:
        """(busy-worker-seconds, queued-job-seconds) integrated from t=0 up to now."""
        self._advance()
        return self._busy_area, self._queue_area

    def reset_queue_max(self) -> None:
        """Start a new window for the maximum queue length (at the end of warm-up)."""
        self.queue_max = len(self.queue)
