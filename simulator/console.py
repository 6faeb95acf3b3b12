"""Terminal presentation for the CLI: metric formatting, rich tables and simulated-time progress.

Kept apart from cli.py so the commands stay thin (parse, call, print) and so the formatting rules
(seconds shown as ms, ratios as %, counts with separators) live in one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from simulator.units import format_duration

# Headline metrics in display order; per-component families follow, then anything else.
HEADLINE = ("offered", "completed", "ok", "errors", "timeouts", "rejected", "unavailable", "incomplete",
            "availability", "offered_rate", "throughput", "goodput", "latency_mean", "latency_p50",
            "latency_p95", "latency_p99", "latency_p999", "amplification")
FAMILIES = ("utilization", "queue_mean", "queue_max", "hit_ratio")
COUNTS = frozenset(("offered", "completed", "ok", "errors", "timeouts", "rejected", "unavailable",
                    "incomplete", "late_answers"))
RATES = frozenset(("offered_rate", "throughput", "goodput"))
RATIOS = frozenset(("availability", "utilization", "hit_ratio"))


def format_metric(name: str, value: Any) -> str:
    """Render one summary value for people: latency in ms, ratios in %, counts as integers."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–" if value is None else str(value)
    if math.isnan(number):
        return "–"
    family = name.split(".")[0]
    if name in COUNTS:
        return f"{number:,.0f}"
    if family in RATIOS:
        return f"{number * 100:.2f}%"
    if name.startswith("latency_"):
        ms = number * 1e3
        return f"{ms:,.1f} ms" if abs(ms) >= 1 else f"{ms:.3f} ms"
    if name in RATES:
        return f"{number:,.1f}/s"
    if name == "amplification":
        return f"{number:.3f}x"
    if family == "queue_max":
        return f"{number:,.0f}"
    if family == "queue_mean":
        return f"{number:,.2f}"
    return f"{number:,.2f}" if abs(number) >= 0.01 or number == 0 else f"{number:.3g}"


def ordered_metrics(summaries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Headline metrics first, then per-component families, then every other key (none hidden)."""
    seen: dict[str, None] = {}
    for summary in summaries:
        seen.update(dict.fromkeys(summary))
    names = [m for m in HEADLINE if m in seen]
    for family in FAMILIES:
        names += [m for m in seen if m.split(".")[0] == family and m != family]
    return names + [m for m in seen if m not in names]


def summary_table(summaries: Mapping[str, Mapping[str, Any]], title: str | None = None) -> Table:
    """Variants side by side: one row per metric, one column per variant."""
    table = Table(title=title, show_lines=False, header_style="bold")
    table.add_column("metric", style="cyan", no_wrap=True)
    for variant in summaries:
        table.add_column(variant, justify="right", no_wrap=True)
    for metric in ordered_metrics(summaries.values()):
        table.add_row(metric, *(format_metric(metric, s.get(metric)) for s in summaries.values()))
    return table


def scenario_table(rows: Sequence[tuple[str, str]]) -> Table:
    """Built-in scenarios: name and one-line description."""
    table = Table(header_style="bold")
    table.add_column("scenario", style="cyan", no_wrap=True)
    table.add_column("description")
    for name, description in rows:
        table.add_row(name, description)
    return table


class SimTimeColumn(ProgressColumn):
    """Simulated time reached out of the run's end, e.g. ``5m / 15m``."""

    def render(self, task: Task) -> Text:
        """Show completed/total simulated seconds in readable units."""
        if task.total is None:
            return Text("starting", style="dim")
        return Text(f"{format_duration(task.completed)} / {format_duration(task.total)}", style="green")


@contextmanager
def sim_progress(console: Console) -> Iterator[Callable[[str], Callable[[float, float], None]]]:
    """A progress display in simulated time; yields ``track(label) -> progress(now, end)``.

    The display is disabled when ``console`` is not a terminal (pipes, CI logs, tests), where a
    redrawn bar would only add noise.
    """
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), SimTimeColumn(),
                        TimeElapsedColumn(), console=console, transient=False,
                        disable=not console.is_terminal)

    def track(label: str) -> Callable[[float, float], None]:
        task = progress.add_task(label, total=None)

        def update(now: float, end: float) -> None:
            progress.update(task, completed=min(now, end), total=end)

        return update

    with progress:
        yield track
