"""The README's Python examples run as written (a README that lies is a bug)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})


def _section(title: str) -> str:
    """The README text from the ``## title`` heading to the next ``## `` heading."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else len(text)]


TUTORIAL = _section("Five-minute tutorial")


def _summary(path: Path) -> dict[tuple[str, str], float]:
    """(variant, metric) -> value of a run's summary.csv (one replication)."""
    import pandas as pd

    table = pd.read_csv(path)
    return {(row.variant, row.metric): row.value for row in table.itertuples()}


@pytest.mark.slow
def test_tutorial_runs_as_written_and_its_prose_holds(tmp_path):
    """The tutorial's files and shell commands, run verbatim in an empty folder (``cascade`` is
    ``python -m simulator``): every command exits 0, the plots it points at exist, and the
    story it tells (small stuck, large fine, no retries recovers) is what the run measures."""
    import subprocess
    import sys

    for block in re.findall(r"```yaml\n(.*?)```", TUTORIAL, flags=re.S):
        name = re.match(r"# (\S+\.yaml)", block)
        if name:
            (tmp_path / name.group(1)).write_text(block)
    commands = re.findall(r"```bash\n(.*?)```", TUTORIAL, flags=re.S)
    assert (tmp_path / "tutorial.yaml").exists() and len(commands) >= 3
    cascade = f'cascade() {{ "{sys.executable}" -m simulator "$@"; }}'
    script = "\n".join(["set -euo pipefail", cascade, *commands])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "OK tutorial.yaml (3 variants)" in done.stdout
    run_dir = next(p for p in (tmp_path / "results" / "tutorial").iterdir() if (p / "large").is_dir())
    assert (run_dir / "plots" / "comparison.png").exists()
    for plot in ("load", "latency", "outcomes", "components"):
        assert (run_dir / "small" / "plots" / f"{plot}.png").exists()
    for plot in ("intervals", "timeseries"):
        assert (tmp_path / "results" / "tutorial" / "compare" / "plots" / f"{plot}.png").exists()
    summary = _summary(run_dir / "summary.csv")
    assert summary[("small", "stuck")] == 1 and summary[("small", "amplification")] > 2
    assert summary[("large", "availability")] == 1 and summary[("large", "stuck")] == 0
    assert 0.5 < summary[("small_no_retries", "availability")] < 1
    assert summary[("small_no_retries", "stuck")] == 0
    assert "availability 23.75%" in TUTORIAL  # the numbers quoted are this run's (seed 1)
    assert round(summary[("small", "availability")] * 100, 2) == 23.75


def test_stories_table_lists_every_builtin_scenario():
    """Each scenarios/*.yaml has a row (scenario -> topic -> notebook) in the stories table."""
    stories = _section("Stories: scenarios, topics and notebooks")
    missing = [path.stem for path in sorted((ROOT / "scenarios").glob("*.yaml"))
               if f"| `{path.stem}` |" not in stories]
    assert not missing, f"add these scenarios to the README's stories table: {missing}"


def test_ci_example_uses_real_check_flags():
    """docs/examples/github-actions.yml runs `cascade check` with flags the CLI has, publishes the
    summary.md that its --report folder gets, and uploads results/."""
    import shlex

    import yaml
    from typer.testing import CliRunner

    from simulator.cli import app

    steps = yaml.safe_load((ROOT / "docs" / "examples" / "github-actions.yml").read_text())["jobs"]
    steps = next(iter(steps.values()))["steps"]
    runs = [step.get("run", "") for step in steps]
    check = shlex.split(next(run for run in runs if run.startswith("cascade check")))
    help_text = CliRunner().invoke(app, ["check", "--help"], env={"COLUMNS": "200"}).stdout
    flags = [token for token in check if token.startswith("--")]
    assert flags and all(re.search(rf"{flag}(?![\w-])", help_text) for flag in flags), (flags, help_text)
    report = check[check.index("--report") + 1]
    assert any(f"{report}/summary.md >> \"$GITHUB_STEP_SUMMARY\"" in run for run in runs)
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].rstrip("/") == "results" and report.startswith("results/")
