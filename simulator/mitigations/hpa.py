"""The Kubernetes HorizontalPodAutoscaler decision, as pure functions over plain data.

Written from ``pkg/controller/podautoscaler`` (``replica_calculator.go`` and ``horizontal.go``,
as of the releases where ``selectPolicy: Min`` works and a period's starting count nets out both
scale-ups and scale-downs):

1. :func:`proposal` — ``ceil(ratio x replicas with metrics)`` with ``ratio = mean metric /
   target`` computed as Kubernetes does, in integers (:class:`Target`); no change inside the
   tolerance band. Replicas still starting are left out, and on a scale-up counted as idle
   (Kubernetes' "unready pods"); replicas without a metric (no capacity during the whole period)
   count as on target when scaling down and idle when scaling up ("missing pods"). If counting
   them flips the direction or lands in the band, nothing changes.
2. :func:`decide` — outside ``[min, max]`` jump straight to the bound; otherwise *stabilize*
   (move from the current count towards the proposal no further than the lowest recommendation
   of the scale-up window and the highest of the scale-down window, the new one included) and
   then *rate-limit* by the policies of the direction (each looks at the replicas at the start of
   its own sliding ``period``; ``select`` picks the most or least permissive), clamped to
   ``[min, max]``.

Times are seconds. A recommendation or a scale event counts inside a window when it is strictly
younger than the window, as ``time.After(cutoff)`` does. Kubernetes reuses one stale slot per
sync instead of pruning; stale recommendations are never counted, so pruning them is equivalent
(for scale events see :func:`_store_event`).
Metric values are integers as in Kubernetes (``metrics/utilization.go``): each replica's usage is
read in milli-units (metrics-server reports whole nanocores; ``Quantity.MilliValue`` rounds them
up), utilization is the truncated whole percent ``sum(usage) x 100 / sum(requests)`` and a Pods
metric's average is ``sum // count``. So floating-point noise in a measured busy time (a
utilization of 0.10000000000045) cannot tip ``ceil`` over a whole replica.
Deliberately not modelled: the CPU initialisation period and the readiness delay (a starting
replica here is simply not ready).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INT32_MAX = 2**31 - 1
REQUEST_MILLI = 1000
"""Each replica's resource request: its whole capacity, 1000 milli-units ("one core")."""


@dataclass(frozen=True)
class Policy:
    """At most ``value`` pods (``kind="pods"``) or percent (``"percent"``) per ``period`` seconds."""

    kind: str
    value: int
    period: float


@dataclass(frozen=True)
class Rules:
    """One direction of the HPA ``behavior``."""

    window: float
    policies: tuple[Policy, ...]
    select: str = "max"  # "max" | "min" | "disabled"


SCALE_UP = Rules(0.0, (Policy("percent", 100, 15.0), Policy("pods", 4, 15.0)), "max")
"""Kubernetes' default scale-up behaviour: double or add 4 pods per 15 s, whichever is more."""
SCALE_DOWN = Rules(300.0, (Policy("percent", 100, 15.0),), "max")
"""Kubernetes' default scale-down behaviour: 5 minutes of stabilization, then any decrease."""


@dataclass(frozen=True)
class Limits:
    """Replica bounds and behaviour of one autoscaler."""

    min_replicas: int
    max_replicas: int
    up: Rules = SCALE_UP
    down: Rules = SCALE_DOWN


@dataclass
class History:
    """What the controller remembers between syncs: recommendations and scale events, (t, n)."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    ups: list[tuple[float, int]] = field(default_factory=list)
    downs: list[tuple[float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """One sync: the metric's proposal, what stabilization made of it, the result and why."""

    current: int
    proposal: int
    stabilized: int
    desired: int
    reason: str


