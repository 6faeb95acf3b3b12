"""A cache holding versioned data: what it answers, what a write does to it, and what a crash loses.

Installed on a :class:`~simulator.components.cache.Cache` only when some workload has
``operations`` (``ctx.data``); requests of workloads without them still take the plain path.
The store decides presence and expiry as before; a parallel dict remembers the *version* of each
key the cache holds, set at every fill, so a hit answers with it and is checked against the
database's ledger at that moment (docs/consistency.md, "Caches", states every rule below).

- reads: a hit answers the version held; a miss asks the backend (the database sets
  ``att.version``), fills with it (``read_through``) or lets the caller fill one ``hit_time``
  later (``cache_aside``: the fill may install a version a write superseded meanwhile), and
  answers it. Every answer is checked at the moment the cache path answers.
- writes: ``write_around`` sends them to the backend (``invalidate: on_write`` drops the key once
  committed), ``write_through`` also stores the committed version, ``write_behind`` buffers them,
  answers at once and flushes every ``flush_interval`` (:class:`_Flush`).
- ``invalidate: events``: the database's ledger calls back on every commit and the cache drops
  the key ``invalidation_delay`` later.
- a crash loses the entries and the unflushed writes (``lost_writes.<cache>``).
"""

from __future__ import annotations

from simulator.components.base import take
from simulator.data.ops import READ, WRITE
from simulator.request import DEGRADED, ERROR, OK, Attempt
from simulator.scenario.references import callees


