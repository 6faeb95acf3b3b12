"""The typer app every command registers on, and the option types the commands share.

An option that several commands take (``--seed``, ``--duration``, ``--set``, ``--jobs``...) is
declared once here as an ``Annotated`` type, so its flag, metavar, parser and help read the same
in every command's ``--help`` (typer copies the option for each command that uses it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup


class _FlagsTakeNoValue:
    """Help that shows no value type on flags: ``--json <bool>`` reads as if the flag took a value."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters, flags (``--help`` included) with an empty type column."""
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class _Command(_FlagsTakeNoValue, TyperCommand):
    """A command whose help lists flags without a value type."""


class _Group(_FlagsTakeNoValue, TyperGroup):
    """The top-level group, whose ``--help`` is a flag too."""


class _App(typer.Typer):
    """A Typer app whose every command (those added later included) gets the flag-friendly help."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        """``Typer.command`` with ``_Command`` as the default class."""
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _App(name="cascade", cls=_Group, no_args_is_help=True, add_completion=False,
           pretty_exceptions_enable=False,
           help="Simulate failure scenarios of distributed systems and compare defences.")


def parse_duration_option(value: str) -> float:
    """Typer parser for ``--duration``: accepts units ("90s", "10m") like the scenario files do."""
    from simulator.units import parse_duration

    try:
        return parse_duration(value, positive=True)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def at_least(minimum: int) -> Callable[[str], int]:
    """Typer parser for a whole-number option, with the rule and the words of the scenario files."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise typer.BadParameter(f"expected a whole number; got {value!r}") from None
        if number < minimum:
            raise typer.BadParameter(f"must be at least {minimum}; got {number}")
        return number

    return parse


def replications_option(help_text: str) -> Any:
    """``--replications N`` (>= 1), with the command's own words for what is replicated."""
    return typer.Option(parser=at_least(1), metavar="N", help=help_text)


RESULTS_ROOT = Path("results")
"""Where outputs go by default: ``results/<scenario>/...`` under the working directory."""

ScenarioFile = Annotated[str, typer.Argument(metavar="FILE", help="Scenario file or built-in name.")]
Seed = Annotated[int | None, typer.Option(parser=at_least(0), metavar="INT",
                                          help="Override the scenario's seed (>= 0).")]
SimDuration = Annotated[float | None, typer.Option(parser=parse_duration_option, metavar="DURATION",
                                                   help="Override the simulated duration, e.g. 10m.")]
Overrides = Annotated[list[str] | None, typer.Option("--set", metavar="PATH=VALUE",
                                                     help="Override a scenario value (repeatable).")]
NoPlots = Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")]
Jobs = Annotated[int | None, typer.Option(parser=at_least(1), metavar="N",
                                          help="Local worker processes (default: the number of cores).")]
Dask = Annotated[str | None, typer.Option(metavar="ADDRESS",
                                          help="Run on a dask.distributed scheduler, e.g. tcp://host:8786.")]
Variants = Annotated[str | None, typer.Option(metavar="A,B", help="Variants (default: all).")]
Metrics = Annotated[str | None, typer.Option(metavar="A,B", help="Metrics in the table.")]
ResultsRoot = Annotated[Path, typer.Option(metavar="DIR", help="Root directory for results.")]
OneJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Html = Annotated[bool, typer.Option("--html", help="Also write report.html.")]


# --- Run budget: the limits a run's estimated cost may not exceed (simulator.budget) ------------

def parse_count_option(value: str) -> int:
    """Typer parser for a ``--max-*`` count: ``50000000``, ``50M``, ``1e8`` (at least 1)."""
    from simulator.units import parse_count

    try:
        number = parse_count(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if number < 1:
        raise typer.BadParameter(f"must be at least 1; got {value}")
    return number


def parse_bytes_option(value: str) -> int:
    """Typer parser for ``--max-memory``: ``8GiB``, ``500MB``, ``2G`` (k/M/G powers of 1000, with
    an ``i`` powers of 1024), or bytes."""
    import re

    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([kKMGT]?)(i?)B?\s*", value)
    try:
        number = float(match.group(1)) if match else -1.0
    except ValueError:
        number = -1.0
    if match is None or not number > 0 or number == float("inf"):
        raise typer.BadParameter(f"expected a size such as 8GiB, 500MB or 2G; got {value!r}")
    power = "kMGT".find(match.group(2).replace("K", "k")) + 1
    return int(number * (1024 if match.group(3) else 1000) ** power)


MaxRequests = Annotated[int | None, typer.Option(
    "--max-requests", parser=parse_count_option, metavar="N",
    help="Refuse a run estimated above N requests (default 50M).")]
MaxEvents = Annotated[int | None, typer.Option(
    "--max-events", parser=parse_count_option, metavar="N",
    help="Refuse a run estimated above N component visits, retries included (default 2G).")]
MaxReplicas = Annotated[int | None, typer.Option(
    "--max-replicas", parser=parse_count_option, metavar="N",
    help="Refuse a run that builds more than N replicas (default 100k).")]
MaxKeys = Annotated[int | None, typer.Option(
    "--max-keys", parser=parse_count_option, metavar="N",
    help="Refuse a run whose key and client tables exceed N entries (default 10M).")]
MaxMemory = Annotated[int | None, typer.Option(
    "--max-memory", parser=parse_bytes_option, metavar="SIZE",
    help="Refuse a run estimated above SIZE of memory, e.g. 16GiB (default 8GiB).")]


def budget_limits(requests: int | None, events: int | None, replicas: int | None, keys: int | None,
                  memory: int | None) -> Any:
    """The ``--max-*`` options as :class:`simulator.budget.Limits` (the defaults where not given)."""
    from simulator.budget import Limits

    given = {"requests": requests, "events": events, "replicas": replicas, "keys": keys, "memory": memory}
    return Limits(**{name: value for name, value in given.items() if value is not None})
