"""``kind: queue`` — a message broker: the producer's call ends when the message is held, and a
delivery loop hands messages to the consumer service, at most ``concurrency`` at a time.

No SimPy process per message: a message waits in a deque, a delivery is a call through a
:class:`CallEdge` (so partitions and packet loss on ``queue->consumer`` apply), and its answer
either consumes the message or schedules a redelivery. A message carries a copy of the
producer's pre-drawn work, so the consumer does the same work for request #N in every variant.
"""

from __future__ import annotations

from array import array
from collections import deque

import numpy as np

from simulator.components.base import Component
from simulator.components.edge import CallEdge
from simulator.data.ops import share
from simulator.request import (
    DEGRADED,
    OK,
    RATE_LIMITED,
    REJECTED,
    SHED,
    SHORT_CIRCUITED,
    UNAVAILABLE,
    Attempt,
)

CONSUMED = frozenset((OK, DEGRADED))
"""Answers that consume a message (a fallback's answer still took it off the queue)."""

REFUSED = frozenset((UNAVAILABLE, REJECTED, SHORT_CIRCUITED, RATE_LIMITED, SHED))
"""Answers that mean the consumer never took the message: it goes back to the head of the queue
without counting as a delivery, and the loop pauses ``redelivery_delay`` (a broker whose consumer
is down keeps its messages; it does not dead-letter them)."""


class Message(Attempt):
    """A held message; to the consumer it is an attempt like any other (first try, never settled)."""

    __slots__ = ("queue", "t_enqueued", "failures")

    def __init__(self, queue: Queue, att, now: float):
        super().__init__(att.id, now, 1, list(att.work), att.client)
        share(att, self)  # the consumer reads or writes what the producer asked for
        self.queue = queue
        self.t_enqueued = now
        self.failures = 0

    def delivered(self, outcome: int) -> None:
        """The consumer's ``done`` for this delivery."""
        self.queue.answered(self, outcome)


class QueueStats:
    """Gauges ``backlog`` and ``in_flight``; over the window the largest backlog, messages
    accepted, consumed and dead-lettered, and the p99 and maximum of the enqueue-to-consumed delay
    (seconds; NaN when nothing was consumed)."""

    def __init__(self, owner: Queue):
        self.owner = owner
        self._mark = owner.counters()

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"backlog": float(self.owner.backlog), "in_flight": float(self.owner.in_flight)}

    def mark_warmup(self, now: float) -> None:
        self._mark = self.owner.counters()
        self.owner.backlog_max = self.owner.backlog
        self.owner.delays = array("d")  # only messages consumed from the warm-up on count

    def window(self, now: float) -> dict[str, float]:
        owner = self.owner
        counts = {name: float(value - self._mark[name]) for name, value in owner.counters().items()}
        delays = np.frombuffer(owner.delays, dtype=np.float64)
        p99 = float(np.quantile(delays, 0.99)) if len(delays) else float("nan")
        longest = float(delays.max()) if len(delays) else float("nan")
        return {"backlog_max": float(owner.backlog_max), "delivery_delay_p99": p99,
                "delivery_delay_max": longest, **counts}


class Queue(Component):
    """Component for ``kind: queue``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.env = ctx.env
        self._later = ctx.scheduler()
        self.capacity = spec.capacity
        self.concurrency = spec.concurrency
        self.ready: deque[Message] = deque()  # waiting for a delivery slot, oldest first
        self.waiting_redelivery = 0  # failed once, waiting out redelivery_delay
        self.in_flight = 0
        self.is_paused = False  # the consumer refused a delivery: wait before the next one
        self._is_delivering = False  # a synchronous answer must not recurse into the loop
        self.accepted = 0
        self.consumed = 0
        self.dead_letters = 0
        self.backlog_max = 0
        self.delays = array("d")  # enqueue -> consumed, seconds
        self.edges: list[CallEdge] = []
        self.stats = QueueStats(self)

    @property
    def backlog(self) -> int:
        """Messages held and not at the consumer: ready ones and those waiting to be redelivered."""
        return len(self.ready) + self.waiting_redelivery

    def counters(self) -> dict[str, int]:
        """Cumulative message counts since the start of the run."""
        return {"accepted": self.accepted, "consumed": self.consumed, "dead_letters": self.dead_letters}

    def handle(self, att, done) -> None:
        """Component protocol: OK at once if the backlog has room, else REJECTED."""
        if self.backlog >= self.capacity:
            done(REJECTED)
            return
        self.accepted += 1
        self.ready.append(Message(self, att, self.env.now))
        self._note_backlog()
        self._deliver()
        done(OK)

    def _deliver(self) -> None:
        """Fill the free delivery slots from the head of the backlog."""
        if self._is_delivering:
            return  # an answer came back synchronously; the running loop goes on
        self._is_delivering = True
        send = self.edges[0].send
        while self.ready and self.in_flight < self.concurrency and not self.is_paused:
            message = self.ready.popleft()
            self.in_flight += 1
            send(message, message.delivered)
        self._is_delivering = False

    def answered(self, message: Message, outcome: int) -> None:
        """A delivery ended: consumed, redelivered later, or dead-lettered."""
        self.in_flight -= 1
        now = self.env.now
        if outcome in CONSUMED:
            self.consumed += 1
            self.delays.append(now - message.t_enqueued)
        elif outcome in REFUSED:
            self.ready.appendleft(message)
            self._note_backlog()
            if not self.is_paused:
                self.is_paused = True
                self._later(self.spec.redelivery_delay, self._resume)
        else:
            message.failures += 1
            if message.failures >= self.spec.max_deliveries:
                self.dead_letters += 1
            else:
                self.waiting_redelivery += 1
                self._note_backlog()
                self._later(self.spec.redelivery_delay, self._redeliver, message)
        self._deliver()

    def _resume(self, event) -> None:
        self.is_paused = False
        self._deliver()

    def _redeliver(self, event) -> None:
        self.waiting_redelivery -= 1
        self.ready.appendleft(event.value)  # it was first in line before it failed
        self._deliver()

    def _note_backlog(self) -> None:
        backlog = self.backlog
        if backlog > self.backlog_max:
            self.backlog_max = backlog

    def wire(self, components: dict) -> None:
        """Resolve the consumer to the call edge ``queue->consumer``."""
        self.edges = [CallEdge(self.name, components[self.spec.consumer])]

    def track(self) -> None:
        """Nothing to switch: a crash of the broker is handled by a gate in front of it."""
