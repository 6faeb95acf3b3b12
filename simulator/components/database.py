"""``kind: database`` — a connection pool per node, a primary for writes and optional read replicas.

Each node is a station whose workers are its connections: a query holds a connection for its
query time. A per-request uniform (drawn at arrival, so the read/write mix is identical across
variants) decides read or write; writes always go to the primary, reads round-robin over the
read replicas when there are any.

With a workload's ``operations`` (simulator.data), a query is a read or a write of a versioned key:
the request's own operation decides the node (writes to the primary, reads round-robin over the
replicas); replication, failover losses and concurrency control live in
:mod:`simulator.components.database_data`.
"""

from __future__ import annotations

from simulator.components.base import Component, take, time_and_error_slots, uniform_factory
from simulator.components.database_data import DatabaseData
from simulator.components.drop_expired import DropExpired
from simulator.components.replica_group import ReplicaGroup


class Database(Component):
    """Component for ``kind: database``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        time_slot, error = time_and_error_slots(plan, spec.name, spec.query_time, spec.error_rate)
        self.group = ReplicaGroup(ctx, spec.name, 1 + spec.read_replicas, spec.connections,
                                  spec.queue_limit, time_slot, error, spec.error_rate, [], False)
        self.primary = self.group.replicas[0]
        self.read_nodes = self.group.replicas[1:]
        self.read_fraction = spec.read_fraction
        self._next_read = 0
        self._rw_slot = None
        self._plan = plan
        if spec.drop_expired:
            DropExpired(self.group)
        if self.read_nodes and 0.0 < self.read_fraction:
            self._rw_slot = plan.slot(spec.name, "read_write", uniform_factory, sticky=True)
        self.data: DatabaseData | None = None
        if ctx.data is not None:  # some workload reads and writes keys: versioned queries
            self.data = DatabaseData(self, ctx, spec)
            self.ledger = self.data.ledger
            self.handle = self._handle_data

    def _handle_data(self, att, done) -> None:
        """``handle`` for versioned data: the request's operation picks the node (requests of
        workloads without ``operations`` take the plain route)."""
        if getattr(att, "op", None) is None:
            Database.handle(self, att, done)
        else:
            self.data.handle(att, done)

    def handle(self, att, done) -> None:
        """Component protocol: route the query to a node and run it there."""
        station = self.primary
        if self._rw_slot is not None:
            slot, extra = self._rw_slot
            if take(att.work, slot, extra) < self.read_fraction and self.read_nodes:
                i = self._next_read % len(self.read_nodes)
                station = self.read_nodes[i]
                self._next_read = i + 1
        self.group.submit(station, att, done)

    def next_reader(self):
        """The node the next read goes to: the read replicas in turn (the caller checks there is one)."""
        i = self._next_read % len(self.read_nodes)
        self._next_read = i + 1
        return self.read_nodes[i]

    def promote(self) -> object | None:
        """Fail over: the first read replica becomes the primary (None if there is none)."""
        if not self.read_nodes:
            return None
        self.primary = self.read_nodes.pop(0)
        if self.data is not None:
            self.data.promoted(self.primary)
        return self.primary

    def rejoin(self, node) -> None:
        """A former primary, restarted, serves reads again as a replica."""
        if node is not self.primary and node not in self.read_nodes:
            self.read_nodes.append(node)
            if self.data is not None:
                self.data.joined(node)

    def wire(self, components: dict) -> None:
        """Nothing to resolve: this component calls nothing."""

    def track(self) -> None:
        """Fault-capable path: nodes can die, hang or slow down during the run."""
        self.group.track()

    def scalable(self) -> None:
        """Read replicas come and go (an autoscaler or a schedule, as Aurora scales its replicas):
        reads follow the group's members once they serve, and the primary is never removed. The
        read-or-write draw is registered now if the database started without read replicas (its
        stream is named by purpose, so no other draw moves)."""
        self.track()
        if self._rw_slot is None and self.read_fraction > 0.0:
            self._rw_slot = self._plan.slot(self.name, "read_write", uniform_factory, sticky=True)
        self.group.listeners.append(self._membership)
        self.group.keep = lambda node: node is self.primary

    def _membership(self, change: str, node) -> None:
        if change == "up" and node is not self.primary and node not in self.read_nodes:
            self.read_nodes.append(node)
            if self.data is not None:
                self.data.joined(node)
        elif change == "gone" and node in self.read_nodes:
            self.read_nodes.remove(node)
            if self.data is not None:
                self.data.left(node)

    @property
    def stats(self):
        return self.group.stats

