"""Specs of the defences that limit load: rate limits, load shedding, retry budgets, adaptive
client-side throttling.

They share one idea — refuse some work early so the rest is served — and differ in where they
sit: a rate limit and a shedder at a component's entry, a retry budget and adaptive throttling
in the client (a workload) or on a call edge. See ``docs/defences.md`` for the exact semantics.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import PositiveNumber, StrictBool, spec_error
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Count, Fraction, PositiveDuration, Rate

_ALGORITHM_KEYS = {
    "token_bucket": ("rate", "burst"),
    "leaky_bucket": ("rate", "capacity"),
    "fixed_window": ("limit", "window"),
    "sliding_log": ("limit", "window"),
    "sliding_window_counter": ("limit", "window"),
}

ENTRY_KINDS = ("service", "load_balancer", "database", "cache", "external")


class RateLimitSpec(MitigationBase):
    """A rate limiter at a component's entry: every caller goes through it; refusals end as
    ``rate_limited``."""

    TARGETS: ClassVar[tuple[str, ...]] = ENTRY_KINDS
    kind: Literal["rate_limit"] = "rate_limit"
    algorithm: Literal["token_bucket", "leaky_bucket", "fixed_window", "sliding_log",
                       "sliding_window_counter"] = "token_bucket"
    """Which of the five algorithms (see docs/defences.md)."""
    rate: Rate | None = None
    """token_bucket: refill, tokens per second; leaky_bucket: drain rate, requests per second."""
    burst: Annotated[Count, Field(ge=1)] | None = None
    """token_bucket: bucket size (tokens; it starts full)."""
    capacity: Count | None = None
    """leaky_bucket: requests that may wait in the bucket (0: none wait)."""
    limit: Annotated[Count, Field(ge=1)] | None = None
    """Window algorithms: requests admitted per window."""
    window: PositiveDuration | None = None
    """Window algorithms: window length, seconds."""
    per: Literal["global", "workload", "client"] = "global"
    """One limiter for all, one per workload, or one per client (the workload's ``clients``)."""

    @model_validator(mode="after")
    def _keys_for_algorithm(self) -> RateLimitSpec:
        wanted = _ALGORITHM_KEYS[self.algorithm]
        for key in wanted:
            if getattr(self, key) is None:
                raise spec_error(f"{self.algorithm} needs {' and '.join(wanted)}", key)
        for key in {k for keys in _ALGORITHM_KEYS.values() for k in keys} - set(wanted):
            if getattr(self, key) is not None:
                raise spec_error(f"{self.algorithm} takes {' and '.join(wanted)}, not {key}", key)
        return self


class LoadSheddingSpec(MitigationBase):
    """Drop work a service cannot serve in time; shed work ends as ``shed``."""

    TARGETS: ClassVar[tuple[str, ...]] = ("service",)
    kind: Literal["load_shedding"] = "load_shedding"
    strategy: Literal["queue_length", "queue_delay", "codel"] = "queue_length"
    """What signals overload: a long queue (at arrival), a long wait (at dequeue), or CoDel."""
    max_queue: Count | None = None
    """queue_length: shed arrivals while a replica has this many waiting."""
    max_delay: PositiveDuration | None = None
    """queue_delay: shed work that waited longer than this, seconds, when it reaches a worker."""
    delay_target: PositiveDuration = 0.005
    """codel: the acceptable standing queueing delay, seconds (CoDel's TARGET; ``target`` names
    the service)."""
    interval: PositiveDuration = 0.1
    """codel: how long the delay must stay above ``delay_target`` before dropping, seconds."""
    lifo_under_overload: StrictBool = False
    """Serve the newest waiting request first while shedding."""

    @model_validator(mode="after")
    def _keys_for_strategy(self) -> LoadSheddingSpec:
        needs = {"queue_length": "max_queue", "queue_delay": "max_delay"}.get(self.strategy)
        if needs and getattr(self, needs) is None:
            raise spec_error(f"strategy {self.strategy} needs {needs}", needs)
        return self


class RetryBudgetSpec(MitigationBase):
    """Finagle's retry budget: retries may add at most ``ratio`` of the requests (plus a floor)."""

    TARGETS: ClassVar[tuple[str, ...]] = ("workload", "edge")
    kind: Literal["retry_budget"] = "retry_budget"
    ratio: Fraction = 0.2
    """Retries allowed per request, over the ``ttl`` window."""
    min_per_second: Annotated[float, Field(ge=0)] = 10.0
    """Retries always allowed per second, whatever the traffic."""
    ttl: PositiveDuration = 10.0
    """How long a deposit stays in the budget, seconds."""

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """On a call edge there must be retries to budget."""
        caller, sep, callee = (part.strip() for part in self.target.partition("->"))
        if not sep:
            return []
        if caller in {w.name for w in scenario.workload}:
            return [(("target",), f"{caller}->{callee} is a workload's entry, not a service's call; "
                                  f"to budget the client's retries, target the workload ('{caller}')")]
        component = scenario.components_by_name.get(caller)
        calls = [c for c in getattr(component, "calls", ()) if getattr(c, "target", None) == callee]
        if calls and all(c.retry is None for c in calls):
            return [(("target",), f"the call {caller}->{callee} has no retry to budget; give it "
                                  f"calls: [{{target: {callee}, retry: {{max_attempts: ...}}}}] or "
                                  f"budget the workload's client")]
        return []


class AdaptiveThrottlingSpec(MitigationBase):
    """Client-side throttling (Google SRE book): reject locally with probability
    ``max(0, (requests - k*accepts) / (requests + 1))`` over the last ``window``."""

    TARGETS: ClassVar[tuple[str, ...]] = ("workload",)
    kind: Literal["adaptive_throttling"] = "adaptive_throttling"
    k: Annotated[PositiveNumber, Field(ge=1)] = 2.0
    """Accepts multiplier: 2 lets through about twice what the backend accepts."""
    window: PositiveDuration = 120.0
    """Trailing window of the request and accept counts, seconds."""


LIMIT_SPECS: tuple[type, ...] = (RateLimitSpec, LoadSheddingSpec, RetryBudgetSpec, AdaptiveThrottlingSpec)
"""Kinds of this module, for ``DEFENCE_SPECS``."""
