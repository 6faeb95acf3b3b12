"""Run outputs on disk: one self-describing directory per run, written atomically.

Layout (see docs/contracts.md, "Results on disk")::

    <out>/<scenario>/<run-name>/
        summary.csv      variant, replication, metric, value  (every run in the directory)
        meta.json        seed, replication, variant, versions, wall time, timestamp, command line
        scenario.yaml    the resolved spec
        series.parquet  traffic.parquet  requests.parquet  events.csv  plots/*.png

A single run keeps everything flat; several runs (variants of one scenario) share the top-level
summary.csv and meta.json and get one sub-folder each for the rest.

Why atomic: results are read by notebooks, reports and CI while runs are still going, and runs get
interrupted. Every file is written through :mod:`simulator.files` (a temp file beside its target,
``os.replace``-d into place); the run directory is assembled under a hidden temp name and renamed
last, so a reader (or a crash) sees either a whole run directory or none.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator import files
from simulator.files import atomic_path, atomic_write_text, write_frame
from simulator.scenario.variants import DEFAULT_VARIANT

SUMMARY_COLUMNS = ["variant", "replication", "metric", "value"]
TABLES = ("series", "traffic", "requests")
PACKAGES = ("simpy", "numpy", "pandas", "pyarrow", "cascade-sim")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def summary_frame(results: Sequence[Any]) -> pd.DataFrame:
    """Long-format summary of several runs: one row per (variant, replication, metric)."""
    rows = [(_variant(r), int(r.replication), str(metric), _float(value))
            for r in results for metric, value in r.summary.items()]
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return frame.astype({"replication": "int64", "value": "float64"})


def read_summary(path: Path) -> pd.DataFrame:
    """Read a summary.csv back with the same column types :func:`summary_frame` produced."""
    frame = pd.read_csv(path, dtype={"variant": str, "metric": str}, keep_default_na=False,
                        na_values={"value": ["", "nan", "NaN"]})
    return frame.astype({"replication": "int64", "value": "float64"})


def versions() -> dict[str, str]:
    """Versions of Python and the packages that decide a run's numbers, for reproducibility."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


def run_meta(result: Any, command: Sequence[str] | None = None) -> dict[str, Any]:
    """What one run needs to be reproduced and compared: seed, variant, versions, when, how."""
    return {
        "scenario": str(result.scenario),
        "variant": _variant(result),
        "seed": int(result.seed),
        "replication": int(result.replication),
        "wall_time": float(result.wall_time),
        "partial": bool(getattr(result, "partial", False)),  # stopped by a time limit
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(sys.argv if command is None else command),
        "versions": versions(),
    }


