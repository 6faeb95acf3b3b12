"""Distribution specs for service times, latencies and think times, and key-popularity specs.

Every value is a duration in seconds. Each spec knows its analytic mean (``analytic_mean()``)
so that capacity estimates and theory checks need no sampling. The method is not called
``mean`` because several specs have a ``mean`` field.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simulator.scenario.base import PositiveInt, PositiveNumber, SpecModel, spec_error
from simulator.units import Count, Duration, Fraction, PositiveDuration, format_duration

Z99 = NormalDist().inv_cdf(0.99)
MAX_LOGNORMAL_P99_RATIO = math.exp(Z99**2 / 2)
"""The largest p99/mean a lognormal can have (about 14.96), reached at sigma = z99."""


class ConstantDistSpec(SpecModel):
    """Always the same duration."""

    dist: Literal["constant"] = "constant"
    value: Duration
    """The duration, seconds."""

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        return self.value


class ExponentialDistSpec(SpecModel):
    """Exponential (memoryless) durations."""

    dist: Literal["exponential"] = "exponential"
    mean: PositiveDuration
    """Mean duration, seconds."""

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        return self.mean


class UniformDistSpec(SpecModel):
    """Durations uniform on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: Duration
    """Smallest duration, seconds."""
    high: Duration
    """Largest duration, seconds (>= low)."""

    @model_validator(mode="after")
    def _ordered(self) -> UniformDistSpec:
        if self.low > self.high:
            raise spec_error(f"high must be at least low ({self.low:g}s); got {self.high:g}s", "high")
        return self

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        return (self.low + self.high) / 2


class NormalDistSpec(SpecModel):
    """Normal durations, truncated at zero by resampling.

    Redrawing negative values raises the mean: ``{mean: 1s, std: 2s}`` would average 2.02s. A
    stated mean must be the real one, so a std that moves it by more than 1% (above about 42%
    of the mean) is refused; lognormal and gamma give that much spread without the bias.
    """

    dist: Literal["normal"] = "normal"
    mean: Duration
    """Mean, seconds (the truncation moves it by 1% at most)."""
    std: Duration
    """Standard deviation of the untruncated normal, seconds; at most about 42% of the mean."""

    @model_validator(mode="after")
    def _mean_survives_truncation(self) -> NormalDistSpec:
        if truncation_shift(self.mean, self.std) > MAX_NORMAL_MEAN_SHIFT:
            raise spec_error(self._truncation_message(), "std")
        return self

    def _truncation_message(self) -> str:
        mean, actual = _short(self.mean), _short(self.analytic_mean())
        limit = f"std <= {_short(MAX_NORMAL_CV * self.mean)} ({MAX_NORMAL_CV:.0%} of the mean), or "
        return (f"std {_short(self.std)} is too wide for mean {mean}: negative draws are redrawn, so the "
                f"mean would be {actual}, not {mean}; use {limit if self.mean > 0 else ''}a lognormal "
                "{mean, p99} or gamma {mean, shape} for more spread")

    def analytic_mean(self) -> float:
        """Mean in seconds of the normal truncated at zero (resampling keeps the shape above zero)."""
        if self.std == 0:
            return self.mean
        alpha = -self.mean / self.std
        unit = NormalDist()
        return self.mean + self.std * unit.pdf(alpha) / (1 - unit.cdf(alpha))


MAX_NORMAL_MEAN_SHIFT = 0.01
"""Largest relative rise of a normal's mean that truncation at zero may cause."""


def truncation_shift(mean: float, std: float) -> float:
    """Relative rise of the mean when a normal(mean, std) is truncated at zero (inf for mean 0, std > 0)."""
    if std == 0:
        return 0.0
    if mean == 0:
        return math.inf
    z = mean / std
    return std * NormalDist().pdf(z) / NormalDist().cdf(z) / mean


def _largest_cv() -> float:
    """The std/mean at which truncation raises the mean by exactly MAX_NORMAL_MEAN_SHIFT (bisection)."""
    low, high = 0.01, 10.0  # the shift grows with std/mean: ~1e-20 at 0.01, ~7 at 10
    for _ in range(60):
        middle = (low + high) / 2
        if truncation_shift(1.0, middle) <= MAX_NORMAL_MEAN_SHIFT:
            low = middle
        else:
            high = middle
    return low


