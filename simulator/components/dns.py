"""``kind: dns`` — DNS failover with client-side caching.

The DNS answers with the first target (in ``targets`` order) that its own health check believes
healthy. Clients cache answers for ``ttl``; their caches are modelled as a population whose ages
are spread evenly over the TTL, so after the answer changes at ``t_switch`` a request still uses
the old answer with probability ``max(0, 1 - (t - t_switch) / ttl)`` — a failover is seen only
as caches expire. While the DNS itself is down, a request whose cached answer is still valid
(the same probability, from the outage's start) goes through; the others fail to resolve
(``unavailable``). The per-request uniform is drawn at arrival (common random numbers).
"""

from __future__ import annotations

from simulator.components.base import Component, take, uniform_factory
from simulator.components.edge import CallEdge
from simulator.components.entry_probes import EntryProbes
from simulator.request import UNAVAILABLE


class DnsStats:
    """Which record the DNS answers with, and how many lookups failed."""

    def __init__(self, dns: Dns):
        self.dns = dns
        self._mark = 0

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"answer": float(self.dns.answer)}

    def mark_warmup(self, now: float) -> None:
        self._mark = self.dns.failed_lookups

    def window(self, now: float) -> dict[str, float]:
        return {"failed_lookups": float(self.dns.failed_lookups - self._mark)}


class Dns(Component):
    """Component for ``kind: dns``."""

    models_own_outage = True

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._cache_slot = plan.slot(spec.name, "cache_age", uniform_factory)
        self.edges: list[CallEdge] = []
        self.answer = 0
        self.previous = 0
        self.t_switch = -float("inf")
        self.is_up = True
        self.t_down = 0.0
        self.failed_lookups = 0
        self.stats = DnsStats(self)

    def wire(self, components: dict) -> None:
        """Resolve the records to call edges."""
        self.edges = [CallEdge(self.name, components[t]) for t in self.spec.targets]
        self._healthy = [True] * len(self.edges)  # replaced by the probes' list at start()

    def track(self) -> None:
        """Nothing to switch: the DNS's own outage is :meth:`fail_whole`."""

    def fail_whole(self) -> None:
        self.is_up = False
        self.t_down = self.ctx.env.now

    def restore_whole(self) -> None:
        self.is_up = True

    def handle(self, att, done) -> None:
        """Component protocol: resolve (maybe from a stale cache), then send to that target."""
        now = self.ctx.env.now
        u = take(att.work, *self._cache_slot)
        ttl = self.spec.ttl
        if not self.is_up:
            if u >= 1.0 - (now - self.t_down) / ttl:
                self.failed_lookups += 1
                done(UNAVAILABLE)
                return
        stale = u < 1.0 - (now - self.t_switch) / ttl
        self.edges[self.previous if stale else self.answer].send(att, done)

    def start(self) -> None:
        """Start the provider's health checks of the records."""
        self.probes = EntryProbes(self.ctx, self.spec.health_check, [e.target for e in self.edges],
                                  lambda i, healthy: self._choose())
        self._healthy = self.probes.believed
        self.probes.start()

    def _choose(self) -> None:
        """Answer with the first healthy record (the primary if none is)."""
        best = next((i for i, ok in enumerate(self._healthy) if ok), 0)
        if best != self.answer:
            now = self.ctx.env.now
            self.previous, self.answer, self.t_switch = self.answer, best, now
            old = self.edges[self.previous].target.name
            self.ctx.recorder.event(now, "rerouted", self.name, old)
