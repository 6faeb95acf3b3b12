"""``kind: load_shedding`` — a service drops work it cannot serve in time; shed work ends as ``shed``.

The shedder is a begin layer of the target's replica group (see
:mod:`simulator.components.visit_chain`; installed in ``wrap``, built for every replica, also ones
that join later), and serves each replica from a timed queue that knows when every request
joined. Strategies:

* ``queue_length`` — at arrival, while ``max_queue`` requests wait on the replica, one is shed: the
  lowest-priority one (a workload's ``priority``), the newest among equals (so, by default, the
  arrival itself).
* ``queue_delay`` — at dequeue, a request that waited longer than ``max_delay`` is shed instead of
  served; the worker takes the next one.
* ``codel`` — at dequeue, CoDel (RFC 8289, :mod:`simulator.mitigations.codel`) decides from each
  request's waiting time, with ``delay_target`` and ``interval``.

At dequeue, when priorities differ, the shed request is the lowest-priority one waiting (the
oldest among equals) if it ranks below the head; the head is then served. A replica is
*overloaded* from its first shed until its queue empties (whatever the strategy);
each start and stop is an event (``shedding_start``/``shedding_stop``), and with
``lifo_under_overload`` an overloaded replica serves its newest waiting request first.
"""

from __future__ import annotations

from collections import deque

from simulator.mitigations.base import Mitigation
from simulator.mitigations.codel import CoDel
from simulator.request import SHED


class LoadShedding(Mitigation):
    """One :class:`_ReplicaShedder` per replica of the target service."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self._later = ctx.scheduler()
        self.shed = 0  # requests shed in the measured window [warmup, duration)
        self.priorities: list[int] = []
        self.is_mixed = False
        self.shedders: dict[object, _ReplicaShedder] = {}

    def wrap(self, system) -> None:
        self.priorities = [w.priority for w in system.spec.workload]
        self.is_mixed = len(set(self.priorities)) > 1
        system.components[self.spec.target].group.chain.add_begin("shed", self._layer)

    def _layer(self, station, inner):
        """Begin layer: the replica's shedder decides about each visit before ``inner`` serves it."""
        shedder = self.shedders.get(station)
        if shedder is None:
            shedder = self.shedders[station] = _ReplicaShedder(self, station)
        shedder.inner = inner
        return shedder.start

    def priority(self, visit) -> int:
        return self.priorities[visit.att.client.workload_index]

    def drop(self, visit, now: float) -> None:
        """End ``visit`` as shed (after the current step: never inside a station's bookkeeping)."""
        if self.ctx.warmup <= now < self.ctx.end:
            self.shed += 1
        self._later(0.0, _answer_shed, visit)

    def counters(self) -> dict[str, float]:
        return {"shed": float(self.shed)}


def _answer_shed(event) -> None:
    event.value.done(SHED)


class _TimedQueue(deque):
    """A replica's queue that remembers when each request joined and can serve newest first."""

    def __init__(self, shedder: _ReplicaShedder, jobs, now: float):
        super().__init__(jobs)
        self.shedder = shedder
        self.times = deque(now for _ in jobs)

    def append(self, job) -> None:
        shedder = self.shedder
        if shedder.max_queue is not None and len(self) >= shedder.max_queue:
            job = shedder.make_room(job)
            if job is None:
                return
        super().append(job)
        self.times.append(shedder.env.now)

    def popleft(self):
        shedder = self.shedder
        if shedder.is_lifo and shedder.is_overloaded:
            t, job = self.times.pop(), self.pop()
        else:
            t, job = self.times.popleft(), super().popleft()
        shedder.popped, shedder.popped_wait = job, shedder.env.now - t
        return job

    def clear(self) -> None:
        super().clear()
        self.times.clear()

    def __delitem__(self, index: int) -> None:
        super().__delitem__(index)
        del self.times[index]


class _ReplicaShedder:
    """Shedding state of one replica: its timed queue, CoDel state and overload flag."""

    def __init__(self, owner: LoadShedding, station):
        spec = owner.spec
        self.owner = owner
        self.station = station
        self.env = owner.ctx.env
        self.max_queue = spec.max_queue if spec.strategy == "queue_length" else None
        self.max_delay = spec.max_delay if spec.strategy == "queue_delay" else None
        self.codel = CoDel(spec.delay_target, spec.interval) if spec.strategy == "codel" else None
        self.is_lifo = spec.lifo_under_overload
        self.is_overloaded = False
        self.popped, self.popped_wait = None, 0.0
        self.inner = None  # what serves a visit the shedder lets through (set by the layer)
        now = self.env.now
        self.queue = station.use_queue(lambda jobs: _TimedQueue(self, jobs, now))

    def make_room(self, arriving):
        """The queue is full: shed the lowest-priority request (newest among equals); returns the
        request to queue, or None when the arrival itself is shed."""
        owner, victim = self.owner, None
        if owner.is_mixed:
            rank = owner.priority(arriving)
            low = min(range(len(self.queue)), key=lambda i: (owner.priority(self.queue[i]), -i))
            if owner.priority(self.queue[low]) < rank:
                victim = self.queue[low]
                del self.queue[low]  # inside the station's admission: its integrals are current
        self._overloaded(True)
        if victim is None:
            owner.drop(arriving, self.env.now)
            return None
        owner.drop(victim, self.env.now)
        return arriving

    def start(self, visit) -> None:
        """A worker takes ``visit``: serve it, or shed it and hand the worker to the next one."""
        now = self.env.now
        queue, station = self.queue, self.station
        while visit is not None:
            wait = self.popped_wait if visit is self.popped else 0.0
            self.popped = None
            if not self._should_shed(now, wait, not queue):
                break
            victim = self._lowest_below(visit)
            if victim is not None:
                self.owner.drop(victim, now)
                break
            self.owner.drop(visit, now)
            visit = station.pass_on()  # the next waiting visit, or None: the worker went idle
        if not queue and self.is_overloaded:
            self._overloaded(False)
        if visit is not None:
            self.inner(visit)

    def _should_shed(self, now: float, wait: float, emptied: bool) -> bool:
        if self.codel is not None:
            drop = self.codel.should_drop(now, wait, emptied)
        else:
            drop = self.max_delay is not None and wait > self.max_delay
        if drop:
            self._overloaded(True)
        return drop

    def _lowest_below(self, head):
        """With mixed priorities, the lowest-priority waiting request (oldest among equals) if it
        ranks below ``head``, taken out of the queue; else None."""
        owner, queue = self.owner, self.queue
        if not owner.is_mixed or not queue:
            return None
        low = min(range(len(queue)), key=lambda i: (owner.priority(queue[i]), i))
        if owner.priority(queue[low]) < owner.priority(head):
            return self.station.take_queued(low)
        return None

    def _overloaded(self, state: bool) -> None:
        if state != self.is_overloaded:
            self.is_overloaded = state
            kind = "shedding_start" if state else "shedding_stop"
            self.owner.event(kind, self.station.name, self.owner.name)
