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

from simulator.mitigations.base import Mitigation
from simulator.mitigations.windowed import WindowedSum


class RetryBudget(Mitigation):
    """Gates the retries of one workload's client."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.window = WindowedSum(spec.ttl)
        self.reserve = spec.min_per_second * spec.ttl
        self.allowed = 0
        self.exhausted = 0
        self._dry = False

    def wrap(self, system) -> None:
        if "->" in self.spec.target:
            self._wrap_edge(system)
            return
        client = next(c for c in system.clients if c.workload_name == self.spec.target)
        submit = client.submit
        env, window, ratio = self.ctx.env, self.window, self.spec.ratio

        def submit_with_deposit(now: float):
            window.add(env.now, ratio)
            return submit(now)

        client.submit = submit_with_deposit
        client.retry_gate = self.try_withdraw

    def _wrap_edge(self, system) -> None:
        from simulator.mitigations.deadlines import EdgeCalls

        target = "->".join(part.strip() for part in self.spec.target.split("->"))
        edge = next(m for m in system.mitigations if isinstance(m, EdgeCalls) and m.name == target)
        env, window, ratio = self.ctx.env, self.window, self.spec.ratio
        edge.on_call = lambda: window.add(env.now, ratio)
        edge.retry_gate = self.try_withdraw

    def try_withdraw(self) -> bool:
        """One retry, if the budget holds one (a ``budget_dry``/``budget_ok`` event on each change)."""
        now = self.ctx.env.now
        if self.reserve + self.window.sum(now) >= 1.0:
            self.window.add(now, -1.0)
            self.allowed += 1
            if self._dry:
                self._dry = False
                self.event("budget_ok", self.spec.target, self.name)
            return True
        self.exhausted += 1
        if not self._dry:
            self._dry = True
            self.event("budget_dry", self.spec.target, self.name)
        return False

    def counters(self) -> dict[str, float]:
        return {"budget_exhausted": float(self.exhausted), "retries_allowed": float(self.allowed)}
