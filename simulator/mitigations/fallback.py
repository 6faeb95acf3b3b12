"""``kind: fallback`` — a degraded answer in place of a failed call on one edge.

When the call ends in anything but ``ok`` (an error, a timeout, a refusal by a breaker, limiter or
bulkhead further in), the caller hears ``degraded`` after ``latency`` (the time to read a cache or
build a default answer). ``degraded`` counts as available. A service whose required call answers
``degraded`` carries on and itself answers ``degraded`` (see ``Visit`` in replica_group), so the
request ends ``degraded``, not ``ok``: the user got the lesser answer.

List the fallback after the breaker or bulkhead on the same edge: later mitigations wrap the
earlier ones, so the fallback then also answers for calls they refuse.
"""

from __future__ import annotations

from simulator.faults.network import call_edges
from simulator.mitigations.base import Mitigation
from simulator.request import DEGRADED, OK


class Fallback(Mitigation):
    """Turns every non-``ok`` answer on the edge into ``degraded`` after ``latency``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.used = 0
        self._later = ctx.scheduler()

    def wrap(self, system) -> None:
        caller, _, callee = (part.strip() for part in self.spec.target.partition("->"))
        for edge in call_edges(system):
            if (edge.caller, edge.callee) == (caller, callee):
                edge.wrap(self._wrapper)

    def _wrapper(self, inner):
        latency = self.spec.latency

        def send(*args) -> None:
            done = args[-1]

            def answer(outcome: int) -> None:
                if outcome == OK or outcome == DEGRADED:
                    done(outcome)
                    return
                self.used += 1
                if latency > 0:
                    self._later(latency, lambda _: done(DEGRADED))
                else:
                    done(DEGRADED)

            inner(*args[:-1], answer)

        return send

    def counters(self) -> dict[str, float]:
        return {"fallbacks": float(self.used)}
