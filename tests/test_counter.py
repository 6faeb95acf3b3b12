"""``kind: counter``: exact vs batched counting, checked against references built from the requests.

The references come from the clients' side (each increment's time and outcome), not from the
counter: a batched counter must send exactly one database write per key touched between two
flushes, and a crash must lose exactly the increments answered since the last flush before it.
"""

from __future__ import annotations

import pytest

from simulator.build import build, start
from simulator.data.ops import READ
from simulator.request import OK
from simulator.scenario import scenario_from_dict

FLUSH, CRASH, RESTART, END = 0.5, 10.3, 12.3, 20.0
RUN_UNTIL = END + 0.25  # arrivals stopped at END + drain, the flush at 20.0 has answered, 20.5 not come


def _scenario(mode: str, **counter) -> dict:
    spec = {"kind": "counter", "name": "views", "backend": "db", "mode": mode, **counter}
    return {
        "name": "counter-test", "duration": END, "drain": "100ms", "seed": 11,
        "workload": [{"name": "users", "entry": "views", "arrivals": {"pattern": "poisson", "rate": "400/s"},
                      "operations": {"write": "90%"}, "keys": {"dist": "uniform", "catalog": 500}}],
        "components": [spec, {"kind": "database", "name": "db", "connections": 50,
                              "query_time": {"dist": "exponential", "mean": "1ms"}}],
        "faults": [{"kind": "crash", "name": "boom", "target": "views", "at": CRASH, "for": RESTART - CRASH}],
    }


def _run(data: dict, until: float = RUN_UNTIL, seed: int | None = None):
    """Build and run; returns (system, log of (time, op, key, outcome) for every request's end)."""
    spec = scenario_from_dict(data).resolve()
    system = build(spec, seed=spec.seed if seed is None else seed, replication=0)
    log = []
    for client in system.clients:
        settle = client.settle

        def spy(att, outcome, settle=settle, env=system.ctx.env):
            log.append((env.now, att.op, att.key, outcome))
            settle(att, outcome)

        client.settle = spy
    start(system, 1.0)
    system.ctx.env.run(until=until)
    return system, log


def _increments(log) -> list[tuple[float, int]]:
    """(time, key) of every increment the counter answered OK (time = when it was accepted)."""
    return [(t, key) for t, op, key, outcome in log if op != READ and outcome == OK]


@pytest.fixture(scope="module")
def batched():
    return _run(_scenario("batched", flush_interval=FLUSH))


@pytest.fixture(scope="module")
def exact():
    return _run(_scenario("exact"))


def test_batched_writes_one_row_per_key_touched_per_flush(batched):
    """Flush k writes the distinct keys incremented in (t_{k-1}, t_k] (after the crash, if the
    crash fell in between: what came before it is lost, not written)."""
    system, log = batched
    increments = _increments(log)
    expected = 0
    flushes = [FLUSH * k for k in range(1, int(END / FLUSH) + 1)]
    previous = 0.0
    for at in flushes:
        since = CRASH if previous < CRASH <= at else previous
        expected += len({key for t, key in increments if since < t <= at})
        previous = at
    counter = system.components["views"]
    db_ledger = system.ctx.data.ledger("db")
    assert counter.db_writes == expected
    assert db_ledger.commits_total == expected  # the database's own record of committed writes
    assert 0 < expected < len(increments)  # keys incremented twice between flushes cost one write


def test_batched_crash_loses_exactly_the_increments_since_the_last_flush(batched):
    system, log = batched
    last_flush = FLUSH * int(CRASH / FLUSH)
    lost = sum(1 for t, _ in _increments(log) if last_flush < t <= CRASH)
    counter = system.components["views"]
    assert lost > 50
    assert counter.lost == lost
    summary = system.ctx.data.summary()
    assert summary["count_lost.views"] == lost  # the crash is inside the measured window


