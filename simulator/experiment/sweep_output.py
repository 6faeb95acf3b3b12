"""A sweep on disk: summary.csv, sweep.csv, experiment.json and the plot that fits the grid.

One swept parameter gets line plots (each key metric against the parameter, a band per variant);
two get heatmaps of one metric (default: P(stuck) when the runs report it, else availability) -
the picture of a metastable system's vulnerable region, e.g. load x trigger duration.
More parameters get no plot: the tidy sweep.csv is the place to slice them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.experiment.errors import ExperimentError
from simulator.experiment.output import save, write_meta
from simulator.files import write_frame


def write_sweep(result: Any, directory: Path, *, plots: bool = True, metric: str | None = None) -> list[Path]:
    """Write the sweep's tables, description and (optionally) its plot under ``directory``."""
    directory = Path(directory)
    written = [write_frame(result.summary, directory / "summary.csv"),
               write_frame(result.table, directory / "sweep.csv"),
               write_meta(directory, "sweep", scenario=result.scenario, params=result.params,
                          variants=result.variants, replications=result.replications,
                          confidence=result.confidence)]
    if plots and 1 <= len(result.params) <= 2:
        written.append(save(sweep_figure(result, metric), directory / "plots" / "sweep.png"))
    return written


def sweep_figure(result: Any, metric: str | None = None) -> Any:
    """Lines with intervals for one parameter, a heatmap of ``metric`` for two."""
    from simulator import plots_compare as pc

    available = list(dict.fromkeys(result.table["metric"]))
    if metric is not None and metric not in available:
        raise ExperimentError(f"--metric: unknown metric '{metric}'; known: {', '.join(available)}")
    if len(result.params) == 1:
        metrics = [metric] if metric else list(pc.KEY_METRICS)
        return pc.plot_sweep_lines(result.table, result.params[0], metrics)
    chosen = metric or ("stuck" if _judged(result.table, "stuck") else "availability")
    return pc.plot_heatmap(result.table, result.params[0], result.params[1], chosen)


def _judged(table: Any, metric: str) -> bool:
    """True when some run reports ``metric`` (``stuck`` is null in every run without a trigger)."""
    rows = table[table["metric"] == metric]
    return bool(len(rows)) and bool((rows["n"] > 0).any())