MAX_NORMAL_CV = _largest_cv()
"""Largest std/mean a normal may have (about 0.42)."""


def _short(seconds: float) -> str:
    """A duration to three significant digits, for messages: ``2.01837`` -> ``2.02s``."""
    return format_duration(float(f"{seconds:.3g}"))


class LognormalDistSpec(SpecModel):
    """Lognormal durations, given either by mean and p99 or by median and sigma."""

    dist: Literal["lognormal"] = "lognormal"
    mean: PositiveDuration | None = None
    """Mean duration, seconds (with p99)."""
    p99: PositiveDuration | None = None
    """99th percentile, seconds (with mean); p99/mean must be between 1 and 14.9."""
    median: PositiveDuration | None = None
    """Median duration, seconds (with sigma)."""
    sigma: PositiveNumber | None = None
    """Standard deviation of the log of the duration (with median)."""

    @model_validator(mode="after")
    def _one_pair(self) -> LognormalDistSpec:
        by_mean = (self.mean, self.p99) != (None, None)
        by_median = (self.median, self.sigma) != (None, None)
        if by_mean == by_median:
            both = ", not both" if by_mean else ""
            raise spec_error(f"give either mean and p99, or median and sigma{both}")
        for first, second in (("mean", "p99"), ("p99", "mean"), ("median", "sigma"), ("sigma", "median")):
            if getattr(self, first) is not None and getattr(self, second) is None:
                raise spec_error(f"missing required key '{second}' (a lognormal with {first} needs {second})")
        if by_mean:
            self._check_tail()
        return self

    def _check_tail(self) -> None:
        assert self.mean is not None and self.p99 is not None
        if self.p99 <= self.mean:
            raise spec_error(f"p99 must be greater than mean ({self.mean:g}s); got {self.p99:g}s", "p99")
        if self.p99 / self.mean >= MAX_LOGNORMAL_P99_RATIO:
            message = "a lognormal cannot have p99/mean above 14.9; give median and sigma instead"
            raise spec_error(message, "p99")

    def mu_sigma(self) -> tuple[float, float]:
        """Parameters (mu, sigma) of the underlying normal, with durations in seconds.

        From mean and p99: p99/mean = exp(z*sigma - sigma^2/2); the smaller root keeps sigma < z99.
        """
        if self.median is not None and self.sigma is not None:
            return math.log(self.median), self.sigma
        assert self.mean is not None and self.p99 is not None
        sigma = Z99 - math.sqrt(Z99**2 - 2 * math.log(self.p99 / self.mean))
        return math.log(self.mean) - sigma**2 / 2, sigma

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        mu, sigma = self.mu_sigma()
        return math.exp(mu + sigma**2 / 2)


class GammaDistSpec(SpecModel):
    """Gamma durations with a given mean and shape (shape < 1 is burstier than exponential)."""

    dist: Literal["gamma"] = "gamma"
    mean: PositiveDuration
    """Mean duration, seconds."""
    shape: PositiveNumber
    """Shape parameter k; the coefficient of variation is 1/sqrt(k)."""

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        return self.mean


class ErlangDistSpec(SpecModel):
    """Erlang durations: the sum of k exponential phases with the given total mean."""

    dist: Literal["erlang"] = "erlang"
    mean: PositiveDuration
    """Mean duration, seconds."""
    k: PositiveInt
    """Number of phases (>= 1)."""

    def analytic_mean(self) -> float:
        """Mean in seconds."""
        return self.mean


