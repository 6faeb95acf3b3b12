"""Plain SimPy reference models: the yardstick the project's speed is measured against.

These are deliberately *not* built on the project. They are what a competent SimPy user
would write by hand for the same system: one process per request, one ``simpy.Resource``
per tier, draws from a ``random.Random`` and latencies recorded in an ``array('d')``.
No SimPy internals are touched. Each model runs until ``n`` requests have completed and
returns ``(completed, sim_time, mean_latency)``.

Keep them honest: a reference that is slower than idiomatic SimPy flatters the project.
``cascade bench`` prints the figures; the reference was checked to be within about
+-15% of independent plain-SimPy models on the same machine.
"""

from __future__ import annotations

import math
import random  # noqa: TID251 - the reference is plain SimPy, not model code: no named streams here
from array import array
from collections.abc import Generator
from typing import Any

import simpy

Result = tuple[int, float, float]
"""(completed requests, simulated time at the n-th completion, mean latency in seconds)"""


def _finish(env: simpy.Environment, latencies: array) -> Result:
    n = len(latencies)
    mean = math.fsum(latencies) / n if n else float("nan")
    return n, float(env.now), mean


def _check(lam: float, n: int, **positive: float) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    for name, value in {"lam": lam, **positive}.items():
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def mmc(lam: float, mean_service: float, c: int, n: int, seed: int = 1) -> Result:
    """M/M/c queue: Poisson(lam) arrivals, ``c`` servers, Exp(mean ``mean_service``) work."""
    _check(lam, n, mean_service=mean_service, c=c)
    rng = random.Random(seed)
    draw = rng.expovariate
    service_rate = 1.0 / mean_service
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    latencies = array("d")
    all_done = env.event()

    def serve(arrived: float) -> Generator[simpy.Event, Any, None]:
        with servers.request() as slot:
            yield slot
            yield env.timeout(draw(service_rate))
        latencies.append(env.now - arrived)
        if len(latencies) >= n and not all_done.triggered:
            all_done.succeed()

    def arrivals() -> Generator[simpy.Event, Any, None]:
        timeout, start = env.timeout, env.process
        while True:
            yield timeout(draw(lam))
            start(serve(env.now))

    env.process(arrivals())
    env.run(until=all_done)
    return _finish(env, latencies)


def three_tier(
    lam: float,
    apps: int,
    workers: int,
    mean_app: float,
    db_conns: int,
    mean_db: float,
    n: int,
    seed: int = 1,
) -> Result:
    """Round-robin LB -> ``apps`` app servers x ``workers`` workers -> one database.

    A request takes a worker of its app server, computes for Exp(``mean_app``), then,
    still holding the worker (a synchronous call), takes one of ``db_conns`` database
    connections for Exp(``mean_db``). Latency is measured from arrival to completion.
    """
    _check(lam, n, apps=apps, workers=workers, mean_app=mean_app, db_conns=db_conns, mean_db=mean_db)
    rng = random.Random(seed)
    draw = rng.expovariate
    app_rate, db_rate = 1.0 / mean_app, 1.0 / mean_db
    env = simpy.Environment()
    app_servers = [simpy.Resource(env, capacity=workers) for _ in range(apps)]
    database = simpy.Resource(env, capacity=db_conns)
    latencies = array("d")
    all_done = env.event()

    def handle(app: simpy.Resource, arrived: float) -> Generator[simpy.Event, Any, None]:
        with app.request() as worker:
            yield worker
            yield env.timeout(draw(app_rate))
            with database.request() as conn:
                yield conn
                yield env.timeout(draw(db_rate))
        latencies.append(env.now - arrived)
        if len(latencies) >= n and not all_done.triggered:
            all_done.succeed()

    def arrivals() -> Generator[simpy.Event, Any, None]:
        timeout, start = env.timeout, env.process
        next_app = 0
        while True:
            yield timeout(draw(lam))
            start(handle(app_servers[next_app], env.now))
            next_app = (next_app + 1) % apps

    env.process(arrivals())
    env.run(until=all_done)
    return _finish(env, latencies)
