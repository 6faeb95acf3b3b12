"""Paired comparison of a scenario's variants over replications: ``compare(...) -> Comparison``.

Every variant runs the same replications; replication r of every variant shares its random
streams (common random numbers), so each variant's difference from the baseline is estimated
replication by replication. Per metric the result holds each variant's mean (or, for yes/no
metrics such as ``stuck``, the proportion of runs) with a confidence interval, and the paired
difference from the baseline with its interval and a verdict in words that knows which way is
better (see :mod:`simulator.experiment.directions`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.estimates import collect, difference_row, estimate, kind, metric_names
from simulator.experiment.executors import Execution, Progress
from simulator.experiment.inputs import (
    as_scenario,
    check_replications,
    check_variants,
    with_overrides,
)
from simulator.experiment.stats import DEFAULT_CONFIDENCE
from simulator.experiment.tasks import RunRecord, make_tasks
from simulator.experiment.warmup import truncation_time
from simulator.results import summary_frame

TABLE_COLUMNS = ["metric", "variant", "kind", "n", "mean", "low", "high",
                 "diff", "diff_low", "diff_high", "verdict"]
SERIES_COLUMNS = ["t", "variant", "goodput", "latency_p99", "availability"]


@dataclass
class Comparison:
    """The outcome of :func:`compare`; the command line only prints and saves it.

    Attributes:
        scenario: Scenario name.
        baseline: The variant every other is compared with.
        variants: Variants compared, baseline included, in the order given.
        replications: Runs per variant.
        confidence: Confidence level of every interval (0.95).
        warmup: Seconds excluded from the metrics (``auto``: chosen by MSER-5).
        warmup_auto: True when the warm-up was chosen by MSER-5.
        summary: One row per run and metric: variant, replication, metric, value (summary.csv).
        table: One row per metric and variant: kind, n, mean, low, high and the paired diff,
            diff_low, diff_high, verdict (NaN / "baseline" on the baseline's rows).
        series: Per interval and variant, means over replications of goodput (ok/s), latency_p99
            (s, worst workload) and availability (the traffic table's column: available / arrived).
        windows: Fault windows (start s, end s, name) seen in the runs, for shading plots.
    """

    scenario: str
    baseline: str
    variants: list[str]
    replications: int
    confidence: float
    warmup: float
    warmup_auto: bool
    summary: pd.DataFrame
    table: pd.DataFrame
    series: pd.DataFrame
    windows: list[tuple[float, float, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: baseline, replications, variants {V: {M: {mean, low, high}}},
        paired {V: {M: {diff, low, high, verdict}}}; NaN as null."""
        variants: dict[str, dict[str, Any]] = {v: {} for v in self.variants}
        paired: dict[str, dict[str, Any]] = {v: {} for v in self.variants if v != self.baseline}
        for row in self.table.itertuples(index=False):
            variants[row.variant][row.metric] = {"mean": _json(row.mean), "low": _json(row.low),
                                                 "high": _json(row.high)}
            if row.variant != self.baseline:
                paired[row.variant][row.metric] = {"diff": _json(row.diff), "low": _json(row.diff_low),
                                                   "high": _json(row.diff_high), "verdict": row.verdict}
        return {"baseline": self.baseline, "replications": self.replications,
                "variants": variants, "paired": paired}


def compare(scenario: Any, variants: Sequence[str] | None = None, *, replications: int | None = None,
            baseline: str | None = None, seed: int | None = None, duration: float | None = None,
            warmup: float | str | None = None, confidence: float = DEFAULT_CONFIDENCE,
            jobs: int = 1, dask: str | None = None, out: Path | None = None,
            progress: Progress | None = None) -> Comparison:
    """Run every variant x replication and compare each variant with the baseline.

    Args:
        scenario: A loaded Scenario, a scenario file or a built-in name.
        variants: Variants to compare (default: all, file order).
        replications: Runs per variant (default: the scenario's ``replications``).
        baseline: The variant others are compared with (default: the first one).
        seed: Seed override; duration: duration override (seconds).
        warmup: Warm-up override in seconds, or ``"auto"`` (MSER-5 on the goodput series of a
            pilot run of each variant; the longest cut wins).
        jobs: Local worker processes; dask: scheduler address (wins over ``jobs``).
        out: Experiment directory keeping every finished run (rerun: finished runs are skipped).
        progress: ``progress(done, total)`` after each run.
    """
    scenario = as_scenario(scenario)
    chosen = check_variants(scenario, list(variants) if variants else None)
    baseline = baseline or chosen[0]
    if baseline not in chosen:
        chosen = check_variants(scenario, [baseline, *chosen])
    count = check_replications(scenario.spec.replications if replications is None else replications)
    execution = Execution(jobs=jobs, dask=dask, directory=out, progress=progress)
    with execution.session() as go:
        scenario, cut = _apply_warmup(scenario, chosen, warmup, seed, duration, go)
        records = go(make_tasks(scenario, chosen, range(count), seed=seed, duration=duration))
    return comparison_of(records, scenario.name, chosen, baseline, count, confidence,
                         warmup=cut, warmup_auto=warmup == "auto")


def comparison_of(records: Sequence[RunRecord], name: str, variants: list[str], baseline: str,
                  replications: int, confidence: float = DEFAULT_CONFIDENCE, *, warmup: float = 0.0,
                  warmup_auto: bool = False) -> Comparison:
    """Build the comparison from finished runs (no simulation)."""
    return Comparison(scenario=name, baseline=baseline, variants=variants, replications=replications,
                      confidence=confidence, warmup=warmup, warmup_auto=warmup_auto,
                      summary=summary_frame(records),
                      table=comparison_table(records, variants, baseline, confidence),
                      series=variant_series(records), windows=_windows(records))


def comparison_table(records: Sequence[RunRecord], variants: list[str], baseline: str,
                     confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """One row per metric and variant: estimate with interval, paired difference and verdict."""
    values = {variant: v for (_, variant), v in collect(records).items()}
    rows = []
    for metric in metric_names(records):
        base = values[baseline][metric]
        for variant in variants:
            own = values[variant][metric]
            point = estimate(metric, own, confidence)
            row = {"metric": metric, "variant": variant, "kind": kind(metric, own), "n": point.n,
                   "mean": point.estimate, "low": point.low, "high": point.high}
            if variant == baseline:
                row.update(diff=math.nan, diff_low=math.nan, diff_high=math.nan, verdict="baseline")
            else:
                row.update(difference_row(metric, own, base, confidence))
            rows.append(row)
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def variant_series(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Per interval and variant: goodput, worst-workload p99 and availability, mean over replications.

    Availability is the traffic table's own column (simulator.metrics.availability of the requests
    arriving in the interval); several workloads are combined weighted by their arrivals, so the
    series weighted by requests gives back the summary's availability.
    """
    frames = []
    for record in records:
        traffic = record.traffic
        if traffic is None or traffic.empty or "t" not in traffic.columns:
            continue
        grouped = traffic.groupby("t", sort=True)
        frame = pd.DataFrame({"goodput": grouped["goodput"].sum(),
                              "latency_p99": grouped["latency_p99"].max(),
                              "availability": _combined_availability(traffic)})
        frames.append(frame.reset_index().assign(variant=record.variant))
    if not frames:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    both = pd.concat(frames, ignore_index=True)
    means = both.groupby(["variant", "t"], sort=False).mean(numeric_only=True).reset_index()
    return means[SERIES_COLUMNS]


def _combined_availability(traffic: pd.DataFrame) -> pd.Series:
    """Per interval, the workloads' availability weighted by their arrivals (NaN: none arrived, or a
    run stored before the traffic table had the column)."""
    if "availability" not in traffic.columns:
        return pd.Series(math.nan, index=sorted(traffic["t"].unique()))
    arrived = traffic["offered"].where(traffic["availability"].notna(), 0.0)
    weighted = (traffic["availability"].fillna(0.0) * arrived).groupby(traffic["t"], sort=True).sum()
    total = arrived.groupby(traffic["t"], sort=True).sum()
    return weighted / total.where(total > 0)


def _apply_warmup(scenario: Any, variants: list[str], warmup: float | str | None, seed: int | None,
                  duration: float | None, go: Any) -> tuple[Any, float]:
    """The scenario with its warm-up set (fixed or by MSER-5) and the warm-up in seconds."""
    if warmup is None:
        return scenario, float(scenario.spec.warmup)
    if warmup != "auto":
        return with_overrides(scenario, [("warmup", float(warmup))]), float(warmup)
    pilot = with_overrides(scenario, [("warmup", 0.0)])
    # A point of their own keeps the pilots' files apart from replication 0's (both stay resumable).
    runs = go(make_tasks(pilot, variants, [0], seed=seed, duration=duration, point=(("pilot", "warmup"),)))
    cut = max(truncation_time(record.traffic) for record in runs)
    return with_overrides(scenario, [("warmup", cut)]), cut


def _windows(records: Sequence[RunRecord]) -> list[tuple[float, float, str]]:
    """The fault windows of the first run that has any (faults are the same in every variant)."""
    from simulator.plots import fault_windows

    for record in records:
        windows = fault_windows(record.events)
        if windows:
            return windows
    return []


def _json(value: Any) -> float | None:
    """A strict-JSON number: NaN and infinities become null."""
    number = float(value)
    return number if math.isfinite(number) else None
