"""Fault specs: what breaks, where, when and for how long (the ``faults:`` list).

Every fault has a ``kind``, a ``name`` (used in events, metrics such as ``time_to_detect.<name>``
and its random streams ``fault.<name>.*``), a ``target``, a start ``at`` and an optional ``for``
(absent: until the end of the run). Faults that hit replicas may pick them with ``replicas``: a
count (the first N), a percentage of the group, or a list of indices. Which names exist, and
whether the target is of a kind the fault can hit, is checked once the whole scenario is known
(``simulator.scenario.references``). What each kind does to work in flight is documented in
``docs/faults.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simulator.scenario.base import Name, NonNegativeInt, PositiveInt, PositiveNumber, SpecModel, spec_error
from simulator.units import Duration, Fraction, PositiveDuration, parse_fraction

ReplicaIndices = list[NonNegativeInt]


def _replicas(value: Any) -> Any:
    """``replicas: 2`` (the first two), ``replicas: 50%`` or ``replicas: [0, 3]``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return {"fraction": parse_fraction(value)}
    if isinstance(value, bool):
        return value  # rejected below as not a count
    if isinstance(value, int):
        return {"count": value}
    if isinstance(value, list):
        return {"indices": value}
    return value


class ReplicaSelection(SpecModel):
    """Which replicas of the target a fault hits (exactly one of the three)."""

    count: PositiveInt | None = None
    """The first ``count`` replicas."""
    fraction: Fraction | None = None
    """This share of the replicas, rounded up (at least one)."""
    indices: ReplicaIndices | None = None
    """These replica indices (0-based)."""

    def resolve(self, n: int) -> list[int]:
        """The chosen indices among ``n`` replicas (validated against n by the references check)."""
        if self.indices is not None:
            return sorted(set(self.indices))
        if self.count is not None:
            return list(range(min(self.count, n)))
        import math

        return list(range(max(1, math.ceil((self.fraction or 0.0) * n - 1e-9))))


Replicas = Annotated[
    ReplicaSelection,
    BeforeValidator(_replicas, json_schema_input_type=Union[int, str, list[int]]),  # noqa: UP007
]


class _Fault(SpecModel):
    name: Name
    """Fault name: in events, metrics (``time_to_detect.<name>``) and random streams."""
    at: Duration
    """When the fault starts, seconds from the start of the run."""
    duration: PositiveDuration | None = Field(default=None, alias="for")
    """How long it lasts, seconds (``for:``; absent: until the end of the run)."""

    model_config = SpecModel.model_config | {"populate_by_name": True}

    @property
    def end(self) -> float | None:
        """When the fault ends (seconds), or None if it lasts to the end of the run."""
        return None if self.duration is None else self.at + self.duration


class _ReplicaFault(_Fault):
    target: str
    """Component hit (a service or database hits replicas; other kinds fail as a whole)."""
    replicas: Replicas | None = None
    """Which replicas: a count, a percentage or indices (absent: all of them)."""


class CrashFaultSpec(_ReplicaFault):
    """The process dies: in-flight work ends as error, new connections are refused."""

    kind: Literal["crash"] = "crash"
    restart_after: PositiveDuration | None = None
    """Restart this long after the crash (absent: after ``for``, or never without one)."""
    startup: Duration = 0.0
    """Start-up time after a restart before the replica serves again, seconds."""

    @model_validator(mode="after")
    def _one_end(self) -> CrashFaultSpec:
        if self.restart_after is not None and self.duration is not None:
            raise spec_error("give either 'for' or 'restart_after' (they both say when it restarts)",
                             "restart_after")
        return self

    @property
    def end(self) -> float | None:
        span = self.restart_after if self.restart_after is not None else self.duration
        return None if span is None else self.at + span


class HangFaultSpec(_ReplicaFault):
    """Deadlock or black hole: connections are accepted, nothing is answered; restarted after ``for``."""

    kind: Literal["hang"] = "hang"


class PauseFaultSpec(_ReplicaFault):
    """Stop-the-world pause (GC): nothing progresses, nothing is lost; work resumes after ``for``."""

    kind: Literal["pause"] = "pause"
    duration: PositiveDuration = Field(alias="for")
    """How long the pause lasts, seconds (required)."""


class SlowFaultSpec(_ReplicaFault):
    """Service time multiplied by ``factor`` and/or ``extra`` added (a slow disk, a bad query plan)."""

    kind: Literal["slow"] = "slow"
    factor: PositiveNumber = 1.0
    """Service-time multiplier."""
    extra: Duration = 0.0
    """Seconds added to every service time."""

    @model_validator(mode="after")
    def _does_something(self) -> SlowFaultSpec:
        if self.factor == 1.0 and self.extra == 0.0:
            raise spec_error("a slow fault needs factor != 1 or extra > 0")
        return self


