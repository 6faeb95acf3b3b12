"""Experiment input, checked in the calling process before any run is sent out.

A typo (an unknown variant, a duration shorter than the warm-up, zero replications) must never
cost a sweep's worth of runs or surface as a traceback from a worker: it is an
:class:`~simulator.experiment.errors.ExperimentError` with one line saying what to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.experiment.errors import ExperimentError


def as_scenario(scenario: Any, overrides: Sequence[Any] = ()) -> Any:
    """A loaded Scenario: ``scenario`` itself, or the file / built-in it names, loaded."""
    from simulator.scenario import load_scenario

    if isinstance(scenario, str | Path):
        return load_scenario(scenario, overrides=list(overrides))
    return with_overrides(scenario, list(overrides)) if overrides else scenario


def with_overrides(scenario: Any, pairs: Sequence[Any]) -> Any:
    """``scenario`` with more ``--set``-style overrides (they win over variants, like ``--set``);
    the CSV profiles it has read are not read again."""
    return scenario.with_overrides(list(pairs))


def check_duration(scenario: Any, spec: Any, duration: float | None) -> None:
    """The same checks ``run`` makes (the spec with that duration judged like a file that says it:
    warm-up, fault and batch times), made before work is sent out."""
    if duration is not None:
        from simulator.scenario.overrides import with_duration

        with_duration(spec, duration, scenario.source)


def check_variants(scenario: Any, variants: list[str] | None) -> list[str]:
    """The variants asked for, in the order given (default: all, file order); unknown ones refused."""
    known = list(scenario.variant_names)
    if not variants:
        return known
    unknown = [v for v in variants if v not in known]
    if unknown:
        raise ExperimentError(f"{scenario.source}: unknown variant {unknown[0]!r}; "
                              f"the scenario has: {', '.join(known)}")
    if len(set(variants)) < len(variants):
        raise ExperimentError(f"{scenario.source}: a variant is named twice in {','.join(variants)}")
    return list(variants)


def check_replications(replications: int) -> int:
    """At least one replication: zero runs cannot estimate anything."""
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ExperimentError(f"replications must be a whole number >= 1; got {replications!r}")
    return replications
