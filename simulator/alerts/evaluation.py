"""Evaluating rules on the SimPy clock: each rule at every multiple of its evaluation interval.

An evaluation at time t must see everything that happened at t (a request ending exactly at t
belongs to the window (t - w, t]), so it is scheduled with a priority after SimPy's normal one:
at equal times the heap runs every ordinary event first. Each transition is an ``alert`` event
(component = alert name, detail = ``<transition> <what was compared>``).
"""

from __future__ import annotations

from simulator.alerts.conditions import Condition
from simulator.alerts.score import Fault, alert_summary
from simulator.alerts.state import FIRING, RESOLVED, AlertState

LATE = 2
"""SimPy priority after NORMAL (1): evaluations run after every other event at the same time."""


class RuleRun:
    """One rule during one run: its condition, its state and the spans it fired for."""

    def __init__(self, spec, condition: Condition, actions=None):
        self.spec = spec
        self.actions = actions  # simulator.alerts.actions.Actions, or None without on_fire
        self.name = spec.name
        self.condition = condition
        self.state = AlertState(spec.hold, spec.keep_firing_for)
        self.spans: list[list[float | None]] = []  # [fired at, resolved at or None]

    def evaluate(self, t: float, record) -> None:
        """One evaluation at nominal time ``t``; ``record(t, kind, component, detail)`` logs events."""
        condition, _, detail = self.condition(t)
        change = self.state.step(t, condition)
        if change is None:
            return
        if change == FIRING:
            self.spans.append([t, None])
            if self.actions is not None:
                self.actions.fired()  # once per firing, not on every evaluation
        elif change == RESOLVED:
            self.spans[-1][1] = t
        record(t, "alert", self.name, f"{change} {detail}")


class Alerting:
    """Every rule of a run, and the summary metrics they earn."""

    def __init__(self, ctx, rules: list[RuleRun]):
        self.ctx = ctx
        self.rules = rules

    def start(self) -> None:
        for rule in self.rules:
            self._schedule(rule, 1)

    def _schedule(self, rule: RuleRun, k: int) -> None:
        """Evaluate ``rule`` at k x interval (computed, never accumulated: no drift), up to the end."""
        env, t = self.ctx.env, k * rule.spec.evaluation_interval
        if t > self.ctx.end + 1e-9:
            return
        event = env.event()
        event._ok, event._value = True, None  # a timeout by hand, to choose its priority
        event.callbacks.append(lambda _: self._evaluate(rule, k, t))
        env.schedule(event, LATE, t - env.now)

    def _evaluate(self, rule: RuleRun, k: int, t: float) -> None:
        rule.evaluate(t, self.ctx.recorder.event)
        self._schedule(rule, k + 1)

    def summary(self, faults: list[Fault]) -> dict[str, float | None]:
        """Every rule's ``alerts_fired``, ``time_to_alert``... (see simulator.alerts.score)."""
        metrics: dict[str, float | None] = {}
        for rule in self.rules:
            spans = [(start, stop) for start, stop in rule.spans]
            metrics.update(alert_summary(rule.name, spans, faults, rule.spec.grace, self.ctx.end))
        return metrics
