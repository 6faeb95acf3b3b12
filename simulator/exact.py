"""numpy's mean and linear quantiles of a sequence read in pieces, to the last bit.

A spilled run (:mod:`simulator.spill`) cannot hold its latencies in one array, yet its summary
must be the number the in-memory path gives (``latency.mean()`` and ``np.quantile``):

- :class:`PairwiseSum` reproduces ``np.add.reduce`` of a contiguous float64 array: numpy splits
  ``n`` values in halves (rounded down to a multiple of 8) down to blocks of at most 128, sums
  each block with its own unrolled loop, then adds the halves. The tree depends only on ``n``,
  so with ``n`` known the blocks can be summed by numpy itself as the values stream past, and
  combined in the same order afterwards.
- :class:`OrderStatistics` finds exact order statistics of non-negative floats by radix
  selection on their bit patterns (ordered like the values): a histogram of the top bits in one
  pass, then in each further pass the values of the chosen buckets are collected (when few) or
  histogrammed on the next bits, until every asked rank is known.
- :func:`linear_quantiles` turns them into numpy's default (``linear``) quantiles, by numpy's own
  formula (virtual index ``(n - 1) q``, ``_lerp``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

BLOCK = 128
"""numpy's ``PW_BLOCKSIZE``: the largest block summed without splitting."""


def _leaf_sizes(n: int, out: list[int]) -> None:
    if n <= BLOCK:
        out.append(n)
        return
    half = n // 2
    half -= half % 8
    _leaf_sizes(half, out)
    _leaf_sizes(n - half, out)


def _combine(n: int, sums) -> float:
    if n <= BLOCK:
        return next(sums)
    half = n // 2
    half -= half % 8
    return _combine(half, sums) + _combine(n - half, sums)


class PairwiseSum:
    """``float(np.add.reduce(values))`` of ``n`` float64 values fed in order, in any pieces."""

    def __init__(self, n: int):
        self.n = n
        sizes: list[int] = []
        if n:
            _leaf_sizes(n, sizes)
        self._sizes = sizes
        self._next = 0  # index of the next block to sum
        self._pending = np.zeros(0)
        self._sums: list[float] = []

    def feed(self, values: np.ndarray) -> None:
        """The next values of the sequence."""
        data = np.concatenate((self._pending, values)) if len(self._pending) else values
        at, sizes, sums = 0, self._sizes, self._sums
        while self._next < len(sizes) and at + sizes[self._next] <= len(data):
            size = sizes[self._next]
            sums.append(float(np.add.reduce(data[at:at + size])))
            at += size
            self._next += 1
        self._pending = np.array(data[at:], dtype=np.float64)

    def total(self) -> float:
        """The sum, once all ``n`` values were fed."""
        if self._next != len(self._sizes) or len(self._pending):
            raise ValueError(f"PairwiseSum: fed a different number of values than {self.n}")
        return _combine(self.n, iter(self._sums)) if self.n else 0.0


COLLECT = 1 << 22
"""At most this many values are collected to be sorted in one pass (32 MB)."""
BITS = 20
"""Bits resolved by one histogram pass (a 2^20-bin histogram: 8 MB)."""


