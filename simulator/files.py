"""Writing files atomically: a reader (or a crash) sees the old file or the whole new one, never half.

Results, experiment stores, reports and plots are read by notebooks, reports and CI while runs are
still going, and runs get interrupted. Each file goes to a temp file beside its target and is
``os.replace``-d into place. Kept apart from the modules that decide *what* to write (results,
plots, experiments) so that none of them needs another just to write a file.

Two things a plain ``mkstemp`` + rename gets wrong are fixed here:

- Mode: ``mkstemp`` and ``mkdtemp`` create 0600 / 0700 and the mode survives the rename, so CI
  artifacts and shared results folders would be private whatever the umask. A finished file gets
  ``0666 & ~umask`` and a directory ``0777 & ~umask``, as ``open`` and ``mkdir`` would give.
- Leftovers: a process killed with SIGKILL (or the OOM killer) cannot remove its temp files.
  Every temp name starts with ``.tmp-<pid>-``, so the next start can remove the ones whose writer
  is gone (:func:`remove_stale`), and never anything else.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pandas as pd

TEMP_PREFIX = ".tmp-"
"""Start of every temp file and directory name this package creates beside its results."""

_OWNER = re.compile(r"^\.tmp-(\d+)-")
_STARTED = time.time()
"""When this process imported the module: temp entries older than this are not ours in progress."""


@cache
def umask() -> int:
    """The process umask, read once (reading it means setting it: ``os.umask`` has no getter).

    Read at first use and cached, so the brief set-and-restore happens once per process; a
    umask the program changes later on is not seen (nothing in this package changes it).
    """
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open()`` would give a new file: 0666 without the umask's bits."""
    return 0o666 & ~umask()


def dir_mode() -> int:
    """The mode ``mkdir()`` would give a new directory: 0777 without the umask's bits."""
    return 0o777 & ~umask()


def temp_prefix(name: str = "") -> str:
    """``.tmp-<pid>-<name>``: names the writing process so :func:`remove_stale` can tell whose it is."""
    return f"{TEMP_PREFIX}{os.getpid()}-{name}"


def remove_stale(directory: Path, recursive: bool = False) -> list[Path]:
    """Remove temp files and directories left in ``directory`` by writers that were killed.

    Only names with our prefix and a writer pid are touched, and only when they are older than
    this process and their writer is no longer running (a concurrent writer's temp is left alone).
    Returns what was removed.
    """
    import shutil

    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = directory.rglob(f"{TEMP_PREFIX}*") if recursive else directory.glob(f"{TEMP_PREFIX}*")
    removed = []
    for path in sorted(found):
        if not _is_stale(path):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _is_stale(path: Path) -> bool:
    """A temp entry of ours whose writer is gone and that predates this process."""
    match = _OWNER.match(path.name)
    if match is None or int(match.group(1)) == os.getpid():
        return False
    try:
        if path.lstat().st_mtime >= _STARTED:
            return False
    except OSError:
        return False
    return not _running(int(match.group(1)))


def _running(pid: int) -> bool:
    """Whether a process with this id exists (a reused id counts as running: we keep its files)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours to signal
        return True
    return True


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` only if the block succeeds.

    The temp file lives in the same directory so ``os.replace`` is a same-filesystem rename,
    which POSIX and Windows both make atomic. The file gets the usual mode before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(f"{path.name}."), suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write bytes to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write a DataFrame atomically as Parquet or CSV, chosen by the file suffix."""
    with atomic_path(path) as tmp:
        if Path(path).suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
    return Path(path)
