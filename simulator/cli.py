"""The ``cascade`` command line: a thin typer app over the library.

Each command parses its arguments, calls the library and prints; a notebook can do the same by
importing the same functions. Library imports happen inside the commands so ``cascade --help``
stays fast and one broken module cannot take every command down with it.

Error policy: bad input (scenario problems, unknown variants, missing files, malformed options)
exits with code 2 and one line per problem on stderr. No input ever shows a Python traceback; an
unexpected failure (a bug) prints a one-line internal error and exits 1 - set ``CASCADE_DEBUG=1``
to see the traceback instead.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from simulator.console import scenario_table, sim_progress, summary_table


class _FlagsTakeNoValue:
    """Help that shows no value type on flags: ``--json <bool>`` reads as if the flag took a value."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters, flags (``--help`` included) with an empty type column."""
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class _Command(_FlagsTakeNoValue, TyperCommand):
    """A command whose help lists flags without a value type."""


class _Group(_FlagsTakeNoValue, TyperGroup):
    """The top-level group, whose ``--help`` is a flag too."""


class _App(typer.Typer):
    """A Typer app whose every command (those added later included) gets the flag-friendly help."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        """``Typer.command`` with ``_Command`` as the default class."""
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _App(name="cascade", cls=_Group, no_args_is_help=True, add_completion=False,
           pretty_exceptions_enable=False,
           help="Simulate failure scenarios of distributed systems and compare defences.")


class InputError(Exception):
    """Bad input found by the CLI itself (e.g. an unknown variant); reported like loader errors."""


def _parse_duration(value: str) -> float:
    """Typer parser for ``--duration``: accepts units ("90s", "10m") like the scenario files do."""
    from simulator.units import parse_duration

    try:
        return parse_duration(value, positive=True)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _at_least(minimum: int) -> Callable[[str], int]:
    """Typer parser for a whole-number option, with the rule and the words of the scenario files."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise typer.BadParameter(f"expected a whole number; got {value!r}") from None
        if number < minimum:
            raise typer.BadParameter(f"must be at least {minimum}; got {number}")
        return number

    return parse


