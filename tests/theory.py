"""Closed-form queueing results the simulator is checked against (textbook formulas, no simulation)."""

from __future__ import annotations

import math

import numpy as np

# The contract file: it must load and run unchanged, and match Erlang C.
MMC_CONTRACT = """
name: mmc
duration: 20000s
warmup: 1000s
seed: 1
workload:
  - {name: jobs, entry: server, arrivals: {pattern: poisson, rate: 8/s}}
components:
  - {kind: service, name: server, replicas: 1, workers: 10, service_time: {dist: exponential, mean: 1s}}
"""


def erlang_c(lam: float, mu: float, c: int) -> float:
    """P(an arrival waits) in M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    assert rho < 1, "unstable queue"
    term, total = 1.0, 0.0
    for k in range(c):
        total += term
        term *= a / (k + 1)
    top = term / (1 - rho)  # a^c / c! / (1 - rho)
    return top / (total + top)


def mmc_response_time(lam: float, mu: float, c: int) -> float:
    """Mean sojourn time W = 1/mu + C(c, a) / (c mu - lam)."""
    return 1 / mu + erlang_c(lam, mu, c) / (c * mu - lam)


def mmck_blocking(lam: float, mu: float, c: int, k: int) -> float:
    """P(arrival finds the system full) in M/M/c/K (K = servers + waiting places)."""
    a = lam / mu
    weights = [a**n / math.factorial(n) if n <= c else a**n / (math.factorial(c) * c ** (n - c))
               for n in range(k + 1)]
    return weights[k] / sum(weights)


def md1_response_time(lam: float, service: float) -> float:
    """Pollaczek–Khinchine for deterministic service: W = D + rho D / (2 (1 - rho))."""
    rho = lam * service
    return service + rho * service / (2 * (1 - rho))


def che_lru_hit_ratio(popularity: np.ndarray, capacity: int) -> float:
    """Che's approximation of an LRU cache's hit ratio under the independent reference model."""
    p = popularity / popularity.sum()

    def filled(t: float) -> float:
        return float(np.sum(1 - np.exp(-p * t))) - capacity

    lo, hi = 0.0, 1.0
    while filled(hi) < 0:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if filled(mid) < 0 else (lo, mid)
    t_c = (lo + hi) / 2
    return float(np.sum(p * (1 - np.exp(-p * t_c))))


def batch_means(values: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean and 95% half-width by batch means (consecutive requests are strongly correlated)."""
    n = len(values) // batches
    means = values[: n * batches].reshape(batches, n).mean(axis=1)
    t_975_19 = 2.093
    return float(values.mean()), float(t_975_19 * means.std(ddof=1) / math.sqrt(batches))
