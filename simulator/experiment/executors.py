"""Where runs execute: in this process, in a local process pool, or on a dask.distributed cluster.

All three call the same pure function, :func:`~simulator.experiment.tasks.run_task`, on the same
tasks, so the numbers cannot depend on the executor: a run is a function of (scenario, variant,
seed, replication) alone. Executors yield records as they finish (in any order);
:func:`run_tasks` saves each one the moment it arrives and puts them back in task order.

- ``SerialExecutor``: one run after another here; no start-up cost, the right choice for a few runs.
- ``PoolExecutor``: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method
  (safe with the threads of a progress bar or a notebook kernel). Workers ignore SIGINT and
  SIGTERM: the parent handles them, kills its workers and saves what finished, instead of a
  traceback per worker; a worker that dies is replaced and its run done again.
- ``DaskExecutor``: connects to a running scheduler (``dask scheduler`` + ``dask worker``) with a
  short timeout, so an unreachable address is a one-line error rather than a hang.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from simulator.experiment.errors import ExperimentError, Interrupted, WorkersLost
from simulator.experiment.store import RunStore
from simulator.experiment.tasks import RunRecord, RunTask, run_task

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a dask scheduler before calling the address unreachable."""

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called once with the runs already on disk, then after every run."""


class Executor(Protocol):
    """Runs tasks and yields their records as they finish."""

    def map(self, tasks: Sequence[RunTask]) -> Iterator[RunRecord]:
        """Yield one record per task, in completion order."""
        ...

    def close(self, abort: bool = False) -> None:
        """Release workers; ``abort`` drops runs still in progress."""
        ...


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class SerialExecutor:
    """Every run in this process, in task order."""

    def map(self, tasks: Sequence[RunTask]) -> Iterator[RunRecord]:
        """Run the tasks one after another."""
        for task in tasks:
            yield run_task(task)

    def close(self, abort: bool = False) -> None:
        """Nothing to release."""


class PoolExecutor:
    """A local pool of ``jobs`` worker processes, started on first use and reused across calls.

    The parent owns the workers: they ignore SIGINT and SIGTERM (from their first instruction on,
    see :func:`_spawning`) and end themselves if the parent dies, so an interrupted or killed
    experiment leaves no process behind. A worker that dies (``kill -9``, the OOM killer) breaks
    the whole ``concurrent.futures`` pool; the runs it took with it are run again in a new pool,
    up to ``MAX_RESTARTS`` times.
    """

    MAX_RESTARTS = 2

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def map(self, tasks: Sequence[RunTask]) -> Iterator[RunRecord]:
        """Submit every task, yield records as workers finish them."""
        if len(tasks) <= 1:  # a pool's start-up costs more than one run saves
            yield from SerialExecutor().map(tasks)
            return
        remaining = list(tasks)
        for _ in range(self.MAX_RESTARTS + 1):
            futures, seen = self._submit(remaining), set()
            try:
                for future in as_completed(futures):
                    record = future.result()
                    seen.add(future)
                    yield record
                return
            except BrokenProcessPool:
                self.close(abort=True)
                done = [future for future in futures if _succeeded(future)]
                yield from (future.result() for future in done if future not in seen)
                remaining = [task for future, task in futures.items() if not _succeeded(future)]
        raise WorkersLost(f"worker processes died {self.MAX_RESTARTS + 1} times (killed, or out of "
                          f"memory?); {len(remaining)} runs were not done")

    def _submit(self, tasks: Sequence[RunTask]) -> dict[Any, RunTask]:
        """Start the pool if needed and hand it ``tasks``: {future: task}."""
        with _spawning():  # workers are started by the first submit
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=get_context("spawn"),
                                                 initializer=_worker_setup, initargs=(os.getpid(),))
            return {self._pool.submit(run_task, task): task for task in tasks}

    def close(self, abort: bool = False) -> None:
        """Shut the pool down; on ``abort`` kill the workers first, so no run goes on after us.

        Only the pool's own thread cancels futures here: cancelling one it still tracks makes
        it fail with ``InvalidStateError`` when the killed workers break the pool (CPython < 3.12).
        """
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not abort:
            pool.shutdown(wait=True)
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())  # no public handle (< 3.14)
        for process in processes:
            process.kill()  # workers ignore SIGTERM
        pool.shutdown(wait=False, cancel_futures=True)
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=ABORT_WAIT)
        for process in processes:
            process.join(timeout=ABORT_WAIT)


ABORT_WAIT = 5.0
"""Seconds to wait for the pool's thread and killed workers to finish after an abort."""


def _succeeded(future: Any) -> bool:
    """Whether a future finished with a result (not cancelled, not failed)."""
    return future.done() and not future.cancelled() and future.exception() is None


