"""``kind: deployment`` — a new version of a service rolled out by big bang, canary or blue-green.

The release is an admission layer on the target's replica group (see
:mod:`simulator.components.visit_chain`): each request arriving at the service, however it got
there (a workload's entry, another service's call, a load balancer), goes to the new version with
the release's current ``weight`` (a service mesh's traffic split: the versions share the pool's
workers in proportion to their traffic, as Argo Rollouts scales a canary to its weight). A request
on the new version carries the release as its work hook: it takes ``factor`` times its service
time and fails with ``error_rate`` on top of the service's own failures. Every answer of the
service is recorded with its version, so the analysis after each step (see
:mod:`simulator.mitigations.release_analysis`) compares the two versions over the same time.

Timeline, each change a ``release`` event:

* ``big_bang``: at ``at`` every request goes to the new version; nothing is judged.
* ``canary``: at ``at`` the first step's share; after ``bake`` the step is judged on the answers
  of that step: pass, the next step (after the last, 100%); fail, roll back to 0% at once;
  inconclusive (too few answers), bake another ``bake`` and judge the step's whole stretch.
* ``blue_green``: at ``at`` all traffic; after ``detection`` the new version is judged against the
  old one's last ``detection`` before the switch; fail, all traffic back at once.

Summary counters, over requests that reached the service in the measurement window:
``new_version_requests``, ``bad_requests`` (on the new version: failed, answered later than the
SLO's ``latency_p99``, or never answered) and ``rollback_at`` (seconds; None without a rollback).
"""

from __future__ import annotations

import math

import numpy as np

from simulator.components.base import UNIFORM01
from simulator.mitigations import release_analysis
from simulator.mitigations.base import Mitigation
from simulator.randomness import sampler
from simulator.request import DEGRADED, OK


class Release:
    """The admission layer (which version serves a request), the new version's work hook (how it
    behaves) and the record of every answer, by version. Plain lists, one entry per request: no
    per-request dict or frame."""

    def __init__(self, ctx, spec):
        self.env = ctx.env
        self.weight = 0.0  # share of arriving requests sent to the new version
        self.factor = spec.factor
        self.error_rate = spec.error_rate
        self._route_draw = sampler(UNIFORM01, ctx.streams.generator(f"mitigation.{spec.name}.route"))
        self._error_draw = sampler(UNIFORM01, ctx.streams.generator(f"mitigation.{spec.name}.errors"))
        self.t_arrival: list[float] = []
        self.t_answer: list[float] = []  # NaN until answered
        self.is_new: list[bool] = []
        self.failed: list[bool] = []

    def admit(self, visit) -> None:
        """Admission layer: pick the version, watch the answer; the new version's visits carry
        this release as their work hook (``factor``, ``fails``)."""
        new = self.route()
        visit.done = self.watch(new, visit.done)
        if new:
            visit.hook = self

    def route(self) -> bool:
        """Whether this request goes to the new version."""
        weight = self.weight
        return weight >= 1.0 or (weight > 0.0 and self._route_draw() < weight)

    def fails(self) -> bool:
        """Whether the new version fails the request it just served."""
        return self.error_rate > 0.0 and self._error_draw() < self.error_rate

    def watch(self, new: bool, done):
        """Record the request now and its answer later; returns the ``done`` to call."""
        index = len(self.t_arrival)
        self.t_arrival.append(self.env.now)
        self.t_answer.append(math.nan)
        self.is_new.append(new)
        self.failed.append(False)

        def answered(outcome: int) -> None:
            self.t_answer[index] = self.env.now
            self.failed[index] = outcome != OK and outcome != DEGRADED
            done(outcome)

        return answered

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(arrival, answer, is_new, failed) as arrays, for the analysis and the counters."""
        return (np.asarray(self.t_arrival, dtype=float), np.asarray(self.t_answer, dtype=float),
                np.asarray(self.is_new, dtype=bool), np.asarray(self.failed, dtype=bool))

    def window(self, t0: float, t1: float, new: bool) -> release_analysis.VersionStats:
        """One version's answers given in [t0, t1)."""
        arrival, answer, is_new, failed = self.arrays()
        mine = (is_new == new) & (answer >= t0) & (answer < t1)
        return release_analysis.version_stats(answer[mine] - arrival[mine], failed[mine])


