"""What every mitigation spec shares: name, target and the ``enabled`` switch."""

from __future__ import annotations

from simulator.scenario.base import Name, SpecModel, StrictBool


class MitigationBase(SpecModel):
    """Base of every mitigation spec (subclasses add ``kind`` and their own keys)."""

    name: Name
    """Mitigation name: in events, counters (``<counter>.<name>``) and random streams."""
    target: str
    """What it protects or controls: a component, a workload, or an edge ``caller->callee``."""
    enabled: StrictBool = True
    """Switch it off in a variant with ``mitigations.<name>.enabled: false``."""