def default_run_name(now: datetime | None = None) -> str:
    """A sortable UTC timestamp such as ``20261127-181500``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def write_run(results: Sequence[Any], out_dir: Path, run_name: str | None = None, *,
              plots: bool = False, command: Sequence[str] | None = None) -> Path:
    """Write the runs of one scenario to ``out_dir/<scenario>/<run-name>/``; return that path.

    Args:
        results: RunResults of one scenario (typically one per variant).
        out_dir: Root results directory (``results/``).
        run_name: Directory name; default a UTC timestamp, suffixed ``-2``, ``-3``... if taken.
            An explicit name that already exists is an error (runs are never overwritten).
        plots: Also write PNG plots (``plots/`` per run, ``plots/comparison.png`` for several).
        command: Command line recorded in meta.json (default ``sys.argv``).
    """
    if not results:
        raise ValueError("write_run needs at least one result")
    if run_name is not None and _safe_name(run_name) != run_name:
        raise ValueError(f"run name {run_name!r} may only contain letters, digits, '.', '_' and '-'")
    scenarios = {str(r.scenario) for r in results}
    if len(scenarios) > 1:
        raise ValueError(f"write_run takes runs of one scenario; got {sorted(scenarios)}")
    parent = Path(out_dir) / _safe_name(scenarios.pop())
    parent.mkdir(parents=True, exist_ok=True)
    files.remove_stale(parent)  # what a killed run left; only our own .tmp-<pid>- names
    tmp = Path(tempfile.mkdtemp(prefix=files.temp_prefix(), dir=parent))
    try:
        os.chmod(tmp, files.dir_mode())  # mkdtemp makes it 0700; a results directory is meant to be shared
        _fill(tmp, list(results), plots, command)
        return _place(tmp, parent, run_name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _fill(directory: Path, results: list[Any], plots: bool, command: Sequence[str] | None) -> None:
    """Write every file of a run directory (still under its temp name)."""
    write_frame(summary_frame(results), directory / "summary.csv")
    if len(results) == 1:
        _write_one(directory, results[0], plots, command)
        return
    names = _subfolders(results)
    for name, result in zip(names, results, strict=True):
        _write_one(directory / name, result, plots, command)
    meta = {"scenario": str(results[0].scenario),
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": shlex.join(sys.argv if command is None else command),
            "wall_time": float(sum(r.wall_time for r in results)),
            "versions": versions(),
            "runs": [{"dir": name, "variant": _variant(r), "seed": int(r.seed),
                      "replication": int(r.replication), "wall_time": float(r.wall_time),
                      "partial": bool(getattr(r, "partial", False))}
                     for name, r in zip(names, results, strict=True)]}
    atomic_write_text(directory / "meta.json", json.dumps(meta, indent=2) + "\n")
    if plots:
        from simulator import plots as plotting  # matplotlib only when plots are wanted

        summaries = {name: r.summary for name, r in zip(names, results, strict=True)}
        plotting.save_figure(plotting.plot_variant_comparison(summaries),
                             directory / "plots" / "comparison.png")


def _write_one(directory: Path, result: Any, plots: bool, command: Sequence[str] | None) -> None:
    """Write one run's spec, meta, tables and (optionally) plots into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_dump(result.spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    atomic_write_text(directory / "scenario.yaml", spec)
    atomic_write_text(directory / "meta.json", json.dumps(run_meta(result, command), indent=2) + "\n")
    for table in TABLES:
        write_table(getattr(result, table), directory / f"{table}.parquet")
    write_frame(result.events, directory / "events.csv")
    if plots:
        from simulator import plots as plotting

        plotting.save_run_plots(result, directory / "plots")


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as Parquet, atomically; a named index (``requests``' request ``id``) is kept
    as a column that pandas reads back as the index, as ``result.requests`` has it.

    A table longer than :data:`ROW_GROUP` rows (a long run's requests) is written one row group at
    a time, so that only one group is ever converted to Arrow: ``to_parquet`` converts the whole
    frame first, about 70 B a request more at the peak of a run's memory. Shorter tables keep the
    one-call path, whose bytes earlier results were compared against.
    """
    if hasattr(frame, "frames"):  # a spilled run's requests (simulator.recorder.LazyRequests)
        if len(frame) > ROW_GROUP:  # read from disk one row group at a time
            with atomic_path(path) as tmp:
                _write_row_groups(frame.frames(ROW_GROUP), tmp)
            return Path(path)
        frame = frame.to_frame()
    if frame.index.name is None:
        return write_frame(frame, path)
    with atomic_path(path) as tmp:
        if len(frame) <= ROW_GROUP:
            frame.to_parquet(tmp, index=True)
        else:
            starts = range(0, len(frame), ROW_GROUP)
            _write_row_groups((frame.iloc[start:start + ROW_GROUP] for start in starts), tmp)
    return Path(path)


ROW_GROUP = 1 << 20
"""Rows per Parquet row group: pyarrow's own default, so a streamed file is laid out like one
written in a single call."""


def _write_row_groups(slices, path: Path) -> None:
    """``frame.to_parquet(path, index=True)`` one :data:`ROW_GROUP` slice of it at a time (same
    schema, pandas metadata and compression; reads back equal)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for piece in slices:
            table = pa.Table.from_pandas(piece, preserve_index=True,
                                         schema=None if writer is None else writer.schema)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="snappy")
            writer.write_table(table)
            del table
    finally:
        if writer is not None:
            writer.close()


def _place(tmp: Path, parent: Path, run_name: str | None) -> Path:
    """Rename the finished temp directory to its final name (the commit point of a run)."""
    if run_name is not None:
        target = parent / run_name
        if target.exists():
            raise FileExistsError(f"{target} already exists; choose another run name")
        os.replace(tmp, target)
        return target
    base = default_run_name()
    for attempt in range(1, 1000):
        target = parent / (base if attempt == 1 else f"{base}-{attempt}")
        if target.exists():
            continue
        try:
            os.replace(tmp, target)
            return target
        except OSError as error:  # another process took the name between exists() and rename
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise FileExistsError(f"no free run name for {base} under {parent}")


def _subfolders(results: list[Any]) -> list[str]:
    """One folder name per run: the variant, plus the replication when variants repeat."""
    variants = [_variant(r) for r in results]
    repeated = len(set(variants)) < len(variants)
    names = [_safe_name(f"{v}-r{r.replication}" if repeated else v) for v, r in zip(variants, results,
                                                                                      strict=True)]
    if len(set(names)) < len(names):
        raise ValueError(f"runs must differ in variant or replication; got {names}")
    return names


def _variant(result: Any) -> str:
    """The run's variant name; runs of a scenario without variants are called 'base'."""
    return DEFAULT_VARIANT if result.variant is None else str(result.variant)


def _safe_name(text: str) -> str:
    """A file-system-safe single path component derived from ``text``."""
    safe = _UNSAFE.sub("-", str(text)).strip(".-")
    return safe or "unnamed"


def _float(value: Any) -> float:
    """A summary value as float; None (metric undefined for this run) becomes NaN."""
    return float("nan") if value is None else float(value)
