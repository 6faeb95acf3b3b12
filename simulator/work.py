"""Per-request random work, drawn at arrival so request #N is the same request in every variant.

Each component declares the random values it needs per attempt (a service time, a cache key, an
error-or-not uniform...) as *slots*. When a workload's request arrives, one value is drawn for every
slot its requests can reach, from a stream named after the workload, component and purpose
(``workload.feed.app.service_time``). Variants that change capacity, routing or policies therefore
see identical arrivals *and* identical work, so their differences are not noise. Retries draw from
separate ``workload.<w>.retry.*`` streams so that retrying in one variant cannot shift the work of
later requests.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from simulator.randomness import RandomStreams

Draw = Callable[[], float]
Factory = Callable[[object], Draw]  # numpy Generator -> zero-argument draw

_NOT_REACHED = itertools.repeat(-1.0).__next__
CONSUMED = -1.0  # marks a slot already used by an earlier visit in the same attempt


@dataclass(frozen=True)
class Slot:
    """One random value per attempt, for one purpose of one component."""

    component: str
    purpose: str
    factory: Factory
    sticky: bool = False  # a property of the request, not of one attempt: retries keep it


class WorkPlan:
    """Registry of slots; builds each workload's draw functions once the topology is known."""

    def __init__(self, streams: RandomStreams):
        self.streams = streams
        self.slots: list[Slot] = []

    def slot(self, component: str, purpose: str, factory: Factory, sticky: bool = False) -> tuple[int, Draw]:
        """Register a slot; returns its index and the component's overflow draw.

        The overflow draw serves a second visit of the same attempt (e.g. a database reached both
        directly and through a cache miss); it has its own stream so it never shifts slot draws.
        """
        self.slots.append(Slot(component, purpose, factory, sticky))
        overflow = factory(self.streams.generator(f"component.{component}.{purpose}.extra"))
        return len(self.slots) - 1, overflow

    def sticky_slots(self) -> list[int]:
        """Indices of the slots that belong to the request (a cache key, read or write): a retry
        asks for the same thing again, so it carries these values over from the first attempt."""
        return [i for i, s in enumerate(self.slots) if s.sticky]

    def drawer(self, workload: str, reachable: Iterable[str], retry: bool = False,
               prefix: str | None = None) -> Callable[[], list]:
        """A zero-argument function returning a fresh work list for one attempt of ``workload``.

        ``prefix`` names other streams for the same slots (a surge fault's extra requests draw
        from ``fault.<name>.work.*`` so they cannot shift the workload's own draws).
        """
        reach = set(reachable)
        if prefix is None:
            prefix = f"workload.{workload}.retry" if retry else f"workload.{workload}"
        draws = [
            s.factory(self.streams.generator(f"{prefix}.{s.component}.{s.purpose}"))
            if s.component in reach else _NOT_REACHED
            for s in self.slots
        ]
        if not draws:
            return list
        if len(draws) == 1:
            only = draws[0]
            return lambda: [only()]
        call = operator.call

        def draw_work() -> list:
            return list(map(call, draws))

        return draw_work
