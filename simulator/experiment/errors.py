"""How experiments fail: bad input (exit 2 at the command line) and interruption (exit 130)."""

from __future__ import annotations

from pathlib import Path


class ExperimentError(ValueError):
    """Bad experiment input: an unknown metric or variant, an empty range, an unreachable scheduler.

    The message is one line a user can act on; the command line prints it and exits 2.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during an experiment; every run finished before it is on disk.

    Attributes:
        done: Runs finished (now or in an earlier, resumed attempt).
        total: Runs the experiment needs.
        directory: Where the finished runs are kept (None when nothing is stored).
    """

    def __init__(self, done: int, total: int, directory: Path | None) -> None:
        super().__init__(f"interrupted after {done} of {total} runs")
        self.done, self.total, self.directory = done, total, directory
