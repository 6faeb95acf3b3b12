"""Run directories: complete, readable, round-tripping, and never half-written."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import BaseModel

from simulator import files, results
from simulator.results import read_summary, summary_frame, write_run

TABLE_FILES = ["events.csv", "meta.json", "requests.parquet", "scenario.yaml", "series.parquet",
               "traffic.parquet"]


class Spec(BaseModel):
    """Stand-in for ScenarioSpec: only model_dump(mode="json") is used by the writer."""

    name: str = "tiny"
    duration: float = 60.0


@dataclass
class FakeResult:
    """Duck-typed RunResult with small but realistic tables."""

    variant: str | None = "base"
    scenario: str = "tiny"
    seed: int = 7
    replication: int = 0
    wall_time: float = 0.25
    spec: Spec = field(default_factory=Spec)
    summary: dict = field(default_factory=lambda: {
        "offered": 600.0, "availability": 0.987654321012345, "latency_p99": 0.1 / 3,
        "utilization.app": 0.5, "hit_ratio.cache": float("nan")})
    requests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({
        "id": np.arange(3), "workload": pd.Categorical(["w", "w", "w"]), "t_arrival": [0.0, 0.5, 1.0],
        "t_end": [0.1, 0.7, np.nan], "latency": [0.1, 0.2, np.nan],
        "outcome": pd.Categorical(["ok", "timeout", "incomplete"]), "attempts": [1, 2, 1]}))
    traffic: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({
        "t": [0.0, 1.0], "workload": "w", "offered": [2.0, 1.0], "throughput": [2.0, 0.0],
        "goodput": [1.0, 0.0], "ok": [1.0, 0.0], "error": 0.0, "timeout": [1.0, 0.0], "rejected": 0.0,
        "unavailable": 0.0, "latency_p50": [0.1, np.nan], "latency_p95": [0.1, np.nan],
        "latency_p99": [0.1, np.nan]}))
    series: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({
        "t": [0.0, 0.0, 1.0, 1.0], "component": pd.Categorical(["app"] * 4),
        "metric": pd.Categorical(["utilization", "queue"] * 2), "value": [0.5, 3.0, 0.6, 4.0]}))
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"t": [60.0], "kind": ["end"], "component": [""], "detail": [""]}))


def test_single_run_is_flat(tmp_path):
    """One run: every file directly in results/<scenario>/<run-name>/."""
    path = write_run([FakeResult()], tmp_path, "r1")
    assert path == tmp_path / "tiny" / "r1"
    assert sorted(p.name for p in path.iterdir()) == sorted([*TABLE_FILES, "summary.csv"])
    meta = json.loads((path / "meta.json").read_text())
    assert (meta["seed"], meta["replication"], meta["variant"]) == (7, 0, "base")
    assert {"python", "simpy", "numpy", "pandas", "cascade-sim"} <= set(meta["versions"])
    assert meta["wall_time"] == 0.25 and meta["timestamp"] and meta["command"]
    assert yaml.safe_load((path / "scenario.yaml").read_text()) == {"name": "tiny", "duration": 60.0}


def test_variants_get_subfolders_and_one_summary(tmp_path):
    """Several variants share summary.csv and meta.json; their tables live in per-variant folders."""
    runs = [FakeResult(variant="baseline"), FakeResult(variant="breaker", seed=8)]
    path = write_run(runs, tmp_path, "cmp")
    assert {"baseline", "breaker", "summary.csv", "meta.json"} == {p.name for p in path.iterdir()}
    for name in ("baseline", "breaker"):
        assert sorted(p.name for p in (path / name).iterdir()) == TABLE_FILES
    meta = json.loads((path / "meta.json").read_text())
    assert [(r["dir"], r["seed"]) for r in meta["runs"]] == [("baseline", 7), ("breaker", 8)]
    assert set(read_summary(path / "summary.csv")["variant"]) == {"baseline", "breaker"}


def test_repeated_variants_are_told_apart_by_replication(tmp_path):
    """Replications of one variant get distinct folders."""
    path = write_run([FakeResult(replication=0), FakeResult(replication=1)], tmp_path, "reps")
    assert {"base-r0", "base-r1"} <= {p.name for p in path.iterdir()}


def test_summary_round_trips(tmp_path):
    """summary.csv reads back to exactly the frame written (full float precision, NaN kept)."""
    runs = [FakeResult(variant="NA"), FakeResult(variant="b", replication=3)]
    path = write_run(runs, tmp_path, "rt")
    back = read_summary(path / "summary.csv")
    pd.testing.assert_frame_equal(back, summary_frame(runs))
    assert list(back.columns) == ["variant", "replication", "metric", "value"]
    row = back[(back.variant == "NA") & (back.metric == "availability")]
    assert row.value.item() == 0.987654321012345


def test_parquet_and_csv_are_readable(tmp_path):
    """Tables read back with their rows and columns."""
    result = FakeResult()
    path = write_run([result], tmp_path, "pq")
    for table in ("requests", "traffic", "series"):
        back = pd.read_parquet(path / f"{table}.parquet")
        assert list(back.columns) == list(getattr(result, table).columns)
        assert len(back) == len(getattr(result, table))
    assert pd.read_csv(path / "events.csv").kind.tolist() == ["end"]


def test_empty_tables_are_written(tmp_path):
    """A run that recorded nothing still produces readable files."""
    empty = FakeResult(requests=pd.DataFrame(), traffic=pd.DataFrame(), series=pd.DataFrame(),
                       events=pd.DataFrame(columns=["t", "kind", "component", "detail"]), summary={})
    path = write_run([empty], tmp_path, "empty", plots=True)
    assert pd.read_parquet(path / "traffic.parquet").empty
    assert len(list((path / "plots").glob("*.png"))) == 4


def test_default_name_is_timestamp_with_suffix_when_taken(tmp_path, monkeypatch):
    """Default names are UTC timestamps; a taken name gets -2, -3, ..."""
    monkeypatch.setattr(results, "default_run_name", lambda now=None: "20261127-181500")
    first = write_run([FakeResult()], tmp_path)
    second = write_run([FakeResult()], tmp_path)
    assert (first.name, second.name) == ("20261127-181500", "20261127-181500-2")
    assert len(results.default_run_name()) == len("20261127-181500")


def test_explicit_name_never_overwrites(tmp_path):
    """Writing to an existing explicit run name fails and leaves the old run untouched."""
    path = write_run([FakeResult()], tmp_path, "same")
    with pytest.raises(FileExistsError):
        write_run([FakeResult(seed=99)], tmp_path, "same")
    assert json.loads((path / "meta.json").read_text())["seed"] == 7
    assert _leftovers(tmp_path / "tiny") == []


@pytest.mark.parametrize("fail_at", [1, 4, "dir"])
def test_failed_write_leaves_no_partial_directory(tmp_path, monkeypatch, fail_at):
    """If any rename fails (first file, a later file, or the final directory), nothing is left behind."""
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append(dst)
        is_dir = Path(src).is_dir()
        if (fail_at == "dir" and is_dir) or (not is_dir and len(calls) == fail_at):
            raise OSError("disk on fire")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_run([FakeResult(), FakeResult(variant="other")], tmp_path, "broken")
    assert not (tmp_path / "tiny" / "broken").exists()
    assert _leftovers(tmp_path / "tiny") == []


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    """An exception while writing leaves the previous file content and no temp file."""
    target = tmp_path / "x.txt"
    files.atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_rejects_bad_input(tmp_path):
    """No results, mixed scenarios or a path-like run name are refused before writing anything."""
    with pytest.raises(ValueError):
        write_run([], tmp_path)
    with pytest.raises(ValueError):
        write_run([FakeResult(), FakeResult(scenario="other", variant="x")], tmp_path)
    with pytest.raises(ValueError):
        write_run([FakeResult()], tmp_path, "../escape")
    assert not any(tmp_path.rglob("*.csv"))


def _leftovers(directory: Path) -> list[str]:
    """Hidden temp files or directories left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_requests_file_keeps_id_and_says_which_rows_are_measured(tmp_path, make_scenario):
    """requests.parquet: the request id (pandas reads it back as the index, other readers see an
    ``id`` column) and ``in_window``, true exactly for arrivals in [warmup, duration), the requests
    the summary counts; warm-up and drain arrivals are in the file, marked false."""
    import pyarrow.parquet as pq

    from simulator import run

    data = {"name": "tiny", "duration": "30s", "warmup": "5s", "seed": 3,
            "workload": [{"name": "w", "entry": "s", "arrivals": {"pattern": "poisson", "rate": "20/s"}}],
            "components": [{"kind": "service", "name": "s", "workers": 4,
                            "service_time": {"dist": "exponential", "mean": "100ms"}}]}
    result = run(make_scenario(data))
    path = write_run([result], tmp_path, "ids")
    back = pd.read_parquet(path / "requests.parquet")
    assert back.index.name == "id" and "id" in pq.read_schema(path / "requests.parquet").names
    assert (back.index.to_numpy() == np.arange(len(back))).all()
    assert back["t_arrival"].is_monotonic_increasing  # ids are given in arrival order
    t = back["t_arrival"]
    assert back["in_window"].dtype == bool
    assert (back["in_window"] == ((t >= 5.0) & (t < 30.0))).all()
    assert back["in_window"].sum() == result.summary["offered"]
    assert (t < 5.0).any() and (t >= 30.0).any()  # rows outside the window exist and say so
    pd.testing.assert_frame_equal(back, result.requests)
