"""Terminal presentation of experiments: run progress, comparison / sweep / check tables, messages.

Kept out of simulator.cli so the commands stay thin (parse, call the library, print) and out of the
library so ``compare`` and friends never print. Numbers are shown in the units people read
(ms, %, /s); a difference of a ratio is in percentage points.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.metrics import is_count, is_latency, is_rate, is_ratio, is_seconds

SHOWN = ("availability", "goodput", "throughput", "latency_p50", "latency_p99", "amplification",
         "timeouts", "errors", "rejected", "late_answers", "stuck", "overloaded",
         "final_availability",
         "time_to_recover", "degraded_seconds")
"""Metrics a comparison table shows (those the runs report); comparison.csv has every one."""

VERDICT_STYLES = {"better": "green", "worse": "red", "baseline": "dim"}


@contextmanager
def run_progress(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over runs (``done / total``); silent when ``console`` is not a terminal."""
    progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("runs"), TimeElapsedColumn(), console=console,
                        disable=not console.is_terminal)
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update


def comparison_table(comparison: Any, metrics: Sequence[str] | None = None) -> Table:
    """Long format: per metric and variant the mean with its interval, the paired difference and
    its interval against the baseline, and the verdict."""
    level = f"{comparison.confidence:.0%}"
    title = (f"{comparison.scenario}: {comparison.replications} replications per variant, "
             f"{level} intervals, paired differences vs {comparison.baseline}")
    table = Table(title=title, header_style="bold")
    for name, justify in (("metric", "left"), ("variant", "left"), ("mean", "right"),
                          (f"{level} CI", "right"), (f"diff vs {comparison.baseline}", "right"),
                          (f"{level} CI ", "right"), ("verdict", "left")):
        table.add_column(name, justify=justify, no_wrap=True)
    rows = comparison.table
    chosen = metrics or [m for m in SHOWN if (rows["metric"] == m).any()]
    for metric in chosen:
        for index, row in enumerate(rows[rows["metric"] == metric].itertuples(index=False)):
            table.add_row(metric if index == 0 else "", *_cells(row),
                          end_section=index == (rows["metric"] == metric).sum() - 1)
    return table


def _cells(row: Any) -> list[str]:
    """variant, mean, interval, diff, diff interval, verdict (styled) for one table row."""
    verdict = row.verdict
    style = VERDICT_STYLES.get(verdict)
    shown = f"[{style}]{verdict}[/]" if style else verdict
    diff = "" if verdict == "baseline" else fmt(row.metric, row.diff, row.kind, signed=True)
    diff_ci = ("" if verdict == "baseline" else
               fmt_range(row.metric, row.diff_low, row.diff_high, row.kind, True))
    return [str(row.variant), fmt(row.metric, row.mean, row.kind),
            fmt_range(row.metric, row.low, row.high, row.kind), diff, diff_ci,
            "" if verdict == "baseline" else shown]


def check_table(report: Any) -> Table:
    """One row per claim: result, scenario, the claim and the measured value in the metric's unit
    (ms, %, s; a ``better_than ... by`` as a share of the other's mean), the margin by which it
    holds (+) or fails (-), the interval and the reason it failed."""
    from rich.markup import escape

    from simulator.experiment.check import interval_text, margin_text, measured_text

    failed = len(report.failures)
    status = "all expectations hold" if report.passed else f"{failed} of {len(report.rows)} failed"
    table = Table(title=f"cascade check: {status}", header_style="bold")
    for name in ("result", "scenario", "expectation", "measured", "margin", "interval", "reason"):
        table.add_column(name, no_wrap=name not in ("reason", "expectation"),
                         justify="right" if name in ("measured", "margin") else "left")
    for row in report.rows.itertuples(index=False):
        result = "[green]pass[/]" if row.passed else "[bold red]FAIL[/]"
        table.add_row(result, *(escape(str(text)) for text in (
            row.scenario, row.expectation, measured_text(row), margin_text(row), interval_text(row),
            row.reason or "")))
    return table


def sweep_table(result: Any, metrics: Sequence[str]) -> Table:
    """Per sweep point and variant: each chosen metric's mean and interval."""
    table = Table(title=f"{result.scenario}: sweep, {result.replications} replications per point",
                  header_style="bold")
    for param in result.params:
        table.add_column(param.rsplit(".", 1)[-1], no_wrap=True)
    table.add_column("variant", no_wrap=True)
    for metric in metrics:
        table.add_column(metric, justify="right", no_wrap=True)
    wide = result.table[result.table["metric"].isin(metrics)]
    for key, group in wide.groupby([*result.params, "variant"], sort=False):
        cells = [f"{fmt(m, r.mean, r.kind)} {fmt_range(m, r.low, r.high, r.kind)}"
                 for m in metrics for r in group[group["metric"] == m].itertuples(index=False)]
        table.add_row(*(str(k) for k in key), *cells)
    return table


def interrupted_message(error: Any, command: str) -> str:
    """What was kept and how to go on after Ctrl-C."""
    where = f" under {error.directory}" if error.directory else ""
    return (f"cascade: interrupted: {error.done} of {error.total} runs are saved{where}; "
            f"run the same command again to resume: {command}")


def fmt(metric: str, value: Any, kind: str = "mean", *, signed: bool = False) -> str:
    """A value in the unit people read: ms, %, /s; differences of ratios in percentage points."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(value)
    sign = "+" if signed and number > 0 else ""
    if kind == "proportion" or is_ratio(metric):
        return f"{sign}{number * 100:.2f}{' pp' if signed else '%'}"
    if is_latency(metric):
        return f"{sign}{number * 1e3:,.1f} ms"
    if is_rate(metric):
        return f"{sign}{number:,.1f}/s"
    if is_count(metric) and number.is_integer():
        return f"{sign}{number:,.0f}"
    unit = " s" if is_seconds(metric) else ""
    return (f"{sign}{number:,.3g}" if abs(number) < 100 else f"{sign}{number:,.1f}") + unit


def fmt_range(metric: str, low: Any, high: Any, kind: str, signed: bool = False) -> str:
    """``[low, high]`` in the metric's display unit; ``–`` when there is no interval."""
    if low is None or high is None or math.isnan(float(low)) or math.isnan(float(high)):
        return "–"
    return f"[{fmt(metric, low, kind, signed=signed)}, {fmt(metric, high, kind, signed=signed)}]"


def default_directory(out: Path, scenario: str, kind: str) -> Path:
    """``results/<scenario>/<kind>``: a fixed place, so rerunning the same command resumes."""
    from simulator.experiment.store import safe_name

    return Path(out) / safe_name(scenario) / kind


def metric_list(text: str | None, available: pd.Series) -> list[str] | None:
    """``--metrics a,b`` checked against the metrics the runs report (None: the defaults)."""
    if not text:
        return None
    from simulator.experiment.errors import ExperimentError

    names = [m.strip() for m in text.split(",") if m.strip()]
    known = list(dict.fromkeys(available))
    unknown = [m for m in names if m not in known]
    if unknown:
        raise ExperimentError(f"unknown metric '{unknown[0]}'; known: {', '.join(known)}")
    return names
