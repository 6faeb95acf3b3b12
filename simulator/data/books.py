"""Per-component consistency counts: stale reads and their ages, lost writes, lost updates...

One :class:`DataBooks` per run (``ctx.data``, None unless a workload declares ``operations``).
Components that answer reads get a :class:`ReadCheck` from it and call ``check`` with the version
they answer, at the moment they answer; components that lose, discard or conflict on writes
call :meth:`DataBooks.add`. Everything counts in the measured window only (``ctx.measuring()``),
like every other count in a summary. The summary names are ``<metric>.<component>``
(``stale_reads.cache``, ``lost_updates.db``), declared in :mod:`simulator.metrics`.
"""

from __future__ import annotations

from array import array

import numpy as np

from simulator.data.ledger import Ledger

COUNTERS = ("writes", "lost_writes", "lost_updates", "cas_conflicts", "conflicting_writes",
            "discarded_writes", "writes_saved", "count_lost")
"""Counts a component may report (only those it registered appear in the summary)."""


class ReadCheck:
    """Checks the reads one component answers against its ledger at the moment it answers them."""

    __slots__ = ("component", "ledger", "_measuring", "_env", "reads", "stale", "ages")

    def __init__(self, component: str, ledger: Ledger, ctx):
        self.component = component
        self.ledger = ledger
        self._measuring = ctx.measuring
        self._env = ctx.env
        self.reads = 0
        self.stale = 0
        self.ages = array("d")  # age of every stale answer (fresh answers have age 0)

    def check(self, key: int, version: int) -> bool:
        """Judge one answer of ``version`` of ``key``, now; returns whether it was stale (counted
        only in the measured window)."""
        ledger = self.ledger
        stale = version < ledger.latest(key)
        if self._measuring():
            self.reads += 1
            if stale:
                self.stale += 1
                self.ages.append(ledger.staleness(key, version, self._env.now))
        return stale

    def summary(self) -> dict[str, float | None]:
        """``stale_reads`` (share of reads), ``staleness_p50/p99`` (seconds, over all reads, a
        fresh answer being 0 s old) and ``reads``; None where there was no read."""
        name = self.component
        if not self.reads:
            return {f"reads.{name}": 0.0, f"stale_reads.{name}": None,
                    f"staleness_p50.{name}": None, f"staleness_p99.{name}": None}
        ages = np.zeros(self.reads)
        ages[self.reads - self.stale:] = np.frombuffer(self.ages, dtype=np.float64)
        p50, p99 = np.quantile(ages, [0.5, 0.99])
        return {f"reads.{name}": float(self.reads), f"stale_reads.{name}": self.stale / self.reads,
                f"staleness_p50.{name}": float(p50), f"staleness_p99.{name}": float(p99)}


class DataBooks:
    """Every ledger, read check and write counter of a run."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.ledgers: dict[str, Ledger] = {}
        self.checks: dict[str, ReadCheck] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def ledger(self, owner: str) -> Ledger:
        """The committed history owned by component ``owner`` (made on first use)."""
        found = self.ledgers.get(owner)
        if found is None:
            found = self.ledgers[owner] = Ledger(owner)
        return found

    def read_check(self, component: str, ledger: Ledger) -> ReadCheck:
        """The read check of ``component`` (one per component)."""
        check = self.checks.get(component)
        if check is None:
            check = self.checks[component] = ReadCheck(component, ledger, self.ctx)
        return check

    def register(self, component: str, *counters: str) -> None:
        """Declare the counters a component reports, so they appear (as 0) even when nothing happened."""
        unknown = set(counters) - set(COUNTERS)
        if unknown:
            raise ValueError(f"unknown data counters {sorted(unknown)}")
        mine = self.counts.setdefault(component, {})
        for counter in counters:
            mine.setdefault(counter, 0)

    def add(self, component: str, counter: str, n: int = 1) -> None:
        """Count ``n`` events of ``counter`` at ``component`` if now is in the measured window."""
        if self.ctx.measuring():
            self.counts[component][counter] += n

    def summary(self) -> dict[str, float | None]:
        """Every read check's metrics and every registered counter, as ``<metric>.<component>``."""
        out: dict[str, float | None] = {}
        for check in self.checks.values():
            out.update(check.summary())
        for component, counters in self.counts.items():
            out.update({f"{counter}.{component}": float(value) for counter, value in counters.items()})
        return out
