"""``kind: cache`` — a look-aside cache in front of a backend (usually a database).

Each attempt carries a key drawn at arrival from the workload's popularity distribution (Zipf or
uniform over a catalogue). A lookup costs ``hit_time``; a hit answers OK, a miss then calls the
backend and, if the backend answers OK, fills the cache. Eviction and expiry live in
:class:`~simulator.components.cache_store.CacheStore`.

Defences, all off by default and chosen at construction so that a cache without them runs the
plain path: ``serve_stale`` (a failed refresh of an expired entry answers ``degraded`` from it),
``coalesce`` (one backend fetch per key in flight; later misses wait for its answer),
``ttl_jitter`` (each fill's ttl scaled by a uniform factor in ``[1 - j, 1 + j]``) and ``warm``
(start full with keys ``0..capacity-1``, the most popular under Zipf).
"""

from __future__ import annotations

from simulator.components.base import Component, dist_factory, take
from simulator.components.cache_data import CacheData
from simulator.components.cache_store import CacheStore
from simulator.components.edge import CallEdge
from simulator.randomness import batched, key_sampler
from simulator.request import DEGRADED, ERROR, OK


class CacheStats:
    """Hit ratio (per sample interval and over the measurement window) and size."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self._last = (0, 0)
        self._mark = (0, 0)
        self._counter_mark = cache.counters()

    def _counts(self) -> tuple[int, int]:
        return self.cache.store.hits, self.cache.store.misses

    def sample(self, now: float, interval: float) -> dict[str, float]:
        hits, misses = self._counts()
        dh, dm = hits - self._last[0], misses - self._last[1]
        self._last = (hits, misses)
        ratio = dh / (dh + dm) if dh + dm else float("nan")
        return {"hit_ratio": ratio, "items": float(len(self.cache.store)),
                "in_flight": float(self.cache.in_flight)}

    def mark_warmup(self, now: float) -> None:
        self._mark = self._counts()
        self._counter_mark = self.cache.counters()

    def window(self, now: float) -> dict[str, float]:
        hits, misses = self._counts()
        dh, dm = hits - self._mark[0], misses - self._mark[1]
        counters = {name: float(value - self._counter_mark[name])
                    for name, value in self.cache.counters().items()}
        return {"hit_ratio": dh / (dh + dm) if dh + dm else float("nan"), **counters}


class _Miss:
    """Continuation of a miss: fill the cache only when the backend answered OK."""

    __slots__ = ("cache", "key", "done")

    def __init__(self, cache: Cache, key: int, done):
        self.cache = cache
        self.key = key
        self.done = done

    def after_backend(self, outcome: int) -> None:
        cache = self.cache
        cache.in_flight -= 1
        if outcome == OK:
            cache._fill(self.key)
            self.done(OK)
        else:
            self.done(cache._failed(self.key, outcome, 1))


class _Fetch:
    """A coalesced backend fetch: every miss that joined it hears its one answer."""

    __slots__ = ("cache", "key", "waiters")

    def __init__(self, cache: Cache, key: int, done):
        self.cache = cache
        self.key = key
        self.waiters = [done]

    def after_backend(self, outcome: int) -> None:
        cache = self.cache
        # NOTE: unregistered before anyone hears the answer, so a miss it triggers (a retry
        # answered synchronously) starts a fetch of its own instead of joining a finished one.
        del cache._fetching[self.key]
        waiters = self.waiters
        cache.in_flight -= len(waiters)
        if outcome == OK:
            cache._fill(self.key)  # once, however many waited
        else:
            outcome = cache._failed(self.key, outcome, len(waiters))
        for done in waiters:
            done(outcome)


class Cache(Component):
    """Component for ``kind: cache``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.env = ctx.env
        self._later = ctx.scheduler()
        self.store = CacheStore(spec.capacity, spec.policy, spec.ttl,
                                ctx.streams.generator(f"component.{spec.name}.evict"))
        self.serve_stale = spec.serve_stale
        self.coalesce = spec.coalesce
        self.backend_calls = self.coalesced = self.stale_served = 0
        self._store_lookup = self.store.lookup_keeping_stale if self.serve_stale else self.store.lookup
        self._fetching: dict[int, _Fetch] = {}  # key -> the fetch in flight (coalesce only)
        if self.coalesce:
            self._lookup = self._lookup_coalescing
        jitter = spec.ttl_jitter
        if jitter > 0.0:
            rng = ctx.streams.generator(f"component.{spec.name}.ttl_jitter")
            self._ttl_factor = batched(lambda n: rng.uniform(1.0 - jitter, 1.0 + jitter, n))
            self._fill = self._fill_jittered
        if spec.keys is not None:  # else each request brings its own key (data workloads' keys)
            self._key_slot = plan.slot(spec.name, "key", lambda rng: key_sampler(spec.keys, rng), sticky=True)
        self._time_slot = plan.slot(spec.name, "time", dist_factory(spec.hit_time))
        self.backend = None  # wired by the builder once every component exists
        self.in_flight = 0
        self.stats = CacheStats(self)
        if spec.warm:
            self._warm()
        self.data = None  # versioned paths (simulator.components.cache_data), only with data workloads
        if ctx.data is not None:
            self.data = CacheData(self, ctx, spec)

    def handle(self, att, done) -> None:
        """Component protocol: look the attempt's key up, go to the backend on a miss."""
        key = take(att.work, *self._key_slot)
        delay = take(att.work, *self._time_slot)
        self.in_flight += 1
        if delay > 0.0:
            self._later(delay, self._after_lookup, (att, key, done))
        else:
            self._lookup(att, key, done)

    def _after_lookup(self, event) -> None:
        self._lookup(*event.value)

    def _lookup(self, att, key: int, done) -> None:
        if self._store_lookup(key, self.env.now):
            self.in_flight -= 1
            done(OK)
        else:
            self.backend_calls += 1
            self.backend.send(att, _Miss(self, key, done).after_backend)

    def _lookup_coalescing(self, att, key: int, done) -> None:
        """``_lookup`` with ``coalesce``: a miss joins the fetch of its key already in flight."""
        if self._store_lookup(key, self.env.now):
            self.in_flight -= 1
            done(OK)
            return
        fetch = self._fetching.get(key)
        if fetch is not None:
            self.coalesced += 1
            fetch.waiters.append(done)
            return
        fetch = self._fetching[key] = _Fetch(self, key, done)
        self.backend_calls += 1
        self.backend.send(att, fetch.after_backend)

    def _fill(self, key: int) -> None:
        """Store ``key`` fetched just now, with the store's ttl."""
        self.store.insert(key, self.env.now)

    def _fill_jittered(self, key: int) -> None:
        """``_fill`` with ``ttl_jitter``: the entry's ttl scaled by a factor from the cache's own stream."""
        self.store.insert(key, self.env.now, self.store.ttl * self._ttl_factor())

    def _failed(self, key: int, outcome: int, answers: int) -> int:
        """What ``answers`` misses of ``key`` hear when the backend answered ``outcome`` (not OK).

        A fallback's ``degraded`` answer is passed on but not stored. With ``serve_stale``, an
        entry still present answers instead: ``degraded`` if expired (stale data is a degraded
        answer that still counts as available), ``ok`` if another fetch refreshed it meanwhile.
        """
        if self.serve_stale:
            expiry = self.store.expiry(key)
            if expiry is not None:
                if self.env.now < expiry:
                    return OK
                self.stale_served += answers
                return DEGRADED
        return DEGRADED if outcome == DEGRADED else ERROR

    def _warm(self) -> None:
        """Fill the store at start with keys ``0..capacity-1`` (the hottest under Zipf), hottest last
        so that recency-based policies evict the coldest of them first."""
        keys = self.spec.keys
        catalog = self.store.capacity if keys is None else int(keys.catalog)
        for key in range(min(self.store.capacity, catalog) - 1, -1, -1):
            self._fill(key)

    def counters(self) -> dict[str, int]:
        """Counts since start: backend calls, and the enabled defences' ``coalesced``, ``stale_served``."""
        counts = {"backend_calls": self.backend_calls}
        if self.coalesce:
            counts["coalesced"] = self.coalesced
        if self.serve_stale:
            counts["stale_served"] = self.stale_served
        return counts

    def wire(self, components: dict) -> None:
        """Resolve the backend name to a call edge ``cache->backend``."""
        self.backend = CallEdge(self.name, components[self.spec.backend])
        if self.data is not None:
            self.data.wire(components)

    @property
    def edges(self) -> list[CallEdge]:
        """The cache's one outgoing call edge, for wrappers."""
        return [self.backend]

    def track(self) -> None:
        """Nothing to switch: a cache's faults (flush) act on its store."""

    def lose_contents(self) -> int:
        """A crash: the process restarts empty (every entry gone and, under write-behind, the
        writes not yet flushed: ``lost_writes``). Returns the entries lost."""
        lost = self.store.flush()
        if self.data is not None:
            self.data.crash()
        return lost
