"""The client side of a workload: per-attempt timeout, retries with backoff and jitter.

The client races each attempt against its timeout. When the timeout wins, the client moves on
(retrying or giving up) but the servers keep working on the abandoned attempt: that wasted work
is what turns retries into retry storms and metastable overload, so it is never optimised away.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.components.edge import CallEdge
from simulator.data.ops import carry
from simulator.request import OK, SERVED, TIMEOUT, Attempt, Outcome
from simulator.workload.backoff import Backoff
from simulator.workload.timeouts import make_timeouts


class Client:
    """Turns logical requests into attempts against the workload's entry component."""

    def __init__(self, ctx, spec, entry, workload_index: int, draw_first: Callable[[], list],
                 draw_retry: Callable[[], list], backoff: Backoff | None,
                 on_complete: Callable[[Attempt], None] | None = None):
        self.env = ctx.env
        self.ctx = ctx
        self._record_arrival = ctx.recorder.arrival
        self._record_finish = ctx.recorder.finish
        self._later = ctx.scheduler()
        self.entry = entry
        self.workload_index = workload_index
        self.workload_name = ctx.recorder.workload_names[workload_index]
        self.edge = CallEdge(self.workload_name, entry)  # ``workload->entry``: layers go on it
        self.timeout = spec.timeout
        self.max_attempts = spec.retry.max_attempts if spec.retry else 1
        self.retry_on = frozenset(int(Outcome[o.upper()]) for o in spec.retry_on)
        self.backoff = backoff
        self._draw_first = draw_first
        self._draw_retry = draw_retry
        self.on_complete = on_complete
        self.late_answers = 0  # served answers that came after the client gave up, in the window
        # The books (simulator/accounting.py), kept apart from the recorder so they can disagree
        # with it: requests a fault injected here, and requests ended here (any final outcome).
        self.injected = 0
        self.ended = 0
        self._timeouts = None
        if self.timeout is not None:
            self._timeouts = make_timeouts(ctx.env, self.timeout, self._expire)
            self._start_timeout = self._timeouts.add
            self._send = self._send_with_deadline if spec.propagate_deadline else self._send_timed
        self.population = None  # the workload's clients (simulator.workload.population), if declared
        self.sticky: list[int] = []  # request-level work slots kept across retries (set by the builder)
        self.retry_gate: Callable[[], bool] | None = None  # a retry budget's withdrawal, if any
        self._send_first = self._send  # a request's first attempt (a retry budget deposits first)
        self.data = None  # the workload's operations (simulator.data.ops.DataDraw), if declared
        self._injected_data = None  # the same for requests a fault injects, from the fault's streams

    def submit(self, now: float) -> Attempt:
        """A new logical request arrives at ``now`` (the current simulated time)."""
        att = Attempt(self._record_arrival(now, self.workload_index), now, 1, self._draw_first(), self)
        self._send_first(att)
        return att

    def use_retry_budget(self, deposit: Callable[[], None], withdraw: Callable[[], bool]) -> None:
        """Every request deposits into the budget and every retry must withdraw from it (Finagle)."""
        send = self._send
        self.retry_gate = withdraw

        def deposit_and_send(att: Attempt) -> None:
            deposit()
            send(att)

        self._send_first = deposit_and_send

    def keep_across_retries(self, slots: list[int]) -> None:
        """Retries reuse the first attempt's values of these work slots (see WorkPlan.sticky_slots).

        Only clients that retry pay for it: ``submit`` is switched to a version that remembers them.
        """
        if slots and self.max_attempts > 1:
            self.sticky = list(slots)
            self.submit = self._submit_sticky

    def _submit_sticky(self, now: float) -> Attempt:
        att = Attempt(self._record_arrival(now, self.workload_index), now, 1, self._draw_first(), self)
        att.sticky = [att.work[i] for i in self.sticky]
        self._send_first(att)
        return att

    def use_data(self, draw, injected) -> None:
        """Each request reads or writes a key (``operations``): ``draw`` stamps the workload's own
        requests, ``injected`` those a fault adds. Only such clients pay for it."""
        self.data = draw
        self._injected_data = injected
        self.submit = self._submit_data

    def _submit_data(self, now: float) -> Attempt:
        att = Attempt(self._record_arrival(now, self.workload_index), now, 1, self._draw_first(), self)
        if self.sticky:
            att.sticky = [att.work[i] for i in self.sticky]
        self.data.stamp(att)
        self._send_first(att)
        return att

    def inject(self, now: float, draw_work: Callable[[], list]) -> Attempt:
        """An extra request (a surge or burst fault) whose work comes from the fault's own streams,
        so the workload's own requests keep their work in every variant."""
        self.injected += 1
        att = Attempt(self._record_arrival(now, self.workload_index), now, 1, draw_work(), self)
        if self.sticky:
            att.sticky = [att.work[i] for i in self.sticky]
        if self._injected_data is not None:
            self._injected_data.stamp(att)
        self._send_first(att)
        return att

    def _send(self, att: Attempt) -> None:
        """Hand the attempt to the entry (a client without a timeout waits for the answer)."""
        self.edge.send(att, att.answer)

    def _send_timed(self, att: Attempt) -> None:
        """As ``_send``, the attempt's timeout started first (it starts as the attempt is sent)."""
        self._start_timeout(att)
        self.edge.send(att, att.answer)

    def _send_with_deadline(self, att: Attempt) -> None:
        """As ``_send_timed``, stamping the attempt with the moment its caller gives up, so call
        edges downstream never wait past it (deadline propagation)."""
        att.deadline = self.env.now + self.timeout
        self._start_timeout(att)
        self.edge.send(att, att.answer)

    def late_answer(self, outcome: int) -> None:
        """An answer came after the attempt was settled. It counts as a late answer (work a server
        did for nobody) only if a server served it, and only in the measured window: a dropped
        expired request or a refusal used no server time."""
        if outcome in SERVED and self.ctx.measuring():
            self.late_answers += 1

    def _expire(self, att: Attempt) -> None:
        """The attempt's timeout won the race (the timeouts marked it settled already)."""
        self.settle(att, TIMEOUT)

    def settle(self, att: Attempt, outcome: int) -> None:
        """The attempt is over for the client: retry the request or record its final outcome."""
        if outcome != OK and att.number < self.max_attempts and outcome in self.retry_on \
                and (self.retry_gate is None or self.retry_gate()):
            self._later(self.backoff.delay(att), self._retry, att)
            return
        self.ended += 1
        self._record_finish(att.id, self.env.now, outcome, att.number)
        if self.on_complete is not None:
            self.on_complete(att)

    def _retry(self, event) -> None:
        failed = event.value
        work = self._draw_retry()
        if self.sticky:  # the same key, the same read or write: a retry asks for the same thing
            first = failed.sticky
            for i, value in zip(self.sticky, first, strict=True):
                work[i] = value
        att = Attempt(failed.id, failed.t_arrival, failed.number + 1, work, self)
        att.last_backoff = failed.last_backoff
        if self.sticky:
            att.sticky = first
        if self.population is not None:
            self.population.carry(failed, att)
        if self.data is not None:
            carry(failed, att)
        self._send(att)
