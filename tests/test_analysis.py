"""Analysis helpers agree with their plain numpy definitions."""

from __future__ import annotations

import numpy as np

from simulator.analysis import grouped_quantiles


def test_grouped_quantiles_match_numpy():
    """Per-group quantiles equal np.quantile on each group, and empty groups are NaN."""
    rng = np.random.default_rng(0)
    values = rng.exponential(size=5000)
    keys = rng.integers(0, 7, size=5000)
    keys[keys == 3] = 4  # group 3 stays empty
    result = grouped_quantiles(values, keys, 8, [0.5, 0.95, 0.99])
    for k in range(8):
        mine = values[keys == k]
        expected = np.quantile(mine, [0.5, 0.95, 0.99]) if len(mine) else [np.nan] * 3
        np.testing.assert_allclose(result[k], expected, equal_nan=True)