class Deployment(Mitigation):
    """Drives one release: shifts the weight, runs the analyses, rolls back or promotes."""

    def __init__(self, ctx, spec):
        super().__init__(ctx, spec)
        self.release = Release(ctx, spec)
        self.rollback_at: float | None = None
        self.promoted_at: float | None = None
        self.step = -1
        self._step_start = 0.0
        self._slo_latency = math.inf
        self.stats = ReleaseStats(self)

    def prepare(self, components: dict) -> None:
        components[self.spec.target].group.chain.add_admission(self.release.admit)

    def start(self, system) -> None:
        self._slo_latency = system.spec.slo.latency_p99
        self.ctx.later(self.spec.at, self._begin)

    def _begin(self, _) -> None:
        strategy = self.spec.strategy
        if strategy == "canary":
            self._canary_step(0)
            return
        self._shift(1.0, f"{strategy.replace('_', '-')}: all traffic to the new version")
        if strategy == "blue_green":
            self.ctx.later(self.spec.detection_time, self._judge_blue_green)

    def _shift(self, weight: float, detail: str) -> None:
        self.release.weight = weight
        self.event("release", self.spec.target, f"{self.name}: {detail}")

    # --- canary -----------------------------------------------------------------------------------
    def _canary_step(self, index: int, passed: str = "") -> None:
        steps = self.spec.canary_steps
        self.step = index
        self._step_start = self.ctx.env.now
        self._shift(steps[index], f"canary step {index + 1}/{len(steps)}: {steps[index]:.0%} of traffic"
                                  + (f" (step {index} passed: {passed})" if passed else ""))
        self.ctx.later(self.spec.bake_time, self._judge_canary)

    def _judge_canary(self, _) -> None:
        if self.rollback_at is not None:
            return  # rolled back from outside (an alert's action): the release is over
        verdict = self._verdict(self._step_start, self.ctx.env.now, self.spec.bake_time)
        steps = self.spec.canary_steps
        label = f"step {self.step + 1}/{len(steps)}"
        if verdict.outcome == release_analysis.INCONCLUSIVE:
            self.event("release", self.spec.target,
                       f"{self.name}: {label} inconclusive ({verdict.reason}); baking another "
                       f"{self.spec.bake_time:g}s")
            self.ctx.later(self.spec.bake_time, self._judge_canary)
        elif verdict.outcome == release_analysis.FAIL:
            self._roll_back(f"{label} failed: {verdict.reason}")
        elif self.step + 1 < len(steps):
            self._canary_step(self.step + 1, verdict.reason)
        else:
            self._promote(f"{label} passed: {verdict.reason}")

    # --- blue-green -------------------------------------------------------------------------------
    def _judge_blue_green(self, _) -> None:
        if self.rollback_at is not None:
            return  # rolled back from outside (an alert's action): the release is over
        now = self.ctx.env.now
        verdict = self._verdict(now - self.spec.detection_time, now, self.spec.detection_time)
        if verdict.outcome == release_analysis.FAIL:
            self._roll_back(f"failed: {verdict.reason}")
        elif verdict.outcome == release_analysis.PASS:
            self._promote(f"passed: {verdict.reason}")
        else:
            self.event("release", self.spec.target,
                       f"{self.name}: inconclusive ({verdict.reason}); keeping the new version")

    # --- shared -----------------------------------------------------------------------------------
    def _verdict(self, t0: float, t1: float, span: float) -> release_analysis.Verdict:
        """The new version over [t0, t1) against the old one over the same time, or, when the old
        one had too few answers then (it had no traffic left), over the ``span`` before the release."""
        release = self.release
        rule = self.spec.rule
        new = release.window(t0, t1, new=True)
        old = release.window(t0, t1, new=False)
        if old.answers < rule.min_requests:
            old = release.window(self.spec.at - span, self.spec.at, new=False)
        return release_analysis.judge(new, old, rule)

    def _roll_back(self, reason: str) -> None:
        self.rollback_at = self.ctx.env.now
        self._shift(0.0, f"rolled back: {reason}")

    def roll_back(self, reason: str) -> str:
        """Roll back now from outside the release's own analysis (an alert's action); says what it did."""
        if self.rollback_at is not None:
            return f"{self.name} already rolled back"
        if self.ctx.env.now < self.spec.at:
            return f"{self.name} has not started: nothing to roll back"
        self._roll_back(reason)
        return f"{self.name} rolled back"

    def _promote(self, reason: str) -> None:
        self.promoted_at = self.ctx.env.now
        self._shift(1.0, f"promoted to 100%: {reason}")

    def counters(self) -> dict[str, float | None]:
        arrival, answer, is_new, failed = self.release.arrays()
        measured = is_new & (arrival >= self.ctx.warmup) & (arrival < self.ctx.end)
        late = answer - arrival > self._slo_latency
        unanswered = np.isnan(answer)
        bad = measured & (failed | late | unanswered)
        return {"new_version_requests": float(measured.sum()), "bad_requests": float(bad.sum()),
                "rollback_at": self.rollback_at}


class ReleaseStats:
    """Gauge of one release for the sampler: the new version's share of the traffic."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {"new_version_share": self.deployment.release.weight}
