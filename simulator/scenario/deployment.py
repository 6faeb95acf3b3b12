"""The ``kind: deployment`` spec: a new version of a service released by big bang, canary or
blue-green, with automatic analysis and rollback.

The traffic split follows a service mesh (Istio, Argo Rollouts with traffic routing): each
request that reaches the service goes to the new version with the current weight. A canary steps
through ``steps`` (each held for ``bake``), comparing the new version's error rate and p99 with
the old version's over that step; blue-green moves all traffic at once and judges the new
version after ``detection``; big bang moves all traffic and never looks back.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, PositiveFloat, model_validator

from simulator.scenario.base import NonNegativeInt, SpecModel, spec_error
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Duration, Fraction, PositiveDuration

DEFAULT_STEPS = (0.05, 0.25, 0.5, 1.0)
"""Canary weights when ``steps`` is not given: 5%, 25%, 50%, 100%."""
DEFAULT_WAIT = 60.0
"""Bake time of a canary step and blue-green detection delay when not given, seconds."""
UNUSED = {"big_bang": ("steps", "bake", "detection", "rollback_on"),
          "canary": ("detection",), "blue_green": ("steps", "bake")}
"""Keys each strategy has no use for: setting one is an error rather than silently ignored."""


class RollbackRuleSpec(SpecModel):
    """When the analysis of a step fails: the new version against the old one over the same time."""

    error_rate: Fraction | None = 0.01
    """Roll back when the new version's error rate exceeds the old one's by more than this many
    percentage points (``1%``: 1.2% against 0.1% fails); none: do not judge errors."""
    p99_ratio: Annotated[PositiveFloat, Field(ge=1.0)] | None = 1.5
    """Roll back when the new version's p99 (ok answers) is more than this times the old one's;
    none: do not judge latency."""
    min_requests: NonNegativeInt = 50
    """Answers each version needs in the analysis window for a verdict; with fewer the step is
    inconclusive and keeps baking (as Argo Rollouts pauses on an inconclusive analysis)."""

    @model_validator(mode="after")
    def _judges_something(self) -> RollbackRuleSpec:
        if self.error_rate is None and self.p99_ratio is None:
            raise spec_error("set error_rate and/or p99_ratio (both none would never roll back; "
                             "use strategy: big_bang for that)", "error_rate")
        return self


class DeploymentSpec(MitigationBase):
    """A release of a new version of one service at ``at``, by ``strategy``."""

    TARGETS: ClassVar[tuple[str, ...]] = ("service",)
    kind: Literal["deployment"] = "deployment"
    at: Duration
    """When the release starts, seconds from the start of the run."""
    strategy: Literal["big_bang", "canary", "blue_green"] = "canary"
    """``big_bang``: all traffic at once, no analysis; ``canary``: traffic in ``steps`` with
    analysis after each ``bake``; ``blue_green``: all traffic at once, analysed after ``detection``
    and switched back if it fails."""
    error_rate: Fraction = 0.0
    """Probability that the new version fails a request, on top of the service's own failures."""
    factor: PositiveFloat = 1.0
    """The new version's service time, as a multiple of the old one's (2: twice as slow)."""
    steps: Annotated[list[Annotated[Fraction, Field(gt=0)]], Field(min_length=1)] | None = None
    """Canary only: traffic shares of the new version, strictly increasing, at most 100% (none:
    5%, 25%, 50%, 100%). After the last step bakes without failing, the new version takes all
    traffic."""
    bake: PositiveDuration | None = None
    """Canary only: how long each step runs before its analysis, seconds (none: 60s)."""
    detection: PositiveDuration | None = None
    """Blue-green only: how long after the switch the new version is judged, seconds (none: 60s)."""
    rollback_on: RollbackRuleSpec | None = None
    """Canary and blue-green: when the analysis fails and traffic goes back to the old version
    (none: the defaults of :class:`RollbackRuleSpec`)."""

    @model_validator(mode="after")
    def _consistent(self) -> DeploymentSpec:
        steps = self.steps or []
        for index in range(1, len(steps)):
            if steps[index] <= steps[index - 1]:
                raise spec_error(f"canary steps must increase; {steps[index]:.0%} follows "
                                 f"{steps[index - 1]:.0%}", ("steps", index))
        for key in UNUSED[self.strategy]:
            if getattr(self, key) is not None:
                raise spec_error(f"{key} does not apply to strategy {self.strategy} (a variant that "
                                 f"changes the strategy can set it to null)", key)
        return self

    @property
    def canary_steps(self) -> tuple[float, ...]:
        return DEFAULT_STEPS if self.steps is None else tuple(self.steps)

    @property
    def bake_time(self) -> float:
        return DEFAULT_WAIT if self.bake is None else self.bake

    @property
    def detection_time(self) -> float:
        return DEFAULT_WAIT if self.detection is None else self.detection

    @property
    def rule(self) -> RollbackRuleSpec:
        return RollbackRuleSpec() if self.rollback_on is None else self.rollback_on

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """The release must start inside the run."""
        if self.at >= scenario.duration:
            return [(("at",), f"at {self.at:g}s is beyond the run ({scenario.duration:g}s)")]
        return []


CHANGE_SPECS: tuple[type, ...] = (DeploymentSpec,)
"""Release kinds, assembled into the ``mitigations:`` union with the capacity kinds."""
