"""Running one scenario variant: ``run(scenario, variant, seed, replication) -> RunResult``.

A run is a pure function of (scenario, variant, seed, replication): no module state, so runs can
execute in any process or on any machine and give identical results. :func:`run_spec` is the
same function of a variant's validated spec, which is what experiment workers receive: they
neither validate nor read a file again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from simulator.accounting import check_accounting
from simulator.analysis import add_availability, summarize, traffic_frame
from simulator.build import build, start
from simulator.export.tap import AttemptTap
from simulator.mitigations.deployment import Deployment
from simulator.recovery import recovery_metrics
from simulator.scenario.overrides import with_duration
from simulator.scenario.variants import DEFAULT_VARIANT
from simulator.watch import Watch


@dataclass
class RunResult:
    """Everything one run produced: summary metrics and the tables behind them."""

    scenario: str
    variant: str
    seed: int
    replication: int
    spec: object
    wall_time: float
    summary: dict[str, float]
    requests: pd.DataFrame
    traffic: pd.DataFrame
    series: pd.DataFrame
    events: pd.DataFrame
    partial: bool = False  # stopped by a time limit: measured up to spec.duration, the time reached
    attempts: pd.DataFrame | None = None  # sampled requests' attempts (trace_sample), else None


def run(scenario, variant: str | None = None, *, seed: int | None = None, replication: int = 0,
        duration: float | None = None, progress: Callable[[float, float], None] | None = None,
        time_limit: float | None = None, trace_sample: float | None = None) -> RunResult:
    """Simulate one variant of ``scenario`` and return its results.

    ``seed`` overrides the scenario's seed, ``duration`` (seconds) its duration; ``progress`` is
    called with (simulated now, end) a few times per wall-clock second. ``time_limit`` (wall-clock
    seconds) stops the run cleanly once passed: its result is ``partial``, measured up to the
    simulated time reached, and the requests still in flight are ``incomplete``. ``trace_sample``
    (a share of requests) records the attempts of the requests it picks as ``result.attempts``
    (simulator.export.tap; nothing is installed without it).
    """
    return run_spec(scenario.resolve(variant), variant, seed=seed, replication=replication,
                    duration=duration, progress=progress, source=scenario.source, time_limit=time_limit,
                    trace_sample=trace_sample)


def run_spec(spec, variant: str | None = None, *, seed: int | None = None, replication: int = 0,
             duration: float | None = None, progress: Callable[[float, float], None] | None = None,
             source: str = "<spec>", time_limit: float | None = None,
             trace_sample: float | None = None) -> RunResult:
    """:func:`run` on a variant's validated spec (``Scenario.resolve(variant)``); ``variant`` only
    names the result, ``source`` the file in a message about ``duration``."""
    started = time.perf_counter()
    if duration is not None:
        spec = _with_duration(source, spec, duration)
    seed = spec.seed if seed is None else seed
    system = build(spec, seed=seed, replication=replication)
    tap = None if trace_sample is None else AttemptTap(seed, trace_sample).install(system.clients)
    interval = spec.effective_sample_interval
    start(system, interval)
    env = system.ctx.env
    watch = None
    if progress is not None or time_limit is not None:  # an unwatched run schedules nothing extra
        watch = Watch(env, spec.duration, progress, time_limit, started)
        watch.start()
    env.run(until=spec.duration)  # returns early if the watch stops it
    reached = env.now  # the end of the measured window: the duration unless the time limit came first
    if progress is not None:
        progress(reached, spec.duration)
    windows = {name: c.stats.window(reached) for name, c in system.components.items()}
    if watch is None or not watch.expired:
        _drain(system.ctx, spec.effective_sample_interval, watch)
    partial = watch is not None and watch.expired
    if reached < spec.duration:  # the summary, traffic and recovery metrics cover what was simulated
        spec = spec.model_copy(update={"duration": reached})
    result = _collect(variant, spec, system, windows, seed, replication, interval, started)
    result.partial = partial
    result.attempts = None if tap is None else tap.frame()
    return result


def _with_duration(source: str, spec, duration: float):
    """The spec with another duration, judged like a file that says it (warm-up, fault times...)."""
    return with_duration(spec, duration, source)


def _drain(ctx, step: float, watch: Watch | None = None) -> None:
    """Keep the system running (traffic included) until every request that arrived before the end
    of the measurement window has ended, or the drain limit ``ctx.stop`` has passed.

    Without this, requests in flight at the end would count as failures and a healthy run would
    report less than 100% availability; with it, only requests that are really stuck (or waiting
    on clients without a timeout) end as ``incomplete``. A time limit (``watch``) cuts it short.
    """
    env, recorder = ctx.env, ctx.recorder
    measured = recorder.arrived  # ids are given in arrival order: these arrived before `end`
    step = min(step, 1.0)
    while env.now < ctx.stop and recorder.unfinished_before(measured) > 0:
        if watch is not None and watch.out_of_time():
            watch.expired = True
            return
        env.run(until=min(env.now + step, ctx.stop))


DETECTION_EVENTS = frozenset(("detected_down", "failover", "promoted", "rerouted"))
"""Routing changes that exclude a failed part: what ``time_to_detect`` waits for."""


def fault_metrics(arrays, spec, injectors, events: pd.DataFrame, mitigations=()) -> dict:
    """Recovery metrics (time_to_recover, degraded_seconds, stuck...) and time_to_detect per fault."""
    detections = {}
    routing = events[events["kind"].isin(DETECTION_EVENTS)] if len(events) else events
    for injector in injectors:
        hits = routing[(routing["t"] >= injector.start_time) & routing["detail"].isin(injector.affected)] \
            if len(routing) else routing
        detections[injector.name] = float(hits["t"].min()) if len(hits) else None
    faults = [(i.name, i.start_time, i.end_time) for i in injectors]
    return recovery_metrics(arrays, warmup=spec.warmup, end=spec.duration, slo=spec.slo, faults=faults,
                            detections=detections,
                            triggers=[*trigger_spans(injectors, mitigations, _spikes(spec)),
                                      *_batch_spans(events)])


def _spikes(spec) -> list:
    """The workloads' ``spike`` profiles (a surge written into the workload itself)."""
    return [w.profile for w in spec.workload if w.profile is not None and w.profile.kind == "spike"]


