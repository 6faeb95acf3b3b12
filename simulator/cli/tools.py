"""The commands around a scenario file that run nothing of it: ``validate``, ``list``,
``schema``, and ``bench`` (the simulator's own speed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from simulator.cli.base import at_least
from simulator.cli.common import describe, stdout, user_errors, warn
from simulator.console import scenario_table


def register(app: typer.Typer) -> None:
    """Add ``validate``, ``list``, ``schema`` and ``bench`` to ``app``, in that order."""
    app.command()(validate)
    app.command("list")(list_scenarios)
    app.command()(schema)
    app.command()(bench)


def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files or built-in names.")],
) -> None:
    """Check scenario files (every variant) without running them; exit 2 if any has problems."""
    failed = 0
    with user_errors():
        for file in files:
            count, problems, warnings = _check(file)
            warn(warnings)
            if problems:
                failed += 1
                typer.echo(problems, err=True)
            else:
                typer.echo(f"OK {file} ({count} variant{'' if count == 1 else 's'})")
    if failed:
        raise typer.Exit(2)


def list_scenarios() -> None:
    """List the built-in scenarios with a one-line description each."""
    with user_errors():
        rows = _builtin_rows()
    stdout().print(scenario_table(rows))


def schema(
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the scenario reference (every kind and key) as Markdown instead.")] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editors and validators), or with --markdown the
    reference that docs/reference.md holds."""
    with user_errors():
        if markdown:
            from simulator.reference_doc import reference_markdown

            typer.echo(reference_markdown(), nl=False)
            return
        from simulator.scenario.schema import ScenarioSpec

        text = json.dumps(ScenarioSpec.model_json_schema(), indent=2)
    typer.echo(text)


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller workloads, for a fast check.")] = False,
    repeats: Annotated[int | None, typer.Option(parser=at_least(1), metavar="N",
                                                help="Timed repeats per workload.")] = None,
) -> None:
    """Measure simulation speed and memory against a plain-SimPy reference."""
    with user_errors():
        from simulator.bench import main as bench_main

        options: dict[str, Any] = {"quick": quick}
        if repeats is not None:  # otherwise the benchmark's own default applies
            options["repeats"] = repeats
        code = bench_main(**options)
    if isinstance(code, int) and code:
        raise typer.Exit(code)


def _check(file: str) -> tuple[int, str, Sequence[Any]]:
    """Load ``file``, which validates every variant; return (variant count, problems text or "",
    warnings)."""
    from simulator.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(file)
    except (ScenarioError, OSError) as error:
        return 0, describe(error), ()
    return len(scenario.variant_names), "", scenario.warnings


def _builtin_rows() -> list[tuple[str, str]]:
    """(name, one-line description) for each built-in scenario, as the catalogue lists them."""
    from simulator.scenario import builtin_scenarios

    return [(entry.name, entry.description) for entry in builtin_scenarios()]
