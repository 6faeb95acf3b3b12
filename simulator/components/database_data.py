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
from simulator.request import OK

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
        self.sync_writes: set = set()  # attempts whose query in progress at the primary is a write
        if self.sync:  # a write holds its connection until every replica has applied it
            db.group.calls = [SyncWait(self)]
        self.values: dict[int, array] = {}  # key -> its value after each version (index = version)
        # whole-run tallies, for books that must balance whatever the measured window
        self.accepted = 0  # write queries that ran to their end at the primary
        self.refused = 0  # of those, refused at the commit point (a cas conflict, the primary gone)
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
            self.write_query(att)
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
    def write_query(self, att) -> None:
        """``att``'s next query at the primary is a write: under sync it waits for the replicas
        before it ends (:class:`SyncWait`)."""
        if self.sync:
            self.sync_writes.add(att)

    def accept(self) -> None:
        """A write query ended OK at the primary: this is its commit point (under sync the query
        itself waited, holding its connection, until every replica had applied it)."""
        self.accepted += 1

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
    """A plain write's continuation: its query ended OK at the primary, so it commits now."""

    __slots__ = ("data", "att", "done")

    def __init__(self, data: DatabaseData, att, done):
        self.data = data
        self.att = att
        self.done = done

    def finished(self, outcome: int) -> None:
        data = self.data
        data.sync_writes.discard(self.att)  # ended before its wait (an error): not marked now
        if outcome == OK:
            data.accept()
            self.att.version = data.commit(self.att.key)
        self.done(outcome)


class SyncWait:
    """Synchronous replication as the primary's last step of a write query: the query (and its
    connection, as a PostgreSQL backend waits for its standbys' acknowledgement) ends only once
    every read replica has applied the write, in order, a lag draw after the query's work.

    It sits in the database group's call list, so it runs while the connection is held; queries
    that are not writes (reads, an increment's read, other workloads' queries) pass at once. A
    primary that dies during the wait resets the query: neither committed nor acknowledged.
    """

    __slots__ = ("data",)
    optional = False

    def __init__(self, data: DatabaseData):
        self.data = data

    def send(self, att, done) -> None:
        data = self.data
        if att not in data.sync_writes or not data.logs:
            data.sync_writes.discard(att)
            done(OK)
            return
        data.sync_writes.discard(att)
        now = data.env.now
        due = max(log.reserve(now + data._lag_draw()) for log in data.logs.values())
        data.later(due - now, lambda _event: done(OK))
