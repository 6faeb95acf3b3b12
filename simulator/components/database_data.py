"""A database's versioned data: where reads are answered, when writes commit, what a failover loses.

Made by :class:`~simulator.components.database.Database` only when a workload declares
``operations`` (the plain path is untouched). docs/consistency.md, "Databases", states the rules:

* a request's operation picks the node: reads round-robin over the read replicas (the primary
  without any), writes and increments go to the primary;
* ``replication: async`` — a write commits at the primary when its query ends (and is acknowledged
  then); each replica applies it later, in order (:mod:`simulator.components.replication`); a read
  at a replica answers the version that replica has applied;
* ``replication: sync`` — a write commits, and is acknowledged, only once every replica has
  applied it: primary and replicas show it at once, so no read is ever stale;
* a promotion after a primary failure keeps what the promoted replica had applied: under async,
  the writes still on their way to it are lost (``lost_writes``) and the ledger rolls back;
* increments follow the ``concurrency`` rule (:mod:`simulator.components.concurrency`).
"""

from __future__ import annotations

from array import array

from simulator.components.concurrency import Increment, KeyLocks
from simulator.components.replication import ReplicaLog
from simulator.data.ops import READ, WRITE
from simulator.randomness import sampler
from simulator.request import ERROR, OK

COUNTERS = ("writes", "lost_writes", "lost_updates", "cas_conflicts")


