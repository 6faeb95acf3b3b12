"""The typed scenario: ``ScenarioSpec`` and, re-exported, every spec it is made of.

A scenario file is validated once, at the edge, into these frozen models; model code reads
specs, never raw dicts. Field docstrings state units and end up in ``model_json_schema()``.
The spec models themselves live in small modules by topic (dists, workload, components).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from simulator.scenario.alert_actions import action_problems
from simulator.scenario.alerts import AlertSpec, alert_problems
from simulator.scenario.base import Loc, NonNegativeInt, PositiveInt, SpecModel, spec_error, spec_errors
from simulator.scenario.cache_checks import cache_data_problems
from simulator.scenario.components import (
    CacheSpec,
    CallSpec,
    ComponentSpec,
    DatabaseSpec,
    DnsSpec,
    ExternalSpec,
    GlobalRouterSpec,
    LoadBalancerSpec,
    QueueSpec,
    RegistrySpec,
    ServiceSpec,
)
from simulator.scenario.data_checks import data_problems, data_reach_problems, database_data_problems
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
from simulator.scenario.expectations import ExpectationSpec, expectation_problems
from simulator.scenario.fault_checks import fault_target_problems, fault_timing_problems
from simulator.scenario.faults import FaultSpec
from simulator.scenario.mitigation_checks import mitigation_problems
from simulator.scenario.mitigations import MitigationSpec
from simulator.scenario.names import check_label, variant_name_problems
from simulator.scenario.references import duplicate_name_problems, reference_problems
from simulator.scenario.slo import SloSpec
from simulator.scenario.workload import (
    ArrivalsSpec,
    BatchArrivalsSpec,
    ClientSpec,
    ClosedArrivalsSpec,
    CsvProfileSpec,
    DeterministicArrivalsSpec,
    DiurnalProfileSpec,
    OperationsSpec,
    PoissonArrivalsSpec,
    ProfileSpec,
    RetrySpec,
    SpikeProfileSpec,
    StepSpec,
    StepsProfileSpec,
    WorkloadSpec,
    workload_problems,
)
from simulator.units import Duration, PositiveDuration

__all__ = [
    "ArrivalsSpec", "BatchArrivalsSpec", "CacheSpec", "CallSpec", "ClientSpec", "ClosedArrivalsSpec",
    "ComponentSpec", "ConstantDistSpec", "CsvProfileSpec", "DatabaseSpec", "DeterministicArrivalsSpec",
    "Dist", "DistSpec", "DiurnalProfileSpec", "DnsSpec", "EmpiricalDistSpec", "ErlangDistSpec",
    "ExponentialDistSpec", "ExternalSpec", "GammaDistSpec", "GlobalRouterSpec", "KeysSpec",
    "LoadBalancerSpec", "LognormalDistSpec", "NormalDistSpec", "OperationsSpec", "ParetoDistSpec",
    "PoissonArrivalsSpec", "ProfileSpec", "QueueSpec", "RegistrySpec", "RetrySpec", "ScenarioSpec",
    "ServiceSpec", "SpikeProfileSpec", "StepSpec", "StepsProfileSpec",
    "UniformDistSpec", "UniformKeysSpec", "WorkloadSpec", "ZipfKeysSpec",
]


DEFAULT_DRAIN = 60.0
"""Seconds of drain when a client waits forever (no timeout): long enough for a healthy system."""


def client_patience(client: ClientSpec) -> float:
    """The longest a client can spend on one request: every attempt times out and every backoff
    is at its nominal maximum (jitter only shortens it); DEFAULT_DRAIN without a timeout."""
    if client.timeout is None:
        return DEFAULT_DRAIN
    retry = client.retry
    attempts = retry.max_attempts if retry else 1
    waits = 0.0
    for k in range(1, attempts):
        if retry.jitter == "decorrelated":  # U(base, 3 x previous) with previous <= base x 3^(k-1)
            longest = retry.base * 3.0 ** k
        elif retry.backoff == "constant":
            longest = retry.base
        else:
            longest = retry.base * 2.0 ** (k - 1)
        waits += longest if retry.cap is None else min(retry.cap, longest)
    return attempts * client.timeout + waits


def _warmup_problems(spec: Any) -> list[tuple[Loc, str]]:
    if spec.warmup >= spec.duration:
        return [(("warmup",), f"must be less than duration ({spec.duration:g}s); got {spec.warmup:g}s")]
    return []


CONSISTENCY_CHECKS: tuple[tuple[frozenset[str], Callable[[Any], list[tuple[Loc, str]]]], ...] = (
    (frozenset({"warmup", "duration"}), _warmup_problems),
    (frozenset({"workload"}), lambda spec: duplicate_name_problems(spec.workload, "workload")),
    (frozenset({"components"}), lambda spec: duplicate_name_problems(spec.components, "components")),
    (frozenset({"components"}), lambda spec: reference_problems(spec.workload, spec.components)),
    (frozenset({"components", "duration"}), workload_problems),
    (frozenset({"components", "workload"}), data_problems),
    (frozenset({"faults"}), lambda spec: duplicate_name_problems(spec.faults, "faults")),
    (frozenset({"duration"}), fault_timing_problems),
    (frozenset({"components", "workload"}), fault_target_problems),
    (frozenset({"components", "workload", "faults"}), data_reach_problems),
    (frozenset({"components", "workload"}), cache_data_problems),
    (frozenset({"mitigations"}), lambda spec: duplicate_name_problems(spec.mitigations, "mitigations")),
    (frozenset({"components", "workload", "duration", "faults"}), mitigation_problems),
    (frozenset({"alerts"}), lambda spec: duplicate_name_problems(spec.alerts, "alerts")),
    (frozenset({"alerts", "components", "workload", "duration"}), alert_problems),
    (frozenset({"alerts", "components", "mitigations"}), action_problems),
    (frozenset({"components", "workload"}), database_data_problems),
    (frozenset({"variants"}), lambda spec: variant_name_problems(spec.variants)),
    (frozenset({"variants"}), lambda spec: expectation_problems(spec.expect, spec.variants)),
)
"""Checks across fields, each with the fields it needs whole: when only some entries of a list
validate, the others still get checked against the whole fields (see ``partial``)."""


def consistency_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Everything wrong across the fields of a spec whose fields are each valid on their own."""
    return [problem for _, check in CONSISTENCY_CHECKS for problem in check(spec)]


