"""Where requests come from: open-loop arrivals (Poisson or deterministic, shaped by a profile)
and closed-loop users who think, ask, wait for the answer and think again.

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

    def start(self) -> None:
        """Schedule the first arrival."""
        self._schedule_next(0.0)

    def _schedule_next(self, now: float) -> None:
        if self._constant_rate is not None:
            t = now + self._unit() / self._constant_rate
        else:
            t = self.rate_function.advance(now, self._unit())
        if t < self._end:
            self._timeout(t - now, t).callbacks.append(self._arrive_cb)

    def _arrive_steady(self, event) -> None:
        """Constant-rate arrival: the common case, with the next gap computed inline."""
        now = event.value  # the time this arrival was scheduled for, i.e. now
        self.client.submit(now)
        t = now + self._unit() / self._constant_rate
        if t < self._end:
            self._timeout(t - now, t).callbacks.append(self._arrive_cb)

    def _arrive(self, event) -> None:
        now = event.value  # the time this arrival was scheduled for, i.e. now
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
        client.on_complete = self._request_done

    def start(self) -> None:
        """Every user starts by thinking, so the first requests are spread out."""
        for _ in range(self.users):
            self._later(self._think(), self._ask)

    def _ask(self, event) -> None:
        self.client.submit(self.ctx.env.now)

    def _request_done(self, req) -> None:
        self._later(self._think(), self._ask)
