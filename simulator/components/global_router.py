"""``kind: global`` — global routing (GeoDNS, anycast) across regional entry points.

Each request goes to the entry of its workload's region while the router believes that region
healthy; otherwise to the first healthy entry in ``targets`` order, paying ``remote_latency``. The
router learns the health of each entry through its own probes (``health_check``: an entry is up
while some replica or copy of it answers), so after a region dies its users keep being sent there
until ``unhealthy_after`` probes have failed: the failover is not instant.
"""

from __future__ import annotations

from simulator.components.base import Component, dist_factory, take
from simulator.components.edge import CallEdge
from simulator.components.entry_probes import EntryProbes
from simulator.request import UNAVAILABLE


class RouterStats:
    """Which entries the router believes healthy, and how many requests it sent away from home."""

    def __init__(self, router: GlobalRouter):
        self.router = router
        self._mark = 0

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"healthy": float(sum(self.router.believed))}

    def mark_warmup(self, now: float) -> None:
        self._mark = self.router.remote

    def window(self, now: float) -> dict[str, float]:
        return {"remote_requests": float(self.router.remote - self._mark)}


class GlobalRouter(Component):
    """Component for ``kind: global``."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._later = ctx.scheduler()
        self._remote_slot = plan.slot(spec.name, "remote", dist_factory(spec.remote_latency))
        self.edges: list[CallEdge] = []
        self.believed: list[bool] = []
        self.home: dict[int, int] = {}  # workload index -> its region's target position
        self.remote = 0
        self.drained: list[bool] = []  # regions drained by an alert's shift_traffic action
        self.stats = RouterStats(self)

    def wire(self, components: dict) -> None:
        """Resolve the regional entries; each workload's home is the entry in its region."""
        self.edges = [CallEdge(self.name, components[t]) for t in self.spec.targets]
        self.drained = [False] * len(self.edges)
        self.believed = [True] * len(self.edges)  # replaced by the probes' list at start()
        regions = [components[t].spec.region for t in self.spec.targets]
        # workload index -> its home target (a workload without a region, or in none: the first)
        self.home = {i: (regions.index(r) if r in regions else 0)
                     for i, r in enumerate(self.ctx.workload_regions)}

    def track(self) -> None:
        """Nothing to switch: the router's own crash is handled by a gate in front of it."""

    def handle(self, att, done) -> None:
        """Component protocol: home region if believed healthy, else the first healthy one."""
        home = self.home.get(att.client.workload_index, 0)
        if self.believed[home] and not self.drained[home]:
            self.edges[home].send(att, done)
            return
        other = next((i for i, ok in enumerate(self.believed) if ok and not self.drained[i]), None)
        if other is None:
            done(UNAVAILABLE)
            return
        self.remote += 1
        delay = take(att.work, *self._remote_slot)
        edge = self.edges[other]
        self._later(delay, lambda _: edge.send(att, done))

    def drain(self, region: str) -> str:
        """Send no more traffic to ``region``'s entries (an operator's traffic shift); says what it did."""
        drained = [i for i, e in enumerate(self.edges) if e.target.spec.region == region]
        for i in drained:
            self.drained[i] = True
        names = ", ".join(self.edges[i].target.name for i in drained)
        return f"{self.name} drained region {region} ({names})"

    # --- health checks of the regional entries ----------------------------------------------------
    def start(self) -> None:
        """Start probing the entries (one round per ``health_check.interval``)."""
        self.probes = EntryProbes(self.ctx, self.spec.health_check, [e.target for e in self.edges],
                                  self._changed)
        self.believed = self.probes.believed
        self.probes.start()

    def _changed(self, i: int, healthy: bool) -> None:
        kind = "detected_up" if healthy else "rerouted"
        self.ctx.recorder.event(self.ctx.env.now, kind, self.name, self.edges[i].target.name)
