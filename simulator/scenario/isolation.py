"""``kind: bulkhead`` and ``kind: fallback`` — the specs of two call-edge defences that contain a
failing dependency: a cap on concurrent calls, and a degraded answer in place of a failed one."""

from __future__ import annotations

from typing import ClassVar, Literal

from simulator.scenario.base import PositiveInt
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Duration


class BulkheadSpec(MitigationBase):
    """At most ``max_concurrent`` calls in flight on the edge (resilience4j's semaphore bulkhead);
    a call beyond waits up to ``max_wait`` for a slot, in arrival order, else ends ``rejected``."""

    TARGETS: ClassVar[tuple[str, ...]] = ("edge",)
    kind: Literal["bulkhead"] = "bulkhead"
    max_concurrent: PositiveInt
    """Calls in flight at once (resilience4j ``maxConcurrentCalls``, default 25 there)."""
    max_wait: Duration = 0.0
    """Longest wait for a slot, seconds (0: refuse at once, resilience4j's default)."""
    per: Literal["edge", "workload"] = "edge"
    """One pool for the edge, or one pool per workload whose requests use it."""


class FallbackSpec(MitigationBase):
    """When a call on the edge fails or is refused (any outcome but ``ok``), answer ``degraded``
    after ``latency`` instead: a cached or default answer, counted as available."""

    TARGETS: ClassVar[tuple[str, ...]] = ("edge",)
    kind: Literal["fallback"] = "fallback"
    latency: Duration = 0.0
    """Time to produce the fallback answer, seconds."""


ISOLATION_SPECS: tuple[type, ...] = (BulkheadSpec, FallbackSpec)
