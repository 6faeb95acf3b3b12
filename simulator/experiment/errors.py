"""How experiments fail: bad input (exit 2 at the command line), interruption (exit 130 for
SIGINT, 143 for SIGTERM) and worker processes that keep dying (exit 1)."""

from __future__ import annotations

from pathlib import Path


class ExperimentError(ValueError):
    """Bad experiment input: an unknown metric or variant, an empty range, an unreachable scheduler.

    The message is one line a user can act on; the command line prints it and exits 2.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during an experiment; every run finished before it is on disk.

    Attributes:
        done: Runs finished (now or in an earlier, resumed attempt).
        total: Runs the experiment needs.
        directory: Where the finished runs are kept (None when nothing is stored).
        exit_code: 130 after SIGINT, 143 after SIGTERM (128 + the signal number, as shells do).
    """

    def __init__(self, done: int, total: int, directory: Path | None, exit_code: int = 130) -> None:
        super().__init__(f"interrupted after {done} of {total} runs")
        self.done, self.total, self.directory = done, total, directory
        self.exit_code = exit_code


class WorkersLost(RuntimeError):
    """Worker processes kept dying (killed, out of memory) even after the pool was restarted."""