# --- 1. the replica calculator ------------------------------------------------------------------
def milli(value: float) -> int:
    """A measured value in milli-units as the HPA reads it: whole nano-units (what metrics-server
    reports), then ``MilliValue``, which rounds up."""
    nano = round(value * 1_000_000_000)
    return -(-nano // 1_000_000)


@dataclass(frozen=True)
class Target:
    """A target in Kubernetes' integer units: a whole percent of the request (a Resource metric's
    ``averageUtilization``) or an ``averageValue`` in milli-units (a Pods metric)."""

    kind: str  # "utilization" | "average"
    value: int

    @classmethod
    def of(cls, metric: str, target: float) -> Target:
        """``utilization`` targets are fractions (0.6 is 60%); others are counts per replica."""
        if metric == "utilization":
            return cls("utilization", round(target * 100))
        return cls("average", max(milli(target), 1))

    def ratio(self, values: list[int]) -> float:
        """``GetResourceUtilizationRatio`` / ``GetMetricUsageRatio`` on milli-unit values."""
        if self.kind == "utilization":
            return (sum(values) * 100 // (REQUEST_MILLI * len(values))) / self.value
        return (sum(values) // len(values)) / self.value

    def on_target(self) -> int:
        """What a replica without a metric is taken to use on a scale-down: exactly the target."""
        if self.kind == "utilization":
            return REQUEST_MILLI * self.value // 100
        return self.value


def proposal(current: int, values: list[int], target: Target, tolerance: float,
             starting: int = 0, missing: int = 0) -> int:
    """Replicas the metric asks for; ``values`` holds one milli-unit value per ready replica.

    Kubernetes: ``GetResourceReplicas`` / ``calcPlainMetricReplicas``.
    """
    if not values:
        return current  # no metrics at all: Kubernetes reports an error and leaves the scale alone
    ratio = target.ratio(values)
    rebalance = starting > 0 and ratio > 1.0
    if not rebalance and missing == 0:
        if abs(1.0 - ratio) <= tolerance:
            return current
        return math.ceil(ratio * len(values))
    filled = list(values)
    if missing and ratio != 1.0:  # at exactly 1.0 Kubernetes leaves them out
        filled += [target.on_target() if ratio < 1.0 else 0] * missing
    if rebalance:
        filled += [0] * starting
    new_ratio = target.ratio(filled)
    if abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio):
        return current
    replicas = math.ceil(new_ratio * len(filled))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current
    return replicas


# --- 2. normalization with behaviours ----------------------------------------------------------
def decide(now: float, current: int, wanted: int, limits: Limits, history: History) -> Decision:
    """The controller's reconcile step for one sync; updates ``history``."""
    if not history.recommendations:
        history.recommendations.append((now, current))  # recordInitialRecommendation
    if current > limits.max_replicas:
        desired, stabilized, reason = limits.max_replicas, wanted, "above max_replicas"
    elif current < limits.min_replicas:
        desired, stabilized, reason = limits.min_replicas, wanted, "below min_replicas"
    else:
        stabilized = stabilize(now, current, wanted, limits, history)
        desired, reason = limit_rate(now, current, stabilized, limits, history)
        if stabilized != wanted and desired == stabilized:
            reason = "ScaleUpStabilized" if wanted >= current else "ScaleDownStabilized"
    if desired != current:
        _store_event(now, current, desired, limits, history)
    return Decision(current, wanted, stabilized, desired, reason)


def stabilize(now: float, current: int, wanted: int, limits: Limits, history: History) -> int:
    """``current`` moved towards ``wanted`` only as far as every recommendation of the windows
    agrees: up to the lowest of the scale-up window, down to the highest of the scale-down window.
    Records ``wanted``."""
    up = down = wanted
    for t, recommendation in history.recommendations:
        if t > now - limits.up.window:
            up = min(up, recommendation)
        if t > now - limits.down.window:
            down = max(down, recommendation)
    obsolete = now - max(limits.up.window, limits.down.window)
    history.recommendations = [(t, r) for t, r in history.recommendations if not t < obsolete]
    history.recommendations.append((now, wanted))
    return min(max(current, up), down)


def limit_rate(now: float, current: int, desired: int, limits: Limits,
               history: History) -> tuple[int, str]:
    """Clamp ``desired`` to the bounds and to what the policies allow.

    Kubernetes: ``convertDesiredReplicasWithBehaviorRate``.
    """
    if desired > current:
        ceiling = max(up_limit(now, current, limits.up, history), current)
        if limits.max_replicas > ceiling:
            bound, reason = ceiling, "ScaleUpLimit"
        else:
            bound, reason = limits.max_replicas, "TooManyReplicas"
        if desired > bound:
            return bound, reason
    elif desired < current:
        floor = min(down_limit(now, current, limits.down, history), current)
        if limits.min_replicas < floor:
            bound, reason = floor, "ScaleDownLimit"
        else:
            bound, reason = limits.min_replicas, "TooFewReplicas"
        if desired < bound:
            return bound, reason
    return desired, "DesiredWithinRange"


def up_limit(now: float, current: int, rules: Rules, history: History) -> int:
    """The most replicas the scale-up policies allow now."""
    if rules.select == "disabled":
        return current
    pick, result = (min, INT32_MAX) if rules.select == "min" else (max, -INT32_MAX)
    for policy in rules.policies:
        start = current - changed_within(now, policy.period, history.ups) \
            + changed_within(now, policy.period, history.downs)
        if policy.kind == "pods":
            proposed = start + policy.value
        else:  # rounded up, or a small group could never grow
            proposed = math.ceil(start * (1 + policy.value / 100))
        result = pick(result, proposed)
    return result


def down_limit(now: float, current: int, rules: Rules, history: History) -> int:
    """The fewest replicas the scale-down policies allow now."""
    if rules.select == "disabled":
        return current
    pick, result = (max, -INT32_MAX) if rules.select == "min" else (min, INT32_MAX)
    for policy in rules.policies:
        start = current - changed_within(now, policy.period, history.ups) \
            + changed_within(now, policy.period, history.downs)
        if policy.kind == "pods":
            proposed = start - policy.value
        else:  # truncated towards zero, as the int32 conversion does
            proposed = int(start * (1 - policy.value / 100))
        result = pick(result, proposed)
    return result


def changed_within(now: float, period: float, events: list[tuple[float, int]]) -> int:
    """Replicas added (or removed) by the events strictly younger than ``period``."""
    return sum(change for t, change in events if t > now - period)


def _store_event(now: float, before: int, after: int, limits: Limits, history: History) -> None:
    """Remember a scale event; forget the ones no policy of either direction can still see.

    Both directions' policies read both lists, so events are kept for the longest period of all.
    (Kubernetes prunes each list by its own direction's longest period, reusing one stale slot per
    store, so a stale event may or may not still count; we keep it while it can count.)
    """
    attr = "ups" if after > before else "downs"
    longest = max((p.period for p in (*limits.up.policies, *limits.down.policies)), default=0.0)
    kept = [(t, n) for t, n in getattr(history, attr) if not t < now - longest]
    kept.append((now, abs(after - before)))
    setattr(history, attr, kept)
