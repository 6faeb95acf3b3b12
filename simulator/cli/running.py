"""``cascade run``: simulate a scenario's variants here, save the outputs, print the summary.

The summary is printed side by side per variant (the mean over replications when there are
several) or, with ``--json``, as strict JSON: undefined metrics are null, counts are integers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from simulator.cli.base import (
    RESULTS_ROOT,
    MaxEvents,
    MaxKeys,
    MaxMemory,
    MaxReplicas,
    MaxRequests,
    NoPlots,
    Overrides,
    Seed,
    SimDuration,
    budget_limits,
    parse_duration_option,
    replications_option,
)
from simulator.cli.common import InputError, stdout, user_errors, warn
from simulator.console import sim_progress, summary_table

TimeLimit = Annotated[float | None, typer.Option(
    "--time-limit", parser=parse_duration_option, metavar="SECONDS",
    help="Stop each run after this much wall-clock time (e.g. 90s, 10m); its results are saved, "
         "marked partial.")]
Export = Annotated[Path | None, typer.Option(
    "--export", metavar="DIR", help="Also write each run's per-interval metrics as OpenMetrics "
    "(metrics.om) and, with --trace-sample, sampled requests as OTLP/JSON spans (traces.json) "
    "under DIR (one sub-folder per run when there are several).")]
TraceSample = Annotated[str | None, typer.Option(
    "--trace-sample", metavar="SHARE", help="Share of requests exported as spans with --export, "
    "chosen from the seed and request id (e.g. 1% or 0.01).")]


def register(app: typer.Typer) -> None:
    """Add ``run`` to ``app``."""
    app.command()(run)


def run(
    file: Annotated[str, typer.Argument(metavar="FILE",
                                        help="Scenario file, or the name of a built-in scenario.")],
    variant: Annotated[str | None, typer.Option(metavar="NAME",
                                                help="Run only this variant (default: every one).")] = None,
    seed: Seed = None,
    duration: SimDuration = None,
    overrides: Overrides = None,
    replications: Annotated[int | None, replications_option(
        "Independent runs per variant (default: the scenario's replications).")] = None,
    out: Annotated[Path, typer.Option(metavar="DIR",
                                      help="Root directory for run outputs.")] = RESULTS_ROOT,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the summary as JSON.")] = False,
    no_plots: NoPlots = False,
    time_limit: TimeLimit = None,
    max_requests: MaxRequests = None, max_events: MaxEvents = None, max_replicas: MaxReplicas = None,
    max_keys: MaxKeys = None, max_memory: MaxMemory = None,
    export: Export = None, trace_sample: TraceSample = None,
) -> None:
    """Run a scenario (every variant, or one) and print the summary side by side."""
    with user_errors():
        from simulator.budget import check_variants
        from simulator.scenario import load_scenario

        scenario = load_scenario(file, overrides=list(overrides or []))
        warn(scenario.warnings)
        variants = _pick_variants(scenario.variant_names, variant, file)
        limits = budget_limits(max_requests, max_events, max_replicas, max_keys, max_memory)
        check_variants(scenario, variants, limits, duration=duration)
        count = replications or scenario.spec.replications
        sample = _trace_sample(export, trace_sample)
        results = _simulate(scenario, variants, seed, duration, count, time_limit, sample)
        if export is not None:
            results = _exported(results, export, sample, len(variants), count)
        path, runs = _save(results, out, plots=not no_plots, park=len(variants) * count > 1)
    summaries = _mean_summaries(runs)
    _mark_partial(runs, summaries, time_limit)
    if as_json:
        payload = next(iter(summaries.values())) if len(summaries) == 1 else summaries
        typer.echo(json.dumps(jsonable(payload), indent=2))
        typer.echo(f"results: {path}", err=True)
        return
    title = str(runs[0].scenario)
    if count > 1:
        title += f" (mean of {count} replications; one row per replication in summary.csv)"
    stdout().print(summary_table(summaries, title=title))
    typer.echo(f"results: {path}")


def _pick_variants(names: Sequence[str], variant: str | None, file: str) -> list[str]:
    """The variants to run: the one asked for (checked), else all of them in file order."""
    if variant is None:
        return list(names)
    if variant not in names:
        raise InputError(f"{file}: variant {variant!r} not found; the scenario has: {', '.join(names)}")
    return [variant]


def _simulate(scenario: Any, variants: Sequence[str], seed: int | None, duration: float | None,
              replications: int = 1, time_limit: float | None = None,
              trace_sample: float | None = None) -> Iterator[Any]:
    """Run every replication of each variant, with a progress bar in simulated time on stderr,
    yielding each run as it ends: nothing here holds the runs, so ``--replications 100000`` does
    not keep 100000 runs' tables in memory (see :func:`_save`).

    Replication r of every variant uses the same random streams (common random numbers).
    """
    from simulator.runner import run as run_scenario

    limit = {} if time_limit is None else {"time_limit": time_limit}  # asked for only when given
    if trace_sample is not None:
        limit["trace_sample"] = trace_sample
    with sim_progress(Console(stderr=True)) as track:
        for name in variants:
            for r in range(replications):
                yield run_scenario(scenario, name, seed=seed, duration=duration, replication=r,
                                   progress=track(name if replications == 1 else f"{name} r{r}"), **limit)


def _trace_sample(export: Path | None, text: str | None) -> float | None:
    """The --trace-sample share, checked before anything runs."""
    if text is None:
        return None
    if export is None:
        raise InputError("--trace-sample: needs --export DIR (where the spans are written)")
    from simulator.export import parse_fraction

    try:
        return parse_fraction(text)
    except ValueError as error:
        raise InputError(f"--trace-sample: {error}") from None


def _exported(results: Iterable[Any], export: Path, sample: float | None, variants: int,
              replications: int) -> Iterator[Any]:
    """Each run, passed on after its export is written: in DIR for a single run, else in
    ``DIR/<variant>`` (``DIR/<variant>-r<n>`` with several replications), as results are laid out."""
    from simulator.export import export_run

    for result in results:
        folder = Path(export)
        if variants * replications > 1:
            folder /= _name(result) + (f"-r{result.replication}" if replications > 1 else "")
        export_run(result, folder, sample)
        yield result


def _mark_partial(results: Sequence[Any], summaries: dict[str, dict[str, Any]],
                  time_limit: float | None) -> None:
    """A run the time limit stopped says so: ``partial: true`` in its summary (JSON and table) and
    one line on stderr naming it and the simulated time it reached."""
    for result in results:
        if getattr(result, "partial", False):
            summaries[_name(result)]["partial"] = True
            warn([f"partial: {_name(result)} (replication {result.replication}) stopped by "
                  f"--time-limit {time_limit:g}s at {result.spec.duration:g}s simulated; measured up "
                  f"to there, requests still in flight count as incomplete"])


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


def _save(results: Iterable[Any], out: Path, *, plots: bool, park: bool = True) -> tuple[Path, list[Any]]:
    """Write run outputs (and plots, rendered headless with Agg) under ``out``; return the path
    and the runs as written, their tables left on disk.

    Each run's tables go to a scratch folder as soon as it ends and are read back one run at a
    time while :func:`~simulator.results.write_run` writes the run directory, so memory holds one
    run's tables and every run's summary, not every run. A single run (``park`` false) is written
    as it is: there is nothing to hold it against.
    """
    if plots:
        import matplotlib

        matplotlib.use("Agg")  # the CLI never opens windows; library modules never pick a backend
    import tempfile

    from simulator.results import write_run

    if not park:
        runs = list(results)
        return write_run(runs, out, plots=plots), runs
    from simulator import files

    Path(out).mkdir(parents=True, exist_ok=True)
    files.remove_stale(Path(out))  # a scratch folder a killed run left (only dead writers' .tmp-<pid>-)
    with tempfile.TemporaryDirectory(prefix=files.temp_prefix("runs-"), dir=out) as scratch:
        runs = [_Parked.park(result, Path(scratch) / str(index)) for index, result in enumerate(results)]
        return write_run(runs, out, plots=plots), runs


class _Parked:
    """A finished run whose tables (its DataFrames) wait in a scratch folder: each is read back
    when asked for and not kept, every other attribute (summary, spec, seed...) is kept as it was."""

    def __init__(self, attributes: dict[str, Any], folder: Path, tables: Sequence[str]):
        self.__dict__.update(attributes)
        self._folder, self._tables = folder, tuple(tables)

    @classmethod
    def park(cls, result: Any, folder: Path) -> _Parked:
        """Write ``result``'s tables under ``folder`` (pickled: read back exactly, index and dtypes)."""
        import pandas as pd

        folder.mkdir()
        fields = dict(vars(result))
        tables = [name for name, value in fields.items() if isinstance(value, pd.DataFrame)]
        for name in tables:
            fields.pop(name).to_pickle(folder / f"{name}.pkl")
        return cls(fields, folder, tables)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._tables:
            raise AttributeError(name)
        import pandas as pd

        return pd.read_pickle(self._folder / f"{name}.pkl")


def _name(result: Any) -> str:
    """Display name of a run's variant."""
    from simulator.scenario.variants import DEFAULT_VARIANT

    return DEFAULT_VARIANT if result.variant is None else str(result.variant)


def jsonable(value: Any, name: str = "") -> Any:
    """Strict JSON: NaN and infinities (undefined metrics) become null, numpy scalars plain numbers,
    and counts (``name`` is the metric) integers, as long as they are whole (a mean may not be)."""
    from simulator.metrics import is_count

    if isinstance(value, Mapping):
        return {str(k): jsonable(v, str(k)) for k, v in value.items()}
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
