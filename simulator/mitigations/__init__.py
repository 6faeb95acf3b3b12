"""Mitigations: the scenario's enabled ``mitigations:`` become live objects (one per entry).

Request-level defences and capacity controls each register their kinds in :data:`KINDS`; a
disabled mitigation is skipped here, so it costs nothing during the run.
"""

from __future__ import annotations

from simulator.mitigations.adaptive_throttling import AdaptiveThrottling
from simulator.mitigations.autoscaler import Autoscaler
from simulator.mitigations.base import Mitigation
from simulator.mitigations.bulkhead import Bulkhead
from simulator.mitigations.circuit_breaker import CircuitBreaker
from simulator.mitigations.deployment import Deployment
from simulator.mitigations.fallback import Fallback
from simulator.mitigations.hedge import Hedge
from simulator.mitigations.load_shedding import LoadShedding
from simulator.mitigations.rate_limit import RateLimit
from simulator.mitigations.retry_budget import RetryBudget
from simulator.mitigations.schedule import Schedule

KINDS: dict[str, type[Mitigation]] = {
    "circuit_breaker": CircuitBreaker,
    "bulkhead": Bulkhead,
    "fallback": Fallback,
    "schedule": Schedule,
    "rate_limit": RateLimit,
    "load_shedding": LoadShedding,
    "autoscaler": Autoscaler,
    "retry_budget": RetryBudget,
    "adaptive_throttling": AdaptiveThrottling,
    "deployment": Deployment,
    "hedge": Hedge,
}

__all__ = ["KINDS", "Mitigation", "plan_mitigations"]


def plan_mitigations(ctx, spec) -> list[Mitigation]:
    """One live mitigation per enabled entry, in file order."""
    return [KINDS[m.kind](ctx, m) for m in spec.mitigations if m.enabled]