@app.command()
def run(
    file: Annotated[str, typer.Argument(metavar="FILE",
                                        help="Scenario file, or the name of a built-in scenario.")],
    variant: Annotated[str | None, typer.Option(metavar="NAME",
                                                help="Run only this variant (default: every one).")] = None,
    seed: Annotated[int | None, typer.Option(parser=_at_least(0), metavar="INT",
                                             help="Override the scenario's seed (>= 0).")] = None,
    duration: Annotated[float | None, typer.Option(parser=_parse_duration, metavar="DURATION",
                                                   help="Override the simulated duration, e.g. 10m.")] = None,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", metavar="PATH=VALUE", help="Override a scenario value (repeatable).")] = None,
    replications: Annotated[int | None, typer.Option(
        parser=_at_least(1), metavar="N",
        help="Independent runs per variant (default: the scenario's replications).")] = None,
    out: Annotated[Path, typer.Option(metavar="DIR",
                                      help="Root directory for run outputs.")] = Path("results"),
    as_json: Annotated[bool, typer.Option("--json", help="Print only the summary as JSON.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
) -> None:
    """Run a scenario (every variant, or one) and print the summary side by side."""
    with _user_errors():
        from simulator.scenario import load_scenario

        scenario = load_scenario(file, overrides=list(overrides or []))
        _warn(scenario.warnings)
        variants = _pick_variants(scenario.variant_names, variant, file)
        count = replications or scenario.spec.replications
        results = _simulate(scenario, variants, seed, duration, count)
        path = _save(results, out, plots=not no_plots)
    summaries = _mean_summaries(results)
    if as_json:
        payload = next(iter(summaries.values())) if len(summaries) == 1 else summaries
        typer.echo(json.dumps(_jsonable(payload), indent=2))
        typer.echo(f"results: {path}", err=True)
        return
    title = str(results[0].scenario)
    if count > 1:
        title += f" (mean of {count} replications; one row per replication in summary.csv)"
    _stdout().print(summary_table(summaries, title=title))
    typer.echo(f"results: {path}")


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or built-in names.")],
) -> None:
    """Check scenario files (every variant) without running them; exit 2 if any has problems."""
    failed = 0
    with _user_errors():
        for file in files:
            count, problems, warnings = _check(file)
            _warn(warnings)
            if problems:
                failed += 1
                typer.echo(problems, err=True)
            else:
                typer.echo(f"OK {file} ({count} variant{'' if count == 1 else 's'})")
    if failed:
        raise typer.Exit(2)


@app.command("list")
def list_scenarios() -> None:
    """List the built-in scenarios with a one-line description each."""
    with _user_errors():
        rows = _builtin_rows()
    _stdout().print(scenario_table(rows))


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and validators)."""
    with _user_errors():
        from simulator.scenario.schema import ScenarioSpec

        text = json.dumps(ScenarioSpec.model_json_schema(), indent=2)
    typer.echo(text)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller workloads, for a fast check.")] = False,
    repeats: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N",
                                                help="Timed repeats per workload.")] = None,
) -> None:
    """Measure simulation speed and memory against a plain-SimPy reference."""
    with _user_errors():
        from simulator.bench import main as bench_main

        options: dict[str, Any] = {"quick": quick}
        if repeats is not None:  # otherwise the benchmark's own default applies
            options["repeats"] = repeats
        code = bench_main(**options)
    if isinstance(code, int) and code:
        raise typer.Exit(code)


# --- experiments (logic in simulator.experiment.commands) ------------------------------------------

_JOBS_HELP = "Local worker processes (default: the number of cores)."
_DASK_HELP = "Run on a dask.distributed scheduler, e.g. tcp://host:8786."
_SEED_HELP = "Override the scenario's seed (>= 0)."
_DURATION_HELP = "Override the simulated duration, e.g. 10m."
_SET_HELP = "Override a scenario value (repeatable)."


@app.command()
def compare(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Scenario file or built-in name.")],
    variants: Annotated[str | None, typer.Option(metavar="A,B", help="Variants (default: all).")] = None,
    replications: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N",
                                                     help="Runs per variant.")] = None,
    baseline: Annotated[str | None, typer.Option(metavar="NAME",
                                                 help="Compare with (default: first).")] = None,
    jobs: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N", help=_JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option(metavar="ADDRESS", help=_DASK_HELP)] = None,
    seed: Annotated[int | None, typer.Option(parser=_at_least(0), metavar="INT", help=_SEED_HELP)] = None,
    duration: Annotated[float | None, typer.Option(parser=_parse_duration, metavar="DURATION",
                                                   help=_DURATION_HELP)] = None,
    warmup: Annotated[str | None, typer.Option(metavar="auto|DURATION",
                                               help="Warm-up override; auto = MSER-5.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", metavar="PATH=VALUE",
                                                        help=_SET_HELP)] = None,
    rank: Annotated[str | None, typer.Option(metavar="METRIC",
                                             help="Pick the best variant by METRIC.")] = None,
    delta: Annotated[str | None, typer.Option(metavar="X", help="Indifference zone for --rank.")] = None,
    metrics: Annotated[str | None, typer.Option(metavar="A,B", help="Metrics in the table.")] = None,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Root directory for results.")] = Path("results"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
) -> None:
    """Compare variants over replications: means, paired differences, 95% intervals, verdicts."""
    with _user_errors():
        from simulator.experiment.commands import compare_command

        code = compare_command(file, variants=variants, replications=replications, baseline=baseline,
                               seed=seed, duration=duration, overrides=overrides or [], jobs=jobs,
                               dask=dask, out=out, as_json=as_json, html=html, plots=not no_plots,
                               warmup=warmup, rank=rank, delta=delta, metrics=metrics)
    raise typer.Exit(code)


@app.command()
def sweep(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Scenario file or built-in name.")],
    params: Annotated[list[str], typer.Option("--param", metavar="PATH=2:12:2|PATH=a,b",
                                              help="A swept value (repeatable; full grid).")],
    variants: Annotated[str | None, typer.Option(metavar="A,B", help="Variants (default: all).")] = None,
    replications: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N",
                                                     help="Runs per point and variant.")] = None,
    jobs: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N", help=_JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option(metavar="ADDRESS", help=_DASK_HELP)] = None,
    seed: Annotated[int | None, typer.Option(parser=_at_least(0), metavar="INT", help=_SEED_HELP)] = None,
    duration: Annotated[float | None, typer.Option(parser=_parse_duration, metavar="DURATION",
                                                   help=_DURATION_HELP)] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", metavar="PATH=VALUE",
                                                        help=_SET_HELP)] = None,
    metrics: Annotated[str | None, typer.Option(metavar="A,B", help="Metrics in the table.")] = None,
    metric: Annotated[str | None, typer.Option(metavar="NAME", help="Metric of the heatmap.")] = None,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Root directory for results.")] = Path("results"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html.")] = False,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
) -> None:
    """Sweep scenario values over a full-factorial grid, every point replicated."""
    with _user_errors():
        from simulator.experiment.commands import sweep_command

        code = sweep_command(file, params=params, variants=variants, replications=replications, seed=seed,
                             duration=duration, overrides=overrides or [], jobs=jobs, dask=dask, out=out,
                             as_json=as_json, html=html, plots=not no_plots, metrics=metrics, metric=metric)
    raise typer.Exit(code)


@app.command()
def check(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help="Scenario files or built-in names.")],
    replications: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N",
                                                     help="Runs per variant.")] = None,
    jobs: Annotated[int | None, typer.Option(parser=_at_least(1), metavar="N", help=_JOBS_HELP)] = None,
    dask: Annotated[str | None, typer.Option(metavar="ADDRESS", help=_DASK_HELP)] = None,
    seed: Annotated[int | None, typer.Option(parser=_at_least(0), metavar="INT", help=_SEED_HELP)] = None,
    duration: Annotated[float | None, typer.Option(parser=_parse_duration, metavar="DURATION",
                                                   help=_DURATION_HELP)] = None,
    out: Annotated[Path, typer.Option(metavar="DIR", help="Root directory for results.")] = Path("results"),
    report: Annotated[Path | None, typer.Option(metavar="DIR",
                                                help="Write report.json and summary.md here.")] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html (with --report).")] = False,
) -> None:
    """Check the scenarios' expect: claims; exit 0 if all hold, 1 if any fails, 2 on bad input."""
    with _user_errors():
        from simulator.experiment.commands import check_command

        code = check_command(files, replications=replications, seed=seed, duration=duration, jobs=jobs,
                             dask=dask, out=out, report=report, html=html)
    raise typer.Exit(code)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="A compare, sweep or check directory.")],
) -> None:
    """Write DIR/report.html: one self-contained page with the tables and plots."""
    with _user_errors():
        from simulator.experiment.commands import report_command

        code = report_command(directory)
    raise typer.Exit(code)


