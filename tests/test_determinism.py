"""Same scenario + seed gives identical results; variants share arrivals and work (CRN)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd

from simulator import run, scenario_from_dict

SCENARIO = {
    "name": "crn", "duration": "300s", "warmup": "20s", "seed": 5,
    "workload": [{"name": "web", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "120/s"},
                  "client": {"timeout": "300ms",
                             "retry": {"max_attempts": 3, "base": "20ms", "jitter": "full"}}}],
    "components": [
        {"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "power_of_two"},
        {"kind": "service", "name": "app", "replicas": 3, "workers": 4, "queue_limit": 20,
         "service_time": {"dist": "lognormal", "mean": "60ms", "p99": "300ms"}, "error_rate": "1%",
         "calls": ["cache"]},
        {"kind": "cache", "name": "cache", "capacity": 500, "keys": {"dist": "zipf", "alpha": 0.8,
                                                                     "catalog": "20k"}, "backend": "db"},
        {"kind": "database", "name": "db", "connections": 6, "query_time": {"dist": "exponential",
                                                                            "mean": "15ms"}},
    ],
    "variants": {"small": {}, "big": {"components.app.replicas": 6}},
}


def _summary_json(variant: str) -> str:
    """Run in whatever process calls this and return the summary as canonical JSON."""
    result = run(scenario_from_dict(SCENARIO), variant)
    return json.dumps(result.summary, sort_keys=True)


def test_rerun_is_identical():
    """Two runs of the same scenario and seed produce identical requests, series and summaries."""
    a, b = run(scenario_from_dict(SCENARIO), "small"), run(scenario_from_dict(SCENARIO), "small")
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.requests, b.requests)
    pd.testing.assert_frame_equal(a.series, b.series)
    pd.testing.assert_frame_equal(a.traffic, b.traffic)


def test_identical_in_another_process():
    """A run in a freshly spawned interpreter gives byte-identical summary JSON."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        remote = pool.apply(_summary_json, ("small",))
    assert remote == _summary_json("small")


def test_variants_share_arrivals():
    """Variants that differ only in capacity see exactly the same arrival times."""
    scenario = scenario_from_dict(SCENARIO)
    small, big = run(scenario, "small"), run(scenario, "big")
    np.testing.assert_array_equal(small.requests.t_arrival.to_numpy(), big.requests.t_arrival.to_numpy())
    assert small.summary != big.summary  # ... and the capacity change really matters


def test_replications_differ():
    """Replication 1 draws different random numbers from replication 0."""
    scenario = scenario_from_dict(SCENARIO)
    r0, r1 = run(scenario, "small", replication=0), run(scenario, "small", replication=1)
    assert not np.array_equal(r0.requests.t_arrival.to_numpy()[:100], r1.requests.t_arrival.to_numpy()[:100])


def test_seed_changes_results():
    """A different seed gives a different sample path."""
    scenario = scenario_from_dict(SCENARIO)
    assert run(scenario, "small", seed=1).summary != run(scenario, "small", seed=2).summary


def test_request_work_is_shared_across_variants():
    """Request #N does the same work in every variant: without queueing, latencies match exactly."""
    base = {
        "name": "work", "duration": "200s", "seed": 9,
        "workload": [{"name": "w", "entry": "svc", "arrivals": {"pattern": "poisson", "rate": "50/s"}}],
        "components": [{"kind": "service", "name": "svc", "replicas": 1, "workers": 500,
                        "service_time": {"dist": "exponential", "mean": "100ms"}}],
        "variants": {"one": {}, "two": {"components.svc.replicas": 2, "components.svc.workers": 250}},
    }
    scenario = scenario_from_dict(base)
    one, two = run(scenario, "one"), run(scenario, "two")
    np.testing.assert_array_equal(one.requests.latency.to_numpy(), two.requests.latency.to_numpy())


