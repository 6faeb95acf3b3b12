"""A cache holding versioned data (issue 17): stale reads under TTL against the closed form, what a
write-behind crash loses, the write-behind books, and the policies that must never serve stale data.

References are written from the formulas (docs/consistency.md, "Checked against closed forms"),
not from the code; counts a test compares are taken independently of the cache's own counters
(the run's per-request records, the database's ledger) where the claim is about those counters.
"""

from __future__ import annotations

import math

import pytest

import simulator.runner as runner
from simulator import run
from simulator.build import build
from simulator.data.ledger import Ledger
from simulator.scenario import ScenarioError


def data_scenario(cache: dict | None = None, *, rate: str = "500/s", write: str = "10%",
                  catalog: int = 20, duration: str = "60s", warmup: str = "10s",
                  workload: list | None = None, faults: list | None = None, seed: int = 5) -> dict:
    """One data workload straight onto a key-less cache (it uses the workload's keys) in front of
    a database with ample connections and a constant 1 ms query."""
    return {
        "name": "data", "duration": duration, "warmup": warmup, "seed": seed,
        "workload": workload or [
            {"name": "w", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": rate},
             "operations": {"write": write}, "keys": {"dist": "uniform", "catalog": catalog}}],
        "components": [
            {"kind": "cache", "name": "cache", "capacity": 10_000, "ttl": "1s", "backend": "db",
             "hit_time": "1ms", **(cache or {})},
            {"kind": "database", "name": "db", "connections": 100,
             "query_time": {"dist": "constant", "value": "1ms"}},
        ],
        "faults": faults or [],
    }


