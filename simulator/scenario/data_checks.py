"""Checks of the data model across the scenario: a workload's keys and operations must reach
something that holds data, and every database, counter or cache its requests reach must know
which key a request asks for (see docs/consistency.md)."""

from __future__ import annotations

from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.references import callees

HOLDS_DATA = frozenset({"database", "cache", "counter"})
"""Component kinds that read and write versioned keys."""


def data_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Each workload with ``operations`` or ``keys`` checked against the components it reaches."""
    problems: list[tuple[Loc, str]] = []
    by_name = spec.components_by_name
    for index, workload in enumerate(spec.workload):
        if workload.operations is None and workload.keys is None:
            continue
        if workload.entry not in by_name:
            continue  # reported by the reference checks
        reached, keyless = _walk(workload.entry, by_name, workload.keys is not None)
        if not any(by_name[name].kind in HOLDS_DATA for name in reached):
            field = "operations" if workload.operations is not None else "keys"
            kinds = ", ".join(sorted(HOLDS_DATA))
            message = f"requests carry keys but reach no {kinds} (they reach {', '.join(reached)})"
            problems.append((("workload", index, field), message))
        elif keyless:
            problems.append((("workload", index),
                             f"missing key 'keys': requests reach {', '.join(keyless)} without a key "
                             "(give the workload keys: {dist: uniform, catalog: N}, or the cache in front "
                             "its own keys)"))
    return problems


def _walk(entry: str, by_name: dict[str, Any], keyed: bool) -> tuple[list[str], list[str]]:
    """Every component reached from ``entry``, and the databases and counters reached before any
    key was chosen (a cache with its own ``keys`` chooses one for everything behind it; one
    without, reached without a key, is reported by ``cache_checks`` and not walked past)."""
    reached: list[str] = []
    keyless: list[str] = []
    stack = [(entry, keyed)]
    seen: set[tuple[str, bool]] = set()
    while stack:
        name, has_key = stack.pop()
        if (name, has_key) in seen:
            continue
        seen.add((name, has_key))
        component = by_name[name]
        if name not in reached:
            reached.append(name)
        if component.kind == "cache":
            if getattr(component, "keys", None) is not None:
                has_key = True
            elif not has_key:
                continue  # a key-less cache reached without a key: cache_checks names it (once)
        if component.kind in HOLDS_DATA and not has_key and name not in keyless:
            keyless.append(name)
        stack.extend((callee, has_key) for callee in callees(component) if callee in by_name)
    return reached, keyless
