"""What components share: the call edge to a dependency, slot helpers and group statistics.

The component protocol is structural (no base class): ``name``, ``handle(attempt, done)`` which
eventually calls ``done(outcome)`` exactly once, ``wire(components)``, ``track()`` (switch to the
fault-capable path before the run) and ``stats`` (an object with ``sample(now, interval)``,
``mark_warmup(now)`` and ``window(now)``). Wrappers such as a circuit breaker or a rate limiter
implement the same protocol around another component, or sit in a call edge's ``send``.
"""

from __future__ import annotations

from types import SimpleNamespace

from simulator.randomness import sampler

UNIFORM01 = SimpleNamespace(dist="uniform", low=0.0, high=1.0)


class CallEdge:
    """A resolved call edge ``caller->target``: callers send through ``edge.send(attempt, done)``.

    ``send`` starts as the target's own ``handle``; the build step may put wrappers in front of it
    (a partition, packet loss, and later breakers or bulkheads) without the caller knowing.
    """

    __slots__ = ("caller", "target", "optional", "send")

    def __init__(self, caller: str, target, optional: bool = False):
        self.caller = caller
        self.target = target
        self.optional = optional
        self.send = target.handle

    @property
    def name(self) -> str:
        """The edge as scenarios write it: ``caller->callee``."""
        return f"{self.caller}->{self.target.name}"


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
