"""Result files get the mode ``open``/``mkdir`` would give (0666/0777 minus the umask), and
temp names left by a killed writer are removed on the next start, and only those."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulator import files, run, scenario_from_dict
from simulator.bench.report import write_json
from simulator.experiment.executors import SerialExecutor, run_tasks
from simulator.experiment.store import RunStore
from simulator.experiment.tasks import make_tasks
from simulator.results import write_run
from tests.experiments import tiny


@pytest.fixture(params=[0o022, 0o077])
def mask(request):
    """Run the test under this umask (cache cleared, so the files module reads it afresh)."""
    old = os.umask(request.param)
    files.umask.cache_clear()
    yield request.param
    os.umask(old)
    files.umask.cache_clear()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_files_get_the_umask_mode(tmp_path, mask):
    """Text, bytes and tables written atomically read 0644 under umask 022, 0600 under 077."""
    written = [files.atomic_write_text(tmp_path / "a.txt", "x"),
               files.atomic_write_bytes(tmp_path / "b.bin", b"x"),
               files.write_frame(pd.DataFrame({"a": [1]}), tmp_path / "c.csv"),
               files.write_frame(pd.DataFrame({"a": [1]}), tmp_path / "d.parquet"),
               write_json({"x": 1}, tmp_path / "bench.json")]
    assert {_mode(p) for p in written} == {0o666 & ~mask}


def test_run_directory_and_store_get_the_umask_modes(tmp_path, mask):
    """``cascade run``'s directory (a renamed mkdtemp) and a stored run follow the umask."""
    scenario = scenario_from_dict(tiny(duration=5.0))
    target = write_run([run(scenario, "three")], tmp_path, "r1")
    assert _mode(target) == 0o777 & ~mask
    assert {_mode(p) for p in target.rglob("*") if p.is_file()} == {0o666 & ~mask}
    run_tasks(make_tasks(scenario, ["three"], range(1)), SerialExecutor(), RunStore(tmp_path / "exp"))
    assert {_mode(p) for p in (tmp_path / "exp").rglob("*.json")} == {0o666 & ~mask}


def test_umask_is_read_without_changing_it():
    """Reading the umask restores it (os.umask has no getter, so reading means setting)."""
    old = os.umask(0o027)
    try:
        files.umask.cache_clear()
        assert files.umask() == 0o027
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(old)
        files.umask.cache_clear()


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temps_of_dead_writers_are_removed_and_nothing_else(tmp_path):
    """A killed writer's ``.tmp-<pid>-`` file and folder go; a live writer's, ours and other
    hidden names stay."""
    old = os.path.getmtime(tmp_path) - 3600
    dead, alive = _dead_pid(), os.getppid()
    entries = {"dead_file": tmp_path / f".tmp-{dead}-r0001.json.abc.tmp",
               "dead_dir": tmp_path / f".tmp-{dead}-xyz",
               "alive": tmp_path / f".tmp-{alive}-r0002.json.abc.tmp",
               "mine": tmp_path / f"{files.temp_prefix('r3.json.')}abc.tmp",
               "no_pid": tmp_path / ".tmp-notapid", "other": tmp_path / ".keep"}
    for name, path in entries.items():
        if name == "dead_dir":
            path.mkdir()
            (path / "summary.csv").write_text("x")
        else:
            path.write_text("x")
        os.utime(path, (old, old))
    fresh = tmp_path / f".tmp-{dead}-new.tmp"  # written after this process started: not touched
    fresh.write_text("x")
    removed = files.remove_stale(tmp_path)
    assert sorted(removed) == sorted([entries["dead_file"], entries["dead_dir"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for k, p in {**entries, "fresh": fresh}.items() if not k.startswith("dead"))


def test_run_removes_a_killed_runs_temp_folder(tmp_path):
    """``cascade run`` killed with SIGKILL leaves its ``.tmp-<pid>-`` folder; the next run in the
    same scenario folder removes it (and keeps a live writer's)."""
    scenario = scenario_from_dict(tiny(duration=5.0))
    parent = tmp_path / "tiny"
    dead = parent / f".tmp-{_dead_pid()}-abcd"
    live = parent / f".tmp-{os.getppid()}-efgh"
    for folder in (dead, live):
        (folder / "three").mkdir(parents=True)
        (folder / "summary.csv").write_text("half")
        old = os.path.getmtime(folder) - 3600
        os.utime(folder, (old, old))
    write_run([run(scenario, "three")], tmp_path, "r1")
    assert sorted(p.name for p in parent.iterdir()) == sorted(["r1", live.name])
