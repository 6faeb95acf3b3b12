"""Cache storage and eviction (simulator.components.cache_store), exactly and against theory."""

from __future__ import annotations

import math
from types import SimpleNamespace as Spec

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.components.cache_store import CacheStore
from simulator.randomness import RandomStreams, key_sampler


def filled(policy: str, keys: str, capacity: int = 3, ttl: float | None = None, seed: int = 0) -> CacheStore:
    """A store of ``capacity`` with each character of ``keys`` inserted at t=0, in order."""
    store = CacheStore(capacity, policy, ttl, np.random.default_rng(seed))
    for key in keys:
        store.insert(key, 0.0)
    return store


def contents(store: CacheStore, universe: str = "abcdefghxyzw") -> str:
    return "".join(k for k in universe if k in store)


# Exact eviction orders


def test_lru_evicts_the_least_recently_used():
    """A hit protects a key; the key untouched longest goes first."""
    store = filled("lru", "abc")
    assert store.lookup("a", 1.0)
    store.insert("d", 1.0)
    assert contents(store) == "acd"
    store.insert("e", 1.0)
    assert contents(store) == "ade"
    assert store.evictions == 2


def test_fifo_evicts_in_insertion_order_whatever_the_hits():
    """FIFO ignores hits: the oldest insertion goes first."""
    store = filled("fifo", "abc")
    assert store.lookup("a", 1.0)
    store.insert("d", 1.0)
    assert contents(store) == "bcd"


def test_lfu_evicts_the_least_frequently_used():
    """The key with the fewest uses goes first; a newcomer is the next victim if nothing is rarer."""
    store = filled("lfu", "abc")
    for key in "aab":
        assert store.lookup(key, 1.0)
    store.insert("d", 1.0)
    assert contents(store) == "abd"
    store.insert("e", 1.0)
    assert contents(store) == "abe"


def test_lfu_breaks_ties_by_least_recent_use():
    """Among keys used equally often, the one used longest ago goes first."""
    store = filled("lfu", "xyz")
    for key in "zxy":
        assert store.lookup(key, 1.0)
    store.insert("w", 1.0)
    assert contents(store) == "xyw"
    store.insert("a", 1.0)
    assert contents(store) == "axy"


def test_lfu_readmitted_key_starts_counting_again():
    """Counts are kept only while a key is cached (in-cache LFU)."""
    store = filled("lfu", "ab", capacity=2)
    for _ in range(5):
        store.lookup("a", 1.0)
    store.insert("c", 1.0)  # evicts b
    store.insert("b", 1.0)  # evicts c, b starts at 1
    store.insert("d", 1.0)  # evicts b (count 1), not a (count 6)
    assert contents(store) == "ad"


def test_random_evicts_every_resident_key_equally_often():
    """Whatever their age, each of four resident keys is the victim about a quarter of the time."""
    store, evictions = CacheStore(4, "random", None, np.random.default_rng(42)), 20_000
    residents = list(range(4))  # oldest first
    for key in residents:
        store.insert(key, 0.0)
    by_age = np.zeros(4)
    for key in range(4, 4 + evictions):
        store.insert(key, 0.0)
        age = next(i for i, k in enumerate(residents) if k not in store)
        by_age[age] += 1
        residents = residents[:age] + residents[age + 1 :] + [key]
    assert np.all(np.abs(by_age / evictions - 0.25) <= 4.5 * math.sqrt(0.25 * 0.75 / evictions))


def test_random_eviction_is_reproducible_from_its_stream():
    """Two stores fed the same stream and requests evict the same keys."""
    stores = [CacheStore(10, "random", None, RandomStreams(5).generator("evict")) for _ in range(2)]
    for key in range(100):
        for store in stores:
            store.insert(key, 0.0)
    assert [k for k in range(100) if k in stores[0]] == [k for k in range(100) if k in stores[1]]


# Expiry and validation


