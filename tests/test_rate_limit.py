"""``kind: rate_limit`` in a run: every caller goes through it, refusals end as rate_limited,
a leaky bucket delays, and a per-client limit singles out the abusive client."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import run
from simulator.scenario import ScenarioError


def scenario(limit: dict, *, rate=200, entry="app", clients=None, extra_components=()) -> dict:
    workload = {"name": "w", "entry": entry, "arrivals": {"pattern": "poisson", "rate": rate}}
    if clients:
        workload["clients"] = clients
    return {"name": "rl", "duration": 200, "seed": 3, "workload": [workload],
            "components": [*extra_components,
                           {"kind": "service", "name": "app", "replicas": 2, "workers": 20,
                            "service_time": 0.01}],
            "mitigations": [{"kind": "rate_limit", "name": "rl", "target": "app", **limit}]}


def test_token_bucket_passes_its_rate_and_refuses_the_rest(make_scenario):
    """Offered 200/s against 100/s: about half end as rate_limited, counted under rate_limited.rl."""
    result = run(make_scenario(scenario({"algorithm": "token_bucket", "rate": 100, "burst": 10})))
    s = result.summary
    assert s["offered"] == s["ok"] + s["rate_limited"]
    assert abs(s["ok"] - 100 * 200) <= 10 + 1
    assert s["rate_limited.rl"] == s["rate_limited"]


def test_balancer_traffic_goes_through_the_limiter(make_scenario):
    """A balancer reaches the service through ``send_to``: the limiter sees that route too."""
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app"}
    result = run(make_scenario(scenario({"algorithm": "fixed_window", "limit": 50, "window": 1},
                                        entry="lb", extra_components=[lb])))
    assert abs(result.summary["ok"] - 50 * 200) <= 50


def test_leaky_bucket_delays_what_it_admits(make_scenario):
    """As a queue, a leaky bucket smooths bursts: admitted requests wait for their turn."""
    result = run(make_scenario(scenario({"algorithm": "leaky_bucket", "rate": 150, "capacity": 20},
                                        rate=140)))
    s = result.summary
    assert s["latency_p99"] > 0.01 + 0.02  # more than the service time: some waited in the bucket
    assert s["ok"] / s["offered"] > 0.95


def test_disabled_limiter_is_not_built(make_scenario):
    """A disabled limiter changes nothing: the same requests end the same way."""
    data = scenario({"algorithm": "token_bucket", "rate": 100, "burst": 10, "enabled": False})
    result = run(make_scenario(data))
    assert result.summary["rate_limited"] == 0
    assert "rate_limited.rl" not in result.summary


def test_per_client_limit_singles_out_the_heavy_client(make_scenario):
    """With Zipf skew 2 over 10 clients, client 0 sends 64.5%; a 30/s per-client bucket refuses
    only its excess (64.5% of 100/s - 30/s), where a global limiter would refuse nothing."""
    clients = {"count": 10, "skew": 2}
    limit = {"algorithm": "token_bucket", "rate": 30, "burst": 10, "per": "client"}
    result = run(make_scenario(scenario(limit, rate=100, clients=clients)))
    share = 1.0 / np.sum(1.0 / np.arange(1, 11) ** 2.0)
    expected = (share * 100 - 30) / 100
    s = result.summary
    refused = s["rate_limited"] / s["offered"]
    sigma = math.sqrt(expected * (1 - expected) / s["offered"])
    assert abs(refused - expected) < 4 * sigma + 0.01


def test_gauges_reach_the_series(make_scenario):
    """A global token bucket's tokens are sampled like a component's gauges."""
    result = run(make_scenario(scenario({"algorithm": "token_bucket", "rate": 100, "burst": 10})))
    tokens = result.series.query("component == 'rl' and metric == 'tokens'")["value"]
    assert len(tokens) > 0 and tokens.between(0, 10).all()


@pytest.mark.parametrize(("limit", "message"), [
    ({"algorithm": "token_bucket", "rate": 10}, "token_bucket needs rate and burst"),
    ({"algorithm": "fixed_window", "limit": 5, "window": 1, "rate": 3}, "not rate"),
])
def test_algorithm_keys_are_checked(make_scenario, limit, message):
    """Each algorithm names the keys it needs and refuses the others."""
    with pytest.raises(ScenarioError, match=message):
        make_scenario(scenario(limit))
