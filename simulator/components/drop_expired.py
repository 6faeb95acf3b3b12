"""Deadline-aware dequeue (``drop_expired: true`` on a service or database), a begin layer.

A worker that takes work whose client already gave up drops it instead of serving it: the
visit ends as ``timeout`` (nobody waits for it; the caller learns nothing new) and the worker is
handed on through a zero-delay event, so a long run of expired work in a queue never recurses.
Only groups that ask for it pay the check (see :mod:`simulator.components.visit_chain`).
"""

from __future__ import annotations

from simulator.request import TIMEOUT


class DropExpired:
    """The layer for one replica group, with its count of dropped visits."""

    def __init__(self, group):
        self.group = group
        self.dropped = 0
        group.chain.add_begin("drop_expired", self.layer, self.counters)

    def layer(self, station, inner):
        drop = self._drop
        return lambda visit: drop(visit) if visit.att.is_settled else inner(visit)

    def _drop(self, visit) -> None:
        self.dropped += 1
        group = self.group
        if group.is_tracked:  # the visit holds a worker: a crash meanwhile must still end it once
            visit.dead = False
            visit.epoch = visit.station.health.epoch
        group.env.timeout(0.0, visit).callbacks.append(self._dropped)

    def _dropped(self, event) -> None:
        self.group.finish(event.value, TIMEOUT)

    def counters(self) -> dict[str, int]:
        return {"dropped_expired": self.dropped}
