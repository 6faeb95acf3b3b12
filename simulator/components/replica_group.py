"""A replica group: the stations of one component (service replicas, database nodes) and their life.

Work on a station: a request takes a worker, computes for its own service time, then (still holding
the worker, as a synchronous RPC handler does) calls its dependencies in sequence or in parallel,
and answers. The group also owns the replicas' life cycle: replicas are added, drained and
removed at run time (``scale_to``), and each can crash, hang, pause or slow down.

Two paths share this code. A group that nothing can fault runs the *plain* path: no health check,
no bookkeeping per visit, exactly the hot path that was benchmarked. A group that a fault can
touch is built *tracked* (``track()`` before the run): each visit records its epoch and scheduled
end, and each station keeps the set of visits in service, so a crash can end queued and in-service
work at once while any completion that arrives later for the old epoch is ignored. Time integrals
stay exact across every change, and replicas that left keep theirs (see :class:`GroupStats`).
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.components.base import take
from simulator.components.health import Health
from simulator.components.station import Station
from simulator.request import DEGRADED, ERROR, OK, REJECTED, TIMEOUT, UNAVAILABLE


class Visit:
    """A request's stay at one station: the continuation state of one hop (no SimPy process)."""

    __slots__ = ("group", "att", "done", "station", "next_call", "pending", "failed",
                 "epoch", "t_done", "dead", "new")

    def __init__(self, group: ReplicaGroup, att, done, station: Station):
        # Only what every visit needs; the call-state and tracking slots are set when used (most
        # visits are leaves and never touch them, and this runs once per request per tier).
        self.group = group
        self.att = att
        self.done = done
        self.station = station

    def after_sequential_call(self, outcome: int) -> None:
        """A sequential dependency answered: fail fast if it was required, else go on."""
        group = self.group
        if outcome != OK and not group.calls[self.next_call - 1].optional:
            if outcome == DEGRADED:
                self.degrade()
                group.call_next(self)
            else:
                group.finish(self, ERROR)
        else:
            group.call_next(self)

    def after_required_call(self, outcome: int) -> None:
        """A parallel required dependency answered; answer once all have."""
        if outcome != OK:
            if outcome == DEGRADED:
                self.degrade()
            else:
                self.failed = True
        self._count_down()

    def degrade(self) -> None:
        """A required call got a fallback's answer: carry on, but answer ``degraded`` instead of
        ``ok`` (the answer is swapped here, off the hot path, rather than checked on every visit)."""
        done = self.done
        self.done = lambda outcome: done(DEGRADED if outcome == OK else outcome)

    def after_optional_call(self, outcome: int) -> None:
        """A parallel optional dependency answered; its failure does not fail the request."""
        self._count_down()

    def _count_down(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.group.finish(self, ERROR if self.failed else OK)


class ReplicaGroup:
    """Stations sharing one spec: draw work, hold a worker, call dependencies, release, answer."""

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
        self.release = None  # a new version rolling out (see install_release)
        self.wasted = 0.0  # server-seconds of work begun for callers that had already given up
        self._work_done_cb = self._work_done
        self._next_index = 0
        self.replicas: list[Station] = []  # live: serving or starting; balancers route over their own view
        self.retired: list[Station] = []  # replicas that left; their integrals still count
        self.listeners: list[Callable[[str, Station], None]] = []  # ("up" | "gone", replica)
        self.keep: Callable[[Station], bool] | None = None  # replicas scaling must never remove
        for _ in range(replicas):
            self.replicas.append(self._new_station())
        self.stats = GroupStats(self)

    # --- routing entry --------------------------------------------------------------------------
    def submit(self, station: Station, att, done) -> None:
        """Send one attempt to one replica; REJECTED at once when its queue is full."""
        if not station.admit(Visit(self, att, done, station)):
            done(REJECTED)

    def _submit_tracked(self, station: Station, att, done) -> None:
        """As :meth:`submit`, but a dead or not yet started replica refuses the connection."""
        if not station.health.accepts:
            done(UNAVAILABLE)
        elif not station.admit(Visit(self, att, done, station)):
            done(REJECTED)

    # --- plain path (nothing can fault this group) ------------------------------------------------
    def _begin(self, visit: Visit) -> None:
        """A worker is now held for ``visit``: spend the request's own service time."""
        work = visit.att.work
        i = self._time_slot
        d = work[i]
        if d < 0.0:
            d = self._time_extra()
        else:
            work[i] = -1.0
        if visit.att.is_settled:
            self.wasted += d
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
        self.calls[i].send(visit.att, visit.after_sequential_call)

    def _call_all(self, visit: Visit) -> None:
        visit.pending = len(self.calls)
        visit.failed = False
        for call in self.calls:
            callback = visit.after_optional_call if call.optional else visit.after_required_call
            call.send(visit.att, callback)

    def finish(self, visit: Visit, outcome: int) -> None:
        """Release the worker first (so the next queued request starts now), then answer."""
        visit.station.release()
        visit.done(outcome)

    # --- deadline-aware dequeue (``drop_expired``) -----------------------------------------------
    def drop_expired(self) -> None:
        """From now on a worker that takes work whose client already gave up drops it instead of
        serving it. Only groups that ask for it pay the check; the worker is handed on through a
        zero-delay event, so a long run of expired work in a queue never recurses."""
        self.dropped_expired = 0
        plain, tracked = self._begin, self._begin_tracked
        self._begin = lambda visit: self._drop(visit) if visit.att.is_settled else plain(visit)
        self._begin_tracked = lambda visit: self._drop(visit) if visit.att.is_settled else tracked(visit)
        for station in self.replicas:
            station.start = self._begin_tracked if self.is_tracked else self._begin

    def _drop(self, visit: Visit) -> None:
        self.dropped_expired += 1
        if self.is_tracked:
            visit.dead = False
            visit.epoch = visit.station.health.epoch
        self._timeout(0.0, visit).callbacks.append(self._dropped)

    def _dropped(self, event) -> None:
        self.finish(event.value, TIMEOUT)  # nobody waits for it; the caller learns nothing new

    # --- releases (a new version rolling out: ``kind: deployment``) ------------------------------
    def install_release(self, release) -> None:
        """Before the run: from now on each arriving request is routed to the new version with
        probability ``release.weight`` (a traffic split, as a service mesh does for a canary).
        Its own work then takes ``release.factor`` times as long and fails with
        ``release.error_rate``; ``release.watch`` sees every answer, for the analysis."""
        self.track()
        self.release = release
        self.submit = self._submit_released

    def _submit_released(self, station: Station, att, done) -> None:
        release = self.release
        new = release.route()
        done = release.watch(new, done)
        if not station.health.accepts:
            done(UNAVAILABLE)
            return
        visit = Visit(self, att, done, station)
        visit.new = new
        if not station.admit(visit):
            done(REJECTED)

    # --- tracked path (a fault can touch this group) -----------------------------------------------
    def track(self) -> None:
        """Switch to the tracked path before the run starts: every station gets a Health record."""
        if self.is_tracked:
            return
        self.is_tracked = True
        self.submit = self._submit_tracked
        self.finish = self._finish_tracked
        self.call_next = self._call_next_tracked
        self._work_done_cb = self._work_done_tracked
        for station in self.replicas:
            self._attach(station)

    def _attach(self, station: Station) -> None:
        station.health = Health()
        station.start = self._begin_tracked

    def _begin_tracked(self, visit: Visit) -> None:
        station = visit.station
        health = station.health
        work = visit.att.work
        i = self._time_slot
        d = work[i]
        if d < 0.0:
            d = self._time_extra()
        else:
            work[i] = -1.0
        d = d * health.slow_factor + health.extra
        if self.release is not None and visit.new:
            d *= self.release.factor
        if visit.att.is_settled:
            self.wasted += d
        visit.epoch = health.epoch
        visit.dead = False
        visit.t_done = self.env.now + d
        health.active[visit] = None
        self._timeout(d, visit).callbacks.append(self._work_done_cb)

    def _work_done_tracked(self, event) -> None:
        visit = event.value
        health = visit.station.health
        if visit.dead or visit.epoch != health.epoch:
            return  # crashed, hung or paused since: that timer is void
        visit.t_done = -1.0  # the own work is done; from here on the visit waits for calls
        if health.error_rate > 0.0 and health.draw() < health.error_rate:
            self._finish_tracked(visit, ERROR)
        elif self.release is not None and visit.new and self.release.fails():
            self._finish_tracked(visit, ERROR)
        elif self._error_slot is not None and take(visit.att.work, self._error_slot,
                                                          self._error_extra) < self.error_rate:
            self._finish_tracked(visit, ERROR)
        elif not self.calls:
            self._finish_tracked(visit, OK)
        elif self.parallel:
            self._call_all(visit)
        else:
            visit.next_call = 0
            self._call_next_tracked(visit)

    def _finish_tracked(self, visit: Visit, outcome: int) -> None:
        if visit.dead:
            return  # the replica crashed: the caller already had its connection reset
        health = visit.station.health
        if health.state != "up":
            if health.state == "paused":
                health.deferred.append((self._finish_tracked, visit, outcome))
            return  # hung: the answer never leaves; the restart resets the connection
        health.active.pop(visit, None)
        visit.station.release()
        visit.done(outcome)

    def _call_next_tracked(self, visit: Visit) -> None:
        if visit.dead:
            return  # a dead process makes no more calls
        health = visit.station.health
        if health.state != "up":
            if health.state == "paused":
                health.deferred.append((self._call_next_tracked, visit, None))
            return
        i = visit.next_call
        if i == len(self.calls):
            self._finish_tracked(visit, OK)
            return
        visit.next_call = i + 1
        self.calls[i].send(visit.att, visit.after_sequential_call)

    # --- life cycle -------------------------------------------------------------------------------
    def _new_station(self) -> Station:
        index = self._next_index
        self._next_index += 1
        station = Station(f"{self.name}/{index}", self.env, self.workers, self.queue_limit,
                          self._begin, index)
        if self.is_tracked:
            self._attach(station)
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


class GroupStats:
    """Gauges and windowed summaries over every replica that ever served in the group."""

    def __init__(self, group: ReplicaGroup):
        self.group = group
        self._last = (0.0, 0.0)  # (busy, capacity) worker-seconds at the previous sample
        self._mark: tuple[float, float, float, float] | None = None
        self._wasted_mark = 0.0
        self._dropped_mark = 0

    def _stations(self) -> list[Station]:
        return [*self.group.replicas, *self.group.retired]

    def _areas(self) -> tuple[float, float, float]:
        busy = queued = capacity = 0.0
        for s in self._stations():
            b, q = s.areas()
            busy += b
            queued += q
            capacity += s.capacity_area()
        return busy, queued, capacity

    def sample(self, now: float, interval: float) -> dict[str, float]:
        """Gauges now: queue (all replicas), busy, in flight, replicas, utilisation over the interval."""
        busy_area, _, capacity_area = self._areas()
        d_busy, d_cap = busy_area - self._last[0], capacity_area - self._last[1]
        self._last = (busy_area, capacity_area)
        live = self.group.replicas
        return {
            "queue": float(sum(len(s.queue) for s in live)),
            "busy": float(sum(s.busy for s in live)),
            "in_flight": float(sum(s.in_flight for s in live)),
            "utilization": d_busy / d_cap if d_cap > 0 else 0.0,
            "replicas": float(len(live)),
        }

    def mark_warmup(self, now: float) -> None:
        """Start the measurement window: snapshot integrals, restart queue maxima."""
        busy, queued, capacity = self._areas()
        self._mark = (now, busy, queued, capacity)
        self._wasted_mark = self.group.wasted
        self._dropped_mark = getattr(self.group, "dropped_expired", 0)
        for s in self.group.replicas:
            s.reset_queue_max()

    def window(self, now: float) -> dict[str, float]:
        """Over the measurement window: instance-seconds (cost: replicas that exist, starting ones
        included, integrated over time) and their mean, utilization (busy over available
        worker-seconds), queue_mean (all replicas together), queue_max (worst single queue),
        wasted work."""
        t0, busy0, queued0, cap0 = self._mark or (0.0, 0.0, 0.0, 0.0)
        busy, queued, capacity = self._areas()
        span = now - t0
        if span <= 0:
            return {}
        instance_seconds = sum(max(0.0, min(now, s.t_removed if s.t_removed is not None else now)
                                   - max(t0, s.t_created)) for s in self._stations())
        return {
            "instance_seconds": instance_seconds,
            "replicas_mean": instance_seconds / span,
            "utilization": (busy - busy0) / (capacity - cap0) if capacity > cap0 else 0.0,
            "queue_mean": (queued - queued0) / span,
            "queue_max": float(max(s.queue_max for s in self._stations())),
            "wasted_work": self.group.wasted - self._wasted_mark,
            **({"dropped_expired": self.group.dropped_expired - self._dropped_mark}
               if hasattr(self.group, "dropped_expired") else {}),
        }