@contextmanager
def _spawning() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while workers are started: an ignored signal stays ignored in a
    spawned interpreter, so a Ctrl-C during a worker's start-up (before its initializer runs)
    cannot print a traceback from it. Only the main thread may set handlers; elsewhere no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _worker_setup(parent: int) -> None:
    """Pool worker initializer: signals are the parent's to handle; end if the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True,
                     name="cascade-parent-watch").start()


def _exit_when_orphaned(parent: int, every: float = 0.5) -> None:
    """Exit this worker once its parent has died (``kill -9`` of the parent leaves it orphaned,
    blocked forever on the task queue, keeping the resource tracker alive too)."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


class DaskExecutor:
    """Runs on an existing dask.distributed scheduler at ``address`` (``tcp://host:8786``)."""

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT) -> None:
        self.client = connect(address, timeout)

    def map(self, tasks: Sequence[RunTask]) -> Iterator[RunRecord]:
        """Submit every task to the cluster, yield records as they come back."""
        from distributed import as_completed as dask_completed

        futures = self.client.map(run_task, list(tasks), pure=False)
        try:
            for future in dask_completed(futures, loop=self.client.loop):  # not the default client
                yield future.result()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self, abort: bool = False) -> None:
        """Disconnect; the cluster itself keeps running."""
        self.client.close()


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A dask ``Client`` for ``address``; ExperimentError (one line) when it cannot be reached."""
    try:
        from distributed import Client
    except ImportError as error:  # a broken install, not the user's input
        raise RuntimeError("dask.distributed is not installed (pip install distributed)") from error
    _check_reachable(address, timeout)
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExperimentError(f"--dask {address}: cannot reach a dask scheduler within "
                              f"{timeout:g}s ({reason})") from None


def _check_reachable(address: str, timeout: float) -> None:
    """Open (and close) a TCP connection first: a Client that fails to connect lingers and spends
    another 10 s closing itself at exit, printing a traceback; a plain socket fails cleanly."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return  # other transports (inproc, ucx) are dask's to check
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ExperimentError(f"--dask {address}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ExperimentError(f"--dask {address}: cannot reach a dask scheduler within {timeout:g}s "
                              f"({reason})") from None


@contextmanager
def open_executor(jobs: int = 1, dask: str | None = None) -> Iterator[Executor]:
    """The executor for the options: dask when an address is given, a pool for ``jobs`` > 1."""
    if jobs < 1:
        raise ExperimentError(f"--jobs must be at least 1; got {jobs}")
    executor: Executor = (DaskExecutor(dask) if dask else PoolExecutor(jobs) if jobs > 1
                          else SerialExecutor())
    try:
        yield executor
    except BaseException:
        executor.close(abort=True)
        raise
    executor.close()


def run_tasks(tasks: Sequence[RunTask], executor: Executor, store: RunStore | None = None,
              progress: Progress | None = None) -> list[RunRecord]:
    """Every task's record, in task order: loaded from ``store`` when saved, else run and saved.

    Raises:
        Interrupted: On Ctrl-C; every run finished until then is saved.
    """
    if len({task.key for task in tasks}) < len(tasks):
        raise ValueError("tasks must differ in sweep point, variant or replication")
    if store is not None:
        store.clean()
    found: dict[Any, RunRecord] = {}
    pending = []
    for task in tasks:
        record = store.load(task) if store is not None else None
        if record is None:
            pending.append(task)
        else:
            found[task.key] = record
    report = progress or (lambda done, total: None)
    report(len(found), len(tasks))
    try:
        with closing(executor.map(pending)) as records:
            for record in records:
                if store is not None:
                    store.save(record)
                found[record.key] = record
                report(len(found), len(tasks))
    except KeyboardInterrupt as stop:  # SIGINT, or SIGTERM turned into one by the command line
        raise Interrupted(len(found), len(tasks), store.directory if store else None,
                          getattr(stop, "exit_code", 130)) from None
    return [found[task.key] for task in tasks]


@dataclass(frozen=True)
class Execution:
    """How an experiment's runs are executed and kept: the options every experiment shares.

    Attributes:
        jobs: Local worker processes (1: in this process).
        dask: Address of a dask scheduler (``tcp://host:8786``); wins over ``jobs``.
        directory: Experiment directory whose ``runs/`` keeps finished runs (None: keep nothing).
        progress: ``progress(done, total)`` after every run.
    """

    jobs: int = 1
    dask: str | None = None
    directory: Path | None = None
    progress: Progress | None = None

    @contextmanager
    def session(self) -> Iterator[Callable[..., list[RunRecord]]]:
        """Yield ``go(tasks, directory=self.directory) -> records``: one executor (one pool, one
        connection) for many batches, each kept under its own directory if need be."""
        with open_executor(self.jobs, self.dask) as executor:

            def go(tasks: Sequence[RunTask], directory: Path | None = self.directory) -> list[RunRecord]:
                store = RunStore(directory) if directory is not None else None
                return run_tasks(tasks, executor, store, self.progress)

            yield go

    def run(self, tasks: Sequence[RunTask]) -> list[RunRecord]:
        """Every task's record, in task order."""
        with self.session() as go:
            return go(tasks)
