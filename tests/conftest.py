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
