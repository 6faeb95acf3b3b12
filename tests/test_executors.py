"""Executors and resumable storage: identical numbers anywhere, nothing lost on Ctrl-C."""

from __future__ import annotations

import socket
import time

import pytest
from typer.testing import CliRunner

from simulator import scenario_from_dict
from simulator.cli import app
from simulator.experiment import executors
from simulator.experiment.errors import ExperimentError, Interrupted
from simulator.experiment.executors import Execution, SerialExecutor, open_executor, run_tasks
from simulator.experiment.store import RunStore
from simulator.experiment.tasks import make_tasks
from tests.experiments import tiny, write

runner = CliRunner()


def _tasks(replications=2):
    scenario = scenario_from_dict(tiny(variants={"three": {}, "five": {"components.app.workers": 5}}))
    return make_tasks(scenario, ["three", "five"], range(replications))


def _same(a, b):
    """Two record lists carry identical summaries, traffic and events, run by run."""
    assert [r.key for r in a] == [r.key for r in b]
    for x, y in zip(a, b, strict=True):
        assert x.summary == y.summary
        assert x.traffic.equals(y.traffic) and x.events.equals(y.events)


def test_in_process_pool_and_dask_give_identical_results():
    """The same pure run function gives the same numbers in-process, in a pool and on dask."""
    from distributed import LocalCluster

    tasks = _tasks()
    serial = Execution(jobs=1).run(tasks)
    pooled = Execution(jobs=2).run(tasks)
    _same(serial, pooled)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        on_dask = Execution(dask=cluster.scheduler_address).run(tasks)
    _same(serial, on_dask)


def test_unreachable_scheduler_is_a_quick_one_line_error():
    """A dask address nobody listens on fails after the short connect timeout, not a hang."""
    with socket.socket() as probe:  # a loopback port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ExperimentError, match="cannot reach a dask scheduler"):
        executors.DaskExecutor(f"tcp://127.0.0.1:{port}", timeout=1.0)
    assert time.monotonic() - started < 10


def test_malformed_scheduler_address_is_refused(tmp_path):
    """`--dask foo` exits 2 with one line saying what an address looks like."""
    out = runner.invoke(app, ["compare", str(write(tmp_path / "t.yaml", tiny())), "--dask", "foo",
                              "--out", str(tmp_path)])
    assert out.exit_code == 2 and "expected tcp://HOST:PORT" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


class _Stops(SerialExecutor):
    """Runs ``after`` tasks, then behaves as if the user pressed Ctrl-C."""

    def __init__(self, after):
        self.after = after

    def map(self, tasks):
        for index, record in enumerate(super().map(tasks)):
            if index == self.after:
                raise KeyboardInterrupt
            yield record


def test_interrupted_runs_are_kept_and_resumed_without_loss(tmp_path):
    """Ctrl-C keeps every finished run; the rerun does only the rest, one result per run."""
    tasks, store = _tasks(3), RunStore(tmp_path)
    with pytest.raises(Interrupted) as stop:
        run_tasks(tasks, _Stops(after=4), store)
    assert (stop.value.done, stop.value.total, stop.value.directory) == (4, 6, tmp_path)
    assert len(list(tmp_path.rglob("*.json"))) == 4
    ran = []
    resumed = run_tasks(tasks, SerialExecutor(), store, progress=lambda d, t: ran.append(d))
    assert ran == [4, 5, 6]
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == sorted(
        [f"r000{r}.json" for r in range(3)] * 2)
    _same(resumed, run_tasks(tasks, SerialExecutor()))
    assert not list(tmp_path.rglob("*.tmp"))


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path, monkeypatch):
    """The CLI keeps finished runs, prints how to resume and exits 130."""
    real, calls = executors.run_task, []

    def interrupted_on_third(task):
        calls.append(task)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(executors, "run_task", interrupted_on_third)
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["compare", str(path), "--replications", "2", "--jobs", "1", "--out",
                              str(tmp_path / "res")])
    assert out.exit_code == 130
    assert "2 of 6 runs are saved" in out.stderr and "run the same command again" in out.stderr
    assert len(list((tmp_path / "res").rglob("r*.json"))) == 2


def test_jobs_must_be_positive():
    """--jobs 0 cannot run anything."""
    with pytest.raises(ExperimentError), open_executor(jobs=0):
        pass
