"""What every fault injector shares: its window, its events, and the steps the builder calls.

An injector is built from one fault spec. The builder calls ``prepare(components)`` before wiring
(switch targets to their fault-capable path, put gates in front of them), ``wrap(system)`` after
wiring (wrap call edges), then ``start(system)`` which schedules the fault's start and end on the
SimPy clock. Every start and end is a ``fault_start`` / ``fault_end`` event (component = target,
detail = fault name), which the plots shade and the recovery metrics read.
"""

from __future__ import annotations


class Injector:
    """Base of the fault injectors: scheduling and events; subclasses say what breaks."""

    def __init__(self, ctx, spec, target: str):
        self.ctx = ctx
        self.spec = spec
        self.name = spec.name
        self.target = target
        self.affected: set[str] = set()  # replica or component names whose exclusion counts as detection

    @property
    def start_time(self) -> float:
        return self.spec.at

    @property
    def end_time(self) -> float | None:
        return self.spec.end

    def prepare(self, components: dict) -> None:
        """Before wiring: track the targets (the default touches nothing)."""

    def wrap(self, system) -> None:
        """After wiring: wrap call edges (the default wraps nothing)."""

    def start(self, system) -> None:
        """Schedule the fault's start and, if it has one, its end."""
        ctx = self.ctx
        ctx.later(self.start_time, lambda _: self._begin(system))
        if self.end_time is not None and self.end_time < ctx.stop:
            ctx.later(self.end_time, lambda _: self._finish(system))

    def _begin(self, system) -> None:
        self.ctx.recorder.event(self.ctx.env.now, "fault_start", self.target, self.name)
        self.begin(system)

    def _finish(self, system) -> None:
        self.end(system)
        self.ctx.recorder.event(self.ctx.env.now, "fault_end", self.target, self.name)

    def begin(self, system) -> None:
        """The fault starts now."""
        raise NotImplementedError

    def end(self, system) -> None:
        """The fault ends now (called only when it has an end)."""
