"""The books of a run: every request that arrived ends in exactly one outcome.

Checked at the end of every run. A request finished twice, or an outcome that is not one of the
known ones, is a bug in the simulator (never a modelled failure), so it stops the run with an
internal error instead of producing numbers that do not add up.
"""

from __future__ import annotations

import numpy as np

from simulator.request import Outcome


class AccountingError(RuntimeError):
    """The run's books do not balance: a bug, reported as an internal error."""


def check_accounting(arrays: dict[str, np.ndarray], workload_names: list[str]) -> None:
    """Per workload: arrived = sum over outcomes (incomplete included); nothing finished twice."""
    if arrays.get("finished_twice", 0):
        raise AccountingError(f"{arrays['finished_twice']} requests were finished more than once")
    outcome, workload = arrays["outcome"], arrays["workload"]
    known = len(Outcome)
    if len(outcome) and (outcome.min() < 0 or outcome.max() >= known):
        raise AccountingError("a request ended with an unknown outcome code")
    for index, name in enumerate(workload_names):
        mine = workload == index
        arrived = int(mine.sum())
        counted = int(np.bincount(outcome[mine].astype(np.int64), minlength=known).sum())
        if arrived != counted:
            raise AccountingError(f"workload {name}: {arrived} arrived but {counted} accounted for")
