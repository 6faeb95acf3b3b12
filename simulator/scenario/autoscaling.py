"""The ``kind: autoscaler`` spec: a Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on a service.

The keys mirror the HPA's own (``minReplicas``, ``maxReplicas``, ``behavior.scaleUp`` ...) in
snake_case, and the defaults are Kubernetes' defaults, so a scenario can copy a real HPA manifest.
What the keys mean at run time is in :mod:`simulator.mitigations.hpa` and ``docs/capacity.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator

from simulator.scenario.base import PositiveInt, SpecModel, spec_error
from simulator.scenario.dists import DistSpec
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Duration, Fraction, PositiveDuration, parse_fraction, parse_number

STARTUP_PRESETS: dict[str, float] = {"container": 5.0, "vm": 90.0}
"""Start-up delays (seconds) of the named presets: a container whose image is cached and whose
process is ready after a few seconds; a VM that boots, joins and passes its checks in 1.5 minutes."""


def _startup(value: Any) -> Any:
    """``startup: container`` and ``startup: vm`` are presets for a constant delay."""
    if isinstance(value, str) and value in STARTUP_PRESETS:
        return {"dist": "constant", "value": STARTUP_PRESETS[value]}
    return value


def _target_value(value: Any) -> Any:
    """``60%`` is a fraction; a bare number is taken as written (requests per replica)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return parse_fraction(value)
    return parse_number(value)


Startup = Annotated[DistSpec, BeforeValidator(_startup)]
TargetValue = Annotated[float, BeforeValidator(_target_value), Field(gt=0)]


class ScalingPolicySpec(SpecModel):
    """At most ``value`` pods (or percent of the replicas at the start of the period) per ``period``."""

    type: Literal["pods", "percent"]
    """Whether ``value`` counts pods or percent of the replicas."""
    value: PositiveInt
    """Pods, or percent of the replica count at the start of the period."""
    period: Annotated[PositiveDuration, Field(le=1800)]
    """The sliding window the change is counted over, seconds (Kubernetes allows up to 30 min)."""


class ScalingRulesSpec(SpecModel):
    """One direction of ``behavior``; a key left out takes the Kubernetes default of its direction."""

    stabilization_window: Annotated[Duration, Field(le=3600)] | None = None
    """Seconds of past recommendations considered (scale up: the lowest; scale down: the highest)."""
    policies: Annotated[list[ScalingPolicySpec], Field(min_length=1)] | None = None
    """Rate limits; ``select`` chooses between them."""
    select: Literal["max", "min", "disabled"] = "max"
    """``max``: the policy allowing the largest change; ``min``: the smallest; ``disabled``: none."""


class BehaviorSpec(SpecModel):
    """``behavior:`` of an HPA: scale-up and scale-down rules."""

    scale_up: ScalingRulesSpec = ScalingRulesSpec()
    """Rules for adding replicas (Kubernetes default: no stabilization; +100% or +4 pods per 15s)."""
    scale_down: ScalingRulesSpec = ScalingRulesSpec()
    """Rules for removing replicas (Kubernetes default: 300s stabilization; -100% per 15s)."""


METRIC_LIMITS = {"utilization": 1.0}
"""Targets that cannot exceed a bound (utilization is a fraction of the worker-seconds)."""


class AutoscalerSpec(MitigationBase):
    """Reactive scaling of a service (or a database's read replicas; its count includes the
    primary) by the Kubernetes HPA algorithm (ratio, tolerance, stabilization windows, rate
    policies), on a sampled metric every ``sync_period``."""

    TARGETS: ClassVar[tuple[str, ...]] = ("service", "database")
    kind: Literal["autoscaler"] = "autoscaler"
    metric: Literal["utilization", "in_flight", "queue_length"] = "utilization"
    """Per ready replica: busy share of the workers over the last sync period, or requests in
    the replica (queued + in service), or queued requests, at the sync."""
    target_value: TargetValue
    """The per-replica value aimed at: ``60%`` for utilization, a count for the others."""
    tolerance: Fraction = 0.1
    """No change while ``|metric / target - 1|`` is at most this (Kubernetes: 10%)."""
    sync_period: PositiveDuration = 15.0
    """Seconds between two decisions (Kubernetes: ``--horizontal-pod-autoscaler-sync-period``, 15s)."""
    min_replicas: PositiveInt = 1
    """Fewest replicas the autoscaler keeps."""
    max_replicas: PositiveInt
    """Most replicas the autoscaler starts."""
    behavior: BehaviorSpec = BehaviorSpec()
    """Stabilization windows and rate policies per direction, as in an HPA's ``behavior``."""
    startup: Startup = Field(default_factory=lambda: _startup("container"), validate_default=True)
    """Delay before a new replica serves: ``container`` (5s), ``vm`` (90s), a duration or a
    distribution ``{dist: ...}`` drawn per replica from the stream ``mitigation.<name>.startup``."""

    @model_validator(mode="after")
    def _consistent(self) -> AutoscalerSpec:
        if self.min_replicas > self.max_replicas:
            raise spec_error(f"min_replicas ({self.min_replicas}) is above max_replicas "
                             f"({self.max_replicas})", "min_replicas")
        limit = METRIC_LIMITS.get(self.metric)
        if limit is not None and self.target_value > limit:
            raise spec_error(f"a {self.metric} target must be at most 100%; got {self.target_value:g}",
                             "target_value")
        percent = self.target_value * 100
        if self.metric == "utilization" and abs(percent - round(percent)) > 1e-9:
            raise spec_error("a utilization target is a whole percent, as Kubernetes' averageUtilization; "
                             f"got {percent:g}%", "target_value")
        return self

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """The sync period must fit in the run, or the autoscaler never acts."""
        if self.sync_period >= scenario.duration:
            return [(("sync_period",), f"{self.sync_period:g}s is not shorter than the run "
                                       f"({scenario.duration:g}s): the autoscaler would never act")]
        return []