class ParetoDistSpec(SpecModel):
    """Bounded Pareto durations on [low, high]: heavy-tailed but finite."""

    dist: Literal["pareto"] = "pareto"
    low: PositiveDuration
    """Smallest duration, seconds (> 0)."""
    high: PositiveDuration
    """Largest duration, seconds (> low)."""
    alpha: PositiveNumber
    """Tail index; smaller is heavier."""

    @model_validator(mode="after")
    def _ordered(self) -> ParetoDistSpec:
        if self.low >= self.high:
            raise spec_error(f"high must be greater than low ({self.low:g}s); got {self.high:g}s", "high")
        return self

    def analytic_mean(self) -> float:
        """Mean in seconds of the bounded Pareto distribution."""
        low, high, alpha = self.low, self.high, self.alpha
        if math.isclose(alpha, 1.0):
            return high * low / (high - low) * math.log(high / low)
        scale = low**alpha / (1 - (low / high) ** alpha)
        return scale * alpha / (alpha - 1) * (low ** (1 - alpha) - high ** (1 - alpha))


class EmpiricalDistSpec(SpecModel):
    """Durations resampled from observations, or interpolated between given quantiles."""

    dist: Literal["empirical"] = "empirical"
    samples: Annotated[list[Duration], Field(min_length=1)] | None = None
    """Observed durations, seconds; draws pick one uniformly."""
    quantiles: dict[Fraction, Duration] | None = None
    """Quantile -> duration in seconds, linearly interpolated; needs the keys 0 and 1."""

    @model_validator(mode="after")
    def _one_source(self) -> EmpiricalDistSpec:
        if (self.samples is None) == (self.quantiles is None):
            raise spec_error("give either samples or quantiles" + (", not both" if self.samples else ""))
        if self.quantiles is not None:
            self._check_quantiles(self.quantiles)
        return self

    @staticmethod
    def _check_quantiles(quantiles: dict[float, float]) -> None:
        for end in (0.0, 1.0):
            if end not in quantiles:
                extreme = "minimum" if end == 0 else "maximum"
                raise spec_error(f"quantiles need the key {end:g} (the {extreme})", "quantiles")
        points = sorted(quantiles.items())
        for (p_low, low), (p_high, high) in zip(points, points[1:], strict=False):
            if high < low:
                raise spec_error(f"quantile values must not decrease: p={p_high:g} gives {high:g}s, "
                                 f"below {low:g}s at p={p_low:g}", "quantiles")

    def analytic_mean(self) -> float:
        """Mean in seconds: of the samples, or the integral of the piecewise-linear quantile function."""
        if self.samples is not None:
            return sum(self.samples) / len(self.samples)
        assert self.quantiles is not None
        points = sorted(self.quantiles.items())
        return sum((p1 - p0) * (q0 + q1) / 2 for (p0, q0), (p1, q1) in zip(points, points[1:], strict=False))


def _constant_shorthand(value: Any) -> Any:
    """``service_time: 20ms`` means ``{dist: constant, value: 20ms}``."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


_Dists = Union[  # noqa: UP007 - a Union object is needed at runtime for the discriminator
    ConstantDistSpec, ExponentialDistSpec, UniformDistSpec, NormalDistSpec, LognormalDistSpec,
    GammaDistSpec, ErlangDistSpec, ParetoDistSpec, EmpiricalDistSpec,
]
_TaggedDists = Annotated[_Dists, Field(discriminator="dist")]

DistSpec = Annotated[
    _TaggedDists,
    BeforeValidator(_constant_shorthand, json_schema_input_type=Union[Duration, _TaggedDists]),  # noqa: UP007
]
"""Any distribution spec; a bare duration such as ``"20ms"`` is shorthand for a constant."""

Dist = DistSpec


class ZipfKeysSpec(SpecModel):
    """Keys drawn with Zipf popularity: key i (0-based rank) has weight 1 / (i + 1)^alpha."""

    dist: Literal["zipf"] = "zipf"
    alpha: PositiveNumber
    """Skew; around 0.8-1.2 for web traffic."""
    catalog: Annotated[Count, Field(ge=1)]
    """Number of distinct keys."""


class UniformKeysSpec(SpecModel):
    """Keys drawn uniformly from the catalog."""

    dist: Literal["uniform"] = "uniform"
    catalog: Annotated[Count, Field(ge=1)]
    """Number of distinct keys."""


KeysSpec = Annotated[Union[ZipfKeysSpec, UniformKeysSpec], Field(discriminator="dist")]  # noqa: UP007
"""Which keys requests ask a cache for."""
