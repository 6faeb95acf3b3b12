"""``kind: adaptive_throttling`` — client-side throttling as in Google's SRE book (ch. 21).

The client counts, over a trailing ``window``, the attempts it sent (``requests``) and those the
backend accepted (answered ``ok`` before the client's timeout: a late answer is not seen). Before
each attempt it rejects it locally with probability
``max(0, (requests - k x accepts) / (requests + 1))``; a local rejection ends that attempt as
``rate_limited`` at once (the client's own retry policy then applies, and the rejected attempt
still counts as a request, as in the book). With ``k = 2`` the backend sees about twice what it
accepts, so an overloaded backend is not buried in requests it will refuse anyway.
The per-attempt uniform comes from the mitigation's own stream ``mitigation.<name>.throttle``.
"""

from __future__ import annotations

from simulator.components.base import UNIFORM01
from simulator.components.edge import Position
from simulator.mitigations.base import Mitigation
from simulator.mitigations.windowed import WindowedSum
from simulator.randomness import sampler
from simulator.request import OK, RATE_LIMITED


class AdaptiveThrottling(Mitigation):
    """A layer on one workload's edge to its entry: throttles attempts by the recent accept rate."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.requests = WindowedSum(spec.window)
        self.accepts = WindowedSum(spec.window)
        self._uniform = sampler(UNIFORM01, ctx.streams.generator(f"mitigation.{spec.name}.throttle"))
        self.throttled = 0

    def probability(self, now: float) -> float:
        """The rejection probability now, by the SRE book's formula."""
        requests = self.requests.sum(now)
        return max(0.0, (requests - self.spec.k * self.accepts.sum(now)) / (requests + 1.0))

    def wrap(self, system) -> None:
        client = next(c for c in system.clients if c.workload_name == self.spec.target)
        client.edge.stack(Position.THROTTLE, self._layer, self)

    def _layer(self, inner):
        env, measuring = self.ctx.env, self.ctx.measuring

        def send(att, done) -> None:
            now = env.now
            p = self.probability(now)
            self.requests.add(now)
            if p > 0.0 and self._uniform() < p:
                if measuring():
                    self.throttled += 1
                done(RATE_LIMITED)
                return

            def answered(outcome: int) -> None:
                if outcome == OK and not att.is_settled:  # an answer after the timeout is not an
                    self.accepts.add(env.now)  # accept: the client had already closed the call
                done(outcome)

            inner(att, answered)

        return send

    def counters(self) -> dict[str, float]:
        return {"throttled": float(self.throttled)}
