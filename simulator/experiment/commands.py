"""The experiment commands behind ``cascade compare | sweep | check | report``.

simulator.cli.experiments declares the options and calls one function here; each loads the input,
calls the library (:func:`compare`, :func:`sweep`, :func:`check`), writes the experiment directory
and prints. They return the exit code: 0 done (for check: every claim holds), 1 a claim failed,
2 bad input (:class:`ExperimentError`, printed as one line), 130 interrupted (finished runs are
kept and the message says how to resume). Scenario problems and missing files propagate to the CLI's own
error handling, which prints them the same way ``run`` does.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from simulator.experiment import cli_support as show
from simulator.experiment.errors import ExperimentError, Interrupted
from simulator.experiment.executors import default_jobs
from simulator.experiment.inputs import as_scenario
from simulator.experiment.output import dumps

ExitCode = int


def compare_command(file: str, *, variants: str | None, replications: int | None, baseline: str | None,
                    seed: int | None, duration: float | None, overrides: Sequence[str],
                    jobs: int | None, dask: str | None, out: Path, as_json: bool, html: bool,
                    plots: bool, warmup: str | None, rank: str | None, delta: str | None,
                    metrics: str | None) -> ExitCode:
    """``cascade compare``: run, compare, write the directory, print the table (or JSON)."""
    with _outcome() as code:
        from simulator.experiment.compare import compare
        from simulator.experiment.output import write_comparison

        scenario = _load(file, overrides)
        directory = show.default_directory(out, scenario.name, "compare")
        if rank:
            return _rank(scenario, rank, delta, _names(variants), seed, duration, jobs, dask,
                         directory, as_json)
        with show.run_progress(_stderr(), "compare") as progress:
            result = compare(scenario, _names(variants), replications=replications, baseline=baseline,
                             seed=seed, duration=duration, warmup=_warmup(warmup), jobs=_jobs(jobs),
                             dask=dask, out=directory, progress=progress)
        write_comparison(result, directory, plots=plots)
        _finish(directory, html)
        if as_json:
            typer.echo(json.dumps(_strict(result.to_json()), indent=2))
        else:
            _stdout().print(show.comparison_table(result, show.metric_list(metrics, result.table["metric"])))
            _say_warmup(result)
        typer.echo(f"results: {directory}", err=as_json)
    return code.value


def sweep_command(file: str, *, params: Sequence[str], variants: str | None, replications: int | None,
                  seed: int | None, duration: float | None, overrides: Sequence[str],
                  jobs: int | None, dask: str | None, out: Path, as_json: bool, html: bool, plots: bool,
                  metrics: str | None, metric: str | None) -> ExitCode:
    """``cascade sweep``: run the grid, write sweep.csv + plots, print a table per point."""
    with _outcome() as code:
        from simulator.experiment.sweep import parse_param, sweep
        from simulator.experiment.sweep_output import write_sweep

        parsed = [parse_param(p) for p in params]  # malformed --param before loading anything
        scenario = _load(file, overrides)
        directory = show.default_directory(out, scenario.name, "sweep")
        with show.run_progress(_stderr(), "sweep") as progress:
            result = sweep(scenario, parsed, _names(variants), replications=replications, seed=seed,
                           duration=duration, jobs=_jobs(jobs), dask=dask, out=directory,
                           progress=progress)
        chosen = show.metric_list(metrics, result.table["metric"]) or _sweep_metrics(result)
        write_sweep(result, directory, plots=plots, metric=metric)
        _finish(directory, html)
        if as_json:
            typer.echo(json.dumps(_strict({"params": result.params, "replications": result.replications,
                                           "results": result.table.to_dict(orient="records")}), indent=2))
        else:
            _stdout().print(show.sweep_table(result, chosen))
        typer.echo(f"results: {directory}", err=as_json)
    return code.value


def check_command(files: Sequence[str], *, replications: int | None, seed: int | None,
                  duration: float | None, jobs: int | None, dask: str | None, out: Path,
                  report: Path | None, html: bool, allow_empty: bool = False) -> ExitCode:
    """``cascade check``: judge every claim; 0 when all hold, 1 when any fails."""
    with _outcome() as code:
        from simulator.experiment.check import check, write_check

        scenarios = _within_budget([as_scenario(file) for file in files], duration)
        with show.run_progress(_stderr(), "check") as progress:
            result = check(scenarios, replications=replications, seed=seed, duration=duration,
                           jobs=_jobs(jobs), dask=dask, out=out, progress=progress,
                           allow_empty=allow_empty)
        _stdout().print(show.check_table(result))
        for name in result.without_expectations:
            typer.echo(f"{name}: no expect: block, nothing to check", err=True)
        if report is not None:
            write_check(result, report)
            _finish(report, html)
            typer.echo(f"report: {report}")
        code.value = 0 if result.passed else 1
    return code.value


def _within_budget(scenarios: list[Any], duration: float | None) -> list[Any]:
    """Every claimed variant of every file checked against the ``--max-*`` limits before the first
    file runs (``check`` itself checks each file's runs only when it comes to that file)."""
    from simulator.budget import check_variants

    for scenario in scenarios:
        claims = scenario.spec.expect
        check_variants(scenario, dict.fromkeys(n for c in claims for n in (c.variant, c.better_than) if n),
                       duration=duration)
    return scenarios


def report_command(directory: Path) -> ExitCode:
    """``cascade report DIR``: render an experiment directory as one self-contained HTML page."""
    with _outcome() as code:
        from simulator.experiment.report import write_report

        typer.echo(f"report: {write_report(directory)}")
    return code.value


class _Code:
    value: ExitCode = 0


@contextmanager
def _outcome() -> Iterator[_Code]:
    """Exit codes for experiment errors: 2 with one line for bad input, 130/143 (with how to resume)."""
    code = _Code()
    try:
        yield code
    except ExperimentError as error:
        typer.echo(f"cascade: {error}", err=True)
        code.value = 2
    except Interrupted as stop:
        typer.echo(show.interrupted_message(stop, shlex.join(["cascade", *sys.argv[1:]])), err=True)
        code.value = stop.exit_code  # 130 after SIGINT, 143 after SIGTERM


def _rank(scenario: Any, metric: str, delta: str | None, variants: list[str] | None, seed: int | None,
          duration: float | None, jobs: int | None, dask: str | None, directory: Path,
          as_json: bool) -> ExitCode:
    """``compare --rank METRIC``: the best variant by a fully sequential (Kim-Nelson) procedure."""
    from simulator.experiment.ranking import rank, ranking_table
    from simulator.scenario.expectations import parse_threshold

    if delta is None:
        raise ExperimentError("--rank needs --delta, the smallest difference worth detecting "
                              "(in the metric's unit: 0.01, 10ms, 1%)")
    try:
        zone = parse_threshold(delta)
    except ValueError as error:
        raise ExperimentError(f"--delta: {error}") from None
    with show.run_progress(_stderr(), "rank") as progress:
        result = rank(scenario, metric, delta=zone, variants=variants, seed=seed, duration=duration,
                      jobs=_jobs(jobs), dask=dask, out=directory, progress=progress)
    if as_json:
        typer.echo(json.dumps(_strict(result.to_json()), indent=2))
    else:
        _stdout().print(ranking_table(result))
    return 0


def _load(file: str, overrides: Sequence[str]) -> Any:
    from simulator.scenario import load_scenario

    scenario = load_scenario(file, overrides=list(overrides))
    for warning in scenario.warnings:
        typer.echo(str(warning), err=True)
    return scenario


def _names(text: str | None) -> list[str] | None:
    """``a,b`` -> ["a", "b"]; None or empty -> None (all)."""
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def _jobs(jobs: int | None) -> int:
    return default_jobs() if jobs is None else jobs


def _warmup(text: str | None) -> float | str | None:
    """``--warmup auto`` or a duration such as ``2m``."""
    if text is None or text == "auto":
        return text
    from simulator.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise ExperimentError(f"--warmup: expected 'auto' or a duration; {error}") from None


def _say_warmup(result: Any) -> None:
    how = "chosen by MSER-5 on goodput and latency" if result.warmup_auto else "fixed"
    typer.echo(f"warm-up: {result.warmup:g}s ({how}), excluded from every metric")


def _sweep_metrics(result: Any) -> list[str]:
    available = set(result.table["metric"])
    return [m for m in ("availability", "goodput", "latency_p99", "stuck") if m in available]


def _finish(directory: Path, html: bool) -> None:
    if html:
        from simulator.experiment.report import write_report

        write_report(directory)


def _strict(value: Any) -> Any:
    return json.loads(dumps(value))


def _stdout() -> Console:
    """Wide when piped, so tables are not squeezed to 80 columns in logs."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _stderr() -> Console:
    return Console(stderr=True)