def main() -> None:
    """Console entry point (``cascade`` and ``python -m simulator``)."""
    app(prog_name="cascade")


# --- helpers ---------------------------------------------------------------------------------------

@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn exceptions into messages and exit codes: 2 for bad input, 1 for bugs, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # typer's own exits and usage errors already carry their message and code
    except KeyboardInterrupt:
        _fail("cascade: interrupted", 130)
    except Exception as error:
        if isinstance(error, _input_errors()):
            _fail(_describe(error), 2)
        if os.environ.get("CASCADE_DEBUG"):
            raise
        _fail(f"cascade: internal error: {type(error).__name__}: {error} "
              "(set CASCADE_DEBUG=1 for the traceback)", 1)


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean the user's input is wrong (not a bug in the simulator)."""
    try:
        from simulator.scenario import ScenarioError
    except ImportError:
        return (InputError, OSError)
    return (InputError, OSError, ScenarioError)


def _describe(error: BaseException) -> str:
    """The user-facing text of an input error; the loader's messages are already one per line."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error) if not isinstance(error, OSError) else f"cascade: {error}"


def _fail(message: str, code: int) -> None:
    """Print ``message`` to stderr and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _pick_variants(names: Sequence[str], variant: str | None, file: str) -> list[str]:
    """The variants to run: the one asked for (checked), else all of them in file order."""
    if variant is None:
        return list(names)
    if variant not in names:
        raise InputError(f"{file}: variant {variant!r} not found; the scenario has: {', '.join(names)}")
    return [variant]


