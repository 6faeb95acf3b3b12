"""Turning a finished run's raw records into its summary metrics and per-interval traffic table.

Metric names in :func:`summarize` are stable API (CLI tables, JSON output, ``expect:`` blocks):
add new ones, never rename. Everything is computed once, vectorised, after the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import streamed
from simulator.metrics import availability
from simulator.request import ENDED_OUTCOMES, INCOMPLETE, OK, OUTCOMES

SERVED_CODES = [int(info.code) for info in OUTCOMES if info.served]

LATENCY_QUANTILES = {"latency_p50": 0.50, "latency_p95": 0.95, "latency_p99": 0.99, "latency_p999": 0.999}


def summarize(arrays: dict[str, np.ndarray], warmup: float, end: float,
              component_windows: dict[str, dict[str, float]],
              workload_names: list[str] | None = None) -> dict[str, float]:
    """The run's summary: requests arriving in [warmup, end) and components over the same window.

    The run goes on after ``end`` until these requests have ended (the drain); those still in
    flight after it count as offered but not ok (``incomplete``), so an overloaded system cannot
    look healthy by never answering. ``throughput`` counts what the system served (ok or error
    after doing the work) per second of the window, ``goodput`` the successes alone: rejected,
    unavailable and timed-out requests were not served. With several workloads, each also
    gets ``<metric>.<workload>`` request metrics (the totals mix very different traffic).
    """
    names = workload_names or []
    groups = [None, *(range(len(names)) if len(names) > 1 else ())]
    if isinstance(arrays, dict):
        per_group = [request_metrics(arrays, warmup, end, group) for group in groups]
    else:  # a spilled run (simulator.recorder): the same numbers, read chunk by chunk
        per_group = streamed.request_metrics(arrays, warmup, end, groups, LATENCY_QUANTILES, SERVED_CODES)
    summary = per_group[0]
    for wi, metrics in enumerate(per_group[1:]):
        for metric, value in metrics.items():
            summary[f"{metric}.{names[wi]}"] = value
    for component, window in component_windows.items():
        for metric, value in window.items():
            summary[f"{metric}.{component}"] = float(value)
    return summary


def request_metrics(arrays: dict[str, np.ndarray], warmup: float, end: float,
                    workload: int | None) -> dict[str, float]:
    """Counts, rates, latency quantiles and amplification of one workload (None: all of them)."""
    t_arr, t_end, outcome = arrays["t_arrival"], arrays["t_end"], arrays["outcome"]
    span = end - warmup  # none when a time limit stopped the run in its warm-up: rates undefined
    in_window = (t_arr >= warmup) & (t_arr < end)
    ended_in_window = (t_end >= warmup) & (t_end <= end)
    if workload is not None:
        mine = arrays["workload"] == workload
        in_window &= mine
        ended_in_window &= mine
    offered = int(in_window.sum())
    counts = _outcome_counts(outcome[in_window])
    ok_mask = in_window & (outcome == OK)
    latency = t_end[ok_mask] - t_arr[ok_mask]
    ended_codes = outcome[ended_in_window]
    metrics = {"offered": float(offered), "completed": float(offered - int(counts[INCOMPLETE]))}
    metrics.update({info.count_metric: float(counts[info.code]) for info in OUTCOMES})
    metrics.update({
        "availability": availability(counts),
        "offered_rate": offered / span if span > 0 else float("nan"),
        "throughput": float(np.isin(ended_codes, SERVED_CODES).sum()) / span if span > 0 else float("nan"),
        "goodput": float((ended_codes == OK).sum()) / span if span > 0 else float("nan"),
        "latency_mean": float(latency.mean()) if latency.size else float("nan"),
    })
    # The mean is taken above: the quantiles may reorder the (private) latency array in place.
    values = np.quantile(latency, list(LATENCY_QUANTILES.values()), overwrite_input=True) \
        if latency.size else None
    for i, name in enumerate(LATENCY_QUANTILES):
        metrics[name] = float(values[i]) if values is not None else float("nan")
    attempts = arrays["attempts"][in_window & (outcome != INCOMPLETE)]
    metrics["amplification"] = float(attempts.mean()) if attempts.size else float("nan")
    return metrics


def _outcome_counts(codes: np.ndarray) -> np.ndarray:
    """``np.bincount(codes, minlength=len(OUTCOMES))`` without its 8-byte copy of every code."""
    return np.fromiter((np.count_nonzero(codes == info.code) for info in OUTCOMES), np.int64,
                       count=len(OUTCOMES))


TRAFFIC_QUANTILES = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}
_BINS_PER_CHUNK = 64  # intervals processed together: vectorised, yet small temporaries


def traffic_frame(completions: dict[str, np.ndarray], t_arrival: np.ndarray, workload: np.ndarray,
                  workload_names: list[str], interval: float, end: float) -> pd.DataFrame:
    """Per workload and interval: offered/throughput/goodput and outcomes per second, latencies.

    Arrivals are binned by arrival time, completions and latencies by completion time, so the
    table shows what an observer of the system would have seen during each interval.
    ``completions`` are the recorder's completion-ordered columns (``done_id``, ``t_end``,
    ``outcome``): already sorted by time, so a run of intervals is one slice, processed in chunks
    with small temporaries (this keeps the end of a long run's memory flat).
    """
    edges = interval_edges(interval, end)
    widths = np.diff(edges)
    n_w, n_bins = len(workload_names), len(widths)
    counts = np.zeros((n_w, n_bins, len(OUTCOMES)))
    quantiles = np.full((n_w, n_bins, len(TRAFFIC_QUANTILES)), np.nan)
    if isinstance(completions, dict):
        offered = _arrival_counts(t_arrival, workload, n_w, edges)
        bounds = np.searchsorted(completions["t_end"], edges, side="left")
        # Completions at exactly `end` belong to the last interval; later ones (the drain) to none.
        bounds[-1] = np.searchsorted(completions["t_end"], end, side="right")
        for b0 in range(0, n_bins, _BINS_PER_CHUNK):
            b1 = min(b0 + _BINS_PER_CHUNK, n_bins)
            window = slice(bounds[b0], bounds[b1])
            _fill_chunk(completions, window, edges[b0:b1 + 1], t_arrival, workload, n_w,
                        counts[:, b0:b1], quantiles[:, b0:b1])
    else:  # a spilled run: each run of intervals is one range of the completion file
        offered = streamed.arrival_counts(completions, n_w, edges)
        bounds = streamed.completion_bounds(completions, edges, end)
        for b0 in range(0, n_bins, _BINS_PER_CHUNK):  # the same runs: the quantiles' rounding
            b1 = min(b0 + _BINS_PER_CHUNK, n_bins)      # depends on a bin's place in its run
            rows = streamed.read_completions(completions, int(bounds[b0]), int(bounds[b1]))
            if len(rows["t_end"]):
                _fill_rows(rows["t_end"], rows["outcome"], rows["workload"] if n_w > 1 else None,
                           lambda ok, r=rows: r["latency"][ok], edges[b0:b1 + 1], n_w,
                           counts[:, b0:b1], quantiles[:, b0:b1])
    frames = [_workload_frame(name, edges, widths, offered[wi], counts[wi], quantiles[wi])
              for wi, name in enumerate(workload_names)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def interval_edges(interval: float, end: float) -> np.ndarray:
    """Interval boundaries 0, interval, 2 interval... up to ``end`` (the last one shorter if need be)."""
    edges = np.arange(0.0, end + interval * 0.5, interval)
    return np.append(edges, end) if edges[-1] < end else edges


def add_availability(traffic: pd.DataFrame, arrays: dict[str, np.ndarray], workload_names: list[str],
                     interval: float, end: float) -> pd.DataFrame:
    """The traffic table with an ``availability`` column: per interval and workload, the share of
    the requests that *arrived* in it and ended available, by :func:`simulator.metrics.availability`
    (the summary's own definition, ``incomplete`` in the denominator).

    Binned by arrival, unlike the other columns, so that the series weighted by the requests of
    each interval of [warmup, duration) is the summary's availability exactly; a request that
    arrived during an outage and timed out later counts against the interval it arrived in.
    """
    if traffic.empty:
        return traffic
    edges = interval_edges(interval, end)
    n_bins, n_out = len(edges) - 1, len(OUTCOMES)
    size = len(workload_names) * n_bins * n_out
    by_workload = len(workload_names) > 1
    if isinstance(arrays, dict):
        counts = np.zeros(size, np.int64)
        for rows in _row_chunks(len(arrays["t_arrival"])):  # int64 keys for a chunk, not for the run
            counts += _availability_counts(arrays, rows, edges, by_workload, end, size)
    else:  # a spilled run: the same counts, one chunk of the file at a time
        counts = streamed.availability_counts(
            arrays, lambda a, rows: _availability_counts(a, rows, edges, by_workload, end, size))
    traffic["availability"] = availability(counts.reshape(-1, n_out))
    return traffic


ROW_CHUNK = 1 << 20
"""Requests processed together where a per-request temporary would be 8 bytes wide."""


def _row_chunks(n: int) -> list[slice]:
    """Consecutive slices of at most :data:`ROW_CHUNK` rows covering ``range(n)``."""
    return [slice(start, min(start + ROW_CHUNK, n)) for start in range(0, n, ROW_CHUNK)]


def _availability_counts(arrays, rows: slice, edges: np.ndarray, by_workload: bool, end: float,
                         size: int) -> np.ndarray:
    """Outcome counts per (workload, arrival interval) of the requests ``rows``."""
    n_bins, n_out = len(edges) - 1, len(OUTCOMES)
    t_arr = arrays["t_arrival"][rows]
    measured = t_arr < end  # arrivals go on during the drain; those belong to no interval
    key = np.searchsorted(edges, t_arr[measured], side="right") - 1
    if by_workload:
        key = key + arrays["workload"][rows][measured].astype(np.int64) * n_bins
    codes = arrays["outcome"][rows][measured].astype(np.int64)
    return np.bincount(key * n_out + codes, minlength=size)


def _arrival_counts(t_arrival, workload, n_w, edges) -> np.ndarray:
    """Arrivals per interval [start, end) and workload (arrivals are recorded in time order)."""
    if n_w == 1:
        return np.diff(np.searchsorted(t_arrival, edges))[None, :]
    return np.stack([np.diff(np.searchsorted(t_arrival[workload == wi], edges)) for wi in range(n_w)])


def _fill_chunk(completions, window: slice, edges, t_arrival, workload, n_w, counts, quantiles) -> None:
    """Outcome counts and latency quantiles for the completions of a few consecutive intervals."""
    ids = completions["done_id"][window]
    if not len(ids):
        return
    t_end = completions["t_end"][window]
    _fill_rows(t_end, completions["outcome"][window], workload[ids] if n_w > 1 else None,
               lambda ok: t_end[ok] - t_arrival[ids[ok]], edges, n_w, counts, quantiles)


def _fill_rows(t_end, outcome, workload, ok_latency, edges, n_w, counts, quantiles) -> None:
    """:func:`_fill_chunk` of completions given by their columns: ``workload`` per completion
    (None with one workload), ``ok_latency(mask)`` the latencies of the ok ones."""
    outcome = outcome.astype(np.int64)
    n_bins, n_out = len(edges) - 1, counts.shape[2]
    key = np.clip(np.searchsorted(edges, t_end, side="right") - 1, 0, n_bins - 1)
    if n_w > 1:
        key += workload.astype(np.int64) * n_bins
    groups = n_w * n_bins
    counts[...] = np.bincount(key * n_out + outcome, minlength=groups * n_out).reshape(n_w, n_bins, n_out)
    ok = outcome == OK
    latency = ok_latency(ok)
    qs = list(TRAFFIC_QUANTILES.values())
    quantiles[...] = grouped_quantiles(latency, key[ok], groups, qs).reshape(n_w, n_bins, len(qs))


def grouped_quantiles(values: np.ndarray, keys: np.ndarray, n_groups: int, qs: list[float]) -> np.ndarray:
    """Quantiles of ``values`` per integer key, as numpy's default (linear) method; NaN if empty."""
    out = np.full((n_groups, len(qs)), np.nan)
    if not len(values):
        return out
    ordered = values[np.lexsort((values, keys))]
    sizes = np.bincount(keys, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    present = sizes > 0
    for j, q in enumerate(qs):
        position = starts[present] + q * (sizes[present] - 1)
        lo = np.floor(position).astype(np.int64)
        hi = np.minimum(lo + 1, starts[present] + sizes[present] - 1)
        out[present, j] = ordered[lo] + (position - lo) * (ordered[hi] - ordered[lo])
    return out


def _workload_frame(name, edges, widths, offered, counts, quantiles) -> pd.DataFrame:
    frame = pd.DataFrame({"t": edges[:-1], "workload": name, "offered": offered / widths})
    frame["throughput"] = counts[:, SERVED_CODES].sum(axis=1) / widths  # served: the work was done
    for info in ENDED_OUTCOMES:
        frame[info.label] = counts[:, info.code] / widths
    frame["goodput"] = frame["ok"]
    for i, label in enumerate(TRAFFIC_QUANTILES):
        frame[label] = quantiles[:, i]
    return frame
