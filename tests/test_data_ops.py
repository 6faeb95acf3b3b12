"""The keyed data model's front: operations drawn per request, the ledger's staleness arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run
from simulator.data.ledger import Ledger
from simulator.data.ops import READ, READ_MODIFY_WRITE, WRITE, DataDraw, carry
from simulator.scenario import ScenarioError, scenario_from_dict
from simulator.scenario.dists import UniformKeysSpec, ZipfKeysSpec
from simulator.scenario.workload import OperationsSpec


class _Att:
    pass


def _stamps(operations, keys, n, seed=1):
    draw = DataDraw(operations, keys, np.random.default_rng(seed), np.random.default_rng(seed + 100))
    ops, found = np.empty(n, dtype=int), np.empty(n, dtype=int)
    for i in range(n):
        att = _Att()
        draw.stamp(att)
        ops[i], found[i] = att.op, att.key
    return ops, found


def test_write_share_matches_the_spec_within_binomial_noise():
    n, p = 200_000, 0.1
    ops, keys = _stamps(OperationsSpec(write="10%"), UniformKeysSpec(catalog=50), n)
    share = (ops == WRITE).mean()
    assert abs(share - p) < 4 * (p * (1 - p) / n) ** 0.5
    assert set(np.unique(ops)) == {READ, WRITE}
    assert keys.min() == 0 and keys.max() == 49


def test_increments_and_the_zipf_head():
    increments = OperationsSpec(write=0.5, read_modify_write=True)
    ops, keys = _stamps(increments, ZipfKeysSpec(alpha=1.0, catalog=10), 100_000)
    assert set(np.unique(ops)) == {READ, READ_MODIFY_WRITE}
    weights = 1 / np.arange(1, 11)
    assert abs((keys == 0).mean() - weights[0] / weights.sum()) < 0.01


def test_same_seed_same_stamps_and_retries_carry_them():
    a = _stamps(OperationsSpec(write=0.3), UniformKeysSpec(catalog=1000), 1000)
    b = _stamps(OperationsSpec(write=0.3), UniformKeysSpec(catalog=1000), 1000)
    assert all((x == y).all() for x, y in zip(a, b, strict=True))
    first, retry = _Att(), _Att()
    first.op, first.key, first.version = WRITE, 7, 3
    carry(first, retry)
    assert (retry.op, retry.key, retry.version) == (WRITE, 7, -1)


def test_ledger_staleness_is_the_time_since_the_answer_was_superseded():
    ledger = Ledger("db")
    assert ledger.latest(5) == 0 and ledger.staleness(5, 0, 10.0) == 0.0
    assert ledger.commit(5, 2.0) == 1
    assert ledger.commit(5, 3.5) == 2
    assert ledger.latest(5) == 2
    assert ledger.staleness(5, 2, 9.0) == 0.0  # the latest
    assert ledger.staleness(5, 1, 9.0) == 9.0 - 3.5  # superseded by version 2 at 3.5
    assert ledger.staleness(5, 0, 9.0) == 9.0 - 2.0
    assert ledger.committed_at(5, 2) == 3.5


def _scenario(workload_extra, components):
    return {"name": "data", "duration": "10s",
            "workload": [{"name": "users", "entry": components[0]["name"],
                          "arrivals": {"pattern": "poisson", "rate": "100/s"}, **workload_extra}],
            "components": components}


_DB = {"kind": "database", "name": "db", "connections": 4, "query_time": "5ms"}
_APP = {"kind": "service", "name": "app", "service_time": "1ms", "calls": ["db"]}


def _problem(data) -> str:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, source="data.yaml")
    return str(caught.value)


def test_operations_must_reach_something_that_holds_data():
    plain = {**_APP, "calls": []}
    message = _problem(_scenario({"operations": {"write": 0.1}, "keys": {"dist": "uniform", "catalog": 5}},
                                 [plain]))
    assert "workload[0].operations" in message and "reach no cache, counter, database" in message


def test_a_database_reached_without_a_key_is_refused():
    message = _problem(_scenario({"operations": {"write": 0.1}}, [_APP, _DB]))
    assert "workload[0]" in message and "missing key 'keys'" in message and "reach db" in message


def test_keys_and_operations_on_the_path_are_accepted_and_counted():
    scenario = scenario_from_dict(
        _scenario({"operations": {"write": "20%"}, "keys": {"dist": "uniform", "catalog": 5}}, [_APP, _DB]),
        source="data.yaml")
    summary = run(scenario, seed=3).summary
    assert summary["reads.db"] + summary["writes.db"] == pytest.approx(summary["ok"], abs=2)
    assert abs(summary["writes.db"] / summary["ok"] - 0.2) < 4 * (0.2 * 0.8 / summary["ok"]) ** 0.5
    assert summary["stale_reads.db"] == 0.0  # one node: every read sees the latest commit
