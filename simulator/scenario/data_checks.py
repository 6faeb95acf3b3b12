"""Checks of the data model across the scenario (docs/consistency.md), besides the caches' own
(``cache_checks``):

- a workload's keys and operations must reach something that holds data, and every database,
  counter or cache its requests reach must know which key a request asks for;
- a counter writes to a database, and every workload reaching a counter or a global cache must
  carry ``operations`` (and, for a global cache, a ``region`` among its ``regions``: its requests
  are served by that region's copy); a global cache holds every key, so a ``cache_flush`` has
  nothing to act on;
- ``read_fraction`` has no say on a database that keyed workloads reach: their own operations
  pick reads and writes there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.references import callees, reachable_from

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
        problems += _workload_problems(index, workload, reachable_from(spec, workload.entry), by_name)
    return problems


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


def database_data_problems(spec: Any) -> list[tuple[Loc, str]]:
    """``read_fraction`` on a database a workload with ``operations`` (or ``keys``: reads only)
    reaches: there the request's own operation decides read or write (and so the node), so the
    fraction would be ignored."""
    data_workloads = [w for w in spec.workload if w.operations is not None or w.keys is not None]
    if not data_workloads:
        return []
    problems = []
    for index, component in enumerate(spec.components):
        if component.kind != "database" or component.read_fraction == 0.0:
            continue
        reaching = [w.name for w in data_workloads if component.name in reachable_from(spec, w.entry)]
        if reaching:
            problems.append((("components", index, "read_fraction"),
                             f"workload '{reaching[0]}' reads and writes keys (operations, keys): "
                             "its requests' own operations pick reads and writes on this database; "
                             "remove read_fraction"))
    return problems
