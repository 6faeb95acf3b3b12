"""The typed scenario: ``ScenarioSpec`` and, re-exported, every spec it is made of.

A scenario file is validated once, at the edge, into these frozen models; model code reads
specs, never raw dicts. Field docstrings state units and end up in ``model_json_schema()``.
The spec models themselves live in small modules by topic (dists, workload, components).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from simulator.scenario.base import NonNegativeInt, PositiveInt, SpecModel, spec_error, spec_errors
from simulator.scenario.components import (
    CacheSpec,
    CallSpec,
    ComponentSpec,
    DatabaseSpec,
    ExternalSpec,
    LoadBalancerSpec,
    ServiceSpec,
)
from simulator.scenario.dists import (
    ConstantDistSpec,
    Dist,
    DistSpec,
    EmpiricalDistSpec,
    ErlangDistSpec,
    ExponentialDistSpec,
    GammaDistSpec,
    KeysSpec,
    LognormalDistSpec,
    NormalDistSpec,
    ParetoDistSpec,
    UniformDistSpec,
    UniformKeysSpec,
    ZipfKeysSpec,
)
from simulator.scenario.references import duplicate_name_problems, reference_problems
from simulator.scenario.workload import (
    ArrivalsSpec,
    ClientSpec,
    ClosedArrivalsSpec,
    CsvProfileSpec,
    DeterministicArrivalsSpec,
    DiurnalProfileSpec,
    PoissonArrivalsSpec,
    ProfileSpec,
    RetrySpec,
    SpikeProfileSpec,
    StepSpec,
    StepsProfileSpec,
    WorkloadSpec,
)
from simulator.units import Duration, PositiveDuration

__all__ = [
    "ArrivalsSpec", "CacheSpec", "CallSpec", "ClientSpec", "ClosedArrivalsSpec", "ComponentSpec",
    "ConstantDistSpec", "CsvProfileSpec", "DatabaseSpec", "DeterministicArrivalsSpec", "Dist", "DistSpec",
    "DiurnalProfileSpec", "EmpiricalDistSpec", "ErlangDistSpec", "ExponentialDistSpec", "ExternalSpec",
    "GammaDistSpec", "KeysSpec", "LoadBalancerSpec", "LognormalDistSpec", "NormalDistSpec", "ParetoDistSpec",
    "PoissonArrivalsSpec", "ProfileSpec", "RetrySpec", "ScenarioSpec", "ServiceSpec", "SpikeProfileSpec",
    "StepSpec", "StepsProfileSpec", "UniformDistSpec", "UniformKeysSpec", "WorkloadSpec", "ZipfKeysSpec",
]


def _empty_variant(value: Any) -> Any:
    """``variants: {baseline: }`` (YAML null) means a variant with no overrides."""
    if isinstance(value, dict):
        return {name: {} if overrides is None else overrides for name, overrides in value.items()}
    return value


class ScenarioSpec(SpecModel):
    """A complete failure scenario: traffic, the system it hits, and named variants to compare."""

    name: Annotated[str, Field(min_length=1)]
    """Scenario name, used for result directories."""
    description: str = ""
    """What happens and why; the first sentence is shown by ``cascade list``."""
    hypothesis: str = ""
    """What the scenario is expected to show (the claim its variants test)."""
    duration: PositiveDuration
    """Simulated time per run, seconds."""
    warmup: Duration = 0.0
    """Initial time excluded from the metrics, seconds (< duration)."""
    seed: NonNegativeInt = 1
    """Base seed; replication r of every variant uses the same random streams."""
    replications: PositiveInt = 1
    """Independent runs per variant."""
    sample_interval: PositiveDuration | None = None
    """Time between time-series samples, seconds (none: max(1s, duration / 2000))."""
    workload: Annotated[list[WorkloadSpec], Field(min_length=1, max_length=100)]
    """Request streams entering the system."""
    components: Annotated[list[ComponentSpec], Field(min_length=1)]
    """The system: services, load balancers, databases, caches, external dependencies."""
    variants: Annotated[dict[str, dict[str, Any]], BeforeValidator(_empty_variant)] = {}
    """Named sets of dotted-path overrides, e.g. ``{components.app.replicas: 8}``."""

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        problems = []
        if self.warmup >= self.duration:
            problems.append((("warmup",), f"must be less than duration ({self.duration:g}s); "
                                          f"got {self.warmup:g}s"))
        problems += duplicate_name_problems(self.workload, "workload")
        problems += duplicate_name_problems(self.components, "components")
        problems += reference_problems(self.workload, self.components)
        if len(problems) == 1:
            raise spec_error(problems[0][1], problems[0][0])
        if problems:
            raise spec_errors(problems)
        return self

    @property
    def components_by_name(self) -> dict[str, ComponentSpec]:
        """Components keyed by name, in file order."""
        return {component.name: component for component in self.components}

    def component(self, name: str) -> ComponentSpec:
        """The component called ``name``; KeyError naming the known components otherwise."""
        try:
            return self.components_by_name[name]
        except KeyError:
            known = ", ".join(self.components_by_name)
            raise KeyError(f"no component named {name!r}; known: {known}") from None

    @property
    def effective_sample_interval(self) -> float:
        """Time between time-series samples, seconds: the given one, else max(1 s, duration / 2000)."""
        return self.sample_interval or max(1.0, self.duration / 2000)
