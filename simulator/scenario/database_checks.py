"""Checks on databases that need the whole scenario: who reaches them with versioned data."""

from __future__ import annotations

from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.references import reachable_from


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
        reaching = [w.name for w in data_workloads if component.name in _reach(spec, w.entry)]
        if reaching:
            problems.append((("components", index, "read_fraction"),
                             f"workload '{reaching[0]}' reads and writes keys (operations, keys): "
                             "its requests' own operations pick reads and writes on this database; "
                             "remove read_fraction"))
    return problems


def _reach(spec: Any, entry: str) -> list[str]:
    """What ``entry`` reaches; nothing when a name is unknown (reported by the reference check)."""
    try:
        return reachable_from(spec, entry)
    except KeyError:
        return []
