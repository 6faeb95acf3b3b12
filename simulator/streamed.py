"""The end-of-run analyses of a spilled run, read from disk a chunk at a time.

Same definitions and the same numbers, to the last bit, as the in-memory functions of
:mod:`simulator.analysis`, :mod:`simulator.recovery` and :mod:`simulator.accounting` (a test
runs both on one scenario): counts are integer sums over chunks; anything over a time window is
a count of sorted times below its bounds, summed chunk by chunk (arrivals are recorded in time
order, completions too); per-interval and per-window quantiles read the window's completions,
one contiguous range of the completion file; the summary's latency mean and quantiles use
:mod:`simulator.exact` (numpy's pairwise sum and order statistics, over several passes).
Memory: a chunk of rows and per-interval/per-window tables, whatever the run's length.
"""

from __future__ import annotations

import numpy as np

from simulator.exact import OrderStatistics, PairwiseSum, linear_quantiles, quantile_ranks
from simulator.metrics import AVAILABLE, availability
from simulator.request import INCOMPLETE, OK, OUTCOMES

ROWS = ("t_arrival", "workload", "t_end", "outcome", "attempts")


def below(values: np.ndarray, queries: np.ndarray, side: str) -> np.ndarray:
    """``np.searchsorted(values, queries, side)`` for ascending ``queries``: only those inside the
    chunk's range are searched (a chunk of a long run spans a sliver of its windows)."""
    out = np.zeros(queries.size, np.int64)
    if not values.size:
        return out
    lo = np.searchsorted(queries, values[0], "left")
    hi = np.searchsorted(queries, values[-1], "right")
    out[lo:hi] = np.searchsorted(values, queries[lo:hi], side)
    out[hi:] = values.size
    return out


# --- summary ---------------------------------------------------------------------------------
def request_metrics(spilled, warmup: float, end: float, groups: list[int | None],
                    latency_quantiles: dict[str, float], served_codes: list[int]) -> list[dict]:
    """:func:`simulator.analysis.request_metrics` of each workload in ``groups`` (None: all)."""
    tallies = [_Tally() for _ in groups]
    for _, a in spilled.rows.chunks(ROWS):
        for group, tally in zip(groups, tallies, strict=True):
            tally.count(a, warmup, end, group, served_codes)
    qs = list(latency_quantiles.values())
    for tally in tallies:
        tally.select.ask([r for lo, hi, _ in quantile_ranks(tally.select.n, qs) for r in (lo, hi)]
                         if tally.select.n else [])
        tally.mean = PairwiseSum(tally.select.n)
    first = True
    while first or not all(t.select.done for t in tallies):
        for tally in tallies:
            if not tally.select.done:
                tally.select.start_pass()
        for _, a in spilled.rows.chunks(ROWS):
            for group, tally in zip(groups, tallies, strict=True):
                latency = _ok_latency(a, warmup, end, group)
                if first:
                    tally.mean.feed(latency)
                if tally.select.reading:
                    tally.select.feed(latency)
        for tally in tallies:
            tally.select.end_pass()
        first = False
    return [tally.metrics(end - warmup, latency_quantiles) for tally in tallies]