def test_batched_books_balance(batched):
    """accepted = flushed to the database + lost + pending in memory + in flight."""
    system, log = batched
    counter = system.components["views"]
    increments = _increments(log)
    assert counter.accepted == len(increments)
    pending = sum(1 for t, _ in increments if t > END)  # answered after the last flush
    assert counter.pending_total() == pending and counter.in_flight == 0
    assert counter.accepted == counter.flushed + counter.lost + pending
    assert counter.in_database == counter.flushed == sum(counter.db_count.values())
    truth = system.ctx.data.ledger("views")
    assert truth.commits_total == counter.accepted  # one true-count version per increment


def test_exact_saves_nothing_and_loses_nothing(exact):
    system, log = exact
    counter = system.components["views"]
    summary = system.ctx.data.summary()
    assert summary["writes_saved.views"] == 0
    assert summary["count_lost.views"] == 0
    assert counter.lost == 0 and counter.pending_total() == 0
    # every increment the database committed is counted (a crash resets the call, not the write)
    assert system.ctx.data.ledger("db").commits_total == counter.db_writes == counter.increments
    ok = len(_increments(log))
    assert ok <= counter.accepted == counter.in_database <= counter.increments
    assert summary["stale_reads.views"] == 0.0  # a read answers the database, which holds everything
    assert counter.stats.window(END)["count_error"] == 0.0


def test_count_error_is_what_the_database_misses(batched):
    system, _ = batched
    counter = system.components["views"]
    error = counter.stats.window(END)["count_error"]
    assert error == pytest.approx((counter.accepted - counter.in_database) / counter.accepted)
    assert error > 0


def test_batched_stale_count_reads_match_the_closed_form():
    """Increments of a key are Poisson (rate r) and flushed every F: a read at a uniform time u
    since the last flush misses some iff one came in u, so the stale share is
    1 - (1 - e^(-rF)) / (rF), as for a TTL (docs/consistency.md). Reads are ~independent (500 keys
    x 40 flushes >> 10,000 reads): binomial standard error, 4 sigma."""
    import math

    data = _scenario("batched", flush_interval=FLUSH)
    data["faults"] = []
    data["workload"][0]["arrivals"]["rate"] = "1000/s"
    data["workload"][0]["operations"]["write"] = "50%"
    system, _ = _run(data)
    rf = 1000 * 0.5 / 500 * FLUSH
    expected = 1 - (1 - math.exp(-rf)) / rf
    summary = system.ctx.data.summary()
    n = summary["reads.views"]
    assert n > 9000
    assert abs(summary["stale_reads.views"] - expected) < 4 * math.sqrt(expected * (1 - expected) / n)


def test_same_seed_same_numbers():
    data = _scenario("batched", flush_interval=FLUSH)
    first, _ = _run(data, until=8.0)
    second, _ = _run(data, until=8.0)
    other, _ = _run(data, until=8.0, seed=99)
    assert first.ctx.data.summary() == second.ctx.data.summary()
    assert first.ctx.data.summary() != other.ctx.data.summary()


@pytest.mark.parametrize(("change", "message"), [
    ({"mode": "batched"}, "missing required key 'flush_interval'"),
    ({"mode": "exact", "flush_interval": "1s"}, "flush_interval needs mode batched"),
    ({"backend": "payments"}, "expected a database; 'payments' is a external"),
])
def test_bad_counter_keys_are_refused_in_one_line(validate_one_line, change, message):
    data = _scenario("exact")
    data["components"][0].update(change)
    data["components"].append({"kind": "external", "name": "payments", "latency": "10ms"})
    assert message in validate_one_line(data)


def test_a_workload_without_operations_cannot_reach_a_counter(validate_one_line):
    data = _scenario("exact")
    del data["workload"][0]["operations"]
    line = validate_one_line(data)
    assert "workload[0]" in line and "reaches counter 'views'" in line


def test_a_region_outage_loses_the_unflushed_increments_too():
    data = _scenario("batched", flush_interval=FLUSH)
    data["components"][0]["region"] = "us"
    data["faults"] = [{"kind": "region_outage", "name": "dark", "region": "us", "at": CRASH,
                       "for": RESTART - CRASH}]
    system, log = _run(data, until=12.0)
    last_flush = FLUSH * int(CRASH / FLUSH)
    lost = sum(1 for t, _ in _increments(log) if last_flush < t <= CRASH)
    assert lost > 50 and system.components["views"].lost == lost