def _batch_spans(events: pd.DataFrame) -> list[tuple[float, float | None]]:
    """Each batch job run (an in-workload burst) from its release until its last item ended
    (``batch_start`` / ``batch_done`` events; a run still going at the end: None). Runs are paired
    in time order: what the recovery metrics need, the first start and whether and when every
    run was over, is exact however the runs overlap."""
    if not len(events):
        return []
    starts = sorted(events.loc[events["kind"] == "batch_start", "t"])
    dones = sorted(events.loc[events["kind"] == "batch_done", "t"])
    return [(float(t), float(dones[i]) if i < len(dones) else None) for i, t in enumerate(starts)]


AFTERMATH = {"crash": "startup", "surge": "decay"}
"""Fault kinds whose effect outlasts their end, and the spec key saying by how long."""


def trigger_spans(injectors, mitigations, spike_profiles=()) -> list[tuple[float, float | None]]:
    """(start, end or None) of every trigger (simulator.recovery): each fault until its effect is
    over, each release until one version has all traffic for good, by rollback or by promotion
    after passing its analysis (a big bang, never judged, lasts: None), each workload's
    ``spike`` profile (a surge written into the workload) until its decay is over."""
    spans = []
    for injector in injectors:
        end, key = injector.end_time, AFTERMATH.get(injector.spec.kind)
        spans.append((injector.start_time, end + getattr(injector.spec, key) if key and end is not None
                      else end))
    spans += [(m.spec.at, m.rollback_at if m.rollback_at is not None else m.promoted_at)
              for m in mitigations if isinstance(m, Deployment)]
    return spans + [(p.at, p.at + p.rise + p.hold + p.decay) for p in spike_profiles]


def books(system) -> dict[str, list]:
    """The sources' side of the books, per workload index: requests made (by its arrival source
    and by faults injecting into its client) and requests its client ended."""
    arrived = [source.arrived + client.injected for source, client in zip(system.sources, system.clients,
                                                                            strict=True)]
    return {"arrived": arrived, "ended": [client.ended for client in system.clients]}


def _collect(variant, spec, system, windows, seed, replication, interval, started) -> RunResult:
    ctx = system.ctx
    now = ctx.env.now
    names = [w.name for w in spec.workload]
    recorder = ctx.recorder
    # Traffic first: it reads the completion buffers in time order, before request_arrays()
    # scatters them into id order and releases them.
    t_arrival, workload = recorder.arrival_arrays()
    traffic = traffic_frame(recorder.completion_arrays(), t_arrival, workload, names, interval,
                            spec.duration)
    arrays = recorder.request_arrays()
    check_accounting(arrays, names, **books(system))
    add_availability(traffic, arrays, names, interval, spec.duration)
    summary = summarize(arrays, spec.warmup, spec.duration, windows, names)
    summary["late_answers"] = float(sum(c.late_answers for c in system.clients))
    summary["wasted_work"] = float(sum(v for k, v in summary.items() if k.startswith("wasted_work.")))
    summary.update(fault_metrics(arrays, spec, system.injectors, recorder.events_frame(),
                                 system.mitigations))
    for name, source in zip(names, system.sources, strict=True):
        summary.update({f"{counter}.{name}": value for counter, value in source.counters().items()})
    for mitigation in system.mitigations:
        counters = mitigation.counters()
        summary.update({f"{counter}.{mitigation.name}": value for counter, value in counters.items()})
    if ctx.data is not None:  # reads checked, writes lost (simulator.data.books)
        summary.update(ctx.data.summary())
    if system.alerts is not None:
        summary.update(system.alerts.summary([(i.name, i.start_time, i.end_time) for i in system.injectors]))
    recorder.event(spec.duration, "end")
    if now > spec.duration:
        recorder.event(now, "drain_end")
    return RunResult(
        scenario=spec.name,
        variant=variant or DEFAULT_VARIANT,  # no variant: the file as written, without overrides
        seed=seed,
        replication=replication,
        spec=spec,
        wall_time=time.perf_counter() - started,
        summary=summary,
        requests=recorder.requests_frame((spec.warmup, spec.duration)),
        traffic=traffic,
        series=recorder.series_frame(),
        events=recorder.events_frame(),
    )
