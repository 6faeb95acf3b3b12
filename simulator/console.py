"""Terminal presentation for the CLI: metric formatting, rich tables and simulated-time progress.

Kept apart from the CLI (simulator/cli/) so the commands stay thin (parse, call, print) and so the
formatting rules (seconds shown as ms, ratios as %, counts with separators) live in one place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from simulator.metrics import (
    CATALOGUE,
    HEADLINE,
    family,
    is_average,
    is_count,
    is_flag,
    is_latency,
    is_rate,
    is_ratio,
    is_seconds,
    qualifier,
)

# From the catalogue: headline rows in its order, then per-component forms grouped by family.
HEADLINE_ROWS = tuple(name for name, entry in CATALOGUE.items() if entry.console == HEADLINE)
FAMILIES = tuple(name for name, entry in CATALOGUE.items() if entry.grouped)


def format_metric(name: str, value: Any) -> str:
    """Render one summary value for people: latency in ms, ratios in %, counts as integers."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "–" if value is None else str(value)
    if math.isnan(number):
        return "–"
    if is_count(name):
        return f"{number:,.0f}"
    if is_ratio(name):
        return f"{number * 100:.2f}%"
    if is_latency(name):
        ms = number * 1e3
        return f"{ms:,.1f} ms" if abs(ms) >= 1 else f"{ms:.3f} ms"
    if is_rate(name):
        return f"{number:,.1f}/s"
    if is_flag(name):  # a mean over replications: the share of runs where it happened
        return f"{number * 100:.0f}% of runs"
    if is_seconds(name):
        return f"{number:,.1f} s"
    if family(name) in ("amplification", "peak_amplification"):
        return f"{number:.3f}x"
    if is_average(name):
        return f"{number:,.2f}"
    return f"{number:,.2f}" if abs(number) >= 0.01 or number == 0 else f"{number:.3g}"


HIDDEN_WHEN_ZERO = frozenset(name for name, entry in CATALOGUE.items() if entry.hide_zero)
"""Outcomes only defences produce (short_circuited, shed...): shown only where some variant has one."""


def ordered_metrics(summaries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Headline metrics first, then per-component families, then every other key.

    Nothing is hidden except the counts of defence-only outcomes that are zero in every column
    (a scenario without a breaker has no short-circuited requests to show).
    """
    summaries = list(summaries)
    seen: dict[str, None] = {}
    for summary in summaries:
        seen.update(dict.fromkeys(summary))
    for name in HIDDEN_WHEN_ZERO & set(seen):
        if all(not s.get(name) for s in summaries):
            del seen[name]
    names = [m for m in HEADLINE_ROWS if m in seen]
    for group in FAMILIES:
        names += [m for m in seen if family(m) == group and m != group]
    return names + [m for m in seen if m not in names]


def summary_table(summaries: Mapping[str, Mapping[str, Any]], title: str | None = None) -> Table:
    """Variants side by side: one row per metric, one column per variant.

    Rows whose name alone could mislead say what they count (``latency_p99 (ok only)``).
    """
    table = Table(title=title, show_lines=False, header_style="bold")
    table.add_column("metric", style="cyan", no_wrap=True)
    for variant in summaries:
        table.add_column(variant, justify="right", no_wrap=True)
    for metric in ordered_metrics(summaries.values()):
        table.add_row(row_label(metric), *(format_metric(metric, s.get(metric)) for s in summaries.values()))
    return table


def row_label(metric: str) -> str:
    """The metric name, with what it counts when the name could mislead: ``latency_p99 (ok only)``."""
    note = qualifier(metric)
    return f"{metric} ({note})" if note else metric


def scenario_table(rows: Sequence[tuple[str, str]]) -> Table:
    """Built-in scenarios: name and one-line description."""
    table = Table(header_style="bold")
    table.add_column("scenario", style="cyan", no_wrap=True)
    table.add_column("description")
    for name, description in rows:
        table.add_row(name, description)
    return table


class SimTimeColumn(ProgressColumn):
    """Simulated time reached out of the run's end, e.g. ``53m20s / 5h33m``."""

    def render(self, task: Task) -> Text:
        """Show completed/total simulated seconds as short clock readings."""
        if task.total is None:
            return Text("starting", style="dim")
        return Text(f"{format_clock(task.completed)} / {format_clock(task.total)}", style="green")


CLOCK_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_clock(seconds: float) -> str:
    """Simulated time as at most two whole units, rounded down: 3200.46 -> ``53m20s``, 19999.9 -> ``5h33m``.

    A progress display needs a short, steady reading, not the precision of ``format_duration``
    (``53.3409m``); rounding down never shows the end before it is reached.
    """
    if seconds < 10:
        return f"{math.floor(max(seconds, 0.0) * 10) / 10:g}s"
    for (big, size), (small, step) in zip(CLOCK_UNITS, CLOCK_UNITS[1:], strict=False):
        if seconds >= size:
            whole, rest = divmod(int(seconds // step), size // step)
            return f"{whole}{big}{rest}{small}" if rest else f"{whole}{big}"
    return f"{int(seconds)}s"


PLAIN_EVERY = 30.0
"""Wall-clock seconds between progress lines where the bar is off (not a terminal: CI logs, pipes)."""


@contextmanager
def sim_progress(console: Console) -> Iterator[Callable[[str], Callable[[float, float], None]]]:
    """A progress display in simulated time; yields ``track(label) -> progress(now, end)``.

    On a terminal each row shows simulated time reached / total, wall-clock time elapsed and an
    estimate of the wall-clock time left (from the recent simulated seconds per wall second).
    Elsewhere (pipes, CI logs, tests) a redrawn bar would only add noise, so a long run prints one
    plain line every :data:`PLAIN_EVERY` seconds instead, and a short one nothing.
    """
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), SimTimeColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
                        disable=not console.is_terminal)

    def track(label: str) -> Callable[[float, float], None]:
        if not console.is_terminal:
            return plain_progress(console, label)
        task = progress.add_task(label, total=None)

        def update(now: float, end: float) -> None:
            progress.update(task, completed=min(now, end), total=end)

        return update

    with progress:
        yield track


def plain_progress(console: Console, label: str) -> Callable[[float, float], None]:
    """``progress(now, end)`` printing ``label: 53m20s / 5h33m simulated, 1m30s elapsed, about 8m
    left`` at most every :data:`PLAIN_EVERY` wall seconds (the estimate: the run's mean pace so far)."""
    started = time.monotonic()
    last = started

    def update(now: float, end: float) -> None:
        nonlocal last
        wall = time.monotonic()
        if wall - last < PLAIN_EVERY:
            return
        last = wall
        elapsed = wall - started
        left = elapsed * (end - now) / now if 0 < now < end else 0.0
        console.print(f"{label}: {format_clock(min(now, end))} / {format_clock(end)} simulated, "
                      f"{format_clock(elapsed)} elapsed, about {format_clock(left)} left",
                      markup=False, highlight=False)

    return update
