"""Per-call timeouts, deadline propagation and retries on call edges (``calls: [{target, timeout,
retry}]`` and ``client.propagate_deadline``).

A call edge with a ``timeout`` races each call against it, as the client races its attempts: when
the timer wins the caller hears ``timeout`` and goes on (its worker is freed), while **the callee
keeps working** on the abandoned call. With deadline propagation an attempt carries the moment
its client gives up, and no edge waits past it: the edge's limit is the smaller of its own timeout
and the time left (a call whose deadline has already passed is not sent; ``timeout`` at once).
``retry`` tries a failed call again on the same edge after the client-style backoff (stream
``edge.<caller>-><callee>.retry_jitter``), each try with its own timeout; a ``retry_budget`` on
the edge may refuse a retry (the call then ends with its last try's outcome).

These layers sit right outside the network faults and inside the listed mitigations: a breaker
or fallback on the same edge sees the final answer of the retried, time-limited call. They are
built only for edges that ask for them (or, with propagation, for service and cache edges).
"""

from __future__ import annotations

import math

from simulator.components.base import UNIFORM01
from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.randomness import sampler
from simulator.request import TIMEOUT, Outcome
from simulator.workload.backoff import Backoff

RETRY_ON = frozenset(int(o) for o in (Outcome.ERROR, Outcome.TIMEOUT, Outcome.REJECTED, Outcome.UNAVAILABLE))
"""Outcomes a call-edge retry tries again (a client's default ``retry_on``)."""


class _Try:
    """One logical call on the edge across its tries (what the backoff reads and writes)."""

    __slots__ = ("number", "last_backoff", "att", "done")

    def __init__(self, att, done):
        self.number = 1
        self.last_backoff = 0.0
        self.att = att
        self.done = done


class EdgeCalls(Mitigation):
    """Timeout, deadline and retry for one call edge ``caller->callee`` (named after it)."""

    def __init__(self, ctx, name: str, call_spec, propagate: bool):
        self.ctx = ctx
        self.name = name
        self.spec = call_spec
        self.timeout = call_spec.timeout if call_spec.timeout is not None else math.inf
        self.propagate = propagate
        self.max_tries = call_spec.retry.max_attempts if call_spec.retry else 1
        self.backoff = Backoff(call_spec.retry, sampler(UNIFORM01, ctx.streams.generator(
            f"edge.{name}.retry_jitter"))) if call_spec.retry else None
        self._later = ctx.scheduler()
        self.timeouts = 0
        self.retries = 0
        self.retry_gate = None  # a retry budget on this edge: called before each retry, False refuses
        self.on_call = None  # ... and told of each logical call (its deposit)

    def wrap(self, system) -> None:
        system.edges.stack(self.name, Position.CALL, self._layer, self)

    def use_retry_budget(self, deposit, withdraw) -> None:
        """Every logical call deposits into the budget; every retry must withdraw from it."""
        self.on_call = deposit
        self.retry_gate = withdraw

    def _layer(self, inner):
        def send(att, done) -> None:
            if self.max_tries == 1:
                self._call(inner, att, done)
            else:
                if self.on_call is not None:
                    self.on_call()
                self._try(inner, _Try(att, done))

        return send

    def _try(self, inner, state: _Try) -> None:
        measuring = self.ctx.measuring
        def answer(outcome: int) -> None:
            if outcome in RETRY_ON and state.number < self.max_tries and (
                    self.retry_gate is None or self.retry_gate()):
                if measuring():
                    self.retries += 1
                delay = self.backoff.delay(state)
                state.number += 1
                self._later(delay, lambda _: self._try(inner, state))
            else:
                state.done(outcome)

        self._call(inner, state.att, answer)

    def _call(self, inner, att, done) -> None:
        """One try, raced against the edge's limit; the first word wins, the loser is ignored."""
        limit = self.timeout
        if self.propagate:
            deadline = getattr(att, "deadline", None)  # set by propagating clients only
            if deadline is not None:
                limit = min(limit, deadline - self.ctx.env.now)
        if limit == math.inf:
            inner(att, done)
            return
        if limit <= 0.0:
            self._count_timeout()
            done(TIMEOUT)
            return
        settled = [False]

        def answer(outcome: int) -> None:
            if not settled[0]:
                settled[0] = True
                done(outcome)

        def expire(_) -> None:
            if not settled[0]:
                settled[0] = True
                self._count_timeout()
                done(TIMEOUT)

        self._later(limit, expire)
        inner(att, answer)

    def _count_timeout(self) -> None:
        if self.ctx.measuring():
            self.timeouts += 1

    def counters(self) -> dict[str, float]:
        return {"edge_timeouts": float(self.timeouts), "edge_retries": float(self.retries)}


def plan_edge_calls(ctx, spec) -> list[EdgeCalls]:
    """One :class:`EdgeCalls` per service call edge that has a timeout or a retry, or every
    service call edge when some workload propagates its deadline."""
    propagate = any(w.client.propagate_deadline for w in spec.workload)
    planned = []
    for component in spec.components:
        for call in getattr(component, "calls", ()):
            if propagate or call.timeout is not None or call.retry is not None:
                planned.append(EdgeCalls(ctx, f"{component.name}->{call.target}", call, propagate))
    return planned

