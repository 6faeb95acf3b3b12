"""The benchmark workloads: each a project scenario (plain dict, docs/contracts.md format)
paired with the plain-SimPy reference model it is measured against.

Every scenario is sized so that about ``n`` logical requests arrive: duration = n / rate,
warmup 0. The reference simulates until ``n`` requests complete.

``three_tier_resilient`` carries every resilience feature it was planned with (``PENDING_FEATURES``
lists any still missing).

``three_tier_alerts`` is ``three_tier`` watched by three alert rules evaluated during the run (a
threshold, a burn rate, an EWMA anomaly detector on the p99 latency): besides its ratio to plain
SimPy it is timed against ``three_tier`` itself (its ``baseline``), which gives the cost of the rules.

The ``compare_jobs`` workload is of another kind: not the project against plain SimPy, but ``cascade
compare`` (5 variants x 10 replications of ``three_tier``) with ``--jobs 2`` against ``--jobs 1``,
pool start-up included, so its ratio is the speed-up a user sees on two cores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.bench import reference

# Shared parameters (seconds, per second) of the systems being simulated.
MMC = {"lam": 90.0, "mean_service": 0.100, "c": 10}
THREE_TIER = {"lam": 250.0, "apps": 4, "workers": 8, "mean_app": 0.050, "db_conns": 16, "mean_db": 0.050}
RESILIENT_CLIENT = {
    "timeout": 1.0,
    "retry": {"max_attempts": 3, "backoff": "exponential", "base": 0.050, "cap": 1.0, "jitter": "full"},
}

PENDING_FEATURES: tuple[str, ...] = ()
APP_LIMITER = {"kind": "rate_limit", "name": "app_limit", "target": "app", "algorithm": "token_bucket",
               "rate": 1000.0, "burst": 100}
"""The limiter of ``three_tier_resilient``: a token bucket at app's entry, above the offered 250/s
(it is measured for its cost per request, not to refuse)."""
DB_BREAKER = {"kind": "circuit_breaker", "name": "db_breaker", "target": "app->db", "preset": "resilience4j"}
"""The breaker of ``three_tier_resilient``: resilience4j defaults on the app's calls to the db."""
SKIPPED_NOTES: tuple[str, ...] = ()
COMPARE = {"replicas": (4, 5, 6, 7, 8), "replications": 10, "scale": 16, "jobs": 2}
"""The compare workload: app replicas per variant, replications, total requests = scale x n."""

DEFAULT_N = 200_000
QUICK_N = 20_000


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    scenario: Callable[[int, int], dict[str, Any]]  # (n, seed) -> scenario dict
    reference: Callable[[int, int], reference.Result]  # (n, seed) -> (completed, sim_time, mean)
    reference_name: str
    target: float  # minimum project/reference speed ratio
    notes: tuple[str, ...] = field(default=())
    project: Callable[[int, int], int] | None = None  # (n, seed) -> requests; None: the project runner
    baseline: str | None = None  # another workload's project side, timed alongside this one
    baseline_target: float | None = None  # minimum project/baseline speed ratio


def _exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def _scenario(name: str, n: int, seed: int, rate: float, entry: str, components: list, client=None):
    arrivals = {"pattern": "poisson", "rate": rate}
    workload: dict[str, Any] = {"name": "load", "entry": entry, "arrivals": arrivals}
    if client is not None:
        workload["client"] = client
    return {
        "name": name,
        "description": f"cascade bench workload '{name}' (about {n} requests)",
        "duration": n / rate,
        "warmup": 0,
        "seed": seed,
        "workload": [workload],
        "components": components,
    }


def mmc_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """Poisson 90/s into one service with 10 workers, Exp(mean 100 ms)."""
    service = {
        "kind": "service",
        "name": "svc",
        "replicas": 1,
        "workers": MMC["c"],
        "service_time": _exp(MMC["mean_service"]),
    }
    return _scenario("bench-mmc", n, seed, MMC["lam"], "svc", [service])


