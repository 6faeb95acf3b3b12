"""Request-level defence specs (breakers, retry budgets, bulkheads, rate limiters, shedding...).

Each spec subclasses :class:`~simulator.scenario.mitigation_base.MitigationBase` with a
``kind: Literal[...]``; list it in :data:`DEFENCE_SPECS`.
"""

from __future__ import annotations

from simulator.scenario.breaker import CircuitBreakerSpec
from simulator.scenario.hedge import HedgeSpec
from simulator.scenario.isolation import ISOLATION_SPECS
from simulator.scenario.limits import LIMIT_SPECS

DEFENCE_SPECS: tuple[type, ...] = (*LIMIT_SPECS, CircuitBreakerSpec, *ISOLATION_SPECS, HedgeSpec)
"""Defence kinds, assembled into the ``mitigations:`` union by ``simulator.scenario.mitigations``."""
