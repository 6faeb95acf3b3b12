"""Workload specs: how requests arrive (pattern and profile over time) and how clients behave.

Open-loop arrivals (poisson, deterministic) keep arriving whatever the system does, which is
what makes overload possible; a profile scales their rate over time. Closed-loop users wait
for each answer, and a batch job releases its items at its own times (all at once or chunk by
chunk), so a profile would not mean anything for either.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, NonNegativeFloat, model_validator

from simulator.scenario.base import Loc, Name, SpecModel, StrictBool, spec_error
from simulator.scenario.dists import DistSpec, KeysSpec
from simulator.units import Count, Duration, Fraction, PositiveDuration, Rate

Outcome = Literal["error", "timeout", "rejected", "unavailable", "short_circuited", "rate_limited", "shed"]


class PoissonArrivalsSpec(SpecModel):
    """Open loop: independent arrivals with exponential gaps."""

    pattern: Literal["poisson"] = "poisson"
    rate: Rate
    """Mean arrival rate, requests per second (the base rate a profile scales)."""


class DeterministicArrivalsSpec(SpecModel):
    """Open loop: evenly spaced arrivals."""

    pattern: Literal["deterministic"] = "deterministic"
    rate: Rate
    """Arrival rate, requests per second (the base rate a profile scales)."""


class ClosedArrivalsSpec(SpecModel):
    """Closed loop: a fixed population of users, each waiting for its answer, then thinking."""

    pattern: Literal["closed"] = "closed"
    users: Annotated[Count, Field(ge=1)]
    """Number of concurrent users."""
    think_time: DistSpec
    """Pause between an answer and the user's next request, seconds."""


class BatchArrivalsSpec(SpecModel):
    """A batch job: ``items`` requests per run, released at ``at`` (then every ``every``) or at each
    time of ``schedule``; all at once, or ``chunk`` items at a time, the next chunk ``pause`` after
    every item of the previous one has ended (after its client's retries)."""

    pattern: Literal["batch"] = "batch"
    items: Annotated[Count, Field(ge=1)]
    """Requests per run of the job."""
    at: Duration | None = None
    """Release of the (first) run, seconds from the start of the run (before the run ends)."""
    every: PositiveDuration | None = None
    """With ``at``: a run again every this many seconds while the run lasts (a cron job); none: once."""
    schedule: Annotated[list[Duration], Field(min_length=1)] | None = None
    """Instead of ``at``: the release time of every run, seconds, increasing."""
    chunk: Annotated[Count, Field(ge=1)] | None = None
    """Items submitted together; the next chunk waits until all of them have ended (none: all at once)."""
    pause: Duration = 0.0
    """Wait between the end of a chunk's last item and the release of the next chunk, seconds."""

    @model_validator(mode="after")
    def _one_timing(self) -> BatchArrivalsSpec:
        if self.at is None and self.schedule is None:
            raise spec_error("a batch needs a release time: at (optionally with every) or schedule")
        if self.at is not None and self.schedule is not None:
            raise spec_error("give at (optionally with every) or schedule, not both", "schedule")
        if self.every is not None and self.schedule is not None:
            raise spec_error("every repeats at; with a schedule, list every release instead", "every")
        for index in range(1, len(self.schedule or ())):
            if self.schedule[index] <= self.schedule[index - 1]:
                raise spec_error(f"schedule must be increasing; {self.schedule[index]:g}s comes after "
                                 f"{self.schedule[index - 1]:g}s", ("schedule", index))
        if self.pause and self.chunk is None:
            raise spec_error("pause separates chunks; set chunk too (without it the items go all at once)",
                             "pause")
        return self

    def check(self, scenario) -> list[tuple[Loc, str]]:
        """Every release must fall inside the run."""
        if self.schedule is None:
            timed: list[tuple[Loc, float]] = [(("at",), self.at)]
        else:
            timed = [(("schedule", i), t) for i, t in enumerate(self.schedule)]
        return [(key, f"release at {t:g}s is beyond the run ({scenario.duration:g}s)")
                for key, t in timed if t >= scenario.duration]

    def releases(self, end: float) -> Iterator[float]:
        """Release times of the job's runs before ``end`` (seconds), in order."""
        if self.schedule is not None:
            yield from (t for t in self.schedule if t < end)
            return
        t, n = self.at, 0
        while t < end:
            yield t
            if self.every is None:
                return
            n += 1
            t = self.at + n * self.every  # no drift from repeated additions


