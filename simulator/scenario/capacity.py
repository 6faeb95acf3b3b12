"""Capacity and change specs: scheduled scaling (pre-scaling), autoscaling and releases.

Each spec subclasses :class:`~simulator.scenario.mitigation_base.MitigationBase` with a
``kind: Literal[...]``; list it in :data:`CAPACITY_SPECS`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from simulator.scenario.autoscaling import AutoscalerSpec
from simulator.scenario.base import NonNegativeInt, SpecModel, spec_error
from simulator.scenario.deployment import CHANGE_SPECS
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import Duration


class ScheduleStepSpec(SpecModel):
    """From ``at`` on, the target runs (at least) ``replicas`` replicas."""

    at: Duration
    """When the step applies, seconds from the start of the run."""
    replicas: NonNegativeInt
    """Replicas from then on (a floor when an autoscaler also acts)."""


class ScheduleSpec(MitigationBase):
    """Pre-scaling: set a service's or database's replica count at known times (ahead of a daily
    peak or an announced event). New replicas serve after ``startup``; removed ones drain first."""

    TARGETS: ClassVar[tuple[str, ...]] = ("service", "database")
    kind: Literal["schedule"] = "schedule"
    steps: Annotated[list[ScheduleStepSpec], Field(min_length=1)]
    """Steps sorted by ``at``."""
    startup: Duration = 0.0
    """Time before a new replica serves, seconds."""

    @model_validator(mode="after")
    def _sorted(self) -> ScheduleSpec:
        for index in range(1, len(self.steps)):
            if self.steps[index].at < self.steps[index - 1].at:
                raise spec_error("steps must be sorted by at", ("steps", index, "at"))
        return self

    def check(self, scenario) -> list[tuple[tuple, str]]:
        """Steps must fall inside the run."""
        return [(("steps", i, "at"), f"at {step.at:g}s is beyond the run ({scenario.duration:g}s)")
                for i, step in enumerate(self.steps) if step.at >= scenario.duration]


CAPACITY_SPECS: tuple[type, ...] = (ScheduleSpec, AutoscalerSpec, *CHANGE_SPECS)
"""Capacity kinds, assembled into the ``mitigations:`` union by ``simulator.scenario.mitigations``."""
