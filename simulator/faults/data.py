"""Faults on data and places: ``cache_flush``, ``db_primary_failure`` and ``region_outage``.

* ``cache_flush`` — at ``at`` the cache loses ``fraction`` of its entries (each one with that
  probability, drawn from ``fault.<name>.flush``). Lookups in flight are unaffected; every later
  miss goes to the backend: the thundering herd on the database.
* ``db_primary_failure`` — the primary crashes (work on it ends as ``error``; writes sent to it
  are refused: ``unavailable``); reads keep working on the read replicas. After
  ``promotion_delay`` the first read replica becomes the primary (event ``promoted``); without
  read replicas nothing takes over. After ``for`` the old primary restarts as a read replica.
  With versioned data (docs/consistency.md), the promoted replica keeps what it had applied:
  under ``replication: async`` the writes it had not applied yet are lost (``lost_writes.<db>``,
  event ``writes_lost``); the old primary rejoins with a copy of the new primary's data.
* ``region_outage`` — every component tagged with the region crashes (replicas and gates alike,
  with the ``crash`` semantics) and restarts empty after ``for``.
"""

from __future__ import annotations

from simulator.components.base import UNIFORM01
from simulator.components.gate import Gate
from simulator.faults.base import Injector
from simulator.randomness import sampler


class CacheFlush(Injector):
    """``kind: cache_flush`` (instantaneous; ``for`` only marks a window on the plots)."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)

    @property
    def end_time(self) -> float | None:
        """An instant unless ``for`` marks a window: recovery is judged from the flush on."""
        return self.spec.end if self.spec.duration is not None else self.spec.at

    def begin(self, system) -> None:
        cache = system.components[self.target]
        uniform = sampler(UNIFORM01, self.ctx.streams.generator(f"fault.{self.name}.flush"))
        lost = cache.store.flush(self.spec.fraction, uniform)
        self.ctx.recorder.event(self.ctx.env.now, "cache_flushed", self.target, f"{lost} entries")


class DbPrimaryFailure(Injector):
    """``kind: db_primary_failure``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        self.failed = None

    def prepare(self, components: dict) -> None:
        components[self.target].track()

    def begin(self, system) -> None:
        db = system.components[self.target]
        self.failed = db.primary
        self.affected = {self.failed.name, self.target}
        db.group.crash(self.failed)
        self.ctx.later(self.spec.promotion_delay, lambda _: self._promote(db))

    def _promote(self, db) -> None:
        if db.primary is not self.failed or self.failed.health.state == "up":
            return  # already back
        promoted = db.promote()
        if promoted is not None:
            now = self.ctx.env.now
            self.ctx.recorder.event(now, "promoted", self.target, self.failed.name)
            lost = db.data.promotions[-1][1] if db.data is not None else 0
            if lost:
                self.ctx.recorder.event(now, "writes_lost", self.target, f"{lost} writes")

    def end(self, system) -> None:
        db = system.components[self.target]
        db.group.restart(self.failed)
        db.rejoin(self.failed)


class RegionOutage(Injector):
    """``kind: region_outage``: every component of the region crashes for the window."""

    def __init__(self, ctx, spec, components_in_region: list[str]):
        super().__init__(ctx, spec, spec.region)
        self.names = components_in_region
        self.groups: list = []
        self.gates: list[Gate] = []

    def prepare(self, components: dict) -> None:
        for name in self.names:
            component = components[name]
            if component.group is not None:
                component.track()
                self.groups.append(component.group)
            else:
                self.gates.append(Gate.of(self.ctx, component))
        self.affected = set(self.names)

    def begin(self, system) -> None:
        for group in self.groups:
            for station in list(group.replicas):
                group.crash(station)
                self.affected.add(station.name)
        for gate in self.gates:
            for copy in range(len(gate.up)):
                gate.crash(copy)
            lose_contents = getattr(gate.component, "lose_contents", None)
            if lose_contents is not None:  # a cache restarts empty
                lose_contents()

    def end(self, system) -> None:
        for group in self.groups:
            for station in list(group.replicas):
                group.restart(station)
        for gate in self.gates:
            for copy in range(len(gate.up)):
                gate.restart(copy)
