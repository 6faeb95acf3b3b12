"""Per-attempt records of the requests a trace sample picks, taken during the run.

Installed only when a trace sample is asked for (``run(..., trace_sample=...)``): a run without one
pays nothing. Each client's ``settle`` (an attempt is over for the client: answered, refused or
timed out) and ``_send`` (a retry leaves, after its backoff) are wrapped by functions that look the
request id up in a table of sampled ids (filled by :func:`simulator.export.otlp.sample_mask`,
vectorised, a block of ids at a time as ids grow) and append the sampled ones' numbers to typed
arrays. A request's first
attempt starts at its arrival; a timed-out attempt ends when the client gave up, even if a server
went on working on it (the client's view, as a client span has it).

The same install puts a :class:`~simulator.export.hops.HopTap` on every call edge a request can
take (the hops inside the system); :meth:`AttemptTap.frame` hands its table over in the attempts
table's ``attrs`` (read it with :func:`simulator.export.hops.hops_of`), so the runner carries both
in its one ``attempts`` field.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from simulator.export.hops import HopTap, Shared, reachable_edges
from simulator.export.otlp import sample_mask
from simulator.request import OUTCOME_NAMES

_BLOCK = 1 << 16  # ids whose sampling is decided at once


class AttemptTap:
    """Start, end and outcome of every attempt of the sampled requests."""

    def __init__(self, seed: int, fraction: float):
        self._seed, self._fraction = seed, fraction
        self._flags = bytearray()  # by request id: 1 when sampled
        self._started: dict[tuple[int, int], float] = {}
        self.id, self.number = array("Q"), array("H")
        self.start, self.end, self.outcome = array("d"), array("d"), array("b")
        self.hops: HopTap | None = None

    def chosen(self, rid: int) -> bool:
        flags = self._flags
        while rid >= len(flags):
            ids = np.arange(len(flags), len(flags) + _BLOCK, dtype=np.uint64)
            flags += sample_mask(ids, self._seed, self._fraction).astype(np.uint8).tobytes()
        return flags[rid] == 1

    def install(self, clients) -> AttemptTap:
        clients = list(clients)
        for client in clients:
            client.settle = self._settle(client, client.settle)
            client._send = self._send(client, client._send)
        if clients:
            self.hops = HopTap(self.chosen, self._flags, clients[0].env).install(reachable_edges(clients))
        return self

    def _send(self, client, send):
        def sent(att) -> None:
            if att.number > 1 and self.chosen(att.id):
                self._started[(att.id, att.number)] = client.env.now
            send(att)
        return sent

    def _settle(self, client, settle):
        def settled(att, outcome: int) -> None:
            if self.chosen(att.id):
                start = att.t_arrival if att.number == 1 else self._started.pop((att.id, att.number))
                self.id.append(att.id)
                self.number.append(att.number)
                self.start.append(start)
                self.end.append(client.env.now)
                self.outcome.append(outcome)
            settle(att, outcome)
        return settled

    def frame(self) -> pd.DataFrame:
        """One row per sampled attempt: id, attempt, t_start, t_end, outcome (in end order); the
        hops table (:meth:`HopTap.frame`) in its ``attrs``: :func:`simulator.export.hops.hops_of`."""
        codes = np.frombuffer(self.outcome, dtype=np.int8) if len(self.outcome) else np.zeros(0, np.int8)
        table = pd.DataFrame({
            "id": np.frombuffer(self.id, dtype=np.uint64) if len(self.id) else np.zeros(0, np.uint64),
            "attempt": np.frombuffer(self.number, dtype=np.uint16) if len(self.number)
            else np.zeros(0, np.uint16),
            "t_start": np.array(self.start, dtype=float), "t_end": np.array(self.end, dtype=float),
            "outcome": pd.Categorical.from_codes(codes, OUTCOME_NAMES),
        })
        if self.hops is not None:
            table.attrs["hops"] = Shared(self.hops.frame())
        return table

