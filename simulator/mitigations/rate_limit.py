"""``kind: rate_limit`` — a rate limiter at a component's entry.

A layer (``Position.ADMISSION``, right outside the component's gate) on every call edge into the
component, so every caller goes through it: clients, call edges and balancers alike (on a
balancer's edge before the replica is picked). A refused attempt ends at once as
``rate_limited``; the component never sees it. A leaky bucket is a queue: the attempt it admits
reaches the component after its turn to leave the bucket (the client's timeout still runs
meanwhile).

``per`` keys the limiter: one for all callers (``global``), one per workload, or one per client of
a workload's population (``clients: {count, skew}``); keyed limiters are created on first use.
The algorithms themselves are plain classes in :mod:`simulator.mitigations.limiters`.
"""

from __future__ import annotations

from simulator.components.edge import Position
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

    def wrap(self, system) -> None:
        """One layer on every edge into the target (clients, callers, balancers alike), all
        sharing this limiter: it is the target's front door, not one caller's."""
        for edge in system.edges.into(self.spec.target):
            edge.stack(Position.ADMISSION, self._layer, self)

    def _admission(self):
        """The global limiter's ``admit(now)``, bound once (no key, no lookup: the layer runs
        once per attempt); None when limiters are keyed and looked up per attempt."""
        return self.limiters[None].admit if self.spec.per == "global" else None

    def _layer(self, inner):
        """``send(att, done)`` through the limiter, in front of ``inner``."""
        admit_now, limiter_for, env = self._admission(), self._limiter_for, self.env
        later, refuse = self._later, self._refuse

        def send(att, done) -> None:
            now = env.now
            delay = admit_now(now) if admit_now is not None else limiter_for(att).admit(now)
            if delay == 0.0:
                inner(att, done)
            elif delay is None:
                refuse()
                done(RATE_LIMITED)
            else:
                later(delay, _release, (inner, att, done))

        return send

    def _limiter_for(self, att):
        """The limiter of the attempt's key, created on first use."""
        key = self._key(att)
        limiter = self.limiters.get(key)
        if limiter is None:
            limiter = self.limiters[key] = make_limiter(self.spec)
        return limiter

    def _refuse(self) -> None:
        self.refused += 1
        if self.ctx.measuring():
            self.counted += 1

    def counters(self) -> dict[str, float]:
        return {"rate_limited": float(self.counted)}


def _release(event) -> None:
    """A leaky bucket lets the attempt through after its turn."""
    inner, att, done = event.value
    inner(att, done)


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
