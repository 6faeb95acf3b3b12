"""Read-modify-write on a database: an increment as two queries, and the ``concurrency`` rule.

An increment (``operations: {read_modify_write: true}``) is a read query then a write query, both
on the primary, each holding a connection for its own query time. Between them the key's *value*
(the count, kept apart from its version) may change under it:

* ``none`` — the write stores what it read plus one, whatever happened meanwhile: the increments
  committed since its read are erased (``lost_updates``);
* ``cas`` — the write commits only if the key's version is still the one it read (compare-and-set,
  decided at the commit point); else ``cas_conflicts`` + 1 and the increment starts over (read
  again, write again), until it commits, its caller has given up, or :data:`MAX_TRIES` attempts;
* ``lock`` — a lock per key is held from before the read until the commit; increments of one key
  queue for it first come, first served (the wait is latency), so none is ever lost.

Plain reads and writes take no lock and never conflict: a plain write overwrites.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from simulator.request import ERROR, OK

MAX_TRIES = 100
"""Compare-and-set attempts of one increment before it gives up with ``error`` (guards against a
livelock; a caller's timeout usually ends it much sooner)."""


class KeyLocks:
    """One FIFO lock per key, made on first use and dropped when free."""

    __slots__ = ("held", "_handing", "_freed")

    def __init__(self):
        self.held: dict[int, deque] = {}  # key -> grants waiting for it (present while held)
        self._handing: int | None = None  # the key being handed on (see release)
        self._freed = False

    def acquire(self, key: int, grant: Callable[[], bool]) -> None:
        """Call ``grant()`` when the lock of ``key`` is ours (now if it is free). ``grant`` returns
        False when its increment no longer wants it (its caller gave up while it waited)."""
        waiting = self.held.get(key)
        if waiting is not None:
            waiting.append(grant)
            return
        self.held[key] = deque()
        if not grant():
            self.release(key)

    def release(self, key: int) -> None:
        """Hand the lock of ``key`` to the oldest waiter that still wants it, or free it.

        A waiter's increment can end inside its grant (its query refused at once by a full
        queue) and release again: that inner release only flags it, and this loop hands the lock
        on, so a long queue of refusals cannot nest calls."""
        if self._handing == key:
            self._freed = True
            return
        waiting = self.held[key]
        outer = self._handing
        self._handing = key
        try:
            while waiting:
                self._freed = False
                if waiting.popleft()() and not self._freed:
                    return
            del self.held[key]
        finally:
            self._handing = outer


class Increment:
    """One increment's way through the primary: (lock,) read, write, commit point, (unlock)."""

    __slots__ = ("data", "att", "done", "read_version", "read_value", "tries", "locked")

    def __init__(self, data, att, done):
        self.data = data  # simulator.components.database_data.DatabaseData
        self.att = att
        self.done = done
        self.read_version = 0
        self.read_value = 0
        self.tries = 0
        self.locked = False

    def start(self) -> None:
        locks = self.data.locks
        if locks is None:
            self._read()
        else:
            locks.acquire(self.att.key, self._granted)

    def _granted(self) -> bool:
        if self.att.is_settled:  # its client gave up while it queued for the lock
            self.done(ERROR)
            return False
        self.locked = True
        self._read()
        return True

    def _read(self) -> None:
        db = self.data.db
        db.group.submit(db.primary, self.att, self._read_done)

    def _read_done(self, outcome: int) -> None:
        if outcome != OK:
            self._finish(outcome)
            return
        data, key = self.data, self.att.key
        self.read_version = data.ledger.latest(key)
        self.read_value = data.value(key)
        db = data.db
        data.write_query(self.att)
        db.group.submit(db.primary, self.att, self._write_done)

    def _write_done(self, outcome: int) -> None:
        self.data.sync_writes.discard(self.att)
        if outcome != OK:
            self._finish(outcome)
        else:
            self.data.accept()
            self._commit_point()

    def _commit_point(self) -> None:
        """The write is to commit now: compare (cas), store read value + 1, count what it erased."""
        data, att = self.data, self.att
        if data.cas and data.ledger.latest(att.key) != self.read_version:
            data.cas_conflict()
            self.tries += 1
            if att.is_settled or self.tries >= MAX_TRIES:
                self._finish(ERROR)
            else:
                self._read()
            return
        erased = data.value(att.key) - self.read_value
        att.version = data.commit(att.key, self.read_value + 1, erased)
        self._finish(OK)

    def _finish(self, outcome: int) -> None:
        if self.locked:
            self.locked = False
            self.data.locks.release(self.att.key)
        self.done(outcome)
