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
        if spec.per == "global":  # the one limiter, made now (a fresh one behaves the same later)
            self.limiters[None] = make_limiter(spec)
        self.refused = 0  # every refusal (for the gauge)
        self.counted = 0  # refusals in the measured window [warmup, duration) (the counter)
        self.stats = _LimiterStats(self)
        self._key = {"global": _no_key, "workload": _workload_key, "client": _client_key}[spec.per]
        self.inner = self.inner_send_to = None
        self.handle = self.send_to = None  # the entry points, built around the inner ones

    def prepare(self, components: dict) -> None:
        component = components[self.spec.target]
        self.inner = component.handle
        component.handle = self.handle = self._entry()
        if hasattr(component, "send_to"):
            self.inner_send_to = component.send_to
            component.send_to = self.send_to = self._route()

    def wrap(self, system) -> None:
        """If a later ``prepare`` replaced the entry (a scaler tracking the group), go back in front."""
        component = system.components[self.spec.target]
        replaced = component.handle
        if replaced == self.handle:
            return
        self.inner = replaced
        component.handle = self.handle = self._entry()
        for edge in call_edges(system):
            if edge.callee == self.spec.target and getattr(edge.owner, edge.attribute) == replaced:
                setattr(edge.owner, edge.attribute, self.handle)

    def _admission(self):
        """The global limiter's ``admit(now)``, bound once (no key, no lookup: the entry points run
        once per attempt); None when limiters are keyed and looked up per attempt."""
        return self.limiters[None].admit if self.spec.per == "global" else None

    def _entry(self):
        """Component protocol in front of the target: ``handle(att, done)``."""
        admit_now, limiter_for, env = self._admission(), self._limiter_for, self.env
        inner, later, release, refuse = self.inner, self._later, self._release, self._refuse

        def handle(att, done) -> None:
            now = env.now
            delay = admit_now(now) if admit_now is not None else limiter_for(att).admit(now)
            if delay == 0.0:
                inner(att, done)
            elif delay is None:
                refuse()
                done(RATE_LIMITED)
            else:
                later(delay, release, (att, done))

        return handle

    def _route(self):
        """The balancers' route into a service, through the same limiter: ``send_to(replica, att, done)``."""
        admit_now, limiter_for, env = self._admission(), self._limiter_for, self.env
        inner, later, refuse = self.inner_send_to, self._later, self._refuse

        def send_to(replica, att, done) -> None:
            now = env.now
            delay = admit_now(now) if admit_now is not None else limiter_for(att).admit(now)
            if delay == 0.0:
                inner(replica, att, done)
            elif delay is None:
                refuse()
                done(RATE_LIMITED)
            else:
                later(delay, lambda _: inner(replica, att, done))

        return send_to

    def _limiter_for(self, att):
        """The limiter of the attempt's key, created on first use."""
        key = self._key(att)
        limiter = self.limiters.get(key)
        if limiter is None:
            limiter = self.limiters[key] = make_limiter(self.spec)
        return limiter

    def _refuse(self) -> None:
        self.refused += 1
        if self.ctx.warmup <= self.env.now < self.ctx.end:
            self.counted += 1

    def _release(self, event) -> None:
        att, done = event.value
        self.inner(att, done)

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
