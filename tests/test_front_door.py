"""The front door: hostile files are refused quickly, names fit folders and plots, every problem of
a file is reported in one run, and command-line overrides are judged like the file."""

from __future__ import annotations

import resource
import time

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.scenario import ScenarioError, load_scenario
from simulator.scenario.yamlread import MAX_ALIAS_NODES, MAX_DEPTH

HEAD = """name: door
duration: 10s
workload:
  - {name: w, entry: s, arrivals: {pattern: poisson, rate: 1/s}}
components:
  - {kind: service, name: s, service_time: 1ms}
"""


def _bomb(levels: int, indent: str = "  ") -> str:
    """``levels`` lists of nine aliases to the list before: 9**(levels+1) leaves in a few hundred bytes."""
    rows = [f"{indent}x0: &a0 [{', '.join(['lol'] * 9)}]"]
    rows += [f"{indent}x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(rows) + "\n"


def _refused_quickly(tmp_path, text: str, *words: str) -> str:
    """Validate ``text`` in-process: exit 2, one line naming the file and the limit, well under a second,
    and no large allocation (max RSS grows by less than 50 MB)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = CliRunner().invoke(app, ["validate", str(path)])
    elapsed = time.perf_counter() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    lines = outcome.output.strip().splitlines()
    assert outcome.exit_code == 2, outcome.output
    assert len(lines) == 1 and lines[0].startswith(f"{path}: not read:"), outcome.output
    assert all(word in lines[0] for word in words), lines[0]
    assert elapsed < 0.5 and grown_mb < 50, (elapsed, grown_mb)
    return lines[0]


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    _refused_quickly(tmp_path, HEAD + "bombs:\n" + _bomb(8), "aliases", f"{MAX_ALIAS_NODES:,}")


def test_an_alias_bomb_inside_a_variant_is_refused_too(tmp_path):
    _refused_quickly(tmp_path, HEAD + "variants:\n  v:\n" + _bomb(9, indent="    "), "aliases")


def test_a_recursive_alias_is_refused(tmp_path):
    _refused_quickly(tmp_path, HEAD + "description: &a [*a]\n", "recursive alias")


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path):
    _refused_quickly(tmp_path, HEAD + "description: " + "[" * 500 + "]" * 500 + "\n",
                     f"more than {MAX_DEPTH} levels", "line 7")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    _refused_quickly(tmp_path, HEAD + "description: '" + "x" * (11 * 2**20) + "'\n", "MiB", "limited to 10")


def test_modest_aliases_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(HEAD.replace("- {kind: service, name: s, service_time: 1ms}",
                                 "- &svc {kind: service, name: s, service_time: 1ms}\n"
                                 "  - {<<: *svc, name: t}") + "variants:\n  a: {}\n  b: {}\n")
    scenario = load_scenario(path)
    assert [c.name for c in scenario.spec.components] == ["s", "t"]


def test_a_set_value_is_read_with_the_same_limits():
    bomb = "[" * 200 + "]" * 200
    with pytest.raises(ScenarioError, match="levels"):
        load_scenario("mmc", overrides=[f"description={bomb}"])
