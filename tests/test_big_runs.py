"""Long runs: a wall-clock time limit stops a run cleanly (partial, books balanced) and progress
shows in wall-clock terms however long the simulated duration is."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import yaml
from rich.console import Console
from typer.testing import CliRunner

from simulator import analysis, recovery, results, run
from simulator import console as console_module
from simulator.cli import app

LONG = 10_000.0
"""Simulated seconds: about a million requests at 100/s, far more than a test's wall time allows."""


def _long(duration: str = "10000s") -> dict:
    return {"name": "long", "duration": duration, "warmup": "10s", "seed": 5,
            "workload": [{"name": "w", "entry": "s", "client": {"timeout": "1s"},
                          "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
            "components": [{"kind": "service", "name": "s", "workers": 2,
                            "service_time": {"dist": "exponential", "mean": "15ms"}}]}


def test_time_limit_stops_a_long_run_and_marks_it_partial(make_scenario):
    """A run far too long for its limit stops within about a beat of it; the result is partial and
    measured up to the simulated time reached; the books balance (the run would raise otherwise) and
    progress was reported several times on the way, in simulated time, out of the whole duration."""
    reports = []
    started = time.perf_counter()
    result = run(make_scenario(_long()), time_limit=0.5, progress=lambda now, end: reports.append((now, end)))
    assert time.perf_counter() - started < 5.0
    assert result.partial
    reached = result.spec.duration
    assert 10.0 < reached < LONG
    requests = result.requests
    assert requests["t_arrival"].max() < reached
    t = requests["t_arrival"]
    assert result.summary["offered"] == ((t >= 10.0) & (t < reached)).sum() == requests["in_window"].sum()
    assert result.summary["completed"] + result.summary["incomplete"] == result.summary["offered"]
    assert (requests["outcome"] == "incomplete").sum() == requests["t_end"].isna().sum() > 0
    assert len(reports) >= 5 and all(end == LONG for _, end in reports)
    nows = [now for now, _ in reports]
    assert nows == sorted(nows) and nows[-1] == reached


def test_time_limit_in_the_warm_up_leaves_rates_undefined(make_scenario):
    """Stopped before the measured window began: nothing measured, rates NaN (never negative)."""
    result = run(make_scenario(_long()), time_limit=0.0)
    assert result.partial and result.spec.duration < 10.0
    assert result.summary["offered"] == 0
    assert all(pd.isna(result.summary[k]) for k in ("offered_rate", "throughput", "goodput"))


def test_a_watched_run_gives_the_numbers_of_an_unwatched_one(make_scenario):
    """The watch's heartbeat never changes the model: same requests and summary with or without it."""
    scenario = make_scenario(_long("120s"))
    plain = run(scenario)
    watched = run(scenario, progress=lambda now, end: None, time_limit=600.0)
    assert not plain.partial and not watched.partial
    pd.testing.assert_frame_equal(plain.requests, watched.requests)
    assert plain.summary.keys() == watched.summary.keys()
    assert all(pd.isna(v) and pd.isna(watched.summary[k]) or v == watched.summary[k]
               for k, v in plain.summary.items())


def test_cli_time_limit_saves_partial_results_and_says_so(tmp_path):
    """``cascade run --time-limit``: exit 0, ``partial: true`` in the JSON summary and meta.json,
    one line on stderr naming the variant and the simulated time reached."""
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(_long()))
    outcome = CliRunner().invoke(app, ["run", str(path), "--time-limit", "0.5s", "--json", "--no-plots",
                                       "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 0, outcome.output
    summary = json.loads(outcome.stdout)
    assert summary["partial"] is True
    assert "partial: base (replication 0) stopped by --time-limit 0.5s at" in outcome.stderr
    meta = json.loads(next((tmp_path / "out").rglob("meta.json")).read_text())
    assert meta["partial"] is True


def test_progress_lines_where_the_bar_is_off(monkeypatch):
    """Not a terminal (CI log): progress comes as plain lines with simulated time, elapsed and left."""
    monkeypatch.setattr(console_module, "PLAIN_EVERY", 0.0)
    out = io.StringIO()
    with console_module.sim_progress(Console(file=out, force_terminal=False, width=200)) as track:
        update = track("small")
        update(2_500.0, 1e9)
    line = out.getvalue().strip()
    assert line.startswith("small: 41m40s / 11574d1h simulated, ") and "elapsed, about " in line


def test_long_requests_table_is_written_one_row_group_at_a_time(make_scenario, tmp_path, monkeypatch):
    """Past ``ROW_GROUP`` rows the requests table is streamed group by group (never converted to
    Arrow whole), yet the file is byte for byte what one ``to_parquet`` call with that row-group
    size writes, and reads back equal to ``result.requests``; a short table keeps the one call."""
    requests = run(make_scenario(_long("60s"))).requests
    assert len(requests) > 5_000
    monkeypatch.setattr(results, "ROW_GROUP", 1_000)
    streamed = results.write_table(requests, tmp_path / "streamed.parquet")
    requests.to_parquet(tmp_path / "whole.parquet", index=True, row_group_size=1_000)
    assert pq.ParquetFile(streamed).metadata.num_row_groups == -(-len(requests) // 1_000)
    assert streamed.read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(streamed), requests)
    monkeypatch.setattr(results, "ROW_GROUP", len(requests))
    one = results.write_table(requests, tmp_path / "one.parquet")
    requests.to_parquet(tmp_path / "plain.parquet", index=True)
    assert one.read_bytes() == (tmp_path / "plain.parquet").read_bytes()


def test_chunked_end_of_run_sums_equal_the_whole_run_ones(make_scenario, monkeypatch):
    """The availability column counts requests in chunks of ``ROW_CHUNK``; integer counts added
    chunk by chunk are the same counts, so a run gives identical tables and summary either way."""
    scenario = make_scenario(_long("60s"))
    whole = run(scenario)
    monkeypatch.setattr(analysis, "ROW_CHUNK", 777)
    chunked = run(scenario)
    pd.testing.assert_frame_equal(whole.traffic, chunked.traffic)
    assert whole.summary.keys() == chunked.summary.keys()
    assert all(pd.isna(v) and pd.isna(chunked.summary[k]) or v == chunked.summary[k]
               for k, v in whole.summary.items())


def test_window_sums_in_chunks_are_the_sums_of_the_slices(monkeypatch):
    """The recovery metrics' window sums, taken from prefix sums one chunk of values at a time,
    are each slice's own integer sum, whatever the chunk size, windows past the end included."""
    rng = np.random.default_rng(0)
    for trial in range(200):
        monkeypatch.setattr(recovery, "SUM_CHUNK", int(rng.integers(1, 9)))
        n = int(rng.integers(0, 60))
        values = rng.integers(0, 3, n).astype(np.uint16) if trial % 2 else rng.random(n) < 0.5
        lo = np.sort(rng.integers(0, n + 3, 20))
        hi = np.minimum(lo + rng.integers(0, 10, 20), n + 5)
        sums = recovery._window_sums(values, lo, hi)
        assert sums.dtype == np.int64
        assert sums.tolist() == [int(values[a:b].sum()) for a, b in zip(lo, hi, strict=True)]
