"""Releases (``kind: deployment``): the traffic split, the canary's analysis and rollback, blue-green,
and what each exposes of a bad version."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from simulator.build import build, start
from simulator.cli import app
from simulator.mitigations import release_analysis
from simulator.mitigations.deployment import Deployment
from simulator.runner import run
from simulator.scenario import load_scenario
from simulator.scenario.deployment import RollbackRuleSpec

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

RATE, AT, BAKE = 200.0, 120.0, 60.0


TOPOLOGIES = ("balancer", "entry", "callee")
"""How requests reach the released service: through a load balancer (the scenario as written), as
the workload's entry, or from another service's ``calls:``."""


def _reach(data: dict, topology: str) -> None:
    """Rewire the bad-release scenario so that checkout is reached the ``topology`` way."""
    if topology == "entry":
        data["components"] = [c for c in data["components"] if c["name"] != "lb"]
        data["workload"][0]["entry"] = "checkout"
    elif topology == "callee":
        data["components"][0] = {"kind": "service", "name": "front", "replicas": 2, "workers": 200,
                                 "service_time": {"dist": "constant", "value": "1ms"},
                                 "calls": ["checkout"]}
        data["workload"][0]["entry"] = "front"


def _scenario(tmp_path, duration="6m", retry=False, topology="balancer", **deployment):
    """The bad-release scenario, shorter, with the deployment's keys replaced by ``deployment``."""
    data = yaml.safe_load((SCENARIOS / "bad-release.yaml").read_text())
    data["duration"] = duration
    data.pop("variants")
    data.pop("expect")
    _reach(data, topology)
    if not retry:
        data["workload"][0]["client"].pop("retry")
    spec = data["mitigations"][0]
    for key, value in deployment.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_scenario(path)


def _deployment(tmp_path, **keys) -> tuple[Deployment, dict]:
    """Build and run to the end: the live deployment (for its records) and its summary counters."""
    scenario = _scenario(tmp_path, **keys)
    system = build(scenario.spec, seed=scenario.spec.seed, replication=0)
    start(system, 1.0)
    system.ctx.env.run(until=scenario.spec.duration + 30.0)
    (deployment,) = [m for m in system.mitigations if isinstance(m, Deployment)]
    return deployment, {f"{name}.v2": value for name, value in deployment.counters().items()}


def _release_events(result) -> list[tuple[float, str]]:
    events = result.events[result.events["kind"] == "release"]
    return list(zip(events["t"], events["detail"], strict=True))


# --- the analysis rule ----------------------------------------------------------------------------
RULE = RollbackRuleSpec(error_rate=0.02, p99_ratio=1.5, min_requests=100)


def _stats(answers, error_rate, p99):
    return release_analysis.VersionStats(answers, error_rate, p99)


@pytest.mark.parametrize(("new", "old", "outcome"), [
    (_stats(500, 0.031, 0.1), _stats(5000, 0.01, 0.1), "fail"),  # +2.1 points
    (_stats(500, 0.029, 0.1), _stats(5000, 0.01, 0.1), "pass"),  # +1.9 points
    (_stats(500, 0.0, 0.151), _stats(5000, 0.0, 0.1), "fail"),  # 1.51x
    (_stats(500, 0.0, 0.149), _stats(5000, 0.0, 0.1), "pass"),
    (_stats(99, 0.5, 1.0), _stats(5000, 0.0, 0.1), "inconclusive"),  # too few to judge
    (_stats(500, 0.0, 0.1), _stats(99, 0.0, 0.1), "inconclusive"),
    (_stats(500, 0.0, None), _stats(5000, 0.0, 0.1), "fail"),  # no ok answer at all
])
def test_the_rule_compares_the_new_version_with_the_old_one(new, old, outcome):
    """Error rate in percentage points above the old one's, p99 as a ratio, nothing below min_requests."""
    assert release_analysis.judge(new, old, RULE).outcome == outcome


