"""A global cache (``global:`` on a cache) across two regions, checked against the requests.

References come from the clients' side (each request's time, region, operation, key, outcome),
not from the cache: conflicting writes are the writes accepted during the partition to keys that
were written on both sides of it; the side with the newest of them wins each such key and the
other side's writes to it are discarded.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from simulator.build import build, start
from simulator.data.ops import READ
from simulator.request import OK, UNAVAILABLE
from simulator.scenario import scenario_from_dict

CUT, HEAL, END, LAG = 5.0, 10.0, 15.0, 0.2


def _scenario(mode: str, partition: bool = True, write: str = "20%") -> dict:
    def users(region: str) -> dict:
        return {"name": f"{region}-users", "entry": "profiles", "region": region,
                "arrivals": {"pattern": "poisson", "rate": "200/s"}, "operations": {"write": write},
                "keys": {"dist": "uniform", "catalog": 50}}

    return {
        "name": "global-cache-test", "duration": END, "drain": "100ms", "seed": 5,
        "workload": [users("us"), users("eu")],
        "components": [
            {"kind": "cache", "name": "profiles", "capacity": 50, "keys": {"dist": "uniform", "catalog": 50},
             "backend": "db", "global": mode, "regions": ["us", "eu"], "replication_lag": LAG},
            {"kind": "database", "name": "db", "connections": 10, "query_time": "2ms"},
            {"kind": "service", "name": "us-app", "region": "us", "service_time": "1ms"},
            {"kind": "service", "name": "eu-app", "region": "eu", "service_time": "1ms"},
        ],
        "faults": [{"kind": "partition", "name": "split", "between": [["us-app"], ["eu-app"]],
                    "at": CUT, "for": HEAL - CUT}] if partition else [],
    }


def _run(data: dict, seed: int | None = None):
    """Run past the end of the traffic (arrivals stop at END + drain) until every replication
    has landed; returns (system, log of (time, region, op, key, outcome))."""
    spec = scenario_from_dict(data).resolve()
    system = build(spec, seed=spec.seed if seed is None else seed, replication=0)
    log = []
    for client in system.clients:
        settle, region = client.settle, spec.workload[client.workload_index].region

        def spy(att, outcome, settle=settle, region=region, env=system.ctx.env):
            log.append((env.now, region, att.op, att.key, outcome))
            settle(att, outcome)

        client.settle = spy
    start(system, 1.0)
    system.ctx.env.run(until=END + 1.0)
    return system, log


def _partition_writes(log, outcome=OK) -> dict[str, dict[int, list[float]]]:
    """region -> key -> times of the writes with ``outcome`` during the partition."""
    found: dict[str, dict[int, list[float]]] = {"us": defaultdict(list), "eu": defaultdict(list)}
    for t, region, op, key, out in log:
        if op != READ and out == outcome and CUT <= t < HEAL:
            found[region][key].append(t)
    return found


@pytest.fixture(scope="module")
def lww():
    return _run(_scenario("last_write_wins"))


@pytest.fixture(scope="module")
def single():
    return _run(_scenario("single_writer"))


def test_lww_conflicts_and_discards_match_the_requests(lww):
    """conflicting = writes during the partition to keys written on both sides (both sides
    counted); discarded = per such key, the writes of the side whose last write is older."""
    system, log = lww
    sides = _partition_writes(log)
    both = sides["us"].keys() & sides["eu"].keys()
    conflicting = sum(len(sides["us"][k]) + len(sides["eu"][k]) for k in both)
    discarded = sum(min((sides["us"][k], sides["eu"][k]), key=lambda times: times[-1]).__len__()
                    for k in both)
    cache = system.components["profiles"]
    assert conflicting > 100 and 0 < discarded < conflicting
    assert cache.conflicting == conflicting and cache.discarded == discarded
    summary = system.ctx.data.summary()
    assert summary["conflicting_writes.profiles"] == conflicting  # the heal is in the window
    assert summary["discarded_writes.profiles"] == discarded


def test_lww_books_balance_and_the_copies_converge(lww):
    """Every accepted write reaches the other copy or is discarded at the heal (two regions:
    one replication message per write); once traffic stops, both copies hold the global latest."""
    system, log = lww
    cache = system.components["profiles"]
    accepted = sum(1 for _, _, op, _, out in log if op != READ and out == OK)
    assert cache.accepted == accepted == system.ctx.data.ledger("profiles").commits_total
    assert cache.sent == accepted and cache.pending() == 0
    assert cache.sent == cache.delivered + cache.dropped
    assert cache.dropped == cache.discarded
    ledger = system.ctx.data.ledger("profiles")
    for key in range(50):
        assert [copy.get(key, 0) for copy in cache.copies] == [ledger.latest(key)] * 2


def test_lww_accepts_every_write_single_writer_refuses_the_cut_off_region(lww, single):
    _, lww_log = lww
    system, log = single
    assert not any(out == UNAVAILABLE for *_, out in lww_log)
    refused = _partition_writes(log, UNAVAILABLE)
    eu_refused = sum(map(len, refused["eu"].values()))
    assert eu_refused > 50 and not refused["us"]
    assert system.components["profiles"].refused == eu_refused
    assert sum(1 for *_, out in log if out == UNAVAILABLE) == eu_refused  # none outside the partition


def test_single_writer_has_no_conflicts_and_converges(single):
    system, log = single
    cache = system.components["profiles"]
    summary = system.ctx.data.summary()
    assert summary["conflicting_writes.profiles"] == 0 and summary["discarded_writes.profiles"] == 0
    assert cache.sent == cache.delivered and cache.dropped == 0
    ledger = system.ctx.data.ledger("profiles")
    assert all(copy.get(k, 0) == ledger.latest(k) for copy in cache.copies for k in range(50))


def test_remote_reads_are_stale_as_replication_lag_predicts():
    """Single writer, no partition, constant lag D: writes of a key are Poisson (rate w), and a
    read at the non-primary copy is stale iff one was accepted in the last D: 1 - e^(-wD). The
    primary's reads are never stale. Reads of 100 keys over 30 s with D = 0.2 s are nearly
    independent: binomial standard error, 4 sigma."""
    data = _scenario("single_writer", partition=False)
    data["duration"] = 31.0
    data["warmup"] = 1.0
    catalog = 100
    keys = {"dist": "uniform", "catalog": catalog}
    data["workload"] = [
        {"name": "writers", "entry": "profiles", "region": "us",
         "arrivals": {"pattern": "poisson", "rate": "200/s"}, "operations": {"write": "100%"}, "keys": keys},
        {"name": "readers", "entry": "profiles", "region": "eu",
         "arrivals": {"pattern": "poisson", "rate": "400/s"}, "operations": {"write": "0%"}, "keys": keys},
    ]
    spec = scenario_from_dict(data).resolve()
    system = build(spec, seed=3, replication=0)
    start(system, 1.0)
    system.ctx.env.run(until=31.0)
    summary = system.ctx.data.summary()
    expected = 1 - math.exp(-200 / catalog * LAG)
    n = summary["reads.profiles"]
    assert n > 10_000
    assert abs(summary["stale_reads.profiles"] - expected) < 4 * math.sqrt(expected * (1 - expected) / n)


def test_same_seed_same_numbers():
    data = _scenario("last_write_wins")
    data["duration"] = 8.0
    data["faults"][0]["for"] = 2.0
    first, second = _run(data)[0], _run(data)[0]
    other = _run(data, seed=77)[0]
    assert first.ctx.data.summary() == second.ctx.data.summary()
    assert first.ctx.data.summary() != other.ctx.data.summary()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["components"][0].pop("regions"), "global and regions go together"),
    (lambda d: d["components"][0].pop("global"), "global and regions go together"),
    (lambda d: d["components"][0].update(regions=["us", "us"]), "a region is listed twice"),
    (lambda d: d["workload"][1].update(region="ap"), "its region must be one of us, eu"),
    (lambda d: d["workload"][1].pop("operations"), "reaches global cache 'profiles'"),
    (lambda d: d["faults"].append({"kind": "cache_flush", "name": "f", "target": "profiles", "at": 1}),
     "nothing to flush"),
])
def test_bad_global_cache_keys_are_refused_in_one_line(validate_one_line, edit, message):
    data = _scenario("last_write_wins")
    edit(data)
    assert message in validate_one_line(data)


def test_replication_lag_needs_global(validate_one_line):
    data = _scenario("last_write_wins")
    for key in ("global", "regions"):
        data["components"][0].pop(key)
    for workload in data["workload"]:
        workload.pop("operations")
    assert "replication_lag needs global" in validate_one_line(data)
