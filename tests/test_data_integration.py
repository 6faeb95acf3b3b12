"""The data model across components: a write-behind cache in front of a replicated database, a
failover seen by a cache invalidating on change events. Each part is tested on its own elsewhere
(test_cache_consistency, test_db_consistency); these check the seams between them."""

from __future__ import annotations

from simulator.build import build, start
from tests.test_cache_consistency import write_behind


def _system(make_scenario, data: dict, until: float):
    scenario = make_scenario(data)
    system = build(scenario.spec, seed=scenario.spec.seed, replication=0)
    start(system, 1.0)
    system.ctx.env.run(until=until)
    return system


def test_a_flushed_batch_commits_every_write_through_the_database(make_scenario):
    """A write-behind flush carries many writes in one query: each must commit through the
    database (counted as accepted there, shipped to its replicas), so the database's books balance
    and, once the lag has passed, its replica holds every version the primary committed."""
    data = write_behind("1s", flush_batch=50)
    db = data["components"][1]
    db.update({"read_replicas": 1, "replication": "async", "replication_lag": "100ms"})
    system = _system(make_scenario, data, 30.0)
    database = system.components["db"].data
    assert database.ledger.commits_total > 1000  # batches of up to 50, many flushes
    assert database.accepted == database.ledger.commits_total + database.lost + database.refused
    [log] = database.logs.values()
    later = 30.0 + 1.0  # every write shipped by 30 s is applied 100 ms later
    for key, latest in database.ledger.versions().items():
        assert log.version(key, later) == latest


def test_a_failover_rollback_is_a_change_event_for_caches_listening(make_scenario):
    """Under async replication a promotion forgets the writes the new primary never had; a
    write-through cache holds the versions it wrote, and with ``invalidate: events`` it hears the
    rollback as a change, so it cannot keep answering a lost version."""
    data = write_behind("1s")
    cache = data["components"][0]
    for key in ("write_policy", "flush_interval"):
        del cache[key]
    cache.update({"write_policy": "write_through", "invalidate": "events", "ttl": "1h"})
    data["components"][1].update({"read_replicas": 1, "replication": "async", "replication_lag": "2s"})
    data["faults"] = [{"kind": "db_primary_failure", "name": "dies", "target": "db", "at": "10s",
                       "for": "5s", "promotion_delay": "100ms"}]
    system = _system(make_scenario, data, 10.2)
    database = system.components["db"].data
    assert database.lost > 0
    held = system.components["cache"].data.versions
    store = system.components["cache"].store
    for key, version in held.items():
        if key in store:
            assert version <= database.ledger.latest(key), (key, version)
