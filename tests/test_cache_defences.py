"""Cache defences: serve_stale, coalesce, ttl_jitter and warm (all off by default)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import run
from simulator.build import build
from simulator.components.cache_store import CacheStore
from simulator.scenario import ScenarioError


def cached(cache: dict | None = None, backend: dict | None = None, faults: list | None = None,
           rate: str = "400/s", duration: str = "60s", warmup: str = "20s") -> dict:
    """A workload straight onto a cache in front of a 2-connection database (about 100 queries/s)."""
    return {
        "name": "cache", "duration": duration, "warmup": warmup, "seed": 3, "sample_interval": "1s",
        "workload": [{"name": "w", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": rate}}],
        "components": [
            {"kind": "cache", "name": "cache", "capacity": 1000, "policy": "lru",
             "keys": {"dist": "zipf", "alpha": 0.9, "catalog": 5000}, "backend": "db", **(cache or {})},
            backend or {"kind": "database", "name": "db", "connections": 2,
                        "query_time": {"dist": "exponential", "mean": "20ms"}},
        ],
        "faults": faults or [],
    }


FLUSH = [{"kind": "cache_flush", "name": "flush", "target": "cache", "at": "20s"}]
"""A full flush at the start of the measured window: the counters count from it."""


# CacheStore


def test_lookup_keeping_stale_leaves_an_expired_entry_in_place():
    """An expired entry is a miss that stays (not counted as an expiration) until refilled."""
    store = CacheStore(2, "lru", ttl=1.0)
    store.insert("a", 0.0)
    assert not store.lookup_keeping_stale("a", 1.5)
    assert "a" in store and store.expiry("a") == 1.0 and store.expirations == 0
    store.insert("a", 1.5)
    assert store.lookup_keeping_stale("a", 2.0) and store.hits == 1 and store.misses == 1


def test_plain_lookup_still_drops_an_expired_entry():
    """Default lazy expiry is unchanged: the expired entry is removed on the miss."""
    store = CacheStore(2, "lru", ttl=1.0)
    store.insert("a", 0.0)
    assert not store.lookup("a", 1.5)
    assert "a" not in store and store.expiry("a") is None and store.expirations == 1


def test_insert_with_its_own_ttl():
    """An insert's ttl overrides the store's for that entry only."""
    store = CacheStore(3, "fifo", ttl=10.0)
    store.insert("a", 1.0, ttl=2.5)
    store.insert("b", 1.0)
    assert store.expiry("a") == 3.5 and store.expiry("b") == 11.0


# coalesce


def test_coalescing_cuts_backend_calls_after_a_flush(make_scenario):
    """After a full flush, the same requests cost far fewer backend calls with coalescing."""
    plain = run(make_scenario(cached(faults=FLUSH))).summary
    merged = run(make_scenario(cached({"coalesce": True}, faults=FLUSH))).summary
    assert "coalesced.cache" not in plain
    assert merged["coalesced.cache"] > 0
    assert merged["backend_calls.cache"] < 0.8 * plain["backend_calls.cache"]
    assert merged["offered"] == plain["offered"]  # the same arrivals (keys come from the same streams)


def test_coalesced_misses_all_fail_with_their_fetch(make_scenario):
    """When the one fetch fails, every miss that joined it fails too; the books still balance."""
    failing = {"kind": "external", "name": "db", "latency": {"dist": "constant", "value": "50ms"},
               "error_rate": 1.0}
    s = run(make_scenario(cached({"coalesce": True}, backend=failing))).summary
    assert s["coalesced.cache"] > 0
    assert s["availability"] == 0.0
    assert s["backend_calls.cache"] + s["coalesced.cache"] == pytest.approx(s["errors"], rel=1e-3)


# serve_stale


def test_serve_stale_keeps_cached_keys_available_with_a_failing_backend(make_scenario):
    """With every backend call failing, expired entries still answer (degraded): availability ~ 1."""
    failing = {"kind": "external", "name": "db", "latency": {"dist": "constant", "value": "5ms"},
               "error_rate": 1.0}
    every_key = {"ttl": "2s", "warm": True, "capacity": 5000}  # every key cached at start, expired by 2s
    stale = run(make_scenario(cached({**every_key, "serve_stale": True}, backend=failing))).summary
    plain = run(make_scenario(cached(every_key, backend=failing))).summary
    assert stale["availability"] == pytest.approx(1.0)
    assert stale["degraded"] == pytest.approx(stale["stale_served.cache"], rel=1e-3)
    assert plain["availability"] < 0.01


def test_serve_stale_with_coalescing_answers_every_waiter_stale(make_scenario):
    """Misses that joined a failed fetch all hear the stale entry."""
    failing = {"kind": "external", "name": "db", "latency": {"dist": "constant", "value": "50ms"},
               "error_rate": 1.0}
    spec = {"ttl": "2s", "warm": True, "capacity": 5000, "serve_stale": True, "coalesce": True}
    s = run(make_scenario(cached(spec, backend=failing))).summary
    assert s["availability"] == pytest.approx(1.0)
    assert s["coalesced.cache"] > 0
    # equal up to the few fetches that straddle the window's edges
    assert s["stale_served.cache"] == pytest.approx(s["backend_calls.cache"] + s["coalesced.cache"], rel=1e-3)
    assert s["stale_served.cache"] == pytest.approx(s["degraded"], rel=1e-3)


# ttl_jitter


def built_cache(make_scenario, cache: dict):
    scenario = make_scenario(cached(cache))
    return build(scenario.resolve(None), seed=1, replication=0).components["cache"]


def test_ttl_jitter_spreads_expiries_within_bounds(make_scenario):
    """Keys filled at the same instant expire at different times, all within ttl * [1 - j, 1 + j]."""
    expiries = np.array([c.store.expiry(k) for c in [built_cache(make_scenario, {
        "ttl": "10s", "ttl_jitter": "10%", "warm": True})] for k in range(1000)])
    assert len(set(expiries)) == 1000
    assert expiries.min() >= 9.0 and expiries.max() <= 11.0
    assert expiries.min() < 9.2 and expiries.max() > 10.8  # spread across the whole range


def test_without_jitter_keys_filled_together_expire_together(make_scenario):
    """The default: every key filled at the same instant expires at the same time."""
    cache = built_cache(make_scenario, {"ttl": "10s", "warm": True})
    assert {cache.store.expiry(k) for k in range(1000)} == {10.0}


def test_ttl_jitter_needs_a_ttl(make_scenario):
    """ttl_jitter without ttl is an error pointing at the key."""
    with pytest.raises(ScenarioError) as info:
        make_scenario(cached({"ttl_jitter": "10%"}))
    [problem] = info.value.problems
    assert problem.path == "components[0].ttl_jitter"


# warm


def test_warm_cache_hits_at_its_steady_ratio_from_the_first_interval(make_scenario):
    """A warm cache hits at least as often as in steady state from its first second; a cold one far less.

    (Warm starts with the top keys, the best static content, so it begins slightly above LRU's
    steady hit ratio and settles down to it.)
    """

    def first_and_steady(cache: dict) -> tuple[float, float]:
        r = run(make_scenario(cached(cache, rate="100/s")))
        ratio = r.series[(r.series["component"] == "cache") & (r.series["metric"] == "hit_ratio")]
        return float(ratio["value"].iloc[0]), r.summary["hit_ratio.cache"]

    warm_first, steady = first_and_steady({"warm": True})
    cold_first, _ = first_and_steady({})
    assert warm_first > steady - 0.05
    assert cold_first < steady - 0.3


# defaults


def test_defaults_report_only_backend_calls(make_scenario):
    """With no defence on, the cache adds just ``backend_calls`` (its misses) to the summary."""
    s = run(make_scenario(cached(rate="50/s"))).summary
    cache_keys = {k for k in s if k.endswith(".cache")}
    assert cache_keys == {"hit_ratio.cache", "backend_calls.cache"}
    assert not math.isnan(s["hit_ratio.cache"]) and s["backend_calls.cache"] > 0
