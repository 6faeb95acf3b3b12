"""``kind: autoscaler`` — the Kubernetes HPA control loop on one service's or database's replica group.

Every ``sync_period`` it measures the metric per replica (utilization over the period just ended
from each replica's exact busy and capacity integrals; in-flight requests or queue length as they
are at the sync), asks :mod:`simulator.mitigations.hpa` for a decision and applies it: new
replicas join at once but serve only after their start-up delay, removed ones (those still
starting first, then the newest) are deregistered at once and drain what they hold. Each change
is a ``scale`` event; ``desired`` is a gauge of the target at every sync.

A ``kind: schedule`` on the same service turns into a floor: its current step raises the
autoscaler's minimum, and the schedule itself only ever scales up.
"""

from __future__ import annotations

from simulator.mitigations import hpa
from simulator.mitigations.base import Mitigation
from simulator.mitigations.schedule import Schedule
from simulator.randomness import sampler


def limits_of(spec) -> hpa.Limits:
    """The plain-data bounds and behaviour of an :class:`AutoscalerSpec`, defaults filled in."""
    return hpa.Limits(spec.min_replicas, spec.max_replicas,
                      _rules(spec.behavior.scale_up, hpa.SCALE_UP),
                      _rules(spec.behavior.scale_down, hpa.SCALE_DOWN))


def _rules(rules, default: hpa.Rules) -> hpa.Rules:
    window = default.window if rules.stabilization_window is None else rules.stabilization_window
    policies = default.policies if rules.policies is None else tuple(
        hpa.Policy(p.type, p.value, p.period) for p in rules.policies)
    return hpa.Rules(window, policies, rules.select)


class Autoscaler(Mitigation):
    """Measures, decides and scales the target every sync period."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.group = None
        self.limits = limits_of(spec)
        self.history = hpa.History()
        self.target = hpa.Target.of(spec.metric, spec.target_value)
        self.schedules: list[Schedule] = []
        self.scale_ups = 0
        self.scale_downs = 0
        self.replicas_max = 0
        self._marks: dict = {}  # station -> (busy, capacity) worker-seconds at the last sync
        self._startup = sampler(spec.startup, ctx.streams.generator(f"mitigation.{spec.name}.startup"))

    def prepare(self, components: dict) -> None:
        component = components[self.spec.target]
        component.scalable()  # replicas come and go: the fault-capable path, reads follow members
        self.group = component.group

    def wrap(self, system) -> None:
        self.schedules = [m for m in system.mitigations
                          if isinstance(m, Schedule) and m.spec.target == self.spec.target]
        for schedule in self.schedules:
            schedule.is_floor = True

    def start(self, system) -> None:
        self.replicas_max = len(self.group.replicas)
        self._measure()  # the first period starts now
        self.ctx.later(self.spec.sync_period, self._sync)

    def counters(self) -> dict[str, float]:
        return {"scale_ups": float(self.scale_ups), "scale_downs": float(self.scale_downs),
                "replicas_max": float(self.replicas_max)}

    # --- the control loop ---------------------------------------------------------------------
    def _sync(self, event) -> None:
        now = self.ctx.env.now
        current = len(self.group.replicas)
        self.replicas_max = max(self.replicas_max, current)  # a schedule may have raised it
        value, values, starting, missing = self._measure()
        spec = self.spec
        wanted = hpa.proposal(current, [hpa.milli(v) for v in values], self.target, spec.tolerance,
                              starting, missing)
        decision = hpa.decide(now, current, wanted, self._limits_at(now), self.history)
        self.ctx.recorder.gauge(now, spec.target, {"desired": float(decision.desired)})
        if decision.desired != current:
            self._apply(decision, value)
        if now + spec.sync_period <= self.ctx.stop:
            self.ctx.later(spec.sync_period, self._sync)

    def _limits_at(self, now: float) -> hpa.Limits:
        """The bounds, with a co-targeting schedule's current step as a floor."""
        floors = [f for f in (s.floor_at(now) for s in self.schedules) if f is not None]
        if not floors:
            return self.limits
        floor = max(floors)
        return hpa.Limits(max(self.limits.min_replicas, floor), max(self.limits.max_replicas, floor),
                          self.limits.up, self.limits.down)

    def _measure(self) -> tuple[float, list[float], int, int]:
        """(mean metric, per-ready-replica values, replicas starting, ready ones without a metric)."""
        values: list[float] = []
        starting = missing = 0
        marks: dict = {}
        for station in self.group.replicas:
            busy, _ = station.areas()
            capacity = station.capacity_area()
            marks[station] = (busy, capacity)
            if station.health is not None and station.health.state == "starting":
                starting += 1
                continue
            value = self._value(station, busy, capacity)
            if value is None:
                missing += 1
            else:
                values.append(value)
        self._marks = marks
        return (sum(values) / len(values) if values else 0.0), values, starting, missing

    def _value(self, station, busy: float, capacity: float) -> float | None:
        metric = self.spec.metric
        if metric == "in_flight":
            return float(station.in_flight)
        if metric == "queue_length":
            return float(len(station.queue))
        busy0, capacity0 = self._marks.get(station, (0.0, 0.0))
        if capacity - capacity0 <= 0.0:
            return None  # no capacity all period (crashed, hung): no metric, as a dead pod
        return (busy - busy0) / (capacity - capacity0)

    def _apply(self, decision: hpa.Decision, value: float) -> None:
        current, desired = decision.current, decision.desired
        measuring = self.ctx.measuring()  # actions are counted in the window, like every counter
        if desired > current:
            self.scale_ups += measuring
            for _ in range(desired - current):
                self.group.add_replica(self._startup())
        else:
            self.scale_downs += measuring
            for station in self._victims(current - desired):
                self.group.remove_replica(station)
        self.replicas_max = max(self.replicas_max, desired)
        self.event("scale", self.spec.target,
                   f"{self.name}: {self.spec.metric}={value:.3g} (target {self.spec.target_value:g}), "
                   f"{current} -> {desired} replicas (proposal {decision.proposal}, "
                   f"stabilized {decision.stabilized}; {decision.reason})")

    def _victims(self, n: int) -> list:
        """Replicas still starting go first (as a ReplicaSet deletes unready pods first), then the newest."""
        replicas = self.group.removable()
        is_starting = [s.health is not None and s.health.state == "starting" for s in replicas]
        order = sorted(range(len(replicas)), key=lambda i: (not is_starting[i], -replicas[i].index))
        return [replicas[i] for i in order[:n]]
