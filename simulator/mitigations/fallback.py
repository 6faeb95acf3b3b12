"""``kind: fallback`` — a degraded answer in place of a failed call on one edge.

When the call ends in anything but ``ok`` (an error, a timeout, a refusal by a breaker, limiter or
bulkhead further in), the caller hears ``degraded`` after ``latency`` (the time to read a cache or
build a default answer). ``degraded`` counts as available. A service whose required call answers
``degraded`` carries on and itself answers ``degraded`` (see ``Visit`` in components/visit), so the
request ends ``degraded``, not ``ok``: the user got the lesser answer.

The fallback is the outermost defence on its edge (``Position.FALLBACK``), whatever order the
file lists them in: it also answers for calls a breaker, bulkhead or limiter further in refuses.
"""

from __future__ import annotations

from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.request import DEGRADED, OK


class Fallback(Mitigation):
    """Turns every non-``ok`` answer on the edge into ``degraded`` after ``latency``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.used = 0
        self._later = ctx.scheduler()

    def wrap(self, system) -> None:
        system.edges.stack(self.spec.target, Position.FALLBACK, self._layer, self)

    def _layer(self, inner):
        latency = self.spec.latency
        measuring = self.ctx.measuring

        def send(att, done) -> None:
            def answer(outcome: int) -> None:
                if outcome == OK or outcome == DEGRADED:
                    done(outcome)
                    return
                if measuring():
                    self.used += 1
                if latency > 0:
                    self._later(latency, lambda _: done(DEGRADED))
                else:
                    done(DEGRADED)

            inner(att, answer)

        return send

    def counters(self) -> dict[str, float]:
        return {"fallbacks": float(self.used)}
