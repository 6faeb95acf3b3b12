"""Timing and memory measurement: the project against the plain-SimPy reference.

For each workload the project and the reference run alternately ``repeats`` times (the
order flips every repeat so neither always runs on a warmer machine). Each run is timed
with ``time.perf_counter`` around build + run only: imports happen before the clock
starts. Speed is *logical requests simulated per wall second*; the medians are compared.

Memory is measured in separate runs (tracemalloc slows everything down): the peak traced
memory of a project run at ``n`` and at ``n // 4``; the difference divided by the extra
requests is the cost of one recorded request, with the constant overhead cancelled out.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from simulator.bench.workloads import Workload, by_name

ProjectRunner = Callable[[dict[str, Any]], int]
"""Build and run one scenario dict with the project; return the number of requests simulated."""

Log = Callable[[str], None]

MEMORY_TARGET = 64.0  # bytes per recorded request


@dataclass
class Availability:
    runner: ProjectRunner | None
    reason: str = ""


def request_count(result: Any) -> int:
    """Logical requests that arrived in a project run (warmup is 0 in every workload)."""
    requests = getattr(result, "requests", None)
    if requests is not None and len(requests) > 0:
        return len(requests)
    summary = getattr(result, "summary", None) or {}
    if "offered" in summary:
        return int(round(summary["offered"]))
    raise ValueError("RunResult has neither per-request records nor summary['offered']")


def load_project_runner() -> Availability:
    """The project's own build+run path, imported now so imports are never timed."""
    try:
        from simulator.runner import run
        from simulator.scenario import scenario_from_dict
    except ImportError as exc:
        return Availability(None, f"project runner not available ({exc})")

    def run_project(data: dict[str, Any]) -> int:
        scenario = scenario_from_dict(data, source=f"<bench:{data['name']}>")
        return request_count(run(scenario))

    return Availability(run_project)


@dataclass(frozen=True)
class Sample:
    """One timed run: requests simulated, wall seconds and CPU seconds of this process."""

    requests: int
    wall: float
    cpu: float


def _timed(fn: Callable[[], int]) -> Sample:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    count = fn()
    return Sample(count, time.perf_counter() - wall, time.process_time() - cpu)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _median_rate(samples: list[Sample], clock: str = "wall") -> float | None:
    rates = [s.requests / max(getattr(s, clock), 1e-9) for s in samples]
    return statistics.median(rates) if rates else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def bench_workload(
    workload: Workload,
    n: int,
    repeats: int,
    runner: ProjectRunner | None,
    *,
    seed: int = 1,
    log: Log = lambda _: None,
) -> dict[str, Any]:
    """Alternate project and reference runs (and the baseline's project runs, for a workload that
    has one); medians of requests per wall second."""
    samples: dict[str, list[Sample]] = {"project": [], "reference": [], "baseline": []}
    error = None
    baseline = by_name(workload.baseline) if workload.baseline else None

    def record(side: str, sample: Sample) -> None:
        samples[side].append(sample)
        count, wall = sample.requests, sample.wall
        log(f"{workload.name}: {side:<9} {count:>9,} requests in {wall:7.3f} s = {count / wall:>10,.0f}/s")

    def project_side(side: str, chosen: Workload) -> Callable[[], None]:
        def run_project() -> None:
            nonlocal error, runner
            if runner is None:  # none available, or it failed earlier
                return
            own = chosen.project  # a workload that times its own project side (compare --jobs)
            try:
                record(side, _timed(lambda: own(n, seed) if own else runner(chosen.scenario(n, seed))))
            except Exception as exc:  # the bench reports a broken project, it does not crash
                error, runner = _first_line(exc), None
                log(f"{workload.name}: {side} failed: {error}")
        return run_project

    def run_reference() -> None:
        record("reference", _timed(lambda: workload.reference(n, seed)[0]))

    steps = [project_side("project", workload), run_reference]
    if baseline is not None:  # project and baseline side by side: their order flips every repeat
        steps.insert(1, project_side("baseline", baseline))
    for i in range(repeats):
        for step in steps if i % 2 == 0 else reversed(steps):
            step()
    result = _workload_result(workload, samples["project"], samples["reference"], error)
    if baseline is not None:
        result.update(_baseline_result(workload, samples["project"], samples["baseline"]))
    return result


