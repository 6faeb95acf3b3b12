"""Faults that hit replicas (or a component as a whole): crash, hang, pause, slow, errors, capacity.

A service's or database's replicas are switched to the tracked path (see ``replica_group``) and
changed one by one; a balancer, cache, external dependency or router fails as a whole (or copy by
copy) through a :class:`~simulator.components.gate.Gate`.

What happens to an attempt, per kind (also in ``docs/faults.md``):

* ``crash`` — queued and in service: ends now as ``error`` (connection reset); work it had sent
  downstream goes on there, its answer is ignored. On its way (sent later): ``unavailable`` at once
  (connection refused) until a balancer stops sending there. Restart after ``for`` /
  ``restart_after`` (then ``startup``), empty: a crashed cache loses its entries and, under
  write-behind, its unflushed writes (``lost_writes``).
* ``hang`` — accepted and queued (up to ``queue_limit``, then ``rejected``), never answered: the
  caller learns only through its own timeout. Work in service never completes. After ``for`` the
  replica restarts empty: whatever it still held ends as ``error`` (reset).
* ``pause`` — nothing progresses and nothing is lost: work in service resumes with its remaining
  time, answers from downstream wait, new arrivals queue; all of it continues after ``for``.
* ``slow`` — work that *starts* during the window takes ``factor`` x its time + ``extra``.
* ``errors`` — work that *finishes* during the window fails with probability ``rate``.
* ``capacity`` — workers drop to ``workers`` (or ``fraction``); work in service finishes, no new
  work starts until fewer than that are busy; back to full at the end.
"""

from __future__ import annotations

import math

from simulator.components.base import UNIFORM01
from simulator.components.gate import Gate
from simulator.faults.base import Injector
from simulator.randomness import sampler


class ReplicaFault(Injector):
    """A fault on some replicas of a service or database, or on a whole gated component."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        self.group = None
        self.gate = None
        self.stations: list = []
        self.copies: list[int] = []
        self.whole = None
        self.whole_state = None

    def prepare(self, components: dict) -> None:
        component = components[self.target]
        group = component.group
        if group is not None:
            component.track()
            self.group = group
            return
        if component.models_own_outage:  # a DNS, a registry
            self.whole = component
            return
        self.gate = Gate.of(self.ctx, component)
        self.whole_state = getattr(component, "lose_contents", None)  # a cache restarts empty

    def _chosen(self) -> list[int]:
        if self.whole is not None:
            return []
        n = len(self.group.replicas) if self.group is not None else len(self.gate.up)
        selection = self.spec.replicas
        return list(range(n)) if selection is None else selection.resolve(n)

    def begin(self, system) -> None:
        indices = self._chosen()
        if self.group is not None:
            by_index = {s.index: s for s in self.group.replicas}
            self.stations = [by_index[i] for i in indices if i in by_index]
            self.affected = {s.name for s in self.stations}
        elif self.gate is not None:
            self.copies = indices
            names = self.gate.copy_names()
            self.affected = {names[i] for i in indices} | {self.target}
        else:
            self.affected = {self.target}
        self.hit()

    def hit(self) -> None:
        raise NotImplementedError


class Crash(ReplicaFault):
    """``kind: crash``. The fault ends at the restart (``fault_end`` is stamped then): the start-up
    that follows is the system recovering, so ``time_to_recover`` counts it, as a restarted pod's
    readiness delay counts against its service. Replicas refuse connections until ``startup`` has
    passed; a gated copy or a DNS/registry comes back after it too."""

    def hit(self) -> None:
        for station in self.stations:
            self.group.crash(station)
        for copy in self.copies:
            self.gate.crash(copy)
        if self.copies and self.whole_state is not None and not self.gate.is_up:
            lost = self.whole_state()  # a cache or counter: its memory dies with its last copy
            self.ctx.recorder.event(self.ctx.env.now, "contents_lost", self.target, f"{lost} held in memory")
        if self.whole is not None:
            self.whole.fail_whole()

    def end(self, system) -> None:
        startup = self.spec.startup
        for station in self.stations:
            self.group.restart(station, startup)
        if startup > 0.0:
            self.ctx.later(startup, lambda _: self._serve_again())
        else:
            self._serve_again()

    def _serve_again(self) -> None:
        """Gated copies and a component modelling its own outage serve once started up."""
        if self.whole is not None:
            self.whole.restore_whole()
        for copy in self.copies:
            self.gate.restart(copy)


class Hang(ReplicaFault):
    """``kind: hang``."""

    def hit(self) -> None:
        for station in self.stations:
            self.group.hang(station)

    def end(self, system) -> None:
        for station in self.stations:
            if station.health.state == "hung":  # a crash since then ends on its own schedule
                self.group.restart(station)


class Pause(ReplicaFault):
    """``kind: pause``."""

    def hit(self) -> None:
        for station in self.stations:
            self.group.pause(station)

    def end(self, system) -> None:
        for station in self.stations:
            self.group.resume(station)


class Slow(ReplicaFault):
    """``kind: slow``."""

    def hit(self) -> None:
        for station in self.stations:
            station.health.slow_factor = self.spec.factor
            station.health.extra = self.spec.extra

    def end(self, system) -> None:
        for station in self.stations:
            station.health.slow_factor = 1.0
            station.health.extra = 0.0


class Errors(ReplicaFault):
    """``kind: errors``: draws come from the fault's own stream, so other draws do not shift."""

    def hit(self) -> None:
        draw = sampler(UNIFORM01, self.ctx.streams.generator(f"fault.{self.name}.errors"))
        for station in self.stations:
            station.health.error_rate = self.spec.rate
            station.health.draw = draw

    def end(self, system) -> None:
        for station in self.stations:
            station.health.error_rate = 0.0


class Capacity(ReplicaFault):
    """``kind: capacity``."""

    def hit(self) -> None:
        for station in self.stations:
            left = self.spec.workers if self.spec.workers is not None else \
                math.floor(self.spec.fraction * station.nominal_workers)
            self.group.set_capacity(station, min(left, station.nominal_workers))

    def end(self, system) -> None:
        for station in self.stations:
            if station.health.state == "up":
                self.group.set_capacity(station, station.nominal_workers)
