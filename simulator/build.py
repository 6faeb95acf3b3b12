"""From a validated scenario spec to a live, wired, started system.

The steps, in order: *construct* components in file order (which fixes the work-slot layout);
*prepare* faults and mitigations (the components a fault can touch switch to their fault-capable
path; the others keep the plain hot path); *wire* components to each other by name (call edges);
build the workloads (each client's edge to its entry); collect every edge into the system's
:class:`~simulator.components.edge.Edges` map and stack the gates on the edges into gated
components; let faults and mitigations stack their *layers* on the edges (the order on an edge
is fixed by ``Position``, not by build order); then *start* control loops, sources, samplers and
fault injectors. Nothing starts as a side effect of construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from simulator.alerts import plan_alerts
from simulator.components.base import UNIFORM01
from simulator.components.cache import Cache
from simulator.components.counter import Counter
from simulator.components.database import Database
from simulator.components.dns import Dns
from simulator.components.edge import Edges, Position
from simulator.components.external import External
from simulator.components.global_cache import GlobalCache
from simulator.components.global_router import GlobalRouter
from simulator.components.load_balancer import LoadBalancer
from simulator.components.queue import Queue
from simulator.components.registry import Registry
from simulator.components.service import Service
from simulator.data.books import DataBooks
from simulator.data.ops import DataDraw
from simulator.engine import SimContext
from simulator.faults import plan_faults
from simulator.mitigations import plan_mitigations
from simulator.mitigations.deadlines import plan_edge_calls
from simulator.randomness import RandomStreams, sampler
from simulator.recorder import Recorder
from simulator.scenario.references import reachable_from
from simulator.work import WorkPlan
from simulator.workload.arrivals import BatchSource, ClosedLoopSource, OpenLoopSource
from simulator.workload.backoff import Backoff
from simulator.workload.client import Client
from simulator.workload.population import Population
from simulator.workload.profiles import RateFunction, knots_for

COMPONENT_CLASSES = {
    "service": Service,
    "load_balancer": LoadBalancer,
    "database": Database,
    "cache": lambda ctx, spec, plan: (Cache if spec.global_ is None else GlobalCache)(ctx, spec, plan),
    "external": External,
    "global": GlobalRouter,
    "dns": Dns,
    "registry": Registry,
    "queue": Queue,
    "counter": Counter,
}
"""The one registry of component kinds; their call edges are listed by scenario.references.callees."""


@dataclass
class System:
    """A built model: its context, components by name, clients and sources."""

    ctx: SimContext
    components: dict[str, object]
    clients: list[Client] = field(default_factory=list)
    sources: list[object] = field(default_factory=list)
    injectors: list[object] = field(default_factory=list)
    mitigations: list[object] = field(default_factory=list)
    plan: WorkPlan | None = None
    spec: object = None
    edges: Edges = field(default_factory=lambda: Edges([]))
    alerts: object = None  # simulator.alerts.Alerting, or None without ``alerts:``


def build(spec, *, seed: int, replication: int) -> System:
    """Construct and wire the system for ``spec``; call :func:`start` to set it going."""
    env = simpy.Environment()
    streams = RandomStreams(seed, replication)
    recorder = Recorder([w.name for w in spec.workload])
    ctx = SimContext(env, streams, recorder, warmup=spec.warmup, end=spec.duration,
                     stop=spec.duration + spec.effective_drain,
                     workload_regions=tuple(w.region for w in spec.workload))
    if any(w.operations is not None or w.keys is not None for w in spec.workload):
        ctx.data = DataBooks(ctx)  # before the components: the ones holding data register with it
    plan = WorkPlan(streams)
    components = {c.name: COMPONENT_CLASSES[c.kind](ctx, c, plan) for c in spec.components}
    injectors = plan_faults(ctx, spec, components)
    mitigations = [*plan_edge_calls(ctx, spec), *plan_mitigations(ctx, spec)]  # edge timeouts innermost
    for step in (*injectors, *mitigations):
        step.prepare(components)  # track the targets, put gates in front of them
    for component in components.values():
        component.wire(components)
    system = System(ctx, components, injectors=injectors, mitigations=mitigations, plan=plan, spec=spec)
    populations = [Population.register(plan, w) for w in spec.workload]  # before any drawer
    for index, workload in enumerate(spec.workload):
        client, source = _workload(ctx, plan, spec, components, workload, index)
        client.population = populations[index]
        system.clients.append(client)
        system.sources.append(source)
    system.edges = _edges(components, system.clients)
    for step in (*injectors, *mitigations):
        step.wrap(system)  # layers on call edges, clients' included
    system.alerts = plan_alerts(system)
    if records_spill(spec):
        recorder.spill_after()
    return system


def records_spill(spec) -> bool:
    """Whether a long run's per-request records go to disk as it runs (simulator.spill): not with
    alert rules or batch workloads, which read arrivals by request id during the run."""
    return not spec.alerts and not any(w.arrivals.pattern == "batch" for w in spec.workload)


def _edges(components: dict, clients: list[Client]) -> Edges:
    """Every call edge of the system; a gated component's gate goes on every edge into it."""
    edges = Edges([*(e for c in components.values() for e in c.edges), *(c.edge for c in clients)])
    for component in components.values():
        if component.gate is not None:
            for edge in edges.into(component.name):
                edge.stack(Position.GATE, component.gate.layer, component.gate)
    return edges


