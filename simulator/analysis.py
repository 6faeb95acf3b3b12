"""Turning a finished run's raw records into its summary metrics and per-interval traffic table.

Metric names in :func:`summarize` are stable API (CLI tables, JSON output, ``expect:`` blocks):
add new ones, never rename. Everything is computed once, vectorised, after the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.request import ERROR, INCOMPLETE, OK, OUTCOME_NAMES, REJECTED, TIMEOUT, UNAVAILABLE

LATENCY_QUANTILES = {"latency_p50": 0.50, "latency_p95": 0.95, "latency_p99": 0.99, "latency_p999": 0.999}


def summarize(arrays: dict[str, np.ndarray], warmup: float, end: float,
              component_windows: dict[str, dict[str, float]]) -> dict[str, float]:
    """The run's summary: requests arriving in [warmup, end) and components over the same window.

    Requests still in flight at the end count as offered but not ok (``incomplete``), so an
    overloaded system cannot look healthy by never answering.
    """
    t_arr, t_end, outcome = arrays["t_arrival"], arrays["t_end"], arrays["outcome"]
    span = end - warmup
    in_window = (t_arr >= warmup) & (t_arr < end)
    out = outcome[in_window]
    offered = int(in_window.sum())
    counts = np.bincount(out.astype(np.int64), minlength=len(OUTCOME_NAMES))
    completed = offered - int(counts[INCOMPLETE])
    ok_mask = in_window & (outcome == OK)
    latency = (t_end - t_arr)[ok_mask]
    ended_in_window = (t_end >= warmup) & (t_end <= end)
    summary = {
        "offered": float(offered),
        "completed": float(completed),
        "ok": float(counts[OK]),
        "errors": float(counts[ERROR]),
        "timeouts": float(counts[TIMEOUT]),
        "rejected": float(counts[REJECTED]),
        "unavailable": float(counts[UNAVAILABLE]),
        "incomplete": float(counts[INCOMPLETE]),
        "availability": float(counts[OK]) / offered if offered else float("nan"),
        "offered_rate": offered / span,
        "throughput": float(ended_in_window.sum()) / span,
        "goodput": float((ended_in_window & (outcome == OK)).sum()) / span,
        "latency_mean": float(latency.mean()) if latency.size else float("nan"),
    }
    for name, q in LATENCY_QUANTILES.items():
        summary[name] = float(np.quantile(latency, q)) if latency.size else float("nan")
    attempts = arrays["attempts"][in_window & (outcome != INCOMPLETE)]
    summary["amplification"] = float(attempts.mean()) if attempts.size else float("nan")
    for component, window in component_windows.items():
        for metric, value in window.items():
            summary[f"{metric}.{component}"] = float(value)
    return summary


def traffic_frame(arrays: dict[str, np.ndarray], workload_names: list[str], interval: float,
                  end: float) -> pd.DataFrame:
    """Per workload and interval: offered/throughput/goodput and outcomes per second, latencies.

    Arrivals are binned by arrival time, completions and latencies by completion time, so the
    table shows what an observer of the system would have seen during each interval.
    """
    edges = np.arange(0.0, end + interval * 0.5, interval)
    if edges[-1] < end:
        edges = np.append(edges, end)
    n_bins = len(edges) - 1
    widths = np.diff(edges)
    frames = []
    for wi, name in enumerate(workload_names):
        mine = arrays["workload"] == wi
        frames.append(_workload_traffic(arrays, mine, edges, n_bins, widths, name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _bin(times: np.ndarray, edges: np.ndarray, n_bins: int) -> np.ndarray:
    idx = np.searchsorted(edges, times, side="right") - 1
    return np.clip(idx, 0, n_bins - 1)


def _workload_traffic(arrays, mine, edges, n_bins, widths, name) -> pd.DataFrame:
    t_arr = arrays["t_arrival"][mine]
    t_end = arrays["t_end"][mine]
    outcome = arrays["outcome"][mine]
    done = ~np.isnan(t_end)
    frame = pd.DataFrame({"t": edges[:-1], "workload": name})
    frame["offered"] = np.bincount(_bin(t_arr, edges, n_bins), minlength=n_bins) / widths
    end_bins = _bin(t_end[done], edges, n_bins)
    frame["throughput"] = np.bincount(end_bins, minlength=n_bins) / widths
    for code, label in ((OK, "ok"), (ERROR, "error"), (TIMEOUT, "timeout"),
                        (REJECTED, "rejected"), (UNAVAILABLE, "unavailable")):
        sel = outcome[done] == code
        frame[label] = np.bincount(end_bins[sel], minlength=n_bins) / widths
    frame["goodput"] = frame["ok"]
    ok = outcome[done] == OK
    lat = pd.Series((t_end[done] - t_arr[done])[ok])
    groups = lat.groupby(end_bins[ok])
    for label, q in (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99)):
        frame[label] = groups.quantile(q).reindex(range(n_bins)).to_numpy() if len(lat) else np.nan
    return frame