def _three_tier_components() -> list[dict[str, Any]]:
    p = THREE_TIER
    return [
        {"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "round_robin"},
        {
            "kind": "service",
            "name": "app",
            "replicas": p["apps"],
            "workers": p["workers"],
            "service_time": _exp(p["mean_app"]),
            "calls": ["db"],
        },
        {"kind": "database", "name": "db", "connections": p["db_conns"], "query_time": _exp(p["mean_db"])},
    ]


def three_tier_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """Poisson 250/s -> round-robin LB -> app (4 x 8 workers, Exp 50 ms) -> db (16 conns, Exp 50 ms)."""
    return _scenario("bench-three-tier", n, seed, THREE_TIER["lam"], "lb", _three_tier_components())


def three_tier_resilient_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """``three_tier`` plus a 1 s client timeout, 3 attempts with full-jitter exponential backoff,
    a circuit breaker (resilience4j defaults) on ``app->db`` and a token bucket at ``app``."""
    data = _scenario(
        "bench-three-tier-resilient",
        n,
        seed,
        THREE_TIER["lam"],
        "lb",
        _three_tier_components(),
        client=dict(RESILIENT_CLIENT),
    )
    data["mitigations"] = [*data.get("mitigations", []), dict(DB_BREAKER), dict(APP_LIMITER)]
    return data


ALERT_RULES: tuple[dict[str, Any], ...] = (
    {"kind": "threshold", "name": "errors", "metric": "error_ratio", "window": "5m", "op": ">",
     "value": 0.01, "for": "2m"},
    {"kind": "burn_rate", "name": "burn-fast", "long_window": "1h", "short_window": "5m", "burn_rate": 14.4},
    {"kind": "anomaly", "name": "latency-ewma", "method": "ewma", "metric": "latency_p99",
     "evaluation_interval": "1m", "alpha": 0.05, "threshold": 5, "direction": "above"},
)
"""The rules of ``three_tier_alerts``: one of each kind, as in ``scenarios/alerting.yaml``; the EWMA
reads latencies, which puts the costlier completion wrapper (ok latencies kept) on every client."""
ALERTS_COST_TARGET = 0.90
"""``three_tier_alerts`` may be at most 10% slower than ``three_tier`` (issue 16)."""


def three_tier_alerts_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """``three_tier`` plus a 99.9% availability SLO and the three :data:`ALERT_RULES`."""
    data = three_tier_scenario(n, seed)
    data["name"] = "bench-three-tier-alerts"
    data["slo"] = {"availability": 0.999}
    data["alerts"] = [dict(rule) for rule in ALERT_RULES]
    return data


def compare_scenario(n: int, seed: int = 1) -> dict[str, Any]:
    """``three_tier`` with five variants (4 to 8 app replicas); one run is about ``n`` requests."""
    data = three_tier_scenario(n, seed)
    data["name"] = "bench-compare"
    data["variants"] = {f"apps{a}": {"components.app.replicas": a} for a in COMPARE["replicas"]}
    return data


def _compare(n: int, seed: int, jobs: int) -> int:
    """Run the 5 x 10 comparison with ``jobs`` processes; return the requests simulated in all runs."""
    from simulator.experiment.compare import compare
    from simulator.scenario import scenario_from_dict

    runs = len(COMPARE["replicas"]) * COMPARE["replications"]
    scenario = scenario_from_dict(compare_scenario(max(1, n * COMPARE["scale"] // runs), seed))
    result = compare(scenario, replications=COMPARE["replications"], jobs=jobs)
    offered = result.summary.loc[result.summary["metric"] == "offered", "value"]
    return int(offered.sum())


def compare_parallel(n: int, seed: int = 1) -> int:
    """The compare workload with ``--jobs 2``."""
    return _compare(n, seed, COMPARE["jobs"])


def compare_serial(n: int, seed: int = 1) -> reference.Result:
    """The compare workload with ``--jobs 1``: the yardstick of the speed-up."""
    return _compare(n, seed, 1), float("nan"), float("nan")


def mmc_reference(n: int, seed: int = 1) -> reference.Result:
    return reference.mmc(n=n, seed=seed, **MMC)


def three_tier_reference(n: int, seed: int = 1) -> reference.Result:
    return reference.three_tier(n=n, seed=seed, **THREE_TIER)


WORKLOADS: tuple[Workload, ...] = (
    Workload("mmc", "M/M/10, 90/s, Exp 100 ms", mmc_scenario, mmc_reference, "mmc", 2.0),
    Workload(
        "three_tier",
        "LB -> 4x8 app -> db(16), 250/s",
        three_tier_scenario,
        three_tier_reference,
        "three_tier",
        1.5,
    ),
    Workload(
        "three_tier_resilient",
        "three_tier + timeout 1 s, 3 attempts, breaker on app->db, token bucket at app",
        three_tier_resilient_scenario,
        three_tier_reference,
        "plain three_tier",
        1.5,
    ),
    Workload(
        "three_tier_alerts",
        "three_tier + 3 alert rules (threshold, burn rate, EWMA on p99) evaluated during the run",
        three_tier_alerts_scenario,
        three_tier_reference,
        "plain three_tier",
        1.5,
        baseline="three_tier",
        baseline_target=ALERTS_COST_TARGET,
    ),
    Workload(
        "compare_jobs",
        "compare: 5 variants x 10 replications of three_tier, --jobs 2 vs --jobs 1",
        compare_scenario,
        compare_serial,
        "compare --jobs 1",
        1.8,
        notes=("ratio = speed-up of --jobs 2 over --jobs 1 (process start-up included), "
               f"{COMPARE['scale']} x n requests in 50 runs",),
        project=compare_parallel,
    ),
)


def by_name(name: str) -> Workload:
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(f"unknown benchmark workload {name!r}; known: {[w.name for w in WORKLOADS]}")
