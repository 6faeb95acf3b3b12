"""Health probes of whole entry points (a router's regions, a DNS's records): one loop for both.

Every ``interval`` each entry is probed (up while its gate is up and some replica behind it
answers); after ``unhealthy_after`` failures in a row it is believed down, after
``healthy_after`` successes believed up again, and ``on_change(index, healthy)`` is told.
"""

from __future__ import annotations

from collections.abc import Callable


class EntryProbes:
    """Believed health of a list of entry components, kept up to date by periodic probes."""

    def __init__(self, ctx, check, entries: list, on_change: Callable[[int, bool], None]):
        self.ctx = ctx
        self.check = check
        self.entries = entries
        self.on_change = on_change
        self.believed = [True] * len(entries)
        self._fails = [0] * len(entries)
        self._oks = [0] * len(entries)

    def start(self) -> None:
        """First round one interval after the start."""
        self.ctx.later(self.check.interval, self._probe_all)

    def _probe_all(self, _event=None) -> None:
        for i, entry in enumerate(self.entries):
            self._result(i, entry_is_up(entry))
        if self.ctx.env.now + self.check.interval < self.ctx.stop:
            self.ctx.later(self.check.interval, self._probe_all)

    def _result(self, i: int, ok: bool) -> None:
        if ok:
            self._fails[i], self._oks[i] = 0, self._oks[i] + 1
            flip = not self.believed[i] and self._oks[i] >= self.check.healthy_after
        else:
            self._oks[i], self._fails[i] = 0, self._fails[i] + 1
            flip = self.believed[i] and self._fails[i] >= self.check.unhealthy_after
        if flip:
            self.believed[i] = ok
            self.on_change(i, ok)


def entry_is_up(component) -> bool:
    """Whether an entry answers a probe: its gate is up, and some replica behind it answers."""
    gate = component.gate
    if gate is not None and not gate.is_up:
        return False
    target = getattr(component, "target", None)  # a balancer answers only if its service does
    group = target.group if target is not None else component.group
    if group is not None:
        return any(r.health is None or r.health.responds for r in group.replicas)
    return True
