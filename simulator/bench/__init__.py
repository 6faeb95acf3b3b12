"""``cascade bench``: how fast the project simulates, measured against plain SimPy.

Run ``cascade bench`` (or ``python -m simulator.bench``). Numbers are reported, never
enforced: the exit code is 0 whatever the ratios are. Results go to the console as a
table and to ``results/bench/latest.json``.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from simulator.bench import harness, report, workloads

__all__ = ["main", "run_bench"]


def run_bench(
    quick: bool = False,
    repeats: int = 3,
    *,
    only: list[str] | None = None,
    runner: harness.ProjectRunner | None = None,
    console: Console | None = None,
) -> dict:
    """Measure and return the results dict (also what ``latest.json`` holds).

    ``runner`` replaces the project's build+run path (for tests); by default the
    project's ``scenario_from_dict`` + ``run`` are used when they exist.
    """
    console = console or Console()
    n = workloads.QUICK_N if quick else workloads.DEFAULT_N
    repeats = 1 if quick else max(1, repeats)
    extra_notes = list(workloads.SKIPPED_NOTES)
    if runner is None:
        available = harness.load_project_runner()
        runner = available.runner
        if runner is None:
            extra_notes.insert(0, available.reason)
    chosen = [workloads.by_name(name) for name in only] if only else list(workloads.WORKLOADS)
    memory_workload = workloads.by_name("mmc") if not only or "mmc" in only else None

    def log(line: str) -> None:
        console.print(f"  {line}", style="dim", markup=False, highlight=False)

    results = harness.run_all(chosen, n, repeats, runner, memory_workload=memory_workload, log=log)
    results["notes"] = extra_notes
    return report.stamp(results, quick)


def main(quick: bool = False, repeats: int = 3, out: Path | str | None = None,
         only: list[str] | None = None) -> int:
    """Entry point for ``cascade bench``; always returns 0 (the bench reports, it does not gate).

    ``only`` names the workloads to run (all by default; the memory figure needs ``mmc``); such a
    partial run goes to ``partial.json`` beside ``latest.json`` unless ``out`` says otherwise.
    """
    console = Console()
    results = run_bench(quick=quick, repeats=repeats, only=only, console=console)
    report.render(results, console)
    default = report.DEFAULT_OUT.with_name("partial.json") if only else report.DEFAULT_OUT
    path = report.write_json(results, Path(out) if out is not None else default)
    console.print(f"results written to {path}", markup=False, highlight=False)
    return 0
