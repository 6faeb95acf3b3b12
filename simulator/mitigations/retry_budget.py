"""``kind: retry_budget`` — Finagle's retry budget on a workload's client or on a call edge's retries.

Every request deposits ``ratio`` of a retry; every retry withdraws one; deposits and withdrawals
expire after ``ttl`` (a sliding window, as Finagle's ``TokenRetryBudget`` over a ``WindowedAdder``).
A reserve of ``min_per_second x ttl`` retries is always there, so a quiet client can still retry.
A retry is allowed while the balance ``min_per_second x ttl + ratio x requests - retries`` (over
the window) is at least one. When every call fails, retries therefore add at most about ``ratio``
per request (plus the reserve): amplification stays near ``1 + ratio`` instead of ``max_attempts``.
A refused retry ends the request with the outcome of its last attempt. On a call edge
``caller->callee`` (with ``retry`` in ``calls``) every logical call deposits and every retry of the
edge withdraws, as Finagle's budget sits in each client's stack.
"""

from __future__ import annotations

from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.mitigations.windowed import WindowedSum


class RetryBudget(Mitigation):
    """Gates the retries of one workload's client, or of one call edge."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.window = WindowedSum(spec.ttl)
        self.reserve = spec.min_per_second * spec.ttl
        self.allowed = 0
        self.exhausted = 0
        self._dry = False

    def wrap(self, system) -> None:
        if "->" in self.spec.target:  # the edge's retries: the budget sits in its call layer
            for edge in system.edges.named(self.spec.target):
                edge.owner_at(Position.CALL).use_retry_budget(self.deposit, self.try_withdraw)
            return
        client = next(c for c in system.clients if c.workload_name == self.spec.target)
        client.use_retry_budget(self.deposit, self.try_withdraw)

    def deposit(self) -> None:
        """A request (or an edge's logical call) puts ``ratio`` of a retry into the budget."""
        self.window.add(self.ctx.env.now, self.spec.ratio)

    def try_withdraw(self) -> bool:
        """One retry, if the budget holds one (a ``budget_dry``/``budget_ok`` event on each change)."""
        now = self.ctx.env.now
        if self.reserve + self.window.sum(now) >= 1.0:
            self.window.add(now, -1.0)
            if self.ctx.measuring():
                self.allowed += 1
            if self._dry:
                self._dry = False
                self.event("budget_ok", self.spec.target, self.name)
            return True
        if self.ctx.measuring():
            self.exhausted += 1
        if not self._dry:
            self._dry = True
            self.event("budget_dry", self.spec.target, self.name)
        return False

    def counters(self) -> dict[str, float]:
        return {"budget_exhausted": float(self.exhausted), "retries_allowed": float(self.allowed)}
