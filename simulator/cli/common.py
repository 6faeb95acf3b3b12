"""What every command does the same way: turn exceptions into messages and exit codes, print
scenario warnings, and pick the console tables go to."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console


class InputError(Exception):
    """Bad input found by the CLI itself (e.g. an unknown variant); reported like loader errors."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn exceptions into messages and exit codes: 2 for bad input, 1 for bugs, never a traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # typer's own exits and usage errors already carry their message and code
    except KeyboardInterrupt:
        fail("cascade: interrupted", 130)
    except Exception as error:
        if isinstance(error, _input_errors()):
            fail(describe(error), 2)
        if os.environ.get("CASCADE_DEBUG"):
            raise
        fail(f"cascade: internal error: {type(error).__name__}: {error} "
             "(set CASCADE_DEBUG=1 for the traceback)", 1)


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
