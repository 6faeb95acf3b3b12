"""Experiment results on disk: tables, plots and a description the report is rendered from.

An experiment directory holds ``runs/`` (one file per finished run, see :mod:`.store`) and, once
the experiment is complete, its tables and plots::

    experiment.json   what was run: kind (compare / sweep / check), scenario, options, command
    summary.csv       variant, replication, metric, value (sweeps add one column per parameter)
    comparison.csv    (compare)  per metric and variant: mean, interval, paired diff, verdict
    sweep.csv         (sweep)    per point, variant and metric: mean and interval
    report.json, summary.md   (check)  for CI systems
    plots/*.png

Every file is written atomically; ``cascade report DIR`` renders the directory as one HTML page.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.files import atomic_write_text, write_frame
from simulator.results import versions

EXPERIMENT_FILE = "experiment.json"


def write_comparison(comparison: Any, directory: Path, *, plots: bool = True) -> list[Path]:
    """summary.csv, comparison.csv, experiment.json and (optionally) the two comparison plots."""
    directory = Path(directory)
    written = [write_frame(comparison.summary, directory / "summary.csv"),
               write_frame(comparison.table, directory / "comparison.csv")]
    written.append(write_meta(directory, "compare", scenario=comparison.scenario,
                              baseline=comparison.baseline, variants=comparison.variants,
                              replications=comparison.replications, confidence=comparison.confidence,
                              warmup=comparison.warmup, warmup_auto=comparison.warmup_auto))
    if plots:
        from simulator import plots_compare as pc

        written.append(save(pc.plot_intervals(comparison.table), directory / "plots" / "intervals.png"))
        written.append(save(pc.plot_variant_series(comparison.series, comparison.windows),
                            directory / "plots" / "timeseries.png"))
    return written


def write_meta(directory: Path, kind: str, **fields: Any) -> Path:
    """experiment.json: the kind of experiment, its options, the command line, versions."""
    meta = {"kind": kind, **fields, "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": shlex.join(["cascade", *sys.argv[1:]]) if sys.argv else "",
            "versions": versions()}
    return atomic_write_text(Path(directory) / EXPERIMENT_FILE, dumps(meta) + "\n")


def read_meta(directory: Path) -> dict[str, Any]:
    """experiment.json of an experiment directory."""
    return json.loads((Path(directory) / EXPERIMENT_FILE).read_text(encoding="utf-8"))


def save(fig: Any, path: Path) -> Path:
    """Write a figure as PNG atomically (rendered with Agg, whatever backend pyplot has)."""
    from simulator.plots import save_figure

    return save_figure(fig, path)


def dumps(value: Any) -> str:
    """Strict JSON (NaN and infinities as null, numpy scalars as numbers), indented."""
    return json.dumps(strict(value), indent=2, allow_nan=False)


def strict(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, recursively."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
