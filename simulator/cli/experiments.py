"""The experiment commands: ``compare``, ``sweep``, ``check`` and ``report``.

Each declares its options and calls one function of :mod:`simulator.experiment.commands`, which
does the work and returns the exit code (0 done, 1 a claim failed, 2 bad input, 130 interrupted).
The option groups the experiments share, how runs execute (``--jobs --dask --seed --duration``)
and where results go (``--out --json --html --no-plots``), are written one group to a line, in
the same order in every signature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from simulator.cli.base import (
    RESULTS_ROOT,
    Dask,
    Html,
    Jobs,
    MaxEvents,
    MaxKeys,
    MaxMemory,
    MaxReplicas,
    MaxRequests,
    Metrics,
    NoPlots,
    OneJson,
    Overrides,
    ResultsRoot,
    ScenarioFile,
    Seed,
    SimDuration,
    Variants,
    budget_limits,
    replications_option,
)
from simulator.cli.common import user_errors


def register(app: typer.Typer) -> None:
    """Add ``compare``, ``sweep``, ``check`` and ``report`` to ``app``, in that order."""
    for command in (compare, sweep, check, report):
        app.command()(command)


def compare(
    file: ScenarioFile,
    variants: Variants = None,
    replications: Annotated[int | None, replications_option("Runs per variant.")] = None,
    baseline: Annotated[str | None, typer.Option(metavar="NAME",
                                                 help="Compare with (default: first).")] = None,
    jobs: Jobs = None, dask: Dask = None, seed: Seed = None, duration: SimDuration = None,
    warmup: Annotated[str | None, typer.Option(metavar="auto|DURATION",
                                               help="Warm-up override; auto = MSER-5.")] = None,
    overrides: Overrides = None,
    rank: Annotated[str | None, typer.Option(metavar="METRIC",
                                             help="Pick the best variant by METRIC.")] = None,
    delta: Annotated[str | None, typer.Option(metavar="X", help="Indifference zone for --rank.")] = None,
    metrics: Metrics = None,
    out: ResultsRoot = RESULTS_ROOT, as_json: OneJson = False, html: Html = False, no_plots: NoPlots = False,
    max_requests: MaxRequests = None, max_events: MaxEvents = None, max_replicas: MaxReplicas = None,
    max_keys: MaxKeys = None, max_memory: MaxMemory = None,
) -> None:
    """Compare variants over replications: means, paired differences, 95% intervals, verdicts."""
    _exit_with(lambda commands: commands.compare_command(
        file, variants=variants, replications=replications, baseline=baseline, seed=seed, duration=duration,
        overrides=overrides or [], jobs=jobs, dask=dask, out=out, as_json=as_json, html=html,
        plots=not no_plots, warmup=warmup, rank=rank, delta=delta, metrics=metrics),
        budget_limits(max_requests, max_events, max_replicas, max_keys, max_memory))


def sweep(
    file: ScenarioFile,
    params: Annotated[list[str], typer.Option("--param", metavar="PATH=2:12:2|PATH=a,b",
                                              help="A swept value (repeatable; full grid).")],
    variants: Variants = None,
    replications: Annotated[int | None, replications_option("Runs per point and variant.")] = None,
    jobs: Jobs = None, dask: Dask = None, seed: Seed = None, duration: SimDuration = None,
    overrides: Overrides = None,
    metrics: Metrics = None,
    metric: Annotated[str | None, typer.Option(metavar="NAME", help="Metric of the heatmap.")] = None,
    out: ResultsRoot = RESULTS_ROOT, as_json: OneJson = False, html: Html = False, no_plots: NoPlots = False,
    max_requests: MaxRequests = None, max_events: MaxEvents = None, max_replicas: MaxReplicas = None,
    max_keys: MaxKeys = None, max_memory: MaxMemory = None,
) -> None:
    """Sweep scenario values over a full-factorial grid, every point replicated."""
    _exit_with(lambda commands: commands.sweep_command(
        file, params=params, variants=variants, replications=replications, seed=seed, duration=duration,
        overrides=overrides or [], jobs=jobs, dask=dask, out=out, as_json=as_json, html=html,
        plots=not no_plots, metrics=metrics, metric=metric),
        budget_limits(max_requests, max_events, max_replicas, max_keys, max_memory))


def check(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Scenario files or built-in names.")],
    replications: Annotated[int | None, replications_option("Runs per variant.")] = None,
    jobs: Jobs = None, dask: Dask = None, seed: Seed = None, duration: SimDuration = None,
    out: ResultsRoot = RESULTS_ROOT,
    report: Annotated[Path | None, typer.Option(metavar="DIR",
                                                help="Write report.json and summary.md here.")] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html (with --report).")] = False,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Accept files without expect: (otherwise exit 2: nothing to check).")] = False,
    max_requests: MaxRequests = None, max_events: MaxEvents = None, max_replicas: MaxReplicas = None,
    max_keys: MaxKeys = None, max_memory: MaxMemory = None,
) -> None:
    """Check the scenarios' expect: claims; exit 0 if all hold, 1 if any fails, 2 on bad input."""
    _exit_with(lambda commands: commands.check_command(
        files, replications=replications, seed=seed, duration=duration, jobs=jobs, dask=dask, out=out,
        report=report, html=html, allow_empty=allow_empty),
        budget_limits(max_requests, max_events, max_replicas, max_keys, max_memory))


def report(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A compare, sweep or check directory.")],
) -> None:
    """Write DIR/report.html: one self-contained page with the tables and plots."""
    _exit_with(lambda commands: commands.report_command(directory))


def _exit_with(call: Callable[[ModuleType], int], limits: Any = None) -> None:
    """Exit with the code ``call(simulator.experiment.commands)`` returns; the module is imported
    only now (``--help`` stays fast) and inside the CLI's error handling. ``limits`` (the
    ``--max-*`` options) are in force meanwhile: every run is checked against them before any runs."""
    with user_errors():
        from simulator.budget import Limits, limits_in_force
        from simulator.experiment import commands

        with limits_in_force(limits or Limits()):
            code = call(commands)
    raise typer.Exit(code)
