"""Pure plots of experiments: comparison and sweep tables in, matplotlib Figures out.

Like :mod:`simulator.plots`, these build ``Figure`` objects directly (no pyplot, no global state)
and give an empty panel with a note, never an exception, when there is nothing to draw.

- :func:`plot_intervals`: each variant's mean with its confidence interval, one panel per metric;
- :func:`plot_variant_series`: goodput, p99 and availability of every variant over time,
  overlaid, fault windows shaded;
- :func:`plot_sweep_lines`: a metric against one swept parameter, a line and band per variant;
- :func:`plot_heatmap`: a metric over two swept parameters (e.g. load x trigger duration -> P(stuck)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.metrics import display_scale as metric_scale
from simulator.plots import Window

KEY_METRICS = ("availability", "goodput", "latency_p99", "amplification", "stuck")
SERIES_PANELS = (("goodput", "goodput (ok / s)", 1.0), ("latency_p99", "p99 latency, ok only (ms)", 1e3),
                 ("availability", "availability (%)", 100.0))
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _panels(table: pd.DataFrame | None, metrics: Sequence[str], width: float):
    """A figure with one panel per metric present in ``table`` (a note when none is), and per
    panel: (axes, metric, its rows, display scale, unit)."""
    present = [m for m in metrics if table is not None and not table.empty and (table["metric"] == m).any()]
    fig = Figure(figsize=(width * max(1, len(present)), 3.6), layout="constrained")
    if not present:
        _note(fig.subplots(), fig)
        return fig, []
    panels = []
    for ax, metric in zip(np.atleast_1d(fig.subplots(1, len(present))), present, strict=True):
        rows = table[table["metric"] == metric]
        panels.append((ax, metric, rows, *metric_scale(metric, rows["kind"].iloc[0])))
    return fig, panels


def plot_intervals(table: pd.DataFrame, metrics: Sequence[str] = KEY_METRICS) -> Figure:
    """Bars of each variant's mean with its interval, one panel per metric present in ``table``."""
    fig, panels = _panels(table, metrics, 3.2)
    for ax, metric, rows, scale, unit in panels:
        means = rows["mean"].to_numpy(dtype=float) * scale
        errors = _error_bars(rows, scale)
        x = np.arange(len(rows))
        ax.bar(x, means, color=[COLORS[i % len(COLORS)] for i in range(len(rows))], alpha=0.8,
               yerr=errors, capsize=5, ecolor="black")
        ax.set_xticks(x, [str(v) for v in rows["variant"]], rotation=30, ha="right")
        ax.set_title(metric if not unit else f"{metric} ({unit})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    return fig


def plot_variant_series(series: pd.DataFrame, windows: Sequence[Window] = ()) -> Figure:
    """Goodput, p99 latency and availability over time, every variant overlaid (means over replications)."""
    fig = Figure(figsize=(9.0, 8.0), layout="constrained")
    axes = fig.subplots(len(SERIES_PANELS), 1, sharex=True)
    if series is None or series.empty:
        for ax in axes:
            _note(ax, fig)
        return fig
    scale, label = (60.0, "time (min)") if series["t"].max() >= 600 else (1.0, "time (s)")
    for index, (variant, part) in enumerate(series.groupby("variant", sort=False)):
        part = part.sort_values("t")
        for ax, (column, _, factor) in zip(axes, SERIES_PANELS, strict=True):
            ax.plot(part["t"] / scale, part[column] * factor, color=COLORS[index % len(COLORS)],
                    label=str(variant), linewidth=1.2)
    for ax, (_, title, _) in zip(axes, SERIES_PANELS, strict=True):
        _shade(ax, windows, scale)
        ax.set_ylabel(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    axes[-1].set_xlabel(label)
    return fig


def plot_sweep_lines(table: pd.DataFrame, param: str, metrics: Sequence[str] = KEY_METRICS) -> Figure:
    """Each metric against ``param``: one line per variant, its confidence band shaded."""
    fig, panels = _panels(table, metrics, 3.6)
    for ax, metric, rows, scale, unit in panels:
        for index, (variant, part) in enumerate(rows.groupby("variant", sort=False)):
            part = part.sort_values(param)
            x, color = _axis_values(part[param]), COLORS[index % len(COLORS)]
            ax.plot(x, part["mean"] * scale, marker="o", color=color, label=str(variant))
            ax.fill_between(x, part["low"] * scale, part["high"] * scale, color=color, alpha=0.15)
        ax.set_xlabel(param.rsplit(".", 1)[-1])
        ax.set_title(metric if not unit else f"{metric} ({unit})", fontsize=10)
        ax.grid(alpha=0.3)
    if panels:
        panels[0][0].legend(fontsize=8)
    return fig


def plot_heatmap(table: pd.DataFrame, x_param: str, y_param: str, metric: str) -> Figure:
    """``metric`` over a grid of two parameters, one panel per variant, each cell labelled."""
    rows = table[table["metric"] == metric] if not table.empty else table
    variants = list(dict.fromkeys(rows["variant"])) if not rows.empty else []
    fig = Figure(figsize=(4.6 * max(1, len(variants)), 4.0), layout="constrained")
    if not variants:
        return _note(fig.subplots(), fig, f"no values of {metric}")
    axes = np.atleast_1d(fig.subplots(1, len(variants)))
    scale, unit = metric_scale(metric, rows["kind"].iloc[0])
    for ax, variant in zip(axes, variants, strict=True):
        grid = rows[rows["variant"] == variant].pivot_table(index=y_param, columns=x_param, values="mean",
                                                             aggfunc="mean", dropna=False) * scale
        image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [str(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [str(v) for v in grid.index])
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            light = not np.isnan(value) and image.norm(value) > 0.6  # viridis is light at the top
            ax.text(j, i, "" if np.isnan(value) else f"{value:.3g}", ha="center", va="center",
                    color="black" if light else "white", fontsize=8)
        ax.set_xlabel(x_param.rsplit(".", 1)[-1])
        ax.set_ylabel(y_param.rsplit(".", 1)[-1])
        ax.set_title(f"{variant}: {metric}" + (f" ({unit})" if unit else ""), fontsize=10)
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def _error_bars(rows: pd.DataFrame, scale: float) -> np.ndarray:
    """Asymmetric error bars (2 x n) from the interval; no bar where there is no interval."""
    means = rows["mean"].to_numpy(dtype=float)
    below = np.nan_to_num(means - rows["low"].to_numpy(dtype=float), nan=0.0)
    above = np.nan_to_num(rows["high"].to_numpy(dtype=float) - means, nan=0.0)
    return np.clip(np.vstack([below, above]), 0, None) * scale


def _axis_values(values: pd.Series) -> np.ndarray:
    """Numbers plot as numbers; anything else (``lru``, ``60s``) as evenly spaced categories."""
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.to_numpy(dtype=float) if not numeric.isna().any() else np.arange(len(values))


def _shade(ax: Axes, windows: Sequence[Window], scale: float) -> None:
    """Shade fault windows (an open-ended one up to the right edge)."""
    for index, (start, end, _) in enumerate(windows):
        right = ax.get_xlim()[1] * scale if np.isinf(end) else end
        ax.axvspan(start / scale, right / scale, color="#d62728", alpha=0.08,
                   label="fault" if index == 0 else None)


def _note(ax: Axes, fig: Figure, text: str = "no data") -> Figure:
    """An empty panel that says so."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="grey")
    return fig
