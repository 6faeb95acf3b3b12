"""Traffic faults: a ``surge`` (a workload's rate x ``factor`` for a window), a ``burst``
(``count`` requests at the same instant, every cron job firing at 00:00) and a ``traffic_drop``
(an upstream outage: a fraction ``drop`` of the workload's arrivals never come).

A traffic drop thins the workload's own arrival process: each arrival in the window is skipped
with probability ``drop``, drawn from the fault's own stream (``fault.<name>.drop``), so the
arrival times that remain are those of the variant without the fault. A skipped arrival is not a
request: the source neither counts nor submits it, so the books (``simulator.accounting``) hold.

Both add requests *on top of* the workload's own: its arrivals and their work stay exactly the
same as in a variant without the fault (common random numbers). The extra requests come from the
fault's own streams (``fault.<name>.arrivals``, ``fault.<name>.work.*``), belong to the workload
(same client, timeouts, retries, metrics) and are counted like any other request.
"""

from __future__ import annotations

from simulator.components.base import UNIFORM01
from simulator.faults.base import Injector
from simulator.randomness import sampler
from simulator.scenario.references import reachable_from
from simulator.workload.arrivals import OpenLoopSource
from simulator.workload.profiles import RateFunction, knots_for

_RAMP_STEPS = 16  # linear pieces per ramp: the product of two ramps is not linear


def surge_knots(base: list[tuple[float, float]], factor: float, at: float, rise: float,
                hold_end: float, decay: float) -> list[tuple[float, float]]:
    """Knots of the *extra* rate (factor - 1) x base(t) x envelope(t): 0 outside the surge.

    Where the extra rate jumps (a surge without ``rise`` starts at full height; the base profile
    steps inside the window) both sides of the jump are knots at the same time, as in a step
    profile: interpolating across the jump would add requests where the surge is not.
    """
    base_rate = RateFunction(base)
    base_before = {}  # the base rate just before each of its own jumps
    for (t0, r0), (t1, _) in zip(base, base[1:], strict=False):
        if t1 == t0:
            base_before.setdefault(t0, r0)
    top = at + rise
    times = {0.0, at, top, hold_end, hold_end + decay}
    times |= {at + rise * i / _RAMP_STEPS for i in range(_RAMP_STEPS)}
    times |= {hold_end + decay * i / _RAMP_STEPS for i in range(_RAMP_STEPS)}
    times |= {t for t, _ in base if at <= t <= hold_end + decay}

    def envelope(t: float) -> float:
        if t < at or t > hold_end + decay:
            return 0.0
        if t < top:
            return (t - at) / rise
        if t <= hold_end:
            return 1.0
        return 1.0 - (t - hold_end) / decay if decay > 0 else 0.0

    knots = []
    for t in sorted(times):
        value = (factor - 1.0) * base_rate.rate(t) * envelope(t)
        before = (factor - 1.0) * base_before.get(t, base_rate.rate(t)) * (0.0 if t == at else envelope(t))
        if before != value:
            knots.append((t, before))
        knots.append((t, value))
    knots.append((hold_end + decay + 1e-9, 0.0))
    return knots


class Surge(Injector):
    """``kind: surge``: an extra open-loop source over the window."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)

    def start(self, system) -> None:
        workload = next(w for w in system.spec.workload if w.name == self.target)
        client = next(c for c in system.clients if c.workload_name == self.target)
        spec = self.spec
        end = spec.end if spec.end is not None else self.ctx.stop
        base = knots_for(workload.profile, workload.arrivals.rate, system.spec.duration)
        rate = RateFunction(surge_knots(base, spec.factor, spec.at, spec.rise, end, spec.decay))
        draw = system.plan.drawer(self.target, reachable_from(system.spec, workload.entry),
                                  prefix=f"fault.{self.name}.work")
        injector = _Injected(client, draw)
        OpenLoopSource(self.ctx, injector, rate, workload.arrivals.pattern == "poisson",
                       self.ctx.streams.generator(f"fault.{self.name}.arrivals")).start()
        super().start(system)

    def begin(self, system) -> None:
        """The extra source runs on its own schedule; the window is recorded for the plots."""


class Burst(Injector):
    """``kind: burst``: ``count`` extra requests at ``at``."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        self._ids: set[int] = set()  # ids of the injected requests
        self._injecting = False

    @property
    def end_time(self) -> float | None:
        return self.spec.at + (self.spec.duration or 0.0)

    def begin(self, system) -> None:
        workload = next(w for w in system.spec.workload if w.name == self.target)
        client = next(c for c in system.clients if c.workload_name == self.target)
        draw = system.plan.drawer(self.target, reachable_from(system.spec, workload.entry),
                                  prefix=f"fault.{self.name}.work")
        if client.on_complete is not None:  # closed loop: only the workload's own users think again
            self._hide_from_users(client)
        now = self.ctx.env.now
        self._injecting = True  # an injected request may end at once, before its id is known
        for _ in range(self.spec.count):
            self._ids.add(client.inject(now, draw).id)
        self._injecting = False

    def _hide_from_users(self, client) -> None:
        """Keep the injected requests' ends from the closed-loop source: otherwise each would become
        one more user, thinking and asking until the end of the run, and draw from the users'
        think-time stream, so the base arrivals would no longer be the same."""
        users = client.on_complete

        def on_complete(att) -> None:
            if not self._injecting and att.id not in self._ids:
                users(att)

        client.on_complete = on_complete


class _Injected:
    """Looks like a client to an arrival source, but injects with the fault's own work draws."""

    def __init__(self, client, draw):
        self.client = client
        self.draw = draw

    def submit(self, now: float) -> None:
        self.client.inject(now, self.draw)


class TrafficDrop(Injector):
    """``kind: traffic_drop``: the workload's open-loop source skips a fraction of its arrivals."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec, spec.target)
        self.source = None

    def start(self, system) -> None:
        index = next(i for i, w in enumerate(system.spec.workload) if w.name == self.target)
        self.source = system.sources[index]
        super().start(system)

    def begin(self, system) -> None:
        draw, drop = sampler(UNIFORM01, self.ctx.streams.generator(f"fault.{self.name}.drop")), self.spec.drop
        self.source.thin(lambda: draw() < drop)

    def end(self, system) -> None:
        self.source.thin(None)
