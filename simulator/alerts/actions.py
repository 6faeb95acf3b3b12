"""What a firing alert does: its ``on_fire`` actions, each once per firing, ``delay`` after it.

Every action reuses the machinery the rest of the model already has, so an automated remedy
behaves exactly like the thing it automates:

- ``restart``: the replica group's crash then restart (as a ``crash`` fault): whatever the replica
  holds, queued or in service, ends now as ``error``; it serves again after ``startup``. The
  replica chosen is the serving one with the most requests queued or in service: under a balancer
  that spreads arrivals evenly, Little's law makes that the one with the worst latency now (a hung
  or slow replica piles work up); ties go to the lowest index.
- ``scale_out``: ``by`` calls of the group's ``add_replica`` with a start-up drawn as an
  autoscaler draws it: the new replicas join at once and serve only after it.
- ``shift_traffic``: the global router drains the region (its workloads fail over to another
  region, paying the remote latency, as when the region's entry is believed down).
- ``rollback``: the deployment rolls back (all traffic to the old version) unless it already did.
- ``page``: only the event.

Each action is an ``action`` event (component = alert name, detail = what it did).
"""

from __future__ import annotations

from simulator.randomness import sampler


class Actions:
    """One rule's ``on_fire`` list, bound to a built system."""

    def __init__(self, system, alert):
        self.ctx = system.ctx
        self.alert = alert.name
        self.steps = [_bind(system, alert.name, i, action) for i, action in enumerate(alert.on_fire)]

    def fired(self) -> None:
        """The rule fired now: schedule each action after its delay."""
        for action, run in self.steps:
            self.ctx.later(action.delay, lambda _, run=run, kind=action.kind: self._act(kind, run))

    def _act(self, kind: str, run) -> None:
        self.ctx.recorder.event(self.ctx.env.now, "action", self.alert, f"{kind}: {run()}")


def _bind(system, alert: str, index: int, action):
    """(action, a function doing it now and saying what it did)."""
    kind = action.kind
    if kind == "restart":
        return action, _restart(system, action)
    if kind == "scale_out":
        return action, _scale_out(system, alert, index, action)
    if kind == "shift_traffic":
        router = system.components[action.router]
        return action, lambda: router.drain(action.region)
    if kind == "rollback":
        deployment = next(m for m in system.mitigations if m.name == action.deployment)
        return action, lambda: deployment.roll_back(f"alert {alert}")
    return action, lambda: f"paged {action.to}"


def _restart(system, action):
    component = system.components[action.target]
    component.track()  # replicas can die and come back: the fault-capable path
    group = component.group

    def restart() -> str:
        serving = [s for s in group.replicas if s.health.state in ("up", "hung", "paused")]
        if not serving:
            return f"{action.target}: no replica to restart"
        worst = max(serving, key=lambda s: (s.in_flight, -s.index))
        lost = worst.in_flight
        group.crash(worst)
        group.restart(worst, action.startup)
        return f"{worst.name} restarted, {lost} requests queued or in service lost"

    return restart


def _scale_out(system, alert: str, index: int, action):
    component = system.components[action.target]
    component.scalable()
    group = component.group
    startup = sampler(action.startup, system.ctx.streams.generator(f"alert.{alert}.{index}.startup"))

    def scale_out() -> str:
        before = len(group.replicas)
        for _ in range(action.by):
            group.add_replica(startup())
        return f"{action.target} {before} -> {len(group.replicas)} replicas"

    return scale_out