class CacheData:
    """The versioned paths of one cache (its ``handle`` while data is on)."""

    def __init__(self, cache, ctx, spec):
        self.cache = cache
        self.name = spec.name
        self.env = ctx.env
        self.recorder = ctx.recorder
        self.books = ctx.data
        self.store = cache.store
        self.own_keys = spec.keys is not None
        self.write_policy = spec.write_policy
        self.cache_aside = spec.read_path == "cache_aside"
        self.on_write = spec.invalidate == "on_write"
        self.events = spec.invalidate == "events"
        self.invalidation_delay = float(spec.invalidation_delay or 0.0)
        self.versions: dict[int, int] = {}  # key -> version the cache holds (valid while the store has it)
        self.pending: dict[int, int] = {}  # write-behind: key -> writes buffered or being flushed
        self.buffer: list = []  # write-behind: (key, attempt) in the order accepted
        self.epoch = 0  # incarnation: bumped by each crash, so work of a dead cache is dropped
        # whole-run write-behind books (conservation): accepted = flushed + lost + buffered + flushing
        self.accepted = self.flushed = self.lost = self.flushing = 0
        self.flushes: list[float] = []  # times flushes took their batches (a crash loses what came after)
        self.ledger = self.check = self.database = None  # the database's, found when wired
        self.db_name = ""
        self._fetching: dict[int, _DataFetch] = {}
        self.books.register(self.name, "writes", "lost_writes")  # lost: write-behind only, 0 otherwise
        if self.write_policy == "write_behind":
            self.flush_interval = float(spec.flush_interval)
            self.flush_batch = spec.effective_flush_batch
            ctx.later(self.flush_interval, self._tick)
        cache.handle = self.handle

    def wire(self, components: dict) -> None:
        """Find the database behind the backend: its ledger is the truth answers are checked against."""
        seen, todo = set(), [self.cache.spec.backend]
        while todo:  # breadth first over the specs' call edges (other components may not be wired yet)
            name = todo.pop(0)
            component = components[name]
            if getattr(component, "ledger", None) is not None:
                self.ledger, self.db_name = component.ledger, name
                self.database = component.data  # commits a flushed batch's other writes
                break
            if name not in seen:
                seen.add(name)
                todo.extend(callees(component.spec))
        if self.ledger is None:
            raise ValueError(f"cache '{self.name}' has no database behind it to hold its data")
        self.check = self.books.read_check(self.name, self.ledger)
        plain_fill = self.cache._fill
        ledger, versions = self.ledger, self.versions

        def fill(key: int) -> None:  # a plain request's fill holds what the database has now
            plain_fill(key)
            versions[key] = ledger.latest(key)

        self.cache._fill = fill
        self._plain_fill = plain_fill
        if self.events:
            self.ledger.subscribe(self._changed)
        for key in list(self.cache.store._expiry):  # warm entries: version 0, as committed before the run
            versions[key] = 0

    # entry

    def handle(self, att, done) -> None:
        """The cache's ``handle``: requests without an operation take the plain path."""
        cache = self.cache
        op = getattr(att, "op", None)
        if op is None:
            type(cache).handle(cache, att, done)
            return
        if self.own_keys:
            att.key = int(take(att.work, *cache._key_slot))  # the cache's key wins: the backend sees it
        delay = take(att.work, *cache._time_slot)
        cache.in_flight += 1
        step = self._read if op == READ else self._write
        if delay > 0.0:
            cache._later(delay, self._after_lookup, (step, att, done, self.epoch))
        else:
            step(att, done)

    def _after_lookup(self, event) -> None:
        step, att, done, epoch = event.value
        if epoch != self.epoch:  # the cache crashed meanwhile: its caller already heard a reset
            self.cache.in_flight -= 1
            done(ERROR)
            return
        step(att, done)

    # reads

    def _read(self, att, done) -> None:
        cache, key = self.cache, att.key
        if key in self.pending:  # read-your-writes: the buffered value is newer than any commit
            self.store.hits += 1
            cache.in_flight -= 1
            self._answer(att, key, self.ledger.latest(key))
            done(OK)
            return
        if cache._store_lookup(key, self.env.now):
            cache.in_flight -= 1
            self._answer(att, key, self.versions[key])
            done(OK)
            return
        if cache.coalesce:
            fetch = self._fetching.get(key)
            if fetch is not None:
                cache.coalesced += 1
                fetch.waiters.append((att, done))
                return
        fetch = _DataFetch(self, key, att, done)
        if cache.coalesce:
            self._fetching[key] = fetch
        cache.backend_calls += 1
        cache.backend.send(att, fetch.after_backend)

    def known(self, att) -> int:
        """The version the backend's OK answer carried; if nothing on its way set one (a service
        that answered without its database), the database's latest now, when the answer arrives."""
        version = att.version
        return self.ledger.latest(att.key) if version < 0 else version

    def _answer(self, att, key: int, version: int) -> None:
        att.version = version
        self.check.check(key, version)

    def fill(self, key: int, version: int) -> None:
        """Store ``version`` of ``key`` now (with the cache's ttl, jittered if so configured)."""
        self._plain_fill(key)
        self.versions[key] = version

    # writes

    def _write(self, att, done) -> None:
        if self.write_policy == "write_behind":
            self.cache.in_flight -= 1
            key = att.key
            self.buffer.append((key, att))
            self.pending[key] = self.pending.get(key, 0) + 1
            self.accepted += 1
            self.books.add(self.name, "writes")
            done(OK)
            return
        self.cache.backend_calls += 1
        self.cache.backend.send(att, _Write(self, att, done).after_backend)

    def committed(self, att) -> None:
        """A write passing through the cache was committed (``att.version``) at the database."""
        self.books.add(self.name, "writes")
        if self.write_policy == "write_through":
            self.fill(att.key, self.known(att))
        elif self.on_write:
            self.store.discard(att.key)

    def _changed(self, key: int, version: int) -> None:
        """``invalidate: events``: the database committed ``version`` of ``key``."""
        if self.invalidation_delay > 0.0:
            self.cache._later(self.invalidation_delay, self._drop, key)
        else:
            self.store.discard(key)

    def _drop(self, event) -> None:
        self.store.discard(event.value)

    # write-behind

    def _tick(self, _event) -> None:
        """Every ``flush_interval``: the whole buffer leaves, in batches of at most ``flush_batch``."""
        self.cache._later(self.flush_interval, self._tick)
        buffer, self.buffer = self.buffer, []
        self.flushes.append(self.env.now)
        size = self.flush_batch
        for start in range(0, len(buffer), size):
            _Flush(self, buffer[start:start + size]).send()

    def crash(self) -> None:
        """The cache died: its entries and its unflushed writes are gone."""
        self.epoch += 1
        self.versions.clear()
        lost = len(self.buffer)
        if lost:
            self.lost += lost
            self.books.add(self.name, "lost_writes", lost)
            self.recorder.event(self.env.now, "lost_writes", self.name, f"{lost} writes")
        self.buffer = []
        self.pending.clear()
        for fetch in self._fetching.values():
            fetch.orphaned = True
        self._fetching.clear()


