"""Where requests come from: open-loop arrivals (Poisson or deterministic, shaped by a profile),
closed-loop users who think, ask, wait for the answer and think again, and batch jobs that release
their items all at once or chunk by chunk.

Sources are callback chains on the SimPy scheduler (one timeout per arrival, no process), started
explicitly by the builder after the system is wired.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from simulator.randomness import sampler
from simulator.workload.profiles import RateFunction

_UNIT_EXP = SimpleNamespace(dist="exponential", mean=1.0)


class OpenLoopSource:
    """Arrivals at a rate that may change over time; the client never slows them down."""

    def __init__(self, ctx, client, rate_function: RateFunction, poisson: bool, rng):
        self.ctx = ctx
        self.client = client
        self.rate_function = rate_function
        # Unit-rate increments of the cumulative rate: Exp(1) for Poisson, exactly 1 otherwise.
        self._unit = sampler(_UNIT_EXP, rng) if poisson else itertools.repeat(1.0).__next__
        self._timeout = ctx.env.timeout
        self._end = ctx.stop  # traffic continues through the drain: the system is not emptied
        self._constant_rate = rate_function.rates[0] if len(rate_function.times) == 1 else None
        self._arrive_cb = self._arrive if self._constant_rate is None else self._arrive_steady
        self.arrived = 0  # counted here, apart from the recorder, so the books can catch a lost request
        self._next = None  # the pending arrival's event, so thin() can change what it will do
        self._drop = None

    def thin(self, drop) -> None:
        """From now on skip every arrival for which ``drop()`` is true (None: skip none again).

        A skipped arrival never happens: it is not made, counted or recorded (a traffic drop), and
        the arrival times after it stay those of the unthinned process (common random numbers).
        The arrival already scheduled is switched too, so the window's edges are exact.
        """
        old = self._arrive_cb
        self._drop = drop
        base = self._arrive if self._constant_rate is None else self._arrive_steady
        self._arrive_cb = base if drop is None else self._arrive_thinned
        pending = self._next.callbacks if self._next is not None else None
        if pending and old in pending:
            pending[pending.index(old)] = self._arrive_cb

    def _arrive_thinned(self, event) -> None:
        if self._drop():
            self._schedule_next(event.value)
        else:
            self._arrive(event)

    def counters(self) -> dict[str, float | None]:
        """Nothing to count beyond the requests themselves (a batch counts its runs)."""
        return {}

    def start(self) -> None:
        """Schedule the first arrival."""
        self._schedule_next(0.0)

    def _schedule_next(self, now: float) -> None:
        if self._constant_rate is not None:
            t = now + self._unit() / self._constant_rate
        else:
            t = self.rate_function.advance(now, self._unit())
        if t < self._end:
            self._next = self._timeout(t - now, t)
            self._next.callbacks.append(self._arrive_cb)

    def _arrive_steady(self, event) -> None:
        """Constant-rate arrival: the common case, with the next gap computed inline."""
        now = event.value  # the time this arrival was scheduled for, i.e. now
        self.arrived += 1
        self.client.submit(now)
        t = now + self._unit() / self._constant_rate
        if t < self._end:
            self._next = self._timeout(t - now, t)
            self._next.callbacks.append(self._arrive_cb)

    def _arrive(self, event) -> None:
        now = event.value  # the time this arrival was scheduled for, i.e. now
        self.arrived += 1
        self.client.submit(now)
        self._schedule_next(now)


class ClosedLoopSource:
    """``users`` users, each alternating a think time and one (possibly retried) request."""

    def __init__(self, ctx, client, users: int, think_time, rng):
        self.ctx = ctx
        self.client = client
        self.users = users
        self._think = sampler(think_time, rng)
        self._later = ctx.scheduler()
        self.arrived = 0  # counted here, apart from the recorder (see OpenLoopSource)
        client.on_complete = self._request_done

    def counters(self) -> dict[str, float | None]:
        """Nothing to count beyond the requests themselves (a batch counts its runs)."""
        return {}

    def start(self) -> None:
        """Every user starts by thinking, so the first requests are spread out."""
        for _ in range(self.users):
            self._later(self._think(), self._ask)

    def _ask(self, event) -> None:
        self.arrived += 1
        self.client.submit(self.ctx.env.now)

    def _request_done(self, req) -> None:
        self._later(self._think(), self._ask)


class _Run:
    """One run of a batch job: what is left to submit and the chunk in flight (ids ``lo..hi-1``)."""

    __slots__ = ("number", "released", "left", "lo", "hi", "ended")

    def __init__(self, number: int, released: float, items: int):
        self.number = number
        self.released = released
        self.left = items  # items not submitted yet
        self.lo = self.hi = self.ended = 0


class BatchSource:
    """A batch job: each run submits ``items`` requests, all at once or ``chunk`` at a time.

    A chunk is submitted at one instant; when every one of its items has ended (any final outcome,
    after the client's retries) the source waits ``pause`` and submits the next chunk. Runs released
    while an earlier one is still going proceed side by side. Each run is a ``batch_start`` and,
    once its last item has ended, a ``batch_done`` event; the longest finished run is the summary's
    ``batch_duration.<workload>``.
    """

    def __init__(self, ctx, client, spec, name: str):
        self.ctx = ctx
        self.client = client
        self.name = name
        self.items = spec.items
        self.chunk = spec.chunk or spec.items
        self.pause = spec.pause
        self._releases = spec.releases(ctx.end)
        self._later = ctx.scheduler()
        # A chunk is submitted in one synchronous loop and only clients register requests, so its
        # ids are consecutive from the recorder's next id: no per-item bookkeeping.
        self._recorded = ctx.recorder.t_arrival
        self._in_flight: list[_Run] = []  # runs with a chunk in flight
        self._runs = 0
        self.arrived = 0  # items submitted, counted here apart from the recorder (see OpenLoopSource)
        self.durations: list[float] = []  # release to last item's end, per finished run
        client.on_complete = self._item_ended

    def start(self) -> None:
        """Schedule the first release."""
        self._schedule_release()

    def _schedule_release(self) -> None:
        t = next(self._releases, None)
        if t is not None:
            self._later(t - self.ctx.env.now, self._release)

    def _release(self, event) -> None:
        self._runs += 1
        run = _Run(self._runs, self.ctx.env.now, self.items)
        self.ctx.recorder.event(run.released, "batch_start", self.name,
                                f"run {run.number}: {self.items} items")
        self._schedule_release()
        self._submit_chunk(run)

    def _next_chunk(self, event) -> None:
        self._submit_chunk(event.value)

    def _submit_chunk(self, run: _Run) -> None:
        now = self.ctx.env.now
        n = min(self.chunk, run.left)
        run.left -= n
        run.lo = len(self._recorded)
        run.hi, run.ended = run.lo + n, 0
        self._in_flight.append(run)  # before submitting: an item may end at once (rejected)
        self.arrived += n
        submit = self.client.submit
        for _ in range(n):
            submit(now)
        if len(self._recorded) != run.hi:  # another request registered inside the loop: a bug
            raise RuntimeError(f"batch {self.name}: chunk ids are not consecutive")

    def _item_ended(self, att) -> None:
        rid = att.id
        for run in self._in_flight:
            if run.lo <= rid < run.hi:
                run.ended += 1
                if run.ended == run.hi - run.lo:
                    self._in_flight.remove(run)
                    self._chunk_ended(run)
                return

    def _chunk_ended(self, run: _Run) -> None:
        if run.left:
            self._later(self.pause, self._next_chunk, run)
            return
        now = self.ctx.env.now
        self.durations.append(now - run.released)
        self.ctx.recorder.event(now, "batch_done", self.name,
                                f"run {run.number}: {self.items} items in {now - run.released:.1f}s")

    def counters(self) -> dict[str, float | None]:
        """``batch_duration``: the longest finished run, seconds (None when no run finished)."""
        return {"batch_duration": max(self.durations) if self.durations else None}
