"""Retry backoff with jitter, as in AWS's "Exponential Backoff and Jitter" (Brooker, 2015).

For retry number k (k = 1 after the first failed attempt): ``constant`` waits ``base``;
``exponential`` waits ``min(cap, base * 2**(k-1))``. Jitter then spreads it: ``none`` keeps it,
``full`` draws U(0, b), ``equal`` draws b/2 + U(0, b/2), and ``decorrelated`` ignores k and draws
``min(cap, U(base, 3 * previous))`` with previous starting at ``base``.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.request import Attempt


class Backoff:
    """Computes the wait before the next attempt of a request (seconds)."""

    def __init__(self, spec, uniform: Callable[[], float]):
        self.kind = spec.backoff
        self.base = spec.base
        self.cap = spec.cap if spec.cap is not None else float("inf")
        self.jitter = spec.jitter
        self.uniform = uniform  # U(0,1) from the workload's retry-jitter stream

    def nominal(self, retry_number: int) -> float:
        """The un-jittered wait before retry ``retry_number`` (1-based)."""
        if self.kind == "constant":
            return min(self.cap, self.base)
        return min(self.cap, self.base * 2.0 ** (retry_number - 1))

    def delay(self, failed: Attempt) -> float:
        """The jittered wait after attempt ``failed``; remembered on it for decorrelated jitter."""
        jitter = self.jitter
        if jitter == "decorrelated":
            previous = failed.last_backoff or self.base
            wait = min(self.cap, self.base + self.uniform() * (3.0 * previous - self.base))
        else:
            b = self.nominal(failed.number)
            if jitter == "full":
                wait = self.uniform() * b
            elif jitter == "equal":
                wait = 0.5 * b + self.uniform() * 0.5 * b
            else:
                wait = b
        failed.last_backoff = wait
        return wait
