"""What every mitigation shares: the three build steps and its events.

A mitigation is built from one enabled spec (disabled ones are never built: zero cost). The
builder calls ``prepare(components)`` before wiring (e.g. switch a group to its scalable path),
``wrap(system)`` after wiring (stack its layer on call edges: ``system.edges``, see
:mod:`simulator.components.edge`), then ``start(system)`` for control loops (autoscalers, schedules).
"""

from __future__ import annotations


class Mitigation:
    """Base of the mitigations: the build steps default to doing nothing."""

    stats = None  # gauges sampled into ``.series`` under the mitigation's name, if it has any

    def __init__(self, ctx, spec):
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name

    def prepare(self, components: dict) -> None:
        """Before wiring."""

    def wrap(self, system) -> None:
        """After wiring and workloads: stack layers on call edges."""

    def start(self, system) -> None:
        """Start control loops."""

    def counters(self) -> dict[str, float]:
        """Counters for the summary, as ``{counter: value}`` (reported as ``<counter>.<name>``)."""
        return {}

    def event(self, kind: str, component: str, detail: str = "") -> None:
        """Record a state change (a breaker opening, a scaling action) in ``.events``."""
        self.ctx.recorder.event(self.ctx.env.now, kind, component, detail)
