"""The truth about one replica: is it up, hung, paused, slow, failing? Faults write it; balancers
never read it directly (they learn it through health checks, with a lag, as real ones do).
"""

from __future__ import annotations

from collections.abc import Callable

STATES = ("up", "down", "hung", "paused", "starting")
ACCEPTING = frozenset(("up", "hung", "paused"))  # a hung or paused process still accepts connections


def _never() -> float:
    return 1.0


class Health:
    """A replica's condition plus the bookkeeping a crash or pause needs (visits in service)."""

    __slots__ = ("state", "epoch", "slow_factor", "extra", "error_rate", "draw", "active", "deferred",
                 "paused_work")

    def __init__(self) -> None:
        self.state = "up"
        self.epoch = 0  # bumped whenever running timers must be ignored (crash, hang, pause)
        self.slow_factor = 1.0  # service time multiplier (a slow fault)
        self.extra = 0.0  # seconds added to every service time (a slow fault)
        self.error_rate = 0.0  # extra failure probability (an errors fault)
        self.draw: Callable[[], float] = _never  # U(0,1) from the errors fault's own stream
        # Visits holding a worker here, insertion-ordered (a dict, not a set: a crash ends them in
        # the order they started, the same in every process).
        self.active: dict = {}
        self.deferred: list = []  # answers that arrived while paused, replayed on resume
        self.paused_work: list = []  # (visit, remaining seconds) frozen by a pause

    @property
    def accepts(self) -> bool:
        """Whether a connection to this replica is accepted (crashed or starting: refused)."""
        return self.state in ACCEPTING

    @property
    def responds(self) -> bool:
        """Whether the replica answers a health probe in time (up, not hung or paused)."""
        return self.state == "up"