def _empty_variant(value: Any) -> Any:
    """``variants: {baseline: }`` (YAML null) means a variant with no overrides."""
    if isinstance(value, dict):
        return {name: {} if overrides is None else overrides for name, overrides in value.items()}
    return value


class ScenarioSpec(SpecModel):
    """A complete failure scenario: traffic, the system it hits, and named variants to compare."""

    name: Annotated[str, Field(min_length=1), AfterValidator(check_label)]
    """Scenario name, used for result directories (at most 100 characters, no '$')."""
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
    drain: Duration | None = None
    """After ``duration``, how long the system keeps running (traffic included) so that requests
    that arrived before it can finish, seconds (none: derived from the clients' timeouts and
    retries, or 60s without timeouts). Requests still open after it count as ``incomplete``."""
    sample_interval: PositiveDuration | None = None
    """Time between time-series samples, seconds (none: max(1s, duration / 2000))."""
    workload: Annotated[list[WorkloadSpec], Field(min_length=1, max_length=100)]
    """Request streams entering the system."""
    components: Annotated[list[ComponentSpec], Field(min_length=1)]
    """The system: services, load balancers, databases, caches, external dependencies."""
    faults: list[FaultSpec] = []
    """What breaks, where and when (crashes, hangs, slow dependencies, partitions, surges...)."""
    mitigations: list[MitigationSpec] = []
    """Defences and capacity controls (each can be switched off per variant with ``enabled``)."""
    alerts: list[AlertSpec] = []
    """Alert rules evaluated during the run and scored against the faults (docs/alerts.md)."""
    slo: SloSpec = SloSpec()
    """The service-level objective that recovery metrics (time_to_recover, stuck) are judged by."""
    variants: Annotated[dict[str, dict[str, Any]], BeforeValidator(_empty_variant)] = {}
    """Named sets of dotted-path overrides, e.g. ``{components.app.replicas: 8}``."""
    expect: list[ExpectationSpec] = []
    """Claims about the results that ``cascade check`` verifies (see simulator.scenario.expectations)."""

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioSpec:
        problems = consistency_problems(self)
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
    def effective_drain(self) -> float:
        """Seconds to keep running after ``duration``: ``drain``, else the longest time a client can
        still be waiting for a request that arrived just before the end (see :func:`client_patience`)."""
        if self.drain is not None:
            return self.drain
        return max(client_patience(w.client) for w in self.workload)

    @property
    def effective_sample_interval(self) -> float:
        """Time between time-series samples, seconds: the given one, else max(1 s, duration / 2000)."""
        return self.sample_interval or max(1.0, self.duration / 2000)
