"""A sliding-window sum in slices, as Finagle's ``WindowedAdder``: cheap to add to and to read,
accurate to one slice (``window / slices``). Used by retry budgets and adaptive throttling."""

from __future__ import annotations

import math


class WindowedSum:
    """The sum of the values added during the last ``window`` seconds (to one slice)."""

    __slots__ = ("slice", "values", "current", "total")

    def __init__(self, window: float, slices: int = 10):
        self.slice = window / slices
        self.values = [0.0] * slices
        self.current = 0  # absolute slice number of the newest slot
        self.total = 0.0

    def _advance(self, now: float) -> None:
        index = math.floor(now / self.slice)
        gap = index - self.current
        if gap <= 0:
            return
        n = len(self.values)
        for k in range(1, min(gap, n) + 1):  # expire the slots that fell out of the window
            slot = (self.current + k) % n
            self.total -= self.values[slot]
            self.values[slot] = 0.0
        self.current = index

    def add(self, now: float, value: float = 1.0) -> None:
        self._advance(now)
        self.values[self.current % len(self.values)] += value
        self.total += value

    def sum(self, now: float) -> float:
        self._advance(now)
        return self.total
