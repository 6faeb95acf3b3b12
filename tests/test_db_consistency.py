"""Database replication and concurrency control against closed forms (issue 17).

References are written from the formulas, not from the code: the stale share of replica reads
under a constant lag, the exact loss at a promotion, the counter identity under lost updates,
and the books of every write accepted.
"""

from __future__ import annotations

import math

import pytest

from simulator.build import build, start
from simulator.components.concurrency import KeyLocks
from simulator.components.replication import ReplicaLog
from simulator.data.ledger import Ledger
from simulator.runner import run

QUERY = {"dist": "exponential", "mean": "1ms"}


def _scenario(make_scenario, db: dict, *, rate="2000/s", write="10%", rmw=False, catalog=100,
              faults=(), duration="65s", warmup="5s", seed=11):
    return make_scenario({
        "name": "db-consistency", "duration": duration, "warmup": warmup, "seed": seed,
        "workload": [{"name": "users", "entry": "db", "arrivals": {"pattern": "poisson", "rate": rate},
                      "operations": {"write": write, "read_modify_write": rmw},
                      "keys": {"dist": "uniform", "catalog": catalog}}],
        "components": [{"kind": "database", "name": "db", "connections": 200, "query_time": QUERY,
                        **db}],
        "faults": list(faults),
    })


def _system(scenario, until: float):
    system = build(scenario.spec, seed=scenario.spec.seed, replication=0)
    start(system, 1.0)
    system.ctx.env.run(until=until)
    return system


def _stale_sigma(p: float, w: float, lag: float, reads: float, keys: int, seconds: float) -> float:
    """Standard error of the stale share: binomial over the reads, plus the correlation of reads of
    one key inside a lag window. The indicator "a write to the key in the last D" has autocovariance
    e^(-w(D+t)) - e^(-2wD) for |t| < D (0 beyond), whose integral over t, divided by the key-seconds
    observed, is the variance its time average adds."""
    integral = 2 * (math.exp(-w * lag) * (1 - math.exp(-w * lag)) / w - lag * math.exp(-2 * w * lag))
    return math.sqrt(p * (1 - p) / reads + integral / (keys * seconds))


@pytest.mark.parametrize("lag", [0.05, 0.25])
def test_replica_reads_are_stale_with_probability_one_minus_exp_minus_w_d(make_scenario, lag):
    """Poisson writes at w per key, constant lag D: a replica read is stale iff a write committed
    in the last D, probability 1 - e^(-wD). 2000/s, 10% writes over 100 keys: w = 2/s."""
    scenario = _scenario(make_scenario, {"read_replicas": 2, "replication_lag": lag})
    summary = run(scenario).summary
    w = 2000 * 0.10 / 100
    expected = 1 - math.exp(-w * lag)
    reads = summary["reads.db"]
    sigma = _stale_sigma(expected, w, lag, reads, 100, 60.0)
    assert reads > 100_000
    assert abs(summary["stale_reads.db"] - expected) < 4 * sigma, (summary["stale_reads.db"], expected, sigma)
    assert summary["staleness_p99.db"] <= lag + 1e-9  # superseded at most D before it was applied
    assert summary["lost_writes.db"] == 0


def test_without_lag_or_under_sync_no_read_is_stale_and_sync_writes_wait_the_lag(make_scenario):
    """Lag 0 is the primary's truth; sync commits when every replica has applied: never stale, and
    a write's answer waits exactly the (constant) lag after its query."""
    zero = run(_scenario(make_scenario, {"read_replicas": 2}, duration="15s")).summary
    assert zero["stale_reads.db"] == 0.0 and zero["writes.db"] > 1000
    sync = run(_scenario(make_scenario, {"read_replicas": 2, "replication": "sync",
                                         "replication_lag": "300ms"}, duration="15s")).summary
    assert sync["stale_reads.db"] == 0.0
    writes_only = run(_scenario(make_scenario, {"read_replicas": 2, "replication": "sync",
                                                "replication_lag": "300ms"},
                                write="100%", rate="200/s", duration="15s")).summary
    assert writes_only["latency_mean"] == pytest.approx(0.001 + 0.3, abs=0.0003)  # query + lag


def _commit_times(ledger: Ledger) -> list[float]:
    return [ledger.committed_at(key, v) for key in list(ledger._commits)
            for v in range(1, ledger.latest(key) + 1)]


