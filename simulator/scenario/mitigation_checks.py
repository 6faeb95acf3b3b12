"""Checks of the ``mitigations:`` list against the rest of the scenario.

Each mitigation spec class says what it can target in ``TARGETS`` (component kinds, ``"workload"``
and/or ``"edge"`` for ``caller->callee``); a spec may add its own cross-checks in a
``check(scenario) -> [(key, message)]`` method (e.g. a schedule step beyond the run).
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.base import Loc


def mitigation_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Every mitigation's target and own checks, at its key path."""
    problems: list[tuple[Loc, str]] = []
    for index, mitigation in enumerate(spec.mitigations):
        loc: Loc = ("mitigations", index)
        problems += [((*loc, *key), message) for key, message in target_problems(mitigation, spec)]
        check = getattr(mitigation, "check", None)
        if check is not None:
            problems += [((*loc, *key), message) for key, message in check(spec)]
    return problems


def target_problems(mitigation: Any, spec: Any) -> list[tuple[tuple, str]]:
    """The target must exist and be of a kind this mitigation can act on."""
    allowed = getattr(type(mitigation), "TARGETS", ())
    target = mitigation.target
    if "->" in target:
        if "edge" not in allowed:
            return [(("target",), f"{_a(mitigation.kind)} acts on {_describe(allowed)}, not on a call edge")]
        return edge_problems(target, spec)
    components = spec.components_by_name
    workloads = {w.name for w in spec.workload}
    if target in components:
        kind = components[target].kind
        if kind not in allowed:
            return [(("target",), f"{_a(mitigation.kind)} acts on {_describe(allowed)}; "
                                  f"'{target}' is {_a(kind)}")]
        return []
    if target in workloads:
        if "workload" not in allowed:
            return [(("target",),
                     f"{_a(mitigation.kind)} acts on {_describe(allowed)}; '{target}' is a workload")]
        return []
    known = ", ".join([*components, *sorted(workloads)])
    return [(("target",), f"'{target}' names no component, workload or edge; known: {known}")]


def edge_problems(edge: str, spec: Any) -> list[tuple[tuple, str]]:
    """``caller->callee`` must be a real call of the scenario."""
    from simulator.scenario.references import callees

    caller, sep, callee = (part.strip() for part in edge.partition("->"))
    edges = {(w.name, w.entry) for w in spec.workload}
    edges |= {(c.name, t) for c in spec.components for t in callees(c)}
    if not sep or (caller, callee) not in edges:
        known = ", ".join(f"{a}->{b}" for a, b in sorted(edges))
        return [(("target",), f"no call edge {edge} in this scenario; edges: {known}")]
    return []


def _describe(allowed: tuple[str, ...]) -> str:
    names = {"edge": "a call edge caller->callee", "workload": "a workload"}
    words = [names.get(a, _a(a)) for a in allowed]
    return " or ".join(words) if words else "nothing"


def _a(noun: str) -> str:
    """``a service``, ``an autoscaler``."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
