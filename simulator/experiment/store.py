"""Resumable run storage: one small JSON file per finished run, written atomically.

Why: a sweep of thousands of runs gets interrupted (Ctrl-C, a lost worker, a laptop lid). Each
run is saved the moment it comes back, under a path named by its sweep point, variant and
replication, with temp file + rename so a file on disk is always a whole run. Running the same
command again loads the saved runs and does only the missing ones. A saved run is reused only if
its fingerprint (resolved spec, seed, replication, duration) matches the task: change the
scenario and the stale runs are simply done again. A writer killed mid-save leaves only a
``.tmp-<pid>-`` file, removed when the experiment starts again.

Layout under the experiment directory::

    runs/<variant>/r0003.json                 (comparisons, checks)
    runs/<point>/<variant>/r0003.json         (sweeps; <point> reads like rate=300,hold=60)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.tasks import RunRecord, RunTask
from simulator.files import atomic_write_text, remove_stale

FORMAT = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")
MAX_NAME = 80


class RunStore:
    """Finished runs of one experiment, one file each under ``directory / "runs"``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.root = self.directory / "runs"

    def clean(self) -> list[Path]:
        """Remove the temp files of writers that were killed (``kill -9`` during a save); a
        concurrent writer's are kept (see :func:`simulator.files.remove_stale`)."""
        return remove_stale(self.root, recursive=True)

    def path(self, task: RunTask | RunRecord) -> Path:
        """Where the run of ``task`` is (or will be) kept."""
        parts = [point_name(task.point)] if task.point else []
        return self.root.joinpath(*parts, safe_name(task.variant), f"r{task.replication:04d}.json")

    def load(self, task: RunTask) -> RunRecord | None:
        """The saved run of ``task`` if there is one with the same fingerprint, else None."""
        path = self.path(task)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("format") != FORMAT or data.get("fingerprint") != task.fingerprint:
            return None
        if task.keep_traffic and data.get("traffic") is None:  # saved by a sweep or check: run again
            return None
        return _record(data, task)

    def save(self, record: RunRecord) -> Path:
        """Write one finished run atomically; return its path."""
        return atomic_write_text(self.path(record), json.dumps(_document(record), allow_nan=False))


def _document(record: RunRecord) -> dict[str, Any]:
    """The JSON form of a record: plain data, strict JSON (NaN as null)."""
    return {"format": FORMAT, "variant": record.variant, "replication": record.replication,
            "point": [[path, value] for path, value in record.point], "seed": record.seed,
            "fingerprint": record.fingerprint, "wall_time": record.wall_time,
            "summary": {k: _clean(v) for k, v in record.summary.items()},
            "traffic": _frame_data(record.traffic), "events": _frame_data(record.events)}


def _record(data: dict[str, Any], task: RunTask) -> RunRecord:
    """A record read back; identity comes from the task (its point keeps the Python types)."""
    return RunRecord(variant=task.variant, replication=task.replication, point=task.point,
                     seed=int(data["seed"]), fingerprint=data["fingerprint"],
                     wall_time=float(data["wall_time"]), summary=dict(data["summary"]),
                     traffic=_frame(data.get("traffic")), events=_frame(data.get("events") or {}))


def _frame_data(frame: pd.DataFrame | None) -> dict[str, list[Any]] | None:
    """A DataFrame as {column: values}, NaN as null; None stays None."""
    if frame is None:
        return None
    return {str(column): [_clean(v) for v in frame[column].tolist()] for column in frame.columns}


def _frame(data: dict[str, list[Any]] | None) -> pd.DataFrame | None:
    """Inverse of :func:`_frame_data` (numeric columns come back as float64)."""
    if data is None:
        return None
    frame = pd.DataFrame(data)
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(_is_number_or_none).all():
            frame[column] = frame[column].astype("float64")
    return frame


def _is_number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _clean(value: Any) -> Any:
    """A JSON-safe scalar: NaN/inf -> None, numpy scalars -> Python, other objects -> text."""
    if value is None or isinstance(value, bool | str):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def safe_name(text: str) -> str:
    """One file-system-safe path component; long names keep a prefix and a hash."""
    name = _UNSAFE.sub("-", str(text)).strip(".-") or "unnamed"
    if len(name) > MAX_NAME:
        digest = hashlib.blake2b(name.encode(), digest_size=6).hexdigest()
        name = f"{name[:MAX_NAME - 13]}-{digest}"
    return name


def point_name(point: tuple[tuple[str, Any], ...]) -> str:
    """``(("workload.feed.arrivals.rate", 300), ("faults.x.for", "60s"))`` -> ``rate=300,for=60s``.

    The last part of each path is enough to read; the full point is inside every run file, and
    a hash of it keeps two points whose short names collide apart.
    """
    short = ",".join(f"{path.rsplit('.', 1)[-1]}={value}" for path, value in point)
    digest = hashlib.blake2b(repr(point).encode(), digest_size=4).hexdigest()
    return safe_name(f"{short}-{digest}")
