"""The call edge: every hop of a request — workload -> entry, balancer -> replica, service ->
callee, cache -> backend, queue -> consumer, router -> region — is one :class:`CallEdge` with one
signature, ``edge.send(att, done)``.

What acts on a hop is a *layer* stacked on the edge, as Finagle stacks filters on a service and
Tower wraps a ``Service`` in ``Layer``\\ s: a layer is a function ``wrap(inner) -> send`` where
``inner`` is the next send towards the callee. The order is fixed by :class:`Position`, whatever
order the scenario lists its faults and mitigations in (``docs/edges.md`` tells why each sits
where it does). The edge ends in its *terminal*: the callee's ``handle``, or for a balancer the
routing step that picks a replica.

An edge without layers sends straight to its terminal: no wrapper, no cost on the hot path.
Layers are installed before the run starts; nothing patches a component's methods or finds an
edge by probing private names: the built system holds every edge in an :class:`Edges` map under
the ``caller->callee`` names scenarios use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum

Send = Callable[[object, Callable[[int], None]], None]
"""``send(att, done)``: deliver one attempt; ``done(outcome)`` is called exactly once."""


class Position(IntEnum):
    """Where a layer sits on an edge, innermost (next to the callee) first."""

    GATE = 0  # the callee's own front door: a crashed copy refuses the connection
    ADMISSION = 10  # the callee's server-side admission: rate limiters
    TRACE = 15  # a sampled request's hop span (--trace-sample only): the callee's side of the wire
    NETWORK = 20  # the wire: partitions, packet loss
    CALL = 30  # each call's timeout and deadline, and the edge's retries (with their budget)
    HEDGE = 40  # a backup attempt when the first is slow
    BULKHEAD = 50  # the caller's concurrency cap on the edge
    BREAKER = 60  # the caller's circuit breaker
    FALLBACK = 70  # a degraded answer for any failure above
    THROTTLE = 80  # client-side adaptive throttling: the caller refuses before sending


@dataclass(frozen=True)
class Layer:
    """One layer on an edge: where it sits, how it wraps, and the object it belongs to."""

    position: Position
    wrap: Callable[[Send], Send]
    owner: object = None


class CallEdge:
    """A resolved hop ``caller->callee``; callers always send through ``edge.send(att, done)``."""

    __slots__ = ("caller", "target", "optional", "send", "terminal", "layers")

    def __init__(self, caller: str, target, optional: bool = False, terminal: Send | None = None):
        self.caller = caller
        self.target = target
        self.optional = optional
        self.terminal = terminal if terminal is not None else target.handle
        self.send = self.terminal
        self.layers: list[Layer] = []

    @property
    def callee(self) -> str:
        return self.target.name

    @property
    def name(self) -> str:
        """The edge as scenarios write it: ``caller->callee``."""
        return f"{self.caller}->{self.target.name}"

    def stack(self, position: Position, wrap: Callable[[Send], Send], owner: object = None) -> None:
        """Add a layer; the edge's ``send`` is rebuilt in :class:`Position` order (layers at the
        same position keep the order they were added in, the later one outside)."""
        self.layers.append(Layer(Position(position), wrap, owner))
        send = self.terminal
        for layer in sorted(self.layers, key=lambda la: la.position):  # stable: ties keep order
            send = layer.wrap(send)
        self.send = send

    def owner_at(self, position: Position) -> object | None:
        """The object whose layer sits at ``position`` (the first one added), if any."""
        return next((la.owner for la in self.layers if la.position == position), None)


def edge_name(text: str) -> str:
    """``"app -> db"`` -> ``"app->db"`` (scenarios may put spaces around the arrow)."""
    return "->".join(part.strip() for part in text.split("->"))


class Edges:
    """Every edge of a built system, addressable by ``caller->callee`` and by callee."""

    def __init__(self, edges: list[CallEdge]):
        self._all = list(edges)

    def __iter__(self) -> Iterator[CallEdge]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def named(self, name: str) -> list[CallEdge]:
        """The edges written ``caller->callee`` (one per call entry; usually one)."""
        name = edge_name(name)
        return [e for e in self._all if e.name == name]

    def into(self, callee: str) -> list[CallEdge]:
        """Every edge whose callee is ``callee`` (its whole front door)."""
        return [e for e in self._all if e.target.name == callee]

    def stack(self, name: str, position: Position, wrap: Callable[[Send], Send],
              owner: object = None) -> None:
        """Put one layer on every edge named ``name``."""
        for edge in self.named(name):
            edge.stack(position, wrap, owner)