def test_an_async_promotion_loses_exactly_the_writes_not_yet_applied_at_the_promoted_replica(make_scenario):
    """Constant lag D = 2 s, the primary dies at 20 s, promotion 0.5 s later: the writes committed
    within D before the promotion instant P had not reached the replica (c + D > P) and are lost;
    the ledger rolls back to the ones before P - D."""
    crash, delay, lag = 20.0, 0.5, 2.0
    fault = {"kind": "db_primary_failure", "name": "dies", "target": "db", "at": f"{crash}s",
             "for": "10s", "promotion_delay": f"{delay}s"}
    scenario = _scenario(make_scenario, {"read_replicas": 2, "replication_lag": f"{lag}s"},
                         faults=[fault], duration="40s", warmup="0s")
    promotion = crash + delay
    system = _system(scenario, promotion - 1e-6)
    data = system.components["db"].data
    before = _commit_times(data.ledger)
    expected_lost = sum(1 for c in before if c > promotion - lag)
    assert expected_lost > 100  # about 200 writes/s for the 1.5 s from P - D to the crash
    system.ctx.env.run(until=promotion + 1e-6)
    assert data.promotions == [(pytest.approx(promotion), expected_lost)]
    assert data.lost == expected_lost
    assert data.ledger.commits_total == len(before) - expected_lost
    assert sorted(_commit_times(data.ledger)) == sorted(c for c in before if c <= promotion - lag)
    assert system.ctx.data.counts["db"]["lost_writes"] == expected_lost


def test_a_sync_promotion_loses_nothing(make_scenario):
    fault = {"kind": "db_primary_failure", "name": "dies", "target": "db", "at": "5s", "for": "5s",
             "promotion_delay": "500ms"}
    scenario = _scenario(make_scenario, {"read_replicas": 2, "replication": "sync",
                                         "replication_lag": "200ms"},
                         faults=[fault], duration="15s", warmup="0s")
    data = _system(scenario, 14.0).components["db"].data
    assert data.promotions and data.promotions[0][1] == 0 and data.lost == 0
    # writes in their wait for the replicas when the primary died were reset with their query:
    # neither committed nor acknowledged, so every write that ran to its end is in the ledger
    assert data.refused == 0 and data.accepted == data.ledger.commits_total


def test_a_sync_write_holds_its_connection_until_the_replicas_applied_it(make_scenario):
    """Under sync a write's connection waits out the lag, as a PostgreSQL backend waits for its
    standbys: with c connections, a 1 ms query and a 100 ms lag the primary commits at most
    c / 0.101 s writes per second, whatever is offered; async commits them all."""
    offered = {"write": "100%", "rate": "60/s", "duration": "30s"}
    db = {"connections": 2, "read_replicas": 1, "replication_lag": "100ms", "queue_limit": 5}
    sync = run(_scenario(make_scenario, {**db, "replication": "sync"}, **offered)).summary
    plain = run(_scenario(make_scenario, {**db, "replication": "async"}, **offered)).summary
    capacity = 2 / 0.101 * 25  # commits in the 25 s measured window
    assert sync["writes.db"] <= capacity * 1.02
    assert sync["writes.db"] > capacity * 0.9  # saturated: it commits about as fast as it can
    assert sync["rejected"] > 0 and sync["utilization.db"] > 0.45  # 2 of 4 connections, always busy
    assert plain["rejected"] == 0 and plain["writes.db"] == plain["ok"]


@pytest.mark.parametrize("replication", ["async", "sync"])
def test_every_write_accepted_is_committed_lost_or_refused(make_scenario, replication):
    """Conservation over the whole run, through a failover (async loses some, sync refuses some)."""
    fault = {"kind": "db_primary_failure", "name": "dies", "target": "db", "at": "5s", "for": "3s",
             "promotion_delay": "300ms"}
    scenario = _scenario(make_scenario, {"read_replicas": 2, "replication": replication,
                                         "replication_lag": {"dist": "exponential", "mean": "500ms"},
                                         "concurrency": "cas"},
                         rmw=True, write="30%", catalog=5, rate="400/s", faults=[fault],
                         duration="20s", warmup="0s")
    data = _system(scenario, 12.0).components["db"].data
    assert data.accepted == data.ledger.commits_total + data.lost + data.refused
    assert (data.lost > 0) == (replication == "async")
    for key in range(5):  # cas increments, rolled back at the failover: still one count per version
        assert list(data.values[key]) == list(range(data.ledger.latest(key) + 1))
        for log in data.logs.values():  # no replica holds a version the primary never had
            assert log.version(key, 12.0) <= data.ledger.latest(key)


def _counter_run(make_scenario, concurrency: str, until: float = 9.0):
    """A like-counter: 5 keys, 400 increments/s (80/s per key), each a 5 ms read then a 5 ms
    write: another increment of the key lands in one's read-to-write window about 40% of the time."""
    scenario = _scenario(make_scenario, {"concurrency": concurrency, "query_time": "5ms"},
                         rmw=True, write="100%", catalog=5, rate="400/s", duration="10s", warmup="0s")
    system = _system(scenario, until)
    return system.components["db"].data, system.ctx.data.counts["db"]


