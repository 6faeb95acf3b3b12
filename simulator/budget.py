"""What a run will cost, estimated from its spec before anything is built, and refused above limits.

A valid file can ask for more than the machine has: ``rate: 1e9/s`` or ``duration: 1e9s`` (every
request is recorded, so memory grows with the run), ``replicas: 10000000`` (every replica is an
object built up front), a Zipf ``catalog: 1e9`` (an 8 GB table of probabilities), a batch every
millisecond. Those runs used to grow until the machine gave up; :func:`check_budget` refuses them
in milliseconds with one line naming the file, the estimate, the limit and the flag that raises it.

Every number here is an *estimate*, computed from the spec alone, deterministic and cheap:

* requests: each workload's arrivals over ``duration``: the open-loop rate integrated exactly over
  the same piecewise-linear knots the run uses (:mod:`simulator.workload.profiles`; a daily cycle
  integrated in closed form), the extra requests of surges (the fault's own knots) and bursts,
  a batch's items times its releases, and closed-loop users at most once per think time. Arrivals
  during the drain after ``duration`` are not counted (a healthy drain is short).
* events: requests x hops x attempts, an upper bound: hops is the number of component visits a
  request makes when every call is made and every call retry is used, attempts the client's
  ``retry.max_attempts``.
* replicas: every replica built or scaled to (a service's ``replicas``, or its autoscaler's
  ``max_replicas`` or schedule's largest step if higher; a database's primary and read replicas;
  a balancer's copies); keys: the entries of the tables built up front (a Zipf catalog's
  probabilities, a warm cache's entries, a workload's client population, a daily cycle's knots).
* memory: a fixed base plus measured costs per request, replica and key (:data:`BYTES`); a run
  whose records spill to disk holds at most :data:`SPILLED_HELD` requests in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields

from simulator.build import records_spill
from simulator.recorder import SPILL_CHUNK
from simulator.scenario.problems import Problem, ScenarioError

GIB = 2**30


@dataclass(frozen=True)
class Limits:
    """Largest estimate a run may have; each can be raised with its flag (``--max-requests``...)."""

    requests: float = 50e6
    events: float = 2e9
    replicas: float = 100_000
    keys: float = 10e6
    memory: float = 8 * GIB


@dataclass(frozen=True)
class Estimate:
    """What one run is estimated to take (see the module docstring for how each is counted).

    Attributes:
        requests: Requests arriving over the duration.
        events: Component visits, every call and retry made (an upper bound).
        replicas: Replicas built or scaled to.
        keys: Entries of key and client tables built up front.
        memory: Bytes at the peak of the run.
        where: Key path of the largest contributor to each quantity (for the message).
    """

    requests: float
    events: float
    replicas: float
    keys: float
    memory: float
    where: dict[str, str]


BYTES = {"base": 200e6, "request": 80.0, "replica": 2_000.0, "key": 24.0}

SPILLED_HELD = 4 * SPILL_CHUNK
"""Requests a run whose records spill to disk holds in memory at most, counted generously: the
chunk being filled, the one being written, stragglers, and the end-of-run analyses' pieces
(99.3M requests of the 3-tier demo peaked at 380 MB, README Performance)."""
"""Measured costs: the process with its imports and a small run (about 170 MB, rounded up);
per request, the recorder's arrays and the tables made from them at the end (78 B: the peak RSS
of a 1M-request run less that of a 100k-request one, over the 900k requests between them); per
replica, its objects and simpy resources (1.1 kB: 20,000 replicas against one, rounded up for
replicas with more around them, such as health checks); per key, the float64 table a Zipf law or a client
population builds (8 B each) and its temporaries."""

FLAGS = {"requests": "--max-requests", "events": "--max-events", "replicas": "--max-replicas",
         "keys": "--max-keys", "memory": "--max-memory"}
WHAT = {"requests": "requests", "events": "events (requests x hops x attempts)",
        "replicas": "replicas", "keys": "table entries (key catalogs, clients, profile knots)",
        "memory": "of memory"}
BUILT = ("replicas", "keys")
"""Quantities the run builds up front, whatever its duration."""


def estimate(spec, duration: float | None = None) -> Estimate:
    """The estimate for one run of ``spec`` (``duration`` overrides the spec's, as ``--duration`` does)."""
    end = float(spec.duration if duration is None else duration)
    per_workload = [workload_requests(spec, index, end) for index in range(len(spec.workload))]
    requests = sum(per_workload)
    events = sum(n * hops(spec, w.entry) * attempts(w.client.retry)
                 for n, w in zip(per_workload, spec.workload, strict=True))
    replicas, replica_where = _largest(replica_counts(spec))
    keys, key_where = _largest(key_counts(spec, end))
    held = min(requests, SPILLED_HELD) if records_spill(spec) else requests  # the rest is on disk
    memory = BYTES["base"] + BYTES["request"] * held + BYTES["replica"] * replicas + BYTES["key"] * keys
    busiest = max(range(len(per_workload)), key=per_workload.__getitem__)
    where = {"requests": f"workload.{spec.workload[busiest].name}", "events": "workload",
             "replicas": replica_where, "keys": key_where, "memory": ""}
    return Estimate(requests, events, replicas, keys, memory, where)


_IN_FORCE: ContextVar[Limits | None] = ContextVar("budget_limits", default=None)


@contextmanager
def limits_in_force(limits: Limits) -> Iterator[None]:
    """Make ``limits`` the ones :func:`check_budget` applies inside the block (the experiment
    commands set the ``--max-*`` options this way; the library checks each run where it makes
    its tasks, so every command, sweep point and ranking round is checked the same way)."""
    token = _IN_FORCE.set(limits)
    try:
        yield
    finally:
        _IN_FORCE.reset(token)


def check_budget(spec, source: str, limits: Limits | None = None, *, duration: float | None = None,
                 variant: str | None = None) -> Estimate:
    """The estimate, or a ScenarioError (one line, exit 2 in the CLI) when any part is over its
    limit; ``limits`` default to those in force (:func:`limits_in_force`), else :class:`Limits`()."""
    limits = limits or _IN_FORCE.get() or Limits()
    found = estimate(spec, duration)
    for item in fields(Limits):
        name = item.name
        value, limit = getattr(found, name), getattr(limits, name)
        if value > limit:
            raise ScenarioError([Problem(source, found.where[name], _message(name, value, limit, spec,
                                                                               duration, variant))])
    return found


def check_variants(scenario, variants: Iterable[str], limits: Limits | None = None, *,
                   duration: float | None = None) -> None:
    """:func:`check_budget` on each of a loaded scenario's ``variants`` (named in the message when
    there are several), before any of them runs."""
    names = list(variants)
    for name in names:
        check_budget(scenario.resolve(name), scenario.source, limits, duration=duration,
                     variant=name if len(names) > 1 else None)


def _message(name: str, value: float, limit: float, spec, duration: float | None,
             variant: str | None) -> str:
    run = f"variant '{variant}': " if variant else ""
    over = f"over the limit of {_amount(name, limit)}; raise it with {FLAGS[name]} if this is intended"
    if name in BUILT:
        return f"{run}the run would build {_amount(name, value)} {WHAT[name]}, {over}"
    seconds = spec.duration if duration is None else duration
    return f"{run}a {seconds:g}s run is estimated at {_amount(name, value)} {WHAT[name]}, {over}"


def _amount(name: str, value: float) -> str:
    if name == "memory":
        return f"{value / GIB:.3g} GiB"
    return f"{value:,.0f}" if value < 1e15 else f"{value:.3g}"


def _largest(counts: Iterable[tuple[str, float]]) -> tuple[float, str]:
    """The total of ``(key path, count)`` pairs and the key path of the largest."""
    pairs = list(counts)
    if not pairs:
        return 0.0, ""
    return float(sum(n for _, n in pairs)), max(pairs, key=lambda pair: pair[1])[0]


# --- requests -----------------------------------------------------------------------------------

def workload_requests(spec, index: int, end: float) -> float:
    """Requests of ``spec.workload[index]`` arriving in [0, end), its surges and bursts included."""
    workload = spec.workload[index]
    arrivals = workload.arrivals
    if arrivals.pattern == "batch":
        own = arrivals.items * batch_releases(arrivals, end)
    elif arrivals.pattern == "closed":
        think = arrivals.think_time.analytic_mean()
        own = arrivals.users * end / max(think, MIN_CYCLE)
    else:
        own = open_loop_requests(workload.profile, arrivals.rate, end)
    return own + extra_requests(spec, workload, end)


MIN_CYCLE = 1e-3
"""Shortest closed-loop cycle assumed when users do not think (their answer takes some time)."""


def batch_releases(arrivals, end: float) -> int:
    """How many times a batch is released before ``end``, counted without listing the releases."""
    if arrivals.schedule is not None:
        return sum(1 for t in arrivals.schedule if t < end)
    if arrivals.at >= end:
        return 0
    if arrivals.every is None:
        return 1
    return math.ceil((end - arrivals.at) / arrivals.every)  # at + n every < end for n = 0, 1, ...


def open_loop_requests(profile, rate: float, end: float) -> float:
    """∫_0^end of the workload's rate: exact over the run's own knots, closed form for a daily cycle."""
    if profile is not None and profile.kind == "diurnal":
        return diurnal_integral(profile, rate, end)
    from simulator.workload.profiles import knots_for

    return knots_integral(knots_for(profile, rate, end), end)


def diurnal_integral(profile, base: float, end: float) -> float:
    """∫_0^end base (1 + a cos(2π (t - peak_at) / period)) dt."""
    omega = 2 * math.pi / profile.period
    swing = (math.sin(omega * (end - profile.peak_at)) - math.sin(-omega * profile.peak_at)) / omega
    return base * (end + profile.amplitude * swing)


def knots_integral(knots: list[tuple[float, float]], end: float) -> float:
    """∫_0^end of the piecewise-linear rate through ``knots`` (constant before the first knot and
    after the last, as :class:`~simulator.workload.profiles.RateFunction` has it)."""
    if knots[0][0] > 0.0:
        knots = [(0.0, knots[0][1]), *knots]
    total = 0.0
    for (t0, r0), (t1, r1) in zip(knots, knots[1:], strict=False):
        if t0 >= end:
            return total
        if t1 > end:  # the segment is cut at end: the rate there is interpolated
            r1 = r0 + (r1 - r0) * (end - t0) / (t1 - t0)
            t1 = end
        total += (r0 + r1) * 0.5 * (t1 - t0)
    last_t, last_r = knots[-1]
    return total + last_r * max(end - last_t, 0.0)


def extra_requests(spec, workload, end: float) -> float:
    """Requests that surges and bursts aimed at ``workload`` add on top of its own."""
    extra = 0.0
    for fault in spec.faults:
        if getattr(fault, "target", None) != workload.name or fault.at >= end:
            continue
        if fault.kind == "burst":
            extra += fault.count
        elif fault.kind == "surge":
            extra += surge_requests(fault, workload, end)
    return extra


def surge_requests(fault, workload, end: float) -> float:
    """The surge's extra requests: its own knots (:func:`surge_knots`, as the run builds them)
    integrated; over a daily cycle, (factor - 1) x the cycle's mean rate over the window."""
    stop = min(fault.end if fault.end is not None else end, end)
    arrivals, profile = workload.arrivals, workload.profile
    if profile is not None and profile.kind == "diurnal":
        window = stop - fault.at + 0.5 * (fault.decay - fault.rise)
        return (fault.factor - 1.0) * arrivals.rate * (1 + profile.amplitude) * max(window, 0.0)
    from simulator.faults.traffic import surge_knots
    from simulator.workload.profiles import knots_for

    base = knots_for(profile, arrivals.rate, end)
    return knots_integral(surge_knots(base, fault.factor, fault.at, fault.rise, stop, fault.decay), end)


# --- events -------------------------------------------------------------------------------------

def attempts(retry) -> int:
    """Attempts per request or call at most: the retry policy's ``max_attempts``, else one."""
    return 1 if retry is None else retry.max_attempts


def hops(spec, entry: str) -> float:
    """Component visits of a request entering at ``entry`` when every call is made and retried to the
    end (a cache misses, a router takes its costliest target). Calls cannot form a cycle (validated)."""
    by_name = spec.components_by_name
    memo: dict[str, float] = {}

    def visits(name: str) -> float:
        if name not in memo:
            memo[name] = 1.0 + _below(by_name[name], visits)
        return memo[name]

    return visits(entry)


def _below(component, visits) -> float:
    kind = component.kind
    if kind == "service":
        return sum(attempts(call.retry) * visits(call.target) for call in component.calls)
    if kind == "load_balancer":
        return visits(component.targets)
    if kind == "cache":
        return visits(component.backend)
    if kind == "queue":
        return component.max_deliveries * visits(component.consumer)
    if kind in ("global", "dns"):
        return max(visits(target) for target in component.targets)
    return 0.0


# --- what is built ------------------------------------------------------------------------------

def replica_counts(spec) -> Iterable[tuple[str, float]]:
    """(key path, replicas) of every component, at the most it can be scaled to."""
    scaled = _scaled_to(spec)
    for component in spec.components:
        base = f"components.{component.name}"
        if component.kind == "service":
            yield f"{base}.replicas", max(component.replicas, scaled.get(component.name, 0))
        elif component.kind == "database":
            yield f"{base}.read_replicas", max(1 + component.read_replicas, scaled.get(component.name, 0))
        elif component.kind == "load_balancer":
            yield f"{base}.copies", component.copies
        else:
            yield base, 1


def _scaled_to(spec) -> dict[str, int]:
    """Per target, the most replicas an enabled autoscaler or schedule can ask for."""
    most: dict[str, int] = {}
    for mitigation in spec.mitigations:
        if not getattr(mitigation, "enabled", True):
            continue
        if mitigation.kind == "autoscaler":
            wanted = mitigation.max_replicas
        elif mitigation.kind == "schedule":
            wanted = max(step.replicas for step in mitigation.steps)
        else:
            continue
        most[mitigation.target] = max(most.get(mitigation.target, 0), wanted)
    return most


def key_counts(spec, end: float) -> Iterable[tuple[str, float]]:
    """(key path, entries) of every table built up front: a Zipf law's probabilities (a uniform
    law draws keys without a table), a warm cache's entries, a client population's weights, and
    the knots of a daily cycle (288 a period, built again for each surge on the workload)."""
    for component in spec.components:
        if component.kind != "cache":
            continue
        keys = component.keys
        if keys is None:  # the cache uses its workloads' keys, counted below
            continue
        if keys.dist == "zipf":
            yield f"components.{component.name}.keys.catalog", keys.catalog
        if component.warm:
            yield f"components.{component.name}.capacity", min(component.capacity, keys.catalog)
    for workload in spec.workload:
        if workload.keys is not None and workload.keys.dist == "zipf":
            yield f"workload.{workload.name}.keys.catalog", workload.keys.catalog
        if workload.clients is not None:
            yield f"workload.{workload.name}.clients.count", workload.clients.count
        if workload.profile is not None and workload.profile.kind == "diurnal":
            surges = sum(1 for f in spec.faults if f.kind == "surge" and f.target == workload.name)
            knots = (1 + surges) * diurnal_knots(workload.profile, end)
            yield f"workload.{workload.name}.profile.period", knots


def diurnal_knots(profile, end: float) -> float:
    """Knots :func:`simulator.workload.profiles.knots_for` builds for a daily cycle over [0, end]."""
    from simulator.workload.profiles import _DIURNAL_POINTS_PER_PERIOD as per_period

    return math.ceil(end / (profile.period / per_period)) + 2
