"""Pure plotting: run DataFrames in, matplotlib Figures out.

Figures are built from ``matplotlib.figure.Figure`` directly, never through pyplot, so these
functions touch no global state, need no backend choice (PNG export uses Agg on its own) and are
safe to call from notebooks, tests and worker processes alike. Empty or all-NaN inputs give an
empty panel with a note instead of an exception: a run that produced nothing still gets a page.

Inputs follow docs/contracts.md: ``traffic`` (t, workload, offered, throughput, goodput, outcome
rates, latency quantiles in seconds) and ``series`` (t, component, metric, value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator.files import atomic_path
from simulator.metrics import display_scale, qualifier
from simulator.request import ENDED_OUTCOMES

OUTCOMES = tuple(info.label for info in ENDED_OUTCOMES)
OUTCOME_COLORS = {info.label: info.color for info in ENDED_OUTCOMES}
QUANTILES = (("latency_p50", "p50", "#1f77b4"), ("latency_p95", "p95", "#ff7f0e"),
             ("latency_p99", "p99", "#d62728"))
LINESTYLES = ("-", "--", ":", "-.")
DEFAULT_COMPARISON_METRICS = ("availability", "goodput", "latency_p99", "amplification")
LOG_SPREAD = 50.0  # max/min ratio above which a latency axis switches to log scale
FAULT_START, FAULT_END = "fault_start", "fault_end"
ALERT_COLOR, ALERT_STRIP = "#6a3d9a", 0.05  # firing alerts: a strip per alert along the bottom

Window = tuple[float, float, str]  # (start s, end s, label): a shaded interval such as a fault


def plot_load(traffic: pd.DataFrame | None, *, windows: Sequence[Window] = (),
              alerts: Sequence[Window] = ()) -> Figure:
    """Offered load against throughput and goodput (requests/s, summed over workloads)."""
    fig, ax = _single("Offered load, throughput and goodput", "requests / s")
    totals = _totals(traffic, ["offered", "throughput", "goodput"])
    if totals is None:
        return _note(ax, fig)
    scale, label = _time_unit(totals.index.max())
    x = totals.index.to_numpy() / scale
    ax.plot(x, totals["offered"], color="black", linestyle="--", label="offered")
    # Drawn wide and underneath: when nothing fails, goodput equals throughput and would hide it.
    ax.plot(x, totals["throughput"], color="#1f77b4", linewidth=3.0, alpha=0.5,
            label="throughput (served: ok + error)")
    ax.plot(x, totals["goodput"], color=OUTCOME_COLORS["ok"], label="goodput (ok)")
    _finish(ax, label, scale, windows, alerts)
    ax.set_ylim(bottom=0)
    return fig


def plot_latency(traffic: pd.DataFrame | None, *, windows: Sequence[Window] = (),
                 alerts: Sequence[Window] = ()) -> Figure:
    """Latency quantiles of successes over time (ms); log axis when they span orders of magnitude."""
    fig, ax = _single("Latency of successful requests", "latency, ok only (ms)")
    columns = [column for column, _, _ in QUANTILES]
    if not _usable(traffic, ["t", *columns]) or traffic[columns].isna().all().all():
        return _note(ax, fig)
    scale, label = _time_unit(traffic["t"].max())
    groups = _by_workload(traffic)
    for index, (workload, part) in enumerate(groups):
        part = part.sort_values("t")
        for column, name, color in QUANTILES:
            tag = name if len(groups) == 1 else f"{workload} {name}"
            ax.plot(part["t"].to_numpy() / scale, part[column].to_numpy() * 1e3, color=color,
                    linestyle=LINESTYLES[index % len(LINESTYLES)], label=tag)
    if _spread(traffic[columns].to_numpy(dtype=float)) > LOG_SPREAD:
        ax.set_yscale("log")
    _finish(ax, label, scale, windows, alerts)
    return fig


def plot_outcomes(traffic: pd.DataFrame | None, *, windows: Sequence[Window] = (),
                  alerts: Sequence[Window] = ()) -> Figure:
    """How requests ended, per second, stacked; colours are fixed per outcome across all plots."""
    fig, ax = _single("Outcomes", "requests / s")
    present = [name for name in OUTCOMES if traffic is not None and name in traffic.columns]
    totals = _totals(traffic, present) if present else None
    if totals is None:
        return _note(ax, fig)
    scale, label = _time_unit(totals.index.max())
    ax.stackplot(totals.index.to_numpy() / scale, *(totals[name].fillna(0).to_numpy() for name in present),
                 labels=present, colors=[OUTCOME_COLORS[name] for name in present], alpha=0.85)
    _finish(ax, label, scale, windows, alerts)
    ax.set_ylim(bottom=0)
    return fig


def plot_components(series: pd.DataFrame | None, *, windows: Sequence[Window] = (),
                    alerts: Sequence[Window] = ()) -> Figure:
    """Utilisation (%) and queue length per component, one line each, on stacked panels; a third
    panel shows replicas over time (what the fleet costs) when any component's count changed.

    A component's queue is summed over its replicas (unlike ``queue_max``, the longest single
    queue), so both panels say what they add up.
    """
    usable = _usable(series, ["t", "component", "metric", "value"])
    replicas = _wide(series, "replicas") if usable else pd.DataFrame()
    scaled = [c for c in replicas.columns if replicas[c].dropna().nunique() > 1]
    panels = [("utilization", "Utilisation per component", "utilisation (%)", 100.0, None),
              ("queue", "Waiting requests per component, all replicas summed", "queue (all replicas)",
               1.0, None)]
    if scaled:
        panels.append(("replicas", "Replicas per component (starting ones included)", "replicas", 1.0,
                       scaled))
    fig = Figure(figsize=(9.0, 3.0 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True)
    scale, label = _time_unit(series["t"].max() if usable else 0.0)
    for ax, (metric, title, ylabel, factor, only) in zip(axes, panels, strict=True):
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        wide = _wide(series, metric) if usable else pd.DataFrame()
        if only is not None:
            wide = wide[only]
        if wide.empty or wide.isna().all().all():
            _note(ax, fig, f"no {metric} samples")
            continue
        for component in wide.columns:
            draw = ax.step if metric == "replicas" else ax.plot
            kwargs = {"where": "post"} if metric == "replicas" else {}
            draw(wide.index.to_numpy() / scale, wide[component].to_numpy() * factor, label=component,
                 **kwargs)
        _finish(ax, label, scale, windows, alerts)
        ax.set_ylim(bottom=0)
    return fig


def plot_variant_comparison(summaries: Mapping[str, Mapping[str, float]],
                            metrics: Sequence[str] = DEFAULT_COMPARISON_METRICS) -> Figure:
    """One bar chart per metric, one bar per variant, for side-by-side reading of a comparison."""
    metrics = list(metrics) or list(DEFAULT_COMPARISON_METRICS)
    cols = 2 if len(metrics) == 4 else min(len(metrics), 3)
    rows = -(-len(metrics) // cols)
    fig = Figure(figsize=(4.0 * cols, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    variants = list(summaries)
    for ax, metric in zip(axes, metrics, strict=False):
        factor, unit = display_scale(metric)
        notes = ", ".join(note for note in (unit, qualifier(metric)) if note)
        ax.set_title(metric + (f" ({notes})" if notes else ""))
        values = np.array([_number(summaries[v].get(metric)) * factor for v in variants], dtype=float)
        if not variants or np.isnan(values).all():
            _note(ax, fig)
            continue
        bars = ax.bar(variants, np.nan_to_num(values), color="#1f77b4")
        ax.bar_label(bars, labels=["n/a" if np.isnan(v) else f"{v:.3g}" for v in values], fontsize=8)
        ax.tick_params(axis="x", labelrotation=30 if len(variants) > 3 else 0)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    return fig


def fault_windows(events: pd.DataFrame | None) -> list[Window]:
    """Pair ``fault_start``/``fault_end`` events (same component and detail) into shaded windows.

    A fault still active at the end of the run has no end event; it is left open-ended (inf)
    and clipped to the axis when drawn.
    """
    if not _usable(events, ["t", "kind", "component", "detail"]):
        return []
    open_at: dict[tuple[str, str], float] = {}
    windows: list[Window] = []
    for row in events.sort_values("t").itertuples(index=False):
        key = (str(row.component), str(row.detail))
        if row.kind == FAULT_START:
            open_at[key] = float(row.t)
        elif row.kind == FAULT_END and key in open_at:
            windows.append((open_at.pop(key), float(row.t), key[1] or key[0]))
    windows.extend((start, float("inf"), key[1] or key[0]) for key, start in open_at.items())
    return windows


def alert_windows(events: pd.DataFrame | None) -> list[Window]:
    """Firing spans of alerts, from their ``alert`` events (``firing ...`` to ``resolved ...``),
    labelled with the alert's name; one still firing at the end of the run is open-ended (inf)."""
    if not _usable(events, ["t", "kind", "component", "detail"]):
        return []
    firing: dict[str, float] = {}
    windows: list[Window] = []
    for row in events[events["kind"] == "alert"].sort_values("t", kind="stable").itertuples(index=False):
        name, change = str(row.component), str(row.detail).split(" ", 1)[0]
        if change == "firing":
            firing.setdefault(name, float(row.t))
        elif change == "resolved" and name in firing:
            windows.append((firing.pop(name), float(row.t), name))
    windows.extend((start, float("inf"), name) for name, start in firing.items())
    return windows


