"""Checks that need the whole scenario: names that refer to components, call cycles, reachability.

A single component can be valid on its own and still name a component that does not exist,
or close a loop (app calls db, db calls app) that would recurse forever. Each finding is a
``(loc, message)`` pair so the loader can report every one of them, at its key path. A component
that nothing calls is not an error, only worth a warning (``unreachable_components``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.scenario.base import Loc
from simulator.scenario.components import (
    CacheSpec,
    DnsSpec,
    GlobalRouterSpec,
    LoadBalancerSpec,
    RegistrySpec,
    ServiceSpec,
)
from simulator.scenario.counter import CounterSpec
from simulator.scenario.queue import QueueSpec, queue_problems

Edge = tuple[str, Loc]
"""A reference to another component, with the key path that makes it."""


def reference_problems(workload: Sequence[Any], components: Sequence[Any]) -> list[tuple[Loc, str]]:
    """All dangling names, misdirected load balancers, wrong weight counts and call cycles."""
    by_name = {component.name: component for component in components}
    problems = [
        (loc, _unknown(target, by_name))
        for loc, target in _named_references(workload, components)
        if target not in by_name
    ]
    problems += _load_balancer_problems(components, by_name)
    problems += _kind_problems(components, by_name)
    problems += queue_problems(components, by_name)
    problems += _cycle_problems(components, by_name)
    return problems


def duplicate_name_problems(entries: Sequence[Any], field: str) -> list[tuple[Loc, str]]:
    """Names used twice in a list: later entries would silently shadow earlier ones."""
    first_index: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, entry in enumerate(entries):
        if entry.name in first_index:
            problems.append(((field, index, "name"),
                             f"duplicate name '{entry.name}' (also {field}[{first_index[entry.name]}])"))
        first_index.setdefault(entry.name, index)
    return problems


def unreachable_components(workload: Sequence[Any], components: Sequence[Any]) -> list[str]:
    """Components that no request can reach, in file order.

    Requests enter at each workload's ``entry`` and travel along service ``calls`` (optional ones
    too), load balancer ``targets`` and cache ``backend``s. A component off every such path is
    legal but idle: its metrics stay empty, which usually means a forgotten call.
    """
    edges = {component.name: [target for target, _ in outgoing_edges(i, component)]
             for i, component in enumerate(components)}
    reached: set[str] = set()
    pending = [entry.entry for entry in workload]
    while pending:
        name = pending.pop()
        if name not in reached and name in edges:
            reached.add(name)
            pending += edges[name]
    return [component.name for component in components
            if component.name not in reached and not isinstance(component, RegistrySpec)]


def outgoing_edges(index: int, component: Any) -> list[Edge]:
    """The components a component sends requests to, with the key path of each reference."""
    base: Loc = ("components", index)
    if isinstance(component, ServiceSpec):
        return [(call.target, (*base, "calls", j, "target")) for j, call in enumerate(component.calls)]
    if isinstance(component, LoadBalancerSpec):
        return [(component.targets, (*base, "targets"))]
    if isinstance(component, CacheSpec | CounterSpec):
        return [(component.backend, (*base, "backend"))]
    if isinstance(component, GlobalRouterSpec | DnsSpec):
        return [(target, (*base, "targets", j)) for j, target in enumerate(component.targets)]
    if isinstance(component, QueueSpec):
        return [(component.consumer, (*base, "consumer"))]  # the consumer is reached through the queue
    return []


def control_references(index: int, component: Any) -> list[Edge]:
    """Names a component refers to outside the request path (a registry's services, a balancer's
    registry): they must exist, but they carry no requests."""
    base: Loc = ("components", index)
    if isinstance(component, RegistrySpec):
        return [(name, (*base, "services", j)) for j, name in enumerate(component.services)]
    if isinstance(component, LoadBalancerSpec) and component.discovery is not None:
        return [(component.discovery, (*base, "discovery"))]
    return []


def callees(component: Any) -> list[str]:
    """Names of the components ``component`` sends requests to: the one registry of call edges."""
    return [target for target, _ in outgoing_edges(0, component)]


def reachable_from(spec: Any, entry: str) -> list[str]:
    """Names of every component a request entering at ``entry`` can visit (entry first). A name
    that no component has is skipped: checks across the scenario may run while the reference
    check reports it, and a validated spec has none."""
    by_name = spec.components_by_name
    seen: list[str] = []
    stack = [entry]
    while stack:
        name = stack.pop()
        if name not in seen and name in by_name:
            seen.append(name)
            stack.extend(callees(by_name[name]))
    return seen


def _named_references(workload: Sequence[Any], components: Sequence[Any]) -> list[tuple[Loc, str]]:
    references = [(("workload", i, "entry"), entry.entry) for i, entry in enumerate(workload)]
    for index, component in enumerate(components):
        references += [(loc, target) for target, loc in outgoing_edges(index, component)]
        references += [(loc, target) for target, loc in control_references(index, component)]
    return references


def _unknown(name: str, by_name: dict[str, Any]) -> str:
    return f"'{name}' names no component; known components: {', '.join(by_name)}"


def _load_balancer_problems(components: Sequence[Any], by_name: dict[str, Any]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for index, component in enumerate(components):
        if not isinstance(component, LoadBalancerSpec):
            continue
        target = by_name.get(component.targets)
        if target is None:
            continue
        if not isinstance(target, ServiceSpec):
            problems.append((("components", index, "targets"),
                             f"a load balancer must target a service; '{target.name}' is a {target.kind}"))
        elif component.weights is not None and len(component.weights) != target.replicas:
            problems.append((("components", index, "weights"),
                             f"expected one weight per replica of '{target.name}' ({target.replicas}); "
                             f"got {len(component.weights)}"))
    return problems


def _kind_problems(components: Sequence[Any], by_name: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Control references must point at the right kind: a registry's services, a discovery registry."""
    problems: list[tuple[Loc, str]] = []
    for index, component in enumerate(components):
        for name, loc in control_references(index, component):
            target = by_name.get(name)
            wanted = "service" if isinstance(component, RegistrySpec) else "registry"
            if target is not None and target.kind != wanted:
                problems.append((loc, f"expected a {wanted}; '{name}' is a {target.kind}"))
    return problems


def _cycle_problems(components: Sequence[Any], by_name: dict[str, Any]) -> list[tuple[Loc, str]]:
    """Depth-first search; each back edge closes a cycle, reported once from its earliest member."""
    order = {component.name: index for index, component in enumerate(components)}
    edges = {c.name: [e for e in outgoing_edges(i, c) if e[0] in by_name] for i, c in enumerate(components)}
    state: dict[str, str] = {}
    cycles: dict[tuple[str, ...], Loc] = {}

    def visit(name: str, stack: list[str]) -> None:
        state[name] = "active"
        stack.append(name)
        for target, _ in edges[name]:
            if state.get(target) == "active":
                cycle = stack[stack.index(target):]
                start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                key = tuple(cycle[start:] + cycle[:start])
                cycles.setdefault(key, _edge_loc(edges, key[0], key[1 % len(key)]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[name] = "done"

    for component in components:
        if component.name not in state:
            visit(component.name, [])
    return [(loc, f"call graph has a cycle: {' -> '.join((*key, key[0]))}") for key, loc in cycles.items()]


def _edge_loc(edges: dict[str, list[Edge]], source: str, target: str) -> Loc:
    return next(loc for name, loc in edges[source] if name == target)
