"""A station: W identical workers in front of one FIFO queue (a service replica, a database node).

Owns only admission and the time-weighted statistics; what a worker *does* while held is the
owner's business (the owner calls :meth:`release` when done). Written for the hot path: no SimPy
Resource, no event per admission, a deque for the queue and plain float accumulators.
"""

from __future__ import annotations

import math
from collections import deque


class Station:
    """Workers + bounded or unbounded FIFO queue, with exact busy/queue time integrals.

    Admission calls ``start(job)`` at once when a worker is free (synchronously, no event), queues
    the job otherwise, or returns False when the queue is full. ``release`` hands the freed worker
    to the oldest queued job.
    """

    __slots__ = ("name", "env", "workers", "queue_limit", "_limit", "start", "queue", "busy",
                 "_t_last", "_busy_area", "_queue_area", "queue_max", "rejected",
                 "index", "nominal_workers", "health", "_cap_area", "_cap_since", "t_created", "t_retired",
                 "t_removed")

    def __init__(self, name: str, env, workers: int, queue_limit: int | None, start, index: int = 0):
        self.name = name
        self.env = env
        self.index = index
        self.workers = workers  # workers serving now (a capacity fault or a hang lowers it)
        self.nominal_workers = workers
        self.health = None  # a Health record once a fault or a health check can touch this station
        self._cap_area = 0.0
        self._cap_since = env.now
        self.t_created = env.now
        self.t_retired = None  # when it stopped (idle after removal)
        self.t_removed = None  # when it was deregistered (scale-in): the end of its instance-seconds
        self.queue_limit = queue_limit
        self._limit = math.inf if queue_limit is None else queue_limit
        self.start = start  # callable(job): begin work on a job that now holds a worker
        self.queue: deque = deque()
        self.busy = 0
        self._t_last = 0.0
        self._busy_area = 0.0
        self._queue_area = 0.0
        self.queue_max = 0
        self.rejected = 0

    @property
    def in_flight(self) -> int:
        """Requests queued or in service here, as a load balancer sees them."""
        return self.busy + len(self.queue)

    def admit(self, job) -> bool:
        """Start or queue ``job``; False when the queue is full (the caller reports REJECTED).

        The integrals are brought up to date inline (no helper call): this runs once per request.
        """
        busy = self.busy
        now = self.env.now
        if busy < self.workers:  # a free worker means the queue is empty: no queue area to add
            self._busy_area += busy * (now - self._t_last)
            self._t_last = now
            self.busy = busy + 1
            self.start(job)
            return True
        queue = self.queue
        waiting = len(queue)
        if waiting >= self._limit:
            self.rejected += 1
            return False
        dt = now - self._t_last
        self._busy_area += busy * dt
        self._queue_area += waiting * dt
        self._t_last = now
        queue.append(job)
        if waiting >= self.queue_max:
            self.queue_max = waiting + 1
        return True

    def release(self) -> None:
        """Free one worker; the oldest queued job (if any) takes it immediately.

        When the station has fewer workers than busy ones (capacity was just cut), the freed
        worker is not handed on.
        """
        now = self.env.now
        dt = now - self._t_last
        self._t_last = now
        busy = self.busy
        self._busy_area += busy * dt
        queue = self.queue
        if queue and busy <= self.workers:
            self._queue_area += len(queue) * dt
            self.start(queue.popleft())  # the worker passes straight on: busy is unchanged
        else:
            if queue:
                self._queue_area += len(queue) * dt
            self.busy = busy - 1

    def set_workers(self, workers: int) -> None:
        """Change the number of serving workers now; more workers start queued jobs at once."""
        self._advance()
        now = self.env.now
        self._cap_area += self.workers * (now - self._cap_since)
        self._cap_since = now
        self.workers = workers
        queue = self.queue
        while queue and self.busy < workers:
            self.busy += 1
            self.start(queue.popleft())

    # --- for a begin layer that drops work instead of serving it (a shedder) -----------------------
    def use_queue(self, make):
        """Serve from ``make(jobs_waiting_now)`` from now on: a deque-like queue (``append``,
        ``popleft``, ``clear``, ``del q[i]``, ``len``) that may know more, such as when each job
        joined. Returns it."""
        self.queue = make(list(self.queue))
        return self.queue

    def pass_on(self):
        """The job holding a worker was dropped unserved: the worker takes the oldest queued job,
        which is returned for the caller to decide about (in a loop, not by recursion through
        ``start``), or goes idle (None)."""
        if self.queue:
            self._advance()  # the queue-time integral stays exact before the queue shrinks
            return self.queue.popleft()
        self.release()
        return None

    def take_queued(self, index: int):
        """Take the waiting job at ``index`` out of the queue (a shedder's victim)."""
        self._advance()
        queue = self.queue
        job = queue[index]
        del queue[index]
        return job

    def clear(self) -> tuple[list, int]:
        """Empty the station (a crash or restart): returns the queued jobs; busy drops to zero.

        The integrals are brought up to date first, so the time before the crash stays counted.
        """
        self._advance()
        jobs = list(self.queue)
        self.queue.clear()
        busy, self.busy = self.busy, 0
        return jobs, busy

    def retire(self) -> None:
        """The station leaves its group (scale-in): its integrals stop here but stay counted."""
        self.set_workers(0)
        self.t_retired = self.env.now

    def _advance(self) -> None:
        """Bring the time integrals up to now."""
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

    def capacity_area(self) -> float:
        """Worker-seconds of capacity from the station's creation up to now (or its retirement)."""
        now = self.env.now if self.t_retired is None else self.t_retired
        return self._cap_area + self.workers * (now - self._cap_since)

    def reset_queue_max(self) -> None:
        """Start a new window for the maximum queue length (at the end of warm-up)."""
        self.queue_max = len(self.queue)
