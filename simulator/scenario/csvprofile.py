"""Recorded traffic curves: CSV files with a ``time,rate`` header (seconds, requests per second).

The loader reads each file once per loaded scenario, to report a bad row by file and line before
any run starts, and stores the rows in the validated spec (``CsvProfileSpec.points``): a run,
in this process or on a worker, builds its profile from the spec and never opens the file.
A scenario's variants and its derived scenarios (``--set``, a sweep point, a warm-up) share one
:data:`ProfileCache`, so an experiment reads each file exactly once.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from simulator.scenario.schema import ScenarioSpec
from simulator.scenario.workload import CsvProfileSpec

HEADER = ["time", "rate"]

Points = list[tuple[float, float]]
ProfileCache = dict[str, "Points | str"]
"""What one load has read: resolved path -> its rows, or the error message reading it gave.
Made by the loader for each scenario and kept with it; never shared between unrelated loads."""


def read_profile_csv(path: Path) -> list[tuple[float, float]]:
    """The (time in seconds, rate per second) rows of a profile CSV, checked.

    Raises:
        ValueError: The file is missing or unreadable, the header is not ``time,rate``, a value
            is not a finite number, a rate is negative, times decrease, or there are no rows. The
            message names the file and, for row errors, the line.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise ValueError(f"cannot read profile CSV {path}: {reason}") from None
    if not rows or [cell.strip() for cell in rows[0]] != HEADER:
        found = ",".join(rows[0]) if rows else ""
        raise ValueError(f"{path} line 1: expected the header 'time,rate'; got {found!r}")
    numbered = [(number, _row(path, number, row)) for number, row in enumerate(rows[1:], start=2)
                if any(cell.strip() for cell in row)]
    if not numbered:
        raise ValueError(f"{path}: expected at least one row after the header 'time,rate'")
    for (_, (before, _)), (number, (time, _)) in zip(numbered, numbered[1:], strict=False):
        if time < before:
            raise ValueError(f"{path} line {number}: times must not decrease; got {time:g} after {before:g}")
    return [point for _, point in numbered]


def _row(path: Path, number: int, row: list[str]) -> tuple[float, float]:
    if len(row) != 2:
        raise ValueError(f"{path} line {number}: expected 2 values (time,rate); got {len(row)}")
    time, rate = (_number(path, number, name, cell) for name, cell in zip(HEADER, row, strict=True))
    if time < 0 or rate < 0:
        raise ValueError(f"{path} line {number}: time and rate cannot be negative; got {time:g},{rate:g}")
    return time, rate


def _number(path: Path, number: int, name: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{path} line {number}: expected a number for {name}; got {cell.strip()!r}")
    return value


def with_csv_points(spec: ScenarioSpec, base_dir: Path, cache: ProfileCache
                    ) -> tuple[ScenarioSpec, list[tuple[int, str]]]:
    """``spec`` with every CSV profile's ``points`` filled in, and (workload index, message) for
    each file that could not be read. A file already in ``cache`` is not read again."""
    errors, workloads = [], []
    for index, workload in enumerate(spec.workload):
        profile = workload.profile
        if isinstance(profile, CsvProfileSpec) and profile.points is None:
            points = _cached(base_dir / profile.path, cache)
            if isinstance(points, str):
                errors.append((index, points))
            else:
                profile = profile.model_copy(update={"points": points})
                workload = workload.model_copy(update={"profile": profile})
        workloads.append(workload)
    return spec.model_copy(update={"workload": workloads}), errors


def _cached(path: Path, cache: ProfileCache) -> Points | str:
    key = str(path.resolve())
    if key not in cache:
        try:
            cache[key] = read_profile_csv(path)
        except ValueError as error:
            cache[key] = str(error)
    return cache[key]