def _workload(ctx, plan, spec, components, workload, index):
    name = workload.name
    streams = ctx.streams
    reach = reachable_from(spec, workload.entry)
    retry = workload.client.retry
    backoff = Backoff(retry, sampler(UNIFORM01, streams.generator(f"workload.{name}.client.retry_jitter"))) \
        if retry else None
    client = Client(ctx, workload.client, components[workload.entry], index,
                    plan.drawer(name, reach), plan.drawer(name, reach, retry=True), backoff)
    client.keep_across_retries(plan.sticky_slots())
    if workload.operations is not None or workload.keys is not None:  # keys alone: read-only
        client.use_data(*(DataDraw(workload.operations, workload.keys, streams.generator(f"{prefix}.op"),
                                   streams.generator(f"{prefix}.key"))
                          for prefix in (f"workload.{name}.data", f"workload.{name}.data.injected")))
    arrivals = workload.arrivals
    if arrivals.pattern == "closed":
        source = ClosedLoopSource(ctx, client, arrivals.users, arrivals.think_time,
                                  streams.generator(f"workload.{name}.think"))
    elif arrivals.pattern == "batch":
        source = BatchSource(ctx, client, arrivals, name)
    else:
        rate = RateFunction(knots_for(workload.profile, arrivals.rate, spec.duration))
        source = OpenLoopSource(ctx, client, rate, arrivals.pattern == "poisson",
                                streams.generator(f"workload.{name}.arrivals"))
    return client, source


def start(system: System, sample_interval: float) -> None:
    """Start arrivals, the gauge sampler and the warm-up mark."""
    ctx = system.ctx
    for component in system.components.values():
        component.start()  # control loops such as health checks
    for source in system.sources:
        source.start()
    for step in (*system.injectors, *system.mitigations):
        step.start(system)
    if system.alerts is not None:
        system.alerts.start()
    gauges = {**system.components, **{m.name: m for m in system.mitigations if m.stats is not None}}
    _GaugeSampler(ctx, gauges, sample_interval).start()
    ctx.later(ctx.warmup, _mark_warmup(system))


def _mark_warmup(system: System):
    def mark(event) -> None:
        now = system.ctx.env.now
        for component in system.components.values():
            component.stats.mark_warmup(now)
        system.ctx.recorder.event(now, "warmup_end")

    return mark


class _GaugeSampler:
    """Samples every component's gauges at a fixed interval (never per request)."""

    def __init__(self, ctx: SimContext, components: dict, interval: float):
        self.ctx = ctx
        self.components = components
        self.interval = interval

    def start(self) -> None:
        self.ctx.later(self.interval, self.sample)

    def sample(self, event) -> None:
        now = self.ctx.env.now
        record = self.ctx.recorder.gauge
        for name, component in self.components.items():
            record(now, name, component.stats.sample(now, self.interval))
        if now + self.interval <= self.ctx.end + 1e-9:
            self.ctx.later(self.interval, self.sample)
