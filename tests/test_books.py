"""The books of a run can fail: a request lost on its way to the records is caught, by workload.

The sources count the requests they make and the clients the requests they end, apart from the
recorder; these tests lose one request on purpose (between its source and the recorder, or between
its end and the recorder) and expect the run to stop with an AccountingError naming the workload.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator import run
from simulator.accounting import AccountingError, check_accounting
from simulator.recorder import Recorder
from simulator.request import OK, TIMEOUT, Outcome
from simulator.workload.client import Client


def _two_workloads() -> dict:
    """An open-loop workload and a closed-loop one (with a client timeout) on one small service."""
    service = {"dist": "exponential", "mean": "50ms"}
    return {"name": "books", "duration": "60s", "warmup": "5s", "seed": 11,
            "workload": [{"name": "web", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "20/s"}},
                         {"name": "users", "entry": "app", "client": {"timeout": "200ms"},
                          "arrivals": {"pattern": "closed", "users": 5, "think_time": service}}],
            "components": [{"kind": "service", "name": "app", "workers": 2, "service_time": service}]}


def _drop_nth(monkeypatch, method: str, workload: str, n: int) -> None:
    """Make the ``n``-th call of ``Client.<method>`` for ``workload`` do nothing (a lost request)."""
    original = getattr(Client, method)
    calls = {"count": 0}

    def lossy(self, *args):
        if self.workload_name == workload:
            calls["count"] += 1
            if calls["count"] == n:
                return None
        return original(self, *args)

    monkeypatch.setattr(Client, method, lossy)


def test_balanced_run_passes(make_scenario):
    """Nothing lost: the run completes and its outcomes add up to what the sources made."""
    result = run(make_scenario(_two_workloads()))
    assert len(result.requests) > 1000
    assert set(result.requests["workload"]) == {"web", "users"}


def test_request_lost_before_the_recorder_is_caught(make_scenario, monkeypatch):
    """The source made a request the recorder never saw: made != recorded, naming the workload."""
    _drop_nth(monkeypatch, "submit", "users", 10)
    with pytest.raises(AccountingError, match=r"workload users: its sources made \d+ requests but"):
        run(make_scenario(_two_workloads()))


def test_end_lost_before_the_recorder_is_caught(make_scenario, monkeypatch):
    """A request ended but its end never reached the recorder: it would pass as ``incomplete``;
    the client's own count of the requests it ended disagrees with the records."""
    original = Recorder.finish
    seen = {"count": 0}

    def lossy_finish(self, rid, now, outcome, attempts):
        if self.workload[rid] == 0 and outcome == OK:
            seen["count"] += 1
            if seen["count"] == 7:
                return
        original(self, rid, now, outcome, attempts)

    monkeypatch.setattr(Recorder, "finish", lossy_finish)
    with pytest.raises(AccountingError, match=r"workload web: its client ended \d+ requests but"):
        run(make_scenario(_two_workloads()))


def test_injected_requests_count_as_made(make_scenario):
    """A burst fault's requests are made by the fault (through the client), not by the source:
    they are on the books too, so a run with a burst balances."""
    data = _two_workloads()
    data["faults"] = [{"kind": "burst", "name": "b", "target": "web", "at": "20s", "count": 300}]
    result = run(make_scenario(data))
    web = result.requests[result.requests["workload"] == "web"]
    assert (web["t_arrival"] == 20.0).sum() == 300


def test_check_compares_two_independent_counts():
    """check_accounting on hand-made books: equal counts pass, each kind of difference is named."""
    arrays = {"workload": np.array([0, 0, 1], np.int8),
              "outcome": np.array([int(OK), int(Outcome.INCOMPLETE), int(TIMEOUT)], np.int8)}
    check_accounting(arrays, ["a", "b"], arrived=[2, 1], ended=[1, 1])
    with pytest.raises(AccountingError, match="workload b: its sources made 2 requests but 1 were"):
        check_accounting(arrays, ["a", "b"], arrived=[2, 2], ended=[1, 1])
    # the client ended both of a's requests, the recorder has one of them as incomplete
    with pytest.raises(AccountingError, match="workload a: its client ended 2 requests but 1 were recorded"):
        check_accounting(arrays, ["a", "b"], arrived=[2, 1], ended=[2, 1])
