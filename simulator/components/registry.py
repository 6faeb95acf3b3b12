"""``kind: registry`` — service discovery: instances heartbeat, callers read a cached view.

Every ``interval`` each registered replica that is alive sends a heartbeat (a *hung* process
keeps heartbeating — its heartbeat thread still runs — so discovery alone never removes it: a
lesson in liveness versus readiness). An instance is live while its last heartbeat is younger
than ``expiry``. Balancers with ``discovery:`` re-read the live set every ``refresh`` and route only
to it, so a crash is noticed after up to expiry + refresh. While the registry itself is down it
takes no heartbeats and answers no reads: callers keep their last, stale view.
"""

from __future__ import annotations

from simulator.components.base import Component
from simulator.request import ERROR

HEARTBEATING = frozenset(("up", "hung"))


class RegistryStats:
    """How many instances the registry holds as live."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"live": float(sum(1 for r in self.registry.instances() if self.registry.is_live(r, now)))}

    def mark_warmup(self, now: float) -> None:
        pass

    def window(self, now: float) -> dict[str, float]:
        return {}


class Registry(Component):
    """Component for ``kind: registry`` (a control-plane component: it carries no requests)."""

    models_own_outage = True

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self.groups: list = []
        self.last_seen: dict = {}
        self.is_up = True
        self.stats = RegistryStats(self)

    def handle(self, att, done) -> None:
        """Not a request target (validation keeps requests away); answers error if reached."""
        done(ERROR)

    def wire(self, components: dict) -> None:
        """Resolve the registered services' replica groups."""
        self.groups = [components[name].group for name in self.spec.services]

    def track(self) -> None:
        """Nothing to switch: the registry's own crash is :meth:`fail_whole`."""

    def fail_whole(self) -> None:
        """The registry crashes: heartbeats are lost, reads fail."""
        self.is_up = False

    def restore_whole(self) -> None:
        """Back, empty of heartbeats since the crash: instances reappear with their next beat."""
        self.is_up = True

    def instances(self) -> list:
        return [replica for group in self.groups for replica in group.replicas]

    def start(self) -> None:
        """Everything registers at the start; heartbeats follow every ``interval``."""
        self._beat()

    def _beat(self, _event=None) -> None:
        now = self.ctx.env.now
        if self.is_up:
            for replica in self.instances():
                if replica.health is None or replica.health.state in HEARTBEATING:
                    self.last_seen[replica] = now
        if now + self.spec.interval < self.ctx.stop:
            self.ctx.later(self.spec.interval, self._beat)

    def is_live(self, replica, now: float) -> bool:
        """Registered and heard from within ``expiry``."""
        seen = self.last_seen.get(replica)
        return seen is not None and now - seen <= self.spec.expiry

    def live(self, group, now: float) -> list | None:
        """The live replicas of ``group``; None while the registry is down (keep the old view)."""
        if not self.is_up:
            return None
        return [r for r in group.replicas if self.is_live(r, now)]


class DiscoveryClient:
    """A balancer's periodic read of the registry: excludes expired instances, re-adds live ones."""

    def __init__(self, ctx, balancer, registry: Registry):
        self.ctx = ctx
        self.balancer = balancer
        self.registry = registry

    def start(self) -> None:
        self.ctx.later(self.registry.spec.refresh, self.refresh)

    def refresh(self, _event=None) -> None:
        now = self.ctx.env.now
        live = self.registry.live(self.balancer.target.group, now)
        if live is not None:
            record = self.ctx.recorder.event
            for replica in list(self.balancer.target.replicas):
                if replica in live and self.balancer.believe_up(replica):
                    record(now, "detected_up", self.balancer.name, replica.name)
                elif replica not in live and self.balancer.believe_down(replica):
                    record(now, "detected_down", self.balancer.name, replica.name)
        if now + self.registry.spec.refresh < self.ctx.stop:
            self.ctx.later(self.registry.spec.refresh, self.refresh)
