"""``kind: schedule`` — pre-scaling: replica counts set at known times (ahead of a daily peak).

At each step the target service is scaled to ``replicas`` (new replicas serve after ``startup``;
removed ones are deregistered at once and drain what they hold). Every step is a ``scale`` event
with the old and new counts. When an autoscaler targets the same service, the current step is its
floor (see ``floor_at``).
"""

from __future__ import annotations

from simulator.mitigations.base import Mitigation


class Schedule(Mitigation):
    """Scales the target at each step."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.group = None
        self.is_floor = False  # set by an autoscaler on the same target: then steps only raise

    def prepare(self, components: dict) -> None:
        component = components[self.spec.target]
        component.scalable()  # replicas come and go: the fault-capable path, reads follow members
        self.group = component.group

    def start(self, system) -> None:
        for step in self.spec.steps:
            self.ctx.later(step.at, lambda _, s=step: self._apply(s))

    def _apply(self, step) -> None:
        before = len(self.group.replicas)
        after = max(before, step.replicas) if self.is_floor else step.replicas
        self.group.scale_to(after, self.spec.startup)
        self.event("scale", self.spec.target, f"{self.name}: {before} -> {after} replicas (schedule)")

    def floor_at(self, t: float) -> int | None:
        """The replica count the schedule asks for at time ``t`` (None before its first step)."""
        current = None
        for step in self.spec.steps:
            if step.at <= t:
                current = step.replicas
        return current
