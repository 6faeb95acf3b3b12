"""Checks that a counter or a global cache gets what it needs from the rest of the scenario.

A counter counts increments and a global cache serves reads and writes of versioned keys, so
every workload reaching one must declare ``operations`` (and, for a global cache, a ``region``
among its ``regions``: its requests are served by that region's copy); a counter writes to a
database; a global cache holds every key, so a ``cache_flush`` has nothing to act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.references import callees


def data_reach_problems(spec: Any) -> list[tuple[Loc, str]]:
    """A counter's backend must be a database; every workload reaching a counter or a global
    cache must carry ``operations`` (and, for a global cache, a ``region`` among its regions)."""
    by_name = spec.components_by_name
    problems: list[tuple[Loc, str]] = []
    for index, component in enumerate(spec.components):
        if component.kind == "counter":
            target = by_name.get(component.backend)
            if target is not None and target.kind != "database":
                problems.append((("components", index, "backend"),
                                 f"expected a database; '{target.name}' is a {target.kind}"))
        is_global = component.kind == "cache" and component.global_ is not None
        problems += [(("faults", j, "target"), f"'{component.name}' is a global cache: its copies hold "
                      "every key, there is nothing to flush")
                     for j, fault in enumerate(spec.faults)
                     if is_global and fault.kind == "cache_flush" and fault.target == component.name]
    if problems:
        return problems
    for index, workload in enumerate(spec.workload):
        if workload.entry in by_name:
            problems += _workload_problems(index, workload, _reached(workload.entry, by_name), by_name)
    return problems


def _reached(entry: str, by_name: dict[str, Any]) -> list[str]:
    """Components a request entering at ``entry`` can visit (names that exist only: dangling
    references are reported elsewhere)."""
    seen: list[str] = []
    stack = [entry]
    while stack:
        name = stack.pop()
        if name not in seen and name in by_name:
            seen.append(name)
            stack.extend(callees(by_name[name]))
    return seen


def _workload_problems(index: int, workload: Any, reached: Sequence[str],
                       by_name: dict[str, Any]) -> list[tuple[Loc, str]]:
    for name in reached:
        component = by_name[name]
        is_global = component.kind == "cache" and getattr(component, "global_", None) is not None
        if component.kind != "counter" and not is_global:
            continue
        what = "counter" if component.kind == "counter" else "global cache"
        if workload.operations is None:
            return [(("workload", index, "operations"),
                     f"'{workload.name}' reaches {what} '{name}', which needs data operations: "
                     "add operations: {write: ...}")]
        if is_global and workload.region not in component.regions:
            return [(("workload", index, "region"),
                     f"'{workload.name}' reaches global cache '{name}': its region must be one of "
                     f"{', '.join(component.regions)} (got {workload.region})")]
    return []
