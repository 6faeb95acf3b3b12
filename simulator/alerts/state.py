"""Prometheus' alert state machine, one evaluation at a time (rules/alerting.go, ``Eval``).

- A true evaluation makes an inactive alert *pending* (``active_at`` = now); a pending alert
  *fires* at the first true evaluation at which ``now - active_at >= for`` (with ``for: 0``, at
  once). So it fires at the first evaluation at which the condition has been true at every
  evaluation for at least ``for``.
- A false evaluation drops a pending alert back to *inactive*: the ``for`` count starts again.
- A false evaluation *resolves* a firing alert, unless ``keep_firing_for`` > 0: then the first false
  evaluation starts a clock (``keep_firing_since``) and the alert resolves at the first false-only
  evaluation at which ``now - keep_firing_since >= keep_firing_for``; a true evaluation meanwhile
  stops the clock. So keep_firing_for delays the resolve by exactly that span (rounded up to an
  evaluation).
"""

from __future__ import annotations

INACTIVE, PENDING, FIRING = "inactive", "pending", "firing"
RESOLVED = "resolved"
"""The transition out of firing (the state becomes inactive, as in Prometheus)."""

_EPS = 1e-9  # evaluation times are multiples of the interval: compare spans with a tolerance


class AlertState:
    """One rule's state; :meth:`step` returns the transition an evaluation caused, if any."""

    def __init__(self, hold: float, keep_firing_for: float):
        self.hold = hold
        self.keep_firing_for = keep_firing_for
        self.state = INACTIVE
        self.active_at = 0.0
        self.keep_firing_since: float | None = None

    def step(self, now: float, condition: bool) -> str | None:
        """Apply one evaluation at ``now``: PENDING, FIRING, RESOLVED, INACTIVE (a pending alert
        reset) or None when nothing changed."""
        if condition:
            self.keep_firing_since = None
            change = None
            if self.state == INACTIVE:
                self.state, self.active_at, change = PENDING, now, PENDING
            if self.state == PENDING and now - self.active_at >= self.hold - _EPS:
                self.state, change = FIRING, FIRING
            return change
        if self.state == PENDING:
            self.state = INACTIVE
            return INACTIVE
        if self.state == FIRING:
            if self.keep_firing_for > 0:
                if self.keep_firing_since is None:
                    self.keep_firing_since = now
                if now - self.keep_firing_since < self.keep_firing_for - _EPS:
                    return None
            self.state, self.keep_firing_since = INACTIVE, None
            return RESOLVED
        return None
