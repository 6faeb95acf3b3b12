"""The CI gate: ``check(files) -> CheckReport``, every scenario's ``expect:`` claims judged.

Each scenario's claims decide which variants run (those they name); every variant runs the same
replications (common random numbers) and the claims are judged by
:mod:`simulator.experiment.expectations`. All files are loaded before anything runs, so a typo in
the last file costs no simulation. The report is a table (one row per claim), ``report.json``
and ``summary.md`` (for CI job summaries); ``cascade check`` exits 0 when every claim holds,
1 when any fails, 2 on invalid input. A gate must not pass vacuously: a file without ``expect:``
is invalid input unless ``allow_empty`` says so, and so is a claim whose metric is null in a run
it needs. ``summary.md`` escapes what it quotes (names, claims, reasons): a variant named
``a|b`` or ``<img>`` must not break the table or inject HTML into a CI page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.errors import ExperimentError
from simulator.experiment.estimates import collect
from simulator.experiment.executors import Execution, Progress
from simulator.experiment.expectations import ROW_COLUMNS, check_metrics, judge
from simulator.experiment.inputs import as_scenario, check_replications
from simulator.experiment.output import dumps, write_meta
from simulator.experiment.store import safe_name
from simulator.experiment.tasks import make_tasks
from simulator.files import atomic_write_text, write_frame
from simulator.metrics import shown


@dataclass
class CheckReport:
    """Every claim of every scenario checked, with measured values and reasons.

    Attributes:
        rows: One row per claim: scenario, expectation, variant, metric, measured, low, high,
            confidence, passed, reason.
        replications: Runs per variant, per scenario name.
        without_expectations: Scenarios that have no ``expect:`` block (nothing to check).
    """

    rows: pd.DataFrame
    replications: dict[str, int] = field(default_factory=dict)
    without_expectations: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every claim holds."""
        return bool(self.rows["passed"].all()) if not self.rows.empty else True

    @property
    def failures(self) -> pd.DataFrame:
        """The rows of claims that do not hold."""
        return self.rows[~self.rows["passed"].astype(bool)]

    def to_json(self) -> dict[str, Any]:
        """``report.json``: passed, counts, and every claim (NaN as null)."""
        return {"passed": self.passed, "claims": len(self.rows), "failed": len(self.failures),
                "replications": self.replications, "without_expectations": self.without_expectations,
                "results": [_plain(row) for row in self.rows.to_dict(orient="records")]}

    def markdown(self) -> str:
        """``summary.md``: a heading with the verdict and a table a CI job summary can show; every
        quoted text escaped for Markdown and HTML (see :func:`markdown_text`)."""
        status = "passed" if self.passed else f"FAILED ({len(self.failures)} of {len(self.rows)})"
        lines = [f"## cascade check: {status}", "",
                 "| result | scenario | expectation | measured | margin | interval | reason |",
                 "|---|---|---|---:|---:|---|---|"]
        for row in self.rows.itertuples(index=False):
            mark = "pass" if row.passed else "**FAIL**"
            cells = (row.scenario, row.expectation, measured_text(row), margin_text(row),
                     interval_text(row), row.reason or "")
            lines.append(f"| {mark} | " + " | ".join(markdown_text(cell) for cell in cells) + " |")
        if self.without_expectations:
            names = ", ".join(markdown_text(name) for name in self.without_expectations)
            lines.append(f"\nNo expectations: {names}")
        return "\n".join(lines) + "\n"