ArrivalsSpec = Annotated[
    Union[PoissonArrivalsSpec, DeterministicArrivalsSpec, ClosedArrivalsSpec, BatchArrivalsSpec],  # noqa: UP007
    Field(discriminator="pattern"),
]


class StepSpec(SpecModel):
    """From time ``at`` the rate becomes ``rate``, reached linearly over ``ramp``."""

    at: Duration
    """When the step starts, seconds from the start of the run."""
    rate: Rate
    """Rate after the step, requests per second."""
    ramp: Duration = 0.0
    """Time to move linearly from the previous rate to this one, seconds."""


class StepsProfileSpec(SpecModel):
    """Piecewise rate changes; before the first step the arrivals' own rate applies."""

    kind: Literal["steps"] = "steps"
    steps: Annotated[list[StepSpec], Field(min_length=1)]
    """Steps sorted by ``at``."""

    @model_validator(mode="after")
    def _sorted(self) -> StepsProfileSpec:
        for index in range(1, len(self.steps)):
            if self.steps[index].at < self.steps[index - 1].at:
                raise spec_error(
                    f"steps must be sorted by at; {self.steps[index].at:g}s comes after "
                    f"{self.steps[index - 1].at:g}s", ("steps", index, "at"))
        return self


class SpikeProfileSpec(SpecModel):
    """A surge (a viral post): rise to ``peak``, hold, decay back to the base rate."""

    kind: Literal["spike"] = "spike"
    at: Duration
    """When the rise starts, seconds from the start of the run."""
    peak: Rate
    """Rate at the top of the spike, requests per second."""
    rise: Duration
    """Time from the base rate to the peak, seconds."""
    hold: Duration
    """Time spent at the peak, seconds."""
    decay: Duration
    """Time from the peak back to the base rate, seconds."""
    shape: Literal["linear", "exponential"] = "linear"
    """How the rate moves during rise and decay."""


class DiurnalProfileSpec(SpecModel):
    """Daily rhythm: rate(t) = base * (1 + amplitude * cos(2*pi*(t - peak_at) / period))."""

    kind: Literal["diurnal"] = "diurnal"
    period: PositiveDuration = 86400.0
    """Length of one cycle, seconds (default 24h)."""
    amplitude: Fraction
    """Relative swing around the base rate, 0..1."""
    peak_at: Duration = 0.0
    """Time of the first peak, seconds from the start of the run."""


class CsvProfileSpec(SpecModel):
    """A recorded rate curve: a CSV with header ``time,rate`` (seconds, requests per second)."""

    kind: Literal["csv"] = "csv"
    path: str
    """CSV file, relative to the scenario file."""
    interpolate: Literal["linear", "step"] = "linear"
    """How the rate moves between rows."""
    points: list[tuple[NonNegativeFloat, NonNegativeFloat]] | None = None
    """The file's rows as (time s, rate /s); filled in by the loader when it reads the file."""


def _steps_shorthand(value: Any) -> Any:
    """``profile: [{at: 5m, rate: 1500/s}]`` means ``{kind: steps, steps: [...]}``."""
    return {"kind": "steps", "steps": value} if isinstance(value, list) else value


_TaggedProfiles = Annotated[
    Union[StepsProfileSpec, SpikeProfileSpec, DiurnalProfileSpec, CsvProfileSpec],  # noqa: UP007
    Field(discriminator="kind"),
]
ProfileSpec = Annotated[
    _TaggedProfiles,
    BeforeValidator(_steps_shorthand, json_schema_input_type=Union[list[StepSpec], _TaggedProfiles]),  # noqa: UP007
]
"""How the open-loop rate changes over time; a bare list is shorthand for steps."""


MAX_ATTEMPTS = 65_535
"""The most attempts a request can make: the recorder keeps each request's count as uint16."""


