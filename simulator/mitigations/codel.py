"""CoDel (Controlled Delay, RFC 8289) as a plain per-queue decision, no SimPy.

CoDel looks at each request's *sojourn time* (how long it waited) when it leaves the queue. While
the sojourn stays below ``target`` nothing happens. Once it has stayed above ``target`` for a
whole ``interval``, CoDel enters its dropping state: it drops one request, then the next after
``interval / sqrt(count)``, dropping ever faster until the sojourn falls below ``target`` (or the
queue empties), when it leaves the dropping state. Re-entering soon after leaving resumes from
the previous drop rate (RFC 8289 section 5.6). Byte-based parts (MAXPACKET) do not apply here:
"the queue is nearly empty" is "the queue is empty after this dequeue".
"""

from __future__ import annotations

import math


class CoDel:
    """One queue's CoDel state; ask :meth:`should_drop` for every request leaving the queue."""

    def __init__(self, target: float, interval: float):
        self.target = target
        self.interval = interval
        self.first_above = 0.0  # when the sojourn will have been above target for an interval
        self.drop_next = 0.0
        self.count = 0
        self.last_count = 0
        self.dropping = False

    def _control_law(self, t: float) -> float:
        return t + self.interval / math.sqrt(self.count)

    def _ok_to_drop(self, now: float, sojourn: float, emptied: bool) -> bool:
        if sojourn < self.target or emptied:
            self.first_above = 0.0
            return False
        if self.first_above == 0.0:
            self.first_above = now + self.interval
            return False
        return now >= self.first_above

    def should_drop(self, now: float, sojourn: float, emptied: bool = False) -> bool:
        """Decide about the request at the head, which waited ``sojourn`` seconds; ``emptied``
        says whether the queue is empty once it has left."""
        ok = self._ok_to_drop(now, sojourn, emptied)
        if self.dropping:
            if not ok:
                self.dropping = False
                return False
            if now >= self.drop_next:
                self.count += 1
                self.drop_next = self._control_law(self.drop_next)
                return True
            return False
        if not ok:
            return False
        self.dropping = True
        delta = self.count - self.last_count
        recent = now - self.drop_next < 16 * self.interval
        self.count = delta if delta > 1 and recent else 1
        self.drop_next = self._control_law(now)
        self.last_count = self.count
        return True
