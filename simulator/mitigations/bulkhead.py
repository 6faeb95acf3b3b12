"""``kind: bulkhead`` — at most ``max_concurrent`` calls in flight on one call edge.

Resilience4j's semaphore bulkhead: a call takes a permit and gives it back when its answer
arrives (whoever sends the answer: the callee, a timeout, a fault). Without a free permit the call
waits up to ``max_wait`` in arrival order (FIFO), then ends ``rejected``; with ``max_wait: 0`` it
is refused at once. ``per: workload`` keeps one pool per workload, so one workload's flood cannot
take the slots another needs.
"""

from __future__ import annotations

from collections import deque

from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.request import REJECTED


class Pool:
    """Permits and the FIFO of calls waiting for one (each waiter: [args, inner, still_waiting])."""

    __slots__ = ("free", "waiting")

    def __init__(self, size: int):
        self.free = size
        self.waiting: deque = deque()


class Bulkhead(Mitigation):
    """A concurrency cap on the edge ``caller->callee``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.rejected = 0
        self.peak = 0  # most calls in flight at once through one pool (for tests and reports)
        self._later = ctx.scheduler()
        self._pools: dict[int, Pool] = {}

    def wrap(self, system) -> None:
        system.edges.stack(self.spec.target, Position.BULKHEAD, self._layer, self)

    def _pool(self, att) -> Pool:
        key = att.client.workload_index if self.spec.per == "workload" else 0
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = Pool(self.spec.max_concurrent)
        return pool

    def _layer(self, inner):
        def send(att, done) -> None:
            pool = self._pool(att)
            if pool.free > 0:
                self._run(pool, inner, att, done)
            elif self.spec.max_wait > 0:
                waiter = [(att, done), inner, True]
                pool.waiting.append(waiter)
                self._later(self.spec.max_wait, lambda _: self._give_up(waiter))
            else:
                self._refuse(done)

        return send

    def _refuse(self, done) -> None:
        if self.ctx.measuring():
            self.rejected += 1
        done(REJECTED)

    def _run(self, pool: Pool, inner, att, done) -> None:
        pool.free -= 1
        self.peak = max(self.peak, self.spec.max_concurrent - pool.free)

        def answer(outcome: int) -> None:
            self._release(pool)
            done(outcome)

        inner(att, answer)

    def _release(self, pool: Pool) -> None:
        pool.free += 1
        while pool.waiting and pool.free > 0:
            waiter = pool.waiting.popleft()
            if waiter[2]:
                waiter[2] = False  # served: its give-up timer will find it gone
                self._run(pool, waiter[1], *waiter[0])

    def _give_up(self, waiter: list) -> None:
        if waiter[2]:
            waiter[2] = False  # left in the deque; skipped when it comes to the front
            self._refuse(waiter[0][1])

    def counters(self) -> dict[str, float]:
        return {"rejected": float(self.rejected)}