def _simulate(scenario: Any, variants: Sequence[str], seed: int | None, duration: float | None,
              replications: int = 1) -> list[Any]:
    """Run every replication of each variant, with a progress bar in simulated time on stderr.

    Replication r of every variant uses the same random streams (common random numbers).
    """
    from simulator.runner import run as run_scenario

    with sim_progress(Console(stderr=True)) as track:
        return [run_scenario(scenario, name, seed=seed, duration=duration, replication=r,
                             progress=track(name if replications == 1 else f"{name} r{r}"))
                for name in variants for r in range(replications)]


def _mean_summaries(results: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Per variant, each metric's mean over replications (NaN where a run had no value)."""
    import numpy as np

    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        grouped.setdefault(_name(result), []).append(result.summary)
    means = {}
    for variant, summaries in grouped.items():
        if len(summaries) == 1:
            means[variant] = dict(summaries[0])  # one run: its values as they are (None, True...)
            continue
        keys = dict.fromkeys(k for s in summaries for k in s)
        means[variant] = {k: _mean([s.get(k) for s in summaries], np) for k in keys}
    return means


def _mean(values: Sequence[Any], np: Any) -> float:
    numbers = [float("nan") if v is None else float(v) for v in values]
    if len(numbers) == 1:
        return numbers[0]
    finite = [v for v in numbers if not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _save(results: Sequence[Any], out: Path, *, plots: bool) -> Path:
    """Write run outputs (and plots, rendered headless with Agg) under ``out``."""
    if plots:
        import matplotlib

        matplotlib.use("Agg")  # the CLI never opens windows; library modules never pick a backend
    from simulator.results import write_run

    return write_run(results, out, plots=plots)


def _check(file: str) -> tuple[int, str, Sequence[Any]]:
    """Load ``file`` and resolve every variant; return (variant count, problems text or "", warnings)."""
    from simulator.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(file)
    except (ScenarioError, OSError) as error:
        return 0, _describe(error), ()
    problems = []
    for name in scenario.variant_names:
        try:
            scenario.resolve(name)
        except ScenarioError as error:
            problems.append(str(error))
    return len(scenario.variant_names), "\n".join(dict.fromkeys(problems)), scenario.warnings


def _warn(warnings: Sequence[Any]) -> None:
    """Print the scenario's warnings (legal but probably unintended) on stderr, one line each."""
    for warning in warnings:
        typer.echo(str(warning), err=True)


def _builtin_rows() -> list[tuple[str, str]]:
    """(name, one-line description) for each built-in scenario, as the catalogue lists them."""
    from simulator.scenario import builtin_scenarios

    return [(entry.name, entry.description) for entry in builtin_scenarios()]


def _name(result: Any) -> str:
    """Display name of a run's variant."""
    return "base" if result.variant is None else str(result.variant)


def _jsonable(value: Any, name: str = "") -> Any:
    """Strict JSON: NaN and infinities (undefined metrics) become null, numpy scalars plain numbers,
    and counts (``name`` is the metric) integers, as long as they are whole (a mean may not be)."""
    from simulator.metrics import is_count

    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, str(k)) for k, v in value.items()}
    if isinstance(value, str | bool) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return None
    whole = isinstance(value, int) or (is_count(name) and number.is_integer())
    return int(number) if whole else number


def _stdout() -> Console:
    """Console for tables; wide when not a terminal so piped tables are not squeezed to 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=240)
