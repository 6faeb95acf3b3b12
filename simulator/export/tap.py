"""Per-attempt records of the requests a trace sample picks, taken during the run.

Installed only when a trace sample is asked for (``run(..., trace_sample=...)``): a run without one
pays nothing. Each client's ``settle`` (an attempt is over for the client: answered, refused or
timed out) and ``_send`` (a retry leaves, after its backoff) are wrapped by functions that hash the
request id (the hash :func:`simulator.export.otlp.sample_mask` uses, in plain Python: about a
microsecond per attempt) and append the sampled ones' numbers to typed arrays. A request's first
attempt starts at its arrival; a timed-out attempt ends when the client gave up, even if a server
went on working on it (the client's view, as a client span has it).
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from simulator.export.otlp import sample_key
from simulator.request import OUTCOME_NAMES

_M = 0xFFFFFFFFFFFFFFFF


def _mix(x: int) -> int:
    """SplitMix64's finaliser on a Python int (the same numbers as otlp._mix)."""
    x = (x + 0x9E3779B97F4A7C15) & _M
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M
    return x ^ (x >> 31)


class AttemptTap:
    """Start, end and outcome of every attempt of the sampled requests."""

    def __init__(self, seed: int, fraction: float):
        self._key = sample_key(seed)
        self._limit = fraction * 2.0 ** 53
        self._started: dict[tuple[int, int], float] = {}
        self.id, self.number = array("Q"), array("H")
        self.start, self.end, self.outcome = array("d"), array("d"), array("b")

    def chosen(self, rid: int) -> bool:
        return (_mix(rid ^ self._key) >> 11) < self._limit

    def install(self, clients) -> AttemptTap:
        for client in clients:
            client.settle = self._settle(client, client.settle)
            client._send = self._send(client, client._send)
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
        """One row per sampled attempt: id, attempt, t_start, t_end, outcome (in end order)."""
        codes = np.frombuffer(self.outcome, dtype=np.int8) if len(self.outcome) else np.zeros(0, np.int8)
        return pd.DataFrame({
            "id": np.frombuffer(self.id, dtype=np.uint64) if len(self.id) else np.zeros(0, np.uint64),
            "attempt": np.frombuffer(self.number, dtype=np.uint16) if len(self.number)
            else np.zeros(0, np.uint16),
            "t_start": np.array(self.start, dtype=float), "t_end": np.array(self.end, dtype=float),
            "outcome": pd.Categorical.from_codes(codes, OUTCOME_NAMES),
        })
