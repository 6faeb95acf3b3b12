"""Anomaly detectors: each judges one value per evaluation against what it has seen before.

``observe(x)`` returns (anomalous, z): the value's distance from the expected level in standard
deviations, and whether it exceeds the threshold in the chosen direction. The detector only judges
after ``min_samples`` values; until then it only learns. Values are learnt whether or not they were
anomalous (the detectors adapt to a new level, as deployed ones do).
"""

from __future__ import annotations

import math
from collections import deque


def exceeds(z: float, threshold: float, direction: str) -> bool:
    """Whether a z-score is anomalous: beyond ``threshold`` above, below, or either way."""
    if direction == "above":
        return z > threshold
    if direction == "below":
        return z < -threshold
    return abs(z) > threshold


def _z(diff: float, sd: float) -> float:
    if sd > 0:
        return diff / sd
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


class Ewma:
    """Exponentially weighted mean and variance (Finch, "Incremental calculation of weighted mean
    and variance", 2009): ``diff = x - mean; mean += alpha diff; var = (1 - alpha)(var + alpha
    diff^2)``. The value is judged against the mean and deviation *before* it is learnt."""

    def __init__(self, alpha: float, threshold: float, direction: str, min_samples: int):
        self.alpha, self.threshold, self.direction = alpha, threshold, direction
        self.min_samples = min_samples
        self.n = 0
        self.mean = 0.0
        self.var = 0.0

    def observe(self, x: float) -> tuple[bool, float]:
        if self.n == 0:
            self.n, self.mean = 1, x
            return False, 0.0
        diff = x - self.mean
        z = _z(diff, math.sqrt(self.var))
        anomalous = self.n >= self.min_samples and exceeds(z, self.threshold, self.direction)
        self.mean += self.alpha * diff
        self.var = (1.0 - self.alpha) * (self.var + self.alpha * diff * diff)
        self.n += 1
        return anomalous, z


class RollingZscore:
    """z-score against the mean and sample standard deviation of the last ``size`` values; it
    judges once it holds that many."""

    def __init__(self, size: int, threshold: float, direction: str):
        self.values: deque[float] = deque(maxlen=max(2, size))
        self.threshold, self.direction = threshold, direction

    def observe(self, x: float) -> tuple[bool, float]:
        past = self.values
        z, anomalous = 0.0, False
        if len(past) >= 2:
            mean = math.fsum(past) / len(past)
            sd = math.sqrt(math.fsum((v - mean) ** 2 for v in past) / (len(past) - 1))
            z = _z(x - mean, sd)
            anomalous = len(past) == past.maxlen and exceeds(z, self.threshold, self.direction)
        past.append(x)
        return anomalous, z
