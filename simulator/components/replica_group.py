"""A replica group: the stations of one component (service replicas, database nodes) and their life.

The group owns the replicas' life cycle: replicas are added, drained and removed at run time
(``scale_to``), and each can crash, hang, pause or slow down. How a replica serves a visit lives in
:mod:`simulator.components.serving` (the plain and the tracked path, mixed in here); what else a
replica does when it takes work (shed, drop expired work, split between release versions) is the
group's chain of visit layers, :mod:`simulator.components.visit_chain`, installed by mitigations;
the statistics are :class:`~simulator.components.group_stats.GroupStats`.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.components.group_stats import GroupStats
from simulator.components.health import Health
from simulator.components.serving import PlainPath, TrackedPath
from simulator.components.station import Station
from simulator.components.visit_chain import VisitChain
from simulator.request import ERROR


class ReplicaGroup(PlainPath, TrackedPath):
    """Stations sharing one spec, their life cycle, their visit chain and their statistics."""

    def __init__(self, ctx, name: str, replicas: int, workers: int, queue_limit: int | None,
                 time_slot: tuple[int, object], error: tuple[int, object] | None, error_rate: float,
                 calls: list, parallel: bool):
        self.name = name
        self.ctx = ctx
        self.env = ctx.env
        self._timeout = ctx.env.timeout
        self.workers = workers
        self.queue_limit = queue_limit
        self._time_slot, self._time_extra = time_slot
        self._error_slot, self._error_extra = error if error else (None, None)
        self.error_rate = error_rate
        self.calls = calls
        self.parallel = parallel
        self.is_tracked = False
        self.chain = VisitChain(self._chain_changed)
        self.on_track: list[Callable[[], None]] = []  # the owner's entry follows the group's path
        self.wasted = 0.0  # server-seconds of work completed for callers that had already given up
        self._work_done_cb = self._work_done
        self._next_index = 0
        self.replicas: list[Station] = []  # live: serving or starting; balancers route over their own view
        self.retired: list[Station] = []  # replicas that left; their integrals still count
        self.listeners: list[Callable[[str, Station], None]] = []  # ("up" | "gone", replica)
        self.keep: Callable[[Station], bool] | None = None  # replicas scaling must never remove
        for _ in range(replicas):
            self.replicas.append(self._new_station())
        self.stats = GroupStats(self)

    # --- the visit chain --------------------------------------------------------------------------
    def _chain_changed(self) -> None:
        """A layer was installed: admission layers need the tracked path (every visit is made by
        :meth:`submit`); begin layers are rebuilt around either path's begin."""
        if self.chain.admission and not self.is_tracked:
            self.track()  # which restarts the stations
        else:
            self._restart_stations()

    def _restart_stations(self) -> None:
        for station in self.replicas:
            station.start = self._start_for(station)

    def _start_for(self, station: Station) -> Callable:
        """The station's begin (plain: the group's own method, as benchmarked) inside the layers."""
        return self.chain.start_for(station, self._begin_tracked if self.is_tracked else self._begin)

    # --- life cycle -------------------------------------------------------------------------------
    def _new_station(self) -> Station:
        index = self._next_index
        self._next_index += 1
        station = Station(f"{self.name}/{index}", self.env, self.workers, self.queue_limit,
                          self._begin, index)
        if self.is_tracked:
            station.health = Health()
        station.start = self._start_for(station)
        return station

    def add_replica(self, startup: float = 0.0) -> Station:
        """A new replica: it joins at once but serves (and is announced) only after ``startup``."""
        station = self._new_station()
        self.replicas.append(station)
        if startup > 0.0:
            self.track()
            station.health.state = "starting"
            station.set_workers(0)
            self.ctx.later(startup, lambda _: self._ready(station))
        else:
            self._announce("up", station)
        return station

    def _ready(self, station: Station, announce: bool = True) -> None:
        """The replica serves from now on. A new one is announced (it registers, as a pod that
        turns ready joins its endpoints); a restarted one is not: balancers that had dropped it
        learn of its return through their health checks."""
        if station.health.state == "starting" and station.t_removed is None:  # not scaled in meanwhile
            station.health.state = "up"
            station.set_workers(self.workers)
            if announce:
                self._announce("up", station)

    def remove_replica(self, station: Station) -> None:
        """Scale in: deregister at once, finish what is queued and in service, then retire."""
        self._announce("gone", station)
        station.t_removed = self.env.now
        self.replicas.remove(station)
        self.retired.append(station)
        self._retire_when_idle(station)

    def _retire_when_idle(self, station: Station) -> None:
        if station.busy or station.queue:
            self.ctx.later(1.0, lambda _: self._retire_when_idle(station))
        else:
            station.retire()

    def removable(self) -> list[Station]:
        """Replicas that scaling in may remove: all but those ``keep`` protects (a database's primary)."""
        keep = self.keep
        return list(self.replicas) if keep is None else [s for s in self.replicas if not keep(s)]

    def scale_to(self, n: int, startup: float = 0.0) -> None:
        """Grow (new replicas after ``startup``) or shrink (newest removable replicas drained first)
        to ``n``, or as close as the protected replicas allow."""
        while len(self.replicas) < n:
            self.add_replica(startup)
        while len(self.replicas) > n:
            candidates = self.removable()
            if not candidates:
                break
            self.remove_replica(candidates[-1])

    def _announce(self, change: str, station: Station) -> None:
        for listener in self.listeners:
            listener(change, station)

    # --- faults (tracked groups only) ------------------------------------------------------------
    def crash(self, station: Station) -> None:
        """The process dies: queued and in-service work ends now as ERROR (connection reset)."""
        health = station.health
        health.state = "down"
        self._reset(station)
        station.set_workers(0)

    def hang(self, station: Station) -> None:
        """Deadlock: connections are accepted and queued, nothing completes, nobody is told."""
        health = station.health
        if health.state in ("down", "starting"):
            return  # a dead process cannot hang (and must keep refusing connections)
        health.state = "hung"
        health.epoch += 1  # the timers of work in service will never complete it
        station.set_workers(0)

    def pause(self, station: Station) -> None:
        """Stop the world: nothing progresses, nothing is lost; see :meth:`resume`."""
        health = station.health
        if health.state != "up":
            return  # dead, starting or hung: nothing runs that a pause could stop
        health.state = "paused"
        health.epoch += 1  # the running timers are void; the remaining work is rescheduled on resume
        now = self.env.now
        health.paused_work = [(v, v.t_done - now) for v in health.active if v.t_done >= 0.0]
        station.set_workers(0)

    def resume(self, station: Station) -> None:
        """After a pause: work in service continues for its remaining time, deferred answers go on."""
        health = station.health
        if health.state != "paused":
            return  # a crash or hang during the pause took over: its own end brings the replica back
        health.state = "up"
        now = self.env.now
        work, health.paused_work = health.paused_work, []
        for visit, remaining in work:
            visit.epoch = health.epoch
            visit.t_done = now + remaining
            self._timeout(remaining, visit).callbacks.append(self._work_done_cb)
        deferred, health.deferred = health.deferred, []
        for action, visit, outcome in deferred:
            if outcome is None:
                action(visit)
            else:
                action(visit, outcome)
        station.set_workers(self.workers)

    def restart(self, station: Station, startup: float = 0.0) -> None:
        """Bring a crashed or hung replica back empty (a hung one resets its connections first)."""
        health = station.health
        if health.state == "hung":
            self._reset(station)
        health.state = "starting"
        if startup > 0.0:
            self.ctx.later(startup, lambda _: self._ready(station, announce=False))
        else:
            self._ready(station, announce=False)

    def _reset(self, station: Station) -> None:
        """End everything on the station with ERROR now; late timers for it are ignored."""
        health = station.health
        health.epoch += 1
        jobs, _ = station.clear()
        victims = [*health.active, *jobs]
        health.active.clear()
        health.deferred.clear()
        health.paused_work = []
        for visit in victims:
            visit.dead = True
            visit.done(ERROR)

    def set_capacity(self, station: Station, workers: int) -> None:
        """A noisy neighbour: the replica serves with ``workers`` workers from now on."""
        station.set_workers(workers)
