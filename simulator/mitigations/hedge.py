"""``kind: hedge`` — hedged (backup) requests on one call edge (Dean & Barroso, "The Tail at Scale").

A layer at ``Position.HEDGE`` (outside the edge's timeouts and retries, inside its bulkhead and
breaker, which see one logical call). Each call goes out as a first copy; if no answer has come
``delay`` later, one more copy goes out on the same edge (up to ``max_extra``, each ``delay``
after the previous), through the same routing, so a balancer's picker chooses its replica again.
At low load the answer time is ``min(X1, d + X2)``: the tail is cut at the price of about
``P(X > d)`` extra copies.

* **Which answer wins.** The first ``ok`` (or ``degraded``) answer. A failure wins only when no
  other copy is in flight (a copy still to come is then not sent): hedging is for slowness;
  failures are the retry layer's business.
* **Cancellation.** Each copy is its own attempt whose ``is_settled`` is true once the call has
  been answered (or the caller gave up on the whole attempt). That is how a cancellation reaches
  the servers: a service that drops expired work drops a cancelled copy it has not started; any
  work begun for one counts as ``wasted_work``.
* **Delay.** A duration, or a percentile of the latencies of the edge's first copies over the
  last ``window`` (their own send-to-answer time, answered by a server or not; recomputed once a
  simulated second; no copy until ``min_samples`` are in the window).

Counters over the measurement window: ``hedges_sent`` (extra copies sent) and ``hedges_won``
(calls answered by an extra copy).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from simulator.components.edge import Position
from simulator.data.ops import answered_with, share
from simulator.mitigations.base import Mitigation
from simulator.request import DEGRADED, OK, Attempt


class HedgeCopy(Attempt):
    """One copy of a hedged call: the same request and work, settled once the call is answered."""

    __slots__ = ("parent", "cancelled")

    def __init__(self, parent: Attempt):
        self.parent = parent
        super().__init__(parent.id, parent.t_arrival, parent.number, parent.work, parent.client)
        self.deadline = getattr(parent, "deadline", None)
        share(parent, self)

    @property
    def is_settled(self) -> bool:
        return self.cancelled or self.parent.is_settled

    @is_settled.setter
    def is_settled(self, value: bool) -> None:
        self.cancelled = value


class _Call:
    """One logical call across its copies."""

    __slots__ = ("hedge", "inner", "att", "done", "copies", "in_flight", "sent", "over")

    def __init__(self, hedge: Hedge, inner, att, done):
        self.hedge, self.inner, self.att, self.done = hedge, inner, att, done
        self.copies: list[HedgeCopy] = []
        self.in_flight = 0
        self.sent = 0
        self.over = False

    def launch(self) -> None:
        """Send the next copy."""
        copy = HedgeCopy(self.att)
        index = self.sent
        self.copies.append(copy)
        self.sent += 1
        self.in_flight += 1
        t0 = self.hedge.ctx.env.now
        self.inner(copy, lambda outcome: self.answered(index, t0, outcome))

    def answered(self, index: int, t0: float, outcome: int) -> None:
        """A copy answered: a success wins at once, a failure only if no other copy is in flight."""
        self.in_flight -= 1
        if index == 0:
            self.hedge.observe(t0)
        if not self.over and (outcome == OK or outcome == DEGRADED or self.in_flight == 0):
            self.finish(index, outcome)

    def finish(self, index: int, outcome: int) -> None:
        self.over = True
        for copy in self.copies:
            copy.is_settled = True  # the others are cancelled; the winner is answered
        if index > 0 and self.hedge.ctx.measuring():
            self.hedge.won += 1
        answered_with(self.copies[index], self.att)  # a read's version travels back to the caller
        self.done(outcome)

    def timer(self, event) -> None:
        """``delay`` passed: send a copy if the call is still open."""
        hedge = self.hedge
        if self.over or self.att.is_settled:
            return
        if hedge.ctx.measuring():
            hedge.sent += 1
        self.launch()
        if self.sent <= hedge.max_extra:
            hedge.schedule(self)


class Hedge(Mitigation):
    """Backup copies on the edges named by ``target`` (a workload: its edge to its entry)."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.max_extra = spec.max_extra
        self.quantile = spec.quantile
        self.sent = 0
        self.won = 0
        self._later = ctx.scheduler()
        self._recent: deque[tuple[float, float]] = deque()  # (answer time, latency) of first copies
        self._delay = None if self.quantile is not None else float(spec.delay)
        self._refreshed = -math.inf

    def wrap(self, system) -> None:
        if "->" in self.spec.target:
            system.edges.stack(self.spec.target, Position.HEDGE, self._layer, self)
            return
        client = next(c for c in system.clients if c.workload_name == self.spec.target)
        client.edge.stack(Position.HEDGE, self._layer, self)

    def _layer(self, inner):
        def send(att, done) -> None:
            call = _Call(self, inner, att, done)
            call.launch()
            if not call.over:
                self.schedule(call)

        return send

    def schedule(self, call: _Call) -> None:
        delay = self.delay()
        if delay is not None:
            self._later(delay, call.timer)

    def delay(self) -> float | None:
        """The hedge delay now (None: not enough recent latencies for the percentile yet)."""
        if self.quantile is None:
            return self._delay
        now = self.ctx.env.now
        if now - self._refreshed >= 1.0:
            self._refresh(now)
        return self._delay

    def observe(self, t0: float) -> None:
        """A first copy answered: its latency joins the window (percentile delays only)."""
        if self.quantile is not None:
            now = self.ctx.env.now
            self._recent.append((now, now - t0))

    def _refresh(self, now: float) -> None:
        recent = self._recent
        horizon = now - self.spec.window
        while recent and recent[0][0] < horizon:
            recent.popleft()
        self._refreshed = now
        if len(recent) < self.spec.min_samples:
            self._delay = None
            return
        latencies = np.fromiter((lat for _, lat in recent), dtype=float, count=len(recent))
        self._delay = float(np.quantile(latencies, self.quantile))

    def counters(self) -> dict[str, float]:
        return {"hedges_sent": float(self.sent), "hedges_won": float(self.won)}