def save_figure(fig: Figure, path: Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG atomically (temp file + rename): readers never see half an image."""
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


def save_run_plots(result: Any, directory: Path) -> list[Path]:
    """Write load.png, latency.png, outcomes.png and components.png for one RunResult."""
    directory = Path(directory)
    windows = fault_windows(getattr(result, "events", None))
    alerts = alert_windows(getattr(result, "events", None))
    builders = (("load.png", plot_load, result.traffic), ("latency.png", plot_latency, result.traffic),
                ("outcomes.png", plot_outcomes, result.traffic),
                ("components.png", plot_components, result.series))
    written = []
    for name, build, frame in builders:  # one figure alive at a time keeps memory flat
        fig = build(frame, windows=windows, alerts=alerts)
        fig.suptitle(f"{result.scenario} / {result.variant}", fontsize=9)
        written.append(save_figure(fig, directory / name))
    return written


# --- helpers ---------------------------------------------------------------------------------------

def _single(title: str, ylabel: str) -> tuple[Figure, Axes]:
    """A one-panel figure with title and y label already set."""
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return fig, ax


def _note(ax: Axes, fig: Figure, text: str = "no data") -> Figure:
    """Mark a panel as empty rather than failing: an empty run is a result, not an error."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="grey")
    return fig


def _usable(frame: pd.DataFrame | None, columns: Sequence[str]) -> bool:
    """True when ``frame`` has rows and every needed column."""
    return frame is not None and not frame.empty and set(columns) <= set(frame.columns)


def _totals(traffic: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame | None:
    """Sum rates over workloads per sample time; None when nothing finite remains."""
    if not _usable(traffic, ["t", *columns]):
        return None
    totals = traffic.groupby("t", sort=True)[list(columns)].sum(min_count=1)
    return None if totals.isna().all().all() else totals


def _by_workload(traffic: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Split traffic per workload (the whole frame when there is no workload column)."""
    if "workload" not in traffic.columns:
        return [("", traffic)]
    return [(str(name), part) for name, part in traffic.groupby("workload", observed=True, sort=False)]


def _wide(series: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One column per component for one gauge, indexed by sample time."""
    part = series[series["metric"].astype(str) == metric]
    if part.empty:
        return pd.DataFrame()
    part = part.assign(component=part["component"].astype(str))
    return part.pivot_table(index="t", columns="component", values="value", aggfunc="mean", sort=False)


def _spread(values: np.ndarray) -> float:
    """Ratio of largest to smallest positive finite value (1 when undefined)."""
    positive = values[np.isfinite(values) & (values > 0)]
    return float(positive.max() / positive.min()) if positive.size else 1.0


def _time_unit(t_max: float) -> tuple[float, str]:
    """Pick seconds, minutes or hours so tick labels stay short."""
    t_max = float(t_max) if np.isfinite(t_max) else 0.0
    if t_max >= 7200:
        return 3600.0, "time (h)"
    if t_max >= 600:
        return 60.0, "time (min)"
    return 1.0, "time (s)"


def _finish(ax: Axes, xlabel: str, scale: float, windows: Sequence[Window],
            alerts: Sequence[Window] = ()) -> None:
    """Shade fault windows and firing alerts, label the time axis and add a legend."""
    _shade_alerts(ax, scale, alerts)
    for index, (start, end, label) in enumerate(windows):
        right = min(end, ax.get_xlim()[1] * scale) if np.isinf(end) else end
        legend = "fault" if index == 0 else None
        if right > start:
            ax.axvspan(start / scale, right / scale, color="#d62728", alpha=0.08, label=legend)
        else:  # an instant (a burst, a cache flush): a line, not a band
            ax.axvline(start / scale, color="#d62728", alpha=0.5, linestyle=":", label=legend)
        ax.text(start / scale, 0.99 - 0.06 * (index % 3), f" {label}", transform=ax.get_xaxis_transform(),
                fontsize=7, color="#a01c1c", va="top", ha="left", clip_on=True)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=8, ncol=max(1, len(handles) // 8), loc="best")


def _shade_alerts(ax: Axes, scale: float, alerts: Sequence[Window]) -> None:
    """Each alert's firing spans as a strip along the bottom (one row per alert, so overlapping
    rules stay apart and the data above stays readable), named at its first span."""
    rows = {name: index for index, name in enumerate(dict.fromkeys(name for _, _, name in alerts))}
    named: set[str] = set()
    for index, (start, end, name) in enumerate(alerts):
        right = min(end, ax.get_xlim()[1] * scale) if np.isinf(end) else end
        low = rows[name] * ALERT_STRIP
        ax.axvspan(start / scale, max(right, start) / scale, ymin=low, ymax=low + ALERT_STRIP * 0.9,
                   color=ALERT_COLOR, alpha=0.55, label="alert firing" if index == 0 else None)
        if name not in named:
            named.add(name)
            ax.text(start / scale, low + ALERT_STRIP * 0.45, f" {name}", transform=ax.get_xaxis_transform(),
                    fontsize=6, color=ALERT_COLOR, va="center", ha="left", clip_on=True)


def _number(value: Any) -> float:
    """A float for plotting; None and non-numbers become NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
