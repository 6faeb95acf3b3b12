"""A visit: one request's stay at one replica, as continuation state (no SimPy process).

A visit is created when a request reaches a replica, holds a worker from the moment the station
starts it until the group's ``finish``, and in between calls the group's dependencies one after
the other or all at once. The callbacks below are where the dependencies' answers come back.
Only what every visit needs is set at creation (most visits are leaves): the call-state slots are
set when calls are made, the tracking slots (``epoch``, ``t_done``, ``dead``) and the work hook
(``hook``, see :mod:`simulator.components.visit_chain`) only on the tracked path.
"""

from __future__ import annotations

from simulator.request import DEGRADED, ERROR, OK


class Visit:
    """A request's stay at one station: the continuation state of one hop."""

    __slots__ = ("group", "att", "done", "station", "cost", "next_call", "pending", "failed",
                 "epoch", "t_done", "dead", "hook")

    def __init__(self, group, att, done, station):
        # Runs once per request per tier: four stores, nothing else.
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


def call_all(visit: Visit, calls: list) -> None:
    """Send every dependency call at once; the visit answers when the last one has answered."""
    visit.pending = len(calls)
    visit.failed = False
    for call in calls:
        callback = visit.after_optional_call if call.optional else visit.after_required_call
        call.send(visit.att, callback)