class ErrorsFaultSpec(_ReplicaFault):
    """An extra error rate: each request fails with probability ``rate`` after its work."""

    kind: Literal["errors"] = "errors"
    rate: Fraction
    """Extra failure probability per request."""


class CapacityFaultSpec(_ReplicaFault):
    """A noisy neighbour: each hit replica keeps only part of its workers or connections."""

    kind: Literal["capacity"] = "capacity"
    workers: NonNegativeInt | None = None
    """Workers (or connections) left per replica."""
    fraction: Fraction | None = None
    """Share of the workers left per replica (rounded down)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> CapacityFaultSpec:
        if (self.workers is None) == (self.fraction is None):
            raise spec_error("give exactly one of 'workers' (left per replica) or 'fraction' (share left)")
        return self


class PartitionFaultSpec(_Fault):
    """Two sets of components cannot reach each other; calls across fail after ``connect_timeout``."""

    kind: Literal["partition"] = "partition"
    between: Annotated[list[Annotated[list[str], Field(min_length=1)]], Field(min_length=2, max_length=2)]
    """The two sides, e.g. ``[[app], [db, cache]]``."""
    connect_timeout: PositiveDuration = 1.0
    """Time a caller waits before a call across fails as unavailable, seconds."""


class PacketLossFaultSpec(_Fault):
    """A share of the calls on one edge are lost: the caller hears nothing and times out."""

    kind: Literal["packet_loss"] = "packet_loss"
    target: str
    """The call edge, written ``caller->callee`` (the caller may be a workload)."""
    fraction: Fraction
    """Share of calls lost."""
    timeout: PositiveDuration = 1.0
    """The caller's socket timeout: a lost call ends as timeout after it, seconds."""


class CacheFlushFaultSpec(_Fault):
    """A cache loses all or part of its entries at ``at`` (a restart, a bad deploy, a FLUSHALL)."""

    kind: Literal["cache_flush"] = "cache_flush"
    target: str
    """The cache."""
    fraction: Fraction = 1.0
    """Share of the entries lost."""


class RegionOutageFaultSpec(_Fault):
    """Every component tagged with ``region`` crashes for the window."""

    kind: Literal["region_outage"] = "region_outage"
    region: Name
    """The region that goes dark."""


class DbPrimaryFailureFaultSpec(_Fault):
    """The primary dies; writes fail until a read replica is promoted after ``promotion_delay``."""

    kind: Literal["db_primary_failure"] = "db_primary_failure"
    target: str
    """The database."""
    promotion_delay: PositiveDuration = 30.0
    """Detection plus promotion time before a replica takes writes, seconds."""


class SurgeFaultSpec(_Fault):
    """A workload's rate multiplied by ``factor`` for the window (extra requests on top)."""

    kind: Literal["surge"] = "surge"
    target: str
    """The workload."""
    factor: Annotated[PositiveNumber, Field(gt=1)]
    """Rate multiplier at the top of the surge (> 1)."""
    rise: Duration = 0.0
    """Time to ramp up to the full factor, seconds."""
    decay: Duration = 0.0
    """Time to ramp back down after ``for``, seconds."""


class BurstFaultSpec(_Fault):
    """``count`` requests of a workload arrive at once (every cron job firing at 00:00)."""

    kind: Literal["burst"] = "burst"
    target: str
    """The workload."""
    count: PositiveInt
    """Requests released at ``at``."""


class TrafficDropFaultSpec(_Fault):
    """An upstream outage: a fraction ``drop`` of a workload's arrivals never come in the window."""

    kind: Literal["traffic_drop"] = "traffic_drop"
    target: str
    """The workload (open-loop arrivals)."""
    drop: Fraction
    """The fraction of arrivals that never come (``70%``: 70% fewer arrivals); the rest arrive at
    the times they would have without the fault."""


FaultSpec = Annotated[
    Union[CrashFaultSpec, HangFaultSpec, PauseFaultSpec, SlowFaultSpec, ErrorsFaultSpec,  # noqa: UP007
          CapacityFaultSpec, PartitionFaultSpec, PacketLossFaultSpec, CacheFlushFaultSpec,
          RegionOutageFaultSpec, DbPrimaryFailureFaultSpec, SurgeFaultSpec, BurstFaultSpec,
          TrafficDropFaultSpec],
    Field(discriminator="kind"),
]
"""Any fault, chosen by ``kind``."""

REPLICA_FAULTS = ("crash", "hang", "pause", "slow", "errors", "capacity")
TRAFFIC_FAULTS = ("surge", "burst", "traffic_drop")
