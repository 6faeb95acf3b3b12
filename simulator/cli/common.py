"""What every command does the same way: turn exceptions and signals into messages and exit codes,
print scenario warnings, and pick the console tables go to."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console


class InputError(Exception):
    """Bad input found by the CLI itself (e.g. an unknown variant); reported like loader errors."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs (workers stopped, finished runs kept)."""

    exit_code = 143  # 128 + SIGTERM, what a shell reports for a process killed by it


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn exceptions into messages and exit codes: 2 for bad input, 1 for bugs, never a traceback;
    SIGINT exits 130 and SIGTERM 143, after the same clean-up."""
    try:
        with _signals_as_interrupts():
            yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # typer's own exits and usage errors already carry their message and code
    except KeyboardInterrupt as stop:
        fail("cascade: interrupted", getattr(stop, "exit_code", 130))
    except Exception as error:
        if isinstance(error, _input_errors()):
            fail(describe(error), 2)
        if os.environ.get("CASCADE_DEBUG"):
            raise
        fail(f"cascade: internal error: {type(error).__name__}: {error} "
             "(set CASCADE_DEBUG=1 for the traceback)", 1)


@contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated`, once: a second signal
    during the clean-up the first one started is ignored, so it cannot cut that clean-up short
    with a traceback. Handlers can only be set from the main thread; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = []

    def interrupt(signum: int, frame: Any) -> None:
        if raised:
            return
        raised.append(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    saved = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean the user's input is wrong (not a bug in the simulator)."""
    try:
        from simulator.scenario import ScenarioError
    except ImportError:
        return (InputError, OSError)
    return (InputError, OSError, ScenarioError)


def describe(error: BaseException) -> str:
    """The user-facing text of an input error; the loader's messages are already one per line."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    return str(error) if not isinstance(error, OSError) else f"cascade: {error}"


def fail(message: str, code: int) -> None:
    """Print ``message`` to stderr and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def warn(warnings: Sequence[Any]) -> None:
    """Print the scenario's warnings (legal but probably unintended) on stderr, one line each."""
    for warning in warnings:
        typer.echo(str(warning), err=True)


def stdout() -> Console:
    """Console for tables; wide when not a terminal so piped tables are not squeezed to 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=240)
