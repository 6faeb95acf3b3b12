"""The front door: hostile files are refused quickly, names fit folders and plots, every problem of
a file is reported in one run, and command-line overrides are judged like the file."""

from __future__ import annotations

import json
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
    """Validate ``text`` in-process: exit 2, one line naming the file and the limit, in under a second
    on a busy machine (it takes milliseconds; before the limits, 21 s and 1.3 GB for 8 levels), and no
    large allocation (max RSS grows by less than 50 MB)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(HEAD)
    CliRunner().invoke(app, ["validate", str(path)])  # imports done, so only the reading is timed
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
    assert elapsed < 1.0 and grown_mb < 50, (elapsed, grown_mb)
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


FIVE_MISTAKES = """name: five
duration: 10s
warmup: 20s
workload:
  - {name: w, entry: nosuch, arrivals: {pattern: poisson, rate: 1/s}}
components:
  - {kind: service, name: s, replicas: -1, service_time: 1ms}
faults:
  - {name: boom, kind: crash, target: s, at: 50s, duration: 1s}
variants:
  big: {components.zz.replicas: 3}
"""


def _problems(tmp_path, text: str, overrides=()) -> list[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides=list(overrides))
    return [str(problem).removeprefix(f"{path}") for problem in caught.value.problems]


def test_every_problem_of_a_file_is_reported_in_one_run_in_file_order(tmp_path):
    """Field errors (replicas) used to hide every cross-field check: 2 of these 5 were reported."""
    assert _problems(tmp_path, FIVE_MISTAKES) == [
        ":3: warmup: must be less than duration (10s); got 20s",
        ":5: workload[0].entry: 'nosuch' names no component; known components: s",
        ":7: components[0].replicas: must be at least 1; got -1",
        ":9: faults[0].at: starts at 50s, after the run ends (10s)",
        ":11: variants.big: components.zz: no entry named 'zz' in components (known: s)",
    ]


def test_a_check_that_needs_an_invalid_field_stays_silent(tmp_path):
    """A fault picking replica 3 is judged against the service's replicas only when they are valid:
    with ``replicas: -1`` nothing is said about the fault that fixing replicas could change."""
    text = FIVE_MISTAKES.replace("at: 50s, duration: 1s", "at: 5s, duration: 1s, replicas: [3]")
    problems = _problems(tmp_path, text.replace("warmup: 20s", "warmup: 1s"))
    assert [p.split(":")[2].strip() for p in problems] == ["workload[0].entry", "components[0].replicas",
                                                           "variants.big"]


def test_a_bad_set_path_is_reported_with_the_file_problems(tmp_path):
    problems = _problems(tmp_path, FIVE_MISTAKES, overrides=["components.nope.replicas=2"])
    assert len(problems) == 6 and problems[-1].startswith(": --set: components.nope: no entry named 'nope'")


def _with_variants(*names: str) -> str:
    return HEAD + "variants:\n" + "".join(f"  {json.dumps(name)}: {{}}\n" for name in names)


@pytest.mark.parametrize(("first", "second", "folder"), [
    ("a/b", "a-b", "a-b"),  # both the folder a-b: run crashed after simulating, compare overwrote runs
    ("é", "è", "unnamed"),  # non-ASCII letters all vanish from folder names
    ("Fast", "fast", "fast"),  # one folder on case-insensitive file systems
])
def test_variants_that_would_share_a_results_folder_are_refused(tmp_path, first, second, folder):
    problems = _problems(tmp_path, _with_variants(first, second))
    assert problems == [f":9: variants.{second}: variant name gives the same results folder ('{folder}') as "
                        f"variant '{first}': folder names keep only letters, digits, '.', '_' and '-' and "
                        "ignore case; rename one"]


def test_names_that_plots_or_file_systems_cannot_take_are_refused(tmp_path):
    problems = _problems(tmp_path, _with_variants("cost $x$", "v" * 101, "tab\there"))
    assert problems == [
        ":8: variants.cost $x$: variant name must not contain '$' (plots would read the text between two "
        "'$' as math)",
        f":9: variants.{'v' * 101}: variant name is 101 characters long; names are limited to 100 (they "
        "become folder names)",
        ":10: variants.tab\there: variant name must not contain control characters such as tabs or line "
        "breaks; got 'tab\\there'",
    ]


def test_long_scenario_and_component_names_are_refused(tmp_path):
    text = HEAD.replace("name: door", "name: " + "d" * 101).replace("name: s,", "name: " + "s" * 101 + ",")
    problems = _problems(tmp_path, text)
    assert problems[0] == (":1: name: scenario name is 101 characters long; names are limited to 100 "
                           "(they become folder names)")
    assert problems[2].startswith(":6: components[0].name: must be at most 100 characters long")


def test_folder_forms_agree_with_the_folders_written():
    """names.folder_forms repeats the rules of results._safe_name and store.safe_name: hold it to them."""
    from simulator.experiment.store import safe_name
    from simulator.results import _safe_name
    from simulator.scenario.names import folder_forms

    for name in ["a/b", "a-b", "..x..", "é", "x=1,y+2", "A B", "--", "base", "v" * 80]:
        assert folder_forms(name) == (_safe_name(name).casefold(), safe_name(name).casefold())


def test_retry_attempts_beyond_the_16_bit_counter_are_refused(tmp_path):
    """70,000 attempts used to end a run in ``internal error: OverflowError``."""
    text = HEAD.replace("rate: 1/s}", "rate: 1/s}, client: {retry: {max_attempts: 70000}}")
    assert _problems(tmp_path, text) == [":4: workload[0].client.retry.max_attempts: must be at most 65535; "
                                         "got 70000"]


WITH_FAULT = HEAD + "faults:\n  - {name: boom, kind: crash, target: s, at: 6s, duration: 1s}\n"


def test_a_duration_override_that_drops_a_fault_is_refused_like_the_file(tmp_path):
    """``--duration 5s`` used to run without the fault at 6s, although the file saying 5s is refused."""
    path = tmp_path / "fault.yaml"
    path.write_text(WITH_FAULT)
    outcome = CliRunner().invoke(app, ["run", str(path), "--duration", "5s", "--no-plots",
                                       "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 2, outcome.output
    expected = f"{path}: --duration 5s: faults[0].at: starts at 6s, after the run ends (5s)"
    assert outcome.output.strip() == expected
    assert not (tmp_path / "out").exists()


def test_experiments_check_a_duration_override_before_any_run(tmp_path):
    from simulator.experiment.tasks import make_tasks

    path = tmp_path / "fault.yaml"
    path.write_text(WITH_FAULT)
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError, match=r"--duration 5s: faults\[0\]\.at"):
        make_tasks(scenario, ["base"], [0], duration=5.0)
    assert make_tasks(scenario, ["base"], [0], duration=7.0)[0].duration == 7.0


def test_an_autoscaler_without_startup_gets_the_container_preset(tmp_path):
    """Found by tests/test_fuzz.py: the default ``startup`` was never validated, so any autoscaler
    without one ended its run in ``internal error: AttributeError: 'dict' object has no attribute 'dist'``."""
    path = tmp_path / "hpa.yaml"
    path.write_text(HEAD.replace("10s", "60s") + "mitigations:\n  - {kind: autoscaler, name: hpa, target: s, "
                                                 "metric: utilization, target_value: 0.5, max_replicas: 3}\n")
    startup = load_scenario(path).spec.mitigations[0].startup
    assert (startup.dist, startup.value) == ("constant", 5.0)
