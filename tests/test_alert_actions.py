"""Alert actions (simulator.alerts.actions) against their definitions.

Traffic is deterministic (10 requests/s, constant work) behind a round-robin balancer, so which
replica holds which request, and when a rule fires, follow from the arrivals alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run

RATE = 10.0


def scenario(alerts: list[dict], faults: list[dict], *, replicas: int = 2, workers: int = 4,
             service_time: str = "10ms", duration: str = "4m") -> dict:
    return {
        "name": "actions", "duration": duration, "seed": 3,
        "workload": [{"name": "web", "entry": "lb", "arrivals": {"pattern": "deterministic", "rate": RATE}}],
        "components": [{"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "round_robin"},
                       {"kind": "service", "name": "app", "replicas": replicas, "workers": workers,
                        "service_time": service_time}],
        "faults": faults, "alerts": alerts,
    }


def rule(on_fire: list[dict], **changes) -> dict:
    """Fires once completions over the last 10 s fall below 8/s (the normal rate is 10/s)."""
    return {"kind": "threshold", "name": "low", "metric": "throughput", "window": "10s", "op": "<",
            "value": 8, "on_fire": on_fire, **changes}


HANG = {"kind": "hang", "name": "hang", "target": "app", "replicas": [0], "at": 60.05, "for": 200}


def events(result, kind: str) -> list[tuple[float, str]]:
    chosen = result.events[result.events["kind"] == kind]
    return [(float(t), str(d)) for t, d in zip(chosen["t"], chosen["detail"], strict=True)]


def firings(result) -> list[float]:
    return [t for t, detail in events(result, "alert") if detail.startswith("firing")]


def test_restart_restarts_one_replica_delay_after_the_firing_and_loses_what_it_held(make_scenario):
    result = run(make_scenario(scenario([rule([{"kind": "restart", "target": "app", "delay": 20}])], [HANG])))
    fired = firings(result)
    actions = events(result, "action")
    assert len(fired) == 1 and len(actions) == 1  # once per firing, not per evaluation
    t_restart, detail = actions[0]
    assert t_restart == pytest.approx(fired[0] + 20)
    assert "app/0 restarted" in detail  # the hung replica: it holds every request sent to it since
    req = result.requests
    # Held by the hung replica at t_restart: arrived before it and not answered in the 10 ms the
    # healthy replica takes (nothing times out here, so they are all still there).
    held = (req["t_arrival"] < t_restart) & ~(req["t_end"] <= req["t_arrival"] + 0.010 + 1e-9)
    lost = req["outcome"] == "error"
    assert (held == lost).all()
    assert np.allclose(req.loc[lost, "t_end"], t_restart)
    # Round robin: every other arrival of (60.05, t_restart] went to the hung replica.
    assert lost.sum() == pytest.approx((t_restart - HANG["at"]) * RATE / 2, abs=1)
    assert f"{int(lost.sum())} requests queued or in service lost" in detail
    # After the restart the replica serves again: the rule resolves and no request fails later.
    assert (req.loc[req["t_arrival"] > t_restart, "outcome"].isin(["ok", "incomplete"])).all()


def test_scale_out_adds_by_replicas_that_serve_only_after_start_up(make_scenario):
    # One worker, 150 ms a request at 10/s: overloaded (6.67/s served), the throughput rule fires.
    action = {"kind": "scale_out", "target": "app", "by": 2, "delay": 5, "startup": 30}
    data = scenario([rule([action])], [], replicas=1, workers=1, service_time="150ms")
    result = run(make_scenario(data))
    (t_action, detail), = events(result, "action")
    assert detail.endswith("app 1 -> 3 replicas")
    ends = np.sort(result.requests["t_end"].dropna().to_numpy())

    def served(a: float, b: float) -> int:
        return int(np.searchsorted(ends, b, "right") - np.searchsorted(ends, a, "right"))

    ready = t_action + 30
    one_worker = (ready - 2 - t_action) / 0.15
    assert served(t_action + 1, ready - 1) == pytest.approx(one_worker, abs=1)  # the new ones start up
    # Once ready, round robin gives each new replica a third of the arrivals (3.3/s, below its 6.7/s),
    # while the old one goes on with its backlog at 6.7/s: 10 s serve 66.7 + 66.7 requests.
    assert served(ready + 1, ready + 11) == pytest.approx(10 / 0.15 + 10 * RATE * 2 / 3, abs=2)
    replicas = result.series[(result.series["component"] == "app") & (result.series["metric"] == "replicas")]
    assert set(replicas["value"]) == {1.0, 3.0}


def test_rollback_rolls_the_deployment_back(make_scenario):
    release = {"kind": "deployment", "name": "v2", "target": "app", "at": 30, "strategy": "big_bang",
               "error_rate": 1.0}
    alert = {"kind": "threshold", "name": "errors", "metric": "error_ratio", "window": "10s", "op": ">",
             "value": 0.5, "on_fire": [{"kind": "rollback", "deployment": "v2", "delay": 10}]}
    data = scenario([alert], [])
    data["mitigations"] = [release]
    result = run(make_scenario(data))
    (t_action, detail), = events(result, "action")
    assert detail == "rollback: v2 rolled back"
    assert t_action == firings(result)[0] + 10
    assert result.summary["rollback_at.v2"] == t_action
    req = result.requests
    assert (req.loc[req["t_arrival"] > t_action + 0.1, "outcome"].isin(["ok", "incomplete"])).all()


def test_page_only_logs(make_scenario):
    page = rule([{"kind": "page", "to": "sre", "delay": 60}])
    paged, silent = (run(make_scenario(scenario([alert], [HANG]))) for alert in (page, rule([])))
    assert events(paged, "action") == [(firings(paged)[0] + 60, "page: paged sre")]
    assert paged.requests.equals(silent.requests)


@pytest.mark.parametrize(("action", "expected"), [
    ({"kind": "restart", "target": "lb"}, "alerts[0].on_fire[0].target: 'lb' is a load_balancer"),
    ({"kind": "scale_out", "target": "ap"}, "alerts[0].on_fire[0].target: no component named 'ap'"),
    ({"kind": "rollback", "deployment": "v3"}, "alerts[0].on_fire[0].deployment: no mitigation named 'v3'"),
    ({"kind": "shift_traffic", "router": "lb", "region": "eu"}, "alerts[0].on_fire[0].router: 'lb' is a"),
    ({"kind": "reboot", "target": "app"}, "alerts[0].on_fire[0]"),
])
def test_bad_actions_name_the_key(validate_one_line, action, expected):
    line = validate_one_line(scenario([rule([action])], []))
    assert expected in line, line


def test_shift_traffic_drains_the_region_at_the_global_router(make_scenario):
    """eu's app fails every request; once drained, eu's users are served by us, 80 ms further away."""
    def stack(region: str) -> list[dict]:
        return [{"kind": "load_balancer", "name": f"lb-{region}", "region": region,
                 "targets": f"app-{region}"},
                {"kind": "service", "name": f"app-{region}", "region": region, "replicas": 1,
                 "workers": 4, "service_time": "10ms"}]

    alert = {"kind": "threshold", "name": "errors", "metric": "error_ratio", "window": "10s", "op": ">",
             "value": 0.5,
             "on_fire": [{"kind": "shift_traffic", "router": "global", "region": "eu", "delay": 5}]}
    data = scenario([alert], [{"kind": "errors", "name": "bad", "target": "app-eu", "at": 60, "rate": 1.0}])
    data["workload"][0].update(entry="global", region="eu")
    data["components"] = [{"kind": "global", "name": "global", "targets": ["lb-eu", "lb-us"],
                           "remote_latency": "80ms"}, *stack("eu"), *stack("us")]
    result = run(make_scenario(data))
    (t_action, detail), = events(result, "action")
    assert detail == "shift_traffic: global drained region eu (lb-eu)"
    assert t_action == firings(result)[0] + 5
    req = result.requests
    after = req[req["t_arrival"] > t_action]
    assert (after["outcome"].isin(["ok", "incomplete"])).all()
    assert np.allclose(after.loc[after["outcome"] == "ok", "latency"], 0.090)  # 80 ms away + 10 ms of work