@pytest.mark.parametrize("policy", ["lru", "lfu", "fifo", "random"])
def test_entry_expires_ttl_after_insertion(policy):
    """An entry hits until ttl seconds after insertion, then misses once and is gone."""
    store = filled(policy, "a", ttl=10.0)
    assert store.lookup("a", 9.99)
    assert not store.lookup("a", 10.0)
    assert (store.hits, store.misses, store.expirations, len(store)) == (1, 1, 1, 0)
    assert not store.lookup("a", 10.5)
    assert store.expirations == 1


def test_hits_do_not_extend_life_but_reinsertion_does():
    """Expiry counts from the last insert, not the last hit."""
    store = filled("lru", "ab", ttl=10.0)
    assert store.lookup("a", 8.0)
    store.insert("b", 8.0)
    assert not store.lookup("a", 10.0)
    assert store.lookup("b", 17.0)


def test_expired_entries_hold_their_slot_until_looked_up():
    """Expiry is lazy: an expired entry still fills the store and is evicted like any other."""
    store = filled("fifo", "abc", ttl=1.0)
    store.insert("d", 5.0)
    assert contents(store) == "bcd"
    assert (store.evictions, store.expirations) == (1, 0)


def test_invalid_configuration_is_rejected():
    """Unknown policies, empty stores, non-positive TTLs and random without rng are errors."""
    for args in ((3, "mru"), (0, "lru"), (3, "lru", 0.0), (3, "random", None, None)):
        with pytest.raises(ValueError):
            CacheStore(*args)


# Property: every policy behaves like a slow, obvious reference model


class ReferenceStore:
    """Linear-time model of the eviction rules; the victim minimises ``rank`` per policy."""

    def __init__(self, capacity, policy, ttl):
        self.capacity, self.policy, self.ttl = capacity, policy, math.inf if ttl is None else ttl
        self.entries = {}  # key -> [expiry, uses, last_use_tick, insert_tick]
        self.tick = 0
        self.counts = [0, 0, 0, 0]  # hits, misses, evictions, expirations

    def rank(self, key):
        expiry, uses, last_use, inserted = self.entries[key]
        return {"lru": last_use, "fifo": inserted, "lfu": (uses, last_use)}[self.policy]

    def use(self, entry):
        self.tick += 1
        entry[1] += 1
        entry[2] = self.tick

    def lookup(self, key, now):
        entry = self.entries.get(key)
        if entry and now < entry[0]:
            self.use(entry)
            self.counts[0] += 1
            return True
        if entry:
            del self.entries[key]
            self.counts[3] += 1
        self.counts[1] += 1
        return False

    def insert(self, key, now):
        if key in self.entries:
            self.entries[key][0] = now + self.ttl
            self.use(self.entries[key])
            return
        if len(self.entries) >= self.capacity:
            del self.entries[min(self.entries, key=self.rank)]
            self.counts[2] += 1
        self.tick += 1
        self.entries[key] = [now + self.ttl, 1, self.tick, self.tick]


