"""Network faults on call edges: ``partition`` (two sets of components cannot reach each other)
and ``packet_loss`` (a share of the calls on one edge vanish).

Each affected edge gets a wrapper in front of its ``send`` (a service's or cache's call edge, a
balancer's route to its replicas, a workload's client to its entry). Outside the fault window the
wrapper passes calls straight through. Inside it:

* ``partition`` — a call across waits ``connect_timeout`` and fails as ``unavailable``; the callee
  never sees it. Calls already delivered before the partition complete normally.
* ``packet_loss`` — each call is lost with probability ``fraction`` (the fault's own stream): the
  callee never sees it and the caller hears nothing until its socket ``timeout``, then ``timeout``.
"""

from __future__ import annotations

from simulator.components.base import UNIFORM01
from simulator.faults.base import Injector
from simulator.randomness import sampler
from simulator.request import TIMEOUT, UNAVAILABLE


class EdgeAccess:
    """Read and replace one edge's ``send`` (callables taking ``(..., att, done)``)."""

    def __init__(self, caller: str, callee: str, owner, attribute: str):
        self.caller = caller
        self.callee = callee
        self.owner = owner
        self.attribute = attribute

    def wrap(self, make_wrapper) -> None:
        setattr(self.owner, self.attribute, make_wrapper(getattr(self.owner, self.attribute)))


def call_edges(system) -> list[EdgeAccess]:
    """Every call edge of a built system, with the names scenarios use for it."""
    edges = []
    for name, component in system.components.items():
        for edge in getattr(component, "edges", ()):
            edges.append(EdgeAccess(name, edge.target.name, edge, "send"))
        if getattr(component, "target", None) is not None and hasattr(component, "_submit"):
            edges.append(EdgeAccess(name, component.target.name, component, "_submit"))
    for client in system.clients:
        edges.append(EdgeAccess(client.workload_name, client.entry.name, client, "_handle"))
    return edges


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

    def _wrapper(self, inner):
        def send(*args) -> None:
            if self.active:
                self.intercept(args, inner)
            else:
                inner(*args)

        return send

    def intercept(self, args, inner) -> None:
        raise NotImplementedError


class Partition(_EdgeFault):
    """``kind: partition``."""

    def __init__(self, ctx, spec):
        a, b = (set(side) for side in spec.between)
        super().__init__(ctx, spec, ",".join(sorted(a)) + "|" + ",".join(sorted(b)))
        self.sides = (a, b)
        self.affected = a | b

    def _crosses(self, edge: EdgeAccess) -> bool:
        a, b = self.sides
        return (edge.caller in a and edge.callee in b) or (edge.caller in b and edge.callee in a)

    def wrap(self, system) -> None:
        for edge in call_edges(system):
            if self._crosses(edge):
                edge.wrap(self._wrapper)

    def intercept(self, args, inner) -> None:
        done = args[-1]
        self._later(self.spec.connect_timeout, lambda _: done(UNAVAILABLE))


class PacketLoss(_EdgeFault):
    """``kind: packet_loss`` on one edge ``caller->callee``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        caller, _, callee = (part.strip() for part in spec.target.partition("->"))
        self.caller, self.callee = caller, callee
        self._uniform = sampler(UNIFORM01, ctx.streams.generator(f"fault.{spec.name}.loss"))

    def wrap(self, system) -> None:
        for edge in call_edges(system):
            if (edge.caller, edge.callee) == (self.caller, self.callee):
                edge.wrap(self._wrapper)

    def intercept(self, args, inner) -> None:
        if self._uniform() < self.spec.fraction:
            done = args[-1]
            self._later(self.spec.timeout, lambda _: done(TIMEOUT))
        else:
            inner(*args)
