"""What components share: the protocol the builder relies on, and work-slot helpers.

The protocol is structural (:class:`Component`, no base class). Defences never wrap a component:
they are layers on the call edges into it (:mod:`simulator.components.edge`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, Protocol

from simulator.randomness import sampler

UNIFORM01 = SimpleNamespace(dist="uniform", low=0.0, high=1.0)


class Component(Protocol):
    """What the builder may call on a component, and nothing else; components subclass it
    explicitly to inherit the defaults (no gate, no outgoing edges, nothing to switch or start).

    * ``handle(att, done)``: serve one attempt; ``done(outcome)`` is called exactly once.
    * ``wire(components)``: resolve names to call edges, once every component exists.
    * ``edges``: the component's outgoing :class:`~simulator.components.edge.CallEdge`\\ s (after
      ``wire``), collected into the system's edge map.
    * ``track()``: switch to the fault-capable path before the run.
    * ``start()``: start control loops (health checks, probes) once everything is wired.
    * ``stats``: ``sample(now, interval)``, ``mark_warmup(now)`` and ``window(now)``.
    * ``gate``: the :class:`~simulator.components.gate.Gate` in front of a component that fails as
      a whole, once a fault asks for one; the builder stacks it on every edge into the component.
    * ``group``: the replica group of a component made of replicas (a service, a database), whose
      replicas faults and scalers act on; None for one that fails as a whole.
    * ``models_own_outage``: True for a component that fails as a whole by itself (a DNS keeps
      answering from caches, a registry stops renewing): faults call its ``fail_whole()`` and
      ``restore_whole()`` instead of putting a gate in front of it.
    """

    name: str
    stats: Any
    gate: Any = None
    group: Any = None
    models_own_outage: bool = False
    edges: Sequence = ()

    def handle(self, att: Any, done: Callable[[int], None]) -> None: ...

    def wire(self, components: dict) -> None: ...

    def track(self) -> None:
        """Nothing to switch by default."""

    def start(self) -> None:
        """No control loop by default."""


def take(work: list, slot: int, extra) -> float:
    """The attempt's pre-drawn value for ``slot``; a fresh ``extra()`` draw on a repeat visit."""
    value = work[slot]
    if value < 0:
        return extra()
    work[slot] = -1.0
    return value


def dist_factory(dist_spec):
    """Slot factory for a duration distribution."""
    return lambda rng: sampler(dist_spec, rng)


def uniform_factory(rng):
    """Slot factory for a U(0,1) decision (error or not, read or write)."""
    return sampler(UNIFORM01, rng)


def time_and_error_slots(plan, name: str, time_dist, error_rate: float):
    """Register a component's time slot and, if it can fail intrinsically, its error slot."""
    time_slot = plan.slot(name, "time", dist_factory(time_dist))
    error = plan.slot(name, "error", uniform_factory) if error_rate > 0 else None
    return time_slot, error
