"""Who sends a request: a workload's client population (``clients: {count, skew}``).

A request's client is part of the request, like its work: its uniform is drawn at arrival into a
work slot (stream ``workload.<w>.<entry>.client.<w>``), so request #N comes from the same client in
every variant (common random numbers), and a retry keeps its request's client (:meth:`carry`).
Clients follow a Zipf law: client ``i`` (0-based) has weight ``1 / (i + 1) ** skew``, so with a
high skew client 0 is the abusive one a per-client rate limit singles out.
"""

from __future__ import annotations

import numpy as np

from simulator.components.base import uniform_factory


class Population:
    """Maps a request's pre-drawn uniform to its client id."""

    def __init__(self, slot: int, count: int, skew: float):
        self.slot = slot
        weights = 1.0 / np.arange(1, count + 1, dtype=float) ** skew
        self.cdf = np.cumsum(weights) / weights.sum()
        self.last = count - 1

    @classmethod
    def register(cls, plan, workload) -> Population | None:
        """Reserve the workload's client slot (before any drawer is built); None without clients."""
        if workload.clients is None:
            return None
        slot, _ = plan.slot(workload.entry, f"client.{workload.name}", uniform_factory)
        return cls(slot, workload.clients.count, workload.clients.skew)

    def client_of(self, att) -> int:
        """The client id (0 = heaviest) of the request ``att`` belongs to."""
        u = att.work[self.slot]
        return min(int(np.searchsorted(self.cdf, u, side="right")), self.last)

    def carry(self, failed, retry) -> None:
        """A retry comes from the same client as the attempt it repeats."""
        retry.work[self.slot] = failed.work[self.slot]


def client_of(att) -> int:
    """The client id of ``att``: 0 when its workload declares no population."""
    population = att.client.population
    return 0 if population is None else population.client_of(att)
