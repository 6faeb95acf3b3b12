"""Presenting benchmark results: a rich table on the console, JSON on disk, Markdown for the README."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from simulator.files import file_mode

DEFAULT_OUT = Path("results") / "bench" / "latest.json"


def machine_info() -> dict[str, Any]:
    import numpy
    import simpy

    return {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _verdict(passed: bool | None) -> str:
    return {True: "[green]pass[/]", False: "[red]fail[/]", None: "[yellow]n/a[/]"}[passed]


def speed_table(results: dict[str, Any]) -> Table:
    title = (
        f"cascade bench: requests simulated per wall second "
        f"(n={results['n']:,}, median of {results['repeats']})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("workload", no_wrap=True)
    table.add_column("project req/s", justify="right")
    table.add_column("reference req/s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    table.add_column("result")
    for row in results["workloads"]:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        name = row["workload"] if row["reference"] == row["workload"] else f"{row['workload']} *"
        table.add_row(
            name,
            _rate(row["project_req_per_s"]),
            _rate(row["reference_req_per_s"]),
            ratio,
            f">= {row['target']:.1f}x",
            _verdict(row["passed"]),
        )
    return table


def memory_line(memory: dict[str, Any] | None) -> str:
    if memory is None:
        return "memory: not measured"
    head = f"memory ({memory['workload']}, n={memory['n']:,} vs {memory['n_small']:,}): "
    if memory["bytes_per_request"] is None:
        return head + f"n/a ({memory['error']})"
    return (
        head
        + f"{memory['bytes_per_request']:.1f} B/recorded request (target <= {memory['target']:.0f}) "
        + _verdict(memory["passed"])
    )


def notes(results: dict[str, Any]) -> list[str]:
    lines = list(results.get("notes", []))
    cpu = [f"{r['workload']} {r['cpu_ratio']:.2f}x" for r in results["workloads"] if r.get("cpu_ratio")]
    if cpu:
        lines.append("ratios by CPU time (steadier on a busy machine): " + ", ".join(cpu))
    for row in results["workloads"]:
        if row["reference"] != row["workload"]:
            lines.append(f"{row['workload']} *: measured against the {row['reference']} reference")
        lines += [f"{row['workload']}: {note}" for note in row["notes"]]
        if row.get("baseline"):
            lines.append(baseline_line(row))
        if row["error"]:
            lines.append(f"{row['workload']}: project run failed: {row['error']}")
    return lines


def baseline_line(row: dict[str, Any]) -> str:
    """How a workload's speed compares with its baseline workload's (e.g. the cost of alert rules)."""
    head = f"{row['workload']} vs {row['baseline']} (cascade-sim both): "
    ratio, cpu, target = row.get("vs_baseline"), row.get("cpu_vs_baseline"), row.get("baseline_target")
    if ratio is None:
        return head + "n/a"
    text = head + f"{ratio:.3f}x the speed by wall time ({(1 - ratio) * 100:.1f}% slower)"
    if cpu is not None:
        text += f", {cpu:.3f}x by CPU time ({(1 - cpu) * 100:.1f}% slower)"
    if target is not None:
        text += f"; target >= {target:.2f}x: {'pass' if row['baseline_passed'] else 'fail'}"
    return text


def render(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    console.print(speed_table(results))
    console.print(memory_line(results.get("memory")))
    for line in notes(results):
        console.print(f"note: {line}", markup=False)


def write_json(results: dict[str, Any], path: Path = DEFAULT_OUT) -> Path:
    """Write atomically: a temp file in the same directory, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2, sort_keys=False)
            fh.write("\n")
        os.chmod(tmp, file_mode())  # mkstemp creates 0600; results are meant to be shared (umask decides)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def stamp(results: dict[str, Any], quick: bool) -> dict[str, Any]:
    """Add when/where the numbers were taken."""
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine_info(),
        **results,
    }


def markdown_table(results: dict[str, Any]) -> str:
    """The README's benchmark table, from a results dict (e.g. json.load of latest.json)."""
    rows = ["| workload | project req/s | reference req/s | ratio | target |", "|---|---:|---:|---:|---:|"]
    for row in results["workloads"]:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        rows.append(
            f"| {row['workload']} | {_rate(row['project_req_per_s'])} | "
            f"{_rate(row['reference_req_per_s'])} | {ratio} | ≥ {row['target']:.1f}× |"
        )
    memory = results.get("memory")
    if memory and memory.get("bytes_per_request") is not None:
        rows.append(
            f"\nMemory: {memory['bytes_per_request']:.1f} B per recorded request "
            f"(target ≤ {memory['target']:.0f} B)."
        )
    return "\n".join(rows)
