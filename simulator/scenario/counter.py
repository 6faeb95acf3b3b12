"""``kind: counter`` — an approximate counter (a viral post's view count) in front of a database.

Every request that writes (``operations: {write: ...}``) is one increment of its key; a read asks
for the count. ``mode: exact`` writes every increment to the ``backend`` database (the request
waits for it); ``mode: batched`` adds it to an in-memory delta answered at once and, every
``flush_interval``, writes one row per key touched carrying the summed delta. Semantics and
metrics: docs/consistency.md, "Global caches and counters". Whether the workloads reaching a
counter carry data operations is checked once the whole scenario is known
(:mod:`simulator.scenario.data_checks`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from simulator.scenario.base import Name, SpecModel, spec_error
from simulator.scenario.dists import ConstantDistSpec, DistSpec
from simulator.units import PositiveDuration


class CounterSpec(SpecModel):
    """Counts increments per key; writes them to ``backend`` one by one or aggregated."""

    kind: Literal["counter"] = "counter"
    name: Name
    """Component name."""
    backend: str
    """Name of the database the counts are written to (and read from)."""
    mode: Literal["exact", "batched"] = "exact"
    """``exact``: one database write per increment, the request waits for it; ``batched``:
    increments add up in memory, answered at once, flushed every ``flush_interval``."""
    flush_interval: PositiveDuration | None = None
    """Batched only: time between flushes, seconds (one write per key touched since the last)."""
    hit_time: DistSpec = ConstantDistSpec(value=0.0005)
    """Time of the in-memory increment (or of a read's own step), seconds (default 0.5ms)."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""

    @model_validator(mode="after")
    def _flush_iff_batched(self) -> CounterSpec:
        if self.mode == "batched" and self.flush_interval is None:
            raise spec_error("missing required key 'flush_interval' (mode batched flushes every "
                             "flush_interval)")
        if self.mode == "exact" and self.flush_interval is not None:
            raise spec_error("flush_interval needs mode batched (mode exact writes every increment)",
                             "flush_interval")
        return self