class DatabaseData:
    """The versioned side of one database: its ledger, its replicas' logs, its counters' values."""

    def __init__(self, db, ctx, spec):
        self.db = db
        self.name = spec.name
        self.env = ctx.env
        self.later = ctx.later
        self.books = ctx.data
        self.ledger = ctx.data.ledger(spec.name)
        self.read_check = ctx.data.read_check(spec.name, self.ledger)
        ctx.data.register(spec.name, *COUNTERS)
        self.sync = spec.replication == "sync"
        self._lag = sampler(spec.replication_lag,
                            ctx.streams.generator(f"component.{spec.name}.replication_lag"))
        self.cas = spec.concurrency == "cas"
        self.locks = KeyLocks() if spec.concurrency == "lock" else None
        self.logs: dict[object, ReplicaLog] = {node: ReplicaLog() for node in db.read_nodes}
        self.values: dict[int, array] = {}  # key -> its value after each version (index = version)
        # whole-run tallies, for books that must balance whatever the measured window
        self.accepted = 0  # write queries that ran to their end at the primary
        self.refused = 0  # of those, refused at the commit point (a cas conflict, the primary gone)
        self.waiting = 0  # of those, waiting for the replicas under sync
        self.lost = 0  # committed, then lost at a failover
        self.erased = 0  # lost updates, net (increments committed - sum of values)
        self.increments = 0  # increments committed (before any failover)
        self.promotions: list[tuple[float, int]] = []  # (when, writes lost)

    # --- requests -----------------------------------------------------------------------------------
    def handle(self, att, done) -> None:
        """Route one data request by its operation."""
        op = att.op
        if op == READ:
            self._read(att, done)
        elif op == WRITE:
            db = self.db
            db.group.submit(db.primary, att, _Write(self, att, done).finished)
        else:
            Increment(self, att, done).start()

    def _read(self, att, done) -> None:
        db = self.db
        node = db.next_reader() if db.read_nodes else db.primary
        db.group.submit(node, att, _Read(self, att, done, node).finished)

    def answer(self, att, node) -> None:
        """A read's query ended OK at ``node``: answer the version it holds, and judge it."""
        key = att.key
        log = None if self.sync else self.logs.get(node)
        version = self.ledger.latest(key) if log is None else log.version(key, self.env.now)
        att.version = version
        self.read_check.check(key, version)

    # --- writes -------------------------------------------------------------------------------------
    def at_commit_point(self, then) -> None:
        """A write query ended OK at the primary: call ``then(primary_alive)`` at its commit point,
        now (async, or no replica) or, under sync, once the slowest replica has applied it; False
        if the primary failed meanwhile (the write is then neither committed nor acknowledged)."""
        self.accepted += 1
        if not self.sync or not self.logs:
            then(True)
            return
        now = self.env.now
        due = max(log.reserve(now + self._lag_draw()) for log in self.logs.values())
        primary = self.db.primary
        self.waiting += 1

        def applied_everywhere(_event) -> None:
            self.waiting -= 1
            health = primary.health
            then(primary is self.db.primary and (health is None or health.state == "up"))

        self.later(due - now, applied_everywhere)

    def commit(self, key: int, value: int | None = None, erased: int = 0) -> int:
        """Commit a new version of ``key`` now holding ``value`` (None: a plain write, the value is
        unchanged); ship it to the replicas under async; returns the version."""
        now = self.env.now
        version = self.ledger.commit(key, now)
        history = self.values.get(key)
        if history is None:
            history = self.values[key] = array("q", (0,))
        history.append(history[-1] if value is None else value)
        if not self.sync:
            lag = self._lag_draw
            for log in self.logs.values():
                log.ship(key, version, now, now + lag())
        books = self.books
        books.add(self.name, "writes")
        if value is not None:
            self.increments += 1
            if erased:
                self.erased += erased
                books.add(self.name, "lost_updates", erased)
        return version

    def commit_batched(self, key: int) -> int:
        """Commit one more write of a batch whose query has just committed (a write-behind flush
        carries many writes in one query): accepted and committed at that moment, shipped to the
        replicas like any other write; returns the version."""
        self.accepted += 1
        return self.commit(key)

    def refuse(self) -> None:
        """A write that reached its commit point did not commit (a cas conflict, the primary gone)."""
        self.refused += 1

    def cas_conflict(self) -> None:
        self.refuse()
        self.books.add(self.name, "cas_conflicts")

    def value(self, key: int) -> int:
        """The key's value (its count) at the primary now."""
        history = self.values.get(key)
        return 0 if history is None else history[-1]

    def _lag_draw(self) -> float:
        lag = self._lag()
        return lag if lag > 0.0 else 0.0

    # --- membership and failover --------------------------------------------------------------------
    def joined(self, node) -> None:
        """A read replica starts serving (scaled out, or the old primary back): it starts from a
        copy of what the primary holds now, then follows it."""
        if node not in self.logs:
            self.logs[node] = ReplicaLog(self.ledger.versions(), self.env.now)

    def left(self, node) -> None:
        self.logs.pop(node, None)

    def promoted(self, node) -> int:
        """``node``, a replica, is the primary from now: what it had not applied is lost (async);
        the ledger and the values roll back to what it holds. Returns the writes lost."""
        log = self.logs.pop(node, None)
        if log is None or self.sync:
            self.promotions.append((self.env.now, 0))
            return 0
        log.catch_up(self.env.now)
        first: dict[int, int] = {}  # key -> its first version the new primary never had
        for _, key, version in log.pending:
            if key not in first:
                first[key] = version
        lost = 0
        for key, version in first.items():
            lost += self.ledger.truncate(key, version - 1)
            del self.values[key][version:]
        for other in self.logs.values():
            other.forget(set(first), self.ledger.latest)
        self.lost += lost
        self.books.add(self.name, "lost_writes", lost)
        self.promotions.append((self.env.now, lost))
        return lost


class _Read:
    """A read's continuation: once its node answered OK, the version it holds."""

    __slots__ = ("data", "att", "done", "node")

    def __init__(self, data: DatabaseData, att, done, node):
        self.data = data
        self.att = att
        self.done = done
        self.node = node

    def finished(self, outcome: int) -> None:
        if outcome == OK:
            self.data.answer(self.att, self.node)
        self.done(outcome)


class _Write:
    """A plain write's continuation: its query ended; it commits at its commit point."""

    __slots__ = ("data", "att", "done")

    def __init__(self, data: DatabaseData, att, done):
        self.data = data
        self.att = att
        self.done = done

    def finished(self, outcome: int) -> None:
        if outcome == OK:
            self.data.at_commit_point(self.committed)
        else:
            self.done(outcome)

    def committed(self, primary_alive: bool) -> None:
        if primary_alive:
            self.att.version = self.data.commit(self.att.key)
            self.done(OK)
        else:
            self.data.refuse()
            self.done(ERROR)
