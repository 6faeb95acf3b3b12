"""``kind: service`` — a replicated service: N replicas x W workers, FIFO queues, dependency calls.

The work itself (hold a worker, compute, call dependencies, answer) and the replicas' life cycle
live in :mod:`simulator.components.replica_group`; this module adds how *direct* callers (not
through a load balancer) spread their requests over the replicas.
"""

from __future__ import annotations

from simulator.components.balancing import make_picker
from simulator.components.base import Component, time_and_error_slots
from simulator.components.edge import CallEdge
from simulator.components.replica_group import ReplicaGroup, Visit
from simulator.request import REJECTED


class Service(Component):
    """Component for ``kind: service``; direct callers are spread over replicas by ``balance``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        time_slot, error = time_and_error_slots(plan, spec.name, spec.service_time, spec.error_rate)
        self.group = ReplicaGroup(ctx, spec.name, spec.replicas, spec.workers, spec.queue_limit,
                                  time_slot, error, spec.error_rate, [], spec.parallel)
        self.replicas = self.group.replicas
        self._pick = make_picker(spec.balance, self.replicas,
                                 ctx.streams.generator(f"component.{spec.name}.balance"))
        self._only = self.replicas[0] if spec.replicas == 1 else None
        if spec.drop_expired:
            self.group.drop_expired()

    def handle(self, att, done) -> None:
        """Component protocol: serve one attempt, eventually calling ``done(outcome)``."""
        station = self._only or self._pick()
        if not station.admit(Visit(self.group, att, done, station)):
            done(REJECTED)

    def _handle_tracked(self, att, done) -> None:
        if not self.replicas:
            done(REJECTED)
            return
        self.group.submit(self._pick(), att, done)

    def track(self) -> None:
        """Fault-capable path: replicas can die, hang or come and go during the run."""
        self.group.track()
        self._only = None
        self.handle = self._handle_tracked

    def scalable(self) -> None:
        """Replicas come and go (an autoscaler or a schedule): the fault-capable path does it."""
        self.track()

    def send_to(self, replica, att, done) -> None:
        """Routing interface for balancers: serve ``att`` on the replica they chose."""
        self.group.submit(replica, att, done)

    def wire(self, components: dict) -> None:
        """Resolve the ``calls`` names to call edges (once every component exists)."""
        self.group.calls = [CallEdge(self.name, components[c.target], c.optional) for c in self.spec.calls]

    @property
    def edges(self) -> list[CallEdge]:
        """This service's outgoing call edges, for wrappers."""
        return self.group.calls

    @property
    def stats(self):
        return self.group.stats
