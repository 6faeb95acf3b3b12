"""A request's operation and key, drawn at arrival so request #N does the same thing in every variant.

A workload with ``operations: {write: 10%}`` stamps each request (its first attempt, and every
retry after it) with ``op`` and ``key``. They are drawn from the workload's own streams
(``workload.<w>.data.op`` / ``.key``), one draw each per request in arrival order, so variants
that change anything downstream see the same reads and writes of the same keys (common random
numbers). Requests a fault injects (surges, bursts) draw from ``workload.<w>.data.injected.*``
instead, so a surge in one variant cannot shift the workload's own draws.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.randomness import batched, key_sampler

READ, WRITE, READ_MODIFY_WRITE = 0, 1, 2
"""Operation codes carried by ``Attempt.op``: read a key; write a new version of it; read it,
compute, and write back what was read plus one (an increment)."""

class DataDraw:
    """Stamps attempts with the workload's operation and key.

    ``keys`` is the workload's key law (None: a cache on the path picks the key with its own law,
    as before workloads had keys, and ``att.key`` stays -1 until it does).
    """

    __slots__ = ("_write_op", "_write_share", "_uniform", "_key")

    def __init__(self, operations, keys, op_rng, key_rng):
        # ``operations`` None: a workload with ``keys`` alone only reads
        increments = operations is not None and operations.read_modify_write
        self._write_op = READ_MODIFY_WRITE if increments else WRITE
        self._write_share = 0.0 if operations is None else float(operations.write)
        self._uniform = batched(lambda n: op_rng.random(n))
        self._key: Callable[[], int] | None = None if keys is None else key_sampler(keys, key_rng)

    def stamp(self, att) -> None:
        """Give a new request its operation and key."""
        att.op = self._write_op if self._uniform() < self._write_share else READ
        att.key = -1 if self._key is None else int(self._key())
        att.version = -1


def carry(failed, att) -> None:
    """A retry asks for the same thing: the same operation on the same key."""
    att.op = failed.op
    att.key = failed.key
    att.version = -1


def share(original, copy) -> None:
    """A copy of an attempt (a hedge's backup, a queue's message) asks for the same thing: the same
    operation on the same key (nothing to copy for a request without ``operations``)."""
    op = getattr(original, "op", None)
    if op is not None:
        copy.op = op
        copy.key = original.key
        copy.version = -1


def answered_with(winner, original) -> None:
    """The version a copy was answered with is the original's answer (a hedge's winning copy)."""
    version = getattr(winner, "version", None)
    if version is not None:
        original.version = version