class _DataFetch:
    """A read miss's backend call; coalesced misses of the same key join its ``waiters``."""

    __slots__ = ("data", "key", "waiters", "epoch", "orphaned")

    def __init__(self, data: CacheData, key: int, att, done):
        self.data = data
        self.key = key
        self.waiters = [(att, done)]
        self.epoch = data.epoch
        self.orphaned = False

    def after_backend(self, outcome: int) -> None:
        data, cache = self.data, self.data.cache
        if cache.coalesce and not self.orphaned:
            del data._fetching[self.key]
        cache.in_flight -= len(self.waiters)
        if outcome != OK:
            self._failed(outcome)
            return
        version = data.known(self.waiters[0][0])  # the database answered the first miss's query
        if data.cache_aside:  # the caller sets the cache itself, one more round trip later
            cache._later(cache._time_slot[1](), self._set_and_answer, version)
            return
        if self.epoch == data.epoch:
            data.fill(self.key, version)
        self._answer_all(version)

    def _set_and_answer(self, event) -> None:
        if self.epoch == self.data.epoch:
            self.data.fill(self.key, event.value)  # may install a version superseded meanwhile
        self._answer_all(event.value)

    def _answer_all(self, version: int) -> None:
        alive = self.epoch == self.data.epoch  # else the callers already heard a reset
        for att, done in self.waiters:
            if alive:
                self.data._answer(att, self.key, version)
            done(OK)

    def _failed(self, outcome: int) -> None:
        data = self.data
        outcome = data.cache._failed(self.key, outcome, len(self.waiters))
        stored = outcome in (OK, DEGRADED) and data.store.expiry(self.key) is not None
        for att, done in self.waiters:
            if stored:  # serve_stale answered from the entry it still had
                data._answer(att, self.key, data.versions.get(self.key, 0))
            done(outcome)


class _Write:
    """A write passing through the cache to the backend (write-around or write-through)."""

    __slots__ = ("data", "att", "done")

    def __init__(self, data: CacheData, att, done):
        self.data = data
        self.att = att
        self.done = done

    def after_backend(self, outcome: int) -> None:
        self.data.cache.in_flight -= 1
        if outcome == OK:
            self.data.committed(self.att)
        self.done(outcome)


class _Flush:
    """One write-behind batch: a single backend query carrying up to ``flush_batch`` writes.

    The query is a write of the batch's first key; when the database answers OK it has committed
    that one, and the rest of the batch is committed in order at the same moment (one transaction).
    A failed batch goes back to the front of the buffer for the next flush, unless the cache
    crashed meanwhile: then those writes are lost too.
    """

    __slots__ = ("data", "batch", "epoch")

    def __init__(self, data: CacheData, batch: list):
        self.data = data
        self.batch = batch
        self.epoch = data.epoch

    def send(self) -> None:
        data = self.data
        first_key, first = self.batch[0]
        att = Attempt(first.id, data.env.now, 1, [-1.0] * len(first.work), first.client)
        att.op, att.key, att.version = WRITE, first_key, -1
        data.flushing += len(self.batch)
        data.cache.backend_calls += 1
        data.cache.backend.send(att, self.after_backend)

    def after_backend(self, outcome: int) -> None:
        data = self.data
        data.flushing -= len(self.batch)
        alive = self.epoch == data.epoch
        if outcome != OK:
            if alive:
                data.buffer[:0] = self.batch
            else:
                data.lost += len(self.batch)
                data.books.add(data.name, "lost_writes", len(self.batch))
            return
        ledger = data.ledger
        for i, (key, _att) in enumerate(self.batch):
            if i:  # the query committed the first; the others commit with it, through the database
                data.database.commit_batched(key)
            data.flushed += 1
            if alive:
                left = data.pending[key] - 1
                if left:
                    data.pending[key] = left
                else:
                    del data.pending[key]
                data.fill(key, ledger.latest(key))
