"""Parameter sweeps: a full-factorial grid of scenario overrides, every point replicated.

``--param PATH=2:12:2`` is an inclusive range (start:stop:step; numbers, or durations such as
``30s:120s:30s``), ``--param PATH=a,b,c`` a list (each item read as YAML, so ``3``, ``true``,
``lru`` and ``250ms`` mean what they mean in a scenario file). The grid is every combination, in
the order the parameters are given; each point is the scenario with those values applied the way
``--set`` applies them (after each variant's own overrides). Every point is validated before any
run starts, so a path that does not exist is a one-line error, not a failed sweep.

The result is tidy: ``summary`` has one row per run and metric, ``table`` one row per point,
variant and metric with the mean (or proportion, for ``stuck``) and its interval.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator.experiment.errors import ExperimentError
from simulator.experiment.estimates import collect, estimate, kind
from simulator.experiment.executors import Execution, Progress
from simulator.experiment.inputs import as_scenario, check_replications, check_variants, with_overrides
from simulator.experiment.stats import DEFAULT_CONFIDENCE
from simulator.experiment.tasks import Point, RunRecord, make_tasks
from simulator.units import parse_duration

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Parameter:
    """One swept scenario value: a dotted path and the values it takes."""

    path: str
    values: tuple[Any, ...]


@dataclass
class SweepResult:
    """The outcome of :func:`sweep`.

    Attributes:
        scenario: Scenario name.
        params: The swept paths, in order (they are also column names of both tables).
        variants: Variants run at every point.
        replications: Runs per point and variant.
        confidence: Confidence level of the intervals.
        summary: One row per run and metric: <params...>, variant, replication, metric, value.
        table: One row per point, variant and metric: <params...>, variant, metric, kind, n, mean,
            low, high.
    """

    scenario: str
    params: list[str]
    variants: list[str]
    replications: int
    confidence: float
    summary: pd.DataFrame
    table: pd.DataFrame


def parse_param(text: str) -> Parameter:
    """``PATH=2:12:2`` (inclusive range) or ``PATH=a,b,c`` (list) -> Parameter."""
    path, sep, spec = str(text).partition("=")
    path, spec = path.strip(), spec.strip()
    if not sep or not path or not spec:
        raise ExperimentError(f"--param {text}: expected PATH=START:STOP:STEP or PATH=A,B,C")
    if ":" in spec and "," not in spec:
        return Parameter(path, tuple(_range(text, spec)))
    return Parameter(path, tuple(_item(part.strip()) for part in spec.split(",") if part.strip()))


def grid(params: Sequence[Parameter]) -> list[Point]:
    """Every combination of the parameters' values (the first parameter varies slowest)."""
    size = math.prod(len(p.values) for p in params)
    if size > MAX_POINTS:
        raise ExperimentError(f"the grid has {size:,} points; at most {MAX_POINTS:,} are allowed")
    paths = [p.path for p in params]
    if len(set(paths)) < len(paths):
        raise ExperimentError(f"a path is swept twice: {', '.join(paths)}")
    return [tuple(zip(paths, combo, strict=True)) for combo in itertools.product(*(p.values for p in params))]


def sweep(scenario: Any, params: Sequence[str | Parameter], variants: Sequence[str] | None = None, *,
          replications: int | None = None, seed: int | None = None, duration: float | None = None,
          confidence: float = DEFAULT_CONFIDENCE, jobs: int = 1, dask: str | None = None,
          out: Path | None = None, progress: Progress | None = None) -> SweepResult:
    """Run every grid point x variant x replication; estimate every metric at every point."""
    if not params:
        raise ExperimentError("a sweep needs at least one --param PATH=VALUES")
    scenario = as_scenario(scenario)
    parameters = [p if isinstance(p, Parameter) else parse_param(p) for p in params]
    chosen = check_variants(scenario, list(variants) if variants else None)
    count = check_replications(scenario.spec.replications if replications is None else replications)
    tasks = []
    for point in grid(parameters):  # validate every point before any run starts
        tasks += make_tasks(_at(scenario, point), chosen, range(count), seed=seed, duration=duration,
                            point=point, keep_traffic=False)
    records = Execution(jobs=jobs, dask=dask, directory=out, progress=progress).run(tasks)
    paths = [p.path for p in parameters]
    return SweepResult(scenario.name, paths, chosen, count, confidence,
                       _summary(records, paths), sweep_table(records, paths, confidence))


def sweep_table(records: Sequence[RunRecord], paths: list[str],
                confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """One row per point, variant and metric: kind, n, mean, low, high."""
    rows = []
    for (point, variant), values in collect(records).items():
        where = dict(point)
        for metric, series in values.items():
            interval = estimate(metric, series, confidence)
            rows.append({**where, "variant": variant, "metric": metric, "kind": kind(metric, series),
                         "n": interval.n, "mean": interval.estimate, "low": interval.low,
                         "high": interval.high})
    return pd.DataFrame(rows, columns=[*paths, "variant", "metric", "kind", "n", "mean", "low", "high"])


def _summary(records: Sequence[RunRecord], paths: list[str]) -> pd.DataFrame:
    """Long format, one row per run and metric; bools as 0/1 and None as NaN, like summary.csv."""
    rows = [{**dict(r.point), "variant": r.variant, "replication": r.replication, "metric": metric,
             "value": math.nan if value is None else float(value)}
            for r in records for metric, value in r.summary.items()]
    return pd.DataFrame(rows, columns=[*paths, "variant", "replication", "metric", "value"])


def _at(scenario: Any, point: Point) -> Any:
    """The scenario at one grid point; a path or value the scenario refuses is a one-line error."""
    from simulator.scenario import ScenarioError

    try:
        return with_overrides(scenario, list(point))
    except ScenarioError as error:
        first = error.problems[0]
        where = "" if first.path == "--set" else f"{first.path}: "
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        values = ", ".join(f"{path}={value}" for path, value in point)
        raise ExperimentError(f"{first.file}: --param {where}{first.message} (at {values}){more}") from None


def _range(text: str, spec: str) -> list[Any]:
    """Inclusive START:STOP:STEP of numbers or durations; ints stay ints."""
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) != 3:
        raise ExperimentError(f"--param {text}: a range is START:STOP:STEP, e.g. 2:12:2")
    numbers = _numbers(text, parts)
    start, stop, step = numbers
    if step <= 0:
        raise ExperimentError(f"--param {text}: the step must be greater than 0")
    if stop < start:
        raise ExperimentError(f"--param {text}: empty range (start {parts[0]} is after stop {parts[1]})")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > MAX_POINTS:
        raise ExperimentError(f"--param {text}: {count:,} values; at most {MAX_POINTS:,} are allowed")
    whole = all(isinstance(n, int) for n in numbers)
    return [start + i * step if whole else round(start + i * step, 12) for i in range(count)]


def _numbers(text: str, parts: list[str]) -> list[int | float]:
    """The three parts as numbers (plain, or all durations in seconds)."""
    for parse in (lambda p: int(p) if p.lstrip("+-").isdigit() else float(p), parse_duration):
        try:
            numbers = [parse(p) for p in parts]
        except ValueError:
            continue
        if all(math.isfinite(n) for n in numbers):
            return numbers
    raise ExperimentError(f"--param {text}: START:STOP:STEP must be finite numbers or durations")


def _item(text: str) -> Any:
    """One list value, read as YAML (``3`` -> 3, ``true`` -> True, ``lru`` -> 'lru')."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, str | int | float | bool) else text
