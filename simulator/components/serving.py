"""How a replica serves a visit: take a worker, compute, call the dependencies, release, answer.

Two paths, mixed into :class:`~simulator.components.replica_group.ReplicaGroup`. A group that
nothing can fault and no admission layer watches runs the *plain* path: no health check, no
bookkeeping per visit, exactly the hot path that was benchmarked. A group that a fault can touch,
or whose visits pass admission layers (see :mod:`simulator.components.visit_chain`), runs the
*tracked* path (``track()`` before the run): each visit records its epoch and scheduled end and
carries its work hook, and each station keeps the visits in service, so a crash can end queued
and in-service work at once while a completion that arrives later for the old epoch is ignored.
The begin layers (shedding, dropping expired work) wrap either path's ``begin`` alike.
"""

from __future__ import annotations

from simulator.components.base import take
from simulator.components.health import Health
from simulator.components.visit import Visit, call_all
from simulator.request import ERROR, OK, REJECTED, UNAVAILABLE


class PlainPath:
    """The hot path: a visit is four stores, a timer and a release."""

    def submit(self, station, att, done) -> None:
        """Send one attempt to one replica; REJECTED at once when its queue is full."""
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
        visit.cost = d
        self._timeout(d, visit).callbacks.append(self._work_done_cb)

    def _work_done(self, event) -> None:
        visit = event.value
        if visit.att.is_settled:  # done for a caller that gave up (a timeout, a hedge that lost)
            self.wasted += visit.cost
        if self._error_slot is not None and take(visit.att.work, self._error_slot,
                                                        self._error_extra) < self.error_rate:
            self.finish(visit, ERROR)
        elif not self.calls:  # the common leaf case, finished inline (runs once per request)
            visit.station.release()
            visit.done(OK)
        elif self.parallel:
            call_all(visit, self.calls)
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

    def finish(self, visit: Visit, outcome: int) -> None:
        """Release the worker first (so the next queued request starts now), then answer."""
        visit.station.release()
        visit.done(outcome)


class TrackedPath:
    """The fault-capable path: health, epochs, visits in service, admission layers, work hooks."""

    def track(self) -> None:
        """Switch to the tracked path before the run starts: every station gets a Health record,
        and the owner is told (a service then sends its direct callers through :meth:`submit`)."""
        if self.is_tracked:
            return
        self.is_tracked = True
        self.submit = self._submit_tracked
        self.finish = self._finish_tracked
        self.call_next = self._call_next_tracked
        self._work_done_cb = self._work_done_tracked
        for station in self.replicas:
            station.health = Health()
        self._restart_stations()
        for listener in self.on_track:
            listener()

    def _submit_tracked(self, station, att, done) -> None:
        """As the plain ``submit``, after the admission layers; a dead or not yet started replica
        refuses the connection."""
        visit = Visit(self, att, done, station)
        visit.hook = None
        admission = self.chain.admission
        if admission:
            for layer in admission:
                layer(visit)
        if not station.health.accepts:
            visit.done(UNAVAILABLE)
        elif not station.admit(visit):
            visit.done(REJECTED)

    def _begin_tracked(self, visit: Visit) -> None:
        station = visit.station
        health = station.health
        d = take(visit.att.work, self._time_slot, self._time_extra)
        d = d * health.slow_factor + health.extra
        hook = visit.hook
        if hook is not None:
            d *= hook.factor
        visit.cost = d
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
        if visit.att.is_settled:
            self.wasted += visit.cost
        hook = visit.hook
        # The same draws in the same order as ever: a fault's error, the version's, the service's.
        if (health.error_rate > 0.0 and health.draw() < health.error_rate
                or hook is not None and hook.fails()
                or self._error_slot is not None
                and take(visit.att.work, self._error_slot, self._error_extra) < self.error_rate):
            self._finish_tracked(visit, ERROR)
        elif not self.calls:
            self._finish_tracked(visit, OK)
        elif self.parallel:
            call_all(visit, self.calls)
        else:
            visit.next_call = 0
            self._call_next_tracked(visit)

    def _finish_tracked(self, visit: Visit, outcome: int) -> None:
        health = visit.station.health
        if visit.dead or health.state != "up":
            self._hold(visit, self._finish_tracked, outcome)
            return
        health.active.pop(visit, None)
        visit.station.release()
        visit.done(outcome)

    def _call_next_tracked(self, visit: Visit) -> None:
        if visit.dead or visit.station.health.state != "up":
            self._hold(visit, self._call_next_tracked, None)
            return
        i = visit.next_call
        if i < len(self.calls):
            visit.next_call = i + 1
            self.calls[i].send(visit.att, visit.after_sequential_call)
        else:
            self._finish_tracked(visit, OK)

    @staticmethod
    def _hold(visit: Visit, action, argument) -> None:
        """The replica cannot answer or call now. Crashed: nothing (the caller already had its
        connection reset); hung: nothing leaves (the restart resets it); paused: on resume."""
        health = visit.station.health
        if not visit.dead and health.state == "paused":
            health.deferred.append((action, visit, argument))
