"""Checks of the ``faults:`` list against the rest of the scenario.

A fault can be well-formed on its own and still name a component that does not exist, hit a kind
it cannot affect (a cache flush on a service), start after the run has ended, or pick replica 5 of
a group of 4. Each finding is a ``(loc, message)`` pair at the fault's key path.
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.faults import REPLICA_FAULTS, TRAFFIC_FAULTS

# Which component kinds each fault kind can hit (replica faults on other kinds fail them as a whole).
TARGET_KINDS = {
    "crash": ("service", "database", "load_balancer", "cache", "external", "global", "dns", "registry",
              "queue", "counter"),
    "hang": ("service", "database"),
    "pause": ("service", "database"),
    "slow": ("service", "database"),
    "errors": ("service", "database"),
    "capacity": ("service", "database"),
    "cache_flush": ("cache",),
    "db_primary_failure": ("database",),
}


def fault_timing_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Faults that start after the run has ended (they would silently never happen)."""
    return [(("faults", index, "at"), f"starts at {fault.at:g}s, after the run ends ({spec.duration:g}s)")
            for index, fault in enumerate(spec.faults) if fault.at >= spec.duration]


def fault_target_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Every fault's target (component, workload, edge, region) and replica choice."""
    components = spec.components_by_name
    return [(("faults", index, *key), message) for index, fault in enumerate(spec.faults)
            for key, message in _target_problems(fault, spec, components)]


def _target_problems(fault: Any, spec: Any, components: dict[str, Any]) -> list[tuple[Loc, str]]:
    kind = fault.kind
    if kind in TRAFFIC_FAULTS:
        return _workload_target(fault, spec)
    if kind == "partition":
        return [(("between", side, j), unknown_component(name, components))
                for side, names in enumerate(fault.between) for j, name in enumerate(names)
                if name not in components]
    if kind == "packet_loss":
        return _edge_problems(fault.target, spec, components)
    if kind == "region_outage":
        regions = sorted({c.region for c in spec.components if c.region})
        if fault.region not in regions:
            known = ", ".join(regions) if regions else "none: no component has a region"
            return [(("region",), f"no component is in region '{fault.region}'; regions: {known}")]
        return []
    return _component_target(fault, components)


def _component_target(fault: Any, components: dict[str, Any]) -> list[tuple[Loc, str]]:
    target = components.get(fault.target)
    if target is None:
        return [(("target",), unknown_component(fault.target, components))]
    allowed = TARGET_KINDS[fault.kind]
    if target.kind not in allowed:
        return [(("target",), f"a {fault.kind} fault can hit a {' or '.join(allowed)}; "
                              f"'{target.name}' is a {target.kind}")]
    if fault.kind in REPLICA_FAULTS and fault.replicas is not None:
        return _replica_problems(fault, target)
    return []


def _replica_problems(fault: Any, target: Any) -> list[tuple[Loc, str]]:
    n = _replica_count(target)
    selection = fault.replicas
    if selection.indices is not None:
        bad = [i for i in selection.indices if i >= n]
        if bad:
            return [(("replicas",), f"replica indices {bad} out of range: '{target.name}' has {n} "
                                    f"(indices 0..{n - 1})")]
    if selection.count is not None and selection.count > n:
        return [(("replicas",), f"{selection.count} replicas asked for; '{target.name}' has {n}")]
    return []


def _replica_count(target: Any) -> int:
    """Replicas (services), nodes (databases) or copies (balancers) a replica fault can pick from."""
    if target.kind == "service":
        return target.replicas
    if target.kind == "database":
        return 1 + target.read_replicas
    return getattr(target, "copies", 1)


def _workload_target(fault: Any, spec: Any) -> list[tuple[Loc, str]]:
    workloads = {w.name: w for w in spec.workload}
    workload = workloads.get(fault.target)
    if workload is None:
        return [(("target",), f"'{fault.target}' names no workload; workloads: {', '.join(workloads)}")]
    if fault.kind in ("surge", "traffic_drop") and not workload.is_open_loop:
        kind = "closed-loop" if workload.arrivals.pattern == "closed" else "a batch"
        return [(("target",), f"a {fault.kind} needs open-loop arrivals; '{workload.name}' is {kind} "
                              "(use a poisson or deterministic workload, or a burst for a one-off batch)")]
    return []


def _edge_problems(edge: str, spec: Any, components: dict[str, Any]) -> list[tuple[Loc, str]]:
    """``caller->callee`` must be a real call: a workload's entry, a service call, an LB target..."""
    from simulator.scenario.references import callees

    caller, sep, callee = (part.strip() for part in edge.partition("->"))
    if not sep or not caller or not callee:
        return [(("target",), f"expected a call edge 'caller->callee'; got {edge!r}")]
    edges = {(w.name, w.entry) for w in spec.workload}
    edges |= {(c.name, t) for c in spec.components for t in callees(c)}
    if (caller, callee) not in edges:
        known = ", ".join(f"{a}->{b}" for a, b in sorted(edges))
        return [(("target",), f"no call edge {caller}->{callee} in this scenario; edges: {known}")]
    return []


def unknown_component(name: str, components: dict[str, Any]) -> str:
    """The message for a name that no component has, listing those that exist."""
    return f"'{name}' names no component; known components: {', '.join(components)}"