def check(scenarios: Sequence[Any], *, replications: int | None = None, seed: int | None = None,
          duration: float | None = None, jobs: int = 1, dask: str | None = None,
          out: Path | None = None, progress: Progress | None = None,
          allow_empty: bool = False) -> CheckReport:
    """Run and judge the ``expect:`` claims of each scenario (files, built-in names or Scenarios).

    ``out`` keeps finished runs (``out/<scenario>/check/runs``), so a rerun only does what is missing.
    Raises ExperimentError / ScenarioError on invalid input (unknown metric or variant, a metric
    null in a run a claim needs, a scenario without ``expect:`` unless ``allow_empty``).
    """
    loaded = [as_scenario(s) for s in scenarios]  # every file checked before anything runs
    if not allow_empty:
        empty = next((s for s in loaded if not s.spec.expect), None)
        if empty is not None:
            raise ExperimentError(f"{empty.source}: no expect: block, nothing to check (a gate "
                                  "with no claims would always pass; --allow-empty allows it)")
    if replications is not None:
        check_replications(replications)
    rows, counts, empty = [], {}, []
    with Execution(jobs=jobs, dask=dask, progress=progress).session() as go:
        for scenario in loaded:
            if not scenario.spec.expect:
                empty.append(scenario.name)
                continue
            count = check_replications(replications or scenario.spec.replications)
            counts[scenario.name] = count
            directory = Path(out) / safe_name(scenario.name) / "check" if out is not None else None
            rows += _check_one(scenario, count, seed, duration, go, directory)
    return CheckReport(pd.DataFrame(rows, columns=ROW_COLUMNS), counts, empty)


def _check_one(scenario: Any, count: int, seed: int | None, duration: float | None, go: Any,
               directory: Path | None) -> list[dict[str, Any]]:
    """Run the variants the claims name and judge every claim."""
    expect = scenario.spec.expect
    variants = list(dict.fromkeys(name for claim in expect
                                  for name in (claim.variant, claim.better_than) if name))
    tasks = make_tasks(scenario, variants, range(count), seed=seed, duration=duration, keep_traffic=False)
    records = go(tasks, directory)
    values = {variant: v for (_, variant), v in collect(records).items()}
    check_metrics(scenario.source, expect, values)
    return [{"scenario": scenario.name, **_verdict_row(judge(claim, values))} for claim in expect]


def write_check(report: CheckReport, directory: Path) -> list[Path]:
    """report.json, summary.md, results.csv and experiment.json under ``directory``."""
    directory = Path(directory)
    return [atomic_write_text(directory / "report.json", dumps(report.to_json()) + "\n"),
            atomic_write_text(directory / "summary.md", report.markdown()),
            write_frame(report.rows, directory / "results.csv"),
            write_meta(directory, "check", passed=report.passed, replications=report.replications)]


def _verdict_row(verdict: Any) -> dict[str, Any]:
    row = asdict(verdict)
    return {key: row[key] for key in ROW_COLUMNS if key in row}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with Python scalars and NaN as None."""
    out = {}
    for key, value in row.items():
        value = value.item() if hasattr(value, "item") else value
        out[key] = None if isinstance(value, float) and not math.isfinite(value) else value
    return out


def markdown_text(text: Any) -> str:
    """Text safe inside a Markdown table cell: HTML special characters as entities, ``|``, ``\\``
    and backticks escaped, line breaks as spaces (a name is data, never markup)."""
    escaped = html.escape(str(text), quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("`", "&#96;").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def measured_text(row: Any) -> str:
    """What was measured, in the metric's unit: the mean (a share of runs for yes/no metrics), or
    for better_than the improvement as a share of the other's mean with the paired difference."""
    if _missing(row.measured):
        return "-"
    if row.test == "better_than":
        diff = shown(row.metric, row.measured, signed=True)
        return diff if _missing(row.improvement) else f"{row.improvement:.1%} better ({diff})"
    return shown(row.metric, row.measured)


def margin_text(row: Any) -> str:
    """How far the claim holds (+) or fails (-): in the metric's unit, or in percentage points of
    the other variant's mean for better_than."""
    if _missing(row.margin):
        return "-"
    if row.test == "better_than":
        return f"{row.margin * 100:+.1f} pp"
    return shown(row.metric, row.margin, signed=True)


def interval_text(row: Any) -> str:
    """``[low, high] (95%)`` in the metric's unit, or ``-`` without an interval."""
    if _missing(row.low):
        return "-"
    signed = row.test == "better_than"
    return (f"[{shown(row.metric, row.low, signed=signed)}, {shown(row.metric, row.high, signed=signed)}]"
            f" ({row.confidence:.0%})")
