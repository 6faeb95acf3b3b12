"""``kind: service`` — a replica group: N replicas x W workers, FIFO queues, dependency calls.

A request takes a worker, computes for its service time, then (still holding the worker, as a
synchronous RPC handler does) calls its dependencies in sequence or in parallel, and answers.
The same machinery serves database nodes (see :mod:`simulator.components.database`).
"""

from __future__ import annotations

from simulator.components.balancing import make_picker
from simulator.components.base import Dependency, GroupStats, take, time_and_error_slots
from simulator.components.station import Station
from simulator.request import ERROR, OK, REJECTED


class Visit:
    """A request's stay at one station: the continuation state of one hop (no SimPy process)."""

    __slots__ = ("group", "att", "done", "station", "next_call", "pending", "failed")

    def __init__(self, group: StationGroup, att, done, station: Station):
        # Only what every visit needs; the call-state slots are set when calls begin (most
        # visits are leaves and never touch them, and this runs once per request per tier).
        self.group = group
        self.att = att
        self.done = done
        self.station = station

    def after_sequential_call(self, outcome: int) -> None:
        """A sequential dependency answered: fail fast if it was required, else go on."""
        group = self.group
        if outcome != OK and not group.calls[self.next_call - 1].optional:
            group.finish(self, ERROR)
        else:
            group.call_next(self)

    def after_required_call(self, outcome: int) -> None:
        """A parallel required dependency answered; answer once all have."""
        if outcome != OK:
            self.failed = True
        self._count_down()

    def after_optional_call(self, outcome: int) -> None:
        """A parallel optional dependency answered; its failure does not fail the request."""
        self._count_down()

    def _count_down(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.group.finish(self, ERROR if self.failed else OK)


class StationGroup:
    """Stations sharing one spec: draw work, hold a worker, call dependencies, release, answer."""

    def __init__(self, ctx, name: str, stations_n: int, workers: int, queue_limit: int | None,
                 time_slot: tuple[int, object], error: tuple[int, object] | None, error_rate: float,
                 calls: list[Dependency], parallel: bool):
        self.name = name
        self.ctx = ctx
        self._timeout = ctx.env.timeout
        self.stations = [Station(f"{name}/{i}", ctx.env, workers, queue_limit, self._begin)
                         for i in range(stations_n)]
        self._time_slot, self._time_extra = time_slot
        self._error_slot, self._error_extra = error if error else (None, None)
        self.error_rate = error_rate
        self.calls = calls
        self.parallel = parallel
        self._work_done_cb = self._work_done
        self.stats = GroupStats(self.stations)

    def submit(self, station: Station, att, done) -> None:
        """Send one attempt to one station; answers REJECTED at once when its queue is full."""
        if not station.admit(Visit(self, att, done, station)):
            done(REJECTED)

    def _begin(self, visit: Visit) -> None:
        """A worker is now held for ``visit``: spend the request's own service time."""
        work = visit.att.work
        i = self._time_slot
        d = work[i]
        if d < 0.0:
            d = self._time_extra()
        else:
            work[i] = -1.0
        self._timeout(d, visit).callbacks.append(self._work_done_cb)

    def _work_done(self, event) -> None:
        visit = event.value
        if self._error_slot is not None and take(visit.att.work, self._error_slot,
                                                  self._error_extra) < self.error_rate:
            self.finish(visit, ERROR)
        elif not self.calls:  # the common leaf case, finished inline (runs once per request)
            visit.station.release()
            visit.done(OK)
        elif self.parallel:
            self._call_all(visit)
        else:
            visit.next_call = 0
            self.call_next(visit)

    def call_next(self, visit: Visit) -> None:
        """Call the next dependency in sequence, or answer OK after the last one."""
        i = visit.next_call
        if i == len(self.calls):
            self.finish(visit, OK)
            return
        visit.next_call = i + 1
        self.calls[i].target.handle(visit.att, visit.after_sequential_call)

    def _call_all(self, visit: Visit) -> None:
        visit.pending = len(self.calls)
        visit.failed = False
        for call in self.calls:
            callback = visit.after_optional_call if call.optional else visit.after_required_call
            call.target.handle(visit.att, callback)

    def finish(self, visit: Visit, outcome: int) -> None:
        """Release the worker first (so the next queued request starts now), then answer."""
        visit.station.release()
        visit.done(outcome)


class Service:
    """Component for ``kind: service``; direct callers are spread over replicas by ``balance``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        time_slot, error = time_and_error_slots(plan, spec.name, spec.service_time, spec.error_rate)
        self.group = StationGroup(ctx, spec.name, spec.replicas, spec.workers, spec.queue_limit,
                                  time_slot, error, spec.error_rate, [], spec.parallel)
        self.replicas = self.group.stations
        self._pick = make_picker(spec.balance, self.replicas,
                                   ctx.streams.generator(f"component.{spec.name}.balance"))
        self._only = self.replicas[0] if spec.replicas == 1 else None

    def handle(self, att, done) -> None:
        """Component protocol: serve one attempt, eventually calling ``done(outcome)``."""
        station = self._only or self._pick()
        if not station.admit(Visit(self.group, att, done, station)):
            done(REJECTED)

    def wire(self, components: dict) -> None:
        """Resolve the ``calls`` names to live components (once every component exists)."""
        self.group.calls = [Dependency(components[c.target], c.optional) for c in self.spec.calls]

    def dependencies(self) -> list[str]:
        return [c.target for c in self.spec.calls]

    @property
    def stats(self) -> GroupStats:
        return self.group.stats
