"""Monitoring inside the simulation: alert rules evaluated during the run, scored against faults.

:func:`plan_alerts` returns None for a scenario without ``alerts:`` (nothing is installed, so such
a run pays nothing); otherwise it installs the :class:`~simulator.alerts.tap.Tap` on the clients
and returns the :class:`~simulator.alerts.evaluation.Alerting` the builder starts and the runner
asks for summary metrics. See docs/alerts.md.
"""

from __future__ import annotations

from simulator.alerts.actions import Actions
from simulator.alerts.conditions import condition_for
from simulator.alerts.evaluation import Alerting, RuleRun
from simulator.alerts.tap import Tap

__all__ = ["Alerting", "plan_alerts"]


def plan_alerts(system) -> Alerting | None:
    """The alert rules of ``system.spec`` wired to a tap on its clients, or None without rules."""
    spec = system.spec
    if not spec.alerts:
        return None
    tap = Tap(len(spec.workload))
    rules = [RuleRun(alert, condition_for(alert, tap, spec, system.ctx.streams),
                     Actions(system, alert) if alert.on_fire else None) for alert in spec.alerts]
    tap.install(system.clients, system.ctx.recorder)  # after the conditions chose their gauges
    return Alerting(system.ctx, rules)
