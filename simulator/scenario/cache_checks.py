"""Checks on caches that need the whole scenario: whose keys a cache uses, and whether the data
settings of a cache (``write_policy``, ``read_path``, ``invalidate``) can act at all.

A cache without ``keys`` of its own looks up each request's key, drawn by its workload
(``operations`` + ``keys``): every workload that reaches it must have both. A data setting only
changes anything for requests that read or write keys, and a versioned cache needs a database
behind it to hold the truth its answers are judged against (docs/consistency.md, "Caches").
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.references import reachable_from, reference_problems

_DATA_KEYS = (("write_policy", "write_around"), ("read_path", "read_through"), ("invalidate", "ttl"))


def cache_data_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Key-less caches reached by workloads without keys; data settings no data workload reaches."""
    if reference_problems(spec.workload, spec.components):
        return []  # dangling names are reported there; reachability needs them resolved
    by_name = spec.components_by_name
    data_reach: dict[str, list[str]] = {}  # cache -> data workloads reaching it
    problems: list[tuple[Loc, str]] = []
    for workload in spec.workload:
        for name in reachable_from(spec, workload.entry):
            component = by_name[name]
            if component.kind != "cache":
                continue
            index = spec.components.index(component)
            if workload.operations is not None:
                data_reach.setdefault(name, []).append(workload.name)
            elif component.keys is None:
                problems.append((("components", index, "keys"),
                                 f"cache '{name}' has no keys of its own and workload '{workload.name}' "
                                 "reaches it without operations and keys: give the cache keys, or the "
                                 "workload operations and keys"))
                continue
            if component.keys is None and workload.keys is None:
                problems.append((("components", index, "keys"),
                                 f"cache '{name}' has no keys of its own and workload '{workload.name}' "
                                 "reaches it without keys: give the cache or the workload keys"))
    for index, component in enumerate(spec.components):
        if component.kind != "cache":
            continue
        if component.name not in data_reach:
            for key, plain in _DATA_KEYS:
                value = getattr(component, key)
                if value != plain:
                    problems.append((("components", index, key),
                                     f"{key}: {value} needs a workload with operations reaching cache "
                                     f"'{component.name}' (none does: its requests read and write no keys)"))
            continue
        if not any(by_name[n].kind == "database" for n in reachable_from(spec, component.backend)):
            problems.append((("components", index, "backend"),
                             f"cache '{component.name}' is reached by workload "
                             f"'{data_reach[component.name][0]}' with operations, but no database is "
                             f"behind its backend '{component.backend}' to hold the data"))
    return problems
