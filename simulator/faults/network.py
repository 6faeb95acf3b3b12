"""Network faults on call edges: ``partition`` (two sets of components cannot reach each other)
and ``packet_loss`` (a share of the calls on one edge vanish).

Each affected call edge (a service's or cache's call, a balancer's route to its replicas, a
workload's client to its entry...) gets a layer at ``Position.NETWORK``. Outside the fault window
the layer passes calls straight through. Inside it:

* ``partition`` — a call across waits ``connect_timeout`` and fails as ``unavailable``; the callee
  never sees it. Calls already delivered before the partition complete normally.
* ``packet_loss`` — each call is lost with probability ``fraction`` (the fault's own stream): the
  callee never sees it and the caller hears nothing until its socket ``timeout``, then ``timeout``.
"""

from __future__ import annotations

from simulator.components.base import UNIFORM01
from simulator.components.edge import CallEdge, Position
from simulator.faults.base import Injector
from simulator.randomness import sampler
from simulator.request import TIMEOUT, UNAVAILABLE


class _EdgeFault(Injector):
    """A fault acting on some edges while active."""

    def __init__(self, ctx, spec, target: str):
        super().__init__(ctx, spec, target)
        self.active = False
        self._later = ctx.scheduler()

    def begin(self, system) -> None:
        self.active = True

    def end(self, system) -> None:
        self.active = False

    def _layer(self, inner):
        def send(att, done) -> None:
            if self.active:
                self.intercept(att, done, inner)
            else:
                inner(att, done)

        return send

    def intercept(self, att, done, inner) -> None:
        raise NotImplementedError


class Partition(_EdgeFault):
    """``kind: partition``."""

    def __init__(self, ctx, spec):
        a, b = (set(side) for side in spec.between)
        super().__init__(ctx, spec, ",".join(sorted(a)) + "|" + ",".join(sorted(b)))
        self.sides = (a, b)
        self.affected = a | b

    def prepare(self, components: dict) -> None:
        """Components whose copies live in several regions (a global cache) hear when this
        partition separates regions: those of the components on each side."""
        self.watchers = [c for c in components.values() if hasattr(c, "partition_began")]
        self.regions = tuple(frozenset(getattr(components[name].spec, "region", None) for name in side
                                       if name in components) - {None} for side in self.sides)

    def begin(self, system) -> None:
        super().begin(system)
        for watcher in self.watchers:
            watcher.partition_began(self, *self.regions)

    def end(self, system) -> None:
        super().end(system)
        for watcher in self.watchers:
            watcher.partition_healed(self)

    def _crosses(self, edge: CallEdge) -> bool:
        a, b = self.sides
        return (edge.caller in a and edge.callee in b) or (edge.caller in b and edge.callee in a)

    def wrap(self, system) -> None:
        for edge in system.edges:
            if self._crosses(edge):
                edge.stack(Position.NETWORK, self._layer, self)

    def intercept(self, att, done, inner) -> None:
        self._later(self.spec.connect_timeout, lambda _: done(UNAVAILABLE))


class PacketLoss(_EdgeFault):
    """``kind: packet_loss`` on one edge ``caller->callee``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        self._uniform = sampler(UNIFORM01, ctx.streams.generator(f"fault.{spec.name}.loss"))

    def wrap(self, system) -> None:
        system.edges.stack(self.spec.target, Position.NETWORK, self._layer, self)

    def intercept(self, att, done, inner) -> None:
        if self._uniform() < self.spec.fraction:
            self._later(self.spec.timeout, lambda _: done(TIMEOUT))
        else:
            inner(att, done)
