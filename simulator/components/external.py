"""``kind: external`` — an opaque dependency (payment provider, auth service) with no queue we see.

Every call takes its own latency and fails with probability ``error_rate``; concurrency is
unbounded because the provider's capacity is not ours to model.
"""

from __future__ import annotations

from simulator.components.base import Component, take, time_and_error_slots
from simulator.request import ERROR, OK


class ExternalStats:
    """In-flight calls of an external dependency (it has no workers or queue of ours)."""

    def __init__(self, owner: External):
        self.owner = owner

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"in_flight": float(self.owner.in_flight)}

    def mark_warmup(self, now: float) -> None:
        pass

    def window(self, now: float) -> dict[str, float]:
        return {}


class External(Component):
    """Component for ``kind: external``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        (self._slot, self._extra), error = time_and_error_slots(plan, spec.name, spec.latency,
                                                                spec.error_rate)
        self._error = error
        self.error_rate = spec.error_rate
        self._later = ctx.scheduler()
        self.in_flight = 0
        self.stats = ExternalStats(self)

    def handle(self, att, done) -> None:
        """Component protocol: answer after the call's latency, OK or ERROR."""
        latency = take(att.work, self._slot, self._extra)
        failed = self._error is not None and take(att.work, *self._error) < self.error_rate
        self.in_flight += 1
        self._later(latency, self._answer, (done, ERROR if failed else OK))

    def _answer(self, event) -> None:
        done, outcome = event.value
        self.in_flight -= 1
        done(outcome)

    def wire(self, components: dict) -> None:
        """Nothing to resolve: this component calls nothing."""

    def track(self) -> None:
        """Nothing to switch: an external dependency's faults are handled by a gate in front of it."""
