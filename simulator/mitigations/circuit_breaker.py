"""``kind: circuit_breaker`` — the breaker's state machine as a layer on one call edge.

The wrapper asks :class:`~simulator.mitigations.breaker_state.BreakerState` for a permit; a
refused call ends at once as ``short_circuited`` (the callee never sees it). An admitted call's
answer is recorded with its duration (from the send to the answer, as the caller measures it):
outcomes other than ``ok`` and ``degraded`` count as failures, a call longer than
``slow_call_duration`` as slow. Every transition is a ``breaker`` event ("closed->open"); the
state (0 closed, 1 open, 2 half-open) and the window's failure rate are gauges in ``.series``
under the breaker's name.
"""

from __future__ import annotations

from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.mitigations.breaker_state import CLOSED, OPEN, STATE_NAMES, BreakerConfig, BreakerState
from simulator.request import DEGRADED, OK, SHORT_CIRCUITED


class CircuitBreaker(Mitigation):
    """A resilience4j-style breaker on the edge ``caller->callee``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.machine = BreakerState(BreakerConfig(**spec.resolved()), self._on_transition)
        self.short_circuited = 0
        self.opened = 0
        self.stats = BreakerStats(self)
        self._env = ctx.env

    def wrap(self, system) -> None:
        system.edges.stack(self.spec.target, Position.BREAKER, self._layer, self)

    def _layer(self, inner):
        """``send(att, done)`` through the breaker.

        Runs once per call on the edge: the closed state's admission is inlined and the answer is
        a closure over what it needs, so a breaker that stays closed costs little.
        """
        machine = self.machine
        record = machine.record
        env = self._env
        measuring = self.ctx.measuring

        def send(att, done) -> None:
            now = env.now
            if machine.state == CLOSED:
                generation = machine.generation
            else:
                generation = machine.try_acquire(now)
                if generation < 0:
                    if measuring():
                        self.short_circuited += 1
                    done(SHORT_CIRCUITED)
                    return

            def answer(outcome: int) -> None:
                t = env.now
                record(generation, t, t - now, outcome != OK and outcome != DEGRADED)
                done(outcome)

            inner(att, answer)

        return send

    def _on_transition(self, old: int, new: int) -> None:
        if new == OPEN and self.ctx.measuring():
            self.opened += 1
        self.event("breaker", self.name, f"{STATE_NAMES[old]}->{STATE_NAMES[new]}")

    def counters(self) -> dict[str, float]:
        return {"short_circuited": float(self.short_circuited), "opened": float(self.opened)}


class BreakerStats:
    """Gauges of one breaker for the sampler: its state and its window's failure rate."""

    def __init__(self, breaker: CircuitBreaker):
        self.breaker = breaker

    def sample(self, now: float, interval: float) -> dict[str, float]:
        machine = self.breaker.machine
        return {"state": float(machine.state), "failure_rate": machine.failure_rate(now)}

    def mark_warmup(self, now: float) -> None:
        """Nothing windowed to restart."""

    def window(self, now: float) -> dict[str, float]:
        return {}
