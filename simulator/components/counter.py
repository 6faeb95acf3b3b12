"""``kind: counter`` — an approximate counter (a viral post's view count) in front of a database.

Every write request reaching it (``write`` or ``read_modify_write``) is one *increment* of its
key; a read asks for the count. Values are counts, so the counter keeps two per key: the *true*
count (its own ledger: one version per increment accepted, so a read's version is a count) and
the count the database holds (the deltas its writes committed).

* ``exact``: the increment is the request's own database write; the request waits for it and
  is accepted when the database answers OK (both counts move together: nothing to lose).
* ``batched``: the increment is added to an in-memory delta and answered at once (after
  ``hit_time``); every ``flush_interval`` one database write per key touched carries the summed
  delta. A failed flush write puts its delta back for the next flush. A ``crash`` loses the
  deltas not yet flushed (``count_lost``).

A read queries the database and answers the count it holds, judged against the true count
(``stale_reads.<counter>``: the answer misses increments; its age is the time since the true
count first exceeded the count answered). Whole-run books balance (tested): increments
accepted = flushed + lost + pending in memory + in flight to the database.
"""

from __future__ import annotations

from simulator.components.base import Component, dist_factory, take
from simulator.components.edge import CallEdge
from simulator.data.ops import READ, WRITE
from simulator.request import OK, Attempt


class CounterStats:
    """Over the window: ``count_error``, the share of the increments accepted since the start that
    the database did not hold at the end of the measured window (NaN without increments)."""

    def __init__(self, owner: Counter):
        self.owner = owner

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"pending": float(self.owner.pending_total())}

    def mark_warmup(self, now: float) -> None:
        pass

    def window(self, now: float) -> dict[str, float]:
        owner = self.owner
        true = owner.accepted
        if not true:
            return {"count_error": float("nan")}
        return {"count_error": (true - owner.in_database) / true}


class _Increment:
    """Exact mode: an increment's database write; accepted when the database answers OK."""

    __slots__ = ("counter", "key", "done")

    def __init__(self, counter: Counter, key: int, done):
        self.counter = counter
        self.key = key
        self.done = done

    def after_backend(self, outcome: int) -> None:
        if outcome == OK:
            self.counter._accept(self.key)
            self.counter._stored(self.key, 1)
        self.done(outcome)


class _Read:
    """A read of the count: answered with what the database holds when it answers."""

    __slots__ = ("counter", "att", "done")

    def __init__(self, counter: Counter, att, done):
        self.counter = counter
        self.att = att
        self.done = done

    def after_backend(self, outcome: int) -> None:
        if outcome == OK:
            counter, att = self.counter, self.att
            count = counter.db_count.get(att.key, 0)
            att.version = count
            counter.read_check.check(att.key, count)
        self.done(outcome)


class _Flush:
    """Batched mode: one flush write of ``delta`` increments of ``key``."""

    __slots__ = ("counter", "key", "delta", "generation")

    def __init__(self, counter: Counter, key: int, delta: int):
        self.counter = counter
        self.key = key
        self.delta = delta
        self.generation = counter.generation

    def after_backend(self, outcome: int) -> None:
        counter = self.counter
        counter.in_flight -= self.delta
        if outcome == OK:
            counter._stored(self.key, self.delta)
            counter.flushed += self.delta
        elif self.generation == counter.generation:  # retried with the next flush
            counter.pending[self.key] = counter.pending.get(self.key, 0) + self.delta
        else:  # the counter crashed while the write was out: nobody holds the delta any more
            counter._lose(self.delta)


class Counter(Component):
    """Component for ``kind: counter``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._later = ctx.scheduler()
        self._time_slot = plan.slot(spec.name, "time", dist_factory(spec.hit_time))
        self._plan = plan
        self._flush_work = None  # the flush writes' work draws, made at the first flush
        self.batched = spec.mode == "batched"
        self.backend = None  # wired by the builder once every component exists
        self.db_count: dict[int, int] = {}  # key -> increments the database holds
        self.pending: dict[int, int] = {}  # batched: key -> increments not yet flushed
        self.accepted = self.flushed = self.lost = self.in_flight = 0  # whole run, increments
        self.increments = self.db_writes = 0  # whole run: increments received, database writes sent
        self.in_database = 0  # increments the database holds, all keys
        self.generation = 0  # bumped by each crash: a flush answered after one finds nobody to tell
        self.stats = CounterStats(self)
        data = ctx.data
        if data is not None:  # else no workload reaches the counter (checked at load)
            self.data = data
            self.truth = data.ledger(spec.name)
            self.read_check = data.read_check(spec.name, self.truth)
            data.register(spec.name, "writes", "writes_saved", "count_lost")

    def handle(self, att, done) -> None:
        """Component protocol: the in-memory step, then count, flush-buffer or read."""
        self._later(take(att.work, *self._time_slot), self._after_step, (att, done, self.generation))

    def _after_step(self, event) -> None:
        att, done, generation = event.value
        if generation != self.generation:
            return  # the counter crashed meanwhile: the gate has reset the call, nothing was counted
        if att.op == READ:
            self.backend.send(att, _Read(self, att, done).after_backend)
            return
        self.increments += 1
        self.data.add(self.name, "writes_saved")
        if self.batched:
            self._accept(att.key)
            self.pending[att.key] = self.pending.get(att.key, 0) + 1
            done(OK)
            return
        self._sent()
        self.backend.send(att, _Increment(self, att.key, done).after_backend)

    def _accept(self, key: int) -> None:
        """An increment is accepted: the true count moves."""
        self.truth.commit(key, self.ctx.env.now)
        self.accepted += 1
        self.data.add(self.name, "writes")

    def _stored(self, key: int, delta: int) -> None:
        """The database committed ``delta`` more increments of ``key``."""
        self.db_count[key] = self.db_count.get(key, 0) + delta
        self.in_database += delta

    def _sent(self) -> None:
        self.db_writes += 1
        self.data.add(self.name, "writes_saved", -1)

    def _lose(self, n: int) -> None:
        self.lost += n
        self.data.add(self.name, "count_lost", n)

    def flush(self, _event=None) -> None:
        """Write every key's pending delta (one write per key, in first-touched order), then
        schedule the next flush."""
        self._later(self.spec.flush_interval, self.flush)
        if not self.pending:
            return
        if self._flush_work is None:
            self._flush_work = self._plan.drawer(self.name, [self.spec.backend],
                                                 prefix=f"component.{self.name}.flush")
        pending, self.pending = self.pending, {}
        now = self.ctx.env.now
        for key, delta in pending.items():
            att = Attempt(-1, now, 1, self._flush_work(), None)
            att.op, att.key, att.version = WRITE, key, -1
            self.in_flight += delta
            self._sent()
            self.backend.send(att, _Flush(self, key, delta).after_backend)

    def lose_contents(self) -> int:
        """A crash: the deltas held in memory are gone (``count_lost``). Returns the increments lost."""
        self.generation += 1
        lost = sum(self.pending.values())
        self.pending = {}
        if lost:
            self._lose(lost)
        return lost

    def pending_total(self) -> int:
        return sum(self.pending.values())

    def wire(self, components: dict) -> None:
        """Resolve the backend name to a call edge ``counter->backend``."""
        self.backend = CallEdge(self.name, components[self.spec.backend])

    @property
    def edges(self) -> list[CallEdge]:
        return [self.backend]

    def start(self) -> None:
        """Batched: the flush clock (the first flush one interval after the start)."""
        if self.batched and self.ctx.data is not None:
            self._later(self.spec.flush_interval, self.flush)