class _Tally:
    """One workload's counts over the chunks, and its latency statistics."""

    def __init__(self):
        self.offered = 0
        self.counts = np.zeros(len(OUTCOMES), np.int64)
        self.served = 0
        self.good = 0
        self.tries = 0
        self.tried = 0
        self.select = OrderStatistics()
        self.mean: PairwiseSum | None = None

    def count(self, a, warmup: float, end: float, group: int | None, served_codes) -> None:
        in_window, ended_in_window = _windows(a, warmup, end, group)
        self.offered += int(in_window.sum())
        codes = a["outcome"][in_window]
        self.counts += np.fromiter((np.count_nonzero(codes == info.code) for info in OUTCOMES), np.int64,
                                   count=len(OUTCOMES))
        ended = a["outcome"][ended_in_window]
        self.served += int(np.isin(ended, served_codes).sum())
        self.good += int((ended == OK).sum())
        attempts = a["attempts"][in_window & (a["outcome"] != INCOMPLETE)]
        self.tries += int(attempts.sum(dtype=np.int64))
        self.tried += attempts.size
        self.select.feed(_ok_latency(a, warmup, end, group))

    def metrics(self, span: float, latency_quantiles: dict[str, float]) -> dict[str, float]:
        counts, n = self.counts, self.select.n
        metrics = {"offered": float(self.offered), "completed": float(self.offered - int(counts[INCOMPLETE]))}
        metrics.update({info.count_metric: float(counts[info.code]) for info in OUTCOMES})
        metrics.update({
            "availability": availability(counts),
            "offered_rate": self.offered / span if span > 0 else float("nan"),
            "throughput": float(self.served) / span if span > 0 else float("nan"),
            "goodput": float(self.good) / span if span > 0 else float("nan"),
            "latency_mean": self.mean.total() / n if n else float("nan"),
        })
        values = linear_quantiles(n, list(latency_quantiles.values()), self.select.values) if n else None
        for i, name in enumerate(latency_quantiles):
            metrics[name] = values[i] if values is not None else float("nan")
        metrics["amplification"] = float(np.float64(self.tries) / self.tried) if self.tried else float("nan")
        return metrics


def _windows(a, warmup: float, end: float, group: int | None):
    t_arr, t_end = a["t_arrival"], a["t_end"]
    in_window = (t_arr >= warmup) & (t_arr < end)
    ended_in_window = (t_end >= warmup) & (t_end <= end)
    if group is not None:
        mine = a["workload"] == group
        in_window &= mine
        ended_in_window &= mine
    return in_window, ended_in_window


def _ok_latency(a, warmup: float, end: float, group: int | None) -> np.ndarray:
    """The chunk's in-window ok latencies, in id order (as the in-memory path has them)."""
    in_window, _ = _windows(a, warmup, end, group)
    ok = in_window & (a["outcome"] == OK)
    return a["t_end"][ok] - a["t_arrival"][ok]


# --- traffic table ---------------------------------------------------------------------------
def arrival_counts(spilled, n_w: int, edges: np.ndarray) -> np.ndarray:
    """Arrivals per workload and interval [start, end) (arrivals are in time order)."""
    out = np.zeros((n_w, len(edges) - 1), np.int64)
    for _, a in spilled.rows.chunks(("t_arrival", "workload")):
        t = a["t_arrival"]
        for wi in range(n_w):
            mine = t if n_w == 1 else t[a["workload"] == wi]
            out[wi] += np.diff(below(mine, edges, "left"))
    return out


def completion_bounds(spilled, edges: np.ndarray, end: float) -> np.ndarray:
    """Index of the first completion at or after each edge; the last: after ``end``."""
    bounds = np.zeros(len(edges), np.int64)
    for _, a in spilled.completions.chunks(("t_end",)):
        t = a["t_end"]
        found = below(t, edges, "left")
        found[-1] = np.searchsorted(t, end, side="right")
        bounds += found
    return bounds


def read_completions(spilled, start: int, stop: int) -> dict[str, np.ndarray]:
    """Completions [start, stop): t_end, outcome, latency, workload."""
    return spilled.completions.read(("t_end", "outcome", "latency", "workload"), start, stop)


def availability_counts(spilled, count_rows) -> np.ndarray:
    """The sum over row chunks of ``count_rows(columns, slice)`` (the in-memory per-chunk count)."""
    total = None
    for _, a in spilled.rows.chunks(("t_arrival", "workload", "outcome")):
        counts = count_rows(a, slice(None))
        total = counts if total is None else total + counts
    return total


# --- books -----------------------------------------------------------------------------------
def outcome_table(spilled, known: int, n_w: int) -> tuple[np.ndarray, bool]:
    """Requests per (workload, outcome code), and whether any code is unknown."""
    total = np.zeros(known * n_w, np.int64)
    unknown = False
    for _, a in spilled.rows.chunks(("workload", "outcome")):
        outcome = a["outcome"]
        if len(outcome) and (outcome.min() < 0 or outcome.max() >= known):
            unknown = True
            continue
        total += np.bincount(a["workload"].astype(np.int64) * known + outcome, minlength=known * n_w)
    return total, unknown


