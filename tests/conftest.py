"""Shared fixtures: build scenarios from small dicts without touching files."""

from __future__ import annotations

import pytest

from simulator.scenario import scenario_from_dict


@pytest.fixture
def make_scenario(tmp_path):
    """Turn a scenario dict into a loaded Scenario (relative paths resolve under tmp_path)."""

    def make(data: dict, **kwargs):
        return scenario_from_dict(data, source="test.yaml", base_dir=tmp_path, **kwargs)

    return make


@pytest.fixture
def validate_one_line(tmp_path):
    """Write ``data`` to a file and run ``cascade validate`` on it: exit 2 and exactly one line,
    ``FILE[:LINE]: key.path: message``; returns that line."""
    import yaml
    from typer.testing import CliRunner

    from simulator.cli import app

    def check(data: dict) -> str:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        outcome = CliRunner().invoke(app, ["validate", str(path)])
        assert outcome.exit_code == 2, outcome.output
        lines = [line for line in outcome.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"{path}:"), outcome.output
        return lines[0]

    return check