def test_without_concurrency_control_the_count_is_the_increments_minus_the_lost_updates(make_scenario):
    data, counts = _counter_run(make_scenario, "none")
    committed = data.ledger.commits_total  # every commit here is an increment
    total = sum(data.value(key) for key in range(5))
    assert counts["lost_updates"] > 100
    assert total == committed - counts["lost_updates"]
    assert counts["writes"] == committed


@pytest.mark.parametrize("concurrency", ["cas", "lock"])
def test_cas_and_lock_lose_no_update(make_scenario, concurrency):
    """Each key's value after version v is exactly v: every increment counted once, in order."""
    data, counts = _counter_run(make_scenario, concurrency)
    assert counts["lost_updates"] == 0 and data.ledger.commits_total > 3000
    for key in range(5):
        assert list(data.values[key]) == list(range(data.ledger.latest(key) + 1))
    assert (counts["cas_conflicts"] > 0) == (concurrency == "cas")


def test_a_lock_costs_latency_and_cas_retries_cost_queries(make_scenario):
    """Same increments: the lock queues them per key, cas repeats the losers' two queries."""
    base = {"rate": "150/s", "write": "100%", "rmw": True, "catalog": 2, "duration": "30s"}
    results = {c: run(_scenario(make_scenario, {"concurrency": c, "query_time": "5ms"}, **base)).summary
               for c in ("none", "cas", "lock")}
    assert results["none"]["latency_mean"] == pytest.approx(0.010, rel=0.01)  # two 5 ms queries
    assert results["lock"]["latency_mean"] > 1.5 * results["none"]["latency_mean"]
    assert results["cas"]["latency_mean"] > results["none"]["latency_mean"]
    assert results["cas"]["cas_conflicts.db"] > 0 and results["none"]["lost_updates.db"] > 0


def test_a_replica_applies_in_order_so_a_write_waits_for_the_slower_one_before_it():
    """Replica application time = max(previous application time, commit time + lag)."""
    log = ReplicaLog()
    log.ship(1, 1, 0.0, 5.0)  # committed at 0 with a 5 s lag
    log.ship(2, 1, 1.0, 1.5)  # committed at 1 with a 0.5 s lag: waits for the first
    log.ship(1, 2, 2.0, 6.0)
    assert [log.version(2, t) for t in (1.6, 4.99, 5.0)] == [0, 0, 1]
    assert [log.version(1, t) for t in (5.0, 5.99, 6.0)] == [1, 1, 2]
    assert not log.pending


def test_a_lock_goes_to_its_waiters_in_order_even_when_each_ends_at_once():
    """FIFO hand-over; 5,000 waiters whose queries are refused at once do not nest calls."""
    locks, order = KeyLocks(), []

    def waiter(i, ends_at_once):
        def grant():
            order.append(i)
            if ends_at_once:
                locks.release(7)
            return True
        return grant

    locks.acquire(7, waiter(0, False))
    for i in range(1, 5001):
        locks.acquire(7, waiter(i, i < 5000))
    locks.release(7)
    assert order == list(range(5001)) and 7 in locks.held  # the last one holds it
    locks.release(7)
    assert locks.held == {}


def test_ledger_truncate_forgets_the_versions_after_the_one_kept():
    ledger = Ledger("db")
    for t in (1.0, 2.0, 3.0):
        ledger.commit(4, t)
    ledger.commit(9, 1.5)
    assert ledger.truncate(4, 1) == 2 and ledger.latest(4) == 1 and ledger.commits_total == 2
    assert ledger.truncate(4, 5) == 0 and ledger.truncate(7, 0) == 0
    assert ledger.commit(4, 4.0) == 2 and ledger.committed_at(4, 2) == 4.0
    assert ledger.versions() == {4: 2, 9: 1}


def test_read_fraction_where_operations_decide_is_refused(validate_one_line):
    line = validate_one_line({
        "name": "bad", "duration": "10s",
        "workload": [{"name": "users", "entry": "db", "arrivals": {"pattern": "poisson", "rate": "10/s"},
                      "operations": {"write": "10%"}, "keys": {"dist": "uniform", "catalog": 10}}],
        "components": [{"kind": "database", "name": "db", "connections": 2, "query_time": "1ms",
                        "read_replicas": 1, "read_fraction": "80%"}]})
    assert "components[0].read_fraction" in line and "operations" in line and "remove read_fraction" in line


def test_an_unknown_concurrency_rule_is_refused(validate_one_line):
    line = validate_one_line({
        "name": "bad", "duration": "10s",
        "workload": [{"name": "users", "entry": "db", "arrivals": {"pattern": "poisson", "rate": "10/s"}}],
        "components": [{"kind": "database", "name": "db", "connections": 2, "query_time": "1ms",
                        "concurrency": "optimistic"}]})
    assert "components[0].concurrency" in line