operations = st.lists(
    st.tuples(
        st.sampled_from(["lookup", "insert"]), st.integers(0, 7), st.sampled_from([0.0, 0.5, 1.0, 3.0])
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(
    policy=st.sampled_from(["lru", "lfu", "fifo", "random"]),
    capacity=st.integers(1, 5),
    ttl=st.sampled_from([None, 2.5]),
    ops=operations,
)
def test_store_matches_reference_model_and_never_exceeds_capacity(policy, capacity, ttl, ops):
    """Exact policies agree with the reference model op by op; every policy respects capacity."""
    store = CacheStore(capacity, policy, ttl, np.random.default_rng(0))
    model = ReferenceStore(capacity, policy, ttl) if policy != "random" else None
    now = lookups = 0
    for op, key, dt in ops:
        now += dt
        result = getattr(store, op)(key, now)
        lookups += op == "lookup"
        assert len(store) <= capacity
        if model is not None:
            assert result == getattr(model, op)(key, now)
            assert {k for k in range(8) if k in store} == set(model.entries)
            assert [store.hits, store.misses, store.evictions, store.expirations] == model.counts
    assert store.hits + store.misses == lookups
    assert len(store) == sum(k in store for k in range(8))


# Hit ratios against theory, under the independent reference model (IRM) with Zipf keys

CATALOG, ALPHA = 10_000, 0.8
POPULARITY = np.arange(1, CATALOG + 1, dtype=float) ** -ALPHA / np.sum(np.arange(1, CATALOG + 1) ** -ALPHA)


def characteristic_time(occupancy, capacity: int) -> float:
    """Solve occupancy(T) = capacity for T by bisection (occupancy increases with T)."""
    low, high = 0.0, 1.0
    while occupancy(high) < capacity:
        high *= 2.0
    for _ in range(100):
        mid = (low + high) / 2.0
        low, high = (mid, high) if occupancy(mid) < capacity else (low, mid)
    return (low + high) / 2.0


def che_lru_hit_ratio(capacity: int) -> float:
    """Che's approximation: key i is cached iff requested within T_C, sum_i (1 - e^{-p_i T_C}) = C."""
    p = POPULARITY
    t = characteristic_time(lambda t: np.sum(-np.expm1(-p * t)), capacity)
    return float(np.sum(p * -np.expm1(-p * t)))


def fifo_random_hit_ratio(capacity: int) -> float:
    """Gelenbe/Fagin approximation for FIFO and RANDOM: key i is cached w.p. p_i T / (1 + p_i T)."""
    p = POPULARITY
    t = characteristic_time(lambda t: np.sum(p * t / (1 + p * t)), capacity)
    return float(np.sum(p * p * t / (1 + p * t)))


def simulated_hit_ratio(policy: str, capacity: int, warmup: int = 50_000, requests: int = 300_000) -> float:
    """Read-through cache under IRM Zipf keys; hit ratio of the requests after warm-up."""
    streams = RandomStreams(2024)
    next_key = key_sampler(Spec(dist="zipf", alpha=ALPHA, catalog=CATALOG), streams.generator("keys"))
    store = CacheStore(capacity, policy, None, streams.generator("evict"))
    lookup, insert = store.lookup, store.insert
    for i in range(warmup + requests):
        if i == warmup:
            hits_before = store.hits
        key = next_key()
        if not lookup(key, 0.0):
            insert(key, 0.0)
    return (store.hits - hits_before) / requests


@pytest.fixture(scope="module")
def hit_ratios() -> dict[tuple[str, int], float]:
    return {(p, c): simulated_hit_ratio(p, c) for p in ("lru", "lfu", "fifo", "random") for c in (100, 1000)}


@pytest.mark.slow
@pytest.mark.parametrize("capacity", [100, 1000])
def test_lru_hit_ratio_matches_che_approximation(hit_ratios, capacity):
    """LRU's simulated hit ratio is within 0.01 of Che's approximation (N=10k, alpha=0.8)."""
    assert abs(hit_ratios["lru", capacity] - che_lru_hit_ratio(capacity)) < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("capacity", [100, 1000])
def test_fifo_and_random_match_each_other_and_their_approximation(hit_ratios, capacity):
    """Under IRM, FIFO and RANDOM have the same hit ratio, close to the Gelenbe/Fagin value."""
    fifo, rand = hit_ratios["fifo", capacity], hit_ratios["random", capacity]
    assert abs(fifo - rand) < 0.01
    assert abs(fifo - fifo_random_hit_ratio(capacity)) < 0.01
    assert abs(rand - fifo_random_hit_ratio(capacity)) < 0.01


@pytest.mark.slow
@pytest.mark.parametrize("capacity", [100, 1000])
def test_lfu_beats_lru_beats_fifo_on_static_zipf(hit_ratios, capacity):
    """With fixed popularity, frequency beats recency, which beats insertion order."""
    assert hit_ratios["lfu", capacity] > hit_ratios["lru", capacity] + 0.02
    assert hit_ratios["lru", capacity] > hit_ratios["fifo", capacity] + 0.02
