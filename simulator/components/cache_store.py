"""The storage and eviction behaviour of a cache, without any simulated time or SimPy.

``CacheStore(capacity, policy, ttl, rng)`` answers "is this key cached now?" and records what a
fill does to its contents. The cache component wraps it with latencies and a backend; keeping
the bookkeeping here makes it testable against exact eviction orders and against theory
(Che's approximation for LRU).

Every operation is O(1). Expiry is lazy, like Redis passive expiry: an entry past its TTL is
noticed (and removed, as a miss) only when looked up; until then it occupies a slot and can be
evicted like any other. Entries expire ``ttl`` seconds after they were last inserted; hits do
not extend their life. :meth:`CacheStore.lookup_keeping_stale` is the lookup for a cache that
serves stale data: an expired entry is a miss but stays (until evicted or refilled), so
:meth:`CacheStore.expiry` can still find it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

from simulator.randomness import batched


class CacheStore:
    """A bounded key store with LRU, LFU, FIFO or random eviction and an optional TTL.

    Constructing ``CacheStore`` returns an instance of the subclass for ``policy``, so each
    policy's hot path is a plain method without dispatch on the policy. Counters ``hits``,
    ``misses``, ``evictions`` and ``expirations`` count since construction.

    Args:
        capacity: maximum number of entries (>= 1).
        policy: ``lru``, ``lfu``, ``fifo`` or ``random``.
        ttl: entry lifetime in seconds after insertion, or ``None`` for no expiry.
        rng: generator for random eviction (required only by ``random``; use its own stream).
    """

    __slots__ = ("capacity", "ttl", "hits", "misses", "evictions", "expirations", "_rng", "_expiry", "_get")
    policy = ""
    _mapping: type[dict] = dict  # the key -> expiry map; ordered policies use an OrderedDict

    def __new__(cls, capacity: int, policy: str = "lru", ttl: float | None = None, rng: Any = None):
        if cls is CacheStore:
            if policy not in _POLICIES:
                raise ValueError(f"unknown cache policy {policy!r}; expected one of {sorted(_POLICIES)}")
            cls = _POLICIES[policy]
        return super().__new__(cls)

    def __init__(
        self,
        capacity: int,
        policy: str = "lru",
        ttl: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        if int(capacity) < 1:
            raise ValueError(f"cache capacity must be >= 1, got {capacity}")
        if ttl is not None and not ttl > 0:
            raise ValueError(f"cache ttl must be > 0 seconds or None, got {ttl}")
        self.capacity = int(capacity)
        self.ttl = math.inf if ttl is None else float(ttl)  # inf keeps the hit path free of a None test
        self.hits = self.misses = self.evictions = self.expirations = 0
        self._rng = rng
        self._expiry = self._mapping()  # key -> absolute expiry time (s)
        self._get = self._expiry.get  # NOTE: a bound method cached on the instance saves ~40 ns a lookup

    def lookup(self, key: Hashable, now: float) -> bool:
        """Return whether ``key`` is cached and fresh at time ``now`` (s), counting a hit or a miss."""
        expiry = self._get(key)
        if expiry is not None and now < expiry:
            self.hits += 1
            return True
        return self._miss(key, expiry)

    def lookup_keeping_stale(self, key: Hashable, now: float) -> bool:
        """Like :meth:`lookup`, but an expired entry is a miss that stays in the store.

        It keeps its slot and its place in the eviction order, and is not counted in
        ``expirations``; a later :meth:`insert` refreshes it.
        """
        expiry = self._get(key)
        if expiry is not None and now < expiry:
            self._touch(key)
            self.hits += 1
            return True
        self.misses += 1
        return False

    def expiry(self, key: Hashable) -> float | None:
        """Absolute expiry time (s) of ``key``, expired or not, or ``None`` if absent; no side effects."""
        return self._get(key)

    def insert(self, key: Hashable, now: float, ttl: float | None = None) -> None:
        """Store ``key`` at time ``now`` (s), evicting one entry per the policy if the store is full.

        Inserting a key already present refreshes its expiry and counts as a use of it. ``ttl``
        (s) overrides the store's for this entry (a jittered lifetime).
        """
        expiry = now + (self.ttl if ttl is None else ttl)
        if key in self._expiry:
            self._expiry[key] = expiry
            self._touch(key)
            return
        if len(self._expiry) >= self.capacity:
            self._evict()
            self.evictions += 1
        self._expiry[key] = expiry
        self._admit(key)

    def flush(self, fraction: float = 1.0, uniform=None) -> int:
        """Lose ``fraction`` of the entries (a restart, a FLUSHALL, a bad deploy); returns how many.

        Each entry is lost with probability ``fraction``, decided by ``uniform()`` draws (the
        flushing fault's own stream), in key order so the choice does not depend on the policy.
        """
        keys = sorted(self._expiry) if fraction < 1.0 else list(self._expiry)
        lost = keys if fraction >= 1.0 else [k for k in keys if uniform() < fraction]
        for key in lost:
            self._remove(key)
        return len(lost)

    def discard(self, key: Hashable) -> bool:
        """Drop ``key`` if present (an invalidation), counting nothing; returns whether it was there."""
        if key not in self._expiry:
            return False
        self._remove(key)
        return True

    @property
    def hit_ratio(self) -> float:
        """Hits over lookups so far (0 before the first lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def __len__(self) -> int:
        return len(self._expiry)

    def __contains__(self, key: Hashable) -> bool:
        """Presence, expired or not, without counting or touching anything (for inspection)."""
        return key in self._expiry

    def __repr__(self) -> str:
        ttl = None if self.ttl == math.inf else self.ttl
        return f"CacheStore(capacity={self.capacity}, policy={self.policy!r}, ttl={ttl}, len={len(self)})"

    def _miss(self, key: Hashable, expiry: float | None) -> bool:
        """Count a miss; an entry found past its expiry is removed here (lazy expiry)."""
        if expiry is not None:
            self._remove(key)
            self.expirations += 1
        self.misses += 1
        return False

    # Policy hooks. ``_expiry`` is updated by the caller for insert, by the hook for removal.
    def _touch(self, key: Hashable) -> None:
        """Record a use of a present key (a hit or a refreshing insert)."""

    def _admit(self, key: Hashable) -> None:
        """Record a key just added to ``_expiry``."""

    def _evict(self) -> None:
        """Remove the policy's victim from the full store."""
        raise NotImplementedError

    def _remove(self, key: Hashable) -> None:
        """Remove a present key (expired on lookup)."""
        raise NotImplementedError


class _FifoStore(CacheStore):
    """First in, first out: an ordered dict in insertion order; uses never reorder it."""

    __slots__ = ()
    policy = "fifo"
    _mapping = OrderedDict

    def _evict(self) -> None:
        self._expiry.popitem(last=False)

    def _remove(self, key: Hashable) -> None:
        del self._expiry[key]


class _LruStore(_FifoStore):
    """Least recently used: FIFO order, except that every use moves the key to the back."""

    __slots__ = ("_move_to_end",)
    policy = "lru"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._move_to_end = self._expiry.move_to_end

    def lookup(self, key: Hashable, now: float) -> bool:
        # NOTE: inlined rather than calling _touch: this is the hottest path of a cache.
        expiry = self._get(key)
        if expiry is not None and now < expiry:
            self._move_to_end(key)
            self.hits += 1
            return True
        return self._miss(key, expiry)

    def _touch(self, key: Hashable) -> None:
        self._expiry.move_to_end(key)


class _LfuStore(CacheStore):
    """Least frequently used, O(1): keys sit in per-count buckets kept in order of last use.

    The victim is the least recently used key of the lowest count. Counts live only while a key
    is cached (in-cache LFU, as in Redis): a re-admitted key starts again at 1.
    """

    __slots__ = ("_count", "_buckets", "_min_count")
    policy = "lfu"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._count: dict[Hashable, int] = {}
        self._buckets: dict[int, OrderedDict[Hashable, None]] = {}
        self._min_count = 0  # may go stale after an expiry empties its bucket; _evict repairs it

    def lookup(self, key: Hashable, now: float) -> bool:
        expiry = self._get(key)
        if expiry is not None and now < expiry:
            self._touch(key)
            self.hits += 1
            return True
        return self._miss(key, expiry)

    def _touch(self, key: Hashable) -> None:
        count = self._count[key]
        self._count[key] = count + 1
        buckets = self._buckets
        if len(buckets[count]) == 1 and count + 1 not in buckets:
            # A hot key usually has a count of its own: relabel its bucket instead of reallocating.
            buckets[count + 1] = buckets.pop(count)
        else:
            self._unlink(key, count)
            self._link(key, count + 1)
        if count == self._min_count and count not in buckets:
            self._min_count = count + 1

    def _admit(self, key: Hashable) -> None:
        self._count[key] = 1
        self._link(key, 1)
        self._min_count = 1

    def _evict(self) -> None:
        count = self._min_count if self._min_count in self._buckets else min(self._buckets)
        key = next(iter(self._buckets[count]))
        self._remove(key)

    def _remove(self, key: Hashable) -> None:
        self._unlink(key, self._count.pop(key))
        del self._expiry[key]

    def _link(self, key: Hashable, count: int) -> None:
        bucket = self._buckets.get(count)
        if bucket is None:
            bucket = self._buckets[count] = OrderedDict()
        bucket[key] = None

    def _unlink(self, key: Hashable, count: int) -> None:
        bucket = self._buckets[count]
        del bucket[key]
        if not bucket:
            del self._buckets[count]


class _RandomStore(CacheStore):
    """Random eviction: keys in a list for O(1) uniform choice, removed by swapping with the last.

    The victim's slot is drawn uniformly from ``[0, capacity)``, valid because eviction happens
    only when the store is full; slots are drawn from ``rng`` in blocks.
    """

    __slots__ = ("_keys", "_slot", "_victim_slot")
    policy = "random"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rng = self._rng
        if rng is None:
            raise ValueError("random eviction needs an rng (a stream of its own)")
        self._keys: list[Hashable] = []
        self._slot: dict[Hashable, int] = {}
        self._victim_slot = batched(lambda n: rng.integers(0, self.capacity, n))

    def _admit(self, key: Hashable) -> None:
        self._slot[key] = len(self._keys)
        self._keys.append(key)

    def _evict(self) -> None:
        self._remove(self._keys[self._victim_slot()])

    def _remove(self, key: Hashable) -> None:
        slot = self._slot.pop(key)
        last = self._keys.pop()
        if slot < len(self._keys):
            self._keys[slot] = last
            self._slot[last] = slot
        del self._expiry[key]


_POLICIES: dict[str, type[CacheStore]] = {
    "lru": _LruStore,
    "lfu": _LfuStore,
    "fifo": _FifoStore,
    "random": _RandomStore,
}
