"""Named random streams and fast per-draw samplers for the scenario distributions.

Every random number in a run comes from a stream keyed by its *name* (``app/2.service``,
``workload.feed.arrivals``), never by creation order, so a draw made only in one variant cannot
shift the draws of another (common random numbers, see DESIGN.md "Fair comparisons").

Samplers sit on the simulator's hot path, so they draw from numpy in blocks and hand out one
Python float per call through a C-level iterator: a call costs a few tens of nanoseconds and
runs no Python frame. A sampler consumes its generator in whole blocks, so give each sampler a
generator of its own; its sequence then depends only on the stream and the spec.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import numpy as np

#: Standard normal 99th percentile, used to fit a lognormal to (mean, p99).
Z99 = 2.3263478740408408

Fill = Callable[[int], np.ndarray]
"""A vectorised draw: ``fill(n)`` returns ``n`` fresh values as a numpy array."""


def stable_hash(name: str) -> int:
    """Hash a stream name to 64 bits, identically in every process and Python version.

    Python's ``hash()`` is salted per process, which would make seeds differ between runs.
    """
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class RandomStreams:
    """Factory of independent numpy generators, one per named purpose.

    Nothing is memoised: ``generator(name)`` always returns a fresh generator in the same
    initial state, so results never depend on the order in which streams are requested.
    Asking twice for one name gives two copies of the same stream; use one name per purpose.
    """

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def generator(self, name: str) -> np.random.Generator:
        """Return a new generator for stream ``name`` of this seed and replication."""
        key = (self.replication, stable_hash(name))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    def __repr__(self) -> str:
        return f"RandomStreams(seed={self.seed}, replication={self.replication})"


def batched(fill: Fill, batch: int = 4096) -> Callable[[], Any]:
    """Turn a vectorised draw into a zero-argument callable returning one Python value per call.

    The result is the bound ``__next__`` of an ``itertools.chain`` over lists, so a call runs in
    C; Python code runs only once per ``batch`` values, to refill.
    """

    def blocks() -> Iterator[list]:
        while True:
            yield fill(batch).tolist()

    return itertools.chain.from_iterable(blocks()).__next__


def sampler(dist_spec: Any, rng: np.random.Generator, batch: int = 4096) -> Callable[[], float]:
    """Return a zero-argument callable giving the next draw (seconds) of ``dist_spec``.

    ``dist_spec`` is duck-typed on the contract's field names (``dist``, ``mean``, ...); a bare
    number means a constant. The generator should belong to this sampler alone (draws are taken
    ``batch`` at a time). The analytic mean of what it draws is the spec's own ``analytic_mean()``
    (simulator.scenario.dists), the single source of truth for it.
    """
    if _is_number(dist_spec):
        return itertools.repeat(float(dist_spec)).__next__
    if dist_spec.dist == "constant":
        return itertools.repeat(float(dist_spec.value)).__next__
    return batched(_fill(dist_spec, rng), batch)


def key_sampler(keys_spec: Any, rng: np.random.Generator, batch: int = 4096) -> Callable[[], int]:
    """Return a zero-argument callable giving the next key, an int in ``[0, catalog)``.

    ``zipf`` draws key ``k`` with probability proportional to ``1 / (k + 1) ** alpha`` (bounded
    Zipf, key 0 the most popular); ``uniform`` draws every key equally often.
    """
    catalog = int(keys_spec.catalog)
    if catalog < 1:
        raise ValueError(f"key catalog must be >= 1, got {catalog}")
    if keys_spec.dist == "uniform":
        return batched(lambda n: rng.integers(0, catalog, n), batch)
    if keys_spec.dist == "zipf":
        cdf = zipf_cdf(float(keys_spec.alpha), catalog)
        return batched(lambda n: np.searchsorted(cdf, rng.random(n), side="right"), batch)
    raise ValueError(f"unknown key distribution {keys_spec.dist!r}")


@lru_cache(maxsize=4)
def zipf_cdf(alpha: float, catalog: int) -> np.ndarray:
    """Return the (read-only) CDF of the bounded Zipf law over ``catalog`` keys.

    Cached because several cache replicas share one key law and a 1e7-key CDF takes ~100 ms;
    the cache holds pure values only, so it cannot make results depend on call order.
    """
    cdf = np.arange(1, catalog + 1, dtype=np.float64)
    np.power(cdf, -alpha, out=cdf)
    np.cumsum(cdf, out=cdf)
    cdf /= cdf[-1]  # the last entry becomes exactly 1.0, so searchsorted never returns catalog
    cdf.flags.writeable = False
    return cdf


def lognormal_params(dist_spec: Any) -> tuple[float, float]:
    """Return ``(mu, sigma)`` of the underlying normal for a lognormal spec.

    From (mean, p99): ``ln p99 - ln mean = Z99 sigma - sigma^2 / 2``; the smaller root is the
    one whose 99th percentile lies in the right tail. It exists only for 1 < p99/mean <= e^(Z99²/2).
    """
    p99 = getattr(dist_spec, "p99", None)
    if p99 is None:
        return math.log(dist_spec.median), float(dist_spec.sigma)
    mean = float(dist_spec.mean)
    ratio = float(p99) / mean
    disc = Z99 * Z99 - 2.0 * math.log(ratio) if ratio > 1.0 else -1.0
    if disc < 0.0:
        raise ValueError(
            f"lognormal needs mean < p99 <= {math.exp(Z99 * Z99 / 2):.2f} * mean, got mean={mean}, p99={p99}"
        )
    sigma = Z99 - math.sqrt(disc)
    return math.log(mean) - sigma * sigma / 2.0, sigma


def _is_number(spec: Any) -> bool:
    return isinstance(spec, int | float) and not isinstance(spec, bool)


def _fill(spec: Any, rng: np.random.Generator) -> Fill:
    """Return the vectorised draw for a non-constant spec."""
    dist = spec.dist
    if dist == "exponential":
        mean = float(spec.mean)
        return lambda n: rng.exponential(mean, n)
    if dist == "uniform":
        low, high = float(spec.low), float(spec.high)
        return lambda n: rng.uniform(low, high, n)
    if dist == "normal":
        return _truncated_normal(float(spec.mean), float(spec.std), rng)
    if dist == "lognormal":
        mu, sigma = lognormal_params(spec)
        return lambda n: rng.lognormal(mu, sigma, n)
    if dist in ("gamma", "erlang"):
        shape = float(spec.shape) if dist == "gamma" else float(int(spec.k))
        scale = float(spec.mean) / shape
        return lambda n: rng.gamma(shape, scale, n)
    if dist == "pareto":
        return _bounded_pareto(float(spec.low), float(spec.high), float(spec.alpha), rng)
    if dist == "empirical":
        return _empirical(spec, rng)
    raise ValueError(f"unknown distribution {dist!r}")


def _truncated_normal(mean: float, std: float, rng: np.random.Generator) -> Fill:
    """Normal truncated at 0: negative draws are redrawn, a whole vector at a time."""
    if mean < 0.0 and std == 0.0:
        raise ValueError(f"normal with mean {mean} and std 0 has no non-negative values")

    def fill(n: int) -> np.ndarray:
        out = rng.normal(mean, std, n)
        negative = np.flatnonzero(out < 0.0)
        while negative.size:
            out[negative] = rng.normal(mean, std, negative.size)
            negative = negative[out[negative] < 0.0]
        return out

    return fill


def _bounded_pareto(low: float, high: float, alpha: float, rng: np.random.Generator) -> Fill:
    """Bounded Pareto on [low, high] by inverse CDF: x = low * (1 - u (1 - (low/high)^alpha))^(-1/alpha)."""
    if not 0.0 < low <= high:
        raise ValueError(f"bounded pareto needs 0 < low <= high, got low={low}, high={high}")
    span = 1.0 - (low / high) ** alpha
    return lambda n: np.minimum(low * (1.0 - rng.random(n) * span) ** (-1.0 / alpha), high)


def _empirical(spec: Any, rng: np.random.Generator) -> Fill:
    """Empirical law: a uniform choice among samples, or the interpolated quantile function."""
    samples = getattr(spec, "samples", None)
    if samples is not None:
        values = np.asarray(samples, dtype=np.float64)
        return lambda n: values[rng.integers(0, values.size, n)]
    ps, vs = _quantile_points(spec)
    return lambda n: np.interp(rng.random(n), ps, vs)


def _quantile_points(spec: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted (p, value) points of a quantile spec, checked to form a quantile function."""
    points = sorted((float(p), float(v)) for p, v in spec.quantiles.items())
    ps, vs = (np.array(column) for column in zip(*points, strict=True))
    if ps[0] != 0.0 or ps[-1] != 1.0 or np.any(np.diff(vs) < 0.0):
        raise ValueError("empirical quantiles need p=0 and p=1 and values non-decreasing in p")
    return ps, vs
