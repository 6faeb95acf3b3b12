"""Choosing the best variant: the Kim-Nelson fully sequential procedure ("KN", Kim & Nelson 2001).

Which of k variants has the best mean of a metric, with probability at least ``confidence`` of
being right whenever the best is at least ``delta`` better than the second (the indifference
zone)? KN takes ``n0`` replications of every variant, estimates the variance of every pairwise
difference (common random numbers make these small, which is what makes KN efficient), then adds
one replication at a time to the variants still in contention and eliminates variant i as soon
as its mean falls behind another's by more than the shrinking allowance

    W_il(r) = max(0, delta / (2r) * (h^2 S_il^2 / delta^2 - r)),
    h^2 = (n0 - 1) * ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1),   alpha = 1 - confidence,

until one variant is left. Elimination is judged replication by replication, so running a batch
of replications at once (to keep a process pool busy) gives exactly the same decisions as the
one-at-a-time procedure; the extra runs of a variant eliminated within a batch are just unused.
KN assumes normally distributed output: fine for means of long runs; for yes/no metrics
(``stuck``) it is an approximation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from simulator.experiment.errors import ExperimentError
from simulator.experiment.estimates import collect
from simulator.experiment.executors import Execution, Progress
from simulator.experiment.inputs import as_scenario, check_variants
from simulator.experiment.stats import DEFAULT_CONFIDENCE
from simulator.experiment.tasks import make_tasks
from simulator.metrics import NEUTRAL, direction
from simulator.scenario.problems import suggest

FIRST_STAGE = 10
MAX_REPLICATIONS = 500


@dataclass
class Ranking:
    """The outcome of :func:`rank`.

    Attributes:
        metric: The metric ranked; direction: +1 higher is better, -1 lower is better.
        delta: Indifference zone, in the metric's unit; confidence: the guaranteed P(correct selection).
        best: The selected variant (None if ``MAX_REPLICATIONS`` ran out first).
        contenders: Variants still in contention at the end (just ``best`` when decided).
        eliminated: variant -> the replication count at which it was eliminated.
        replications: variant -> replications used; means: variant -> mean over them.
    """

    metric: str
    direction: int
    delta: float
    confidence: float
    first_stage: int
    best: str | None
    contenders: list[str]
    eliminated: dict[str, int] = field(default_factory=dict)
    replications: dict[str, int] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"metric": self.metric, "procedure": "Kim-Nelson (KN) fully sequential",
                "better": "higher" if self.direction > 0 else "lower", "delta": self.delta,
                "confidence": self.confidence, "first_stage": self.first_stage, "best": self.best,
                "contenders": self.contenders, "eliminated": self.eliminated,
                "replications": self.replications, "means": self.means}


def kn_h2(k: int, n0: int, confidence: float) -> float:
    """KN's h^2 for k systems, first stage n0 and P(correct selection) >= confidence."""
    alpha = 1 - confidence
    return (n0 - 1) * ((2 * alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1)


def rank(scenario: Any, metric: str, *, delta: float, variants: Sequence[str] | None = None,
         confidence: float = DEFAULT_CONFIDENCE, first_stage: int = FIRST_STAGE,
         max_replications: int = MAX_REPLICATIONS, seed: int | None = None, duration: float | None = None,
         jobs: int = 1, dask: str | None = None, out: Path | None = None,
         progress: Progress | None = None) -> Ranking:
    """Select the variant with the best mean of ``metric`` (KN procedure; see the module docstring)."""
    scenario = as_scenario(scenario)
    chosen = check_variants(scenario, list(variants) if variants else None)
    way = _check(metric, delta, chosen, first_stage)
    values: dict[str, list[float]] = {v: [] for v in chosen}
    h2 = kn_h2(len(chosen), first_stage, confidence)
    alive, eliminated, r = list(chosen), {}, first_stage
    with Execution(jobs=jobs, dask=dask, directory=out, progress=progress).session() as go:
        _extend(go, scenario, alive, values, 0, first_stage, metric, way, seed, duration)
        var = {(a, b): _diff_variance(values[a], values[b], first_stage) for a in chosen for b in chosen}
        while len(alive) > 1:
            alive = _screen(alive, values, var, h2, delta, r, eliminated)
            if len(alive) == 1 or r >= max_replications:
                break
            if len(values[alive[0]]) <= r:  # the next replication is not run yet: run a batch
                batch = min(max(1, math.ceil(jobs / len(alive))), max_replications - r)
                _extend(go, scenario, alive, values, r, r + batch, metric, way, seed, duration)
            r += 1
    means = {v: way * math.fsum(values[v]) / len(values[v]) for v in chosen}
    return Ranking(metric, way, delta, confidence, first_stage, alive[0] if len(alive) == 1 else None,
                   alive, eliminated, {v: len(values[v]) for v in chosen}, means)


def _check(metric: str, delta: float, variants: list[str], first_stage: int) -> int:
    """Refuse what KN cannot do; return the metric's direction."""
    way = direction(metric)
    if way == NEUTRAL:
        raise ExperimentError(f"--rank {metric}: no better direction is known for this metric")
    if not delta > 0:
        raise ExperimentError(f"--delta must be greater than 0; got {delta:g}")
    if len(variants) < 2:
        raise ExperimentError("ranking needs at least two variants")
    if first_stage < 2:
        raise ExperimentError(f"the first stage needs at least 2 replications; got {first_stage}")
    return way


def _extend(go: Any, scenario: Any, variants: list[str], values: dict[str, list[float]], start: int,
            stop: int, metric: str, way: int, seed: int | None, duration: float | None) -> None:
    """Run replications [start, stop) of ``variants`` and append the (sign-adjusted) metric values."""
    records = go(make_tasks(scenario, variants, range(start, stop), seed=seed, duration=duration,
                            keep_traffic=False))
    for (_, variant), by_metric in collect(records).items():
        if metric not in by_metric:
            known = list(by_metric)
            raise ExperimentError(f"--rank: unknown metric '{metric}'{suggest(metric, known)}; "
                                  f"known: {', '.join(known)}")
        for value in by_metric[metric]:
            if value is None:
                raise ExperimentError(f"--rank {metric}: a run of {variant} reported no value")
            values[variant].append(way * float(value))


def _diff_variance(a: list[float], b: list[float], n0: int) -> float:
    """Sample variance of the first-stage paired differences a_j - b_j."""
    diffs = [x - y for x, y in zip(a[:n0], b[:n0], strict=True)]
    mean = math.fsum(diffs) / n0
    return math.fsum((d - mean) ** 2 for d in diffs) / (n0 - 1)


def _screen(alive: list[str], values: dict[str, list[float]], var: dict[tuple[str, str], float],
            h2: float, delta: float, r: int, eliminated: dict[str, int]) -> list[str]:
    """KN screening at r replications: keep i unless some l's mean beats it by more than W_il(r)."""
    means = {v: math.fsum(values[v][:r]) / r for v in alive}
    kept = []
    for i in alive:
        beaten = any(means[i] < means[j] - max(0.0, delta / (2 * r) * (h2 * var[i, j] / delta ** 2 - r))
                     for j in alive if j != i)
        if beaten:
            eliminated[i] = r
        else:
            kept.append(i)
    return kept


def ranking_table(result: Ranking) -> Table:
    """The ranking for the terminal: each variant's mean, replications used and fate."""
    better = "higher" if result.direction > 0 else "lower"
    verdict = (f"best: {result.best}" if result.best else
               f"undecided after {max(result.replications.values())} replications: "
               f"{', '.join(result.contenders)}")
    table = Table(title=f"{result.metric} ({better} is better), KN procedure, P(correct selection) >= "
                        f"{result.confidence:.0%} if the best leads by >= {result.delta:g}: {verdict}",
                  header_style="bold")
    for name in ("variant", "mean", "replications", "status"):
        table.add_column(name, justify="left" if name in ("variant", "status") else "right")
    for variant in sorted(result.means, key=lambda v: -result.direction * result.means[v]):
        status = ("[green]best[/]" if variant == result.best else
                  f"eliminated at replication {result.eliminated[variant]}" if variant in result.eliminated
                  else "in contention")
        table.add_row(variant, f"{result.means[variant]:.4g}", str(result.replications[variant]), status)
    return table