def _baseline_result(workload: Workload, project: list[Sample], base: list[Sample]) -> dict[str, Any]:
    """The project's speed relative to another workload's (its cost over that one)."""
    ratio = _ratio(_median_rate(project), _median_rate(base))
    return {
        "baseline": workload.baseline,
        "baseline_req_per_s": _median_rate(base),
        "vs_baseline": ratio,
        "cpu_vs_baseline": _ratio(_median_rate(project, "cpu"), _median_rate(base, "cpu")),
        "baseline_target": workload.baseline_target,
        "baseline_passed": None if ratio is None or workload.baseline_target is None
        else ratio >= workload.baseline_target,
        "baseline_samples": [s.__dict__ for s in base],
    }


def _workload_result(workload: Workload, project: list[Sample], ref: list[Sample], error: str | None):
    p, r = _median_rate(project), _median_rate(ref)
    ratio = _ratio(p, r)
    return {
        "workload": workload.name,
        "description": workload.description,
        "reference": workload.reference_name,
        "project_req_per_s": p,
        "reference_req_per_s": r,
        "ratio": ratio,
        "target": workload.target,
        "passed": None if ratio is None else ratio >= workload.target,
        # CPU time of this process: less disturbed than wall time on a busy shared machine
        "cpu_ratio": None if workload.project else  # worker processes' CPU is not this process's
        _ratio(_median_rate(project, "cpu"), _median_rate(ref, "cpu")),
        "project_samples": [s.__dict__ for s in project],
        "reference_samples": [s.__dict__ for s in ref],
        "error": error,
        "notes": list(workload.notes),
    }


def _traced_peak(fn: Callable[[], int]) -> tuple[int, int]:
    """(peak traced bytes, result of fn) with tracemalloc on only around fn."""
    gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        count = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not already:
            tracemalloc.stop()
    return peak, count


def measure_memory(
    workload: Workload, n: int, runner: ProjectRunner | None, *, seed: int = 1, log: Log = lambda _: None
) -> dict[str, Any]:
    """Bytes per recorded request = (peak(n) - peak(n/4)) / (n - n/4)."""
    small = n // 4
    out: dict[str, Any] = {
        "workload": workload.name,
        "n": n,
        "n_small": small,
        "target": MEMORY_TARGET,
        "bytes_per_request": None,
        "passed": None,
        "error": None,
    }
    if runner is None:
        out["error"] = "project runner not available"
        return out
    try:
        peak_small, count_small = _traced_peak(lambda: runner(workload.scenario(small, seed)))
        peak_n, count_n = _traced_peak(lambda: runner(workload.scenario(n, seed)))
    except Exception as exc:
        out["error"] = _first_line(exc)
        return out
    per_request = (peak_n - peak_small) / (n - small)
    out.update(
        peak_bytes=peak_n,
        peak_bytes_small=peak_small,
        requests=count_n,
        requests_small=count_small,
        bytes_per_request=per_request,
        passed=per_request <= MEMORY_TARGET,
    )
    log(
        f"{workload.name}: memory peak {peak_small:,} B at {count_small:,} requests, "
        f"{peak_n:,} B at {count_n:,} requests -> {per_request:.1f} B/request"
    )
    return out


def run_all(
    workloads: Iterable[Workload],
    n: int,
    repeats: int,
    runner: ProjectRunner | None,
    *,
    memory_workload: Workload | None = None,
    seed: int = 1,
    log: Log = lambda _: None,
) -> dict[str, Any]:
    """Every workload's speed, then (separately) the memory measurement."""
    speed = [bench_workload(w, n, repeats, runner, seed=seed, log=log) for w in workloads]
    memory = None
    if memory_workload is not None:
        memory = measure_memory(memory_workload, n, runner, seed=seed, log=log)
    return {"n": n, "repeats": repeats, "seed": seed, "workloads": speed, "memory": memory}
