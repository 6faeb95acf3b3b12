"""Detection through DNS (cached answers) and service discovery (heartbeats): not free, not instant."""

from __future__ import annotations

import pytest

from simulator import run


def _dns_scenario() -> dict:
    return {
        "name": "dns", "duration": "400s", "warmup": "10s", "seed": 3,
        "workload": [{"name": "w", "entry": "dns", "arrivals": {"pattern": "poisson", "rate": "200/s"}}],
        "components": [
            {"kind": "dns", "name": "dns", "targets": ["lb-a", "lb-b"], "ttl": "60s",
             "health_check": {"interval": "10s", "unhealthy_after": 3}},
            {"kind": "load_balancer", "name": "lb-a", "targets": "app"},
            {"kind": "load_balancer", "name": "lb-b", "targets": "app"},
            {"kind": "service", "name": "app", "replicas": 4, "workers": 8, "service_time": "10ms"},
        ],
        "faults": [{"kind": "crash", "name": "lb-a-down", "target": "lb-a", "at": "100s", "for": "250s"}],
    }


def test_dns_failover_is_seen_only_as_caches_expire(make_scenario):
    """After the DNS switches, requests still sent to the dead record fall off linearly over the TTL."""
    result = run(make_scenario(_dns_scenario()))
    switch = result.events.query("kind == 'rerouted'").t.iloc[0]
    assert 120.0 <= switch <= 130.0  # 3 failed probes, 10 s apart
    assert result.summary["time_to_detect.lb-a-down"] == pytest.approx(switch - 100.0)
    r = result.requests
    failed = r.outcome == "unavailable"
    before = r[(r.t_arrival >= 100) & (r.t_arrival < switch)]
    assert failed[before.index].mean() == 1.0  # everyone still resolves to the dead balancer
    for start, expected in ((0, 0.917), (20, 0.583), (40, 0.25)):  # mean of 1 - age/ttl over 10 s
        window = r[(r.t_arrival >= switch + start) & (r.t_arrival < switch + start + 10)]
        assert failed[window.index].mean() == pytest.approx(expected, abs=0.04)
    after = r[(r.t_arrival >= switch + 61) & (r.t_arrival < 350)]
    assert failed[after.index].sum() == 0


def test_a_dead_dns_still_serves_cached_answers_for_a_ttl(make_scenario):
    """While the DNS itself is down, requests with a valid cached answer go through; the rest fail."""
    data = _dns_scenario()
    data["faults"] = [{"kind": "crash", "name": "dns-down", "target": "dns", "at": "100s", "for": "100s"}]
    r = run(make_scenario(data)).requests
    failed = r.outcome == "unavailable"
    for start, end in ((100, 110), (110, 120), (130, 140)):  # P(cache expired) = outage age / ttl
        window = r[(r.t_arrival >= start) & (r.t_arrival < end)]
        assert failed[window.index].mean() == pytest.approx(((start + end) / 2 - 100) / 60, abs=0.03)
    late = r[(r.t_arrival >= 165) & (r.t_arrival < 195)]
    assert failed[late.index].mean() == 1.0  # every cached answer has expired


def _registry_scenario(kind: str) -> dict:
    return {
        "name": "reg", "duration": "200s", "warmup": "10s", "seed": 4,
        "workload": [{"name": "w", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "200/s"},
                      "client": {"timeout": "1s"}}],
        "components": [
            {"kind": "registry", "name": "reg", "services": ["app"], "interval": "5s", "expiry": "15s",
             "refresh": "10s"},
            {"kind": "load_balancer", "name": "lb", "targets": "app", "discovery": "reg"},
            {"kind": "service", "name": "app", "replicas": 4, "workers": 8, "service_time": "10ms"},
        ],
        "faults": [{"kind": kind, "name": "boom", "target": "app", "replicas": [0], "at": "52s",
                    "for": "100s"}],
    }


def test_discovery_drops_a_crashed_instance_after_expiry_and_refresh(make_scenario):
    """A crashed replica is dropped once its heartbeat is older than expiry, at the next refresh."""
    result = run(make_scenario(_registry_scenario("crash")))
    ttd = result.summary["time_to_detect.boom"]
    assert 15.0 <= ttd <= 15.0 + 5.0 + 10.0  # expiry, plus up to a heartbeat interval and a refresh
    r = result.requests
    lost = r[(r.outcome == "unavailable")]
    assert lost.t_arrival.max() <= 52.0 + ttd + 1e-9
    assert lost.t_arrival.min() >= 52.0


def test_discovery_never_drops_a_hung_instance(make_scenario):
    """A hung process keeps heartbeating: discovery alone keeps sending it requests that time out."""
    result = run(make_scenario(_registry_scenario("hang")))
    assert result.summary["time_to_detect.boom"] is None
    r = result.requests
    late = r[(r.t_arrival >= 120) & (r.t_arrival < 150)]
    assert (late.outcome == "timeout").mean() == pytest.approx(0.25, abs=0.03)
