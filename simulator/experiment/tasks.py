"""One unit of experiment work: a run to do (``RunTask``), what it sends back (``RunRecord``),
and the pure function in between (:func:`run_task`).

``run_task`` is what every executor ships: in this process, to a process pool or to a dask
worker. It is a module-level function of picklable plain data, so ``spawn`` and remote workers
can import and call it; it returns only the summary and the small per-interval tables, never
the per-request records, so a thousand-run sweep does not move gigabytes back.

A task carries its variant's validated spec, resolved once when the scenario was loaded (CSV
profiles already read into it), not the scenario file: a worker neither validates nor reads
anything, and runs exactly what the calling process checked and fingerprinted.

A task's ``fingerprint`` hashes everything that decides its numbers (the resolved spec of its
variant, seed, replication, duration): the run store uses it to reuse a finished run only when
it would come out the same.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

Point = tuple[tuple[str, Any], ...]
"""A sweep point: (dotted path, value) pairs, in parameter order; empty outside sweeps."""


@dataclass(frozen=True)
class RunTask:
    """A run to do: ``run_spec(spec, variant, seed=seed, replication=replication, duration=duration)``.

    Attributes:
        spec: The variant's validated ``ScenarioSpec`` (sweep and warm-up overrides applied).
        variant: Variant name.
        replication: Replication index; replication r of every variant shares its random streams.
        seed: Seed override, or None for the scenario's.
        duration: Duration override (seconds), or None.
        point: The sweep point this run belongs to.
        fingerprint: Hash of what decides the numbers (see :func:`fingerprint`).
        keep_traffic: Send the per-interval traffic table back (comparisons plot it; sweeps don't).
    """

    spec: Any
    variant: str
    replication: int
    seed: int | None = None
    duration: float | None = None
    point: Point = ()
    fingerprint: str = ""
    keep_traffic: bool = True

    @property
    def key(self) -> tuple[Point, str, int]:
        """Identity of the run inside one experiment: (point, variant, replication)."""
        return (self.point, self.variant, self.replication)


@dataclass
class RunRecord:
    """What a finished run sends back: its identity, summary metrics and the small tables."""

    variant: str
    replication: int
    point: Point
    seed: int
    fingerprint: str
    wall_time: float
    summary: dict[str, float | bool | None]
    traffic: pd.DataFrame | None = None
    events: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def key(self) -> tuple[Point, str, int]:
        """Same identity as the task that produced it."""
        return (self.point, self.variant, self.replication)


def run_task(task: RunTask) -> RunRecord:
    """Run one task and keep what an experiment needs: the pure function every executor calls."""
    from simulator.runner import run_spec  # imported in the worker, where the work happens

    result = run_spec(task.spec, task.variant, seed=task.seed, replication=task.replication,
                      duration=task.duration)
    return RunRecord(variant=task.variant, replication=task.replication, point=task.point,
                     seed=int(result.seed), fingerprint=task.fingerprint,
                     wall_time=float(result.wall_time), summary=plain_summary(result.summary),
                     traffic=result.traffic if task.keep_traffic else None,
                     events=result.events)


def plain_summary(summary: dict[str, Any]) -> dict[str, float | bool | None]:
    """Summary values as plain Python: bools stay bools, NaN becomes None, numbers float."""
    plain: dict[str, float | bool | None] = {}
    for name, value in summary.items():
        if value is None or isinstance(value, bool):
            plain[str(name)] = value
        elif hasattr(value, "dtype") and value.dtype == bool:
            plain[str(name)] = bool(value)
        else:
            number = float(value)
            plain[str(name)] = None if math.isnan(number) else number
    return plain


NOT_IN_A_RUN = frozenset({"description", "hypothesis", "variants", "replications", "expect"})
"""Spec fields that do not change one run's numbers: editing them must not invalidate stored runs."""


def fingerprint(spec: Any, seed: int | None, replication: int, duration: float | None) -> str:
    """A short hash of everything that decides a run's numbers."""
    fields = {name for name in NOT_IN_A_RUN if name in type(spec).model_fields}
    text = json.dumps({"spec": spec.model_dump(mode="json", exclude=fields), "seed": seed,
                       "replication": replication, "duration": duration}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def make_tasks(scenario: Any, variants: list[str], replications: range | list[int], *,
               seed: int | None = None, duration: float | None = None, point: Point = (),
               keep_traffic: bool = True) -> list[RunTask]:
    """Every variant x replication of one scenario, variant-major, with fingerprints.

    Each variant's spec is taken from the loaded scenario (validated there, once) and checked
    here, in the calling process, so a bad variant or duration is reported as input error before
    any work is sent anywhere; the tasks carry the spec itself.
    """
    from simulator.budget import check_budget
    from simulator.experiment.inputs import check_duration

    tasks = []
    for variant in variants:
        spec = scenario.resolve(variant)
        check_duration(scenario, spec, duration)
        check_budget(spec, scenario.source, duration=duration, variant=variant)  # the --max-* limits
        tasks += [RunTask(spec, variant, r, seed, duration, point,
                          fingerprint(spec, seed, r, duration), keep_traffic) for r in replications]
    return tasks
