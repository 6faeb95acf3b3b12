"""Replica selection policies: round_robin, random, least_outstanding, power_of_two, weighted.

Each factory returns a zero-argument picker over a *live* list of stations, so a load balancer can
later shrink the list to the replicas it believes healthy (or an autoscaler grow it) without
rebuilding the picker. Random choices come from the balancer's own named stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

from simulator.components.station import Station
from simulator.randomness import sampler

Picker = Callable[[], Station]
_UNIFORM = SimpleNamespace(dist="uniform", low=0.0, high=1.0)


def make_picker(policy: str, stations: list[Station], rng, weights: Sequence[float] | None = None) -> Picker:
    """The picker for ``policy`` over ``stations`` (uniforms drawn from ``rng`` when needed)."""
    if policy == "round_robin":
        return _round_robin(stations)
    if policy == "weighted":
        return _smooth_weighted(stations, list(weights or [1.0] * len(stations)))
    uniform = sampler(_UNIFORM, rng)
    if policy == "random":
        return _random(stations, uniform)
    if policy == "least_outstanding":
        return _least_outstanding(stations)
    if policy == "power_of_two":
        return _power_of_two(stations, uniform)
    raise ValueError(f"unknown balancing policy {policy!r}")  # the schema rules this out


def _round_robin(stations: list[Station]) -> Picker:
    state = [-1]

    def pick() -> Station:
        i = state[0] + 1
        if i >= len(stations):
            i = 0
        state[0] = i
        return stations[i]

    return pick


def _random(stations: list[Station], uniform) -> Picker:
    def pick() -> Station:
        return stations[int(uniform() * len(stations))]

    return pick


def _least_outstanding(stations: list[Station]) -> Picker:
    """Fewest requests queued or in service; ties broken by a rotating start (no bias to replica 0)."""
    state = [0]

    def pick() -> Station:
        n = len(stations)
        start = state[0] = (state[0] + 1) % n
        best = stations[start]
        best_load = best.busy + len(best.queue)
        for k in range(1, n):
            s = stations[(start + k) % n]
            load = s.busy + len(s.queue)
            if load < best_load:
                best, best_load = s, load
        return best

    return pick


def _power_of_two(stations: list[Station], uniform) -> Picker:
    """Two distinct replicas at random, keep the one with fewer outstanding (Mitzenmacher)."""

    def pick() -> Station:
        n = len(stations)
        if n == 1:
            return stations[0]
        a = int(uniform() * n)
        b = int(uniform() * (n - 1))
        if b >= a:
            b += 1
        sa, sb = stations[a], stations[b]
        return sb if sb.busy + len(sb.queue) < sa.busy + len(sa.queue) else sa

    return pick


def _smooth_weighted(stations: list[Station], weights: list[float]) -> Picker:
    """nginx's smooth weighted round robin: deterministic, spreads heavy replicas' turns evenly.

    Weights belong to replicas (by index), not to list positions, so the rotation stays right
    when the balancer's list of healthy replicas shrinks or grows.
    """
    current: dict[Station, float] = {}

    def pick() -> Station:
        total = 0.0
        best, best_current = stations[0], -float("inf")
        for s in stations:
            w = weights[s.index] if s.index < len(weights) else 1.0
            c = current.get(s, 0.0) + w
            current[s] = c
            total += w
            if c > best_current:
                best, best_current = s, c
        current[best] = best_current - total
        return best

    return pick
