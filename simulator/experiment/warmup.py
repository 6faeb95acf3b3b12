"""Choosing the warm-up from the output itself: MSER-5 truncation on goodput *and* latency.

A model that starts empty shows an initial transient (queues and caches filling) that biases
every mean. ``warmup: auto`` finds where to cut with MSER-5 (White 1997; Franklin & White 2008):
average the series in batches of 5, and pick the number of leading batches ``d`` that
minimises the standard error of the mean of what remains,

    MSER(d) = sum((z_i - mean(z_d..))^2 for i >= d) / (m - d)^2,

searching only the first half of the series (the usual guard: past that, the rule starts
rewarding the removal of genuine variability). A queue that starts empty may serve at full rate
from the first second while its waiting times are still growing: goodput alone cannot see that
transient, so the rule runs on goodput and on each workload's median latency per interval (the
median moves with the queue and is far less noisy than the tail) and the latest cut wins.
MSER assumes the run settles into a steady
state; a scenario whose whole point is a transient (a spike, a fault) should use a fixed
warm-up instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

BATCH = 5


def mser(values: Sequence[float], batch: int = BATCH) -> int:
    """How many leading *values* to drop (a multiple of ``batch``) by the MSER-``batch`` rule."""
    series = np.asarray(values, dtype=float)
    series = series[np.isfinite(series)]
    m = len(series) // batch
    if m < 4:  # too short to judge: keep everything
        return 0
    z = series[: m * batch].reshape(m, batch).mean(axis=1)
    scores = [float(np.sum((z[d:] - z[d:].mean()) ** 2)) / (m - d) ** 2 for d in range(m // 2 + 1)]
    return int(np.argmin(scores)) * batch  # the first minimum: never cut more than needed


def goodput_series(traffic: pd.DataFrame) -> pd.Series:
    """Goodput (ok per second) summed over workloads, indexed by interval start (seconds)."""
    return traffic.groupby("t", sort=True)["goodput"].sum()


LATENCY = "latency_p50"
"""The traffic column whose transient MSER judges besides goodput."""


def latency_series(traffic: pd.DataFrame) -> list[pd.Series]:
    """Each workload's median latency per interval (NaN where nothing succeeded), by interval start."""
    if LATENCY not in traffic.columns:
        return []
    groups = traffic.groupby("workload", sort=False) if "workload" in traffic.columns else [("", traffic)]
    return [group.set_index("t").sort_index()[LATENCY] for _, group in groups]


def truncation_time(traffic: pd.DataFrame | None) -> float:
    """Seconds to discard at the start of a run whose traffic table is ``traffic``: the latest of
    the MSER-5 cuts of goodput and of every workload's latency."""
    if traffic is None or traffic.empty:
        return 0.0
    return max(_cut(series) for series in (goodput_series(traffic), *latency_series(traffic)))


def _cut(series: pd.Series) -> float:
    """The MSER-5 cut of one series as a time (its finite values only: an interval without an ok
    answer has no latency)."""
    finite = series[np.isfinite(series.to_numpy(dtype=float))]
    drop = mser(finite.to_numpy())
    return float(finite.index[drop]) if drop else 0.0
