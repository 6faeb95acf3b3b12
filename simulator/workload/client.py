"""The client side of a workload: per-attempt timeout, retries with backoff and jitter.

The client races each attempt against its timeout. When the timeout wins, the client moves on
(retrying or giving up) but the servers keep working on the abandoned attempt: that wasted work
is what turns retries into retry storms and metastable overload, so it is never optimised away.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.request import OK, TIMEOUT, Attempt, Outcome, Request
from simulator.workload.backoff import Backoff


class Client:
    """Turns logical requests into attempts against the workload's entry component."""

    def __init__(self, ctx, spec, entry, workload_index: int, draw_first: Callable[[], list],
                 draw_retry: Callable[[], list], backoff: Backoff | None,
                 on_complete: Callable[[Request], None] | None = None):
        self.env = ctx.env
        self.recorder = ctx.recorder
        self._later = ctx.scheduler()
        self._timeout_event = ctx.env.timeout
        self._expire_cb = self._expire
        self.entry = entry
        self._handle = entry.handle
        self.workload_index = workload_index
        self.timeout = spec.timeout
        self.max_attempts = spec.retry.max_attempts if spec.retry else 1
        self.retry_on = frozenset(int(Outcome[o.upper()]) for o in spec.retry_on)
        self.backoff = backoff
        self._draw_first = draw_first
        self._draw_retry = draw_retry
        self.on_complete = on_complete
        self.late_answers = 0  # answers that arrived after the client gave up: wasted work

    def submit(self, now: float) -> Request:
        """A new logical request arrives at ``now`` (the current simulated time)."""
        req = Request(self.recorder.arrival(now, self.workload_index), now)
        self._attempt(req, self._draw_first())
        return req

    def _attempt(self, req: Request, work: list) -> None:
        req.attempts += 1
        att = Attempt(req, work, self)
        if self.timeout is not None:
            self._timeout_event(self.timeout, att).callbacks.append(self._expire_cb)
        self._handle(att, att.answer)

    def _expire(self, event) -> None:
        att = event.value
        if not att.is_settled:
            att.is_settled = True
            self.settle(att, TIMEOUT)

    def settle(self, att: Attempt, outcome: int) -> None:
        """The attempt is over for the client: retry it or finish the request."""
        req = att.request
        if outcome != OK and req.attempts < self.max_attempts and outcome in self.retry_on:
            self._later(self.backoff.delay(req), self._retry, req)
            return
        self.recorder.finish(req.id, self.env.now, outcome, req.attempts)
        if self.on_complete is not None:
            self.on_complete(req)

    def _retry(self, event) -> None:
        self._attempt(event.value, self._draw_retry())