def test_version_stats_take_p99_over_ok_answers_only():
    latency = np.concatenate([np.full(99, 0.1), [5.0], np.full(50, 9.0)])
    failed = np.concatenate([np.zeros(100, bool), np.ones(50, bool)])
    stats = release_analysis.version_stats(latency, failed)
    assert stats.answers == 150 and stats.error_rate == pytest.approx(1 / 3)
    assert stats.p99 == pytest.approx(np.quantile(latency[:100], 0.99))


# --- the traffic split and the rollout ------------------------------------------------------------
@pytest.mark.parametrize("topology", TOPOLOGIES)
def test_a_bad_canary_rolls_back_at_its_first_step_and_only_its_share_saw_the_bad_version(tmp_path,
                                                                                         topology):
    """5% of the step's arrivals (binomial) and none after the rollback went to the new version,
    however the requests reach the service."""
    deployment, summary = _deployment(tmp_path, topology=topology)
    arrival, _, is_new, _ = deployment.release.arrays()
    assert deployment.rollback_at == pytest.approx(AT + BAKE)
    assert summary["rollback_at.v2"] == pytest.approx(AT + BAKE)
    in_step = (arrival >= AT) & (arrival < AT + BAKE)
    assert not is_new[~in_step].any()
    n, k = in_step.sum(), is_new[in_step].sum()
    assert abs(k - 0.05 * n) < 4 * math.sqrt(n * 0.05 * 0.95)


def test_canary_exposes_the_expected_fraction_of_what_big_bang_exposes(tmp_path):
    """Big bang: every request after the release; canary: 5% of one bake. Bad requests scale alike."""
    _, canary = _deployment(tmp_path)
    _, big_bang = _deployment(tmp_path, strategy="big_bang", steps=None, bake=None, rollback_on=None)
    duration = 360.0
    assert big_bang["rollback_at.v2"] is None
    expected_big = RATE * (duration - AT)
    assert abs(big_bang["new_version_requests.v2"] - expected_big) < 4 * math.sqrt(expected_big)
    fraction = 0.05 * BAKE / (duration - AT)
    ratio = canary["new_version_requests.v2"] / big_bang["new_version_requests.v2"]
    assert ratio == pytest.approx(fraction, rel=0.15)
    # Bad requests are the new version's failures: 10% of its requests in both cases.
    for summary in (canary, big_bang):
        n = summary["new_version_requests.v2"]
        assert abs(summary["bad_requests.v2"] - 0.1 * n) < 4 * math.sqrt(n * 0.1 * 0.9) + 5


def test_the_rollback_comes_at_the_first_step_whose_analysis_fails(tmp_path, monkeypatch):
    """Pass, pass, fail: the third step is the one rolled back, two bakes after it started."""
    verdicts = iter([release_analysis.PASS, release_analysis.PASS, release_analysis.FAIL])
    monkeypatch.setattr(release_analysis, "judge",
                        lambda new, old, rule: release_analysis.Verdict(next(verdicts), "scripted"))
    deployment, summary = _deployment(tmp_path, error_rate=0, factor=1)
    assert deployment.step == 2
    assert summary["rollback_at.v2"] == pytest.approx(AT + 3 * BAKE)
    assert deployment.release.weight == 0.0


def test_an_inconclusive_step_keeps_baking_until_it_has_enough_answers(tmp_path):
    """5% of 200/s for a minute is ~600 answers; asking for 1000 judges the first step after two bakes."""
    scenario = _scenario(tmp_path, rollback_on={"error_rate": "2%", "min_requests": 1000})
    result = run(scenario)
    details = _release_events(result)
    assert "inconclusive" in details[1][1] and details[1][0] == pytest.approx(AT + BAKE)
    assert details[2][0] == pytest.approx(AT + 2 * BAKE) and "rolled back: step 1/4" in details[2][1]


