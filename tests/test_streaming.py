"""A long run's per-request records go to disk in chunks (simulator.recorder, simulator.spill)
and its end-of-run analyses read them back chunk by chunk (simulator.streamed): the outputs must
be the in-memory path's to the last bit, whatever the chunk size."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simulator import exact, load_scenario, recorder, results, run
from simulator.recorder import LazyRequests


def _same(a: dict, b: dict) -> None:
    assert list(a) == list(b)  # same keys, same order (the JSON shape)
    for key, value in a.items():
        other = b[key]
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(other, float) and math.isnan(other), key
        else:
            assert type(value) is type(other) and value == other, (key, value, other)


@pytest.mark.parametrize(("name", "duration", "late"), [("retry-storm", 200.0, False),
                                                        ("cron-burst", None, True)])
def test_spilled_run_gives_the_in_memory_outputs(name, duration, late, monkeypatch, tmp_path):
    """A run whose records are spilled every 1000 completions (a fault with retries and
    timeouts; two workloads with a burst, whose stragglers are written unfinished and patched
    when they end; several passes of exact selection) gives the same summary, traffic table and
    requests table, and the same requests.parquet bytes, as the same run held in memory."""
    scenario = load_scenario(name)
    whole = run(scenario, duration=duration)
    assert isinstance(whole.requests, pd.DataFrame)  # below the chunk size: the in-memory path
    monkeypatch.setattr(recorder, "SPILL_CHUNK", 1000)
    monkeypatch.setattr(exact, "COLLECT", 500)  # force the histogram passes of the selection
    patched = []
    patch = recorder.Recorder._patch_late
    monkeypatch.setattr(recorder.Recorder, "_patch_late",
                        lambda self, ids, *a: patched.append(len(ids)) or patch(self, ids, *a))
    spilled = run(scenario, duration=duration)
    assert isinstance(spilled.requests, LazyRequests)
    assert (sum(patched) > 100) is late
    assert len(spilled.requests) > 5 * 1000
    _same(whole.summary, spilled.summary)
    pd.testing.assert_frame_equal(whole.traffic, spilled.traffic, check_exact=True)
    pd.testing.assert_frame_equal(whole.requests, spilled.requests.to_frame(), check_exact=True)
    monkeypatch.setattr(results, "ROW_GROUP", 4096)  # several row groups, streamed from disk
    a = results.write_table(whole.requests, tmp_path / "whole.parquet")
    streamed = spilled.requests.frames
    spilled.requests.to_frame = None  # written from disk, a row group at a time, never loaded whole
    b = results.write_table(spilled.requests, tmp_path / "spilled.parquet")
    assert a.read_bytes() == b.read_bytes()
    assert sum(len(frame) for frame in streamed(4096)) == len(whole.requests)


def test_exact_statistics_are_numpys():
    """The pieces-wise mean and quantiles equal numpy's on the whole array, bit for bit, for
    spread, heavy-tailed and tied values, cut in arbitrary pieces, with histogram refinement."""
    rng = np.random.default_rng(5)
    qs = [0.5, 0.95, 0.99, 0.999]
    for trial in range(24):
        n = int(rng.integers(1, 50_000))
        x = [rng.exponential(0.05, n), np.where(rng.random(n) < 0.99, 0.125, rng.random(n)),
             np.round(rng.exponential(1, n), 3),
             rng.exponential(1, n) * 10 ** rng.uniform(-5, 3, n)][trial % 4]
        pieces = np.array_split(x, int(rng.integers(1, 20)))
        select = exact.OrderStatistics()
        for piece in pieces:
            select.feed(piece)
        select.ask([r for lo, hi, _ in exact.quantile_ranks(n, qs) for r in (lo, hi)])
        old, exact.COLLECT = exact.COLLECT, int(rng.integers(1, 50))
        try:
            while not select.done:
                select.start_pass()
                for piece in pieces:
                    select.feed(piece)
                select.end_pass()
        finally:
            exact.COLLECT = old
        assert exact.linear_quantiles(n, qs, select.values) == [float(v) for v in np.quantile(x, qs)]
        total = exact.PairwiseSum(n)
        for piece in pieces:
            total.feed(piece)
        assert total.total() / n == float(x.mean())


def _spilled(arrays: dict, names: list[str], chunk: int):
    """The arrays as a spilled run has them on disk: rows by id, completions in time order."""
    from simulator.recorder import COMPLETION_COLUMNS, ROW_COLUMNS, SpilledRequests
    from simulator.request import INCOMPLETE
    from simulator.spill import ColumnSpill

    rows = ColumnSpill(ROW_COLUMNS)
    for start in range(0, len(arrays["t_arrival"]), chunk):
        rows.append({k: arrays[k][start:start + chunk] for k in ROW_COLUMNS})
    done = np.flatnonzero(arrays["outcome"] != INCOMPLETE)
    done = done[np.argsort(arrays["t_end"][done], kind="stable")]
    completions = ColumnSpill(COMPLETION_COLUMNS, rows.directory, "done")
    for start in range(0, len(done), chunk):
        ids = done[start:start + chunk]
        completions.append({"t_end": arrays["t_end"][ids], "outcome": arrays["outcome"][ids],
                            "latency": arrays["t_end"][ids] - arrays["t_arrival"][ids],
                            "workload": arrays["workload"][ids]})
    return SpilledRequests(rows, completions, names)


def test_spilled_recovery_metrics_settle_borderline_p99_windows_exactly():
    """Latencies of two values with about 1% slow put many SLO windows' p99 between the two
    middle ranks, which counts cannot settle; the spilled path reads those windows' completions
    and gives every recovery metric the in-memory path gives."""
    from simulator import streamed
    from simulator.recovery import recovery_metrics
    from simulator.request import INCOMPLETE, OK, Outcome
    from simulator.scenario.slo import SloSpec

    rng = np.random.default_rng(11)
    n = 20_000
    t_arrival = np.sort(rng.uniform(0, 400, n))
    latency = np.where(rng.random(n) < 0.012, 0.2, 0.1)
    outcome = np.where(rng.random(n) < 0.995, OK, int(Outcome.TIMEOUT)).astype(np.int8)
    outcome[rng.random(n) < 0.002] = INCOMPLETE
    t_end = np.where(outcome == INCOMPLETE, np.nan, t_arrival + latency)
    arrays = {"t_arrival": t_arrival, "workload": np.zeros(n, np.int8), "t_end": t_end,
              "outcome": outcome, "attempts": rng.integers(1, 4, n).astype(np.uint16)}
    slo = SloSpec(availability=0.99, latency_p99=0.15, window=10.0)
    kwargs = {"warmup": 20.0, "end": 380.0, "slo": slo, "faults": [("f", 100.0, 150.0)],
              "detections": {"f": 101.0}, "triggers": [(100.0, 150.0)]}
    unsure = []
    original = streamed.window_latencies
    streamed.window_latencies = lambda *a: unsure.append(a) or original(*a)
    try:
        spilled = recovery_metrics(_spilled(arrays, ["w"], 997), **kwargs)
    finally:
        streamed.window_latencies = original
    assert len(unsure) > 10
    assert spilled == recovery_metrics(arrays, **kwargs)
