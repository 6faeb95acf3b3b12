"""The CI gate: ``expect:`` claims judged with intervals; exit 0 / 1 / 2; reports for CI systems."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from simulator import check, load_scenario, scenario_from_dict
from simulator.cli import app
from simulator.scenario import ScenarioError, builtin_scenarios
from tests.experiments import tiny, write

runner = CliRunner()

HOLDS = [
    {"variant": "six", "metric": "availability", "at_least": "99%", "confidence": 0.95},
    {"variant": "six", "metric": "latency_mean", "better_than": "three", "by": "5%", "confidence": 0.95},
    {"variant": "three", "metric": "latency_p99", "below": "2s"},
]


def _file(tmp_path, expect, **extra):
    return str(write(tmp_path / "tiny.yaml", tiny(expect=expect, **extra)))


def _check(tmp_path, *args):
    """`cascade check` with 3 replications; runs are kept under tmp_path, never in the work tree."""
    return runner.invoke(app, ["check", *args, "--jobs", "1", "--replications", "3",
                               "--out", str(tmp_path / "res")])


def test_exit_0_when_every_claim_holds(tmp_path):
    """Claims on means, on whole intervals and on paired differences that hold: exit 0, all pass."""
    out = _check(tmp_path, _file(tmp_path, HOLDS))
    assert out.exit_code == 0, out.stdout + out.stderr
    assert "all expectations hold" in out.stdout and "FAIL" not in out.stdout


def test_exit_1_with_a_readable_reason_when_a_claim_fails(tmp_path):
    """A violated claim fails the gate and says what was measured against what was required."""
    claim = {"variant": "three", "metric": "latency_mean", "at_most": "10ms"}
    out = _check(tmp_path, _file(tmp_path, [*HOLDS, claim]))
    assert out.exit_code == 1
    assert "FAIL" in out.stdout and "is not at most 10 ms" in out.stdout
    assert "1 of 4 failed" in out.stdout


def test_confidence_requires_the_whole_interval(tmp_path):
    """A mean that satisfies the bound is not enough when the interval crosses it."""
    scenario = scenario_from_dict(tiny(expect=[]))
    result = check([scenario], replications=3, allow_empty=True)
    assert result.rows.empty and result.without_expectations == ["tiny"]
    mean_only = {"variant": "four", "metric": "latency_mean", "below": 1.0}
    measured = check([scenario_from_dict(tiny(expect=[mean_only]))], replications=3).rows.iloc[0]
    between = (measured["low"] + measured["measured"]) / 2  # below the mean, inside the interval
    claims = [{"variant": "four", "metric": "latency_mean", "above": between},
              {"variant": "four", "metric": "latency_mean", "above": between, "confidence": 0.95}]
    rows = check([scenario_from_dict(tiny(expect=claims))], replications=3).rows
    assert list(rows["passed"]) == [True, False]
    assert "95% interval" in rows.iloc[1]["reason"]


def test_unknown_metric_is_invalid_input_not_a_failure(tmp_path):
    """A typo in a metric name stops the gate with exit 2 and names the known metrics."""
    claim = {"variant": "six", "metric": "availabilty", "at_least": 0.9}
    out = _check(tmp_path, _file(tmp_path, [claim]))
    assert out.exit_code == 2
    assert "expect[0].metric: unknown metric 'availabilty' (did you mean 'availability'?)" in out.stderr
    assert "Traceback" not in out.stderr


def test_unknown_variant_is_invalid_input(tmp_path):
    """A claim about a variant the scenario lacks is refused when the file loads (exit 2)."""
    claim = {"variant": "sixx", "metric": "availability", "at_least": 0.9}
    out = _check(tmp_path, _file(tmp_path, [claim]))
    assert out.exit_code == 2
    assert "expect[0].variant: no variant named 'sixx'" in out.stderr and "did you mean 'six'" in out.stderr


@pytest.mark.parametrize(("claim", "message"), [
    ({"variant": "six", "metric": "availability"}, "expected exactly one of at_least"),
    ({"variant": "six", "metric": "availability", "at_least": 0.9, "below": 1}, "got at_least, below"),
    ({"variant": "six", "metric": "availability", "at_least": 0.9, "by": "10%"}, "'by' only goes with"),
    ({"variant": "six", "metric": "availability", "at_least": "lots"}, "expected a number, a duration"),
    ({"variant": "six", "metric": "availability", "at_least": 1, "confidence": 2}, "confidence"),
    ({"variant": "six", "metric": "availability", "better_than": "six"}, "better than itself"),
    ({"variant": "six", "metric": "availability", "at_least": 1, "code": "x"}, "unknown key 'code'"),
])
def test_malformed_expectations_name_file_path_and_expectation(claim, message):
    """Expectations are data: anything but the documented keys is an error at its key path."""
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(tiny(expect=[claim]), source="x.yaml")
    assert str(error.value).startswith("x.yaml: expect[0]") and message in str(error.value)


def test_report_json_and_summary_md_for_ci(tmp_path):
    """--report writes strict report.json (passed, every claim) and a markdown summary."""
    claim = {"variant": "three", "metric": "latency_mean", "at_most": "10ms"}
    out = _check(tmp_path, _file(tmp_path, [*HOLDS, claim]), "--report", str(tmp_path / "ci"), "--html")
    assert out.exit_code == 1
    report = json.loads((tmp_path / "ci" / "report.json").read_text(),
                        parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert (report["passed"], report["claims"], report["failed"]) == (False, 4, 1)
    assert report["results"][3]["reason"].startswith("mean ")
    summary = (tmp_path / "ci" / "summary.md").read_text()
    assert summary.startswith("## cascade check: FAILED (1 of 4)") and "**FAIL**" in summary
    assert "some expectations FAIL" in (tmp_path / "ci" / "report.html").read_text()


def _expecting() -> list[str]:
    """Built-in scenarios that make claims (a broken one is left to its own tests)."""
    names = []
    for entry in builtin_scenarios():
        try:
            if load_scenario(entry.path).spec.expect:
                names.append(entry.name)
        except ScenarioError:
            continue
    return names


@pytest.mark.slow
@pytest.mark.parametrize("name", _expecting())
def test_builtin_scenarios_meet_their_expectations(name, tmp_path):
    """`cascade check NAME`, as a user runs it (the file's own replications): every claim holds."""
    out = runner.invoke(app, ["check", name, "--jobs", "1", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.stdout + out.stderr