def run_keeping_system(monkeypatch, scenario):
    """Run ``scenario`` and return (result, built system), to read the books after the run."""
    built = []
    original = runner.build

    def build(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(runner, "build", build)
    return run(scenario), built[0]


# TTL staleness (closed form)


def test_ttl_stale_fraction_matches_the_closed_form(make_scenario):
    """Keys read far more often than their TTL T are refilled right after each expiry, so the
    cached copy's age is uniform on [0, T); with Poisson writes at rate w per key and no
    invalidation the stale share of hits is X̄ = 1 - (1 - e^(-wT)) / (wT). Each cycle also has
    its one miss (fresh), so the share of all reads is X̄ * rT / (1 + rT) for r reads/s per key.

    Reads in one TTL cycle share its fate, so the standard error counts cycles, not reads: per
    cycle the stale share is X = (1 - E/T)+ with E ~ Exp(w), whose second moment is
    1 - 2/a + 2(1 - e^(-a))/a^2 (a = wT); 4 sigma over K keys x (window / T) cycles.
    """
    keys, rate, write_rate, ttl, window = 20, 2000.0, 0.5, 1.0, 230.0
    a = write_rate * ttl
    mean = 1 - (1 - math.exp(-a)) / a
    second = 1 - 2 / a + 2 * (1 - math.exp(-a)) / a ** 2
    reads_per_key = rate * (1 - write_rate * keys / rate) / keys
    expected = mean * reads_per_key * ttl / (1 + reads_per_key * ttl)
    cycles = keys * window / ttl
    sigma = math.sqrt(second - mean ** 2) / math.sqrt(cycles)
    s = run(make_scenario(data_scenario(rate=f"{rate:g}/s", write=f"{100 * write_rate * keys / rate:g}%",
                                        catalog=keys, duration="240s"))).summary
    measured = s["stale_reads.cache"]
    assert measured == pytest.approx(expected, abs=4 * sigma), (measured, expected, sigma)
    assert s["stale_reads.db"] == 0.0  # the database answers its latest version
    assert 0 < s["staleness_p99.cache"] < ttl  # nothing older than one TTL is ever answered


# policies that never serve stale data without other writers


@pytest.mark.parametrize("cache", [
    {"write_policy": "write_through", "invalidate": "on_write"},
    {"invalidate": "on_write"},
    {"invalidate": "events"},
], ids=["write_through+on_write", "write_around+on_write", "events, no delay"])
def test_invalidating_at_commit_serves_no_stale_read(make_scenario, cache):
    """Every write passes through this cache (or the database's events reach it at once), so no
    entry outlives the version it holds: zero stale reads, while plain TTL serves many."""
    s = run(make_scenario(data_scenario(cache))).summary
    plain = run(make_scenario(data_scenario())).summary
    assert s["reads.cache"] == plain["reads.cache"] > 10_000
    assert s["stale_reads.cache"] == 0.0
    assert plain["stale_reads.cache"] > 0.3


def test_write_through_keeps_hits_where_invalidation_forces_misses(make_scenario):
    """write_through stores the committed version (a hit next time), on_write drops it (a miss)."""
    through = run(make_scenario(data_scenario({"write_policy": "write_through"}))).summary
    dropped = run(make_scenario(data_scenario({"invalidate": "on_write"}))).summary
    assert through["reads.db"] < 0.5 * dropped["reads.db"]  # misses: the database's reads


def test_cache_aside_fill_can_install_a_superseded_version(make_scenario):
    """The classic race: a caller-side fill lands one hit_time after its database read; a write
    committed (and invalidated) in between leaves the older version cached, stale until its TTL.
    The cache's own fill at the database's answer (read-through) has no such window."""
    race = {"invalidate": "on_write", "hit_time": "20ms"}
    aside = run(make_scenario(data_scenario({**race, "read_path": "cache_aside"}))).summary
    through = run(make_scenario(data_scenario(race))).summary
    assert through["stale_reads.cache"] == 0.0
    assert aside["stale_reads.cache"] > 0.0


def test_events_with_a_delay_leave_a_stale_window(make_scenario):
    """A change event dropped 50 ms after the commit leaves reads in between stale, at most 50 ms old."""
    s = run(make_scenario(data_scenario({"invalidate": "events", "invalidation_delay": "50ms"}))).summary
    assert s["stale_reads.cache"] > 0.0
    assert s["staleness_p99.cache"] <= 0.05 + 1e-9


def test_the_caches_own_keys_win(make_scenario, monkeypatch):
    """A cache with keys of its own picks the key and the database sees that same key."""
    scenario = data_scenario({"keys": {"dist": "uniform", "catalog": 1}, "write_policy": "write_through"},
                             catalog=1000, duration="10s", warmup="0s")
    _, system = run_keeping_system(monkeypatch, make_scenario(scenario))
    assert list(system.ctx.data.ledger("db").versions()) == [0]  # every write went to key 0


# write-behind


def write_behind(interval: str = "1s", crashes: tuple = (), **kwargs) -> dict:
    """Writers (every request a write) and readers onto a write-behind cache; crashes as given."""
    workload = [
        {"name": "writers", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": "200/s"},
         "operations": {"write": 1.0}, "keys": {"dist": "uniform", "catalog": 1000}},
        {"name": "readers", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": "200/s"},
         "operations": {"write": 0.0}, "keys": {"dist": "uniform", "catalog": 1000}},
    ]
    faults = [{"kind": "crash", "name": f"crash{i}", "target": "cache", "at": f"{at}s", "for": "500ms"}
              for i, at in enumerate(crashes)]
    return data_scenario({"write_policy": "write_behind", "flush_interval": interval, **kwargs},
                         workload=workload, faults=faults, duration="40s", **{"warmup": "5s"})


def ok_writes(result):
    """The writers' requests the cache acknowledged (answered ok), from the per-request records."""
    requests = result.requests
    return requests[(requests["workload"] == "writers") & (requests["outcome"] == "ok")]


def test_a_crash_loses_exactly_the_writes_accepted_since_the_last_flush(make_scenario):
    """Flushes happen every I seconds from the start and each takes the whole buffer (1 ms to
    commit), so a crash at c loses the writes acknowledged in (floor(c / I) * I, c]: counted from
    the per-request records (writers answered ok), not from the cache's counter."""
    interval, crashes = 1.0, (12.4, 23.75, 31.05)
    result = run(make_scenario(write_behind(f"{interval:g}s", crashes)))
    writes = ok_writes(result)
    ends = writes["t_end"]
    expected = sum(int(((ends > math.floor(c / interval) * interval) & (ends <= c)).sum()) for c in crashes)
    assert expected > 3 * 40  # about 200/s x (0.4 + 0.75 + 0.05) s
    assert result.summary["lost_writes.cache"] == expected
    events = result.events[result.events["kind"] == "lost_writes"]
    assert sum(int(d.split()[0]) for d in events["detail"]) == expected


def test_write_behind_books_balance(make_scenario, monkeypatch):
    """Every write the cache accepted was committed by a flush, lost in a crash, or is still
    buffered (or being flushed) at the end; the ledger confirms the commits. Reads of buffered
    keys answer the cache's newer value: never stale."""
    result, system = run_keeping_system(monkeypatch, make_scenario(write_behind("2s", (12.3, 25.9))))
    data = system.components["cache"].data
    ledger = system.ctx.data.ledger("db")
    writes = ok_writes(result)
    assert data.accepted == len(writes)
    assert data.flushed == ledger.commits_total  # only flushes write to this database
    assert data.accepted == data.flushed + data.lost + len(data.buffer) + data.flushing
    assert data.lost > 0 and data.flushed > 0
    assert result.summary["stale_reads.cache"] == 0.0
    assert result.summary["reads.cache"] > 5000


def test_flush_batches_cap_each_query(make_scenario):
    """A flush sends ceil(buffered / flush_batch) queries: smaller batches, more database queries."""
    big = run(make_scenario(write_behind("1s"))).summary
    small = run(make_scenario(write_behind("1s", flush_batch=10))).summary
    assert small["lost_writes.cache"] == big["lost_writes.cache"] == 0.0
    # ~200 writes a flush: 2 queries (batch 100) vs about 20; the rest of the calls are read misses
    flushes_small = small["backend_calls.cache"] - small["reads.db"]
    flushes_big = big["backend_calls.cache"] - big["reads.db"]
    assert 35 * 2 <= flushes_big <= 35 * 3
    assert flushes_small > 6 * flushes_big
    assert small["writes.db"] == pytest.approx(big["writes.db"], rel=0.02)


# plain caches, crashes, validation


def test_a_crash_empties_a_plain_cache(make_scenario):
    """A crashed cache restarts empty (docs/faults.md): its entries are gone, not kept for later."""
    scenario = {
        "name": "plain", "duration": "20s", "warmup": "0s",
        "workload": [{"name": "w", "entry": "cache", "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
        "components": [
            {"kind": "cache", "name": "cache", "capacity": 100, "keys": {"dist": "uniform", "catalog": 50},
             "backend": "db"},
            {"kind": "database", "name": "db", "connections": 10, "query_time": "1ms"}],
        "faults": [{"kind": "crash", "name": "c", "target": "cache", "at": "10s", "for": "1s"}],
    }
    result = run(make_scenario(scenario))
    emptied = result.events[result.events["kind"] == "contents_lost"]
    assert list(emptied["detail"]) == ["50 held in memory"]
    assert "reads.cache" not in result.summary  # no data workload: no consistency books
    cache = build(make_scenario(scenario).resolve(None), seed=1, replication=0).components["cache"]
    assert cache.data is None and "handle" not in vars(cache)  # the plain path, untouched


def test_ledger_change_events_reach_subscribers_in_commit_order():
    """``invalidate: events`` rides on the ledger's commit callbacks: (key, new version), in order."""
    ledger, heard = Ledger("db"), []
    ledger.subscribe(lambda key, version: heard.append((key, version)))
    for key, now in ((3, 0.5), (1, 0.7), (3, 0.9)):
        ledger.commit(key, now)
    assert heard == [(3, 1), (1, 1), (3, 2)]


ONLY_BEHIND = "only applies with write_policy: write_behind"


@pytest.mark.parametrize(("cache", "path", "words"), [
    ({"write_policy": "write_behind"}, "components[0].write_policy", "needs a flush_interval"),
    ({"flush_interval": "1s"}, "components[0].flush_interval", ONLY_BEHIND),
    ({"flush_batch": 10}, "components[0].flush_batch", ONLY_BEHIND),
    ({"invalidation_delay": "1s"}, "components[0].invalidation_delay", "applies with invalidate: events"),
])
def test_write_behind_and_invalidation_settings_are_checked(make_scenario, cache, path, words):
    with pytest.raises(ScenarioError) as info:
        make_scenario(data_scenario(cache))
    [problem] = info.value.problems
    assert problem.path == path and words in problem.message


def test_a_keyless_cache_needs_keys_from_its_workloads(make_scenario):
    scenario = data_scenario()
    del scenario["workload"][0]["keys"]
    with pytest.raises(ScenarioError) as info:
        make_scenario(scenario)
    [problem] = info.value.problems
    assert problem.path == "components[0]"  # the cache, whose keys are missing
    assert "no keys of its own" in problem.message and "workload 'w'" in problem.message


def test_data_settings_need_a_data_workload(make_scenario):
    scenario = data_scenario({"write_policy": "write_through", "keys": {"dist": "uniform", "catalog": 5}})
    del scenario["workload"][0]["operations"]
    with pytest.raises(ScenarioError) as info:
        make_scenario(scenario)
    [problem] = info.value.problems
    assert problem.path == "components[0].write_policy" and "operations" in problem.message


def test_flushes_refused_by_a_dead_database_are_retried_not_lost(make_scenario, monkeypatch):
    """While the database is down every flush fails and its batch goes back to the buffer; once it
    is back they commit: nothing is lost, the books balance, and the database's commits resume."""
    scenario = write_behind("1s")
    scenario["faults"] = [{"kind": "crash", "name": "db-down", "target": "db", "at": "10.5s", "for": "5s"}]
    result, system = run_keeping_system(monkeypatch, make_scenario(scenario))
    data = system.components["cache"].data
    ledger = system.ctx.data.ledger("db")
    assert data.lost == 0 and result.summary["lost_writes.cache"] == 0.0
    assert data.accepted == len(ok_writes(result))  # the cache kept acknowledging writes meanwhile
    assert data.accepted == ledger.commits_total + len(data.buffer) + data.flushing
    times = [ledger.committed_at(k, v) for k in range(1000) for v in range(1, ledger.latest(k) + 1)]
    assert not any(10.5 < t < 15.5 for t in times)  # nothing committed while it was down
