"""``kind: service`` — a replicated service: N replicas x W workers, FIFO queues, dependency calls.

The work itself (hold a worker, compute, call dependencies, answer) and the replicas' life cycle
live in :mod:`simulator.components.replica_group`; this module adds how *direct* callers (not
through a load balancer) spread their requests over the replicas. Direct callers and balancers
reach the same group: once the group runs its tracked path (a fault, scaling, or a visit layer
such as a release split), both go through the group's ``submit`` and its admission layers.
"""

from __future__ import annotations

from simulator.components.balancing import make_picker
from simulator.components.base import Component, time_and_error_slots
from simulator.components.drop_expired import DropExpired
from simulator.components.edge import CallEdge
from simulator.components.replica_group import ReplicaGroup
from simulator.components.visit import Visit
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
        self.group.on_track.append(self._use_tracked_entry)
        if spec.drop_expired:
            DropExpired(self.group)

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

    def _use_tracked_entry(self) -> None:
        """The group switched path (for a fault, scaling or an admission layer): direct callers
        now go through the group's ``submit`` too, so nothing bypasses its visit chain."""
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
