"""``kind: load_balancer`` — spreads attempts over the replicas of one service.

It sends only to the replicas it *believes* healthy (``self.healthy``, its own list): every replica
at the start, then whatever detection tells it — a health check removes a replica it found dead
and adds it back when it answers again; a replica added by scaling joins once it is ready, one
removed leaves at once. Without a health check it never learns of a crash and keeps sending into
the void. With none left it answers UNAVAILABLE at once, as a real balancer returns 503.
Requests go out over the balancer's one call edge ``lb->service``: layers on it (a partition, a
breaker, the service's rate limiter) act before the replica is picked; the edge ends in the
routing step, which picks a replica and hands the attempt to the target's routing interface
(``send_to``), not into its internals.
"""

from __future__ import annotations

from simulator.components.balancing import make_picker
from simulator.components.base import Component, dist_factory, take
from simulator.components.edge import CallEdge
from simulator.components.health_check import HealthChecker
from simulator.components.registry import DiscoveryClient
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


class LoadBalancer(Component):
    """Component for ``kind: load_balancer``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._later = ctx.scheduler()
        self._latency = plan.slot(spec.name, "time", dist_factory(spec.latency)) if spec.latency else None
        self.unavailable = 0
        self.healthy: list = []
        self.target = None
        self.registry = None
        self._pick = None
        self._send_to = None
        self.edge: CallEdge | None = None
        self.stats = BalancerStats(self)
        if self._latency is None:
            self.handle = self._forward  # no hop latency: one call less per request

    def wire(self, components: dict) -> None:
        """Attach the target service (called by the builder once every component exists)."""
        target = components[self.spec.targets]
        self.target = target
        self.registry = components[self.spec.discovery] if self.spec.discovery else None
        self.healthy = list(target.replicas)
        self._send_to = target.send_to
        self.edge = CallEdge(self.name, target, terminal=self._route)
        target.group.listeners.append(self._membership)
        rng = self.ctx.streams.generator(f"component.{self.name}.choice")
        self._pick = make_picker(self.spec.policy, self.healthy, rng, self.spec.weights)

    def _membership(self, change: str, replica) -> None:
        """The target group gained a ready replica or lost one (scaling)."""
        if change == "up":
            self.believe_up(replica)
        elif replica in self.healthy:
            self.healthy.remove(replica)

    def believe_down(self, replica) -> bool:
        """Stop routing to ``replica`` (detection said it is dead); True if that changed anything."""
        if replica in self.healthy:
            self.healthy.remove(replica)
            return True
        return False

    def believe_up(self, replica) -> bool:
        """Route to ``replica`` again; True if that changed anything."""
        if replica not in self.healthy and replica in self.target.replicas:
            self.healthy.append(replica)
            self.healthy.sort(key=lambda r: r.index)
            return True
        return False

    def track(self) -> None:
        """Nothing to switch: a balancer's own faults are handled by a gate in front of it."""

    def start(self) -> None:
        """Start the health checker, if the balancer has one (after wiring, before the run)."""
        if self.spec.health_check is not None:
            HealthChecker(self.ctx, self, self.spec.health_check).start()
        if self.registry is not None:
            DiscoveryClient(self.ctx, self, self.registry).start()

    def handle(self, att, done) -> None:
        """Component protocol: pick a healthy replica after the hop latency (without a latency,
        ``handle`` is :meth:`_forward` itself)."""
        self._later(take(att.work, *self._latency), self._forward_later, (att, done))

    def _forward_later(self, event) -> None:
        self._forward(*event.value)

    def _forward(self, att, done) -> None:
        if not self.healthy:  # a 503 from the balancer itself: no call goes out on the edge
            self.unavailable += 1
            done(UNAVAILABLE)
            return
        self.edge.send(att, done)

    def _route(self, att, done) -> None:
        """The edge's terminal: pick a replica believed healthy and send to it. The list can have
        emptied while a layer held the attempt (a leaky bucket's delay): then it is a 503 too."""
        if not self.healthy:
            self.unavailable += 1
            done(UNAVAILABLE)
            return
        self._send_to(self._pick(), att, done)

    @property
    def edges(self) -> list[CallEdge]:
        """The balancer's one outgoing edge (to its target service), once wired."""
        return [self.edge] if self.edge is not None else []