class RetrySpec(SpecModel):
    """Client retries after a failed attempt, with backoff and jitter."""

    max_attempts: Annotated[int, Field(strict=True, ge=1, le=MAX_ATTEMPTS)]
    """Attempts per request, including the first (at most 65,535: each request's count is kept
    in 16 bits, one of the things that keep per-request memory low)."""
    backoff: Literal["constant", "exponential"] = "exponential"
    """Constant waits ``base``; exponential waits ``base * 2^(attempt - 1)``."""
    base: Duration = 0.1
    """Base backoff, seconds."""
    cap: Duration | None = None
    """Longest backoff, seconds (none: unbounded)."""
    jitter: Literal["none", "full", "equal", "decorrelated"] = "full"
    """Randomisation of the backoff, as in the AWS architecture blog's taxonomy."""

    @model_validator(mode="after")
    def _cap_above_base(self) -> RetrySpec:
        if self.cap is not None and self.cap < self.base:
            raise spec_error(f"cap must be at least base ({self.base:g}s); got {self.cap:g}s", "cap")
        return self


class ClientSpec(SpecModel):
    """What the caller does: how long it waits and whether it tries again."""

    timeout: PositiveDuration | None = None
    """Per-attempt timeout, seconds (none: wait forever). The server keeps working after it."""
    retry: RetrySpec | None = None
    """Retry policy (none: a single attempt)."""
    retry_on: list[Outcome] = Field(default_factory=lambda: ["error", "timeout", "rejected", "unavailable"])
    """Outcomes that trigger a retry."""
    propagate_deadline: StrictBool = False
    """Send the attempt's deadline (start + timeout) downstream: no call edge waits past it."""


class ClientsSpec(SpecModel):
    """The population behind a workload: each request comes from one of ``count`` clients, client
    i (0-based) with probability proportional to ``1 / (i + 1) ** skew`` (Zipf; 0 = uniform)."""

    count: Annotated[Count, Field(ge=1)]
    """Number of distinct clients (users, API keys)."""
    skew: Annotated[NonNegativeFloat, Field(le=10)] = 0.0
    """Zipf exponent: 0 spreads evenly, 1 or more makes client 0 dominate."""


def workload_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Each workload's arrivals checked against the whole scenario (a batch released after the end)."""
    problems: list[tuple[Loc, str]] = []
    for index, workload in enumerate(spec.workload):
        check = getattr(workload.arrivals, "check", None)
        if check is not None:
            problems += [(("workload", index, "arrivals", *key), message) for key, message in check(spec)]
    return problems


class OperationsSpec(SpecModel):
    """What the workload's requests do to the data (docs/consistency.md): read or write a key."""

    write: Fraction
    """Share of requests that write (the rest read), e.g. ``10%``."""
    read_modify_write: StrictBool = False
    """Writes are increments: read the key, compute, write back what was read plus one."""


class WorkloadSpec(SpecModel):
    """One stream of requests entering the system at a component."""

    name: Name
    """Workload name, used in metrics and random-stream names."""
    entry: str
    """Name of the component that receives the requests."""
    arrivals: ArrivalsSpec
    """Arrival pattern."""
    profile: ProfileSpec | None = None
    """Rate over time for open-loop arrivals (none: constant rate)."""
    client: ClientSpec = ClientSpec()
    """Client behaviour: timeout and retries."""
    region: Name | None = None
    """Where the users are (a global router sends them to this region first)."""
    clients: ClientsSpec | None = None
    """Client population (a per-client rate limit tells them apart); none: one anonymous client."""
    priority: int = 0
    """Importance for load shedding: a shedder drops the lowest priority first."""
    operations: OperationsSpec | None = None
    """Reads and writes of versioned keys (none: requests carry no data operation)."""
    keys: KeysSpec | None = None
    """Which keys the requests read and write (a cache without its own ``keys`` uses these)."""

    @model_validator(mode="after")
    def _profile_needs_open_loop(self) -> WorkloadSpec:
        if self.profile is not None and not self.is_open_loop:
            why = "closed-loop users set their own pace" if self.arrivals.pattern == "closed" else \
                "a batch releases its items at its own times (at, every, schedule)"
            raise spec_error(f"a profile needs open-loop arrivals (poisson or deterministic); {why}",
                             "profile")
        return self

    @property
    def is_open_loop(self) -> bool:
        """True when requests keep arriving at a rate whatever the system does (poisson,
        deterministic); closed-loop users and chunked batches wait for answers, and a batch has no rate."""
        return isinstance(self.arrivals, (PoissonArrivalsSpec, DeterministicArrivalsSpec))
