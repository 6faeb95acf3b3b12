"""``kind: hedge`` — the spec of hedged (backup) requests on a call edge or a workload's entry
(Dean & Barroso, "The Tail at Scale", 2013): when no answer has come after ``delay``, send one
more copy of the call; the first answer wins and the others are cancelled."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import field_validator

from simulator.scenario.base import PositiveInt
from simulator.scenario.mitigation_base import MitigationBase
from simulator.units import PositiveDuration, parse_duration

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


class HedgeSpec(MitigationBase):
    """Backup requests on the edge ``caller->callee``, or on a workload's edge to its entry."""

    TARGETS: ClassVar[tuple[str, ...]] = ("edge", "workload")
    kind: Literal["hedge"] = "hedge"
    delay: float | str
    """How long to wait for an answer before sending a copy: a duration (``50ms``) or a percentile
    of the edge's recent latencies (``p95``: the copy goes out for the slowest 5%)."""
    window: PositiveDuration = 10.0
    """With a percentile delay: the span of recent latencies it is computed over, seconds."""
    min_samples: PositiveInt = 100
    """With a percentile delay: no copy is sent until the window holds this many latencies."""
    max_extra: PositiveInt = 1
    """Copies at most beyond the first, each one ``delay`` after the previous (gRPC's hedging
    policy; Dean & Barroso use one)."""

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, value):
        if isinstance(value, str) and value.strip().startswith("p"):
            match = _PERCENTILE.match(value.strip())
            if not match or not 0 < float(match.group(1)) < 100:
                raise ValueError(f"expected a percentile between p1 and p99.9 such as 'p95'; got {value!r}")
            return value.strip()
        return parse_duration(value, positive=True)

    @property
    def quantile(self) -> float | None:
        """The percentile as a fraction (``p95`` -> 0.95), or None for a fixed delay."""
        if isinstance(self.delay, str):
            return float(_PERCENTILE.match(self.delay).group(1)) / 100.0
        return None