def test_a_healthy_version_goes_through_every_step_without_a_false_rollback(tmp_path):
    scenario = _scenario(tmp_path, duration="8m", error_rate=0, factor=1)
    result = run(scenario)
    details = _release_events(result)
    assert [t for t, _ in details] == pytest.approx([AT + i * BAKE for i in range(5)])
    assert "promoted to 100%" in details[-1][1]
    assert result.summary["rollback_at.v2"] is None
    assert result.summary["bad_requests.v2"] < 0.001 * result.summary["new_version_requests.v2"]


def test_a_slow_version_is_rolled_back_on_its_p99(tmp_path):
    """No errors, 4x the service time: the latency comparison catches it."""
    result = run(_scenario(tmp_path, error_rate=0, factor=4))
    details = _release_events(result)
    assert "rolled back: step 1/4 failed: p99" in details[1][1]


def test_blue_green_switches_everything_and_back_after_detection(tmp_path):
    deployment, summary = _deployment(tmp_path, strategy="blue_green", steps=None, bake=None,
                                      detection="90s")
    arrival, _, is_new, _ = deployment.release.arrays()
    window = (arrival >= AT) & (arrival < AT + 90.0)
    assert is_new[window].all() and not is_new[~window].any()
    assert summary["rollback_at.v2"] == pytest.approx(AT + 90.0)


def test_the_new_version_takes_factor_times_the_service_time(tmp_path):
    """Big bang at 1m with factor 2: checkout's own work (40 ms of its 45 ms busy time per request;
    the other 5 ms wait on the database) doubles for the 5 of 5.5 measured minutes it runs."""
    keys = {"strategy": "big_bang", "steps": None, "bake": None, "rollback_on": None,
            "error_rate": 0, "factor": 2, "at": "1m"}
    release = run(_scenario(tmp_path, **keys)).summary
    base = run(_scenario(tmp_path, **keys, enabled=False)).summary
    share = (360.0 - 60.0) / (360.0 - 30.0)
    expected = 1 + share * 40.0 / 45.0
    assert release["utilization.checkout"] / base["utilization.checkout"] == pytest.approx(expected, rel=0.05)


def test_summary_json_has_null_rollback_and_integer_counts(tmp_path):
    scenario = _scenario(tmp_path, error_rate=0, factor=1)
    outcome = CliRunner().invoke(app, ["run", str(tmp_path / "release.yaml"), "--json", "--no-plots",
                                       "--duration", "4m", "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 0, outcome.output
    summary = json.loads(outcome.stdout[:outcome.stdout.rindex("}") + 1])
    assert scenario.spec.name == "bad-release"
    assert summary["rollback_at.v2"] is None and isinstance(summary["bad_requests.v2"], int)


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    ({"steps": ["5%", "50%", "25%"]}, "mitigations[0].steps[2]: canary steps must increase; 25% follows 50%"),
    ({"steps": ["5%", "120%"]}, "mitigations[0].steps[1]"),
    ({"steps": [0, "50%"]}, "mitigations[0].steps[0]"),
    ({"at": "20m"}, "mitigations[0].at: at 1200s is beyond the run (600s)"),
    ({"strategy": "big_bang"}, "mitigations[0].steps: steps does not apply to strategy big_bang"),
    ({"detection": "1m"}, "mitigations[0].detection: detection does not apply to strategy canary"),
    ({"rollback_on": {"error_rate": None, "p99_ratio": None}}, "mitigations[0].rollback_on.error_rate"),
    ({"target": "db"}, "mitigations[0].target: a deployment acts on a service; 'db' is a database"),
    ({"strategy": "rolling"}, "mitigations[0].strategy"),
])
def test_bad_deployment_is_one_line_with_its_key_path(validate_one_line, change, expected):
    data = yaml.safe_load((SCENARIOS / "bad-release.yaml").read_text())
    data["mitigations"][0].update(change)
    data.pop("variants")
    data.pop("expect")
    assert expected in validate_one_line(data)
