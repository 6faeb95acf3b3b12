"""The analysis that decides whether a release goes on: the new version against the old one.

As in Kayenta / Argo Rollouts analyses, the two versions are compared over the same stretch of
time, so a load change hits both alike: the step fails when the new version's error rate is more
than ``error_rate`` above the old one's, or its p99 (ok answers only) more than ``p99_ratio``
times the old one's. A version with fewer than ``min_requests`` answers gives no verdict.
Plain functions over arrays, so the rule is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass(frozen=True)
class VersionStats:
    """One version's answers over an analysis window."""

    answers: int
    error_rate: float
    p99: float | None  # of the ok answers; None without any

    def describe(self) -> str:
        p99 = "no ok answers" if self.p99 is None else f"p99 {self.p99 * 1000:.0f} ms"
        return f"{self.answers} answers, {self.error_rate:.2%} errors, {p99}"


@dataclass(frozen=True)
class Verdict:
    """``pass``, ``fail`` or ``inconclusive``, and why (shown in the release's events)."""

    outcome: str
    reason: str


def version_stats(latency: np.ndarray, failed: np.ndarray) -> VersionStats:
    """Error rate and p99 of the answers in one window (``failed``: boolean per answer)."""
    n = len(latency)
    if n == 0:
        return VersionStats(0, 0.0, None)
    ok = latency[~failed]
    p99 = float(np.quantile(ok, 0.99)) if len(ok) else None
    return VersionStats(n, float(failed.mean()), p99)


def judge(new: VersionStats, old: VersionStats, rule) -> Verdict:
    """The verdict of ``rule`` (a :class:`RollbackRuleSpec`) on the two versions' windows."""
    if new.answers < rule.min_requests or old.answers < rule.min_requests:
        return Verdict(INCONCLUSIVE, f"too few answers (new {new.answers}, old {old.answers}; "
                                     f"need {rule.min_requests} each)")
    compared = f"new: {new.describe()}; old: {old.describe()}"
    if rule.error_rate is not None and new.error_rate - old.error_rate > rule.error_rate:
        return Verdict(FAIL, f"error rate {new.error_rate:.2%} against {old.error_rate:.2%} "
                             f"(limit +{rule.error_rate:.2%}); {compared}")
    if rule.p99_ratio is not None and new.p99 is None and old.p99 is not None:
        return Verdict(FAIL, f"no ok answers from the new version; {compared}")
    if rule.p99_ratio is not None and new.p99 is not None and old.p99 is not None \
            and new.p99 > rule.p99_ratio * old.p99:
        return Verdict(FAIL, f"p99 {new.p99 * 1000:.0f} ms against {old.p99 * 1000:.0f} ms "
                             f"(limit {rule.p99_ratio:g}x); {compared}")
    return Verdict(PASS, compared)