# --- recovery --------------------------------------------------------------------------------
def completion_window_counts(spilled, starts: np.ndarray, ends: np.ndarray, limit: float) -> dict:
    """Per window (start, end]: ok, failed and slow (ok, latency above ``limit``) completions,
    and the range of completion rows it spans."""
    out = {key: np.zeros(ends.size, np.int64) for key in ("ok", "failed", "slow", "lo", "hi")}
    for _, a in spilled.completions.chunks(("t_end", "outcome", "latency")):
        t, outcome = a["t_end"], a["outcome"]
        ended = outcome != INCOMPLETE
        ok = ended & AVAILABLE[outcome.astype(np.int64)]
        slow = ok & (a["latency"] > limit)
        for key, chosen in (("ok", t[ok]), ("failed", t[ended & ~ok]), ("slow", t[slow])):
            out[key] += below(chosen, ends, "right") - below(chosen, starts, "right")
        out["lo"] += below(t, starts, "right")
        out["hi"] += below(t, ends, "right")
    return out


def window_latencies(spilled, lo: int, hi: int) -> np.ndarray:
    """Latencies of the ok completions among completion rows [lo, hi)."""
    a = spilled.completions.read(("outcome", "latency"), lo, hi)
    outcome = a["outcome"]
    return a["latency"][(outcome != INCOMPLETE) & AVAILABLE[outcome.astype(np.int64)]]


def arrivals_before(spilled, *times: np.ndarray) -> list[np.ndarray]:
    """For each array of ascending ``times``: how many requests arrived before each time."""
    out = [np.zeros(t.size, np.int64) for t in times]
    for _, a in spilled.rows.chunks(("t_arrival",)):
        t = a["t_arrival"]
        if t.size and not np.all(t[1:] >= t[:-1]):
            raise RuntimeError("spilled arrivals are not in time order")
        for counts, queries in zip(out, times, strict=True):
            counts += below(t, queries, "left")
    return out


def ended_ok(a) -> tuple[np.ndarray, np.ndarray]:
    """The recovery module's ``ended`` and ``ok`` masks of a chunk of rows."""
    ended = np.isfinite(a["t_end"]) & (a["outcome"] != INCOMPLETE)
    return ended, ended & AVAILABLE[a["outcome"].astype(np.int64)]


def prefix_sums(spilled, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Requests ended, and their attempts, among ids < k for each k of ``at`` (int64)."""
    ended_before = np.zeros(at.size, np.int64)
    tries_before = np.zeros(at.size, np.int64)
    totals = [0, 0]
    for start, a in spilled.rows.chunks(("t_end", "outcome", "attempts")):
        ended, _ = ended_ok(a)
        stop = start + len(ended)
        inside = (at > start) & (at <= stop)
        tries = np.where(ended, a["attempts"], 0)
        for i, (values, out) in enumerate(((ended, ended_before), (tries, tries_before))):
            running = np.cumsum(values, dtype=np.int64)
            out[inside] = totals[i] + running[at[inside] - start - 1]
            totals[i] += int(running[-1]) if running.size else 0
    beyond = at > len(spilled.rows)
    ended_before[beyond], tries_before[beyond] = totals
    return ended_before, tries_before


def arrival_availability(spilled, start: float, end: float, cut: float | None = None) -> float | None:
    """ok / counted over the requests that arrived in [start, end): with ``cut``, only those
    that ended by it count (the recovery module's availability before the first trigger),
    without it every arrival counts (its final window); None if none counts."""
    count = good = 0
    for _, a in spilled.rows.chunks(("t_arrival", "t_end", "outcome")):
        ended, ok = ended_ok(a)
        t = a["t_arrival"]
        inside = (t >= start) & (t < end)
        if cut is not None:
            inside &= ended & (a["t_end"] <= cut)
        count += int(np.count_nonzero(inside))
        good += int(np.count_nonzero(inside & ok))
    return float(good / count) if count else None
