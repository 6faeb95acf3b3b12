"""Per-call timeouts, deadline propagation, deadline-aware dequeue and call-edge retries."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulator import run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def chain(*, call=None, client=None, db_time=5.0, db_error_rate=0.0, rate=2, duration=60, app_workers=1):
    """Workload ``w`` -> ``app`` (1 replica) -> ``db`` (a slow or failing database)."""
    return {
        "name": "deadlines", "duration": duration, "seed": 5,
        "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": rate},
                      "client": client or {}}],
        "components": [
            {"kind": "service", "name": "app", "workers": app_workers,
             "service_time": {"dist": "constant", "value": 0.001},
             "calls": [{"target": "db", **(call or {})}]},
            {"kind": "database", "name": "db", "connections": 100, "error_rate": db_error_rate,
             "query_time": {"dist": "constant", "value": db_time}},
        ],
    }


def test_an_edge_timeout_frees_the_callers_worker(make_scenario):
    """A 5 s query behind a 100 ms edge timeout: the app's one worker is held ~0.1 s per request,
    not 5 s, so nothing queues and every request fails fast; the database still does the work."""
    slow = run(make_scenario(chain()))
    limited = run(make_scenario(chain(call={"timeout": "100ms"})))
    assert slow.summary["utilization.app"] > 0.95
    assert limited.summary["utilization.app"] < 0.3
    assert limited.summary["edge_timeouts.app->db"] >= limited.summary["offered"]
    # The database still runs every abandoned query (~2/s x 5 s on 100 connections).
    assert limited.summary["utilization.db"] == pytest.approx(0.1, rel=0.3)
    assert limited.summary["errors"] == limited.summary["offered"]


def test_deadline_propagation_caps_the_downstream_wait(make_scenario):
    """With a 300 ms client timeout propagated, the app gives up on the database at the client's
    deadline, so its worker is freed at ~0.3 s per request even without an edge timeout."""
    client = {"timeout": "300ms", "propagate_deadline": True}
    result = run(make_scenario(chain(client=client)))
    assert result.summary["utilization.app"] < 0.8
    assert result.summary["edge_timeouts.app->db"] > 0.9 * result.summary["offered"]
    without = run(make_scenario(chain(client={"timeout": "300ms"})))
    assert without.summary["utilization.app"] > 0.95


def test_edge_retries_mask_independent_failures(make_scenario):
    """Three tries of a call that fails half the time fail together about 1/8 of the time."""
    retry = {"max_attempts": 3, "backoff": "constant", "base": "1ms"}
    result = run(make_scenario(chain(call={"retry": retry}, db_time=0.001, db_error_rate=0.5, rate=200,
                                     duration=30, app_workers=50)))
    s = result.summary
    assert s["errors"] / s["offered"] == pytest.approx(0.125, abs=0.02)
    assert s["edge_retries.app->db"] == pytest.approx(0.75 * s["offered"], rel=0.05)


def _retry_storm(make_scenario, drop_expired: bool):
    data = yaml.safe_load((SCENARIOS / "retry-storm.yaml").read_text())
    data["components"][1]["drop_expired"] = drop_expired
    data.pop("variants", None)
    return run(make_scenario(data))


def test_deadline_aware_dequeue_stops_serving_abandoned_work(make_scenario):
    """In the retry storm, dropping expired work at dequeue lifts goodput after the trigger, but
    FIFO alone does not end the storm: the attempts still served are the oldest live ones, which
    finish just after their client's 1 s timeout, so most of the work served is wasted all the
    same (dropped work, never begun, is not)."""
    serving = _retry_storm(make_scenario, drop_expired=False)
    dropping = _retry_storm(make_scenario, drop_expired=True)
    wasted, still = serving.summary["wasted_work.app"], dropping.summary["wasted_work.app"]
    assert wasted > 1000 and 0.5 * wasted < still < wasted
    assert dropping.summary["dropped_expired.app"] > 10_000
    assert dropping.summary["final_availability"] > serving.summary["final_availability"] + 0.1
    assert serving.summary["stuck"] and dropping.summary["stuck"]
