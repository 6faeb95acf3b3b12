"""``kind: rate_limit`` — a rate limiter at a component's entry.

Installed in ``prepare`` (before wiring, as a gate is), in front of the component's ``handle`` and,
for a service, of ``send_to`` (the balancers' route), so every caller goes through it: clients,
call edges and balancers alike. A refused attempt ends at once as ``rate_limited``; the component
never sees it. A leaky bucket is a queue: the attempt it admits reaches the component after its
turn to leave the bucket (the client's timeout still runs meanwhile).

``per`` keys the limiter: one for all callers (``global``), one per workload, or one per client of
a workload's population (``clients: {count, skew}``); keyed limiters are created on first use.
The algorithms themselves are plain classes in :mod:`simulator.mitigations.limiters`.
"""

from __future__ import annotations

from simulator.faults.network import call_edges
from simulator.mitigations.base import Mitigation
from simulator.mitigations.limiters import make_limiter
from simulator.request import RATE_LIMITED
from simulator.workload.population import client_of


class RateLimit(Mitigation):
    """Admits, delays or refuses each attempt before the target component sees it."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.env = ctx.env
        self._later = ctx.scheduler()
        self.limiters: dict = {}
        self.refused = 0  # every refusal (for the gauge)
        self.counted = 0  # refusals in the measured window [warmup, duration) (the counter)
        self.stats = _LimiterStats(self)
        self._key = {"global": _no_key, "workload": _workload_key, "client": _client_key}[spec.per]
        self.inner = self.inner_send_to = None

    def prepare(self, components: dict) -> None:
        component = components[self.spec.target]
        self.inner = component.handle
        component.handle = self.handle
        if hasattr(component, "send_to"):
            self.inner_send_to = component.send_to
            component.send_to = self.send_to

    def wrap(self, system) -> None:
        """If a later ``prepare`` replaced the entry (a scaler tracking the group), go back in front."""
        component = system.components[self.spec.target]
        replaced = component.handle
        if replaced == self.handle:
            return
        self.inner = replaced
        component.handle = self.handle
        for edge in call_edges(system):
            if edge.callee == self.spec.target and getattr(edge.owner, edge.attribute) == replaced:
                setattr(edge.owner, edge.attribute, self.handle)

    def _admit(self, att) -> float | None:
        key = self._key(att)
        limiter = self.limiters.get(key)
        if limiter is None:
            limiter = self.limiters[key] = make_limiter(self.spec)
        delay = limiter.admit(self.env.now)
        if delay is None:
            self.refused += 1
            if self.ctx.warmup <= self.env.now < self.ctx.end:
                self.counted += 1
        return delay

    def handle(self, att, done) -> None:
        """Component protocol in front of the target."""
        delay = self._admit(att)
        if delay is None:
            done(RATE_LIMITED)
        elif delay == 0.0:
            self.inner(att, done)
        else:
            self._later(delay, self._release, (att, done))

    def _release(self, event) -> None:
        att, done = event.value
        self.inner(att, done)

    def send_to(self, replica, att, done) -> None:
        """The balancers' route into a service, through the same limiter."""
        delay = self._admit(att)
        if delay is None:
            done(RATE_LIMITED)
        elif delay == 0.0:
            self.inner_send_to(replica, att, done)
        else:
            self._later(delay, lambda _: self.inner_send_to(replica, att, done))

    def counters(self) -> dict[str, float]:
        return {"rate_limited": float(self.counted)}


def _no_key(att) -> None:
    return None


def _workload_key(att) -> int:
    return att.client.workload_index


def _client_key(att) -> tuple[int, int]:
    return att.client.workload_index, client_of(att)


class _LimiterStats:
    """Gauges in ``.series``: the global limiter's level (tokens, queued, count or estimate), or
    the number of keyed limiters, and refusals per second over the sample interval."""

    def __init__(self, limit: RateLimit):
        self.limit = limit
        self._last = 0

    def sample(self, now: float, interval: float) -> dict[str, float]:
        limit = self.limit
        refused, self._last = limit.refused - self._last, limit.refused
        values = {"refused_per_s": refused / interval if interval > 0 else 0.0}
        if limit.spec.per == "global":
            limiter = limit.limiters.get(None) or make_limiter(limit.spec)
            values[limiter.GAUGE] = limiter.level(now)
        else:
            values["keys"] = float(len(limit.limiters))
        return values