def test_crash_handling_is_identical_across_processes():
    """A crash ends the work it holds in a fixed order (insertion-ordered, never a set of objects,
    whose order follows memory addresses): two processes give the same requests, bit for bit."""
    import os
    import subprocess
    import sys

    code = ("import hashlib, pandas as pd; from simulator import load_scenario, run; "
            "r = run(load_scenario('lb-spof'), 'active_passive', duration=150.0); "
            "print(hashlib.sha256(pd.util.hash_pandas_object(r.requests).values.tobytes()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
               for seed in ("1", "2")}
    assert len(digests) == 1


# --- audit of every built-in scenario ------------------------------------------------------------
# The summaries of every variant of every built-in scenario (one replication, a short duration so
# the audit fits in `make test`) must be byte-identical however the runs are executed: in two fresh
# interpreters with different hash seeds, one running them in order (`--jobs 1`), the other in a
# pool of two spawned workers (`--jobs 2`), and on a local dask cluster (`--dask`). Set iteration
# order, object addresses and completion order are the usual ways such a difference creeps in.

AUDIT_SECONDS = 150.0
"""Simulated seconds per audit run: past the first trigger of most scenarios (faults at 2 min).
The whole audit takes about 50 s on an idle 2-core machine."""


def audit_tasks():
    """Every variant of every built-in scenario, replication 0, at the audit duration."""
    from simulator.experiment.tasks import make_tasks
    from simulator.scenario import load_scenario
    from simulator.scenario.catalog import builtin_scenarios

    tasks = []
    for builtin in builtin_scenarios():
        scenario = load_scenario(builtin.name)
        warmup = max(scenario.resolve(v).warmup for v in scenario.variant_names)
        duration = max(min(scenario.resolve(scenario.variant_names[0]).duration, AUDIT_SECONDS),
                       warmup + 100.0)
        tasks += _tasks_past_every_start(scenario, builtin.name, duration, make_tasks)
    return tasks


def _tasks_past_every_start(scenario, name: str, duration: float, make_tasks):
    """The audit's tasks at ``duration``, or at the shortest of 1.5x, 1.5^2 x... that the file
    allows: ``--duration`` refuses to cut off a fault, batch or schedule step that starts later."""
    from simulator.scenario import ScenarioError

    full = scenario.resolve(scenario.variant_names[0]).duration
    while True:
        try:
            return make_tasks(scenario, list(scenario.variant_names), range(1), duration=duration,
                              point=(("scenario", name),), keep_traffic=False)
        except ScenarioError:
            if duration >= full:
                raise
            duration = min(duration * 1.5, full)


def audit_summaries(records) -> dict[str, str]:
    """{scenario/variant: summary as canonical JSON text} of the audit's records."""
    return {f"{record.point[0][1]}/{record.variant}": json.dumps(record.summary, sort_keys=True)
            for record in records}


def _audit_in_subprocess(hash_seed: str, jobs: int):
    """Start a fresh interpreter running the audit with ``jobs`` under ``PYTHONHASHSEED=hash_seed``
    (pool workers inherit the seed)."""
    import os
    import subprocess
    import sys

    code = ("import json; from simulator.experiment.executors import Execution; "
            "from tests.test_determinism import audit_tasks, audit_summaries; "
            f"print(json.dumps(audit_summaries(Execution(jobs={jobs}).run(audit_tasks()))))")
    root = str(Path(__file__).resolve().parents[1])
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=root,
                            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": root})


def test_builtin_scenarios_are_identical_across_hash_seeds_jobs_and_dask():
    """Byte-identical summaries: hash seed 1 with --jobs 1, hash seed 2 with --jobs 2 (its
    workers inherit the seed), and a local dask cluster (workers with random hash seeds)."""
    from distributed import LocalCluster

    from simulator.experiment.executors import Execution

    started = [_audit_in_subprocess("1", 1), _audit_in_subprocess("2", 2)]
    outputs = [process.communicate(timeout=600) for process in started]
    assert all(process.returncode == 0 for process in started), [err for _, err in outputs]
    serial, pooled = (json.loads(out) for out, _ in outputs)
    tasks = audit_tasks()
    assert len(serial) == len(tasks) > 17  # every variant of every built-in, none lost
    assert pooled == serial
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert audit_summaries(Execution(dask=cluster.scheduler_address).run(tasks)) == serial
