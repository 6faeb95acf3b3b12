"""Alert actions: the ``on_fire:`` list of an alert rule (the self-healing loop, docs/alerts.md).

Each action runs once per firing, ``delay`` after it (the time a human or an automation needs to
act): ``restart`` the worst replica of a service or database, ``scale_out`` it by ``by`` replicas,
``shift_traffic`` away from a region at a global router, ``rollback`` a deployment, or only
``page`` someone. Which names exist and are of the right kind is checked once the whole scenario
is known (:func:`action_problems`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field

from simulator.scenario.autoscaling import Startup, _startup
from simulator.scenario.base import Loc, Name, PositiveInt, SpecModel
from simulator.scenario.problems import suggest
from simulator.units import Duration

GROUP_KINDS = ("service", "database")
"""Kinds with replicas an action can restart or add."""


class _Action(SpecModel):
    delay: Duration = 0.0
    """Time from the firing to the action (automation: seconds; a paged human: minutes), seconds."""


class RestartActionSpec(_Action):
    """Restart the replica of ``target`` with the oldest unfinished work, as a crash and restart."""

    kind: Literal["restart"] = "restart"
    target: str
    """A service or database."""
    startup: Duration = 0.0
    """Time the restarted replica refuses connections before it serves again, seconds."""


class ScaleOutActionSpec(_Action):
    """Add ``by`` replicas to ``target``; each serves only after its start-up (as autoscaling)."""

    kind: Literal["scale_out"] = "scale_out"
    target: str
    """A service or database."""
    by: PositiveInt = 1
    """Replicas added."""
    startup: Startup = Field(default_factory=lambda: _startup("container"), validate_default=True)
    """Start-up per new replica, as an autoscaler's: ``container`` (default), ``vm``, seconds, or a
    distribution drawn per replica from the stream ``alert.<alert>.<index>.startup``."""


class ShiftTrafficActionSpec(_Action):
    """Drain ``region`` at the global router ``router``: its workloads go to another region."""

    kind: Literal["shift_traffic"] = "shift_traffic"
    router: str
    """A ``global`` component."""
    region: Name
    """The region of one of the router's targets."""


class RollbackActionSpec(_Action):
    """Roll the deployment ``deployment`` back: all traffic to the old version."""

    kind: Literal["rollback"] = "rollback"
    deployment: str
    """A ``deployment`` mitigation."""


class PageActionSpec(_Action):
    """Only an event: someone is paged (``delay`` is when they acknowledge)."""

    kind: Literal["page"] = "page"
    to: str = "on-call"
    """Who is paged (in the event only)."""


ActionSpec = Annotated[
    Union[RestartActionSpec, ScaleOutActionSpec, ShiftTrafficActionSpec,  # noqa: UP007
          RollbackActionSpec, PageActionSpec],
    Field(discriminator="kind"),
]
"""Any action, chosen by ``kind``."""


def action_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Every action's target, checked against the components and mitigations of ``spec``."""
    problems: list[tuple[Loc, str]] = []
    for index, alert in enumerate(spec.alerts):
        for position, action in enumerate(alert.on_fire):
            loc: Loc = ("alerts", index, "on_fire", position)
            problems += [((*loc, key), message) for key, message in _problems(action, spec)]
    return problems


def _problems(action: Any, spec: Any) -> list[tuple[str, str]]:
    kinds = {c.name: c.kind for c in spec.components}
    if action.kind in ("restart", "scale_out"):
        return _named(action.target, kinds, GROUP_KINDS, "target", "component")
    if action.kind == "rollback":
        deployments = {m.name: m.kind for m in spec.mitigations}
        return _named(action.deployment, deployments, ("deployment",), "deployment", "mitigation")
    if action.kind == "shift_traffic":
        found = _named(action.router, kinds, ("global",), "router", "component")
        if found:
            return found
        router = next(c for c in spec.components if c.name == action.router)
        regions = [c.region for c in spec.components if c.name in router.targets and c.region]
        if action.region not in regions:
            return [("region", f"'{action.region}' is the region of none of {action.router}'s targets; "
                               f"regions: {', '.join(regions) or 'none'}{suggest(action.region, regions)}")]
    return []


def _named(name: str, kinds: dict[str, str], allowed: tuple[str, ...], key: str,
           what: str) -> list[tuple[str, str]]:
    if name not in kinds:
        return [(key, f"no {what} named '{name}'; known: {', '.join(kinds) or 'none'}"
                      f"{suggest(name, list(kinds))}")]
    if kinds[name] not in allowed:
        return [(key, f"'{name}' is a {kinds[name]}; expected a {' or '.join(allowed)}")]
    return []
