"""The benchmark workloads: each a project scenario (plain dict, docs/contracts.md format)
paired with the plain-SimPy reference model it is measured against.

Every scenario is sized so that about ``n`` logical requests arrive: duration = n / rate,
warmup 0. The reference simulates until ``n`` requests complete.

TODO (resilience features not available yet; add them to ``three_tier_resilient`` when
they land, and drop the matching entry from ``PENDING_FEATURES``):
  - circuit breaker on ``db`` (mitigations: {kind: circuit_breaker, target: db, ...})
  - token-bucket rate limiter in front of ``app`` (mitigations: {kind: rate_limit, algorithm: token_bucket})
  - a ``compare --jobs N`` workload (variants run in a process pool) once ``cascade compare`` exists
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

PENDING_FEATURES = ("circuit breaker", "token-bucket rate limiter")
SKIPPED_NOTES = ("compare --jobs: skipped, `cascade compare` is not available yet",)

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
    """``three_tier`` plus a 1 s client timeout and 3 attempts with full-jitter exponential backoff."""
    # TODO: add the circuit breaker and token-bucket limiter here (see module docstring).
    return _scenario(
        "bench-three-tier-resilient",
        n,
        seed,
        THREE_TIER["lam"],
        "lb",
        _three_tier_components(),
        client=dict(RESILIENT_CLIENT),
    )


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
        "three_tier + timeout 1 s + 3 attempts (full jitter)",
        three_tier_resilient_scenario,
        three_tier_reference,
        "plain three_tier",
        1.0,
        notes=("breaker/limiter not yet available",),
    ),
)


def by_name(name: str) -> Workload:
    for workload in WORKLOADS:
        if workload.name == name:
            return workload
    raise KeyError(f"unknown benchmark workload {name!r}; known: {[w.name for w in WORKLOADS]}")
