"""What a database's read replica has applied of its primary's writes, and when (issue 17).

Under ``replication: async`` a write commits at the primary when its query ends and is shipped to
every read replica; replica r applies it at ``max(when r applied the previous write, commit time +
a lag draw)``, so each replica applies the primary's writes in order (as a WAL replay does).
Nothing is scheduled per write: each replica keeps a queue of ``(apply time, key, version)`` and
applies what is due when a read asks it or a new write is shipped (:meth:`ReplicaLog.version`).
The answer is the one applying at the exact instant would give, for a deque append per write
and replica and nothing per read beyond a dict lookup.

Under ``replication: sync`` only the ordering clock ``last`` is used (:meth:`ReplicaLog.reserve`):
the write's commit waits for the slowest replica, and everyone shows it at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


class ReplicaLog:
    """One read replica's view: the version of every key it has applied, and what is on its way."""

    __slots__ = ("applied", "pending", "last")

    def __init__(self, applied: dict[int, int] | None = None, now: float = 0.0):
        self.applied: dict[int, int] = {} if applied is None else applied  # key -> version (0: absent)
        self.pending: deque = deque()  # (apply time, key, version), apply times non-decreasing
        self.last = now  # when the last write shipped to this replica is (or was) applied

    def reserve(self, due: float) -> float:
        """The time this replica applies a write that could be applied at ``due`` at the earliest:
        not before the previous one (in order)."""
        if due < self.last:
            due = self.last
        self.last = due
        return due

    def ship(self, key: int, version: int, now: float, due: float) -> None:
        """Queue a write committed at ``now`` for application at ``reserve(due)``; apply what is
        due already (so a replica nobody reads holds only the writes in flight)."""
        pending = self.pending
        if pending and pending[0][0] <= now:
            self.catch_up(now)
        pending.append((self.reserve(due), key, version))

    def catch_up(self, now: float) -> None:
        """Apply, in order, every queued write due by ``now``."""
        pending, applied = self.pending, self.applied
        while pending and pending[0][0] <= now:
            _, key, version = pending.popleft()
            applied[key] = version

    def version(self, key: int, now: float) -> int:
        """The version of ``key`` this replica holds at ``now``."""
        pending = self.pending
        if pending and pending[0][0] <= now:
            self.catch_up(now)
        return self.applied.get(key, 0)

    def forget(self, keys: set[int], latest: Callable[[int], int]) -> None:
        """A failover rolled ``keys`` back to ``latest(key)``: drop what the new primary never had
        (queued or applied), so this replica follows the new primary from there."""
        self.pending = deque(entry for entry in self.pending
                             if entry[1] not in keys or entry[2] <= latest(entry[1]))
        applied = self.applied
        for key in keys:
            if applied.get(key, 0) > latest(key):
                applied[key] = latest(key)
