"""``kind: cache`` — a look-aside cache in front of a backend (usually a database).

Each attempt carries a key drawn at arrival from the workload's popularity distribution (Zipf or
uniform over a catalogue). A lookup costs ``hit_time``; a hit answers OK, a miss then calls the
backend and, if the backend answers OK, fills the cache. Eviction and expiry live in
:class:`~simulator.components.cache_store.CacheStore`.
"""

from __future__ import annotations

from simulator.components.base import CallEdge, dist_factory, take
from simulator.components.cache_store import CacheStore
from simulator.randomness import key_sampler
from simulator.request import DEGRADED, ERROR, OK


class CacheStats:
    """Hit ratio (per sample interval and over the measurement window) and size."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self._last = (0, 0)
        self._mark = (0, 0)

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

    def window(self, now: float) -> dict[str, float]:
        hits, misses = self._counts()
        dh, dm = hits - self._mark[0], misses - self._mark[1]
        return {"hit_ratio": dh / (dh + dm) if dh + dm else float("nan")}


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
            cache.store.insert(self.key, cache.env.now)
            self.done(OK)
        else:
            self.done(DEGRADED if outcome == DEGRADED else ERROR)  # a fallback's answer is not stored


class Cache:
    """Component for ``kind: cache``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.env = ctx.env
        self._later = ctx.scheduler()
        self.store = CacheStore(spec.capacity, spec.policy, spec.ttl,
                                ctx.streams.generator(f"component.{spec.name}.evict"))
        self._key_slot = plan.slot(spec.name, "key", lambda rng: key_sampler(spec.keys, rng), sticky=True)
        self._time_slot = plan.slot(spec.name, "time", dist_factory(spec.hit_time))
        self.backend = None  # wired by the builder once every component exists
        self.in_flight = 0
        self.stats = CacheStats(self)

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
        if self.store.lookup(key, self.env.now):
            self.in_flight -= 1
            done(OK)
        else:
            self.backend.send(att, _Miss(self, key, done).after_backend)

    def wire(self, components: dict) -> None:
        """Resolve the backend name to a call edge ``cache->backend``."""
        self.backend = CallEdge(self.name, components[self.spec.backend])

    @property
    def edges(self) -> list[CallEdge]:
        """The cache's one outgoing call edge, for wrappers."""
        return [self.backend]

    def track(self) -> None:
        """Nothing to switch: a cache's faults (flush) act on its store."""
