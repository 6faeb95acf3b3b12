"""The ``cascade`` command line: a thin typer app over the library.

Each command parses its arguments, calls the library and prints; a notebook can do the same by
importing the same functions. Library imports happen inside the commands so ``cascade --help``
stays fast and one broken module cannot take every command down with it.

Error policy: bad input (scenario problems, unknown variants, missing files, malformed options)
exits with code 2 and one line per problem on stderr. No input ever shows a Python traceback; an
unexpected failure (a bug) prints a one-line internal error and exits 1 - set ``CASCADE_DEBUG=1``
to see the traceback instead.

The commands live by family: :mod:`~simulator.cli.running` (run), :mod:`~simulator.cli.tools`
(validate, list, schema, bench) and :mod:`~simulator.cli.experiments` (compare, sweep, check,
report); each registers its commands on the one :data:`app`, here, in the order ``--help``
lists them. What they share (the app, the option types, error handling, the console) is in
:mod:`~simulator.cli.base` and :mod:`~simulator.cli.common`.
"""

from __future__ import annotations

from simulator.cli import experiments, running, tools
from simulator.cli.base import app
from simulator.cli.common import InputError
from simulator.cli.running import jsonable as _jsonable  # what `cascade run --json` prints (tests use it)

__all__ = ["InputError", "_jsonable", "app", "main"]

for _family in (running, tools, experiments):
    _family.register(app)


def main() -> None:
    """Console entry point (``cascade`` and ``python -m simulator``)."""
    app(prog_name="cascade")
