"""Per-hop records of the requests a trace sample picks: every component visit an attempt makes.

Installed only when a trace sample is asked for (``run(..., trace_sample=...)``), by
:meth:`simulator.export.tap.AttemptTap.install`: a run without one has no layer on any edge, so its
hot path is exactly the plain one. With a sample, each call edge reachable from the workloads gets
one layer at :data:`~simulator.components.edge.Position.TRACE` (the callee's side of the wire:
inside the caller's breaker, bulkhead, hedge, timeout and retries and the network's faults,
outside the callee's gate and rate limiter). For an unsampled request the layer costs one lookup
in the table of sampled ids and a call; for a sampled one it appends a row (typed arrays) when the
attempt reaches the callee and fills its end and outcome when the callee answers.

A hop's *parent* is the hop that made the call: the caller's visit still open for the same request
and attempt (the latest, if a hedge made two); the hop from the workload into its entry has the
attempt as parent. A hop ends when the callee answers, even if the caller stopped waiting (a
timeout, a hedge that lost): the callee's view, so wasted work shows as a hop that outlives its
parent. A hop still open at the end of the run has no end (NaN) and the outcome ``incomplete``.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from simulator.components.edge import Position
from simulator.request import INCOMPLETE, OUTCOME_NAMES

ROOT = -1
"""``parent_hop`` of a hop made by the client itself: its parent is the attempt."""


def reachable_edges(clients) -> list:
    """Every call edge a request can take: the workloads' entry edges, then the callees' own
    edges, transitively (each once, in the order first reached)."""
    seen: dict[int, object] = {}
    todo = [client.edge for client in clients]
    while todo:
        edge = todo.pop(0)
        if id(edge) not in seen:
            seen[id(edge)] = edge
            todo.extend(getattr(edge.target, "edges", ()))
    return list(seen.values())


class HopTap:
    """Start, end, outcome and parent of every hop of the sampled requests' attempts."""

    def __init__(self, chosen: Callable[[int], bool], flags: bytearray, env):
        self._chosen, self._flags, self._env = chosen, flags, env
        self.edges: list[tuple[str, str]] = []  # (caller, callee) by edge code
        self.id, self.number, self.hop, self.parent = array("Q"), array("H"), array("I"), array("i")
        self.edge, self.start = array("H"), array("d")
        self.end, self.outcome = array("d"), array("b")
        self._open: dict[tuple[int, int, str], list[int]] = {}  # (id, attempt, component) -> rows
        self._made: dict[tuple[int, int], int] = {}  # (id, attempt) -> hops begun

    def install(self, edges: Iterable) -> HopTap:
        for edge in edges:
            self.edges.append((edge.caller, edge.callee))
            edge.stack(Position.TRACE, self._layer(len(self.edges) - 1, edge.caller, edge.callee), self)
        return self

    def _layer(self, code: int, caller: str, callee: str):
        flags, chosen = self._flags, self._chosen

        def wrap(inner):
            def send(att, done) -> None:
                try:
                    sampled = flags[att.id]
                except IndexError:  # an id beyond the decided block: decide the next block
                    sampled = chosen(att.id)
                if not sampled:
                    inner(att, done)
                    return
                row = self._begin(att, code, caller, callee)
                inner(att, lambda outcome: self._end(att, callee, row, outcome, done))
            return send
        return wrap

    def _begin(self, att, code: int, caller: str, callee: str) -> int:
        key = (att.id, att.number)
        hop = self._made.get(key, 0)
        self._made[key] = hop + 1
        callers = self._open.get((*key, caller))
        row = len(self.start)
        self.id.append(att.id)
        self.number.append(att.number)
        self.hop.append(hop)
        self.parent.append(self.hop[callers[-1]] if callers else ROOT)
        self.edge.append(code)
        self.start.append(self._env.now)
        self.end.append(math.nan)
        self.outcome.append(INCOMPLETE)
        self._open.setdefault((*key, callee), []).append(row)
        return row

    def _end(self, att, callee: str, row: int, outcome: int, done) -> None:
        self.end[row] = self._env.now
        self.outcome[row] = outcome
        key = (att.id, att.number, callee)
        rows = self._open[key]
        rows.remove(row)
        if not rows:
            del self._open[key]
        done(outcome)

    def frame(self) -> pd.DataFrame:
        """One row per hop, in the order they began: id, attempt, hop (numbered from 0 within the
        attempt), parent_hop (:data:`ROOT`: the attempt), caller, component, t_start, t_end (NaN:
        still open at the end), outcome."""
        codes = np.frombuffer(self.edge, dtype=np.uint16) if len(self.edge) else np.zeros(0, np.uint16)
        callers = [caller for caller, _ in self.edges] or [""]
        callees = [callee for _, callee in self.edges] or [""]
        return pd.DataFrame({
            "id": np.array(self.id, dtype=np.uint64), "attempt": np.array(self.number, dtype=np.uint16),
            "hop": np.array(self.hop, dtype=np.uint32), "parent_hop": np.array(self.parent, dtype=np.int32),
            "caller": pd.Series(np.array(callers, dtype=object)[codes], dtype="category"),
            "component": pd.Series(np.array(callees, dtype=object)[codes], dtype="category"),
            "t_start": np.array(self.start, dtype=float), "t_end": np.array(self.end, dtype=float),
            "outcome": pd.Categorical.from_codes(np.array(self.outcome, dtype=np.int8), OUTCOME_NAMES),
        })


class Shared:
    """A value in a table's ``attrs`` that pandas' deep copies share instead of copying: pandas
    deep-copies ``attrs`` into every table derived from the attempts table (a column, a filter)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __deepcopy__(self, memo) -> Shared:
        return self


def hops_of(attempts: pd.DataFrame | None) -> pd.DataFrame | None:
    """The hops table recorded with an attempts table (None without one)."""
    box = None if attempts is None else attempts.attrs.get("hops")
    return None if box is None else box.value
