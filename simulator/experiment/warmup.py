"""Choosing the warm-up from the output itself: MSER-5 truncation on the goodput series.

A model that starts empty shows an initial transient (queues and caches filling) that biases
every mean. ``warmup: auto`` finds where to cut with MSER-5 (White 1997; Franklin & White 2008):
average the series in batches of 5, and pick the number of leading batches ``d`` that
minimises the standard error of the mean of what remains,

    MSER(d) = sum((z_i - mean(z_d..))^2 for i >= d) / (m - d)^2,

searching only the first half of the series (the usual guard: past that, the rule starts
rewarding the removal of genuine variability). MSER assumes the run settles into a steady
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


def truncation_time(traffic: pd.DataFrame | None) -> float:
    """Seconds to discard at the start of a run whose traffic table is ``traffic`` (MSER-5)."""
    if traffic is None or traffic.empty:
        return 0.0
    series = goodput_series(traffic)
    drop = mser(series.to_numpy())
    return float(series.index[drop]) if drop else 0.0
