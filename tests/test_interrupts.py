"""Interrupting ``compare --jobs 2`` for real: signals sent to a running command line.

Definitions checked (issue 15, item 10): SIGINT (Ctrl-C, sent to the whole process group as a
terminal does) exits 130 and SIGTERM exits 143, with no traceback; every worker process (and the
multiprocessing resource tracker) is gone afterwards; every finished run is on disk, whole, and no
``.tmp-`` entry is left; re-running the command resumes to exactly the numbers of an uninterrupted
run. ``kill -9`` of a worker loses nothing (its run is done again); ``kill -9`` of the parent ends
its workers too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simulator import scenario_from_dict
from simulator.experiment.executors import PoolExecutor
from simulator.experiment.tasks import make_tasks
from tests.experiments import tiny

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "retry-storm"  # built in; about half a second per run at this duration
ARGS = {"compare": ["--replications", "2", "--variants", "retries,no_retries,retry_budget"],
        "sweep": ["--replications", "1", "--variants", "retries,no_retries",
                  "--param", "components.app.workers=4,8,12"]}
RUNS = 6  # either command


def _command(out: Path, kind: str = "compare") -> list[str]:
    return [sys.executable, "-m", "simulator", kind, SCENARIO, *ARGS[kind], "--jobs", "2",
            "--duration", "150s", "--no-plots", "--out", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _experiment(out: Path, kind: str = "compare") -> Path:
    return out / SCENARIO / kind


def _whole(tmp_path_factory, kind: str) -> bytes:
    out = tmp_path_factory.mktemp(f"whole-{kind}")
    subprocess.run(_command(out, kind), env=_env(), cwd=ROOT, check=True, capture_output=True,
                   timeout=180)
    return (_experiment(out, kind) / "summary.csv").read_bytes()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> bytes:
    """summary.csv of the same comparison, never interrupted."""
    return _whole(tmp_path_factory, "compare")


@pytest.fixture(scope="module")
def uninterrupted_sweep(tmp_path_factory) -> bytes:
    """summary.csv of the same sweep, never interrupted."""
    return _whole(tmp_path_factory, "sweep")


def _start(out: Path, kind: str = "compare") -> subprocess.Popen:
    """Start the command in its own process group; return once a first run is saved."""
    process = subprocess.Popen(_command(out, kind), env=_env(), cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(_experiment(out, kind).glob("runs/**/r*.json")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no run saved within 120 s"
        time.sleep(0.05)
    return process


def _children(pid: int) -> dict[int, str]:
    """Direct children of ``pid``: {child pid: its start time} (psutil if present, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return {c.pid: str(c.create_time()) for c in psutil.Process(pid).children()}
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                found[int(entry.name)] = fields[19]
    return found


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _alive(children: dict[int, str]) -> list[int]:
    """Those of ``children`` still running (same pid, same start time, not a zombie)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    alive = []
    for pid, started in children.items():
        if psutil is not None:
            try:
                proc = psutil.Process(pid)
                if str(proc.create_time()) == started and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        else:
            fields = _stat(pid)
            if fields and fields[19] == started and fields[0] != "Z":
                alive.append(pid)
    return alive


def _wait_gone(children: dict[int, str], seconds: float = 10.0) -> list[int]:
    """Children still alive after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(children)


def _saved_runs_are_whole(out: Path, kind: str = "compare") -> int:
    """Every saved run parses as a whole run; no temp entry anywhere; returns how many."""
    runs = list(_experiment(out, kind).glob("runs/**/r*.json"))
    for path in runs:
        assert json.loads(path.read_text())["summary"], path
    assert [p for p in out.rglob(".tmp-*")] == []
    return len(runs)


def _resume(out: Path, kind: str = "compare") -> bytes:
    done = subprocess.run(_command(out, kind), env=_env(), cwd=ROOT, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return (_experiment(out, kind) / "summary.csv").read_bytes()


@pytest.mark.parametrize(("kind", "sig", "code", "group"),
                         [("compare", signal.SIGINT, 130, True), ("compare", signal.SIGTERM, 143, False),
                          ("sweep", signal.SIGTERM, 143, True)],
                         ids=["compare-ctrl-c", "compare-sigterm", "sweep-sigterm-group"])
def test_signal_stops_cleanly_and_resumes_to_the_same_numbers(request, tmp_path, kind, sig, code, group):
    """Exit 130/143, no traceback, no process left, saved runs whole; the rerun's numbers are the
    uninterrupted run's, byte for byte."""
    uninterrupted = request.getfixturevalue("uninterrupted" if kind == "compare" else "uninterrupted_sweep")
    process = _start(tmp_path, kind)
    children = _children(process.pid)
    assert len(children) >= 2  # two workers (and the resource tracker)
    os.killpg(process.pid, sig) if group else process.send_signal(sig)
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert "runs are saved" in stderr
    assert _wait_gone(children) == []
    saved = _saved_runs_are_whole(tmp_path, kind)
    assert 1 <= saved < RUNS
    assert _resume(tmp_path, kind) == uninterrupted


def test_killed_worker_loses_nothing(tmp_path, uninterrupted):
    """``kill -9`` of a worker: the pool is restarted and the lost run done again; exit 0."""
    process = _start(tmp_path)
    workers = [pid for pid in _children(process.pid)
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    os.kill(workers[0], signal.SIGKILL)
    stderr = process.communicate(timeout=180)[1]
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert _saved_runs_are_whole(tmp_path) == RUNS
    assert (_experiment(tmp_path) / "summary.csv").read_bytes() == uninterrupted


def test_killed_parent_takes_its_workers_along_and_resume_cleans_up(tmp_path, uninterrupted):
    """``kill -9`` of the command: its workers notice and exit; a temp file it left mid-save is
    removed by the next start, which finishes with the uninterrupted numbers."""
    process = _start(tmp_path)
    children = _children(process.pid)
    process.kill()
    process.communicate(timeout=60)
    assert _wait_gone(children) == []
    left = _experiment(tmp_path) / "runs" / f".tmp-{process.pid}-r0001.json.x.tmp"  # as a save cut short
    left.write_text('{"half')
    os.utime(left, (time.time() - 60, time.time() - 60))
    assert _resume(tmp_path) == uninterrupted
    assert not left.exists()


def test_abort_kills_workers_without_a_pool_thread_error(monkeypatch):
    """Stopping a pool mid-map (what Ctrl-C does) while its workers die ends them all and makes the
    pool's own thread fail nothing. Cancelling futures that thread still tracks made it raise
    InvalidStateError (a ``concurrent.futures`` traceback on the console, 2 Ctrl-C in 5) when the
    dying workers broke the pool; here a worker dies right after the map is closed, every time."""
    errors = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    variants = {"a": {}, "b": {"components.app.workers": 4}}
    scenario = scenario_from_dict(tiny(duration=120.0, variants=variants))
    executor = PoolExecutor(2)
    records = executor.map(make_tasks(scenario, ["a", "b"], range(4)))
    next(records)
    pool = executor._pool
    manager, workers = pool._executor_manager_thread, list(pool._processes.values())
    records.close()
    workers[0].kill()
    deadline = time.monotonic() + 10
    while not pool._broken and time.monotonic() < deadline:  # the pool's thread saw the death
        time.sleep(0.01)
    executor.close(abort=True)
    manager.join(timeout=10)
    assert errors == []
    assert not manager.is_alive() and not any(w.is_alive() for w in workers)