class OrderStatistics:
    """Exact values at given ranks (0-based, ascending) of non-negative float64s, in passes.

    Use: :meth:`feed` every value of pass 1, then ``while not s.done: s.start_pass(); feed all
    values again; s.end_pass()``; read :attr:`values`. The first pass also counts them (``n``).
    """

    def __init__(self):
        self.n = 0
        self._hist = np.zeros(1 << BITS, np.int64)
        self._targets: list[list[int]] = []  # [rank, shift, prefix, rank within, count]
        self.values: dict[int, float] = {}
        self._active: dict[tuple[int, int], object] = {}
        self._first = True

    # --- pass 1: the top bits ---------------------------------------------------------------
    def feed(self, values: np.ndarray) -> None:
        """Values of the current pass (any pieces, any order)."""
        if self._first:
            self.n += len(values)
            if len(values):
                self._hist += np.bincount(_bits(values) >> (64 - BITS), minlength=1 << BITS)
            return
        bits = _bits(values)
        for (shift, prefix), state in self._active.items():
            inside = values[(bits >> shift) == prefix]
            if isinstance(state, list):
                state.append(inside)
            else:
                down = max(0, shift - BITS)
                state += np.bincount((_bits(inside) >> down) & ((1 << (shift - down)) - 1),
                                     minlength=1 << (shift - down))

    def ask(self, ranks: Sequence[int]) -> None:
        """After pass 1: the ranks wanted."""
        self._first = False
        cumulative = np.cumsum(self._hist)
        for rank in sorted(set(ranks)):
            self._targets.append(_narrow(rank, 64 - BITS, 0, rank, self._hist, cumulative))
        self._hist = None
        self._resolve_exact()

    @property
    def reading(self) -> bool:
        """True between :meth:`start_pass` and :meth:`end_pass` if the pass needs the values."""
        return bool(self._active)

    @property
    def done(self) -> bool:
        """Every asked rank has its value."""
        return all(t[0] in self.values for t in self._targets)

    def start_pass(self) -> None:
        """Prepare a pass: per bucket still open, collect its values or histogram the next bits."""
        self._active = {}
        for rank, shift, prefix, _, count in self._targets:
            if rank in self.values or (shift, prefix) in self._active:
                continue
            self._active[(shift, prefix)] = [] if count <= COLLECT else \
                np.zeros(1 << (shift - max(0, shift - BITS)), np.int64)

    def end_pass(self) -> None:
        """Settle what the pass saw."""
        for (shift, prefix), state in self._active.items():
            mine = [t for t in self._targets if t[0] not in self.values and (t[1], t[2]) == (shift, prefix)]
            if isinstance(state, list):
                ordered = np.sort(np.concatenate(state)) if state else np.zeros(0)
                for t in mine:
                    self.values[t[0]] = float(ordered[t[3]])
                continue
            down = max(0, shift - BITS)
            cumulative = np.cumsum(state)
            for t in mine:
                t[:] = _narrow(t[0], down, prefix << (shift - down), t[3], state, cumulative)
        self._active = {}
        self._resolve_exact()

    def _resolve_exact(self) -> None:
        """A bucket of all 64 bits is one value."""
        for rank, shift, prefix, _, _ in self._targets:
            if shift == 0 and rank not in self.values:
                self.values[rank] = float(np.array([prefix], np.uint64).view(np.float64)[0])


def _narrow(rank: int, shift: int, base: int, within: int, hist: np.ndarray,
            cumulative: np.ndarray) -> list[int]:
    """The bucket of ``hist`` holding rank ``within``: [rank, shift, prefix, rank in it, count]."""
    bucket = int(np.searchsorted(cumulative, within, side="right"))
    before = int(cumulative[bucket - 1]) if bucket else 0
    return [rank, shift, base | bucket, within - before, int(hist[bucket])]


def _bits(values: np.ndarray) -> np.ndarray:
    """Bit patterns of non-negative float64s: ordered as the values (-0.0 would not be)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)


def quantile_ranks(n: int, qs: Sequence[float]) -> list[tuple[int, int, float]]:
    """numpy's linear method: per quantile, (previous rank, next rank, weight)."""
    out = []
    for q in qs:
        virtual = float(np.float64(n - 1) * np.float64(q))
        if virtual >= n - 1:
            out.append((n - 1, n - 1, 0.0))
            continue
        previous = math.floor(virtual)
        out.append((previous, previous + 1, virtual - previous))
    return out


def linear_quantiles(n: int, qs: Sequence[float], value_at: dict[int, float]) -> list[float]:
    """``np.quantile(values, qs)`` from the order statistics ``value_at`` (rank -> value)."""
    out = []
    for previous, following, gamma in quantile_ranks(n, qs):
        a, b = np.float64(value_at[previous]), np.float64(value_at[following])
        diff = b - a
        weight = np.float64(gamma)
        out.append(float(b - diff * (1 - weight) if gamma >= 0.5 else a + diff * weight))
    return out
