"""The CI gate: ``check(files) -> CheckReport``, every scenario's ``expect:`` claims judged.

Each scenario's claims decide which variants run (those they name); every variant runs the same
replications (common random numbers) and the claims are judged by
:mod:`simulator.experiment.expectations`. All files are loaded before anything runs, so a typo in
the last file costs no simulation. The report is a table (one row per claim), ``report.json``
and ``summary.md`` (for CI job summaries); ``cascade check`` exits 0 when every claim holds,
1 when any fails, 2 on invalid input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.experiment.estimates import collect
from simulator.experiment.executors import Execution, Progress
from simulator.experiment.expectations import ROW_COLUMNS, check_metrics, judge
from simulator.experiment.inputs import as_scenario, check_replications
from simulator.experiment.output import dumps, write_meta
from simulator.experiment.store import safe_name
from simulator.experiment.tasks import make_tasks
from simulator.files import atomic_write_text, write_frame


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
        """``summary.md``: a heading with the verdict and a table a CI job summary can show."""
        status = "passed" if self.passed else f"FAILED ({len(self.failures)} of {len(self.rows)})"
        lines = [f"## cascade check: {status}", "",
                 "| result | scenario | expectation | measured | interval | reason |",
                 "|---|---|---|---:|---|---|"]
        for row in self.rows.itertuples(index=False):
            mark = "pass" if row.passed else "**FAIL**"
            lines.append(f"| {mark} | {row.scenario} | {row.expectation} | {_num(row.measured)} | "
                         f"{_interval(row.low, row.high, row.confidence)} | {row.reason or ''} |")
        if self.without_expectations:
            lines.append(f"\nNo expectations: {', '.join(self.without_expectations)}")
        return "\n".join(lines) + "\n"


def check(scenarios: Sequence[Any], *, replications: int | None = None, seed: int | None = None,
          duration: float | None = None, jobs: int = 1, dask: str | None = None,
          out: Path | None = None, progress: Progress | None = None) -> CheckReport:
    """Run and judge the ``expect:`` claims of each scenario (files, built-in names or Scenarios).

    ``out`` keeps finished runs (``out/<scenario>/check/runs``), so a rerun only does what is missing.
    Raises ExperimentError / ScenarioError on invalid input (unknown metric or variant).
    """
    loaded = [as_scenario(s) for s in scenarios]  # every file checked before anything runs
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


def _num(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4g}"


def _interval(low: float, high: float, confidence: float) -> str:
    if low is None or math.isnan(low):
        return "-"
    return f"[{low:.4g}, {high:.4g}] ({confidence:.0%})"
