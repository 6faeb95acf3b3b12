"""Schedules and autoscalers on a database scale its read replicas (as Aurora does): reads follow the
members that serve, writes stay on the primary, and scaling in never removes the primary."""

from __future__ import annotations

import pytest
import yaml

from simulator.build import build, start
from simulator.runner import run
from simulator.scenario import load_scenario

# 400 queries/s, 80% reads, 8 ms each: 3.2 connection-seconds per second on 2 connections per node.
SCENARIO = """
name: db-scaling
duration: 5m
warmup: 30s
seed: 5
workload:
  - {name: web, entry: app, arrivals: {pattern: poisson, rate: 400/s}, client: {timeout: 1s}}
components:
  - {kind: service, name: app, replicas: 4, workers: 64, service_time: 1ms, calls: [db]}
  - {kind: database, name: db, connections: 2, queue_limit: 50,
     query_time: {dist: exponential, mean: 8ms}, read_replicas: 0, read_fraction: 80%}
"""


def _scenario(tmp_path, mitigations, faults=()):
    data = yaml.safe_load(SCENARIO)
    data["mitigations"] = mitigations
    if faults:
        data["faults"] = list(faults)
    path = tmp_path / "db.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_scenario(path)


def _run_system(scenario, until):
    system = build(scenario.spec, seed=scenario.spec.seed, replication=0)
    start(system, 1.0)
    system.ctx.env.run(until=until)
    return system


def test_a_schedule_adds_read_replicas_that_take_the_reads(tmp_path):
    """From 1m three nodes: the new ones serve reads only, the primary keeps every write."""
    scenario = _scenario(tmp_path, [{"kind": "schedule", "name": "pre", "target": "db",
                                     "steps": [{"at": "1m", "replicas": 3}]}])
    db = _run_system(scenario, 200.0).components["db"]
    assert len(db.group.replicas) == 3 and db.primary is db.group.replicas[0]
    assert db.read_nodes == db.group.replicas[1:]
    primary_busy = db.primary.areas()[0]
    reader_busy = sum(node.areas()[0] for node in db.read_nodes)
    # From 1m to 200 s: reads 320/s x 8 ms on the readers, writes 80/s x 8 ms on the primary.
    assert reader_busy == pytest.approx(140 * 320 * 0.008, rel=0.06)
    assert primary_busy == pytest.approx(60 * 2 + 140 * 80 * 0.008, rel=0.06)  # saturated alone for 1m


def test_scaling_in_never_removes_the_primary_even_after_a_promotion(tmp_path):
    """The primary dies at 1m40s and node 1 is promoted; scaling to one node at 3m keeps node 1."""
    scenario = _scenario(
        tmp_path,
        [{"kind": "schedule", "name": "pre", "target": "db",
          "steps": [{"at": "1m", "replicas": 3}, {"at": "3m", "replicas": 1}]}],
        [{"kind": "db_primary_failure", "name": "dies", "target": "db", "at": "100s", "for": "5m",
          "promotion_delay": "5s"}])
    db = _run_system(scenario, 250.0).components["db"]
    assert [node.index for node in db.group.replicas] == [1]
    assert db.primary.index == 1 and db.read_nodes == []


def test_an_autoscaler_on_the_database_relieves_its_overload(tmp_path):
    """One node of 2 connections cannot carry 3.2 connection-seconds per second; the HPA adds readers."""
    hpa = {"kind": "autoscaler", "name": "db-hpa", "target": "db", "metric": "utilization",
           "target_value": "60%", "min_replicas": 1, "max_replicas": 8, "startup": "10s"}
    scaled = run(_scenario(tmp_path, [hpa])).summary
    fixed = run(_scenario(tmp_path, [{**hpa, "enabled": False}])).summary
    assert fixed["availability"] < 0.7
    assert scaled["scale_ups.db-hpa"] >= 1 and scaled["replicas_max.db-hpa"] >= 3
    assert scaled["availability"] > 0.95
