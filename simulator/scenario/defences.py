"""Request-level defence specs (breakers, retry budgets, bulkheads, rate limiters, shedding...).

Each spec subclasses :class:`~simulator.scenario.mitigation_base.MitigationBase` with a
``kind: Literal[...]``; list it in :data:`DEFENCE_SPECS`.
"""

from __future__ import annotations

DEFENCE_SPECS: tuple[type, ...] = ()
"""Defence kinds, assembled into the ``mitigations:`` union by ``simulator.scenario.mitigations``."""
