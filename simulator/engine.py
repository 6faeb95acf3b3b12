"""The simulation context every component shares: SimPy environment, random streams, recorder.

Passed explicitly to whatever needs it (never global), so a run is a pure function of its inputs
and runs can execute side by side in one process or across machines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.randomness import RandomStreams
from simulator.recorder import Recorder


@dataclass
class SimContext:
    """Environment + named random streams + the one recorder of a run."""

    env: simpy.Environment
    streams: RandomStreams
    recorder: Recorder
    warmup: float = 0.0
    end: float = 0.0  # end of the measurement window (the scenario's duration)
    stop: float = 0.0  # hard end of the run: ``end`` plus the drain; traffic keeps coming until then
    workload_regions: tuple = ()  # each workload's region (None: none), by workload index
    data: Any = None  # simulator.data.books.DataBooks when a workload has ``operations``, else None
    _timeout: Callable = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._timeout = self.env.timeout

    def later(self, delay: float, callback: Callable[[Any], None], value: Any = None) -> None:
        """Call ``callback(event)`` after ``delay`` seconds; ``event.value`` is ``value``.

        This is the engine's only way to let time pass: a plain SimPy timeout with a callback,
        no process per request (a process costs several extra events per hop).
        """
        ev = self._timeout(delay, value)
        ev.callbacks.append(callback)

    def measuring(self) -> bool:
        """Whether now is in the measurement window [warmup, duration): counters count only then,
        so every count in a summary covers the same span as the requests it is compared with."""
        return self.warmup <= self.env.now < self.end

    def scheduler(self) -> Callable[[float, Callable, Any], None]:
        """A fast local version of :meth:`later` for hot paths (one less attribute lookup)."""
        timeout = self._timeout

        def later(delay: float, callback: Callable, value: Any = None) -> None:
            timeout(delay, value).callbacks.append(callback)

        return later
