"""``kind: load_balancer`` — spreads attempts over the replicas of one service.

It sends only to the replicas it believes healthy (``self.healthy``, a live list: today every
replica; health checks and failures will shrink and grow it). With none left it answers
UNAVAILABLE at once, as a real balancer returns 503.
"""

from __future__ import annotations

from simulator.components.balancing import make_picker
from simulator.components.base import dist_factory, take
from simulator.request import UNAVAILABLE


class BalancerStats:
    """A balancer holds no queue; it reports what it can see: healthy replicas, 503s."""

    def __init__(self, lb: LoadBalancer):
        self.lb = lb
        self._mark = 0

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"healthy": float(len(self.lb.healthy))}

    def mark_warmup(self, now: float) -> None:
        self._mark = self.lb.unavailable

    def window(self, now: float) -> dict[str, float]:
        return {"unavailable": float(self.lb.unavailable - self._mark)}


class LoadBalancer:
    """Component for ``kind: load_balancer``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._later = ctx.scheduler()
        self._latency = plan.slot(spec.name, "time", dist_factory(spec.latency)) if spec.latency else None
        self.unavailable = 0
        self.healthy: list = []
        self._pick = None
        self._submit = None
        self.stats = BalancerStats(self)

    def wire(self, components: dict) -> None:
        """Attach the target service (called by the builder once every component exists)."""
        target = components[self.spec.targets]
        self.healthy = target.replicas
        self._submit = target.group.submit
        rng = self.ctx.streams.generator(f"component.{self.name}.choice")
        self._pick = make_picker(self.spec.policy, self.healthy, rng, self.spec.weights)

    def handle(self, att, done) -> None:
        """Component protocol: pick a healthy replica (after the hop latency, if any)."""
        if self._latency is not None:
            self._later(take(att.work, *self._latency), self._forward_later, (att, done))
        else:
            self._forward(att, done)

    def _forward_later(self, event) -> None:
        self._forward(*event.value)

    def _forward(self, att, done) -> None:
        if not self.healthy:
            self.unavailable += 1
            done(UNAVAILABLE)
            return
        self._submit(self._pick(), att, done)

    def dependencies(self) -> list[str]:
        return [self.spec.targets]
