"""``kind: circuit_breaker`` — the spec of a circuit breaker on a call edge ``caller->callee``.

Keys left out take their value from ``preset``, so ``{preset: hystrix}`` alone is a complete
Hystrix breaker and any key given overrides the preset. The numbers are the libraries' own
defaults (resilience4j ``CircuitBreakerConfig``; Hystrix ``HystrixCommandProperties``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from simulator.scenario.base import PositiveInt
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Fraction, PositiveDuration

PRESETS: dict[str, dict[str, Any]] = {
    "resilience4j": {
        "window_type": "count", "window_size": 100, "minimum_calls": 100,
        "failure_rate_threshold": 0.5, "slow_call_duration": 60.0, "slow_call_rate_threshold": 1.0,
        "wait_in_open": 60.0, "permitted_calls_in_half_open": 10,
    },
    # Hystrix: a 10 s rolling window (metrics.rollingStats), requestVolumeThreshold 20,
    # errorThresholdPercentage 50, sleepWindowInMilliseconds 5000, then one trial request.
    # Hystrix has no slow-call rule (its own timeouts count as errors): slow calls are off.
    "hystrix": {
        "window_type": "time", "window_size": 10, "minimum_calls": 20,
        "failure_rate_threshold": 0.5, "slow_call_duration": float("inf"), "slow_call_rate_threshold": 1.0,
        "wait_in_open": 5.0, "permitted_calls_in_half_open": 1,
    },
}
"""Defaults per preset, in the units of the keys (seconds, fractions)."""

Percent = Fraction  # thresholds are written "50%" or 0.5


class CircuitBreakerSpec(MitigationBase):
    """A circuit breaker on one call edge: stops calling a failing or slow dependency for a while
    (calls are refused at once as ``short_circuited``), then probes it with a few trial calls."""

    TARGETS: ClassVar[tuple[str, ...]] = ("edge",)
    kind: Literal["circuit_breaker"] = "circuit_breaker"
    preset: Literal["resilience4j", "hystrix"] = "resilience4j"
    """Where the keys left out take their values from."""
    window_type: Literal["count", "time"] | None = None
    """``count``: the last ``window_size`` calls; ``time``: the calls of the last ``window_size`` seconds."""
    window_size: PositiveInt | None = None
    """Calls (count window) or whole seconds (time window)."""
    minimum_calls: PositiveInt | None = None
    """Calls in the window before a rate is judged at all."""
    failure_rate_threshold: Percent | None = Field(default=None, gt=0)
    """Open when the share of failed calls is at or above this."""
    slow_call_duration: PositiveDuration | None = None
    """A call that takes longer than this (seconds) is slow."""
    slow_call_rate_threshold: Percent | None = Field(default=None, gt=0)
    """Open when the share of slow calls is at or above this."""
    wait_in_open: PositiveDuration | None = None
    """Time the breaker stays open before it lets trial calls through, seconds."""
    permitted_calls_in_half_open: PositiveInt | None = None
    """Trial calls admitted in half-open; their results close or reopen it."""

    def resolved(self) -> dict[str, Any]:
        """Every parameter, the preset filling in what the scenario left out."""
        values = dict(PRESETS[self.preset])
        for key in values:
            given = getattr(self, key)
            if given is not None:
                values[key] = given
        return values
