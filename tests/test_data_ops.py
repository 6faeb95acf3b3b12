"""The keyed data model's front: operations drawn per request, the ledger's staleness arithmetic."""

from __future__ import annotations

import numpy as np

from simulator.data.ledger import Ledger
from simulator.data.ops import READ, READ_MODIFY_WRITE, WRITE, DataDraw, carry
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
