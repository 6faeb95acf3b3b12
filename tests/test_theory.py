"""The simulator against queueing theory: M/M/1, M/M/c (Erlang C), M/M/c/K, M/D/1, Little's law.

Tolerances are honest: each check allows the larger of 3 batch-means half-widths and a small
relative band, and the sample sizes are chosen so that band is a few percent at most.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run
from tests.theory import MMC_CONTRACT, batch_means, md1_response_time, mmc_response_time, mmck_blocking


def single_queue(rate: str, workers: int, service_time: dict, duration: str = "20000s",
                 warmup: str = "500s", queue_limit=None, seed: int = 3) -> dict:
    server = {"kind": "service", "name": "server", "workers": workers, "service_time": service_time}
    if queue_limit is not None:
        server["queue_limit"] = queue_limit
    return {
        "name": "queue", "duration": duration, "warmup": warmup, "seed": seed,
        "workload": [{"name": "jobs", "entry": "server", "arrivals": {"pattern": "poisson", "rate": rate}}],
        "components": [server],
    }


def ok_latencies(result) -> np.ndarray:
    """Latencies of successful requests that arrived after warm-up, in arrival order."""
    req = result.requests
    keep = (req.t_arrival >= result.spec.warmup) & (req.outcome == "ok")
    return req.latency[keep].to_numpy()


def assert_close(measured: np.ndarray, expected: float, rel: float) -> None:
    mean, half = batch_means(measured)
    assert abs(mean - expected) <= max(3 * half, rel * expected), (mean, half, expected)


def test_contract_file_matches_erlang_c(tmp_path):
    """The M/M/c contract scenario runs unchanged and its mean latency is within 3% of Erlang C."""
    from simulator import load_scenario

    path = tmp_path / "mmc.yaml"
    path.write_text(MMC_CONTRACT)
    result = run(load_scenario(str(path)))
    expected = mmc_response_time(8.0, 1.0, 10)
    assert result.summary["latency_mean"] == pytest.approx(expected, rel=0.03)
    assert result.summary["utilization.server"] == pytest.approx(0.8, rel=0.02)


def test_mm1_mean_response_time(make_scenario):
    """M/M/1 at rho = 0.7: mean sojourn 1/(mu - lambda)."""
    result = run(make_scenario(single_queue("7/s", 1, {"dist": "exponential", "mean": "100ms"})))
    assert_close(ok_latencies(result), 1 / (10 - 7), rel=0.03)


def test_mmc_mean_response_time_high_load(make_scenario):
    """M/M/4 at rho = 0.9 (long waits): mean sojourn matches Erlang C."""
    scenario = single_queue("36/s", 4, {"dist": "exponential", "mean": "100ms"}, duration="30000s")
    result = run(make_scenario(scenario))
    assert_close(ok_latencies(result), mmc_response_time(36, 10, 4), rel=0.04)


def test_mmck_blocking_probability(make_scenario):
    """M/M/2/5 (queue_limit 3): the rejected fraction equals the M/M/c/K blocking probability."""
    scenario = single_queue("2.5/s", 2, {"dist": "exponential", "mean": "1s"}, queue_limit=3,
                            duration="40000s")
    s = run(make_scenario(scenario)).summary
    expected = mmck_blocking(2.5, 1.0, 2, 5)
    assert s["rejected"] / s["offered"] == pytest.approx(expected, rel=0.03)


def test_md1_pollaczek_khinchine(make_scenario):
    """M/D/1 at rho = 0.7: mean sojourn from Pollaczek–Khinchine."""
    result = run(make_scenario(single_queue("7/s", 1, {"dist": "constant", "value": "100ms"})))
    assert_close(ok_latencies(result), md1_response_time(7, 0.1), rel=0.03)


def test_littles_law_on_three_tiers(make_scenario):
    """L = lambda W: sampled requests in the app tier equal throughput x mean latency."""
    scenario = {
        "name": "little", "duration": "5000s", "warmup": "200s", "seed": 11, "sample_interval": "0.5s",
        "workload": [{"name": "web", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "150/s"}}],
        "components": [
            {"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "round_robin"},
            {"kind": "service", "name": "app", "replicas": 3, "workers": 4,
             "service_time": {"dist": "exponential", "mean": "40ms"}, "calls": ["db"]},
            {"kind": "database", "name": "db", "connections": 8,
             "query_time": {"dist": "exponential", "mean": "20ms"}},
        ],
    }
    result = run(make_scenario(scenario))
    series = result.series
    in_app = series[(series.component == "app") & (series.metric == "in_flight") & (series.t > 200)]
    s = result.summary
    assert in_app.value.mean() == pytest.approx(s["throughput"] * s["latency_mean"], rel=0.03)
    assert s["throughput"] == pytest.approx(150, rel=0.02)
