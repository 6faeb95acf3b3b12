"""The books of a run: every request that arrived ends in exactly one outcome.

Two independent sets of counts are compared at the end of every run:

- the *sources'*: plain integers kept where requests are made (each arrival source counts what it
  submits, a client counts what a fault injected into it) and where they end (a client counts
  each request it ends before handing its outcome to the recorder);
- the *recorder's*: one record per request at arrival, one per final outcome.

Per workload, the requests made must equal the requests recorded (ended or still ``incomplete``),
and the requests its client ended must equal the records of an ended request. A request lost
between its source and the recorder, or whose end never reached the recorder (it would otherwise
pass as ``incomplete``), a request finished twice, or an unknown outcome code is a bug in the
simulator (never a modelled failure), so it stops the run with an internal error naming the
workload instead of producing numbers that do not add up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.request import INCOMPLETE, Outcome
from simulator.streamed import outcome_table


class AccountingError(RuntimeError):
    """The run's books do not balance: a bug, reported as an internal error."""


def check_accounting(arrays: dict[str, np.ndarray], workload_names: list[str], *,
                     arrived: Sequence[int], ended: Sequence[int]) -> None:
    """Check the recorder's ``arrays`` against the sources' counts, workload by workload.

    Args:
        arrays: :meth:`Recorder.request_arrays` (per request id: workload, outcome...).
        workload_names: Workload names by index.
        arrived: Requests each workload's sources made (arrivals, batch items, injected ones).
        ended: Per workload, the requests its client ended (any outcome but ``incomplete``).
    """
    if arrays.get("finished_twice", 0):
        raise AccountingError(f"{arrays['finished_twice']} requests were finished more than once")
    known = len(Outcome)
    if isinstance(arrays, dict):
        outcome, workload = arrays["outcome"], arrays["workload"]
        unknown = bool(len(outcome) and (outcome.min() < 0 or outcome.max() >= known))
        recorded = None if unknown else \
            np.bincount(workload.astype(np.int64) * known + outcome, minlength=known * len(workload_names))
    else:  # a spilled run: counted chunk by chunk
        recorded, unknown = outcome_table(arrays, known, len(workload_names))
    if unknown:
        raise AccountingError("a request ended with an unknown outcome code")
    for index, name in enumerate(workload_names):
        _check_workload(name, recorded[index * known:(index + 1) * known], arrived[index], ended[index])


def _check_workload(name: str, recorded: np.ndarray, arrived: int, ended: int) -> None:
    """One workload's books: made = recorded (incomplete included); ended = recorded as ended."""
    if int(recorded.sum()) != arrived:
        raise AccountingError(f"workload {name}: its sources made {arrived} requests but "
                              f"{int(recorded.sum())} were recorded")
    recorded_ended = int(recorded.sum() - recorded[INCOMPLETE])
    if recorded_ended != ended:
        raise AccountingError(f"workload {name}: its client ended {ended} requests but "
                              f"{recorded_ended} were recorded as ended")
